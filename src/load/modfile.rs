//! Parsers for go.mod, go.work, vendor/modules.txt and go.sum, plus Go's module path/version rules.
//!
//! The go.mod/go.work lexer and the directive semantics follow
//! `golang.org/x/mod/modfile` (read.go, rule.go, work.go); path checks, semver and
//! cache-path escaping follow `golang.org/x/mod/module` and `golang.org/x/mod/semver`.
//! Error messages use the same wording as the `go` command.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

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

/// Formats `s` like Go's `%q` (strconv.Quote).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, '"');
    }
    out.push('"');
    out
}

fn quote_rune(c: char) -> String {
    let mut out = String::from("'");
    push_escaped(&mut out, c, '\'');
    out.push('\'');
    out
}

fn push_escaped(out: &mut String, c: char, quote: char) {
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if is_print(c) => out.push(c),
        c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// Approximates Go's `unicode.IsPrint`: letters, marks, numbers, punctuation,
/// symbols and U+0020. Std has no general-category tables, so format characters
/// and private-use/noncharacters are excluded by explicit ranges.
fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    let format = matches!(u,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x890..=0x891 | 0x8E2 | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F);
    let private = matches!(u, 0xE000..=0xF8FF | 0xF0000..=0x10FFFF);
    let nonchar = (u & 0xFFFE) == 0xFFFE || (0xFDD0..=0xFDEF).contains(&u);
    !(format || private || nonchar)
}

// ---------------------------------------------------------------------------
// Lexer / syntax tree (read.go)
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Eof,
    EolComment(String),
    Newline,
    Punct(u8),
    Ident(String),
    Str(String),
    Comment(String),
}

impl Tok {
    fn is_eol(&self) -> bool {
        matches!(self, Tok::Eof | Tok::EolComment(_) | Tok::Newline)
    }
    fn text(&self) -> String {
        match self {
            Tok::Ident(s) | Tok::Str(s) | Tok::Comment(s) | Tok::EolComment(s) => s.clone(),
            Tok::Punct(c) => (*c as char).to_string(),
            Tok::Newline => "\n".into(),
            Tok::Eof => String::new(),
        }
    }
}

struct Token {
    tok: Tok,
    pos: Pos,
}

/// Decodes one rune like Go's utf8.DecodeRune (invalid bytes give U+FFFD, width 1).
fn decode_rune(b: &[u8]) -> (char, usize) {
    if b.is_empty() {
        return ('\0', 0);
    }
    let n = match b[0] {
        0x00..=0x7F => return (b[0] as char, 1),
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return ('\u{FFFD}', 1),
    };
    if b.len() >= n {
        if let Ok(s) = std::str::from_utf8(&b[..n]) {
            if let Some(c) = s.chars().next() {
                return (c, n);
            }
        }
    }
    ('\u{FFFD}', 1)
}

fn is_ident_char(c: char) -> bool {
    match c {
        ' ' | '(' | ')' | '[' | ']' | '{' | '}' | ',' => false,
        c => !c.is_whitespace() && is_print(c),
    }
}

struct Lexer<'a> {
    file: String,
    data: &'a [u8],
    off: usize,
    pos: Pos,
    tok: Token,
}

type LexResult<T> = Result<T, (Pos, ModFileErrorKind)>;

impl<'a> Lexer<'a> {
    fn new(file: String, data: &'a [u8]) -> LexResult<Self> {
        let start = Pos {
            line: 1,
            col: 1,
            byte: 0,
        };
        let mut lx = Lexer {
            file,
            data,
            off: 0,
            pos: start,
            tok: Token {
                tok: Tok::Eof,
                pos: start,
            },
        };
        lx.read_token()?;
        Ok(lx)
    }

    fn peek_rune(&self) -> char {
        decode_rune(&self.data[self.off..]).0
    }

    fn has_prefix(&self, p: &str) -> bool {
        self.data[self.off..].starts_with(p.as_bytes())
    }

    fn read_rune(&mut self) -> char {
        let (c, n) = decode_rune(&self.data[self.off..]);
        self.off += n;
        if c == '\n' {
            self.pos.line += 1;
            self.pos.col = 1;
        } else {
            self.pos.col += 1;
        }
        self.pos.byte += n;
        c
    }

    fn eof(&self) -> bool {
        self.off >= self.data.len()
    }

    fn peek(&self) -> &Tok {
        &self.tok.tok
    }

    fn lex(&mut self) -> LexResult<Token> {
        let start = self.pos;
        let t = std::mem::replace(
            &mut self.tok,
            Token {
                tok: Tok::Eof,
                pos: start,
            },
        );
        self.read_token()?;
        Ok(t)
    }

    fn err<T>(&self, kind: ModFileErrorKind) -> LexResult<T> {
        Err((self.pos, kind))
    }

    fn read_token(&mut self) -> LexResult<()> {
        loop {
            if self.eof() {
                break;
            }
            let c = self.peek_rune();
            if c == ' ' || c == '\t' || c == '\r' {
                self.read_rune();
                continue;
            }
            if self.has_prefix("//") {
                let start_pos = self.pos;
                let start_off = self.off;
                let line_start = self.data[..self.off]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                let suffix = self.data[line_start..self.off]
                    .iter()
                    .any(|b| !b" \t\r\n\x0b\x0c".contains(b));
                self.read_rune();
                self.read_rune();
                while !self.eof() && self.read_rune() != '\n' {}
                let mut text = &self.data[start_off..self.off];
                if text.ends_with(b"\r\n") {
                    text = &text[..text.len() - 2];
                } else if text.ends_with(b"\n") {
                    text = &text[..text.len() - 1];
                }
                let text = String::from_utf8_lossy(text).into_owned();
                self.tok = Token {
                    tok: if suffix {
                        Tok::EolComment(text)
                    } else {
                        Tok::Comment(text)
                    },
                    pos: start_pos,
                };
                return Ok(());
            }
            if self.has_prefix("/*") {
                return self.err(ModFileErrorKind::BlockComment);
            }
            break;
        }
        let start_pos = self.pos;
        let start_off = self.off;
        let finish = |lx: &mut Self, tok: Tok| {
            lx.tok = Token {
                tok,
                pos: start_pos,
            };
        };
        if self.eof() {
            finish(self, Tok::Eof);
            return Ok(());
        }
        let c = self.peek_rune();
        match c {
            '\n' => {
                self.read_rune();
                finish(self, Tok::Newline);
                return Ok(());
            }
            '(' | ')' | '[' | ']' | '{' | '}' | ',' => {
                self.read_rune();
                finish(self, Tok::Punct(c as u8));
                return Ok(());
            }
            '"' | '`' => {
                self.read_rune();
                loop {
                    if self.eof() {
                        return Err((start_pos, ModFileErrorKind::EofInString));
                    }
                    if self.peek_rune() == '\n' {
                        return self.err(ModFileErrorKind::NewlineInString);
                    }
                    let r = self.read_rune();
                    if r == c {
                        break;
                    }
                    if r == '\\' && c != '`' {
                        if self.eof() {
                            return Err((start_pos, ModFileErrorKind::EofInString));
                        }
                        self.read_rune();
                    }
                }
                let text = String::from_utf8_lossy(&self.data[start_off..self.off]).into_owned();
                finish(self, Tok::Str(text));
                return Ok(());
            }
            _ => {}
        }
        if !is_ident_char(c) {
            return self.err(ModFileErrorKind::UnexpectedChar(c));
        }
        while !self.eof() && is_ident_char(self.peek_rune()) {
            if self.has_prefix("//") {
                break;
            }
            if self.has_prefix("/*") {
                return self.err(ModFileErrorKind::BlockComment);
            }
            self.read_rune();
        }
        let text = String::from_utf8_lossy(&self.data[start_off..self.off]).into_owned();
        finish(self, Tok::Ident(text));
        Ok(())
    }
}

/// A syntactic line: tokens plus the comments go attaches to it.
#[derive(Debug, Clone)]
struct SynLine {
    start: Pos,
    tokens: Vec<String>,
    /// Whole-line comments before the line (`""` marks a blank line inside a block).
    before: Vec<String>,
    /// End-of-line comment, if any.
    suffix: Option<String>,
}

#[derive(Debug, Clone)]
enum Stmt {
    Line(SynLine),
    Block {
        start: Pos,
        tokens: Vec<String>,
        before: Vec<String>,
        lines: Vec<SynLine>,
    },
}

fn parse_syntax(file: &str, data: &[u8]) -> LexResult<Vec<Stmt>> {
    let mut lx = Lexer::new(file.to_string(), data)?;
    let mut stmts = Vec::new();
    let mut cb: Vec<String> = Vec::new();
    loop {
        match lx.peek() {
            Tok::Newline => {
                lx.lex()?;
                cb.clear();
            }
            Tok::Comment(_) => {
                let t = lx.lex()?;
                cb.push(t.tok.text());
            }
            Tok::Eof => return Ok(stmts),
            _ => {
                let mut st = parse_stmt(&mut lx)?;
                let before = std::mem::take(&mut cb);
                match &mut st {
                    Stmt::Line(l) => l.before = before,
                    Stmt::Block { before: b, .. } => *b = before,
                }
                stmts.push(st);
            }
        }
    }
}

fn suffix_of(t: &Tok) -> Option<String> {
    match t {
        Tok::EolComment(s) => Some(s.clone()),
        _ => None,
    }
}

fn parse_stmt(lx: &mut Lexer<'_>) -> LexResult<Stmt> {
    let first = lx.lex()?;
    let start = first.pos;
    let mut tokens = vec![first.tok.text()];
    loop {
        let t = lx.lex()?;
        if t.tok.is_eol() {
            return Ok(Stmt::Line(SynLine {
                start,
                tokens,
                before: Vec::new(),
                suffix: suffix_of(&t.tok),
            }));
        }
        if t.tok == Tok::Punct(b'(') {
            if lx.peek().is_eol() {
                return parse_line_block(lx, start, tokens);
            } else if *lx.peek() == Tok::Punct(b')') {
                lx.lex()?;
                if lx.peek().is_eol() {
                    lx.lex()?;
                    return Ok(Stmt::Block {
                        start,
                        tokens,
                        before: Vec::new(),
                        lines: Vec::new(),
                    });
                }
                tokens.push("(".into());
                tokens.push(")".into());
            } else {
                tokens.push("(".into());
            }
            continue;
        }
        tokens.push(t.tok.text());
    }
}

