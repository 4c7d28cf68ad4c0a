//! Toolchain discovery: which GOROOT, which Go version, which host tool directory.
//!
//! The order is `--goroot`, then `$GOROOT`, then `go env GOROOT` of the `go` on
//! PATH (the only time gob runs `go`, and only when nothing else names a GOROOT).
//! Everything else is read from the toolchain's own files: the version from
//! `$GOROOT/VERSION`, the host platform from the single `pkg/tool/<goos>_<goarch>`
//! directory, so an arm64 toolchain run under emulation is just another GOROOT.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The oldest and newest Go minor versions gob knows how to plan for.
pub const SUPPORTED_MINOR: std::ops::RangeInclusive<u32> = 27..=27;

/// Errors finding or validating a Go toolchain. Each says what was found and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ToolchainError {
    /// Nothing named a GOROOT and no `go` is on PATH.
    #[error("no Go toolchain: --goroot and $GOROOT are unset and no `go` is on PATH; run ci/install-go and pass --goroot, or set GOROOT")]
    NotFound,
    /// `go env GOROOT` ran but failed.
    #[error("`go env GOROOT` failed ({status}): {stderr}; pass --goroot DIR instead")]
    GoEnvFailed {
        /// Exit status as text.
        status: String,
        /// What go printed.
        stderr: String,
    },
    /// The GOROOT has no readable VERSION file.
    #[error("{goroot}: not a Go toolchain (cannot read {file}: {source}); point --goroot or $GOROOT at a Go distribution")]
    NoVersion {
        /// The GOROOT tried.
        goroot: PathBuf,
        /// The VERSION file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The VERSION file does not start with `goX.Y`.
    #[error("{file}: cannot parse Go version from {first_line:?}; expected e.g. go1.27.3")]
    BadVersion {
        /// The VERSION file.
        file: PathBuf,
        /// Its first line.
        first_line: String,
    },
    /// A version gob does not support.
    #[error("{goroot}: Go {version} is not supported by gob (supported: go1.{lo}.x to go1.{hi}.x); install the pinned toolchain with ci/install-go")]
    Unsupported {
        /// The GOROOT.
        goroot: PathBuf,
        /// The version found.
        version: GoVersion,
        /// Lowest supported minor.
        lo: u32,
        /// Highest supported minor.
        hi: u32,
    },
    /// `pkg/tool` is missing or has no (or several) `<goos>_<goarch>` directories.
    #[error("{dir}: {problem}; the toolchain looks incomplete — reinstall it")]
    ToolDir {
        /// The pkg/tool directory.
        dir: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

/// A Go release version, `go1.<minor>.<patch>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoVersion {
    /// Always 1 for now.
    pub major: u32,
    /// The language version: 27 for go1.27.3.
    pub minor: u32,
    /// The patch release; 0 when absent.
    pub patch: u32,
}

impl fmt::Display for GoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "go{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl GoVersion {
    /// Parses `go1.27.3`, `go1.27`, `go1.27rc1` (the pre-release suffix is dropped).
    pub fn parse(s: &str) -> Option<GoVersion> {
        let rest = s.strip_prefix("go")?;
        let mut parts = rest.split('.');
        let major: u32 = parts.next()?.parse().ok()?;
        let minor_s = parts.next()?;
        let digits = minor_s.bytes().take_while(u8::is_ascii_digit).count();
        let minor: u32 = minor_s[..digits].parse().ok()?;
        let patch = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        Some(GoVersion {
            major,
            minor,
            patch,
        })
    }
}

/// A located, validated Go toolchain.
#[derive(Clone, Debug)]
pub struct Toolchain {
    /// The GOROOT directory (absolute).
    pub goroot: PathBuf,
    /// Parsed from `$GOROOT/VERSION`.
    pub version: GoVersion,
    /// The first line of VERSION as written (e.g. `go1.27.3`).
    pub version_string: String,
    /// The platform the tool binaries run on, from `pkg/tool/<goos>_<goarch>`.
    pub host_goos: String,
    /// See `host_goos`.
    pub host_goarch: String,
    /// The GO$GOARCH defaults it was built with (`src/internal/buildcfg/zbootstrap.go`;
    /// a release's when the file is missing).
    pub arch_defaults: crate::load::gobuild::ArchDefaults,
}

impl Toolchain {
    /// Finds the toolchain: `flag` (from `--goroot`), else `env_goroot` ($GOROOT), else
    /// `go env GOROOT`.
    pub fn discover(
        flag: Option<&Path>,
        env_goroot: Option<&str>,
    ) -> Result<Toolchain, ToolchainError> {
        let goroot = match (flag, env_goroot.filter(|s| !s.is_empty())) {
            (Some(p), _) => p.to_path_buf(),
            (None, Some(e)) => PathBuf::from(e),
            (None, None) => go_env_goroot()?,
        };
        Toolchain::open(&goroot)
    }

