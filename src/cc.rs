//! The C toolchain of cgo builds (issue #15): the compiler `$CC` and `$CXX`
//! name, and everything it runs and reads, found from the compiler itself.
//!
//! Overview:
//! 1. `$CC`/`$CXX` are split into words as cmd/go's `envList` does; the first
//!    word is found on `$PATH` (or taken as a path).
//! 2. The compiler is asked, with a clean environment, where its parts are:
//!    `-print-search-dirs` (its install directory and library directories),
//!    `-print-prog-name=…` (cc1, cc1plus, collect2, lto-wrapper, as, ld),
//!    `-E -Wp,-v` (the `#include <…>` directories of C and C++).
//! 3. Those become what a C action may see: the programs and their start-up
//!    closure (loader, libraries) as files; the install directory and the
//!    include directories as read-only trees; the library directories'
//!    objects, archives and shared libraries as files, for the actions that
//!    link. Everything is bound at the path the compiler names it by.
//! 4. [`CToolchain::identity`] digests every one of those files (through the
//!    stat cache): it is in the key of every action that runs the compiler, so
//!    a changed header, library or program is a different key.
//! 5. cmd/go's flag probes (`gccSupportsFlag`) are run once per discovery,
//!    with go's command lines and go's reading of the output.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::cache::{Digest, DigestCache};

/// Flags cmd/go probes the compiler for; what each turns on is cmd/go's.
pub const PROBED_FLAGS: [&str; 9] = [
    "-fno-caret-diagnostics",
    "-Qunused-arguments",
    "-Wl,--no-gc-sections",
    "-fdebug-prefix-map=a=b",
    "-ffile-prefix-map=a=b",
    "-gno-record-gcc-switches",
    "-frandom-seed=1",
    "-no-pie",
    "-nopie",
];

/// The programs a gcc-style driver runs, asked for by `-print-prog-name`.
const HELPERS: [&str; 7] = [
    "cc1",
    "cc1plus",
    "collect2",
    "lto-wrapper",
    "lto1",
    "as",
    "ld",
];

/// A discovered C toolchain.
#[derive(Debug)]
pub struct CToolchain {
    /// `$CC` in words (`["gcc"]`, `["zig", "cc"]`), as cmd/go runs it.
    pub cc: Vec<String>,
    /// `$CXX` in words.
    pub cxx: Vec<String>,
    /// The C driver: (host file, path it is run by: the same file).
    pub cc_program: (PathBuf, PathBuf),
    /// The C++ driver, when there is one.
    pub cxx_program: Option<(PathBuf, PathBuf)>,
    /// `$PATH` of the actions that run it: the directories of the programs
    /// named by a bare name (the driver, `as`, `ld`), in the host's order.
    pub path: String,
    /// Programs and what they need to start: (host file, path it is opened by).
    pub files: Vec<(PathBuf, PathBuf)>,
    /// Directory trees bound read-only: (host directory, path it is named by).
    pub trees: Vec<(PathBuf, PathBuf)>,
    /// What a link reads from the library directories: (host file, path).
    pub lib_files: Vec<(PathBuf, PathBuf)>,
    /// `$CGO_CPPFLAGS`, `$CGO_CFLAGS`, `$CGO_CXXFLAGS`, `$CGO_LDFLAGS` in
    /// words (go's defaults when unset), which every cgo command starts with.
    pub env_flags: EnvFlags,
    /// cmd/go's probe results, per flag.
    supported: BTreeMap<String, bool>,
    /// The digest of everything above, computed on first use.
    identity: OnceLock<Result<Digest, String>>,
}

/// The `$CGO_*FLAGS` of a build, in words.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvFlags {
    /// `$CGO_CPPFLAGS` (default empty).
    pub cppflags: Vec<String>,
    /// `$CGO_CFLAGS` (default `-O2 -g`).
    pub cflags: Vec<String>,
    /// `$CGO_CXXFLAGS` (default `-O2 -g`).
    pub cxxflags: Vec<String>,
    /// `$CGO_LDFLAGS` (default `-O2 -g`).
    pub ldflags: Vec<String>,
    /// `$CGO_<NAME>_ALLOW`/`_DISALLOW`: how the user widens or narrows the
    /// allowlist the package's own flags are checked against.
    pub overrides: crate::plan::cgoflags::FlagOverrides,
}

