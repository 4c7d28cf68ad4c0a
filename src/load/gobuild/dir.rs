//! Per-directory file classification, as go/build's `Import` (and cmd/go's module index) do it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::cgo::{self, CgoError, CgoFlags};
use super::constraint::{self, ConstraintError, FileConstraints, HeaderError};
use super::context::BuildContext;
use super::scan::{self, GoFileHeader, Pos, ScanError};
use crate::load::files::{read_dir_op, Files, Kind};

/// A position in a file of the directory.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FilePos {
    /// Full path of the file (directory joined with the base name), as Go reports it.
    pub file: PathBuf,
    /// Position within the file.
    pub pos: Pos,
}

/// Which implementation's quirks to follow for malformed files. The two
/// agree on every well-formed directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// `go/build.Context.Import`.
    #[default]
    GoBuild,
    /// cmd/go's module index (`cmd/go/internal/modindex`), which is what
    /// `go list`/`go build` use for GOROOT and module-cache packages:
    /// unreadable or unparsable `.go` files are recorded as invalid even when
    /// their name or constraints exclude them, and a malformed `//go:build`
    /// line aborts the whole directory.
    ModIndex,
}

/// Why one file is bad. `Display` matches go/build's text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FileErrorKind {
    /// Could not open the file.
    #[error("open {}: {msg}", path.display())]
    Open {
        /// Full path.
        path: PathBuf,
        /// OS error text.
        msg: String,
    },
    /// Read or syntax error from the scanner.
    #[error("{0}")]
    Scan(ScanError),
    /// More than one `//go:build` line.
    #[error("{name}: {source}")]
    Header {
        /// Base name.
        name: String,
        /// The problem.
        source: HeaderError,
    },
    /// A malformed `//go:build` expression.
    #[error("{name}: parsing //go:build line: {source}")]
    GoBuild {
        /// Base name.
        name: String,
        /// The parse error.
        source: ConstraintError,
    },
    /// The file's package differs from the one chosen for the directory.
    #[error("found packages {} ({}) and {} ({}) in {}", packages[0], files[0], packages[1], files[1], dir.display())]
    MultiplePackages {
        /// The directory.
        dir: PathBuf,
        /// First package name and this file's package name.
        packages: [String; 2],
        /// First file and this file.
        files: [String; 2],
    },
    /// A `_test.go` file imports "C".
    #[error("use of cgo in test {} not supported", path.display())]
    CgoInTest {
        /// Full path (go/build) or base name (module index).
        path: PathBuf,
    },
    /// A bad `#cgo` directive in the preamble of `import "C"`.
    #[error("{0}")]
    Cgo(CgoError),
}

/// A per-file problem recorded while classifying a directory.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{kind}")]
pub struct FileError {
    /// Base name of the file.
    pub file: String,
    /// What is wrong.
    pub kind: FileErrorKind,
}

/// Errors returned alongside a (possibly partial) [`DirPackage`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DirError {
    /// The directory could not be read.
    #[error("{op} {}: {msg}", dir.display())]
    ReadDir {
        /// What failed: `open`, or `read` (an overlay child that is a directory).
        op: &'static str,
        /// The directory.
        dir: PathBuf,
        /// OS error text.
        msg: String,
    },
    /// No buildable Go files and none excluded by constraints (cmd/go wording).
    #[error("no Go files in {}", dir.display())]
    NoGoFiles {
        /// The directory.
        dir: PathBuf,
    },
    /// No buildable Go files, but some were excluded (cmd/go wording).
    #[error("build constraints exclude all Go files in {}", dir.display())]
    ConstraintsExcludeAll {
        /// The directory.
        dir: PathBuf,
    },
    /// Files of different packages (the first such conflict).
    #[error("found packages {} ({}) and {} ({}) in {}", packages[0], files[0], packages[1], files[1], dir.display())]
    MultiplePackages {
        /// The directory.
        dir: PathBuf,
        /// The two package names.
        packages: [String; 2],
        /// The files declaring them.
        files: [String; 2],
    },
    /// The first per-file error (go/build returns it as the package error).
    #[error("{0}")]
    BadFile(FileError),
    /// [`Flavor::ModIndex`] only: a malformed `//go:build` line aborted the
    /// scan; the package holds only the files classified before it.
    #[error("{name}: parsing //go:build line: {source}")]
    BadGoBuild {
        /// Base name.
        name: String,
        /// The parse error.
        source: ConstraintError,
    },
}

