//! go.work directives (work.go): `go`, `toolchain`, `godebug`, `use` and `replace`.

use std::path::Path;

use super::gomod::{
    go_version_ok, lex_err, parse_godebug, parse_replace, parse_string, toolchain_ok, Ctx, Fixer,
    Replace,
};
use super::syntax::{parse_syntax, Stmt, SynLine};
use super::{ModFileError, ModFileErrorKind, Pos};

/// A `use` line of go.work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseDir {
    /// The directory as written (relative to the go.work dir, or absolute).
    pub dir: String,
    /// The end-of-line comment text (without `//`, trimmed), if any; `go work use`
    /// does not write one, but users sometimes note the module path there.
    pub module_path_comment: Option<String>,
    /// Position of the line.
    pub pos: Pos,
}

/// A parsed go.work file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkFile {
    /// `go` version.
    pub go: Option<String>,
    /// `toolchain` name.
    pub toolchain: Option<String>,
    /// `godebug key=value` pairs.
    pub godebug: Vec<(String, String)>,
    /// `use` directories.
    pub use_: Vec<UseDir>,
    /// `replace` lines (these override go.mod replacements).
    pub replace: Vec<Replace>,
}

/// Parses a go.work file like `modfile.ParseWork(path, data, nil)`.
pub fn parse_go_work(file: &Path, data: &[u8]) -> Result<WorkFile, ModFileError> {
    let fname = file.display().to_string();
    let stmts = parse_syntax(&fname, data).map_err(|e| lex_err(file, e))?;
    let mut cx = Ctx {
        file,
        diags: Vec::new(),
    };
    let mut wf = WorkFile::default();
    for st in &stmts {
        match st {
            Stmt::Line(l) => {
                let mut l = l.clone();
                let verb = l.tokens.remove(0);
                add_work_directive(&mut cx, &mut wf, &l, &verb);
            }
            Stmt::Block {
                start,
                tokens,
                lines,
                ..
            } => {
                if tokens.len() != 1 || !matches!(tokens[0].as_str(), "godebug" | "use" | "replace")
                {
                    cx.push(*start, ModFileErrorKind::UnknownBlockType(tokens.join(" ")));
                    continue;
                }
                for l in lines {
                    add_work_directive(&mut cx, &mut wf, l, &tokens[0]);
                }
            }
        }
    }
    if cx.diags.is_empty() {
        Ok(wf)
    } else {
        Err(ModFileError { diags: cx.diags })
    }
}

