//! `-toolexec 'PROG ARGS'`: the program that wraps every tool, its arguments,
//! and what it needs to start inside an action's sandbox.
//!
//! An action's sandbox holds only its declared inputs, so a wrapper that is
//! not a static executable would find neither its `#!` interpreter nor its
//! dynamic loader and shared libraries (`cannot execute /toolexec/env: No
//! such file or directory`). [`Toolexec::resolve`] finds that start-up
//! closure the way the kernel and the loader would, from the files
//! themselves: a `#!` line names an interpreter (and `/usr/bin/env NAME` a
//! program on the default `PATH`, as `execvp` searches it with no `PATH`);
//! an ELF file names its loader (`PT_INTERP`) and its libraries
//! (`DT_NEEDED`), found through `DT_RPATH`/`DT_RUNPATH`, `/etc/ld.so.cache`
//! and the system directories. Each file is declared at the path the loader
//! opens (with `/etc/ld.so.cache` itself), its digest in every key the
//! wrapper is in. What the wrapper runs or reads beyond that is undeclared,
//! and fails inside the sandbox as any undeclared read does.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use goblin::elf::Elf;

/// The kernel's nesting limit for `#!` interpreters (`BINPRM_MAX_RECURSION`).
const MAX_SCRIPT_DEPTH: usize = 4;

/// The most bytes of a candidate executable or library read to parse it.
const MAX_ELF_BYTES: u64 = 1 << 30;

/// The loader's cache of library locations (glibc).
const LD_SO_CACHE: &str = "/etc/ld.so.cache";

/// Where `execvp` looks for a name when `PATH` is unset (glibc's default):
/// what `#!/usr/bin/env NAME` searches inside the sandbox, whose tools get
/// no `PATH`.
const DEFAULT_PATH: [&str; 2] = ["/bin", "/usr/bin"];

/// `-toolexec`: run each tool as `PROGRAM ARGS… TOOL TOOL-ARGS…`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Toolexec {
    /// The program on the host (absolute, links resolved).
    pub program: PathBuf,
    /// The words after the program in the flag's value.
    pub args: Vec<String>,
    /// What the program needs to start: its `#!` interpreters, dynamic
    /// loader and shared libraries (and the loader's cache), each bound
    /// read-only where the program or the loader opens it.
    pub runtime: Vec<RuntimeFile>,
}

/// A file the `-toolexec` program needs to start.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RuntimeFile {
    /// The regular file on the host (absolute, links resolved).
    pub host: PathBuf,
    /// The absolute path it is opened by (and bound at inside the sandbox).
    pub at: PathBuf,
}

