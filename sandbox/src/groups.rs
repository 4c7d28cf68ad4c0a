//! Coalescing: a host directory whose every entry is a declared input file is bound once.
//!
//! Binding 10,000 files costs 10,000 mount points and 10,000 bind mounts
//! (about 5 µs each); when the declared files are exactly the entries of one
//! host directory, seen under the same names in one inside directory,
//! binding that directory shows the command the very same tree for one
//! mount. Landlock mode likewise adds one rule instead of one per file.
//!
//! Found with one `readdir` per candidate directory (declared files sharing a
//! host parent and an inside parent, at least [`MIN_GROUP`] of them), which
//! also yields every member's kind without a `stat` each. A directory with
//! anything undeclared (another file, a subdirectory, a symlink) is not
//! coalesced. The one weakness: an entry created in that host directory
//! after the readdir becomes visible to the command. Inputs are the build's
//! own immutable files, and in the namespace modes no action can write to
//! another's inputs while it runs, so the window is not reachable by the
//! attacker of the threat model.

use std::collections::{HashMap, HashSet};
use std::ffi::{CString, OsStr};
use std::hash::{BuildHasher, RandomState};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::policy::Kind;
use crate::Policy;

/// Smallest group worth a readdir.
pub(crate) const MIN_GROUP: usize = 8;

/// A host directory bound (or ruled) as a whole.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Group {
    /// The host directory.
    pub host: PathBuf,
    /// Where it is seen inside (modes with a mount namespace).
    pub inside: PathBuf,
}

/// What coalescing learnt: each input's kind (where a readdir told it) and
/// the groups.
pub(crate) struct Found {
    /// `Some(File)` for members of groups (no stat needed).
    pub kinds: Vec<Option<Kind>>,
    /// The exact groups.
    pub groups: Vec<Group>,
    /// For each input, the index of its group, if coalesced.
    pub member_of: Vec<Option<usize>>,
}

/// Splits a path at its last `/`: (parent, name). None for `/`, a trailing
/// slash, `.` or `..`, or no slash at all.
fn split(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = b.iter().rposition(|&c| c == b'/')?;
    let (parent, name) = (&b[..i], &b[i + 1..]);
    if name.is_empty() || name == b"." || name == b".." {
        return None;
    }
    Some((if parent.is_empty() { b"/" } else { parent }, name))
}

/// The candidate key of an input: (host parent, inside parent, name).
fn key<'a>(
    host: &'a Path,
    inside: &'a Path,
    remap: bool,
) -> Option<(&'a [u8], &'a [u8], &'a [u8])> {
    let (hp, name) = split(host.as_os_str().as_bytes())?;
    if !remap {
        return Some((hp, b"", name));
    }
    let (ip, iname) = split(inside.as_os_str().as_bytes())?;
    // Same name inside; never a directory bound over the root.
    if iname != name || ip == b"/" {
        return None;
    }
    Some((hp, ip, name))
}

/// Whether `names` are distinct and exactly the entries of `dir`.
fn exactly_list(dir: &[u8], names: &[&[u8]]) -> bool {
    let set: HashSet<&[u8]> = names.iter().copied().collect();
    set.len() == names.len() && exactly(dir, &set)
}

