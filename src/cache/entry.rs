//! Action entries: what an action produced, as written under `actions/`.
//!
//! The file is canonical text ending in a checksum of everything before it:
//!
//! ```text
//! gob-action-entry 2
//! key <action key>
//! mode <sandbox mode that produced it: full|namespaces|landlock|none>
//! log <digest> <size>
//! out <digest> <size> <x|-> <name length>:<name>
//! …
//! sum <BLAKE3 of all preceding bytes>
//! ```
//!
//! An entry of another version (version 1 had no mode) is corrupt: a miss.

use super::digest::{ActionKey, Digest};
use gob_sandbox::Mode;

/// How much a sandbox mode guarantees about what a run wrote, weakest first.
/// Landlock alone lets a process outlive the tool (a daemon that can swap an
/// output before it is collected); without any isolation anything can.
fn strength(m: Mode) -> u8 {
    match m {
        Mode::None => 0,
        Mode::Landlock => 1,
        Mode::Namespaces => 2,
        Mode::Full => 3,
    }
}

/// Whether an entry produced under `produced` may answer a lookup made under
/// `wanted`: only one made at least as strongly (a weaker build may reuse a
/// stronger entry, never the other way).
pub fn serves(produced: Mode, wanted: Mode) -> bool {
    strength(produced) >= strength(wanted)
}

fn mode_by_name(name: &str) -> Option<Mode> {
    [Mode::Full, Mode::Namespaces, Mode::Landlock, Mode::None]
        .into_iter()
        .find(|m| m.name() == name)
}

/// One output of a cached action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputEntry {
    /// The name the action declared (`_pkg_.a`, `a.out`, …).
    pub name: String,
    /// Content digest; the blob is `blobs/<2 hex>/<digest>`.
    pub digest: Digest,
    /// Length in bytes.
    pub size: u64,
    /// Whether the output was executable.
    pub executable: bool,
}

/// A cached action: its outputs and the tool's output. Every blob it names was
/// verified (length and BLAKE3) by the `get` or `put` that returned it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionEntry {
    /// The action.
    pub key: ActionKey,
    /// The sandbox mode the action ran in (see [`serves`]).
    pub mode: Mode,
    /// The outputs, in the order `put` was given them.
    pub outputs: Vec<OutputEntry>,
    /// Digest of the tool's combined stdout and stderr.
    pub log_digest: Digest,
    /// The tool's combined stdout and stderr.
    pub log: Vec<u8>,
}

impl ActionEntry {
    /// The output called `name`.
    pub fn output(&self, name: &str) -> Option<&OutputEntry> {
        self.outputs.iter().find(|o| o.name == name)
    }
}

const MAGIC: &str = "gob-action-entry 2\n";
/// `sum ` + 64 hex digits + newline.
const SUM_LEN: usize = 4 + 64 + 1;

/// The entry's file content.
pub(crate) fn encode(e: &ActionEntry) -> Vec<u8> {
    let mut s = String::from(MAGIC);
    s.push_str(&format!("key {}\n", e.key));
    s.push_str(&format!("mode {}\n", e.mode.name()));
    s.push_str(&format!("log {} {}\n", e.log_digest, e.log.len()));
    for o in &e.outputs {
        let x = if o.executable { 'x' } else { '-' };
        s.push_str(&format!(
            "out {} {} {x} {}:{}\n",
            o.digest,
            o.size,
            o.name.len(),
            o.name
        ));
    }
    let sum = blake3::hash(s.as_bytes());
    s.push_str(&format!("sum {}\n", sum.to_hex()));
    s.into_bytes()
}

/// Parses an entry file that should hold `key`'s entry. Returns the entry with an
/// empty `log` and the log's size, or what is wrong with the file.
pub(crate) fn decode(bytes: &[u8], key: &ActionKey) -> Result<(ActionEntry, u64), String> {
    if bytes.len() < MAGIC.len() + SUM_LEN {
        return Err(format!("truncated: {} bytes", bytes.len()));
    }
    let (body, tail) = bytes.split_at(bytes.len() - SUM_LEN);
    let sum = tail
        .strip_prefix(b"sum ")
        .and_then(|t| t.strip_suffix(b"\n"))
        .and_then(|h| std::str::from_utf8(h).ok())
        .and_then(Digest::from_hex)
        .ok_or("no checksum line at the end (truncated?)")?;
    if sum.as_bytes() != blake3::hash(body).as_bytes() {
        return Err("checksum mismatch".into());
    }
    let text = std::str::from_utf8(body).map_err(|_| "not UTF-8")?;
    let mut p = Parser { rest: text };
    p.lit(MAGIC)?;
    p.lit("key ")?;
    let got = ActionKey::from_hex(p.take(64)?).ok_or("bad key")?;
    if got != *key {
        return Err(format!("entry is for action {got}, not {key}"));
    }
    p.lit("\nmode ")?;
    let name = p.rest.split('\n').next().unwrap_or("");
    let mode = mode_by_name(name).ok_or_else(|| format!("bad mode {name:?}"))?;
    p.take(name.len())?;
    p.lit("\nlog ")?;
    let log_digest = p.digest()?;
    p.lit(" ")?;
    let log_size = p.number()?;
    p.lit("\n")?;
    let mut outputs = Vec::new();
    while !p.rest.is_empty() {
        p.lit("out ")?;
        let digest = p.digest()?;
        p.lit(" ")?;
        let size = p.number()?;
        let executable = match p.take(3)? {
            " x " => true,
            " - " => false,
            other => return Err(format!("bad executable flag {other:?}")),
        };
        let len = p.number()?;
        p.lit(":")?;
        let name = p
            .take(usize::try_from(len).map_err(|_| "name too long")?)?
            .to_string();
        p.lit("\n")?;
        outputs.push(OutputEntry {
            name,
            digest,
            size,
            executable,
        });
    }
    let entry = ActionEntry {
        key: *key,
        mode,
        outputs,
        log_digest,
        log: Vec::new(),
    };
    Ok((entry, log_size))
}

