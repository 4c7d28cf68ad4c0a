//! The no-op memo: a whole build remembered by the stat stamps of everything it depended on.
//!
//! After a successful build, gob records (under the cache directory) the stamp
//! (device, inode, size, mtime, ctime; or "absent") of every path whose change
//! could change the load, the plan or an action's inputs:
//!
//! - every directory and file in each local module tree (main modules and local
//!   replacements), walked whole: a file added, removed or edited anywhere in
//!   them changes a recorded stamp;
//! - go.mod, go.work, go.sum and go.work.sum in the working directory and in
//!   each ancestor, present or absent (module and workspace discovery);
//! - the directory and every file of each standard-library package built, and
//!   every embedded file (and its directory) of any package;
//! - the root directory and `.ziphash` of each module-cache module used;
//! - GOROOT's VERSION and the tool binaries.
//!
//! A later build with the same configuration (the key: gob's version, the
//! arguments and the resolved configuration) whose recorded stamps all still
//! match installs the remembered outputs and runs nothing. Assumed immutable
//! beyond the above, as cmd/go's module index assumes for a release GOROOT and
//! for the module cache: the rest of GOROOT and of module-cache modules. No memo
//! is written when any recorded stamp is within the racy window (a file changed
//! in the same timestamp tick could be missed).

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::cache::{Cache, Digest};
use crate::load::PackageGraph;

/// A recorded stamp; `None` means the path did not exist.
type Stamp = Option<(u64, u64, u64, i64, i64, i64, i64)>;

fn stamp(p: &Path) -> Stamp {
    fs::symlink_metadata(p).ok().map(|m| {
        (
            m.dev(),
            m.ino(),
            m.size(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
        )
    })
}

/// One output to install on a memo hit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoOutput {
    /// Where it goes.
    pub dest: PathBuf,
    /// Its content.
    pub digest: Digest,
    /// Its size.
    pub size: u64,
}

/// A remembered build.
#[derive(Debug, PartialEq, Eq)]
pub struct Memo {
    /// Paths and their stamps at the time of the build.
    pub deps: Vec<(PathBuf, Stamp)>,
    /// Binaries written.
    pub outputs: Vec<MemoOutput>,
    /// Number of actions the build had (for -v).
    pub actions: usize,
}

fn walk_tree(dir: &Path, out: &mut BTreeSet<PathBuf>) {
    out.insert(dir.to_path_buf());
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => walk_tree(&p, out),
            _ => {
                out.insert(p);
            }
        }
    }
}

/// The set of paths a build of `g` depends on (see the module doc).
pub fn dependency_paths(
    g: &PackageGraph,
    cwd: &Path,
    goroot: &Path,
    tool_dir: &Path,
) -> BTreeSet<PathBuf> {
    let mut set = BTreeSet::new();
    // Module and workspace discovery looks for these files in the working
    // directory and every ancestor: each path is recorded, present or absent.
    // (Not the ancestors themselves: /tmp or $HOME change all the time.)
    let mut d = Some(cwd);
    while let Some(dir) = d {
        for f in ["go.mod", "go.work", "go.sum", "go.work.sum"] {
            set.insert(dir.join(f));
        }
        d = dir.parent();
    }
    set.insert(goroot.join("VERSION"));
    for t in ["compile", "asm", "link", "preprofile"] {
        set.insert(tool_dir.join(t));
    }
    let mut local_roots = BTreeSet::new();
    for id in g.post_order(&g.roots) {
        let p = g.pkg(id);
        // Embedded files may sit in subdirectories the per-directory records miss.
        for f in &p.embed_files {
            let path = p.dir.join(f);
            if let Some(parent) = path.parent() {
                set.insert(parent.to_path_buf());
            }
            set.insert(path);
        }
        if p.standard {
            set.insert(p.dir.clone());
            if let Ok(rd) = fs::read_dir(&p.dir) {
                for e in rd.flatten() {
                    set.insert(e.path());
                }
            }
        } else if let Some(m) = &p.module {
            let cached =
                !m.version.is_empty() && m.replace.as_ref().is_none_or(|r| !r.version.is_empty());
            if cached && !m.main {
                set.insert(m.dir.clone());
            } else {
                local_roots.insert(m.dir.clone());
            }
        } else {
            local_roots.insert(p.dir.clone());
        }
    }
    for r in local_roots {
        walk_tree(&r, &mut set);
    }
    set
}

