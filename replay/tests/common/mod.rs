//! Shared fixtures: a plausible header and actions, and a raw trace builder
//! for hand-made (hostile) streams.
#![allow(dead_code)]

use gob_replay::schema::*;
use gob_replay::{Limits, TraceError, TraceReader, TraceWriter};

pub fn digest(seed: &str) -> Digest {
    Digest::of(seed.as_bytes())
}

pub fn header() -> Header {
    Header {
        format: FORMAT.into(),
        version: VERSION,
        gob_version: "0.1.0".into(),
        target: Platform {
            os: "linux".into(),
            arch: "amd64".into(),
        },
        target_env: vec![("GOAMD64".into(), "v1".into())],
        go_version: "go1.27.3".into(),
        tool_platform: Platform {
            os: "linux".into(),
            arch: "amd64".into(),
        },
        tools: ["compile", "asm", "link", "gob-internal-pack"]
            .iter()
            .map(|n| ToolId {
                name: (*n).into(),
                digest: digest(n),
                size: 12_345_678,
            })
            .collect(),
        host: Platform {
            os: "linux".into(),
            arch: "amd64".into(),
        },
        roots: vec![
            Root {
                inside: "/goroot".into(),
                kind: "goroot".into(),
            },
            Root {
                inside: "/mod/example.com/hello".into(),
                kind: "module".into(),
            },
        ],
        patterns: vec!["./...".into()],
        blobs: true,
    }
}

/// A compile action with `n_inputs` inputs whose paths are about 60 bytes.
pub fn compile(index: u32, package: &str, deps: Vec<u32>, n_inputs: usize) -> ActionRecord {
    let inputs = (0..n_inputs)
        .map(|i| {
            let path = format!("/goroot/src/{package}/internal_file_number_{i:03}_of_pkg.go");
            FileRef {
                size: 1000 + i as u64 * 37,
                digest: digest(&path),
                path,
            }
        })
        .collect();
    ActionRecord {
        index,
        kind: "compile".into(),
        package: package.into(),
        deps,
        tool: "compile".into(),
        argv: vec![
            "-o".into(),
            format!("/work/b{index:03}/_pkg_.a"),
            "-trimpath".into(),
            format!("/work/b{index:03}=>"),
            "-p".into(),
            package.into(),
            "-lang=go1.27".into(),
            "-std".into(),
            "-complete".into(),
            "-buildid".into(),
            "abcdefabcdef/abcdefabcdef".into(),
            "-goversion".into(),
            "go1.27.3".into(),
            "-c=2".into(),
            "-nolocalimports".into(),
            "-importcfg".into(),
            format!("/work/b{index:03}/importcfg"),
            "-pack".into(),
        ],
        env: vec![
            ("GOROOT".into(), "/goroot".into()),
            ("GOOS".into(), "linux".into()),
            ("GOARCH".into(), "amd64".into()),
            ("GOAMD64".into(), "v1".into()),
            ("PATH".into(), "/usr/bin:/bin".into()),
            ("HOME".into(), "/nonexistent".into()),
            ("TMPDIR".into(), format!("/work/b{index:03}/tmp")),
        ],
        cwd: format!("/work/b{index:03}"),
        inputs,
        outputs: vec![OutputRef {
            name: "_pkg_.a".into(),
            file: FileRef {
                path: format!("/work/b{index:03}/_pkg_.a"),
                size: 123_456,
                digest: digest(&format!("out {package}")),
            },
            exec: false,
        }],
        status: Status::Exited(0),
        stdout: Vec::new(),
        stderr: Vec::new(),
        wall_ns: 123_456_789,
        cpu_ns: 234_567_890,
        cached: false,
        key: digest(&format!("key {package}")),
        sandbox: Some(SandboxInfo {
            mode: "full".into(),
            landlock_abi: Some(4),
        }),
    }
}

/// A small complete trace: a header, three blobs, four actions (every
/// status, a cache hit, stdout/stderr, an executable output), End.
pub fn small_trace_records() -> (Header, Vec<Record>) {
    let h = header();
    let mut records = Vec::new();
    for text in [
        "package fmt\n",
        "package os\n",
        "package main\nfunc main() {}\n",
    ] {
        records.push(Record::Blob(Blob {
            digest: Digest::of(text.as_bytes()),
            data: text.as_bytes().to_vec(),
        }));
    }
    let mut a0 = compile(0, "fmt", vec![], 3);
    a0.stderr = b"fmt/print.go:1: warning\n".to_vec();
    let mut a1 = compile(1, "os", vec![], 2);
    a1.cached = true;
    a1.sandbox = None;
    a1.cpu_ns = 0;
    let mut a2 = compile(3, "example.com/hello", vec![0, 1], 1);
    a2.status = Status::Error("missing output".into());
    a2.stdout = vec![0, 1, 2, 255];
    let mut a3 = compile(4, "example.com/hello", vec![3], 0);
    a3.kind = "link".into();
    a3.tool = "link".into();
    a3.status = Status::Signaled(9);
    a3.outputs[0].name = "a.out".into();
    a3.outputs[0].exec = true;
    a3.sandbox = Some(SandboxInfo {
        mode: "landlock".into(),
        landlock_abi: None,
    });
    let mut a4 = compile(5, "example.com/other", vec![], 0);
    a4.status = Status::TimedOut;
    a4.deps = vec![];
    a4.env = vec![];
    a4.argv = vec![];
    a4.outputs = vec![];
    a4.wall_ns = 0;
    a4.cpu_ns = 0;
    a4.sandbox = None;
    for a in [a0, a1, a2, a3, a4] {
        records.push(Record::Action(a));
    }
    records.push(Record::End(End {
        actions: 5,
        success: false,
    }));
    (h, records)
}

