//! The command line as go parses it (issue #14 items 1, 2, 5 and 7): one
//! table of rows, each run with `go` and with `gob`. A row that fails must
//! fail alike: the same exit status and the same first line on stderr, with
//! `go` read as `gob`. A build that succeeds must give the same build info
//! (`go version -m`, every line after the file name), print the same when
//! run (the fixture prints its `-X main.v`), and be stripped alike.
//!
//! The fixture is one tiny main package without imports, built outside any
//! VCS checkout (so `-buildvcs=auto` stamps nothing for go either); go runs
//! with `-trimpath` (from GOFLAGS), which gob always applies.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::area::{build_info, first_stderr_line, text, Area};

/// One row: `$GOFLAGS`, then the arguments after the command.
struct Row {
    goflags: &'static str,
    args: &'static [&'static str],
}

const fn row(goflags: &'static str, args: &'static [&'static str]) -> Row {
    Row { goflags, args }
}

/// Rows both tools must refuse alike (item 1's syntax errors, item 2's
/// GOFLAGS errors, item 5's unknown command and flags on every command).
const REFUSED: &[Row] = &[
    row("", &["frob"]),
    row("", &["build", "-frob"]),
    row("", &["build", "--frob=1"]),
    row("", &["list", "-frob"]),
    row("", &["version", "-frob"]),
    row("", &["env", "-frob"]),
    row("", &["clean", "-frob"]),
    row("", &["build", "-ldflags"]),
    row("", &["build", "-o"]),
    row("", &["list", "-tags"]),
    row("", &["build", "-v=maybe"]),
    row("", &["build", "-buildvcs=maybe"]),
    row("", &["build", "---x"]),
    row("", &["build", "-=x"]),
    row("", &["build", "-p", "abc"]),
    row("", &["build", "-v", "-C", "."]),
    row("", &["list", "-C", ".", "--C=."]),
    row("-C=.", &["build"]),
    row("", &["build", "-race", "."]),
    row("", &["build", "-msan", "."]),
    row("-badflag", &["build", "."]),
    row("-badflag", &["list", "."]),
    row("-badflag", &["version"]),
    row("--badflag=1", &["build", "."]),
    row("x", &["build", "."]),
    row("-", &["build", "."]),
    row("'-ldflags=-s", &["build", "."]),
    row("-ldflags -s -w", &["build", "."]),
    row("-ldflags", &["build", "."]),
    row("-v=maybe", &["list", "."]),
    row("-race", &["build", "."]),
    row("-race", &["list", "."]),
    row("-asan", &["build", "."]),
    // Values go's flags refuse as they are set.
    row("", &["build", "-compiler=foo", "."]),
    row("", &["build", "-compiler", "", "."]),
    row("", &["build", "-gccgoflags=all=-O2 'x", "."]),
    row("", &["build", "-gcflags='x", "."]),
    row("", &["build", "-ldflags==x", "."]),
    row("-compiler=foo", &["build", "."]),
    row("-gcflags='x", &["build", "."]),
];

/// Builds both tools must make alike (item 1's spellings, item 2's GOFLAGS).
const BUILT: &[Row] = &[
    row("", &["-ldflags", "-s -w"]),
    row("", &["-ldflags", "-X main.v=1 -s -w"]),
    row("", &["--ldflags", "-X=main.v=2"]),
    row("", &["--ldflags=-X main.v=3"]),
    row("", &["-gcflags", "-N"]),
    row("", &["-tags", "-foo"]),
    row("", &["-v", "-x=false", "-a=false", "-o", "OUT", "--", "."]),
    row("", &["-C", ".", "-v"]),
    row("", &["-trimpath", "-buildvcs=auto"]),
    row("", &["-buildvcs", "-buildvcs=false"]),
    row("-v -x=0 -trimpath", &[]),
    row("-buildvcs=auto -count=1 -json=false", &[]),
    row("'-ldflags=-X main.v=4 -s' -modcacherw", &[]),
    // The command line wins over GOFLAGS.
    row("'-ldflags=-X main.v=5'", &["-ldflags", "-X main.v=6"]),
    row("-gcflags=-N", &["-gcflags=-l"]),
    // Accepted and without effect on a gc build, as in go.
    row(
        "",
        &["-compiler=gc", "-gccgoflags=all=-O2", "-pkgdir", "pkgdir"],
    ),
    row("-compiler=gc -pkgdir=pkgdir", &[]),
];

/// The fixture, in a directory of its own for each test (`tag`).
fn fixture(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gob-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("go.mod"), "module example.com/tiny\n\ngo 1.27\n").unwrap();
    std::fs::write(
        dir.join("main.go"),
        "package main\n\nvar v string\n\nfunc main() { println(\"v=\" + v) }\n",
    )
    .unwrap();
    dir
}

