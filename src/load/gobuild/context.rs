//! Target configuration, known GOOS/GOARCH lists, tool/release tags and tag matching.

use thiserror::Error;

use super::constraint::{self, Expr};

/// Every GOOS go/build recognises in file names (`internal/syslist.KnownOS`).
pub const KNOWN_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasip1",
    "windows",
    "zos",
];

/// GOOS values that satisfy the `unix` build tag (`internal/syslist.UnixOS`).
pub const UNIX_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "linux",
    "netbsd",
    "openbsd",
    "solaris",
];

/// Every GOARCH go/build recognises in file names (`internal/syslist.KnownArch`).
pub const KNOWN_ARCH: &[&str] = &[
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "armbe",
    "arm64",
    "arm64be",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "ppc64",
    "ppc64le",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
];

/// Reports whether `goos` is a GOOS known to go/build.
pub fn is_known_os(goos: &str) -> bool {
    KNOWN_OS.contains(&goos)
}

/// Reports whether `goarch` is a GOARCH known to go/build.
pub fn is_known_arch(goarch: &str) -> bool {
    KNOWN_ARCH.contains(&goarch)
}

/// Reports whether `goos` satisfies the `unix` build tag.
pub fn is_unix_os(goos: &str) -> bool {
    UNIX_OS.contains(&goos)
}

/// GOEXPERIMENT flags in `internal/goexperiment.Flags` field order (lower-cased).
/// The order determines the order of `goexperiment.*` tool tags.
pub const EXPERIMENTS: &[&str] = &[
    "fieldtrack",
    "preemptibleloops",
    "staticlockranking",
    "boringcrypto",
    "regabiwrappers",
    "regabiargs",
    "heapminimum512kib",
    "arenas",
    "cgocheck2",
    "loopvar",
    "newinliner",
    "dwarf5",
    "jsonv2",
    "greenteagc",
    "randomizedheapbase64",
    "runtimefreegc",
    "sizespecializedmalloc",
    "simd",
    "runtimesecret",
    "mapsplitgroup",
];

/// What the caller knows about the target. Nothing is read from the
/// environment; `None` knobs mean "toolchain default".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetConfig {
    /// Target GOOS, e.g. `linux`.
    pub goos: String,
    /// Target GOARCH, e.g. `amd64`.
    pub goarch: String,
    /// Whether cgo is enabled (`CGO_ENABLED=1`).
    pub cgo_enabled: bool,
    /// Tags from `-tags`, already split.
    pub build_tags: Vec<String>,
    /// Go minor version: 27 for go1.27.3 gives release tags go1.1..go1.27.
    pub go_minor: u32,
    /// Value of `$GOEXPERIMENT` (`""` = defaults), e.g. `"arenas,nojsonv2"`.
    pub goexperiment: String,
    /// `$GOAMD64` (default `v1`).
    pub goamd64: Option<String>,
    /// `$GOARM64` (default `v8.0`).
    pub goarm64: Option<String>,
    /// `$GOARM` (default `7`).
    pub goarm: Option<String>,
    /// `$GO386` (default `sse2`).
    pub go386: Option<String>,
    /// `$GOMIPS` (default `hardfloat`).
    pub gomips: Option<String>,
    /// `$GOMIPS64` (default `hardfloat`).
    pub gomips64: Option<String>,
    /// `$GOPPC64` (default `power8`).
    pub goppc64: Option<String>,
    /// `$GORISCV64` (default `rva20u64`).
    pub goriscv64: Option<String>,
    /// `$GOWASM` (default empty).
    pub gowasm: Option<String>,
    /// The toolchain's defaults for the knobs above (its `zbootstrap.go`).
    pub arch_defaults: ArchDefaults,
}

/// The defaults a toolchain was built with for the GO$GOARCH knobs and
/// CGO_ENABLED (`internal/buildcfg/zbootstrap.go`); `Default` is a release
/// toolchain's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArchDefaults {
    /// `DefaultGO386`.
    pub go386: String,
    /// `DefaultGOAMD64`.
    pub goamd64: String,
    /// `DefaultGOARM`.
    pub goarm: String,
    /// `DefaultGOARM64`.
    pub goarm64: String,
    /// `DefaultGOMIPS`.
    pub gomips: String,
    /// `DefaultGOMIPS64`.
    pub gomips64: String,
    /// `DefaultGOPPC64`.
    pub goppc64: String,
    /// `DefaultGORISCV64`.
    pub goriscv64: String,
    /// `DefaultCGO_ENABLED`: `0` or `1` when the toolchain was built with
    /// `CGO_ENABLED` set, else empty (go decides; `config::cgo_enabled`).
    pub cgo_enabled: String,
}

