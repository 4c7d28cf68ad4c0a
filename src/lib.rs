//! gob: a hermetic, sandboxed builder for Go code.
//!
//! See ARCHITECTURE.md for the codemap. The binary (`main.rs`) is a thin CLI
//! dispatching to [`commands`], which drive the engine (`load`, `plan`, `exec`,
//! `cache`, `memo`); the sandbox and the trace format live in their own crates.

pub mod buildinfo;
pub mod cache;
pub mod cc;
pub mod cli;
pub mod commands;
pub mod config;
pub mod dist;
pub mod events;
pub mod exec;
pub mod gotemplate;
pub mod help;
pub mod limits;
pub mod load;
pub mod memo;
pub mod plan;
pub mod toolchain;
pub mod workdir;

#[cfg(test)]
pub(crate) mod testutil {
    //! Shared helpers for tests that use the real Go toolchain as an oracle.
    use std::path::PathBuf;

    /// The pinned toolchain: `$GOB_TEST_GOROOT`, else the project-local install.
    /// Missing is a failure, never a skip: `ci/test` installs it first.
    pub fn goroot() -> PathBuf {
        let p = match std::env::var_os("GOB_TEST_GOROOT") {
            Some(p) => PathBuf::from(p),
            None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join(".gob/toolchain/go1.27.3.linux-amd64/go"),
        };
        assert!(
            p.join("bin/go").is_file(),
            "no Go toolchain at {}: run ci/install-go (ci/test does) or set GOB_TEST_GOROOT",
            p.display()
        );
        p
    }

    /// `$GOROOT/bin/go` of [`goroot`].
    pub fn go_binary() -> PathBuf {
        goroot().join("bin/go")
    }
}
