//! gob-specific loader behaviour with no `go list` oracle: gob never downloads,
//! verifies the module cache against go.sum, and refuses bad configuration with
//! a message that names the thing at fault.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{gob_binary, goroot};

fn tempdir(tag: &str) -> PathBuf {
    let d =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("loader-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Runs `gob` with a clean environment: only what the test names.
fn gob(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(gob_binary());
    c.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// Runs `gob` with GOROOT set to the pinned toolchain, plus `env`.
fn gob_with_goroot(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let gr = goroot();
    let mut e: Vec<(&str, &str)> = vec![("GOROOT", gr.to_str().unwrap())];
    e.extend_from_slice(env);
    gob(dir, args, &e)
}

/// Runs `gob` in module `main` with the pinned GOROOT and `cache` as GOMODCACHE.
fn gob_in_module(main: &Path, cache: &Path, args: &[&str]) -> Output {
    gob_with_goroot(main, args, &[("GOMODCACHE", cache.to_str().unwrap())])
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A main module requiring example.com/dep v1.0.0, and a module cache holding it.
fn module_with_dep(root: &Path, gosum: Option<&str>, cache_has_dep: bool) -> (PathBuf, PathBuf) {
    let main = root.join("main");
    write(
        &main.join("go.mod"),
        "module example.com/main\n\ngo 1.22\n\nrequire example.com/dep v1.0.0\n",
    );
    write(
        &main.join("main.go"),
        "package main\n\nimport \"example.com/dep/x\"\n\nfunc main() { x.F() }\n",
    );
    let cache = root.join("modcache");
    std::fs::create_dir_all(&cache).unwrap();
    if cache_has_dep {
        let dep = cache.join("example.com/dep@v1.0.0");
        write(&dep.join("go.mod"), "module example.com/dep\n\ngo 1.22\n");
        write(&dep.join("x/x.go"), "package x\n\nfunc F() {}\n");
    }
    if let Some(sum) = gosum {
        write(&main.join("go.sum"), sum);
    }
    (main, cache)
}

fn dep_hash(cache: &Path) -> String {
    gob::load::modhash::hash_dir(
        &gob::load::files::Files::new(),
        &cache.join("example.com/dep@v1.0.0"),
        "example.com/dep@v1.0.0",
    )
    .unwrap()
}

#[test]
fn verified_module_cache_entry_loads() {
    let root = tempdir("ok");
    let (main, cache) = module_with_dep(&root, None, true);
    let h = dep_hash(&cache);
    write(
        &main.join("go.sum"),
        &format!("example.com/dep v1.0.0 {h}\n"),
    );
    let o = gob_in_module(&main, &cache, &["list", "-deps", "."]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.lines().any(|l| l == "example.com/dep/x"), "{out}");
    assert!(out.lines().any(|l| l == "example.com/main"), "{out}");
}

#[test]
fn module_missing_from_cache_says_go_mod_download() {
    let root = tempdir("missing");
    let (main, cache) = module_with_dep(
        &root,
        Some("example.com/dep v1.0.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"),
        false,
    );
    // As with go list, a broken dependency fails -deps (a plain list of "." succeeds).
    let o = gob_in_module(&main, &cache, &["list", "-deps", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("example.com/dep@v1.0.0: module not in the module cache"),
        "{t}"
    );
    assert!(t.contains("run 'go mod download example.com/dep'"), "{t}");
    // With -e the error is reported on the package and nothing is fatal.
    let o = gob_in_module(&main, &cache, &["list", "-e", "-deps", "-json", "."]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("go mod download example.com/dep"));
    assert!(
        !cache.join("example.com").exists(),
        "gob must never write the module cache"
    );
}

#[test]
fn checksum_mismatch_is_refused() {
    let root = tempdir("mismatch");
    let wrong = "example.com/dep v1.0.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    let (main, cache) = module_with_dep(&root, Some(wrong), true);
    let o = gob_in_module(&main, &cache, &["list", "-deps", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("example.com/dep@v1.0.0: verifying module: checksum mismatch"),
        "{t}"
    );
    assert!(
        t.contains(&format!("downloaded: {}", dep_hash(&cache))),
        "{t}"
    );
    assert!(t.contains("go.sum:     h1:AAAA"), "{t}");
}

#[test]
fn tampered_cache_with_stale_ziphash_is_caught_by_ziphash() {
    // cmd/go trusts the .ziphash written at download time; so does gob, and a
    // .ziphash that disagrees with go.sum is a mismatch.
    let root = tempdir("ziphash");
    let (main, cache) = module_with_dep(&root, None, true);
    let h = dep_hash(&cache);
    write(
        &main.join("go.sum"),
        &format!("example.com/dep v1.0.0 {h}\n"),
    );
    write(
        &cache.join("cache/download/example.com/dep/@v/v1.0.0.ziphash"),
        "h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=\n",
    );
    let o = gob_in_module(&main, &cache, &["list", "-deps", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("checksum mismatch"), "{}", text(&o));
}

#[test]
fn missing_gosum_entry_names_the_package() {
    let root = tempdir("nosum");
    let (main, cache) = module_with_dep(&root, None, true);
    let o = gob_in_module(&main, &cache, &["list", "-deps", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("main.go:3:8: missing go.sum entry for module providing package example.com/dep/x (imported by example.com/main); to add:\n\tgo get example.com/main"),
        "{t}"
    );
}

#[test]
fn bad_toolchains_are_named() {
    let root = tempdir("tc");
    let o = gob(&root, &["list", "--goroot", "/nonexistent/go", "std"], &[]);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.contains("/nonexistent/go: not a Go toolchain"), "{t}");

    let old = root.join("go119");
    write(
        &old.join("VERSION"),
        "go1.19.13\ntime 2023-01-01T00:00:00Z\n",
    );
    std::fs::create_dir_all(old.join("pkg/tool/linux_amd64")).unwrap();
    let o = gob(
        &root,
        &["list", "std"],
        &[("GOROOT", old.to_str().unwrap())],
    );
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.contains("Go go1.19.13 is not supported by gob"), "{t}");
    assert!(t.contains("ci/install-go"), "{t}");

    // No GOROOT and no `go` on PATH (Debian's golang-go, pulled in by the
    // corpus packages, puts one in /usr/bin).
    let empty = root.join("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let o = gob(
        &root,
        &["list", "std"],
        &[("PATH", empty.to_str().unwrap())],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("no Go toolchain"), "{}", text(&o));
}

#[test]
fn bad_environment_is_named() {
    let dir = goroot().join("src");
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("GOOS", "plan10")], "GOOS"),
        (&[("GOARCH", "vax")], "GOARCH"),
        (&[("GOAMD64", "v9")], "GOAMD64"),
        (&[("GOFLAGS", "-mod=bogus")], "-mod=\"bogus\""),
        // go strips the "no" prefix before reporting, and so does gob.
        (
            &[("GOEXPERIMENT", "nosuchexperiment")],
            "unknown GOEXPERIMENT suchexperiment",
        ),
    ];
    for (env, want) in cases {
        let o = gob_with_goroot(&dir, &["list", "fmt"], env);
        assert_eq!(o.status.code(), Some(1), "{env:?}: {}", text(&o));
        assert!(
            text(&o).contains(want),
            "{env:?}: want {want:?} in {}",
            text(&o)
        );
    }
}

/// A go.mod, a dependency's go.mod or vendor/modules.txt asking for a newer Go
/// than the toolchain is refused with go's own message (gob never switches
/// toolchains, so it answers as go does with GOTOOLCHAIN=local), for list and
/// build alike; gob once built such a module silently with -lang=go1.27.
#[test]
fn go_line_newer_than_the_toolchain_is_refused_like_go() {
    let root = tempdir("toonew");
    let run = |dir: &Path, args: &[&str]| {
        let gr = goroot();
        let cache = root.join("gobcache");
        let gob_out = gob_with_goroot(
            dir,
            args,
            &[
                ("GOFLAGS", "-mod=mod"),
                ("GOBCACHE", cache.to_str().unwrap()),
            ],
        );
        let go_out = Command::new(gr.join("bin/go"))
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &root)
            .env("GOROOT", &gr)
            .env("GOTOOLCHAIN", "local")
            .env("GOPROXY", "off")
            .env("GOFLAGS", "-mod=mod")
            .env("GOCACHE", root.join("gocache"))
            .env("CGO_ENABLED", "0")
            .output()
            .unwrap();
        (gob_out, go_out)
    };
    let check = |dir: &Path, want: &str| {
        for args in [
            &["list", "-e", "./..."][..],
            &["build", "-o", "/dev/null", "."][..],
        ] {
            let (ours, theirs) = run(dir, args);
            let go_err = String::from_utf8_lossy(&theirs.stderr).into_owned();
            assert_eq!(
                go_err,
                format!("go: {want}\n"),
                "go {args:?} in {}",
                dir.display()
            );
            assert_eq!(ours.status.code(), Some(1), "gob {args:?}: {}", text(&ours));
            assert_eq!(
                String::from_utf8_lossy(&ours.stderr),
                format!("gob: {want}\n"),
                "gob {args:?} in {}",
                dir.display()
            );
        }
    };
    let main = |dir: &Path, go: &str, extra: &str| {
        write(
            &dir.join("go.mod"),
            &format!("module example.com/m\n\ngo {go}\n{extra}"),
        );
        write(
            &dir.join("m.go"),
            "package main\n\nimport _ \"example.com/d\"\n\nfunc main() {}\n",
        );
    };
    let dep = |dir: &Path, go: &str| {
        write(
            &dir.join("go.mod"),
            &format!("module example.com/d\n\ngo {go}\n"),
        );
        write(&dir.join("d.go"), "package d\n");
    };

    // The main module.
    let m1 = root.join("main");
    main(
        &m1,
        "1.99",
        "\nrequire example.com/d v0.0.0\n\nreplace example.com/d => ./d\n",
    );
    dep(&m1.join("d"), "1.22");
    check(
        &m1,
        "go.mod requires go >= 1.99 (running go 1.27.3; GOTOOLCHAIN=local)",
    );

    // A dependency, through a local replace; a release candidate of the running
    // version is older than it, and a language version too.
    let m2 = root.join("dep");
    main(
        &m2,
        "1.22",
        "\nrequire example.com/d v0.0.0\n\nreplace example.com/d => ./d\n",
    );
    dep(&m2.join("d"), "1.27.4");
    check(
        &m2,
        "module ./d requires go >= 1.27.4 (running go 1.27.3; GOTOOLCHAIN=local)",
    );
    for older in ["1.27", "1.27rc1", "1.27.3"] {
        dep(&m2.join("d"), older);
        let o = gob_with_goroot(&m2, &["list", "./..."], &[]);
        assert!(o.status.success(), "go {older}: {}", text(&o));
    }
}
