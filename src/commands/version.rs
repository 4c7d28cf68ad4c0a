//! `gob version`: gob's version and the Go toolchain it would use.

use crate::toolchain::{Toolchain, ToolchainError};

/// What `gob version` prints: `gob VERSION`, then ` with goX.Y.Z GOOS/GOARCH
/// at GOROOT` when a toolchain is found. gob's own version never depends on
/// finding one: without a toolchain the line ends after the version and the
/// reason is returned for a note on stderr.
pub fn version(toolchain: Result<&Toolchain, &ToolchainError>) -> (String, Option<String>) {
    let gob = format!("gob {}", env!("CARGO_PKG_VERSION"));
    match toolchain {
        Ok(tc) => (
            format!(
                "{gob} with {} {}/{} at {}",
                tc.version_string,
                tc.host_goos,
                tc.host_goarch,
                tc.goroot.display()
            ),
            None,
        ),
        Err(e) => (gob, Some(format!("no Go toolchain: {e}"))),
    }
}
