//! Package graph loading: resolve imports, read directories, build the immutable package arena.
//!
//! Overview
//! 1. Expand the command-line patterns to root import paths (`patterns.rs`).
//! 2. Preload: resolve every reachable import and read every package directory,
//!    a breadth-first wave at a time, each wave spread over all cores. This is the
//!    only phase that touches the file system for package contents.
//! 3. Walk: a sequential depth-first walk over the preloaded data that builds
//!    [`Package`]s in exactly the order cmd/go does, so import stacks, cycle
//!    errors and "first error wins" decisions match `go list` byte for byte.
//! 4. Post-process: PGO variants (`X [cmd/compile]`), `Deps`, `DepsErrors`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::cmdfiles::{self, NamedFiles};
use super::embed;
use super::files::Files;
use super::gobuild::{self, BuildContext, DirPackage};
use super::modules::{DepModule, ModImportError, ModSource, ModuleContext, ModuleRef};
use super::patterns::{self, Match};
use super::{LoadConfig, LoadError};

/// Index of a package in [`PackageGraph::packages`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PkgId(pub u32);

/// Index of an error in [`PackageGraph::errors`]; errors are shared between a
/// package and the `DepsErrors` of its importers, as in cmd/go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrId(pub u32);

/// An error attached to a package, shaped like cmd/go's PackageError.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageError {
    /// Import paths from a command-line package down to the failing one.
    pub import_stack: Vec<String>,
    /// `file:line:col` of the offending import or directive, relative to the cwd when shorter.
    pub pos: String,
    /// The message.
    pub err: String,
    /// The error is an import cycle.
    pub is_import_cycle: bool,
    /// The stack as `pkg from file.go` entries (cmd/go prints these for cycles).
    pub stack_with_pos: Vec<String>,
    /// Print the stack even when there is a position (internal-package errors).
    pub always_print_stack: bool,
}

impl std::fmt::Display for PackageError {
    /// cmd/go's PackageError.Error: the position alone when it says enough,
    /// else `package a\n\timports b…: err`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.pos.is_empty() && (self.import_stack.is_empty() || !self.always_print_stack) {
            return write!(f, "{}: {}", self.pos, self.err);
        }
        if self.import_stack.is_empty() {
            return f.write_str(&self.err);
        }
        let stack = if self.is_import_cycle {
            &self.stack_with_pos
        } else {
            &self.import_stack
        };
        write!(f, "package {}", stack.join("\n\timports "))?;
        if !self.pos.is_empty() {
            write!(f, "\n\t{}", self.pos)?;
        }
        write!(f, ": {}", self.err)
    }
}

/// The module a package belongs to, as `go list` reports it (cmd/go's
/// modload.moduleInfo: a replaced module carries its replacement, and takes its
/// directory, go.mod and Go version from it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleInfo {
    /// Module path (for a replacement: the path or directory as written).
    pub path: String,
    /// Version; empty for main modules and directory replacements.
    pub version: String,
    /// Whether it is a main module.
    pub main: bool,
    /// Directory holding the module's files (the vendor directory for a
    /// vendored module, which `go list` does not report: see `vendored`).
    pub dir: PathBuf,
    /// Its go.mod, if known.
    pub gomod: Option<PathBuf>,
    /// The go directive; the compiler's `-lang` (go1.16 when absent).
    pub go_version: Option<String>,
    /// The module cache's `.info` time (module cache modules only).
    pub time: Option<String>,
    /// No main go.mod requires it directly.
    pub indirect: bool,
    /// go.sum's hash of the module zip (module cache modules only).
    pub sum: Option<String>,
    /// go.sum's hash of its go.mod (module cache modules only).
    pub gomod_sum: Option<String>,
    /// Its replacement, described the same way.
    pub replace: Option<Box<ModuleInfo>>,
    /// Its packages come from the main module's vendor directory.
    pub vendored: bool,
}

/// One loaded package. Immutable once the graph is built.
#[derive(Clone, Debug)]
pub struct Package {
    /// Canonical import path; PGO variants carry a ` [main/pkg]` suffix.
    pub import_path: String,
    /// The package directory; empty when it could not be resolved.
    pub dir: PathBuf,
    /// The root: GOROOT for std, the module directory otherwise.
    pub root: PathBuf,
    /// Package name from the package clause.
    pub name: String,
    /// In GOROOT.
    pub goroot: bool,
    /// Part of std or cmd.
    pub standard: bool,
    /// The owning module, outside std.
    pub module: Option<ModuleInfo>,
    /// The directory's classification (files, imports, embeds).
    pub files: Arc<DirPackage>,
    /// Resolved import paths, 1:1 with `raw_imports`.
    pub imports: Vec<String>,
    /// Imports as written in the source, sorted.
    pub raw_imports: Vec<String>,
    /// Test imports as `go list` shows them: vendor-expanded for a std importer, sorted.
    pub test_imports: Vec<String>,
    /// External test imports, likewise.
    pub xtest_imports: Vec<String>,
    /// Resolved imports including implicit ones (linker deps, simd bridge): what the build depends on.
    pub internal_imports: Vec<PkgId>,
    /// Files matched by the `//go:embed` patterns, relative to `dir`.
    pub embed_files: Vec<String>,
    /// Pattern → files, for `-embedcfg`.
    pub embed_map: BTreeMap<String, Vec<String>>,
    /// This package's error.
    pub error: Option<ErrId>,
    /// Errors of its dependencies, sorted like cmd/go sorts them.
    pub deps_errors: Vec<ErrId>,
    /// All transitive dependencies' import paths, sorted.
    pub deps: Vec<String>,
    /// Whether this package or a dependency has an error.
    pub incomplete: bool,
    /// Patterns that matched it on the command line.
    pub matched: Vec<String>,
    /// Named on the command line.
    pub cmdline: bool,
    /// The `command-line-arguments` package of Go files named on the
    /// command line (cmd/go's `Internal.CmdlineFiles`).
    pub cmdline_files: bool,
    /// For PGO variants: the main package it is built for.
    pub for_main: Option<String>,
    /// The profile applied: `default.pgo` for main packages with -pgo=auto
    /// and their deps; every package's with -pgo=FILE.
    pub pgo_profile: Option<PathBuf>,
}

/// The result of a load.
#[derive(Debug)]
pub struct PackageGraph {
    /// The arena.
    pub packages: Vec<Package>,
    /// Errors, referenced by index.
    pub errors: Vec<PackageError>,
    /// Command-line packages in cmd/go's order.
    pub roots: Vec<PkgId>,
    /// Every path the load read, listed or looked at, present or absent,
    /// as spelled (through links): the record of [`Files`]. The no-op memo
    /// stamps exactly these.
    pub reads: BTreeSet<PathBuf>,
    /// `-overlay`'s view, which the planner applies to the files it
    /// declares (`plan::inputs`).
    pub overlay: Option<std::sync::Arc<super::overlay::Overlay>>,
}

impl PackageGraph {
    /// The package with this id.
    pub fn pkg(&self, id: PkgId) -> &Package {
        &self.packages[id.0 as usize]
    }

