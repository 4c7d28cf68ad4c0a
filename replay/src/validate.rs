//! Stream invariants: what the writer refuses to write and the reader refuses
//! to accept, checked by the same code on both sides.

use std::collections::{HashMap, HashSet};

use crate::error::{Loc, PathProblem, TraceError};
use crate::reader::Limits;
use crate::schema::{action_id, ActionRecord, Digest, End, FileRef, Header, OutputRef, Status};
use crate::text::Esc;

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

/// The state of a stream being written or read: what has been seen so far,
/// and what holding it costs.
pub(crate) struct StreamState {
    /// The limits in force.
    limits: Limits,
    /// Digests of the blobs written, for dedup.
    pub blobs: HashSet<Digest>,
    /// Indexes of the actions written. Actions are written as they finish: a
    /// dependency order, not necessarily increasing indexes.
    pub indexes: HashSet<u32>,
    /// The size every digest named so far stands for (from a blob's length
    /// or a file record): one digest is one content, so one size.
    sizes: HashMap<Digest, u64>,
    /// Estimated memory a reader holding every action needs so far.
    held: u64,
}

impl Default for StreamState {
    fn default() -> Self {
        StreamState::new(Limits::default())
    }
}

/// Bytes an owned string costs in memory beyond its length (allocation,
/// rounding), for [`held_bytes`].
const ALLOC: u64 = 32;

/// What holding `a` in memory costs, estimated from below: its fields, each
/// string's bytes plus an allocation's overhead, each list's items.
pub(crate) fn held_bytes(a: &ActionRecord) -> u64 {
    use std::mem::size_of;
    let s = |x: &String| x.len() as u64 + ALLOC;
    let file = |f: &FileRef| size_of::<FileRef>() as u64 + s(&f.path);
    let status = match &a.status {
        Status::Error(m) => s(m),
        _ => 0,
    };
    size_of::<ActionRecord>() as u64
        + s(&a.kind)
        + s(&a.package)
        + s(&a.tool)
        + s(&a.cwd)
        + 4 * a.deps.len() as u64
        + a.argv.iter().map(|x| 24 + s(x)).sum::<u64>()
        + a.env.iter().map(|(k, v)| 48 + s(k) + s(v)).sum::<u64>()
        + a.inputs.iter().map(file).sum::<u64>()
        + a.outputs
            .iter()
            .map(|o| {
                (size_of::<OutputRef>() - size_of::<FileRef>()) as u64 + file(&o.file) + s(&o.name)
            })
            .sum::<u64>()
        + a.stdout.len() as u64
        + a.stderr.len() as u64
        + status
}

impl StreamState {
    pub fn new(limits: Limits) -> StreamState {
        StreamState {
            limits,
            blobs: HashSet::new(),
            indexes: HashSet::new(),
            sizes: HashMap::new(),
            held: 0,
        }
    }

    pub fn has_blob(&self, d: &Digest) -> bool {
        self.blobs.contains(d)
    }

    /// A blob of `len` bytes: at most one per digest, and the size every
    /// record naming the digest gives. (The content check is the caller's:
    /// the writer hashes before encoding, the reader after decoding.)
    pub fn blob(&mut self, digest: &Digest, len: u64, at: Loc) -> Result<(), TraceError> {
        if self.blobs.contains(digest) {
            return Err(TraceError::Invalid {
                at,
                reason: format!("blob {digest} appears twice"),
            });
        }
        self.size(digest, len, at, || format!("blob {digest}"))?;
        // A reader may keep one digest per blob (replay's store does).
        self.held += 64;
        if self.held > self.limits.max_held {
            return Err(TraceError::OverLimit {
                at,
                what: "memory to hold the actions and blob digests".into(),
                count: self.held,
                max: self.limits.max_held,
            });
        }
        self.blobs.insert(*digest);
        Ok(())
    }

