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
    /// `CC`, `CXX` or `FC` names its program by a relative path (cmd/go's
    /// `BuildInit` words).
    #[error("{var} environment variable is relative; must be absolute path: {program}")]
    RelativeCompiler {
        /// `CC`, `CXX` or `FC`.
        var: &'static str,
        /// The program, the value's first word.
        program: String,
    },
    /// `CC`, `CXX` or `FC` cannot be split into words (cmd/go's words).
    #[error("{var} environment variable could not be parsed: {source}")]
    CompilerWords {
        /// `CC`, `CXX` or `FC`.
        var: &'static str,
        /// The unbalanced quote.
        source: crate::plan::flags::FlagError,
    },
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

/// `$GOROOT/go.env`: the toolchain's defaults beneath the process and the
/// go/env file (cmd/go's `initEnvCache`); empty when missing.
fn read_goroot_env(goroot: &Path) -> HashMap<String, String> {
    std::fs::read(goroot.join("go.env"))
        .map(|b| parse_env_file(&b))
        .unwrap_or_default()
}

/// A configuration key as cmd/go's `cfg.Getenv` reads it: the process, the
/// go/env file, then `$GOROOT/go.env` (empty values count as unset).
fn layered<'a>(env: &'a Env, goroot_env: &'a HashMap<String, String>, k: &str) -> Option<&'a str> {
    env.get(k).or_else(|| {
        goroot_env
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    })
}

/// What cmd/go's CGO_ENABLED decision reads (`cfg.defaultContext`, on top
/// of go/build's `defaultContext`).
#[derive(Clone, Copy, Debug)]
pub struct CgoInputs<'a> {
    /// `CGO_ENABLED`: the process, the go/env file, then `$GOROOT/go.env`.
    /// Only `0` and `1` count; any other value is as if unset.
    pub setting: Option<&'a str>,
    /// The toolchain's `DefaultCGO_ENABLED` (empty for a release).
    pub toolchain_default: &'a str,
    /// The target GOOS and GOARCH.
    pub target: (&'a str, &'a str),
    /// The platform the go command runs on (the toolchain's host).
    pub host: (&'a str, &'a str),
    /// `$CC` is set in the process environment (go asks `os.Getenv` here:
    /// a CC from the go/env file does not count).
    pub cc_in_process: bool,
    /// The target's default C compiler (`gcc`, or `clang` on darwin, ios,
    /// freebsd, openbsd) is found on `$PATH` as `exec.LookPath` finds it.
    pub default_cc_found: bool,
}

/// CGO_ENABLED as cmd/go computes it: `0` or `1` as set; else the
/// toolchain's built-in default; else on only for the host platform, where
/// the platform supports cgo and a C compiler can be found (`$CC` set, or
/// the default compiler on `$PATH`). `CC=/nonexistent` still turns cgo on:
/// go only looks for the default compiler.
pub fn cgo_enabled(i: &CgoInputs) -> bool {
    match i.setting {
        Some("0") => return false,
        Some("1") => return true,
        _ => {}
    }
    match i.toolchain_default {
        "0" => false,
        "1" => true,
        _ => {
            i.target == i.host
                && cgo_supported(i.target.0, i.target.1)
                && (i.cc_in_process || i.default_cc_found)
        }
    }
}

/// cmd/go's `platform.CgoSupported`: the ports cgo works on
/// (`internal/platform/zosarch.go` of the pinned toolchain).
pub fn cgo_supported(goos: &str, goarch: &str) -> bool {
    const PORTS: &[(&str, &[&str])] = &[
        ("aix", &["ppc64"]),
        ("android", &["386", "amd64", "arm", "arm64"]),
        ("darwin", &["amd64", "arm64"]),
        ("dragonfly", &["amd64"]),
        ("freebsd", &["386", "amd64", "arm", "arm64", "riscv64"]),
        ("illumos", &["amd64"]),
        ("ios", &["amd64", "arm64"]),
        (
            "linux",
            &[
                "386", "amd64", "arm", "arm64", "loong64", "mips", "mips64", "mips64le", "mipsle",
                "ppc64", "ppc64le", "riscv64", "s390x", "sparc64",
            ],
        ),
        ("netbsd", &["386", "amd64", "arm", "arm64"]),
        ("openbsd", &["386", "amd64", "arm", "arm64", "riscv64"]),
        ("solaris", &["amd64"]),
        ("windows", &["386", "amd64", "arm64"]),
    ];
    PORTS
        .iter()
        .any(|(os, arches)| *os == goos && arches.contains(&goarch))
}

