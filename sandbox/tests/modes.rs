//! Integration: probing, mode selection, limits, and a few smoke checks of
//! the seccomp and network layers (the full escape suite lives elsewhere).

mod common;

use common::*;
use gob_sandbox::{Bind, Capabilities, ExecStatus, Mode, Sandbox, SandboxError};

#[test]
fn probe_is_consistent_with_new_and_auto() {
    let caps = Capabilities::probe();
    for mode in MODES {
        assert_eq!(
            caps.check(mode).is_ok(),
            Sandbox::new(mode).is_ok(),
            "{mode:?}"
        );
    }
    let auto = Sandbox::auto().mode();
    let best = [Mode::Full, Mode::Namespaces, Mode::Landlock, Mode::None]
        .into_iter()
        .find(|&m| caps.check(m).is_ok());
    assert_eq!(Some(auto), best);
    assert!(Sandbox::new(Mode::None).is_ok());
}

#[test]
fn unavailable_modes_say_what_to_change() {
    let no_ns = Capabilities {
        namespaces: Err("clone: EPERM".into()),
        landlock: Ok(7),
    };
    let msg = |c: &Capabilities, m: Mode| match c.check(m) {
        Err(SandboxError::Unavailable { mode, reason }) => {
            assert_eq!(mode, m.name());
            reason
        }
        other => panic!("expected Unavailable, got {other:?}"),
    };
    let r = msg(&no_ns, Mode::Full);
    assert!(r.contains("clone: EPERM"), "{r}");
    assert!(msg(&no_ns, Mode::Namespaces).contains("user namespaces"));
    assert!(no_ns.check(Mode::Landlock).is_ok());

    let old_landlock = Capabilities {
        namespaces: Ok(()),
        landlock: Ok(3),
    };
    // Issue 13 item 22: Full mode holds on every Landlock ABI (its namespaces
    // and seccomp carry what ABI 2..6 add); Landlock mode alone needs 6.
    for abi in 1..=5 {
        let old = Capabilities {
            namespaces: Ok(()),
            landlock: Ok(abi),
        };
        assert!(old.check(Mode::Full).is_ok(), "Full at ABI {abi}");
        let r = msg(&old, Mode::Landlock);
        assert!(
            r.contains(&format!("ABI is {abi}, below the 6"))
                && r.contains("--sandbox=full")
                && r.contains("--sandbox=namespaces"),
            "{r}"
        );
    }
    assert!(old_landlock.check(Mode::Namespaces).is_ok());

    let none = Capabilities {
        namespaces: Err("x".into()),
        landlock: Err("lsm= lacks landlock".into()),
    };
    assert!(msg(&none, Mode::Landlock).contains("lsm="));
    assert!(none.check(Mode::None).is_ok());
}

#[test]
fn probe_messages_name_the_knobs() {
    // Whatever this host says, a failure must be actionable.
    let caps = Capabilities::probe();
    if let Err(r) = &caps.namespaces {
        assert!(
            (r.contains("sysctl -w") || r.contains("container"))
                && r.contains("--sandbox=landlock"),
            "{r}"
        );
    }
    if let Err(r) = &caps.landlock {
        assert!(
            r.contains("CONFIG_SECURITY_LANDLOCK") || r.contains("lsm="),
            "{r}"
        );
    }
}

#[test]
fn file_size_limit() {
    for mode in [Mode::Full, Mode::Namespaces, Mode::Landlock] {
        let Some(sb) = sandbox(mode) else { continue };
        let s = Scratch::new("fsize");
        let out = s.dir("out");
        let inside = if mode.remaps_paths() {
            "/out".into()
        } else {
            out.clone()
        };
        let mut p = policy(
            mode,
            &["fsize", "5000", inside.join("big").to_str().unwrap()],
        );
        p.outputs.push(Bind { host: out, inside });
        p.limits.disk_bytes = Some(4096);
        let o = sb.run(&p).unwrap();
        assert!(
            stderr(&o).starts_with("errno=EFBIG"),
            "{mode:?}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn process_limit_applies_inside_namespaces() {
    for mode in [Mode::Full, Mode::Namespaces] {
        let Some(sb) = sandbox(mode) else { continue };
        let mut p = policy(mode, &["fork", "50"]);
        p.limits.processes = Some(10);
        let o = sb.run(&p).unwrap();
        assert_eq!(o.status, ExecStatus::Exited(0), "{mode:?}: {}", stderr(&o));
        let made: u32 = stdout(&o).trim().parse().unwrap();
        assert!(
            made < 10,
            "{mode:?}: {made} processes despite RLIMIT_NPROC=10"
        );
    }
}

#[test]
fn cpu_limit_kills() {
    let mode = Mode::Full;
    let Some(sb) = sandbox(mode) else { return };
    let mut p = policy(mode, &["spew", "100000000000"]);
    p.limits.output_bytes = Some(10);
    p.limits.cpu = Some(std::time::Duration::from_millis(500));
    let o = sb.run(&p).unwrap();
    assert!(
        matches!(
            o.status,
            ExecStatus::Signaled(libc::SIGXCPU | libc::SIGKILL)
        ),
        "{:?}",
        o.status
    );
}

#[test]
fn smoke_seccomp_denies_mount_and_unshare() {
    for mode in [Mode::Full, Mode::Namespaces, Mode::Landlock] {
        let Some(sb) = sandbox(mode) else { continue };
        for what in ["mount", "unshare"] {
            let o = sb.run(&policy(mode, &[what])).unwrap();
            assert!(
                stderr(&o).starts_with("errno=EPERM"),
                "{mode:?} {what}: {}",
                stderr(&o)
            );
        }
    }
}

#[test]
fn smoke_no_network() {
    for mode in [Mode::Full, Mode::Namespaces, Mode::Landlock] {
        let Some(sb) = sandbox(mode) else { continue };
        let o = sb.run(&policy(mode, &["connect", "9"])).unwrap();
        assert_eq!(o.status, ExecStatus::Exited(1), "{mode:?}: {}", stdout(&o));
        assert!(stderr(&o).starts_with("errno="), "{mode:?}: {}", stderr(&o));
    }
}

#[test]
fn with_proc_mounts_a_private_procfs() {
    let mode = Mode::Full;
    let Some(sb) = sandbox(mode) else { return };
    let sb = sb.with_proc(true);
    let o = sb.run(&policy(mode, &["ls", "/proc"])).unwrap();
    assert_eq!(o.status, ExecStatus::Exited(0), "{}", stderr(&o));
    let pids: Vec<&str> = stdout(&o)
        .leak()
        .lines()
        .filter(|l| l.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    assert_eq!(pids, ["1"], "only the sandbox's own process is visible");
}
