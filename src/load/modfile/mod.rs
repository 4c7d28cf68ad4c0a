//! Parsers for go.mod, go.work, vendor/modules.txt and go.sum, plus Go's module path/version rules.
//!
//! The go.mod/go.work lexer and the directive semantics follow
//! `golang.org/x/mod/modfile` (read.go, rule.go, work.go); path checks, semver and
//! cache-path escaping follow `golang.org/x/mod/module` and `golang.org/x/mod/semver`.
//! Error messages use the same wording as the `go` command.
//!
//! Files, by what they read or check:
//! - `syntax`: the go.mod/go.work tokenizer and its line/block statements (read.go);
//! - `gomod`: go.mod directives (rule.go), including the argument parsing go.work shares;
//! - `gowork`: go.work directives (work.go);
//! - `modules_txt`: vendor/modules.txt (modload/vendor.go);
//! - `gosum`: go.sum (modfetch/fetch.go);
//! - `semver`: `golang.org/x/mod/semver` and `module.CanonicalVersion`;
//! - `modpath`: module, import and file path checks and major-version suffixes;
//! - `escape`: `$GOMODCACHE` path escaping and the cache layout;
//! - `quote`: Go's `strconv` quoting (`%q` in messages) and unquoting.
//!
//! This file holds the error types they share; every public item is re-exported here.

use std::fmt;
use std::path::PathBuf;

mod escape;
mod gomod;
mod gosum;
mod gowork;
mod modpath;
mod modules_txt;
#[cfg(test)]
mod oracle;
mod quote;
mod semver;
mod syntax;

pub use escape::{
    download_cache_file, escape_module_path, escape_version, module_cache_dir,
    unescape_module_path, unescape_version,
};
pub use gomod::{
    is_directory_path, parse_go_mod, parse_go_mod_lax, parse_go_mod_with, ModFile, ModVersion,
    ModulePath, ParseMode, Replace, ReplaceTarget, Require, Retract,
};
pub use gosum::{parse_go_sum, GoSum};
pub use gowork::{parse_go_work, UseDir, WorkFile};
pub use modpath::{
    check_file_path, check_import_path, check_module_path, check_path_major, split_path_version,
};
pub use modules_txt::{parse_modules_txt, VendorList, VendorModule};
pub use quote::go_quote;
pub use semver::{canonical_version, is_valid_semver, semver_major};

use quote::quote_rune;

/// A position in a go.mod/go.work file: 1-based line, 1-based rune column, 0-based byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line number, starting at 1.
    pub line: usize,
    /// Column in runes, starting at 1.
    pub col: usize,
    /// Byte offset, starting at 0.
    pub byte: usize,
}

/// What went wrong in one diagnostic of a go.mod/go.work/go.sum file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModFileErrorKind {
    /// `/* */` comments are not allowed.
    #[error("mod files must use // comments (not /* */ comments)")]
    BlockComment,
    /// A quoted string ran into the end of the file.
    #[error("unexpected EOF in string")]
    EofInString,
    /// A quoted string ran into a newline.
    #[error("unexpected newline in string")]
    NewlineInString,
    /// A character that cannot start a token.
    #[error("unexpected input character {}", quote_rune(*.0))]
    UnexpectedChar(char),
    /// `xxx (` without a matching `)`.
    #[error("syntax error (unterminated block started at {file}:{line}:{col})")]
    UnterminatedBlock {
        /// File name as given to the parser.
        file: String,
        /// Line of the block start.
        line: usize,
        /// Column of the block start.
        col: usize,
    },
    /// Something follows `)` on the same line.
    #[error("syntax error (expected newline after closing paren)")]
    ExpectedNewlineAfterParen,
    /// Unknown directive verb.
    #[error("unknown directive: {0}")]
    UnknownDirective(String),
    /// Unknown block verb (or a block with several header tokens).
    #[error("unknown block type: {0}")]
    UnknownBlockType(String),
    /// A directive that may appear only once appeared again (`go`, `toolchain`, `module`).
    #[error("repeated {0} statement")]
    Repeated(&'static str),
    /// Wrong number or shape of arguments; the text is go's usage message.
    #[error("{0}")]
    Usage(String),
    /// `go` directive version does not match `1.23.0`-style syntax.
    #[error("invalid go version '{0}': must match format 1.23.0")]
    InvalidGoVersion(String),
    /// `toolchain` directive does not match `go1.x` or `default`.
    #[error("invalid toolchain version '{0}': must match format go1.23.0 or default")]
    InvalidToolchain(String),
    /// A quoted string failed to unquote (or an unquoted one contains a quote).
    #[error("invalid quoted string: {0}")]
    InvalidQuotedString(String),
    /// A version is not valid (`version "x" invalid: reason`).
    #[error("version {} invalid: {reason}", go_quote(.version))]
    InvalidVersion {
        /// The version as written.
        version: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The module path of a require/exclude/replace is malformed.
    #[error("invalid module path")]
    InvalidModulePath,
    /// Problems with retract intervals and replacement targets (message as in go).
    #[error("{0}")]
    Semantic(String),
    /// go.sum line without exactly three fields.
    #[error("wrong number of fields {0}")]
    GoSumFields(usize),
}

/// One diagnostic, formatted like go: `file:line:col: [verb path: ]message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModFileDiag {
    /// The file path given to the parser.
    pub file: PathBuf,
    /// Position, if known (`col` is omitted from the message when it is 1, like go).
    pub pos: Option<Pos>,
    /// Directive verb, when go names it (`require`, `replace`, ...).
    pub verb: Option<String>,
    /// Module path, when go names it.
    pub mod_path: Option<String>,
    /// The error itself.
    pub kind: ModFileErrorKind,
}

