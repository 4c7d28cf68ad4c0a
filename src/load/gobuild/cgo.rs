//! `#cgo` directives in the preamble of `import "C"`, as go/build's `saveCgo` reads them.
//!
//! A directive is a line `#cgo [CONSTRAINT...] VERB: ARGS` of the comment
//! just before `import "C"` (the text go/ast gives it). Each constraint is a
//! `// +build` term or, when it holds `&|()`, a `//go:build` expression; the
//! directive counts when any of them holds for the build context. ARGS are
//! split with go's `splitQuoted`, each must be a safe argument after
//! `${SRCDIR}` becomes the package directory, and relative `-I`/`-L` paths
//! are made absolute (go/build's `makePathsAbsolute`). Both steps depend on
//! the package's *host* directory, so the words as written are kept too
//! ([`CgoFlags::in_dir`] redoes them for another directory).

use std::fmt;

use super::constraint;
use super::context::BuildContext;

/// The flags of a package's `#cgo` directives, one list per verb, each in
/// the order of the files and of their directives (go/build's order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgoFlags {
    /// `#cgo CFLAGS:` (go list's `CgoCFLAGS`).
    pub cflags: Vec<String>,
    /// `#cgo CPPFLAGS:` (`CgoCPPFLAGS`).
    pub cppflags: Vec<String>,
    /// `#cgo CXXFLAGS:` (`CgoCXXFLAGS`).
    pub cxxflags: Vec<String>,
    /// `#cgo FFLAGS:` (`CgoFFLAGS`).
    pub fflags: Vec<String>,
    /// `#cgo LDFLAGS:` (`CgoLDFLAGS`).
    pub ldflags: Vec<String>,
    /// `#cgo pkg-config:` (`CgoPkgConfig`).
    pub pkg_config: Vec<String>,
}

/// A verb of a `#cgo` directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgoVerb {
    /// `CFLAGS`.
    CFlags,
    /// `CPPFLAGS`.
    CppFlags,
    /// `CXXFLAGS`.
    CxxFlags,
    /// `FFLAGS`.
    FFlags,
    /// `LDFLAGS`.
    LdFlags,
    /// `pkg-config`.
    PkgConfig,
}

impl CgoVerb {
    fn parse(s: &str) -> Option<CgoVerb> {
        Some(match s {
            "CFLAGS" => CgoVerb::CFlags,
            "CPPFLAGS" => CgoVerb::CppFlags,
            "CXXFLAGS" => CgoVerb::CxxFlags,
            "FFLAGS" => CgoVerb::FFlags,
            "LDFLAGS" => CgoVerb::LdFlags,
            "pkg-config" => CgoVerb::PkgConfig,
            _ => return None,
        })
    }
}

impl CgoFlags {
    /// The list of one verb.
    pub fn list(&self, verb: CgoVerb) -> &[String] {
        match verb {
            CgoVerb::CFlags => &self.cflags,
            CgoVerb::CppFlags => &self.cppflags,
            CgoVerb::CxxFlags => &self.cxxflags,
            CgoVerb::FFlags => &self.fflags,
            CgoVerb::LdFlags => &self.ldflags,
            CgoVerb::PkgConfig => &self.pkg_config,
        }
    }

    fn list_mut(&mut self, verb: CgoVerb) -> &mut Vec<String> {
        match verb {
            CgoVerb::CFlags => &mut self.cflags,
            CgoVerb::CppFlags => &mut self.cppflags,
            CgoVerb::CxxFlags => &mut self.cxxflags,
            CgoVerb::FFlags => &mut self.fflags,
            CgoVerb::LdFlags => &mut self.ldflags,
            CgoVerb::PkgConfig => &mut self.pkg_config,
        }
    }

    /// Whether no directive gave a flag.
    pub fn is_empty(&self) -> bool {
        ALL_VERBS.iter().all(|&v| self.list(v).is_empty())
    }

