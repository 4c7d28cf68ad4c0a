//! diff_traces and first_difference: causes, consequences, matching across
//! shifted indexes, the report; summary.
mod common;

use std::collections::HashMap;

use common::*;
use gob_replay::diff::{ActionKey, Cause};
use gob_replay::schema::*;
use gob_replay::{diff_traces, first_difference, summary, Trace};

fn trace(actions: Vec<ActionRecord>) -> Trace {
    let n = actions.len() as u32;
    Trace {
        header: header(),
        actions,
        blobs: HashMap::new(),
        end: Some(End {
            actions: n,
            success: true,
        }),
    }
}

/// A link of `main` reading the outputs of `deps` (their FileRefs).
fn link(index: u32, deps: &[&ActionRecord]) -> ActionRecord {
    let mut a = compile(
        index,
        "example.com/main",
        deps.iter().map(|d| d.index).collect(),
        0,
    );
    a.kind = "link".into();
    a.tool = "link".into();
    a.inputs = deps.iter().map(|d| d.outputs[0].file.clone()).collect();
    a.inputs.sort_by(|x, y| x.path.cmp(&y.path));
    a.argv = vec!["-o".into(), format!("/work/b{index:03}/a.out")];
    a.argv
        .extend(deps.iter().map(|d| d.outputs[0].file.path.clone()));
    a.outputs[0].name = "a.out".into();
    a.outputs[0].file.path = format!("/work/b{index:03}/a.out");
    let digests: Vec<_> = a.inputs.iter().map(|f| f.digest).collect();
    a.outputs[0].file.digest = Digest::of(format!("link of {digests:?}").as_bytes());
    a
}

fn key(kind: &str, package: &str) -> ActionKey {
    ActionKey {
        package: package.into(),
        kind: kind.into(),
        ordinal: 0,
    }
}

/// fmt (0), example.com/x (1), link (2).
fn base() -> Vec<ActionRecord> {
    let fmt = compile(0, "fmt", vec![], 4);
    let x = compile(1, "example.com/x", vec![0], 2);
    let l = link(2, &[&fmt, &x]);
    vec![fmt, x, l]
}

#[test]
fn first_difference_offsets() {
    assert_eq!(first_difference(b"abc", b"abc"), None);
    assert_eq!(first_difference(b"abc", b"abd"), Some(2));
    assert_eq!(first_difference(b"ab", b"abc"), Some(2));
    assert_eq!(first_difference(b"", b"x"), Some(0));
    assert_eq!(first_difference(b"", b""), None);
}

/// A reader that hands out at most `step` bytes a call.
struct Trickle<'a>(&'a [u8], usize);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.1.min(buf.len()).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn first_difference_read_agrees_with_the_slice_version() {
    // Lengths around the 64 KiB buffer, differences before, at and after
    // its boundary, prefixes, and readers that return short reads.
    let base: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut cases: Vec<(Vec<u8>, Vec<u8>)> = vec![(vec![], vec![]), (vec![], vec![1])];
    for len in [1, 65_535, 65_536, 65_537, 131_072, 200_000] {
        let a = base[..len].to_vec();
        cases.push((a.clone(), a.clone()));
        cases.push((a.clone(), base[..len - 1].to_vec()));
        for at in [0, len / 2, len - 1] {
            let mut b = a.clone();
            b[at] ^= 0xff;
            cases.push((a.clone(), b));
        }
    }
    for (a, b) in &cases {
        let want = first_difference(a, b);
        for step in [1 << 20, 4096, 777] {
            let got =
                gob_replay::first_difference_read(Trickle(a, step), Trickle(b, 1 << 20)).unwrap();
            assert_eq!(got, want, "{} vs {} bytes, step {step}", a.len(), b.len());
        }
    }
}

#[test]
fn identical_traces_match() {
    let d = diff_traces(&trace(base()), &trace(base()));
    assert!(d.is_empty(), "{d}");
    assert_eq!(d.to_string(), "traces match\n");
}

