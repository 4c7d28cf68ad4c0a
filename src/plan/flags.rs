//! Per-package tool flags: `-gcflags`, `-asmflags`, `-ldflags` with cmd/go's `[pattern=]args` form.
//!
//! Each occurrence adds a (pattern, args) value; a package gets the args of the
//! last value whose pattern matches it. No pattern means "the packages named on
//! the command line"; `all`, `std`, `cmd`, import-path patterns (`x/...`) and
//! directory patterns (`./...`) select others.

use std::path::{Path, PathBuf};

use crate::load::Package;

/// Which packages a value applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Matcher {
    Cmdline,
    All,
    Std,
    Cmd,
    ImportPath(String),
    Dir { dir: PathBuf, tree: bool },
}

impl Matcher {
    /// A `pattern=` of a per-package flag (cmd/go's `MatchPackage`); `cwd`
    /// anchors `./` patterns.
    fn parse(pat: &str, cwd: &Path) -> Matcher {
        match pat {
            "all" => Matcher::All,
            "std" => Matcher::Std,
            "cmd" => Matcher::Cmd,
            p if p == "." || p.starts_with("./") || p.starts_with("../") || p.starts_with('/') => {
                let tree = p.ends_with("/...");
                let d = p.trim_end_matches("/...");
                Matcher::Dir {
                    dir: crate::load::modules::clean_path(&cwd.join(d)),
                    tree,
                }
            }
            p => Matcher::ImportPath(p.to_string()),
        }
    }

    /// Whether `p` (import path `path`, without a variant suffix) matches.
    fn matches(&self, p: &Package, path: &str) -> bool {
        match self {
            Matcher::Cmdline => p.cmdline,
            Matcher::All => true,
            Matcher::Std => p.standard && !path.starts_with("cmd/") && path != "cmd",
            Matcher::Cmd => p.standard && (path == "cmd" || path.starts_with("cmd/")),
            Matcher::ImportPath(pat) => crate::load::patterns::match_pattern(pat, path),
            Matcher::Dir { dir, tree } => {
                if *tree {
                    p.dir.starts_with(dir)
                } else {
                    p.dir == *dir
                }
            }
        }
    }
}

/// A package pattern as `-coverpkg` takes it (cmd/go's `MatchPackage`, the
/// rule `-gcflags`'s `pattern=` follows too).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackagePattern(Matcher);

impl PackagePattern {
    /// The pattern `pat`; `cwd` anchors `./` patterns.
    pub fn new(pat: &str, cwd: &Path) -> PackagePattern {
        PackagePattern(Matcher::parse(pat, cwd))
    }

    /// Whether package `p` matches.
    pub fn matches(&self, p: &Package) -> bool {
        let path = p.import_path.split(" [").next().unwrap_or(&p.import_path);
        self.0.matches(p, path)
    }
}

/// One flag's values, in command-line order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PerPackageFlag {
    /// The text of the last occurrence (recorded in build info, as cmd/go does).
    pub raw: Option<String>,
    values: Vec<(Matcher, Vec<String>)>,
}

/// A malformed flag value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FlagError {
    /// `pattern` without `=value`.
    #[error("missing =<value> in <pattern>=<value>")]
    MissingValue,
    /// `=value` without a pattern.
    #[error("missing <pattern> in <pattern>=<value>")]
    MissingPattern,
    /// A value starting with a quote.
    #[error("parameter may not start with quote character {0}")]
    Quote(char),
    /// Unbalanced quotes.
    #[error("unterminated {0} string")]
    Unterminated(char),
}

/// Splits like cmd/internal/quoted.Split: fields are separated by spaces, tabs
/// and newlines; a field that starts with `'` or `"` runs to the next same quote
/// (no unescaping), and the field ends there. A quote further inside a field is
/// an ordinary character (`-X=main.v='a b'` is the two fields `-X=main.v='a`
/// and `b'`, as go build sees it).
pub fn split_quoted(v: &str) -> Result<Vec<String>, FlagError> {
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let mut out = Vec::new();
    let mut s = v.as_bytes();
    loop {
        while let Some((&b, rest)) = s.split_first() {
            if !is_space(b) {
                break;
            }
            s = rest;
        }
        let Some(&first) = s.first() else {
            break;
        };
        if first == b'\'' || first == b'"' {
            let body = &s[1..];
            let end = body
                .iter()
                .position(|&b| b == first)
                .ok_or(FlagError::Unterminated(first as char))?;
            out.push(String::from_utf8_lossy(&body[..end]).into_owned());
            s = &body[end + 1..];
            continue;
        }
        let end = s.iter().position(|&b| is_space(b)).unwrap_or(s.len());
        out.push(String::from_utf8_lossy(&s[..end]).into_owned());
        s = &s[end..];
    }
    Ok(out)
}

