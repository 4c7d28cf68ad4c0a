//! Running one action: key it, look it up, or run its tool in its work directory and store the outputs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{key, pack, ActionResult, ExecOptions, ExecStatus, OutputFile};
use crate::cache::{ActionKey, ActionKeyBuilder, Cache, Digest, DigestCache, Lookup};
use crate::plan::{Action, ActionGraph, ActionId, Arg, InputSource, Loc, Tool};

/// Host path of a location when running directly on the host (no sandbox).
pub fn host_path(g: &ActionGraph, work: &Path, l: &Loc) -> PathBuf {
    match l {
        Loc::Src { root, rel } => {
            let base = g.root_dir(root).cloned().unwrap_or_default();
            if rel.is_empty() {
                base
            } else {
                base.join(rel)
            }
        }
        Loc::Work { action, rel } => {
            let d = work.join(action.to_string());
            if rel.is_empty() {
                d
            } else {
                d.join(rel)
            }
        }
    }
}

/// How an action's locations are spelled in its argv and generated files: the
/// inside paths when the sandbox remaps paths (a mount namespace), else host paths.
/// Both spellings give the same outputs (every path is rewritten by -trimpath)
/// and the same key (keys use the host-independent form, see `key.rs`).
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    g: &'a ActionGraph,
    work: &'a Path,
    inside: bool,
}

impl<'a> View<'a> {
    pub(crate) fn new(g: &'a ActionGraph, opts: &'a ExecOptions) -> View<'a> {
        View {
            g,
            work: &opts.work_dir,
            inside: opts.sandbox.mode().remaps_paths(),
        }
    }
    /// Host paths regardless of the sandbox (gob's own internal steps).
    pub(crate) fn host(self) -> View<'a> {
        View {
            inside: false,
            ..self
        }
    }
    pub(crate) fn path(&self, l: &Loc) -> String {
        if self.inside {
            l.inside()
        } else {
            host_path(self.g, self.work, l)
                .to_string_lossy()
                .into_owned()
        }
    }
    pub(crate) fn render(&self, arg: &Arg) -> String {
        arg.render(&|l| self.path(l))
    }
}

struct Prepared {
    key: ActionKey,
    generated: Vec<(Loc, Vec<u8>)>,
    used: Vec<super::UsedInput>,
}

fn fail(a: &Action, key: Option<ActionKey>, started: Instant, msg: String) -> ActionResult {
    ActionResult {
        id: a.id,
        key,
        cached: false,
        outputs: Vec::new(),
        log: Vec::new(),
        status: ExecStatus::Error(msg),
        wall: started.elapsed(),
        cmdline: String::new(),
        cpu: std::time::Duration::ZERO,
        enforcement: None,
        inputs: Default::default(),
        note: None,
    }
}

/// The digest of the program an action runs: the tool binary, or gob itself for internal steps.
fn tool_digest(digests: &DigestCache, opts: &ExecOptions, tool: Tool) -> Result<Digest, String> {
    match tool.binary() {
        Some(b) => {
            let p = opts.tool_dir.join(b);
            digests
                .digest(&p)
                .map_err(|e| format!("reading tool {}: {e}", p.display()))
        }
        None => Ok(Digest::of_bytes(
            concat!("gob-internal-pack ", env!("CARGO_PKG_VERSION")).as_bytes(),
        )),
    }
}

