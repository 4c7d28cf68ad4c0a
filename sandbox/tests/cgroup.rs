//! Integration: a cgroup v2 per run when one is delegated, rlimits otherwise.
//!
//! What this host provides decides what is checked, and `GOB_TEST_CGROUP`
//! says what must be found (ci/vm-run boots a kernel with a pure cgroup2
//! hierarchy and sets it; tests/cgroup_vm.rs drives that):
//!
//! - `required`: this process is alone in a delegated cgroup. Each run must
//!   get its own cgroup, 64 MiB of memory must be an OOM kill reported as
//!   over the limit, a fork bomb must stop at `pids.max`, and nothing (no
//!   process, no cgroup) may be left afterwards, in every mode the host has.
//! - `shared`: the cgroup is delegated but other processes share it: gob
//!   falls back to rlimits with a note naming the cgroup and what to do.
//! - `off`: `GOB_CGROUP=off` is set: no cgroup and no note.
//! - unset (an ordinary host): whatever the host gives must work; without
//!   a cgroup, memory is RLIMIT_AS (an allocation fails, nobody is killed).
//!
//! The tests take turns (`serial`): the leftover check looks at every
//! run's cgroup of this process.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use gob_sandbox::{Bind, ExecStatus, Mode, Sandbox};

/// Held by each test: one at a time, so no other test's run is in flight
/// when one looks for leftovers.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// What `GOB_TEST_CGROUP` demands.
fn expected() -> Option<String> {
    std::env::var("GOB_TEST_CGROUP").ok()
}

/// Whether runs must get a cgroup (the assertions below then hold even
/// when the sandbox did not take one, so they fail without it).
fn cgroup_required() -> bool {
    expected().as_deref() == Some("required")
}

/// This process's cgroup v2 path (the `0::` line).
fn own_cgroup() -> String {
    let s = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .unwrap_or_default()
        .to_string()
}

/// The cgroup2 mount point (the test VM mounts it at its root).
fn cgroup2_mount() -> Option<PathBuf> {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    mi.lines()
        .find(|l| l.contains(" - cgroup2 "))
        .and_then(|l| l.split(' ').nth(4))
        .map(PathBuf::from)
}

/// Our runs' cgroups still on disk (named `gob.<pid>.a<n>`, beside our leaf).
fn leftover_cgroups() -> Vec<String> {
    let own = own_cgroup();
    let Some(mount) = cgroup2_mount() else {
        return Vec::new();
    };
    let parent = PathBuf::from(own.rsplit_once('/').map_or("", |(p, _)| p));
    let dir = mount.join(parent.strip_prefix("/").unwrap_or(&parent));
    let prefix = format!("gob.{}.a", std::process::id());
    std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default()
}

/// The sandboxes of every mode the host has, with /proc in namespace modes.
fn sandboxes() -> Vec<(Mode, Sandbox)> {
    MODES
        .into_iter()
        .filter_map(|m| sandbox(m).map(|s| (m, s.with_proc(true))))
        .collect()
}

#[test]
fn delegation_is_found_or_explained() {
    let _turn = serial();
    let Some(sb) = sandbox(Mode::None) else {
        return;
    };
    match expected().as_deref() {
        Some("required") => {
            assert!(
                sb.uses_cgroup(),
                "a delegated cgroup must be used; note: {:?}",
                sb.cgroup_note()
            );
            assert_eq!(sb.cgroup_note(), None);
            // We moved into a leaf of our own.
            let own = own_cgroup();
            assert!(
                own.ends_with(&format!("/gob.{}", std::process::id())),
                "{own}"
            );
        }
        Some("shared") => {
            assert!(!sb.uses_cgroup());
            let note = sb.cgroup_note().expect("a note on the shared cgroup");
            let own = own_cgroup();
            assert!(note.contains(&own), "the note names the cgroup: {note}");
            assert!(note.contains("systemd-run"), "{note}");
            assert!(note.contains("RLIMIT_AS"), "{note}");
        }
        Some("off") => {
            assert!(!sb.uses_cgroup());
            assert_eq!(sb.cgroup_note(), None);
        }
        Some(other) => panic!("GOB_TEST_CGROUP={other}: use required, shared or off"),
        None => eprintln!(
            "this host: cgroup {}; note: {:?}",
            if sb.uses_cgroup() { "used" } else { "not used" },
            sb.cgroup_note()
        ),
    }
}

