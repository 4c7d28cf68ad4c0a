//! Go source header scanner: package clause, imports and `//go:embed` patterns, reading only as far as needed.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::constraint::{self, FileConstraints, HeaderError};

/// A position in a source file (after a leading BOM, which Go drops).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// Byte offset from the start of the file (BOM excluded).
    pub offset: usize,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in bytes.
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// One import declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSpec {
    /// Unquoted import path.
    pub path: String,
    /// Position of the spec: the local name if present, else the path literal.
    pub pos: Pos,
}

/// One `//go:embed` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embed {
    /// The pattern, unquoted if it was quoted.
    pub pattern: String,
    /// Position of the pattern within the comment.
    pub pos: Pos,
}

/// One syntax error, as go/scanner reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where the error was detected.
    pub pos: Pos,
    /// Go's message, e.g. `expected 'package', found 'EOF'`.
    pub msg: String,
}

/// Errors from scanning a Go (or other source) file header.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScanError {
    /// A NUL byte in the part of the file that had to be read.
    #[error("read {}: unexpected NUL in input", path.display())]
    Nul {
        /// File path.
        path: PathBuf,
    },
    /// An I/O error while reading.
    #[error("read {}: {msg}", path.display())]
    Io {
        /// File path.
        path: PathBuf,
        /// Error text.
        msg: String,
    },
    /// An internal scanner/parser inconsistency (Go: "parser returned invalid quoted string").
    #[error("read {}: parser returned invalid quoted string: <{lit}>", path.display())]
    BadQuoted {
        /// File path.
        path: PathBuf,
        /// The literal.
        lit: String,
    },
    /// Syntax errors in the package clause or imports (go/parser, sorted by position).
    #[error("{}", fmt_syntax(path, errors))]
    Syntax {
        /// File path.
        path: PathBuf,
        /// All errors; Display shows the first and a count of the rest.
        errors: Vec<SyntaxError>,
    },
}

fn fmt_syntax(path: &Path, errors: &[SyntaxError]) -> String {
    let Some(first) = errors.first() else {
        return "no errors".to_string();
    };
    let mut s = format!("{}:{}: {}", path.display(), first.pos, first.msg);
    if errors.len() > 1 {
        s.push_str(&format!(" (and {} more errors)", errors.len() - 1));
    }
    s
}

/// The parsed header of one `.go` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoFileHeader {
    /// Package name; empty when the package clause could not be parsed
    /// (go/parser then returns an empty `ast.File`).
    pub package: String,
    /// Position of the `package` keyword (None if the clause failed to parse).
    pub package_pos: Option<Pos>,
    /// Imports in source order. Empty when `parse_error` is set, as in go/build.
    pub imports: Vec<ImportSpec>,
    /// `//go:embed` patterns; only collected when the file imports `embed`.
    pub embeds: Vec<Embed>,
    /// Build constraints from the header (or the error finding them).
    pub constraints: Result<FileConstraints, HeaderError>,
    /// Syntax error in the header (the file is then an InvalidGoFile).
    pub parse_error: Option<ScanError>,
    /// Number of bytes (after any BOM) that form the header go/build looks at.
    pub header_len: usize,
    /// The text (go/ast's `CommentGroup.Text`) of the doc comment of each
    /// `import "C"` that has one, in source order: cgo's preamble, where
    /// the `#cgo` directives are. The doc is the comment group ending on the
    /// line just before the spec, or before `import` when the declaration
    /// has only this spec (go/build's `readGoInfo`).
    pub cgo_preambles: Vec<String>,
}

impl GoFileHeader {
    /// Reports whether the file imports "C".
    pub fn imports_c(&self) -> bool {
        self.imports.iter().any(|i| i.path == "C")
    }
}

// ---------------------------------------------------------------------------
// Lazily filled source buffer.

const CHUNK: usize = 8192;

struct Src<'a> {
    buf: Vec<u8>,
    reader: Option<&'a mut dyn Read>,
    io_err: Option<String>,
    base: usize,
}

impl<'a> Src<'a> {
    fn from_reader(r: &'a mut dyn Read) -> Src<'a> {
        let mut s = Src {
            buf: Vec::new(),
            reader: Some(r),
            io_err: None,
            base: 0,
        };
        s.ensure(3);
        if s.buf.starts_with(b"\xEF\xBB\xBF") {
            s.base = 3;
        }
        s
    }

    fn from_slice(b: &[u8]) -> Src<'a> {
        let base = if b.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
        Src {
            buf: b.to_vec(),
            reader: None,
            io_err: None,
            base,
        }
    }

    /// Makes sure at least `n` bytes are buffered, if the file has them.
    fn ensure(&mut self, n: usize) {
        while self.buf.len() < n {
            let Some(r) = self.reader.as_mut() else {
                return;
            };
            let old = self.buf.len();
            self.buf.resize(old + CHUNK, 0);
            match r.read(&mut self.buf[old..]) {
                Ok(0) => {
                    self.buf.truncate(old);
                    self.reader = None;
                }
                Ok(k) => self.buf.truncate(old + k),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.buf.truncate(old),
                Err(e) => {
                    self.buf.truncate(old);
                    self.io_err = Some(go_io_error(&e));
                    self.reader = None;
                }
            }
        }
    }

    /// Byte `i` (BOM-relative): Ok(None) at EOF, Err on I/O error.
    fn get(&mut self, i: usize) -> Result<Option<u8>, String> {
        let at = self.base + i;
        self.ensure(at + 1);
        match self.buf.get(at) {
            Some(&c) => Ok(Some(c)),
            None => match &self.io_err {
                Some(e) => Err(e.clone()),
                None => Ok(None),
            },
        }
    }

    fn read_all(&mut self) {
        self.ensure(usize::MAX);
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[self.base.min(self.buf.len())..]
    }
}

/// Formats an io::Error roughly as Go would (lower-case, no "(os error N)").
pub(crate) fn go_io_error(e: &io::Error) -> String {
    let s = e.to_string();
    let s = match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    };
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => s,
    }
}

// ---------------------------------------------------------------------------
// go/build's importReader: finds the end of the header.

#[derive(Debug, Clone, PartialEq, Eq)]
enum ReadErr {
    Syntax,
    Nul,
    Io(String),
}

struct ImportReader<'s, 'a> {
    src: &'s mut Src<'a>,
    n: usize,
    peek: u8,
    err: Option<ReadErr>,
    eof: bool,
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

impl ImportReader<'_, '_> {
    fn syntax_error(&mut self) {
        if self.err.is_none() {
            self.err = Some(ReadErr::Syntax);
        }
    }

    fn read_byte(&mut self) -> u8 {
        match self.src.get(self.n) {
            Ok(Some(c)) => {
                self.n += 1;
                if c == 0 {
                    if self.err.is_none() {
                        self.err = Some(ReadErr::Nul);
                    }
                    return 0;
                }
                c
            }
            Ok(None) => {
                self.eof = true;
                0
            }
            Err(e) => {
                if self.err.is_none() {
                    self.err = Some(ReadErr::Io(e));
                }
                0
            }
        }
    }