/// Computes the key: tool, `-toolexec` program, argv, env, every input's
/// location and digest, and the declared outputs. The sandbox mode is not in the
/// key: it changes what a tool may read, never what a successful run writes.
fn prepare(
    g: &ActionGraph,
    a: &Action,
    deps: &HashMap<ActionId, &ActionResult>,
    digests: &DigestCache,
    opts: &ExecOptions,
) -> Result<Prepared, String> {
    let mut kb = ActionKeyBuilder::new(tool_digest(digests, opts, a.tool)?);
    kb.arg(format!("kind={}", a.kind.name()));
    if let (Some(te), Some(_)) = (&opts.toolexec, a.tool.binary()) {
        let d = digests
            .digest(te)
            .map_err(|e| format!("reading -toolexec program {}: {e}", te.display()))?;
        kb.arg(format!("toolexec={d}"));
    }
    for arg in &a.args {
        kb.arg(key::key_text(g, a.id, &arg.0));
    }
    kb.arg(format!("cwd={}", key::key_loc(g, a.id, &a.cwd)));
    for (k, v) in &a.env {
        kb.env(k, v);
    }
    let mut generated = Vec::new();
    let mut used = Vec::with_capacity(a.inputs.len());
    let mut inputs: Vec<(String, Digest)> = Vec::with_capacity(a.inputs.len());
    for i in &a.inputs {
        let at = key::key_loc(g, a.id, &i.at);
        let (d, u) = match &i.source {
            InputSource::Host(p) => {
                let (d, size) = digests
                    .digest_sized(p)
                    .map_err(|e| format!("reading input {}: {e}", p.display()))?;
                (d, (d, size, super::InputBytes::File(p.clone())))
            }
            InputSource::Generated(parts) => {
                let text = key::key_text(g, a.id, parts);
                let view = View::new(g, opts);
                let view = if a.tool.binary().is_some() {
                    view
                } else {
                    view.host()
                };
                let arg = Arg(parts.clone());
                generated.push((i.at.clone(), view.render(&arg).into_bytes()));
                // Traces hold the inside spelling, whatever this run used.
                let inside = arg.render(&|l| l.inside()).into_bytes();
                let u = (
                    Digest::of_bytes(&inside),
                    inside.len() as u64,
                    super::InputBytes::Inline(inside),
                );
                (Digest::of_bytes(text.as_bytes()), u)
            }
            InputSource::Output { action, name } => {
                let r = deps
                    .get(action)
                    .ok_or_else(|| format!("internal error: result of {action} missing"))?;
                let o = r
                    .output(name)
                    .ok_or_else(|| format!("internal error: {action} has no output {name}"))?;
                (
                    o.digest,
                    (o.digest, o.size, super::InputBytes::File(o.path.clone())),
                )
            }
        };
        inputs.push((at, d));
        used.push(super::UsedInput {
            at: i.at.clone(),
            digest: u.0,
            size: u.1,
            bytes: u.2,
        });
    }
    inputs.sort();
    for (at, d) in &inputs {
        kb.input(at, *d);
    }
    for o in &a.outputs {
        kb.arg(format!("output={}", o.name));
    }
    Ok(Prepared {
        key: kb.finish(),
        generated,
        used,
    })
}

