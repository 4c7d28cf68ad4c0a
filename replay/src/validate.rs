//! Stream invariants: what the writer refuses to write and the reader refuses
//! to accept, checked by the same code on both sides.

use std::collections::HashSet;

use crate::error::{Loc, PathProblem, TraceError};
use crate::schema::{ActionRecord, Digest, End, Header};

/// The longest inside path accepted, in bytes (Linux's `PATH_MAX`).
pub const MAX_PATH: usize = 4096;

/// Checks that `path` is an absolute, normalized inside path: it starts with
/// `/`, has no empty, `.` or `..` component, no NUL, no trailing `/` (except
/// `/` itself) and is at most [`MAX_PATH`] bytes. UTF-8 is the `&str`'s.
///
/// This is syntax only: the caller confines it to a directory (with cap-std)
/// before touching the file system.
pub fn check_inside_path(path: &str) -> Result<(), TraceError> {
    path_problem(path).map_or(Ok(()), |problem| {
        Err(TraceError::BadPath {
            at: None,
            path: path.to_owned(),
            problem,
        })
    })
}

fn path_problem(path: &str) -> Option<PathProblem> {
    if path.is_empty() {
        return Some(PathProblem::Empty);
    }
    if path.len() > MAX_PATH {
        return Some(PathProblem::TooLong);
    }
    if path.as_bytes().contains(&0) {
        return Some(PathProblem::Nul);
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Some(PathProblem::Relative);
    };
    if rest.is_empty() {
        return None; // "/" itself
    }
    for component in rest.split('/') {
        match component {
            "" => return Some(PathProblem::EmptyComponent),
            "." => return Some(PathProblem::DotComponent),
            ".." => return Some(PathProblem::DotDotComponent),
            _ => {}
        }
    }
    None
}

fn check_path_at(path: &str, at: Loc) -> Result<(), TraceError> {
    path_problem(path).map_or(Ok(()), |problem| {
        Err(TraceError::BadPath {
            at: Some(at),
            path: path.to_owned(),
            problem,
        })
    })
}

/// An output name is one plain file name: `_pkg_.a`, `a.out`.
fn check_output_name(name: &str, at: Loc) -> Result<(), TraceError> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.len() > 255
        || name.bytes().any(|b| b == b'/' || b == 0);
    if bad {
        return Err(TraceError::Invalid {
            at,
            reason: format!("output name {name:?} is not a plain file name"),
        });
    }
    Ok(())
}

/// Checks a header's own fields (format and version are checked before the
/// rest is even decoded).
pub(crate) fn check_header(h: &Header, at: Loc) -> Result<(), TraceError> {
    if h.format != crate::schema::FORMAT {
        return Err(TraceError::WrongFormat {
            found: h.format.clone(),
        });
    }
    if h.version != crate::schema::VERSION {
        return Err(TraceError::WrongVersion {
            found: u64::from(h.version),
        });
    }
    for root in &h.roots {
        check_path_at(&root.inside, at)?;
    }
    Ok(())
}

/// The state of a stream being written or read: what has been seen so far.
#[derive(Default)]
pub(crate) struct StreamState {
    /// Digests of the blobs written, for dedup.
    pub blobs: HashSet<Digest>,
    /// Indexes of the actions written. Actions are written as they finish: a
    /// dependency order, not necessarily increasing indexes.
    pub indexes: HashSet<u32>,
}

impl StreamState {
    pub fn has_blob(&self, d: &Digest) -> bool {
        self.blobs.contains(d)
    }

    /// A blob: at most one per digest. (The content check is the caller's:
    /// the writer hashes before encoding, the reader after decoding.)
    pub fn blob(&mut self, digest: &Digest, at: Loc) -> Result<(), TraceError> {
        if !self.blobs.insert(*digest) {
            return Err(TraceError::Invalid {
                at,
                reason: format!("blob {digest} appears twice"),
            });
        }
        Ok(())
    }

    /// An action: a new index, dependencies already recorded, inside paths.
    pub fn action(&mut self, a: &ActionRecord, at: Loc) -> Result<(), TraceError> {
        if self.indexes.contains(&a.index) {
            return Err(TraceError::Invalid {
                at,
                reason: format!("action index {} appears twice", a.index),
            });
        }
        for &dep in &a.deps {
            if dep >= a.index {
                return Err(TraceError::Invalid {
                    at,
                    reason: format!(
                        "action {} depends on action {}, which is not earlier",
                        a.index, dep
                    ),
                });
            }
            if !self.indexes.contains(&dep) {
                return Err(TraceError::Invalid {
                    at,
                    reason: format!(
                        "action {} depends on action {}, which was not recorded before it",
                        a.index, dep
                    ),
                });
            }
        }
        check_path_at(&a.cwd, at)?;
        for input in &a.inputs {
            check_path_at(&input.path, at)?;
        }
        for output in &a.outputs {
            check_output_name(&output.name, at)?;
            check_path_at(&output.file.path, at)?;
        }
        self.indexes.insert(a.index);
        Ok(())
    }

    /// The End record: it counts the actions.
    pub fn end(&self, e: &End, at: Loc) -> Result<(), TraceError> {
        if e.actions as usize != self.indexes.len() {
            return Err(TraceError::Invalid {
                at,
                reason: format!(
                    "End counts {} actions, the trace has {}",
                    e.actions,
                    self.indexes.len()
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(p: &str) -> Option<PathProblem> {
        match check_inside_path(p) {
            Ok(()) => None,
            Err(TraceError::BadPath {
                at: None,
                problem,
                path,
            }) => {
                assert_eq!(path, p);
                Some(problem)
            }
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn inside_paths() {
        for ok in [
            "/",
            "/goroot",
            "/goroot/src/fmt/print.go",
            "/a/.b/c..d/...",
            "/mod/example.com/x@v1.2.3/ü",
        ] {
            assert_eq!(problem(ok), None, "{ok}");
        }
        assert_eq!(problem(""), Some(PathProblem::Empty));
        assert_eq!(problem("goroot"), Some(PathProblem::Relative));
        assert_eq!(problem("./x"), Some(PathProblem::Relative));
        assert_eq!(problem("/a/../b"), Some(PathProblem::DotDotComponent));
        assert_eq!(problem("/.."), Some(PathProblem::DotDotComponent));
        assert_eq!(problem("/a/.."), Some(PathProblem::DotDotComponent));
        assert_eq!(problem("/a/./b"), Some(PathProblem::DotComponent));
        assert_eq!(problem("//a"), Some(PathProblem::EmptyComponent));
        assert_eq!(problem("/a//b"), Some(PathProblem::EmptyComponent));
        assert_eq!(problem("/a/"), Some(PathProblem::EmptyComponent));
        assert_eq!(problem("/a\0b"), Some(PathProblem::Nul));
        assert_eq!(
            problem(&format!("/{}", "a".repeat(MAX_PATH))),
            Some(PathProblem::TooLong)
        );
    }

    #[test]
    fn bad_path_message_escapes() {
        let e = check_inside_path("/a\n\x1b/../b").unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"path "/a\n\u{1b}/../b" has a `..` component"#
        );
    }
}
