//! Every flag of `go help build`, on every target (issue #14, done when):
//! one table of rows, each run as `go build -a -n` and `gob build -a -n` for
//! each GOOS/GOARCH of docs/build-vs-go.md. Both must agree: the same exit
//! status (and first error line, `go` read as `gob`), and when both plan a
//! build, the same tool runs with the same flags: every compile, asm,
//! preprofile, cover and link command, keyed by tool and package, its words
//! compared after the paths and the build ID are taken out (what differs
//! there is gob's host-independent layout and the build ID it does not
//! record, docs/build-vs-go.md).
//!
//! The flag names come from `go help build` itself: a flag go documents that
//! has no row fails the test, so a new go release cannot slip one past.
//! Building (bytes, build info) is covered per flag by tests/cli_flags.rs,
//! tests/build.rs and the feature tests; this table is the plan-level matrix.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use common::area::{first_stderr_line as first_line, text, Area};

/// The targets: every platform docs/build-vs-go.md measures.
const TARGETS: &[(&str, &str)] = &[
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("linux", "386"),
    ("linux", "arm"),
    ("linux", "riscv64"),
    ("linux", "ppc64le"),
    ("linux", "s390x"),
    ("linux", "loong64"),
    ("linux", "mips64le"),
    ("linux", "mipsle"),
    ("freebsd", "amd64"),
    ("windows", "amd64"),
    ("windows", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
    ("js", "wasm"),
    ("wasip1", "wasm"),
];

/// One row: the flag it covers (as `go help build` names it) and the
/// arguments before the package.
struct Row {
    flag: &'static str,
    args: &'static [&'static str],
}

const fn row(flag: &'static str, args: &'static [&'static str]) -> Row {
    Row { flag, args }
}

/// Rows for every flag `go help build` lists (several per flag where the
/// values plan differently).
const ROWS: &[Row] = &[
    row("C", &["-C", "."]),
    row("a", &[]),
    row("n", &[]),
    row("p", &["-p", "1"]),
    row("race", &["-race"]),
    row("msan", &["-msan"]),
    row("asan", &["-asan"]),
    row("cover", &["-cover"]),
    row("covermode", &["-covermode=atomic"]),
    row("coverpkg", &["-coverpkg=./..."]),
    row("v", &["-v"]),
    row("work", &["-work"]),
    row("x", &["-x"]),
    row("asmflags", &["-asmflags=all=-D=GOB_X"]),
    row("buildmode", &["-buildmode=default"]),
    row("buildmode", &["-buildmode=exe"]),
    row("buildmode", &["-buildmode=pie"]),
    row("buildmode", &["-buildmode=archive"]),
    row("buildmode", &["-buildmode=c-shared"]),
    row("buildmode", &["-buildmode=plugin"]),
    row("buildmode", &["-buildmode=frob"]),
    row("buildvcs", &["-buildvcs=false"]),
    row("compiler", &["-compiler=gc"]),
    row("gccgoflags", &["-gccgoflags=-O2"]),
    row("gcflags", &["-gcflags=all=-N -l"]),
    row("gcflags", &["-gcflags=-m=0"]),
    row("installsuffix", &["-installsuffix=gob"]),
    row("json", &["-json"]),
    row("ldflags", &["-ldflags=-s -w -X main.v=1"]),
    row("linkshared", &["-linkshared"]),
    row("mod", &["-mod=mod"]),
    row("modcacherw", &["-modcacherw"]),
    row("modfile", &["-modfile=alt.mod"]),
    row("overlay", &["-overlay=overlay.json"]),
    row("pgo", &["-pgo=off"]),
    row("pgo", &["-pgo=default.pgo"]),
    row("pkgdir", &["-pkgdir=pkgdir"]),
    row("tags", &["-tags=gob,netgo"]),
    row("trimpath", &["-trimpath"]),
    row("toolexec", &["-toolexec=/usr/bin/env"]),
];

/// Rows where gob refuses what go builds: (the row's arguments, GOOS or "*",
/// the start of gob's first error line). Each is listed in
/// docs/build-vs-go.md; the table checks that gob still refuses it with that
/// message (exit 2), so closing a gap shows here and shrinks this list.
const GAPS: &[(&[&str], &str, &str)] =
    &[(&["-race"], "darwin", "gob: -race: not supported by gob yet")];

/// The gap a row on a target falls in, if any.
fn gap(args: &[&str], goos: &str) -> Option<&'static str> {
    GAPS.iter()
        .find(|(a, os, _)| *a == args && (*os == "*" || *os == goos))
        .map(|(_, _, msg)| *msg)
}

