//! The command line as go users write it (issue #14).

mod common;

use std::process::Command;

use common::area::{text, Area};

/// Item 7: `gob version` names gob first and succeeds without a toolchain.
#[test]
fn version_without_a_toolchain() {
    let area = Area::new("cli-version");
    let o = Command::new(common::gob_binary())
        .arg("version")
        .env_clear()
        .env("PATH", area.path("home"))
        .env("HOME", area.path("home"))
        .env("GOROOT", area.path("no-such-goroot"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.trim_end(), format!("gob {}", env!("CARGO_PKG_VERSION")));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no-such-goroot"),
        "the note names what was tried: {}",
        text(&o)
    );
    let o = area.gob(&area.root, &["version"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .starts_with(&format!("gob {} with go1.", env!("CARGO_PKG_VERSION"))),
        "{}",
        text(&o)
    );
}
