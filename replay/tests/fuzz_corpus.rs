//! The `trace_reader` fuzz target's body on stable: the seed traces of
//! `fuzz/seeds` (real traces of the fixtures) and a corpus of mutated traces
//! (mutated both compressed and decompressed, then recompressed so the
//! mutations reach the CBOR and trace layers). Nothing may panic, and every
//! error after the header names where it happened.
mod common;

#[path = "../fuzz/fuzz_targets/body.rs"]
mod body;
#[path = "../fuzz/fuzz_targets/mutate.rs"]
mod mutate;

use common::*;
use gob_replay::schema::*;
use mutate::{files, mutate, Rng};

fn seeds() -> Vec<Vec<u8>> {
    let (h, records) = small_trace_records();
    let mut with_many = vec![];
    for i in 0..20u32 {
        let data = format!("blob {i}").repeat(i as usize + 1).into_bytes();
        with_many.push(Record::Blob(Blob {
            digest: Digest::of(&data),
            data,
        }));
        with_many.push(Record::Action(compile(
            i,
            &format!("p{}", i % 3),
            (i.saturating_sub(2)..i).collect(),
            3,
        )));
    }
    with_many.push(Record::End(End {
        actions: 20,
        success: true,
    }));
    vec![
        write(&h, &records),
        write(&h, &with_many),
        write(&h, &records[..6]),
    ]
}

fn check(data: &[u8]) {
    check_error(body::run(data));
    check_error(body::run_plain(data));
}

fn check_error(e: Option<gob_replay::TraceError>) {
    if let Some(e) = e {
        let before_header = matches!(
            e,
            gob_replay::TraceError::NotATrace { .. }
                | gob_replay::TraceError::WindowTooLarge { .. }
                | gob_replay::TraceError::WrongFormat { .. }
                | gob_replay::TraceError::WrongVersion { .. }
        );
        assert!(
            before_header || e.loc().is_some(),
            "error without a location: {e:?}"
        );
    }
}

/// Every seed reads, and so does each of its mutations.
#[test]
fn seed_traces() {
    let mut rng = Rng(0x5eed_5eed_5eed_5eed);
    for (name, seed) in files("fuzz/seeds") {
        if name.ends_with(".cbor") {
            // A truncated trace reads up to its cut and says so.
            let e = body::run(&seed);
            let incomplete = matches!(e, Some(gob_replay::TraceError::Incomplete { .. }));
            let expected = name.contains("truncated");
            assert!(
                e.is_none() || (expected && incomplete),
                "seed {name} does not read: {e:?}"
            );
        }
        check(&seed);
        for _ in 0..200 {
            check(&mutate(&mut rng, &seed));
        }
    }
}

#[test]
fn mutated_compressed_traces() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for seed in seeds() {
        check(&seed);
        for _ in 0..1500 {
            check(&mutate(&mut rng, &seed));
        }
    }
}

#[test]
fn mutated_decompressed_traces() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for seed in seeds() {
        let plain = decompress(&seed);
        for _ in 0..1500 {
            check(&compress(&mutate(&mut rng, &plain)));
        }
    }
}

#[test]
fn random_bytes() {
    let mut rng = Rng(42);
    for _ in 0..2000 {
        let n = rng.below(200);
        let mut v: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        if rng.below(2) == 0 {
            // Give it a valid zstd start half the time.
            v.splice(0..0, compress(&v.clone()));
        }
        check(&v);
    }
}

/// Writes the seed traces for the fuzzer:
/// `GOB_REPLAY_SEED_DIR=fuzz/corpus/trace_reader cargo test -p gob-replay --test fuzz_corpus -- --ignored`
#[test]
#[ignore]
fn write_seed_corpus() {
    let Ok(dir) = std::env::var("GOB_REPLAY_SEED_DIR") else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    for (i, s) in seeds().iter().enumerate() {
        std::fs::write(format!("{dir}/seed{i}"), s).unwrap();
        std::fs::write(format!("{dir}/plain{i}"), decompress(s)).unwrap();
    }
}
