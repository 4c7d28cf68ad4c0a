//! Parsing: Go's text/template lexer and parser (text/template/parse), the
//! subset of the language `go list -f` users write, with go's error words.

use std::fmt;

use crate::load::modfile::go_quote;

/// A parse error, printed as go prints it: `template: NAME:LINE: MSG`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template: {name}:{line}: {msg}")]
pub struct ParseError {
    /// The template's name.
    pub name: String,
    /// 1-based line of the error.
    pub line: usize,
    /// go's message.
    pub msg: String,
}

/// One operand of a command.
#[derive(Debug, Clone)]
pub enum Arg {
    /// `.` alone.
    Dot,
    /// `nil`.
    Nil,
    /// `true`/`false`.
    Bool(bool),
    /// A number constant: its text and value.
    Number(String, Num),
    /// A string constant: its source text and value.
    Str(String, String),
    /// `.A.B`, fields of dot.
    Field(Vec<String>),
    /// `$x.A.B`.
    Var(String, Vec<String>),
    /// A function name.
    Ident(String),
    /// `(pipeline)` with optional fields after it.
    Chain(Box<Pipe>, Vec<String>),
    /// `func.A.B`: a function called without arguments, then fields.
    FuncChain(String, Vec<String>),
}

/// A numeric constant's value.
#[derive(Debug, Clone, Copy)]
pub enum Num {
    /// Integer.
    Int(i64),
    /// Floating point.
    Float(f64),
}

/// An operand with its position.
#[derive(Debug, Clone)]
pub struct Operand {
    /// Byte offset in the template text.
    pub pos: usize,
    /// The operand.
    pub arg: Arg,
}

/// One stage of a pipeline: an operand and its arguments.
#[derive(Debug, Clone)]
pub struct Cmd {
    /// Byte offset.
    pub pos: usize,
    /// The operands; the first is the function, field or value.
    pub args: Vec<Operand>,
}

/// `$x := a | b`.
#[derive(Debug, Clone)]
pub struct Pipe {
    /// Byte offset.
    pub pos: usize,
    /// Declared or assigned variables.
    pub decl: Vec<String>,
    /// `=` rather than `:=`.
    pub assign: bool,
    /// The commands.
    pub cmds: Vec<Cmd>,
}

/// A node of the template's tree.
#[derive(Debug, Clone)]
pub enum Node {
    /// Plain text.
    Text(String),
    /// `{{pipeline}}`.
    Action(Pipe),
    /// `{{if}}`, `{{with}}` (`with` is true) and their else lists.
    If {
        /// `with` rather than `if`.
        with: bool,
        /// The condition.
        pipe: Pipe,
        /// The list run when true.
        list: Vec<Node>,
        /// The else list.
        else_list: Vec<Node>,
    },
    /// `{{range}}`.
    Range {
        /// What is ranged over.
        pipe: Pipe,
        /// The body.
        list: Vec<Node>,
        /// Run when empty.
        else_list: Vec<Node>,
    },
    /// `{{break}}`.
    Break,
    /// `{{continue}}`.
    Continue,
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = |f: &mut fmt::Formatter<'_>, fs: &[String]| -> fmt::Result {
            for x in fs {
                write!(f, ".{x}")?;
            }
            Ok(())
        };
        match self {
            Arg::Dot => f.write_str("."),
            Arg::Nil => f.write_str("nil"),
            Arg::Bool(b) => write!(f, "{b}"),
            Arg::Number(t, _) | Arg::Str(t, _) => f.write_str(t),
            Arg::Field(fs) => fields(f, fs),
            Arg::Var(v, fs) => {
                f.write_str(v)?;
                fields(f, fs)
            }
            Arg::Ident(n) => f.write_str(n),
            Arg::Chain(p, fs) => {
                write!(f, "({p})")?;
                fields(f, fs)
            }
            Arg::FuncChain(n, fs) => {
                f.write_str(n)?;
                fields(f, fs)
            }
        }
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{}", a.arg)?;
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            write!(
                f,
                "{} {} ",
                self.decl.join(", "),
                if self.assign { "=" } else { ":=" }
            )?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Text(String),
    Left,
    Right,
    Field(String),
    Var(String),
    Dot,
    Ident(String),
    Keyword(&'static str),
    Bool(bool),
    Nil,
    Number(String),
    Str(String),
    RawStr(String),
    CharConst(String),
    Pipe,
    LParen,
    RParen,
    Declare,
    Assign,
    Comma,
    /// Any other printable ASCII character.
    Char(String),
    Space,
    Eof,
    Error(String),
}

