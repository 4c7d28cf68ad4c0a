//! The edge where the environment is read: `GOOS`, `GOMODCACHE`, … and the
//! flags (with `$GOFLAGS`'s, applied by [`crate::cli`]) become an explicit [`LoadConfig`]. Nothing below this module reads the environment.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::load::gobuild::TargetConfig;
use crate::load::modules::{ModMode, ModuleConfig};
use crate::load::LoadConfig;
use crate::toolchain::{Toolchain, ToolchainError};

/// Errors in the environment or flags, each naming the variable or flag at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The toolchain could not be found.
    #[error(transparent)]
    Toolchain(#[from] ToolchainError),
    /// A variable or flag has a bad value.
    #[error("{name}={value:?}: {why}")]
    Bad {
        /// Variable or flag name.
        name: String,
        /// Its value.
        value: String,
        /// What is wrong and what would work.
        why: String,
    },
    /// The working directory cannot be determined.
    #[error("cannot determine the current directory: {0}")]
    Cwd(std::io::Error),
}

/// A snapshot of the process environment, taken once at startup.
#[derive(Clone, Debug, Default)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl Env {
    /// Captures the process environment.
    pub fn capture() -> Env {
        Env {
            vars: std::env::vars().collect(),
        }
    }

    /// Builds an environment from pairs (tests).
    pub fn from_pairs<I: IntoIterator<Item = (String, String)>>(it: I) -> Env {
        Env {
            vars: it.into_iter().collect(),
        }
    }

    /// A variable's value; empty values count as unset, as in cmd/go.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.vars
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Flags shared by `list` and `build` that shape loading.
#[derive(Clone, Debug, Default)]
pub struct LoadFlags {
    /// `--goroot`.
    pub goroot: Option<PathBuf>,
    /// `-tags`, comma- or space-separated as in cmd/go.
    pub tags: Option<String>,
    /// `-mod`.
    pub mod_mode: Option<String>,
    /// `-pgo`.
    pub pgo: Option<String>,
    /// `-C dir`.
    pub chdir: Option<PathBuf>,
}

