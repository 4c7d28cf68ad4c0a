//! Reading a trace from untrusted bytes.
//!
//! A trace may come from anywhere, so everything is bounded by [`Limits`]
//! before it is allocated: the zstd window (checked in the frame header
//! before decoding starts), the total decompressed size, each record's size
//! (read from its framing before its bytes), and within a record the CBOR
//! nesting, item counts and string lengths. Each blob's digest is checked,
//! and the stream invariants (see `validate.rs`) are checked as records
//! arrive. Every failure is a [`TraceError`] naming the record and the
//! decompressed offset; a stream that simply stops is
//! [`TraceError::Incomplete`], after every record before the cut was yielded.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Chain, Cursor, Read};
use std::path::Path;

use crate::codec::{self, Dec};
use crate::error::{Loc, TraceError};
use crate::schema::{ActionRecord, Blob, Digest, End, Header, Record, FORMAT, VERSION};
use crate::validate::{check_header, StreamState};

/// What a reader accepts. The defaults suit a trace of a large build; lower
/// them for input you trust less (a fuzzer, a network service).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest zstd window accepted, as a power of two (23: 8 MiB; gob
    /// writes 2 MiB windows).
    /// Decoding allocates the window, so this bounds the decoder's memory.
    pub window_log_max: u32,
    /// The most decompressed bytes read in all (16 GiB).
    pub max_total: u64,
    /// The largest record (256 MiB); a blob is one record. A blob record in
    /// the layout gob writes is streamed ([`BlobRead`]): only
    /// [`Limits::max_held_record`] of any record is ever held whole.
    pub max_record: u64,
    /// The largest record read into memory whole (64 MiB): every record but
    /// a blob in gob's layout (actions, the header, blobs in another layout).
    pub max_held_record: u64,
    /// The deepest CBOR nesting (16; capped at 64 whatever is asked).
    pub max_depth: u32,
    /// The most items in one array or map (1 Mi).
    pub max_items: u64,
    /// The longest text string (1 MiB); byte strings are bounded by the record.
    pub max_string: u64,
    /// The most inputs of one action (65,536; a link of a large program
    /// reads a few thousand).
    pub max_inputs: u64,
    /// The most outputs of one action (4,096; gob's actions have one to three).
    pub max_outputs: u64,
    /// The most bytes of one action's argv and environment together, each
    /// string counted with one byte more (4 MiB; Linux gives a program 2 MiB).
    pub max_argv_bytes: u64,
    /// The most actions in a trace (1 Mi).
    pub max_actions: u64,
    /// The most memory every action of the trace may take once decoded,
    /// estimated from its fields (128 MiB; a trace of cmd/go takes about
    /// 2 MiB). Readers that hold every action (`Trace`, so `gob trace show`,
    /// `diff`, replay, audit) are bounded by this, not by the file's size.
    pub max_held: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            window_log_max: 23,
            max_total: 16 << 30,
            max_record: 256 << 20,
            max_held_record: 64 << 20,
            max_depth: 16,
            max_items: 1 << 20,
            max_string: 1 << 20,
            max_inputs: 1 << 16,
            max_outputs: 1 << 12,
            max_argv_bytes: 4 << 20,
            max_actions: 1 << 20,
            max_held: 128 << 20,
        }
    }
}

type Inner<R> = BufReader<Chain<Cursor<Vec<u8>>, Hashed<R>>>;

/// The input, hashed as it is read: see [`TraceReader::input_digest`].
struct Hashed<R> {
    inner: R,
    hasher: blake3::Hasher,
}

impl<R: Read> Read for Hashed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// How a read into a buffer ended.
enum Fill {
    /// The buffer is full.
    Full,
    /// The zstd frame ended cleanly before the buffer was full.
    End,
    /// The input stopped inside the zstd frame before the buffer was full.
    Cut,
}

/// The decompressed stream, counting bytes.
struct Source<R: Read> {
    dec: zstd::stream::read::Decoder<'static, Inner<R>>,
    /// Decompressed bytes read so far.
    offset: u64,
}

