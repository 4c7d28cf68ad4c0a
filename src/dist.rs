//! Deterministic tar files: `gob build -o dist.tar` and `gob replay --export`.
//!
//! Same files in, same bytes out, on any host: entries sorted by name, GNU
//! headers with mtime 0, uid and gid 0, no user or group names, and the mode
//! given by the caller (never the file's own, which depends on the umask).

use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Where an entry's bytes come from.
pub enum Content {
    /// A file, streamed.
    File(PathBuf),
    /// Bytes in memory.
    Bytes(Vec<u8>),
}

/// One regular file in the archive.
pub struct Entry {
    /// Its name in the archive (relative; `/` separated).
    pub name: String,
    /// Its permission bits (0o755 for executables, 0o644 otherwise).
    pub mode: u32,
    /// Its bytes.
    pub content: Content,
}

/// Writes `entries` to `out` atomically (a temporary file in the same
/// directory, then rename). Returns the number of entries. Two entries with the
/// same name are an error naming it.
pub fn write_tar(out: &Path, mut entries: Vec<Entry>) -> io::Result<usize> {
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = entries.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(io::Error::other(format!(
            "two files named {} in {}",
            w[0].name,
            out.display()
        )));
    }
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.gob-tmp{}",
        out.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    let result = (|| {
        let f = std::fs::File::create(&tmp)?;
        let mut b = tar::Builder::new(io::BufWriter::new(f));
        b.mode(tar::HeaderMode::Deterministic);
        for e in &entries {
            let (size, reader): (u64, Box<dyn Read>) = match &e.content {
                Content::Bytes(v) => (v.len() as u64, Box::new(v.as_slice())),
                Content::File(p) => {
                    let f = std::fs::File::open(p).map_err(|err| {
                        io::Error::new(err.kind(), format!("{}: {err}", p.display()))
                    })?;
                    (f.metadata()?.len(), Box::new(f))
                }
            };
            let mut h = tar::Header::new_gnu();
            h.set_size(size);
            h.set_mode(e.mode);
            h.set_mtime(0);
            h.set_uid(0);
            h.set_gid(0);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, &e.name, reader.take(size))?;
        }
        b.into_inner()
            .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
            .and_then(|f| f.sync_all())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, out).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    Ok(entries.len())
}

/// Whether `-o` names a tar file rather than a binary or a directory.
pub fn is_tar_output(o: &Path) -> bool {
    !o.is_dir() && o.extension().is_some_and(|e| e == "tar")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, bytes: &[u8]) -> Entry {
        Entry {
            name: name.into(),
            mode: 0o755,
            content: Content::Bytes(bytes.to_vec()),
        }
    }

    #[test]
    fn same_files_same_bytes_whatever_the_order() {
        let d = std::env::temp_dir().join(format!("gob-dist-test-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let (a, b) = (d.join("a.tar"), d.join("b.tar"));
        write_tar(&a, vec![entry("x", b"1"), entry("y", b"22")]).unwrap();
        write_tar(&b, vec![entry("y", b"22"), entry("x", b"1")]).unwrap();
        let (ba, bb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert_eq!(ba, bb);
        let mut ar = tar::Archive::new(ba.as_slice());
        let names: Vec<(String, u32, u64, u64, u64)> = ar
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.mode().unwrap(),
                    h.mtime().unwrap(),
                    h.uid().unwrap(),
                    h.gid().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [("x".into(), 0o755, 0, 0, 0), ("y".into(), 0o755, 0, 0, 0)]
        );
        let e = write_tar(&a, vec![entry("x", b"1"), entry("x", b"2")]).unwrap_err();
        assert!(e.to_string().contains("two files named x"), "{e}");
        assert_eq!(
            std::fs::read(&a).unwrap(),
            bb,
            "a failed write keeps the old file"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
