//! `-buildmode`, `-installsuffix` and `-linkshared`, resolved for the target
//! as cmd/go's `buildModeInit` (work/init.go) resolves them, with cgo off;
//! before it, `-race`, `-msan` and `-asan` checked as its `instrumentInit`.
//!
//! The result is plain data the loader and the planner read: which packages
//! a build keeps (`Filter`), the code-generation flag compile and asm get
//! (`-shared`, `-dynlink`), the flags forced on the tools by `-linkshared`,
//! the install suffix both compile and link are told, the linker's
//! `-buildmode`, and why a main package would need external linking (which
//! without cgo is its load error, as cmd/go's `LinkerDeps` says).

use std::fmt;

/// The `-buildmode` values cmd/go knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// `default`: main packages linked (PIE where the target defaults to it), others built and discarded.
    #[default]
    Default,
    /// `exe`: main packages only, linked as executables.
    Exe,
    /// `pie`: position-independent executables.
    Pie,
    /// `archive`: non-main packages only, each to a `.a`.
    Archive,
    /// `c-archive`: one main package as a C archive.
    CArchive,
    /// `c-shared`: one main package as a C shared library.
    CShared,
    /// `shared`: non-main packages into one shared library.
    Shared,
    /// `plugin`: one main package as a Go plugin.
    Plugin,
}

impl Mode {
    /// The flag's value as written.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Default => "default",
            Mode::Exe => "exe",
            Mode::Pie => "pie",
            Mode::Archive => "archive",
            Mode::CArchive => "c-archive",
            Mode::CShared => "c-shared",
            Mode::Shared => "shared",
            Mode::Plugin => "plugin",
        }
    }

    fn parse(s: &str) -> Option<Mode> {
        [
            Mode::Default,
            Mode::Exe,
            Mode::Pie,
            Mode::Archive,
            Mode::CArchive,
            Mode::CShared,
            Mode::Shared,
            Mode::Plugin,
        ]
        .into_iter()
        .find(|m| m.name() == s)
    }
}

/// Which of the packages named a build keeps (cmd/go's `pkgsFilter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Filter {
    /// Every package.
    #[default]
    All,
    /// Main packages only.
    Main,
    /// Non-main packages only.
    NotMain,
    /// Exactly one package, a main one, or the build fails.
    OneMain,
}

/// The flags as given.
#[derive(Clone, Debug, Default)]
pub struct BuildModeFlags {
    /// `-buildmode` (`None`: `default`).
    pub buildmode: Option<String>,
    /// `-installsuffix`.
    pub installsuffix: Option<String>,
    /// `-linkshared`.
    pub linkshared: bool,
    /// Whether `-o` was given (`-buildmode=shared` refuses it, `exe` then
    /// wants one main package).
    pub output: bool,
    /// `-race`.
    pub race: bool,
    /// `-msan`.
    pub msan: bool,
    /// `-asan`.
    pub asan: bool,
}

/// What cmd/go's `instrumentInit` stops with (exit status 2), or gob's
/// refusal where go would build instrumented.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstrumentError {
    /// Two sanitizers at once.
    #[error("gob: may not use -{0} and -{1} simultaneously")]
    Together(&'static str, &'static str),
    /// The target has no such sanitizer.
    #[error("-{flag} is not supported on {goos}/{goarch}")]
    NotOnTarget {
        /// `race`, `msan` or `asan`.
        flag: &'static str,
        /// The target.
        goos: String,
        /// The target.
        goarch: String,
    },
    /// It needs cgo, which is off; go says how to enable it only when the
    /// target is its own host.
    #[error("gob: -{flag} requires cgo{}", if *.host { "; enable cgo by setting CGO_ENABLED=1" } else { "" })]
    NeedsCgo {
        /// `race`, `msan` or `asan`.
        flag: &'static str,
        /// Whether the target is the toolchain's host.
        host: bool,
    },
    /// What go builds: `-race` for darwin (without cgo), any of them with cgo.
    #[error("gob: -{0}: not supported by gob yet: instrumented builds are not planned")]
    NotByGob(&'static str),
}

