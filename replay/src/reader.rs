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
    /// The largest record (256 MiB); a blob is one record.
    pub max_record: u64,
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

type Inner<R> = BufReader<Chain<Cursor<Vec<u8>>, R>>;

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
    pub fn with_limits(mut r: R, limits: Limits) -> Result<Self, TraceError> {
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

        let Some((body, buf)) = read_record(&mut src, &limits, 0)? else {
            return Err(TraceError::Incomplete {
                records_read: 0,
                offset: src.offset,
            });
        };
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

    fn next_record(&mut self) -> Result<Option<Record>, TraceError> {
        loop {
            let index = self.records;
            let Some((body, buf)) = read_record(&mut self.src, &self.limits, index)? else {
                return Err(TraceError::Incomplete {
                    records_read: self.records,
                    offset: self.src.offset,
                });
            };
            let at = Loc {
                record: index,
                offset: body,
            };
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
                    let b = Blob { digest, data };
                    let actual = Digest::of(&b.data);
                    if actual != b.digest {
                        return Err(TraceError::DigestMismatch {
                            at,
                            digest: b.digest,
                            actual,
                        });
                    }
                    self.state.blob(&b.digest, b.data.len() as u64, at)?;
                    Record::Blob(b)
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
            return Ok(Some(record));
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

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_record() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
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

/// Reads one record's framing and bytes. Returns None if the stream stops
/// (cleanly or mid-frame) before a whole record; else the decompressed
/// offset of the record's content and the content.
fn read_record<R: Read>(
    src: &mut Source<R>,
    limits: &Limits,
    index: u64,
) -> Result<Option<(u64, Vec<u8>)>, TraceError> {
    let start = src.offset;
    let at = Loc {
        record: index,
        offset: start,
    };
    let read_err = |source| TraceError::Read { at, source };
    let mut first = [0u8; 1];
    match src.fill(&mut first).map_err(read_err)? {
        Fill::Full => {}
        Fill::End | Fill::Cut => return Ok(None),
    }
    let b = first[0];
    let (major, ai) = (b >> 5, b & 31);
    if major != 2 || ai > 27 {
        return Err(TraceError::Malformed {
            at,
            reason: format!(
                "record framing: expected a definite-length byte string, found head byte {b:#04x}"
            ),
        });
    }
    let len = if ai < 24 {
        u64::from(ai)
    } else {
        let width = 1usize << (ai - 24);
        let mut arg = [0u8; 8];
        match src.fill(&mut arg[..width]).map_err(read_err)? {
            Fill::Full => {}
            Fill::End | Fill::Cut => return Ok(None),
        }
        arg[..width]
            .iter()
            .fold(0u64, |n, &x| (n << 8) | u64::from(x))
    };
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
    // Grow with the bytes that actually arrive, not with the declared length.
    let len = len as usize;
    let mut buf = Vec::with_capacity(len.min(64 << 10));
    while buf.len() < len {
        let old = buf.len();
        let want = (len - old).min(1 << 20);
        buf.resize(old + want, 0);
        match src.fill(&mut buf[old..]).map_err(read_err)? {
            Fill::Full => {}
            Fill::End | Fill::Cut => return Ok(None),
        }
    }
    Ok(Some((body, buf)))
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
    /// selects: the others are read and checked like any record, then
    /// dropped, so memory holds the actions, not the inputs' bytes.
    pub fn open_keeping(
        path: impl AsRef<Path>,
        limits: Limits,
        keep: impl FnMut(&Digest) -> bool,
    ) -> Result<Trace, TraceError> {
        Trace::read_keeping(TraceReader::open_with_limits(path, limits)?, keep)
    }

    /// Drains `reader`.
    pub fn read<R: Read>(reader: TraceReader<R>) -> Result<Trace, TraceError> {
        Trace::read_keeping(reader, |_| true)
    }

    /// Drains `reader`, keeping the blobs `keep` selects.
    pub fn read_keeping<R: Read>(
        reader: TraceReader<R>,
        mut keep: impl FnMut(&Digest) -> bool,
    ) -> Result<Trace, TraceError> {
        Trace::read_with(reader, |b| {
            Ok::<_, TraceError>(keep(&b.digest).then_some(b))
        })
    }

    /// Drains `reader`, handing each blob (its digest already checked) to
    /// `blob`, which returns it to keep it in [`Trace::blobs`] or `None`
    /// when it has put the bytes elsewhere (a replay's on-disk store), so a
    /// trace of any size is read in the memory of its largest blob. An error
    /// from `blob` stops the read.
    pub fn read_with<R: Read, E: From<TraceError>>(
        mut reader: TraceReader<R>,
        mut blob: impl FnMut(Blob) -> Result<Option<Blob>, E>,
    ) -> Result<Trace, E> {
        let mut t = Trace {
            header: reader.header().clone(),
            actions: Vec::new(),
            blobs: HashMap::new(),
            end: None,
        };
        for record in &mut reader {
            match record {
                Ok(crate::schema::Record::Header(_)) => {}
                Ok(crate::schema::Record::Blob(b)) => {
                    if let Some(b) = blob(b)? {
                        t.blobs.insert(b.digest, b.data);
                    }
                }
                Ok(crate::schema::Record::Action(a)) => t.actions.push(a),
                Ok(crate::schema::Record::End(e)) => t.end = Some(e),
                Err(TraceError::Incomplete { .. }) => break,
                Err(e) => return Err(e.into()),
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