    /// Depth-first post-order over `internal_imports` from `roots` (cmd/go's PackageList).
    pub fn post_order(&self, roots: &[PkgId]) -> Vec<PkgId> {
        let mut seen = vec![false; self.packages.len()];
        let mut out = Vec::new();
        // Iterative DFS with an explicit stack to survive deep graphs.
        for &r in roots {
            if seen[r.0 as usize] {
                continue;
            }
            seen[r.0 as usize] = true;
            let mut stack: Vec<(PkgId, usize)> = vec![(r, 0)];
            while let Some((id, next)) = stack.pop() {
                let imps = &self.packages[id.0 as usize].internal_imports;
                if next < imps.len() {
                    stack.push((id, next + 1));
                    let c = imps[next];
                    if !seen[c.0 as usize] {
                        seen[c.0 as usize] = true;
                        stack.push((c, 0));
                    }
                } else {
                    out.push(id);
                }
            }
        }
        out
    }
}

/// Which vendor directory a standard-library importer resolves through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Importer {
    /// Command line, or a package outside std.
    Module,
    /// A std package outside cmd: `GOROOT/src/vendor`.
    Std,
    /// A package under cmd: `GOROOT/src/cmd/vendor`.
    Cmd,
}

/// What an import path resolves to, before the directory is read.
#[derive(Clone, Debug)]
struct Resolved {
    path: String,
    dir: Option<PathBuf>,
    root: PathBuf,
    module: Option<ModuleRef>,
    standard: bool,
    err: Option<String>,
    /// The import path itself is invalid (relative, `@version`, malformed):
    /// cmd/go's module loader never admits such a path to "all".
    invalid: bool,
    /// go.sum lacks the hash of the module(s) that could provide the package:
    /// the message names the importer, which is only known during the walk.
    missing_sum: bool,
}

/// The directory read of one package.
#[derive(Debug)]
struct DirData {
    pkg: Arc<DirPackage>,
    err: Option<DirFail>,
}

#[derive(Debug, Clone)]
enum DirFail {
    /// go/build's NoGoError: the message depends on the package's lists.
    NoGo,
    /// A parse error with its position.
    Scan {
        file: String,
        line: u32,
        col: u32,
        msg: String,
    },
    /// Anything else, message ready.
    Other(String),
}

pub(super) struct Loader<'a> {
    cfg: &'a LoadConfig,
    ctx: &'a BuildContext,
    mods: &'a ModuleContext,
    goroot_src: PathBuf,
    resolved: HashMap<(String, Importer), Resolved>,
    dirs: HashMap<String, DirData>,
}

fn is_standard_import_path(path: &str) -> bool {
    let first = path.split('/').next().unwrap_or("");
    !first.contains('.')
}

fn has_path_prefix(s: &str, prefix: &str) -> bool {
    s == prefix || (s.starts_with(prefix) && s.as_bytes().get(prefix.len()) == Some(&b'/'))
}

fn importer_of(path: &str, standard: bool) -> Importer {
    if !standard {
        Importer::Module
    } else if has_path_prefix(path, "cmd") {
        Importer::Cmd
    } else {
        Importer::Std
    }
}

impl<'a> Loader<'a> {
    pub(super) fn new(cfg: &'a LoadConfig, ctx: &'a BuildContext, mods: &'a ModuleContext) -> Self {
        Loader {
            cfg,
            ctx,
            mods,
            goroot_src: cfg.toolchain.src_dir(),
            resolved: HashMap::new(),
            dirs: HashMap::new(),
        }
    }

    /// cmd/go's stdVendor: a std importer sees GOROOT/src/vendor (or cmd/vendor).
    fn std_vendor(&self, importer: Importer, path: &str) -> String {
        if is_standard_import_path(path) {
            return path.to_string();
        }
        let vpath = match importer {
            Importer::Module => return path.to_string(),
            Importer::Cmd => format!("cmd/vendor/{path}"),
            Importer::Std => format!("vendor/{path}"),
        };
        if self.ctx.files.exists(&self.goroot_src.join(&vpath)) {
            vpath
        } else {
            path.to_string()
        }
    }

    fn resolve_uncached(&self, path: &str, importer: Importer) -> Resolved {
        let path = self.std_vendor(importer, path);
        let fail = |p: &str, e: String| Resolved {
            path: p.to_string(),
            dir: None,
            root: PathBuf::new(),
            module: None,
            standard: false,
            err: Some(e),
            invalid: true,
            missing_sum: false,
        };
        if path.contains('@') {
            return fail(
                &path,
                format!("import path {path:?} should not have @version"),
            );
        }
        if path == "." || path == ".." || path.starts_with("./") || path.starts_with("../") {
            return fail(
                &path,
                format!("{path:?} is relative, but relative import paths are not supported in module mode"),
            );
        }
        if path.starts_with('/') {
            return fail(
                &path,
                format!("{path:?} is not a package path; see 'go help packages'"),
            );
        }
        if let Some(e) = check_import_path(&path) {
            return fail(&path, format!("malformed import path {path:?}: {e}"));
        }
        if is_standard_import_path(&path) {
            let dir = self.goroot_src.join(&path);
            if super::modules::has_go_files(&self.ctx.files, &dir) {
                return Resolved {
                    path,
                    dir: Some(dir),
                    root: self.cfg.toolchain.goroot.clone(),
                    module: None,
                    standard: true,
                    err: None,
                    invalid: false,
                    missing_sum: false,
                };
            }
            // Not in std: cmd/go reports it as such when no module provides it either.
            return match self.mods.import(&path) {
                Ok(m) => Resolved {
                    path,
                    dir: Some(m.dir),
                    root: m.root,
                    module: Some(m.module),
                    standard: false,
                    err: None,
                    invalid: false,
                    missing_sum: false,
                },
                Err(_) => {
                    let e = format!("package {path} is not in std ({})", dir.display());
                    Resolved {
                        invalid: false,
                        missing_sum: false,
                        ..fail(&path, e)
                    }
                }
            };
        }
        match self.mods.import(&path) {
            Ok(m) => Resolved {
                path,
                dir: Some(m.dir),
                root: m.root,
                module: Some(m.module),
                standard: false,
                err: None,
                invalid: false,
                missing_sum: false,
            },
            Err(e) => Resolved {
                invalid: false,
                missing_sum: matches!(e, ModImportError::MissingSum { .. }),
                ..fail(&path, mod_import_message(&e))
            },
        }
    }

    fn read_dir(&self, dir: &Path) -> DirData {
        // cmd/go reads GOROOT and module-cache packages through its module index,
        // whose treatment of malformed files differs from go/build's.
        let flavor = if dir.starts_with(&self.goroot_src) || dir.starts_with(&self.mods.gomodcache)
        {
            gobuild::Flavor::ModIndex
        } else {
            gobuild::Flavor::GoBuild
        };
        let (pkg, err) = gobuild::import_dir_with(self.ctx, dir, flavor);
        dir_data(pkg, err)
    }

