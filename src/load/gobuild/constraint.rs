//! Build constraint expressions (`//go:build` and `// +build`) and the file-header rule that finds them.

use std::fmt;

use thiserror::Error;

/// Maximum nesting/size of a `//go:build` expression, as in go/build/constraint.
const MAX_SIZE: usize = 1000;
/// Maximum number of `&&`/`||` nodes produced by one `// +build` line.
const MAX_OLD_SIZE: usize = 100;

/// A parsed build-constraint expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A single tag such as `linux` or `cgo`.
    Tag(String),
    /// `!x`
    Not(Box<Expr>),
    /// `x && y`
    And(Box<Expr>, Box<Expr>),
    /// `x || y`
    Or(Box<Expr>, Box<Expr>),
}

impl Expr {
    /// Evaluates the expression, calling `ok` for every tag.
    ///
    /// Like Go, both operands of `&&` and `||` are always evaluated (no
    /// short-circuit), so `ok` sees every tag of the expression.
    pub fn eval(&self, ok: &mut dyn FnMut(&str) -> bool) -> bool {
        match self {
            Expr::Tag(t) => ok(t),
            Expr::Not(x) => !x.eval(ok),
            Expr::And(x, y) => {
                let a = x.eval(ok);
                let b = y.eval(ok);
                a && b
            }
            Expr::Or(x, y) => {
                let a = x.eval(ok);
                let b = y.eval(ok);
                a || b
            }
        }
    }

    /// Calls `f` on every tag of the expression, left to right.
    pub fn for_each_tag(&self, f: &mut dyn FnMut(&str)) {
        match self {
            Expr::Tag(t) => f(t),
            Expr::Not(x) => x.for_each_tag(f),
            Expr::And(x, y) | Expr::Or(x, y) => {
                x.for_each_tag(f);
                y.for_each_tag(f);
            }
        }
    }

    fn and(x: Expr, y: Expr) -> Expr {
        Expr::And(Box::new(x), Box::new(y))
    }

    fn or(x: Expr, y: Expr) -> Expr {
        Expr::Or(Box::new(x), Box::new(y))
    }

    fn not(x: Expr) -> Expr {
        Expr::Not(Box::new(x))
    }
}

impl fmt::Display for Expr {
    /// Formats like Go's `constraint.Expr.String` (`//go:build` syntax, minimal parens).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Tag(t) => f.write_str(t),
            Expr::Not(x) => match **x {
                Expr::And(..) | Expr::Or(..) => write!(f, "!({x})"),
                _ => write!(f, "!{x}"),
            },
            Expr::And(x, y) => {
                let arg = |e: &Expr| match e {
                    Expr::Or(..) => format!("({e})"),
                    _ => e.to_string(),
                };
                write!(f, "{} && {}", arg(x), arg(y))
            }
            Expr::Or(x, y) => {
                let arg = |e: &Expr| match e {
                    Expr::And(..) => format!("({e})"),
                    _ => e.to_string(),
                };
                write!(f, "{} || {}", arg(x), arg(y))
            }
        }
    }
}

/// An error parsing a build constraint line. `Display` matches Go's text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConstraintError {
    /// The line is neither a `//go:build` nor a `// +build` line.
    #[error("not a build constraint")]
    NotConstraint,
    /// A syntax error in a `//go:build` expression; `offset` is the byte
    /// offset within the expression text (after `//go:build`).
    #[error("{msg}")]
    Syntax {
        /// Byte offset in the expression text where the error was detected.
        offset: usize,
        /// Go's description, e.g. `unexpected token )`.
        msg: String,
    },
    /// A `// +build` line with too many terms.
    #[error("expression too complex for // +build lines")]
    TooComplex,
}

/// Parses a single `//go:build` or `// +build` line (trailing `\n` allowed).
pub fn parse(line: &str) -> Result<Expr, ConstraintError> {
    if let Some(text) = split_go_build(line) {
        return parse_expr(text);
    }
    if let Some(text) = split_plus_build(line) {
        return parse_plus_build_expr(text);
    }
    Err(ConstraintError::NotConstraint)
}

