//! Declared inputs checked: the one place that decides whether a host file may be read by an action.
//!
//! Every [`InputSource::Host`] input of every planned action (Go and
//! assembly sources, the headers an `#include` reaches, `.syso` files,
//! embedded files, `pkg/include` headers, a PGO profile) must be, once its
//! symlinks are resolved, a regular file inside its root: the module (or
//! vendor directory, or module-cache directory) or GOROOT its location is
//! under. A link out of the module (`x.h -> ../../../../etc/shadow`), to a
//! device (`/dev/zero`), a FIFO, a directory, a dangling link or a loop is an
//! error naming the file and the package, before any action runs, so nothing
//! of it is hashed, bound or written to a trace. The input is then declared
//! by its resolved path: what is hashed, bound and embedded is the file that
//! was checked, and the runner re-checks it when staging (no link may
//! appear on that path, and it must still be a regular file).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::cmdline::package_root;
use super::{Action, ActionKind, InputSource, Loc, PlanError, SrcRoot};
use crate::load::PackageGraph;

/// Checks every host input of `actions` and rewrites it to its resolved path.
pub(super) fn check_declared_inputs(
    actions: &mut [Action],
    roots: &[(SrcRoot, PathBuf)],
    g: &PackageGraph,
    goroot: &Path,
) -> Result<(), PlanError> {
    let mut real_roots: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    let mut resolver = Resolver::default();
    for a in actions.iter_mut() {
        for i in a.inputs.iter_mut() {
            let InputSource::Host(host) = &i.source else {
                continue;
            };
            // The root the location is under; a file copied into the
            // objdir (a header named for the target) is its package's.
            let root = match &i.at {
                // GOROOT is a root even when no package of it is built (an
                // assembly-only package reaches `pkg/include` alone).
                Loc::Src { root, .. } => roots
                    .iter()
                    .find(|(r, _)| r == root)
                    .map(|(_, d)| d.clone())
                    .or_else(|| (*root == SrcRoot::Goroot).then(|| goroot.to_path_buf())),
                Loc::Work { .. } => Some(package_root(g.pkg(a.package), goroot).1),
            };
            let root = match root {
                // A profile named by -pgo outside every root is the
                // user's own choice: only it, not a link elsewhere.
                Some(r) if a.kind == ActionKind::Preprofile && !host.starts_with(&r) => {
                    host.parent().map(Path::to_path_buf)
                }
                r => r,
            };
            let real_root = root.and_then(|r| {
                real_roots
                    .entry(r.clone())
                    .or_insert_with(|| std::fs::canonicalize(&r).ok())
                    .clone()
                    .map(|rr| (r, rr))
            });
            // A profile that cannot be opened fails as go's preprofile
            // action does, in its words (it cannot be staged to run it).
            if a.kind == ActionKind::Preprofile {
                if let Err(e) = std::fs::File::open(host) {
                    return Err(PlanError::Profile {
                        path: host.clone(),
                        why: crate::load::gobuild::scan::go_io_error(&e),
                    });
                }
            }
            let real = check_one(host, real_root.as_ref(), &mut resolver).map_err(|why| {
                PlanError::Input {
                    import_path: a.import_path.clone(),
                    file: host.clone(),
                    why,
                }
            })?;
            i.source = InputSource::Host(real);
        }
    }
    Ok(())
}

/// `host` resolved, if it is a regular file inside `root` (as written,
/// resolved); else why not.
fn check_one(
    host: &Path,
    root: Option<&(PathBuf, PathBuf)>,
    resolver: &mut Resolver,
) -> Result<PathBuf, String> {
    let real = resolver.resolve(host).map_err(|e| match e.raw_os_error() {
        Some(libc::ELOOP) => "a symlink loop".to_string(),
        Some(libc::ENOENT) => "a dangling symlink or a missing file".to_string(),
        _ => format!("cannot be resolved: {e}"),
    })?;
    let Some((root, real_root)) = root else {
        return Err("not under any source root".into());
    };
    if !real.starts_with(real_root) {
        return Err(format!(
            "resolves to {}, outside its root {} (gob reads only files inside a module, vendor directory, module cache or GOROOT)",
            real.display(),
            root.display()
        ));
    }
    let md = std::fs::metadata(&real).map_err(|e| format!("{}: {e}", real.display()))?;
    if !md.is_file() {
        let what = if md.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        };
        return Err(if real.as_path() == host {
            what.to_string()
        } else {
            format!("resolves to {}, {what}", real.display())
        });
    }
    Ok(real)
}

/// `canonicalize`, with each directory resolved once: a build declares
/// thousands of files in a few hundred directories.
#[derive(Default)]
struct Resolver {
    dirs: HashMap<PathBuf, Result<PathBuf, i32>>,
}

impl Resolver {
    fn resolve(&mut self, host: &Path) -> std::io::Result<PathBuf> {
        let is_link = std::fs::symlink_metadata(host)?.file_type().is_symlink();
        let (Some(parent), Some(name), false) = (host.parent(), host.file_name(), is_link) else {
            return std::fs::canonicalize(host);
        };
        let dir = self.dirs.entry(parent.to_path_buf()).or_insert_with(|| {
            std::fs::canonicalize(parent).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))
        });
        match dir {
            Ok(d) => Ok(d.join(name)),
            Err(errno) => Err(std::io::Error::from_raw_os_error(*errno)),
        }
    }
}
