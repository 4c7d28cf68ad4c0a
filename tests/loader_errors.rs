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

    let o = gob(&root, &["list", "std"], &[]);
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
        (
            &[("CGO_ENABLED", "1")],
            "CGO_ENABLED=\"1\": gob does not build cgo yet",
        ),
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
