//! `gob audit`: build twice under conditions that must not matter, and prove
//! every output of every action identical.
//!
//! Each build gets a fresh cache and work directory under one scratch root,
//! records a self-contained trace, and runs every tool in a sandbox that maps
//! paths (`full` unless `--sandbox=namespaces`). Build b differs from build a
//! in: the host path of its work directory (with a space in it), `-p`, the
//! order ready actions are taken in, the uid tools run as inside the user
//! namespace, their umask, and environment noise (TZ, LANG, LC_ALL, HOME,
//! SOURCE_DATE_EPOCH unset vs set). The builds also run at different times.
//! The two traces are compared with [`gob_replay::diff_traces`]; for each
//! output that differs, the first differing byte is found from the files the
//! builds left behind. With `--against`, one build (b's conditions) is
//! compared with a trace recorded elsewhere.
//!
//! Invariant: the noise never enters an action's key or its trace record (the
//! trace holds the declared environment, which `gob replay` reproduces), so
//! a difference can only show up in outputs.

use std::path::{Path, PathBuf};

use gob_replay::diff::{ActionDiff, Cause};
use gob_replay::{Trace, TraceDiff};

use crate::commands::build::{
    self, BuildError, BuildOptions, Conditions, SandboxChoice, TraceChoice,
};
use crate::exec::BuildReport;
use crate::load::LoadConfig;

/// Options of `gob audit`.
#[derive(Clone, Debug)]
pub struct AuditOptions {
    /// The build flags (jobs, plan flags, -toolexec, -o, -json...).
    pub build: BuildOptions,
    /// Compare one build with this trace instead of building twice.
    pub against: Option<PathBuf>,
    /// Keep the traces here (a new or empty directory): `a.cbor`, `b.cbor`.
    pub keep: Option<PathBuf>,
    /// Where the scratch root goes ($TMPDIR).
    pub tmp: PathBuf,
}

/// Errors that stop an audit before it can give a verdict.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Build a (or the only build) failed: there is nothing to compare.
    #[error("build {variant} failed:\n{source}")]
    Build {
        /// Which build.
        variant: char,
        /// Why.
        source: BuildError,
    },
    /// A trace could not be read.
    #[error("{}: {message}", path.display())]
    Trace {
        /// The trace.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Bad options or a file system problem.
    #[error("{0}")]
    Setup(String),
}

/// One build's conditions.
#[derive(Clone, Debug)]
pub struct Variant {
    /// `a` or `b`.
    pub name: char,
    /// `-p`.
    pub jobs: usize,
    /// uid, umask, environment noise, ready order.
    pub conditions: Conditions,
    /// The work directory's host path.
    pub work: PathBuf,
}

impl Variant {
    /// One line saying what this build varied.
    pub fn describe(&self) -> String {
        let c = &self.conditions;
        let env: Vec<String> = c.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let sde = if c.env.iter().any(|(k, _)| k == "SOURCE_DATE_EPOCH") {
            ""
        } else {
            " SOURCE_DATE_EPOCH unset;"
        };
        format!(
            "-p {}; ready actions {}; uid {}; umask {:03o}; {};{sde} work {}",
            self.jobs,
            if c.reverse_order {
                "in reverse order"
            } else {
                "by critical path"
            },
            c.inside_id.unwrap_or(gob_sandbox::INSIDE_ID),
            c.umask.unwrap_or(0o022),
            env.join(" "),
            self.work.display()
        )
    }
}

/// The two sets of conditions, under `root`.
pub fn variants(jobs: usize, root: &Path) -> [Variant; 2] {
    let env = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    [
        Variant {
            name: 'a',
            jobs,
            conditions: Conditions {
                inside_id: Some(gob_sandbox::INSIDE_ID),
                umask: Some(0o022),
                env: env(&[
                    ("TZ", "UTC"),
                    ("LANG", "C.UTF-8"),
                    ("LC_ALL", "C.UTF-8"),
                    ("HOME", "/home/gob-audit-a"),
                ]),
                reverse_order: false,
            },
            work: root.join("a").join("work"),
        },
        Variant {
            name: 'b',
            jobs: if jobs > 1 { 1 } else { 2 },
            conditions: Conditions {
                inside_id: Some(54321),
                umask: Some(0o077),
                env: env(&[
                    ("TZ", "Asia/Kathmandu"),
                    ("LANG", "tr_TR.UTF-8"),
                    ("LC_ALL", "tr_TR.UTF-8"),
                    ("HOME", "/nonexistent/gob audit b"),
                    ("SOURCE_DATE_EPOCH", "1234567890"),
                ]),
                reverse_order: true,
            },
            work: root
                .join("b")
                .join("a longer build directory b")
                .join("work"),
        },
    ]
}

