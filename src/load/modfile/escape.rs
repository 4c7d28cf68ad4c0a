//! `$GOMODCACHE` path escaping (`module.EscapePath`/`EscapeVersion`, `A` → `!a`) and the cache layout.

use std::path::{Path, PathBuf};

use super::modpath::{check_elem, check_module_path, PathKind};
use super::ModulePathError;

fn escape_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `module.EscapePath`: the module path as used in `$GOMODCACHE` (`A` → `!a`).
pub fn escape_module_path(path: &str) -> Result<String, ModulePathError> {
    check_module_path(path)?;
    Ok(escape_string(path))
}

/// `module.EscapeVersion`: the version as used in `$GOMODCACHE`.
pub fn escape_version(v: &str) -> Result<String, ModulePathError> {
    if check_elem(v, PathKind::File).is_err() || v.contains('!') {
        return Err(ModulePathError::InvalidVersion {
            version: v.to_string(),
            reason: "disallowed version string".into(),
        });
    }
    Ok(escape_string(v))
}

fn unescape_string(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut bang = false;
    for c in s.chars() {
        if !c.is_ascii() {
            return None;
        }
        if bang {
            bang = false;
            if !c.is_ascii_lowercase() {
                return None;
            }
            out.push(c.to_ascii_uppercase());
            continue;
        }
        if c == '!' {
            bang = true;
            continue;
        }
        if c.is_ascii_uppercase() {
            return None;
        }
        out.push(c);
    }
    (!bang).then_some(out)
}

/// `module.UnescapePath`: inverse of [`escape_module_path`].
pub fn unescape_module_path(escaped: &str) -> Result<String, ModulePathError> {
    let bad = || ModulePathError::BadEscape {
        what: "module path",
        text: escaped.to_string(),
    };
    let p = unescape_string(escaped).ok_or_else(bad)?;
    check_module_path(&p).map_err(|_| bad())?;
    Ok(p)
}

/// `module.UnescapeVersion`: inverse of [`escape_version`].
pub fn unescape_version(escaped: &str) -> Result<String, ModulePathError> {
    let bad = || ModulePathError::BadEscape {
        what: "version",
        text: escaped.to_string(),
    };
    let v = unescape_string(escaped).ok_or_else(bad)?;
    check_elem(&v, PathKind::File).map_err(|_| bad())?;
    Ok(v)
}

/// Path of a download-cache file for `path@version` under `$GOMODCACHE`:
/// `<gomodcache>/cache/download/<escaped path>/@v/<escaped version>.<suffix>`
/// (`suffix` is `zip`, `ziphash`, `mod`, `info` or `lock`).
pub fn download_cache_file(
    gomodcache: &Path,
    path: &str,
    version: &str,
    suffix: &str,
) -> Result<PathBuf, ModulePathError> {
    let ep = escape_module_path(path)?;
    let ev = escape_version(version)?;
    Ok(gomodcache
        .join("cache/download")
        .join(ep)
        .join("@v")
        .join(format!("{ev}.{suffix}")))
}

/// Extracted module directory under `$GOMODCACHE`: `<gomodcache>/<escaped path>@<escaped version>`.
pub fn module_cache_dir(
    gomodcache: &Path,
    path: &str,
    version: &str,
) -> Result<PathBuf, ModulePathError> {
    let ep = escape_module_path(path)?;
    let ev = escape_version(version)?;
    Ok(gomodcache.join(format!("{ep}@{ev}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_paths() {
        assert_eq!(
            escape_module_path("github.com/Azure/SDK").unwrap(),
            "github.com/!azure/!s!d!k"
        );
        assert_eq!(escape_version("v1.0.0-RC1").unwrap(), "v1.0.0-!r!c1");
        assert_eq!(
            unescape_module_path("github.com/!azure/!s!d!k").unwrap(),
            "github.com/Azure/SDK"
        );
        assert!(unescape_module_path("github.com/Azure").is_err());
        assert!(unescape_module_path("github.com/!").is_err());
        assert!(escape_version("v1!").is_err());
        assert_eq!(
            escape_module_path("Github.com/x").unwrap_err().to_string(),
            "malformed module path \"Github.com/x\": invalid char 'G' in first path element"
        );
        assert_eq!(
            download_cache_file(Path::new("/c"), "example.com/Foo", "v1.0.0", "ziphash").unwrap(),
            Path::new("/c/cache/download/example.com/!foo/@v/v1.0.0.ziphash")
        );
        assert_eq!(
            module_cache_dir(Path::new("/c"), "example.com/Foo", "v1.0.0-X").unwrap(),
            Path::new("/c/example.com/!foo@v1.0.0-!x")
        );
    }
}
