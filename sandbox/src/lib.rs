//! gob-sandbox: runs one command under a policy given as plain data.
//!
//! This crate knows nothing about Go. A [`Policy`] says which host files the
//! command may read (and at which path inside the sandbox it sees them), which
//! directories it may write, the program, its argv and complete environment,
//! the working directory and the limits. [`Sandbox::run`] enforces it with the
//! layers the chosen [`Mode`] names:
//!
//! - namespaces: user (the caller mapped to a fixed uid/gid inside), mount (a
//!   fresh tmpfs root holding only the declared paths), pid (the action's tree
//!   dies with it), net (loopback only, unconfigured), ipc, uts (fixed hostname);
//! - Landlock: read only beneath declared inputs, write only beneath output
//!   dirs, no TCP, scoped abstract unix sockets and signals;
//! - always: no new privileges, a seccomp filter of namespace/mount/keyring/
//!   ptrace calls, rlimits, parent-death signal, a new session;
//! - when a cgroup v2 is delegated to this process: a cgroup per run
//!   (memory.max, pids.max), killed and removed afterwards (`cgroup.rs`).
//!
//! See `sandbox/README.md` for the threat model.
#![deny(missing_docs)]

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

mod cgroup;
mod child;
mod groups;
mod interrupt;
mod kernel;
mod landlock;
mod mounts;
mod orphans;
mod policy;
mod probe;
mod rlimits;
mod run;
mod seccomp;
mod spawn;
mod supervise;
mod sys;
mod thread;
pub mod tree;

pub use interrupt::interrupt;
pub use run::{INSIDE_ID, NOBODY};

/// The lowest Landlock ABI [`Mode::Full`] accepts (Linux 5.13: file access).
/// What later ABIs add (cross-directory renames, truncation, TCP, device
/// ioctls, scoped abstract unix sockets and signals), Full mode's
/// namespaces and seccomp filter already hold (sandbox/README.md, "Landlock
/// ABIs"). The ABI a run used is reported in [`Enforcement::landlock_abi`].
pub const MIN_LANDLOCK_ABI: u8 = 1;

/// The lowest Landlock ABI [`Mode::Landlock`] accepts (Linux 6.12): without a
/// pid namespace, only Landlock's signal scoping keeps a command from
/// signalling the caller's other processes.
pub const LANDLOCK_MODE_MIN_ABI: u8 = 6;

/// The highest Landlock ABI used: a newer kernel is asked for this one.
pub const MAX_LANDLOCK_ABI: u8 = 6;

/// A path the command may read: a host file or directory, seen at `inside`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bind {
    /// The host path (file or directory). Symlinks are resolved by the caller.
    pub host: PathBuf,
    /// The absolute path inside the sandbox. Ignored (the host path is used)
    /// in modes without a mount namespace.
    pub inside: PathBuf,
}

/// Resource limits. `None` is "no limit beyond the host's".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time; the whole process tree is killed when it runs out.
    pub wall: Option<Duration>,
    /// CPU time (RLIMIT_CPU, whole seconds, rounded up).
    pub cpu: Option<Duration>,
    /// Memory in bytes: the run's cgroup's `memory.max` (no swap) when a
    /// cgroup v2 is delegated to this process ([`Sandbox::uses_cgroup`]),
    /// else the address space (RLIMIT_AS).
    pub memory: Option<u64>,
    /// Processes and threads: RLIMIT_NPROC (counted inside the sandbox's
    /// user namespace), and the run's cgroup's `pids.max` when there is one.
    pub processes: Option<u64>,
    /// Disk: the largest file the command may write (RLIMIT_FSIZE) and the
    /// size of the private `/tmp` (a tmpfs, namespace modes). The caller
    /// checks the total its output directories hold afterwards ([`tree::over_limit`]).
    pub disk_bytes: Option<u64>,
    /// The most of its stdout, and of its stderr, kept (the rest is drained
    /// and dropped; [`Outcome::output_truncated`] says so).
    pub output_bytes: Option<u64>,
    /// Open files (RLIMIT_NOFILE).
    pub open_files: Option<u64>,
}

