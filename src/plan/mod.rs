//! Action graph creation (planning): the cmd/go build graph, immutable once made.
//!
//! Per package: `asm -gensymabis` (when there are .s files), `cover` (with
//! `-cover`, for the packages it instruments) → `compile` → one
//! `asm` per .s file → `pack`; per main package a `link`; per PGO profile a
//! `preprofile`. Every action declares each file it reads and writes as a
//! [`Loc`], a host-independent location (`/goroot/src/fmt/print.go`,
//! `/work/b012/importcfg`), and its argv is written in those locations. The
//! executor maps locations to host paths (or a sandbox binds them there); the
//! cache key is computed from the same host-independent form. Planning reads
//! no file contents (the executor does); it resolves the declared inputs
//! (`inputs.rs`: each a regular file inside its root).

mod cgo;
pub mod cgoflags;
pub mod cmdline;
mod cover;
pub mod flags;
mod inputs;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use crate::load::PkgId;

/// Index of an action in [`ActionGraph::actions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionId(pub u32);

impl fmt::Display for ActionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b{:03}", self.0 + 1)
    }
}

/// What an action does. Never a mode string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActionKind {
    /// `asm -gensymabis`: the ABI table of a package's assembly, for compile.
    Symabis,
    /// `compile`: Go files to an archive, plus `go_asm.h` when there is assembly.
    Compile,
    /// `asm`: one .s file to an object.
    Asm,
    /// `cover`: a package's Go files instrumented for coverage (`-cover`),
    /// plus its counter variables and the compiler's `-coveragecfg`.
    Cover,
    /// Append the assembly objects to the compiled archive (done by gob itself, like cmd/go).
    Pack,
    /// `preprofile`: a PGO profile to the compiler's serialized form.
    Preprofile,
    /// `link`: a main package and all its dependencies to an executable.
    Link,
    /// `cgo`: a package's cgo files to Go and C (`_cgo_gotypes.go`,
    /// `X.cgo1.go`, `X.cgo2.c`, `_cgo_export.[ch]`, `_cgo_main.c`).
    Cgo,
    /// The C compiler on one C, C++ or assembly file of a cgo package.
    Cc,
    /// The C compiler linking `_cgo_.o`, for the symbols `cgo -dynimport` reads.
    CcLink,
    /// `cgo -dynimport`: `_cgo_import.go` from `_cgo_.o`.
    Dynimport,
}

impl ActionKind {
    /// A short lower-case name, used in plans and traces.
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Symabis => "symabis",
            ActionKind::Compile => "compile",
            ActionKind::Asm => "asm",
            ActionKind::Cover => "cover",
            ActionKind::Pack => "pack",
            ActionKind::Preprofile => "preprofile",
            ActionKind::Link => "link",
            ActionKind::Cgo => "cgo",
            ActionKind::Cc => "cc",
            ActionKind::CcLink => "cc-link",
            ActionKind::Dynimport => "dynimport",
        }
    }
}

/// The program an action runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tool {
    /// `$GOROOT/pkg/tool/<host>/compile`.
    Compile,
    /// `…/asm`.
    Asm,
    /// `…/link`.
    Link,
    /// `…/preprofile`.
    Preprofile,
    /// `…/cover`.
    Cover,
    /// `…/cgo`.
    Cgo,
    /// Implemented inside gob (pack r).
    InternalPack,
    /// The C compiler, `$CC` (the host's C toolchain, `crate::cc`).
    Cc,
    /// The C++ compiler, `$CXX`.
    Cxx,
}