/// One build that ran.
#[derive(Debug)]
pub struct BuildRun {
    /// Its conditions.
    pub variant: Variant,
    /// Its trace.
    pub trace: PathBuf,
    /// Number of actions.
    pub actions: usize,
    /// Wall time.
    pub wall: std::time::Duration,
}

/// Where two versions of one output first differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offset {
    /// The output's name.
    pub name: String,
    /// The first differing byte (the shorter length when one is a prefix).
    pub at: u64,
    /// Up to 16 bytes from `at` in a.
    pub a: Vec<u8>,
    /// Up to 16 bytes from `at` in b.
    pub b: Vec<u8>,
}

/// A release file (a binary, or the -o tar) that differs between the builds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactDiff {
    /// Its name.
    pub name: String,
    /// Where it first differs (None: only one build wrote it).
    pub at: Option<u64>,
}

/// The verdict.
#[derive(Debug)]
pub struct AuditReport {
    /// The builds that ran (one with --against).
    pub builds: Vec<BuildRun>,
    /// The trace compared as a (the --against trace, or build a's).
    pub trace_a: PathBuf,
    /// The differences.
    pub diff: TraceDiff,
    /// Number of actions compared.
    pub actions: usize,
    /// First differing bytes of differing outputs, by action index in a.
    pub offsets: Vec<(u32, Offset)>,
    /// Release files that differ.
    pub artifacts: Vec<ArtifactDiff>,
    /// Build b failed after build a succeeded: the message.
    pub b_failed: Option<String>,
    /// Where the traces are kept (None: removed).
    pub kept: Option<PathBuf>,
    /// Files written for -o (after a reproducible audit).
    pub installed: Vec<PathBuf>,
}

impl AuditReport {
    /// Whether the builds are reproducible: every matched action has the same
    /// outputs and status, no action is missing, and release files match.
    pub fn reproducible(&self) -> bool {
        self.b_failed.is_none()
            && self.differing().next().is_none()
            && self.diff.only_in_a.is_empty()
            && self.diff.only_in_b.is_empty()
            && self.artifacts.is_empty()
    }

    /// The actions whose results differ, in dependency order.
    pub fn differing(&self) -> impl Iterator<Item = &ActionDiff> {
        self.diff.actions.iter().filter(|d| d.results_differ())
    }
}

