//! cgo's actions for one package, with cmd/go's command lines (work/action.go's
//! `cgoAction`, work/exec.go's `runCgo`, `ccompile`, `compilerCmd`, `gccld`
//! and `dynimport`).
//!
//! Per package that uses cgo:
//! 1. `cgo` turns the cgo files into Go (`_cgo_gotypes.go`, `X.cgo1.go`) and C
//!    (`X.cgo2.c`, `_cgo_export.c`, `_cgo_export.h`, `_cgo_main.c`);
//! 2. one C compile per generated C file, then per `.S`, `.c`, `.m` and C++
//!    file of the package (`_x001.o`, `_x002.o`… in go's order);
//! 3. `_cgo_main.c` compiled, and linked with those objects and every `.syso`
//!    the package depends on into `_cgo_.o`;
//! 4. `cgo -dynimport` reads `_cgo_.o` into `_cgo_import.go`.
//!
//! The package's compile then takes its Go files, the generated Go files and
//! `_cgo_import.go` (staged in its own directory, as cmd/go has them in its
//! objdir), and the pack appends the objects.
//!
//! cmd/go runs all of these in one objdir; gob gives each action its own
//! directory and stages there what the next reads (`_cgo_export.h` beside each
//! compile, the generated C file it compiles), so `-I objdir` and
//! `-ffile-prefix-map=objdir=/tmp/go-build` name the action's own directory.

use std::path::{Path, PathBuf};

use super::cgoflags;
use super::cmdline::{lit, package_root, work, Planner};
use super::{
    Action, ActionId, ActionKind, Arg, Input, InputSource, Loc, Output, Part, PlanError, Tool,
};
use crate::cc::CToolchain;
use crate::load::{Package, PkgId};

/// What the package's compile and pack take from its cgo actions.
pub(super) struct CgoOut {
    /// Generated Go files, after the package's own: (name, producing action).
    pub go_files: Vec<(String, ActionId)>,
    /// Objects for the pack, in go's order: (producing action, name).
    pub objs: Vec<(ActionId, String)>,
    /// cmd/go's `preferlinkext` token: the user's `$CGO_*FLAGS` may not
    /// work with the internal linker, so an empty file of that name goes
    /// into the archive (before the objects) and the linker links
    /// externally unless told otherwise.
    pub prefer_link_ext: bool,
}

/// The `.s`/`.S` files go's assembler still takes in a cgo package: none,
/// except runtime/cgo's that are not `gcc_*` (cmd/go's exception).
pub(super) fn go_asm_files(p: &Package) -> Vec<String> {
    if p.files.cgo_files.is_empty() {
        return p.files.s_files.clone();
    }
    if p.standard && p.import_path == "runtime/cgo" {
        return p
            .files
            .s_files
            .iter()
            .filter(|f| !f.starts_with("gcc_"))
            .cloned()
            .collect();
    }
    Vec::new()
}

/// The assembly files the C compiler takes (cmd/go's `gas`).
fn gas_files(p: &Package) -> Vec<String> {
    if p.standard && p.import_path == "runtime/cgo" {
        p.files
            .s_files
            .iter()
            .filter(|f| f.starts_with("gcc_"))
            .cloned()
            .collect()
    } else {
        p.files.s_files.clone()
    }
}

