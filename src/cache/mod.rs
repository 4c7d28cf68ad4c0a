//! Build cache: action results stored by content digest, found by action key.
//!
//! # Overview
//! The executor computes an [`ActionKey`] for every action (see
//! [`ActionKeyBuilder`] for what goes into it) and asks [`Cache::get`]. A hit is an
//! [`ActionEntry`]: the action's outputs (name, digest, size, executable bit) and
//! the tool's log. A miss carries its reason ([`Miss`]). After running the tool
//! the executor calls [`Cache::put`]; outputs are later copied out with
//! [`Cache::materialize`].
//!
//! # Layout
//! ```text
//! <dir>/                    mode 0700, owned by the current user
//!   CACHEDIR.TAG            so backup tools skip the cache
//!   blobs/ab/abcdef…        content, named by its BLAKE3 digest (mode 0444)
//!   actions/12/1234…        action entries, named by key (see `entry.rs`)
//!   stat-cache              the DigestCache (see `statcache.rs`)
//!   verified-blobs          blobs verified by earlier processes, with their stamps
//!   trim.txt                when the cache was last trimmed (Unix seconds)
//!   …/.tmp-<pid>-<n>-<t>    a write in progress (or abandoned by a crash)
//! ```
//!
//! # Integrity
//! 1. Every file is written under a temporary name in its final directory,
//!    fsynced, renamed into place, and the directory fsynced. A crash leaves at
//!    most a temporary file, which no lookup ever opens.
//! 2. `put` writes the blobs first and the entry last, so an entry exists only
//!    when all its blobs are durable.
//! 3. An entry ends in a checksum of itself and names its own key; every blob's
//!    length and BLAKE3 digest are checked when `get` returns it and again while
//!    `materialize` copies it. A bad file is removed with its entry and reported
//!    as [`Miss::Corrupt`] (or [`CacheError::Corrupt`]): never a wrong hit, never
//!    a truncated output.
//! 4. The one shortcut: `get` skips re-hashing a blob this process (or a
//!    previous one, via `verified-blobs`) has already verified, if its stat data
//!    (device, inode, size, mtime, ctime) is unchanged and was not racy when
//!    verified (see [`RACY_WINDOW`]). Bytes that changed under an unchanged
//!    stamp (bit rot) are still caught where they leave the cache:
//!    [`Cache::install`] hashes every byte it copies.
//! 5. Every cache file is opened with `O_NOFOLLOW | O_NONBLOCK` and checked by
//!    `fstat` on that descriptor: a link, FIFO or directory in a blob's or an
//!    entry's place is a corrupt miss, removed (a directory with its contents)
//!    so the next store replaces it.
//! 6. An entry records the sandbox mode of the run that made it and serves only
//!    lookups of a mode at most as strong ([`serves`]). Outputs are stored from
//!    the descriptor the runner checked ([`Cache::put_files`]), never reopened.
//!
//! # Trimming
//! [`Cache::trim_if_due`] runs after each build, like go's `Trim`: at most once a
//! day (the time in `trim.txt`, written first so concurrent builds do not all
//! trim), entries unused for [`TRIM_AGE`] go (`get` refreshes an entry's mtime at
//! most hourly), then blobs no entry names; with a size cap (`$GOBCACHE_MAX`) it
//! runs hourly and then removes least recently used entries until the cache fits.
//! Temporary files abandoned for an hour go every time.
//!
//! Concurrent users need no locks: renames are atomic, identical content has
//! identical names, and an entry racing with a `clean` or `trim` is at worst a miss.
#![deny(missing_docs)]

mod digest;
mod entry;
mod error;
mod fsio;
mod statcache;

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

pub(crate) use digest::{hash_copy, hash_reader, HashCopyError};
pub use digest::{ActionKey, ActionKeyBuilder, Digest};
pub use entry::{serves, ActionEntry, OutputEntry};
pub use error::{CacheError, Miss};
pub(crate) use fsio::ReadAt;
pub use fsio::RACY_WINDOW;
pub use gob_sandbox::Mode;
pub use statcache::{DigestCache, DigestStats};

use fsio::{AtomicFile, FileStamp, Opened, WriteKind};

/// The persisted verified-blob set (see [`Cache::save_verified`]).
const VERIFIED_FILE: &str = "verified-blobs";
const VERIFIED_MAGIC: &[u8] = b"gob verified-blobs v1\n";
/// Digest, dev, ino, size, mtime s+ns, ctime s+ns.
const VERIFIED_RECORD: usize = 32 + 8 * 3 + (8 + 4) * 2;

/// Reads the verified-blob set; anything damaged or foreign gives an empty set.
fn load_verified(path: &Path) -> HashMap<Digest, FileStamp> {
    let mut map = HashMap::new();
    let Ok(data) = fs::read(path) else { return map };
    if data.len() < VERIFIED_MAGIC.len() + 32 || !data.starts_with(VERIFIED_MAGIC) {
        return map;
    }
    let (body, sum) = data.split_at(data.len() - 32);
    if blake3::hash(body).as_bytes() != sum {
        return map;
    }
    let records = &body[VERIFIED_MAGIC.len()..];
    if records.len() % VERIFIED_RECORD != 0 {
        return map;
    }
    for r in records.chunks_exact(VERIFIED_RECORD) {
        let u64_at = |i: usize| u64::from_le_bytes(r[i..i + 8].try_into().unwrap_or([0; 8]));
        let u32_at = |i: usize| u32::from_le_bytes(r[i..i + 4].try_into().unwrap_or([0; 4]));
        let mut d = [0u8; 32];
        d.copy_from_slice(&r[..32]);
        let stamp = FileStamp {
            dev: u64_at(32),
            ino: u64_at(40),
            size: u64_at(48),
            mtime_s: u64_at(56) as i64,
            mtime_ns: u32_at(64),
            ctime_s: u64_at(68) as i64,
            ctime_ns: u32_at(76),
        };
        map.insert(Digest::from_bytes(d), stamp);
    }
    map
}

