//! `gob trace show` and `gob trace diff`: a recorded trace (or two) as text or JSON lines.

use std::path::{Path, PathBuf};

use gob_replay::{Limits, Trace, TraceDiff};

/// A trace that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct OpenError {
    /// The trace file.
    pub path: PathBuf,
    /// Why, without the path.
    pub message: String,
}

/// Reads a trace for show or diff: neither needs the inputs' bytes, so they
/// are checked and dropped.
pub fn open(path: &Path) -> Result<Trace, OpenError> {
    Trace::open_keeping(path, Limits::default(), |_, _| false).map_err(|e| OpenError {
        path: path.to_path_buf(),
        message: e.without_path(),
    })
}

/// `gob trace show FILE`: [`show`] of the trace in `path`.
pub fn show_file(path: &Path, json: bool) -> Result<String, OpenError> {
    Ok(show(&open(path)?, json))
}

/// `gob trace diff A B`: [`show_diff`] of the two traces, and whether they
/// are equivalent.
pub fn diff_files(a: &Path, b: &Path, json: bool) -> Result<(String, bool), OpenError> {
    let (ta, tb) = (open(a)?, open(b)?);
    let d = gob_replay::diff_traces(&ta, &tb);
    Ok((show_diff(&d, json), d.is_empty()))
}

/// `gob trace show`: the header, then one line per action (id, kind, package,
/// wall time, cached or sandbox mode, status, deps), then totals. With `json`,
/// one JSON object for the header and one per action, a line each.
pub fn show(t: &Trace, json: bool) -> String {
    use std::fmt::Write;
    // Every string from the trace goes through the one escaping function.
    let e = gob_replay::escape;
    let h = &t.header;
    let id = gob_replay::schema::action_id;
    let mut s = String::new();
    if json {
        let head = serde_json::json!({
            "Trace": {
                "Format": h.format, "Version": h.version, "Gob": h.gob_version,
                "Target": format!("{}/{}", h.target.os, h.target.arch),
                "TargetEnv": h.target_env.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
                "Go": h.go_version,
                "Tools": format!("{}/{}", h.tool_platform.os, h.tool_platform.arch),
                "Host": format!("{}/{}", h.host.os, h.host.arch),
                "Patterns": h.patterns, "Blobs": h.blobs, "Complete": t.is_complete(),
                "Success": t.end.as_ref().map(|e| e.success),
            }
        });
        let _ = writeln!(s, "{}", gob_replay::terminal_safe_json(&head.to_string()));
        for a in &t.actions {
            let v = serde_json::json!({
                "Action": id(a.index), "Kind": a.kind, "ImportPath": a.package,
                "Deps": a.deps.iter().map(|d| id(*d)).collect::<Vec<_>>(),
                "Tool": a.tool, "Cached": a.cached,
                "WallMs": a.wall_ns as f64 / 1e6, "CpuMs": a.cpu_ns as f64 / 1e6,
                "Sandbox": a.sandbox.as_ref().map(|x| x.mode.clone()),
                "LandlockABI": a.sandbox.as_ref().and_then(|x| x.landlock_abi),
                "Inputs": a.inputs.len(), "Outputs": a.outputs.iter().map(|o| serde_json::json!({
                    "Name": o.name, "Path": o.file.path, "Size": o.file.size,
                    "Digest": o.file.digest.0.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                })).collect::<Vec<_>>(),
                "Status": format!("{:?}", a.status),
            });
            let _ = writeln!(s, "{}", gob_replay::terminal_safe_json(&v.to_string()));
        }
        return s;
    }
    let _ = writeln!(
        s,
        "trace {} v{} by gob {}: {} for {}/{}{} with {} ({}/{} tools) on {}/{}",
        e(&h.format),
        h.version,
        e(&h.gob_version),
        if h.patterns.is_empty() {
            ".".to_string()
        } else {
            h.patterns
                .iter()
                .map(|p| e(p))
                .collect::<Vec<_>>()
                .join(" ")
        },
        e(&h.target.os),
        e(&h.target.arch),
        h.target_env
            .iter()
            .filter(|(k, _)| k != "GOOS" && k != "GOARCH")
            .map(|(k, v)| format!(" {}={}", e(k), e(v)))
            .collect::<String>(),
        e(&h.go_version),
        e(&h.tool_platform.os),
        e(&h.tool_platform.arch),
        e(&h.host.os),
        e(&h.host.arch)
    );
    let _ = writeln!(
        s,
        "{}; input blobs {}",
        match &t.end {
            Some(e) if e.success => "build succeeded".to_string(),
            Some(_) => "build failed".to_string(),
            None => "INCOMPLETE: the build was interrupted".to_string(),
        },
        if h.blobs {
            "embedded"
        } else {
            "not embedded (digests only)"
        }
    );
    let mut cached = 0;
    let mut wall = 0u64;
    for a in &t.actions {
        cached += a.cached as usize;
        wall += a.wall_ns;
        let how = if a.cached {
            "cached".to_string()
        } else {
            match &a.sandbox {
                Some(x) => match x.landlock_abi {
                    Some(abi) => format!("{} (landlock v{abi})", e(&x.mode)),
                    None => e(&x.mode),
                },
                None => "gob".to_string(),
            }
        };
        let status = match &a.status {
            gob_replay::schema::Status::Exited(0) => String::new(),
            gob_replay::schema::Status::Error(m) => format!("  Error({})", e(m)),
            other => format!("  {other:?}"),
        };
        let _ = writeln!(
            s,
            "{} {:<10} {:<40} {:>9.1} ms  {:<22} deps [{}]{status}",
            id(a.index),
            e(&a.kind),
            e(&a.package),
            a.wall_ns as f64 / 1e6,
            how,
            a.deps.iter().map(|d| id(*d)).collect::<Vec<_>>().join(" ")
        );
    }
    let _ = writeln!(
        s,
        "{} actions: {} ran, {} cached; {:.1} s of action time",
        t.actions.len(),
        t.actions.len() - cached,
        cached,
        wall as f64 / 1e9
    );
    let mut slow: Vec<&gob_replay::schema::ActionRecord> =
        t.actions.iter().filter(|a| !a.cached).collect();
    slow.sort_by_key(|a| std::cmp::Reverse(a.wall_ns));
    if !slow.is_empty() {
        let _ = writeln!(s, "slowest:");
        for a in slow.iter().take(5) {
            let _ = writeln!(
                s,
                "  {} {} {} {:.1} ms",
                id(a.index),
                e(&a.kind),
                e(&a.package),
                a.wall_ns as f64 / 1e6
            );
        }
    }
    s
}

