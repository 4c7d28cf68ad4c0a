//! Resolution of `//go:embed` patterns to files, following cmd/go's `resolveEmbed`.
//!
//! Rules (cmd/go/internal/load/pkg.go): a pattern (optionally `all:`-prefixed) must
//! be a valid `path.Match` pattern and an `fs.ValidPath` other than `.`; it is
//! globbed relative to the package directory; every matched path and its parent
//! directories (up to the package dir) must not contain a `go.mod`, must be real
//! directories (no symlinks) and must have names allowed in module zips;
//! matched regular files are embedded, matched directories are walked (skipping
//! `.`/`_` names unless `all:`, skipping sub-modules, symlinks and irregular files),
//! anything else is an error.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use crate::load::files::{Files, Kind};
use crate::load::modfile::check_file_path;

/// Result of resolving a package's embed patterns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EmbedResolution {
    /// All embedded files (`EmbedFiles` in `go list`): sorted, deduplicated,
    /// relative to the package dir, `/`-separated.
    pub files: Vec<String>,
    /// Files matched by each pattern (as written, with any `all:` prefix), sorted;
    /// this is the `Patterns` map of the compiler's `-embedcfg`.
    pub pattern_files: BTreeMap<String, Vec<String>>,
}

/// Knobs that change resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EmbedOptions {
    /// `GODEBUG=embedfollowsymlinks=1`: a matched leaf symlink to a regular file is embedded.
    pub follow_symlinks: bool,
}

