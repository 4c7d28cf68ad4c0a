//! The mount namespace: the plan of binds built in the parent, applied in the child.
//!
//! A scaffold tmpfs is mounted on an existing host dir and pivoted into, so
//! the whole host tree sits at `/oldroot` (nothing hidden by the scaffold).
//! The new root is a second fresh tmpfs, at `/newroot`, holding only mount
//! points. Every declared
//! input is bound at its inside path, every output dir too, plus `/dev/null`,
//! `/dev/zero` and `/dev/urandom` from the host. After `pivot_root` the old
//! root is detached, then ONE recursive `mount_setattr` makes the whole tree
//! read-only, nosuid and nodev; the output mounts get their write bit back
//! (non-recursively, so inputs bound beneath an output stay read-only), the
//! device binds their dev bit, and a private size-limited tmpfs goes on
//! `/tmp`. Per input the child makes two calls (a mount point, a bind): the
//! per-file remounts a naive design needs are replaced by the one recursive
//! `mount_setattr`.
//!
//! The child never creates anything on a host file system: mount points are
//! made in the tmpfs before the first bind. An entry beneath another entry
//! (an input inside an output dir, say) is bound onto the path that already
//! exists there on the host, or fails with the bind's step and ENOENT.

use std::collections::{HashMap, HashSet};
use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::child::{Failure, Step, Tracker};
use crate::kernel::{Errno, Kernel};
use crate::policy::{Checked, Kind};

/// MOUNT_ATTR_RDONLY.
pub(crate) const ATTR_RDONLY: u64 = 0x1;
/// MOUNT_ATTR_NOSUID.
pub(crate) const ATTR_NOSUID: u64 = 0x2;
/// MOUNT_ATTR_NODEV.
pub(crate) const ATTR_NODEV: u64 = 0x4;

/// The device nodes bound from the host, at the same path inside.
pub(crate) const DEV_NODES: [&str; 3] = ["/dev/null", "/dev/zero", "/dev/urandom"];

/// Inside paths the sandbox itself provides; policies may not bind there.
pub(crate) const RESERVED: [&str; 3] = ["/tmp", "/dev", "/proc"];

/// One bind mount.
pub(crate) struct BindStep {
    /// Host path, beneath `/oldroot`, with its symlinks resolved.
    pub source: CString,
    /// The host path as the policy named it, when resolving changed it (for errors).
    pub link: Option<PathBuf>,
    /// Path relative to the new root (before pivot_root).
    pub target: CString,
}

/// The mount sequence for one run.
pub(crate) struct MountPlan {
    /// An existing host directory the scaffold tmpfs is mounted on.
    pub base: CString,
    /// Options of the new root's tmpfs.
    pub root_opts: CString,
    /// Directories to create in the root tmpfs (relative), parents first.
    pub mkdirs: Vec<CString>,
    /// Empty files to create in the root tmpfs (relative): file mount points.
    pub mknods: Vec<CString>,
    /// Binds, parents before children.
    pub binds: Vec<BindStep>,
    /// Mount procfs at /proc (opt-in).
    pub proc_: bool,
    /// Output mounts (absolute inside paths) made writable again.
    pub outputs: Vec<CString>,
    /// Device binds (absolute inside paths) given back their dev bit.
    pub devs: Vec<CString>,
    /// Options of the /tmp tmpfs.
    pub tmp_opts: CString,
}

/// Bytes of a path as a C string (validated: no NUL).
pub(crate) fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap_or_default()
}

/// Where a host path is seen during setup: beneath `/oldroot`.
fn old_root(host: &Path) -> CString {
    let mut b = b"/oldroot".to_vec();
    b.extend_from_slice(host.as_os_str().as_bytes());
    CString::new(b).unwrap_or_default()
}

/// The host path of a bind source (for error messages).
pub(crate) fn host_of(source: &CString) -> &Path {
    let b = source.as_bytes();
    Path::new(OsStr::from_bytes(b.strip_prefix(b"/oldroot").unwrap_or(b)))
}

