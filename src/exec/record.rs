//! Recording: turns the executor's results into trace records (the schema is
//! `gob_replay::schema`, never the executor's own types) and streams them out.
//!
//! Records are written on the executor's main thread as actions finish, which
//! is a dependency order, and the writer flushes each one: a build that is
//! killed still leaves a readable trace of everything that finished.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use gob_replay::schema::{self, ActionRecord, FileRef, Header, OutputRef, Platform, Root, ToolId};
use gob_replay::TraceWriter;

use crate::cache::{Digest, DigestCache};
use crate::exec::{ActionResult, ExecStatus, InputBytes, Recorder};
use crate::load::LoadConfig;
use crate::plan::{Action, ActionGraph, Arg, Loc, SrcRoot};

/// GOOS/GOARCH spelling of the machine gob runs on.
pub fn host_platform() -> Platform {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        other => other,
    };
    Platform {
        os: std::env::consts::OS.to_string(),
        arch: arch.to_string(),
    }
}

/// The name of the program an action runs, as traces name it.
pub fn tool_name(a: &Action) -> &'static str {
    a.tool.trace_name()
}

use gob_replay::schema::INTERNAL_PACK;

fn digest(d: Digest) -> schema::Digest {
    schema::Digest(*d.as_bytes())
}

/// The header of a build's trace.
pub fn header(
    cfg: &LoadConfig,
    graph: &ActionGraph,
    digests: &DigestCache,
    patterns: &[String],
    blobs: bool,
) -> Header {
    let tc = &cfg.toolchain;
    let mut tools: Vec<ToolId> = Vec::new();
    let mut names: Vec<&str> = graph.actions.iter().map(tool_name).collect();
    names.sort();
    names.dedup();
    for name in names {
        if name == INTERNAL_PACK {
            let d = Digest::of_bytes(
                concat!("gob-internal-pack ", env!("CARGO_PKG_VERSION")).as_bytes(),
            );
            tools.push(ToolId {
                name: name.into(),
                digest: digest(d),
                size: 0,
            });
        } else if let (Some(cc), true) = (&graph.cc, matches!(name, "cc" | "c++")) {
            // The C toolchain's identity: every program, library and header
            // the C actions may read (src/cc.rs), as their keys hold it.
            if let Ok(d) = cc.identity(digests) {
                tools.push(ToolId {
                    name: name.into(),
                    digest: digest(d),
                    size: 0,
                });
            }
        } else if let Ok((d, size)) = digests.digest_sized(&tc.tool_dir().join(name)) {
            tools.push(ToolId {
                name: name.into(),
                digest: digest(d),
                size,
            });
        }
    }
    let target_env = graph
        .actions
        .iter()
        .find(|a| a.tool.binary().is_some())
        .map(|a| a.env.clone())
        .unwrap_or_default();
    Header {
        format: schema::FORMAT.into(),
        version: schema::VERSION,
        gob_version: env!("CARGO_PKG_VERSION").into(),
        target: Platform {
            os: cfg.target.goos.clone(),
            arch: cfg.target.goarch.clone(),
        },
        target_env,
        go_version: tc.version_string.clone(),
        tool_platform: Platform {
            os: tc.host_goos.clone(),
            arch: tc.host_goarch.clone(),
        },
        tools,
        host: host_platform(),
        roots: graph
            .roots
            .iter()
            .map(|(r, _)| Root {
                inside: Loc::Src {
                    root: r.clone(),
                    rel: String::new(),
                }
                .inside(),
                kind: match r {
                    SrcRoot::Goroot => "goroot".into(),
                    SrcRoot::Module { .. } => "module".into(),
                },
            })
            .collect(),
        patterns: patterns.to_vec(),
        blobs,
    }
}

/// The action's argv in inside paths, as every trace holds it (`-c=N` left out:
/// it is not part of what the action computes).
pub fn inside_argv(a: &Action) -> Vec<String> {
    a.args
        .iter()
        .filter(|x| !x.0.is_empty())
        .map(|x: &Arg| x.render(&|l| l.inside()))
        .collect()
}

