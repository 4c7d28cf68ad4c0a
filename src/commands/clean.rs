//! `gob clean`: go clean's flags (cmd/go/internal/clean): the files a go
//! build or go test leaves in a package's directory (`rm -f` each, `-n`
//! prints, `-x` prints and runs), `-i` the installed executable, `-r` the
//! dependencies too; `-cache` gob's build cache, `-modcache` the module cache
//! (removed as go removes it), `-testcache` and `-fuzzcache` (gob keeps
//! neither: nothing to do).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cache::{Cache, CacheError};
use crate::config::{self, Env};
use crate::load::{LoadConfig, PackageGraph, PkgId};

/// What `gob clean` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct CleanOptions {
    /// `-cache`.
    pub cache: bool,
    /// `-testcache`.
    pub testcache: bool,
    /// `-modcache`.
    pub modcache: bool,
    /// `-fuzzcache`.
    pub fuzzcache: bool,
    /// `-i`: remove the installed executable (from `install_dir`).
    pub i: bool,
    /// `-r`: the dependencies too.
    pub r: bool,
    /// `-n`: print the removals, do none.
    pub n: bool,
    /// `-x`: print the removals as they are done.
    pub x: bool,
    /// Where `gob install` puts this target's executables (for `-i`).
    pub install_dir: Option<PathBuf>,
}

/// Errors of `gob clean`, with go's words where go has them.
#[derive(Debug, thiserror::Error)]
pub enum CleanError {
    /// A cache flag with package arguments.
    #[error("gob: clean {0} cannot be used with package arguments")]
    CacheWithPackages(&'static str),
    /// `-modcache` and no module cache configured.
    #[error("gob: cannot clean -modcache without a module cache")]
    NoModcache,
    /// Loading the packages failed.
    #[error(transparent)]
    Load(#[from] crate::load::LoadError),
    /// A file or directory could not be removed (go's `unlinkat` words).
    #[error("{action} {}: {source}", path.display())]
    Remove {
        /// `unlinkat`, `open`.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The cache could not be found, opened or emptied.
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// The cache flag that packages may not accompany (go checks them in this order).
pub fn cache_flag(o: &CleanOptions) -> Option<&'static str> {
    [
        (o.cache, "-cache"),
        (o.testcache, "-testcache"),
        (o.fuzzcache, "-fuzzcache"),
        (o.modcache, "-modcache"),
    ]
    .into_iter()
    .find(|(on, _)| *on)
    .map(|(_, f)| f)
}

/// Whether go clean cleans packages: named ones, `-i`/`-r`, or inside a
/// module when no cache flag is given.
pub fn cleans_packages(o: &CleanOptions, patterns: &[String], in_module: bool) -> bool {
    !patterns.is_empty() || o.i || o.r || (in_module && cache_flag(o).is_none())
}

/// Runs `gob clean`. `cfg` is needed to clean packages; printed commands go
/// to `out`. Returns the errors go would report and continue after.
pub fn clean(
    env: &Env,
    cfg: Option<&LoadConfig>,
    patterns: &[String],
    o: &CleanOptions,
    out: &mut dyn Write,
) -> Result<Vec<CleanError>, CleanError> {
    if !patterns.is_empty() {
        if let Some(f) = cache_flag(o) {
            return Err(CleanError::CacheWithPackages(f));
        }
    }
    let mut errors = Vec::new();
    if let Some(cfg) = cfg {
        let graph = crate::load::load(cfg, patterns)?;
        let mut done = BTreeSet::new();
        for &id in &graph.roots {
            clean_package(&graph, id, o, &mut done, out, &mut errors);
        }
    }
    if o.cache {
        let dir = config::cache_dir(env)?;
        if o.n || o.x {
            let _ = writeln!(
                out,
                "rm -rf {} {}",
                dir.join("actions").display(),
                dir.join("blobs").display()
            );
        }
        if !o.n {
            Cache::open(&dir)?.clean()?;
        }
    }
    if o.modcache {
        let dir = match (env.get("GOMODCACHE"), cfg) {
            (Some(d), _) if !d.is_empty() => PathBuf::from(d),
            (_, Some(c)) => c.modules.gomodcache.clone(),
            _ => modcache_default(env).ok_or(CleanError::NoModcache)?,
        };
        if o.n || o.x {
            let _ = writeln!(out, "rm -rf {}", dir.display());
        }
        if !o.n {
            if let Err(e) = remove_modcache(&dir) {
                errors.push(e);
            }
        }
    }
    Ok(errors)
}

/// `$GOPATH[0]/pkg/mod` (GOPATH defaulting to `$HOME/go`), as go's GOMODCACHE.
fn modcache_default(env: &Env) -> Option<PathBuf> {
    let gopath = match env.get("GOPATH").filter(|g| !g.is_empty()) {
        Some(g) => PathBuf::from(g.split(':').next()?),
        None => Path::new(env.get("HOME").filter(|h| !h.is_empty())?).join("go"),
    };
    Some(gopath.join("pkg").join("mod"))
}

/// go's `modfetch.RemoveAll`: the module cache's directories are read-only,
/// so each is made writable (never following a symlink) before removal.
fn remove_modcache(dir: &Path) -> Result<(), CleanError> {
    use std::os::unix::fs::PermissionsExt;
    fn writable(d: &Path) {
        let Ok(md) = std::fs::symlink_metadata(d) else {
            return;
        };
        if !md.is_dir() {
            return;
        }
        let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777));
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                writable(&e.path());
            }
        }
    }
    writable(dir);
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(CleanError::Remove {
            action: "unlinkat",
            path: dir.to_path_buf(),
            source,
        }),
    }
}

