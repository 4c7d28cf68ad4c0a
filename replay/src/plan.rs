//! Planning a replay from a decoded trace, without running anything: what
//! replay refuses to run ([`check_replayable`]), which actions to run
//! ([`select`]) and which embedded blobs those need ([`needed_blobs`]).
//!
//! Pure functions of the [`Trace`] (and of a predicate saying which inputs
//! the replaying host can supply), so a fuzzer can call them on any trace
//! the reader accepts; `gob replay` calls them before it writes anything.

use std::collections::{HashMap, HashSet};

use crate::reader::Trace;
use crate::schema::{action_id, ActionRecord, Digest, FileRef, INTERNAL_PACK};
use crate::text::Esc;

/// The tools replay runs: the Go toolchain's own (by name, from the
/// replaying host's toolchain), and gob's internal pack.
pub const REPLAY_TOOLS: &[&str] = &[
    "compile",
    "asm",
    "link",
    "preprofile",
    "cover",
    "cgo",
    "pack",
    INTERNAL_PACK,
];

/// The action kinds of cgo's pipeline, and the C tools' names in traces.
const CGO_KINDS: &[&str] = &["cgo", "cc", "cc-link", "dynimport"];
const C_TOOLS: &[&str] = &["cc", "c++"];

/// Environment variables a trace may set for a tool without `--trust-env`:
/// the target and its knobs (and `GOROOT=""`, how gob keeps the linker from
/// recording one).
pub const SAFE_ENV: &[&str] = &[
    "GOOS",
    "GOARCH",
    "GOAMD64",
    "GOARM64",
    "GOARM",
    "GO386",
    "GOMIPS",
    "GOMIPS64",
    "GOPPC64",
    "GORISCV64",
    "GOWASM",
    "GOEXPERIMENT",
];

/// Why a trace cannot be replayed as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The trace asks for something replay refuses to do; the message names
    /// the action and what (escaped), and the flag that allows it, if any.
    #[error("{0}")]
    Refused(String),
    /// `--action` matched nothing.
    #[error("--action {}: no action of the trace has this id or package", Esc(.0))]
    NoSuchAction(String),
}

/// Refuses a trace whose actions name a program that is not one of
/// [`REPLAY_TOOLS`], set an environment variable outside [`SAFE_ENV`]
/// (unless `trust_env`), or, for gob's pack, name one file twice (a real
/// pack never does; a crafted one would make the archive grow without
/// bound).
pub fn check_replayable(trace: &Trace, trust_env: bool) -> Result<(), PlanError> {
    // A cgo build's C actions run the recording host's C compiler, which a
    // trace neither carries nor names in a way replay could vouch for.
    if let Some(a) = trace
        .actions
        .iter()
        .find(|a| CGO_KINDS.contains(&a.kind.as_str()) || C_TOOLS.contains(&a.tool.as_str()))
    {
        return Err(PlanError::Refused(format!(
            "action {} ({} of {}) belongs to a cgo build: gob replay does not replay cgo builds yet",
            action_id(a.index),
            Esc(&a.kind),
            Esc(&a.package)
        )));
    }
    for a in &trace.actions {
        let id = action_id(a.index);
        if !REPLAY_TOOLS.contains(&a.tool.as_str()) {
            return Err(PlanError::Refused(format!(
                "action {id} names the program {}; replay runs only the Go toolchain's tools",
                Esc(&a.tool)
            )));
        }
        if !trust_env {
            let safe = |k: &str, v: &str| SAFE_ENV.contains(&k) || (k == "GOROOT" && v.is_empty());
            if let Some((k, _)) = a.env.iter().find(|(k, v)| !safe(k, v)) {
                return Err(PlanError::Refused(format!(
                    "action {id} sets the environment variable {}, which is not a Go target setting; \
                     pass --trust-env to allow it",
                    Esc(k)
                )));
            }
        }
        if a.tool == INTERNAL_PACK {
            check_pack(a)?;
        }
    }
    Ok(())
}

