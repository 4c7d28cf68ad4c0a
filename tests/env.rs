//! `gob env` against `go env` (issue #14 item 6): every variable go prints,
//! with the same value, in the same layout, in and out of a module, for
//! several targets, with a go/env file (`go env -w`'s) and the variables
//! that move the user's directories; names answered one a line, unknown
//! ones as an empty line; `-json` in go's layout.
//!
//! cgo's variables (issue #15 item 3): CGO_ENABLED unset (go's default: on
//! for the host with a C compiler on PATH), 1, 0, an invalid value, with CC
//! missing, a bare name not on PATH, `zig cc`, no compiler on PATH, CC only
//! in the go/env file, and cross targets; a relative CC refused as go
//! refuses it. The other rows run with CGO_ENABLED=0, as the harness sets it.
//!
//! Differences, each explained in docs/build-vs-go.md: gob adds `GOBCACHE`
//! (its own cache); go's `GOGCCFLAGS` names a random work directory, masked
//! here.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::area::Area;

fn run(exe: &Path, dir: &Path, args: &[&str], env: &[(String, String)]) -> (i32, String) {
    let o = Command::new(exe)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().cloned())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", exe.display()));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{} {args:?}: {text}{}",
        exe.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code().unwrap_or(-1), mask(&text))
}

