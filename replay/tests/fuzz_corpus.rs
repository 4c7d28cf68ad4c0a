//! The fuzz target's body on stable: a corpus of mutated traces (mutated
//! both compressed and decompressed, then recompressed so the mutations
//! reach the CBOR and trace layers). Nothing may panic, and every error
//! after the header names where it happened.
mod common;

#[path = "../fuzz/fuzz_targets/body.rs"]
mod body;

use common::*;
use gob_replay::schema::*;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: [u8; 12] = [
    0x00, 0x01, 0x17, 0x18, 0x1b, 0x1f, 0x5b, 0x7f, 0x9b, 0xbb, 0xff, 0xbf,
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        if v.is_empty() {
            v.push(rng.next() as u8);
            continue;
        }
        let i = rng.below(v.len());
        match rng.below(7) {
            0 => v[i] ^= 1 << rng.below(8),
            1 => v[i] = rng.next() as u8,
            2 => v[i] = INTERESTING[rng.below(INTERESTING.len())],
            3 => v.truncate(i),
            4 => {
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                v.splice(i..i, bytes);
            }
            5 => {
                let end = (i + 1 + rng.below(64)).min(v.len());
                let chunk = v[i..end].to_vec();
                let at = rng.below(v.len());
                v.splice(at..at, chunk);
            }
            _ => {
                let end = (i + 1 + rng.below(16)).min(v.len());
                v.drain(i..end);
            }
        }
    }
    v
}

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