impl Toolexec {
    /// Reads a `-toolexec` value as go does (words, quoted as in
    /// `-gcflags`; the first is the program, looked up in `path_env` when it
    /// has no `/`) and finds what the program needs to start. `None` for an
    /// empty value (no wrapper).
    pub fn resolve(value: &str, path_env: Option<&str>) -> Result<Option<Toolexec>, String> {
        let words = crate::plan::flags::split_quoted(value)
            .map_err(|e| format!("-toolexec={value}: {e}"))?;
        let Some((name, args)) = words.split_first() else {
            return Ok(None);
        };
        let found = if name.contains('/') {
            Some(PathBuf::from(name))
        } else {
            path_env.and_then(|path| {
                std::env::split_paths(path)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        };
        let Some(p) = found else {
            return Err(format!(
                "-toolexec: {name}: executable file not found in $PATH"
            ));
        };
        let program =
            std::fs::canonicalize(&p).map_err(|e| format!("-toolexec: {}: {e}", p.display()))?;
        let mut c = Closure::default();
        c.executable(&program, &p, 0)
            .map_err(|e| format!("-toolexec: {e}"))?;
        Ok(Some(Toolexec {
            program,
            args: args.to_vec(),
            runtime: c.files(),
        }))
    }

    /// Every host file the wrapper consists of: the program, then its
    /// runtime files.
    pub fn host_files(&self) -> impl Iterator<Item = &Path> {
        std::iter::once(self.program.as_path()).chain(self.runtime.iter().map(|f| f.host.as_path()))
    }
}

/// What the programs (each `(host file, path it is run by)`) need to start:
/// their interpreters, loaders and libraries, each where it is opened, and
/// the programs themselves. Used for the C toolchain's programs (`cc`).
pub(crate) fn start_closure(programs: &[(PathBuf, PathBuf)]) -> Result<Vec<RuntimeFile>, String> {
    let mut c = Closure::default();
    for (host, at) in programs {
        c.declare(at)?;
        c.executable(host, at, 0)?;
    }
    Ok(c.files())
}

/// The start-up closure being collected: inside path → host file.
#[derive(Default)]
struct Closure {
    /// Each file once, by the path it is opened at.
    files: BTreeMap<PathBuf, PathBuf>,
    /// The loader's cache, read on first need (`None` inside: no cache).
    ld_cache: Option<Option<LdCache>>,
    /// Whether a library was found through the cache (so it is declared too).
    used_ld_cache: bool,
}

impl Closure {
    fn files(self) -> Vec<RuntimeFile> {
        let mut files: Vec<RuntimeFile> = self
            .files
            .into_iter()
            .map(|(at, host)| RuntimeFile { host, at })
            .collect();
        if self.used_ld_cache {
            if let Ok(host) = std::fs::canonicalize(LD_SO_CACHE) {
                files.push(RuntimeFile {
                    host,
                    at: PathBuf::from(LD_SO_CACHE),
                });
            }
        }
        files.sort_by(|a, b| a.at.cmp(&b.at));
        files
    }

    /// Declares `at` (an absolute path as a program or the loader names it)
    /// as the regular file it resolves to, and returns that file; `None` if
    /// `at` was declared already.
    fn declare(&mut self, at: &Path) -> Result<Option<PathBuf>, String> {
        if !at.is_absolute() || at.components().any(|c| matches!(c, Component::ParentDir)) {
            return Err(format!(
                "{}: not an absolute, normalized path",
                at.display()
            ));
        }
        if self.files.contains_key(at) {
            return Ok(None);
        }
        let host = std::fs::canonicalize(at).map_err(|e| format!("{}: {e}", at.display()))?;
        if !std::fs::metadata(&host)
            .map(|m| m.is_file())
            .unwrap_or(false)
        {
            return Err(format!("{}: not a regular file", at.display()));
        }
        self.files.insert(at.to_path_buf(), host.clone());
        Ok(Some(host))
    }

    /// Adds what executing `host` (seen as `shown` in messages) needs: a
    /// `#!` script's interpreter, an ELF file's loader and libraries.
    fn executable(&mut self, host: &Path, shown: &Path, depth: usize) -> Result<(), String> {
        let head = read_head(host, 256).map_err(|e| format!("{}: {e}", shown.display()))?;
        if let Some(line) = head.strip_prefix(b"#!") {
            if depth >= MAX_SCRIPT_DEPTH {
                return Err(format!(
                    "{}: more than {MAX_SCRIPT_DEPTH} nested #! interpreters",
                    shown.display()
                ));
            }
            return self.script(line, shown, depth);
        }
        if head.starts_with(b"\x7fELF") {
            return self.elf(host, shown, true);
        }
        Err(format!(
            "{}: neither an ELF executable nor a #! script",
            shown.display()
        ))
    }

    /// A `#!` line (after the `#!`), split as the kernel splits it: the
    /// interpreter, then at most one argument (the rest of the line).
    fn script(&mut self, line: &[u8], shown: &Path, depth: usize) -> Result<(), String> {
        let end = line.iter().position(|&b| b == b'\n').unwrap_or(line.len());
        let line = String::from_utf8_lossy(&line[..end]);
        let line = line.trim_matches([' ', '\t']);
        let (interp, arg) = match line.split_once([' ', '\t']) {
            Some((i, a)) => (i, a.trim_matches([' ', '\t'])),
            None => (line, ""),
        };
        if interp.is_empty() {
            return Err(format!(
                "{}: a #! line without an interpreter",
                shown.display()
            ));
        }
        let interp = Path::new(interp);
        if !interp.is_absolute() {
            return Err(format!(
                "{}: #! interpreter {} is not an absolute path",
                shown.display(),
                interp.display()
            ));
        }
        let at = interp.to_path_buf();
        let host = self
            .declare(&at)
            .map_err(|e| format!("{}: #! interpreter {e}", shown.display()))?;
        // Followed even when declared already: the kernel's depth limit, not
        // gob's bookkeeping, is what ends a loop of scripts.
        let host = match host {
            Some(h) => h,
            None => self.files[&at].clone(),
        };
        self.executable(&host, &at, depth + 1)?;
        if interp.file_name().is_some_and(|n| n == "env") && !arg.is_empty() {
            self.env_program(arg, shown, depth)?;
        }
        Ok(())
    }

    /// `#!/usr/bin/env [-S] [NAME=VALUE…] PROG …`: the program env runs,
    /// searched as `execvp` searches it with no `PATH`.
    fn env_program(&mut self, arg: &str, shown: &Path, depth: usize) -> Result<(), String> {
        let mut words = arg.split([' ', '\t']).filter(|w| !w.is_empty()).peekable();
        if words.peek().is_some_and(|w| *w == "-S") {
            words.next();
        }
        let Some(prog) = words.find(|w| !w.contains('=')) else {
            return Ok(());
        };
        if prog.starts_with('-') {
            return Err(format!(
                "{}: #! line passes option {prog} to env, which gob cannot follow; name the interpreter's path instead",
                shown.display()
            ));
        }
        let at = if prog.starts_with('/') {
            PathBuf::from(prog)
        } else {
            DEFAULT_PATH
                .iter()
                .map(|d| Path::new(d).join(prog))
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    format!(
                        "{}: #! line runs {prog} through env, but {prog} is in neither {} (the path env searches inside the sandbox)",
                        shown.display(),
                        DEFAULT_PATH.join(" nor ")
                    )
                })?
        };
        if let Some(host) = self
            .declare(&at)
            .map_err(|e| format!("{}: #! program {e}", shown.display()))?
        {
            self.executable(&host, &at, depth + 1)?;
        }
        Ok(())
    }

