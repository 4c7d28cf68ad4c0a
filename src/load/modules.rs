//! The module context of a load: main modules, workspace, vendor mode, build list, lookups.
//!
//! This is the reading half of cmd/go's modload: gob never downloads or edits
//! go.mod. A module that is not in the module cache is an error telling the user
//! to run `go mod download`; every module taken from the cache is checked against
//! go.sum's `h1:` hash first.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::files::{Files, Kind};
use super::modfile::{self, ModFile, ReplaceTarget};
use super::modhash;

/// `-mod=` as given or as defaulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModMode {
    /// Use the module cache, never change go.mod (the default without vendor/).
    Readonly,
    /// Everything comes from the main module's vendor directory.
    Vendor,
    /// Like readonly for gob: gob never edits go.mod; missing modules are still errors.
    Mod,
}

impl ModMode {
    /// Parses the value of `-mod=`.
    pub fn parse(s: &str) -> Option<ModMode> {
        match s {
            "readonly" => Some(ModMode::Readonly),
            "vendor" => Some(ModMode::Vendor),
            "mod" => Some(ModMode::Mod),
            _ => None,
        }
    }
}

/// Errors setting up the module context (bad go.mod, go.work, modules.txt).
#[derive(Debug, thiserror::Error)]
pub enum ModContextError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A go.mod, go.work, modules.txt or go.sum did not parse.
    #[error(transparent)]
    Parse(#[from] modfile::ModFileError),
    /// go.mod without a module line.
    #[error("{path}: no module declaration in go.mod. To specify the module path:\n\tgo mod edit -module=example.com/mod")]
    NoModuleLine {
        /// The go.mod.
        path: PathBuf,
    },
    /// `-modfile` refused or unreadable, in cmd/go's words.
    #[error("{0}")]
    ModFileFlag(String),
    /// -mod=vendor with no vendor directory.
    #[error("-mod=vendor: {dir} does not exist; run 'go mod vendor'")]
    NoVendorDir {
        /// The missing vendor dir.
        dir: PathBuf,
    },
    /// A go.mod, go.work or modules.txt asks for a newer Go than the toolchain.
    #[error("{what} requires go >= {wants} (running go {running}; GOTOOLCHAIN=local)")]
    TooNew {
        /// What asks: `go.mod` (as a short path), `module PATH@VERSION`, `PATH in vendor/modules.txt`.
        what: String,
        /// The version it asks for.
        wants: String,
        /// The toolchain's version (`1.27.3`).
        running: String,
    },
    /// `-mod=vendor` inconsistent with go.mod.
    #[error("{path}: inconsistent vendoring: {detail}\n\n\tTo ignore the vendor directory, use -mod=readonly or -mod=mod.\n\tTo sync the vendor directory, run:\n\t\tgo mod vendor")]
    InconsistentVendor {
        /// modules.txt.
        path: PathBuf,
        /// What is inconsistent.
        detail: String,
    },
    /// The module graph needs a go.mod the module cache does not hold.
    #[error("{module}: module lookup disabled: {} is not in the module cache (gob never downloads; run go mod download)", file.display())]
    NotInCache {
        /// `path@version`.
        module: String,
        /// The go.mod file looked for.
        file: PathBuf,
    },
}

/// One main module (the module in the current directory, or each `use` of go.work).
#[derive(Debug)]
pub struct MainModule {
    /// Module path from the `module` line.
    pub path: String,
    /// Directory holding go.mod.
    pub dir: PathBuf,
    /// The go.mod file.
    pub gomod: PathBuf,
    /// Parsed go.mod.
    pub file: ModFile,
}

/// A module of the build list that is not a main module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DepModule {
    /// Module path.
    pub path: String,
    /// Selected version.
    pub version: String,
    /// Where its files come from.
    pub source: ModSource,
    /// What its go.mod (or modules.txt) says; filled when the build list is made.
    pub meta: DepMeta,
}

/// What cmd/go knows of a dependency module from its go.mod, its cache files
/// and the main go.mod, and reports in `go list`'s Module object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DepMeta {
    /// The `go` line of the go.mod in effect (the replacement's when replaced;
    /// modules.txt's `## go` annotation in vendor mode). The compiler's `-lang`
    /// comes from it (go1.16 when absent).
    pub go_version: Option<String>,
    /// That go.mod: the replacement directory's, else the module cache's
    /// `cache/download/…/@v/<version>.mod`; None in vendor mode.
    pub gomod: Option<PathBuf>,
    /// The `.info` file's `Time` of a module (or module replacement) from the cache.
    pub time: Option<String>,
    /// No main go.mod requires it without `// indirect`.
    pub indirect: bool,
}

/// Where a dependency module's files live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModSource {
    /// `$GOMODCACHE/<escaped path>@<version>` of the module itself.
    Cache,
    /// A `replace` with a local directory (absolute after resolution).
    LocalReplace {
        /// The directory.
        dir: PathBuf,
        /// The replacement as written in go.mod (recorded in build info).
        written: String,
    },
    /// A `replace` with another module version, from the cache.
    ModuleReplace {
        /// Replacement path.
        path: String,
        /// Replacement version.
        version: String,
    },
}

/// Identifies the module a package belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleRef {
    /// Index into [`ModuleContext::mains`].
    Main(usize),
    /// A dependency, by path.
    Dep(String),
}