/// `gob trace diff`: the replay crate's report, or with `json` one object per
/// differing action (`Action`, `ImportPath`, `Kind`, `RootCause`, `Cause`,
/// `Outputs`) after one for the header differences.
pub fn show_diff(d: &TraceDiff, json: bool) -> String {
    if !json {
        let text = d.to_string();
        return if d.is_empty() {
            "traces are equivalent: same actions, inputs, flags and outputs\n".to_string()
        } else if text.ends_with('\n') {
            text
        } else {
            text + "\n"
        };
    }
    use std::fmt::Write;
    let mut s = String::new();
    let head = serde_json::json!({
        "Equivalent": d.is_empty(),
        "Header": d.header.iter().map(|h| serde_json::json!({"Field": h.field, "A": h.a, "B": h.b})).collect::<Vec<_>>(),
        "OnlyInA": d.only_in_a.iter().map(|u| format!("{} {}", u.key.kind, u.key.package)).collect::<Vec<_>>(),
        "OnlyInB": d.only_in_b.iter().map(|u| format!("{} {}", u.key.kind, u.key.package)).collect::<Vec<_>>(),
    });
    let _ = writeln!(s, "{}", gob_replay::terminal_safe_json(&head.to_string()));
    for a in &d.actions {
        let v = serde_json::json!({
            "Action": gob_replay::schema::action_id(a.action.index_a),
            "ActionB": gob_replay::schema::action_id(a.action.index_b),
            "ImportPath": a.action.key.package,
            "Kind": a.action.key.kind,
            "RootCause": a.is_root_cause(),
            "Cause": format!("{:?}", a.cause),
            "Outputs": a.outputs.iter().map(|o| serde_json::json!({
                "Name": o.name,
                "A": o.a.as_ref().map(|f| f.digest.to_hex()),
                "B": o.b.as_ref().map(|f| f.digest.to_hex()),
            })).collect::<Vec<_>>(),
        });
        let _ = writeln!(s, "{}", gob_replay::terminal_safe_json(&v.to_string()));
    }
    s
}
