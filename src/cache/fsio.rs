//! File-system primitives for the cache: temporary files committed by rename,
//! fsync of files and directories, disk-full detection, and the racy-stat rule.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::error::CacheError;

/// Prefix of every temporary file the cache creates. Final names are 64 hex
/// digits (or fixed names like `stat-cache`), so a temporary file can never be
/// taken for an entry or a blob.
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// A temporary file younger than this may belong to a live writer: `clean` and
/// `trim` leave it alone so they never break a concurrent `put`.
pub(crate) const STALE_TEMP_AGE: Duration = Duration::from_secs(3600);

/// How far in the past a file's mtime and ctime must lie, relative to the moment
/// its content was read, before its stat data is trusted to stand for that content.
///
/// The racy-stat rule (git's "racy git" problem): a file changed in the same
/// timestamp tick as the moment it was hashed can keep its size, mtime and ctime
/// while its bytes differ. Kernel timestamps come from a coarse clock (one tick,
/// up to 10 ms, behind real time) truncated to the file system's granularity
/// (1 ns on ext4, xfs, btrfs, tmpfs; 1 s on ext3-style inodes; 2 s on FAT). A
/// later write therefore gets a timestamp of at least `t0 - tick - granularity`,
/// where `t0` is the time taken just before the file was opened for hashing. Stat
/// data whose mtime and ctime both lie more than this window before `t0` can
/// thus never be reproduced by a later change; anything younger is "racy" and is
/// not recorded: it is hashed again next time, and recorded once it has aged.
/// Three seconds covers FAT's two-second granularity plus the tick.
pub const RACY_WINDOW: Duration = Duration::from_secs(3);

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// ENOSPC or EDQUOT: the write can never succeed until space is freed.
pub(crate) fn is_disk_full(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT))
}

/// The identity and timestamps of a file, as `stat` reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FileStamp {
    /// Device.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// Length in bytes.
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime_s: i64,
    /// Modification time, nanoseconds within the second.
    pub mtime_ns: u32,
    /// Status change time, seconds since the epoch.
    pub ctime_s: i64,
    /// Status change time, nanoseconds within the second.
    pub ctime_ns: u32,
}

impl FileStamp {
    /// The stamp of `meta`.
    pub(crate) fn of(meta: &fs::Metadata) -> FileStamp {
        FileStamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_s: meta.mtime(),
            mtime_ns: meta.mtime_nsec().clamp(0, 999_999_999) as u32,
            ctime_s: meta.ctime(),
            ctime_ns: meta.ctime_nsec().clamp(0, 999_999_999) as u32,
        }
    }

    /// Whether both timestamps lie more than [`RACY_WINDOW`] before `t0`, the time
    /// taken just before the file was opened and read (see [`RACY_WINDOW`]).
    pub(crate) fn settled_before(&self, t0: SystemTime) -> bool {
        let limit = nanos_since_epoch(t0) - RACY_WINDOW.as_nanos() as i128;
        let ns = |s: i64, n: u32| s as i128 * 1_000_000_000 + n as i128;
        ns(self.mtime_s, self.mtime_ns) < limit && ns(self.ctime_s, self.ctime_ns) < limit
    }
}

/// `t` as signed nanoseconds since the Unix epoch.
pub(crate) fn nanos_since_epoch(t: SystemTime) -> i128 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// What a temporary file will become; selects the error variant for its writes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum WriteKind {
    /// A blob under `blobs/`.
    Blob,
    /// An action entry under `actions/`.
    Entry,
    /// Anything else: a materialized output, the stat cache, CACHEDIR.TAG.
    File,
}

impl WriteKind {
    /// The error for a failed write of `path`; ENOSPC and EDQUOT become `DiskFull`.
    pub(crate) fn error(self, path: &Path, source: io::Error) -> CacheError {
        let path = path.to_path_buf();
        if is_disk_full(&source) {
            return CacheError::DiskFull { path };
        }
        match self {
            WriteKind::Blob => CacheError::WriteBlob { path, source },
            WriteKind::Entry => CacheError::WriteEntry { path, source },
            WriteKind::File => CacheError::WriteFile { path, source },
        }
    }
}

/// A file written under a temporary name in its destination's directory and
/// renamed into place only when complete. Dropping it uncommitted removes it.
pub(crate) struct AtomicFile {
    /// The temporary name (`.tmp-<pid>-<n>-<nanos>`).
    temp: PathBuf,
    /// The final name.
    dest: PathBuf,
    /// The open file; `None` once committed.
    file: Option<File>,
    /// What is being written (for errors).
    kind: WriteKind,
}