/// Checks `-race`, `-msan`, `-asan` for `goos/goarch` in cmd/go's order;
/// `host` is the toolchain's own GOOS/GOARCH, `cgo` whether cgo is on. (go's
/// check of the C compiler's version for -asan runs the compiler; gob does
/// not.) What go accepts (`-race` for darwin, any of them with cgo) is
/// returned, for gob to refuse after go's later checks.
pub fn check_instrument(
    f: &BuildModeFlags,
    (goos, goarch): (&str, &str),
    host: (&str, &str),
    cgo: bool,
) -> Result<Option<InstrumentError>, InstrumentError> {
    if !(f.race || f.msan || f.asan) {
        return Ok(None);
    }
    for (a, b, both) in [
        ("race", "msan", f.race && f.msan),
        ("race", "asan", f.race && f.asan),
        ("msan", "asan", f.msan && f.asan),
    ] {
        if both {
            return Err(InstrumentError::Together(a, b));
        }
    }
    let not_on = |flag| InstrumentError::NotOnTarget {
        flag,
        goos: goos.into(),
        goarch: goarch.into(),
    };
    let linux = |archs: &[&str]| goos == "linux" && archs.contains(&goarch);
    let msan_ok = linux(&["amd64", "arm64", "loong64"]) || (goos, goarch) == ("freebsd", "amd64");
    let race_ok = linux(&["amd64", "arm64", "loong64", "ppc64le", "riscv64", "s390x"])
        || (goos == "darwin" && matches!(goarch, "amd64" | "arm64"))
        || (matches!(goos, "freebsd" | "netbsd" | "windows") && goarch == "amd64");
    let asan_ok = linux(&["arm64", "amd64", "loong64", "riscv64", "ppc64le"]);
    if f.msan && !msan_ok {
        return Err(not_on("msan"));
    }
    if f.race && !race_ok {
        return Err(not_on("race"));
    }
    if f.asan && !asan_ok {
        return Err(not_on("asan"));
    }
    let flag = if f.asan {
        "asan"
    } else if f.msan {
        "msan"
    } else {
        "race"
    };
    // On macOS -race does not need cgo; -asan and -msan do.
    if !cgo && (goos != "darwin" || f.asan || f.msan) {
        return Err(InstrumentError::NeedsCgo {
            flag,
            host: (goos, goarch) == host,
        });
    }
    Ok(Some(InstrumentError::NotByGob(flag)))
}

/// `-buildmode` and its companions, resolved for one target.
#[derive(Clone, Debug, Default)]
pub struct BuildMode {
    /// The mode asked for.
    pub mode: Mode,
    /// `-linkshared`.
    pub linkshared: bool,
    /// The packages kept.
    pub filter: Filter,
    /// `-shared` or `-dynlink`, first of the flags compile and asm are forced to take.
    pub codegen: Option<&'static str>,
    /// The install suffix compile and link are told (`-installsuffix`): the
    /// user's, then the code-generation flag's name when a mode other than
    /// `default` (or `-linkshared`) asked for one.
    pub install_suffix: String,
    /// The linker's `-buildmode` (`None` for modes that link nothing).
    pub ld_mode: Option<&'static str>,
    goos: String,
    goarch: String,
}

/// What cmd/go's `buildModeInit` stops with (unprefixed, exit status 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildModeError {
    /// A value cmd/go does not know.
    #[error("buildmode={0} not supported")]
    Unknown(String),
    /// `-buildmode=shared -o …`.
    #[error("-buildmode=shared and -o not supported together")]
    SharedWithOutput,
    /// A mode the target cannot build.
    #[error("-buildmode={mode} not supported on {goos}/{goarch}")]
    NotOnTarget {
        /// The mode.
        mode: &'static str,
        /// The target.
        goos: String,
        /// The target.
        goarch: String,
    },
    /// `-linkshared` on a target without shared libraries.
    #[error("-linkshared not supported on {goos}/{goarch}")]
    LinksharedNotOnTarget {
        /// The target.
        goos: String,
        /// The target.
        goarch: String,
    },
}

