//! The heavy differential test over the real-world corpus that `ci/corpus` builds
//! from Debian's golang-*-dev module sources (docs/corpus.md): every app in every
//! layout (local replaces, -mod=vendor, a module cache filled by `go mod
//! download`) on six platforms, `gob list -e -deps -json` against `go list` on
//! every field gob prints, and `gob build -a -n` against `go build -a -n
//! -trimpath -buildvcs=false` tool by tool and flag by flag; then the asm app is
//! linked by both, the build info compared and the binaries run (arm64 under
//! qemu). Every difference is printed as `platform layout package field: go=…
//! gob=…` (all of them in target/corpus-diffs.txt) and fails the test.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::area::{text, Area};
use serde_json::Value;

/// A GOOS, a GOARCH and extra environment.
type Platform = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// (GOOS, GOARCH, extra environment) the corpus is compared on.
const CORPUS_PLATFORMS: &[Platform] = &[
    ("linux", "amd64", &[]),
    ("linux", "arm64", &[]),
    ("linux", "arm", &[("GOARM", "7")]),
    ("linux", "386", &[]),
    ("windows", "amd64", &[]),
    ("darwin", "arm64", &[]),
];

/// The corpus root: `$GOB_TEST_CORPUS`, else `<repo>/.gob/corpus`. A missing
/// corpus is a failure (ci/test builds it), never a skip.
fn corpus_root() -> PathBuf {
    let root = match std::env::var_os("GOB_TEST_CORPUS") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => common::repo_root().join(".gob/corpus"),
    };
    assert!(
        root.join("corpus.json").is_file(),
        "no corpus at {} (no corpus.json): run `ci/corpus` in the repo root",
        root.display()
    );
    root
}

/// One app directory in one layout.
struct Case {
    app: String,
    layout: String,
    dir: PathBuf,
}

/// The cases, all of them unless `$GOB_TEST_CORPUS_APPS` names some apps
/// (comma-separated; for working on one divergence).
fn cases(root: &Path) -> Vec<Case> {
    let only: Vec<String> = std::env::var("GOB_TEST_CORPUS_APPS")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let mut all = every_case(root);
    all.retain(|c| only.is_empty() || only.contains(&c.app));
    all
}

fn every_case(root: &Path) -> Vec<Case> {
    let manifest: Value =
        serde_json::from_str(&fs::read_to_string(root.join("corpus.json")).unwrap()).unwrap();
    let mut out = Vec::new();
    for app in manifest["apps"].as_array().unwrap() {
        let name = app["name"].as_str().unwrap();
        for (layout, dir) in app["layouts"].as_object().unwrap() {
            out.push(Case {
                app: name.to_string(),
                layout: layout.clone(),
                dir: root.join(dir.as_str().unwrap()),
            });
        }
    }
    out
}

/// The environment for one platform: the area's, with the corpus module cache.
fn env(area: &Area, root: &Path, platform: (&str, &str, &[(&str, &str)])) -> Vec<(String, String)> {
    let (goos, goarch, extra) = platform;
    let mut env = area.env(goarch);
    env.retain(|(k, _)| !matches!(k.as_str(), "GOOS" | "GOMODCACHE"));
    env.push(("GOOS".into(), goos.into()));
    env.push((
        "GOMODCACHE".into(),
        root.join("gomodcache").to_string_lossy().into_owned(),
    ));
    for (k, v) in extra {
        env.push((k.to_string(), v.to_string()));
    }
    env
}

fn run(exe: &Path, dir: &Path, args: &[&str], env: &[(String, String)]) -> std::process::Output {
    Command::new(exe)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().cloned())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", exe.display()))
}

fn json_stream(s: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(s)
        .into_iter::<Value>()
        .map(|v| v.expect("a JSON object"))
        .collect()
}

// --- list --------------------------------------------------------------------

