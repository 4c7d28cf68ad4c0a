//! `gob version`: gob's version and the Go toolchain it would use.

use crate::load::LoadConfig;

/// The line `gob version` prints: `gob VERSION with goX.Y.Z GOOS/GOARCH at GOROOT`.
pub fn version(cfg: &LoadConfig) -> String {
    let tc = &cfg.toolchain;
    format!(
        "gob {} with {} {}/{} at {}",
        env!("CARGO_PKG_VERSION"),
        tc.version_string,
        tc.host_goos,
        tc.host_goarch,
        tc.goroot.display()
    )
}
