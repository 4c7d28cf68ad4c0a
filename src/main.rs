//! The `gob` command line: a thin layer over the library. `go`-style single-dash
//! long flags (`-deps`, `-json`, `-tags`) and gob's double-dash ones are both accepted.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use gob::config::{self, Env, LoadFlags};
use gob::list::{self, ListOptions};

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
    /// List packages like `go list` (native loader; no `go` is run).
    List(ListArgs),
    /// Print gob's version and the Go toolchain it would use.
    Version(CommonArgs),
}

#[derive(Args, Clone)]
struct CommonArgs {
    /// The Go toolchain to use (else $GOROOT, else `go env GOROOT`).
    #[arg(long)]
    goroot: Option<PathBuf>,
}

#[derive(Args)]
struct ListArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Print every dependency too, in dependency order.
    #[arg(long)]
    deps: bool,
    /// Print JSON objects with `go list -json` field names.
    #[arg(long)]
    json: bool,
    /// Report erroneous packages instead of failing.
    #[arg(short = 'e')]
    e: bool,
    /// Build tags, comma-separated.
    #[arg(long)]
    tags: Option<String>,
    /// Module download mode: readonly, vendor or mod.
    #[arg(long = "mod")]
    mod_mode: Option<String>,
    /// Profile-guided optimization: auto or off.
    #[arg(long)]
    pgo: Option<String>,
    /// Change to this directory first.
    #[arg(short = 'C')]
    chdir: Option<PathBuf>,
    /// Package patterns (default ".").
    packages: Vec<String>,
}

/// go-style long flags that may be written with one dash.
const LONG_FLAGS: &[&str] = &[
    "deps",
    "json",
    "tags",
    "mod",
    "pgo",
    "goroot",
    "ldflags",
    "gcflags",
    "asmflags",
    "toolexec",
    "trimpath",
    "hermetic",
    "trace",
    "sandbox",
    "debug-actiongraph",
    "buildvcs",
];

/// Rewrites `-json` to `--json` (and `-tags=x` to `--tags=x`) so clap sees long flags.
fn normalize_args(args: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = false;
    for a in args {
        if rest {
            out.push(a);
            continue;
        }
        if a == "--" {
            rest = true;
            out.push(a);
            continue;
        }
        if let Some(body) = a.strip_prefix('-').filter(|b| !b.starts_with('-')) {
            let name = body.split('=').next().unwrap_or("");
            if LONG_FLAGS.contains(&name) {
                out.push(format!("-{a}"));
                continue;
            }
        }
        out.push(a);
    }
    out
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(normalize_args(std::env::args()));
    let env = Env::capture();
    match run(cli, &env) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gob: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli, env: &Env) -> anyhow::Result<ExitCode> {
    match cli.cmd {
        Cmd::Version(c) => {
            let flags = LoadFlags {
                goroot: c.goroot,
                ..Default::default()
            };
            let cfg = config::load_config(env, &flags)?;
            println!(
                "gob {} with {} {}/{} at {}",
                env!("CARGO_PKG_VERSION"),
                cfg.toolchain.version_string,
                cfg.toolchain.host_goos,
                cfg.toolchain.host_goarch,
                cfg.toolchain.goroot.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Cmd::List(a) => {
            let flags = LoadFlags {
                goroot: a.common.goroot,
                tags: a.tags,
                mod_mode: a.mod_mode,
                pgo: a.pgo,
                chdir: a.chdir,
            };
            let cfg = config::load_config(env, &flags)?;
            let graph = gob::load::load(&cfg, &a.packages)?;
            let opts = ListOptions {
                deps: a.deps,
                json: a.json,
            };
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let mut failed = false;
            if !a.e {
                // As go list: an error on a named package is fatal before anything
                // is listed; with -deps (or several roots under -pgo=auto, which
                // expands the graph too) every error in the graph is reported, the
                // listing still printed, and the exit status is 1.
                for &id in &graph.roots {
                    if let Some(e) = graph.pkg(id).error {
                        eprintln!("{}", graph.errors[e.0 as usize]);
                        failed = true;
                    }
                }
                if failed {
                    return Ok(ExitCode::from(1));
                }
                if a.deps || (cfg.pgo_auto && graph.roots.len() > 1) {
                    for id in graph.post_order(&graph.roots) {
                        if let Some(e) = graph.pkg(id).error {
                            eprintln!("{}", graph.errors[e.0 as usize]);
                            failed = true;
                        }
                    }
                }
            }
            list::write_list(&graph, opts, &mut out)?;
            out.flush()?;
            Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_dash_long_flags_are_normalized() {
        let v = normalize_args(
            ["gob", "list", "-deps", "-json", "-e", "-tags=a,b", "./..."]
                .iter()
                .map(|s| s.to_string()),
        );
        assert_eq!(
            v,
            [
                "gob",
                "list",
                "--deps",
                "--json",
                "-e",
                "--tags=a,b",
                "./..."
            ]
        );
        let v = normalize_args(["gob", "list", "--", "-json"].iter().map(|s| s.to_string()));
        assert_eq!(v[3], "-json");
    }
}