/// How a non-standard import path was resolved.
#[derive(Clone, Debug)]
pub struct ModImport {
    /// The providing module.
    pub module: ModuleRef,
    /// The module's root directory.
    pub root: PathBuf,
    /// The package directory.
    pub dir: PathBuf,
}

/// Why a non-standard import path could not be resolved; texts follow cmd/go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModImportError {
    /// No module in the build list provides the package.
    Missing {
        /// The import path.
        path: String,
        /// There is no main module at all.
        no_main: bool,
    },
    /// Several modules provide it.
    Ambiguous {
        /// The import path.
        path: String,
        /// `(module path, version, dir)` from shortest to longest module path.
        found: Vec<(String, String, PathBuf)>,
        /// Vendor mode: directories only.
        dirs_only: bool,
    },
    /// go.sum has no `h1:` for a module that could provide it.
    MissingSum {
        /// The import path.
        path: String,
        /// The module paths lacking sums.
        modules: Vec<String>,
    },
    /// The module is required but not in the module cache.
    NotDownloaded {
        /// Module path.
        module: String,
        /// Version.
        version: String,
        /// Where gob looked.
        dir: PathBuf,
    },
    /// go.sum's hash differs from the module's content.
    ChecksumMismatch {
        /// Module path.
        module: String,
        /// Version.
        version: String,
        /// What was computed.
        downloaded: String,
        /// What go.sum says.
        gosum: String,
    },
    /// A local replacement directory is missing.
    ReplacementMissing {
        /// Module path.
        module: String,
        /// Version.
        version: String,
        /// The replacement as written.
        replacement: String,
    },
    /// Anything else, with the message ready.
    Other(String),
}

impl std::fmt::Display for ModImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModImportError::Missing { path, no_main: true } => write!(
                f,
                "cannot find module providing package {path}: go.mod file not found in current directory or any parent directory; see 'go help modules'"
            ),
            ModImportError::Missing { path, .. } => write!(
                f,
                "no required module provides package {path}; to add it:\n\tgo get {path}"
            ),
            ModImportError::Ambiguous {
                path,
                found,
                dirs_only,
            } => {
                let kind = if *dirs_only { "directories" } else { "modules" };
                write!(f, "ambiguous import: found package {path} in multiple {kind}:")?;
                for (m, v, d) in found {
                    if *dirs_only {
                        write!(f, "\n\t{}", d.display())?;
                    } else if v.is_empty() {
                        write!(f, "\n\t{m} ({})", d.display())?;
                    } else {
                        write!(f, "\n\t{m} {v} ({})", d.display())?;
                    }
                }
                Ok(())
            }
            ModImportError::MissingSum { path, modules } => write!(
                f,
                "missing go.sum entry for module providing package {path}; to add:\n\tgo mod download {}",
                modules.join(" ")
            ),
            ModImportError::NotDownloaded {
                module,
                version,
                dir,
            } => write!(
                f,
                "{module}@{version}: module not in the module cache ({}); gob does not download: run 'go mod download {module}'",
                dir.display()
            ),
            ModImportError::ChecksumMismatch {
                module,
                version,
                downloaded,
                gosum,
            } => write!(
                f,
                "{module}@{version}: verifying module: checksum mismatch\n\tdownloaded: {downloaded}\n\tgo.sum:     {gosum}\n\nSECURITY ERROR\nThe module cache does not match go.sum; remove the module from the cache and run 'go mod download {module}'"
            ),
            ModImportError::ReplacementMissing {
                module,
                version,
                replacement,
            } => {
                if version.is_empty() {
                    write!(f, "{module}: replacement directory {replacement} does not exist")
                } else {
                    write!(f, "{module}@{version}: replacement directory {replacement} does not exist")
                }
            }
            ModImportError::Other(s) => f.write_str(s),
        }
    }
}

/// The module side of a load.
#[derive(Debug)]
pub struct ModuleContext {
    /// Main modules; empty when outside any module.
    pub mains: Vec<MainModule>,
    /// The go.work in use, if any.
    pub work_file: Option<PathBuf>,
    /// Effective -mod mode.
    pub mode: ModMode,
    /// The main module's vendor directory in vendor mode.
    pub vendor_dir: Option<PathBuf>,
    /// Vendored package path → providing module path (from modules.txt).
    vendor_pkgs: HashMap<String, String>,
    /// Whether modules.txt must list every vendored package (main go ≥ 1.23).
    vendor_strict: bool,
    /// Build list: module path → selected dependency module.
    pub deps: BTreeMap<String, DepModule>,
    /// `$GOMODCACHE`.
    pub gomodcache: PathBuf,
    /// go.sum lines of all main modules (and go.work.sum).
    sums: Vec<modfile::GoSum>,
    /// Modules whose hash was verified (or failed), so each is hashed once.
    verified: Mutex<HashMap<(String, String), Result<(), ModImportError>>>,
    /// The file system, through the load's recording reader.
    pub(super) files: Files,
    /// The `replace` directives in effect (go.work's, else the main
    /// modules'), each with the directory its relative paths start from.
    replaces: Vec<(modfile::Replace, PathBuf)>,
}

