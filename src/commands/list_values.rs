//! `gob list -f`: the data go list hands its template, as Go-typed values
//! (`*load.PackagePublic`, `*modinfo.ModulePublic`, `*list.Context`, fields in
//! cmd/go's declaration order), and go list's template functions (`join`,
//! `context`, `module`).
//!
//! A field go computes and gob does not (the package doc, staleness, install
//! targets, DefaultGODEBUG, cgo flags) is `NotComputed`: a template that uses it
//! fails and says so rather than printing an empty value go would not print.

use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

use crate::gotemplate::{ExecError, FuncDef, Funcs, Map, ParseError, Struct, Template, Value};
use crate::load::{ErrId, LoadConfig, ModuleInfo, PackageGraph, PkgId};

/// A `-f` template that failed, in go's words (`template: main:…`).
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// It did not parse.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// It failed on an item.
    #[error(transparent)]
    Exec(#[from] ExecError),
}

/// What go's `context` function returns: go/build's Context as cmd/go's list.Context.
pub struct ContextInfo {
    /// `$GOPATH`.
    pub gopath: String,
}

/// Module lookups for the `module` function (`go list -m`'s ModuleInfo).
pub type ModuleLookup = Rc<dyn Fn(&str) -> Value>;

/// Parses a `-f` template with go list's functions.
pub fn parse_format(
    src: &str,
    cfg: &LoadConfig,
    ctx: &ContextInfo,
    module: ModuleLookup,
) -> Result<Template, TemplateError> {
    let mut funcs = Funcs::new();
    funcs.insert(
        "join",
        FuncDef {
            params: vec!["[]string", "string"],
            variadic: false,
            body: Rc::new(|a: &[Value]| {
                let (Value::List(l), Value::Str(sep)) = (&a[0], &a[1]) else {
                    return Ok(Value::str(""));
                };
                let parts: Vec<&str> = l
                    .items
                    .iter()
                    .map(|v| match v {
                        Value::Str(s) => &**s,
                        _ => "",
                    })
                    .collect();
                Ok(Value::str(parts.join(sep)))
            }),
        },
    );
    let context = context_value(cfg, ctx);
    funcs.insert(
        "context",
        FuncDef {
            params: Vec::new(),
            variadic: false,
            body: Rc::new(move |_| Ok(context.clone())),
        },
    );
    funcs.insert(
        "module",
        FuncDef {
            params: vec!["string"],
            variadic: false,
            body: Rc::new(move |a: &[Value]| match &a[0] {
                Value::Str(p) => Ok(module(p)),
                _ => Ok(Value::NilPtr(MODULE, MODULE_FIELDS)),
            }),
        },
    );
    Ok(Template::parse("main", src, funcs)?)
}

const MODULE: &str = "*modinfo.ModulePublic";
const MODULE_FIELDS: &[&str] = &[
    "Path",
    "Version",
    "Query",
    "Versions",
    "Replace",
    "Time",
    "Update",
    "Main",
    "Indirect",
    "Dir",
    "GoMod",
    "GoVersion",
    "Retracted",
    "Deprecated",
    "Error",
    "Sum",
    "GoModSum",
    "Origin",
    "Reuse",
];

fn context_value(cfg: &LoadConfig, ctx: &ContextInfo) -> Value {
    let t = &cfg.target;
    let tool_tags = crate::load::gobuild::BuildContext::new(t)
        .map(|c| c.tool_tags().to_vec())
        .unwrap_or_default();
    let release: Vec<String> = (1..=t.go_minor).map(|i| format!("go1.{i}")).collect();
    Value::ptr(Struct {
        ty: "*list.Context",
        fields: vec![
            ("GOARCH", Value::str(t.goarch.as_str())),
            ("GOOS", Value::str(t.goos.as_str())),
            ("GOROOT", path(&cfg.toolchain.goroot)),
            ("GOPATH", Value::str(ctx.gopath.as_str())),
            ("CgoEnabled", Value::Bool(t.cgo_enabled)),
            ("UseAllFiles", Value::Bool(false)),
            ("Compiler", Value::str("gc")),
            ("BuildTags", Value::strings(&t.build_tags)),
            ("ToolTags", Value::strings(&tool_tags)),
            ("ReleaseTags", Value::strings(&release)),
            ("InstallSuffix", Value::str("")),
        ],
        methods: Vec::new(),
        text: None,
    })
}

fn path(p: &Path) -> Value {
    Value::str(p.to_string_lossy().as_ref())
}

fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Map(Rc::new(Map {
        ty: "map[string]string",
        entries: m
            .iter()
            .map(|(k, v)| (k.clone(), Value::str(v.as_str())))
            .collect(),
        zero: Value::str(""),
    }))
}

