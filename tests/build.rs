//! `gob build` on real modules: the binaries run and print what `go build`'s do,
//! a second build is all cache hits, one changed file rebuilds only what is
//! downstream of it, and cross-compiling to linux/arm64 produces an arm64 binary.

mod common;

use common::area::{build_info, text, Area};

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Starts `gob build -o out .` in `dir` without waiting (for concurrency and kill tests).
fn spawn_build(area: &Area, dir: &Path, out: &Path, extra: &[&str]) -> std::process::Child {
    let mut args = vec!["build"];
    args.extend_from_slice(extra);
    args.extend(["-o", out.to_str().unwrap(), "."]);
    Command::new(common::gob_binary())
        .args(&args)
        .current_dir(dir)
        .env_clear()
        .envs(area.env("amd64"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs a built fixtures/asmcall binary and checks its line (`sum` depends on edits).
fn assert_runs_asmcall(bin: &Path, sum: u32) {
    let o = Command::new(bin).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("sum={sum} scaled=42 greeting=hello from an embedded file\n"),
        "{}",
        bin.display()
    );
}

/// The `# b012 compile` lines of -x output: the actions whose tool ran.
fn ran_actions(stderr: &str) -> BTreeSet<String> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("# b"))
        .map(|l| format!("b{l}"))
        .collect()
}