#[derive(Debug, Clone)]
struct Item {
    tok: Tok,
    pos: usize,
    line: usize,
}

impl Item {
    /// go's `item.String()` for messages.
    fn describe(&self) -> String {
        match &self.tok {
            Tok::Eof => "EOF".into(),
            Tok::Error(e) => e.clone(),
            Tok::Keyword(k) => format!("<{k}>"),
            Tok::Left => "\"{{\"".into(),
            Tok::Right => "\"}}\"".into(),
            Tok::Nil => "<nil>".into(),
            Tok::Dot => "<.>".into(),
            t => {
                let v = match t {
                    Tok::Text(s)
                    | Tok::Field(s)
                    | Tok::Var(s)
                    | Tok::Ident(s)
                    | Tok::Number(s)
                    | Tok::Str(s)
                    | Tok::RawStr(s)
                    | Tok::CharConst(s)
                    | Tok::Char(s) => s.clone(),
                    Tok::Bool(b) => b.to_string(),
                    Tok::Pipe => "|".into(),
                    Tok::LParen => "(".into(),
                    Tok::RParen => ")".into(),
                    Tok::Declare => ":=".into(),
                    Tok::Assign => "=".into(),
                    Tok::Comma => ",".into(),
                    Tok::Space => " ".into(),
                    _ => String::new(),
                };
                if v.chars().count() > 10 {
                    let head: String = v.chars().take(10).collect();
                    format!("{}...", go_quote(&head))
                } else {
                    go_quote(&v)
                }
            }
        }
    }
}

const KEYWORDS: &[&str] = &[
    "block", "break", "continue", "define", "else", "end", "if", "range", "template", "with",
];

