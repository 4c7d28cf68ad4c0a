//! Shared test support: the static helper program, scratch dirs, policies.
//!
//! `helper()` compiles `tests/helper/sbx-helper.c` with `$CC -static` (default
//! `cc`) once per test process into the target's test tmpdir (or, when that is
//! not writable, e.g. when the tests run as another user than the one who
//! built them, into $TMPDIR), and reuses an existing build that is newer than
//! the source. `SBX_HELPER=/path` overrides it.
#![allow(dead_code)]

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use gob_sandbox::{Bind, Limits, Mode, Policy, Sandbox};

/// The helper's C source.
pub const HELPER_SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/helper/sbx-helper.c");

/// Where the helper is bound inside namespace sandboxes.
pub const HELPER_INSIDE: &str = "/bin/sbx-helper";

fn fresh(bin: &Path) -> bool {
    let (Ok(b), Ok(s)) = (std::fs::metadata(bin), std::fs::metadata(HELPER_SOURCE)) else {
        return false;
    };
    b.modified().ok() >= s.modified().ok()
}

fn compile(dir: &Path) -> Result<PathBuf, String> {
    let bin = dir.join("sbx-helper");
    if fresh(&bin) {
        return Ok(bin);
    }
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let tmp = dir.join(format!("sbx-helper.{}.tmp", std::process::id()));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .args(["-static", "-O2", "-o"])
        .arg(&tmp)
        .arg(HELPER_SOURCE)
        .output()
        .map_err(|e| format!("{cc}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cc} -static failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, &bin).map_err(|e| e.to_string())?;
    Ok(bin)
}

/// The static helper program (host path), built once.
pub fn helper() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("SBX_HELPER") {
            return PathBuf::from(p);
        }
        // SAFETY: plain getter.
        let uid = unsafe { libc::geteuid() };
        let fallback = std::env::temp_dir().join(format!("gob-sandbox-helper-{uid}"));
        option_env!("CARGO_TARGET_TMPDIR")
            .map_or_else(|| Err(String::new()), |t| compile(Path::new(t)))
            .or_else(|_| compile(&fallback))
            .unwrap_or_else(|e| panic!("cannot build the static test helper: {e}"))
    })
}

/// A scratch directory, removed on drop. World-readable so that a root
/// caller's sandbox (which runs as nobody) can read inputs in it.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let d =
            std::env::temp_dir().join(format!("gob-sbx-test-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        Scratch(d)
    }
    pub fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
    /// Creates a file (and its parents) with `data`.
    pub fn file(&self, rel: &str, data: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
        p
    }
    /// Creates a directory (and its parents).
    pub fn dir(&self, rel: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(&p).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A policy running the helper with `args`, for `mode`: in namespace modes
/// the helper is at [`HELPER_INSIDE`] and the cwd is `/`; otherwise host
/// paths are used.
pub fn policy(mode: Mode, args: &[&str]) -> Policy {
    let host = helper().to_path_buf();
    let program = if mode.remaps_paths() {
        PathBuf::from(HELPER_INSIDE)
    } else {
        host.clone()
    };
    Policy {
        program: program.clone(),
        args: args.iter().map(OsString::from).collect(),
        env: vec![("PATH".into(), "/bin".into())],
        cwd: "/".into(),
        inputs: vec![Bind {
            host,
            inside: program,
        }],
        outputs: vec![],
        limits: Limits {
            wall: Some(std::time::Duration::from_secs(30)),
            ..Limits::default()
        },
        hostname: "gob".into(),
    }
}

/// The sandbox for `mode`, or None (with a note on stderr) when the host
/// cannot provide it: tests of that mode then pass vacuously.
pub fn sandbox(mode: Mode) -> Option<Sandbox> {
    match Sandbox::new(mode) {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("skipping: {e}");
            None
        }
    }
}

/// Stdout as a string.
pub fn stdout(o: &gob_sandbox::Outcome) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr as a string.
pub fn stderr(o: &gob_sandbox::Outcome) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every mode that isolates.
pub const MODES: [Mode; 4] = [Mode::Full, Mode::Namespaces, Mode::Landlock, Mode::None];
