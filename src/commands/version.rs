//! `gob version`: gob's version and the Go toolchain it would use.

use crate::toolchain::{Toolchain, ToolchainError};

/// What `gob version` prints: `gob VERSION`, then ` with goX.Y.Z GOOS/GOARCH
/// at GOROOT` when a toolchain is found. gob's own version never depends on
/// finding one: without a toolchain the line ends after the version and the
/// reason is returned for a note on stderr.
pub fn version(toolchain: Result<&Toolchain, &ToolchainError>) -> (String, Option<String>) {
    let gob = format!("gob {}", env!("CARGO_PKG_VERSION"));
    match toolchain {
        Ok(tc) => (
            format!(
                "{gob} with {} {}/{} at {}",
                tc.version_string,
                tc.host_goos,
                tc.host_goarch,
                tc.goroot.display()
            ),
            None,
        ),
        Err(e) => (gob, Some(format!("no Go toolchain: {e}"))),
    }
}

/// Where `gob version FILE...` reports, line by line as go does: `FILE:
/// go1.27.3` and the module lines on `out`, unreadable files on `err`.
pub struct FilesReport<'a> {
    /// Standard output.
    pub out: &'a mut dyn std::io::Write,
    /// Standard error.
    pub err: &'a mut dyn std::io::Write,
    /// go's exit status: 1 when a named file is missing, or with -m unreadable.
    pub code: u8,
}

impl FilesReport<'_> {
    fn out(&mut self, s: String) {
        let _ = self.out.write_all(s.as_bytes());
    }
    fn err(&mut self, s: String) {
        let _ = self.err.write_all(s.as_bytes());
    }
}

/// `go version [-m] [-v] FILE...` (cmd/go/internal/version's runVersion): a
/// named file is reported whatever it is; a directory is walked and only Go
/// binaries are reported, unless `-v`.
/// `-json` (with -m) prints each file's build info as go's JSON instead.
pub fn files(args: &[std::path::PathBuf], m: bool, v: bool, json: bool, r: &mut FilesReport) {
    if json && !m {
        r.err("gob: 'gob version' with -json flag requires -m flag\n".into());
        r.code = 2;
        return;
    }
    let m = if json {
        Mode::Json
    } else if m {
        Mode::Modules
    } else {
        Mode::Version
    };
    for arg in args {
        match std::fs::metadata(arg) {
            Err(e) => {
                r.err(format!("stat {}: {}\n", arg.display(), io_text(&e)));
                r.code = 1;
            }
            Ok(md) if md.is_dir() => scan_dir(arg, m, v, r),
            Ok(_) => {
                if !scan_file(arg, m, true, r) && m != Mode::Version {
                    r.code = 1;
                }
            }
        }
    }
}

/// Go's text for an I/O error (`no such file or directory`), without Rust's
/// ` (os error N)`.
pub(crate) fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_lowercase(),
        None => s,
    }
}

/// filepath.WalkDir order: entries sorted by name, regular files and
/// symlinks scanned.
fn scan_dir(dir: &std::path::Path, m: Mode, v: bool, r: &mut FilesReport) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = dir.join(e.file_name());
        let Ok(t) = e.file_type() else { continue };
        if t.is_dir() {
            scan_dir(&path, m, v, r);
        } else if t.is_file() || t.is_symlink() {
            scan_file(&path, m, v, r);
        }
    }
}

/// go's scanFile: prints the file's version (and with -m its modules), or,
/// when `must_print`, why it has none (only for a likely Go binary).
/// What is printed of each binary.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `FILE: go1.27.3`.
    Version,
    /// `-m`: and the module lines.
    Modules,
    /// `-m -json`: the parsed build info as go's JSON.
    Json,
}

fn scan_file(file: &std::path::Path, m: Mode, must_print: bool, r: &mut FilesReport) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Ok(md) = std::fs::symlink_metadata(file) else {
        return false;
    };
    let md = if md.file_type().is_symlink() {
        match std::fs::metadata(file) {
            Ok(t) if t.is_file() => t,
            _ => {
                if must_print {
                    r.err(format!("{}: symlink\n", file.display()));
                }
                return false;
            }
        }
    } else {
        md
    };
    let bi = match crate::buildinfo::read_file(file) {
        Ok(bi) => bi,
        Err(e) => {
            if must_print {
                match e {
                    crate::buildinfo::BuildInfoError::Io { .. } => {
                        r.err(format!("{}\n", file.display()))
                    }
                    _ if is_candidate(file, md.permissions().mode()) => {
                        r.err(format!("{}: {e}\n", file.display()))
                    }
                    _ => {}
                }
            }
            return false;
        }
    };
    if m == Mode::Json {
        let parsed = match bi.parse() {
            Ok(p) => p,
            Err(e) => {
                r.err(format!("gob: {}: {e}\n", file.display()));
                r.code = 1;
                return false;
            }
        };
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        if serde::Serialize::serialize(&parsed, &mut ser).is_ok() {
            let text = super::env::go_json_escapes(&String::from_utf8_lossy(&buf));
            r.out(format!("{text}\n"));
        }
        return true;
    }
    r.out(format!("{}: {}\n", file.display(), bi.go_version));
    // BuildInfo.String() with GoVersion cleared: the lines after `go`.
    let lines: Vec<&str> = bi
        .modinfo
        .lines()
        .filter(|l| !l.starts_with("go\t"))
        .collect();
    if m == Mode::Modules && !lines.is_empty() {
        r.out(format!("\t{}\n", lines.join("\n\t")));
    }
    true
}

/// go's isGoBinaryCandidate: executable, or named like a library or .exe.
fn is_candidate(file: &std::path::Path, mode: u32) -> bool {
    if mode & 0o111 != 0 {
        return true;
    }
    let name = file.to_string_lossy().to_lowercase();
    let ext = std::path::Path::new(&name)
        .extension()
        .map(|e| e.to_string_lossy().into_owned());
    matches!(ext.as_deref(), Some("so" | "exe" | "dll")) || name.contains(".so.")
}
