//! The command line's grammar: go's `flag` package rules, and `$GOFLAGS` read
//! as cmd/go reads it, applied to the flags the binary declares with clap.
//!
//! [`normalize`] turns `gob CMD [flags] [args]`, written as a go user writes
//! it, into one canonical spelling that clap parses without guessing: every
//! flag as `--long=value` or `-s=value`, booleans once with their final value,
//! then `--` and the arguments. The rules are those of go's `flag` package:
//! `-f`, `--f`, `-f=v`, `--f=v`, and `-f v` for a flag that takes a value (the
//! next word is the value whatever it starts with: `-ldflags "-s -w"`);
//! a boolean takes a value only as `-f=v`; `--` ends the flags, and so does
//! the first word that is no flag (a lone `-` is such a word). The errors are
//! go's, word for word, with `gob` for `go`.
//!
//! `$GOFLAGS` is split and checked as cmd/go's `base.InitGOFLAGS` does: each
//! word is `-flag` or `-flag=value`; a name no go command knows is an error; a
//! flag that the command's go counterpart does not take is ignored; one that
//! it takes is applied before the command line (which therefore wins). gob's
//! own options are never read from `$GOFLAGS`, which go also reads.

use std::collections::BTreeMap;
use std::fmt;

use clap::{ArgAction, Command};

/// Every flag name some go1.27 command declares: what cmd/go's
/// `hasFlag(base.Go, name)` finds, so what `$GOFLAGS` may hold without
/// `unknown flag`. (tests/cli_flags.rs checks each against go.)
#[rustfmt::skip]
pub const GO_FLAG_NAMES: &[&str] = &[
    "C", "a", "artifacts", "asan", "asmflags", "bench", "benchmem", "benchtime",
    "blockprofile", "blockprofilerate", "buildmode", "buildvcs", "c", "cache",
    "changed", "compat", "compiled", "compiler", "count", "cover", "covermode",
    "coverpkg", "coverprofile", "cpu", "cpuprofile", "d", "debug-actiongraph",
    "debug-runtime-trace", "debug-trace", "deps", "diff", "dropexclude",
    "dropgodebug", "dropignore", "dropreplace", "droprequire", "dropretract",
    "droptool", "dropuse", "e", "exclude", "exec", "export", "f", "failfast",
    "find", "fix", "fmt", "fullpath", "fuzz", "fuzzcache", "fuzzminimizetime",
    "fuzztime", "gccgoflags", "gcflags", "go", "godebug", "i", "ignore", "insecure",
    "installsuffix", "json", "ldflags", "linkshared", "list", "m", "memprofile",
    "memprofilerate", "mod", "modcache", "modcacherw", "modfile", "module", "msan",
    "mutexprofile", "mutexprofilefraction", "n", "o", "outputdir", "overlay", "p",
    "parallel", "pgo", "pkgdir", "print", "r", "race", "replace", "require",
    "retract", "retracted", "reuse", "run", "short", "shuffle", "skip", "t", "tags",
    "test", "testcache", "timeout", "tool", "toolchain", "toolexec", "trace",
    "trimpath", "u", "use", "v", "vendor", "versions", "vet", "w", "work", "x",
];

/// The build flags (cmd/go's `work.AddBuildFlags`, without `-json`) that
/// `go build`, `go list` and `go clean` share.
const GO_BUILD_FLAGS: &[&str] = &[
    "n",
    "x",
    "C",
    "a",
    "p",
    "v",
    "asan",
    "asmflags",
    "compiler",
    "buildmode",
    "buildvcs",
    "gcflags",
    "gccgoflags",
    "mod",
    "modcacherw",
    "modfile",
    "overlay",
    "installsuffix",
    "ldflags",
    "linkshared",
    "msan",
    "pgo",
    "pkgdir",
    "race",
    "tags",
    "toolexec",
    "trimpath",
    "work",
    "debug-actiongraph",
    "debug-runtime-trace",
    "debug-trace",
];

/// Why cmd/go refuses -C anywhere but first on the command line.
const CHDIR_FIRST: &str = "-C flag must be first flag on command line";

