//! The kernel interface the child's setup sequence is written against.
//!
//! [`crate::child`] calls only these methods, in order, between clone and
//! execve. The real implementation ([`crate::sys::RawKernel`]) makes one raw
//! system call per method; tests use a recording fake to check the order.

use std::ffi::CStr;

/// An errno value from a failed system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Errno(pub i32);

impl Errno {
    /// The error as an `std::io::Error` (for the parent).
    pub(crate) fn io(self) -> std::io::Error {
        std::io::Error::from_raw_os_error(self.0)
    }
}

/// `struct sock_fprog`: a classic BPF program for seccomp(2).
#[repr(C)]
pub(crate) struct SockFprog {
    /// Number of instructions.
    pub len: u16,
    /// The instructions.
    pub filter: *const libc::sock_filter,
}

/// The system calls the child makes before execve. Every method is one call.
///
/// Implementations used in the child must not allocate, lock or touch errno.
pub(crate) trait Kernel {
    /// prctl(option, arg, 0, 0, 0).
    fn prctl(&mut self, option: i32, arg: u64) -> Result<(), Errno>;
    /// read(2).
    fn read(&mut self, fd: i32, buf: &mut [u8]) -> Result<usize, Errno>;
    /// write(2).
    fn write(&mut self, fd: i32, buf: &[u8]) -> Result<usize, Errno>;
    /// poll(fd, POLLIN, timeout 0): whether `fd` is readable now.
    fn readable(&mut self, fd: i32) -> Result<bool, Errno>;
    /// close(2).
    fn close(&mut self, fd: i32) -> Result<(), Errno>;
    /// rt_sigaction(sig, SIG_DFL).
    fn sigaction_default(&mut self, sig: i32) -> Result<(), Errno>;
    /// rt_sigprocmask(SIG_SETMASK, {}).
    fn sigprocmask_unblock_all(&mut self) -> Result<(), Errno>;
    /// setsid(2).
    fn setsid(&mut self) -> Result<(), Errno>;
    /// dup3(old, new, 0), or clearing FD_CLOEXEC when old == new.
    fn dup2(&mut self, old: i32, new: i32) -> Result<(), Errno>;
    /// mount(2).
    fn mount(
        &mut self,
        source: Option<&CStr>,
        target: &CStr,
        fstype: Option<&CStr>,
        flags: u64,
        data: Option<&CStr>,
    ) -> Result<(), Errno>;
    /// mkdir(2).
    fn mkdir(&mut self, path: &CStr, mode: u32) -> Result<(), Errno>;
    /// mknod(path, S_IFREG|mode): an empty file to bind a file over.
    fn mknod_file(&mut self, path: &CStr, mode: u32) -> Result<(), Errno>;
    /// chdir(2).
    fn chdir(&mut self, path: &CStr) -> Result<(), Errno>;
    /// umask(2) (it cannot fail).
    fn umask(&mut self, mask: u32);
    /// pivot_root(2).
    fn pivot_root(&mut self, new_root: &CStr, put_old: &CStr) -> Result<(), Errno>;
    /// umount2(2).
    fn umount2(&mut self, target: &CStr, flags: i32) -> Result<(), Errno>;
    /// mount_setattr(2) on one mount, or the tree beneath it (AT_RECURSIVE).
    fn mount_setattr(
        &mut self,
        path: &CStr,
        recursive: bool,
        set: u64,
        clear: u64,
    ) -> Result<(), Errno>;
    /// sethostname(2).
    fn sethostname(&mut self, name: &[u8]) -> Result<(), Errno>;
    /// setgroups(0, NULL).
    fn setgroups_empty(&mut self) -> Result<(), Errno>;
    /// setresgid(gid, gid, gid).
    fn setresgid(&mut self, gid: u32) -> Result<(), Errno>;
    /// setresuid(uid, uid, uid).
    fn setresuid(&mut self, uid: u32) -> Result<(), Errno>;
    /// capset with empty effective, permitted and inheritable sets.
    fn capset_zero(&mut self) -> Result<(), Errno>;
    /// prlimit64(0, resource, {limit, limit}).
    fn prlimit(&mut self, resource: i32, limit: u64) -> Result<(), Errno>;
    /// open(path, O_PATH|O_CLOEXEC).
    fn open_path(&mut self, path: &CStr) -> Result<i32, Errno>;
    /// landlock_add_rule(ruleset, LANDLOCK_RULE_PATH_BENEATH, {access, parent}).
    fn landlock_add_rule(&mut self, ruleset: i32, parent: i32, access: u64) -> Result<(), Errno>;
    /// landlock_restrict_self(ruleset, 0).
    fn landlock_restrict_self(&mut self, ruleset: i32) -> Result<(), Errno>;
    /// seccomp(SECCOMP_SET_MODE_FILTER, 0, prog).
    fn seccomp_set_filter(&mut self, prog: &SockFprog) -> Result<(), Errno>;
    /// close_range(first, ~0, CLOSE_RANGE_CLOEXEC).
    fn close_range_cloexec(&mut self, first: u32) -> Result<(), Errno>;
    /// nanosleep(2) for `nanos` nanoseconds (an interrupted sleep just ends early).
    fn nanosleep(&mut self, nanos: u64);
    /// execve(2); returns only on failure.
    fn execve(
        &mut self,
        path: &CStr,
        argv: *const *const libc::c_char,
        envp: *const *const libc::c_char,
    ) -> Errno;
    /// exit_group(2).
    fn exit(&mut self, code: i32) -> !;
}
