//! Package patterns: `std`, `cmd`, `all`, `./...`, `.`, directories, import paths, `x/...`.
//!
//! `std` and `cmd` are matched with the target's build context (a directory whose
//! files are all excluded is not a package); module trees are matched as cmd/go's
//! modload does, with *any* tags, so a directory excluded on this platform is still
//! listed and then reported as "build constraints exclude all Go files".

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::files::{Files, Kind};
use super::gobuild::{self, BuildContext};
use super::modules::ModuleContext;
use super::{LoadConfig, LoadError};

/// The packages one command-line pattern matched.
#[derive(Clone, Debug)]
pub struct Match {
    /// The pattern as written.
    pub pattern: String,
    /// Matched import paths, in cmd/go's order.
    pub pkgs: Vec<String>,
    /// An error matching the pattern itself (reported as a synthetic package).
    pub error: Option<String>,
    /// The directory of a "no Go files" error, which go reports as the synthetic
    /// package's Dir (load.setLoadPackageDataError).
    pub error_dir: Option<PathBuf>,
}

fn is_local(p: &str) -> bool {
    p == "." || p == ".." || p.starts_with("./") || p.starts_with("../") || p.starts_with('/')
}

/// Whether a command-line pattern names one package (cmd/go's `IsLiteral`):
/// no `...` wildcard, and not `all`, `std`, `cmd`, `tool` or `work`.
pub fn is_literal(pattern: &str) -> bool {
    !pattern.contains("...") && !matches!(pattern, "all" | "std" | "cmd" | "tool" | "work")
}

/// pkgpattern.MatchPattern: `...` matches any string; `x/...` also matches `x`.
pub fn match_pattern(pattern: &str, name: &str) -> bool {
    fn rec(p: &[u8], n: &[u8]) -> bool {
        if p.is_empty() {
            return n.is_empty();
        }
        if p.starts_with(b"/...") && p.len() == 4 && n.is_empty() {
            return true;
        }
        if p.starts_with(b"...") {
            let rest = &p[3..];
            return (0..=n.len()).any(|i| rec(rest, &n[i..]));
        }
        !n.is_empty() && p[0] == n[0] && rec(&p[1..], &n[1..])
    }
    // A vendor element is only matched when the pattern names one.
    if !pattern.contains("vendor") && (name.contains("/vendor/") || name.starts_with("vendor/")) {
        return false;
    }
    rec(pattern.as_bytes(), name.as_bytes())
}

/// Whether the subtree `name` could hold a match (pkgpattern.TreeCanMatchPattern).
fn tree_can_match(pattern: &str, name: &str) -> bool {
    // pkgpattern.TreeCanMatchPattern: `name` is an ancestor of the pattern's
    // literal prefix, or (with a wildcard) lies below it.
    let (prefix, wildcard) = match pattern.find("...") {
        Some(i) => (&pattern[..i], true),
        None => (pattern, false),
    };
    (name.len() <= prefix.len() && go_has_path_prefix(prefix, name))
        || (wildcard && name.starts_with(prefix))
}

/// cmd/go's hasPathPrefix: `s` is `prefix` or lies below it (a prefix ending in `/` is a plain prefix).
fn go_has_path_prefix(s: &str, prefix: &str) -> bool {
    match s.len().cmp(&prefix.len()) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => s == prefix,
        std::cmp::Ordering::Greater if prefix.ends_with('/') => s.starts_with(prefix),
        std::cmp::Ordering::Greater => s.as_bytes()[prefix.len()] == b'/' && s.starts_with(prefix),
    }
}

