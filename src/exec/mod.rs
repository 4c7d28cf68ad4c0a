//! Execution: run the planned actions on a pool of workers, highest critical path first.
//!
//! Overview (the plan is [`ActionGraph`], immutable; everything that changes
//! while running lives in [`RunState`]):
//! 1. Every action starts with a count of unfinished dependencies; those at zero
//!    are ready, ordered by the length of the longest path from them to the end of
//!    the build (cmd/go's priority, weighted by a cost estimate).
//! 2. A worker takes a ready action, computes its key, and either finds its
//!    outputs in the cache or runs the tool in the action's work directory and
//!    stores the outputs. It reports back with a message; only the main thread
//!    prints (the `-x` lines, the progress bar, errors).
//! 3. The first failure stops new work; running actions finish; the failure is
//!    printed like `go build`: `# importpath` and the tool's output.

pub mod key;
pub mod pack;
mod run;

use std::collections::{BinaryHeap, HashMap};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::cache::{Cache, Digest, DigestCache};
use crate::plan::{Action, ActionGraph, ActionId, ActionKind};

/// How an action ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecStatus {
    /// Exit status 0 and every declared output present.
    Success,
    /// Non-zero exit.
    Failed {
        /// The exit code.
        code: i32,
    },
    /// Killed by a signal.
    Signaled {
        /// The signal number.
        signal: i32,
    },
    /// The tool could not be started or its outputs are missing.
    Error(String),
}

/// One output of a finished action.
#[derive(Clone, Debug)]
pub struct OutputFile {
    /// Declared name.
    pub name: String,
    /// Content digest.
    pub digest: Digest,
    /// Size in bytes.
    pub size: u64,
    /// A host path holding exactly these bytes (work dir or cache blob).
    pub path: PathBuf,
    /// Executable.
    pub exec: bool,
}

impl OutputFile {
    /// The output a cache entry describes, with the host path holding its bytes.
    pub fn new(o: &crate::cache::OutputEntry, path: PathBuf) -> OutputFile {
        OutputFile {
            name: o.name.clone(),
            digest: o.digest,
            size: o.size,
            path,
            exec: o.executable,
        }
    }
}

/// What a finished action produced.
#[derive(Clone, Debug)]
pub struct ActionResult {
    /// The action.
    pub id: ActionId,
    /// The cache key (None when it could not be computed).
    pub key: Option<crate::cache::ActionKey>,
    /// Whether the outputs came from the cache (no tool ran).
    pub cached: bool,
    /// Outputs by name.
    pub outputs: Vec<OutputFile>,
    /// The tool's combined stdout and stderr.
    pub log: Vec<u8>,
    /// How it ended.
    pub status: ExecStatus,
    /// Wall time.
    pub wall: Duration,
    /// The command line as run (for -x and traces).
    pub cmdline: String,
}

impl ActionResult {
    /// The output with this name.
    pub fn output(&self, name: &str) -> Option<&OutputFile> {
        self.outputs.iter().find(|o| o.name == name)
    }
}

/// Executor settings.
#[derive(Clone, Debug)]
pub struct ExecOptions {
    /// Parallel workers (`-p`).
    pub jobs: usize,
    /// Print commands as they run (`-x`).
    pub print_commands: bool,
    /// Print package names as they are built (`-v`).
    pub verbose: bool,
    /// Where action work directories go (`$WORK`).
    pub work_dir: PathBuf,
    /// The host tool directory (`$GOROOT/pkg/tool/<host>`).
    pub tool_dir: PathBuf,
    /// Draw a progress bar (only when stderr is a terminal).
    pub progress: bool,
    /// Use cached results (`-a` turns this off).
    pub use_cache: bool,
    /// The user's directory: tool messages name files relative to it, as go build does.
    pub display_cwd: PathBuf,
}

/// A failed build.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// A tool failed; the message is already `# importpath\n<output>`.
    #[error("{0}")]
    ActionFailed(String),
    /// Something outside any tool failed (work dir, cache).
    #[error("{0}")]
    Internal(String),
}

/// Compiler back-end threads (`compile -c=N`), shared by all running compiles
/// like cmd/go's compilerConcurrency: a compile takes up to 4 of the `-p` tokens
/// that are free, at least 1, so the machine is not oversubscribed. `-c` does not
/// change the compiler's output, so it is decided here, after the action key.
pub(crate) struct Tokens {
    free: std::sync::Mutex<usize>,
}

impl Tokens {
    fn new(n: usize) -> Tokens {
        Tokens {
            free: std::sync::Mutex::new(n),
        }
    }

    /// Takes up to 4 tokens; returns how many to use (at least 1) and how many were taken.
    pub(crate) fn take(&self) -> (usize, usize) {
        let Ok(mut f) = self.free.lock() else {
            return (1, 0);
        };
        let n = (*f).min(4);
        *f -= n;
        (n.max(1), n)
    }

    /// Returns tokens taken by [`Tokens::take`].
    pub(crate) fn give(&self, n: usize) {
        if let Ok(mut f) = self.free.lock() {
            *f += n;
        }
    }
}

