//! `gob list -m`: modules instead of packages, as cmd/go's modload.ListModules
//! answers without the network: the main modules, `all` (the module graph,
//! `load::modgraph`), module paths and `...` patterns; go's refusals for the
//! flags that need a module proxy or make no sense with `-m`.

use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;

use crate::gotemplate::Value;
use crate::load::files::Files;
use crate::load::modules::{DepModule, ModMode, ModSource, ModuleContext};
use crate::load::packages::{dep_module_info, main_module_info};
use crate::load::patterns::match_pattern;
use crate::load::{LoadConfig, LoadError, ModuleInfo};

use super::list::{
    write_json, JsonModule, JsonModuleError, ListError, ListOptions, ListRequest, NewlineTracker,
};
use super::list_values::{module_string, module_value, ModuleLookup};

/// One listed module, or a module path go could not resolve.
enum Listed {
    Module(ModuleInfo),
    Unknown(String),
}

/// A dependency with its directory: the replacement directory, else the
/// module cache's extracted tree when it is there (go prints no Dir otherwise).
fn dep_info(mods: &ModuleContext, d: &DepModule) -> ModuleInfo {
    let cache_dir = |p: &str, v: &str| -> PathBuf {
        crate::load::modfile::module_cache_dir(&mods.gomodcache, p, v)
            .ok()
            .filter(|d| d.is_dir())
            .unwrap_or_default()
    };
    let root = match &d.source {
        ModSource::LocalReplace { dir, .. } => dir.clone(),
        ModSource::Cache => cache_dir(&d.path, &d.version),
        ModSource::ModuleReplace { path, version } => cache_dir(path, version),
    };
    dep_module_info(mods, d, &root)
}

/// The `module` template function: go's modload.ModuleInfo for a path of the build list.
pub(super) fn lookup(cfg: &LoadConfig) -> ModuleLookup {
    let mcfg = cfg.modules.clone();
    let ctx: std::cell::OnceCell<Option<ModuleContext>> = std::cell::OnceCell::new();
    Rc::new(move |path: &str| {
        let mods = ctx.get_or_init(|| ModuleContext::new(&mcfg, &Files::new()).ok());
        let info = mods.as_ref().and_then(|mods| {
            if let Some(i) = mods.mains.iter().position(|m| m.path == path) {
                return Some(main_module_info(mods, i));
            }
            mods.deps.get(path).map(|d| dep_info(mods, d))
        });
        match info {
            Some(m) => module_value(&m),
            None => module_value(&ModuleInfo {
                path: path.to_string(),
                ..ModuleInfo::default()
            }),
        }
    })
}

const VENDOR_BYPASS: &str = "\n\t(Use -mod=mod or -mod=readonly to bypass.)";