    /// The package of Go files named on the command line, made resolvable as
    /// `command-line-arguments` (from the command line only); returns the
    /// imports to preload.
    fn add_named_files(
        &mut self,
        dir: PathBuf,
        pkg: DirPackage,
        err: Option<gobuild::DirError>,
    ) -> Vec<(String, Importer)> {
        let data = dir_data(pkg, err);
        let mut roots: Vec<(String, Importer)> = data
            .pkg
            .imports
            .iter()
            .filter(|i| *i != "C")
            .map(|i| (i.clone(), Importer::Module))
            .collect();
        for i in self.implicit_imports(cmdfiles::IMPORT_PATH, false, &data.pkg) {
            roots.push((i.to_string(), Importer::Module));
        }
        let path = cmdfiles::IMPORT_PATH.to_string();
        self.resolved.insert(
            (path.clone(), Importer::Module),
            Resolved {
                path: path.clone(),
                dir: Some(dir.clone()),
                // The plan's root for its files: the directory itself.
                root: dir,
                module: None,
                standard: false,
                err: None,
                invalid: false,
                missing_sum: false,
            },
        );
        self.dirs.insert(path, data);
        roots
    }

    /// Phase 2: resolve and read everything reachable from `roots`, in parallel waves.
    pub(super) fn preload(&mut self, roots: &[(String, Importer)]) {
        let mut frontier: Vec<(String, Importer)> = roots.to_vec();
        while !frontier.is_empty() {
            frontier.sort_by(|a, b| a.0.cmp(&b.0));
            frontier.dedup();
            frontier.retain(|k| !self.resolved.contains_key(k));
            let this = &*self;
            let resolved: Vec<((String, Importer), Resolved)> = frontier
                .par_iter()
                .map(|(p, i)| ((p.clone(), *i), this.resolve_uncached(p, *i)))
                .collect();
            // Each canonical package is read once, whichever importer reached it.
            let mut to_read: Vec<(String, PathBuf, bool)> = Vec::new();
            let mut queued: HashSet<String> = HashSet::new();
            for (k, r) in resolved {
                if let Some(d) = &r.dir {
                    if !self.dirs.contains_key(&r.path) && queued.insert(r.path.clone()) {
                        to_read.push((r.path.clone(), d.clone(), r.standard));
                    }
                }
                self.resolved.insert(k, r);
            }
            let this = &*self;
            let read: Vec<(String, bool, DirData)> = to_read
                .par_iter()
                .map(|(p, d, std)| (p.clone(), *std, this.read_dir(d)))
                .collect();
            let mut next = Vec::new();
            for (path, standard, data) in read {
                let imp = importer_of(&path, standard);
                for i in &data.pkg.imports {
                    if i != "C" {
                        next.push((i.clone(), imp));
                    }
                }
                for i in self.implicit_imports(&path, standard, &data.pkg) {
                    next.push((i.to_string(), imp));
                }
                self.dirs.insert(path, data);
            }
            frontier = next;
        }
    }

    /// The "all" pattern (Go ≥ 1.16): the main modules' packages, the imports of
    /// their tests, and everything those import. Runs after `preload` of `mains`.
    fn expand_all(&mut self, mains: &[String]) -> Vec<String> {
        let mut roots: Vec<(String, Importer)> = mains
            .iter()
            .map(|p| (p.clone(), Importer::Module))
            .collect();
        for p in mains {
            let Some(canon) = self
                .resolved
                .get(&(p.clone(), Importer::Module))
                .map(|r| r.path.clone())
            else {
                continue;
            };
            if let Some(d) = self.dirs.get(&canon) {
                for t in d.pkg.test_imports.iter().chain(&d.pkg.xtest_imports) {
                    if t != "C" {
                        roots.push((t.clone(), Importer::Module));
                    }
                }
            }
        }
        self.preload(&roots);
        let mut seen: HashSet<String> = HashSet::new();
        let mut members: Vec<String> = Vec::new();
        let mut queue: Vec<(String, Importer)> = roots;
        while let Some(k) = queue.pop() {
            let Some(r) = self.resolved.get(&k) else {
                continue;
            };
            if !seen.insert(r.path.clone()) {
                continue;
            }
            // Packages that do not resolve, or have no files for this target, are
            // reached through their importers but are not members of "all".
            let excluded = match self.dirs.get(&r.path) {
                Some(d) => {
                    matches!(d.err, Some(DirFail::NoGo)) && d.pkg.invalid_go_files.is_empty()
                }
                None => r.invalid,
            };
            if !excluded {
                members.push(r.path.clone());
            }
            if let Some(d) = self.dirs.get(&r.path) {
                let imp = importer_of(&r.path, r.standard);
                for i in d.pkg.imports.iter().filter(|i| *i != "C") {
                    queue.push((i.clone(), imp));
                }
                for i in self.implicit_imports(&r.path, r.standard, &d.pkg) {
                    queue.push((i.to_string(), imp));
                }
            }
        }
        members.sort();
        members
    }

    /// Imports the build adds beyond the source's, in cmd/go's order: the
    /// simd bridge; cgo's `unsafe`, `runtime/cgo` and `syscall` for a
    /// package with cgo files (or SWIG's, `sync` too, with SWIG files),
    /// except where std would import itself; the linker's (runtime, …,
    /// runtime/cgo when it links externally, runtime/coverage with -cover)
    /// for main packages.
    fn implicit_imports(&self, path: &str, standard: bool, p: &DirPackage) -> Vec<&'static str> {
        let mut v = Vec::new();
        let add = |v: &mut Vec<&'static str>, i: &'static str| {
            if !v.contains(&i) {
                v.push(i);
            }
        };
        let arch = self.ctx.goarch.as_str();
        if matches!(arch, "wasm" | "amd64" | "arm64") && p.imports.iter().any(|i| i == "simd") {
            add(&mut v, SIMD_BRIDGE);
        }
        if !p.cgo_files.is_empty() {
            add(&mut v, "unsafe");
            if !(standard && path == "runtime/cgo") {
                add(&mut v, "runtime/cgo");
            }
            let no_syscall = [
                "runtime/cgo",
                "runtime/race",
                "runtime/msan",
                "runtime/asan",
            ];
            if !(standard && no_syscall.contains(&path)) {
                add(&mut v, "syscall");
            }
        }
        if !p.swig_files.is_empty() || !p.swig_cxx_files.is_empty() {
            for i in ["unsafe", "runtime/cgo", "syscall", "sync"] {
                add(&mut v, i);
            }
        }
        if p.name == "main" {
            add(&mut v, "runtime");
            if self.ctx.cgo_enabled && self.cfg.build_mode.external_linking_reason().is_some() {
                add(&mut v, "runtime/cgo");
            }
            if arch == "arm" {
                add(&mut v, "math");
            }
            if self.cfg.cover.is_some() {
                add(&mut v, "runtime/coverage");
            }
        }
        v
    }
}

/// A directory's classification and its error, as the walk reports it.
fn dir_data(pkg: DirPackage, err: Option<gobuild::DirError>) -> DirData {
    let err = err.map(|e| match e {
        gobuild::DirError::NoGoFiles { .. } | gobuild::DirError::ConstraintsExcludeAll { .. } => {
            DirFail::NoGo
        }
        // A syntax error is reported at its position, like a scanner.ErrorList.
        gobuild::DirError::BadFile(gobuild::FileError {
            kind: gobuild::FileErrorKind::Scan(gobuild::ScanError::Syntax { path, errors }),
            ..
        }) if !errors.is_empty() && !errors[0].msg.starts_with("invalid import path") => {
            DirFail::Scan {
                file: path.to_string_lossy().into_owned(),
                line: errors[0].pos.line,
                col: errors[0].pos.col,
                msg: errors[0].msg.clone(),
            }
        }
        other => DirFail::Other(other.to_string()),
    });
    DirData {
        pkg: Arc::new(pkg),
        err,
    }
}

