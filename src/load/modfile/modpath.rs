//! Module, import and file path checks and major-version suffixes (`golang.org/x/mod/module`).

use super::quote::{go_quote, quote_rune};
use super::semver::{parse_semver, semver_major};
use super::{ModFileErrorKind, ModulePathError};

/// `module.SplitPathVersion`: (prefix, pathMajor) or `None` if the major suffix is malformed.
pub fn split_path_version(path: &str) -> Option<(&str, &str)> {
    if path.starts_with("gopkg.in/") {
        return split_gopkg_in(path);
    }
    let b = path.as_bytes();
    let mut i = b.len();
    let mut dot = false;
    while i > 0 && (b[i - 1].is_ascii_digit() || b[i - 1] == b'.') {
        if b[i - 1] == b'.' {
            dot = true;
        }
        i -= 1;
    }
    if i <= 1 || i == b.len() || b[i - 1] != b'v' || b[i - 2] != b'/' {
        return Some((path, ""));
    }
    let (prefix, major) = (&path[..i - 2], &path[i - 2..]);
    if dot || major.len() <= 2 || major.as_bytes()[2] == b'0' || major == "/v1" {
        return None;
    }
    Some((prefix, major))
}

fn split_gopkg_in(path: &str) -> Option<(&str, &str)> {
    let b = path.as_bytes();
    let mut i = b.len();
    if path.ends_with("-unstable") {
        i -= "-unstable".len();
    }
    while i > 0 && b[i - 1].is_ascii_digit() {
        i -= 1;
    }
    if i <= 1 || b[i - 1] != b'v' || b[i - 2] != b'.' {
        return None;
    }
    let (prefix, major) = (&path[..i - 2], &path[i - 2..]);
    if major.len() <= 2 || (major.as_bytes()[2] == b'0' && major != ".v0") {
        return None;
    }
    Some((prefix, major))
}

