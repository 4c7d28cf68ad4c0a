//! `-json`: one JSON object per line on stdout, the shape of `go build -json`
//! (`go help buildjson`) where it fits, plus gob's own events. The event
//! vocabulary is documented in `docs/json.md`; keep the two in step.
//!
//! go's events: `build-output` (`Output` holds a portion of the text go build
//! would print; the concatenation of all of them is that text) and
//! `build-fail`. gob adds `action-done`, `build-done`, `replay-action`,
//! `replay-done`, `audit-build`, `audit-diverged` and `audit-done`; a consumer
//! of go's events skips actions it does not know.

use std::io::Write;

/// Writes one event as a line on stdout (locked, flushed: lines never interleave).
pub fn emit<T: serde::Serialize + ?Sized>(v: &T) {
    let Ok(line) = line(v) else {
        return;
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// One event as a JSON line, safe for a terminal: control and bidi
/// characters from a trace (or a tool's output) appear as `\uXXXX`
/// ([`gob_replay::terminal_safe_json`]).
pub fn line<T: serde::Serialize + ?Sized>(v: &T) -> serde_json::Result<String> {
    serde_json::to_string(v).map(|s| gob_replay::terminal_safe_json(&s))
}

/// go's BuildEvent, field for field and in go's order.
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BuildEvent<'a> {
    /// The package (`Package.ImportPath` of go list).
    pub import_path: &'a str,
    /// `build-output` or `build-fail`.
    pub action: &'static str,
    /// A portion of the text output (build-output only).
    #[serde(skip_serializing_if = "str::is_empty")]
    pub output: &'a str,
}

/// go's `build-output`.
pub fn build_output<'a>(import_path: &'a str, output: &'a str) -> BuildEvent<'a> {
    BuildEvent {
        import_path,
        action: "build-output",
        output,
    }
}

/// go's `build-fail`.
pub fn build_fail(import_path: &str) -> BuildEvent<'_> {
    BuildEvent {
        import_path,
        action: "build-fail",
        output: "",
    }
}

/// A duration as go's test2json writes `Elapsed`: seconds, to the millisecond.
pub fn seconds(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// A failure as go's JSON printer reports one (`Errorf`): each line of
/// `text` a `build-output` event of its own, then `build-fail`.
pub fn emit_failure(import_path: &str, text: &str) {
    let mut text = text.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    for line in text.split_inclusive('\n') {
        emit(&build_output(import_path, line));
    }
    emit(&build_fail(import_path));
}