/// Differences between go's and gob's `list -json` packages: for every key gob
/// prints, `package field: go=… gob=…`; packages only one side lists. Keys only
/// go prints are counted per field into `go_only`.
fn compare_lists(
    go: &[Value],
    gob: &[Value],
    go_only: &mut BTreeMap<String, usize>,
) -> Vec<String> {
    let index = |v: &[Value]| -> BTreeMap<String, Value> {
        v.iter()
            .map(|p| {
                (
                    p["ImportPath"].as_str().unwrap_or("").to_string(),
                    p.clone(),
                )
            })
            .collect()
    };
    let (go, gob) = (index(go), index(gob));
    let mut diffs = Vec::new();
    for (path, g) in &go {
        let Some(b) = gob.get(path) else {
            diffs.push(format!("{path} package: go=listed gob=missing"));
            continue;
        };
        let (g, b) = (g.as_object().unwrap(), b.as_object().unwrap());
        for (k, bv) in b {
            let gv = g.get(k).unwrap_or(&Value::Null);
            if gv != bv {
                diffs.push(format!("{path} {k}: go={gv} gob={bv}"));
            }
        }
        for k in g.keys() {
            if !b.contains_key(k) {
                *go_only.entry(k.clone()).or_default() += 1;
            }
        }
    }
    for path in gob.keys() {
        if !go.contains_key(path) {
            diffs.push(format!("{path} package: go=missing gob=listed"));
        }
    }
    diffs
}

// --- -n plans ----------------------------------------------------------------

/// A build plan normalized so go's and gob's can be compared: argv per action
/// (keyed `package tool [output]`) and the files the plan writes (keyed
/// `package file`), with work dirs as `$WORK/<package>`, GOROOT as /goroot,
/// module dirs as gob's `/mod/<path>@<version>`, and `-buildid`, `-c=N` dropped.
#[derive(Default, Debug)]
struct Plan {
    actions: BTreeMap<String, Vec<String>>,
    files: BTreeMap<String, Vec<String>>,
}

/// Splits one shell command line into words (double and single quotes).
fn shell_words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                any = true
            }
            None if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            None => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Replaces `prefix` + `b` + digits with the owning package's token.
