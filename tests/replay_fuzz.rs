//! The replay fuzz targets' bodies on stable (`replay/fuzz`): every seed
//! trace of `replay/fuzz/seeds` (real traces of the fixtures) and every
//! regression of `replay/fuzz/regressions` through the reader body and the
//! `trace_replay_plan` body (the checks, selection and `Spawn` conversion
//! `gob replay` does before running a tool), and mutations of each seed
//! through the plan body. Nothing may panic; what a plan would run stays
//! inside the replay directory and the toolchain.

#[path = "../replay/fuzz/fuzz_targets/body.rs"]
mod body;
#[path = "../replay/fuzz/fuzz_targets/mutate.rs"]
mod mutate;
#[path = "../replay/fuzz/fuzz_targets/plan_body.rs"]
mod plan_body;

use mutate::{files, mutate, Rng};

fn env(name: &str) -> plan_body::Env {
    let base = std::env::temp_dir().join(format!("gob-replay-fuzz-{name}-{}", std::process::id()));
    plan_body::Env::new(&base)
}

#[test]
fn seeds_and_regressions_through_both_bodies() {
    let env = env("seeds");
    for dir in ["replay/fuzz/seeds", "replay/fuzz/regressions"] {
        for (_, data) in files(dir) {
            body::run(&data);
            body::run_plain(&data);
            plan_body::run_both(&env, &data);
        }
    }
}

/// Real traces plan their actions (the seeds are not rejected wholesale):
/// self-contained ones from their blobs, the digest-only `two-d`'s first
/// from the `--src` tree the body sets up (its second reads the first's
/// output, which only running the first would put in the store).
#[test]
fn seed_traces_plan() {
    let env = env("plans");
    for (name, want) in [
        ("calc.cbor", 1),
        ("tiny.cbor", 1),
        ("two.cbor", 2),
        ("two-d.cbor", 1),
    ] {
        let path = format!("{}/replay/fuzz/seeds/{name}", env!("CARGO_MANIFEST_DIR"));
        let n = plan_body::run(&env, &std::fs::read(path).unwrap());
        assert_eq!(n, want, "{name}: spawns planned");
    }
}

#[test]
fn mutated_seeds_through_the_plan() {
    let env = env("mutated");
    let mut rng = Rng(0x7e1a_7e1a_7e1a_7e1a);
    for (_, seed) in files("replay/fuzz/seeds") {
        let plain = zstd::stream::decode_all(&seed[..]).unwrap_or_default();
        for _ in 0..100 {
            let _ = plan_body::run(&env, &mutate(&mut rng, &seed));
            plan_body::run_both(&env, &mutate(&mut rng, &plain));
        }
    }
}