impl<R: Read> Source<R> {
    fn fill(&mut self, buf: &mut [u8]) -> io::Result<Fill> {
        let mut got = 0;
        while got < buf.len() {
            match self.dec.read(&mut buf[got..]) {
                Ok(0) => return Ok(Fill::End),
                Ok(n) => {
                    got += n;
                    self.offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // zstd's "incomplete frame": the input stopped mid-frame.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(Fill::Cut),
                Err(e) => return Err(e),
            }
        }
        Ok(Fill::Full)
    }
}

/// Reads a trace: [`TraceReader::header`], then the records after it as an
/// iterator of `Result<Record, TraceError>` (blobs, actions, `End`).
///
/// The iterator stops after `End` or after the first error. A stream that
/// stops before `End` yields [`TraceError::Incomplete`] last; everything
/// yielded before it is sound.
pub struct TraceReader<R: Read> {
    src: Source<R>,
    header: Header,
    limits: Limits,
    state: StreamState,
    /// Complete records read (the header included).
    records: u64,
    done: bool,
    /// The blob record being read, if its bytes are not all read yet.
    pending: Option<Pending>,
    /// The record [`TraceReader::next_item`] is about to yield.
    record: Option<Record>,
    /// Whether records other than blobs are skipped unread
    /// ([`TraceReader::skim`]).
    skim: bool,
}

/// A blob record whose bytes are still (partly) in the stream.
struct Pending {
    digest: Digest,
    len: u64,
    /// Bytes of the blob not read yet.
    left: u64,
    hasher: blake3::Hasher,
    at: Loc,
    /// The bytes, when the record was read whole (a blob in another layout).
    whole: Option<Vec<u8>>,
    /// Whether the digest was checked already (the record was read whole).
    checked: bool,
}

/// One item of the stream: a blob whose bytes can be streamed, or any
/// other record.
// Yielded one at a time and matched at once, never stored: boxing the
// record would cost an allocation per record for nothing.
#[allow(clippy::large_enum_variant)]
pub enum Item<'r, R: Read> {
    /// An embedded input; its bytes are read through [`BlobRead`].
    Blob(BlobRead<'r, R>),
    /// The header, an action or the end.
    Record(Record),
}

/// A blob record being read. Its bytes are read at most once, in pieces
/// (a blob can be as large as [`Limits::max_record`]), hashed as they
/// arrive; the digest is checked when the last byte is read, before
/// [`BlobRead::copy_to`] returns. Dropping it unread is allowed: the next
/// read skips (and still checks) the rest.
pub struct BlobRead<'r, R: Read> {
    reader: &'r mut TraceReader<R>,
}

/// Why [`BlobRead::copy_to`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// The trace is at fault (cut, or the bytes do not match the digest).
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// The sink failed.
    #[error("{0}")]
    Sink(io::Error),
}

/// The layout gob writes a blob record in, up to the data's length:
/// `[1, {0: h'<32 bytes>', 1: h'...'`. Streamed when it matches.
const BLOB_PREFIX_LEN: usize = 39;

/// The digest, when `p` begins a blob record in gob's layout.
fn blob_prefix(p: &[u8]) -> Option<Digest> {
    let head = [0x82, 0x01, 0xa2, 0x00, 0x58, 0x20];
    if p.len() != BLOB_PREFIX_LEN || p[..6] != head || p[38] != 0x01 {
        return None;
    }
    let mut d = [0u8; 32];
    d.copy_from_slice(&p[6..38]);
    Some(Digest(d))
}

impl<'r, R: Read> BlobRead<'r, R> {
    fn pending(&self) -> &Pending {
        self.reader
            .pending
            .as_ref()
            .expect("a BlobRead exists only while its blob is pending")
    }

    /// The digest the record declares (checked when the bytes are read).
    pub fn digest(&self) -> Digest {
        self.pending().digest
    }

    /// The blob's length in bytes.
    pub fn len(&self) -> u64 {
        self.pending().len
    }