/// Entry files larger than this are corrupt (a real one lists a few outputs).
const MAX_ENTRY_SIZE: u64 = 16 << 20;

/// The result of [`Cache::get`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A verified entry.
    Hit(ActionEntry),
    /// No usable entry, and why.
    Miss(Miss),
}

impl Lookup {
    /// The entry, if this is a hit.
    pub fn hit(self) -> Option<ActionEntry> {
        match self {
            Lookup::Hit(e) => Some(e),
            Lookup::Miss(_) => None,
        }
    }

    /// The reason, if this is a miss.
    pub fn miss(&self) -> Option<&Miss> {
        match self {
            Lookup::Hit(_) => None,
            Lookup::Miss(m) => Some(m),
        }
    }
}

/// How long an entry may go unused before [`Cache::trim_if_due`] removes it:
/// go's five days, plus the hour by which a use may not have refreshed its mtime.
pub const TRIM_AGE: Duration = Duration::from_secs((5 * 24 + 1) * 3600);

/// How often [`Cache::trim_if_due`] trims (go's daily), and how often with a
/// size cap (hourly: a cap that waited a day could be far exceeded).
const TRIM_INTERVAL: Duration = Duration::from_secs(24 * 3600);
const TRIM_INTERVAL_CAPPED: Duration = Duration::from_secs(3600);

/// The file holding the time (Unix seconds) of the last automatic trim.
const TRIM_FILE: &str = "trim.txt";

/// What [`Cache::trim`] keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrimPolicy {
    /// Entries unused this long are removed (and blobs no remaining entry
    /// names, once as old).
    pub max_age: Duration,
    /// With a cap, the least recently used entries are removed (with the
    /// blobs only they name) until entries and blobs total at most this.
    pub max_bytes: Option<u64>,
}

/// Parses a cache size cap (`$GOBCACHE_MAX`): bytes, or a number with a
/// `K`, `M`, `G` or `T` suffix (powers of 1024, an optional trailing `B` or
/// `iB`). `0` or empty: no cap.
pub fn parse_size(s: &str) -> Option<Option<u64>> {
    let t = s.trim();
    if t.is_empty() {
        return Some(None);
    }
    let u = t.to_ascii_uppercase();
    let u = u
        .strip_suffix("IB")
        .or_else(|| u.strip_suffix('B'))
        .unwrap_or(&u);
    let (num, shift) = match u.chars().last() {
        Some('K') => (&u[..u.len() - 1], 10),
        Some('M') => (&u[..u.len() - 1], 20),
        Some('G') => (&u[..u.len() - 1], 30),
        Some('T') => (&u[..u.len() - 1], 40),
        _ => (u, 0),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = num.parse().ok()?;
    let n = n.checked_mul(1u64 << shift)?;
    Some((n > 0).then_some(n))
}

/// What [`Cache::trim`] removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrimReport {
    /// Action entries not used within the age limit (or unreadable).
    pub entries_removed: u64,
    /// Blobs no remaining entry names, older than the age limit.
    pub blobs_removed: u64,
    /// Temporary files abandoned by crashed writers.
    pub temps_removed: u64,
    /// Bytes freed.
    pub bytes_freed: u64,
}

/// One output for [`Cache::put_files`]: a descriptor that was checked (a
/// regular file, opened without following links), read from offset 0 with
/// `pread`, never reopened by name.
#[derive(Clone, Copy, Debug)]
pub struct OutputSource<'a> {
    /// The declared name.
    pub name: &'a str,
    /// The open file.
    pub file: &'a File,
    /// Where it was opened (for messages only).
    pub path: &'a Path,
    /// Digest and size already taken from this descriptor: the copy must
    /// match them, or the store fails with [`CacheError::OutputChanged`].
    /// `None`: hashed here.
    pub known: Option<(Digest, u64)>,
    /// Whether the output is executable.
    pub executable: bool,
}

/// The outcome of checking one blob.
enum BlobState {
    Valid,
    Missing,
    Corrupt(String),
}

/// An open build cache directory.
#[derive(Debug)]
pub struct Cache {
    /// The cache directory.
    root: PathBuf,
    /// Blobs this process hashed and found correct, with their stat data at the
    /// time (only stamps that were not racy; see [`RACY_WINDOW`]).
    verified: Mutex<HashMap<Digest, FileStamp>>,
}