impl Tool {
    /// The binary's name under the tool directory, for external tools.
    pub fn binary(self) -> Option<&'static str> {
        match self {
            Tool::Compile => Some("compile"),
            Tool::Asm => Some("asm"),
            Tool::Link => Some("link"),
            Tool::Preprofile => Some("preprofile"),
            Tool::Cover => Some("cover"),
            Tool::Cgo => Some("cgo"),
            Tool::InternalPack | Tool::Cc | Tool::Cxx => None,
        }
    }

    /// The C toolchain's compiler this runs, if any.
    pub fn c_compiler(self) -> bool {
        matches!(self, Tool::Cc | Tool::Cxx)
    }

    /// The name traces and `-json` give the program.
    pub fn trace_name(self) -> &'static str {
        match self {
            Tool::Cc => "cc",
            Tool::Cxx => "c++",
            other => other.binary().unwrap_or(gob_replay::schema::INTERNAL_PACK),
        }
    }
}

/// A root a source location is relative to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SrcRoot {
    /// The Go toolchain: `/goroot`.
    Goroot,
    /// A module's tree, named host-independently: `/mod/<path>` for main and
    /// locally replaced modules, `/gomodcache/<escaped path>@<version>` for cached ones.
    Module {
        /// The inside path prefix, e.g. `/mod/example.com/hello`.
        inside: String,
    },
}

/// A host-independent location of a file an action reads or writes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Loc {
    /// A source file (or directory) under a root.
    Src {
        /// The root.
        root: SrcRoot,
        /// Path below the root, `/`-separated; empty for the root itself.
        rel: String,
    },
    /// A file in an action's work directory (`/work/bNNN/rel`); empty `rel` is the directory.
    Work {
        /// Whose directory.
        action: ActionId,
        /// Path inside it.
        rel: String,
    },
}

impl Loc {
    /// The path as the action sees it (`/goroot/src/fmt/print.go`, `/work/b003/importcfg`).
    pub fn inside(&self) -> String {
        match self {
            Loc::Src { root, rel } => {
                let base = match root {
                    SrcRoot::Goroot => "/goroot",
                    SrcRoot::Module { inside } => inside.as_str(),
                };
                if rel.is_empty() {
                    base.to_string()
                } else {
                    format!("{base}/{rel}")
                }
            }
            Loc::Work { action, rel } => {
                if rel.is_empty() {
                    format!("/work/{action}")
                } else {
                    format!("/work/{action}/{rel}")
                }
            }
        }
    }
}

/// One piece of an argument: literal text or a location.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// Text as is.
    Lit(String),
    /// A location, rendered per execution environment.
    Loc(Loc),
}

/// One argv element, possibly mixing text and locations (`-trimpath "a=>b;c=>"`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Arg(pub Vec<Part>);

impl Arg {
    /// A literal argument.
    pub fn lit(s: impl Into<String>) -> Arg {
        Arg(vec![Part::Lit(s.into())])
    }
    /// A location argument.
    pub fn loc(l: Loc) -> Arg {
        Arg(vec![Part::Loc(l)])
    }
    /// Renders with a location mapping.
    pub fn render(&self, map: &dyn Fn(&Loc) -> String) -> String {
        let mut s = String::new();
        for p in &self.0 {
            match p {
                Part::Lit(t) => s.push_str(t),
                Part::Loc(l) => s.push_str(&map(l)),
            }
        }
        s
    }
}

/// Where an input's bytes come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputSource {
    /// A file on the host (source, toolchain file, profile).
    Host(PathBuf),
    /// Content made by the planner (importcfg, embedcfg, an empty go_asm.h); it
    /// may name locations (importcfg's archive paths), rendered like argv.
    Generated(Vec<Part>),
    /// An output of another action.
    Output {
        /// The producing action.
        action: ActionId,
        /// The output's name there.
        name: String,
    },
}

/// A declared input: what it is, and where the action sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The location in the action's view.
    pub at: Loc,
    /// The bytes.
    pub source: InputSource,
}

/// A declared output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// A name, stable across builds (`_pkg_.a`, `go_asm.h`, `a.out`).
    pub name: String,
    /// Where the tool writes it (in the action's own work dir).
    pub at: Loc,
    /// Whether it is executable.
    pub exec: bool,
}