impl Default for ArchDefaults {
    fn default() -> ArchDefaults {
        ArchDefaults {
            go386: "sse2".into(),
            goamd64: "v1".into(),
            goarm: "7".into(),
            goarm64: "v8.0".into(),
            gomips: "hardfloat".into(),
            gomips64: "hardfloat".into(),
            goppc64: "power8".into(),
            goriscv64: "rva20u64".into(),
            cgo_enabled: String::new(),
        }
    }
}

impl ArchDefaults {
    /// Reads the `const DefaultGOxxx = `value`` lines of a toolchain's
    /// `zbootstrap.go`; a constant it lacks keeps the release default.
    pub fn parse(zbootstrap: &str) -> ArchDefaults {
        let mut d = ArchDefaults::default();
        for line in zbootstrap.lines() {
            let Some(rest) = line.trim().strip_prefix("const Default") else {
                continue;
            };
            let Some((name, value)) = rest.split_once('=') else {
                continue;
            };
            let value = value
                .trim()
                .trim_matches(|c| c == '`' || c == '"')
                .to_string();
            let slot = match name.trim() {
                "GO386" => &mut d.go386,
                "GOAMD64" => &mut d.goamd64,
                "GOARM" => &mut d.goarm,
                "GOARM64" => &mut d.goarm64,
                "GOMIPS" => &mut d.gomips,
                "GOMIPS64" => &mut d.gomips64,
                "GOPPC64" => &mut d.goppc64,
                "GORISCV64" => &mut d.goriscv64,
                "CGO_ENABLED" => &mut d.cgo_enabled,
                _ => continue,
            };
            if !value.is_empty() {
                *slot = value;
            }
        }
        d
    }
}

impl TargetConfig {
    /// cmd/go's `GetArchEnv`: the GOARCH-specific knob and its value (the
    /// environment's, else the toolchain default), e.g. `("GOARM", "7")`;
    /// None for an architecture without one.
    pub fn arch_env(&self) -> Option<(&'static str, String)> {
        let d = &self.arch_defaults;
        let (k, v, def) = match self.goarch.as_str() {
            "386" => ("GO386", &self.go386, &d.go386),
            "amd64" => ("GOAMD64", &self.goamd64, &d.goamd64),
            "arm" => ("GOARM", &self.goarm, &d.goarm),
            "arm64" => ("GOARM64", &self.goarm64, &d.goarm64),
            "mips" | "mipsle" => ("GOMIPS", &self.gomips, &d.gomips),
            "mips64" | "mips64le" => ("GOMIPS64", &self.gomips64, &d.gomips64),
            "ppc64" | "ppc64le" => ("GOPPC64", &self.goppc64, &d.goppc64),
            "riscv64" => ("GORISCV64", &self.goriscv64, &d.goriscv64),
            "wasm" => return Some(("GOWASM", knob(&self.gowasm, "").to_string())),
            _ => return None,
        };
        Some((k, knob(v, def).to_string()))
    }
}

impl TargetConfig {
    /// A config for `goos/goarch` with cgo disabled, go1.27 and default knobs.
    pub fn new(goos: &str, goarch: &str) -> TargetConfig {
        TargetConfig {
            goos: goos.to_string(),
            goarch: goarch.to_string(),
            go_minor: 27,
            ..TargetConfig::default()
        }
    }
}

/// Invalid target configuration. Each message names the variable and value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ContextError {
    /// GOOS not in [`KNOWN_OS`].
    #[error("unknown GOOS {0:?}")]
    UnknownGoos(String),
    /// GOARCH not in [`KNOWN_ARCH`].
    #[error("unknown GOARCH {0:?}")]
    UnknownGoarch(String),
    /// A GO$GOARCH-style knob has an invalid value.
    #[error("invalid {var} {value:?}: {expected}")]
    BadKnob {
        /// Variable name, e.g. `GOAMD64`.
        var: &'static str,
        /// The rejected value.
        value: String,
        /// What is allowed, worded as in `internal/buildcfg`.
        expected: &'static str,
    },
    /// Unknown experiment name in GOEXPERIMENT.
    #[error("unknown GOEXPERIMENT {0}")]
    UnknownExperiment(String),
    /// GOEXPERIMENT enables regabiargs without regabiwrappers.
    #[error("GOEXPERIMENT regabiargs requires regabiwrappers")]
    RegabiDeps,
}