/// Runs the audit.
pub fn audit(
    cfg: &LoadConfig,
    patterns: &[String],
    opts: &AuditOptions,
) -> Result<AuditReport, AuditError> {
    let sandbox = match opts.build.sandbox {
        SandboxChoice::Auto => SandboxChoice::Exactly(gob_sandbox::Mode::Full),
        SandboxChoice::Exactly(m) if m.remaps_paths() => SandboxChoice::Exactly(m),
        SandboxChoice::Exactly(m) => {
            return Err(AuditError::Setup(format!(
                "--sandbox={}: an audit needs a sandbox that maps paths (full or namespaces)",
                m.name()
            )))
        }
    };
    let traces = match &opts.keep {
        Some(k) => {
            let empty = std::fs::read_dir(k).map(|mut d| d.next().is_none());
            match empty {
                Ok(true) => {}
                Ok(false) => {
                    return Err(AuditError::Setup(format!(
                        "--keep {}: directory is not empty",
                        k.display()
                    )))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::create_dir_all(k)
                    .map_err(|e| AuditError::Setup(format!("{}: {e}", k.display())))?,
                Err(e) => return Err(AuditError::Setup(format!("{}: {e}", k.display()))),
            }
            k.clone()
        }
        None => PathBuf::new(),
    };
    let scratch = scratch_root(&opts.tmp)?;
    let root = scratch.path().to_path_buf();
    let traces = if opts.keep.is_some() {
        traces
    } else {
        root.join("traces")
    };
    let result = run_builds(cfg, patterns, opts, sandbox, &root, &traces);
    // Caches and work directories always go; the traces stay when asked for
    // or when they explain a verdict of not reproducible.
    let keep_traces = opts.keep.is_some() || matches!(&result, Ok(r) if !r.reproducible());
    for v in ['a', 'b'] {
        if let Err(e) = gob_sandbox::tree::remove(&root.join(v.to_string())) {
            eprintln!("gob audit: warning: {e}");
        }
    }
    if keep_traces {
        if let Err(e) = scratch.keep() {
            eprintln!("gob audit: warning: {e}");
        }
    } else {
        drop(scratch);
    }
    let mut report = result?;
    if keep_traces {
        report.kept = Some(traces);
    }
    Ok(report)
}

fn scratch_root(tmp: &Path) -> Result<crate::workdir::WorkDir, AuditError> {
    crate::workdir::WorkDir::create(tmp, "gob-audit").map_err(|e| AuditError::Setup(e.to_string()))
}

/// Where build `v` puts its release files: a tar, or a directory of binaries.
fn staged_output(root: &Path, v: char, user: Option<&Path>) -> PathBuf {
    let dir = root.join(v.to_string()).join("out");
    match user {
        Some(o) if crate::dist::is_tar_output(o) => {
            dir.join(o.file_name().unwrap_or("dist.tar".as_ref()))
        }
        _ => {
            let mut s = dir.into_os_string();
            s.push("/");
            PathBuf::from(s)
        }
    }
}

/// Reads a trace's actions, checking and dropping its blobs.
fn open_actions(path: &Path) -> Result<Trace, AuditError> {
    Trace::open_keeping(path, gob_replay::Limits::default(), |_, _| false).map_err(|e| {
        AuditError::Trace {
            path: path.to_path_buf(),
            message: e.without_path(),
        }
    })
}

fn run_builds(
    cfg: &LoadConfig,
    patterns: &[String],
    opts: &AuditOptions,
    sandbox: SandboxChoice,
    root: &Path,
    traces: &Path,
) -> Result<AuditReport, AuditError> {
    let [va, vb] = variants(opts.build.jobs.max(1), root);
    let against = match &opts.against {
        Some(p) => Some((
            p.clone(),
            // Input bytes are read back below for the outputs that differ.
            open_actions(p)?,
        )),
        None => None,
    };
    // With --against and no packages: the ones the trace was recorded for.
    let patterns: Vec<String> = match &against {
        Some((_, t)) if patterns.is_empty() => t.header.patterns.clone(),
        _ => patterns.to_vec(),
    };
    let one = |v: &Variant| -> Result<(BuildRun, OutputPaths, PathBuf), BuildError> {
        let cache_dir = root.join(v.name.to_string()).join("cache");
        let cache = crate::cache::Cache::open(&cache_dir).map_err(|e| {
            BuildError::Trace(format!("opening cache {}: {e}", cache_dir.display()))
        })?;
        let trace = traces.join(format!("{}.cbor", v.name));
        let out = staged_output(root, v.name, opts.build.output.as_deref());
        let bo = BuildOptions {
            jobs: v.jobs,
            sandbox,
            force: false,
            trace: TraceChoice::File {
                path: trace.clone(),
                blobs: true,
            },
            conditions: v.conditions.clone(),
            output: Some(out.clone()),
            // Every package named is checked, not only the executables staged.
            output_all: true,
            dry_run: false,
            debug_actiongraph: None,
            progress_label: Some(format!("build {}", v.name)),
            ..opts.build.clone()
        };
        let t0 = std::time::Instant::now();
        let outcome = build::build(cfg, &patterns, &cache, &v.work, &bo)?;
        let report = outcome.report.ok_or_else(|| {
            BuildError::Trace("the build ran no actions (answered without a plan)".into())
        })?;
        Ok((
            BuildRun {
                variant: v.clone(),
                trace,
                actions: report.results.len(),
                wall: t0.elapsed(),
            },
            // Only where the outputs are is kept: build b runs beside it.
            OutputPaths::of(report),
            out,
        ))
    };
    let emit_build = |r: &BuildRun| {
        if opts.build.json {
            crate::events::emit(&serde_json::json!({
                "Action": "audit-build",
                "Build": r.variant.name.to_string(),
                "Conditions": r.variant.describe(),
                "Actions": r.actions,
                "Trace": r.trace,
                "Elapsed": crate::events::seconds(r.wall),
            }));
        }
    };

    let mut builds = Vec::new();
    // Side a: the --against trace, or build a.
    let (trace_a_path, side_a) = match against {
        Some((p, t)) => (p, SideA::Trace(Box::new(t))),
        None => {
            let (run, paths, out) = one(&va).map_err(|source| AuditError::Build {
                variant: 'a',
                source,
            })?;
            emit_build(&run);
            let p = run.trace.clone();
            builds.push(run);
            (p, SideA::Built { paths, out })
        }
    };
    let (run_b, paths_b, out_b) = match one(&vb) {
        Ok(x) => x,
        Err(source) if matches!(side_a, SideA::Built { .. }) => {
            // Build a worked and b did not: b's conditions broke the build.
            return Ok(AuditReport {
                builds,
                trace_a: trace_a_path,
                diff: TraceDiff::default(),
                actions: 0,
                offsets: Vec::new(),
                artifacts: Vec::new(),
                b_failed: Some(source.to_string()),
                kept: None,
                installed: Vec::new(),
            });
        }
        Err(source) => {
            return Err(AuditError::Build {
                variant: 'b',
                source,
            })
        }
    };
    emit_build(&run_b);
    // The outputs' bytes are in the builds' files.
    let tb = open_actions(&run_b.trace)?;
    builds.push(run_b);
    let ta_owned;
    let ta = match &side_a {
        SideA::Trace(t) => t.as_ref(),
        SideA::Built { .. } => {
            ta_owned = open_actions(&trace_a_path)?;
            &ta_owned
        }
    };
    let diff = gob_replay::diff_traces(ta, &tb);

    // First differing bytes, from the files the builds left behind (side a
    // of an --against trace: its blobs, when it embeds the output; read
    // again keeping just those).
    let wanted: std::collections::HashSet<gob_replay::schema::Digest> = diff
        .actions
        .iter()
        .filter(|d| d.results_differ())
        .flat_map(|d| {
            d.outputs
                .iter()
                .filter_map(|o| o.a.as_ref().map(|f| f.digest))
        })
        .collect();
    let side_a_blobs = match &side_a {
        SideA::Trace(_) if !wanted.is_empty() => {
            Trace::open_keeping(&trace_a_path, gob_replay::Limits::default(), |d, _| {
                wanted.contains(d)
            })
            .map(|t| t.blobs)
            .unwrap_or_default()
        }
        _ => Default::default(),
    };
    let mut offsets = Vec::new();
    for d in diff.actions.iter().filter(|d| d.results_differ()) {
        for o in &d.outputs {
            let (Some(fa), Some(fb)) = (&o.a, &o.b) else {
                continue;
            };
            if fb.digest == fa.digest {
                continue;
            }
            let Some(path_b) = paths_b.get(d.action.index_b, &o.name) else {
                continue;
            };
            let side = match &side_a {
                SideA::Built { paths, .. } => match paths.get(d.action.index_a, &o.name) {
                    Some(p) => Bytes::File(p),
                    None => continue,
                },
                SideA::Trace(_) => match side_a_blobs.get(&fa.digest) {
                    Some(x) => Bytes::Mem(x),
                    None => continue,
                },
            };
            if let Some((at, a, b)) = difference(&side, &Bytes::File(path_b)) {
                offsets.push((
                    d.action.index_a,
                    Offset {
                        name: o.name.clone(),
                        at,
                        a,
                        b,
                    },
                ));
            }
        }
    }

    // Release files: what -o would get, byte for byte.
    let mut artifacts = Vec::new();
    if let SideA::Built { out: out_a, .. } = &side_a {
        artifacts = compare_release(out_a, &out_b);
    }
    let mut report = AuditReport {
        builds,
        trace_a: trace_a_path,
        actions: ta.actions.len().max(tb.actions.len()),
        diff,
        offsets,
        artifacts,
        b_failed: None,
        kept: None,
        installed: Vec::new(),
    };
    if report.reproducible() {
        if let Some(dest) = &opts.build.output {
            let from = match &side_a {
                SideA::Built { out, .. } => out.clone(),
                SideA::Trace(_) => out_b.clone(),
            };
            report.installed = install_release(&from, dest)?;
        }
    }
    Ok(report)
}

enum SideA {
    Trace(Box<Trace>),
    Built { paths: OutputPaths, out: PathBuf },
}

/// Where each action's outputs are on the host, by action index: all an
/// audit keeps of a build's report (the first differing byte is read from
/// these files), so the first build's report is not held while the second
/// build runs.
struct OutputPaths(Vec<Vec<(String, PathBuf)>>);

impl OutputPaths {
    fn of(report: BuildReport) -> OutputPaths {
        OutputPaths(
            report
                .results
                .into_iter()
                .map(|r| r.outputs.into_iter().map(|o| (o.name, o.path)).collect())
                .collect(),
        )
    }

    /// The host path of output `name` of the action at `index`.
    fn get(&self, index: u32, name: &str) -> Option<&Path> {
        self.0
            .get(index as usize)?
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.as_path())
    }
}

