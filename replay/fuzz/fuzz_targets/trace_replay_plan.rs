//! Feeds arbitrary bytes to everything `gob replay` does before it runs a
//! tool: the reader, the checks, the selection and each action's `Spawn`.
#![no_main]

#[allow(dead_code)]
mod body;
mod plan_body;

use std::sync::OnceLock;

static ENV: OnceLock<plan_body::Env> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let env = ENV.get_or_init(|| {
        let base = std::env::temp_dir().join(format!("gob-fuzz-plan-{}", std::process::id()));
        plan_body::Env::new(&base)
    });
    plan_body::run_both(env, data);
});
