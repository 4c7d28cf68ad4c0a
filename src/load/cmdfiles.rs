//! Go files named on the command line: the `command-line-arguments` package
//! (cmd/go's `GoFilesPackage`, chosen by `PackagesAndErrors`).
//!
//! `gob build main.go` builds a package that sees only the named files, all
//! from one directory, read with `UseAllFiles` (neither file names nor build
//! constraints exclude a named file). Its import path is
//! `command-line-arguments`; it belongs to no module (go reports none), and
//! its imports are resolved from the main modules as any other package's.

use std::path::{Path, PathBuf};

use super::files::{Files, Kind};
use super::gobuild::{self, BuildContext, DirError, DirPackage};
use super::LoadError;

/// The import path cmd/go gives the package of named files.
pub const IMPORT_PATH: &str = "command-line-arguments";

/// What the arguments name when they are files.
#[derive(Debug)]
pub enum NamedFiles {
    /// An argument is not a `.go` file: go reports a package named after it
    /// with this error (and no import path).
    NotGo(String),
    /// The package of the named files.
    Package {
        /// The files' directory, absolute and clean.
        dir: PathBuf,
        /// The directory's classification, seeing only the named files.
        pkg: Box<DirPackage>,
        /// go/build's error for it, if any.
        err: Option<DirError>,
    },
}

/// Whether `args` name files rather than packages: some argument ends in
/// `.go` and is something other than a directory (cmd/go's test, so a
/// package path ending in `.go` stays a package path, golang.org/issue/34653).
pub fn are_files(files: &Files, cwd: &Path, args: &[String]) -> bool {
    args.iter()
        .any(|a| a.ends_with(".go") && files.stat(&cwd.join(a)).is_ok_and(|k| k != Kind::Dir))
}

/// filepath.Dir: everything before the last `/`, cleaned; `.` when empty.
fn go_dir(path: &str) -> String {
    let before = path.rfind('/').map_or("", |i| &path[..=i]);
    let d = gobuild::clean_slash_path(before);
    if d.is_empty() {
        ".".into()
    } else {
        d
    }
}

/// cmd/go's GoFilesPackage up to `ctxt.ImportDir`: every argument a `.go`
/// file, each present and not a directory, all in one directory. The
/// errors cmd/go stops on (`base.Fatalf`) are [`LoadError::Files`], in its words.
pub fn import(ctx: &BuildContext, cwd: &Path, args: &[String]) -> Result<NamedFiles, LoadError> {
    if let Some(a) = args.iter().find(|a| !a.ends_with(".go")) {
        return Ok(NamedFiles::NotGo(a.clone()));
    }
    let mut dir: Option<String> = None;
    let mut names = Vec::with_capacity(args.len());
    for a in args {
        match ctx.files.stat(&cwd.join(a)) {
            Err(e) => {
                let msg = gobuild::scan::go_io_error(&e);
                return Err(LoadError::Files(format!("stat {a}: {msg}")));
            }
            Ok(Kind::Dir) => {
                return Err(LoadError::Files(format!(
                    "{a} is a directory, should be a Go file"
                )))
            }
            Ok(_) => {}
        }
        let d1 = go_dir(a);
        match &dir {
            None => dir = Some(d1),
            Some(d) if *d != d1 => {
                return Err(LoadError::Files(format!(
                    "named files must all be in one directory; have {d} and {d1}"
                )))
            }
            Some(_) => {}
        }
        names.push(a.rsplit('/').next().unwrap_or(a).to_string());
    }
    let dir = match dir.as_deref() {
        None => cwd.to_path_buf(),
        Some(d) => PathBuf::from(gobuild::clean_slash_path(&cwd.join(d).to_string_lossy())),
    };
    let (pkg, err) = gobuild::import_files(ctx, &dir, &names);
    Ok(NamedFiles::Package {
        dir,
        pkg: Box::new(pkg),
        err,
    })
}

/// The executable name cmd/go gives the package (`exeFromFiles`): the first
/// Go file's (else cgo file's) base name without `.go`.
pub fn exe_name(pkg: &DirPackage) -> String {
    let first = pkg.go_files.first().or(pkg.cgo_files.first());
    first
        .map(|f| f.rsplit('/').next().unwrap_or(f))
        .and_then(|f| f.strip_suffix(".go"))
        .unwrap_or("")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirs_as_filepath_dir() {
        assert_eq!(go_dir("main.go"), ".");
        assert_eq!(go_dir("./main.go"), ".");
        assert_eq!(go_dir("./cmd/app/main.go"), "cmd/app");
        assert_eq!(go_dir("sub//x.go"), "sub");
        assert_eq!(go_dir("../files/main.go"), "../files");
        assert_eq!(go_dir("/abs/main.go"), "/abs");
        assert_eq!(go_dir("/main.go"), "/");
    }
}
