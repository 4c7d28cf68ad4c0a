//! The child's setup sequence between clone and execve, as one straight line.
//!
//! Everything here runs in the cloned child, which shares the parent's memory
//! (`CLONE_VM`) while the parent thread waits. It may only read the
//! [`ChildPlan`] the parent prepared and make the raw system calls of a
//! [`Kernel`]: no allocation, no locks, no std I/O, no panics. A failing step
//! returns a [`Failure`] naming the step, which the entry point writes to the
//! error pipe for the parent to turn into `SandboxError::Setup`.
//!
//! The order (pinned by the unit tests at the bottom):
//! 1. parent-death signal, then wait for the parent's go (it writes our id
//!    maps meanwhile; EOF means it died before we could notice);
//! 2. default signal dispositions, unblock signals, `setsid`, stdio;
//! 3. mounts ([`crate::mounts::apply`]): private `/`, tmpfs root, binds,
//!    `pivot_root`, read-only remount, writable outputs, `/tmp`; hostname;
//! 4. drop the capability bounding set, switch to the fixed uid/gid (which
//!    clears the parent-death signal: arm it again and check the parent's
//!    pidfd), clear ambient and all remaining capabilities;
//! 5. `chdir(cwd)`, umask, rlimits;
//! 6. no-new-privs, Landlock, seccomp (the filter forbids what came before);
//! 7. mark every fd above 2 close-on-exec, `execve` (tried again, with
//!    doubling waits, while it fails with ETXTBSY: a transient state).

use std::ffi::{c_char, CString};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::kernel::{Errno, Kernel, SockFprog};
use crate::mounts::MountPlan;

/// A setup step; the parent turns it (with an index into the plan) into the
/// `step` of `SandboxError::Setup`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub(crate) enum Step {
    Start = 0,
    Pdeathsig,
    WaitParent,
    ParentGone,
    ResetSignals,
    UnblockSignals,
    Setsid,
    Stdin,
    Stdout,
    Stderr,
    MountPrivate,
    MountScaffold,
    ChdirScaffold,
    PivotScaffold,
    MountRootTmpfs,
    ChdirNewRoot,
    Mkdir,
    Mknod,
    Bind,
    MountProc,
    PivotRoot,
    DetachOldRoot,
    ChdirRoot,
    RemountReadOnly,
    OutputWritable,
    DevNode,
    MountTmp,
    Sethostname,
    CapbsetDrop,
    Setgroups,
    Setresgid,
    Setresuid,
    AmbientClear,
    Capset,
    Chdir,
    Rlimit,
    NoNewPrivs,
    LandlockOpen,
    LandlockAddRule,
    LandlockRestrict,
    Seccomp,
    CloseFds,
    Execve,
    Subreaper,
}

impl Step {
    /// All steps, indexed by their number.
    const ALL: [Step; 44] = [
        Step::Start,
        Step::Pdeathsig,
        Step::WaitParent,
        Step::ParentGone,
        Step::ResetSignals,
        Step::UnblockSignals,
        Step::Setsid,
        Step::Stdin,
        Step::Stdout,
        Step::Stderr,
        Step::MountPrivate,
        Step::MountScaffold,
        Step::ChdirScaffold,
        Step::PivotScaffold,
        Step::MountRootTmpfs,
        Step::ChdirNewRoot,
        Step::Mkdir,
        Step::Mknod,
        Step::Bind,
        Step::MountProc,
        Step::PivotRoot,
        Step::DetachOldRoot,
        Step::ChdirRoot,
        Step::RemountReadOnly,
        Step::OutputWritable,
        Step::DevNode,
        Step::MountTmp,
        Step::Sethostname,
        Step::CapbsetDrop,
        Step::Setgroups,
        Step::Setresgid,
        Step::Setresuid,
        Step::AmbientClear,
        Step::Capset,
        Step::Chdir,
        Step::Rlimit,
        Step::NoNewPrivs,
        Step::LandlockOpen,
        Step::LandlockAddRule,
        Step::LandlockRestrict,
        Step::Seccomp,
        Step::CloseFds,
        Step::Execve,
        Step::Subreaper,
    ];

    /// The step with this number (from the error pipe or the progress word).
    pub(crate) fn from_u32(n: u32) -> Step {
        Step::ALL.get(n as usize).copied().unwrap_or(Step::Start)
    }
}

/// Why the child stopped before execve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The step that failed.
    pub step: Step,
    /// Its errno.
    pub errno: Errno,
    /// Which item of the step's list (mount, rlimit, rule…), else 0.
    pub index: u32,
}

impl Failure {
    /// The 12 bytes written to the error pipe.
    pub(crate) fn encode(self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[0..4].copy_from_slice(&(self.step as u32).to_ne_bytes());
        b[4..8].copy_from_slice(&self.errno.0.to_ne_bytes());
        b[8..12].copy_from_slice(&self.index.to_ne_bytes());
        b
    }
    /// Parses what [`Failure::encode`] wrote.
    pub(crate) fn decode(b: &[u8; 12]) -> Failure {
        let word = |i: usize| [b[i], b[i + 1], b[i + 2], b[i + 3]];
        Failure {
            step: Step::from_u32(u32::from_ne_bytes(word(0))),
            errno: Errno(i32::from_ne_bytes(word(4))),
            index: u32::from_ne_bytes(word(8)),
        }
    }
}