fn parse_line_block(lx: &mut Lexer<'_>, start: Pos, tokens: Vec<String>) -> LexResult<Stmt> {
    let mut lines: Vec<SynLine> = Vec::new();
    let mut comments: Vec<String> = Vec::new();
    loop {
        match lx.peek() {
            Tok::EolComment(_) => {
                lx.lex()?;
            }
            Tok::Newline => {
                lx.lex()?;
                let blank_needed = (comments.is_empty() && !lines.is_empty())
                    || comments.last().is_some_and(|c| !c.is_empty());
                if blank_needed {
                    comments.push(String::new());
                }
            }
            Tok::Comment(_) => {
                let t = lx.lex()?;
                comments.push(t.tok.text());
            }
            Tok::Eof => {
                return lx.err(ModFileErrorKind::UnterminatedBlock {
                    file: lx.file.clone(),
                    line: start.line,
                    col: start.col,
                });
            }
            Tok::Punct(b')') => {
                lx.lex()?;
                if !lx.peek().is_eol() {
                    return lx.err(ModFileErrorKind::ExpectedNewlineAfterParen);
                }
                lx.lex()?;
                return Ok(Stmt::Block {
                    start,
                    tokens,
                    before: Vec::new(),
                    lines,
                });
            }
            _ => {
                let first = lx.lex()?;
                let lstart = first.pos;
                let mut toks = vec![first.tok.text()];
                let suffix = loop {
                    let t = lx.lex()?;
                    if t.tok.is_eol() {
                        break suffix_of(&t.tok);
                    }
                    toks.push(t.tok.text());
                };
                lines.push(SynLine {
                    start: lstart,
                    tokens: toks,
                    before: std::mem::take(&mut comments),
                    suffix,
                });
            }
        }
    }
}

// ---------------------------------------------------------------------------
// go.mod semantics (rule.go)
// ---------------------------------------------------------------------------

/// The `module` directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModulePath {
    /// The module path (unquoted).
    pub path: String,
    /// Position of the directive line.
    pub pos: Pos,
    /// Text after `Deprecated:` in the directive's comments, if any.
    pub deprecated: Option<String>,
}

/// A `require` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Require {
    /// Module path.
    pub path: String,
    /// Canonical version.
    pub version: String,
    /// Whether the line carries a `// indirect` comment.
    pub indirect: bool,
    /// Position of the line.
    pub pos: Pos,
}

/// A module path and version (used by `exclude`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModVersion {
    /// Module path.
    pub path: String,
    /// Version.
    pub version: String,
}

/// The right-hand side of a `replace`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplaceTarget {
    /// A directory, as written (`./x`, `../x`, `/abs`), relative to the go.mod/go.work dir.
    Local(String),
    /// Another module version.
    Module {
        /// Module path.
        path: String,
        /// Canonical version.
        version: String,
    },
}

/// A `replace` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replace {
    /// Module path being replaced.
    pub old_path: String,
    /// Version being replaced; `None` replaces all versions.
    pub old_version: Option<String>,
    /// The replacement.
    pub new: ReplaceTarget,
    /// Position of the line.
    pub pos: Pos,
}

/// A `retract` line: a single version (`low == high`) or a closed interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retract {
    /// Lower bound.
    pub low: String,
    /// Upper bound.
    pub high: String,
    /// The comment text attached to the directive.
    pub rationale: String,
    /// Position of the line.
    pub pos: Pos,
}

/// A parsed go.mod file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModFile {
    /// `module` directive.
    pub module: Option<ModulePath>,
    /// `go` version (e.g. `1.23`, `1.23.0`, `1.23rc1`).
    pub go: Option<String>,
    /// `toolchain` name (e.g. `go1.23.0`, `default`).
    pub toolchain: Option<String>,
    /// `godebug key=value` pairs in file order.
    pub godebug: Vec<(String, String)>,
    /// `require` lines in file order.
    pub require: Vec<Require>,
    /// `exclude` lines.
    pub exclude: Vec<ModVersion>,
    /// `replace` lines.
    pub replace: Vec<Replace>,
    /// `retract` lines.
    pub retract: Vec<Retract>,
    /// `tool` package paths.
    pub tool: Vec<String>,
    /// `ignore` directory patterns.
    pub ignore: Vec<String>,
}

/// How strictly to parse a go.mod file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseMode {
    /// Main-module parsing (`modfile.Parse` with the go command's version fixer,
    /// offline): versions must already be canonical (no queries are possible),
    /// unknown directives/blocks are errors, retractions are validated.
    Strict,
    /// `modfile.ParseLax(.., nil)` as used for dependency go.mod files: only
    /// `module`, `go`, `require`, `retract` and `ignore` are interpreted; other
    /// directives are ignored; versions are canonicalized (`v1.2` → `v1.2.0`).
    Lax,
    /// `modfile.Parse(.., nil)`: strict directives, but versions canonicalized
    /// rather than required to be canonical (what `go mod edit` and go.work use).
    StrictCanonicalize,
}

struct Ctx<'a> {
    file: &'a Path,
    diags: Vec<ModFileDiag>,
}

impl Ctx<'_> {
    fn push(&mut self, pos: Pos, kind: ModFileErrorKind) {
        self.diags.push(ModFileDiag {
            file: self.file.to_path_buf(),
            pos: Some(pos),
            verb: None,
            mod_path: None,
            kind,
        });
    }
    fn push_d(&mut self, pos: Pos, e: VErr) {
        self.diags.push(ModFileDiag {
            file: self.file.to_path_buf(),
            pos: Some(pos),
            verb: e.verb,
            mod_path: e.mod_path,
            kind: e.kind,
        });
    }
}

/// An error carrying go's optional `verb path:` prefix.
struct VErr {
    verb: Option<String>,
    mod_path: Option<String>,
    kind: ModFileErrorKind,
}

impl VErr {
    fn plain(kind: ModFileErrorKind) -> Self {
        VErr {
            verb: None,
            mod_path: None,
            kind,
        }
    }
    fn with(verb: &str, path: &str, kind: ModFileErrorKind) -> Self {
        VErr {
            verb: Some(verb.to_string()),
            mod_path: if path.is_empty() {
                None
            } else {
                Some(path.to_string())
            },
            kind,
        }
    }
}

fn lex_err(file: &Path, (pos, kind): (Pos, ModFileErrorKind)) -> ModFileError {
    ModFileError {
        diags: vec![ModFileDiag {
            file: file.to_path_buf(),
            pos: Some(pos),
            verb: None,
            mod_path: None,
            kind,
        }],
    }
}

/// Parses a main-module go.mod ([`ParseMode::Strict`]).
pub fn parse_go_mod(file: &Path, data: &[u8]) -> Result<ModFile, ModFileError> {
    parse_go_mod_with(file, data, ParseMode::Strict)
}

/// Parses a dependency's go.mod ([`ParseMode::Lax`], `modfile.ParseLax`).
pub fn parse_go_mod_lax(file: &Path, data: &[u8]) -> Result<ModFile, ModFileError> {
    parse_go_mod_with(file, data, ParseMode::Lax)
}

