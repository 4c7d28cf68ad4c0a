//! Escape tests for gob-sandbox.
//!
//! Every case runs `escapee` (tests/escapee/escapee.c, built static by this
//! harness) in a fresh sandbox. The escapee performs one named attack and
//! prints `RESULT <case> blocked <detail>` or `RESULT <case> ESCAPED <detail>`;
//! each case pins the exact safe outcome: the errno, the exit status, and where
//! the attack aims at the host, the host state afterwards (a file unchanged
//! byte for byte, a listener that received nothing, a process still alive, no
//! process left behind).
//!
//! Test names are `<case>::<mode>`: `cargo test -p gob-sandbox --test escape
//! ::landlock` runs the Landlock column. A mode the host cannot provide is
//! skipped with a printed reason, except under `CI=true`, where it fails.
//! The `abi1`..`abi5` columns run the key cases in Mode::Full with the
//! Landlock ruleset of that ABI, as on an older kernel (issue 13 item 22:
//! Full mode holds from ABI 1; `GOB_TEST_LANDLOCK_ABI=n` caps the `full` and
//! `landlock` columns too).
//! The `control_*` cases run attacks unconfined (directly on the host, and in
//! `Mode::None`) and require them to succeed: proof the attacks are real.
//!
//! The suite must pass as root and as an unprivileged user
//! (ci/sandbox-escape-as-user runs it as uid 65534).

