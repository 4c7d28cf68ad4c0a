//! What the host provides: Landlock's ABI, user namespaces, and the facts a run needs.
//!
//! Cheap: one `landlock_create_ruleset` query, a few sysctl reads, and one
//! test clone (new user, mount, pid, net, ipc and uts namespaces, a private
//! `/` and a tmpfs) done once per process and cached. Sysctls alone cannot
//! tell: containers forbid namespaces with seccomp, and Ubuntu's AppArmor
//! lets the clone succeed but takes the capabilities away.

use std::ffi::{c_void, CString};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::sync::OnceLock;

use crate::{landlock, sys, Capabilities, Mode, SandboxError};

/// Host facts for runs, gathered by `Sandbox::new`.
pub(crate) struct Host {
    /// An existing directory to mount the new root's tmpfs on (in the child's
    /// private mount namespace: the host never sees it).
    pub base: PathBuf,
    /// The highest capability number (/proc/sys/kernel/cap_last_cap).
    pub cap_last_cap: u32,
    /// The caller's effective uid and gid.
    pub euid: u32,
    /// See `euid`.
    pub egid: u32,
    /// Root in the initial user namespace: the inside id then maps to nobody.
    pub root_in_init_userns: bool,
    /// The shared empty network namespace (Full mode, root caller).
    pub netns: Option<SharedNetns>,
}

/// One empty network namespace for every run of a `Sandbox`, instead of a
/// fresh one per run: creating a network namespace costs 0.3 to 2 ms and its
/// teardown runs in a kernel worker that competes with the build.
///
/// Only for root callers in Mode::Full. `setns` needs CAP_SYS_ADMIN in the
/// namespace's owning user namespace and in the caller's own. A child already
/// in its fresh user namespace has neither over a namespace made outside it,
/// so the *parent thread* (root) enters the empty namespace just around
/// clone, and the child inherits it. An unprivileged caller cannot setns at
/// all; it gets CLONE_NEWNET per run. Sharing is sound only with Landlock:
/// the namespace has just a loopback that is down, TCP bind/connect are
/// denied, and abstract unix sockets are scoped to each run's domain, so runs
/// sharing it cannot reach each other. Mode::Namespaces keeps one per run.
pub(crate) struct SharedNetns {
    /// The caller's network namespace (to return to after clone).
    pub ours: std::os::fd::OwnedFd,
    /// The empty one.
    pub empty: std::os::fd::OwnedFd,
}

impl SharedNetns {
    /// Creates the empty namespace on a short-lived thread (unshare of a
    /// network namespace affects only the calling thread).
    pub(crate) fn create() -> Result<SharedNetns, SandboxError> {
        let open = |path: &str| {
            std::fs::File::open(path)
                .map(std::os::fd::OwnedFd::from)
                .map_err(|source| SandboxError::Setup {
                    step: format!("open {path}"),
                    source,
                })
        };
        let ours = open("/proc/thread-self/ns/net")?;
        let empty = std::thread::spawn(move || {
            // SAFETY: affects this thread only, which exits right after.
            if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                return Err(SandboxError::Setup {
                    step: "unshare(CLONE_NEWNET)".into(),
                    source: std::io::Error::last_os_error(),
                });
            }
            open("/proc/thread-self/ns/net")
        })
        .join()
        .map_err(|_| SandboxError::Setup {
            step: "create the shared network namespace".into(),
            source: std::io::Error::other("thread panicked"),
        })??;
        Ok(SharedNetns {
            ours: crate::spawn::above_stdio(ours)?,
            empty: crate::spawn::above_stdio(empty)?,
        })
    }
}

/// A pidfd of this process (close-on-exec).
pub(crate) fn self_pidfd() -> Result<std::os::fd::OwnedFd, SandboxError> {
    // SAFETY: pidfd_open of our own pid.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0u32) };
    if fd < 0 {
        return Err(SandboxError::Setup {
            step: "pidfd_open".into(),
            source: std::io::Error::last_os_error(),
        });
    }
    // SAFETY: a fresh fd we own.
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) };
    crate::spawn::above_stdio(fd)
}

