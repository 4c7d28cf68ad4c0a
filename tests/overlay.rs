//! Differential test: `-overlay FILE` and `-modfile FILE` (issue #14 item 3),
//! on fixtures/overlay.
//!
//! Each row runs go and gob with the same arguments in the same directory and
//! environment. `list -e -json` must print the same packages (go's Doc,
//! Stale, StaleReason, Target and DefaultGODEBUG dropped: gob list prints
//! none of them); a build must succeed for both, with go's `go version -m`
//! and the bytes of go's binary built with `-ldflags=-buildid=` (gob records
//! no build ID: docs/build-vs-go.md); an error row must give go's exit code
//! and first line of stderr (`go:` read as `gob:`). A trace recorded under an
//! overlay replays with the overlaid content once the overlay's files are
//! gone; a replacement that is a link out of its directory, a FIFO or a
//! directory is refused.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::area::{build_info, first_line, list_stream, text, Area};

/// Fields of `go list -json` gob does not print.
const NOT_PRINTED_BY_GOB: &[&str] = &["Doc", "Stale", "StaleReason", "Target", "DefaultGODEBUG"];

fn fixture() -> PathBuf {
    common::repo_root().join("fixtures/overlay/mod")
}

fn run(area: &Area, exe: &Path, dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
    area.run_with(exe, dir, args, extra)
}

/// The rows every test shares: (flags, extra environment).
type Row<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);

const ROWS: &[Row] = &[
    // A replaced file, an added file, a deleted file, an embedded file.
    (&["-overlay", "../files/overlay.json"], &[]),
    // go.mod overlaid too.
    (&["-overlay=../files/gomod.json"], &[]),
    // Another go.mod: another go line.
    (
        &["-modfile=alt.mod", "-overlay", "../files/overlay.json"],
        &[],
    ),
    // Both from GOFLAGS.
    (
        &[],
        &[("GOFLAGS", "-overlay=../files/overlay.json -modfile=alt.mod")],
    ),
];

