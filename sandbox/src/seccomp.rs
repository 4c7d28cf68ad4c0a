//! The seccomp filter: a Flatpak-style deny list as a hand-assembled classic BPF program.
//!
//! Built once per [`crate::Sandbox`] and installed by the child after
//! no-new-privs, just before execve. Denied calls fail with EPERM (`clone3`
//! with ENOSYS, so libc falls back to `clone`, whose flags the filter can
//! see). A foreign architecture (i386 via `int 0x80`, arm32) or the x32 ABI
//! kills the process: the numbers below mean nothing there.
//!
//! The program is a straight list of `if nr == X return EPERM` pairs plus a
//! few argument checks, each ending in a return, so every jump is short and
//! forward. Syscall numbers come from `libc` for the target (x86_64 or
//! aarch64); the architecture check comes first.

use libc::sock_filter;

/// SECCOMP_RET_KILL_PROCESS.
const RET_KILL_PROCESS: u32 = 0x8000_0000;
/// SECCOMP_RET_ERRNO (| errno).
const RET_ERRNO: u32 = 0x0005_0000;
/// SECCOMP_RET_ALLOW.
const RET_ALLOW: u32 = 0x7fff_0000;

/// Offsets in `struct seccomp_data`.
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
/// Low 32 bits of argument `i` (little-endian targets only).
const fn off_arg_lo(i: u32) -> u32 {
    16 + 8 * i
}

/// AUDIT_ARCH_* of the target.
#[cfg(target_arch = "x86_64")]
pub(crate) const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
pub(crate) const AUDIT_ARCH: u32 = 0xC000_00B7;

/// The x32 ABI marks its syscall numbers with this bit.
#[cfg(target_arch = "x86_64")]
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// Every `CLONE_NEW*` flag: a clone with any of them is denied.
pub(crate) const CLONE_NEW_MASK: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u32
    | 0x80; // CLONE_NEWTIME

/// TIOCSTI (push bytes into a terminal's input) and TIOCLINUX.
pub(crate) const TIOCSTI: u32 = 0x5412;
pub(crate) const TIOCLINUX: u32 = 0x541C;

/// personality(2) values a program may set: PER_LINUX, PER_LINUX32, and the query.
const PERSONALITY_OK: [u32; 3] = [0, 8, 0xffff_ffff];

/// open_tree_attr(2) (Linux 6.15), missing from libc.
const SYS_OPEN_TREE_ATTR: i64 = 467;
/// setxattrat(2) and removexattrat(2) (Linux 6.13), file_setattr(2) (Linux
/// 6.17), missing from libc; one number on every architecture.
const SYS_SETXATTRAT: i64 = 463;
const SYS_REMOVEXATTRAT: i64 = 466;
const SYS_FILE_SETATTR: i64 = 469;

/// ioctls that change an inode through a read-only descriptor the owner
/// holds: its flags or fsxattr (`chattr`: append-only, no-dump, no-atime,
/// project id…), its generation number, or fs-verity (which makes the file
/// read-only for good). Landlock's file rights cover none of them.
pub(crate) const FS_IOC_SETFLAGS: u32 = 0x4008_6602;
pub(crate) const FS_IOC32_SETFLAGS: u32 = 0x4004_6602;
pub(crate) const FS_IOC_FSSETXATTR: u32 = 0x401c_5820;
pub(crate) const FS_IOC_SETVERSION: u32 = 0x4008_7602;
pub(crate) const FS_IOC32_SETVERSION: u32 = 0x4004_7602;
pub(crate) const FS_IOC_ENABLE_VERITY: u32 = 0x4080_6685;

/// The only address family a command may create sockets of (socket(2),
/// socketpair(2)): Go's tools need none, and families outside the network
/// namespace's reach (AF_VSOCK to the hypervisor, AF_BLUETOOTH, AF_CAN…) or
/// within it (AF_NETLINK, AF_PACKET) are all ways out or across.
pub(crate) const ONLY_FAMILY: u32 = libc::AF_UNIX as u32;

