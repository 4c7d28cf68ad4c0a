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
//!
//! With `-overlay`, [`apply_overlay`] first gives each replaced source file
//! its replacement: the action reads a copy of the replacement in its own
//! directory (`overlay/N/<name>`), as cmd/go hands tools `fsys.Actual`'s
//! path, so the bytes are the same whatever the sandbox mode, hashed into the
//! key and embedded in a trace like any input. A replacement belongs to the
//! directory the overlay names it in: it must be a regular file there once
//! links are resolved (a link out of that directory, a device, a FIFO, a
//! directory or a missing file is refused, naming the replacement).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::cmdline::package_root;
use super::{Action, ActionKind, Arg, InputSource, Loc, Part, PlanError, SrcRoot};
use crate::load::overlay::Overlay;
use crate::load::PackageGraph;

/// Points every source input that `overlay` replaces at its replacement,
/// read from a copy at a location of the action's own: the location is
/// renamed in the argv and in generated files (embedcfg), and the compiler's
/// and assembler's `-trimpath` gets cmd/go's rule for it (the position name
/// go's binaries record: the package's rewrite plus the replaced file's
/// name, wherever the replacement is).
pub(super) fn apply_overlay(actions: &mut [Action], overlay: &Overlay) {
    for a in actions.iter_mut() {
        let mut renamed: Vec<(Loc, Loc, Option<String>)> = Vec::new();
        for i in a.inputs.iter_mut() {
            let (InputSource::Host(host), Loc::Src { .. }) = (&i.source, &i.at) else {
                continue;
            };
            let Some(to) = overlay.replacement(host) else {
                continue;
            };
            let name = host
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let at = Loc::Work {
                action: a.id,
                rel: format!("overlay/{}/{name}", renamed.len()),
            };
            // cmd/go's rewrite for a replaced .go or .s file.
            let is_source = name.ends_with(".go") || name.ends_with(".s");
            let position = is_source.then(|| name.clone());
            renamed.push((i.at.clone(), at.clone(), position));
            i.source = InputSource::Host(to.to_path_buf());
            i.at = at;
        }
        if renamed.is_empty() {
            continue;
        }
        let rename = |parts: &mut Vec<Part>| {
            for p in parts.iter_mut() {
                if let Part::Loc(l) = p {
                    if let Some((_, to, _)) = renamed.iter().find(|(from, _, _)| from == l) {
                        *l = to.clone();
                    }
                }
            }
        };
        for arg in a.args.iter_mut() {
            rename(&mut arg.0);
        }
        for i in a.inputs.iter_mut() {
            if let InputSource::Generated(parts) = &mut i.source {
                rename(parts);
            }
        }
        if let Some(k) = a.args.iter().position(|x| *x == Arg::lit("-trimpath")) {
            if let Some(t) = a.args.get_mut(k + 1) {
                add_trimpath_rules(t, &renamed);
            }
        }
    }
}

/// Inserts `<copy>=><rewrite>/<position>;` rules before the objdir's rule
/// of a `-trimpath` argument (`<dir>=><rewrite>;<objdir>=>`), as cmd/go
/// adds one per replaced file.
fn add_trimpath_rules(t: &mut Arg, renamed: &[(Loc, Loc, Option<String>)]) {
    let rewrite = match t.0.get(1) {
        Some(Part::Lit(s)) => s
            .strip_prefix("=>")
            .and_then(|s| s.strip_suffix(';'))
            .unwrap_or("")
            .to_string(),
        _ => return,
    };
    let mut rules = Vec::new();
    for (_, at, position) in renamed {
        if let Some(pos) = position {
            rules.push(Part::Loc(at.clone()));
            rules.push(Part::Lit(format!("=>{rewrite}/{pos};")));
        }
    }
    let at = t.0.len().saturating_sub(2);
    t.0.splice(at..at, rules);
}

/// Checks every host input of `actions` and rewrites it to its resolved path.
pub(super) fn check_declared_inputs(
    actions: &mut [Action],
    roots: &[(SrcRoot, PathBuf)],
    g: &PackageGraph,
    goroot: &Path,
) -> Result<(), PlanError> {
    let mut real_roots: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    let mut resolver = Resolver::default();
    let replacements: std::collections::HashSet<&Path> = g
        .overlay
        .iter()
        .flat_map(|o| o.replaced_files().map(|(_, to)| to))
        .collect();
    for a in actions.iter_mut() {
        for i in a.inputs.iter_mut() {
            let InputSource::Host(host) = &i.source else {
                continue;
            };
            // An overlay's replacement is the user's choice of file, in the
            // directory the overlay names: only it, not a link elsewhere.
            let replacement =
                matches!(i.at, Loc::Work { .. }) && replacements.contains(host.as_path());
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
                _ if replacement => host.parent().map(Path::to_path_buf),
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
            let allowed = if replacement {
                "an overlay's replacement must be a regular file in the directory the overlay names"
            } else {
                "gob reads only files inside a module, vendor directory, module cache or GOROOT"
            };
            let real =
                check_one(host, real_root.as_ref(), allowed, &mut resolver).map_err(|why| {
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
    allowed: &str,
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
            "resolves to {}, outside its root {} ({allowed})",
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
