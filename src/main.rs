//! The `gob` command line: a thin layer over the library. Every command reads
//! its flags by go's rules (`gob::cli`: `-tags x`, `--tags=x`, `-ldflags "-s -w"`,
//! and `$GOFLAGS`), gob's own options in either spelling; clap declares them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use gob::commands::list::{self, ListOptions};
use gob::commands::{self, audit, build};
use gob::config::{self, Env, LoadFlags};

#[derive(Parser)]
#[command(
    name = "gob",
    version,
    about = "A hermetic, sandboxed builder for Go code"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Compile packages and dependencies, like `go build` (always -trimpath).
    Build(BuildArgs),
    /// Compile and run a main package, like `go run`: built in the sandbox,
    /// then run outside it with the arguments after the package.
    Run(RunArgs),
    /// Compile and install packages, like `go install`: executables to
    /// $GOBIN, else $GOPATH/bin ($GOPATH/bin/GOOS_GOARCH when cross-compiling).
    Install(InstallArgs),
    /// List packages like `go list` (native loader; no `go` is run).
    List(ListArgs),
    /// Print the configuration gob uses, like `go env`.
    Env(EnvArgs),
    /// Remove gob's cache (`-cache`).
    Clean(CleanArgs),
    /// Print gob's version and the Go toolchain it would use; with files, the
    /// Go version (and with -m the modules) each binary was built with.
    Version(VersionArgs),
    /// Re-execute a trace's actions in the sandbox and prove every output bit for bit.
    Replay(ReplayArgs),
    /// Inspect traces: `show` one, `diff` two.
    Trace(TraceArgs),
    /// Build twice under conditions that must not matter and prove every output
    /// identical (exit 0), or say which action differs first and where (exit 1).
    Audit(AuditArgs),
}

#[derive(Args)]
struct AuditArgs {
    #[command(flatten)]
    build: BuildArgs,
    /// Build once and compare with this trace, recorded elsewhere (by gob build
    /// --trace or another audit), instead of building twice.
    #[arg(long, value_name = "TRACE")]
    against: Option<PathBuf>,
    /// Keep both traces in DIR, a new or empty directory (by default they are
    /// kept only when the audit fails).
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
}

#[derive(Args)]
struct ReplayArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Source tree for inputs the trace does not embed: DIR (the trace's first
    /// module) or INSIDE=DIR (e.g. /mod/example.com/lib=../lib). Repeatable.
    #[arg(long, value_name = "[INSIDE=]DIR")]
    src: Vec<String>,
    /// Replay only this action (an id such as b012, or a package path) and what it needs.
    #[arg(long, value_name = "ID|PKG")]
    action: Option<String>,
    /// Keep the replay directory (inputs by digest, each action's work dir).
    #[arg(long)]
    keep: bool,
    /// The replay directory (new or empty); implies --keep.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Open an interactive shell inside the --action's sandbox, its inputs in place.
    #[arg(long)]
    shell: bool,
    /// Write the files action ID saw into a tar (with -o).
    #[arg(long, value_name = "ID")]
    export: Option<String>,
    /// The tar file for --export.
    #[arg(short = 'o')]
    output: Option<PathBuf>,
    /// Parallel actions (default: number of CPUs).
    #[arg(short = 'p')]
    jobs: Option<usize>,
    /// full (default) or namespaces: replay always maps paths.
    #[arg(long, value_name = "MODE")]
    sandbox: Option<String>,
    /// Run each tool as `PROG TOOL ARGS...` (an emulator such as qemu-aarch64-static).
    #[arg(long, value_name = "PROG")]
    toolexec: Option<String>,
    /// Let the trace set environment variables other than the Go target settings.
    #[arg(long = "trust-env")]
    trust_env: bool,
    /// Replay a trace that has no End record (a build that was interrupted, or
    /// a file cut short); without it such a trace is refused (exit 2).
    #[arg(long = "allow-incomplete")]
    allow_incomplete: bool,
    /// Print each action's verdict as it finishes.
    #[arg(short = 'v')]
    verbose: bool,
    /// Print the verdicts as JSON lines (replay-action, replay-done; docs/json.md).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    limits: LimitArgs,
    /// The trace file.
    trace: PathBuf,
}

#[derive(Args)]
struct TraceArgs {
    #[command(subcommand)]
    cmd: TraceCmd,
}

#[derive(Subcommand)]
enum TraceCmd {
    /// The graph, per-action times and cache hits.
    Show {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// The trace file.
        trace: PathBuf,
    },
    /// Which actions differ between two traces, and the first input or flag that differs.
    Diff {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// The first trace.
        a: PathBuf,
        /// The second trace.
        b: PathBuf,
    },
}

/// What each action may use: every command that runs actions takes these.
#[derive(Args, Clone, Default)]
struct LimitArgs {
    /// Wall time each action may run before its whole process tree is killed,
    /// e.g. 30s, 10m, 2h (default 1h; off: none).
    #[arg(long = "action-timeout", value_name = "DURATION")]
    action_timeout: Option<String>,
    /// Memory each action may use: its address space, e.g. 4GiB (default
    /// 16GiB; off: none).
    #[arg(long = "action-memory", value_name = "SIZE")]
    action_memory: Option<String>,
    /// Disk each action may fill: any one file, its /tmp, and its work directory
    /// in total, files at their apparent size (default 1GiB; off: none).
    #[arg(long = "action-disk", value_name = "SIZE")]
    action_disk: Option<String>,
    /// Captured stdout, and stderr, of each action; the rest is dropped with a
    /// note (default 64MiB; off: none).
    #[arg(long = "action-output", value_name = "SIZE")]
    action_output: Option<String>,
    /// Say which actions are still running after this long, and again after
    /// each further period (default 60s; off: never).
    #[arg(long = "action-notice", value_name = "DURATION")]
    action_notice: Option<String>,
}

impl LimitArgs {
    /// The limits and the notice period.
    fn parse(&self) -> anyhow::Result<(gob_sandbox::Limits, Option<std::time::Duration>)> {
        let flags = gob::limits::LimitFlags {
            timeout: self.action_timeout.clone(),
            memory: self.action_memory.clone(),
            disk: self.action_disk.clone(),
            output: self.action_output.clone(),
        };
        let limits = flags.limits().map_err(anyhow::Error::msg)?;
        let notice = match &self.action_notice {
            None => Some(std::time::Duration::from_secs(60)),
            Some(v) => gob::limits::parse_duration(v)
                .map_err(|e| anyhow::anyhow!("--action-notice={v}: {e}"))?,
        };
        Ok((limits, notice))
    }
}

#[derive(Args, Clone)]
struct CommonArgs {
    /// The Go toolchain to use (else $GOROOT, else `go env GOROOT`).
    #[arg(long)]
    goroot: Option<PathBuf>,
}