/// Parses a go.mod with the given mode. `file` is used only in error messages.
pub fn parse_go_mod_with(
    file: &Path,
    data: &[u8],
    mode: ParseMode,
) -> Result<ModFile, ModFileError> {
    let fname = file.display().to_string();
    let stmts = parse_syntax(&fname, data).map_err(|e| lex_err(file, e))?;
    let strict = mode != ParseMode::Lax;
    let mut cx = Ctx {
        file,
        diags: Vec::new(),
    };
    let mut mf = ModFile::default();
    // Retract lines need re-validation once the module path is known.
    let mut retract_lines: Vec<(SynLine, usize)> = Vec::new();
    for st in &stmts {
        match st {
            Stmt::Line(l) => {
                let mut l = l.clone();
                let verb = l.tokens.remove(0);
                add_mod_directive(&mut cx, &mut mf, &mut retract_lines, None, &l, &verb, mode);
            }
            Stmt::Block {
                start,
                tokens,
                before,
                lines,
            } => {
                let known = tokens.len() == 1
                    && matches!(
                        tokens[0].as_str(),
                        "module"
                            | "godebug"
                            | "require"
                            | "exclude"
                            | "replace"
                            | "retract"
                            | "tool"
                            | "ignore"
                    );
                if !known {
                    if strict {
                        cx.push(*start, ModFileErrorKind::UnknownBlockType(tokens.join(" ")));
                    }
                    continue;
                }
                for l in lines {
                    add_mod_directive(
                        &mut cx,
                        &mut mf,
                        &mut retract_lines,
                        Some(before),
                        l,
                        &tokens[0],
                        mode,
                    );
                }
            }
        }
    }
    if mode == ParseMode::Strict {
        // fixRetract: validate retractions against the module path.
        let path = mf
            .module
            .as_ref()
            .map(|m| m.path.clone())
            .unwrap_or_default();
        for (line, idx) in &retract_lines {
            if path.is_empty() {
                cx.push(
                    line.start,
                    ModFileErrorKind::Semantic(
                        "no module directive found, so retract cannot be used".into(),
                    ),
                );
                break;
            }
            let mut args = line.tokens.clone();
            match parse_version_interval("retract", &path, &mut args, Fixer::Strict) {
                Ok((lo, hi)) => {
                    if let Some(r) = mf.retract.get_mut(*idx) {
                        r.low = lo;
                        r.high = hi;
                    }
                }
                Err(e) => cx.push_d(line.start, e),
            }
        }
    }
    if cx.diags.is_empty() {
        Ok(mf)
    } else {
        Err(ModFileError { diags: cx.diags })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fixer {
    /// fix == nil: canonicalize.
    Canonicalize,
    /// dontFixRetract: accept anything.
    Identity,
    /// The go command's fixVersion without network access.
    Strict,
}

fn fixer_for(mode: ParseMode) -> Fixer {
    match mode {
        ParseMode::Strict => Fixer::Strict,
        _ => Fixer::Canonicalize,
    }
}

fn go_version_ok(v: &str) -> bool {
    // ^([1-9][0-9]*)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?([a-z]+[0-9]+)?$
    let b = v.as_bytes();
    let mut i = 0;
    let num = |i: &mut usize| -> bool {
        let s = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > s && (b[s] != b'0' || *i - s == 1)
    };
    if i >= b.len() || b[0] == b'0' || !num(&mut i) {
        return false;
    }
    if i >= b.len() || b[i] != b'.' {
        return false;
    }
    i += 1;
    if !num(&mut i) {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if !num(&mut i) {
            return false;
        }
    }
    if i == b.len() {
        return true;
    }
    let s = i;
    while i < b.len() && b[i].is_ascii_lowercase() {
        i += 1;
    }
    if i == s {
        return false;
    }
    let s = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    i > s && i == b.len()
}

/// Lax go version: `^v?(([1-9][0-9]*)\.(0|[1-9][0-9]*))([^0-9].*)$` → group 1.
fn lax_go_version(v: &str) -> Option<String> {
    let s = v.strip_prefix('v').unwrap_or(v);
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == 0 || b[0] == b'0' || i >= b.len() || b[i] != b'.' {
        return None;
    }
    let ms = i + 1;
    let mut j = ms;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
    }
    if j == ms || j >= b.len() {
        return None;
    }
    // (0|[1-9][0-9]*) followed by a non-digit: a leading 0 must be alone.
    if b[ms] == b'0' && j - ms > 1 {
        return None;
    }
    Some(s[..j].to_string())
}

fn toolchain_ok(v: &str) -> bool {
    v == "default" || v == "go1" || v.starts_with("go1.")
}

#[allow(clippy::too_many_arguments)]
fn add_mod_directive(
    cx: &mut Ctx<'_>,
    mf: &mut ModFile,
    retract_lines: &mut Vec<(SynLine, usize)>,
    block_before: Option<&Vec<String>>,
    line: &SynLine,
    verb: &str,
    mode: ParseMode,
) {
    let strict = mode != ParseMode::Lax;
    if !strict && !matches!(verb, "go" | "module" | "retract" | "require" | "ignore") {
        return;
    }
    let pos = line.start;
    let args = &line.tokens;
    let usage = |s: &str| ModFileErrorKind::Usage(s.to_string());
    match verb {
        "go" => {
            if mf.go.is_some() {
                return cx.push(pos, ModFileErrorKind::Repeated("go"));
            }
            if args.len() != 1 {
                return cx.push(pos, usage("go directive expects exactly one argument"));
            }
            let mut v = args[0].clone();
            if !go_version_ok(&v) {
                match lax_go_version(&v).filter(|_| !strict) {
                    Some(fixed) => v = fixed,
                    None => return cx.push(pos, ModFileErrorKind::InvalidGoVersion(v)),
                }
            }
            mf.go = Some(v);
        }
        "toolchain" => {
            if mf.toolchain.is_some() {
                return cx.push(pos, ModFileErrorKind::Repeated("toolchain"));
            }
            if args.len() != 1 {
                return cx.push(
                    pos,
                    usage("toolchain directive expects exactly one argument"),
                );
            }
            if !toolchain_ok(&args[0]) {
                return cx.push(pos, ModFileErrorKind::InvalidToolchain(args[0].clone()));
            }
            mf.toolchain = Some(args[0].clone());
        }
        "module" => {
            if mf.module.is_some() {
                return cx.push(pos, ModFileErrorKind::Repeated("module"));
            }
            let dep = parse_deprecation(block_before, line);
            if args.len() != 1 {
                mf.module = Some(ModulePath {
                    path: String::new(),
                    pos,
                    deprecated: dep,
                });
                return cx.push(pos, usage("usage: module module/path"));
            }
            match parse_string(&args[0]) {
                Ok(s) => {
                    mf.module = Some(ModulePath {
                        path: s,
                        pos,
                        deprecated: dep,
                    })
                }
                Err(e) => {
                    mf.module = Some(ModulePath {
                        path: String::new(),
                        pos,
                        deprecated: dep,
                    });
                    cx.push(pos, ModFileErrorKind::InvalidQuotedString(e))
                }
            }
        }
        "godebug" => match parse_godebug(args) {
            Some(kv) => mf.godebug.push(kv),
            None => cx.push(pos, usage("usage: godebug key=value")),
        },
        "require" | "exclude" => {
            if args.len() != 2 {
                return cx.push(pos, usage(&format!("usage: {verb} module/path v1.2.3")));
            }
            let s = match parse_string(&args[0]) {
                Ok(s) => s,
                Err(e) => return cx.push(pos, ModFileErrorKind::InvalidQuotedString(e)),
            };
            let v = match parse_version(verb, &s, &args[1], fixer_for(mode)) {
                Ok(v) => v,
                Err(e) => return cx.push_d(pos, e),
            };
            let Some((_, major)) = split_path_version(&s) else {
                return cx.push(pos, ModFileErrorKind::InvalidModulePath);
            };
            if let Err(e) = check_path_major(&v, major) {
                return cx.push_d(pos, VErr::with(verb, &s, e));
            }
            if verb == "require" {
                mf.require.push(Require {
                    path: s,
                    version: v,
                    indirect: is_indirect(line.suffix.as_deref()),
                    pos,
                });
            } else {
                mf.exclude.push(ModVersion {
                    path: s,
                    version: v,
                });
            }
        }
        "replace" => match parse_replace(verb, args, fixer_for(mode)) {
            Ok(r) => mf.replace.push(Replace { pos, ..r }),
            Err(e) => cx.push_d(pos, e),
        },
        "retract" => {
            let rationale = parse_directive_comment(block_before, line);
            let mut a = args.clone();
            let (lo, hi) = match parse_version_interval(verb, "", &mut a, Fixer::Identity) {
                Ok(x) => x,
                Err(e) => {
                    if strict {
                        cx.push_d(pos, e);
                    }
                    return;
                }
            };
            if !a.is_empty() && strict {
                return cx.push(
                    pos,
                    ModFileErrorKind::Semantic(format!(
                        "unexpected token after version: {}",
                        go_quote(&a[0])
                    )),
                );
            }
            retract_lines.push((line.clone(), mf.retract.len()));
            mf.retract.push(Retract {
                low: lo,
                high: hi,
                rationale,
                pos,
            });
        }
        "tool" | "ignore" => {
            if args.len() != 1 {
                return cx.push(
                    pos,
                    usage(&format!("{verb} directive expects exactly one argument")),
                );
            }
            match parse_string(&args[0]) {
                Ok(s) if verb == "tool" => mf.tool.push(s),
                Ok(s) => mf.ignore.push(s),
                Err(e) => cx.push(pos, ModFileErrorKind::InvalidQuotedString(e)),
            }
        }
        _ => cx.push(pos, ModFileErrorKind::UnknownDirective(verb.to_string())),
    }
}

fn parse_godebug(args: &[String]) -> Option<(String, String)> {
    if args.len() != 1 || args[0].contains(['"', '`', '\'', ',']) {
        return None;
    }
    let (k, v) = args[0].split_once('=')?;
    Some((k.to_string(), v.to_string()))
}

fn is_indirect(suffix: Option<&str>) -> bool {
    let Some(s) = suffix else { return false };
    let s = s.strip_prefix("//").unwrap_or(s);
    let f: Vec<&str> = s.split_whitespace().collect();
    (f.len() == 1 && f[0] == "indirect") || (f.len() > 1 && f[0] == "indirect;")
}

fn parse_directive_comment(block_before: Option<&Vec<String>>, line: &SynLine) -> String {
    let mut group: Vec<&String> = line.before.iter().chain(line.suffix.iter()).collect();
    if let Some(bb) = block_before {
        if line.before.is_empty() && line.suffix.is_none() {
            group = bb.iter().collect();
        }
    }
    group
        .into_iter()
        .filter_map(|c| c.strip_prefix("//"))
        .map(|c| c.trim())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `(?s)(?:^|\n\n)Deprecated: *(.*?)(?:$|\n\n)`.
fn parse_deprecation(block_before: Option<&Vec<String>>, line: &SynLine) -> Option<String> {
    let text = parse_directive_comment(block_before, line);
    let mut start = None;
    if text.starts_with("Deprecated:") {
        start = Some(0);
    } else if let Some(i) = text.find("\n\nDeprecated:") {
        start = Some(i + 2);
    }
    let rest = text[start? + "Deprecated:".len()..].trim_start_matches(' ');
    let end = rest.find("\n\n").unwrap_or(rest.len());
    Some(rest[..end].to_string()).filter(|d| !d.is_empty())
}

/// Go's `strconv.Unquote` for a double-quoted string literal.
fn unquote(t: &str) -> Option<String> {
    let inner = t.strip_prefix('"')?.strip_suffix('"')?;
    if t.len() < 2 || inner.contains('\n') {
        return None;
    }
    let mut out: Vec<u8> = Vec::new();
    let b = inner.as_bytes();
    let mut i = 0;
    let hex = |s: &[u8]| -> Option<u32> {
        let mut v = 0u32;
        for &c in s {
            v = v * 16 + (c as char).to_digit(16)?;
        }
        Some(v)
    };
    let push_char = |out: &mut Vec<u8>, c: char| {
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    };
    while i < b.len() {
        let c = b[i];
        if c == b'"' {
            return None;
        }
        if c != b'\\' {
            let (r, n) = decode_rune(&b[i..]);
            if r == '\u{FFFD}' && n == 1 {
                return None;
            }
            out.extend_from_slice(&b[i..i + n]);
            i += n;
            continue;
        }
        let e = *b.get(i + 1)?;
        i += 2;
        match e {
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'\\' => out.push(b'\\'),
            b'"' => out.push(b'"'),
            b'0'..=b'7' => {
                let d = b.get(i - 1..i + 2)?;
                let mut v = 0u32;
                for &c in d {
                    if !(b'0'..=b'7').contains(&c) {
                        return None;
                    }
                    v = v * 8 + (c - b'0') as u32;
                }
                if v > 255 {
                    return None;
                }
                out.push(v as u8);
                i += 2;
            }
            b'x' => {
                let v = hex(b.get(i..i + 2)?)?;
                out.push(v as u8);
                i += 2;
            }
            b'u' | b'U' => {
                let n = if e == b'u' { 4 } else { 8 };
                let v = hex(b.get(i..i + n)?)?;
                push_char(&mut out, char::from_u32(v)?);
                i += n;
            }
            _ => return None,
        }
    }
    String::from_utf8(out).ok()
}

fn parse_string(t: &str) -> Result<String, String> {
    if t.starts_with('"') {
        unquote(t).ok_or_else(|| "invalid syntax".to_string())
    } else if t.contains(['"', '\'', '`']) {
        Err("unquoted string cannot contain quote".into())
    } else {
        Ok(t.to_string())
    }
}

fn parse_version(verb: &str, path: &str, s: &str, fix: Fixer) -> Result<String, VErr> {
    let t = parse_string(s).map_err(|e| {
        VErr::with(
            verb,
            path,
            ModFileErrorKind::InvalidVersion {
                version: s.to_string(),
                reason: e,
            },
        )
    })?;
    match fix {
        Fixer::Identity => Ok(t),
        Fixer::Canonicalize => {
            let cv = canonical_version(&t);
            if cv.is_empty() {
                return Err(VErr::with(
                    verb,
                    path,
                    ModFileErrorKind::InvalidVersion {
                        version: t,
                        reason: "must be of the form v1.2.3".into(),
                    },
                ));
            }
            Ok(cv)
        }
        Fixer::Strict => {
            let mut v = t.as_str();
            if path.starts_with("gopkg.in/") {
                if let Some(i) = v.find("-gopkgin-") {
                    v = &v[i + "-gopkgin-".len()..];
                }
            }
            let Some((_, major)) = split_path_version(path) else {
                return Err(VErr::with(
                    verb,
                    path,
                    ModFileErrorKind::InvalidVersion {
                        version: v.to_string(),
                        reason: format!("malformed module path {}", go_quote(path)),
                    },
                ));
            };
            if !v.is_empty() && canonical_version(v) == v {
                check_path_major(v, major).map_err(|e| VErr::with(verb, path, e))?;
                return Ok(v.to_string());
            }
            // The go command would query a proxy here; a hermetic build cannot.
            Err(VErr::with(
                verb,
                path,
                ModFileErrorKind::InvalidVersion {
                    version: v.to_string(),
                    reason:
                        "must be of the form v1.2.3 (non-canonical versions need a module query)"
                            .into(),
                },
            ))
        }
    }
}

fn parse_version_interval(
    verb: &str,
    path: &str,
    args: &mut Vec<String>,
    fix: Fixer,
) -> Result<(String, String), VErr> {
    let sem = |m: &str| VErr::plain(ModFileErrorKind::Semantic(m.to_string()));
    let toks = args.clone();
    if toks.is_empty() || toks[0] == "(" {
        return Err(sem("expected '[' or version"));
    }
    if toks[0] != "[" {
        let v = parse_version(verb, path, &toks[0], fix)?;
        args.remove(0);
        return Ok((v.clone(), v));
    }
    let mut i = 1;
    if i >= toks.len() {
        return Err(sem("expected version after '['"));
    }
    let low = parse_version(verb, path, &toks[i], fix)?;
    i += 1;
    if i >= toks.len() || toks[i] != "," {
        return Err(sem("expected ',' after version"));
    }
    i += 1;
    if i >= toks.len() {
        return Err(sem("expected version after ','"));
    }
    let high = parse_version(verb, path, &toks[i], fix)?;
    i += 1;
    if i >= toks.len() || toks[i] != "]" {
        return Err(sem("expected ']' after version"));
    }
    i += 1;
    args.drain(..i);
    Ok((low, high))
}

/// Reports whether a replacement target is a directory path (`modfile.IsDirectoryPath`).
pub fn is_directory_path(ns: &str) -> bool {
    let b = ns.as_bytes();
    ns == "."
        || ns.starts_with("./")
        || ns.starts_with(".\\")
        || ns == ".."
        || ns.starts_with("../")
        || ns.starts_with("..\\")
        || ns.starts_with('/')
        || ns.starts_with('\\')
        || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
}

fn parse_replace(verb: &str, args: &[String], fix: Fixer) -> Result<Replace, VErr> {
    let plain = |s: String| VErr::plain(ModFileErrorKind::Semantic(s));
    let arrow = if args.len() >= 2 && args[1] == "=>" {
        1
    } else {
        2
    };
    if args.len() < arrow + 2 || args.len() > arrow + 3 || args[arrow] != "=>" {
        return Err(VErr::plain(ModFileErrorKind::Usage(format!(
            "usage: {verb} module/path [v1.2.3] => other/module v1.4\n\t or {verb} module/path [v1.2.3] => ../local/directory"
        ))));
    }
    let s = parse_string(&args[0])
        .map_err(|e| VErr::plain(ModFileErrorKind::InvalidQuotedString(e)))?;
    let Some((_, major)) = split_path_version(&s) else {
        return Err(VErr::with(verb, &s, ModFileErrorKind::InvalidModulePath));
    };
    let mut old_version = None;
    if arrow == 2 {
        let v = parse_version(verb, &s, &args[1], fix)?;
        check_path_major(&v, major).map_err(|e| VErr::with(verb, &s, e))?;
        old_version = Some(v);
    }
    let ns = parse_string(&args[arrow + 1])
        .map_err(|e| VErr::plain(ModFileErrorKind::InvalidQuotedString(e)))?;
    let new = if args.len() == arrow + 2 {
        if !is_directory_path(&ns) {
            if ns.contains('@') {
                return Err(plain(
                    "replacement module must match format 'path version', not 'path@version'"
                        .into(),
                ));
            }
            return Err(plain(
                "replacement module without version must be directory path (rooted or starting with . or ..)".into(),
            ));
        }
        if ns.contains('\\') {
            return Err(plain(
                "replacement directory appears to be Windows path (on a non-windows system)".into(),
            ));
        }
        ReplaceTarget::Local(ns)
    } else {
        let nv = parse_version(verb, &ns, &args[arrow + 2], fix)?;
        if is_directory_path(&ns) {
            return Err(plain(format!(
                "replacement module directory path {} cannot have version",
                go_quote(&ns)
            )));
        }
        ReplaceTarget::Module {
            path: ns,
            version: nv,
        }
    };
    Ok(Replace {
        old_path: s,
        old_version,
        new,
        pos: Pos::default(),
    })
}

// ---------------------------------------------------------------------------
// go.work (work.go)
// ---------------------------------------------------------------------------

/// A `use` line of go.work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseDir {
    /// The directory as written (relative to the go.work dir, or absolute).
    pub dir: String,
    /// The end-of-line comment text (without `//`, trimmed), if any; `go work use`
    /// does not write one, but users sometimes note the module path there.
    pub module_path_comment: Option<String>,
    /// Position of the line.
    pub pos: Pos,
}

/// A parsed go.work file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkFile {
    /// `go` version.
    pub go: Option<String>,
    /// `toolchain` name.
    pub toolchain: Option<String>,
    /// `godebug key=value` pairs.
    pub godebug: Vec<(String, String)>,
    /// `use` directories.
    pub use_: Vec<UseDir>,
    /// `replace` lines (these override go.mod replacements).
    pub replace: Vec<Replace>,
}