/// The flags of the go command a gob command stands for (`None`: no go
/// counterpart, so `$GOFLAGS` is not read), and whether a go flag that gob
/// does not implement is an error (commands that load or build) or has no
/// effect on what the command does.
fn go_counterpart(path: &str) -> Option<(Vec<&'static str>, bool)> {
    let with = |extra: &[&'static str]| {
        let mut v = GO_BUILD_FLAGS.to_vec();
        v.extend_from_slice(extra);
        v
    };
    Some(match path {
        "build" | "audit" => (with(&["o", "json", "cover", "covermode", "coverpkg"]), true),
        "run" => (with(&["exec", "cover", "covermode", "coverpkg"]), true),
        "install" => (with(&["json", "cover", "covermode", "coverpkg"]), true),
        "list" => (
            with(&[
                "compiled",
                "deps",
                "e",
                "export",
                "f",
                "find",
                "json",
                "m",
                "retracted",
                "reuse",
                "test",
                "u",
                "versions",
            ]),
            true,
        ),
        "clean" => (
            with(&["i", "r", "cache", "testcache", "modcache", "fuzzcache"]),
            false,
        ),
        "version" => (vec!["m", "v", "json"], false),
        _ => return None,
    })
}

/// A command line gob refuses, with go's words and exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliError {
    /// `gob frob`: no such command (exit 2).
    UnknownCommand {
        /// `gob frob`, or `gob trace` for `gob trace frob` (as go names `go mod`).
        what: String,
        /// The help to point at: `gob help` or `gob help trace`.
        help: String,
    },
    /// A flag is wrong: go's `flag` package message, then the usage (exit 2).
    Flag {
        /// `flag provided but not defined: -frob`, …
        message: String,
        /// The command's usage line.
        usage: String,
        /// `gob help build`.
        help: String,
    },
    /// `gob build -h`: the usage line and where the help is (exit 2, as go).
    Usage {
        /// The command's usage line.
        usage: String,
        /// `gob help build`.
        help: String,
    },
    /// `$GOFLAGS` cannot be parsed (exit 1, as go's `base.Fatalf`).
    Goflags(String),
    /// A go flag in `$GOFLAGS` that gob does not implement yet (exit 2).
    Unsupported {
        /// The flag's name.
        name: String,
        /// `gob build`.
        command: String,
    },
}

impl CliError {
    /// The exit status go uses for the same mistake.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Goflags(_) => 1,
            _ => 2,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::UnknownCommand { what, help } => {
                write!(f, "{what}: unknown command\nRun '{help}' for usage.")
            }
            CliError::Flag {
                message,
                usage,
                help,
            } => write!(f, "{message}\nusage: {usage}\nRun '{help}' for details."),
            CliError::Usage { usage, help } => {
                write!(f, "usage: {usage}\nRun '{help}' for details.")
            }
            CliError::Goflags(why) => write!(f, "gob: parsing $GOFLAGS: {why}"),
            CliError::Unsupported { name, command } => write!(
                f,
                "gob: -{name} (from $GOFLAGS): not supported by {command} yet"
            ),
        }
    }
}

impl std::error::Error for CliError {}

/// How a declared flag takes its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `-v`, `-v=false`: a boolean (clap `SetTrue`).
    Bool,
    /// `-trimpath`, `-buildvcs=auto`: a boolean-like flag whose value, if any,
    /// follows `=` (clap `num_args(0..=1)`).
    OptValue,
    /// `-o FILE`, `-o=FILE`.
    Value,
}

/// One declared flag.
#[derive(Clone, Debug)]
struct Flag {
    kind: Kind,
    /// The spelling clap parses: `--tags` or `-o`.
    canonical: String,
    /// Help and version flags are clap's own: passed through as they are.
    clap_own: bool,
}

impl Flag {
    /// The value as clap receives it (booleans canonical: `true`, `false`,
    /// and `auto` for -buildvcs), or why it is not one (go's reason, the
    /// text after its last colon).
    fn value(&self, v: Option<String>) -> Result<Option<String>, &'static str> {
        let Some(v) = v else { return Ok(None) };
        if self.kind == Kind::Value {
            return Ok(Some(v));
        }
        // cmd/go's buildvcsFlag also takes auto (and "", meaning auto).
        let buildvcs = self.canonical == "--buildvcs";
        match parse_bool(&v) {
            Some(b) => Ok(Some(b.to_string())),
            None if buildvcs && (v.is_empty() || v == "auto") => Ok(Some("auto".into())),
            None if buildvcs => Err("value is neither 'auto' nor a valid bool"),
            None => Err("parse error"),
        }
    }
}

