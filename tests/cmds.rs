//! The commands a go user reaches for (issue #14 item 5): `run`, `install`,
//! `version [-m] FILE`, `clean` and its flags. Each row runs `go` and `gob`
//! the same way in the same fixture and asserts go's result: the same exit
//! status, the same stdout, and stderr alike (go's `go: ` read as `gob: `),
//! except where a row says what it compares and why.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::area::{text, Area};

/// The fixture module: a main package that echoes its arguments and stdin
/// and exits 3 when asked, a library, and a package that does not compile.
fn fixture(area: &Area, tag: &str) -> PathBuf {
    let dir = area.path(&format!("src-{tag}/hello"));
    let _ = std::fs::remove_dir_all(&dir);
    let files: &[(&str, &str)] = &[
        ("go.mod", "module example.com/hello\n\ngo 1.27\n"),
        (
            "main.go",
            "package main\n\nimport (\n\t\"fmt\"\n\t\"io\"\n\t\"os\"\n\t\"time\"\n)\n\n\
             func main() {\n\
             \tif len(os.Args) > 1 && os.Args[1] == \"sleep\" {\n\
             \t\tfmt.Println(\"started\")\n\t\ttime.Sleep(2 * time.Second)\n\
             \t\tfmt.Println(\"done\")\n\t\treturn\n\t}\n\
             \tb, _ := io.ReadAll(os.Stdin)\n\
             \tfmt.Printf(\"args %q stdin %q\\n\", os.Args[1:], b)\n\
             \tfmt.Fprintln(os.Stderr, \"to stderr\")\n\
             \tif len(os.Args) > 1 && os.Args[1] == \"fail\" {\n\t\tos.Exit(3)\n\t}\n}\n",
        ),
        ("lib/lib.go", "package lib\n\nfunc F() int { return 1 }\n"),
        ("bad/main.go", "package main\n\nfunc main() { x := 1 }\n"),
    ];
    for (name, body) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    dir
}

