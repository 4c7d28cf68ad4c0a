//! Differential test: `-cover`, `-covermode`, `-coverpkg` (issue #14 item 3),
//! on fixtures/cover (a main package and a library).
//!
//! Each row builds with gob and with `go build -trimpath -buildvcs=false
//! -ldflags=-buildid=` (gob records no build ID: docs/build-vs-go.md): the
//! bytes and `go version -m` must be equal, and each binary, run with
//! GOCOVERDIR, must write coverage data that `go tool covdata textfmt` prints
//! the same. Before this, gob refused every -cover flag (`flag provided but
//! not defined: -cover`). go's errors and warning: an invalid -covermode,
//! a -coverpkg pattern that matches nothing.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::area::{build_info, first_line, text, Area};

fn fixture() -> PathBuf {
    common::repo_root().join("fixtures/cover")
}

/// `go tool covdata textfmt` of what `bin args…` wrote into a fresh GOCOVERDIR.
fn coverage(area: &Area, bin: &Path, name: &str) -> String {
    let dir = area.path(&format!("out/covdata-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let gocoverdir = dir.to_str().unwrap();
    let o = area.run_with(
        bin,
        &fixture(),
        &["a", "b", "c", "d"],
        &[("GOCOVERDIR", gocoverdir)],
    );
    assert!(o.status.success(), "{}: {}", bin.display(), text(&o));
    let profile = area.path(&format!("out/{name}.cov"));
    let o = area.run(
        &common::go_binary(),
        &fixture(),
        &[
            "tool",
            "covdata",
            "textfmt",
            &format!("-i={gocoverdir}"),
            &format!("-o={}", profile.display()),
        ],
        "amd64",
    );
    assert!(o.status.success(), "covdata textfmt: {}", text(&o));
    fs::read_to_string(&profile).unwrap()
}

#[test]
fn cover_builds_go_binaries() {
    let area = Area::new("cover");
    let rows: &[&[&str]] = &[
        &["-cover"],
        &["-covermode=count"],
        &["-cover", "-covermode", "atomic"],
        &["-coverpkg=./..."],
        &["-coverpkg", "./lib,.", "-covermode=count"],
    ];
    for (i, row) in rows.iter().enumerate() {
        let ours = area.path(&format!("out/{i}-gob"));
        let theirs = area.path(&format!("out/{i}-go"));
        for (exe, out, go_only) in [
            (common::gob_binary(), &ours, &[][..]),
            (
                common::go_binary(),
                &theirs,
                &["-trimpath", "-buildvcs=false", "-ldflags=-buildid="][..],
            ),
        ] {
            let mut argv = vec!["build"];
            argv.extend_from_slice(go_only);
            argv.extend_from_slice(row);
            argv.extend(["-o", out.to_str().unwrap(), "."]);
            let o = area.run(&exe, &fixture(), &argv, "amd64");
            assert!(
                o.status.success(),
                "{row:?}: {}: {}",
                exe.display(),
                text(&o)
            );
        }
        assert_eq!(
            build_info(&area, &fixture(), &ours),
            build_info(&area, &fixture(), &theirs),
            "{row:?}: build info"
        );
        assert!(
            build_info(&area, &fixture(), &ours).contains("build\t-cover=true"),
            "{row:?}"
        );
        assert!(
            fs::read(&ours).unwrap() == fs::read(&theirs).unwrap(),
            "{row:?}: other bytes than go build -ldflags=-buildid="
        );
        let (a, b) = (
            coverage(&area, &ours, &format!("{i}-gob")),
            coverage(&area, &theirs, &format!("{i}-go")),
        );
        assert!(a.lines().count() > 3, "{row:?}: coverage data: {a}");
        assert_eq!(a, b, "{row:?}: coverage data");
    }
}

#[test]
fn cover_errors_as_go() {
    let area = Area::new("cover-errors");
    let null = "/dev/null";
    let rows: &[&[&str]] = &[
        // An invalid mode: go's flag error, exit 2.
        &["build", "-covermode=sometimes", "."],
        &["install", "-covermode", "x", "."],
        // -race first: it needs cgo.
        &["build", "-race", "-covermode=count", "."],
        // A pattern that matches nothing: go warns and builds.
        &["build", "-coverpkg=nothing/...", "-o", null, "."],
    ];
    for row in rows {
        let ours = area.run(&common::gob_binary(), &fixture(), row, "amd64");
        let theirs = area.run(&common::go_binary(), &fixture(), row, "amd64");
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "{row:?}: exit code\ngob: {}\ngo: {}",
            text(&ours),
            text(&theirs)
        );
        assert_eq!(first_line(&ours), first_line(&theirs), "{row:?}");
    }
}