impl AtomicFile {
    /// Creates a fresh temporary file (mode 0600) beside `dest`.
    pub(crate) fn create(dest: &Path, kind: WriteKind) -> Result<AtomicFile, CacheError> {
        let dir = parent_of(dest);
        let pid = std::process::id();
        let mut last = None;
        // Unique within this process by the counter; the pid and clock make a clash
        // with another process (another pid namespace) unlikely, and create_new
        // makes one harmless: we simply try the next name.
        for _ in 0..16 {
            let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
            let nanos = nanos_since_epoch(SystemTime::now()) as u64 & 0xffff_ffff;
            let temp = dir.join(format!("{TEMP_PREFIX}{pid}-{n}-{nanos:x}"));
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temp)
            {
                Ok(file) => {
                    return Ok(AtomicFile {
                        temp,
                        dest: dest.to_path_buf(),
                        file: Some(file),
                        kind,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) if is_disk_full(&e) => {
                    return Err(CacheError::DiskFull {
                        path: dest.to_path_buf(),
                    })
                }
                Err(source) => return Err(CacheError::CreateTemp { path: temp, source }),
            }
        }
        Err(CacheError::CreateTemp {
            path: dir.to_path_buf(),
            source: last.unwrap_or_else(|| io::Error::from(io::ErrorKind::AlreadyExists)),
        })
    }

    /// Appends `buf`.
    pub(crate) fn write_all(&mut self, buf: &[u8]) -> Result<(), CacheError> {
        match self.file.as_mut() {
            Some(f) => f.write_all(buf).map_err(|e| self.kind.error(&self.dest, e)),
            None => Err(self
                .kind
                .error(&self.dest, io::Error::other("write after commit"))),
        }
    }

    /// Sets `mode` and renames the file to its destination. When `durable`
    /// (the cache's own files), fsyncs the data first and the directory after,
    /// so content and name survive a crash; a build output installed outside
    /// the cache is not fsynced, as go build does not.
    pub(crate) fn commit(mut self, mode: u32, durable: bool) -> Result<(), CacheError> {
        let Some(file) = self.file.take() else {
            return Err(self
                .kind
                .error(&self.dest, io::Error::other("committed twice")));
        };
        file.set_permissions(Permissions::from_mode(mode))
            .map_err(|source| CacheError::Chmod {
                path: self.temp.clone(),
                source,
            })?;
        // Delayed allocation can report ENOSPC only here.
        let synced = if durable { file.sync_all() } else { Ok(()) };
        synced.map_err(|source| {
            if is_disk_full(&source) {
                CacheError::DiskFull {
                    path: self.dest.clone(),
                }
            } else {
                CacheError::Fsync {
                    path: self.temp.clone(),
                    source,
                }
            }
        })?;
        drop(file);
        fs::rename(&self.temp, &self.dest).map_err(|source| {
            if is_disk_full(&source) {
                CacheError::DiskFull {
                    path: self.dest.clone(),
                }
            } else {
                CacheError::Rename {
                    from: self.temp.clone(),
                    to: self.dest.clone(),
                    source,
                }
            }
        })?;
        // The temporary name is gone: nothing is left for Drop to remove.
        self.temp = PathBuf::new();
        if durable {
            fsync_dir(parent_of(&self.dest))?;
        }
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            self.file = None;
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// The directory holding `p` (`.` for a bare name).
pub(crate) fn parent_of(p: &Path) -> &Path {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// fsyncs a directory so that names created or renamed in it are durable. File
/// systems that cannot sync a directory (EINVAL) are taken as having nothing to do.
pub(crate) fn fsync_dir(dir: &Path) -> Result<(), CacheError> {
    let res = File::open(dir).and_then(|d| d.sync_all());
    match res {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(()),
        Err(e) if is_disk_full(&e) => Err(CacheError::DiskFull {
            path: dir.to_path_buf(),
        }),
        Err(source) => Err(CacheError::Fsync {
            path: dir.to_path_buf(),
            source,
        }),
    }
}

/// Creates `dir` (and missing ancestors) with mode 0700 if it does not exist,
/// fsyncing the parent when it had to be created.
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<(), CacheError> {
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => fsync_dir(parent_of(dir)),
        // Something else where the directory belongs (a file, a link) is
        // replaced, or every later write under it would fail.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match fs::symlink_metadata(dir) {
            Ok(m) if !m.is_dir() => {
                remove_if_exists(dir)?;
                ensure_private_dir(dir)
            }
            _ => Ok(()),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .mode(0o700)
                .recursive(true)
                .create(dir)
                .map_err(|source| create_dir_error(dir, source))?;
            fsync_dir(parent_of(dir))
        }
        Err(source) => Err(create_dir_error(dir, source)),
    }
}

/// `CreateDir`, or `DiskFull` for ENOSPC.
pub(crate) fn create_dir_error(dir: &Path, source: io::Error) -> CacheError {
    if is_disk_full(&source) {
        CacheError::DiskFull {
            path: dir.to_path_buf(),
        }
    } else {
        CacheError::CreateDir {
            path: dir.to_path_buf(),
            source,
        }
    }
}

/// Removes `path`, whatever it is (a file, a link, a FIFO, or a directory put
/// where a file belongs, which is removed with its contents); one that is
/// already gone is not an error (another process may be cleaning or repairing
/// the same cache).
pub(crate) fn remove_if_exists(path: &Path) -> Result<bool, CacheError> {
    let res = match fs::remove_file(path) {
        Err(e) if e.raw_os_error() == Some(libc::EISDIR) => fs::remove_dir_all(path),
        r => r,
    };
    match res {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(CacheError::Remove {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// What [`open_regular`] found at a path.
pub(crate) enum Opened {
    /// A regular file, open for reading, with its `fstat`.
    File(File, fs::Metadata),
    /// Nothing.
    Missing,
    /// Something else (a link, a FIFO, a directory, a device): what it is.
    NotRegular(String),
}

/// Opens a cache file for reading without following a link at its name and
/// without blocking (a FIFO put in its place would hang a plain open), then
/// checks on that descriptor that it is a regular file. Errors are those of
/// the open other than "not found" and "a link" (ELOOP).
pub(crate) fn open_regular(path: &Path) -> io::Result<Opened> {
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path);
    let f = match opened {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Opened::Missing),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Ok(Opened::NotRegular(
                "a symbolic link, not a regular file".into(),
            ))
        }
        // A socket, or a FIFO with no writer on some systems.
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
            return Ok(Opened::NotRegular("not a regular file".into()))
        }
        Err(e) => return Err(e),
    };
    let meta = f.metadata()?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory, not a regular file"
        } else {
            "not a regular file"
        };
        return Ok(Opened::NotRegular(what.into()));
    }
    Ok(Opened::File(f, meta))
}