/// Reports whether `line` is a `//go:build` constraint line.
pub fn is_go_build(line: &str) -> bool {
    split_go_build(line).is_some()
}

/// Reports whether `line` is a `// +build` constraint line.
pub fn is_plus_build(line: &str) -> bool {
    split_plus_build(line).is_some()
}

/// Go's `strings.TrimSpace` (ASCII space plus Unicode White_Space).
pub(crate) fn trim_space(s: &str) -> &str {
    s.trim_matches(char::is_whitespace)
}

fn strip_one_newline(line: &str) -> Option<&str> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    if line.contains('\n') {
        None
    } else {
        Some(line)
    }
}

fn split_go_build(line: &str) -> Option<&str> {
    let line = strip_one_newline(line)?;
    if !line.starts_with("//go:build") {
        return None;
    }
    let rest = &trim_space(line)["//go:build".len()..];
    let trim = trim_space(rest);
    if rest.len() == trim.len() && !rest.is_empty() {
        return None;
    }
    Some(trim)
}

fn split_plus_build(line: &str) -> Option<&str> {
    let line = strip_one_newline(line)?;
    let line = trim_space(line.strip_prefix("//")?);
    let rest = line.strip_prefix("+build")?;
    let trim = trim_space(rest);
    if rest.len() == trim.len() && !rest.is_empty() {
        return None;
    }
    Some(trim)
}

/// Go's `unicode.IsLetter || unicode.IsDigit || '_' || '.'` test for tag characters.
///
/// ASCII is exact; for non-ASCII, Rust's alphabetic/numeric properties
/// approximate Go's L / Nd categories.
fn is_tag_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '_' || c == '.'
    } else {
        c.is_alphabetic() || c.is_numeric()
    }
}

fn is_valid_tag(word: &str) -> bool {
    !word.is_empty() && word.chars().all(is_tag_char)
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Tok<'a> {
    End,
    LParen,
    RParen,
    Not,
    AndAnd,
    OrOr,
    Tag(&'a str),
}

impl Tok<'_> {
    fn text(&self) -> &str {
        match self {
            Tok::End => "",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::Not => "!",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
            Tok::Tag(t) => t,
        }
    }
}

struct ExprParser<'a> {
    s: &'a str,
    i: usize,
    tok: Tok<'a>,
    pos: usize,
    size: usize,
}

type PResult<T> = Result<T, ConstraintError>;

fn syntax(offset: usize, msg: impl Into<String>) -> ConstraintError {
    ConstraintError::Syntax {
        offset,
        msg: msg.into(),
    }
}

fn parse_expr(text: &str) -> PResult<Expr> {
    let mut p = ExprParser {
        s: text,
        i: 0,
        tok: Tok::End,
        pos: 0,
        size: 0,
    };
    let x = p.or()?;
    if p.tok != Tok::End {
        return Err(syntax(p.pos, format!("unexpected token {}", p.tok.text())));
    }
    Ok(x)
}

impl<'a> ExprParser<'a> {
    fn or(&mut self) -> PResult<Expr> {
        let mut x = self.and()?;
        while self.tok == Tok::OrOr {
            let y = self.and()?;
            x = Expr::or(x, y);
        }
        Ok(x)
    }

    fn and(&mut self) -> PResult<Expr> {
        let mut x = self.not()?;
        while self.tok == Tok::AndAnd {
            let y = self.not()?;
            x = Expr::and(x, y);
        }
        Ok(x)
    }

    fn not(&mut self) -> PResult<Expr> {
        self.size += 1;
        if self.size > MAX_SIZE {
            return Err(syntax(self.pos, "build expression too large"));
        }
        self.lex()?;
        if self.tok == Tok::Not {
            self.lex()?;
            if self.tok == Tok::Not {
                return Err(syntax(self.pos, "double negation not allowed"));
            }
            return Ok(Expr::not(self.atom()?));
        }
        self.atom()
    }

