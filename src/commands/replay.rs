//! Replay: re-executes a trace's actions in the sandbox with this host's Go
//! toolchain and proves every output bit for bit (`gob replay`).
//!
//! A trace is untrusted input. Replay only ever runs the toolchain's own tools
//! (from `--goroot`), or gob's internal pack; never a program the trace names,
//! and never an environment variable outside the Go tools' own knobs unless
//! `--trust-env` is given. Inputs are materialized into a content-addressed
//! store inside the replay directory (`blobs/<blake3>`), named by digest, never
//! by a path from the trace; reads from `--goroot` and `--src` go through
//! cap-std directories, so a trace path cannot leave them. Each action sees its
//! inputs bound read-only at the trace's inside paths and writes only its own
//! `work/bNNN`, whose outputs are opened without following links.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use gob_replay::schema::{action_id, ActionRecord, Digest, FileRef, Status, INTERNAL_PACK};
use gob_replay::Trace;

use crate::exec::runner::{InputData, Label, Program, Spawn, SpawnInput, SpawnOutput};
use crate::exec::ExecStatus;
use crate::toolchain::Toolchain;

/// The tools replay runs: the Go toolchain's own, and gob's internal pack.
const TOOLS: &[&str] = &["compile", "asm", "link", "preprofile", "cgo", "pack"];

/// Environment variables a trace may set for a tool: the target and its knobs.
const SAFE_ENV: &[&str] = &[
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

/// What to replay and how.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    /// The trace file.
    pub trace: PathBuf,
    /// The toolchain whose tools run (its version must be the trace's).
    pub toolchain: Toolchain,
    /// `--src [INSIDE=]DIR`: source trees for inputs the trace does not embed.
    /// Without `INSIDE=`, DIR stands for the trace's first module root.
    pub src: Vec<(Option<String>, PathBuf)>,
    /// `--action ID|PKG`: only these actions (and what they need).
    pub only: Option<String>,
    /// Keep the replay directory.
    pub keep: bool,
    /// The replay directory (must not exist, or be empty); default a temp dir.
    pub dir: Option<PathBuf>,
    /// Parallel actions.
    pub jobs: usize,
    /// The sandbox: it must remap paths (full or namespaces).
    pub sandbox: gob_sandbox::Mode,
    /// `--toolexec PROG`: run each tool as `PROG TOOL ARGS` (e.g. qemu-aarch64-static).
    pub toolexec: Option<PathBuf>,
    /// Let the trace set any environment variable.
    pub trust_env: bool,
    /// Print each action as it finishes.
    pub verbose: bool,
    /// `--shell`: instead of running the `--action` action, open an interactive
    /// shell in its sandbox, its inputs in place (plus the host's /bin, /usr,
    /// /lib and /lib64 read-only, so the shell itself can run).
    pub shell: bool,
    /// What each action may use (`--action-timeout`, `-memory`, `-disk`, `-output`).
    pub limits: gob_sandbox::Limits,
}

/// Why replay could not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The trace could not be read.
    #[error("{}: {}", path.display(), source.without_path())]
    Trace {
        /// The trace.
        path: PathBuf,
        /// Why.
        source: gob_replay::TraceError,
    },
    /// The toolchain is not the trace's.
    #[error("the trace was recorded with {want}, but the toolchain at {goroot} is {have}: pass --goroot (or set GOROOT to) a {want} toolchain")]
    WrongToolchain {
        /// The trace's version.
        want: String,
        /// The toolchain's.
        have: String,
        /// Where it is.
        goroot: PathBuf,
    },
    /// The trace asks for something replay refuses to do.
    #[error("refusing to replay {path}: {why}")]
    Refused {
        /// The trace.
        path: PathBuf,
        /// What and why, and which flag would allow it if any.
        why: String,
    },
    /// A file or directory of the replay itself.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The sandbox is not available.
    #[error(transparent)]
    Sandbox(#[from] gob_sandbox::SandboxError),
    /// `--action` matched nothing.
    #[error("--action {0}: no action of the trace has this id or package")]
    NoSuchAction(String),
}

/// One output that came out different.
#[derive(Clone, Debug)]
pub struct Mismatch {
    /// The output's name.
    pub name: String,
    /// Its inside path.
    pub path: String,
    /// Recorded size and digest.
    pub expected: (u64, Digest),
    /// Replayed size and digest (None: the output is missing or not a plain file).
    pub actual: Option<(u64, Digest)>,
    /// The first differing byte, when the recorded bytes are in the trace.
    pub first_difference: Option<u64>,
}

/// What replaying one action showed.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// Every output identical.
    Match,
    /// Outputs differ.
    Diverged {
        /// Each differing output.
        outputs: Vec<Mismatch>,
    },
    /// The tool failed where the recording succeeded (or the reverse).
    StatusDiffers {
        /// Recorded.
        expected: String,
        /// Replayed.
        actual: String,
    },
    /// It could not be run (an input unavailable, a setup error).
    NotRun {
        /// Why.
        why: String,
    },
}