/// What gob cannot build of a cgo package, checked before planning, with
/// go's words where go refuses too.
pub(super) fn check(p: &Package, cc: Option<&CToolchain>, why_none: &str) -> Result<(), PlanError> {
    let f = &p.files;
    if f.cgo_files.is_empty() {
        return Ok(());
    }
    let Some(cc) = cc else {
        return Err(PlanError::NeedsCgo {
            import_path: p.import_path.clone(),
            files: f.cgo_files.join(", "),
            why: why_none.to_string(),
        });
    };
    let refuse = |why: String| {
        Err(PlanError::Cgo {
            import_path: p.import_path.clone(),
            why,
        })
    };
    if !f.swig_files.is_empty() || !f.swig_cxx_files.is_empty() {
        return refuse("SWIG files: gob does not run swig yet".into());
    }
    if !f.f_files.is_empty() {
        return refuse("Fortran files: gob does not run a Fortran compiler yet".into());
    }
    // cmd/go's CFlags: the package's flags (as go/build expanded them on the
    // host) against the allowlist, with the user's CGO_*_ALLOW/_DISALLOW.
    let bad_flag = |why: String| {
        Err(PlanError::CgoFlag {
            import_path: p.import_path.clone(),
            why,
        })
    };
    let allow = &cc.env_flags.overrides;
    let c = &f.cgo;
    for (name, list) in [
        ("CPPFLAGS", &c.cppflags),
        ("CFLAGS", &c.cflags),
        ("CXXFLAGS", &c.cxxflags),
        ("FFLAGS", &c.fflags),
    ] {
        cgoflags::check_compiler_flags(name, &format!("#cgo {name}"), list, allow)
            .or_else(bad_flag)?;
    }
    cgoflags::check_linker_flags("LDFLAGS", "#cgo LDFLAGS", &c.ldflags, allow).or_else(bad_flag)?;
    if !c.pkg_config.is_empty() {
        return refuse(format!(
            "#cgo pkg-config: {}: gob does not run pkg-config yet",
            c.pkg_config.join(" ")
        ));
    }
    for s in gas_files(p) {
        let text = std::fs::read(p.dir.join(&s)).unwrap_or_default();
        let has = |w: &[u8]| {
            text.starts_with(w)
                || text
                    .windows(w.len() + 1)
                    .any(|x| x[0] == b'\n' && &x[1..] == w)
        };
        if has(b"TEXT") || has(b"DATA") || has(b"GLOBL") {
            return refuse(format!("package using cgo has Go assembly file {s}"));
        }
    }
    Ok(())
}

/// cmd/go's `gccArchArgs`.
fn arch_args(goos: &str, goarch: &str, t: &crate::load::gobuild::TargetConfig) -> Vec<String> {
    let darwin = goos == "darwin" || goos == "ios";
    let v: Vec<&str> = match goarch {
        "386" => vec!["-m32"],
        "amd64" if darwin => vec!["-arch", "x86_64", "-m64"],
        "amd64" => vec!["-m64"],
        "arm64" if darwin => vec!["-arch", "arm64"],
        "arm" => vec!["-marm"],
        "s390x" => vec!["-m64", "-march=z13"],
        "mips64" | "mips64le" => {
            let mut v = vec!["-mabi=64"];
            match t.gomips64.as_deref().unwrap_or("hardfloat") {
                "hardfloat" => v.push("-mhard-float"),
                "softfloat" => v.push("-msoft-float"),
                _ => {}
            }
            v
        }
        "mips" | "mipsle" => {
            let mut v = vec!["-mabi=32", "-march=mips32"];
            match t.gomips.as_deref().unwrap_or("hardfloat") {
                "hardfloat" => v.extend(["-mhard-float", "-mfp32", "-mno-odd-spreg"]),
                "softfloat" => v.push("-msoft-float"),
                _ => {}
            }
            v
        }
        "loong64" => vec!["-mabi=lp64d", "-mno-relax"],
        "ppc64" if goos == "aix" => vec!["-maix64"],
        _ => vec![],
    };
    v.into_iter().map(String::from).collect()
}

/// A flag of the package's (`${SRCDIR}` already expanded to the host package
/// directory by the loader) with the host directory `host_dir` of its root
/// (module, GOROOT) spelled as that root's location `dir`, so it names the
/// place the action sees.
fn flag_arg(flag: &str, host_dir: &Path, dir: &Loc) -> Arg {
    let host = host_dir.to_string_lossy();
    let mut parts = Vec::new();
    let mut rest = flag;
    let mut from = 0;
    // Only where it is a whole path prefix: followed by `/` or the end
    // (`-I/p/dir2` does not name `/p/dir`).
    while !host.is_empty() {
        let Some(at) = rest[from..].find(host.as_ref()).map(|a| from + a) else {
            break;
        };
        let end = at + host.len();
        if matches!(rest.as_bytes().get(end), None | Some(b'/')) {
            if at > 0 {
                parts.push(Part::Lit(rest[..at].to_string()));
            }
            parts.push(Part::Loc(dir.clone()));
            rest = &rest[end..];
            from = 0;
        } else {
            // `host` starts with `/`: one byte on is a char boundary.
            from = at + 1;
        }
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(Part::Lit(rest.to_string()));
    }
    Arg(parts)
}