/// The files under a staged output (a tar file, or a directory of binaries), by name.
fn release_files(out: &Path) -> Vec<(String, PathBuf)> {
    if out.is_file() {
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return vec![(name, out.to_path_buf())];
    }
    let mut v: Vec<(String, PathBuf)> = std::fs::read_dir(out)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    v.sort();
    v
}

/// One side of a byte comparison: a file a build left, or bytes from a trace.
enum Bytes<'a> {
    File(&'a Path),
    Mem(&'a [u8]),
}

impl Bytes<'_> {
    fn reader(&self) -> std::io::Result<Box<dyn std::io::Read + '_>> {
        Ok(match self {
            Bytes::File(p) => Box::new(std::fs::File::open(p)?),
            Bytes::Mem(x) => Box::new(*x),
        })
    }

    /// Up to 16 bytes from `at`.
    fn window(&self, at: u64) -> Vec<u8> {
        use std::io::{Read, Seek};
        match self {
            Bytes::Mem(x) => {
                let s = (at as usize).min(x.len());
                x[s..(s + 16).min(x.len())].to_vec()
            }
            Bytes::File(p) => {
                let mut w = Vec::new();
                let _ = std::fs::File::open(p).and_then(|mut f| {
                    f.seek(std::io::SeekFrom::Start(at))?;
                    f.take(16).read_to_end(&mut w)
                });
                w
            }
        }
    }
}