/// Reads a file from a fixed start with `pread`, leaving the descriptor's
/// offset alone: the same open file can be read by several users at once.
pub(crate) struct ReadAt<'a> {
    /// The file.
    pub file: &'a File,
    /// The next offset.
    pub pos: u64,
}

impl io::Read for ReadAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = std::os::unix::fs::FileExt::read_at(self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Whether a directory entry name is one of the cache's temporary files.
pub(crate) fn is_temp_name(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().starts_with(TEMP_PREFIX.as_bytes())
}

/// Sets the mtime of `path` to now if it is older than an hour, marking it used
/// for `trim`. Failures are ignored: this is bookkeeping, not correctness.
pub(crate) fn touch_if_old(path: &Path, meta: &fs::Metadata) {
    let now = SystemTime::now();
    let old = meta
        .modified()
        .ok()
        .and_then(|m| now.duration_since(m).ok())
        .is_some_and(|age| age > Duration::from_secs(3600));
    if old {
        if let Ok(f) = File::open(path) {
            let _ = f.set_modified(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp_at(mtime_s: i64, ctime_s: i64) -> FileStamp {
        FileStamp {
            dev: 1,
            ino: 2,
            size: 3,
            mtime_s,
            mtime_ns: 0,
            ctime_s,
            ctime_ns: 0,
        }
    }

    #[test]
    fn cache_racy_rule_needs_both_timestamps_older_than_window() {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert!(stamp_at(1_000_000 - 4, 1_000_000 - 4).settled_before(t0));
        // Exactly at the window edge is still racy.
        assert!(!stamp_at(1_000_000 - 3, 1_000_000 - 4).settled_before(t0));
        assert!(!stamp_at(1_000_000 - 10, 1_000_000 - 1).settled_before(t0));
        assert!(!stamp_at(1_000_000, 1_000_000).settled_before(t0));
        // A timestamp in the future (clock skew) is never settled.
        assert!(!stamp_at(2_000_000, 1).settled_before(t0));
    }

    #[test]
    fn cache_disk_full_errors_name_the_destination() {
        let e = WriteKind::Blob.error(
            Path::new("/c/blobs/ab/x"),
            io::Error::from_raw_os_error(libc::ENOSPC),
        );
        assert_eq!(e.to_string(), "disk full while writing /c/blobs/ab/x");
        let e = WriteKind::Entry.error(
            Path::new("/c/e"),
            io::Error::from_raw_os_error(libc::EDQUOT),
        );
        assert!(matches!(e, CacheError::DiskFull { .. }));
        let e = WriteKind::Entry.error(Path::new("/c/e"), io::Error::from_raw_os_error(libc::EIO));
        assert!(matches!(e, CacheError::WriteEntry { .. }));
    }
}