/// A strict cursor over the entry text.
struct Parser<'a> {
    rest: &'a str,
}

impl<'a> Parser<'a> {
    fn lit(&mut self, s: &str) -> Result<(), String> {
        match self.rest.strip_prefix(s) {
            Some(r) => {
                self.rest = r;
                Ok(())
            }
            None => Err(format!(
                "expected {s:?} at {:?}",
                self.rest.chars().take(20).collect::<String>()
            )),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a str, String> {
        match (self.rest.get(..n), self.rest.get(n..)) {
            (Some(a), Some(b)) => {
                self.rest = b;
                Ok(a)
            }
            _ => Err("unexpected end of entry".into()),
        }
    }

    fn digest(&mut self) -> Result<Digest, String> {
        let h = self.take(64)?;
        Digest::from_hex(h).ok_or_else(|| format!("bad digest {h:?}"))
    }

    /// A decimal number without sign or leading zeros.
    fn number(&mut self) -> Result<u64, String> {
        let end = self
            .rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(self.rest.len());
        let digits = self.take(end)?;
        if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
            return Err(format!("bad number {digits:?}"));
        }
        digits.parse().map_err(|_| format!("bad number {digits:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::ActionKeyBuilder;

    fn sample() -> ActionEntry {
        let key = ActionKeyBuilder::new(Digest::of_bytes(b"t"))
            .arg("x")
            .finish();
        ActionEntry {
            key,
            mode: Mode::Landlock,
            outputs: vec![
                OutputEntry {
                    name: "_pkg_.a".into(),
                    digest: Digest::of_bytes(b"archive"),
                    size: 7,
                    executable: false,
                },
                OutputEntry {
                    name: "odd name\nwith newline:and colon".into(),
                    digest: Digest::of_bytes(b"bin"),
                    size: 3,
                    executable: true,
                },
            ],
            log_digest: Digest::of_bytes(b"warning\n"),
            log: b"warning\n".to_vec(),
        }
    }

    #[test]
    fn cache_entry_round_trips() {
        let e = sample();
        let (got, log_size) = match decode(&encode(&e), &e.key) {
            Ok(x) => x,
            Err(d) => panic!("decode failed: {d}"),
        };
        assert_eq!(log_size, 8);
        assert_eq!(
            got,
            ActionEntry {
                log: Vec::new(),
                ..e
            }
        );
    }

    #[test]
    fn cache_entry_damage_is_detected() {
        let e = sample();
        let good = encode(&e);
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x01;
            assert!(
                decode(&bad, &e.key).is_err(),
                "flip at byte {i} not detected"
            );
        }
        for n in 0..good.len() {
            assert!(
                decode(&good[..n], &e.key).is_err(),
                "truncation to {n} bytes not detected"
            );
        }
        let other = ActionKeyBuilder::new(Digest::of_bytes(b"t"))
            .arg("y")
            .finish();
        let v1 = String::from_utf8_lossy(&good).replace("entry 2\n", "entry 1\n");
        assert!(
            decode(v1.as_bytes(), &e.key).is_err(),
            "old version accepted"
        );
        match decode(&good, &other) {
            Err(d) => assert_eq!(d, format!("entry is for action {}, not {other}", e.key)),
            Ok(_) => panic!("entry accepted under another key"),
        }
    }
}

#[cfg(test)]
mod mode_tests {
    use super::*;

    #[test]
    fn cache_entry_serves_only_modes_at_most_as_strong() {
        let all = [Mode::None, Mode::Landlock, Mode::Namespaces, Mode::Full];
        for (i, produced) in all.iter().enumerate() {
            for (j, wanted) in all.iter().enumerate() {
                assert_eq!(
                    serves(*produced, *wanted),
                    i >= j,
                    "{produced:?} for {wanted:?}"
                );
            }
            assert_eq!(mode_by_name(produced.name()), Some(*produced));
        }
    }
}
