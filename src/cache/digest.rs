//! Content digests and action keys: the two names the cache files things under.

use std::fmt;
use std::io::{self, Read};

/// The BLAKE3-256 digest of a file's content. Displays as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest of `bytes`.
    pub fn of_bytes(bytes: &[u8]) -> Digest {
        Digest(*blake3::hash(bytes).as_bytes())
    }

    /// Wraps raw digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Digest {
        Digest(bytes)
    }

    /// The raw digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses 64 hex digits; `None` for anything else.
    pub fn from_hex(s: &str) -> Option<Digest> {
        parse_hex(s).map(Digest)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

/// The name of an action's results in the cache: BLAKE3 over the canonical text
/// written by [`ActionKeyBuilder`]. Displays as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionKey([u8; 32]);

impl ActionKey {
    /// Parses 64 hex digits; `None` for anything else.
    pub fn from_hex(s: &str) -> Option<ActionKey> {
        parse_hex(s).map(ActionKey)
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for ActionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, &self.0)
    }
}

impl fmt::Debug for ActionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActionKey({self})")
    }
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8; 32]) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = [0u8; 64];
    for (i, b) in bytes.iter().enumerate() {
        s[2 * i] = HEX[(b >> 4) as usize];
        s[2 * i + 1] = HEX[(b & 15) as usize];
    }
    // Only ASCII hex digits were written.
    f.write_str(std::str::from_utf8(&s).map_err(|_| fmt::Error)?)
}

fn parse_hex(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let nib = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = nib(b[2 * i])? << 4 | nib(b[2 * i + 1])?;
    }
    Some(out)
}

/// Hashes everything `r` yields: (digest, length).
pub(crate) fn hash_reader(r: &mut impl Read) -> io::Result<(Digest, u64)> {
    hash_copy(r, &mut |_: &[u8]| Ok::<(), io::Error>(())).map_err(|e| match e {
        HashCopyError::Read(e) | HashCopyError::Sink(e) => e,
    })
}

/// A failure of [`hash_copy`]: reading the source, or the sink.
#[derive(Debug)]
pub(crate) enum HashCopyError<E> {
    /// Reading failed.
    Read(io::Error),
    /// The sink failed.
    Sink(E),
}

/// The one file hasher: hashes everything `r` yields, handing each chunk to
/// `sink` on the way (a copy that verifies what it copies reads every byte
/// once). Returns (digest, length).
pub(crate) fn hash_copy<E>(
    r: &mut impl Read,
    sink: &mut dyn FnMut(&[u8]) -> Result<(), E>,
) -> Result<(Digest, u64), HashCopyError<E>> {
    let mut h = blake3::Hasher::new();
    let mut buf = vec![0u8; 128 * 1024];
    let mut n = 0u64;
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => {
                h.update(&buf[..k]);
                sink(&buf[..k]).map_err(HashCopyError::Sink)?;
                n += k as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(HashCopyError::Read(e)),
        }
    }
    Ok((Digest(*h.finalize().as_bytes()), n))
}

/// Collects everything that can change an action's outputs and hashes it into an
/// [`ActionKey`].
///
/// What goes into the key, and why:
/// - the tool's identity: the digest of the tool binary (or, for steps gob does
///   itself, a digest naming gob's implementation of the step), because a new
///   compiler makes new objects;
/// - the normalized argv, in order, because flags and file order change outputs;
/// - every environment entry that reaches the tool (`GOOS`, `GOARCH`, `GOAMD64`,
///   …; nothing host-specific), because tools read them;
/// - every input as (path inside the action, content digest), because the tool
///   reads the bytes and may record the path (in debug info, in errors).
///
/// Environment entries are sorted by name and inputs by path (stable sorts, so
/// duplicates are kept in call order): both are sets whose discovery order must
/// not change the key. Argv keeps its order.
///
/// The canonical text is versioned (`gob-action-key 1`) and every variable-length
/// field is written as `<byte length>:<bytes>`, each record opening with its tag:
/// the text can be parsed back unambiguously, so two different inputs never
/// produce the same text (an argument `"a b"` differs from arguments `"a"`, `"b"`;
/// an argument never looks like an environment entry).
#[derive(Clone, Debug)]
pub struct ActionKeyBuilder {
    /// The tool's identity.
    tool: Digest,
    /// Argv, in order.
    args: Vec<Vec<u8>>,
    /// Environment entries (name, value).
    env: Vec<(Vec<u8>, Vec<u8>)>,
    /// Inputs (path inside the action, content digest).
    inputs: Vec<(Vec<u8>, Digest)>,
}

impl ActionKeyBuilder {
    /// Starts a key for a run of the tool whose binary has digest `tool`.
    pub fn new(tool: Digest) -> ActionKeyBuilder {
        ActionKeyBuilder {
            tool,
            args: Vec::new(),
            env: Vec::new(),
            inputs: Vec::new(),
        }
    }

    /// Appends one argv element (normalized: no host paths).
    pub fn arg(&mut self, arg: impl AsRef<[u8]>) -> &mut Self {
        self.args.push(arg.as_ref().to_vec());
        self
    }

