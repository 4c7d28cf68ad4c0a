//! CBOR encoding and bounded decoding of version-1 records.
//!
//! Every record is the CBOR array `[type, body]` where `type` is one of the
//! `T_*` constants and `body` a map with small unsigned integer keys (the
//! `K_*` constants of each record; `docs/trace-format.md` lists them). Only
//! definite lengths are written or accepted. Decoding works on one record's
//! bytes, already bounded by the framing: a declared length is checked
//! against the bytes left before anything is read, nothing is allocated from
//! it, and nesting, item counts and string lengths are capped by [`Limits`].

use crate::error::{Loc, TraceError};
use crate::reader::Limits;
use crate::schema::*;

/// Record types.
pub(crate) const T_HEADER: u64 = 0;
pub(crate) const T_BLOB: u64 = 1;
pub(crate) const T_ACTION: u64 = 2;
pub(crate) const T_END: u64 = 3;

// Header keys.
const H_FORMAT: u64 = 0;
const H_VERSION: u64 = 1;
const H_GOB_VERSION: u64 = 2;
const H_TARGET: u64 = 3;
const H_TARGET_ENV: u64 = 4;
const H_GO_VERSION: u64 = 5;
const H_TOOL_PLATFORM: u64 = 6;
const H_TOOLS: u64 = 7;
const H_HOST: u64 = 8;
const H_ROOTS: u64 = 9;
const H_PATTERNS: u64 = 10;
const H_BLOBS: u64 = 11;

// Platform keys.
const P_OS: u64 = 0;
const P_ARCH: u64 = 1;

// ToolId keys.
const TL_NAME: u64 = 0;
const TL_DIGEST: u64 = 1;
const TL_SIZE: u64 = 2;

// Root keys.
const R_INSIDE: u64 = 0;
const R_KIND: u64 = 1;

// FileRef keys.
const F_PATH: u64 = 0;
const F_SIZE: u64 = 1;
const F_DIGEST: u64 = 2;

// OutputRef keys.
const O_NAME: u64 = 0;
const O_FILE: u64 = 1;
const O_EXEC: u64 = 2;

// Status keys and kinds.
const S_KIND: u64 = 0;
const S_CODE: u64 = 1;
const S_MESSAGE: u64 = 2;
const S_EXITED: u64 = 0;
const S_SIGNALED: u64 = 1;
const S_TIMED_OUT: u64 = 2;
const S_ERROR: u64 = 3;

// SandboxInfo keys.
const SB_MODE: u64 = 0;
const SB_LANDLOCK_ABI: u64 = 1;

// ActionRecord keys.
const A_INDEX: u64 = 0;
const A_KIND: u64 = 1;
const A_PACKAGE: u64 = 2;
const A_DEPS: u64 = 3;
const A_TOOL: u64 = 4;
const A_ARGV: u64 = 5;
const A_ENV: u64 = 6;
const A_CWD: u64 = 7;
const A_INPUTS: u64 = 8;
const A_OUTPUTS: u64 = 9;
const A_STATUS: u64 = 10;
const A_STDOUT: u64 = 11;
const A_STDERR: u64 = 12;
const A_WALL_NS: u64 = 13;
const A_CPU_NS: u64 = 14;
const A_CACHED: u64 = 15;
const A_KEY: u64 = 16;
const A_SANDBOX: u64 = 17;

// Blob keys.
const B_DIGEST: u64 = 0;
const B_DATA: u64 = 1;

// End keys.
const E_ACTIONS: u64 = 0;
const E_SUCCESS: u64 = 1;

// ---------------------------------------------------------------------------
// Encoding.

/// A CBOR encoder appending to a byte vector; it cannot fail.
pub(crate) struct Enc<'a>(pub &'a mut Vec<u8>);