/// Makes every input visible at its location in the action's view of the host.
fn stage_inputs(
    g: &ActionGraph,
    a: &Action,
    deps: &HashMap<ActionId, &ActionResult>,
    generated: &[(Loc, Vec<u8>)],
    cache: &Cache,
    opts: &ExecOptions,
) -> Result<(), String> {
    let own = host_path(
        g,
        &opts.work_dir,
        &Loc::Work {
            action: a.id,
            rel: String::new(),
        },
    );
    // A fresh work dir: nothing left over from an earlier, interrupted run.
    if own.exists() {
        std::fs::remove_dir_all(&own).map_err(|e| format!("cleaning {}: {e}", own.display()))?;
    }
    std::fs::create_dir_all(&own).map_err(|e| format!("creating {}: {e}", own.display()))?;
    for (at, bytes) in generated {
        let p = host_path(g, &opts.work_dir, at);
        write_file(&p, bytes)?;
    }
    for i in &a.inputs {
        let dest = host_path(g, &opts.work_dir, &i.at);
        match &i.source {
            InputSource::Output { action, name } => {
                if dest.exists() {
                    continue;
                }
                let r = deps
                    .get(action)
                    .ok_or_else(|| format!("internal error: result of {action} missing"))?;
                let o = r
                    .output(name)
                    .ok_or_else(|| format!("internal error: {action} has no output {name}"))?;
                if let Some(d) = dest.parent() {
                    std::fs::create_dir_all(d)
                        .map_err(|e| format!("creating {}: {e}", d.display()))?;
                }
                // A copy that appears atomically (temp file, rename): never a hard
                // link to the cache blob, which a tool (or a second stager)
                // writing to the path would corrupt. Several workers may stage
                // the same file at once; each rename installs a complete copy.
                // From the producer's file: its fresh work file (its cache store may
                // still be in flight) or the blob a cache hit verified.
                copy_into_place(&o.path, &dest)
                    .or_else(|_| {
                        cache
                            .materialize_blob(&o.digest, o.size, o.exec, &dest)
                            .map_err(std::io::Error::other)
                    })
                    .map_err(|e| {
                        format!("staging {} for {}: {e}", dest.display(), a.import_path)
                    })?;
            }
            InputSource::Host(src) if matches!(i.at, Loc::Work { .. }) => {
                copy_into_place(src, &dest)
                    .map_err(|e| format!("staging {}: {e}", dest.display()))?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn write_file(p: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).map_err(|e| format!("creating {}: {e}", d.display()))?;
    }
    std::fs::write(p, bytes).map_err(|e| format!("writing {}: {e}", p.display()))
}

/// BLAKE3 and length of a file, streamed (outputs can be tens of megabytes).
fn hash_file(path: &Path) -> std::io::Result<(Digest, u64)> {
    crate::cache::hash_reader(&mut std::fs::File::open(path)?)
}

/// Places a copy of a host file at `dest`, renamed into place so it appears
/// complete. Never a hard link (a tool writing to it would write the user's
/// file) and never written through an existing path.
fn copy_into_place(src: &Path, dest: &Path) -> std::io::Result<()> {
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
    std::fs::copy(src, &tmp)?;
    std::fs::rename(&tmp, dest)
}

/// What every action run shares: the cache, the stat cache, options, compile tokens.
pub(crate) struct RunCtx<'a> {
    pub cache: &'a Cache,
    pub digests: &'a DigestCache,
    pub opts: &'a ExecOptions,
    pub tokens: &'a super::Tokens,
    pub store: &'a super::Store,
}

/// Runs one action to completion (cache hit, or tool run and store).
pub(crate) fn run_action(
    g: &ActionGraph,
    a: &Action,
    deps: &HashMap<ActionId, &ActionResult>,
    cx: &RunCtx<'_>,
    started_cb: &dyn Fn(Option<String>),
) -> ActionResult {
    let (cache, digests, opts, tokens) = (cx.cache, cx.digests, cx.opts, cx.tokens);
    let started = Instant::now();
    let prep = match prepare(g, a, deps, digests, opts) {
        Ok(p) => p,
        Err(e) => return fail(a, None, started, e),
    };
    let key = prep.key;
    let used = std::sync::Arc::new(prep.used);

    if opts.use_cache {
        match cache.get(&key) {
            Ok(Lookup::Hit(entry)) => {
                let outputs: Vec<OutputFile> = entry
                    .outputs
                    .iter()
                    .map(|o| OutputFile::new(o, cache.blob_path(&o.digest)))
                    .collect();
                if a.outputs
                    .iter()
                    .all(|d| outputs.iter().any(|o| o.name == d.name))
                {
                    started_cb(None);
                    return ActionResult {
                        id: a.id,
                        key: Some(key),
                        cached: true,
                        outputs,
                        log: entry.log,
                        status: ExecStatus::Success,
                        wall: started.elapsed(),
                        cmdline: String::new(),
                        cpu: std::time::Duration::ZERO,
                        enforcement: None,
                        inputs: used,
                        note: None,
                    };
                }
            }
            // A missing or broken entry is a miss: the action runs and the entry is rewritten.
            Ok(Lookup::Miss(_)) | Err(_) => {}
        }
    }

    if let Err(e) = stage_inputs(g, a, deps, &prep.generated, cache, opts) {
        return fail(a, Some(key), started, e);
    }
    // Back-end concurrency for compiles: not part of the key (see Tokens). The
    // plan leaves an empty argument where cmd/go puts -c=N.
    let (threads, taken) = if a.kind == crate::plan::ActionKind::Compile {
        tokens.take()
    } else {
        (1, 0)
    };
    let view = View::new(g, opts);
    let view = if a.tool.binary().is_some() {
        view
    } else {
        view.host()
    };
    let args: Vec<String> = a
        .args
        .iter()
        .filter_map(|x| {
            if x.0.is_empty() {
                (threads > 1).then(|| format!("-c={threads}"))
            } else {
                Some(view.render(x))
            }
        })
        .collect();
    let ran = match a.tool.binary() {
        Some(bin) => run_tool(g, a, bin, &args, view, opts, started_cb),
        None => {
            // pack r OUT BASE OBJ...
            let cmdline = format!("gob-internal pack r {}", args.join(" "));
            started_cb(Some(cmdline.clone()));
            let paths: Vec<PathBuf> = args.iter().map(PathBuf::from).collect();
            let status = match paths.split_first() {
                Some((out, rest)) if !rest.is_empty() => {
                    let objs: Vec<&Path> = rest[1..].iter().map(PathBuf::as_path).collect();
                    match pack::pack(out, &rest[0], &objs) {
                        Ok(()) => ExecStatus::Success,
                        Err(e) => ExecStatus::Error(format!("pack {}: {e}", out.display())),
                    }
                }
                _ => ExecStatus::Error("pack: no archive given".into()),
            };
            Ran {
                cmdline,
                log: Vec::new(),
                note: None,
                status,
                cpu: std::time::Duration::ZERO,
                enforcement: None,
            }
        }
    };
    tokens.give(taken);
    let Ran {
        cmdline,
        log,
        note,
        status,
        cpu,
        enforcement,
    } = ran;
    if status != ExecStatus::Success {
        return ActionResult {
            id: a.id,
            key: Some(key),
            cached: false,
            outputs: Vec::new(),
            log,
            status,
            wall: started.elapsed(),
            cmdline,
            cpu,
            enforcement,
            inputs: used,
            note,
        };
    }
    // Collect the declared outputs; a missing one fails the action.
    let mut files = Vec::new();
    for o in &a.outputs {
        let p = host_path(g, &opts.work_dir, &o.at);
        // Never followed: a symlink (or a second name of some other file)
        // planted where an output belongs fails the action.
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_file() && std::os::unix::fs::MetadataExt::nlink(&m) == 1 => {
                // Canonical modes, whatever the tool's umask: dependents may
                // run as another uid (nobody, when gob runs as root) and must
                // read it.
                use std::os::unix::fs::PermissionsExt;
                let mode = if o.exec { 0o755 } else { 0o644 };
                if m.permissions().mode() & 0o7777 != mode {
                    if let Err(e) =
                        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
                    {
                        return fail(
                            a,
                            Some(key),
                            started,
                            format!("output {}: chmod: {e}", p.display()),
                        );
                    }
                }
                files.push((o.name.clone(), p, o.exec))
            }
            Ok(_) => {
                return fail(
                    a,
                    Some(key),
                    started,
                    format!(
                        "{}: output {} is not a regular file with one link",
                        a.import_path,
                        p.display()
                    ),
                )
            }
            Err(_) => {
                return fail(
                    a,
                    Some(key),
                    started,
                    format!(
                        "{}: tool did not write declared output {}",
                        a.import_path,
                        p.display()
                    ),
                )
            }
        }
    }
    // Digests now (dependents' keys need them); the cache store runs in the background.
    let mut outputs = Vec::with_capacity(files.len());
    for (name, path, exec) in &files {
        match hash_file(path) {
            Ok((digest, size)) => outputs.push(OutputFile {
                name: name.clone(),
                digest,
                size,
                path: path.clone(),
                exec: *exec,
            }),
            Err(e) => {
                return fail(
                    a,
                    Some(key),
                    started,
                    format!("reading output {}: {e}", path.display()),
                )
            }
        }
    }
    cx.store.submit(
        cache,
        super::StoreJob {
            key,
            files: files
                .iter()
                .map(|(n, p, _)| (n.clone(), p.clone()))
                .collect(),
            log: log.clone(),
            import_path: a.import_path.clone(),
        },
    );
    ActionResult {
        id: a.id,
        key: Some(key),
        cached: false,
        outputs,
        log,
        status,
        wall: started.elapsed(),
        cmdline,
        cpu,
        enforcement,
        inputs: used,
        note: None,
    }
}