/// The classification of one directory's files (go/build.Package subset).
/// All file lists hold base names in directory (byte-sorted) order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirPackage {
    /// The directory.
    pub dir: PathBuf,
    /// Package name (from the first buildable file; `_test` stripped for xtests).
    pub name: String,
    /// Non-test .go files.
    pub go_files: Vec<String>,
    /// Non-test .go files importing "C" (cgo enabled).
    pub cgo_files: Vec<String>,
    /// .go files excluded by constraints, `package documentation`, or cgo-disabled cgo files.
    pub ignored_go_files: Vec<String>,
    /// .go files with errors (they may also appear in another list).
    pub invalid_go_files: Vec<String>,
    /// Non-Go source files excluded by constraints (sorted).
    pub ignored_other_files: Vec<String>,
    /// .c files.
    pub c_files: Vec<String>,
    /// .cc/.cpp/.cxx files.
    pub cxx_files: Vec<String>,
    /// .m files.
    pub m_files: Vec<String>,
    /// .h/.hh/.hpp/.hxx files.
    pub h_files: Vec<String>,
    /// Files the .s files `#include` by a quoted name that the assembler
    /// finds from the package directory (transitively, through the headers):
    /// not part of go/build's package, but read by the assembler, so the
    /// planner declares them (or refuses those outside the package's root).
    pub asm_include_files: Vec<AsmInclude>,
    /// .f/.F/.for/.f90 files.
    pub f_files: Vec<String>,
    /// .s files, plus .S/.sx when there are cgo files (then sorted).
    pub s_files: Vec<String>,
    /// .swig files.
    pub swig_files: Vec<String>,
    /// .swigcxx files.
    pub swig_cxx_files: Vec<String>,
    /// .syso files.
    pub syso_files: Vec<String>,
    /// `_test.go` files in the package.
    pub test_go_files: Vec<String>,
    /// `_test.go` files of package `<name>_test`.
    pub xtest_go_files: Vec<String>,
    /// Sorted, deduplicated imports of go_files and cgo_files.
    pub imports: Vec<String>,
    /// Positions of each import.
    pub import_pos: BTreeMap<String, Vec<FilePos>>,
    /// Imports of test_go_files.
    pub test_imports: Vec<String>,
    /// Positions of test imports.
    pub test_import_pos: BTreeMap<String, Vec<FilePos>>,
    /// Imports of xtest_go_files.
    pub xtest_imports: Vec<String>,
    /// Positions of xtest imports.
    pub xtest_import_pos: BTreeMap<String, Vec<FilePos>>,
    /// Sorted, deduplicated `//go:embed` patterns of go_files and cgo_files.
    pub embed_patterns: Vec<String>,
    /// Positions of each embed pattern.
    pub embed_pattern_pos: BTreeMap<String, Vec<FilePos>>,
    /// Embed patterns of test_go_files.
    pub test_embed_patterns: Vec<String>,
    /// Positions of test embed patterns.
    pub test_embed_pattern_pos: BTreeMap<String, Vec<FilePos>>,
    /// Embed patterns of xtest_go_files.
    pub xtest_embed_patterns: Vec<String>,
    /// Positions of xtest embed patterns.
    pub xtest_embed_pattern_pos: BTreeMap<String, Vec<FilePos>>,
    /// Whether a non-test file has `//go:binary-only-package`.
    pub binary_only: bool,
    /// The `#cgo` directives' flags as go/build stores them (go list's
    /// `CgoCFLAGS`…`CgoPkgConfig`): read from every file that imports "C"
    /// whether cgo is enabled or not, `${SRCDIR}` expanded to [`Self::dir`]
    /// and relative `-I`/`-L` paths joined to it. Both depend on the
    /// package's *host* directory: a planner that runs the C tools with the
    /// package elsewhere (a sandbox's inside path) uses
    /// [`Self::cgo_written`]`.in_dir(inside_dir)` instead.
    pub cgo: CgoFlags,
    /// The same directives' words as written (split and unquoted, nothing
    /// expanded): `cgo_written.in_dir(dir)` is [`Self::cgo`]; a word that
    /// contains `${SRCDIR}` or is a relative `-I`/`-L` path is one that
    /// depends on the directory.
    pub cgo_written: CgoFlags,
    /// Every per-file problem, in directory order.
    pub errors: Vec<FileError>,
}