/// go's build flags (`go help build`) that gob takes, shared by `build`,
/// `audit` and `list` (which, as go list, accepts them all).
#[derive(Args)]
struct GoBuildFlags {
    /// Number of actions run in parallel (default: number of CPUs).
    #[arg(short = 'p')]
    jobs: Option<usize>,
    /// Print the commands as they run.
    #[arg(short = 'x')]
    print_commands: bool,
    /// Print the plan without running it.
    #[arg(short = 'n')]
    dry_run: bool,
    /// Print the names of packages as they are compiled.
    #[arg(short = 'v')]
    verbose: bool,
    /// Rebuild everything, ignoring cached results.
    #[arg(short = 'a')]
    force: bool,
    /// Build tags, comma-separated.
    #[arg(long)]
    tags: Option<String>,
    /// Flags for the compiler (`all=` applies them to every package).
    #[arg(long)]
    gcflags: Vec<String>,
    /// Flags for the linker.
    #[arg(long)]
    ldflags: Vec<String>,
    /// Flags for the assembler.
    #[arg(long)]
    asmflags: Vec<String>,
    /// Module download mode: readonly, vendor or mod.
    #[arg(long = "mod")]
    mod_mode: Option<String>,
    /// Read FILE instead of the main module's go.mod (and FILE's .sum sibling instead of go.sum).
    #[arg(long, value_name = "FILE")]
    modfile: Option<String>,
    /// A JSON file {"Replace": {path: file}} laid over the file system: each
    /// path reads as its file, or is deleted when the file is "".
    #[arg(long, value_name = "FILE")]
    overlay: Option<String>,
    /// Profile-guided optimization: auto, off, or a profile FILE for every main package.
    #[arg(long)]
    pgo: Option<String>,
    /// Build mode: default, exe, pie or archive (go's c-archive, c-shared,
    /// shared and plugin are refused as go refuses them without cgo).
    #[arg(long, value_name = "MODE")]
    buildmode: Option<String>,
    /// A suffix for the install directory, passed to compile and link as go does.
    #[arg(long, value_name = "SUFFIX")]
    installsuffix: Option<String>,
    /// Link against shared libraries (needs cgo: refused as go refuses it).
    #[arg(long)]
    linkshared: bool,
    /// Enable the race detector (needs cgo: refused with go's message).
    #[arg(long)]
    race: bool,
    /// Enable memory sanitizer interoperation (needs cgo: refused with go's message).
    #[arg(long)]
    msan: bool,
    /// Enable address sanitizer interoperation (needs cgo: refused with go's message).
    #[arg(long)]
    asan: bool,
    /// Accepted for compatibility: gob always builds with -trimpath.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    trimpath: Option<String>,
    /// Accepted for compatibility: gob never stamps VCS information (auto or false).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    buildvcs: Option<String>,
    /// Accepted for compatibility: gob never writes the module cache.
    #[arg(long)]
    modcacherw: bool,
    /// Change to this directory first.
    #[arg(short = 'C')]
    chdir: Option<PathBuf>,
    /// The compiler: gc (gccgo is refused).
    #[arg(long)]
    compiler: Option<String>,
    /// Flags for gccgo: checked and unused, as go does with gc.
    #[arg(long)]
    gccgoflags: Vec<String>,
    /// Where go installs and loads packages: unused, gob keeps them in its cache.
    #[arg(long, value_name = "DIR")]
    pkgdir: Option<PathBuf>,
    /// Write the action graph as JSON to this file.
    #[arg(long = "debug-actiongraph")]
    debug_actiongraph: Option<PathBuf>,
    /// Keep the work directory and print its path.
    #[arg(long)]
    work: bool,
    /// Run each tool as `PROG TOOL ARGS...`, inside the tool's sandbox.
    #[arg(long, value_name = "PROG")]
    toolexec: Option<String>,
}

impl GoBuildFlags {
    /// The flags that shape loading; `output`: whether go's `-o` was given
    /// (what cmd/go's buildModeInit checks).
    fn load_flags(&self, common: &CommonArgs, output: bool) -> LoadFlags {
        LoadFlags {
            goroot: common.goroot.clone(),
            tags: self.tags.clone(),
            mod_mode: self.mod_mode.clone(),
            pgo: self.pgo.clone(),
            chdir: self.chdir.clone(),
            overlay: self.overlay.clone(),
            modfile: self.modfile.clone(),
            build_mode: gob::load::BuildModeFlags {
                buildmode: self.buildmode.clone(),
                installsuffix: self.installsuffix.clone(),
                linkshared: self.linkshared,
                output,
                race: self.race,
                msan: self.msan,
                asan: self.asan,
            },
            cover: None,
        }
    }
}

/// go's coverage flags, which `build`, `run`, `install` (and `audit`) take
/// and `list` does not.
#[derive(Args, Clone, Default)]
struct CoverArgs {
    /// Instrument the packages for coverage (GOCOVERDIR data when the program runs).
    #[arg(long)]
    cover: bool,
    /// Coverage mode: set, count or atomic (sets -cover).
    #[arg(long, value_name = "MODE")]
    covermode: Option<String>,
    /// Instrument the packages matching these comma-separated patterns instead
    /// of the main module's (sets -cover).
    #[arg(long, value_name = "PATTERNS")]
    coverpkg: Option<String>,
}

impl CoverArgs {
    /// go's -cover with the mode it defaults to; None without -cover.
    fn cover(&self) -> Option<gob::load::Cover> {
        let on = self.cover || self.covermode.is_some() || self.coverpkg.is_some();
        on.then(|| gob::load::Cover {
            // The flag parser accepts only go's modes; "" is go's default.
            mode: self
                .covermode
                .as_deref()
                .and_then(gob::load::CoverMode::parse)
                .unwrap_or(gob::load::CoverMode::Set),
            pkgs: self
                .coverpkg
                .as_deref()
                .map(|v| v.split(',').map(String::from).collect())
                .unwrap_or_default(),
        })
    }
}

#[derive(Args)]
struct BuildArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    go: GoBuildFlags,
    #[command(flatten)]
    cover: CoverArgs,
    /// Write the binary to this file (or into this directory).
    #[arg(short = 'o')]
    output: Option<PathBuf>,
    /// Print how long each phase of the build took.
    #[arg(long = "debug-timing")]
    debug_timing: bool,
    /// Isolation for every tool: auto (the strongest the host provides), full
    /// (namespaces + Landlock + seccomp), namespaces, landlock or none.
    #[arg(long, value_name = "MODE")]
    sandbox: Option<String>,
    /// Demand full isolation (--sandbox=full) and fail if the host cannot provide it.
    #[arg(long)]
    hermetic: bool,
    /// Record a self-contained trace of the build to FILE (`off`: none at all;
    /// default: a digest-only trace under the cache directory).
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Print tool output and per-action results as JSON lines (go build -json events).
    #[arg(long)]
    json: bool,
    /// With --trace: embed every input's content (default true).
    #[arg(long = "trace-blobs", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    trace_blobs: Option<bool>,
    #[command(flatten)]
    limits: LimitArgs,
    /// Package patterns (default ".").
    packages: Vec<String>,
}

