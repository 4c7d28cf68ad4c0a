//! Errors: every one names where in the trace it happened.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::schema::Digest;

/// Where in a trace something went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Loc {
    /// The record's index in the stream (the header is record 0).
    pub record: u64,
    /// Offset in the decompressed stream: of the failing byte when known,
    /// else of the record's start.
    pub offset: u64,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {} (byte {})", self.record, self.offset)
    }
}

/// What is wrong with an inside path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathProblem {
    /// It is empty.
    Empty,
    /// It does not start with `/`.
    Relative,
    /// It contains a NUL byte.
    Nul,
    /// It contains `//` or ends in `/`.
    EmptyComponent,
    /// It has a `.` component.
    DotComponent,
    /// It has a `..` component.
    DotDotComponent,
    /// It is longer than [`crate::MAX_PATH`] bytes.
    TooLong,
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathProblem::Empty => "is empty",
            PathProblem::Relative => "is not absolute",
            PathProblem::Nul => "contains a NUL byte",
            PathProblem::EmptyComponent => "has an empty component (`//` or a trailing `/`)",
            PathProblem::DotComponent => "has a `.` component",
            PathProblem::DotDotComponent => "has a `..` component",
            PathProblem::TooLong => "is too long",
        })
    }
}

/// Renders `Some(loc)` as `"record 3 (byte 120): "` and `None` as nothing.
struct MaybeLoc<'a>(&'a Option<Loc>);

impl fmt::Display for MaybeLoc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(loc) => write!(f, "{loc}: "),
            None => Ok(()),
        }
    }
}

