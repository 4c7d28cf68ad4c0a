//! Runs `sbx-helper true` N times in one mode with M inputs, printing the mean (for strace/perf).
//!
//! Usage: `one_run [full|namespaces|landlock|none] [N] [M]`
#[path = "../tests/common/mod.rs"]
mod common;
fn main() {
    let mode = match std::env::args().nth(1).as_deref() {
        Some("namespaces") => gob_sandbox::Mode::Namespaces,
        Some("landlock") => gob_sandbox::Mode::Landlock,
        Some("none") => gob_sandbox::Mode::None,
        _ => gob_sandbox::Mode::Full,
    };
    let n: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let sb = gob_sandbox::Sandbox::new(mode).unwrap();
    let mut pol = common::policy(mode, &["true"]);
    let inputs: usize = std::env::args()
        .nth(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let scratch = common::Scratch::new("one");
    for i in 0..inputs {
        let f = scratch.file(&format!("in/f{i:05}"), "x");
        let inside = if mode.remaps_paths() {
            format!("/in/f{i:05}").into()
        } else {
            f.clone()
        };
        pol.inputs.push(gob_sandbox::Bind { host: f, inside });
    }
    // Let the input dir settle, as a module cache or GOROOT has (see groups.rs).
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let start = std::time::Instant::now();
    for _ in 0..n {
        let o = sb.run(&pol).unwrap();
        assert_eq!(o.status, gob_sandbox::ExecStatus::Exited(0));
    }
    eprintln!("{:?} per run", start.elapsed() / n as u32);
}