/// What running a tool (or an internal step) gave.
struct Ran {
    cmdline: String,
    log: Vec<u8>,
    /// gob's own explanation of a failure (an undeclared read), printed after the log.
    note: Option<String>,
    status: ExecStatus,
    cpu: std::time::Duration,
    enforcement: Option<gob_sandbox::Enforcement>,
}

/// Where a tool of `tool_dir` (`$GOROOT/pkg/tool/<os>_<arch>`) is seen inside
/// the sandbox: `/goroot/pkg/tool/<os>_<arch>/<bin>` (builds and replays alike).
pub(crate) fn tool_inside(tool_dir: &Path, bin: &str) -> PathBuf {
    let dir = tool_dir
        .file_name()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    PathBuf::from(format!("/goroot/pkg/tool/{dir}/{bin}"))
}

/// The program an action's argv names first: the tool, or `-toolexec PROG TOOL`.
fn tool_path(opts: &ExecOptions, bin: &str, inside: bool) -> PathBuf {
    if inside {
        tool_inside(&opts.tool_dir, bin)
    } else {
        opts.tool_dir.join(bin)
    }
}

/// Where the `-toolexec` program is seen inside the sandbox.
pub(crate) fn toolexec_inside(te: &Path) -> PathBuf {
    let name = te
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "toolexec".into());
    PathBuf::from(format!("/toolexec/{name}"))
}

