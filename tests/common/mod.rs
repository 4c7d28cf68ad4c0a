//! Helpers shared by the integration tests (`mod common;` in each test file).
//!
//! Each test binary compiles its own copy and uses only part of it.
#![allow(dead_code)]

pub mod area;
pub mod modcache;

use std::path::PathBuf;

/// GOOS/GOARCH pairs the differential tests compare on.
pub const PLATFORMS: &[(&str, &str)] = &[
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "arm64"),
    ("windows", "amd64"),
    ("freebsd", "amd64"),
    ("js", "wasm"),
];

/// Where `ci/install-go` puts the pinned toolchain, relative to the repo root.
pub const PINNED_GOROOT: &str = ".gob/toolchain/go1.27.3.linux-amd64/go";

/// The root of the gob repository (the crate's manifest directory).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The pinned GOROOT: `$GOB_TEST_GOROOT`, else `<repo>/.gob/toolchain/...`.
/// A missing toolchain is a failure (ci/test installs it), never a skip.
pub fn goroot() -> PathBuf {
    let root = match std::env::var_os("GOB_TEST_GOROOT") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo_root().join(PINNED_GOROOT),
    };
    let go = root.join("bin").join("go");
    if !go.is_file() {
        panic!(
            "no Go toolchain at {} (looked for {}).\n\
             Run `ci/install-go` in the repo root to install the pinned toolchain, \
             or point GOB_TEST_GOROOT at a GOROOT.",
            root.display(),
            go.display()
        );
    }
    root
}

/// The `go` command of the pinned toolchain (panics like [`goroot`] when missing).
pub fn go_binary() -> PathBuf {
    goroot().join("bin").join("go")
}

/// The `gob` binary built by Cargo for this test run.
pub fn gob_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gob"))
}
