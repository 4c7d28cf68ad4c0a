//! Differential test: `gob list -f TEMPLATE` and `gob list -m` against go list.
//!
//! Every row runs go and gob with the same arguments and environment (offline:
//! GOPROXY=off, GOTOOLCHAIN=local, CGO_ENABLED=0, HOME/GOPATH/GOCACHE in a temp
//! dir) and compares stdout byte for byte, the exit code, and the first stderr
//! line (go's `go ` / `go: ` read as gob's `gob ` / `gob: `). Rows run in
//! `$GOROOT/src`, in fixture modules, and, when `GOB_TEST_CORPUS` is set (see
//! docs/corpus.md), in the corpus's replace-layout apps with its module cache.
//!
//! A few rows are ones gob refuses on purpose and says why: fields gob does not
//! compute (`.Stale`, `.Doc`, a main package's `.Target`) and `-m` questions
//! only a module proxy answers (`-u`, `-versions`, `-retracted`): for those the
//! row names the words gob must print, and go's output is not consulted.

mod common;

use common::{gob_binary, goroot, repo_root};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a row expects of gob.
#[derive(Clone, Copy)]
enum Expect {
    /// Exactly go's stdout, exit code and first stderr line.
    SameAsGo,
    /// Exit 1 and a first stderr line containing these words.
    Refused(&'static str),
}

/// Templates users write, run on packages (go list -f).
const TEMPLATES: &[&str] = &[
    "{{.ImportPath}}",
    "{{.Dir}}",
    "{{.Name}}",
    "{{.ImportPath}} {{.Name}} {{.Goroot}} {{.Standard}} {{.DepOnly}} {{.Incomplete}}",
    r#"{{join .Deps "\n"}}"#,
    r#"{{join .Imports ","}}"#,
    "{{.Imports}}",
    "{{.GoFiles}} {{.IgnoredGoFiles}} {{.SFiles}} {{.TestGoFiles}} {{.XTestGoFiles}}",
    "{{if .Module}}{{.Module.Path}}{{end}}",
    "{{with .Module}}{{.Path}} {{.Version}} {{.Main}} {{.GoVersion}}{{else}}std{{end}}",
    "{{.Module}}",
    "{{range .GoFiles}}{{$.Dir}}/{{.}} {{end}}",
    "{{range $i, $f := .GoFiles}}{{$i}}:{{$f}}\n{{end}}",
    "{{range .Imports}}{{.}}\n{{else}}no imports\n{{end}}",
    r#"{{printf "%q %s %d %v %t" .Name .ImportPath (len .Deps) .Imports .Standard}}"#,
    r#"{{printf "%-20s|%5d|%x|%T" .Name (len .GoFiles) .Name .Deps}}"#,
    "{{len .Imports}} {{len .ImportPath}}",
    "{{index .Imports 0}}",
    "{{.ImportMap}} {{.Match}} {{.EmbedPatterns}} {{.EmbedFiles}}",
    r#"{{if eq .Name "main"}}cmd {{.ImportPath}}{{else if .Standard}}std{{else}}lib {{.Name}}{{end}}"#,
    r#"{{if and .Module (not .Standard)}}{{.Module.Path}}{{end}}{{if or .Goroot .Standard}}goroot{{end}}"#,
    r#"{{$p := .ImportPath}}{{range .Imports}}{{$p}} -> {{.}}
{{end}}"#,
    "{{- .Name -}}\n\n   {{- .ImportPath -}}",
    "{{/* a comment */}}{{.Name}}",
    r#"{{.Name | printf "%s!"}} {{"x" | len}}"#,
    r#"{{print .Name 1 2 "a"}} {{println .Name}}"#,
    "{{context.GOOS}}/{{context.GOARCH}} {{context.CgoEnabled}} {{context.Compiler}} {{context.ReleaseTags}}",
    r#"{{slice .ImportPath 0 1}} {{html "<a&b>"}} {{urlquery "a b/c"}} {{js "it's"}}"#,
    "{{.Error}} {{.DepsErrors}}",
    "{{range .Deps}}{{if not (eq . \"unsafe\")}}{{.}} {{end}}{{end}}",
    "{{range $i, $d := .Deps}}{{if ge $i 2}}{{break}}{{end}}{{$d}} {{end}}",
    "{{range .Deps}}{{if eq . \"unsafe\"}}{{continue}}{{end}}{{.}} {{end}}",
    "{{range 3}}{{.}}{{end}}",
    r#"{{printf "%5.2f|%e|%g|%v|%08.3f" 3.14159 1234567.0 0.000012 1e21 -2.5}}"#,
    r#"{{printf "%+d|%x|%X|%o|%b|%c|%q|%U" 42 255 255 8 5 65 66 67}}"#,
    r#"{{printf "%d %s"}} {{printf "%d" "x"}} {{printf "%s" 1 2}} {{printf "%t %v" true nil}}"#,
    r#"{{and 1 0 2}} {{or 0 "" "x"}} {{1.5}} {{1e6}} {{0x1F}} {{'a'}}"#,
    "{{.Module.Replace}} {{.Module.Time}} {{printf \"%v|%s\" .Module .Deps}}",
    "{{$x := 1}}{{$x = 2}}{{$x}} {{with $y := .Name}}{{$y}}{{end}}",
    // Errors, in go's words.
    "{{.Foo}}",
    "{{.Module.Foo}}",
    "{{.Module.Path.Foo}}",
    "{{index .Imports 100}}",
    "{{len .Standard}}",
    r#"{{eq .Name 1}}"#,
    "{{join .Name \",\"}}",
    "{{.Name 1}}",
    "{{nosuchfunc .Name}}",
    "{{.Name",
    "{{if .Name}}",
    "{{end}}",
    "{{range}}{{end}}",
    "{{$x}}",
    "{{break}}",
    "{{.Name}",
    "{{@}}",
    "{{range $a, $b, $c := .Deps}}{{end}}",
    "{{-.Name}}",
    "{{0x1Fg}}",
    "{{nil}}",
    "{{\"x\" 1}}",
];

/// Templates gob refuses (it does not compute the field), with its words.
const REFUSED_TEMPLATES: &[(&str, &str)] = &[
    ("{{.Stale}}", "does not compute .Stale"),
    ("{{.StaleReason}}", "does not compute .Stale"),
    ("{{.Doc}}", "does not compute .Doc"),
    ("{{.}}", "does not compute"),
];

/// Module-mode rows: arguments after `list`.
const MODULE_ROWS: &[&[&str]] = &[
    &["-m"],
    &["-m", "all"],
    &["-m", "-json"],
    &["-m", "-json", "all"],
    &["-m", "-f", "{{.Path}}|{{.Version}}|{{.Main}}|{{.Indirect}}|{{.Dir}}|{{.GoMod}}|{{.GoVersion}}|{{.Replace}}|{{.Time}}", "all"],
    &["-m", "-f", "{{.}}", "all"],
    &["-m", "-f", "{{.String}} {{if .Replace}}{{.Replace.Dir}}{{end}}", "all"],
    &["-m", "-f", "{{.Foo}}"],
    &["-m", "-f", "{{.Replace.Path}}"],
    &["-m", "-f", "{{.Stale}}"],
    &["-m", "-deps"],
    &["-m", "example.com/no/such/module"],
    &["-m", "-e", "example.com/no/such/module"],
    &["-m", "-e", "-json", "example.com/no/such/module"],
    &["-m", "example.com/..."],
    &["-m", "nothing.example/..."],
    &["-f", "{{.Name}}", "-json", "."],
    &["-u", "."],
    &["-versions", "."],
];

/// Module rows gob refuses because only a module proxy answers them.
const REFUSED_MODULE_ROWS: &[(&[&str], &str)] = &[
    (&["-m", "-u", "all"], "module lookup disabled"),
    (&["-m", "-versions", "all"], "module lookup disabled"),
    (&["-m", "-retracted", "all"], "module lookup disabled"),
];

struct Env {
    tmp: PathBuf,
    goroot: PathBuf,
    gomodcache: Option<PathBuf>,
}

impl Env {
    fn command(&self, exe: &Path, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(exe);
        cmd.args(args).current_dir(dir).env_clear();
        let t = |p: &str| self.tmp.join(p);
        cmd.env("GOROOT", &self.goroot)
            .env("CGO_ENABLED", "0")
            .env("GOFLAGS", "")
            .env("GOTOOLCHAIN", "local")
            .env("GOPROXY", "off")
            .env("GOSUMDB", "off")
            .env("GOENV", "off")
            .env("GOTELEMETRY", "off")
            .env("HOME", t("home"))
            .env("GOPATH", t("gopath"))
            .env("GOCACHE", t("gocache"))
            .env("TMPDIR", t("tmp"))
            .env(
                "GOMODCACHE",
                self.gomodcache.clone().unwrap_or_else(|| t("modcache")),
            );
        if let Some(p) = std::env::var_os("PATH") {
            cmd.env("PATH", p);
        }
        cmd
    }
}

struct Outcome {
    code: i32,
    stdout: String,
    first_err: String,
}

fn run(env: &Env, exe: &Path, dir: &Path, args: &[&str]) -> Outcome {
    let out = env
        .command(exe, dir, args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        first_err: stderr.lines().next().unwrap_or("").to_string(),
    }
}

/// go's words as gob says them.
fn as_gob(line: &str) -> String {
    if let Some(rest) = line.strip_prefix("go: ") {
        format!("gob: {rest}")
    } else if let Some(rest) = line.strip_prefix("go ") {
        format!("gob {rest}")
    } else {
        line.to_string()
    }
}

/// Runs one row; returns a description of each difference.
fn check(env: &Env, dir: &Path, args: &[&str], expect: Expect) -> Option<String> {
    let mut full = vec!["list"];
    full.extend_from_slice(args);
    let gob = run(env, &gob_binary(), dir, &full);
    let row = format!("{} $ list {:?}", dir.display(), args);
    if let Expect::Refused(words) = expect {
        if gob.code != 1 || !gob.first_err.contains(words) {
            return Some(format!(
                "{row}: gob should refuse with {words:?}; got exit {} and {:?}",
                gob.code, gob.first_err
            ));
        }
        return None;
    }
    let go = run(env, &env.goroot.join("bin/go"), dir, &full);
    let mut d = Vec::new();
    if go.code != gob.code {
        d.push(format!("exit: go={} gob={}", go.code, gob.code));
    }
    if go.stdout != gob.stdout {
        let (gl, bl): (Vec<&str>, Vec<&str>) =
            (go.stdout.lines().collect(), gob.stdout.lines().collect());
        let first = (0..gl.len().max(bl.len()))
            .find(|&i| gl.get(i) != bl.get(i))
            .unwrap_or(0);
        d.push(format!(
            "stdout differs at line {first}: go={:?} gob={:?} (go {} bytes, gob {} bytes)",
            gl.get(first).unwrap_or(&"<end>"),
            bl.get(first).unwrap_or(&"<end>"),
            go.stdout.len(),
            gob.stdout.len()
        ));
    }
    if as_gob(&go.first_err) != gob.first_err {
        d.push(format!(
            "stderr: go={:?} gob={:?}",
            go.first_err, gob.first_err
        ));
    }
    (!d.is_empty()).then(|| format!("{row}:\n    {}", d.join("\n    ")))
}

/// A fresh temp area per test: the tests run in parallel and each removes its own.
fn temp_env(name: &str, gomodcache: Option<PathBuf>) -> Env {
    let tmp = std::env::temp_dir().join(format!("gob-list-template-{}-{name}", std::process::id()));
    for d in ["home", "gopath", "gocache", "tmp", "modcache"] {
        std::fs::create_dir_all(tmp.join(d)).unwrap();
    }
    Env {
        tmp,
        goroot: goroot(),
        gomodcache,
    }
}

fn check_packages(env: &Env, dir: &Path, patterns: &[&str], diffs: &mut Vec<String>) {
    for t in TEMPLATES {
        let mut args = vec!["-e", "-f", t];
        args.extend_from_slice(patterns);
        diffs.extend(check(env, dir, &args, Expect::SameAsGo));
    }
    for (t, words) in REFUSED_TEMPLATES {
        let mut args = vec!["-e", "-f", t];
        args.extend_from_slice(patterns);
        diffs.extend(check(env, dir, &args, Expect::Refused(words)));
    }
}

fn check_modules(env: &Env, dir: &Path, diffs: &mut Vec<String>) {
    for row in MODULE_ROWS {
        diffs.extend(check(env, dir, row, Expect::SameAsGo));
    }
    for (row, words) in REFUSED_MODULE_ROWS {
        diffs.extend(check(env, dir, row, Expect::Refused(words)));
    }
}

fn finish(diffs: Vec<String>) {
    assert!(
        diffs.is_empty(),
        "{} differences from go list:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn list_f_matches_go_on_goroot_and_fixtures() {
    let env = temp_env("f", None);
    let mut diffs = Vec::new();
    let src = env.goroot.join("src");
    check_packages(
        &env,
        &src,
        &["fmt", "errors", "unsafe", "encoding/json", "cmd/gofmt"],
        &mut diffs,
    );
    let fixtures = repo_root().join("fixtures");
    check_packages(&env, &fixtures.join("replace"), &["all"], &mut diffs);
    check_packages(&env, &fixtures.join("embed"), &["./..."], &mut diffs);
    check_packages(&env, &fixtures.join("bad-import"), &["./..."], &mut diffs);
    let _ = std::fs::remove_dir_all(&env.tmp);
    finish(diffs);
}

#[test]
fn list_m_matches_go_on_fixtures() {
    let env = temp_env("m", None);
    let mut diffs = Vec::new();
    let fixtures = repo_root().join("fixtures");
    for f in ["replace", "hello", "workspace"] {
        check_modules(&env, &fixtures.join(f), &mut diffs);
    }
    // Outside any module.
    let outside = env.tmp.join("tmp");
    for row in [&["-m"][..], &["-m", "all"]] {
        diffs.extend(check(&env, &outside, row, Expect::SameAsGo));
    }
    // Vendoring: go's refusals of what the vendor directory cannot answer.
    for row in [
        &["-m"][..],
        &["-m", "-json"],
        &["-m", "all"],
        &["-m", "example.com/..."],
    ] {
        diffs.extend(check(
            &env,
            &fixtures.join("vendored"),
            row,
            Expect::SameAsGo,
        ));
    }
    let _ = std::fs::remove_dir_all(&env.tmp);
    finish(diffs);
}

#[test]
fn list_f_and_m_match_go_on_the_corpus() {
    let Some(corpus) = std::env::var_os("GOB_TEST_CORPUS").map(PathBuf::from) else {
        eprintln!("GOB_TEST_CORPUS not set: skipping the corpus rows (see docs/corpus.md)");
        return;
    };
    let env = temp_env("corpus", Some(corpus.join("gomodcache")));
    let mut diffs = Vec::new();
    for app in ["cli", "net"] {
        let dir = corpus.join("apps").join(app);
        check_packages(&env, &dir, &["-deps", "."], &mut diffs);
        check_modules(&env, &dir, &mut diffs);
    }
    let _ = std::fs::remove_dir_all(&env.tmp);
    finish(diffs);
}