/// Error from [`should_build`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ShouldBuildError {
    /// More than one `//go:build` line.
    #[error("{0}")]
    Header(#[from] HeaderError),
    /// Malformed `//go:build` expression.
    #[error("parsing //go:build line: {0}")]
    GoBuild(#[from] ConstraintError),
}

/// Evaluates already-extracted constraints: the `//go:build` line if
/// present, else every `// +build` line must match (unparseable `+build`
/// lines are ignored).
pub fn eval_constraints(ctx: &BuildContext, c: &FileConstraints) -> Result<bool, ConstraintError> {
    if let Some(gb) = &c.go_build {
        let x = constraint::parse(gb)?;
        return Ok(ctx.eval(&x));
    }
    let mut ok = true;
    for line in &c.plus_build {
        if constraint::parse(line).is_ok_and(|x| !ctx.eval(&x)) {
            ok = false;
        }
    }
    Ok(ok)
}

/// go/build's `shouldBuild`: reports whether a file whose header (leading
/// comments; for Go files, everything through the imports) is `content`
/// should be built in `ctx`. File-name rules are not applied here.
pub fn should_build(ctx: &BuildContext, content: &[u8]) -> Result<bool, ShouldBuildError> {
    let c = constraint::find_constraints(content)?;
    Ok(eval_constraints(ctx, &c)?)
}

fn name_ext(name: &str) -> &str {
    name.rfind('.').map_or("", |i| &name[i..])
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ListKind {
    C,
    Cxx,
    M,
    H,
    F,
    S,
    Swig,
    SwigCxx,
    Syso,
}

fn list_for_ext(ext: &str) -> Option<ListKind> {
    Some(match ext {
        ".c" => ListKind::C,
        ".cc" | ".cpp" | ".cxx" => ListKind::Cxx,
        ".m" => ListKind::M,
        ".h" | ".hh" | ".hpp" | ".hxx" => ListKind::H,
        ".f" | ".F" | ".for" | ".f90" => ListKind::F,
        ".s" | ".S" | ".sx" => ListKind::S,
        ".swig" => ListKind::Swig,
        ".swigcxx" => ListKind::SwigCxx,
        ".syso" => ListKind::Syso,
        _ => return None,
    })
}

impl DirPackage {
    fn list(&mut self, k: ListKind) -> &mut Vec<String> {
        match k {
            ListKind::C => &mut self.c_files,
            ListKind::Cxx => &mut self.cxx_files,
            ListKind::M => &mut self.m_files,
            ListKind::H => &mut self.h_files,
            ListKind::F => &mut self.f_files,
            ListKind::S => &mut self.s_files,
            ListKind::Swig => &mut self.swig_files,
            ListKind::SwigCxx => &mut self.swig_cxx_files,
            ListKind::Syso => &mut self.syso_files,
        }
    }
}

#[derive(Clone, Copy)]
enum Bucket {
    Main,
    Test,
    XTest,
}

/// Mutable state of one directory scan.
struct Walk<'c> {
    ctx: &'c BuildContext,
    flavor: Flavor,
    p: DirPackage,
    first_error: Option<FileError>,
    first_file: String,
    s_upper: Vec<String>,
    /// go/build's `UseAllFiles`: file names and build constraints do not
    /// exclude a file (the files named on the command line).
    use_all_files: bool,
}

impl Walk<'_> {
    fn bad(&mut self, name: &str, kind: FileErrorKind) {
        let e = FileError {
            file: name.to_string(),
            kind,
        };
        if self.first_error.is_none() {
            self.first_error = Some(e.clone());
        }
        if !self.p.invalid_go_files.iter().any(|n| n == name) {
            self.p.invalid_go_files.push(name.to_string());
        }
        self.p.errors.push(e);
    }

    fn ignore(&mut self, name: &str, ext: &str) {
        if ext == ".go" {
            self.p.ignored_go_files.push(name.to_string());
        } else if list_for_ext(ext).is_some() {
            self.p.ignored_other_files.push(name.to_string());
        }
    }

    fn accept_other(&mut self, name: &str, ext: &str) {
        if ext == ".S" || ext == ".sx" {
            self.s_upper.push(name.to_string());
        } else if let Some(k) = list_for_ext(ext) {
            self.p.list(k).push(name.to_string());
        }
    }

    fn non_go(&mut self, path: &Path, name: &str, ext: &str) {
        if !self.ctx.good_os_arch_file(name) {
            self.ignore(name, ext);
            return;
        }
        if ext == ".syso" {
            self.p.syso_files.push(name.to_string());
            return;
        }
        let mut f = match self.ctx.files.open(path) {
            Ok(f) => f,
            // Not a regular file (a link to a device, a FIFO): kept, so the
            // planner refuses it by name rather than the build silently
            // lacking it (go blocks or reads forever on it).
            Err(_) if self.ctx.files.stat(path).is_ok_and(|k| k != Kind::File) => {
                self.accept_other(name, ext);
                return;
            }
            Err(_) if self.flavor == Flavor::GoBuild => {
                self.ignore(name, ext);
                return;
            }
            // The index records the error but never checks it for non-Go files.
            Err(_) => {
                self.accept_other(name, ext);
                return;
            }
        };
        // A read error means constraints are never checked: the file is kept.
        let Ok(header) = scan::read_leading_comments(path, &mut f) else {
            self.accept_other(name, ext);
            return;
        };
        match constraint::find_constraints(&header) {
            Err(_) if self.flavor == Flavor::GoBuild => self.ignore(name, ext),
            Err(_) => self.accept_other(name, ext),
            Ok(c) => match eval_constraints(self.ctx, &c) {
                Ok(true) => self.accept_other(name, ext),
                Ok(false) | Err(_) => self.ignore(name, ext),
            },
        }
    }

    /// Returns Err only for the module-index abort on a bad `//go:build` line.
    fn go_file(&mut self, path: &Path, name: &str) -> Result<(), Box<DirError>> {
        let modindex = self.flavor == Flavor::ModIndex;
        if !modindex && !self.use_all_files && !self.ctx.good_os_arch_file(name) {
            self.p.ignored_go_files.push(name.to_string());
            return Ok(());
        }
        let h: GoFileHeader = match self.ctx.files.open(path) {
            Err(e) => {
                let msg = scan::go_io_error(&e);
                self.bad(
                    name,
                    FileErrorKind::Open {
                        path: self.ctx.files.actual_path(path),
                        msg,
                    },
                );
                return Ok(());
            }
            Ok(mut f) => match scan::scan_go_reader(path, &mut f) {
                Ok(h) => h,
                Err(e) => {
                    self.bad(name, FileErrorKind::Scan(e));
                    return Ok(());
                }
            },
        };
        let constraints = match &h.constraints {
            Ok(c) => c,
            Err(e) => {
                self.bad(
                    name,
                    FileErrorKind::Header {
                        name: name.to_string(),
                        source: e.clone(),
                    },
                );
                return Ok(());
            }
        };
        if modindex {
            if let Some(e) = &h.parse_error {
                self.bad(name, FileErrorKind::Scan(e.clone()));
            }
            if !self.ctx.good_os_arch_file(name) {
                self.p.ignored_go_files.push(name.to_string());
                return Ok(());
            }
        }
        match eval_constraints(self.ctx, constraints) {
            Ok(true) => {}
            Ok(false) if self.use_all_files => {}
            Ok(false) => {
                self.p.ignored_go_files.push(name.to_string());
                return Ok(());
            }
            Err(source) if modindex => {
                return Err(Box::new(DirError::BadGoBuild {
                    name: name.to_string(),
                    source,
                }));
            }
            Err(source) => {
                self.bad(
                    name,
                    FileErrorKind::GoBuild {
                        name: name.to_string(),
                        source,
                    },
                );
                return Ok(());
            }
        }
        if !modindex {
            if let Some(e) = &h.parse_error {
                self.bad(name, FileErrorKind::Scan(e.clone()));
            }
        }
        self.classify(path, name, &h, constraints.binary_only);
        Ok(())
    }

    fn classify(&mut self, path: &Path, name: &str, h: &GoFileHeader, binary_only: bool) {
        let mut pkg = h.package.as_str();
        if pkg == "documentation" {
            self.p.ignored_go_files.push(name.to_string());
            return;
        }
        let is_test = name.ends_with("_test.go");
        let mut is_xtest = false;
        if is_test && pkg.ends_with("_test") && self.p.name != pkg {
            is_xtest = true;
            pkg = &pkg[..pkg.len() - "_test".len()];
        }
        if binary_only && !is_test {
            self.p.binary_only = true;
        }
        if self.p.name.is_empty() {
            self.p.name = pkg.to_string();
            self.first_file = name.to_string();
        } else if pkg != self.p.name {
            let kind = FileErrorKind::MultiplePackages {
                dir: self.p.dir.clone(),
                packages: [self.p.name.clone(), pkg.to_string()],
                files: [self.first_file.clone(), name.to_string()],
            };
            self.bad(name, kind);
        }

        let mut is_cgo = false;
        for imp in &h.imports {
            if imp.path == "C" {
                if is_test {
                    let p = match self.flavor {
                        Flavor::GoBuild => path.to_path_buf(),
                        Flavor::ModIndex => PathBuf::from(name),
                    };
                    self.bad(name, FileErrorKind::CgoInTest { path: p });
                    continue;
                }
                is_cgo = true;
            }
        }
        self.save_cgo(path, name, h, is_test);

        let bucket = if is_cgo {
            if self.ctx.cgo_enabled {
                self.p.cgo_files.push(name.to_string());
                Some(Bucket::Main)
            } else {
                self.p.ignored_go_files.push(name.to_string());
                None
            }
        } else if is_xtest {
            self.p.xtest_go_files.push(name.to_string());
            Some(Bucket::XTest)
        } else if is_test {
            self.p.test_go_files.push(name.to_string());
            Some(Bucket::Test)
        } else {
            self.p.go_files.push(name.to_string());
            Some(Bucket::Main)
        };
        let Some(bucket) = bucket else { return };
        let (imports, embeds) = match bucket {
            Bucket::Main => (&mut self.p.import_pos, &mut self.p.embed_pattern_pos),
            Bucket::Test => (
                &mut self.p.test_import_pos,
                &mut self.p.test_embed_pattern_pos,
            ),
            Bucket::XTest => (
                &mut self.p.xtest_import_pos,
                &mut self.p.xtest_embed_pattern_pos,
            ),
        };
        for imp in &h.imports {
            imports.entry(imp.path.clone()).or_default().push(FilePos {
                file: path.to_path_buf(),
                pos: imp.pos,
            });
        }
        for e in &h.embeds {
            embeds.entry(e.pattern.clone()).or_default().push(FilePos {
                file: path.to_path_buf(),
                pos: e.pos,
            });
        }
    }

    /// The `#cgo` directives of the file's `import "C"` preambles (cgo
    /// enabled or not). go/build reads each preamble of a non-test file and
    /// names the file by its path; the module index joins the directive
    /// lines of every file's preambles, tests' too, and names it by its base
    /// name.
    fn save_cgo(&mut self, path: &Path, name: &str, h: &GoFileHeader, is_test: bool) {
        let dir = self.p.dir.to_string_lossy().into_owned();
        let texts: Vec<String> = match self.flavor {
            Flavor::GoBuild if is_test => return,
            Flavor::GoBuild => h.cgo_preambles.clone(),
            Flavor::ModIndex => vec![h.cgo_preambles.concat()],
        };
        let (file, trimmed) = match self.flavor {
            Flavor::GoBuild => (path.display().to_string(), false),
            Flavor::ModIndex => (name.to_string(), true),
        };
        for text in texts {
            let (written, flags) = (&mut self.p.cgo_written, &mut self.p.cgo);
            if let Err(e) = cgo::save_cgo(self.ctx, &file, &dir, &text, trimmed, written, flags) {
                self.bad(name, FileErrorKind::Cgo(e));
            }
        }
    }

    fn finish(mut self) -> (DirPackage, Option<DirError>) {
        let p = &mut self.p;
        p.imports = p.import_pos.keys().cloned().collect();
        p.test_imports = p.test_import_pos.keys().cloned().collect();
        p.xtest_imports = p.xtest_import_pos.keys().cloned().collect();
        p.embed_patterns = p.embed_pattern_pos.keys().cloned().collect();
        p.test_embed_patterns = p.test_embed_pattern_pos.keys().cloned().collect();
        p.xtest_embed_patterns = p.xtest_embed_pattern_pos.keys().cloned().collect();
        let s_upper = std::mem::take(&mut self.s_upper);
        if p.cgo_files.is_empty() {
            p.ignored_other_files.extend(s_upper);
            p.ignored_other_files.sort();
        } else {
            p.s_files.extend(s_upper);
            p.s_files.sort();
        }
        let err = if let Some(e) = self.first_error {
            Some(match e.kind {
                FileErrorKind::MultiplePackages {
                    dir,
                    packages,
                    files,
                } => DirError::MultiplePackages {
                    dir,
                    packages,
                    files,
                },
                _ => DirError::BadFile(e),
            })
        } else if p.go_files.len()
            + p.cgo_files.len()
            + p.test_go_files.len()
            + p.xtest_go_files.len()
            == 0
        {
            Some(no_go_error(p))
        } else {
            None
        };
        (self.p, err)
    }
}

