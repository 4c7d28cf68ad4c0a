//! Walking a tree a command made: removing it, measuring it, taking the
//! danger out of its modes, handing it to another owner.
//!
//! A command can make a tree of any depth (a path far beyond `PATH_MAX`),
//! symlinks anywhere, directories it cannot read back. So the walk never
//! builds a path for a system call: every call is relative to an open
//! directory (`openat`, `fstatat`, `unlinkat`, `fchownat`, `fchmodat`), no
//! link is followed, and it holds two descriptors whatever the depth: it
//! climbs back through `..`, checked against the device and inode it came
//! down from (a tree moved under it is an error, never a walk elsewhere).
//! Memory is the names still to visit. Errors name a short form of the path.

use std::ffi::{CStr, CString, OsStr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A failure while walking, with a short path (at most a few components
/// from each end of a deep one).
#[derive(Debug, thiserror::Error)]
#[error("{what} {path}: {source}")]
pub struct TreeError {
    /// The operation (`remove`, `chmod`, `chown`, `open`…).
    pub what: &'static str,
    /// The short path.
    pub path: String,
    /// The OS error.
    pub source: std::io::Error,
}

/// What a walk does at each entry.
pub(crate) trait Visitor {
    /// A non-directory entry of the directory `dir`.
    fn file(&mut self, dir: RawFd, name: &CStr, st: &libc::stat) -> std::io::Result<()>;
    /// Whether to descend into the directory `name` of `dir` (`rel`: its path below the root).
    fn enter(&mut self, _rel: &Path, _st: &libc::stat) -> bool {
        true
    }
    /// A directory's entries are done; `fd` is the directory, `parent` holds
    /// it as `name` (`parent` is None for the root).
    fn leave(&mut self, parent: Option<(RawFd, &CStr)>, fd: RawFd) -> std::io::Result<()>;
    /// Whether to make a directory its owner can search and write when it
    /// cannot be opened or emptied (removal).
    fn force(&self) -> bool {
        false
    }
    /// The operation, for errors.
    fn what(&self) -> &'static str;
}

/// One directory on the way down.
struct Frame {
    /// Its descriptor (only the deepest frame holds one).
    fd: Option<OwnedFd>,
    /// Its (device, inode), to check `..` against on the way up.
    id: (u64, u64),
    /// Its name in its parent (empty for the root).
    name: CString,
    /// Entries still to visit.
    pending: Vec<CString>,
}

fn last_err() -> std::io::Error {
    std::io::Error::last_os_error()
}

fn fstat(fd: RawFd) -> std::io::Result<libc::stat> {
    // SAFETY: zeroed stat is valid; fd is open.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } < 0 {
        return Err(last_err());
    }
    Ok(st)
}

fn fstatat(dir: RawFd, name: &CStr) -> std::io::Result<libc::stat> {
    // SAFETY: as above, a NUL-terminated name.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstatat(dir, name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) } < 0 {
        return Err(last_err());
    }
    Ok(st)
}

