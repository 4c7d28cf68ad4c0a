//! The stat cache: file digests remembered by (path, device, inode, size, mtime,
//! ctime), so a warm rebuild does not re-read unchanged sources.
//!
//! A remembered digest is used only while `stat` reports exactly the stamp it was
//! recorded with, and a stamp is recorded only when it was not racy: its mtime and
//! ctime lay more than [`RACY_WINDOW`](super::RACY_WINDOW) before the moment the
//! file was opened for hashing, and it did not change while the file was read. A
//! file edited moments before (or while) it was hashed is therefore hashed again
//! next time, even with the same size and timestamps; once it has aged it is
//! recorded. This is git's racy-git rule, with the window measured against the
//! hashing time instead of the index file's mtime.
//!
//! File format (`<cache>/stat-cache`, written atomically, little-endian):
//! `gob-stat-cache 1\n`, a u64 record count, records of (u32 path length, path
//! bytes, u64 dev, u64 ino, u64 size, i64 mtime s, u32 mtime ns, i64 ctime s,
//! u32 ctime ns, 32-byte digest, u32 day last used), then the BLAKE3 of all the
//! preceding bytes. A file that fails to parse is ignored (everything is hashed
//! again) and rewritten by the next `save`. Records unused for 30 days are dropped.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use super::digest::{hash_reader, Digest};
use super::error::CacheError;
use super::fsio::{AtomicFile, FileStamp, WriteKind};
use super::Cache;

/// The stat cache's file name in the cache directory.
pub(crate) const FILE_NAME: &str = "stat-cache";
const MAGIC: &[u8] = b"gob-stat-cache 1\n";
/// A larger file is not a stat cache gob wrote; it is ignored.
const MAX_FILE_SIZE: u64 = 1 << 30;
/// Records not used for this many days are dropped on save.
const KEEP_DAYS: u32 = 30;
/// Bytes in a record besides the path.
const RECORD_FIXED: usize = 4 + 8 * 3 + (8 + 4) * 2 + 32 + 4;

/// Counters of a [`DigestCache`] since it was loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DigestStats {
    /// Digests answered from remembered stat data, without reading the file.
    pub hits: u64,
    /// Files read and hashed.
    pub hashed: u64,
}

/// One remembered digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Record {
    /// The stat data the digest belongs to.
    stamp: FileStamp,
    /// The file's content digest.
    digest: Digest,
    /// Days since the epoch when the record was last used.
    used_day: u32,
}

/// What the lock guards.
#[derive(Debug, Default)]
struct State {
    /// Records by path as the caller named it.
    records: HashMap<PathBuf, Record>,
    /// Whether `records` differs from the file.
    dirty: bool,
}

/// File digests keyed by stat data, persisted in the cache directory. Safe to
/// share between threads. Pass absolute paths: a record is keyed by the path as
/// given (device and inode guard against a relative path meaning another file).
#[derive(Debug)]
pub struct DigestCache {
    /// The `stat-cache` file.
    file: PathBuf,
    /// Records and the dirty flag.
    state: Mutex<State>,
    /// See [`DigestStats::hits`].
    hits: AtomicU64,
    /// See [`DigestStats::hashed`].
    hashed: AtomicU64,
}