/// The flags of one (sub)command, by every name they answer to.
struct FlagSet {
    flags: BTreeMap<String, Flag>,
}

impl FlagSet {
    fn of(cmd: &Command) -> FlagSet {
        let mut flags = BTreeMap::new();
        for a in cmd.get_arguments().filter(|a| !a.is_positional()) {
            let action = a.get_action();
            let takes_value = action.takes_values();
            let optional = a
                .get_num_args()
                .is_some_and(|r| takes_value && r.min_values() == 0);
            let kind = if !takes_value {
                Kind::Bool
            } else if optional {
                Kind::OptValue
            } else {
                Kind::Value
            };
            let clap_own = matches!(action, ArgAction::Help | ArgAction::Version);
            let canonical = match (a.get_long(), a.get_short()) {
                (Some(l), _) => format!("--{l}"),
                (None, Some(s)) => format!("-{s}"),
                (None, None) => continue,
            };
            let flag = Flag {
                kind,
                canonical,
                clap_own,
            };
            if let Some(l) = a.get_long() {
                flags.insert(l.to_string(), flag.clone());
            }
            if let Some(s) = a.get_short() {
                flags.insert(s.to_string(), flag.clone());
            }
        }
        FlagSet { flags }
    }
}

/// Parses a boolean as Go's `strconv.ParseBool`.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The flags parsed so far, in clap's spelling.
#[derive(Default)]
struct Parsed {
    /// Value flags in order (clap keeps the last, or all of a repeatable one).
    values: Vec<String>,
    /// Booleans by canonical name, last value winning as in go.
    bools: BTreeMap<String, bool>,
}

impl Parsed {
    fn set(&mut self, flag: &Flag, value: Option<&str>) {
        match (flag.kind, value) {
            (Kind::Bool, v) => {
                // Canonical ("true" or "false"): see `Flag::value`.
                self.bools
                    .insert(flag.canonical.clone(), v != Some("false"));
            }
            (_, Some(v)) => self.values.push(format!("{}={v}", flag.canonical)),
            (_, None) => self.values.push(flag.canonical.clone()),
        }
    }

    fn into_args(self) -> impl Iterator<Item = String> {
        self.values.into_iter().chain(
            self.bools
                .into_iter()
                .filter(|(_, on)| *on)
                .map(|(name, _)| name),
        )
    }
}

/// What one word of the command line is, by go's `flag.FlagSet.parseOne`.
enum Word<'a> {
    /// Not a flag: it and every word after it are arguments.
    Argument,
    /// `--`: the flags end; the words after it are arguments.
    End,
    /// `-name` or `-name=value`.
    Flag {
        name: &'a str,
        value: Option<&'a str>,
    },
}

fn classify(s: &str) -> Result<Word<'_>, String> {
    if s.len() < 2 || !s.starts_with('-') {
        return Ok(Word::Argument);
    }
    if s == "--" {
        return Ok(Word::End);
    }
    let body = s
        .strip_prefix("--")
        .unwrap_or_else(|| s.strip_prefix('-').unwrap_or(s));
    if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
        return Err(format!("bad flag syntax: {s}"));
    }
    Ok(match body.split_once('=') {
        Some((name, value)) => Word::Flag {
            name,
            value: Some(value),
        },
        None => Word::Flag {
            name: body,
            value: None,
        },
    })
}

