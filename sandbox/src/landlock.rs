//! Landlock: the ruleset, built in the parent with the `landlock` crate as a hard requirement.
//!
//! Each sandbox uses one ABI: the kernel's, capped at [`crate::MAX_LANDLOCK_ABI`]
//! (6) and, for tests, lower (`Sandbox::with_landlock_abi`). Every right that
//! ABI has is handled (denied unless a rule grants it); nothing is
//! best-effort within it. Mode::Full accepts ABI 1 and above: its mount,
//! pid and network namespaces and the seccomp filter carry what the later
//! ABIs add (sandbox/README.md, "Landlock ABIs"). Mode::Landlock needs 6
//! ([`crate::LANDLOCK_MODE_MIN_ABI`]): without a pid namespace, only
//! Landlock's signal scoping confines signals.
//!
//! Rules attach to inodes. In `Mode::Landlock` the parent adds one rule per
//! declared host path (inputs read/execute, outputs read/write, the three
//! device nodes). In `Mode::Full` the mount namespace already holds nothing
//! but declared paths, so the child adds a constant number of rules on its
//! inside tree after the mounts: read/execute beneath `/`, read/write beneath
//! `/tmp` (a tmpfs only the child can name) and each output, the device
//! nodes. That keeps the per-run cost independent of the number of inputs.

use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::path::Path;

use landlock::{
    Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreated, RulesetCreatedAttr, Scope, ABI,
};

use crate::mounts::{cstr, DEV_NODES};
use crate::policy::{Checked, Kind};
use crate::SandboxError;

/// The crate's name for ABI `abi`.
fn of(abi: u8) -> ABI {
    ABI::from(i32::from(abi))
}
/// Read and execute beneath a directory.
fn read_dir(abi: u8) -> BitFlags<AccessFs> {
    AccessFs::from_read(of(abi))
}
/// Read and execute a file.
fn read_file(abi: u8) -> BitFlags<AccessFs> {
    AccessFs::from_read(of(abi)) & AccessFs::from_file(of(abi))
}
/// Everything beneath a writable directory.
fn write_dir(abi: u8) -> BitFlags<AccessFs> {
    AccessFs::from_all(of(abi))
}
/// Read, write, truncate (ABI 3) and ioctl (ABI 5) on a device node.
fn device(abi: u8) -> BitFlags<AccessFs> {
    (AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::Truncate | AccessFs::IoctlDev)
        & AccessFs::from_all(of(abi))
}

/// Maps a crate error to a setup error named after the step.
fn setup_err(step: String, e: impl std::error::Error + Send + Sync + 'static) -> SandboxError {
    SandboxError::Setup {
        step,
        source: std::io::Error::other(e),
    }
}

/// The ruleset every run starts from: every file, network (ABI 4) and scope
/// (ABI 6) right of `abi` handled (so denied unless a rule grants them), no
/// TCP port rules.
fn base(abi: u8) -> Result<RulesetCreated, SandboxError> {
    let step = || format!("landlock_create_ruleset (ABI {abi})");
    let mut r = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(of(abi)));
    if abi >= 4 {
        r = r.and_then(|r| r.handle_access(AccessNet::from_all(of(abi))));
    }
    if abi >= 6 {
        r = r.and_then(|r| r.scope(Scope::from_all(of(abi))));
    }
    r.and_then(|r| r.create()).map_err(|e| setup_err(step(), e))
}

/// Adds a rule beneath a host path.
fn add(
    r: RulesetCreated,
    host: &Path,
    access: BitFlags<AccessFs>,
) -> Result<RulesetCreated, SandboxError> {
    let step = || format!("landlock_add_rule {}", host.display());
    let fd = PathFd::new(host).map_err(|e| setup_err(step(), e))?;
    r.add_rule(PathBeneath::new(fd, access))
        .map_err(|e| setup_err(step(), e))
}

/// The ruleset fd to inherit.
fn into_fd(r: RulesetCreated) -> Result<OwnedFd, SandboxError> {
    Option::<OwnedFd>::from(r).ok_or_else(|| SandboxError::Setup {
        step: "landlock_create_ruleset".into(),
        source: std::io::Error::from_raw_os_error(libc::EOPNOTSUPP),
    })
}

/// Mode::Landlock: every rule on host paths, made here.
pub(crate) fn host_ruleset(c: &Checked<'_>, abi: u8) -> Result<OwnedFd, SandboxError> {
    let mut r = base(abi)?;
    for ((b, &k), g) in c.policy.inputs.iter().zip(&c.input_kinds).zip(&c.member_of) {
        if g.is_none() {
            r = add(
                r,
                &b.host,
                if k == Kind::Dir {
                    read_dir(abi)
                } else {
                    read_file(abi)
                },
            )?;
        }
    }
    for g in &c.groups {
        r = add(r, &g.host, read_dir(abi))?;
    }
    for b in &c.policy.outputs {
        r = add(r, &b.host, write_dir(abi))?;
    }
    for dev in DEV_NODES {
        r = add(r, Path::new(dev), device(abi))?;
    }
    into_fd(r)
}

/// An in-process step (`Sandbox::run_in_thread`): read `reads`, write beneath
/// `writes`, on host paths, whatever the mode.
pub(crate) fn thread_ruleset(
    reads: &[std::path::PathBuf],
    writes: &[std::path::PathBuf],
    abi: u8,
) -> Result<OwnedFd, SandboxError> {
    let mut r = base(abi)?;
    for p in reads {
        let access = if p.is_dir() {
            read_dir(abi)
        } else {
            read_file(abi)
        };
        r = add(r, p, access)?;
    }
    for p in writes {
        r = add(r, p, write_dir(abi))?;
    }
    into_fd(r)
}

/// Mode::Full: an empty ruleset, and the inside rules for the child to add.
pub(crate) fn inside_ruleset(
    c: &Checked<'_>,
    abi: u8,
) -> Result<(OwnedFd, Vec<(CString, u64)>), SandboxError> {
    let fd = into_fd(base(abi)?)?;
    let mut rules = vec![
        (c"/".to_owned(), read_dir(abi).bits()),
        (c"/tmp".to_owned(), write_dir(abi).bits()),
    ];
    for b in &c.policy.outputs {
        rules.push((cstr(&b.inside), write_dir(abi).bits()));
    }
    for dev in DEV_NODES {
        rules.push((cstr(Path::new(dev)), device(abi).bits()));
    }
    Ok((fd, rules))
}

/// The ABI the kernel offers (landlock_create_ruleset with
/// LANDLOCK_CREATE_RULESET_VERSION), or why there is none.
pub(crate) fn probe_abi() -> Result<u8, String> {
    // SAFETY: a NULL attr with size 0 and the VERSION flag only queries.
    let r = unsafe { libc::syscall(libc::SYS_landlock_create_ruleset, 0usize, 0usize, 1u32) };
    if r >= 0 {
        return Ok(r as u8);
    }
    let e = std::io::Error::last_os_error();
    Err(match e.raw_os_error() {
        Some(libc::ENOSYS) => "the kernel has no Landlock (landlock_create_ruleset: ENOSYS): build it with \
                               CONFIG_SECURITY_LANDLOCK=y and include `landlock` in CONFIG_LSM or in the `lsm=` boot parameter"
            .to_string(),
        Some(libc::EOPNOTSUPP) => "Landlock is built in but disabled (landlock_create_ruleset: EOPNOTSUPP): add \
                                   `landlock` to the `lsm=` boot parameter (e.g. lsm=landlock,lockdown,yama,integrity,apparmor,bpf)"
            .to_string(),
        _ => format!("landlock_create_ruleset: {e}"),
    })
}
