//! The exact compile, asm, pack, preprofile and link command lines, as cmd/go's gc.go writes them.
//!
//! Flags and their order follow the installed toolchain's `cmd/go/internal/work`
//! (`gc.go`: gc, asmArgs, symabis, ld; `exec.go`: importcfg, embedcfg, modinfo),
//! with -trimpath always on. Differences, on purpose: no `-buildid` (cmd/go's
//! build IDs are hashes of its own cache keys; gob's cache keys are its own).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::{
    Action, ActionGraph, ActionId, ActionKind, Arg, Input, InputSource, Loc, Output, Part,
    PlanError, PlanOptions, SrcRoot, Tool,
};
use crate::load::gobuild::IncludeDir;
use crate::load::{LoadConfig, ModuleInfo, Package, PackageGraph, PkgId};

/// Everything about the target the command lines need.
pub(super) struct Target<'a> {
    /// The environment every tool runs with (cmd/go passes the target this way).
    pub(super) tool_env: Vec<(String, String)>,
    pub(super) cfg: &'a LoadConfig,
    pub(super) opts: &'a PlanOptions,
    pub(super) goroot: PathBuf,
    /// `pkg/include/*.h`, the assembler's system include directory.
    pub(super) include_files: Vec<String>,
    /// Whether one of them has an `#include` of its own.
    pub(super) include_files_include: bool,
    /// `DefaultGODEBUG` table: (name, changed-in minor, old value).
    pub(super) godebugs: Vec<(String, u32, String)>,
}

pub(super) struct Planner<'a> {
    pub(super) t: Target<'a>,
    pub(super) g: &'a PackageGraph,
    pub(super) actions: Vec<Action>,
    /// The action producing each package's archive.
    pub(super) archive: HashMap<PkgId, ActionId>,
    /// PGO profile host path → preprofile action.
    pub(super) preprofiles: HashMap<PathBuf, ActionId>,
    pub(super) roots: Vec<(SrcRoot, PathBuf)>,
    /// Package directory → the headers its assembly includes from the package
    /// directory (path below the root, host path).
    pub(super) asm_headers: HashMap<PathBuf, Vec<(String, PathBuf)>>,
    /// `-cover`'s packages.
    pub(super) cover: Option<super::cover::Selection>,
}

pub(super) fn lit(s: impl Into<String>) -> Arg {
    Arg::lit(s)
}

pub(super) fn work(action: ActionId, rel: &str) -> Loc {
    Loc::Work {
        action,
        rel: rel.to_string(),
    }
}

/// Go's `%q` for the bytes of a string (strconv.Quote on possibly invalid UTF-8).
pub fn go_quote(b: &[u8]) -> String {
    let mut out = String::from("\"");
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        // Decode one UTF-8 sequence if valid, else escape the byte.
        let len = match c {
            0x00..=0x7f => 1,
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => 0,
        };
        if len > 1 {
            if let Some(s) = b.get(i..i + len).and_then(|s| std::str::from_utf8(s).ok()) {
                let ch = s.chars().next().unwrap_or('\u{fffd}');
                if ch.is_alphanumeric()
                    || ch.is_ascii_punctuation()
                    || (!ch.is_control() && !ch.is_whitespace())
                {
                    out.push(ch);
                } else if (ch as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", ch as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", ch as u32));
                }
                i += len;
                continue;
            }
        }
        match c {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            0x0b => out.push_str("\\v"),
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
        i += 1;
    }
    out.push('"');
    out
}

/// Parses `$GOROOT/src/internal/godebugs/table.go` (the toolchain's own table of
/// GODEBUG settings and the release that changed each default).
fn read_godebugs(goroot: &Path) -> Vec<(String, u32, String)> {
    let Ok(text) = std::fs::read_to_string(goroot.join("src/internal/godebugs/table.go")) else {
        return Vec::new();
    };
    let field = |line: &str, key: &str| -> Option<String> {
        let i = line.find(key)? + key.len();
        let rest = line[i..].trim_start();
        if let Some(r) = rest.strip_prefix('"') {
            r.find('"').map(|j| r[..j].to_string())
        } else {
            Some(rest.chars().take_while(|c| c.is_ascii_digit()).collect())
        }
    };
    text.lines()
        .filter(|l| l.trim_start().starts_with("{Name:"))
        .filter_map(|l| {
            let name = field(l, "Name:")?;
            let changed: u32 = field(l, "Changed:")
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            let old = field(l, "Old:").unwrap_or_default();
            Some((name, changed, old))
        })
        .collect()
}