/// Converts one finished action to its record.
pub fn record(a: &Action, r: &ActionResult) -> ActionRecord {
    let mut inputs: Vec<FileRef> = r
        .inputs
        .iter()
        .map(|u| FileRef {
            path: u.at.inside(),
            size: u.size,
            digest: digest(u.digest),
        })
        .collect();
    inputs.sort_by(|x, y| x.path.cmp(&y.path));
    inputs.dedup_by(|x, y| x.path == y.path);
    let outputs = a
        .outputs
        .iter()
        .filter_map(|o| {
            let got = r.output(&o.name)?;
            Some(OutputRef {
                name: o.name.clone(),
                file: FileRef {
                    path: o.at.inside(),
                    size: got.size,
                    digest: digest(got.digest),
                },
                exec: o.exec,
            })
        })
        .collect();
    let status = match &r.status {
        ExecStatus::Success => schema::Status::Exited(0),
        ExecStatus::Failed { code } => schema::Status::Exited(*code),
        ExecStatus::Signaled { signal } => schema::Status::Signaled(*signal),
        ExecStatus::TimedOut => schema::Status::TimedOut,
        ExecStatus::Error(e) => schema::Status::Error(e.clone()),
    };
    ActionRecord {
        index: a.id.0,
        kind: a.kind.name().into(),
        package: a.import_path.clone(),
        deps: a.deps.iter().map(|d| d.0).collect(),
        tool: tool_name(a).into(),
        argv: inside_argv(a),
        env: a.env.clone(),
        cwd: a.cwd.inside(),
        inputs,
        outputs,
        status,
        stdout: r.log.clone(),
        stderr: Vec::new(),
        wall_ns: r.wall.as_nanos().min(u64::MAX as u128) as u64,
        cpu_ns: r.cpu.as_nanos().min(u64::MAX as u128) as u64,
        cached: r.cached,
        key: r
            .key
            .map(|k| schema::Digest(*k.as_bytes()))
            .unwrap_or(schema::Digest([0; 32])),
        sandbox: r.enforcement.as_ref().map(|e| schema::SandboxInfo {
            mode: e.mode.name().into(),
            landlock_abi: e.landlock_abi,
        }),
    }
}

/// Streams a build's trace to a file.
pub struct TraceRecorder {
    writer: Option<TraceWriter<BufWriter<File>>>,
    path: PathBuf,
    blobs: bool,
    /// The first write error; recording stops there and the build reports it.
    error: Option<String>,
    ok: bool,
}

impl TraceRecorder {
    /// Creates `path` and writes the header.
    pub fn create(path: &Path, header: &Header) -> Result<TraceRecorder, String> {
        if let Some(d) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        let f = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let writer = TraceWriter::new(BufWriter::new(f), header)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(TraceRecorder {
            writer: Some(writer),
            path: path.to_path_buf(),
            blobs: header.blobs,
            error: None,
            ok: true,
        })
    }

    /// Writes the end record (success or not) and closes the file.
    pub fn finish(mut self, success: bool) -> Result<PathBuf, String> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let Some(w) = self.writer.take() {
            let n = w.actions();
            w.finish(schema::End {
                actions: n,
                success: success && self.ok,
            })
            .map_err(|e| format!("{}: {e}", self.path.display()))?;
        }
        Ok(self.path.clone())
    }

    fn write(&mut self, a: &Action, r: &ActionResult) -> Result<(), String> {
        let Some(w) = self.writer.as_mut() else {
            return Ok(());
        };
        let at = |e: gob_replay::TraceError| format!("{}: {e}", self.path.display());
        // Generated inputs (importcfg, go_asm.h) exist nowhere else: they are
        // embedded even in a digest-only trace; files only with blobs on.
        for u in r.inputs.iter() {
            let d = digest(u.digest);
            if w.has_blob(&d) {
                continue;
            }
            match &u.bytes {
                InputBytes::Inline(b) => w.write_blob(&d, b).map_err(at)?,
                InputBytes::File(_) if !self.blobs => continue,
                InputBytes::File(p) => embed_file(w, p, u.digest, u.size)
                    .map_err(|e| format!("embedding {} in the trace: {e}", p.display()))?,
            };
        }
        w.write_action(&record(a, r)).map_err(at)
    }
}

