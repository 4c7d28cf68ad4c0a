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
use gob_replay::plan::{self, PlanError};
use gob_replay::schema::{action_id, ActionRecord, Digest, FileRef, Status, INTERNAL_PACK};
use gob_replay::{Esc, EscLine, Trace};

use crate::exec::runner::{InputData, Label, Program, Spawn, SpawnInput, SpawnOutput};
use crate::exec::ExecStatus;
use crate::toolchain::Toolchain;

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
    pub toolexec: Option<crate::exec::toolexec::Toolexec>,
    /// Let the trace set any environment variable.
    pub trust_env: bool,
    /// `--allow-incomplete`: replay a trace without its End record (else it
    /// is refused: no verdict on a build whose record was cut off).
    pub allow_incomplete: bool,
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
    #[error("--action {}: no action of the trace has this id or package", Esc(.0))]
    NoSuchAction(String),
    /// The trace has no End record and `--allow-incomplete` was not given.
    #[error(
        "{}: the trace is incomplete: it has no End record after {actions} actions \
         (the build was interrupted, or the file was cut), so there is no verdict on the whole build; \
         pass --allow-incomplete to replay the actions it has",
        path.display()
    )]
    Incomplete {
        /// The trace.
        path: PathBuf,
        /// The actions it has.
        actions: usize,
    },
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
/// written once (temp name, rename) and read-only (mode 0444, in the 0700
/// replay directory; actions see it through read-only binds, pack through
/// its confined thread). A blob is verified when it is first used: hashed
/// from the file an action is about to read ([`Store::verified`]).
struct Store {
    dir: PathBuf,
    cap: Dir,
    known: Mutex<HashSet<Digest>>,
    /// Digests whose file was hashed from disk and matched.
    checked: Mutex<HashSet<Digest>>,
}

impl Store {
    /// The store in `root/blobs`, and `root/work` beside it: both new, 0700.
    fn create(root: &Path) -> Result<Store, ReplayError> {
        let io = |path: PathBuf| move |source| ReplayError::Io { path, source };
        for sub in ["blobs", "work"] {
            private_dir(&root.join(sub)).map_err(io(root.join(sub)))?;
        }
        let dir = root.join("blobs");
        Ok(Store {
            cap: Dir::open_ambient_dir(&dir, ambient_authority()).map_err(io(dir.clone()))?,
            dir,
            known: Mutex::new(HashSet::new()),
            checked: Mutex::new(HashSet::new()),
        })
    }

    /// The path of `d`'s file, after checking (once per digest, the first
    /// time an action uses it) that its bytes still hash to `d`: what an
    /// action reads is what the trace recorded, whatever happened to the
    /// file since it was written.
    fn verified(&self, d: &Digest) -> Result<PathBuf, String> {
        let path = self.path(d);
        if self.checked.lock().map(|c| c.contains(d)).unwrap_or(false) {
            return Ok(path);
        }
        let mut f = self
            .cap
            .open(hex(d))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let mut h = blake3::Hasher::new();
        std::io::copy(&mut f, &mut h).map_err(|e| format!("{}: {e}", path.display()))?;
        let actual = Digest(*h.finalize().as_bytes());
        if actual != *d {
            return Err(format!(
                "the stored input {} hashes to {}: refusing to use it",
                path.display(),
                short_digest(&actual)
            ));
        }
        if let Ok(mut c) = self.checked.lock() {
            c.insert(*d);
        }
        Ok(path)
    }

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

    /// Streams a trace's blob in: the reader hashes it on the way, and the
    /// file appears (whole) only if the bytes match the digest.
    fn put_stream<R: Read>(
        &self,
        d: &Digest,
        blob: gob_replay::BlobRead<'_, R>,
    ) -> Result<(), gob_replay::CopyError> {
        let mut failed = None;
        let put = self.put_with(d, |w| {
            blob.copy_to(&mut |b| std::io::Write::write_all(w, b))
                .map_err(|e| match e {
                    gob_replay::CopyError::Sink(e) => e,
                    e => {
                        failed = Some(e);
                        std::io::Error::other("the blob was refused")
                    }
                })
        });
        match (put, failed) {
            (_, Some(e)) => Err(e),
            (Err(e), None) => Err(gob_replay::CopyError::Sink(e)),
            (Ok(()), None) => Ok(()),
        }
    }

