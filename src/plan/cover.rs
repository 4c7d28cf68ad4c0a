//! `-cover`: which packages are instrumented and the `cover` action that does
//! it, as cmd/go's `load.SelectCoverPackages` and `work.runCover` plan them.
//!
//! The cover tool reads the package's Go files and writes, in its own work
//! directory, `covervars.go` (the counters and meta-data), one `NAME.cover.go`
//! per file and `coveragecfg` (for the compiler's `-coveragecfg`). The
//! compile action reads them at its own work directory, where cmd/go's shared
//! objdir has them, so `-trimpath`'s `objdir=>` rule names them as go's does.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::cmdline::json_str as json;
use super::{Action, ActionId, ActionKind, Arg, Input, InputSource, Loc, Output, Part, Tool};
use crate::load::{Cover, CoverMode, Package, PkgId};

/// The packages `-cover` instruments.
pub(super) struct Selection {
    mode: CoverMode,
    /// `-coverpkg`'s patterns; empty: cmd/go's default.
    patterns: Vec<(String, super::flags::PackagePattern)>,
}

impl Selection {
    /// The selection `cover` asks for; `cwd` anchors `./` patterns.
    pub(super) fn new(cover: &Cover, cwd: &std::path::Path) -> Selection {
        Selection {
            mode: cover.mode,
            patterns: cover
                .pkgs
                .iter()
                .map(|p| (p.clone(), super::flags::PackagePattern::new(p, cwd)))
                .collect(),
        }
    }

    /// Whether some pattern matches `p` (without -coverpkg: the main modules'
    /// packages and those named on the command line).
    fn matches(&self, p: &Package) -> bool {
        if self.patterns.is_empty() {
            return p.cmdline_files || p.cmdline || p.module.as_ref().is_some_and(|m| m.main);
        }
        self.patterns.iter().any(|(_, m)| m.matches(p))
    }

    /// The mode `p` is instrumented in, or None: cmd/go's rules skip
    /// `unsafe`, packages without Go files, and in atomic mode the atomic
    /// packages atomic counters use.
    pub(super) fn mode(&self, p: &Package) -> Option<CoverMode> {
        if !self.matches(p) || p.import_path == "unsafe" {
            return None;
        }
        if p.files.go_files.is_empty() && p.files.cgo_files.is_empty() {
            return None;
        }
        let atomic_pkg = matches!(
            p.import_path.as_str(),
            "sync/atomic" | "internal/runtime/atomic"
        );
        if self.mode == CoverMode::Atomic && p.standard && atomic_pkg {
            return None;
        }
        Some(self.mode)
    }

    /// `-coverpkg` patterns no package of the build matches (cmd/go warns
    /// `no packages being built depend on matches for pattern P`).
    pub(super) fn unmatched<'p>(
        &self,
        built: impl Iterator<Item = &'p Package> + Clone,
    ) -> Vec<String> {
        self.patterns
            .iter()
            .filter(|(_, m)| !built.clone().any(|p| m.matches(p)))
            .map(|(s, _)| s.clone())
            .collect()
    }
}

/// What the compile of an instrumented package reads instead of its Go files.
pub(super) struct Instrumented {
    /// The cover action.
    pub action: ActionId,
    /// `covervars.go`, then each `NAME.cover.go`, at the compile's work directory.
    pub files: Vec<Loc>,
    /// The compiler's `-coveragecfg`, at the compile's work directory.
    pub cfg: Loc,
    /// Those files as the compile's inputs.
    pub inputs: Vec<Input>,
}

/// A package's Go file as the cover tool reads it: where, and its host path.
pub(super) struct Source {
    pub at: Loc,
    pub host: PathBuf,
}

/// The cover action `me` for package `id` (`p`), whose compile is `compile`.
#[allow(clippy::too_many_arguments)]
pub(super) fn action(
    me: ActionId,
    compile: ActionId,
    id: PkgId,
    p: &Package,
    mode: CoverMode,
    sources: Vec<(String, Source)>,
    env: Vec<(String, String)>,
    src_dir: Loc,
) -> (Action, Instrumented) {
    let work = |a: ActionId, rel: &str| Loc::Work {
        action: a,
        rel: rel.to_string(),
    };
    // cmd/go's writeCoverPkgInputs: covcmd.CoverPkgConfig as encoding/json writes it.
    let module = p.module.as_ref().map(|m| m.path.as_str()).unwrap_or("");
    let pkgcfg = vec![
        Part::Lit("{\"OutConfig\":\"".into()),
        Part::Loc(work(me, "coveragecfg")),
        Part::Lit(format!(
            "\",\"PkgPath\":{},\"PkgName\":{},\"Granularity\":\"perblock\",\"ModulePath\":{},\"Local\":{},\"EmitMetaFile\":\"\"}}\n",
            json(p.import_path.split(" [").next().unwrap_or(&p.import_path)),
            json(&p.name),
            json(module),
            p.cmdline_files
        )),
    ];
    let mut names = vec!["covervars.go".to_string()];
    names.extend(
        sources
            .iter()
            .map(|(f, _)| format!("{}.cover.go", f.strip_suffix(".go").unwrap_or(f))),
    );
    let mut outfiles = Vec::new();
    for n in &names {
        outfiles.push(Part::Loc(work(me, n)));
        outfiles.push(Part::Lit("\n".into()));
    }
    // Counter variables named after the import path, as cmd/go names them.
    let sum = Sha256::digest(p.import_path.split(" [").next().unwrap_or("").as_bytes());
    let var: String = sum[..6].iter().map(|b| format!("{b:02x}")).collect();
    let mut args = vec![
        Arg::lit("-pkgcfg"),
        Arg::loc(work(me, "pkgcfg.txt")),
        Arg::lit("-mode"),
        Arg::lit(mode.name()),
        Arg::lit("-var"),
        Arg::lit(format!("goCover_{var}_")),
        Arg::lit("-outfilelist"),
        Arg::loc(work(me, "coveroutfiles.txt")),
    ];
    let mut inputs = vec![
        Input {
            at: work(me, "pkgcfg.txt"),
            source: InputSource::Generated(pkgcfg),
        },
        Input {
            at: work(me, "coveroutfiles.txt"),
            source: InputSource::Generated(outfiles),
        },
    ];
    for (_, s) in sources {
        args.push(Arg::loc(s.at.clone()));
        inputs.push(Input {
            at: s.at,
            source: InputSource::Host(s.host),
        });
    }
    let mut outputs: Vec<Output> = names
        .iter()
        .map(|n| Output {
            name: n.clone(),
            at: work(me, n),
            exec: false,
        })
        .collect();
    outputs.push(Output {
        name: "coveragecfg".into(),
        at: work(me, "coveragecfg"),
        exec: false,
    });
    let staged = |n: &str| Input {
        at: work(compile, n),
        source: InputSource::Output {
            action: me,
            name: n.to_string(),
        },
    };
    let mut compile_inputs: Vec<Input> = names.iter().map(|n| staged(n)).collect();
    compile_inputs.push(staged("coveragecfg"));
    let instrumented = Instrumented {
        action: me,
        files: names.iter().map(|n| work(compile, n)).collect(),
        cfg: work(compile, "coveragecfg"),
        inputs: compile_inputs,
    };
    let action = Action {
        id: me,
        kind: ActionKind::Cover,
        c_toolchain: false,
        package: id,
        import_path: p.import_path.clone(),
        deps: Vec::new(),
        tool: Tool::Cover,
        args,
        env,
        cwd: work(me, ""),
        src_dir,
        inputs,
        outputs,
    };
    (action, instrumented)
}
