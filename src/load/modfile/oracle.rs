//! Test-only support for the oracle tests: parsed files rendered as `go mod edit -json` / `go work edit -json` print them, and running `go`.

use std::path::Path;
use std::process::Command;

use super::{ModFile, Replace, ReplaceTarget, WorkFile};

fn js(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                o.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Renders Go's encoding/json MarshalIndent("", "\t") of an object given as
/// (key, already-rendered value) pairs; nested values are re-indented.
fn obj(fields: Vec<(&str, String)>) -> String {
    if fields.is_empty() {
        return "{}".into();
    }
    let body: Vec<String> = fields
        .into_iter()
        .map(|(k, v)| format!("\t\"{k}\": {}", v.replace('\n', "\n\t")))
        .collect();
    format!("{{\n{}\n}}", body.join(",\n"))
}

fn arr(items: Vec<String>) -> String {
    let body: Vec<String> = items
        .into_iter()
        .map(|v| format!("\t{}", v.replace('\n', "\n\t")))
        .collect();
    format!("[\n{}\n]", body.join(",\n"))
}

fn modver(path: &str, version: &str) -> String {
    let mut f = vec![("Path", js(path))];
    if !version.is_empty() {
        f.push(("Version", js(version)));
    }
    obj(f)
}

fn replace_json(r: &Replace) -> String {
    let new = match &r.new {
        ReplaceTarget::Local(d) => modver(d, ""),
        ReplaceTarget::Module { path, version } => modver(path, version),
    };
    obj(vec![
        (
            "Old",
            modver(&r.old_path, r.old_version.as_deref().unwrap_or("")),
        ),
        ("New", new),
    ])
}

pub(super) fn mod_json(f: &ModFile) -> String {
    let mut fields = Vec::new();
    let mut m = vec![(
        "Path",
        js(f.module.as_ref().map_or("", |m| m.path.as_str())),
    )];
    if let Some(d) = f.module.as_ref().and_then(|m| m.deprecated.as_ref()) {
        m.push(("Deprecated", js(d)));
    }
    fields.push(("Module", obj(m)));
    if let Some(g) = &f.go {
        fields.push(("Go", js(g)));
    }
    if let Some(t) = &f.toolchain {
        fields.push(("Toolchain", js(t)));
    }
    if !f.godebug.is_empty() {
        fields.push((
            "GoDebug",
            arr(f
                .godebug
                .iter()
                .map(|(k, v)| obj(vec![("Key", js(k)), ("Value", js(v))]))
                .collect()),
        ));
    }
    if !f.require.is_empty() {
        fields.push((
            "Require",
            arr(f
                .require
                .iter()
                .map(|r| {
                    let mut o = vec![("Path", js(&r.path)), ("Version", js(&r.version))];
                    if r.indirect {
                        o.push(("Indirect", "true".into()));
                    }
                    obj(o)
                })
                .collect()),
        ));
    }
    if !f.exclude.is_empty() {
        fields.push((
            "Exclude",
            arr(f
                .exclude
                .iter()
                .map(|m| modver(&m.path, &m.version))
                .collect()),
        ));
    }
    if !f.replace.is_empty() {
        fields.push(("Replace", arr(f.replace.iter().map(replace_json).collect())));
    }
    if !f.retract.is_empty() {
        fields.push((
            "Retract",
            arr(f
                .retract
                .iter()
                .map(|r| {
                    let mut o = Vec::new();
                    for (k, v) in [
                        ("Low", &r.low),
                        ("High", &r.high),
                        ("Rationale", &r.rationale),
                    ] {
                        if !v.is_empty() {
                            o.push((k, js(v)));
                        }
                    }
                    obj(o)
                })
                .collect()),
        ));
    }
    if !f.tool.is_empty() {
        fields.push((
            "Tool",
            arr(f.tool.iter().map(|t| obj(vec![("Path", js(t))])).collect()),
        ));
    }
    if !f.ignore.is_empty() {
        fields.push((
            "Ignore",
            arr(f
                .ignore
                .iter()
                .map(|t| obj(vec![("Path", js(t))]))
                .collect()),
        ));
    }
    obj(fields)
}

pub(super) fn work_json(w: &WorkFile) -> String {
    let mut fields = Vec::new();
    if let Some(g) = &w.go {
        fields.push(("Go", js(g)));
    }
    if let Some(t) = &w.toolchain {
        fields.push(("Toolchain", js(t)));
    }
    if !w.godebug.is_empty() {
        fields.push((
            "Godebug",
            arr(w
                .godebug
                .iter()
                .map(|(k, v)| obj(vec![("Key", js(k)), ("Value", js(v))]))
                .collect()),
        ));
    }
    if !w.use_.is_empty() {
        fields.push((
            "Use",
            arr(w
                .use_
                .iter()
                .map(|u| obj(vec![("DiskPath", js(&u.dir))]))
                .collect()),
        ));
    }
    if !w.replace.is_empty() {
        fields.push(("Replace", arr(w.replace.iter().map(replace_json).collect())));
    }
    obj(fields)
}

pub(super) fn go_cmd(go: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(go)
        .current_dir(dir)
        .args(args)
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOSUMDB", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOENV", "off")
        .env("GOWORK", "off")
        .env("GOCACHE", dir.join(".cache"))
        .output()
        .unwrap()
}

pub(super) fn fs_remove(d: &Path) -> std::io::Result<()> {
    std::fs::remove_dir_all(d)
}
