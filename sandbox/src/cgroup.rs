//! Cgroup v2: a delegated cgroup found once per process, and one child cgroup per run.
//!
//! Lifecycle:
//!
//! 1. [`delegated`] (once): our cgroup is the `0::` line of
//!    `/proc/self/cgroup`, found on disk under the cgroup2 mount of
//!    `/proc/self/mountinfo`. It is usable when we may write it and its
//!    `cgroup.controllers` offers `memory` and `pids`. The kernel lets a
//!    cgroup enable controllers for its children only when it holds no
//!    process itself, so when we are its only process we move into a leaf
//!    child `gob.<pid>` and enable `+memory +pids` in its
//!    `cgroup.subtree_control` (what a systemd-delegated program does). When
//!    other processes share it we do not move them: we fall back to rlimits
//!    and say why ([`Fallback::Note`]).
//! 2. [`Base::create`] (per run): a sibling `gob.<pid>.a<n>` with
//!    `memory.max`, `memory.swap.max = 0`, `memory.oom.group = 1` and
//!    `pids.max` from the run's limits.
//! 3. [`Action::enter`]: the parent writes the child's pid into its
//!    `cgroup.procs` during the spawn handshake, before the child may exec,
//!    so every process of the run is born inside.
//! 4. [`Action::kill`] when the child exits or times out (`cgroup.kill`; on
//!    kernels before 5.14, freeze, SIGKILL each member, thaw), and
//!    [`Action::finish`]: read `memory.events`' `oom_kill`, wait until the
//!    cgroup is empty, remove it.
//!
//! `GOB_CGROUP=off` in the environment skips all of it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::SandboxError;

/// How long [`Action::finish`] waits for a killed cgroup to empty.
const EMPTY_WAIT: Duration = Duration::from_secs(5);

/// The delegated cgroup the runs' cgroups are made in.
#[derive(Debug)]
pub(crate) struct Base {
    /// Our original cgroup (on disk): it holds the leaf we moved into and
    /// the runs' cgroups.
    dir: PathBuf,
    /// The next run's number.
    next: AtomicU64,
}

/// Why no cgroup is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fallback {
    /// `GOB_CGROUP=off`.
    Off,
    /// The host has no usable delegation: nothing the user asked for is
    /// lost, so nothing is said (the reason is kept for `Debug` and tests).
    Silent(String),
    /// A delegation exists but cannot be used as it is: worth telling once.
    Note(String),
}

static STATE: OnceLock<Result<Base, Fallback>> = OnceLock::new();

/// The delegated cgroup, set up on first use; or why there is none.
pub(crate) fn delegated() -> Result<&'static Base, &'static Fallback> {
    STATE
        .get_or_init(|| {
            if std::env::var_os("GOB_CGROUP").is_some_and(|v| v == "off") {
                return Err(Fallback::Off);
            }
            detect()
        })
        .as_ref()
}

/// Reads a small file, with the path in the error.
fn read(p: &Path) -> Result<String, String> {
    std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
}

/// Writes `data` to a cgroup file in one write(2), as the kernel wants.
fn write(p: &Path, data: &str) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(p)?
        .write_all(data.as_bytes())
}