/// Stores outputs in the cache off the workers' critical path: a worker hands
/// over (key, output files, log) and goes on; dependents stage the producer's
/// fresh work files meanwhile. Each store is still atomic and durable (see the
/// cache); the executor waits for all of them, and a failed store fails the build.
pub(crate) struct Store {
    tx: std::sync::Mutex<Option<mpsc::Sender<StoreJob>>>,
    errors: std::sync::Mutex<Vec<String>>,
}

pub(crate) struct StoreJob {
    pub key: crate::cache::ActionKey,
    pub files: Vec<(String, PathBuf)>,
    pub log: Vec<u8>,
    pub import_path: String,
}

impl Store {
    /// Queues a store; if the writer is gone the store happens here and now.
    pub(crate) fn submit(&self, cache: &Cache, job: StoreJob) {
        let job = match self.tx.lock().ok().and_then(|g| g.as_ref().cloned()) {
            Some(tx) => match tx.send(job) {
                Ok(()) => return,
                Err(mpsc::SendError(job)) => job,
            },
            None => job,
        };
        self.store(cache, job);
    }

    fn store(&self, cache: &Cache, job: StoreJob) {
        let named: Vec<(&str, &std::path::Path)> = job
            .files
            .iter()
            .map(|(n, p)| (n.as_str(), p.as_path()))
            .collect();
        if let Err(e) = cache.put(&job.key, &named, &job.log) {
            if let Ok(mut errs) = self.errors.lock() {
                errs.push(format!(
                    "# {}\nstoring outputs of {} in the cache: {e}",
                    job.import_path, job.import_path
                ));
            }
        }
    }
}

/// Messages from workers to the main thread.
enum Event {
    Started {
        id: ActionId,
        cmdline: Option<String>,
    },
    Finished(Box<ActionResult>),
}

/// A ready action in the priority queue.
#[derive(PartialEq, Eq)]
struct Ready {
    priority: u64,
    id: ActionId,
}

impl Ord for Ready {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        // Longest critical path first; lower id breaks ties (deterministic order).
        self.priority.cmp(&o.priority).then(o.id.cmp(&self.id))
    }
}