impl Default for Limits {
    /// Generous limits for compilers and linkers (the reasons are in
    /// `sandbox/README.md`, "Limits"): 1 hour wall, 16 GiB of memory,
    /// 4096 processes, 1 GiB of disk, 64 MiB of captured output per stream.
    fn default() -> Limits {
        Limits {
            wall: Some(Duration::from_secs(3600)),
            cpu: None,
            memory: Some(16 << 30),
            processes: Some(4096),
            disk_bytes: Some(1 << 30),
            output_bytes: Some(64 << 20),
            open_files: Some(4096),
        }
    }
}

/// Everything the command may see and do. A plain value: building one does no I/O.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The program: a path inside the sandbox (it must be among `inputs`, or
    /// beneath one of them), or a host path in modes without a mount namespace.
    pub program: PathBuf,
    /// Arguments after `argv[0]` (`argv[0]` is `program`).
    pub args: Vec<OsString>,
    /// The complete environment: nothing is inherited.
    pub env: Vec<(OsString, OsString)>,
    /// The working directory (inside path).
    pub cwd: PathBuf,
    /// Read-only inputs.
    pub inputs: Vec<Bind>,
    /// Writable directories (they must exist on the host).
    pub outputs: Vec<Bind>,
    /// Resource limits.
    pub limits: Limits,
    /// The hostname inside (uts namespace).
    pub hostname: String,
}

/// Which layers enforce a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Namespaces, Landlock and seccomp together: what `--hermetic` demands.
    Full,
    /// Namespaces and seccomp, no Landlock.
    Namespaces,
    /// Landlock and seccomp on the host's file tree: paths are host paths.
    Landlock,
    /// No isolation: the command runs directly (rlimits and the timeout still apply).
    None,
}

impl Mode {
    /// Whether the command sees `Bind::inside` paths (a mount namespace), or host paths.
    pub fn remaps_paths(self) -> bool {
        matches!(self, Mode::Full | Mode::Namespaces)
    }
    /// The name used on the command line and in traces.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Namespaces => "namespaces",
            Mode::Landlock => "landlock",
            Mode::None => "none",
        }
    }
}

/// What the host can provide, found by [`Capabilities::probe`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Unprivileged (or root) user namespaces with mount/pid/net: Ok, or why not
    /// (naming the sysctl or kernel option to change).
    pub namespaces: Result<(), String>,
    /// The Landlock ABI the kernel offers: Ok(abi), or why none (naming the
    /// kernel option or boot parameter).
    pub landlock: Result<u8, String>,
}

/// The layers that actually enforced one run (recorded in traces).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enforcement {
    /// The mode asked for.
    pub mode: Mode,
    /// The Landlock ABI enforced (None when Landlock was not used).
    pub landlock_abi: Option<u8>,
    /// Whether the seccomp filter was installed.
    pub seccomp: bool,
}

/// How the command ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecStatus {
    /// It exited with this code.
    Exited(i32),
    /// It was killed by this signal (not by the sandbox).
    Signaled(i32),
    /// The wall-time limit ran out; the tree was killed.
    TimedOut,
}

/// The result of one run.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// How it ended.
    pub status: ExecStatus,
    /// Captured stdout (at most `limits.output_bytes`).
    pub stdout: Vec<u8>,
    /// Captured stderr (at most `limits.output_bytes`).
    pub stderr: Vec<u8>,
    /// Whether stdout or stderr were cut at the limit.
    pub output_truncated: bool,
    /// Whether the kernel's OOM killer killed the run for going past
    /// `limits.memory` (only known with a cgroup: [`Sandbox::uses_cgroup`]).
    pub memory_exceeded: bool,
    /// Wall time from spawn to reaping.
    pub wall: Duration,
    /// User plus system CPU time of the whole tree.
    pub cpu: Duration,
    /// What enforced it.
    pub enforcement: Enforcement,
}

