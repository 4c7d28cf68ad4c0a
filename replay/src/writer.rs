//! Writing a trace as the build runs.
//!
//! The writer is a stream: the header goes out when it is created, each
//! action when it finished, `End` when the build is over. After the header,
//! each action record and the end, the zstd encoder is flushed (a block
//! boundary, not a new frame: the compression window carries over), so a
//! build that crashes or is killed leaves a trace whose every finished action
//! is readable; the reader reports it as [`TraceError::Incomplete`]. Blobs are
//! not flushed on their own: a blob is written before the action that names
//! it, and that action's flush carries it out.
//!
//! A flush hands the bytes to the kernel (a `write`), it does not `fsync`:
//! the trace survives the process dying, not the machine losing power.
//! Flushing per action costs about 5% in size (each flush ends a zstd block)
//! and one `write` per action, far below 1% of a build's time (see
//! `tests/sizes.rs`); [`WriterOptions::flush_each_action`] turns it off.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::Path;

use crate::codec;
use crate::error::{Loc, TraceError};
use crate::reader::Limits;
use crate::schema::{ActionRecord, Digest, End, Header, Status};
use crate::validate::{check_header, StreamState};

/// The default zstd level: fast, and most of the gain.
pub const DEFAULT_LEVEL: i32 = 3;

/// How a trace is written.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// The zstd level (1–19).
    pub level: i32,
    /// The zstd window, as a power of two; readers refuse more than their
    /// [`Limits::window_log_max`] (23 by default). None leaves zstd's choice
    /// for the level (2 MiB at level 3).
    pub window_log: Option<u32>,
    /// Whether to flush after every action record. Turning it off keeps the
    /// stream valid but a crash may lose the last records still buffered in
    /// the encoder.
    pub flush_each_action: bool,
    /// The limits the writer keeps to, so that a reader with the same
    /// limits accepts the trace (the defaults). Raising them writes traces
    /// default readers refuse: for tests of those readers.
    pub limits: Limits,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            level: DEFAULT_LEVEL,
            window_log: None,
            flush_each_action: true,
            limits: Limits::default(),
        }
    }
}

/// Writes a trace: header first, then blobs and actions in dependency order,
/// then [`End`] through [`TraceWriter::finish`].
///
/// Dropping it without `finish` leaves a trace without `End`, readable up to
/// the last flushed record.
pub struct TraceWriter<W: Write> {
    enc: zstd::stream::write::Encoder<'static, W>,
    state: StreamState,
    /// Records written so far (the header is record 0).
    records: u64,
    /// Decompressed bytes written so far.
    offset: u64,
    /// Encoding scratch space, kept to avoid an allocation per record.
    scratch: Vec<u8>,
    options: WriterOptions,
    /// Set when a write failed: the stream may end in a partial record, so
    /// nothing more is written after it (the reader sees a cut: Incomplete).
    broken: bool,
}

impl TraceWriter<File> {
    /// Creates (truncates) the file at `path` and writes the header.
    pub fn create(path: impl AsRef<Path>, header: &Header) -> Result<Self, TraceError> {
        let path = path.as_ref();
        let file = File::create(path).map_err(|source| TraceError::Open {
            path: path.to_owned(),
            source,
        })?;
        TraceWriter::new(file, header)
    }
}

impl<W: Write> TraceWriter<W> {
    /// Starts a trace on `w` with the default options and writes the header.
    pub fn new(w: W, header: &Header) -> Result<Self, TraceError> {
        Self::with_options(w, header, WriterOptions::default())
    }

    /// Starts a trace on `w` and writes the header. The header must carry
    /// [`crate::schema::FORMAT`] and [`crate::schema::VERSION`].
    pub fn with_options(w: W, header: &Header, options: WriterOptions) -> Result<Self, TraceError> {
        check_header(header, Loc::default())?;
        let max_log = options.limits.window_log_max;
        if let Some(log) = options.window_log.filter(|&l| l > max_log) {
            return Err(TraceError::WindowTooLarge {
                window: 1u64 << log.min(63),
                max: 1 << max_log,
            });
        }
        let wr = |source| TraceError::Write { source };
        let mut enc = zstd::stream::write::Encoder::new(w, options.level).map_err(wr)?;
        enc.include_checksum(true).map_err(wr)?;
        if let Some(log) = options.window_log {
            enc.window_log(log).map_err(wr)?;
        }
        let mut w = TraceWriter {
            enc,
            state: StreamState::new(options.limits.clone()),
            records: 0,
            offset: 0,
            scratch: Vec::with_capacity(4096),
            options,
            broken: false,
        };
        codec::encode_header(&mut w.scratch, header);
        w.emit(true)?;
        Ok(w)
    }

