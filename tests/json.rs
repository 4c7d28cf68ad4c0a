//! `-json` of `gob build` and `gob replay`: every stdout line is one JSON
//! object; go's `build-output`/`build-fail` events carry what
//! `go build -trimpath -json` carries (differential), and gob's own events
//! account for every action. (`gob audit -json` is pinned in audit.rs.)

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Output;

use common::area::{text, Area};
use serde_json::Value;

fn events(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}

/// What go's event consumers see: per package, the concatenated Output
/// fields, and whether it failed.
fn go_view(events: &[Value]) -> BTreeMap<String, (String, bool)> {
    let mut m: BTreeMap<String, (String, bool)> = BTreeMap::new();
    for e in events {
        let path = e["ImportPath"].as_str().unwrap_or_default().to_string();
        match e["Action"].as_str() {
            Some("build-output") => m.entry(path).or_default().0 += e["Output"].as_str().unwrap(),
            Some("build-fail") => m.entry(path).or_default().1 = true,
            _ => {}
        }
    }
    m
}

fn module(root: &Path, lib: &str) {
    fs::create_dir_all(root.join("lib")).unwrap();
    fs::write(root.join("go.mod"), "module example.com/j\n\ngo 1.22\n").unwrap();
    fs::write(root.join("lib/lib.go"), lib).unwrap();
    fs::write(
        root.join("main.go"),
        "package main\n\nimport \"example.com/j/lib\"\n\nfunc main() { println(lib.F()) }\n",
    )
    .unwrap();
}

/// Pins: for a compile error and for compiler diagnostics of a successful
/// build (-gcflags=-m), gob's go-shaped events equal go build's, and the
/// exit statuses agree.
#[test]
fn build_events_match_go_build() {
    let area = Area::new("json-diff");
    let src = area.path("src");
    let cases = [
        (
            "package lib\n\nfunc F() int { return \"x\" }\n\nfunc G() int { return \"y\" }\n",
            vec![],
        ),
        (
            "package lib\n\nfunc F() int { return 1 }\n\nfunc G() *int { x := 1; return &x }\n",
            vec!["-gcflags=example.com/j/lib=-m"],
        ),
    ];
    for (lib, flags) in cases {
        module(&src, lib);
        let out = area.path("out/j");
        let mut args = vec!["build", "-json"];
        args.extend(flags.iter().copied());
        args.extend(["-o", out.to_str().unwrap(), "./lib"]);
        let gob = area.run(&common::gob_binary(), &src, &args, "amd64");
        let mut go_args = vec!["build", "-trimpath"];
        go_args.extend(&args[1..]);
        let go = area.run(&common::go_binary(), &src, &go_args, "amd64");
        assert_eq!(
            gob.status.code(),
            go.status.code(),
            "{}\n{}",
            text(&gob),
            text(&go)
        );
        let (ours, theirs) = (events(&gob), events(&go));
        assert!(!go_view(&theirs).is_empty(), "the case must produce output");
        assert_eq!(go_view(&ours), go_view(&theirs), "{lib}");
        assert!(
            String::from_utf8_lossy(&gob.stderr).trim().is_empty(),
            "tool output goes to events, not stderr: {}",
            text(&gob)
        );
        let done = ours.last().unwrap();
        assert_eq!(done["Action"], "build-done");
        assert_eq!(done["Passed"], gob.status.success());
    }
}

/// go's own events (`build-output`, `build-fail`), in order, as they are.
fn go_events(events: &[Value]) -> Vec<Value> {
    events
        .iter()
        .filter(|e| matches!(e["Action"].as_str(), Some("build-output" | "build-fail")))
        .cloned()
        .collect()
}

