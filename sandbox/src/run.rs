//! One run: validate, prepare the child's plan, spawn, supervise, give outputs back.

use std::collections::HashSet;
use std::ffi::{CString, OsStr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU32;

use crate::child::{ChildPlan, Ids, LandlockChild, NsPlan, Step, NO_BOUNDING_DROP};
use crate::kernel::SockFprog;
use crate::mounts::{cstr, MountPlan};
use crate::policy::Checked;
use crate::spawn::{above_stdio, pipe, IdMaps, Pipes};
use crate::{
    landlock, rlimits, spawn, supervise, Enforcement, Mode, Outcome, Sandbox, SandboxError,
};

/// The uid and gid the command has inside its user namespace.
pub const INSIDE_ID: u32 = 1000;
/// The outside uid/gid the inside id maps to when the caller is root (in the
/// initial user namespace): `nobody`, so that RLIMIT_NPROC applies (the
/// kernel exempts kuid 0) and nothing runs as root.
pub const NOBODY: u32 = 65534;

/// The clone flags of the namespace modes.
pub(crate) const NS_FLAGS: libc::c_int = libc::CLONE_NEWUSER
    | libc::CLONE_NEWNS
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUTS;

/// /tmp's size when no disk limit is set.
const DEFAULT_TMP_BYTES: u64 = 1 << 30;

/// Opens /dev/null for the child's stdin.
fn dev_null() -> Result<OwnedFd, SandboxError> {
    let f = std::fs::File::open("/dev/null").map_err(|source| SandboxError::Setup {
        step: "open /dev/null".into(),
        source,
    })?;
    above_stdio(OwnedFd::from(f))
}

/// A copy of one of the caller's standard fds (for `Sandbox::with_terminal`).
fn caller_fd(fd: i32) -> Result<OwnedFd, SandboxError> {
    use std::os::fd::BorrowedFd;
    // SAFETY: 0, 1 and 2 are open for the life of the process.
    let b = unsafe { BorrowedFd::borrow_raw(fd) };
    let owned = b
        .try_clone_to_owned()
        .map_err(|source| SandboxError::Setup {
            step: format!("dup fd {fd}"),
            source,
        })?;
    above_stdio(owned)
}

/// argv and envp storage with their NULL-terminated pointer arrays.
fn argv_envp(
    p: &crate::Policy,
) -> (
    Vec<CString>,
    Vec<*const libc::c_char>,
    Vec<*const libc::c_char>,
) {
    let mut strings = Vec::with_capacity(1 + p.args.len() + p.env.len());
    strings.push(cstr(&p.program));
    for a in &p.args {
        strings.push(CString::new(a.as_bytes()).unwrap_or_default());
    }
    for (k, v) in &p.env {
        let mut kv = Vec::with_capacity(k.len() + 1 + v.len());
        kv.extend_from_slice(k.as_bytes());
        kv.push(b'=');
        kv.extend_from_slice(v.as_bytes());
        strings.push(CString::new(kv).unwrap_or_default());
    }
    // The CStrings' buffers do not move when `strings` does.
    let nargs = 1 + p.args.len();
    let mut argv: Vec<*const libc::c_char> = strings[..nargs].iter().map(|s| s.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = strings[nargs..].iter().map(|s| s.as_ptr()).collect();
    envp.push(std::ptr::null());
    (strings, argv, envp)
}

/// Output dirs handed to `nobody` for a run as root, with their owners.
///
/// The command runs as nobody outside, so it could not write an output dir
/// owned by root. Before the run, everything in each output dir owned by the
/// dir's owner (the dir included) is handed to nobody; after the run,
/// everything owned by nobody there goes back, so the caller owns the results
/// and can overwrite them. Symlinks are neither followed nor descended into.
/// O(entries in the output dirs), which a build action keeps small.
struct Handover {
    dirs: Vec<(PathBuf, u32, u32)>,
    /// Host paths never chowned: declared inputs inside outputs.
    keep: HashSet<PathBuf>,
}

impl Handover {
    /// Chowns each output dir's tree to nobody (root caller in a namespace mode).
    fn give(outputs: &[crate::Bind], inputs: &[crate::Bind]) -> Result<Handover, SandboxError> {
        let mut h = Handover {
            dirs: Vec::new(),
            keep: HashSet::new(),
        };
        // Declared inputs inside an output stay untouched (read-only inside).
        for i in inputs {
            if outputs.iter().any(|o| i.host.starts_with(&o.host)) {
                h.keep.insert(i.host.clone());
            }
        }
        for b in outputs {
            let m = std::fs::metadata(&b.host).map_err(|source| SandboxError::Setup {
                step: format!("stat {}", b.host.display()),
                source,
            })?;
            let (uid, gid) = (m.uid(), m.gid());
            h.dirs.push((b.host.clone(), uid, gid));
            chown_tree(&b.host, &h.keep, |m| m.st_uid == uid, NOBODY, NOBODY)?;
        }
        Ok(h)
    }
    /// Gives everything nobody owns there back to the dir's owner.
    fn take_back(self) -> Result<(), SandboxError> {
        let mut first_err = None;
        for (dir, uid, gid) in &self.dirs {
            let by_nobody = |m: &libc::stat| m.st_uid == NOBODY || m.st_gid == NOBODY;
            if let Err(e) = chown_tree(dir, &self.keep, by_nobody, *uid, *gid)
                .and_then(|()| lchown(dir, *uid, *gid))
            {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

/// lchown(2) with a setup error.
fn lchown(p: &Path, uid: u32, gid: u32) -> Result<(), SandboxError> {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).map_err(|source| SandboxError::Setup {
        step: format!("chown {}", p.display()),
        source,
    })
}

/// lchowns every entry beneath `dir` that `select` picks to `uid:gid`,
/// relative to open directories (a command may have made a tree deeper
/// than any path can name; see `tree.rs`).
fn chown_tree(
    dir: &Path,
    keep: &HashSet<PathBuf>,
    select: impl Fn(&libc::stat) -> bool,
    uid: u32,
    gid: u32,
) -> Result<(), SandboxError> {
    let kept = |rel: &Path| !keep.is_empty() && keep.contains(&dir.join(rel));
    let mut v = crate::tree::Chown {
        keep: &kept,
        select: &select,
        uid,
        gid,
        rel: PathBuf::new(),
    };
    crate::tree::walk(dir, &mut v).map_err(|e| SandboxError::Setup {
        step: format!("{} {}", e.what, e.path),
        source: e.source,
    })
}

/// Names a failed step for `SandboxError::Setup`.
fn describe(plan: &ChildPlan<'_>, step: Step, index: u32) -> String {
    let i = index as usize;
    let show = |c: Option<&CString>| {
        c.map_or(String::new(), |c| {
            OsStr::from_bytes(c.as_bytes())
                .to_string_lossy()
                .into_owned()
        })
    };
    let mounts = plan.ns.as_ref().map(|n| &n.mounts);
    match step {
        Step::Start => "clone".into(),
        Step::Pdeathsig => "prctl(PR_SET_PDEATHSIG)".into(),
        Step::WaitParent | Step::ParentGone => "wait for the parent".into(),
        Step::ResetSignals => format!("rt_sigaction {i}"),
        Step::UnblockSignals => "rt_sigprocmask".into(),
        Step::Setsid => "setsid".into(),
        Step::Subreaper => "prctl(PR_SET_CHILD_SUBREAPER)".into(),
        Step::Stdin => "dup2 stdin".into(),
        Step::Stdout => "dup2 stdout".into(),
        Step::Stderr => "dup2 stderr".into(),
        Step::MountPrivate => "mount / private".into(),
        Step::MountScaffold => format!("mount tmpfs scaffold on {}", show(mounts.map(|m| &m.base))),
        Step::ChdirScaffold => "chdir scaffold".into(),
        Step::PivotScaffold => "pivot_root into the scaffold".into(),
        Step::MountRootTmpfs => "mount tmpfs /newroot".into(),
        Step::ChdirNewRoot => "chdir /newroot".into(),
        Step::Mkdir => format!("mkdir /{}", show(mounts.and_then(|m| m.mkdirs.get(i)))),
        Step::Mknod => format!("mknod /{}", show(mounts.and_then(|m| m.mknods.get(i)))),
        Step::Bind => match mounts.and_then(|m| m.binds.get(i).map(|b| (m, b))) {
            Some((m, b)) => {
                let host = crate::mounts::host_of(&b.source).display();
                match &b.link {
                    Some(link) => format!(
                        "mount {} (bind of {}, resolved from {})",
                        m.bind_inside(i).display(),
                        host,
                        link.display()
                    ),
                    None => format!("mount {} (bind of {host})", m.bind_inside(i).display()),
                }
            }
            None => "mount".into(),
        },
        Step::MountProc => "mount /proc".into(),
        Step::PivotRoot => "pivot_root".into(),
        Step::DetachOldRoot => "umount2 old root".into(),
        Step::ChdirRoot => "chdir /".into(),
        Step::RemountReadOnly => "mount_setattr / read-only".into(),
        Step::OutputWritable => format!(
            "mount_setattr {} read-write",
            show(mounts.and_then(|m| m.outputs.get(i)))
        ),
        Step::DevNode => format!(
            "mount_setattr {} dev",
            show(mounts.and_then(|m| m.devs.get(i)))
        ),
        Step::MountTmp => "mount tmpfs /tmp".into(),
        Step::Sethostname => "sethostname".into(),
        Step::CapbsetDrop => format!("prctl(PR_CAPBSET_DROP, {i})"),
        Step::Setgroups => "setgroups".into(),
        Step::Setresgid => "setresgid".into(),
        Step::Setresuid => "setresuid".into(),
        Step::AmbientClear => "prctl(PR_CAP_AMBIENT_CLEAR_ALL)".into(),
        Step::Capset => "capset".into(),
        Step::Chdir => format!("chdir {}", show(Some(&plan.cwd))),
        Step::Rlimit => format!(
            "setrlimit {}",
            plan.rlimits.get(i).map_or("", |&(r, _)| rlimit_name(r))
        ),
        Step::NoNewPrivs => "prctl(PR_SET_NO_NEW_PRIVS)".into(),
        Step::LandlockOpen | Step::LandlockAddRule => {
            format!(
                "landlock_add_rule {}",
                show(
                    plan.landlock
                        .as_ref()
                        .and_then(|l| l.rules.get(i).map(|r| &r.0))
                )
            )
        }
        Step::LandlockRestrict => "landlock_restrict_self".into(),
        Step::Seccomp => "seccomp".into(),
        Step::CloseFds => "close_range".into(),
        Step::Execve => "execve".into(),
    }
}

/// RLIMIT_* names.
fn rlimit_name(r: i32) -> &'static str {
    match r as libc::__rlimit_resource_t {
        libc::RLIMIT_AS => "RLIMIT_AS",
        libc::RLIMIT_NPROC => "RLIMIT_NPROC",
        libc::RLIMIT_FSIZE => "RLIMIT_FSIZE",
        libc::RLIMIT_CPU => "RLIMIT_CPU",
        libc::RLIMIT_NOFILE => "RLIMIT_NOFILE",
        libc::RLIMIT_CORE => "RLIMIT_CORE",
        _ => "RLIMIT_?",
    }
}

/// Runs a checked policy under `sb`.
pub(crate) fn run(sb: &Sandbox, c: &Checked<'_>) -> Result<Outcome, SandboxError> {
    let mode = sb.mode;
    let p = c.policy;
    let host = &sb.host;
    if crate::interrupt::interrupted() {
        return Err(SandboxError::Setup {
            step: "start (the caller is being interrupted)".into(),
            source: std::io::Error::from_raw_os_error(libc::EINTR),
        });
    }
    let stdin = if sb.terminal {
        caller_fd(0)?
    } else {
        dev_null()?
    };
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    // With the caller's terminal, the child writes there; the pipes' write ends
    // close here, so the supervisor sees EOF at once.
    let (out_w, err_w) = if sb.terminal {
        (caller_fd(1)?, caller_fd(2)?)
    } else {
        (out_w, err_w)
    };
    let pipes = Pipes::new()?;

    // Namespaces: the mounts, the ids, the maps the parent writes.
    let (ns, maps, flags) = if mode.remaps_paths() {
        let tmp_bytes = p.limits.disk_bytes.unwrap_or(DEFAULT_TMP_BYTES);
        let mounts = MountPlan::build(c, &host.base, sb.with_proc, tmp_bytes);
        let to_nobody = host.root_in_init_userns;
        let inside = sb.inside_id;
        let outside = if to_nobody {
            (NOBODY, NOBODY)
        } else {
            (host.euid, host.egid)
        };
        // As root, inside 0 maps to root for the setup alone: the child must
        // create mount points in its tmpfs (which needs a mapped fsuid) and
        // resolve bind sources with root's permissions. It then switches to
        // INSIDE_ID, which clears every capability, and can never get back:
        // no setuid, no new user namespace, no ptrace (see child.rs).
        let maps = if to_nobody {
            IdMaps {
                deny_setgroups: false,
                uid_map: format!("0 0 1\n{inside} {NOBODY} 1\n"),
                gid_map: format!("0 0 1\n{inside} {NOBODY} 1\n"),
            }
        } else {
            IdMaps {
                deny_setgroups: true,
                uid_map: format!("{inside} {} 1", outside.0),
                gid_map: format!("{inside} {} 1", outside.1),
            }
        };
        let ids = Ids {
            uid: inside,
            gid: inside,
            clear_groups: to_nobody,
        };
        let flags = if std::env::var_os("SBX_NONET").is_some() {
            NS_FLAGS & !libc::CLONE_NEWNET
        } else {
            NS_FLAGS
        };
        (
            Some(NsPlan {
                mounts,
                hostname: p.hostname.as_bytes().to_vec(),
                ids,
            }),
            Some(maps),
            flags,
        )
    } else {
        (None, None, 0)
    };

    // Landlock.
    let abi = sb.landlock_abi.unwrap_or(crate::MAX_LANDLOCK_ABI);
    let (ruleset, child_rules) = match mode {
        Mode::Full => {
            let (fd, rules) = landlock::inside_ruleset(c, abi)?;
            (Some(above_stdio(fd)?), rules)
        }
        Mode::Landlock => (
            Some(above_stdio(landlock::host_ruleset(c, abi)?)?),
            Vec::new(),
        ),
        Mode::Namespaces | Mode::None => (None, Vec::new()),
    };
    let landlock = ruleset.as_ref().map(|fd| LandlockChild {
        ruleset_fd: fd.as_raw_fd(),
        rules: child_rules,
    });

    let fprog = SockFprog {
        len: sb.filter.len() as u16,
        filter: sb.filter.as_ptr(),
    };
    let drop_caps = match mode {
        Mode::None => None,
        Mode::Full | Mode::Namespaces => Some(host.cap_last_cap),
        Mode::Landlock if host.euid == 0 => Some(host.cap_last_cap),
        Mode::Landlock => Some(NO_BOUNDING_DROP),
    };
    let (strings, argv, envp) = argv_envp(p);
    // The run's cgroup: the child enters it before it may exec.
    let cg = match sb.cgroup {
        Some(base) => Some(base.create(p.limits.memory, p.limits.processes)?),
        None => None,
    };
    let (sync_r, sync_w) = (pipes.sync.0.as_raw_fd(), pipes.sync.1.as_raw_fd());
    let plan = ChildPlan {
        progress: AtomicU32::new(0),
        sync_read: sync_r,
        sync_write: sync_w,
        parent_pidfd: sb.self_pidfd.as_ref().map_or(-1, |fd| fd.as_raw_fd()),
        err_write: pipes.err.1.as_raw_fd(),
        stdin: stdin.as_raw_fd(),
        stdout: out_w.as_raw_fd(),
        stderr: err_w.as_raw_fd(),
        ns,
        drop_caps,
        cwd: cstr(&p.cwd),
        umask: sb.umask,
        rlimits: rlimits::plan(&p.limits, cg.is_some()),
        no_new_privs: mode != Mode::None,
        subreaper: !mode.remaps_paths(),
        landlock,
        seccomp: (mode != Mode::None).then_some(&fprog),
        program: cstr(&p.program),
        argv,
        envp,
        strings,
    };

    let handover = if mode.remaps_paths() && host.root_in_init_userns {
        Some(Handover::give(&p.outputs, &p.inputs)?)
    } else {
        None
    };
    let spawned = spawn::spawn(
        &plan,
        pipes,
        flags,
        host.netns.as_ref(),
        spawn::Handshake {
            maps: maps.as_ref(),
            cgroup: cg.as_ref(),
        },
        &|s, i| describe(&plan, s, i),
        &p.program,
    );
    // The child has its copies (or is gone): close ours so EOF can come.
    drop((out_w, err_w, stdin, ruleset));
    let finished = spawned.and_then(|s| {
        supervise::supervise(
            s,
            out_r,
            err_r,
            p.limits.wall,
            p.limits.output_bytes,
            !mode.remaps_paths(),
            cg.as_ref(),
        )
    });
    // Everything of the run is dead before outputs are given back.
    let memory_exceeded = cg.is_some_and(|cg| cg.finish());
    if let Some(h) = handover {
        let back = h.take_back();
        if finished.is_ok() {
            back?;
        }
    }
    let f = finished?;
    Ok(Outcome {
        status: f.status,
        stdout: f.stdout,
        stderr: f.stderr,
        output_truncated: f.truncated,
        memory_exceeded,
        wall: f.wall,
        cpu: f.cpu,
        enforcement: Enforcement {
            mode,
            landlock_abi: sb.landlock_abi,
            seccomp: mode != Mode::None,
        },
    })
}