    /// Whether a blob with this digest was written.
    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.state.has_blob(digest)
    }

    /// Embeds `data`, whose BLAKE3 digest is `digest`, unless a blob with that
    /// digest was written already. Returns whether it wrote it. The digest is
    /// checked (a wrong one would make the trace unreadable).
    pub fn write_blob(&mut self, digest: &Digest, data: &[u8]) -> Result<bool, TraceError> {
        self.write_blob_from(digest, data.len() as u64, &mut std::io::Cursor::new(data))
    }

    /// Embeds the `len` bytes `src` holds from its start, whose BLAKE3 digest
    /// must be `digest`, unless a blob with that digest was written already.
    /// Returns whether it wrote it. In constant memory, whatever the size:
    /// `src` is read twice in pieces of [`BLOB_PIECE`] bytes. The first pass
    /// checks its length and digest and notes each piece's digest; the second
    /// writes each piece only after checking it is the piece the first pass
    /// hashed. So the trace never holds a byte that was not checked, even if
    /// `src` changes meanwhile (then the writer is broken: the trace ends
    /// before this blob's record is complete, and readers see it cut).
    pub fn write_blob_from<R: Read + Seek>(
        &mut self,
        digest: &Digest,
        len: u64,
        src: &mut R,
    ) -> Result<bool, TraceError> {
        self.check_broken()?;
        if self.state.has_blob(digest) {
            return Ok(false);
        }
        let at = self.loc();
        // The record is the data plus a few dozen bytes: refuse what a reader
        // with the default limits would refuse.
        let max = self.options.limits.max_record;
        if len.saturating_add(64) > max {
            return Err(TraceError::RecordTooLarge {
                at,
                size: len.saturating_add(64),
                max,
            });
        }
        let rd = |source| TraceError::Write { source };
        let mut piece = vec![0u8; BLOB_PIECE.min(len as usize + 1).max(1)];
        // Pass 1: the whole digest and each piece's, reading one byte past
        // `len` to see a longer source.
        src.rewind().map_err(rd)?;
        let mut whole = blake3::Hasher::new();
        let mut pieces = Vec::new();
        let mut seen = 0u64;
        loop {
            let want = (len + 1 - seen).min(piece.len() as u64) as usize;
            let n = fill(src, &mut piece[..want]).map_err(rd)?;
            if n == 0 {
                break;
            }
            whole.update(&piece[..n]);
            pieces.push((n, *blake3::hash(&piece[..n]).as_bytes()));
            seen += n as u64;
        }
        let actual = Digest(*whole.finalize().as_bytes());
        if seen != len || actual != *digest {
            return Err(TraceError::DigestMismatch {
                at,
                digest: *digest,
                actual,
            });
        }
        // Pass 2: written piece by piece, each checked first.
        src.rewind().map_err(rd)?;
        codec::encode_blob_prefix(&mut self.scratch, digest, len as usize);
        self.begin_record(len)?;
        for &(n, d) in &pieces {
            let got = fill(src, &mut piece[..n]);
            let same = matches!(got, Ok(k) if k == n && *blake3::hash(&piece[..n]).as_bytes() == d);
            if !same {
                self.broken = true;
                return Err(rd(got.err().unwrap_or_else(|| {
                    std::io::Error::other(format!(
                        "blob {digest} changed while it was being embedded"
                    ))
                })));
            }
            if let Err(e) = self.enc.write_all(&piece[..n]) {
                self.broken = true;
                return Err(rd(e));
            }
        }
        self.end_record(len, false)?;
        self.state.blob(digest, len, at)?;
        Ok(true)
    }

    /// Writes a finished action. Its dependencies must have been written
    /// before it, its index must not have been written, and its paths must be
    /// inside paths ([`crate::check_inside_path`]).
    pub fn write_action(&mut self, action: &ActionRecord) -> Result<(), TraceError> {
        self.check_broken()?;
        let at = self.loc();
        check_readable(action, at, &self.options.limits)?;
        codec::encode_action(&mut self.scratch, action);
        // A reader holds an action's record whole.
        let max = self.options.limits.max_held_record;
        if self.scratch.len() as u64 > max {
            let size = self.scratch.len() as u64;
            self.scratch.clear();
            return Err(TraceError::RecordTooLarge { at, size, max });
        }
        if let Err(e) = self.state.action(action, at) {
            self.scratch.clear();
            return Err(e);
        }
        let flush = self.options.flush_each_action;
        self.emit(flush).inspect_err(|_| {
            // Not written: not recorded either.
            self.state.forget_action(action);
        })
    }

    /// Flushes everything written so far to the underlying writer.
    pub fn flush(&mut self) -> Result<(), TraceError> {
        self.check_broken()?;
        self.enc
            .flush()
            .map_err(|source| TraceError::Write { source })
    }

    /// Writes `End`, closes the zstd frame and returns the underlying writer
    /// (flushed). `end.actions` must be the number of actions written.
    pub fn finish(mut self, end: End) -> Result<W, TraceError> {
        self.check_broken()?;
        self.state.end(&end, self.loc())?;
        codec::encode_end(&mut self.scratch, &end);
        self.emit(false)?;
        let mut w = self
            .enc
            .finish()
            .map_err(|source| TraceError::Write { source })?;
        w.flush().map_err(|source| TraceError::Write { source })?;
        Ok(w)
    }

    /// Number of actions written.
    pub fn actions(&self) -> u32 {
        self.state.indexes.len() as u32
    }

    /// Decompressed bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.offset
    }

    /// The underlying writer (what went through the encoder so far, without
    /// what it still buffers).
    pub fn get_ref(&self) -> &W {
        self.enc.get_ref()
    }

    fn check_broken(&self) -> Result<(), TraceError> {
        if self.broken {
            return Err(TraceError::Write {
                source: std::io::Error::other("an earlier write to this trace failed"),
            });
        }
        Ok(())
    }

    fn loc(&self) -> Loc {
        Loc {
            record: self.records,
            offset: self.offset,
        }
    }

    /// Frames and writes the record whose bytes are `scratch`, then flushes
    /// if asked.
    fn emit(&mut self, flush: bool) -> Result<(), TraceError> {
        self.begin_record(0)?;
        self.end_record(0, flush)
    }

    /// Writes the frame head of a record whose bytes are `scratch` then
    /// `tail` more, and `scratch`; the caller writes the `tail` bytes, then
    /// calls [`Self::end_record`].
    fn begin_record(&mut self, tail: u64) -> Result<(), TraceError> {
        let len = self.scratch.len() as u64 + tail;
        let max_total = self.options.limits.max_total;
        if self.offset + len + 9 > max_total {
            self.scratch.clear();
            return Err(TraceError::TotalTooLarge {
                at: self.loc(),
                max: max_total,
            });
        }
        let mut head = Vec::with_capacity(9);
        codec::encode_frame_head(&mut head, len);
        let written = self
            .enc
            .write_all(&head)
            .and_then(|()| self.enc.write_all(&self.scratch));
        if let Err(e) = written {
            self.broken = true;
            self.scratch.clear();
            return Err(TraceError::Write { source: e });
        }
        self.offset += (head.len() + self.scratch.len()) as u64;
        // Keep a modest buffer, not the largest action record ever written.
        if self.scratch.capacity() > 1 << 20 {
            self.scratch = Vec::with_capacity(4096);
        } else {
            self.scratch.clear();
        }
        Ok(())
    }

    /// Ends the record [`Self::begin_record`] started, after its `tail`
    /// bytes, then flushes if asked.
    fn end_record(&mut self, tail: u64, flush: bool) -> Result<(), TraceError> {
        if flush {
            if let Err(e) = self.enc.flush() {
                self.broken = true;
                return Err(TraceError::Write { source: e });
            }
        }
        self.offset += tail;
        self.records += 1;
        Ok(())
    }
}

