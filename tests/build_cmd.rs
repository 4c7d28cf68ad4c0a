//! `gob build` of the Go toolchain's own commands — real, vendored, assembly-heavy
//! Go: cmd/gofmt, cmd/go, cmd/vet and cmd/compile (with its default.pgo), each
//! for linux/amd64 (and run) and cross-compiled to linux/arm64.
//!
//! These are the heavy tests. They share one gob cache and take turns (a
//! mutex), so the standard library is compiled once per architecture.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

fn area() -> &'static (PathBuf, Mutex<()>) {
    static AREA: OnceLock<(PathBuf, Mutex<()>)> = OnceLock::new();
    AREA.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("build-cmd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for d in ["home", "gobcache", "tmp", "out"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        (root, Mutex::new(()))
    })
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Builds `pkg` for linux/`goarch` from $GOROOT/src; returns the binary's path.
fn gob_build(pkg: &str, goarch: &str) -> PathBuf {
    let (root, _) = area();
    let goroot = common::goroot();
    let out = root
        .join("out")
        .join(format!("{}-{goarch}", pkg.replace('/', "_")));
    let o = Command::new(common::gob_binary())
        .args(["build", "-o", out.to_str().unwrap(), pkg])
        .current_dir(goroot.join("src"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", root.join("home"))
        .env("GOBCACHE", root.join("gobcache"))
        .env("TMPDIR", root.join("tmp"))
        .env("GOROOT", &goroot)
        .env("GOOS", "linux")
        .env("GOARCH", goarch)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "gob build {pkg} for {goarch}: {}",
        text(&o)
    );
    let elf = std::fs::read(&out).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF", "{pkg}: not an ELF file");
    let machine = u16::from_le_bytes([elf[18], elf[19]]);
    let want = match goarch {
        "amd64" => 62,
        "arm64" => 183,
        _ => unreachable!(),
    };
    assert_eq!(machine, want, "{pkg} for {goarch}: wrong e_machine");
    out
}

fn run(bin: &Path, args: &[&str], dir: &Path) -> String {
    // A -trimpath go binary does not know its GOROOT; like go build's, it needs one.
    let o = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("HOME", &area().0)
        .env("GOROOT", common::goroot())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{} {args:?}: {}",
        bin.display(),
        text(&o)
    );
    text(&o)
}

fn both(pkg: &str, check: impl Fn(&Path)) {
    let _turn = area().1.lock().unwrap_or_else(|e| e.into_inner());
    check(&gob_build(pkg, "amd64"));
    gob_build(pkg, "arm64");
}

#[test]
fn cmd_gofmt_builds_and_formats() {
    both("cmd/gofmt", |gofmt| {
        let dir = area().0.join("tmp");
        std::fs::write(dir.join("ugly.go"), "package x\nfunc  f( ) {}\n").unwrap();
        std::fs::write(dir.join("pretty.go"), "package x\n\nfunc f() {}\n").unwrap();
        let listed = run(gofmt, &["-l", "ugly.go", "pretty.go"], &dir);
        assert_eq!(
            listed, "ugly.go\n",
            "gofmt -l must list exactly the unformatted file"
        );
    });
}

#[test]
fn cmd_go_builds_and_reports_its_version() {
    both("cmd/go", |go| {
        let v = run(go, &["version"], &area().0);
        assert_eq!(
            v,
            format!(
                "go version {} linux/amd64\n",
                std::fs::read_to_string(common::goroot().join("VERSION"))
                    .unwrap()
                    .lines()
                    .next()
                    .unwrap()
            )
        );
    });
}

#[test]
fn cmd_vet_builds_and_runs() {
    both("cmd/vet", |vet| {
        // vet names itself after argv[0]: "cmd_vet-amd64 version go1.27.3".
        let v = run(vet, &["-V=full"], &area().0);
        assert!(v.trim_end().ends_with(" version go1.27.3"), "{v}");
    });
}

#[test]
fn cmd_compile_with_pgo_builds_and_compiles_a_file() {
    both("cmd/compile", |compile| {
        let dir = area().0.join("tmp");
        std::fs::write(dir.join("m.go"), "package main\n\nfunc main() {}\n").unwrap();
        run(
            compile,
            &["-p", "main", "-complete", "-o", "m.o", "m.go"],
            &dir,
        );
        let obj = std::fs::read(dir.join("m.o")).unwrap();
        assert!(
            obj.starts_with(b"!<arch>\n") || obj.starts_with(b"go object "),
            "not a Go object file"
        );
    });
}