    /// Whether the blob is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Streams the bytes into `sink`, piece by piece; Ok only when all of
    /// them arrived and hash to the digest. On an error the sink has seen
    /// bytes that must not be used, and the reader yields nothing more.
    pub fn copy_to(self, sink: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> Result<(), CopyError> {
        self.reader.pump(sink)
    }

    /// The bytes in memory (as many as the blob has: up to
    /// [`Limits::max_record`]).
    pub fn into_vec(self) -> Result<Vec<u8>, TraceError> {
        let mut out = Vec::new();
        if let Some(w) = self.reader.pending.as_mut().and_then(|p| p.whole.take()) {
            out = w;
        }
        let mut sink = |b: &[u8]| {
            out.extend_from_slice(b);
            Ok(())
        };
        match self.reader.pump(&mut sink) {
            Ok(()) => Ok(out),
            Err(CopyError::Trace(e)) => Err(e),
            Err(CopyError::Sink(_)) => unreachable!("a Vec sink does not fail"),
        }
    }

    /// Reads the bytes (checking their digest) and drops them.
    pub fn skip(self) -> Result<(), TraceError> {
        match self.reader.pump(&mut |_| Ok(())) {
            Ok(()) => Ok(()),
            Err(CopyError::Trace(e)) => Err(e),
            Err(CopyError::Sink(_)) => unreachable!("the sink does not fail"),
        }
    }
}

impl TraceReader<File> {
    /// Opens the trace at `path` with the default limits and reads its header.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, TraceError> {
        Self::open_with_limits(path, Limits::default())
    }

    /// Opens the trace at `path` and reads its header.
    pub fn open_with_limits(path: impl AsRef<Path>, limits: Limits) -> Result<Self, TraceError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| TraceError::Open {
            path: path.to_owned(),
            source,
        })?;
        TraceReader::with_limits(file, limits)
    }
}

impl<R: Read> TraceReader<R> {
    /// Starts reading `r` with the default limits; reads the header.
    pub fn new(r: R) -> Result<Self, TraceError> {
        Self::with_limits(r, Limits::default())
    }

