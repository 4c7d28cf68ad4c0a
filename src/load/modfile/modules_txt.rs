//! vendor/modules.txt (modload/vendor.go): the vendored modules, their annotations and packages.

use std::path::Path;

use super::gomod::{is_directory_path, ReplaceTarget};
use super::modpath::check_import_path;
use super::semver::is_valid_semver;
use super::ModFileError;

/// One module listed in vendor/modules.txt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VendorModule {
    /// Module path.
    pub path: String,
    /// Version; empty for a `# path => dir` line (a replaced module without version).
    pub version: String,
    /// Replacement from `# path version => new [version]`.
    pub replacement: Option<ReplaceTarget>,
    /// `## explicit` annotation.
    pub explicit: bool,
    /// `## go 1.x` annotation.
    pub go_version: Option<String>,
    /// Packages listed under the module (lines holding a valid import path).
    pub packages: Vec<String>,
}

/// Contents of vendor/modules.txt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VendorList {
    /// Modules in order of first appearance (duplicate headers merge).
    pub modules: Vec<VendorModule>,
}

impl VendorList {
    /// The module providing vendored package `pkg`, if listed.
    pub fn module_for_package(&self, pkg: &str) -> Option<&VendorModule> {
        // Later lines win, as in go's map assignment.
        self.modules
            .iter()
            .rev()
            .find(|m| m.packages.iter().any(|p| p == pkg))
    }
}

/// Parses vendor/modules.txt with the go command's (lenient) rules: malformed
/// lines are ignored, never reported. The `Result` is kept for API symmetry.
pub fn parse_modules_txt(_file: &Path, data: &[u8]) -> Result<VendorList, ModFileError> {
    let text = String::from_utf8_lossy(data);
    let mut list = VendorList::default();
    let mut cur: Option<usize> = None;
    for line in text.split('\n') {
        if line.starts_with("# ") {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 3 {
                continue;
            }
            let (path, version, rest) = if is_valid_semver(f[2]) {
                (f[1], f[2], &f[3..])
            } else if f[2] == "=>" {
                (f[1], "", &f[2..])
            } else {
                cur = None;
                continue;
            };
            let idx = match list
                .modules
                .iter()
                .position(|m| m.path == path && m.version == version)
            {
                Some(i) => i,
                None => {
                    list.modules.push(VendorModule {
                        path: path.to_string(),
                        version: version.to_string(),
                        ..Default::default()
                    });
                    list.modules.len() - 1
                }
            };
            cur = Some(idx);
            if rest.len() >= 2 && rest[0] == "=>" {
                let m = &mut list.modules[idx];
                if rest.len() == 2 {
                    m.replacement = Some(if is_directory_path(rest[1]) {
                        ReplaceTarget::Local(rest[1].to_string())
                    } else {
                        ReplaceTarget::Module {
                            path: rest[1].to_string(),
                            version: String::new(),
                        }
                    });
                } else if rest.len() == 3 && is_valid_semver(rest[2]) {
                    m.replacement = Some(ReplaceTarget::Module {
                        path: rest[1].to_string(),
                        version: rest[2].to_string(),
                    });
                }
            }
            continue;
        }
        let Some(idx) = cur else { continue };
        let m = &mut list.modules[idx];
        if let Some(ann) = line.strip_prefix("## ") {
            for entry in ann.split(';') {
                let entry = entry.trim();
                if entry == "explicit" {
                    m.explicit = true;
                }
                if let Some(gv) = entry.strip_prefix("go ") {
                    m.go_version = Some(gv.to_string());
                }
            }
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() == 1 && check_import_path(f[0]).is_ok() {
            m.packages.push(f[0].to_string());
        }
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::modfile::tests::p;

    #[test]
    fn modules_txt() {
        let src = "# example.com/a v1.0.0\n## explicit; go 1.21\nexample.com/a\nexample.com/a/sub\n# example.com/b v1.2.0 => ../b\n## explicit\nexample.com/b\n# example.com/c v0.1.0 => example.com/c2 v0.2.0\nexample.com/c\n# example.com/d => ./d\n## explicit; go 1.22\n# bogus line\nignored/pkg\n";
        let v = parse_modules_txt(&p("vendor/modules.txt"), src.as_bytes()).unwrap();
        assert_eq!(v.modules.len(), 4);
        let a = &v.modules[0];
        assert_eq!(
            (a.path.as_str(), a.version.as_str(), a.explicit),
            ("example.com/a", "v1.0.0", true)
        );
        assert_eq!(a.go_version.as_deref(), Some("1.21"));
        assert_eq!(a.packages, ["example.com/a", "example.com/a/sub"]);
        assert_eq!(
            v.modules[1].replacement,
            Some(ReplaceTarget::Local("../b".into()))
        );
        assert_eq!(
            v.modules[2].replacement,
            Some(ReplaceTarget::Module {
                path: "example.com/c2".into(),
                version: "v0.2.0".into()
            })
        );
        assert!(!v.modules[2].explicit);
        let d = &v.modules[3];
        assert_eq!((d.path.as_str(), d.version.as_str()), ("example.com/d", ""));
        assert_eq!(d.replacement, Some(ReplaceTarget::Local("./d".into())));
        assert!(d.packages.is_empty());
        assert_eq!(
            v.module_for_package("example.com/a/sub").unwrap().path,
            "example.com/a"
        );
    }
}