/// Any failure to write or read a trace.
///
/// Reading never panics and never allocates from a declared length: bad input
/// ends as one of these, naming the record and the decompressed byte offset.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The trace file could not be opened or created.
    #[error("{}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Writing the trace failed.
    #[error("writing trace: {source}")]
    Write {
        /// Why.
        source: io::Error,
    },
    /// Reading the underlying file or decompressing failed (a corrupt zstd
    /// frame, a checksum mismatch, an I/O error).
    #[error("{at}: reading trace: {source}")]
    Read {
        /// Where.
        at: Loc,
        /// Why.
        source: io::Error,
    },
    /// The bytes are not a zstd stream of a gob trace.
    #[error("not a gob trace: {reason}")]
    NotATrace {
        /// What was found instead.
        reason: String,
    },
    /// The zstd frame asks for a larger window than [`crate::Limits::window_log_max`] allows.
    #[error("not reading trace: its zstd window is {window} bytes, the limit is {max}")]
    WindowTooLarge {
        /// The window size the frame declares.
        window: u64,
        /// The limit.
        max: u64,
    },
    /// The header names another format.
    #[error(
        "not a gob trace: format {}, expected {}",
        crate::text::Esc(found),
        crate::schema::FORMAT
    )]
    WrongFormat {
        /// The format name found.
        found: String,
    },
    /// The header has another version.
    #[error(
        "trace version {found}, this gob reads version {}",
        crate::schema::VERSION
    )]
    WrongVersion {
        /// The version found.
        found: u64,
    },
    /// The stream ended before the `End` record: a build that did not finish.
    /// Every record before the cut was read and is usable.
    #[error("trace is incomplete: it ends after {records_read} records (byte {offset}) without an End record")]
    Incomplete {
        /// Complete records read, the header included.
        records_read: u64,
        /// Decompressed bytes read when the stream ended.
        offset: u64,
    },
    /// A record declares more bytes than [`crate::Limits::max_record`].
    #[error("{at}: record of {size} bytes, the limit is {max}")]
    RecordTooLarge {
        /// Where.
        at: Loc,
        /// Its declared size.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// The decompressed stream grew past [`crate::Limits::max_total`].
    #[error("{at}: trace decompresses past the limit of {max} bytes")]
    TotalTooLarge {
        /// Where.
        at: Loc,
        /// The limit.
        max: u64,
    },
    /// CBOR nested deeper than [`crate::Limits::max_depth`].
    #[error("{at}: values nested deeper than {max}")]
    TooDeep {
        /// Where.
        at: Loc,
        /// The limit.
        max: u32,
    },
    /// An array or map declares more items than [`crate::Limits::max_items`].
    #[error("{at}: {count} items, the limit is {max}")]
    TooManyItems {
        /// Where.
        at: Loc,
        /// The declared count.
        count: u64,
        /// The limit.
        max: u64,
    },
    /// A text string is longer than [`crate::Limits::max_string`].
    #[error("{at}: string of {len} bytes, the limit is {max}")]
    StringTooLong {
        /// Where.
        at: Loc,
        /// Its declared length.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// A record is not well-formed: bad CBOR, a wrong type, a missing key, a
    /// declared length beyond the record's bytes.
    #[error("{at}: malformed record: {reason}")]
    Malformed {
        /// Where.
        at: Loc,
        /// What.
        reason: String,
    },
    /// An embedded blob's content does not hash to its digest.
    #[error("{at}: blob {digest} has content hashing to {actual}")]
    DigestMismatch {
        /// Where.
        at: Loc,
        /// The digest the record declares.
        digest: Digest,
        /// The digest of its content.
        actual: Digest,
    },
    /// A path in a record is not an absolute normalized inside path.
    #[error("{}path {} {problem}", MaybeLoc(at), crate::text::Esc(path))]
    BadPath {
        /// Where (None from [`crate::check_inside_path`] itself).
        at: Option<Loc>,
        /// The path, as found.
        path: String,
        /// What is wrong with it.
        problem: PathProblem,
    },
    /// Records are well-formed but break an invariant of the stream (order,
    /// dependencies, dedup, the End count, the header's place).
    #[error("{at}: {reason}")]
    Invalid {
        /// Where.
        at: Loc,
        /// What.
        reason: String,
    },
    /// A trace exceeds one of the [`crate::Limits`] on what it can make a
    /// reader hold (inputs or outputs of an action, argv and env bytes,
    /// actions, the memory all actions take).
    #[error("{at}: {what} is {count}, the limit is {max}")]
    OverLimit {
        /// Where.
        at: Loc,
        /// What was counted (`action b012: inputs`).
        what: String,
        /// The count found.
        count: u64,
        /// The limit.
        max: u64,
    },
    /// Bytes follow the End record or the zstd frame.
    #[error("{at}: data after the End record")]
    TrailingData {
        /// Where the extra data starts.
        at: Loc,
    },
}

impl TraceError {
    /// Where in the trace the error is, when it names a record.
    pub fn loc(&self) -> Option<Loc> {
        match self {
            TraceError::Read { at, .. }
            | TraceError::RecordTooLarge { at, .. }
            | TraceError::TotalTooLarge { at, .. }
            | TraceError::TooDeep { at, .. }
            | TraceError::TooManyItems { at, .. }
            | TraceError::StringTooLong { at, .. }
            | TraceError::Malformed { at, .. }
            | TraceError::DigestMismatch { at, .. }
            | TraceError::Invalid { at, .. }
            | TraceError::OverLimit { at, .. }
            | TraceError::TrailingData { at } => Some(*at),
            TraceError::BadPath { at, .. } => *at,
            TraceError::Incomplete {
                records_read,
                offset,
            } => Some(Loc {
                record: *records_read,
                offset: *offset,
            }),
            _ => None,
        }
    }

    /// The message for a caller that names the trace file itself: the same
    /// as `to_string()`, less the file name that [`TraceError::Open`] starts with.
    pub fn without_path(&self) -> String {
        match self {
            TraceError::Open { source, .. } => source.to_string(),
            other => other.to_string(),
        }
    }

    /// Whether this is [`TraceError::Incomplete`]: the records before it are
    /// sound, the build just did not finish.
    pub fn is_incomplete(&self) -> bool {
        matches!(self, TraceError::Incomplete { .. })
    }
}
