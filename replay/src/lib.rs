//! gob-replay: the versioned trace schema, its writer, reader and verifier.
//!
//! This crate does not depend on the executor's types. It is filled in by the
//! "Record/replay" work; until then it exposes nothing.
#![deny(missing_docs)]
