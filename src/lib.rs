//! gob: a hermetic, sandboxed builder for Go code.
//!
//! See ARCHITECTURE.md for the codemap. The binary (`main.rs`) is a thin CLI over
//! these modules; the sandbox and the trace format live in their own crates.

pub mod config;
pub mod list;
pub mod load;
pub mod toolchain;