/// Directories below `root` (excluding root itself when `skip_root`), pruned like cmd/go:
/// names starting with `.` or `_`, `testdata`, and (when asked) nested modules and vendor.
/// Symlinks are never followed (fsys.WalkDir); with `warn_symlinks` (modload's
/// matchPackages for a `...` pattern) one to a directory is reported, as go does.
fn walk_dirs(
    files: &Files,
    root: &Path,
    prune_gomod: bool,
    prune_vendor: bool,
    include_root: bool,
    warn_symlinks: bool,
) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if dir != root || include_root {
            out.push(dir.clone());
        }
        let Ok(rd) = files.read_dir(&dir) else {
            continue;
        };
        let mut subs: Vec<PathBuf> = Vec::new();
        for e in rd.flatten() {
            let Ok(kind) = e.kind else { continue };
            let name = e.name_str();
            if name.starts_with('.') || name.starts_with('_') || name == "testdata" {
                continue;
            }
            let path = e.path;
            if kind != Kind::Dir {
                if warn_symlinks && kind == Kind::Symlink && files.is_dir(&path) {
                    eprintln!("warning: ignoring symlink {}", path.display());
                }
                continue;
            }
            if prune_gomod && files.is_file(&path.join("go.mod")) {
                continue;
            }
            if prune_vendor && name == "vendor" {
                continue;
            }
            subs.push(path);
        }
        subs.sort();
        stack.extend(subs.into_iter().rev());
    }
    out
}

fn rel_slash(root: &Path, dir: &Path) -> String {
    dir.strip_prefix(root)
        .map(|r| r.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default()
}

/// search.MatchPackages for `std`, `cmd` and std-rooted wildcards.
fn match_goroot(ctx: &BuildContext, goroot_src: &Path, pattern: &str) -> Vec<String> {
    let root = if pattern == "cmd" {
        goroot_src.join("cmd")
    } else {
        goroot_src.to_path_buf()
    };
    let dirs: Vec<PathBuf> = {
        let mut out = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            let name = rel_slash(goroot_src, &dir);
            if dir != *goroot_src {
                let elem = dir
                    .file_name()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if elem.starts_with('.') || elem.starts_with('_') || elem == "testdata" {
                    continue;
                }
                if pattern == "std"
                    && (name == "cmd" || name.split('/').next().is_some_and(|f| f.contains('.')))
                {
                    continue;
                }
                let treeok = match pattern {
                    "std" | "cmd" => true,
                    p => tree_can_match(p, &name),
                };
                if !treeok {
                    continue;
                }
                out.push(dir.clone());
            }
            let Ok(rd) = ctx.files.read_dir(&dir) else {
                continue;
            };
            let mut subs: Vec<PathBuf> = rd
                .flatten()
                .filter(|e| matches!(e.kind, Ok(Kind::Dir)))
                .map(|e| e.path)
                .collect();
            subs.sort();
            stack.extend(subs.into_iter().rev());
        }
        out
    };
    let mut pkgs: Vec<String> = dirs
        .par_iter()
        .filter_map(|dir| {
            let name = rel_slash(goroot_src, dir);
            if name == "builtin" || (name == "runtime/cgo" && !ctx.cgo_enabled) {
                return None;
            }
            if !matches!(pattern, "std" | "cmd") && !match_pattern(pattern, &name) {
                return None;
            }
            let (pkg, err) = gobuild::import_dir(ctx, dir);
            if matches!(
                err,
                Some(
                    gobuild::DirError::NoGoFiles { .. }
                        | gobuild::DirError::ConstraintsExcludeAll { .. }
                )
            ) {
                return None;
            }
            if pattern == "cmd" && name.starts_with("cmd/vendor") && pkg.name == "main" {
                return None;
            }
            Some(name)
        })
        .collect();
    pkgs.sort();
    pkgs
}

/// modload's matchPackages over a module tree: any-tags scan, vendor and nested modules pruned.
fn match_module_tree(
    files: &Files,
    root: &Path,
    prefix: &str,
    dir: &Path,
    pattern: Option<&str>,
) -> Vec<String> {
    let dirs = walk_dirs(files, dir, true, true, true, pattern.is_some());
    let mut pkgs: Vec<String> = dirs
        .par_iter()
        .filter_map(|d| {
            let rel = rel_slash(root, d);
            let name = if rel.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix}/{rel}")
            };
            if let Some(p) = pattern {
                if !match_pattern(p, &name) {
                    return None;
                }
            }
            gobuild::dir_has_go_any_tags(files, d).then_some(name)
        })
        .collect();
    pkgs.sort();
    pkgs
}