fn map_work(s: &str, prefix: &str, owners: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(prefix) {
        out.push_str(&rest[..i]);
        let after = &rest[i + prefix.len()..];
        let digits = after
            .strip_prefix('b')
            .map(|a| a.chars().take_while(char::is_ascii_digit).count())
            .unwrap_or(0);
        if digits > 0 {
            let b = &after[..1 + digits];
            match owners.get(b) {
                Some(p) => write!(out, "$WORK/{p}").unwrap(),
                None => write!(out, "$WORK/{b}").unwrap(),
            }
            rest = &after[1 + digits..];
        } else {
            out.push_str(prefix);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Normalized argv of one tool command; `cwd` resolves go's `./x.s` arguments.
fn normalize_argv(words: Vec<String>, cwd: &str) -> (String, Vec<String>) {
    let mut words: Vec<String> = words
        .into_iter()
        .skip_while(|w| w.contains('=') && !w.starts_with('-') && !w.contains('/'))
        .collect();
    if words.is_empty() {
        return (String::new(), words);
    }
    let tool = words.remove(0);
    let tool = tool.rsplit('/').next().unwrap_or(&tool).to_string();
    let mut out = Vec::new();
    let mut it = words.into_iter();
    while let Some(w) = it.next() {
        if w == "-buildid" {
            it.next();
            continue;
        }
        if w.starts_with("-buildid=") || w.starts_with("-c=") {
            continue;
        }
        match w.strip_prefix("./") {
            Some(rel) => out.push(format!("{cwd}/{rel}")),
            None => out.push(w),
        }
    }
    (tool, out)
}

/// Parses a `-n` plan. `gob` selects gob's format (`# bNNN kind (pkg)` headers,
/// `/work/bNNN`) over go's (`# pkg` headers after `mkdir -p $WORK/bNNN/`);
/// `paths` rewrites absolute prefixes (longest first) before anything else.
fn parse_plan(text: &str, gob: bool, paths: &[(String, String)]) -> Plan {
    let norm_paths = |s: &str| -> String {
        let mut s = s.to_string();
        for (from, to) in paths {
            s = s.replace(from.as_str(), to);
        }
        s
    };
    let lines: Vec<String> = text.lines().map(norm_paths).collect();
    // First pass: which package owns each bNNN.
    let mut owners = BTreeMap::new();
    let mut link_b = None;
    for (i, l) in lines.iter().enumerate() {
        if gob {
            if let Some(h) = l.strip_prefix("# b") {
                if let Some((num, rest)) = h.split_once(' ') {
                    let pkg = rest
                        .rsplit_once('(')
                        .map(|(_, p)| p.trim_end_matches(')'))
                        .unwrap_or("");
                    if rest.starts_with("link") {
                        link_b = Some(format!("b{num}"));
                    }
                    owners.insert(format!("b{num}"), pkg.to_string());
                }
            }
        } else if let Some(b) = l
            .strip_prefix("mkdir -p $WORK/")
            .and_then(|r| r.strip_suffix('/'))
        {
            if let Some(pkg) = lines
                .iter()
                .skip(i + 1)
                .take(4)
                .find_map(|x| x.strip_prefix("# ").filter(|p| !p.contains(' ')))
            {
                owners.insert(b.to_string(), pkg.to_string());
            }
        }
    }
    let prefix = if gob { "/work/" } else { "$WORK/" };
    let mut plan = Plan::default();
    let mut pkg = String::new();
    let mut cwd = String::new();
    let mut i = 0;
    while i < lines.len() {
        let l = &lines[i];
        i += 1;
        if gob {
            if let Some(h) = l.strip_prefix("# b") {
                pkg = h
                    .rsplit_once('(')
                    .map(|(_, p)| p.trim_end_matches(')').to_string())
                    .unwrap_or_default();
                continue;
            }
        } else if l.starts_with("# ") && !l.contains(" import config") {
            pkg = l[2..].to_string();
            continue;
        }
        let l = map_work(l, prefix, &owners);
        if let Some(rest) = l.strip_prefix("cat >") {
            let file = rest.split_whitespace().next().unwrap_or("").to_string();
            // go prints the content as is, then `EOF`: after a last line
            // without a newline (embedcfg's JSON) it shares that line.
            let mut content = Vec::new();
            while i < lines.len() {
                let line = &lines[i];
                i += 1;
                if line == "EOF" {
                    break;
                }
                if let Some(last) = line.strip_suffix("EOF").filter(|_| !gob) {
                    content.push(map_work(last, prefix, &owners));
                    break;
                }
                content.push(map_work(line, prefix, &owners));
            }
            content.sort();
            plan.files.insert(file, content);
        } else if let Some(rest) = l.strip_prefix("echo ") {
            // go: `echo '# import config' > F # internal`, `echo -n > F # internal`.
            let rest = rest.trim_end_matches(" # internal");
            if let Some((what, file)) = rest.rsplit_once(" > ") {
                let content = match what {
                    "-n" => vec![],
                    w => vec![w.trim_matches('\'').to_string()],
                };
                plan.files.insert(file.to_string(), content);
            }
        } else if let Some(d) = l.strip_prefix("cd ") {
            cwd = d.to_string();
        } else if l.starts_with("$TOOLDIR/") || l.starts_with("GOROOT=") {
            let (tool, argv) = normalize_argv(shell_words(&l), &cwd);
            // Words made absolute from the cwd (`./vendor/…` run in the
            // module root) get the same path rewriting as whole lines.
            let argv: Vec<String> = argv.iter().map(|w| norm_paths(w)).collect();
            let key = match tool.as_str() {
                "link" => "link".to_string(),
                "asm" if argv.iter().any(|a| a == "-gensymabis") => format!("{pkg} symabis"),
                "asm" => {
                    let o = argv
                        .iter()
                        .skip_while(|a| *a != "-o")
                        .nth(1)
                        .cloned()
                        .unwrap_or_default();
                    format!("{pkg} asm {o}")
                }
                t => format!("{pkg} {t}"),
            };
            let argv = if tool == "link" {
                // The output name is the build's business (a.out vs exe/a.out).
                let mut v = Vec::new();
                let mut it = argv.into_iter();
                while let Some(a) = it.next() {
                    if a == "-o" {
                        it.next();
                    } else {
                        v.push(a);
                    }
                }
                v
            } else {
                argv
            };
            plan.actions.insert(key, argv);
        } else if l.starts_with("go tool pack r ") || l.starts_with("gob-internal pack r ") {
            // Objects packed into the archive, by name (gob copies the
            // compiled archive first, go appends to it in place).
            let mut objs: Vec<String> = shell_words(&l)
                .into_iter()
                .filter(|w| w.ends_with(".o"))
                .collect();
            objs.sort();
            plan.actions.insert(format!("{pkg} pack"), objs);
        }
        let _ = link_b;
    }
    // Files keyed by owner token and name.
    plan
}

/// go's path prefixes rewritten to gob's sandbox view: the tool dir, GOROOT,
/// every module dir (from `go list -m -json all`) and the main module.
fn go_path_map(goroot: &Path, modules: &[Value], goos_goarch: &str) -> Vec<(String, String)> {
    let mut map = vec![
        (
            format!("{}/pkg/tool/linux_amd64", goroot.display()),
            "$TOOLDIR".to_string(),
        ),
        (goroot.display().to_string(), "/goroot".to_string()),
    ];
    let _ = goos_goarch;
    for m in modules {
        let path = m["Path"].as_str().unwrap_or("");
        let dir = m["Replace"]["Dir"]
            .as_str()
            .or(m["Dir"].as_str())
            .unwrap_or("");
        if dir.is_empty() {
            continue;
        }
        let to = if m["Main"].as_bool() == Some(true) {
            format!("/mod/{path}")
        } else {
            format!("/mod/{path}@{}", m["Version"].as_str().unwrap_or(""))
        };
        map.push((dir.to_string(), to));
    }
    map.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
    map
}

/// Path maps for a `-mod=vendor` app: go's host paths (the vendor directory, the
/// module) and gob's inside paths (each vendored module's `/mod/M/`, under
/// which gob binds the vendor tree) onto one spelling, `VENDOR/…`.
/// (from, to) pairs rewriting one spelling of a path into another.
type PathMap = Vec<(String, String)>;

fn vendor_path_maps(app: &Path) -> (PathMap, PathMap) {
    let gomod = fs::read_to_string(app.join("go.mod")).unwrap_or_default();
    let main = gomod
        .lines()
        .find_map(|l| l.strip_prefix("module "))
        .unwrap_or("")
        .trim()
        .to_string();
    let go_side = vec![
        (format!("{}/vendor/", app.display()), "VENDOR/".to_string()),
        (app.display().to_string(), format!("/mod/{main}")),
        // go compiles vendored packages from the module root, as `./vendor/…`.
        (format!("/mod/{main}/vendor/"), "VENDOR/".to_string()),
    ];
    let txt = fs::read_to_string(app.join("vendor/modules.txt")).unwrap_or_default();
    let mut gob_side: Vec<(String, String)> = txt
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 2 && f[1].starts_with('v')).then(|| (f[0].to_string(), f[1].to_string()))
        })
        .flat_map(|(m, v)| {
            [
                (format!("/mod/{m}@{v}/"), "VENDOR/".to_string()),
                (format!("/mod/{m}/"), "VENDOR/".to_string()),
            ]
        })
        .collect();
    gob_side.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
    gob_side.dedup();
    (go_side, gob_side)
}

