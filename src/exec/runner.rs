//! The action runner: the one way gob runs an action, for a build, an audit and a replay alike.
//!
//! A caller resolves its action into a [`Spawn`]: the program, argv, env and
//! cwd as the action sees them, every declared input (where the action sees
//! it and where its bytes come from), the writable directory and the declared
//! outputs in it, the limits. [`Runner::run`] then owns every step that
//! touches the host on the action's behalf:
//! 1. staging: a fresh own directory; producers' outputs and generated files
//!    copied into place (each appearing whole, by a rename that never replaces
//!    one already placed; copies of the declared length), source files bound
//!    where they are;
//! 2. the sandbox policy: exactly the declared inputs read-only, the own
//!    directory writable, the declared environment;
//! 3. running: a tool in the sandbox; gob's own `pack r` on a thread with the
//!    same file confinement ([`gob_sandbox::Sandbox::run_in_thread`]), reading
//!    only declared inputs and writing only a declared output;
//! 4. collecting each declared output with one open (`O_NOFOLLOW`,
//!    `O_NONBLOCK`, beneath the own directory), `fstat` on that descriptor
//!    (a plain file with one link), its canonical mode and digest from it;
//! 5. on failure, naming an undeclared read.
//!
//! What stays with the callers is what is theirs: the build's keys, cache and
//! scheduling (`run.rs`), the replay's trace, store and verdicts (`replay.rs`).
//! The conversions into a [`Spawn`] are one function each:
//! `run::spawn_of` and `replay::spawn_of`.

use std::ffi::OsString;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::ExecStatus;
use crate::cache::Digest;

/// Who asked: named in errors and notes.
#[derive(Clone, Debug)]
pub struct Label {
    /// `b012`.
    pub id: String,
    /// `compile`, `pack`…
    pub kind: String,
    /// The package's import path.
    pub package: String,
}

impl Label {
    /// `action b012 (compile of example.com/x)`, for errors and notes.
    pub fn describe(&self) -> String {
        format!("action {} ({} of {})", self.id, self.kind, self.package)
    }
}

/// What an action runs.
#[derive(Clone, Debug)]
pub enum Program {
    /// A toolchain tool.
    Tool {
        /// The binary on the host.
        host: PathBuf,
        /// Where the action sees it (its host path when paths are not remapped).
        at: PathBuf,
        /// `-toolexec PROG`: the action runs `PROG ARGS TOOL TOOL-ARGS`.
        wrapper: Option<Wrapper>,
    },
    /// gob's own `pack r OUT BASE OBJ…` (argv is `OUT BASE OBJ…`).
    Pack,
    /// `/bin/sh` on the caller's terminal, with the host's /usr, /bin, /lib
    /// and /lib64 read-only besides the inputs (`gob replay --shell`).
    Shell,
}

/// A `-toolexec` program as an action runs it.
#[derive(Clone, Debug)]
pub struct Wrapper {
    /// The program on the host.
    pub host: PathBuf,
    /// Where the action sees it.
    pub at: PathBuf,
    /// Its arguments, before the tool's path.
    pub args: Vec<String>,
    /// What it needs to start (interpreters, loader, libraries): (host, at).
    pub runtime: Vec<(PathBuf, PathBuf)>,
}

/// One declared input.
#[derive(Clone, Debug)]
pub struct SpawnInput {
    /// Where the action sees it.
    pub at: PathBuf,
    /// Where its bytes come from.
    pub data: InputData,
}

/// Where an input's bytes come from.
#[derive(Clone, Debug)]
pub enum InputData {
    /// A host file, bound read-only where the action sees it (used where it
    /// is when paths are not remapped: then `at` is this path). Staging
    /// checks it again: a regular file, not a link, of `size` bytes when
    /// that is known (the size its digest is of).
    Bind {
        /// The host file (its resolved path: no link on the way).
        host: PathBuf,
        /// Its size when it was hashed.
        size: Option<u64>,
    },
    /// A copy placed at the host path `dest` (the first of `from` that can
    /// be copied and has `size` bytes), renamed into place so it appears whole; never a
    /// link. A `dest` already present was placed by its producer or by
    /// another consumer and is kept.
    Copy {
        /// The host path of the copy.
        dest: PathBuf,
        /// Candidate sources, in order.
        from: Vec<PathBuf>,
        /// The bytes' digest.
        digest: Digest,
        /// Their size.
        size: u64,
    },
    /// Bytes written at the host path `dest`, below the own directory.
    Bytes {
        /// The host path.
        dest: PathBuf,
        /// The content.
        bytes: Vec<u8>,
    },
}

impl InputData {
    /// The host file the action reads.
    fn host(&self) -> &Path {
        match self {
            InputData::Bind { host, .. } => host,
            InputData::Copy { dest, .. } | InputData::Bytes { dest, .. } => dest,
        }
    }
}

/// One declared output, below the own directory.
#[derive(Clone, Debug)]
pub struct SpawnOutput {
    /// Its stable name (`_pkg_.a`).
    pub name: String,
    /// Its path relative to the own directory (plain components only).
    pub rel: String,
    /// Executable (mode 0755, else 0644).
    pub exec: bool,
}

/// A fully resolved action.
#[derive(Clone, Debug)]
pub struct Spawn {
    /// Who it is.
    pub label: Label,
    /// What runs.
    pub program: Program,
    /// The arguments after the program, as the action sees paths.
    pub argv: Vec<String>,
    /// The declared environment (shown, recorded, keyed by the callers).
    pub env: Vec<(String, String)>,
    /// Added after `env`, never overriding it, never shown (`gob audit`'s noise).
    pub noise_env: Vec<(String, String)>,
    /// The working directory as the action sees it.
    pub cwd: PathBuf,
    /// Every declared input.
    pub inputs: Vec<SpawnInput>,
    /// The C toolchain's files and directories (`crate::cc`), bound
    /// read-only where the compiler names them: (host, path).
    pub toolchain: Vec<(PathBuf, PathBuf)>,
    /// The writable directory: (host, where the action sees it).
    pub own: (PathBuf, PathBuf),
    /// Every declared output.
    pub outputs: Vec<SpawnOutput>,
    /// Limits of the run.
    pub limits: gob_sandbox::Limits,
}

