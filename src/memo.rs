//! The no-op memo: a whole build remembered by the stat stamps of everything it depended on.
//!
//! After a successful build, gob records (under the cache directory) the stamp
//! (device, inode, size, mtime, ctime; or "absent") of every path whose change
//! could change the load, the plan or an action's inputs. A path that is a
//! symlink is stamped twice: the link itself and what it resolves to, since
//! the loader and the tools read through links (a package directory that is a
//! symlink, a symlinked .go file). The paths are, by construction:
//!
//! - every path the load read, listed or looked at, present or absent, as it
//!   spelled it (`PackageGraph::reads`: the loader reaches the file system
//!   only through `load::files::Files`, which records each path before
//!   touching it): go.mod/go.work discovery, the go.work `GOWORK` names
//!   wherever it is, each go.mod, go.sum and vendor/modules.txt, every
//!   directory a pattern walked (also below a symlinked directory), every
//!   package directory and the files whose headers it read, import
//!   resolution's probes, embed globs, the module cache's files;
//! - every host file an action reads (the plan's declared inputs: sources,
//!   `.syso` files, assembly headers, embedded files, profiles);
//! - GOROOT's VERSION and the tool binaries.
//!
//! A directory's stamp changes when an entry is added, removed or renamed, so
//! a file added to a directory the load listed is seen without stamping
//! absent names. Files outside GOROOT and the module cache are also recorded
//! with their content digest: one whose stamp changed but whose content did
//! not (`touch`) still matches, and the memo is then recorded again with the
//! fresh stamps.
//! A later build with the same configuration (the key: gob's version, the
//! arguments and the resolved configuration, which holds every variable the
//! load and the plan use: GOOS, GOARCH, GO$GOARCH, GOEXPERIMENT, GOFLAGS'
//! flags, GOWORK, GOMODCACHE…) whose recorded stamps all still
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
use crate::plan::{ActionGraph, InputSource};

/// The stat fields a stamp compares: device, inode, size, mtime, ctime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta([i64; 7]);

impl Meta {
    fn of(m: &fs::Metadata) -> Meta {
        Meta([
            m.dev() as i64,
            m.ino() as i64,
            m.size() as i64,
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
        ])
    }

    /// The later of mtime and ctime, in nanoseconds.
    fn changed_ns(&self) -> i128 {
        let ns = |s: i64, n: i64| s as i128 * 1_000_000_000 + n as i128;
        ns(self.0[3], self.0[4]).max(ns(self.0[5], self.0[6]))
    }
}

/// A recorded stamp: `None` means the path did not exist. Otherwise the
/// path's own (lstat) fields and, when it is a symlink, those of what it
/// resolves to (`None`: dangling): the loader and the tools read through
/// links, so an edit of a link's target must change the stamp.
pub type Stamp = Option<(Meta, Option<Option<Meta>>)>;

fn stamp(p: &Path) -> Stamp {
    let m = fs::symlink_metadata(p).ok()?;
    let target = m
        .file_type()
        .is_symlink()
        .then(|| fs::metadata(p).ok().map(|t| Meta::of(&t)));
    Some((Meta::of(&m), target))
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
    /// Paths, their stamps at the time of the build and, for files outside
    /// GOROOT, the digest of their content: a file whose stamp changed but
    /// whose content did not (`touch`, a checkout rewriting it) still matches.
    pub deps: Vec<(PathBuf, Stamp, Option<Digest>)>,
    /// Binaries written.
    pub outputs: Vec<MemoOutput>,
    /// Number of actions the build had (for -v).
    pub actions: usize,
}

/// The set of paths a build depends on (see the module doc): what the load
/// read (`g.reads`), every host file an action of `ag` reads, GOROOT's
/// VERSION and the tools in `tool_dir`.
pub fn dependency_paths(
    g: &PackageGraph,
    ag: &ActionGraph,
    goroot: &Path,
    tool_dir: &Path,
) -> BTreeSet<PathBuf> {
    let mut set = g.reads.clone();
    set.insert(goroot.join("VERSION"));
    for t in ["compile", "asm", "link", "preprofile", "cover"] {
        set.insert(tool_dir.join(t));
    }
    for a in &ag.actions {
        for i in &a.inputs {
            if let InputSource::Host(p) = &i.source {
                set.insert(p.clone());
            }
        }
    }
    set
}