fn open_dir_at(dir: RawFd, name: &CStr) -> std::io::Result<OwnedFd> {
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: a valid fd and a NUL-terminated name.
    let fd = unsafe { libc::openat(dir, name.as_ptr(), flags) };
    if fd < 0 {
        return Err(last_err());
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The names in a directory (not `.` and `..`).
fn list(fd: RawFd) -> std::io::Result<Vec<CString>> {
    // SAFETY: fdopendir takes over the duplicate; closedir closes it.
    let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if dup < 0 {
        return Err(last_err());
    }
    let d = unsafe { libc::fdopendir(dup) };
    if d.is_null() {
        let e = last_err();
        unsafe { libc::close(dup) };
        return Err(e);
    }
    unsafe { libc::rewinddir(d) };
    let mut names = Vec::new();
    loop {
        // SAFETY: d is an open DIR stream; the entry is copied before the next call.
        let e = unsafe { libc::readdir(d) };
        if e.is_null() {
            break;
        }
        let name = unsafe { CStr::from_ptr((*e).d_name.as_ptr()) };
        if name.to_bytes() != b"." && name.to_bytes() != b".." {
            names.push(name.to_owned());
        }
    }
    unsafe { libc::closedir(d) };
    Ok(names)
}

/// `root/a/b/c/…(N more)…/y/z`: enough to find it, short enough to read.
pub(crate) fn short_path(root: &Path, rel: &[&CStr]) -> String {
    let part = |c: &CStr| {
        OsStr::from_bytes(c.to_bytes())
            .to_string_lossy()
            .into_owned()
    };
    let mut s = root.display().to_string();
    let n = rel.len();
    for (i, c) in rel.iter().enumerate() {
        if n > 6 && i == 3 {
            s.push_str(&format!("/…({} more)…", n - 5));
        }
        if n > 6 && (3..n - 2).contains(&i) {
            continue;
        }
        s.push('/');
        s.push_str(&part(c));
    }
    s
}

/// Walks everything beneath `root` (a directory, not followed if a link),
/// then leaves `root` itself.
pub(crate) fn walk(root: &Path, v: &mut dyn Visitor) -> Result<(), TreeError> {
    let croot = CString::new(root.as_os_str().as_bytes()).map_err(|_| TreeError {
        what: "open",
        path: root.display().to_string(),
        source: std::io::Error::from_raw_os_error(libc::EINVAL),
    })?;
    let err = |what, stack: &[Frame], extra: Option<&CStr>, source| {
        let mut rel: Vec<&CStr> = stack.iter().skip(1).map(|f| f.name.as_c_str()).collect();
        rel.extend(extra);
        TreeError {
            what,
            path: short_path(root, &rel),
            source,
        }
    };
    let fd = open_dir_at(libc::AT_FDCWD, &croot).map_err(|e| err("open", &[], None, e))?;
    let st = fstat(fd.as_raw_fd()).map_err(|e| err("stat", &[], None, e))?;
    let pending = list(fd.as_raw_fd()).map_err(|e| err("list", &[], None, e))?;
    let mut stack = vec![Frame {
        fd: Some(fd),
        id: (st.st_dev, st.st_ino),
        name: CString::default(),
        pending,
    }];
    let mut rel = PathBuf::new();
    loop {
        let top = stack.len() - 1;
        let cur = stack[top].fd.as_ref().map_or(-1, |f| f.as_raw_fd());
        if let Some(name) = stack[top].pending.pop() {
            let st = match fstatat(cur, &name) {
                Ok(st) => st,
                // Gone meanwhile (a concurrent remover, a tool still running).
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
                Err(e) => return Err(err("stat", &stack, Some(&name), e)),
            };
            if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
                v.file(cur, &name, &st)
                    .map_err(|e| err(v.what(), &stack, Some(&name), e))?;
                continue;
            }
            let child_rel = rel.join(OsStr::from_bytes(name.to_bytes()));
            if !v.enter(&child_rel, &st) {
                continue;
            }
            let mut opened = open_dir_at(cur, &name);
            if v.force() && matches!(&opened, Err(e) if e.raw_os_error() == Some(libc::EACCES)) {
                // SAFETY: a valid fd and name; the mode of the entry itself.
                unsafe { libc::fchmodat(cur, name.as_ptr(), 0o700, libc::AT_SYMLINK_NOFOLLOW) };
                opened = open_dir_at(cur, &name);
            }
            let fd = match opened {
                Ok(fd) => fd,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
                Err(e) => return Err(err("open", &stack, Some(&name), e)),
            };
            let st = fstat(fd.as_raw_fd()).map_err(|e| err("stat", &stack, Some(&name), e))?;
            if v.force() && st.st_mode & 0o300 != 0o300 {
                // SAFETY: fchmod on our own descriptor.
                unsafe { libc::fchmod(fd.as_raw_fd(), (st.st_mode & 0o7777) | 0o700) };
            }
            let pending = list(fd.as_raw_fd()).map_err(|e| err("list", &stack, Some(&name), e))?;
            stack[top].fd = None;
            stack.push(Frame {
                fd: Some(fd),
                id: (st.st_dev, st.st_ino),
                name,
                pending,
            });
            rel = child_rel;
            continue;
        }
        // This directory is done: climb to its parent through `..`.
        let done = stack.pop().expect("a frame");
        let fd = done.fd.expect("the deepest frame holds its fd");
        if stack.is_empty() {
            return v
                .leave(None, fd.as_raw_fd())
                .map_err(|e| err(v.what(), &[], None, e));
        }
        let up = open_dir_at(fd.as_raw_fd(), c"..")
            .map_err(|e| err("open", &stack, Some(&done.name), e))?;
        let ust = fstat(up.as_raw_fd()).map_err(|e| err("stat", &stack, None, e))?;
        let parent = stack.last_mut().expect("a parent");
        if (ust.st_dev, ust.st_ino) != parent.id {
            return Err(err(
                "walk",
                &stack,
                Some(&done.name),
                std::io::Error::other("the tree was moved during the walk"),
            ));
        }
        v.leave(Some((up.as_raw_fd(), &done.name)), fd.as_raw_fd())
            .map_err(|e| err(v.what(), &stack, Some(&done.name), e))?;
        drop(fd);
        stack.last_mut().expect("a parent").fd = Some(up);
        rel.pop();
    }
}

/// Removal: every entry unlinked, each directory after its entries.
struct Remove;

impl Visitor for Remove {
    fn file(&mut self, dir: RawFd, name: &CStr, _: &libc::stat) -> std::io::Result<()> {
        unlink(dir, name, 0)
    }
    fn leave(&mut self, parent: Option<(RawFd, &CStr)>, _fd: RawFd) -> std::io::Result<()> {
        match parent {
            Some((p, name)) => unlink(p, name, libc::AT_REMOVEDIR),
            None => Ok(()),
        }
    }
    fn force(&self) -> bool {
        true
    }
    fn what(&self) -> &'static str {
        "remove"
    }
}