/// One collected output.
#[derive(Clone, Debug)]
pub struct Collected {
    /// Its name.
    pub name: String,
    /// The host path holding it (in the own directory).
    pub path: PathBuf,
    /// The descriptor that was checked and digested: the cache store and
    /// replay's store copy from it, never reopening `path`.
    pub file: std::sync::Arc<File>,
    /// Its digest, read from the descriptor that was checked.
    pub digest: Digest,
    /// Its size.
    pub size: u64,
    /// Executable.
    pub exec: bool,
}

/// What running a [`Spawn`] gave.
#[derive(Debug)]
pub struct Ran {
    /// The command line as run (for `-x`).
    pub cmdline: String,
    /// How it ended (`Error` for setup failures, before or after the tool).
    pub status: ExecStatus,
    /// Combined stdout and stderr.
    pub log: Vec<u8>,
    /// CPU time of the tool's process tree.
    pub cpu: Duration,
    /// What enforced it (None when it did not start).
    pub enforcement: Option<gob_sandbox::Enforcement>,
    /// After a success: each declared output, or why it is not a usable
    /// output (missing, a link, a second name of another file…).
    pub outputs: Vec<(String, Result<Collected, String>)>,
    /// After a failure: gob's explanation when the tool named an
    /// undeclared path that exists on this host.
    pub note: Option<String>,
}

/// Held (shared) by every run from staging to collection, the time it
/// writes in a work directory; taken exclusively, and never given back, by
/// [`stop_all`].
static RUNS: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// For a gob about to exit on a signal: kills every running action (its
/// whole tree), keeps any from starting, and waits (up to 10 s) until no run
/// writes in a work directory any more, so the directories can be removed
/// without a stager recreating part of them.
pub fn stop_all() {
    gob_sandbox::interrupt(Duration::from_secs(5));
    let end = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < end {
        match RUNS.try_write() {
            Ok(g) => return std::mem::forget(g),
            Err(std::sync::TryLockError::Poisoned(p)) => return std::mem::forget(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => {
                std::thread::sleep(Duration::from_millis(5))
            }
        }
    }
}

/// Runs spawns in one sandbox.
pub struct Runner<'a> {
    sandbox: &'a gob_sandbox::Sandbox,
}