/// The cmd/go wording for a directory without buildable Go files.
pub fn no_go_error(p: &DirPackage) -> DirError {
    if p.ignored_go_files.is_empty() {
        DirError::NoGoFiles { dir: p.dir.clone() }
    } else {
        DirError::ConstraintsExcludeAll { dir: p.dir.clone() }
    }
}

/// Classifies the files of `dir` for `ctx` like go/build's `ImportDir(dir, 0)`.
///
/// Like go/build, this returns the (possibly partial) package together with
/// the package-level error, if any: the first bad file's error, or a
/// no-Go-files error when no `.go` file (test or not) is buildable. Per-file
/// problems are all listed in [`DirPackage::errors`].
pub fn import_dir(ctx: &BuildContext, dir: &Path) -> (DirPackage, Option<DirError>) {
    import_dir_with(ctx, dir, Flavor::GoBuild)
}

/// [`import_dir`] with the quirks of the chosen [`Flavor`].
pub fn import_dir_with(
    ctx: &BuildContext,
    dir: &Path,
    flavor: Flavor,
) -> (DirPackage, Option<DirError>) {
    match read_dir_sorted(&ctx.files, dir) {
        Ok(entries) => classify_files(ctx, dir, flavor, &entries, false),
        Err((op, msg)) => {
            let p = DirPackage {
                dir: dir.to_path_buf(),
                ..DirPackage::default()
            };
            let d = dir.to_path_buf();
            (p, Some(DirError::ReadDir { op, dir: d, msg }))
        }
    }
}