    /// The words as written (`raw`, a [`DirPackage::cgo_written`]) as they
    /// read for the package directory `dir`: `${SRCDIR}` expanded, relative
    /// `-I`/`-L` paths joined to `dir`. With the package's host directory
    /// this is [`DirPackage::cgo`]; the planner calls it with the directory
    /// the tools see. `Err` holds the first argument that is not safe
    /// (expanded).
    ///
    /// [`DirPackage::cgo_written`]: super::DirPackage::cgo_written
    /// [`DirPackage::cgo`]: super::DirPackage::cgo
    pub fn in_dir(&self, dir: &str) -> Result<CgoFlags, String> {
        let mut out = CgoFlags::default();
        for &verb in ALL_VERBS {
            out.list_mut(verb)
                .extend(args_in_dir(verb, self.list(verb).to_vec(), dir)?);
        }
        Ok(out)
    }
}

const ALL_VERBS: &[CgoVerb] = &[
    CgoVerb::CFlags,
    CgoVerb::CppFlags,
    CgoVerb::CxxFlags,
    CgoVerb::FFlags,
    CgoVerb::LdFlags,
    CgoVerb::PkgConfig,
];

/// A bad `#cgo` line. `Display` is go/build's text; `file` is the path
/// go/build names (the full path, or the base name for the module index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgoError {
    /// No colon, no verb, or unbalanced quotes.
    InvalidLine {
        /// The file.
        file: String,
        /// The line as go/build shows it.
        line: String,
    },
    /// A word that is not safe for a command line (after `${SRCDIR}`).
    MalformedArg {
        /// The file.
        file: String,
        /// The word, `${SRCDIR}` expanded.
        arg: String,
    },
    /// A verb other than the six go knows.
    InvalidVerb {
        /// The file.
        file: String,
        /// The line as go/build shows it.
        line: String,
    },
}

impl fmt::Display for CgoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CgoError::InvalidLine { file, line } => write!(f, "{file}: invalid #cgo line: {line}"),
            CgoError::MalformedArg { file, arg } => {
                write!(f, "{file}: malformed #cgo argument: {arg}")
            }
            CgoError::InvalidVerb { file, line } => write!(f, "{file}: invalid #cgo verb: {line}"),
        }
    }
}

impl std::error::Error for CgoError {}

/// Reads the `#cgo` directives of one preamble (`text`, go/ast's comment
/// text) into `written` (the words as split) and `flags` (as go lists them,
/// for the package directory `dir`), as go/build's `saveCgo`. `file` names
/// the file in errors. `trimmed_lines` is the module index's quirk: it
/// keeps only the directive lines, trimmed, so an error shows the line
/// trimmed. `#cgo nocallback`/`noescape` lines are cgo's, not go/build's.
pub fn save_cgo(
    ctx: &BuildContext,
    file: &str,
    dir: &str,
    text: &str,
    trimmed_lines: bool,
    written: &mut CgoFlags,
    flags: &mut CgoFlags,
) -> Result<(), CgoError> {
    for orig in text.split('\n') {
        let line = orig.trim();
        let b = line.as_bytes();
        if b.len() < 5 || &b[..4] != b"#cgo" || (b[4] != b' ' && b[4] != b'\t') {
            continue;
        }
        let shown = if trimmed_lines { line } else { orig };
        let invalid = || CgoError::InvalidLine {
            file: file.to_string(),
            line: shown.to_string(),
        };
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() == 3 && (fields[1] == "nocallback" || fields[1] == "noescape") {
            continue;
        }
        let Some((head, argstr)) = line[4..].trim().split_once(':') else {
            return Err(invalid());
        };
        let f: Vec<&str> = head.split_whitespace().collect();
        let Some((verb, cond)) = f.split_last() else {
            return Err(invalid());
        };
        if !cond.is_empty() && !cond.iter().any(|c| match_auto(ctx, c)) {
            continue;
        }
        let words = split_quoted(argstr).ok_or_else(invalid)?;
        // go/build expands before it looks at the verb: a bad argument is
        // reported even under an unknown verb.
        let Some(verb) = CgoVerb::parse(verb) else {
            args_in_dir(CgoVerb::PkgConfig, words, dir).map_err(|arg| CgoError::MalformedArg {
                file: file.to_string(),
                arg,
            })?;
            return Err(CgoError::InvalidVerb {
                file: file.to_string(),
                line: shown.to_string(),
            });
        };
        let args = args_in_dir(verb, words.clone(), dir).map_err(|arg| CgoError::MalformedArg {
            file: file.to_string(),
            arg,
        })?;
        written.list_mut(verb).extend(words);
        flags.list_mut(verb).extend(args);
    }
    Ok(())
}