/// Inputs to [`ModuleContext::new`]; no environment is read inside.
#[derive(Clone, Debug)]
pub struct ModuleConfig {
    /// The directory gob runs in.
    pub cwd: PathBuf,
    /// `-mod=` if given.
    pub mod_flag: Option<ModMode>,
    /// `$GOMODCACHE` (else `$GOPATH/pkg/mod`) as resolved by the caller.
    pub gomodcache: PathBuf,
    /// `$GOWORK`: None = search, Some("off") = disabled, Some(path).
    pub gowork: Option<String>,
    /// `-modfile`: the file read instead of the main module's go.mod (and
    /// its `.sum` sibling instead of go.sum), as written (relative to `cwd`).
    pub modfile: Option<String>,
    /// `$GOROOT/src`: a go.mod found there is std's, not a user module.
    pub goroot_src: PathBuf,
    /// The toolchain's Go version as gover writes it (`1.27.3`): a go.mod asking
    /// for a newer one is refused, as go does with GOTOOLCHAIN=local.
    pub go_version: String,
}

/// Refuses a `go` line newer than the toolchain (cmd/go's gover.TooNewError).
fn refuse_newer(
    cfg: &ModuleConfig,
    wants: Option<&str>,
    what: impl FnOnce() -> String,
) -> Result<(), ModContextError> {
    match wants {
        Some(w) if go_version_cmp(w, &cfg.go_version).is_gt() => Err(ModContextError::TooNew {
            what: what(),
            wants: w.to_string(),
            running: cfg.go_version.clone(),
        }),
        _ => Ok(()),
    }
}

fn read(files: &Files, path: &Path) -> Result<Vec<u8>, ModContextError> {
    files.read(path).map_err(|source| ModContextError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Compares Go language versions such as `1.21`, `1.22.3`.
pub fn go_version_at_least(v: &str, min_minor: u32) -> bool {
    let mut it = v.split('.');
    let major: u32 = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let minor: u32 = it
        .next()
        .map(|s| s.bytes().take_while(u8::is_ascii_digit).collect::<Vec<_>>())
        .and_then(|b| std::str::from_utf8(&b).ok()?.parse().ok())
        .unwrap_or(0);
    major > 1 || (major == 1 && minor >= min_minor)
}

/// Orders Go versions as cmd/go's gover does: `1.21` < `1.21rc1` < `1.21.0` < `1.21.1`.
pub fn go_version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    // (major, minor, stage, number): stage 0 = language version, 1 alpha, 2 beta,
    // 3 rc (number = prerelease), 4 release (number = patch).
    fn parse(v: &str) -> (u64, u64, u8, u64) {
        let num = |s: &str| -> (u64, usize) {
            let n = s.bytes().take_while(u8::is_ascii_digit).count();
            (s[..n].parse().unwrap_or(0), n)
        };
        let (major, n) = num(v);
        let rest = &v[n..];
        let Some(rest) = rest.strip_prefix('.') else {
            return (major, 0, 0, 0);
        };
        let (minor, n) = num(rest);
        let rest = &rest[n..];
        if let Some(p) = rest.strip_prefix('.') {
            return (major, minor, 4, num(p).0);
        }
        for (i, stage) in ["alpha", "beta", "rc"].iter().enumerate() {
            if let Some(p) = rest.strip_prefix(stage) {
                return (major, minor, i as u8 + 1, num(p).0);
            }
        }
        (major, minor, 0, 0)
    }
    parse(a).cmp(&parse(b))
}

/// `path` relative to `cwd` when that is shorter, for messages (cmd/go's base.ShortPath).
pub fn short_path(cwd: &Path, path: &Path) -> String {
    let full = path.display().to_string();
    let a: Vec<_> = cwd.components().collect();
    let b: Vec<_> = path.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return full;
    }
    let mut rel = PathBuf::new();
    for _ in common..a.len() {
        rel.push("..");
    }
    for c in &b[common..] {
        rel.push(c);
    }
    let rel = if rel.as_os_str().is_empty() {
        ".".to_string()
    } else {
        rel.display().to_string()
    };
    if rel.len() < full.len() {
        rel
    } else {
        full
    }
}

/// The go.mod and go.work files cmd/go would use from `cfg.cwd`, found as
/// [`ModuleContext::new`] finds them but without reading either (for
/// `gob env GOMOD GOWORK`): the nearest go.mod upward, and `$GOWORK` or
/// the nearest go.work upward (None with `GOWORK=off`).
pub fn locate(cfg: &ModuleConfig) -> (Option<PathBuf>, Option<PathBuf>) {
    let files = Files::new();
    let work = match cfg.gowork.as_deref() {
        Some("off") => None,
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => find_upward(&files, &cfg.cwd, "go.work", None),
    };
    (find_upward(&files, &cfg.cwd, "go.mod", None), work)
}

fn find_upward(files: &Files, start: &Path, name: &str, stop: Option<&Path>) -> Option<PathBuf> {
    let mut d = Some(start);
    while let Some(dir) = d {
        let cand = dir.join(name);
        if files.is_file(&cand) {
            return Some(cand);
        }
        if Some(dir) == stop {
            break;
        }
        d = dir.parent();
    }
    None
}