/// Resolves host paths' symlinks, in the parent, before they are bound.
///
/// A bind's source is read beneath `/oldroot` once the scaffold is the root,
/// where an absolute symlink (a GOROOT that is `/usr/lib/go`, a home under
/// `/home -> /data/home`) would resolve against the scaffold and vanish. So
/// every source is resolved on the host first: the parent directory once per
/// directory (cached), the last component only when it is itself a link.
/// A path that cannot be resolved is kept as written; its bind then fails
/// and names it.
#[derive(Default)]
struct Resolver {
    /// Canonical form of each parent directory seen (None: not resolvable).
    dirs: HashMap<PathBuf, Option<PathBuf>>,
}

impl Resolver {
    /// `host` with every symlink resolved, or as given when that fails.
    fn resolve(&mut self, host: &Path) -> PathBuf {
        let is_link = std::fs::symlink_metadata(host).is_ok_and(|m| m.file_type().is_symlink());
        if is_link {
            return std::fs::canonicalize(host).unwrap_or_else(|_| host.to_path_buf());
        }
        let (Some(parent), Some(name)) = (host.parent(), host.file_name()) else {
            return host.to_path_buf();
        };
        let dir = self
            .dirs
            .entry(parent.to_path_buf())
            .or_insert_with(|| std::fs::canonicalize(parent).ok());
        match dir {
            Some(d) => d.join(name),
            None => host.to_path_buf(),
        }
    }
}

/// A path relative to the new root: `/a/b` becomes `a/b`.
fn rel(inside: &Path) -> &Path {
    inside.strip_prefix("/").unwrap_or(inside)
}

/// What an entry of the plan is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Input,
    Output,
}

impl MountPlan {
    /// Builds the plan for a checked policy. O(n log n) in the number of
    /// entries, all in the parent.
    pub(crate) fn build(
        c: &Checked<'_>,
        base: &Path,
        with_proc: bool,
        tmp_bytes: u64,
    ) -> MountPlan {
        let p = c.policy;
        let mut entries: Vec<(&Path, &Path, Kind, Role)> =
            Vec::with_capacity(p.inputs.len() + p.outputs.len());
        for ((b, &k), g) in p.inputs.iter().zip(&c.input_kinds).zip(&c.member_of) {
            if g.is_none() {
                entries.push((&b.inside, &b.host, k, Role::Input));
            }
        }
        for g in &c.groups {
            entries.push((&g.inside, &g.host, Kind::Dir, Role::Input));
        }
        for b in &p.outputs {
            entries.push((&b.inside, &b.host, Kind::Dir, Role::Output));
        }
        // Tree order: every ancestor before its descendants.
        entries.sort_unstable_by(|a, b| crate::policy::tree_cmp(a.0, b.0));

        let mut plan = MountPlan {
            base: cstr(base),
            root_opts: c"mode=0755,size=64k".to_owned(),
            mkdirs: Vec::new(),
            mknods: Vec::new(),
            binds: Vec::with_capacity(entries.len() + DEV_NODES.len()),
            proc_: with_proc,
            outputs: Vec::new(),
            devs: Vec::new(),
            tmp_opts: CString::new(format!("mode=1777,size={tmp_bytes}")).unwrap_or_default(),
        };
        let mut made: HashSet<&Path> = HashSet::new();
        let mut resolver = Resolver::default();
        // Ancestors of the current entry that are themselves bound dirs.
        let mut stack: Vec<&Path> = Vec::new();
        for &(inside, host, kind, role) in &entries {
            while let Some(top) = stack.last() {
                if crate::policy::is_within(inside, top) {
                    break;
                }
                stack.pop();
            }
            if stack.is_empty() {
                // In the root tmpfs: create the parents, then the mount point.
                add_parents(&mut plan.mkdirs, &mut made, inside);
                match kind {
                    Kind::Dir => {
                        if made.insert(inside) {
                            plan.mkdirs.push(cstr(rel(inside)));
                        }
                    }
                    Kind::File => plan.mknods.push(cstr(rel(inside))),
                }
            }
            let real = resolver.resolve(host);
            plan.binds.push(BindStep {
                source: old_root(&real),
                link: (real != host).then(|| host.to_path_buf()),
                target: cstr(rel(inside)),
            });
            if role == Role::Output {
                plan.outputs.push(cstr(inside));
            }
            if kind == Kind::Dir {
                stack.push(inside);
            }
        }
        for dir in ["tmp", "dev"] {
            plan.mkdirs.push(CString::new(dir).unwrap_or_default());
        }
        if with_proc {
            plan.mkdirs.push(c"proc".to_owned());
        }
        for dev in DEV_NODES {
            let inside = Path::new(dev);
            plan.mknods.push(cstr(rel(inside)));
            plan.binds.push(BindStep {
                source: old_root(inside),
                link: None,
                target: cstr(rel(inside)),
            });
            plan.devs.push(cstr(inside));
        }
        plan
    }