/// gob's pack (`OUT BASE OBJ…`) reads each file once (OUT is the runner's
/// to check: a declared output), and the archive its
/// inputs make (BASE, then per member a 60-byte header, the bytes and a pad
/// to even size) has the size of its recorded output: so what it writes is
/// bounded by what the trace declares, not by a repeated argv.
fn check_pack(a: &ActionRecord) -> Result<(), PlanError> {
    let id = action_id(a.index);
    let mut seen = HashSet::with_capacity(a.argv.len());
    if let Some(twice) = a.argv.iter().skip(1).find(|p| !seen.insert(p.as_str())) {
        return Err(PlanError::Refused(format!(
            "action {id} (pack) names {} twice",
            Esc(twice)
        )));
    }
    let size: HashMap<&str, u64> = a.inputs.iter().map(|f| (f.path.as_str(), f.size)).collect();
    let (Some((out, rest)), true) = (a.argv.split_first(), a.argv.len() >= 2) else {
        return Ok(()); // the runner refuses it, naming what is missing
    };
    let Some(recorded) = a.outputs.iter().find(|o| o.file.path == *out) else {
        return Ok(());
    };
    let mut total = 0u64;
    for (i, p) in rest.iter().enumerate() {
        let Some(&n) = size.get(p.as_str()) else {
            return Ok(());
        };
        total = total.saturating_add(if i == 0 { n } else { 60 + n + n % 2 });
    }
    if total != recorded.file.size {
        return Err(PlanError::Refused(format!(
            "action {id} (pack) would write {total} bytes from its inputs, but its recorded output {} has {} bytes",
            Esc(out),
            recorded.file.size
        )));
    }
    Ok(())
}

/// The actions to replay, by index, sorted: all of them, or (`only`, an id
/// like `b012` or a package path) the ones named plus, transitively, the
/// producers of each input that `available` says this host cannot supply
/// otherwise (not embedded, not under a source tree).
pub fn select(
    trace: &Trace,
    only: Option<&str>,
    available: impl Fn(&FileRef) -> bool,
) -> Result<Vec<u32>, PlanError> {
    let Some(want) = only else {
        return Ok(trace.actions.iter().map(|a| a.index).collect());
    };
    let picked: Vec<u32> = trace
        .actions
        .iter()
        .filter(|a| action_id(a.index) == want || a.package == want)
        .map(|a| a.index)
        .collect();
    if picked.is_empty() {
        return Err(PlanError::NoSuchAction(want.to_string()));
    }
    let producers = producers(trace);
    let mut out: HashSet<u32> = HashSet::new();
    let mut stack = picked;
    while let Some(i) = stack.pop() {
        if !out.insert(i) {
            continue;
        }
        let Some(a) = trace.action(i) else { continue };
        for f in &a.inputs {
            if !available(f) {
                if let Some(&p) = producers.get(f.path.as_str()) {
                    stack.push(p);
                }
            }
        }
    }
    let mut v: Vec<u32> = out.into_iter().collect();
    v.sort_unstable();
    Ok(v)
}

/// Output path → the action producing it.
pub fn producers(trace: &Trace) -> HashMap<&str, u32> {
    let mut m = HashMap::new();
    for a in &trace.actions {
        for o in &a.outputs {
            m.insert(o.file.path.as_str(), a.index);
        }
    }
    m
}

/// The digests the `selected` actions need from the trace's blobs: their
/// inputs, and their recorded outputs (to find the first differing byte of
/// a divergent one), with the bytes each stands for.
pub fn needed_blobs(trace: &Trace, selected: &[u32]) -> HashMap<Digest, u64> {
    let mut m = HashMap::new();
    for a in selected.iter().filter_map(|&i| trace.action(i)) {
        for f in a.inputs.iter().chain(a.outputs.iter().map(|o| &o.file)) {
            m.insert(f.digest, f.size);
        }
    }
    m
}