/// The name of cmd/go's token file asking the linker to link externally.
pub(super) const PREFER_LINK_EXT: &str = "preferlinkext";

/// cmd/go's runCgo: whether the flags the C tools get (the environment's,
/// then the package's) may not work with the internal linker.
fn prefers_external_link(env: &crate::cc::EnvFlags, pkg: &crate::load::gobuild::CgoFlags) -> bool {
    let join = |a: &[String], b: &[String]| -> Vec<String> { a.iter().chain(b).cloned().collect() };
    let cflags = join(&env.cflags, &pkg.cflags);
    let cxxflags = join(&env.cxxflags, &pkg.cxxflags);
    let fflags = pkg.fflags.clone();
    let ldflags = join(&env.ldflags, &pkg.ldflags);
    cgoflags::flags_not_compatible_with_internal_linking(&[
        ("CGO_CFLAGS", &cflags),
        ("CGO_CXXFLAGS", &cxxflags),
        ("CGO_FFLAGS", &fflags),
    ]) || cgoflags::check_linker_flags_for_internal_link("CGO_LDFLAGS", "CGO_LDFLAGS", &ldflags)
        .is_err()
}

/// Go's `strconv.Quote` of an argument made of parts (locations are plain paths).
fn quoted(a: &Arg) -> Vec<Part> {
    let mut v = vec![Part::Lit("\"".into())];
    for p in &a.0 {
        match p {
            Part::Lit(t) => {
                let q = super::cmdline::go_quote(t.as_bytes());
                v.push(Part::Lit(q[1..q.len() - 1].to_string()));
            }
            Part::Loc(l) => v.push(Part::Loc(l.clone())),
        }
    }
    v.push(Part::Lit("\"".into()));
    v
}

/// Extensions of the files a C compile may `#include` from the package's tree.
fn is_c_source(name: &str) -> bool {
    [
        ".h", ".hh", ".hpp", ".hxx", ".h++", ".inc", ".def", ".c", ".cc", ".cpp", ".cxx", ".S",
        ".s", ".m",
    ]
    .iter()
    .any(|e| name.ends_with(e))
}

