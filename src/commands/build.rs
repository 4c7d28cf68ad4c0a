//! `gob build`: load, plan, execute, and put the binaries where `go build` would.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::cache::{Cache, Digest, DigestCache};
use crate::exec::record::{self, TraceRecorder};
use crate::exec::{self, BuildReport, ExecOptions};
use crate::load::buildmode::Filter;
use crate::load::{LoadConfig, PackageGraph, PkgId};
use crate::memo::MemoOutput;
use crate::plan::{self, ActionGraph, InputSource, PlanOptions};

/// Options of `gob build` beyond loading.
#[derive(Clone, Debug, Default)]
pub struct BuildOptions {
    /// `-o`: output file, or directory when it ends in `/` or is one.
    pub output: Option<PathBuf>,
    /// What the progress bar calls this build (`gob audit`'s `build a`);
    /// None for a plain build.
    pub progress_label: Option<String>,
    /// `-p`: parallelism.
    pub jobs: usize,
    /// `-x`.
    pub print_commands: bool,
    /// `-n`: print the plan, run nothing.
    pub dry_run: bool,
    /// `-v`.
    pub verbose: bool,
    /// `-a`: ignore cached results.
    pub force: bool,
    /// `--debug-actiongraph FILE`.
    pub debug_actiongraph: Option<PathBuf>,
    /// `--debug-timing`: print how long each phase took.
    pub debug_timing: bool,
    /// Compiler, linker and assembler flags; `all=` prefixes are handled by the caller.
    pub plan: PlanOptions,
    /// `--sandbox` / `--hermetic`: which isolation every tool runs under.
    pub sandbox: SandboxChoice,
    /// `-toolexec PROG`: run each tool as `PROG TOOL ARGS…`, inside the sandbox.
    pub toolexec: Option<crate::exec::toolexec::Toolexec>,
    /// Where the trace goes.
    pub trace: TraceChoice,
    /// `-json`: tool output and per-action results as JSON lines on stdout.
    pub json: bool,
    /// Conditions the build must not depend on (varied by `gob audit`).
    pub conditions: Conditions,
    /// With `-o DIR/`, build the non-main packages named too (`gob audit`
    /// checks every package); go build builds only the main packages then.
    pub output_all: bool,
    /// What each action may use (`--action-timeout`, `-memory`, `-disk`, `-output`).
    pub limits: gob_sandbox::Limits,
    /// `--action-notice`: say which actions still run after this long (None: never).
    pub notice: Option<Duration>,
}

/// What `gob audit` varies between its two builds, beyond the work directory,
/// the cache and `-p`. None of it is part of an action's key or trace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Conditions {
    /// The uid and gid tools run as inside the user namespace (default 1000).
    pub inside_id: Option<u32>,
    /// The tools' umask (default: gob's).
    pub umask: Option<u32>,
    /// Variables added to every tool's environment (TZ, LANG, HOME, SOURCE_DATE_EPOCH, ...).
    pub env: Vec<(String, String)>,
    /// Take ready actions in the opposite order.
    pub reverse_order: bool,
}

/// Which trace a build records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum TraceChoice {
    /// A digest-only trace under the cache directory (the newest few are kept).
    #[default]
    Automatic,
    /// `--trace FILE`: there, with input blobs unless `--trace-blobs=false`.
    File {
        /// The file.
        path: PathBuf,
        /// Embed every input's content (a self-contained trace).
        blobs: bool,
    },
    /// No trace (`--trace=off`).
    Off,
}

/// The isolation asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SandboxChoice {
    /// The strongest mode the host provides (`--sandbox=auto`, the default).
    #[default]
    Auto,
    /// Exactly this mode, or a clear error (`--sandbox=MODE`; `--hermetic` is `full`).
    Exactly(gob_sandbox::Mode),
}

impl SandboxChoice {
    /// Parses `auto`, `full`, `namespaces`, `landlock` or `none`.
    pub fn parse(s: &str) -> Option<SandboxChoice> {
        use gob_sandbox::Mode;
        Some(match s {
            "auto" => SandboxChoice::Auto,
            "full" => SandboxChoice::Exactly(Mode::Full),
            "namespaces" => SandboxChoice::Exactly(Mode::Namespaces),
            "landlock" => SandboxChoice::Exactly(Mode::Landlock),
            "none" => SandboxChoice::Exactly(Mode::None),
            _ => return None,
        })
    }

    /// Prepares the sandbox, or says why the host cannot provide it.
    pub fn open(self) -> Result<gob_sandbox::Sandbox, gob_sandbox::SandboxError> {
        match self {
            SandboxChoice::Auto => Ok(gob_sandbox::Sandbox::auto()),
            SandboxChoice::Exactly(m) => gob_sandbox::Sandbox::new(m),
        }
    }
}