    /// Copies an output in from the descriptor the runner checked (a plain
    /// file with one link, opened without following links) and digested,
    /// never reopening it by name; hashed on the way, so only bytes with
    /// digest `d` are stored. Appears whole like [`Store::put`]: a concurrent
    /// dependent may be binding the same digest. Streamed: a linked binary is
    /// tens of megabytes.
    fn adopt(&self, d: &Digest, file: &std::fs::File) -> std::io::Result<()> {
        use crate::cache::HashCopyError;
        self.put_with(d, |w| {
            let mut src = crate::cache::ReadAt { file, pos: 0 };
            let copied =
                crate::cache::hash_copy(&mut src, &mut |b| std::io::Write::write_all(w, b));
            let (got, _) = copied.map_err(|(HashCopyError::Read(e) | HashCopyError::Sink(e))| e)?;
            if got.as_bytes() != &d.0 {
                return Err(std::io::Error::other(
                    "output changed after it was collected",
                ));
            }
            Ok(())
        })
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
        if let Err(e) = write(&mut f) {
            drop(f);
            let _ = self.cap.remove_file(&tmp);
            return Err(e);
        }
        f.set_permissions(cap_std::fs::Permissions::from_std(
            std::os::unix::fs::PermissionsExt::from_mode(0o444),
        ))?;
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
    /// Whether `path` lies under a source tree (never a path in `/work`, the
    /// actions' own directories).
    fn covers(&self, path: &str) -> bool {
        !path.starts_with("/work/") && self.trees.iter().any(|(p, _)| path.starts_with(p.as_str()))
    }

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
                .map_err(|e| format!("{} (under {}): {e}", Esc(&f.path), Esc(prefix)))?;
            let mut bytes = Vec::new();
            file.by_ref()
                .take(f.size.saturating_add(1))
                .read_to_end(&mut bytes)
                .map_err(|e| format!("{}: {e}", Esc(&f.path)))?;
            let d = Digest(*blake3::hash(&bytes).as_bytes());
            if d != f.digest {
                return Err(format!(
                    "{}: the file on this host ({} bytes, {}) is not the one recorded ({} bytes, {})",
                    Esc(&f.path),
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
            Esc(&f.path)
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

    let p = prepare(opts, reader, &h, &mut notes)?;

    // The replay directory: created fresh and exclusively, or given, ours
    // and empty (nothing pre-planted).
    let (root, temp) = replay_dir(opts)?;
    // From here on a temporary replay directory is removed on every exit.
    let result = (|| {
        let store = Arc::new(Store::create(&root)?);
        check_space(opts, &root, p.bytes)?;
        let again =
            gob_replay::TraceReader::open_with_limits(&opts.trace, gob_replay::Limits::default())
                .map_err(trace_error(&opts.trace))?;
        fill_store(opts, again, &p.input, &p.needed, &store)?;
        let trace = Arc::new(p.trace);
        run_all(
            opts,
            &trace,
            &p.selected,
            &root,
            &store,
            &p.sources,
            &sandbox,
        )
    })();
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

/// A trace read and checked, its actions selected: what [`prepare`] returns.
struct Prepared {
    trace: Trace,
    sources: Arc<Sources>,
    /// The actions to run, in index order.
    selected: Vec<u32>,
    /// The embedded blobs the selected actions use, with their sizes.
    needed: HashMap<Digest, u64>,
    /// Their total size.
    bytes: u64,
    /// The digest of the trace file's bytes as pass 1 read them.
    input: Digest,
}

/// Pass 1 and everything decided before anything is written: reads and
/// checks the whole trace (blobs hashed and dropped), refuses what replay
/// must not run, opens the source trees and selects the actions.
fn prepare<R: Read>(
    opts: &ReplayOptions,
    reader: gob_replay::TraceReader<R>,
    h: &gob_replay::schema::Header,
    notes: &mut Vec<String>,
) -> Result<Prepared, ReplayError> {
    // Pass 1: every record read and checked, the blobs' bytes dropped (only
    // their digests and sizes kept). Nothing is written before the whole
    // trace has been accepted and the actions to run are chosen.
    let mut embedded: HashMap<Digest, u64> = HashMap::new();
    let mut reader = reader;
    let trace = Trace::read_from(&mut reader, |d, len| {
        embedded.insert(*d, len);
        false
    })
    .map_err(trace_error(&opts.trace))?;
    let input = reader.input_digest().map_err(|source| ReplayError::Io {
        path: opts.trace.clone(),
        source,
    })?;
    if !trace.is_complete() {
        if !opts.allow_incomplete {
            return Err(ReplayError::Incomplete {
                path: opts.trace.clone(),
                actions: trace.actions.len(),
            });
        }
        notes.insert(
            0,
            format!(
                "the trace is incomplete (the build was interrupted, or the file was cut): \
                 {} actions recorded; replaying those (--allow-incomplete)",
                trace.actions.len()
            ),
        );
    }
    let refused = |e: PlanError| match e {
        PlanError::NoSuchAction(w) => ReplayError::NoSuchAction(w),
        PlanError::Refused(why) => ReplayError::Refused {
            path: opts.trace.clone(),
            why,
        },
    };
    plan::check_replayable(&trace, opts.trust_env).map_err(refused)?;
    let sources = Arc::new(Sources {
        trees: source_trees(opts, h)?,
    });
    let selected = plan::select(&trace, opts.only.as_deref(), |f| {
        embedded.contains_key(&f.digest) || sources.covers(&f.path)
    })
    .map_err(refused)?;
    // Only the blobs the selected actions use are written.
    let mut needed = plan::needed_blobs(&trace, &selected);
    needed.retain(|d, _| embedded.contains_key(d));
    let bytes: u64 = needed.values().sum();
    Ok(Prepared {
        trace,
        sources,
        selected,
        needed,
        bytes,
        input,
    })
}

/// A replay planned and not run: what [`plan`] returns.
#[derive(Debug)]
pub struct Plan {
    /// The notes replay would print (an incomplete trace).
    pub notes: Vec<String>,
    /// Each selected action, in index order, with the [`Spawn`] replay would
    /// run for it, or why it could not run now: an input neither embedded
    /// nor under a source tree (another action's output is in the store only
    /// once that action has run).
    pub spawns: Vec<(u32, Result<Spawn, String>)>,
}

/// Plans a replay in the replay directory `root` (created if missing) and
/// runs nothing: what [`replay`] does after its toolchain and sandbox
/// checks and before the first tool runs (pass 1, the checks and the
/// selection; pass 2 writing the used blobs into `root/blobs`; each
/// selected action's conversion into its [`Spawn`]). `open` opens the trace
/// once per pass. The fuzz target `trace_replay_plan` (`replay/fuzz`)
/// drives it with hostile traces.
pub fn plan<R: Read>(
    opts: &ReplayOptions,
    open: impl Fn() -> Result<gob_replay::TraceReader<R>, gob_replay::TraceError>,
    root: &Path,
) -> Result<Plan, ReplayError> {
    let reader = open().map_err(trace_error(&opts.trace))?;
    let h = reader.header().clone();
    let mut notes = Vec::new();
    let p = prepare(opts, reader, &h, &mut notes)?;
    std::fs::create_dir_all(root).map_err(|source| ReplayError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    let store = Store::create(root)?;
    let again = open().map_err(trace_error(&opts.trace))?;
    fill_store(opts, again, &p.input, &p.needed, &store)?;
    let produced = Mutex::new(HashMap::new());
    let spawns = p
        .selected
        .iter()
        .filter_map(|&i| p.trace.action(i))
        .map(|a| {
            let shell = is_shell(opts, a);
            let spawn = spawn_of(opts, a, root, &store, &p.sources, &produced, shell);
            (a.index, spawn.map(|(s, _)| s))
        })
        .collect();
    Ok(Plan { notes, spawns })
}

/// Refuses to start when the blobs to write (`bytes`) do not fit in the
/// space free where the replay directory is: better no verdict up front
/// than a full disk halfway.
fn check_space(opts: &ReplayOptions, root: &Path, bytes: u64) -> Result<(), ReplayError> {
    let c = std::ffi::CString::new(root.as_os_str().as_encoded_bytes()).map_err(|_| {
        ReplayError::Io {
            path: root.to_path_buf(),
            source: std::io::Error::other("path contains a NUL byte"),
        }
    })?;
    // SAFETY: statvfs writes into the zeroed struct; the path is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(ReplayError::Io {
            path: root.to_path_buf(),
            source: std::io::Error::last_os_error(),
        });
    }
    let free = (st.f_bavail as u64).saturating_mul(st.f_frsize as u64);
    if bytes > free {
        return Err(ReplayError::Refused {
            path: opts.trace.clone(),
            why: format!(
                "the inputs the selected actions need are {bytes} bytes, more than the {free} bytes free in {}",
                root.display()
            ),
        });
    }
    Ok(())
}

/// Pass 2: reads the trace again (from `reader`) and writes the `needed`
/// blobs (digests checked by the reader) into `store`, streamed. The other
/// records are skimmed, not decoded: the file must be the very bytes pass 1
/// read and checked (`input`, its digest), or nothing stored is used.
fn fill_store<R: Read>(
    opts: &ReplayOptions,
    mut reader: gob_replay::TraceReader<R>,
    input: &Digest,
    needed: &HashMap<Digest, u64>,
    store: &Store,
) -> Result<(), ReplayError> {
    use gob_replay::Item;
    let changed = || ReplayError::Refused {
        path: opts.trace.clone(),
        why: "the file changed while replay was reading it".into(),
    };
    reader.skim();
    loop {
        match reader.next_item() {
            Ok(None) => break,
            // Streamed into the store in pieces, hashed on the way: the
            // file appears only with the bytes of its digest.
            Ok(Some(Item::Blob(b))) if needed.contains_key(&b.digest()) => {
                let d = b.digest();
                store.put_stream(&d, b).map_err(|e| match e {
                    gob_replay::CopyError::Trace(e) if e.is_incomplete() => changed(),
                    gob_replay::CopyError::Trace(e) => trace_error(&opts.trace)(e),
                    gob_replay::CopyError::Sink(source) => ReplayError::Io {
                        path: store.path(&d),
                        source,
                    },
                })?
            }
            // Read and checked by the next call.
            Ok(Some(Item::Blob(_))) => {}
            Ok(Some(Item::Record(_))) => {}
            Err(e) if e.is_incomplete() => break,
            Err(e) => return Err(trace_error(&opts.trace)(e)),
        }
    }
    let again = reader.input_digest().map_err(|source| ReplayError::Io {
        path: opts.trace.clone(),
        source,
    })?;
    if again != *input {
        return Err(changed());
    }
    Ok(())
}

/// The replay directory and whether it is temporary. Without `--dir`: a
/// new directory under the temp dir with a random name, created with
/// `mkdir` (which fails if the name exists: never a directory or link
/// planted there) and mode 0700. With `--dir D` (made absolute against the
/// working directory): created the same way if it does not exist; if it
/// does, it must be a real directory (not a link), owned by this user, not
/// writable by others, and empty.
fn replay_dir(opts: &ReplayOptions) -> Result<(PathBuf, bool), ReplayError> {
    let refused = |why: String| ReplayError::Refused {
        path: opts.trace.clone(),
        why,
    };
    let Some(d) = &opts.dir else {
        let base = std::env::temp_dir();
        for _ in 0..16 {
            let d = base.join(format!("gob-replay-{}", random_name()));
            match private_dir(&d) {
                Ok(()) => return Ok((d, true)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(source) => return Err(ReplayError::Io { path: d, source }),
            }
        }
        return Err(refused(format!(
            "could not create a new replay directory under {}",
            base.display()
        )));
    };
    let d = std::path::absolute(d).map_err(|source| ReplayError::Io {
        path: d.clone(),
        source,
    })?;
    let io = |source| ReplayError::Io {
        path: d.clone(),
        source,
    };
    match std::fs::symlink_metadata(&d) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = d.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            private_dir(&d).map_err(io)?;
            return Ok((d, false));
        }
        Err(e) => return Err(io(e)),
        Ok(m) => {
            use std::os::unix::fs::MetadataExt;
            let why = if !m.file_type().is_dir() {
                Some("is not a directory (or is a symbolic link)".to_string())
            } else if m.uid() != unsafe { libc::geteuid() } {
                Some(format!("belongs to uid {}, not to this user", m.uid()))
            } else if m.mode() & 0o022 != 0 {
                Some(format!(
                    "is writable by others (mode {:o})",
                    m.mode() & 0o7777
                ))
            } else {
                None
            };
            if let Some(why) = why {
                return Err(refused(format!(
                    "the replay directory {} {why}; give a new directory",
                    d.display()
                )));
            }
        }
    }
    let mut entries = std::fs::read_dir(&d).map_err(io)?;
    if let Some(e) = entries.next() {
        let name = e.map(|e| e.path()).unwrap_or_else(|_| d.clone());
        return Err(refused(format!(
            "the replay directory {} is not empty (found {}); give a new or empty directory",
            d.display(),
            name.display()
        )));
    }
    Ok((d, false))
}

/// Creates `d` (not its parents) with mode 0700; fails if anything is there.
fn private_dir(d: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().mode(0o700).create(d)
}

/// 16 random hex characters (getrandom(2)), for names others must not guess.
fn random_name() -> String {
    let mut b = [0u8; 8];
    // SAFETY: getrandom writes at most b.len() bytes into b.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    if n != b.len() as isize {
        // Unpredictability is a bonus: mkdir's exclusivity is the guarantee.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = (t as u64 ^ u64::from(std::process::id())).to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
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
    // A bar on a terminal (not with -v, which prints a line per action):
    // how many actions are done, and which one has run longest.
    let bar = (!opts.verbose && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(|| {
        let b = indicatif::ProgressBar::new(selected.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("replay: {bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let mut started: std::collections::BTreeSet<(Instant, u32)> = Default::default();
    let label = |started: &std::collections::BTreeSet<(Instant, u32)>| -> String {
        let Some(a) = started.first().and_then(|&(_, i)| trace.action(i)) else {
            return String::new();
        };
        let more = match started.len() {
            1 => String::new(),
            n => format!(" (+{} running)", n - 1),
        };
        format!("{} {}{more}", Esc(&a.kind), Esc(&a.package))
    };
    std::thread::scope(|s| loop {
        while running < jobs {
            let Some(i) = ready.pop_first() else { break };
            let Some(a) = trace.action(i) else { continue };
            running += 1;
            started.insert((Instant::now(), i));
            if let Some(b) = &bar {
                b.set_message(label(&started));
            }
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
        started.retain(|&(_, j)| j != i);
        if let Some(b) = &bar {
            b.inc(1);
            b.set_message(label(&started));
        }
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
                Esc(&done.report.kind),
                Esc(&done.report.package),
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
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
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
    let shell = is_shell(opts, a);
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
            Esc(&a.kind),
            Esc(&a.package),
            EscLine(
                &crate::exec::tool_inside(&opts.toolchain.tool_dir(), &a.tool).to_string_lossy()
            ),
            a.argv
                .iter()
                .map(|x| Esc(x).to_string())
                .collect::<Vec<_>>()
                .join(" ")
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
        let _ = store.adopt(&d, &c.file);
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

/// Whether `--shell` opens its shell in place of `a` (the `--action` one).
fn is_shell(opts: &ReplayOptions, a: &ActionRecord) -> bool {
    opts.shell
        && opts
            .only
            .as_deref()
            .is_some_and(|w| action_id(a.index) == w || a.package == w)
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
                    .map_err(|e| format!("storing {}: {e}", Esc(&f.path)))?,
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
        let blob = store.verified(&digest)?;
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
            None => InputData::Bind {
                host: blob,
                size: None,
            },
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
                .map(|te| crate::exec::wrapper(te, true)),
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
        toolchain: Vec::new(),
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
        let _ = writeln!(s, "gob replay: note: {}", EscLine(n));
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
            let _ = writeln!(
                s,
                "\n{} {} {} ({role})",
                a.id(),
                Esc(&a.kind),
                Esc(&a.package)
            );
            match &a.verdict {
                Verdict::Match => {}
                Verdict::Diverged { outputs } => {
                    for m in outputs {
                        let _ = writeln!(s, "  output {} ({})", Esc(&m.path), Esc(&m.name));
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
                    let _ = writeln!(
                        s,
                        "  recorded: {}; replayed: {}",
                        EscLine(expected),
                        EscLine(actual)
                    );
                }
                Verdict::NotRun { why } => {
                    let _ = writeln!(s, "  not run: {}", EscLine(why));
                }
            }
            let err = String::from_utf8_lossy(&a.stderr);
            if !err.trim().is_empty() {
                let _ = writeln!(s, "  tool output:");
                for l in err.lines().take(40) {
                    let _ = writeln!(s, "    {}", EscLine(l));
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
    // Two passes: the actions, then only the blobs this action reads,
    // streamed into a temporary store (a blob may be large; memory holds
    // none of them).
    let open = || {
        gob_replay::TraceReader::open_with_limits(&opts.trace, gob_replay::Limits::default())
            .map_err(trace_error(&opts.trace))
    };
    let mut first = open()?;
    let trace = Trace::read_from(&mut first, |_, _| false).map_err(trace_error(&opts.trace))?;
    let input = first.input_digest().map_err(|source| ReplayError::Io {
        path: opts.trace.clone(),
        source,
    })?;
    drop(first);
    let a = trace
        .actions
        .iter()
        .find(|a| action_id(a.index) == id || a.package == id)
        .ok_or_else(|| ReplayError::NoSuchAction(id.to_string()))?
        .clone();
    let wanted: HashMap<Digest, u64> = a.inputs.iter().map(|f| (f.digest, f.size)).collect();
    let sources = Sources {
        trees: source_trees(opts, &trace.header)?,
    };
    let temp = ReplayOptions {
        dir: None,
        ..opts.clone()
    };
    let (root, _) = replay_dir(&temp)?;
    let result = (|| {
        let store = Store::create(&root)?;
        fill_store(opts, open()?, &input, &wanted, &store)?;
        let mut entries = Vec::new();
        for f in &a.inputs {
            let content = if store.has(&f.digest) {
                crate::dist::Content::File(store.path(&f.digest))
            } else {
                crate::dist::Content::Bytes(sources.fetch(f).map_err(|why| {
                    ReplayError::Refused {
                        path: opts.trace.clone(),
                        why: format!("cannot export {id}: input {why}"),
                    }
                })?)
            };
            entries.push(crate::dist::Entry {
                name: f.path.trim_start_matches('/').to_string(),
                mode: 0o644,
                content,
            });
        }
        entries.sort_by(|x, y| x.name.cmp(&y.name));
        crate::dist::write_tar(out, entries).map_err(|source| ReplayError::Io {
            path: out.to_path_buf(),
            source,
        })
    })();
    let _ = gob_sandbox::tree::remove(&root);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue #13 item 3: an output is adopted from the descriptor the runner
    /// checked, never by reopening its path (a link swapped in by a process
    /// that outlived its tool would have put the link's target in the store),
    /// and only bytes with the collected digest are stored.
    #[test]
    fn adopt_copies_from_the_descriptor_and_checks_the_digest() {
        let root = std::env::temp_dir().join(format!("gob-replay-adopt-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let blobs = root.join("blobs");
        std::fs::create_dir_all(&blobs).unwrap_or_else(|e| panic!("{e}"));
        let store = Store {
            dir: blobs.clone(),
            cap: Dir::open_ambient_dir(&blobs, ambient_authority())
                .unwrap_or_else(|e| panic!("{e}")),
            known: Mutex::new(HashSet::new()),
            checked: Mutex::new(HashSet::new()),
        };
        let out = root.join("_pkg_.a");
        let secret = root.join("secret");
        std::fs::write(&out, b"the output").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&secret, b"a secret").unwrap_or_else(|e| panic!("{e}"));
        let file = std::fs::File::open(&out).unwrap_or_else(|e| panic!("{e}"));
        std::fs::remove_file(&out).unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(&secret, &out).unwrap_or_else(|e| panic!("{e}"));
        let d = Digest(*blake3::hash(b"the output").as_bytes());
        store.adopt(&d, &file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            std::fs::read(store.path(&d)).ok().as_deref(),
            Some(&b"the output"[..])
        );
        let wrong = Digest(*blake3::hash(b"something else").as_bytes());
        assert!(store.adopt(&wrong, &file).is_err());
        assert!(!store.has(&wrong) && !store.path(&wrong).exists());
        let leftovers = std::fs::read_dir(&blobs).map(|r| r.count()).unwrap_or(0);
        assert_eq!(leftovers, 1, "a refused adopt left a temporary file");
        let _ = std::fs::remove_dir_all(&root);
    }

    /// Pins (issue #13, item 6): a blob is verified when it is used. A store
    /// file whose bytes changed after it was written (by anything) is
    /// refused before an action reads it, naming the file; a good one is
    /// read-only and checked once.
    #[test]
    fn a_stored_blob_is_verified_when_used() {
        use std::os::unix::fs::PermissionsExt;
        let root = std::env::temp_dir().join(format!("gob-replay-unit-{}", random_name()));
        private_dir(&root).unwrap();
        let store = Store::create(&root).unwrap();
        let (good, bad) = (b"package a\n".as_slice(), b"package b\n".as_slice());
        let (dg, db) = (Digest::of(good), Digest::of(bad));
        store.put(&dg, good).unwrap();
        store.put(&db, bad).unwrap();
        let mode = std::fs::metadata(store.path(&dg))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o444);
        assert_eq!(store.verified(&dg).unwrap(), store.path(&dg));
        // Tampered after it was stored (root ignores the file's mode).
        let p = store.path(&db);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::write(&p, b"package evil\n").unwrap();
        let err = store.verified(&db).unwrap_err();
        assert!(
            err.contains(&p.display().to_string()) && err.contains("refusing to use it"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}