/// Candidates for [`Host::base`].
const BASES: [&str; 6] = ["/tmp", "/mnt", "/run", "/var", "/usr", "/"];

impl Host {
    pub(crate) fn detect() -> Host {
        let base = BASES
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_dir())
            .unwrap_or_else(|| PathBuf::from("/"));
        let cap_last_cap = sysctl("kernel/cap_last_cap")
            .and_then(|s| s.parse().ok())
            .unwrap_or(40);
        // SAFETY: plain getters.
        let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
        let init_userns = std::fs::read_to_string("/proc/self/uid_map")
            .map(|m| m.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"])
            .unwrap_or(false);
        Host {
            base,
            cap_last_cap,
            euid,
            egid,
            root_in_init_userns: euid == 0 && init_userns,
            netns: None,
        }
    }
}

/// A sysctl's value, trimmed.
fn sysctl(name: &str) -> Option<String> {
    std::fs::read_to_string(format!("/proc/sys/{name}"))
        .ok()
        .map(|s| s.trim().to_string())
}

/// The sysctls that restrict user namespaces, as read from /proc/sys (None:
/// absent on this kernel).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct UsernsSysctls {
    /// The caller is root (the Debian and AppArmor restrictions spare it).
    pub root: bool,
    /// user.max_user_namespaces (every kernel).
    pub max_user_namespaces: Option<String>,
    /// kernel.unprivileged_userns_clone (Debian's patch).
    pub unprivileged_userns_clone: Option<String>,
    /// kernel.apparmor_restrict_unprivileged_userns (Ubuntu 23.10 and later).
    pub apparmor_restrict_unprivileged_userns: Option<String>,
}

impl UsernsSysctls {
    fn read() -> UsernsSysctls {
        UsernsSysctls {
            // SAFETY: plain getter.
            root: unsafe { libc::geteuid() } == 0,
            max_user_namespaces: sysctl("user/max_user_namespaces"),
            unprivileged_userns_clone: sysctl("kernel/unprivileged_userns_clone"),
            apparmor_restrict_unprivileged_userns: sysctl(
                "kernel/apparmor_restrict_unprivileged_userns",
            ),
        }
    }
}

/// What works without user namespaces.
const NO_NS_ALTERNATIVE: &str =
    "`--sandbox=landlock` works without user namespaces (weaker: see sandbox/README.md)";

/// Why user namespaces are unavailable, naming the setting that restricts
/// them and the command that lifts it; `test_clone` runs only when no sysctl
/// already answers (a container's seccomp profile or an LSM can still refuse).
pub(crate) fn namespaces_verdict(
    s: &UsernsSysctls,
    test_clone: impl FnOnce() -> Result<(), String>,
) -> Result<(), String> {
    if s.max_user_namespaces.as_deref() == Some("0") {
        return Err(format!(
            "user namespaces are disabled: the sysctl user.max_user_namespaces is 0; allow them with \
             `sysctl -w user.max_user_namespaces=15000` (and the same line in /etc/sysctl.d/ to keep it). \
             {NO_NS_ALTERNATIVE}"
        ));
    }
    if !s.root && s.unprivileged_userns_clone.as_deref() == Some("0") {
        return Err(format!(
            "unprivileged user namespaces are disabled: the sysctl kernel.unprivileged_userns_clone is 0 \
             (Debian); allow them with `sysctl -w kernel.unprivileged_userns_clone=1` (and the same line in \
             /etc/sysctl.d/ to keep it), or run as root. {NO_NS_ALTERNATIVE}"
        ));
    }
    test_clone().map_err(|why| {
        if !s.root && s.apparmor_restrict_unprivileged_userns.as_deref() == Some("1") {
            format!(
                "unprivileged user namespaces are restricted by AppArmor ({why}): the sysctl \
                 kernel.apparmor_restrict_unprivileged_userns is 1 (Ubuntu 23.10 and later); lift it with \
                 `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (and the same line in \
                 /etc/sysctl.d/ to keep it), or give gob an AppArmor profile that allows `userns,`. \
                 {NO_NS_ALTERNATIVE}"
            )
        } else {
            format!(
                "{why}; no sysctl restricts user namespaces here, so a container or security module \
                 refuses them: in a container, allow clone/unshare of namespaces (e.g. a seccomp profile \
                 that permits CLONE_NEWUSER, or --privileged). {NO_NS_ALTERNATIVE}"
            )
        }
    })
}