/// Resolved build context: everything needed to decide whether a file is
/// part of the build (mirrors the relevant fields of go/build.Context).
#[derive(Debug, Clone)]
pub struct BuildContext {
    /// Target GOOS.
    pub goos: String,
    /// Target GOARCH.
    pub goarch: String,
    /// Whether cgo is enabled (makes the `cgo` tag true, puts `import "C"` files in CgoFiles).
    pub cgo_enabled: bool,
    /// Compiler name; always `gc`, which is also a satisfied tag.
    pub compiler: String,
    /// User `-tags`.
    pub build_tags: Vec<String>,
    /// Toolchain tags: `goexperiment.*` then GO$GOARCH feature tags (e.g. `amd64.v1`).
    pub tool_tags: Vec<String>,
    /// `go1.1` .. `go1.N`.
    pub release_tags: Vec<String>,
    /// The file system, through the recording reader (go/build.Context's
    /// `ReadDir`/`OpenFile` hooks): every read of a load is in its record.
    pub files: crate::load::files::Files,
}

fn knob<'a>(v: &'a Option<String>, default: &'a str) -> &'a str {
    match v.as_deref() {
        Some(s) if !s.is_empty() => s,
        _ => default,
    }
}

fn bad(var: &'static str, value: &str, expected: &'static str) -> ContextError {
    ContextError::BadKnob {
        var,
        value: value.to_string(),
        expected,
    }
}

/// Parses the GOEXPERIMENT string like `internal/buildcfg.ParseGOEXPERIMENT`
/// and returns the enabled experiment names in flag order.
pub fn enabled_experiments(
    goos: &str,
    goarch: &str,
    goexp: &str,
) -> Result<Vec<&'static str>, ContextError> {
    let regabi = matches!(
        goarch,
        "amd64" | "arm64" | "loong64" | "ppc64le" | "ppc64" | "riscv64" | "s390x"
    );
    let dwarf5 = !matches!(goos, "darwin" | "ios" | "aix");
    let baseline = |name: &str| -> bool {
        match name {
            "regabiwrappers" | "regabiargs" => regabi,
            "dwarf5" => dwarf5,
            "randomizedheapbase64" | "greenteagc" | "jsonv2" | "sizespecializedmalloc" => true,
            _ => false,
        }
    };
    let mut on: Vec<bool> = EXPERIMENTS.iter().map(|n| baseline(n)).collect();
    let idx = |n: &str| EXPERIMENTS.iter().position(|e| *e == n);
    for f in goexp.split(',') {
        if f.is_empty() {
            continue;
        }
        if f == "none" {
            on.iter_mut().for_each(|v| *v = false);
            continue;
        }
        let (name, val) = match f.strip_prefix("no") {
            Some(rest) => (rest, false),
            None => (f, true),
        };
        if name == "regabi" {
            for n in ["regabiwrappers", "regabiargs"] {
                if let Some(i) = idx(n) {
                    on[i] = val;
                }
            }
            continue;
        }
        match idx(name) {
            Some(i) => on[i] = val,
            None => return Err(ContextError::UnknownExperiment(name.to_string())),
        }
    }
    let (w, a) = (idx("regabiwrappers"), idx("regabiargs"));
    if let (Some(w), Some(a)) = (w, a) {
        // regabi is always on where supported and never on elsewhere.
        on[w] = regabi;
        on[a] = regabi;
        if on[a] && !on[w] {
            return Err(ContextError::RegabiDeps);
        }
    }
    Ok(EXPERIMENTS
        .iter()
        .zip(on)
        .filter_map(|(n, v)| v.then_some(*n))
        .collect())
}