    fn atom(&mut self) -> PResult<Expr> {
        match self.tok {
            Tok::LParen => {
                let pos = self.pos;
                let x = match self.or() {
                    Ok(x) => x,
                    Err(ConstraintError::Syntax { offset, msg })
                        if msg == "unexpected end of expression" =>
                    {
                        return Err(syntax(offset, "missing close paren"));
                    }
                    Err(e) => return Err(e),
                };
                if self.tok != Tok::RParen {
                    return Err(syntax(pos, "missing close paren"));
                }
                self.lex()?;
                Ok(x)
            }
            Tok::Tag(t) => {
                self.lex()?;
                Ok(Expr::Tag(t.to_string()))
            }
            Tok::End => Err(syntax(self.pos, "unexpected end of expression")),
            other => Err(syntax(
                self.pos,
                format!("unexpected token {}", other.text()),
            )),
        }
    }

    fn lex(&mut self) -> PResult<()> {
        let b = self.s.as_bytes();
        while self.i < b.len() && (b[self.i] == b' ' || b[self.i] == b'\t') {
            self.i += 1;
        }
        if self.i >= b.len() {
            self.tok = Tok::End;
            self.pos = self.i;
            return Ok(());
        }
        let c = b[self.i];
        match c {
            b'(' | b')' | b'!' => {
                self.pos = self.i;
                self.i += 1;
                self.tok = match c {
                    b'(' => Tok::LParen,
                    b')' => Tok::RParen,
                    _ => Tok::Not,
                };
                return Ok(());
            }
            b'&' | b'|' => {
                if self.i + 1 >= b.len() || b[self.i + 1] != c {
                    return Err(syntax(self.i, format!("invalid syntax at {}", c as char)));
                }
                self.pos = self.i;
                self.i += 2;
                self.tok = if c == b'&' { Tok::AndAnd } else { Tok::OrOr };
                return Ok(());
            }
            _ => {}
        }
        let rest = &self.s[self.i..];
        let end = rest
            .char_indices()
            .find(|&(_, ch)| !is_tag_char(ch))
            .map_or(rest.len(), |(i, _)| i);
        if end == 0 {
            let ch = rest.chars().next().unwrap_or('\u{FFFD}');
            return Err(syntax(self.i, format!("invalid syntax at {ch}")));
        }
        self.pos = self.i;
        self.i += end;
        self.tok = Tok::Tag(&self.s[self.pos..self.i]);
        Ok(())
    }
}

fn parse_plus_build_expr(text: &str) -> PResult<Expr> {
    let mut size = 0usize;
    let mut x: Option<Expr> = None;
    for clause in text.split(char::is_whitespace).filter(|s| !s.is_empty()) {
        let mut y: Option<Expr> = None;
        for lit in clause.split(',') {
            let z = if lit.starts_with("!!") || lit == "!" {
                Expr::Tag("ignore".to_string())
            } else {
                let (neg, name) = match lit.strip_prefix('!') {
                    Some(rest) => (true, rest),
                    None => (false, lit),
                };
                let t = if is_valid_tag(name) {
                    Expr::Tag(name.to_string())
                } else {
                    Expr::Tag("ignore".to_string())
                };
                if neg {
                    Expr::not(t)
                } else {
                    t
                }
            };
            y = Some(match y {
                None => z,
                Some(prev) => {
                    size += 1;
                    if size > MAX_OLD_SIZE {
                        return Err(ConstraintError::TooComplex);
                    }
                    Expr::and(prev, z)
                }
            });
        }
        let Some(y) = y else { continue };
        x = Some(match x {
            None => y,
            Some(prev) => {
                size += 1;
                if size > MAX_OLD_SIZE {
                    return Err(ConstraintError::TooComplex);
                }
                Expr::or(prev, y)
            }
        });
    }
    Ok(x.unwrap_or_else(|| Expr::Tag("ignore".to_string())))
}