/// Probes user namespaces: sysctls, then the cached test clone.
fn probe_namespaces() -> Result<(), String> {
    static TEST: OnceLock<Result<(), String>> = OnceLock::new();
    namespaces_verdict(&UsernsSysctls::read(), || {
        TEST.get_or_init(test_clone).clone()
    })
}

/// Shared between the probe child and the parent (CLONE_VM).
struct ProbeArgs {
    base: CString,
    step: AtomicU32,
    errno: AtomicI32,
}

/// The probe child: a private `/` and a tmpfs, as a real run starts.
extern "C" fn probe_entry(arg: *mut c_void) -> libc::c_int {
    // SAFETY: the parent keeps the args alive until it has reaped us.
    let a = unsafe { &*(arg as *const ProbeArgs) };
    a.step.store(1, Ordering::SeqCst);
    if let Err(e) = sys::mount(None, c"/", None, libc::MS_REC | libc::MS_PRIVATE) {
        a.errno.store(e.0, Ordering::SeqCst);
        sys::exit_group(1);
    }
    a.step.store(2, Ordering::SeqCst);
    if let Err(e) = sys::mount(
        Some(c"tmpfs"),
        &a.base,
        Some(c"tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV,
    ) {
        a.errno.store(e.0, Ordering::SeqCst);
        sys::exit_group(1);
    }
    sys::exit_group(0)
}

/// One clone with every namespace flag; the child mounts and exits.
fn test_clone() -> Result<(), String> {
    let host = Host::detect();
    let args = ProbeArgs {
        base: crate::mounts::cstr(&host.base),
        step: AtomicU32::new(0),
        errno: AtomicI32::new(0),
    };
    let mut stack = vec![0u8; 64 << 10];
    // SAFETY: the stack outlives the child (reaped below); the child only
    // makes raw system calls on `args`.
    let (pid, clone_err) = unsafe {
        // As in spawn.rs: no handler of ours may run in the child.
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let top = stack.as_mut_ptr().add(stack.len() & !15);
        let pid = libc::clone(
            probe_entry,
            top.cast(),
            crate::run::NS_FLAGS | libc::CLONE_VM | libc::SIGCHLD,
            &args as *const ProbeArgs as *mut c_void,
        );
        let e = std::io::Error::last_os_error();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        (pid, e)
    };
    if pid < 0 {
        let e = clone_err;
        return Err(format!("clone(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWNET|CLONE_NEWIPC|CLONE_NEWUTS) failed: {e}"));
    }
    let mut status = 0;
    // SAFETY: our own child.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0 {
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return Err("waitpid on the namespace probe failed".into());
        }
    }
    drop(stack);
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        return Ok(());
    }
    let e = std::io::Error::from_raw_os_error(args.errno.load(Ordering::SeqCst));
    Err(match args.step.load(Ordering::SeqCst) {
        1 => format!("a new user namespace cannot mount (mount / private: {e})"),
        2 => format!(
            "a new user namespace cannot mount a tmpfs on {} ({e})",
            host.base.display()
        ),
        _ => format!("the namespace probe died (status {status:#x})"),
    })
}

impl Capabilities {
    /// Probes the running kernel (cheap; no process is started when sysctls answer).
    pub fn probe() -> Capabilities {
        Capabilities {
            namespaces: probe_namespaces(),
            landlock: landlock::probe_abi(),
        }
    }