    /// An ELF file: its loader, then its libraries and theirs. `main`: the
    /// program itself, which the sandbox shows at another path (so a
    /// `$ORIGIN` in its search path cannot be followed).
    fn elf(&mut self, host: &Path, shown: &Path, main: bool) -> Result<(), String> {
        let (interp, search, needed, kind) = {
            let bytes = read_elf(host).map_err(|e| format!("{}: {e}", shown.display()))?;
            let elf = Elf::parse(&bytes)
                .map_err(|e| format!("{}: not a valid ELF file: {e}", shown.display()))?;
            // DT_RPATH is searched only when there is no DT_RUNPATH (glibc).
            let paths = if elf.runpaths.is_empty() {
                &elf.rpaths
            } else {
                &elf.runpaths
            };
            let search: Vec<String> = paths
                .iter()
                .flat_map(|p| p.split(':'))
                .map(str::to_string)
                .collect();
            let needed: Vec<String> = elf.libraries.iter().map(|s| s.to_string()).collect();
            (
                elf.interpreter.map(PathBuf::from),
                search,
                needed,
                (elf.header.e_machine, elf.is_64),
            )
        };
        if let Some(at) = interp {
            self.declare(&at)
                .map_err(|e| format!("{}: loader (PT_INTERP) {e}", shown.display()))?;
        }
        for lib in needed {
            let at = self.find_library(&lib, &search, host, main, kind, shown)?;
            if let Some(lib_host) = self
                .declare(&at)
                .map_err(|e| format!("{}: library {e}", shown.display()))?
            {
                self.elf(&lib_host, &at, false)?;
            }
        }
        Ok(())
    }

