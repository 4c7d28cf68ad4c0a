//! The loader's one way to the file system: every file it reads, directory it lists and path it looks at goes through [`Files`], which records the path.
//!
//! go/build's `Context` has the same seam (`ReadDir`, `OpenFile`, `IsDir`
//! hooks). Here it exists so that the no-op memo stamps exactly what a load
//! read (`PackageGraph::reads`), by construction rather than by a second list
//! of what the load probably read: a path is recorded before it is touched,
//! whether it turns out present, absent or unreadable, and as it was spelled
//! (through any symlink, which the memo's stamps follow).
//!
//! The loader sees only this module's types ([`Kind`], [`Entry`]), never
//! `std::fs`: the test at the bottom keeps it so.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What a path names (following links or not, as the call says).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (only from calls that do not follow links).
    Symlink,
    /// Anything else (FIFO, socket, device).
    Other,
}

impl Kind {
    fn of(t: std::fs::FileType) -> Kind {
        if t.is_file() {
            Kind::File
        } else if t.is_dir() {
            Kind::Dir
        } else if t.is_symlink() {
            Kind::Symlink
        } else {
            Kind::Other
        }
    }
}

/// One directory entry.
#[derive(Debug)]
pub struct Entry {
    /// Its name.
    pub name: OsString,
    /// The directory joined with the name.
    pub path: PathBuf,
    /// Its type, links not followed (an error when it could not be told).
    pub kind: io::Result<Kind>,
}

impl Entry {
    /// The name, lossily as text.
    pub fn name_str(&self) -> String {
        self.name.to_string_lossy().into_owned()
    }
}

/// The recording reader; clones share one record.
#[derive(Clone, Debug, Default)]
pub struct Files {
    /// Every path touched so far, in order, with repeats: a push is all a
    /// read costs (the loader reads in parallel).
    reads: Arc<Mutex<Vec<PathBuf>>>,
}

impl Files {
    /// A reader with an empty record.
    pub fn new() -> Files {
        Files::default()
    }

    fn note(&self, p: &Path) {
        let p = p.to_path_buf();
        if let Ok(mut r) = self.reads.lock() {
            r.push(p);
        }
    }

    /// Every path touched so far.
    pub fn reads(&self) -> BTreeSet<PathBuf> {
        let mut v = self.reads.lock().map(|r| r.clone()).unwrap_or_default();
        v.sort_unstable_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
        v.dedup();
        v.into_iter().collect()
    }

    /// The whole file.
    pub fn read(&self, p: &Path) -> io::Result<Vec<u8>> {
        self.note(p);
        std::fs::read(p)
    }

    /// The whole file as UTF-8.
    pub fn read_to_string(&self, p: &Path) -> io::Result<String> {
        self.note(p);
        std::fs::read_to_string(p)
    }

    /// The file opened for reading (header scans read a prefix), refused
    /// unless it is a regular file ([`open_regular`]).
    pub fn open(&self, p: &Path) -> io::Result<std::fs::File> {
        self.note(p);
        open_regular(p)
    }

    /// The entries of a directory, in the order the system lists them; an
    /// entry that cannot be read is an error item.
    pub fn read_dir(&self, p: &Path) -> io::Result<impl Iterator<Item = io::Result<Entry>>> {
        self.note(p);
        Ok(std::fs::read_dir(p)?.map(|e| {
            let e = e?;
            Ok(Entry {
                name: e.file_name(),
                path: e.path(),
                kind: e.file_type().map(Kind::of),
            })
        }))
    }

    /// What `p` names, links followed.
    pub fn stat(&self, p: &Path) -> io::Result<Kind> {
        self.note(p);
        std::fs::metadata(p).map(|m| Kind::of(m.file_type()))
    }

    /// What `p` names, a final link not followed.
    pub fn lstat(&self, p: &Path) -> io::Result<Kind> {
        self.note(p);
        std::fs::symlink_metadata(p).map(|m| Kind::of(m.file_type()))
    }

    /// Whether `p` is a regular file (links followed).
    pub fn is_file(&self, p: &Path) -> bool {
        self.stat(p).is_ok_and(|k| k == Kind::File)
    }