/// Differences between two normalized plans: actions one side lacks, argv
/// words only one side has (or the same words in another order), file contents.
fn compare_plans(go: &Plan, gob: &Plan) -> Vec<String> {
    let mut diffs = Vec::new();
    for (key, g) in &go.actions {
        match gob.actions.get(key) {
            None => diffs.push(format!("{key}: go=action gob=missing")),
            Some(b) if b != g => {
                fn count(v: &[String]) -> BTreeMap<&str, i32> {
                    let mut m: BTreeMap<&str, i32> = BTreeMap::new();
                    for w in v {
                        *m.entry(w).or_default() += 1;
                    }
                    m
                }
                let (cg, cb) = (count(g), count(b));
                let only = |a: &BTreeMap<&str, i32>, b: &BTreeMap<&str, i32>| -> Vec<String> {
                    a.iter()
                        .filter(|(w, n)| b.get(*w).copied().unwrap_or(0) < **n)
                        .map(|(w, _)| w.to_string())
                        .collect()
                };
                let (og, ob) = (only(&cg, &cb), only(&cb, &cg));
                if og.is_empty() && ob.is_empty() {
                    diffs.push(format!(
                        "{key} argv order: go={} gob={}",
                        g.join(" "),
                        b.join(" ")
                    ));
                } else {
                    diffs.push(format!("{key} flags: go={og:?} gob={ob:?}"));
                }
            }
            _ => {}
        }
    }
    for key in gob.actions.keys() {
        if !go.actions.contains_key(key) {
            diffs.push(format!("{key}: go=missing gob=action"));
        }
    }
    for (file, g) in &go.files {
        // go writes go_asm.h for every asm package; gob only where it is used.
        match gob.files.get(file) {
            Some(b) if b != g => {
                let og: Vec<_> = g.iter().filter(|x| !b.contains(x)).collect();
                let ob: Vec<_> = b.iter().filter(|x| !g.contains(x)).collect();
                diffs.push(format!("{file} content: go={og:?} gob={ob:?}"));
            }
            None if !file.ends_with("go_asm.h") => {
                diffs.push(format!("{file}: go=written gob=missing"))
            }
            _ => {}
        }
    }
    diffs
}