/// Pins (issue #14 item 9): load errors (a missing package, an import
/// cycle) went to stderr as text where go emits `build-output` and
/// `build-fail` events on stdout; a failure's output was one event where go
/// emits one a line; and after a compile error `build-done` said `Actions
/// 0, Cached 0, Ran 0` after dozens of `action-done` events. Now gob's go
/// events are go's, event for event, and build-done counts what finished.
#[test]
fn load_errors_and_failures_are_events_like_go() {
    let area = Area::new("json-errors");
    let cases: [(&str, &[(&str, &str)]); 3] = [
        (
            "missing",
            &[(
                "main.go",
                "package main\n\nimport \"example.com/j/nope\"\n\nfunc main() { nope.X() }\n",
            )],
        ),
        (
            "cycle",
            &[
                (
                    "main.go",
                    "package main\n\nimport \"example.com/j/a\"\n\nfunc main() { a.A() }\n",
                ),
                (
                    "a/a.go",
                    "package a\n\nimport \"example.com/j/b\"\n\nfunc A() { b.B() }\n",
                ),
                (
                    "b/b.go",
                    "package b\n\nimport \"example.com/j/a\"\n\nfunc B() { a.A() }\n",
                ),
            ],
        ),
        (
            "compile",
            &[(
                "main.go",
                "package main\n\nfunc main() { x }\n\nfunc f() { y }\n",
            )],
        ),
    ];
    for (name, files) in cases {
        let src = area.path(&format!("src-{name}"));
        fs::create_dir_all(&src).unwrap();
        fs::write(src.join("go.mod"), "module example.com/j\n\ngo 1.22\n").unwrap();
        for (f, text) in files {
            let p = src.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
        let out = area.path(&format!("out/{name}"));
        let args = ["build", "-json", "-o", out.to_str().unwrap(), "."];
        let gob = area.run(&common::gob_binary(), &src, &args, "amd64");
        let go = area.run(&common::go_binary(), &src, &args, "amd64");
        assert_eq!(
            gob.status.code(),
            go.status.code(),
            "{name}: {}",
            text(&gob)
        );
        let (ours, theirs) = (events(&gob), events(&go));
        assert!(
            !go_events(&theirs).is_empty(),
            "{name}: go printed no event"
        );
        assert_eq!(go_events(&ours), go_events(&theirs), "{name}");
        assert!(
            String::from_utf8_lossy(&gob.stderr).trim().is_empty(),
            "{name}: errors go to events, not stderr: {}",
            text(&gob)
        );
        let done = ours.last().unwrap();
        assert_eq!(done["Action"], "build-done", "{name}");
        assert_eq!(done["Passed"], false, "{name}");
        let finished = ours.iter().filter(|e| e["Action"] == "action-done").count() as u64;
        assert_eq!(done["Actions"].as_u64(), Some(finished), "{name}: {done}");
        assert_eq!(
            done["Ran"].as_u64().unwrap() + done["Cached"].as_u64().unwrap(),
            finished,
            "{name}: {done}"
        );
        if name == "compile" {
            assert!(finished > 1, "{name}: the dependencies finished first");
        }
    }
}

/// Pins: a successful build reports each action once (with its outputs'
/// digests), then build-done; a rebuild answered by the no-op memo says so.
#[test]
fn build_events_account_for_every_action() {
    let area = Area::new("json-actions");
    let dir = common::repo_root().join("fixtures/asmcall");
    let bin = area.path("out/asmcall");
    let args = ["build", "-json", "-o", bin.to_str().unwrap(), "."];
    let first = area.run(&common::gob_binary(), &dir, &args, "amd64");
    assert!(first.status.success(), "{}", text(&first));
    let ev = events(&first);
    let actions: Vec<&Value> = ev.iter().filter(|e| e["Action"] == "action-done").collect();
    let done = ev.last().unwrap();
    assert_eq!(done["Action"], "build-done");
    assert_eq!(done["Actions"].as_u64(), Some(actions.len() as u64));
    let mut ids: Vec<&str> = actions.iter().map(|e| e["ID"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), actions.len(), "each action once");
    let link = actions
        .iter()
        .find(|e| e["Mode"] == "link")
        .expect("a link action");
    assert_eq!(link["ImportPath"], "example.com/asmcall");
    assert_eq!(link["Status"], "ok");
    let digest = link["Outputs"][0]["Digest"].as_str().unwrap();
    assert_eq!(digest.len(), 64);
    assert_eq!(
        link["Outputs"][0]["Size"].as_u64(),
        Some(fs::metadata(&bin).unwrap().len())
    );

    let args = ["build", "-json", "-o", bin.to_str().unwrap(), "."];
    let again = area.run(&common::gob_binary(), &dir, &args, "amd64");
    let ev = events(&again);
    let done = ev.last().unwrap();
    assert_eq!(done["Memo"], true, "{done}");
    assert_eq!(done["Ran"], 0, "{done}");
}

/// Pins: replay -json gives one replay-action per action and a replay-done
/// verdict.
#[test]
fn replay_events() {
    let area = Area::new("json-replay");
    let dir = common::repo_root().join("fixtures/hello");
    let trace = area.path("out/hello.cbor");
    let o = area.run(
        &common::gob_binary(),
        &dir,
        &[
            "build",
            "--hermetic",
            "--trace",
            trace.to_str().unwrap(),
            "-o",
            area.path("out/h").to_str().unwrap(),
            ".",
        ],
        "amd64",
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = area.run(
        &common::gob_binary(),
        &dir,
        &["replay", "-json", trace.to_str().unwrap()],
        "amd64",
    );
    assert!(o.status.success(), "{}", text(&o));
    let ev = events(&o);
    let done = ev.last().unwrap();
    assert_eq!(done["Action"], "replay-done");
    assert_eq!(done["Verdict"], "identical");
    let n = ev.iter().filter(|e| e["Action"] == "replay-action").count();
    assert!(n > 100, "{n}");
    assert_eq!(done["Actions"].as_u64(), Some(n as u64));
    assert_eq!(done["Identical"].as_u64(), Some(n as u64));
    assert!(ev
        .iter()
        .filter(|e| e["Action"] == "replay-action")
        .all(|e| e["Verdict"] == "match"));
}