    /// Validates the toolchain at `goroot`.
    pub fn open(goroot: &Path) -> Result<Toolchain, ToolchainError> {
        let goroot = std::path::absolute(goroot).unwrap_or_else(|_| goroot.to_path_buf());
        let file = goroot.join("VERSION");
        let text = std::fs::read_to_string(&file).map_err(|source| ToolchainError::NoVersion {
            goroot: goroot.clone(),
            file: file.clone(),
            source,
        })?;
        let first_line = text.lines().next().unwrap_or("").trim().to_string();
        let version = GoVersion::parse(&first_line).ok_or_else(|| ToolchainError::BadVersion {
            file: file.clone(),
            first_line: first_line.clone(),
        })?;
        if version.major != 1 || !SUPPORTED_MINOR.contains(&version.minor) {
            return Err(ToolchainError::Unsupported {
                goroot,
                version,
                lo: *SUPPORTED_MINOR.start(),
                hi: *SUPPORTED_MINOR.end(),
            });
        }
        let (host_goos, host_goarch) = host_tool_platform(&goroot.join("pkg").join("tool"))?;
        let arch_defaults =
            std::fs::read_to_string(goroot.join("src/internal/buildcfg/zbootstrap.go"))
                .map(|t| crate::load::gobuild::ArchDefaults::parse(&t))
                .unwrap_or_default();
        Ok(Toolchain {
            goroot,
            version,
            version_string: first_line,
            host_goos,
            host_goarch,
            arch_defaults,
        })
    }

    /// `$GOROOT/src`.
    pub fn src_dir(&self) -> PathBuf {
        self.goroot.join("src")
    }

    /// `$GOROOT/pkg/tool/<host goos>_<host goarch>`, where compile, asm, link and pack live.
    pub fn tool_dir(&self) -> PathBuf {
        self.goroot
            .join("pkg")
            .join("tool")
            .join(format!("{}_{}", self.host_goos, self.host_goarch))
    }
}

/// Reads the one `<goos>_<goarch>` directory under `pkg/tool` that holds `compile`.
fn host_tool_platform(tool_root: &Path) -> Result<(String, String), ToolchainError> {
    let problem = |p: String| ToolchainError::ToolDir {
        dir: tool_root.to_path_buf(),
        problem: p,
    };
    let entries = std::fs::read_dir(tool_root).map_err(|e| problem(format!("cannot read: {e}")))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| problem(format!("cannot read: {e}")))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // Cross toolchains may carry extra dirs such as linux_amd64_race; only
        // a plain goos_goarch with a compile binary counts.
        let Some((os, arch)) = name.split_once('_') else {
            continue;
        };
        if arch.contains('_') || !entry.path().join("compile").is_file() {
            continue;
        }
        found.push((os.to_string(), arch.to_string()));
    }
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(problem(
            "no <goos>_<goarch> directory with a compile binary".into(),
        )),
        _ => Err(problem(format!(
            "several host tool directories ({}); gob cannot tell which is native",
            found
                .iter()
                .map(|(o, a)| format!("{o}_{a}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn go_env_goroot() -> Result<PathBuf, ToolchainError> {
    let out = match Command::new("go").args(["env", "GOROOT"]).output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ToolchainError::NotFound),
        Err(e) => {
            return Err(ToolchainError::GoEnvFailed {
                status: "could not start".into(),
                stderr: e.to_string(),
            })
        }
    };
    if !out.status.success() {
        return Err(ToolchainError::GoEnvFailed {
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if s.is_empty() {
        return Err(ToolchainError::NotFound);
    }
    Ok(PathBuf::from(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!(
            GoVersion::parse("go1.27.3"),
            Some(GoVersion {
                major: 1,
                minor: 27,
                patch: 3
            })
        );
        assert_eq!(GoVersion::parse("go1.27rc1").map(|v| v.minor), Some(27));
        assert_eq!(GoVersion::parse("devel +abc"), None);
        assert_eq!(GoVersion::parse("go1"), None);
    }

    #[test]
    fn missing_goroot_is_a_clear_error() {
        let err = Toolchain::open(Path::new("/nonexistent/goroot")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/goroot"), "{msg}");
        assert!(msg.contains("not a Go toolchain"), "{msg}");
    }

    #[test]
    fn unsupported_version_names_the_version() {
        let dir = std::env::temp_dir().join(format!("gob-tc-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("pkg/tool/linux_amd64")).unwrap();
        std::fs::write(dir.join("VERSION"), "go1.19.2\ntime x\n").unwrap();
        let msg = Toolchain::open(&dir).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).ok();
        assert!(msg.contains("go1.19.2 is not supported"), "{msg}");
    }
}