/// gob's own options of a command that builds: isolation and limits.
#[derive(Args)]
struct SandboxArgs {
    /// Isolation for every tool: auto (the strongest the host provides), full
    /// (namespaces + Landlock + seccomp), namespaces, landlock or none.
    #[arg(long, value_name = "MODE")]
    sandbox: Option<String>,
    /// Demand full isolation (--sandbox=full) and fail if the host cannot provide it.
    #[arg(long)]
    hermetic: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    go: GoBuildFlags,
    #[command(flatten)]
    cover: CoverArgs,
    #[command(flatten)]
    own: SandboxArgs,
    /// Run the binary as `XPROG BINARY ARGS...` (default for a target other
    /// than the host: go_GOOS_GOARCH_exec from $PATH, if any).
    #[arg(long = "exec", value_name = "XPROG")]
    exec: Vec<String>,
    /// The package (or .go files), then the program's arguments.
    args: Vec<String>,
}

#[derive(Args)]
struct InstallArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    go: GoBuildFlags,
    #[command(flatten)]
    cover: CoverArgs,
    #[command(flatten)]
    own: SandboxArgs,
    /// Package patterns (default ".").
    packages: Vec<String>,
}

impl SandboxArgs {
    /// A gob build command line with these options, building `packages`
    /// into `output`.
    fn build_args(
        self,
        common: CommonArgs,
        go: GoBuildFlags,
        cover: CoverArgs,
        output: PathBuf,
        packages: Vec<String>,
    ) -> BuildArgs {
        BuildArgs {
            common,
            go,
            cover,
            output: Some(output),
            debug_timing: false,
            sandbox: self.sandbox,
            hermetic: self.hermetic,
            trace: None,
            json: false,
            trace_blobs: None,
            limits: self.limits,
            packages,
        }
    }
}

#[derive(Args)]
struct EnvArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
    /// Variables to print (default: all).
    vars: Vec<String>,
}

#[derive(Args)]
struct VersionArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Print each file's embedded module information too.
    #[arg(short = 'm')]
    m: bool,
    /// Report the files of a directory that are not Go binaries.
    #[arg(short = 'v')]
    v: bool,
    /// With -m: print each file's build info as JSON (runtime/debug.BuildInfo).
    #[arg(long)]
    json: bool,
    /// Go binaries, or directories to scan for them.
    files: Vec<PathBuf>,
}

#[derive(Args)]
struct CleanArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// go's build flags: -n prints the removals without doing them, -x
    /// prints them as they are done; -tags, -mod and -C shape the loading.
    #[command(flatten)]
    go: GoBuildFlags,
    /// Remove the installed executable too (what gob install wrote).
    #[arg(short = 'i')]
    i: bool,
    /// Clean the packages' dependencies too.
    #[arg(short = 'r')]
    r: bool,
    /// Remove gob's whole build cache.
    #[arg(long)]
    cache: bool,
    /// Accepted as go's: gob caches no test results, so nothing to expire.
    #[arg(long)]
    testcache: bool,
    /// Remove the module cache ($GOMODCACHE), as go clean -modcache does.
    #[arg(long)]
    modcache: bool,
    /// Accepted as go's: gob keeps no fuzz cache.
    #[arg(long)]
    fuzzcache: bool,
    /// Packages whose directories to clean (default: ".", inside a module).
    packages: Vec<String>,
}

#[derive(Args)]
struct ListArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// go's build flags: -tags, -mod, -pgo and -C shape the listing, the
    /// others are accepted and have no effect on it.
    #[command(flatten)]
    go: GoBuildFlags,
    /// Print every dependency too, in dependency order.
    #[arg(long)]
    deps: bool,
    /// Print JSON objects with `go list -json` field names.
    #[arg(long)]
    json: bool,
    /// Report erroneous packages instead of failing.
    #[arg(short = 'e')]
    e: bool,
    /// Print each package (or module) with this Go text/template.
    #[arg(short = 'f', value_name = "TEMPLATE")]
    format: Option<String>,
    /// List modules instead of packages.
    #[arg(short = 'm')]
    m: bool,
    /// With -m: available upgrades (needs the network: refused).
    #[arg(short = 'u')]
    u: bool,
    /// With -m: available versions (needs the network: refused).
    #[arg(long)]
    versions: bool,
    /// With -m: retractions (needs the network: refused).
    #[arg(long)]
    retracted: bool,
    /// Package patterns (default "."); module patterns with -m.
    packages: Vec<String>,
}

/// `--sandbox` and `--hermetic` together: `--hermetic` is `full`, and a
/// conflicting explicit mode is an error rather than a silent choice.
fn sandbox_choice(mode: Option<&str>, hermetic: bool) -> anyhow::Result<build::SandboxChoice> {
    use build::SandboxChoice;
    let parsed = match mode {
        None => None,
        Some(m) => Some(SandboxChoice::parse(m).ok_or_else(|| {
            anyhow::anyhow!(
                "--sandbox={m}: unknown mode; use auto, full, namespaces, landlock or none"
            )
        })?),
    };
    let full = SandboxChoice::Exactly(gob_sandbox::Mode::Full);
    match (parsed, hermetic) {
        (Some(p), true) if p != full => anyhow::bail!(
            "--hermetic demands --sandbox=full; drop --sandbox={} or --hermetic",
            mode.unwrap_or_default()
        ),
        (_, true) => Ok(full),
        (Some(p), false) => Ok(p),
        (None, false) => Ok(SandboxChoice::Auto),
    }
}

/// `-toolexec 'PROG ARGS'`: the program (a path, or a name looked up in $PATH
/// as go does) with what it needs to start in a sandbox.
fn toolexec(
    value: Option<&str>,
    env: &Env,
) -> anyhow::Result<Option<gob::exec::toolexec::Toolexec>> {
    match value {
        None => Ok(None),
        Some(v) => {
            gob::exec::toolexec::Toolexec::resolve(v, env.get("PATH")).map_err(anyhow::Error::msg)
        }
    }
}

/// `gob replay`: exit 0 identical, 1 diverged, 2 no verdict (the trace, the
/// toolchain or the options are at fault), so that a CI gate can tell a
/// divergence from a broken job.
fn run_replay(a: ReplayArgs, env: &Env) -> ExitCode {
    let json = a.json;
    match replay_verdict(a, env) {
        Ok(code) => code,
        Err(e) => {
            let text = error_text(&e);
            // The message may quote the trace: one line, nothing a terminal acts on.
            eprintln!("gob replay: {}", gob_replay::EscLine(&text));
            if json {
                gob::events::emit(&serde_json::json!({
                    "Action": "replay-done",
                    "Verdict": "error",
                    "Error": text,
                }));
            }
            ExitCode::from(2)
        }
    }
}