/// Pins issue #14 item 3: `-overlay` and `-modfile` were refused with `flag
/// provided but not defined`; the load must see go's overlaid view.
#[test]
fn list_under_overlay_and_modfile_matches_go_list() {
    let area = Area::new("overlay-list");
    let mut diffs = Vec::new();
    for (flags, extra) in ROWS {
        let mut argv = vec!["list", "-e", "-json"];
        argv.extend_from_slice(flags);
        argv.push(".");
        let go = run(&area, &common::go_binary(), &fixture(), &argv, extra);
        let gob = run(&area, &common::gob_binary(), &fixture(), &argv, extra);
        let (gj, bj) = (
            list_stream(&go, NOT_PRINTED_BY_GOB),
            list_stream(&gob, NOT_PRINTED_BY_GOB),
        );
        assert!(go.status.success(), "go {argv:?}: {}", text(&go));
        if gj != bj || go.status.code() != gob.status.code() {
            diffs.push(format!(
                "{extra:?} {argv:?}:\n--- go\n{}\n--- gob ({:?})\n{}",
                serde_json::to_string_pretty(&gj).unwrap(),
                gob.status.code(),
                text(&gob)
            ));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
}

/// Pins issue #14 item 3: the overlaid files reach the compiler (and the
/// embedcfg) with go's position names, so the binary is go's, bytes and
/// build info; `-modfile`'s go line reaches -lang and DefaultGODEBUG.
#[test]
fn build_under_overlay_and_modfile_matches_go_build() {
    let area = Area::new("overlay-build");
    // Without the overlay the fixture does not build (broken.go).
    let o = run(
        &area,
        &common::gob_binary(),
        &fixture(),
        &["build", "-o", "/dev/null", "."],
        &[],
    );
    assert!(
        !o.status.success(),
        "the fixture builds without its overlay"
    );
    let mut diffs = Vec::new();
    for (i, (flags, extra)) in ROWS.iter().enumerate() {
        let out = |tool: &str| area.path(&format!("out/row{i}-{tool}"));
        let runs = [
            (
                "go",
                common::go_binary(),
                &["-trimpath", "-buildvcs=false"][..],
            ),
            ("gob", common::gob_binary(), &[][..]),
            (
                "go-nobuildid",
                common::go_binary(),
                &["-trimpath", "-buildvcs=false", "-ldflags=-buildid="][..],
            ),
        ];
        for (tool, exe, tool_flags) in &runs {
            let o = out(tool);
            let mut argv = vec!["build"];
            argv.extend_from_slice(tool_flags);
            argv.extend_from_slice(flags);
            argv.extend(["-o", o.to_str().unwrap(), "."]);
            let r = run(&area, exe, &fixture(), &argv, extra);
            assert!(
                r.status.success(),
                "{tool} {argv:?} {extra:?}: {}",
                text(&r)
            );
        }
        let what = format!("{flags:?} {extra:?}");
        let (gv, bv) = (
            build_info(&area, &fixture(), &out("go")),
            build_info(&area, &fixture(), &out("gob")),
        );
        if gv != bv {
            diffs.push(format!(
                "{what}: go version -m:\n--- go\n{gv}\n--- gob\n{bv}"
            ));
        }
        if fs::read(out("go-nobuildid")).unwrap() != fs::read(out("gob")).unwrap() {
            diffs.push(format!(
                "{what}: other bytes than go build -ldflags=-buildid="
            ));
        }
        let ran = Command::new(out("gob")).output().unwrap();
        let said = String::from_utf8_lossy(&ran.stdout);
        if !said.starts_with("from the overlay added") {
            diffs.push(format!("{what}: the binary printed {said:?}"));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
}

/// Pins issue #14 item 3: go's errors for a bad overlay or -modfile, word for
/// word (exit code and first line).
#[test]
fn overlay_and_modfile_errors_match_go() {
    let area = Area::new("overlay-errors");
    let bad = area.path("bad");
    fs::create_dir_all(&bad).unwrap();
    // (overlay JSON, or None for none; flags after `build -o /dev/null`)
    let rows: &[(Option<&str>, &[&str])] = &[
        (Some(""), &[]),
        (Some("{"), &[]),
        (Some("[]"), &[]),
        (Some(r#"{"Replace": 3}"#), &[]),
        (Some(r#"{"Replace": {"a.go": 3}}"#), &[]),
        (Some(r#"{"Replace": {}} x"#), &[]),
        (Some(r#"{"Replace": {"a.go" "x"}}"#), &[]),
        (Some(r#"{"Replace": {"": "x"}}"#), &[]),
        (Some(r#"{"Replace": {"a.go": "x", "./a.go": "y"}}"#), &[]),
        (Some(r#"{"Replace": {"d": "x", "d/e": "y"}}"#), &[]),
        // A replacement that is missing, or a directory.
        (Some(r#"{"Replace": {"a.go": "nonexist"}}"#), &[]),
        (Some(r#"{"Replace": {"a.go": "/tmp"}}"#), &[]),
        (Some(r#"{"Replace": {"added.go": "/tmp"}}"#), &[]),
        // Null deletes: broken.go is back without its deletion.
        (
            Some(
                r#"{"Replace": {"a.go": null, "broken.go": null, "added.go": "../files/added.go"}}"#,
            ),
            &[],
        ),
        (None, &["-overlay", "nonexist.json"]),
        (None, &["-modfile=alt"]),
        (None, &["-modfile=nonexist.mod"]),
        (None, &["-modfile", "../files/go.mod.over"]),
    ];
    let mut diffs = Vec::new();
    for (i, (json, flags)) in rows.iter().enumerate() {
        let mut argv = vec!["build", "-o", "/dev/null"];
        let file = bad.join(format!("o{i}.json"));
        if let Some(j) = json {
            fs::write(&file, j).unwrap();
            argv.extend(["-overlay", file.to_str().unwrap()]);
        }
        argv.extend_from_slice(flags);
        argv.push(".");
        let go = run(&area, &common::go_binary(), &fixture(), &argv, &[]);
        let gob = run(&area, &common::gob_binary(), &fixture(), &argv, &[]);
        assert!(!go.status.success(), "go {argv:?} succeeded");
        let (gl, bl) = (first_line(&go), first_line(&gob));
        if go.status.code() != gob.status.code() || gl != bl {
            diffs.push(format!(
                "{json:?} {flags:?}: go: {:?} {gl:?}\n  gob: {:?} {bl:?}\n  gob said: {}",
                go.status.code(),
                gob.status.code(),
                text(&gob)
            ));
        }
    }
    // Outside a module, and in a workspace.
    let nomod = area.path("nomod");
    fs::create_dir_all(&nomod).unwrap();
    fs::write(nomod.join("m.go"), "package main\n\nfunc main() {}\n").unwrap();
    let ws = common::repo_root().join("fixtures/workspace");
    for (dir, gowork) in [(&nomod, "off"), (&ws, "")] {
        let argv = ["build", "-modfile=x.mod", "-o", "/dev/null", "./..."];
        let env = [("GOWORK", gowork)];
        let go = run(&area, &common::go_binary(), dir, &argv, &env);
        let gob = run(&area, &common::gob_binary(), dir, &argv, &env);
        let (gl, bl) = (first_line(&go), first_line(&gob));
        if go.status.code() != gob.status.code() || gl != bl {
            diffs.push(format!(
                "{}: go: {:?} {gl:?}\n  gob: {:?} {bl:?}",
                dir.display(),
                go.status.code(),
                gob.status.code()
            ));
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
}

/// Pins issue #14 item 3: overlaid files are declared inputs, embedded in
/// the trace: a trace recorded under an overlay replays bit for bit after
/// the overlay's files are deleted.
#[test]
fn trace_recorded_under_an_overlay_replays_without_it() {
    let area = Area::new("overlay-trace");
    let root = area.copy_fixture("overlay", "fx");
    let t = area.path("out/overlay.cbor");
    let bin = area.path("out/overlay.bin");
    let o = area.gob(
        &root.join("mod"),
        &[
            "build",
            "--trace",
            t.to_str().unwrap(),
            "-overlay",
            "../files/overlay.json",
            "-o",
            bin.to_str().unwrap(),
            ".",
        ],
        &[],
    );
    assert!(o.status.success(), "gob build: {}", text(&o));
    fs::remove_dir_all(root.join("files")).unwrap();
    let o = area.gob(&area.root, &["replay", t.to_str().unwrap()], &[]);
    let out = text(&o);
    assert!(o.status.success(), "replay: {out}");
    assert!(out.contains("reproduced bit for bit"), "{out}");
}

/// An overlay's replacement is checked as every declared input is: a link
/// out of the directory the overlay names it in is refused, naming the
/// file, before anything runs (go would read /etc/passwd); a FIFO is refused.
#[test]
fn overlay_replacements_follow_the_input_rules() {
    let area = Area::new("overlay-inputs");
    let root = area.copy_fixture("overlay", "fx");
    let files = root.join("files");
    std::os::unix::fs::symlink("/etc/passwd", files.join("link.txt")).unwrap();
    let fifo = files.join("fifo.txt");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    // A FIFO as the overlay file itself: refused, not waited on.
    let o = area.gob(
        &root.join("mod"),
        &[
            "build",
            "-overlay",
            fifo.to_str().unwrap(),
            "-o",
            "/dev/null",
            ".",
        ],
        &[],
    );
    assert!(
        text(&o).contains("reading overlay: open ") && text(&o).contains("not a regular file"),
        "{}",
        text(&o)
    );
    let link = format!(
        "{}: resolves to /etc/passwd, outside its root",
        files.join("link.txt").display()
    );
    // The FIFO is refused by the load, in go's words (go's embed sees the
    // replacement's mode).
    let fifo_words = "pattern msg.txt: cannot embed irregular file msg.txt".to_string();
    for (name, want) in [("link.txt", link), ("fifo.txt", fifo_words)] {
        let json = format!(
            r#"{{"Replace": {{"a.go": "../files/a.go", "added.go": "../files/added.go", "broken.go": "", "msg.txt": "../files/{name}"}}}}"#
        );
        let j = files.join(format!("{name}.json"));
        fs::write(&j, json).unwrap();
        let o = area.gob(
            &root.join("mod"),
            &[
                "build",
                "-overlay",
                j.to_str().unwrap(),
                "-o",
                "/dev/null",
                ".",
            ],
            &[],
        );
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {out}");
        assert!(out.contains(&want), "{name}: {out}");
    }
}
