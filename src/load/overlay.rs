//! `-overlay FILE`: the virtual file system cmd/go's `internal/fsys` puts over the disk.
//!
//! The file is JSON, `{"Replace": {path: replacement}}`, read as go's
//! `encoding/json` reads it into `struct { Replace map[string]string }`
//! (field name matched case-insensitively, unknown fields ignored, `null`
//! a no-op, its error words). Each path is made absolute against the
//! working directory and cleaned; a replacement of `""` deletes the path,
//! any other is the file whose bytes the path has. Looking a path up
//! ([`Overlay::lookup`]) and listing a directory ([`Overlay::children`])
//! follow fsys's `stat` and `children`: a path with a replaced descendant is
//! a directory, a path below a replaced file is deleted.
//!
//! Only [`crate::load::files::Files`] consults it while loading; the planner
//! asks [`Overlay::replacement`] for the file an action must read instead
//! of a source file (`src/plan/inputs.rs` checks that file like any input).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::modules::clean_path;

/// One replaced path.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Replace {
    /// The absolute, cleaned path replaced.
    from: PathBuf,
    /// Its replacement, absolute and cleaned; `None` when deleted.
    to: Option<PathBuf>,
}

/// The parsed overlay, sorted as fsys sorts it (a path just before its children).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overlay {
    list: Vec<Replace>,
}

/// What the overlay says about a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// Deleted, or below a replaced file.
    Deleted,
    /// Replaced by this file.
    File(&'a Path),
    /// A directory, because something below it is replaced.
    Dir,
    /// Not in the overlay: the disk decides.
    Disk,
}

/// fsys's order: the separator sorts before every other byte, so `x` comes
/// just before `x/a`, which comes before `x.go`.
fn cmp(x: &Path, y: &Path) -> std::cmp::Ordering {
    let key = |b: u8| if b == b'/' { -1i16 } else { i16::from(b) };
    let (x, y) = (x.as_os_str().as_bytes(), y.as_os_str().as_bytes());
    x.iter().map(|&b| key(b)).cmp(y.iter().map(|&b| key(b)))
}

/// `s` is `prefix` or below it.
fn has_path_prefix(s: &Path, prefix: &Path) -> bool {
    s.starts_with(prefix)
}

/// fsys's `abs`: absolute against `cwd`, cleaned.
fn abs(p: &str, cwd: &Path) -> PathBuf {
    clean_path(&cwd.join(p))
}

impl Overlay {
    /// Parses the overlay file's bytes as `fsys.initFromJSON` does, with its
    /// error words (what follows `go: ` in go's message).
    pub fn from_json(js: &[u8], cwd: &Path) -> Result<Overlay, String> {
        let replace = json::decode(js).map_err(|e| format!("parsing overlay JSON: {e}"))?;
        let mut list: Vec<Replace> = Vec::new();
        // Keys in byte order, as go's sorted map keys.
        let mut seen: std::collections::HashMap<PathBuf, String> = Default::default();
        for (from, to) in replace {
            if from.is_empty() {
                return Err("empty string key in overlay map".into());
            }
            let afrom = abs(&from, cwd);
            if let Some(old) = seen.get(&afrom) {
                return Err(format!("duplicate paths {old} and {from} in overlay map"));
            }
            seen.insert(afrom.clone(), from);
            list.push(Replace {
                from: afrom,
                to: (!to.is_empty()).then(|| abs(&to, cwd)),
            });
        }
        list.sort_by(|a, b| cmp(&a.from, &b.from));
        for (i, r) in list.iter().enumerate() {
            if r.to.is_none() {
                continue;
            }
            for next in &list[i + 1..] {
                if !next.from.starts_with(&r.from) {
                    break;
                }
                if next.to.is_some() {
                    return Err(format!(
                        "inconsistent files {} and {} in overlay map",
                        r.from.display(),
                        next.from.display()
                    ));
                }
            }
        }
        Ok(Overlay { list })
    }