/// What a build says of its C toolchain: `$CC`, `$CXX`, `$PATH` and the
/// `$CGO_*FLAGS`, read from the configuration (`crate::config`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CgoEnv {
    /// `$CC` in words (go's default compiler when unset).
    pub cc: Vec<String>,
    /// `$CXX` in words.
    pub cxx: Vec<String>,
    /// The process's `$PATH`, where bare names are found.
    pub path: String,
    /// The flags.
    pub flags: EnvFlags,
}

impl CgoEnv {
    /// Discovers the toolchain it names.
    pub fn discover(&self) -> Result<CToolchain, CcError> {
        CToolchain::discover(
            self.cc.clone(),
            self.cxx.clone(),
            &self.path,
            self.flags.clone(),
        )
    }
}

/// How discovery failed: what was asked and what went wrong.
#[derive(Debug, thiserror::Error)]
pub enum CcError {
    /// `$CC` (or `$CXX`) is empty or unparsable.
    #[error("{var}={value:?}: {why}")]
    BadVar {
        /// `CC` or `CXX`.
        var: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        why: String,
    },
    /// The compiler is not on `$PATH`.
    #[error(
        "cgo: C compiler \"{0}\" not found: exec: \"{0}\": executable file not found in $PATH"
    )]
    NotFound(String),
    /// Running the compiler to ask it failed.
    #[error("cgo: asking the C compiler {program} ({question}): {why}")]
    Ask {
        /// The program.
        program: String,
        /// What was asked (`-print-search-dirs`).
        question: String,
        /// What happened.
        why: String,
    },
    /// A file the compiler names cannot be declared.
    #[error("cgo: the C compiler's file {path}: {why}")]
    File {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
}