/// Where `a` and `b` first differ, with 16 bytes of each from there; None
/// when they are equal or one cannot be read. Streamed: binaries are large.
fn difference(a: &Bytes, b: &Bytes) -> Option<(u64, Vec<u8>, Vec<u8>)> {
    let at = gob_replay::first_difference_read(a.reader().ok()?, b.reader().ok()?).ok()??;
    Some((at, a.window(at), b.window(at)))
}

fn compare_release(a: &Path, b: &Path) -> Vec<ArtifactDiff> {
    let (fa, fb) = (release_files(a), release_files(b));
    let mut out = Vec::new();
    for (name, pa) in &fa {
        match fb.iter().find(|(n, _)| n == name) {
            None => out.push(ArtifactDiff {
                name: name.clone(),
                at: None,
            }),
            Some((_, pb)) => {
                let (xa, xb) = (Bytes::File(pa), Bytes::File(pb));
                let found = xa
                    .reader()
                    .and_then(|ra| gob_replay::first_difference_read(ra, xb.reader()?));
                // An unreadable file differs, at no known offset.
                if !matches!(found, Ok(None)) {
                    out.push(ArtifactDiff {
                        name: name.clone(),
                        at: found.ok().flatten(),
                    });
                }
            }
        }
    }
    for (name, _) in &fb {
        if !fa.iter().any(|(n, _)| n == name) {
            out.push(ArtifactDiff {
                name: name.clone(),
                at: None,
            });
        }
    }
    out
}