    /// Records that `digest` stands for `size` bytes; refuses a size that
    /// contradicts the digest (another size for it elsewhere in the trace,
    /// or the digest of no bytes with a size, or the reverse). `what` names
    /// the record for the error.
    fn size(
        &mut self,
        digest: &Digest,
        size: u64,
        at: Loc,
        what: impl Fn() -> String,
    ) -> Result<(), TraceError> {
        let empty = *digest == Digest::of(b"");
        if empty != (size == 0) {
            return Err(TraceError::Invalid {
                at,
                reason: format!(
                    "{} says {size} bytes, but its digest {} is {}the digest of no bytes",
                    what(),
                    digest.short(),
                    if empty { "" } else { "not " }
                ),
            });
        }
        match self.sizes.get(digest) {
            Some(&known) if known != size => Err(TraceError::Invalid {
                at,
                reason: format!(
                    "{} says {size} bytes for content {}, which another record of the trace gives as {known} bytes",
                    what(),
                    digest.short()
                ),
            }),
            Some(_) => Ok(()),
            None => {
                self.held += 64;
                self.sizes.insert(*digest, size);
                Ok(())
            }
        }
    }

    /// An action: a new index, dependencies already recorded, inside paths,
    /// within the per-action limits; each input path once (or twice with
    /// the same content), each output name and path once, sizes that agree
    /// with digests; and the memory all actions take within the limit.
    pub fn action(&mut self, a: &ActionRecord, at: Loc) -> Result<(), TraceError> {
        let id = action_id(a.index);
        if self.indexes.contains(&a.index) {
            return Err(TraceError::Invalid {
                at,
                reason: format!("action index {} appears twice", a.index),
            });
        }
        let over = |what: &str, count: u64, max: u64| {
            (count > max).then(|| TraceError::OverLimit {
                at,
                what: format!("action {id}: {what}"),
                count,
                max,
            })
        };
        let l = &self.limits;
        let argv_bytes = a.argv.iter().map(|x| x.len() as u64 + 1).sum::<u64>()
            + a.env
                .iter()
                .map(|(k, v)| (k.len() + v.len() + 2) as u64)
                .sum::<u64>();
        let too_much = over("inputs", a.inputs.len() as u64, l.max_inputs)
            .or_else(|| over("outputs", a.outputs.len() as u64, l.max_outputs))
            .or_else(|| over("argv and env bytes", argv_bytes, l.max_argv_bytes))
            .or_else(|| over("actions", self.indexes.len() as u64 + 1, l.max_actions));
        if let Some(e) = too_much {
            return Err(e);
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
        let mut inputs: HashMap<&str, &FileRef> = HashMap::with_capacity(a.inputs.len());
        for input in &a.inputs {
            check_path_at(&input.path, at)?;
            if let Some(first) = inputs.insert(&input.path, input) {
                if (first.digest, first.size) != (input.digest, input.size) {
                    return Err(TraceError::Invalid {
                        at,
                        reason: format!(
                            "action {id}: input {} is listed twice with different contents ({} bytes {}, {} bytes {})",
                            Esc(&input.path),
                            first.size,
                            first.digest.short(),
                            input.size,
                            input.digest.short()
                        ),
                    });
                }
            }
        }
        let mut names: HashSet<&str> = HashSet::with_capacity(a.outputs.len());
        let mut paths: HashSet<&str> = HashSet::with_capacity(a.outputs.len());
        for output in &a.outputs {
            check_output_name(&output.name, at)?;
            check_path_at(&output.file.path, at)?;
            if !names.insert(&output.name) || !paths.insert(&output.file.path) {
                return Err(TraceError::Invalid {
                    at,
                    reason: format!(
                        "action {id}: output {} ({}) is declared twice",
                        Esc(&output.name),
                        Esc(&output.file.path)
                    ),
                });
            }
        }
        for f in a.inputs.iter().chain(a.outputs.iter().map(|o| &o.file)) {
            self.size(&f.digest, f.size, at, || {
                format!("action {id}: the record of {}", Esc(&f.path))
            })?;
        }
        let held = self.held.saturating_add(held_bytes(a));
        if held > self.limits.max_held {
            return Err(TraceError::OverLimit {
                at,
                what: format!("memory to hold the actions up to {id}"),
                count: held,
                max: self.limits.max_held,
            });
        }
        self.held = held;
        self.indexes.insert(a.index);
        Ok(())
    }

    /// Undoes [`StreamState::action`] for an action not written after all
    /// (the sizes it taught stay: they were consistent).
    pub fn forget_action(&mut self, a: &ActionRecord) {
        if self.indexes.remove(&a.index) {
            self.held = self.held.saturating_sub(held_bytes(a));
        }
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