/// Errors of the build command.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Loading failed as a whole.
    #[error(transparent)]
    Load(#[from] crate::load::LoadError),
    /// The packages cannot be built (load errors, cgo).
    #[error(transparent)]
    Plan(#[from] plan::PlanError),
    /// A tool failed.
    #[error(transparent)]
    Exec(#[from] exec::ExecError),
    /// The C toolchain a cgo package needs could not be found.
    #[error(transparent)]
    Cc(#[from] crate::cc::CcError),
    /// The trace could not be written.
    #[error("trace: {0}")]
    Trace(String),
    /// The sandbox asked for is not available.
    #[error(transparent)]
    Sandbox(#[from] gob_sandbox::SandboxError),
    /// `--sandbox=landlock` and a program cmd/link would link externally.
    #[error(
        "{package}: links externally ({why}), and cmd/link then sets file times, \
         which --sandbox=landlock denies: use --sandbox=full or --sandbox=namespaces"
    )]
    LandlockExternalLink {
        /// The main package.
        package: String,
        /// What makes the link external.
        why: String,
    },
    /// Writing an output or the action graph failed.
    #[error("{path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Copying a result out of the cache failed.
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
    /// `-o` with several packages and a non-directory.
    #[error("cannot write multiple packages to non-directory {}", .0.display())]
    OutputNotDir(PathBuf),
    /// `-o DIR` and no main package among those named.
    #[error("no main packages to build")]
    NoMainPackages,
    /// `-o FILE` and no package left to build (cmd/go prints this without a prefix).
    #[error("no packages to build")]
    NoPackages,
    /// `-buildmode=exe -o FILE`, c-archive, c-shared or plugin given other
    /// than one main package (cmd/go's oneMainPkg, unprefixed).
    #[error("-buildmode={0} requires exactly one main package")]
    OneMainPackage(&'static str),
    /// A build mode go would build but gob cannot yet.
    #[error("-buildmode={mode}: not supported by gob yet: {why}")]
    BuildModeUnsupported {
        /// The mode.
        mode: &'static str,
        /// What it would need.
        why: &'static str,
    },
    /// The executable's default name is a directory.
    #[error("build output {0:?} already exists and is a directory")]
    OutputIsDir(String),
    /// A package named on the command line has no Go files to compile
    /// (only tests, or all excluded), found when its build would start.
    #[error("{import_path}: {why} {}", .dir.display())]
    NoGoFiles {
        /// The package.
        import_path: String,
        /// `no non-test Go files in`, `build constraints exclude all Go files in`, `no Go files in`.
        why: &'static str,
        /// Its directory.
        dir: PathBuf,
    },
}

/// Which packages a build plans and where each result goes: cmd/go's runBuild
/// rules for the packages named and `-o`.
#[derive(Debug, Default)]
pub struct Targets {
    /// The packages to build, in command-line order.
    pub roots: Vec<PkgId>,
    /// Where a package's result is installed: a main package's executable, or a
    /// non-main package's archive (`-o lib.a ./lib`).
    pub dests: Vec<(PkgId, PathBuf)>,
    /// Whether a linked result is installed executable (not in the C and
    /// plugin build modes, as go build).
    pub linked_exec: bool,
}

/// Applies go build's rules (`runBuild` in cmd/go/internal/work/build.go):
/// packages with no Go files that only a wildcard matched are left out
/// (`omitTestOnly`); `-o /dev/null` builds and writes nothing; `-o DIR` (an
/// existing directory or a path ending in `/`) builds the main packages only,
/// each to `DIR/name`; `-o FILE` takes exactly one package, main or not;
/// without `-o`, a single main package goes to `./name` and anything else is
/// built and discarded. A literal package with no Go files fails as its build
/// would. `output` is absolute; `tar` and `output_all` are gob's own.
pub fn select_targets(
    cfg: &LoadConfig,
    graph: &PackageGraph,
    output: Option<&Path>,
    tar: bool,
    output_all: bool,
) -> Result<Targets, BuildError> {
    let goos = &cfg.target.goos;
    let roots: Vec<PkgId> = graph
        .roots
        .iter()
        .copied()
        .filter(|&id| {
            let p = graph.pkg(id);
            let no_go = p.files.go_files.is_empty() && p.files.cgo_files.is_empty();
            // Named files are not a literal package pattern (cmd/go's
            // CmdlinePkgLiteral), so only test files build nothing.
            !no_go
                || !p.cmdline_files
                    && p.matched
                        .iter()
                        .any(|m| crate::load::patterns::is_literal(m))
        })
        .collect();
    let is_main = |id: &PkgId| graph.pkg(*id).name == "main";
    let name = |id: PkgId| exec_name(graph.pkg(id), goos);
    // go names the output of a lone main package before -buildmode's
    // filter (and the omission of test-only packages) runs, which may then
    // leave nothing to write there. Named test files alone have no name.
    let lone_main = matches!(graph.roots[..], [only] if is_main(&only) && !name(only).is_empty());
    let bm = &cfg.build_mode;
    let roots = match bm.filter {
        Filter::All => roots,
        Filter::Main => roots.into_iter().filter(is_main).collect(),
        Filter::NotMain => roots.into_iter().filter(|id| !is_main(id)).collect(),
        // cmd/go checks the packages before omitting test-only ones.
        Filter::OneMain if lone_main => roots,
        Filter::OneMain => return Err(BuildError::OneMainPackage(bm.mode.name())),
    };
    if let (Some(why), false) = (bm.gob_refusal(), roots.is_empty()) {
        return Err(BuildError::BuildModeUnsupported {
            mode: bm.mode.name(),
            why,
        });
    }
    let mut t = Targets {
        linked_exec: bm.installs_executable(),
        ..Targets::default()
    };
    match output.filter(|o| *o != Path::new("/dev/null")) {
        // -o /dev/null, like no -o at all, except a lone main package is not installed.
        None if output.is_some() => t.roots = roots,
        None => {
            if lone_main {
                let [only] = roots[..] else {
                    return Err(BuildError::NoPackages);
                };
                let dest = cfg.modules.cwd.join(name(only));
                if dest.is_dir() {
                    return Err(BuildError::OutputIsDir(name(only)));
                }
                t.dests.push((only, dest));
            }
            t.roots = roots;
        }
        // gob's `-o x.tar`: every package built, the executables put in the tar.
        Some(_) if tar => t.roots = roots,
        Some(o) if o.is_dir() || o.as_os_str().to_string_lossy().ends_with('/') => {
            for &id in roots.iter().filter(|id| is_main(id)) {
                t.dests.push((id, o.join(name(id))));
            }
            if t.dests.is_empty() && !output_all {
                return Err(BuildError::NoMainPackages);
            }
            t.roots = if output_all {
                roots
            } else {
                t.dests.iter().map(|(id, _)| *id).collect()
            };
        }
        Some(o) => match roots[..] {
            [] => return Err(BuildError::NoPackages),
            [only] => {
                t.dests.push((only, o.to_path_buf()));
                t.roots = roots;
            }
            _ => return Err(BuildError::OutputNotDir(o.to_path_buf())),
        },
    }
    // What cmd/go's build action says of a package without Go files.
    for &id in &t.roots {
        let p = graph.pkg(id);
        let f = &p.files;
        if f.go_files.is_empty() && f.cgo_files.is_empty() {
            let why = if !f.ignored_go_files.is_empty() {
                "build constraints exclude all Go files in"
            } else if !f.test_go_files.is_empty() || !f.xtest_go_files.is_empty() {
                "no non-test Go files in"
            } else {
                "no Go files in"
            };
            return Err(BuildError::NoGoFiles {
                import_path: p.import_path.clone(),
                why,
                dir: p.dir.clone(),
            });
        }
    }
    Ok(t)
}

/// The executable name cmd/go gives a main package (DefaultExecName plus
/// the target's suffix): for named files the first file's name.
pub fn exec_name(p: &crate::load::Package, goos: &str) -> String {
    let name = if p.cmdline_files {
        crate::load::cmdfiles::exe_name(&p.files)
    } else {
        exe_from_import_path(&p.import_path)
    };
    if goos == "windows" {
        format!("{name}.exe")
    } else {
        name
    }
}

/// cmd/go's exeFromImportPath: the last path element, or the one before a
/// `/vN` major-version suffix.
fn exe_from_import_path(import_path: &str) -> String {
    let path = import_path.split(" [").next().unwrap_or(import_path);
    let mut elems: Vec<&str> = path.split('/').collect();
    let last = elems.pop().unwrap_or("");
    let is_major = last.len() > 1
        && last.starts_with('v')
        && last[1..].bytes().all(|b| b.is_ascii_digit())
        && last != "v0"
        && last != "v1";
    let name = if is_major && !elems.is_empty() {
        elems.pop().unwrap_or(last)
    } else {
        last
    };
    name.to_string()
}

/// Writes the action graph as JSON (`--debug-actiongraph`).
pub fn write_actiongraph(g: &ActionGraph, path: &Path) -> Result<(), BuildError> {
    let actions: Vec<serde_json::Value> = g
        .actions
        .iter()
        .map(|a| {
            serde_json::json!({
                "ID": a.id.0,
                "Name": a.id.to_string(),
                "Mode": a.kind.name(),
                "Package": a.import_path,
                "Deps": a.deps.iter().map(|d| d.0).collect::<Vec<_>>(),
                "Tool": a.tool.binary().unwrap_or(if a.tool.c_compiler() { a.tool.trace_name() } else { "internal:pack" }),
                "Args": a.args.iter().filter(|x| !x.0.is_empty()).map(|x| x.render(&|l| l.inside())).collect::<Vec<_>>(),
                "Env": a.env.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
                "Dir": a.cwd.inside(),
                "Inputs": a.inputs.iter().map(|i| {
                    let src = match &i.source {
                        InputSource::Host(p) => serde_json::json!({"Host": p}),
                        InputSource::Generated(_) => serde_json::json!("generated"),
                        InputSource::Output { action, name } => serde_json::json!({"Action": action.0, "Output": name}),
                    };
                    serde_json::json!({"At": i.at.inside(), "From": src})
                }).collect::<Vec<_>>(),
                "Outputs": a.outputs.iter().map(|o| o.at.inside()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let text = serde_json::to_string_pretty(&actions).map_err(|e| BuildError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    })?;
    std::fs::write(path, text + "\n").map_err(|source| BuildError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// What a build did.
pub struct BuildOutcome {
    /// The loaded packages (None when the no-op memo answered).
    pub graph: Option<PackageGraph>,
    /// The plan (None when the no-op memo answered).
    pub plan: Option<ActionGraph>,
    /// Per-action results (None for -n and for a memo hit).
    pub report: Option<BuildReport>,
    /// Binaries written: (package, path).
    pub written: Vec<(String, PathBuf)>,
    /// The whole build was answered by the no-op memo (see `memo.rs`): nothing
    /// was loaded, planned or run; this many actions were remembered.
    pub memo_hit: Option<usize>,
}

impl BuildOutcome {
    /// The `-v` line that ends a build: how many actions ran and how many
    /// came from the cache (or were remembered by the no-op memo).
    pub fn summary(&self) -> Option<String> {
        match (&self.report, self.memo_hit) {
            (Some(r), _) => Some(format!(
                "gob: {} actions: {} ran, {} cached",
                r.results.len(),
                r.ran,
                r.cached
            )),
            (None, Some(n)) => Some(format!(
                "gob: {n} actions: 0 ran, {n} cached (no-op memo: no input changed)"
            )),
            (None, None) => None,
        }
    }
}

/// The `-json` `build-done` event that ends a build's events (`outcome` is
/// None for a failed build).
pub fn done_event(passed: bool, outcome: Option<&BuildOutcome>) -> serde_json::Value {
    let (actions, ran, cached) = match outcome {
        Some(o) => match (&o.report, o.memo_hit) {
            (Some(r), _) => (r.results.len(), r.ran, r.cached),
            (None, Some(n)) => (n, 0, n),
            _ => (0, 0, 0),
        },
        None => (0, 0, 0),
    };
    serde_json::json!({
        "Action": "build-done",
        "Passed": passed,
        "Actions": actions,
        "Ran": ran,
        "Cached": cached,
        "Memo": outcome.is_some_and(|o| o.memo_hit.is_some()),
        "Written": outcome.map(|o| o.written.iter().map(|(_, p)| p.clone()).collect::<Vec<_>>()),
    })
}

/// The `-json` `build-done` event of a failed build: how many actions
/// finished (and came from the cache) before a tool failed, if one did.
pub fn failed_event(counts: Option<(usize, usize)>) -> serde_json::Value {
    let (actions, cached) = counts.unwrap_or((0, 0));
    serde_json::json!({
        "Action": "build-done",
        "Passed": false,
        "Actions": actions,
        "Ran": actions - cached,
        "Cached": cached,
        "Memo": false,
        "Written": serde_json::Value::Null,
    })
}

/// Runs `gob build`: the no-op memo, or load, select targets, plan, execute
/// (recording the trace), install; then remember the build in the memo.
pub fn build(
    cfg: &LoadConfig,
    patterns: &[String],
    cache: &Cache,
    work_dir: &Path,
    opts: &BuildOptions,
) -> Result<BuildOutcome, BuildError> {
    let mut timing = Timing::start();
    let wall_start = SystemTime::now();
    // A tar is assembled from the link outputs, which a memo hit does not have.
    let tar_output = opts
        .output
        .as_deref()
        .is_some_and(crate::dist::is_tar_output);
    let memo_key = memo_key(cfg, patterns, opts, tar_output);
    if let Some(k) = &memo_key {
        if let Some(outcome) = restore_memo(cfg, cache, k, wall_start)? {
            timing.lap("memo hit");
            timing.print(opts.debug_timing);
            return Ok(outcome);
        }
    }
    let graph = crate::load::load(cfg, patterns)?;
    timing.lap("load");
    let targets = targets(cfg, &graph, opts, tar_output)?;
    let plan_opts = with_c_toolchain(cfg, &graph, &targets.roots, &opts.plan)?;
    let ag = plan::plan(cfg, &graph, &targets.roots, &plan_opts)?;
    timing.lap("plan");
    for pat in &ag.cover_unmatched {
        eprintln!("warning: no packages being built depend on matches for pattern {pat}");
    }
    if let Some(p) = &opts.debug_actiongraph {
        write_actiongraph(&ag, p)?;
    }
    if opts.dry_run {
        // What would run: the cache's misses and what depends on them.
        let eopts = exec_options(cfg, work_dir, opts)?;
        let digests =
            DigestCache::load(cache).map_err(|e| exec::ExecError::Internal(e.to_string()))?;
        let ids = exec::would_run(&ag, cache, &digests, &eopts);
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{}", ag.commands(&ids));
        return Ok(BuildOutcome {
            graph: Some(graph),
            plan: Some(ag),
            report: None,
            written: Vec::new(),
            memo_hit: None,
        });
    }
    let eopts = exec_options(cfg, work_dir, opts)?;
    if eopts.sandbox.0.mode() == gob_sandbox::Mode::Landlock {
        refuse_landlock_external_link(&graph, &ag, &targets.roots)?;
    }
    let digests = DigestCache::load(cache).map_err(|e| exec::ExecError::Internal(e.to_string()))?;
    timing.lap("stat cache load");
    let mut recorder = open_trace(cfg, cache, &ag, &digests, patterns, opts)?;
    let report = exec::execute(
        &ag,
        cache,
        &digests,
        &eopts,
        recorder.as_mut().map(|r| r as &mut dyn exec::Recorder),
    );
    timing.lap("execute");
    finish_trace(recorder, report.is_ok(), opts)?;
    let report = report.inspect_err(|_| save_caches(cache, &digests))?;
    if let (true, Some(tar)) = (tar_output, &opts.output) {
        return write_tar_output(cfg, cache, &digests, graph, ag, report, tar);
    }
    let (report, (written, installed)) =
        match install_targets(cache, &graph, &ag, &report, &targets, &digests) {
            // A cached output that failed verification as it was copied out
            // (bit rot under an unchanged stat stamp) has been removed: its
            // action misses now and runs again.
            Err(BuildError::Cache(e)) if e.is_miss() => {
                let again = exec::execute(&ag, cache, &digests, &eopts, None)
                    .inspect_err(|_| save_caches(cache, &digests))?;
                let installed = install_targets(cache, &graph, &ag, &again, &targets, &digests)?;
                (again, installed)
            }
            r => (report, r?),
        };
    timing.lap("install");
    save_caches(cache, &digests);
    timing.lap("stat caches save");
    timing.print(opts.debug_timing);
    if let (Some(k), Some(installed)) = (memo_key, installed) {
        let run = MemoRun {
            key: k,
            actions: report.results.len(),
            wall_start,
        };
        save_memo(cfg, cache, (&graph, &ag), opts, &written, installed, run);
    }
    Ok(BuildOutcome {
        graph: Some(graph),
        plan: Some(ag),
        report: Some(report),
        written,
        memo_hit: None,
    })
}

/// `--debug-timing`: how long each phase of a build took.
struct Timing {
    /// When the build started.
    t0: Instant,
    /// Each finished phase and its duration, in order.
    phases: Vec<(&'static str, Duration)>,
}

impl Timing {
    fn start() -> Timing {
        Timing {
            t0: Instant::now(),
            phases: Vec::new(),
        }
    }

    /// Ends the phase `name`: the time since the previous phase ended.
    fn lap(&mut self, name: &'static str) {
        let before: Duration = self.phases.iter().map(|(_, d)| *d).sum();
        self.phases.push((name, self.t0.elapsed() - before));
    }

    /// Prints the phases on stderr when `on` (`--debug-timing`).
    fn print(&self, on: bool) {
        if on {
            for (name, d) in &self.phases {
                eprintln!("gob: {name:<18} {:8.1} ms", d.as_secs_f64() * 1000.0);
            }
        }
    }
}

impl TraceChoice {
    /// `--trace FILE`: every action's record is wanted, so no memo, and a
    /// trace that cannot be written fails the build.
    fn is_explicit(&self) -> bool {
        matches!(self, TraceChoice::File { .. })
    }
}

/// The plan options with the C toolchain, found when cgo is on and a package
/// to build has cgo files (discovery runs the compiler, so only then).
fn with_c_toolchain(
    cfg: &LoadConfig,
    graph: &crate::load::PackageGraph,
    roots: &[crate::load::PkgId],
    opts: &plan::PlanOptions,
) -> Result<plan::PlanOptions, BuildError> {
    let mut opts = opts.clone();
    let needs = cfg.target.cgo_enabled
        && graph
            .post_order(roots)
            .iter()
            .any(|&id| !graph.pkg(id).files.cgo_files.is_empty());
    if needs && opts.cc.is_none() {
        let cc = cfg.cgo.discover()?;
        opts.cc = Some(std::sync::Arc::new(cc));
    }
    Ok(opts)
}

/// Memo check, part 1: the no-op memo's key (the same configuration, flags
/// and patterns), or None when this build must really run (`-a`, `-n`,
/// `--trace FILE`, a tar output, `--debug-actiongraph`).
/// `--sandbox=landlock` denies the calls that change a file's metadata on
/// the host tree, and cmd/link's external link sets its temporary files'
/// times: a program that links externally is refused before anything runs.
fn refuse_landlock_external_link(
    graph: &PackageGraph,
    ag: &ActionGraph,
    roots: &[crate::load::PkgId],
) -> Result<(), BuildError> {
    if ag.cc.is_none() {
        return Ok(());
    }
    for &root in roots {
        if let Some(why) = plan::external_link_cause(graph, root) {
            return Err(BuildError::LandlockExternalLink {
                package: graph.pkg(root).import_path.clone(),
                why,
            });
        }
    }
    Ok(())
}

fn memo_key(
    cfg: &LoadConfig,
    patterns: &[String],
    opts: &BuildOptions,
    tar_output: bool,
) -> Option<Digest> {
    // -coverpkg: go warns about unmatched patterns on every build, which
    // only a plan can tell.
    let coverpkg = cfg.cover.as_ref().is_some_and(|c| !c.pkgs.is_empty());
    let usable = !opts.force
        && !coverpkg
        && !opts.dry_run
        && !opts.trace.is_explicit()
        && !tar_output
        && opts.debug_actiongraph.is_none();
    usable.then(|| {
        Digest::of_bytes(
            format!(
                "gob {}\n{patterns:?}\n{cfg:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
                env!("CARGO_PKG_VERSION"),
                opts.plan,
                opts.output,
                opts.sandbox,
                opts.toolexec,
                opts.conditions
            )
            .as_bytes(),
        )
    })
}

/// Memo check, part 2: when every stamp the memo recorded under `key` is
/// unchanged, puts back the outputs that are not current and answers the
/// whole build; None on a miss.
fn restore_memo(
    cfg: &LoadConfig,
    cache: &Cache,
    key: &Digest,
    wall_start: SystemTime,
) -> Result<Option<BuildOutcome>, BuildError> {
    let Some((m, restamped)) = crate::memo::lookup(cache, key) else {
        return Ok(None);
    };
    // A file matched by its content only: record the fresh stamps so the
    // next lookup is stats alone (best effort; racy stamps are not recorded).
    if restamped {
        let paths = m.deps.iter().map(|(p, _, _)| p.clone()).collect();
        let _ = crate::memo::save(
            cache,
            key,
            &paths,
            &memo_immutable(cfg),
            m.outputs.clone(),
            m.actions,
            wall_start,
        );
    }
    let digests = DigestCache::load(cache).map_err(|e| exec::ExecError::Internal(e.to_string()))?;
    let mut written = Vec::new();
    for o in &m.outputs {
        let current = o.dest.is_file() && digests.digest(&o.dest).is_ok_and(|d| d == o.digest);
        if !current {
            if let Some(d) = o.dest.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(d).map_err(|source| BuildError::Write {
                    path: d.to_path_buf(),
                    source,
                })?;
            }
            match cache.materialize_blob(&o.digest, o.size, 0o777 & !user_umask(), &o.dest) {
                Ok(()) => {}
                // The blob was bad (damaged, not a file) and is gone: build.
                Err(e) if e.is_miss() => return Ok(None),
                Err(e) => {
                    return Err(BuildError::Write {
                        path: o.dest.clone(),
                        source: std::io::Error::other(e),
                    })
                }
            }
        }
        written.push((String::new(), o.dest.clone()));
    }
    let _ = digests.save();
    Ok(Some(BuildOutcome {
        graph: None,
        plan: None,
        report: None,
        written,
        memo_hit: Some(m.actions),
    }))
}

/// Select targets: load errors first, as go build reports them before
/// looking at `-o`, then [`select_targets`].
fn targets(
    cfg: &LoadConfig,
    graph: &PackageGraph,
    opts: &BuildOptions,
    tar_output: bool,
) -> Result<Targets, BuildError> {
    plan::check_load_errors(graph, &graph.roots)?;
    select_targets(
        cfg,
        graph,
        opts.output.as_deref(),
        tar_output,
        opts.output_all,
    )
}

/// Execute, setup: the executor's options, with the sandbox opened under the
/// conditions asked for.
fn exec_options(
    cfg: &LoadConfig,
    work_dir: &Path,
    opts: &BuildOptions,
) -> Result<ExecOptions, BuildError> {
    Ok(ExecOptions {
        jobs: opts.jobs.max(1),
        print_commands: opts.print_commands,
        verbose: opts.verbose,
        work_dir: work_dir.to_path_buf(),
        tool_dir: cfg.toolchain.tool_dir(),
        progress: !opts.print_commands && !opts.verbose,
        progress_label: opts.progress_label.clone(),
        use_cache: !opts.force,
        display_cwd: cfg.modules.cwd.clone(),
        sandbox: exec::SandboxHandle(std::sync::Arc::new({
            let mut sb = opts.sandbox.open()?;
            if let Some(id) = opts.conditions.inside_id {
                sb = sb.with_inside_id(id)?;
            }
            if let Some(m) = opts.conditions.umask {
                sb = sb.with_umask(m);
            }
            sb
        })),
        toolexec: opts.toolexec.clone(),
        limits: opts.limits.clone(),
        noise_env: opts.conditions.env.clone(),
        reverse_order: opts.conditions.reverse_order,
        json: opts.json,
        notice: opts.notice,
    })
}

/// Trace recording, start: the trace `opts.trace` asks for, its header
/// written. Only a `--trace FILE` that cannot be created fails the build; an
/// automatic trace is given up with a warning.
fn open_trace(
    cfg: &LoadConfig,
    cache: &Cache,
    ag: &ActionGraph,
    digests: &DigestCache,
    patterns: &[String],
    opts: &BuildOptions,
) -> Result<Option<TraceRecorder>, BuildError> {
    let (path, blobs) = match &opts.trace {
        TraceChoice::File { path, blobs } => (path.clone(), *blobs),
        TraceChoice::Automatic => (
            record::next_default_path(&record::default_dir(cache.dir())),
            false,
        ),
        TraceChoice::Off => return Ok(None),
    };
    let h = record::header(cfg, ag, digests, patterns, blobs);
    match TraceRecorder::create(&path, &h) {
        Ok(r) => Ok(Some(r)),
        Err(e) if opts.trace.is_explicit() => Err(BuildError::Trace(e)),
        Err(e) => {
            eprintln!("gob: warning: not recording a trace: {e}");
            Ok(None)
        }
    }
}

/// Trace recording, end: the end record (whether the build succeeded); with
/// `-v`, where the trace went. As at the start, only `--trace FILE` is fatal.
fn finish_trace(
    recorder: Option<TraceRecorder>,
    success: bool,
    opts: &BuildOptions,
) -> Result<(), BuildError> {
    let Some(r) = recorder else {
        return Ok(());
    };
    match r.finish(success) {
        Ok(p) if opts.verbose => eprintln!("gob: trace written to {}", p.display()),
        Ok(_) => {}
        Err(e) if opts.trace.is_explicit() => return Err(BuildError::Trace(e)),
        Err(e) => eprintln!("gob: warning: trace: {e}"),
    }
    Ok(())
}

/// Saves the stat caches, worth keeping even when the build failed.
fn save_caches(cache: &Cache, digests: &DigestCache) {
    let _ = digests.save();
    let _ = cache.save_verified();
}

/// Install, `-o x.tar`: every executable built, in a deterministic tar.
fn write_tar_output(
    cfg: &LoadConfig,
    cache: &Cache,
    digests: &DigestCache,
    graph: PackageGraph,
    ag: ActionGraph,
    report: BuildReport,
    tar: &Path,
) -> Result<BuildOutcome, BuildError> {
    let goos = &cfg.target.goos;
    let entries: Vec<crate::dist::Entry> = ag
        .links
        .iter()
        .filter_map(|(pkg, link)| {
            let o = report.results[link.0 as usize].output("a.out")?;
            Some(crate::dist::Entry {
                name: exec_name(graph.pkg(*pkg), goos),
                mode: 0o755,
                content: crate::dist::Content::File(o.path.clone()),
            })
        })
        .collect();
    if entries.is_empty() {
        save_caches(cache, digests);
        return Err(BuildError::Write {
            path: tar.to_path_buf(),
            source: std::io::Error::other("no main package to put in it"),
        });
    }
    if let Some(d) = tar.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(d).map_err(|source| BuildError::Write {
            path: d.to_path_buf(),
            source,
        })?;
    }
    crate::dist::write_tar(tar, entries).map_err(|source| BuildError::Write {
        path: tar.to_path_buf(),
        source,
    })?;
    save_caches(cache, digests);
    Ok(BuildOutcome {
        graph: Some(graph),
        plan: Some(ag),
        report: Some(report),
        written: vec![(String::new(), tar.to_path_buf())],
        memo_hit: None,
    })
}

/// What [`install_targets`] wrote, (package, path), and what the memo may
/// restore on a hit: the executables, or None when an archive was installed
/// (the memo installs with 0777).
type Installed = (Vec<(String, PathBuf)>, Option<Vec<MemoOutput>>);

/// Install: each target's executable or archive where [`select_targets`]
/// put it; like go build, an up-to-date file (same content digest) is left alone.
/// Every byte copied is hashed on the way ([`Cache::install`]).
fn install_targets(
    cache: &Cache,
    graph: &PackageGraph,
    ag: &ActionGraph,
    report: &BuildReport,
    targets: &Targets,
    digests: &DigestCache,
) -> Result<Installed, BuildError> {
    let mut written = Vec::new();
    let mut installed = Vec::new();
    let mut all_executables = true;
    for (pkg, dest) in &targets.dests {
        // A main package's executable, or the archive of a non-main one.
        let (action, name, exec) = match ag.links.iter().find(|(id, _)| id == pkg) {
            Some((_, link)) => (*link, "a.out", targets.linked_exec),
            None => match ag.archives.get(pkg) {
                Some(a) => (*a, "_pkg_.a", false),
                None => continue,
            },
        };
        let Some(o) = report.results[action.0 as usize].output(name) else {
            continue;
        };
        let current = dest.is_file() && digests.digest(dest).is_ok_and(|d| d == o.digest);
        if !current {
            install(cache, o, dest, exec)?;
        }
        written.push((graph.pkg(*pkg).import_path.clone(), dest.clone()));
        installed.push(MemoOutput {
            dest: dest.clone(),
            digest: o.digest,
            size: o.size,
        });
        all_executables &= exec;
    }
    Ok((written, all_executables.then_some(installed)))
}

/// The facts of a finished build the memo records beside its stamps.
struct MemoRun {
    /// The memo key ([`memo_key`]).
    key: Digest,
    /// How many actions the build had.
    actions: usize,
    /// When the build started: stamps newer than this are racy.
    wall_start: SystemTime,
}

/// Memo, save: remembers the build by the stamps of everything it depended
/// on (with a changed `-toolexec` program rebuilding), so that the same build
/// next time is answered without loading. Best effort: with `--debug-timing`,
/// says why not.
fn save_memo(
    cfg: &LoadConfig,
    cache: &Cache,
    (graph, ag): (&PackageGraph, &plan::ActionGraph),
    opts: &BuildOptions,
    written: &[(String, PathBuf)],
    outputs: Vec<MemoOutput>,
    run: MemoRun,
) {
    // The C toolchain's files and trees, and the `$PATH` directories its
    // programs were looked up in: stamped, not hashed (like GOROOT).
    let c_paths: Vec<PathBuf> = match &ag.cc {
        Some(cc) => cc
            .memo_paths()
            .into_iter()
            .chain(std::env::split_paths(&cfg.cgo.path).filter(|d| d.is_absolute()))
            .collect(),
        None => Vec::new(),
    };
    let mut immutable: Vec<&Path> = memo_immutable(cfg).to_vec();
    immutable.extend(c_paths.iter().map(PathBuf::as_path));
    let paths: BTreeSet<PathBuf> =
        crate::memo::dependency_paths(graph, ag, &cfg.toolchain.goroot, &cfg.toolchain.tool_dir())
            .into_iter()
            .chain(c_paths.iter().cloned())
            // A changed -toolexec program must rebuild (it is keyed by content).
            .chain(
                opts.toolexec
                    .iter()
                    .flat_map(|te| te.host_files().map(Path::to_path_buf)),
            )
            .filter(|p| !written.iter().any(|(_, w)| w == p))
            .collect();
    if let Err(why) = crate::memo::save(
        cache,
        &run.key,
        &paths,
        &immutable,
        outputs,
        run.actions,
        run.wall_start,
    ) {
        if opts.debug_timing {
            eprintln!("gob: no-op memo not recorded: {why}");
        }
    }
}

/// The trees the memo stamps but does not hash (assumed immutable, as cmd/go
/// assumes): GOROOT and the module cache.
fn memo_immutable(cfg: &LoadConfig) -> [&Path; 2] {
    [&cfg.toolchain.goroot, &cfg.modules.gomodcache]
}

/// The umask gob was started with (the process's own may be relaxed for
/// root; see `main.rs`). Installed binaries honour it, as go build's do.
static USER_UMASK: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0o022);

/// Records the umask gob was started with.
pub fn set_user_umask(mask: u32) {
    USER_UMASK.store(mask & 0o777, std::sync::atomic::Ordering::Relaxed);
}

fn user_umask() -> u32 {
    USER_UMASK.load(std::sync::atomic::Ordering::Relaxed)
}

/// Copies a built file into place atomically, verifying its digest on the
/// way: an executable gets 0777 less the umask, an archive 0666 less the umask
/// (as go build installs them).
fn install(cache: &Cache, o: &exec::OutputFile, dest: &Path, exec: bool) -> Result<(), BuildError> {
    if let Some(d) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(d).map_err(|source| BuildError::Write {
            path: dest.to_path_buf(),
            source,
        })?;
    }
    let mode = if exec { 0o777 } else { 0o666 };
    Ok(cache.install(&o.path, &o.digest, o.size, mode & !user_umask(), dest)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_names_follow_cmd_go() {
        assert_eq!(exe_from_import_path("example.com/hello"), "hello");
        assert_eq!(exe_from_import_path("example.com/tool/v2"), "tool");
        assert_eq!(exe_from_import_path("cmd/go"), "go");
        assert_eq!(exe_from_import_path("cmd/compile [cmd/compile]"), "compile");
    }
}