    fn peek_byte(&mut self, skip_space: bool) -> u8 {
        if self.err.is_some() {
            return 0;
        }
        let mut c = self.peek;
        if c == 0 {
            c = self.read_byte();
        }
        while self.err.is_none() && !self.eof {
            if skip_space {
                match c {
                    b' ' | b'\x0c' | b'\t' | b'\r' | b'\n' | b';' => {
                        c = self.read_byte();
                        continue;
                    }
                    b'/' => {
                        c = self.read_byte();
                        if c == b'/' {
                            while c != b'\n' && self.err.is_none() && !self.eof {
                                c = self.read_byte();
                            }
                        } else if c == b'*' {
                            let mut c1 = 0u8;
                            while (c != b'*' || c1 != b'/') && self.err.is_none() {
                                if self.eof {
                                    self.syntax_error();
                                }
                                c = c1;
                                c1 = self.read_byte();
                            }
                        } else {
                            self.syntax_error();
                        }
                        c = self.read_byte();
                        continue;
                    }
                    _ => {}
                }
            }
            break;
        }
        self.peek = c;
        c
    }

    fn next_byte(&mut self, skip_space: bool) -> u8 {
        let c = self.peek_byte(skip_space);
        self.peek = 0;
        c
    }

    fn read_keyword(&mut self, kw: &[u8]) {
        self.peek_byte(true);
        for &k in kw {
            if self.next_byte(false) != k {
                self.syntax_error();
                return;
            }
        }
        if is_ident_byte(self.peek_byte(false)) {
            self.syntax_error();
        }
    }

    fn read_ident(&mut self) {
        let c = self.peek_byte(true);
        if !is_ident_byte(c) {
            self.syntax_error();
            return;
        }
        while is_ident_byte(self.peek_byte(false)) {
            self.peek = 0;
        }
    }

    fn read_string(&mut self) {
        match self.next_byte(true) {
            b'`' => {
                while self.err.is_none() {
                    if self.next_byte(false) == b'`' {
                        break;
                    }
                    if self.eof {
                        self.syntax_error();
                    }
                }
            }
            b'"' => {
                while self.err.is_none() {
                    let c = self.next_byte(false);
                    if c == b'"' {
                        break;
                    }
                    if self.eof || c == b'\n' {
                        self.syntax_error();
                    }
                    if c == b'\\' {
                        self.next_byte(false);
                    }
                }
            }
            _ => self.syntax_error(),
        }
    }

    fn read_import(&mut self) {
        let c = self.peek_byte(true);
        if c == b'.' {
            self.peek = 0;
        } else if is_ident_byte(c) {
            self.read_ident();
        }
        self.read_string();
    }