impl Enc<'_> {
    fn head(&mut self, major: u8, n: u64) {
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
    }
    fn uint(&mut self, n: u64) {
        self.head(0, n);
    }
    fn int(&mut self, n: i64) {
        if n >= 0 {
            self.head(0, n as u64);
        } else {
            self.head(1, (-1 - n) as u64);
        }
    }
    fn bytes(&mut self, b: &[u8]) {
        self.head(2, b.len() as u64);
        self.0.extend_from_slice(b);
    }
    fn str(&mut self, s: &str) {
        self.head(3, s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn array(&mut self, n: usize) {
        self.head(4, n as u64);
    }
    fn map(&mut self, n: usize) {
        self.head(5, n as u64);
    }
    fn bool(&mut self, b: bool) {
        self.0.push(if b { 0xf5 } else { 0xf4 });
    }
    fn key(&mut self, k: u64) {
        self.uint(k);
    }
    fn digest(&mut self, d: &Digest) {
        self.bytes(&d.0);
    }
    fn pairs(&mut self, pairs: &[(String, String)]) {
        self.array(pairs.len());
        for (k, v) in pairs {
            self.array(2);
            self.str(k);
            self.str(v);
        }
    }
    fn strs(&mut self, v: &[String]) {
        self.array(v.len());
        for s in v {
            self.str(s);
        }
    }
    fn platform(&mut self, p: &Platform) {
        self.map(2);
        self.key(P_OS);
        self.str(&p.os);
        self.key(P_ARCH);
        self.str(&p.arch);
    }
    fn file(&mut self, f: &FileRef) {
        self.map(3);
        self.key(F_PATH);
        self.str(&f.path);
        self.key(F_SIZE);
        self.uint(f.size);
        self.key(F_DIGEST);
        self.digest(&f.digest);
    }
    fn status(&mut self, s: &Status) {
        match s {
            Status::Exited(c) | Status::Signaled(c) => {
                self.map(2);
                self.key(S_KIND);
                self.uint(if matches!(s, Status::Exited(_)) {
                    S_EXITED
                } else {
                    S_SIGNALED
                });
                self.key(S_CODE);
                self.int(i64::from(*c));
            }
            Status::TimedOut => {
                self.map(1);
                self.key(S_KIND);
                self.uint(S_TIMED_OUT);
            }
            Status::Error(m) => {
                self.map(2);
                self.key(S_KIND);
                self.uint(S_ERROR);
                self.key(S_MESSAGE);
                self.str(m);
            }
        }
    }
}

/// Appends the record `[type, body]` for a header.
pub(crate) fn encode_header(out: &mut Vec<u8>, h: &Header) {
    let mut e = Enc(out);
    e.array(2);
    e.uint(T_HEADER);
    e.map(12);
    e.key(H_FORMAT);
    e.str(&h.format);
    e.key(H_VERSION);
    e.uint(u64::from(h.version));
    e.key(H_GOB_VERSION);
    e.str(&h.gob_version);
    e.key(H_TARGET);
    e.platform(&h.target);
    e.key(H_TARGET_ENV);
    e.pairs(&h.target_env);
    e.key(H_GO_VERSION);
    e.str(&h.go_version);
    e.key(H_TOOL_PLATFORM);
    e.platform(&h.tool_platform);
    e.key(H_TOOLS);
    e.array(h.tools.len());
    for t in &h.tools {
        e.map(3);
        e.key(TL_NAME);
        e.str(&t.name);
        e.key(TL_DIGEST);
        e.digest(&t.digest);
        e.key(TL_SIZE);
        e.uint(t.size);
    }
    e.key(H_HOST);
    e.platform(&h.host);
    e.key(H_ROOTS);
    e.array(h.roots.len());
    for r in &h.roots {
        e.map(2);
        e.key(R_INSIDE);
        e.str(&r.inside);
        e.key(R_KIND);
        e.str(&r.kind);
    }
    e.key(H_PATTERNS);
    e.strs(&h.patterns);
    e.key(H_BLOBS);
    e.bool(h.blobs);
}

/// Appends the record for a blob up to its content, which the caller
/// appends: `len` bytes.
pub(crate) fn encode_blob_prefix(out: &mut Vec<u8>, digest: &Digest, len: usize) {
    let mut e = Enc(out);
    e.array(2);
    e.uint(T_BLOB);
    e.map(2);
    e.key(B_DIGEST);
    e.digest(digest);
    e.key(B_DATA);
    e.head(2, len as u64);
}

/// Appends the record for an action. Keys whose value is the default (empty,
/// zero, false, none) are left out, except the required ones.
pub(crate) fn encode_action(out: &mut Vec<u8>, a: &ActionRecord) {
    let optional = [
        !a.deps.is_empty(),
        !a.argv.is_empty(),
        !a.env.is_empty(),
        !a.inputs.is_empty(),
        !a.outputs.is_empty(),
        !a.stdout.is_empty(),
        !a.stderr.is_empty(),
        a.wall_ns != 0,
        a.cpu_ns != 0,
        a.cached,
        a.sandbox.is_some(),
    ];
    let required = 7; // index, kind, package, tool, cwd, status, key
    let mut e = Enc(out);
    e.array(2);
    e.uint(T_ACTION);
    e.map(required + optional.iter().filter(|&&b| b).count());
    e.key(A_INDEX);
    e.uint(u64::from(a.index));
    e.key(A_KIND);
    e.str(&a.kind);
    e.key(A_PACKAGE);
    e.str(&a.package);
    if !a.deps.is_empty() {
        e.key(A_DEPS);
        e.array(a.deps.len());
        for &d in &a.deps {
            e.uint(u64::from(d));
        }
    }
    e.key(A_TOOL);
    e.str(&a.tool);
    if !a.argv.is_empty() {
        e.key(A_ARGV);
        e.strs(&a.argv);
    }
    if !a.env.is_empty() {
        e.key(A_ENV);
        e.pairs(&a.env);
    }
    e.key(A_CWD);
    e.str(&a.cwd);
    if !a.inputs.is_empty() {
        e.key(A_INPUTS);
        e.array(a.inputs.len());
        for f in &a.inputs {
            e.file(f);
        }
    }
    if !a.outputs.is_empty() {
        e.key(A_OUTPUTS);
        e.array(a.outputs.len());
        for o in &a.outputs {
            e.map(if o.exec { 3 } else { 2 });
            e.key(O_NAME);
            e.str(&o.name);
            e.key(O_FILE);
            e.file(&o.file);
            if o.exec {
                e.key(O_EXEC);
                e.bool(true);
            }
        }
    }
    e.key(A_STATUS);
    e.status(&a.status);
    if !a.stdout.is_empty() {
        e.key(A_STDOUT);
        e.bytes(&a.stdout);
    }
    if !a.stderr.is_empty() {
        e.key(A_STDERR);
        e.bytes(&a.stderr);
    }
    if a.wall_ns != 0 {
        e.key(A_WALL_NS);
        e.uint(a.wall_ns);
    }
    if a.cpu_ns != 0 {
        e.key(A_CPU_NS);
        e.uint(a.cpu_ns);
    }
    if a.cached {
        e.key(A_CACHED);
        e.bool(true);
    }
    e.key(A_KEY);
    e.digest(&a.key);
    if let Some(sb) = &a.sandbox {
        e.key(A_SANDBOX);
        e.map(if sb.landlock_abi.is_some() { 2 } else { 1 });
        e.key(SB_MODE);
        e.str(&sb.mode);
        if let Some(abi) = sb.landlock_abi {
            e.key(SB_LANDLOCK_ABI);
            e.uint(u64::from(abi));
        }
    }
}

/// Appends the record for the end.
pub(crate) fn encode_end(out: &mut Vec<u8>, end: &End) {
    let mut e = Enc(out);
    e.array(2);
    e.uint(T_END);
    e.map(2);
    e.key(E_ACTIONS);
    e.uint(u64::from(end.actions));
    e.key(E_SUCCESS);
    e.bool(end.success);
}

/// Appends the CBOR head of a byte string of `len` bytes: the framing of
/// every record.
pub(crate) fn encode_frame_head(out: &mut Vec<u8>, len: u64) {
    Enc(out).head(2, len);
}

// ---------------------------------------------------------------------------
// Decoding.

/// The internal cap on nesting whatever [`Limits::max_depth`] says: skipping
/// recurses once per level.
const DEPTH_CAP: u32 = 64;

/// A bounded decoder over one record's bytes.
pub(crate) struct Dec<'b, 'l> {
    d: minicbor::Decoder<'b>,
    limits: &'l Limits,
    /// The record's index, for errors.
    record: u64,
    /// Decompressed offset of the record's first byte.
    base: u64,
    depth: u32,
}

type R<T> = Result<T, TraceError>;

impl<'b, 'l> Dec<'b, 'l> {
    pub fn new(bytes: &'b [u8], limits: &'l Limits, record: u64, base: u64) -> Self {
        Dec {
            d: minicbor::Decoder::new(bytes),
            limits,
            record,
            base,
            depth: 0,
        }
    }

    fn pos(&self) -> usize {
        self.d.position()
    }

    fn remaining(&self) -> usize {
        self.d.input().len() - self.d.position()
    }

    pub fn at(&self) -> Loc {
        Loc {
            record: self.record,
            offset: self.base + self.pos() as u64,
        }
    }

    fn malformed(&self, reason: impl Into<String>) -> TraceError {
        TraceError::Malformed {
            at: self.at(),
            reason: reason.into(),
        }
    }

    fn cbor(&self, e: minicbor::decode::Error) -> TraceError {
        self.malformed(format!("bad CBOR: {e}"))
    }

    /// Reads the head at the current position without consuming it:
    /// (major type, argument), where the argument is None for an indefinite
    /// length. Errors if it runs past the record.
    fn peek_head(&self) -> R<(u8, Option<u64>)> {
        let input = self.d.input();
        let p = self.pos();
        let Some(&b) = input.get(p) else {
            return Err(self.malformed("record ends in the middle of a value"));
        };
        let (major, ai) = (b >> 5, b & 31);
        let width = match ai {
            0..=23 => return Ok((major, Some(u64::from(ai)))),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            31 => return Ok((major, None)),
            _ => return Err(self.malformed(format!("reserved CBOR head byte {b:#04x}"))),
        };
        let Some(arg) = input.get(p + 1..p + 1 + width) else {
            return Err(self.malformed("record ends in the middle of a value"));
        };
        Ok((
            major,
            Some(arg.iter().fold(0u64, |n, &x| (n << 8) | u64::from(x))),
        ))
    }

    /// The declared length of a byte or text string at the position, checked
    /// against the record's remaining bytes before anything is read.
    fn string_len(&self, major: u8) -> R<u64> {
        let (m, len) = self.peek_head()?;
        if m != major {
            return Err(self.malformed(format!(
                "expected {}, found {}",
                major_name(major),
                major_name(m)
            )));
        }
        let Some(len) = len else {
            return Err(self.malformed("indefinite-length string"));
        };
        if len > self.remaining() as u64 {
            return Err(self.malformed(format!(
                "declared length {len} exceeds the {} bytes left in the record",
                self.remaining()
            )));
        }
        Ok(len)
    }

    /// The declared item count of an array or map (pairs for a map).
    fn container_len(&mut self, major: u8) -> R<u64> {
        let (m, n) = self.peek_head()?;
        if m != major {
            return Err(self.malformed(format!(
                "expected {}, found {}",
                major_name(major),
                major_name(m)
            )));
        }
        let Some(n) = n else {
            return Err(self.malformed(format!("indefinite-length {}", major_name(major))));
        };
        if n > self.limits.max_items {
            return Err(TraceError::TooManyItems {
                at: self.at(),
                count: n,
                max: self.limits.max_items,
            });
        }
        // Every item takes at least one byte (two for a map entry).
        let min = if major == 5 { n.saturating_mul(2) } else { n };
        if min > self.remaining() as u64 {
            return Err(self.malformed(format!(
                "declared {n} items, more than the {} bytes left in the record",
                self.remaining()
            )));
        }
        if major == 5 {
            self.d.map().map_err(|e| self.cbor(e))?;
        } else {
            self.d.array().map_err(|e| self.cbor(e))?;
        }
        Ok(n)
    }

    fn enter(&mut self) -> R<()> {
        let max = self.limits.max_depth.min(DEPTH_CAP);
        if self.depth >= max {
            return Err(TraceError::TooDeep { at: self.at(), max });
        }
        self.depth += 1;
        Ok(())
    }

    /// Decodes a map, calling `f` with each key; `f` returns false for a key
    /// it does not know, whose value is then skipped. Returns the set of keys
    /// below 64 seen (a duplicate key is an error).
    pub fn map(&mut self, mut f: impl FnMut(&mut Self, u64) -> R<bool>) -> R<u64> {
        let n = self.container_len(5)?;
        self.enter()?;
        let mut seen = 0u64;
        for _ in 0..n {
            let (major, _) = self.peek_head()?;
            if major != 0 {
                return Err(self.malformed(format!(
                    "map key is {}, expected an unsigned integer",
                    major_name(major)
                )));
            }
            let key = self.d.u64().map_err(|e| self.cbor(e))?;
            if key < 64 {
                if seen & (1 << key) != 0 {
                    return Err(self.malformed(format!("key {key} appears twice")));
                }
                seen |= 1 << key;
            }
            if !f(self, key)? {
                self.skip()?;
            }
        }
        self.depth -= 1;
        Ok(seen)
    }

    /// Decodes an array, calling `f` for each item.
    pub fn array(&mut self, mut f: impl FnMut(&mut Self) -> R<()>) -> R<()> {
        let n = self.container_len(4)?;
        self.enter()?;
        for _ in 0..n {
            f(self)?;
        }
        self.depth -= 1;
        Ok(())
    }

    /// An array of exactly `n` items.
    pub fn tuple(&mut self, n: u64, what: &str) -> R<()> {
        let found = self.container_len(4)?;
        if found != n {
            return Err(self.malformed(format!("{what} has {found} items, expected {n}")));
        }
        Ok(())
    }

    /// Skips one value of any type, within the depth limit.
    pub fn skip(&mut self) -> R<()> {
        let (major, arg) = self.peek_head()?;
        match major {
            0 | 1 => {
                self.d.skip().map_err(|e| self.cbor(e))?;
            }
            2 | 3 => {
                self.string_len(major)?;
                self.d.skip().map_err(|e| self.cbor(e))?;
            }
            4 => {
                let n = self.container_len(4)?;
                self.enter()?;
                for _ in 0..n {
                    self.skip()?;
                }
                self.depth -= 1;
            }
            5 => {
                let n = self.container_len(5)?;
                self.enter()?;
                for _ in 0..n {
                    self.skip()?;
                    self.skip()?;
                }
                self.depth -= 1;
            }
            6 => {
                self.d.tag().map_err(|e| self.cbor(e))?;
                self.enter()?;
                self.skip()?;
                self.depth -= 1;
            }
            _ => {
                if arg.is_none() {
                    return Err(self.malformed("unexpected CBOR break"));
                }
                self.d.skip().map_err(|e| self.cbor(e))?;
            }
        }
        Ok(())
    }

    pub fn u64(&mut self) -> R<u64> {
        let (major, _) = self.peek_head()?;
        if major != 0 {
            return Err(self.malformed(format!(
                "expected an unsigned integer, found {}",
                major_name(major)
            )));
        }
        self.d.u64().map_err(|e| self.cbor(e))
    }

    pub fn u32(&mut self) -> R<u32> {
        let at = self.at();
        let n = self.u64()?;
        u32::try_from(n).map_err(|_| TraceError::Malformed {
            at,
            reason: format!("{n} does not fit 32 bits"),
        })
    }

    pub fn i32(&mut self) -> R<i32> {
        let (major, _) = self.peek_head()?;
        if major > 1 {
            return Err(self.malformed(format!("expected an integer, found {}", major_name(major))));
        }
        let at = self.at();
        let n = self.d.i64().map_err(|e| self.cbor(e))?;
        i32::try_from(n).map_err(|_| TraceError::Malformed {
            at,
            reason: format!("{n} does not fit 32 bits"),
        })
    }

    pub fn bool(&mut self) -> R<bool> {
        self.d.bool().map_err(|e| self.cbor(e))
    }

    pub fn str(&mut self) -> R<&'b str> {
        let len = self.string_len(3)?;
        if len > self.limits.max_string {
            return Err(TraceError::StringTooLong {
                at: self.at(),
                len,
                max: self.limits.max_string,
            });
        }
        self.d.str().map_err(|e| self.cbor(e))
    }

    pub fn string(&mut self) -> R<String> {
        self.str().map(str::to_owned)
    }

    pub fn bytes(&mut self) -> R<&'b [u8]> {
        self.string_len(2)?;
        self.d.bytes().map_err(|e| self.cbor(e))
    }

    pub fn digest(&mut self) -> R<Digest> {
        let at = self.at();
        let b = self.bytes()?;
        let arr: [u8; 32] = b.try_into().map_err(|_| TraceError::Malformed {
            at,
            reason: format!("digest of {} bytes, expected 32", b.len()),
        })?;
        Ok(Digest(arr))
    }

    fn strs(&mut self) -> R<Vec<String>> {
        let mut v = Vec::new();
        self.array(|d| {
            v.push(d.string()?);
            Ok(())
        })?;
        Ok(v)
    }

    fn pairs(&mut self) -> R<Vec<(String, String)>> {
        let mut v = Vec::new();
        self.array(|d| {
            d.tuple(2, "a key-value pair")?;
            let k = d.string()?;
            let val = d.string()?;
            v.push((k, val));
            Ok(())
        })?;
        Ok(v)
    }

    fn require(&self, seen: u64, keys: &[(u64, &str)], what: &str, at: Loc) -> R<()> {
        for &(k, name) in keys {
            if seen & (1 << k) == 0 {
                return Err(TraceError::Malformed {
                    at,
                    reason: format!("{what} lacks key {k} ({name})"),
                });
            }
        }
        Ok(())
    }

    fn platform(&mut self) -> R<Platform> {
        let at = self.at();
        let mut p = Platform {
            os: String::new(),
            arch: String::new(),
        };
        let seen = self.map(|d, k| {
            match k {
                P_OS => p.os = d.string()?,
                P_ARCH => p.arch = d.string()?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        self.require(seen, &[(P_OS, "os"), (P_ARCH, "arch")], "platform", at)?;
        Ok(p)
    }

    fn file(&mut self) -> R<FileRef> {
        let at = self.at();
        let mut f = FileRef {
            path: String::new(),
            size: 0,
            digest: Digest([0; 32]),
        };
        let seen = self.map(|d, k| {
            match k {
                F_PATH => f.path = d.string()?,
                F_SIZE => f.size = d.u64()?,
                F_DIGEST => f.digest = d.digest()?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        self.require(
            seen,
            &[(F_PATH, "path"), (F_SIZE, "size"), (F_DIGEST, "digest")],
            "file",
            at,
        )?;
        Ok(f)
    }

    fn status(&mut self) -> R<Status> {
        let at = self.at();
        let (mut kind, mut code, mut message) = (None, 0i32, String::new());
        self.map(|d, k| {
            match k {
                S_KIND => kind = Some(d.u64()?),
                S_CODE => code = d.i32()?,
                S_MESSAGE => message = d.string()?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(match kind {
            Some(S_EXITED) => Status::Exited(code),
            Some(S_SIGNALED) => Status::Signaled(code),
            Some(S_TIMED_OUT) => Status::TimedOut,
            Some(S_ERROR) => Status::Error(message),
            Some(other) => {
                return Err(TraceError::Malformed {
                    at,
                    reason: format!("unknown status kind {other}"),
                })
            }
            None => {
                return Err(TraceError::Malformed {
                    at,
                    reason: "status lacks key 0 (kind)".into(),
                })
            }
        })
    }

    /// Reads the envelope `[type, …` and returns the type; the body follows.
    pub fn record_type(&mut self) -> R<u64> {
        self.tuple(2, "a record")?;
        self.u64()
    }

    /// The header's format and version only, skipping everything else: read
    /// first, so a trace of another version is named as such even when its
    /// other fields changed shape.
    pub fn header_identity(&mut self) -> R<(Option<String>, Option<u64>)> {
        let (mut format, mut version) = (None, None);
        self.map(|d, k| {
            match k {
                H_FORMAT => format = Some(d.string()?),
                H_VERSION => version = Some(d.u64()?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok((format, version))
    }

    pub fn header(&mut self) -> R<Header> {
        let at = self.at();
        let empty = || Platform {
            os: String::new(),
            arch: String::new(),
        };
        let mut h = Header {
            format: String::new(),
            version: 0,
            gob_version: String::new(),
            target: empty(),
            target_env: Vec::new(),
            go_version: String::new(),
            tool_platform: empty(),
            tools: Vec::new(),
            host: empty(),
            roots: Vec::new(),
            patterns: Vec::new(),
            blobs: false,
        };
        let seen = self.map(|d, k| {
            match k {
                H_FORMAT => h.format = d.string()?,
                H_VERSION => h.version = d.u32()?,
                H_GOB_VERSION => h.gob_version = d.string()?,
                H_TARGET => h.target = d.platform()?,
                H_TARGET_ENV => h.target_env = d.pairs()?,
                H_GO_VERSION => h.go_version = d.string()?,
                H_TOOL_PLATFORM => h.tool_platform = d.platform()?,
                H_TOOLS => {
                    d.array(|d| {
                        let at = d.at();
                        let mut t = ToolId {
                            name: String::new(),
                            digest: Digest([0; 32]),
                            size: 0,
                        };
                        let seen = d.map(|d, k| {
                            match k {
                                TL_NAME => t.name = d.string()?,
                                TL_DIGEST => t.digest = d.digest()?,
                                TL_SIZE => t.size = d.u64()?,
                                _ => return Ok(false),
                            }
                            Ok(true)
                        })?;
                        d.require(
                            seen,
                            &[(TL_NAME, "name"), (TL_DIGEST, "digest")],
                            "tool",
                            at,
                        )?;
                        h.tools.push(t);
                        Ok(())
                    })?;
                }
                H_HOST => h.host = d.platform()?,
                H_ROOTS => {
                    d.array(|d| {
                        let at = d.at();
                        let mut r = Root {
                            inside: String::new(),
                            kind: String::new(),
                        };
                        let seen = d.map(|d, k| {
                            match k {
                                R_INSIDE => r.inside = d.string()?,
                                R_KIND => r.kind = d.string()?,
                                _ => return Ok(false),
                            }
                            Ok(true)
                        })?;
                        d.require(seen, &[(R_INSIDE, "inside"), (R_KIND, "kind")], "root", at)?;
                        h.roots.push(r);
                        Ok(())
                    })?;
                }
                H_PATTERNS => h.patterns = d.strs()?,
                H_BLOBS => h.blobs = d.bool()?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        self.require(
            seen,
            &[(H_FORMAT, "format"), (H_VERSION, "version")],
            "header",
            at,
        )?;
        Ok(h)
    }

    /// A blob (its digest is checked by the caller).
    /// A blob's digest and where its data lies in `buf` (the record's
    /// bytes), so the reader can keep the record's buffer as the data
    /// instead of copying it: a blob costs its size once in memory.
    pub fn blob(&mut self, buf: &[u8]) -> R<(Digest, std::ops::Range<usize>)> {
        let at = self.at();
        let mut digest = Digest([0; 32]);
        let mut range = 0..0;
        let seen = self.map(|d, k| {
            match k {
                B_DIGEST => digest = d.digest()?,
                B_DATA => {
                    let data = d.bytes()?;
                    let start = data.as_ptr() as usize - buf.as_ptr() as usize;
                    range = start..start + data.len();
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        self.require(seen, &[(B_DIGEST, "digest"), (B_DATA, "data")], "blob", at)?;
        Ok((digest, range))
    }

    pub fn action(&mut self) -> R<ActionRecord> {
        let at = self.at();
        let mut a = ActionRecord {
            index: 0,
            kind: String::new(),
            package: String::new(),
            deps: Vec::new(),
            tool: String::new(),
            argv: Vec::new(),
            env: Vec::new(),
            cwd: String::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            status: Status::Exited(0),
            stdout: Vec::new(),
            stderr: Vec::new(),
            wall_ns: 0,
            cpu_ns: 0,
            cached: false,
            key: Digest([0; 32]),
            sandbox: None,
        };
        let seen = self.map(|d, k| {
            match k {
                A_INDEX => a.index = d.u32()?,
                A_KIND => a.kind = d.string()?,
                A_PACKAGE => a.package = d.string()?,
                A_DEPS => {
                    d.array(|d| {
                        a.deps.push(d.u32()?);
                        Ok(())
                    })?;
                }
                A_TOOL => a.tool = d.string()?,
                A_ARGV => a.argv = d.strs()?,
                A_ENV => a.env = d.pairs()?,
                A_CWD => a.cwd = d.string()?,
                A_INPUTS => {
                    d.array(|d| {
                        a.inputs.push(d.file()?);
                        Ok(())
                    })?;
                }
                A_OUTPUTS => {
                    d.array(|d| {
                        let at = d.at();
                        let mut name = String::new();
                        let mut file = None;
                        let mut exec = false;
                        let seen = d.map(|d, k| {
                            match k {
                                O_NAME => name = d.string()?,
                                O_FILE => file = Some(d.file()?),
                                O_EXEC => exec = d.bool()?,
                                _ => return Ok(false),
                            }
                            Ok(true)
                        })?;
                        d.require(seen, &[(O_NAME, "name"), (O_FILE, "file")], "output", at)?;
                        if let Some(file) = file {
                            a.outputs.push(OutputRef { name, file, exec });
                        }
                        Ok(())
                    })?;
                }
                A_STATUS => a.status = d.status()?,
                A_STDOUT => a.stdout = d.bytes()?.to_vec(),
                A_STDERR => a.stderr = d.bytes()?.to_vec(),
                A_WALL_NS => a.wall_ns = d.u64()?,
                A_CPU_NS => a.cpu_ns = d.u64()?,
                A_CACHED => a.cached = d.bool()?,
                A_KEY => a.key = d.digest()?,
                A_SANDBOX => {
                    let at = d.at();
                    let mut sb = SandboxInfo {
                        mode: String::new(),
                        landlock_abi: None,
                    };
                    let seen = d.map(|d, k| {
                        match k {
                            SB_MODE => sb.mode = d.string()?,
                            SB_LANDLOCK_ABI => {
                                let at = d.at();
                                let n = d.u64()?;
                                sb.landlock_abi =
                                    Some(u8::try_from(n).map_err(|_| TraceError::Malformed {
                                        at,
                                        reason: format!("landlock ABI {n} does not fit 8 bits"),
                                    })?);
                            }
                            _ => return Ok(false),
                        }
                        Ok(true)
                    })?;
                    d.require(seen, &[(SB_MODE, "mode")], "sandbox", at)?;
                    a.sandbox = Some(sb);
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        self.require(
            seen,
            &[
                (A_INDEX, "index"),
                (A_KIND, "kind"),
                (A_PACKAGE, "package"),
                (A_TOOL, "tool"),
                (A_CWD, "cwd"),
                (A_STATUS, "status"),
                (A_KEY, "key"),
            ],
            "action",
            at,
        )?;
        Ok(a)
    }

    pub fn end(&mut self) -> R<End> {
        let at = self.at();
        let mut e = End {
            actions: 0,
            success: false,
        };
        let seen = self.map(|d, k| {
            match k {
                E_ACTIONS => e.actions = d.u32()?,
                E_SUCCESS => e.success = d.bool()?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        self.require(
            seen,
            &[(E_ACTIONS, "actions"), (E_SUCCESS, "success")],
            "end",
            at,
        )?;
        Ok(e)
    }

    /// Errors unless every byte of the record was consumed.
    pub fn finish(&self) -> R<()> {
        if self.remaining() != 0 {
            return Err(self.malformed(format!(
                "{} bytes after the record's value",
                self.remaining()
            )));
        }
        Ok(())
    }
}

fn major_name(major: u8) -> &'static str {
    match major {
        0 => "an unsigned integer",
        1 => "a negative integer",
        2 => "a byte string",
        3 => "a text string",
        4 => "an array",
        5 => "a map",
        6 => "a tag",
        _ => "a simple value",
    }
}