/// Writes `records` after `h` with the real writer.
pub fn write(h: &Header, records: &[Record]) -> Vec<u8> {
    let mut w = TraceWriter::new(Vec::new(), h).expect("header");
    for r in records {
        match r {
            Record::Header(_) => panic!("header in records"),
            Record::Blob(b) => {
                w.write_blob(&b.digest, &b.data).expect("blob");
            }
            Record::Action(a) => w.write_action(a).expect("action"),
            Record::End(e) => return w.finish(e.clone()).expect("finish"),
        }
    }
    // No End: what a crashed build leaves (everything flushed).
    w.flush().expect("flush");
    w.get_ref().clone()
}

pub fn small_trace() -> Vec<u8> {
    let (h, r) = small_trace_records();
    write(&h, &r)
}

/// Reads every record; returns them and the error that stopped it, if any.
pub fn read_all(
    bytes: &[u8],
    limits: Limits,
) -> Result<(Header, Vec<Record>, Option<TraceError>), TraceError> {
    let mut r = TraceReader::with_limits(bytes, limits)?;
    let h = r.header().clone();
    let mut records = Vec::new();
    let mut err = None;
    for rec in &mut r {
        match rec {
            Ok(x) => records.push(x),
            Err(e) => err = Some(e),
        }
    }
    Ok((h, records, err))
}

// ---------------------------------------------------------------------------
// Hand-made streams.

/// A minimal CBOR encoder for building hostile records.
pub struct Cbor(pub Vec<u8>);

impl Cbor {
    pub fn new() -> Self {
        Cbor(Vec::new())
    }
    pub fn head(&mut self, major: u8, n: u64) -> &mut Self {
        let m = major << 5;
        if n < 24 {
            self.0.push(m | n as u8);
        } else if n <= 0xff {
            self.0.extend_from_slice(&[m | 24, n as u8]);
        } else if n <= 0xffff {
            self.0.push(m | 25);
            self.0.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            self.0.push(m | 26);
            self.0.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            self.0.push(m | 27);
            self.0.extend_from_slice(&n.to_be_bytes());
        }
        self
    }
    pub fn uint(&mut self, n: u64) -> &mut Self {
        self.head(0, n)
    }
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.head(3, s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
        self
    }
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.head(2, b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }
    pub fn array(&mut self, n: u64) -> &mut Self {
        self.head(4, n)
    }
    pub fn map(&mut self, n: u64) -> &mut Self {
        self.head(5, n)
    }
    pub fn bool(&mut self, b: bool) -> &mut Self {
        self.0.push(if b { 0xf5 } else { 0xf4 });
        self
    }
    pub fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }
    pub fn done(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

/// A minimal valid header record body with this format and version.
pub fn header_record(format: &str, version: u64) -> Vec<u8> {
    Cbor::new()
        .array(2)
        .uint(0)
        .map(2)
        .uint(0)
        .str(format)
        .uint(1)
        .uint(version)
        .done()
}

/// Frames each record as a CBOR byte string (the version-1 framing).
pub fn frame(records: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Cbor::new();
    for r in records {
        out.bytes(r);
    }
    out.done()
}

/// zstd-compresses `plain` as one frame, the way the writer does.
pub fn compress(plain: &[u8]) -> Vec<u8> {
    zstd::encode_all(plain, 3).expect("compress")
}

/// The decompressed stream of a trace (of an unfinished one, as far as it goes).
pub fn decompress(trace: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut d = zstd::stream::read::Decoder::new(trace).expect("decoder");
    if let Err(e) = d.read_to_end(&mut out) {
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}");
    }
    out
}

/// Splits a decompressed stream into its records' contents.
pub fn split_records(mut plain: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !plain.is_empty() {
        let b = plain[0];
        assert_eq!(b >> 5, 2, "framing");
        let ai = b & 31;
        let (len, head) = match ai {
            0..=23 => (ai as usize, 1),
            24 => (plain[1] as usize, 2),
            25 => (u16::from_be_bytes([plain[1], plain[2]]) as usize, 3),
            26 => (
                u32::from_be_bytes(plain[1..5].try_into().unwrap()) as usize,
                5,
            ),
            _ => panic!("framing"),
        };
        out.push(plain[head..head + len].to_vec());
        plain = &plain[head + len..];
    }
    out
}

/// Replaces the one occurrence of `from` with `to` (same length) in `hay`.
pub fn replace_once(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let i = hay
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern present");
    let mut out = hay.to_vec();
    out[i..i + from.len()].copy_from_slice(to);
    out
}

/// The reader's verdict on a hand-made decompressed stream (compressed the
/// way the writer does): the first error, from open or from a record.
pub fn first_error(plain: &[u8]) -> Option<TraceError> {
    first_error_with(plain, Limits::default())
}

pub fn first_error_with(plain: &[u8], limits: Limits) -> Option<TraceError> {
    match read_all(&compress(plain), limits) {
        Err(e) => Some(e),
        Ok((_, _, e)) => e,
    }
}

/// Replaces every occurrence of `from` with `to` (same length) in `hay`.
pub fn replace_all(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = hay.to_vec();
    let mut i = 0;
    let mut found = false;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            i += from.len();
            found = true;
        } else {
            i += 1;
        }
    }
    assert!(found, "pattern present");
    out
}
