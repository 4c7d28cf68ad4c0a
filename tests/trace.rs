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
fn rewrite(src: &Path, dst: &Path, f: impl FnMut(Record) -> Vec<Record>) {
    rewrite_with(src, dst, gob_replay::WriterOptions::default(), f)
}

/// [`rewrite`] with the writer's options.
fn rewrite_with(
    src: &Path,
    dst: &Path,
    opts: gob_replay::WriterOptions,
    mut f: impl FnMut(Record) -> Vec<Record>,
) {
    let r = TraceReader::open(src).unwrap();
    let file = fs::File::create(dst).unwrap();
    let mut w = TraceWriter::with_options(file, r.header(), opts).unwrap();
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
        text(&o).contains("names the program sh; replay runs only the Go toolchain's tools"),
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

/// Rewrites a trace as [`rewrite`] does, with the writer's limits raised so
/// that it can write what default readers refuse.
fn rewrite_lax(src: &Path, dst: &Path, f: impl FnMut(Record) -> Vec<Record>) {
    let opts = gob_replay::WriterOptions {
        limits: Limits {
            max_inputs: u64::MAX,
            max_argv_bytes: u64::MAX,
            max_held: u64::MAX,
            ..Limits::default()
        },
        ..Default::default()
    };
    rewrite_with(src, dst, opts, f)
}

fn id_of(a: &gob_replay::schema::ActionRecord) -> String {
    gob_replay::schema::action_id(a.index)
}

/// The compile of the fixture's main package in `t`.
fn main_compile(t: &Path, package: &str) -> gob_replay::schema::ActionRecord {
    let tr = Trace::open(t, Limits::default()).unwrap();
    tr.actions
        .iter()
        .find(|a| a.package == package && a.kind == "compile")
        .unwrap()
        .clone()
}

/// Pins (issue #13): `--dir` with a relative path failed every action
/// ("must be absolute"); it is made absolute against the working directory.
/// A `--dir` that is a symbolic link (or not ours, or writable by others)
/// was used as is, so a planted link made replay write outside it; it is
/// refused and nothing is written through it. The default directory is new
/// (mkdir, random name) and private (0700).
#[test]
fn the_replay_directory_is_fresh_private_and_absolute() {
    use std::os::unix::fs::PermissionsExt;
    let area = Area::new("trace-dir");
    let t = record(&area, "hello", &[]);
    let id = id_of(&main_compile(&t, "example.com/hello"));
    let o = replay(&area, &t, &["--action", &id, "--dir", "rel-dir"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(area.root.join("rel-dir/blobs").is_dir(), "{}", text(&o));

    let target = area.path("elsewhere");
    fs::create_dir_all(&target).unwrap();
    let link = area.path("planted");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = replay(
        &area,
        &t,
        &["--action", &id, "--dir", link.to_str().unwrap()],
    );
    let s = text(&o);
    assert_eq!(o.status.code(), Some(2), "{s}");
    assert!(
        s.contains("is not a directory (or is a symbolic link)"),
        "{s}"
    );
    assert_eq!(
        fs::read_dir(&target).unwrap().count(),
        0,
        "written through the link"
    );

    let open = area.path("open-dir");
    fs::create_dir_all(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    let o = replay(
        &area,
        &t,
        &["--action", &id, "--dir", open.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("is writable by others"), "{}", text(&o));

    let o = replay(&area, &t, &["--action", &id, "--keep"]);
    let s = text(&o);
    assert!(o.status.success(), "{s}");
    let kept = s
        .lines()
        .find_map(|l| l.strip_prefix("gob replay: replay directory kept at "))
        .unwrap_or_else(|| panic!("{s}"));
    let mode = fs::metadata(kept).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{kept}");
}

/// Pins (issue #13): a trace cut before its End record replayed with exit
/// 0 after a note, so a CI gate passed a trace whose last link was cut off.
/// It is now no verdict (exit 2) unless --allow-incomplete is given.
#[test]
fn a_truncated_trace_has_no_verdict_unless_allowed() {
    let area = Area::new("trace-cut");
    let t = record(&area, "hello", &[]);
    let id = id_of(&main_compile(&t, "example.com/hello"));
    let cut = area.path("out/cut.cbor");
    rewrite(&t, &cut, |rec| match rec {
        Record::End(_) => vec![],
        other => vec![other],
    });
    assert!(!Trace::open(&cut, Limits::default()).unwrap().is_complete());
    let o = replay(&area, &cut, &["--action", &id]);
    let s = text(&o);
    assert_eq!(o.status.code(), Some(2), "{s}");
    assert!(
        s.contains("the trace is incomplete") && s.contains("--allow-incomplete"),
        "{s}"
    );
    let o = replay(&area, &cut, &["--action", &id, "-json"]);
    let done: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(done["Verdict"], "error");
    let o = replay(&area, &cut, &["--action", &id, "--allow-incomplete"]);
    let s = text(&o);
    assert_eq!(o.status.code(), Some(0), "{s}");
    assert!(s.contains("note: the trace is incomplete"), "{s}");
}

/// Pins (issue #13): blobs were written before the actions were checked and
/// whether or not an action used them (a 33 KB trace wrote 1.07 GB). Now
/// the whole trace is checked first (a refused trace writes nothing, not
/// even the directory) and only the blobs the selected actions use are
/// written.
#[test]
fn replay_checks_first_and_writes_only_what_it_uses() {
    let area = Area::new("trace-disk");
    let t = record(&area, "hello", &[]);
    let id = id_of(&main_compile(&t, "example.com/hello"));
    // 200 MiB of zeros compress to almost nothing; no action reads them.
    let bomb = vec![0u8; 200 << 20];
    let bomb_digest = Digest::of(&bomb);
    let mut first = true;
    let padded = area.path("out/bomb.cbor");
    rewrite(&t, &padded, |rec| {
        let mut out = Vec::new();
        if first && !matches!(rec, Record::Header(_)) {
            first = false;
            out.push(Record::Blob(gob_replay::schema::Blob {
                digest: bomb_digest,
                data: bomb.clone(),
            }));
        }
        out.push(rec);
        out
    });
    let grew = fs::metadata(&padded).unwrap().len() - fs::metadata(&t).unwrap().len();
    assert!(grew < (1 << 20), "the bomb takes {grew} bytes in the file");
    let dir = area.path("replay-bomb");
    let o = replay(
        &area,
        &padded,
        &["--action", &id, "--dir", dir.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o));
    let stored: Vec<String> = fs::read_dir(dir.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !stored.contains(&bomb_digest.to_hex()),
        "the unused blob was written"
    );
    let used: u64 = fs::read_dir(dir.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(used < (64 << 20), "{used} bytes stored");

    // The same trace with a refused action at its end: nothing is written.
    let refused = area.path("out/bomb-refused.cbor");
    rewrite(&padded, &refused, |rec| match rec {
        Record::Action(mut a) if a.package == "example.com/hello" && a.kind == "link" => {
            a.tool = "sh".into();
            vec![Record::Action(a)]
        }
        other => vec![other],
    });
    let dir = area.path("replay-refused");
    let o = replay(&area, &refused, &["--dir", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        !dir.exists(),
        "the replay directory was created: {}",
        text(&o)
    );
}

/// Pins (issue #13): trace-controlled strings were printed raw: an ESC
/// sequence, a newline forging an action line, a bidi override in a package
/// path or an env key reached the terminal through `trace show`,
/// `replay -v`, the report and refusals. Each is escaped by one function;
/// -json stays JSON with those characters as \u escapes.
#[test]
fn trace_strings_cannot_drive_the_terminal() {
    let area = Area::new("trace-escape");
    let t = record(&area, "hello", &[]);
    let victim = main_compile(&t, "example.com/hello");
    let evil = "example.com/hello\n\x1b[2Jb999 compile forged\u{202e}olleh\u{9b}";
    let bad = area.path("out/evil.cbor");
    rewrite(&t, &bad, |rec| match rec {
        Record::Action(mut a) if a.index == victim.index => {
            a.package = evil.into();
            vec![Record::Action(a)]
        }
        other => vec![other],
    });
    let clean = |what: &str, o: &std::process::Output| {
        let s = text(o);
        for bad in ['\x1b', '\u{202e}', '\u{9b}'] {
            assert!(!s.contains(bad), "{what} printed {bad:?} raw:\n{s}");
        }
        assert!(
            !s.lines().any(|l| l.starts_with("b999")),
            "{what} printed a forged line:\n{s}"
        );
        s
    };
    let o = area.gob(&area.root, &["trace", "show", bad.to_str().unwrap()], &[]);
    let s = clean("trace show", &o);
    assert!(
        s.contains(r#""example.com/hello\nb"#) || s.contains(r#"\n\u{1b}[2Jb999"#),
        "{s}"
    );
    let o = area.gob(
        &area.root,
        &["trace", "show", "--json", bad.to_str().unwrap()],
        &[],
    );
    clean("trace show --json", &o);
    let line = String::from_utf8_lossy(&o.stdout)
        .lines()
        .find(|l| l.contains("forged"))
        .unwrap()
        .to_string();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["ImportPath"], evil, "JSON keeps the value");
    let o = replay(&area, &bad, &["-v", "--action", &id_of(&victim)]);
    clean("replay -v", &o);

    // A refusal quoting an env key.
    let bad_env = area.path("out/evil-env.cbor");
    rewrite(&t, &bad_env, |rec| match rec {
        Record::Action(mut a) => {
            a.env
                .push(("X\x1b]0;owned\x07\n\u{2066}".into(), "1".into()));
            vec![Record::Action(a)]
        }
        other => vec![other],
    });
    let o = replay(&area, &bad_env, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let s = clean("a refusal", &o);
    assert!(
        s.contains("sets the environment variable \"X\\u{1b}]0;owned"),
        "{s}"
    );
    assert!(!s.contains('\u{2066}') && !s.contains('\x07'), "{s}");
}

/// Pins (issue #13): 40 actions of 2^20 inputs took `gob trace show` to
/// 4 GB; a pack naming one large blob 2,000 times made replay abort
/// allocating 4 GiB. Counts are bounded with a clear refusal, and pack may
/// name a file once.
#[test]
fn what_a_trace_makes_gob_hold_is_bounded() {
    let area = Area::new("trace-memory");
    let t = record(&area, "asmcall", &[]);
    let wide = area.path("out/wide.cbor");
    rewrite_lax(&t, &wide, |rec| match rec {
        Record::Action(mut a) if a.index == 0 => {
            let f = a.inputs[0].clone();
            a.inputs = (0..70_000)
                .map(|i| gob_replay::schema::FileRef {
                    path: format!("/goroot/x/{i:06}"),
                    ..f.clone()
                })
                .collect();
            vec![Record::Action(a)]
        }
        other => vec![other],
    });
    let o = area.gob(&area.root, &["trace", "show", wide.to_str().unwrap()], &[]);
    let s = text(&o);
    assert!(!o.status.success(), "{s}");
    assert!(
        s.contains("action b001: inputs is 70000, the limit is 65536"),
        "{s}"
    );

    let tr = Trace::open(&t, Limits::default()).unwrap();
    let pack = tr.actions.iter().find(|a| a.kind == "pack").unwrap();
    let index = pack.index;
    let obj = pack.argv[2].clone();
    let many = area.path("out/pack-many.cbor");
    rewrite(&t, &many, |rec| match rec {
        Record::Action(mut a) if a.index == index => {
            a.argv.truncate(2);
            a.argv.extend(std::iter::repeat_n(obj.clone(), 2000));
            vec![Record::Action(a)]
        }
        other => vec![other],
    });
    let o = replay(&area, &many, &["--action", &format!("b{:03}", index + 1)]);
    let s = text(&o);
    assert_eq!(o.status.code(), Some(2), "{s}");
    assert!(s.contains(&format!("(pack) names {obj} twice")), "{s}");
}

/// Pins (issue #13 item 8): whatever a trace holds, gob reads it in at most
/// 256 MiB. The worst case was about 400 MiB: a blob record was held whole
/// (up to 256 MiB) on top of the actions (up to 128 MiB) and the zstd
/// window. Now a blob is streamed in pieces (replay writes it to its store
/// as it arrives), and an action record is held only up to 64 MiB. The
/// trace here carries a 256 MiB blob an action reads and two actions with
/// 60 MiB of output each.
#[test]
fn any_trace_is_read_in_256_mib() {
    let area = Area::new("trace-256");
    let t = record(&area, "asmcall", &[]);
    let big = vec![0u8; (256 << 20) - 64];
    let d = Digest::of(&big);
    let heavy = area.path("out/heavy.cbor");
    let (mut padded, mut blob) = (0, Some(big));
    rewrite_lax(&t, &heavy, |rec| match rec {
        Record::Action(mut a) if a.index == 0 => {
            let data = blob.take().unwrap();
            a.inputs.push(gob_replay::schema::FileRef {
                path: "/goroot/src/gob-big.dat".into(),
                size: data.len() as u64,
                digest: d,
            });
            a.inputs.sort_by(|x, y| x.path.cmp(&y.path));
            vec![
                Record::Blob(gob_replay::schema::Blob { digest: d, data }),
                Record::Action(a),
            ]
        }
        Record::Action(mut a) if padded < 2 => {
            padded += 1;
            a.stdout = vec![b'x'; 60 << 20];
            vec![Record::Action(a)]
        }
        other => vec![other],
    });
    const BOUND: u64 = 256 << 20;
    let (code, s, rss) = area.gob_rss(&area.root, &["trace", "show", heavy.to_str().unwrap()]);
    eprintln!("gob trace show: peak RSS {} MiB", rss >> 20);
    assert_eq!(code, Some(0), "{}", &s[s.len().saturating_sub(2000)..]);
    assert!(rss < BOUND, "gob trace show peaked at {} MiB", rss >> 20);

    let dir = area.path("replay-heavy");
    let (code, s, rss) = area.gob_rss(
        &area.root,
        &[
            "replay",
            "--action",
            "b001",
            "--dir",
            dir.to_str().unwrap(),
            heavy.to_str().unwrap(),
        ],
    );
    eprintln!("gob replay: peak RSS {} MiB", rss >> 20);
    let tail = &s[s.len().saturating_sub(2000)..];
    assert_eq!(code, Some(0), "{tail}");
    assert!(
        rss < BOUND,
        "gob replay peaked at {} MiB: {tail}",
        rss >> 20
    );
    let stored = dir.join("blobs").join(d.to_hex());
    assert_eq!(
        fs::metadata(&stored).map(|m| m.len()).ok(),
        Some((256 << 20) - 64),
        "the blob was not streamed into the store"
    );
}

/// Replay reads a trace twice: once whole, to check it and choose the
/// actions, then again to stream the blobs those actions use into its
/// store, skimming the rest. The second pass must read the very bytes the
/// first one checked: a file changed in between (an action rewritten, bytes
/// appended) is refused before anything runs.
#[test]
fn a_trace_that_changes_between_the_passes_is_refused() {
    let area = Area::new("trace-passes");
    let t = record(&area, "hello", &[]);
    let changed = area.path("out/changed.cbor");
    rewrite(&t, &changed, |rec| match rec {
        Record::Action(mut a) if a.kind == "link" => {
            a.stdout = b"rewritten\n".to_vec();
            vec![Record::Action(a)]
        }
        other => vec![other],
    });
    let original = fs::read(&t).unwrap();
    let mut appended = original.clone();
    appended.extend_from_slice(b"more");
    let toolchain = gob::toolchain::Toolchain::open(&common::goroot()).unwrap();
    let opts = |root: &Path| gob::commands::replay::ReplayOptions {
        trace: t.clone(),
        toolchain: toolchain.clone(),
        src: vec![(None, fixture("hello"))],
        only: None,
        keep: false,
        dir: Some(root.to_path_buf()),
        jobs: 1,
        sandbox: gob_sandbox::Mode::Full,
        toolexec: None,
        trust_env: false,
        allow_incomplete: false,
        limits: gob_sandbox::Limits::default(),
        verbose: false,
        shell: false,
    };
    let plan = |name: &str, second: Vec<u8>| {
        let root = area.path(name);
        let calls = std::cell::Cell::new(0);
        let first = original.clone();
        gob::commands::replay::plan(
            &opts(&root),
            || {
                calls.set(calls.get() + 1);
                let bytes = if calls.get() == 1 {
                    first.clone()
                } else {
                    second.clone()
                };
                TraceReader::new(std::io::Cursor::new(bytes))
            },
            &root,
        )
    };
    let same = plan("replay-same", original.clone());
    assert!(same.is_ok(), "{:?}", same.err().map(|e| e.to_string()));
    for (name, second) in [
        ("replay-changed", fs::read(&changed).unwrap()),
        ("replay-appended", appended),
    ] {
        let err = plan(name, second).map(|_| ()).unwrap_err().to_string();
        assert!(
            err.contains("the file changed while replay was reading it"),
            "{name}: {err}"
        );
    }
}

/// Not a test: writes the issue's measurement traces into
/// $GOB_MEASURE_DIR (40 actions of 2^20 inputs; a pack naming one 8 MiB
/// blob 2,000 times), for `/usr/bin/time -v gob trace show|replay`, from
/// $GOB_MEASURE_FROM (a trace of fixtures/asmcall) if set.
#[test]
#[ignore]
fn craft_measurement_traces() {
    let Some(dir) = std::env::var_os("GOB_MEASURE_DIR").map(PathBuf::from) else {
        return;
    };
    let area = Area::new("trace-measure");
    // A recorded trace of fixtures/asmcall, or one recorded now.
    let t = match std::env::var_os("GOB_MEASURE_FROM") {
        Some(t) => PathBuf::from(t),
        None => record(&area, "asmcall", &[]),
    };
    let mut written = 0;
    rewrite_lax(&t, &dir.join("wide.cbor"), |rec| match rec {
        Record::Action(a) if written < 40 => {
            written += 1;
            let mut a = a;
            let f = a.inputs[0].clone();
            a.inputs = (0..1 << 20)
                .map(|i| gob_replay::schema::FileRef {
                    path: format!("/goroot/x/{i:07}"),
                    ..f.clone()
                })
                .collect();
            vec![Record::Action(a)]
        }
        other => vec![other],
    });
    let tr = Trace::open(&t, Limits::default()).unwrap();
    let pack = tr
        .actions
        .iter()
        .find(|a| a.kind == "pack")
        .unwrap()
        .clone();
    let big = vec![7u8; 8 << 20];
    let d = Digest::of(&big);
    let obj = pack.argv[2].clone();
    let mut blob = Some(gob_replay::schema::Blob {
        digest: d,
        data: big.clone(),
    });
    rewrite_lax(&t, &dir.join("pack-argv.cbor"), |rec| match rec {
        Record::Action(mut a) if a.index == pack.index => {
            for f in a.inputs.iter_mut().filter(|f| f.path == obj) {
                (f.digest, f.size) = (d, big.len() as u64);
            }
            a.argv.truncate(2);
            a.argv.extend(std::iter::repeat_n(obj.clone(), 2000));
            let mut out: Vec<Record> = blob.take().map(Record::Blob).into_iter().collect();
            out.push(Record::Action(a));
            out
        }
        other => vec![other],
    });
    fs::write(dir.join("pack-action"), format!("b{:03}", pack.index + 1)).unwrap();
}