impl CToolchain {
    /// Finds the toolchain `cc` and `cxx` (cmd/go's words) name on `path`
    /// (the process's `$PATH`). `env_flags` are the build's `$CGO_*FLAGS`
    /// (go's probes pass `$CGO_CFLAGS` and `$CGO_LDFLAGS`).
    pub fn discover(
        cc: Vec<String>,
        cxx: Vec<String>,
        path: &str,
        env_flags: EnvFlags,
    ) -> Result<CToolchain, CcError> {
        let driver = find_program(&cc, "CC", path)?;
        // go's flag probes (each a compile) run meanwhile, side by side.
        let probes = {
            let (cc, path) = (cc.clone(), path.to_string());
            let (cflags, ldflags) = (env_flags.cflags.clone(), env_flags.ldflags.clone());
            std::thread::spawn(move || {
                std::thread::scope(|s| {
                    let runs: Vec<_> = PROBED_FLAGS
                        .iter()
                        .map(|flag| {
                            let (cc, path, cflags, ldflags) = (&cc, &path, &cflags, &ldflags);
                            s.spawn(move || {
                                (flag.to_string(), probe(cc, path, flag, cflags, ldflags))
                            })
                        })
                        .collect();
                    // A probe that panicked leaves its flag unsupported.
                    runs.into_iter()
                        .filter_map(|r| r.join().ok())
                        .collect::<BTreeMap<String, bool>>()
                })
            })
        };
        let cxx_driver = find_program(&cxx, "CXX", path).ok();
        let ask = |args: &[&str]| ask(&cc, path, args);
        let search = ask(&["-print-search-dirs"])?;
        let mut install = None;
        let mut lib_dirs = Vec::new();
        for line in search.lines() {
            if let Some(d) = line.strip_prefix("install: ") {
                install = Some(normalize(Path::new(d.trim())));
            } else if let Some(ds) = line.strip_prefix("libraries: ") {
                let ds = ds.trim().trim_start_matches('=');
                lib_dirs.extend(
                    ds.split(':')
                        .filter(|d| !d.is_empty())
                        .map(|d| normalize(Path::new(d))),
                );
            }
        }
        // Programs: the drivers, and the helpers they run.
        let mut programs: Vec<(PathBuf, PathBuf)> = Vec::new();
        let mut path_dirs: Vec<PathBuf> = Vec::new();
        let mut add_program = |at: PathBuf, bare: bool| -> Result<(), CcError> {
            let host = std::fs::canonicalize(&at).map_err(|e| CcError::File {
                path: at.display().to_string(),
                why: e.to_string(),
            })?;
            if bare {
                if let Some(d) = at.parent() {
                    if !path_dirs.iter().any(|p| p == d) {
                        path_dirs.push(d.to_path_buf());
                    }
                }
            }
            if !programs.iter().any(|(_, a)| *a == at) {
                programs.push((host, at));
            }
            Ok(())
        };
        // The drivers by their own files (they run by them, see below): the
        // name one was found by (a link on $PATH, perhaps below /tmp, which
        // the sandbox provides itself) is never opened inside.
        let real = |p: &PathBuf| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        add_program(real(&driver), !cc[0].contains('/'))?;
        if let Some(d) = &cxx_driver {
            add_program(real(d), !cxx[0].contains('/'))?;
        }
        for h in HELPERS {
            let named = ask(&[&format!("-print-prog-name={h}")])?;
            let named = named.trim();
            if named.contains('/') {
                let at = normalize(Path::new(named));
                if at.is_file() {
                    add_program(at, false)?;
                }
            } else if let Some(at) = lookup(named, path) {
                add_program(at, true)?;
            }
        }
        let files =
            crate::exec::toolexec::start_closure(&programs).map_err(|why| CcError::File {
                path: driver.display().to_string(),
                why,
            })?;
        let mut files: Vec<(PathBuf, PathBuf)> =
            files.into_iter().map(|f| (f.host, f.at)).collect();
        // Trees: the install directory, the include directories.
        let mut tree_paths: Vec<PathBuf> = install.into_iter().collect();
        tree_paths.extend(include_dirs(&cc, path, "c")?);
        if cxx_driver.is_some() {
            tree_paths.extend(include_dirs(&cxx, path, "c++")?);
        }
        let trees = outermost(tree_paths);
        files.retain(|(_, at)| !trees.iter().any(|(_, t)| at.starts_with(t)));
        // Library files, for links.
        let mut lib_files: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
        for d in &lib_dirs {
            let Ok(rd) = std::fs::read_dir(d) else {
                continue;
            };
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !is_library(&name) {
                    continue;
                }
                let at = d.join(&name);
                if trees.iter().any(|(_, t)| at.starts_with(t)) {
                    continue;
                }
                if let Ok(host) = std::fs::canonicalize(&at) {
                    if host.is_file() {
                        lib_files.entry(at).or_insert(host);
                    }
                }
            }
        }
        let lib_files = lib_files.into_iter().map(|(at, host)| (host, at)).collect();
        let path_env = std::env::join_paths(&path_dirs)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let supported = probes.join().unwrap_or_default();
        // The drivers run by their own files: gcc finds its helpers from
        // where it runs (through links, with realpath), and in the sandbox
        // the name it was found by is a plain file, not the host's link.
        let resolved = |at: &PathBuf| std::fs::canonicalize(at).map(|h| (h.clone(), h)).ok();
        let cc_program = resolved(&driver).ok_or_else(|| CcError::NotFound(cc[0].clone()))?;
        let cxx_program = cxx_driver.as_ref().and_then(resolved);
        Ok(CToolchain {
            cc_program,
            cxx_program,
            cc,
            cxx,
            path: path_env,
            files,
            trees,
            lib_files,
            env_flags,
            supported,
            identity: OnceLock::new(),
        })
    }

    /// Everything an action that runs the compiler sees, read-only: (host,
    /// path); a link (`link` true) also sees the library directories' files.
    pub fn binds(&self, link: bool) -> Vec<(PathBuf, PathBuf)> {
        let mut v: Vec<(PathBuf, PathBuf)> = self
            .files
            .iter()
            .chain(&self.trees)
            .chain(std::iter::once(&self.cc_program))
            .chain(&self.cxx_program)
            .cloned()
            .collect();
        if link {
            v.extend(self.lib_files.iter().cloned());
        }
        v
    }

    /// `$CC` (or, `cxx`, `$CXX`) in words as the tools that run the driver
    /// themselves get it (cgo's `$CC`, the linker's `-extld`): the driver
    /// by its own file, which is what the sandbox holds.
    pub fn run_words(&self, cxx: bool) -> Vec<String> {
        let (mut words, program) = if cxx {
            (self.cxx.clone(), self.cxx_program.as_ref())
        } else {
            (self.cc.clone(), Some(&self.cc_program))
        };
        if let (Some(first), Some((_, at))) = (words.first_mut(), program) {
            *first = at.to_string_lossy().into_owned();
        }
        words
    }

    /// What the no-op memo stamps for this toolchain (`crate::memo`): every
    /// program and library file, by its host file and by the path it is run
    /// or opened by (a link), the library directories (listed by discovery:
    /// an added library changes their stamps), and every directory and file
    /// of the trees (an added header shadowing another changes a
    /// directory's). Stamped only, never hashed: like GOROOT, a changed
    /// stamp is a miss.
    pub fn memo_paths(&self) -> Vec<PathBuf> {
        let mut v = Vec::new();
        for (host, at) in self.files.iter().chain(&self.lib_files) {
            v.push(host.clone());
            v.push(at.clone());
        }
        for (_, at) in &self.lib_files {
            v.extend(at.parent().map(Path::to_path_buf));
        }
        for (host, _) in &self.trees {
            v.push(host.clone());
            for (rel, file) in walk_files(host) {
                v.extend(rel.parent().map(|d| host.join(d)));
                v.push(file);
            }
        }
        v.sort();
        v.dedup();
        v
    }

    /// Whether the compiler takes `flag` (one of [`PROBED_FLAGS`]), as cmd/go's
    /// `gccSupportsFlag` decided it.
    pub fn supports(&self, flag: &str) -> bool {
        self.supported.get(flag).copied().unwrap_or(false)
    }

    /// The digest of the toolchain: its words, every program, library and
    /// header it may read (path and content). In the key of every action that
    /// runs the compiler.
    pub fn identity(&self, digests: &DigestCache) -> Result<Digest, String> {
        self.identity
            .get_or_init(|| {
                let mut text = String::new();
                text.push_str(&format!(
                    "cc {:?}\ncxx {:?}\npath {}\n",
                    self.cc, self.cxx, self.path
                ));
                let mut add = |at: &Path, host: &Path| -> Result<(), String> {
                    let d = digests.digest(host).map_err(|e| {
                        format!("reading the C toolchain's {}: {e}", host.display())
                    })?;
                    text.push_str(&format!("{} {d}\n", at.display()));
                    Ok(())
                };
                for (host, at) in self.files.iter().chain(&self.lib_files) {
                    add(at, host)?;
                }
                for (host, at) in &self.trees {
                    for (rel, file) in walk_files(host) {
                        add(&at.join(&rel), &file)?;
                    }
                }
                Ok(Digest::of_bytes(text.as_bytes()))
            })
            .clone()
    }
}

