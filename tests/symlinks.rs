//! Symlinks inside a module (issue #11, item 4), against `go` as the oracle:
//! `./...` does not follow a symlinked directory, an explicit path or an
//! import of one works, a symlinked .go file is a normal source file; dangling
//! links and loops fail with go's messages. And the no-op memo stamps what the
//! loader read through the links, so an edit made through one is rebuilt; and
//! it sees changes in a locally replaced module without walking its whole tree.

mod common;

use common::area::{text, Area};

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn write(p: &Path, s: &str) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, s).unwrap();
}

/// A module `m` whose main package imports a package through a symlinked
/// directory inside the module (`linked -> real`), one through a symlink to a
/// directory elsewhere (`outlink -> ../outside/ext`), and has a symlinked .go
/// file pointing there (`z.go -> ../outside/z.go`); plus a dangling link and
/// a link loop. Returns the module directory.
fn symlinked_module(root: &Path) -> PathBuf {
    symlinked_module_at(root, "../outside")
}

/// [`symlinked_module`] with the linked-to directory at `outside`, relative
/// to the module directory (`../outside`: outside the module, which go
/// builds and gob refuses; `.outside`: a dot directory inside it, which no
/// pattern walks).
fn symlinked_module_at(root: &Path, outside: &str) -> PathBuf {
    let m = root.join("m");
    write(&m.join("go.mod"), "module example.com/m\n\ngo 1.22\n");
    write(
        &m.join("main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\n\treal \"example.com/m/linked\"\n\t\"example.com/m/outlink\"\n)\n\nfunc main() { fmt.Println(real.X, outlink.Y, z) }\n",
    );
    write(&m.join("real/r.go"), "package real\n\nconst X = \"x1\"\n");
    write(
        &m.join(outside).join("ext/e.go"),
        "package outlink\n\nconst Y = \"y1\"\n",
    );
    write(
        &m.join(outside).join("z.go"),
        "package main\n\nconst z = \"z1\"\n",
    );
    symlink("real", m.join("linked")).unwrap();
    symlink(format!("{outside}/ext"), m.join("outlink")).unwrap();
    symlink(format!("{outside}/z.go"), m.join("z.go")).unwrap();
    symlink("nowhere", m.join("dangling")).unwrap();
    symlink("loop", m.join("loop")).unwrap();
    m
}

/// (ImportPath, Dir, GoFiles, Module.Path, Error.Err) of each listed package.
fn summary(stdout: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(stdout);
    serde_json::Deserializer::from_str(&text)
        .into_iter::<serde_json::Value>()
        .map(|v| {
            let v = v.expect("JSON from list");
            format!(
                "{} dir={} go={} mod={} err={}",
                v["ImportPath"], v["Dir"], v["GoFiles"], v["Module"]["Path"], v["Error"]["Err"]
            )
        })
        .collect()
}

/// The `warning: …` lines of stderr.
fn warnings(stderr: &[u8]) -> Vec<String> {
    let mut w: Vec<String> = String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .map(str::to_string)
        .collect();
    // go matches a module pattern twice and warns each time; once is enough.
    w.dedup();
    w.sort();
    w.dedup();
    w
}

#[test]
fn list_follows_gos_symlink_rules() {
    let area = Area::new("symlist");
    let m = symlinked_module(&area.path("src"));
    let cases: &[&[&str]] = &[
        &["./..."],
        &["example.com/m/..."],
        &["./linked", "./outlink"],
        &["example.com/m/linked", "example.com/m/outlink"],
        &["./linked/..."],
        &["./loop"],
        &["./dangling"],
        &["example.com/m/loop"],
        &["example.com/m/dangling"],
    ];
    for pats in cases {
        let mut go_args = vec!["list", "-e", "-json"];
        go_args.extend_from_slice(pats);
        let go = area.run(&common::go_binary(), &m, &go_args, "amd64");
        let mut gob_args = vec!["list", "-e", "--json"];
        gob_args.extend_from_slice(pats);
        let gob = area.run(&common::gob_binary(), &m, &gob_args, "amd64");
        assert_eq!(
            summary(&gob.stdout),
            summary(&go.stdout),
            "{pats:?}: gob list differs from go list\ngo: {}\ngob: {}",
            text(&go),
            text(&gob)
        );
        assert_eq!(
            warnings(&gob.stderr),
            warnings(&go.stderr),
            "{pats:?}: warnings differ"
        );
    }
}

/// A package whose only .go file is a symlink is a package (fsys.IsGoDir
/// follows the link); a dangling .go symlink is go's stat error.
#[test]
fn a_symlinked_go_file_is_a_source_file() {
    let area = Area::new("symfile");
    let root = area.path("src");
    let m = root.join("m");
    write(&m.join("go.mod"), "module example.com/m\n\ngo 1.22\n");
    write(
        &m.join("main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/m/only\"\n)\n\nfunc main() { fmt.Println(only.V) }\n",
    );
    write(&root.join("shared/v.go"), "package only\n\nconst V = 7\n");
    fs::create_dir_all(m.join("only")).unwrap();
    symlink("../../shared/v.go", m.join("only/v.go")).unwrap();
    fs::create_dir_all(m.join("gone")).unwrap();
    symlink("missing.go", m.join("gone/g.go")).unwrap();
    for pats in [&["example.com/m/only"][..], &["example.com/m/gone"]] {
        let mut args = vec!["list", "-e", "-json"];
        args.extend_from_slice(pats);
        let go = area.run(&common::go_binary(), &m, &args, "amd64");
        args[2] = "--json";
        let gob = area.run(&common::gob_binary(), &m, &args, "amd64");
        assert_eq!(
            summary(&gob.stdout),
            summary(&go.stdout),
            "{pats:?}\ngo: {}\ngob: {}",
            text(&go),
            text(&gob)
        );
    }
    let out = area.path("out/only");
    let build = || {
        area.run(
            &common::gob_binary(),
            &m,
            &["build", "-o", out.to_str().unwrap(), "."],
            "amd64",
        )
    };
    // go builds through a link out of the module; gob refuses it, naming
    // the file and the package (issue #13 item 1, docs/build-vs-go.md).
    let o = build();
    assert!(!o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("package example.com/m/only: ")
            && err.contains("only/v.go: resolves to ")
            && err.contains("outside its root"),
        "{err}"
    );
    // The same link to a file inside the module builds.
    write(&m.join(".shared/v.go"), "package only\n\nconst V = 7\n");
    fs::remove_file(m.join("only/v.go")).unwrap();
    symlink("../.shared/v.go", m.join("only/v.go")).unwrap();
    let o = build();
    assert!(o.status.success(), "{}", text(&o));
    let run = Command::new(&out).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout), "7\n");
}

