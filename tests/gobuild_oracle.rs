//! Differential test: every directory of $GOROOT/src against `go list -e -json std cmd` on six platforms.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{go_binary, goroot, PLATFORMS};
use serde_json::Value;

use gob::load::gobuild::{
    import_dir_with, BuildContext, DirError, DirPackage, Flavor, TargetConfig,
};

/// Field access on one package of `go list -json` output.
trait Fields {
    /// The string field `k`; empty when absent or not a string.
    fn str(&self, k: &str) -> String;
    /// The string elements of the list field `k`; empty when absent or not a list.
    fn strs(&self, k: &str) -> Vec<String>;
}

impl Fields for Value {
    fn str(&self, k: &str) -> String {
        self.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }
    fn strs(&self, k: &str) -> Vec<String> {
        match self.get(k) {
            Some(Value::Array(v)) => v
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subs: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n != "testdata" && !n.starts_with('.') && !n.starts_with('_')
        })
        .map(|e| e.path())
        .collect();
    subs.sort();
    for s in subs {
        walk(&s, out);
    }
}

fn go_list(goroot: &Path, goos: &str, goarch: &str, patterns: &[String]) -> Vec<Value> {
    let out = Command::new(go_binary())
        .args([
            "list",
            "-e",
            "-json=ImportPath,Name,GoFiles,IgnoredGoFiles,SFiles,Imports,ImportMap,EmbedPatterns,TestGoFiles,XTestGoFiles,TestImports,XTestImports,InvalidGoFiles,Error,Dir",
        ])
        .args(patterns)
        .current_dir(goroot.join("src"))
        .env("GOROOT", goroot)
        .env("CGO_ENABLED", "0")
        .env("GOOS", goos)
        .env("GOARCH", goarch)
        .env("GOFLAGS", "")
        .env("GOTOOLCHAIN", "local")
        .env("GOWORK", "off")
        .env_remove("GOEXPERIMENT")
        .env_remove("GOAMD64")
        .env_remove("GOARM64")
        .env_remove("GOARM")
        .output()
        .expect("run go list");
    assert!(
        out.status.success(),
        "go list failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("go list printed invalid JSON: {e}"))
}

/// Undoes GOROOT vendor resolution: ImportMap (resolved -> source) covers
/// `Imports`; test imports are resolved in place without an ImportMap entry,
/// so the `vendor/` and `cmd/vendor/` prefixes are stripped too.
fn unmap(list: Vec<String>, map: &BTreeMap<String, String>) -> Vec<String> {
    let mut v: Vec<String> = list
        .into_iter()
        .map(|p| map.get(&p).cloned().unwrap_or(p))
        .map(|p| {
            p.strip_prefix("cmd/vendor/")
                .or_else(|| p.strip_prefix("vendor/"))
                .map(str::to_string)
                .unwrap_or(p)
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

fn compare(
    diffs: &mut Vec<String>,
    tag: &str,
    ip: &str,
    field: &str,
    ours: &[String],
    theirs: &[String],
) {
    if ours != theirs {
        diffs.push(format!(
            "{tag} {ip} {field}: ours={ours:?} go list={theirs:?}"
        ));
    }
}

fn check_pkg(diffs: &mut Vec<String>, tag: &str, p: &DirPackage, g: &Value) {
    let ip = g.str("ImportPath");
    // ImportMap: source path -> resolved path; invert to get source paths back.
    let mut inv = BTreeMap::new();
    if let Some(Value::Object(m)) = g.get("ImportMap") {
        for (k, v) in m {
            if let Value::String(v) = v {
                inv.insert(v.clone(), k.clone());
            }
        }
    }
    if p.name != g.str("Name") {
        diffs.push(format!(
            "{tag} {ip} Name: ours={:?} go list={:?}",
            p.name,
            g.str("Name")
        ));
    }
    compare(diffs, tag, &ip, "GoFiles", &p.go_files, &g.strs("GoFiles"));
    compare(
        diffs,
        tag,
        &ip,
        "IgnoredGoFiles",
        &p.ignored_go_files,
        &g.strs("IgnoredGoFiles"),
    );
    compare(
        diffs,
        tag,
        &ip,
        "InvalidGoFiles",
        &p.invalid_go_files,
        &g.strs("InvalidGoFiles"),
    );
    compare(diffs, tag, &ip, "SFiles", &p.s_files, &g.strs("SFiles"));
    compare(
        diffs,
        tag,
        &ip,
        "Imports",
        &p.imports,
        &unmap(g.strs("Imports"), &inv),
    );
    compare(
        diffs,
        tag,
        &ip,
        "EmbedPatterns",
        &p.embed_patterns,
        &g.strs("EmbedPatterns"),
    );
    compare(
        diffs,
        tag,
        &ip,
        "TestGoFiles",
        &p.test_go_files,
        &g.strs("TestGoFiles"),
    );
    compare(
        diffs,
        tag,
        &ip,
        "XTestGoFiles",
        &p.xtest_go_files,
        &g.strs("XTestGoFiles"),
    );
    compare(
        diffs,
        tag,
        &ip,
        "TestImports",
        &p.test_imports,
        &unmap(g.strs("TestImports"), &inv),
    );
    compare(
        diffs,
        tag,
        &ip,
        "XTestImports",
        &p.xtest_imports,
        &unmap(g.strs("XTestImports"), &inv),
    );
}

#[test]
fn oracle_go_list_std_cmd() {
    let goroot = goroot();
    let src = goroot.join("src");
    let mut dirs = Vec::new();
    walk(&src, &mut dirs);

    let mut diffs = Vec::new();
    let mut total_compared = 0usize;
    for &(goos, goarch) in PLATFORMS {
        let tag = format!("{goos}/{goarch}");
        let ctx = BuildContext::new(&TargetConfig::new(goos, goarch)).unwrap();
        let std_cmd = ["std".to_string(), "cmd".to_string()];
        let mut listed: BTreeMap<PathBuf, Value> = go_list(&goroot, goos, goarch, &std_cmd)
            .into_iter()
            .map(|j| (PathBuf::from(j.str("Dir")), j))
            .collect();
        let n_wild = listed.len();
        // Wildcards skip some real packages (builtin, runtime/cgo without cgo,
        // vendored packages nothing imports): ask for those by path.
        let mut extra = Vec::new();
        for d in &dirs {
            if listed.contains_key(d) {
                continue;
            }
            let (p, _) = import_dir_with(&ctx, d, Flavor::ModIndex);
            if p.go_files.len() + p.test_go_files.len() + p.xtest_go_files.len() > 0 {
                let rel = d.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
                extra.push(
                    if rel.starts_with("vendor/") || rel.starts_with("cmd/vendor/") {
                        format!("./{rel}")
                    } else {
                        rel
                    },
                );
            }
        }
        if !extra.is_empty() {
            eprintln!("{tag}: also listing {extra:?}");
            for j in go_list(&goroot, goos, goarch, &extra) {
                let dir = if j.str("Dir").is_empty() {
                    src.join(j.str("ImportPath"))
                } else {
                    PathBuf::from(j.str("Dir"))
                };
                listed.insert(dir, j);
            }
        }
        let mut seen = BTreeSet::new();
        let mut compared = 0usize;
        for d in &dirs {
            for flavor in [Flavor::ModIndex, Flavor::GoBuild] {
                let ftag = format!("{tag}[{flavor:?}]");
                let (p, err) = import_dir_with(&ctx, d, flavor);
                match listed.get(d) {
                    Some(g) => {
                        seen.insert(d.clone());
                        if flavor == Flavor::ModIndex {
                            compared += 1;
                        }
                        let g_err = g.get("Error").map(|e| e.str("Err"));
                        if g_err.as_deref()
                            == Some("\"builtin\" is a pseudo-package, not an importable package")
                        {
                            continue;
                        }
                        if g_err.is_some() != err.is_some() {
                            diffs.push(format!(
                                "{ftag} {} error: ours={:?} go list={:?}",
                                g.str("ImportPath"),
                                err.as_ref().map(ToString::to_string),
                                g_err
                            ));
                        }
                        check_pkg(&mut diffs, &ftag, &p, g);
                    }
                    None => {
                        // Wildcards silently drop directories without buildable Go files.
                        if !matches!(
                            err,
                            Some(
                                DirError::NoGoFiles { .. } | DirError::ConstraintsExcludeAll { .. }
                            )
                        ) {
                            diffs.push(format!(
                                "{ftag} {}: not listed by go list, but ours has name={:?} go_files={:?} err={:?}",
                                d.display(),
                                p.name,
                                p.go_files,
                                err.map(|e| e.to_string())
                            ));
                        }
                    }
                }
            }
        }
        for d in listed.keys() {
            if !seen.contains(d) {
                diffs.push(format!(
                    "{tag} {}: listed by go list but not walked",
                    d.display()
                ));
            }
        }
        eprintln!(
            "{tag}: {n_wild} packages from std+cmd, {} listed in all, {compared} compared, {} dirs walked",
            listed.len(),
            dirs.len()
        );
        total_compared += compared;
    }
    for d in &diffs {
        eprintln!("DIFF {d}");
    }
    eprintln!(
        "oracle: {total_compared} package/platform pairs compared, {} differences",
        diffs.len()
    );
    assert!(
        diffs.is_empty(),
        "{} differences against go list",
        diffs.len()
    );
}

fn walk_all(dir: &Path, out: &mut Vec<PathBuf>) {
    out.push(dir.to_path_buf());
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subs: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    subs.sort();
    for s in subs {
        walk_all(&s, out);
    }
}

/// Directories under `testdata` hold the malformed inputs (bad headers,
/// conflicting packages, odd constraints). go list is asked for each one by
/// directory; module-resolution failures (nested modules, missing imports)
/// are outside go/build and are skipped.
#[test]
fn oracle_testdata_dirs() {
    let goroot = goroot();
    let src = goroot.join("src");
    let mut all = Vec::new();
    walk_all(&src, &mut all);
    let dirs: Vec<PathBuf> = all
        .into_iter()
        .filter(|d| d.components().any(|c| c.as_os_str() == "testdata"))
        .filter(|d| {
            std::fs::read_dir(d).is_ok_and(|rd| {
                rd.filter_map(Result::ok)
                    .any(|e| e.file_name().to_string_lossy().ends_with(".go"))
            })
        })
        .filter(|d| {
            // Skip directories inside nested modules.
            let mut a = d.as_path();
            while a != src {
                if a.join("go.mod").exists() && a != src.join("cmd") {
                    return false;
                }
                a = a.parent().unwrap();
            }
            true
        })
        .collect();
    let ctx = BuildContext::new(&TargetConfig::new("linux", "amd64")).unwrap();
    let mut diffs = Vec::new();
    let mut compared = 0;
    for chunk in dirs.chunks(200) {
        let pats: Vec<String> = chunk
            .iter()
            .map(|d| format!("./{}", d.strip_prefix(&src).unwrap().display()))
            .collect();
        for g in go_list(&goroot, "linux", "amd64", &pats) {
            let err = g.get("Error").map(|e| e.str("Err")).unwrap_or_default();
            let epos = g.get("Error").map(|e| e.str("Pos")).unwrap_or_default();
            let dir = PathBuf::from(g.str("Dir"));
            if g.str("Dir").is_empty() || err.contains("module") || err.contains("outside") {
                continue;
            }
            for flavor in [Flavor::ModIndex, Flavor::GoBuild] {
                let (p, our_err) = import_dir_with(&ctx, &dir, flavor);
                let tag = format!("testdata[{flavor:?}]");
                if flavor == Flavor::ModIndex {
                    compared += 1;
                    // Compare go/build-level error text when ours has one.
                    if let Some(e) = &our_err {
                        let full = if epos.is_empty() {
                            err.clone()
                        } else {
                            format!("{epos}: {err}")
                        };
                        if !full.contains(&e.to_string()) && !e.to_string().ends_with(&full) {
                            diffs.push(format!(
                                "{tag} {}: error ours={e} go list={full}",
                                dir.display()
                            ));
                        }
                    }
                }
                check_pkg(&mut diffs, &tag, &p, &g);
            }
        }
    }
    for d in &diffs {
        eprintln!("DIFF {d}");
    }
    eprintln!(
        "testdata oracle: {compared} dirs compared, {} differences",
        diffs.len()
    );
    assert!(
        diffs.is_empty(),
        "{} differences against go list",
        diffs.len()
    );
}