/// The sandbox policy of one tool run: exactly the declared inputs (read-only,
/// at their locations), the tool (and `-toolexec` program), the action's own
/// work directory writable, the declared environment and nothing else.
fn policy(
    g: &ActionGraph,
    a: &Action,
    bin: &str,
    args: &[String],
    view: View<'_>,
    opts: &ExecOptions,
) -> gob_sandbox::Policy {
    use gob_sandbox::Bind;
    let inside = view.inside;
    let bind = |host: PathBuf, inside_path: PathBuf| Bind {
        inside: if inside { inside_path } else { host.clone() },
        host,
    };
    let mut inputs: Vec<Bind> = a
        .inputs
        .iter()
        .map(|i| {
            let host = match &i.source {
                InputSource::Host(p) if !matches!(i.at, Loc::Work { .. }) => p.clone(),
                _ => host_path(g, &opts.work_dir, &i.at),
            };
            bind(host, PathBuf::from(i.at.inside()))
        })
        .collect();
    // A file can be declared twice (cmd/vet's printf embeds its own doc.go).
    inputs.sort_by(|x, y| x.inside.cmp(&y.inside));
    inputs.dedup_by(|x, y| x.inside == y.inside);
    let tool = tool_path(opts, bin, inside);
    inputs.push(bind(opts.tool_dir.join(bin), tool.clone()));
    let (program, mut argv) = match &opts.toolexec {
        Some(te) => {
            let p = if inside {
                toolexec_inside(te)
            } else {
                te.clone()
            };
            inputs.push(bind(te.clone(), p.clone()));
            (p, vec![tool.into_os_string()])
        }
        None => (tool, Vec::new()),
    };
    argv.extend(args.iter().map(Into::into));
    let own = Loc::Work {
        action: a.id,
        rel: String::new(),
    };
    gob_sandbox::Policy {
        program,
        args: argv,
        // The declared environment, then the audit's noise (never recorded,
        // never keyed, never overriding a declared variable).
        env: a
            .env
            .iter()
            .chain(
                opts.noise_env
                    .iter()
                    .filter(|(k, _)| !a.env.iter().any(|(d, _)| d == k)),
            )
            .map(|(k, v)| (k.into(), v.into()))
            .collect(),
        cwd: PathBuf::from(view.path(&a.cwd)),
        inputs,
        outputs: vec![bind(
            host_path(g, &opts.work_dir, &own),
            PathBuf::from(own.inside()),
        )],
        limits: opts.limits.clone(),
        hostname: "gob".into(),
    }
}