/// `exec.LookPath` on Unix: a name with a slash is used as it is, else the
/// first `$PATH` entry (an empty one is `.`) holding it; either way a
/// directory or a file without an execute bit does not count. Returns the
/// path and whether go accepts it: a hit in a relative entry is go's
/// `ErrDot` error (though go still returns the path).
fn look_path(path_var: Option<&str>, name: &str) -> Option<(String, bool)> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| !m.is_dir() && m.permissions().mode() & 0o111 != 0)
    };
    if name.contains('/') {
        return executable(Path::new(name)).then(|| (name.to_string(), true));
    }
    path_var?
        .split(':')
        .map(|d| Path::new(if d.is_empty() { "." } else { d }).join(name))
        .find(|p| executable(p))
        .map(|p| {
            let absolute = p.is_absolute();
            (p.display().to_string(), absolute)
        })
}

/// The words of `CC`, `CXX` or `FC` (cmd/go's `envList`: its layered
/// value, else `def`, split as cmd/go's `quoted.Split`).
fn compiler_words(
    env: &Env,
    goroot_env: &HashMap<String, String>,
    var: &'static str,
    def: &str,
) -> Result<Vec<String>, ConfigError> {
    let v = layered(env, goroot_env, var).unwrap_or(def);
    crate::plan::flags::split_quoted(v).map_err(|source| ConfigError::CompilerWords { var, source })
}

/// cmd/go's `BuildInit` check on `CC`, `CXX` and `FC`: each names its
/// program by an absolute path or by a bare name looked up in `$PATH`,
/// never by a relative path (`go build` and a full `go env` refuse it).
pub fn check_compilers(env: &Env, cfg: &LoadConfig) -> Result<(), ConfigError> {
    let goroot_env = read_goroot_env(&cfg.toolchain.goroot);
    for var in ["CC", "CXX", "FC"] {
        let words = compiler_words(env, &goroot_env, var, "")?;
        let Some(program) = words.into_iter().next() else {
            continue;
        };
        let p = Path::new(&program);
        if !p.is_absolute() && p.file_name() != Some(p.as_os_str()) {
            return Err(ConfigError::RelativeCompiler { var, program });
        }
    }
    Ok(())
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
    let goroot_env = read_goroot_env(&toolchain.goroot);
    let default_cc = default_cc(&goos);
    let cgo_default = cgo_enabled(&CgoInputs {
        setting: layered(env, &goroot_env, "CGO_ENABLED"),
        toolchain_default: &toolchain.arch_defaults.cgo_enabled,
        target: (&goos, &goarch),
        host: (&toolchain.host_goos, &toolchain.host_goarch),
        cc_in_process: env.process("CC").is_some(),
        default_cc_found: look_path(env.process("PATH"), default_cc).is_some_and(|(_, ok)| ok),
    });
    // Builds keep cgo off unless CGO_ENABLED=1 until #15's cgo actions are
    // complete; then this becomes `let cgo_enabled = cgo_default;`.
    let cgo_enabled = layered(env, &goroot_env, "CGO_ENABLED") == Some("1");
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
    let not_by_gob = check_instrument(&flags.build_mode, (&goos, &goarch), host, cgo_enabled)?;
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
    let cgo = cgo_env(env, &goroot_env, &goos)?;
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
        cgo_default,
        toolchain,
    })
}

