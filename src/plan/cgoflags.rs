//! cgo flag checks: cmd/go's allowlist of C compiler, linker and pkg-config flags (`security.go`).
//!
//! Flags from `#cgo` directives, from pkg-config's output and from
//! `//go:cgo_ldflag` lines come from the code being built, so cmd/go lets
//! through only those its allowlist knows to be harmless (no `-fplugin=`,
//! no `@file` response files, no `-Wl,` wildcard that lets a comma smuggle
//! in another linker argument). The user widens or narrows it with
//! `CGO_<NAME>_ALLOW` / `CGO_<NAME>_DISALLOW` ([`FlagOverrides`]). Flags
//! the user sets in `CGO_CFLAGS` and the like are not checked (they are
//! the user's own), except for whether they allow internal linking
//! ([`flags_not_compatible_with_internal_linking`]).
//!
//! Pure functions over plain data: the environment is read by the caller.
//! A flag matches a pattern as in cmd/go when the leftmost-first match of
//! the unanchored pattern is the whole flag (Go's `FindString(arg) == arg`,
//! which is also why an empty flag passes where no pattern forbids it).
//! The `regex` crate's syntax and leftmost-first semantics are RE2's, as
//! Go's `regexp`; the built-in patterns use only ASCII classes, so they
//! match as Go's do. In user patterns `\d`, `\w`, `\s` and `\b` are
//! Unicode-aware (ASCII in Go): they differ only on non-ASCII flags.

use std::sync::LazyLock;

use regex::Regex;

/// cmd/go's `validCompilerFlags`.
const VALID_COMPILER_FLAGS: &[&str] = &[
    r"-D([A-Za-z_][A-Za-z0-9_]*)(=[^@\-]*)?",
    r"-U([A-Za-z_][A-Za-z0-9_]*)",
    r"-F([^@\-].*)",
    r"-I([^@\-].*)",
    r"-O",
    r"-O([^@\-].*)",
    r"-W",
    r"-W([^@,]+)",
    r"-Wa,-mbig-obj",
    r"-Wp,-D([A-Za-z_][A-Za-z0-9_]*)(=[^@,\-]*)?",
    r"-Wp,-U([A-Za-z_][A-Za-z0-9_]*)",
    r"-ansi",
    r"-f(no-)?asynchronous-unwind-tables",
    r"-f(no-)?blocks",
    r"-f(no-)builtin-[a-zA-Z0-9_]*",
    r"-f(no-)?common",
    r"-f(no-)?constant-cfstrings",
    r"-fdebug-prefix-map=([^@]+)=([^@]+)",
    r"-fdiagnostics-show-note-include-stack",
    r"-ffile-prefix-map=([^@]+)=([^@]+)",
    r"-fno-canonical-system-headers",
    r"-f(no-)?eliminate-unused-debug-types",
    r"-f(no-)?exceptions",
    r"-f(no-)?fast-math",
    r"-f(no-)?inline-functions",
    r"-finput-charset=([^@\-].*)",
    r"-f(no-)?fat-lto-objects",
    r"-f(no-)?keep-inline-dllexport",
    r"-f(no-)?lto",
    r"-fmacro-backtrace-limit=(.+)",
    r"-fmessage-length=(.+)",
    r"-f(no-)?modules",
    r"-f(no-)?objc-arc",
    r"-f(no-)?objc-nonfragile-abi",
    r"-f(no-)?objc-legacy-dispatch",
    r"-f(no-)?omit-frame-pointer",
    r"-f(no-)?openmp(-simd)?",
    r"-f(no-)?permissive",
    r"-f(no-)?(pic|PIC|pie|PIE)",
    r"-f(no-)?plt",
    r"-f(no-)?rtti",
    r"-f(no-)?split-stack",
    r"-f(no-)?stack-(.+)",
    r"-f(no-)?strict-aliasing",
    r"-f(un)signed-char",
    r"-f(no-)?use-linker-plugin",
    r"-f(no-)?visibility-inlines-hidden",
    r"-fsanitize=(.+)",
    r"-fsanitize-undefined-strip-path-components=(-)?[0-9]+",
    r"-ftemplate-depth-(.+)",
    r"-ftls-model=(global-dynamic|local-dynamic|initial-exec|local-exec)",
    r"-fvisibility=(.+)",
    r"-g([^@\-].*)?",
    r"-m32",
    r"-m64",
    r"-m(abi|arch|cpu|fpu|simd|tls-dialect|tune)=([^@\-].*)",
    r"-m(no-)?v?aes",
    r"-marm",
    r"-mcmodel=[0-9a-z-]+",
    r"-mfloat-abi=([^@\-].*)",
    r"-m(soft|single|double)-float",
    r"-mfpmath=[0-9a-z,+]*",
    r"-m(no-)?avx[0-9a-z.]*",
    r"-m(no-)?ms-bitfields",
    r"-m(no-)?stack-(.+)",
    r"-mmacosx-(.+)",
    r"-m(no-)?relax",
    r"-m(no-)?strict-align",
    r"-m(no-)?(lsx|lasx|frecipe|div32|lam-bh|lamcas|ld-seq-sa)",
    r"-mios-simulator-version-min=(.+)",
    r"-miphoneos-version-min=(.+)",
    r"-mlarge-data-threshold=[0-9]+",
    r"-mtvos-simulator-version-min=(.+)",
    r"-mtvos-version-min=(.+)",
    r"-mwatchos-simulator-version-min=(.+)",
    r"-mwatchos-version-min=(.+)",
    r"-mnop-fun-dllimport",
    r"-m(no-)?sse[0-9.]*",
    r"-m(no-)?ssse3",
    r"-mthumb(-interwork)?",
    r"-mthreads",
    r"-mwindows",
    r"-no-canonical-prefixes",
    r"--param=ssp-buffer-size=[0-9]*",
    r"-pedantic(-errors)?",
    r"-pipe",
    r"-pthread",
    r"--static",
    r"-?-std=([^@\-].*)",
    r"-?-stdlib=([^@\-].*)",
    r"--sysroot=([^@\-].*)",
    r"-w",
    r"-x([^@\-].*)",
    r"-v",
];