/// Why a pattern failed.
#[derive(Debug, thiserror::Error)]
pub enum EmbedErrorKind {
    /// Bad `path.Match` syntax, or not a valid slash path (`..`, leading `/`, `.`, trailing `/`...).
    #[error("invalid pattern syntax")]
    InvalidPatternSyntax,
    /// `filepath.ErrBadPattern` surfaced while globbing.
    #[error("syntax error in pattern")]
    BadPattern,
    /// Nothing matched.
    #[error("no matching files found")]
    NoMatch,
    /// The path or one of its parent directories holds a go.mod.
    #[error("cannot embed {what} {rel}: in different module")]
    DifferentModule {
        /// `file` or `directory`.
        what: &'static str,
        /// The matched path.
        rel: String,
    },
    /// A parent of the match is not a directory (e.g. a symlink to one).
    #[error("cannot embed {what} {rel}: in non-directory {dir}")]
    InNonDirectory {
        /// `file` or `directory`.
        what: &'static str,
        /// The matched path.
        rel: String,
        /// The offending parent, relative to the package dir.
        dir: String,
    },
    /// The matched path's own name cannot be in a module (`.git`, `aux.txt`, `a:b`…).
    #[error("cannot embed {what} {rel}: invalid name {name}")]
    InvalidName {
        /// `file` or `directory`.
        what: &'static str,
        /// The matched path (or the walked file).
        rel: String,
        /// The bad name.
        name: String,
    },
    /// A parent directory's name cannot be in a module.
    #[error("cannot embed {what} {rel}: in invalid directory {name}")]
    InInvalidDirectory {
        /// `file` or `directory`.
        what: &'static str,
        /// The matched path.
        rel: String,
        /// The bad directory name.
        name: String,
    },
    /// A matched symlink, device, socket, pipe…
    #[error("cannot embed irregular file {rel}")]
    Irregular {
        /// The matched path.
        rel: String,
    },
    /// A matched directory without any embeddable file.
    #[error("cannot embed directory {rel}: contains no embeddable files")]
    EmptyDirectory {
        /// The matched directory.
        rel: String,
    },
    /// File system error.
    #[error("{op} {}: {source}", .path.display())]
    Io {
        /// `lstat`, `stat` or `readdir`.
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// An embed resolution error: `pattern <pattern>: <kind>` (go's `EmbedError`).
#[derive(Debug, thiserror::Error)]
#[error("pattern {pattern}: {kind}")]
pub struct EmbedError {
    /// The pattern as written (including `all:`).
    pub pattern: String,
    /// What went wrong.
    pub kind: EmbedErrorKind,
}

/// Resolves `patterns` (in the order given; go passes the package's sorted,
/// deduplicated `EmbedPatterns`) against `pkg_dir`. Stops at the first error, like go.
pub fn resolve_embed(
    files: &Files,
    pkg_dir: &Path,
    patterns: &[String],
) -> Result<EmbedResolution, EmbedError> {
    resolve_embed_with(files, pkg_dir, patterns, EmbedOptions::default())
}

/// [`resolve_embed`] with options.
pub fn resolve_embed_with(
    files: &Files,
    pkg_dir: &Path,
    patterns: &[String],
    opts: EmbedOptions,
) -> Result<EmbedResolution, EmbedError> {
    let mut all_files: BTreeSet<String> = BTreeSet::new();
    let mut pattern_files = BTreeMap::new();
    let mut dir_ok: HashSet<String> = HashSet::new();
    for pattern in patterns {
        let list =
            resolve_one(files, pkg_dir, pattern, opts, &mut dir_ok).map_err(|kind| EmbedError {
                pattern: pattern.clone(),
                kind,
            })?;
        all_files.extend(list.iter().cloned());
        pattern_files.insert(pattern.clone(), list);
    }
    Ok(EmbedResolution {
        files: all_files.into_iter().collect(),
        pattern_files,
    })
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> EmbedErrorKind + 'a {
    move |source| EmbedErrorKind::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

fn join_rel(base: &Path, rel: &str) -> PathBuf {
    if rel.is_empty() {
        base.to_path_buf()
    } else {
        base.join(rel)
    }
}

fn resolve_one(
    files: &Files,
    pkg_dir: &Path,
    pattern: &str,
    opts: EmbedOptions,
    dir_ok: &mut HashSet<String>,
) -> Result<Vec<String>, EmbedErrorKind> {
    let (glob, all) = match pattern.strip_prefix("all:") {
        Some(g) => (g, true),
        None => (pattern, false),
    };
    if path_match(glob, "").is_err() || !valid_embed_pattern(glob) {
        return Err(EmbedErrorKind::InvalidPatternSyntax);
    }
    let matches = glob_rel(files, pkg_dir, glob)?;
    let mut list: BTreeSet<String> = BTreeSet::new();
    for rel in matches {
        let file = join_rel(pkg_dir, &rel);
        let kind = files.lstat(&file).map_err(io("lstat", &file))?;
        let what = if kind == Kind::Dir {
            "directory"
        } else {
            "file"
        };

        // Parents (and the match itself) must not start a new module, must be
        // real directories and must have valid names.
        let mut dir = rel.clone();
        while !dir.is_empty() && !dir_ok.contains(&dir) {
            let full = join_rel(pkg_dir, &dir);
            if files.exists(&full.join("go.mod")) {
                return Err(EmbedErrorKind::DifferentModule {
                    what,
                    rel: rel.clone(),
                });
            }
            if dir != rel {
                if let Ok(k) = files.lstat(&full) {
                    if k != Kind::Dir {
                        return Err(EmbedErrorKind::InNonDirectory {
                            what,
                            rel: rel.clone(),
                            dir: dir.clone(),
                        });
                    }
                }
            }
            dir_ok.insert(dir.clone());
            let elem = dir.rsplit('/').next().unwrap_or(&dir).to_string();
            if is_bad_embed_name(&elem) {
                return Err(if dir == rel {
                    EmbedErrorKind::InvalidName {
                        what,
                        rel: rel.clone(),
                        name: elem,
                    }
                } else {
                    EmbedErrorKind::InInvalidDirectory {
                        what,
                        rel: rel.clone(),
                        name: elem,
                    }
                });
            }
            dir = match dir.rfind('/') {
                Some(i) => dir[..i].to_string(),
                None => String::new(),
            };
        }

        if kind == Kind::File {
            list.insert(rel);
        } else if opts.follow_symlinks && kind == Kind::Symlink {
            if files.stat(&file).map_err(io("stat", &file))? != Kind::File {
                return Err(EmbedErrorKind::Irregular { rel });
            }
            list.insert(rel);
        } else if kind == Kind::Dir {
            let mut count = 0usize;
            walk_dir(files, &file, &rel, all, &mut list, &mut count)?;
            if count == 0 {
                return Err(EmbedErrorKind::EmptyDirectory { rel });
            }
        } else {
            return Err(EmbedErrorKind::Irregular { rel });
        }
    }
    if list.is_empty() {
        return Err(EmbedErrorKind::NoMatch);
    }
    Ok(list.into_iter().collect())
}

/// Walks a matched directory like go's `fsys.WalkDir` callback in `resolveEmbed`.
fn walk_dir(
    files: &Files,
    dir: &Path,
    rel: &str,
    all: bool,
    list: &mut BTreeSet<String>,
    count: &mut usize,
) -> Result<(), EmbedErrorKind> {
    for (name, kind) in read_dir_sorted(files, dir)? {
        let path = dir.join(&name);
        let r = format!("{rel}/{name}");
        let hidden = name.starts_with('.') || name.starts_with('_');
        let bad = is_bad_embed_name(&name);
        if bad || (hidden && !all) {
            if kind == Kind::Dir || hidden {
                continue;
            }
            return Err(EmbedErrorKind::InvalidName {
                what: "file",
                rel: r,
                name,
            });
        }
        if kind == Kind::Dir {
            if files.exists(&path.join("go.mod")) {
                continue;
            }
            walk_dir(files, &path, &r, all, list, count)?;
            continue;
        }
        if kind != Kind::File {
            continue;
        }
        *count += 1;
        list.insert(r);
    }
    Ok(())
}

/// Directory entries sorted bytewise by name, with their (unfollowed) types.
fn read_dir_sorted(files: &Files, dir: &Path) -> Result<Vec<(String, Kind)>, EmbedErrorKind> {
    let mut v = Vec::new();
    for e in files.read_dir(dir).map_err(io("readdir", dir))? {
        let e = e.map_err(io("readdir", dir))?;
        let kind = e.kind.map_err(io("lstat", &e.path))?;
        v.push((e.name.to_string_lossy().into_owned(), kind));
    }
    v.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(v)
}

/// Globs `glob` (slash-separated, already validated) under `pkg_dir` exactly like
/// cmd/go's `fsys.Glob`: a pattern without metacharacters is an `Lstat`; otherwise
/// the leading literal elements name a base directory and each remaining element
/// is matched against sorted directory listings (I/O errors are ignored).
fn glob_rel(files: &Files, pkg_dir: &Path, glob: &str) -> Result<Vec<String>, EmbedErrorKind> {
    if !has_meta(glob) {
        return Ok(if files.lstat(&pkg_dir.join(glob)).is_ok() {
            vec![glob.to_string()]
        } else {
            Vec::new()
        });
    }
    let elems: Vec<&str> = glob.split('/').collect();
    let k = elems.iter().position(|e| has_meta(e)).unwrap_or(0);
    let mut cur = vec![elems[..k].join("/")];
    for elem in &elems[k..] {
        let mut next = Vec::new();
        for d in &cur {
            let full = join_rel(pkg_dir, d);
            if !files.is_dir(&full) {
                continue;
            }
            let Ok(rd) = files.read_dir(&full) else {
                continue;
            };
            let mut names: Vec<String> = rd.filter_map(|e| e.ok()).map(|e| e.name_str()).collect();
            names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            for n in names {
                match path_match(elem, &n) {
                    Ok(true) => next.push(if d.is_empty() { n } else { format!("{d}/{n}") }),
                    Ok(false) => {}
                    Err(BadPattern) => return Err(EmbedErrorKind::BadPattern),
                }
            }
        }
        cur = next;
    }
    Ok(cur)
}

fn has_meta(s: &str) -> bool {
    s.contains(['*', '?', '[', '\\'])
}

/// `validEmbedPattern`: `fs.ValidPath` and not `.`.
fn valid_embed_pattern(p: &str) -> bool {
    p != "." && p.split('/').all(|e| !e.is_empty() && e != "." && e != "..")
}

/// `isBadEmbedName`: names that cannot be in a module zip, plus VCS directories.
pub fn is_bad_embed_name(name: &str) -> bool {
    check_file_path(name).is_err() || matches!(name, "" | ".bzr" | ".hg" | ".git" | ".svn")
}

/// `path.ErrBadPattern`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("syntax error in pattern")]
pub struct BadPattern;

/// Go's `path.Match`.
pub fn path_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let mut pattern = pattern.as_bytes();
    let mut name = name.as_bytes();
    'outer: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            return Ok(!name.contains(&b'/'));
        }
        let (t, ok, err) = match_chunk(chunk, name);
        if ok && (t.is_empty() || !pattern.is_empty()) {
            name = t;
            continue;
        }
        if err {
            return Err(BadPattern);
        }
        if star {
            let mut i = 0;
            while i < name.len() && name[i] != b'/' {
                let (t, ok, err) = match_chunk(chunk, &name[i + 1..]);
                if ok {
                    if pattern.is_empty() && !t.is_empty() {
                        i += 1;
                        continue;
                    }
                    name = t;
                    continue 'outer;
                }
                if err {
                    return Err(BadPattern);
                }
                i += 1;
            }
        }
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            if match_chunk(chunk, b"").2 {
                return Err(BadPattern);
            }
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

fn scan_chunk(mut pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut star = false;
    while pattern.first() == Some(&b'*') {
        pattern = &pattern[1..];
        star = true;
    }
    let mut inrange = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'\\' if i + 1 < pattern.len() => i += 1,
            b'[' => inrange = true,
            b']' => inrange = false,
            b'*' if !inrange => return (star, &pattern[..i], &pattern[i..]),
            _ => {}
        }
        i += 1;
    }
    (star, pattern, &[])
}