fn copy_tree(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to);
        } else {
            fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// Builds a fixture with gob and with go, runs both binaries, and compares their output.
fn build_and_run(area: &Area, fixture: &str, expect: &str) {
    let dir = common::repo_root().join("fixtures").join(fixture);
    let ours = area
        .root
        .join("out")
        .join(format!("{}-gob", fixture.replace('/', "_")));
    let theirs = area
        .root
        .join("out")
        .join(format!("{}-go", fixture.replace('/', "_")));
    let o = area.run(
        &common::gob_binary(),
        &dir,
        &["build", "-o", ours.to_str().unwrap(), "."],
        "amd64",
    );
    assert!(o.status.success(), "gob build {fixture}: {}", text(&o));
    let o = area.run(
        &common::go_binary(),
        &dir,
        &[
            "build",
            "-trimpath",
            "-buildvcs=false",
            "-o",
            theirs.to_str().unwrap(),
            ".",
        ],
        "amd64",
    );
    assert!(o.status.success(), "go build {fixture}: {}", text(&o));
    let run = |bin: &Path| {
        let o = Command::new(bin).env_clear().output().unwrap();
        assert!(o.status.success(), "{} failed: {}", bin.display(), text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let (a, b) = (run(&ours), run(&theirs));
    assert_eq!(
        a, b,
        "{fixture}: gob's binary prints something else than go's"
    );
    assert!(
        a.contains(expect),
        "{fixture}: output {a:?} lacks {expect:?}"
    );
    // The build info (go version -m) is go's, line for line: path, mod, dep
    // lines with go.sum hashes and replacements, and the build settings.
    let info = |bin: &Path| build_info(area, &dir, bin);
    let (a, b) = (info(&ours), info(&theirs));
    assert_eq!(a, b, "{fixture}: build info differs from go build's");
    assert!(a.contains("build\t-trimpath=true"), "{a}");
}

#[test]
fn fixtures_build_and_run_like_go_build() {
    let area = Area::new("fixtures");
    build_and_run(&area, "hello", "");
    build_and_run(
        &area,
        "asmcall",
        "sum=21 scaled=42 greeting=hello from an embedded file",
    );
    // Both dependencies need their module's go version as -lang (go1.22 loops).
    build_and_run(&area, "replace", "lib! 3 0 1 2");
    build_and_run(&area, "vendored", "HI-HI");
    // modules.txt lists a directory-replaced module twice (with and without its
    // version); the versioned line is the module (build info `dep … v1.0.0 =>`).
    build_and_run(&area, "vendored-replace", "count 12");
}

/// A module whose dependencies come from a module cache the test lays out
/// (go mod download from a file:// proxy); gob reads it, verifies go.sum, builds.
#[test]
fn module_cache_dependency_builds() {
    let area = Area::new("modcache");
    common::modcache::populate(&common::go_binary(), &area.root, &area.env("amd64"));
    build_and_run(&area, "modcache", "");
}

#[test]
fn second_build_runs_no_tool_and_one_change_rebuilds_only_downstream() {
    let area = Area::new("incremental");
    let src = area.root.join("src");
    copy_tree(&common::repo_root().join("fixtures/asmcall"), &src);
    let gob = common::gob_binary();
    let graph = area.root.join("graph.json");
    let out = area.root.join("out/asmcall");
    let build = |extra: &[&str]| {
        let mut args = vec!["build", "-x", "-o", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.push(".");
        let o = area.run(&gob, &src, &args, "amd64");
        assert!(o.status.success(), "{}", text(&o));
        ran_actions(&String::from_utf8_lossy(&o.stderr))
    };
    let first = build(&["--debug-actiongraph", graph.to_str().unwrap()]);
    let actions: Vec<serde_json::Value> =
        serde_json::from_slice(&fs::read(&graph).unwrap()).unwrap();
    assert_eq!(first.len(), actions.len(), "a cold build runs every action");
    assert!(
        build(&[]).is_empty(),
        "an unchanged tree must be all cache hits"
    );

    // A change that compiles to the same object (a + b → b + a) reruns only
    // that compile: its archive is byte-identical, so nothing downstream runs.
    let f = src.join("internal/calc/calc.go");
    let orig = fs::read_to_string(&f).unwrap();
    let t = orig.replace(
        "func add(a, b int64) int64 { return a + b }",
        "func add(a, b int64) int64 { return b + a }",
    );
    assert_ne!(t, orig);
    fs::write(&f, t).unwrap();
    let cutoff = build(&[]);
    assert_eq!(cutoff.len(), 1, "only calc's compile may run: {cutoff:?}");

    // A change that matters: only calc's compile and what is downstream of it run.
    let t = orig.replace(
        "func add(a, b int64) int64 { return a + b }",
        "func add(a, b int64) int64 { return a + b + 1 }",
    );
    fs::write(&f, t).unwrap();
    let again = build(&[]);
    let name = |a: &serde_json::Value| {
        format!(
            "{} {}",
            a["Name"].as_str().unwrap(),
            a["Mode"].as_str().unwrap()
        )
    };
    let downstream: BTreeSet<String> = {
        // Every action that (transitively) reads calc's compile output.
        let calc = actions
            .iter()
            .find(|a| a["Package"] == "example.com/asmcall/internal/calc" && a["Mode"] == "compile")
            .unwrap();
        let mut set = BTreeSet::from([calc["ID"].as_u64().unwrap()]);
        loop {
            let before = set.len();
            for a in &actions {
                if a["Deps"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|d| set.contains(&d.as_u64().unwrap()))
                {
                    set.insert(a["ID"].as_u64().unwrap());
                }
            }
            if set.len() == before {
                break;
            }
        }
        actions
            .iter()
            .filter(|a| set.contains(&a["ID"].as_u64().unwrap()))
            .map(name)
            .collect()
    };
    let ran: BTreeSet<String> = actions
        .iter()
        .map(name)
        .filter(|n| again.contains(n))
        .collect();
    assert!(!ran.is_empty(), "the change must rebuild something");
    assert!(
        ran.is_subset(&downstream),
        "ran {ran:?}, but only {downstream:?} are downstream of calc.go"
    );
    for must in ["compile", "link"] {
        assert!(
            ran.iter().any(|n| n.ends_with(must)),
            "{must} must rerun: ran {ran:?}"
        );
    }
    assert_runs_asmcall(&out, 22);
}

#[test]
fn cross_compiles_to_linux_arm64() {
    let area = Area::new("cross");
    let dir = common::repo_root().join("fixtures/asmcall");
    let out = area.root.join("out/asmcall-arm64");
    let o = area.run(
        &common::gob_binary(),
        &dir,
        &["build", "-o", out.to_str().unwrap(), "."],
        "arm64",
    );
    assert!(o.status.success(), "{}", text(&o));
    let elf = fs::read(&out).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF");
    assert_eq!(
        u16::from_le_bytes([elf[18], elf[19]]),
        183,
        "e_machine must be EM_AARCH64"
    );
}

#[test]
fn build_failure_prints_package_header_and_tool_output() {
    let area = Area::new("fail");
    let src = area.root.join("src");
    copy_tree(&common::repo_root().join("fixtures/hello"), &src);
    fs::write(
        src.join("broken.go"),
        "package main\n\nfunc broken() int { return \"x\" }\n",
    )
    .unwrap();
    let o = area.run(&common::gob_binary(), &src, &["build", "."], "amd64");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("# example.com/hello\n"), "{err}");
    // Exactly go build's text: the file is named relative to the package directory.
    assert_eq!(
        err,
        "# example.com/hello\n./broken.go:3:28: cannot use \"x\" (untyped string constant) as int value in return statement\n"
    );
}

/// Two gob processes building at once into one cache: both succeed, and their
/// binaries are byte-identical (every output either came from a complete write
/// or was built again).
#[test]
fn concurrent_builds_share_one_cache() {
    let area = Area::new("concurrent");
    let dir = common::repo_root().join("fixtures/asmcall");
    let outs: Vec<PathBuf> = (0..2)
        .map(|i| area.root.join(format!("out/asmcall-{i}")))
        .collect();
    let children: Vec<_> = outs
        .iter()
        .map(|out| spawn_build(&area, &dir, out, &[]))
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    let a = fs::read(&outs[0]).unwrap();
    let b = fs::read(&outs[1]).unwrap();
    assert!(a == b, "the two builds disagree");
    assert_runs_asmcall(&outs[0], 21);
}

/// gob itself SIGKILLed at random points of cold builds sharing one cache; the
/// build afterwards must succeed and produce a working binary (no half-written
/// entry is ever taken for a hit).
#[test]
fn sigkill_during_builds_never_poisons_the_cache() {
    let area = Area::new("sigkill");
    let dir = common::repo_root().join("fixtures/asmcall");
    let out = area.root.join("out/asmcall");
    // Deterministic "random" kill points between 50 ms and ~3 s.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for round in 0..6 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let delay = std::time::Duration::from_millis(50 + x % 3000);
        let mut child = spawn_build(&area, &dir, &out, &["-a"]);
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let _ = round;
    }
    let o = area.run(
        &common::gob_binary(),
        &dir,
        &["build", "-o", out.to_str().unwrap(), "."],
        "amd64",
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_runs_asmcall(&out, 21);
}

/// A cache on a full disk: the tool's outputs are right, so the build
/// finishes (as go's does) with one warning that names the cache, says the
/// disk is full and names a path, not a panic; the binary is installed and
/// runs (issue #13, item 21: the build used to fail). Runs gob in its own
/// mount namespace on a 3 MiB tmpfs (as root, or in a user namespace).
#[test]
fn full_disk_under_the_cache_is_a_clear_error() {
    let area = Area::new("fulldisk");
    let dir = common::repo_root().join("fixtures/hello");
    let cache = area.root.join("smallcache");
    fs::create_dir_all(&cache).unwrap();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let unshare_flags = if root { "-m" } else { "-Urm" };
    let script = format!(
        "mount -t tmpfs -o size=3m,mode=0700 tmpfs {c} && GOBCACHE={c} {gob} build -o {o} . ; echo exit=$?",
        c = cache.display(),
        gob = common::gob_binary().display(),
        o = area.root.join("out/hello").display()
    );
    let o = Command::new("unshare")
        .args([unshare_flags, "sh", "-c", &script])
        .current_dir(&dir)
        .env_clear()
        .envs(area.env("amd64"))
        .output()
        .unwrap();
    let t = text(&o);
    assert!(
        !t.contains("Operation not permitted") && !t.contains("unshare failed"),
        "this test needs root or unprivileged user namespaces (unshare {unshare_flags}): {t}"
    );
    assert!(
        t.contains("exit=0"),
        "a full cache disk must not fail the build: {t}"
    );
    let warning = format!(
        "gob: warning: the build cache {} could not store results",
        cache.display()
    );
    assert_eq!(
        t.matches(&warning).count(),
        1,
        "one warning naming the cache: {t}"
    );
    assert!(
        t.contains("disk full while writing"),
        "the warning must say the disk is full: {t}"
    );
    assert!(!t.contains("panicked"), "{t}");
    let run = Command::new(area.root.join("out/hello")).output().unwrap();
    assert!(
        run.status.success(),
        "the installed binary runs: {}",
        text(&run)
    );
}

/// darwin and windows link position-independent executables by default (and
/// darwin compiles with -shared): gob's binaries have the right format, and the
/// same build info as go build's.
#[test]
fn default_pie_targets_build_like_go() {
    let area = Area::new("pie");
    let dir = common::repo_root().join("fixtures/hello");
    for (goos, goarch, magic) in [
        ("darwin", "arm64", &b"\xcf\xfa\xed\xfe"[..]),
        ("windows", "amd64", &b"MZ"[..]),
    ] {
        let env: Vec<(String, String)> = area
            .env(goarch)
            .into_iter()
            .map(|(k, v)| {
                if k == "GOOS" {
                    (k, goos.to_string())
                } else {
                    (k, v)
                }
            })
            .collect();
        let build = |exe: PathBuf, args: &[&str]| {
            let o = Command::new(exe)
                .args(args)
                .current_dir(&dir)
                .env_clear()
                .envs(env.clone())
                .output()
                .unwrap();
            assert!(o.status.success(), "{goos}/{goarch}: {}", text(&o));
        };
        let ours = area.root.join(format!("out/hello-{goos}-gob"));
        let theirs = area.root.join(format!("out/hello-{goos}-go"));
        build(
            common::gob_binary(),
            &["build", "-o", ours.to_str().unwrap(), "."],
        );
        build(
            common::go_binary(),
            &[
                "build",
                "-trimpath",
                "-buildvcs=false",
                "-o",
                theirs.to_str().unwrap(),
                ".",
            ],
        );
        assert!(
            fs::read(&ours).unwrap().starts_with(magic),
            "{goos}: wrong executable format"
        );
        let info = |bin: &Path| build_info(&area, &dir, bin);
        assert_eq!(
            info(&ours),
            info(&theirs),
            "{goos}/{goarch}: build info differs"
        );
    }
}

/// Packages that fail to load: gob build prints exactly what go build prints
/// (every error, positions relative to the cwd) and exits 1 without running a tool.
#[test]
fn load_errors_print_like_go_build() {
    let area = Area::new("loaderr");
    for f in ["missing", "cycle", "internal-violation", "bad-embed"] {
        let dir = common::repo_root().join("fixtures").join(f);
        let out = area.root.join("out/x");
        let go = area.run(
            &common::go_binary(),
            &dir,
            &["build", "-o", out.to_str().unwrap(), "./..."],
            "amd64",
        );
        let gob = area.run(
            &common::gob_binary(),
            &dir,
            &["build", "-o", out.to_str().unwrap(), "./..."],
            "amd64",
        );
        assert_eq!(go.status.code(), Some(1), "{f}: go build should fail");
        assert_eq!(gob.status.code(), go.status.code(), "{f}: exit status");
        assert_eq!(
            String::from_utf8_lossy(&gob.stderr),
            String::from_utf8_lossy(&go.stderr),
            "{f}: stderr"
        );
        assert!(!out.exists(), "{f}: nothing may be written");
    }
}

/// -gcflags/-ldflags with cmd/go's pattern rules: no pattern applies to the named
/// packages only, `all=` to every package; -ldflags -X reaches the binary; the
/// build info records -gcflags exactly as go build does.
#[test]
fn per_package_flags_follow_cmd_go() {
    let area = Area::new("flags");
    let src = area.root.join("src");
    copy_tree(&common::repo_root().join("fixtures/hello"), &src);
    fs::write(src.join("main.go"), "package main\n\nimport \"fmt\"\n\nvar version = \"dev\"\n\nfunc main() { fmt.Println(\"version\", version) }\n").unwrap();
    let plan = |flags: &[&str]| {
        let mut args = vec!["build", "-n"];
        args.extend_from_slice(flags);
        args.push(".");
        let o = area.run(&common::gob_binary(), &src, &args, "amd64");
        assert!(o.status.success(), "{}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    // The compile command lines of fmt and of the main package.
    let compile_line = |plan: &str, pkg: &str| -> String {
        let mut lines = plan.lines();
        while let Some(l) = lines.next() {
            if l.starts_with("# b") && l.contains(" compile (") && l.ends_with(&format!("({pkg})"))
            {
                return lines
                    .find(|x| x.starts_with("$TOOLDIR/compile"))
                    .unwrap()
                    .to_string();
            }
        }
        panic!("no compile of {pkg} in the plan");
    };
    let p = plan(&["-gcflags=-N -l"]);
    assert!(
        compile_line(&p, "example.com/hello").contains(" -N -l "),
        "named package gets -gcflags"
    );
    assert!(
        !compile_line(&p, "fmt").contains(" -N "),
        "a dependency does not"
    );
    let p = plan(&["-gcflags=all=-N -l"]);
    assert!(
        compile_line(&p, "fmt").contains(" -N -l "),
        "all= reaches dependencies"
    );
    let p = plan(&["-gcflags=all=-N", "-gcflags=fmt=-l"]);
    assert!(
        compile_line(&p, "fmt").contains(" -l ") && !compile_line(&p, "fmt").contains(" -N "),
        "the last matching value wins"
    );

    let flags = ["-gcflags=all=-N -l", "-ldflags=-X main.version=1.2.3"];
    let (ours, theirs) = area.build_both(&src, "flags", &flags, "amd64", &[]);
    let o = Command::new(&ours).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "version 1.2.3\n");
    let info = |bin: &Path| build_info(&area, &src, bin);
    let (a, b) = (info(&ours), info(&theirs));
    assert_eq!(a, b, "build info with flags");
    assert!(a.contains("-gcflags=\"all=-N -l\""), "{a}");
}

/// Per-package flags given several times, in GOFLAGS and on the command line,
/// with quotes: gob splits each value as cmd/go's quoted.Split does (a quote
/// counts only at the start of a field), applies the last matching value, and
/// records the last value of each flag in the build info, as go build does
/// (issue #11 item 9). The binaries print what -X set, and their build info is
/// go's.
#[test]
fn repeated_and_quoted_flags_match_go_build() {
    let area = Area::new("flags-repeat");
    let src = area.root.join("src");
    copy_tree(&common::repo_root().join("fixtures/hello"), &src);
    fs::write(src.join("main.go"), "package main\n\nimport \"fmt\"\n\nvar version = \"dev\"\n\nfunc main() { fmt.Println(\"version\", version) }\n").unwrap();
    let cases: [(&str, &[&str], &str); 4] = [
        (
            "",
            &[
                "-gcflags=all=-N",
                "-gcflags=example.com/hello=-l",
                "-ldflags=-X=main.version='q'",
            ],
            "version 'q'\n",
        ),
        (
            "'-ldflags=-X main.version=v2' -gcflags=all=-N",
            &["-gcflags=-l", "-asmflags=all=", "-asmflags=std=-D=X"],
            "version v2\n",
        ),
        (
            "",
            &[
                "-gcflags",
                "all=-N -l",
                "-gcflags",
                "fmt=-N",
                "-ldflags",
                "-X 'main.version=a b'",
            ],
            "version a b\n",
        ),
        ("", &["-gcflags=all=-N", "-gcflags="], "version dev\n"),
    ];
    for (i, (goflags, flags, want)) in cases.iter().enumerate() {
        let (ours, theirs) = area.build_both(
            &src,
            &format!("repeat{i}"),
            flags,
            "amd64",
            &[("GOFLAGS", goflags)],
        );
        for bin in [&ours, &theirs] {
            let o = Command::new(bin).output().unwrap();
            assert_eq!(
                String::from_utf8_lossy(&o.stdout),
                *want,
                "case {i}: {}",
                bin.display()
            );
        }
        let info = |bin: &Path| build_info(&area, &src, bin);
        assert_eq!(info(&ours), info(&theirs), "case {i}: build info");
    }
}

/// What go build does with the packages named and `-o` (issue #11 items 5 and
/// 10): a test-only package matched by a wildcard is skipped, named it fails
/// with go's message; `-o FILE` with one non-main package writes its archive;
/// `-o DIR` builds main packages only; `-o /dev/null` writes nothing (and
/// leaves /dev/null alone). Exit status, first stderr line, files written (and
/// their modes) and the files left in the module are go's.
#[test]
fn packages_and_output_follow_go_build() {
    use std::os::unix::fs::PermissionsExt;
    let area = Area::new("outputs");
    let m = area.root.join("m");
    let file = |rel: &str, text: &str| {
        let p = m.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    };
    file("go.mod", "module example.com/m\n\ngo 1.24\n");
    file("main.go", "package main\n\nfunc main() {}\n");
    file("lib/lib.go", "package lib\n\nfunc F() int { return 1 }\n");
    file(
        "tonly/x_test.go",
        "package tonly\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n",
    );
    file(
        "cmd/a/main.go",
        "package main\n\nimport \"example.com/m/lib\"\n\nfunc main() { println(lib.F()) }\n",
    );
    file("cmd/b/main.go", "package main\n\nfunc main() {}\n");
    let listing = |dir: &Path| -> Vec<String> {
        let mut v = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let e = e.unwrap();
                let md = e.metadata().unwrap();
                if md.is_dir() {
                    stack.push(e.path());
                } else {
                    let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
                    v.push(format!("{rel} {:o}", md.permissions().mode() & 0o777));
                }
            }
        }
        v.sort();
        v
    };
    let cases: &[&[&str]] = &[
        &["./..."],
        &["./tonly"],
        &["example.com/m/tonly"],
        &["./tonly/..."],
        &["./tonly", "./cmd/a"],
        &["-o", "@/d/", "./tonly", "./cmd/a"],
        &["-o", "/dev/null", "./tonly"],
        &["-o", "@/lib.a", "./lib"],
        &["-o", "@/x/", "./lib"],
        &["-o", "@/d", "./lib"],
        &["-o", "@/x", "./lib", "./cmd/a"],
        &["-o", "/dev/null", "./lib"],
        &["-o", "/dev/null", "./cmd/a", "./cmd/b"],
        &["-o", "/dev/null", "./cmd/a"],
        &["-o", "@/x", "./tonly/..."],
        &["-o", "@/d/", "./tonly/..."],
        &["-o", "@/d/sub/", "./cmd/..."],
        &["-o", "@/d/", "./..."],
        &["./cmd/a"],
        &["./lib"],
    ];
    let null_before = fs::metadata("/dev/null").unwrap();
    for case in cases {
        let mut seen = Vec::new();
        for (tool, exe) in [("go", common::go_binary()), ("gob", common::gob_binary())] {
            let out = area.root.join(format!("o-{tool}"));
            let _ = fs::remove_dir_all(&out);
            fs::create_dir_all(out.join("d")).unwrap();
            let mut args = vec!["build".to_string()];
            if tool == "go" {
                args.extend(["-trimpath".into(), "-buildvcs=false".into()]);
            }
            args.extend(case.iter().map(|a| a.replace('@', out.to_str().unwrap())));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let o = area.run(&exe, &m, &args, "amd64");
            let err = String::from_utf8_lossy(&o.stderr)
                .lines()
                .next()
                .unwrap_or("")
                .replacen("gob: ", "go: ", 1)
                .replace(out.to_str().unwrap(), "OUT");
            let module_files = listing(&m);
            for f in ["m", "a", "b", "lib"] {
                if m.join(f).is_file() {
                    fs::remove_file(m.join(f)).unwrap();
                }
            }
            seen.push((o.status.code(), err, listing(&out), module_files));
        }
        assert_eq!(seen[1], seen[0], "gob build {case:?} (left) vs go build");
    }
    let null_after = fs::metadata("/dev/null").unwrap();
    assert!(
        null_after.file_type().is_char_device() || !null_before.file_type().is_char_device(),
        "/dev/null was replaced"
    );
}

/// Architecture levels (issue #11 item 6): for GOARM, GO386, GORISCV64,
/// GOPPC64, GOMIPS64 (set or left to the toolchain default) gob's binary has
/// go's build info (`build GOARM=7`, ...) and differs from go's only as much as
/// the linux/amd64 one does (the build-id notes, docs/build-vs-go.md A); before,
/// linux/arm binaries were 2,630 bytes larger (asm ran without `-D GOARM_7 ...`).
/// The asm command lines define what go's define.
#[test]
fn architecture_levels_build_like_go() {
    let area = Area::new("archlevels");
    let dir = common::repo_root().join("fixtures/hello");
    let size_gap = |ours: &Path, theirs: &Path| {
        fs::metadata(theirs).unwrap().len() as i64 - fs::metadata(ours).unwrap().len() as i64
    };
    let (ours, theirs) = area.build_both(&dir, "amd64", &[], "amd64", &[]);
    let gap = size_gap(&ours, &theirs);
    let cases = [
        ("arm", "GOARM", ""),
        ("arm", "GOARM", "5"),
        ("arm", "GOARM", "6"),
        ("386", "GO386", "softfloat"),
        ("riscv64", "GORISCV64", ""),
        ("ppc64le", "GOPPC64", "power10"),
        ("mips64le", "GOMIPS64", ""),
    ];
    for (goarch, knob, value) in cases {
        let name = format!("{goarch}-{value}");
        let (ours, theirs) = area.build_both(&dir, &name, &[], goarch, &[(knob, value)]);
        let (a, b) = (
            build_info(&area, &dir, &ours),
            build_info(&area, &dir, &theirs),
        );
        assert_eq!(a, b, "{goarch} {knob}={value}: build info");
        assert!(a.contains(&format!("build\t{knob}=")), "{goarch}: {a}");
        assert_eq!(
            size_gap(&ours, &theirs),
            gap,
            "{goarch} {knob}={value}: size"
        );
    }
    // The -D symbols of every asm command, per package, as go build -a -n has them.
    let defines = |exe: PathBuf, extra: &[&str]| -> BTreeSet<String> {
        let mut args = vec!["build", "-a", "-n"];
        args.extend_from_slice(extra);
        args.push(".");
        let mut env = area.env("arm");
        env.push(("GOARM".into(), "6".into()));
        let o = Command::new(exe)
            .args(&args)
            .current_dir(&dir)
            .env_clear()
            .envs(env)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        all.lines()
            .filter(|l| l.contains("/asm ") && !l.contains("-gensymabis"))
            .map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                let pkg = w
                    .iter()
                    .position(|x| *x == "-p")
                    .map(|i| w[i + 1])
                    .unwrap_or("");
                let d: Vec<&str> = w
                    .windows(2)
                    .filter(|p| p[0] == "-D")
                    .map(|p| p[1])
                    .collect();
                format!("{pkg}: {}", d.join(" "))
            })
            .collect()
    };
    let ours = defines(common::gob_binary(), &[]);
    let theirs = defines(common::go_binary(), &["-trimpath", "-buildvcs=false"]);
    assert_eq!(ours, theirs, "asm -D symbols, linux/arm GOARM=6");
    assert!(
        ours.iter().any(|l| l.ends_with("GOARM_6 GOARM_5")),
        "{ours:?}"
    );
}