/// The first word of `words` as a host path: itself when it has a `/`, else
/// found on `path`.
fn find_program(words: &[String], var: &'static str, path: &str) -> Result<PathBuf, CcError> {
    let Some(first) = words.first() else {
        return Err(CcError::BadVar {
            var,
            value: String::new(),
            why: "empty".into(),
        });
    };
    if first.contains('/') {
        let p = PathBuf::from(first);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(CcError::NotFound(first.clone()))
        };
    }
    lookup(first, path).ok_or_else(|| CcError::NotFound(first.clone()))
}

/// `name` on `path` (an executable regular file), as exec.LookPath finds it.
fn lookup(name: &str, path: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if name.is_empty() {
        return None;
    }
    std::env::split_paths(path)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// The compiler's command with a clean environment (only `PATH` and
/// `LC_ALL=C`): what it says on stdout.
fn ask(cc: &[String], path: &str, args: &[&str]) -> Result<String, CcError> {
    let out = command(cc, path)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| CcError::Ask {
            program: cc.join(" "),
            question: args.join(" "),
            why: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(CcError::Ask {
            program: cc.join(" "),
            question: args.join(" "),
            why: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn command(cc: &[String], path: &str) -> Command {
    let mut c = Command::new(&cc[0]);
    c.args(&cc[1..])
        .env_clear()
        .env("PATH", path)
        .env("LC_ALL", "C");
    c
}

/// The `#include <…>` directories the compiler searches for `lang`.
fn include_dirs(cc: &[String], path: &str, lang: &str) -> Result<Vec<PathBuf>, CcError> {
    let out = command(cc, path)
        .args(["-E", "-Wp,-v", "-x", lang, "/dev/null", "-o", "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| CcError::Ask {
            program: cc.join(" "),
            question: format!("-E -Wp,-v -x {lang}"),
            why: e.to_string(),
        })?;
    let text = String::from_utf8_lossy(&out.stderr);
    let mut dirs = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("#include <...> search starts here:") {
            inside = true;
        } else if line.starts_with("End of search list.") {
            break;
        } else if inside {
            let d = line.trim().trim_end_matches(" (framework directory)");
            let d = normalize(Path::new(d));
            if d.is_dir() {
                dirs.push(d);
            }
        }
    }
    Ok(dirs)
}

/// cmd/go's `gccSupportsFlag`: the flag with `$CGO_CFLAGS` and `-c` (or
/// `$CGO_LDFLAGS` for a `-Wl,` flag) on an empty C file from stdin; supported
/// unless the output says otherwise in one of the words go looks for.
fn probe(cc: &[String], path: &str, flag: &str, cflags: &[String], ldflags: &[String]) -> bool {
    let mut c = command(cc, path);
    c.arg(flag);
    if flag.starts_with("-Wl,") {
        c.args(ldflags);
    } else {
        c.args(cflags).arg("-c");
    }
    c.args(["-x", "c", "-", "-o", "/dev/null"])
        .stdin(Stdio::null());
    let Ok(out) = c.output() else {
        return false;
    };
    let mut text = out.stdout;
    text.extend_from_slice(&out.stderr);
    let text = String::from_utf8_lossy(&text);
    ![
        "unrecognized",
        "unknown",
        "unrecognised",
        "is not supported",
        "not recognized",
        "unsupported",
    ]
    .iter()
    .any(|w| text.contains(w))
}

/// A path with `.` and `..` resolved lexically (the compiler's
/// `…/12/../../../x86_64-linux-gnu/` is opened through the same names).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The directories not below another of them, each with its resolved host
/// directory: (host, path).
fn outermost(mut dirs: Vec<PathBuf>) -> Vec<(PathBuf, PathBuf)> {
    dirs.sort();
    dirs.dedup();
    let mut out: Vec<(PathBuf, PathBuf)> = Vec::new();
    for d in dirs {
        if out.iter().any(|(_, o)| d.starts_with(o)) {
            continue;
        }
        if let Ok(host) = std::fs::canonicalize(&d) {
            out.push((host, d));
        }
    }
    out
}

/// What a link can read from a library directory.
fn is_library(name: &str) -> bool {
    name.ends_with(".o") || name.ends_with(".a") || name.ends_with(".so") || name.contains(".so.")
}

/// Every regular file below `dir` (links not followed), as (relative path,
/// host path), in a stable order.
fn walk_files(dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(dir.join(&rel)) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            let r = rel.join(e.file_name());
            if ft.is_dir() {
                stack.push(r);
            } else if ft.is_file() {
                out.push((r.clone(), dir.join(r)));
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_the_compiler_opens() {
        assert_eq!(
            normalize(Path::new(
                "/usr/lib/gcc/x86_64-linux-gnu/12/../../../x86_64-linux-gnu/"
            )),
            PathBuf::from("/usr/lib/x86_64-linux-gnu")
        );
    }

    #[test]
    fn keeps_only_outermost_directories() {
        let t = outermost(vec![
            PathBuf::from("/usr/include/x86_64-linux-gnu"),
            PathBuf::from("/usr/include"),
        ]);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].1, PathBuf::from("/usr/include"));
    }
}