/// Runs `exe args` in `dir` with the area's environment (go with
/// -trimpath, which gob always applies, and without VCS stamps, which gob
/// never writes: the fixture lies inside gob's own checkout), `extra` on top (an empty value
/// removes the variable), `stdin` fed to it.
fn run(
    area: &Area,
    exe: &Path,
    dir: &Path,
    args: &[&str],
    extra: &[(&str, &str)],
    stdin: &str,
) -> Output {
    let mut env = area.env("amd64");
    env.retain(|(k, _)| k != "GOFLAGS");
    env.push(("GOFLAGS".into(), "-trimpath -buildvcs=false".into()));
    for (k, v) in extra {
        env.retain(|(x, _)| x != k);
        if !v.is_empty() {
            env.push((k.to_string(), v.to_string()));
        }
    }
    let mut child = Command::new(exe)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {}: {e}", exe.display()));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// go's output read as gob's: its name for itself.
fn as_gob(s: &str) -> String {
    s.lines()
        .map(|l| match l.strip_prefix("go: ") {
            Some(rest) => format!("gob: {rest}"),
            None => l.to_string(),
        })
        .map(|l| l.replace("'go version'", "'gob version'"))
        .map(|l| l + "\n")
        .collect()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// What a row compares.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cmp {
    /// Exit status, stdout and stderr.
    All,
    /// Exit status, stdout and stderr's first line.
    FirstErrLine,
    /// Exit status only (go's message needs the network; gob's says it has none).
    Status,
}

/// One row: the arguments, extra environment, stdin, what is compared.
struct Row {
    args: Vec<String>,
    env: &'static [(&'static str, &'static str)],
    stdin: &'static str,
    cmp: Cmp,
}

fn row(args: &[&str], cmp: Cmp) -> Row {
    Row {
        args: args.iter().map(|s| s.to_string()).collect(),
        env: &[],
        stdin: "",
        cmp,
    }
}

/// Runs each row with both tools in `dir`; collects every mismatch.
fn check(area: &Area, dir: &Path, rows: &[Row], before: &dyn Fn()) -> Vec<String> {
    let mut failures = Vec::new();
    for r in rows {
        let args: Vec<&str> = r.args.iter().map(String::as_str).collect();
        before();
        let go = run(area, &common::go_binary(), dir, &args, r.env, r.stdin);
        before();
        let gob = run(area, &common::gob_binary(), dir, &args, r.env, r.stdin);
        let (ge, be) = (as_gob(&err(&go)), err(&gob));
        let same = go.status.code() == gob.status.code()
            && match r.cmp {
                Cmp::All => out(&go) == out(&gob) && ge == be,
                Cmp::FirstErrLine => out(&go) == out(&gob) && first_line(&ge) == first_line(&be),
                Cmp::Status => true,
            };
        if !same {
            failures.push(format!(
                "{:?} {:?}:\n  go  ({:?}): {}\n  gob ({:?}): {}",
                r.args,
                r.env,
                go.status.code(),
                text(&go),
                gob.status.code(),
                text(&gob)
            ));
        }
    }
    failures
}

#[test]
fn run_like_go() {
    let area = Area::new("cmds-run");
    let dir = fixture(&area, "run");
    let rows = [
        Row {
            stdin: "from stdin",
            ..row(&["run", ".", "a", "-x", "b c"], Cmp::All)
        },
        row(&["run", "-v=false", ".", "fail", "x"], Cmp::All),
        row(&["run", "./..."], Cmp::All),
        Row {
            stdin: "files",
            ..row(&["run", "main.go", "q", "x.go"], Cmp::All)
        },
        row(&["run", "main.go", "fail"], Cmp::All),
        row(&["run", "./lib"], Cmp::All),
        row(&["run"], Cmp::All),
        row(&["run", "a_test.go"], Cmp::All),
        row(&["run", "./bad"], Cmp::All),
        row(
            &[
                "run",
                "-exec",
                "/bin/sh -c 'echo ${0##*/} \"$@\"'",
                ".",
                "z",
            ],
            Cmp::All,
        ),
        row(&["run", "-frob", "."], Cmp::FirstErrLine),
        row(&["run", "example.com/x@v1.0.0"], Cmp::Status),
    ];
    let mut failures = check(&area, &dir, &rows, &|| {});
    // Cross-compiled without a go_windows_amd64_exec: the binary itself is
    // executed, and the kernel refuses it; the binary's path is each tool's own.
    for exe in [common::go_binary(), common::gob_binary()] {
        let o = run(&area, &exe, &dir, &["run", "."], &[("GOOS", "windows")], "");
        let e = err(&o);
        if o.status.code() != Some(1)
            || !e.starts_with("fork/exec /")
            || !e.ends_with("/hello.exe: exec format error\n")
        {
            failures.push(format!("GOOS=windows {}: {}", exe.display(), text(&o)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// go run leaves SIGINT to the program and waits for it (the terminal sends
/// it to both), then exits 1; gob must not die at once of the signal.
#[test]
fn run_waits_through_sigint_like_go() {
    use std::io::BufRead;
    let area = Area::new("cmds-sigint");
    let dir = fixture(&area, "sigint");
    let mut results = Vec::new();
    for exe in [common::go_binary(), common::gob_binary()] {
        let mut env = area.env("amd64");
        env.retain(|(k, _)| k != "GOFLAGS");
        let mut cmd = Command::new(&exe);
        cmd.args(["run", ".", "sleep"])
            .current_dir(&dir)
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SIGINT with its default disposition whoever started the test (a
        // shell without job control starts background commands with it
        // ignored, and both go and gob leave an ignored SIGINT alone).
        // SAFETY: signal(2) is async-signal-safe; nothing else runs here.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                Ok(())
            });
        }
        let mut child = cmd.spawn().unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().and_then(Result::ok);
        assert_eq!(first.as_deref(), Some("started"), "{}", exe.display());
        // SAFETY: a signal to our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        let status = child.wait().unwrap();
        results.push((status.code(), rest));
    }
    // go waits for the program, then exits 1 (its workers saw the interrupt).
    assert_eq!(results[0], (Some(1), vec!["done".to_string()]), "go");
    assert_eq!(results[1], results[0], "gob");
}

/// The files under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, d: &Path, v: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, v);
            } else {
                v.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

#[test]
fn install_like_go() {
    let area = Area::new("cmds-install");
    let dir = fixture(&area, "install");
    let mut failures = Vec::new();
    // (arguments, GOOS, GOBIN set, GOPATH set): where the executables go,
    // or go's refusal.
    let cases: &[(&[&str], &str, bool, bool)] = &[
        (&["install"], "linux", false, true),
        (&["install", ".", "./lib"], "windows", false, true),
        (&["install", "./lib", "."], "darwin", false, true),
        (&["install"], "linux", true, true),
        (&["install", "./lib"], "linux", true, true),
        (&["install"], "windows", true, true),
        (&["install", "./lib"], "windows", true, true),
        (&["install"], "linux", false, false),
        // Named files: $GOBIN, else GOPATH/bin even when cross-compiling.
        (&["install", "main.go"], "linux", true, true),
        (&["install", "main.go"], "windows", false, true),
    ];
    for (i, (args, goos, gobin, gopath)) in cases.iter().enumerate() {
        let mut results = Vec::new();
        for (tool, exe) in [("go", common::go_binary()), ("gob", common::gob_binary())] {
            let root = area.path(&format!("install-{i}-{tool}"));
            let (bin, gp) = (root.join("bin"), root.join("gopath"));
            let (bin, gp) = (bin.to_str().unwrap(), gp.to_str().unwrap());
            // go install removes what an earlier `go build` left in the directory.
            let left = dir.join("hello");
            std::fs::write(&left, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&left, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
            let env = [
                ("GOOS", *goos),
                ("GOBIN", if *gobin { bin } else { "" }),
                ("GOPATH", if *gopath { gp } else { "" }),
                ("HOME", if *gopath { "/nonexistent" } else { "" }),
            ];
            let o = run(&area, &exe, &dir, args, &env, "");
            let info: Vec<String> = tree(&root)
                .iter()
                .map(|f| {
                    let v = run(
                        &area,
                        &common::go_binary(),
                        &dir,
                        &["version", "-m", root.join(f).to_str().unwrap()],
                        &[],
                        "",
                    );
                    format!("{f}\n{}", out(&v).split_once('\n').unwrap().1)
                })
                .collect();
            results.push((
                o.status.code(),
                as_gob(first_line(&err(&o))),
                info,
                left.exists(),
                text(&o),
            ));
        }
        let (go, gob) = (&results[0], &results[1]);
        if (&go.0, &go.1, &go.2, go.3) != (&gob.0, &gob.1, &gob.2, gob.3) {
            failures.push(format!(
                "{args:?} GOOS={goos} GOBIN set {gobin} GOPATH set {gopath}:\n  go  {:?} {:?} left {}: {}\n  gob {:?} {:?} left {}: {}",
                go.0, go.2, go.3, go.4, gob.0, gob.2, gob.3, gob.4
            ));
        }
    }
    let rows = [
        Row {
            env: &[("GOBIN", "relative/bin")],
            ..row(&["install"], Cmp::All)
        },
        row(&["install", "example.com/x@v1.0.0"], Cmp::Status),
    ];
    failures.extend(check(&area, &dir, &rows, &|| {}));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn version_m_like_go() {
    let area = Area::new("cmds-version");
    let dir = fixture(&area, "version");
    let bins = area.path("out/bins");
    std::fs::create_dir_all(bins.join("sub")).unwrap();
    let mut names = Vec::new();
    for target in ["linux/amd64", "windows/amd64", "darwin/arm64", "js/wasm"] {
        let (goos, goarch) = target.split_once('/').unwrap();
        for (tool, exe) in [("go", common::go_binary()), ("gob", common::gob_binary())] {
            let name = format!("{tool}-{goos}-{goarch}");
            let o = run(
                &area,
                &exe,
                &dir,
                &["build", "-o", bins.join(&name).to_str().unwrap(), "."],
                &[("GOOS", goos), ("GOARCH", goarch)],
                "",
            );
            assert!(o.status.success(), "{tool} build {target}: {}", text(&o));
            names.push(name);
        }
    }
    std::fs::write(bins.join("sub/notes.txt"), "not a binary\n").unwrap();
    std::fs::write(bins.join("script.sh"), "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(
        bins.join("script.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::fs::copy(common::go_binary(), bins.join("sub/go")).unwrap();
    // A build setting that go quotes, and characters go's JSON escapes.
    for (tool, exe) in [("go", common::go_binary()), ("gob", common::gob_binary())] {
        let o = run(
            &area,
            &exe,
            &dir,
            &[
                "build",
                "-ldflags=-X 'main.v=<a & b>' -s",
                "-o",
                bins.join(format!("{tool}-ldflags")).to_str().unwrap(),
                ".",
            ],
            &[],
            "",
        );
        assert!(o.status.success(), "{tool} build -ldflags: {}", text(&o));
        names.push(format!("{tool}-ldflags"));
    }
    let mut argv: Vec<String> = vec!["version".into(), "-m".into()];
    argv.extend(names.iter().map(|n| format!("out/bins/{n}")));
    argv.extend(["out/bins/script.sh".into(), "out/bins/missing".into()]);
    let m: Vec<&str> = argv.iter().map(String::as_str).collect();
    let mut plain = m.clone();
    plain.remove(1);
    let mut json = m.clone();
    json.insert(2, "-json");
    let rows = [
        row(&m, Cmp::All),
        row(&plain, Cmp::All),
        row(&json, Cmp::All),
        row(&["version", "out/bins"], Cmp::All),
        row(&["version", "-v", "out/bins"], Cmp::All),
        row(&["version", "-m", "out/bins/sub"], Cmp::All),
        row(&["version", "-m", "out/bins/sub/notes.txt"], Cmp::All),
        row(&["version", "-m"], Cmp::All),
        row(&["version", "-json"], Cmp::All),
        row(&["version", "-json", "out/bins/go-linux-amd64"], Cmp::All),
    ];
    let failures = check(&area, &area.root, &rows, &|| {});
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The table is not vacuous: every binary but wasm has its build info.
    let o = run(&area, &common::gob_binary(), &area.root, &m, &[], "");
    assert_eq!(out(&o).matches("\tpath\texample.com/hello\n").count(), 8);
}

#[test]
fn clean_like_go() {
    let area = Area::new("cmds-clean");
    let dir = fixture(&area, "clean");
    let outside = area.path("outside");
    std::fs::create_dir_all(&outside).unwrap();
    // What go build and go test leave behind, made again before each run.
    let litter = || {
        for f in [
            "hello",
            "hello.test",
            "main",
            "x.o",
            "a.out",
            "keep.txt",
            "lib/lib.a",
            "lib/lib.test",
            "lib/lib",
        ] {
            std::fs::write(dir.join(f), "").unwrap();
        }
    };
    let rows = [
        row(&["clean", "-n"], Cmp::All),
        row(&["clean", "-n", "-i", "-r", "."], Cmp::All),
        row(&["clean", "-n", "./lib", "./bad"], Cmp::All),
        row(&["clean", "-n", "./..."], Cmp::All),
        row(&["clean", "-x", "./..."], Cmp::All),
        row(&["clean", "-n", "-modcache"], Cmp::All),
        row(&["clean", "-testcache"], Cmp::All),
        row(&["clean", "-cache", "."], Cmp::All),
        row(&["clean", "-modcache", "./lib"], Cmp::All),
        row(&["clean", "-frob"], Cmp::FirstErrLine),
    ];
    let mut failures = check(&area, &dir, &rows, &litter);
    // What is left after a real clean: the same files.
    let mut left = Vec::new();
    for exe in [common::go_binary(), common::gob_binary()] {
        litter();
        let o = run(&area, &exe, &dir, &["clean", "-r", "./..."], &[], "");
        left.push((o.status.code(), tree(&dir)));
    }
    if left[0] != left[1] {
        failures.push(format!(
            "after clean -r ./...: go {:?}, gob {:?}",
            left[0], left[1]
        ));
    }
    // Outside a module, no flags: nothing to do, and no error.
    failures.extend(check(&area, &outside, &[row(&["clean"], Cmp::All)], &|| {}));
    // -cache: gob's own cache emptied.
    let o = run(
        &area,
        &common::gob_binary(),
        &dir,
        &["build", "-o", "/dev/null", "."],
        &[],
        "",
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run(
        &area,
        &common::gob_binary(),
        &dir,
        &["clean", "-cache"],
        &[],
        "",
    );
    assert!(o.status.success(), "{}", text(&o));
    let blobs = tree(&area.path("gobcache/blobs"));
    assert!(blobs.is_empty(), "left in the cache: {blobs:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// go's help output read as gob's: `go help`, `usage: go …`, `Run 'go help …'`.
fn help_as_gob(s: &str) -> String {
    s.replace("go help", "gob help")
        .replace("usage: go ", "usage: gob ")
        .replace("\ngo ", "\ngob ")
        .replace("Go is a tool for managing Go source code.", "")
}

/// Pins (#14 item 8): help as go gives it. `gob help CMD` prints the usage
/// line and the text on stdout (exit 0); `gob CMD -h` (any spelling, any
/// value) prints the usage line and where the help is on stderr (exit 2);
/// an unknown topic gets go's words; a bare `gob` prints the overview on
/// stderr (exit 2). The old code printed clap's help with `--tags` and
/// exited 0 for `-h`.
#[test]
fn help_like_go() {
    let area = Area::new("cmds-help");
    let dir = area.root.clone();
    let mut failures = Vec::new();
    let rows: &[(&[&str], Cmp)] = &[
        (&["help", "frob"], Cmp::All),
        (&["help", "build", "extra"], Cmp::All),
        (&["help", "help"], Cmp::All),
        (&["build", "-h"], Cmp::All),
        (&["build", "-help"], Cmp::All),
        (&["build", "--help"], Cmp::All),
        (&["build", "-h=false"], Cmp::All),
        (&["build", "-x", "-help", "."], Cmp::All),
        (&["run", "-h"], Cmp::All),
        (&["install", "-help"], Cmp::All),
        (&["list", "-h"], Cmp::All),
        (&["clean", "-h"], Cmp::All),
        (&["version", "-h"], Cmp::All),
        // go env also takes -changed, -u and -w.
        (&["env", "-h"], Cmp::Status),
        (&["help"], Cmp::Status),
        (&["help", "build"], Cmp::Status),
        (&[], Cmp::Status),
        (&["-h"], Cmp::Status),
        (&["--help"], Cmp::Status),
    ];
    for (args, cmp) in rows {
        let go = run(&area, &common::go_binary(), &dir, args, &[], "");
        let gob = run(&area, &common::gob_binary(), &dir, args, &[], "");
        let same = go.status.code() == gob.status.code()
            && go.stdout.is_empty() == gob.stdout.is_empty()
            && go.stderr.is_empty() == gob.stderr.is_empty()
            && (*cmp != Cmp::All || help_as_gob(&text(&go)) == text(&gob));
        if !same {
            failures.push(format!(
                "{args:?}:\n  go  ({:?}): {}\n  gob ({:?}): {}",
                go.status.code(),
                text(&go),
                gob.status.code(),
                text(&gob)
            ));
        }
    }
    // The help names go's flags with one dash and explains them.
    let o = run(
        &area,
        &common::gob_binary(),
        &dir,
        &["help", "build"],
        &[],
        "",
    );
    let h = out(&o);
    for want in [
        "usage: gob build [-o output] [build flags] [packages]\n",
        "\t-ldflags '[pattern=]arg list'\n",
        "\t-tags tag,list\n",
        "The -o flag forces build to write",
        "\t--hermetic\n",
    ] {
        if !h.contains(want) {
            failures.push(format!("gob help build lacks {want:?}:\n{h}"));
        }
    }
    if h.contains("--tags") || h.contains("--ldflags") {
        failures.push(format!(
            "gob help build spells go flags with two dashes:\n{h}"
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Pins (#14, done when): README's usage section quotes the usage line that
/// `gob help` prints for every command.
#[test]
fn readme_quotes_every_usage_line() {
    let area = Area::new("cmds-readme");
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).unwrap();
    let o = run(&area, &common::gob_binary(), &area.root, &["help"], &[], "");
    let commands: Vec<String> = out(&o)
        .lines()
        .filter_map(|l| l.strip_prefix('\t'))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "gob")
        .map(str::to_string)
        .collect();
    assert!(commands.len() >= 10, "{commands:?}");
    let mut missing = Vec::new();
    for c in &commands {
        let o = run(
            &area,
            &common::gob_binary(),
            &area.root,
            &["help", c],
            &[],
            "",
        );
        let usage = first_line(&out(&o))
            .trim_start_matches("usage: ")
            .to_string();
        if !readme.contains(&usage) {
            missing.push(usage);
        }
    }
    assert!(
        missing.is_empty(),
        "README.md does not show these usage lines:\n{}",
        missing.join("\n")
    );
}
