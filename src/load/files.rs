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
//!
//! With `-overlay`, this is also where the overlay is applied, as cmd/go's
//! `fsys` does under go/build: a replaced path reads (and stats as) its
//! replacement, a deleted one is missing, and a directory lists the
//! overlay's children merged over the disk's. Both the path and the
//! replacement read are recorded.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::overlay::{Lookup, Overlay};

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
    /// `-overlay`'s view over the disk.
    overlay: Option<Arc<Overlay>>,
}

fn not_found() -> io::Error {
    io::Error::from_raw_os_error(libc::ENOENT)
}

/// fsys.ReadDir's refusal of an overlay child that is a directory: go
/// reports it as a failed `read` of the directory, not an `open`.
#[derive(Debug)]
pub struct ChildIsDir(String);

impl std::fmt::Display for ChildIsDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "overlay maps child {} to directory", self.0)
    }
}

impl std::error::Error for ChildIsDir {}

/// The operation go names in an error listing a directory: `read` for
/// [`ChildIsDir`], else `open`.
pub fn read_dir_op(e: &io::Error) -> &'static str {
    if e.get_ref().is_some_and(|x| x.is::<ChildIsDir>()) {
        "read"
    } else {
        "open"
    }
}

impl Files {
    /// A reader with an empty record.
    pub fn new() -> Files {
        Files::default()
    }

    /// A reader that sees the disk through `overlay`.
    pub fn with_overlay(overlay: Option<Arc<Overlay>>) -> Files {
        Files {
            overlay,
            ..Files::default()
        }
    }

    /// What the overlay says about `p` (recorded), `Disk` without one.
    fn lookup(&self, p: &Path) -> Lookup<'_> {
        self.note(p);
        match &self.overlay {
            None => Lookup::Disk,
            Some(o) => {
                let l = o.lookup(p);
                if let Lookup::File(to) = l {
                    self.note(to);
                }
                l
            }
        }
    }

    /// The file go names when reading `p` fails: its overlay replacement,
    /// else `p` itself (fsys.Open opens the replacement).
    pub fn actual_path(&self, p: &Path) -> PathBuf {
        match self.overlay.as_ref().and_then(|o| o.replacement(p)) {
            Some(to) => to.to_path_buf(),
            None => p.to_path_buf(),
        }
    }

    /// The path whose bytes `p` has: itself, its replacement, or none
    /// (deleted, or a directory made by the overlay).
    fn actual<'a>(&'a self, p: &'a Path) -> io::Result<&'a Path> {
        match self.lookup(p) {
            Lookup::Disk => Ok(p),
            Lookup::File(to) => Ok(to),
            Lookup::Deleted => Err(not_found()),
            Lookup::Dir => Err(io::Error::from_raw_os_error(libc::EISDIR)),
        }
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
        std::fs::read(self.actual(p)?)
    }

    /// The whole file as UTF-8.
    pub fn read_to_string(&self, p: &Path) -> io::Result<String> {
        std::fs::read_to_string(self.actual(p)?)
    }

    /// The file opened for reading (header scans read a prefix), refused
    /// unless it is a regular file ([`open_regular`]).
    pub fn open(&self, p: &Path) -> io::Result<std::fs::File> {
        open_regular(self.actual(p)?)
    }

    /// The entries of a directory, in the order the system lists them; an
    /// entry that cannot be read is an error item.
    pub fn read_dir(&self, p: &Path) -> io::Result<impl Iterator<Item = io::Result<Entry>>> {
        let disk = |p: &Path| -> io::Result<Vec<io::Result<Entry>>> {
            Ok(std::fs::read_dir(p)?
                .map(|e| {
                    let e = e?;
                    Ok(Entry {
                        name: e.file_name(),
                        path: e.path(),
                        kind: e.file_type().map(Kind::of),
                    })
                })
                .collect())
        };
        let overlay = match (self.lookup(p), &self.overlay) {
            (Lookup::Disk, _) | (_, None) => return disk(p).map(Vec::into_iter),
            (Lookup::Deleted, _) => return Err(not_found()),
            (Lookup::File(_), _) => return Err(io::Error::from_raw_os_error(libc::ENOTDIR)),
            (Lookup::Dir, Some(o)) => o,
        };
        // fsys.ReadDir: the disk's listing (none when missing), the
        // overlay's children merged over it, sorted by name.
        let mut all: Vec<io::Result<Entry>> = match disk(p) {
            Ok(v) => v,
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => Vec::new(),
            Err(e) => return Err(e),
        };
        for (name, kind) in overlay.children(p) {
            let path = p.join(&name);
            let pos = all
                .iter()
                .position(|e| e.as_ref().is_ok_and(|e| e.name == name));
            let kind = match kind {
                Lookup::Dir => {
                    if pos.is_some_and(
                        |i| matches!(&all[i], Ok(e) if matches!(e.kind, Ok(Kind::Dir))),
                    ) {
                        continue;
                    }
                    Kind::Dir
                }
                Lookup::Deleted => {
                    if let Some(i) = pos {
                        let _ = all.remove(i);
                    }
                    continue;
                }
                // Links followed; a replacement that is missing lists as
                // an irregular file, one that is a directory is an error.
                Lookup::File(to) => {
                    self.note(to);
                    match std::fs::metadata(to) {
                        Err(_) => Kind::Other,
                        Ok(m) if m.is_dir() => {
                            return Err(io::Error::other(ChildIsDir(
                                name.to_string_lossy().into_owned(),
                            )))
                        }
                        Ok(m) => Kind::of(m.file_type()),
                    }
                }
                Lookup::Disk => continue,
            };
            let e = Ok(Entry {
                name,
                path,
                kind: Ok(kind),
            });
            match pos {
                Some(i) => all[i] = e,
                None => all.push(e),
            }
        }
        if all.is_empty() {
            return Err(not_found());
        }
        all.sort_by(|a, b| match (a, b) {
            (Ok(a), Ok(b)) => a.name.cmp(&b.name),
            _ => std::cmp::Ordering::Equal,
        });
        Ok(all.into_iter())
    }

    /// What `p` names, links followed.
    pub fn stat(&self, p: &Path) -> io::Result<Kind> {
        self.overlay_stat(p, |p| std::fs::metadata(p))
    }

    /// What `p` names, a final link not followed.
    pub fn lstat(&self, p: &Path) -> io::Result<Kind> {
        self.overlay_stat(p, |p| std::fs::symlink_metadata(p))
    }

    /// fsys's overlayStat: a deleted path is missing, one with replaced
    /// descendants a directory, a replaced one its replacement (links in
    /// the replacement followed; a directory there is an error).
    fn overlay_stat(
        &self,
        p: &Path,
        disk: fn(&Path) -> io::Result<std::fs::Metadata>,
    ) -> io::Result<Kind> {
        match self.lookup(p) {
            Lookup::Disk => disk(p).map(|m| Kind::of(m.file_type())),
            Lookup::Deleted => Err(not_found()),
            Lookup::Dir => Ok(Kind::Dir),
            Lookup::File(to) => match std::fs::metadata(to)? {
                m if m.is_dir() => Err(io::Error::other("overlay maps to directory")),
                m => Ok(Kind::of(m.file_type())),
            },
        }
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