/// go/build's `matchAuto`: `text` as a `//go:build` expression when it holds
/// one of `&|()`, else as a `// +build` line; a parse error is no match.
fn match_auto(ctx: &BuildContext, text: &str) -> bool {
    let line = if text.contains(['&', '|', '(', ')']) {
        format!("//go:build {text}")
    } else {
        format!("// +build {text}")
    };
    constraint::parse(&line).is_ok_and(|x| ctx.eval(&x))
}

/// The words of one directive for directory `dir`: `${SRCDIR}` expanded and
/// checked, then (for the flag verbs) relative `-I`/`-L` paths made
/// absolute. `Err` is the first unsafe word, expanded.
fn args_in_dir(verb: CgoVerb, mut args: Vec<String>, dir: &str) -> Result<Vec<String>, String> {
    for a in args.iter_mut() {
        let (expanded, ok) = expand_src_dir(a, dir);
        if !ok {
            return Err(expanded);
        }
        *a = expanded;
    }
    if verb != CgoVerb::PkgConfig {
        make_paths_absolute(&mut args, dir);
    }
    Ok(args)
}

/// go/build's `makePathsAbsolute`: `-I`/`-L` paths, joined or as the next
/// word, that are relative become `dir`-joined and cleaned.
fn make_paths_absolute(args: &mut [String], dir: &str) {
    let join = |p: &str| super::dir::clean_slash_path(&format!("{dir}/{p}"));
    let mut next_path = false;
    for a in args.iter_mut() {
        if next_path {
            if !a.starts_with('/') {
                *a = join(a);
            }
            next_path = false;
        } else if a.starts_with("-I") || a.starts_with("-L") {
            if a.len() == 2 {
                next_path = true;
            } else if !a[2..].starts_with('/') {
                *a = format!("{}{}", &a[..2], join(&a[2..]));
            }
        }
    }
}

/// go/build's `safeString`: the ASCII bytes a `#cgo` argument may hold
/// (bytes of non-ASCII characters are all allowed).
const SAFE_CGO_BYTES: &str =
    "+-.,/0123456789=ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz:$@%! ~^";

/// go/build's `safeCgoName`.
fn safe_cgo_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c >= 0x80 || SAFE_CGO_BYTES.as_bytes().contains(&c))
}

/// go/build's `expandSrcDir`: every `${SRCDIR}` replaced by `srcdir`, and
/// whether the result is safe (each piece and `srcdir` safe, non-empty).
pub fn expand_src_dir(s: &str, srcdir: &str) -> (String, bool) {
    let chunks: Vec<&str> = s.split("${SRCDIR}").collect();
    if chunks.len() < 2 {
        return (s.to_string(), safe_cgo_name(s));
    }
    let ok = chunks.iter().all(|c| c.is_empty() || safe_cgo_name(c))
        && (srcdir.is_empty() || safe_cgo_name(srcdir));
    let res = chunks.join(srcdir);
    let ok = ok && !res.is_empty();
    (res, ok)
}

