//! go.mod directives (rule.go): the `ModFile` model, parse modes, and the argument parsing go.work shares.

use std::path::Path;

use super::modpath::{check_path_major, split_path_version};
use super::quote::{go_quote, unquote};
use super::semver::canonical_version;
use super::syntax::{parse_syntax, Stmt, SynLine};
use super::{ModFileDiag, ModFileError, ModFileErrorKind, Pos};

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

pub(super) struct Ctx<'a> {
    pub(super) file: &'a Path,
    pub(super) diags: Vec<ModFileDiag>,
}

impl Ctx<'_> {
    pub(super) fn push(&mut self, pos: Pos, kind: ModFileErrorKind) {
        self.diags.push(ModFileDiag {
            file: self.file.to_path_buf(),
            pos: Some(pos),
            verb: None,
            mod_path: None,
            kind,
        });
    }
    pub(super) fn push_d(&mut self, pos: Pos, e: VErr) {
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
pub(super) struct VErr {
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

pub(super) fn lex_err(file: &Path, (pos, kind): (Pos, ModFileErrorKind)) -> ModFileError {
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
pub(super) enum Fixer {
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

pub(super) fn go_version_ok(v: &str) -> bool {
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

pub(super) fn toolchain_ok(v: &str) -> bool {
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

pub(super) fn parse_godebug(args: &[String]) -> Option<(String, String)> {
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

pub(super) fn parse_string(t: &str) -> Result<String, String> {
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

pub(super) fn parse_replace(verb: &str, args: &[String], fix: Fixer) -> Result<Replace, VErr> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::modfile::oracle::{fs_remove, go_cmd, mod_json};
    use crate::load::modfile::tests::p;

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
}