impl BuildMode {
    /// Resolves the flags for `goos/goarch` (cgo off, the gc compiler).
    pub fn resolve(
        f: &BuildModeFlags,
        goos: &str,
        goarch: &str,
    ) -> Result<BuildMode, BuildModeError> {
        let name = f.buildmode.as_deref().unwrap_or("default");
        let mode = Mode::parse(name).ok_or_else(|| BuildModeError::Unknown(name.to_string()))?;
        let unix_shared = matches!(
            goos,
            "dragonfly" | "freebsd" | "illumos" | "linux" | "netbsd" | "openbsd" | "solaris"
        );
        let (filter, mut codegen, ld_mode) = match mode {
            Mode::Archive => (Filter::NotMain, None, None),
            Mode::CArchive => {
                let shared = unix_shared
                    || (goos, goarch) == ("darwin", "arm64")
                    || (goos, goarch) == ("ios", "arm64");
                (
                    Filter::OneMain,
                    shared.then_some("-shared"),
                    Some("c-archive"),
                )
            }
            Mode::CShared => {
                let shared = matches!(goos, "linux" | "android" | "freebsd");
                (
                    Filter::OneMain,
                    shared.then_some("-shared"),
                    Some("c-shared"),
                )
            }
            Mode::Default => {
                let pie = default_pie(goos);
                let codegen = (pie && goos != "windows").then_some("-shared");
                (Filter::All, codegen, Some(if pie { "pie" } else { "exe" }))
            }
            Mode::Exe => {
                let filter = if f.output {
                    Filter::OneMain
                } else {
                    Filter::Main
                };
                (filter, None, Some("exe"))
            }
            Mode::Pie => {
                let codegen = (!matches!(goos, "aix" | "windows")).then_some("-shared");
                (Filter::All, codegen, Some("pie"))
            }
            Mode::Shared => {
                if f.output {
                    return Err(BuildModeError::SharedWithOutput);
                }
                (Filter::NotMain, Some("-dynlink"), Some("shared"))
            }
            Mode::Plugin => (Filter::OneMain, Some("-dynlink"), Some("plugin")),
        };
        if mode != Mode::Default && !mode_supported(mode, goos, goarch) {
            return Err(BuildModeError::NotOnTarget {
                mode: mode.name(),
                goos: goos.into(),
                goarch: goarch.into(),
            });
        }
        if f.linkshared {
            if !mode_supported(Mode::Shared, goos, goarch) {
                return Err(BuildModeError::LinksharedNotOnTarget {
                    goos: goos.into(),
                    goarch: goarch.into(),
                });
            }
            codegen = Some("-dynlink");
        }
        let mut install_suffix = f.installsuffix.clone().unwrap_or_default();
        if let Some(c) = codegen.filter(|_| mode != Mode::Default || f.linkshared) {
            if !install_suffix.is_empty() {
                install_suffix.push('_');
            }
            install_suffix.push_str(&c[1..]);
        }
        Ok(BuildMode {
            mode,
            linkshared: f.linkshared,
            filter,
            codegen,
            install_suffix,
            ld_mode,
            goos: goos.into(),
            goarch: goarch.into(),
        })
    }

    /// The flags compile gets before `-gcflags` (cmd/go's `forcedGcflags`).
    pub fn forced_gcflags(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self.codegen.into_iter().collect();
        if self.linkshared {
            v.push("-linkshared");
        }
        v
    }

    /// The flags asm gets before `-asmflags` (cmd/go's `forcedAsmflags`).
    pub fn forced_asmflags(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self.codegen.into_iter().collect();
        if self.linkshared {
            v.extend(["-D=GOBUILDMODE_shared=1", "-linkshared"]);
        }
        v
    }