    /// Whether `p` is a directory (links followed).
    pub fn is_dir(&self, p: &Path) -> bool {
        self.stat(p).is_ok_and(|k| k == Kind::Dir)
    }

    /// Whether anything is at `p` (links followed).
    pub fn exists(&self, p: &Path) -> bool {
        self.stat(p).is_ok()
    }

    /// `p` with every link resolved; both spellings are recorded.
    pub fn canonicalize(&self, p: &Path) -> io::Result<PathBuf> {
        self.note(p);
        let real = std::fs::canonicalize(p)?;
        self.note(&real);
        Ok(real)
    }
}

/// Opens a source file for reading, refusing anything but a regular file (a
/// FIFO would block the loader forever, `/dev/zero` would never end): the
/// open does not block, and `fstat` on the descriptor decides.
pub fn open_regular(path: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let md = f.metadata()?;
    if md.is_file() {
        Ok(f)
    } else if md.is_dir() {
        Err(io::Error::from_raw_os_error(libc::EISDIR))
    } else {
        Err(io::Error::other("not a regular file"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_records_its_path_present_or_absent() {
        let d = std::env::temp_dir().join(format!("gob-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(d.join("a"), "a").unwrap();
        std::os::unix::fs::symlink("sub", d.join("link")).unwrap();
        let f = Files::new();
        assert_eq!(f.read(&d.join("a")).unwrap(), b"a");
        assert!(!f.is_file(&d.join("missing")));
        assert_eq!(f.lstat(&d.join("link")).unwrap(), Kind::Symlink);
        let names: BTreeSet<String> = f
            .read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().name_str())
            .collect();
        assert_eq!(names.len(), 3);
        assert_eq!(
            f.canonicalize(&d.join("link")).unwrap(),
            d.join("sub").canonicalize().unwrap()
        );
        let want: BTreeSet<PathBuf> = [
            d.join("a"),
            d.join("missing"),
            d.join("link"),
            d.clone(),
            d.join("sub").canonicalize().unwrap(),
        ]
        .into_iter()
        .collect();
        assert_eq!(f.reads(), want);
        let _ = std::fs::remove_dir_all(&d);
    }

    /// The loader reaches the file system only through [`Files`], so what it
    /// records is everything it read. Fails on any other way in, outside
    /// this file and the test modules (which build fixtures).
    #[test]
    fn the_loader_reads_only_through_files() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/load");
        // Path methods that do I/O, and every way to std's fs module. The
        // loader's own types have no methods of these names.
        let banned = [
            "fs::",
            "File::",
            ".is_file()",
            ".is_dir()",
            ".is_symlink()",
            ".exists()",
            ".try_exists(",
            ".metadata()",
            ".symlink_metadata()",
            ".canonicalize()",
            ".read_link()",
            ".read_dir()",
        ];
        let mut stack = vec![root.clone()];
        let mut bad = Vec::new();
        let mut seen = 0;
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                // This file, and the test-only differential oracle.
                let skip = p.ends_with("load/files.rs") || p.ends_with("modfile/oracle.rs");
                if p.extension().is_none_or(|x| x != "rs") || skip {
                    continue;
                }
                seen += 1;
                let text = std::fs::read_to_string(&p).unwrap();
                // A file's test module comes last.
                let code = text
                    .find("#[cfg(test)]\nmod tests")
                    .map_or(&text[..], |i| &text[..i]);
                for (n, line) in code.lines().enumerate() {
                    let l = line.trim_start();
                    if l.starts_with("//") {
                        continue;
                    }
                    for b in banned {
                        // `File::`, not `ModFile::`.
                        let whole = l.match_indices(b).any(|(i, _)| {
                            b.starts_with('.')
                                || !l[..i]
                                    .chars()
                                    .next_back()
                                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
                        });
                        if whole {
                            bad.push(format!("{}:{}: {b}: {l}", p.display(), n + 1));
                        }
                    }
                }
            }
        }
        assert!(
            seen > 10,
            "found only {seen} loader files under {}",
            root.display()
        );
        assert!(bad.is_empty(), "reads around `Files`:\n{}", bad.join("\n"));
    }
}
