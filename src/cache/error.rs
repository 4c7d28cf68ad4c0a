//! Cache errors, each named after the failing step and carrying its path, and the
//! reasons a lookup can miss.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::digest::ActionKey;

/// A cache operation failed. Every variant names the file or directory involved.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// None of `$GOBCACHE`, `$XDG_CACHE_HOME` or `$HOME` names an absolute directory.
    #[error("cannot locate the build cache: none of $GOBCACHE, $XDG_CACHE_HOME, $HOME is set to an absolute path")]
    NoCacheDir,
    /// `$GOBCACHE` is set to a relative path.
    #[error("$GOBCACHE must be an absolute path, not {path}")]
    RelativeDir {
        /// The value of `$GOBCACHE`.
        path: PathBuf,
    },
    /// Creating a cache directory failed.
    #[error("creating cache directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The cache directory belongs to another user.
    #[error("cache directory {path} is owned by uid {owner}, not by the current user (uid {uid}); refusing to use it")]
    NotOwner {
        /// The cache directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The effective uid of this process.
        uid: u32,
    },
    /// The cache directory is writable by every user.
    #[error("cache directory {path} is world-writable (mode {mode:o}); refusing to use it")]
    WorldWritable {
        /// The cache directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The cache path exists but is not a directory.
    #[error("cache path {path} is not a directory")]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// Examining a file or directory failed.
    #[error("stat {path}: {source}")]
    Stat {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Listing a cache directory failed (clean, trim).
    #[error("reading directory {path}: {source}")]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Reading an action's output (the source of a `put`) failed.
    #[error("reading output {path}: {source}")]
    ReadOutput {
        /// The output file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Reading a file to digest it (the stat cache) failed.
    #[error("reading input {path}: {source}")]
    ReadInput {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// An output changed while it was being copied into the cache.
    #[error("output {path} changed while it was being stored in the cache")]
    OutputChanged {
        /// The output file.
        path: PathBuf,
    },
    /// `put` was given an unusable output name.
    #[error("bad output name {name:?}: {reason}")]
    BadOutputName {
        /// The name.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// Reading a blob failed with an I/O error (not a content mismatch).
    #[error("reading cached blob {path}: {source}")]
    ReadBlob {
        /// The blob.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Reading an action entry failed with an I/O error.
    #[error("reading action entry {path}: {source}")]
    ReadEntry {
        /// The entry.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Reading the stat cache failed with an I/O error.
    #[error("reading stat cache {path}: {source}")]
    ReadStatCache {
        /// The stat cache file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Creating a temporary file failed.
    #[error("creating temporary file {path}: {source}")]
    CreateTemp {
        /// The temporary file (or its directory).
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Writing a blob failed.
    #[error("writing blob {path}: {source}")]
    WriteBlob {
        /// The blob being written.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Writing an action entry failed.
    #[error("writing action entry {path}: {source}")]
    WriteEntry {
        /// The entry being written.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Writing any other file (a materialized output, the stat cache) failed.
    #[error("writing {path}: {source}")]
    WriteFile {
        /// The file being written.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Setting the permission bits of a new file failed.
    #[error("setting permissions of {path}: {source}")]
    Chmod {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// fsync of a file or directory failed.
    #[error("fsync {path}: {source}")]
    Fsync {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Renaming a finished temporary file into place failed.
    #[error("renaming {from} to {to}: {source}")]
    Rename {
        /// The temporary file.
        from: PathBuf,
        /// The destination.
        to: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Removing a cache file failed (clean, trim).
    #[error("removing {path}: {source}")]
    Remove {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The file system is full (ENOSPC) or the quota is exhausted (EDQUOT). The
    /// temporary file was removed; no entry refers to the unfinished write.
    #[error("disk full while writing {path}")]
    DiskFull {
        /// The file that could not be written.
        path: PathBuf,
    },
    /// A cached file failed verification while being used (`materialize`). It has
    /// been removed together with its action entry; treat the action as a miss.
    #[error("corrupt cache file {path}: {detail}")]
    Corrupt {
        /// The corrupt file.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// A blob named by an action entry no longer exists (removed by a concurrent
    /// `clean` or `trim`). The entry has been removed; treat the action as a miss.
    #[error("cached blob {path} is missing")]
    MissingBlob {
        /// The blob.
        path: PathBuf,
    },
    /// `materialize` was asked for an output the entry does not have.
    #[error("action {key} has no output named {name:?}")]
    NoSuchOutput {
        /// The action.
        key: ActionKey,
        /// The requested name.
        name: String,
    },
}

impl CacheError {
    /// Whether the error means "this cached result is unusable, run the action
    /// again" (as opposed to a failure of the cache itself).
    pub fn is_miss(&self) -> bool {
        matches!(
            self,
            CacheError::Corrupt { .. } | CacheError::MissingBlob { .. }
        )
    }
}

/// Why a lookup did not produce a usable entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Miss {
    /// No entry for this key.
    Absent,
    /// The entry or one of its blobs failed verification (checksum, length, format,
    /// or an entry stored under the wrong key). The bad file and the entry were removed.
    Corrupt {
        /// The file that failed verification.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// The entry names a blob that does not exist (a concurrent `clean` or `trim`
    /// removed it). The entry was removed.
    MissingBlob {
        /// The missing blob.
        path: PathBuf,
    },
    /// The entry was produced in a weaker sandbox mode than the lookup's (see
    /// [`serves`](super::serves)); the run's store replaces it.
    Weaker {
        /// The mode that produced the entry.
        produced: gob_sandbox::Mode,
        /// The mode of the lookup.
        wanted: gob_sandbox::Mode,
    },
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Miss::Absent => f.write_str("not in cache"),
            Miss::Corrupt { path, detail } => {
                write!(f, "corrupt cache file {}: {detail}", path.display())
            }
            Miss::MissingBlob { path } => write!(f, "cached blob {} is missing", path.display()),
            Miss::Weaker { produced, wanted } => write!(
                f,
                "cached by a build in sandbox mode {}, weaker than this build's {}",
                produced.name(),
                wanted.name()
            ),
        }
    }
}
