//! The no-op memo stamps exactly what the build read (issue #13, item 16):
//! the loader's reads, recorded as it makes them, and the actions' declared
//! inputs. Each test settles a memo, changes one thing the build read, and
//! checks that the memo does not answer and that the rebuild sees the change.

mod common;

use common::area::{text, Area};

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

fn write(p: &Path, s: &str) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, s).unwrap();
}

/// Past the racy window, so that the next build may record a memo.
fn settle() {
    std::thread::sleep(Duration::from_millis(3500));
}

/// Whether gob's stderr says the no-op memo answered.
fn memo_hit(o: &Output) -> bool {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .any(|l| l.contains("no-op memo") && !l.contains("not recorded"))
}

/// `gob build -v ARGS` in `dir` with `env` on top of the area's.
fn build(area: &Area, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut all = vec!["build", "-v"];
    all.extend(args);
    area.gob(dir, &all, env)
}

/// Builds until the memo answers; panics if it never does.
fn settle_memo(area: &Area, dir: &Path, args: &[&str], env: &[(&str, &str)]) {
    let o = build(area, dir, args, env);
    assert!(o.status.success(), "{}", text(&o));
    settle();
    build(area, dir, args, env);
    let o = build(area, dir, args, env);
    assert!(
        memo_hit(&o),
        "an unchanged tree is answered by the memo: {}",
        text(&o)
    );
}

/// What a built program prints (with `println`, on stderr).
fn said(bin: &Path) -> String {
    let o = Command::new(bin).output().unwrap();
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Regression: `./p/...` where `p` is a symlink to a directory elsewhere walks
/// the link's target (as go does), but the memo walked the module tree
/// without following links: a package created in an existing subdirectory
/// below the link was not built, and the old result was reported (exit 0).
/// The target is in a dot directory of the module (no pattern walks it; gob
/// refuses sources that resolve outside their module).
#[test]
fn a_package_added_below_a_symlinked_pattern_root_is_seen() {
    let area = Area::new("memo-symwalk");
    let root = area.path("src");
    let m = root.join("m");
    write(&m.join("go.mod"), "module example.com/m\n\ngo 1.22\n");
    write(&m.join(".elsewhere/p/p.go"), "package p\n");
    write(&m.join(".elsewhere/p/sub/deeper/README"), "not Go\n");
    symlink(".elsewhere/p", m.join("p")).unwrap();
    settle_memo(&area, &m, &["./p/..."], &[]);
    write(
        &m.join(".elsewhere/p/sub/deeper/d.go"),
        "package deeper\n\nfunc init() { println(undefined) }\n",
    );
    let o = build(&area, &m, &["./p/..."], &[]);
    assert!(!memo_hit(&o), "the memo must not answer: {}", text(&o));
    assert!(
        !o.status.success() && text(&o).contains("undefined: undefined"),
        "the new package is built: {}",
        text(&o)
    );
}

/// Regression: with `GOWORK` naming a go.work outside the working directory
/// and its ancestors, the memo stamped only go.work files in the ancestors:
/// pointing the workspace at another module served the old binary.
#[test]
fn a_gowork_outside_the_working_directory_is_stamped() {
    let area = Area::new("memo-gowork");
    let root = area.path("src");
    let ws = root.join("ws/go.work");
    for (d, says) in [("one", "one"), ("two", "two")] {
        write(
            &root.join(d).join("go.mod"),
            "module example.com/w\n\ngo 1.22\n",
        );
        write(
            &root.join(d).join("main.go"),
            &format!("package main\n\nfunc main() {{ println(\"{says}\") }}\n"),
        );
    }
    write(&ws, "go 1.22\n\nuse ../one\n");
    let cwd = root.join("elsewhere");
    fs::create_dir_all(&cwd).unwrap();
    let out = area.path("out/w");
    let args = ["-o", out.to_str().unwrap(), "example.com/w"];
    let env = [("GOWORK", ws.to_str().unwrap())];
    settle_memo(&area, &cwd, &args, &env);
    assert_eq!(said(&out), "one\n");

    type Edit<'a> = (&'static str, Box<dyn Fn() + 'a>, &'static str);
    let edits: Vec<Edit> = vec![
        (
            "the go.work now uses another module",
            Box::new(|| write(&ws, "go 1.22\n\nuse ../two\n")),
            "two\n",
        ),
        (
            "a file of the module the go.work uses is edited",
            Box::new(|| {
                write(
                    &root.join("two/main.go"),
                    "package main\n\nfunc main() { println(\"three\") }\n",
                )
            }),
            "three\n",
        ),
    ];
    for (what, edit, want) in edits {
        edit();
        let o = build(&area, &cwd, &args, &env);
        assert!(o.status.success(), "{what}: {}", text(&o));
        assert!(!memo_hit(&o), "{what}: the memo must not answer");
        assert_eq!(said(&out), want, "{what}: the rebuild must see the change");
        settle();
        build(&area, &cwd, &args, &env);
    }
}