/// The ids the child switches to inside its user namespace.
pub(crate) struct Ids {
    /// The uid inside.
    pub uid: u32,
    /// The gid inside.
    pub gid: u32,
    /// Whether to drop supplementary groups (allowed only when the parent,
    /// being root, did not have to deny setgroups).
    pub clear_groups: bool,
}

/// What the child needs for namespaces: the mount plan and the hostname.
pub(crate) struct NsPlan {
    /// The mount sequence.
    pub mounts: MountPlan,
    /// The hostname (uts namespace).
    pub hostname: Vec<u8>,
    /// The ids to switch to.
    pub ids: Ids,
}

/// Landlock work left for the child: rules on paths only it can open, then
/// restrict.
pub(crate) struct LandlockChild {
    /// The ruleset, created (and partly filled) by the parent.
    pub ruleset_fd: i32,
    /// `(inside path, access)` rules the child adds after its mounts.
    pub rules: Vec<(CString, u64)>,
}

/// Everything the child reads, prepared by the parent before clone.
pub(crate) struct ChildPlan<'a> {
    /// The step the child is in (shared memory): tells the parent where a
    /// child that died without reporting was.
    pub progress: AtomicU32,
    /// The parent's go pipe (read end).
    pub sync_read: i32,
    /// The parent's go pipe (write end, closed by the child first).
    pub sync_write: i32,
    /// A pidfd of the parent process: readable once it has exited (-1: none).
    pub parent_pidfd: i32,
    /// The error pipe (close-on-exec): a [`Failure`] or EOF at execve.
    pub err_write: i32,
    /// Becomes fd 0.
    pub stdin: i32,
    /// Becomes fd 1.
    pub stdout: i32,
    /// Becomes fd 2.
    pub stderr: i32,
    /// Namespaces (Full, Namespaces).
    pub ns: Option<NsPlan>,
    /// Drop privileges (all modes but None): `Some(last_cap)` empties the
    /// bounding set up to `last_cap` (we hold CAP_SETPCAP in our own user
    /// namespace, or as root), `Some(NO_BOUNDING_DROP)` skips that; both
    /// then clear the ambient set and every remaining capability.
    pub drop_caps: Option<u32>,
    /// The working directory.
    pub cwd: CString,
    /// The file mode creation mask (None: the parent's).
    pub umask: Option<u32>,
    /// `(RLIMIT_*, value)`.
    pub rlimits: Vec<(i32, u64)>,
    /// Set PR_SET_NO_NEW_PRIVS.
    pub no_new_privs: bool,
    /// Become a child subreaper (modes without a pid namespace): orphans of
    /// the command's tree stay its children while it runs (see orphans.rs).
    pub subreaper: bool,
    /// Landlock (Full, Landlock).
    pub landlock: Option<LandlockChild>,
    /// The seccomp filter (all modes but None).
    pub seccomp: Option<&'a SockFprog>,
    /// The program.
    pub program: CString,
    /// NULL-terminated argv, pointing into `strings`.
    pub argv: Vec<*const c_char>,
    /// NULL-terminated envp, pointing into `strings`.
    pub envp: Vec<*const c_char>,
    /// Storage for argv and envp (kept alive, never read directly).
    #[allow(dead_code)]
    pub strings: Vec<CString>,
}

/// Value of `drop_caps` when the bounding set cannot be dropped (an
/// unprivileged caller without namespaces has nothing to drop there).
pub(crate) const NO_BOUNDING_DROP: u32 = u32::MAX;

/// Records the step about to run, then runs it.
pub(crate) struct Tracker<'p> {
    progress: &'p AtomicU32,
}

impl Tracker<'_> {
    /// Marks `step` as current.
    #[inline(always)]
    pub(crate) fn at(&self, step: Step) {
        self.progress.store(step as u32, Ordering::SeqCst);
    }
    /// Runs one step: marks it, and maps an errno to a [`Failure`].
    #[inline(always)]
    pub(crate) fn run<T>(
        &self,
        step: Step,
        index: usize,
        r: impl FnOnce() -> Result<T, Errno>,
    ) -> Result<T, Failure> {
        self.at(step);
        r().map_err(|errno| Failure {
            step,
            errno,
            index: index as u32,
        })
    }
}

/// How often execve is tried again after ETXTBSY, and the first wait; the
/// waits double, so the last try comes about 0.5 s after the first.
const ETXTBSY_RETRIES: u32 = 9;
const ETXTBSY_FIRST_DELAY_NS: u64 = 1_000_000;