/// One planned action.
#[derive(Clone, Debug)]
pub struct Action {
    /// Its id.
    pub id: ActionId,
    /// What it does.
    pub kind: ActionKind,
    /// The package it belongs to.
    pub package: PkgId,
    /// The package's import path (with a ` [main]` suffix for PGO variants).
    pub import_path: String,
    /// Actions whose outputs it reads (sorted, unique).
    pub deps: Vec<ActionId>,
    /// The program run.
    pub tool: Tool,
    /// Arguments after the program name.
    pub args: Vec<Arg>,
    /// The environment, complete: nothing is inherited.
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub cwd: Loc,
    /// The package's source directory (tool messages name files relative to it).
    pub src_dir: Loc,
    /// Every file it reads.
    pub inputs: Vec<Input>,
    /// Every file it writes.
    pub outputs: Vec<Output>,
    /// Whether it sees the C toolchain (`crate::cc`): it runs the compiler,
    /// or a tool that may (cgo; a link with cgo packages, linking externally).
    pub c_toolchain: bool,
}

/// The immutable graph.
#[derive(Debug)]
pub struct ActionGraph {
    /// Actions in dependency order (every dep precedes its dependents).
    pub actions: Vec<Action>,
    /// The link actions of the main packages built, with the package.
    pub links: Vec<(PkgId, ActionId)>,
    /// The archive action (pack or compile) per package, for non-main builds.
    pub archives: HashMap<PkgId, ActionId>,
    /// Host directories of the source roots, to render locations on this host.
    pub roots: Vec<(SrcRoot, PathBuf)>,
    /// `-coverpkg` patterns that match no package built (go warns about each).
    pub cover_unmatched: Vec<String>,
    /// The C toolchain the actions with `c_toolchain` see.
    pub cc: Option<std::sync::Arc<crate::cc::CToolchain>>,
}

impl ActionGraph {
    /// The action with this id.
    pub fn get(&self, id: ActionId) -> &Action {
        &self.actions[id.0 as usize]
    }

    /// The host directory of a source root.
    pub fn root_dir(&self, r: &SrcRoot) -> Option<&PathBuf> {
        self.roots.iter().find(|(k, _)| k == r).map(|(_, v)| v)
    }

    /// Number of actions that depend on each action (for priorities).
    pub fn critical_path_lengths(&self, cost: &dyn Fn(&Action) -> u64) -> Vec<u64> {
        // Longest path from each action to any sink, in reverse topological order.
        let mut dependents: Vec<Vec<ActionId>> = vec![Vec::new(); self.actions.len()];
        for a in &self.actions {
            for d in &a.deps {
                dependents[d.0 as usize].push(a.id);
            }
        }
        let mut len = vec![0u64; self.actions.len()];
        for a in self.actions.iter().rev() {
            let down = dependents[a.id.0 as usize]
                .iter()
                .map(|d| len[d.0 as usize])
                .max()
                .unwrap_or(0);
            len[a.id.0 as usize] = cost(a) + down;
        }
        len
    }
}