/// The package of the files `names` (base names, in this order) of `dir`,
/// as cmd/go's GoFilesPackage imports it: a directory that holds only
/// those files, read with `UseAllFiles` (neither file names nor build
/// constraints exclude one; `_`/`.` names and `documentation` still do).
pub fn import_files(
    ctx: &BuildContext,
    dir: &Path,
    names: &[String],
) -> (DirPackage, Option<DirError>) {
    classify_files(ctx, dir, Flavor::GoBuild, names, true)
}

/// go/build's Import over the directory entries `entries`, in their order.
fn classify_files(
    ctx: &BuildContext,
    dir: &Path,
    flavor: Flavor,
    entries: &[String],
    use_all_files: bool,
) -> (DirPackage, Option<DirError>) {
    let mut w = Walk {
        ctx,
        flavor,
        p: DirPackage {
            dir: dir.to_path_buf(),
            ..DirPackage::default()
        },
        first_error: None,
        first_file: String::new(),
        s_upper: Vec::new(),
        use_all_files,
    };
    for name in entries {
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        let ext = name_ext(name);
        let path = dir.join(name);
        if ext == ".go" {
            if let Err(e) = w.go_file(&path, name) {
                return (w.p, Some(*e));
            }
        } else if list_for_ext(ext).is_some() {
            w.non_go(&path, name, ext);
        }
    }
    let (mut p, err) = w.finish();
    p.asm_include_files = asm_include_files(
        &ctx.files,
        dir,
        &p.s_files,
        &p.h_files,
        &ctx.goos,
        &ctx.goarch,
    );
    (p, err)
}