#[test]
fn argv_root_cause_and_its_consequence() {
    let a = base();
    let mut b = base();
    b[1].argv[5] = "example.com/y".into();
    b[1].outputs[0].file.digest = Digest::of(b"other x");
    b[1].outputs[0].file.size += 1;
    let l = link(2, &[&b[0], &b[1]]);
    b[2] = l;
    let d = diff_traces(&trace(a), &trace(b));
    assert_eq!(d.actions.len(), 2, "{d}");
    let root = &d.actions[0];
    assert_eq!(root.action.key, key("compile", "example.com/x"));
    assert_eq!(
        root.cause,
        Cause::Argv {
            index: 5,
            a: Some("example.com/x".into()),
            b: Some("example.com/y".into())
        }
    );
    assert_eq!(root.outputs.len(), 1);
    assert_eq!(root.outputs[0].name, "_pkg_.a");
    assert!(root.is_root_cause());
    let cons = &d.actions[1];
    assert_eq!(cons.action.key, key("link", "example.com/main"));
    match &cons.cause {
        Cause::Dependency {
            path, dependency, ..
        } => {
            assert_eq!(path, "/work/b001/_pkg_.a");
            assert_eq!(dependency, &key("compile", "example.com/x"));
        }
        other => panic!("{other:?}"),
    }
    assert!(!cons.is_root_cause());
    let report = d.to_string();
    let r = report
        .find("root cause: compile example.com/x")
        .expect(&report);
    let c = report
        .find("consequence: link example.com/main")
        .expect(&report);
    assert!(r < c, "{report}");
    assert!(
        report.contains("argv[5] differs: example.com/x vs example.com/y"),
        "{report}"
    );
    assert!(
        report.contains("comes from compile example.com/x, which differs"),
        "{report}"
    );
}

#[test]
fn shifted_indexes_still_match() {
    // b gains an action at index 0: every index and work directory moves by one.
    let a = base();
    let newcomer = compile(0, "example.com/new", vec![], 1);
    let fmt = compile(1, "fmt", vec![], 4);
    let x = compile(2, "example.com/x", vec![1], 2);
    let l = link(3, &[&fmt, &x]);
    let d = diff_traces(&trace(a), &trace(vec![newcomer, fmt, x, l]));
    assert!(d.actions.is_empty(), "{d}");
    assert!(d.only_in_a.is_empty());
    assert_eq!(d.only_in_b.len(), 1);
    assert_eq!(d.only_in_b[0].key, key("compile", "example.com/new"));
    assert_eq!(d.only_in_b[0].index, 0);
    assert!(d
        .to_string()
        .contains("only in b: compile example.com/new [#0]"));
}

#[test]
fn input_env_tool_and_nondeterminism() {
    // A source file changed: a root cause on an input.
    let mut b = base();
    b[0].inputs[2].digest = Digest::of(b"edited");
    b[0].outputs[0].file.digest = Digest::of(b"fmt 2");
    b[2] = link(2, &[&b[0], &b[1]]);
    let d = diff_traces(&trace(base()), &trace(b));
    assert!(
        matches!(&d.actions[0].cause, Cause::Input { path, a: Some(_), b: Some(_) } if path.ends_with("_002_of_pkg.go")),
        "{d}"
    );
    // x depends on fmt's output only through the link here: fmt's change reaches the link.
    assert!(d
        .actions
        .iter()
        .any(|x| x.action.key.kind == "link" && !x.is_root_cause()));

    // An input present in one trace only.
    let mut b = base();
    b[0].inputs.pop();
    let d = diff_traces(&trace(base()), &trace(b));
    assert!(
        matches!(
            &d.actions[0].cause,
            Cause::Input {
                a: Some(_),
                b: None,
                ..
            }
        ),
        "{d}"
    );
    // Its outputs are the same: reported, said so.
    assert!(d.actions[0].outputs.is_empty());
    assert!(d.to_string().contains("(its outputs are the same)"));

    // An environment entry.
    let mut b = base();
    b[1].env.push(("CGO_ENABLED".into(), "1".into()));
    let d = diff_traces(&trace(base()), &trace(b));
    assert_eq!(
        d.actions[0].cause,
        Cause::Env {
            name: "CGO_ENABLED".into(),
            a: None,
            b: Some("1".into())
        }
    );

    // The tool's binary, through the header.
    let mut tb = trace(base());
    tb.header.tools[0].digest = Digest::of(b"another compile");
    let d = diff_traces(&trace(base()), &tb);
    assert_eq!(d.header.len(), 1);
    assert_eq!(d.header[0].field, "tool compile");
    assert!(
        d.actions
            .iter()
            .all(|x| matches!(x.cause, Cause::Tool { .. }) || x.action.key.kind == "link"),
        "{d}"
    );
    assert_eq!(d.actions.len(), 2); // two compiles; the link's outputs did not change

    // Same everything, another output: nondeterminism.
    let mut b = base();
    b[0].outputs[0].file.digest = Digest::of(b"random");
    let mut b2 = b.clone();
    let l = link(2, &[&b[0], &b[1]]);
    b2[2] = l;
    let d = diff_traces(&trace(base()), &trace(b2));
    assert_eq!(d.actions[0].cause, Cause::Nondeterministic);
    assert!(d.to_string().contains("not deterministic"));

    // A status difference alone counts as a result.
    let mut b = base();
    b[2].status = Status::Signaled(9);
    let d = diff_traces(&trace(base()), &trace(b));
    assert_eq!(
        d.actions[0].status,
        Some((Status::Exited(0), Status::Signaled(9)))
    );
}