    /// The inside path of bind `i` (for error messages).
    pub(crate) fn bind_inside(&self, i: usize) -> PathBuf {
        self.binds.get(i).map_or_else(PathBuf::new, |b| {
            Path::new("/").join(Path::new(OsStr::from_bytes(b.target.as_bytes())))
        })
    }
}

/// Adds the missing ancestors of `inside` (not `/`, not itself) to `mkdirs`,
/// outermost first.
fn add_parents<'a>(mkdirs: &mut Vec<CString>, made: &mut HashSet<&'a Path>, inside: &'a Path) {
    let mut missing: Vec<&Path> = Vec::new();
    let mut cur = inside.parent();
    while let Some(dir) = cur {
        if dir == Path::new("/") || made.contains(dir) {
            break;
        }
        missing.push(dir);
        cur = dir.parent();
    }
    for dir in missing.into_iter().rev() {
        made.insert(dir);
        mkdirs.push(cstr(rel(dir)));
    }
}

/// MS_* flags (u64 for the Kernel trait).
const MS_BIND: u64 = libc::MS_BIND;
const MS_REC: u64 = libc::MS_REC;
const MS_PRIVATE: u64 = libc::MS_PRIVATE;
const MS_NOSUID: u64 = libc::MS_NOSUID;
const MS_NODEV: u64 = libc::MS_NODEV;
const MS_NOEXEC: u64 = libc::MS_NOEXEC;

/// Ignores EEXIST (a mount point made twice is fine).
fn exist_ok(r: Result<(), Errno>) -> Result<(), Errno> {
    match r {
        Err(Errno(libc::EEXIST)) => Ok(()),
        r => r,
    }
}

