//! `gob help [command]`: help as go's users read it (`go help build`), with
//! go's flags spelled with one dash and gob's own options with two.
//!
//! Each command has a usage line, printed by `gob help CMD`, after a flag
//! mistake and for `gob CMD -h` (go's exit 2), and a text of what the command
//! and each flag do. README's usage section quotes the usage lines
//! (tests/cmds.rs checks them).

/// One help topic: a command (`build`) or a subcommand (`trace show`).
pub struct Topic {
    /// The words after `gob help`.
    pub path: &'static str,
    /// The usage line, without `usage: `.
    pub usage: &'static str,
    /// A one-line summary for `gob help`'s command list.
    pub short: &'static str,
    /// What `gob help PATH` prints after the usage line.
    pub text: &'static str,
}

/// The help topics, in `gob help`'s order.
pub const TOPICS: &[Topic] = &[
    Topic {
        path: "build",
        usage: "gob build [-o output] [build flags] [packages]",
        short: "compile packages and dependencies",
        text: BUILD,
    },
    Topic {
        path: "run",
        usage: "gob run [build flags] [-exec xprog] package [arguments...]",
        short: "compile and run a Go program",
        text: RUN,
    },
    Topic {
        path: "install",
        usage: "gob install [build flags] [packages]",
        short: "compile and install packages and dependencies",
        text: INSTALL,
    },
    Topic {
        path: "list",
        usage: "gob list [-f format] [-json] [-m] [list flags] [build flags] [packages]",
        short: "list packages or modules",
        text: LIST,
    },
    Topic {
        path: "env",
        usage: "gob env [-json] [var ...]",
        short: "print the configuration gob uses",
        text: ENV,
    },
    Topic {
        path: "clean",
        usage: "gob clean [-i] [-r] [-cache] [-testcache] [-modcache] [-fuzzcache] [build flags] [packages]",
        short: "remove object files and cached files",
        text: CLEAN,
    },
    Topic {
        path: "version",
        usage: "gob version [-m] [-v] [-json] [file ...]",
        short: "print gob's and Go's version",
        text: VERSION,
    },
    Topic {
        path: "audit",
        usage: "gob audit [--against TRACE] [--keep DIR] [build flags] [packages]",
        short: "build twice and prove the outputs identical",
        text: AUDIT,
    },
    Topic {
        path: "replay",
        usage: "gob replay [replay flags] TRACE",
        short: "re-execute a trace's actions and prove every output",
        text: REPLAY,
    },
    Topic {
        path: "trace",
        usage: "gob trace <command> [arguments]",
        short: "inspect traces",
        text: TRACE,
    },
    Topic {
        path: "trace show",
        usage: "gob trace show [--json] TRACE",
        short: "print a trace's actions, times and cache hits",
        text: TRACE_SHOW,
    },
    Topic {
        path: "trace diff",
        usage: "gob trace diff [--json] A B",
        short: "compare two traces action by action",
        text: TRACE_DIFF,
    },
];

/// The topic for `path` (`build`, `trace show`).
pub fn topic(path: &str) -> Option<&'static Topic> {
    TOPICS.iter().find(|t| t.path == path)
}

/// What `gob help` prints (and, on stderr, a bare `gob`).
pub fn overview() -> String {
    let mut s = String::from(
        "Gob is a hermetic, sandboxed builder for Go code.\n\nUsage:\n\n\tgob <command> [arguments]\n\nThe commands are:\n\n",
    );
    for t in TOPICS.iter().filter(|t| !t.path.contains(' ')) {
        s.push_str(&format!("\t{:<11} {}\n", t.path, t.short));
    }
    s.push_str("\nUse \"gob help <command>\" for more information about a command.\n");
    s
}

/// What `gob help PATH` prints, or go's error for an unknown topic (which
/// points at the longest known topic it starts with).
pub fn text(path: &str) -> Result<String, String> {
    if let Some(t) = topic(path) {
        return Ok(format!("usage: {}\n\n{}", t.usage, t.text));
    }
    let words: Vec<&str> = path.split(' ').collect();
    let known = (1..words.len())
        .rev()
        .map(|n| words[..n].join(" "))
        .find(|p| topic(p).is_some());
    Err(format!(
        "gob help {path}: unknown help topic. Run 'gob help{}'.",
        known.map(|k| format!(" {k}")).unwrap_or_default()
    ))
}