/// The build constraints found in a file's leading comment block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileConstraints {
    /// The single `//go:build` line (trimmed), if any. When present it
    /// controls and `// +build` lines are ignored.
    pub go_build: Option<String>,
    /// `// +build` lines (trimmed) from the part of the header that precedes
    /// the last blank line before the first non-comment line. Only collected
    /// when there is no `//go:build` line.
    pub plus_build: Vec<String>,
    /// Whether a `//go:binary-only-package` line was seen.
    pub binary_only: bool,
}

/// Error from scanning a file header for constraints.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HeaderError {
    /// More than one `//go:build` line in the header.
    #[error("multiple //go:build comments")]
    MultipleGoBuild,
}

fn trim_bytes(b: &[u8]) -> &[u8] {
    // Go's bytes.TrimSpace: ASCII whitespace plus Unicode White_Space.
    if let Ok(s) = std::str::from_utf8(b) {
        return trim_space(s).as_bytes();
    }
    // Not valid UTF-8: trim ASCII whitespace only (Go stops at the invalid
    // bytes too; non-ASCII spaces next to them do not occur in practice).
    let is_sp = |c: &u8| c.is_ascii_whitespace() || *c == 0x0b;
    let start = b.iter().position(|c| !is_sp(c)).unwrap_or(b.len());
    let b = &b[start..];
    let end = b.iter().rposition(|c| !is_sp(c)).map_or(0, |i| i + 1);
    &b[..end]
}

fn is_go_build_comment(line: &[u8]) -> bool {
    // `line` is already trimmed.
    let Some(rest) = line.strip_prefix(b"//go:build") else {
        return false;
    };
    rest.is_empty() || trim_bytes(rest).len() < rest.len()
}

