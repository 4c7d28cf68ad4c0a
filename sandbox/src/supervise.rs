//! Supervision of a running child: drain its output, enforce the wall limit, reap it.
//!
//! One `poll` on the pidfd and the two output pipes. On timeout the child is
//! killed through its pidfd: in a pid namespace it is pid 1, so the kernel
//! kills the whole namespace with it; without one (Landlock, None) its
//! process group is killed too (a process that called setsid escapes that;
//! Full mode is the answer). The group is also killed when the child exits,
//! before it is reaped, so its pid (the group id) cannot have been reused.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::cgroup::Action;
use crate::spawn::{os_err, Spawned};
use crate::{ExecStatus, SandboxError};

/// How long to keep draining output after the child exited, for pipes some
/// escaped descendant still holds (modes without a pid namespace).
const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// Captured output of one stream.
struct Capture {
    fd: Option<OwnedFd>,
    data: Vec<u8>,
    cap: usize,
    truncated: bool,
}

impl Capture {
    fn new(fd: OwnedFd, cap: usize) -> Capture {
        Capture {
            fd: Some(fd),
            data: Vec::new(),
            cap,
            truncated: false,
        }
    }
    /// Reads what is available; closes on EOF or error.
    fn read(&mut self, scratch: &mut [u8]) {
        let Some(fd) = &self.fd else { return };
        // SAFETY: reading into our buffer.
        let n = unsafe { libc::read(fd.as_raw_fd(), scratch.as_mut_ptr().cast(), scratch.len()) };
        if n < 0 {
            let e = std::io::Error::last_os_error().raw_os_error();
            if e == Some(libc::EINTR) || e == Some(libc::EAGAIN) {
                return;
            }
            self.fd = None;
            return;
        }
        if n == 0 {
            self.fd = None;
            return;
        }
        let n = n as usize;
        let room = self.cap.saturating_sub(self.data.len());
        if n > room {
            self.truncated = true;
        }
        self.data.extend_from_slice(&scratch[..n.min(room)]);
    }
}

/// The result of supervision.
pub(crate) struct Finished {
    pub status: ExecStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub truncated: bool,
    pub wall: Duration,
    pub cpu: Duration,
}

/// Sends SIGKILL through the pidfd (and to the process group, and to every
/// process in the run's cgroup).
fn kill(s: &Spawned, group: bool, cg: Option<&Action>) {
    crate::interrupt::sigkill(&s.pidfd, s.pid, group);
    if let Some(cg) = cg {
        cg.kill();
    }
}

/// Supervises `s` until it exits; `group` says whether to kill its process
/// group (modes without a pid namespace). When the child exits, what is
/// left in its cgroup `cg` is killed (daemons that left its session too).
pub(crate) fn supervise(
    s: Spawned,
    stdout: OwnedFd,
    stderr: OwnedFd,
    wall: Option<Duration>,
    output_cap: Option<u64>,
    group: bool,
    cg: Option<&Action>,
) -> Result<Finished, SandboxError> {
    let cap = output_cap.map_or(usize::MAX, |c| usize::try_from(c).unwrap_or(usize::MAX));
    let mut out = Capture::new(stdout, cap);
    let mut err = Capture::new(stderr, cap);
    let mut scratch = vec![0u8; 64 << 10];
    let deadline = wall.map(|w| s.start + w);
    let mut timed_out = false;
    let mut exited = false;
    let registration = crate::interrupt::register(&s.pidfd, s.pid, group);

    // Phase 1: until the child exits.
    while !exited {
        let timeout = match deadline {
            Some(d) if !timed_out => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up: waking before the deadline would just poll again.
                i32::try_from(left.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX)
            }
            _ => -1,
        };
        let mut fds = [
            libc::pollfd {
                fd: s.pidfd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: out.fd.as_ref().map_or(-1, |f| f.as_raw_fd()),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: err.fd.as_ref().map_or(-1, |f| f.as_raw_fd()),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: a valid array of pollfds.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 3, timeout) };
        if n < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            let e = os_err("poll");
            kill(&s, group, cg);
            crate::interrupt::deregister(registration);
            return Err(e);
        }
        if n == 0 {
            if deadline.is_some_and(|d| Instant::now() >= d) && !timed_out {
                timed_out = true;
                kill(&s, group, cg);
            }
            continue;
        }
        if fds[1].revents != 0 {
            out.read(&mut scratch);
        }
        if fds[2].revents != 0 {
            err.read(&mut scratch);
        }
        if fds[0].revents != 0 {
            exited = true;
        }
    }
    if let Some(cg) = cg {
        // Whatever the run left (in any mode) dies before draining.
        cg.kill();
    }
    if group {
        // Stragglers in the group die before the pid (= group id) is freed.
        // SAFETY: the child is a zombie, so its pid is still ours.
        unsafe { libc::kill(-s.pid, libc::SIGKILL) };
        // And the rest of its tree, adopted by us when it exited (orphans.rs).
        crate::orphans::sweep();
    }
    crate::interrupt::deregister(registration);

    // Phase 2: drain what is left. In a pid namespace everything holding the
    // pipes is dead by now, so this ends at once.
    let grace = Instant::now() + DRAIN_GRACE;
    while out.fd.is_some() || err.fd.is_some() {
        let left = grace.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let mut fds = [
            libc::pollfd {
                fd: out.fd.as_ref().map_or(-1, |f| f.as_raw_fd()),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: err.fd.as_ref().map_or(-1, |f| f.as_raw_fd()),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: a valid array of pollfds.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, left.as_millis().max(1) as i32) };
        if n <= 0 {
            continue;
        }
        if fds[0].revents != 0 {
            out.read(&mut scratch);
        }
        if fds[1].revents != 0 {
            err.read(&mut scratch);
        }
    }

    // Reap, with the tree's CPU time.
    let mut status = 0;
    // SAFETY: zeroed rusage is valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: our own child, valid out-pointers.
        let r = unsafe { libc::wait4(s.pid, &mut status, 0, &mut ru) };
        if r >= 0 {
            break;
        }
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return Err(os_err("wait4"));
        }
    }
    let wall = s.start.elapsed();
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let cpu = tv(ru.ru_utime) + tv(ru.ru_stime);
    let status = if timed_out {
        ExecStatus::TimedOut
    } else if libc::WIFEXITED(status) {
        ExecStatus::Exited(libc::WEXITSTATUS(status))
    } else {
        ExecStatus::Signaled(libc::WTERMSIG(status))
    };
    Ok(Finished {
        status,
        truncated: out.truncated || err.truncated,
        stdout: out.data,
        stderr: err.data,
        wall,
        cpu,
    })
}