/// Where every difference goes, line by line as it is found.
fn report_path() -> PathBuf {
    common::repo_root().join("target/corpus-diffs.txt")
}

/// Adds a difference to `all` and appends it to [`report_path`].
fn record(all: &mut Vec<String>, d: String) {
    use std::io::Write as _;
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(report_path())
        .unwrap();
    writeln!(f, "{d}").unwrap();
    all.push(d);
}

/// `tag . what: go=CODE gob=CODE (gob's first stderr line)`.
fn exit_diff(tag: &str, what: &str, g: &std::process::Output, b: &std::process::Output) -> String {
    let first = String::from_utf8_lossy(&b.stderr);
    format!(
        "{tag} . {what}: go={:?} gob={:?} ({})",
        g.status.code(),
        b.status.code(),
        first.lines().next().unwrap_or("")
    )
}

// --- the test -----------------------------------------------------------------

/// A difference category for the summary: the line without the package and values.
fn category(d: &str) -> String {
    let mut parts = d.splitn(4, ' ');
    let (p, l) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let rest = parts.collect::<Vec<_>>().join(" ");
    let _ = (p, l);
    // `pkg field: go=… gob=…` -> field; for plans `pkg tool flags: go=[…] gob=[…]`.
    let head = rest.split(": go=").next().unwrap_or("");
    let field = head.rsplit(' ').next().unwrap_or(head);
    let tool = head.split(' ').nth(1).unwrap_or("");
    if rest.contains(" flags: ") {
        let vals = rest.split(": ").nth(1).unwrap_or("");
        format!("{l} {tool} {field}: {vals}")
    } else {
        format!("{l} {field}")
    }
}