/// Computes the GO$GOARCH feature tags (`internal/buildcfg.gogoarchTags`),
/// validating every knob that is set, as buildcfg does regardless of GOARCH.
fn arch_tags(cfg: &TargetConfig) -> Result<Vec<String>, ContextError> {
    let goarch = cfg.goarch.as_str();

    let amd64 = knob(&cfg.goamd64, &cfg.arch_defaults.goamd64);
    let amd64_level: u32 = match amd64 {
        "v1" => 1,
        "v2" => 2,
        "v3" => 3,
        "v4" => 4,
        _ => return Err(bad("GOAMD64", amd64, "must be v1, v2, v3, v4")),
    };

    let arm = knob(&cfg.goarm, &cfg.arch_defaults.goarm);
    let arm_ver = arm
        .strip_suffix(",softfloat")
        .or_else(|| arm.strip_suffix(",hardfloat"))
        .unwrap_or(arm);
    let arm_level: u32 = match arm_ver {
        "5" => 5,
        "6" => 6,
        "7" => 7,
        _ => {
            return Err(bad(
                "GOARM",
                arm,
                "must start with 5, 6, or 7, and may optionally end in either \",hardfloat\" or \",softfloat\"",
            ));
        }
    };

    let arm64 = knob(&cfg.goarm64, &cfg.arch_defaults.goarm64);
    let mut arm64_ver = arm64;
    loop {
        if let Some(v) = arm64_ver.strip_suffix(",lse") {
            arm64_ver = v;
        } else if let Some(v) = arm64_ver.strip_suffix(",crypto") {
            arm64_ver = v;
        } else {
            break;
        }
    }
    let arm64_ok = matches!(
        arm64_ver.as_bytes(),
        [b'v', b'8', b'.', b'0'..=b'9'] | [b'v', b'9', b'.', b'0'..=b'5']
    );
    if !arm64_ok {
        return Err(bad(
            "GOARM64",
            arm64,
            "must start with v8.{0-9} or v9.{0-5} and may optionally end in \",lse\" and/or \",crypto\"",
        ));
    }

    let go386 = knob(&cfg.go386, &cfg.arch_defaults.go386);
    if !matches!(go386, "sse2" | "softfloat") {
        return Err(bad("GO386", go386, "must be sse2, softfloat"));
    }
    let gomips = knob(&cfg.gomips, &cfg.arch_defaults.gomips);
    if !matches!(gomips, "hardfloat" | "softfloat") {
        return Err(bad("GOMIPS", gomips, "must be hardfloat, softfloat"));
    }
    let gomips64 = knob(&cfg.gomips64, &cfg.arch_defaults.gomips64);
    if !matches!(gomips64, "hardfloat" | "softfloat") {
        return Err(bad("GOMIPS64", gomips64, "must be hardfloat, softfloat"));
    }
    let ppc64 = knob(&cfg.goppc64, &cfg.arch_defaults.goppc64);
    let ppc64_level: u32 = match ppc64 {
        "power8" => 8,
        "power9" => 9,
        "power10" => 10,
        _ => return Err(bad("GOPPC64", ppc64, "must be power8, power9, power10")),
    };
    let riscv = knob(&cfg.goriscv64, &cfg.arch_defaults.goriscv64);
    let riscv_level: u32 = match riscv {
        "rva20u64" => 20,
        "rva22u64" => 22,
        "rva23u64" => 23,
        _ => {
            return Err(bad(
                "GORISCV64",
                riscv,
                "must be rva20u64, rva22u64, rva23u64",
            ));
        }
    };
    let wasm = knob(&cfg.gowasm, "");
    for opt in wasm.split(',') {
        if !matches!(opt, "" | "satconv" | "signext") {
            return Err(bad("GOWASM", wasm, "no such feature"));
        }
    }

    let a = goarch;
    Ok(match goarch {
        "386" => vec![format!("{a}.{go386}")],
        "amd64" => (1..=amd64_level).map(|i| format!("{a}.v{i}")).collect(),
        "arm" => (5..=arm_level).map(|i| format!("{a}.{i}")).collect(),
        "arm64" => {
            let b = arm64_ver.as_bytes();
            let major = u32::from(b[1] - b'0');
            let minor = u32::from(b[3] - b'0');
            let mut v: Vec<String> = (0..=minor).map(|i| format!("{a}.v{major}.{i}")).collect();
            if major == 9 {
                v.extend((0..=(minor + 5).min(9)).map(|i| format!("{a}.v8.{i}")));
            }
            v
        }
        "mips" | "mipsle" => vec![format!("{a}.{gomips}")],
        "mips64" | "mips64le" => vec![format!("{a}.{gomips64}")],
        "ppc64" | "ppc64le" => (8..=ppc64_level).map(|i| format!("{a}.power{i}")).collect(),
        "riscv64" => {
            let mut v = vec![format!("{a}.rva20u64")];
            if riscv_level >= 22 {
                v.push(format!("{a}.rva22u64"));
            }
            if riscv_level >= 23 {
                v.push(format!("{a}.rva23u64"));
            }
            v
        }
        "wasm" => vec![format!("{a}.satconv"), format!("{a}.signext")],
        _ => Vec::new(),
    })
}