    /// Length of what was consumed, minus the lookahead byte that ended it.
    fn consumed(&self) -> usize {
        if self.err.is_none() && !self.eof {
            self.n.saturating_sub(1)
        } else {
            self.n
        }
    }
}

fn read_error(path: &Path, e: ReadErr) -> ScanError {
    match e {
        ReadErr::Nul => ScanError::Nul {
            path: path.to_path_buf(),
        },
        ReadErr::Io(msg) => ScanError::Io {
            path: path.to_path_buf(),
            msg,
        },
        ReadErr::Syntax => ScanError::Io {
            path: path.to_path_buf(),
            msg: "syntax error".to_string(),
        },
    }
}

/// Reads the leading comments/blank space of a non-Go source file (go/build
/// `readComments`) and returns them. The error mirrors go/build: `syntax
/// error` for a stray `/` or unterminated `/*`, NUL, or I/O errors; go/build
/// then accepts the file without checking constraints.
pub fn read_leading_comments(path: &Path, r: &mut dyn Read) -> Result<Vec<u8>, ScanError> {
    let mut src = Src::from_reader(r);
    let mut ir = ImportReader {
        src: &mut src,
        n: 0,
        peek: 0,
        err: None,
        eof: false,
    };
    ir.peek_byte(true);
    let len = ir.consumed();
    if let Some(e) = ir.err.take() {
        return Err(read_error(path, e));
    }
    Ok(src.bytes()[..len].to_vec())
}

/// Scans an in-memory Go file. See [`scan_go_reader`].
pub fn scan_go_file(path: &Path, src: &[u8]) -> Result<GoFileHeader, ScanError> {
    let mut s = Src::from_slice(src);
    scan_src(path, &mut s)
}

/// Scans a Go file like go/build's `readGoInfo`: reads only through the
/// import block (or the whole file on a header syntax error, or when the
/// file imports "embed" so `//go:embed` lines can be found), parses the
/// package clause and imports like `go/parser` in ImportsOnly mode, and
/// finds the build constraints.
///
/// `Err` is returned only where go/build fails to read the file (NUL byte in
/// the header, I/O error); syntax errors are in [`GoFileHeader::parse_error`]
/// with whatever partial information Go keeps.
pub fn scan_go_reader(path: &Path, r: &mut dyn Read) -> Result<GoFileHeader, ScanError> {
    let mut s = Src::from_reader(r);
    scan_src(path, &mut s)
}

fn scan_src(path: &Path, src: &mut Src<'_>) -> Result<GoFileHeader, ScanError> {
    let mut ir = ImportReader {
        src,
        n: 0,
        peek: 0,
        err: None,
        eof: false,
    };
    ir.read_keyword(b"package");
    ir.read_ident();
    while ir.peek_byte(true) == b'i' {
        ir.read_keyword(b"import");
        if ir.peek_byte(true) == b'(' {
            ir.next_byte(false);
            while ir.peek_byte(true) != b')' && ir.err.is_none() {
                ir.read_import();
            }
            ir.next_byte(false);
        } else {
            ir.read_import();
        }
    }
    let mut header_len = ir.consumed();
    let err = ir.err.take();
    match err {
        Some(ReadErr::Syntax) => {
            src.read_all();
            if let Some(e) = src.io_err.clone() {
                return Err(read_error(path, ReadErr::Io(e)));
            }
            header_len = src.bytes().len();
        }
        Some(e) => return Err(read_error(path, e)),
        None => {}
    }

    let header = &src.bytes()[..header_len];
    let constraints = constraint::find_constraints(header);
    let parsed = parse_header(header);
    let lines = LineIndex::new(header);
    let mut out = GoFileHeader {
        package: parsed.package.unwrap_or_default(),
        package_pos: parsed.package_pos.map(|o| lines.pos(o)),
        imports: Vec::new(),
        embeds: Vec::new(),
        constraints,
        parse_error: None,
        header_len,
        cgo_preambles: Vec::new(),
    };
    if !parsed.errors.is_empty() {
        let mut errors: Vec<SyntaxError> = parsed
            .errors
            .iter()
            .map(|(o, m)| SyntaxError {
                pos: lines.pos(*o),
                msg: m.clone(),
            })
            .collect();
        errors
            .sort_by(|a, b| (a.pos.line, a.pos.col, &a.msg).cmp(&(b.pos.line, b.pos.col, &b.msg)));
        out.parse_error = Some(ScanError::Syntax {
            path: path.to_path_buf(),
            errors,
        });
        return Ok(out);
    }

    let mut has_embed = false;
    for (lit, off, doc) in &parsed.imports {
        let Some(raw) = unquote(lit) else {
            return Err(ScanError::BadQuoted {
                path: path.to_path_buf(),
                lit: String::from_utf8_lossy(lit).into_owned(),
            });
        };
        let p = String::from_utf8_lossy(&raw).into_owned();
        if !is_valid_import(&p) {
            out.parse_error = Some(ScanError::Syntax {
                path: path.to_path_buf(),
                errors: vec![SyntaxError {
                    pos: lines.pos(*off),
                    msg: format!("invalid import path: {p}"),
                }],
            });
            out.imports.clear();
            return Ok(out);
        }
        has_embed |= p == "embed";
        if p == "C" {
            out.cgo_preambles.extend(doc.as_deref().map(comment_text));
        }
        out.imports.push(ImportSpec {
            path: p,
            pos: lines.pos(*off),
        });
    }

    if has_embed {
        src.read_all();
        let all = src.bytes();
        let lines = LineIndex::new(all);
        let mut sc = Scanner::new(all, false);
        loop {
            let t = sc.scan();
            match t.kind {
                Tk::Eof => break,
                Tk::Comment if t.lit.starts_with(b"//go:embed") => {
                    if let Some(list) = parse_go_embed(&t.lit) {
                        out.embeds
                            .extend(list.into_iter().map(|(pattern, rel)| Embed {
                                pattern,
                                pos: lines.pos(t.off + rel),
                            }));
                    }
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(b: &[u8]) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            b.iter()
                .enumerate()
                .filter(|(i, c)| **c == b'\n' && i + 1 < b.len())
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    fn pos(&self, offset: usize) -> Pos {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        Pos {
            offset,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            col: u32::try_from(offset - start + 1).unwrap_or(u32::MAX),
        }
    }
}

/// go/build's `isValidImport` (spec implementation restriction).
///
/// ASCII is exact; for non-ASCII, Go's `unicode.IsGraphic` is approximated
/// as "not a control, space or common format character".
pub fn is_valid_import(s: &str) -> bool {
    const ILLEGAL: &str = "!\"#$%&'()*,:;<=>?[\\]^{|}`\u{FFFD}";
    !s.is_empty()
        && s.chars().all(|c| {
            let graphic = if c.is_ascii() {
                c.is_ascii_graphic() || c == ' '
            } else {
                !c.is_control()
                    && !matches!(c, '\u{AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
            };
            graphic && !c.is_whitespace() && !ILLEGAL.contains(c)
        })
}

// ---------------------------------------------------------------------------
// Go string literal unquoting (strconv.Unquote / QuotedPrefix).

fn unhex(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

/// Unquotes the quoted-string prefix of `s`, returning the value and the
/// prefix length. Mirrors `strconv.QuotedPrefix` + `strconv.Unquote`.
fn unquote_prefix(s: &[u8]) -> Option<(Vec<u8>, usize)> {
    let quote = *s.first()?;
    match quote {
        b'`' => {
            let end = s[1..].iter().position(|&c| c == b'`')? + 2;
            let v = s[1..end - 1]
                .iter()
                .copied()
                .filter(|&c| c != b'\r')
                .collect();
            Some((v, end))
        }
        b'"' => {
            let mut out = Vec::new();
            let mut i = 1;
            loop {
                let c = *s.get(i)?;
                if c == b'"' {
                    return Some((out, i + 1));
                }
                if c == b'\n' {
                    return None;
                }
                if c >= 0x80 {
                    let (ch, w) = decode_rune(&s[i..]);
                    let mut b = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                    i += w;
                    continue;
                }
                if c != b'\\' {
                    out.push(c);
                    i += 1;
                    continue;
                }
                let e = *s.get(i + 1)?;
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
                    b'x' | b'u' | b'U' => {
                        let n = match e {
                            b'x' => 2,
                            b'u' => 4,
                            _ => 8,
                        };
                        let digits = s.get(i..i + n)?;
                        let mut v: u32 = 0;
                        for &d in digits {
                            v = (v << 4) | unhex(d)?;
                        }
                        i += n;
                        if e == b'x' {
                            out.push(u8::try_from(v).ok()?);
                        } else {
                            let ch = char::from_u32(v)?;
                            let mut b = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut b).as_bytes());
                        }
                    }
                    b'0'..=b'7' => {
                        let mut v = u32::from(e - b'0');
                        for &d in s.get(i..i + 2)? {
                            if !(b'0'..=b'7').contains(&d) {
                                return None;
                            }
                            v = (v << 3) | u32::from(d - b'0');
                        }
                        i += 2;
                        out.push(u8::try_from(v).ok()?);
                    }
                    _ => return None,
                }
            }
        }
        _ => None,
    }
}

/// `strconv.Unquote` for string literals: the whole input must be one literal.
fn unquote(s: &[u8]) -> Option<Vec<u8>> {
    let (v, n) = unquote_prefix(s)?;
    (n == s.len()).then_some(v)
}

fn decode_rune(b: &[u8]) -> (char, usize) {
    let max = b.len().min(4);
    for w in 1..=max {
        if let Some(c) = std::str::from_utf8(&b[..w])
            .ok()
            .and_then(|s| s.chars().next())
        {
            return (c, w);
        }
    }
    ('\u{FFFD}', 1)
}

// ---------------------------------------------------------------------------
// //go:embed directive parsing (go/ast.ParseDirective + Directive.ParseArgs).

/// Returns (pattern, byte offset within the comment) for each argument, or
/// None if the comment is not a well-formed `//go:embed` directive.
fn parse_go_embed(comment: &[u8]) -> Option<Vec<(String, usize)>> {
    let text = String::from_utf8_lossy(comment);
    let c = text.as_ref();
    let b = c.as_bytes();
    if !(b.len() >= 3 && b[0] == b'/' && b[1] == b'/' && is_alnum(b[2])) {
        return None;
    }
    let s = &c[2..];
    let colon = s.find(':')?;
    if colon == 0 || colon + 1 >= s.len() {
        return None;
    }
    if !(0..=colon + 1)
        .filter(|&i| i != colon)
        .all(|i| is_alnum(s.as_bytes()[i]))
    {
        return None;
    }
    let tool = &s[..colon];
    let rest = &s[colon + 1..];
    let name_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let name = &rest[..name_end];
    if tool != "go" || name != "embed" {
        return None;
    }
    let after = &rest[name_end..];
    let args_trim = after.trim_start_matches(char::is_whitespace);
    let mut off = 2 + colon + 1 + name_end + (after.len() - args_trim.len());
    let mut args = args_trim.trim_end_matches(char::is_whitespace);
    let mut list = Vec::new();
    loop {
        let t = args.trim_start_matches(char::is_whitespace);
        off += args.len() - t.len();
        args = t;
        if args.is_empty() {
            break;
        }
        let arg_off = off;
        let first = args.as_bytes()[0];
        let (arg, used) = if first == b'`' || first == b'"' {
            let (v, n) = unquote_prefix(args.as_bytes())?;
            let rest = &args[n..];
            if rest.chars().next().is_some_and(|r| !r.is_whitespace()) {
                return None;
            }
            (String::from_utf8_lossy(&v).into_owned(), n)
        } else {
            let n = args.find(char::is_whitespace).unwrap_or(args.len());
            (args[..n].to_string(), n)
        };
        list.push((arg, arg_off));
        args = &args[used..];
        off += used;
    }
    Some(list)
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

// ---------------------------------------------------------------------------
// A go/scanner-compatible tokenizer (enough for headers and comment finding).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tk {
    Eof,
    Illegal,
    Comment,
    Ident,
    Int,
    Float,
    Imag,
    Char,
    Str,
    Semi,
    Op(&'static str),
    Kw(&'static str),
}

impl Tk {
    fn is_literal(self) -> bool {
        matches!(
            self,
            Tk::Ident | Tk::Int | Tk::Float | Tk::Imag | Tk::Char | Tk::Str
        )
    }

    fn name(self) -> &'static str {
        match self {
            Tk::Eof => "EOF",
            Tk::Illegal => "ILLEGAL",
            Tk::Comment => "COMMENT",
            Tk::Ident => "IDENT",
            Tk::Int => "INT",
            Tk::Float => "FLOAT",
            Tk::Imag => "IMAG",
            Tk::Char => "CHAR",
            Tk::Str => "STRING",
            Tk::Semi => ";",
            Tk::Op(s) | Tk::Kw(s) => s,
        }
    }
}

const KEYWORDS: &[&str] = &[
    "break",
    "case",
    "chan",
    "const",
    "continue",
    "default",
    "defer",
    "else",
    "fallthrough",
    "for",
    "func",
    "go",
    "goto",
    "if",
    "import",
    "interface",
    "map",
    "package",
    "range",
    "return",
    "select",
    "struct",
    "switch",
    "type",
    "var",
];

struct Token<'b> {
    kind: Tk,
    off: usize,
    lit: Cow<'b, [u8]>,
}

const EOF_CH: i32 = -1;

struct Scanner<'b> {
    src: &'b [u8],
    ch: i32,
    offset: usize,
    rd_offset: usize,
    insert_semi: bool,
    nl_pos: Option<usize>,
    report: bool,
    errors: Vec<(usize, String)>,
}

fn is_letter(ch: i32) -> bool {
    match u32::try_from(ch).ok().and_then(char::from_u32) {
        Some(c) if c.is_ascii() => c.is_ascii_alphabetic() || c == '_',
        Some(c) => c.is_alphabetic(),
        None => false,
    }
}

fn is_digit(ch: i32) -> bool {
    match u32::try_from(ch).ok().and_then(char::from_u32) {
        Some(c) if c.is_ascii() => c.is_ascii_digit(),
        Some(c) => c.is_numeric(),
        None => false,
    }
}

fn is_decimal(ch: i32) -> bool {
    (i32::from(b'0')..=i32::from(b'9')).contains(&ch)
}

fn fmt_char_u(ch: i32) -> String {
    // Go's %#U: U+0023 '#' (quoted char only if printable).
    let c = u32::try_from(ch).ok().and_then(char::from_u32);
    match c {
        Some(c) if !c.is_control() => format!("U+{:04X} '{}'", ch, c),
        _ => format!("U+{ch:04X}"),
    }
}

impl<'b> Scanner<'b> {
    fn new(src: &'b [u8], report: bool) -> Scanner<'b> {
        let mut s = Scanner {
            src,
            ch: i32::from(b' '),
            offset: 0,
            rd_offset: 0,
            insert_semi: false,
            nl_pos: None,
            report,
            errors: Vec::new(),
        };
        s.next();
        if s.ch == 0xFEFF {
            s.next();
        }
        s
    }

    fn error(&mut self, off: usize, msg: impl Into<String>) {
        if self.report {
            self.errors.push((off, msg.into()));
        }
    }

    fn next(&mut self) {
        if self.rd_offset < self.src.len() {
            self.offset = self.rd_offset;
            let b = self.src[self.rd_offset];
            let (r, w) = if b == 0 {
                self.error(self.offset, "illegal character NUL");
                (0, 1)
            } else if b >= 0x80 {
                let (c, w) = decode_rune(&self.src[self.rd_offset..]);
                if c == '\u{FFFD}' && w == 1 {
                    self.error(self.offset, "illegal UTF-8 encoding");
                } else if c == '\u{FEFF}' && self.offset > 0 {
                    self.error(self.offset, "illegal byte order mark");
                }
                (c as i32, w)
            } else {
                (i32::from(b), 1)
            };
            self.rd_offset += w;
            self.ch = r;
        } else {
            self.offset = self.src.len();
            self.ch = EOF_CH;
        }
    }

    fn peek(&self) -> u8 {
        self.src.get(self.rd_offset).copied().unwrap_or(0)
    }

    fn skip_whitespace(&mut self) {
        while self.ch == i32::from(b' ')
            || self.ch == i32::from(b'\t')
            || (self.ch == i32::from(b'\n') && !self.insert_semi)
            || self.ch == i32::from(b'\r')
        {
            self.next();
        }
    }

    fn is(&self, c: u8) -> bool {
        self.ch == i32::from(c)
    }

    fn scan_comment(&mut self) -> (Cow<'b, [u8]>, usize) {
        let offs = self.offset - 1;
        let mut num_cr = 0;
        let mut nl_offset = 0;
        if self.is(b'/') {
            self.next();
            while !self.is(b'\n') && self.ch >= 0 {
                if self.is(b'\r') {
                    num_cr += 1;
                }
                self.next();
            }
        } else {
            self.next();
            let mut terminated = false;
            while self.ch >= 0 {
                let ch = self.ch;
                if ch == i32::from(b'\r') {
                    num_cr += 1;
                } else if ch == i32::from(b'\n') && nl_offset == 0 {
                    nl_offset = self.offset;
                }
                self.next();
                if ch == i32::from(b'*') && self.is(b'/') {
                    self.next();
                    terminated = true;
                    break;
                }
            }
            if !terminated {
                self.error(offs, "comment not terminated");
            }
        }
        let mut lit: &'b [u8] = &self.src[offs..self.offset];
        if num_cr > 0 && lit.len() >= 2 && lit[1] == b'/' && lit.last() == Some(&b'\r') {
            lit = &lit[..lit.len() - 1];
            num_cr -= 1;
        }
        if num_cr > 0 {
            return (
                Cow::Owned(lit.iter().copied().filter(|&c| c != b'\r').collect()),
                nl_offset,
            );
        }
        (Cow::Borrowed(lit), nl_offset)
    }

    fn scan_identifier(&mut self) {
        while is_letter(self.ch) || is_digit(self.ch) {
            self.next();
        }
    }

    fn scan_number(&mut self) -> Tk {
        let mut kind = Tk::Int;
        let mut hex = false;
        if self.is(b'0') {
            let p = self.peek().to_ascii_lowercase();
            if p == b'x' {
                hex = true;
            }
        }
        let mut seen_dot = false;
        loop {
            let c = self.ch;
            if is_decimal(c) || c == i32::from(b'_') {
                self.next();
            } else if c == i32::from(b'.') && !seen_dot {
                seen_dot = true;
                kind = Tk::Float;
                self.next();
            } else if (!hex && (c == i32::from(b'e') || c == i32::from(b'E')))
                || (hex && (c == i32::from(b'p') || c == i32::from(b'P')))
            {
                kind = Tk::Float;
                self.next();
                if self.is(b'+') || self.is(b'-') {
                    self.next();
                }
            } else if c == i32::from(b'i') {
                self.next();
                return Tk::Imag;
            } else if (0..0x80).contains(&c) && (c as u8).is_ascii_alphabetic() {
                self.next();
            } else {
                return kind;
            }
        }
    }

    fn scan_escape(&mut self, quote: u8) -> bool {
        let offs = self.offset;
        let (mut n, base, max): (u32, u32, u32) = match self.ch {
            c if (0..0x80).contains(&c) && b"abfnrtv\\".contains(&(c as u8))
                || c == i32::from(quote) =>
            {
                self.next();
                return true;
            }
            c if (i32::from(b'0')..=i32::from(b'7')).contains(&c) => (3, 8, 255),
            c if c == i32::from(b'x') => {
                self.next();
                (2, 16, 255)
            }
            c if c == i32::from(b'u') => {
                self.next();
                (4, 16, 0x10FFFF)
            }
            c if c == i32::from(b'U') => {
                self.next();
                (8, 16, 0x10FFFF)
            }
            c => {
                let msg = if c < 0 {
                    "escape sequence not terminated"
                } else {
                    "unknown escape sequence"
                };
                self.error(offs, msg);
                return false;
            }
        };
        let mut x: u32 = 0;
        while n > 0 {
            let d = u32::try_from(self.ch)
                .ok()
                .and_then(char::from_u32)
                .and_then(|c| c.to_digit(16))
                .unwrap_or(16);
            if d >= base {
                let msg = if self.ch < 0 {
                    "escape sequence not terminated".to_string()
                } else {
                    format!(
                        "illegal character {} in escape sequence",
                        fmt_char_u(self.ch)
                    )
                };
                self.error(self.offset, msg);
                return false;
            }
            x = x.wrapping_mul(base).wrapping_add(d);
            self.next();
            n -= 1;
        }
        if x > max || (0xD800..0xE000).contains(&x) {
            self.error(offs, "escape sequence is invalid Unicode code point");
            return false;
        }
        true
    }

    fn scan_rune(&mut self) {
        let offs = self.offset - 1;
        let mut valid = true;
        let mut n = 0;
        loop {
            let ch = self.ch;
            if ch == i32::from(b'\n') || ch < 0 {
                if valid {
                    self.error(offs, "rune literal not terminated");
                    valid = false;
                }
                break;
            }
            self.next();
            if ch == i32::from(b'\'') {
                break;
            }
            n += 1;
            if ch == i32::from(b'\\') && !self.scan_escape(b'\'') {
                valid = false;
            }
        }
        if valid && n != 1 {
            self.error(offs, "illegal rune literal");
        }
    }

    fn scan_string(&mut self) {
        let offs = self.offset - 1;
        loop {
            let ch = self.ch;
            if ch == i32::from(b'\n') || ch < 0 {
                self.error(offs, "string literal not terminated");
                break;
            }
            self.next();
            if ch == i32::from(b'"') {
                break;
            }
            if ch == i32::from(b'\\') {
                self.scan_escape(b'"');
            }
        }
    }

    fn scan_raw_string(&mut self) -> bool {
        let offs = self.offset - 1;
        let mut has_cr = false;
        loop {
            let ch = self.ch;
            self.next();
            if ch == i32::from(b'`') {
                break;
            }
            if ch < 0 {
                self.error(offs, "raw string literal not terminated");
                break;
            }
            if ch == i32::from(b'\r') {
                has_cr = true;
            }
        }
        has_cr
    }

    fn switch2(&mut self, t0: &'static str, t1: &'static str) -> Tk {
        if self.is(b'=') {
            self.next();
            return Tk::Op(t1);
        }
        Tk::Op(t0)
    }

    fn switch3(&mut self, t0: &'static str, t1: &'static str, ch2: u8, t2: &'static str) -> Tk {
        if self.is(b'=') {
            self.next();
            return Tk::Op(t1);
        }
        if self.is(ch2) {
            self.next();
            return Tk::Op(t2);
        }
        Tk::Op(t0)
    }

    fn switch4(
        &mut self,
        t0: &'static str,
        t1: &'static str,
        ch2: u8,
        t2: &'static str,
        t3: &'static str,
    ) -> Tk {
        if self.is(b'=') {
            self.next();
            return Tk::Op(t1);
        }
        if self.is(ch2) {
            self.next();
            if self.is(b'=') {
                self.next();
                return Tk::Op(t3);
            }
            return Tk::Op(t2);
        }
        Tk::Op(t0)
    }

    fn scan(&mut self) -> Token<'b> {
        if let Some(p) = self.nl_pos.take() {
            return Token {
                kind: Tk::Semi,
                off: p,
                lit: Cow::Borrowed(b"\n"),
            };
        }
        self.skip_whitespace();
        let off = self.offset;
        let mut insert_semi = false;
        let ch = self.ch;
        let mut lit: Cow<'b, [u8]> = Cow::Borrowed(b"");
        let kind;
        if is_letter(ch) {
            self.scan_identifier();
            let word = &self.src[off..self.offset];
            lit = Cow::Borrowed(word);
            let kw = if word.len() > 1 {
                KEYWORDS.iter().find(|k| k.as_bytes() == word).copied()
            } else {
                None
            };
            match kw {
                Some(k) => {
                    kind = Tk::Kw(k);
                    insert_semi = matches!(k, "break" | "continue" | "fallthrough" | "return");
                }
                None => {
                    kind = Tk::Ident;
                    insert_semi = true;
                }
            }
        } else if is_decimal(ch) || (ch == i32::from(b'.') && is_decimal(i32::from(self.peek()))) {
            insert_semi = true;
            kind = self.scan_number();
            lit = Cow::Borrowed(&self.src[off..self.offset]);
        } else {
            self.next();
            let c = u8::try_from(ch).ok().filter(|c| c.is_ascii());
            kind = match c {
                _ if ch == EOF_CH => {
                    if self.insert_semi {
                        self.insert_semi = false;
                        return Token {
                            kind: Tk::Semi,
                            off,
                            lit: Cow::Borrowed(b"\n"),
                        };
                    }
                    Tk::Eof
                }
                Some(b'\n') => {
                    self.insert_semi = false;
                    return Token {
                        kind: Tk::Semi,
                        off,
                        lit: Cow::Borrowed(b"\n"),
                    };
                }
                Some(b'"') => {
                    insert_semi = true;
                    self.scan_string();
                    lit = Cow::Borrowed(&self.src[off..self.offset]);
                    Tk::Str
                }
                Some(b'\'') => {
                    insert_semi = true;
                    self.scan_rune();
                    lit = Cow::Borrowed(&self.src[off..self.offset]);
                    Tk::Char
                }
                Some(b'`') => {
                    insert_semi = true;
                    let has_cr = self.scan_raw_string();
                    let raw = &self.src[off..self.offset];
                    lit = if has_cr {
                        Cow::Owned(raw.iter().copied().filter(|&c| c != b'\r').collect())
                    } else {
                        Cow::Borrowed(raw)
                    };
                    Tk::Str
                }
                Some(b':') => self.switch2(":", ":="),
                Some(b'.') => {
                    if self.is(b'.') && self.peek() == b'.' {
                        self.next();
                        self.next();
                        Tk::Op("...")
                    } else {
                        Tk::Op(".")
                    }
                }
                Some(b',') => Tk::Op(","),
                Some(b';') => {
                    lit = Cow::Borrowed(b";");
                    Tk::Semi
                }
                Some(b'(') => Tk::Op("("),
                Some(b')') => {
                    insert_semi = true;
                    Tk::Op(")")
                }
                Some(b'[') => Tk::Op("["),
                Some(b']') => {
                    insert_semi = true;
                    Tk::Op("]")
                }
                Some(b'{') => Tk::Op("{"),
                Some(b'}') => {
                    insert_semi = true;
                    Tk::Op("}")
                }
                Some(b'+') => {
                    let t = self.switch3("+", "+=", b'+', "++");
                    insert_semi = t == Tk::Op("++");
                    t
                }
                Some(b'-') => {
                    let t = self.switch3("-", "-=", b'-', "--");
                    insert_semi = t == Tk::Op("--");
                    t
                }
                Some(b'*') => self.switch2("*", "*="),
                Some(b'/') => {
                    if self.is(b'/') || self.is(b'*') {
                        let (comment, nl_offset) = self.scan_comment();
                        if self.insert_semi && nl_offset != 0 {
                            self.nl_pos = Some(nl_offset);
                            self.insert_semi = false;
                        } else {
                            insert_semi = self.insert_semi;
                        }
                        lit = comment;
                        Tk::Comment
                    } else {
                        self.switch2("/", "/=")
                    }
                }
                Some(b'%') => self.switch2("%", "%="),
                Some(b'^') => self.switch2("^", "^="),
                Some(b'<') => {
                    if self.is(b'-') {
                        self.next();
                        Tk::Op("<-")
                    } else {
                        self.switch4("<", "<=", b'<', "<<", "<<=")
                    }
                }
                Some(b'>') => self.switch4(">", ">=", b'>', ">>", ">>="),
                Some(b'=') => self.switch2("=", "=="),
                Some(b'!') => self.switch2("!", "!="),
                Some(b'&') => {
                    if self.is(b'^') {
                        self.next();
                        self.switch2("&^", "&^=")
                    } else {
                        self.switch3("&", "&=", b'&', "&&")
                    }
                }
                Some(b'|') => self.switch3("|", "|=", b'|', "||"),
                Some(b'~') => Tk::Op("~"),
                _ => {
                    if ch != 0xFEFF {
                        if ch == 0x201C || ch == 0x201D {
                            let c = char::from_u32(ch as u32).unwrap_or('?');
                            self.error(
                                off,
                                format!("curly quotation mark '{c}' (use neutral '\"')"),
                            );
                        } else {
                            self.error(off, format!("illegal character {}", fmt_char_u(ch)));
                        }
                    }
                    insert_semi = self.insert_semi;
                    lit = Cow::Borrowed(&self.src[off..self.offset]);
                    Tk::Illegal
                }
            };
        }
        self.insert_semi = insert_semi;
        Token { kind, off, lit }
    }
}

/// go/ast's `CommentGroup.Text`: the comments' text without their markers,
/// `//` lines losing one leading space, directives (`//go:…`, `//line `,
/// `//export `, `//extern `) dropped, trailing white space stripped,
/// leading blank lines removed and runs of blank lines made one, ending in
/// a newline.
pub fn comment_text(comments: &[Vec<u8>]) -> String {
    let mut lines: Vec<String> = Vec::new();
    for c in comments {
        let c = String::from_utf8_lossy(c);
        let body: &str = if let Some(rest) = c.strip_prefix("//") {
            if let Some(r) = rest.strip_prefix(' ') {
                r
            } else if !rest.is_empty() && is_comment_directive(rest) {
                continue;
            } else {
                rest
            }
        } else {
            let inner = c.strip_prefix("/*").unwrap_or(&c);
            inner.strip_suffix("*/").unwrap_or(inner)
        };
        lines.extend(
            body.split('\n')
                .map(|l| l.trim_end_matches([' ', '\t', '\n', '\r']).to_string()),
        );
    }
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        if !l.is_empty() || out.last().is_some_and(|p| !p.is_empty()) {
            out.push(l);
        }
    }
    if out.last().is_some_and(|l| !l.is_empty()) {
        out.push(String::new());
    }
    out.join("\n")
}

/// go/ast's `isDirective` on a `//` comment without its slashes.
fn is_comment_directive(c: &str) -> bool {
    if ["line ", "extern ", "export "]
        .iter()
        .any(|p| c.starts_with(p))
    {
        return true;
    }
    let b = c.as_bytes();
    let Some(colon) = c.find(':') else {
        return false;
    };
    if colon == 0 || colon + 1 >= b.len() {
        return false;
    }
    (0..=colon + 1)
        .filter(|&i| i != colon)
        .all(|i| is_alnum(b[i]))
}

// ---------------------------------------------------------------------------
// go/parser in ImportsOnly mode, reduced to what go/build uses.

/// One import spec: its raw literal, its position, its doc comment (the
/// comments of the group, as written).
type ParsedImport = (Vec<u8>, usize, Option<Vec<Vec<u8>>>);

struct ParsedHeader {
    package: Option<String>,
    package_pos: Option<usize>,
    /// (raw literal, spec position offset, the spec's doc comment)
    imports: Vec<ParsedImport>,
    errors: Vec<(usize, String)>,
}

struct Parser<'b> {
    sc: Scanner<'b>,
    lines: LineIndex,
    kind: Tk,
    off: usize,
    lit: Cow<'b, [u8]>,
    /// Parser + scanner errors, in report order: (offset, line, msg).
    errors: Vec<(usize, u32, String)>,
    sync_pos: usize,
    sync_cnt: u32,
    bailout: bool,
    /// Whether a token was read (the first has no previous line).
    started: bool,
    /// go/parser's `leadComment`: the comment group that ends on the line
    /// just before the current token.
    lead: Option<Vec<Vec<u8>>>,
}

impl<'b> Parser<'b> {
    /// One token from the scanner; its errors go straight into the list
    /// (no same-line filter).
    fn scan_token(&mut self) -> Token<'b> {
        let t = self.sc.scan();
        for (o, m) in self.sc.errors.drain(..) {
            let line = self.lines.pos(o).line;
            self.errors.push((o, line, m));
        }
        t
    }