    /// Where the loader finds `lib` (DT_NEEDED) for an object of `kind`
    /// (machine, 64-bit): a path as written; else each search directory
    /// (`$ORIGIN` being the object's own directory), the loader's cache,
    /// then the system directories; the first file of the same kind.
    fn find_library(
        &mut self,
        lib: &str,
        search: &[String],
        object: &Path,
        main: bool,
        kind: (u16, bool),
        shown: &Path,
    ) -> Result<PathBuf, String> {
        if lib.contains('/') {
            return Ok(PathBuf::from(lib));
        }
        let origin = object.parent().unwrap_or(Path::new("/")).to_string_lossy();
        for dir in search {
            let from_origin = dir.contains("$ORIGIN") || dir.contains("${ORIGIN}");
            let d = dir
                .replace("${ORIGIN}", "$ORIGIN")
                .replace("$ORIGIN", &origin);
            let p = Path::new(&d).join(lib);
            if !p.is_absolute() || !same_kind(&p, kind) {
                continue;
            }
            if from_origin && main {
                // Inside, the program is at /toolexec/NAME: its $ORIGIN is
                // not its host directory.
                return Err(format!(
                    "{}: finds library {lib} through $ORIGIN ({dir}), which the sandbox cannot follow (it shows the program at another path); install {lib} where the loader's cache finds it, or build with --sandbox=none",
                    shown.display()
                ));
            }
            return Ok(p);
        }
        let cache = self
            .ld_cache
            .get_or_insert_with(|| LdCache::read(Path::new(LD_SO_CACHE)));
        if let Some(cache) = cache {
            if let Some(p) = cache.lookup(lib).find(|p| same_kind(p, kind)) {
                self.used_ld_cache = true;
                return Ok(p);
            }
        }
        for dir in system_dirs(kind.0) {
            let p = Path::new(&dir).join(lib);
            if same_kind(&p, kind) {
                return Ok(p);
            }
        }
        Err(format!(
            "{}: needs library {lib} (DT_NEEDED), which the loader would not find on this host",
            shown.display()
        ))
    }
}

/// The loader's built-in directories for a machine, most specific first
/// (Debian's multiarch directories, then the lib64 and plain ones).
fn system_dirs(machine: u16) -> Vec<String> {
    let triplet = match machine {
        goblin::elf::header::EM_X86_64 => Some("x86_64-linux-gnu"),
        goblin::elf::header::EM_AARCH64 => Some("aarch64-linux-gnu"),
        goblin::elf::header::EM_386 => Some("i386-linux-gnu"),
        goblin::elf::header::EM_ARM => Some("arm-linux-gnueabihf"),
        goblin::elf::header::EM_RISCV => Some("riscv64-linux-gnu"),
        _ => None,
    };
    let mut dirs = Vec::new();
    if let Some(t) = triplet {
        dirs.push(format!("/lib/{t}"));
        dirs.push(format!("/usr/lib/{t}"));
    }
    for d in ["/lib64", "/usr/lib64", "/lib", "/usr/lib"] {
        dirs.push(d.to_string());
    }
    dirs
}

/// Whether `p` is an ELF file for the same machine and class.
fn same_kind(p: &Path, (machine, is_64): (u16, bool)) -> bool {
    let Ok(head) = read_head(p, 20) else {
        return false;
    };
    if head.len() < 20 || !head.starts_with(b"\x7fELF") {
        return false;
    }
    let class_64 = head[4] == 2;
    let m = if head[5] == 2 {
        u16::from_be_bytes([head[18], head[19]])
    } else {
        u16::from_le_bytes([head[18], head[19]])
    };
    class_64 == is_64 && m == machine
}

/// The first `n` bytes of a file (fewer if it is shorter).
fn read_head(p: &Path, n: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(p)?.take(n).read_to_end(&mut buf)?;
    Ok(buf)
}

