//! The fuzz target's body, shared with `replay/tests/fuzz_corpus.rs` so the
//! same code runs on stable over a corpus of mutated traces.

use gob_replay::{diff_traces, summary, Limits, Trace, TraceReader};

/// Reads `data` as the *decompressed* stream of a trace (compressing it
/// first), so mutations reach the framing, CBOR and trace layers instead of
/// mostly failing in zstd.
pub fn run_plain(data: &[u8]) -> Option<gob_replay::TraceError> {
    let compressed = zstd::bulk::compress(data, 1).ok()?;
    run(&compressed)
}

/// Limits small enough for a fuzzer's memory budget.
pub fn limits() -> Limits {
    Limits {
        window_log_max: 22,
        max_total: 64 << 20,
        max_record: 16 << 20,
        ..Limits::default()
    }
}

/// Reads `data` as a trace, every record, and runs the report helpers over
/// what it read. Returns the error that stopped it, if any, for the caller
/// to inspect. Must never panic, loop or allocate beyond the limits.
pub fn run(data: &[u8]) -> Option<gob_replay::TraceError> {
    let reader = match TraceReader::with_limits(data, limits()) {
        Ok(r) => r,
        Err(e) => {
            let _ = e.to_string();
            return Some(e);
        }
    };
    let mut trace = Trace {
        header: reader.header().clone(),
        actions: Vec::new(),
        blobs: Default::default(),
        end: None,
    };
    let mut stop = None;
    for record in reader {
        match record {
            Ok(gob_replay::schema::Record::Action(a)) => trace.actions.push(a),
            Ok(gob_replay::schema::Record::Blob(b)) => {
                trace.blobs.insert(b.digest, b.data);
            }
            Ok(gob_replay::schema::Record::End(e)) => trace.end = Some(e),
            Ok(gob_replay::schema::Record::Header(_)) => {}
            Err(e) => {
                let _ = e.to_string();
                stop = Some(e);
            }
        }
    }
    let _ = summary(&trace).to_string();
    let _ = diff_traces(&trace, &trace).to_string();
    stop
}
