//! `gob list` output: the `go list -json` schema, field names and order as cmd/go prints them.
//!
//! This is an output schema of its own, filled from the package graph; internal
//! types are never serialized directly.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use crate::gotemplate::{Template, Value};
use crate::load::{LoadConfig, PackageGraph, PkgId};

use super::list_values::{package_value, TemplateError};

/// `go list -json`'s Module object (cmd/go's modinfo.ModulePublic, in its field
/// order; the fields of `go list -m -u`, -retracted and -reuse are not printed for packages).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct JsonModule {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(super) path: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    replace: Option<Box<JsonModule>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    main: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    indirect: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    dir: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    go_mod: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    go_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sum: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    go_mod_sum: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) error: Option<JsonModuleError>,
}

/// modinfo.ModuleError.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct JsonModuleError {
    pub(super) err: String,
}

impl JsonModule {
    pub(super) fn from(m: &crate::load::ModuleInfo) -> JsonModule {
        let path_str = |p: &std::path::Path| p.to_string_lossy().into_owned();
        JsonModule {
            path: m.path.clone(),
            version: m.version.clone(),
            replace: m.replace.as_deref().map(|r| Box::new(JsonModule::from(r))),
            time: m.time.clone(),
            main: m.main,
            indirect: m.indirect,
            // go reports no directory for a vendored module: vendor/ is a flattened
            // package tree, not the module.
            dir: if m.vendored {
                String::new()
            } else {
                path_str(&m.dir)
            },
            go_mod: m.gomod.as_deref().map(path_str).unwrap_or_default(),
            go_version: m.go_version.clone().unwrap_or_default(),
            sum: m.sum.clone(),
            go_mod_sum: m.gomod_sum.clone(),
            error: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct JsonError {
    import_stack: Vec<String>,
    pos: String,
    err: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One package as `go list -json` prints it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct JsonPackage {
    #[serde(skip_serializing_if = "String::is_empty")]
    dir: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    import_path: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    root: String,
    #[serde(skip_serializing_if = "is_false")]
    goroot: bool,
    #[serde(skip_serializing_if = "is_false")]
    standard: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    module: Option<JsonModule>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[serde(rename = "Match")]
    matched: Vec<String>,
    #[serde(skip_serializing_if = "is_false")]
    dep_only: bool,
    // go's PackagePublic packs Incomplete with the flags above, not with the errors.
    #[serde(skip_serializing_if = "is_false")]
    incomplete: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    go_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cgo_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ignored_go_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    invalid_go_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ignored_other_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[serde(rename = "CFiles")]
    c_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[serde(rename = "CXXFiles")]
    cxx_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[serde(rename = "MFiles")]
    m_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    h_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[serde(rename = "FFiles")]
    f_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[serde(rename = "SFiles")]
    s_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    swig_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[serde(rename = "SwigCXXFiles")]
    swig_cxx_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    syso_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    embed_patterns: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    embed_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[serde(rename = "CgoCFLAGS")]
    cgo_cflags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[serde(rename = "CgoCPPFLAGS")]
    cgo_cppflags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[serde(rename = "CgoCXXFLAGS")]
    cgo_cxxflags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[serde(rename = "CgoFFLAGS")]
    cgo_fflags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[serde(rename = "CgoLDFLAGS")]
    cgo_ldflags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[serde(rename = "CgoPkgConfig")]
    cgo_pkg_config: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    imports: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    import_map: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    deps: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<JsonError>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    deps_errors: Vec<JsonError>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    test_go_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    test_imports: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    test_embed_patterns: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    x_test_go_files: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    x_test_imports: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    x_test_embed_patterns: Vec<String>,
}

/// What `gob list` prints.
#[derive(Clone, Default)]
pub struct ListOptions {
    /// `-f`: the parsed template each package (or module) is printed with.
    pub format: Option<std::rc::Rc<Template>>,
    /// `-deps`: every dependency too, in post-order.
    pub deps: bool,
    /// `-json`: JSON objects instead of import paths.
    pub json: bool,
    /// `-e`: report erroneous packages in the listing instead of failing.
    pub e: bool,
}

/// Errors that stop `gob list`.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// Loading failed as a whole.
    #[error(transparent)]
    Load(#[from] crate::load::LoadError),
    /// The listing could not be written.
    #[error(transparent)]
    Write(#[from] std::io::Error),
    /// `-f`: the template failed on a package (go stops there, exit 1).
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// A flag combination or request go list refuses, in its words (exit 1).
    #[error("{0}")]
    Refused(String),
}

/// What the command line asks of `gob list` beyond [`ListOptions`].
#[derive(Clone, Debug, Default)]
pub struct ListRequest {
    /// `-f TEMPLATE`.
    pub format: Option<String>,
    /// `-m`: modules instead of packages.
    pub modules: bool,
    /// `-u`, `-versions`, `-retracted`: questions only a module proxy answers.
    pub upgrades: bool,
    /// `-versions`.
    pub versions: bool,
    /// `-retracted`.
    pub retracted: bool,
    /// `$GOPATH`, for the template's `context`.
    pub gopath: String,
}

/// `gob list` as go list runs it: go's refusals, the `-f` template parsed
/// before anything is loaded, then packages or (`-m`) modules.
pub fn run(
    cfg: &LoadConfig,
    req: &ListRequest,
    mut opts: ListOptions,
    patterns: &[String],
    out: &mut dyn Write,
) -> Result<bool, ListError> {
    if req.format.is_some() && opts.json {
        return Err(ListError::Refused(
            "gob list -f cannot be used with -json".into(),
        ));
    }
    if let Some(src) = &req.format {
        let t = super::list_values::parse_format(
            src,
            cfg,
            &super::list_values::ContextInfo {
                gopath: req.gopath.clone(),
            },
            super::list_modules::lookup(cfg),
        )?;
        opts.format = Some(std::rc::Rc::new(t));
    }
    if req.modules {
        return super::list_modules::list_modules(cfg, req, &opts, patterns, out);
    }
    if req.upgrades {
        return Err(ListError::Refused(
            "gob list -u can only be used with -m".into(),
        ));
    }
    if req.versions {
        return Err(ListError::Refused(
            "gob list -versions can only be used with -m".into(),
        ));
    }
    list(cfg, patterns, opts, out)
}

/// `gob list`: loads `patterns` and writes the listing to `out`. Returns
/// whether an error was reported on stderr (exit status 1).
///
/// As go list without `-e`: an error on a named package is fatal before
/// anything is listed; with `-deps` (or several roots under `-pgo=auto`, which
/// expands the graph too) every error in the graph is reported, and the
/// listing still printed.
pub fn list(
    cfg: &LoadConfig,
    patterns: &[String],
    opts: ListOptions,
    out: &mut dyn Write,
) -> Result<bool, ListError> {
    let graph = crate::load::load(cfg, patterns)?;
    let mut failed = false;
    if !opts.e {
        for &id in &graph.roots {
            if let Some(e) = graph.pkg(id).error {
                eprintln!("{}", graph.errors[e.0 as usize]);
                failed = true;
            }
        }
        if failed {
            return Ok(true);
        }
        if opts.deps || (cfg.pgo == crate::load::Pgo::Auto && graph.roots.len() > 1) {
            for id in graph.post_order(&graph.roots) {
                if let Some(e) = graph.pkg(id).error {
                    eprintln!("{}", graph.errors[e.0 as usize]);
                    failed = true;
                }
            }
        }
    }
    let r = write_list(&graph, &opts, out);
    out.flush()?;
    r?;
    Ok(failed)
}

/// The packages to print, in cmd/go's order.
pub fn listed(g: &PackageGraph, opts: &ListOptions) -> Vec<PkgId> {
    if opts.deps {
        g.post_order(&g.roots)
    } else {
        g.roots.clone()
    }
}

fn json_error(g: &PackageGraph, e: crate::load::ErrId) -> JsonError {
    let e = &g.errors[e.0 as usize];
    JsonError {
        import_stack: e.import_stack.clone(),
        pos: e.pos.clone(),
        err: e.err.clone(),
    }
}

fn to_json(g: &PackageGraph, id: PkgId) -> JsonPackage {
    let p = g.pkg(id);
    let f = &p.files;
    let mut import_map = BTreeMap::new();
    for (raw, res) in p.raw_imports.iter().zip(&p.imports) {
        if raw != res {
            import_map.insert(raw.clone(), res.clone());
        }
    }
    let path_str = |p: &std::path::Path| p.to_string_lossy().into_owned();
    JsonPackage {
        dir: path_str(&p.dir),
        import_path: p.import_path.clone(),
        name: p.name.clone(),
        // go's Root is the module's directory, which a vendored module and
        // named files (in no module) lack.
        root: if p.cmdline_files || p.module.as_ref().is_some_and(|m| m.vendored) {
            String::new()
        } else {
            path_str(&p.root)
        },
        goroot: p.goroot,
        standard: p.standard,
        module: p.module.as_ref().map(JsonModule::from),
        matched: p.matched.clone(),
        dep_only: !p.cmdline,
        go_files: f.go_files.clone(),
        cgo_files: f.cgo_files.clone(),
        ignored_go_files: f.ignored_go_files.clone(),
        invalid_go_files: f.invalid_go_files.clone(),
        ignored_other_files: f.ignored_other_files.clone(),
        c_files: f.c_files.clone(),
        cxx_files: f.cxx_files.clone(),
        m_files: f.m_files.clone(),
        h_files: f.h_files.clone(),
        f_files: f.f_files.clone(),
        s_files: f.s_files.clone(),
        swig_files: f.swig_files.clone(),
        swig_cxx_files: f.swig_cxx_files.clone(),
        syso_files: f.syso_files.clone(),
        embed_patterns: f.embed_patterns.clone(),
        embed_files: p.embed_files.clone(),
        cgo_cflags: f.cgo.cflags.clone(),
        cgo_cppflags: f.cgo.cppflags.clone(),
        cgo_cxxflags: f.cgo.cxxflags.clone(),
        cgo_fflags: f.cgo.fflags.clone(),
        cgo_ldflags: f.cgo.ldflags.clone(),
        cgo_pkg_config: f.cgo.pkg_config.clone(),
        imports: p.imports.clone(),
        import_map,
        deps: p.deps.clone(),
        incomplete: p.incomplete,
        error: p.error.map(|e| json_error(g, e)),
        deps_errors: p.deps_errors.iter().map(|&e| json_error(g, e)).collect(),
        test_go_files: f.test_go_files.clone(),
        test_imports: p.test_imports.clone(),
        test_embed_patterns: f.test_embed_patterns.clone(),
        x_test_go_files: f.xtest_go_files.clone(),
        x_test_imports: p.xtest_imports.clone(),
        x_test_embed_patterns: f.xtest_embed_patterns.clone(),
    }
}

/// Writes the listing; returns whether any listed package has an error.
pub fn write_list(
    g: &PackageGraph,
    opts: &ListOptions,
    out: &mut dyn Write,
) -> Result<bool, ListError> {
    let mut any_err = false;
    let mut nl = NewlineTracker::default();
    for id in listed(g, opts) {
        let p = g.pkg(id);
        any_err |= p.error.is_some();
        if opts.json {
            write_json(&to_json(g, id), out)?;
        } else if let Some(t) = &opts.format {
            let v = package_value(g, id);
            nl.execute(t, &v, out)?;
        } else if !p.import_path.is_empty() {
            // go ends a line only when its template printed something.
            writeln!(out, "{}", p.import_path)?;
        }
    }
    Ok(any_err)
}

/// One value as go's `json.MarshalIndent(x, "", "\t")` and a newline.
pub(super) fn write_json(v: &impl Serialize, out: &mut dyn Write) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    v.serialize(&mut ser).map_err(std::io::Error::other)?;
    buf.push(b'\n');
    out.write_all(&buf)
}

/// go list's TrackingWriter: after each item a newline only when the last
/// byte written so far is not one (nothing printed yet counts as a newline).
#[derive(Default)]
pub(super) struct NewlineTracker {
    need_nl: bool,
}

impl NewlineTracker {
    /// Runs the template on one item and writes what it printed; on an error,
    /// what was printed before it is written too, as go flushes it.
    pub(super) fn execute(
        &mut self,
        t: &Template,
        v: &Value,
        out: &mut dyn Write,
    ) -> Result<(), ListError> {
        let mut s = String::new();
        let r = t.execute(v, &mut s);
        out.write_all(s.as_bytes())?;
        if let Some(&last) = s.as_bytes().last() {
            self.need_nl = last != b'\n';
        }
        r.map_err(TemplateError::Exec)?;
        if self.need_nl {
            out.write_all(b"\n")?;
            self.need_nl = false;
        }
        Ok(())
    }
}
