//! Parent-side validation cost per run for N inputs in one dir (a policy whose
//! cwd is invalid fails after every other check: no process is started).
#[path = "../tests/common/mod.rs"]
mod common;
fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10000);
    let scratch = common::Scratch::new("validate");
    for mode in [gob_sandbox::Mode::Full, gob_sandbox::Mode::Landlock] {
        let sb = gob_sandbox::Sandbox::new(mode).unwrap();
        let mut pol = common::policy(mode, &["true"]);
        for i in 0..n {
            let f = scratch.path(&format!("in/f{i:05}"));
            if !f.exists() {
                scratch.file(&format!("in/f{i:05}"), "x");
            }
            let inside = if mode.remaps_paths() {
                format!("/in/f{i:05}").into()
            } else {
                f.clone()
            };
            pol.inputs.push(gob_sandbox::Bind { host: f, inside });
        }
        pol.cwd = "/nowhere/x".into();
        if !mode.remaps_paths() {
            pol.cwd = "relative".into();
        }
        std::thread::sleep(std::time::Duration::from_millis(2100));
        let mut t: Vec<_> = (0..200)
            .map(|_| {
                let s = std::time::Instant::now();
                assert!(sb.run(&pol).is_err());
                s.elapsed()
            })
            .collect();
        t.sort();
        println!("{mode:?} {n} inputs: validation p50 {:?}", t[100]);
    }
}