/// Runs an external tool in the sandbox.
fn run_tool(
    g: &ActionGraph,
    a: &Action,
    bin: &str,
    args: &[String],
    view: View<'_>,
    opts: &ExecOptions,
    started_cb: &dyn Fn(Option<String>),
) -> Ran {
    let pol = policy(g, a, bin, args, view, opts);
    let env_prefix: String = a
        .env
        .iter()
        .map(|(k, v)| format!("{k}={} ", crate::plan::shell_quote(v)))
        .collect();
    let cmdline = format!(
        "cd {}\n{env_prefix}{} {}",
        pol.cwd.display(),
        pol.program.display(),
        pol.args
            .iter()
            .map(|s| crate::plan::shell_quote(&s.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ")
    );
    started_cb(Some(cmdline.clone()));
    match opts.sandbox.0.run(&pol) {
        Err(e) => Ran {
            cmdline,
            log: Vec::new(),
            note: None,
            status: ExecStatus::Error(format!("{}: {e}", a.import_path)),
            cpu: std::time::Duration::ZERO,
            enforcement: None,
        },
        Ok(o) => {
            let mut log = o.stdout;
            log.extend_from_slice(&o.stderr);
            let status = match o.status {
                gob_sandbox::ExecStatus::Exited(0) => ExecStatus::Success,
                gob_sandbox::ExecStatus::Exited(code) => ExecStatus::Failed { code },
                gob_sandbox::ExecStatus::Signaled(signal) => ExecStatus::Signaled { signal },
                gob_sandbox::ExecStatus::TimedOut => ExecStatus::TimedOut,
            };
            let note = if status != ExecStatus::Success {
                undeclared_read(g, a, &log, view, opts)
            } else {
                None
            };
            Ran {
                cmdline,
                log,
                note,
                status,
                cpu: o.cpu,
                enforcement: Some(o.enforcement),
            }
        }
    }
}

/// When a failed tool's output names a path it could not open, and that path
/// exists on the host but was not declared, says so: the action, the package,
/// the path, and how to declare it. Tools report failed opens as
/// `open PATH: no such file or directory` (or `permission denied` under Landlock).
fn undeclared_read(
    g: &ActionGraph,
    a: &Action,
    log: &[u8],
    view: View<'_>,
    opts: &ExecOptions,
) -> Option<String> {
    let text = String::from_utf8_lossy(log);
    let declared: std::collections::HashSet<String> =
        a.inputs.iter().map(|i| view.path(&i.at)).collect();
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
            if declared.contains(path) {
                continue;
            }
            let host = if view.inside {
                inside_to_host(g, &opts.work_dir, path)
            } else {
                Some(PathBuf::from(path))
            };
            let Some(host) = host.filter(|h| h.exists()) else {
                continue;
            };
            return Some(format!(
                "gob: action {} ({} of {}) read {path}, which it did not declare (on this host: {}).\n\
                 gob: the sandbox holds only declared inputs; if the package needs this file, \
                 it must be part of the package (a Go file, an //go:embed pattern, a .s or .h file \
                 in its directory), or build with --sandbox=none to see the unsandboxed behaviour.\n",
                a.id,
                a.kind.name(),
                a.import_path,
                host.display()
            ));
        }
    }
    None
}

/// Text with every inside root prefix (`/goroot/`, `/mod/…/`) replaced by the
/// host directory, longest prefix first.
pub(crate) fn inside_to_host_text(g: &ActionGraph, work: &Path, text: &str) -> String {
    let mut roots: Vec<(String, String)> = g
        .roots
        .iter()
        .map(|(root, host)| {
            let inside = Loc::Src {
                root: root.clone(),
                rel: String::new(),
            }
            .inside();
            (format!("{inside}/"), format!("{}/", host.display()))
        })
        .collect();
    roots.sort_by_key(|(i, _)| std::cmp::Reverse(i.len()));
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    // Only where a path can start: not inside a longer path or word.
    let mut at_boundary = true;
    'outer: while !rest.is_empty() {
        if at_boundary {
            // `/work/bNNN/`: an action's work directory.
            if let Some(rest_w) = rest.strip_prefix("/work/b") {
                let digits = rest_w.bytes().take_while(u8::is_ascii_digit).count();
                if digits >= 3 && rest_w[digits..].starts_with('/') {
                    out.push_str(&format!("{}/b", work.display()));
                    rest = rest_w;
                    at_boundary = false;
                    continue 'outer;
                }
            }
            for (inside, host) in &roots {
                if rest.starts_with(inside.as_str()) {
                    out.push_str(host);
                    rest = &rest[inside.len()..];
                    at_boundary = false;
                    continue 'outer;
                }
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
            at_boundary = !(c.is_alphanumeric() || "/._-~+@".contains(c));
        }
        rest = chars.as_str();
    }
    out
}

