//! Raw system calls for the child between clone and execve: no libc, no errno.
//!
//! The child of `clone(CLONE_VM)` shares the parent's memory and its thread's
//! TLS, so it must not touch `errno` (another thread of ours may be reading
//! it), allocate, or take locks. These wrappers issue the `syscall`/`svc`
//! instruction directly and return the negated errno in the result.

use std::ffi::CStr;

use crate::kernel::{Errno, Kernel, SockFprog};

/// Issues system call `n` with six arguments; returns the raw result.
///
/// # Safety
/// The arguments must be valid for the system call.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn syscall6(
    n: i64,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> isize {
    let ret: isize;
    // SAFETY: the caller guarantees the arguments; rcx and r11 are clobbered by `syscall`.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") n as isize => ret,
            in("rdi") a1, in("rsi") a2, in("rdx") a3,
            in("r10") a4, in("r8") a5, in("r9") a6,
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// Issues system call `n` with six arguments; returns the raw result.
///
/// # Safety
/// The arguments must be valid for the system call.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
unsafe fn syscall6(
    n: i64,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> isize {
    let ret: isize;
    // SAFETY: the caller guarantees the arguments.
    unsafe {
        std::arch::asm!(
            "svc 0",
            in("x8") n,
            inlateout("x0") a1 as isize => ret,
            in("x1") a2, in("x2") a3, in("x3") a4, in("x4") a5, in("x5") a6,
            options(nostack),
        );
    }
    ret
}

/// Turns a raw result into `Ok(value)` or `Err(errno)`.
#[inline(always)]
fn check(ret: isize) -> Result<usize, Errno> {
    if (-4095..0).contains(&ret) {
        Err(Errno(-ret as i32))
    } else {
        Ok(ret as usize)
    }
}

/// A system call with up to six arguments (missing ones are zero).
macro_rules! sys {
    ($n:expr) => { sys!($n, 0, 0, 0, 0, 0, 0) };
    ($n:expr, $a:expr) => { sys!($n, $a, 0, 0, 0, 0, 0) };
    ($n:expr, $a:expr, $b:expr) => { sys!($n, $a, $b, 0, 0, 0, 0) };
    ($n:expr, $a:expr, $b:expr, $c:expr) => { sys!($n, $a, $b, $c, 0, 0, 0) };
    ($n:expr, $a:expr, $b:expr, $c:expr, $d:expr) => { sys!($n, $a, $b, $c, $d, 0, 0) };
    ($n:expr, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr) => { sys!($n, $a, $b, $c, $d, $e, 0) };
    ($n:expr, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr) => {
        // SAFETY: every call site passes pointers to live, prepared memory.
        check(unsafe {
            syscall6($n as i64, $a as usize, $b as usize, $c as usize, $d as usize, $e as usize, $f as usize)
        })
    };
}

/// Converts an optional C string to a pointer (NULL for None).
fn opt_ptr(s: Option<&CStr>) -> usize {
    s.map_or(0, |s| s.as_ptr() as usize)
}

/// `struct mount_attr` for mount_setattr(2).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// `struct landlock_path_beneath_attr` (packed in the UAPI).
#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// A kernel sigaction with the default disposition (all fields zero: SIG_DFL).
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: usize,
    mask: u64,
}

/// The real kernel, for the child: each method is one raw system call.
pub(crate) struct RawKernel;

impl Kernel for RawKernel {
    fn prctl(&mut self, option: i32, arg: u64) -> Result<(), Errno> {
        sys!(libc::SYS_prctl, option, arg).map(drop)
    }
    fn read(&mut self, fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
        sys!(libc::SYS_read, fd, buf.as_mut_ptr(), buf.len())
    }
    fn write(&mut self, fd: i32, buf: &[u8]) -> Result<usize, Errno> {
        sys!(libc::SYS_write, fd, buf.as_ptr(), buf.len())
    }
    fn readable(&mut self, fd: i32) -> Result<bool, Errno> {
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        sys!(libc::SYS_poll, &mut p as *mut libc::pollfd, 1, 0).map(|n| n > 0)
    }
    fn close(&mut self, fd: i32) -> Result<(), Errno> {
        sys!(libc::SYS_close, fd).map(drop)
    }
    fn sigaction_default(&mut self, sig: i32) -> Result<(), Errno> {
        let act = KernelSigaction {
            handler: 0,
            flags: 0,
            restorer: 0,
            mask: 0,
        };
        sys!(
            libc::SYS_rt_sigaction,
            sig,
            &act as *const KernelSigaction,
            0,
            8
        )
        .map(drop)
    }
    fn sigprocmask_unblock_all(&mut self) -> Result<(), Errno> {
        let empty: u64 = 0;
        sys!(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &empty as *const u64,
            0,
            8
        )
        .map(drop)
    }
    fn setsid(&mut self) -> Result<(), Errno> {
        sys!(libc::SYS_setsid).map(drop)
    }
    fn dup2(&mut self, old: i32, new: i32) -> Result<(), Errno> {
        if old == new {
            // dup3 refuses equal fds; clear close-on-exec instead.
            return sys!(libc::SYS_fcntl, new, libc::F_SETFD, 0).map(drop);
        }
        sys!(libc::SYS_dup3, old, new, 0).map(drop)
    }
    fn mount(
        &mut self,
        source: Option<&CStr>,
        target: &CStr,
        fstype: Option<&CStr>,
        flags: u64,
        data: Option<&CStr>,
    ) -> Result<(), Errno> {
        sys!(
            libc::SYS_mount,
            opt_ptr(source),
            target.as_ptr(),
            opt_ptr(fstype),
            flags,
            opt_ptr(data)
        )
        .map(drop)
    }
    fn mkdir(&mut self, path: &CStr, mode: u32) -> Result<(), Errno> {
        sys!(libc::SYS_mkdirat, libc::AT_FDCWD, path.as_ptr(), mode).map(drop)
    }
    fn mknod_file(&mut self, path: &CStr, mode: u32) -> Result<(), Errno> {
        sys!(
            libc::SYS_mknodat,
            libc::AT_FDCWD,
            path.as_ptr(),
            libc::S_IFREG | mode,
            0
        )
        .map(drop)
    }
    fn chdir(&mut self, path: &CStr) -> Result<(), Errno> {
        sys!(libc::SYS_chdir, path.as_ptr()).map(drop)
    }
    fn umask(&mut self, mask: u32) {
        let _ = sys!(libc::SYS_umask, mask);
    }
    fn pivot_root(&mut self, new_root: &CStr, put_old: &CStr) -> Result<(), Errno> {
        sys!(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()).map(drop)
    }
    fn umount2(&mut self, target: &CStr, flags: i32) -> Result<(), Errno> {
        sys!(libc::SYS_umount2, target.as_ptr(), flags).map(drop)
    }
    fn mount_setattr(
        &mut self,
        path: &CStr,
        recursive: bool,
        set: u64,
        clear: u64,
    ) -> Result<(), Errno> {
        let attr = MountAttr {
            attr_set: set,
            attr_clr: clear,
            propagation: 0,
            userns_fd: 0,
        };
        let flags = if recursive { libc::AT_RECURSIVE } else { 0 };
        sys!(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            path.as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>()
        )
        .map(drop)
    }
    fn sethostname(&mut self, name: &[u8]) -> Result<(), Errno> {
        sys!(libc::SYS_sethostname, name.as_ptr(), name.len()).map(drop)
    }
    fn setgroups_empty(&mut self) -> Result<(), Errno> {
        sys!(libc::SYS_setgroups, 0, 0).map(drop)
    }
    fn setresgid(&mut self, gid: u32) -> Result<(), Errno> {
        sys!(libc::SYS_setresgid, gid, gid, gid).map(drop)
    }
    fn setresuid(&mut self, uid: u32) -> Result<(), Errno> {
        sys!(libc::SYS_setresuid, uid, uid, uid).map(drop)
    }
    fn capset_zero(&mut self) -> Result<(), Errno> {
        // _LINUX_CAPABILITY_VERSION_3: a header and two data words, all zero.
        let header: [u32; 2] = [0x2008_0522, 0];
        let data: [u32; 6] = [0; 6];
        sys!(libc::SYS_capset, header.as_ptr(), data.as_ptr()).map(drop)
    }
    fn prlimit(&mut self, resource: i32, limit: u64) -> Result<(), Errno> {
        let lim: [u64; 2] = [limit, limit];
        sys!(libc::SYS_prlimit64, 0, resource, lim.as_ptr(), 0).map(drop)
    }
    fn open_path(&mut self, path: &CStr) -> Result<i32, Errno> {
        sys!(
            libc::SYS_openat,
            libc::AT_FDCWD,
            path.as_ptr(),
            libc::O_PATH | libc::O_CLOEXEC
        )
        .map(|fd| fd as i32)
    }
    fn landlock_add_rule(&mut self, ruleset: i32, parent: i32, access: u64) -> Result<(), Errno> {
        let attr = PathBeneathAttr {
            allowed_access: access,
            parent_fd: parent,
        };
        // LANDLOCK_RULE_PATH_BENEATH = 1
        sys!(
            libc::SYS_landlock_add_rule,
            ruleset,
            1,
            &attr as *const PathBeneathAttr,
            0
        )
        .map(drop)
    }
    fn landlock_restrict_self(&mut self, ruleset: i32) -> Result<(), Errno> {
        sys!(libc::SYS_landlock_restrict_self, ruleset, 0).map(drop)
    }
    fn seccomp_set_filter(&mut self, prog: &SockFprog) -> Result<(), Errno> {
        // SECCOMP_SET_MODE_FILTER = 1
        sys!(libc::SYS_seccomp, 1, 0, prog as *const SockFprog).map(drop)
    }
    fn close_range_cloexec(&mut self, first: u32) -> Result<(), Errno> {
        sys!(
            libc::SYS_close_range,
            first,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC
        )
        .map(drop)
    }
    fn nanosleep(&mut self, nanos: u64) {
        let t = libc::timespec {
            tv_sec: (nanos / 1_000_000_000) as libc::time_t,
            tv_nsec: (nanos % 1_000_000_000) as libc::c_long,
        };
        let _ = sys!(
            libc::SYS_nanosleep,
            &t as *const libc::timespec,
            std::ptr::null_mut::<libc::timespec>()
        );
    }
    fn execve(
        &mut self,
        path: &CStr,
        argv: *const *const libc::c_char,
        envp: *const *const libc::c_char,
    ) -> Errno {
        match sys!(libc::SYS_execve, path.as_ptr(), argv, envp) {
            Err(e) => e,
            Ok(_) => Errno(0),
        }
    }
    fn exit(&mut self, code: i32) -> ! {
        loop {
            let _ = sys!(libc::SYS_exit_group, code);
        }
    }
}

/// exit_group(2) for a child that has nothing else to do (the probe).
pub(crate) fn exit_group(code: i32) -> ! {
    RawKernel.exit(code)
}

/// mount(2) for the probe child.
pub(crate) fn mount(
    source: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: u64,
) -> Result<(), Errno> {
    RawKernel.mount(source, target, fstype, flags, None)
}