impl Cache {
    /// The cache directory for an environment: `$GOBCACHE`, else
    /// `$XDG_CACHE_HOME/gob`, else `$HOME/.cache/gob`. Empty variables count as
    /// unset; a relative `$XDG_CACHE_HOME` or `$HOME` is ignored (as the XDG spec
    /// says), a relative `$GOBCACHE` is an error.
    pub fn default_dir<F, S>(getenv: F) -> Result<PathBuf, CacheError>
    where
        F: Fn(&str) -> Option<S>,
        S: AsRef<OsStr>,
    {
        let var = |k: &str| {
            getenv(k)
                .map(|v| PathBuf::from(v.as_ref()))
                .filter(|p| !p.as_os_str().is_empty())
        };
        if let Some(p) = var("GOBCACHE") {
            return if p.is_absolute() {
                Ok(p)
            } else {
                Err(CacheError::RelativeDir { path: p })
            };
        }
        if let Some(p) = var("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
            return Ok(p.join("gob"));
        }
        if let Some(p) = var("HOME").filter(|p| p.is_absolute()) {
            return Ok(p.join(".cache").join("gob"));
        }
        Err(CacheError::NoCacheDir)
    }

    /// Opens (creating with mode 0700 if needed) the cache at `dir`. Refuses a
    /// directory owned by another user or writable by everyone: either would let
    /// another user plant results that gob would hand out as build outputs.
    pub fn open(dir: &Path) -> Result<Cache, CacheError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| fsio::create_dir_error(dir, e))?;
        let meta = fs::metadata(dir).map_err(|source| CacheError::Stat {
            path: dir.to_path_buf(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(CacheError::NotADirectory {
                path: dir.to_path_buf(),
            });
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        let uid = unsafe { libc::geteuid() };
        if meta.uid() != uid {
            return Err(CacheError::NotOwner {
                path: dir.to_path_buf(),
                owner: meta.uid(),
                uid,
            });
        }
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o002 != 0 {
            return Err(CacheError::WorldWritable {
                path: dir.to_path_buf(),
                mode,
            });
        }
        fsio::ensure_private_dir(&dir.join("blobs"))?;
        fsio::ensure_private_dir(&dir.join("actions"))?;
        let cache = Cache {
            root: dir.to_path_buf(),
            verified: Mutex::new(load_verified(&dir.join(VERIFIED_FILE))),
        };
        // Best effort: a full disk must not stop the cache from serving reads.
        let _ = cache.write_tag();
        Ok(cache)
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// Where the blob with this digest lives (`blobs/ab/abcdef…`). Its content was
    /// verified by the `get` or `put` that returned the digest; to hand an output
    /// to anything that might modify it, use [`Cache::materialize`].
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        let hex = digest.to_string();
        self.root.join("blobs").join(&hex[..2]).join(hex)
    }

    /// Where the entry for this key lives (`actions/12/1234…`).
    pub fn entry_path(&self, key: &ActionKey) -> PathBuf {
        let hex = key.to_string();
        self.root.join("actions").join(&hex[..2]).join(hex)
    }

    /// Looks up an action for a build in sandbox mode `mode`. A hit was
    /// produced in a mode at least as strong ([`serves`]) and has every blob
    /// verified (length and BLAKE3) and its log read. A corrupt entry or blob
    /// (damaged, or not a regular file) is removed and reported as a miss.
    /// `Err` only for I/O failures other than "not found" (permissions, EIO).
    pub fn get(&self, key: &ActionKey, mode: Mode) -> Result<Lookup, CacheError> {
        let path = self.entry_path(key);
        let (bytes, meta) = match read_entry_file(&path) {
            Ok(Some(x)) => x,
            Ok(None) => return Ok(Lookup::Miss(Miss::Absent)),
            Err(e) => return Err(e),
        };
        let (mut entry, log_size) = match entry::decode(&bytes, key) {
            Ok(x) => x,
            Err(detail) => {
                let _ = fsio::remove_if_exists(&path);
                return Ok(Lookup::Miss(Miss::Corrupt { path, detail }));
            }
        };
        if !serves(entry.mode, mode) {
            return Ok(Lookup::Miss(Miss::Weaker {
                produced: entry.mode,
                wanted: mode,
            }));
        }
        let mut blobs: Vec<(&str, Digest, u64)> = entry
            .outputs
            .iter()
            .map(|o| (o.name.as_str(), o.digest, o.size))
            .collect();
        blobs.push(("", entry.log_digest, log_size));
        let mut log = Vec::new();
        for (name, digest, size) in blobs {
            let is_log = name.is_empty();
            let state =
                self.verify_blob(&digest, size, if is_log { Some(&mut log) } else { None })?;
            let blob = self.blob_path(&digest);
            match state {
                BlobState::Valid => {}
                BlobState::Missing => {
                    let _ = fsio::remove_if_exists(&path);
                    return Ok(Lookup::Miss(Miss::MissingBlob { path: blob }));
                }
                BlobState::Corrupt(detail) => {
                    self.discard_blob(&digest);
                    let _ = fsio::remove_if_exists(&path);
                    let what = if is_log {
                        "tool log".to_string()
                    } else {
                        format!("output {name:?}")
                    };
                    return Ok(Lookup::Miss(Miss::Corrupt {
                        path: blob,
                        detail: format!("{what} of action {key}: {detail}"),
                    }));
                }
            }
        }
        entry.log = log;
        fsio::touch_if_old(&path, &meta);
        Ok(Lookup::Hit(entry))
    }

    /// Stores an action's results, produced in sandbox mode `mode`: each
    /// `(name, path)` output file (opened once, without following a link, and
    /// read from that descriptor) and the tool's combined stdout and stderr.
    /// See [`Cache::put_files`].
    pub fn put(
        &self,
        key: &ActionKey,
        mode: Mode,
        outputs: &[(&str, &Path)],
        log: &[u8],
    ) -> Result<ActionEntry, CacheError> {
        let mut files = Vec::with_capacity(outputs.len());
        for (name, path) in outputs {
            let read_err = |source| CacheError::ReadOutput {
                path: path.to_path_buf(),
                source,
            };
            match fsio::open_regular(path).map_err(read_err)? {
                Opened::File(f, m) => files.push((*name, *path, f, m)),
                Opened::Missing => return Err(read_err(io::ErrorKind::NotFound.into())),
                Opened::NotRegular(what) => return Err(read_err(io::Error::other(what))),
            }
        }
        let sources: Vec<OutputSource<'_>> = files
            .iter()
            .map(|(name, path, file, meta)| OutputSource {
                name,
                file,
                path,
                known: None,
                executable: meta.permissions().mode() & 0o111 != 0,
            })
            .collect();
        self.put_files(key, mode, &sources, log)
    }

    /// Stores an action's results, produced in sandbox mode `mode`: each output
    /// copied from its open descriptor (never reopened by name) and the tool's
    /// log. Blobs are written (or found already present and verified) first;
    /// the entry last. On error nothing refers to a partial write.
    pub fn put_files(
        &self,
        key: &ActionKey,
        mode: Mode,
        outputs: &[OutputSource<'_>],
        log: &[u8],
    ) -> Result<ActionEntry, CacheError> {
        let mut seen = HashSet::new();
        for o in outputs {
            if o.name.is_empty() {
                return Err(CacheError::BadOutputName {
                    name: String::new(),
                    reason: "empty",
                });
            }
            if !seen.insert(o.name) {
                return Err(CacheError::BadOutputName {
                    name: o.name.to_string(),
                    reason: "listed twice",
                });
            }
        }
        let mut outs = Vec::with_capacity(outputs.len());
        for o in outputs {
            let (digest, size) = self.store_file(o)?;
            outs.push(OutputEntry {
                name: o.name.to_string(),
                digest,
                size,
                executable: o.executable,
            });
        }
        let log_digest = self.store_bytes(log)?;
        let entry = ActionEntry {
            key: *key,
            mode,
            outputs: outs,
            log_digest,
            log: log.to_vec(),
        };
        let dest = self.entry_path(key);
        fsio::ensure_private_dir(fsio::parent_of(&dest))?;
        let mut f = AtomicFile::create(&dest, WriteKind::Entry)?;
        f.write_all(&entry::encode(&entry))?;
        // Something that is not a file in the entry's place (a directory)
        // would make the rename fail forever.
        if fs::symlink_metadata(&dest).is_ok_and(|m| m.is_dir()) {
            fsio::remove_if_exists(&dest)?;
        }
        f.commit(0o444, true)?;
        Ok(entry)
    }

    /// Copies output `name` of `entry` to `dest`, verifying length and digest on
    /// the way. `dest` appears only complete (temporary file in its directory,
    /// then rename), with mode 0755 or 0644 after the executable bit. A blob that
    /// fails verification is removed with its entry: [`CacheError::Corrupt`].
    pub fn materialize(
        &self,
        entry: &ActionEntry,
        name: &str,
        dest: &Path,
    ) -> Result<(), CacheError> {
        let out = entry.output(name).ok_or_else(|| CacheError::NoSuchOutput {
            key: entry.key,
            name: name.to_string(),
        })?;
        let mode = if out.executable { 0o755 } else { 0o644 };
        let res = self.materialize_blob(&out.digest, out.size, mode, dest);
        if let Err(e) = &res {
            if e.is_miss() {
                let _ = fsio::remove_if_exists(&self.entry_path(&entry.key));
            }
        }
        res.map_err(|e| match e {
            CacheError::Corrupt { path, detail } => CacheError::Corrupt {
                path,
                detail: format!("output {name:?} of action {}: {detail}", entry.key),
            },
            e => e,
        })
    }

    /// [`Cache::materialize`] for a blob known only by digest and size (an
    /// output of a dependency, staged as an input), with permission bits
    /// `mode`. A corrupt blob is removed; the entries naming it will miss with
    /// [`Miss::MissingBlob`].
    pub fn materialize_blob(
        &self,
        digest: &Digest,
        size: u64,
        mode: u32,
        dest: &Path,
    ) -> Result<(), CacheError> {
        self.install(&self.blob_path(digest), digest, size, mode, dest)
    }

    /// Copies `src`, a cache blob or an action's fresh output, to `dest`
    /// (appearing whole, by rename, with permission bits `mode`), hashing
    /// every byte on the way: the copy is `dest` only when it has `size` bytes
    /// and digest `digest`. A cache blob that fails is removed and reported as
    /// [`CacheError::Corrupt`] (a miss: run the action again); any other file
    /// as [`CacheError::OutputChanged`].
    pub fn install(
        &self,
        src: &Path,
        digest: &Digest,
        size: u64,
        mode: u32,
        dest: &Path,
    ) -> Result<(), CacheError> {
        let blob = self.blob_path(digest);
        let is_blob = src == blob;
        let bad = |detail: String| {
            if is_blob {
                self.discard_blob(digest);
                CacheError::Corrupt {
                    path: blob.clone(),
                    detail,
                }
            } else {
                CacheError::OutputChanged {
                    path: src.to_path_buf(),
                }
            }
        };
        let read_err = |source| {
            if is_blob {
                CacheError::ReadBlob {
                    path: src.to_path_buf(),
                    source,
                }
            } else {
                CacheError::ReadOutput {
                    path: src.to_path_buf(),
                    source,
                }
            }
        };
        let f = match fsio::open_regular(src).map_err(read_err)? {
            Opened::File(f, _) => f,
            Opened::Missing if is_blob => return Err(CacheError::MissingBlob { path: blob }),
            Opened::Missing => return Err(read_err(io::ErrorKind::NotFound.into())),
            Opened::NotRegular(what) => return Err(bad(what)),
        };
        let mut tmp = AtomicFile::create(dest, WriteKind::File)?;
        // One byte past the expected length is enough to notice a longer file.
        let copied = digest::hash_copy(&mut f.take(size.saturating_add(1)), &mut |b| {
            tmp.write_all(b)
        });
        let (got, n) = match copied {
            Ok(x) => x,
            Err(HashCopyError::Read(e)) => return Err(read_err(e)),
            Err(HashCopyError::Sink(e)) => return Err(e),
        };
        if n != size || got != *digest {
            drop(tmp);
            return Err(bad(if n != size {
                format!("blob has {n} bytes, want {size}")
            } else {
                format!("content hashes to {got}")
            }));
        }
        tmp.commit(mode, false)
    }

    /// Removes every entry, blob and the stat cache (`gob clean -cache`). Safe
    /// while other processes use the cache: files already gone are skipped,
    /// temporary files younger than an hour (a live `put`) are left alone, and
    /// entries go before blobs, so a concurrent reader sees at worst a miss.
    pub fn clean(&self) -> Result<(), CacheError> {
        for top in ["actions", "blobs"] {
            for_each_file(&self.root.join(top), &mut |path, name, meta| {
                if fsio::is_temp_name(name) && !is_stale_temp(meta) {
                    return Ok(());
                }
                fsio::remove_if_exists(path).map(|_| ())
            })?;
        }
        fsio::remove_if_exists(&self.root.join(statcache::FILE_NAME))?;
        self.verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        Ok(())
    }

    /// Trims the cache if the last automatic trim is older than a day (an
    /// hour with a size cap), as go does after each command: entries unused
    /// for [`TRIM_AGE`], then, with `max_bytes`, the least recently used until
    /// the cache fits; abandoned temporary files always. The time is recorded
    /// in `trim.txt` before trimming, so concurrent builds do not all trim.
    /// Cheap when not due: one small read. `None` when it was not due.
    pub fn trim_if_due(&self, max_bytes: Option<u64>) -> Result<Option<TrimReport>, CacheError> {
        let path = self.root.join(TRIM_FILE);
        let now = SystemTime::now();
        let now_s = now
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let interval = if max_bytes.is_some() {
            TRIM_INTERVAL_CAPPED
        } else {
            TRIM_INTERVAL
        };
        // Not due: trimmed within the interval, and not in the future by more
        // than the mtime slack (a clock set back must not stop trimming).
        let last = fs::read_to_string(&path)
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok());
        if let Some(last) = last {
            let since = now_s as i128 - last as i128;
            if since < interval.as_secs() as i128 && since > -3600 {
                return Ok(None);
            }
        }
        let mut f = AtomicFile::create(&path, WriteKind::File)?;
        f.write_all(format!("{now_s}\n").as_bytes())?;
        f.commit(0o644, false)?;
        self.trim(&TrimPolicy {
            max_age: TRIM_AGE,
            max_bytes,
        })
        .map(Some)
    }

    /// Removes entries not used for `max_age` (`get` refreshes an entry's mtime
    /// at most hourly), then blobs older than `max_age` that no remaining entry
    /// names, and temporary files abandoned for over an hour. With a size cap,
    /// then removes the least recently used entries (and the blobs no other
    /// entry names) until what is left fits.
    pub fn trim(&self, policy: &TrimPolicy) -> Result<TrimReport, CacheError> {
        let now = SystemTime::now();
        let old = |meta: &fs::Metadata| {
            meta.modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|age| age >= policy.max_age)
        };
        let mut report = TrimReport::default();
        // Surviving entries: (last used, path, size, blobs named).
        let mut entries: Vec<(SystemTime, PathBuf, u64, Vec<Digest>)> = Vec::new();
        for_each_file(&self.root.join("actions"), &mut |path, name, meta| {
            let key = name.to_str().and_then(ActionKey::from_hex);
            let decoded = match key {
                Some(k) if !old(meta) => read_entry_file(path)
                    .ok()
                    .flatten()
                    .and_then(|(b, _)| entry::decode(&b, &k).ok()),
                _ => None,
            };
            match decoded {
                Some((e, _)) => {
                    let mut blobs: Vec<Digest> = e.outputs.iter().map(|o| o.digest).collect();
                    blobs.push(e.log_digest);
                    let used = meta.modified().unwrap_or(now);
                    entries.push((used, path.to_path_buf(), meta.len(), blobs));
                }
                None if fsio::is_temp_name(name) => {
                    if is_stale_temp(meta) && fsio::remove_if_exists(path)? {
                        report.temps_removed += 1;
                        report.bytes_freed += meta.len();
                    }
                }
                None => {
                    if fsio::remove_if_exists(path)? {
                        report.entries_removed += 1;
                        report.bytes_freed += meta.len();
                    }
                }
            }
            Ok(())
        })?;
        let mut refs: HashMap<Digest, usize> = HashMap::new();
        for d in entries.iter().flat_map(|e| &e.3) {
            *refs.entry(*d).or_default() += 1;
        }
        // Blobs kept: (digest, path, size, abandoned for over an hour).
        let mut blobs: HashMap<Digest, (PathBuf, u64)> = HashMap::new();
        for_each_file(&self.root.join("blobs"), &mut |path, name, meta| {
            let removed = if fsio::is_temp_name(name) {
                let r = is_stale_temp(meta) && fsio::remove_if_exists(path)?;
                report.temps_removed += r as u64;
                r
            } else {
                let digest = name.to_str().and_then(Digest::from_hex);
                let live = digest.is_some_and(|d| refs.contains_key(&d));
                // An unnamed blob younger than an hour may belong to a
                // concurrent `put` whose entry is not written yet.
                let orphan_old = if policy.max_bytes.is_some() {
                    is_stale_temp(meta)
                } else {
                    old(meta)
                };
                let r = !live && orphan_old && fsio::remove_if_exists(path)?;
                report.blobs_removed += r as u64;
                if !r {
                    if let Some(d) = digest {
                        blobs.insert(d, (path.to_path_buf(), meta.len()));
                    }
                }
                r
            };
            if removed {
                report.bytes_freed += meta.len();
            }
            Ok(())
        })?;
        // Abandoned temporary files beside the entries and blobs (the stat
        // cache's, the verified set's).
        if let Ok(rd) = fs::read_dir(&self.root) {
            for ent in rd.flatten() {
                let name = ent.file_name();
                let Ok(meta) = ent.metadata() else { continue };
                if meta.is_file()
                    && fsio::is_temp_name(&name)
                    && is_stale_temp(&meta)
                    && fsio::remove_if_exists(&ent.path())?
                {
                    report.temps_removed += 1;
                    report.bytes_freed += meta.len();
                }
            }
        }
        if let Some(cap) = policy.max_bytes {
            let mut total: u64 =
                entries.iter().map(|e| e.2).sum::<u64>() + blobs.values().map(|b| b.1).sum::<u64>();
            entries.sort_by_key(|e| e.0);
            for (_, path, size, named) in &entries {
                if total <= cap {
                    break;
                }
                if fsio::remove_if_exists(path)? {
                    report.entries_removed += 1;
                    report.bytes_freed += size;
                }
                total = total.saturating_sub(*size);
                for d in named {
                    let Some(n) = refs.get_mut(d) else { continue };
                    *n -= 1;
                    if *n > 0 {
                        continue;
                    }
                    if let Some((p, len)) = blobs.remove(d) {
                        if fsio::remove_if_exists(&p)? {
                            report.blobs_removed += 1;
                            report.bytes_freed += len;
                        }
                        total = total.saturating_sub(len);
                    }
                }
            }
        }
        self.verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        Ok(report)
    }

    /// Copies one output into its blob, from its descriptor. Returns (digest, size).
    fn store_file(&self, src: &OutputSource<'_>) -> Result<(Digest, u64), CacheError> {
        let read_err = |source| CacheError::ReadOutput {
            path: src.path.to_path_buf(),
            source,
        };
        let reader = || ReadAt {
            file: src.file,
            pos: 0,
        };
        let (digest, size) = match src.known {
            Some(k) => k,
            None => digest::hash_reader(&mut reader()).map_err(read_err)?,
        };
        let blob = self.blob_path(&digest);
        match self.verify_blob(&digest, size, None)? {
            BlobState::Valid => {
                if let Ok(m) = fs::symlink_metadata(&blob) {
                    fsio::touch_if_old(&blob, &m);
                }
                return Ok((digest, size));
            }
            BlobState::Missing => {}
            // Replaced below; a directory in its place must go first (a rename
            // cannot replace it).
            BlobState::Corrupt(_) => self.discard_blob(&digest),
        }
        fsio::ensure_private_dir(fsio::parent_of(&blob))?;
        let mut tmp = AtomicFile::create(&blob, WriteKind::Blob)?;
        let copied = digest::hash_copy(&mut reader(), &mut |b| tmp.write_all(b));
        let (again, n) = match copied {
            Ok(x) => x,
            Err(HashCopyError::Read(e)) => return Err(read_err(e)),
            Err(HashCopyError::Sink(e)) => return Err(e),
        };
        if again != digest || n != size {
            return Err(CacheError::OutputChanged {
                path: src.path.to_path_buf(),
            });
        }
        tmp.commit(0o444, true)?;
        Ok((digest, size))
    }

    /// Stores `bytes` as a blob. Returns its digest.
    fn store_bytes(&self, bytes: &[u8]) -> Result<Digest, CacheError> {
        let digest = Digest::of_bytes(bytes);
        if let BlobState::Valid = self.verify_blob(&digest, bytes.len() as u64, None)? {
            return Ok(digest);
        }
        let blob = self.blob_path(&digest);
        fsio::ensure_private_dir(fsio::parent_of(&blob))?;
        let mut tmp = AtomicFile::create(&blob, WriteKind::Blob)?;
        tmp.write_all(bytes)?;
        tmp.commit(0o444, true)?;
        Ok(digest)
    }

    /// Checks the blob `digest` against its expected `size` and digest, reading
    /// its content into `sink` when given. Skips hashing only for a blob this
    /// process verified before, whose stat data has not changed since.
    fn verify_blob(
        &self,
        digest: &Digest,
        size: u64,
        mut sink: Option<&mut Vec<u8>>,
    ) -> Result<BlobState, CacheError> {
        let path = self.blob_path(digest);
        let read_err = |source| CacheError::ReadBlob {
            path: path.clone(),
            source,
        };
        // Taken before the file is examined: the racy rule compares against it.
        let t0 = SystemTime::now();
        let (f, meta) = match fsio::open_regular(&path).map_err(read_err)? {
            Opened::File(f, m) => (f, m),
            Opened::Missing => return Ok(BlobState::Missing),
            Opened::NotRegular(what) => return Ok(BlobState::Corrupt(what)),
        };
        if meta.len() != size {
            return Ok(BlobState::Corrupt(format!(
                "blob has {} bytes, entry says {size}",
                meta.len()
            )));
        }
        let stamp = FileStamp::of(&meta);
        if sink.is_none() {
            let verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
            if verified.get(digest) == Some(&stamp) {
                return Ok(BlobState::Valid);
            }
        }
        let hashed = digest::hash_copy(&mut f.take(size.saturating_add(1)), &mut |b| {
            if let Some(s) = sink.as_mut() {
                s.extend_from_slice(b);
            }
            Ok::<(), io::Error>(())
        });
        let (got, n) = match hashed {
            Ok(x) => x,
            Err(HashCopyError::Read(e) | HashCopyError::Sink(e)) => return Err(read_err(e)),
        };
        if n != size {
            return Ok(BlobState::Corrupt(format!(
                "read {n} bytes, entry says {size}"
            )));
        }
        if got != *digest {
            return Ok(BlobState::Corrupt(format!("content hashes to {got}")));
        }
        if stamp.settled_before(t0) {
            self.verified
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(*digest, stamp);
        }
        Ok(BlobState::Valid)
    }

    /// Persists the set of blobs verified so far (with their stat stamps), so the
    /// next process skips re-hashing blobs nobody has written to since. The same
    /// trust rule as the source stat cache: a write to a blob changes its ctime,
    /// and only stamps that were settled (not racy) when hashed are recorded.
    /// Best effort: the file is an optimization, checksummed, and ignored when damaged.
    pub fn save_verified(&self) -> Result<(), CacheError> {
        let map = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        let mut body = Vec::with_capacity(VERIFIED_MAGIC.len() + map.len() * VERIFIED_RECORD + 32);
        body.extend_from_slice(VERIFIED_MAGIC);
        let mut entries: Vec<(&Digest, &FileStamp)> = map.iter().collect();
        entries.sort_by_key(|(d, _)| **d);
        for (d, st) in entries {
            body.extend_from_slice(d.as_bytes());
            body.extend_from_slice(&st.dev.to_le_bytes());
            body.extend_from_slice(&st.ino.to_le_bytes());
            body.extend_from_slice(&st.size.to_le_bytes());
            body.extend_from_slice(&st.mtime_s.to_le_bytes());
            body.extend_from_slice(&st.mtime_ns.to_le_bytes());
            body.extend_from_slice(&st.ctime_s.to_le_bytes());
            body.extend_from_slice(&st.ctime_ns.to_le_bytes());
        }
        drop(map);
        let sum = blake3::hash(&body);
        body.extend_from_slice(sum.as_bytes());
        let path = self.root.join(VERIFIED_FILE);
        let tmp = self
            .root
            .join(format!(".tmp-verified-{}", std::process::id()));
        fs::write(&tmp, &body).map_err(|source| CacheError::WriteEntry {
            path: tmp.clone(),
            source,
        })?;
        fs::rename(&tmp, &path).map_err(|source| CacheError::Rename {
            from: tmp,
            to: path,
            source,
        })
    }

    /// Removes a blob found corrupt (whatever is in its place) and drops it
    /// from the verified set. Best effort: a blob that cannot be removed is
    /// found corrupt again next time.
    fn discard_blob(&self, digest: &Digest) {
        self.verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(digest);
        let _ = fsio::remove_if_exists(&self.blob_path(digest));
    }

    /// Writes CACHEDIR.TAG (https://bford.info/cachedir/) if it is missing.
    fn write_tag(&self) -> Result<(), CacheError> {
        let path = self.root.join("CACHEDIR.TAG");
        if path.exists() {
            return Ok(());
        }
        let mut f = AtomicFile::create(&path, WriteKind::File)?;
        f.write_all(
            b"Signature: 8a477f597d28d172789f06886806bc55\n# This is gob's build cache.\n",
        )?;
        f.commit(0o444, true)
    }
}