/// Builds with gob -v in `dir`; returns whether the no-op memo answered, and the
/// binary's output.
fn build(area: &Area, dir: &Path, out: &Path) -> (bool, String) {
    let o = area.run(
        &common::gob_binary(),
        dir,
        &["build", "-v", "-o", out.to_str().unwrap(), "."],
        "amd64",
    );
    assert!(o.status.success(), "{}", text(&o));
    let hit = String::from_utf8_lossy(&o.stderr)
        .lines()
        .any(|l| l.contains("no-op memo") && !l.contains("not recorded"));
    let run = Command::new(out).output().unwrap();
    (hit, String::from_utf8_lossy(&run.stdout).into_owned())
}

fn settle() {
    std::thread::sleep(Duration::from_millis(3500));
}

/// Builds until the memo answers (a build records it once its inputs are settled).
fn until_memo(area: &Area, dir: &Path, out: &Path, want: &str) {
    build(area, dir, out);
    settle();
    build(area, dir, out);
    let (hit, got) = build(area, dir, out);
    assert!(hit, "an unchanged tree is answered by the memo");
    assert_eq!(got, want);
}

/// Regression (issue #11 item 4): an edit made through a symlinked directory or
/// to the target of a symlinked .go file after a build was served the old
/// binary by the memo, which stamped the links, not what they point to.
#[test]
fn noop_memo_sees_edits_through_symlinks() {
    let area = Area::new("symmemo");
    let root = area.path("src");
    // Linked-to files in a dot directory of the module: no walk of the
    // module's tree reaches them, only the links (gob refuses links out of
    // the module, issue #13 item 1).
    let m = symlinked_module_at(&root, ".outside");
    let outside = m.join(".outside");
    let out = area.path("out/m");
    until_memo(&area, &m, &out, "x1 y1 z1\n");
    type Edit<'a> = (&'static str, Box<dyn Fn() + 'a>, &'static str);
    let edits: Vec<Edit> = vec![
        (
            "edit a file through a symlinked directory elsewhere",
            Box::new(|| {
                write(
                    &m.join("outlink/e.go"),
                    "package outlink\n\nconst Y = \"y2\"\n",
                )
            }),
            "x1 y2 z1\n",
        ),
        (
            "edit a file through a symlinked directory inside the module",
            Box::new(|| write(&m.join("linked/r.go"), "package real\n\nconst X = \"x2\"\n")),
            "x2 y2 z1\n",
        ),
        (
            "edit the target of a symlinked .go file",
            Box::new(|| write(&outside.join("z.go"), "package main\n\nconst z = \"z2\"\n")),
            "x2 y2 z2\n",
        ),
        (
            "add a file through a symlinked directory",
            Box::new(|| {
                write(
                    &outside.join("ext/f.go"),
                    "package outlink\n\nfunc init() { println(\"init f\") }\n",
                )
            }),
            "x2 y2 z2\n",
        ),
        (
            "retarget a symlinked directory",
            Box::new(|| {
                write(
                    &m.join(".other/e.go"),
                    "package outlink\n\nconst Y = \"y3\"\n",
                );
                fs::remove_file(m.join("outlink")).unwrap();
                symlink(".other", m.join("outlink")).unwrap();
            }),
            "x2 y3 z2\n",
        ),
    ];
    for (what, edit, want) in edits {
        edit();
        let (hit, got) = build(&area, &m, &out);
        assert!(!hit, "{what}: the memo must not answer");
        assert_eq!(got, want, "{what}: the rebuild must see the change");
        settle();
        build(&area, &m, &out);
    }
}