/// Errors setting up or running a sandbox, named after the failing step.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The host cannot provide the mode asked for.
    #[error("sandbox mode {mode} is not available here: {reason}")]
    Unavailable {
        /// The mode asked for.
        mode: &'static str,
        /// Why, and what to change or which weaker mode works.
        reason: String,
    },
    /// The policy is malformed (a relative inside path, a missing host path…).
    #[error("invalid sandbox policy: {0}")]
    InvalidPolicy(String),
    /// A setup step failed in the parent or in the child before exec.
    #[error("sandbox setup failed at {step}: {source}")]
    Setup {
        /// The step (`clone3`, `mount /work/b001`, `landlock_restrict_self`…).
        step: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The program could not be executed inside the sandbox.
    #[error("cannot execute {program}: {source}")]
    Exec {
        /// The program.
        program: PathBuf,
        /// The OS error from execve.
        source: std::io::Error,
    },
}

/// A configured sandbox: the mode, and what is prepared once and reused for
/// every run (the seccomp program, the Landlock ABI). Shareable across threads.
pub struct Sandbox {
    mode: Mode,
    /// The seccomp program (all modes but None).
    filter: Vec<libc::sock_filter>,
    /// Host facts: the caller's ids, where to build the new root.
    host: probe::Host,
    /// Mount a procfs at /proc (namespace modes).
    with_proc: bool,
    /// Give the command the caller's stdin/stdout/stderr (an interactive shell).
    terminal: bool,
    /// Directories found fully declared before (see groups.rs).
    dir_cache: groups::DirCache,
    /// The uid and gid the command runs as inside (namespace modes).
    inside_id: u32,
    /// The command's umask (None: gob's own).
    umask: Option<u32>,
    /// A pidfd of this process, for children to check that we are alive.
    self_pidfd: Option<std::os::fd::OwnedFd>,
    /// The Landlock ABI every run uses (modes with Landlock; None otherwise).
    landlock_abi: Option<u8>,
    /// The delegated cgroup v2 each run gets a child cgroup in (None: rlimits only).
    cgroup: Option<&'static cgroup::Base>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("mode", &self.mode)
            .field("with_proc", &self.with_proc)
            .finish()
    }
}

impl Sandbox {
    /// Checks that the host provides `mode` (hard requirement: never a silent
    /// downgrade) and prepares it.
    pub fn new(mode: Mode) -> Result<Sandbox, SandboxError> {
        let caps = Capabilities::probe();
        caps.check(mode)?;
        Sandbox::prepare(mode, &caps)
    }

    /// Prepares a sandbox for an available mode.
    fn prepare(mode: Mode, caps: &Capabilities) -> Result<Sandbox, SandboxError> {
        let mut host = probe::Host::detect();
        if !mode.remaps_paths() {
            orphans::adopt();
        }
        let landlock_abi = matches!(mode, Mode::Full | Mode::Landlock)
            .then(|| {
                caps.landlock
                    .as_ref()
                    .ok()
                    .map(|&a| a.min(MAX_LANDLOCK_ABI))
            })
            .flatten();
        // One network namespace for all runs is sound only with abstract
        // unix sockets scoped per run (ABI 6): see probe::SharedNetns.
        if mode == Mode::Full && host.root_in_init_userns && landlock_abi >= Some(6) {
            host.netns = Some(probe::SharedNetns::create()?);
        }
        let self_pidfd = Some(probe::self_pidfd()?);
        Ok(Sandbox {
            mode,
            filter: seccomp::program(mode),
            host,
            with_proc: false,
            terminal: false,
            dir_cache: groups::DirCache::new(),
            self_pidfd,
            inside_id: INSIDE_ID,
            umask: None,
            landlock_abi,
            cgroup: cgroup::delegated().ok(),
        })
    }

    /// Uses Landlock ABI `abi` instead of the kernel's (capped at
    /// [`MAX_LANDLOCK_ABI`]), as on an older kernel: for tests that prove
    /// each ABI's guarantees on one kernel. `abi` must be one the kernel
    /// offers and the mode accepts; below 6 every run gets its own network
    /// namespace. No effect in modes without Landlock.
    #[doc(hidden)]
    pub fn with_landlock_abi(mut self, abi: u8) -> Result<Sandbox, SandboxError> {
        let Some(have) = self.landlock_abi else {
            return Ok(self);
        };
        let min = if self.mode == Mode::Landlock {
            LANDLOCK_MODE_MIN_ABI
        } else {
            MIN_LANDLOCK_ABI
        };
        if abi > have || abi < min {
            return Err(SandboxError::Unavailable {
                mode: self.mode.name(),
                reason: format!(
                    "Landlock ABI {abi} asked for; this kernel offers {have} and the mode needs {min} or more"
                ),
            });
        }
        self.landlock_abi = Some(abi);
        if abi < 6 {
            self.host.netns = None;
        }
        Ok(self)
    }

