//! The edge where the environment is read: `GOOS`, `GOMODCACHE`, … and the
//! flags (with `$GOFLAGS`'s, applied by [`crate::cli`]) become an explicit [`LoadConfig`]. Nothing below this module reads the environment.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::load::buildmode::{check_instrument, InstrumentError};
use crate::load::gobuild::TargetConfig;
use crate::load::modules::{ModMode, ModuleConfig};
use crate::load::{BuildMode, BuildModeError, BuildModeFlags, LoadConfig, Pgo};
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
    /// `-buildmode`, `-installsuffix` or `-linkshared` refused as cmd/go
    /// refuses them (printed unprefixed, exit status 1).
    #[error(transparent)]
    BuildMode(#[from] BuildModeError),
    /// `-race`, `-msan` or `-asan` refused as cmd/go refuses them (exit status 2).
    #[error(transparent)]
    Instrument(#[from] InstrumentError),
    /// The working directory cannot be determined.
    #[error("cannot determine the current directory: {0}")]
    Cwd(std::io::Error),
    /// `-overlay`'s file cannot be read or is not a valid overlay (cmd/go's
    /// words: `reading overlay: …`, `parsing overlay JSON: …`, …).
    #[error("{0}")]
    Overlay(String),
}

/// A snapshot of the process environment, taken once at startup, with the
/// user's go/env file (what `go env -w` writes) beneath it, as cmd/go reads
/// its configuration: a non-empty process variable wins, then the file.
#[derive(Clone, Debug, Default)]
pub struct Env {
    vars: HashMap<String, String>,
    /// The go/env file's settings (cmd/go's configuration keys only).
    file: HashMap<String, String>,
}

/// cmd/go's configuration keys (`internal/cfg.KnownEnv`): the variables
/// `go env` can answer by name and the go/env file can set.
pub const KNOWN_ENV: &[&str] = &[
    "AR",
    "CC",
    "CGO_CFLAGS",
    "CGO_CFLAGS_ALLOW",
    "CGO_CFLAGS_DISALLOW",
    "CGO_CPPFLAGS",
    "CGO_CPPFLAGS_ALLOW",
    "CGO_CPPFLAGS_DISALLOW",
    "CGO_CXXFLAGS",
    "CGO_CXXFLAGS_ALLOW",
    "CGO_CXXFLAGS_DISALLOW",
    "CGO_ENABLED",
    "CGO_FFLAGS",
    "CGO_FFLAGS_ALLOW",
    "CGO_FFLAGS_DISALLOW",
    "CGO_LDFLAGS",
    "CGO_LDFLAGS_ALLOW",
    "CGO_LDFLAGS_DISALLOW",
    "CXX",
    "FC",
    "GCCGO",
    "GO111MODULE",
    "GO386",
    "GOAMD64",
    "GOARCH",
    "GOARM",
    "GOARM64",
    "GOAUTH",
    "GOBIN",
    "GOCACHE",
    "GOCACHEPROG",
    "GOENV",
    "GOEXE",
    "GOEXPERIMENT",
    "GOFIPS140",
    "GOFLAGS",
    "GOGCCFLAGS",
    "GOHOSTARCH",
    "GOHOSTOS",
    "GOINSECURE",
    "GOMIPS",
    "GOMIPS64",
    "GOMODCACHE",
    "GONOPROXY",
    "GONOSUMDB",
    "GOOS",
    "GOPATH",
    "GOPPC64",
    "GOPRIVATE",
    "GOPROXY",
    "GORISCV64",
    "GOROOT",
    "GOSUMDB",
    "GOTMPDIR",
    "GOTOOLCHAIN",
    "GOTOOLDIR",
    "GOVCS",
    "GOWASM",
    "GOWORK",
    "GO_EXTLINK_ENABLED",
    "PKG_CONFIG",
];

impl Env {
    /// Captures the process environment and reads the go/env file it names.
    pub fn capture() -> Env {
        let vars: HashMap<String, String> = std::env::vars().collect();
        let file = env_file(&vars)
            .ok()
            .and_then(|p| std::fs::read(p).ok())
            .map(|b| parse_env_file(&b))
            .unwrap_or_default();
        Env { vars, file }
    }

    /// Builds an environment from pairs (tests), without a go/env file.
    pub fn from_pairs<I: IntoIterator<Item = (String, String)>>(it: I) -> Env {
        Env {
            vars: it.into_iter().collect(),
            file: HashMap::new(),
        }
    }

    /// A variable's value; empty values count as unset, as in cmd/go. A
    /// configuration key unset in the process comes from the go/env file.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.process(k).or_else(|| {
            self.file
                .get(k)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
        })
    }

    /// A variable's value from the process environment only (GODEBUG,
    /// HOME…, which the go/env file cannot set).
    pub fn process(&self, k: &str) -> Option<&str> {
        self.vars
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// `os.UserConfigDir` (Linux): `$XDG_CONFIG_HOME` if absolute, else
/// `$HOME/.config`.
fn user_dir(vars: &HashMap<String, String>, xdg: &str, home_sub: &str) -> Result<PathBuf, String> {
    match vars.get(xdg).filter(|v| !v.is_empty()) {
        Some(d) if Path::new(d).is_absolute() => Ok(PathBuf::from(d)),
        Some(_) => Err(format!("path in ${xdg} is relative")),
        None => match vars.get("HOME").filter(|v| !v.is_empty()) {
            Some(h) => Ok(Path::new(h).join(home_sub)),
            None => Err("neither $XDG_CONFIG_HOME nor $HOME are defined".into()),
        },
    }
}

/// The go/env file, as cmd/go's `cfg.EnvFile`: `$GOENV` (`off` for none),
/// else `go/env` in the user's config directory.
fn env_file(vars: &HashMap<String, String>) -> Result<PathBuf, String> {
    match vars.get("GOENV").filter(|v| !v.is_empty()) {
        Some(f) if f == "off" => Err("GOENV=off".into()),
        Some(f) => Ok(PathBuf::from(f)),
        None => Ok(user_dir(vars, "XDG_CONFIG_HOME", ".config")?.join("go/env")),
    }
}

/// `KEY=VALUE` lines, as cmd/go reads go/env files: a line without `=` or
/// not starting with A–Z is skipped; only configuration keys are kept.
fn parse_env_file(data: &[u8]) -> HashMap<String, String> {
    let mut m = HashMap::new();
    for line in data.split(|&b| b == b'\n') {
        let Some(i) = line.iter().position(|&b| b == b'=') else {
            continue;
        };
        if !line[0].is_ascii_uppercase() {
            continue;
        }
        let key = String::from_utf8_lossy(&line[..i]).into_owned();
        if KNOWN_ENV.contains(&key.as_str()) {
            m.insert(key, String::from_utf8_lossy(&line[i + 1..]).into_owned());
        }
    }
    m
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
    /// `-overlay FILE`.
    pub overlay: Option<String>,
    /// `-modfile FILE`.
    pub modfile: Option<String>,
    /// `-buildmode`, `-installsuffix`, `-linkshared` (and whether `-o` was given).
    pub build_mode: BuildModeFlags,
    /// `-cover` (also implied by `-covermode` and `-coverpkg`).
    pub cover: Option<crate::load::Cover>,
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
    // cgo is off unless asked for (issue #15 turns go's default on once
    // every cgo build is hermetic).
    let cgo_enabled = match env.get("CGO_ENABLED").unwrap_or("0") {
        "0" => false,
        "1" => true,
        other => {
            return Err(ConfigError::Bad {
                name: "CGO_ENABLED".into(),
                value: other.into(),
                why: "must be 0 or 1".into(),
            })
        }
    };
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
    // cmd/go's instrumentInit and buildModeInit run before anything is loaded.
    let host = (toolchain.host_goos.as_str(), toolchain.host_goarch.as_str());
    let not_by_gob = check_instrument(&flags.build_mode, (&goos, &goarch), host)?;
    let build_mode = BuildMode::resolve(&flags.build_mode, &goos, &goarch)?;
    if let Some(e) = not_by_gob {
        return Err(e.into());
    }
    // A profile file is made absolute against the (-C) directory, as
    // cmd/go's filepath.Abs after its chdir.
    let pgo = match flags.pgo.as_deref().unwrap_or("auto") {
        "auto" => Pgo::Auto,
        "off" => Pgo::Off,
        file => Pgo::File(crate::load::modules::clean_path(&cwd.join(file))),
    };
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
    let overlay = match flags.overlay.as_deref().filter(|o| !o.is_empty()) {
        None => None,
        Some(f) => Some(std::sync::Arc::new(read_overlay(&cwd, f)?)),
    };
    let minor = toolchain.version.minor;
    let cgo = cgo_env(env, &goos)?;
    Ok(LoadConfig {
        target: TargetConfig {
            goos,
            goarch,
            cgo_enabled,
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
            modfile: flags.modfile.clone().filter(|m| !m.is_empty()),
            goroot_src: toolchain.src_dir(),
            go_version: toolchain
                .version_string
                .strip_prefix("go")
                .unwrap_or(&toolchain.version_string)
                .to_string(),
        },
        pgo,
        cover: flags.cover.clone(),
        overlay,
        build_mode,
        cgo,
        toolchain,
    })
}

/// `$CC`, `$CXX` and the `$CGO_*FLAGS` in words, as cmd/go's `envList`
/// splits them (go's defaults when unset or empty), and `$PATH`.
fn cgo_env(env: &Env, goos: &str) -> Result<crate::cc::CgoEnv, ConfigError> {
    let words = |name: &str, default: &str| -> Result<Vec<String>, ConfigError> {
        let v = env.get(name).filter(|v| !v.is_empty()).unwrap_or(default);
        crate::plan::flags::split_quoted(v).map_err(|e| ConfigError::Bad {
            name: name.into(),
            value: v.into(),
            why: e.to_string(),
        })
    };
    let cc_default = default_cc(goos);
    let cxx_default = if cc_default == "clang" {
        "clang++"
    } else {
        "g++"
    };
    Ok(crate::cc::CgoEnv {
        cc: words("CC", cc_default)?,
        cxx: words("CXX", cxx_default)?,
        path: env.process("PATH").unwrap_or("").to_string(),
        flags: crate::cc::EnvFlags {
            cppflags: words("CGO_CPPFLAGS", "")?,
            cflags: words("CGO_CFLAGS", DEFAULT_CFLAGS)?,
            cxxflags: words("CGO_CXXFLAGS", DEFAULT_CFLAGS)?,
            ldflags: words("CGO_LDFLAGS", DEFAULT_CFLAGS)?,
        },
    })
}

/// `-overlay FILE` read and parsed as cmd/go's `fsys.Init` does (a relative
/// FILE and the paths in it are relative to the working directory, after -C).
/// FILE must be a regular file (go would wait on a FIFO forever).
fn read_overlay(cwd: &Path, file: &str) -> Result<crate::load::overlay::Overlay, ConfigError> {
    let read = |p: &Path| -> std::io::Result<Vec<u8>> {
        use std::io::Read;
        let mut js = Vec::new();
        crate::load::files::open_regular(p)?.read_to_end(&mut js)?;
        Ok(js)
    };
    let js = read(&cwd.join(file)).map_err(|e| {
        ConfigError::Overlay(format!(
            "reading overlay: open {file}: {}",
            crate::load::gobuild::scan::go_io_error(&e)
        ))
    })?;
    crate::load::overlay::Overlay::from_json(&js, cwd).map_err(ConfigError::Overlay)
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

/// Every variable `go env` prints, with the values gob uses (where gob uses
/// one; else the value go would), plus gob's own `GOBCACHE`; sorted by name.
/// cmd/go's `envcmd.MkEnv`, `ExtraEnvVars` and `ExtraEnvVarsCostly`.
pub fn env_vars(env: &Env, cfg: &LoadConfig) -> Result<Vec<(String, String)>, ConfigError> {
    let t = &cfg.target;
    let tc = &cfg.toolchain;
    // GOROOT/go.env holds defaults beneath the process and the go/env file.
    let goroot_env = std::fs::read(tc.goroot.join("go.env"))
        .map(|b| parse_env_file(&b))
        .unwrap_or_default();
    let get = |k: &str| -> String {
        env.get(k)
            .or_else(|| {
                goroot_env
                    .get(k)
                    .map(String::as_str)
                    .filter(|v| !v.is_empty())
            })
            .unwrap_or("")
            .to_string()
    };
    let or = |k: &str, def: &str| -> String {
        let v = get(k);
        if v.is_empty() {
            def.to_string()
        } else {
            v
        }
    };
    let raw: HashMap<String, String> = env.vars.clone();
    let config_dir = user_dir(&raw, "XDG_CONFIG_HOME", ".config").ok();
    let cache_home = user_dir(&raw, "XDG_CACHE_HOME", ".cache").ok();
    let telemetry_dir = config_dir.as_ref().map(|d| d.join("go").join("telemetry"));
    let telemetry = match &telemetry_dir {
        None => "off".to_string(),
        Some(d) => match std::fs::read_to_string(d.join("mode")) {
            Ok(m) => {
                let m = m.trim();
                m.split(' ').next().unwrap_or(m).to_string()
            }
            Err(_) => "local".to_string(),
        },
    };
    let gopath = {
        let v = get("GOPATH");
        if !v.is_empty() {
            v
        } else {
            match env.process("HOME") {
                Some(h) if Path::new(h).join("go") != tc.goroot => {
                    Path::new(h).join("go").display().to_string()
                }
                _ => String::new(),
            }
        }
    };
    let go111 = get("GO111MODULE");
    let modules_on = go111 != "off";
    let (gomod_path, gowork_path) = crate::load::modules::locate(&cfg.modules);
    let gowork = match cfg.modules.gowork.as_deref() {
        Some("off") => "off".to_string(),
        _ if !modules_on => String::new(),
        _ => gowork_path
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
    };
    let gomod = if !modules_on {
        String::new()
    } else if gowork_path_found(&gowork) || gomod_path.is_some() {
        gomod_path
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "go.mod".into())
    } else {
        "/dev/null".into()
    };
    let gobin = {
        let v = get("GOBIN");
        if !v.is_empty() {
            v
        } else {
            let first = gopath.split(':').next().unwrap_or("");
            if first.is_empty() {
                String::new()
            } else {
                Path::new(first).join("bin").display().to_string()
            }
        }
    };
    let gocache = {
        let v = get("GOCACHE");
        if !v.is_empty() {
            v
        } else {
            cache_home
                .map(|d| d.join("go-build").display().to_string())
                .unwrap_or_else(|| "off".into())
        }
    };
    let goprivate = get("GOPRIVATE");
    let cc = or("CC", default_cc(&t.goos));
    let cxx = or(
        "CXX",
        if default_cc(&t.goos) == "clang" {
            "clang++"
        } else {
            "g++"
        },
    );
    let gccgo = or("GCCGO", "gccgo");
    let gccgo = find_in_path(env, &gccgo).unwrap_or(gccgo);
    let quoted = |k: &str, def: &str| -> String {
        match env.get(k) {
            Some(v) => v.to_string(),
            None => def.to_string(),
        }
    };
    let mut v: Vec<(String, String)> = vec![
        ("AR".into(), or("AR", "ar")),
        ("CC".into(), cc.clone()),
        ("CGO_CFLAGS".into(), quoted("CGO_CFLAGS", DEFAULT_CFLAGS)),
        ("CGO_CPPFLAGS".into(), quoted("CGO_CPPFLAGS", "")),
        (
            "CGO_CXXFLAGS".into(),
            quoted("CGO_CXXFLAGS", DEFAULT_CFLAGS),
        ),
        // gob builds without cgo until it supports it (issue #15).
        ("CGO_ENABLED".into(), "0".into()),
        ("CGO_FFLAGS".into(), quoted("CGO_FFLAGS", DEFAULT_CFLAGS)),
        ("CGO_LDFLAGS".into(), quoted("CGO_LDFLAGS", DEFAULT_CFLAGS)),
        ("CXX".into(), cxx),
        ("GCCGO".into(), gccgo),
        ("GO111MODULE".into(), go111),
        ("GOARCH".into(), t.goarch.clone()),
        ("GOAUTH".into(), or("GOAUTH", "netrc")),
        (
            "GOBCACHE".into(),
            cache_dir(env)
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
        ("GOBIN".into(), gobin),
        ("GOCACHE".into(), gocache),
        ("GOCACHEPROG".into(), get("GOCACHEPROG")),
        (
            "GODEBUG".into(),
            env.process("GODEBUG").unwrap_or("").to_string(),
        ),
        (
            "GOENV".into(),
            env_file(&raw)
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
        (
            "GOEXE".into(),
            if t.goos == "windows" { ".exe" } else { "" }.into(),
        ),
        ("GOEXPERIMENT".into(), t.goexperiment.clone()),
        ("GOFIPS140".into(), or("GOFIPS140", "off")),
        ("GOFLAGS".into(), get("GOFLAGS")),
        ("GOGCCFLAGS".into(), gcc_flags(&cc, t)),
        ("GOHOSTARCH".into(), tc.host_goarch.clone()),
        ("GOHOSTOS".into(), tc.host_goos.clone()),
        ("GOINSECURE".into(), get("GOINSECURE")),
        ("GOMOD".into(), gomod),
        (
            "GOMODCACHE".into(),
            // What gob uses; empty, as go shows it, with neither
            // $GOMODCACHE nor a GOPATH (gob then has no module cache).
            if get("GOMODCACHE").is_empty() && gopath.is_empty() {
                String::new()
            } else {
                cfg.modules.gomodcache.display().to_string()
            },
        ),
        ("GONOPROXY".into(), or("GONOPROXY", &goprivate)),
        ("GONOSUMDB".into(), or("GONOSUMDB", &goprivate)),
        ("GOOS".into(), t.goos.clone()),
        (
            "GOPACKAGESDRIVER".into(),
            env.process("GOPACKAGESDRIVER").unwrap_or("").to_string(),
        ),
        ("GOPATH".into(), gopath),
        ("GOPRIVATE".into(), goprivate.clone()),
        ("GOPROXY".into(), get("GOPROXY")),
        ("GOROOT".into(), tc.goroot.display().to_string()),
        ("GOSUMDB".into(), get("GOSUMDB")),
        ("GOTELEMETRY".into(), telemetry),
        (
            "GOTELEMETRYDIR".into(),
            telemetry_dir
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
        ),
        ("GOTMPDIR".into(), get("GOTMPDIR")),
        ("GOTOOLCHAIN".into(), get("GOTOOLCHAIN")),
        ("GOTOOLDIR".into(), tc.tool_dir().display().to_string()),
        ("GOVCS".into(), get("GOVCS")),
        ("GOVERSION".into(), tc.version_string.clone()),
        ("GOWORK".into(), gowork),
        ("PKG_CONFIG".into(), or("PKG_CONFIG", "pkg-config")),
    ];
    if let Some((k, val)) = t.arch_env() {
        v.push((k.to_string(), val));
    }
    v.sort();
    Ok(v)
}

/// A `gob env NAME` for a name [`env_vars`] does not list: a configuration
/// key's value (the process, then the go/env file), else empty, as go does.
pub fn env_other(env: &Env, name: &str) -> String {
    if KNOWN_ENV.contains(&name) {
        env.get(name).unwrap_or("").to_string()
    } else {
        String::new()
    }
}

/// `GOWORK` names a workspace file (not `off`, not empty).
fn gowork_path_found(gowork: &str) -> bool {
    !gowork.is_empty() && gowork != "off"
}

/// cmd/go's `work.DefaultCFlags`.
const DEFAULT_CFLAGS: &str = "-O2 -g";

/// cmd/go's `cfg.DefaultCC` for the toolchain gob pins.
fn default_cc(goos: &str) -> &'static str {
    match goos {
        "darwin" | "ios" | "freebsd" | "openbsd" => "clang",
        _ => "gcc",
    }
}

/// `name` resolved through `$PATH` when it is a bare program name found
/// there (cmd/go prints GCCGO as the path it found).
fn find_in_path(env: &Env, name: &str) -> Option<String> {
    if name.contains('/') {
        return None;
    }
    env.process("PATH")?
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

/// `GOGCCFLAGS`: the flags cmd/go's `compilerCmd` gives the C compiler,
/// without running it (gob does not build cgo yet, issue #15): the flags a
/// current gcc or clang accepts, `-pthread` only with cgo (off), and the
/// work directory shown as `/tmp/go-build`, which go replaces by its own
/// random one.
fn gcc_flags(cc: &str, t: &TargetConfig) -> String {
    let mut a: Vec<&str> = Vec::new();
    if t.goos != "windows" {
        a.push("-fPIC");
    }
    let darwin = t.goos == "darwin" || t.goos == "ios";
    match t.goarch.as_str() {
        "386" => a.push("-m32"),
        "amd64" if darwin => a.extend(["-arch", "x86_64", "-m64"]),
        "amd64" => a.push("-m64"),
        "arm64" if darwin => a.extend(["-arch", "arm64"]),
        "arm" => a.push("-marm"),
        "s390x" => a.extend(["-m64", "-march=z13"]),
        "mips64" | "mips64le" => a.push("-mabi=64"),
        "mips" | "mipsle" => a.extend(["-mabi=32", "-march=mips32"]),
        "loong64" => a.extend(["-mabi=lp64d", "-mno-relax"]),
        _ => {}
    }
    if t.goos == "aix" {
        a.push("-mcmodel=large");
    }
    let base = cc.rsplit('/').next().unwrap_or(cc);
    if base.contains("clang") {
        a.extend(["-fno-caret-diagnostics", "-Qunused-arguments"]);
    }
    a.extend([
        "-Wl,--no-gc-sections",
        "-fmessage-length=0",
        "-ffile-prefix-map=/tmp/go-build=/tmp/go-build",
        "-gno-record-gcc-switches",
    ]);
    if darwin {
        a.push("-fno-common");
    }
    a.join(" ")
}