    /// What `p` (absolute) is in the overlay (fsys's `stat`).
    pub fn lookup(&self, p: &Path) -> Lookup<'_> {
        let p = clean_path(p);
        let i = self
            .list
            .partition_point(|r| cmp(&r.from, &p) == std::cmp::Ordering::Less);
        if let Some(r) = self.list.get(i) {
            if r.from == p {
                return match &r.to {
                    None => Lookup::Deleted,
                    Some(to) => Lookup::File(to),
                };
            }
            if has_path_prefix(&r.from, &p) {
                return Lookup::Dir;
            }
        }
        if i > 0 && has_path_prefix(&p, &self.list[i - 1].from) {
            return Lookup::Deleted;
        }
        Lookup::Disk
    }

    /// The file to read instead of `p`, when the overlay replaces it.
    pub fn replacement(&self, p: &Path) -> Option<&Path> {
        match self.lookup(p) {
            Lookup::File(to) => Some(to),
            _ => None,
        }
    }

    /// The overlay's children of directory `dir` (fsys's `children`), by
    /// name: each deleted, replaced by a file, or a directory implied by a
    /// replaced descendant (a deleted descendant implies nothing).
    pub fn children(&self, dir: &Path) -> Vec<(OsString, Lookup<'_>)> {
        let dir = clean_path(dir);
        let mut out: Vec<(OsString, Lookup<'_>)> = Vec::new();
        for r in &self.list {
            let Ok(rest) = r.from.strip_prefix(&dir) else {
                continue;
            };
            let mut comps = rest.components();
            let Some(first) = comps.next() else { continue };
            let name = first.as_os_str().to_os_string();
            let nested = comps.next().is_some();
            let kind = match (&r.to, nested) {
                (None, true) => continue,
                (_, true) => Lookup::Dir,
                (None, false) => Lookup::Deleted,
                (Some(to), false) => Lookup::File(to),
            };
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, kind));
            }
        }
        out
    }

    /// Every replaced path with its replacement file (deletions left out).
    pub fn replaced_files(&self) -> impl Iterator<Item = (&Path, &Path)> {
        self.list
            .iter()
            .filter_map(|r| r.to.as_deref().map(|t| (r.from.as_path(), t)))
    }
}

/// Just enough of Go's `encoding/json` to decode `{"Replace": map[string]string}`
/// with its errors: the whole input is checked first (`checkValid`, the
/// scanner's words), then decoded, the first type mismatch reported.
mod json {
    use crate::load::modfile::go_quote;

    /// A parsed JSON value.
    enum Value {
        Null,
        Bool,
        Number,
        Str(String),
        Array,
        Object(Vec<(String, Value)>),
    }