/// cmd/go's `validCompilerFlagsWithNextArg`: flags whose value is the next word.
const VALID_COMPILER_FLAGS_WITH_NEXT_ARG: &[&str] = &[
    "-arch",
    "-D",
    "-U",
    "-I",
    "-F",
    "-framework",
    "-include",
    "-isysroot",
    "-isystem",
    "--sysroot",
    "-target",
    "-x",
];

/// cmd/go's `invalidLinkerFlags`: on macOS the linker loads and runs the
/// next word, and `-lfoo` is allowed in general.
const INVALID_LINKER_FLAGS: &[&str] = &[r"-lto_library"];

/// cmd/go's `validLinkerFlags`. Wildcards after `-Wl,` exclude the comma,
/// which would pass one more argument to the linker.
const VALID_LINKER_FLAGS: &[&str] = &[
    r"-F([^@\-].*)",
    r"-l([^@\-].*)",
    r"-L([^@\-].*)",
    r"-O",
    r"-O([^@\-].*)",
    r"-f(no-)?(pic|PIC|pie|PIE)",
    r"-f(no-)?openmp(-simd)?",
    r"-fsanitize=([^@\-].*)",
    r"-flat_namespace",
    r"-g([^@\-].*)?",
    r"-headerpad_max_install_names",
    r"-m(abi|arch|cpu|fpu|simd|tls-dialect|tune)=([^@\-].*)",
    r"-mcmodel=[0-9a-z-]+",
    r"-mfloat-abi=([^@\-].*)",
    r"-m(soft|single|double)-float",
    r"-m(no-)?relax",
    r"-m(no-)?strict-align",
    r"-m(no-)?(lsx|lasx|frecipe|div32|lam-bh|lamcas|ld-seq-sa)",
    r"-mmacosx-(.+)",
    r"-mios-simulator-version-min=(.+)",
    r"-miphoneos-version-min=(.+)",
    r"-mthreads",
    r"-mwindows",
    r"-(pic|PIC|pie|PIE)",
    r"-pthread",
    r"-rdynamic",
    r"-shared",
    r"-?-static([-a-z0-9+]*)",
    r"-?-stdlib=([^@\-].*)",
    r"-v",
    r"-Wl,--(no-)?allow-multiple-definition",
    r"-Wl,--(no-)?allow-shlib-undefined",
    r"-Wl,--(no-)?as-needed",
    r"-Wl,-Bdynamic",
    r"-Wl,-berok",
    r"-Wl,-Bstatic",
    r"-Wl,-Bsymbolic-functions",
    r"-Wl,-O[0-9]+",
    r"-Wl,-d[ny]",
    r"-Wl,--disable-new-dtags",
    r"-Wl,-e[=,][a-zA-Z0-9]+",
    r"-Wl,--enable-new-dtags",
    r"-Wl,--end-group",
    r"-Wl,--(no-)?export-dynamic",
    r"-Wl,-E",
    r"-Wl,-framework,[^,@\-][^,]*",
    r"-Wl,--hash-style=(sysv|gnu|both)",
    r"-Wl,-headerpad_max_install_names",
    r"-Wl,--no-undefined",
    r"-Wl,--pop-state",
    r"-Wl,--push-state",
    r"-Wl,-R,?([^@\-,][^,@]*$)",
    r"-Wl,--just-symbols[=,]([^,@\-][^,@]*)",
    r"-Wl,-rpath(-link)?[=,]([^,@\-][^,]*)",
    r"-Wl,-s",
    r"-Wl,-search_paths_first",
    r"-Wl,-sectcreate,([^,@\-][^,]*),([^,@\-][^,]*),([^,@\-][^,]*)",
    r"-Wl,--start-group",
    r"-Wl,-?-static",
    r"-Wl,-?-subsystem,(native|windows|console|posix|xbox)",
    r"-Wl,-syslibroot[=,]([^,@\-][^,]*)",
    r"-Wl,-undefined[=,]([^,@\-][^,]*)",
    r"-Wl,-?-unresolved-symbols=[^,]+",
    r"-Wl,--(no-)?warn-([^,]+)",
    r"-Wl,-?-wrap[=,][^,@\-][^,]*",
    r"-Wl(,-z,(relro|now|(no)?execstack))+",
    // Direct linker inputs: x.o or libfoo.so, not -foo.o or @foo.o.
    r"[a-zA-Z0-9_/].*\.(a|o|obj|dll|dylib|so|tbd)",
    r"\./.*\.(a|o|obj|dll|dylib|so|tbd)",
];