/// Major.minor of a Go version string (`1.22.3` → 22).
fn go_minor(v: &str) -> Option<u32> {
    let mut it = v.split('.');
    if it.next()? != "1" {
        return None;
    }
    it.next()?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// A package's source root (inside) and its host directory: GOROOT for std,
/// the module directory otherwise.
pub(super) fn package_root(p: &Package, goroot: &Path) -> (SrcRoot, PathBuf) {
    if p.standard {
        (SrcRoot::Goroot, goroot.to_path_buf())
    } else if let Some(m) = &p.module {
        let inside = if m.version.is_empty() {
            format!("/mod/{}", m.path)
        } else {
            format!("/mod/{}@{}", m.path, m.version)
        };
        (SrcRoot::Module { inside }, m.dir.clone())
    } else {
        let inside = "/mod/_".to_string();
        (SrcRoot::Module { inside }, p.root.clone())
    }
}

/// The package directory below its root, `/`-separated (empty at the root).
pub(super) fn dir_below(p: &Package, host_root: &Path) -> String {
    p.dir
        .strip_prefix(host_root)
        .map(|r| r.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default()
}

/// The headers `p`'s assembly includes, each at its path below the
/// package's root, or why one may not be read: it is absolute, lies outside
/// the root lexically (`../../../../etc/shadow`), or resolves through a
/// symlinked directory to another file than its path names (one outside
/// the root is refused with every input, in `plan::inputs`). A header that passes is bound at that path inside the sandbox, so the
/// same relative `#include` from the package directory reaches it there.
fn asm_headers(p: &Package, goroot: &Path) -> Result<Vec<(String, PathBuf)>, PlanError> {
    let (_, host_root) = package_root(p, goroot);
    let dir_rel = dir_below(p, &host_root);
    let mut out = Vec::new();
    for h in &p.files.asm_include_files {
        if h.dir != IncludeDir::Package {
            continue;
        }
        let refuse = |why: String| PlanError::AsmInclude {
            import_path: p.import_path.clone(),
            from: h.from.clone(),
            header: h.path.clone(),
            why,
        };
        let root_shown = host_root.display();
        if h.path.starts_with('/') {
            return Err(refuse(format!(
                "an absolute path; gob reads only files under the package's root {root_shown}"
            )));
        }
        let rel = crate::load::gobuild::clean_slash_path(&format!("{dir_rel}/{}", h.path));
        if rel == ".." || rel.starts_with("../") {
            return Err(refuse(format!("outside the package's root {root_shown}")));
        }
        let lexical = host_root.join(&rel);
        // Named here with the file that includes it; `plan::inputs` would
        // refuse it too, naming only the header.
        if let Some(real) = &h.real {
            let real_root = std::fs::canonicalize(&host_root).unwrap_or_else(|_| host_root.clone());
            if !real.starts_with(&real_root) {
                return Err(refuse(format!(
                    "a symlink to {}, outside the package's root {root_shown}",
                    real.display()
                )));
            }
        }
        // Whether it is a regular file inside the root is checked with
        // every other input (`plan::inputs`); here only that the `..` the
        // assembler's open resolves physically reaches the file the
        // lexical path names, where the header is bound.
        if h.real.is_some() && std::fs::canonicalize(&lexical).ok() != h.real {
            return Err(refuse(format!(
                "resolved through a symlink to {}, not to {}",
                h.real.as_deref().unwrap_or(Path::new("?")).display(),
                lexical.display()
            )));
        }
        out.push((rel, lexical));
    }
    Ok(out)
}

impl<'a> Planner<'a> {
    pub(super) fn pkg(&self, id: PkgId) -> &'a Package {
        self.g.pkg(id)
    }

    /// The source root and path below it for a package directory.
    pub(super) fn src_loc(&mut self, p: &Package, rel_file: &str) -> Loc {
        let (root, host_root) = package_root(p, &self.t.goroot);
        if !self.roots.iter().any(|(r, _)| *r == root) {
            self.roots.push((root.clone(), host_root.clone()));
        }
        let dir_rel = dir_below(p, &host_root);
        let rel = match (dir_rel.is_empty(), rel_file.is_empty()) {
            (true, _) => rel_file.to_string(),
            (false, true) => dir_rel,
            (false, false) => format!("{dir_rel}/{rel_file}"),
        };
        Loc::Src { root, rel }
    }

    pub(super) fn host_file(&self, p: &Package, f: &str) -> PathBuf {
        p.dir.join(f)
    }

    fn goroot_loc(rel: &str) -> Loc {
        Loc::Src {
            root: SrcRoot::Goroot,
            rel: rel.to_string(),
        }
    }

    /// The `-p` value: `main` for main packages.
    pub(super) fn pkgpath(p: &Package) -> String {
        if p.name == "main" {
            "main".into()
        } else {
            p.import_path
                .split(" [")
                .next()
                .unwrap_or(&p.import_path)
                .to_string()
        }
    }

    /// `-trimpath "<pkgdir>=><rewrite>;<objdir>=>"` (cmd/go's Action.trimpath with -trimpath).
    fn trimpath(&mut self, p: &Package, objdir: ActionId) -> Arg {
        // cmd/go rewrites to OrigImportPath: go/build's import path of the
        // directory, which for named files (outside GOPATH) is ".".
        let orig = if p.cmdline_files {
            "."
        } else {
            p.import_path.split(" [").next().unwrap_or(&p.import_path)
        };
        let rewrite = match &p.module {
            Some(m) if !m.version.is_empty() => {
                format!(
                    "{}@{}{}",
                    m.path,
                    m.version,
                    orig.strip_prefix(m.path.as_str()).unwrap_or("")
                )
            }
            _ => orig.to_string(),
        };
        let dir = self.src_loc(p, "");
        Arg(vec![
            Part::Loc(dir),
            Part::Lit(format!("=>{rewrite};")),
            Part::Loc(work(objdir, "")),
            Part::Lit("=>".into()),
        ])
    }

    fn asm_args(&mut self, p: &Package, me: ActionId) -> Vec<Arg> {
        let c = &self.t.cfg.target;
        let mut a = vec![
            lit("-p"),
            lit(Self::pkgpath(p)),
            lit("-trimpath"),
            self.trimpath(p, me),
            lit("-I"),
            Arg(vec![Part::Loc(work(me, "")), Part::Lit("/".into())]),
            lit("-I"),
            Arg::loc(Self::goroot_loc("pkg/include")),
            lit("-D"),
            lit(format!("GOOS_{}", c.goos)),
            lit("-D"),
            lit(format!("GOARCH_{}", c.goarch)),
        ];
        a.extend(self.t.cfg.build_mode.forced_asmflags().into_iter().map(lit));
        a.extend(self.t.opts.asmflags.for_package(p).into_iter().map(lit));
        if p.standard {
            a.push(lit("-std"));
        }
        a.extend(
            arch_defines(c)
                .into_iter()
                .flat_map(|d| [lit("-D"), lit(d)]),
        );
        a
    }

    /// The headers an asm invocation reads: what its `#include`s reach (see
    /// `load::gobuild::IncludeDir`), and nothing else: the package's headers
    /// at their path below the root, the `_GOOS_GOARCH.h`-style copies cmd/go
    /// makes in the objdir, the `pkg/include` headers named.
    fn asm_includes(&mut self, p: &Package, me: ActionId) -> Vec<Input> {
        let mut v = Vec::new();
        let (root, _) = package_root(p, &self.t.goroot);
        for (rel, host) in self.asm_headers.get(&p.dir).into_iter().flatten() {
            v.push(Input {
                at: Loc::Src {
                    root: root.clone(),
                    rel: rel.clone(),
                },
                source: InputSource::Host(host.clone()),
            });
        }
        let goroot_named = |h: &str| {
            let t = &self.t;
            t.include_files.iter().any(|f| f == h) && !t.include_files_include
        };
        for h in &p.files.asm_include_files {
            match &h.dir {
                IncludeDir::Package => {}
                IncludeDir::Objdir { header } => v.push(Input {
                    at: work(me, &h.path),
                    source: InputSource::Host(self.host_file(p, header)),
                }),
                IncludeDir::GorootInclude if goroot_named(&h.path) => {
                    v.push(Self::goroot_include(&self.t.goroot, &h.path))
                }
                IncludeDir::GorootInclude => {}
            }
        }
        // A toolchain whose pkg/include headers include each other: all of
        // them (not the case up to go1.27).
        if self.t.include_files_include {
            for h in &self.t.include_files {
                v.push(Self::goroot_include(&self.t.goroot, h));
            }
        }
        v
    }

    /// `$GOROOT/pkg/include/<h>`.
    fn goroot_include(goroot: &Path, h: &str) -> Input {
        let rel = format!("pkg/include/{h}");
        Input {
            at: Self::goroot_loc(&rel),
            source: InputSource::Host(goroot.join(&rel)),
        }
    }

    pub(super) fn push(&mut self, mut a: Action) -> ActionId {
        a.deps.sort();
        a.deps.dedup();
        let id = a.id;
        self.actions.push(a);
        id
    }

    pub(super) fn next_id(&self) -> ActionId {
        ActionId(self.actions.len() as u32)
    }

    fn preprofile(&mut self, profile: &Path) -> ActionId {
        if let Some(&id) = self.preprofiles.get(profile) {
            return id;
        }
        // The main package the profile is `default.pgo` of, else the first
        // package named (-pgo=FILE).
        let owner = self
            .g
            .packages
            .iter()
            .position(|q| q.name == "main" && Some(q.dir.as_path()) == profile.parent())
            .map(|i| PkgId(i as u32))
            .unwrap_or(self.g.roots[0]);
        let p = self.pkg(owner);
        let src_dir = self.src_loc(p, "");
        let me = self.next_id();
        let file = profile
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        // A profile inside the package's root (`-pgo=prof/cpu.pgo`) is seen
        // at its own path there; one outside every root (the user's choice)
        // beside the package's files.
        let (root, host_root) = package_root(p, &self.t.goroot);
        let at = match profile.strip_prefix(&host_root) {
            Ok(rel) if !rel.as_os_str().is_empty() => {
                let _ = self.src_loc(p, "");
                Loc::Src {
                    root,
                    rel: rel.to_string_lossy().into_owned(),
                }
            }
            _ => self.src_loc(p, &file),
        };
        let id = self.push(Action {
            id: me,
            kind: ActionKind::Preprofile,
            c_toolchain: false,
            package: owner,
            import_path: format!("{} (pgo)", p.import_path.split(" [").next().unwrap_or("")),
            deps: Vec::new(),
            tool: Tool::Preprofile,
            args: vec![
                lit("-o"),
                Arg::loc(work(me, "pgo.preprofile")),
                lit("-i"),
                Arg::loc(at.clone()),
            ],
            env: self.t.tool_env.clone(),
            cwd: work(me, ""),
            src_dir: src_dir.clone(),
            inputs: vec![Input {
                at,
                source: InputSource::Host(profile.to_path_buf()),
            }],
            outputs: vec![Output {
                name: "pgo.preprofile".into(),
                at: work(me, "pgo.preprofile"),
                exec: false,
            }],
        });
        self.preprofiles.insert(profile.to_path_buf(), id);
        id
    }

    /// Plans symabis → compile → asm* → pack for one package; returns its archive action.
    fn build_package(&mut self, id: PkgId) -> ActionId {
        if let Some(&a) = self.archive.get(&id) {
            return a;
        }
        let p = self.pkg(id);
        let c = self.t.cfg;
        let sfiles = super::cgo::go_asm_files(p);
        let src_dir = self.src_loc(p, "");

        // asm -gensymabis, with an empty go_asm.h in its objdir.
        let symabis = if sfiles.is_empty() {
            None
        } else {
            let me = self.next_id();
            let mut args = self.asm_args(p, me);
            args.extend([lit("-gensymabis"), lit("-o"), Arg::loc(work(me, "symabis"))]);
            let mut inputs = self.asm_includes(p, me);
            inputs.push(Input {
                at: work(me, "go_asm.h"),
                source: InputSource::Generated(Vec::new()),
            });
            for s in &sfiles {
                let at = self.src_loc(p, s);
                args.push(Arg::loc(at.clone()));
                inputs.push(Input {
                    at,
                    source: InputSource::Host(self.host_file(p, s)),
                });
            }
            let cwd = self.src_loc(p, "");
            Some(self.push(Action {
                id: me,
                kind: ActionKind::Symabis,
                c_toolchain: false,
                package: id,
                import_path: p.import_path.clone(),
                deps: Vec::new(),
                tool: Tool::Asm,
                args,
                env: self.t.tool_env.clone(),
                cwd,
                src_dir: src_dir.clone(),
                inputs,
                outputs: vec![Output {
                    name: "symabis".into(),
                    at: work(me, "symabis"),
                    exec: false,
                }],
            }))
        };

        // Dependencies first: their archives feed the importcfg.
        let mut dep_archives: Vec<(String, ActionId)> = Vec::new();
        for &d in &p.internal_imports {
            let dp = self.pkg(d);
            if dp.import_path == "unsafe" {
                continue;
            }
            let a = self.build_package(d);
            dep_archives.push((dp.import_path.clone(), a));
        }
        let pgo = p.pgo_profile.clone().map(|prof| self.preprofile(&prof));

        // -cover: the cover action first; in atomic mode the package also
        // imports sync/atomic (cmd/go's EnsureImport).
        let cover_mode = self.cover.as_ref().and_then(|c| c.mode(p));
        if cover_mode == Some(crate::load::CoverMode::Atomic)
            && !dep_archives.iter().any(|(path, _)| path == "sync/atomic")
        {
            if let Some(i) = self
                .g
                .packages
                .iter()
                .position(|q| q.import_path == "sync/atomic")
            {
                let a = self.build_package(PkgId(i as u32));
                dep_archives.push(("sync/atomic".into(), a));
            }
        }
        let instrumented = cover_mode.map(|mode| {
            let me = self.next_id();
            let compile = ActionId(me.0 + 1);
            let sources = p
                .files
                .go_files
                .iter()
                .map(|f| {
                    let source = super::cover::Source {
                        at: self.src_loc(p, f),
                        host: self.host_file(p, f),
                    };
                    (f.clone(), source)
                })
                .collect();
            let env = self.t.tool_env.clone();
            let (action, instrumented) =
                super::cover::action(me, compile, id, p, mode, sources, env, src_dir.clone());
            self.push(action);
            instrumented
        });

        // cgo: its actions first; the compile takes their Go files.
        let cgo_out = match &self.t.opts.cc {
            Some(cc) if !p.files.cgo_files.is_empty() => Some(self.cgo_actions(id, &cc.clone())),
            _ => None,
        };

        let me = self.next_id();
        let mut inputs: Vec<Input> = Vec::new();
        let mut deps: Vec<ActionId> = dep_archives.iter().map(|(_, a)| *a).collect();

        // importcfg: importmap lines for vendored paths, then a packagefile per dependency.
        let mut icfg: Vec<Part> = vec![Part::Lit("# import config\n".into())];
        for (raw, fin) in p.raw_imports.iter().zip(&p.imports) {
            if raw != fin {
                icfg.push(Part::Lit(format!("importmap {raw}={fin}\n")));
            }
        }
        for (path, a) in &dep_archives {
            let at = work(*a, "_pkg_.a");
            icfg.push(Part::Lit(format!("packagefile {path}=")));
            icfg.push(Part::Loc(at.clone()));
            icfg.push(Part::Lit("\n".into()));
            inputs.push(Input {
                at,
                source: InputSource::Output {
                    action: *a,
                    name: "_pkg_.a".into(),
                },
            });
        }
        inputs.push(Input {
            at: work(me, "importcfg"),
            source: InputSource::Generated(icfg),
        });

        // embedcfg: pattern → files, file → path.
        let mut embedcfg = None;
        if !p.embed_map.is_empty() {
            let mut files: BTreeMap<String, Loc> = BTreeMap::new();
            for f in &p.embed_files {
                let at = self.src_loc(p, f);
                inputs.push(Input {
                    at: at.clone(),
                    source: InputSource::Host(self.host_file(p, f)),
                });
                files.insert(f.clone(), at);
            }
            let mut parts = vec![Part::Lit("{\n\t\"Patterns\": {".into())];
            for (i, (pat, fs)) in p.embed_map.iter().enumerate() {
                let list: Vec<String> = fs.iter().map(|f| json_str(f)).collect();
                let sep = if i == 0 { "" } else { "," };
                if list.is_empty() {
                    parts.push(Part::Lit(format!("{sep}\n\t\t{}: []", json_str(pat))));
                } else {
                    parts.push(Part::Lit(format!(
                        "{sep}\n\t\t{}: [\n\t\t\t{}\n\t\t]",
                        json_str(pat),
                        list.join(",\n\t\t\t")
                    )));
                }
            }
            parts.push(Part::Lit("\n\t},\n\t\"Files\": {".into()));
            for (i, (f, at)) in files.iter().enumerate() {
                let sep = if i == 0 { "" } else { "," };
                parts.push(Part::Lit(format!("{sep}\n\t\t{}: \"", json_str(f))));
                parts.push(Part::Loc(at.clone()));
                parts.push(Part::Lit("\"".into()));
            }
            parts.push(Part::Lit("\n\t}\n}".into()));
            inputs.push(Input {
                at: work(me, "embedcfg"),
                source: InputSource::Generated(parts),
            });
            embedcfg = Some(work(me, "embedcfg"));
        }

        // -lang: the module's go version, capped at the toolchain's.
        let tool_minor = c.toolchain.version.minor;
        let lang_minor = match &p.module {
            Some(m) => go_minor(m.go_version.as_deref().unwrap_or("1.16"))
                .filter(|&v| v <= tool_minor)
                .unwrap_or(tool_minor),
            None => tool_minor,
        };
        let ext_files = p.files.cgo_files.len() + p.files.s_files.len() + p.files.syso_files.len();
        let std_incomplete = p.standard
            && matches!(
                p.import_path.as_str(),
                "bytes"
                    | "internal/poll"
                    | "net"
                    | "os"
                    | "runtime/metrics"
                    | "runtime/pprof"
                    | "runtime/trace"
                    | "sync"
                    | "syscall"
                    | "time"
            );
        let mut args = vec![
            lit("-o"),
            Arg::loc(work(me, "_pkg_.a")),
            lit("-trimpath"),
            self.trimpath(p, me),
            lit("-p"),
            lit(Self::pkgpath(p)),
            lit(format!("-lang=go1.{lang_minor}")),
        ];
        if p.standard {
            args.push(lit("-std"));
        }
        if ext_files == 0 && !std_incomplete {
            args.push(lit("-complete"));
        }
        let suffix = &c.build_mode.install_suffix;
        if !suffix.is_empty() {
            args.push(lit("-installsuffix"));
            args.push(lit(suffix.clone()));
        }
        if c.target.goarch == "wasm" {
            args.push(lit("-dwarf=false"));
        }
        args.push(lit("-goversion"));
        args.push(lit(c.toolchain.version_string.clone()));
        if let Some(ins) = &instrumented {
            args.push(Arg(vec![
                Part::Lit("-coveragecfg=".into()),
                Part::Loc(ins.cfg.clone()),
            ]));
            inputs.extend(ins.inputs.iter().cloned());
            deps.push(ins.action);
        }
        if let Some(pp) = pgo {
            let at = work(pp, "pgo.preprofile");
            args.push(Arg(vec![
                Part::Lit("-pgoprofile=".into()),
                Part::Loc(at.clone()),
            ]));
            inputs.push(Input {
                at,
                source: InputSource::Output {
                    action: pp,
                    name: "pgo.preprofile".into(),
                },
            });
            deps.push(pp);
        }
        if let Some(sa) = symabis {
            let at = work(sa, "symabis");
            args.push(lit("-symabis"));
            args.push(Arg::loc(at.clone()));
            inputs.push(Input {
                at,
                source: InputSource::Output {
                    action: sa,
                    name: "symabis".into(),
                },
            });
            deps.push(sa);
        }
        // Where cmd/go puts -c=N; the executor fills it in (see exec::Tokens).
        args.push(Arg(Vec::new()));
        args.extend(c.build_mode.forced_gcflags().into_iter().map(lit));
        args.extend(self.t.opts.gcflags.for_package(p).into_iter().map(lit));
        args.push(lit("-nolocalimports"));
        args.push(lit("-importcfg"));
        args.push(Arg::loc(work(me, "importcfg")));
        if let Some(e) = embedcfg {
            args.push(lit("-embedcfg"));
            args.push(Arg::loc(e));
        }
        args.push(lit("-pack"));
        let mut outputs = vec![Output {
            name: "_pkg_.a".into(),
            at: work(me, "_pkg_.a"),
            exec: false,
        }];
        if !sfiles.is_empty() {
            args.push(lit("-asmhdr"));
            args.push(Arg::loc(work(me, "go_asm.h")));
            outputs.push(Output {
                name: "go_asm.h".into(),
                at: work(me, "go_asm.h"),
                exec: false,
            });
        }
        if let Some(ins) = &instrumented {
            args.extend(ins.files.iter().cloned().map(Arg::loc));
        } else {
            for f in &p.files.go_files {
                let at = self.src_loc(p, f);
                args.push(Arg::loc(at.clone()));
                inputs.push(Input {
                    at,
                    source: InputSource::Host(self.host_file(p, f)),
                });
            }
        }
        // cgo's Go files, staged in the compile's own directory (cmd/go's objdir).
        for (name, a) in cgo_out.iter().flat_map(|c| &c.go_files) {
            let at = work(me, name);
            args.push(Arg::loc(at.clone()));
            inputs.push(Input {
                at,
                source: InputSource::Output {
                    action: *a,
                    name: name.clone(),
                },
            });
            deps.push(*a);
        }
        let compile = self.push(Action {
            id: me,
            kind: ActionKind::Compile,
            c_toolchain: false,
            package: id,
            import_path: p.import_path.clone(),
            deps,
            tool: Tool::Compile,
            args,
            env: self.t.tool_env.clone(),
            cwd: work(me, ""),
            src_dir: src_dir.clone(),
            inputs,
            outputs,
        });

        // Like cmd/go, only packages with .s or .syso files are packed again.
        let sysos = p.files.syso_files.clone();
        let prefer_link_ext = cgo_out.as_ref().is_some_and(|c| c.prefer_link_ext);
        let cgo_objs = cgo_out.map(|c| c.objs).unwrap_or_default();
        if sfiles.is_empty() && sysos.is_empty() && cgo_objs.is_empty() {
            self.archive.insert(id, compile);
            return compile;
        }

        // One asm per .s file, reading the compiler's go_asm.h.
        let mut objs = Vec::new();
        for s in &sfiles {
            let me = self.next_id();
            let mut args = self.asm_args(p, me);
            let obj = format!("{}.o", s.strip_suffix(".s").unwrap_or(s));
            let at = self.src_loc(p, s);
            args.extend([lit("-o"), Arg::loc(work(me, &obj)), Arg::loc(at.clone())]);
            let mut inputs = self.asm_includes(p, me);
            inputs.push(Input {
                at: work(me, "go_asm.h"),
                source: InputSource::Output {
                    action: compile,
                    name: "go_asm.h".into(),
                },
            });
            inputs.push(Input {
                at,
                source: InputSource::Host(self.host_file(p, s)),
            });
            let cwd = self.src_loc(p, "");
            let a = self.push(Action {
                id: me,
                kind: ActionKind::Asm,
                c_toolchain: false,
                package: id,
                import_path: p.import_path.clone(),
                deps: vec![compile],
                tool: Tool::Asm,
                args,
                env: self.t.tool_env.clone(),
                cwd,
                src_dir: src_dir.clone(),
                inputs,
                outputs: vec![Output {
                    name: obj.clone(),
                    at: work(me, &obj),
                    exec: false,
                }],
            });
            objs.push((a, obj));
        }

        // pack r: the compiled archive with the objects appended.
        let me = self.next_id();
        let mut inputs = vec![Input {
            at: work(compile, "_pkg_.a"),
            source: InputSource::Output {
                action: compile,
                name: "_pkg_.a".into(),
            },
        }];
        let mut args = vec![
            Arg::loc(work(me, "_pkg_.a")),
            Arg::loc(work(compile, "_pkg_.a")),
        ];
        let mut deps = vec![compile];
        // The assembler's objects, cmd/go's preferlinkext token, cgo's objects.
        let token = prefer_link_ext.then_some(None);
        for o in objs
            .iter()
            .map(Some)
            .chain(token)
            .chain(cgo_objs.iter().map(Some))
        {
            let (at, source) = match o {
                Some((a, obj)) => {
                    deps.push(*a);
                    let source = InputSource::Output {
                        action: *a,
                        name: obj.clone(),
                    };
                    (work(*a, obj), source)
                }
                None => (
                    work(me, super::cgo::PREFER_LINK_EXT),
                    InputSource::Generated(Vec::new()),
                ),
            };
            args.push(Arg::loc(at.clone()));
            inputs.push(Input { at, source });
        }
        // System objects go in after the assembler's, as cmd/go's objects list.
        for f in &sysos {
            let at = self.src_loc(p, f);
            inputs.push(Input {
                at: at.clone(),
                source: InputSource::Host(self.host_file(p, f)),
            });
            args.push(Arg::loc(at));
        }
        let pack = self.push(Action {
            id: me,
            kind: ActionKind::Pack,
            c_toolchain: false,
            package: id,
            import_path: p.import_path.clone(),
            deps,
            tool: Tool::InternalPack,
            args,
            env: self.t.tool_env.clone(),
            cwd: work(me, ""),
            src_dir: src_dir.clone(),
            inputs,
            outputs: vec![Output {
                name: "_pkg_.a".into(),
                at: work(me, "_pkg_.a"),
                exec: false,
            }],
        });
        self.archive.insert(id, pack);
        pack
    }

    /// DefaultGODEBUG for a main package: old defaults for the main module's go version.
    fn default_godebug(&self, p: &Package) -> String {
        let v = p
            .module
            .as_ref()
            .filter(|m| m.main)
            .and_then(|m| m.go_version.clone());
        let Some(minor) = v.as_deref().and_then(go_minor) else {
            return String::new();
        };
        let mut m: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, changed, old) in &self.t.godebugs {
            if minor < *changed {
                m.insert(name, old);
            }
        }
        m.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The build info embedded by the linker (runtime/debug.BuildInfo.String()).
    fn build_info(&self, p: &Package, godebug: &str) -> String {
        let c = self.t.cfg;
        let mut s = format!("path\t{}\n", p.import_path.split(" [").next().unwrap_or(""));
        if let Some(m) = &p.module {
            let v = if m.version.is_empty() {
                "(devel)"
            } else {
                m.version.as_str()
            };
            s.push_str(&format!("mod\t{}\t{}\t\n", m.path, v));
        }
        // Dependency modules, sorted by path then version; a replaced module is
        // followed by its replacement (runtime/debug.BuildInfo.String's layout).
        let mut mods: BTreeMap<(String, String), &ModuleInfo> = BTreeMap::new();
        for id in self.g.post_order(&[self.id_of(p)]) {
            let q = self.g.pkg(id);
            if let Some(m) = &q.module {
                // A main module is a dependency of a package in no module
                // (named files).
                let dep = match &p.module {
                    Some(pm) => !m.main && pm.path != m.path,
                    None => true,
                };
                if dep {
                    mods.entry((m.path.clone(), m.version.clone())).or_insert(m);
                }
            }
        }
        let devel = |v: &str| {
            if v.is_empty() {
                "(devel)".to_string()
            } else {
                v.to_string()
            }
        };
        for ((path, v), m) in &mods {
            match m.replace.as_deref() {
                Some(ModuleInfo {
                    path: rp,
                    version: rv,
                    sum: rsum,
                    ..
                }) => {
                    let rsum = rsum.clone().unwrap_or_default();
                    s.push_str(&format!(
                        "dep\t{path}\t{}\n=>\t{rp}\t{}\t{rsum}\n\n",
                        devel(v),
                        devel(rv)
                    ));
                }
                None => {
                    let sum = m.sum.clone().unwrap_or_default();
                    s.push_str(&format!("dep\t{path}\t{}\t{sum}\n", devel(v)));
                }
            }
        }
        let mut settings: Vec<(String, String)> = Vec::new();
        let mut setting = |k: &str, v: &str| settings.push((k.to_string(), v.to_string()));
        if let Some(raw) = &self.t.opts.asmflags.raw {
            setting("-asmflags", raw);
        }
        setting(
            "-buildmode",
            self.t.cfg.build_mode.setting(p.name == "main"),
        );
        setting("-compiler", "gc");
        if let Some(raw) = self.t.opts.gcflags.raw.as_ref().filter(|r| !r.is_empty()) {
            setting("-gcflags", raw);
        }
        if c.cover.is_some() {
            setting("-cover", "true");
        }
        if !self.t.opts.tags.is_empty() {
            setting("-tags", &self.t.opts.tags.join(","));
        }
        setting("-trimpath", "true");
        if !godebug.is_empty() {
            setting("DefaultGODEBUG", godebug);
        }
        // go records the CGO_*FLAGS only without -trimpath, which gob always has.
        setting("CGO_ENABLED", if c.target.cgo_enabled { "1" } else { "0" });
        setting("GOARCH", &c.target.goarch);
        if !c.target.goexperiment.is_empty() {
            setting("GOEXPERIMENT", &c.target.goexperiment);
        }
        setting("GOOS", &c.target.goos);
        if let Some((k, v)) = c.target.arch_env().filter(|(_, v)| !v.is_empty()) {
            setting(k, &v);
        }
        // cmd/go's setPGOProfilePath adds -pgo (base name under -trimpath) and
        // then re-sorts every setting by key.
        if let Some(prof) = &p.pgo_profile {
            let base = prof
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            settings.push(("-pgo".into(), base));
            settings.sort_by(|a, b| a.0.cmp(&b.0));
        }
        for (k, v) in settings {
            let quoted = v
                .chars()
                .any(|ch| matches!(ch, ' ' | '\t' | '\r' | '\n' | '"' | '`') || ch.is_control());
            let v = if quoted { go_quote(v.as_bytes()) } else { v };
            s.push_str(&format!("build\t{k}={v}\n"));
        }
        s
    }

    fn id_of(&self, p: &Package) -> PkgId {
        let idx = self
            .g
            .packages
            .iter()
            .position(|q| std::ptr::eq(q, p))
            .unwrap_or(0);
        PkgId(idx as u32)
    }

    fn link(&mut self, id: PkgId) -> ActionId {
        let main_archive = self.build_package(id);
        let p = self.pkg(id);
        let src_dir = self.src_loc(p, "");
        let me = self.next_id();
        let mut inputs = Vec::new();
        let mut deps = vec![main_archive];
        let mut icfg: Vec<Part> = Vec::new();
        // Every package the program links, dependencies first.
        for d in self.g.post_order(&[id]) {
            let dp = self.pkg(d);
            if dp.import_path == "unsafe" {
                continue;
            }
            let a = self.archive[&d];
            let at = work(a, "_pkg_.a");
            icfg.push(Part::Lit(format!("packagefile {}=", dp.import_path)));
            icfg.push(Part::Loc(at.clone()));
            icfg.push(Part::Lit("\n".into()));
            inputs.push(Input {
                at,
                source: InputSource::Output {
                    action: a,
                    name: "_pkg_.a".into(),
                },
            });
            deps.push(a);
        }
        // A program with cgo may be linked externally: the linker runs the C compiler.
        let link_cc_toolchain = match &self.t.opts.cc {
            Some(cc)
                if self
                    .g
                    .post_order(&[id])
                    .iter()
                    .any(|&d| !self.pkg(d).files.cgo_files.is_empty()) =>
            {
                Some(cc.clone())
            }
            _ => None,
        };
        let link_cc = link_cc_toolchain.as_ref().map(|cc| cc.path.clone());
        let godebug = self.default_godebug(p);
        let info = self.build_info(p, &godebug);
        let mut data = Vec::new();
        data.extend_from_slice(b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6");
        data.extend_from_slice(info.as_bytes());
        data.extend_from_slice(b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2");
        icfg.push(Part::Lit(format!("modinfo {}\n", go_quote(&data))));
        inputs.push(Input {
            at: work(me, "importcfg.link"),
            source: InputSource::Generated(icfg),
        });
        let mut args = vec![
            lit("-o"),
            Arg::loc(work(me, "a.out")),
            lit("-importcfg"),
            Arg::loc(work(me, "importcfg.link")),
        ];
        let bm = &self.t.cfg.build_mode;
        if !bm.install_suffix.is_empty() {
            args.push(lit("-installsuffix"));
            args.push(lit(bm.install_suffix.clone()));
        }
        if !godebug.is_empty() {
            args.push(lit(format!("-X=runtime.godebugDefault={godebug}")));
        }
        // Only modes that link reach here (archive is refused before planning).
        args.push(lit(format!("-buildmode={}", bm.ld_mode.unwrap_or("exe"))));
        args.extend(bm.forced_ldflags().into_iter().map(lit));
        let ldflags = self.t.opts.ldflags.for_package(p);
        // cmd/go's setextld: the C compiler as the external linker, unless the
        // user named one. An internal link (always, without cgo) never runs it.
        let user_extld = ldflags
            .iter()
            .any(|f| f == "-extld" || f.starts_with("-extld="));
        args.extend(ldflags.into_iter().map(lit));
        if !user_extld {
            // C++ anywhere in the program: the C++ compiler links it.
            let cxx = self.g.post_order(&[id]).iter().any(|&d| {
                let f = &self.pkg(d).files;
                !f.cxx_files.is_empty() || !f.swig_cxx_files.is_empty()
            });
            // A program with cgo may run it: the driver by its own file, as
            // the sandbox holds it; else go's words (never run).
            let cgo = &self.t.cfg.cgo;
            let words = match &link_cc_toolchain {
                Some(cc) => cc.run_words(cxx),
                None if cxx => cgo.cxx.clone(),
                None => cgo.cc.clone(),
            };
            // config's cgo_env refused words quoted.Join cannot join.
            let joined = super::flags::join_quoted(&words).unwrap_or_default();
            args.push(lit(format!("-extld={joined}")));
        }
        args.push(Arg::loc(work(main_archive, "_pkg_.a")));
        self.push(Action {
            id: me,
            kind: ActionKind::Link,
            c_toolchain: link_cc.is_some(),
            package: id,
            import_path: p.import_path.clone(),
            deps,
            tool: Tool::Link,
            args,
            // -trimpath: the linker must not record a GOROOT.
            env: {
                let mut e = self.t.tool_env.clone();
                e.push(("GOROOT".into(), String::new()));
                if let Some(path) = &link_cc {
                    e.push(("PATH".into(), path.clone()));
                }
                e.sort();
                e
            },
            cwd: work(me, ""),
            src_dir: src_dir.clone(),
            inputs,
            outputs: vec![Output {
                name: "a.out".into(),
                at: work(me, "a.out"),
                exec: true,
            }],
        })
    }
}

/// The `-D` symbols cmd/go's asmArgs defines for the target's architecture
/// level (`GOARM_7 GOARM_6 GOARM_5`, `GOPPC64_power9 GOPPC64_power8`,
/// `GO386_sse2`, `GOAMD64_v1`, `GOARM64_LSE`, …), from the resolved knob.
fn arch_defines(t: &crate::load::gobuild::TargetConfig) -> Vec<String> {
    let Some((key, v)) = t.arch_env() else {
        return Vec::new();
    };
    match t.goarch.as_str() {
        "386" | "amd64" | "mips" | "mipsle" | "mips64" | "mips64le" | "riscv64" => {
            vec![format!("{key}_{v}")]
        }
        "ppc64" | "ppc64le" => {
            // Each level is a superset of the ones before; anything else is power8.
            let levels: &[&str] = match v.as_str() {
                "power10" => &["power10", "power9", "power8"],
                "power9" => &["power9", "power8"],
                _ => &["power8"],
            };
            levels.iter().map(|l| format!("GOPPC64_{l}")).collect()
        }
        "arm" => {
            // cmd/go looks for the digit anywhere in the value ("7,softfloat").
            let top = if v.contains('7') {
                7
            } else if v.contains('6') {
                6
            } else {
                5
            };
            (5..=top).rev().map(|n| format!("GOARM_{n}")).collect()
        }
        "arm64" => {
            // v8.1 and later (or ,lse) have LSE atomics.
            let core = v.split(',').next().unwrap_or("");
            let lse = v.split(',').any(|o| o == "lse")
                || core.starts_with("v9")
                || core
                    .strip_prefix("v8.")
                    .and_then(|m| m.parse::<u32>().ok())
                    .is_some_and(|m| m >= 1);
            if lse {
                vec!["GOARM64_LSE".to_string()]
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

/// GOOS, GOARCH and the architecture knobs, which compile and asm read from
/// their environment (internal/buildcfg); nothing else reaches a tool.
fn tool_env(cfg: &LoadConfig) -> Vec<(String, String)> {
    let t = &cfg.target;
    let mut env = vec![
        ("GOARCH".to_string(), t.goarch.clone()),
        ("GOOS".to_string(), t.goos.clone()),
    ];
    // The GOARCH-specific knob, always explicit: the tools then never fall back
    // on a default of their own (cmd/go passes it through the environment).
    if let Some((k, v)) = t.arch_env().filter(|(_, v)| !v.is_empty()) {
        env.push((k.to_string(), v));
    }
    if !t.goexperiment.is_empty() {
        env.push(("GOEXPERIMENT".into(), t.goexperiment.clone()));
    }
    env.sort();
    env
}

pub(super) fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// Like go build's CheckPackageErrors: every load error in the packages `roots`
/// need is reported, once each, and nothing may be planned.
pub fn check_load_errors(g: &PackageGraph, roots: &[PkgId]) -> Result<(), PlanError> {
    let mut errors: Vec<(String, String)> = Vec::new();
    for id in g.post_order(roots) {
        if let Some(e) = g.pkg(id).error {
            errors.push((
                g.pkg(id).import_path.clone(),
                g.errors[e.0 as usize].to_string(),
            ));
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    errors.dedup_by(|a, b| a.1 == b.1);
    Err(PlanError::Load(errors))
}

/// Plans the build of `roots` (packages of the graph, chosen by the caller as
/// go build chooses them from the command line and `-o`): archives for every
/// package they need, and a link for each main package.
pub fn plan(
    cfg: &LoadConfig,
    g: &PackageGraph,
    roots: &[PkgId],
    opts: &PlanOptions,
) -> Result<ActionGraph, PlanError> {
    check_load_errors(g, roots)?;
    let goroot = cfg.toolchain.goroot.clone();
    // The one look at the file system while planning: where each header an
    // assembly file includes really is, to refuse any outside its root.
    let mut asm_headers_of = HashMap::new();
    for id in g.post_order(&g.roots) {
        let p = g.pkg(id);
        if !p.files.asm_include_files.is_empty() {
            let headers = asm_headers(p, &goroot)?;
            asm_headers_of.insert(p.dir.clone(), headers);
        }
    }
    let mut include_files: Vec<String> = std::fs::read_dir(goroot.join("pkg/include"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".h"))
                .collect()
        })
        .unwrap_or_default();
    include_files.sort();
    let include_files_include = include_files.iter().any(|h| {
        crate::load::gobuild::open_regular(&goroot.join("pkg/include").join(h))
            .and_then(std::io::read_to_string)
            .is_ok_and(|t| t.lines().any(|l| l.trim_start().starts_with("#include")))
    });
    // cgo packages: what gob cannot build of them, before anything is planned.
    for id in g.post_order(roots) {
        let why = "no C toolchain was found (set CC, or CGO_ENABLED=0)";
        super::cgo::check(g.pkg(id), opts.cc.as_deref(), why)?;
    }
    let mut pl = Planner {
        t: Target {
            tool_env: tool_env(cfg),
            cfg,
            opts,
            godebugs: read_godebugs(&goroot),
            goroot,
            include_files,
            include_files_include,
        },
        g,
        actions: Vec::new(),
        archive: HashMap::new(),
        preprofiles: HashMap::new(),
        roots: Vec::new(),
        asm_headers: asm_headers_of,
        cover: cfg
            .cover
            .as_ref()
            .map(|c| super::cover::Selection::new(c, &cfg.modules.cwd)),
    };
    let mut links = Vec::new();
    for &r in roots {
        if g.pkg(r).name == "main" {
            links.push((r, pl.link(r)));
        } else {
            pl.build_package(r);
        }
    }
    let cover_unmatched = match &pl.cover {
        Some(sel) => {
            let built = g.post_order(roots);
            sel.unmatched(built.iter().map(|&id| g.pkg(id)))
        }
        None => Vec::new(),
    };
    let mut actions = pl.actions;
    if let Some(o) = &g.overlay {
        super::inputs::apply_overlay(&mut actions, o);
    }
    super::inputs::check_declared_inputs(&mut actions, &pl.roots, g, &pl.t.goroot)?;
    Ok(ActionGraph {
        actions,
        links,
        archives: pl.archive,
        roots: pl.roots,
        cover_unmatched,
        cc: opts.cc.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote(b"a\tb\n"), "\"a\\tb\\n\"");
        assert_eq!(go_quote(b"0w\xaf\x0c"), "\"0w\\xaf\\f\"");
        assert_eq!(go_quote("é".as_bytes()), "\"é\"");
        assert_eq!(go_quote(b"\x00\""), "\"\\x00\\\"\"");
    }

    #[test]
    fn arch_level_defines_follow_asm_args() {
        use crate::load::gobuild::{ArchDefaults, TargetConfig};
        let d = |goarch: &str, set: &[(&str, &str)], defaults: ArchDefaults| {
            let mut t = TargetConfig::new("linux", goarch);
            t.arch_defaults = defaults;
            for (k, v) in set {
                let v = Some(v.to_string());
                match *k {
                    "GOARM" => t.goarm = v,
                    "GOPPC64" => t.goppc64 = v,
                    "GO386" => t.go386 = v,
                    _ => t.goarm64 = v,
                }
            }
            arch_defines(&t).join(" ")
        };
        let std = ArchDefaults::default;
        assert_eq!(d("arm", &[], std()), "GOARM_7 GOARM_6 GOARM_5");
        assert_eq!(
            d("arm", &[("GOARM", "6,softfloat")], std()),
            "GOARM_6 GOARM_5"
        );
        // A toolchain built with another default is followed when GOARM is unset.
        let zb =
            ArchDefaults::parse("const DefaultGOARM = `5`\nconst DefaultGO386 = `softfloat`\n");
        assert_eq!(d("arm", &[], zb.clone()), "GOARM_5");
        assert_eq!(d("386", &[], zb), "GO386_softfloat");
        assert_eq!(
            d("ppc64le", &[("GOPPC64", "power10")], std()),
            "GOPPC64_power10 GOPPC64_power9 GOPPC64_power8"
        );
        assert_eq!(d("riscv64", &[], std()), "GORISCV64_rva20u64");
        assert_eq!(d("arm64", &[("GOARM64", "v8.0,lse")], std()), "GOARM64_LSE");
        assert_eq!(d("arm64", &[], std()), "");
        assert_eq!(d("amd64", &[], std()), "GOAMD64_v1");
    }

    #[test]
    fn go_minor_versions() {
        assert_eq!(go_minor("1.22"), Some(22));
        assert_eq!(go_minor("1.21.3"), Some(21));
        assert_eq!(go_minor("2.0"), None);
    }
}
