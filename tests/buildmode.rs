//! `-buildmode`, `-pgo=FILE`, `-installsuffix`, `-linkshared`, `-race`,
//! `-msan`, `-asan` (issue #14 item 3), each run with `go` and with `gob`
//! for several targets, on the command line and in `$GOFLAGS`:
//!
//! - `REFUSED`: both fail alike (the same exit status and first line on
//!   stderr, go's `go: ` read as `gob: `);
//! - `PLANNED`: both plan the same mode-dependent flags: for every compile,
//!   asm and link of `go build -a -n` the flags `-shared`, `-dynlink`,
//!   `-linkshared`, `-D=GOBUILDMODE_shared=1`, `-installsuffix X`,
//!   `-buildmode=M` and `-w`, per tool and package (`-p`), and which
//!   packages have such a command at all;
//! - a few real builds: the same build info (`go version -m`), and for
//!   wasm the same bytes once both are linked without a build ID.
//!
//! Every flag here was refused by gob before (`flag provided but not
//! defined`), so every row failed on the old code.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::area::{build_info, first_stderr_line, text, Area};

/// One row: the target, `$GOFLAGS`, then the arguments after the command.
struct Row {
    target: &'static str,
    goflags: &'static str,
    args: &'static [&'static str],
}

const fn row(target: &'static str, goflags: &'static str, args: &'static [&'static str]) -> Row {
    Row {
        target,
        goflags,
        args,
    }
}

const REFUSED: &[Row] = &[
    // cmd/go's buildModeInit, in its order.
    row("linux/amd64", "", &["build", "-buildmode=frob", "."]),
    row("windows/amd64", "", &["list", "-buildmode=frob", "."]),
    row("linux/amd64", "-buildmode=frob", &["build", "."]),
    row(
        "linux/amd64",
        "",
        &["build", "-buildmode=shared", "-o", "x", "."],
    ),
    row("windows/amd64", "", &["build", "-buildmode=shared", "fmt"]),
    row("js/wasm", "", &["build", "-buildmode=pie", "."]),
    row("linux/mipsle", "", &["build", "-buildmode=pie", "."]),
    row("wasip1/wasm", "", &["build", "-buildmode=c-archive", "."]),
    row("windows/arm64", "", &["build", "-buildmode=plugin", "."]),
    row("darwin/arm64", "", &["build", "-linkshared", "."]),
    row("windows/amd64", "-linkshared", &["list", "."]),
    // What the mode leaves to build (cmd/go's pkgsFilter).
    row("linux/amd64", "", &["build", "-buildmode=archive", "."]),
    row(
        "linux/amd64",
        "",
        &["build", "-buildmode=archive", "-o", "x.a", "."],
    ),
    row("linux/arm64", "", &["build", "-buildmode=shared", "."]),
    row(
        "linux/amd64",
        "",
        &["build", "-buildmode=exe", "-o", "x", "fmt"],
    ),
    row("linux/amd64", "", &["build", "-buildmode=c-archive", "fmt"]),
    row(
        "darwin/arm64",
        "",
        &["build", "-buildmode=c-shared", "fmt", "."],
    ),
    // A main package that needs external linking, hence cgo (LinkerDeps).
    row("linux/amd64", "", &["build", "-buildmode=c-shared", "."]),
    row("darwin/arm64", "", &["build", "-buildmode=plugin", "."]),
    row("linux/amd64", "", &["build", "-linkshared", "."]),
    row("linux/arm64", "-linkshared", &["list", "."]),
    row("linux/386", "", &["build", "-buildmode=pie", "."]),
    row("linux/riscv64", "", &["list", "-buildmode=pie", "."]),
    // cmd/go's instrumentInit, on every kind of target.
    row("linux/amd64", "", &["build", "-race", "."]),
    row("linux/amd64", "", &["build", "-msan", "."]),
    row("linux/amd64", "", &["list", "-asan", "."]),
    row("linux/arm64", "", &["build", "-race", "."]),
    row("linux/arm64", "-asan", &["build", "."]),
    row("linux/386", "", &["build", "-race", "."]),
    row("windows/amd64", "", &["build", "-race", "."]),
    row("windows/amd64", "", &["build", "-msan", "."]),
    row("darwin/arm64", "", &["build", "-asan", "."]),
    row("freebsd/amd64", "-msan", &["list", "."]),
    row("js/wasm", "", &["build", "-race", "."]),
    row("linux/amd64", "", &["build", "-race", "-msan", "."]),
    row("linux/amd64", "-asan", &["build", "-msan", "."]),
    row(
        "linux/amd64",
        "",
        &["build", "-race", "-buildmode=frob", "."],
    ),
    // -pgo=FILE that cannot be opened: go's preprofile words.
    row("linux/amd64", "", &["build", "-pgo=missing.pgo", "."]),
];