/// Copies the audited release files to where `-o` says, as `gob build -o` would.
fn install_release(from: &Path, dest: &Path) -> Result<Vec<PathBuf>, AuditError> {
    let files = release_files(from);
    let err = |p: &Path, e: std::io::Error| AuditError::Setup(format!("{}: {e}", p.display()));
    let into_dir = dest.is_dir() || dest.to_string_lossy().ends_with('/') || files.len() > 1;
    let mut written = Vec::new();
    for (name, src) in files {
        let to = if into_dir {
            dest.join(&name)
        } else {
            dest.to_path_buf()
        };
        if let Some(d) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(d).map_err(|e| err(d, e))?;
        }
        std::fs::copy(&src, &to).map_err(|e| err(&to, e))?;
        written.push(to);
    }
    Ok(written)
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text report.
pub fn render(r: &AuditReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for b in &r.builds {
        let _ = writeln!(
            s,
            "gob audit: build {}: {} actions in {:.1}s ({})",
            b.variant.name,
            b.actions,
            b.wall.as_secs_f64(),
            b.variant.describe()
        );
    }
    if r.builds.len() == 1 {
        let _ = writeln!(s, "gob audit: compared with {}", r.trace_a.display());
    }
    for h in &r.diff.header {
        if h.field != "blobs" {
            let _ = writeln!(s, "note: header {}: {:?} vs {:?}", h.field, h.a, h.b);
        }
    }
    if let Some(e) = &r.b_failed {
        let _ = writeln!(
            s,
            "gob audit: NOT reproducible: build a succeeded and build b, under the conditions above, failed:\n{}",
            e.trim_end()
        );
    } else if r.reproducible() {
        let _ = writeln!(
            s,
            "gob audit: reproducible: {} actions, every output identical",
            r.actions
        );
    } else {
        let n = r.differing().count();
        let _ = writeln!(
            s,
            "gob audit: NOT reproducible: {n} of {} actions differ",
            r.actions
        );
        for d in r.differing() {
            let label = if d.is_root_cause() {
                "root cause"
            } else {
                "consequence"
            };
            let _ = write!(
                s,
                "{label}: {}: {d}",
                gob_replay::schema::action_id(d.action.index_a)
            );
            if d.cause == Cause::Nondeterministic {
                let _ = writeln!(
                    s,
                    "    (the declared inputs are the same: the tool depends on something the audit varied, or on chance)"
                );
            }
            for (_, o) in r.offsets.iter().filter(|(i, _)| *i == d.action.index_a) {
                let _ = writeln!(
                    s,
                    "    {}: first difference at byte {} (0x{:x})\n      a: {}\n      b: {}",
                    o.name,
                    o.at,
                    o.at,
                    hex(&o.a),
                    hex(&o.b)
                );
            }
        }
        for u in &r.diff.only_in_a {
            let _ = writeln!(s, "only in a: {} [#{}]", u.key, u.index);
        }
        for u in &r.diff.only_in_b {
            let _ = writeln!(s, "only in b: {} [#{}]", u.key, u.index);
        }
        for a in &r.artifacts {
            match a.at {
                Some(at) => {
                    let _ = writeln!(s, "release file {} differs at byte {at}", a.name);
                }
                None => {
                    let _ = writeln!(s, "release file {} was written by one build only", a.name);
                }
            }
        }
    }
    if let Some(k) = &r.kept {
        let a = if r.builds.len() == 2 {
            k.join("a.cbor")
        } else {
            r.trace_a.clone()
        };
        let b = k.join("b.cbor");
        if b.exists() {
            let _ = writeln!(
                s,
                "gob audit: traces: {} {} (gob trace diff {0} {1}; gob replay {1})",
                a.display(),
                b.display()
            );
        }
    }
    for p in &r.installed {
        let _ = writeln!(s, "gob audit: wrote {}", p.display());
    }
    s
}

