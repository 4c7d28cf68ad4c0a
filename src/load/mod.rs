//! Package loading: from patterns to an immutable graph of packages, without running `go`.
//!
//! Submodules by phase: `gobuild` classifies one directory's files for the target
//! (build constraints, file names, the source header scan); `modfile`/`modhash`
//! read go.mod, go.work, modules.txt and go.sum and verify module hashes;
//! `modules` is the module context (main modules, vendor mode, build list);
//! `patterns` expands `std`, `./...` and friends; `cmdfiles` makes the
//! `command-line-arguments` package of Go files named on the command line;
//! `packages` resolves imports and builds the graph; `embed` resolves
//! `//go:embed` patterns to files. Every
//! one of them reads the file system only through `files`, which records
//! what the load read (`PackageGraph::reads`, what the no-op memo stamps).

pub mod buildmode;
pub mod cmdfiles;
pub mod embed;
pub mod files;
pub mod gobuild;
pub mod modfile;
pub mod modgraph;
pub mod modhash;
pub mod modules;
pub mod overlay;
pub mod packages;
pub mod patterns;

use crate::toolchain::Toolchain;

pub use buildmode::{BuildMode, BuildModeError, BuildModeFlags};
pub use packages::{ErrId, ModuleInfo, Package, PackageError, PackageGraph, PkgId};

/// Everything a load depends on, passed explicitly: no environment is read below here.
#[derive(Clone, Debug)]
pub struct LoadConfig {
    /// The Go toolchain whose std and cmd are loaded.
    pub toolchain: Toolchain,
    /// The target platform and tags.
    pub target: gobuild::TargetConfig,
    /// Module-mode inputs.
    pub modules: modules::ModuleConfig,
    /// `-pgo`: which profile each package is compiled with.
    pub pgo: Pgo,
    /// `-overlay`: the file system as the load sees it (cmd/go's fsys).
    pub overlay: Option<std::sync::Arc<overlay::Overlay>>,
    /// `-buildmode`, `-installsuffix`, `-linkshared` for the target.
    pub build_mode: BuildMode,
    /// `-cover`: main packages also link `runtime/coverage` (cmd/go's LinkerDeps).
    pub cover: Option<Cover>,
    /// What the environment says of the C toolchain (used when cgo is on).
    pub cgo: crate::cc::CgoEnv,
    /// CGO_ENABLED as go computes it (`config::cgo_enabled`): what `gob env`
    /// prints. Builds still use `target.cgo_enabled` (on only with
    /// CGO_ENABLED=1) until #15's cgo actions are complete.
    pub cgo_default: bool,
}

/// The `-pgo` flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pgo {
    /// `off`.
    Off,
    /// `auto`: main packages with a `default.pgo` get PGO variants of their deps.
    Auto,
    /// `-pgo=FILE`: every package is compiled with this profile (absolute,
    /// resolved against the current directory as cmd/go's `filepath.Abs`).
    File(std::path::PathBuf),
}

/// `-cover`, `-covermode`, `-coverpkg`: coverage instrumentation as `go build
/// -cover` plans it (which packages: `plan::cmdline`'s `cover_mode`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cover {
    /// `-covermode`.
    pub mode: CoverMode,
    /// `-coverpkg` patterns; empty: the main modules' packages and those
    /// named on the command line.
    pub pkgs: Vec<String>,
}

/// A `-covermode` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoverMode {
    /// Whether each block ran (the default without -race).
    Set,
    /// How many times each block ran.
    Count,
    /// `count`, safe with goroutines (sync/atomic counters).
    Atomic,
}

impl CoverMode {
    /// The mode named `s` (cmd/go's coverModeFlag), or None.
    pub fn parse(s: &str) -> Option<CoverMode> {
        match s {
            "set" => Some(CoverMode::Set),
            "count" => Some(CoverMode::Count),
            "atomic" => Some(CoverMode::Atomic),
            _ => None,
        }
    }

    /// Its name, as the cover tool takes it.
    pub fn name(self) -> &'static str {
        match self {
            CoverMode::Set => "set",
            CoverMode::Count => "count",
            CoverMode::Atomic => "atomic",
        }
    }
}

/// Errors that stop a load as a whole (per-package problems are [`PackageError`]s).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The target configuration is invalid (unknown GOOS, bad GOAMD64, …).
    #[error(transparent)]
    Context(#[from] gobuild::ContextError),
    /// go.mod, go.work or vendor/modules.txt is broken.
    #[error(transparent)]
    Modules(#[from] modules::ModContextError),
    /// Go files named on the command line cannot form a package (cmd/go
    /// stops with these words, unprefixed).
    #[error("{0}")]
    Files(String),
    /// A pattern cannot be expanded at all.
    #[error("pattern {pattern}: {msg}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// Why.
        msg: String,
    },
}

/// Loads the packages matching `patterns` and everything they import.
pub fn load(cfg: &LoadConfig, patterns: &[String]) -> Result<PackageGraph, LoadError> {
    let mut ctx = gobuild::BuildContext::new(&cfg.target)?;
    ctx.files = files::Files::with_overlay(cfg.overlay.clone());
    let mods = modules::ModuleContext::new(&cfg.modules, &ctx.files)?;
    packages::load_packages(cfg, &ctx, &mods, patterns)
}