/// Builds whose plans must carry go's mode-dependent flags (`go build -a -n`).
const PLANNED: &[Row] = &[
    row("linux/amd64", "", &["-buildmode=pie", "."]),
    row(
        "linux/amd64",
        "",
        &["-buildmode=exe", "-installsuffix", "foo", "."],
    ),
    row("linux/amd64", "-buildmode=pie -installsuffix=foo", &["."]),
    row("linux/amd64", "", &["-buildmode=archive", "fmt", "."]),
    row("linux/amd64", "", &["-buildmode=exe", "fmt"]),
    row("linux/amd64", "", &["-linkshared", "fmt"]),
    row("linux/amd64", "", &["-pgo=off", "-buildmode=default", "."]),
    row("linux/arm64", "", &["-buildmode=pie", "."]),
    row("linux/arm64", "-linkshared -installsuffix=x", &["fmt"]),
    row("windows/amd64", "", &["-buildmode=pie", "."]),
    row("windows/amd64", "", &["-buildmode=exe", "."]),
    row("windows/amd64", "-installsuffix=w", &["."]),
    row("darwin/arm64", "", &["-buildmode=exe", "."]),
    row(
        "darwin/arm64",
        "",
        &["-buildmode=pie", "-installsuffix=d", "."],
    ),
    row("darwin/arm64", "", &["-buildmode=archive", "fmt"]),
    row("darwin/arm64", "", &["-buildmode=default", "."]),
    row("wasip1/wasm", "", &["-buildmode=c-shared", "."]),
];

/// A module with one main package (importing fmt), in a directory of its own.
fn fixture(area: &Area) -> PathBuf {
    let dir = area.path("src");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("go.mod"), "module example.com/bm\n\ngo 1.27\n").unwrap();
    std::fs::write(
        dir.join("main.go"),
        "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"bm\") }\n",
    )
    .unwrap();
    dir
}

fn run(area: &Area, exe: &Path, dir: &Path, r: &Row, args: &[&str]) -> Output {
    let (goos, goarch) = r.target.split_once('/').unwrap();
    let extra = [("GOOS", goos), ("GOARCH", goarch), ("GOFLAGS", r.goflags)];
    area.run_with(exe, dir, args, &extra)
}