impl DigestCache {
    /// Loads the stat cache of `cache`. A missing or damaged file gives an empty
    /// cache; only an I/O error other than "not found" is an error.
    pub fn load(cache: &Cache) -> Result<DigestCache, CacheError> {
        let file = cache.dir().join(FILE_NAME);
        let mut state = State::default();
        match File::open(&file) {
            Ok(f) => {
                let mut bytes = Vec::new();
                f.take(MAX_FILE_SIZE)
                    .read_to_end(&mut bytes)
                    .map_err(|source| CacheError::ReadStatCache {
                        path: file.clone(),
                        source,
                    })?;
                match decode(&bytes) {
                    Some(records) => state.records = records,
                    None => state.dirty = true,
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(CacheError::ReadStatCache { path: file, source }),
        }
        Ok(DigestCache {
            file,
            state: Mutex::new(state),
            hits: AtomicU64::new(0),
            hashed: AtomicU64::new(0),
        })
    }

    /// The BLAKE3 digest of the regular file at `path`, from the remembered stat
    /// data when it still matches, else by reading the file.
    pub fn digest(&self, path: &Path) -> Result<Digest, CacheError> {
        self.digest_sized(path).map(|(d, _)| d)
    }

    /// [`DigestCache::digest`] and the size the digest is of.
    pub fn digest_sized(&self, path: &Path) -> Result<(Digest, u64), CacheError> {
        let err = |source| CacheError::ReadInput {
            path: path.to_path_buf(),
            source,
        };
        let meta = fs::metadata(path).map_err(err)?;
        if !meta.is_file() {
            return Err(err(io::Error::other("not a regular file")));
        }
        let day = today();
        {
            let mut st = self.lock();
            let State { records, dirty } = &mut *st;
            if let Some(r) = records.get_mut(path) {
                if r.stamp == FileStamp::of(&meta) {
                    if r.used_day != day {
                        r.used_day = day;
                        *dirty = true;
                    }
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    return Ok((r.digest, meta.len()));
                }
            }
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            // Taken before the file is opened: the racy rule compares against it.
            let t0 = SystemTime::now();
            let mut f = File::open(path).map_err(err)?;
            let before = FileStamp::of(&f.metadata().map_err(err)?);
            let (digest, n) = hash_reader(&mut f).map_err(err)?;
            self.hashed.fetch_add(1, Ordering::Relaxed);
            let after = FileStamp::of(&f.metadata().map_err(err)?);
            let stable = before == after && n == after.size;
            if stable || attempt == 3 {
                // A file that kept changing while it was read gets the digest of the
                // last read, which is never remembered.
                let mut st = self.lock();
                if stable && after.settled_before(t0) {
                    let rec = Record {
                        stamp: after,
                        digest,
                        used_day: day,
                    };
                    st.records.insert(path.to_path_buf(), rec);
                    st.dirty = true;
                } else if st.records.remove(path).is_some() {
                    st.dirty = true;
                }
                return Ok((digest, n));
            }
        }
    }

    /// Writes the records back (atomically) if anything changed since loading.
    pub fn save(&self) -> Result<(), CacheError> {
        let bytes = {
            let mut st = self.lock();
            if !st.dirty {
                return Ok(());
            }
            let cutoff = today().saturating_sub(KEEP_DAYS);
            st.records.retain(|_, r| r.used_day >= cutoff);
            st.dirty = false;
            encode(&st.records)
        };
        let res = AtomicFile::create(&self.file, WriteKind::File).and_then(|mut f| {
            f.write_all(&bytes)?;
            f.commit(0o600, true)
        });
        if res.is_err() {
            self.lock().dirty = true;
        }
        res
    }

    /// Counters since loading.
    pub fn stats(&self) -> DigestStats {
        DigestStats {
            hits: self.hits.load(Ordering::Relaxed),
            hashed: self.hashed.load(Ordering::Relaxed),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Days since the Unix epoch.
fn today() -> u32 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    u32::try_from(secs / 86_400).unwrap_or(u32::MAX)
}

fn encode(records: &HashMap<PathBuf, Record>) -> Vec<u8> {
    let mut sorted: Vec<(&PathBuf, &Record)> = records.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = Vec::with_capacity(MAGIC.len() + 8 + sorted.len() * (RECORD_FIXED + 64) + 32);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(sorted.len() as u64).to_le_bytes());
    for (path, r) in sorted {
        let p = path.as_os_str().as_bytes();
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        out.extend_from_slice(p);
        let s = &r.stamp;
        out.extend_from_slice(&s.dev.to_le_bytes());
        out.extend_from_slice(&s.ino.to_le_bytes());
        out.extend_from_slice(&s.size.to_le_bytes());
        out.extend_from_slice(&s.mtime_s.to_le_bytes());
        out.extend_from_slice(&s.mtime_ns.to_le_bytes());
        out.extend_from_slice(&s.ctime_s.to_le_bytes());
        out.extend_from_slice(&s.ctime_ns.to_le_bytes());
        out.extend_from_slice(r.digest.as_bytes());
        out.extend_from_slice(&r.used_day.to_le_bytes());
    }
    let sum = blake3::hash(&out);
    out.extend_from_slice(sum.as_bytes());
    out
}

/// Parses the file; `None` if it is not exactly what `encode` writes.
fn decode(bytes: &[u8]) -> Option<HashMap<PathBuf, Record>> {
    let body_len = bytes.len().checked_sub(32)?;
    let (body, sum) = bytes.split_at(body_len);
    if blake3::hash(body).as_bytes() != sum {
        return None;
    }
    let mut r = Reader {
        rest: body.strip_prefix(MAGIC)?,
    };
    let count = r.u64()?;
    let mut records = HashMap::new();
    for _ in 0..count {
        let len = r.u32()? as usize;
        let path = PathBuf::from(OsStr::from_bytes(r.take(len)?));
        let stamp = FileStamp {
            dev: r.u64()?,
            ino: r.u64()?,
            size: r.u64()?,
            mtime_s: r.u64()? as i64,
            mtime_ns: r.u32()?,
            ctime_s: r.u64()? as i64,
            ctime_ns: r.u32()?,
        };
        let digest = Digest::from_bytes(r.take(32)?.try_into().ok()?);
        let used_day = r.u32()?;
        records.insert(
            path,
            Record {
                stamp,
                digest,
                used_day,
            },
        );
    }
    r.rest.is_empty().then_some(records)
}

/// A bounds-checked little-endian reader.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.rest.len() < n {
            return None;
        }
        let (a, b) = self.rest.split_at(n);
        self.rest = b;
        Some(a)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records() -> HashMap<PathBuf, Record> {
        let mut m = HashMap::new();
        for (i, p) in ["/src/a.go", "/src/b.go", "/weird/\u{e9}\n name"]
            .iter()
            .enumerate()
        {
            m.insert(
                PathBuf::from(p),
                Record {
                    stamp: FileStamp {
                        dev: 1,
                        ino: 100 + i as u64,
                        size: 10 * i as u64,
                        mtime_s: -5 + i as i64,
                        mtime_ns: 999_999_999,
                        ctime_s: 1_700_000_000,
                        ctime_ns: i as u32,
                    },
                    digest: Digest::of_bytes(p.as_bytes()),
                    used_day: 20_000,
                },
            );
        }
        m
    }

    #[test]
    fn cache_stat_cache_file_round_trips() {
        let m = records();
        assert_eq!(decode(&encode(&m)), Some(m));
        let empty = HashMap::new();
        assert_eq!(decode(&encode(&empty)), Some(empty));
    }

    #[test]
    fn cache_stat_cache_damage_is_ignored() {
        let good = encode(&records());
        for i in (0..good.len()).step_by(7) {
            let mut bad = good.clone();
            bad[i] ^= 0x80;
            assert_eq!(decode(&bad), None, "flip at byte {i} not detected");
        }
        for n in 0..good.len() {
            assert_eq!(
                decode(&good[..n]),
                None,
                "truncation to {n} bytes not detected"
            );
        }
    }
}