/// The memo no longer walks whole replaced trees, only what the loader read;
/// a file rewritten with the same content still matches (by digest); an edit
/// of a replaced module's package file, a file added to one of its
/// package directories, and a package directory created where an import
/// could now resolve ambiguously are each still seen; an unrelated file
/// elsewhere in the replaced tree is not stamped.
#[test]
fn noop_memo_sees_changes_in_a_replaced_module() {
    let area = Area::new("replmemo");
    let root = area.path("src");
    let app = root.join("app");
    let dep = root.join("dep");
    write(
        &app.join("go.mod"),
        "module example.com/app\n\ngo 1.22\n\nrequire example.com/dep v0.0.0\n\nreplace example.com/dep => ../dep\n",
    );
    write(
        &app.join("main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/dep/lib\"\n)\n\nfunc main() { fmt.Println(lib.V) }\n",
    );
    write(&dep.join("go.mod"), "module example.com/dep\n\ngo 1.22\n");
    write(&dep.join("lib/l.go"), "package lib\n\nconst V = 1\n");
    write(&dep.join("unrelated/u.go"), "package unrelated\n");
    let out = area.path("out/app");
    until_memo(&area, &app, &out, "1\n");

    // A file outside what the build read: the memo may answer.
    write(
        &dep.join("unrelated/u.go"),
        "package unrelated\n\nconst U = 2\n",
    );
    let (hit, got) = build(&area, &app, &out);
    assert!(
        hit,
        "an unrelated file of a replaced module is not a dependency"
    );
    assert_eq!(got, "1\n");

    // Touched files (new mtimes, same content) are matched by their digest.
    for f in [app.join("main.go"), dep.join("lib/l.go")] {
        let t = fs::read(&f).unwrap();
        fs::write(&f, t).unwrap();
    }
    let (hit, got) = build(&area, &app, &out);
    assert!(hit, "rewriting files with the same content keeps the memo");
    assert_eq!(got, "1\n");

    type Edit<'a> = (&'static str, Box<dyn Fn() + 'a>, &'static str);
    let edits: Vec<Edit> = vec![
        (
            "edit a package file of the replaced module",
            Box::new(|| write(&dep.join("lib/l.go"), "package lib\n\nconst V = 2\n")),
            "2\n",
        ),
        (
            "add a file to a package directory of the replaced module",
            Box::new(|| write(&dep.join("lib/w.go"), "package lib\n\nconst W = V\n")),
            "2\n",
        ),
        (
            "make the import ambiguous: the main module now provides it too",
            Box::new(|| {
                write(
                    &app.join("go.mod"),
                    "module example.com/app\n\ngo 1.22\n\nrequire (\n\texample.com/dep v0.0.0\n\texample.com/dep/lib v0.0.0\n)\n\nreplace example.com/dep => ../dep\n\nreplace example.com/dep/lib => ../dep2\n",
                );
                write(
                    &root.join("dep2/go.mod"),
                    "module example.com/dep/lib\n\ngo 1.22\n",
                );
            }),
            "",
        ),
    ];
    for (what, edit, want) in edits {
        edit();
        if want.is_empty() {
            // A nested module at dep/lib's import path with no Go files: still
            // unambiguous, but the memo must look again (go.mod changed).
            let o = area.run(
                &common::gob_binary(),
                &app,
                &["build", "-v", "-o", out.to_str().unwrap(), "."],
                "amd64",
            );
            assert!(
                !String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .any(|l| l.contains("no-op memo") && !l.contains("not recorded")),
                "{what}: the memo must not answer"
            );
            settle();
            build(&area, &app, &out);
            build(&area, &app, &out);
            // Now a Go file appears in the second module: ambiguous import.
            write(&root.join("dep2/x.go"), "package lib\n\nconst V = 3\n");
            let o = area.run(
                &common::gob_binary(),
                &app,
                &["build", "-o", out.to_str().unwrap(), "."],
                "amd64",
            );
            assert!(
                !o.status.success() && text(&o).contains("ambiguous import"),
                "a package directory created in another module must be seen: {}",
                text(&o)
            );
            continue;
        }
        let (hit, got) = build(&area, &app, &out);
        assert!(!hit, "{what}: the memo must not answer");
        assert_eq!(got, want, "{what}: the rebuild must see the change");
        settle();
        build(&area, &app, &out);
    }
}