    fn line(&self, off: usize) -> u32 {
        self.lines.pos(off).line
    }

    /// go/parser's `next`: the next token that is not a comment, noting the
    /// lead comment before it (a comment on the previous token's line starts
    /// a group of its own, never a lead comment).
    fn next(&mut self) {
        self.lead = None;
        let prev_line = if self.started { self.line(self.off) } else { 0 };
        self.started = true;
        let mut t = self.scan_token();
        if t.kind == Tk::Comment {
            if self.line(t.off) == prev_line {
                t = self.comment_group(t, 0).2;
            }
            let mut last = None;
            while t.kind == Tk::Comment {
                let (group, end, next) = self.comment_group(t, 1);
                last = Some((group, end));
                t = next;
            }
            if let Some((group, end)) = last {
                if end + 1 == self.line(t.off) {
                    self.lead = Some(group);
                }
            }
        }
        self.kind = t.kind;
        self.off = t.off;
        self.lit = t.lit;
    }

    /// go/parser's `consumeCommentGroup(n)`: `first` and the comments that
    /// start at most `n` lines after the previous one ends; returns them,
    /// the group's last line and the token after it.
    fn comment_group(&mut self, first: Token<'b>, n: u32) -> (Vec<Vec<u8>>, u32, Token<'b>) {
        let mut list = Vec::new();
        let mut end = self.line(first.off);
        let mut t = first;
        while t.kind == Tk::Comment && self.line(t.off) <= end + n {
            end = self.line(t.off);
            if t.lit.get(1) == Some(&b'*') {
                let lines = t.lit.iter().filter(|&&c| c == b'\n').count();
                end += u32::try_from(lines).unwrap_or(u32::MAX);
            }
            list.push(t.lit.into_owned());
            t = self.scan_token();
        }
        (list, end, t)
    }