/// Build options that change the plan.
#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    /// `-gcflags`, per package as in cmd/go.
    pub gcflags: flags::PerPackageFlag,
    /// `-ldflags`, for the main package being linked.
    pub ldflags: flags::PerPackageFlag,
    /// `-asmflags`, per package.
    pub asmflags: flags::PerPackageFlag,
    /// The `-tags` list, for the build info.
    pub tags: Vec<String>,
    /// The C toolchain, when cgo is on and a package needs it.
    pub cc: Option<std::sync::Arc<crate::cc::CToolchain>>,
}

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Packages (or dependencies) failed to load: each package's import
    /// path and its error, in the order go reports them.
    #[error("{}", .0.iter().map(|(_, e)| e.as_str()).collect::<Vec<_>>().join("\n"))]
    Load(Vec<(String, String)>),
    /// A package needs cgo, and the C toolchain could not be found.
    #[error("package {import_path}: needs cgo ({files}), but {why}")]
    NeedsCgo {
        /// The package.
        import_path: String,
        /// Its cgo files.
        files: String,
        /// Why there is no C toolchain.
        why: String,
    },
    /// A package's cgo files cannot be built as go would.
    #[error("package {import_path}: {why}")]
    Cgo {
        /// The package.
        import_path: String,
        /// What is wrong (go's words where go has them).
        why: String,
    },
    /// A package's `#cgo` flag is off cmd/go's allowlist (go's words, which
    /// name the package without `package `).
    #[error("{import_path}: {why}")]
    CgoFlag {
        /// The package.
        import_path: String,
        /// go's message.
        why: String,
    },
    /// A declared input that is not a regular file inside its root.
    #[error("package {import_path}: {}: {why}", file.display())]
    Input {
        /// The package.
        import_path: String,
        /// The input as the package names it.
        file: PathBuf,
        /// Why it is refused.
        why: String,
    },
    /// The `-pgo` profile cannot be opened: go's preprofile failure.
    #[error("# {}\npreprofile: error opening profile: open {}: {why}", .path.display(), .path.display())]
    Profile {
        /// The profile.
        path: PathBuf,
        /// Go's words for the error (`no such file or directory`).
        why: String,
    },
    /// An assembly header gob may not declare as an input.
    #[error("package {import_path}: {from}: #include \"{header}\" is {why}")]
    AsmInclude {
        /// The package.
        import_path: String,
        /// The .s file or header with the `#include`.
        from: String,
        /// The header as the assembler would open it, relative to the package directory.
        header: String,
        /// Why it is refused.
        why: String,
    },
}

pub use cgo::external_link_cause;
pub use cmdline::{check_load_errors, plan};

impl fmt::Display for ActionGraph {
    /// The whole plan as `gob build -n` prints it: one command per action, in order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_actions(f, &mut self.actions.iter())
    }
}

/// Some actions of a plan, printed as [`ActionGraph`]'s Display prints them.
pub struct Commands<'a> {
    graph: &'a ActionGraph,
    ids: &'a [ActionId],
}

impl fmt::Display for Commands<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut it = self.ids.iter().map(|id| &self.graph.actions[id.0 as usize]);
        self.graph.write_actions(f, &mut it)
    }
}

impl ActionGraph {
    /// The commands of `ids` only (`gob build -n`: what would run), in the
    /// order given.
    pub fn commands<'a>(&'a self, ids: &'a [ActionId]) -> Commands<'a> {
        Commands { graph: self, ids }
    }

    fn write_actions(
        &self,
        f: &mut fmt::Formatter<'_>,
        actions: &mut dyn Iterator<Item = &Action>,
    ) -> fmt::Result {
        for a in actions {
            writeln!(f, "# {} {} ({})", a.id, a.kind.name(), a.import_path)?;
            for i in &a.inputs {
                if let InputSource::Generated(content) = &i.source {
                    let text = Arg(content.clone()).render(&|l| l.inside());
                    writeln!(f, "cat >{} << 'EOF'", i.at.inside())?;
                    write!(f, "{text}")?;
                    if !text.ends_with('\n') && !text.is_empty() {
                        writeln!(f)?;
                    }
                    writeln!(f, "EOF")?;
                }
            }
            let argv: Vec<String> = a
                .args
                .iter()
                .filter(|x| !x.0.is_empty())
                .map(|x| shell_quote(&x.render(&|l| l.inside())))
                .collect();
            let prog = match (a.tool, a.tool.binary()) {
                (_, Some(b)) => format!("$TOOLDIR/{b}"),
                (Tool::Cc, None) => "$CC".to_string(),
                (Tool::Cxx, None) => "$CXX".to_string(),
                (_, None) => "gob-internal pack r".to_string(),
            };
            writeln!(f, "cd {}", a.cwd.inside())?;
            writeln!(f, "{prog} {}", argv.join(" "))?;
        }
        Ok(())
    }
}

/// Quotes an argument for display like cmd/go's -x output.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}