/// One replayed action.
#[derive(Clone, Debug)]
pub struct ActionReport {
    /// Trace index.
    pub index: u32,
    /// `symabis`, `compile`…
    pub kind: String,
    /// The package.
    pub package: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Producers whose divergent outputs this action had to read (so its own
    /// divergence may be a consequence, not a cause).
    pub tainted_by: Vec<u32>,
    /// The tool's output.
    pub stderr: Vec<u8>,
    /// Wall time of the replay.
    pub wall: Duration,
}

impl ActionReport {
    /// `b012`.
    pub fn id(&self) -> String {
        action_id(self.index)
    }
}

/// The whole replay.
#[derive(Debug)]
pub struct ReplayReport {
    /// Per action, in dependency (trace) order.
    pub actions: Vec<ActionReport>,
    /// The replay directory, when kept.
    pub kept: Option<PathBuf>,
    /// Header notes (the trace is incomplete, tools differ from the recording host's…).
    pub notes: Vec<String>,
}

impl ReplayReport {
    /// Whether every replayed action matched.
    pub fn ok(&self) -> bool {
        self.actions
            .iter()
            .all(|a| matches!(a.verdict, Verdict::Match))
    }
}

fn hex(d: &Digest) -> String {
    d.0.iter().map(|b| format!("{b:02x}")).collect()
}

/// Short form for reports: `blake3:0123456789ab`.
pub fn short_digest(d: &Digest) -> String {
    format!("blake3:{}", &hex(d)[..16])
}

fn status_text(s: &Status) -> String {
    match s {
        Status::Exited(0) => "success".into(),
        Status::Exited(c) => format!("exit status {c}"),
        Status::Signaled(s) => format!("killed by signal {s}"),
        Status::TimedOut => "timed out".into(),
        Status::Error(e) => format!("error: {e}"),
    }
}

/// The content-addressed input store of a replay: `blobs/<hex>`, each file
/// written once (temp name, rename) and read-only.
struct Store {
    dir: PathBuf,
    cap: Dir,
    known: Mutex<HashSet<Digest>>,
}

impl Store {
    fn path(&self, d: &Digest) -> PathBuf {
        self.dir.join(hex(d))
    }

    fn has(&self, d: &Digest) -> bool {
        self.known.lock().map(|k| k.contains(d)).unwrap_or(false)
    }

    /// The file stored for `d` (the trace's blob, or an identical output
    /// adopted since), if any.
    fn open(&self, d: &Digest) -> Option<cap_std::fs::File> {
        if !self.has(d) {
            return None;
        }
        self.cap.open(hex(d)).ok()
    }

    /// Adds bytes already checked against `d`.
    fn put(&self, d: &Digest, bytes: &[u8]) -> std::io::Result<()> {
        self.put_with(d, |w| std::io::Write::write_all(w, bytes))
    }

    /// Copies a verified output file in (it came from `work/bNNN`, checked as
    /// a plain file with one link), appearing whole like [`Store::put`]: a
    /// concurrent dependent may be binding the same digest. Streamed: a
    /// linked binary is tens of megabytes.
    fn adopt(&self, d: &Digest, file: &Path) -> std::io::Result<()> {
        let mut src = std::fs::File::open(file)?;
        self.put_with(d, |w| std::io::copy(&mut src, w).map(drop))
    }

    /// Writes `d`'s file once: `write` fills a temporary file, which is then
    /// renamed into place.
    fn put_with(
        &self,
        d: &Digest,
        write: impl FnOnce(&mut cap_std::fs::File) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        if self.has(d) {
            return Ok(());
        }
        let name = hex(d);
        let tmp = format!(".{name}.{:?}.tmp", std::thread::current().id());
        let mut f = self.cap.create(&tmp)?;
        write(&mut f)?;
        drop(f);
        self.cap.rename(&tmp, &self.cap, &name)?;
        if let Ok(mut k) = self.known.lock() {
            k.insert(*d);
        }
        Ok(())
    }
}

/// Where inputs not in the store (which holds the trace's blobs) come from:
/// the toolchain, the `--src` trees. Every host read goes through a cap-std
/// directory.
struct Sources {
    /// (inside prefix, directory), longest prefix first.
    trees: Vec<(String, Dir)>,
}

impl Sources {
    /// The bytes of `f`, checked against its digest.
    fn fetch(&self, f: &FileRef) -> Result<Vec<u8>, String> {
        for (prefix, dir) in &self.trees {
            let Some(rel) = f.path.strip_prefix(prefix.as_str()) else {
                continue;
            };
            let Some(rel) = rel.strip_prefix('/') else {
                continue;
            };
            let mut file = dir
                .open(rel)
                .map_err(|e| format!("{} (under {prefix}): {e}", f.path))?;
            let mut bytes = Vec::new();
            file.by_ref()
                .take(f.size + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| format!("{}: {e}", f.path))?;
            let d = Digest(*blake3::hash(&bytes).as_bytes());
            if d != f.digest {
                return Err(format!(
                    "{}: the file on this host ({} bytes, {}) is not the one recorded ({} bytes, {})",
                    f.path,
                    bytes.len(),
                    short_digest(&d),
                    f.size,
                    short_digest(&f.digest)
                ));
            }
            return Ok(bytes);
        }
        Err(format!(
            "{}: not embedded in the trace and under no source tree (record with --trace-blobs, or pass --src)",
            f.path
        ))
    }
}

/// Maps a reader error to the replay's, naming the trace.
fn trace_error(trace: &Path) -> impl Fn(gob_replay::TraceError) -> ReplayError + '_ {
    move |source| ReplayError::Trace {
        path: trace.to_path_buf(),
        source,
    }
}