fn decode(s: &[u8]) -> (u32, usize) {
    if s.is_empty() {
        return (0xFFFD, 0);
    }
    let n = match s[0] {
        0x00..=0x7F => return (s[0] as u32, 1),
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return (0xFFFD, 1),
    };
    if s.len() >= n {
        if let Ok(t) = std::str::from_utf8(&s[..n]) {
            if let Some(c) = t.chars().next() {
                return (c as u32, n);
            }
        }
    }
    (0xFFFD, 1)
}

/// Returns (rest, ok, bad_pattern).
fn match_chunk<'a>(mut chunk: &[u8], mut s: &'a [u8]) -> (&'a [u8], bool, bool) {
    let mut failed = false;
    while !chunk.is_empty() {
        failed = failed || s.is_empty();
        match chunk[0] {
            b'[' => {
                let mut r = 0u32;
                if !failed {
                    let (c, n) = decode(s);
                    r = c;
                    s = &s[n..];
                }
                chunk = &chunk[1..];
                let mut negated = false;
                if chunk.first() == Some(&b'^') {
                    negated = true;
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut nrange = 0;
                loop {
                    if chunk.first() == Some(&b']') && nrange > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let Some((lo, rest)) = get_esc(chunk) else {
                        return (&[], false, true);
                    };
                    chunk = rest;
                    let mut hi = lo;
                    if chunk[0] == b'-' {
                        let Some((h, rest)) = get_esc(&chunk[1..]) else {
                            return (&[], false, true);
                        };
                        hi = h;
                        chunk = rest;
                    }
                    matched = matched || (lo <= r && r <= hi);
                    nrange += 1;
                }
                failed = failed || matched == negated;
            }
            b'?' => {
                if !failed {
                    failed = s[0] == b'/';
                    let (_, n) = decode(s);
                    s = &s[n..];
                }
                chunk = &chunk[1..];
            }
            c => {
                let c = if c == b'\\' {
                    chunk = &chunk[1..];
                    match chunk.first() {
                        Some(&c) => c,
                        None => return (&[], false, true),
                    }
                } else {
                    c
                };
                if !failed {
                    failed = c != s[0];
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    if failed {
        (&[], false, false)
    } else {
        (s, true, false)
    }
}

/// Returns (rune, rest) or None on ErrBadPattern; `rest` is never empty.
fn get_esc(mut chunk: &[u8]) -> Option<(u32, &[u8])> {
    if chunk.is_empty() || chunk[0] == b'-' || chunk[0] == b']' {
        return None;
    }
    if chunk[0] == b'\\' {
        chunk = &chunk[1..];
        if chunk.is_empty() {
            return None;
        }
    }
    let (r, n) = decode(chunk);
    if r == 0xFFFD && n == 1 && chunk[0] >= 0x80 {
        return None;
    }
    let rest = &chunk[n..];
    if rest.is_empty() {
        return None;
    }
    Some((r, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::process::Command;
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub(crate) fn temp_dir(tag: &str) -> PathBuf {
        static N: AtomicUsize = AtomicUsize::new(0);
        let d = std::env::temp_dir().join(format!(
            "gob-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn match_matches_go() {
        let ok = |p: &str, n: &str| path_match(p, n).unwrap();
        assert!(ok("*", "abc"));
        assert!(ok("*", ".hidden"));
        assert!(!ok("*", "a/b"));
        assert!(ok("a*/b", "abc/b"));
        assert!(ok("[a-c]?", "bz"));
        assert!(!ok("[^a-c]?", "bz"));
        assert!(ok("\\*", "*"));
        assert!(ok("*.txt", "x.txt"));
        assert!(!ok("*.txt", "x.txt.gz"));
        assert!(ok("a*b*c", "axxbyyc"));
        assert!(path_match("[", "").is_err());
        assert!(path_match("a\\", "").is_err());
        assert!(path_match("[]a]", "a").is_err());
        assert!(path_match("*[", "x").is_err());
        assert!(path_match("[a-", "a").is_err());
        assert!(valid_embed_pattern("a/b"));
        for bad in [".", "..", "../x", "/x", "x/", "a//b", "./a", "a/./b", ""] {
            assert!(!valid_embed_pattern(bad), "{bad}");
        }
        assert!(is_bad_embed_name(".git"));
        assert!(is_bad_embed_name("aux.txt"));
        assert!(is_bad_embed_name("a:b"));
        assert!(is_bad_embed_name("x."));
        assert!(!is_bad_embed_name(".hidden"));
        assert!(!is_bad_embed_name("a b"));
    }

    #[test]
    fn resolve_basic() {
        let d = temp_dir("embed-basic");
        fs::write(d.join("a.txt"), "a").unwrap();
        fs::create_dir_all(d.join("s/.h")).unwrap();
        fs::write(d.join("s/x"), "x").unwrap();
        fs::write(d.join("s/.h/y"), "y").unwrap();
        fs::write(d.join("s/_z"), "z").unwrap();
        let r = resolve_embed(&Files::new(), &d, &["a.txt".into(), "s".into()]).unwrap();
        assert_eq!(r.files, ["a.txt", "s/x"]);
        let r = resolve_embed(&Files::new(), &d, &["all:s".into()]).unwrap();
        assert_eq!(r.files, ["s/.h/y", "s/_z", "s/x"]);
        assert_eq!(r.pattern_files["all:s"], r.files);
        let e = resolve_embed(&Files::new(), &d, &["nope".into()]).unwrap_err();
        assert_eq!(e.to_string(), "pattern nope: no matching files found");
        let e = resolve_embed(&Files::new(), &d, &["../x".into()]).unwrap_err();
        assert_eq!(e.to_string(), "pattern ../x: invalid pattern syntax");
        fs::remove_dir_all(&d).unwrap();
    }

    /// One package of the oracle module: files to create and patterns to embed.
    struct Case {
        name: &'static str,
        files: &'static [&'static str],
        dirs: &'static [&'static str],
        links: &'static [(&'static str, &'static str)],
        patterns: &'static [&'static str],
    }

    const CASES: &[Case] = &[
        Case {
            name: "star",
            files: &[
                "a.txt",
                ".hidden",
                "_u.txt",
                "sub/x.txt",
                "sub/.h",
                "sub/_u",
                "sub/d/.q/w",
                "sub/d/e",
            ],
            dirs: &[],
            links: &[],
            patterns: &["*"],
        },
        Case {
            name: "alldir",
            files: &["sub/x.txt", "sub/.h", "sub/_u", "sub/.d/f", "sub/_d/g"],
            dirs: &[],
            links: &[],
            patterns: &["all:sub"],
        },
        Case {
            name: "dir",
            files: &["sub/x.txt", "sub/.h", "sub/_u", "sub/.d/f"],
            dirs: &[],
            links: &[],
            patterns: &["sub"],
        },
        Case {
            name: "both",
            files: &["sub/x.txt", "sub/.h"],
            dirs: &[],
            links: &[],
            patterns: &["sub", "all:sub", "sub/x.txt"],
        },
        Case {
            name: "emptydir",
            files: &[],
            dirs: &["empty"],
            links: &[],
            patterns: &["empty"],
        },
        Case {
            name: "hiddenonly",
            files: &["h/.x", "h/_y"],
            dirs: &[],
            links: &[],
            patterns: &["h"],
        },
        Case {
            name: "hiddenall",
            files: &["h/.x", "h/_y"],
            dirs: &[],
            links: &[],
            patterns: &["all:h"],
        },
        Case {
            name: "nested",
            files: &["sub/f.txt", "sub/mod/go.mod", "sub/mod/f.txt"],
            dirs: &[],
            links: &[],
            patterns: &["sub"],
        },
        Case {
            name: "nestedfile",
            files: &["sub/f.txt", "sub/mod/go.mod", "sub/mod/f.txt"],
            dirs: &[],
            links: &[],
            patterns: &["sub/mod/f.txt"],
        },
        Case {
            name: "nesteddir",
            files: &["sub/mod/go.mod", "sub/mod/f.txt"],
            dirs: &[],
            links: &[],
            patterns: &["sub/mod"],
        },
        Case {
            name: "nestedglob",
            files: &["m1/go.mod", "m1/f.txt", "m2/f.txt"],
            dirs: &[],
            links: &[],
            patterns: &["m*/f.txt"],
        },
        Case {
            name: "symfile",
            files: &["a.txt"],
            dirs: &[],
            links: &[("link", "a.txt")],
            patterns: &["link"],
        },
        Case {
            name: "symdir",
            files: &["d/f"],
            dirs: &[],
            links: &[("dl", "d")],
            patterns: &["dl/f"],
        },
        Case {
            name: "symdir2",
            files: &["d/f"],
            dirs: &[],
            links: &[("dl", "d")],
            patterns: &["dl"],
        },
        Case {
            name: "syminside",
            files: &["d/f"],
            dirs: &[],
            links: &[("d/l", "f"), ("d/ld", "../d")],
            patterns: &["d"],
        },
        Case {
            name: "symonly",
            files: &["x"],
            dirs: &[],
            links: &[("d/l", "../x")],
            patterns: &["d"],
        },
        Case {
            name: "dangling",
            files: &[],
            dirs: &[],
            links: &[("dang", "nowhere")],
            patterns: &["dang"],
        },
        Case {
            name: "badpat1",
            files: &[],
            dirs: &[],
            links: &[],
            patterns: &["../x"],
        },
        Case {
            name: "badpat2",
            files: &[],
            dirs: &[],
            links: &[],
            patterns: &["/abs"],
        },
        Case {
            name: "badpat3",
            files: &[],
            dirs: &[],
            links: &[],
            patterns: &["."],
        },
        Case {
            name: "badpat4",
            files: &["x/y"],
            dirs: &[],
            links: &[],
            patterns: &["x/"],
        },
        Case {
            name: "badpat5",
            files: &[],
            dirs: &[],
            links: &[],
            patterns: &["a//b"],
        },
        Case {
            name: "badpat6",
            files: &[],
            dirs: &[],
            links: &[],
            patterns: &["["],
        },
        Case {
            name: "badpat7",
            files: &[],
            dirs: &[],
            links: &[],
            patterns: &["./a"],
        },
        Case {
            name: "badpat8",
            files: &[],
            dirs: &[],
            links: &[],
            patterns: &["all:."],
        },
        Case {
            name: "badpat9",
            files: &["a"],
            dirs: &[],
            links: &[],
            patterns: &["a\\"],
        },
        Case {
            name: "badpat10",
            files: &[],
            dirs: &[],
            links: &[],
            patterns: &["x/.."],
        },
        Case {
            name: "nomatch",
            files: &["a.txt"],
            dirs: &[],
            links: &[],
            patterns: &["*.nomatch"],
        },
        Case {
            name: "missing",
            files: &[],
            dirs: &[],
            links: &[],
            patterns: &["missing.txt"],
        },
        Case {
            name: "gitdir",
            files: &[".git/config", "ok.txt"],
            dirs: &[],
            links: &[],
            patterns: &["*"],
        },
        Case {
            name: "gitexplicit",
            files: &[".git/config"],
            dirs: &[],
            links: &[],
            patterns: &[".git"],
        },
        Case {
            name: "gitinside",
            files: &["d/.git/config", "d/f"],
            dirs: &[],
            links: &[],
            patterns: &["all:d"],
        },
        Case {
            name: "badinside",
            files: &["d/aux.txt", "d/f"],
            dirs: &[],
            links: &[],
            patterns: &["d"],
        },
        Case {
            name: "badinside2",
            files: &["d/a:b", "d/f"],
            dirs: &[],
            links: &[],
            patterns: &["d"],
        },
        Case {
            name: "badhidden",
            files: &["d/.a:b", "d/f"],
            dirs: &[],
            links: &[],
            patterns: &["d"],
        },
        Case {
            name: "baddirinside",
            files: &["d/x./f", "d/f"],
            dirs: &[],
            links: &[],
            patterns: &["d"],
        },
        Case {
            name: "badtop",
            files: &["aux.txt"],
            dirs: &[],
            links: &[],
            patterns: &["aux.txt"],
        },
        Case {
            name: "badparent",
            files: &["a:b/f.txt"],
            dirs: &[],
            links: &[],
            patterns: &["a:b/f.txt"],
        },
        Case {
            name: "badparentglob",
            files: &["com1/f.txt"],
            dirs: &[],
            links: &[],
            patterns: &["*/f.txt"],
        },
        Case {
            name: "metamid",
            files: &["s1/x.txt", "s2/x.txt", "s2/y.txt", "t/x.txt"],
            dirs: &[],
            links: &[],
            patterns: &["s*/x.txt"],
        },
        Case {
            name: "classes",
            files: &["a1", "b2", "c3", "d4"],
            dirs: &[],
            links: &[],
            patterns: &["[a-c][0-9]", "?4"],
        },
        Case {
            name: "space",
            files: &["a b.txt", "c.txt"],
            dirs: &[],
            links: &[],
            patterns: &["a b.txt", "c.*"],
        },
        Case {
            name: "underexplicit",
            files: &["_x/f", ".y"],
            dirs: &[],
            links: &[],
            patterns: &["_x", ".y"],
        },
        Case {
            name: "escape",
            files: &["a*b", "axb"],
            dirs: &[],
            links: &[],
            patterns: &["a\\*b"],
        },
        Case {
            name: "modfileself",
            files: &["sub/go.mod"],
            dirs: &[],
            links: &[],
            patterns: &["sub/go.mod"],
        },
        Case {
            name: "emptyfile",
            files: &["e"],
            dirs: &["d/e"],
            links: &[],
            patterns: &["d", "e"],
        },
        Case {
            name: "deep",
            files: &["a/b/c/d.txt", "a/b/.e/f", "a/_g/h"],
            dirs: &[],
            links: &[],
            patterns: &["a/b", "a/b/c/*.txt"],
        },
        Case {
            name: "unicode",
            files: &["héllo.txt", "日本.txt"],
            dirs: &[],
            links: &[],
            patterns: &["*.txt"],
        },
        Case {
            name: "tildes",
            files: &["d/a~1", "d/-x", "d/#y"],
            dirs: &[],
            links: &[],
            patterns: &["d"],
        },
    ];

    #[test]
    fn oracle_embed_matches_go_list() {
        let go = crate::testutil::go_binary();
        let root = temp_dir("embed-oracle");
        fs::write(root.join("go.mod"), "module example.com/m\n\ngo 1.22\n").unwrap();
        for c in CASES {
            let pd = root.join(c.name);
            fs::create_dir_all(&pd).unwrap();
            for f in c.files {
                let p = pd.join(f);
                fs::create_dir_all(p.parent().unwrap()).unwrap();
                fs::write(&p, format!("content of {f}\n")).unwrap();
            }
            for d in c.dirs {
                fs::create_dir_all(pd.join(d)).unwrap();
            }
            for (l, t) in c.links {
                let p = pd.join(l);
                fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::os::unix::fs::symlink(t, &p).unwrap();
            }
            let pats: Vec<String> = c
                .patterns
                .iter()
                .map(|p| format!("\"{}\"", p.replace('\\', "\\\\")))
                .collect();
            fs::write(
                pd.join("p.go"),
                format!(
                    "package p\n\nimport \"embed\"\n\n//go:embed {}\nvar f embed.FS\n",
                    pats.join(" ")
                ),
            )
            .unwrap();
        }
        let out = Command::new(&go)
            .current_dir(&root)
            .args([
                "list",
                "-e",
                "-f",
                "{{.Dir}}{{\"\\x1f\"}}{{join .EmbedPatterns \"\\x1d\"}}{{\"\\x1f\"}}{{join .EmbedFiles \"\\x1d\"}}{{\"\\x1f\"}}{{if .Error}}{{.Error.Err}}{{end}}{{\"\\x1e\"}}",
                "./...",
            ])
            .env("GOFLAGS", "-mod=mod")
            .env("GOPROXY", "off")
            .env("GOSUMDB", "off")
            .env("GOTOOLCHAIN", "local")
            .env("GOWORK", "off")
            .env("GOENV", "off")
            .env("GOCACHE", root.join(".cache"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let mut n = 0;
        let mut failures = Vec::new();
        for rec in text.split('\x1e').map(str::trim).filter(|r| !r.is_empty()) {
            let f: Vec<&str> = rec.split('\x1f').collect();
            assert_eq!(f.len(), 4, "{rec:?}");
            let split = |s: &str| -> Vec<String> {
                s.split('\x1d')
                    .filter(|x| !x.is_empty())
                    .map(String::from)
                    .collect()
            };
            let pats = split(f[1]);
            let want_files = split(f[2]);
            let want_err = f[3].to_string();
            let got = resolve_embed(&Files::new(), Path::new(f[0]), &pats);
            let (got_files, got_err) = match got {
                Ok(r) => (r.files, String::new()),
                Err(e) => (Vec::new(), e.to_string()),
            };
            if got_files != want_files || got_err != want_err {
                failures.push(format!(
                    "{}: patterns {pats:?}\n  go:  {want_files:?} {want_err:?}\n  gob: {got_files:?} {got_err:?}",
                    f[0]
                ));
            }
            n += 1;
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert_eq!(n, CASES.len());
        fs::remove_dir_all(&root).unwrap();
    }
}