impl PartialOrd for Ready {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

/// What changes while running: pending counts, the ready queue, results.
struct RunState {
    pending: Vec<usize>,
    dependents: Vec<Vec<ActionId>>,
    ready: BinaryHeap<Ready>,
    priority: Vec<u64>,
    results: Vec<Option<ActionResult>>,
    running: usize,
    failed: Option<String>,
}

/// A rough cost per action for priorities: compile time grows with files, link is long.
fn cost(a: &Action) -> u64 {
    match a.kind {
        ActionKind::Compile => 2 + a.inputs.len() as u64,
        ActionKind::Link => 40,
        ActionKind::Preprofile => 10,
        _ => 1,
    }
}

/// The result of a whole build.
#[derive(Debug)]
pub struct BuildReport {
    /// Per-action results, indexed by action id.
    pub results: Vec<ActionResult>,
    /// Actions whose tool ran.
    pub ran: usize,
    /// Actions served from the cache.
    pub cached: usize,
}

/// Runs every action of `graph`.
pub fn execute(
    graph: &ActionGraph,
    cache: &Cache,
    digests: &DigestCache,
    opts: &ExecOptions,
) -> Result<BuildReport, ExecError> {
    let n = graph.actions.len();
    let mut st = RunState {
        pending: graph.actions.iter().map(|a| a.deps.len()).collect(),
        dependents: vec![Vec::new(); n],
        ready: BinaryHeap::new(),
        priority: graph.critical_path_lengths(&cost),
        results: (0..n).map(|_| None).collect(),
        running: 0,
        failed: None,
    };
    for a in &graph.actions {
        for d in &a.deps {
            st.dependents[d.0 as usize].push(a.id);
        }
    }
    for a in &graph.actions {
        if a.deps.is_empty() {
            st.ready.push(Ready {
                priority: st.priority[a.id.0 as usize],
                id: a.id,
            });
        }
    }
    std::fs::create_dir_all(&opts.work_dir).map_err(|e| {
        ExecError::Internal(format!(
            "creating work dir {}: {e}",
            opts.work_dir.display()
        ))
    })?;

    let bar = (opts.progress && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(n as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });

    let jobs = opts.jobs.max(1);
    let (ev_tx, ev_rx) = mpsc::channel::<Event>();
    let (job_tx, job_rx) = mpsc::channel::<(ActionId, Vec<Option<ActionResult>>)>();
    let job_rx = std::sync::Mutex::new(job_rx);
    let started = Instant::now();
    let tokens = Tokens::new(jobs);
    let (store_tx, store_rx) = mpsc::channel::<StoreJob>();
    let store = Store {
        tx: std::sync::Mutex::new(Some(store_tx)),
        errors: std::sync::Mutex::new(Vec::new()),
    };
    std::thread::scope(|scope| -> Result<(), ExecError> {
        let store = &store;
        let writer = scope.spawn(move || {
            while let Ok(job) = store_rx.recv() {
                store.store(cache, job);
            }
        });
        for _ in 0..jobs {
            let ev_tx = ev_tx.clone();
            let job_rx = &job_rx;
            let tokens = &tokens;
            scope.spawn(move || loop {
                let job = match job_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => break,
                };
                let Ok((id, deps)) = job else { break };
                let a = graph.get(id);
                let dep_results: HashMap<ActionId, &ActionResult> =
                    deps.iter().flatten().map(|r| (r.id, r)).collect();
                let cx = run::RunCtx {
                    cache,
                    digests,
                    opts,
                    tokens,
                    store,
                };
                let r = run::run_action(graph, a, &dep_results, &cx, &|cmdline| {
                    let _ = ev_tx.send(Event::Started { id, cmdline });
                });
                let _ = ev_tx.send(Event::Finished(Box::new(r)));
            });
        }
        drop(ev_tx);

        let dispatch = |st: &mut RunState| {
            while st.failed.is_none() && st.running < jobs {
                let Some(Ready { id, .. }) = st.ready.pop() else {
                    break;
                };
                let a = graph.get(id);
                let deps: Vec<Option<ActionResult>> = a
                    .deps
                    .iter()
                    .map(|d| st.results[d.0 as usize].clone())
                    .collect();
                st.running += 1;
                let _ = job_tx.send((id, deps));
            }
        };
        dispatch(&mut st);
        let mut done = 0usize;
        while st.running > 0 {
            let Ok(ev) = ev_rx.recv() else { break };
            match ev {
                Event::Started { id, cmdline } => {
                    if let Some(c) = cmdline.filter(|_| opts.print_commands) {
                        let line = format!("# {} {}\n{c}", id, graph.get(id).kind.name());
                        match &bar {
                            Some(b) => b.println(line),
                            None => eprintln!("{line}"),
                        }
                    }
                }
                Event::Finished(r) => {
                    st.running -= 1;
                    done += 1;
                    let a = graph.get(r.id);
                    if let Some(b) = &bar {
                        b.set_position(done as u64);
                        b.set_message(a.import_path.clone());
                    }
                    if opts.verbose && a.kind == ActionKind::Compile && !r.cached {
                        eprintln!("{}", a.import_path);
                    }
                    if r.status != ExecStatus::Success {
                        if st.failed.is_none() {
                            let dir = run::host_path(graph, &opts.work_dir, &a.src_dir);
                            st.failed = Some(failure_text(a, &r, &dir, &opts.display_cwd));
                        }
                    } else {
                        for &d in &st.dependents[r.id.0 as usize] {
                            st.pending[d.0 as usize] -= 1;
                            if st.pending[d.0 as usize] == 0 {
                                st.ready.push(Ready {
                                    priority: st.priority[d.0 as usize],
                                    id: d,
                                });
                            }
                        }
                    }
                    let id = r.id;
                    st.results[id.0 as usize] = Some(*r);
                    dispatch(&mut st);
                }
            }
        }
        drop(job_tx);
        // Wait for every queued store before reporting the build.
        if let Ok(mut tx) = store.tx.lock() {
            tx.take();
        }
        let _ = writer.join();
        Ok(())
    })?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let _ = started;
    if let Some(f) = st.failed {
        return Err(ExecError::ActionFailed(f));
    }
    if let Some(e) = store
        .errors
        .into_inner()
        .ok()
        .and_then(|v| v.into_iter().next())
    {
        return Err(ExecError::ActionFailed(e));
    }
    let mut results = Vec::with_capacity(n);
    for (i, r) in st.results.into_iter().enumerate() {
        match r {
            Some(r) => results.push(r),
            None => {
                return Err(ExecError::Internal(format!(
                    "action {} ({}) never ran: the plan has a dependency cycle",
                    ActionId(i as u32),
                    graph.actions[i].import_path
                )))
            }
        }
    }
    let cached = results.iter().filter(|r| r.cached).count();
    Ok(BuildReport {
        ran: results.len() - cached,
        cached,
        results,
    })
}

/// `# importpath` then the tool's own output, like go build: file names in the
/// package directory are shown relative to the user's directory when below it.
fn failure_text(
    a: &Action,
    r: &ActionResult,
    pkg_dir: &std::path::Path,
    cwd: &std::path::Path,
) -> String {
    let mut s = format!("# {}\n", a.import_path);
    let mut log = String::from_utf8_lossy(&r.log).into_owned();
    if let Ok(rel) = pkg_dir.strip_prefix(cwd) {
        let short = if rel.as_os_str().is_empty() {
            ".".to_string()
        } else {
            rel.display().to_string()
        };
        log = log.replace(&format!("{}/", pkg_dir.display()), &format!("{short}/"));
    }
    let log = log;
    s.push_str(log.trim_end());
    match &r.status {
        ExecStatus::Error(e) => {
            if !log.is_empty() {
                s.push('\n');
            }
            s.push_str(e);
        }
        ExecStatus::Signaled { signal } => {
            s.push_str(&format!("\n{} killed by signal {signal}", a.kind.name()))
        }
        ExecStatus::Failed { code } if log.trim().is_empty() => {
            s.push_str(&format!("{} exited with status {code}", a.kind.name()))
        }
        _ => {}
    }
    s
}