/// The fixture: a main package with an -X target, a go.mod and its copy for
/// -modfile, an overlay, and a PGO profile (copied from GOROOT's tests).
fn fixture(area: &Area) -> PathBuf {
    let dir = area.path("src/m");
    std::fs::create_dir_all(&dir).unwrap();
    let w = |name: &str, body: &str| std::fs::write(dir.join(name), body).unwrap();
    w("go.mod", "module example.com/m\n\ngo 1.27\n");
    w("alt.mod", "module example.com/m\n\ngo 1.26\n");
    w(
        "main.go",
        "package main\n\nimport \"fmt\"\n\nvar v = \"dev\"\n\nfunc main() { fmt.Println(v) }\n",
    );
    w(
        "over.go.txt",
        "package main\n\nfunc init() { v = \"overlaid\" }\n",
    );
    w(
        "overlay.json",
        &format!(
            "{{\"Replace\": {{\"{}\": \"{}\"}}}}",
            dir.join("extra.go").display(),
            dir.join("over.go.txt").display()
        ),
    );
    let profile =
        common::goroot().join("src/cmd/compile/internal/test/testdata/pgo/inline/inline_hot.pprof");
    std::fs::copy(&profile, dir.join("default.pgo"))
        .unwrap_or_else(|e| panic!("{}: {e}", profile.display()));
    dir
}

/// A shell word list, as go's -n prints it: words split at blanks, with
/// double-quoted and single-quoted spans kept whole (quotes removed).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, ' ' | '\t') => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// The tools whose commands the table compares.
const TOOLS: &[&str] = &["compile", "asm", "link", "cover", "preprofile"];

/// Flags whose value is a path or an ID (gob's layout and build ID differ
/// from go's by design); their values are dropped, the flag kept.
const PATH_VALUED: &[&str] = &[
    "-o",
    "-trimpath",
    "-importcfg",
    "-embedcfg",
    "-symabis",
    "-asmhdr",
    "-I",
    "-pgoprofile",
    "-i",
    "-pkgcfg",
    "-outfilelist",
    "-coveragecfg",
    "-extld",
    "-installsuffix-path",
];

/// A plan's signature: for each tool run, `tool pkg` (link: `link`) → its
/// words without paths, IDs and files, sorted runs of each key.
fn signature(plan: &str) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut sig: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for line in plan.lines() {
        let w = words(line);
        // The tool is the first word naming one by path: before it may come
        // `GOROOT=…` (go's link line) and the -toolexec program.
        let Some(at) = w
            .iter()
            .position(|x| x.contains('/') && TOOLS.contains(&x.rsplit('/').next().unwrap_or(x)))
        else {
            continue;
        };
        let first = &w[at];
        let tool = first.rsplit('/').next().unwrap_or(first);
        let w = &w[at..];
        let mut kept = Vec::new();
        let mut pkg = String::from(tool);
        let mut it = w[1..].iter().peekable();
        while let Some(a) = it.next() {
            if a == "-p" {
                if let Some(p) = it.next() {
                    pkg = format!("{tool} {p}");
                    kept.push(format!("-p {p}"));
                }
                continue;
            }
            // The build ID gob does not record (docs/build-vs-go.md).
            if a == "-buildid" {
                it.next();
                continue;
            }
            if a.starts_with("-buildid=") {
                continue;
            }
            if PATH_VALUED.contains(&a.as_str()) {
                it.next();
                kept.push(a.clone());
                continue;
            }
            // `-flag=PATH`: the flag, not the path.
            if let Some((name, value)) = a.split_once('=') {
                if name.starts_with('-') && (value.contains('/') || value.starts_with('$')) {
                    kept.push(format!("{name}="));
                    continue;
                }
            }
            // Files and paths (sources, archives, the work directory).
            if a.contains('/') && !a.starts_with('-') || a.starts_with('$') || a.starts_with("./") {
                continue;
            }
            // go's `-c=N` is the compiler's backend concurrency, chosen for
            // the machine; gob leaves it to the compiler. It changes no
            // output byte (the compiler's own guarantee).
            if a.starts_with("-c=") {
                continue;
            }
            kept.push(a.clone());
        }
        sig.entry(pkg).or_default().push(kept);
    }
    for v in sig.values_mut() {
        v.sort();
    }
    sig
}

/// What -n printed: the text, or with -json the `Output` of each event.
fn plan_text(o: &Output) -> String {
    text(o)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v.get("Output").and_then(|x| x.as_str()).map(str::to_string))
                .unwrap_or_else(|| format!("{l}\n"))
        })
        .collect()
}