const SIMD_BRIDGE: &str = "simd/internal/bridge";

/// cmd/go's refusal of C, C++, Objective-C and Fortran sources in a package
/// that neither uses cgo nor SWIG (with cgo off, the C-side lists are
/// already empty, but Fortran's is not).
fn foreign_sources_error(f: &DirPackage) -> Option<String> {
    if !f.cgo_files.is_empty() || !f.swig_files.is_empty() || !f.swig_cxx_files.is_empty() {
        return None;
    }
    [
        ("C", &f.c_files),
        ("C++", &f.cxx_files),
        ("Objective-C", &f.m_files),
        ("Fortran", &f.f_files),
    ]
    .into_iter()
    .find(|(_, files)| !files.is_empty())
    .map(|(what, files)| {
        format!(
            "{what} source files not allowed when not using cgo or SWIG: {}",
            files.join(" ")
        )
    })
}

/// Renders a module resolution error the way cmd/go words it.
fn mod_import_message(e: &ModImportError) -> String {
    e.to_string()
}

/// module.CheckImportPath, reduced to the checks that matter for reading.
fn check_import_path(path: &str) -> Option<String> {
    if path.is_empty() {
        return Some("empty string".into());
    }
    for elem in path.split('/') {
        if elem.is_empty() {
            return Some("double slash".into());
        }
        if elem.starts_with('.') && elem != "." {
            return Some("leading dot in path element".into());
        }
        if elem.ends_with('.') {
            return Some("trailing dot in path element".into());
        }
    }
    for c in path.chars() {
        let ok = c.is_ascii_alphanumeric()
            || "-._~+/".contains(c)
            || (!c.is_ascii() && c.is_alphanumeric());
        if !ok {
            return Some(format!("invalid char {c:?}"));
        }
    }
    None
}

/// One frame of the import stack.
#[derive(Clone)]
struct Frame {
    pkg: String,
    /// Base name of the importing file, for cycle messages.
    from: Option<String>,
}

/// Where an import is written: shown relative to the cwd, and the file's base name.
#[derive(Clone, Debug)]
struct ImportAt {
    shown: String,
    file_base: String,
}

fn frame(pkg: &str, at: Option<&ImportAt>) -> Frame {
    Frame {
        pkg: pkg.to_string(),
        from: at.map(|a| a.file_base.clone()),
    }
}

/// Phase 3 state: the depth-first walk that mirrors cmd/go's loadImport/load.
struct Walk<'l, 'a> {
    ld: &'l Loader<'a>,
    cwd: PathBuf,
    packages: Vec<Package>,
    errors: Vec<PackageError>,
    by_path: HashMap<String, PkgId>,
    /// Packages whose load has not returned yet (cycle detection).
    in_progress: HashSet<PkgId>,
    stk: Vec<Frame>,
    empty: Arc<DirPackage>,
}

impl Walk<'_, '_> {
    fn new_error(&mut self, e: PackageError) -> ErrId {
        self.errors.push(e);
        ErrId(self.errors.len() as u32 - 1)
    }

    fn stack(&self) -> Vec<String> {
        self.stk.iter().map(|f| f.pkg.clone()).collect()
    }

    fn short_pos(&self, p: &Path, line: u32, col: u32) -> String {
        format!("{}:{line}:{col}", short_path(&self.cwd, p).display())
    }

    fn stack_with_pos(&self) -> Vec<String> {
        self.stk
            .iter()
            .map(|f| match &f.from {
                Some(file) => format!("{} from {file}", f.pkg),
                None => f.pkg.clone(),
            })
            .collect()
    }

    fn import_pos(&self, parent: Option<PkgId>, path: &str) -> Option<ImportAt> {
        let parent = parent?;
        let p = &self.packages[parent.0 as usize];
        let pos = p.files.import_pos.get(path)?.first()?;
        Some(ImportAt {
            shown: self.short_pos(&pos.file, pos.pos.line, pos.pos.col),
            file_base: pos
                .file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        })
    }

    /// cmd/go's loadImport: returns the package and, separately, an error that
    /// belongs to the importer (internal/vendor visibility, importing a program).
    fn load_import(&mut self, path: &str, parent: Option<PkgId>) -> (PkgId, Option<PackageError>) {
        let importer = match parent {
            None => Importer::Module,
            Some(p) => {
                let pk = &self.packages[p.0 as usize];
                importer_of(&pk.import_path, pk.standard)
            }
        };
        let import_pos = self.import_pos(parent, path);
        let r = self
            .ld
            .resolved
            .get(&(path.to_string(), importer))
            .cloned()
            .unwrap_or_else(|| self.ld.resolve_uncached(path, importer));

        let id = if let Some(&id) = self.by_path.get(&r.path) {
            self.stk.push(frame(path, import_pos.as_ref()));
            self.reuse(id);
            self.stk.pop();
            id
        } else {
            let id = PkgId(self.packages.len() as u32);
            self.packages.push(self.skeleton(&r));
            self.by_path.insert(r.path.clone(), id);
            self.load(id, path, &r, import_pos.as_ref());
            id
        };

        let Some(parent) = parent else {
            return (id, None);
        };
        let mk = |w: &Self, err: String| PackageError {
            import_stack: w.stack(),
            pos: import_pos
                .as_ref()
                .map(|a| a.shown.clone())
                .unwrap_or_default(),
            always_print_stack: err.starts_with("use of internal package"),
            err,
            is_import_cycle: false,
            stack_with_pos: Vec::new(),
        };
        let p = &self.packages[id.0 as usize];
        let importer_pkg = &self.packages[parent.0 as usize];
        if let Some(e) = self.disallow_internal(importer_pkg, p, path) {
            return (id, Some(mk(self, e)));
        }
        if let Some(e) = disallow_vendor(&importer_pkg.dir, path, p) {
            return (id, Some(mk(self, e)));
        }
        if p.name == "main" && importer_pkg.dir != p.dir {
            let e = format!("import {path:?} is a program, not an importable package");
            return (id, Some(mk(self, e)));
        }
        // Relative imports are never allowed from a package named by import path.
        if is_local_import(path) {
            let e = if path == "." {
                format!("{path}: cannot import current directory")
            } else {
                format!("local import {path:?} in non-local package")
            };
            return (id, Some(mk(self, e)));
        }
        (id, None)
    }