#[test]
fn each_run_has_its_own_cgroup() {
    let _turn = serial();
    for (mode, sb) in sandboxes() {
        let mut p = policy(mode, &["cgroup"]);
        if mode == Mode::Landlock {
            // Landlock reads only declared paths; the namespace modes mount a fresh /proc.
            p.inputs.push(Bind {
                host: "/proc".into(),
                inside: "/proc".into(),
            });
        }
        let o = sb.run(&p).unwrap();
        assert_eq!(o.status, ExecStatus::Exited(0), "{mode:?}: {}", stderr(&o));
        let inside = stdout(&o).trim().to_string();
        let own = own_cgroup();
        if cgroup_required() || sb.uses_cgroup() {
            let parent = own.rsplit_once('/').map_or("", |(p, _)| p);
            let want = format!("{parent}/gob.{}.a", std::process::id());
            assert!(
                inside.starts_with(&want),
                "{mode:?}: the run was in {inside}, not a cgroup {want}N"
            );
            let mount = cgroup2_mount().unwrap();
            let dir = mount.join(inside.trim_start_matches('/'));
            assert!(!dir.exists(), "{mode:?}: {} was left", dir.display());
        } else {
            assert_eq!(
                inside, own,
                "{mode:?}: without a cgroup the run stays in ours"
            );
        }
    }
}

#[test]
fn going_past_the_memory_limit_is_an_oom_kill() {
    let _turn = serial();
    for (mode, sb) in sandboxes() {
        let mut p = policy(mode, &["alloc", "256"]);
        p.limits.memory = Some(64 << 20);
        let o = sb.run(&p).unwrap();
        if cgroup_required() || sb.uses_cgroup() {
            assert_eq!(
                o.status,
                ExecStatus::Signaled(libc::SIGKILL),
                "{mode:?}: stdout {:?} stderr {:?}",
                stdout(&o),
                stderr(&o)
            );
            assert!(o.memory_exceeded, "{mode:?}: the OOM kill is reported");
            // Well below the limit, the same program runs (no address-space
            // limit: memory is what is touched).
            p.args = vec!["alloc".into(), "16".into()];
            let o = sb.run(&p).unwrap();
            assert_eq!(o.status, ExecStatus::Exited(0), "{mode:?}: {}", stderr(&o));
            assert!(!o.memory_exceeded, "{mode:?}");
        } else {
            // RLIMIT_AS: the allocation fails, nobody is killed.
            assert_eq!(o.status, ExecStatus::Exited(1), "{mode:?}: {}", stdout(&o));
            assert!(
                stderr(&o).contains("errno=ENOMEM"),
                "{mode:?}: {}",
                stderr(&o)
            );
            assert!(!o.memory_exceeded, "{mode:?}");
        }
    }
    assert_eq!(leftover_cgroups(), Vec::<String>::new());
}

#[test]
fn a_fork_bomb_stops_at_pids_max() {
    let _turn = serial();
    for (mode, sb) in sandboxes() {
        let mut p = policy(mode, &["fork", "500"]);
        p.limits.processes = Some(32);
        let o = sb.run(&p).unwrap();
        assert_eq!(o.status, ExecStatus::Exited(0), "{mode:?}: {}", stderr(&o));
        let made: u64 = stdout(&o).trim().parse().unwrap();
        if cgroup_required() || sb.uses_cgroup() {
            // pids.max counts the tool itself. RLIMIT_NPROC alone does not
            // hold a root caller's run in modes without a user namespace.
            assert!(made < 32, "{mode:?}: {made} processes made");
        }
    }
    assert_eq!(leftover_cgroups(), Vec::<String>::new());
}

#[test]
fn nothing_is_left_behind() {
    let _turn = serial();
    for (mode, sb) in sandboxes() {
        let s = Scratch::new("cg-left");
        let out = s.dir("out");
        let file = out.join("late");
        let mut p = policy(mode, &["daemon", "", "0.3"]);
        let inside_out = PathBuf::from("/out");
        let (bind, path) = if mode.remaps_paths() {
            (inside_out.clone(), inside_out.join("late"))
        } else {
            (out.clone(), file.clone())
        };
        p.args[1] = path.into_os_string();
        p.outputs.push(Bind {
            host: out.clone(),
            inside: bind,
        });
        let o = sb.run(&p).unwrap();
        assert_eq!(o.status, ExecStatus::Exited(0), "{mode:?}: {}", stderr(&o));
        // A run that times out leaves nothing either.
        let mut t = policy(mode, &["tree-sleep", "/nonexistent", "100"]);
        t.limits.wall = Some(Duration::from_millis(300));
        assert_eq!(sb.run(&t).unwrap().status, ExecStatus::TimedOut, "{mode:?}");
        assert_eq!(leftover_cgroups(), Vec::<String>::new(), "{mode:?}");
        std::thread::sleep(Duration::from_millis(600));
        assert!(!file.exists(), "{mode:?}: the daemon outlived its run");
    }
    if cgroup_required() {
        // Only this process is in its leaf: every run's process is gone.
        let leaf = cgroup2_mount()
            .unwrap()
            .join(own_cgroup().trim_start_matches('/'));
        let procs = std::fs::read_to_string(leaf.join("cgroup.procs")).unwrap();
        assert_eq!(procs.trim(), std::process::id().to_string());
    }
}
