//! Differential test: Go files named on the command line (`go build main.go`),
//! the `command-line-arguments` package (issue #14 item 4), on fixtures/files.
//!
//! Each row runs go and gob with the same arguments in the same directory and
//! environment: `list -e -json` must print the same packages (every field gob
//! prints; go's Doc, Stale, StaleReason and Target are dropped); a build must
//! exit alike, write the same files, and each binary must have go's
//! `go version -m` (every line) and, built by go with `-ldflags=-buildid=`
//! (gob records no build ID: docs/build-vs-go.md), go's bytes; an error row
//! must give go's exit code and first line of stderr.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::area::{first_stderr_line as first_line, list_stream, text, Area};

/// Fields of `go list -json` gob does not print (as tests/list_diff.rs).
const NOT_PRINTED_BY_GOB: &[&str] = &["Doc", "Stale", "StaleReason", "Target"];

/// The packages of a `list -json` stream, without the fields gob does not print.
fn json_stream(o: &Output) -> Vec<serde_json::Value> {
    list_stream(o, NOT_PRINTED_BY_GOB)
}

/// Runs `exe args` in `dir` with the area's environment plus `extra`.
fn run(area: &Area, exe: &Path, dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
    area.run_with(exe, dir, args, extra)
}

/// Every file below `dir`, relative.
fn files_below(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out
}

/// `go version -m BIN` without its first line (which names the file).
fn version_m(area: &Area, bin: &Path) -> String {
    let args = ["version", "-m", bin.to_str().unwrap()];
    let o = run(area, &common::go_binary(), Path::new("/"), &args, &[]);
    assert!(o.status.success(), "go {args:?}: {}", text(&o));
    let s = String::from_utf8_lossy(&o.stdout);
    s.lines().skip(1).collect::<Vec<_>>().join("\n")
}

