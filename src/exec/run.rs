//! Running one action: key it, look it up, or run its tool in its work directory and store the outputs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::runner::{InputData, Label, Program, Spawn, SpawnInput, SpawnOutput, Wrapper};
use super::toolexec::Toolexec;
use super::{key, ActionResult, ExecOptions, ExecStatus, OutputFile};
use crate::cache::{ActionKey, ActionKeyBuilder, Cache, Digest, DigestCache, Lookup};
use crate::plan::{Action, ActionGraph, ActionId, ActionKind, Arg, InputSource, Loc, Tool};

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

/// The build's C toolchain, which a planned C action must have.
fn c_toolchain(g: &ActionGraph) -> Result<&crate::cc::CToolchain, String> {
    g.cc.as_deref()
        .ok_or_else(|| "internal error: a C action without a C toolchain".to_string())
}

/// The digest of the program an action runs: the tool binary, or gob itself for internal steps.
fn tool_digest(
    g: &ActionGraph,
    digests: &DigestCache,
    opts: &ExecOptions,
    tool: Tool,
) -> Result<Digest, String> {
    if tool.c_compiler() {
        return c_toolchain(g)?.identity(digests);
    }
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
/// It is in the cache entry instead: a lookup is served only by an entry made
/// in a mode at least as strong (a weak mode cannot vouch that nothing swapped
/// an output; see `cache::serves`).
fn prepare(
    g: &ActionGraph,
    a: &Action,
    deps: &HashMap<ActionId, &ActionResult>,
    digests: &DigestCache,
    opts: &ExecOptions,
) -> Result<Prepared, String> {
    let mut kb = ActionKeyBuilder::new(tool_digest(g, digests, opts, a.tool)?);
    kb.arg(format!("kind={}", a.kind.name()));
    // Everything the C toolchain holds (programs, headers, libraries), for
    // the actions that see it.
    if a.c_toolchain {
        kb.arg(format!(
            "c-toolchain={}",
            c_toolchain(g)?.identity(digests)?
        ));
    }
    if let (Some(te), Some(_)) = (&opts.toolexec, a.tool.binary()) {
        // The wrapper, its arguments and everything it starts with; the
        // import path go gives it, which it may act on.
        let digest = |p: &Path| {
            digests
                .digest(p)
                .map_err(|e| format!("reading -toolexec file {}: {e}", p.display()))
        };
        kb.arg(format!("toolexec={}", digest(&te.program)?));
        for w in &te.args {
            kb.arg(format!("toolexec-arg={w}"));
        }
        for f in &te.runtime {
            kb.arg(format!(
                "toolexec-runtime={}={}",
                f.at.display(),
                digest(&f.host)?
            ));
        }
        if let Some(ip) = toolexec_importpath(a) {
            kb.env("TOOLEXEC_IMPORTPATH", &ip);
        }
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

/// What every action run shares: the cache, the stat cache, options, compile tokens.
pub(crate) struct RunCtx<'a> {
    pub cache: &'a Cache,
    pub digests: &'a DigestCache,
    pub opts: &'a ExecOptions,
    pub tokens: &'a super::Tokens,
    pub store: &'a super::Store,
}

/// The action's result from the cache: an entry (made in a mode at least as
/// strong as this build's) holding every declared output. A missing or
/// broken entry is a miss: the action runs and the entry is rewritten.
fn hit(
    a: &Action,
    key: &crate::cache::ActionKey,
    used: &std::sync::Arc<Vec<super::UsedInput>>,
    cache: &Cache,
    opts: &ExecOptions,
    started: Instant,
) -> Option<ActionResult> {
    let Ok(Lookup::Hit(entry)) = cache.get(key, opts.sandbox.mode()) else {
        return None;
    };
    let outputs: Vec<OutputFile> = entry
        .outputs
        .iter()
        .map(|o| OutputFile::new(o, cache.blob_path(&o.digest)))
        .collect();
    if !a
        .outputs
        .iter()
        .all(|d| outputs.iter().any(|o| o.name == d.name))
    {
        return None;
    }
    Some(ActionResult {
        id: a.id,
        key: Some(*key),
        cached: true,
        outputs,
        log: entry.log,
        status: ExecStatus::Success,
        wall: started.elapsed(),
        cmdline: String::new(),
        cpu: std::time::Duration::ZERO,
        enforcement: None,
        inputs: used.clone(),
        note: None,
    })
}

/// The action's result if the cache holds it, running nothing (for `-n`):
/// its key computed as [`run_action`] computes it, from its dependencies'
/// (cached) results.
pub(crate) fn cached_result(
    g: &ActionGraph,
    a: &Action,
    deps: &HashMap<ActionId, &ActionResult>,
    cache: &Cache,
    digests: &DigestCache,
    opts: &ExecOptions,
) -> Option<ActionResult> {
    let prep = prepare(g, a, deps, digests, opts).ok()?;
    let used = std::sync::Arc::new(prep.used);
    hit(a, &prep.key, &used, cache, opts, Instant::now())
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
        if let Some(r) = hit(a, &key, &used, cache, opts, started) {
            started_cb(None);
            return r;
        }
    }

    // Back-end concurrency for compiles: not part of the key (see Tokens). The
    // plan leaves an empty argument where cmd/go puts -c=N.
    let (threads, taken) = if a.kind == crate::plan::ActionKind::Compile {
        tokens.take()
    } else {
        (1, 0)
    };
    let spawn = match spawn_of(g, a, deps, prep.generated, &used, threads, cx) {
        Ok(s) => s,
        Err(e) => {
            tokens.give(taken);
            return fail(a, Some(key), started, e);
        }
    };
    let view = View::new(g, opts);
    let host_of = |p: &str| {
        if view.inside {
            inside_to_host(g, &opts.work_dir, p)
        } else {
            Some(PathBuf::from(p))
        }
    };
    let ran = super::runner::Runner::new(&opts.sandbox.0).run(
        &spawn,
        &|c| started_cb(Some(c.to_string())),
        &host_of,
    );
    tokens.give(taken);
    let super::runner::Ran {
        cmdline,
        status,
        log,
        cpu,
        enforcement,
        outputs: collected,
        note,
    } = ran;
    let result = |status, outputs, log| ActionResult {
        id: a.id,
        key: Some(key),
        cached: false,
        outputs,
        log,
        status,
        wall: started.elapsed(),
        cmdline: cmdline.clone(),
        cpu,
        enforcement: enforcement.clone(),
        inputs: used.clone(),
        note: note.clone(),
    };
    if status != ExecStatus::Success {
        return result(status, Vec::new(), log);
    }
    // Every declared output, or the action fails.
    let mut outputs = Vec::with_capacity(collected.len());
    let mut files = Vec::with_capacity(collected.len());
    for (_, got) in collected {
        match got {
            Ok(c) => {
                outputs.push(OutputFile {
                    name: c.name.clone(),
                    digest: c.digest,
                    size: c.size,
                    path: c.path.clone(),
                    exec: c.exec,
                });
                files.push(c);
            }
            Err(why) => return result(ExecStatus::Error(why), Vec::new(), Vec::new()),
        }
    }
    // Dependents start now; the cache store runs in the background, copying
    // from the descriptors the runner checked and digested.
    cx.store.submit(
        cache,
        super::StoreJob {
            key,
            mode: opts.sandbox.mode(),
            files,
            log: log.clone(),
            import_path: a.import_path.clone(),
        },
    );
    result(status, outputs, log)
}

/// The one conversion of a planned action into the runner's [`Spawn`]:
/// argv, cwd and inputs in the action's view (inside paths when the sandbox
/// remaps them), producers' outputs copied from their work file or cache
/// blob, generated files written into the action's own directory.
fn spawn_of(
    g: &ActionGraph,
    a: &Action,
    deps: &HashMap<ActionId, &ActionResult>,
    generated: Vec<(Loc, Vec<u8>)>,
    used: &[super::UsedInput],
    threads: usize,
    cx: &RunCtx<'_>,
) -> Result<Spawn, String> {
    let opts = cx.opts;
    let view = View::new(g, opts);
    let at = |l: &Loc| PathBuf::from(view.path(l));
    let host = |l: &Loc| host_path(g, &opts.work_dir, l);
    let argv: Vec<String> = a
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
    let mut generated: HashMap<Loc, Vec<u8>> = generated.into_iter().collect();
    let mut inputs = Vec::with_capacity(a.inputs.len());
    for (i, u) in a.inputs.iter().zip(used) {
        let data = match &i.source {
            InputSource::Host(p) if !matches!(i.at, Loc::Work { .. }) => InputData::Bind {
                host: p.clone(),
                size: Some(u.size),
            },
            InputSource::Host(p) => InputData::Copy {
                dest: host(&i.at),
                from: vec![p.clone()],
                digest: u.digest,
                size: u.size,
            },
            InputSource::Generated(_) => InputData::Bytes {
                dest: host(&i.at),
                bytes: generated.remove(&i.at).unwrap_or_default(),
            },
            InputSource::Output { action, name } => {
                let o = deps
                    .get(action)
                    .and_then(|r| r.output(name))
                    .ok_or_else(|| format!("internal error: {action} has no output {name}"))?;
                // From the producer's file: its fresh work file (its cache
                // store may still be in flight) or the blob a cache hit verified.
                InputData::Copy {
                    dest: host(&i.at),
                    from: vec![o.path.clone(), cx.cache.blob_path(&o.digest)],
                    digest: o.digest,
                    size: o.size,
                }
            }
        };
        inputs.push(SpawnInput {
            at: at(&i.at),
            data,
        });
    }
    let own = Loc::Work {
        action: a.id,
        rel: String::new(),
    };
    let outputs = a
        .outputs
        .iter()
        .map(|o| match &o.at {
            Loc::Work { action, rel } if *action == a.id => Ok(SpawnOutput {
                name: o.name.clone(),
                rel: rel.clone(),
                exec: o.exec,
            }),
            other => Err(format!(
                "internal error: output {} of {} is outside its work directory: {}",
                o.name,
                a.id,
                other.inside()
            )),
        })
        .collect::<Result<Vec<_>, String>>()?;
    let program = match (a.tool, a.tool.binary()) {
        (_, Some(bin)) => Program::Tool {
            host: opts.tool_dir.join(bin),
            at: tool_path(opts, bin, view.inside),
            wrapper: opts.toolexec.as_ref().map(|te| wrapper(te, view.inside)),
        },
        // cmd/go runs the C compiler without -toolexec.
        (Tool::Cc | Tool::Cxx, None) => {
            let cc = c_toolchain(g)?;
            let (host, at) = match a.tool {
                Tool::Cxx => cc.cxx_program.clone().ok_or_else(|| {
                    format!("{}: no C++ compiler ($CXX) was found", a.import_path)
                })?,
                _ => cc.cc_program.clone(),
            };
            Program::Tool {
                host,
                at,
                wrapper: None,
            }
        }
        (_, None) => Program::Pack,
    };
    let toolchain = match (&g.cc, a.c_toolchain) {
        (Some(cc), true) => cc.binds(matches!(a.kind, ActionKind::CcLink | ActionKind::Link)),
        _ => Vec::new(),
    };
    Ok(Spawn {
        label: Label {
            id: a.id.to_string(),
            kind: a.kind.name().to_string(),
            package: a.import_path.clone(),
        },
        program,
        argv,
        env: {
            let mut env = a.env.clone();
            if let (Some(_), Some(_), Some(ip)) =
                (&opts.toolexec, a.tool.binary(), toolexec_importpath(a))
            {
                env.push(("TOOLEXEC_IMPORTPATH".into(), ip));
            }
            env
        },
        noise_env: opts.noise_env.clone(),
        cwd: at(&a.cwd),
        inputs,
        toolchain,
        own: (host(&own), at(&own)),
        outputs,
        limits: opts.limits.clone(),
    })
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
fn toolexec_inside(te: &Path) -> PathBuf {
    let name = te
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "toolexec".into());
    PathBuf::from(format!("/toolexec/{name}"))
}

/// A `-toolexec` program as an action runs it: at `/toolexec/NAME` when
/// paths are remapped (`inside`), else where it is; its start-up files
/// where the loader opens them.
pub(crate) fn wrapper(te: &Toolexec, inside: bool) -> Wrapper {
    Wrapper {
        host: te.program.clone(),
        at: if inside {
            toolexec_inside(&te.program)
        } else {
            te.program.clone()
        },
        args: te.args.clone(),
        runtime: te
            .runtime
            .iter()
            .map(|f| (f.host.clone(), f.at.clone()))
            .collect(),
    }
}

/// `TOOLEXEC_IMPORTPATH`, which go sets for every tool it runs under
/// `-toolexec`: the package's import path as go list prints it (with its
/// ` [main]` for a PGO variant); none for a PGO profile's conversion, which
/// go runs for no package.
pub(crate) fn toolexec_importpath(a: &Action) -> Option<String> {
    (a.kind != ActionKind::Preprofile).then(|| a.import_path.clone())
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
