//! Work directories (`$TMPDIR/gob-build-*`, `gob-audit-*`): made fresh with
//! an owner lock, removed at any depth, removed when gob is interrupted, and
//! swept by a later build when the gob that made them died.
//!
//! Ownership: each work directory holds `.gob-owner`, a file its gob keeps
//! open with an exclusive `flock` for as long as it lives (the kernel drops
//! the lock when the process dies, however it dies). A later build that can
//! take the lock knows the owner is gone and removes the directory. The file
//! is made under another name, locked, then renamed into place, so a sweep
//! never sees it unlocked while its owner lives. A kept directory (`--work`)
//! loses the file and is never swept.
//!
//! Interruption: [`clean_up_on_signals`] blocks SIGINT, SIGTERM and SIGHUP in
//! every thread and waits for them on one thread of its own; on one, every
//! running action is killed and no run may write any more
//! (`exec::runner::stop_all`), every registered work directory is removed, and gob dies of the same signal (the conventional
//! status: 130 for SIGINT in a shell).

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// The owner file's name.
const OWNER: &str = ".gob-owner";

/// Set once a signal has been received: gob is cleaning up and will die of it.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether gob received SIGINT, SIGTERM or SIGHUP and is ending: failures
/// seen now are the interruption's, not the build's, and are not reported;
/// `main` must not return (the signal thread ends the process).
pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}

/// While `gob run`'s program runs in the foreground, SIGINT is the
/// program's to handle (the terminal sends it to both), and gob waits for
/// it, as go run does (cmd/go's StartSigHandlers). One state, changed only
/// by compare-and-swap, so the signal thread and [`in_foreground`] agree on
/// whether a SIGINT came while the program ran.
static FOREGROUND: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(IDLE);
/// No program in the foreground: a SIGINT interrupts gob.
const IDLE: u8 = 0;
/// A program in the foreground, no SIGINT yet.
const WAITING: u8 = 1;
/// A program in the foreground, and a SIGINT came.
const GOT_SIGINT: u8 = 2;

/// Runs `f` (which waits for a program gob started) with SIGINT left to
/// that program: gob neither dies of it nor cleans up until `f` returns.
/// Also says whether a SIGINT came meanwhile (go run then exits 1),
/// including one still pending when `f` returns (the signal thread had not
/// been scheduled yet): it is taken here, not left to interrupt gob.
pub fn in_foreground<T>(f: impl FnOnce() -> T) -> (T, bool) {
    use std::sync::atomic::Ordering::SeqCst;
    FOREGROUND.store(WAITING, SeqCst);
    let r = f();
    let mut got = FOREGROUND.swap(IDLE, SeqCst) == GOT_SIGINT;
    // SAFETY: a zeroed set filled by sigpending; sigtimedwait with a zero
    // timeout takes a SIGINT blocked in every thread, if one is pending.
    unsafe {
        let mut pending: libc::sigset_t = std::mem::zeroed();
        if libc::sigpending(&mut pending) == 0 && libc::sigismember(&pending, libc::SIGINT) == 1 {
            let mut one: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut one);
            libc::sigaddset(&mut one, libc::SIGINT);
            let zero = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            if libc::sigtimedwait(&one, std::ptr::null_mut(), &zero) == libc::SIGINT {
                got = true;
            }
        }
    }
    (r, got)
}

/// Work directories removed on a signal.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A work directory this process owns; removed when dropped unless kept.
#[derive(Debug)]
pub struct WorkDir {
    path: PathBuf,
    /// The locked owner file (None once kept or removed).
    lock: Option<File>,
}

impl WorkDir {
    /// A fresh directory `BASE/PREFIX-PID-NANOS-N` with its owner lock.
    pub fn create(base: &Path, prefix: &str) -> std::io::Result<WorkDir> {
        let path = fresh_dir(base, prefix)?;
        let lock = (|| {
            let tmp = path.join(".gob-owner-new");
            let f = File::options().write(true).create_new(true).open(&tmp)?;
            // SAFETY: flock on our own descriptor.
            if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            std::fs::rename(&tmp, path.join(OWNER))?;
            Ok(f)
        })();
        let lock = match lock {
            Ok(f) => f,
            Err(e) => {
                let _ = gob_sandbox::tree::remove(&path);
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("{}: owner lock: {e}", path.display()),
                ));
            }
        };
        live().push(path.clone());
        Ok(WorkDir {
            path,
            lock: Some(lock),
        })
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps the directory for the user: set-id, sticky and world-write bits
    /// that tools left are taken off everything in it, and the owner lock
    /// goes, so no later build removes it.
    pub fn keep(mut self) -> Result<PathBuf, String> {
        let mut live = live();
        live.retain(|p| p != &self.path);
        let path = std::mem::take(&mut self.path);
        let _ = std::fs::remove_file(path.join(OWNER));
        self.lock = None;
        gob_sandbox::tree::normalize_modes(&path)
            .map_err(|e| format!("keeping work directory {}: {e}", path.display()))?;
        Ok(path)
    }
}

impl Drop for WorkDir {
    /// Removes it, holding the registry meanwhile: a signal arriving now
    /// waits for the removal instead of ending gob halfway through it.
    fn drop(&mut self) {
        if self.path.as_os_str().is_empty() {
            return;
        }
        let mut live = live();
        if let Err(e) = gob_sandbox::tree::remove(&self.path) {
            eprintln!("gob: warning: removing work directory: {e}");
        }
        live.retain(|p| p != &self.path);
    }
}