impl ModuleContext {
    /// Finds and reads the main module(s) for `cfg.cwd`, through `files`.
    pub fn new(cfg: &ModuleConfig, files: &Files) -> Result<ModuleContext, ModContextError> {
        let mut ctx = ModuleContext {
            mains: Vec::new(),
            work_file: None,
            mode: ModMode::Readonly,
            vendor_dir: None,
            vendor_pkgs: HashMap::new(),
            vendor_strict: false,
            deps: BTreeMap::new(),
            gomodcache: cfg.gomodcache.clone(),
            sums: Vec::new(),
            verified: Mutex::new(HashMap::new()),
            files: files.clone(),
            replaces: Vec::new(),
        };

        let work = match cfg.gowork.as_deref() {
            Some("off") => None,
            Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
            _ => find_upward(files, &cfg.cwd, "go.work", None),
        };
        let mut replaces: Vec<modfile::Replace> = Vec::new();
        let mut replace_base: Vec<PathBuf> = Vec::new();
        if let Some(work) = work {
            if cfg.modfile.is_some() {
                return Err(ModContextError::ModFileFlag(
                    "-modfile cannot be used in workspace mode".into(),
                ));
            }
            let data = read(files, &work)?;
            let wf = modfile::parse_go_work(&work, &data)?;
            refuse_newer(cfg, wf.go.as_deref(), || short_path(&cfg.cwd, &work))?;
            let wdir = work.parent().unwrap_or(Path::new("/")).to_path_buf();
            for u in &wf.use_ {
                let dir = clean_path(&wdir.join(&u.dir));
                ctx.add_main(&dir.join("go.mod"))?;
            }
            for r in &wf.replace {
                replaces.push(r.clone());
                replace_base.push(wdir.clone());
            }
            ctx.load_sum(&wdir.join("go.work.sum"))?;
            ctx.work_file = Some(work);
        } else if let Some(gomod) = find_upward(files, &cfg.cwd, "go.mod", None) {
            // A go.mod in GOROOT/src (std) or GOROOT/src/cmd makes std/cmd the
            // main module; gob treats those trees as the standard library instead.
            let dir = gomod.parent().unwrap_or(Path::new("/"));
            if !dir.starts_with(&cfg.goroot_src) {
                match &cfg.modfile {
                    None => ctx.add_main(&gomod)?,
                    Some(m) => ctx.add_main_modfile(cfg, dir, m)?,
                }
            }
        } else if cfg.modfile.is_some() {
            return Err(ModContextError::ModFileFlag("cannot find main module, but -modfile was set.\n\t-modfile cannot be used to set the module root directory.".into()));
        }

        for m in &ctx.mains {
            refuse_newer(cfg, m.file.go.as_deref(), || short_path(&cfg.cwd, &m.gomod))?;
        }
        for m in &ctx.mains {
            // In workspace mode, go.work replaces override the modules' own.
            if ctx.work_file.is_none() {
                for r in &m.file.replace {
                    replaces.push(r.clone());
                    replace_base.push(m.dir.clone());
                }
            }
        }
        // cmd/go: the go.mod path with `.mod` replaced by `.sum`.
        let main_sums: Vec<PathBuf> = ctx
            .mains
            .iter()
            .map(|m| match &cfg.modfile {
                Some(f) => cfg
                    .cwd
                    .join(format!("{}.sum", f.strip_suffix(".mod").unwrap_or(f))),
                None => m.dir.join("go.sum"),
            })
            .collect();
        for s in main_sums {
            ctx.load_sum(&s)?;
        }

        // -mod default: vendor when a single main module has vendor/ and go ≥ 1.14.
        ctx.mode = match cfg.mod_flag {
            Some(m) => m,
            None => {
                let vendor_default = ctx.work_file.is_none()
                    && ctx.mains.len() == 1
                    && files.is_dir(&ctx.mains[0].dir.join("vendor"))
                    && ctx.mains[0]
                        .file
                        .go
                        .as_deref()
                        .is_some_and(|g| go_version_at_least(g, 14));
                if vendor_default {
                    ModMode::Vendor
                } else {
                    ModMode::Readonly
                }
            }
        };

        ctx.replaces = replaces.into_iter().zip(replace_base).collect();
        if ctx.mode == ModMode::Vendor && !ctx.mains.is_empty() {
            ctx.init_vendor(cfg)?;
        } else {
            ctx.init_build_list(cfg)?;
        }
        Ok(ctx)
    }

    fn add_main(&mut self, gomod: &Path) -> Result<(), ModContextError> {
        let data = read(&self.files, gomod)?;
        self.add_main_data(gomod, gomod.parent().unwrap_or(Path::new("/")), &data)
    }

    /// The main module at `dir` (where its go.mod is), described by
    /// `-modfile`'s file instead (cmd/go's `modFilePath`): named as written,
    /// which is also the module's `GoMod`.
    fn add_main_modfile(
        &mut self,
        cfg: &ModuleConfig,
        dir: &Path,
        modfile: &str,
    ) -> Result<(), ModContextError> {
        if !modfile.ends_with(".mod") {
            return Err(ModContextError::ModFileFlag(format!(
                "-modfile={modfile}: file does not have .mod extension"
            )));
        }
        let data = self.files.read(&cfg.cwd.join(modfile)).map_err(|e| {
            ModContextError::ModFileFlag(format!(
                "open {modfile}: {}",
                super::gobuild::scan::go_io_error(&e)
            ))
        })?;
        self.add_main_data(Path::new(modfile), dir, &data)
    }

    fn add_main_data(
        &mut self,
        gomod: &Path,
        dir: &Path,
        data: &[u8],
    ) -> Result<(), ModContextError> {
        let file = modfile::parse_go_mod(gomod, data)?;
        let Some(module) = file.module.as_ref() else {
            return Err(ModContextError::NoModuleLine {
                path: gomod.to_path_buf(),
            });
        };
        self.mains.push(MainModule {
            path: module.path.clone(),
            dir: dir.to_path_buf(),
            gomod: gomod.to_path_buf(),
            file,
        });
        Ok(())
    }