/// cmd/go's `validLinkerFlagsWithNextArg`.
const VALID_LINKER_FLAGS_WITH_NEXT_ARG: &[&str] = &[
    "-arch",
    "-F",
    "-l",
    "-L",
    "-framework",
    "-isysroot",
    "--sysroot",
    "-target",
    "-Wl,-framework",
    "-Wl,-rpath",
    "-Wl,-R",
    "-Wl,--just-symbols",
    "-Wl,-undefined",
];

/// cmd/go's `validPkgConfigFlags` (its `\d` written `[0-9]`, which it means).
const VALID_PKG_CONFIG_FLAGS: &[&str] = &[
    r"--atleast-pkgconfig-version=[0-9]+\.[0-9]+\.[0-9]+",
    r"--atleast-version=[0-9]+\.[0-9]+\.[0-9]+",
    r"--cflags-only-I",
    r"--cflags",
    r"--define-prefix",
    r"--define-variable=[A-Za-z_][A-Za-z0-9_]*=[^@\-]*",
    r"--digraph",
    r"--dont-define-prefix",
    r"--dont-relocate-paths",
    r"--dump-personality",
    r"--env-only",
    r"--errors-to-stdout",
    r"--exact-version=[0-9]+\.[0-9]+\.[0-9]+",
    r"--exists",
    r"--fragment-filter=[A-Za-z_][a-zA-Z0-9_]*",
    r"--ignore-conflicts",
    r"--internal-cflags",
    r"--keep-system-cflags",
    r"--keep-system-libs",
    r"--libs-only-l",
    r"--libs-only-L",
    r"--libs",
    r"--list-all",
    r"--list-package-names",
    r"--max-version=[0-9]+\.[0-9]+\.[0-9]+",
    r"--maximum-traverse-depth=[0-9]+",
    r"--modversion",
    r"--msvc-syntax",
    r"--no-cache",
    r"--no-provides",
    r"--no-uninstalled",
    r"--path",
    r"--personality=(triplet|filename)",
    r"--prefix-variable=[A-Za-z_][a-zA-Z0-9_]*",
    r"--print-errors",
    r"--print-provides",
    r"--print-requires-private",
    r"--print-requires",
    r"--print-variables",
    r"--pure",
    r"--shared",
    r"--short-errors",
    r"--silence-errors",
    r"--simulate",
    r"--static",
    r"--uninstalled",
    r"--validate",
    r"--variable=[A-Za-z_][a-zA-Z0-9_]*",
    r"--with-path=[^@\-].*",
];