/// Whether the entries of `dir` are exactly `names`, all regular files. One
/// `getdents64` pass over a 64 KiB buffer, no allocation per entry.
fn exactly(dir: &[u8], names: &HashSet<&[u8]>) -> bool {
    let Ok(path) = CString::new(dir) else {
        return false;
    };
    // SAFETY: a valid C string; the fd is closed below.
    let fd = unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return false;
    }
    let mut buf = vec![0u8; 64 << 10];
    let mut seen = 0usize;
    let ok = 'read: loop {
        // SAFETY: reading into our buffer.
        let n = unsafe { libc::syscall(libc::SYS_getdents64, fd, buf.as_mut_ptr(), buf.len()) };
        if n < 0 {
            break 'read false;
        }
        if n == 0 {
            break 'read seen == names.len();
        }
        let mut off = 0usize;
        while off + 19 <= n as usize {
            // struct linux_dirent64: ino u64, off i64, reclen u16, type u8, name.
            let reclen = u16::from_ne_bytes([buf[off + 16], buf[off + 17]]) as usize;
            let d_type = buf[off + 18];
            let rec = &buf[off + 19..(off + reclen).min(n as usize)];
            let name = &rec[..rec.iter().position(|&c| c == 0).unwrap_or(rec.len())];
            off += reclen.max(1);
            if name == b"." || name == b".." {
                continue;
            }
            if d_type != libc::DT_REG || !names.contains(name) {
                break 'read false;
            }
            seen += 1;
        }
    };
    // SAFETY: our fd.
    unsafe { libc::close(fd) };
    ok
}

/// Directories found exact before, so that a run need not list 10,000
/// entries again (ext4 builds a hash-ordered tree on every readdir).
///
/// An entry is keyed by the directory's device and inode and remembers its
/// ctime and mtime, and the number and a keyed hash of the member names it
/// was verified with. It is trusted only when the directory's ctime was at
/// least [`SETTLED`] old when it was listed: any later entry change moves the
/// ctime past it even with coarse file system timestamps (git's "racy clean"
/// rule).
pub(crate) struct DirCache {
    entries: Mutex<HashMap<(u64, u64), Verified>>,
    hasher: RandomState,
}

/// One verified directory.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Verified {
    ctime: (i64, i64),
    mtime: (i64, i64),
    count: usize,
    names: u64,
}

/// How old a directory's ctime must be for its listing to be cached.
const SETTLED: Duration = Duration::from_secs(2);

/// Bound on cached directories (cleared when reached).
const CACHE_LIMIT: usize = 4096;

impl DirCache {
    pub(crate) fn new() -> DirCache {
        DirCache {
            entries: Mutex::new(HashMap::new()),
            hasher: RandomState::new(),
        }
    }

    /// An order-independent hash of a list of names (a multiset: a
    /// duplicate changes it).
    fn names_hash(&self, names: &[&[u8]]) -> u64 {
        names
            .iter()
            .fold(0u64, |acc, n| acc.wrapping_add(self.hasher.hash_one(n)))
    }

    /// Whether `dir` holds exactly `names` (distinct), from the cache or a
    /// listing. A cache hit costs one stat and one hash per name.
    fn exactly(&self, dir: &[u8], names: &[&[u8]]) -> bool {
        let Ok(m) = std::fs::metadata(OsStr::from_bytes(dir)) else {
            return false;
        };
        let key = (m.dev(), m.ino());
        let v = Verified {
            ctime: (m.ctime(), m.ctime_nsec()),
            mtime: (m.mtime(), m.mtime_nsec()),
            count: names.len(),
            names: self.names_hash(names),
        };
        let hit = self.entries.lock().is_ok_and(|e| e.get(&key) == Some(&v));
        if hit {
            return true;
        }
        let listed_at = SystemTime::now();
        let exact = exactly_list(dir, names);
        let changed = UNIX_EPOCH
            + Duration::new(
                v.ctime.0.max(0) as u64,
                v.ctime.1.clamp(0, 999_999_999) as u32,
            );
        let settled = listed_at
            .duration_since(changed)
            .is_ok_and(|age| age >= SETTLED);
        if exact && settled {
            if let Ok(mut e) = self.entries.lock() {
                if e.len() >= CACHE_LIMIT {
                    e.clear();
                }
                e.insert(key, v);
            }
        }
        exact
    }
}