    fn error(&mut self, off: usize, msg: String) {
        let line = self.lines.pos(off).line;
        if self.errors.last().is_some_and(|last| last.1 == line) {
            return;
        }
        if self.errors.len() > 10 {
            self.bailout = true;
            return;
        }
        self.errors.push((off, line, msg));
    }

    fn error_expected(&mut self, msg: &str) {
        let found = if self.kind == Tk::Semi && self.lit.as_ref() == b"\n" {
            "newline".to_string()
        } else if self.kind.is_literal() {
            String::from_utf8_lossy(&self.lit).into_owned()
        } else {
            format!("'{}'", self.kind.name())
        };
        self.error(self.off, format!("expected {msg}, found {found}"));
    }

    fn expect(&mut self, kind: Tk) {
        if self.kind != kind {
            self.error_expected(&format!("'{}'", kind.name()));
        }
        self.next();
    }

    fn expect_semi(&mut self) {
        match self.kind {
            Tk::Op(")") | Tk::Op("}") => {}
            Tk::Op(",") => {
                self.error_expected("';'");
                self.next();
            }
            Tk::Semi => self.next(),
            _ => {
                self.error_expected("';'");
                self.advance(|k| {
                    matches!(
                        k,
                        Tk::Kw(
                            "break"
                                | "const"
                                | "continue"
                                | "defer"
                                | "fallthrough"
                                | "for"
                                | "go"
                                | "goto"
                                | "if"
                                | "return"
                                | "select"
                                | "switch"
                                | "type"
                                | "var"
                        )
                    )
                });
            }
        }
    }