/// go's first stderr line read as gob's.
fn first_line_as_gob(o: &Output) -> String {
    let s = String::from_utf8_lossy(&o.stderr);
    let l = s.lines().next().unwrap_or("").to_string();
    l.strip_prefix("go: ")
        .map(|r| format!("gob: {r}"))
        .unwrap_or(l)
        .replace("usage: go ", "usage: gob ")
}

/// Runs `exe build -a -n ARGS .` in `dir` for a target.
fn plan(
    area: &Area,
    exe: &Path,
    dir: &Path,
    args: &[&str],
    (goos, goarch): (&str, &str),
) -> Output {
    let mut env = area.env(goarch);
    env.retain(|(k, _)| k != "GOOS" && k != "GOFLAGS");
    env.push(("GOOS".into(), goos.into()));
    env.push(("GOFLAGS".into(), "-trimpath -buildvcs=false".into()));
    let mut argv = vec!["build", "-a", "-n"];
    argv.extend_from_slice(args);
    argv.push(".");
    std::process::Command::new(exe)
        .args(&argv)
        .current_dir(dir)
        .env_clear()
        .envs(env)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", exe.display()))
}

/// The flag names `go help build` documents (`\t-name ...` lines).
fn documented_flags(area: &Area) -> BTreeSet<String> {
    let o = area.run(
        &common::go_binary(),
        &area.root,
        &["help", "build"],
        "amd64",
    );
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix('\t'))
        .filter_map(|l| l.strip_prefix('-'))
        .filter_map(|l| l.split([' ', '\t']).next())
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(str::to_string)
        .collect()
}

/// Pins: every flag of `go help build` has a row.
#[test]
fn every_documented_flag_has_a_row() {
    let area = Area::new("flags-table-doc");
    let have: BTreeSet<&str> = ROWS.iter().map(|r| r.flag).collect();
    let missing: Vec<String> = documented_flags(&area)
        .into_iter()
        .filter(|f| !have.contains(f.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "go help build documents flags without a row: {missing:?}"
    );
}

/// Pins (#14, done when): for every row and target, gob plans what go plans,
/// or refuses as go refuses.
#[test]
fn every_flag_on_every_target_plans_like_go() {
    let area = Area::new("flags-table");
    let dir = fixture(&area);
    let jobs: Vec<(usize, (&str, &str))> = ROWS
        .iter()
        .enumerate()
        .flat_map(|(i, _)| TARGETS.iter().map(move |t| (i, *t)))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&(i, target)) = jobs.get(n) else { break };
                let r = &ROWS[i];
                let go = plan(&area, &common::go_binary(), &dir, r.args, target);
                let gob = plan(&area, &common::gob_binary(), &dir, r.args, target);
                let what = format!("{:?} on {}/{}", r.args, target.0, target.1);
                let fail = |why: String| failures.lock().unwrap().push(format!("{what}: {why}"));
                if let Some(msg) = gap(r.args, target.0) {
                    if !go.status.success() || gob.status.code() != Some(2) || !first_line(&gob).starts_with(msg) {
                        fail(format!(
                            "a listed gap (go exits {:?}; gob must exit 2 with {msg:?}): gob exits {:?}: {}",
                            go.status.code(),
                            gob.status.code(),
                            first_line(&gob)
                        ));
                    }
                    continue;
                }
                if go.status.code() != gob.status.code() {
                    fail(format!(
                        "exit {:?} (go) vs {:?} (gob)\n  go:  {}\n  gob: {}",
                        go.status.code(),
                        gob.status.code(),
                        first_line(&go),
                        first_line(&gob)
                    ));
                    continue;
                }
                if !go.status.success() {
                    if first_line_as_gob(&go) != first_line(&gob) {
                        fail(format!(
                            "first error line\n  go:  {}\n  gob: {}",
                            first_line(&go),
                            first_line(&gob)
                        ));
                    }
                    continue;
                }
                let (gs, bs) = (signature(&plan_text(&go)), signature(&plan_text(&gob)));
                if gs.is_empty() {
                    fail("go planned no tool run: the row is wrong".into());
                    continue;
                }
                if gs != bs {
                    let mut d = Vec::new();
                    for k in gs.keys().chain(bs.keys()).collect::<BTreeSet<_>>() {
                        if gs.get(k) != bs.get(k) {
                            d.push(format!("  {k}:\n    go:  {:?}\n    gob: {:?}", gs.get(k), bs.get(k)));
                        }
                        if d.len() >= 3 {
                            break;
                        }
                    }
                    fail(format!("plans differ:\n{}", d.join("\n")));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} rows differ from go:\n{}",
        failures.len(),
        jobs.len(),
        failures.join("\n")
    );
}