/// go/build's `splitQuoted`: words split at white space, `'`/`"` quoting
/// (quotes removed), `\` escaping the next character. `None` for an
/// unclosed quote or a trailing `\`.
pub fn split_quoted(s: &str) -> Option<Vec<String>> {
    let mut args = Vec::new();
    let mut arg = String::new();
    let (mut escaped, mut quoted) = (false, false);
    let mut quote: Option<char> = None;
    for c in s.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
            continue;
        } else if let Some(q) = quote {
            if c == q {
                quote = None;
                continue;
            }
        } else if c == '"' || c == '\'' {
            quoted = true;
            quote = Some(c);
            continue;
        } else if c.is_whitespace() {
            if quoted || !arg.is_empty() {
                quoted = false;
                args.push(std::mem::take(&mut arg));
            }
            continue;
        }
        arg.push(c);
    }
    if quoted || !arg.is_empty() {
        args.push(arg);
    }
    (quote.is_none() && !escaped).then_some(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::gobuild::context::TargetConfig;

    fn ctx(goos: &str, cgo: bool) -> BuildContext {
        let mut t = TargetConfig::new(goos, "amd64");
        t.cgo_enabled = cgo;
        BuildContext::new(&t).unwrap()
    }

    fn save(c: &BuildContext, text: &str) -> Result<(CgoFlags, CgoFlags), CgoError> {
        let (mut w, mut f) = (CgoFlags::default(), CgoFlags::default());
        save_cgo(c, "/p/a.go", "/p", text, false, &mut w, &mut f)?;
        Ok((w, f))
    }

    /// go/build's own splitQuoted examples (build_test.go), as data.
    #[test]
    fn split_quoted_as_go() {
        let ok = |s: &str, want: &[&str]| assert_eq!(split_quoted(s).unwrap(), want, "{s:?}");
        ok(r#"a b:"c d" 'e''f'  "g\"""#, &["a", "b:c d", "ef", r#"g""#]);
        ok("  ", &[]);
        ok("''", &[""]);
        ok(r"a\ b", &["a b"]);
        ok("\t-I x\n", &["-I", "x"]);
        assert_eq!(split_quoted("'a"), None);
        assert_eq!(split_quoted(r"a\"), None);
    }

    /// go/build's TestExpandSrcDir and TestShellSafety tables (build_test.go), as data.
    #[test]
    fn expand_src_dir_as_go() {
        let add = "/projects/src/add";
        for (input, want) in [
            ("-L ${SRCDIR}/libs -ladd", "-L /projects/src/add/libs -ladd"),
            (
                "${SRCDIR}/add_linux_386.a -pthread -lstdc++",
                "/projects/src/add/add_linux_386.a -pthread -lstdc++",
            ),
            ("Nothing to expand here!", "Nothing to expand here!"),
            ("$", "$"),
            ("$$", "$$"),
            ("${", "${"),
            ("$}", "$}"),
            ("$FOO ${BAR}", "$FOO ${BAR}"),
            ("Find me the $SRCDIRECTORY.", "Find me the $SRCDIRECTORY."),
            ("$SRCDIR is missing braces", "$SRCDIR is missing braces"),
        ] {
            assert_eq!(expand_src_dir(input, add).0, want, "{input:?}");
        }
        let issue = "/projects/src/issue 11868";
        for (input, dir, want, ok) in [
            (
                "-I${SRCDIR}/../include",
                issue,
                "-I/projects/src/issue 11868/../include",
                true,
            ),
            ("-I${SRCDIR}", "~wtf$@%^", "-I~wtf$@%^", true),
            (
                "-X${SRCDIR}/1,${SRCDIR}/2",
                issue,
                "-X/projects/src/issue 11868/1,/projects/src/issue 11868/2",
                true,
            ),
            ("-I/tmp -I/tmp", "/tmp2", "-I/tmp -I/tmp", true),
            ("-I/tmp", "/tmp/[0]", "-I/tmp", true),
            ("-I${SRCDIR}/dir", "/tmp/[0]", "-I/tmp/[0]/dir", false),
            ("-I${SRCDIR}/dir", "/tmp/go go", "-I/tmp/go go/dir", true),
            ("-I${SRCDIR}/dir dir", "/tmp/go", "-I/tmp/go/dir dir", true),
        ] {
            assert_eq!(
                expand_src_dir(input, dir),
                (want.to_string(), ok),
                "{input:?} in {dir:?}"
            );
        }
        assert_eq!(expand_src_dir("${SRCDIR}", ""), (String::new(), false));
    }

    #[test]
    fn directives_constraints_and_paths() {
        let text = "#include <stdio.h>\n#cgo CFLAGS: -I${SRCDIR}/inc -Iinc -I rel -DX=\"1 2\"\n\
                    #cgo linux LDFLAGS: -lm -Llib\n#cgo windows LDFLAGS: -lws2_32\n\
                    #cgo !windows,amd64 CPPFLAGS: -DA\n#cgo linux&&!cgo CXXFLAGS: -DB\n\
                    #cgo windows && cgo CXXFLAGS: -DD\n#cgo (linux||darwin)&&cgo CXXFLAGS: -DE\n\
                    #cgo darwin linux FFLAGS: -O2\n#cgo pkg-config: --static ${SRCDIR}/x\n\
                    #cgo noescape f\n  #cgo\tcgo CXXFLAGS: -DC\n#cgox CFLAGS: -bad\n";
        let (w, f) = save(&ctx("linux", true), text).unwrap();
        assert_eq!(
            f.cflags,
            ["-I/p/inc", "-I/p/inc", "-I", "/p/rel", "-DX=1 2"]
        );
        assert_eq!(
            w.cflags,
            ["-I${SRCDIR}/inc", "-Iinc", "-I", "rel", "-DX=1 2"]
        );
        assert_eq!(f.ldflags, ["-lm", "-L/p/lib"]);
        assert_eq!(f.cppflags, ["-DA"]);
        // Constraints are the words before the verb, any one may hold: `&&`
        // counts as a word of its own unless written without spaces.
        assert_eq!(f.cxxflags, ["-DD", "-DE", "-DC"]);
        assert_eq!(f.fflags, ["-O2"]);
        assert_eq!(f.pkg_config, ["--static", "/p/x"]);
        assert_eq!(w.in_dir("/p").unwrap(), f);
        assert_eq!(w.in_dir("/inside").unwrap().cflags[0], "-I/inside/inc");
        // cgo off: the `cgo` tag is false, the rest is read all the same.
        let (_, f) = save(&ctx("windows", false), text).unwrap();
        assert_eq!(f.ldflags, ["-lws2_32"]);
        assert!(f.cppflags.is_empty() && f.fflags.is_empty());
        assert_eq!(f.cxxflags, ["-DD"]);
    }

    #[test]
    fn errors_in_go_words() {
        let c = ctx("linux", true);
        let err = |t: &str| save(&c, t).unwrap_err().to_string();
        assert_eq!(
            err(" #cgo CFLAGS -x"),
            "/p/a.go: invalid #cgo line:  #cgo CFLAGS -x"
        );
        assert_eq!(err("#cgo : -x"), "/p/a.go: invalid #cgo line: #cgo : -x");
        assert_eq!(
            err("#cgo CFLAGS: 'x"),
            "/p/a.go: invalid #cgo line: #cgo CFLAGS: 'x"
        );
        assert_eq!(
            err("#cgo CFLAGS: -I;x"),
            "/p/a.go: malformed #cgo argument: -I;x"
        );
        assert_eq!(err("#cgo CFLAGS: ''"), "/p/a.go: malformed #cgo argument: ");
        assert_eq!(
            err("#cgo LFLAGS: -lm"),
            "/p/a.go: invalid #cgo verb: #cgo LFLAGS: -lm"
        );
        assert_eq!(
            err("#cgo LFLAGS: -l&m"),
            "/p/a.go: malformed #cgo argument: -l&m"
        );
        // Excluded directives are not parsed further.
        assert!(save(&c, "#cgo windows LFLAGS: 'x").is_ok());
        let (mut w, mut f) = (CgoFlags::default(), CgoFlags::default());
        let e = save_cgo(&c, "a.go", "/p", "  #cgo X", true, &mut w, &mut f).unwrap_err();
        assert_eq!(e.to_string(), "a.go: invalid #cgo line: #cgo X");
    }
}