/// A whole ELF file, refusing one over [`MAX_ELF_BYTES`].
fn read_elf(p: &Path) -> std::io::Result<Vec<u8>> {
    let len = std::fs::metadata(p)?.len();
    if len > MAX_ELF_BYTES {
        return Err(std::io::Error::other(format!(
            "{len} bytes: larger than the {MAX_ELF_BYTES} bytes gob reads to find a program's libraries"
        )));
    }
    std::fs::read(p)
}

/// glibc's `/etc/ld.so.cache` (the `glibc-ld.so.cache1.1` layout): library
/// names and the paths `ldconfig` found them at.
struct LdCache {
    /// (name, path), in the cache's order (the loader's preference).
    entries: Vec<(String, PathBuf)>,
}

impl LdCache {
    const MAGIC: &'static [u8] = b"glibc-ld.so.cache1.1";
    /// Magic, library count, string table size, flags and padding, the
    /// extension offset, three unused words.
    const HEADER: usize = 20 + 4 + 4 + 4 + 4 + 12;
    /// flags, key, value, osversion (4 bytes each), hwcap (8).
    const ENTRY: usize = 24;

    /// The cache at `p`, or None when there is none or it is in a layout
    /// gob does not read (then libraries are looked for in the system
    /// directories only).
    fn read(p: &Path) -> Option<LdCache> {
        let bytes = std::fs::read(p).ok()?;
        Self::parse(&bytes)
    }

    fn parse(bytes: &[u8]) -> Option<LdCache> {
        if !bytes.starts_with(Self::MAGIC) || bytes.len() < Self::HEADER {
            return None;
        }
        let u32_at = |o: usize| -> Option<u32> {
            Some(u32::from_le_bytes(bytes.get(o..o + 4)?.try_into().ok()?))
        };
        let n = u32_at(20)? as usize;
        let mut entries = Vec::new();
        for i in 0..n {
            let e = Self::HEADER.checked_add(i.checked_mul(Self::ENTRY)?)?;
            let (key, value) = (u32_at(e + 4)? as usize, u32_at(e + 8)? as usize);
            let s = |o: usize| -> Option<&[u8]> {
                let rest = bytes.get(o..)?;
                Some(&rest[..rest.iter().position(|&b| b == 0)?])
            };
            let name = String::from_utf8_lossy(s(key)?).into_owned();
            let path = PathBuf::from(String::from_utf8_lossy(s(value)?).into_owned());
            entries.push((name, path));
        }
        Some(LdCache { entries })
    }