/// `$CC`, `$CXX` and the `$CGO_*FLAGS` in words, as cmd/go's `envList`
/// reads and splits them (layered as `cfg.Getenv`; go's defaults when unset
/// or empty), the `CGO_*_ALLOW`/`_DISALLOW` overrides, and `$PATH`.
fn cgo_env(
    env: &Env,
    goroot_env: &HashMap<String, String>,
    goos: &str,
) -> Result<crate::cc::CgoEnv, ConfigError> {
    let words = |name: &str, default: &str| -> Result<Vec<String>, ConfigError> {
        let v = layered(env, goroot_env, name).unwrap_or(default);
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
    // The linker gets them back joined (cmd/go's setextld): go's build
    // fails on words quoted.Join refuses; gob refuses them up front.
    let joinable = |var: &'static str, w: Vec<String>| -> Result<Vec<String>, ConfigError> {
        match crate::plan::flags::join_quoted(&w) {
            Ok(_) => Ok(w),
            Err(why) => Err(ConfigError::Bad {
                name: var.into(),
                value: layered(env, goroot_env, var).unwrap_or("").into(),
                why,
            }),
        }
    };
    Ok(crate::cc::CgoEnv {
        cc: joinable("CC", compiler_words(env, goroot_env, "CC", cc_default)?)?,
        cxx: joinable("CXX", compiler_words(env, goroot_env, "CXX", cxx_default)?)?,
        path: env.process("PATH").unwrap_or("").to_string(),
        flags: crate::cc::EnvFlags {
            cppflags: words("CGO_CPPFLAGS", "")?,
            cflags: words("CGO_CFLAGS", DEFAULT_CFLAGS)?,
            cxxflags: words("CGO_CXXFLAGS", DEFAULT_CFLAGS)?,
            ldflags: words("CGO_LDFLAGS", DEFAULT_CFLAGS)?,
            overrides: crate::plan::cgoflags::FlagOverrides::from_lookup(|k| {
                layered(env, goroot_env, k).map(str::to_string)
            }),
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
    let goroot_env = read_goroot_env(&tc.goroot);
    let get = |k: &str| -> String { layered(env, &goroot_env, k).unwrap_or("").to_string() };
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
    // A CC that cannot be split is refused before GOGCCFLAGS is shown
    // (`check_compilers`); the other variables do not need its words.
    let cc_words = compiler_words(env, &goroot_env, "CC", default_cc(&t.goos)).unwrap_or_default();
    let cxx = or(
        "CXX",
        if default_cc(&t.goos) == "clang" {
            "clang++"
        } else {
            "g++"
        },
    );
    let gccgo = or("GCCGO", "gccgo");
    let gccgo = look_path(env.process("PATH"), &gccgo)
        .map(|(p, _)| p)
        .unwrap_or(gccgo);
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
        // go's value (builds use it once #15's pipeline is complete).
        (
            "CGO_ENABLED".into(),
            if cfg.cgo_default { "1" } else { "0" }.into(),
        ),
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
        (
            "GOGCCFLAGS".into(),
            gcc_flags(&cc_words, t, cfg.cgo_default, env.process("PATH")),
        ),
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

/// `GOGCCFLAGS`: cmd/go's `compilerCmd` for CC (`cc`, its words), `-I .`,
/// then the flags, less its first three words (go's `cmd[3:]`: with a
/// two-word CC such as `zig cc` the `.` shows). The work directory shows as
/// `/tmp/go-build`, which go replaces by its own random one. `-pthread`
/// comes with cgo. go keeps a flag its probe does not see rejected: a CC that
/// cannot be run rejects nothing; one that runs is taken to accept what
/// current gcc (or clang, and `zig cc`, which is clang) accepts, without
/// running it (the probes are #15's `src/cc.rs`).
fn gcc_flags(cc: &[String], t: &TargetConfig, cgo: bool, path_var: Option<&str>) -> String {
    let runs = cc
        .first()
        .is_some_and(|c| look_path(path_var, c).is_some_and(|(_, ok)| ok));
    let base = cc
        .first()
        .map(|c| c.rsplit('/').next().unwrap_or(c))
        .unwrap_or("");
    let clang_flags = !runs || base.contains("clang") || base == "zig";
    let mut a: Vec<&str> = cc.iter().map(String::as_str).collect();
    a.extend(["-I", "."]);
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
    if cgo {
        a.push("-pthread");
    }
    if t.goos == "aix" {
        a.push("-mcmodel=large");
    }
    if clang_flags {
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
    a.get(3..).unwrap_or_default().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> CgoInputs<'static> {
        CgoInputs {
            setting: None,
            toolchain_default: "",
            target: ("linux", "amd64"),
            host: ("linux", "amd64"),
            cc_in_process: false,
            default_cc_found: true,
        }
    }

    #[test]
    fn cgo_defaults_as_go_decides() {
        let on = |f: &dyn Fn(&mut CgoInputs<'static>)| {
            let mut i = inputs();
            f(&mut i);
            cgo_enabled(&i)
        };
        // The host with gcc on PATH: on; explicit values win.
        assert!(on(&|_| {}));
        assert!(!on(&|i| i.setting = Some("0")));
        assert!(on(&|i| i.setting = Some("1")));
        // Anything but 0 or 1 is as if unset.
        assert!(on(&|i| i.setting = Some("yes")));
        assert!(!on(&|i| {
            i.setting = Some("yes");
            i.default_cc_found = false
        }));
        // No default compiler: off, unless CC is set (even to a missing one).
        assert!(!on(&|i| i.default_cc_found = false));
        assert!(on(&|i| {
            i.default_cc_found = false;
            i.cc_in_process = true
        }));
        assert!(on(&|i| {
            i.default_cc_found = false;
            i.setting = Some("1")
        }));
        // Another target: off unless asked for, whatever the compiler.
        assert!(!on(&|i| i.target = ("linux", "arm64")));
        assert!(!on(&|i| i.target = ("windows", "amd64")));
        assert!(on(&|i| {
            i.target = ("linux", "arm64");
            i.setting = Some("1")
        }));
        // A host port without cgo.
        assert!(!on(&|i| {
            i.target = ("plan9", "amd64");
            i.host = ("plan9", "amd64")
        }));
        // A toolchain built with CGO_ENABLED set decides before the host rule.
        assert!(on(&|i| {
            i.toolchain_default = "1";
            i.target = ("linux", "arm64")
        }));
        assert!(!on(&|i| i.toolchain_default = "0"));
        assert!(on(&|i| {
            i.toolchain_default = "0";
            i.setting = Some("1")
        }));
    }

    #[test]
    fn the_toolchains_cgo_default_is_read() {
        use crate::load::gobuild::ArchDefaults;
        let release = "const DefaultGOFIPS140 = `off`\nconst DefaultCGO_ENABLED = \"\"\n";
        assert_eq!(ArchDefaults::parse(release).cgo_enabled, "");
        let built = "const DefaultCGO_ENABLED = \"0\"\n";
        assert_eq!(ArchDefaults::parse(built).cgo_enabled, "0");
    }

    #[test]
    fn cgo_ports_are_zosarchs() {
        assert!(cgo_supported("linux", "riscv64"));
        assert!(cgo_supported("windows", "arm64"));
        assert!(!cgo_supported("js", "wasm"));
        assert!(!cgo_supported("openbsd", "ppc64"));
        assert!(!cgo_supported("wasip1", "wasm"));
    }

    #[test]
    fn look_path_is_exec_lookpaths() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("gob-lookpath-{}", std::process::id()));
        let bin = dir.join("bin");
        std::fs::create_dir_all(bin.join("adir")).unwrap();
        for (name, mode) in [("cc", 0o755), ("plain", 0o644)] {
            let p = bin.join(name);
            std::fs::write(&p, "").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let path = format!("/nonexistent:{}", bin.display());
        let cc = bin.join("cc").display().to_string();
        assert_eq!(look_path(Some(&path), "cc"), Some((cc.clone(), true)));
        // Not executable, a directory, absent, no PATH.
        assert_eq!(look_path(Some(&path), "plain"), None);
        assert_eq!(look_path(Some(&path), "adir"), None);
        assert_eq!(look_path(Some(&path), "gcc-none"), None);
        assert_eq!(look_path(None, "cc"), None);
        // A name with a slash is not searched for.
        assert_eq!(look_path(None, &cc), Some((cc.clone(), true)));
        assert_eq!(look_path(Some(&path), "bin/cc"), None);
        // A hit in a relative entry is found but refused (go's ErrDot).
        let up = "../".repeat(std::env::current_dir().unwrap().components().count());
        let relative = format!("{up}{}", bin.display().to_string().trim_start_matches('/'));
        let (p, ok) = look_path(Some(&relative), "cc").unwrap();
        assert!(!ok, "{p}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