/// Finds the groups of `policy`'s inputs (`remap`: namespace modes).
pub(crate) fn find(policy: &Policy, remap: bool, cache: Option<&DirCache>) -> Found {
    let n = policy.inputs.len();
    let mut found = Found {
        kinds: vec![None; n],
        groups: Vec::new(),
        member_of: vec![None; n],
    };
    if n < MIN_GROUP {
        return found;
    }
    // Candidates: inputs sharing a host parent and an inside parent. Inputs
    // usually come in runs from one directory, so the previous key is tried
    // before the map.
    type Key<'a> = (&'a [u8], &'a [u8]);
    let mut index: HashMap<Key<'_>, usize> = HashMap::new();
    type Members<'a> = Vec<(usize, &'a [u8])>;
    let mut candidates: Vec<(Key<'_>, Members<'_>)> = Vec::new();
    let mut last: Option<(Key<'_>, usize)> = None;
    for (i, b) in policy.inputs.iter().enumerate() {
        let Some((hp, ip, name)) = key(&b.host, &b.inside, remap) else {
            continue;
        };
        let k = (hp, ip);
        let c = match last {
            Some((lk, c)) if lk == k => c,
            _ => *index.entry(k).or_insert_with(|| {
                candidates.push((k, Vec::new()));
                candidates.len() - 1
            }),
        };
        last = Some((k, c));
        candidates[c].1.push((i, name));
    }
    let mut exact: Vec<(Key<'_>, Vec<usize>)> = Vec::new();
    for (k, members) in candidates {
        if members.len() < MIN_GROUP {
            continue;
        }
        let names: Vec<&[u8]> = members.iter().map(|&(_, name)| name).collect();
        let exact_dir = match cache {
            Some(c) => c.exactly(k.0, &names),
            None => exactly_list(k.0, &names),
        };
        if exact_dir {
            exact.push((k, members.into_iter().map(|(i, _)| i).collect()));
        }
    }
    if exact.is_empty() {
        return found;
    }
    // Inside, the group's directory must hold nothing but its members.
    if remap {
        let by_dir: HashMap<&[u8], usize> = exact
            .iter()
            .enumerate()
            .map(|(g, ((_, ip), _))| (*ip, g))
            .collect();
        let mut member = vec![false; n];
        for (_, members) in &exact {
            for &i in members {
                member[i] = true;
            }
        }
        let mut spoiled = vec![false; exact.len()];
        let others = policy
            .inputs
            .iter()
            .enumerate()
            .filter(|&(i, _)| !member[i])
            .map(|(_, b)| b.inside.as_path())
            .chain(policy.outputs.iter().map(|b| b.inside.as_path()));
        // A member cannot lie beneath another group's directory: that
        // directory's host side would hold a subdirectory. Others can.
        for inside in others {
            for a in inside.ancestors() {
                if let Some(&g) = by_dir.get(a.as_os_str().as_bytes()) {
                    spoiled[g] = true;
                }
            }
        }
        exact = exact
            .into_iter()
            .enumerate()
            .filter(|(g, _)| !spoiled[*g])
            .map(|(_, e)| e)
            .collect();
    }
    for ((hp, ip), members) in exact {
        let g = found.groups.len();
        let path = |b: &[u8]| PathBuf::from(OsStr::from_bytes(b));
        found.groups.push(Group {
            host: path(hp),
            inside: path(ip),
        });
        for i in members {
            found.member_of[i] = Some(g);
            found.kinds[i] = Some(Kind::File);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Bind, Limits};

    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    fn dir(name: &str, files: usize) -> Dir {
        let d =
            std::env::temp_dir().join(format!("gob-sandbox-groups-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        for i in 0..files {
            std::fs::write(d.join(format!("f{i}")), "").unwrap();
        }
        Dir(d)
    }
    fn policy(d: &Path, files: usize, inside: &str) -> Policy {
        Policy {
            program: "/bin/x".into(),
            args: vec![],
            env: vec![],
            cwd: "/".into(),
            inputs: (0..files)
                .map(|i| Bind {
                    host: d.join(format!("f{i}")),
                    inside: PathBuf::from(format!("{inside}/f{i}")),
                })
                .collect(),
            outputs: vec![],
            limits: Limits::default(),
            hostname: "h".into(),
        }
    }

    #[test]
    fn a_fully_declared_dir_is_one_group() {
        let d = dir("full", 20);
        let p = policy(&d.0, 20, "/in");
        let f = find(&p, true, None);
        assert_eq!(
            f.groups,
            vec![Group {
                host: d.0.clone(),
                inside: "/in".into()
            }]
        );
        assert!(f.member_of.iter().all(|g| *g == Some(0)));
        assert!(f.kinds.iter().all(|k| *k == Some(Kind::File)));
        // Landlock mode: host paths only.
        assert_eq!(find(&p, false, None).groups.len(), 1);
    }

    #[test]
    fn anything_undeclared_prevents_grouping() {
        let d = dir("partial", 20);
        // One file not declared.
        let p = policy(&d.0, 19, "/in");
        let f = find(&p, true, None);
        assert!(f.groups.is_empty());
        assert!(
            f.kinds[..19].iter().all(|k| *k == Some(Kind::File))
                || f.kinds.iter().all(Option::is_none)
        );
        // A subdirectory.
        let d2 = dir("subdir", 20);
        std::fs::create_dir(d2.0.join("sub")).unwrap();
        assert!(find(&policy(&d2.0, 20, "/in"), true, None)
            .groups
            .is_empty());
        // A renamed member.
        let mut p = policy(&d.0, 20, "/in");
        p.inputs.push(Bind {
            host: d.0.join("f19"),
            inside: "/other".into(),
        });
        p.inputs[3].inside = "/in/renamed".into();
        assert!(find(&p, true, None).groups.is_empty());
    }

    #[test]
    fn other_entries_beneath_the_dir_prevent_grouping() {
        let d = dir("beneath", 20);
        let mut p = policy(&d.0, 20, "/in");
        p.outputs.push(Bind {
            host: d.0.clone(),
            inside: "/in/out".into(),
        });
        assert!(find(&p, true, None).groups.is_empty());
        let mut p = policy(&d.0, 20, "/in");
        p.inputs.push(Bind {
            host: d.0.join("f1"),
            inside: "/in/f1/x".into(),
        });
        assert!(find(&p, true, None).groups.is_empty());
        // Top level: never bound over the root.
        assert!(find(&policy(&d.0, 20, ""), true, None).groups.is_empty());
    }

    #[test]
    fn the_cache_trusts_only_settled_directories() {
        let d = dir("cache", 20);
        let p = policy(&d.0, 20, "/in");
        let cache = DirCache::new();
        assert_eq!(find(&p, true, Some(&cache)).groups.len(), 1);
        // Just created: not settled, not cached.
        assert!(cache.entries.lock().unwrap().is_empty());
        // Once settled (as an old module cache dir is), it is cached.
        std::thread::sleep(SETTLED + Duration::from_millis(100));
        assert_eq!(find(&p, true, Some(&cache)).groups.len(), 1);
        assert_eq!(cache.entries.lock().unwrap().len(), 1);
        assert_eq!(find(&p, true, Some(&cache)).groups.len(), 1);
        // A new entry changes the ctime: listed again, no longer exact.
        std::fs::write(d.0.join("new"), "").unwrap();
        assert!(find(&p, true, Some(&cache)).groups.is_empty());
        // Other declared names: a different verdict key.
        std::fs::remove_file(d.0.join("new")).unwrap();
        let fewer = policy(&d.0, 19, "/in");
        assert!(find(&fewer, true, Some(&cache)).groups.is_empty());
    }

    #[test]
    fn small_sets_are_left_alone() {
        let d = dir("small", MIN_GROUP - 1);
        assert!(find(&policy(&d.0, MIN_GROUP - 1, "/in"), true, None)
            .groups
            .is_empty());
    }
}