/// The no-op memo answers only when nothing it depends on changed: editing a
/// file, adding a file or a directory anywhere in the module, editing go.mod or
/// changing the target each force a real build with the right result; deleting
/// the output re-installs it from the cache.
#[test]
fn noop_memo_never_hides_a_change() {
    let area = Area::new("memo");
    let src = area.root.join("src");
    copy_tree(&common::repo_root().join("fixtures/asmcall"), &src);
    let out = area.root.join("out/asmcall");
    let settle = || std::thread::sleep(std::time::Duration::from_millis(3500));
    let build = |goarch: &str| -> bool {
        let o = area.run(
            &common::gob_binary(),
            &src,
            &["build", "-v", "-o", out.to_str().unwrap(), "."],
            goarch,
        );
        assert!(o.status.success(), "{}", text(&o));
        String::from_utf8_lossy(&o.stderr).contains("no-op memo")
    };
    // A memo is written by a build whose inputs are all settled.
    build("amd64");
    settle();
    assert!(
        !build("amd64"),
        "the first settled build records the memo, it cannot use one"
    );
    assert!(build("amd64"), "an unchanged tree is answered by the memo");
    assert_runs_asmcall(&out, 21);

    let calc = src.join("internal/calc/calc.go");
    type Mutation<'a> = (&'static str, Box<dyn Fn() + 'a>);
    let mutations: Vec<Mutation> = vec![
        (
            "edit a file",
            Box::new(|| {
                let t = fs::read_to_string(&calc)
                    .unwrap()
                    .replace("return a + b }", "return a + b + 1 }");
                fs::write(&calc, t).unwrap();
            }),
        ),
        (
            "add a file",
            Box::new(|| {
                fs::write(
                    src.join("internal/calc/extra.go"),
                    "package calc\n\nfunc extra() {}\n",
                )
                .unwrap()
            }),
        ),
        (
            "add a directory",
            Box::new(|| {
                fs::create_dir_all(src.join("newpkg/deep")).unwrap();
                fs::write(src.join("newpkg/deep/d.go"), "package deep\n").unwrap();
            }),
        ),
        (
            "edit go.mod",
            Box::new(|| {
                let t = fs::read_to_string(src.join("go.mod")).unwrap() + "\n// a comment\n";
                fs::write(src.join("go.mod"), t).unwrap();
            }),
        ),
        (
            "delete the output",
            Box::new(|| fs::remove_file(&out).unwrap()),
        ),
    ];
    for (what, mutate) in mutations {
        mutate();
        let hit = build("amd64");
        if what == "delete the output" {
            assert!(hit, "a deleted output is re-installed from the memo");
        } else {
            assert!(!hit, "{what}: the memo must not answer");
        }
        // The first mutation made add() return a + b + 1: from then on it prints 22.
        assert_runs_asmcall(&out, 22);
        settle();
        build("amd64");
    }
    // Another target is another key.
    assert!(
        !build("arm64"),
        "a different GOARCH must not use the amd64 memo"
    );
}