/// Splits a `-tags` value the way cmd/go does (commas, or spaces for the old form).
pub fn split_tags(v: &str) -> Vec<String> {
    let sep = if v.contains(',') { ',' } else { ' ' };
    v.split(sep)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Resolves the configuration for one command.
pub fn load_config(env: &Env, flags: &LoadFlags) -> Result<LoadConfig, ConfigError> {
    let toolchain = Toolchain::discover(flags.goroot.as_deref(), env.get("GOROOT"))?;
    let goos = env.get("GOOS").unwrap_or(&toolchain.host_goos).to_string();
    let goarch = env
        .get("GOARCH")
        .unwrap_or(&toolchain.host_goarch)
        .to_string();
    let cgo = env.get("CGO_ENABLED").unwrap_or("0");
    match cgo {
        "0" => {}
        "1" => {
            return Err(ConfigError::Bad {
                name: "CGO_ENABLED".into(),
                value: cgo.into(),
                why: "gob does not build cgo yet; set CGO_ENABLED=0 (packages that need cgo are reported as errors)".into(),
            })
        }
        _ => {
            return Err(ConfigError::Bad {
                name: "CGO_ENABLED".into(),
                value: cgo.into(),
                why: "must be 0 or 1".into(),
            })
        }
    }
    let tags = flags.tags.as_deref().map(split_tags).unwrap_or_default();
    let mod_s = flags.mod_mode.clone();
    let mod_flag = match mod_s {
        None => None,
        Some(s) => Some(ModMode::parse(&s).ok_or_else(|| ConfigError::Bad {
            name: "-mod".into(),
            value: s.clone(),
            why: "must be one of readonly, vendor, mod".into(),
        })?),
    };
    let pgo = flags.pgo.clone().unwrap_or_else(|| "auto".into());
    let pgo_auto = match pgo.as_str() {
        "auto" => true,
        "off" => false,
        other => {
            return Err(ConfigError::Bad {
                name: "-pgo".into(),
                value: other.into(),
                why: "gob supports -pgo=auto and -pgo=off".into(),
            })
        }
    };
    let mut cwd = std::env::current_dir().map_err(ConfigError::Cwd)?;
    if let Some(c) = &flags.chdir {
        cwd = cwd.join(c);
        if !cwd.is_dir() {
            return Err(ConfigError::Bad {
                name: "-C".into(),
                value: c.display().to_string(),
                why: "not a directory".into(),
            });
        }
    }
    let gomodcache = match env.get("GOMODCACHE") {
        Some(p) => PathBuf::from(p),
        None => {
            let gopath = match env.get("GOPATH") {
                Some(p) => PathBuf::from(p.split(':').next().unwrap_or(p)),
                None => Path::new(env.get("HOME").unwrap_or("/")).join("go"),
            };
            gopath.join("pkg").join("mod")
        }
    };
    let minor = toolchain.version.minor;
    Ok(LoadConfig {
        target: TargetConfig {
            goos,
            goarch,
            cgo_enabled: false,
            build_tags: tags,
            go_minor: minor,
            goexperiment: env.get("GOEXPERIMENT").unwrap_or("").to_string(),
            goamd64: env.get("GOAMD64").map(String::from),
            goarm64: env.get("GOARM64").map(String::from),
            goarm: env.get("GOARM").map(String::from),
            go386: env.get("GO386").map(String::from),
            gomips: env.get("GOMIPS").map(String::from),
            gomips64: env.get("GOMIPS64").map(String::from),
            goppc64: env.get("GOPPC64").map(String::from),
            goriscv64: env.get("GORISCV64").map(String::from),
            gowasm: env.get("GOWASM").map(String::from),
            cc: env.get("CC").map(String::from),
            arch_defaults: toolchain.arch_defaults.clone(),
        },
        modules: ModuleConfig {
            cwd,
            mod_flag,
            gomodcache,
            gowork: env.get("GOWORK").map(String::from),
            goroot_src: toolchain.src_dir(),
            go_version: toolchain
                .version_string
                .strip_prefix("go")
                .unwrap_or(&toolchain.version_string)
                .to_string(),
        },
        pgo_auto,
        toolchain,
    })
}

/// The build cache directory: `$GOBCACHE`, else `$XDG_CACHE_HOME/gob`, else `$HOME/.cache/gob`.
pub fn cache_dir(env: &Env) -> Result<PathBuf, crate::cache::CacheError> {
    crate::cache::Cache::default_dir(|k| env.get(k))
}

/// The build cache's size cap: `$GOBCACHE_MAX` (bytes, or with a K/M/G/T
/// suffix); unset, empty or 0 for none (entries are still trimmed by age).
pub fn cache_max(env: &Env) -> Result<Option<u64>, ConfigError> {
    let v = env.get("GOBCACHE_MAX").unwrap_or("");
    crate::cache::parse_size(v).ok_or_else(|| ConfigError::Bad {
        name: "GOBCACHE_MAX".into(),
        value: v.to_string(),
        why: "want a size in bytes, or a number with a K, M, G or T suffix (0: no cap)".into(),
    })
}

/// `gob env`: the variables gob uses, resolved.
pub fn env_vars(env: &Env, cfg: &LoadConfig) -> Result<Vec<(String, String)>, ConfigError> {
    let t = &cfg.target;
    let mut v = vec![
        ("CGO_ENABLED".to_string(), "0".to_string()),
        ("GOARCH".into(), t.goarch.clone()),
        (
            "GOBCACHE".into(),
            cache_dir(env)
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
        ("GOEXPERIMENT".into(), t.goexperiment.clone()),
        (
            "GOFLAGS".into(),
            env.get("GOFLAGS").unwrap_or("").to_string(),
        ),
        ("GOHOSTARCH".into(), cfg.toolchain.host_goarch.clone()),
        ("GOHOSTOS".into(), cfg.toolchain.host_goos.clone()),
        (
            "GOMODCACHE".into(),
            cfg.modules.gomodcache.display().to_string(),
        ),
        ("GOOS".into(), t.goos.clone()),
        ("GOROOT".into(), cfg.toolchain.goroot.display().to_string()),
        (
            "GOTOOLDIR".into(),
            cfg.toolchain.tool_dir().display().to_string(),
        ),
        ("GOVERSION".into(), cfg.toolchain.version_string.clone()),
        (
            "GOWORK".into(),
            cfg.modules.gowork.clone().unwrap_or_default(),
        ),
    ];
    if let Some((k, val)) = t.arch_env() {
        v.push((k.to_string(), val));
    }
    v.sort();
    Ok(v)
}