    fn lookup<'a>(&'a self, lib: &'a str) -> impl Iterator<Item = PathBuf> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| n == lib)
            .map(|(_, p)| p.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("gob-toolexec-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn script(dir: &Path, name: &str, text: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[test]
    fn a_dynamic_program_declares_its_loader_and_libraries() {
        let te = Toolexec::resolve("/usr/bin/env", None).unwrap().unwrap();
        assert_eq!(te.program, std::fs::canonicalize("/usr/bin/env").unwrap());
        let ats: Vec<_> = te.runtime.iter().map(|f| f.at.clone()).collect();
        assert!(
            ats.iter().any(|a| a
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("ld-linux")),
            "{ats:?}"
        );
        assert!(ats.iter().any(|a| a.ends_with("libc.so.6")), "{ats:?}");
        for f in &te.runtime {
            assert!(std::fs::metadata(&f.host).unwrap().is_file(), "{f:?}");
        }
    }

    #[test]
    fn words_after_the_program_are_its_arguments() {
        let te = Toolexec::resolve("env 'A=1 2' B=3", Some("/usr/bin:/bin"))
            .unwrap()
            .unwrap();
        assert_eq!(te.args, ["A=1 2", "B=3"]);
        assert_eq!(Toolexec::resolve("  ", None).unwrap(), None);
        let e = Toolexec::resolve("no-such-gob-prog", Some("/usr/bin")).unwrap_err();
        assert_eq!(
            e,
            "-toolexec: no-such-gob-prog: executable file not found in $PATH"
        );
    }

    #[test]
    fn a_script_declares_its_interpreter_and_the_program_env_runs() {
        let d = scratch("script");
        let s = script(&d, "wrap.sh", "#!/bin/sh\nexec \"$@\"\n");
        let te = Toolexec::resolve(s.to_str().unwrap(), None)
            .unwrap()
            .unwrap();
        assert!(
            te.runtime.iter().any(|f| f.at == Path::new("/bin/sh")),
            "{:?}",
            te.runtime
        );
        assert!(
            te.runtime.iter().any(|f| f.at.ends_with("libc.so.6")),
            "{:?}",
            te.runtime
        );
        let s = script(&d, "wrap-env", "#!/usr/bin/env -S sh -e\nexec \"$@\"\n");
        let te = Toolexec::resolve(s.to_str().unwrap(), None)
            .unwrap()
            .unwrap();
        let ats: Vec<_> = te.runtime.iter().map(|f| f.at.clone()).collect();
        assert!(ats.contains(&PathBuf::from("/usr/bin/env")), "{ats:?}");
        assert!(ats.contains(&PathBuf::from("/bin/sh")), "{ats:?}");
    }

    #[test]
    fn what_cannot_start_is_named() {
        let d = scratch("bad");
        let cases = [
            ("rel", "#!sh\n", "#! interpreter sh is not an absolute path"),
            ("none", "#!\n", "a #! line without an interpreter"),
            ("missing", "#!/no/such/interp\n", "#! interpreter /no/such/interp: No such file"),
            ("text", "echo hi\n", "neither an ELF executable nor a #! script"),
            ("envopt", "#!/usr/bin/env -i sh\n", "passes option -i to env"),
            (
                "envmissing",
                "#!/usr/bin/env no-such-gob-interp\n",
                "runs no-such-gob-interp through env, but no-such-gob-interp is in neither /bin nor /usr/bin",
            ),
        ];
        for (name, text, want) in cases {
            let p = script(&d, name, text);
            let e = Toolexec::resolve(p.to_str().unwrap(), None).unwrap_err();
            assert!(e.contains(want) && e.contains(name), "{name}: {e}");
        }
        // A loop of scripts ends at the kernel's depth.
        let a = d.join("loop-a");
        let b = d.join("loop-b");
        script(&d, "loop-a", &format!("#!{}\n", b.display()));
        script(&d, "loop-b", &format!("#!{}\n", a.display()));
        let e = Toolexec::resolve(a.to_str().unwrap(), None).unwrap_err();
        assert!(e.contains("more than 4 nested #! interpreters"), "{e}");
    }

    #[test]
    fn the_loader_cache_is_read_and_bounded() {
        // Truncated or garbage caches are not read, never a panic.
        assert!(LdCache::parse(b"glibc-ld.so.cache1.1").is_none());
        let mut b = LdCache::MAGIC.to_vec();
        b.extend_from_slice(&u32::MAX.to_le_bytes());
        b.resize(LdCache::HEADER, 0);
        assert!(LdCache::parse(&b).is_none());
        // One entry: key and value offsets into the string table.
        let mut b = LdCache::MAGIC.to_vec();
        b.extend_from_slice(&1u32.to_le_bytes());
        b.resize(LdCache::HEADER, 0);
        let strings = LdCache::HEADER + LdCache::ENTRY;
        let mut e = vec![0u8; LdCache::ENTRY];
        e[4..8].copy_from_slice(&(strings as u32).to_le_bytes());
        e[8..12].copy_from_slice(&((strings + 8) as u32).to_le_bytes());
        b.extend_from_slice(&e);
        b.extend_from_slice(b"libx.so\0/l/libx.so\0");
        let c = LdCache::parse(&b).unwrap();
        assert_eq!(
            c.lookup("libx.so").collect::<Vec<_>>(),
            [PathBuf::from("/l/libx.so")]
        );
    }
}
