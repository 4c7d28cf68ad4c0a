//! A deterministic, dependency-free mutator for the stable runs of the fuzz
//! bodies (`replay/tests/fuzz_corpus.rs`, `tests/replay_fuzz.rs`); the fuzz
//! targets themselves use libFuzzer's.
#![allow(dead_code)]

use std::path::PathBuf;

/// xorshift64*: deterministic, dependency-free.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: [u8; 12] = [
    0x00, 0x01, 0x17, 0x18, 0x1b, 0x1f, 0x5b, 0x7f, 0x9b, 0xbb, 0xff, 0xbf,
];

/// One to four byte-level mutations of `input`.
pub fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
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

/// The files of `dir`, relative to the tested crate (`fuzz/seeds` from
/// `replay/`), sorted by name, but its README.md: (name, bytes).
pub fn files(dir: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| !p.ends_with("README.md"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    v.sort();
    v
}