use gob_sandbox::{Bind, ExecStatus, Limits, Mode, Outcome, Policy, Sandbox, SandboxError};
use std::ffi::OsString;
use std::fs;
use std::io::{ErrorKind, Read};
use std::net::{TcpListener, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{SocketAddr, UnixListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// `name [modes] => body;`: one `#[test] fn mode()` per mode in `mod name`.
macro_rules! cases {
    ($( $(#[doc = $doc:literal])* $name:ident [$($mode:ident),+] => $body:expr; )*) => {
        $(
            $(#[doc = $doc])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                $(
                    #[test]
                    fn $mode() {
                        super::run_case(stringify!($mode), concat!(stringify!($name), "::", stringify!($mode)), $body);
                    }
                )+
            }
        )*
    };
}

// ============================================================== the table
//
// `name [modes] => body;` makes one #[test] per mode, `name::mode`. The body
// gets a fresh fixture `f` (see `Fx`); `f.case(attack, args, expected)` runs
// the escapee once in a fresh sandbox and asserts its RESULT line is exactly
// `expected`. `f.hidden()` / `f.readonly()` are the errno the mode answers for
// a path that must not exist / must not be writable (ENOENT/EROFS behind a
// mount namespace, EACCES under Landlock on the host tree).

cases! {
    // ---------------------------------------------------------- reading
    /// The host's /etc/passwd is not readable.
    read_etc_passwd [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        f.case("read", &["/etc/passwd"], &blocked(f.hidden()));
    };
    /// A secret in a "home" directory outside the declared inputs is not readable.
    read_home_secret [full, namespaces, landlock] => |f| {
        f.case("read", &[&f.hs("home/.netrc")], &blocked(f.hidden()));
    };
    /// The host's real $HOME cannot be listed.
    list_host_home [full, namespaces, landlock] => |f| {
        let home = host_home();
        f.case("list", &[&home], &blocked(f.hidden_host(&home)));
    };
    /// A file next to a declared input, in the same host directory, is invisible.
    read_undeclared_sibling [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        f.case("read", &[&f.p("/src/secret.txt")], &blocked(f.hidden()));
    };
    /// The directory of a declared input lists only the declared input.
    list_input_dir [full, namespaces] => |f| {
        f.case("list", &["/src", "input.txt"], "blocked entries=input.txt");
    };
    /// Under Landlock the input's host directory cannot be listed at all.
    list_input_dir_host [landlock] => |f| {
        f.case("list", &[&f.hs("src")], &blocked("EACCES"));
    };
    /// Another action's work directory (a sibling of the output dir) is not readable.
    read_other_action [full, namespaces, landlock] => |f| {
        f.case("read", &[&f.hs("other-action/secret.txt")], &blocked(f.hidden()));
        f.case("list", &[&f.hs("other-action")], &blocked(f.hidden()));
    };
    /// The host's kernel command line is not readable.
    read_proc_cmdline [full, namespaces, landlock] => |f| {
        f.case("read", &["/proc/cmdline"], &blocked(f.hidden()));
    };
    /// The host init's command line is not readable.
    read_proc_init [full, namespaces, landlock] => |f| {
        f.case("read", &["/proc/1/cmdline"], &blocked(f.hidden()));
    };
    /// The command's own /proc/self is not the host's.
    read_proc_self [full, namespaces, landlock] => |f| {
        f.case("read", &["/proc/self/mountinfo"], &blocked(f.hidden()));
        f.case("read", &["/proc/self/environ"], &blocked(f.hidden()));
    };
    /// A host process's /proc entry is not readable (pid from the host).
    read_proc_host_process [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let sleep = HostProc::sleep();
        f.case("read", &[&format!("/proc/{}/cmdline", sleep.pid())], &blocked(f.hidden()));
        f.case("read", &[&format!("/proc/{}/environ", sleep.pid())], &blocked(f.hidden()));
    };
    /// A read-only input cannot be reopened read-write through /proc/self/fd.
    reopen_input_rw [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let snap = Snapshot::of(&f.host("src/input.txt"));
        f.case("reopen-rw", &[&f.p(INPUT)], &blocked(f.hidden()));
        snap.assert_unchanged();
    };
    /// chdir("..") from the output dir never leaves the sandbox root.
    chdir_up_to_host [full, namespaces, landlock] => |f| {
        f.case("chdir-up", &["etc/passwd"], &blocked(f.hidden()));
    };

    // ------------------------------------------- writing declared inputs
    /// open(O_WRONLY|O_TRUNC) of a declared input fails; the host file is unchanged.
    input_write_trunc [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        f.input_attack("write-trunc", &[&f.p(INPUT)], &blocked(f.readonly()));
    };
    /// truncate(2) of a declared input fails.
    input_truncate [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        f.input_attack("truncate", &[&f.p(INPUT)], &blocked(f.readonly()));
    };
    /// chmod of a declared input fails; the host file's mode is unchanged.
    input_chmod [full, namespaces, abi1, abi2, abi3, abi4, abi5] => |f| {
        f.input_attack("chmod", &[&f.p(INPUT)], &f.by_mode(blocked("EROFS"), blocked("EROFS"), ANY_BLOCKED.into()));
    };
    /// utimensat of a declared input fails; the host file's times are unchanged.
    input_utimes [full, namespaces, abi1, abi2, abi3, abi4, abi5] => |f| {
        f.input_attack("utimes", &[&f.p(INPUT)], &f.by_mode(blocked("EROFS"), blocked("EROFS"), ANY_BLOCKED.into()));
    };
    /// Issue 13 item 3: no metadata call reaches a host file the command's
    /// uid owns outside the declared paths, nor a declared input: chmod,
    /// fchmod through a read-only descriptor, chown, utimes, setxattr, chattr.
    /// (Landlock has no right for metadata: in Landlock mode seccomp denies
    /// the calls; behind a mount namespace the file is absent or read-only.)
    metadata [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => metadata;
    /// unlink of a declared input fails.
    input_unlink [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        f.input_attack("unlink", &[&f.p(INPUT)], &blocked(f.by_mode("EROFS", "EROFS", "EACCES")));
    };
    /// rename of a declared input into the output dir fails (different mounts).
    input_rename_out [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        f.input_attack("rename", &[&f.p(INPUT), &f.p("/out/stolen")], &blocked(f.by_mode("EXDEV", "EXDEV", "EACCES")));
        assert_absent(&f.host("out/stolen"));
    };
    /// A hard link of a declared input into the output dir fails.
    input_hardlink_out [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let snap = Snapshot::of(&f.host("src/input.txt"));
        let r = f.run_case("link", &[&f.p(INPUT), &f.p("/out/hardlink")], |_| {});
        r.assert_blocked_one_of(&["EXDEV", "EPERM", "EACCES"]); // the issue's allowed set…
        r.assert_line(&blocked("EXDEV")); // …and what each mode answers
        assert_absent(&f.host("out/hardlink"));
        snap.assert_unchanged();
    };
    /// An input bound beneath the writable output dir (and living there on the
    /// host) can be neither written, truncated, chmodded, touched, unlinked,
    /// renamed nor hard-linked.
    input_inside_output [full, namespaces, abi1, abi2, abi3, abi4, abi5] => |f| {
        let host = f.host("out/input.txt");
        fs::write(&host, "declared input inside the output dir\n").unwrap();
        fs::set_permissions(&host, fs::Permissions::from_mode(0o666)).unwrap();
        let inside = "/out/input.txt";
        let with_input = |p: &mut Policy| p.inputs.push(Bind { host: host.clone(), inside: inside.into() });
        for (attack, args, expect) in [
            ("write-trunc", vec![inside], "EROFS"),
            ("truncate", vec![inside], "EROFS"),
            ("chmod", vec![inside], "EROFS"),
            ("utimes", vec![inside], "EROFS"),
            ("unlink", vec![inside], "EBUSY"),
            ("rename", vec![inside, "/out/moved"], "EBUSY"),
            ("link", vec![inside, "/out/linked"], "EXDEV"),
        ] {
            let snap = Snapshot::of(&host);
            f.case_with(attack, &args, &blocked(expect), with_input);
            snap.assert_unchanged_after(attack);
        }
        assert_absent(&f.host("out/moved"));
        assert_absent(&f.host("out/linked"));
    };

    // ------------------------------------------ writing outside the outputs
    /// `..` from the output dir cannot reach a host file (the path names the
    /// host file absolutely after enough `..` to climb to /).
    write_dotdot [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let snap = Snapshot::of(&f.host("victim.txt"));
        let path = format!("{}/{}{}", f.p(OUT), "../".repeat(16), f.hs("victim.txt").trim_start_matches('/'));
        f.case("write-new", &[&path], &blocked(f.hidden()));
        snap.assert_unchanged();
    };
    /// `..` from the output dir lands in the sandbox root, which is not writable
    /// and is not the host's parent directory.
    write_dotdot_parent [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let path = format!("{}/../escaped-parent.txt", f.p(OUT));
        f.case("write-new", &[&path], &blocked(f.readonly()));
        assert_absent(&f.host("escaped-parent.txt"));
    };
    /// A symlink planted among the outputs pointing at a host file cannot be
    /// written through; it stays planted (the executor must not follow it) and
    /// the host target is unchanged.
    symlink_to_host_file [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let victim = f.hs("victim.txt");
        let snap = Snapshot::of(&f.host("victim.txt"));
        f.case("symlink-write", &[&victim, &f.p("/out/planted")], &blocked(f.hidden()));
        assert_eq!(fs::read_link(f.host("out/planted")).unwrap(), Path::new(&victim), "the planted link");
        snap.assert_unchanged();
    };
    /// A symlink among the outputs pointing at a declared input cannot be written through.
    symlink_to_input [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        f.input_attack("symlink-write", &[&f.p(INPUT), &f.p("/out/to-input")], &blocked(f.readonly()));
    };
    /// Writing a file at the root of the sandbox fails, and nothing reaches the host's /.
    write_root [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let name = format!("/gob-escape-root-{}", unique());
        f.case("write-new", &[&name], &blocked(f.readonly()));
        assert_absent(Path::new(&name));
    };
    /// The host's /tmp is not the sandbox's: a file the test creates there is invisible.
    tmp_is_private_read [full, namespaces, landlock] => |f| {
        let file = HostTmpFile::new();
        f.case("read", &[&file.path], &blocked(f.hidden()));
    };
    /// A file created in /tmp inside (a private tmpfs behind a mount
    /// namespace) never appears in the host's /tmp.
    tmp_is_private_write [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let name = format!("/tmp/gob-escape-new-{}", unique());
        f.case("create", &[&name], &f.by_mode("created".into(), "created".into(), blocked("EACCES")));
        assert_absent(Path::new(&name));
    };
    /// mknod of a block device (the host's disk) in the output dir fails
    /// (no CAP_MKNOD: Landlock grants every make right beneath outputs).
    mknod_block_device [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let (major, minor) = host_disk().1;
        f.case("mknod", &[&f.p("/out/disk"), &major.to_string(), &minor.to_string()],
            &blocked("EPERM"));
        assert_absent(&f.host("out/disk"));
    };
    /// The host's disk device is not openable.
    read_host_disk [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let disk = host_disk().0;
        f.case("read", &[&disk], &blocked(f.hidden_host(&disk)));
        f.case("read", &["/dev/mem"], &blocked(f.hidden_host("/dev/mem")));
    };
    /// /dev holds exactly null, zero and urandom.
    dev_is_minimal [full, namespaces] => |f| {
        f.case("list", &["/dev", "null", "zero", "urandom"], "blocked entries=null,urandom,zero");
    };
    /// /sys is not readable.
    read_sys [full, namespaces, landlock] => |f| {
        f.case("list", &["/sys"], &blocked(f.hidden()));
        f.case("read", &["/sys/kernel/mm/transparent_hugepage/enabled"], &blocked(f.hidden()));
    };

    // ------------------------------------------------------------ network
    /// TCP to a listener the test opened on the host's 127.0.0.1 fails; the
    /// listener accepts nothing. (Mode::Full: Landlock denies the connect;
    /// Mode::Namespaces: the only loopback is down; Mode::Landlock: the
    /// seccomp filter denies IP sockets.)
    tcp_to_host [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let port = l.local_addr().unwrap().port().to_string();
        f.case("tcp", &["127.0.0.1", &port], f.by_mode(NO_INET, NO_INET, LANDLOCK_NO_IP));
        assert_would_block(l.accept().map(|_| ()), "the host TCP listener accepted a connection");
    };
    /// UDP to a socket the test bound on the host's 127.0.0.1 fails; nothing arrives.
    udp_to_host [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_nonblocking(true).unwrap();
        let port = s.local_addr().unwrap().port().to_string();
        f.case("udp", &["127.0.0.1", &port], f.by_mode(NO_INET, NO_INET, LANDLOCK_NO_IP));
        std::thread::sleep(Duration::from_millis(100));
        assert_would_block(s.recv(&mut [0; 64]).map(|_| ()), "the host UDP socket received a datagram");
    };
    /// An abstract unix socket the host listens on cannot be connected to, so
    /// no fd can be passed out with SCM_RIGHTS (Nix CVE-2024-27297).
    abstract_unix_to_host [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let name = format!("gob-escape-{}", unique());
        let l = UnixListener::bind_addr(&SocketAddr::from_abstract_name(&name).unwrap()).unwrap();
        l.set_nonblocking(true).unwrap();
        // Landlock mode denies socket(2) itself (seccomp): no socket to connect.
        f.case("unix-connect", &[&name], &blocked(f.by_mode("ECONNREFUSED", "ECONNREFUSED", "EACCES (socket)")));
        assert_would_block(l.accept().map(|_| ()), "the host abstract socket accepted a connection");
    };
    /// A unix socket the host listens on by path (an ssh-agent, docker.sock,
    /// a session bus), outside the declared paths, cannot be connected to, so
    /// no fd can be passed out.
    unix_path_socket_to_host [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let path = f.host("other-action/agent.sock");
        let l = UnixListener::bind(&path).unwrap();
        l.set_nonblocking(true).unwrap();
        f.case("unix-path-connect", &[path.to_str().unwrap()], &f.by_mode(blocked("ENOENT"), blocked("ENOENT"), ANY_BLOCKED.into()));
        assert_would_block(l.accept().map(|_| ()), "the host unix socket accepted a connection");
    };
    /// A UDP socket made through io_uring (IORING_OP_SOCKET, which a seccomp
    /// filter on socket(2) never sees) reaches nothing on the host either.
    udp_via_io_uring [full, namespaces, landlock] => |f| {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_nonblocking(true).unwrap();
        let port = s.local_addr().unwrap().port().to_string();
        f.case("uring-udp", &["127.0.0.1", &port], ANY_BLOCKED);
        std::thread::sleep(Duration::from_millis(100));
        assert_would_block(s.recv(&mut [0; 64]).map(|_| ()), "the host UDP socket received a datagram");
    };
    /// Two concurrent actions of one build cannot meet on an abstract unix
    /// socket (a name in another network namespace: ECONNREFUSED; in a shared
    /// one, Landlock's scoping: EPERM). Landlock mode is not listed: no action
    /// can create a socket there (abstract_unix_to_host::landlock pins that).
    abstract_unix_between_actions [full, namespaces, abi1, abi2, abi3, abi4, abi5] => |f| {
        let name = format!("gob-escape-{}", unique());
        between_actions(f, "unix-listen", "unix-connect", &name, &["ECONNREFUSED", "EPERM"]);
    };
    /// A NETLINK_USERSOCK message (which unprivileged processes may send to
    /// any userspace port in their network namespace) does not reach a host socket.
    netlink_to_host [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let nl = HostNetlink::bind();
        f.case("nl-send", &[&nl.port().to_string()], f.by_mode(NO_INET, NO_INET, LANDLOCK_NO_IP));
        std::thread::sleep(Duration::from_millis(50));
        assert!(!nl.received(), "the host netlink socket received the message");
    };
    /// …nor another action of the same build: no action can even open a
    /// netlink socket to listen on (only AF_UNIX sockets exist; Landlock
    /// mode: no socket(2) at all).
    netlink_between_actions [full, namespaces, landlock] => |f| {
        static N: AtomicU64 = AtomicU64::new(0);
        let port = (0x4000_0000 | ((u64::from(std::process::id()) << 8 | N.fetch_add(1, Ordering::Relaxed)) & 0x3fff_ffff)).to_string();
        let (ready, done) = (f.p("/out/ready"), f.p("/out/done"));
        f.case("nl-listen", &[&port, &ready, &done], f.by_mode(NO_INET, NO_INET, LANDLOCK_NO_IP));
        assert_absent(&f.host("out/ready"));
    };
    /// Issue 13 item 2: socket(2) and socketpair(2) of every address family
    /// (0 to 63, past AF_MAX) with each common type: only AF_UNIX may be made
    /// (AF_VSOCK, AF_PACKET, AF_NETLINK, AF_INET… fail with EAFNOSUPPORT;
    /// Landlock mode allows no socket(2) at all, only an AF_UNIX socketpair).
    socket_families [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        f.case("socket-families", &[], &format!("blocked socket={} socketpair=1", f.by_mode("1", "1", "-")));
    };
    /// AF_VSOCK is not network-namespaced and Landlock does not govern it:
    /// no vsock socket can be created, bound or listened on.
    vsock_listen [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        f.case("vsock-listen", &[], f.by_mode(NO_INET, NO_INET, LANDLOCK_NO_IP));
    };
    /// Only the loopback interface exists.
    network_interfaces [full, namespaces] => |f| {
        f.case("netifs", &["lo"], "blocked ifaces=lo");
    };

    // -------------------------------------------------- other processes
    /// kill(SIGKILL) of a host process fails; it lives on.
    kill_host_process [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let sleep = HostProc::sleep();
        f.case("kill", &[&sleep.pid().to_string()], &blocked(f.by_mode("ESRCH", "ESRCH", "EPERM")));
        sleep.assert_alive();
    };
    /// No process outside the sandbox can be signalled at all (kill(-1, 0)).
    kill_everything [full, namespaces, abi1, abi2, abi3, abi4, abi5] => |f| {
        f.case("kill-any", &[], &blocked("ESRCH"));
    };
    /// PTRACE_ATTACH of a host process fails; it is not traced.
    ptrace_attach_host [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let sleep = HostProc::sleep();
        f.case("ptrace-attach", &[&sleep.pid().to_string()], &blocked("EPERM"));
        sleep.assert_alive();
        sleep.assert_untraced();
    };
    /// PTRACE_SEIZE of a host process fails; it is not traced.
    ptrace_seize_host [full, namespaces, landlock] => |f| {
        let sleep = HostProc::sleep();
        f.case("ptrace-seize", &[&sleep.pid().to_string()], &blocked("EPERM"));
        sleep.assert_untraced();
    };
    /// process_vm_readv of a host process fails (the seccomp filter: EPERM, not ESRCH).
    vm_read_host [full, namespaces, landlock] => |f| {
        let sleep = HostProc::sleep();
        f.case("vm-read", &[&sleep.pid().to_string()], &blocked("EPERM"));
    };

    // ------------------------------------------ the seccomp filter
    //
    // Each call's arguments make the kernel itself fail with another known
    // errno (escapee.c names it); the escapee reports that as ESCAPED, so a
    // pinned EPERM (ENOSYS for clone3) proves the filter stopped the call.
    /// unshare(CLONE_NEW* | invalid bit) for every namespace: EPERM, not the kernel's EINVAL.
    seccomp_unshare [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| { f.case("sys-unshare", &[], &blocked("EPERM")); };
    /// clone(CLONE_NEW* | CLONE_THREAD) for every namespace: EPERM, not EINVAL.
    seccomp_clone_namespaces [full, namespaces, landlock] => |f| { f.case("sys-clone-ns", &[], &blocked("EPERM")); };
    /// clone3(NULL, 0): ENOSYS (libc falls back to clone, whose flags the filter can see), not EINVAL.
    seccomp_clone3 [full, namespaces, landlock] => |f| { f.case("sys-clone3", &[], &blocked("ENOSYS")); };
    /// mount onto a missing dir: EPERM, not ENOENT.
    seccomp_mount [full, namespaces, landlock] => |f| { f.case("sys-mount", &[], &blocked("EPERM")); };
    /// umount2 with a bad flag: EPERM, not EINVAL.
    seccomp_umount [full, namespaces, landlock] => |f| { f.case("sys-umount", &[], &blocked("EPERM")); };
    /// chroot to a missing dir: EPERM, not ENOENT.
    seccomp_chroot [full, namespaces, landlock] => |f| { f.case("sys-chroot", &[], &blocked("EPERM")); };
    /// pivot_root: EPERM (the kernel answers EPERM too for a caller without
    /// CAP_SYS_ADMIN, so this pins only the outcome).
    seccomp_pivot_root [full, namespaces, landlock] => |f| { f.case("sys-pivot-root", &[], &blocked("EPERM")); };
    /// setns(-1): EPERM, not EBADF.
    seccomp_setns [full, namespaces, landlock] => |f| { f.case("sys-setns", &[], &blocked("EPERM")); };
    /// keyctl / add_key / request_key: EPERM, not EOPNOTSUPP / EFAULT.
    seccomp_keyctl [full, namespaces, landlock] => |f| { f.case("sys-keyctl", &[], &blocked("EPERM")); };
    /// bpf with an oversized attr: EPERM, not E2BIG.
    seccomp_bpf [full, namespaces, landlock] => |f| { f.case("sys-bpf", &[], &blocked("EPERM")); };
    /// perf_event_open with bad flags: EPERM, not EINVAL.
    seccomp_perf_event_open [full, namespaces, landlock] => |f| { f.case("sys-perf", &[], &blocked("EPERM")); };
    /// userfaultfd with a bad flag: EPERM, not EINVAL.
    seccomp_userfaultfd [full, namespaces, landlock] => |f| { f.case("sys-userfaultfd", &[], &blocked("EPERM")); };
    /// ptrace(PTRACE_ATTACH) of a pid that cannot exist: EPERM, not ESRCH.
    seccomp_ptrace [full, namespaces, landlock] => |f| { f.case("sys-ptrace", &[], &blocked("EPERM")); };
    /// open_tree with bad flags (new mount API): EPERM, not EINVAL.
    seccomp_open_tree [full, namespaces, landlock] => |f| { f.case("sys-open-tree", &[], &blocked("EPERM")); };
    /// mount_setattr with bad flags (new mount API): EPERM, not EINVAL.
    seccomp_mount_setattr [full, namespaces, landlock] => |f| { f.case("sys-mount-setattr", &[], &blocked("EPERM")); };

    // ------------------------------------------------- inherited state
    /// TIOCSTI cannot push input into the caller's terminal: the caller's
    /// controlling tty is a pty; nothing reaches its input queue.
    tiocsti [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => tiocsti;
    /// A host fd opened without O_CLOEXEC before the run is not inherited.
    leaked_fds [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let _leak = LeakedFd::open(&f.host("src/secret.txt"));
        f.case("fds", &[], "blocked none");
    };
    /// The environment is exactly the declared one.
    env_is_declared [full, namespaces, landlock] => |f| {
        f.case("env", &["PATH=/bin", "GOB_ESCAPE=1"], "blocked vars=2");
    };
    /// The hostname is the policy's.
    hostname_is_fixed [full, namespaces] => |f| {
        f.case("hostname", &[HOSTNAME], &format!("blocked hostname={HOSTNAME}"));
    };
    /// uid/gid are 1000 inside (the host's ids under Landlock), and no-new-privs is set.
    ids [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => |f| {
        let (u, g) = f.ids();
        f.case("ids", &[&u.to_string(), &g.to_string()], &format!("blocked uid={u}/{u}/{u} gid={g}/{g}/{g} nnp=1"));
    };
    /// A setuid-root copy of a program staged as an input does not raise
    /// privileges (as non-root the copy is setuid to the caller: same outcome).
    setuid_input [full, namespaces, landlock, abi1, abi2, abi3, abi4, abi5] => setuid_input;
    /// Raising any hard rlimit back fails.
    rlimit_raise [full, namespaces, landlock] => |f| {
        f.case_with("rlimit-raise", &[], "blocked errno=EPERM limits=AS,NPROC,FSIZE,NOFILE,CPU",
            |p| p.limits.cpu = Some(Duration::from_secs(600)));
    };

    // ------------------------------------------------------- resources
    /// A fork bomb is bounded by limits.processes: fork fails with EAGAIN, the
    /// run returns, and no process of the bomb survives.
    fork_bomb [full, namespaces] => |f| {
        let marker = marker();
        let r = f.case_with("forkbomb", &["1000", &marker], "blocked errno=EAGAIN forks=*",
            |p| p.limits.processes = Some(32));
        let forks: u32 = r.line.rsplit('=').next().unwrap().parse().unwrap();
        assert!(forks < 32, "{forks} forks succeeded under a limit of 32 processes");
        assert_no_survivors(&marker, Duration::from_secs(5));
    };
    /// 64 GiB of allocation fails with ENOMEM under limits.memory.
    alloc_64_gib [full, namespaces, landlock] => |f| {
        f.case_with("alloc", &["64"], "blocked errno=ENOMEM", |p| p.limits.memory = Some(1 << 30));
    };
    /// An endless loop is killed at limits.wall: TimedOut within wall + 1 s.
    endless_loop [full, namespaces, landlock] => |f| {
        let marker = marker();
        let start = Instant::now();
        let r = f.run_case("spin", &[&marker], |p| p.limits.wall = Some(Duration::from_secs(2)));
        let took = start.elapsed();
        r.assert_status(ExecStatus::TimedOut);
        assert!(took < Duration::from_secs(3), "run() returned after {took:?} for a 2 s wall limit");
        assert_no_survivors(&marker, Duration::from_secs(2));
    };
    /// limits.cpu kills a CPU-bound command: soft and hard RLIMIT_CPU are
    /// equal, so the kernel sends SIGKILL at once (no SIGXCPU first).
    cpu_limit [full, namespaces, landlock] => |f| {
        let start = Instant::now();
        let r = f.run_case("spin", &[], |p| {
            p.limits.cpu = Some(Duration::from_secs(1));
            p.limits.wall = Some(Duration::from_secs(20));
        });
        r.assert_status(ExecStatus::Signaled(libc::SIGKILL));
        assert!(start.elapsed() < Duration::from_secs(5), "a 1 s CPU limit took {:?}", start.elapsed());
    };
    /// A double-forked daemon does not outlive the run, and the run returns
    /// as soon as the command exits.
    double_fork_daemon [full, namespaces, landlock, none, abi1, abi2, abi3, abi4, abi5] => |f| daemon(f, false);
    /// …even when the daemon keeps the caller's stdout pipe open.
    double_fork_daemon_holding_stdout [full, namespaces, landlock, none] => |f| daemon(f, true);
    /// Issue 13 item 3: a daemon that would rewrite an output after the run
    /// (the output swap) is gone when run() returns, in every mode.
    daemon_rewrites_output_later [full, namespaces, landlock, none, abi1, abi2, abi3, abi4, abi5] => daemon_rewrites_output;
    /// gob SIGKILLed mid-build takes the whole sandboxed tree with it.
    gob_sigkilled [full, namespaces] => gob_sigkilled;
    /// 8 GiB on stdout is cut at limits.output_bytes; the caller's memory stays bounded.
    output_flood [full, namespaces, landlock] => |f| {
        let limit = 1u64 << 20;
        let r = f.run_case("flood", &["8589934592"], |p| {
            p.limits.output_bytes = Some(limit);
            p.limits.wall = Some(Duration::from_secs(600));
        });
        r.assert_status(ExecStatus::Exited(0));
        assert_eq!(r.out.stdout.len() as u64, limit, "stdout kept");
        assert!(r.out.stdout.iter().all(|&b| b == b'A'), "stdout holds only the flood");
        assert!(r.out.output_truncated, "output_truncated");
        assert_eq!(String::from_utf8_lossy(&r.out.stderr), "RESULT flood wrote=8589934592\n", "stderr");
        let hwm = vm_hwm();
        assert!(hwm < 1 << 30, "the test process peaked at {hwm} bytes resident");
    };
    /// A file larger than limits.disk_bytes cannot be written (SIGXFSZ ignored: EFBIG).
    big_file_efbig [full, namespaces, landlock] => |f| {
        f.case_with("bigfile", &[&f.p("/out/big"), "4194304"], "blocked errno=EFBIG written=1048576",
            |p| p.limits.disk_bytes = Some(1 << 20));
        assert_eq!(fs::metadata(f.host("out/big")).unwrap().len(), 1 << 20, "host file size");
    };
    /// …and with SIGXFSZ at its default disposition: under Landlock the
    /// writer dies of it; behind a pid namespace the command is the
    /// namespace's init, which the kernel shields from default-action
    /// signals, so the write fails with EFBIG instead. Either way the file
    /// stops at the limit.
    big_file_sigxfsz [full, namespaces, landlock] => |f| {
        let r = f.run_case("bigfile", &[&f.p("/out/big"), "4194304", "keep-signal"],
            |p| p.limits.disk_bytes = Some(1 << 20));
        if f.mode.remaps_paths() {
            r.assert_line("blocked errno=EFBIG written=1048576");
        } else {
            r.assert_status(ExecStatus::Signaled(libc::SIGXFSZ));
        }
        assert_eq!(fs::metadata(f.host("out/big")).unwrap().len(), 1 << 20, "host file size");
    };

    // ---------------------------------------------------------- controls
    //
    // The same attacks unconfined must succeed, or the cases above prove
    // nothing. `host` runs the escapee directly; `none` through Mode::None.
    /// Control: the host's /etc/passwd is readable unconfined.
    control_read_etc_passwd [host, none] => |f| { f.case("read", &["/etc/passwd"], "ESCAPED*"); };
    /// Control: the undeclared sibling is readable unconfined.
    control_read_undeclared [host, none] => |f| { f.case("read", &[&f.p("/src/secret.txt")], "ESCAPED*"); };
    /// Control: a declared input is writable unconfined (and the snapshot notices).
    control_input_write_trunc [host, none] => |f| {
        let snap = Snapshot::of(&f.host("src/input.txt"));
        f.case("write-trunc", &[&f.p(INPUT)], "ESCAPED*");
        assert!(!snap.unchanged(), "the write did not change the input");
    };
    /// Control: a planted symlink writes the host file unconfined.
    control_symlink_to_host_file [host, none] => |f| {
        let snap = Snapshot::of(&f.host("victim.txt"));
        f.case("symlink-write", &[&f.hs("victim.txt"), &f.p("/out/planted")], "ESCAPED*");
        assert!(!snap.unchanged(), "the write did not change the victim");
    };
    /// Control: TCP reaches the host listener unconfined.
    control_tcp_to_host [host, none] => |f| {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port().to_string();
        f.case("tcp", &["127.0.0.1", &port], "ESCAPED*");
        l.set_nonblocking(true).unwrap();
        l.accept().expect("the listener got the connection");
    };
    /// Control: UDP reaches the host socket unconfined.
    control_udp_to_host [host, none] => |f| {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = s.local_addr().unwrap().port().to_string();
        f.case("udp", &["127.0.0.1", &port], "ESCAPED*");
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        s.recv(&mut [0; 64]).expect("the datagram arrived");
    };
    /// Control: the host's abstract socket accepts the escapee unconfined, and an fd arrives.
    control_abstract_unix [host, none] => |f| {
        let name = format!("gob-escape-{}", unique());
        let l = UnixListener::bind_addr(&SocketAddr::from_abstract_name(&name).unwrap()).unwrap();
        f.case("unix-connect", &[&name], &format!("ESCAPED connected to @{name} and passed an fd"));
        l.set_nonblocking(true).unwrap();
        let (c, _) = l.accept().expect("the listener got the connection");
        assert_eq!(recv_fd_count(&c), 1, "fds received");
    };
    /// Control: a host unix socket accepts the escapee by path unconfined.
    control_unix_path_socket [host, none] => |f| {
        let path = f.host("other-action/agent.sock");
        let l = UnixListener::bind(&path).unwrap();
        f.case("unix-path-connect", &[path.to_str().unwrap()], "ESCAPED*");
        l.set_nonblocking(true).unwrap();
        let (c, _) = l.accept().expect("the listener got the connection");
        assert_eq!(recv_fd_count(&c), 1, "fds received");
    };
    /// Control: io_uring makes an AF_INET socket and the datagram arrives unconfined.
    control_udp_via_io_uring [host, none] => |f| {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = s.local_addr().unwrap().port().to_string();
        f.case("uring-udp", &["127.0.0.1", &port], "ESCAPED*");
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        s.recv(&mut [0; 64]).expect("the datagram arrived");
    };
    /// Control: sockets of other families (AF_INET, AF_NETLINK, AF_VSOCK…) are made unconfined.
    control_socket_families [host, none] => |f| { f.case("socket-families", &[], "ESCAPED*"); };
    /// Control: chmod of a host file the uid owns works unconfined (and the snapshot notices).
    control_metadata [host, none] => |f| {
        let snap = Snapshot::of(&f.host("victim.txt"));
        f.case("chmod", &[&f.hs("victim.txt")], "ESCAPED*");
        assert!(!snap.unchanged(), "chmod did not change the victim");
    };
    /// Control: a host process can be killed unconfined.
    control_kill_host_process [host, none] => |f| {
        let mut sleep = HostProc::sleep();
        f.case("kill", &[&sleep.pid().to_string()], "ESCAPED*");
        assert!(sleep.wait_dead(Duration::from_secs(5)), "the sleep survived");
    };
    /// Control: an fd without CLOEXEC leaks into an unconfined child.
    control_leaked_fds [host] => |f| {
        let leak = LeakedFd::open(&f.host("src/secret.txt"));
        let r = f.case("fds", &[], "ESCAPED open fds:*");
        assert!(r.line.contains(&format!(" {}=", leak.fd)), "leaked fd {} not found: {}", leak.fd, r.line);
    };
    /// Control: the kernel answers the seccomp cases' calls with its own errno.
    control_seccomp_reaches_kernel [host, none] => |f| {
        f.case("sys-unshare", &[], "ESCAPED unshare(CLONE_NEWUSER) reached the kernel: errno=EINVAL");
        f.case("sys-clone3", &[], "ESCAPED clone3 reached the kernel: errno=EINVAL");
        f.case("sys-setns", &[], "ESCAPED setns reached the kernel: errno=EBADF");
        f.case("sys-bpf", &[], "ESCAPED bpf reached the kernel: errno=E2BIG");
        f.case("sys-ptrace", &[], "ESCAPED ptrace reached the kernel: errno=ESRCH");
    };
    /// Control: the host environment leaks into an unconfined child run with the host's env.
    control_env [host] => |f| { f.case("env", &["PATH=/bin", "GOB_ESCAPE=1"], "ESCAPED*"); };
    /// Control: Mode::None still enforces the wall-time limit.
    control_none_timeout [none] => |f| {
        let marker = marker();
        f.run_case("spin", &[&marker], |p| p.limits.wall = Some(Duration::from_secs(1)))
            .assert_status(ExecStatus::TimedOut);
        assert_no_survivors(&marker, Duration::from_secs(2));
    };
    /// Control: TIOCSTI injects into the caller's tty unconfined.
    control_tiocsti [host] => tiocsti;
}

// ============================================================ longer cases

/// Two actions of one build (one Sandbox) at once: A listens (and says so in
/// a file in its output dir), B tries to reach it. `listen` and `reach` are
/// the escapee's attacks, `expected` B's result; A must report no peer.
fn between_actions(f: &Fx, listen: &str, reach: &str, address: &str, expected: &[&str]) {
    let g = f.sibling();
    let (ready, done) = (f.host("out/ready"), f.host("out/done"));
    std::thread::scope(|s| {
        let a = s.spawn(|| {
            f.run_case(
                listen,
                &[address, &f.p("/out/ready"), &f.p("/out/done")],
                |_| {},
            )
        });
        let start = Instant::now();
        while !ready.exists() {
            if a.is_finished() {
                let r = a.join().unwrap();
                panic!("the listening action ended early:\n{}", r.context());
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the listening action never got ready"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let r = g.run_case(reach, &[address], |_| {});
        fs::write(&done, "").unwrap();
        a.join().unwrap().assert_line("blocked no-peer");
        eprintln!("{}: the second action got `{}`", f.test, r.line);
        r.assert_blocked_one_of(expected);
    });
}

/// A NETLINK_USERSOCK socket on the host, unprivileged.
struct HostNetlink(std::os::fd::OwnedFd);

impl HostNetlink {
    fn bind() -> HostNetlink {
        use std::os::fd::FromRawFd;
        unsafe {
            let s = libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                libc::NETLINK_USERSOCK,
            );
            assert!(
                s >= 0,
                "netlink socket: {}",
                std::io::Error::last_os_error()
            );
            let mut a: libc::sockaddr_nl = std::mem::zeroed();
            a.nl_family = libc::AF_NETLINK as u16;
            let len = std::mem::size_of_val(&a) as u32;
            assert_eq!(
                libc::bind(s, (&a as *const libc::sockaddr_nl).cast(), len),
                0,
                "bind netlink"
            );
            HostNetlink(std::os::fd::OwnedFd::from_raw_fd(s))
        }
    }
    fn port(&self) -> u32 {
        unsafe {
            let mut a: libc::sockaddr_nl = std::mem::zeroed();
            let mut len = std::mem::size_of_val(&a) as u32;
            assert_eq!(
                libc::getsockname(
                    self.0.as_raw_fd(),
                    (&mut a as *mut libc::sockaddr_nl).cast(),
                    &mut len
                ),
                0
            );
            a.nl_pid
        }
    }
    fn received(&self) -> bool {
        let mut buf = [0u8; 256];
        unsafe { libc::recv(self.0.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) >= 0 }
    }
}

/// The escapee double-forks a daemon and exits at once.
fn daemon(f: &Fx, keep_stdout: bool) {
    let marker = marker();
    let mut args = vec![&*marker];
    if keep_stdout {
        args.push("keep-stdout");
    }
    let start = Instant::now();
    let r = f.run_case("daemon", &args, |p| {
        p.limits.wall = Some(Duration::from_secs(30))
    });
    let took = start.elapsed();
    assert_no_survivors(&marker, Duration::from_secs(5));
    r.assert_status(ExecStatus::Exited(0));
    r.assert_line("detached");
    assert!(
        took < Duration::from_secs(5),
        "run() took {took:?} for a command that exits at once"
    );
}

/// The escapee leaves a daemon that starts writing /out/late 300 ms later.
fn daemon_rewrites_output(f: &Fx) {
    let marker = marker();
    let touch = format!("touch={}", f.p("/out/late"));
    let r = f.run_case("daemon", &[&marker, &touch], |p| {
        p.limits.wall = Some(Duration::from_secs(30))
    });
    // The run has returned: nothing of it may be left, at once.
    let left = marker_pids(&marker);
    assert_no_survivors(&marker, Duration::from_secs(2));
    assert!(
        left.is_empty(),
        "processes of the run outlived it: {left:?}"
    );
    r.assert_status(ExecStatus::Exited(0));
    r.assert_line("detached");
    std::thread::sleep(Duration::from_millis(800));
    assert_absent(&f.host("out/late"));
}

/// Metadata attacks on a host file (owned by the test's uid, undeclared)
/// and on the declared input; each must leave the file as it was.
fn metadata(f: &Fx) {
    let landlock = f.mode == Mode::Landlock;
    let victim = f.hs("victim.txt");
    let input = f.p(INPUT);
    for (target, host, declared) in [
        (victim.as_str(), f.host("victim.txt"), false),
        (input.as_str(), f.host("src/input.txt"), true),
    ] {
        // By path: seccomp (Landlock mode), else the mount namespace.
        let by_path = match (landlock, declared) {
            (true, _) => "EPERM",
            (false, true) => "EROFS",
            (false, false) => f.hidden(),
        };
        // Through a read-only descriptor: only a declared input opens.
        let by_fd = |ns_errno: &str| match (landlock, declared) {
            (true, true) => blocked("EPERM"),
            (false, true) => blocked(ns_errno),
            (_, false) => blocked(&format!("{} (open)", f.hidden())),
        };
        for (attack, args, expected) in [
            ("chmod", vec![target], blocked(by_path)),
            ("chown", vec![target, "65534", "65534"], blocked(by_path)),
            ("utimes", vec![target], blocked(by_path)),
            ("setxattr", vec![target], blocked(by_path)),
            ("fchmod", vec![target], by_fd("EROFS")),
            // FS_IOC_SETFLAGS is denied by seccomp in every mode.
            ("setflags", vec![target], by_fd("EPERM")),
        ] {
            let snap = Snapshot::of(&host);
            f.case(attack, &args, &expected);
            snap.assert_unchanged_after(attack);
        }
        let name = c"user.gob-escape";
        let path = std::ffi::CString::new(host.to_str().unwrap()).unwrap();
        let got = unsafe { libc::getxattr(path.as_ptr(), name.as_ptr(), std::ptr::null_mut(), 0) };
        assert!(got < 0, "{} got the xattr", host.display());
    }
}

/// A setuid copy of escapee, owned by root when the test runs as root.
fn setuid_input(f: &Fx) {
    let host = f.host("suid/escapee-suid");
    fs::create_dir(f.host("suid")).unwrap();
    // Copied by another process: a file this process wrote could still be
    // open in a child another test thread is forking (ETXTBSY at exec).
    let st = Command::new("cp")
        .arg(escapee())
        .arg(&host)
        .status()
        .unwrap();
    assert!(st.success(), "cp escapee");
    fs::set_permissions(&host, fs::Permissions::from_mode(0o4755)).unwrap();
    let meta = fs::metadata(&host).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o4755, "the staged copy is setuid");
    assert_eq!(meta.uid(), euid(), "the staged copy's owner");
    let inside = "/bin/escapee-suid";
    let program = if f.mode.remaps_paths() {
        PathBuf::from(inside)
    } else {
        host.clone()
    };
    let (u, _) = f.ids();
    let r = f.run_case("suid", &[&u.to_string()], |p| {
        p.inputs.push(Bind {
            host: host.clone(),
            inside: inside.into(),
        });
        p.program = program;
    });
    r.assert_line(&format!("blocked uid={u}/{u}/{u} nnp=1"));
    if f.mode.remaps_paths() {
        let text = String::from_utf8_lossy(&r.out.stdout);
        assert!(
            text.contains("INFO suid nosuid=1\n"),
            "inputs are mounted nosuid\n{}",
            r.context()
        );
    }
}

/// The test re-runs itself as a child ("gob"), which starts a sandbox
/// spinning a two-process tree; the test SIGKILLs the child and requires the
/// tree gone within a few seconds.
fn gob_sigkilled(f: &Fx) {
    if let Ok(marker) = std::env::var(ROLE_VICTIM) {
        // The child: block in run() until killed.
        let r = f.run_case("spin-tree", &[&marker], |p| {
            p.limits.wall = Some(Duration::from_secs(120))
        });
        panic!(
            "run() returned before the test killed us: {:?}",
            r.out.status
        );
    }
    let marker = marker();
    let mut child = reexec(f, ROLE_VICTIM, &marker);
    let start = Instant::now();
    while marker_pids(&marker).len() < 2 {
        if let Some(st) = child.try_wait().unwrap() {
            let out = child_output(&mut child);
            panic!("the gob child exited ({st}) before its sandbox was up:\n{out}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the sandboxed tree never appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_no_survivors(&marker, Duration::from_secs(3));
}

/// The test re-runs itself as a child that becomes a session leader with a
/// pty as controlling terminal (also its stdin), then runs the escapee's
/// TIOCSTI attack; nothing may reach the pty's input queue.
fn tiocsti(f: &Fx) {
    if std::env::var(ROLE_TTY).is_err() {
        let mut child = reexec(f, ROLE_TTY, "1");
        let st = child.wait().unwrap();
        let out = child_output(&mut child);
        assert!(st.success(), "the tty child failed ({st}):\n{out}");
        return;
    }
    let slave = unsafe {
        assert!(
            libc::setsid() > 0,
            "setsid: {}",
            std::io::Error::last_os_error()
        );
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(
            m >= 0 && libc::grantpt(m) == 0 && libc::unlockpt(m) == 0,
            "pty: {}",
            std::io::Error::last_os_error()
        );
        let s = libc::open(libc::ptsname(m), libc::O_RDWR);
        assert!(
            s >= 0,
            "open pty slave: {}",
            std::io::Error::last_os_error()
        );
        assert_eq!(
            libc::ioctl(s, libc::TIOCSCTTY, 0),
            0,
            "TIOCSCTTY: {}",
            std::io::Error::last_os_error()
        );
        let mut t: libc::termios = std::mem::zeroed();
        libc::tcgetattr(s, &mut t);
        libc::cfmakeraw(&mut t);
        libc::tcsetattr(s, libc::TCSANOW, &t);
        libc::dup2(s, 0);
        s // the master stays open too
    };
    let queued = || {
        let mut n: libc::c_int = 0;
        unsafe { libc::ioctl(slave, libc::FIONREAD, &mut n) };
        n
    };
    if f.bare {
        f.case("tiocsti", &[], "ESCAPED*");
        assert!(queued() > 0, "TIOCSTI unconfined injected nothing");
    } else {
        f.case(
            "tiocsti",
            &[],
            f.by_mode(
                "blocked tty=ENOENT fd0=EPERM fd1=EPERM fd2=EPERM",
                "blocked tty=ENOENT fd0=EPERM fd1=EPERM fd2=EPERM",
                "blocked tty=EACCES fd0=EPERM fd1=EPERM fd2=EPERM",
            ),
        );
        assert_eq!(
            queued(),
            0,
            "bytes were injected into the caller's terminal"
        );
    }
}

// ================================================================ fixture

const INPUT: &str = "/src/input.txt";
/// Blocked, whatever the errno: for cases where Landlock has no right to
/// deny and the layer that should (seccomp) is not decided; the host-side
/// assertion after it is the exact part.
const ANY_BLOCKED: &str = "blocked *";
/// Mode::Landlock (the host's network): the seccomp filter denies creating
/// AF_INET/AF_INET6 sockets at all.
const LANDLOCK_NO_IP: &str = "blocked errno=EACCES (socket)";
/// Every other mode: the seccomp filter lets socket(2) make AF_UNIX sockets only.
const NO_INET: &str = "blocked errno=EAFNOSUPPORT (socket)";
const OUT: &str = "/out";
const ESCAPEE: &str = "/bin/escapee";
const HOSTNAME: &str = "gob-escape";
const ROLE_VICTIM: &str = "GOB_ESCAPE_ROLE_VICTIM";
const ROLE_TTY: &str = "GOB_ESCAPE_ROLE_TTY";
const ESCAPEE_ENV: &str = "GOB_ESCAPE_ESCAPEE";

/// One test's world: a sandbox of the mode under test and a fresh host
/// directory T laid out as
///
/// ```text
/// T/src/input.txt            the declared input, at /src/input.txt
/// T/src/secret.txt           undeclared, next to it
/// T/out/                     the declared output dir, at /out (the cwd)
/// T/other-action/secret.txt  another action's work dir
/// T/home/.netrc              a "home" secret
/// T/victim.txt               a host file attacks try to write through
/// ```
///
/// and the escapee at /bin/escapee. In modes without a mount namespace the
/// command sees host paths; `f.p(inside)` names a path as the command sees it.
struct Fx {
    mode: Mode,
    /// Run the escapee directly on the host, not through a sandbox (controls).
    bare: bool,
    sb: Option<std::sync::Arc<Sandbox>>,
    /// The Landlock ABI the sandbox uses (None: no Landlock).
    abi: Option<u8>,
    dir: TempDir,
    test: &'static str,
}

impl Fx {
    fn new(mode: Mode, abi: Option<u8>, test: &'static str) -> Option<Fx> {
        let sb = match Sandbox::new(mode).and_then(|sb| match abi {
            Some(abi) => sb.with_landlock_abi(abi),
            None => Ok(sb),
        }) {
            Ok(sb) => sb,
            Err(SandboxError::Unavailable { reason, .. }) => {
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!(
                        "{test}: mode {} must be available in CI: {reason}",
                        mode.name()
                    );
                }
                eprintln!(
                    "SKIPPED {test}: mode {} is not available here: {reason}",
                    mode.name()
                );
                return None;
            }
            Err(e) => panic!("{test}: Sandbox::new({}): {e}", mode.name()),
        };
        assert_eq!(sb.mode(), mode, "Sandbox::new never changes the mode");
        let mut f = Fx::bare(test);
        f.mode = mode;
        f.bare = false;
        f.abi = sb.landlock_abi();
        f.sb = Some(std::sync::Arc::new(sb));
        Some(f)
    }

    /// Another action of the same build: a fresh directory, the same Sandbox.
    fn sibling(&self) -> Fx {
        let mut g = Fx::bare(self.test);
        g.mode = self.mode;
        g.bare = self.bare;
        g.sb = self.sb.clone();
        g.abi = self.abi;
        g
    }

    fn bare(test: &'static str) -> Fx {
        let dir = TempDir::new();
        let w = |rel: &str, text: &str| {
            let p = dir.path().join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        };
        w("src/input.txt", "declared input: must never change\n");
        // World-writable: only the sandbox may stand between the command and
        // the input, not the file's permissions (as root, the command runs as
        // the host's nobody; as a user, as that user).
        fs::set_permissions(
            dir.path().join("src/input.txt"),
            fs::Permissions::from_mode(0o666),
        )
        .unwrap();
        w("src/secret.txt", "undeclared sibling of the input\n");
        w("other-action/secret.txt", "another action's work\n");
        w("home/.netrc", "machine example.com password hunter2\n");
        w("victim.txt", "a host file outside every declared path\n");
        fs::create_dir(dir.path().join("out")).unwrap();
        Fx {
            mode: Mode::None,
            bare: true,
            sb: None,
            abi: None,
            dir,
            test,
        }
    }

    /// The host path of `rel` beneath T.
    fn host(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
    /// `host` as a string.
    fn hs(&self, rel: &str) -> String {
        self.host(rel).to_str().unwrap().to_owned()
    }
    /// An inside path as the command names it in this mode.
    fn p(&self, inside: &str) -> String {
        if self.mode.remaps_paths() {
            return inside.to_owned();
        }
        if inside == ESCAPEE {
            return escapee().to_str().unwrap().to_owned();
        }
        let rel = inside.strip_prefix('/').expect("an absolute inside path");
        assert!(
            rel.starts_with("src") || rel.starts_with("out"),
            "no host mapping for {inside}"
        );
        self.hs(rel)
    }

    /// The errno for a path that must not be reachable.
    fn hidden(&self) -> &'static str {
        self.by_mode("ENOENT", "ENOENT", "EACCES")
    }
    /// `hidden` for a host path, which may simply not exist on this host.
    fn hidden_host(&self, path: &str) -> &'static str {
        if Path::new(path).exists() {
            self.hidden()
        } else {
            "ENOENT"
        }
    }
    /// The errno for a write to a path that must stay unchanged.
    fn readonly(&self) -> &'static str {
        self.by_mode("EROFS", "EROFS", "EACCES")
    }
    fn by_mode<T>(&self, full: T, namespaces: T, landlock: T) -> T {
        match self.mode {
            Mode::Full => full,
            Mode::Namespaces => namespaces,
            Mode::Landlock => landlock,
            Mode::None => panic!("no expectation for Mode::None"),
        }
    }
    /// The uid and gid the command runs as.
    fn ids(&self) -> (u32, u32) {
        if self.mode.remaps_paths() {
            (1000, 1000)
        } else {
            (euid(), egid())
        }
    }

    fn policy(&self, attack: &str, args: &[&str]) -> Policy {
        let mut argv: Vec<OsString> = vec![attack.into()];
        argv.extend(args.iter().map(OsString::from));
        Policy {
            program: self.p(ESCAPEE).into(),
            args: argv,
            env: vec![
                ("PATH".into(), "/bin".into()),
                ("GOB_ESCAPE".into(), "1".into()),
            ],
            cwd: self.p(OUT).into(),
            inputs: vec![
                Bind {
                    host: escapee().to_owned(),
                    inside: ESCAPEE.into(),
                },
                Bind {
                    host: self.host("src/input.txt"),
                    inside: INPUT.into(),
                },
            ],
            outputs: vec![Bind {
                host: self.host("out"),
                inside: OUT.into(),
            }],
            limits: Limits {
                wall: Some(Duration::from_secs(60)),
                cpu: None,
                memory: Some(1 << 30),
                processes: Some(256),
                disk_bytes: Some(1 << 20),
                output_bytes: Some(1 << 20),
                open_files: Some(256),
            },
            hostname: HOSTNAME.into(),
        }
    }

    /// Runs one attack in a fresh sandbox (the policy edited by `edit`).
    fn run_case(&self, attack: &str, args: &[&str], edit: impl FnOnce(&mut Policy)) -> Report {
        let mut policy = self.policy(attack, args);
        edit(&mut policy);
        let out = if self.bare {
            run_bare(&policy)
        } else {
            let sb = self.sb.as_ref().unwrap();
            let out = sb
                .run(&policy)
                .unwrap_or_else(|e| panic!("{}: run({attack}): {e}", self.test));
            // What enforced the run: never a silent downgrade.
            let e = &out.enforcement;
            assert_eq!(e.mode, self.mode, "{}: enforcement.mode", self.test);
            assert_eq!(
                e.seccomp,
                self.mode != Mode::None,
                "{}: enforcement.seccomp",
                self.test
            );
            match self.mode {
                Mode::Full | Mode::Landlock => {
                    assert!(
                        e.landlock_abi.is_some() && e.landlock_abi == self.abi,
                        "{}: enforcement.landlock_abi {:?}, the sandbox's {:?}",
                        self.test,
                        e.landlock_abi,
                        self.abi
                    )
                }
                _ => assert_eq!(
                    e.landlock_abi, None,
                    "{}: enforcement.landlock_abi",
                    self.test
                ),
            }
            out
        };
        Report::new(self, attack, args, out)
    }

    /// The table's case: runs one attack and asserts its RESULT line is
    /// exactly `expected` (a trailing `*` matches any rest) with the exit
    /// status it implies (blocked: 0, ESCAPED: 1).
    fn case(&self, attack: &str, args: &[&str], expected: &str) -> Report {
        self.case_with(attack, args, expected, |_| {})
    }
    fn case_with(
        &self,
        attack: &str,
        args: &[&str],
        expected: &str,
        edit: impl FnOnce(&mut Policy),
    ) -> Report {
        let r = self.run_case(attack, args, edit);
        r.assert_line(expected);
        r
    }

    /// An attack on the declared input: as `case`, and the host file must be
    /// unchanged byte for byte (and in mode, times, inode).
    fn input_attack(&self, attack: &str, args: &[&str], expected: &str) {
        let snap = Snapshot::of(&self.host("src/input.txt"));
        self.case(attack, args, expected);
        snap.assert_unchanged();
    }
}

/// Mode::None by hand: the escapee run directly, for controls that must work
/// without any sandbox code (env inherited from the test).
fn run_bare(p: &Policy) -> Outcome {
    let start = Instant::now();
    let mut child = Command::new(&p.program)
        .args(&p.args)
        .current_dir(&p.cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn escapee");
    let deadline = start + p.limits.wall.unwrap_or(Duration::from_secs(60));
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut stderr = Vec::new();
    let _ = child.stderr.take().unwrap().read_to_end(&mut stderr);
    use std::os::unix::process::ExitStatusExt;
    Outcome {
        status: match status {
            None => ExecStatus::TimedOut,
            Some(st) => match st.code() {
                Some(c) => ExecStatus::Exited(c),
                None => ExecStatus::Signaled(st.signal().unwrap()),
            },
        },
        stdout: reader.join().unwrap(),
        stderr,
        output_truncated: false,
        memory_exceeded: false,
        wall: start.elapsed(),
        cpu: Duration::ZERO,
        enforcement: gob_sandbox::Enforcement {
            mode: Mode::None,
            landlock_abi: None,
            seccomp: false,
        },
    }
}

/// One run's outcome and its RESULT line.
struct Report {
    what: String,
    out: Outcome,
    /// The RESULT line without `RESULT <case> `, or "" when there was none.
    line: String,
}

impl Report {
    fn new(f: &Fx, attack: &str, args: &[&str], out: Outcome) -> Report {
        let what = format!(
            "{} [mode {}{}]: escapee {attack} {}",
            f.test,
            f.mode.name(),
            if f.bare { ", bare" } else { "" },
            args.join(" ")
        );
        let text = String::from_utf8_lossy(if attack == "flood" {
            &out.stderr
        } else {
            &out.stdout
        })
        .into_owned();
        let prefix = format!("RESULT {attack} ");
        let results: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .collect();
        let line = match results.as_slice() {
            [one] => one.to_string(),
            _ => String::new(),
        };
        Report { what, out, line }
    }

    fn context(&self) -> String {
        let cut = |b: &[u8]| {
            let s = String::from_utf8_lossy(&b[..b.len().min(3000)]).into_owned();
            if b.len() > 3000 {
                s + "…"
            } else {
                s
            }
        };
        format!(
            "{}\n  status: {:?}\n  stdout: {}\n  stderr: {}",
            self.what,
            self.out.status,
            cut(&self.out.stdout),
            cut(&self.out.stderr)
        )
    }

    /// The RESULT line is `expected` (trailing `*`: a prefix), with the
    /// implied exit status.
    fn assert_line(&self, expected: &str) -> &Report {
        let ok = match expected.strip_suffix('*') {
            Some(prefix) => self.line.starts_with(prefix) && !self.line.is_empty(),
            None => self.line == expected,
        };
        assert!(
            ok,
            "expected RESULT line `{expected}`, got `{}`\n{}",
            self.line,
            self.context()
        );
        let code = if expected.starts_with("ESCAPED") {
            1
        } else {
            0
        };
        self.assert_exited(code)
    }
    /// Blocked with one of these errnos (the issue's allowed set).
    fn assert_blocked_one_of(&self, errnos: &[&str]) -> &Report {
        assert!(
            errnos.iter().any(|e| self.line == blocked(e)),
            "expected blocked with one of {errnos:?}, got `{}`\n{}",
            self.line,
            self.context()
        );
        self
    }
    fn assert_exited(&self, code: i32) -> &Report {
        self.assert_status(ExecStatus::Exited(code))
    }
    fn assert_status(&self, st: ExecStatus) -> &Report {
        assert_eq!(self.out.status, st, "exit status\n{}", self.context());
        self
    }
}

fn blocked(errno: &str) -> String {
    format!("blocked errno={errno}")
}

/// A column's mode and Landlock ABI cap: `abi1`..`abi5` are Mode::Full
/// with the ruleset of that ABI (as on an older kernel, issue 13 item 22);
/// `GOB_TEST_LANDLOCK_ABI=n` caps every column that uses Landlock.
fn mode_named(name: &str) -> Option<(Mode, Option<u8>)> {
    if let Some(n) = name.strip_prefix("abi") {
        return Some((Mode::Full, Some(n.parse().unwrap())));
    }
    let cap = std::env::var("GOB_TEST_LANDLOCK_ABI")
        .ok()
        .map(|v| v.parse().expect("GOB_TEST_LANDLOCK_ABI: a number"));
    Some(match name {
        "full" => (Mode::Full, cap),
        "namespaces" => (Mode::Namespaces, None),
        "landlock" => (Mode::Landlock, cap),
        "none" => (Mode::None, None),
        "host" => return None,
        _ => unreachable!("mode {name}"),
    })
}

fn run_case(mode: &str, test: &'static str, body: impl FnOnce(&Fx)) {
    let fx = match mode_named(mode) {
        None => Fx::bare(test),
        Some((m, abi)) => match Fx::new(m, abi, test) {
            Some(fx) => fx,
            None => return,
        },
    };
    body(&fx);
}

// ============================================================== escapee

/// The escapee, compiled once per test binary (`gcc -static -O1`) into a
/// directory keyed by its source, owned by the current user.
fn escapee() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Some(p) = std::env::var_os(ESCAPEE_ENV) {
            return p.into(); // a re-executed child uses its parent's
        }
        const SRC: &str = include_str!("escapee/escapee.c");
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        SRC.hash(&mut h);
        let dir = std::env::temp_dir().join(format!("gob-escapee-{}-{:016x}", euid(), h.finish()));
        let bin = dir.join("escapee");
        if let Ok(m) = fs::metadata(&bin) {
            let d = fs::metadata(&dir).unwrap();
            if m.uid() == euid() && d.uid() == euid() && d.mode() & 0o022 == 0 && m.mode() & 0o022 == 0 {
                return bin;
            }
            panic!("{} exists but is not solely ours; remove it", dir.display());
        }
        let _ = fs::create_dir(&dir);
        let d = fs::metadata(&dir).unwrap();
        assert!(d.uid() == euid() && d.mode() & 0o022 == 0, "{} is not solely ours", dir.display());
        let src = dir.join(format!("escapee-{}.c", std::process::id()));
        fs::write(&src, SRC).unwrap();
        let tmp = dir.join(format!("escapee.tmp{}", std::process::id()));
        let out = match Command::new("gcc").args(["-static", "-O1", "-Wall", "-o"]).arg(&tmp).arg(&src).output() {
            Ok(out) => out,
            Err(e) => panic!("gcc is needed to build the escape tests' escapee (apt-get install gcc libc6-dev): {e}"),
        };
        assert!(out.status.success(), "gcc -static escapee.c failed:\n{}", String::from_utf8_lossy(&out.stderr));
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755)).unwrap();
        fs::rename(&tmp, &bin).unwrap();
        let _ = fs::remove_file(&src);
        bin
    })
}

// ======================================================== host-side helpers

fn unique() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A string to put in a sandboxed process's argv and find it by in the
/// host's /proc. Processes still carrying it when it drops are killed, so a
/// failing case leaves nothing behind.
fn marker() -> Marker {
    Marker(format!("gob-escape-marker-{}", unique()))
}

struct Marker(String);

impl std::ops::Deref for Marker {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Drop for Marker {
    fn drop(&mut self) {
        for p in marker_pids(&self.0) {
            unsafe { libc::kill(p, libc::SIGKILL) };
        }
    }
}

fn euid() -> u32 {
    unsafe { libc::geteuid() }
}
fn egid() -> u32 {
    unsafe { libc::getegid() }
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("gob-escape-{}", unique()));
        fs::create_dir(&p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A file in the host's /tmp, removed on drop.
struct HostTmpFile {
    path: String,
}

impl HostTmpFile {
    fn new() -> HostTmpFile {
        let path = format!("/tmp/gob-escape-host-{}", unique());
        fs::write(&path, "host /tmp secret\n").unwrap();
        HostTmpFile { path }
    }
}

impl Drop for HostTmpFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// A host file open without O_CLOEXEC for as long as it lives.
struct LeakedFd {
    fd: i32,
    _file: fs::File,
}

impl LeakedFd {
    fn open(path: &Path) -> LeakedFd {
        let file = fs::File::open(path).unwrap();
        let fd = file.as_raw_fd();
        assert_eq!(unsafe { libc::fcntl(fd, libc::F_SETFD, 0) }, 0);
        LeakedFd { fd, _file: file }
    }
}

/// Everything about a host file an attack could change.
struct Snapshot {
    path: PathBuf,
    bytes: Vec<u8>,
    meta: (u64, u64, u32, u32, u64, i64, i64, i64, i64),
}

impl Snapshot {
    fn of(path: &Path) -> Snapshot {
        Snapshot {
            path: path.to_owned(),
            bytes: fs::read(path).unwrap(),
            meta: Self::meta(path),
        }
    }
    fn meta(path: &Path) -> (u64, u64, u32, u32, u64, i64, i64, i64, i64) {
        let m = fs::symlink_metadata(path).unwrap();
        (
            m.dev(),
            m.ino(),
            m.mode(),
            m.uid(),
            m.nlink(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
        )
    }
    fn unchanged(&self) -> bool {
        fs::read(&self.path).ok().as_ref() == Some(&self.bytes)
            && fs::symlink_metadata(&self.path).is_ok()
            && Self::meta(&self.path) == self.meta
    }
    fn assert_unchanged(&self) {
        self.assert_unchanged_after("the attack")
    }
    fn assert_unchanged_after(&self, what: &str) {
        let now = fs::read(&self.path).map_err(|e| e.to_string());
        assert_eq!(
            now.as_deref().map(String::from_utf8_lossy),
            Ok(String::from_utf8_lossy(&self.bytes)),
            "{} content after {what}",
            self.path.display()
        );
        assert_eq!(
            Self::meta(&self.path),
            self.meta,
            "{} (dev, ino, mode, uid, nlink, mtime, ctime) after {what}",
            self.path.display()
        );
    }
}

fn assert_absent(p: &Path) {
    assert!(
        fs::symlink_metadata(p).is_err(),
        "{} exists on the host",
        p.display()
    );
}

fn assert_would_block(r: std::io::Result<()>, what: &str) {
    match r {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("{what}: {other:?}"),
    }
}

/// A host `sleep`, killed on drop.
struct HostProc(Child);

impl HostProc {
    fn sleep() -> HostProc {
        HostProc(
            Command::new("sleep")
                .arg("600")
                .stdin(Stdio::null())
                .spawn()
                .expect("spawn sleep"),
        )
    }
    fn pid(&self) -> u32 {
        self.0.id()
    }
    fn state(&self) -> Option<String> {
        let s = fs::read_to_string(format!("/proc/{}/stat", self.pid())).ok()?;
        Some(s.rsplit(')').next()?.split_whitespace().next()?.to_owned())
    }
    fn assert_alive(&self) {
        let st = self.state();
        assert!(
            matches!(st.as_deref(), Some("S" | "R")),
            "the host process is not alive and running: state {st:?}"
        );
    }
    fn assert_untraced(&self) {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        assert!(
            status.lines().any(|l| l == "TracerPid:\t0"),
            "the host process is traced:\n{status}"
        );
        assert!(
            !matches!(self.state().as_deref(), Some("t" | "T")),
            "the host process is stopped"
        );
    }
    fn wait_dead(&mut self, within: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < within {
            if self.0.try_wait().unwrap().is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }
}

impl Drop for HostProc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Host pids whose command line contains `marker` (zombies have none).
fn marker_pids(marker: &str) -> Vec<i32> {
    let mut pids = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmd) = fs::read(e.path().join("cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&cmd).contains(marker) {
            pids.push(pid);
        }
    }
    pids
}

/// No process with `marker` may exist within `within`; survivors are killed
/// (so a failing case leaves nothing behind) and reported.
fn assert_no_survivors(marker: &str, within: Duration) {
    let start = Instant::now();
    loop {
        let pids = marker_pids(marker);
        if pids.is_empty() {
            return;
        }
        if start.elapsed() > within {
            for &p in &pids {
                unsafe { libc::kill(p, libc::SIGKILL) };
            }
            panic!(
                "{} process(es) with marker {marker} survived {within:?}: {pids:?}",
                pids.len()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The current user's home directory on the host.
fn host_home() -> String {
    std::env::var("HOME")
        .ok()
        .filter(|h| h.starts_with('/') && h != "/")
        .unwrap_or_else(|| "/root".into())
}

/// The host's first disk device and its (major, minor).
fn host_disk() -> (String, (u32, u32)) {
    for d in [
        "/dev/vda",
        "/dev/sda",
        "/dev/nvme0n1",
        "/dev/xvda",
        "/dev/mmcblk0",
    ] {
        if let Ok(m) = fs::metadata(d) {
            let rdev = m.rdev();
            return (d.to_owned(), (libc::major(rdev), libc::minor(rdev)));
        }
    }
    ("/dev/sda".to_owned(), (8, 0))
}

/// The test process's peak resident memory, in bytes.
fn vm_hwm() -> u64 {
    let s = fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = s
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .unwrap()
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .unwrap();
    kb << 10
}

/// How many fds one message on `c` carries (SCM_RIGHTS).
fn recv_fd_count(c: &std::os::unix::net::UnixStream) -> usize {
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut data = [0u8; 1];
    let mut cbuf = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut m: libc::msghdr = unsafe { std::mem::zeroed() };
    m.msg_iov = &mut iov;
    m.msg_iovlen = 1;
    m.msg_control = cbuf.as_mut_ptr().cast();
    m.msg_controllen = std::mem::size_of_val(&cbuf);
    let n = unsafe { libc::recvmsg(c.as_raw_fd(), &mut m, 0) };
    assert!(n >= 0, "recvmsg: {}", std::io::Error::last_os_error());
    let mut count = 0;
    unsafe {
        let mut h = libc::CMSG_FIRSTHDR(&m);
        while !h.is_null() {
            if (*h).cmsg_level == libc::SOL_SOCKET && (*h).cmsg_type == libc::SCM_RIGHTS {
                let k = ((*h).cmsg_len as usize - libc::CMSG_LEN(0) as usize) / 4;
                let fds = libc::CMSG_DATA(h) as *const i32;
                for i in 0..k {
                    libc::close(*fds.add(i));
                }
                count += k;
            }
            h = libc::CMSG_NXTHDR(&m, h);
        }
    }
    count
}

/// Re-runs this test binary for exactly `f.test`, with `role` set in its
/// environment, its temp files beneath f's directory and f's escapee.
fn reexec(f: &Fx, role: &str, value: &str) -> Child {
    let tmp = f.host("child-tmp");
    fs::create_dir_all(&tmp).unwrap();
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", f.test, "--nocapture", "--test-threads=1"])
        .env(role, value)
        .env("TMPDIR", &tmp)
        .env(ESCAPEE_ENV, escapee())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("re-exec the test binary")
}

fn child_output(c: &mut Child) -> String {
    let mut s = String::new();
    if let Some(mut o) = c.stdout.take() {
        let _ = o.read_to_string(&mut s);
    }
    if let Some(mut e) = c.stderr.take() {
        let _ = e.read_to_string(&mut s);
    }
    s
}
