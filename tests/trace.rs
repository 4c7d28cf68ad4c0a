//! Traces and `gob replay` on real builds: a recorded build replays bit for bit,
//! digest-only traces replay from `--src`, a killed build leaves a readable
//! trace, and a divergence is reported with the action and the byte offset.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::area::{text, Area};
use gob_replay::schema::{Digest, Record};
use gob_replay::{Limits, Trace, TraceReader, TraceWriter};

fn fixture(name: &str) -> PathBuf {
    common::repo_root().join("fixtures").join(name)
}

/// `gob build --trace FILE` of a fixture with its own cache; returns the trace path.
fn record(area: &Area, name: &str, extra: &[&str]) -> PathBuf {
    let t = area.path(&format!("out/{name}.cbor"));
    let mut args = vec!["build", "--trace", t.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = area.path(&format!("out/{name}.bin"));
    args.extend(["-o", out.to_str().unwrap(), "."]);
    let o = area.gob(&fixture(name), &args, &[]);
    assert!(o.status.success(), "gob build {name}: {}", text(&o));
    t
}

fn replay(area: &Area, trace: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["replay"];
    args.extend_from_slice(extra);
    args.push(trace.to_str().unwrap());
    area.gob(&area.root, &args, &[])
}

/// Pins: a self-contained trace of a build (standard library included)
/// re-executes every action, and every output is identical.
#[test]
fn recorded_build_replays_bit_for_bit() {
    let area = Area::new("trace-replay");
    let t = record(&area, "asmcall", &[]);
    let tr = Trace::open(&t, Limits::default()).unwrap();
    assert!(tr.is_complete() && tr.end.as_ref().unwrap().success);
    let kinds: std::collections::BTreeSet<&str> =
        tr.actions.iter().map(|a| a.kind.as_str()).collect();
    for k in ["symabis", "compile", "asm", "pack", "link"] {
        assert!(kinds.contains(k), "no {k} action recorded: {kinds:?}");
    }
    assert!(
        tr.actions.iter().any(|a| a.package == "runtime"),
        "std is in the trace"
    );
    let o = replay(&area, &t, &[]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains(&format!(
            "all {} actions reproduced bit for bit",
            tr.actions.len()
        )),
        "{out}"
    );

    // show: one line per action and the totals; --json: one object per line.
    let o = area.gob(&area.root, &["trace", "show", t.to_str().unwrap()], &[]);
    let s = text(&o);
    assert!(o.status.success(), "{s}");
    assert!(s.contains("build succeeded; input blobs embedded"), "{s}");
    assert!(s.contains(&format!("{} actions:", tr.actions.len())), "{s}");
    let o = area.gob(
        &area.root,
        &["trace", "show", "--json", t.to_str().unwrap()],
        &[],
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), tr.actions.len() + 1);
    assert_eq!(lines[1]["Action"], "b001");
}

