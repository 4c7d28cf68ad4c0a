//! `gob audit`: clean builds pass; a build that writes the time, the
//! environment, the uid or the umask into one package's object is caught,
//! with that package's compile named as the root cause and the byte offset
//! given; `--against` compares with a trace recorded elsewhere; `-o x.tar`
//! writes a deterministic release tar; bad options get exit status 2.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::area::{text, Area};

fn fixture(name: &str) -> PathBuf {
    common::repo_root().join("fixtures").join(name)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn probe(area: &Area, name: &str, settings: &[(&str, &str)]) -> PathBuf {
    area.probe(name, settings)
}

/// The scratch directories an audit leaves in the area's TMPDIR.
fn leftovers(area: &Area) -> Vec<String> {
    fs::read_dir(area.path("tmp"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("gob-audit-"))
        .collect()
}

/// Pins: every clean fixture is reproducible under the audit's varied
/// conditions, and a passing audit leaves nothing behind.
#[test]
fn clean_fixtures_pass_the_audit() {
    let area = Area::new("audit-clean");
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let cases: &[Case] = &[
        ("hello", ".", &[]),
        ("asmcall", ".", &[]),
        ("embed", "./...", &[]),
        ("tags", "./...", &[]),
        ("replace", ".", &[]),
        ("vendored", ".", &[]),
        ("workspace/app", "./...", &[("GOWORK", "")]),
        ("toolexec-probe", ".", &[]),
    ];
    for (name, pattern, env) in cases {
        let o = area.gob(&fixture(name), &["audit", pattern], env);
        assert_eq!(o.status.code(), Some(0), "gob audit {name}: {}", text(&o));
        let out = stdout(&o);
        assert!(
            out.contains("build a: ") && out.contains("build b: "),
            "{out}"
        );
        assert!(
            out.contains("uid 54321; umask 077; TZ=Asia/Kathmandu"),
            "build b must say what it varied: {out}"
        );
        assert!(out.contains("gob audit: reproducible: "), "{name}: {out}");
        assert!(
            leftovers(&area).is_empty(),
            "{name}: {:?}",
            leftovers(&area)
        );
    }
    // A dependency from the module cache (laid out by go mod download).
    common::modcache::populate(&common::go_binary(), &area.root, &area.env("amd64"));
    let o = area.gob(&fixture("modcache"), &["audit", "."], &[]);
    assert_eq!(o.status.code(), Some(0), "gob audit modcache: {}", text(&o));
    assert!(
        stdout(&o).contains("gob audit: reproducible: "),
        "{}",
        text(&o)
    );
}

/// Audits `./internal/calc` of asmcall with the probe as -toolexec.
fn audit_with(area: &Area, probe: &Path, extra: &[&str]) -> Output {
    let te = format!("-toolexec={}", probe.display());
    let mut args = vec!["audit", te.as_str()];
    args.extend_from_slice(extra);
    args.push("./internal/calc");
    area.gob(&fixture("asmcall"), &args, &[])
}

/// Pins: whatever the wrapper writes into one object — the time, or a
/// condition the audit varies — the audit fails with exit status 1, names
/// that package's compile as the root cause and the offset where the bytes
/// part; a wrapper that writes nothing passes (the control).
#[test]
fn a_non_reproducible_action_is_named() {
    let area = Area::new("audit-stamp");
    let clean = probe(&area, "none", &[("mode", "stamp"), ("what", "none")]);
    let o = audit_with(&area, &clean, &[]);
    assert_eq!(o.status.code(), Some(0), "the control: {}", text(&o));

    for what in ["time", "env", "uid", "umask"] {
        let p = probe(&area, what, &[("mode", "stamp"), ("what", what)]);
        let o = audit_with(&area, &p, &[]);
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(1), "{what}: {}", text(&o));
        assert!(
            out.contains("gob audit: NOT reproducible: 2 of 4 actions differ"),
            "{what}: {out}"
        );
        let root = out
            .lines()
            .find(|l| l.starts_with("root cause: "))
            .unwrap_or_else(|| panic!("{what}: no root cause: {out}"));
        assert!(
            root.contains("compile example.com/asmcall/internal/calc"),
            "{what}: {root}"
        );
        // The object gained bytes at its end: the offset is the compiler's length.
        assert!(
            out.contains("_pkg_.a: first difference at byte "),
            "{what}: {out}"
        );
        assert!(
            out.contains("consequence: ") && out.contains("pack example.com/asmcall/internal/calc"),
            "{what}: the pack that archives the object follows: {out}"
        );
        // The traces are kept and say the same.
        let traces = out
            .lines()
            .find_map(|l| l.strip_prefix("gob audit: traces: "))
            .unwrap_or_else(|| panic!("{what}: traces not kept: {out}"));
        let mut it = traces.split(' ');
        let (a, b) = (it.next().unwrap(), it.next().unwrap());
        let d = area.gob(&fixture("asmcall"), &["trace", "diff", a, b], &[]);
        assert_eq!(d.status.code(), Some(1), "{}", text(&d));
        assert!(
            stdout(&d).contains("root cause: compile example.com/asmcall/internal/calc"),
            "{}",
            text(&d)
        );
        fs::remove_dir_all(Path::new(a).parent().unwrap().parent().unwrap()).unwrap();
    }

    // -json: the same verdict as events.
    let p = probe(&area, "time-json", &[("mode", "stamp")]);
    let o = audit_with(&area, &p, &["-json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let events: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let diverged: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["Action"] == "audit-diverged" && e["RootCause"] == true)
        .collect();
    assert_eq!(diverged.len(), 1, "{events:?}");
    assert_eq!(
        diverged[0]["ImportPath"],
        "example.com/asmcall/internal/calc"
    );
    assert_eq!(diverged[0]["Mode"], "compile");
    assert!(diverged[0]["Outputs"][0]["Offset"].is_u64(), "{events:?}");
    let done = events.last().unwrap();
    assert_eq!(done["Action"], "audit-done");
    assert_eq!(done["Verdict"], "not-reproducible");
    assert_eq!(
        events
            .iter()
            .filter(|e| e["Action"] == "audit-build")
            .count(),
        2
    );
}

/// Pins: a build that only works under build a's conditions is not
/// reproducible (exit 1) and the report carries build b's failure.
#[test]
fn a_build_that_fails_under_other_conditions_is_not_reproducible() {
    let area = Area::new("audit-failuid");
    let p = probe(&area, "failuid", &[("mode", "failuid")]);
    let o = audit_with(&area, &p, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = stdout(&o);
    assert!(
        out.contains("build b, under the conditions above, failed")
            && out.contains("compile refused: uid is 54321, not 1000"),
        "{out}"
    );
}

/// Pins: `--against` compares one build with a trace from elsewhere: the
/// same build passes, a stamped one is caught and named.
#[test]
fn audit_against_a_recorded_trace() {
    let area = Area::new("audit-against");
    let dir = fixture("asmcall");
    let good = area.path("out/good.cbor");
    let o = area.gob(
        &dir,
        &[
            "build",
            "--hermetic",
            "--trace",
            good.to_str().unwrap(),
            ".",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    // No packages: the trace's own.
    let o = area.gob(&dir, &["audit", "--against", good.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(stdout(&o).contains("compared with"), "{}", text(&o));
    assert_eq!(stdout(&o).matches("gob audit: build ").count(), 1);

    let p = probe(&area, "time", &[("mode", "stamp")]);
    let bad = area.path("out/bad.cbor");
    let o = area.gob(
        &dir,
        &[
            "build",
            &format!("-toolexec={}", p.display()),
            "--trace",
            bad.to_str().unwrap(),
            "./internal/calc",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = area.gob(
        &dir,
        &[
            "audit",
            "--against",
            bad.to_str().unwrap(),
            "./internal/calc",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = stdout(&o);
    assert!(
        out.lines().any(|l| l.starts_with("root cause: ")
            && l.contains("compile example.com/asmcall/internal/calc")),
        "{out}"
    );
    assert!(
        out.contains("first difference at byte"),
        "the trace embeds the object: {out}"
    );
}

/// Pins: `-o x.tar` (build and audit) writes a tar with fixed headers whose
/// bytes do not depend on the umask, the time zone or the cache; the binary
/// in it is the one `-o file` writes.
#[test]
fn release_tar_is_deterministic() {
    let area = Area::new("audit-tar");
    let dir = fixture("hello");
    let bin = area.path("out/hello");
    let o = area.gob(&dir, &["build", "-o", bin.to_str().unwrap(), "."], &[]);
    assert!(o.status.success(), "{}", text(&o));

    let tar_with = |name: &str, umask: &str, tz: &str, cache: &str| -> Vec<u8> {
        let out = area.path(&format!("out/{name}/dist.tar"));
        let gob = common::gob_binary();
        let script = format!(
            "umask {umask} && exec {} build -o {} .",
            gob.display(),
            out.display()
        );
        let mut env = area.env("amd64");
        env.retain(|(k, _)| k != "GOBCACHE");
        env.push(("GOBCACHE".into(), area.path(cache).display().to_string()));
        env.push(("TZ".into(), tz.into()));
        let o = std::process::Command::new("/bin/sh")
            .args(["-c", &script])
            .current_dir(&dir)
            .env_clear()
            .envs(env)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        fs::read(&out).unwrap()
    };
    let a = tar_with("a", "022", "UTC", "cache-a");
    let b = tar_with("b", "077", "Asia/Kathmandu", "cache-b");
    assert!(a == b, "two release tars differ");
    let mut ar = tar::Archive::new(a.as_slice());
    let mut entries = Vec::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let h = e.header().clone();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut bytes).unwrap();
        entries.push((
            e.path().unwrap().display().to_string(),
            h.mode().unwrap(),
            h.mtime().unwrap(),
            h.uid().unwrap(),
            h.gid().unwrap(),
            h.username().unwrap().unwrap_or("").to_string(),
            bytes,
        ));
    }
    assert_eq!(entries.len(), 1);
    let (name, mode, mtime, uid, gid, user, bytes) = &entries[0];
    assert_eq!(
        (name.as_str(), *mode, *mtime, *uid, *gid, user.as_str()),
        ("hello", 0o755, 0, 0, 0, "")
    );
    assert!(
        *bytes == fs::read(&bin).unwrap(),
        "the tar holds another binary"
    );

    // The audit writes the same tar, and only after proving it reproducible.
    let dist = area.path("out/audited/dist.tar");
    let o = area.gob(&dir, &["audit", "-o", dist.to_str().unwrap(), "."], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(fs::read(&dist).unwrap() == a, "the audited tar differs");

    // No main package: nothing to put in a tar, said clearly.
    let o = area.gob(
        &fixture("asmcall"),
        &[
            "build",
            "-o",
            area.path("out/lib.tar").to_str().unwrap(),
            "./internal/calc",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("no main package"), "{}", text(&o));
}

/// Pins: options an audit cannot honour are refused with exit status 2 and
/// a message naming them; nothing is built.
#[test]
fn audit_refuses_bad_options() {
    let area = Area::new("audit-usage");
    let dir = fixture("hello");
    let nonempty = area.path("out/nonempty");
    fs::create_dir_all(&nonempty).unwrap();
    fs::write(nonempty.join("x"), "x").unwrap();
    let missing = area.path("out/missing.cbor");
    let cases: &[(&[&str], &str)] = &[
        (&["audit", "--trace", "t.cbor", "."], "--trace"),
        (&["audit", "-n", "."], "-n"),
        (&["audit", "--sandbox=none", "."], "--sandbox=none"),
        (&["audit", "--sandbox=landlock", "."], "--sandbox=landlock"),
        (
            &["audit", "--keep", nonempty.to_str().unwrap(), "."],
            "directory is not empty",
        ),
        (
            &["audit", "--against", missing.to_str().unwrap(), "."],
            "missing.cbor",
        ),
    ];
    for (args, expect) in cases {
        let o = area.gob(&dir, args, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(expect), "{args:?}: {}", text(&o));
    }
    // A trace that cannot be read is named once, with the reason once.
    let o = area.gob(
        &dir,
        &["audit", "--against", missing.to_str().unwrap(), "."],
        &[],
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "gob audit: {}: No such file or directory (os error 2)\n",
            missing.display()
        )
    );
    assert!(leftovers(&area).is_empty(), "{:?}", leftovers(&area));
}

/// Heavy: cmd/go, 300+ packages, passes the audit (two cold builds, one at -p 1).
#[test]
fn heavy_cmd_go_passes_the_audit() {
    let area = Area::new("audit-cmd-go");
    let o = area.gob(&common::goroot().join("src/cmd"), &["audit", "./go"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        stdout(&o).contains("gob audit: reproducible: "),
        "{}",
        text(&o)
    );
}

/// Pins (issue #13 item 8): recording embeds each input in the trace, and
/// it read the input's file whole into memory first, so an audit (two such
/// builds) took as much memory as its largest input: over go build's for
/// cmd/go, whose link reads archives of 12 MB. Inputs are now streamed into
/// the trace in pieces: a package with a 96 MiB `.syso` (packed by gob's own
/// pack, in gob's process) is audited with gob (and the compile it runs)
/// staying far below the file's size.
#[test]
fn audit_memory_does_not_grow_with_an_input() {
    const SYSO: usize = 96 << 20;
    const BOUND: u64 = 64 << 20;
    let area = Area::new("audit-memory");
    let dir = area.path("bigsyso");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("go.mod"),
        "module example.com/bigsyso\n\ngo 1.22\n",
    )
    .unwrap();
    fs::write(dir.join("big.go"), "package bigsyso\n\nconst X = 1\n").unwrap();
    let piece: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let mut f = fs::File::create(dir.join("big.syso")).unwrap();
    for i in 0..SYSO >> 20 {
        use std::io::Write;
        f.write_all(&[i as u8]).unwrap();
        f.write_all(&piece[1..]).unwrap();
    }
    drop(f);
    let (code, out, rss) = area.gob_rss(&dir, &["audit", "."]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("gob audit: reproducible: "), "{out}");
    eprintln!("gob audit: peak RSS {} MiB", rss >> 20);
    assert!(
        rss < BOUND,
        "gob audit of a package with a {} MiB input peaked at {} MiB",
        SYSO >> 20,
        rss >> 20
    );
}