/// Applies the plan in the child (see the module doc for the order).
pub(crate) fn apply<K: Kernel>(k: &mut K, t: &Tracker<'_>, m: &MountPlan) -> Result<(), Failure> {
    // Nothing we do may propagate back to the host's mount namespace.
    t.run(Step::MountPrivate, 0, || {
        k.mount(None, c"/", None, MS_REC | MS_PRIVATE, None)
    })?;
    // A scaffold tmpfs on `base`, then pivot into it: the host tree moves to
    // /oldroot whole (including what was beneath `base`, which the scaffold
    // no longer covers), and binds take their sources from there.
    t.run(Step::MountScaffold, 0, || {
        k.mount(
            Some(c"tmpfs"),
            &m.base,
            Some(c"tmpfs"),
            MS_NOSUID | MS_NODEV,
            Some(c"mode=0755,size=16k"),
        )
    })?;
    t.run(Step::ChdirScaffold, 0, || k.chdir(&m.base))?;
    t.run(Step::PivotScaffold, 0, || {
        exist_ok(k.mkdir(c"oldroot", 0o755))
    })?;
    t.run(Step::PivotScaffold, 0, || {
        exist_ok(k.mkdir(c"newroot", 0o755))
    })?;
    t.run(Step::PivotScaffold, 0, || k.pivot_root(c".", c"oldroot"))?;
    // The new root: only mount points, read-only once built.
    t.run(Step::MountRootTmpfs, 0, || {
        k.mount(
            Some(c"tmpfs"),
            c"/newroot",
            Some(c"tmpfs"),
            MS_NOSUID | MS_NODEV,
            Some(&m.root_opts),
        )
    })?;
    t.run(Step::ChdirNewRoot, 0, || k.chdir(c"/newroot"))?;
    for (i, d) in m.mkdirs.iter().enumerate() {
        t.run(Step::Mkdir, i, || exist_ok(k.mkdir(d, 0o755)))?;
    }
    for (i, f) in m.mknods.iter().enumerate() {
        t.run(Step::Mknod, i, || exist_ok(k.mknod_file(f, 0o644)))?;
    }
    for (i, b) in m.binds.iter().enumerate() {
        t.run(Step::Bind, i, || {
            k.mount(Some(&b.source), &b.target, None, MS_BIND | MS_REC, None)
        })?;
    }
    if m.proc_ {
        // Before pivot_root: the kernel wants a fully visible procfs in this
        // mount namespace to allow a new one.
        t.run(Step::MountProc, 0, || {
            k.mount(
                Some(c"proc"),
                c"proc",
                Some(c"proc"),
                MS_NOSUID | MS_NODEV | MS_NOEXEC,
                None,
            )
        })?;
    }
    // The new root over the scaffold, which (with the host tree) is detached.
    t.run(Step::PivotRoot, 0, || k.pivot_root(c".", c"."))?;
    t.run(Step::DetachOldRoot, 0, || k.umount2(c".", libc::MNT_DETACH))?;
    t.run(Step::ChdirRoot, 0, || k.chdir(c"/"))?;
    t.run(Step::RemountReadOnly, 0, || {
        k.mount_setattr(c"/", true, ATTR_RDONLY | ATTR_NOSUID | ATTR_NODEV, 0)
    })?;
    for (i, o) in m.outputs.iter().enumerate() {
        t.run(Step::OutputWritable, i, || {
            k.mount_setattr(o, false, 0, ATTR_RDONLY)
        })?;
    }
    for (i, d) in m.devs.iter().enumerate() {
        t.run(Step::DevNode, i, || {
            k.mount_setattr(d, false, 0, ATTR_NODEV)
        })?;
    }
    t.run(Step::MountTmp, 0, || {
        k.mount(
            Some(c"tmpfs"),
            c"/tmp",
            Some(c"tmpfs"),
            MS_NOSUID | MS_NODEV,
            Some(&m.tmp_opts),
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins: an absolute link anywhere in a host path (a symlinked GOROOT, a
    /// file that is itself a link) is resolved before it is read beneath
    /// `/oldroot`; an unresolvable path is kept as written.
    #[test]
    fn resolver_follows_links_in_the_parent_and_the_last_component() {
        let d = std::env::temp_dir().join(format!("gob-resolver-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("real/sub")).unwrap();
        std::fs::write(d.join("real/sub/f"), "x").unwrap();
        let real = std::fs::canonicalize(d.join("real")).unwrap();
        std::os::unix::fs::symlink(&real, d.join("link")).unwrap();
        std::os::unix::fs::symlink(real.join("sub/f"), d.join("real/flink")).unwrap();
        let mut r = Resolver::default();
        assert_eq!(r.resolve(&d.join("link/sub/f")), real.join("sub/f"));
        assert_eq!(r.resolve(&d.join("link/flink")), real.join("sub/f"));
        assert_eq!(r.resolve(&real.join("sub/f")), real.join("sub/f"));
        let missing = Path::new("/nonexistent-gob-dir/x");
        assert_eq!(r.resolve(missing), missing);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