/// Where the assembler finds a header an assembly file includes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncludeDir {
    /// From the package directory (cmd/go runs the assembler there, and it is
    /// the .s file's directory): the header is a source file of the module.
    Package,
    /// In the action's own directory (`-I $WORK/bNNN`): cmd/go's copy of the
    /// package's header `header` under its `_GOOS_GOARCH`-style name.
    Objdir {
        /// The package's header the copy is made from.
        header: String,
    },
    /// In `$GOROOT/pkg/include` (`-I`), if the planner finds it there.
    GorootInclude,
}

/// A header an assembly file includes, as the assembler will find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsmInclude {
    /// The name as found where [`AsmInclude::dir`] says, `/`-separated and
    /// lexically clean: below the package directory (it may begin with `../`,
    /// absolute when the `#include` names an absolute path), the copy's name
    /// in the objdir, or the name in `$GOROOT/pkg/include`.
    pub path: String,
    /// Where the assembler finds it.
    pub dir: IncludeDir,
    /// The .s file or header (as the assembler names it) whose `#include` names it.
    pub from: String,
    /// The file the host's own path resolution reaches (symlinks followed);
    /// `None` if it cannot be resolved or lies in GOROOT.
    pub real: Option<PathBuf>,
}

impl AsmInclude {
    /// The file read, relative to the package directory (`None` in GOROOT).
    pub fn source(&self) -> Option<&str> {
        match &self.dir {
            IncludeDir::Package => Some(&self.path),
            IncludeDir::Objdir { header } => Some(header),
            IncludeDir::GorootInclude => None,
        }
    }
}

/// The objdir name cmd/go copies a package header `h` to (exec.go: a header
/// named for the target, `defs_linux_amd64.h`, becomes `defs_GOOS_GOARCH.h`).
pub fn objdir_header_copy(h: &str, goos: &str, goarch: &str) -> Option<String> {
    let (name, ext) = h.rsplit_once('.').unwrap_or((h, ""));
    if let Some(n) = name.strip_suffix(&format!("_{goos}_{goarch}")) {
        Some(format!("{n}_GOOS_GOARCH.{ext}"))
    } else if let Some(n) = name.strip_suffix(&format!("_{goarch}")) {
        Some(format!("{n}_GOARCH.{ext}"))
    } else {
        name.strip_suffix(&format!("_{goos}"))
            .map(|n| format!("{n}_GOOS.{ext}"))
    }
}

/// `/`-separated `path` with `.` and `x/..` removed lexically, like Go's
/// path.Clean (leading `..` kept; `""` for an empty result).
pub fn clean_slash_path(path: &str) -> String {
    let abs = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." if out.last().is_some_and(|l| *l != "..") => {
                out.pop();
            }
            ".." if abs => {}
            c => out.push(c),
        }
    }
    let joined = out.join("/");
    if abs {
        format!("/{joined}")
    } else {
        joined
    }
}

/// Every header the .s files reach by `#include "name"`, directly or
/// through the headers they include, resolved as cmd/asm does
/// (lex/input.go): `name` is opened from the working directory (cmd/go runs
/// the assembler in the package directory), then in the .s file's directory
/// (the same), then in the `-I` directories cmd/go passes (gc.go): the
/// objdir (`go_asm.h`, generated and declared anyway, and the copies of
/// headers named for the target) and `$GOROOT/pkg/include`. A header's own
/// includes resolve the same way (from the package directory, not from the
/// header's). Only what is reached is declared to the assembler; a name
/// found nowhere is left out (the assembler reports it, as with go). Files
/// that are not regular are not read here (the planner refuses them).
fn asm_include_files(
    files: &Files,
    dir: &Path,
    s_files: &[String],
    h_files: &[String],
    goos: &str,
    goarch: &str,
) -> Vec<AsmInclude> {
    let mut found: Vec<AsmInclude> = Vec::new();
    // (the file to read relative to the package directory, the name shown)
    let mut queue: Vec<(String, String)> = s_files.iter().map(|f| (f.clone(), f.clone())).collect();
    let mut seen: std::collections::HashSet<String> = s_files.iter().cloned().collect();
    while let Some((file, shown)) = queue.pop() {
        let Ok(text) = files
            .open(&dir.join(&file))
            .and_then(std::io::read_to_string)
        else {
            continue;
        };
        for line in text.lines() {
            let Some(rest) = line.trim_start().strip_prefix("#include") else {
                continue;
            };
            let Some(name) = rest
                .trim()
                .strip_prefix('"')
                .and_then(|r| r.split('"').next())
            else {
                continue;
            };
            if name.is_empty() {
                continue;
            }
            let clean = clean_slash_path(name);
            let inc = if files.exists(&dir.join(name)) {
                AsmInclude {
                    path: clean.clone(),
                    dir: IncludeDir::Package,
                    from: shown.clone(),
                    real: files.canonicalize(&dir.join(name)).ok(),
                }
            } else if clean == "go_asm.h" {
                continue;
            } else if let Some(h) = h_files
                .iter()
                .find(|h| objdir_header_copy(h, goos, goarch).as_deref() == Some(&clean))
            {
                AsmInclude {
                    path: clean.clone(),
                    dir: IncludeDir::Objdir { header: h.clone() },
                    from: shown.clone(),
                    real: files.canonicalize(&dir.join(h)).ok(),
                }
            } else {
                AsmInclude {
                    path: clean.clone(),
                    dir: IncludeDir::GorootInclude,
                    from: shown.clone(),
                    real: None,
                }
            };
            let key = format!("{:?} {}", inc.dir, inc.path);
            if !seen.insert(key) {
                continue;
            }
            if let Some(src) = inc.source() {
                queue.push((src.to_string(), inc.path.clone()));
            }
            found.push(inc);
        }
    }
    found.sort_by(|a, b| (&a.path, &a.from).cmp(&(&b.path, &b.from)));
    found
}