/// A fresh directory `BASE/PREFIX-PID-NANOS-N`.
fn fresh_dir(base: &Path, prefix: &str) -> std::io::Result<PathBuf> {
    for n in 0..100u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let d = base.join(format!("{prefix}-{}-{nanos}-{n}", std::process::id()));
        match std::fs::create_dir(&d) {
            Ok(()) => return Ok(d),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("{}: {e}", d.display()),
                ))
            }
        }
    }
    Err(std::io::Error::other(format!(
        "could not create a directory under {}",
        base.display()
    )))
}

/// Removes the `BASE/PREFIX-*` directories of gobs that died (their owner
/// lock is free) and that this user owns; returns how many. Directories
/// without an owner file (kept with `--work`, or made by something else)
/// are left alone. Cheap: one listing of BASE and an open per candidate.
pub fn sweep(base: &Path, prefix: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(base) else {
        return 0;
    };
    let me = unsafe { libc::geteuid() };
    let want = format!("{prefix}-");
    let mut removed = 0;
    for e in entries.flatten() {
        if !e.file_name().to_string_lossy().starts_with(&want) {
            continue;
        }
        let dir = e.path();
        use std::os::unix::fs::MetadataExt;
        match std::fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() && m.uid() == me => {}
            _ => continue,
        }
        let owner = File::options()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(dir.join(OWNER));
        let Ok(owner) = owner else { continue };
        // SAFETY: flock on our own descriptor.
        if unsafe { libc::flock(owner.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            continue;
        }
        if gob_sandbox::tree::remove(&dir).is_ok() {
            removed += 1;
        }
    }
    removed
}

use std::os::unix::fs::OpenOptionsExt;

/// The signals that end gob after cleaning up.
const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Call first in `main`, before any thread starts: SIGINT, SIGTERM and SIGHUP
/// (those not ignored when gob started, as `nohup` leaves SIGHUP) are blocked
/// in every thread and handled by one: kill every running action, remove
/// every live work directory, then die of the signal.
pub fn clean_up_on_signals() {
    // SAFETY: sigset and sigaction calls on local memory.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in SIGNALS {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(sig, std::ptr::null(), &mut old);
            if old.sa_sigaction != libc::SIG_IGN {
                libc::sigaddset(&mut set, sig);
            }
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    let waiter = move || loop {
        let mut sig: libc::c_int = 0;
        // SAFETY: a valid set and out-pointer.
        if unsafe { libc::sigwait(&set, &mut sig) } != 0 {
            continue;
        }
        if sig == libc::SIGINT {
            use std::sync::atomic::Ordering::SeqCst;
            // The program's, while it runs in the foreground.
            let taken = FOREGROUND
                .compare_exchange(WAITING, GOT_SIGINT, SeqCst, SeqCst)
                .is_ok()
                || FOREGROUND.load(SeqCst) == GOT_SIGINT;
            if taken {
                continue;
            }
        }
        INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
        crate::exec::runner::stop_all();
        let dirs: Vec<PathBuf> = live().drain(..).collect();
        for d in dirs {
            // A step finishing meanwhile may still add a file: try again.
            for attempt in 1..=10 {
                match gob_sandbox::tree::remove(&d) {
                    Ok(()) => break,
                    Err(e) if attempt == 10 => eprintln!("gob: removing work directory: {e}"),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
        // SAFETY: back to the default action, unblocked in this thread, and
        // raised here: gob ends as killed by `sig`.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            let mut one: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut one);
            libc::sigaddset(&mut one, sig);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &one, std::ptr::null_mut());
            libc::raise(sig);
        }
        std::process::exit(128 + sig);
    };
    if std::thread::Builder::new()
        .name("gob-signals".into())
        .spawn(waiter)
        .is_err()
    {
        // No thread: leave the default actions in place.
        // SAFETY: as above.
        unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_only_directories_whose_owner_is_gone() {
        let base = std::env::temp_dir().join(format!("gob-workdir-unit-{}", std::process::id()));
        let _ = gob_sandbox::tree::remove(&base);
        std::fs::create_dir_all(&base).unwrap();
        let alive = WorkDir::create(&base, "gob-build").unwrap();
        // A dead owner: the lock file is there, nobody holds it.
        let dead = fresh_dir(&base, "gob-build").unwrap();
        std::fs::create_dir_all(dead.join("b001/deep")).unwrap();
        std::fs::write(dead.join(OWNER), b"").unwrap();
        // Kept, or not gob's: no owner file.
        let kept = WorkDir::create(&base, "gob-build").unwrap();
        let kept = kept.keep().unwrap();
        let other = fresh_dir(&base, "other").unwrap();
        std::fs::write(other.join(OWNER), b"").unwrap();
        assert_eq!(sweep(&base, "gob-build"), 1);
        assert!(alive.path().is_dir() && kept.is_dir() && other.is_dir());
        assert!(!dead.exists());
        let p = alive.path().to_path_buf();
        drop(alive);
        assert!(!p.exists(), "removed when dropped");
        let _ = gob_sandbox::tree::remove(&base);
    }
}