    /// The Landlock ABI every run of this sandbox uses (None: no Landlock).
    pub fn landlock_abi(&self) -> Option<u8> {
        self.landlock_abi
    }

    /// The best mode the host provides: Full, else Namespaces, else Landlock, else None.
    pub fn auto() -> Sandbox {
        let caps = Capabilities::probe();
        [Mode::Full, Mode::Namespaces, Mode::Landlock]
            .into_iter()
            .filter(|&m| caps.check(m).is_ok())
            .find_map(|m| Sandbox::prepare(m, &caps).ok())
            .unwrap_or_else(|| {
                orphans::adopt();
                Sandbox {
                    mode: Mode::None,
                    filter: Vec::new(),
                    host: probe::Host::detect(),
                    with_proc: false,
                    terminal: false,
                    dir_cache: groups::DirCache::new(),
                    self_pidfd: probe::self_pidfd().ok(),
                    inside_id: INSIDE_ID,
                    umask: None,
                    landlock_abi: None,
                    cgroup: cgroup::delegated().ok(),
                }
            })
    }

    /// Mounts a fresh procfs at `/proc` in the namespace modes (off by
    /// default: it shows the sandbox's own processes only, but also kernel
    /// information the build should not depend on). No effect in other modes.
    pub fn with_proc(mut self, on: bool) -> Sandbox {
        self.with_proc = on;
        self
    }

    /// Gives the command the caller's stdin, stdout and stderr instead of
    /// /dev/null and captured pipes (`gob replay --shell`). The command is
    /// still in a new session, so it cannot take the terminal as its
    /// controlling terminal, and TIOCSTI stays filtered.
    pub fn with_terminal(mut self, on: bool) -> Sandbox {
        self.terminal = on;
        self
    }

    /// Runs commands as this uid and gid inside the user namespace instead of
    /// [`INSIDE_ID`] (namespace modes; outside it is still the caller, or
    /// `nobody` for root). A build must not depend on it: `gob audit` varies
    /// it. 0 (root inside) and `u32::MAX` (no uid) are refused.
    pub fn with_inside_id(mut self, id: u32) -> Result<Sandbox, SandboxError> {
        if id == 0 || id == u32::MAX {
            return Err(SandboxError::InvalidPolicy(format!(
                "inside uid {id}: must be between 1 and {}",
                u32::MAX - 1
            )));
        }
        self.inside_id = id;
        Ok(self)
    }

    /// Sets the command's umask (default: inherited from this process).
    pub fn with_umask(mut self, mask: u32) -> Sandbox {
        self.umask = Some(mask & 0o777);
        self
    }

    /// The uid and gid commands run as inside (namespace modes).
    pub fn inside_id(&self) -> u32 {
        self.inside_id
    }

    /// The mode this sandbox enforces.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether each run gets its own cgroup v2 (memory.max, pids.max): when
    /// this process's cgroup is delegated to it and it was the only process
    /// there (it then moved into a leaf child). `GOB_CGROUP=off` turns it off.
    pub fn uses_cgroup(&self) -> bool {
        self.cgroup.is_some()
    }

    /// Why a delegated cgroup could not be used, when that is worth telling
    /// the user once (it names the cgroup and what to do). None when one is
    /// used, or when the host has no delegation at all.
    pub fn cgroup_note(&self) -> Option<&'static str> {
        match cgroup::delegated() {
            Err(cgroup::Fallback::Note(n)) => Some(n),
            _ => None,
        }
    }

    /// Runs the policy's program to completion in a fresh sandbox. Blocks;
    /// call from as many threads as there are concurrent actions.
    pub fn run(&self, policy: &Policy) -> Result<Outcome, SandboxError> {
        let checked = policy::check(policy, self.mode, Some(&self.dir_cache))?;
        run::run(self, &checked)
    }
}