/// The command line in clap's canonical spelling (see the module doc), with
/// `goflags` (the value of `$GOFLAGS`) applied first. `root` is the binary's
/// clap command; `args` starts with the program name.
pub fn normalize(
    root: &Command,
    args: Vec<String>,
    goflags: Option<&str>,
) -> Result<Vec<String>, CliError> {
    let mut root = root.clone();
    root.build();
    let mut args = args.into_iter();
    let mut out: Vec<String> = args.next().into_iter().collect();
    let rest: Vec<String> = args.collect();
    let Some(first) = rest.first() else {
        return Ok(out);
    };
    // `gob --version`: clap's own (help is gob::help's, asked first).
    if first.starts_with('-') {
        let name = first.trim_start_matches('-');
        let own = root.get_arguments().any(|a| {
            a.get_long() == Some(name) || a.get_short().is_some_and(|s| name == s.to_string())
        });
        if !own {
            return Err(CliError::Flag {
                message: format!("flag provided but not defined: -{name}"),
                usage: "gob <command> [arguments]".into(),
                help: "gob help".into(),
            });
        }
        out.extend(rest);
        return Ok(out);
    }
    let mut cmd = &root;
    let mut path: Vec<String> = Vec::new();
    let mut words = rest.into_iter().peekable();
    loop {
        let name = words.next().expect("a subcommand name");
        let Some(sub) = cmd.find_subcommand(&name) else {
            // As cmd/go: `go frob`, and `go mod` for `go mod frob`.
            let known = path.join(" ");
            return Err(CliError::UnknownCommand {
                what: format!("gob {}", if path.is_empty() { &name } else { &known }),
                help: format!(
                    "gob help{}",
                    if path.is_empty() {
                        String::new()
                    } else {
                        format!(" {known}")
                    }
                ),
            });
        };
        cmd = sub;
        path.push(name.clone());
        out.push(name);
        let set = FlagSet::of(cmd);
        let joined = path.join(" ");
        let flag_error = |message: String| CliError::Flag {
            message,
            usage: usage_line(&joined, cmd),
            help: format!("gob help {joined}"),
        };
        let mut parsed = Parsed::default();
        if let (Some(g), 1) = (goflags, path.len()) {
            apply_goflags(g, &joined, &set, &mut parsed, &flag_error)?;
        }
        let mut arguments = Vec::new();
        let mut first = true;
        while let Some(w) = words.next() {
            let (name, value) = match classify(&w).map_err(&flag_error)? {
                Word::Argument => {
                    arguments.push(w);
                    break;
                }
                Word::End => break,
                Word::Flag { name, value } => (name.to_string(), value.map(str::to_string)),
            };
            let Some(flag) = set.flags.get(&name) else {
                // go's flag package: -h and -help, whatever their value,
                // print the usage (exit 2).
                if name == "h" || name == "help" {
                    return Err(CliError::Usage {
                        usage: usage_line(&joined, cmd),
                        help: format!("gob help {joined}"),
                    });
                }
                return Err(flag_error(format!(
                    "flag provided but not defined: -{name}"
                )));
            };
            if flag.clap_own {
                out.push(w);
                continue;
            }
            let value = match (flag.kind, value) {
                (Kind::Value, None) => match words.next() {
                    Some(v) => Some(v),
                    None => return Err(flag_error(format!("flag needs an argument: -{name}"))),
                },
                (_, v) => flag.value(v.clone()).map_err(|why| {
                    flag_error(format!(
                        "invalid boolean value {:?} for -{name}: {why}",
                        v.unwrap_or_default()
                    ))
                })?,
            };
            // cmd/go takes -C only as the first flag (main.go's handleChdirFlag).
            if name == "C" && !first {
                return Err(flag_error(format!(
                    "invalid value {:?} for flag -C: {CHDIR_FIRST}",
                    value.unwrap_or_default()
                )));
            }
            if let Some(why) = value.as_deref().and_then(|v| go_value_error(&name, v)) {
                return Err(flag_error(format!(
                    "invalid value {:?} for flag -{name}: {why}",
                    value.unwrap_or_default()
                )));
            }
            first = false;
            parsed.set(flag, value.as_deref());
        }
        arguments.extend(words.by_ref());
        out.extend(parsed.into_args());
        if cmd.has_subcommands() {
            // `gob trace show …`: the first argument names the subcommand.
            if arguments.is_empty() {
                return Ok(out);
            }
            words = arguments.into_iter().peekable();
            continue;
        }
        if !arguments.is_empty() {
            out.push("--".into());
            out.extend(arguments);
        }
        return Ok(out);
    }
}