fn run(area: &Area, exe: &Path, dir: &Path, goflags: &str, args: &[&str]) -> Output {
    area.run_with(exe, dir, args, &[("GOFLAGS", goflags)])
}

/// go's line with go's name for itself read as gob's.
fn as_gob(line: &str) -> String {
    line.replacen("go: ", "gob: ", 1)
        .replacen("go frob:", "gob frob:", 1)
}

#[test]
fn refused_like_go() {
    let area = Area::new("cli-refused");
    let dir = fixture("refused");
    let mut failures = Vec::new();
    for r in REFUSED {
        let go = run(&area, &common::go_binary(), &dir, r.goflags, r.args);
        let gob = run(&area, &common::gob_binary(), &dir, r.goflags, r.args);
        assert!(
            !go.status.success(),
            "go accepts {:?}: the row is wrong",
            r.args
        );
        let want = (go.status.code(), as_gob(&first_stderr_line(&go)));
        let got = (gob.status.code(), first_stderr_line(&gob));
        if want != got {
            failures.push(format!(
                "GOFLAGS={:?} {:?}: go {want:?}, gob {got:?}",
                r.goflags, r.args
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What the binary prints, and whether it has a symbol table (`-s`).
fn behaviour(bin: &Path) -> (String, bool) {
    let out = Command::new(bin).output().unwrap();
    let nm = Command::new(common::go_binary())
        .args(["tool", "nm"])
        .arg(bin)
        .output()
        .unwrap();
    (text(&out), nm.status.success())
}

#[test]
fn built_like_go() {
    let area = Area::new("cli-built");
    let dir = fixture("built");
    let mut failures = Vec::new();
    for (i, r) in BUILT.iter().enumerate() {
        let mut outs = Vec::new();
        // go gets gob's -trimpath through GOFLAGS, so that the row's
        // command line stays as written (-C must come first).
        let go_goflags = format!("{} -trimpath", r.goflags);
        for (exe, goflags) in [
            (common::go_binary(), go_goflags.trim()),
            (common::gob_binary(), r.goflags),
        ] {
            let name = exe.file_name().unwrap().to_string_lossy().into_owned();
            let out = area.path(&format!("out/{i}-{name}"));
            let out = out.to_str().unwrap();
            let mut args = vec!["build"];
            // `OUT` in a row is where -o goes; else -o OUT ends the flags.
            args.extend(r.args.iter().map(|a| if *a == "OUT" { out } else { a }));
            if !r.args.contains(&"OUT") {
                args.extend(["-o", out]);
            }
            let o = run(&area, &exe, &dir, goflags, &args);
            assert!(
                o.status.success(),
                "GOFLAGS={goflags:?} {} {args:?}: {}",
                exe.display(),
                text(&o)
            );
            outs.push(PathBuf::from(out));
        }
        let (go, gob) = (&outs[0], &outs[1]);
        let want = (build_info(&area, &dir, go), behaviour(go));
        let got = (build_info(&area, &dir, gob), behaviour(gob));
        if want != got {
            failures.push(format!(
                "GOFLAGS={:?} build {:?}:\n go  {want:?}\n gob {got:?}",
                r.goflags, r.args
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every name gob's $GOFLAGS check knows is one go knows, and a few it does
/// not know, go does not either.
#[test]
fn goflags_names_are_gos() {
    let area = Area::new("cli-names");
    let dir = fixture("names");
    let unknown = |name: &str| {
        let o = run(
            &area,
            &common::go_binary(),
            &dir,
            &format!("-{name}"),
            &["version"],
        );
        first_stderr_line(&o).contains("unknown flag")
    };
    for name in gob::cli::GO_FLAG_NAMES {
        assert!(!unknown(name), "go does not know -{name}");
    }
    for name in ["sandbox", "hermetic", "goroot", "l", "s", "all"] {
        assert!(unknown(name), "go knows -{name}: add it to GO_FLAG_NAMES");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Item 7: `gob version` names gob first and succeeds without a toolchain.
#[test]
fn version_without_a_toolchain() {
    let area = Area::new("cli-version");
    let o = Command::new(common::gob_binary())
        .arg("version")
        .env_clear()
        .env("PATH", area.path("home"))
        .env("HOME", area.path("home"))
        .env("GOROOT", area.path("no-such-goroot"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.trim_end(), format!("gob {}", env!("CARGO_PKG_VERSION")));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no-such-goroot"),
        "the note names what was tried: {}",
        text(&o)
    );
    let o = area.gob(&area.root, &["version"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .starts_with(&format!("gob {} with go1.", env!("CARGO_PKG_VERSION"))),
        "{}",
        text(&o)
    );
}