/// Parses a go.work file like `modfile.ParseWork(path, data, nil)`.
pub fn parse_go_work(file: &Path, data: &[u8]) -> Result<WorkFile, ModFileError> {
    let fname = file.display().to_string();
    let stmts = parse_syntax(&fname, data).map_err(|e| lex_err(file, e))?;
    let mut cx = Ctx {
        file,
        diags: Vec::new(),
    };
    let mut wf = WorkFile::default();
    for st in &stmts {
        match st {
            Stmt::Line(l) => {
                let mut l = l.clone();
                let verb = l.tokens.remove(0);
                add_work_directive(&mut cx, &mut wf, &l, &verb);
            }
            Stmt::Block {
                start,
                tokens,
                lines,
                ..
            } => {
                if tokens.len() != 1 || !matches!(tokens[0].as_str(), "godebug" | "use" | "replace")
                {
                    cx.push(*start, ModFileErrorKind::UnknownBlockType(tokens.join(" ")));
                    continue;
                }
                for l in lines {
                    add_work_directive(&mut cx, &mut wf, l, &tokens[0]);
                }
            }
        }
    }
    if cx.diags.is_empty() {
        Ok(wf)
    } else {
        Err(ModFileError { diags: cx.diags })
    }
}

fn add_work_directive(cx: &mut Ctx<'_>, wf: &mut WorkFile, line: &SynLine, verb: &str) {
    let pos = line.start;
    let args = &line.tokens;
    let usage = |s: &str| ModFileErrorKind::Usage(s.to_string());
    match verb {
        "go" => {
            if wf.go.is_some() {
                return cx.push(pos, ModFileErrorKind::Repeated("go"));
            }
            if args.len() != 1 {
                return cx.push(pos, usage("go directive expects exactly one argument"));
            }
            if !go_version_ok(&args[0]) {
                return cx.push(pos, ModFileErrorKind::InvalidGoVersion(args[0].clone()));
            }
            wf.go = Some(args[0].clone());
        }
        "toolchain" => {
            if wf.toolchain.is_some() {
                return cx.push(pos, ModFileErrorKind::Repeated("toolchain"));
            }
            if args.len() != 1 {
                return cx.push(
                    pos,
                    usage("toolchain directive expects exactly one argument"),
                );
            }
            if !toolchain_ok(&args[0]) {
                return cx.push(pos, ModFileErrorKind::InvalidToolchain(args[0].clone()));
            }
            wf.toolchain = Some(args[0].clone());
        }
        "godebug" => match parse_godebug(args) {
            Some(kv) => wf.godebug.push(kv),
            None => cx.push(pos, usage("usage: godebug key=value")),
        },
        "use" => {
            if args.len() != 1 {
                return cx.push(pos, usage(&format!("usage: {verb} local/dir")));
            }
            match parse_string(&args[0]) {
                Ok(s) => wf.use_.push(UseDir {
                    dir: s,
                    module_path_comment: line
                        .suffix
                        .as_deref()
                        .map(|c| c.trim_start_matches("//").trim().to_string())
                        .filter(|c| !c.is_empty()),
                    pos,
                }),
                Err(e) => cx.push(pos, ModFileErrorKind::InvalidQuotedString(e)),
            }
        }
        "replace" => match parse_replace(verb, args, Fixer::Canonicalize) {
            Ok(r) => wf.replace.push(Replace { pos, ..r }),
            Err(e) => cx.push_d(pos, e),
        },
        _ => cx.push(pos, ModFileErrorKind::UnknownDirective(verb.to_string())),
    }
}

// ---------------------------------------------------------------------------
// vendor/modules.txt (modload/vendor.go)
// ---------------------------------------------------------------------------

/// One module listed in vendor/modules.txt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VendorModule {
    /// Module path.
    pub path: String,
    /// Version; empty for a `# path => dir` line (a replaced module without version).
    pub version: String,
    /// Replacement from `# path version => new [version]`.
    pub replacement: Option<ReplaceTarget>,
    /// `## explicit` annotation.
    pub explicit: bool,
    /// `## go 1.x` annotation.
    pub go_version: Option<String>,
    /// Packages listed under the module (lines holding a valid import path).
    pub packages: Vec<String>,
}

/// Contents of vendor/modules.txt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VendorList {
    /// Modules in order of first appearance (duplicate headers merge).
    pub modules: Vec<VendorModule>,
}

impl VendorList {
    /// The module providing vendored package `pkg`, if listed.
    pub fn module_for_package(&self, pkg: &str) -> Option<&VendorModule> {
        // Later lines win, as in go's map assignment.
        self.modules
            .iter()
            .rev()
            .find(|m| m.packages.iter().any(|p| p == pkg))
    }
}

/// Parses vendor/modules.txt with the go command's (lenient) rules: malformed
/// lines are ignored, never reported. The `Result` is kept for API symmetry.
pub fn parse_modules_txt(_file: &Path, data: &[u8]) -> Result<VendorList, ModFileError> {
    let text = String::from_utf8_lossy(data);
    let mut list = VendorList::default();
    let mut cur: Option<usize> = None;
    for line in text.split('\n') {
        if line.starts_with("# ") {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 3 {
                continue;
            }
            let (path, version, rest) = if is_valid_semver(f[2]) {
                (f[1], f[2], &f[3..])
            } else if f[2] == "=>" {
                (f[1], "", &f[2..])
            } else {
                cur = None;
                continue;
            };
            let idx = match list
                .modules
                .iter()
                .position(|m| m.path == path && m.version == version)
            {
                Some(i) => i,
                None => {
                    list.modules.push(VendorModule {
                        path: path.to_string(),
                        version: version.to_string(),
                        ..Default::default()
                    });
                    list.modules.len() - 1
                }
            };
            cur = Some(idx);
            if rest.len() >= 2 && rest[0] == "=>" {
                let m = &mut list.modules[idx];
                if rest.len() == 2 {
                    m.replacement = Some(if is_directory_path(rest[1]) {
                        ReplaceTarget::Local(rest[1].to_string())
                    } else {
                        ReplaceTarget::Module {
                            path: rest[1].to_string(),
                            version: String::new(),
                        }
                    });
                } else if rest.len() == 3 && is_valid_semver(rest[2]) {
                    m.replacement = Some(ReplaceTarget::Module {
                        path: rest[1].to_string(),
                        version: rest[2].to_string(),
                    });
                }
            }
            continue;
        }
        let Some(idx) = cur else { continue };
        let m = &mut list.modules[idx];
        if let Some(ann) = line.strip_prefix("## ") {
            for entry in ann.split(';') {
                let entry = entry.trim();
                if entry == "explicit" {
                    m.explicit = true;
                }
                if let Some(gv) = entry.strip_prefix("go ") {
                    m.go_version = Some(gv.to_string());
                }
            }
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() == 1 && check_import_path(f[0]).is_ok() {
            m.packages.push(f[0].to_string());
        }
    }
    Ok(list)
}

// ---------------------------------------------------------------------------
// go.sum (modfetch/fetch.go)
// ---------------------------------------------------------------------------

/// The go.mod hash of an empty go.mod written by old go versions; go drops it.
const EMPTY_GO_MOD_HASH: &str = "h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=";

/// Parsed go.sum: `path version[/go.mod] hash` lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GoSum {
    /// (path, version-or-`version/go.mod`) → hashes in file order.
    pub entries: BTreeMap<(String, String), Vec<String>>,
}