/// Calls denied outright with EPERM.
pub(crate) fn denied() -> Vec<i64> {
    let mut v = vec![
        libc::SYS_unshare,
        libc::SYS_setns,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_mount_setattr,
        libc::SYS_open_tree,
        SYS_OPEN_TREE_ATTR,
        libc::SYS_move_mount,
        libc::SYS_fsopen,
        libc::SYS_fsconfig,
        libc::SYS_fsmount,
        libc::SYS_fspick,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_bpf,
        libc::SYS_perf_event_open,
        libc::SYS_userfaultfd,
        libc::SYS_kexec_load,
        libc::SYS_kexec_file_load,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_acct,
        libc::SYS_swapon,
        libc::SYS_swapoff,
        libc::SYS_reboot,
        libc::SYS_syslog,
        libc::SYS_quotactl,
        libc::SYS_quotactl_fd,
        libc::SYS_name_to_handle_at,
        libc::SYS_open_by_handle_at,
        // io_uring runs socket, open and other operations that a filter on
        // the system calls never sees.
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
    ];
    #[cfg(target_arch = "x86_64")]
    v.push(libc::SYS_uselib);
    v
}

/// Calls that change an existing file's metadata or watch others' files,
/// denied with EPERM in Mode::Landlock only: on the host tree Landlock
/// (through ABI 6) has no right for them, so a command could chmod, chown,
/// touch or set xattrs on any host file its uid owns (as root, every
/// root-owned file). The namespace modes need no such rule: everything but
/// the outputs and `/tmp` is a read-only mount there (EROFS), and those two
/// are the command's own. Go's tools never call them; GNU ld's `chmod` of
/// its output ignores the error, and the executor sets every output's mode
/// itself. inotify/fanotify are not metadata but read the host's activity
/// on files Landlock never granted.
pub(crate) fn metadata_calls() -> Vec<i64> {
    let mut v = vec![
        libc::SYS_fchmod,
        libc::SYS_fchmodat,
        libc::SYS_fchmodat2,
        libc::SYS_fchown,
        libc::SYS_fchownat,
        libc::SYS_utimensat,
        libc::SYS_setxattr,
        libc::SYS_lsetxattr,
        libc::SYS_fsetxattr,
        SYS_SETXATTRAT,
        libc::SYS_removexattr,
        libc::SYS_lremovexattr,
        libc::SYS_fremovexattr,
        SYS_REMOVEXATTRAT,
        SYS_FILE_SETATTR,
        libc::SYS_inotify_add_watch,
        libc::SYS_fanotify_init,
        libc::SYS_fanotify_mark,
    ];
    #[cfg(target_arch = "x86_64")]
    v.extend([
        libc::SYS_chmod,
        libc::SYS_chown,
        libc::SYS_lchown,
        libc::SYS_utime,
        libc::SYS_utimes,
        libc::SYS_futimesat,
    ]);
    v
}

/// A BPF statement.
const fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}
/// A BPF conditional jump.
const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

const LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const JEQ: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
#[cfg(target_arch = "x86_64")]
const JGE: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
const JSET: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;
const RET: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