    fn advance(&mut self, to: fn(Tk) -> bool) {
        while self.kind != Tk::Eof && !self.bailout {
            if to(self.kind) {
                if self.off == self.sync_pos && self.sync_cnt < 10 {
                    self.sync_cnt += 1;
                    return;
                }
                if self.off > self.sync_pos {
                    self.sync_pos = self.off;
                    self.sync_cnt = 0;
                    return;
                }
            }
            self.next();
        }
    }

    fn parse_import_spec(&mut self, imports: &mut Vec<ParsedImport>, doc: Option<Vec<Vec<u8>>>) {
        let mut name_pos = None;
        match self.kind {
            Tk::Ident => {
                name_pos = Some(self.off);
                self.next();
            }
            Tk::Op(".") => {
                name_pos = Some(self.off);
                self.next();
            }
            _ => {}
        }
        let pos = self.off;
        let mut path = Vec::new();
        if self.kind == Tk::Str {
            path = self.lit.to_vec();
            self.next();
        } else if self.kind.is_literal() {
            self.error(pos, "import path must be a string".to_string());
            self.next();
        } else {
            self.error(pos, "missing import path".to_string());
            self.advance(|k| {
                matches!(
                    k,
                    Tk::Op(",") | Tk::Op(":") | Tk::Semi | Tk::Op(")") | Tk::Op("]") | Tk::Op("}")
                )
            });
        }
        self.expect_semi();
        imports.push((path, name_pos.unwrap_or(pos), doc));
    }
}