/// Whether we may write `p` (access(2) with our real ids, as a shell's `-w`).
fn writable(p: &Path) -> bool {
    let c = crate::mounts::cstr(p);
    // SAFETY: a valid C string.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// Our cgroup v2 path from `/proc/self/cgroup` (the `0::` line).
fn own_path(proc_self_cgroup: &str) -> Option<&str> {
    proc_self_cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .filter(|p| p.starts_with('/'))
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        if let (b'\\', Some(d)) = (b[i], octal) {
            out.push(d.iter().fold(0u8, |v, c| v.wrapping_mul(8) + (c - b'0')));
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The directory of cgroup `path` under the first cgroup2 mount of
/// `mountinfo` whose root contains it.
fn on_disk(mountinfo: &str, path: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|l| {
        let (pre, post) = l.split_once(" - ")?;
        if post.split(' ').next()? != "cgroup2" {
            return None;
        }
        let f: Vec<&str> = pre.split(' ').collect();
        let (root, point) = (unescape(f.get(3)?), unescape(f.get(4)?));
        let rest = if root == "/" {
            path
        } else {
            path.strip_prefix(root.as_str())
                .filter(|r| r.is_empty() || r.starts_with('/'))?
        };
        Some(PathBuf::from(point).join(rest.trim_start_matches('/')))
    })
}

/// Finds and prepares the delegation (see the module doc, step 1).
fn detect() -> Result<Base, Fallback> {
    let silent = Fallback::Silent;
    let cg = read(Path::new("/proc/self/cgroup")).map_err(silent)?;
    let path = own_path(&cg).ok_or_else(|| silent("no cgroup v2 hierarchy".into()))?;
    let mi = read(Path::new("/proc/self/mountinfo")).map_err(silent)?;
    let dir = on_disk(&mi, path)
        .filter(|d| d.is_dir())
        .ok_or_else(|| silent(format!("cgroup {path}: no cgroup2 mount shows it")))?;
    let controllers = read(&dir.join("cgroup.controllers")).map_err(silent)?;
    let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
    if !has("memory") || !has("pids") {
        return Err(silent(format!(
            "cgroup {} offers the controllers [{}], not memory and pids",
            dir.display(),
            controllers.trim()
        )));
    }
    let files = ["cgroup.procs", "cgroup.subtree_control"];
    if !writable(&dir) || files.iter().any(|f| !writable(&dir.join(f))) {
        return Err(silent(format!(
            "cgroup {} is not delegated to us (not writable)",
            dir.display()
        )));
    }
    let me = std::process::id();
    let procs = read(&dir.join("cgroup.procs")).map_err(silent)?;
    let others: Vec<&str> = procs
        .split_whitespace()
        .filter(|p| *p != me.to_string())
        .collect();
    if !others.is_empty() {
        return Err(Fallback::Note(format!(
            "cgroup {} is delegated but also holds {} other process{} (pid {}): gob does not move them, so it cannot give each action a cgroup there; action memory is bounded by RLIMIT_AS instead. Start gob in a cgroup of its own, e.g. `systemd-run --user --scope -p Delegate=yes gob …` (GOB_CGROUP=off silences this)",
            dir.display(),
            others.len(),
            if others.len() == 1 { "" } else { "es" },
            others.iter().take(5).copied().collect::<Vec<_>>().join(", ")
        )));
    }
    let note = |what: String, e: std::io::Error| {
        Fallback::Note(format!(
            "cgroup {}: {what}: {e}; action memory is bounded by RLIMIT_AS instead",
            dir.display()
        ))
    };
    let leaf = dir.join(format!("gob.{me}"));
    std::fs::create_dir(&leaf).map_err(|e| note(format!("mkdir {}", leaf.display()), e))?;
    if let Err(e) = write(&leaf.join("cgroup.procs"), &me.to_string()) {
        let _ = std::fs::remove_dir(&leaf);
        return Err(note("moving gob into its leaf cgroup".into(), e));
    }
    let enabled = read(&dir.join("cgroup.subtree_control")).unwrap_or_default();
    let missing: Vec<String> = ["memory", "pids"]
        .into_iter()
        .filter(|c| !enabled.split_whitespace().any(|x| x == *c))
        .map(|c| format!("+{c}"))
        .collect();
    if !missing.is_empty() {
        if let Err(e) = write(&dir.join("cgroup.subtree_control"), &missing.join(" ")) {
            // Back where we were; the leaf goes.
            let _ = write(&dir.join("cgroup.procs"), &me.to_string());
            let _ = std::fs::remove_dir(&leaf);
            return Err(note(format!("enabling {}", missing.join(" ")), e));
        }
    }
    Ok(Base {
        dir,
        next: AtomicU64::new(0),
    })
}

/// The most `pids.max` takes (the kernel's PID_MAX_LIMIT); above it, EINVAL.
const PID_MAX_LIMIT: u64 = 1 << 22;

/// A limit as a cgroup file takes it: the number, or `max` for none or
/// one at or past what the file accepts.
fn limit(v: Option<u64>, most: u64) -> String {
    match v {
        Some(v) if v < most => v.to_string(),
        _ => "max".into(),
    }
}

/// One run's cgroup.
#[derive(Debug)]
pub(crate) struct Action {
    dir: PathBuf,
    /// Removed already (by `finish`).
    done: bool,
}

/// A setup error naming a cgroup file.
fn setup(step: String) -> impl FnOnce(std::io::Error) -> SandboxError {
    move |source| SandboxError::Setup { step, source }
}

impl Base {
    /// A fresh cgroup for one run with `memory` bytes (memory.max, no swap;
    /// the whole cgroup is killed on OOM) and `processes` tasks (pids.max).
    pub(crate) fn create(
        &self,
        memory: Option<u64>,
        processes: Option<u64>,
    ) -> Result<Action, SandboxError> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let dir = self.dir.join(format!("gob.{}.a{n}", std::process::id()));
        std::fs::create_dir(&dir).map_err(setup(format!("mkdir cgroup {}", dir.display())))?;
        let a = Action { dir, done: false };
        let mut settings = vec![
            ("memory.max", limit(memory, u64::MAX)),
            ("pids.max", limit(processes, PID_MAX_LIMIT)),
        ];
        // Optional files: no swap (memory.max must bound what it uses), and
        // one OOM kill takes the whole run, not just its largest process.
        for (f, v) in [("memory.swap.max", "0"), ("memory.oom.group", "1")] {
            if a.dir.join(f).exists() {
                settings.push((f, v.to_string()));
            }
        }
        for (f, v) in settings {
            let p = a.dir.join(f);
            write(&p, &v).map_err(setup(format!("write {v} to {}", p.display())))?;
        }
        Ok(a)
    }
}

impl Action {
    /// Moves `pid` (the child, waiting for the go byte) into this cgroup.
    pub(crate) fn enter(&self, pid: libc::pid_t) -> Result<(), SandboxError> {
        let p = self.dir.join("cgroup.procs");
        write(&p, &pid.to_string()).map_err(setup(format!("write {pid} to {}", p.display())))
    }

    /// The path (for tests and errors).
    #[cfg(test)]
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// SIGKILLs every process in the cgroup, escaped daemons included.
    pub(crate) fn kill(&self) {
        if write(&self.dir.join("cgroup.kill"), "1").is_ok() {
            return;
        }
        // Before Linux 5.14: frozen members cannot fork while we kill them.
        let frozen = write(&self.dir.join("cgroup.freeze"), "1").is_ok();
        if let Ok(procs) = std::fs::read_to_string(self.dir.join("cgroup.procs")) {
            for pid in procs.split_whitespace().filter_map(|p| p.parse().ok()) {
                // SAFETY: a member of our run's cgroup: a process of the run.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        if frozen {
            let _ = write(&self.dir.join("cgroup.freeze"), "0");
        }
    }

    /// Whether a process is still in the cgroup.
    fn populated(&self) -> bool {
        std::fs::read_to_string(self.dir.join("cgroup.events"))
            .is_ok_and(|e| e.lines().any(|l| l == "populated 1"))
    }

    /// Kills what is left, waits for the cgroup to empty and removes it.
    /// Returns whether the kernel's OOM killer acted in it (the run went
    /// past its memory limit).
    pub(crate) fn finish(mut self) -> bool {
        self.done = true;
        let oom = std::fs::read_to_string(self.dir.join("memory.events")).is_ok_and(|e| {
            e.lines()
                .filter_map(|l| l.strip_prefix("oom_kill "))
                .any(|n| n.trim() != "0")
        });
        self.remove();
        oom
    }

    /// Kills, waits (bounded) and removes the cgroup.
    fn remove(&self) {
        let deadline = Instant::now() + EMPTY_WAIT;
        self.kill();
        let mut pause = Duration::from_micros(100);
        loop {
            if !self.populated() {
                match std::fs::remove_dir(&self.dir) {
                    Ok(()) => return,
                    Err(e) if e.raw_os_error() != Some(libc::EBUSY) => return,
                    Err(_) => {}
                }
            }
            if Instant::now() >= deadline {
                return;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
            self.kill();
        }
    }
}

impl Drop for Action {
    /// A run that failed before `finish` (a setup error) still leaves nothing.
    fn drop(&mut self) {
        if !self.done {
            self.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_written_as_the_files_take_them() {
        assert_eq!(limit(Some(64 << 20), u64::MAX), "67108864");
        assert_eq!(limit(None, u64::MAX), "max");
        assert_eq!(limit(Some(4096), PID_MAX_LIMIT), "4096");
        assert_eq!(limit(Some(u64::MAX), PID_MAX_LIMIT), "max");
    }

    #[test]
    fn own_path_is_the_unified_line() {
        let hybrid = "4:memory:/x\n1:name=systemd:/\n0::/user.slice/gob.scope\n";
        assert_eq!(own_path(hybrid), Some("/user.slice/gob.scope"));
        assert_eq!(own_path("4:memory:/x\n"), None);
    }

    #[test]
    fn finds_the_cgroup2_mount_and_maps_its_root() {
        let mi = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
        assert_eq!(
            on_disk(mi, "/a/b"),
            Some(PathBuf::from("/sys/fs/cgroup/unified/a/b"))
        );
        assert_eq!(
            on_disk(mi, "/"),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        // A container's mount shows only its own subtree.
        let sub = "50 1 0:40 /ctr /sys/fs/cgroup\\040x rw - cgroup2 cgroup2 rw\n";
        assert_eq!(
            on_disk(sub, "/ctr/gob"),
            Some(PathBuf::from("/sys/fs/cgroup x/gob"))
        );
        assert_eq!(on_disk(sub, "/ctrl"), None);
        assert_eq!(on_disk(sub, "/other"), None);
    }
}