fn replay_verdict(a: ReplayArgs, env: &Env) -> anyhow::Result<ExitCode> {
    let goroot = a.common.goroot.clone().or_else(|| {
        env.get("GOROOT")
            .filter(|g| !g.is_empty())
            .map(PathBuf::from)
    });
    let toolchain = gob::toolchain::Toolchain::discover(goroot.as_deref(), None)?;
    let sandbox = match a.sandbox.as_deref() {
        None | Some("full") => gob_sandbox::Mode::Full,
        Some("namespaces") => gob_sandbox::Mode::Namespaces,
        Some(m) => anyhow::bail!(
            "--sandbox={m}: replay runs only in a sandbox that maps paths: full or namespaces"
        ),
    };
    let src = a
        .src
        .iter()
        .map(|s| match s.split_once('=') {
            Some((inside, dir)) if inside.starts_with('/') => {
                (Some(inside.to_string()), PathBuf::from(dir))
            }
            _ => (None, PathBuf::from(s)),
        })
        .collect();
    if a.jobs == Some(0) {
        anyhow::bail!("-p must be a positive integer: 0");
    }
    let opts = gob::commands::replay::ReplayOptions {
        trace: a.trace.clone(),
        toolchain,
        src,
        only: a.action.clone(),
        keep: a.keep,
        dir: a.dir.clone(),
        jobs: a.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        }),
        sandbox,
        toolexec: toolexec(a.toolexec.as_deref(), env)?,
        trust_env: a.trust_env,
        allow_incomplete: a.allow_incomplete,
        verbose: a.verbose,
        shell: a.shell,
        limits: a.limits.parse()?.0,
    };
    if a.shell && a.action.is_none() {
        anyhow::bail!("--shell needs --action ID|PKG: the action whose sandbox to open");
    }
    if let Some(id) = &a.export {
        let Some(out) = &a.output else {
            anyhow::bail!("--export {id} needs -o FILE.tar");
        };
        let n = gob::commands::replay::export(&opts, id, out)?;
        eprintln!("gob replay: wrote {n} files of {id} to {}", out.display());
        return Ok(ExitCode::SUCCESS);
    }
    let report = gob::commands::replay::replay(&opts)?;
    if a.json {
        for e in gob::commands::replay::events(&report) {
            gob::events::emit(&e);
        }
    } else {
        print!("{}", gob::commands::replay::render(&report));
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn main() -> ExitCode {
    gob::workdir::clean_up_on_signals();
    readable_files_for_nobody();
    let env = Env::capture();
    let cli = match parse_command_line(&env) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let code = match run(cli, &env) {
        Ok(code) => code,
        Err(e) if gob::workdir::interrupted() => {
            let _ = e;
            ExitCode::from(1)
        }
        // cmd/go's buildModeInit and instrumentInit words, as they are.
        Err(e) => match e.downcast_ref() {
            Some(config::ConfigError::BuildMode(_)) => {
                eprintln!("{e}");
                ExitCode::from(1)
            }
            Some(config::ConfigError::Instrument(_)) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
            _ => {
                eprintln!("gob: {}", error_text(&e));
                ExitCode::from(1)
            }
        },
    };
    // Interrupted: the signal thread removes the work directories and ends
    // gob with the signal; returning now would exit first.
    while gob::workdir::interrupted() {
        std::thread::park();
    }
    code
}

/// The command line, read with go's flag rules and $GOFLAGS (gob::cli), then
/// by clap; a mistake is reported with go's words and exit status.
fn parse_command_line(env: &Env) -> Result<Cli, ExitCode> {
    let argv: Vec<String> = std::env::args().collect();
    if let Some(a) = gob::help::answer(&argv[1..]) {
        if a.ok {
            print!("{}", a.text);
            return Err(ExitCode::SUCCESS);
        }
        eprint!("{}", a.text);
        return Err(ExitCode::from(2));
    }
    // As go's flag package: a flag given twice keeps its last value. Help is
    // gob::help's, with go's words and exit status, never clap's.
    let command = Cli::command()
        .disable_help_subcommand(true)
        .disable_help_flag(true)
        .args_override_self(true)
        .mut_subcommands(|c| {
            c.args_override_self(true)
                .disable_help_flag(true)
                .disable_help_subcommand(true)
                .mut_subcommands(|c| c.args_override_self(true).disable_help_flag(true))
        });
    let args = gob::cli::normalize(&command, argv, env.get("GOFLAGS")).map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(e.exit_code())
    })?;
    command
        .clone()
        .try_get_matches_from(&args)
        .and_then(|m| Cli::from_arg_matches(&m))
        .map_err(|e| {
            use clap::error::{ContextKind, ContextValue, ErrorKind};
            let context = |k| match e.get(k) {
                Some(ContextValue::String(s)) => Some(s.clone()),
                _ => None,
            };
            // `-p abc`: go's words rather than clap's.
            if let (ErrorKind::ValueValidation, Some(arg), Some(value)) = (
                e.kind(),
                context(ContextKind::InvalidArg),
                context(ContextKind::InvalidValue),
            ) {
                let flag = arg.split(' ').next().unwrap_or("").trim_start_matches('-');
                let go = gob::cli::invalid_value(&command, &args, flag, &value);
                eprintln!("{go}");
                return ExitCode::from(go.exit_code());
            }
            let _ = e.print();
            ExitCode::from(e.exit_code() as u8)
        })
}