/// Builds the main package in `dir` with go (`-ldflags=-buildid=`, as gob
/// passes no build ID) and with `gob build -a` in each sandbox `mode`; the
/// binaries must be the same bytes. `tag` names the outputs.
fn same_bytes_as_go(area: &Area, dir: &Path, tag: &str, modes: &[&str]) {
    let theirs = area.root.join(format!("out/{tag}-go-nobuildid"));
    let o = area.run(
        &common::go_binary(),
        dir,
        &[
            "build",
            "-trimpath",
            "-buildvcs=false",
            "-ldflags=-buildid=",
            "-o",
            theirs.to_str().unwrap(),
            ".",
        ],
        "amd64",
    );
    assert!(o.status.success(), "go build {tag}: {}", text(&o));
    let want = fs::read(&theirs).unwrap();
    for mode in modes {
        let ours = area.root.join(format!("out/{tag}-gob-{mode}"));
        let sandbox = format!("--sandbox={mode}");
        let args = ["build", "-a", &sandbox, "-o", ours.to_str().unwrap(), "."];
        let o = area.run(&common::gob_binary(), dir, &args, "amd64");
        assert!(
            o.status.success(),
            "gob build {sandbox} {tag}: {}",
            text(&o)
        );
        assert!(
            fs::read(&ours).unwrap() == want,
            "{tag}: gob build {sandbox} wrote other bytes than go build"
        );
    }
}