#[test]
fn header_differences() {
    let mut tb = trace(base());
    tb.header.go_version = "go1.28".into();
    tb.header.target = Platform {
        os: "darwin".into(),
        arch: "arm64".into(),
    };
    tb.header.target_env = vec![("GOAMD64".into(), "v3".into())];
    let d = diff_traces(&trace(base()), &tb);
    let fields: Vec<_> = d.header.iter().map(|h| h.field.as_str()).collect();
    assert_eq!(fields, ["go_version", "target", "target_env GOAMD64"]);
    assert!(d
        .to_string()
        .contains("header go_version: go1.27.3 vs go1.28"));
}

#[test]
fn same_package_and_kind_match_by_position() {
    let a = vec![compile(0, "p", vec![], 1), compile(1, "p", vec![], 2)];
    let mut b = a.clone();
    b[1].argv[0] = "-O".into();
    let d = diff_traces(&trace(a), &trace(b));
    assert_eq!(d.actions.len(), 1);
    assert_eq!(d.actions[0].action.key.ordinal, 1);
    assert!(d.to_string().contains("compile p (#2)"));
}

#[test]
fn hostile_strings_are_escaped_in_reports() {
    let mut b = base();
    b[0].argv[0] = "\x1b[2J\u{202e}evil".into();
    b[0].package = "fmt".into();
    let d = diff_traces(&trace(base()), &trace(b));
    let report = d.to_string();
    assert!(
        !report.contains('\x1b') && !report.contains('\u{202e}'),
        "{report:?}"
    );
    assert!(report.contains(r"\u{1b}[2J"), "{report}");
}

#[test]
fn summary_counts() {
    let (h, records) = small_trace_records();
    let t = Trace::from_reader(&write(&h, &records)[..], gob_replay::Limits::default()).unwrap();
    let s = summary(&t);
    assert_eq!(s.actions, 5);
    assert_eq!(s.cache_hits, 1);
    assert_eq!(s.failed, 3);
    assert_eq!(
        s.kinds
            .iter()
            .map(|k| (k.kind.as_str(), k.count))
            .collect::<Vec<_>>(),
        [("compile", 4), ("link", 1)]
    );
    assert_eq!(s.blobs, 3);
    assert_eq!(s.success, Some(false));
    assert_eq!(s.slowest[0].wall_ns, 123_456_789);
    assert!(s.slowest.windows(2).all(|w| w[0].wall_ns >= w[1].wall_ns));
    let text = s.to_string();
    assert!(text.contains("complete, build failed"), "{text}");
    // Incomplete.
    let mut t2 = t.clone();
    t2.end = None;
    assert!(summary(&t2).to_string().contains("INCOMPLETE"));
}

/// Pins (issue #13): `gob trace diff` (and `audit --against`) was quadratic
/// in the outputs of an action: 100,000 outputs ran past 300 s. Outputs are
/// paired by name through a map and paths translated with map lookups, so
/// 100,000 outputs in as many directories, and as many inputs, take seconds.
#[test]
fn an_action_with_many_outputs_diffs_in_linear_time() {
    const N: usize = 100_000;
    let big = |index: u32, odd: usize| {
        let mut a = compile(index, "example.com/big", vec![], 0);
        (a.argv, a.env, a.cwd) = (Vec::new(), Vec::new(), "/work".into());
        let dir = format!("/work/b{:03}", index + 1);
        a.outputs = (0..N)
            .map(|i| OutputRef {
                name: format!("o{i}"),
                file: FileRef {
                    path: format!("{dir}/d{i}/o{i}"),
                    size: 1,
                    digest: digest(&format!("out {i} {}", i == odd)),
                },
                exec: false,
            })
            .collect();
        a.inputs = (0..N)
            .map(|i| FileRef {
                path: format!("{dir}/d{i}/in{i:06}.go"),
                size: 1,
                digest: digest(&format!("in {i}")),
            })
            .collect();
        a
    };
    let ta = trace(vec![big(0, N)]);
    // Another index: every directory is translated.
    let mut tb = trace(vec![big(1, 77)]);
    tb.end.as_mut().unwrap().actions = 1;
    let started = std::time::Instant::now();
    let d = diff_traces(&ta, &tb);
    let took = started.elapsed();
    assert!(took.as_secs() < 30, "diff took {took:?}");
    assert_eq!(d.actions.len(), 1, "{d}");
    let outputs: Vec<&str> = d.actions[0]
        .outputs
        .iter()
        .map(|o| o.name.as_str())
        .collect();
    assert_eq!(outputs, ["o77"]);
    assert_eq!(
        d.actions[0].cause,
        Cause::Nondeterministic,
        "inputs translate: {d}"
    );
}