    fn skeleton(&self, r: &Resolved) -> Package {
        let module = r
            .module
            .as_ref()
            .map(|m| module_info(self.ld.mods, m, &r.root));
        Package {
            // Only add_named_files gives this path a directory (as a std
            // path it has none).
            cmdline_files: r.path == cmdfiles::IMPORT_PATH && r.dir.is_some(),
            import_path: r.path.clone(),
            dir: r.dir.clone().unwrap_or_default(),
            root: if r.standard {
                self.ld.cfg.toolchain.goroot.clone()
            } else {
                r.root.clone()
            },
            name: String::new(),
            goroot: r.standard,
            standard: r.standard,
            module,
            files: self.empty.clone(),
            imports: Vec::new(),
            raw_imports: Vec::new(),
            test_imports: Vec::new(),
            xtest_imports: Vec::new(),
            internal_imports: Vec::new(),
            embed_files: Vec::new(),
            embed_map: BTreeMap::new(),
            error: None,
            deps_errors: Vec::new(),
            deps: Vec::new(),
            incomplete: false,
            matched: Vec::new(),
            cmdline: false,
            for_main: None,
            pgo_profile: None,
        }
    }

    fn reuse(&mut self, id: PkgId) {
        let stack = self.stack();
        let with_pos = self.stack_with_pos();
        let in_progress = self.in_progress.contains(&id);
        let p = &mut self.packages[id.0 as usize];
        if in_progress {
            match p.error {
                None => {
                    let e = PackageError {
                        import_stack: stack.clone(),
                        pos: String::new(),
                        err: "import cycle not allowed".into(),
                        is_import_cycle: true,
                        stack_with_pos: with_pos,
                        always_print_stack: false,
                    };
                    self.errors.push(e);
                    p.error = Some(ErrId(self.errors.len() as u32 - 1));
                }
                Some(e) => {
                    let err = &mut self.errors[e.0 as usize];
                    err.is_import_cycle = true;
                    if err.stack_with_pos.is_empty() {
                        err.stack_with_pos = with_pos;
                    }
                }
            }
            p.incomplete = true;
        }
        if let Some(e) = p.error {
            let err = &mut self.errors[e.0 as usize];
            if !err.import_stack.is_empty()
                && !err.is_import_cycle
                && shorter_than(&stack, &err.import_stack)
            {
                err.import_stack = stack;
            }
        }
    }

    /// cmd/go's Package.load.
    fn load(&mut self, id: PkgId, path: &str, r: &Resolved, import_pos: Option<&ImportAt>) {
        self.in_progress.insert(id);
        let data = self.ld.dirs.get(&r.path);
        if let Some(d) = data {
            let p = &mut self.packages[id.0 as usize];
            p.files = d.pkg.clone();
            if !self.ld.ctx.cgo_enabled {
                // cmd/go drops the sources only cgo or SWIG builds, as it
                // ignores the files that import "C" (.s, .h, .syso stay:
                // the assembler and linker take them).
                let f = Arc::make_mut(&mut p.files);
                for list in [
                    &mut f.c_files,
                    &mut f.cxx_files,
                    &mut f.m_files,
                    &mut f.swig_files,
                    &mut f.swig_cxx_files,
                ] {
                    list.clear();
                }
            }
            p.name = d.pkg.name.clone();
            p.raw_imports = d
                .pkg
                .imports
                .iter()
                .filter(|i| *i != "C")
                .cloned()
                .collect();
            p.raw_imports = d.pkg.imports.clone();
            p.imports = p.raw_imports.clone();
            // cmd/go's list resolves test imports for display only (Package.Resolve):
            // a std importer sees GOROOT/src/vendor.
            let show = |imports: &[String]| -> Vec<String> {
                let mut v: Vec<String> = if r.standard {
                    let importer = importer_of(path, true);
                    imports
                        .iter()
                        .map(|t| self.ld.std_vendor(importer, t))
                        .collect()
                } else {
                    imports.to_vec()
                };
                v.sort();
                v.dedup();
                v
            };
            let (t, x) = (show(&d.pkg.test_imports), show(&d.pkg.xtest_imports));
            let p = &mut self.packages[id.0 as usize];
            p.test_imports = t;
            p.xtest_imports = x;
        }
        // The directory-level error: resolution first, then go/build's.
        let fail = match (&r.err, data.and_then(|d| d.err.clone())) {
            (_, Some(f)) => Some(f),
            (Some(_), None) if r.missing_sum && !self.stk.is_empty() => {
                // cmd/go names the importer and suggests `go get` of it.
                let importer = &self.stk[self.stk.len() - 1].pkg;
                Some(DirFail::Other(format!(
                    "missing go.sum entry for module providing package {} (imported by {importer}); to add:\n\tgo get {importer}",
                    r.path
                )))
            }
            (Some(e), None) => Some(DirFail::Other(e.clone())),
            (None, None) => None,
        };
        if let Some(f) = fail {
            self.set_load_data_error(id, path, f, import_pos);
        }

        // Linker dependencies of a main package may themselves be an error.
        let mut import_list: Vec<String> = self.packages[id.0 as usize].raw_imports.clone();
        if data.is_some() {
            let p = &self.packages[id.0 as usize];
            let extra = self.ld.implicit_imports(path, p.standard, &p.files.clone());
            let p = &self.packages[id.0 as usize];
            if p.name == "main" {
                if let Some(what) = self.ld.cfg.build_mode.external_linking_reason() {
                    if !self.ld.ctx.cgo_enabled {
                        let e = format!(
                            "{what} requires external (cgo) linking, but cgo is not enabled"
                        );
                        self.set_error(id, path, e, None, import_pos);
                        self.in_progress.remove(&id);
                        return;
                    }
                }
            }
            for x in extra {
                if !import_list.iter().any(|i| i == x) {
                    import_list.push(x.to_string());
                }
            }
        }

        self.stk.push(frame(path, import_pos));

        // Embeds.
        let patterns = self.packages[id.0 as usize].files.embed_patterns.clone();
        if !patterns.is_empty() && data.is_some() {
            let dir = self.packages[id.0 as usize].dir.clone();
            match embed::resolve_embed(&self.ld.ctx.files, &dir, &patterns) {
                Ok(res) => {
                    let p = &mut self.packages[id.0 as usize];
                    p.embed_files = res.files;
                    p.embed_map = res.pattern_files;
                }
                Err(e) => {
                    let pos = self.packages[id.0 as usize]
                        .files
                        .embed_pattern_pos
                        .get(&e.pattern)
                        .and_then(|v| v.first())
                        .map(|p| self.short_pos(&p.file, p.pos.line, p.pos.col));
                    self.set_error(id, path, e.to_string(), pos, None);
                }
            }
        }

        let n_raw = self.packages[id.0 as usize].raw_imports.len();
        let mut internal = Vec::with_capacity(import_list.len());
        for (i, imp) in import_list.iter().enumerate() {
            if imp == "C" {
                continue;
            }
            let (p1, err) = self.load_import(imp, Some(id));
            if let Some(e) = err {
                if self.packages[id.0 as usize].error.is_none() {
                    let eid = self.new_error(e);
                    let p = &mut self.packages[id.0 as usize];
                    p.error = Some(eid);
                    p.incomplete = true;
                }
            }
            let resolved = self.packages[p1.0 as usize].import_path.clone();
            let inc = self.packages[p1.0 as usize].incomplete;
            let p = &mut self.packages[id.0 as usize];
            if i < n_raw {
                p.imports[i] = resolved;
            }
            if inc {
                p.incomplete = true;
            }
            internal.push(p1);
        }
        if let Some(e) = foreign_sources_error(&self.packages[id.0 as usize].files) {
            self.set_error(id, path, e, None, None);
        }
        self.stk.pop();
        self.packages[id.0 as usize].internal_imports = internal;
        self.in_progress.remove(&id);
    }