    /// Adds an environment entry the tool sees.
    pub fn env(&mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> &mut Self {
        self.env
            .push((name.as_ref().to_vec(), value.as_ref().to_vec()));
        self
    }

    /// Adds an input: where the tool sees it and the digest of its content.
    pub fn input(&mut self, path: impl AsRef<[u8]>, digest: Digest) -> &mut Self {
        self.inputs.push((path.as_ref().to_vec(), digest));
        self
    }

    /// The canonical text the key is the hash of (for `gob` debugging output).
    pub fn canonical_text(&self) -> Vec<u8> {
        fn field(t: &mut Vec<u8>, b: &[u8]) {
            t.extend_from_slice(b.len().to_string().as_bytes());
            t.push(b':');
            t.extend_from_slice(b);
        }
        let mut t = Vec::new();
        t.extend_from_slice(b"gob-action-key 1\n");
        t.extend_from_slice(format!("tool {}\n", self.tool).as_bytes());
        for a in &self.args {
            t.extend_from_slice(b"arg ");
            field(&mut t, a);
            t.push(b'\n');
        }
        let mut env: Vec<&(Vec<u8>, Vec<u8>)> = self.env.iter().collect();
        env.sort_by(|a, b| a.0.cmp(&b.0));
        for (k, v) in env {
            t.extend_from_slice(b"env ");
            field(&mut t, k);
            t.push(b' ');
            field(&mut t, v);
            t.push(b'\n');
        }
        let mut inputs: Vec<&(Vec<u8>, Digest)> = self.inputs.iter().collect();
        inputs.sort_by(|a, b| a.0.cmp(&b.0));
        for (p, d) in inputs {
            t.extend_from_slice(b"input ");
            field(&mut t, p);
            t.extend_from_slice(format!(" {d}\n").as_bytes());
        }
        t
    }

    /// The key.
    pub fn finish(&self) -> ActionKey {
        ActionKey(*blake3::hash(&self.canonical_text()).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool() -> Digest {
        Digest::of_bytes(b"compile")
    }

    #[test]
    fn cache_hex_round_trip_and_rejects() {
        let d = Digest::of_bytes(b"hello");
        let hex = d.to_string();
        assert_eq!(hex.len(), 64);
        assert_eq!(hex, blake3::hash(b"hello").to_hex().as_str());
        assert_eq!(Digest::from_hex(&hex), Some(d));
        assert_eq!(Digest::from_hex(&hex.to_uppercase()), None);
        assert_eq!(Digest::from_hex(&hex[1..]), None);
        assert_eq!(Digest::from_hex(&format!("{}g", &hex[1..])), None);
    }

    #[test]
    fn cache_key_fields_do_not_run_together() {
        let k = |f: &dyn Fn(&mut ActionKeyBuilder)| {
            let mut b = ActionKeyBuilder::new(tool());
            f(&mut b);
            b.finish()
        };
        let keys = [
            k(&|b| {
                b.arg("a b");
            }),
            k(&|b| {
                b.arg("a").arg("b");
            }),
            k(&|b| {
                b.arg("a\narg b");
            }),
            k(&|b| {
                b.env("A", "B=C");
            }),
            k(&|b| {
                b.env("A=B", "C");
            }),
            k(&|b| {
                b.arg("A=B=C");
            }),
            k(&|b| {
                b.input("x", tool());
            }),
            k(&|b| {
                b.input("y", tool());
            }),
            k(&|b| {
                b.input("x", Digest::of_bytes(b""));
            }),
            k(&|_| {}),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        // A different tool is a different key.
        assert_ne!(
            keys[9],
            ActionKeyBuilder::new(Digest::of_bytes(b"link")).finish()
        );
    }

    #[test]
    fn cache_key_sorts_sets_but_not_argv() {
        let mut a = ActionKeyBuilder::new(tool());
        a.arg("-p")
            .arg("x")
            .env("GOOS", "linux")
            .env("GOARCH", "amd64");
        a.input("/src/a.go", Digest::of_bytes(b"a"))
            .input("/src/b.go", Digest::of_bytes(b"b"));
        let mut b = ActionKeyBuilder::new(tool());
        b.input("/src/b.go", Digest::of_bytes(b"b"))
            .input("/src/a.go", Digest::of_bytes(b"a"));
        b.env("GOARCH", "amd64")
            .env("GOOS", "linux")
            .arg("-p")
            .arg("x");
        assert_eq!(a.finish(), b.finish());
        let mut c = ActionKeyBuilder::new(tool());
        c.arg("x")
            .arg("-p")
            .env("GOOS", "linux")
            .env("GOARCH", "amd64");
        c.input("/src/a.go", Digest::of_bytes(b"a"))
            .input("/src/b.go", Digest::of_bytes(b"b"));
        assert_ne!(a.finish(), c.finish());
        let text = String::from_utf8(a.canonical_text()).unwrap_or_default();
        let want = format!(
            "gob-action-key 1\ntool {}\narg 2:-p\narg 1:x\nenv 6:GOARCH 5:amd64\nenv 4:GOOS 5:linux\n\
             input 9:/src/a.go {}\ninput 9:/src/b.go {}\n",
            tool(),
            Digest::of_bytes(b"a"),
            Digest::of_bytes(b"b")
        );
        assert_eq!(text, want);
    }
}