/// go's `time.Time.String()` of an RFC 3339 UTC time from a `.info` file.
fn time_string(rfc3339: &str) -> String {
    let t = rfc3339.trim_end_matches('Z');
    match t.split_once('T') {
        Some((d, clock)) => {
            let clock = match clock.split_once('.') {
                Some((hms, frac)) => {
                    let frac = frac.trim_end_matches('0');
                    if frac.is_empty() {
                        hms.to_string()
                    } else {
                        format!("{hms}.{frac}")
                    }
                }
                None => clock.to_string(),
            };
            format!("{d} {clock} +0000 UTC")
        }
        None => rfc3339.to_string(),
    }
}

/// A module as `*modinfo.ModulePublic` (String method as go's: `path version => replacement`).
pub fn module_value(m: &ModuleInfo) -> Value {
    let replace = match &m.replace {
        Some(r) => module_value(r),
        None => Value::NilPtr(MODULE, MODULE_FIELDS),
    };
    let time = match &m.time {
        Some(t) => Value::ptr(Struct {
            ty: "*time.Time",
            fields: Vec::new(),
            methods: vec![("String", Value::str(time_string(t)))],
            text: Some(time_string(t)),
        }),
        None => Value::NilPtr("*time.Time", &[]),
    };
    let text = module_string(m);
    let dir = if m.vendored {
        String::new()
    } else {
        m.dir.to_string_lossy().into_owned()
    };
    Value::ptr(Struct {
        ty: MODULE,
        fields: vec![
            ("Path", Value::str(m.path.as_str())),
            ("Version", Value::str(m.version.as_str())),
            ("Query", Value::str("")),
            ("Versions", Value::strings::<&str>(&[])),
            ("Replace", replace),
            ("Time", time),
            ("Update", Value::NilPtr(MODULE, MODULE_FIELDS)),
            ("Main", Value::Bool(m.main)),
            ("Indirect", Value::Bool(m.indirect)),
            ("Dir", Value::str(dir)),
            (
                "GoMod",
                Value::str(
                    m.gomod
                        .as_deref()
                        .map(|p| p.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                ),
            ),
            (
                "GoVersion",
                Value::str(m.go_version.clone().unwrap_or_default()),
            ),
            ("Retracted", Value::strings::<&str>(&[])),
            ("Deprecated", Value::str("")),
            ("Error", Value::NilPtr("*modinfo.ModuleError", &["Err"])),
            ("Sum", Value::str(m.sum.clone().unwrap_or_default())),
            (
                "GoModSum",
                Value::str(m.gomod_sum.clone().unwrap_or_default()),
            ),
            (
                "Origin",
                Value::NilPtr(
                    "*codehost.Origin",
                    &[
                        "VCS",
                        "URL",
                        "Subdir",
                        "Hash",
                        "TagPrefix",
                        "TagSum",
                        "Ref",
                        "RepoSum",
                    ],
                ),
            ),
            ("Reuse", Value::Bool(false)),
        ],
        methods: vec![("String", Value::str(text.as_str()))],
        text: Some(text),
    })
}

/// modinfo.ModulePublic.String: `path version => path version`.
pub fn module_string(m: &ModuleInfo) -> String {
    let mut s = m.path.clone();
    if !m.version.is_empty() {
        s.push(' ');
        s.push_str(&m.version);
    }
    if let Some(r) = &m.replace {
        s.push_str(" => ");
        s.push_str(&r.path);
        if !r.version.is_empty() {
            s.push(' ');
            s.push_str(&r.version);
        }
    }
    s
}

fn error_value(g: &PackageGraph, e: ErrId) -> Value {
    let e = &g.errors[e.0 as usize];
    let text = e.to_string();
    let stack: Vec<Value> = e
        .import_stack
        .iter()
        .map(|p| {
            Value::ptr(Struct {
                ty: "load.ImportInfo",
                fields: vec![
                    ("Pkg", Value::str(p.as_str())),
                    (
                        "Pos",
                        Value::NilPtr("*token.Position", &["Filename", "Offset", "Line", "Column"]),
                    ),
                ],
                methods: Vec::new(),
                text: None,
            })
        })
        .collect();
    let err = Value::ptr(Struct {
        ty: "error",
        fields: Vec::new(),
        methods: vec![("Error", Value::str(e.err.as_str()))],
        text: Some(e.err.clone()),
    });
    Value::ptr(Struct {
        ty: "*load.PackageError",
        fields: vec![
            ("ImportStack", Value::list("load.ImportStack", stack)),
            ("Pos", Value::str(e.pos.as_str())),
            ("Err", err),
            ("IsImportCycle", Value::Bool(e.is_import_cycle)),
        ],
        methods: vec![("Error", Value::str(text.as_str()))],
        text: Some(text),
    })
}

/// Why a field is missing from gob's package data.
const NO_DOC: &str = "gob list does not compute .Doc (the package comment); use go doc";
const NO_STALE: &str =
    "gob list does not compute .Stale or .StaleReason (go answers from its own build cache)";
const NO_TARGET: &str = "gob list does not compute .Target for a main package; see gob install";
const NO_GODEBUG: &str = "gob list does not compute .DefaultGODEBUG (gob plans it into the link)";
const NO_TEST_EMBED: &str =
    "gob list does not compute .TestEmbedFiles or .XTestEmbedFiles (gob test is not there yet)";
const NO_IMPORT_COMMENT: &str = "gob list does not compute .ImportComment";

/// One package as go list's template sees it: `*load.PackagePublic`.
pub fn package_value(g: &PackageGraph, id: PkgId) -> Value {
    let p = g.pkg(id);
    let f = &p.files;
    let s = |v: &str| Value::str(v);
    let l = Value::strings::<String>;
    let mut import_map = BTreeMap::new();
    for (raw, res) in p.raw_imports.iter().zip(&p.imports) {
        if raw != res {
            import_map.insert(raw.clone(), res.clone());
        }
    }
    let main = p.name == "main";
    let root = if p.cmdline_files || p.module.as_ref().is_some_and(|m| m.vendored) {
        String::new()
    } else {
        p.root.to_string_lossy().into_owned()
    };
    let fields: Vec<(&'static str, Value)> = vec![
        ("Dir", path(&p.dir)),
        ("ImportPath", s(&p.import_path)),
        ("ImportComment", Value::NotComputed(NO_IMPORT_COMMENT)),
        ("Name", s(&p.name)),
        ("Doc", Value::NotComputed(NO_DOC)),
        (
            "Target",
            if main {
                Value::NotComputed(NO_TARGET)
            } else {
                s("")
            },
        ),
        ("Shlib", s("")),
        ("Root", Value::str(root)),
        ("ConflictDir", s("")),
        ("ForTest", s("")),
        ("Export", s("")),
        ("BuildID", s("")),
        (
            "Module",
            p.module
                .as_ref()
                .map_or(Value::NilPtr(MODULE, MODULE_FIELDS), module_value),
        ),
        ("Match", l(&p.matched)),
        ("Goroot", Value::Bool(p.goroot)),
        ("Standard", Value::Bool(p.standard)),
        ("DepOnly", Value::Bool(!p.cmdline)),
        ("BinaryOnly", Value::Bool(false)),
        ("Incomplete", Value::Bool(p.incomplete)),
        (
            "DefaultGODEBUG",
            if main {
                Value::NotComputed(NO_GODEBUG)
            } else {
                s("")
            },
        ),
        ("Stale", Value::NotComputed(NO_STALE)),
        ("StaleReason", Value::NotComputed(NO_STALE)),
        ("GoFiles", l(&f.go_files)),
        ("CgoFiles", l(&f.cgo_files)),
        ("CompiledGoFiles", l(&[])),
        ("IgnoredGoFiles", l(&f.ignored_go_files)),
        ("InvalidGoFiles", l(&f.invalid_go_files)),
        ("IgnoredOtherFiles", l(&f.ignored_other_files)),
        ("CFiles", l(&f.c_files)),
        ("CXXFiles", l(&f.cxx_files)),
        ("MFiles", l(&f.m_files)),
        ("HFiles", l(&f.h_files)),
        ("FFiles", l(&f.f_files)),
        ("SFiles", l(&f.s_files)),
        ("SwigFiles", l(&f.swig_files)),
        ("SwigCXXFiles", l(&f.swig_cxx_files)),
        ("SysoFiles", l(&f.syso_files)),
        ("EmbedPatterns", l(&f.embed_patterns)),
        ("EmbedFiles", l(&p.embed_files)),
        ("CgoCFLAGS", l(&f.cgo.cflags)),
        ("CgoCPPFLAGS", l(&f.cgo.cppflags)),
        ("CgoCXXFLAGS", l(&f.cgo.cxxflags)),
        ("CgoFFLAGS", l(&f.cgo.fflags)),
        ("CgoLDFLAGS", l(&f.cgo.ldflags)),
        ("CgoPkgConfig", l(&f.cgo.pkg_config)),
        ("Imports", l(&p.imports)),
        ("ImportMap", string_map(&import_map)),
        ("Deps", l(&p.deps)),
        (
            "Error",
            p.error.map_or(
                Value::NilPtr(
                    "*load.PackageError",
                    &["ImportStack", "Pos", "Err", "IsImportCycle"],
                ),
                |e| error_value(g, e),
            ),
        ),
        (
            "DepsErrors",
            Value::list(
                "[]*load.PackageError",
                p.deps_errors.iter().map(|&e| error_value(g, e)).collect(),
            ),
        ),
        ("TestGoFiles", l(&f.test_go_files)),
        ("TestImports", l(&p.test_imports)),
        ("TestEmbedPatterns", l(&f.test_embed_patterns)),
        ("TestEmbedFiles", Value::NotComputed(NO_TEST_EMBED)),
        ("XTestGoFiles", l(&f.xtest_go_files)),
        ("XTestImports", l(&p.xtest_imports)),
        ("XTestEmbedPatterns", l(&f.xtest_embed_patterns)),
        ("XTestEmbedFiles", Value::NotComputed(NO_TEST_EMBED)),
    ];
    Value::ptr(Struct {
        ty: "*load.PackagePublic",
        fields,
        methods: Vec::new(),
        text: None,
    })
}