/// Runs gob in `dir` with a deadline: a hang (a FIFO, `/dev/zero` read
/// forever) is a failure, not a stuck test.
fn gob_within(area: &Area, dir: &Path, args: &[&str]) -> std::process::Output {
    let mut child = Command::new(common::gob_binary())
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(area.env("amd64"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!("gob {args:?} hung\n{}", text(&o));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// Each action's (kind, package) → its input paths, and every embedded blob.
type TraceInputs = (Vec<(String, String, Vec<String>)>, Vec<Vec<u8>>);

fn trace_inputs(path: &Path) -> TraceInputs {
    use gob_replay::schema::Record;
    let (mut actions, mut blobs) = (Vec::new(), Vec::new());
    for r in gob_replay::TraceReader::open(path).unwrap() {
        match r.unwrap() {
            Record::Action(a) => actions.push((
                a.kind,
                a.package,
                a.inputs.into_iter().map(|i| i.path).collect(),
            )),
            Record::Blob(b) => blobs.push(b.data),
            _ => {}
        }
    }
    (actions, blobs)
}

/// A module whose package `p` has assembly including headers directly
/// (`inc.h`), transitively (`deep.h`, from `inc.h`), from another package's
/// directory by a relative path (`../q/shared.h`) and from GOROOT
/// (`textflag.h`), and a header nothing includes that links to a secret
/// outside the module (`x.h`). Returns (module dir, secret).
fn header_module(root: &Path) -> (PathBuf, String) {
    let secret = format!("GOB-SECRET-{}", std::process::id());
    write(&root.join("outside/secret"), &format!("{secret}\n"));
    let m = root.join("m");
    write(&m.join("go.mod"), "module example.com/m\n\ngo 1.22\n");
    write(
        &m.join("main.go"),
        "package main\n\nimport \"example.com/m/p\"\n\nfunc main() { println(p.F()) }\n",
    );
    write(&m.join("p/p.go"), "package p\n\nfunc F() int\n");
    write(
        &m.join("p/p_amd64.s"),
        "#include \"textflag.h\"\n#include \"inc.h\"\n#include \"../q/shared.h\"\n\nTEXT ·F(SB),NOSPLIT,$0-8\n\tMOVQ $SEVEN, ret+0(FP)\n\tRET\n",
    );
    write(&m.join("p/inc.h"), "#include \"deep.h\"\n");
    write(&m.join("p/deep.h"), "#define SEVEN 7\n");
    write(&m.join("p/unused.h"), "#define UNUSED 1\n");
    write(&m.join("q/shared.h"), "#define SHARED 1\n");
    write(&m.join("q/q.go"), "package q\n");
    symlink("../../outside/secret", m.join("p/x.h")).unwrap();
    (m, secret)
}

/// Regression (issue #13 item 1): every `.h` file of a package directory was
/// declared as an input of its assembly actions whether or not anything
/// included it, through symlinks: `x.h -> ../../outside/secret` put the
/// secret into the `--trace` file. Now only what an `#include` reaches is
/// declared (directly, transitively, from another package's directory,
/// from `$GOROOT/pkg/include`); an included link out of the module is an
/// error naming the header and the package, before anything runs.
#[test]
fn only_included_headers_are_inputs_and_none_leaves_the_module() {
    let area = Area::new("headers");
    let (m, secret) = header_module(&area.path("src"));
    let trace = area.path("out/t.trace");
    let out = area.path("out/m");
    let args = [
        "build",
        "--trace",
        trace.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        ".",
    ];
    let o = gob_within(&area, &m, &args);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&Command::new(&out).output().unwrap().stderr),
        "7\n"
    );
    let (actions, blobs) = trace_inputs(&trace);
    assert!(
        !blobs
            .iter()
            .any(|b| b.windows(secret.len()).any(|w| w == secret.as_bytes())),
        "the secret is in the trace"
    );
    let asm: Vec<&Vec<String>> = actions
        .iter()
        .filter(|(k, p, _)| p == "example.com/m/p" && (k == "asm" || k == "symabis"))
        .map(|(_, _, i)| i)
        .collect();
    assert_eq!(asm.len(), 2, "{actions:?}");
    for inputs in asm {
        let headers: Vec<&str> = inputs
            .iter()
            .map(String::as_str)
            .filter(|i| i.ends_with(".h") && !i.starts_with("/work/"))
            .collect();
        assert_eq!(
            headers,
            [
                "/goroot/pkg/include/textflag.h",
                "/mod/example.com/m/p/deep.h",
                "/mod/example.com/m/p/inc.h",
                "/mod/example.com/m/q/shared.h",
            ],
            "{inputs:?}"
        );
    }

    // Included, the link out is refused, naming it; no trace holds it.
    fs::remove_file(&trace).unwrap();
    write(
        &m.join("p/inc.h"),
        "#include \"deep.h\"\n#include \"x.h\"\n",
    );
    let o = gob_within(&area, &m, &args);
    assert!(!o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("package example.com/m/p: inc.h: #include \"x.h\" is a symlink to ")
            && err.contains("outside the package's root"),
        "{err}"
    );
    assert!(!err.contains(&secret), "{err}");
    if trace.exists() {
        let (_, blobs) = trace_inputs(&trace);
        assert!(!blobs
            .iter()
            .any(|b| b.windows(secret.len()).any(|w| w == secret.as_bytes())));
    }
    assert!(!trace.exists(), "nothing ran, so no trace was written");
}

/// Regression (issue #13 item 1, its neighbours): a `.s` linked to
/// `/dev/zero` was read forever, a `.go` that is a FIFO blocked the build, a
/// header linked to a directory reached the tool. Each is now an error
/// naming the file and the package, at once. A `#include` of a header found
/// nowhere, or of a link loop, fails as go's does: the assembler's error.
#[test]
fn inputs_that_are_not_regular_files_are_refused() {
    let area = Area::new("irregular");
    let (m, _) = header_module(&area.path("src"));
    let args = ["build", "-o", "/dev/null", "."];
    let refused = |what: &str, want: &[&str]| {
        let o = gob_within(&area, &m, &args);
        assert!(!o.status.success(), "{what}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        for w in want {
            assert!(err.contains(w), "{what}: no {w:?} in\n{err}");
        }
    };
    symlink("/dev/zero", m.join("p/z_amd64.s")).unwrap();
    refused(
        ".s linked to /dev/zero",
        &[
            "package example.com/m/p: ",
            "p/z_amd64.s: resolves to /dev/zero",
        ],
    );
    fs::remove_file(m.join("p/z_amd64.s")).unwrap();

    let fifo = std::ffi::CString::new(m.join("p/f.go").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    refused("a FIFO .go", &["p/f.go", "not a regular file"]);
    fs::remove_file(m.join("p/f.go")).unwrap();

    fs::create_dir_all(m.join("p/dir")).unwrap();
    symlink("dir", m.join("p/d.h")).unwrap();
    write(
        &m.join("p/inc.h"),
        "#include \"deep.h\"\n#include \"d.h\"\n",
    );
    refused(
        "a header linked to a directory",
        &[
            "package example.com/m/p: ",
            "p/d.h: resolves to ",
            "a directory",
        ],
    );

    symlink("l.h", m.join("p/l.h")).unwrap();
    write(
        &m.join("p/inc.h"),
        "#include \"deep.h\"\n#include \"l.h\"\n",
    );
    refused(
        "a header link loop",
        &["# example.com/m/p", "#include: open "],
    );

    write(
        &m.join("p/inc.h"),
        "#include \"deep.h\"\n#include \"nowhere.h\"\n",
    );
    refused(
        "a missing header",
        &[
            "# example.com/m/p",
            "#include: open ",
            "nowhere.h: no such file",
        ],
    );
}