/// Names go clean removes whatever the package.
const CLEAN_FILES: &[&str] = &["_testmain.go", "test.out", "build.out", "a.out"];
/// Extensions go clean removes.
const CLEAN_EXTS: &[&str] = &["5", "6", "8", "a", "o", "so"];

/// go's `clean(p)`: the package directory's build leftovers, then with -i
/// its installed executable and with -r its imports.
fn clean_package(
    g: &PackageGraph,
    id: PkgId,
    o: &CleanOptions,
    done: &mut BTreeSet<PkgId>,
    out: &mut dyn Write,
    errors: &mut Vec<CleanError>,
) {
    if !done.insert(id) {
        return;
    }
    let p = g.pkg(id);
    if p.dir.as_os_str().is_empty() {
        return;
    }
    let Ok(rd) = std::fs::read_dir(&p.dir) else {
        return;
    };
    let mut files: Vec<String> = rd
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let main = p.name == "main";
    let f = &p.files;
    let package_file: BTreeSet<&String> = if main {
        BTreeSet::new()
    } else {
        f.go_files
            .iter()
            .chain(&f.cgo_files)
            .chain(&f.test_go_files)
            .chain(&f.xtest_go_files)
            .collect()
    };
    let elem = p
        .dir
        .file_name()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    let exe = super::build::exec_name(p, "linux");
    let mut remove: BTreeSet<String> = BTreeSet::new();
    let mut add = |base: &str, test: bool| {
        let b = if test {
            format!("{base}.test")
        } else {
            base.to_string()
        };
        remove.insert(format!("{b}.exe"));
        remove.insert(b);
    };
    if main {
        add(&elem, false);
        add(&exe, false);
    }
    add(&elem, true);
    add(&exe, true);
    for name in files.iter().filter(|n| !package_file.contains(n)) {
        if let Some(b) = name.strip_suffix("_test.go") {
            add(b, true);
        }
        if let Some(b) = name.strip_suffix(".go") {
            add(b, false);
        }
    }
    for name in &files {
        let ext = Path::new(name).extension().and_then(|e| e.to_str());
        if CLEAN_FILES.contains(&name.as_str())
            || ext.is_some_and(|e| CLEAN_EXTS.contains(&e))
            || remove.contains(name)
        {
            remove_file(&p.dir.join(name), o, out, errors);
        }
    }
    if o.i && main {
        if let Some(dir) = &o.install_dir {
            remove_file(&dir.join(&exe), o, out, errors);
        }
    }
    if o.r {
        for &dep in &p.internal_imports {
            clean_package(g, dep, o, done, out, errors);
        }
    }
}

fn remove_file(f: &Path, o: &CleanOptions, out: &mut dyn Write, errors: &mut Vec<CleanError>) {
    if o.n || o.x {
        let _ = writeln!(out, "rm -f {}", f.display());
    }
    if o.n {
        return;
    }
    match std::fs::remove_file(f) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => errors.push(CleanError::Remove {
            action: "unlinkat",
            path: f.to_path_buf(),
            source,
        }),
    }
}