/// Runs the whole sequence; returns only on failure (or, with a fake kernel
/// whose execve "succeeds", with `Step::Execve` and errno 0).
pub(crate) fn setup_and_exec<K: Kernel>(k: &mut K, p: &ChildPlan<'_>) -> Failure {
    match setup(k, p) {
        Err(f) => f,
        Ok(()) => {
            let t = Tracker {
                progress: &p.progress,
            };
            t.at(Step::Execve);
            let mut errno = k.execve(&p.program, p.argv.as_ptr(), p.envp.as_ptr());
            // ETXTBSY: some thread of the caller's process wrote the program
            // moments ago, and a process forked meanwhile (by any thread)
            // still holds that write descriptor until its own execve closes
            // it. The condition is transient, so wait and try again, as
            // cmd/go does for the test binaries it has just linked.
            let mut delay = ETXTBSY_FIRST_DELAY_NS;
            for _ in 0..ETXTBSY_RETRIES {
                if errno != Errno(libc::ETXTBSY) {
                    break;
                }
                k.nanosleep(delay);
                delay *= 2;
                errno = k.execve(&p.program, p.argv.as_ptr(), p.envp.as_ptr());
            }
            Failure {
                step: Step::Execve,
                errno,
                index: 0,
            }
        }
    }
}