#[test]
fn corpus_matches_go() {
    let started = std::time::Instant::now();
    let root = corpus_root();
    let goroot = common::goroot();
    let area = Area::new("corpus");
    let _ = fs::remove_file(report_path());
    let mut all: Vec<String> = Vec::new();
    let mut go_only: BTreeMap<String, usize> = BTreeMap::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();

    for case in cases(&root) {
        let mode: &[&str] = if case.layout == "vendor" {
            &["-mod=vendor"]
        } else {
            &[]
        };
        for &platform in CORPUS_PLATFORMS {
            let env = env(&area, &root, platform);
            let plat = format!("{}/{}", platform.0, platform.1);
            let tag = format!("{plat} {}/{}", case.layout, case.app);

            let mut args = vec!["list", "-e", "-deps", "-json"];
            args.extend_from_slice(mode);
            args.push(".");
            let g = run(&common::go_binary(), &case.dir, &args, &env);
            let b = run(&common::gob_binary(), &case.dir, &args, &env);
            let (gl, bl) = (
                json_stream(&String::from_utf8_lossy(&g.stdout)),
                json_stream(&String::from_utf8_lossy(&b.stdout)),
            );
            assert!(
                !gl.is_empty(),
                "{tag}: go list printed nothing: {}",
                text(&g)
            );
            let nonstd = gl
                .iter()
                .filter(|p| p["Standard"] != Value::Bool(true))
                .count();
            counts.insert(tag.clone(), nonstd);
            if b.status.code() != g.status.code() {
                record(&mut all, exit_diff(&tag, "list exit", &g, &b));
            }
            for d in compare_lists(&gl, &bl, &mut go_only) {
                record(&mut all, format!("{tag} list {d}"));
            }

            // The plans.
            let m = run(
                &common::go_binary(),
                &case.dir,
                &[&["list", "-m", "-e", "-json"][..], mode, &["all"]].concat(),
                &env,
            );
            let modules = json_stream(&String::from_utf8_lossy(&m.stdout));
            let mut paths = go_path_map(&goroot, &modules, &plat);
            // `go list -m all` cannot run in vendor mode: the vendor tree and
            // the main module are mapped from modules.txt and go.mod instead.
            let gob_paths = if case.layout == "vendor" {
                let (go_side, gob_side) = vendor_path_maps(&case.dir);
                paths.extend(go_side);
                paths.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
                gob_side
            } else {
                Vec::new()
            };
            let mut gargs = vec!["build", "-a", "-n", "-trimpath", "-buildvcs=false"];
            gargs.extend_from_slice(mode);
            gargs.push(".");
            let mut bargs = vec!["build", "-a", "-n"];
            bargs.extend_from_slice(mode);
            bargs.push(".");
            let g = run(&common::go_binary(), &case.dir, &gargs, &env);
            let b = run(&common::gob_binary(), &case.dir, &bargs, &env);
            if !g.status.success() || !b.status.success() {
                record(&mut all, exit_diff(&tag, "build -n exit", &g, &b));
                continue;
            }
            let gp = parse_plan(&String::from_utf8_lossy(&g.stderr), false, &paths);
            let bp = parse_plan(&String::from_utf8_lossy(&b.stdout), true, &gob_paths);
            assert!(!gp.actions.is_empty(), "{tag}: no actions in go's plan");
            for d in compare_plans(&gp, &bp) {
                record(&mut all, format!("{tag} plan {d}"));
            }
        }
    }

    // Linked binaries: the asm app, amd64 (run) and arm64 (under qemu).
    let asm: Vec<Case> = cases(&root)
        .into_iter()
        .filter(|c| c.app == "asm")
        .collect();
    for case in &asm {
        if case.layout == "vendor" {
            continue;
        }
        let goarch = if case.layout == "modcache" {
            "arm64"
        } else {
            "amd64"
        };
        let platform = CORPUS_PLATFORMS
            .iter()
            .find(|p| p.0 == "linux" && p.1 == goarch)
            .copied()
            .unwrap();
        let env = env(&area, &root, platform);
        let tag = format!("linux/{goarch} {}/{}", case.layout, case.app);
        let ours = area.path(&format!("out/{}-{goarch}-gob", case.layout));
        let theirs = area.path(&format!("out/{}-{goarch}-go", case.layout));
        let b = run(
            &common::gob_binary(),
            &case.dir,
            &["build", "-o", ours.to_str().unwrap(), "."],
            &env,
        );
        let g = run(
            &common::go_binary(),
            &case.dir,
            &[
                "build",
                "-trimpath",
                "-buildvcs=false",
                "-o",
                theirs.to_str().unwrap(),
                ".",
            ],
            &env,
        );
        if !g.status.success() {
            record(
                &mut all,
                format!(
                    "{tag} . corpus: go build fails: {}",
                    text(&g).lines().take(2).collect::<Vec<_>>().join(" | ")
                ),
            );
            continue;
        }
        if !b.status.success() {
            record(
                &mut all,
                format!(
                    "{tag} . binary build: go=ok gob={}",
                    text(&b).lines().take(3).collect::<Vec<_>>().join(" | ")
                ),
            );
            continue;
        }
        let host = env
            .iter()
            .filter(|(k, _)| k != "GOARCH")
            .cloned()
            .chain([("GOARCH".to_string(), "amd64".to_string())])
            .collect::<Vec<_>>();
        let info = |bin: &Path| {
            let o = run(
                &common::go_binary(),
                &case.dir,
                &["version", "-m", bin.to_str().unwrap()],
                &host,
            );
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .skip(1)
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let (gi, bi) = (info(&theirs), info(&ours));
        for l in gi.iter().filter(|l| !bi.contains(l)) {
            record(&mut all, format!("{tag} . version -m: go={l:?} gob=absent"));
        }
        for l in bi.iter().filter(|l| !gi.contains(l)) {
            record(&mut all, format!("{tag} . version -m: go=absent gob={l:?}"));
        }
        let runner = |bin: &Path| {
            let mut cmd = if goarch == "amd64" {
                Command::new(bin)
            } else {
                let qemu = std::env::var("GOB_TEST_QEMU_AARCH64")
                    .unwrap_or_else(|_| "qemu-aarch64-static".into());
                let mut c = Command::new(qemu);
                c.arg(bin);
                c
            };
            let o = cmd.env_clear().output().unwrap();
            (
                o.status.code(),
                String::from_utf8_lossy(&o.stdout).into_owned(),
            )
        };
        let (gr, br) = (runner(&theirs), runner(&ours));
        if gr != br {
            record(
                &mut all,
                format!("{tag} . run output: go={gr:?} gob={br:?}"),
            );
        }
    }

    // Report: every difference in a file, a summary by category on stderr.
    let report = report_path();
    let mut cats: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for d in &all {
        let e = cats.entry(category(d)).or_insert((0, d.clone()));
        e.0 += 1;
    }
    eprintln!("corpus: non-std packages per platform/layout/app: {counts:#?}");
    eprintln!("corpus: fields go prints and gob does not (packages): {go_only:?}");
    eprintln!(
        "corpus: {} differences in {} categories (all in {}):",
        all.len(),
        cats.len(),
        report.display()
    );
    for (c, (n, example)) in &cats {
        let ex: String = example.chars().take(400).collect();
        eprintln!("  {n:6} x {c}\n         e.g. {ex}");
    }
    eprintln!("corpus: took {:?}", started.elapsed());
    let _ = BTreeSet::<String>::new();
    assert!(
        all.is_empty(),
        "{} differences from go on the corpus (see above)",
        all.len()
    );
}

/// The comparison functions see a difference: a changed field, a missing
/// package, a changed flag and a changed importcfg line each show up.
#[test]
fn corpus_comparison_detects_differences() {
    let go: Vec<Value> = vec![
        serde_json::json!({"ImportPath": "a", "Name": "a", "Module": {"GoVersion": "1.21"}, "Stale": true}),
    ];
    let mut gob = go.clone();
    let mut only = BTreeMap::new();
    gob[0]["Module"]["GoVersion"] = Value::Null;
    gob[0].as_object_mut().unwrap().remove("Stale");
    let d = compare_lists(&go, &gob, &mut only);
    assert_eq!(
        d,
        vec!["a Module: go={\"GoVersion\":\"1.21\"} gob={\"GoVersion\":null}".to_string()]
    );
    assert_eq!(only.get("Stale"), Some(&1));
    assert!(compare_lists(&go, &go, &mut only).is_empty());
    assert_eq!(
        compare_lists(&go, &[], &mut only),
        vec!["a package: go=listed gob=missing"]
    );

    let go_plan = "mkdir -p $WORK/b002/\n#\n# ex.com/m/p\n#\n\ncat >$WORK/b002/importcfg << 'EOF' # internal\n# import config\npackagefile fmt=$WORK/b003/_pkg_.a\nEOF\ncd /home/m\n/R/pkg/tool/linux_amd64/compile -o $WORK/b002/_pkg_.a -trimpath \"/home/m/p=>ex.com/m/p;$WORK/b002=>\" -p ex.com/m/p -lang=go1.21 -buildid X/Y -c=2 -importcfg $WORK/b002/importcfg -pack /home/m/p/a.go\ncd /home/m/p\n/R/pkg/tool/linux_amd64/asm -p ex.com/m/p -o $WORK/b002/x.o ./x.s\nmkdir -p $WORK/b003/\n#\n# fmt\n#\n";
    let gob_plan = "# b007 compile (ex.com/m/p)\ncat >/work/b007/importcfg << 'EOF'\n# import config\npackagefile fmt=/work/b001/_pkg_.a\nEOF\ncd /work/b007\n$TOOLDIR/compile -o /work/b007/_pkg_.a -trimpath \"/mod/ex.com/m/p=>ex.com/m/p;/work/b007=>\" -p ex.com/m/p -lang=go1.21 -importcfg /work/b007/importcfg -pack /mod/ex.com/m/p/a.go\n# b008 asm (ex.com/m/p)\ncd /mod/ex.com/m/p\n$TOOLDIR/asm -p ex.com/m/p -o /work/b008/x.o /mod/ex.com/m/p/x.s\n# b001 compile (fmt)\n";
    let paths = vec![
        (
            "/R/pkg/tool/linux_amd64".to_string(),
            "$TOOLDIR".to_string(),
        ),
        ("/home/m".to_string(), "/mod/ex.com/m".to_string()),
    ];
    let gp = parse_plan(go_plan, false, &paths);
    let bp = parse_plan(gob_plan, true, &[]);
    assert_eq!(
        compare_plans(&gp, &bp),
        Vec::<String>::new(),
        "{gp:?}\n{bp:?}"
    );
    let bad = parse_plan(&gob_plan.replace("-lang=go1.21", "-lang=go1.16"), true, &[]);
    assert_eq!(
        compare_plans(&gp, &bad),
        vec!["ex.com/m/p compile flags: go=[\"-lang=go1.21\"] gob=[\"-lang=go1.16\"]"]
    );
    let bad = parse_plan(
        &gob_plan.replace("packagefile fmt=/work/b001", "packagefile fmt=/work/b007"),
        true,
        &[],
    );
    assert_eq!(
        compare_plans(&gp, &bad).len(),
        1,
        "an importcfg line differs"
    );
}
