//! Process creation: pipes, the child's stack, clone, id maps, and the go/error handshake.
//!
//! The caller is multi-threaded and may be large, so the child is created
//! with `clone(CLONE_VM)` on a separate stack, as posix_spawn does: no page
//! tables are copied. Unlike vfork the parent thread keeps running, because
//! it must write the child's uid/gid maps (only the parent may map the fixed
//! inside uid to `nobody` when it is root). The handshake:
//!
//! 1. the parent blocks every signal in its thread (so no handler of ours can
//!    run in the child on shared memory), clones, restores its mask;
//! 2. the parent writes `/proc/<pid>/{setgroups,uid_map,gid_map}`, moves
//!    the child into the run's cgroup (when there is one), then writes one
//!    byte on the go pipe; the child, which armed PR_SET_PDEATHSIG and closed
//!    its copy of the write end, reads it (EOF: the parent died);
//! 3. the parent reads the close-on-exec error pipe: EOF means execve
//!    succeeded (the child left our memory), 12 bytes are a
//!    [`Failure`]; the child also records its current step in shared memory,
//!    so one that dies without reporting is still named.
//!
//! Only then are the stack and the plan released.

use std::cell::Cell;
use std::ffi::c_void;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::child::{self, ChildPlan, Failure, Step};
use crate::kernel::Kernel;
use crate::sys::RawKernel;
use crate::SandboxError;

/// Size of the child's stack (setup only; execve replaces it).
const STACK_SIZE: usize = 256 << 10;

/// An mmap'd stack with a guard page below it.
struct Stack {
    base: *mut c_void,
}

impl Stack {
    fn new() -> Result<Stack, SandboxError> {
        // SAFETY: anonymous mapping; checked below.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                STACK_SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(os_err("mmap child stack"));
        }
        // SAFETY: the first page of our own mapping.
        unsafe { libc::mprotect(base, 4096, libc::PROT_NONE) };
        Ok(Stack { base })
    }
    /// The initial stack pointer (stacks grow down).
    fn top(&self) -> *mut c_void {
        // SAFETY: one past the end of our mapping, 16-byte aligned.
        unsafe { self.base.add(STACK_SIZE) }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: our mapping, no longer used by any child.
        unsafe { libc::munmap(self.base, STACK_SIZE) };
    }
}

thread_local! {
    /// One stack per thread, reused: a thread runs one child setup at a time.
    static STACK: Cell<Option<Stack>> = const { Cell::new(None) };
}

/// A setup error from the last OS error.
pub(crate) fn os_err(step: &str) -> SandboxError {
    SandboxError::Setup {
        step: step.to_string(),
        source: std::io::Error::last_os_error(),
    }
}

/// A pipe (read, write), both close-on-exec and above the stdio numbers so
/// that the child's dup2 onto 0, 1 and 2 cannot clobber them.
pub(crate) fn pipe() -> Result<(OwnedFd, OwnedFd), SandboxError> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid out-array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(os_err("pipe2"));
    }
    // SAFETY: fresh fds we own.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((above_stdio(r)?, above_stdio(w)?))
}

/// `fd`, moved to a number ≥ 3 if needed.
pub(crate) fn above_stdio(fd: OwnedFd) -> Result<OwnedFd, SandboxError> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    // SAFETY: F_DUPFD_CLOEXEC on a valid fd.
    let n = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
    if n < 0 {
        return Err(os_err("fcntl F_DUPFD_CLOEXEC"));
    }
    // SAFETY: a fresh fd we own.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

/// What the parent writes to `/proc/<pid>/` before letting the child go.
pub(crate) struct IdMaps {
    /// Write "deny" to `setgroups` first (required unless we are root).
    pub deny_setgroups: bool,
    /// `uid_map` contents.
    pub uid_map: String,
    /// `gid_map` contents.
    pub gid_map: String,
}

/// What the parent does for the child between clone and the go byte.
pub(crate) struct Handshake<'a> {
    /// The id maps to write (user namespace modes).
    pub maps: Option<&'a IdMaps>,
    /// The run's cgroup to move the child into.
    pub cgroup: Option<&'a crate::cgroup::Action>,
}

/// A child that has exec'd.
pub(crate) struct Spawned {
    /// Its pid (in our pid namespace).
    pub pid: libc::pid_t,
    /// Registered until it is reaped (see orphans.rs): dropped with this
    /// value, after supervise's `wait4`.
    pub _registered: crate::orphans::Registered,
    /// Its pidfd.
    pub pidfd: OwnedFd,
    /// When clone returned.
    pub start: Instant,
}