    /// setError: the first error wins; positions only when the error sits on the importer side.
    fn set_error(
        &mut self,
        id: PkgId,
        path: &str,
        err: String,
        pos: Option<String>,
        import_pos: Option<&ImportAt>,
    ) {
        if self.packages[id.0 as usize].error.is_some() {
            return;
        }
        let top_is_self = self.stk.last().is_some_and(|f| f.pkg == path);
        let pos = match (pos, import_pos) {
            (Some(p), _) => p,
            (None, Some(ip)) if !self.stk.is_empty() && !top_is_self => ip.shown.clone(),
            _ => String::new(),
        };
        let e = PackageError {
            import_stack: self.stack(),
            pos,
            err,
            is_import_cycle: false,
            stack_with_pos: Vec::new(),
            always_print_stack: false,
        };
        let eid = self.new_error(e);
        let p = &mut self.packages[id.0 as usize];
        p.error = Some(eid);
        p.incomplete = true;
    }

    /// setLoadPackageDataError: NoGo and scan errors are the package's own (the
    /// package is pushed on the stack); other errors sit at the importer's import.
    fn set_load_data_error(
        &mut self,
        id: PkgId,
        path: &str,
        f: DirFail,
        import_pos: Option<&ImportAt>,
    ) {
        let (msg, pos, push) = match f {
            DirFail::NoGo => {
                let p = &self.packages[id.0 as usize];
                let dir = p.dir.display();
                let m = if !p.files.ignored_go_files.is_empty() {
                    format!("build constraints exclude all Go files in {dir}")
                } else if !p.files.test_go_files.is_empty() || !p.files.xtest_go_files.is_empty() {
                    format!("no non-test Go files in {dir}")
                } else {
                    format!("no Go files in {dir}")
                };
                (m, String::new(), true)
            }
            DirFail::Scan {
                file,
                line,
                col,
                msg,
            } => (msg, self.short_pos(Path::new(&file), line, col), true),
            DirFail::Other(m) => (m, String::new(), false),
        };
        if push {
            self.stk.push(frame(path, import_pos));
        }
        let top_is_self = self.stk.last().is_some_and(|f| f.pkg == path);
        let pos = if !pos.is_empty() {
            pos
        } else if !self.stk.is_empty() && !top_is_self {
            import_pos.map(|a| a.shown.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        let e = PackageError {
            import_stack: self.stack(),
            pos,
            err: msg,
            is_import_cycle: false,
            stack_with_pos: Vec::new(),
            always_print_stack: false,
        };
        if push {
            self.stk.pop();
        }
        let eid = self.new_error(e);
        let p = &mut self.packages[id.0 as usize];
        p.error = Some(eid);
        p.incomplete = true;
    }

    /// A command-line package that stands for an error (go's synthetic package).
    fn synthetic_error(&mut self, path: &str, dir: Option<PathBuf>, err: String) -> PkgId {
        let id = PkgId(self.packages.len() as u32);
        let eid = self.new_error(PackageError {
            import_stack: Vec::new(),
            pos: String::new(),
            err,
            is_import_cycle: false,
            stack_with_pos: Vec::new(),
            always_print_stack: false,
        });
        let mut pk = self.skeleton(&Resolved {
            path: path.to_string(),
            dir,
            root: PathBuf::new(),
            module: None,
            standard: false,
            err: None,
            invalid: false,
            missing_sum: false,
        });
        pk.error = Some(eid);
        pk.incomplete = true;
        pk.cmdline = true;
        self.packages.push(pk);
        id
    }

    /// The internal-package rule (golang.org/s/go14internal).
    fn disallow_internal(&self, importer: &Package, p: &Package, _path: &str) -> Option<String> {
        if p.error.is_some() {
            return None;
        }
        let ip = &p.import_path;
        let i = find_internal(ip)?;
        let i = i.saturating_sub(1);
        // Named files import as their directory's package would
        // ("." outside the main modules, which no import path is below).
        let dir_path;
        let importer_path = if importer.cmdline_files {
            dir_path = self.ld.mods.dir_import_path(&importer.dir);
            &dir_path
        } else {
            &importer.import_path
        };
        let denied = || Some(format!("use of internal package {ip} not allowed"));
        if has_path_prefix(importer_path, "crypto")
            && has_path_prefix(ip, "crypto/internal/fips140")
        {
            return None;
        }
        if has_path_prefix(importer_path, "crypto/internal/fips140") {
            return if has_path_prefix(ip, "crypto/internal") {
                None
            } else {
                denied()
            };
        }
        if p.module.is_none() {
            let dir = p.dir.to_string_lossy();
            let cut = (i + dir.len()).checked_sub(ip.len())?;
            let parent = Path::new(&dir[..cut.min(dir.len())]);
            if importer.dir.starts_with(parent) {
                return None;
            }
            denied()
        } else if has_path_prefix(importer_path, &ip[..i]) {
            None
        } else {
            denied()
        }
    }
}

/// cmd/go's base.ShortPath: `p` relative to `cwd` (`../` included) when
/// that is shorter, computed lexically (go also checks that both name the
/// same file, which differs only under a symlinked cwd).
fn short_path(cwd: &Path, p: &Path) -> PathBuf {
    if !p.is_absolute() {
        return p.to_path_buf();
    }
    let (pc, cc): (Vec<_>, Vec<_>) = (p.components().collect(), cwd.components().collect());
    let common = pc.iter().zip(&cc).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in common..cc.len() {
        rel.push("..");
    }
    for c in &pc[common..] {
        rel.push(c);
    }
    if rel.as_os_str().is_empty() {
        rel.push(".");
    }
    if rel.as_os_str().len() < p.as_os_str().len() {
        rel
    } else {
        p.to_path_buf()
    }
}

fn is_local_import(p: &str) -> bool {
    p == "." || p == ".." || p.starts_with("./") || p.starts_with("../")
}

fn shorter_than(s: &[String], t: &[String]) -> bool {
    if s.len() != t.len() {
        return s.len() < t.len();
    }
    for (a, b) in s.iter().zip(t) {
        if a != b {
            return a < b;
        }
    }
    false
}

/// Index of the final "internal" element of an import path.
fn find_internal(path: &str) -> Option<usize> {
    if path.ends_with("/internal") {
        Some(path.len() - "internal".len())
    } else if let Some(i) = path.rfind("/internal/") {
        Some(i + 1)
    } else if path == "internal" || path.starts_with("internal/") {
        Some(0)
    } else {
        None
    }
}

/// Index of the last non-terminal "vendor" element.
fn find_vendor(path: &str) -> Option<usize> {
    if let Some(i) = path.rfind("/vendor/") {
        Some(i + 1)
    } else if path.starts_with("vendor/") {
        Some(0)
    } else {
        None
    }
}

fn disallow_vendor(importer_dir: &Path, path: &str, p: &Package) -> Option<String> {
    if let Some(i) = find_vendor(&p.import_path) {
        let i = i.saturating_sub(1);
        let dir = p.dir.to_string_lossy();
        if let Some(cut) = (i + dir.len()).checked_sub(p.import_path.len()) {
            if cut <= dir.len() && !importer_dir.starts_with(Path::new(&dir[..cut])) {
                return Some("use of vendored package not allowed".into());
            }
        }
    }
    if let Some(i) = find_vendor(path) {
        return Some(format!(
            "{path} must be imported as {}",
            &path[i + "vendor/".len()..]
        ));
    }
    None
}

fn module_info(mods: &ModuleContext, m: &ModuleRef, root: &Path) -> ModuleInfo {
    match m {
        ModuleRef::Main(i) => main_module_info(mods, *i),
        ModuleRef::Dep(path) => match mods.deps.get(path) {
            Some(dep) => dep_module_info(mods, dep, root),
            None => ModuleInfo {
                path: path.clone(),
                dir: root.to_path_buf(),
                ..ModuleInfo::default()
            },
        },
    }
}

/// A main module as `go list` reports it.
pub fn main_module_info(mods: &ModuleContext, i: usize) -> ModuleInfo {
    let mm = &mods.mains[i];
    ModuleInfo {
        path: mm.path.clone(),
        main: true,
        dir: mm.dir.clone(),
        gomod: Some(mm.gomod.clone()),
        go_version: mm.file.go.clone(),
        ..ModuleInfo::default()
    }
}

/// A dependency module as `go list` reports it, its files at `root`.
pub fn dep_module_info(mods: &ModuleContext, dep: &DepModule, root: &Path) -> ModuleInfo {
    let path = &dep.path;
    let vendored = mods.mode == super::modules::ModMode::Vendor;
    let meta = &dep.meta;
    // go.sum hashes (zip, go.mod) of a module version from the cache.
    let sums = |p: &str, v: &str| {
        if vendored {
            (None, None)
        } else {
            mods.sums(p, v)
        }
    };
    let replace = match &dep.source {
        ModSource::Cache => None,
        ModSource::LocalReplace { dir, written } => Some(ModuleInfo {
            path: written.clone(),
            dir: dir.clone(),
            gomod: Some(dir.join("go.mod")),
            go_version: meta.go_version.clone(),
            ..ModuleInfo::default()
        }),
        ModSource::ModuleReplace {
            path: rp,
            version: rv,
        } => {
            let (sum, gomod_sum) = sums(rp, rv);
            Some(ModuleInfo {
                path: rp.clone(),
                version: rv.clone(),
                time: (!vendored).then(|| meta.time.clone()).flatten(),
                dir: if vendored {
                    PathBuf::new()
                } else {
                    root.to_path_buf()
                },
                gomod: meta.gomod.clone(),
                go_version: meta.go_version.clone(),
                sum,
                gomod_sum,
                ..ModuleInfo::default()
            })
        }
    };
    let (sum, gomod_sum) = match replace {
        Some(_) => (None, None),
        None => sums(path, &dep.version),
    };
    ModuleInfo {
        path: path.clone(),
        version: dep.version.clone(),
        main: false,
        dir: root.to_path_buf(),
        gomod: if vendored {
            None
        } else {
            replace
                .as_ref()
                .map_or(meta.gomod.clone(), |r| r.gomod.clone())
        },
        go_version: meta.go_version.clone(),
        time: match (&replace, vendored) {
            (None, false) => meta.time.clone(),
            _ => None,
        },
        indirect: meta.indirect,
        sum,
        gomod_sum,
        replace: replace.map(Box::new),
        vendored,
    }
}

/// Loads the packages named by `patterns`: the whole pipeline.
pub(super) fn load_packages(
    cfg: &LoadConfig,
    ctx: &BuildContext,
    mods: &ModuleContext,
    pattern_args: &[String],
) -> Result<PackageGraph, LoadError> {
    let cwd = &cfg.modules.cwd;
    // Go files named on the command line are one package; patterns are not
    // expanded then (cmd/go's PackagesAndErrors).
    let named = if cmdfiles::are_files(&ctx.files, cwd, pattern_args) {
        Some(cmdfiles::import(ctx, cwd, pattern_args)?)
    } else {
        None
    };
    let mut matches: Vec<Match> = match &named {
        None => patterns::expand(cfg, ctx, mods, pattern_args)?,
        Some(NamedFiles::NotGo(_)) => Vec::new(),
        Some(NamedFiles::Package { .. }) => vec![Match {
            pattern: cmdfiles::IMPORT_PATH.into(),
            pkgs: vec![cmdfiles::IMPORT_PATH.into()],
            error: None,
            error_dir: None,
        }],
    };
    let mut ld = Loader::new(cfg, ctx, mods);
    let mut roots: Vec<(String, Importer)> = matches
        .iter()
        .flat_map(|m| m.pkgs.iter().map(|p| (p.clone(), Importer::Module)))
        .collect();
    let not_go = match named {
        Some(NamedFiles::Package { dir, pkg, err }) => {
            roots.extend(ld.add_named_files(dir, *pkg, err));
            None
        }
        Some(NamedFiles::NotGo(arg)) => Some(arg),
        None => None,
    };
    ld.preload(&roots);
    for m in matches.iter_mut().filter(|m| m.pattern == "all") {
        m.pkgs = ld.expand_all(&m.pkgs);
    }

    let mut w = Walk {
        ld: &ld,
        cwd: cfg.modules.cwd.clone(),
        packages: Vec::new(),
        errors: Vec::new(),
        by_path: HashMap::new(),
        in_progress: HashSet::new(),
        stk: Vec::new(),
        empty: Arc::new(DirPackage::default()),
    };
    let mut roots_out: Vec<PkgId> = Vec::new();
    for m in &matches {
        for p in &m.pkgs {
            let (id, _) = w.load_import(p, None);
            let pk = &mut w.packages[id.0 as usize];
            pk.matched.push(m.pattern.clone());
            pk.cmdline = true;
            if !roots_out.contains(&id) {
                roots_out.push(id);
            }
        }
        if let Some(err) = &m.error {
            // A pattern that failed to match is reported as a synthetic package.
            let id = w.synthetic_error(&m.pattern, m.error_dir.clone(), err.clone());
            w.packages[id.0 as usize].matched.push(m.pattern.clone());
            roots_out.push(id);
        }
    }
    for &id in &roots_out {
        let p = &mut w.packages[id.0 as usize];
        if p.cmdline_files {
            // go's Match for named files: the arguments as written.
            p.matched = pattern_args.to_vec();
        }
    }
    if let Some(arg) = not_go {
        // cmd/go's package for it has a name and an error, no import path.
        let err = format!("named files must be .go files: {arg}");
        let id = w.synthetic_error("", None, err);
        w.packages[id.0 as usize].name = arg;
        roots_out.push(id);
    }
    let mut g = PackageGraph {
        packages: w.packages,
        errors: w.errors,
        roots: roots_out,
        reads: BTreeSet::new(),
        overlay: cfg.overlay.clone(),
    };
    vendored_std_roots(&mut g);
    match &cfg.pgo {
        super::Pgo::Auto => split_pgo(&mut g, &ctx.files),
        // cmd/go's setPGOProfilePath: every package, no variants.
        super::Pgo::File(profile) => {
            for p in &mut g.packages {
                p.pgo_profile = Some(profile.clone());
            }
        }
        super::Pgo::Off => {}
    }
    compute_deps(&mut g);
    g.reads = ctx.files.reads();
    Ok(g)
}

/// cmd/go's loadPackageData sets a package's Root from the module providing the
/// import path *as written*. For a package std vendors (`vendor/P`, imported as
/// `P`), that is P's module when the build also loads P itself from a module:
/// go then reports that module's directory as the vendored copy's Root. Only
/// what `go list` shows changes; the package still builds from GOROOT.
fn vendored_std_roots(g: &mut PackageGraph) {
    let from_modules: HashMap<&str, &ModuleInfo> = g
        .packages
        .iter()
        .filter(|p| !p.standard)
        .filter_map(|p| Some((p.import_path.as_str(), p.module.as_ref()?)))
        .collect();
    let mut roots: Vec<(usize, PathBuf)> = Vec::new();
    for (i, p) in g.packages.iter().enumerate() {
        if !p.standard {
            continue;
        }
        let written = p
            .import_path
            .strip_prefix("vendor/")
            .or_else(|| p.import_path.strip_prefix("cmd/vendor/"));
        if let Some(m) = written.and_then(|w| from_modules.get(w)) {
            let dir = if m.vendored {
                PathBuf::new()
            } else {
                m.dir.clone()
            };
            roots.push((i, dir));
        }
    }
    for (i, dir) in roots {
        g.packages[i].root = dir;
    }
}

/// -pgo=auto: a main package with `default.pgo` gets its own copy of its
/// dependency graph when several packages are built (cmd/go's setPGOProfilePath).
fn split_pgo(g: &mut PackageGraph, files: &Files) {
    let several = g.roots.len() > 1;
    let roots = g.roots.clone();
    for &main in &roots {
        let p = g.pkg(main);
        if p.name != "main" {
            continue;
        }
        let profile = p.dir.join("default.pgo");
        if !files.exists(&profile) {
            continue;
        }
        let main_path = p.import_path.clone();
        let mut visited: HashMap<PkgId, PkgId> = HashMap::new();
        // Iterative version of cmd/go's recursive split, preserving its order.
        fn split(
            g: &mut PackageGraph,
            id: PkgId,
            main: PkgId,
            main_path: &str,
            several: bool,
            profile: &Path,
            visited: &mut HashMap<PkgId, PkgId>,
        ) -> PkgId {
            if let Some(&v) = visited.get(&id) {
                return v;
            }
            let target = if several && id != main {
                let mut copy = g.pkg(id).clone();
                copy.for_main = Some(main_path.to_string());
                // go copies the whole package (Match included); only cmdline
                // membership, hence DepOnly, stays with the original.
                copy.cmdline = false;
                g.packages.push(copy);
                PkgId(g.packages.len() as u32 - 1)
            } else {
                id
            };
            visited.insert(id, target);
            g.packages[target.0 as usize].pgo_profile = Some(profile.to_path_buf());
            let imps = g.packages[target.0 as usize].internal_imports.clone();
            let mut new_imps = Vec::with_capacity(imps.len());
            for c in imps {
                new_imps.push(split(g, c, main, main_path, several, profile, visited));
            }
            g.packages[target.0 as usize].internal_imports = new_imps;
            target
        }
        split(g, main, main, &main_path, several, &profile, &mut visited);
    }
    if !several {
        return;
    }
    // Rename variants to `path [main]` and rewrite importers' Imports.
    let mut renamed: HashMap<PkgId, String> = HashMap::new();
    for (i, p) in g.packages.iter_mut().enumerate() {
        if let Some(m) = &p.for_main {
            p.import_path = format!("{} [{}]", p.import_path, m);
            renamed.insert(PkgId(i as u32), p.import_path.clone());
        }
    }
    for i in 0..g.packages.len() {
        let imps = g.packages[i].internal_imports.clone();
        let mut m: HashMap<String, String> = HashMap::new();
        for c in imps {
            if let Some(new) = renamed.get(&c) {
                let old = new
                    .rsplit_once(" [")
                    .map(|(a, _)| a.to_string())
                    .unwrap_or_default();
                m.insert(old, new.clone());
            }
        }
        for imp in &mut g.packages[i].imports {
            if let Some(n) = m.get(imp) {
                *imp = n.clone();
            }
        }
    }
}

/// Deps and DepsErrors, computed in post-order (cmd/go's collectDeps/collectDepsErrors).
fn compute_deps(g: &mut PackageGraph) {
    let order = g.post_order(&g.roots.clone());
    for id in order {
        let imps = g.pkg(id).internal_imports.clone();
        let mut deps: HashSet<String> = HashSet::new();
        let mut errs: HashSet<ErrId> = HashSet::new();
        for c in &imps {
            let cp = g.pkg(*c);
            deps.insert(cp.import_path.clone());
            deps.extend(cp.deps.iter().cloned());
            if let Some(e) = cp.error {
                errs.insert(e);
            }
            errs.extend(cp.deps_errors.iter().copied());
        }
        let mut deps: Vec<String> = deps.into_iter().collect();
        deps.sort();
        let mut errs: Vec<ErrId> = errs.into_iter().collect();
        let errors = &g.errors;
        errs.sort_by(|a, b| {
            let (ea, eb) = (&errors[a.0 as usize], &errors[b.0 as usize]);
            match (ea.import_stack.last(), eb.import_stack.last()) {
                (None, None) => ea.err.cmp(&eb.err),
                (None, Some(_)) => std::cmp::Ordering::Less,
                (Some(_), None) => std::cmp::Ordering::Greater,
                (Some(x), Some(y)) => x.cmp(y),
            }
        });
        let p = &mut g.packages[id.0 as usize];
        p.deps = deps;
        p.deps_errors = errs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_and_vendor_elements() {
        assert_eq!(find_internal("a/internal/b"), Some(2));
        assert_eq!(find_internal("a/internal"), Some(2));
        assert_eq!(find_internal("internal/x"), Some(0));
        assert_eq!(find_internal("a/b"), None);
        assert_eq!(find_vendor("vendor/x"), Some(0));
        assert_eq!(find_vendor("a/vendor/x"), Some(2));
        assert_eq!(find_vendor("a/vendor"), None);
    }

    #[test]
    fn short_paths_like_cmd_go() {
        let cwd = Path::new("/home/u/src/files/lib");
        let s = |p: &str| short_path(cwd, Path::new(p)).display().to_string();
        assert_eq!(s("/home/u/src/files/lib/a.go"), "a.go");
        assert_eq!(s("/home/u/src/files/main.go"), "../main.go");
        assert_eq!(s("/home/u/src/hello/main.go"), "../../hello/main.go");
        assert_eq!(s("/x.go"), "/x.go", "a longer relative path is not used");
    }

    #[test]
    fn shorter_stacks_win() {
        let a = vec!["x".to_string()];
        let b = vec!["x".to_string(), "y".to_string()];
        assert!(shorter_than(&a, &b));
        assert!(!shorter_than(&b, &a));
        assert!(shorter_than(&["a".to_string()], &["b".to_string()]));
    }
}
