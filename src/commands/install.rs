//! `gob install`: where go install puts executables (cmd/go's load
//! `Package.Target` for main packages and work's `InstallPackages` checks);
//! the build itself is gob build's, with `-o BINDIR/`.

use std::path::{Path, PathBuf};

/// Why go install would refuse, in its words.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InstallError {
    /// `$GOBIN` is relative.
    #[error("cannot install, GOBIN must be an absolute path")]
    RelativeGobin,
    /// A cross-compiled binary and `$GOBIN` set.
    #[error("gob: cannot install cross-compiled binaries when GOBIN is set")]
    CrossWithGobin,
    /// Neither `$GOBIN` nor a GOPATH.
    #[error("gob: no install location for directory {} outside GOPATH\n\tFor more details see: 'go help gopath'", .0.display())]
    NoLocation(PathBuf),
    /// `gob install pkg@version`: the module would have to be downloaded.
    #[error("gob: {0}: gob install cannot install pkg@version: it builds only modules on disk (no network); use go install")]
    Versioned(String),
}

/// The directory executables go to: `$GOBIN`, else `GOPATH[0]/bin`, with
/// `GOOS_GOARCH/` beneath it when cross-compiling (refused when `$GOBIN`
/// is set, as go does). `None`: no location (the caller names the package).
pub fn bin_dir(
    gobin: &str,
    gopath: &str,
    target: (&str, &str),
    host: (&str, &str),
) -> Result<Option<PathBuf>, InstallError> {
    if !gobin.is_empty() && !Path::new(gobin).is_absolute() {
        return Err(InstallError::RelativeGobin);
    }
    let cross = target != host;
    if !gobin.is_empty() {
        if cross {
            return Err(InstallError::CrossWithGobin);
        }
        return Ok(Some(PathBuf::from(gobin)));
    }
    let first = gopath.split(':').next().unwrap_or("");
    if first.is_empty() {
        return Ok(None);
    }
    let bin = Path::new(first).join("bin");
    Ok(Some(if cross {
        bin.join(format!("{}_{}", target.0, target.1))
    } else {
        bin
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_install_locations() {
        let h = ("linux", "amd64");
        assert_eq!(
            bin_dir("/b", "/g", h, h).unwrap(),
            Some(PathBuf::from("/b"))
        );
        assert_eq!(
            bin_dir("", "/g:/h", h, h).unwrap(),
            Some(PathBuf::from("/g/bin"))
        );
        assert_eq!(
            bin_dir("", "/g", ("windows", "amd64"), h).unwrap(),
            Some(PathBuf::from("/g/bin/windows_amd64"))
        );
        assert_eq!(
            bin_dir("/b", "/g", ("windows", "amd64"), h),
            Err(InstallError::CrossWithGobin)
        );
        assert_eq!(bin_dir("b", "/g", h, h), Err(InstallError::RelativeGobin));
        assert_eq!(bin_dir("", "", h, h).unwrap(), None);
    }
}