fn encode(m: &Memo) -> Vec<u8> {
    let mut s = String::from("gob memo v2\n");
    s.push_str(&format!("actions {}\n", m.actions));
    for o in &m.outputs {
        s.push_str(&format!(
            "out {} {} {}\n",
            o.digest,
            o.size,
            hex(o.dest.to_string_lossy().as_bytes())
        ));
    }
    let meta = |m: &Meta| {
        m.0.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(":")
    };
    for (p, st, digest) in &m.deps {
        let st = match st {
            None => "-".to_string(),
            Some((own, None)) => meta(own),
            Some((own, Some(None))) => format!("{}>-", meta(own)),
            Some((own, Some(Some(t)))) => format!("{}>{}", meta(own), meta(t)),
        };
        s.push_str(&format!("dep {st} {}", hex(p.to_string_lossy().as_bytes())));
        if let Some(d) = digest {
            s.push_str(&format!(" {d}"));
        }
        s.push('\n');
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
    if lines.next()? != "gob memo v2" {
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
                let meta = |t: &str| -> Option<Meta> {
                    let v: Vec<i64> = t
                        .split(':')
                        .map(|x| x.parse().ok())
                        .collect::<Option<_>>()?;
                    Some(Meta(v.try_into().ok()?))
                };
                let st: Stamp = match st.split_once('>') {
                    _ if st == "-" => None,
                    None => Some((meta(st)?, None)),
                    Some((own, "-")) => Some((meta(own)?, Some(None))),
                    Some((own, t)) => Some((meta(own)?, Some(Some(meta(t)?)))),
                };
                let p = path(f.next()?)?;
                let digest = match f.next() {
                    Some(d) => Some(Digest::from_hex(d)?),
                    None => None,
                };
                m.deps.push((p, st, digest));
            }
            _ => return None,
        }
    }
    Some(m)
}

fn memo_path(cache: &Cache, key: &Digest) -> PathBuf {
    cache.dir().join("memo").join(key.to_string())
}

/// The content digest of a regular file (through links), streamed.
fn content_digest(p: &Path) -> Option<Digest> {
    let mut f = fs::File::open(p).ok()?;
    if !f.metadata().ok()?.is_file() {
        return None;
    }
    crate::cache::hash_reader(&mut f).ok().map(|(d, _)| d)
}

/// Records a memo unless a stamp is racy (see the module doc). Files outside
/// the `immutable` trees (GOROOT, the module cache) are recorded with their
/// content digest as well. Best effort; returns why nothing was recorded.
pub fn save(
    cache: &Cache,
    key: &Digest,
    paths: &BTreeSet<PathBuf>,
    immutable: &[&Path],
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
        if let Some((own, target)) = &st {
            let racy = |m: &Meta| m.changed_ns() >= limit;
            if racy(own) || target.flatten().as_ref().is_some_and(racy) {
                return Err(format!("{} changed within the racy window", p.display()));
            }
        }
        let hashed = !immutable.iter().any(|r| p.starts_with(r));
        let digest = if hashed && fs::metadata(p).is_ok_and(|m| m.is_file()) {
            let d = content_digest(p);
            // Hashed between two equal stamps: the digest is that content's.
            if d.is_none() || stamp(p) != st {
                return Err(format!("{} changed while it was hashed", p.display()));
            }
            d
        } else {
            None
        };
        deps.push((p.clone(), st, digest));
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

/// The memo for `key`, if every recorded path still matches and every
/// output's blob exists; and whether some file matched by its content only
/// (its stamp changed: the caller records the memo again with fresh stamps).
/// A path matches when its stamp is unchanged, or when it is a file recorded
/// with a digest, is still a regular file, and its content has that digest.
pub fn lookup(cache: &Cache, key: &Digest) -> Option<(Memo, bool)> {
    let data = fs::read(memo_path(cache, key)).ok()?;
    let m = decode(&data)?;
    // Thousands of stats (std's files alone are most of them): spread over the cores.
    use rayon::prelude::*;
    let restamped = std::sync::atomic::AtomicBool::new(false);
    let matches = m.deps.par_iter().all(|(p, st, digest)| {
        let now = stamp(p);
        if now == *st {
            return true;
        }
        let same = digest.is_some() && content_digest(p) == *digest;
        if same {
            restamped.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        same
    });
    if !matches {
        return None;
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
    Some((m, restamped.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_and_detects_damage() {
        let m = Memo {
            deps: vec![
                (
                    PathBuf::from("/a b/c"),
                    Some((Meta([1, 2, 3, 4, 5, 6, 7]), None)),
                    Some(Digest::of_bytes(b"c")),
                ),
                (
                    PathBuf::from("/l"),
                    Some((Meta([1, 2, 3, 4, 5, 6, 7]), Some(None))),
                    None,
                ),
                (
                    PathBuf::from("/m"),
                    Some((Meta([1, 2, 3, 4, 5, 6, 7]), Some(Some(Meta([8; 7]))))),
                    None,
                ),
                (PathBuf::from("/x"), None, None),
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