/// One table of patterns, compiled once.
struct Patterns(LazyLock<Vec<Regex>>);

impl Patterns {
    const fn new(f: fn() -> Vec<Regex>) -> Patterns {
        Patterns(LazyLock::new(f))
    }
}

fn compile(table: &[&str]) -> Vec<Regex> {
    // The tables are constants, pinned by the tests: a bad one is a bug here.
    table
        .iter()
        .map(|p| Regex::new(p).expect("built-in cgo flag pattern"))
        .collect()
}

static COMPILER: Patterns = Patterns::new(|| compile(VALID_COMPILER_FLAGS));
static LINKER_INVALID: Patterns = Patterns::new(|| compile(INVALID_LINKER_FLAGS));
static LINKER: Patterns = Patterns::new(|| compile(VALID_LINKER_FLAGS));
static PKG_CONFIG: Patterns = Patterns::new(|| compile(VALID_PKG_CONFIG_FLAGS));

/// Go's `re.FindString(arg) == arg`: the leftmost-first match is the whole
/// word (no match reads as the empty match).
fn matches_whole(re: &Regex, arg: &str) -> bool {
    re.find(arg).map_or("", |m| m.as_str()) == arg
}

/// cmd/go's `load.SafeArg`: a word that cannot be taken for a flag or a
/// response file: it starts with an ASCII letter or digit, `.`, `_`, `/`,
/// or a non-ASCII byte.
pub fn safe_arg(name: &str) -> bool {
    name.as_bytes()
        .first()
        .is_some_and(|&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'/') || c >= 0x80)
}

/// The user's changes to the allowlists: the values of
/// `CGO_<NAME>_ALLOW` and `CGO_<NAME>_DISALLOW` (cmd/go's `cfg.Getenv`:
/// the environment, then the go/env file, then `$GOROOT/go.env`), unset
/// when empty. Plain data, read by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagOverrides {
    /// (variable name, value) pairs, e.g. (`CGO_CFLAGS_ALLOW`, `-fplugin=.*`).
    vars: Vec<(String, String)>,
}

impl FlagOverrides {
    /// The overrides for every flag kind cmd/go checks, from `get` (which
    /// answers a variable's value, `None` or empty when unset).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> FlagOverrides {
        let mut vars = Vec::new();
        for name in ["CFLAGS", "CPPFLAGS", "CXXFLAGS", "FFLAGS", "LDFLAGS"] {
            for which in ["ALLOW", "DISALLOW"] {
                let var = format!("CGO_{name}_{which}");
                if let Some(v) = get(&var).filter(|v| !v.is_empty()) {
                    vars.push((var, v));
                }
            }
        }
        FlagOverrides { vars }
    }

    /// `CGO_{name}_{which}` compiled, if set; go's error words if it does
    /// not compile.
    fn regex(&self, name: &str, which: &str) -> Result<Option<Regex>, String> {
        let var = format!("CGO_{name}_{which}");
        let Some((_, v)) = self.vars.iter().find(|(k, _)| *k == var) else {
            return Ok(None);
        };
        Regex::new(v).map(Some).map_err(|e| {
            let why = match &e {
                regex::Error::Syntax(s) => s
                    .lines()
                    .rev()
                    .find_map(|l| l.strip_prefix("error: "))
                    .unwrap_or(s)
                    .to_string(),
                other => other.to_string(),
            };
            format!("parsing ${var}: error parsing regexp: {why}: `{v}`")
        })
    }
}