fn encode(m: &Memo) -> Vec<u8> {
    let mut s = String::from("gob memo v1\n");
    s.push_str(&format!("actions {}\n", m.actions));
    for o in &m.outputs {
        s.push_str(&format!(
            "out {} {} {}\n",
            o.digest,
            o.size,
            hex(o.dest.to_string_lossy().as_bytes())
        ));
    }
    for (p, st) in &m.deps {
        let st = match st {
            None => "-".to_string(),
            Some((a, b, c, d, e, f, g)) => format!("{a}:{b}:{c}:{d}:{e}:{f}:{g}"),
        };
        s.push_str(&format!(
            "dep {st} {}\n",
            hex(p.to_string_lossy().as_bytes())
        ));
    }
    let sum = Digest::of_bytes(s.as_bytes());
    s.push_str(&format!("sum {sum}\n"));
    s.into_bytes()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn decode(data: &[u8]) -> Option<Memo> {
    let text = std::str::from_utf8(data).ok()?;
    let (body, sum_line) = text.trim_end_matches('\n').rsplit_once('\n')?;
    let body = format!("{body}\n");
    let want = sum_line.strip_prefix("sum ")?;
    if Digest::of_bytes(body.as_bytes()).to_string() != want {
        return None;
    }
    let mut lines = body.lines();
    if lines.next()? != "gob memo v1" {
        return None;
    }
    let actions: usize = lines.next()?.strip_prefix("actions ")?.parse().ok()?;
    let mut m = Memo {
        deps: Vec::new(),
        outputs: Vec::new(),
        actions,
    };
    use std::os::unix::ffi::OsStringExt;
    let path = |h: &str| -> Option<PathBuf> {
        Some(PathBuf::from(std::ffi::OsString::from_vec(unhex(h)?)))
    };
    for l in lines {
        let mut f = l.split(' ');
        match f.next()? {
            "out" => {
                let digest = Digest::from_hex(f.next()?)?;
                let size = f.next()?.parse().ok()?;
                let dest = path(f.next()?)?;
                m.outputs.push(MemoOutput { dest, digest, size });
            }
            "dep" => {
                let st = f.next()?;
                let st: Stamp = if st == "-" {
                    None
                } else {
                    let v: Vec<i64> = st
                        .split(':')
                        .map(|x| x.parse().ok())
                        .collect::<Option<_>>()?;
                    if v.len() != 7 {
                        return None;
                    }
                    Some((
                        v[0] as u64,
                        v[1] as u64,
                        v[2] as u64,
                        v[3],
                        v[4],
                        v[5],
                        v[6],
                    ))
                };
                m.deps.push((path(f.next()?)?, st));
            }
            _ => return None,
        }
    }
    Some(m)
}

fn memo_path(cache: &Cache, key: &Digest) -> PathBuf {
    cache.dir().join("memo").join(key.to_string())
}

/// Records a memo unless a stamp is racy (see the module doc). Best effort;
/// returns why nothing was recorded.
pub fn save(
    cache: &Cache,
    key: &Digest,
    paths: &BTreeSet<PathBuf>,
    outputs: Vec<MemoOutput>,
    actions: usize,
    started: std::time::SystemTime,
) -> Result<(), String> {
    let limit = started
        .checked_sub(crate::cache::RACY_WINDOW)
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0);
    let mut deps = Vec::with_capacity(paths.len());
    for p in paths {
        let st = stamp(p);
        if let Some((_, _, _, ms, mns, cs, cns)) = st {
            let ns = |s: i64, n: i64| s as i128 * 1_000_000_000 + n as i128;
            if ns(ms, mns) >= limit || ns(cs, cns) >= limit {
                return Err(format!("{} changed within the racy window", p.display()));
            }
        }
        deps.push((p.clone(), st));
    }
    let m = Memo {
        deps,
        outputs,
        actions,
    };
    let dir = cache.dir().join("memo");
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let final_path = memo_path(cache, key);
    let tmp = dir.join(format!(".tmp-{}-{}", std::process::id(), key));
    fs::write(&tmp, encode(&m)).map_err(|e| format!("{}: {e}", tmp.display()))?;
    fs::rename(&tmp, &final_path).map_err(|e| format!("{}: {e}", final_path.display()))
}

/// The memo for `key`, if every recorded stamp still matches and every output's blob exists.
pub fn lookup(cache: &Cache, key: &Digest) -> Option<Memo> {
    let data = fs::read(memo_path(cache, key)).ok()?;
    let m = decode(&data)?;
    for (p, st) in &m.deps {
        if stamp(p) != *st {
            return None;
        }
    }
    for o in &m.outputs {
        if fs::metadata(cache.blob_path(&o.digest))
            .map(|md| md.len())
            .ok()
            != Some(o.size)
        {
            return None;
        }
    }
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_and_detects_damage() {
        let m = Memo {
            deps: vec![
                (PathBuf::from("/a b/c"), Some((1, 2, 3, 4, 5, 6, 7))),
                (PathBuf::from("/x"), None),
            ],
            outputs: vec![MemoOutput {
                dest: PathBuf::from("/o/bin"),
                digest: Digest::of_bytes(b"x"),
                size: 1,
            }],
            actions: 9,
        };
        let e = encode(&m);
        assert_eq!(decode(&e), Some(m));
        let mut bad = e.clone();
        bad[20] ^= 1;
        assert_eq!(decode(&bad), None);
    }
}