fn parse_header(header: &[u8]) -> ParsedHeader {
    let mut p = Parser {
        sc: Scanner::new(header, true),
        lines: LineIndex::new(header),
        kind: Tk::Eof,
        off: 0,
        lit: Cow::Borrowed(b""),
        errors: Vec::new(),
        sync_pos: 0,
        sync_cnt: 0,
        bailout: false,
        started: false,
        lead: None,
    };
    // Scanner errors from construction (e.g. NUL at offset 0).
    for (o, m) in p.sc.errors.drain(..) {
        let line = p.lines.pos(o).line;
        p.errors.push((o, line, m));
    }
    p.next();
    let finish = |p: Parser<'_>, ok: Option<(String, usize)>, imports| ParsedHeader {
        package: ok.as_ref().map(|(n, _)| n.clone()),
        package_pos: ok.map(|(_, o)| o),
        imports,
        errors: p.errors.into_iter().map(|(o, _, m)| (o, m)).collect(),
    };
    if !p.errors.is_empty() {
        return finish(p, None, Vec::new());
    }
    let pkg_pos = p.off;
    p.expect(Tk::Kw("package"));
    let name = if p.kind == Tk::Ident {
        let n = String::from_utf8_lossy(&p.lit).into_owned();
        p.next();
        n
    } else {
        p.expect(Tk::Ident);
        "_".to_string()
    };
    p.expect_semi();
    if !p.errors.is_empty() || p.bailout {
        return finish(p, None, Vec::new());
    }
    let mut imports = Vec::new();
    let mut guard = 0usize;
    while p.kind == Tk::Kw("import") && !p.bailout {
        // go/build takes a spec's own doc comment, else the declaration's
        // when the declaration has only that spec.
        let decl_doc = p.lead.take();
        p.next();
        if p.kind == Tk::Op("(") {
            p.next();
            let first = imports.len();
            while p.kind != Tk::Op(")") && p.kind != Tk::Eof && !p.bailout {
                let doc = p.lead.take();
                p.parse_import_spec(&mut imports, doc);
                guard += 1;
                if guard > header.len() + 16 {
                    break;
                }
            }
            if let [(_, _, doc @ None)] = &mut imports[first..] {
                *doc = decl_doc;
            }
            p.expect(Tk::Op(")"));
            p.expect_semi();
        } else {
            p.parse_import_spec(&mut imports, decl_doc);
        }
    }
    if p.bailout {
        return finish(p, None, Vec::new());
    }
    finish(p, Some((name, pkg_pos)), imports)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(src: &str) -> GoFileHeader {
        scan_go_file(Path::new("/d/x.go"), src.as_bytes()).unwrap()
    }

    fn paths(h: &GoFileHeader) -> Vec<&str> {
        h.imports.iter().map(|i| i.path.as_str()).collect()
    }

    #[test]
    fn grouped_imports_and_aliases() {
        let h = scan(
            "// Copyright\n\n/* block */ package foo // c\n\nimport (\n\t\"fmt\"\n\tx \"os\"\n\t. `strings`\n\t_ \"embed\" ; \"io\"\n)\nimport \"C\"\n\nfunc main() {}\n",
        );
        assert_eq!(h.package, "foo");
        assert_eq!(paths(&h), ["fmt", "os", "strings", "embed", "io", "C"]);
        assert!(h.imports_c());
        // Position of an aliased import is the alias.
        assert_eq!((h.imports[1].pos.line, h.imports[1].pos.col), (7, 2));
        assert_eq!((h.imports[0].pos.line, h.imports[0].pos.col), (6, 2));
        assert!(h.parse_error.is_none());
    }

    /// The preamble of `import "C"` is go/parser's doc comment: the group
    /// ending on the line just before the spec (or before `import` for a
    /// lone spec), not one on the previous token's line, not one followed
    /// by a blank line; go/ast's Text drops markers and directives.
    #[test]
    fn cgo_preambles_are_doc_comments() {
        let h = scan("package p\n\n// #cgo LDFLAGS: -la\n//go:generate x\n/* #cgo CFLAGS: -DB\n   #cgo CFLAGS: -DC */\nimport \"C\"\n");
        assert_eq!(
            h.cgo_preambles,
            ["#cgo LDFLAGS: -la\n #cgo CFLAGS: -DB\n   #cgo CFLAGS: -DC\n"]
        );
        let h = scan("package p\n// #cgo LDFLAGS: -lx\n\nimport \"C\"\n");
        assert!(h.cgo_preambles.is_empty());
        let h = scan("package p\nimport ( // #cgo LDFLAGS: -lx\n\t\"fmt\"\n\t// #cgo LDFLAGS: -ly\n\t\"C\"\n)\n");
        assert_eq!(h.cgo_preambles, ["#cgo LDFLAGS: -ly\n"]);
        let h = scan("package p\n// #cgo LDFLAGS: -lz\nimport (\n\t\"C\"\n)\n");
        assert_eq!(h.cgo_preambles, ["#cgo LDFLAGS: -lz\n"]);
        let h = scan("package p\n// #cgo LDFLAGS: -lz\nimport (\n\t\"C\"\n\t\"fmt\"\n)\n");
        assert!(h.cgo_preambles.is_empty());
        let h = scan("package p\nimport \"fmt\" // #cgo LDFLAGS: -lq\nimport \"C\"\n");
        assert!(h.cgo_preambles.is_empty());
    }

    #[test]
    fn header_stops_at_first_decl() {
        let src = "package p\nimport \"a\"\nvar x = \"import\"\n";
        let h = scan(src);
        assert_eq!(h.header_len, src.find("var").unwrap());
        assert_eq!(paths(&h), ["a"]);
    }

    #[test]
    fn embeds() {
        let src = "package p\n\nimport _ \"embed\"\n\n//go:embed a.txt \"b c.txt\" `d`\nvar s string\n\nconst x = \"//go:embed nope\"\nvar y = `\n//go:embed nope2\n`\n/*\n//go:embed nope3\n*/\n//go:embed\tdir/*.tmpl  \n//go:embedded bad\n//go:embed \"bad\"x\nvar z int\n";
        let h = scan(src);
        let pats: Vec<_> = h.embeds.iter().map(|e| e.pattern.as_str()).collect();
        assert_eq!(pats, ["a.txt", "b c.txt", "d", "dir/*.tmpl"]);
        assert_eq!((h.embeds[0].pos.line, h.embeds[0].pos.col), (5, 12));
        assert_eq!((h.embeds[1].pos.line, h.embeds[1].pos.col), (5, 18));
        assert_eq!((h.embeds[3].pos.line, h.embeds[3].pos.col), (15, 12));
        // Without import "embed", directives are not collected.
        let h = scan("package p\n//go:embed x\nvar s string\n");
        assert!(h.embeds.is_empty());
    }

    #[test]
    fn bom_and_constraints() {
        let src = b"\xEF\xBB\xBF//go:build linux\n\npackage p\nimport \"x\"\n";
        let h = scan_go_file(Path::new("/d/x.go"), src).unwrap();
        assert_eq!(h.package, "p");
        let c = h.constraints.unwrap();
        assert_eq!(c.go_build.as_deref(), Some("//go:build linux"));
        // Positions are relative to the BOM-stripped text, like Go.
        assert_eq!((h.imports[0].pos.line, h.imports[0].pos.col), (4, 8));
    }

    #[test]
    fn parse_errors() {
        let err = |src: &str| {
            let h = scan(src);
            (h.package.clone(), h.parse_error.map(|e| e.to_string()))
        };
        assert_eq!(
            err(""),
            (
                "".into(),
                Some("/d/x.go:1:1: expected 'package', found 'EOF'".into())
            )
        );
        assert_eq!(
            err("packag foo\n"),
            (
                "".into(),
                Some("/d/x.go:1:1: expected 'package', found packag".into())
            )
        );
        assert_eq!(
            err("package\n"),
            (
                "".into(),
                Some("/d/x.go:1:9: expected 'IDENT', found 'EOF'".into())
            )
        );
        assert_eq!(
            err("package p\nimport fmt\n"),
            ("p".into(), Some("/d/x.go:2:11: missing import path".into()))
        );
        assert_eq!(
            err("package p\nimport \"a b\"\n"),
            (
                "p".into(),
                Some("/d/x.go:2:8: invalid import path: a b".into())
            )
        );
        assert_eq!(
            err("package p\nimport 42\n"),
            (
                "p".into(),
                Some("/d/x.go:2:8: import path must be a string".into())
            )
        );
        assert_eq!(
            err("package p; import (\"a\" ; x.y \"b\")\n"),
            ("p".into(), Some("/d/x.go:1:27: missing import path".into()))
        );
        let (_, e) = err("package p\nimport (\n\"a\"\n\"b\n)\n");
        assert!(e.unwrap().contains("4:1: string literal not terminated"));
        assert_eq!(
            err("#!/bin/sh\npackage p\n"),
            (
                "".into(),
                Some("/d/x.go:1:1: illegal character U+0023 '#'".into())
            )
        );
    }

    #[test]
    fn nul_is_read_error() {
        let e = scan_go_file(Path::new("/d/x.go"), b"package p\x00\n").unwrap_err();
        assert_eq!(e.to_string(), "read /d/x.go: unexpected NUL in input");
        // NUL after the header is not looked at.
        assert!(scan_go_file(Path::new("/d/x.go"), b"package p\nfunc f() {}\x00").is_ok());
    }

    #[test]
    fn leading_comments() {
        let mut r: &[u8] = b"// +build linux\n\n/* x */\n#include \"a.h\"\n";
        let h = read_leading_comments(Path::new("a.s"), &mut r).unwrap();
        assert_eq!(h, b"// +build linux\n\n/* x */\n");
        let mut r: &[u8] = b"/x";
        assert!(read_leading_comments(Path::new("a.s"), &mut r).is_err());
    }

    #[test]
    fn unquote_rules() {
        assert_eq!(
            unquote(br#""a\tb\x41\101\u00e9""#).unwrap(),
            "a\tbAAé".as_bytes()
        );
        assert_eq!(unquote(b"`a\r\nb`").unwrap(), b"a\nb");
        assert!(unquote(br#""\q""#).is_none());
        assert!(unquote(br#""a"b"#).is_none());
        assert!(is_valid_import("golang.org/x/net"));
        assert!(!is_valid_import("a b") && !is_valid_import("") && !is_valid_import("a:b"));
    }
}