/// cmd/go's `checkCompilerFlags`: `Err` is go's message, e.g.
/// `invalid flag in #cgo CFLAGS: -fplugin=x (see https://go.dev/s/invalidflag)`.
/// `name` picks the `CGO_<name>_ALLOW`/`_DISALLOW` overrides (`CFLAGS`,
/// `CPPFLAGS`…); `source` is what the message names (`#cgo CFLAGS`,
/// `pkg-config --cflags`).
pub fn check_compiler_flags(
    name: &str,
    source: &str,
    list: &[String],
    env: &FlagOverrides,
) -> Result<(), String> {
    let rules = Rules::compiler();
    check_flags(name, source, list, &rules, Some(env))
}

/// cmd/go's `checkLinkerFlags` (`#cgo LDFLAGS`, `pkg-config --libs`,
/// `go:cgo_ldflag`), as [`check_compiler_flags`].
pub fn check_linker_flags(
    name: &str,
    source: &str,
    list: &[String],
    env: &FlagOverrides,
) -> Result<(), String> {
    check_flags(name, source, list, &Rules::linker(), Some(env))
}

/// cmd/go's `checkPkgConfigFlags`: the `--` options of `#cgo pkg-config`
/// (no overrides).
pub fn check_pkg_config_flags(source: &str, list: &[String]) -> Result<(), String> {
    let rules = Rules {
        invalid: &[],
        valid: &PKG_CONFIG.0,
        valid_next: &[],
    };
    check_flags("", source, list, &rules, None)
}

/// cmd/go's `checkCompilerFlagsForInternalLink`: `Err` when the flags may
/// not work with the internal linker: one off the allowlist (no
/// overrides), `-flto…`, or `-static`/`--static`.
pub fn check_compiler_flags_for_internal_link(
    name: &str,
    source: &str,
    list: &[String],
) -> Result<(), String> {
    check_flags(name, source, list, &Rules::compiler(), None)?;
    match list
        .iter()
        .find(|f| f.starts_with("-flto") || *f == "-static" || *f == "--static")
    {
        Some(f) => Err(triggers_external(f)),
        None => Ok(()),
    }
}

/// cmd/go's `checkLinkerFlagsForInternalLink`: `Err` for a flag off the
/// allowlist or one that links statically (the external linker then
/// resolves libc).
pub fn check_linker_flags_for_internal_link(
    name: &str,
    source: &str,
    list: &[String],
) -> Result<(), String> {
    check_flags(name, source, list, &Rules::linker(), None)?;
    const STATIC: &[&str] = &[
        "-static",
        "--static",
        "-Wl,-static",
        "-Wl,--static",
        "-Wl,-Bstatic",
    ];
    match list.iter().find(|f| STATIC.contains(&f.as_str())) {
        Some(f) => Err(triggers_external(f)),
        None => Ok(()),
    }
}

/// cmd/go's `flagsNotCompatibleWithInternalLinking`: whether any list of
/// C/C++/Fortran flags (named by its source, e.g. `CGO_CFLAGS`) fails
/// [`check_compiler_flags_for_internal_link`], so that the package asks the
/// linker to link externally (cmd/go's `preferlinkext` token).
pub fn flags_not_compatible_with_internal_linking(lists: &[(&str, &[String])]) -> bool {
    lists
        .iter()
        .any(|(source, list)| check_compiler_flags_for_internal_link(source, source, list).is_err())
}

