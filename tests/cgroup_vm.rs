//! The sandbox's cgroup v2 limits, in a VM (issue 13, item 4): this host
//! kind (cgroup v1 or hybrid, or one cgroup shared with everything) cannot
//! delegate a cgroup, so ci/vm-run boots Debian's kernel with a pure cgroup2
//! hierarchy and runs `gob-sandbox`'s `tests/cgroup.rs` there, as root and as
//! an unprivileged user in delegated cgroups, in a shared cgroup, and with
//! `GOB_CGROUP=off` (each phase's expectations are in that file).
//!
//! Needs qemu-system-x86_64 and Debian's kernel package (ci/test installs
//! them with `ci/vm-run --install`). Without them the test is skipped with a
//! note, except under `CI=true`, where missing is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repo root.
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether the VM can run here: qemu on PATH (the kernel comes from apt).
fn vm_available() -> Result<(), String> {
    let has = |cmd: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {cmd}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !has("qemu-system-x86_64") {
        return Err("no qemu-system-x86_64 (ci/vm-run --install installs it)".into());
    }
    let cached = std::fs::read_dir(repo().join(".gob/vm")).is_ok_and(|d| {
        d.filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().ends_with(".vmlinuz"))
    });
    if !cached && !has("apt-get") {
        return Err("no kernel in .gob/vm and no apt-get to fetch one".into());
    }
    Ok(())
}

/// Builds gob-sandbox's cgroup test binary (this test's profile) and returns its path.
fn cgroup_test_binary() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut c = Command::new(cargo);
    c.current_dir(repo()).args([
        "test",
        "-p",
        "gob-sandbox",
        "--test",
        "cgroup",
        "--no-run",
        "--locked",
        "--message-format=json",
    ]);
    if !cfg!(debug_assertions) {
        c.arg("--release");
    }
    let out = c.output().expect("run cargo");
    assert!(
        out.status.success(),
        "cargo test --no-run failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let exe = text
        .lines()
        .filter(|l| {
            l.contains("\"reason\":\"compiler-artifact\"") && l.contains("\"name\":\"cgroup\"")
        })
        .find_map(|l| {
            let at = l.find("\"executable\":\"")? + "\"executable\":\"".len();
            let end = l[at..].find('"')?;
            Some(PathBuf::from(&l[at..at + end]))
        })
        .expect("cargo named no executable for the cgroup test");
    assert!(exe.is_file(), "{}", exe.display());
    exe
}

#[test]
fn cgroup_limits_hold_in_a_vm() {
    if let Err(why) = vm_available() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true and the cgroup VM cannot run: {why}");
        }
        eprintln!("skipping the cgroup VM test: {why}");
        return;
    }
    let bin = cgroup_test_binary();
    // On the host first: its checks of whatever this host gives, and it
    // builds the static helper into the shared test tmpdir.
    let host = Command::new(&bin)
        .arg("--test-threads=1")
        .output()
        .expect("run the cgroup test on the host");
    assert!(
        host.status.success(),
        "the cgroup test failed on the host:\n{}{}",
        String::from_utf8_lossy(&host.stdout),
        String::from_utf8_lossy(&host.stderr)
    );
    let helper = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sbx-helper");
    assert!(helper.is_file(), "no helper at {}", helper.display());
    let vm = Command::new(repo().join("ci/vm-run"))
        .arg("-f")
        .arg(&helper)
        .args(["-e", "SBX_HELPER=/opt/sbx-helper"])
        .arg(&bin)
        .arg("--test-threads=1")
        .output()
        .expect("run ci/vm-run");
    let console = String::from_utf8_lossy(&vm.stderr);
    for phase in ["root", "user", "shared", "off"] {
        assert!(
            console.contains(&format!("vm-run: phase {phase} exit 0 ")),
            "phase {phase} failed:\n{console}"
        );
    }
    assert!(vm.status.success(), "{console}");
    // What the VM cost, for the CI log.
    for l in console.lines().filter(|l| l.starts_with("ci/vm-run: ")) {
        eprintln!("{l}");
    }
}