/// Joins words as cmd/internal/quoted.Join does, so that [`split_quoted`]
/// gives them back: a word with a space or a quote is put in the quote it
/// does not contain; `Err` names a word that contains both.
pub fn join_quoted(words: &[String]) -> Result<String, String> {
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let space = w.bytes().any(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
        let (single, double) = (w.contains('\''), w.contains('"'));
        match (space || single || double, single, double) {
            (false, _, _) => out.push_str(w),
            (true, false, _) => out.push_str(&format!("'{w}'")),
            (true, true, false) => out.push_str(&format!("\"{w}\"")),
            (true, true, true) => {
                return Err(format!(
                    "argument {} contains both single and double quotes and cannot be quoted",
                    crate::load::modfile::go_quote(w)
                ))
            }
        }
    }
    Ok(out)
}

impl PerPackageFlag {
    /// Adds one occurrence (`-gcflags=all=-N -l`, `-ldflags=-s`); `cwd` anchors `./` patterns.
    pub fn add(&mut self, value: &str, cwd: &Path) -> Result<(), FlagError> {
        self.raw = Some(value.to_string());
        let v = value.trim();
        let (matcher, rest) = if v.is_empty() || v.starts_with('-') {
            (Matcher::Cmdline, v)
        } else {
            let i = v.find('=').ok_or(FlagError::MissingValue)?;
            if i == 0 {
                return Err(FlagError::MissingPattern);
            }
            if let Some(q) = v.chars().next().filter(|c| *c == '\'' || *c == '"') {
                return Err(FlagError::Quote(q));
            }
            (Matcher::parse(v[..i].trim(), cwd), &v[i + 1..])
        };
        self.values.push((matcher, split_quoted(rest)?));
        Ok(())
    }

    /// Whether any occurrence was given.
    pub fn present(&self) -> bool {
        self.raw.is_some()
    }

    /// The args for package `p`: those of the last value whose pattern matches.
    pub fn for_package(&self, p: &Package) -> Vec<String> {
        let path = p.import_path.split(" [").next().unwrap_or(&p.import_path);
        let mut flags = Vec::new();
        for (m, v) in &self.values {
            if m.matches(p, path) {
                flags = v.clone();
            }
        }
        flags
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn join_quoted_round_trips_as_go() {
        let w = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(join_quoted(&w(&["zig", "cc"])).unwrap(), "zig cc");
        assert_eq!(join_quoted(&w(&["/a b/cc", "-x"])).unwrap(), "'/a b/cc' -x");
        assert_eq!(join_quoted(&w(&["it's"])).unwrap(), "\"it's\"");
        for v in [w(&["/a b/cc", "-x"]), w(&["it's", "a\tb"])] {
            assert_eq!(split_quoted(&join_quoted(&v).unwrap()).unwrap(), v);
        }
        assert!(join_quoted(&w(&["'\""]))
            .unwrap_err()
            .contains("both single and double"));
    }

    use super::*;

    #[test]
    fn parses_like_cmd_go() {
        assert_eq!(
            split_quoted("-X 'main.v=a b' -s").unwrap(),
            ["-X", "main.v=a b", "-s"]
        );
        assert_eq!(split_quoted("  ").unwrap(), Vec::<String>::new());
        // Quotes count only at the start of a field, and a quoted field ends at
        // its closing quote (cmd/internal/quoted.Split).
        assert_eq!(
            split_quoted("-X=main.v='a b' -d=\"x\"").unwrap(),
            ["-X=main.v='a", "b'", "-d=\"x\""]
        );
        assert_eq!(split_quoted("'a'b \"\"\t").unwrap(), ["a", "b", ""]);
        assert_eq!(split_quoted("\"it's\"").unwrap(), ["it's"]);
        assert_eq!(
            split_quoted("'x").unwrap_err(),
            FlagError::Unterminated('\'')
        );
        let mut f = PerPackageFlag::default();
        assert_eq!(
            f.add("all", Path::new("/")).unwrap_err(),
            FlagError::MissingValue
        );
        assert_eq!(
            f.add("=-N", Path::new("/")).unwrap_err(),
            FlagError::MissingPattern
        );
        f.add("all=-N -l", Path::new("/")).unwrap();
        f.add("fmt=-m", Path::new("/")).unwrap();
        assert_eq!(f.raw.as_deref(), Some("fmt=-m"));
    }
}