impl GoSum {
    /// The `h1:` hashes recorded for `path@version`: (module zip tree, go.mod).
    pub fn lookup(&self, path: &str, version: &str) -> (Option<&str>, Option<&str>) {
        let get = |v: String| {
            self.entries
                .get(&(path.to_string(), v))
                .and_then(|hs| hs.iter().find(|h| h.starts_with("h1:")))
                .map(String::as_str)
        };
        (get(version.to_string()), get(format!("{version}/go.mod")))
    }

    /// Whether `hash` is one of the hashes recorded for `(path, version)`
    /// (`version` may carry the `/go.mod` suffix). go accepts any matching line.
    pub fn contains(&self, path: &str, version: &str, hash: &str) -> bool {
        self.entries
            .get(&(path.to_string(), version.to_string()))
            .is_some_and(|hs| hs.iter().any(|h| h == hash))
    }
}

/// Parses a go.sum file. Like go (outside `go mod tidy`), a non-blank line
/// without exactly three fields is an error: `malformed go.sum:\nfile:N: wrong number of fields K`.
pub fn parse_go_sum(file: &Path, data: &[u8]) -> Result<GoSum, ModFileError> {
    let text = String::from_utf8_lossy(data);
    let mut sum = GoSum::default();
    let mut lines: Vec<&str> = text.split('\n').collect();
    if text.ends_with('\n') {
        lines.pop();
    }
    for (i, line) in lines.iter().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        if f.len() != 3 {
            return Err(ModFileError {
                diags: vec![ModFileDiag {
                    file: file.to_path_buf(),
                    pos: Some(Pos {
                        line: i + 1,
                        col: 1,
                        byte: 0,
                    }),
                    verb: None,
                    mod_path: None,
                    kind: ModFileErrorKind::GoSumFields(f.len()),
                }],
            });
        }
        if f[2] == EMPTY_GO_MOD_HASH {
            continue;
        }
        sum.entries
            .entry((f[0].to_string(), f[1].to_string()))
            .or_default()
            .push(f[2].to_string());
    }
    Ok(sum)
}

// ---------------------------------------------------------------------------
// semver (golang.org/x/mod/semver)
// ---------------------------------------------------------------------------

#[derive(Default)]
struct Semver<'a> {
    major: &'a str,
    short: &'static str,
    build: &'a str,
}

fn parse_semver(v: &str) -> Option<Semver<'_>> {
    let b = v.as_bytes();
    if b.first() != Some(&b'v') {
        return None;
    }
    fn int(b: &[u8], i: usize) -> Option<usize> {
        let mut j = i;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == i || (b[i] == b'0' && j - i > 1) {
            return None;
        }
        Some(j)
    }
    let mut p = Semver::default();
    let j = int(b, 1)?;
    p.major = &v[1..j];
    if j == b.len() {
        p.short = ".0.0";
        return Some(p);
    }
    if b[j] != b'.' {
        return None;
    }
    let k = int(b, j + 1)?;
    if k == b.len() {
        p.short = ".0";
        return Some(p);
    }
    if b[k] != b'.' {
        return None;
    }
    let mut i = int(b, k + 1)?;
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'-';
    if i < b.len() && b[i] == b'-' {
        // prerelease
        i += 1;
        let mut start = i;
        while i < b.len() && b[i] != b'+' {
            if !ident(b[i]) && b[i] != b'.' {
                return None;
            }
            if b[i] == b'.' {
                if start == i || bad_num(&b[start..i]) {
                    return None;
                }
                start = i + 1;
            }
            i += 1;
        }
        if start == i || bad_num(&b[start..i]) {
            return None;
        }
    }
    if i < b.len() && b[i] == b'+' {
        let bstart = i;
        i += 1;
        let mut start = i;
        while i < b.len() {
            if !ident(b[i]) && b[i] != b'.' {
                return None;
            }
            if b[i] == b'.' {
                if start == i {
                    return None;
                }
                start = i + 1;
            }
            i += 1;
        }
        if start == i {
            return None;
        }
        p.build = &v[bstart..];
    }
    if i != b.len() {
        return None;
    }
    Some(p)
}

fn bad_num(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_digit) && s.len() > 1 && s[0] == b'0'
}

/// `semver.IsValid`.
pub fn is_valid_semver(v: &str) -> bool {
    parse_semver(v).is_some()
}

/// `semver.Major` (e.g. `v2`), or "" if invalid.
pub fn semver_major(v: &str) -> String {
    parse_semver(v).map_or(String::new(), |p| format!("v{}", p.major))
}

/// `module.CanonicalVersion`: `semver.Canonical` keeping `+incompatible`; "" if invalid.
pub fn canonical_version(v: &str) -> String {
    let Some(p) = parse_semver(v) else {
        return String::new();
    };
    let mut cv = if !p.build.is_empty() {
        v[..v.len() - p.build.len()].to_string()
    } else {
        format!("{v}{}", p.short)
    };
    if p.build == "+incompatible" {
        cv.push_str("+incompatible");
    }
    cv
}

// ---------------------------------------------------------------------------
// module paths (golang.org/x/mod/module)
// ---------------------------------------------------------------------------

/// `module.SplitPathVersion`: (prefix, pathMajor) or `None` if the major suffix is malformed.
pub fn split_path_version(path: &str) -> Option<(&str, &str)> {
    if path.starts_with("gopkg.in/") {
        return split_gopkg_in(path);
    }
    let b = path.as_bytes();
    let mut i = b.len();
    let mut dot = false;
    while i > 0 && (b[i - 1].is_ascii_digit() || b[i - 1] == b'.') {
        if b[i - 1] == b'.' {
            dot = true;
        }
        i -= 1;
    }
    if i <= 1 || i == b.len() || b[i - 1] != b'v' || b[i - 2] != b'/' {
        return Some((path, ""));
    }
    let (prefix, major) = (&path[..i - 2], &path[i - 2..]);
    if dot || major.len() <= 2 || major.as_bytes()[2] == b'0' || major == "/v1" {
        return None;
    }
    Some((prefix, major))
}

fn split_gopkg_in(path: &str) -> Option<(&str, &str)> {
    let b = path.as_bytes();
    let mut i = b.len();
    if path.ends_with("-unstable") {
        i -= "-unstable".len();
    }
    while i > 0 && b[i - 1].is_ascii_digit() {
        i -= 1;
    }
    if i <= 1 || b[i - 1] != b'v' || b[i - 2] != b'.' {
        return None;
    }
    let (prefix, major) = (&path[..i - 2], &path[i - 2..]);
    if major.len() <= 2 || (major.as_bytes()[2] == b'0' && major != ".v0") {
        return None;
    }
    Some((prefix, major))
}

