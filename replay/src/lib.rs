//! gob-replay: the versioned trace schema, its writer, reader and verifier.
//!
//! This crate does not depend on the executor's types: the root crate converts
//! its results into [`schema`] records.
//!
//! # Overview
//! 1. [`TraceWriter`] writes a trace while the build runs: the header, then
//!    blobs and actions as they finish, then `End`. Each action is flushed, so
//!    a crash leaves a readable prefix.
//! 2. [`TraceReader`] reads one back from untrusted bytes, within [`Limits`],
//!    checking blob digests and the stream's invariants.
//! 3. [`plan`] checks what a replay would run and selects it, without
//!    running anything.
//! 4. [`Trace`] is a trace read whole; [`diff_traces`] compares two and
//!    [`summary`] condenses one, both as plain data with a `Display`.
//!
//! `docs/trace-format.md` is the normative description of the format.
#![deny(missing_docs)]

mod codec;
pub mod diff;
mod error;
pub mod plan;
mod reader;
pub mod schema;
mod summary;
mod text;
mod validate;
mod writer;

pub use diff::{diff_traces, first_difference, first_difference_read, TraceDiff};
pub use error::{Loc, PathProblem, TraceError};
pub use reader::{BlobRead, CopyError, Item, Limits, Trace, TraceReader};
pub use summary::{summary, KindSummary, SlowAction, Summary, SLOWEST};
pub use text::{escape, is_plain, terminal_safe_json, Esc, EscLine};
pub use validate::{check_inside_path, MAX_PATH};
pub use writer::{TraceWriter, WriterOptions, BLOB_PIECE, DEFAULT_LEVEL};