/// Pins: a digest-only trace needs the sources, names what is missing, and
/// replays from --src; the export of one action is deterministic.
#[test]
fn digest_only_trace_replays_from_src() {
    let area = Area::new("trace-src");
    let t = record(&area, "hello", &["--trace-blobs=false"]);
    let o = replay(&area, &t, &[]);
    let s = text(&o);
    assert_eq!(o.status.code(), Some(1), "{s}");
    assert!(
        s.contains("not embedded in the trace and under no source tree"),
        "{s}"
    );
    let src = fixture("hello");
    let o = replay(&area, &t, &["--src", src.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));

    // One action of a self-contained trace, exported twice: the same bytes,
    // exactly its inputs. (A digest-only trace lacks its dependencies' archives.)
    let t = record(&area, "hello", &[]);
    let tr = Trace::open(&t, Limits::default()).unwrap();
    let main = tr
        .actions
        .iter()
        .find(|a| a.package == "example.com/hello" && a.kind == "compile")
        .unwrap();
    let id = format!("b{:03}", main.index + 1);
    let (x, y) = (area.path("out/x.tar"), area.path("out/y.tar"));
    for out in [&x, &y] {
        let o = replay(
            &area,
            &t,
            &[
                "--src",
                src.to_str().unwrap(),
                "--export",
                &id,
                "-o",
                out.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
    }
    assert!(fs::read(&x).unwrap() == fs::read(&y).unwrap());
    let mut names: Vec<String> = tar::Archive::new(fs::File::open(&x).unwrap())
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = main
        .inputs
        .iter()
        .map(|f| f.path.trim_start_matches('/').to_string())
        .collect();
    want.sort();
    assert_eq!(names, want);
}

/// Pins: without --trace every build records a digest-only trace under the
/// cache dir, cache hits included; -v prints where.
#[test]
fn every_build_records_a_trace_under_the_cache() {
    let area = Area::new("trace-auto");
    let o = area.gob(
        &fixture("hello"),
        &[
            "build",
            "-v",
            "-o",
            area.path("out/h").to_str().unwrap(),
            ".",
        ],
        &[],
    );
    let s = text(&o);
    assert!(o.status.success(), "{s}");
    let traces = area.path("gobcache/traces");
    assert!(
        s.contains(&format!(
            "gob: trace written to {}/build-",
            traces.display()
        )),
        "{s}"
    );
    // Another -o: the no-op memo does not answer, every action is a cache hit.
    let o = area.gob(
        &fixture("hello"),
        &[
            "build",
            "-v",
            "-p",
            "1",
            "-o",
            area.path("out/h2").to_str().unwrap(),
            ".",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let mut all: Vec<PathBuf> = fs::read_dir(&traces)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    all.sort();
    let last = Trace::open(all.last().unwrap(), Limits::default()).unwrap();
    assert!(!last.header.blobs);
    assert!(
        last.actions.iter().all(|a| a.cached),
        "second build: all hits, all recorded"
    );
    assert!(!last.actions.is_empty());
}

/// Pins: a build killed mid-way leaves a trace whose finished actions read
/// back; `trace show` says it is incomplete.
#[test]
fn killed_build_leaves_a_readable_trace() {
    let area = Area::new("trace-kill");
    let t = area.path("out/killed.cbor");
    let mut child = std::process::Command::new(common::gob_binary())
        .args([
            "build",
            "-a",
            "--trace",
            t.to_str().unwrap(),
            "-o",
            area.path("out/k").to_str().unwrap(),
            ".",
        ])
        .current_dir(fixture("asmcall"))
        .env_clear()
        .envs(area.env("amd64"))
        .spawn()
        .unwrap();
    // Wait until some actions are recorded, then SIGKILL.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if fs::metadata(&t).map(|m| m.len() > 200_000).unwrap_or(false) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the trace never grew");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    let tr = Trace::open(&t, Limits::default()).unwrap();
    assert!(!tr.is_complete());
    assert!(!tr.actions.is_empty());
    let o = area.gob(&area.root, &["trace", "show", t.to_str().unwrap()], &[]);
    assert!(
        text(&o).contains("INCOMPLETE: the build was interrupted"),
        "{}",
        text(&o)
    );
}

/// Rewrites a trace record by record.
fn rewrite(src: &Path, dst: &Path, mut f: impl FnMut(Record) -> Vec<Record>) {
    let r = TraceReader::open(src).unwrap();
    let header = r.header().clone();
    let mut w = TraceWriter::create(dst, &header).unwrap();
    for rec in r {
        for out in f(rec.unwrap()) {
            match out {
                Record::Header(_) => {}
                Record::Blob(b) => {
                    w.write_blob(&b.digest, &b.data).unwrap();
                }
                Record::Action(a) => w.write_action(&a).unwrap(),
                Record::End(e) => {
                    w.finish(e).unwrap();
                    return;
                }
            }
        }
    }
}

/// Pins: replay names the divergent action first, with the output, both sizes
/// and digests, and the first differing byte; nothing else is blamed as a cause.
#[test]
fn divergence_names_the_action_and_the_byte_offset() {
    let area = Area::new("trace-diverge");
    let t = record(&area, "hello", &[]);
    let tr = Trace::open(&t, Limits::default()).unwrap();
    // The compile of the main package: its archive is the link's input, so its
    // recorded bytes are in the trace. Flip byte 100 of them.
    let victim = tr
        .actions
        .iter()
        .find(|a| a.package == "example.com/hello" && a.kind == "compile")
        .unwrap();
    let out = &victim
        .outputs
        .iter()
        .find(|o| o.name == "_pkg_.a")
        .unwrap()
        .file;
    let mut bytes = tr.blobs[&out.digest].clone();
    bytes[100] ^= 0xff;
    let new = Digest(*blake3::hash(&bytes).as_bytes());
    let old = out.digest;
    let bad = area.path("out/tampered.cbor");
    rewrite(&t, &bad, |rec| match rec {
        Record::Blob(mut b) if b.digest == old => {
            b.digest = new;
            b.data = bytes.clone();
            vec![Record::Blob(b)]
        }
        Record::Action(mut a) => {
            for f in a.inputs.iter_mut().filter(|f| f.digest == old) {
                f.digest = new;
            }
            for o in a.outputs.iter_mut().filter(|o| o.file.digest == old) {
                o.file.digest = new;
            }
            vec![Record::Action(a)]
        }
        other => vec![other],
    });
    let o = replay(&area, &bad, &[]);
    let s = text(&o);
    assert_eq!(o.status.code(), Some(1), "{s}");
    let id = format!("b{:03}", victim.index + 1);
    let first = s.lines().find(|l| l.starts_with('b')).unwrap_or("");
    assert_eq!(
        first,
        format!("{id} compile example.com/hello (root cause)"),
        "{s}"
    );
    assert!(s.contains("first differing byte at offset 100"), "{s}");
    assert!(s.contains(&format!("expected {} bytes", out.size)), "{s}");
}

/// Pins: replay refuses a toolchain of another version, and a trace that sets
/// an environment variable that is not a Go target setting.
#[test]
fn replay_refuses_wrong_toolchain_and_hostile_env() {
    let area = Area::new("trace-refuse");
    let t = record(&area, "hello", &[]);
    let fake = area.path("fake-goroot");
    fs::create_dir_all(fake.join("pkg/tool/linux_amd64")).unwrap();
    fs::write(fake.join("VERSION"), "go1.27.2\n").unwrap();
    fs::write(fake.join("pkg/tool/linux_amd64/compile"), "").unwrap();
    let o = replay(&area, &t, &["--goroot", fake.to_str().unwrap()]);
    let s = text(&o);
    assert_eq!(o.status.code(), Some(2), "no verdict: {s}");
    assert!(
        s.contains("the trace was recorded with go1.27.3, but the toolchain at")
            && s.contains("is go1.27.2"),
        "{s}"
    );

    let bad = area.path("out/env.cbor");
    rewrite(&t, &bad, |rec| match rec {
        Record::Action(mut a) => {
            a.env.push(("LD_PRELOAD".into(), "/tmp/evil.so".into()));
            vec![Record::Action(a)]
        }
        other => vec![other],
    });
    let o = replay(&area, &bad, &[]);
    let s = text(&o);
    assert_eq!(o.status.code(), Some(2), "no verdict: {s}");
    assert!(
        s.contains("sets the environment variable LD_PRELOAD") && s.contains("--trust-env"),
        "{s}"
    );

    let bad = area.path("out/tool.cbor");
    rewrite(&t, &bad, |rec| match rec {
        Record::Action(mut a) => {
            a.tool = "sh".into();
            vec![Record::Action(a)]
        }
        other => vec![other],
    });
    let o = replay(&area, &bad, &[]);
    assert!(
        text(&o).contains("names the program \"sh\"; replay runs only the Go toolchain's tools"),
        "{}",
        text(&o)
    );
}

/// Pins: a trace that cannot be read gets exit status 2 (no verdict, unlike
/// 1 for a divergence), and one line naming the file and the reason once;
/// with -json, a `replay-done` event with the verdict `error`.
#[test]
fn replay_of_an_unreadable_trace_has_no_verdict() {
    let area = Area::new("trace-unreadable");
    let missing = area.path("out/missing.cbor");
    let garbage = area.path("out/garbage.cbor");
    fs::create_dir_all(garbage.parent().unwrap()).unwrap();
    fs::write(&garbage, "not a trace\n").unwrap();
    for (t, why) in [
        (&missing, "No such file or directory (os error 2)"),
        (
            &garbage,
            "not a gob trace: no zstd frame magic at the start",
        ),
    ] {
        let o = replay(&area, t, &[]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            format!("gob replay: {}: {why}\n", t.display())
        );
        let o = replay(&area, t, &["-json"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let done: serde_json::Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
        assert_eq!(done["Action"], "replay-done");
        assert_eq!(done["Verdict"], "error");
        assert_eq!(done["Error"], format!("{}: {why}", t.display()));
    }
}

/// Pins: `--shell` opens a shell inside one action's sandbox with its inputs
/// in place, as uid 1000, and nothing of the host beyond the shell's own files.
#[test]
fn replay_shell_opens_the_actions_sandbox() {
    use std::io::Write;
    let area = Area::new("trace-shell");
    let t = record(&area, "hello", &[]);
    let mut child = std::process::Command::new(common::gob_binary())
        .args([
            "replay",
            "--action",
            "example.com/hello",
            "--shell",
            t.to_str().unwrap(),
        ])
        .current_dir(&area.root)
        .env_clear()
        .envs(area.env("amd64"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"ls /mod/example.com/hello; id -u; cat /etc/passwd || echo no-passwd\nexit\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let s = text(&o);
    assert!(
        s.contains("main.go") && s.contains("\n1000\n") && s.contains("no-passwd"),
        "{s}"
    );
    assert!(
        s.contains("an interactive shell ran instead (--shell)"),
        "{s}"
    );
}

/// Every action of a traced build as a line: id, kind, package, key, and each
/// output's name, size and digest (sorted by action index).
fn outputs_text(t: &Path) -> String {
    let tr = Trace::open(t, Limits::default()).unwrap();
    let mut actions: Vec<_> = tr.actions.iter().collect();
    actions.sort_by_key(|a| a.index);
    let mut s = String::new();
    for a in actions {
        s.push_str(&format!(
            "{} {} {} key={}\n",
            gob_replay::schema::action_id(a.index),
            a.kind,
            a.package,
            a.key.to_hex()
        ));
        for o in &a.outputs {
            s.push_str(&format!(
                "  {} {} {}\n",
                o.name,
                o.file.size,
                o.file.digest.to_hex()
            ));
        }
    }
    s
}

/// Pins (issue #12, one action runner): the keys and output bytes of a traced
/// build, and its replay, are what they were before build and replay shared
/// one runner. `tests/golden/runner-outputs.txt` was written by the code
/// before that change (set GOB_UPDATE_GOLDEN=1 to rewrite it on purpose).
#[test]
fn traced_build_and_replay_keep_their_bytes() {
    let area = Area::new("trace-golden");
    let mut got = String::new();
    for name in ["asmcall", "syso"] {
        let t = record(&area, name, &[]);
        got.push_str(&format!("# {name}\n{}", outputs_text(&t)));
        let o = replay(&area, &t, &[]);
        assert!(o.status.success(), "replay of {name}: {}", text(&o));
        assert!(text(&o).contains("reproduced bit for bit"), "{}", text(&o));
    }
    let golden = common::repo_root().join("tests/golden/runner-outputs.txt");
    if std::env::var_os("GOB_UPDATE_GOLDEN").is_some() {
        fs::create_dir_all(golden.parent().unwrap()).unwrap();
        fs::write(&golden, &got).unwrap();
    }
    let want = fs::read_to_string(&golden).unwrap();
    if want != got {
        let first = want
            .lines()
            .zip(got.lines())
            .find(|(w, g)| w != g)
            .map(|(w, g)| format!("first difference:\n  want {w}\n  got  {g}"))
            .unwrap_or_else(|| "one is a prefix of the other".into());
        panic!(
            "keys or outputs changed ({} vs {} lines); {first}",
            want.lines().count(),
            got.lines().count()
        );
    }
}

/// Pins (issue #12): gob's pack runs through the runner with the tools'
/// confinement. A crafted trace whose pack names one of its inputs (a file
/// in replay's digest-named store) as the archive to write used to append
/// to that store file in gob's own process; now the action is refused,
/// naming the path, and the stored input keeps its bytes.
#[test]
fn a_hostile_pack_cannot_write_its_inputs() {
    let area = Area::new("trace-pack-out");
    let t = record(&area, "asmcall", &[]);
    let tr = Trace::open(&t, Limits::default()).unwrap();
    let pack = tr
        .actions
        .iter()
        .find(|a| a.kind == "pack" && a.package == "example.com/asmcall")
        .or_else(|| tr.actions.iter().find(|a| a.kind == "pack"))
        .unwrap();
    let (victim_path, victim_digest) = (pack.argv[1].clone(), {
        let f = pack.inputs.iter().find(|f| f.path == pack.argv[1]).unwrap();
        f.digest
    });
    let bad = area.path("out/pack-out.cbor");
    let index = pack.index;
    rewrite(&t, &bad, |rec| match rec {
        Record::Action(mut a) if a.index == index => {
            // pack r OUT BASE OBJ…: the archive to write is now BASE itself.
            a.argv[0] = a.argv[1].clone();
            vec![Record::Action(a)]
        }
        other => vec![other],
    });
    let dir = area.path("replay-dir");
    let o = replay(
        &area,
        &bad,
        &[
            "--dir",
            dir.to_str().unwrap(),
            "--action",
            &format!("b{:03}", index + 1),
        ],
    );
    let s = text(&o);
    assert_eq!(o.status.code(), Some(1), "{s}");
    assert!(
        s.contains(&format!("pack: {victim_path} is not a declared output")),
        "{s}"
    );
    let stored = fs::read(dir.join("blobs").join(victim_digest.to_hex())).unwrap();
    assert_eq!(
        Digest(*blake3::hash(&stored).as_bytes()),
        victim_digest,
        "the stored input was written"
    );
}