/// The piece a blob is read and written in by [`TraceWriter::write_blob_from`].
pub const BLOB_PIECE: usize = 256 << 10;

/// Fills `buf` unless `r` ends first; returns how much it read.
pub(crate) fn fill(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Refuses an action a reader with these [`Limits`] would refuse for
/// its strings or list lengths: better an error now than an unreadable trace.
fn check_readable(a: &ActionRecord, at: Loc, limits: &Limits) -> Result<(), TraceError> {
    let lists = [
        a.deps.len(),
        a.argv.len(),
        a.env.len(),
        a.inputs.len(),
        a.outputs.len(),
    ];
    if let Some(&count) = lists.iter().find(|&&n| n as u64 > limits.max_items) {
        return Err(TraceError::TooManyItems {
            at,
            count: count as u64,
            max: limits.max_items,
        });
    }
    let texts = [&a.kind, &a.package, &a.tool, &a.cwd]
        .into_iter()
        .chain(&a.argv)
        .chain(a.env.iter().flat_map(|(k, v)| [k, v]))
        .chain(a.inputs.iter().map(|f| &f.path))
        .chain(a.outputs.iter().flat_map(|o| [&o.name, &o.file.path]));
    for t in texts {
        if t.len() as u64 > limits.max_string {
            return Err(TraceError::StringTooLong {
                at,
                len: t.len() as u64,
                max: limits.max_string,
            });
        }
    }
    if let Status::Error(m) = &a.status {
        if m.len() as u64 > limits.max_string {
            return Err(TraceError::StringTooLong {
                at,
                len: m.len() as u64,
                max: limits.max_string,
            });
        }
    }
    Ok(())
}