/// `$GOFLAGS` for the command at `path`, as cmd/go's `InitGOFLAGS` and
/// `SetFromGOFLAGS` read it (see the module doc).
fn apply_goflags(
    goflags: &str,
    path: &str,
    set: &FlagSet,
    parsed: &mut Parsed,
    flag_error: &dyn Fn(String) -> CliError,
) -> Result<(), CliError> {
    let Some((go_flags, strict)) = go_counterpart(path) else {
        return Ok(());
    };
    let words =
        crate::plan::flags::split_quoted(goflags).map_err(|e| CliError::Goflags(e.to_string()))?;
    let mut names = Vec::new();
    for w in &words {
        let bad = !w.starts_with('-')
            || w == "-"
            || w == "--"
            || w.starts_with("---")
            || w.starts_with("-=")
            || w.starts_with("--=");
        if bad {
            return Err(CliError::Goflags(format!("non-flag {w:?}")));
        }
        let body = w.strip_prefix("--").unwrap_or(&w[1..]);
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        if !GO_FLAG_NAMES.contains(&name) {
            return Err(CliError::Goflags(format!("unknown flag -{name}")));
        }
        names.push((name, value));
    }
    for (name, value) in names {
        if !go_flags.contains(&name) {
            continue;
        }
        let Some(flag) = set.flags.get(name) else {
            if strict {
                return Err(CliError::Unsupported {
                    name: name.to_string(),
                    command: format!("gob {path}"),
                });
            }
            continue;
        };
        // go's words: `go: flag needs an argument: -ldflags (from $GOFLAGS)`.
        let refuse = |message: String| match flag_error(message) {
            CliError::Flag {
                message,
                usage,
                help,
            } => CliError::Flag {
                message: format!("gob: {message}"),
                usage,
                help,
            },
            e => e,
        };
        if name == "C" {
            return Err(refuse(format!(
                "invalid value {:?} for flag -C (from $GOFLAGS): {CHDIR_FIRST}",
                value.unwrap_or_default()
            )));
        }
        if flag.kind == Kind::Value && value.is_none() {
            return Err(refuse(format!(
                "flag needs an argument: -{name} (from $GOFLAGS)"
            )));
        }
        let value = flag.value(value.map(str::to_string)).map_err(|why| {
            refuse(format!(
                "invalid boolean value {:?} for flag -{name} (from $GOFLAGS): {why}",
                value.unwrap_or_default()
            ))
        })?;
        if let Some(why) = value.as_deref().and_then(|v| go_value_error(name, v)) {
            return Err(refuse(format!(
                "invalid value {:?} for flag -{name} (from $GOFLAGS): {why}",
                value.unwrap_or_default()
            )));
        }
        parsed.set(flag, value.as_deref());
    }
    Ok(())
}

/// Why go's flag would refuse `value` as it is set (before the command
/// runs): an unknown -compiler, a per-package flag that does not split.
fn go_value_error(name: &str, value: &str) -> Option<String> {
    match name {
        "covermode" if !matches!(value, "" | "set" | "count" | "atomic") => {
            Some(r#"valid modes are "set", "count", or "atomic""#.into())
        }
        "compiler" if value != "gc" && value != "gccgo" => {
            Some(format!("unknown compiler {value:?}"))
        }
        "gcflags" | "ldflags" | "asmflags" | "gccgoflags" => {
            crate::plan::flags::PerPackageFlag::default()
                .add(value, std::path::Path::new("/"))
                .err()
                .map(|e| e.to_string())
        }
        _ => None,
    }
}

/// go's words for a value its flag cannot hold (`-p abc`), for the command
/// named by the first argument of `args` (a command line as [`normalize`]
/// returns it).
pub fn invalid_value(root: &Command, args: &[String], flag: &str, value: &str) -> CliError {
    let mut root = root.clone();
    root.build();
    let name = args.get(1).cloned().unwrap_or_default();
    let (usage, help) = match root.find_subcommand(&name) {
        Some(c) => (usage_line(&name, c), format!("gob help {name}")),
        None => ("gob <command> [arguments]".into(), "gob help".into()),
    };
    CliError::Flag {
        message: format!("invalid value {value:?} for flag -{flag}: parse error"),
        usage,
        help,
    }
}

/// The usage line of the command at `path` (`build`, `trace show`): its help
/// topic's, else clap's without its heading.
fn usage_line(path: &str, cmd: &Command) -> String {
    if let Some(t) = crate::help::topic(path) {
        return t.usage.to_string();
    }
    let mut cmd = cmd.clone();
    let u = cmd.render_usage().to_string();
    u.strip_prefix("Usage: ").unwrap_or(&u).to_string()
}