/// `module.CheckPathMajor`: whether version `v` fits the path's major suffix.
pub fn check_path_major(v: &str, path_major: &str) -> Result<(), ModFileErrorKind> {
    let mut pm = path_major;
    if pm.starts_with(".v") {
        pm = pm.strip_suffix("-unstable").unwrap_or(pm);
    }
    if v.starts_with("v0.0.0-") && pm == ".v1" {
        return Ok(());
    }
    let m = semver_major(v);
    let want = if pm.is_empty() {
        let build = parse_semver(v).map_or("", |p| p.build);
        if m == "v0" || m == "v1" || build == "+incompatible" {
            return Ok(());
        }
        "v0 or v1".to_string()
    } else {
        if m == pm.get(1..).unwrap_or("") {
            return Ok(());
        }
        pm.get(1..).unwrap_or("").to_string()
    };
    Err(ModFileErrorKind::InvalidVersion {
        version: v.to_string(),
        reason: format!("should be {want}, not {m}"),
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum PathKind {
    Module,
    Import,
    File,
}

pub(super) fn check_elem(elem: &str, kind: PathKind) -> Result<(), String> {
    if elem.is_empty() {
        return Err("empty path element".into());
    }
    if elem.bytes().all(|c| c == b'.') {
        return Err(format!("invalid path element {}", go_quote(elem)));
    }
    if elem.starts_with('.') && kind == PathKind::Module {
        return Err("leading dot in path element".into());
    }
    if elem.ends_with('.') {
        return Err("trailing dot in path element".into());
    }
    for r in elem.chars() {
        let ascii_ok = |r: char| r.is_ascii_alphanumeric() || "-._~".contains(r);
        let ok = match kind {
            PathKind::Module => r.is_ascii() && ascii_ok(r),
            PathKind::Import => r.is_ascii() && (ascii_ok(r) || r == '+'),
            PathKind::File => {
                if r.is_ascii() {
                    r.is_ascii_alphanumeric() || "!#$%&()+,-.=@[]^_{}~ ".contains(r)
                } else {
                    r.is_alphabetic() && is_go_letter(r)
                }
            }
        };
        if !ok {
            return Err(format!("invalid char {}", quote_rune(r)));
        }
    }
    let short = elem.split('.').next().unwrap_or(elem);
    const BAD: [&str; 22] = [
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
        "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];
    if BAD.iter().any(|b| b.eq_ignore_ascii_case(short)) {
        return Err(format!(
            "{} disallowed as path element component on Windows",
            go_quote(short)
        ));
    }
    if kind == PathKind::File {
        return Ok(());
    }
    if let Some(t) = short.rfind('~') {
        let suf = &short[t + 1..];
        if !suf.is_empty() && suf.bytes().all(|c| c.is_ascii_digit()) {
            return Err("trailing tilde and digits in path element".into());
        }
    }
    Ok(())
}

/// Go's `unicode.IsLetter` is category L; Rust's `is_alphabetic` also admits
/// Nl and Other_Alphabetic marks. Exclude the common non-L alphabetic ranges.
fn is_go_letter(r: char) -> bool {
    let u = r as u32;
    !matches!(u, 0x16EE..=0x16F0 | 0x2160..=0x2188 | 0x3007 | 0x3021..=0x3029 | 0x3038..=0x303A
        | 0x0300..=0x036F | 0x05B0..=0x05C7 | 0x0610..=0x061A | 0x064B..=0x065F
        | 0x0900..=0x0903 | 0x093A..=0x094F | 0x24B6..=0x24E9 | 0x1F130..=0x1F189)
}

fn check_path(path: &str, kind: PathKind) -> Result<(), String> {
    if path.is_empty() {
        return Err("empty string".into());
    }
    if path.starts_with('-') && kind != PathKind::File {
        return Err("leading dash".into());
    }
    if path.contains("//") {
        return Err("double slash".into());
    }
    if path.ends_with('/') {
        return Err("trailing slash".into());
    }
    for e in path.split('/') {
        check_elem(e, kind)?;
    }
    Ok(())
}

/// `module.CheckPath`: validates a module path.
pub fn check_module_path(path: &str) -> Result<(), ModulePathError> {
    let mal = |reason: String| ModulePathError::Malformed {
        kind: "module",
        path: path.to_string(),
        reason,
    };
    check_path(path, PathKind::Module).map_err(mal)?;
    let i = path.find('/').unwrap_or(path.len());
    if i == 0 {
        return Err(mal("leading slash".into()));
    }
    let first = &path[..i];
    if !first.contains('.') {
        return Err(mal("missing dot in first path element".into()));
    }
    if path.starts_with('-') {
        return Err(mal("leading dash in first path element".into()));
    }
    for r in first.chars() {
        if !(r == '-' || r == '.' || r.is_ascii_digit() || r.is_ascii_lowercase()) {
            return Err(mal(format!(
                "invalid char {} in first path element",
                quote_rune(r)
            )));
        }
    }
    if split_path_version(path).is_none() {
        return Err(mal("invalid version".into()));
    }
    Ok(())
}

/// `module.CheckImportPath`: validates an import path.
pub fn check_import_path(path: &str) -> Result<(), ModulePathError> {
    check_path(path, PathKind::Import).map_err(|reason| ModulePathError::Malformed {
        kind: "import",
        path: path.to_string(),
        reason,
    })
}

/// `module.CheckFilePath`: validates a slash-separated file path inside a module.
pub fn check_file_path(path: &str) -> Result<(), ModulePathError> {
    check_path(path, PathKind::File).map_err(|reason| ModulePathError::Malformed {
        kind: "file",
        path: path.to_string(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_path_checks() {
        assert_eq!(
            check_module_path("example/x").unwrap_err().to_string(),
            "malformed module path \"example/x\": missing dot in first path element"
        );
        assert!(check_module_path("example.com/x/v1").is_err());
        assert!(check_module_path("example.com/x/v2").is_ok());
        assert!(check_module_path("example.com/.x").is_err());
        assert!(check_module_path("example.com/x~1").is_err());
        assert!(check_import_path("example.com/x+y").is_ok());
        assert!(check_module_path("example.com/x+y").is_err());
        assert_eq!(
            split_path_version("gopkg.in/yaml.v3"),
            Some(("gopkg.in/yaml", ".v3"))
        );
        assert_eq!(
            split_path_version("example.com/x/v2"),
            Some(("example.com/x", "/v2"))
        );
        assert_eq!(split_path_version("example.com/x/v1"), None);
    }
}