/// The child's entry point on its own stack. Never returns.
extern "C" fn child_entry(arg: *mut c_void) -> libc::c_int {
    // SAFETY: `arg` is the plan, alive until the parent sees execve or our death.
    let plan = unsafe { &*(arg as *const ChildPlan<'_>) };
    let mut k = RawKernel;
    let failure = child::setup_and_exec(&mut k, plan);
    let _ = k.write(plan.err_write, &failure.encode());
    k.exit(127)
}

/// The read ends the parent keeps, and the write ends the child gets.
pub(crate) struct Pipes {
    /// Go pipe: the child reads.
    pub sync: (OwnedFd, OwnedFd),
    /// Error pipe: the parent reads.
    pub err: (OwnedFd, OwnedFd),
}

impl Pipes {
    pub(crate) fn new() -> Result<Pipes, SandboxError> {
        Ok(Pipes {
            sync: pipe()?,
            err: pipe()?,
        })
    }
}

/// Kills and reaps a child that failed during setup.
fn kill_and_reap(pid: libc::pid_t, pidfd: &OwnedFd) {
    crate::interrupt::sigkill(pidfd, pid, false);
    reap(pid);
}

/// Waits for `pid` (our child), retrying on EINTR.
fn reap(pid: libc::pid_t) {
    let mut status = 0;
    // SAFETY: our own child.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0
        && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
    {}
}

/// Clones the child for `plan` (which must already hold the child's fds and
/// `pipes`' ends), writes its id maps, and waits until it has exec'd or failed.
/// `describe` names a failed step (with its index) for the error.
pub(crate) fn spawn(
    plan: &ChildPlan<'_>,
    pipes: Pipes,
    clone_flags: libc::c_int,
    netns: Option<&crate::probe::SharedNetns>,
    handshake: Handshake<'_>,
    describe: &dyn Fn(Step, u32) -> String,
    program: &std::path::Path,
) -> Result<Spawned, SandboxError> {
    let stack = match STACK.with(|s| s.take()) {
        Some(s) => s,
        None => Stack::new()?,
    };
    let flags = clone_flags | libc::CLONE_VM | libc::CLONE_PIDFD | libc::SIGCHLD;
    let mut pidfd: libc::c_int = -1;
    // SAFETY: sigset operations on local memory; clone with a valid stack, a
    // plan that outlives the child's use of it (we wait for execve or death
    // below), and a child that only makes raw system calls.
    let pid = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        // The shared empty network namespace: this thread enters it for the
        // clone only (see probe::SharedNetns).
        if let Some(n) = netns {
            if libc::setns(n.empty.as_raw_fd(), libc::CLONE_NEWNET) != 0 {
                let e = std::io::Error::last_os_error();
                libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
                STACK.with(|s| s.set(Some(stack)));
                return Err(SandboxError::Setup {
                    step: "setns into the shared network namespace".into(),
                    source: e,
                });
            }
        }
        let pid = libc::clone(
            child_entry,
            stack.top(),
            flags,
            plan as *const ChildPlan<'_> as *mut c_void,
            &mut pidfd as *mut libc::c_int,
        );
        let clone_errno = std::io::Error::last_os_error();
        if let Some(n) = netns {
            // Back home. Failing here would leave this thread in the empty
            // namespace: nothing sane remains to do.
            if libc::setns(n.ours.as_raw_fd(), libc::CLONE_NEWNET) != 0 {
                std::process::abort();
            }
        }
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        if pid < 0 {
            STACK.with(|s| s.set(Some(stack)));
            return Err(SandboxError::Setup {
                step: "clone".into(),
                source: clone_errno,
            });
        }
        pid
    };
    let start = Instant::now();
    // Before the go byte, so before the child can leave our session.
    let registered = crate::orphans::Registered::new(pid);
    // SAFETY: CLONE_PIDFD stored a fresh fd here.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    let Pipes {
        sync: (sync_r, sync_w),
        err: (err_r, err_w),
    } = pipes;
    drop((sync_r, err_w));

    // Our side of the handshake: maps, cgroup, then go.
    let sent = (|| {
        if let Some(m) = handshake.maps {
            let write = |file: &str, contents: &str| -> Result<(), SandboxError> {
                let path = format!("/proc/{pid}/{file}");
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .and_then(|mut f| f.write_all(contents.as_bytes()))
                    .map_err(|source| SandboxError::Setup {
                        step: format!("write {path}"),
                        source,
                    })
            };
            if m.deny_setgroups {
                write("setgroups", "deny")?;
            }
            write("uid_map", &m.uid_map)?;
            write("gid_map", &m.gid_map)?;
        }
        if let Some(cg) = handshake.cgroup {
            cg.enter(pid)?;
        }
        let mut w = std::fs::File::from(sync_w);
        w.write_all(b"g").map_err(|source| SandboxError::Setup {
            step: "write go pipe".into(),
            source,
        })
    })();
    if let Err(e) = sent {
        kill_and_reap(pid, &pidfd);
        STACK.with(|s| s.set(Some(stack)));
        return Err(e);
    }

    // Wait for execve (EOF) or a report.
    let mut buf = [0u8; 12];
    let mut got = 0;
    while got < buf.len() {
        // SAFETY: reading into our buffer.
        let n = unsafe {
            libc::read(
                err_r.as_raw_fd(),
                buf[got..].as_mut_ptr().cast(),
                buf.len() - got,
            )
        };
        if n < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            let e = os_err("read error pipe");
            kill_and_reap(pid, &pidfd);
            STACK.with(|s| s.set(Some(stack)));
            return Err(e);
        }
        if n == 0 {
            break;
        }
        got += n as usize;
    }
    let progress = Step::from_u32(plan.progress.load(Ordering::SeqCst));
    let result = if got == buf.len() {
        let f = Failure::decode(&buf);
        reap(pid);
        Err(if f.step == Step::Execve {
            SandboxError::Exec {
                program: program.to_path_buf(),
                source: f.errno.io(),
            }
        } else {
            SandboxError::Setup {
                step: describe(f.step, f.index),
                source: f.errno.io(),
            }
        })
    } else if progress != Step::Execve {
        // The child died without a report (a signal during setup).
        reap(pid);
        Err(SandboxError::Setup {
            step: describe(progress, 0),
            source: std::io::Error::other("the child died during this step"),
        })
    } else {
        Ok(Spawned {
            pid,
            _registered: registered,
            pidfd,
            start,
        })
    };
    // The child has exec'd (new memory) or is reaped: the stack is free.
    STACK.with(|s| s.set(Some(stack)));
    result
}