    fn load_sum(&mut self, path: &Path) -> Result<(), ModContextError> {
        match self.files.read(path) {
            Ok(data) => {
                self.sums.push(modfile::parse_go_sum(path, &data)?);
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(ModContextError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Whether no main go.mod requires `path` directly (without `// indirect`).
    fn indirect(&self, path: &str) -> bool {
        !self
            .mains
            .iter()
            .any(|m| m.file.require.iter().any(|r| r.path == path && !r.indirect))
    }

    fn init_vendor(&mut self, cfg: &ModuleConfig) -> Result<(), ModContextError> {
        let main = &self.mains[0];
        let vdir = main.dir.join("vendor");
        if !self.files.is_dir(&vdir) {
            return Err(ModContextError::NoVendorDir { dir: vdir });
        }
        let txt = vdir.join("modules.txt");
        let list = match self.files.read(&txt) {
            Ok(data) => modfile::parse_modules_txt(&txt, &data)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => modfile::VendorList::default(),
            Err(source) => return Err(ModContextError::Read { path: txt, source }),
        };
        // Every explicit requirement of go.mod must be recorded in modules.txt.
        let go = main.file.go.clone().unwrap_or_default();
        if go_version_at_least(&go, 17) {
            for r in &main.file.require {
                let listed = list
                    .modules
                    .iter()
                    .any(|m| m.path == r.path && m.version == r.version && m.explicit);
                if !listed {
                    return Err(ModContextError::InconsistentVendor {
                        path: txt,
                        detail: format!(
                            "{}@{}: is explicitly required in go.mod, but not marked as explicit in vendor/modules.txt",
                            r.path, r.version
                        ),
                    });
                }
            }
        }
        self.vendor_strict = go_version_at_least(&go, 23);
        for m in &list.modules {
            refuse_newer(cfg, m.go_version.as_deref(), || {
                format!("{} in {}", m.path, short_path(&cfg.cwd, &txt))
            })?;
        }
        for m in &list.modules {
            for p in &m.packages {
                self.vendor_pkgs.insert(p.clone(), m.path.clone());
            }
            // `# path => dir` without a version only records go.mod's wildcard
            // replace (for go's consistency check); the module itself is the
            // `# path version [=> …]` line.
            if m.version.is_empty() {
                continue;
            }
            // The replacement as modules.txt records it (go.mod's, copied by
            // `go mod vendor`); vendored files are read from vendor/ either way.
            let source = match &m.replacement {
                Some(ReplaceTarget::Local(dir)) => ModSource::LocalReplace {
                    dir: clean_path(&self.mains[0].dir.join(dir)),
                    written: dir.clone(),
                },
                Some(ReplaceTarget::Module { path, version }) => ModSource::ModuleReplace {
                    path: path.clone(),
                    version: version.clone(),
                },
                None => ModSource::Cache,
            };
            let meta = DepMeta {
                go_version: m.go_version.clone(),
                gomod: None,
                time: None,
                indirect: self.indirect(&m.path),
            };
            self.deps.insert(
                m.path.clone(),
                DepModule {
                    path: m.path.clone(),
                    version: m.version.clone(),
                    source,
                    meta,
                },
            );
        }
        self.vendor_dir = Some(vdir);
        Ok(())
    }

    /// The build list from the main modules' requirements (graph pruning: since
    /// go 1.17 the main go.mod lists every module that provides a package).
    fn init_build_list(&mut self, cfg: &ModuleConfig) -> Result<(), ModContextError> {
        let mut deps: BTreeMap<String, DepModule> = BTreeMap::new();
        for m in &self.mains {
            for r in &m.file.require {
                if self.excluded(&r.path, &r.version)
                    || self.mains.iter().any(|mm| mm.path == r.path)
                {
                    continue;
                }
                let newer = deps
                    .get(&r.path)
                    .is_none_or(|d| semver_less(&d.version, &r.version));
                if newer {
                    deps.insert(
                        r.path.clone(),
                        DepModule {
                            path: r.path.clone(),
                            version: r.version.clone(),
                            source: ModSource::Cache,
                            meta: DepMeta::default(),
                        },
                    );
                }
            }
        }
        for d in deps.values_mut() {
            d.source = self.source_of(&d.path, &d.version);
        }
        for d in deps.values_mut() {
            d.meta = self.dep_meta(cfg, d)?;
        }
        self.deps = deps;
        Ok(())
    }

    /// Whether a main go.mod excludes this module version.
    pub(super) fn excluded(&self, path: &str, version: &str) -> bool {
        self.mains.iter().any(|m| {
            m.file
                .exclude
                .iter()
                .any(|e| e.path == path && e.version == version)
        })
    }

    /// Where a module version's files come from under the `replace`
    /// directives in effect: a versioned replace wins over an unversioned one.
    pub(super) fn source_of(&self, path: &str, version: &str) -> ModSource {
        let mut chosen: Option<&(modfile::Replace, PathBuf)> = None;
        for rb in &self.replaces {
            let r = &rb.0;
            if r.old_path != path {
                continue;
            }
            match &r.old_version {
                Some(v) if v == version => chosen = Some(rb),
                None if chosen.is_none_or(|(c, _)| c.old_version.is_none()) => chosen = Some(rb),
                _ => {}
            }
        }
        match chosen {
            None => ModSource::Cache,
            Some((r, base)) => match &r.new {
                ReplaceTarget::Local(dir) => {
                    let p = Path::new(dir);
                    ModSource::LocalReplace {
                        dir: clean_path(&if p.is_absolute() {
                            p.to_path_buf()
                        } else {
                            base.join(p)
                        }),
                        written: dir.clone(),
                    }
                }
                ReplaceTarget::Module { path, version } => ModSource::ModuleReplace {
                    path: path.clone(),
                    version: version.clone(),
                },
            },
        }
    }

    /// Reads what cmd/go reads of a build-list module: the go.mod in effect (the
    /// replacement directory's, or the cache's `.mod` file) and the cache's
    /// `.info`. A module asking for a newer Go than the toolchain is refused, as
    /// go refuses it while loading the module graph. Files not yet downloaded are
    /// left out here; importing a package from such a module fails later.
    pub(super) fn dep_meta(
        &self,
        cfg: &ModuleConfig,
        d: &DepModule,
    ) -> Result<DepMeta, ModContextError> {
        let (gomod, info, what) = match &d.source {
            ModSource::LocalReplace { dir, written } => (dir.join("go.mod"), None, written.clone()),
            ModSource::Cache => {
                let (m, i) = self.cache_files(&d.path, &d.version);
                (m, i, format!("{}@{}", d.path, d.version))
            }
            ModSource::ModuleReplace { path, version } => {
                let (m, i) = self.cache_files(path, version);
                (m, i, format!("{path}@{version}"))
            }
        };
        let go_version = match self.files.read(&gomod) {
            Ok(data) => modfile::parse_go_mod_lax(&gomod, &data)?.go,
            Err(_) => None,
        };
        refuse_newer(cfg, go_version.as_deref(), || format!("module {what}"))?;
        let time = info
            .and_then(|i| self.files.read(&i).ok())
            .and_then(|data| serde_json::from_slice::<serde_json::Value>(&data).ok())
            .and_then(|v| v.get("Time")?.as_str().map(str::to_string));
        Ok(DepMeta {
            go_version,
            gomod: self.files.is_file(&gomod).then_some(gomod),
            time,
            indirect: self.indirect(&d.path),
        })
    }

    /// The module cache's `<version>.mod` for a module version.
    pub(super) fn cache_mod_file(&self, path: &str, version: &str) -> PathBuf {
        self.cache_files(path, version).0
    }

    /// The module cache's `<version>.mod` and `<version>.info` for a module version.
    fn cache_files(&self, path: &str, version: &str) -> (PathBuf, Option<PathBuf>) {
        let (Ok(esc), Ok(escv)) = (
            modfile::escape_module_path(path),
            modfile::escape_version(version),
        ) else {
            return (PathBuf::new(), None);
        };
        let v = self.gomodcache.join("cache/download").join(esc).join("@v");
        (
            v.join(format!("{escv}.mod")),
            Some(v.join(format!("{escv}.info"))),
        )
    }

    /// Whether there is at least one main module.
    pub fn has_main(&self) -> bool {
        !self.mains.is_empty()
    }

    /// go.sum's `h1:` hashes of a module version's zip and of its go.mod, if recorded.
    pub fn sums(&self, path: &str, version: &str) -> (Option<String>, Option<String>) {
        let (mut zip, mut gomod) = (None, None);
        for s in &self.sums {
            let (z, g) = s.lookup(path, version);
            zip = zip.or(z.map(str::to_string));
            gomod = gomod.or(g.map(str::to_string));
        }
        (zip, gomod)
    }

    /// The main module whose tree holds `dir` (the innermost one), if any.
    pub fn main_for_dir(&self, dir: &Path) -> Option<usize> {
        self.mains
            .iter()
            .enumerate()
            .filter(|(_, m)| dir.starts_with(&m.dir))
            .max_by_key(|(_, m)| m.dir.as_os_str().len())
            .map(|(i, _)| i)
    }

    /// modload's DirImportPath: the import path `dir` has in the main module
    /// holding it, or `.` outside every main module.
    pub fn dir_import_path(&self, dir: &Path) -> String {
        let Some(m) = self.main_for_dir(dir).map(|i| &self.mains[i]) else {
            return ".".into();
        };
        match dir.strip_prefix(&m.dir) {
            Ok(rel) if !rel.as_os_str().is_empty() => {
                format!("{}/{}", m.path, rel.to_string_lossy())
            }
            _ => m.path.clone(),
        }
    }

    /// The directory of a dependency module's files and whether it is local.
    fn dep_root(&self, d: &DepModule) -> Result<(PathBuf, bool), ModImportError> {
        match &d.source {
            ModSource::LocalReplace { dir, .. } => {
                if self.files.is_dir(dir) {
                    Ok((dir.clone(), true))
                } else {
                    Err(ModImportError::ReplacementMissing {
                        module: d.path.clone(),
                        version: d.version.clone(),
                        replacement: dir.display().to_string(),
                    })
                }
            }
            ModSource::Cache => self.cache_dir(&d.path, &d.version).map(|p| (p, false)),
            ModSource::ModuleReplace { path, version } => {
                self.cache_dir(path, version).map(|p| (p, false))
            }
        }
    }

    /// `$GOMODCACHE/<escaped>@<version>`, verified against go.sum.
    fn cache_dir(&self, path: &str, version: &str) -> Result<PathBuf, ModImportError> {
        let esc = modfile::escape_module_path(path)
            .map_err(|e| ModImportError::Other(format!("{path}: {e}")))?;
        let escv = modfile::escape_version(version)
            .map_err(|e| ModImportError::Other(format!("{path}@{version}: {e}")))?;
        let dir = self.gomodcache.join(format!("{esc}@{escv}"));
        let want = self.sums.iter().find_map(|s| s.lookup(path, version).0);
        let Some(want) = want else {
            return Err(ModImportError::MissingSum {
                path: String::new(),
                modules: vec![path.to_string()],
            });
        };
        if !self.files.is_dir(&dir) {
            return Err(ModImportError::NotDownloaded {
                module: path.to_string(),
                version: version.to_string(),
                dir,
            });
        }
        let key = (path.to_string(), version.to_string());
        if let Some(r) = self
            .verified
            .lock()
            .map(|m| m.get(&key).cloned())
            .ok()
            .flatten()
        {
            return r.map(|()| dir);
        }
        let result = self.verify(path, version, &esc, &escv, &dir, want);
        if let Ok(mut m) = self.verified.lock() {
            m.insert(key, result.clone());
        }
        result.map(|()| dir)
    }

    /// Checks a cached module against go.sum: cmd/go trusts the `.ziphash`
    /// recorded at download time; gob does too, and hashes the extracted tree
    /// when there is none.
    fn verify(
        &self,
        path: &str,
        version: &str,
        esc: &str,
        escv: &str,
        dir: &Path,
        want: &str,
    ) -> Result<(), ModImportError> {
        let ziphash = self
            .gomodcache
            .join("cache/download")
            .join(esc)
            .join("@v")
            .join(format!("{escv}.ziphash"));
        let got = match self.files.read_to_string(&ziphash) {
            Ok(s) => s.trim().to_string(),
            Err(_) => {
                modhash::hash_dir(&self.files, dir, &format!("{path}@{version}")).map_err(|e| {
                    ModImportError::Other(format!(
                        "{path}@{version}: hashing {}: {e}",
                        dir.display()
                    ))
                })?
            }
        };
        if got == want {
            Ok(())
        } else {
            Err(ModImportError::ChecksumMismatch {
                module: path.to_string(),
                version: version.to_string(),
                downloaded: got,
                gosum: want.to_string(),
            })
        }
    }

    /// Resolves a non-standard import path to the module and directory providing it
    /// (cmd/go's importFromModules).
    pub fn import(&self, path: &str) -> Result<ModImport, ModImportError> {
        if self.mains.is_empty() {
            return Err(ModImportError::Missing {
                path: path.to_string(),
                no_main: true,
            });
        }
        if self.mode == ModMode::Vendor {
            return self.import_vendor(path);
        }
        let mut found: Vec<(ModuleRef, String, PathBuf, PathBuf)> = Vec::new();
        let mut missing_sum = Vec::new();
        let mut prefix = path;
        loop {
            if let Some(i) = self.mains.iter().position(|m| m.path == prefix) {
                let m = &self.mains[i];
                if let Some(dir) = self.dir_in_module(path, &m.path, &m.dir, true)? {
                    found.push((ModuleRef::Main(i), String::new(), m.dir.clone(), dir));
                }
            } else if let Some(d) = self.deps.get(prefix) {
                match self.dep_root(d) {
                    Ok((root, local)) => {
                        if let Some(dir) = self.dir_in_module(path, &d.path, &root, local)? {
                            found.push((
                                ModuleRef::Dep(d.path.clone()),
                                d.version.clone(),
                                root,
                                dir,
                            ));
                        }
                    }
                    Err(ModImportError::MissingSum { .. }) => missing_sum.push(d.path.clone()),
                    Err(e) => return Err(e),
                }
            }
            match prefix.rfind('/') {
                Some(i) => prefix = &prefix[..i],
                None => break,
            }
        }
        if found.len() > 1 {
            found.reverse();
            return Err(ModImportError::Ambiguous {
                path: path.to_string(),
                found: found
                    .into_iter()
                    .map(|(m, v, _, d)| (self.module_path(&m).to_string(), v, d))
                    .collect(),
                dirs_only: false,
            });
        }
        if !missing_sum.is_empty() {
            missing_sum.reverse();
            return Err(ModImportError::MissingSum {
                path: path.to_string(),
                modules: missing_sum,
            });
        }
        match found.pop() {
            Some((module, _, root, dir)) => Ok(ModImport { module, root, dir }),
            None => Err(ModImportError::Missing {
                path: path.to_string(),
                no_main: false,
            }),
        }
    }

    fn import_vendor(&self, path: &str) -> Result<ModImport, ModImportError> {
        let mut found = Vec::new();
        for (i, m) in self.mains.iter().enumerate() {
            // cmd/go keeps the first main-module error and goes on to the vendor directory.
            if let Ok(Some(dir)) = self.dir_in_module(path, &m.path, &m.dir, true) {
                found.push((ModuleRef::Main(i), m.dir.clone(), dir));
            }
        }
        if let Some(vdir) = &self.vendor_dir {
            let dir = vdir.join(path);
            if has_go_files(&self.files, &dir) {
                match self.vendor_pkgs.get(path) {
                    Some(m) => found.push((ModuleRef::Dep(m.clone()), vdir.clone(), dir)),
                    None if !self.vendor_strict => {
                        found.push((ModuleRef::Dep(String::new()), vdir.clone(), dir))
                    }
                    None => {}
                }
            }
        }
        if found.len() > 1 {
            return Err(ModImportError::Ambiguous {
                path: path.to_string(),
                found: found
                    .into_iter()
                    .map(|(_, _, d)| (String::new(), String::new(), d))
                    .collect(),
                dirs_only: true,
            });
        }
        match found.pop() {
            Some((module, root, dir)) => Ok(ModImport { module, root, dir }),
            None => Err(ModImportError::Missing {
                path: path.to_string(),
                no_main: false,
            }),
        }
    }

    /// The module path a [`ModuleRef`] names.
    pub fn module_path<'a>(&'a self, m: &'a ModuleRef) -> &'a str {
        match m {
            ModuleRef::Main(i) => &self.mains[*i].path,
            ModuleRef::Dep(p) => p,
        }
    }
}

/// Lexically cleans a path (`a/./b/../c` → `a/c`), as Go's filepath.Join does.
pub fn clean_path(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Whether `dir` holds a `.go` file that is regular, or a symlink to a regular
/// file (fsys.IsGoDir). A directory that does not exist (or is not a directory)
/// has none. Another error opening it, or else the first error following a
/// `.go` symlink when no Go file is found, is returned worded like Go's
/// (`open DIR: …`, `stat FILE: …`).
pub fn is_go_dir(files: &Files, dir: &Path) -> Result<bool, String> {
    let go_err = |op: &str, p: &Path, e: &std::io::Error| {
        format!(
            "{op} {}: {}",
            p.display(),
            super::gobuild::scan::go_io_error(e)
        )
    };
    let rd = match files.read_dir(dir) {
        Ok(rd) => rd,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(false)
        }
        Err(e) => return Err(go_err(super::files::read_dir_op(&e), dir, &e)),
    };
    let mut first_err = None;
    for e in rd {
        let e = e.map_err(|e| go_err("readdirent", dir, &e))?;
        let Ok(t) = e.kind else { continue };
        if t == Kind::Dir || !e.name_str().ends_with(".go") {
            continue;
        }
        if t == Kind::File {
            return Ok(true);
        }
        if t == Kind::Symlink {
            let p = e.path;
            match files.stat(&p) {
                Ok(Kind::File) => return Ok(true),
                Ok(_) => {}
                Err(err) => {
                    first_err.get_or_insert_with(|| go_err("stat", &p, &err));
                }
            }
        }
    }
    first_err.map_or(Ok(false), Err)
}

/// [`is_go_dir`], errors counting as no Go files (std lookups, vendor directories).
pub fn has_go_files(files: &Files, dir: &Path) -> bool {
    is_go_dir(files, dir).unwrap_or(false)
}

impl ModuleContext {
    /// cmd/go's dirInModule: the directory for `path` inside module `mpath` at
    /// `mdir`, if that directory exists, holds .go files and (for local
    /// modules) is not inside a nested module. An error reading the directory
    /// (a symlink loop, say) is the import's error, as in cmd/go.
    fn dir_in_module(
        &self,
        path: &str,
        mpath: &str,
        mdir: &Path,
        is_local: bool,
    ) -> Result<Option<PathBuf>, ModImportError> {
        let dir = if path == mpath {
            mdir.to_path_buf()
        } else if path.len() > mpath.len()
            && path.as_bytes()[mpath.len()] == b'/'
            && path.starts_with(mpath)
        {
            mdir.join(&path[mpath.len() + 1..])
        } else {
            return Ok(None);
        };
        if is_local {
            let mut d = dir.as_path();
            while d != mdir && d.as_os_str().len() > mdir.as_os_str().len() {
                if self.files.is_file(&d.join("go.mod")) {
                    return Ok(None);
                }
                let Some(parent) = d.parent() else {
                    return Ok(None);
                };
                d = parent;
            }
        }
        match is_go_dir(&self.files, &dir) {
            Ok(true) => Ok(Some(dir)),
            Ok(false) => Ok(None),
            Err(e) => Err(ModImportError::Other(e)),
        }
    }
}

/// Orders two module versions (`v1.2.3`, `v1.2.3-pre`, pseudo-versions) as semver does.
pub fn semver_less(a: &str, b: &str) -> bool {
    fn parts(v: &str) -> (Vec<u64>, Option<&str>) {
        let v = v.trim_start_matches('v');
        let v = v.split('+').next().unwrap_or("");
        let (core, pre) = match v.find('-') {
            Some(i) => (&v[..i], Some(&v[i + 1..])),
            None => (v, None),
        };
        (
            core.split('.').map(|n| n.parse().unwrap_or(0)).collect(),
            pre,
        )
    }
    let (ca, pa) = parts(a);
    let (cb, pb) = parts(b);
    if ca != cb {
        return ca < cb;
    }
    match (pa, pb) {
        (None, None) | (None, Some(_)) => false,
        (Some(_), None) => true,
        (Some(x), Some(y)) => {
            for (p, q) in x.split('.').zip(y.split('.')) {
                if p == q {
                    continue;
                }
                return match (p.parse::<u64>(), q.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m < n,
                    (Ok(_), Err(_)) => true,
                    (Err(_), Ok(_)) => false,
                    _ => p < q,
                };
            }
            x.split('.').count() < y.split('.').count()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_order() {
        assert!(semver_less("v1.2.3", "v1.10.0"));
        assert!(semver_less("v1.2.3-pre", "v1.2.3"));
        assert!(!semver_less("v1.2.3", "v1.2.3"));
        assert!(semver_less(
            "v0.0.0-20200101000000-abc",
            "v0.0.0-20210101000000-abc"
        ));
    }

    #[test]
    fn go_versions() {
        assert!(go_version_at_least("1.21", 17));
        assert!(go_version_at_least("1.23.4", 23));
        assert!(!go_version_at_least("1.13", 14));
    }
}