/// A vendored package file and vendor/modules.txt are read by the build, so
/// an edit of either rebuilds (before the reads were recorded, only the walk
/// of the whole main module covered them; this pins them now that no walk
/// of the module is made beyond what the load lists).
#[test]
fn vendored_files_and_modules_txt_are_stamped() {
    let area = Area::new("memo-vendor");
    let app = area.path("src/app");
    write(
        &app.join("go.mod"),
        "module example.com/app\n\ngo 1.22\n\nrequire example.com/dep v1.0.0\n",
    );
    write(
        &app.join("main.go"),
        "package main\n\nimport \"example.com/dep/lib\"\n\nfunc main() { println(lib.V) }\n",
    );
    let txt = "# example.com/dep v1.0.0\n## explicit; go 1.22\nexample.com/dep/lib\n";
    write(&app.join("vendor/modules.txt"), txt);
    let lib = app.join("vendor/example.com/dep/lib/l.go");
    write(&lib, "package lib\n\nconst V = 1\n");
    let out = area.path("out/app");
    let args = ["-o", out.to_str().unwrap(), "."];
    settle_memo(&area, &app, &args, &[]);
    assert_eq!(said(&out), "1\n");

    write(&lib, "package lib\n\nconst V = 2\n");
    let o = build(&area, &app, &args, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        !memo_hit(&o),
        "an edited vendored file: the memo must not answer"
    );
    assert_eq!(said(&out), "2\n");
    settle();
    build(&area, &app, &args, &[]);

    // No longer marked explicit: go (and gob) refuse the vendor directory.
    write(
        &app.join("vendor/modules.txt"),
        &txt.replace("explicit; ", ""),
    );
    let o = build(&area, &app, &args, &[]);
    assert!(
        !memo_hit(&o),
        "an edited modules.txt: the memo must not answer"
    );
    assert!(
        !o.status.success() && text(&o).contains("explicitly required in go.mod"),
        "{}",
        text(&o)
    );
}

/// Variables the load and the plan read are in the memo's key: a GOFLAGS
/// `-tags` that selects another file, and a GOFLAGS `-ldflags`, each rebuild
/// (these held before the reads were recorded; they pin the key).
#[test]
fn goflags_are_in_the_key() {
    let area = Area::new("memo-env");
    let m = area.path("src/m");
    write(&m.join("go.mod"), "module example.com/m\n\ngo 1.22\n");
    write(
        &m.join("main.go"),
        "package main\n\nvar v = \"plain\"\n\nfunc main() { println(v, tagged) }\n",
    );
    write(
        &m.join("a.go"),
        "//go:build !x\n\npackage main\n\nconst tagged = \"untagged\"\n",
    );
    write(
        &m.join("b.go"),
        "//go:build x\n\npackage main\n\nconst tagged = \"tagged\"\n",
    );
    let out = area.path("out/m");
    let args = ["-o", out.to_str().unwrap(), "."];
    settle_memo(&area, &m, &args, &[]);
    assert_eq!(said(&out), "plain untagged\n");
    for (goflags, want) in [
        ("-tags=x", "plain tagged\n"),
        ("-ldflags=-X=main.v=set", "set untagged\n"),
    ] {
        let o = build(&area, &m, &args, &[("GOFLAGS", goflags)]);
        assert!(o.status.success(), "{goflags}: {}", text(&o));
        assert!(!memo_hit(&o), "GOFLAGS={goflags}: the memo must not answer");
        assert_eq!(said(&out), want, "GOFLAGS={goflags}");
    }
}
