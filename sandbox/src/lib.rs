//! gob-sandbox: runs one command under a policy given as plain data.
//!
//! This crate knows nothing about Go. It is filled in by the "Hermetic actions"
//! work; until then it exposes nothing.
#![deny(missing_docs)]
