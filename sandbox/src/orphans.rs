//! Descendants that outlive their run in modes without a pid namespace: adopted, then killed.
//!
//! In Mode::Landlock and Mode::None nothing like a pid namespace's init
//! takes a run's processes with it: a double-forked daemon in a new session
//! escapes the process-group kill and could rewrite an output after the run
//! returned (between the caller's check of a file and its read). So:
//!
//! 1. this process is a child subreaper ([`adopt`], once): an orphan in its
//!    subtree becomes its child instead of init's;
//! 2. each command is a subreaper too (set in the child before execve), so
//!    its orphans stay its children while it runs, and reach us only when it
//!    exits, before its pidfd turns readable (the kernel reparents first);
//! 3. when a command has exited, [`sweep`] kills and reaps every child of
//!    ours that a run left: one in a session other than ours (each command
//!    starts its own with `setsid`, and no process can ever rejoin ours) and
//!    not a command still running ([`Registered`]). Children the caller made
//!    itself (`std::process::Command`) stay in our session and are never
//!    touched. Killing one can orphan its children to us in turn, so the
//!    sweep repeats until no such child is left.
//!
//! A sweep is serialized (one at a time) and is the only reaper of these
//! processes, so a pid it lists cannot be reaped and reused before its kill.
//! What this cannot cover: descendants still running when *this* process is
//! SIGKILLed (they go to init); Mode::Full is the answer there.

use std::collections::HashMap;
use std::sync::{Mutex, Once};

/// Pids of commands spawned and not yet reaped, with a count (a pid reaped
/// and reused at once is registered twice for a moment).
static LIVE: Mutex<Option<HashMap<libc::pid_t, usize>>> = Mutex::new(None);
/// One sweep at a time.
static SWEEP: Mutex<()> = Mutex::new(());

/// Makes this process a child subreaper (idempotent).
pub(crate) fn adopt() {
    static ONCE: Once = Once::new();
    // SAFETY: a process attribute; no memory is passed.
    ONCE.call_once(|| unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    });
}

/// A spawned command, registered from just after `clone` (before it can
/// call `setsid`) until it is reaped (dropped after `wait4`).
pub(crate) struct Registered(libc::pid_t);

impl Registered {
    pub(crate) fn new(pid: libc::pid_t) -> Registered {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        *live
            .get_or_insert_with(HashMap::new)
            .entry(pid)
            .or_default() += 1;
        Registered(pid)
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = live.as_mut() {
            if let Some(n) = m.get_mut(&self.0) {
                *n -= 1;
                if *n == 0 {
                    m.remove(&self.0);
                }
            }
        }
    }
}

fn registered(pid: libc::pid_t) -> bool {
    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    live.as_ref().is_some_and(|m| m.contains_key(&pid))
}

/// The children an orphan can be adopted as: the main thread's
/// `/proc/self/task/<pid>/children` (the kernel hands an orphan to the first
/// live thread of the subreaper, the group leader while the process lives),
/// or a scan of `/proc` for our pid as the parent where the kernel lacks
/// CONFIG_PROC_CHILDREN. Children other threads started themselves (a test
/// harness's re-executed session leader, say) are never candidates.
fn children() -> Vec<libc::pid_t> {
    let mut kids = Vec::new();
    let mut have_files = false;
    // SAFETY: a plain getter.
    let leader = unsafe { libc::getpid() };
    if let Ok(s) = std::fs::read_to_string(format!("/proc/self/task/{leader}/children")) {
        have_files = true;
        kids.extend(
            s.split_whitespace()
                .filter_map(|p| p.parse::<libc::pid_t>().ok()),
        );
    }
    if !have_files {
        // SAFETY: a plain getter.
        let me = unsafe { libc::getpid() };
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            if stat(pid).is_some_and(|(ppid, _)| ppid == me) {
                kids.push(pid);
            }
        }
    }
    kids
}

/// (parent pid, session id) from `/proc/<pid>/stat`.
fn stat(pid: libc::pid_t) -> Option<(libc::pid_t, libc::pid_t)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = &s[s.rfind(')')? + 1..];
    let mut f = rest.split_whitespace();
    // state, ppid, pgrp, session
    let ppid = f.nth(1)?.parse().ok()?;
    let session = f.nth(1)?.parse().ok()?;
    Some((ppid, session))
}

/// Kills and reaps every child a finished run left behind (see the module doc).
pub(crate) fn sweep() {
    let _one = SWEEP.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: a plain getter.
    let ours = unsafe { libc::getsid(0) };
    // Children we may not signal (Mode::None: a setuid program's): left alone.
    let mut cannot = Vec::new();
    loop {
        let candidates: Vec<libc::pid_t> = children()
            .into_iter()
            .filter(|pid| !cannot.contains(pid))
            // Session first: a command is registered before it can leave ours.
            .filter(|&pid| stat(pid).is_some_and(|(_, sid)| sid != ours))
            .filter(|&pid| !registered(pid))
            .collect();
        let mut left = Vec::new();
        for pid in candidates {
            // SAFETY: our unreaped child (only a sweep reaps it).
            if unsafe { libc::kill(pid, libc::SIGKILL) } == 0 {
                left.push(pid);
            } else {
                cannot.push(pid);
            }
        }
        if left.is_empty() {
            return;
        }
        for &pid in &left {
            let mut st = 0;
            // SAFETY: our child; EINTR is retried, ECHILD ends the wait.
            while unsafe { libc::waitpid(pid, &mut st, libc::__WALL) } < 0
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
            {}
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn stat_reads_parent_and_session() {
        // SAFETY: plain getters.
        let (me, ppid, sid) = unsafe { (libc::getpid(), libc::getppid(), libc::getsid(0)) };
        assert_eq!(super::stat(me), Some((ppid, sid)));
    }

    #[test]
    fn registration_counts() {
        let a = super::Registered::new(-7);
        let b = super::Registered::new(-7);
        drop(a);
        assert!(super::registered(-7));
        drop(b);
        assert!(!super::registered(-7));
    }
}