/// go's work directory in GOGCCFLAGS is random; gob shows a fixed one.
fn mask(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("-ffile-prefix-map=") {
        let (head, tail) = rest.split_at(i + "-ffile-prefix-map=".len());
        out.push_str(head);
        let end = tail.find("=/tmp/go-build").unwrap_or(0);
        out.push_str("WORK");
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

fn json(text: &str) -> BTreeMap<String, String> {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

struct Row {
    name: &'static str,
    dir: &'static str,
    set: Vec<(&'static str, String)>,
    unset: Vec<&'static str>,
}

fn env_of(area: &Area, row: &Row) -> Vec<(String, String)> {
    let mut env = area.env("amd64");
    env.retain(|(k, _)| !row.unset.contains(&k.as_str()));
    for (k, v) in &row.set {
        env.retain(|(x, _)| x != k);
        env.push((k.to_string(), v.clone()));
    }
    env
}

#[test]
fn gob_env_prints_what_go_env_prints() {
    let area = Area::new("env");
    let hello = common::repo_root().join("fixtures/hello");
    let outside = area.path("tmp");
    // A go/env file, as `go env -w GOFLAGS=-trimpath GOPRIVATE=...` writes.
    let goenv = area.path("out/goenv");
    std::fs::write(
        &goenv,
        "GOFLAGS=-trimpath\nGOPRIVATE=example.com/private\n# a comment\nHOME=/not/read\nGOAMD64=v3\n",
    )
    .unwrap();
    // A telemetry mode with a date, as `go telemetry on` writes.
    let config = area.path("out/config");
    std::fs::create_dir_all(config.join("go/telemetry")).unwrap();
    std::fs::write(config.join("go/telemetry/mode"), "off 2026-01-02\n").unwrap();
    // cgo's settings: off in a go/env file; CC there (go looks for the
    // default compiler all the same); a PATH without a C compiler.
    let cgo_off_file = area.path("out/goenv-cgo-off");
    std::fs::write(&cgo_off_file, "CGO_ENABLED=0\n").unwrap();
    let cc_file = area.path("out/goenv-cc");
    std::fs::write(&cc_file, "CC=/usr/bin/gcc\n").unwrap();
    let no_cc = area.path("out/no-cc-bin");
    std::fs::create_dir_all(&no_cc).unwrap();
    let rows = vec![
        Row {
            name: "module",
            dir: "hello",
            set: vec![],
            unset: vec![],
        },
        Row {
            name: "outside a module",
            dir: "outside",
            set: vec![],
            unset: vec![],
        },
        Row {
            name: "windows/386",
            dir: "hello",
            set: vec![("GOOS", "windows".into()), ("GOARCH", "386".into())],
            unset: vec![],
        },
        Row {
            name: "darwin/arm64",
            dir: "hello",
            set: vec![("GOOS", "darwin".into()), ("GOARCH", "arm64".into())],
            unset: vec![],
        },
        Row {
            name: "linux/arm GOARM=6",
            dir: "hello",
            set: vec![("GOARCH", "arm".into()), ("GOARM", "6".into())],
            unset: vec![],
        },
        Row {
            name: "js/wasm",
            dir: "hello",
            set: vec![("GOOS", "js".into()), ("GOARCH", "wasm".into())],
            unset: vec![],
        },
        Row {
            name: "go/env file",
            dir: "hello",
            set: vec![("GOENV", goenv.display().to_string())],
            unset: vec![],
        },
        Row {
            name: "XDG dirs, GOWORK=off, settings",
            dir: "hello",
            set: vec![
                ("XDG_CONFIG_HOME", config.display().to_string()),
                (
                    "XDG_CACHE_HOME",
                    area.path("out/xdgcache").display().to_string(),
                ),
                ("GOWORK", "off".into()),
                ("GOPATH", format!("{}:/x/y", area.path("out/gp").display())),
                ("GONOSUMDB", "example.org".into()),
                ("GOPROXY", "off".into()),
                ("CC", "clang".into()),
                ("GODEBUG", "x=1".into()),
                ("GOEXPERIMENT", "fieldtrack".into()),
            ],
            unset: vec!["GOCACHE"],
        },
        Row {
            name: "no HOME",
            dir: "outside",
            set: vec![],
            unset: vec!["HOME", "GOMODCACHE"],
        },
        Row {
            name: "CGO_ENABLED unset",
            dir: "hello",
            set: vec![],
            unset: vec!["CGO_ENABLED"],
        },
        Row {
            name: "CGO_ENABLED=1",
            dir: "hello",
            set: vec![("CGO_ENABLED", "1".into())],
            unset: vec![],
        },
        Row {
            name: "CGO_ENABLED=yes (as unset)",
            dir: "hello",
            set: vec![("CGO_ENABLED", "yes".into())],
            unset: vec![],
        },
        Row {
            name: "CGO_ENABLED=yes over a go/env file's 0",
            dir: "hello",
            set: vec![
                ("CGO_ENABLED", "yes".into()),
                ("GOENV", cgo_off_file.display().to_string()),
            ],
            unset: vec![],
        },
        Row {
            name: "CC=/nonexistent",
            dir: "hello",
            set: vec![("CC", "/nonexistent".into())],
            unset: vec!["CGO_ENABLED"],
        },
        Row {
            name: "CC=no-such-cc",
            dir: "hello",
            set: vec![("CC", "no-such-cc".into()), ("CXX", "no-such-cxx".into())],
            unset: vec!["CGO_ENABLED"],
        },
        Row {
            name: "CC=zig cc",
            dir: "hello",
            set: vec![("CC", "zig cc".into()), ("CXX", "zig c++".into())],
            unset: vec!["CGO_ENABLED"],
        },
        Row {
            name: "no C compiler on PATH",
            dir: "hello",
            set: vec![("PATH", no_cc.display().to_string())],
            unset: vec!["CGO_ENABLED"],
        },
        Row {
            name: "no C compiler on PATH, CGO_ENABLED=1",
            dir: "hello",
            set: vec![
                ("PATH", no_cc.display().to_string()),
                ("CGO_ENABLED", "1".into()),
            ],
            unset: vec![],
        },
        Row {
            name: "no C compiler on PATH, CC only in the go/env file",
            dir: "hello",
            set: vec![
                ("PATH", no_cc.display().to_string()),
                ("GOENV", cc_file.display().to_string()),
            ],
            unset: vec!["CGO_ENABLED"],
        },
        Row {
            name: "cross to linux/arm64, CGO_ENABLED unset",
            dir: "hello",
            set: vec![("GOARCH", "arm64".into())],
            unset: vec!["CGO_ENABLED"],
        },
        Row {
            name: "cross to linux/arm64, CGO_ENABLED=1",
            dir: "hello",
            set: vec![("GOARCH", "arm64".into()), ("CGO_ENABLED", "1".into())],
            unset: vec![],
        },
        Row {
            name: "cross to windows/amd64, CGO_ENABLED unset",
            dir: "hello",
            set: vec![("GOOS", "windows".into())],
            unset: vec!["CGO_ENABLED"],
        },
    ];
    let go = common::go_binary();
    let gob = common::gob_binary();
    for row in &rows {
        let dir = match row.dir {
            "hello" => hello.clone(),
            _ => outside.clone(),
        };
        let env = env_of(&area, row);
        let (_, go_json) = run(&go, &dir, &["env", "-json"], &env);
        let (_, gob_json) = run(&gob, &dir, &["env", "-json"], &env);
        let want = json(&go_json);
        let mut got = json(&gob_json);
        assert!(
            got.remove("GOBCACHE").is_some(),
            "{}: no GOBCACHE",
            row.name
        );
        for (k, v) in &want {
            assert_eq!(got.get(k), Some(v), "{}: {k} differs (go {v:?})", row.name);
        }
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{}: the variables differ",
            row.name
        );
        // The plain layout, line for line (GOBCACHE's line aside).
        let (_, go_text) = run(&go, &dir, &["env"], &env);
        let (_, gob_text) = run(&gob, &dir, &["env"], &env);
        let gob_text: String = gob_text
            .lines()
            .filter(|l| !l.starts_with("GOBCACHE="))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(gob_text, go_text, "{}", row.name);
        // Names, known, unknown and absent from the list, one a line.
        let names = [
            "GOMOD",
            "FOO",
            "GOARM",
            "GOAMD64",
            "GOFLAGS",
            "GOWORK",
            "CGO_CFLAGS",
            "GOEXE",
            "GO_EXTLINK_ENABLED",
            "CGO_ENABLED",
            "CC",
            "CXX",
        ];
        let mut args = vec!["env"];
        args.extend(names);
        assert_eq!(
            run(&gob, &dir, &args, &env).1,
            run(&go, &dir, &args, &env).1,
            "{}: by name",
            row.name
        );
        args.insert(1, "-json");
        assert_eq!(
            run(&gob, &dir, &args, &env).1,
            run(&go, &dir, &args, &env).1,
            "{}: -json by name",
            row.name
        );
    }
}

/// A CC, CXX or FC named by a relative path is refused as go refuses it,
/// where go checks it: the full listing and the variables go computes with
/// its builder (GOGCCFLAGS…), not a plain `env GOOS`. So is a CC whose
/// quotes do not balance.
#[test]
fn a_relative_or_unsplittable_compiler_is_refused_as_go_refuses_it() {
    let area = Area::new("env-cc");
    let hello = common::repo_root().join("fixtures/hello");
    let cases: &[(&str, &str, &str)] = &[
        (
            "CC",
            "./gcc",
            "CC environment variable is relative; must be absolute path: ./gcc",
        ),
        (
            "CXX",
            "bin/g++ -O2",
            "CXX environment variable is relative; must be absolute path: bin/g++",
        ),
        (
            "FC",
            "'x",
            "FC environment variable could not be parsed: unterminated ' string",
        ),
    ];
    for (var, value, words) in cases {
        let env = area.env_with(&[(var, value)]);
        let go_ok = run(&common::go_binary(), &hello, &["env", "GOOS"], &env).1;
        let gob_ok = run(&common::gob_binary(), &hello, &["env", "GOOS"], &env).1;
        assert_eq!(gob_ok, go_ok, "{var}={value}: env GOOS");
        for args in [&["env"][..], &["env", "-json"], &["env", "GOGCCFLAGS"]] {
            for (exe, prefix) in [(common::go_binary(), "go"), (common::gob_binary(), "gob")] {
                let o = Command::new(&exe)
                    .args(args)
                    .current_dir(&hello)
                    .env_clear()
                    .envs(env.iter().cloned())
                    .output()
                    .unwrap();
                assert_eq!(o.status.code(), Some(1), "{prefix} {args:?} {var}={value}");
                assert_eq!(
                    common::area::first_stderr_line(&o),
                    format!("{prefix}: {words}"),
                    "{args:?} {var}={value}"
                );
            }
        }
    }
}

/// The go/env file is configuration gob uses, not only prints: GOFLAGS set
/// by `go env -w` reaches the build as it reaches go's (`-trimpath` in the
/// binary's build settings).
#[test]
fn the_go_env_file_configures_the_build() {
    let area = Area::new("env-file");
    let hello = common::repo_root().join("fixtures/hello");
    let goenv = area.path("out/goenv");
    std::fs::write(&goenv, "GOFLAGS=-trimpath\n").unwrap();
    let mut env = area.env("amd64");
    env.push(("GOENV".into(), goenv.display().to_string()));
    let bin = area.path("out/hello");
    let o = Command::new(common::gob_binary())
        .args(["build", "-o", bin.to_str().unwrap(), "."])
        .current_dir(&hello)
        .env_clear()
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, info) = run(
        &common::go_binary(),
        &hello,
        &["version", "-m", bin.to_str().unwrap()],
        &env,
    );
    assert!(info.contains("\tbuild\t-trimpath=true\n"), "{info}");
}