#[test]
fn list_of_named_files_matches_go_list() {
    let area = Area::new("file-args-list");
    let abs_main = common::repo_root().join("fixtures/files/main.go");
    let abs_main = abs_main.to_str().unwrap();
    // (directory below fixtures/, extra environment, arguments after `list -e -json`)
    type Row<'a> = (&'a str, &'a [(&'a str, &'a str)], Vec<&'a str>);
    let rows: Vec<Row> = vec![
        ("files", &[], vec!["main.go", "greet.go"]),
        ("files", &[], vec!["greet.go", "main.go"]),
        ("files", &[], vec!["-deps", "main.go", "greet.go"]),
        ("files", &[], vec!["./cmd/app/main.go"]),
        ("files", &[], vec!["lib/lib.go"]),
        ("files", &[], vec![abs_main]),
        // Neither build constraints nor file names exclude a named file.
        ("files", &[], vec!["gen.go"]),
        ("files", &[], vec!["extra_windows.go"]),
        ("files", &[("GOOS", "windows")], vec!["extra_windows.go"]),
        ("files", &[], vec!["greet_test.go"]),
        // Named files import as their directory's package: internal/ is allowed.
        ("files/lib", &[], vec!["../main.go", "../greet.go"]),
        // A package path ending in .go is still a package path.
        ("files", &[], vec!["nonexist.go"]),
        // go's package for a non-.go argument: a name and an error, no import path.
        ("files", &[], vec!["main.go", "lib"]),
        ("files", &[], vec!["lib", "main.go"]),
        ("files", &[], vec!["main.go", "./lib/..."]),
    ];
    let mut diffs = Vec::new();
    for (dir, extra, args) in &rows {
        let dir = common::repo_root().join("fixtures").join(dir);
        let mut argv = vec!["list", "-e", "-json"];
        argv.extend_from_slice(args);
        let go = run(&area, &common::go_binary(), &dir, &argv, extra);
        let gob = run(&area, &common::gob_binary(), &dir, &argv, extra);
        let (gj, bj) = (json_stream(&go), json_stream(&gob));
        assert!(!gj.is_empty(), "go {argv:?} printed nothing: {}", text(&go));
        if gj != bj || go.status.code() != gob.status.code() {
            diffs.push(format!(
                "{extra:?} {argv:?}:\n--- go ({:?})\n{}\n--- gob ({:?})\n{}",
                go.status.code(),
                serde_json::to_string_pretty(&gj).unwrap(),
                gob.status.code(),
                text(&gob)
            ));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
}

#[test]
fn build_of_named_files_matches_go_build() {
    let area = Area::new("file-args-build");
    // (directory below the fixture copy, arguments after `build`)
    let rows: &[(&str, &[&str])] = &[
        // The binary is named after the first file.
        ("", &["main.go", "greet.go"]),
        ("", &["greet.go", "main.go"]),
        ("", &["./cmd/app/main.go"]),
        // A `//go:build ignore` generator builds when named.
        ("", &["gen.go"]),
        ("", &["-o", "out/", "main.go", "greet.go"]),
        ("lib", &["-o", "../bin/prog", "../main.go", "../greet.go"]),
        // A package that is not main is built and discarded; test files alone build nothing.
        ("", &["lib/lib.go"]),
        ("", &["greet_test.go"]),
    ];
    let go_flags = ["-trimpath", "-buildvcs=false"];
    let mut diffs = Vec::new();
    for (i, (sub, args)) in rows.iter().enumerate() {
        let what = format!("build {args:?} in {sub:?}");
        // go as gob (-trimpath), gob, and go without a build ID (for the bytes).
        let runs = [
            ("go", common::go_binary(), &go_flags[..]),
            ("gob", common::gob_binary(), &[][..]),
            (
                "go-nobuildid",
                common::go_binary(),
                &["-trimpath", "-buildvcs=false", "-ldflags=-buildid="][..],
            ),
        ];
        let outs: Vec<(PathBuf, Output, Vec<String>)> = runs
            .iter()
            .map(|(tool, exe, flags)| {
                let root = area.copy_fixture("files", &format!("row{i}-{tool}"));
                let before = files_below(&root);
                let mut argv = vec!["build"];
                argv.extend_from_slice(flags);
                argv.extend_from_slice(args);
                let o = run(&area, exe, &root.join(sub), &argv, &[]);
                let new = files_below(&root).difference(&before).cloned().collect();
                (root, o, new)
            })
            .collect();
        let (go, gob, nobid) = (&outs[0], &outs[1], &outs[2]);
        assert!(go.1.status.success(), "{what}: go failed: {}", text(&go.1));
        if !gob.1.status.success() {
            diffs.push(format!("{what}: gob failed: {}", text(&gob.1)));
            continue;
        }
        if go.2 != gob.2 {
            diffs.push(format!("{what}: go wrote {:?}, gob {:?}", go.2, gob.2));
            continue;
        }
        for f in &go.2 {
            let (gv, bv) = (
                version_m(&area, &go.0.join(f)),
                version_m(&area, &gob.0.join(f)),
            );
            if gv != bv {
                diffs.push(format!(
                    "{what}: {f}: go version -m:\n--- go\n{gv}\n--- gob\n{bv}"
                ));
            }
            if fs::read(nobid.0.join(f)).unwrap() != fs::read(gob.0.join(f)).unwrap() {
                diffs.push(format!(
                    "{what}: {f}: other bytes than go build -ldflags=-buildid="
                ));
            }
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
}

#[test]
fn named_file_errors_match_go() {
    let area = Area::new("file-args-errors");
    let fx = common::repo_root().join("fixtures");
    let abs_main = fx.join("files/main.go");
    let abs_main = abs_main.to_str().unwrap();
    // (directory below fixtures/, command and arguments)
    let rows: &[(&str, &[&str])] = &[
        // One directory as written: go compares the spellings.
        ("files", &["build", abs_main, "greet.go"]),
        ("files", &["build", "main.go", "sub/other.go"]),
        ("files", &["build", "main.go", "lib"]),
        ("files", &["build", "lib", "main.go"]),
        ("files", &["build", "main.go", "./lib/..."]),
        ("files", &["build", "main.go", "nonexist.go"]),
        ("files", &["build", "main.go", "dir.go"]),
        ("files", &["build", "nonexist.go"]),
        // Both are package main with a func main: the compiler says so.
        ("files", &["build", "-o", "/dev/null", "main.go", "gen.go"]),
        ("files", &["build", "-o", "x", "greet_test.go"]),
        // Outside the files' module their imports are not found.
        ("hello", &["build", "../files/main.go", "../files/greet.go"]),
        ("files", &["list", "main.go", "sub/other.go"]),
        ("files", &["list", "main.go", "lib"]),
        ("files", &["list", "-e", "main.go", "nonexist.go"]),
        ("files", &["list", "main.go", "dir.go"]),
    ];
    let mut diffs = Vec::new();
    for (dir, args) in rows {
        let dir = fx.join(dir);
        let go = run(&area, &common::go_binary(), &dir, args, &[]);
        let gob = run(&area, &common::gob_binary(), &dir, args, &[]);
        assert!(!go.status.success(), "go {args:?} succeeded");
        let (gl, bl) = (first_line(&go), first_line(&gob));
        if go.status.code() != gob.status.code() || gl != bl {
            diffs.push(format!(
                "{args:?}: go: {:?} {gl:?}\n  gob: {:?} {bl:?}\n  gob said: {}",
                go.status.code(),
                gob.status.code(),
                text(&gob)
            ));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
}
