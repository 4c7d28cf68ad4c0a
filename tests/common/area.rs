//! A scratch area for build tests: its own HOME, caches and output dir, and a
//! controlled environment for running gob and go.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch area with its own HOME, GOBCACHE and GOCACHE.
pub struct Area {
    /// The directory holding home/, gobcache/, gocache/, out/, tmp/, modcache/.
    pub root: PathBuf,
}

impl Area {
    /// A fresh area under the test target dir, named by `tag` and the pid.
    pub fn new(tag: &str) -> Area {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("build-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for d in ["home", "gobcache", "gocache", "out", "tmp", "modcache"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        Area { root }
    }

    /// The controlled environment for gob and go.
    pub fn env(&self, goarch: &str) -> Vec<(String, String)> {
        let p = |d: &str| self.root.join(d).to_string_lossy().into_owned();
        vec![
            ("PATH".into(), "/usr/bin:/bin".into()),
            ("HOME".into(), p("home")),
            ("GOBCACHE".into(), p("gobcache")),
            ("GOCACHE".into(), p("gocache")),
            ("TMPDIR".into(), p("tmp")),
            (
                "GOROOT".into(),
                super::goroot().to_string_lossy().into_owned(),
            ),
            ("GOOS".into(), "linux".into()),
            ("GOARCH".into(), goarch.into()),
            ("CGO_ENABLED".into(), "0".into()),
            ("GOFLAGS".into(), String::new()),
            ("GOTOOLCHAIN".into(), "local".into()),
            ("GOPROXY".into(), "off".into()),
            ("GOWORK".into(), "off".into()),
            ("GOMODCACHE".into(), p("modcache")),
            ("GOSUMDB".into(), "off".into()),
        ]
    }

    /// Runs `exe args` in `dir` with [`Area::env`].
    pub fn run(&self, exe: &Path, dir: &Path, args: &[&str], goarch: &str) -> Output {
        Command::new(exe)
            .args(args)
            .current_dir(dir)
            .env_clear()
            .envs(self.env(goarch))
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", exe.display()))
    }
}

/// The first line on stderr (empty if none).
pub fn first_stderr_line(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

/// The first line of stderr, go's `go: ` prefix read as gob's.
pub fn first_line(o: &Output) -> String {
    let s = String::from_utf8_lossy(&o.stderr);
    let l = s.lines().next().unwrap_or("");
    match l.strip_prefix("go: ") {
        Some(rest) => format!("gob: {rest}"),
        None => l.to_string(),
    }
}

/// stdout then stderr, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

impl Area {
    /// [`Area::env`] for amd64 with `extra` entries replacing or adding.
    pub fn env_with(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut env = self.env("amd64");
        for (k, v) in extra {
            env.retain(|(x, _)| x != k);
            env.push((k.to_string(), v.to_string()));
        }
        env
    }

    /// Runs gob with `extra` environment entries on top of [`Area::env`].
    pub fn gob(&self, dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
        self.run_with(&super::gob_binary(), dir, args, extra)
    }

    /// Runs `exe args` in `dir` with [`Area::env_with`]`(extra)`.
    pub fn run_with(
        &self,
        exe: &Path,
        dir: &Path,
        args: &[&str],
        extra: &[(&str, &str)],
    ) -> Output {
        Command::new(exe)
            .args(args)
            .current_dir(dir)
            .env_clear()
            .envs(self.env_with(extra))
            .output()
            .unwrap_or_else(|e| panic!("running {} {args:?}: {e}", exe.display()))
    }

    /// Runs gob as [`Area::gob`] does, its stdout and stderr to files under
    /// `out/`; returns its exit code (None if a signal ended it), stdout
    /// then stderr as text, and its peak resident memory in bytes (wait4's
    /// ru_maxrss, which also folds in its reaped children's peaks).
    pub fn gob_rss(&self, dir: &Path, args: &[&str]) -> (Option<i32>, String, u64) {
        let log = self.path(&format!("out/rss-{}.log", std::process::id()));
        let out = self.path(&format!("out/rss-{}.out", std::process::id()));
        // Reaped by wait4 below, for its rusage.
        #[allow(clippy::zombie_processes)]
        let child = Command::new(super::gob_binary())
            .args(args)
            .current_dir(dir)
            .env_clear()
            .envs(self.env("amd64"))
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("running gob {args:?}: {e}"));
        let mut status = 0;
        // SAFETY: a zeroed rusage is valid; the pid is our own child's.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut ru) };
        assert_eq!(pid, child.id() as i32, "wait4");
        let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&std::fs::read(&out).unwrap_or_default()),
            String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default())
        );
        (code, text, ru.ru_maxrss as u64 * 1024)
    }

    /// Builds fixtures/toolexec-probe with these `-X main.K=V` settings into
    /// `out/probe-NAME`.
    pub fn probe(&self, name: &str, settings: &[(&str, &str)]) -> PathBuf {
        let out = self.path(&format!("out/probe-{name}"));
        let ldflags = settings
            .iter()
            .map(|(k, v)| format!("-X=main.{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ");
        let o = self.gob(
            &super::repo_root().join("fixtures/toolexec-probe"),
            &[
                "build",
                &format!("-ldflags={ldflags}"),
                "-o",
                out.to_str().unwrap(),
                ".",
            ],
            &[],
        );
        assert!(o.status.success(), "building the probe: {}", text(&o));
        out
    }

    /// Builds `args… -o out/NAME-{gob,go} .` in `dir` with gob and with
    /// `go build -trimpath -buildvcs=false`, with `extra` on top of
    /// [`Area::env`] for `goarch`; both must succeed. Returns (gob's, go's).
    pub fn build_both(
        &self,
        dir: &Path,
        name: &str,
        args: &[&str],
        goarch: &str,
        extra: &[(&str, &str)],
    ) -> (PathBuf, PathBuf) {
        let mut env = self.env(goarch);
        for (k, v) in extra {
            env.retain(|(x, _)| x != k);
            env.push((k.to_string(), v.to_string()));
        }
        let ours = self.path(&format!("out/{name}-gob"));
        let theirs = self.path(&format!("out/{name}-go"));
        for (exe, out, go_only) in [
            (super::gob_binary(), &ours, &[][..]),
            (
                super::go_binary(),
                &theirs,
                &["-trimpath", "-buildvcs=false"][..],
            ),
        ] {
            let mut argv = vec!["build"];
            argv.extend_from_slice(go_only);
            argv.extend_from_slice(args);
            argv.extend(["-o", out.to_str().unwrap(), "."]);
            let o = Command::new(&exe)
                .args(&argv)
                .current_dir(dir)
                .env_clear()
                .envs(env.clone())
                .output()
                .unwrap_or_else(|e| panic!("running {}: {e}", exe.display()));
            assert!(
                o.status.success(),
                "{name}: {} {argv:?}: {}",
                exe.display(),
                text(&o)
            );
        }
        (ours, theirs)
    }

    /// A path under the area.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// A fresh copy of `fixtures/FIXTURE` at `area/name` (tests write into it).
    pub fn copy_fixture(&self, fixture: &str, name: &str) -> PathBuf {
        let dst = self.path(name);
        let _ = fs::remove_dir_all(&dst);
        let st = Command::new("cp")
            .arg("-a")
            .arg(super::repo_root().join("fixtures").join(fixture))
            .arg(&dst)
            .status()
            .unwrap();
        assert!(st.success(), "copying fixtures/{fixture}");
        dst
    }
}

/// The packages of a `list -json` stream, without the fields in `drop`.
pub fn list_stream(o: &Output, drop: &[&str]) -> Vec<serde_json::Value> {
    serde_json::Deserializer::from_slice(&o.stdout)
        .into_iter::<serde_json::Value>()
        .map(|v| {
            let mut v = v.expect("list -json output");
            if let Some(m) = v.as_object_mut() {
                for k in drop {
                    m.remove(*k);
                }
            }
            v
        })
        .collect()
}

/// `go version -m BIN` without its first line (the file name): the build info.
pub fn build_info(area: &Area, dir: &Path, bin: &Path) -> String {
    let o = area.run(
        &super::go_binary(),
        dir,
        &["version", "-m", bin.to_str().unwrap()],
        "amd64",
    );
    assert!(
        o.status.success(),
        "go version -m {}: {}",
        bin.display(),
        text(&o)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n")
}