    impl Value {
        /// The JSON kind as `UnmarshalTypeError` names it.
        fn kind(&self) -> &'static str {
            match self {
                Value::Null => "null",
                Value::Bool => "bool",
                Value::Number => "number",
                Value::Str(_) => "string",
                Value::Array => "array",
                Value::Object(_) => "object",
            }
        }
    }

    /// The `Replace` map, in key order (a later duplicate key wins, as a Go map).
    pub(super) fn decode(js: &[u8]) -> Result<Vec<(String, String)>, String> {
        let mut p = Parser { s: js, i: 0 };
        p.ws();
        let v = p.value("looking for beginning of value")?;
        p.ws();
        if p.i < js.len() {
            return Err(p.invalid("after top-level value"));
        }
        let mut map: Option<std::collections::BTreeMap<String, String>> = None;
        match v {
            Value::Null => {}
            Value::Object(fields) => {
                for (k, v) in fields {
                    if !k.eq_ignore_ascii_case("Replace") {
                        continue;
                    }
                    match v {
                        Value::Null => map = None,
                        Value::Object(entries) => {
                            let m = map.get_or_insert_with(Default::default);
                            for (k, v) in entries {
                                match v {
                                    Value::Str(s) => {
                                        m.insert(k, s);
                                    }
                                    // A fresh zero element, stored.
                                    Value::Null => {
                                        m.insert(k, String::new());
                                    }
                                    other => {
                                        return Err(format!(
                                            "json: cannot unmarshal {} into Go struct field overlayJSON.Replace.{k} of type string",
                                            other.kind()
                                        ))
                                    }
                                }
                            }
                        }
                        other => {
                            return Err(format!(
                                "json: cannot unmarshal {} into Go struct field overlayJSON.Replace of type map[string]string",
                                other.kind()
                            ))
                        }
                    }
                }
            }
            other => {
                return Err(format!(
                    "json: cannot unmarshal {} into Go value of type fsys.overlayJSON",
                    other.kind()
                ))
            }
        }
        Ok(map.unwrap_or_default().into_iter().collect())
    }

    struct Parser<'a> {
        s: &'a [u8],
        i: usize,
    }

    const EOF: &str = "unexpected end of JSON input";

    impl Parser<'_> {
        fn ws(&mut self) {
            while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
                self.i += 1;
            }
        }

        /// `invalid character 'c' <context>` for the byte at `i` (go's quoteChar).
        fn invalid(&self, context: &str) -> String {
            let c = self.s[self.i];
            let q = match c {
                b'\'' => r"'\''".to_string(),
                b'"' => "'\"'".to_string(),
                _ => {
                    let s = go_quote(&char::from(c).to_string());
                    format!("'{}'", &s[1..s.len() - 1])
                }
            };
            format!("invalid character {q} {context}")
        }

        fn peek(&self) -> Result<u8, String> {
            self.s.get(self.i).copied().ok_or_else(|| EOF.to_string())
        }

        fn value(&mut self, context: &str) -> Result<Value, String> {
            match self.peek()? {
                b'{' => self.object(),
                b'[' => self.array(),
                b'"' => self.string().map(Value::Str),
                b't' => self.literal("true").map(|_| Value::Bool),
                b'f' => self.literal("false").map(|_| Value::Bool),
                b'n' => self.literal("null").map(|_| Value::Null),
                b'-' | b'0'..=b'9' => self.number().map(|_| Value::Number),
                _ => Err(self.invalid(context)),
            }
        }

        fn literal(&mut self, word: &str) -> Result<(), String> {
            for &want in word.as_bytes() {
                let c = self.peek()?;
                if c != want {
                    return Err(
                        self.invalid(&format!("in literal {word} (expecting {})", go_char(want)))
                    );
                }
                self.i += 1;
            }
            Ok(())
        }

        fn digits(&mut self) -> usize {
            let start = self.i;
            while matches!(self.s.get(self.i), Some(b'0'..=b'9')) {
                self.i += 1;
            }
            self.i - start
        }

        fn number(&mut self) -> Result<(), String> {
            if self.peek()? == b'-' {
                self.i += 1;
                if !self.peek()?.is_ascii_digit() {
                    return Err(self.invalid("in numeric literal"));
                }
            }
            if self.peek()? == b'0' {
                self.i += 1;
            } else {
                self.digits();
            }
            if self.s.get(self.i) == Some(&b'.') {
                self.i += 1;
                if !self.peek()?.is_ascii_digit() {
                    return Err(self.invalid("after decimal point in numeric literal"));
                }
                self.digits();
            }
            if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
                self.i += 1;
                if matches!(self.peek()?, b'+' | b'-') {
                    self.i += 1;
                }
                if !self.peek()?.is_ascii_digit() {
                    return Err(self.invalid("in exponent of numeric literal"));
                }
                self.digits();
            }
            Ok(())
        }

        fn string(&mut self) -> Result<String, String> {
            self.i += 1;
            let mut out: Vec<u8> = Vec::new();
            loop {
                let c = self.peek()?;
                match c {
                    b'"' => {
                        self.i += 1;
                        return Ok(String::from_utf8_lossy(&out).into_owned());
                    }
                    b'\\' => {
                        self.i += 1;
                        let e = self.peek()?;
                        let simple = match e {
                            b'"' => Some(b'"'),
                            b'\\' => Some(b'\\'),
                            b'/' => Some(b'/'),
                            b'b' => Some(8),
                            b'f' => Some(12),
                            b'n' => Some(b'\n'),
                            b'r' => Some(b'\r'),
                            b't' => Some(b'\t'),
                            b'u' => None,
                            _ => return Err(self.invalid("in string escape code")),
                        };
                        self.i += 1;
                        match simple {
                            Some(b) => out.push(b),
                            None => {
                                let u = self.hex4()?;
                                let ch = if (0xD800..0xDC00).contains(&u)
                                    && self.s.get(self.i..self.i + 2) == Some(b"\\u")
                                {
                                    let save = self.i;
                                    self.i += 2;
                                    let lo = self.hex4()?;
                                    if (0xDC00..0xE000).contains(&lo) {
                                        char::from_u32(
                                            0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00),
                                        )
                                    } else {
                                        self.i = save;
                                        None
                                    }
                                } else {
                                    char::from_u32(u)
                                };
                                let ch = ch.unwrap_or('\u{FFFD}');
                                out.extend_from_slice(ch.to_string().as_bytes());
                            }
                        }
                    }
                    0..=0x1f => return Err(self.invalid("in string literal")),
                    _ => {
                        out.push(c);
                        self.i += 1;
                    }
                }
            }
        }

        fn hex4(&mut self) -> Result<u32, String> {
            let mut u = 0;
            for _ in 0..4 {
                let c = self.peek()?;
                let d = char::from(c)
                    .to_digit(16)
                    .ok_or_else(|| self.invalid("in \\u hexadecimal character escape"))?;
                u = u * 16 + d;
                self.i += 1;
            }
            Ok(u)
        }

        fn array(&mut self) -> Result<Value, String> {
            self.i += 1;
            self.ws();
            if self.peek()? == b']' {
                self.i += 1;
                return Ok(Value::Array);
            }
            loop {
                self.ws();
                self.value("looking for beginning of value")?;
                self.ws();
                match self.peek()? {
                    b',' => self.i += 1,
                    b']' => {
                        self.i += 1;
                        return Ok(Value::Array);
                    }
                    _ => return Err(self.invalid("after array element")),
                }
            }
        }

        fn object(&mut self) -> Result<Value, String> {
            self.i += 1;
            let mut fields = Vec::new();
            self.ws();
            if self.peek()? == b'}' {
                self.i += 1;
                return Ok(Value::Object(fields));
            }
            loop {
                self.ws();
                if self.peek()? != b'"' {
                    return Err(self.invalid("looking for beginning of object key string"));
                }
                let k = self.string()?;
                self.ws();
                if self.peek()? != b':' {
                    return Err(self.invalid("after object key"));
                }
                self.i += 1;
                self.ws();
                let v = self.value("looking for beginning of value")?;
                fields.push((k, v));
                self.ws();
                match self.peek()? {
                    b',' => self.i += 1,
                    b'}' => {
                        self.i += 1;
                        return Ok(Value::Object(fields));
                    }
                    _ => return Err(self.invalid("after object key:value pair")),
                }
            }
        }
    }

    /// A byte as go's quoteChar writes it.
    fn go_char(c: u8) -> String {
        let s = go_quote(&char::from(c).to_string());
        format!("'{}'", &s[1..s.len() - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ov(js: &str) -> Result<Overlay, String> {
        Overlay::from_json(js.as_bytes(), Path::new("/w"))
    }

    #[test]
    fn errors_are_gos() {
        let cases = [
            ("", "parsing overlay JSON: unexpected end of JSON input"),
            ("{", "parsing overlay JSON: unexpected end of JSON input"),
            ("[]", "parsing overlay JSON: json: cannot unmarshal array into Go value of type fsys.overlayJSON"),
            (r#"{"Replace": 3}"#, "parsing overlay JSON: json: cannot unmarshal number into Go struct field overlayJSON.Replace of type map[string]string"),
            (r#"{"Replace": {"a": 3}}"#, "parsing overlay JSON: json: cannot unmarshal number into Go struct field overlayJSON.Replace.a of type string"),
            (r#"{"Replace": {}} x"#, "parsing overlay JSON: invalid character 'x' after top-level value"),
            (r#"{"Replace": {"a" "b"}}"#, "parsing overlay JSON: invalid character '\"' after object key"),
            (r#"{'a': 1}"#, r"parsing overlay JSON: invalid character '\'' looking for beginning of object key string"),
            ("{\"a\": \"\n\"}", r"parsing overlay JSON: invalid character '\n' in string literal"),
            (r#"{"a": tru}"#, "parsing overlay JSON: invalid character '}' in literal true (expecting 'e')"),
            (r#"{"Replace": {"": "x"}}"#, "empty string key in overlay map"),
            (r#"{"Replace": {"a.go": "x", "./a.go": "y"}}"#, "duplicate paths ./a.go and a.go in overlay map"),
            (r#"{"Replace": {"d": "x", "d/e": "y"}}"#, "inconsistent files /w/d and /w/d/e in overlay map"),
        ];
        for (js, want) in cases {
            assert_eq!(ov(js).unwrap_err(), want, "{js:?}");
        }
    }

    #[test]
    fn lookups_follow_fsys() {
        let o = ov(r#"{"replace": {"a.go": "r/x.go", "/w/d/new.go": "/t/n.go", "gone.go": "", "e/f/g.go": null}, "Other": [1]}"#).unwrap();
        assert_eq!(
            o.lookup(Path::new("/w/a.go")),
            Lookup::File(Path::new("/w/r/x.go"))
        );
        assert_eq!(o.lookup(Path::new("/w/gone.go")), Lookup::Deleted);
        assert_eq!(o.lookup(Path::new("/w/e/f/g.go")), Lookup::Deleted);
        assert_eq!(o.lookup(Path::new("/w/d")), Lookup::Dir);
        assert_eq!(o.lookup(Path::new("/w/a.go/x")), Lookup::Deleted);
        assert_eq!(o.lookup(Path::new("/w/b.go")), Lookup::Disk);
        let names: Vec<_> = o
            .children(Path::new("/w"))
            .into_iter()
            .map(|(n, k)| (n.into_string().unwrap(), k))
            .collect();
        assert_eq!(
            names,
            [
                ("a.go".to_string(), Lookup::File(Path::new("/w/r/x.go"))),
                ("d".into(), Lookup::Dir),
                ("gone.go".into(), Lookup::Deleted),
            ]
        );
    }
}
