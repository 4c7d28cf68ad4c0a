//! Every running command of this process, so that all can be killed at once
//! when the caller is interrupted (SIGINT, SIGTERM, SIGHUP).
//!
//! A supervisor registers its child as soon as it starts supervising and
//! deregisters it once it has exited, before reaping it, so a pid (and a
//! process group id) is only ever signalled while it is still ours. After
//! [`interrupt`], a child that registers is killed at once, and no run is
//! started.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One registered child.
struct Live {
    /// The registration's number.
    id: u64,
    /// A duplicate of its pidfd.
    pidfd: OwnedFd,
    /// Its pid, which is its process group's id when `group` is set.
    pid: libc::pid_t,
    /// Kill the process group too (modes without a pid namespace).
    group: bool,
}

/// The registry.
struct Registry {
    interrupted: bool,
    next: u64,
    live: Vec<Live>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    interrupted: false,
    next: 0,
    live: Vec::new(),
});

/// SIGKILL through a child's pidfd, and to its process group when `group`.
pub(crate) fn sigkill(pidfd: &OwnedFd, pid: libc::pid_t, group: bool) {
    // SAFETY: signalling a child that has not been reaped (see the module doc).
    unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            libc::SIGKILL,
            0usize,
            0u32,
        );
        if group {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

fn kill(l: &Live) {
    sigkill(&l.pidfd, l.pid, l.group);
}

/// Registers a started child; returns its registration number (None when
/// the pidfd could not be duplicated: it is then killed at once, never left
/// outside the registry).
pub(crate) fn register(pidfd: &OwnedFd, pid: libc::pid_t, group: bool) -> Option<u64> {
    let mut r = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    let Ok(dup) = pidfd.try_clone() else {
        sigkill(pidfd, pid, group);
        return None;
    };
    let l = Live {
        id: r.next,
        pidfd: dup,
        pid,
        group,
    };
    r.next += 1;
    if r.interrupted {
        kill(&l);
    }
    let id = l.id;
    r.live.push(l);
    Some(id)
}

/// Deregisters a child that exited (call before reaping it).
pub(crate) fn deregister(id: Option<u64>) {
    let Some(id) = id else { return };
    let mut r = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    r.live.retain(|l| l.id != id);
}

/// Whether [`interrupt`] was called.
pub(crate) fn interrupted() -> bool {
    REGISTRY
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .interrupted
}

/// Kills every command this process is running (with its whole tree in the
/// namespace modes, its process group otherwise), refuses to start new
/// ones, and waits up to `grace` for their supervisors to see them gone.
/// Returns whether all were gone in time. For a caller that is about to
/// exit on a signal: its work directories can then be removed.
pub fn interrupt(grace: Duration) -> bool {
    {
        let mut r = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        r.interrupted = true;
        r.live.iter().for_each(kill);
    }
    let end = Instant::now() + grace;
    loop {
        if REGISTRY
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .live
            .is_empty()
        {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