/// search.MatchDirs for `./...`: the target's build context decides, and a
/// directory with no buildable files is skipped unless it has invalid files
/// (so that parse errors are reported rather than silently skipped).
fn match_local_dirs(ctx: &BuildContext, root: &Path, prefix: &str, dir: &Path) -> Vec<String> {
    let dirs = walk_dirs(&ctx.files, dir, true, true, true, false);
    let mut pkgs: Vec<String> = dirs
        .par_iter()
        .filter_map(|d| {
            let (pkg, err) = gobuild::import_dir(ctx, d);
            let nogo = matches!(
                err,
                Some(
                    gobuild::DirError::NoGoFiles { .. }
                        | gobuild::DirError::ConstraintsExcludeAll { .. }
                )
            );
            if nogo && pkg.invalid_go_files.is_empty() {
                return None;
            }
            let rel = rel_slash(root, d);
            Some(if rel.is_empty() {
                prefix.to_string()
            } else if prefix.is_empty() {
                rel
            } else {
                format!("{prefix}/{rel}")
            })
        })
        .collect();
    pkgs.sort();
    pkgs
}

/// Expands command-line patterns (an empty list means `.`).
pub(super) fn expand(
    cfg: &LoadConfig,
    ctx: &BuildContext,
    mods: &ModuleContext,
    args: &[String],
) -> Result<Vec<Match>, LoadError> {
    let goroot_src = cfg.toolchain.src_dir();
    let default = [".".to_string()];
    let args = if args.is_empty() { &default[..] } else { args };
    let mut out = Vec::new();
    for a in args {
        let mut m = Match {
            pattern: a.clone(),
            pkgs: Vec::new(),
            error: None,
            error_dir: None,
        };
        if a == "std" || a == "cmd" {
            m.pkgs = match_goroot(ctx, &goroot_src, a);
        } else if a == "all" {
            if !mods.has_main() {
                return Err(LoadError::Pattern {
                    pattern: a.clone(),
                    msg: "go.mod file not found in current directory or any parent directory; 'all' needs a main module".into(),
                });
            }
            for mm in &mods.mains {
                m.pkgs.extend(match_module_tree(
                    &ctx.files, &mm.dir, &mm.path, &mm.dir, None,
                ));
            }
        } else if is_local(a) {
            let clean = a.trim_end_matches("/...");
            let wildcard = a.ends_with("...") && a.contains("...");
            let dir = normalize(&cfg.modules.cwd.join(clean));
            if !wildcard {
                // cmd/go's resolveLocalPackage: a directory must exist and hold Go
                // files (ignored ones count) before it is mapped to an import path.
                // A symlink loop is not "not found": Go reports the stat error.
                match ctx.files.stat(&dir) {
                    Ok(Kind::Dir) => {}
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        let msg = gobuild::scan::go_io_error(&e);
                        m.error = Some(format!("stat {}: {msg}", dir.display()));
                        out.push(m);
                        continue;
                    }
                    _ => {
                        m.error = Some(format!("stat {}: directory not found", dir.display()));
                        out.push(m);
                        continue;
                    }
                }
                let (pkg, err) = gobuild::import_dir(ctx, &dir);
                if let Some(gobuild::DirError::NoGoFiles { .. }) = err {
                    if pkg.ignored_go_files.is_empty() {
                        m.error = Some(format!("no Go files in {}", dir.display()));
                        m.error_dir = Some(dir.clone());
                        out.push(m);
                        continue;
                    }
                }
            }
            let (root, prefix) = match dir_import_root(cfg, mods, &dir) {
                Some(x) => x,
                None => {
                    let shown = display_rel(&cfg.modules.cwd, &dir);
                    let workspace = mods.work_file.is_some();
                    m.error = Some(if wildcard {
                        let scope = if workspace {
                            "modules listed in go.work or their selected dependencies"
                        } else {
                            "main module or its selected dependencies"
                        };
                        format!("pattern {a}: directory prefix {shown} does not contain {scope}")
                    } else {
                        let d = if shown == "." {
                            "current directory".to_string()
                        } else {
                            format!("directory {shown}")
                        };
                        if workspace {
                            format!("{d} outside modules listed in go.work or their selected dependencies")
                        } else {
                            format!("{d} outside main module or its selected dependencies")
                        }
                    });
                    out.push(m);
                    continue;
                }
            };
            if wildcard {
                if root == goroot_src {
                    let rel = rel_slash(&goroot_src, &dir);
                    let pat = if rel.is_empty() {
                        "...".to_string()
                    } else {
                        format!("{rel}/...")
                    };
                    m.pkgs = match_goroot(ctx, &goroot_src, &pat);
                } else {
                    m.pkgs = match_local_dirs(ctx, &root, &prefix, &dir);
                }
                if m.pkgs.is_empty() {
                    eprintln!("gob: warning: {a:?} matched no packages");
                }
            } else {
                if !ctx.files.is_dir(&dir) {
                    m.error = Some(format!(
                        "directory {} does not exist",
                        display_rel(&cfg.modules.cwd, &dir)
                    ));
                    out.push(m);
                    continue;
                }
                let rel = rel_slash(&root, &dir);
                m.pkgs.push(if rel.is_empty() {
                    prefix
                } else if prefix.is_empty() {
                    rel
                } else {
                    format!("{prefix}/{rel}")
                });
            }
        } else if a.contains("...") {
            let first = a.split('/').next().unwrap_or("");
            if !first.contains('.') && !first.contains("...") {
                m.pkgs = match_goroot(ctx, &goroot_src, a);
            }
            for mm in &mods.mains {
                if tree_can_match(a, &mm.path) || match_pattern(a, &mm.path) {
                    m.pkgs.extend(match_module_tree(
                        &ctx.files,
                        &mm.dir,
                        &mm.path,
                        &mm.dir,
                        Some(a),
                    ));
                }
            }
            m.pkgs.sort();
            m.pkgs.dedup();
            if m.pkgs.is_empty() {
                eprintln!("gob: warning: {a:?} matched no packages");
            }
        } else {
            m.pkgs.push(a.clone());
        }
        out.push(m);
    }
    Ok(out)
}

