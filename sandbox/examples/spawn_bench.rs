//! Per-run overhead of each sandbox mode against a bare `std::process::Command`
//! spawn, for 1, 100 and 10,000 declared inputs (files in a temp dir).
//!
//! Runs the static test helper (`sbx-helper true`). Prints one line per
//! (mode, inputs) with p50 and p99 wall milliseconds from spawn to reaping.
//!
//! Usage: `cargo run --release -p gob-sandbox --example spawn_bench [ITERS] [COUNTS...]`
//! (default 300 iterations, counts 1 100 10000; fewer iterations at 10,000).
//! Modes the host cannot provide are reported as unavailable.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use gob_sandbox::{Bind, Mode, Sandbox};

/// p50 and p99 of `samples`, in milliseconds.
fn percentiles(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[i].as_secs_f64() * 1e3
    };
    (at(0.50), at(0.99))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let iters: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(300);
    let counts: Vec<usize> = {
        let c: Vec<usize> = args.filter_map(|s| s.parse().ok()).collect();
        if c.is_empty() {
            vec![1, 100, 10_000]
        } else {
            c
        }
    };
    let helper = common::helper().to_path_buf();
    println!("helper: {}", helper.display());
    println!(
        "{:<12} {:>7} {:>6} {:>9} {:>9}",
        "mode", "inputs", "runs", "p50 ms", "p99 ms"
    );

    for &n in &counts {
        let scratch = common::Scratch::new(&format!("bench-{n}"));
        let files: Vec<PathBuf> = (0..n)
            .map(|i| scratch.file(&format!("in/f{i:05}"), "x"))
            .collect();
        // Inputs of a build (GOROOT, the module cache) are old: let the
        // directory settle so that its listing may be cached (see groups.rs).
        std::thread::sleep(std::time::Duration::from_millis(2100));
        let runs = if n >= 10_000 {
            iters.clamp(20, 100)
        } else {
            iters
        };

        // Bare spawn.
        let mut t = Vec::with_capacity(runs);
        for i in 0..runs + 10 {
            let s = Instant::now();
            let st = std::process::Command::new(&helper)
                .arg("true")
                .status()
                .expect("spawn helper");
            assert!(st.success());
            if i >= 10 {
                t.push(s.elapsed());
            }
        }
        let (p50, p99) = percentiles(&mut t);
        println!(
            "{:<12} {:>7} {:>6} {:>9.3} {:>9.3}",
            "bare", n, runs, p50, p99
        );

        for mode in [Mode::Full, Mode::Namespaces, Mode::Landlock, Mode::None] {
            let sb = match Sandbox::new(mode) {
                Ok(s) => s,
                Err(e) => {
                    println!("{:<12} {:>7} unavailable: {e}", mode.name(), n);
                    continue;
                }
            };
            let mut pol = common::policy(mode, &["true"]);
            pol.inputs
                .extend(files.iter().enumerate().map(|(i, f)| Bind {
                    host: f.clone(),
                    inside: if mode.remaps_paths() {
                        PathBuf::from(format!("/in/f{i:05}"))
                    } else {
                        f.clone()
                    },
                }));
            let mut t = Vec::with_capacity(runs);
            for i in 0..runs + 10 {
                let s = Instant::now();
                let o = sb.run(&pol).expect("run");
                assert_eq!(
                    o.status,
                    gob_sandbox::ExecStatus::Exited(0),
                    "{}",
                    String::from_utf8_lossy(&o.stderr)
                );
                if i >= 10 {
                    t.push(s.elapsed());
                }
            }
            let (p50, p99) = percentiles(&mut t);
            println!(
                "{:<12} {:>7} {:>6} {:>9.3} {:>9.3}",
                mode.name(),
                n,
                runs,
                p50,
                p99
            );
        }
    }
}
