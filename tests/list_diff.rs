//! Differential test: `gob list` must print what `go list -json` prints.
//!
//! For every platform in [`PLATFORMS`] (run in parallel threads) this runs
//! `go list -e -deps -json std cmd` in `$GOROOT/src` and `go list -e -deps -json
//! ./...` in each fixture module under `fixtures/`, then `gob list` with the same
//! arguments and environment, and compares the two JSON streams package by
//! package (matched by ImportPath). Every difference is printed as
//! `platform case package field: go=… gob=…` and the test fails if there is any.
//!
//! The pinned toolchain is found at `$GOB_TEST_GOROOT`, else at
//! `<repo>/.gob/toolchain/go1.27.3.linux-amd64/go` (installed by `ci/install-go`).
//! Everything runs offline: GOPROXY=off, GOSUMDB=off, GOTOOLCHAIN=local,
//! CGO_ENABLED=0, GOFLAGS cleared, HOME/GOPATH/GOCACHE/GOMODCACHE in a temp dir.
//!
//! `fixtures/modcache` needs modules that are not in the repo's module tree:
//! their sources live in `fixtures/modcache-src/<escaped path>@<version>/`. The
//! test turns them into a `file://` GOPROXY (`<escaped path>/@v/{list,<v>.info,
//! <v>.mod,<v>.zip}`; the zip is written here, stored/uncompressed) and runs `go
//! mod download` against it (in a temp copy of the fixture's go.mod/go.sum, with
//! GOFLAGS=-mod=mod) so the temp GOMODCACHE is laid out by go itself and the
//! hashes are checked against the committed go.sum.

mod common;

use common::{gob_binary, goroot, repo_root, PLATFORMS};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::modcache::{crc32, stored_zip, unescape_module_path};

/// Fields `go list -json` prints that gob does not compute: documentation, staleness
/// and install targets (gob has no GOPATH install), and DefaultGODEBUG (gob plans it
/// into the link instead). Every other field either side prints is compared,
/// the `#cgo` directives' `CgoCFLAGS`… too (go lists them with cgo off as well).
const NOT_PRINTED_BY_GOB: &[&str] = &["Doc", "Stale", "StaleReason", "Target", "DefaultGODEBUG"];

/// Fields compared by their own rules below rather than as whole JSON values.
const SPECIAL_FIELDS: &[&str] = &["ImportPath", "Name", "Error", "DepsErrors"];

/// List-valued fields compared (a missing field is an empty list).
const LIST_FIELDS: &[&str] = &[
    "GoFiles",
    "SFiles",
    "IgnoredGoFiles",
    "Imports",
    "EmbedFiles",
    "Deps",
];

// ---------------------------------------------------------------------------
// Comparison (pure; unit-tested by `harness_detects_differences`).

/// One difference between go's and gob's output.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diff {
    pub platform: String,
    pub case: String,
    pub package: String,
    pub field: String,
    pub go: String,
    pub gob: String,
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {} | {} | {}:\n    go : {}\n    gob: {}",
            self.platform, self.case, self.package, self.field, self.go, self.gob
        )
    }
}

/// Parses a stream of concatenated JSON objects (what `go list -json` prints).
fn parse_stream(bytes: &[u8]) -> Result<Vec<Value>, serde_json::Error> {
    serde_json::Deserializer::from_slice(bytes)
        .into_iter::<Value>()
        .collect()
}

fn str_list(pkg: &Value, field: &str) -> Vec<String> {
    match pkg.get(field) {
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![format!("<not a list: {other}>")],
    }
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap()
}

/// Renders two differing lists; long lists are summarised by their set difference.
fn render_lists(go: &[String], gob: &[String]) -> (String, String) {
    if go.len() <= 16 && gob.len() <= 16 {
        return (json_list(go), json_list(gob));
    }
    let g: BTreeSet<&String> = go.iter().collect();
    let b: BTreeSet<&String> = gob.iter().collect();
    let only_go: Vec<&String> = g.difference(&b).copied().collect();
    let only_gob: Vec<&String> = b.difference(&g).copied().collect();
    let note = if only_go.is_empty() && only_gob.is_empty() {
        " (same elements, different order or duplicates)".to_string()
    } else {
        String::new()
    };
    (
        format!(
            "{} items, not in gob: {}{}",
            go.len(),
            serde_json::to_string(&only_go).unwrap(),
            note
        ),
        format!(
            "{} items, not in go: {}",
            gob.len(),
            serde_json::to_string(&only_gob).unwrap()
        ),
    )
}