/// What gob prints, as go does, for a command line that asks for help
/// rather than for a command: `gob help [topic]` (stdout, exit 0; an
/// unknown topic: stderr, exit 2), and a bare `gob`, `gob -h`, `gob -help`
/// or `gob --help` (the overview on stderr, exit 2). `args` excludes the
/// program name.
pub fn answer(args: &[String]) -> Option<Answer> {
    match args.first().map(String::as_str) {
        None => Some(Answer {
            text: overview(),
            ok: false,
        }),
        Some(f) if ["-h", "-help", "--h", "--help"].contains(&f.split('=').next().unwrap_or(f)) => {
            Some(Answer {
                text: overview(),
                ok: false,
            })
        }
        Some("help") if args.len() == 1 => Some(Answer {
            text: overview(),
            ok: true,
        }),
        Some("help") => Some(match text(&args[1..].join(" ")) {
            Ok(text) => Answer { text, ok: true },
            Err(e) => Answer {
                text: format!("{e}\n"),
                ok: false,
            },
        }),
        Some(_) => None,
    }
}

/// Help gob prints instead of running a command.
pub struct Answer {
    /// The text, ending in a newline.
    pub text: String,
    /// Printed on stdout with exit 0; else on stderr with exit 2.
    pub ok: bool,
}

const BUILD: &str = "\
Build compiles the packages named by the import paths, along with their
dependencies, but it does not install the results. It plans the same actions
as go build (compile, asm, pack, link) and runs each in a sandbox that holds
only the action's declared inputs.

With CGO_ENABLED=1 it also runs go's cgo pipeline (cgo, one C compile per
C, C++ or .S file, the _cgo_.o link, cgo -dynimport) with the C compiler
($CC, else gcc; $CXX for C++), whose programs, headers and libraries are
declared inputs of those actions. #cgo flags are checked against go's
allowlist (CGO_CFLAGS_ALLOW and the like widen it).

If the arguments to build are a list of .go files from a single directory,
build treats them as a list of source files specifying a single package
(command-line-arguments).

When compiling a single main package, build writes the resulting executable
to an output file named after the last non-major-version element of the
import path ('.exe' added for Windows): 'gob build example.com/foo/v2' writes
'foo'. From a list of .go files, the executable is named after the first file.
When compiling several packages, or a single non-main package, build compiles
the packages but discards the results, only checking that they can be built.

The -o flag forces build to write the resulting executable or object to the
named output file or directory, instead of the default behavior. If the named
output is an existing directory or ends with a slash or backslash, then any
resulting executables are written to that directory.

Packages are import paths or patterns: './...' (every package under the
current directory), 'example.com/m/cmd/x', 'std', 'cmd', 'all'.

The build flags are shared by the build, run, install, list, clean and audit
commands, as in go:

\t-C dir
\t\tChange to dir before running the command. Must be the first flag.
\t-a
\t\tforce rebuilding of packages that are already up-to-date
\t\t(gob: ignore the cache and the no-op memo).
\t-n
\t\tprint the commands that would run, but do not run them.
\t-p n
\t\tthe number of programs, such as build commands, that can be run in
\t\tparallel. The default is the number of CPUs.
\t-race, -msan, -asan
\t\tneed cgo: without it refused with go's message and in go's order;
\t\twith it (and -race for darwin, which go builds without cgo)
\t\trefused as not supported by gob yet.
\t-cover
\t\tenable code coverage instrumentation (a cover action per package).
\t-covermode set,count,atomic
\t\tset the mode for coverage analysis. The default is \"set\".
\t\tset: bool: does this statement run?
\t\tcount: int: how many times does this statement run?
\t\tatomic: int: count, but correct in multithreaded programs.
\t\tSets -cover.
\t-coverpkg pattern1,pattern2,pattern3
\t\tapply coverage analysis to each package whose import path matches
\t\tthe patterns. The default is the packages in the main Go module and
\t\tthose named on the command line. Sets -cover.
\t-v
\t\tprint the names of packages as they are compiled.
\t-work
\t\tprint the name of the temporary work directory and do not delete it
\t\twhen exiting.
\t-x
\t\tprint the commands.
\t-asmflags '[pattern=]arg list'
\t\targuments to pass on each go tool asm invocation.
\t-buildmode mode
\t\tbuild mode to use: default, exe, pie or archive, on every target go
\t\tbuilds them without cgo; the modes that need cgo (c-archive,
\t\tc-shared, shared, plugin) get go's message.
\t-buildvcs
\t\tgob never stamps version control information (as -buildvcs=false);
\t\tauto and false are accepted, true is refused.
\t-compiler name
\t\tname of compiler to use: gc.
\t-gccgoflags '[pattern=]arg list'
\t\targuments for gccgo: accepted and unused, as go does with gc.
\t-gcflags '[pattern=]arg list'
\t\targuments to pass on each go tool compile invocation.
\t-installsuffix suffix
\t\ta suffix to use in the name of the package installation directory
\t\t(passed to compile and link as go passes it).
\t-json
\t\temit build output in JSON suitable for automated processing
\t\t(go's build events; docs/json.md).
\t-ldflags '[pattern=]arg list'
\t\targuments to pass on each go tool link invocation
\t\t(-ldflags \"-s -w\", -ldflags=-X=main.version=1).
\t-linkshared
\t\tbuild code that will be linked against shared libraries: needs
\t\texternal (cgo) linking, refused with go's message.
\t-mod mode
\t\tmodule download mode to use: readonly, vendor, or mod. gob never
\t\tdownloads: modules come from the module cache or vendor/.
\t-modcacherw
\t\tleave newly-created directories in the module cache read-write
\t\t(gob never writes the module cache).
\t-modfile file
\t\tread an alternate go.mod file (and its .sum sibling) instead of the
\t\tone in the module root directory.
\t-overlay file
\t\tread a JSON config file that provides an overlay for build operations:
\t\t{\"Replace\": {\"path\": \"replacement, or empty to delete\"}}. Replacement
\t\tfiles are declared inputs of the actions that read them, and are
\t\tembedded in traces.
\t-pgo file
\t\tspecify the file path of a profile for profile-guided optimization;
\t\tauto (the default) uses default.pgo in the main package's directory,
\t\toff turns it off.
\t-pkgdir dir
\t\tinstall and load all packages from dir: gob keeps them in its cache.
\t-tags tag,list
\t\ta comma-separated list of additional build tags.
\t-trimpath
\t\tremove all file system paths from the resulting executable: gob
\t\talways does.
\t-toolexec 'cmd args'
\t\ta program to use to invoke toolchain programs like compile and asm:
\t\t'cmd args /path/to/compile <arguments>', inside the action's sandbox
\t\twith its interpreter, loader and shared libraries declared, and
\t\tTOOLEXEC_IMPORTPATH set as go sets it.

The build flags may also be set in $GOFLAGS, as in go; the command line wins.

gob's own options (two dashes; one dash also works):

\t--sandbox mode
\t\tisolation for every tool: auto (default, the strongest the host
\t\tprovides), full (namespaces + Landlock + seccomp), namespaces,
\t\tlandlock or none.
\t--hermetic
\t\tdemand --sandbox=full and fail if the host cannot provide it.
\t--trace file
\t\trecord a self-contained trace of the build to file (off: none; by
\t\tdefault a digest-only trace goes under $GOBCACHE/traces).
\t--trace-blobs=false
\t\twith --trace: record digests only, not the inputs' contents.
\t--action-timeout d, --action-memory size, --action-disk size,
\t--action-output size, --action-notice d
\t\tlimits on each action (defaults 1h, 16GiB, 1GiB, 64MiB; notice 60s;
\t\toff lifts one).
\t--goroot dir
\t\tthe Go toolchain to use (else $GOROOT, else go env GOROOT).
\t--debug-actiongraph file
\t\twrite the action graph as JSON to file.
\t--debug-timing
\t\tprint how long each phase of the build took.

See also: gob help install, gob help list, gob help audit.
";

const RUN: &str = "\
Run compiles the named main Go package as gob build does (in the sandbox,
through the cache) into a temporary directory, then runs it outside the
sandbox with the arguments, stdin, stdout and stderr.

The first argument is the package; everything after it belongs to the
program. Leading .go files of one directory are the package instead:
'gob run main.go util.go args'.

A program that fails is reported as go run reports it ('exit status 3' on
stderr, and gob exits 1). A cross-compiled binary runs through -exec xprog,
else go_$GOOS_$GOARCH_exec from $PATH, as go does.

For the build flags and gob's own options, see 'gob help build'.
";

const INSTALL: &str = "\
Install compiles the named packages like gob build and installs the
executables in $GOBIN, else $GOPATH/bin (the first entry; ~/go/bin by
default); cross-compiled ones go to $GOPATH/bin/$GOOS_$GOARCH, refused when
$GOBIN is set, as go refuses. Other packages are only built.

'pkg@version' needs the network and is refused.

For the build flags and gob's own options, see 'gob help build'.
";

const LIST: &str = "\
List lists the named packages, one per line, from gob's own loader (no go
command runs).

\t-json
\t\tprint each package as a JSON object, with go list -json's field names.
\t-deps
\t\tlist the packages' dependencies too, in dependency order.
\t-e
\t\treport erroneous packages (with their Error field) instead of failing.
\t-f format
\t\tformat each package with a Go text/template.
\t-m
\t\tlist modules instead of packages.

The build flags -tags, -mod, -pgo and -C shape the listing; the others are
accepted, as go list accepts them. See 'gob help build'.
";

const ENV: &str = "\
Env prints the configuration gob uses, with go env's variable names and
layout. With variable names it prints each value on its own line (an empty
line for a name it does not know, as go does); -json prints JSON.

Values come from the environment, then the go env file (GOENV) and
$GOROOT/go.env, as go reads them. CGO_ENABLED is what go computes (1 on
the host with a C compiler); gob's builds use cgo only when CGO_ENABLED=1
is set, for now.
";

const CLEAN: &str = "\
Clean removes what go build and go test leave in the package directories
(with packages, inside a module, or with -i or -r) and gob's cached files.

\t-i
\t\tremove the installed executable too.
\t-n
\t\tprint the remove commands it would execute, but do not run them.
\t-r
\t\tclean the packages' dependencies too.
\t-x
\t\tprint the remove commands as it executes them.
\t-cache
\t\tremove gob's whole build cache ($GOBCACHE).
\t-modcache
\t\tremove the module cache ($GOMODCACHE), as go clean -modcache does.
\t-testcache, -fuzzcache
\t\taccepted: gob keeps no test or fuzz cache.
";

const VERSION: &str = "\
Version prints gob's version and the Go toolchain it would use.

With files or directories, it prints the Go version each Go binary was
built with (ELF, PE, Mach-O, XCOFF, Plan 9).

\t-m
\t\talso print each binary's embedded module and build information.
\t-v
\t\treport the files of a directory that are not Go binaries.
\t-json
\t\twith -m: print the build information as JSON.
";

const AUDIT: &str = "\
Audit builds the packages twice with fresh caches and a sandbox that maps
paths. The second build changes what must not matter: the work directory
path, -p, the order ready actions are taken in, the uid inside the user
namespace, the umask, TZ, LANG, LC_ALL, HOME and SOURCE_DATE_EPOCH. It then
compares every output of every action.

It exits 0 when everything is identical; 1 when something differs, naming
the first divergent action, its cause, and the byte offset where each output
differs (the traces are kept for gob trace diff and gob replay); 2 when it
cannot give a verdict.

\t--against trace
\t\tbuild once and compare with this trace, recorded elsewhere (by gob
\t\tbuild --trace or another audit).
\t--keep dir
\t\tkeep both traces in dir, a new or empty directory.

It takes the build flags and gob's own options of 'gob help build'.
";

const REPLAY: &str = "\
Replay re-executes every action of a trace in the sandbox with the given
toolchain (the same Go version; any host platform) and proves each output
bit for bit. A trace comes from another machine: it is read as hostile input.

It exits 0 when every output is identical; 1 naming each divergent action,
causes first, with sizes, digests and the first differing byte; 2 when it
cannot give a verdict (an unreadable or refused trace, another Go version).

\t--goroot dir
\t\tthe Go toolchain to replay with.
\t--src [inside=]dir
\t\ta source tree for inputs the trace does not embed. Repeatable.
\t--action id|pkg
\t\treplay only this action and what it needs.
\t--keep, --dir dir
\t\tkeep the replay directory (--dir names it).
\t--shell
\t\topen a shell inside the --action's sandbox, its inputs in place.
\t--export id -o file.tar
\t\twrite the files action id saw into a tar.
\t--toolexec prog
\t\trun each tool as 'prog tool args' (qemu-aarch64-static).
\t-p n
\t\tparallel actions (default: the number of CPUs).
\t--sandbox mode
\t\tfull (default) or namespaces.
\t--trust-env
\t\tlet the trace set variables other than the Go target settings.
\t--allow-incomplete
\t\treplay a trace without an End record.
\t-v, --json
\t\tprint each action's verdict as it finishes (as JSON lines).

The --action-* limits of 'gob help build' apply.
";

const TRACE: &str = "\
Trace inspects traces (docs/trace-format.md).

\tshow    print a trace's actions, times and cache hits
\tdiff    compare two traces action by action

Use \"gob help trace <command>\" for more information about a command.
";

const TRACE_SHOW: &str = "\
Show prints a trace's action graph, per-action times and cache hits
(--json: as JSON).
";

const TRACE_DIFF: &str = "\
Diff compares two traces action by action and names the first action whose
inputs or outputs differ, and why (--json: as JSON).
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_has_a_text_and_unknown_ones_get_gos_words() {
        for t in TOPICS {
            assert!(text(t.path)
                .unwrap()
                .starts_with(&format!("usage: {}\n\n", t.usage)));
            assert!(
                t.usage.starts_with(&format!("gob {}", t.path)),
                "{}",
                t.path
            );
        }
        assert_eq!(
            text("frob").unwrap_err(),
            "gob help frob: unknown help topic. Run 'gob help'."
        );
        assert!(overview().contains("\tbuild       compile packages and dependencies\n"));
        assert!(!overview().contains("trace show"));
    }
}
