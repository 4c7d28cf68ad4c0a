//! Module-tree pattern matching with *any* tags (cmd/go's `imports.ScanDir` with `AnyTags`).
//!
//! `./...` in module mode lists a directory when some non-hidden `.go` file in it
//! could be built under *some* tag set: every tag except `ignore` counts as both
//! present and absent. Which files the target actually builds is decided later.

use std::path::Path;

use super::constraint::{self, find_constraints, Expr};
use crate::load::files::Files;

fn tag_chars_ok(name: &str) -> bool {
    name.chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
}

/// imports.eval with `tags = {"*"}`: any tag but `ignore` takes whichever value helps.
fn eval_any(x: &Expr, prefer: bool) -> bool {
    match x {
        Expr::Tag(t) => {
            if !tag_chars_ok(t) {
                return false;
            }
            !t.is_empty() && t != "ignore" && prefer
        }
        Expr::Not(x) => !eval_any(x, !prefer),
        Expr::And(a, b) => eval_any(a, prefer) && eval_any(b, prefer),
        Expr::Or(a, b) => eval_any(a, prefer) || eval_any(b, prefer),
    }
}

/// Whether `content` could be built under some tag set (imports.ShouldBuild with AnyTags).
pub fn should_build_any_tags(content: &[u8]) -> bool {
    let Ok(c) = find_constraints(content) else {
        return false;
    };
    if let Some(line) = &c.go_build {
        return match constraint::parse(line) {
            Ok(x) => eval_any(&x, true),
            Err(_) => false,
        };
    }
    c.plus_build
        .iter()
        .all(|line| match constraint::parse(line) {
            Ok(x) => eval_any(&x, true),
            Err(_) => true,
        })
}

/// Whether `dir` holds a Go file that some tag set would build (tests included).
pub fn dir_has_go_any_tags(files: &Files, dir: &Path) -> bool {
    let Ok(rd) = files.read_dir(dir) else {
        return false;
    };
    for e in rd.flatten() {
        let name = e.name_str();
        if name.starts_with('_') || name.starts_with('.') || !name.ends_with(".go") {
            continue;
        }
        // Follow symlinks; broken ones are ignored.
        if !files.is_file(&e.path) {
            continue;
        }
        let Ok(data) = files.read(&e.path) else {
            continue;
        };
        if should_build_any_tags(&data) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_tags_semantics() {
        assert!(should_build_any_tags(
            b"//go:build linux && !linux\n\npackage p\n"
        ));
        assert!(!should_build_any_tags(b"//go:build ignore\n\npackage p\n"));
        assert!(should_build_any_tags(b"//go:build !ignore\n\npackage p\n"));
        assert!(should_build_any_tags(b"package p\n"));
        assert!(!should_build_any_tags(b"// +build ignore\n\npackage p\n"));
    }
}