/// [`same_bytes_as_go`] for a fixture.
fn fixture_same_bytes_as_go(area: &Area, fixture: &str, modes: &[&str]) {
    let dir = common::repo_root().join("fixtures").join(fixture);
    same_bytes_as_go(area, &dir, fixture, modes);
}

/// The objects each `pack r` of a `-n -a` plan appends, by base name, sorted
/// by line: go prints `go tool pack r ARCHIVE OBJ...`, gob `gob-internal pack
/// r OUT BASE OBJ...`.
fn packed_objects(plan: &str) -> Vec<Vec<String>> {
    let mut v: Vec<Vec<String>> = plan
        .lines()
        .filter_map(|l| {
            let (rest, skip) = if let Some(r) = l.strip_prefix("go tool pack r ") {
                (r, 1)
            } else {
                (l.strip_prefix("gob-internal pack r ")?, 2)
            };
            let words = rest.split(" # ").next().unwrap_or(rest).split_whitespace();
            Some(
                words
                    .skip(skip)
                    .map(|w| w.rsplit('/').next().unwrap_or(w).to_string())
                    .collect(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Both plans (`go build -a -n -trimpath` and `gob build -a -n`) for `fixture`.
fn plans(area: &Area, fixture: &str) -> (String, String) {
    let dir = common::repo_root().join("fixtures").join(fixture);
    let args = ["build", "-a", "-n", "-trimpath", "-buildvcs=false", "."];
    let go = area.run(&common::go_binary(), &dir, &args, "amd64");
    assert!(go.status.success(), "go build -n {fixture}: {}", text(&go));
    let gob = area.run(
        &common::gob_binary(),
        &dir,
        &["build", "-a", "-n", "."],
        "amd64",
    );
    assert!(
        gob.status.success(),
        "gob build -n {fixture}: {}",
        text(&gob)
    );
    (text(&go), text(&gob))
}

/// Pins issue #11 item 8: a package's .syso files were silently left out;
/// cmd/go appends them to the package archive after the assembler's objects
/// (exec.go: "Add system object files"), so they reach the linker.
#[test]
fn syso_files_are_packed_like_go() {
    let area = Area::new("syso");
    let (go, gob) = plans(&area, "syso");
    let (go, gob) = (packed_objects(&go), packed_objects(&gob));
    assert!(
        gob.contains(&vec![
            "answer_amd64.o".into(),
            "sysodata_linux_amd64.syso".into()
        ]),
        "gob does not pack the .syso: {gob:?}"
    );
    assert_eq!(gob, go, "gob packs other objects than go");
    build_and_run(&area, "syso", "4242");
    fixture_same_bytes_as_go(&area, "syso", &["full", "namespaces"]);
}

/// Pins issue #11 item 2: an assembly `#include "../other/x.h"` (as
/// cloudflare/circl's `../../math/fp25519/fp_amd64.h`) was never declared,
/// so the asm action failed in every sandbox. Headers are now resolved as
/// cmd/asm does (from the package directory, also for a header's own
/// includes) and bound at their path below the module root.
#[test]
fn assembly_includes_across_directories_build_like_go() {
    let area = Area::new("asminclude");
    let (go, gob) = plans(&area, "asminclude");
    assert_eq!(packed_objects(&gob), packed_objects(&go));
    build_and_run(&area, "asminclude", "35 other");
    fixture_same_bytes_as_go(&area, "asminclude", &["full", "namespaces"]);
}

/// Pins issue #11 item 2 on the real case: Debian's cloudflare/circl
/// (dh/x25519 includes ../../math/fp25519/fp_amd64.h), used by a module
/// through a local replace.
#[test]
fn circl_x25519_builds_like_go_in_the_sandbox() {
    let circl = Path::new("/usr/share/gocode/src/github.com/cloudflare/circl");
    let xsys = Path::new("/usr/share/gocode/src/golang.org/x/sys");
    assert!(
        circl.join("dh/x25519/curve_amd64.s").is_file() && xsys.is_dir(),
        "install golang-github-cloudflare-circl-dev and golang-golang-x-sys-dev"
    );
    let area = Area::new("circl");
    let dir = area.root.join("circluser");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("go.mod"),
        format!(
            "module example.com/circluser\n\ngo 1.22\n\nrequire (\n\t\
             github.com/cloudflare/circl v1.3.7\n\tgolang.org/x/sys v0.1.0\n)\n\n\
             replace github.com/cloudflare/circl => {}\n\n\
             replace golang.org/x/sys => {}\n",
            circl.display(),
            xsys.display()
        ),
    )
    .unwrap();
    fs::write(
        dir.join("main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/cloudflare/circl/dh/x25519\"\n)\n\n\
         func main() {\n\tvar pub, sec x25519.Key\n\tsec[0] = 9\n\t\
         x25519.KeyGen(&pub, &sec)\n\tfmt.Printf(\"%x\\n\", pub)\n}\n",
    )
    .unwrap();
    same_bytes_as_go(&area, &dir, "circl", &["full", "namespaces"]);
}

/// Pins: a header outside the package's root is refused before anything
/// runs, naming the header, the including file and the package: reached by
/// `..` (`/etc/passwd`), through a symlinked header, or by an absolute path.
#[test]
fn assembly_includes_outside_the_root_are_refused() {
    let area = Area::new("asminclude-escape");
    let src = common::repo_root().join("fixtures/asminclude");
    let secret = area.root.join("secret.h");
    fs::write(&secret, "#define SCALE 1\n").unwrap();
    let up = "../".repeat(40);
    let cases: [(&str, String, String); 3] = [
        (
            "dotdot",
            format!("{up}etc/passwd"),
            "outside the package's root ROOT".into(),
        ),
        (
            "symlink",
            "../other/link.h".into(),
            format!(
                "a symlink to {}, outside the package's root ROOT",
                secret.display()
            ),
        ),
        (
            "absolute",
            secret.display().to_string(),
            "an absolute path; gob reads only files under the package's root ROOT".into(),
        ),
    ];
    for (tag, include, why) in cases {
        let dir = area.root.join(tag);
        copy_tree(&src, &dir);
        std::os::unix::fs::symlink(&secret, dir.join("other/link.h")).unwrap();
        let s = dir.join("p/scaled_amd64.s");
        let text_s = fs::read_to_string(&s).unwrap();
        fs::write(&s, text_s.replace("../other/x.h", &include)).unwrap();
        let o = area.run(&common::gob_binary(), &dir, &["build", "-n", "."], "amd64");
        let header = if include.starts_with('/') {
            include.clone()
        } else {
            include.trim_start_matches("./").to_string()
        };
        let want = format!(
            "package example.com/asminclude/p: scaled_amd64.s: #include \"{header}\" is {}",
            why.replace("ROOT", &dir.display().to_string())
        );
        assert!(!o.status.success(), "{tag}: gob build accepted {include}");
        assert!(
            text(&o).contains(&want),
            "{tag}: want {want:?} in:\n{}",
            text(&o)
        );
    }
}

/// Regression (issue #13, item 1's input check): an assembly-only package
/// built alone imports nothing of GOROOT, yet its `#include "textflag.h"`
/// reaches `$GOROOT/pkg/include`: GOROOT is that header's root even when no
/// standard package is planned (was: "not under any source root").
#[test]
fn an_assembly_only_package_builds_alone() {
    let area = Area::new("asm-only-alone");
    let dir = area.root.join("asmcall");
    copy_tree(&common::repo_root().join("fixtures/asmcall"), &dir);
    let o = area.run(
        &common::gob_binary(),
        &dir,
        &["build", "./internal/calc"],
        "amd64",
    );
    assert!(o.status.success(), "{}", text(&o));
}

/// Pins (issue #14 item 12): `-n` printed every planned command, cache hits
/// included (847 for cmd/go where go printed 70). Now it prints what would
/// run, as go's `-n` does: each action the cache does not hold and every
/// action depending on one. `-a -n` still prints the whole plan.
#[test]
fn dry_run_prints_only_what_would_run() {
    let area = Area::new("dry-run");
    let src = area.root.join("src");
    copy_tree(&common::repo_root().join("fixtures/hello"), &src);
    let bin = area.path("out/hello");
    let planned = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["build"];
        args.extend_from_slice(extra);
        args.extend(["-n", "-o", bin.to_str().unwrap(), "."]);
        let o = area.run(&common::gob_binary(), &src, &args, "amd64");
        assert!(o.status.success(), "{}", text(&o));
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| l.starts_with("# b"))
            .map(|l| {
                l.split_once(' ')
                    .unwrap()
                    .1
                    .split_once(' ')
                    .unwrap()
                    .1
                    .to_string()
            })
            .collect()
    };
    let cold = planned(&[]);
    assert!(
        cold.iter().any(|l| l == "compile (runtime)")
            && cold.iter().any(|l| l == "link (example.com/hello)"),
        "{cold:?}"
    );
    assert!(!bin.exists(), "-n wrote the binary");
    let o = area.run(
        &common::gob_binary(),
        &src,
        &["build", "-o", bin.to_str().unwrap(), "."],
        "amd64",
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        planned(&[]),
        Vec::<String>::new(),
        "a warm cache runs nothing"
    );
    assert_eq!(planned(&["-a"]), cold, "-a -n prints the whole plan");
    let main = src.join("main.go");
    let edited = fs::read_to_string(&main).unwrap() + "\nvar edited = 1\n";
    fs::write(&main, edited).unwrap();
    assert_eq!(
        planned(&[]),
        ["compile (example.com/hello)", "link (example.com/hello)"],
        "an edit to the main package reruns its compile and the link only"
    );
}
