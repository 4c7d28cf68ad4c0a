//! Feeds arbitrary bytes to the trace reader and everything downstream of it.
#![no_main]

mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    body::run(data);
    body::run_plain(data);
});