    /// The flags link gets after its `-buildmode` (cmd/go's `forcedLdflags`).
    pub fn forced_ldflags(&self) -> Vec<&'static str> {
        if self.linkshared {
            vec!["-linkshared", "-w"]
        } else {
            Vec::new()
        }
    }

    /// Whether a linked result is installed executable (cmd/go's
    /// BuildInstallFunc: 0777 less the umask, but 0666 for the C and
    /// plugin modes).
    pub fn installs_executable(&self) -> bool {
        !matches!(self.mode, Mode::CArchive | Mode::CShared | Mode::Plugin)
    }

    /// The `-buildmode` build setting of a package (cmd/go records
    /// `default` as `exe` for a main package, `archive` for others).
    pub fn setting(&self, main: bool) -> &'static str {
        match self.mode {
            Mode::Default if main => "exe",
            Mode::Default => "archive",
            m => m.name(),
        }
    }

    /// Why a main package must be linked externally even without cgo
    /// (cmd/go's `externalLinkingReason`, before `-ldflags`), if it must.
    pub fn external_linking_reason(&self) -> Option<String> {
        let (goos, goarch) = (self.goos.as_str(), self.goarch.as_str());
        let must = match goos {
            "android" => goarch != "arm64",
            "ios" => goarch == "arm64",
            _ => false,
        };
        if must {
            return Some(format!("{goos}/{goarch}"));
        }
        match self.mode {
            Mode::CShared if goarch != "wasm" => return Some("-buildmode=c-shared".into()),
            Mode::Plugin => return Some("-buildmode=plugin".into()),
            _ => {}
        }
        if self.linkshared {
            return Some("-linkshared".into());
        }
        let pie = self.mode == Mode::Pie || self.mode == Mode::Default && default_pie(goos);
        if pie && !internal_link_pie(goos, goarch) {
            return Some(if self.mode == Mode::Pie {
                "-buildmode=pie".into()
            } else {
                "default PIE binary".into()
            });
        }
        None
    }

    /// What gob cannot build yet, though go would: the modes other than
    /// default, exe, pie, archive (and c-shared for wasm, linked internally),
    /// once past go's own refusals.
    pub fn gob_refusal(&self) -> Option<&'static str> {
        match self.mode {
            Mode::Default | Mode::Exe | Mode::Pie | Mode::Archive => None,
            // wasm links internally whatever the mode.
            Mode::CShared if self.goarch == "wasm" => None,
            Mode::CArchive => Some("cmd/link runs the host's ar to write a C archive, which gob's sandbox does not provide"),
            Mode::CShared | Mode::Plugin => Some("the link needs a host C linker, which gob's sandbox does not provide"),
            Mode::Shared => Some("a shared library of Go packages needs runtime/cgo, hence cgo, which gob does not build yet"),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// internal/platform.DefaultPIE without -race.
fn default_pie(goos: &str) -> bool {
    matches!(goos, "android" | "ios" | "windows" | "darwin")
}

/// internal/platform.InternalLinkPIESupported.
fn internal_link_pie(goos: &str, goarch: &str) -> bool {
    matches!(
        (goos, goarch),
        ("android", "arm64")
            | ("darwin", "amd64" | "arm64")
            | (
                "linux",
                "amd64" | "arm64" | "loong64" | "ppc64" | "ppc64le" | "s390x"
            )
            | ("windows", "386" | "amd64" | "arm64")
    )
}

/// internal/platform.BuildModeSupported for gc, on a target gob knows.
fn mode_supported(mode: Mode, goos: &str, goarch: &str) -> bool {
    let linux = |archs: &[&str]| goos == "linux" && archs.contains(&goarch);
    let android = |archs: &[&str]| goos == "android" && archs.contains(&goarch);
    let one_of = |targets: &[(&str, &str)]| targets.contains(&(goos, goarch));
    match mode {
        Mode::Default | Mode::Exe | Mode::Archive => true,
        Mode::CArchive => match goos {
            "aix" | "darwin" | "ios" | "windows" => true,
            "linux" => matches!(
                goarch,
                "386"
                    | "amd64"
                    | "arm"
                    | "armbe"
                    | "arm64"
                    | "arm64be"
                    | "loong64"
                    | "ppc64"
                    | "ppc64le"
                    | "riscv64"
                    | "s390x"
            ),
            "freebsd" => goarch == "amd64",
            _ => false,
        },
        Mode::CShared => {
            linux(&[
                "amd64", "arm", "arm64", "loong64", "386", "ppc64", "ppc64le", "riscv64", "s390x",
            ]) || android(&["amd64", "arm", "arm64", "386"])
                || one_of(&[
                    ("freebsd", "amd64"),
                    ("darwin", "amd64"),
                    ("darwin", "arm64"),
                    ("windows", "amd64"),
                    ("windows", "386"),
                    ("windows", "arm64"),
                    ("wasip1", "wasm"),
                ])
        }
        Mode::Pie => {
            linux(&[
                "386", "amd64", "arm", "arm64", "loong64", "ppc64", "ppc64le", "riscv64", "s390x",
            ]) || android(&["amd64", "arm", "arm64", "386"])
                || one_of(&[
                    ("freebsd", "amd64"),
                    ("darwin", "amd64"),
                    ("darwin", "arm64"),
                    ("ios", "amd64"),
                    ("ios", "arm64"),
                    ("aix", "ppc64"),
                    ("openbsd", "arm64"),
                    ("windows", "386"),
                    ("windows", "amd64"),
                    ("windows", "arm64"),
                ])
        }
        Mode::Shared => linux(&["386", "amd64", "arm", "arm64", "ppc64", "ppc64le", "s390x"]),
        Mode::Plugin => {
            linux(&[
                "amd64", "arm", "arm64", "386", "loong64", "riscv64", "s390x", "ppc64", "ppc64le",
            ]) || android(&["amd64", "386"])
                || one_of(&[
                    ("darwin", "amd64"),
                    ("darwin", "arm64"),
                    ("freebsd", "amd64"),
                ])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizers_need_cgo_only_while_it_is_off() {
        let race = BuildModeFlags {
            race: true,
            ..Default::default()
        };
        let host = ("linux", "amd64");
        assert_eq!(
            check_instrument(&race, host, host, false),
            Err(InstrumentError::NeedsCgo {
                flag: "race",
                host: true
            })
        );
        // With cgo go builds it: gob's own refusal, not go's advice to set
        // the CGO_ENABLED=1 that is already set.
        assert_eq!(
            check_instrument(&race, host, host, true),
            Ok(Some(InstrumentError::NotByGob("race")))
        );
    }

    fn resolve(
        mode: &str,
        suffix: &str,
        linkshared: bool,
        goos: &str,
        goarch: &str,
    ) -> Result<BuildMode, BuildModeError> {
        let f = BuildModeFlags {
            buildmode: Some(mode.into()),
            installsuffix: (!suffix.is_empty()).then(|| suffix.into()),
            linkshared,
            ..Default::default()
        };
        BuildMode::resolve(&f, goos, goarch)
    }

    #[test]
    fn install_suffix_as_build_mode_init() {
        // A mode's code-generation flag names the suffix; default's never does.
        assert_eq!(
            resolve("pie", "", false, "linux", "amd64")
                .unwrap()
                .install_suffix,
            "shared"
        );
        assert_eq!(
            resolve("pie", "foo", false, "linux", "amd64")
                .unwrap()
                .install_suffix,
            "foo_shared"
        );
        assert_eq!(
            resolve("default", "", false, "darwin", "arm64")
                .unwrap()
                .install_suffix,
            ""
        );
        assert_eq!(
            resolve("pie", "", false, "windows", "amd64")
                .unwrap()
                .install_suffix,
            ""
        );
        assert_eq!(
            resolve("exe", "x", false, "linux", "amd64")
                .unwrap()
                .install_suffix,
            "x"
        );
        assert_eq!(
            resolve("default", "", true, "linux", "amd64")
                .unwrap()
                .install_suffix,
            "dynlink"
        );
    }

    #[test]
    fn refusals_in_build_mode_init_order() {
        assert_eq!(
            resolve("frob", "", true, "windows", "amd64")
                .unwrap_err()
                .to_string(),
            "buildmode=frob not supported"
        );
        assert_eq!(
            resolve("pie", "", false, "js", "wasm")
                .unwrap_err()
                .to_string(),
            "-buildmode=pie not supported on js/wasm"
        );
        assert_eq!(
            resolve("exe", "", true, "windows", "amd64")
                .unwrap_err()
                .to_string(),
            "-linkshared not supported on windows/amd64"
        );
        let f = BuildModeFlags {
            buildmode: Some("shared".into()),
            output: true,
            ..Default::default()
        };
        assert_eq!(
            BuildMode::resolve(&f, "windows", "amd64").unwrap_err(),
            BuildModeError::SharedWithOutput
        );
    }
}
