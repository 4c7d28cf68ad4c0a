//! go.sum (modfetch/fetch.go): `path version[/go.mod] hash` lines.

use std::collections::BTreeMap;
use std::path::Path;

use super::{ModFileDiag, ModFileError, ModFileErrorKind, Pos};

/// The go.mod hash of an empty go.mod written by old go versions; go drops it.
const EMPTY_GO_MOD_HASH: &str = "h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=";

/// Parsed go.sum: `path version[/go.mod] hash` lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GoSum {
    /// (path, version-or-`version/go.mod`) → hashes in file order.
    pub entries: BTreeMap<(String, String), Vec<String>>,
}

impl GoSum {
    /// The `h1:` hashes recorded for `path@version`: (module zip tree, go.mod).
    pub fn lookup(&self, path: &str, version: &str) -> (Option<&str>, Option<&str>) {
        let get = |v: String| {
            self.entries
                .get(&(path.to_string(), v))
                .and_then(|hs| hs.iter().find(|h| h.starts_with("h1:")))
                .map(String::as_str)
        };
        (get(version.to_string()), get(format!("{version}/go.mod")))
    }

    /// Whether `hash` is one of the hashes recorded for `(path, version)`
    /// (`version` may carry the `/go.mod` suffix). go accepts any matching line.
    pub fn contains(&self, path: &str, version: &str, hash: &str) -> bool {
        self.entries
            .get(&(path.to_string(), version.to_string()))
            .is_some_and(|hs| hs.iter().any(|h| h == hash))
    }
}

/// Parses a go.sum file. Like go (outside `go mod tidy`), a non-blank line
/// without exactly three fields is an error: `malformed go.sum:\nfile:N: wrong number of fields K`.
pub fn parse_go_sum(file: &Path, data: &[u8]) -> Result<GoSum, ModFileError> {
    let text = String::from_utf8_lossy(data);
    let mut sum = GoSum::default();
    let mut lines: Vec<&str> = text.split('\n').collect();
    if text.ends_with('\n') {
        lines.pop();
    }
    for (i, line) in lines.iter().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        if f.len() != 3 {
            return Err(ModFileError {
                diags: vec![ModFileDiag {
                    file: file.to_path_buf(),
                    pos: Some(Pos {
                        line: i + 1,
                        col: 1,
                        byte: 0,
                    }),
                    verb: None,
                    mod_path: None,
                    kind: ModFileErrorKind::GoSumFields(f.len()),
                }],
            });
        }
        if f[2] == EMPTY_GO_MOD_HASH {
            continue;
        }
        sum.entries
            .entry((f[0].to_string(), f[1].to_string()))
            .or_default()
            .push(f[2].to_string());
    }
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::modfile::tests::p;

    #[test]
    fn go_sum() {
        let src = "example.com/a v1.0.0 h1:AAA=\nexample.com/a v1.0.0/go.mod h1:BBB=\n\nexample.com/b v1.0.0/go.mod h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY=\nexample.com/c v1.0.0 h2:XXX=\nexample.com/c v1.0.0 h1:CCC=\n";
        let s = parse_go_sum(&p("go.sum"), src.as_bytes()).unwrap();
        assert_eq!(
            s.lookup("example.com/a", "v1.0.0"),
            (Some("h1:AAA="), Some("h1:BBB="))
        );
        assert_eq!(s.lookup("example.com/b", "v1.0.0"), (None, None));
        assert_eq!(s.lookup("example.com/c", "v1.0.0").0, Some("h1:CCC="));
        assert!(s.contains("example.com/a", "v1.0.0/go.mod", "h1:BBB="));
        let e = parse_go_sum(&p("go.sum"), b"a v1\n").unwrap_err();
        assert_eq!(e.to_string(), "go.sum:1: wrong number of fields 2");
    }
}