/// Reads an entry file: `None` if it does not exist; its bytes and metadata.
/// An oversized file is returned truncated (it then fails its checksum).
fn read_entry_file(path: &Path) -> Result<Option<(Vec<u8>, fs::Metadata)>, CacheError> {
    let read_err = |source| CacheError::ReadEntry {
        path: path.to_path_buf(),
        source,
    };
    let (f, meta) = match fsio::open_regular(path).map_err(read_err)? {
        Opened::File(f, m) => (f, m),
        Opened::Missing => return Ok(None),
        // Decodes as corrupt, and is removed.
        Opened::NotRegular(_) => {
            return Ok(Some((
                Vec::new(),
                fs::symlink_metadata(path).map_err(read_err)?,
            )))
        }
    };
    let mut bytes = Vec::with_capacity(meta.len().min(MAX_ENTRY_SIZE) as usize);
    f.take(MAX_ENTRY_SIZE)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    Ok(Some((bytes, meta)))
}

/// Whether a temporary file is old enough that no live writer owns it.
fn is_stale_temp(meta: &fs::Metadata) -> bool {
    meta.modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .is_some_and(|age| age > fsio::STALE_TEMP_AGE)
}

/// Calls `f(path, name, metadata)` for every file in the shard directories of
/// `top` (`top/xx/name`), and for stray files directly in `top`. Files that
/// vanish while listing (a concurrent user) are skipped.
fn for_each_file(
    top: &Path,
    f: &mut dyn FnMut(&Path, &OsStr, &fs::Metadata) -> Result<(), CacheError>,
) -> Result<(), CacheError> {
    let list = |dir: &Path| -> Result<Vec<(PathBuf, OsString, fs::Metadata)>, CacheError> {
        let rd = match fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(CacheError::ReadDir {
                    path: dir.to_path_buf(),
                    source,
                })
            }
        };
        let mut out = Vec::new();
        for ent in rd {
            let ent = ent.map_err(|source| CacheError::ReadDir {
                path: dir.to_path_buf(),
                source,
            })?;
            let path = ent.path();
            match fs::symlink_metadata(&path) {
                Ok(m) => out.push((path, ent.file_name(), m)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(CacheError::Stat { path, source }),
            }
        }
        Ok(out)
    };
    for (path, name, meta) in list(top)? {
        if meta.is_dir() {
            for (p, n, m) in list(&path)? {
                if !m.is_dir() {
                    f(&p, &n, &m)?;
                }
            }
        } else {
            f(&path, &name, &meta)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| *v)
    }

    #[test]
    fn cache_default_dir_precedence() {
        let all = [("GOBCACHE", "/g"), ("XDG_CACHE_HOME", "/x"), ("HOME", "/h")];
        assert_eq!(
            Cache::default_dir(env(&all)).ok(),
            Some(PathBuf::from("/g"))
        );
        let xdg = [("GOBCACHE", ""), ("XDG_CACHE_HOME", "/x"), ("HOME", "/h")];
        assert_eq!(
            Cache::default_dir(env(&xdg)).ok(),
            Some(PathBuf::from("/x/gob"))
        );
        let rel_xdg = [("XDG_CACHE_HOME", "rel"), ("HOME", "/h")];
        assert_eq!(
            Cache::default_dir(env(&rel_xdg)).ok(),
            Some(PathBuf::from("/h/.cache/gob"))
        );
        let rel = [("GOBCACHE", "rel"), ("HOME", "/h")];
        assert!(matches!(
            Cache::default_dir(env(&rel)),
            Err(CacheError::RelativeDir { .. })
        ));
        let none: [(&str, &str); 1] = [("HOME", "")];
        let err = Cache::default_dir(env(&none)).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("cannot locate the build cache: none of $GOBCACHE, $XDG_CACHE_HOME, $HOME is set to an absolute path")
        );
    }

    #[test]
    fn cache_verified_set_holds_only_settled_blobs() {
        let dir = std::env::temp_dir().join(format!("gob-cache-unit-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let run = || -> Result<(), CacheError> {
            let cache = Cache::open(&dir.join("c"))?;
            let src = dir.join("src");
            fs::write(&src, b"some output").map_err(|source| CacheError::WriteFile {
                path: src.clone(),
                source,
            })?;
            let k = ActionKeyBuilder::new(Digest::of_bytes(b"t")).finish();
            let e = cache.put(&k, Mode::Full, &[("o", &src)], b"")?;
            let d = e.outputs[0].digest;
            let recorded = || {
                cache
                    .verified
                    .lock()
                    .map(|v| v.get(&d).copied())
                    .unwrap_or(None)
            };
            assert_eq!(cache.get(&k, Mode::Full)?, Lookup::Hit(e.clone()));
            assert_eq!(recorded(), None, "a just-written blob is racy");
            std::thread::sleep(RACY_WINDOW + Duration::from_millis(300));
            assert_eq!(cache.get(&k, Mode::Full)?, Lookup::Hit(e.clone()));
            let stamp = FileStamp::of(&fs::metadata(cache.blob_path(&d)).map_err(|source| {
                CacheError::Stat {
                    path: cache.blob_path(&d),
                    source,
                }
            })?);
            assert_eq!(recorded(), Some(stamp));
            // The shortcut trusts exactly that stamp: a different one forces a re-hash.
            let mut other = stamp;
            other.ctime_ns ^= 1;
            cache.verified.lock().map(|mut v| v.insert(d, other)).ok();
            assert_eq!(cache.get(&k, Mode::Full)?, Lookup::Hit(e));
            assert_eq!(recorded(), Some(stamp));
            Ok(())
        };
        let res = run();
        let _ = fs::remove_dir_all(&dir);
        if let Err(e) = res {
            panic!("{e}");
        }
    }
}