/// The package's C sources and headers, in its directory and below it (not
/// through directory links, not into directories holding another package's
/// go.mod): what its C compiles may include with a relative path. Names
/// relative to the package directory, sorted.
fn c_sources(dir: &Path) -> Vec<String> {
    // A link to a file counts: plan/inputs.rs declares it by its target,
    // and refuses one out of the package's root, naming it.
    let linked_file = |r: &Path| dir.join(r).is_file();
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(dir.join(&rel)) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            let name = e.file_name().to_string_lossy().into_owned();
            let r = rel.join(&name);
            if ft.is_dir() {
                if !name.starts_with('.')
                    && !name.starts_with('_')
                    && name != "testdata"
                    && !dir.join(&r).join("go.mod").exists()
                {
                    stack.push(r);
                }
            } else if is_c_source(&name) && (ft.is_file() || (ft.is_symlink() && linked_file(&r))) {
                out.push(r.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// The directories the package's `#cgo` C/C++ preprocessor flags add with
/// `-I` (`-Idir` or `-I dir`; go/build made them absolute) that lie inside
/// `root` but outside the package directory `dir` (whose files are declared
/// anyway), cleaned, each once, outermost first: a directory inside another
/// is covered by it.
fn include_dirs(flags: &crate::load::gobuild::CgoFlags, dir: &Path, root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for list in [&flags.cppflags, &flags.cflags, &flags.cxxflags] {
        let mut words = list.iter();
        while let Some(w) = words.next() {
            let d = match w.strip_prefix("-I") {
                Some("") => words.next().map(String::as_str),
                Some(d) => Some(d),
                None => None,
            };
            let Some(d) = d.map(|d| crate::load::modules::clean_path(Path::new(d))) else {
                continue;
            };
            if d.starts_with(root) && !d.starts_with(dir) {
                out.push(d);
            }
        }
    }
    out.sort();
    out.dedup();
    let mut kept: Vec<PathBuf> = Vec::new();
    for d in out {
        if !kept.iter().any(|k| d.starts_with(k)) {
            kept.push(d);
        }
    }
    kept
}

impl Planner<'_> {
    /// The compiler's command prefix (cmd/go's `compilerCmd`), words after
    /// the program: `-I <package dir>`, `-fPIC`, the architecture's flags,
    /// `-pthread`, what the probes allow, the own directory mapped to
    /// `/tmp/go-build`.
    fn cc_prefix(&mut self, cc: &CToolchain, tool: Tool, p: &Package, me: ActionId) -> Vec<Arg> {
        let t = &self.t.cfg.target;
        let words = if tool == Tool::Cxx { &cc.cxx } else { &cc.cc };
        // Empty words (CC=" ") have no driver: the spawn names that.
        let mut a: Vec<Arg> = words.iter().skip(1).map(lit).collect();
        a.push(lit("-I"));
        a.push(Arg::loc(self.src_loc(p, "")));
        if t.goos != "windows" {
            a.push(lit("-fPIC"));
        }
        a.extend(arch_args(&t.goos, &t.goarch, t).into_iter().map(lit));
        a.push(lit("-pthread"));
        if t.goos == "aix" {
            a.push(lit("-mcmodel=large"));
        }
        for f in [
            "-fno-caret-diagnostics",
            "-Qunused-arguments",
            "-Wl,--no-gc-sections",
        ] {
            if cc.supports(f) {
                a.push(lit(f));
            }
        }
        a.push(lit("-fmessage-length=0"));
        if cc.supports("-fdebug-prefix-map=a=b") {
            let flag = if cc.supports("-ffile-prefix-map=a=b") {
                "-ffile-prefix-map="
            } else {
                "-fdebug-prefix-map="
            };
            a.push(Arg(vec![
                Part::Lit(flag.into()),
                Part::Loc(work(me, "")),
                Part::Lit("=/tmp/go-build".into()),
            ]));
        }
        if cc.supports("-gno-record-gcc-switches") {
            a.push(lit("-gno-record-gcc-switches"));
        }
        if t.goos == "darwin" || t.goos == "ios" {
            a.push(lit("-fno-common"));
        }
        a
    }

    /// The environment of a C action: the tools' own, `TERM=dumb` as cmd/go
    /// sets it, and `PATH` to the toolchain's programs.
    fn cc_env(&self, cc: &CToolchain, extra: &[(&str, String)]) -> Vec<(String, String)> {
        let mut env = self.t.tool_env.clone();
        env.push(("TERM".into(), "dumb".into()));
        env.push(("PATH".into(), cc.path.clone()));
        for (k, v) in extra {
            env.push((k.to_string(), v.clone()));
        }
        env.sort();
        env
    }

    /// Plans the cgo actions of package `id` (see the module doc).
    pub(super) fn cgo_actions(&mut self, id: PkgId, cc: &CToolchain) -> CgoOut {
        let p = self.pkg(id);
        let src_dir = self.src_loc(p, "");
        let (root, host_root) = package_root(p, &self.t.goroot);
        let f = p.files.clone();
        let root_loc = Loc::Src {
            root: root.clone(),
            rel: String::new(),
        };
        let pkg_flag = |fl: &String| flag_arg(fl, &host_root, &root_loc);
        let cppflags: Vec<Arg> = cc
            .env_flags
            .cppflags
            .iter()
            .map(lit)
            .chain(f.cgo.cppflags.iter().map(pkg_flag))
            .collect();
        let cflags: Vec<Arg> = cc
            .env_flags
            .cflags
            .iter()
            .map(lit)
            .chain(f.cgo.cflags.iter().map(pkg_flag))
            .collect();
        let cxxflags: Vec<Arg> = cc
            .env_flags
            .cxxflags
            .iter()
            .map(lit)
            .chain(f.cgo.cxxflags.iter().map(pkg_flag))
            .collect();
        let mut ldflags: Vec<Arg> = cc
            .env_flags
            .ldflags
            .iter()
            .map(lit)
            .chain(f.cgo.ldflags.iter().map(pkg_flag))
            .collect();
        if !f.m_files.is_empty() {
            ldflags.push(lit("-lobjc"));
        }
        let prefer_link_ext = prefers_external_link(&cc.env_flags, &f.cgo);
        // The package's own C files and headers, and those of every
        // directory its `#cgo` flags add with `-I` inside its module (as
        // `-I${SRCDIR}/../include`): at their places under the root.
        let mut sources: Vec<(Loc, PathBuf)> = Vec::new();
        for dir in std::iter::once(p.dir.clone()).chain(include_dirs(&f.cgo, &p.dir, &host_root)) {
            let Ok(dir_rel) = dir.strip_prefix(&host_root) else {
                continue;
            };
            let mut names = c_sources(&dir);
            if dir == p.dir {
                // The cgo files too: the package directory then exists in
                // the action's view, for `-I${SRCDIR}/../include` to
                // resolve through it even when it holds no C file.
                names.extend(f.cgo_files.iter().cloned());
            }
            for s in names {
                let rel = dir_rel.join(&s).to_string_lossy().into_owned();
                sources.push((
                    Loc::Src {
                        root: root.clone(),
                        rel,
                    },
                    dir.join(&s),
                ));
            }
        }
        let source_inputs = |_: &mut Planner<'_>| -> Vec<Input> {
            sources
                .iter()
                .map(|(at, host)| Input {
                    at: at.clone(),
                    source: InputSource::Host(host.clone()),
                })
                .collect()
        };

        // 1. cgo.
        let cgo = self.next_id();
        let objdir = |a: ActionId| Arg(vec![Part::Loc(work(a, "")), Part::Lit("/".into())]);
        let mut args = vec![
            lit("-objdir"),
            objdir(cgo),
            lit("-importpath"),
            lit(p.import_path.clone()),
        ];
        if p.standard && p.import_path == "runtime/cgo" {
            args.push(lit("-import_runtime_cgo=false"));
        }
        if p.standard
            && [
                "runtime/race",
                "runtime/msan",
                "runtime/cgo",
                "runtime/asan",
            ]
            .contains(&p.import_path.as_str())
        {
            args.push(lit("-import_syscall=false"));
        }
        // cgo runs $CC itself: by the driver's own file, as the C actions
        // do (found through a link elsewhere, gcc would look for cc1 there).
        let cc_var = super::flags::join_quoted(&cc.run_words(false)).unwrap_or_default();
        let mut extra_env: Vec<(&str, String)> = vec![("CC", cc_var)];
        if !ldflags.is_empty() {
            let mut parts = vec![Part::Lit("-ldflags=".into())];
            for (i, l) in ldflags.iter().enumerate() {
                if i > 0 {
                    parts.push(Part::Lit(" ".into()));
                }
                parts.extend(quoted(l));
            }
            args.push(Arg(parts));
            extra_env.push(("CGO_LDFLAGS", String::new()));
        }
        args.push(lit("--"));
        args.extend(cppflags.iter().cloned());
        args.extend([lit("-I"), objdir(cgo)]);
        args.extend(cflags.iter().cloned());
        let mut inputs = source_inputs(self);
        let mut outputs = Vec::new();
        let mut out = |name: String| {
            outputs.push(Output {
                at: work(cgo, &name),
                name,
                exec: false,
            })
        };
        for n in [
            "_cgo_gotypes.go",
            "_cgo_export.c",
            "_cgo_export.h",
            "_cgo_main.c",
        ] {
            out(n.to_string());
        }
        let mut gen_go = vec![("_cgo_gotypes.go".to_string(), cgo)];
        let mut gen_c = vec!["_cgo_export.c".to_string()];
        for file in &f.cgo_files {
            let at = self.src_loc(p, file);
            args.push(Arg::loc(at.clone()));
            inputs.push(Input {
                at,
                source: InputSource::Host(p.dir.join(file)),
            });
            let stem = file.strip_suffix(".go").unwrap_or(file);
            out(format!("{stem}.cgo1.go"));
            out(format!("{stem}.cgo2.c"));
            gen_go.push((format!("{stem}.cgo1.go"), cgo));
            gen_c.push(format!("{stem}.cgo2.c"));
        }
        let env = self.cc_env(cc, &extra_env);
        self.push(Action {
            id: cgo,
            kind: ActionKind::Cgo,
            c_toolchain: true,
            package: id,
            import_path: p.import_path.clone(),
            deps: Vec::new(),
            tool: Tool::Cgo,
            args,
            env,
            cwd: src_dir.clone(),
            src_dir: src_dir.clone(),
            inputs,
            outputs,
        });

        // 2. The C compiles, in cmd/go's order and numbering.
        let prefix_map = {
            let to = if p.standard {
                "GOROOT".to_string()
            } else {
                match &p.module {
                    Some(m) if !m.version.is_empty() => format!("{}@{}", m.path, m.version),
                    Some(m) => m.path.clone(),
                    None => p.import_path.clone(),
                }
            };
            let _ = &host_root;
            (
                Loc::Src {
                    root: root.clone(),
                    rel: String::new(),
                },
                format!("/_/{to}"),
            )
        };
        enum Src {
            Generated(String),
            Package(String),
        }
        let mut jobs: Vec<(Src, Tool)> = gen_c
            .into_iter()
            .map(|c| (Src::Generated(c), Tool::Cc))
            .collect();
        jobs.extend(
            gas_files(p)
                .into_iter()
                .map(|s| (Src::Package(s), Tool::Cc)),
        );
        jobs.extend(
            f.c_files
                .iter()
                .chain(&f.m_files)
                .map(|s| (Src::Package(s.clone()), Tool::Cc)),
        );
        jobs.extend(
            f.cxx_files
                .iter()
                .map(|s| (Src::Package(s.clone()), Tool::Cxx)),
        );
        let mut objs = Vec::new();
        let mut seq = 0;
        let compile_one = |pl: &mut Planner<'_>, src: Src, tool: Tool, obj: String| -> ActionId {
            let me = pl.next_id();
            let mut args = pl.cc_prefix(cc, tool, p, me);
            args.extend(cppflags.iter().cloned());
            args.extend([lit("-I"), objdir(me)]);
            args.extend(if tool == Tool::Cxx {
                cxxflags.iter().cloned()
            } else {
                cflags.iter().cloned()
            });
            if cc.supports("-fdebug-prefix-map=a=b") {
                let flag = if cc.supports("-ffile-prefix-map=a=b") {
                    "-ffile-prefix-map="
                } else {
                    "-fdebug-prefix-map="
                };
                args.push(Arg(vec![
                    Part::Lit(flag.into()),
                    Part::Loc(prefix_map.0.clone()),
                    Part::Lit(format!("={}", prefix_map.1)),
                ]));
            }
            let name = match &src {
                Src::Generated(n) | Src::Package(n) => n.clone(),
            };
            if cc.supports("-frandom-seed=1") {
                let seed =
                    crate::cache::Digest::of_bytes(format!("{} {name}", p.import_path).as_bytes());
                args.push(lit(format!("-frandom-seed={}", &seed.to_string()[..20])));
            }
            let base = name.rsplit('/').next().unwrap_or(&name).to_string();
            args.extend([lit("-o"), Arg::loc(work(me, &obj)), lit("-c"), lit(base)]);
            let mut inputs = source_inputs(pl);
            inputs.push(Input {
                at: work(me, "_cgo_export.h"),
                source: InputSource::Output {
                    action: cgo,
                    name: "_cgo_export.h".into(),
                },
            });
            let cwd = match &src {
                Src::Generated(n) => {
                    inputs.push(Input {
                        at: work(me, n),
                        source: InputSource::Output {
                            action: cgo,
                            name: n.clone(),
                        },
                    });
                    work(me, "")
                }
                Src::Package(_) => src_dir.clone(),
            };
            let env = pl.cc_env(cc, &[]);
            pl.push(Action {
                id: me,
                kind: ActionKind::Cc,
                c_toolchain: true,
                package: id,
                import_path: p.import_path.clone(),
                deps: vec![cgo],
                tool,
                args,
                env,
                cwd,
                src_dir: src_dir.clone(),
                inputs,
                outputs: vec![Output {
                    name: obj.clone(),
                    at: work(me, &obj),
                    exec: false,
                }],
            })
        };
        for (src, tool) in jobs {
            seq += 1;
            let obj = format!("_x{seq:03}.o");
            let a = compile_one(self, src, tool, obj.clone());
            objs.push((a, obj));
        }

        // 3. _cgo_main.o, and _cgo_.o linked from it, the objects and every .syso.
        let main_o = compile_one(
            self,
            Src::Generated("_cgo_main.c".into()),
            Tool::Cc,
            "_cgo_main.o".into(),
        );
        let me = self.next_id();
        let link_tool = if f.cxx_files.is_empty() {
            Tool::Cc
        } else {
            Tool::Cxx
        };
        let mut args = self.cc_prefix(cc, link_tool, p, me);
        args.extend([lit("-o"), Arg::loc(work(me, "_cgo_.o"))]);
        let mut inputs = Vec::new();
        let mut deps = Vec::new();
        for (i, (a, name)) in std::iter::once(&(main_o, "_cgo_main.o".to_string()))
            .chain(objs.iter())
            .enumerate()
        {
            if i == 1 && prefer_link_ext {
                let at = work(me, PREFER_LINK_EXT);
                args.push(Arg::loc(at.clone()));
                inputs.push(Input {
                    at,
                    source: InputSource::Generated(Vec::new()),
                });
            }
            let at = work(*a, name);
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
        let mut sysos: Vec<(Loc, PathBuf)> = Vec::new();
        for d in self.g.post_order(&[id]) {
            let dp = self.pkg(d);
            for s in &dp.files.syso_files {
                let at = self.src_loc(dp, s);
                sysos.push((at, dp.dir.join(s)));
            }
        }
        sysos.sort_by(|a, b| a.1.cmp(&b.1));
        sysos.dedup_by(|a, b| a.1 == b.1);
        for (at, host) in sysos {
            args.push(Arg::loc(at.clone()));
            inputs.push(Input {
                at,
                source: InputSource::Host(host),
            });
        }
        let t = &self.t.cfg.target;
        let mut ld = ldflags.clone();
        if (t.goarch == "arm" && t.goos == "linux") || t.goos == "android" {
            let has = |ld: &[Arg], w: &str| ld.iter().any(|a| a.0 == vec![Part::Lit(w.into())]);
            if !has(&ld, "-no-pie") {
                ld.push(lit("-pie"));
            }
            if has(&ld, "-pie") && has(&ld, "-static") {
                ld.retain(|a| a.0 != vec![Part::Lit("-static".into())]);
            }
        }
        args.extend(ld);
        let env = self.cc_env(cc, &[]);
        let cc_link = self.push(Action {
            id: me,
            kind: ActionKind::CcLink,
            c_toolchain: true,
            package: id,
            import_path: p.import_path.clone(),
            deps,
            tool: link_tool,
            args,
            env,
            cwd: work(me, ""),
            src_dir: src_dir.clone(),
            inputs,
            outputs: vec![Output {
                name: "_cgo_.o".into(),
                at: work(me, "_cgo_.o"),
                exec: false,
            }],
        });

        // 4. cgo -dynimport.
        let me = self.next_id();
        let mut args = vec![
            lit("-dynpackage"),
            lit(p.name.clone()),
            lit("-dynimport"),
            Arg::loc(work(cc_link, "_cgo_.o")),
            lit("-dynout"),
            Arg::loc(work(me, "_cgo_import.go")),
        ];
        if p.standard && p.import_path == "runtime/cgo" {
            args.push(lit("-dynlinker"));
        }
        let mut env = self.t.tool_env.clone();
        env.push(("TERM".into(), "dumb".into()));
        env.sort();
        let dynimport = self.push(Action {
            id: me,
            kind: ActionKind::Dynimport,
            c_toolchain: false,
            package: id,
            import_path: p.import_path.clone(),
            deps: vec![cc_link],
            tool: Tool::Cgo,
            args,
            env,
            cwd: work(me, ""),
            src_dir,
            inputs: vec![Input {
                at: work(cc_link, "_cgo_.o"),
                source: InputSource::Output {
                    action: cc_link,
                    name: "_cgo_.o".into(),
                },
            }],
            outputs: vec![Output {
                name: "_cgo_import.go".into(),
                at: work(me, "_cgo_import.go"),
                exec: false,
            }],
        });
        gen_go.push(("_cgo_import.go".into(), dynimport));
        CgoOut {
            go_files: gen_go,
            objs,
            prefer_link_ext,
        }
    }
}

/// cmd/link's `internalpkg`: the standard packages whose C objects the
/// internal linker links itself.
const INTERNAL_LINK_OK: &[&str] = &[
    "crypto/internal/boring",
    "crypto/internal/boring/syso",
    "crypto/x509",
    "net",
    "os/user",
    "runtime/cgo",
    "runtime/race",
    "runtime/msan",
    "runtime/asan",
];

/// Why cmd/link links `root`'s program externally on its own (an executable
/// with cgo: `determineLinkMode`'s `iscgo && externalobj`): the first
/// package, in build order, outside [`INTERNAL_LINK_OK`] that brings C
/// objects (cgo's or `.syso` files). None when it links internally, or when
/// the program has no cgo (it decides nothing then).
pub fn external_link_cause(g: &crate::load::PackageGraph, root: PkgId) -> Option<String> {
    let order = g.post_order(&[root]);
    let has_cgo = order
        .iter()
        .any(|&d| g.pkg(d).standard && g.pkg(d).import_path == "runtime/cgo");
    if !has_cgo {
        return None;
    }
    order.iter().find_map(|&d| {
        let p = g.pkg(d);
        let f = &p.files;
        let objects = !f.cgo_files.is_empty() || !f.syso_files.is_empty();
        (objects && !(p.standard && INTERNAL_LINK_OK.contains(&p.import_path.as_str())))
            .then(|| format!("package {} has C objects", p.import_path))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_arg_maps_the_root_on_path_boundaries() {
        let dir = Loc::Src {
            root: super::super::SrcRoot::Goroot,
            rel: String::new(),
        };
        let host = Path::new("/p/dir");
        let lit = |s: &str| Part::Lit(s.into());
        let loc = || Part::Loc(dir.clone());
        let got = |f: &str| flag_arg(f, host, &dir).0;
        assert_eq!(got("-I/p/dir/inc"), vec![lit("-I"), loc(), lit("/inc")]);
        assert_eq!(got("/p/dir"), vec![loc()]);
        assert_eq!(got("-I/p/dir2"), vec![lit("-I/p/dir2")]);
        assert_eq!(
            got("-DX=/p/dir2:/p/dir/a"),
            vec![lit("-DX=/p/dir2:"), loc(), lit("/a")]
        );
        assert_eq!(got(""), vec![lit("")]);
    }
}