    /// Whether `mode` is available, and if not why (an actionable reason).
    pub fn check(&self, mode: Mode) -> Result<(), SandboxError> {
        let landlock = |min: u8| {
            match &self.landlock {
            Ok(abi) if *abi >= min => Ok(()),
            Ok(abi) => Err(format!(
                "the kernel's Landlock ABI is {abi}, below the {min} that `--sandbox=landlock` needs (Linux \
                 6.12: without a pid namespace only Landlock scopes signals); upgrade the kernel, or use \
                 `--sandbox=full`, which needs Landlock ABI {} and user namespaces",
                crate::MIN_LANDLOCK_ABI
            )),
            Err(why) => Err(why.clone()),
        }
        };
        let fail = |reason: String| SandboxError::Unavailable {
            mode: mode.name(),
            reason,
        };
        match mode {
            Mode::Full => {
                self.namespaces
                    .clone()
                    .map_err(|r| fail(format!("user namespaces: {r}")))?;
                landlock(crate::MIN_LANDLOCK_ABI).map_err(|r| {
                    fail(format!(
                        "Landlock: {r}; `--sandbox=namespaces` works without Landlock"
                    ))
                })
            }
            Mode::Namespaces => self
                .namespaces
                .clone()
                .map_err(|r| fail(format!("user namespaces: {r}"))),
            Mode::Landlock => landlock(crate::LANDLOCK_MODE_MIN_ABI).map_err(|r| {
                let alt = if self.namespaces.is_ok() {
                    "; `--sandbox=namespaces` works without Landlock"
                } else {
                    ""
                };
                fail(format!("Landlock: {r}{alt}"))
            }),
            Mode::None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{namespaces_verdict, UsernsSysctls};

    fn facts(root: bool, max: &str, debian: Option<&str>, apparmor: Option<&str>) -> UsernsSysctls {
        UsernsSysctls {
            root,
            max_user_namespaces: Some(max.into()),
            unprivileged_userns_clone: debian.map(Into::into),
            apparmor_restrict_unprivileged_userns: apparmor.map(Into::into),
        }
    }
    const EPERM: &str =
        "a new user namespace cannot mount (mount / private: Operation not permitted)";

    /// Issue 13 item 22: each restriction is named with the sysctl to change.
    #[test]
    fn each_restriction_names_its_sysctl() {
        let never = || -> Result<(), String> { panic!("the sysctl answers: no test clone") };
        let r = namespaces_verdict(&facts(true, "0", None, None), never).unwrap_err();
        assert!(
            r.starts_with("user namespaces are disabled: the sysctl user.max_user_namespaces is 0"),
            "{r}"
        );
        assert!(
            r.contains("`sysctl -w user.max_user_namespaces=15000`"),
            "{r}"
        );
        assert!(r.contains("--sandbox=landlock"), "{r}");

        let r =
            namespaces_verdict(&facts(false, "63000", Some("0"), Some("1")), never).unwrap_err();
        assert!(
            r.contains("the sysctl kernel.unprivileged_userns_clone is 0 (Debian)"),
            "{r}"
        );
        assert!(
            r.contains("`sysctl -w kernel.unprivileged_userns_clone=1`"),
            "{r}"
        );
        assert!(!r.contains("apparmor"), "{r}");

        // Ubuntu: the clone succeeds but its namespace has no capabilities.
        let r = namespaces_verdict(&facts(false, "63000", Some("1"), Some("1")), || {
            Err(EPERM.into())
        })
        .unwrap_err();
        assert!(
            r.starts_with("unprivileged user namespaces are restricted by AppArmor ("),
            "{r}"
        );
        assert!(
            r.contains("kernel.apparmor_restrict_unprivileged_userns is 1"),
            "{r}"
        );
        assert!(
            r.contains("`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`"),
            "{r}"
        );
        assert!(r.contains(EPERM), "{r}");

        // No sysctl to blame: a container or a security module.
        let r = namespaces_verdict(
            &facts(false, "63000", None, Some("0")),
            || Err(EPERM.into()),
        )
        .unwrap_err();
        assert!(
            r.starts_with(EPERM) && r.contains("no sysctl restricts"),
            "{r}"
        );
        assert!(r.contains("container") && !r.contains("sysctl -w"), "{r}");
    }

    #[test]
    fn root_is_spared_by_debian_and_apparmor() {
        let s = facts(true, "63000", Some("0"), Some("1"));
        assert_eq!(namespaces_verdict(&s, || Ok(())), Ok(()));
        let r = namespaces_verdict(&s, || Err(EPERM.into())).unwrap_err();
        assert!(r.contains("no sysctl restricts"), "{r}");
    }
}