/// Embeds the input file at `p`, only if it holds the bytes its action was
/// keyed by (`digest`, `size`): a trace never holds bytes other than those
/// checked and hashed, even if the file was swapped since or is rewritten
/// while it is embedded. Streamed in pieces
/// ([`TraceWriter::write_blob_from`]): memory does not grow with the file
/// (a linked program's archives are megabytes each).
fn embed_file<W: std::io::Write>(
    w: &mut TraceWriter<W>,
    p: &Path,
    digest: Digest,
    size: u64,
) -> std::io::Result<bool> {
    let (mut f, _) = super::runner::open_input(p)?;
    w.write_blob_from(&self::digest(digest), size, &mut f)
        .map_err(|e| match e {
            gob_replay::TraceError::DigestMismatch { .. } => std::io::Error::other(format!(
                "changed since it was hashed ({digest}); not embedded"
            )),
            e => std::io::Error::other(e.to_string()),
        })
}

impl Recorder for TraceRecorder {
    fn finished(&mut self, _graph: &ActionGraph, a: &Action, r: &ActionResult) {
        if r.status != ExecStatus::Success {
            self.ok = false;
        }
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.write(a, r) {
            self.error = Some(e);
            self.writer = None;
        }
    }
}

/// Where digest-only traces of builds without `--trace` go, newest kept.
pub fn default_dir(cache_dir: &Path) -> PathBuf {
    cache_dir.join("traces")
}

/// How many automatic traces are kept.
pub const KEEP: usize = 20;

/// A fresh file name for an automatic trace, and the older ones pruned to [`KEEP`].
pub fn next_default_path(dir: &Path) -> PathBuf {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let _ = prune(dir, KEEP.saturating_sub(1));
    dir.join(format!(
        "build-{}-{:09}-{}.cbor",
        now.as_secs(),
        now.subsec_nanos(),
        std::process::id()
    ))
}

/// Removes all but the newest `keep` traces (names sort by time).
fn prune(dir: &Path, keep: usize) -> std::io::Result<()> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("build-") && n.ends_with(".cbor"))
        })
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(keep);
    for p in names.into_iter().take(excess) {
        let _ = std::fs::remove_file(p);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The least header a writer takes.
    fn test_header() -> Header {
        let p = || Platform {
            os: "linux".into(),
            arch: "amd64".into(),
        };
        Header {
            format: schema::FORMAT.into(),
            version: schema::VERSION,
            gob_version: "0".into(),
            target: p(),
            target_env: Vec::new(),
            go_version: "go1.27.3".into(),
            tool_platform: p(),
            tools: Vec::new(),
            host: p(),
            roots: Vec::new(),
            patterns: Vec::new(),
            blobs: true,
        }
    }

    /// Regression (issue #13 item 1): the trace embedded an input by reading
    /// its path again after the action ran, whatever it held then; a file
    /// swapped since it was hashed (or for a link) is not embedded.
    #[test]
    fn only_the_hashed_bytes_are_embedded() {
        let dir = std::env::temp_dir().join(format!("gob-record-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("a.go");
        std::fs::write(&f, b"package a\n").unwrap();
        let d = Digest::of_bytes(b"package a\n");
        let mut w = TraceWriter::new(Vec::new(), &test_header()).unwrap();
        std::fs::write(&f, b"SECRET!!!\n").unwrap();
        let e = embed_file(&mut w, &f, d, 10).unwrap_err().to_string();
        assert!(e.contains("changed since it was hashed"), "{e}");
        std::fs::write(dir.join("b.go"), b"package a\n").unwrap();
        std::fs::remove_file(&f).unwrap();
        std::os::unix::fs::symlink(dir.join("b.go"), &f).unwrap();
        let e = embed_file(&mut w, &f, d, 10).unwrap_err().to_string();
        assert!(e.contains("a symlink now"), "{e}");
        // Neither was written; the file with the hashed bytes is.
        assert!(!w.has_blob(&digest(d)));
        assert!(embed_file(&mut w, &dir.join("b.go"), d, 10).unwrap());
        let bytes = w
            .finish(schema::End {
                actions: 0,
                success: true,
            })
            .unwrap();
        let t = gob_replay::Trace::from_reader(&bytes[..], gob_replay::Limits::default()).unwrap();
        assert_eq!(
            t.blobs.get(&digest(d)).map(|b| &b[..]),
            Some(&b"package a\n"[..])
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