/// Assembles the filter for the target architecture and `mode`.
///
/// In every mode, `socket(2)` and `socketpair(2)` of any family but AF_UNIX
/// fail with EAFNOSUPPORT (what the kernel answers for a family it lacks):
/// AF_VSOCK, for one, is not network-namespaced and Landlock does not govern
/// it. Mode::Landlock has no network namespace, and Landlock governs neither
/// UDP, netlink, nor connecting to a unix socket by path (a host daemon's,
/// `/run/docker.sock`, another action's), so there the filter denies
/// `socket(2)` of every family with EACCES, and the metadata calls
/// ([`metadata_calls`]) with EPERM. `socketpair(2)` of AF_UNIX stays: its
/// sockets are connected to each other only.
pub(crate) fn program(mode: crate::Mode) -> Vec<sock_filter> {
    let eperm = RET_ERRNO | libc::EPERM as u32;
    let enosys = RET_ERRNO | libc::ENOSYS as u32;
    let mut p = vec![
        stmt(LD_W_ABS, OFF_ARCH),
        jump(JEQ, AUDIT_ARCH, 1, 0),
        stmt(RET, RET_KILL_PROCESS),
        stmt(LD_W_ABS, OFF_NR),
    ];
    #[cfg(target_arch = "x86_64")]
    p.extend([
        jump(JGE, X32_SYSCALL_BIT, 0, 1),
        stmt(RET, RET_KILL_PROCESS),
    ]);
    for nr in denied() {
        p.extend([jump(JEQ, nr as u32, 0, 1), stmt(RET, eperm)]);
    }
    // clone3 hides its flags behind a pointer: ENOSYS, libc retries with clone.
    p.extend([jump(JEQ, libc::SYS_clone3 as u32, 0, 1), stmt(RET, enosys)]);
    // clone(flags, ...): flags are the first argument on x86_64 and aarch64.
    p.extend([
        jump(JEQ, libc::SYS_clone as u32, 0, 4),
        stmt(LD_W_ABS, off_arg_lo(0)),
        jump(JSET, CLONE_NEW_MASK, 0, 1),
        stmt(RET, eperm),
        stmt(RET, RET_ALLOW),
    ]);
    // ioctl(fd, cmd): the kernel truncates cmd to 32 bits, so do we.
    let bad_ioctls = [
        TIOCSTI,
        TIOCLINUX,
        FS_IOC_SETFLAGS,
        FS_IOC32_SETFLAGS,
        FS_IOC_FSSETXATTR,
        FS_IOC_SETVERSION,
        FS_IOC32_SETVERSION,
        FS_IOC_ENABLE_VERITY,
    ];
    let n = bad_ioctls.len() as u8;
    p.extend([
        jump(JEQ, libc::SYS_ioctl as u32, 0, n + 3),
        stmt(LD_W_ABS, off_arg_lo(1)),
    ]);
    for (i, cmd) in bad_ioctls.into_iter().enumerate() {
        p.push(jump(JEQ, cmd, n - i as u8, 0));
    }
    p.extend([stmt(RET, RET_ALLOW), stmt(RET, eperm)]);
    // personality(persona): only the defaults and the query.
    p.extend([
        jump(JEQ, libc::SYS_personality as u32, 0, 6),
        stmt(LD_W_ABS, off_arg_lo(0)),
        jump(JEQ, PERSONALITY_OK[0], 3, 0),
        jump(JEQ, PERSONALITY_OK[1], 2, 0),
        jump(JEQ, PERSONALITY_OK[2], 1, 0),
        stmt(RET, eperm),
        stmt(RET, RET_ALLOW),
    ]);
    if mode == crate::Mode::Landlock {
        let eacces = RET_ERRNO | libc::EACCES as u32;
        p.extend([jump(JEQ, libc::SYS_socket as u32, 0, 1), stmt(RET, eacces)]);
        for nr in metadata_calls() {
            p.extend([jump(JEQ, nr as u32, 0, 1), stmt(RET, eperm)]);
        }
    }
    // socket(domain, …), socketpair(domain, …): AF_UNIX only.
    let eafnosupport = RET_ERRNO | libc::EAFNOSUPPORT as u32;
    p.extend([
        jump(JEQ, libc::SYS_socket as u32, 1, 0),
        jump(JEQ, libc::SYS_socketpair as u32, 0, 4),
        stmt(LD_W_ABS, off_arg_lo(0)),
        jump(JEQ, ONLY_FAMILY, 1, 0),
        stmt(RET, eafnosupport),
        stmt(RET, RET_ALLOW),
    ]);
    p.push(stmt(RET, RET_ALLOW));
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic-BPF interpreter for the instructions the filter uses.
    fn run(prog: &[sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        let mut data = [0u8; 64];
        data[0..4].copy_from_slice(&nr.to_le_bytes());
        data[4..8].copy_from_slice(&arch.to_le_bytes());
        for (i, a) in args.iter().enumerate() {
            data[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
        }
        let (mut a, mut pc) = (0u32, 0usize);
        loop {
            let ins = prog[pc];
            pc += 1;
            match ins.code {
                LD_W_ABS => {
                    let k = ins.k as usize;
                    a = u32::from_le_bytes(data[k..k + 4].try_into().unwrap());
                }
                RET => return ins.k,
                code => {
                    let taken = match code {
                        JEQ => a == ins.k,
                        JSET => a & ins.k != 0,
                        #[cfg(target_arch = "x86_64")]
                        JGE => a >= ins.k,
                        _ => panic!("unknown opcode {code:#x}"),
                    };
                    pc += if taken { ins.jt } else { ins.jf } as usize;
                }
            }
        }
    }

    fn call(nr: i64, args: [u64; 6]) -> u32 {
        run(&program(crate::Mode::Full), AUDIT_ARCH, nr as u32, args)
    }
    const EPERM: u32 = RET_ERRNO | libc::EPERM as u32;

    #[test]
    fn denies_the_list_with_eperm() {
        for nr in denied() {
            assert_eq!(call(nr, [0; 6]), EPERM, "syscall {nr}");
        }
        assert_eq!(
            call(libc::SYS_clone3, [0; 6]),
            RET_ERRNO | libc::ENOSYS as u32
        );
    }

    #[test]
    fn allows_ordinary_calls() {
        for nr in [
            libc::SYS_read,
            libc::SYS_write,
            libc::SYS_openat,
            libc::SYS_execve,
            libc::SYS_exit_group,
        ] {
            assert_eq!(call(nr, [0; 6]), RET_ALLOW, "syscall {nr}");
        }
    }

    #[test]
    fn clone_flags() {
        let fork = libc::SIGCHLD as u64;
        let thread = (libc::CLONE_VM
            | libc::CLONE_FS
            | libc::CLONE_FILES
            | libc::CLONE_SIGHAND
            | libc::CLONE_THREAD) as u64;
        assert_eq!(call(libc::SYS_clone, [fork, 0, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(libc::SYS_clone, [thread, 0, 0, 0, 0, 0]), RET_ALLOW);
        for f in [
            libc::CLONE_NEWUSER,
            libc::CLONE_NEWNS,
            libc::CLONE_NEWNET,
            libc::CLONE_NEWPID,
            0x80,
        ] {
            assert_eq!(
                call(libc::SYS_clone, [fork | f as u64, 0, 0, 0, 0, 0]),
                EPERM,
                "flag {f:#x}"
            );
        }
    }

    #[test]
    fn ioctl_and_personality() {
        assert_eq!(
            call(libc::SYS_ioctl, [1, TIOCSTI as u64, 0, 0, 0, 0]),
            EPERM
        );
        assert_eq!(
            call(
                libc::SYS_ioctl,
                [1, 0xffff_ffff_0000_0000 | TIOCSTI as u64, 0, 0, 0, 0]
            ),
            EPERM
        );
        assert_eq!(
            call(libc::SYS_ioctl, [1, TIOCLINUX as u64, 0, 0, 0, 0]),
            EPERM
        );
        assert_eq!(
            call(libc::SYS_ioctl, [1, libc::TCGETS, 0, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(
            call(libc::SYS_personality, [0xffff_ffff, 0, 0, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(call(libc::SYS_personality, [0, 0, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(
            call(libc::SYS_personality, [0x0040000, 0, 0, 0, 0, 0]),
            EPERM
        ); // ADDR_NO_RANDOMIZE
    }

    #[test]
    fn landlock_mode_denies_sockets() {
        let eacces = RET_ERRNO | libc::EACCES as u32;
        let ll = program(crate::Mode::Landlock);
        let sock = |p: &[sock_filter], domain: i32| {
            run(
                p,
                AUDIT_ARCH,
                libc::SYS_socket as u32,
                [domain as u64, libc::SOCK_DGRAM as u64, 0, 0, 0, 0],
            )
        };
        assert_eq!(sock(&ll, libc::AF_INET), eacces);
        assert_eq!(sock(&ll, libc::AF_INET6), eacces);
        assert_eq!(sock(&ll, libc::AF_UNIX), eacces);
        assert_eq!(sock(&ll, libc::AF_NETLINK), eacces);
        let pair = [libc::AF_UNIX as u64, libc::SOCK_STREAM as u64, 0, 0, 0, 0];
        assert_eq!(
            run(&ll, AUDIT_ARCH, libc::SYS_socketpair as u32, pair),
            RET_ALLOW
        );
        // The rest of the filter is the same.
        assert_eq!(run(&ll, AUDIT_ARCH, libc::SYS_mount as u32, [0; 6]), EPERM);
    }

    /// Issue 13 item 2: AF_VSOCK (not network-namespaced) and every other
    /// family but AF_UNIX, in every mode, by socket(2) and socketpair(2).
    #[test]
    fn only_unix_sockets_in_every_mode() {
        let eaf = RET_ERRNO | libc::EAFNOSUPPORT as u32;
        for mode in [crate::Mode::Full, crate::Mode::Namespaces] {
            let p = program(mode);
            for family in 0..=64u64 {
                let args = |hi: u64| [hi | family, libc::SOCK_STREAM as u64, 0, 0, 0, 0];
                let want = if family == libc::AF_UNIX as u64 {
                    RET_ALLOW
                } else {
                    eaf
                };
                for nr in [libc::SYS_socket, libc::SYS_socketpair] {
                    assert_eq!(
                        run(&p, AUDIT_ARCH, nr as u32, args(0)),
                        want,
                        "{mode:?} {nr} family {family}"
                    );
                }
                // The kernel reads an int: the upper half does not matter.
                assert_eq!(
                    run(&p, AUDIT_ARCH, libc::SYS_socket as u32, args(1 << 32)),
                    want
                );
            }
        }
        let ll = program(crate::Mode::Landlock);
        let vsock = [libc::AF_VSOCK as u64, libc::SOCK_STREAM as u64, 0, 0, 0, 0];
        assert_eq!(
            run(&ll, AUDIT_ARCH, libc::SYS_socketpair as u32, vsock),
            eaf
        );
    }

    /// Issue 13 item 3: Landlock mode denies every metadata call; the
    /// namespace modes leave them to the read-only mounts.
    #[test]
    fn landlock_mode_denies_metadata_calls() {
        let ll = program(crate::Mode::Landlock);
        for nr in metadata_calls() {
            assert_eq!(
                run(&ll, AUDIT_ARCH, nr as u32, [0; 6]),
                EPERM,
                "syscall {nr}"
            );
            assert_eq!(call(nr, [0; 6]), RET_ALLOW, "syscall {nr} in Mode::Full");
        }
        #[cfg(target_arch = "x86_64")]
        for nr in [libc::SYS_chmod, libc::SYS_chown, libc::SYS_utimes] {
            assert!(metadata_calls().contains(&nr));
        }
        for cmd in [
            FS_IOC_SETFLAGS,
            FS_IOC32_SETFLAGS,
            FS_IOC_FSSETXATTR,
            FS_IOC_SETVERSION,
            FS_IOC32_SETVERSION,
            FS_IOC_ENABLE_VERITY,
        ] {
            for p in [&ll, &program(crate::Mode::Full)] {
                let args = [3, cmd as u64, 0, 0, 0, 0];
                assert_eq!(
                    run(p, AUDIT_ARCH, libc::SYS_ioctl as u32, args),
                    EPERM,
                    "ioctl {cmd:#x}"
                );
            }
        }
        // Ordinary file calls stay.
        for nr in [
            libc::SYS_openat,
            libc::SYS_newfstatat,
            libc::SYS_renameat2,
            libc::SYS_close,
        ] {
            assert_eq!(
                run(&ll, AUDIT_ARCH, nr as u32, [0; 6]),
                RET_ALLOW,
                "syscall {nr}"
            );
        }
    }

    #[test]
    fn kills_foreign_architectures() {
        const AUDIT_ARCH_I386: u32 = 0x4000_0003;
        assert_eq!(
            run(&program(crate::Mode::Full), AUDIT_ARCH_I386, 1, [0; 6]),
            RET_KILL_PROCESS
        );
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            call(X32_SYSCALL_BIT as i64 | libc::SYS_read, [0; 6]),
            RET_KILL_PROCESS
        );
    }
}