/// The lexer: the whole text in items, ending with Eof or Error.
fn lex(src: &str) -> Vec<Item> {
    let b = src.as_bytes();
    let mut items = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let count_nl = |s: &str| s.bytes().filter(|&c| c == b'\n').count();
    let is_space = |c: u8| c == b' ' || c == b'\t' || c == b'\r' || c == b'\n';
    let mut trim_next = false;
    loop {
        // Text up to the next "{{".
        let start = i;
        let next = src[i..].find("{{").map(|o| i + o);
        let end = next.unwrap_or(b.len());
        let mut text = &src[start..end];
        if trim_next {
            text = text.trim_start_matches([' ', '\t', '\r', '\n']);
        }
        let mut left_trim = false;
        if let Some(n) = next {
            if b.get(n + 2) == Some(&b'-') && b.get(n + 3).is_some_and(|&c| is_space(c)) {
                left_trim = true;
                text = text.trim_end_matches([' ', '\t', '\r', '\n']);
            }
        }
        if !text.is_empty() {
            items.push(Item {
                tok: Tok::Text(text.to_string()),
                pos: start,
                line,
            });
        }
        line += count_nl(&src[start..end]);
        let Some(n) = next else {
            items.push(Item {
                tok: Tok::Eof,
                pos: b.len(),
                line,
            });
            return items;
        };
        i = n + 2;
        if left_trim {
            i += 2;
        }
        // A comment: {{/* ... */}}.
        let after_trim = i;
        if src[after_trim..].starts_with("/*") {
            let Some(close) = src[after_trim + 2..].find("*/") else {
                items.push(err("unclosed comment", n, line));
                return items;
            };
            let mut j = after_trim + 2 + close + 2;
            line += count_nl(&src[n..j]);
            let mut right_trim = false;
            if src[j..].starts_with(" -}}") {
                right_trim = true;
                j += 4;
            } else if src[j..].starts_with("}}") {
                j += 2;
            } else {
                items.push(err("comment ends before closing delimiter", j, line));
                return items;
            }
            trim_next = right_trim;
            i = j;
            continue;
        }
        items.push(Item {
            tok: Tok::Left,
            pos: n,
            line,
        });
        // Inside the action.
        let mut depth = 0usize;
        loop {
            let at_right = |k: usize| -> Option<(usize, bool)> {
                if src[k..].starts_with("}}") {
                    Some((2, false))
                } else if k > 0 && is_space(b[k - 1]) && src[k..].starts_with("-}}") {
                    Some((3, true))
                } else {
                    None
                }
            };
            if i >= b.len() {
                items.push(err("unclosed action", i, line));
                return items;
            }
            if let Some((len, trim)) = at_right(i) {
                if depth > 0 {
                    items.push(err("unclosed left paren", i, line));
                    return items;
                }
                items.push(Item {
                    tok: Tok::Right,
                    pos: i,
                    line,
                });
                i += len;
                trim_next = trim;
                break;
            }
            let c = b[i];
            let start = i;
            let tok = match c {
                b' ' | b'\t' | b'\r' | b'\n' => {
                    while i < b.len() && is_space(b[i]) && at_right(i).is_none() {
                        if b[i] == b'\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                    // " -}}": the space before the trim marker belongs to it.
                    Tok::Space
                }
                b'=' => {
                    i += 1;
                    Tok::Assign
                }
                b':' => {
                    if b.get(i + 1) != Some(&b'=') {
                        items.push(err("expected :=", i, line));
                        return items;
                    }
                    i += 2;
                    Tok::Declare
                }
                b'|' => {
                    i += 1;
                    Tok::Pipe
                }
                b',' => {
                    i += 1;
                    Tok::Comma
                }
                b'(' => {
                    i += 1;
                    depth += 1;
                    Tok::LParen
                }
                b')' => {
                    if depth == 0 {
                        items.push(err("unexpected right paren", i, line));
                        return items;
                    }
                    depth -= 1;
                    i += 1;
                    Tok::RParen
                }
                b'"' => match scan_quoted(b, i, b'"') {
                    Some(end) => {
                        i = end;
                        Tok::Str(src[start..i].to_string())
                    }
                    None => {
                        items.push(err("unterminated quoted string", start, line));
                        return items;
                    }
                },
                b'`' => {
                    let Some(close) = src[i + 1..].find('`') else {
                        items.push(err("unterminated raw quoted string", start, line));
                        return items;
                    };
                    i += close + 2;
                    line += count_nl(&src[start..i]);
                    Tok::RawStr(src[start..i].to_string())
                }
                b'\'' => match scan_quoted(b, i, b'\'') {
                    Some(end) => {
                        i = end;
                        Tok::CharConst(src[start..i].to_string())
                    }
                    None => {
                        items.push(err("unterminated character constant", start, line));
                        return items;
                    }
                },
                b'$' | b'.' => {
                    i += 1;
                    if c == b'.' && b.get(i).is_some_and(|d| d.is_ascii_digit()) {
                        match scan_number(b, start) {
                            Ok(end) => i = end,
                            Err(end) => {
                                items.push(bad_number(&src[start..end], start, line));
                                return items;
                            }
                        }
                        Tok::Number(src[start..i].to_string())
                    } else {
                        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                            i += 1;
                        }
                        if !at_terminator(b, i) {
                            items.push(bad_char(src, i, line));
                            return items;
                        }
                        let w = src[start..i].to_string();
                        if c == b'$' {
                            Tok::Var(w)
                        } else if w == "." {
                            Tok::Dot
                        } else {
                            Tok::Field(w)
                        }
                    }
                }
                b'+' | b'-' | b'0'..=b'9' => {
                    match scan_number(b, start) {
                        Ok(end) => i = end,
                        Err(end) => {
                            items.push(bad_number(&src[start..end], start, line));
                            return items;
                        }
                    }
                    Tok::Number(src[start..i].to_string())
                }
                c if c.is_ascii_alphabetic() || c == b'_' => {
                    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                        i += 1;
                    }
                    if !at_terminator(b, i) {
                        items.push(bad_char(src, i, line));
                        return items;
                    }
                    let w = &src[start..i];
                    match w {
                        "true" => Tok::Bool(true),
                        "false" => Tok::Bool(false),
                        "nil" => Tok::Nil,
                        _ => match KEYWORDS.iter().find(|k| **k == w) {
                            Some(k) => Tok::Keyword(k),
                            None => Tok::Ident(w.to_string()),
                        },
                    }
                }
                // Other printable ASCII: go's itemChar, which the parser refuses in context.
                c if c.is_ascii_graphic() => {
                    i += 1;
                    Tok::Char((c as char).to_string())
                }
                _ => {
                    let ch = src[i..].chars().next().unwrap_or('\0');
                    items.push(err(
                        &format!("unrecognized character in action: {}", unicode_plus(ch)),
                        i,
                        line,
                    ));
                    return items;
                }
            };
            items.push(Item {
                tok,
                pos: start,
                line,
            });
        }
    }
}