impl BuildContext {
    /// Builds a context from the target config, validating GOOS, GOARCH,
    /// GOEXPERIMENT and the GO$GOARCH knobs.
    pub fn new(cfg: &TargetConfig) -> Result<BuildContext, ContextError> {
        if !is_known_os(&cfg.goos) {
            return Err(ContextError::UnknownGoos(cfg.goos.clone()));
        }
        if !is_known_arch(&cfg.goarch) {
            return Err(ContextError::UnknownGoarch(cfg.goarch.clone()));
        }
        let mut tool_tags: Vec<String> =
            enabled_experiments(&cfg.goos, &cfg.goarch, &cfg.goexperiment)?
                .into_iter()
                .map(|e| format!("goexperiment.{e}"))
                .collect();
        tool_tags.extend(arch_tags(cfg)?);
        let release_tags = (1..=cfg.go_minor).map(|i| format!("go1.{i}")).collect();
        Ok(BuildContext {
            goos: cfg.goos.clone(),
            goarch: cfg.goarch.clone(),
            cgo_enabled: cfg.cgo_enabled,
            compiler: "gc".to_string(),
            build_tags: cfg.build_tags.clone(),
            tool_tags,
            release_tags,
            files: crate::load::files::Files::new(),
        })
    }

    /// Toolchain tags (`goexperiment.*`, `amd64.v1`, ...).
    pub fn tool_tags(&self) -> &[String] {
        &self.tool_tags
    }

    /// Reports whether the tag is satisfied (go/build `matchTag`): `cgo` if
    /// enabled, GOOS, GOARCH, the compiler, `linux` on android, `solaris` on
    /// illumos, `darwin` on ios, `unix` on Unix systems, `boringcrypto` as an
    /// alias of `goexperiment.boringcrypto`, and build/tool/release tags.
    pub fn match_tag(&self, tag: &str) -> bool {
        if self.cgo_enabled && tag == "cgo" {
            return true;
        }
        if tag == self.goos || tag == self.goarch || tag == self.compiler {
            return true;
        }
        match (self.goos.as_str(), tag) {
            ("android", "linux") | ("illumos", "solaris") | ("ios", "darwin") => return true,
            _ => {}
        }
        if tag == "unix" && is_unix_os(&self.goos) {
            return true;
        }
        let tag = if tag == "boringcrypto" {
            "goexperiment.boringcrypto"
        } else {
            tag
        };
        let has = |l: &[String]| l.iter().any(|t| t == tag);
        has(&self.build_tags) || has(&self.tool_tags) || has(&self.release_tags)
    }

    /// Evaluates a constraint expression against this context.
    pub fn eval(&self, x: &Expr) -> bool {
        x.eval(&mut |t| self.match_tag(t))
    }

    /// Reports whether the file name's `_GOOS`, `_GOARCH` or `_GOOS_GOARCH`
    /// suffix (before the first `.`, ignoring a final `_test`) matches.
    /// Only the part after the first `_` counts, so `linux.go` is not tagged.
    pub fn good_os_arch_file(&self, file_name: &str) -> bool {
        let stem = file_name.split('.').next().unwrap_or("");
        let Some(i) = stem.find('_') else {
            return true;
        };
        let mut parts: Vec<&str> = stem[i..].split('_').collect();
        if parts.last() == Some(&"test") {
            parts.pop();
        }
        let n = parts.len();
        if n >= 2 && is_known_os(parts[n - 2]) && is_known_arch(parts[n - 1]) {
            // Both are evaluated (Go records both tags).
            let arch = self.match_tag(parts[n - 1]);
            return arch && self.match_tag(parts[n - 2]);
        }
        if n >= 1 && (is_known_os(parts[n - 1]) || is_known_arch(parts[n - 1])) {
            return self.match_tag(parts[n - 1]);
        }
        true
    }