    /// Starts reading `r`; reads and checks the zstd frame header (window
    /// size) and the trace header (format, version).
    pub fn with_limits(r: R, limits: Limits) -> Result<Self, TraceError> {
        let mut r = Hashed {
            inner: r,
            hasher: blake3::Hasher::new(),
        };
        let prefix = read_prefix(&mut r, 18)?;
        check_frame_header(&prefix, &limits)?;
        let inner = BufReader::new(Cursor::new(prefix).chain(r));
        let read_err = |source| TraceError::Read {
            at: Loc::default(),
            source,
        };
        let mut dec = zstd::stream::read::Decoder::with_buffer(inner)
            .map_err(read_err)?
            .single_frame();
        dec.window_log_max(limits.window_log_max.clamp(10, 31))
            .map_err(read_err)?;
        let mut src = Source { dec, offset: 0 };

        let incomplete = |src: &Source<R>| TraceError::Incomplete {
            records_read: 0,
            offset: src.offset,
        };
        let Some((body, len)) = read_head(&mut src, &limits, 0)? else {
            return Err(incomplete(&src));
        };
        if len > limits.max_held_record {
            return Err(TraceError::RecordTooLarge {
                at: Loc::default(),
                size: len,
                max: limits.max_held_record,
            });
        }
        let mut buf = Vec::new();
        if !read_rest(&mut src, &mut buf, len as usize).map_err(read_err)? {
            return Err(incomplete(&src));
        }
        // Format and version first, skipping the rest: another version may
        // have changed any other field.
        let mut d = Dec::new(&buf, &limits, 0, body);
        let t = d.record_type()?;
        if t != codec::T_HEADER {
            return Err(TraceError::NotATrace {
                reason: format!("the first record has type {t}, not a header"),
            });
        }
        let (format, version) = d.header_identity()?;
        if format.as_deref() != Some(FORMAT) {
            return Err(TraceError::WrongFormat {
                found: format.unwrap_or_default(),
            });
        }
        match version {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) => return Err(TraceError::WrongVersion { found: v }),
            None => {
                return Err(TraceError::Malformed {
                    at: Loc {
                        record: 0,
                        offset: body,
                    },
                    reason: "header lacks key 1 (version)".into(),
                })
            }
        }
        let mut d = Dec::new(&buf, &limits, 0, body);
        d.record_type()?;
        let header = d.header()?;
        d.finish()?;
        check_header(
            &header,
            Loc {
                record: 0,
                offset: body,
            },
        )?;
        Ok(TraceReader {
            src,
            header,
            state: StreamState::new(limits.clone()),
            limits,
            records: 1,
            done: false,
            pending: None,
            record: None,
            skim: false,
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Complete records read so far, the header included.
    pub fn records_read(&self) -> u64 {
        self.records
    }

    /// Decompressed bytes read so far.
    pub fn offset(&self) -> u64 {
        self.src.offset
    }

    /// From now on, yields only blobs: every other record is skipped in
    /// pieces, neither held, decoded nor checked, and the stream's end (or
    /// cut) ends the items. For a second pass over input already read and
    /// checked whole: the caller proves it is the same input by comparing
    /// [`TraceReader::input_digest`]s.
    pub fn skim(&mut self) {
        self.skim = true;
    }

    /// The BLAKE3 digest of every byte of the input (compressed, as given):
    /// those read so far, then the rest, read now up to its end. Two readers
    /// that give the same digest read the same bytes.
    pub fn input_digest(&mut self) -> io::Result<Digest> {
        let hashed = self.src.dec.get_mut().get_mut().get_mut().1;
        io::copy(hashed, &mut io::sink())?;
        Ok(Digest(*hashed.hasher.finalize().as_bytes()))
    }

    /// The next item: a blob to stream or any other record. Ok(None) after
    /// the End record. A blob left unread by the previous item is read (and
    /// its digest checked) first. After an error the reader yields nothing.
    pub fn next_item(&mut self) -> Result<Option<Item<'_, R>>, TraceError> {
        if self.done {
            return Ok(None);
        }
        match self.next_inner() {
            Ok(true) => Ok(Some(Item::Blob(BlobRead { reader: self }))),
            Ok(false) => match self.record.take() {
                Some(r) => Ok(Some(Item::Record(r))),
                None => {
                    self.done = true;
                    Ok(None)
                }
            },
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    /// Reads the rest of the pending blob into `sink`, checking its digest.
    fn pump(&mut self, sink: &mut dyn FnMut(&[u8]) -> io::Result<()>) -> Result<(), CopyError> {
        let r = self.pump_inner(sink);
        if r.is_err() {
            self.done = true;
            self.pending = None;
        }
        r
    }

    fn pump_inner(
        &mut self,
        sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> Result<(), CopyError> {
        let Some(p) = self.pending.as_mut() else {
            return Ok(());
        };
        if let Some(whole) = p.whole.take() {
            sink(&whole).map_err(CopyError::Sink)?;
        }
        let mut chunk = vec![0u8; p.left.min(1 << 20) as usize];
        while p.left > 0 {
            let n = p.left.min(chunk.len() as u64) as usize;
            let at = p.at;
            match self
                .src
                .fill(&mut chunk[..n])
                .map_err(|source| TraceError::Read { at, source })?
            {
                Fill::Full => {}
                Fill::End | Fill::Cut => {
                    return Err(TraceError::Incomplete {
                        records_read: self.records,
                        offset: self.src.offset,
                    }
                    .into())
                }
            }
            p.hasher.update(&chunk[..n]);
            p.left -= n as u64;
            sink(&chunk[..n]).map_err(CopyError::Sink)?;
        }
        let actual = Digest(*p.hasher.finalize().as_bytes());
        if !p.checked && actual != p.digest {
            return Err(TraceError::DigestMismatch {
                at: p.at,
                digest: p.digest,
                actual,
            }
            .into());
        }
        self.pending = None;
        self.records += 1;
        Ok(())
    }

    /// Reads the next record: true for a blob left pending (see
    /// [`TraceReader::next_item`]), false with `self.record` set to any
    /// other record, or unset after the end.
    fn next_inner(&mut self) -> Result<bool, TraceError> {
        if self.pending.is_some() {
            match self.pump(&mut |_| Ok(())) {
                Ok(()) => {}
                Err(CopyError::Trace(e)) => return Err(e),
                Err(CopyError::Sink(_)) => unreachable!("the sink does not fail"),
            }
        }
        loop {
            let index = self.records;
            let incomplete = |src: &Source<R>, records| TraceError::Incomplete {
                records_read: records,
                offset: src.offset,
            };
            let Some((body, len)) = read_head(&mut self.src, &self.limits, index)? else {
                if self.skim {
                    self.done = true;
                    return Ok(false);
                }
                return Err(incomplete(&self.src, self.records));
            };
            let at = Loc {
                record: index,
                offset: body,
            };
            let read_err = |source| TraceError::Read { at, source };
            // A blob in gob's layout is streamed; anything else is read whole.
            let mut buf = Vec::new();
            if len > BLOB_PREFIX_LEN as u64 || self.skim {
                buf.resize(BLOB_PREFIX_LEN.min(len as usize), 0);
                match self.src.fill(&mut buf).map_err(read_err)? {
                    Fill::Full => {}
                    Fill::End | Fill::Cut if self.skim => {
                        self.done = true;
                        return Ok(false);
                    }
                    Fill::End | Fill::Cut => return Err(incomplete(&self.src, self.records)),
                }
                // Skimming: anything but a blob (`[1, ...`) passes unread.
                if self.skim && !buf.starts_with(&[0x82, 0x01]) {
                    let mut left = len - buf.len() as u64;
                    let mut chunk = vec![0u8; left.min(1 << 20) as usize];
                    while left > 0 {
                        let n = left.min(chunk.len() as u64) as usize;
                        if !matches!(
                            self.src.fill(&mut chunk[..n]).map_err(read_err)?,
                            Fill::Full
                        ) {
                            self.done = true;
                            return Ok(false);
                        }
                        left -= n as u64;
                    }
                    self.records += 1;
                    continue;
                }
                if let Some(digest) = blob_prefix(&buf) {
                    let Some((data, width)) = read_len(&mut self.src, at)? else {
                        return Err(incomplete(&self.src, self.records));
                    };
                    let used = BLOB_PREFIX_LEN as u64 + 1 + width;
                    if data.major != 2 || used.checked_add(data.len) != Some(len) {
                        // Anything else in a blob record's place is malformed
                        // (gob writes nothing else there).
                        return Err(TraceError::Malformed {
                            at,
                            reason: format!(
                                "a blob record of {len} bytes whose data is not its last {} bytes",
                                len.saturating_sub(used)
                            ),
                        });
                    }
                    self.state.blob(&digest, data.len, at)?;
                    self.pending = Some(Pending {
                        digest,
                        len: data.len,
                        left: data.len,
                        hasher: blake3::Hasher::new(),
                        at,
                        whole: None,
                        checked: false,
                    });
                    return Ok(true);
                }
            }
            if len > self.limits.max_held_record {
                return Err(TraceError::RecordTooLarge {
                    at,
                    size: len,
                    max: self.limits.max_held_record,
                });
            }
            if !read_rest(&mut self.src, &mut buf, len as usize).map_err(read_err)? {
                return Err(incomplete(&self.src, self.records));
            }
            let mut d = Dec::new(&buf, &self.limits, index, body);
            let record = match d.record_type()? {
                codec::T_HEADER => {
                    return Err(TraceError::Invalid {
                        at,
                        reason: "a second header".into(),
                    })
                }
                codec::T_BLOB => {
                    let (digest, range) = d.blob(&buf)?;
                    d.finish()?;
                    let mut data = buf;
                    data.truncate(range.end);
                    data.drain(..range.start);
                    let actual = Digest::of(&data);
                    if actual != digest {
                        return Err(TraceError::DigestMismatch { at, digest, actual });
                    }
                    self.state.blob(&digest, data.len() as u64, at)?;
                    self.pending = Some(Pending {
                        digest,
                        len: data.len() as u64,
                        left: 0,
                        hasher: blake3::Hasher::new(),
                        at,
                        whole: Some(data),
                        checked: true,
                    });
                    return Ok(true);
                }
                codec::T_ACTION => {
                    let a = d.action()?;
                    d.finish()?;
                    self.state.action(&a, at)?;
                    Record::Action(a)
                }
                codec::T_END => {
                    let e = d.end()?;
                    d.finish()?;
                    self.state.end(&e, at)?;
                    self.check_trailing()?;
                    self.done = true;
                    Record::End(e)
                }
                _ => {
                    // A record type this version does not know: skipped
                    // (still within the limits).
                    d.skip()?;
                    d.finish()?;
                    self.records += 1;
                    continue;
                }
            };
            self.records += 1;
            self.record = Some(record);
            return Ok(false);
        }
    }

    /// After `End`: the zstd frame must end, and the input with it.
    fn check_trailing(&mut self) -> Result<(), TraceError> {
        let at = Loc {
            record: self.records + 1,
            offset: self.src.offset,
        };
        let mut one = [0u8; 1];
        match self
            .src
            .fill(&mut one)
            .map_err(|source| TraceError::Read { at, source })?
        {
            Fill::Full => Err(TraceError::TrailingData { at }),
            Fill::Cut => Err(TraceError::Read {
                at,
                source: io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the zstd frame is cut after the End record",
                ),
            }),
            Fill::End => {
                let rest = self
                    .src
                    .dec
                    .get_mut()
                    .fill_buf()
                    .map_err(|source| TraceError::Read { at, source })?;
                if rest.is_empty() {
                    Ok(())
                } else {
                    Err(TraceError::TrailingData { at })
                }
            }
        }
    }
}

impl<R: Read> Iterator for TraceReader<R> {
    type Item = Result<Record, TraceError>;

    /// The next record, a blob's bytes read into memory (up to
    /// [`Limits::max_record`]; [`TraceReader::next_item`] streams them).
    fn next(&mut self) -> Option<Self::Item> {
        match self.next_item() {
            Ok(None) => None,
            Ok(Some(Item::Record(r))) => Some(Ok(r)),
            Ok(Some(Item::Blob(b))) => {
                let digest = b.digest();
                Some(b.into_vec().map(|data| Record::Blob(Blob { digest, data })))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

impl<R: Read> std::iter::FusedIterator for TraceReader<R> {}

/// Reads up to `n` bytes (fewer only at the end of input).
fn read_prefix(r: &mut impl Read, n: usize) -> Result<Vec<u8>, TraceError> {
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(TraceError::Read {
                    at: Loc::default(),
                    source,
                })
            }
        }
    }
    buf.truncate(got);
    Ok(buf)
}

/// The zstd frame magic, little-endian.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Checks the zstd frame header (RFC 8878 §3.1.1.1) before any decoding:
/// the magic, no dictionary, and a window within the limit.
fn check_frame_header(p: &[u8], limits: &Limits) -> Result<(), TraceError> {
    let short = || TraceError::Incomplete {
        records_read: 0,
        offset: 0,
    };
    if p.is_empty() {
        return Err(short());
    }
    if p.len() < 4 || p[..4] != ZSTD_MAGIC {
        if ZSTD_MAGIC.starts_with(p) {
            return Err(short());
        }
        return Err(TraceError::NotATrace {
            reason: "no zstd frame magic at the start".into(),
        });
    }
    let Some(&fhd) = p.get(4) else {
        return Err(short());
    };
    let fcs_flag = fhd >> 6;
    let single_segment = fhd & 0x20 != 0;
    if fhd & 0x08 != 0 {
        return Err(TraceError::NotATrace {
            reason: "zstd frame header sets its reserved bit".into(),
        });
    }
    let did_size = [0usize, 1, 2, 4][usize::from(fhd & 3)];
    if did_size != 0 {
        return Err(TraceError::NotATrace {
            reason: "zstd frame needs a dictionary".into(),
        });
    }
    let max = 1u64 << limits.window_log_max.clamp(10, 31);
    let window = if single_segment {
        // The window is the content size.
        let fcs_size = [1usize, 2, 4, 8][usize::from(fcs_flag)];
        let Some(b) = p.get(5..5 + fcs_size) else {
            return Err(short());
        };
        let n = b.iter().rev().fold(0u64, |n, &x| (n << 8) | u64::from(x));
        if fcs_size == 2 {
            n + 256
        } else {
            n
        }
    } else {
        let Some(&wd) = p.get(5) else {
            return Err(short());
        };
        let exponent = u64::from(wd >> 3);
        let mantissa = u64::from(wd & 7);
        let base = 1u64 << (10 + exponent);
        base + (base / 8) * mantissa
    };
    if window > max {
        return Err(TraceError::WindowTooLarge { window, max });
    }
    Ok(())
}

/// A CBOR head: major type and argument.
struct Head {
    /// The first byte.
    byte: u8,
    major: u8,
    len: u64,
}

/// Reads a CBOR head (major type, then an argument of up to 8 bytes).
/// Returns the head and how many argument bytes followed the first, or None
/// if the stream stops first. An indefinite length or a reserved value
/// comes back as major type 7 (never a byte string).
fn read_len<R: Read>(src: &mut Source<R>, at: Loc) -> Result<Option<(Head, u64)>, TraceError> {
    let read_err = |source| TraceError::Read { at, source };
    let mut first = [0u8; 1];
    match src.fill(&mut first).map_err(read_err)? {
        Fill::Full => {}
        Fill::End | Fill::Cut => return Ok(None),
    }
    let b = first[0];
    let (major, ai) = (b >> 5, b & 31);
    if ai > 27 {
        return Ok(Some((
            Head {
                byte: b,
                major: 7,
                len: 0,
            },
            0,
        )));
    }
    if ai < 24 {
        return Ok(Some((
            Head {
                byte: b,
                major,
                len: u64::from(ai),
            },
            0,
        )));
    }
    let width = 1usize << (ai - 24);
    let mut arg = [0u8; 8];
    match src.fill(&mut arg[..width]).map_err(read_err)? {
        Fill::Full => {}
        Fill::End | Fill::Cut => return Ok(None),
    }
    let len = arg[..width]
        .iter()
        .fold(0u64, |n, &x| (n << 8) | u64::from(x));
    Ok(Some((
        Head {
            byte: b,
            major,
            len,
        },
        width as u64,
    )))
}

/// Reads one record's framing (a byte string's head) and checks its size
/// against the limits. Returns None if the stream stops (cleanly or
/// mid-frame) first; else the decompressed offset of the record's content
/// and its length.
fn read_head<R: Read>(
    src: &mut Source<R>,
    limits: &Limits,
    index: u64,
) -> Result<Option<(u64, u64)>, TraceError> {
    let at = Loc {
        record: index,
        offset: src.offset,
    };
    let Some((head, _)) = read_len(src, at)? else {
        return Ok(None);
    };
    if head.major != 2 {
        return Err(TraceError::Malformed {
            at,
            reason: format!(
                "record framing: expected a definite-length byte string, found head byte {:#04x}",
                head.byte
            ),
        });
    }
    let len = head.len;
    if len > limits.max_record {
        return Err(TraceError::RecordTooLarge {
            at,
            size: len,
            max: limits.max_record,
        });
    }
    let body = src.offset;
    if body.saturating_add(len) > limits.max_total {
        return Err(TraceError::TotalTooLarge {
            at,
            max: limits.max_total,
        });
    }
    Ok(Some((body, len)))
}

/// Reads bytes into `buf` until it holds `len`, growing it with the bytes
/// that actually arrive, not with the declared length. False if the stream
/// stops first.
fn read_rest<R: Read>(src: &mut Source<R>, buf: &mut Vec<u8>, len: usize) -> io::Result<bool> {
    buf.reserve(len.saturating_sub(buf.len()).min(64 << 10));
    while buf.len() < len {
        let old = buf.len();
        let want = (len - old).min(1 << 20);
        buf.resize(old + want, 0);
        match src.fill(&mut buf[old..])? {
            Fill::Full => {}
            Fill::End | Fill::Cut => return Ok(false),
        }
    }
    Ok(true)
}

/// A trace read whole: for diffing, summaries and replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The header.
    pub header: Header,
    /// The actions, sorted by index (the stream holds them in the order they finished).
    pub actions: Vec<ActionRecord>,
    /// The embedded blobs, by digest.
    pub blobs: HashMap<Digest, Vec<u8>>,
    /// The End record; None for a build that did not finish
    /// (the trace stopped with [`TraceError::Incomplete`]).
    pub end: Option<End>,
}

impl Trace {
    /// Reads the trace at `path` whole. An incomplete trace is accepted
    /// (`end` is None); any other error is returned.
    pub fn open(path: impl AsRef<Path>, limits: Limits) -> Result<Trace, TraceError> {
        Trace::read(TraceReader::open_with_limits(path, limits)?)
    }

    /// Reads a trace whole from `r`, as [`Trace::open`].
    pub fn from_reader<R: Read>(r: R, limits: Limits) -> Result<Trace, TraceError> {
        Trace::read(TraceReader::with_limits(r, limits)?)
    }

    /// Reads the trace at `path` whole but keeps only the blobs `keep`
    /// selects (by digest and length): the others are streamed, checked and
    /// dropped, so memory holds the actions, not the inputs' bytes.
    pub fn open_keeping(
        path: impl AsRef<Path>,
        limits: Limits,
        keep: impl FnMut(&Digest, u64) -> bool,
    ) -> Result<Trace, TraceError> {
        Trace::read_keeping(TraceReader::open_with_limits(path, limits)?, keep)
    }

    /// Drains `reader`.
    pub fn read<R: Read>(reader: TraceReader<R>) -> Result<Trace, TraceError> {
        Trace::read_keeping(reader, |_, _| true)
    }

    /// Drains `reader`, keeping the blobs `keep` selects (by digest and
    /// length, before their bytes are read).
    pub fn read_keeping<R: Read>(
        mut reader: TraceReader<R>,
        keep: impl FnMut(&Digest, u64) -> bool,
    ) -> Result<Trace, TraceError> {
        Trace::read_from(&mut reader, keep)
    }

    /// As [`Trace::read_keeping`], leaving `reader` to the caller (for
    /// [`TraceReader::input_digest`]).
    pub fn read_from<R: Read>(
        reader: &mut TraceReader<R>,
        mut keep: impl FnMut(&Digest, u64) -> bool,
    ) -> Result<Trace, TraceError> {
        let mut t = Trace {
            header: reader.header().clone(),
            actions: Vec::new(),
            blobs: HashMap::new(),
            end: None,
        };
        loop {
            match reader.next_item() {
                Ok(None) => break,
                Ok(Some(Item::Blob(b))) => {
                    let digest = b.digest();
                    let read = if keep(&digest, b.len()) {
                        b.into_vec().map(|v| {
                            t.blobs.insert(digest, v);
                        })
                    } else {
                        b.skip()
                    };
                    match read {
                        Ok(()) => {}
                        // Cut inside the blob (a build killed while it
                        // wrote it): the records before it stand.
                        Err(TraceError::Incomplete { .. }) => break,
                        Err(e) => return Err(e),
                    }
                }
                Ok(Some(Item::Record(crate::schema::Record::Action(a)))) => t.actions.push(a),
                Ok(Some(Item::Record(crate::schema::Record::End(e)))) => t.end = Some(e),
                Ok(Some(Item::Record(_))) => {}
                Err(TraceError::Incomplete { .. }) => break,
                Err(e) => return Err(e),
            }
        }
        // Written as they finished (a dependency order); kept by index here.
        t.actions.sort_by_key(|a| a.index);
        Ok(t)
    }

    /// The action with this index.
    pub fn action(&self, index: u32) -> Option<&ActionRecord> {
        self.actions
            .binary_search_by_key(&index, |a| a.index)
            .ok()
            .map(|i| &self.actions[i])
    }

    /// Whether the trace has its End record.
    pub fn is_complete(&self) -> bool {
        self.end.is_some()
    }
}