/// Replays a trace.
///
/// The trace is read once, after the header checks: each embedded blob goes
/// straight into the on-disk store, so memory holds the actions, not the
/// inputs' bytes (a self-contained trace of cmd/go carries about 200 MB).
pub fn replay(opts: &ReplayOptions) -> Result<ReplayReport, ReplayError> {
    let reader =
        gob_replay::TraceReader::open_with_limits(&opts.trace, gob_replay::Limits::default())
            .map_err(trace_error(&opts.trace))?;
    let h = reader.header().clone();
    let mut notes = Vec::new();
    if h.go_version != opts.toolchain.version_string {
        return Err(ReplayError::WrongToolchain {
            want: h.go_version.clone(),
            have: opts.toolchain.version_string.clone(),
            goroot: opts.toolchain.goroot.clone(),
        });
    }
    let host_tools = format!(
        "{}/{}",
        opts.toolchain.host_goos, opts.toolchain.host_goarch
    );
    let rec_tools = format!("{}/{}", h.tool_platform.os, h.tool_platform.arch);
    if host_tools != rec_tools {
        notes.push(format!(
            "recorded with {rec_tools} tools, replayed with {host_tools} tools"
        ));
    }
    if !opts.sandbox.remaps_paths() {
        return Err(ReplayError::Refused {
            path: opts.trace.clone(),
            why: format!(
                "replay needs a sandbox that maps paths (full or namespaces), not {}",
                opts.sandbox.name()
            ),
        });
    }
    let sandbox = Arc::new(gob_sandbox::Sandbox::new(opts.sandbox)?);

    // The replay directory: fresh, or given and empty (nothing pre-planted).
    let (root, temp) = match &opts.dir {
        Some(d) => {
            if d.exists() {
                let mut entries = std::fs::read_dir(d).map_err(|source| ReplayError::Io {
                    path: d.clone(),
                    source,
                })?;
                if let Some(e) = entries.next() {
                    let name = e.map(|e| e.path()).unwrap_or_else(|_| d.clone());
                    return Err(ReplayError::Refused {
                        path: opts.trace.clone(),
                        why: format!(
                            "the replay directory {} is not empty (found {}); give a new or empty directory",
                            d.display(),
                            name.display()
                        ),
                    });
                }
            }
            (d.clone(), false)
        }
        None => {
            let base = std::env::temp_dir();
            let d = base.join(format!(
                "gob-replay-{}-{}",
                std::process::id(),
                Instant::now().elapsed().as_nanos()
            ));
            (d, true)
        }
    };
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReplayError::Io { path, source }
    };
    std::fs::create_dir_all(root.join("blobs")).map_err(io(&root))?;
    std::fs::create_dir_all(root.join("work")).map_err(io(&root))?;
    let store = Arc::new(Store {
        dir: root.join("blobs"),
        cap: Dir::open_ambient_dir(root.join("blobs"), ambient_authority())
            .map_err(io(&root.join("blobs")))?,
        known: Mutex::new(HashSet::new()),
    });
    // From here on a temporary replay directory is removed on every exit.
    let result = read_and_run(opts, reader, &h, &root, &store, &sandbox, &mut notes);
    let kept = if opts.keep || !temp {
        Some(root.clone())
    } else {
        let _ = gob_sandbox::tree::remove(&root);
        None
    };
    let actions = result?;
    Ok(ReplayReport {
        actions,
        kept,
        notes,
    })
}

