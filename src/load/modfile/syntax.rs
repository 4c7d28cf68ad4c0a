//! The go.mod/go.work tokenizer and its statements: lines and `verb ( ... )` blocks with their comments (read.go).

use super::quote::is_print;
use super::{ModFileErrorKind, Pos};

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
pub(super) fn decode_rune(b: &[u8]) -> (char, usize) {
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

pub(super) type LexResult<T> = Result<T, (Pos, ModFileErrorKind)>;

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
pub(super) struct SynLine {
    pub(super) start: Pos,
    pub(super) tokens: Vec<String>,
    /// Whole-line comments before the line (`""` marks a blank line inside a block).
    pub(super) before: Vec<String>,
    /// End-of-line comment, if any.
    pub(super) suffix: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) enum Stmt {
    Line(SynLine),
    Block {
        start: Pos,
        tokens: Vec<String>,
        before: Vec<String>,
        lines: Vec<SynLine>,
    },
}

pub(super) fn parse_syntax(file: &str, data: &[u8]) -> LexResult<Vec<Stmt>> {
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