/// `gob list -m [-json|-f] [-e] [args]`. Returns whether an error was reported.
pub(super) fn list_modules(
    cfg: &LoadConfig,
    req: &ListRequest,
    opts: &ListOptions,
    args: &[String],
    out: &mut dyn Write,
) -> Result<bool, ListError> {
    let refuse = |m: String| Err(ListError::Refused(m));
    if opts.deps {
        return refuse("gob list -deps cannot be used with -m".into());
    }
    let mods = ModuleContext::new(&cfg.modules, &Files::new()).map_err(LoadError::from)?;
    if mods.mains.is_empty() {
        // Outside a module go lists its pseudo main module for no argument,
        // and cannot match any argument.
        let Some(a) = args.first() else {
            writeln!(out, "command-line-arguments")?;
            return Ok(false);
        };
        return refuse(format!(
            "gob: cannot match \"{a}\": go.mod file not found in current directory or any parent directory; see 'go help modules'"
        ));
    }
    if mods.mode == ModMode::Vendor {
        if req.retracted {
            return refuse("gob list -retracted cannot be used when vendoring is enabled".into());
        }
        if req.versions {
            return refuse(format!(
                "gob: can't determine available versions using the vendor directory{VENDOR_BYPASS}"
            ));
        }
        if req.upgrades {
            return refuse(format!(
                "gob: can't determine available upgrades using the vendor directory{VENDOR_BYPASS}"
            ));
        }
        for a in args {
            if a == "all" {
                return refuse(format!(
                    "gob: can't compute 'all' using the vendor directory{VENDOR_BYPASS}"
                ));
            }
            if a.contains("...") {
                return refuse(format!(
                    "gob: can't match module patterns using the vendor directory{VENDOR_BYPASS}"
                ));
            }
        }
    }
    if req.upgrades || req.versions || req.retracted {
        return refuse(
            "gob: module lookup disabled: -u, -versions and -retracted ask a module proxy, and gob never uses the network"
                .into(),
        );
    }

    let mut listed: Vec<Listed> = Vec::new();
    let mut graph: Option<Vec<DepModule>> = None;
    let mut graph_of = |mods: &ModuleContext| -> Result<Vec<DepModule>, ListError> {
        if graph.is_none() {
            graph = Some(mods.module_graph(&cfg.modules).map_err(LoadError::from)?);
        }
        Ok(graph.clone().unwrap_or_default())
    };
    let mains = |listed: &mut Vec<Listed>, pat: Option<&str>| {
        for i in 0..mods.mains.len() {
            if pat.is_none_or(|p| match_pattern(p, &mods.mains[i].path)) {
                listed.push(Listed::Module(main_module_info(&mods, i)));
            }
        }
    };
    if args.is_empty() {
        mains(&mut listed, None);
    }
    for a in args {
        if a == "all" {
            mains(&mut listed, None);
            for d in graph_of(&mods)? {
                listed.push(Listed::Module(dep_info(&mods, &d)));
            }
        } else if a.contains('@') {
            return refuse(format!(
                "gob: {a}: gob list -m cannot query module versions: that asks a module proxy, and gob never uses the network"
            ));
        } else if a.contains("...") {
            let before = listed.len();
            mains(&mut listed, Some(a));
            for d in graph_of(&mods)? {
                if match_pattern(a, &d.path) {
                    listed.push(Listed::Module(dep_info(&mods, &d)));
                }
            }
            if listed.len() == before {
                eprintln!("warning: pattern \"{a}\" matched no module dependencies");
            }
        } else if let Some(i) = mods.mains.iter().position(|m| &m.path == a) {
            listed.push(Listed::Module(main_module_info(&mods, i)));
        } else if let Some(d) = mods.deps.get(a.as_str()) {
            listed.push(Listed::Module(dep_info(&mods, d)));
        } else {
            match graph_of(&mods)?.iter().find(|d| &d.path == a) {
                Some(d) => listed.push(Listed::Module(dep_info(&mods, d))),
                None => listed.push(Listed::Unknown(a.clone())),
            }
        }
    }

    let not_known = |p: &str| format!("module {p}: not a known dependency");
    if !opts.e {
        let mut failed = false;
        for l in &listed {
            if let Listed::Unknown(p) = l {
                eprintln!("gob: {}", not_known(p));
                failed = true;
            }
        }
        if failed {
            return Ok(true);
        }
    }
    let mut nl = NewlineTracker::default();
    for l in &listed {
        let (info, err) = match l {
            Listed::Module(m) => (m.clone(), None),
            Listed::Unknown(p) => (
                ModuleInfo {
                    path: p.clone(),
                    ..ModuleInfo::default()
                },
                Some(not_known(p)),
            ),
        };
        if opts.json {
            let mut j = JsonModule::from(&info);
            j.error = err.map(|err| JsonModuleError { err });
            write_json(&j, out)?;
        } else if let Some(t) = &opts.format {
            let v: Value = module_value(&info);
            nl.execute(t, &v, out)?;
        } else {
            writeln!(out, "{}", module_string(&info))?;
        }
    }
    Ok(false)
}