/// Names of the non-directory entries of `dir`, byte-sorted like os.ReadDir.
fn read_dir_sorted(files: &Files, dir: &Path) -> Result<Vec<String>, (&'static str, String)> {
    let go_err = |e: std::io::Error| (read_dir_op(&e), scan::go_io_error(&e));
    let rd = files.read_dir(dir).map_err(go_err)?;
    let mut names = Vec::new();
    for ent in rd {
        let ent = ent.map_err(go_err)?;
        match ent.kind {
            Ok(Kind::Dir) | Err(_) => continue,
            Ok(Kind::Symlink) if files.is_dir(&ent.path) => continue,
            _ => {}
        }
        names.push(ent.name_str());
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::gobuild::context::TargetConfig;
    use std::fs;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str, files: &[(&str, &str)]) -> TempDir {
            let d = std::env::temp_dir().join(format!("gobuild-test-{}-{tag}", std::process::id()));
            let _ = fs::remove_dir_all(&d);
            fs::create_dir_all(&d).unwrap();
            for (n, c) in files {
                fs::write(d.join(n), c).unwrap();
            }
            TempDir(d)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// Pins (issue #11 item 2): includes resolve from the package directory
    /// as cmd/asm does, a header's own includes too (not from the header's
    /// directory), `..` is followed, loops end. Pins (issue #13 item 1): only
    /// reached headers are listed, the package's own included (an unincluded
    /// one is not), the objdir copy of a header named for the target, and
    /// what is left for `$GOROOT/pkg/include`.
    #[test]
    fn asm_includes_resolve_from_the_package_directory() {
        let t = TempDir::new("asminc", &[]);
        let (pkg, other) = (t.0.join("p"), t.0.join("other"));
        fs::create_dir_all(&pkg).unwrap();
        fs::create_dir_all(&other).unwrap();
        let w = |d: &Path, n: &str, c: &str| fs::write(d.join(n), c).unwrap();
        w(
            &pkg,
            "a.s",
            "#include \"../other/x.h\"\n#include \"own.h\"\n#include \"go_asm.h\"\n#include \"defs_GOOS_GOARCH.h\"\n",
        );
        w(&pkg, "own.h", "");
        w(&pkg, "unused.h", "");
        w(&pkg, "defs_linux_amd64.h", "#include \"textflag.h\"\n");
        // From p: "../other/y.h" exists; "y.h" (the header's own dir) does not.
        w(
            &other,
            "x.h",
            "#include \"../other/y.h\"\n#include \"y.h\"\n",
        );
        w(&other, "y.h", "#include \"../other/x.h\"\n");
        let h_files = [
            "defs_linux_amd64.h".into(),
            "own.h".into(),
            "unused.h".into(),
        ];
        let got = asm_include_files(
            &Files::new(),
            &pkg,
            &["a.s".into()],
            &h_files,
            "linux",
            "amd64",
        );
        let paths: Vec<(&str, &str, &IncludeDir)> = got
            .iter()
            .map(|h| (h.path.as_str(), h.from.as_str(), &h.dir))
            .collect();
        let copy = IncludeDir::Objdir {
            header: "defs_linux_amd64.h".into(),
        };
        assert_eq!(
            paths,
            [
                ("../other/x.h", "a.s", &IncludeDir::Package),
                ("../other/y.h", "../other/x.h", &IncludeDir::Package),
                ("defs_GOOS_GOARCH.h", "a.s", &copy),
                ("own.h", "a.s", &IncludeDir::Package),
                (
                    "textflag.h",
                    "defs_GOOS_GOARCH.h",
                    &IncludeDir::GorootInclude
                ),
                ("y.h", "../other/x.h", &IncludeDir::GorootInclude),
            ]
        );
        let real = fs::canonicalize(other.join("y.h")).unwrap();
        assert_eq!(got[1].real.as_deref(), Some(real.as_path()));
        assert_eq!(clean_slash_path("a/./b/../../../c"), "../c");
        assert_eq!(clean_slash_path("/../etc//x"), "/etc/x");
    }

    fn linux() -> BuildContext {
        BuildContext::new(&TargetConfig::new("linux", "amd64")).unwrap()
    }

    #[test]
    fn classification() {
        let t = TempDir::new(
            "classify",
            &[
                ("a.go", "package p\nimport (\"fmt\"; \"os\")\n"),
                ("b_windows.go", "package p\n"),
                ("c.go", "//go:build ignore\n\npackage main\n"),
                ("d.go", "package documentation\n"),
                ("e.go", "package p\nimport \"C\"\n"),
                ("f_test.go", "package p\nimport \"testing\"\n"),
                ("g_test.go", "package p_test\nimport (\"testing\"; \"p\")\n"),
                ("_h.go", "garbage"),
                (".i.go", "garbage"),
                ("j_amd64.s", "#include \"textflag.h\"\n"),
                ("k_arm64.s", "\n"),
                ("l.S", "\n"),
                ("m.syso", "\x00"),
                ("n.c", "// +build ignore\n\nint x;\n"),
                ("o.txt", "x"),
                (
                    "q.go",
                    "// +build linux,!cgo\n\npackage p\nimport \"embed\"\n//go:embed o.txt\nvar s string\n",
                ),
            ],
        );
        let (p, err) = import_dir(&linux(), &t.0);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(p.name, "p");
        assert_eq!(p.go_files, ["a.go", "q.go"]);
        assert_eq!(p.ignored_go_files, ["b_windows.go", "c.go", "d.go", "e.go"]);
        assert_eq!(p.test_go_files, ["f_test.go"]);
        assert_eq!(p.xtest_go_files, ["g_test.go"]);
        assert_eq!(p.s_files, ["j_amd64.s"]);
        assert_eq!(p.ignored_other_files, ["k_arm64.s", "l.S", "n.c"]);
        assert_eq!(p.syso_files, ["m.syso"]);
        assert_eq!(p.imports, ["embed", "fmt", "os"]);
        assert_eq!(p.embed_patterns, ["o.txt"]);
        assert_eq!(p.xtest_imports, ["p", "testing"]);
        assert_eq!(p.import_pos["fmt"][0].pos.line, 2);
    }

    #[test]
    fn errors() {
        let t = TempDir::new("multi", &[("a.go", "package a\n"), ("b.go", "package b\n")]);
        let (p, err) = import_dir(&linux(), &t.0);
        assert_eq!(p.go_files, ["a.go", "b.go"]);
        assert_eq!(p.invalid_go_files, ["b.go"]);
        assert_eq!(
            err.unwrap().to_string(),
            format!("found packages a (a.go) and b (b.go) in {}", t.0.display())
        );

        let t = TempDir::new("excl", &[("a_windows.go", "package a\n"), ("x.s", "")]);
        let (p, err) = import_dir(&linux(), &t.0);
        assert_eq!(p.ignored_go_files, ["a_windows.go"]);
        assert_eq!(
            err.unwrap().to_string(),
            format!(
                "build constraints exclude all Go files in {}",
                t.0.display()
            )
        );

        let t = TempDir::new("none", &[("x.txt", "")]);
        let (_, err) = import_dir(&linux(), &t.0);
        assert_eq!(
            err.unwrap().to_string(),
            format!("no Go files in {}", t.0.display())
        );

        let (_, err) = import_dir(&linux(), Path::new("/nonexistent/dir"));
        assert_eq!(
            err.unwrap().to_string(),
            "open /nonexistent/dir: no such file or directory"
        );

        let t = TempDir::new(
            "bad",
            &[
                ("a.go", "package a\n"),
                ("b.go", "packag b\n"),
                ("c.go", "//go:build linux &&\n\npackage a\n"),
                ("d_test.go", "package a\nimport \"C\"\n"),
            ],
        );
        let (p, err) = import_dir(&linux(), &t.0);
        let dir = t.0.display();
        assert_eq!(p.invalid_go_files, ["b.go", "c.go", "d_test.go"]);
        assert_eq!(p.go_files, ["a.go", "b.go"]);
        assert_eq!(
            err.unwrap().to_string(),
            format!("{dir}/b.go:1:1: expected 'package', found packag")
        );
        // b.go's package is "" (unparsable clause), which conflicts with "a".
        assert_eq!(
            p.errors[1].to_string(),
            format!("found packages a (a.go) and  (b.go) in {dir}")
        );
        assert_eq!(
            p.errors[2].to_string(),
            "c.go: parsing //go:build line: unexpected end of expression"
        );
        assert_eq!(
            p.errors[3].to_string(),
            format!("use of cgo in test {dir}/d_test.go not supported")
        );
        let (_, err) = import_dir_with(&linux(), &t.0, Flavor::ModIndex);
        assert_eq!(
            err.unwrap().to_string(),
            "c.go: parsing //go:build line: unexpected end of expression"
        );
    }

    #[test]
    fn should_build_rules() {
        let c = linux();
        assert!(should_build(&c, b"// +build linux\n\npackage x").unwrap());
        assert!(!should_build(&c, b"// +build windows\n\npackage x").unwrap());
        assert!(should_build(&c, b"// +build windows\npackage x").unwrap());
        assert!(!should_build(&c, b"//go:build windows\npackage x").unwrap());
        assert!(should_build(
            &c,
            b"//go:build unix && go1.21\n// +build windows\n\npackage x"
        )
        .unwrap());
        assert!(should_build(&c, b"//go:build a b").is_err());
    }
}