fn triggers_external(flag: &str) -> String {
    format!(
        "flag {} triggers external linking",
        crate::load::modfile::go_quote(flag)
    )
}

/// The tables one check uses.
struct Rules<'a> {
    invalid: &'a [Regex],
    valid: &'a [Regex],
    valid_next: &'a [&'a str],
}

impl Rules<'static> {
    fn compiler() -> Rules<'static> {
        Rules {
            invalid: &[],
            valid: &COMPILER.0,
            valid_next: VALID_COMPILER_FLAGS_WITH_NEXT_ARG,
        }
    }

    fn linker() -> Rules<'static> {
        Rules {
            invalid: &LINKER_INVALID.0,
            valid: &LINKER.0,
            valid_next: VALID_LINKER_FLAGS_WITH_NEXT_ARG,
        }
    }
}

/// cmd/go's `checkFlags`, step for step: the user's DISALLOW then ALLOW
/// (only where `env` is given), the invalid patterns, the valid ones
/// (`-Wl,--push-state,a,b` checked word by word), then the flags that take
/// the next word (which must be safe; `-Wl,-framework -Wl,name`; `-I=dir`
/// and `-I $SYSROOT…`).
fn check_flags(
    name: &str,
    source: &str,
    list: &[String],
    rules: &Rules<'_>,
    env: Option<&FlagOverrides>,
) -> Result<(), String> {
    let (allow, disallow) = match env {
        Some(env) => (env.regex(name, "ALLOW")?, env.regex(name, "DISALLOW")?),
        None => (None, None),
    };
    let bad =
        |arg: &str| format!("invalid flag in {source}: {arg} (see https://go.dev/s/invalidflag)");
    let whole = |res: &[Regex], arg: &str| res.iter().any(|re| matches_whole(re, arg));
    let mut i = 0;
    'args: while i < list.len() {
        let arg = list[i].as_str();
        if disallow.as_ref().is_some_and(|re| matches_whole(re, arg)) {
            return Err(bad(arg));
        }
        if allow.as_ref().is_some_and(|re| matches_whole(re, arg)) {
            i += 1;
            continue;
        }
        if whole(rules.invalid, arg) {
            return Err(bad(arg));
        }
        for re in rules.valid {
            if matches_whole(re, arg) {
                i += 1;
                continue 'args;
            }
            // cmd/go looks at --push-state's companions as soon as the
            // first valid pattern fails to match.
            if arg.starts_with("-Wl,--push-state,") {
                for a in arg.split(',').skip(1) {
                    let a = format!("-Wl,{a}");
                    if !whole(rules.valid, &a) || whole(rules.invalid, &a) {
                        return Err(bad(arg));
                    }
                }
                i += 1;
                continue 'args;
            }
        }
        if rules.valid_next.contains(&arg) {
            if let Some(next) = list.get(i + 1) {
                let framework = arg.starts_with("-Wl,")
                    && next
                        .strip_prefix("-Wl,")
                        .is_some_and(|n| safe_arg(n) && !n.contains(','));
                let sysroot = arg == "-I"
                    && (next.starts_with('=') || next.starts_with("$SYSROOT"))
                    && safe_arg(&next[1..]);
                if safe_arg(next) || framework || sysroot {
                    i += 2;
                    continue;
                }
                return Err(format!(
                    "invalid flag in {source}: {arg} {next} (see https://go.dev/s/invalidflag)"
                ));
            }
            return Err(format!(
                "invalid flag in {source}: {arg} without argument (see https://go.dev/s/invalidflag)"
            ));
        }
        return Err(bad(arg));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// cmd/go's security_test.go tables, as data: table name → cases.
    fn go_tables() -> Vec<(String, Vec<Vec<String>>)> {
        let mut tables: Vec<(String, Vec<Vec<String>>)> = Vec::new();
        for line in include_str!("testdata/security_flags.txt").lines() {
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix("table ") {
                tables.push((name.to_string(), Vec::new()));
            } else {
                let case: Vec<String> = serde_json::from_str(line).unwrap();
                tables.last_mut().unwrap().1.push(case);
            }
        }
        tables
    }

    fn table(name: &str) -> Vec<Vec<String>> {
        let t = go_tables().into_iter().find(|(n, _)| n == name);
        t.unwrap_or_else(|| panic!("no table {name}")).1
    }

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    fn none() -> FlagOverrides {
        FlagOverrides::default()
    }

    /// go's TestCheckCompilerFlags and TestCheckLinkerFlags.
    #[test]
    fn go_good_and_bad_flags() {
        let mut n = 0;
        for (good, bad, check) in [
            (
                "goodCompilerFlags",
                "badCompilerFlags",
                check_compiler_flags
                    as fn(&str, &str, &[String], &FlagOverrides) -> Result<(), String>,
            ),
            ("goodLinkerFlags", "badLinkerFlags", check_linker_flags),
        ] {
            for f in table(good) {
                assert_eq!(check("test", "test", &f, &none()), Ok(()), "{f:?}");
                n += 1;
            }
            for f in table(bad) {
                assert!(check("test", "test", &f, &none()).is_err(), "{f:?} passed");
                n += 1;
            }
        }
        assert!(n > 250, "only {n} cases");
    }

    /// go's TestCheckFlagAllowDisallow.
    #[test]
    fn allow_and_disallow() {
        let env = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            FlagOverrides::from_lookup(|k| {
                pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
            })
        };
        let check =
            |e: &FlagOverrides, f: &str| check_compiler_flags("CFLAGS", "test", &words(&[f]), e);
        assert!(check(&none(), "-disallow").is_err());
        assert!(check(&env(&[("CGO_CFLAGS_ALLOW", "-disallo")]), "-disallow").is_err());
        assert_eq!(
            check(&env(&[("CGO_CFLAGS_ALLOW", "-disallow")]), "-disallow"),
            Ok(())
        );
        assert_eq!(check(&none(), "-Wall"), Ok(()));
        assert!(check(&env(&[("CGO_CFLAGS_DISALLOW", "-Wall")]), "-Wall").is_err());
        let both = env(&[
            ("CGO_CFLAGS_DISALLOW", "-Wall"),
            ("CGO_CFLAGS_ALLOW", "-Wall"),
        ]);
        assert!(check(&both, "-Wall").is_err(), "disallow wins");
        let plugin = env(&[
            ("CGO_CFLAGS_ALLOW", "-fplugin.*"),
            ("CGO_CFLAGS_DISALLOW", "-fplugin=lint.so"),
        ]);
        assert_eq!(check(&plugin, "-fplugin=faster.so"), Ok(()));
        assert!(check(&plugin, "-fplugin=lint.so").is_err());
        // The overrides are per kind: CFLAGS' do not open LDFLAGS.
        let ld = check_linker_flags("LDFLAGS", "test", &words(&["-fplugin=faster.so"]), &plugin);
        assert!(ld.is_err());
        // A pattern that does not compile is reported by its variable.
        let e = check(&env(&[("CGO_CFLAGS_ALLOW", "(")]), "-x").unwrap_err();
        assert!(
            e.starts_with("parsing $CGO_CFLAGS_ALLOW: error parsing regexp: "),
            "{e}"
        );
    }

    /// go's TestCheckCompilerFlagsForInternalLink: every bad flag, and of
    /// the good ones exactly those with -flto, need the external linker.
    #[test]
    fn internal_link_compiler_flags() {
        for f in table("badCompilerFlags") {
            assert!(
                check_compiler_flags_for_internal_link("test", "test", &f).is_err(),
                "{f:?}"
            );
        }
        for f in table("goodCompilerFlags") {
            let lto = f.iter().any(|s| s.contains("-flto"));
            let r = check_compiler_flags_for_internal_link("test", "test", &f);
            assert_eq!(r.is_err(), lto, "{f:?}: {r:?}");
        }
        let r = check_compiler_flags_for_internal_link(
            "CGO_CFLAGS",
            "CGO_CFLAGS",
            &words(&["--static"]),
        );
        assert_eq!(
            r,
            Err(r#"flag "--static" triggers external linking"#.to_string())
        );
        // Off the allowlist first: -static is no compiler flag of its.
        let r = check_compiler_flags_for_internal_link(
            "CGO_CFLAGS",
            "CGO_CFLAGS",
            &words(&["-static"]),
        );
        let url = "(see https://go.dev/s/invalidflag)";
        assert_eq!(r, Err(format!("invalid flag in CGO_CFLAGS: -static {url}")));
        let (plain, lto) = (words(&["-O2", "-g"]), words(&["-O2", "-flto=auto"]));
        assert!(!flags_not_compatible_with_internal_linking(&[
            ("CGO_CFLAGS", &plain),
            ("CGO_CXXFLAGS", &[])
        ]));
        assert!(flags_not_compatible_with_internal_linking(&[
            ("CGO_CFLAGS", &plain),
            ("CGO_FFLAGS", &lto)
        ]));
        for f in [
            "-static",
            "--static",
            "-Wl,-static",
            "-Wl,--static",
            "-Wl,-Bstatic",
        ] {
            let r =
                check_linker_flags_for_internal_link("CGO_LDFLAGS", "CGO_LDFLAGS", &words(&[f]));
            assert_eq!(r, Err(format!("flag \"{f}\" triggers external linking")));
        }
        assert_eq!(
            check_linker_flags_for_internal_link("CGO_LDFLAGS", "CGO_LDFLAGS", &words(&["-lm"])),
            Ok(())
        );
    }

    /// go's error words, which name the source and the flag (and its value).
    #[test]
    fn messages_as_go() {
        let cf = |f: &[&str]| check_compiler_flags("CFLAGS", "#cgo CFLAGS", &words(f), &none());
        let url = "(see https://go.dev/s/invalidflag)";
        assert_eq!(
            cf(&["-fplugin=foo"]),
            Err(format!("invalid flag in #cgo CFLAGS: -fplugin=foo {url}"))
        );
        assert_eq!(
            cf(&["-I", "@foo"]),
            Err(format!("invalid flag in #cgo CFLAGS: -I @foo {url}"))
        );
        assert_eq!(
            cf(&["-I"]),
            Err(format!(
                "invalid flag in #cgo CFLAGS: -I without argument {url}"
            ))
        );
        assert_eq!(cf(&["-I", "=/usr/include"]), Ok(()));
        assert_eq!(cf(&["-I", "$SYSROOT/include"]), Ok(()));
        // Go's FindString cannot tell no match from an empty one.
        assert_eq!(cf(&[""]), Ok(()));
        let lf = |f: &[&str]| check_linker_flags("LDFLAGS", "#cgo LDFLAGS", &words(f), &none());
        assert!(lf(&[""]).is_err());
        assert_eq!(lf(&["-Wl,-framework", "-Wl,Cocoa"]), Ok(()));
        assert_eq!(
            lf(&["-Wl,--push-state,--as-needed,-lm"]),
            Err(format!(
                "invalid flag in #cgo LDFLAGS: -Wl,--push-state,--as-needed,-lm {url}"
            ))
        );
        assert_eq!(lf(&["-Wl,--push-state,--as-needed"]), Ok(()));
        assert_eq!(
            lf(&["-lto_library"]),
            Err(format!("invalid flag in #cgo LDFLAGS: -lto_library {url}"))
        );
        let pc = |f: &[&str]| check_pkg_config_flags("pkg-config", &words(f));
        assert_eq!(pc(&["--static", "--define-variable=prefix=/usr"]), Ok(()));
        assert_eq!(
            pc(&["--foo"]),
            Err(format!("invalid flag in pkg-config: --foo {url}"))
        );
        assert!(
            safe_arg("libfoo")
                && safe_arg("/x")
                && safe_arg("é")
                && !safe_arg("-x")
                && !safe_arg("@f")
                && !safe_arg("")
        );
    }
}