/// The `-json` events of the verdict: one `audit-diverged` per differing
/// action, then `audit-done`.
pub fn events(r: &AuditReport) -> Vec<serde_json::Value> {
    let mut v = Vec::new();
    for d in r.differing() {
        v.push(serde_json::json!({
            "Action": "audit-diverged",
            "ImportPath": d.action.key.package,
            "ID": gob_replay::schema::action_id(d.action.index_a),
            "IDB": gob_replay::schema::action_id(d.action.index_b),
            "Mode": d.action.key.kind,
            "RootCause": d.is_root_cause(),
            "Cause": d.cause.to_string(),
            "Outputs": d.outputs.iter().map(|o| {
                let off = r.offsets.iter().find(|(i, x)| *i == d.action.index_a && x.name == o.name);
                serde_json::json!({
                    "Name": o.name,
                    "A": o.a.as_ref().map(|f| f.digest.to_hex()),
                    "B": o.b.as_ref().map(|f| f.digest.to_hex()),
                    "Offset": off.map(|(_, x)| x.at),
                })
            }).collect::<Vec<_>>(),
        }));
    }
    v.push(serde_json::json!({
        "Action": "audit-done",
        "Verdict": if r.reproducible() { "reproducible" } else { "not-reproducible" },
        "Actions": r.actions,
        "Differing": r.differing().count(),
        "OnlyInA": r.diff.only_in_a.iter().map(|u| u.key.to_string()).collect::<Vec<_>>(),
        "OnlyInB": r.diff.only_in_b.iter().map(|u| u.key.to_string()).collect::<Vec<_>>(),
        "Release": r.artifacts.iter().map(|a| serde_json::json!({"Name": a.name, "Offset": a.at})).collect::<Vec<_>>(),
        "BuildBFailed": r.b_failed,
        "Traces": r.kept,
        "Installed": r.installed,
    }));
    v
}

/// Prints the verdict on stdout: the text report, or with `json` its events.
pub fn print(r: &AuditReport, json: bool) {
    if json {
        for e in events(r) {
            crate::events::emit(&e);
        }
    } else {
        print!("{}", render(r));
    }
}

/// The `-json` `audit-done` event of an audit that could not give a verdict.
pub fn error_event(e: &AuditError) -> serde_json::Value {
    serde_json::json!({
        "Action": "audit-done",
        "Verdict": "error",
        "Error": e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins: release files are compared byte for byte, streamed: the first
    /// differing offset, a file only one build wrote, a file that cannot be
    /// read (a directory in its place), and the 16-byte windows.
    #[test]
    fn release_files_are_compared_byte_for_byte() {
        let root = std::env::temp_dir().join(format!("gob-audit-unit-{}", std::process::id()));
        let (a, b) = (root.join("a"), root.join("b"));
        for d in [&a, &b] {
            std::fs::create_dir_all(d).unwrap();
        }
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let mut changed = big.clone();
        changed[200_001] ^= 1;
        std::fs::write(a.join("same"), &big).unwrap();
        std::fs::write(b.join("same"), &big).unwrap();
        std::fs::write(a.join("tool"), &big).unwrap();
        std::fs::write(b.join("tool"), &changed).unwrap();
        std::fs::write(a.join("only-a"), b"x").unwrap();
        std::fs::write(a.join("odd"), b"x").unwrap();
        std::fs::create_dir(b.join("odd")).unwrap();
        let got = compare_release(&a, &b);
        let at = |n: &str| got.iter().find(|d| d.name == n).map(|d| d.at);
        assert_eq!(at("same"), None, "{got:?}");
        assert_eq!(at("tool"), Some(Some(200_001)), "{got:?}");
        assert_eq!(at("only-a"), Some(None), "{got:?}");
        assert_eq!(at("odd"), Some(None), "{got:?}");
        assert_eq!(got.len(), 3, "{got:?}");

        let (fa, fb) = (a.join("tool"), b.join("tool"));
        let (off, wa, wb) = difference(&Bytes::File(&fa), &Bytes::File(&fb)).unwrap();
        assert_eq!(off, 200_001);
        assert_eq!(wa, big[200_001..200_017]);
        assert_eq!(wb, changed[200_001..200_017]);
        let (off, wa, _) = difference(&Bytes::Mem(&big[..10]), &Bytes::File(&fb)).unwrap();
        assert_eq!((off, wa), (10, Vec::new()));
        assert_eq!(difference(&Bytes::Mem(&big), &Bytes::File(&fa)), None);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