/// The host path of an inside path, when it is under a known root.
fn inside_to_host(g: &ActionGraph, work: &Path, inside: &str) -> Option<PathBuf> {
    if let Some(rest) = inside.strip_prefix("/work/") {
        return Some(work.join(rest));
    }
    let mut best: Option<(usize, PathBuf)> = None;
    for (root, host) in &g.roots {
        let prefix = Loc::Src {
            root: root.clone(),
            rel: String::new(),
        }
        .inside();
        if let Some(rest) = inside.strip_prefix(&prefix) {
            if (rest.is_empty() || rest.starts_with('/'))
                && best.as_ref().is_none_or(|(n, _)| prefix.len() > *n)
            {
                best = Some((prefix.len(), host.join(rest.trim_start_matches('/'))));
            }
        }
    }
    best.map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{ActionKind, Input, Output as Out, SrcRoot};

    /// Regression: two workers staging the same cached output at once made one
    /// fall back to `fs::copy` onto a hard link of the cache blob, truncating the
    /// blob while the other worker's compiler read it ("can't find export data (EOF)").
    #[test]
    fn concurrent_staging_of_a_cached_output_never_touches_the_blob() {
        let root = std::env::temp_dir().join(format!("gob-stage-race-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let cache = Cache::open(&root.join("cache")).unwrap();
        let content: Vec<u8> = (0..2_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::create_dir_all(root.join("src")).unwrap();
        let produced = root.join("src/_pkg_.a");
        std::fs::write(&produced, &content).unwrap();
        let key = ActionKeyBuilder::new(Digest::of_bytes(b"t")).finish();
        let entry = cache
            .put(&key, &[("_pkg_.a", produced.as_path())], b"")
            .unwrap();
        let o = &entry.outputs[0];
        let producer = ActionId(0);
        let mk = |id: u32| Action {
            id: ActionId(id),
            kind: ActionKind::Compile,
            package: crate::load::PkgId(0),
            import_path: format!("p{id}"),
            deps: if id == 0 { vec![] } else { vec![producer] },
            tool: Tool::Compile,
            args: vec![],
            env: vec![],
            cwd: Loc::Work {
                action: ActionId(id),
                rel: String::new(),
            },
            src_dir: Loc::Src {
                root: SrcRoot::Goroot,
                rel: String::new(),
            },
            inputs: if id == 0 {
                vec![]
            } else {
                vec![Input {
                    at: Loc::Work {
                        action: producer,
                        rel: "_pkg_.a".into(),
                    },
                    source: InputSource::Output {
                        action: producer,
                        name: "_pkg_.a".into(),
                    },
                }]
            },
            outputs: vec![Out {
                name: "_pkg_.a".into(),
                at: Loc::Work {
                    action: ActionId(id),
                    rel: "_pkg_.a".into(),
                },
                exec: false,
            }],
        };
        let g = ActionGraph {
            actions: (0..9).map(mk).collect(),
            links: vec![],
            archives: Default::default(),
            roots: vec![],
        };
        let result = ActionResult {
            id: producer,
            key: Some(key),
            cached: true,
            outputs: vec![OutputFile {
                name: "_pkg_.a".into(),
                digest: o.digest,
                size: o.size,
                path: cache.blob_path(&o.digest),
                exec: false,
            }],
            log: vec![],
            status: super::super::ExecStatus::Success,
            wall: std::time::Duration::ZERO,
            cmdline: String::new(),
            cpu: std::time::Duration::ZERO,
            enforcement: None,
            inputs: Default::default(),
            note: None,
        };
        let opts = ExecOptions {
            jobs: 8,
            print_commands: false,
            verbose: false,
            work_dir: root.join("work"),
            tool_dir: root.clone(),
            progress: false,
            use_cache: true,
            display_cwd: root.clone(),
            sandbox: super::super::SandboxHandle(std::sync::Arc::new(
                gob_sandbox::Sandbox::new(gob_sandbox::Mode::None).unwrap(),
            )),
            toolexec: None,
            limits: gob_sandbox::Limits::default(),
            noise_env: Vec::new(),
            reverse_order: false,
            json: false,
        };
        for round in 0..20 {
            let _ = std::fs::remove_dir_all(&opts.work_dir);
            let barrier = std::sync::Barrier::new(8);
            std::thread::scope(|s| {
                for id in 1..9u32 {
                    let (g, result, cache, opts, barrier, content) =
                        (&g, &result, &cache, &opts, &barrier, &content);
                    s.spawn(move || {
                        let deps: HashMap<ActionId, &ActionResult> =
                            [(producer, result)].into_iter().collect();
                        barrier.wait();
                        stage_inputs(g, g.get(ActionId(id)), &deps, &[], cache, opts).unwrap();
                        let staged = std::fs::read(host_path(
                            g,
                            &opts.work_dir,
                            &g.get(ActionId(id)).inputs[0].at,
                        ))
                        .unwrap();
                        assert!(
                            staged == *content,
                            "round {round}: action {id} saw a partial input"
                        );
                    });
                }
            });
            match cache.get(&key).unwrap() {
                Lookup::Hit(e) => assert_eq!(e.outputs[0].size, content.len() as u64),
                Lookup::Miss(m) => panic!("round {round}: the cache blob was damaged: {m}"),
            }
        }
        let _ = std::fs::remove_dir_all(&root);
    }
}
