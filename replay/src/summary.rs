//! Condensing a trace for `gob trace show`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::reader::Trace;
use crate::schema::Status;

/// How many of the slowest actions a summary lists.
pub const SLOWEST: usize = 10;

/// Counts for one kind of action.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct KindSummary {
    /// The kind (`compile`, `link`, …).
    pub kind: String,
    /// Actions of this kind.
    pub count: u32,
    /// Of them, answered from the cache.
    pub cache_hits: u32,
    /// Their summed wall time.
    pub wall_ns: u64,
}

/// One of the slowest actions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlowAction {
    /// Its index.
    pub index: u32,
    /// Its kind.
    pub kind: String,
    /// Its package.
    pub package: String,
    /// Its wall time.
    pub wall_ns: u64,
    /// Whether it was a cache hit.
    pub cached: bool,
}

/// What `gob trace show` prints.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Summary {
    /// The Go toolchain version.
    pub go_version: String,
    /// The target, `os/arch`.
    pub target: String,
    /// The gob that recorded it.
    pub gob_version: String,
    /// Whether the trace has its End record.
    pub complete: bool,
    /// Whether the build succeeded (None for an incomplete trace).
    pub success: Option<bool>,
    /// Action records.
    pub actions: u32,
    /// Of them, cache hits.
    pub cache_hits: u32,
    /// Of them, the ones that did not exit 0.
    pub failed: u32,
    /// Per kind, sorted by kind.
    pub kinds: Vec<KindSummary>,
    /// Summed wall time of all actions (not the build's elapsed time: actions overlap).
    pub total_wall_ns: u64,
    /// Summed CPU time.
    pub total_cpu_ns: u64,
    /// Embedded blobs.
    pub blobs: u64,
    /// Their bytes.
    pub blob_bytes: u64,
    /// The slowest actions, slowest first (at most [`SLOWEST`]).
    pub slowest: Vec<SlowAction>,
}

/// Condenses a trace.
pub fn summary(t: &Trace) -> Summary {
    let mut kinds: BTreeMap<&str, KindSummary> = BTreeMap::new();
    let mut s = Summary {
        go_version: t.header.go_version.clone(),
        target: format!("{}/{}", t.header.target.os, t.header.target.arch),
        gob_version: t.header.gob_version.clone(),
        complete: t.end.is_some(),
        success: t.end.as_ref().map(|e| e.success),
        blobs: t.blobs.len() as u64,
        blob_bytes: t.blobs.values().map(|b| b.len() as u64).sum(),
        ..Summary::default()
    };
    for a in &t.actions {
        s.actions += 1;
        s.cache_hits += u32::from(a.cached);
        s.failed += u32::from(a.status != Status::Exited(0));
        s.total_wall_ns = s.total_wall_ns.saturating_add(a.wall_ns);
        s.total_cpu_ns = s.total_cpu_ns.saturating_add(a.cpu_ns);
        let k = kinds.entry(&a.kind).or_insert_with(|| KindSummary {
            kind: a.kind.clone(),
            ..KindSummary::default()
        });
        k.count += 1;
        k.cache_hits += u32::from(a.cached);
        k.wall_ns = k.wall_ns.saturating_add(a.wall_ns);
    }
    s.kinds = kinds.into_values().collect();
    let mut by_wall: Vec<_> = t.actions.iter().collect();
    by_wall.sort_by(|x, y| y.wall_ns.cmp(&x.wall_ns).then(x.index.cmp(&y.index)));
    s.slowest = by_wall
        .into_iter()
        .take(SLOWEST)
        .map(|a| SlowAction {
            index: a.index,
            kind: a.kind.clone(),
            package: a.package.clone(),
            wall_ns: a.wall_ns,
            cached: a.cached,
        })
        .collect();
    s
}

fn dur(ns: u64) -> String {
    format!("{:.3?}", Duration::from_nanos(ns))
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let esc = crate::text::escape;
        writeln!(
            f,
            "{} for {}, recorded by gob {}",
            esc(&self.go_version),
            esc(&self.target),
            esc(&self.gob_version)
        )?;
        let state = match self.success {
            Some(true) => "complete, build succeeded",
            Some(false) => "complete, build failed",
            None => "INCOMPLETE: the build did not finish",
        };
        writeln!(f, "trace: {state}")?;
        writeln!(
            f,
            "actions: {} ({} cache hits, {} failed); wall {} summed, cpu {}",
            self.actions,
            self.cache_hits,
            self.failed,
            dur(self.total_wall_ns),
            dur(self.total_cpu_ns)
        )?;
        for k in &self.kinds {
            writeln!(
                f,
                "  {:<12} {:>6} ({} cached) {}",
                esc(&k.kind),
                k.count,
                k.cache_hits,
                dur(k.wall_ns)
            )?;
        }
        writeln!(f, "blobs: {} ({} bytes)", self.blobs, self.blob_bytes)?;
        if !self.slowest.is_empty() {
            writeln!(f, "slowest:")?;
            for a in &self.slowest {
                let cached = if a.cached { " (cached)" } else { "" };
                writeln!(
                    f,
                    "  {:>10} [{}] {} {}{cached}",
                    dur(a.wall_ns),
                    a.index,
                    esc(&a.kind),
                    esc(&a.package)
                )?;
            }
        }
        Ok(())
    }
}
