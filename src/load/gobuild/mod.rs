//! Go's `go/build` file classification for one directory: build constraints, GOOS/GOARCH file names and header scanning.
//!
//! The entry point is [`import_dir`], which mirrors `go/build.Context.ImportDir`
//! (mode 0) for a [`BuildContext`] made from a [`TargetConfig`]. The pieces are
//! usable on their own: [`constraint`] parses `//go:build` / `// +build` lines,
//! [`scan_go_file`] reads a file's package clause, imports and `//go:embed`
//! patterns, and [`BuildContext::match_tag`] / [`BuildContext::good_os_arch_file`]
//! implement tag and file-name matching.

pub mod anytags;
pub mod cgo;
pub mod constraint;
pub mod context;
pub mod dir;
pub mod scan;

pub use crate::load::files::open_regular;
pub use anytags::{dir_has_go_any_tags, should_build_any_tags};
pub use cgo::{CgoError, CgoFlags, CgoVerb};
pub use constraint::{ConstraintError, Expr, FileConstraints, HeaderError};
pub use context::{
    is_known_arch, is_known_os, is_unix_os, ArchDefaults, BuildContext, ContextError, TargetConfig,
};
pub use dir::{
    clean_slash_path, eval_constraints, import_dir, import_dir_with, import_files, no_go_error,
    objdir_header_copy, should_build, AsmInclude, DirError, DirPackage, FileError, FileErrorKind,
    FilePos, Flavor, IncludeDir, ShouldBuildError,
};
pub use scan::{
    read_leading_comments, scan_go_file, scan_go_reader, Embed, GoFileHeader, ImportSpec, Pos,
    ScanError, SyntaxError,
};