/// Dispatch: each subcommand's flags to its command in `gob::commands`.
fn run(cli: Cli, env: &Env) -> anyhow::Result<ExitCode> {
    match cli.cmd {
        Cmd::Build(a) => run_build(a, env),
        Cmd::Run(a) => run_run(a, env),
        Cmd::Install(a) => run_install(a, env),
        Cmd::List(a) => run_list(a, env),
        Cmd::Env(a) => {
            let cfg = toolchain_config(env, a.common)?;
            print!("{}", commands::env::env(env, &cfg, &a.vars, a.json)?);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Clean(a) => run_clean(a, env),
        Cmd::Version(a) if !a.files.is_empty() => {
            let mut r = commands::version::FilesReport {
                out: &mut std::io::stdout(),
                err: &mut std::io::stderr(),
                code: 0,
            };
            commands::version::files(&a.files, a.m, a.v, a.json, &mut r);
            Ok(ExitCode::from(r.code))
        }
        Cmd::Version(VersionArgs {
            m,
            v,
            json,
            common: c,
            ..
        }) => {
            // go's words: -m, -v and -json need files.
            if let Some(f) = [(m, "-m"), (v, "-v"), (json, "-json")]
                .iter()
                .find(|(on, _)| *on)
            {
                eprintln!(
                    "gob: 'gob version' only accepts {} flag with arguments",
                    f.1
                );
                return Ok(ExitCode::from(2));
            }
            let tc = gob::toolchain::Toolchain::discover(c.goroot.as_deref(), env.get("GOROOT"));
            let (line, note) = commands::version::version(tc.as_ref());
            println!("{line}");
            if let Some(note) = note {
                eprintln!("gob: {note}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Replay(a) => Ok(run_replay(a, env)),
        Cmd::Trace(t) => run_trace(t),
        Cmd::Audit(a) => run_audit(a, env),
    }
}

/// The configuration of a command that takes only `--goroot`.
fn toolchain_config(env: &Env, c: CommonArgs) -> anyhow::Result<gob::load::LoadConfig> {
    let flags = LoadFlags {
        goroot: c.goroot,
        ..Default::default()
    };
    Ok(config::load_config(env, &flags)?)
}

/// `gob build`: exit 1 for a failed build, with go build's words.
fn run_build(a: BuildArgs, env: &Env) -> anyhow::Result<ExitCode> {
    let output = a.output.is_some();
    build_prepared(prepare_build(a, env, output)?, env)
}

/// `gob run`: go run's arguments, the package built like gob build into a
/// fresh directory, then run outside the sandbox; its failure is reported
/// as go run does (`exit status 3`, exit 1).
fn run_run(a: RunArgs, env: &Env) -> anyhow::Result<ExitCode> {
    use commands::run::{self, Ended, RunTarget};
    let (target, args) = match run::split_args(&a.args) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    let dry_run = a.go.dry_run;
    let print = dry_run || a.go.print_commands;
    let exec: Vec<String> = a
        .exec
        .iter()
        .map(|e| gob::plan::flags::split_quoted(e))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("-exec: {e}"))?
        .concat();
    let dir = gob::workdir::WorkDir::create(
        &PathBuf::from(env.get("TMPDIR").unwrap_or("/tmp")),
        "gob-run",
    )
    .map_err(|e| anyhow::anyhow!("creating a directory for gob run's binary: {e}"))?;
    let packages = match &target {
        RunTarget::Files(f) => f.clone(),
        RunTarget::Package(p) => vec![p.clone()],
    };
    let prepared = prepare_build(
        a.own.build_args(
            a.common,
            a.go,
            a.cover,
            dir.path().to_path_buf(),
            packages.clone(),
        ),
        env,
        false,
    )?;
    let cfg = &prepared.cfg.clone();
    // The executable's name: the package's, or the first file's (go run's ExeName).
    // The package and the executable's name (go run's ExeName: the
    // package's, or the first file's); as go run (MainOnly), what only a
    // wildcard matched counts if it is a main package.
    let mut chosen = None;
    let arg = match &target {
        RunTarget::Files(f) => f[0].clone(),
        RunTarget::Package(p) => p.clone(),
    };
    let name = match gob::load::load(cfg, &packages) {
        Ok(graph) => {
            let roots: Vec<_> = graph
                .roots
                .iter()
                .map(|&id| graph.pkg(id))
                .filter(|p| {
                    p.name == "main"
                        || p.cmdline_files
                        || p.matched.iter().any(|m| gob::load::patterns::is_literal(m))
                })
                .collect();
            match roots[..] {
                [] => {
                    eprintln!("gob: no packages loaded from {arg}");
                    return Ok(ExitCode::from(1));
                }
                [one] if one.name != "main" && one.error.is_none() => {
                    eprintln!("package {} is not a main package", one.import_path);
                    return Ok(ExitCode::from(1));
                }
                [one] => {
                    if matches!(target, RunTarget::Package(_)) {
                        chosen = Some(one.import_path.clone());
                    }
                    build::exec_name(one, &cfg.target.goos)
                }
                ref many => {
                    let names: Vec<&str> = many.iter().map(|p| p.import_path.as_str()).collect();
                    eprintln!(
                        "gob: pattern {arg} matches multiple packages:\n\t{}",
                        names.join("\n\t")
                    );
                    return Ok(ExitCode::from(1));
                }
            }
        }
        // The build reports it, as gob build would.
        Err(_) => "a.out".into(),
    };
    let binary = dir.path().join(&name);
    let mut prepared = prepared;
    prepared.opts.output = Some(binary.clone());
    if let Some(one) = chosen {
        prepared.packages = vec![one];
    }
    let exec = run::exec_cmd(
        (!exec.is_empty()).then_some(&exec[..]),
        (&cfg.target.goos, &cfg.target.goarch),
        (&cfg.toolchain.host_goos, &cfg.toolchain.host_goarch),
        env.get("PATH"),
    );
    let code = build_prepared(prepared, env)?;
    if code != ExitCode::SUCCESS {
        return Ok(code);
    }
    if print {
        let mut line: Vec<String> = exec.clone();
        line.push(binary.display().to_string());
        line.extend(args.iter().cloned());
        println!("{}", line.join(" "));
        if dry_run {
            return Ok(ExitCode::SUCCESS);
        }
    }
    let (ended, interrupted) =
        gob::workdir::in_foreground(|| run::run_program(&exec, &binary, &args));
    drop(dir);
    Ok(match ended {
        // go run, interrupted, waits for the program, then exits 1 silently.
        Ended::Success if interrupted => ExitCode::from(1),
        Ended::Success => ExitCode::SUCCESS,
        Ended::Failed(why) => {
            eprintln!("{why}");
            ExitCode::from(1)
        }
    })
}

/// `gob install`: gob build with `-o BINDIR/` (every package built, the
/// executables installed), after go install's checks.
fn run_install(a: InstallArgs, env: &Env) -> anyhow::Result<ExitCode> {
    use commands::install::{self, InstallError};
    if let Some(v) = a.packages.iter().find(|p| commands::run::is_versioned(p)) {
        eprintln!("{}", InstallError::Versioned(v.clone()));
        return Ok(ExitCode::from(1));
    }
    let no_patterns = a.packages.is_empty();
    let packages = if no_patterns {
        vec![".".to_string()]
    } else {
        a.packages.clone()
    };
    let prepared = prepare_build(
        a.own
            .build_args(a.common, a.go, a.cover, PathBuf::new(), packages.clone()),
        env,
        false,
    )?;
    let cfg = &prepared.cfg.clone();
    let vars = config::env_vars(env, cfg)?;
    let gopath = vars
        .iter()
        .find(|(k, _)| k == "GOPATH")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let target = (cfg.target.goos.as_str(), cfg.target.goarch.as_str());
    let host = (
        cfg.toolchain.host_goos.as_str(),
        cfg.toolchain.host_goarch.as_str(),
    );
    // go names the package only when it is a main package it cannot place.
    let graph = gob::load::load(cfg, &packages).ok();
    // (executable name, directory, named as files) of each main package.
    let mains: Vec<(String, PathBuf, bool)> = graph
        .iter()
        .flat_map(|g| g.roots.iter().map(|&id| g.pkg(id)))
        .filter(|p| p.name == "main")
        .map(|p| {
            (
                build::exec_name(p, target.0),
                p.dir.clone(),
                p.cmdline_files,
            )
        })
        .collect();
    // Named files go to $GOBIN or GOPATH/bin as they are, cross-compiled or
    // not (cmd/go's GoFilesPackage).
    let files = mains.iter().any(|m| m.2);
    let bin = install::bin_dir(
        env.get("GOBIN").unwrap_or(""),
        gopath,
        if files { host } else { target },
        host,
    );
    let bin = match bin {
        Err(e) if !mains.is_empty() || matches!(e, InstallError::RelativeGobin) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
        Ok(None) if !mains.is_empty() => {
            for (_, dir, _) in &mains {
                eprintln!("{}", InstallError::NoLocation(dir.clone()));
            }
            return Ok(ExitCode::from(1));
        }
        Ok(Some(b)) if !mains.is_empty() => b,
        // No executable to install: the build only.
        _ => PathBuf::from("/dev/null"),
    };
    let mut prepared = prepared;
    prepared.opts.output_all = true;
    prepared.opts.output = Some(if bin == Path::new("/dev/null") {
        bin.clone()
    } else {
        std::fs::create_dir_all(&bin)
            .map_err(|e| anyhow::anyhow!("mkdir {}: {e}", bin.display()))?;
        let mut dir = bin.clone().into_os_string();
        dir.push("/");
        PathBuf::from(dir)
    });
    let code = build_prepared(prepared, env)?;
    // As go install: a lone main package installed from its own directory
    // removes the executable an earlier `go build` left there.
    if code == ExitCode::SUCCESS && no_patterns {
        if let [(name, dir, _)] = &mains[..] {
            let left = cfg.modules.cwd.join(name);
            if dir.join(name) != bin.join(name) {
                if let Ok(md) = std::fs::metadata(&left) {
                    use std::os::unix::fs::PermissionsExt;
                    if md.is_file()
                        && (md.permissions().mode() & 0o111 != 0 || target.0 == "windows")
                    {
                        let _ = std::fs::remove_file(&left);
                    }
                }
            }
        }
    }
    Ok(code)
}

/// `gob clean`: exit 1 when a removal failed (go reports it and goes on).
fn run_clean(a: CleanArgs, env: &Env) -> anyhow::Result<ExitCode> {
    use commands::clean::{self, CleanOptions};
    let mut o = CleanOptions {
        cache: a.cache,
        testcache: a.testcache,
        modcache: a.modcache,
        fuzzcache: a.fuzzcache,
        i: a.i,
        r: a.r,
        n: a.go.dry_run,
        x: a.go.print_commands,
        install_dir: None,
    };
    if let (false, Some(f)) = (a.packages.is_empty(), clean::cache_flag(&o)) {
        eprintln!("{}", clean::CleanError::CacheWithPackages(f));
        return Ok(ExitCode::from(1));
    }
    // Packages are loaded only when go would clean them: a cache flag alone
    // needs no toolchain.
    let mut cfg = None;
    if clean::cleans_packages(&o, &a.packages, true) {
        // go clean never checks -buildmode, -race and their like.
        let flags = LoadFlags {
            build_mode: Default::default(),
            ..a.go.load_flags(&a.common, false)
        };
        let c = config::load_config(env, &flags)?;
        let (gomod, gowork) = gob::load::modules::locate(&c.modules);
        if clean::cleans_packages(&o, &a.packages, gomod.is_some() || gowork.is_some()) {
            let gopath = config::env_vars(env, &c)?
                .into_iter()
                .find(|(k, _)| k == "GOPATH")
                .map(|(_, v)| v)
                .unwrap_or_default();
            o.install_dir = commands::install::bin_dir(
                env.get("GOBIN").unwrap_or(""),
                &gopath,
                (&c.target.goos, &c.target.goarch),
                (&c.toolchain.host_goos, &c.toolchain.host_goarch),
            )
            .ok()
            .flatten();
            cfg = Some(c);
        }
    }
    let mut out = std::io::stdout();
    let errors = clean::clean(env, cfg.as_ref(), &a.packages, &o, &mut out)?;
    for e in &errors {
        eprintln!("{e}");
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A prepared build run and reported as gob build does.
fn build_prepared(p: PreparedBuild, env: &Env) -> anyhow::Result<ExitCode> {
    let PreparedBuild {
        cfg,
        opts,
        packages,
        keep_work,
    } = p;
    let cache = gob::cache::Cache::open(&config::cache_dir(env)?)?;
    let cache_max = config::cache_max(env)?;
    let work = tempdir_for_work(env)?;
    if keep_work || opts.print_commands {
        eprintln!("WORK={}", work.path().display());
    }
    let result = build::build(&cfg, &packages, &cache, work.path(), &opts);
    // Like go after each command: old entries go (at most daily; hourly
    // with $GOBCACHE_MAX). Best effort: a read-only cache is not trimmed.
    let _ = cache.trim_if_due(cache_max);
    if keep_work {
        if let Err(e) = work.keep() {
            eprintln!("gob: warning: {e}");
        }
    } else {
        drop(work);
    }
    let json = opts.json;
    let done = |passed: bool, outcome: Option<&build::BuildOutcome>| {
        if json {
            gob::events::emit(&build::done_event(passed, outcome));
        }
    };
    let e = match result {
        Ok(outcome) => {
            if let Some(line) = outcome.summary().filter(|_| opts.verbose) {
                eprintln!("{line}");
            }
            done(true, Some(&outcome));
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => e,
    };
    if gob::workdir::interrupted() {
        // The interruption's doing, not the build's: nothing to report.
        return Ok(ExitCode::from(1));
    }
    let mut counts = None;
    match e {
        build::BuildError::Exec(e) => {
            if let gob::exec::ExecError::ActionFailed {
                finished, cached, ..
            } = &e
            {
                counts = Some((*finished, *cached));
            }
            // With -json the tool's output went out as events.
            if !json || !matches!(e, gob::exec::ExecError::ActionFailed { .. }) {
                eprintln!("{e}");
            }
        }
        // With -json, go reports each package's load error as events.
        build::BuildError::Plan(gob::plan::PlanError::Load(errors)) if json => {
            for (import_path, text) in &errors {
                gob::events::emit_failure(import_path, text);
            }
        }
        build::BuildError::Plan(e) => eprintln!("{e}"),
        // go build's own words, with go's prefix (or none) and exit status.
        e @ (build::BuildError::OutputNotDir(_)
        | build::BuildError::BuildModeUnsupported { .. }
        | build::BuildError::NoMainPackages
        | build::BuildError::OutputIsDir(_)) => eprintln!("gob: {e}"),
        e @ (build::BuildError::NoPackages
        | build::BuildError::OneMainPackage(_)
        | build::BuildError::NoGoFiles { .. }
        | build::BuildError::Load(gob::load::LoadError::Files(_))) => {
            eprintln!("{e}")
        }
        e => return Err(e.into()),
    }
    if json {
        gob::events::emit(&build::failed_event(counts));
    }
    Ok(ExitCode::from(1))
}

/// `gob list`: exit 1 when an error was reported.
fn run_list(a: ListArgs, env: &Env) -> anyhow::Result<ExitCode> {
    let cfg = config::load_config(env, &a.go.load_flags(&a.common, false))?;
    let gopath = config::env_vars(env, &cfg)?
        .into_iter()
        .find(|(k, _)| k == "GOPATH")
        .map(|(_, v)| v)
        .unwrap_or_default();
    let req = list::ListRequest {
        format: a.format,
        modules: a.m,
        upgrades: a.u,
        versions: a.versions,
        retracted: a.retracted,
        gopath,
    };
    let opts = ListOptions {
        format: None,
        deps: a.deps,
        json: a.json,
        e: a.e,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let failed = match list::run(&cfg, &req, opts, &a.packages, &mut out) {
        // go's own words for named files and refused flags, unprefixed.
        Err(list::ListError::Load(e @ gob::load::LoadError::Files(_))) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
        Err(e @ (list::ListError::Template(_) | list::ListError::Refused(_))) => {
            drop(out);
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
        r => r?,
    };
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `gob audit`: exit 0 reproducible, 1 not reproducible, 2 no verdict.
fn run_audit(a: AuditArgs, env: &Env) -> anyhow::Result<ExitCode> {
    let b = &a.build;
    let refuse = |what: &str, why: &str| -> anyhow::Result<ExitCode> {
        eprintln!("gob audit: {what}: {why}");
        Ok(ExitCode::from(2))
    };
    if b.trace.is_some() || b.trace_blobs.is_some() {
        return refuse(
            "--trace",
            "an audit records both traces itself; keep them with --keep DIR",
        );
    }
    if b.go.dry_run {
        return refuse("-n", "an audit runs the build");
    }
    if b.go.debug_actiongraph.is_some() || b.go.work {
        return refuse(
            "--debug-actiongraph/--work",
            "not supported by audit; use gob build",
        );
    }
    let keep = a.keep.clone();
    let against = a.against.clone();
    let output = a.build.output.is_some();
    let prepared = match prepare_build(a.build, env, output) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("gob audit: {}", error_text(&e));
            return Ok(ExitCode::from(2));
        }
    };
    let json = prepared.opts.json;
    let opts = audit::AuditOptions {
        build: prepared.opts,
        against,
        keep,
        tmp: PathBuf::from(env.get("TMPDIR").unwrap_or("/tmp")),
    };
    match audit::audit(&prepared.cfg, &prepared.packages, &opts) {
        Ok(report) => {
            audit::print(&report, json);
            Ok(if report.reproducible() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Err(e) => {
            eprintln!("gob audit: {e}");
            if json {
                gob::events::emit(&audit::error_event(&e));
            }
            Ok(ExitCode::from(2))
        }
    }
}

/// `gob trace show` (exit 0) and `gob trace diff` (exit 0 equivalent, 1 not).
fn run_trace(t: TraceArgs) -> anyhow::Result<ExitCode> {
    match t.cmd {
        TraceCmd::Show { json, trace } => {
            print!("{}", commands::trace::show_file(&trace, json)?);
            Ok(ExitCode::SUCCESS)
        }
        TraceCmd::Diff { json, a, b } => {
            let (text, equivalent) = commands::trace::diff_files(&a, &b, json)?;
            print!("{text}");
            Ok(if equivalent {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// An error and its causes on one line, each cause once: gob's errors
/// already spell out their source (`path: why`), so a cause whose text the
/// line holds already is not repeated, while a bare `context` gets its cause.
fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}

/// As root, every tool runs as `nobody` (see sandbox/README.md), so the files
/// and directories gob creates for tools (work directories, generated files,
/// cache entries) must be readable by others: a umask such as 077 would make
/// every action fail at its first input. Write and other bits of the user's
/// umask are kept; installed binaries still honour the whole umask.
fn readable_files_for_nobody() {
    // SAFETY: umask(2) cannot fail and touches no memory.
    let user = unsafe { libc::umask(0o022) };
    build::set_user_umask(user as u32);
    let euid = unsafe { libc::geteuid() };
    let mask = if euid == 0 { user & 0o022 } else { user };
    unsafe { libc::umask(mask) };
}

/// A build command line turned into options.
struct PreparedBuild {
    cfg: gob::load::LoadConfig,
    opts: build::BuildOptions,
    packages: Vec<String>,
    keep_work: bool,
}

/// `output`: whether the user gave go's `-o` (gob run and install set one of their own).
fn prepare_build(a: BuildArgs, env: &Env, output: bool) -> anyhow::Result<PreparedBuild> {
    let go = &a.go;
    // The parser gives canonical values: true, false or (-buildvcs) auto.
    if go.buildvcs.as_deref() == Some("true") {
        anyhow::bail!("-buildvcs=true: gob never stamps VCS information (hermetic builds do not read .git); use -buildvcs=false or auto");
    }
    if go.trimpath.as_deref() == Some("false") {
        anyhow::bail!("-trimpath=false: gob always builds with -trimpath");
    }
    let mut load_flags = go.load_flags(&a.common, output);
    load_flags.cover = a.cover.cover();
    let cfg = config::load_config(env, &load_flags)?;
    if go.jobs == Some(0) {
        anyhow::bail!("-p must be a positive integer: 0");
    }
    let jobs = go.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    // $GOFLAGS's values come first (gob::cli): the last matching value wins.
    let per_package =
        |name: &str, given: &[String]| -> anyhow::Result<gob::plan::flags::PerPackageFlag> {
            let mut f = gob::plan::flags::PerPackageFlag::default();
            for v in given {
                f.add(v, &cfg.modules.cwd)
                    .map_err(|e| anyhow::anyhow!("-{name}={v}: {e}"))?;
            }
            Ok(f)
        };
    let sandbox = sandbox_choice(a.sandbox.as_deref(), a.hermetic)?;
    let (limits, notice) = a.limits.parse()?;
    let toolexec = toolexec(go.toolexec.as_deref(), env)?;
    if go.compiler.as_deref() == Some("gccgo") {
        anyhow::bail!("-compiler=gccgo: not supported; gob builds with the gc toolchain");
    }
    // As go with gc: -gccgoflags is checked (by the flag parser) and unused,
    // and -pkgdir changes nothing gob writes (packages live in its cache).
    let _ = (&go.gccgoflags, &go.pkgdir);
    let trace = match (&a.trace, a.trace_blobs) {
        (None, Some(_)) => anyhow::bail!("--trace-blobs needs --trace FILE"),
        (None, None) => build::TraceChoice::Automatic,
        (Some(p), _) if p.as_os_str() == "off" => build::TraceChoice::Off,
        (Some(p), b) => build::TraceChoice::File {
            path: if p.is_absolute() {
                p.clone()
            } else {
                std::env::current_dir()?.join(p)
            },
            blobs: b.unwrap_or(true),
        },
    };
    let opts = build::BuildOptions {
        sandbox,
        toolexec,
        trace,
        // Relative to -C's directory, as in go build.
        output: a.output.map(|o| {
            if o.is_absolute() {
                o
            } else {
                cfg.modules.cwd.join(o)
            }
        }),
        jobs,
        progress_label: None,
        print_commands: go.print_commands,
        dry_run: go.dry_run,
        verbose: go.verbose,
        force: go.force,
        debug_actiongraph: go.debug_actiongraph.clone(),
        debug_timing: a.debug_timing,
        json: a.json,
        conditions: build::Conditions::default(),
        output_all: false,
        limits,
        notice,
        plan: gob::plan::PlanOptions {
            gcflags: per_package("gcflags", &go.gcflags)?,
            ldflags: per_package("ldflags", &go.ldflags)?,
            asmflags: per_package("asmflags", &go.asmflags)?,
            tags: cfg.target.build_tags.clone(),
            // Found after loading, when a package needs it (commands::build).
            cc: None,
        },
    };
    Ok(PreparedBuild {
        cfg,
        opts,
        packages: a.packages,
        keep_work: go.work,
    })
}

/// A fresh `$WORK` directory for one build, after removing those of builds
/// that died (killed, or their machine stopped).
fn tempdir_for_work(env: &Env) -> anyhow::Result<gob::workdir::WorkDir> {
    let base = PathBuf::from(env.get("TMPDIR").unwrap_or("/tmp"));
    for prefix in ["gob-build", "gob-audit", "gob-run"] {
        gob::workdir::sweep(&base, prefix);
    }
    gob::workdir::WorkDir::create(&base, "gob-build")
        .map_err(|e| anyhow::anyhow!("creating a work directory: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_text_names_each_cause_once() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        // A cause spelled out by the message is not repeated...
        let e = anyhow::Error::new(gob::commands::replay::ReplayError::Io {
            path: "/t/x".into(),
            source: io(),
        });
        assert_eq!(error_text(&e), "/t/x: gone");
        // ...a bare context gets its cause.
        let e = anyhow::Error::new(io()).context("reading /t/y");
        assert_eq!(error_text(&e), "reading /t/y: gone");
    }

    fn normalize(args: &[&str], goflags: Option<&str>) -> Result<Vec<String>, gob::cli::CliError> {
        gob::cli::normalize(
            &Cli::command(),
            args.iter().map(|s| s.to_string()).collect(),
            goflags,
        )
    }

    #[test]
    fn single_dash_long_flags_are_normalized() {
        let v = normalize(
            &["gob", "list", "-deps", "-json", "-e", "-tags=a,b", "./..."],
            None,
        )
        .unwrap();
        assert_eq!(
            v,
            [
                "gob",
                "list",
                "--tags=a,b",
                "--deps",
                "--json",
                "-e",
                "--",
                "./..."
            ]
        );
        let v = normalize(&["gob", "list", "--", "-json"], None).unwrap();
        assert_eq!(v[2..], ["--", "-json"]);
        let e = normalize(&["gob", "build", "-frobnicate", "."], None).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("flag provided but not defined: -frobnicate\nusage: gob build "),
            "{e}"
        );
        assert!(
            normalize(&["gob", "build", "-xv"], None).is_err(),
            "go has no flag clusters"
        );
        assert!(normalize(&["gob", "build", "-o=x", "-p", "2"], None).is_ok());
        // The value of a two-word per-package flag is taken as is (issue #11 item 9).
        let v = normalize(
            &[
                "gob",
                "build",
                "-ldflags",
                "-X 'main.v=a b'",
                "--gcflags",
                "-N",
                ".",
            ],
            None,
        )
        .unwrap();
        assert_eq!(
            v,
            [
                "gob",
                "build",
                "--ldflags=-X 'main.v=a b'",
                "--gcflags=-N",
                "--",
                "."
            ]
        );
    }

    /// Issue #14 item 1: every flag that takes a value takes the next word,
    /// whatever it starts with; booleans take `=v` only, last one winning.
    #[test]
    fn go_flag_rules() {
        let v = normalize(
            &[
                "gob", "build", "-tags", "-foo", "--o", "-out", "-v", "-v=false", "-a=1", "-", "-x",
            ],
            None,
        )
        .unwrap();
        assert_eq!(
            v,
            [
                "gob",
                "build",
                "--tags=-foo",
                "-o=-out",
                "-a",
                "--",
                "-",
                "-x"
            ]
        );
        let v = normalize(
            &["gob", "list", "-C", "d", "-trimpath", "-buildvcs=auto"],
            None,
        )
        .unwrap();
        assert_eq!(v, ["gob", "list", "-C=d", "--trimpath", "--buildvcs=auto"]);
        // go takes -C only first (cmd/go's handleChdirFlag).
        let e = normalize(&["gob", "list", "-e", "-C", "d"], None).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "invalid value \"d\" for flag -C: -C flag must be first flag on command line\n"
            ),
            "{e}"
        );
        let e = normalize(&["gob", "build", "-ldflags"], None).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("flag needs an argument: -ldflags\n"),
            "{e}"
        );
        let e = normalize(&["gob", "build", "-v=maybe"], None).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("invalid boolean value \"maybe\" for -v: parse error\n"),
            "{e}"
        );
        for bad in ["---x", "-=x"] {
            let e = normalize(&["gob", "build", bad], None).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with(&format!("bad flag syntax: {bad}\n")),
                "{e}"
            );
        }
        let e = normalize(&["gob", "frob"], None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "gob frob: unknown command\nRun 'gob help' for usage."
        );
        assert_eq!(e.exit_code(), 2);
        let e = normalize(&["gob", "trace", "frob"], None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "gob trace: unknown command\nRun 'gob help trace' for usage."
        );
        let v = normalize(&["gob", "trace", "show", "-json", "t"], None).unwrap();
        assert_eq!(v, ["gob", "trace", "show", "--json", "--", "t"]);
        // -race is a flag like any other; its refusal (go's words, for the
        // target) is the configuration's (tests/buildmode.rs).
        let v = normalize(&["gob", "build", "-race"], None).unwrap();
        assert_eq!(v, ["gob", "build", "--race"]);
    }

    /// Issue #14 item 2: $GOFLAGS as cmd/go reads it.
    #[test]
    fn goflags_like_cmd_go() {
        // Applied first, so the command line wins; a quoted word holds spaces.
        let v = normalize(
            &["gob", "build", "-ldflags=-w", "."],
            Some("'-ldflags=-s -w' --gcflags=all=-N -v -count=1 -trimpath"),
        )
        .unwrap();
        assert_eq!(
            v,
            [
                "gob",
                "build",
                "--ldflags=-s -w",
                "--gcflags=all=-N",
                "--trimpath",
                "--ldflags=-w",
                "-v",
                "--",
                "."
            ]
        );
        // -v=false on the command line overrides GOFLAGS's -v.
        let v = normalize(&["gob", "build", "-v=false"], Some("-v")).unwrap();
        assert_eq!(v, ["gob", "build"]);
        let err = |goflags: &str, cmd: &str| {
            normalize(&["gob", cmd], Some(goflags))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("-badflag", "build"),
            "gob: parsing $GOFLAGS: unknown flag -badflag"
        );
        assert_eq!(
            err("-badflag", "version"),
            "gob: parsing $GOFLAGS: unknown flag -badflag"
        );
        assert_eq!(err("x", "list"), "gob: parsing $GOFLAGS: non-flag \"x\"");
        assert_eq!(
            err("'-gcflags=-N", "build"),
            "gob: parsing $GOFLAGS: unterminated ' string"
        );
        assert!(err("-ldflags", "build")
            .starts_with("gob: flag needs an argument: -ldflags (from $GOFLAGS)\n"));
        assert!(err("-v=maybe", "list").starts_with(
            "gob: invalid boolean value \"maybe\" for flag -v (from $GOFLAGS): parse error\n"
        ));
        let v = normalize(&["gob", "list"], Some("-race -buildmode=pie")).unwrap();
        assert_eq!(v, ["gob", "list", "--buildmode=pie", "--race"]);
        // gob's own options are not go flags: never read from GOFLAGS.
        assert_eq!(
            err("-sandbox=none", "build"),
            "gob: parsing $GOFLAGS: unknown flag -sandbox"
        );
        let v = normalize(&["gob", "build"], Some("-trace=t.out")).unwrap();
        assert_eq!(
            v,
            ["gob", "build"],
            "-trace is go test's flag, not gob build's"
        );
        // env hides GOFLAGS errors as go env does; replay does not read it.
        assert!(normalize(&["gob", "env"], Some("-badflag")).is_ok());
        assert!(normalize(&["gob", "replay", "t"], Some("-badflag")).is_ok());
    }
}