/// Everything before execve.
fn setup<K: Kernel>(k: &mut K, p: &ChildPlan<'_>) -> Result<(), Failure> {
    let t = Tracker {
        progress: &p.progress,
    };

    // 1. Die with the parent; then wait for it. Its write end of the go pipe
    //    closing without a byte means it died before PDEATHSIG was armed.
    t.run(Step::Pdeathsig, 0, || {
        k.prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64)
    })?;
    t.run(Step::WaitParent, 0, || k.close(p.sync_write))?;
    let mut go = [0u8; 1];
    loop {
        match t.run(Step::WaitParent, 0, || k.read(p.sync_read, &mut go)) {
            Ok(1) => break,
            Ok(_) => {
                return Err(Failure {
                    step: Step::ParentGone,
                    errno: Errno(libc::ESRCH),
                    index: 0,
                })
            }
            Err(f) if f.errno.0 == libc::EINTR => continue,
            Err(f) => return Err(f),
        }
    }
    t.run(Step::WaitParent, 0, || k.close(p.sync_read))?;

    // 2. Signals (the parent blocked them all around clone so that none of its
    //    handlers runs on shared memory), session, stdio.
    for sig in 1..=64 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        t.run(Step::ResetSignals, sig as usize, || {
            k.sigaction_default(sig)
        })?;
    }
    t.run(Step::UnblockSignals, 0, || k.sigprocmask_unblock_all())?;
    t.run(Step::Setsid, 0, || k.setsid())?;
    if p.subreaper {
        t.run(Step::Subreaper, 0, || {
            k.prctl(libc::PR_SET_CHILD_SUBREAPER, 1)
        })?;
    }
    t.run(Step::Stdin, 0, || k.dup2(p.stdin, 0))?;
    t.run(Step::Stdout, 0, || k.dup2(p.stdout, 1))?;
    t.run(Step::Stderr, 0, || k.dup2(p.stderr, 2))?;

    // 3. The file tree and the hostname.
    if let Some(ns) = &p.ns {
        crate::mounts::apply(k, &t, &ns.mounts)?;
        t.run(Step::Sethostname, 0, || k.sethostname(&ns.hostname))?;
    }

    // 4. Privileges. The bounding set needs CAP_SETPCAP, which we hold in our
    //    own user namespace (or as root); then the fixed ids, then nothing.
    if let Some(last) = p.drop_caps {
        if last != NO_BOUNDING_DROP {
            for cap in 0..=last {
                match k.prctl(libc::PR_CAPBSET_DROP, cap as u64) {
                    Ok(()) => {}
                    // Beyond the kernel's last capability.
                    Err(Errno(libc::EINVAL)) => break,
                    Err(errno) => {
                        return Err(Failure {
                            step: Step::CapbsetDrop,
                            errno,
                            index: cap,
                        })
                    }
                }
            }
        }
    }
    if let Some(ns) = &p.ns {
        if ns.ids.clear_groups {
            t.run(Step::Setgroups, 0, || k.setgroups_empty())?;
        }
        t.run(Step::Setresgid, 0, || k.setresgid(ns.ids.gid))?;
        t.run(Step::Setresuid, 0, || k.setresuid(ns.ids.uid))?;
    }
    // Changing the effective ids cleared the parent-death signal: arm it
    // again, then make sure the parent did not die in between (its pidfd
    // turns readable when it exits).
    t.run(Step::Pdeathsig, 1, || {
        k.prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64)
    })?;
    if p.parent_pidfd >= 0 && t.run(Step::ParentGone, 0, || k.readable(p.parent_pidfd))? {
        return Err(Failure {
            step: Step::ParentGone,
            errno: Errno(libc::ESRCH),
            index: 0,
        });
    }
    if p.drop_caps.is_some() {
        t.run(Step::AmbientClear, 0, || {
            k.prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as u64)
        })?;
        t.run(Step::Capset, 0, || k.capset_zero())?;
    }

    // 5. Working directory and limits.
    t.run(Step::Chdir, 0, || k.chdir(&p.cwd))?;
    if let Some(mask) = p.umask {
        k.umask(mask);
    }
    for (i, &(resource, value)) in p.rlimits.iter().enumerate() {
        t.run(Step::Rlimit, i, || k.prlimit(resource, value))?;
    }

    // 6. No new privileges, then Landlock, then seccomp last: the filter
    //    forbids mount and friends, which the steps above needed.
    if p.no_new_privs {
        t.run(Step::NoNewPrivs, 0, || {
            k.prctl(libc::PR_SET_NO_NEW_PRIVS, 1)
        })?;
    }
    if let Some(ll) = &p.landlock {
        for (i, (path, access)) in ll.rules.iter().enumerate() {
            let fd = t.run(Step::LandlockOpen, i, || k.open_path(path))?;
            t.run(Step::LandlockAddRule, i, || {
                k.landlock_add_rule(ll.ruleset_fd, fd, *access)
            })?;
            t.run(Step::LandlockAddRule, i, || k.close(fd))?;
        }
        t.run(Step::LandlockRestrict, 0, || {
            k.landlock_restrict_self(ll.ruleset_fd)
        })?;
    }
    if let Some(prog) = p.seccomp {
        t.run(Step::Seccomp, 0, || k.seccomp_set_filter(prog))?;
    }

    // 7. Only stdio survives execve (the error pipe is already close-on-exec).
    t.run(Step::CloseFds, 0, || k.close_range_cloexec(3))?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    //! The setup order, checked against a recording fake kernel.
    use super::*;
    use crate::mounts::{ATTR_NODEV, ATTR_RDONLY};
    use std::ffi::CStr;

    /// A fake kernel that records one line per call and can fail one call.
    #[derive(Default)]
    pub(crate) struct Recorder {
        pub calls: Vec<String>,
        /// Fail the first call whose line starts with this, with EPERM.
        pub fail: Option<&'static str>,
        /// Fail this many execve calls with ETXTBSY first.
        pub busy: u32,
    }

    fn s(c: &CStr) -> String {
        c.to_string_lossy().into_owned()
    }

    impl Recorder {
        fn rec(&mut self, line: String) -> Result<(), Errno> {
            let failing = self.fail.is_some_and(|f| line.starts_with(f));
            self.calls.push(line);
            if failing {
                self.fail = None;
                Err(Errno(libc::EPERM))
            } else {
                Ok(())
            }
        }
        /// Index of the first call starting with `prefix`.
        pub(crate) fn pos(&self, prefix: &str) -> usize {
            self.calls
                .iter()
                .position(|c| c.starts_with(prefix))
                .unwrap_or_else(|| panic!("no call {prefix:?} in {:#?}", self.calls))
        }
    }

    impl Kernel for Recorder {
        fn prctl(&mut self, option: i32, arg: u64) -> Result<(), Errno> {
            let name = match option {
                libc::PR_SET_PDEATHSIG => "pdeathsig",
                libc::PR_CAPBSET_DROP => "capbset_drop",
                libc::PR_CAP_AMBIENT => "ambient_clear",
                libc::PR_SET_NO_NEW_PRIVS => "no_new_privs",
                libc::PR_SET_CHILD_SUBREAPER => "subreaper",
                _ => "prctl?",
            };
            self.rec(format!("{name} {arg}"))
        }
        fn read(&mut self, fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
            self.rec(format!("read {fd}"))?;
            buf[0] = b'g';
            Ok(1)
        }
        fn write(&mut self, fd: i32, _buf: &[u8]) -> Result<usize, Errno> {
            self.rec(format!("write {fd}")).map(|_| 0)
        }
        fn readable(&mut self, fd: i32) -> Result<bool, Errno> {
            self.rec(format!("readable {fd}")).map(|_| false)
        }
        fn close(&mut self, fd: i32) -> Result<(), Errno> {
            self.rec(format!("close {fd}"))
        }
        fn sigaction_default(&mut self, sig: i32) -> Result<(), Errno> {
            // One line for all 62 signals would be noise: record the first.
            if sig == 1 {
                return self.rec("sigaction_default".into());
            }
            Ok(())
        }
        fn sigprocmask_unblock_all(&mut self) -> Result<(), Errno> {
            self.rec("unblock_signals".into())
        }
        fn setsid(&mut self) -> Result<(), Errno> {
            self.rec("setsid".into())
        }
        fn dup2(&mut self, old: i32, new: i32) -> Result<(), Errno> {
            self.rec(format!("dup2 {old} {new}"))
        }
        fn mount(
            &mut self,
            source: Option<&CStr>,
            target: &CStr,
            fstype: Option<&CStr>,
            flags: u64,
            _data: Option<&CStr>,
        ) -> Result<(), Errno> {
            let kind = if flags & libc::MS_BIND != 0 {
                "bind"
            } else if flags & libc::MS_PRIVATE != 0 {
                "private"
            } else {
                "new"
            };
            self.rec(format!(
                "mount {kind} {} {} {}",
                source.map_or("-".into(), s),
                s(target),
                fstype.map_or("-".into(), s)
            ))
        }
        fn mkdir(&mut self, path: &CStr, _mode: u32) -> Result<(), Errno> {
            self.rec(format!("mkdir {}", s(path)))
        }
        fn mknod_file(&mut self, path: &CStr, _mode: u32) -> Result<(), Errno> {
            self.rec(format!("mknod {}", s(path)))
        }
        fn chdir(&mut self, path: &CStr) -> Result<(), Errno> {
            self.rec(format!("chdir {}", s(path)))
        }
        fn umask(&mut self, mask: u32) {
            let _ = self.rec(format!("umask {mask:03o}"));
        }
        fn pivot_root(&mut self, new_root: &CStr, put_old: &CStr) -> Result<(), Errno> {
            self.rec(format!("pivot_root {} {}", s(new_root), s(put_old)))
        }
        fn umount2(&mut self, target: &CStr, _flags: i32) -> Result<(), Errno> {
            self.rec(format!("umount2 {}", s(target)))
        }
        fn mount_setattr(
            &mut self,
            path: &CStr,
            recursive: bool,
            set: u64,
            clear: u64,
        ) -> Result<(), Errno> {
            let r = if recursive { " recursive" } else { "" };
            let mut what = String::new();
            if set & ATTR_RDONLY != 0 {
                what.push_str(" +ro");
            }
            if clear & ATTR_RDONLY != 0 {
                what.push_str(" -ro");
            }
            if clear & ATTR_NODEV != 0 {
                what.push_str(" -nodev");
            }
            self.rec(format!("mount_setattr {}{r}{what}", s(path)))
        }
        fn sethostname(&mut self, name: &[u8]) -> Result<(), Errno> {
            self.rec(format!("sethostname {}", String::from_utf8_lossy(name)))
        }
        fn setgroups_empty(&mut self) -> Result<(), Errno> {
            self.rec("setgroups".into())
        }
        fn setresgid(&mut self, gid: u32) -> Result<(), Errno> {
            self.rec(format!("setresgid {gid}"))
        }
        fn setresuid(&mut self, uid: u32) -> Result<(), Errno> {
            self.rec(format!("setresuid {uid}"))
        }
        fn capset_zero(&mut self) -> Result<(), Errno> {
            self.rec("capset_zero".into())
        }
        fn prlimit(&mut self, resource: i32, limit: u64) -> Result<(), Errno> {
            self.rec(format!("prlimit {resource} {limit}"))
        }
        fn open_path(&mut self, path: &CStr) -> Result<i32, Errno> {
            self.rec(format!("open_path {}", s(path))).map(|_| 99)
        }
        fn landlock_add_rule(
            &mut self,
            ruleset: i32,
            parent: i32,
            _access: u64,
        ) -> Result<(), Errno> {
            self.rec(format!("landlock_add_rule {ruleset} {parent}"))
        }
        fn landlock_restrict_self(&mut self, ruleset: i32) -> Result<(), Errno> {
            self.rec(format!("landlock_restrict_self {ruleset}"))
        }
        fn seccomp_set_filter(&mut self, prog: &SockFprog) -> Result<(), Errno> {
            self.rec(format!("seccomp {}", prog.len))
        }
        fn close_range_cloexec(&mut self, first: u32) -> Result<(), Errno> {
            self.rec(format!("close_range_cloexec {first}"))
        }
        fn execve(
            &mut self,
            path: &CStr,
            _argv: *const *const c_char,
            _envp: *const *const c_char,
        ) -> Errno {
            match self.rec(format!("execve {}", s(path))) {
                Ok(()) if self.busy > 0 => {
                    self.busy -= 1;
                    Errno(libc::ETXTBSY)
                }
                Ok(()) => Errno(0),
                Err(e) => e,
            }
        }
        fn nanosleep(&mut self, nanos: u64) {
            let _ = self.rec(format!("nanosleep {nanos}"));
        }
        fn exit(&mut self, code: i32) -> ! {
            panic!("exit {code}")
        }
    }

    /// A Full-mode plan with one input file, one input dir, an output dir
    /// and an input inside the output.
    pub(crate) fn full_plan(fprog: &SockFprog) -> ChildPlan<'_> {
        use crate::mounts::MountPlan;
        use crate::policy::{Checked, Kind};
        use crate::{Bind, Limits, Policy};
        let policy = Box::leak(Box::new(Policy {
            program: "/bin/tool".into(),
            args: vec![],
            env: vec![],
            cwd: "/work".into(),
            inputs: vec![
                Bind {
                    host: "/h/tool".into(),
                    inside: "/bin/tool".into(),
                },
                Bind {
                    host: "/h/src".into(),
                    inside: "/src".into(),
                },
                Bind {
                    host: "/h/out/cfg".into(),
                    inside: "/work/cfg".into(),
                },
            ],
            outputs: vec![Bind {
                host: "/h/out".into(),
                inside: "/work".into(),
            }],
            limits: Limits::default(),
            hostname: "gob".into(),
        }));
        let checked = Checked {
            policy,
            input_kinds: vec![Kind::File, Kind::Dir, Kind::File],
            groups: vec![],
            member_of: vec![None; 3],
        };
        let mounts = MountPlan::build(&checked, std::path::Path::new("/mnt"), false, 1 << 20);
        ChildPlan {
            progress: AtomicU32::new(0),
            sync_read: 3,
            sync_write: 4,
            parent_pidfd: 10,
            err_write: 5,
            stdin: 6,
            stdout: 7,
            stderr: 8,
            ns: Some(NsPlan {
                mounts,
                hostname: b"gob".to_vec(),
                ids: Ids {
                    uid: 1000,
                    gid: 1000,
                    clear_groups: true,
                },
            }),
            drop_caps: Some(40),
            cwd: c"/work".to_owned(),
            umask: Some(0o077),
            rlimits: vec![(libc::RLIMIT_NPROC as i32, 10)],
            no_new_privs: true,
            subreaper: false,
            landlock: Some(LandlockChild {
                ruleset_fd: 9,
                rules: vec![(c"/".to_owned(), 1), (c"/work".to_owned(), 2)],
            }),
            seccomp: Some(fprog),
            program: c"/bin/tool".to_owned(),
            argv: vec![std::ptr::null()],
            envp: vec![std::ptr::null()],
            strings: vec![],
        }
    }

    fn fprog() -> SockFprog {
        SockFprog {
            len: 7,
            filter: std::ptr::null(),
        }
    }

    fn run_full() -> Recorder {
        let f = fprog();
        let plan = full_plan(&f);
        let mut k = Recorder::default();
        let failure = setup_and_exec(&mut k, &plan);
        assert_eq!(
            failure,
            Failure {
                step: Step::Execve,
                errno: Errno(0),
                index: 0
            }
        );
        k
    }

    #[test]
    fn full_mode_order() {
        let k = run_full();
        let at = |p: &str| k.pos(p);
        // Death signal armed before waiting for the parent; go before anything else.
        assert!(at("pdeathsig") < at("close 4"));
        assert!(at("close 4") < at("read 3"));
        assert!(at("read 3") < at("sigaction_default"));
        assert!(at("unblock_signals") < at("setsid"));
        assert!(at("setsid") < at("dup2 6 0"));
        // Mounts: private first, scaffold, binds, pivot, then the read-only remount.
        assert!(at("dup2 8 2") < at("mount private"));
        assert!(at("mount private") < at("mount new tmpfs /mnt tmpfs"));
        assert!(at("mount new tmpfs /mnt tmpfs") < at("chdir /mnt"));
        assert!(at("chdir /mnt") < at("pivot_root . oldroot"));
        assert!(at("pivot_root . oldroot") < at("mount new tmpfs /newroot"));
        assert!(at("mount new tmpfs /newroot") < at("mkdir bin"));
        assert!(at("mknod bin/tool") < at("mount bind /oldroot/h/tool bin/tool"));
        // The output is bound before the input inside it.
        assert!(
            at("mount bind /oldroot/h/out work") < at("mount bind /oldroot/h/out/cfg work/cfg")
        );
        assert!(at("mount bind /oldroot/dev/null dev/null") < at("pivot_root . ."));
        assert!(at("pivot_root . .") < at("umount2 ."));
        assert!(at("umount2 .") < at("mount_setattr / recursive +ro"));
        assert!(at("mount_setattr / recursive +ro") < at("mount_setattr /work -ro"));
        assert!(at("mount_setattr /dev/null -nodev") < at("mount new tmpfs /tmp tmpfs"));
        // Hostname while we hold CAP_SYS_ADMIN; bounding set before giving up root.
        assert!(at("mount new tmpfs /tmp tmpfs") < at("sethostname gob"));
        assert!(at("sethostname") < at("capbset_drop 0"));
        assert!(at("capbset_drop 40") < at("setgroups"));
        assert!(at("setgroups") < at("setresgid 1000"));
        assert!(at("setresgid 1000") < at("setresuid 1000"));
        // The id switch cleared the death signal: armed again, parent checked.
        let rearm = k
            .calls
            .iter()
            .rposition(|c| c.starts_with("pdeathsig"))
            .unwrap();
        assert!(at("setresuid 1000") < rearm && rearm < at("readable 10"));
        assert!(at("readable 10") < at("ambient_clear"));
        assert!(at("ambient_clear") < at("capset_zero"));
        assert!(at("capset_zero") < at("chdir /work"));
        assert!(at("chdir /work") < at("umask 077"));
        assert!(at("umask 077") < at("prlimit"));
        // No new privileges, Landlock after the mounts, seccomp last.
        assert!(at("prlimit") < at("no_new_privs"));
        assert!(at("no_new_privs") < at("open_path /"));
        assert!(at("landlock_add_rule 9 99") < at("landlock_restrict_self 9"));
        assert!(at("landlock_restrict_self") < at("seccomp 7"));
        assert!(at("seccomp") < at("close_range_cloexec 3"));
        assert_eq!(k.calls.last().map(String::as_str), Some("execve /bin/tool"));
    }

    #[test]
    fn a_busy_program_is_tried_again_with_growing_waits() {
        // Regression: a concurrent fork holding the program's write fd made
        // exec fail with ETXTBSY (a flaky sandbox/tests/files.rs in CI).
        let f = fprog();
        let plan = full_plan(&f);
        let mut k = Recorder {
            busy: 3,
            ..Recorder::default()
        };
        let failure = setup_and_exec(&mut k, &plan);
        assert_eq!(failure.errno, Errno(0), "the fourth execve succeeds");
        let tail: Vec<&str> = k.calls.iter().map(String::as_str).rev().take(7).collect();
        assert_eq!(
            tail,
            [
                "execve /bin/tool",
                "nanosleep 4000000",
                "execve /bin/tool",
                "nanosleep 2000000",
                "execve /bin/tool",
                "nanosleep 1000000",
                "execve /bin/tool",
            ]
        );
    }

    #[test]
    fn a_program_that_stays_busy_fails_after_bounded_retries() {
        let f = fprog();
        let plan = full_plan(&f);
        let mut k = Recorder {
            busy: u32::MAX,
            ..Recorder::default()
        };
        let failure = setup_and_exec(&mut k, &plan);
        assert_eq!(failure.step, Step::Execve);
        assert_eq!(failure.errno, Errno(libc::ETXTBSY));
        let execs = k.calls.iter().filter(|c| c.starts_with("execve")).count();
        let slept: u64 = k
            .calls
            .iter()
            .filter_map(|c| c.strip_prefix("nanosleep "))
            .map(|n| n.parse::<u64>().unwrap())
            .sum();
        assert_eq!(execs, 1 + ETXTBSY_RETRIES as usize);
        assert!(slept < 1_000_000_000, "waited {slept} ns in all");
    }

    #[test]
    fn mount_points_are_made_before_any_bind() {
        let k = run_full();
        let last_make = k
            .calls
            .iter()
            .rposition(|c| c.starts_with("mkdir ") || c.starts_with("mknod "))
            .unwrap();
        let scaffold = k.pos("mkdir newroot");
        let first_bind = k.pos("mount bind");
        assert!(
            scaffold < last_make && last_make < first_bind,
            "{:#?}",
            k.calls
        );
        // Nothing is created beneath the output (a host dir).
        assert!(
            !k.calls.iter().any(|c| c.starts_with("mknod work/")),
            "{:#?}",
            k.calls
        );
    }

    #[test]
    fn a_failing_step_stops_the_sequence_and_is_named() {
        for (fail, step) in [
            ("mount bind /oldroot/h/src", Step::Bind),
            ("pivot_root . .", Step::PivotRoot),
            ("mount_setattr / recursive", Step::RemountReadOnly),
            ("setresuid", Step::Setresuid),
            ("chdir /work", Step::Chdir),
            ("landlock_restrict_self", Step::LandlockRestrict),
            ("seccomp", Step::Seccomp),
            ("execve", Step::Execve),
        ] {
            let f = fprog();
            let plan = full_plan(&f);
            let mut k = Recorder {
                fail: Some(fail),
                ..Recorder::default()
            };
            let failure = setup_and_exec(&mut k, &plan);
            assert_eq!(failure.step, step, "{fail}");
            assert_eq!(failure.errno, Errno(libc::EPERM));
            assert!(
                k.calls.last().unwrap().starts_with(fail),
                "{fail}: {:#?}",
                k.calls
            );
            assert_eq!(Step::from_u32(plan.progress.load(Ordering::SeqCst)), step);
            assert_eq!(Failure::decode(&failure.encode()), failure);
        }
    }

    #[test]
    fn bind_failures_carry_the_bind_index() {
        let f = fprog();
        let plan = full_plan(&f);
        let mut k = Recorder {
            fail: Some("mount bind /oldroot/h/out/cfg"),
            ..Recorder::default()
        };
        let failure = setup_and_exec(&mut k, &plan);
        let mounts = &plan.ns.as_ref().unwrap().mounts;
        assert_eq!(
            mounts.bind_inside(failure.index as usize),
            std::path::Path::new("/work/cfg")
        );
    }

    #[test]
    fn landlock_mode_has_no_mounts_or_id_switch() {
        let f = fprog();
        let mut plan = full_plan(&f);
        plan.ns = None;
        plan.drop_caps = Some(NO_BOUNDING_DROP);
        plan.subreaper = true;
        plan.landlock = Some(LandlockChild {
            ruleset_fd: 9,
            rules: vec![],
        });
        let mut k = Recorder::default();
        setup_and_exec(&mut k, &plan);
        // Without a pid namespace the command keeps its orphans (orphans.rs).
        assert!(k.pos("setsid") < k.pos("subreaper 1"));
        assert!(k.pos("subreaper 1") < k.pos("execve"));
        assert!(!k
            .calls
            .iter()
            .any(|c| c.starts_with("mount") || c.starts_with("pivot") || c.starts_with("setres")));
        assert!(!k.calls.iter().any(|c| c.starts_with("capbset_drop")));
        assert!(k.pos("setsid") < k.pos("no_new_privs"));
        assert!(k.pos("no_new_privs") < k.pos("landlock_restrict_self"));
        assert!(k.pos("landlock_restrict_self") < k.pos("seccomp"));
    }

    #[test]
    fn parent_gone_before_go() {
        struct Orphan(Recorder);
        // Reads EOF: the parent died before writing the go byte.
        let f = fprog();
        let plan = full_plan(&f);
        let mut k = Orphan(Recorder::default());
        impl Kernel for Orphan {
            fn read(&mut self, _fd: i32, _buf: &mut [u8]) -> Result<usize, Errno> {
                Ok(0)
            }
            fn prctl(&mut self, o: i32, a: u64) -> Result<(), Errno> {
                self.0.prctl(o, a)
            }
            fn write(&mut self, fd: i32, b: &[u8]) -> Result<usize, Errno> {
                self.0.write(fd, b)
            }
            fn readable(&mut self, fd: i32) -> Result<bool, Errno> {
                self.0.readable(fd)
            }
            fn close(&mut self, fd: i32) -> Result<(), Errno> {
                self.0.close(fd)
            }
            fn sigaction_default(&mut self, s: i32) -> Result<(), Errno> {
                self.0.sigaction_default(s)
            }
            fn sigprocmask_unblock_all(&mut self) -> Result<(), Errno> {
                self.0.sigprocmask_unblock_all()
            }
            fn setsid(&mut self) -> Result<(), Errno> {
                self.0.setsid()
            }
            fn dup2(&mut self, o: i32, n: i32) -> Result<(), Errno> {
                self.0.dup2(o, n)
            }
            fn mount(
                &mut self,
                s: Option<&CStr>,
                t: &CStr,
                f: Option<&CStr>,
                fl: u64,
                d: Option<&CStr>,
            ) -> Result<(), Errno> {
                self.0.mount(s, t, f, fl, d)
            }
            fn mkdir(&mut self, p: &CStr, m: u32) -> Result<(), Errno> {
                self.0.mkdir(p, m)
            }
            fn mknod_file(&mut self, p: &CStr, m: u32) -> Result<(), Errno> {
                self.0.mknod_file(p, m)
            }
            fn chdir(&mut self, p: &CStr) -> Result<(), Errno> {
                self.0.chdir(p)
            }
            fn umask(&mut self, m: u32) {
                self.0.umask(m)
            }
            fn pivot_root(&mut self, a: &CStr, b: &CStr) -> Result<(), Errno> {
                self.0.pivot_root(a, b)
            }
            fn umount2(&mut self, t: &CStr, f: i32) -> Result<(), Errno> {
                self.0.umount2(t, f)
            }
            fn mount_setattr(&mut self, p: &CStr, r: bool, s: u64, c: u64) -> Result<(), Errno> {
                self.0.mount_setattr(p, r, s, c)
            }
            fn sethostname(&mut self, n: &[u8]) -> Result<(), Errno> {
                self.0.sethostname(n)
            }
            fn setgroups_empty(&mut self) -> Result<(), Errno> {
                self.0.setgroups_empty()
            }
            fn setresgid(&mut self, g: u32) -> Result<(), Errno> {
                self.0.setresgid(g)
            }
            fn setresuid(&mut self, u: u32) -> Result<(), Errno> {
                self.0.setresuid(u)
            }
            fn capset_zero(&mut self) -> Result<(), Errno> {
                self.0.capset_zero()
            }
            fn prlimit(&mut self, r: i32, l: u64) -> Result<(), Errno> {
                self.0.prlimit(r, l)
            }
            fn open_path(&mut self, p: &CStr) -> Result<i32, Errno> {
                self.0.open_path(p)
            }
            fn landlock_add_rule(&mut self, r: i32, p: i32, a: u64) -> Result<(), Errno> {
                self.0.landlock_add_rule(r, p, a)
            }
            fn landlock_restrict_self(&mut self, r: i32) -> Result<(), Errno> {
                self.0.landlock_restrict_self(r)
            }
            fn seccomp_set_filter(&mut self, p: &SockFprog) -> Result<(), Errno> {
                self.0.seccomp_set_filter(p)
            }
            fn close_range_cloexec(&mut self, f: u32) -> Result<(), Errno> {
                self.0.close_range_cloexec(f)
            }
            fn execve(
                &mut self,
                p: &CStr,
                a: *const *const c_char,
                e: *const *const c_char,
            ) -> Errno {
                self.0.execve(p, a, e)
            }
            fn nanosleep(&mut self, n: u64) {
                self.0.nanosleep(n)
            }
            fn exit(&mut self, c: i32) -> ! {
                self.0.exit(c)
            }
        }
        let failure = setup_and_exec(&mut k, &plan);
        assert_eq!(failure.step, Step::ParentGone);
        assert!(!k
            .0
            .calls
            .iter()
            .any(|c| c.starts_with("mount") || c.starts_with("execve")));
    }
}