fn error_text(pkg: &Value) -> Option<String> {
    pkg.get("Error")
        .filter(|e| !e.is_null())
        .map(|e| match e.get("Err") {
            Some(Value::String(s)) => s.clone(),
            _ => e.to_string(),
        })
}

fn deps_errors(pkg: &Value) -> Vec<String> {
    match pkg.get("DepsErrors") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|e| match e.get("Err") {
                Some(Value::String(s)) => s.clone(),
                _ => e.to_string(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn index_by_path<'a>(
    pkgs: &'a [Value],
    who: &str,
    mk: &mut dyn FnMut(&str, &str, String, String),
) -> BTreeMap<String, &'a Value> {
    let mut map = BTreeMap::new();
    for p in pkgs {
        let path = match p.get("ImportPath") {
            Some(Value::String(s)) => s.clone(),
            _ => {
                mk(
                    "<no ImportPath>",
                    "ImportPath",
                    who.to_string(),
                    p.to_string(),
                );
                continue;
            }
        };
        if map.insert(path.clone(), p).is_some() {
            mk(
                &path,
                "<duplicate>",
                who.to_string(),
                format!("{path} printed twice by {who}"),
            );
        }
    }
    map
}

/// Compares go's and gob's package streams. With `exact_errors`, Error.Err and
/// DepsErrors[].Err texts must match too (otherwise only their presence).
pub fn compare(
    platform: &str,
    case: &str,
    go: &[Value],
    gob: &[Value],
    exact_errors: bool,
) -> Vec<Diff> {
    let mut diffs = Vec::new();
    let mut mk = |package: &str, field: &str, go: String, gob: String| {
        diffs.push(Diff {
            platform: platform.to_string(),
            case: case.to_string(),
            package: package.to_string(),
            field: field.to_string(),
            go,
            gob,
        })
    };
    let gm = index_by_path(go, "go", &mut mk);
    let bm = index_by_path(gob, "gob", &mut mk);

    for (path, g) in &gm {
        let Some(b) = bm.get(path) else {
            mk(path, "<package>", "listed".into(), "missing".into());
            continue;
        };
        let name = |p: &Value| {
            p.get("Name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        if name(g) != name(b) {
            mk(
                path,
                "Name",
                format!("{:?}", name(g)),
                format!("{:?}", name(b)),
            );
        }
        for field in LIST_FIELDS {
            let (gl, bl) = (str_list(g, field), str_list(b, field));
            if gl != bl {
                let (gs, bs) = render_lists(&gl, &bl);
                mk(path, field, gs, bs);
            }
        }
        // Every other field, as JSON values (Module, Root, Match, DepOnly, ...).
        let keys: BTreeSet<&String> = g
            .as_object()
            .into_iter()
            .chain(b.as_object())
            .flat_map(|o| o.keys())
            .collect();
        for k in keys {
            let k = k.as_str();
            if LIST_FIELDS.contains(&k) || SPECIAL_FIELDS.contains(&k) {
                continue;
            }
            if NOT_PRINTED_BY_GOB.contains(&k) && b.get(k).is_none() {
                continue;
            }
            let (gv, bv) = (g.get(k), b.get(k));
            if gv != bv {
                let show = |v: Option<&Value>| v.map_or("absent".to_string(), Value::to_string);
                mk(path, k, show(gv), show(bv));
            }
        }
        let (ge, be) = (error_text(g), error_text(b));
        if ge.is_some() != be.is_some() {
            let show = |e: &Option<String>| {
                e.as_ref()
                    .map_or("absent".to_string(), |s| format!("present: {s:?}"))
            };
            mk(path, "Error", show(&ge), show(&be));
        } else if exact_errors && ge != be {
            mk(
                path,
                "Error.Err",
                format!("{:?}", ge.unwrap()),
                format!("{:?}", be.unwrap()),
            );
        }
        let (gd, bd) = (deps_errors(g), deps_errors(b));
        if gd.is_empty() != bd.is_empty() {
            mk(path, "DepsErrors", json_list(&gd), json_list(&bd));
        } else if exact_errors && gd != bd {
            mk(path, "DepsErrors.Err", json_list(&gd), json_list(&bd));
        }
    }
    for path in bm.keys() {
        if !gm.contains_key(path) {
            mk(path, "<package>", "missing".into(), "listed".into());
        }
    }
    diffs
}

// ---------------------------------------------------------------------------
// Running go and gob.

/// One `list` invocation, run for every platform.
#[derive(Clone, Debug)]
struct Case {
    name: String,
    dir: PathBuf,
    /// Flags between `list` and the patterns (beyond `-e -deps -json`).
    flags: Vec<String>,
    patterns: Vec<String>,
    env: Vec<(String, String)>,
    /// Fixtures compare error texts; std/cmd only error presence.
    exact_errors: bool,
    /// What go itself must report (guards against fixture rot).
    expect: Expect,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// No package has Error or DepsErrors.
    Clean,
    /// Some package has an Error.
    Errors,
    /// No expectation (std cmd: depends on the platform).
    Any,
}

fn cases(goroot: &Path) -> Vec<Case> {
    let fx = repo_root().join("fixtures");
    let mut v = vec![Case {
        name: "std cmd".into(),
        dir: goroot.join("src"),
        flags: vec![],
        patterns: vec!["std".into(), "cmd".into()],
        env: vec![],
        exact_errors: false,
        expect: Expect::Any,
    }];
    let fixture =
        |name: &str, dir: &str, flags: &[&str], env: &[(&str, &str)], expect: Expect| Case {
            name: name.to_string(),
            dir: fx.join(dir),
            flags: flags.iter().map(|s| s.to_string()).collect(),
            patterns: vec!["./...".into()],
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            exact_errors: true,
            expect,
        };
    use Expect::{Clean, Errors};
    v.extend([
        fixture("hello", "hello", &[], &[], Clean),
        fixture("tags", "tags", &[], &[], Clean),
        fixture("tags -tags mytag", "tags", &["-tags", "mytag"], &[], Clean),
        fixture(
            "tags -tags mytag,othertag",
            "tags",
            &["-tags", "mytag,othertag"],
            &[],
            Clean,
        ),
        fixture(
            "tags GOEXPERIMENT=arenas,nojsonv2",
            "tags",
            &[],
            &[("GOEXPERIMENT", "arenas,nojsonv2")],
            Clean,
        ),
        // Architecture feature levels become tags (amd64.v1..v3, arm64.v8.0..v8.1).
        fixture("tags GOAMD64=v3", "tags", &[], &[("GOAMD64", "v3")], Clean),
        fixture(
            "tags GOARM64=v8.1",
            "tags",
            &[],
            &[("GOARM64", "v8.1")],
            Clean,
        ),
        fixture("embed", "embed", &[], &[], Clean),
        fixture("bad-embed", "bad-embed", &[], &[], Errors),
        fixture("vendored", "vendored", &[], &[], Clean),
        fixture(
            "vendored -mod=vendor",
            "vendored",
            &["-mod=vendor"],
            &[],
            Clean,
        ),
        fixture("replace", "replace", &[], &[], Clean),
        fixture("replace-lib", "replace-lib", &[], &[], Clean),
        fixture("modcache", "modcache", &[], &[], Clean),
        fixture("stdvendor", "stdvendor", &[], &[], Clean),
        fixture("vendored-replace", "vendored-replace", &[], &[], Clean),
        fixture("internal-violation", "internal-violation", &[], &[], Errors),
        fixture("cycle", "cycle", &[], &[], Errors),
        fixture("missing", "missing", &[], &[], Errors),
        fixture("bad-import", "bad-import", &[], &[], Errors),
        // #15: cgo packages (C with a header through ${SRCDIR}, C++, .S),
        // their #cgo directives and cgo's implicit imports.
        fixture("cgo", "cgo", &[], &[("CGO_ENABLED", "1")], Clean),
    ]);
    // Patterns other than ./...: "all", workspace members, literal directories.
    let with_patterns = |name: &str, dir: &str, patterns: &[&str], expect: Expect| Case {
        patterns: patterns.iter().map(|s| s.to_string()).collect(),
        ..fixture(name, dir, &[], &[], expect)
    };
    v.extend([
        with_patterns("tags all", "tags", &["all"], Clean),
        with_patterns("bad-import all", "bad-import", &["all"], Errors),
        with_patterns("cycle all", "cycle", &["all"], Errors),
        with_patterns("modcache all", "modcache", &["all"], Clean),
        with_patterns("workspace ./...", "workspace", &["./..."], Errors),
        with_patterns("workspace .", "workspace", &["."], Errors),
        with_patterns("workspace app all", "workspace/app", &["all"], Clean),
        with_patterns(
            "workspace members",
            "workspace",
            &["./app", "./lib/util", "example.com/ws/..."],
            Clean,
        ),
        with_patterns("hello ./nonexist", "hello", &["./nonexist"], Errors),
        with_patterns("hello std pattern", "hello", &["net/...", "fmt"], Clean),
        // #15: with cgo off the packages are errors, their #cgo flags listed all the same.
        with_patterns("cgo, cgo off", "cgo", &[".", "./cxx", "./asm"], Errors),
    ]);
    // #15: std's cgo packages with cgo on (runtime/race reports an error
    // where the race detector does not exist: presence compared only).
    v.push(Case {
        name: "std cgo".into(),
        dir: goroot.join("src"),
        flags: vec![],
        patterns: ["runtime/cgo", "net", "os/user", "runtime/race"]
            .map(String::from)
            .to_vec(),
        env: vec![("CGO_ENABLED".into(), "1".into())],
        exact_errors: false,
        expect: Expect::Any,
    });
    v
}

/// Temp area shared by all runs of one test: HOME, GOPATH, GOCACHE, GOMODCACHE.
struct Sandbox {
    root: PathBuf,
    goroot: PathBuf,
}

impl Sandbox {
    fn new(tag: &str) -> Sandbox {
        let goroot = goroot();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("list_diff-{tag}-{}-{nanos}", std::process::id()));
        for d in ["home", "gopath", "gocache", "modcache", "tmp"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        Sandbox { root, goroot }
    }

    fn go(&self) -> PathBuf {
        self.goroot.join("bin").join("go")
    }

    /// The environment both go and gob run with (the parent's is cleared).
    fn env(&self, goos: &str, goarch: &str) -> Vec<(String, String)> {
        let s = |p: &str| self.root.join(p).to_string_lossy().into_owned();
        let mut env = vec![
            ("GOOS".to_string(), goos.to_string()),
            ("GOARCH".to_string(), goarch.to_string()),
            (
                "GOROOT".to_string(),
                self.goroot.to_string_lossy().into_owned(),
            ),
            ("CGO_ENABLED".to_string(), "0".to_string()),
            ("GOFLAGS".to_string(), String::new()),
            ("GOTOOLCHAIN".to_string(), "local".to_string()),
            ("GOPROXY".to_string(), "off".to_string()),
            ("GOSUMDB".to_string(), "off".to_string()),
            ("GOENV".to_string(), "off".to_string()),
            ("GOTELEMETRY".to_string(), "off".to_string()),
            ("HOME".to_string(), s("home")),
            ("GOPATH".to_string(), s("gopath")),
            ("GOCACHE".to_string(), s("gocache")),
            ("GOMODCACHE".to_string(), s("modcache")),
            ("TMPDIR".to_string(), s("tmp")),
        ];
        if let Some(path) = std::env::var_os("PATH") {
            env.push(("PATH".to_string(), path.to_string_lossy().into_owned()));
        }
        env
    }

    /// Builds the file:// proxy from fixtures/modcache-src and fills GOMODCACHE
    /// with `go mod download`, checking the committed go.sum.
    fn populate_modcache(&self) {
        common::modcache::populate(&self.go(), &self.root, &self.env("linux", "amd64"));
    }

    fn run_go(&self, case: &Case, goos: &str, goarch: &str) -> (bool, Vec<u8>, String) {
        let mut args = vec![
            "list".to_string(),
            "-e".into(),
            "-deps".into(),
            "-json".into(),
        ];
        args.extend(case.flags.iter().cloned());
        args.extend(case.patterns.iter().cloned());
        self.run(&self.go(), &args, case, goos, goarch)
    }

    fn run_gob(
        &self,
        gob: &Path,
        case: &Case,
        goos: &str,
        goarch: &str,
    ) -> (bool, Vec<u8>, String) {
        let mut args = vec![
            "list".to_string(),
            "--goroot".into(),
            self.goroot.to_string_lossy().into_owned(),
        ];
        args.extend(["-e".to_string(), "-deps".into(), "-json".into()]);
        args.extend(case.flags.iter().cloned());
        args.extend(case.patterns.iter().cloned());
        self.run(gob, &args, case, goos, goarch)
    }

    fn run(
        &self,
        exe: &Path,
        args: &[String],
        case: &Case,
        goos: &str,
        goarch: &str,
    ) -> (bool, Vec<u8>, String) {
        let mut cmd = Command::new(exe);
        cmd.args(args).current_dir(&case.dir).env_clear();
        for (k, v) in self
            .env(goos, goarch)
            .into_iter()
            .chain(case.env.iter().cloned())
        {
            cmd.env(k, v);
        }
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
        (
            out.status.success(),
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // The module cache is read-only; let go remove it, then the rest.
        let _ = Command::new(self.go())
            .args(["clean", "-modcache"])
            .env_clear()
            .env("GOMODCACHE", self.root.join("modcache"))
            .env("GOCACHE", self.root.join("gocache"))
            .env("HOME", self.root.join("home"))
            .env("GOENV", "off")
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "")
            .current_dir(&self.root)
            .output();
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// Runs one case with go and returns its parsed stream (panics if go misbehaves).
fn go_list(sb: &Sandbox, case: &Case, goos: &str, goarch: &str) -> (bool, Vec<Value>) {
    let (ok, stdout, stderr) = sb.run_go(case, goos, goarch);
    let pkgs = parse_stream(&stdout).unwrap_or_else(|e| {
        panic!(
            "[{goos}/{goarch}] {}: go's output is not JSON ({e}); stderr:\n{stderr}",
            case.name
        )
    });
    assert!(
        !pkgs.is_empty(),
        "[{goos}/{goarch}] {}: go listed nothing; stderr:\n{stderr}",
        case.name
    );
    let erring: Vec<&str> = pkgs
        .iter()
        .filter(|p| error_text(p).is_some() || !deps_errors(p).is_empty())
        .map(|p| p["ImportPath"].as_str().unwrap_or("?"))
        .collect();
    match case.expect {
        Expect::Clean => assert!(
            erring.is_empty(),
            "[{goos}/{goarch}] {}: fixture should be valid but go reports errors in {erring:?}; stderr:\n{stderr}",
            case.name
        ),
        Expect::Errors => assert!(
            pkgs.iter().any(|p| error_text(p).is_some()),
            "[{goos}/{goarch}] {}: error fixture but go reports no Error",
            case.name
        ),
        Expect::Any => {}
    }
    (ok, pkgs)
}

fn diff_platform(sb: &Sandbox, gob: &Path, goos: &str, goarch: &str) -> Vec<Diff> {
    let platform = format!("{goos}/{goarch}");
    let mut diffs = Vec::new();
    for case in cases(&sb.goroot) {
        let (go_ok, go_pkgs) = go_list(sb, &case, goos, goarch);
        let (gob_ok, gob_out, gob_err) = sb.run_gob(gob, &case, goos, goarch);
        let status = |ok: bool| {
            if ok {
                "success".to_string()
            } else {
                "failure".to_string()
            }
        };
        if go_ok != gob_ok {
            diffs.push(Diff {
                platform: platform.clone(),
                case: case.name.clone(),
                package: "-".into(),
                field: "<exit status>".into(),
                go: status(go_ok),
                gob: format!("{}; stderr: {}", status(gob_ok), gob_err.trim()),
            });
        }
        match parse_stream(&gob_out) {
            Ok(gob_pkgs) => {
                println!(
                    "{platform} {}: go listed {} packages, gob {}",
                    case.name,
                    go_pkgs.len(),
                    gob_pkgs.len()
                );
                diffs.extend(compare(
                    &platform,
                    &case.name,
                    &go_pkgs,
                    &gob_pkgs,
                    case.exact_errors,
                ))
            }
            Err(e) => diffs.push(Diff {
                platform: platform.clone(),
                case: case.name.clone(),
                package: "-".into(),
                field: "<output>".into(),
                go: format!("{} packages", go_pkgs.len()),
                gob: format!("unparsable JSON ({e}); stderr: {}", gob_err.trim()),
            }),
        }
    }
    diffs
}

#[test]
fn gob_list_matches_go_list() {
    let gob = gob_binary();
    let sb = Sandbox::new("diff");
    sb.populate_modcache();
    let mut diffs: Vec<Diff> = std::thread::scope(|s| {
        let handles: Vec<_> = PLATFORMS
            .iter()
            .map(|&(goos, goarch)| {
                let (sb, gob) = (&sb, &gob);
                s.spawn(move || diff_platform(sb, gob, goos, goarch))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("platform thread panicked"))
            .collect()
    });
    diffs.sort();
    for d in &diffs {
        println!("{d}");
    }
    if !diffs.is_empty() {
        let mut by_field: BTreeMap<&str, usize> = BTreeMap::new();
        for d in &diffs {
            *by_field.entry(d.field.as_str()).or_default() += 1;
        }
        panic!(
            "gob list differs from go list in {} places; by field: {by_field:?}",
            diffs.len()
        );
    }
}

/// The harness itself: go vs go is clean, and each deliberate change is reported exactly.
#[test]
fn harness_detects_differences() {
    let sb = Sandbox::new("self");
    let all = cases(&sb.goroot);
    let mut checked = 0;
    for name in ["tags", "cycle", "std cmd"] {
        let case = all.iter().find(|c| c.name == name).unwrap();
        let (_, go) = go_list(&sb, case, "linux", "amd64");
        let (_, again) = go_list(&sb, case, "linux", "amd64");
        let none = compare("linux/amd64", name, &go, &again, case.exact_errors);
        assert!(
            none.is_empty(),
            "go vs go must not differ:\n{}",
            none.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
        checked += go.len();
    }
    assert!(checked > 100);

    let tags = all.iter().find(|c| c.name == "tags").unwrap();
    let (_, go) = go_list(&sb, tags, "linux", "amd64");
    let idx = |path: &str| {
        go.iter()
            .position(|p| p["ImportPath"] == path)
            .unwrap_or_else(|| panic!("{path} not listed"))
    };
    let mut gob = go.clone();
    let t = idx("example.com/tags");
    let removed = gob[t]["GoFiles"].as_array_mut().unwrap().remove(0);
    gob[t]["Name"] = Value::String("renamed".into());
    gob[t].as_object_mut().unwrap().remove("SFiles");
    let u = idx("unicode");
    gob[u]["Error"] = serde_json::json!({"Err": "injected"});
    // A nested field of Module (the -lang bug hid in one) and a field gob lacks.
    gob[t]["Module"]["GoVersion"] = Value::String("1.16".into());
    gob[u].as_object_mut().unwrap().remove("Root");
    let s = idx("strings");
    gob.remove(s);
    gob.push(serde_json::json!({"ImportPath": "example.com/extra", "Name": "extra"}));

    let got = compare("linux/amd64", "tags", &go, &gob, true);
    let fields: Vec<(String, String)> = got
        .iter()
        .map(|d| (d.package.clone(), d.field.clone()))
        .collect();
    let want: Vec<(String, String)> = vec![
        ("example.com/extra".into(), "<package>".into()),
        ("example.com/tags".into(), "Name".into()),
        ("example.com/tags".into(), "GoFiles".into()),
        ("example.com/tags".into(), "SFiles".into()),
        ("example.com/tags".into(), "Module".into()),
        ("unicode".into(), "Root".into()),
        ("unicode".into(), "Error".into()),
        ("strings".into(), "<package>".into()),
    ];
    let mut sorted = fields.clone();
    sorted.sort();
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert_eq!(
        sorted,
        want_sorted,
        "diffs: {}",
        got.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    let gofiles = got.iter().find(|d| d.field == "GoFiles").unwrap();
    assert!(
        gofiles.go.contains(removed.as_str().unwrap())
            && !gofiles.gob.contains(removed.as_str().unwrap())
    );
    let sfiles = got.iter().find(|d| d.field == "SFiles").unwrap();
    assert_eq!(
        (sfiles.go.as_str(), sfiles.gob.as_str()),
        (r#"["add_amd64.s","extra_amd64.s"]"#, "[]")
    );

    // Error text only counts for fixtures; DepsErrors presence always counts.
    let cyc = all.iter().find(|c| c.name == "cycle").unwrap();
    let (_, go) = go_list(&sb, cyc, "linux", "amd64");
    let mut gob = go.clone();
    let a = go
        .iter()
        .position(|p| p["ImportPath"] == "example.com/cycle/a")
        .unwrap();
    gob[a]["Error"]["Err"] = Value::String("something else".into());
    let user = go
        .iter()
        .position(|p| p["ImportPath"] == "example.com/cycle/user")
        .unwrap();
    gob[user].as_object_mut().unwrap().remove("DepsErrors");
    let exact = compare("linux/amd64", "cycle", &go, &gob, true);
    let fields: Vec<&str> = exact.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(fields, ["Error.Err", "DepsErrors"], "{exact:?}");
    let loose = compare("linux/amd64", "cycle", &go, &gob, false);
    let fields: Vec<&str> = loose.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(fields, ["DepsErrors"], "{loose:?}");
}

#[test]
fn zip_and_escaping_helpers() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(
        unescape_module_path("example.com/!mixed!case"),
        "example.com/MixedCase"
    );
    let z = stored_zip(&[("m@v1.0.0/go.mod".into(), b"module m\n".to_vec())]);
    assert_eq!(&z[..4], b"PK\x03\x04");
    assert_eq!(&z[z.len() - 22..z.len() - 18], b"PK\x05\x06");
}

/// Without -e, go list decides what is fatal: an error on a named package stops
/// before anything is printed; with -deps (or several roots under -pgo=auto) every
/// error in the graph is printed to stderr, the listing still happens, and the
/// exit status is 1. gob must print the same stdout and stderr and exit the same.
#[test]
fn list_without_e_matches_go_list() {
    let gob = gob_binary();
    let sb = Sandbox::new("noe");
    let fx = repo_root().join("fixtures");
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for fixture in [
        "hello",
        "missing",
        "cycle",
        "internal-violation",
        "bad-import",
        "bad-embed",
        "tags",
    ] {
        for args in [&["./..."][..], &["-deps", "./..."], &["-deps", "."], &["."]] {
            let run = |exe: &Path| {
                let out = Command::new(exe)
                    .arg("list")
                    .args(args)
                    .current_dir(fx.join(fixture))
                    .env_clear()
                    .envs(sb.env("linux", "amd64"))
                    .output()
                    .unwrap();
                let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
                // Each tool prefixes its own name to whole-command errors.
                let stderr = stderr.replace("\ngob: ", "\ngo: ");
                let stderr = stderr
                    .strip_prefix("gob: ")
                    .map(|s| format!("go: {s}"))
                    .unwrap_or(stderr);
                (out.status.code(), out.stdout, stderr)
            };
            let go = run(&sb.go());
            let ours = run(&gob);
            compared += 1;
            if go != ours {
                mismatches.push(format!(
                    "{fixture} {args:?}:\n  go : exit {:?}\n{}\n  gob: exit {:?}\n{}",
                    go.0, go.2, ours.0, ours.2
                ));
            }
        }
    }
    assert_eq!(compared, 28);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