fn add_work_directive(cx: &mut Ctx<'_>, wf: &mut WorkFile, line: &SynLine, verb: &str) {
    let pos = line.start;
    let args = &line.tokens;
    let usage = |s: &str| ModFileErrorKind::Usage(s.to_string());
    match verb {
        "go" => {
            if wf.go.is_some() {
                return cx.push(pos, ModFileErrorKind::Repeated("go"));
            }
            if args.len() != 1 {
                return cx.push(pos, usage("go directive expects exactly one argument"));
            }
            if !go_version_ok(&args[0]) {
                return cx.push(pos, ModFileErrorKind::InvalidGoVersion(args[0].clone()));
            }
            wf.go = Some(args[0].clone());
        }
        "toolchain" => {
            if wf.toolchain.is_some() {
                return cx.push(pos, ModFileErrorKind::Repeated("toolchain"));
            }
            if args.len() != 1 {
                return cx.push(
                    pos,
                    usage("toolchain directive expects exactly one argument"),
                );
            }
            if !toolchain_ok(&args[0]) {
                return cx.push(pos, ModFileErrorKind::InvalidToolchain(args[0].clone()));
            }
            wf.toolchain = Some(args[0].clone());
        }
        "godebug" => match parse_godebug(args) {
            Some(kv) => wf.godebug.push(kv),
            None => cx.push(pos, usage("usage: godebug key=value")),
        },
        "use" => {
            if args.len() != 1 {
                return cx.push(pos, usage(&format!("usage: {verb} local/dir")));
            }
            match parse_string(&args[0]) {
                Ok(s) => wf.use_.push(UseDir {
                    dir: s,
                    module_path_comment: line
                        .suffix
                        .as_deref()
                        .map(|c| c.trim_start_matches("//").trim().to_string())
                        .filter(|c| !c.is_empty()),
                    pos,
                }),
                Err(e) => cx.push(pos, ModFileErrorKind::InvalidQuotedString(e)),
            }
        }
        "replace" => match parse_replace(verb, args, Fixer::Canonicalize) {
            Ok(r) => wf.replace.push(Replace { pos, ..r }),
            Err(e) => cx.push_d(pos, e),
        },
        _ => cx.push(pos, ModFileErrorKind::UnknownDirective(verb.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::modfile::oracle::{fs_remove, work_json};
    use crate::load::modfile::tests::p;
    use crate::load::modfile::ReplaceTarget;
    use std::process::Command;

    #[test]
    fn go_work() {
        let src = "go 1.23\ntoolchain go1.23.1\ngodebug x=y\nuse ./a // example.com/a\nuse (\n\t../b\n\t\"/abs path/c\"\n)\nreplace example.com/x v1.0.0 => ./x\n";
        let w = parse_go_work(&p("go.work"), src.as_bytes()).unwrap();
        assert_eq!(w.go.as_deref(), Some("1.23"));
        assert_eq!(w.toolchain.as_deref(), Some("go1.23.1"));
        assert_eq!(w.godebug, [("x".into(), "y".into())]);
        let dirs: Vec<&str> = w.use_.iter().map(|u| u.dir.as_str()).collect();
        assert_eq!(dirs, ["./a", "../b", "/abs path/c"]);
        assert_eq!(
            w.use_[0].module_path_comment.as_deref(),
            Some("example.com/a")
        );
        assert_eq!(w.replace[0].new, ReplaceTarget::Local("./x".into()));
        let e = parse_go_work(&p("go.work"), b"go 1.23\nmodule x\nuse a b\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "go.work:2: unknown directive: module\ngo.work:3: usage: use local/dir"
        );
    }

    const GO_WORK_CASES: &[&str] = &[
        "go 1.23\n",
        "go 1.23\ntoolchain go1.23.1\ngodebug (\n\tx=y\n)\nuse ./a // example.com/a\nuse (\n\t../b\n\t\"/abs path/c\"\n)\nreplace example.com/x v1.0.0 => ./x\nreplace example.com/y => example.com/z v1.2\n",
        "go 1.23\nmodule x\nuse a b\n",
        "go 1.23\nrequire (\n)\n",
        "go 1.23\nuse\n",
        "go 1.23.x\n",
        "go 1.23\nreplace a => b\n",
    ];

    #[test]
    fn oracle_go_work_edit_json() {
        let go = crate::testutil::go_binary();
        let dir = std::env::temp_dir().join(format!("gob-workfile-oracle-{}", std::process::id()));
        let _ = fs_remove(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let gowork = dir.join("go.work");
        let mut failures = Vec::new();
        for (i, case) in GO_WORK_CASES.iter().enumerate() {
            std::fs::write(&gowork, case).unwrap();
            let out = Command::new(&go)
                .current_dir(&dir)
                .args(["work", "edit", "-json"])
                .env("GOENV", "off")
                .env("GOTOOLCHAIN", "local")
                .env("GOWORK", &gowork)
                .env("GOCACHE", dir.join(".cache"))
                .output()
                .unwrap();
            let got = parse_go_work(Path::new("go.work"), case.as_bytes());
            let mine = got
                .map(|w| work_json(&w))
                .unwrap_or_else(|e| format!("ERR {e}"));
            let want = if out.status.success() {
                String::from_utf8_lossy(&out.stdout).trim_end().to_string()
            } else {
                let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
                let hdr = "errors parsing go.work:\n";
                let body = stderr
                    .rfind(hdr)
                    .map_or(stderr.as_str(), |i| &stderr[i + hdr.len()..]);
                format!("ERR {}", body.trim_end())
            };
            if want != mine {
                failures.push(format!("case {i} {case:?}:\n go:  {want}\n gob: {mine}"));
            }
        }
        let _ = fs_remove(&dir);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
