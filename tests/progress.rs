//! Progress on a terminal (issue #14 item 10): the build bar names what is
//! running (it named the last package to finish: `86/128 math` sat there
//! while runtime compiled); `gob audit` says which of its builds the bar is
//! drawing; `gob replay` draws a bar at all (it printed nothing for 48 s of
//! a 49 s replay). Each command runs under `script`, which gives it a
//! pseudo-terminal, and the test reads what was drawn.

mod common;

use std::path::Path;
use std::process::Command;

use common::area::{text, Area};

/// Runs gob under `script` (a pseudo-terminal as stdout and stderr) in
/// `dir`; returns what the terminal received.
fn on_a_terminal(area: &Area, dir: &Path, args: &[&str]) -> String {
    let quoted: Vec<String> = std::iter::once(common::gob_binary().display().to_string())
        .chain(args.iter().map(|a| a.to_string()))
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    let o = Command::new("script")
        .args(["-qfec", &quoted.join(" "), "/dev/null"])
        .current_dir(dir)
        .env_clear()
        .envs(area.env("amd64"))
        .env("TERM", "xterm")
        .output()
        .expect("script (util-linux)");
    assert!(o.status.success(), "gob {args:?}: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn progress_names_what_runs_and_which_build() {
    let area = Area::new("progress");
    let hello = common::repo_root().join("fixtures/hello");
    let trace = area.path("out/hello.cbor");
    let bin = area.path("out/hello");
    let shown = on_a_terminal(
        &area,
        &hello,
        &[
            "build",
            "--trace",
            trace.to_str().unwrap(),
            "-o",
            bin.to_str().unwrap(),
            ".",
        ],
    );
    // The bar names a running action by kind and package, and says how many
    // run beside it; runtime's compile is the longest of hello's.
    assert!(shown.contains("compile runtime"), "{shown}");
    assert!(shown.contains(" running)"), "{shown}");

    let shown = on_a_terminal(&area, &hello, &["replay", trace.to_str().unwrap()]);
    assert!(shown.contains("replay: "), "{shown}");
    assert!(shown.contains("compile runtime"), "{shown}");

    let shown = on_a_terminal(&area, &hello, &["audit", "-o", bin.to_str().unwrap(), "."]);
    assert!(shown.contains("build a: "), "{shown}");
    assert!(shown.contains("build b: "), "{shown}");
}