fn display_rel(cwd: &Path, dir: &Path) -> String {
    match dir.strip_prefix(cwd) {
        Ok(r) if r.as_os_str().is_empty() => ".".into(),
        Ok(r) => r.display().to_string(),
        Err(_) => dir.display().to_string(),
    }
}

/// Lexically cleans `a/./b/../c` without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The (root directory, import path prefix) a directory's packages are named under.
fn dir_import_root(
    cfg: &LoadConfig,
    mods: &ModuleContext,
    dir: &Path,
) -> Option<(PathBuf, String)> {
    let goroot_src = cfg.toolchain.src_dir();
    if let Some(i) = mods.main_for_dir(dir) {
        let m = &mods.mains[i];
        return Some((m.dir.clone(), m.path.clone()));
    }
    if dir.starts_with(&goroot_src) {
        return Some((goroot_src, String::new()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_can_match_like_cmd_go() {
        assert!(tree_can_match("net/...", "net"));
        assert!(tree_can_match("net/...", "net/http/internal"));
        assert!(!tree_can_match("net/...", "ne"));
        assert!(!tree_can_match("net/...", "os"));
        assert!(tree_can_match(
            "example.com/m/sub...",
            "example.com/m/subpkg"
        ));
        assert!(tree_can_match("a/b/c", "a/b"));
        assert!(
            !tree_can_match("a/b/c", "a/b/c/d"),
            "no wildcard: nothing below the literal"
        );
    }

    #[test]
    fn patterns_match_like_cmd_go() {
        assert!(match_pattern("net/...", "net"));
        assert!(match_pattern("net/...", "net/http"));
        assert!(!match_pattern("net/...", "netx"));
        assert!(match_pattern("...", "a/b"));
        assert!(match_pattern("a/.../c", "a/b/c"));
        assert!(!match_pattern("a/...", "a/vendor/x"));
    }
}