/// The end of a quoted string or character constant starting at `i` (its
/// opening quote), escapes skipped; None when the line or text ends first.
fn scan_quoted(b: &[u8], mut i: usize, quote: u8) -> Option<usize> {
    i += 1;
    loop {
        match b.get(i) {
            None | Some(b'\n') => return None,
            Some(b'\\') => i += 2,
            Some(&c) if c == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// go's `%#U`: `U+0040 '@'`.
fn unicode_plus(c: char) -> String {
    format!("U+{:04X} '{c}'", c as u32)
}

/// text/template's scanNumber: the end of the number at `start`, or Err(end)
/// when a letter or digit follows it (go's "bad number syntax").
fn scan_number(b: &[u8], start: usize) -> Result<usize, usize> {
    let mut i = start;
    let accept = |i: &mut usize, set: &[u8]| -> bool {
        if b.get(*i).is_some_and(|c| set.contains(c)) {
            *i += 1;
            true
        } else {
            false
        }
    };
    let run = |i: &mut usize, set: &[u8]| {
        while b.get(*i).is_some_and(|c| set.contains(c)) {
            *i += 1;
        }
    };
    accept(&mut i, b"+-");
    let mut digits: &[u8] = b"0123456789_";
    if accept(&mut i, b"0") {
        if accept(&mut i, b"xX") {
            digits = b"0123456789abcdefABCDEF_";
        } else if accept(&mut i, b"oO") {
            digits = b"01234567_";
        } else if accept(&mut i, b"bB") {
            digits = b"01_";
        }
    }
    run(&mut i, digits);
    if accept(&mut i, b".") {
        run(&mut i, digits);
    }
    if digits.len() == 11 && accept(&mut i, b"eE") {
        accept(&mut i, b"+-");
        run(&mut i, b"0123456789_");
    }
    if digits.len() == 23 && accept(&mut i, b"pP") {
        accept(&mut i, b"+-");
        run(&mut i, b"0123456789_");
    }
    accept(&mut i, b"i");
    if b.get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        return Err(i + 1);
    }
    Ok(i)
}

/// Whether a word may end at `i` (text/template's atTerminator).
fn at_terminator(b: &[u8], i: usize) -> bool {
    match b.get(i) {
        None => true,
        Some(c) => {
            matches!(
                c,
                b' ' | b'\t' | b'\r' | b'\n' | b'.' | b',' | b'|' | b':' | b')' | b'('
            ) || b[i..].starts_with(b"}}")
        }
    }
}

fn bad_number(text: &str, pos: usize, line: usize) -> Item {
    err(&format!("bad number syntax: {}", go_quote(text)), pos, line)
}

fn bad_char(src: &str, i: usize, line: usize) -> Item {
    let ch = src[i..].chars().next().unwrap_or('\0');
    err(&format!("bad character {}", unicode_plus(ch)), i, line)
}

fn err(msg: &str, pos: usize, line: usize) -> Item {
    Item {
        tok: Tok::Error(msg.to_string()),
        pos,
        line,
    }
}

/// Which functions exist, for go's parse-time "function not defined".
pub trait FuncNames {
    /// Whether `name` is a function.
    fn has(&self, name: &str) -> bool;
}

struct Parser<'a> {
    name: &'a str,
    items: Vec<Item>,
    at: usize,
    funcs: &'a dyn FuncNames,
    vars: Vec<String>,
    range_depth: usize,
    action_line: usize,
}

type PResult<T> = Result<T, ParseError>;

/// Parses `src` as the template `name`.
pub fn parse(name: &str, src: &str, funcs: &dyn FuncNames) -> Result<Vec<Node>, ParseError> {
    let mut p = Parser {
        name,
        items: lex(src),
        at: 0,
        funcs,
        vars: vec!["$".to_string()],
        range_depth: 0,
        action_line: 0,
    };
    let (list, end) = p.item_list(true)?;
    if let Some(end) = end {
        return p.fail(end.line, format!("unexpected {}", end_word(&end)));
    }
    Ok(list)
}

fn end_word(it: &Item) -> String {
    match &it.tok {
        Tok::Keyword(k) => format!("{{{{{k}}}}}"),
        _ => it.describe(),
    }
}

impl Parser<'_> {
    fn fail<T>(&self, line: usize, msg: String) -> PResult<T> {
        Err(ParseError {
            name: self.name.to_string(),
            line,
            msg,
        })
    }

    fn next(&mut self) -> Item {
        let it = self.items[self.at.min(self.items.len() - 1)].clone();
        if self.at < self.items.len() {
            self.at += 1;
        }
        it
    }

    fn backup(&mut self) {
        self.at -= 1;
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let it = self.next();
            if it.tok != Tok::Space {
                return it;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let it = self.next_non_space();
        self.backup();
        it
    }

    fn unexpected<T>(&self, it: &Item, context: &str) -> PResult<T> {
        if let Tok::Error(e) = &it.tok {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != it.line {
                extra = format!(" in action started at {}:{}", self.name, self.action_line);
                if e.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.fail(it.line, format!("{e}{extra}"));
        }
        self.fail(
            it.line,
            format!("unexpected {} in {context}", it.describe()),
        )
    }

    /// Parses nodes until EOF (top) or an `{{end}}`/`{{else}}` (returned).
    fn item_list(&mut self, top: bool) -> PResult<(Vec<Node>, Option<Item>)> {
        let mut list = Vec::new();
        loop {
            let it = self.next();
            match &it.tok {
                Tok::Eof => {
                    if top {
                        return Ok((list, None));
                    }
                    return self.fail(it.line, "unexpected EOF".into());
                }
                Tok::Text(t) => list.push(Node::Text(t.clone())),
                Tok::Left => {
                    self.action_line = it.line;
                    let kw = self.peek_non_space();
                    if let Tok::Keyword("end" | "else") = kw.tok {
                        self.next_non_space();
                        if top {
                            return self.fail(kw.line, format!("unexpected {}", end_word(&kw)));
                        }
                        return Ok((list, Some(kw)));
                    }
                    let n = self.action()?;
                    self.action_line = 0;
                    list.push(n);
                }
                Tok::Error(_) => return self.unexpected(&it, "input"),
                _ => return self.unexpected(&it, "input"),
            }
        }
    }

    fn action(&mut self) -> PResult<Node> {
        let it = self.next_non_space();
        match &it.tok {
            Tok::Keyword("if") => self.control(false, "if"),
            Tok::Keyword("with") => self.control(true, "with"),
            Tok::Keyword("range") => self.range(),
            Tok::Keyword("break") | Tok::Keyword("continue") => {
                let brk = it.tok == Tok::Keyword("break");
                let word = if brk { "{{break}}" } else { "{{continue}}" };
                let t = self.next_non_space();
                if t.tok != Tok::Right {
                    return self.unexpected(&t, word);
                }
                if self.range_depth == 0 {
                    return self.fail(it.line, format!("{word} outside {{{{range}}}}"));
                }
                Ok(if brk { Node::Break } else { Node::Continue })
            }
            Tok::Keyword(k @ ("define" | "template" | "block")) => self.fail(
                it.line,
                format!("{{{{{k}}}}} is not supported in go list -f templates by gob"),
            ),
            _ => {
                self.backup();
                let vars = self.vars.len();
                let p = self.pipeline("command", Tok::Right)?;
                // A variable declared in an action lives to the end of the enclosing list.
                let _ = vars;
                Ok(Node::Action(p))
            }
        }
    }

    fn control(&mut self, with: bool, context: &str) -> PResult<Node> {
        let vars = self.vars.len();
        let pipe = self.pipeline(context, Tok::Right)?;
        let (list, end) = self.item_list(false)?;
        let end = end.expect("item_list returns an end when not top");
        let mut else_list = Vec::new();
        if end.tok == Tok::Keyword("else") {
            // {{else if ...}} / {{else with ...}} chain as a nested node.
            let nx = self.peek_non_space();
            if nx.tok == Tok::Keyword(if with { "with" } else { "if" }) {
                self.next_non_space();
                let inner = self.control(with, context)?;
                else_list.push(inner);
                self.vars.truncate(vars);
                return Ok(Node::If {
                    with,
                    pipe,
                    list,
                    else_list,
                });
            }
            let t = self.next_non_space();
            if t.tok != Tok::Right {
                return self.unexpected(&t, "else");
            }
            let (l, end2) = self.item_list(false)?;
            let end2 = end2.expect("end");
            if end2.tok != Tok::Keyword("end") {
                return self.fail(end2.line, "expected end; found {{else}}".into());
            }
            else_list = l;
        }
        self.end_action()?;
        self.vars.truncate(vars);
        Ok(Node::If {
            with,
            pipe,
            list,
            else_list,
        })
    }

    fn end_action(&mut self) -> PResult<()> {
        let t = self.next_non_space();
        if t.tok != Tok::Right {
            return self.unexpected(&t, "end");
        }
        Ok(())
    }

    fn range(&mut self) -> PResult<Node> {
        let vars = self.vars.len();
        let pipe = self.pipeline("range", Tok::Right)?;
        self.range_depth += 1;
        let r = self.item_list(false);
        self.range_depth -= 1;
        let (list, end) = r?;
        let end = end.expect("end");
        let mut else_list = Vec::new();
        if end.tok == Tok::Keyword("else") {
            let t = self.next_non_space();
            if t.tok != Tok::Right {
                return self.unexpected(&t, "else");
            }
            let (l, end2) = self.item_list(false)?;
            if end2.expect("end").tok != Tok::Keyword("end") {
                return self.fail(self.action_line, "expected end; found {{else}}".into());
            }
            else_list = l;
        }
        self.end_action()?;
        self.vars.truncate(vars);
        Ok(Node::Range {
            pipe,
            list,
            else_list,
        })
    }

    /// A pipeline up to `end` (`}}` or `)`), declarations first.
    fn pipeline(&mut self, context: &str, end: Tok) -> PResult<Pipe> {
        let first = self.peek_non_space();
        let mut pipe = Pipe {
            pos: first.pos,
            decl: Vec::new(),
            assign: false,
            cmds: Vec::new(),
        };
        // Declarations: $x := or $x, $y :=  (range only) or $x =.
        if let Tok::Var(_) = first.tok {
            let save = self.at;
            let v = self.next_non_space();
            let nx = self.next_non_space();
            match nx.tok {
                Tok::Declare | Tok::Assign => {
                    let Tok::Var(name) = v.tok else {
                        unreachable!()
                    };
                    pipe.assign = nx.tok == Tok::Assign;
                    if pipe.assign && !self.vars.contains(&name) {
                        return self
                            .fail(v.line, format!("undefined variable {}", go_quote(&name)));
                    }
                    pipe.decl.push(name);
                }
                Tok::Comma if context == "range" => {
                    let v2 = self.next_non_space();
                    let d = self.next_non_space();
                    match (&v2.tok, &d.tok) {
                        (Tok::Var(_), Tok::Comma) => {
                            return self
                                .fail(v.line, format!("too many declarations in {context}"));
                        }
                        (Tok::Var(n2), Tok::Declare | Tok::Assign) => {
                            let Tok::Var(name) = v.tok else {
                                unreachable!()
                            };
                            pipe.assign = d.tok == Tok::Assign;
                            pipe.decl.push(name);
                            pipe.decl.push(n2.clone());
                        }
                        _ => {
                            return self.fail(v.line, "range can only initialize variables".into())
                        }
                    }
                }
                Tok::Comma => {
                    return self.fail(v.line, format!("too many declarations in {context}"));
                }
                _ => self.at = save,
            }
            if !pipe.assign {
                for d in &pipe.decl {
                    self.vars.push(d.clone());
                }
            }
        }
        loop {
            let it = self.next_non_space();
            if it.tok == end {
                if pipe.cmds.is_empty() {
                    return self.fail(it.line, format!("missing value for {context}"));
                }
                return Ok(pipe);
            }
            match it.tok {
                Tok::Bool(_)
                | Tok::CharConst(_)
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Ident(_)
                | Tok::Number(_)
                | Tok::Nil
                | Tok::RawStr(_)
                | Tok::Str(_)
                | Tok::Var(_)
                | Tok::LParen => {
                    self.backup();
                    let c = self.command(&end)?;
                    pipe.cmds.push(c);
                }
                _ => return self.unexpected(&it, context),
            }
        }
    }

    fn command(&mut self, end: &Tok) -> PResult<Cmd> {
        let first = self.peek_non_space();
        let mut cmd = Cmd {
            pos: first.pos,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            let Some(op) = self.operand()? else {
                if self.peek_non_space().tok == Tok::Pipe {
                    self.next_non_space();
                }
                break;
            };
            cmd.args.push(op);
            let it = self.next();
            match it.tok {
                Tok::Space => continue,
                Tok::Right | Tok::RParen => {
                    self.backup();
                    break;
                }
                Tok::Pipe => break,
                _ => return self.unexpected(&it, "operand"),
            }
        }
        let _ = end;
        if cmd.args.is_empty() {
            return self.fail(first.line, "empty command".into());
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Operand>> {
        let it = self.next_non_space();
        let pos = it.pos;
        let arg = match &it.tok {
            Tok::Ident(n) => {
                if !self.funcs.has(n) {
                    return self.fail(it.line, format!("function {} not defined", go_quote(n)));
                }
                Arg::Ident(n.clone())
            }
            Tok::Dot => Arg::Dot,
            Tok::Nil => Arg::Nil,
            Tok::Var(v) => {
                if !self.vars.contains(v) {
                    return self.fail(it.line, format!("undefined variable {}", go_quote(v)));
                }
                Arg::Var(v.clone(), Vec::new())
            }
            Tok::Field(f) => Arg::Field(vec![f[1..].to_string()]),
            Tok::Bool(b) => Arg::Bool(*b),
            Tok::Number(t) | Tok::CharConst(t) => Arg::Number(
                t.clone(),
                number(t).ok_or_else(|| ParseError {
                    name: self.name.to_string(),
                    line: it.line,
                    msg: format!("bad number syntax: {}", go_quote(t)),
                })?,
            ),
            Tok::Str(t) | Tok::RawStr(t) => {
                let v = unquote(t).ok_or_else(|| ParseError {
                    name: self.name.to_string(),
                    line: it.line,
                    msg: "invalid syntax".into(),
                })?;
                Arg::Str(t.clone(), v)
            }
            Tok::LParen => {
                let p = self.pipeline("parenthesized pipeline", Tok::RParen)?;
                Arg::Chain(Box::new(p), Vec::new())
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        };
        // Fields after the term: .A.B
        let mut fields = Vec::new();
        let mut pos = pos;
        while let Some(Item {
            tok: Tok::Field(f),
            pos: fpos,
            ..
        }) = self.items.get(self.at)
        {
            // go's chain takes the position of the first field after the term.
            if fields.is_empty() {
                pos = *fpos;
            }
            fields.push(f[1..].to_string());
            self.at += 1;
        }
        let arg = if fields.is_empty() {
            arg
        } else {
            match arg {
                Arg::Field(mut fs) => {
                    fs.extend(fields);
                    Arg::Field(fs)
                }
                Arg::Var(v, mut fs) => {
                    fs.extend(fields);
                    Arg::Var(v, fs)
                }
                Arg::Chain(p, mut fs) => {
                    fs.extend(fields);
                    Arg::Chain(p, fs)
                }
                Arg::Ident(name) => Arg::FuncChain(name, fields),
                Arg::Dot => {
                    return self.fail(it.line, "unexpected . after term \".\"".into());
                }
                other => {
                    return self.fail(
                        it.line,
                        format!("unexpected . after term {}", go_quote(&other.to_string())),
                    );
                }
            }
        };
        Ok(Some(Operand { pos, arg }))
    }
}

/// A number constant: Go integer literals (decimal, 0x, 0o, 0b, `_`), floats and character constants.
fn number(t: &str) -> Option<Num> {
    if let Some(c) = t.strip_prefix('\'') {
        let s = unquote(&format!(
            "\"{}\"",
            c.strip_suffix('\'')?.replace('"', "\\\"")
        ))?;
        let mut cs = s.chars();
        let ch = cs.next()?;
        return cs.next().is_none().then_some(Num::Int(ch as i64));
    }
    let clean = t.replace('_', "");
    let (neg, digits) = match clean.strip_prefix('-') {
        Some(d) => (true, d.to_string()),
        None => (false, clean.trim_start_matches('+').to_string()),
    };
    let lower = digits.to_ascii_lowercase();
    let int = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|c| c.is_ascii_digit())
    {
        i64::from_str_radix(&lower[1..], 8).ok()
    } else {
        lower.parse::<i64>().ok()
    };
    if let Some(v) = int {
        return Some(Num::Int(if neg { -v } else { v }));
    }
    let f: f64 = lower.parse().ok()?;
    Some(Num::Float(if neg { -f } else { f }))
}

/// Go's `strconv.Unquote` for "..." and `...` strings.
fn unquote(t: &str) -> Option<String> {
    if let Some(raw) = t.strip_prefix('`') {
        return Some(raw.strip_suffix('`')?.replace('\r', ""));
    }
    let body = t.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut cs = body.chars().peekable();
    while let Some(c) = cs.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = cs.next()?;
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '\'' => out.push('\''),
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let h: String = (0..n).filter_map(|_| cs.next()).collect();
                let v = u32::from_str_radix(&h, 16).ok()?;
                out.push(char::from_u32(v)?);
            }
            '0'..='7' => {
                let mut v = e.to_digit(8)?;
                for _ in 0..2 {
                    v = v * 8 + cs.next()?.to_digit(8)?;
                }
                out.push(char::from_u32(v)?);
            }
            _ => return None,
        }
    }
    Some(out)
}