impl<'a> Runner<'a> {
    /// A runner over `sandbox` (its mode decides whether `at` paths are
    /// remapped). Says once per process why a delegated cgroup v2 could not
    /// be used, when the sandbox has a note about it.
    pub fn new(sandbox: &'a gob_sandbox::Sandbox) -> Runner<'a> {
        static CGROUP_NOTE: std::sync::Once = std::sync::Once::new();
        if let Some(n) = sandbox.cgroup_note() {
            CGROUP_NOTE.call_once(|| eprintln!("gob: note: {n}"));
        }
        Runner { sandbox }
    }

    /// Whether actions see inside paths (a mount namespace) or host paths.
    pub fn remaps_paths(&self) -> bool {
        self.sandbox.mode().remaps_paths()
    }

    /// Stages, runs and collects `s`. `started` gets the command line just
    /// before the program starts; `host_of` maps a path the action named to
    /// the host path it stands for (for the undeclared-read note).
    pub fn run(
        &self,
        s: &Spawn,
        started: &dyn Fn(&str),
        host_of: &dyn Fn(&str) -> Option<PathBuf>,
    ) -> Ran {
        let _writing = RUNS.read().unwrap_or_else(|p| p.into_inner());
        let mut ran = Ran {
            cmdline: String::new(),
            status: ExecStatus::Success,
            log: Vec::new(),
            cpu: Duration::ZERO,
            enforcement: None,
            outputs: Vec::new(),
            note: None,
        };
        if let Err(e) = stage(s) {
            ran.status = ExecStatus::Error(e);
            return ran;
        }
        match &s.program {
            Program::Pack => self.pack(s, started, &mut ran),
            Program::Tool { .. } | Program::Shell => self.tool(s, started, host_of, &mut ran),
        }
        if ran.status == ExecStatus::Success && !matches!(s.program, Program::Shell) {
            match within_disk_limit(s) {
                Ok(()) => ran.outputs = collect(s),
                Err(e) => ran.status = ExecStatus::Error(e),
            }
        }
        ran
    }

    /// A tool (or the shell) in the sandbox.
    fn tool(
        &self,
        s: &Spawn,
        started: &dyn Fn(&str),
        host_of: &dyn Fn(&str) -> Option<PathBuf>,
        ran: &mut Ran,
    ) {
        let policy = match policy(s, self.sandbox.mode()) {
            Ok(p) => p,
            Err(e) => {
                ran.status = ExecStatus::Error(format!("{}: {e}", s.label.describe()));
                return;
            }
        };
        let env_prefix: String = s
            .env
            .iter()
            .map(|(k, v)| format!("{k}={} ", crate::plan::shell_quote(v)))
            .collect();
        ran.cmdline = format!(
            "cd {}\n{env_prefix}{} {}",
            policy.cwd.display(),
            policy.program.display(),
            policy
                .args
                .iter()
                .map(|a| crate::plan::shell_quote(&a.to_string_lossy()))
                .collect::<Vec<_>>()
                .join(" ")
        );
        started(&ran.cmdline);
        let outcome = if matches!(s.program, Program::Shell) {
            gob_sandbox::Sandbox::new(self.sandbox.mode())
                .map(|sb| sb.with_terminal(true))
                .and_then(|sb| sb.run(&policy))
        } else {
            self.sandbox.run(&policy)
        };
        match outcome {
            Err(e) => ran.status = ExecStatus::Error(format!("{}: {e}", s.label.describe())),
            Ok(o) => {
                ran.log = o.stdout;
                ran.log.extend_from_slice(&o.stderr);
                drop(o.stderr);
                ran.status = match o.status {
                    gob_sandbox::ExecStatus::Exited(0) => ExecStatus::Success,
                    gob_sandbox::ExecStatus::Exited(code) => ExecStatus::Failed { code },
                    gob_sandbox::ExecStatus::Signaled(signal) => ExecStatus::Signaled { signal },
                    gob_sandbox::ExecStatus::TimedOut => ExecStatus::TimedOut,
                };
                ran.cpu = o.cpu;
                ran.enforcement = Some(o.enforcement);
                ran.note = limit_note(s, ran, o.output_truncated, o.memory_exceeded);
                if ran.status != ExecStatus::Success && ran.note.is_none() {
                    ran.note = undeclared_read(s, &ran.log, host_of);
                }
            }
        }
    }

    /// gob's `pack r OUT BASE OBJ…` on a confined thread: every path must be
    /// a declared input (read from its host file) except OUT, which must be
    /// a declared output (created beneath the own directory, never through
    /// a link).
    fn pack(&self, s: &Spawn, started: &dyn Fn(&str), ran: &mut Ran) {
        ran.cmdline = format!("gob-internal pack r {}", s.argv.join(" "));
        started(&ran.cmdline);
        let fail = |why: String| ExecStatus::Error(format!("pack: {why}"));
        let input = |p: &str| -> Result<PathBuf, String> {
            s.inputs
                .iter()
                .find(|i| i.at == Path::new(p))
                .map(|i| i.data.host().to_path_buf())
                .ok_or_else(|| format!("{p} is not a declared input of {}", s.label.id))
        };
        let Some((out, rest)) = s.argv.split_first() else {
            ran.status = fail("no archive given".into());
            return;
        };
        let Some((_, objs)) = rest.split_first() else {
            ran.status = fail("no archive given".into());
            return;
        };
        let own_at = s.own.1.to_string_lossy();
        let out_rel = match out
            .strip_prefix(own_at.as_ref())
            .and_then(|r| r.strip_prefix('/'))
            .filter(|r| s.outputs.iter().any(|o| o.rel == *r))
        {
            Some(r) => r.to_string(),
            None => {
                ran.status = fail(format!("{out} is not a declared output of {}", s.label.id));
                return;
            }
        };
        let mut reads = Vec::with_capacity(rest.len());
        let mut members = Vec::with_capacity(objs.len());
        for (i, p) in rest.iter().enumerate() {
            match input(p) {
                Ok(h) => {
                    reads.push(h.clone());
                    if i > 0 {
                        let name = p.rsplit('/').next().unwrap_or(p).to_string();
                        members.push((name, h));
                    }
                }
                Err(e) => {
                    ran.status = fail(e);
                    return;
                }
            }
        }
        let base_host = reads[0].clone();
        let own = s.own.0.clone();
        let done = self
            .sandbox
            .run_in_thread(&reads, std::slice::from_ref(&own), || {
                let dir = File::open(&own)?;
                let mut f = open_beneath(&dir, &out_rel, Create::New)?;
                super::pack::write_archive(&mut f, File::open(&base_host)?, &members)?;
                f.sync_all()
            });
        match done {
            Err(e) => ran.status = fail(e.to_string()),
            Ok((Err(e), enf)) => {
                ran.enforcement = Some(enf);
                ran.status = fail(format!("{out}: {e}"));
            }
            Ok((Ok(()), enf)) => ran.enforcement = Some(enf),
        }
    }
}

/// Step 1: a fresh own directory and every copied or written input in place.
fn stage(s: &Spawn) -> Result<(), String> {
    let own = &s.own.0;
    // Nothing left over from an earlier, interrupted run (a tree of any depth).
    gob_sandbox::tree::remove(own).map_err(|e| format!("{}: cleaning: {e}", s.label.describe()))?;
    std::fs::create_dir_all(own).map_err(|e| format!("creating {}: {e}", own.display()))?;
    for i in &s.inputs {
        match &i.data {
            InputData::Bind { host, size } => check_bound(host, *size).map_err(|e| {
                format!(
                    "staging input {} for {}: {e}",
                    host.display(),
                    s.label.package
                )
            })?,
            InputData::Bytes { dest, bytes } => {
                if let Some(d) = dest.parent() {
                    std::fs::create_dir_all(d)
                        .map_err(|e| format!("creating {}: {e}", d.display()))?;
                }
                std::fs::write(dest, bytes)
                    .map_err(|e| format!("writing {}: {e}", dest.display()))?;
            }
            InputData::Copy {
                dest,
                from,
                digest,
                size,
            } => {
                if dest.exists() {
                    continue;
                }
                let mut why = String::from("no source");
                let placed =
                    from.iter()
                        .any(|src| match copy_into_place(src, dest, *digest, *size) {
                            Ok(()) => true,
                            Err(e) => {
                                why = format!("from {}: {e}", src.display());
                                false
                            }
                        });
                if !placed {
                    return Err(format!(
                        "staging {} for {}: {why}",
                        dest.display(),
                        s.label.package
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Opens an input's source for staging: not through a link at its last
/// component (build inputs are declared by their resolved paths, blobs and
/// work files are never links), without blocking, and only if `fstat` on
/// that descriptor says it is a regular file (a FIFO swapped in would block,
/// `/dev/zero` never end).
pub(crate) fn open_input(path: &Path) -> std::io::Result<(File, std::fs::Metadata)> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => std::io::Error::other("a symlink now"),
            _ => e,
        })?;
    let md = f.metadata()?;
    if !md.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok((f, md))
}

/// The check of a bound input redone at staging (it was checked when the
/// action was planned, and hashed since): [`open_input`], and it still has
/// the size it was hashed at.
fn check_bound(host: &Path, size: Option<u64>) -> std::io::Result<()> {
    let (_, md) = open_input(host)?;
    match size {
        Some(n) if md.len() != n => Err(std::io::Error::other(format!(
            "changed since it was hashed: {} bytes, not {n}",
            md.len()
        ))),
        _ => Ok(()),
    }
}

/// Places a copy of `src` at `dest`, renamed into place so it appears
/// complete, after checking its length (`digest` names it in the error). Never a hard link (a tool
/// writing to it would write the source) and never written through an
/// existing path. Several workers may stage the same file at once: the first
/// rename wins and the others drop their copies ([`rename_noreplace`]), so a
/// placed input is never replaced.
fn copy_into_place(src: &Path, dest: &Path, digest: Digest, size: u64) -> std::io::Result<()> {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    if let Some(d) = dest.parent() {
        std::fs::create_dir_all(d)?;
    }
    let tmp = dest.with_file_name(format!(
        ".{}.tmp-{}-{}",
        dest.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let result = (|| {
        // In the kernel (copy_file_range): a link stages hundreds of archives.
        // Their digests were taken when they were collected or verified as
        // cache hits; the length is checked again here.
        let (mut from, md) = open_input(src)?;
        let mut to = File::create_new(&tmp)?;
        let n = std::io::copy(&mut from, &mut to)?;
        to.set_permissions(md.permissions())?;
        drop(to);
        if n != size {
            return Err(std::io::Error::other(format!(
                "holds {n} bytes, not the {size} bytes ({digest}) declared"
            )));
        }
        rename_noreplace(&tmp, dest)
    })();
    // Placed, or another worker's equal copy was there first: ours goes.
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Moves `tmp` to `dest` unless something is at `dest` already (then `tmp`
/// stays and the existing file, a complete copy of the same bytes, is kept).
///
/// Never replacing is what keeps a staged input usable by the actions that
/// were given it: Landlock (`--sandbox=landlock`) grants a file by the inode
/// its path named when the ruleset was built, and a bind mount holds the
/// inode too. Replacing the file by a second worker's rename (each worker
/// checks `dest` and copies when it is missing: two can both see it missing)
/// left a running compiler's rule on an inode no path reached any more, and
/// its open of the new file failed with `permission denied` ("could not
/// import runtime (open …/b081/_pkg_.a: permission denied)").
/// `renameat2(RENAME_NOREPLACE)`; where a file system refuses the flag, a
/// hard link of our own private copy, which fails the same way when `dest`
/// exists.
fn rename_noreplace(tmp: &Path, dest: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|_| std::io::Error::other(format!("{}: NUL in path", p.display())))
    };
    let (from, to) = (c(tmp)?, c(dest)?);
    // SAFETY: both are NUL-terminated paths that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    let err = (rc != 0).then(std::io::Error::last_os_error);
    let err = match err {
        Some(e) if e.raw_os_error() == Some(libc::EINVAL) => std::fs::hard_link(tmp, dest).err(),
        other => other,
    };
    match err {
        None => Ok(()),
        Some(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Some(e) => Err(e),
    }
}

/// Step 2: the sandbox policy of a tool run: exactly the declared inputs
/// (read-only, where the action sees them), the program, the own directory
/// writable, the declared environment, then the noise. Where `mode` gives the
/// tool no private writable `/tmp` of its own (Landlock on the host tree),
/// `$TMPDIR` is the own directory: cgo's and the external linker's
/// temporary files go there (and are gone when they exit).
fn policy(s: &Spawn, mode: gob_sandbox::Mode) -> Result<gob_sandbox::Policy, String> {
    use gob_sandbox::Bind;
    let mut inputs: Vec<Bind> = s
        .inputs
        .iter()
        .map(|i| Bind {
            host: i.data.host().to_path_buf(),
            inside: i.at.clone(),
        })
        .collect();
    // A file can be declared twice (cmd/vet's printf embeds its own doc.go;
    // a hostile trace may repeat a path): each path once.
    inputs.sort_by(|x, y| x.inside.cmp(&y.inside));
    inputs.dedup_by(|x, y| x.inside == y.inside);
    let mut env: Vec<(OsString, OsString)> = s
        .env
        .iter()
        .chain(
            s.noise_env
                .iter()
                .filter(|(k, _)| !s.env.iter().any(|(d, _)| d == k)),
        )
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    if mode == gob_sandbox::Mode::Landlock {
        env.retain(|(k, _)| k != "TMPDIR");
        env.push(("TMPDIR".into(), s.own.1.clone().into_os_string()));
    }
    inputs.extend(s.toolchain.iter().map(|(host, at)| Bind {
        host: host.clone(),
        inside: at.clone(),
    }));
    let (program, mut args) = match &s.program {
        Program::Tool { host, at, wrapper } => {
            inputs.push(Bind {
                host: host.clone(),
                inside: at.clone(),
            });
            match wrapper {
                Some(w) => {
                    inputs.push(Bind {
                        host: w.host.clone(),
                        inside: w.at.clone(),
                    });
                    inputs.extend(w.runtime.iter().map(|(host, at)| Bind {
                        host: host.clone(),
                        inside: at.clone(),
                    }));
                    let mut args: Vec<OsString> = w.args.iter().map(Into::into).collect();
                    args.push(at.clone().into_os_string());
                    (w.at.clone(), args)
                }
                None => (at.clone(), Vec::new()),
            }
        }
        Program::Shell => {
            for d in ["/usr", "/bin", "/lib", "/lib64"] {
                // On merged-/usr hosts /bin, /lib and /lib64 are links into
                // /usr: the directory they name is bound at their path (the
                // sandbox binds no links).
                if let Ok(real) = std::fs::canonicalize(d) {
                    if real.is_dir() {
                        inputs.push(Bind {
                            host: real,
                            inside: PathBuf::from(d),
                        });
                    }
                }
            }
            let shell = ["/bin/sh", "/usr/bin/sh"]
                .into_iter()
                .find(|sh| inputs.iter().any(|b| Path::new(sh).starts_with(&b.inside)))
                .ok_or("no /bin/sh on this host")?;
            env.push(("PATH".into(), "/bin:/usr/bin".into()));
            env.push((
                "PS1".into(),
                format!("[gob {} {}] $ ", s.label.id, s.label.kind).into(),
            ));
            (PathBuf::from(shell), Vec::new())
        }
        Program::Pack => return Err("pack runs in-process".into()),
    };
    if !matches!(s.program, Program::Shell) {
        args.extend(s.argv.iter().map(Into::into));
    }
    // The C driver is also among the toolchain's files: the same bind once.
    inputs.sort_by(|x, y| (&x.inside, &x.host).cmp(&(&y.inside, &y.host)));
    inputs.dedup_by(|x, y| x.inside == y.inside && x.host == y.host);
    Ok(gob_sandbox::Policy {
        program,
        args,
        env,
        cwd: s.cwd.clone(),
        inputs,
        outputs: vec![Bind {
            host: s.own.0.clone(),
            inside: s.own.1.clone(),
        }],
        limits: s.limits.clone(),
        hostname: "gob".into(),
    })
}

/// How [`open_beneath`] opens the last component.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Create {
    /// Read an existing file.
    No,
    /// Create a new file (fails if anything is there).
    New,
}

/// Opens `rel` beneath `dir` without following any link on the way
/// (`O_NOFOLLOW` on every component) and without blocking on a FIFO. `rel`
/// must be plain components: no `..`, `.`, empty or absolute parts.
fn open_beneath(dir: &File, rel: &str, create: Create) -> std::io::Result<File> {
    let parts: Vec<&str> = rel.split('/').collect();
    if parts
        .iter()
        .any(|c| c.is_empty() || *c == "." || *c == "..")
    {
        return Err(std::io::Error::other(format!(
            "{rel:?} is not a plain relative path"
        )));
    }
    let mut cur: Option<File> = None;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let name = std::ffi::CString::new(*part).map_err(std::io::Error::other)?;
        let flags = libc::O_NOFOLLOW
            | libc::O_CLOEXEC
            | if !last {
                libc::O_PATH | libc::O_DIRECTORY
            } else if create == Create::New {
                libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL
            } else {
                libc::O_RDONLY | libc::O_NONBLOCK
            };
        let at = cur.as_ref().unwrap_or(dir).as_raw_fd();
        // SAFETY: a valid directory fd and a NUL-terminated name.
        let fd = unsafe { libc::openat(at, name.as_ptr(), flags, 0o644 as libc::c_uint) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: openat returned a fresh descriptor we own.
        cur = Some(unsafe { File::from_raw_fd(fd) });
    }
    cur.ok_or_else(|| std::io::Error::other("empty path"))
}

/// Step 4: each declared output, opened once beneath the own directory and
/// checked on that descriptor.
fn collect(s: &Spawn) -> Vec<(String, Result<Collected, String>)> {
    let dir = File::open(&s.own.0);
    s.outputs
        .iter()
        .map(|o| {
            let path = s.own.0.join(&o.rel);
            let got = match &dir {
                Err(e) => Err(format!("{}: {e}", s.own.0.display())),
                Ok(dir) => collect_one(dir, o, &path, &s.label),
            };
            (o.name.clone(), got)
        })
        .collect()
}

fn collect_one(dir: &File, o: &SpawnOutput, path: &Path, l: &Label) -> Result<Collected, String> {
    let missing = || {
        format!(
            "{}: tool did not write declared output {}",
            l.package,
            path.display()
        )
    };
    let not_plain = || {
        format!(
            "{}: output {} is not a regular file with one link",
            l.package,
            path.display()
        )
    };
    let mut f = match open_beneath(dir, &o.rel, Create::No) {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Err(missing()),
        // A link where the output (or a directory above it) belongs: ELOOP, ENOTDIR.
        Err(_) => return Err(not_plain()),
    };
    let m = f
        .metadata()
        .map_err(|e| format!("output {}: {e}", path.display()))?;
    if !m.is_file() || m.nlink() != 1 {
        return Err(not_plain());
    }
    // Canonical modes, whatever the tool's umask: dependents may run as
    // another uid (nobody, when gob runs as root) and must read it.
    let mode = if o.exec { 0o755 } else { 0o644 };
    if m.permissions().mode() & 0o7777 != mode {
        f.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| format!("output {}: chmod: {e}", path.display()))?;
    }
    let (digest, size) = crate::cache::hash_reader(&mut f)
        .map_err(|e| format!("reading output {}: {e}", path.display()))?;
    Ok(Collected {
        name: o.name.clone(),
        path: path.to_path_buf(),
        file: std::sync::Arc::new(f),
        digest,
        size,
        exec: o.exec,
    })
}

/// Step 3, after the run: what a limit did to the action, naming the
/// action, the limit and the flag that sets it. A write past the disk
/// limit kills a process with SIGXFSZ, except the namespace's init (the
/// tool itself, shielded from it), which gets EFBIG and says so: Go's
/// message for it is "file too large". Going past the memory limit is
/// known only with a cgroup (the OOM killer's count); under RLIMIT_AS an
/// allocation just fails and the tool says so itself.
fn limit_note(s: &Spawn, ran: &Ran, truncated: bool, memory_exceeded: bool) -> Option<String> {
    use crate::limits::{show_duration, show_size};
    let (status, log) = (&ran.status, &ran.log);
    let who = s.label.describe();
    let l = &s.limits;
    let disk_hit = match status {
        ExecStatus::Signaled { signal } => *signal == libc::SIGXFSZ,
        ExecStatus::Failed { .. } => {
            let tail = &log[log.len().saturating_sub(64 << 10)..];
            l.disk_bytes.is_some() && tail.windows(14).any(|w| w == b"file too large")
        }
        _ => false,
    };
    match status {
        ExecStatus::TimedOut => Some(format!(
            "gob: {who} ran past its wall-time limit of {} and was killed with its whole process tree (--action-timeout sets the limit)",
            l.wall.map_or("?".into(), show_duration)
        )),
        _ if memory_exceeded && *status != ExecStatus::Success => Some(format!(
            "gob: {who} ran past its memory limit of {} and was killed by the kernel's OOM killer with its whole process tree (--action-memory sets the limit)",
            l.memory.map_or("?".into(), show_size)
        )),
        _ if disk_hit => Some(format!(
            "gob: {who} wrote a file past its disk limit of {} (--action-disk sets the limit)",
            l.disk_bytes.map_or("?".into(), show_size)
        )),
        _ if truncated => Some(format!(
            "gob: {who} printed more than {} on stdout or stderr; the rest was dropped (--action-output sets the limit)",
            l.output_bytes.map_or("?".into(), show_size)
        )),
        _ => None,
    }
}

/// Step 4, first: the own directory holds at most the disk limit, every
/// regular file at its apparent size (a sparse file counts in full: the
/// cache and every stager would copy each byte).
fn within_disk_limit(s: &Spawn) -> Result<(), String> {
    let Some(limit) = s.limits.disk_bytes else {
        return Ok(());
    };
    match gob_sandbox::tree::over_limit(&s.own.0, limit) {
        Ok(None) => Ok(()),
        Ok(Some((seen, largest))) => Err(format!(
            "{} left more than {} in its work directory ({} bytes seen so far, the largest file {largest}), past its disk limit (--action-disk sets the limit)",
            s.label.describe(),
            crate::limits::show_size(limit),
            seen
        )),
        Err(e) => Err(format!("{}: {e}", s.label.describe())),
    }
}

/// Step 5: when a failed tool's output names a path it could not open, and
/// that path exists on the host but was not declared, says so: the action,
/// the package, the path, and how to declare it. Tools report failed opens
/// as `open PATH: no such file or directory` (or `permission denied` under
/// Landlock).
fn undeclared_read(
    s: &Spawn,
    log: &[u8],
    host_of: &dyn Fn(&str) -> Option<PathBuf>,
) -> Option<String> {
    let text = String::from_utf8_lossy(log);
    let declared: std::collections::HashSet<&Path> =
        s.inputs.iter().map(|i| i.at.as_path()).collect();
    for line in text.lines() {
        for marker in [": no such file or directory", ": permission denied"] {
            let Some(end) = line.find(marker) else {
                continue;
            };
            let head = &line[..end];
            let Some(start) = head
                .rfind(" /")
                .map(|i| i + 1)
                .or_else(|| head.starts_with('/').then_some(0))
            else {
                continue;
            };
            let path = &head[start..];
            if declared.contains(Path::new(path)) {
                continue;
            }
            let Some(host) = host_of(path).filter(|h| h.exists()) else {
                continue;
            };
            return Some(format!(
                "gob: action {} ({} of {}) read {path}, which it did not declare (on this host: {}).\n\
                 gob: the sandbox holds only declared inputs; if the package needs this file, \
                 it must be part of the package (a Go file, an //go:embed pattern, a .s or .h file \
                 in its directory), or build with --sandbox=none to see the unsandboxed behaviour.\n",
                s.label.id,
                s.label.kind,
                s.label.package,
                host.display()
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{ActionKeyBuilder, Cache, Lookup};

    fn scratch(tag: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("gob-runner-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        root
    }

    fn spawn(root: &Path, id: &str, program: Program) -> Spawn {
        Spawn {
            label: Label {
                id: id.into(),
                kind: "pack".into(),
                package: "p".into(),
            },
            program,
            argv: Vec::new(),
            env: Vec::new(),
            noise_env: Vec::new(),
            cwd: root.to_path_buf(),
            inputs: Vec::new(),
            toolchain: Vec::new(),
            own: (root.join(id), root.join(id)),
            outputs: Vec::new(),
            limits: gob_sandbox::Limits::default(),
        }
    }

    fn digest(b: &[u8]) -> Digest {
        Digest::of_bytes(b)
    }

    /// Regression (issue #13 item 1): staging bound declared inputs by path
    /// without a look, so a file swapped after planning for a FIFO (the tool
    /// blocks), a device, a link elsewhere, or other bytes reached the tool
    /// (and the trace). Staging now refuses each, naming the file; a copied
    /// input from a FIFO is refused too rather than blocking.
    #[test]
    fn staging_refuses_a_bound_input_that_is_not_the_file_checked() {
        let root = scratch("stage-check");
        let file = root.join("x.h");
        std::fs::write(&file, b"abc").unwrap();
        let fifo = root.join("fifo.h");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let link = root.join("link.h");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let stage_one = |data: InputData| {
            let mut sp = spawn(&root, "b001", Program::Pack);
            sp.inputs.push(SpawnInput {
                at: PathBuf::from("/in/x.h"),
                data,
            });
            stage(&sp)
        };
        let bind = |host: &Path, size| InputData::Bind {
            host: host.to_path_buf(),
            size,
        };
        assert_eq!(stage_one(bind(&file, Some(3))), Ok(()));
        for (data, want) in [
            (bind(&fifo, None), "fifo.h for p: not a regular file"),
            (bind(Path::new("/dev/zero"), None), "not a regular file"),
            (bind(&link, Some(3)), "link.h for p: a symlink now"),
            (
                bind(&file, Some(4)),
                "changed since it was hashed: 3 bytes, not 4",
            ),
            (
                InputData::Copy {
                    dest: root.join("b001/x.h"),
                    from: vec![fifo.clone()],
                    digest: digest(b"abc"),
                    size: 3,
                },
                "not a regular file",
            ),
        ] {
            let got = stage_one(data);
            assert!(
                got.as_ref().is_err_and(|e| e.contains(want)),
                "{got:?}: want {want}"
            );
        }
    }

    /// Regression: two workers staging the same cached output at once made one
    /// fall back to `fs::copy` onto a hard link of the cache blob, truncating the
    /// blob while the other worker's compiler read it ("can't find export data (EOF)").
    #[test]
    fn concurrent_staging_of_a_cached_output_never_touches_the_blob() {
        let root = scratch("stage-race");
        let cache = Cache::open(&root.join("cache")).unwrap();
        let content: Vec<u8> = (0..2_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let produced = root.join("_pkg_.a");
        std::fs::write(&produced, &content).unwrap();
        let key = ActionKeyBuilder::new(Digest::of_bytes(b"t")).finish();
        let entry = cache
            .put(
                &key,
                gob_sandbox::Mode::Full,
                &[("_pkg_.a", produced.as_path())],
                b"",
            )
            .unwrap();
        let o = &entry.outputs[0];
        let blob = cache.blob_path(&o.digest);
        for round in 0..20 {
            let _ = std::fs::remove_dir_all(root.join("work"));
            let dest = root.join("work/b001/_pkg_.a");
            let barrier = std::sync::Barrier::new(8);
            std::thread::scope(|s| {
                for id in 2..10u32 {
                    let (root, barrier, content, blob, dest) =
                        (&root, &barrier, &content, &blob, &dest);
                    s.spawn(move || {
                        let mut sp = spawn(&root.join("work"), &format!("b{id:03}"), Program::Pack);
                        sp.inputs.push(SpawnInput {
                            at: dest.clone(),
                            data: InputData::Copy {
                                dest: dest.clone(),
                                from: vec![blob.clone()],
                                digest: o.digest,
                                size: o.size,
                            },
                        });
                        barrier.wait();
                        stage(&sp).unwrap();
                        let staged = std::fs::read(dest).unwrap();
                        assert!(
                            staged == *content,
                            "round {round}: action {id} saw a partial input"
                        );
                    });
                }
            });
            match cache.get(&key, gob_sandbox::Mode::Full).unwrap() {
                Lookup::Hit(e) => assert_eq!(e.outputs[0].size, content.len() as u64),
                Lookup::Miss(m) => panic!("round {round}: the cache blob was damaged: {m}"),
            }
        }
        let _ = std::fs::remove_dir_all(&root);
    }

    /// Regression (issue 13, item 18): a worker that found an input missing
    /// renamed its copy over the one another worker had placed meanwhile. A
    /// compiler already confined by Landlock to the first file's inode then
    /// failed: "could not import runtime (open …/b081/_pkg_.a: permission
    /// denied)". A placed input is never replaced.
    #[test]
    fn a_staged_input_is_never_replaced_under_a_confined_action() {
        use std::os::unix::fs::MetadataExt;
        let root = scratch("stage-keep");
        std::fs::write(root.join("blob"), b"export data").unwrap();
        let dest = root.join("work/b081/_pkg_.a");
        // What a second stager does when it saw `dest` missing.
        let place = || copy_into_place(&root.join("blob"), &dest, digest(b"export data"), 11);
        place().unwrap();
        let ino = std::fs::metadata(&dest).unwrap().ino();
        place().unwrap();
        assert_eq!(
            std::fs::metadata(&dest).unwrap().ino(),
            ino,
            "the input was replaced"
        );
        assert_eq!(
            std::fs::read_dir(dest.parent().unwrap()).unwrap().count(),
            1
        );
        // The consequence, under Landlock: an action confined to `dest` before
        // another stager runs still reads it afterwards.
        match gob_sandbox::Sandbox::new(gob_sandbox::Mode::Landlock) {
            Err(e) => eprintln!("note: no Landlock here ({e}); the inode check above stands"),
            Ok(sb) => {
                let (ready_tx, ready_rx) = std::sync::mpsc::channel();
                let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
                std::thread::scope(|s| {
                    let confined = s.spawn(|| {
                        let d = dest.clone();
                        sb.run_in_thread(std::slice::from_ref(&dest), &[], move || {
                            ready_tx.send(()).unwrap();
                            go_rx.recv().unwrap();
                            std::fs::read(&d).map_err(|e| e.to_string())
                        })
                    });
                    ready_rx.recv().unwrap();
                    place().unwrap();
                    go_tx.send(()).unwrap();
                    let (read, _) = confined.join().unwrap().unwrap();
                    assert_eq!(read, Ok(b"export data".to_vec()));
                });
            }
        }
        let _ = std::fs::remove_dir_all(&root);
    }

    /// A copy is placed only from a source of the declared length; the next
    /// candidate is tried, and with none the staging error names the file.
    #[test]
    fn a_copy_is_placed_only_with_the_declared_bytes() {
        let root = scratch("copy-digest");
        std::fs::write(root.join("wrong"), b"wrong length").unwrap();
        std::fs::write(root.join("right"), b"right").unwrap();
        let dest = root.join("b002/in");
        let mut sp = spawn(&root, "b001", Program::Pack);
        sp.inputs.push(SpawnInput {
            at: dest.clone(),
            data: InputData::Copy {
                dest: dest.clone(),
                from: vec![root.join("missing"), root.join("wrong"), root.join("right")],
                digest: digest(b"right"),
                size: 5,
            },
        });
        stage(&sp).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"right");
        std::fs::remove_file(&dest).unwrap();
        if let InputData::Copy { from, .. } = &mut sp.inputs[0].data {
            from.pop();
        }
        let e = stage(&sp).unwrap_err();
        assert!(e.contains("wrong") && e.contains("not the 5 bytes"), "{e}");
        assert!(!dest.exists());
        let _ = std::fs::remove_dir_all(&root);
    }

    /// Outputs are opened once, beneath the own directory, never through a
    /// link, never blocking on a FIFO; a second name of another file is refused.
    #[test]
    fn outputs_are_collected_without_following_links() {
        let root = scratch("collect");
        let own = root.join("b001");
        std::fs::create_dir_all(own.join("sub")).unwrap();
        std::fs::write(root.join("secret"), b"secret").unwrap();
        std::fs::write(own.join("ok"), b"archive").unwrap();
        std::os::unix::fs::symlink(root.join("secret"), own.join("link")).unwrap();
        std::fs::hard_link(root.join("secret"), own.join("hard")).unwrap();
        let fifo = std::ffi::CString::new(own.join("fifo").to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        std::os::unix::fs::symlink(&root, own.join("up")).unwrap();
        std::fs::write(root.join("b001-x"), b"x").unwrap();
        let mut sp = spawn(&root, "b001", Program::Pack);
        for rel in [
            "ok",
            "link",
            "hard",
            "fifo",
            "up/secret",
            "missing",
            "../secret",
        ] {
            sp.outputs.push(SpawnOutput {
                name: rel.into(),
                rel: rel.into(),
                exec: rel == "ok",
            });
        }
        let got = collect(&sp);
        let ok = got[0].1.as_ref().unwrap();
        assert_eq!((ok.size, ok.digest), (7, digest(b"archive")));
        let mode = std::fs::metadata(own.join("ok"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o755, "canonical mode");
        for (name, r) in &got[1..] {
            let e = r.as_ref().unwrap_err();
            let want = if name == "missing" {
                "did not write"
            } else {
                "not a regular file with one link"
            };
            assert!(e.contains(want), "{name}: {e}");
        }
        let _ = std::fs::remove_dir_all(&root);
    }

    /// Issue 13 item 4: an OOM kill in the action's cgroup is reported as
    /// the action going past its memory limit, naming the limit and the flag.
    #[test]
    fn an_oom_kill_is_reported_as_over_the_memory_limit() {
        let root = scratch("oom-note");
        let mut sp = spawn(&root, "b007", Program::Pack);
        sp.limits.memory = Some(64 << 20);
        let mut ran = Ran {
            cmdline: String::new(),
            status: ExecStatus::Signaled {
                signal: libc::SIGKILL,
            },
            log: Vec::new(),
            cpu: Duration::ZERO,
            enforcement: None,
            outputs: Vec::new(),
            note: None,
        };
        let note = limit_note(&sp, &ran, false, true).unwrap();
        assert!(
            note.contains("b007") && note.contains("memory limit of 64MiB"),
            "{note}"
        );
        assert!(note.contains("--action-memory"), "{note}");
        assert_eq!(limit_note(&sp, &ran, false, false), None);
        ran.status = ExecStatus::Success;
        assert_eq!(limit_note(&sp, &ran, false, true), None);
        let _ = std::fs::remove_dir_all(&root);
    }

    /// gob's pack reads only declared inputs and writes only a declared
    /// output in its own directory; the archive holds base then members.
    #[test]
    fn pack_writes_only_a_declared_output_from_declared_inputs() {
        let root = scratch("pack");
        let sb = gob_sandbox::Sandbox::new(gob_sandbox::Mode::None).unwrap();
        let runner = Runner::new(&sb);
        std::fs::write(root.join("base.a"), b"!<arch>\n").unwrap();
        std::fs::write(root.join("x.o"), b"obj").unwrap();
        std::fs::write(root.join("undeclared.o"), b"secret").unwrap();
        let mk = |argv: &[String]| {
            let mut sp = spawn(&root, "b001", Program::Pack);
            for f in ["base.a", "x.o"] {
                sp.inputs.push(SpawnInput {
                    at: PathBuf::from(format!("/in/{f}")),
                    data: InputData::Bind {
                        host: root.join(f),
                        size: None,
                    },
                });
            }
            sp.outputs.push(SpawnOutput {
                name: "_pkg_.a".into(),
                rel: "_pkg_.a".into(),
                exec: false,
            });
            sp.own.1 = PathBuf::from("/work/b001");
            sp.argv = argv.to_vec();
            sp
        };
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let ok = runner.run(
            &mk(&args(&["/work/b001/_pkg_.a", "/in/base.a", "/in/x.o"])),
            &|_| {},
            &|_| None,
        );
        assert_eq!(ok.status, ExecStatus::Success, "{:?}", ok.status);
        let mut want = b"!<arch>\n".to_vec();
        super::super::pack::append_member(&mut want, "x.o", b"obj");
        assert_eq!(std::fs::read(root.join("b001/_pkg_.a")).unwrap(), want);
        assert_eq!(ok.outputs[0].1.as_ref().unwrap().digest, digest(&want));
        for (argv, why) in [
            (
                args(&["/in/base.a", "/in/base.a", "/in/x.o"]),
                "/in/base.a is not a declared output of b001",
            ),
            (
                args(&["/work/b001/_pkg_.a", "/in/base.a", "/in/../undeclared.o"]),
                "/in/../undeclared.o is not a declared input of b001",
            ),
        ] {
            let r = runner.run(&mk(&argv), &|_| {}, &|_| None);
            match r.status {
                ExecStatus::Error(e) => assert!(e.contains(why), "{e}"),
                other => panic!("{argv:?}: {other:?}"),
            }
        }
        assert_eq!(std::fs::read(root.join("base.a")).unwrap(), b"!<arch>\n");
        let _ = std::fs::remove_dir_all(&root);
    }
}