fn unlink(dir: RawFd, name: &CStr, flags: libc::c_int) -> std::io::Result<()> {
    // SAFETY: a valid fd and name.
    if unsafe { libc::unlinkat(dir, name.as_ptr(), flags) } < 0 {
        let e = last_err();
        if e.raw_os_error() != Some(libc::ENOENT) {
            return Err(e);
        }
    }
    Ok(())
}

/// Removes `path` and everything beneath it, at any depth, never following
/// a link (a link is removed, not what it names). A missing `path` is fine.
pub fn remove(path: &Path) -> Result<(), TreeError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Ok(m) if !m.is_dir() => {
            return std::fs::remove_file(path).map_err(|source| TreeError {
                what: "remove",
                path: path.display().to_string(),
                source,
            })
        }
        _ => {}
    }
    walk(path, &mut Remove)?;
    match std::fs::remove_dir(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(TreeError {
            what: "remove",
            path: path.display().to_string(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Apparent bytes: the sum of the sizes of the regular files.
struct Usage {
    bytes: u64,
    limit: u64,
    largest: (u64, Vec<u8>),
}

impl Visitor for Usage {
    fn file(&mut self, _: RawFd, name: &CStr, st: &libc::stat) -> std::io::Result<()> {
        if st.st_mode & libc::S_IFMT == libc::S_IFREG {
            let size = st.st_size as u64;
            self.bytes = self.bytes.saturating_add(size);
            if size > self.largest.0 {
                self.largest = (size, name.to_bytes().to_vec());
            }
        }
        if self.bytes > self.limit {
            // Enough is known: stop walking a huge tree.
            return Err(std::io::Error::from_raw_os_error(libc::EFBIG));
        }
        Ok(())
    }
    fn leave(&mut self, _: Option<(RawFd, &CStr)>, _: RawFd) -> std::io::Result<()> {
        Ok(())
    }
    fn what(&self) -> &'static str {
        "measure"
    }
}

/// Whether the regular files beneath `path` hold more than `limit` bytes at
/// their apparent sizes (a sparse file counts in full: copying it writes
/// every byte): `Ok(None)` when within, else the total seen (which passed
/// the limit) and the name of the largest file.
pub fn over_limit(path: &Path, limit: u64) -> Result<Option<(u64, String)>, TreeError> {
    let mut u = Usage {
        bytes: 0,
        limit,
        largest: (0, Vec::new()),
    };
    match walk(path, &mut u) {
        Ok(()) => Ok(None),
        Err(e) if e.source.raw_os_error() == Some(libc::EFBIG) && u.bytes > limit => Ok(Some((
            u.bytes,
            String::from_utf8_lossy(&u.largest.1).into_owned(),
        ))),
        Err(e) => Err(e),
    }
}

/// Mode bits a kept tree must not carry: set-user-id, set-group-id, sticky,
/// world-writable.
const UNSAFE_BITS: u32 = 0o7002;

/// Taking the unsafe bits off.
struct Normalize;

impl Visitor for Normalize {
    fn file(&mut self, dir: RawFd, name: &CStr, st: &libc::stat) -> std::io::Result<()> {
        let kind = st.st_mode & libc::S_IFMT;
        if kind == libc::S_IFLNK || st.st_mode & UNSAFE_BITS == 0 {
            return Ok(());
        }
        let mode = st.st_mode & 0o7777 & !UNSAFE_BITS;
        // SAFETY: a valid fd and name; the entry itself, never a link's target.
        if unsafe { libc::fchmodat(dir, name.as_ptr(), mode, libc::AT_SYMLINK_NOFOLLOW) } < 0 {
            let e = last_err();
            // Replaced by a link meanwhile: links have no mode.
            if e.raw_os_error() != Some(libc::EOPNOTSUPP) {
                return Err(e);
            }
        }
        Ok(())
    }
    fn leave(&mut self, _: Option<(RawFd, &CStr)>, fd: RawFd) -> std::io::Result<()> {
        let st = fstat(fd)?;
        if st.st_mode & UNSAFE_BITS != 0 {
            // SAFETY: fchmod on our own descriptor.
            if unsafe { libc::fchmod(fd, st.st_mode & 0o7777 & !UNSAFE_BITS) } < 0 {
                return Err(last_err());
            }
        }
        Ok(())
    }
    fn what(&self) -> &'static str {
        "chmod"
    }
}

/// Takes set-user-id, set-group-id, sticky and world-write bits off
/// everything beneath `path` and `path` itself (a tree kept for the user to
/// inspect must not be a way in for others). Links are left as they are.
pub fn normalize_modes(path: &Path) -> Result<(), TreeError> {
    walk(path, &mut Normalize)
}

/// Handing entries to another owner (see `run.rs`'s `Handover`).
pub(crate) struct Chown<'a> {
    /// Paths below the root never touched (nor descended into).
    pub keep: &'a dyn Fn(&Path) -> bool,
    /// Which entries change owner.
    pub select: &'a dyn Fn(&libc::stat) -> bool,
    /// The new owner.
    pub uid: u32,
    /// The new group.
    pub gid: u32,
    /// The path of the entry being visited, relative to the root.
    pub rel: PathBuf,
}

impl Visitor for Chown<'_> {
    fn file(&mut self, dir: RawFd, name: &CStr, st: &libc::stat) -> std::io::Result<()> {
        let rel = self.rel.join(OsStr::from_bytes(name.to_bytes()));
        if (self.keep)(&rel) || !(self.select)(st) {
            return Ok(());
        }
        // SAFETY: a valid fd and name; the entry itself, never a link's target.
        if unsafe {
            libc::fchownat(
                dir,
                name.as_ptr(),
                self.uid,
                self.gid,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        } < 0
        {
            return Err(last_err());
        }
        Ok(())
    }
    fn enter(&mut self, rel: &Path, _: &libc::stat) -> bool {
        if (self.keep)(rel) {
            return false;
        }
        self.rel = rel.to_path_buf();
        true
    }
    fn leave(&mut self, _: Option<(RawFd, &CStr)>, fd: RawFd) -> std::io::Result<()> {
        self.rel.pop();
        let st = fstat(fd)?;
        // SAFETY: fchown on our own descriptor.
        if (self.select)(&st) && unsafe { libc::fchown(fd, self.uid, self.gid) } < 0 {
            return Err(last_err());
        }
        Ok(())
    }
    fn what(&self) -> &'static str {
        "chown"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sbx-tree-{tag}-{}", std::process::id()));
        let _ = remove(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// A chain of `n` directories named `d` below `root`, made relative to
    /// open descriptors (the whole path is far beyond PATH_MAX).
    fn deep(root: &Path, n: usize) {
        let mut fd = open_dir_at(
            libc::AT_FDCWD,
            &CString::new(root.as_os_str().as_bytes()).unwrap(),
        )
        .unwrap();
        for _ in 0..n {
            // SAFETY: valid fd and name.
            assert_eq!(
                unsafe { libc::mkdirat(fd.as_raw_fd(), c"d".as_ptr(), 0o755) },
                0
            );
            fd = open_dir_at(fd.as_raw_fd(), c"d").unwrap();
        }
        let f = unsafe {
            libc::openat(
                fd.as_raw_fd(),
                c"leaf".as_ptr(),
                libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                0o644,
            )
        };
        assert!(f >= 0);
        unsafe { libc::close(f) };
    }

    #[test]
    fn removes_a_tree_deeper_than_path_max_with_two_descriptors() {
        let root = scratch("deep");
        deep(&root.join("x").tap_mkdir(), 2000);
        std::os::unix::fs::symlink("/etc", root.join("x/link")).unwrap();
        std::fs::create_dir(root.join("x/locked")).unwrap();
        std::fs::write(root.join("x/locked/f"), b"f").unwrap();
        std::fs::set_permissions(root.join("x/locked"), std::fs::Permissions::from_mode(0))
            .unwrap();
        assert!(over_limit(&root, 0).unwrap().is_some());
        remove(&root).unwrap();
        assert!(!root.exists());
        assert!(Path::new("/etc/passwd").exists(), "links are not followed");
    }

    #[test]
    fn measures_apparent_sizes_and_strips_unsafe_modes() {
        let root = scratch("usage");
        let f = std::fs::File::create(root.join("sparse")).unwrap();
        f.set_len(10 << 20).unwrap();
        assert_eq!(over_limit(&root, 20 << 20).unwrap(), None);
        let (n, largest) = over_limit(&root, 1 << 20).unwrap().unwrap();
        assert_eq!((n, largest.as_str()), (10 << 20, "sparse"));
        std::fs::create_dir(root.join("ww")).unwrap();
        std::fs::set_permissions(root.join("ww"), std::fs::Permissions::from_mode(0o2777)).unwrap();
        std::fs::write(root.join("ww/suid"), b"x").unwrap();
        std::fs::set_permissions(
            root.join("ww/suid"),
            std::fs::Permissions::from_mode(0o4777),
        )
        .unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o1777)).unwrap();
        normalize_modes(&root).unwrap();
        let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&root.join("ww")), 0o775);
        assert_eq!(mode(&root.join("ww/suid")), 0o775);
        assert_eq!(mode(&root), 0o775);
        remove(&root).unwrap();
    }

    #[test]
    fn short_paths_keep_both_ends() {
        let names: Vec<CString> = (0..2000)
            .map(|i| CString::new(format!("d{i}")).unwrap())
            .collect();
        let refs: Vec<&CStr> = names.iter().map(|c| c.as_c_str()).collect();
        let s = short_path(Path::new("/w/b012"), &refs);
        assert_eq!(s, "/w/b012/d0/d1/d2/…(1995 more)…/d1998/d1999");
        assert_eq!(short_path(Path::new("/w"), &refs[..2]), "/w/d0/d1");
    }

    trait TapMkdir {
        fn tap_mkdir(self) -> Self;
    }
    impl TapMkdir for PathBuf {
        fn tap_mkdir(self) -> Self {
            std::fs::create_dir_all(&self).unwrap();
            self
        }
    }
}