#[test]
fn refused_like_go() {
    let area = Area::new("bm-refused");
    let dir = fixture(&area);
    let mut failures = Vec::new();
    for r in REFUSED {
        let go = run(&area, &common::go_binary(), &dir, r, r.args);
        let gob = run(&area, &common::gob_binary(), &dir, r, r.args);
        assert!(
            !go.status.success(),
            "go accepts {:?}: the row is wrong",
            r.args
        );
        let want = (
            go.status.code(),
            first_stderr_line(&go).replacen("go: ", "gob: ", 1),
        );
        let got = (gob.status.code(), first_stderr_line(&gob));
        if want != got {
            failures.push(format!(
                "{} GOFLAGS={:?} {:?}: go {want:?}, gob {got:?}",
                r.target, r.goflags, r.args
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The mode-dependent flags of each compile, asm and link in a `-n` plan:
/// `tool package: flags`.
fn mode_flags(plan: &str) -> BTreeSet<String> {
    let tools = ["compile", "asm", "link"];
    plan.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let at = w
                .iter()
                .position(|x| tools.iter().any(|t| x.ends_with(&format!("/{t}"))))?;
            if w.get(at + 1) != Some(&"-o") || w.contains(&"-gensymabis") {
                return None;
            }
            let tool = w[at].rsplit('/').next().unwrap();
            let pkg = w
                .iter()
                .position(|x| *x == "-p")
                .map(|i| w[i + 1])
                .unwrap_or("main");
            let mut flags = Vec::new();
            for (i, x) in w.iter().enumerate() {
                let moded = matches!(
                    *x,
                    "-shared" | "-dynlink" | "-linkshared" | "-w" | "-D=GOBUILDMODE_shared=1"
                ) || x.starts_with("-buildmode=");
                if moded {
                    flags.push(x.to_string());
                }
                if *x == "-installsuffix" {
                    flags.push(format!("-installsuffix {}", w[i + 1]));
                }
            }
            Some(format!("{tool} {pkg}: {}", flags.join(" ")))
        })
        .collect()
}

#[test]
fn planned_like_go() {
    let area = Area::new("bm-planned");
    let dir = fixture(&area);
    let mut failures = Vec::new();
    let mut planned_any = false;
    for r in PLANNED {
        let mut sets = Vec::new();
        for (exe, extra) in [
            (common::go_binary(), &["-trimpath", "-buildvcs=false"][..]),
            (common::gob_binary(), &[][..]),
        ] {
            let mut args = vec!["build", "-a", "-n"];
            args.extend_from_slice(extra);
            args.extend_from_slice(r.args);
            let o = run(&area, &exe, &dir, r, &args);
            assert!(
                o.status.success(),
                "{} GOFLAGS={:?} {} {args:?}: {}",
                r.target,
                r.goflags,
                exe.display(),
                text(&o)
            );
            sets.push(mode_flags(&text(&o)));
        }
        planned_any |= !sets[0].is_empty();
        if sets[0] != sets[1] {
            let only_go: Vec<_> = sets[0].difference(&sets[1]).collect();
            let only_gob: Vec<_> = sets[1].difference(&sets[0]).collect();
            failures.push(format!(
                "{} GOFLAGS={:?} {:?}:\n  only go:  {only_go:?}\n  only gob: {only_gob:?}",
                r.target, r.goflags, r.args
            ));
        }
    }
    assert!(planned_any, "no plan had a compile, asm or link");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Real builds: `-buildmode=pie -installsuffix` and `-pgo=FILE` (a profile
/// in a subdirectory, named relative to `-C`'s directory) give go's build
/// info; wasip1 `-buildmode=c-shared` gives go's bytes and go's file mode
/// (not executable) once both links are told `-buildid=`.
#[test]
fn built_like_go() {
    let area = Area::new("bm-built");
    let dir = fixture(&area);
    std::fs::create_dir_all(dir.join("prof")).unwrap();
    std::fs::copy(
        common::goroot().join("src/cmd/compile/default.pgo"),
        dir.join("prof/cpu.pgo"),
    )
    .unwrap();
    let info = |bin: &Path| build_info(&area, &dir, bin);
    let (ours, theirs) = area.build_both(
        &dir,
        "pie",
        &["-buildmode=pie", "-installsuffix=foo"],
        "amd64",
        &[],
    );
    assert_eq!(info(&ours), info(&theirs), "-buildmode=pie build info");
    assert!(info(&ours).contains("build\t-buildmode=pie"));
    let o = Command::new(&ours).output().unwrap();
    assert_eq!(text(&o), "bm\n", "the PIE runs");

    let (ours, theirs) = area.build_both(&dir, "pgo", &["-pgo=prof/cpu.pgo"], "amd64", &[]);
    assert_eq!(info(&ours), info(&theirs), "-pgo=FILE build info");
    assert!(info(&ours).contains("build\t-pgo=cpu.pgo"));

    let (ours, theirs) = area.build_both(
        &dir,
        "wasm",
        &["-buildmode=c-shared", "-ldflags=-buildid="],
        "wasm",
        &[("GOOS", "wasip1")],
    );
    assert!(
        std::fs::read(&ours).unwrap() == std::fs::read(&theirs).unwrap(),
        "wasip1 c-shared: bytes differ"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&ours), mode(&theirs), "c-shared file mode");
}