/// Finds the constraint lines in the header of a file, following go/build's
/// `parseFileHeader` rules: only the leading run of blank lines and `//`
/// comments counts, `/* */` comments end the `//go:build` region, and
/// `// +build` lines must be followed by a blank line before the first
/// non-comment line (so a package doc comment is not mistaken for one).
pub fn find_constraints(content: &[u8]) -> Result<FileConstraints, HeaderError> {
    let mut end = 0usize;
    let mut p = content;
    let mut ended = false;
    let mut in_slash_star = false;
    let mut go_build: Option<&[u8]> = None;
    let mut binary_only = false;

    'lines: while !p.is_empty() {
        let mut line = match p.iter().position(|&c| c == b'\n') {
            Some(i) => {
                let l = &p[..i];
                p = &p[i + 1..];
                l
            }
            None => {
                let l = p;
                p = &p[p.len()..];
                l
            }
        };
        line = trim_bytes(line);
        if line.is_empty() && !ended {
            end = content.len() - p.len();
            continue;
        }
        if !line.starts_with(b"//") {
            ended = true;
        }
        if !in_slash_star && is_go_build_comment(line) {
            if go_build.is_some() {
                return Err(HeaderError::MultipleGoBuild);
            }
            go_build = Some(line);
        }
        if !in_slash_star && line == b"//go:binary-only-package" {
            binary_only = true;
        }
        while !line.is_empty() {
            if in_slash_star {
                match find(line, b"*/") {
                    Some(i) => {
                        in_slash_star = false;
                        line = trim_bytes(&line[i + 2..]);
                        continue;
                    }
                    None => continue 'lines,
                }
            }
            if line.starts_with(b"//") {
                continue 'lines;
            }
            if let Some(rest) = line.strip_prefix(b"/*") {
                in_slash_star = true;
                line = trim_bytes(rest);
                continue;
            }
            break 'lines;
        }
    }

    let mut out = FileConstraints {
        go_build: go_build.map(|b| String::from_utf8_lossy(b).into_owned()),
        plus_build: Vec::new(),
        binary_only,
    };
    if out.go_build.is_none() {
        for line in content[..end].split(|&c| c == b'\n') {
            let line = trim_bytes(line);
            if !line.starts_with(b"//") || find(line, b"+build").is_none() {
                continue;
            }
            let text = String::from_utf8_lossy(line);
            if is_plus_build(&text) {
                out.plus_build.push(text.into_owned());
            }
        }
    }
    Ok(out)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(line: &str, tags: &[&str]) -> bool {
        parse(line).unwrap().eval(&mut |t| tags.contains(&t))
    }

    #[test]
    fn go_build_parse_and_print() {
        let x = parse("//go:build (linux || darwin) && !cgo").unwrap();
        assert_eq!(x.to_string(), "(linux || darwin) && !cgo");
        let x = parse("//go:build a || b && c").unwrap();
        assert_eq!(x.to_string(), "a || (b && c)");
        assert!(eval("//go:build a || b && c", &["a"]));
        assert!(!eval("//go:build (a || b) && c", &["a"]));
        assert!(eval("//go:build !(a && b)", &["a"]));
        assert!(eval("//go:build\tgo1.21 && x.y_z", &["go1.21", "x.y_z"]));
    }

    #[test]
    fn go_build_errors() {
        let msg = |l: &str| parse(l).unwrap_err().to_string();
        assert_eq!(msg("//go:build"), "unexpected end of expression");
        assert_eq!(msg("//go:build a b"), "unexpected token b");
        assert_eq!(msg("//go:build !!a"), "double negation not allowed");
        assert_eq!(msg("//go:build (a"), "missing close paren");
        assert_eq!(msg("//go:build (a ||"), "missing close paren");
        assert_eq!(msg("//go:build a & b"), "invalid syntax at &");
        assert_eq!(msg("//go:build a ++"), "invalid syntax at +");
        assert_eq!(msg("//go:build a)"), "unexpected token )");
        assert_eq!(msg("//go:buildx"), "not a build constraint");
        assert_eq!(msg("// go:build x"), "not a build constraint");
    }

    #[test]
    fn plus_build() {
        assert!(eval("// +build linux,amd64 darwin", &["darwin"]));
        assert!(!eval("// +build linux,amd64 darwin", &["linux"]));
        assert!(eval("// +build !windows", &["linux"]));
        assert!(!eval("// +build", &["linux"])); // empty => ignore
        assert!(!eval("// +build !!linux", &["linux"]));
        assert_eq!(
            parse("// +build a,!b c").unwrap().to_string(),
            "(a && !b) || c"
        );
        assert_eq!(parse("// +build a-b").unwrap().to_string(), "ignore");
        assert!(is_plus_build("//+build x"));
        assert!(!is_plus_build("// +buildx"));
        assert!(!is_plus_build("/* +build x */"));
    }

    #[test]
    fn header_rules() {
        // +build must be followed by a blank line.
        let c = find_constraints(b"// +build linux\npackage x\n").unwrap();
        assert!(c.plus_build.is_empty());
        let c = find_constraints(b"// +build linux\n\npackage x\n").unwrap();
        assert_eq!(c.plus_build, vec!["// +build linux"]);
        // go:build is found even without blank line and wins.
        let c = find_constraints(b"// +build linux\n\n//go:build windows\npackage x\n").unwrap();
        assert_eq!(c.go_build.as_deref(), Some("//go:build windows"));
        assert!(c.plus_build.is_empty());
        // A closed /* */ comment does not end the header...
        let c = find_constraints(b"/* hi */\n//go:build windows\npackage x\n").unwrap();
        assert_eq!(c.go_build.as_deref(), Some("//go:build windows"));
        // ...but lines inside one are not directives.
        let c = find_constraints(b"/*\n//go:build windows\n*/\npackage x\n").unwrap();
        assert_eq!(c.go_build, None);
        assert_eq!(
            find_constraints(b"//go:build a\n//go:build b\n").unwrap_err(),
            HeaderError::MultipleGoBuild
        );
        let c = find_constraints(b"//go:binary-only-package\n\npackage x").unwrap();
        assert!(c.binary_only);
    }
}