/// Reads the trace's records, its blobs into `store`; checks what the trace
/// asks for; runs the selected actions.
fn read_and_run(
    opts: &ReplayOptions,
    reader: gob_replay::TraceReader<std::fs::File>,
    h: &gob_replay::schema::Header,
    root: &Path,
    store: &Arc<Store>,
    sandbox: &Arc<gob_sandbox::Sandbox>,
    notes: &mut Vec<String>,
) -> Result<Vec<ActionReport>, ReplayError> {
    let trace = Arc::new(read_into_store(opts, reader, store)?);
    if !trace.is_complete() {
        notes.insert(
            0,
            format!(
                "the trace is incomplete (the build was interrupted): {} actions recorded",
                trace.actions.len()
            ),
        );
    }
    check_trace(&opts.trace, &trace, opts.trust_env)?;
    let sources = Arc::new(Sources {
        trees: source_trees(opts, h)?,
    });
    // Which actions to run.
    let selected = select(&trace, opts.only.as_deref(), &sources, store)?;
    run_all(opts, &trace, &selected, root, store, &sources, sandbox)
}

/// Drains `reader`, writing every embedded blob (its digest checked by the
/// reader) into `store` and keeping none in memory.
fn read_into_store(
    opts: &ReplayOptions,
    reader: gob_replay::TraceReader<std::fs::File>,
    store: &Store,
) -> Result<Trace, ReplayError> {
    enum Spill {
        Trace(gob_replay::TraceError),
        Store(Digest, std::io::Error),
    }
    impl From<gob_replay::TraceError> for Spill {
        fn from(e: gob_replay::TraceError) -> Spill {
            Spill::Trace(e)
        }
    }
    Trace::read_with(reader, |b| {
        store
            .put(&b.digest, &b.data)
            .map_err(|e| Spill::Store(b.digest, e))?;
        Ok(None)
    })
    .map_err(|e| match e {
        Spill::Trace(e) => trace_error(&opts.trace)(e),
        Spill::Store(d, source) => ReplayError::Io {
            path: store.path(&d),
            source,
        },
    })
}