    /// Interprets `text` as either `//go:build` syntax (if it contains any of
    /// `&|()`) or `// +build` syntax, as go/build's `matchAuto` does for
    /// `#cgo` lines. Unparseable text does not match.
    pub fn match_auto(&self, text: &str) -> bool {
        let line = if text.contains(['&', '|', '(', ')']) {
            format!("//go:build {text}")
        } else {
            format!("// +build {text}")
        };
        constraint::parse(&line).is_ok_and(|x| self.eval(&x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(goos: &str, goarch: &str) -> BuildContext {
        BuildContext::new(&TargetConfig::new(goos, goarch)).unwrap()
    }

    #[test]
    fn default_tool_tags_linux_amd64() {
        let c = ctx("linux", "amd64");
        assert_eq!(
            c.tool_tags(),
            [
                "goexperiment.regabiwrappers",
                "goexperiment.regabiargs",
                "goexperiment.dwarf5",
                "goexperiment.jsonv2",
                "goexperiment.greenteagc",
                "goexperiment.randomizedheapbase64",
                "goexperiment.sizespecializedmalloc",
                "amd64.v1"
            ]
        );
        assert_eq!(c.release_tags.len(), 27);
        assert_eq!(c.release_tags.last().map(String::as_str), Some("go1.27"));
    }

    #[test]
    fn knobs() {
        let mut cfg = TargetConfig::new("linux", "arm64");
        cfg.goarm64 = Some("v9.1,lse".into());
        let c = BuildContext::new(&cfg).unwrap();
        let arch: Vec<_> = c
            .tool_tags()
            .iter()
            .filter(|t| t.starts_with("arm64."))
            .collect();
        assert_eq!(arch.len(), 2 + 7);
        cfg.goarm64 = Some("v9.6".into());
        let e = BuildContext::new(&cfg).unwrap_err().to_string();
        assert!(e.contains("GOARM64") && e.contains("v9.6"), "{e}");
        let mut cfg = TargetConfig::new("linux", "amd64");
        cfg.goamd64 = Some("v3".into());
        cfg.goexperiment = "arenas,nojsonv2,regabi".into();
        let c = BuildContext::new(&cfg).unwrap();
        assert!(c.match_tag("amd64.v3") && c.match_tag("amd64.v2"));
        assert!(c.match_tag("goexperiment.arenas") && !c.match_tag("goexperiment.jsonv2"));
        cfg.goexperiment = "bogus".into();
        assert_eq!(
            BuildContext::new(&cfg).unwrap_err().to_string(),
            "unknown GOEXPERIMENT bogus"
        );
        let e = BuildContext::new(&TargetConfig::new("plan10", "amd64")).unwrap_err();
        assert_eq!(e.to_string(), "unknown GOOS \"plan10\"");
        let wasm = ctx("js", "wasm");
        assert!(wasm.match_tag("wasm.satconv") && !wasm.match_tag("unix"));
        assert!(!ctx("darwin", "arm64").match_tag("goexperiment.dwarf5"));
    }

    #[test]
    fn tags() {
        let c = ctx("android", "arm64");
        assert!(c.match_tag("linux") && c.match_tag("unix") && c.match_tag("gc"));
        assert!(!c.match_tag("cgo") && !c.match_tag("gccgo"));
        assert!(ctx("ios", "arm64").match_tag("darwin"));
        assert!(!ctx("darwin", "arm64").match_tag("ios"));
        assert!(ctx("illumos", "amd64").match_tag("solaris"));
        assert!(c.match_tag("go1.1") && !c.match_tag("go1.28"));
        assert!(c.match_auto("linux,arm64") && c.match_auto("linux && !windows"));
    }

    #[test]
    fn file_names() {
        let c = ctx("linux", "amd64");
        for (name, want) in [
            ("linux.go", true),
            ("windows.go", true),
            ("x_windows.go", false),
            ("x_linux.go", true),
            ("x_linux_test.go", true),
            ("x_windows_test.go", false),
            ("x_linux_arm64.go", false),
            ("x_linux_amd64.s", true),
            ("x_darwin_amd64.s", false),
            ("x_amd64.go", true),
            ("x_386.go", false),
            ("x_test.go", true),
            ("x_foo_test.go", true),
            ("_windows.go", false),
            ("x_windows.foo_linux.go", false),
            ("x_windows_foo.go", true),
            ("x_test_windows.go", false),
            ("x_unix.go", true),
            ("amd64_linux.go", true),
        ] {
            assert_eq!(c.good_os_arch_file(name), want, "{name}");
        }
        let a = ctx("android", "arm");
        assert!(a.good_os_arch_file("x_linux_arm.go"));
        assert!(!a.good_os_arch_file("x_linux_arm64.go"));
    }
}