/// `module.CheckPathMajor`: whether version `v` fits the path's major suffix.
pub fn check_path_major(v: &str, path_major: &str) -> Result<(), ModFileErrorKind> {
    let mut pm = path_major;
    if pm.starts_with(".v") {
        pm = pm.strip_suffix("-unstable").unwrap_or(pm);
    }
    if v.starts_with("v0.0.0-") && pm == ".v1" {
        return Ok(());
    }
    let m = semver_major(v);
    let want = if pm.is_empty() {
        let build = parse_semver(v).map_or("", |p| p.build);
        if m == "v0" || m == "v1" || build == "+incompatible" {
            return Ok(());
        }
        "v0 or v1".to_string()
    } else {
        if m == pm.get(1..).unwrap_or("") {
            return Ok(());
        }
        pm.get(1..).unwrap_or("").to_string()
    };
    Err(ModFileErrorKind::InvalidVersion {
        version: v.to_string(),
        reason: format!("should be {want}, not {m}"),
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PathKind {
    Module,
    Import,
    File,
}

fn check_elem(elem: &str, kind: PathKind) -> Result<(), String> {
    if elem.is_empty() {
        return Err("empty path element".into());
    }
    if elem.bytes().all(|c| c == b'.') {
        return Err(format!("invalid path element {}", go_quote(elem)));
    }
    if elem.starts_with('.') && kind == PathKind::Module {
        return Err("leading dot in path element".into());
    }
    if elem.ends_with('.') {
        return Err("trailing dot in path element".into());
    }
    for r in elem.chars() {
        let ascii_ok = |r: char| r.is_ascii_alphanumeric() || "-._~".contains(r);
        let ok = match kind {
            PathKind::Module => r.is_ascii() && ascii_ok(r),
            PathKind::Import => r.is_ascii() && (ascii_ok(r) || r == '+'),
            PathKind::File => {
                if r.is_ascii() {
                    r.is_ascii_alphanumeric() || "!#$%&()+,-.=@[]^_{}~ ".contains(r)
                } else {
                    r.is_alphabetic() && is_go_letter(r)
                }
            }
        };
        if !ok {
            return Err(format!("invalid char {}", quote_rune(r)));
        }
    }
    let short = elem.split('.').next().unwrap_or(elem);
    const BAD: [&str; 22] = [
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
        "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];
    if BAD.iter().any(|b| b.eq_ignore_ascii_case(short)) {
        return Err(format!(
            "{} disallowed as path element component on Windows",
            go_quote(short)
        ));
    }
    if kind == PathKind::File {
        return Ok(());
    }
    if let Some(t) = short.rfind('~') {
        let suf = &short[t + 1..];
        if !suf.is_empty() && suf.bytes().all(|c| c.is_ascii_digit()) {
            return Err("trailing tilde and digits in path element".into());
        }
    }
    Ok(())
}

/// Go's `unicode.IsLetter` is category L; Rust's `is_alphabetic` also admits
/// Nl and Other_Alphabetic marks. Exclude the common non-L alphabetic ranges.
fn is_go_letter(r: char) -> bool {
    let u = r as u32;
    !matches!(u, 0x16EE..=0x16F0 | 0x2160..=0x2188 | 0x3007 | 0x3021..=0x3029 | 0x3038..=0x303A
        | 0x0300..=0x036F | 0x05B0..=0x05C7 | 0x0610..=0x061A | 0x064B..=0x065F
        | 0x0900..=0x0903 | 0x093A..=0x094F | 0x24B6..=0x24E9 | 0x1F130..=0x1F189)
}

fn check_path(path: &str, kind: PathKind) -> Result<(), String> {
    if path.is_empty() {
        return Err("empty string".into());
    }
    if path.starts_with('-') && kind != PathKind::File {
        return Err("leading dash".into());
    }
    if path.contains("//") {
        return Err("double slash".into());
    }
    if path.ends_with('/') {
        return Err("trailing slash".into());
    }
    for e in path.split('/') {
        check_elem(e, kind)?;
    }
    Ok(())
}

/// `module.CheckPath`: validates a module path.
pub fn check_module_path(path: &str) -> Result<(), ModulePathError> {
    let mal = |reason: String| ModulePathError::Malformed {
        kind: "module",
        path: path.to_string(),
        reason,
    };
    check_path(path, PathKind::Module).map_err(mal)?;
    let i = path.find('/').unwrap_or(path.len());
    if i == 0 {
        return Err(mal("leading slash".into()));
    }
    let first = &path[..i];
    if !first.contains('.') {
        return Err(mal("missing dot in first path element".into()));
    }
    if path.starts_with('-') {
        return Err(mal("leading dash in first path element".into()));
    }
    for r in first.chars() {
        if !(r == '-' || r == '.' || r.is_ascii_digit() || r.is_ascii_lowercase()) {
            return Err(mal(format!(
                "invalid char {} in first path element",
                quote_rune(r)
            )));
        }
    }
    if split_path_version(path).is_none() {
        return Err(mal("invalid version".into()));
    }
    Ok(())
}

/// `module.CheckImportPath`: validates an import path.
pub fn check_import_path(path: &str) -> Result<(), ModulePathError> {
    check_path(path, PathKind::Import).map_err(|reason| ModulePathError::Malformed {
        kind: "import",
        path: path.to_string(),
        reason,
    })
}

/// `module.CheckFilePath`: validates a slash-separated file path inside a module.
pub fn check_file_path(path: &str) -> Result<(), ModulePathError> {
    check_path(path, PathKind::File).map_err(|reason| ModulePathError::Malformed {
        kind: "file",
        path: path.to_string(),
        reason,
    })
}

fn escape_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `module.EscapePath`: the module path as used in `$GOMODCACHE` (`A` → `!a`).
pub fn escape_module_path(path: &str) -> Result<String, ModulePathError> {
    check_module_path(path)?;
    Ok(escape_string(path))
}

/// `module.EscapeVersion`: the version as used in `$GOMODCACHE`.
pub fn escape_version(v: &str) -> Result<String, ModulePathError> {
    if check_elem(v, PathKind::File).is_err() || v.contains('!') {
        return Err(ModulePathError::InvalidVersion {
            version: v.to_string(),
            reason: "disallowed version string".into(),
        });
    }
    Ok(escape_string(v))
}

fn unescape_string(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut bang = false;
    for c in s.chars() {
        if !c.is_ascii() {
            return None;
        }
        if bang {
            bang = false;
            if !c.is_ascii_lowercase() {
                return None;
            }
            out.push(c.to_ascii_uppercase());
            continue;
        }
        if c == '!' {
            bang = true;
            continue;
        }
        if c.is_ascii_uppercase() {
            return None;
        }
        out.push(c);
    }
    (!bang).then_some(out)
}

/// `module.UnescapePath`: inverse of [`escape_module_path`].
pub fn unescape_module_path(escaped: &str) -> Result<String, ModulePathError> {
    let bad = || ModulePathError::BadEscape {
        what: "module path",
        text: escaped.to_string(),
    };
    let p = unescape_string(escaped).ok_or_else(bad)?;
    check_module_path(&p).map_err(|_| bad())?;
    Ok(p)
}

/// `module.UnescapeVersion`: inverse of [`escape_version`].
pub fn unescape_version(escaped: &str) -> Result<String, ModulePathError> {
    let bad = || ModulePathError::BadEscape {
        what: "version",
        text: escaped.to_string(),
    };
    let v = unescape_string(escaped).ok_or_else(bad)?;
    check_elem(&v, PathKind::File).map_err(|_| bad())?;
    Ok(v)
}

/// Path of a download-cache file for `path@version` under `$GOMODCACHE`:
/// `<gomodcache>/cache/download/<escaped path>/@v/<escaped version>.<suffix>`
/// (`suffix` is `zip`, `ziphash`, `mod`, `info` or `lock`).
pub fn download_cache_file(
    gomodcache: &Path,
    path: &str,
    version: &str,
    suffix: &str,
) -> Result<PathBuf, ModulePathError> {
    let ep = escape_module_path(path)?;
    let ev = escape_version(version)?;
    Ok(gomodcache
        .join("cache/download")
        .join(ep)
        .join("@v")
        .join(format!("{ev}.{suffix}")))
}

/// Extracted module directory under `$GOMODCACHE`: `<gomodcache>/<escaped path>@<escaped version>`.
pub fn module_cache_dir(
    gomodcache: &Path,
    path: &str,
    version: &str,
) -> Result<PathBuf, ModulePathError> {
    let ep = escape_module_path(path)?;
    let ev = escape_version(version)?;
    Ok(gomodcache.join(format!("{ep}@{ev}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    fn err_of(data: &str) -> String {
        parse_go_mod(&p("go.mod"), data.as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn parses_full_go_mod() {
        let src = r#"// leading comment

module "example.com/m" // Deprecated: use example.com/n

go 1.22.1
toolchain go1.23.0
godebug (
	panicnil=1
	asynctimerchan=0
)

require (
	example.com/a v1.2.3 // indirect
	"example.com/b" v0.0.0-20200101000000-abcdefabcdef
	example.com/c/v2 v2.0.0+incompatible // indirect; for tests
	example.com/d v1.0.0 // not indirect
	gopkg.in/yaml.v3 v3.0.1
)
require example.com/e v1.0.0
exclude example.com/a v1.2.2
replace example.com/a => ./local/a
replace example.com/b v0.1.0 => ../b
replace example.com/c/v2 => /abs/c
replace (
	example.com/d v1.0.0 => example.com/d2 v1.1.0
)
retract (
	// bad release
	v1.0.0
	[v1.1.0, v1.2.0] // range
)
tool example.com/a/cmd/x
ignore ./node_modules
"#;
        let f = parse_go_mod(&p("go.mod"), src.as_bytes()).unwrap();
        let m = f.module.as_ref().unwrap();
        assert_eq!(m.path, "example.com/m");
        assert_eq!(m.deprecated.as_deref(), Some("use example.com/n"));
        assert_eq!(m.pos.line, 3);
        assert_eq!(f.go.as_deref(), Some("1.22.1"));
        assert_eq!(f.toolchain.as_deref(), Some("go1.23.0"));
        assert_eq!(
            f.godebug,
            [
                ("panicnil".into(), "1".into()),
                ("asynctimerchan".into(), "0".into())
            ]
        );
        let req: Vec<(&str, &str, bool)> = f
            .require
            .iter()
            .map(|r| (r.path.as_str(), r.version.as_str(), r.indirect))
            .collect();
        assert_eq!(
            req,
            [
                ("example.com/a", "v1.2.3", true),
                ("example.com/b", "v0.0.0-20200101000000-abcdefabcdef", false),
                ("example.com/c/v2", "v2.0.0+incompatible", true),
                ("example.com/d", "v1.0.0", false),
                ("gopkg.in/yaml.v3", "v3.0.1", false),
                ("example.com/e", "v1.0.0", false),
            ]
        );
        assert_eq!(
            f.require[0].pos,
            Pos {
                line: 13,
                col: 2,
                byte: f.require[0].pos.byte
            }
        );
        assert_eq!(f.exclude[0].version, "v1.2.2");
        assert_eq!(f.replace.len(), 4);
        assert_eq!(f.replace[0].old_version, None);
        assert_eq!(f.replace[0].new, ReplaceTarget::Local("./local/a".into()));
        assert_eq!(f.replace[1].old_version.as_deref(), Some("v0.1.0"));
        assert_eq!(f.replace[1].new, ReplaceTarget::Local("../b".into()));
        assert_eq!(f.replace[2].new, ReplaceTarget::Local("/abs/c".into()));
        assert_eq!(
            f.replace[3].new,
            ReplaceTarget::Module {
                path: "example.com/d2".into(),
                version: "v1.1.0".into()
            }
        );
        assert_eq!(f.retract.len(), 2);
        assert_eq!(
            (f.retract[0].low.as_str(), f.retract[0].high.as_str()),
            ("v1.0.0", "v1.0.0")
        );
        assert_eq!(f.retract[0].rationale, "bad release");
        assert_eq!(
            (f.retract[1].low.as_str(), f.retract[1].high.as_str()),
            ("v1.1.0", "v1.2.0")
        );
        assert_eq!(f.retract[1].rationale, "range");
        assert_eq!(f.tool, ["example.com/a/cmd/x"]);
        assert_eq!(f.ignore, ["./node_modules"]);
    }

    #[test]
    fn error_positions_and_messages() {
        assert_eq!(
            err_of("module x\nfoo bar\n"),
            "go.mod:2: unknown directive: foo"
        );
        assert_eq!(
            err_of("module x\n  foo bar\n"),
            "go.mod:2:3: unknown directive: foo"
        );
        assert_eq!(
            err_of("module x\ngo 1.2.3.4\n"),
            "go.mod:2: invalid go version '1.2.3.4': must match format 1.23.0"
        );
        assert_eq!(
            err_of("module x\nrequire (\n\ta v1\n"),
            "go.mod:4: syntax error (unterminated block started at go.mod:2:1)"
        );
        assert_eq!(
            err_of("module x /* c */\n"),
            "go.mod:1:10: mod files must use // comments (not /* */ comments)"
        );
        assert_eq!(
            err_of("module \"x\n"),
            "go.mod:1:10: unexpected newline in string"
        );
        assert_eq!(err_of("module \"x"), "go.mod:1:8: unexpected EOF in string");
        assert_eq!(
            err_of("require (\n) x\n"),
            "go.mod:2:4: syntax error (expected newline after closing paren)"
        );
        assert_eq!(
            err_of("module x\nrequire example.com/a/v2 v1.0.0\n"),
            "go.mod:2: require example.com/a/v2: version \"v1.0.0\" invalid: should be v2, not v1"
        );
        assert_eq!(
            err_of("module x\nrequire example.com/a v1.0.0 extra\n"),
            "go.mod:2: usage: require module/path v1.2.3"
        );
        assert_eq!(err_of("module x\nreplace a => b\n"), "go.mod:2: replacement module without version must be directory path (rooted or starting with . or ..)");
        assert_eq!(
            err_of("module x\nreplace a => b@v1.0.0\n"),
            "go.mod:2: replacement module must match format 'path version', not 'path@version'"
        );
        assert_eq!(
            err_of("module x\nreplace a => ./b v1.0.0\n"),
            "go.mod:2: replacement module directory path \"./b\" cannot have version"
        );
        assert_eq!(
            err_of("module x\nretract [v1.0.0 v1.1.0]\n"),
            "go.mod:2: expected ',' after version"
        );
        assert_eq!(
            err_of("retract v1.0.0\n"),
            "go.mod:1: no module directive found, so retract cannot be used"
        );
        assert_eq!(
            err_of("module x\nmodule y\n"),
            "go.mod:2: repeated module statement"
        );
        assert_eq!(
            err_of("module x\nfoo (\n)\n"),
            "go.mod:2: unknown block type: foo"
        );
        assert_eq!(
            err_of("module x\ngodebug a\n"),
            "go.mod:2: usage: godebug key=value"
        );
        assert_eq!(
            err_of("module x\ntoolchain 1.21\n"),
            "go.mod:2: invalid toolchain version '1.21': must match format go1.23.0 or default"
        );
        assert_eq!(
            err_of("module x\x01\n"),
            "go.mod:1:9: unexpected input character '\\x01'"
        );
        // Two semantic errors are both reported.
        assert_eq!(
            err_of("module x\nfoo\nbar\n"),
            "go.mod:2: unknown directive: foo\ngo.mod:3: unknown directive: bar"
        );
        // Strict mode requires canonical versions; the canonicalizing modes fix them.
        assert!(
            err_of("module x\nrequire example.com/a v1.2\n").contains("version \"v1.2\" invalid")
        );
        let f = parse_go_mod_with(
            &p("go.mod"),
            b"module x\nrequire example.com/a v1.2\n",
            ParseMode::StrictCanonicalize,
        )
        .unwrap();
        assert_eq!(f.require[0].version, "v1.2.0");
    }

    #[test]
    fn lax_mode_ignores_unknown() {
        let src = b"module example.com/dep\ngo 1.21.0-custom\nfoo bar\nblock (\n x\n)\nreplace a => b\ntoolchain bogus\nrequire example.com/a v1.2\nretract (weird)\n";
        let f = parse_go_mod_lax(&p("go.mod"), src).unwrap();
        assert_eq!(f.go.as_deref(), Some("1.21"));
        assert_eq!(f.require[0].version, "v1.2.0");
        assert!(f.replace.is_empty() && f.toolchain.is_none() && f.retract.is_empty());
        assert!(parse_go_mod(&p("go.mod"), src).is_err());
    }

    #[test]
    fn go_work() {
        let src = "go 1.23\ntoolchain go1.23.1\ngodebug x=y\nuse ./a // example.com/a\nuse (\n\t../b\n\t\"/abs path/c\"\n)\nreplace example.com/x v1.0.0 => ./x\n";
        let w = parse_go_work(&p("go.work"), src.as_bytes()).unwrap();
        assert_eq!(w.go.as_deref(), Some("1.23"));
        assert_eq!(w.toolchain.as_deref(), Some("go1.23.1"));
        assert_eq!(w.godebug, [("x".into(), "y".into())]);
        let dirs: Vec<&str> = w.use_.iter().map(|u| u.dir.as_str()).collect();
        assert_eq!(dirs, ["./a", "../b", "/abs path/c"]);
        assert_eq!(
            w.use_[0].module_path_comment.as_deref(),
            Some("example.com/a")
        );
        assert_eq!(w.replace[0].new, ReplaceTarget::Local("./x".into()));
        let e = parse_go_work(&p("go.work"), b"go 1.23\nmodule x\nuse a b\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "go.work:2: unknown directive: module\ngo.work:3: usage: use local/dir"
        );
    }

    #[test]
    fn modules_txt() {
        let src = "# example.com/a v1.0.0\n## explicit; go 1.21\nexample.com/a\nexample.com/a/sub\n# example.com/b v1.2.0 => ../b\n## explicit\nexample.com/b\n# example.com/c v0.1.0 => example.com/c2 v0.2.0\nexample.com/c\n# example.com/d => ./d\n## explicit; go 1.22\n# bogus line\nignored/pkg\n";
        let v = parse_modules_txt(&p("vendor/modules.txt"), src.as_bytes()).unwrap();
        assert_eq!(v.modules.len(), 4);
        let a = &v.modules[0];
        assert_eq!(
            (a.path.as_str(), a.version.as_str(), a.explicit),
            ("example.com/a", "v1.0.0", true)
        );
        assert_eq!(a.go_version.as_deref(), Some("1.21"));
        assert_eq!(a.packages, ["example.com/a", "example.com/a/sub"]);
        assert_eq!(
            v.modules[1].replacement,
            Some(ReplaceTarget::Local("../b".into()))
        );
        assert_eq!(
            v.modules[2].replacement,
            Some(ReplaceTarget::Module {
                path: "example.com/c2".into(),
                version: "v0.2.0".into()
            })
        );
        assert!(!v.modules[2].explicit);
        let d = &v.modules[3];
        assert_eq!((d.path.as_str(), d.version.as_str()), ("example.com/d", ""));
        assert_eq!(d.replacement, Some(ReplaceTarget::Local("./d".into())));
        assert!(d.packages.is_empty());
        assert_eq!(
            v.module_for_package("example.com/a/sub").unwrap().path,
            "example.com/a"
        );
    }

    #[test]
    fn go_sum() {
        let src = "example.com/a v1.0.0 h1:AAA=\nexample.com/a v1.0.0/go.mod h1:BBB=\n\nexample.com/b v1.0.0/go.mod h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=\nexample.com/c v1.0.0 h2:XXX=\nexample.com/c v1.0.0 h1:CCC=\n";
        let s = parse_go_sum(&p("go.sum"), src.as_bytes()).unwrap();
        assert_eq!(
            s.lookup("example.com/a", "v1.0.0"),
            (Some("h1:AAA="), Some("h1:BBB="))
        );
        assert_eq!(s.lookup("example.com/b", "v1.0.0"), (None, None));
        assert_eq!(s.lookup("example.com/c", "v1.0.0").0, Some("h1:CCC="));
        assert!(s.contains("example.com/a", "v1.0.0/go.mod", "h1:BBB="));
        let e = parse_go_sum(&p("go.sum"), b"a v1\n").unwrap_err();
        assert_eq!(e.to_string(), "go.sum:1: wrong number of fields 2");
    }

    #[test]
    fn escaping_and_paths() {
        assert_eq!(
            escape_module_path("github.com/Azure/SDK").unwrap(),
            "github.com/!azure/!s!d!k"
        );
        assert_eq!(escape_version("v1.0.0-RC1").unwrap(), "v1.0.0-!r!c1");
        assert_eq!(
            unescape_module_path("github.com/!azure/!s!d!k").unwrap(),
            "github.com/Azure/SDK"
        );
        assert!(unescape_module_path("github.com/Azure").is_err());
        assert!(unescape_module_path("github.com/!").is_err());
        assert!(escape_version("v1!").is_err());
        assert_eq!(
            escape_module_path("Github.com/x").unwrap_err().to_string(),
            "malformed module path \"Github.com/x\": invalid char 'G' in first path element"
        );
        assert_eq!(
            check_module_path("example/x").unwrap_err().to_string(),
            "malformed module path \"example/x\": missing dot in first path element"
        );
        assert!(check_module_path("example.com/x/v1").is_err());
        assert!(check_module_path("example.com/x/v2").is_ok());
        assert!(check_module_path("example.com/.x").is_err());
        assert!(check_module_path("example.com/x~1").is_err());
        assert!(check_import_path("example.com/x+y").is_ok());
        assert!(check_module_path("example.com/x+y").is_err());
        assert_eq!(
            split_path_version("gopkg.in/yaml.v3"),
            Some(("gopkg.in/yaml", ".v3"))
        );
        assert_eq!(
            split_path_version("example.com/x/v2"),
            Some(("example.com/x", "/v2"))
        );
        assert_eq!(split_path_version("example.com/x/v1"), None);
        assert_eq!(canonical_version("v1.2"), "v1.2.0");
        assert_eq!(canonical_version("v1"), "v1.0.0");
        assert_eq!(canonical_version("v1.2.3+meta"), "v1.2.3");
        assert_eq!(
            canonical_version("v2.0.0+incompatible"),
            "v2.0.0+incompatible"
        );
        assert_eq!(canonical_version("v1.2-pre"), "");
        assert_eq!(canonical_version("v01.2.3"), "");
        assert_eq!(canonical_version("v1.2.3-01"), "");
        assert!(is_valid_semver("v1.2.3-0.2020"));
        assert_eq!(
            download_cache_file(Path::new("/c"), "example.com/Foo", "v1.0.0", "ziphash").unwrap(),
            Path::new("/c/cache/download/example.com/!foo/@v/v1.0.0.ziphash")
        );
        assert_eq!(
            module_cache_dir(Path::new("/c"), "example.com/Foo", "v1.0.0-X").unwrap(),
            Path::new("/c/example.com/!foo@v1.0.0-!x")
        );
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

    // ---- oracle: `go mod edit -json` / `go work edit -json` ----

    fn js(s: &str) -> String {
        let mut o = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => o.push_str("\\\""),
                '\\' => o.push_str("\\\\"),
                '\n' => o.push_str("\\n"),
                '\r' => o.push_str("\\r"),
                '\t' => o.push_str("\\t"),
                '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                    o.push_str(&format!("\\u{:04x}", c as u32))
                }
                c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
                c => o.push(c),
            }
        }
        o.push('"');
        o
    }

    /// Renders Go's encoding/json MarshalIndent("", "\t") of an object given as
    /// (key, already-rendered value) pairs; nested values are re-indented.
    fn obj(fields: Vec<(&str, String)>) -> String {
        if fields.is_empty() {
            return "{}".into();
        }
        let body: Vec<String> = fields
            .into_iter()
            .map(|(k, v)| format!("\t\"{k}\": {}", v.replace('\n', "\n\t")))
            .collect();
        format!("{{\n{}\n}}", body.join(",\n"))
    }

    fn arr(items: Vec<String>) -> String {
        let body: Vec<String> = items
            .into_iter()
            .map(|v| format!("\t{}", v.replace('\n', "\n\t")))
            .collect();
        format!("[\n{}\n]", body.join(",\n"))
    }

    fn modver(path: &str, version: &str) -> String {
        let mut f = vec![("Path", js(path))];
        if !version.is_empty() {
            f.push(("Version", js(version)));
        }
        obj(f)
    }

    fn replace_json(r: &Replace) -> String {
        let new = match &r.new {
            ReplaceTarget::Local(d) => modver(d, ""),
            ReplaceTarget::Module { path, version } => modver(path, version),
        };
        obj(vec![
            (
                "Old",
                modver(&r.old_path, r.old_version.as_deref().unwrap_or("")),
            ),
            ("New", new),
        ])
    }

    fn mod_json(f: &ModFile) -> String {
        let mut fields = Vec::new();
        let mut m = vec![(
            "Path",
            js(f.module.as_ref().map_or("", |m| m.path.as_str())),
        )];
        if let Some(d) = f.module.as_ref().and_then(|m| m.deprecated.as_ref()) {
            m.push(("Deprecated", js(d)));
        }
        fields.push(("Module", obj(m)));
        if let Some(g) = &f.go {
            fields.push(("Go", js(g)));
        }
        if let Some(t) = &f.toolchain {
            fields.push(("Toolchain", js(t)));
        }
        if !f.godebug.is_empty() {
            fields.push((
                "GoDebug",
                arr(f
                    .godebug
                    .iter()
                    .map(|(k, v)| obj(vec![("Key", js(k)), ("Value", js(v))]))
                    .collect()),
            ));
        }
        if !f.require.is_empty() {
            fields.push((
                "Require",
                arr(f
                    .require
                    .iter()
                    .map(|r| {
                        let mut o = vec![("Path", js(&r.path)), ("Version", js(&r.version))];
                        if r.indirect {
                            o.push(("Indirect", "true".into()));
                        }
                        obj(o)
                    })
                    .collect()),
            ));
        }
        if !f.exclude.is_empty() {
            fields.push((
                "Exclude",
                arr(f
                    .exclude
                    .iter()
                    .map(|m| modver(&m.path, &m.version))
                    .collect()),
            ));
        }
        if !f.replace.is_empty() {
            fields.push(("Replace", arr(f.replace.iter().map(replace_json).collect())));
        }
        if !f.retract.is_empty() {
            fields.push((
                "Retract",
                arr(f
                    .retract
                    .iter()
                    .map(|r| {
                        let mut o = Vec::new();
                        for (k, v) in [
                            ("Low", &r.low),
                            ("High", &r.high),
                            ("Rationale", &r.rationale),
                        ] {
                            if !v.is_empty() {
                                o.push((k, js(v)));
                            }
                        }
                        obj(o)
                    })
                    .collect()),
            ));
        }
        if !f.tool.is_empty() {
            fields.push((
                "Tool",
                arr(f.tool.iter().map(|t| obj(vec![("Path", js(t))])).collect()),
            ));
        }
        if !f.ignore.is_empty() {
            fields.push((
                "Ignore",
                arr(f
                    .ignore
                    .iter()
                    .map(|t| obj(vec![("Path", js(t))]))
                    .collect()),
            ));
        }
        obj(fields)
    }

    fn work_json(w: &WorkFile) -> String {
        let mut fields = Vec::new();
        if let Some(g) = &w.go {
            fields.push(("Go", js(g)));
        }
        if let Some(t) = &w.toolchain {
            fields.push(("Toolchain", js(t)));
        }
        if !w.godebug.is_empty() {
            fields.push((
                "Godebug",
                arr(w
                    .godebug
                    .iter()
                    .map(|(k, v)| obj(vec![("Key", js(k)), ("Value", js(v))]))
                    .collect()),
            ));
        }
        if !w.use_.is_empty() {
            fields.push((
                "Use",
                arr(w
                    .use_
                    .iter()
                    .map(|u| obj(vec![("DiskPath", js(&u.dir))]))
                    .collect()),
            ));
        }
        if !w.replace.is_empty() {
            fields.push(("Replace", arr(w.replace.iter().map(replace_json).collect())));
        }
        obj(fields)
    }

    const GO_MOD_CASES: &[&str] = &[
        "module example.com/m\n",
        "module example.com/m // Deprecated: use x\n\ngo 1.21\ntoolchain go1.22.0\ngodebug (\n  a=b\n)\nrequire (\n  example.com/a v1.2 // indirect\n  \"example.com/b\" v1.0.0\n)\nexclude example.com/c v1.0.0\nreplace example.com/a => ../a\nreplace example.com/b v1.0.0 => example.com/c v1.1.0\nretract [v1.0.0, v1.1.0] // bad\nretract v0.1.0\ntool example.com/a/cmd\nignore ./x\n",
        "// Deprecated: top comment\nmodule example.com/m\n",
        "// Deprecated: detached\n\nmodule example.com/m\n",
        "module (\n\t// Deprecated: in block\n\texample.com/m\n)\n",
        "// x\n//\n// Deprecated: after blank\n//\n// more\nmodule example.com/m\n",
        "module example.com/m\nretract (\n\t// first\n\n\t// second\n\tv1.0.0\n\tv1.0.1 // suffix\n)\n",
        "module example.com/m\nretract (\n\t// block rationale\n\tv1.0.0\n)\n",
        "module example.com/m\nrequire example.com/a v1.0.0 // indirect; some note\nrequire example.com/b v1.0.0 //indirect\nrequire example.com/c v1.0.0 // indirectly\nrequire example.com/d v1.0.0 // x indirect\n",
        "module example.com/m\r\ngo 1.21\r\nrequire example.com/a v1.0.0 // indirect\r\n",
        "module \"example.com/q\\x41\"\nrequire \"example.com/\\u0062\" v1.0.0\n",
        "module example.com/m\nreplace example.com/a v1.0.0 => /abs/path\nreplace example.com/b => .\nreplace example.com/c => ..\n",
        "module example.com/m\nrequire gopkg.in/yaml.v2 v2.4.0\nrequire example.com/v2 v2.0.0\nrequire example.com/x v0.0.0-20200101000000-abcdefabcdef\n",
        "module example.com/m\nrequire ()\nreplace (\n)\n",
        // errors
        "module x\nfoo bar\nrequire x/y v1\nrequire (\n a\n)\n",
        "module x\ngo 1.21\ngo 1.22\n",
        "module x\ngo 1.21.0.0\n",
        "module x\ngo v1.21\n",
        "module x\nrequire (\n\ta v1.0.0\n",
        "module x /* c */\n",
        "module \"x\n",
        "module \"x",
        "module x\nrequire (\n) x\n",
        "module x\nrequire example.com/a/v2 v1.0.0\n",
        "module x\nrequire example.com/a v2.0.0\n",
        "module x\nrequire example.com/a 1.0.0\n",
        "module x\nrequire example.com/a/v1 v1.0.0\n",
        "module x\nrequire example.com/a v1.0.0 v2\n",
        "module x\nrequire ex\"ample v1.0.0\n",
        "module x\nrequire \"example.com/a v1.0.0\n",
        "module x\nrequire example.com/a \"v1.0\\q\"\n",
        "module x\nreplace a => b\n",
        "module x\nreplace a => b@v1.0.0\n",
        "module x\nreplace a => ./b v1.0.0\n",
        "module x\nreplace a v1.0.0 =>\n",
        "module x\nreplace a => .\\b\n",
        "module x\nretract [v1.0.0 v1.1.0]\n",
        "module x\nretract [v1.0.0,\n",
        "module x\nretract v1.0.0 extra\n",
        "module x\nretract\n",
        "module x\nretract (\n\t[\n)\n",
        "retract v1.0.0\n",
        "module x\nmodule y\n",
        "module x\nfoo (\n)\n",
        "module x\nrequire replace (\n)\n",
        "module x\ngodebug a\n",
        "module x\ngodebug a=\"b\"\n",
        "module x\ntoolchain 1.21\ntoolchain go1.21\ntoolchain default\n",
        "module x\x01\n",
        "module x\nfoo\nbar\n",
        "module x\ntool a b\nignore\n",
        "module x y\n",
        "module x\nexclude example.com/a v1.0.0 // c\nexclude example.com/a\n",
        "\u{a0}module x\n",
        "module x\nrequire a v1.0.0\nrequire b\u{200b} v1.0.0\n",
    ];

    fn go_cmd(go: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
        Command::new(go)
            .current_dir(dir)
            .args(args)
            .env("GOFLAGS", "-mod=mod")
            .env("GOPROXY", "off")
            .env("GOSUMDB", "off")
            .env("GOTOOLCHAIN", "local")
            .env("GOENV", "off")
            .env("GOWORK", "off")
            .env("GOCACHE", dir.join(".cache"))
            .output()
            .unwrap()
    }

    #[test]
    fn oracle_go_mod_edit_json() {
        let go = crate::testutil::go_binary();
        let dir = std::env::temp_dir().join(format!("gob-modfile-oracle-{}", std::process::id()));
        let _ = fs_remove(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let gomod = dir.join("go.mod");
        let mut failures = Vec::new();
        for (i, case) in GO_MOD_CASES.iter().enumerate() {
            std::fs::write(&gomod, case).unwrap();
            let out = go_cmd(&go, &dir, &["mod", "edit", "-json"]);
            let got = parse_go_mod_with(&gomod, case.as_bytes(), ParseMode::StrictCanonicalize);
            let (want, mine) = if out.status.success() {
                let want = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
                (
                    want,
                    got.map(|f| mod_json(&f))
                        .unwrap_or_else(|e| format!("ERR {e}")),
                )
            } else {
                let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
                let want = stderr
                    .strip_prefix("go: errors parsing go.mod:\n")
                    .unwrap_or(&stderr)
                    .trim_end()
                    .to_string();
                (
                    format!("ERR {want}"),
                    got.map(|f| mod_json(&f))
                        .unwrap_or_else(|e| format!("ERR {e}")),
                )
            };
            if want != mine {
                failures.push(format!("case {i} {case:?}:\n go:  {want}\n gob: {mine}"));
            }
        }
        let _ = fs_remove(&dir);
        eprintln!("compared {} go.mod cases", GO_MOD_CASES.len());
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    const GO_WORK_CASES: &[&str] = &[
        "go 1.23\n",
        "go 1.23\ntoolchain go1.23.1\ngodebug (\n\tx=y\n)\nuse ./a // example.com/a\nuse (\n\t../b\n\t\"/abs path/c\"\n)\nreplace example.com/x v1.0.0 => ./x\nreplace example.com/y => example.com/z v1.2\n",
        "go 1.23\nmodule x\nuse a b\n",
        "go 1.23\nrequire (\n)\n",
        "go 1.23\nuse\n",
        "go 1.23.x\n",
        "go 1.23\nreplace a => b\n",
    ];

    #[test]
    fn oracle_go_work_edit_json() {
        let go = crate::testutil::go_binary();
        let dir = std::env::temp_dir().join(format!("gob-workfile-oracle-{}", std::process::id()));
        let _ = fs_remove(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let gowork = dir.join("go.work");
        let mut failures = Vec::new();
        for (i, case) in GO_WORK_CASES.iter().enumerate() {
            std::fs::write(&gowork, case).unwrap();
            let out = Command::new(&go)
                .current_dir(&dir)
                .args(["work", "edit", "-json"])
                .env("GOENV", "off")
                .env("GOTOOLCHAIN", "local")
                .env("GOWORK", &gowork)
                .env("GOCACHE", dir.join(".cache"))
                .output()
                .unwrap();
            let got = parse_go_work(Path::new("go.work"), case.as_bytes());
            let mine = got
                .map(|w| work_json(&w))
                .unwrap_or_else(|e| format!("ERR {e}"));
            let want = if out.status.success() {
                String::from_utf8_lossy(&out.stdout).trim_end().to_string()
            } else {
                let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
                let hdr = "errors parsing go.work:\n";
                let body = stderr
                    .rfind(hdr)
                    .map_or(stderr.as_str(), |i| &stderr[i + hdr.len()..]);
                format!("ERR {}", body.trim_end())
            };
            if want != mine {
                failures.push(format!("case {i} {case:?}:\n go:  {want}\n gob: {mine}"));
            }
        }
        let _ = fs_remove(&dir);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    fn fs_remove(d: &Path) -> std::io::Result<()> {
        std::fs::remove_dir_all(d)
    }
}