/// Refuses tools and environment the trace must not choose.
fn check_trace(path: &Path, trace: &Trace, trust_env: bool) -> Result<(), ReplayError> {
    for a in &trace.actions {
        if a.tool != INTERNAL_PACK && !TOOLS.contains(&a.tool.as_str()) {
            return Err(ReplayError::Refused {
                path: path.to_path_buf(),
                why: format!(
                    "action {} names the program {:?}; replay runs only the Go toolchain's tools",
                    action_id(a.index),
                    a.tool
                ),
            });
        }
        if !trust_env {
            // GOROOT="" is how gob keeps the linker from recording one (-trimpath).
            let safe = |k: &str, v: &str| SAFE_ENV.contains(&k) || (k == "GOROOT" && v.is_empty());
            if let Some((k, _)) = a.env.iter().find(|(k, v)| !safe(k, v)) {
                return Err(ReplayError::Refused {
                    path: path.to_path_buf(),
                    why: format!(
                        "action {} sets the environment variable {k}, which is not a Go target setting; \
                         pass --trust-env to allow it",
                        action_id(a.index)
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The `--goroot` tree for `/goroot`, and the `--src` trees.
fn source_trees(
    opts: &ReplayOptions,
    h: &gob_replay::schema::Header,
) -> Result<Vec<(String, Dir)>, ReplayError> {
    let open = |p: &Path| {
        Dir::open_ambient_dir(p, ambient_authority()).map_err(|source| ReplayError::Io {
            path: p.to_path_buf(),
            source,
        })
    };
    let mut trees = vec![("/goroot".to_string(), open(&opts.toolchain.goroot)?)];
    let first_module = h
        .roots
        .iter()
        .find(|r| r.kind == "module")
        .map(|r| r.inside.clone());
    for (inside, dir) in &opts.src {
        let prefix = match inside.clone().or_else(|| first_module.clone()) {
            Some(p) => p,
            None => {
                return Err(ReplayError::Refused {
                    path: opts.trace.clone(),
                    why: "--src: the trace has no module root; use --src INSIDE=DIR".into(),
                })
            }
        };
        gob_replay::check_inside_path(&prefix).map_err(|e| ReplayError::Refused {
            path: opts.trace.clone(),
            why: format!("--src {prefix}: {e}"),
        })?;
        trees.push((prefix, open(dir)?));
    }
    trees.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    Ok(trees)
}

/// The actions to replay: all, or those `--action` names plus the producers of
/// any input that is not available otherwise.
fn select(
    trace: &Trace,
    only: Option<&str>,
    sources: &Sources,
    store: &Store,
) -> Result<Vec<u32>, ReplayError> {
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
        return Err(ReplayError::NoSuchAction(want.to_string()));
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
            let available = store.has(&f.digest)
                || (!f.path.starts_with("/work/")
                    && sources
                        .trees
                        .iter()
                        .any(|(p, _)| f.path.starts_with(p.as_str())));
            if !available {
                if let Some(&p) = producers.get(f.path.as_str()) {
                    stack.push(p);
                }
            }
        }
    }
    let mut v: Vec<u32> = out.into_iter().collect();
    v.sort();
    Ok(v)
}

/// Output path → producing action.
fn producers(trace: &Trace) -> HashMap<&str, u32> {
    let mut m = HashMap::new();
    for a in &trace.actions {
        for o in &a.outputs {
            m.insert(o.file.path.as_str(), a.index);
        }
    }
    m
}

/// What a finished replay job tells the scheduler.
struct Done {
    report: ActionReport,
    /// Output path → digest of the replayed bytes (in the store when equal to the recorded).
    produced: Vec<(String, Digest)>,
}

fn run_all(
    opts: &ReplayOptions,
    trace: &Arc<Trace>,
    selected: &[u32],
    root: &Path,
    store: &Arc<Store>,
    sources: &Arc<Sources>,
    sandbox: &Arc<gob_sandbox::Sandbox>,
) -> Result<Vec<ActionReport>, ReplayError> {
    let chosen: HashSet<u32> = selected.iter().copied().collect();
    let mut pending: HashMap<u32, usize> = HashMap::new();
    let mut dependents: HashMap<u32, Vec<u32>> = HashMap::new();
    for &i in selected {
        let Some(a) = trace.action(i) else { continue };
        let deps: Vec<u32> = a
            .deps
            .iter()
            .copied()
            .filter(|d| chosen.contains(d))
            .collect();
        pending.insert(i, deps.len());
        for d in deps {
            dependents.entry(d).or_default().push(i);
        }
    }
    let mut ready: std::collections::BTreeSet<u32> = pending
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(i, _)| *i)
        .collect();
    // Output path → (recorded digest, replayed digest), for dependents.
    let produced: Arc<Mutex<HashMap<String, (Digest, Digest)>>> = Default::default();
    let (tx, rx) = mpsc::channel::<Done>();
    let mut reports: HashMap<u32, ActionReport> = HashMap::new();
    let mut running = 0usize;
    let jobs = opts.jobs.max(1);
    std::thread::scope(|s| loop {
        while running < jobs {
            let Some(i) = ready.pop_first() else { break };
            let Some(a) = trace.action(i) else { continue };
            running += 1;
            let tx = tx.clone();
            let (store, sources, sandbox, produced) = (
                store.clone(),
                sources.clone(),
                sandbox.clone(),
                produced.clone(),
            );
            s.spawn(move || {
                let d = replay_one(opts, a, root, &store, &sources, &sandbox, &produced);
                let _ = tx.send(d);
            });
        }
        if running == 0 {
            break;
        }
        let Ok(done) = rx.recv() else { break };
        running -= 1;
        let i = done.report.index;
        if let Ok(mut p) = produced.lock() {
            let a = trace.action(i);
            for (path, got) in done.produced {
                let want = a
                    .and_then(|a| a.outputs.iter().find(|o| o.file.path == path))
                    .map(|o| o.file.digest)
                    .unwrap_or(got);
                p.insert(path, (want, got));
            }
        }
        if opts.verbose {
            eprintln!(
                "{} {} {}: {}",
                done.report.id(),
                done.report.kind,
                done.report.package,
                verdict_word(&done.report.verdict)
            );
        }
        reports.insert(i, done.report);
        for d in dependents.get(&i).cloned().unwrap_or_default() {
            if let Some(n) = pending.get_mut(&d) {
                *n -= 1;
                if *n == 0 {
                    ready.insert(d);
                }
            }
        }
    });
    let mut out: Vec<ActionReport> = Vec::new();
    for &i in selected {
        match reports.remove(&i) {
            Some(r) => out.push(r),
            None => {
                let a = trace.action(i);
                out.push(ActionReport {
                    index: i,
                    kind: a.map(|a| a.kind.clone()).unwrap_or_default(),
                    package: a.map(|a| a.package.clone()).unwrap_or_default(),
                    verdict: Verdict::NotRun {
                        why: "a dependency was not replayed".into(),
                    },
                    tainted_by: Vec::new(),
                    stderr: Vec::new(),
                    wall: Duration::ZERO,
                })
            }
        }
    }
    Ok(out)
}

/// A one-word verdict for progress lines.
pub fn verdict_word(v: &Verdict) -> &'static str {
    match v {
        Verdict::Match => "identical",
        Verdict::Diverged { .. } => "DIVERGED",
        Verdict::StatusDiffers { .. } => "STATUS DIFFERS",
        Verdict::NotRun { .. } => "not run",
    }
}

/// Replays one action.
fn replay_one(
    opts: &ReplayOptions,
    a: &ActionRecord,
    root: &Path,
    store: &Store,
    sources: &Sources,
    sandbox: &gob_sandbox::Sandbox,
    produced: &Mutex<HashMap<String, (Digest, Digest)>>,
) -> Done {
    let started = Instant::now();
    let mut report = ActionReport {
        index: a.index,
        kind: a.kind.clone(),
        package: a.package.clone(),
        verdict: Verdict::Match,
        tainted_by: Vec::new(),
        stderr: Vec::new(),
        wall: Duration::ZERO,
    };
    let not_run = |mut report: ActionReport, why: String| {
        report.verdict = Verdict::NotRun { why };
        report.wall = started.elapsed();
        Done {
            report,
            produced: Vec::new(),
        }
    };
    let shell = opts.shell
        && opts
            .only
            .as_deref()
            .is_some_and(|w| action_id(a.index) == w || a.package == w);
    let spawn = match spawn_of(opts, a, root, store, sources, produced, shell) {
        Ok((s, tainted_by)) => {
            report.tainted_by = tainted_by;
            s
        }
        Err(why) => return not_run(report, why),
    };
    if shell {
        eprintln!(
            "gob replay: shell in {} ({} {}); the tool runs as: {} {}",
            action_id(a.index),
            a.kind,
            a.package,
            crate::exec::tool_inside(&opts.toolchain.tool_dir(), &a.tool).display(),
            a.argv.join(" ")
        );
    }
    let ran = crate::exec::runner::Runner::new(sandbox).run(&spawn, &|_| {}, &|_| None);
    if shell {
        return match ran.status {
            ExecStatus::Error(e) => not_run(report, format!("--shell: {e}")),
            _ => not_run(report, "an interactive shell ran instead (--shell)".into()),
        };
    }
    let status = match ran.status {
        ExecStatus::Success => Status::Exited(0),
        ExecStatus::Failed { code } => Status::Exited(code),
        ExecStatus::Signaled { signal } => Status::Signaled(signal),
        ExecStatus::TimedOut => Status::TimedOut,
        ExecStatus::Error(e) => return not_run(report, e),
    };
    report.stderr = ran.log;
    if (status == Status::Exited(0)) != (a.status == Status::Exited(0)) {
        report.verdict = Verdict::StatusDiffers {
            expected: status_text(&a.status),
            actual: status_text(&status),
        };
        report.wall = started.elapsed();
        return Done {
            report,
            produced: Vec::new(),
        };
    }
    // Outputs: as the runner collected them (one open, never through a link).
    let mut mismatches = Vec::new();
    let mut made = Vec::new();
    for o in &a.outputs {
        let want = (o.file.size, o.file.digest);
        let got = ran
            .outputs
            .iter()
            .find(|(n, _)| *n == o.name)
            .and_then(|(_, c)| c.as_ref().ok());
        let Some(c) = got else {
            mismatches.push(Mismatch {
                name: o.name.clone(),
                path: o.file.path.clone(),
                expected: want,
                actual: None,
                first_difference: None,
            });
            continue;
        };
        let d = Digest(*c.digest.as_bytes());
        made.push((o.file.path.clone(), d));
        let _ = store.adopt(&d, &c.path);
        if d == want.1 {
            continue;
        }
        let first = store.open(&want.1).and_then(|exp| {
            let got = store.open(&d)?;
            gob_replay::first_difference_read(exp, got).ok()?
        });
        mismatches.push(Mismatch {
            name: o.name.clone(),
            path: o.file.path.clone(),
            expected: want,
            actual: Some((c.size, d)),
            first_difference: first,
        });
    }
    if !mismatches.is_empty() {
        report.verdict = Verdict::Diverged {
            outputs: mismatches,
        };
    }
    report.wall = started.elapsed();
    Done {
        report,
        produced: made,
    }
}

/// The one conversion of a trace's action into the runner's [`Spawn`]: the
/// host toolchain's tool (or gob's pack, or the `--shell`), the recorded
/// argv, env and cwd, every input from the store by digest (an input in the
/// action's own directory copied there), the outputs below `/work/bNNN`.
/// Also returns the producers whose divergent outputs it had to read.
fn spawn_of(
    opts: &ReplayOptions,
    a: &ActionRecord,
    root: &Path,
    store: &Store,
    sources: &Sources,
    produced: &Mutex<HashMap<String, (Digest, Digest)>>,
    shell: bool,
) -> Result<(Spawn, Vec<u32>), String> {
    let id = action_id(a.index);
    let own_inside = format!("/work/{id}");
    let own = root.join("work").join(&id);
    let below_own = |p: &str| {
        p.strip_prefix(own_inside.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .map(str::to_string)
    };
    let mut tainted_by = Vec::new();
    let mut inputs = Vec::with_capacity(a.inputs.len());
    let mut bound: HashSet<&str> = HashSet::with_capacity(a.inputs.len());
    for f in &a.inputs {
        // Each path once (the recorder dedups too; a hostile trace may not).
        if !bound.insert(f.path.as_str()) {
            continue;
        }
        let mut digest = f.digest;
        if !store.has(&digest) {
            // A divergent producer: its recorded bytes if the trace has them, else
            // its actual bytes (and this action is tainted by it).
            let divergent = produced
                .lock()
                .ok()
                .and_then(|p| p.get(&f.path).copied())
                .filter(|(want, got)| want != got);
            match sources.fetch(f) {
                Ok(bytes) => store
                    .put(&digest, &bytes)
                    .map_err(|e| format!("storing {}: {e}", f.path))?,
                Err(why) => match divergent {
                    Some((_, got)) if store.has(&got) => {
                        digest = got;
                        if let Some(p) = producer_index(&f.path) {
                            tainted_by.push(p);
                        }
                    }
                    _ => return Err(format!("input {why}")),
                },
            }
        }
        let blob = store.path(&digest);
        let data = match below_own(&f.path) {
            // An input in the action's own directory (importcfg) is a copy
            // there, as the build wrote it.
            Some(rel) => {
                let size = std::fs::metadata(&blob)
                    .map(|m| m.len())
                    .map_err(|e| format!("{}: {e}", blob.display()))?;
                InputData::Copy {
                    dest: own.join(rel),
                    from: vec![blob],
                    digest: crate::cache::Digest::from_bytes(digest.0),
                    size,
                }
            }
            None => InputData::Bind(blob),
        };
        inputs.push(SpawnInput {
            at: PathBuf::from(&f.path),
            data,
        });
    }
    let outputs = a
        .outputs
        .iter()
        .filter_map(|o| {
            Some(SpawnOutput {
                name: o.name.clone(),
                rel: below_own(&o.file.path)?,
                exec: o.exec,
            })
        })
        .collect();
    let tool_dir = opts.toolchain.tool_dir();
    let program = if shell {
        Program::Shell
    } else if a.tool == INTERNAL_PACK {
        Program::Pack
    } else {
        Program::Tool {
            host: tool_dir.join(&a.tool),
            at: crate::exec::tool_inside(&tool_dir, &a.tool),
            wrapper: opts
                .toolexec
                .as_ref()
                .map(|te| (te.clone(), crate::exec::toolexec_inside(te))),
        }
    };
    let limits = if shell {
        gob_sandbox::Limits {
            wall: None,
            ..opts.limits.clone()
        }
    } else {
        opts.limits.clone()
    };
    let spawn = Spawn {
        label: Label {
            id,
            kind: a.kind.clone(),
            package: a.package.clone(),
        },
        program,
        argv: a.argv.clone(),
        env: a.env.clone(),
        noise_env: Vec::new(),
        cwd: PathBuf::from(&a.cwd),
        inputs,
        own: (own, PathBuf::from(own_inside)),
        outputs,
        limits,
    };
    Ok((spawn, tainted_by))
}

/// `/work/b012/…` → 11.
fn producer_index(path: &str) -> Option<u32> {
    let rest = path.strip_prefix("/work/b")?;
    let n: u32 = rest.split('/').next()?.parse().ok()?;
    n.checked_sub(1)
}

/// The human report: every divergent action in dependency order, causes first.
pub fn render(report: &ReplayReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for n in &report.notes {
        let _ = writeln!(s, "gob replay: note: {n}");
    }
    let bad: Vec<&ActionReport> = report
        .actions
        .iter()
        .filter(|a| !matches!(a.verdict, Verdict::Match))
        .collect();
    if bad.is_empty() {
        let _ = writeln!(
            s,
            "gob replay: all {} actions reproduced bit for bit",
            report.actions.len()
        );
    } else {
        let _ = writeln!(
            s,
            "gob replay: {} of {} actions did not reproduce",
            bad.len(),
            report.actions.len()
        );
        // Causes (nothing divergent read) before consequences.
        let mut ordered: Vec<&&ActionReport> = bad.iter().collect();
        ordered.sort_by_key(|a| (!a.tainted_by.is_empty(), a.index));
        for a in ordered {
            let role = if a.tainted_by.is_empty() {
                "root cause".to_string()
            } else {
                format!(
                    "read divergent output of {}",
                    a.tainted_by
                        .iter()
                        .map(|i| action_id(*i))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let _ = writeln!(s, "\n{} {} {} ({role})", a.id(), a.kind, a.package);
            match &a.verdict {
                Verdict::Match => {}
                Verdict::Diverged { outputs } => {
                    for m in outputs {
                        let _ = writeln!(s, "  output {} ({})", m.path, m.name);
                        let _ = writeln!(
                            s,
                            "    expected {} bytes {}",
                            m.expected.0,
                            short_digest(&m.expected.1)
                        );
                        match &m.actual {
                            Some((n, d)) => {
                                let _ = writeln!(s, "    actual   {n} bytes {}", short_digest(d));
                            }
                            None => {
                                let _ = writeln!(s, "    actual   missing, or not a plain file");
                            }
                        }
                        match m.first_difference {
                            Some(o) => {
                                let _ = writeln!(s, "    first differing byte at offset {o}");
                            }
                            None if m.actual.is_some() => {
                                let _ = writeln!(
                                    s,
                                    "    first differing byte: unknown (the recorded bytes are not in the trace)"
                                );
                            }
                            None => {}
                        }
                    }
                }
                Verdict::StatusDiffers { expected, actual } => {
                    let _ = writeln!(s, "  recorded: {expected}; replayed: {actual}");
                }
                Verdict::NotRun { why } => {
                    let _ = writeln!(s, "  not run: {why}");
                }
            }
            let err = String::from_utf8_lossy(&a.stderr);
            if !err.trim().is_empty() {
                let _ = writeln!(s, "  tool output:");
                for l in err.lines().take(40) {
                    let _ = writeln!(s, "    {l}");
                }
            }
        }
    }
    if let Some(k) = &report.kept {
        let _ = writeln!(s, "gob replay: replay directory kept at {}", k.display());
    }
    s
}

/// The `-json` events of a replay: one `replay-action` per action (in trace
/// order), then `replay-done`. See docs/json.md.
pub fn events(r: &ReplayReport) -> Vec<serde_json::Value> {
    let mut v: Vec<serde_json::Value> = r
        .actions
        .iter()
        .map(|a| {
            let (verdict, outputs, why) = match &a.verdict {
                Verdict::Match => ("match", Vec::new(), None),
                Verdict::Diverged { outputs } => (
                    "diverged",
                    outputs
                        .iter()
                        .map(|m| {
                            serde_json::json!({
                                "Name": m.name,
                                "Path": m.path,
                                "Recorded": hex(&m.expected.1),
                                "Replayed": m.actual.map(|(_, d)| hex(&d)),
                                "Offset": m.first_difference,
                            })
                        })
                        .collect(),
                    None,
                ),
                Verdict::StatusDiffers { expected, actual } => (
                    "status-differs",
                    Vec::new(),
                    Some(format!("recorded {expected}, replayed {actual}")),
                ),
                Verdict::NotRun { why } => ("not-run", Vec::new(), Some(why.clone())),
            };
            serde_json::json!({
                "Action": "replay-action",
                "ImportPath": a.package,
                "ID": a.id(),
                "Mode": a.kind,
                "Verdict": verdict,
                "Outputs": outputs,
                "Why": why,
                "TaintedBy": a.tainted_by.iter().map(|&i| action_id(i)).collect::<Vec<_>>(),
                "Elapsed": crate::events::seconds(a.wall),
            })
        })
        .collect();
    let matched = r
        .actions
        .iter()
        .filter(|a| matches!(a.verdict, Verdict::Match))
        .count();
    v.push(serde_json::json!({
        "Action": "replay-done",
        "Verdict": if r.ok() { "identical" } else { "diverged" },
        "Actions": r.actions.len(),
        "Identical": matched,
        "Notes": r.notes,
        "Kept": r.kept,
    }));
    v
}

/// `gob replay --export ID -o FILE`: a tar of exactly the files action ID saw,
/// at their inside paths (without the leading `/`), with fixed headers: sorted
/// by path, mtime 0, uid/gid 0, no user names, mode 0644.
pub fn export(opts: &ReplayOptions, id: &str, out: &Path) -> Result<usize, ReplayError> {
    // Two passes: the actions, then only the blobs this action reads.
    let open = |keep: &dyn Fn(&Digest) -> bool| {
        Trace::open_keeping(&opts.trace, gob_replay::Limits::default(), keep)
            .map_err(trace_error(&opts.trace))
    };
    let trace = open(&|_| false)?;
    let a = trace
        .actions
        .iter()
        .find(|a| action_id(a.index) == id || a.package == id)
        .ok_or_else(|| ReplayError::NoSuchAction(id.to_string()))?
        .clone();
    let wanted: HashSet<Digest> = a.inputs.iter().map(|f| f.digest).collect();
    let blobs = open(&|d| wanted.contains(d))?.blobs;
    let sources = Sources {
        trees: source_trees(opts, &trace.header)?,
    };
    let mut files: Vec<(String, Vec<u8>, u32)> = Vec::new();
    for f in &a.inputs {
        let bytes = match blobs.get(&f.digest) {
            Some(b) => b.clone(),
            None => sources.fetch(f).map_err(|why| ReplayError::Refused {
                path: opts.trace.clone(),
                why: format!("cannot export {id}: input {why}"),
            })?,
        };
        files.push((f.path.trim_start_matches('/').to_string(), bytes, 0o644));
    }
    files.sort_by(|x, y| x.0.cmp(&y.0));
    let io = |source| ReplayError::Io {
        path: out.to_path_buf(),
        source,
    };
    let entries = files
        .into_iter()
        .map(|(name, bytes, mode)| crate::dist::Entry {
            name,
            mode,
            content: crate::dist::Content::Bytes(bytes),
        })
        .collect();
    let n = crate::dist::write_tar(out, entries).map_err(io)?;
    Ok(n)
}