impl fmt::Display for ModFileDiag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.file.display();
        match self.pos {
            Some(p) if p.col > 1 => write!(f, "{name}:{}:{}: ", p.line, p.col)?,
            Some(p) if p.line > 0 => write!(f, "{name}:{}: ", p.line)?,
            _ if !self.file.as_os_str().is_empty() => write!(f, "{name}: ")?,
            _ => {}
        }
        match (&self.verb, &self.mod_path) {
            (Some(v), Some(m)) => write!(f, "{v} {m}: ")?,
            (Some(v), None) => write!(f, "{v}: ")?,
            _ => {}
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for ModFileDiag {}

/// All diagnostics of one parse (go reports every semantic error, one per line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", join_diags(.diags))]
pub struct ModFileError {
    /// The diagnostics, in file order; never empty.
    pub diags: Vec<ModFileDiag>,
}

fn join_diags(d: &[ModFileDiag]) -> String {
    d.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Errors of the module path / version helpers (`escape_module_path` etc.).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModulePathError {
    /// `malformed module path "x": reason` (also used with kind `import`/`file`).
    #[error("malformed {kind} path {}: {reason}", go_quote(.path))]
    Malformed {
        /// `module`, `import` or `file`.
        kind: &'static str,
        /// The offending path.
        path: String,
        /// Why it is malformed.
        reason: String,
    },
    /// `version "x" invalid: reason`.
    #[error("version {} invalid: {reason}", go_quote(.version))]
    InvalidVersion {
        /// The version.
        version: String,
        /// Why it is invalid.
        reason: String,
    },
    /// An escaped cache path that does not unescape.
    #[error("invalid escaped {what} {}", go_quote(.text))]
    BadEscape {
        /// `module path` or `version`.
        what: &'static str,
        /// The escaped text.
        text: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    #[test]
    fn no_panics_on_garbage() {
        let alphabet: &[&[u8]] = &[
            b"module",
            b"require",
            b"replace",
            b"retract",
            b"go",
            b"(",
            b")",
            b"[",
            b"]",
            b",",
            b"=>",
            b"\"",
            b"`",
            b"\\",
            b"//",
            b"/*",
            b"\n",
            b" ",
            b"\t",
            b"\r",
            b"v1.0.0",
            b"example.com/a",
            b"\xff",
            b"\xe2\x80",
            b"indirect",
            b"Deprecated:",
            b"./x",
            b"#",
            b"##",
        ];
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..4000 {
            let mut data = Vec::new();
            for _ in 0..(seed % 24) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                data.extend_from_slice(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            let f = p("go.mod");
            for mode in [
                ParseMode::Strict,
                ParseMode::Lax,
                ParseMode::StrictCanonicalize,
            ] {
                let _ = parse_go_mod_with(&f, &data, mode);
            }
            let _ = parse_go_work(&f, &data);
            let _ = parse_modules_txt(&f, &data);
            let _ = parse_go_sum(&f, &data);
            let s = String::from_utf8_lossy(&data);
            let _ = escape_module_path(&s);
            let _ = escape_version(&s);
            let _ = unescape_module_path(&s);
            let _ = crate::load::embed::path_match(&s, "abc");
        }
    }
}
