//! Comparing two traces: which actions differ, and why.
//!
//! Actions are matched by [`ActionKey`] (package, kind, and position among
//! the actions of that package and kind), not by index: indexes shift when a
//! build gains or loses an action. The work directories named after indexes
//! shift with them, so paths are translated from one trace to the other
//! through the matched actions' output paths before they are compared.
//!
//! For each differing action the report gives the outputs that differ and the
//! first cause found, in this order: the tool, an argv element, an environment
//! entry, the working directory, an input not produced by another action, an
//! input produced by an action whose outputs differ (a *consequence*: it
//! points to that action), and, when nothing going in differs, the tool
//! itself (same inputs, different outputs: nondeterminism).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{self, Read};

use crate::reader::Trace;
use crate::schema::{ActionRecord, Digest, FileRef, Header, OutputRef, Status};
use crate::text::Esc;

/// The first offset at which `a` and `b` differ, or the shorter length if
/// one is a prefix of the other; None if they are equal.
pub fn first_difference(a: &[u8], b: &[u8]) -> Option<u64> {
    if a == b {
        return None;
    }
    let n = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    Some(n as u64)
}

/// As [`first_difference`], over two readers, in constant memory (two
/// 64 KiB buffers): for outputs and release binaries, which can be large.
pub fn first_difference_read(mut a: impl Read, mut b: impl Read) -> io::Result<Option<u64>> {
    use crate::writer::fill;
    let (mut ba, mut bb) = (vec![0u8; 64 << 10], vec![0u8; 64 << 10]);
    let mut at = 0u64;
    loop {
        let (na, nb) = (fill(&mut a, &mut ba)?, fill(&mut b, &mut bb)?);
        let n = na.min(nb);
        if let Some(i) = ba[..n].iter().zip(&bb[..n]).position(|(x, y)| x != y) {
            return Ok(Some(at + i as u64));
        }
        if na != nb {
            return Ok(Some(at + n as u64));
        }
        if n == 0 {
            return Ok(None);
        }
        at += n as u64;
    }
}

/// How an action is recognized across traces.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionKey {
    /// The package's import path.
    pub package: String,
    /// The action's kind.
    pub kind: String,
    /// Its position among the trace's actions of this package and kind, from 0.
    pub ordinal: u32,
}

impl fmt::Display for ActionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", Esc(&self.kind), Esc(&self.package))?;
        if self.ordinal > 0 {
            write!(f, " (#{})", self.ordinal + 1)?;
        }
        Ok(())
    }
}

/// An action and its index in each trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchedAction {
    /// How it was matched.
    pub key: ActionKey,
    /// Its index in trace a.
    pub index_a: u32,
    /// Its index in trace b.
    pub index_b: u32,
}

/// An action found in one trace only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnmatchedAction {
    /// Its key.
    pub key: ActionKey,
    /// Its index in the trace that has it.
    pub index: u32,
}

/// A tool as an action names it, with its identity from the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolSide {
    /// The tool's name.
    pub name: String,
    /// Its binary's digest and size, if the header lists it.
    pub identity: Option<(Digest, u64)>,
}

/// Why an action differs: the first difference found going in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    /// Another tool, or the same tool name with another binary.
    Tool {
        /// In trace a.
        a: ToolSide,
        /// In trace b.
        b: ToolSide,
    },
    /// An argument differs (None: the list is shorter).
    Argv {
        /// Its position in argv.
        index: usize,
        /// In trace a.
        a: Option<String>,
        /// In trace b.
        b: Option<String>,
    },
    /// An environment entry differs (None: unset).
    Env {
        /// The variable.
        name: String,
        /// In trace a.
        a: Option<String>,
        /// In trace b.
        b: Option<String>,
    },
    /// The working directory differs.
    Cwd {
        /// In trace a.
        a: String,
        /// In trace b.
        b: String,
    },
    /// An input not produced by a differing action differs (None: absent).
    Input {
        /// Its path (as in trace b when present there).
        path: String,
        /// Its digest in trace a.
        a: Option<Digest>,
        /// Its digest in trace b.
        b: Option<Digest>,
    },
    /// A consequence: the only inputs that differ are outputs of an earlier
    /// action that differs itself.
    Dependency {
        /// The input's path (as in trace b).
        path: String,
        /// The action that produced it.
        dependency: ActionKey,
        /// Its digest in trace a.
        a: Option<Digest>,
        /// Its digest in trace b.
        b: Option<Digest>,
    },
    /// Same tool, arguments, environment and inputs, different outputs or
    /// status: the tool is not deterministic.
    Nondeterministic,
}

/// An output that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputDiff {
    /// Its name.
    pub name: String,
    /// The file in trace a (None: not produced).
    pub a: Option<FileRef>,
    /// The file in trace b.
    pub b: Option<FileRef>,
}

/// One action that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionDiff {
    /// Which action.
    pub action: MatchedAction,
    /// Its outputs that differ (empty: the difference going in did not change them).
    pub outputs: Vec<OutputDiff>,
    /// The statuses, if they differ.
    pub status: Option<(Status, Status)>,
    /// The first cause.
    pub cause: Cause,
}

impl ActionDiff {
    /// Whether this action is a root cause rather than a consequence of a
    /// dependency's change.
    pub fn is_root_cause(&self) -> bool {
        !matches!(self.cause, Cause::Dependency { .. })
    }

    /// Whether its results (outputs or status) differ.
    pub fn results_differ(&self) -> bool {
        !self.outputs.is_empty() || self.status.is_some()
    }
}

/// A header field that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderDiff {
    /// The field (`go_version`, `tool compile`, `target_env GOAMD64`).
    pub field: String,
    /// Its value in trace a (empty: absent).
    pub a: String,
    /// Its value in trace b.
    pub b: String,
}

/// The difference between two traces.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TraceDiff {
    /// Header fields that differ.
    pub header: Vec<HeaderDiff>,
    /// Actions in both that differ, in dependency order (trace a's order).
    pub actions: Vec<ActionDiff>,
    /// Actions only in trace a.
    pub only_in_a: Vec<UnmatchedAction>,
    /// Actions only in trace b.
    pub only_in_b: Vec<UnmatchedAction>,
}

impl TraceDiff {
    /// Whether the traces match.
    pub fn is_empty(&self) -> bool {
        self.header.is_empty()
            && self.actions.is_empty()
            && self.only_in_a.is_empty()
            && self.only_in_b.is_empty()
    }

    /// The differing actions that are root causes, in dependency order.
    pub fn root_causes(&self) -> impl Iterator<Item = &ActionDiff> {
        self.actions.iter().filter(|d| d.is_root_cause())
    }
}

/// Keys every action of `t`, in index order.
fn keys(t: &Trace) -> Vec<ActionKey> {
    let mut count: HashMap<(&str, &str), u32> = HashMap::new();
    t.actions
        .iter()
        .map(|a| {
            let n = count.entry((&a.package, &a.kind)).or_insert(0);
            let key = ActionKey {
                package: a.package.clone(),
                kind: a.kind.clone(),
                ordinal: *n,
            };
            *n += 1;
            key
        })
        .collect()
}

/// Compares two traces. Pure: it reads nothing but its arguments.
pub fn diff_traces(a: &Trace, b: &Trace) -> TraceDiff {
    let mut diff = TraceDiff {
        header: diff_headers(&a.header, &b.header),
        ..TraceDiff::default()
    };
    let keys_a = keys(a);
    let keys_b = keys(b);
    let pos_b: HashMap<&ActionKey, usize> =
        keys_b.iter().enumerate().map(|(i, k)| (k, i)).collect();
    let pos_a: HashMap<&ActionKey, usize> =
        keys_a.iter().enumerate().map(|(i, k)| (k, i)).collect();

    // Paths translated from a to b: each matched action's output paths, and
    // the directories holding them (work directories named by index).
    let mut path_map: HashMap<&str, &str> = HashMap::new();
    for (i, k) in keys_a.iter().enumerate() {
        if let Some(&j) = pos_b.get(k) {
            for (oa, ob) in paired_outputs(&a.actions[i], &b.actions[j]) {
                path_map.insert(&oa.file.path, &ob.file.path);
            }
        }
    }
    // Who produced each output path in b, and whether that action differs.
    let mut producer_b: HashMap<&str, usize> = HashMap::new();
    for (j, act) in b.actions.iter().enumerate() {
        for o in &act.outputs {
            producer_b.insert(&o.file.path, j);
        }
    }
    let index_pos_a: HashMap<u32, usize> = a
        .actions
        .iter()
        .enumerate()
        .map(|(i, x)| (x.index, i))
        .collect();
    let mut changed_b = vec![false; b.actions.len()];

    for (i, k) in keys_a.iter().enumerate() {
        let Some(&j) = pos_b.get(k) else {
            diff.only_in_a.push(UnmatchedAction {
                key: k.clone(),
                index: a.actions[i].index,
            });
            continue;
        };
        let (xa, xb) = (&a.actions[i], &b.actions[j]);
        let prefixes = dir_prefixes(xa, xb, a, b, &index_pos_a, &pos_b, &keys_a);
        let tr = Translator::new(&path_map, &prefixes);

        let outputs = diff_outputs(xa, xb);
        let status = (xa.status != xb.status).then(|| (xa.status.clone(), xb.status.clone()));
        let cause = first_cause(xa, xb, a, b, &tr, &producer_b, &changed_b, &keys_b);
        let results_differ = !outputs.is_empty() || status.is_some();
        if results_differ {
            changed_b[j] = true;
        }
        let cause = match cause {
            Some(c) => c,
            None if results_differ => Cause::Nondeterministic,
            None => continue,
        };
        diff.actions.push(ActionDiff {
            action: MatchedAction {
                key: k.clone(),
                index_a: xa.index,
                index_b: xb.index,
            },
            outputs,
            status,
            cause,
        });
    }
    for (j, k) in keys_b.iter().enumerate() {
        if !pos_a.contains_key(k) {
            diff.only_in_b.push(UnmatchedAction {
                key: k.clone(),
                index: b.actions[j].index,
            });
        }
    }
    diff
}

/// Directory prefixes to translate for one matched pair: the parents of its
/// own outputs and of its direct dependencies' outputs, where they differ.
fn dir_prefixes(
    xa: &ActionRecord,
    xb: &ActionRecord,
    a: &Trace,
    b: &Trace,
    index_pos_a: &HashMap<u32, usize>,
    pos_b: &HashMap<&ActionKey, usize>,
    keys_a: &[ActionKey],
) -> HashMap<String, String> {
    let mut pairs: HashMap<String, String> = HashMap::new();
    let mut pair_outputs = |ya: &ActionRecord, yb: &ActionRecord| {
        for (oa, ob) in paired_outputs(ya, yb) {
            if let (Some(da), Some(db)) = (parent(&oa.file.path), parent(&ob.file.path)) {
                if da != db && da.len() > 1 && !pairs.contains_key(da) {
                    pairs.insert(da.to_owned(), db.to_owned());
                }
            }
        }
    };
    pair_outputs(xa, xb);
    for dep in &xa.deps {
        let Some(&i) = index_pos_a.get(dep) else {
            continue;
        };
        let Some(&j) = pos_b.get(&keys_a[i]) else {
            continue;
        };
        pair_outputs(&a.actions[i], &b.actions[j]);
    }
    pairs
}

/// The outputs of `ya` and `yb` with the same name, in `ya`'s order: a map
/// by name, so an action with many outputs costs linear time, not quadratic.
fn paired_outputs<'a>(
    ya: &'a ActionRecord,
    yb: &'a ActionRecord,
) -> impl Iterator<Item = (&'a OutputRef, &'a OutputRef)> {
    let by_name: HashMap<&str, &OutputRef> =
        yb.outputs.iter().map(|o| (o.name.as_str(), o)).collect();
    ya.outputs
        .iter()
        .filter_map(move |oa| by_name.get(oa.name.as_str()).map(|ob| (oa, *ob)))
}

fn parent(path: &str) -> Option<&str> {
    path.rfind('/')
        .map(|i| &path[..i])
        .filter(|p| !p.is_empty())
}

/// Rewrites trace a's paths into trace b's.
struct Translator<'a> {
    exact: &'a HashMap<&'a str, &'a str>,
    /// Directory in a → directory in b.
    prefixes: &'a HashMap<String, String>,
    /// The longest directory in `prefixes`.
    longest: usize,
}

impl<'a> Translator<'a> {
    fn new(exact: &'a HashMap<&'a str, &'a str>, prefixes: &'a HashMap<String, String>) -> Self {
        let longest = prefixes.keys().map(String::len).max().unwrap_or(0);
        Translator {
            exact,
            prefixes,
            longest,
        }
    }

    /// `s` with every directory of `prefixes` that stands as a whole path
    /// (from a `/` to the end, a `/`, or a character that cannot continue a
    /// file name component like `=` or `:`) replaced, the longest match at
    /// each place winning. One pass, map lookups: the cost is the length of
    /// `s` times the longest directory, whatever the number of directories.
    fn tr(&self, s: &str) -> String {
        if let Some(b) = self.exact.get(s) {
            return (*b).to_owned();
        }
        if self.prefixes.is_empty() {
            return s.to_owned();
        }
        let bytes = s.as_bytes();
        let continues =
            |b: u8| b.is_ascii_alphanumeric() || b >= 0x80 || matches!(b, b'_' | b'.' | b'-');
        let mut out = String::with_capacity(s.len());
        let (mut last, mut i) = (0, 0);
        while i < bytes.len() {
            if bytes[i] == b'/' {
                let limit = (i + self.longest).min(bytes.len());
                let mut best = None;
                for j in i + 1..=limit {
                    if j == bytes.len() || !continues(bytes[j]) {
                        if let Some(to) = self.prefixes.get(&s[i..j]) {
                            best = Some((j, to));
                        }
                    }
                }
                if let Some((j, to)) = best {
                    out.push_str(&s[last..i]);
                    out.push_str(to);
                    (last, i) = (j, j);
                    continue;
                }
            }
            i += 1;
        }
        out.push_str(&s[last..]);
        out
    }
}

fn tool_side(name: &str, h: &Header) -> ToolSide {
    ToolSide {
        name: name.to_owned(),
        identity: h
            .tools
            .iter()
            .find(|t| t.name == name)
            .map(|t| (t.digest, t.size)),
    }
}

#[allow(clippy::too_many_arguments)]
fn first_cause(
    xa: &ActionRecord,
    xb: &ActionRecord,
    a: &Trace,
    b: &Trace,
    tr: &Translator<'_>,
    producer_b: &HashMap<&str, usize>,
    changed_b: &[bool],
    keys_b: &[ActionKey],
) -> Option<Cause> {
    let (ta, tb) = (
        tool_side(&xa.tool, &a.header),
        tool_side(&xb.tool, &b.header),
    );
    if ta != tb {
        return Some(Cause::Tool { a: ta, b: tb });
    }
    for i in 0..xa.argv.len().max(xb.argv.len()) {
        let (va, vb) = (xa.argv.get(i), xb.argv.get(i));
        let same = match (va, vb) {
            (Some(x), Some(y)) => x == y || tr.tr(x) == *y,
            _ => false,
        };
        if !same {
            return Some(Cause::Argv {
                index: i,
                a: va.cloned(),
                b: vb.cloned(),
            });
        }
    }
    let env_a: BTreeMap<&str, &str> = xa
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let env_b: BTreeMap<&str, &str> = xb
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let names: std::collections::BTreeSet<&str> =
        env_a.keys().chain(env_b.keys()).copied().collect();
    for name in names {
        let (va, vb) = (env_a.get(name), env_b.get(name));
        let same = match (va, vb) {
            (Some(x), Some(y)) => x == y || tr.tr(x) == **y,
            _ => false,
        };
        if !same {
            return Some(Cause::Env {
                name: name.to_owned(),
                a: va.map(|s| s.to_string()),
                b: vb.map(|s| s.to_string()),
            });
        }
    }
    if xa.cwd != xb.cwd && tr.tr(&xa.cwd) != xb.cwd {
        return Some(Cause::Cwd {
            a: xa.cwd.clone(),
            b: xb.cwd.clone(),
        });
    }
    // Inputs, keyed by their path in b's terms.
    let in_a: BTreeMap<String, Digest> = xa
        .inputs
        .iter()
        .map(|f| (tr.tr(&f.path), f.digest))
        .collect();
    let in_b: BTreeMap<&str, Digest> = xb
        .inputs
        .iter()
        .map(|f| (f.path.as_str(), f.digest))
        .collect();
    let mut consequence = None;
    let paths: std::collections::BTreeSet<&str> = in_a
        .keys()
        .map(String::as_str)
        .chain(in_b.keys().copied())
        .collect();
    for path in paths {
        let (da, db) = (in_a.get(path).copied(), in_b.get(path).copied());
        if da == db {
            continue;
        }
        match producer_b.get(path) {
            Some(&j) if changed_b[j] => {
                if consequence.is_none() {
                    consequence = Some(Cause::Dependency {
                        path: path.to_owned(),
                        dependency: keys_b[j].clone(),
                        a: da,
                        b: db,
                    });
                }
            }
            _ => {
                return Some(Cause::Input {
                    path: path.to_owned(),
                    a: da,
                    b: db,
                })
            }
        }
    }
    consequence
}

fn diff_outputs(xa: &ActionRecord, xb: &ActionRecord) -> Vec<OutputDiff> {
    let mut out = Vec::new();
    let names_a: std::collections::HashSet<&str> =
        xa.outputs.iter().map(|o| o.name.as_str()).collect();
    let by_name_b: HashMap<&str, &OutputRef> =
        xb.outputs.iter().map(|o| (o.name.as_str(), o)).collect();
    for oa in &xa.outputs {
        let ob = by_name_b.get(oa.name.as_str()).copied();
        let same = ob.is_some_and(|ob| {
            ob.file.digest == oa.file.digest && ob.file.size == oa.file.size && ob.exec == oa.exec
        });
        if !same {
            out.push(OutputDiff {
                name: oa.name.clone(),
                a: Some(oa.file.clone()),
                b: ob.map(|o| o.file.clone()),
            });
        }
    }
    for ob in &xb.outputs {
        if !names_a.contains(ob.name.as_str()) {
            out.push(OutputDiff {
                name: ob.name.clone(),
                a: None,
                b: Some(ob.file.clone()),
            });
        }
    }
    out
}

fn diff_headers(a: &Header, b: &Header) -> Vec<HeaderDiff> {
    let mut out = Vec::new();
    let mut field = |name: &str, va: String, vb: String| {
        if va != vb {
            out.push(HeaderDiff {
                field: name.to_owned(),
                a: va,
                b: vb,
            });
        }
    };
    field("gob_version", a.gob_version.clone(), b.gob_version.clone());
    field("go_version", a.go_version.clone(), b.go_version.clone());
    field(
        "target",
        format!("{}/{}", a.target.os, a.target.arch),
        format!("{}/{}", b.target.os, b.target.arch),
    );
    field(
        "tool_platform",
        format!("{}/{}", a.tool_platform.os, a.tool_platform.arch),
        format!("{}/{}", b.tool_platform.os, b.tool_platform.arch),
    );
    field(
        "host",
        format!("{}/{}", a.host.os, a.host.arch),
        format!("{}/{}", b.host.os, b.host.arch),
    );
    let env_a: BTreeMap<&str, &str> = a
        .target_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let env_b: BTreeMap<&str, &str> = b
        .target_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for k in env_a
        .keys()
        .chain(env_b.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        field(
            &format!("target_env {k}"),
            env_a.get(k).map(|s| s.to_string()).unwrap_or_default(),
            env_b.get(k).map(|s| s.to_string()).unwrap_or_default(),
        );
    }
    let tool = |t: Option<&crate::schema::ToolId>| {
        t.map(|t| format!("{} ({} bytes)", t.digest.short(), t.size))
            .unwrap_or_default()
    };
    let names: std::collections::BTreeSet<&str> = a
        .tools
        .iter()
        .chain(&b.tools)
        .map(|t| t.name.as_str())
        .collect();
    for n in names {
        field(
            &format!("tool {n}"),
            tool(a.tools.iter().find(|t| t.name == n)),
            tool(b.tools.iter().find(|t| t.name == n)),
        );
    }
    let roots = |h: &Header| {
        h.roots
            .iter()
            .map(|r| format!("{}={}", r.kind, r.inside))
            .collect::<Vec<_>>()
            .join(" ")
    };
    field("roots", roots(a), roots(b));
    field("patterns", a.patterns.join(" "), b.patterns.join(" "));
    field("blobs", a.blobs.to_string(), b.blobs.to_string());
    out
}

// ---------------------------------------------------------------------------
// The report.

fn opt(s: &Option<String>) -> String {
    s.as_deref()
        .map_or_else(|| "(none)".to_owned(), |s| Esc(s).to_string())
}

fn opt_digest(d: &Option<Digest>) -> String {
    d.map_or_else(|| "(absent)".to_owned(), |d| d.short())
}

fn file(f: &Option<FileRef>) -> String {
    f.as_ref().map_or_else(
        || "(absent)".to_owned(),
        |f| format!("{} bytes {}", f.size, f.digest.short()),
    )
}

fn tool(t: &ToolSide) -> String {
    match t.identity {
        Some((d, size)) => format!("{} {} ({size} bytes)", Esc(&t.name), d.short()),
        None => format!("{} (not in header)", Esc(&t.name)),
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Tool { a, b } => write!(f, "tool differs: {} vs {}", tool(a), tool(b)),
            Cause::Argv { index, a, b } => write!(f, "argv[{index}] differs: {} vs {}", opt(a), opt(b)),
            Cause::Env { name, a, b } => write!(f, "environment {} differs: {} vs {}", Esc(name), opt(a), opt(b)),
            Cause::Cwd { a, b } => write!(f, "working directory differs: {} vs {}", Esc(a), Esc(b)),
            Cause::Input { path, a, b } => {
                write!(f, "input {} differs: {} vs {}", Esc(path), opt_digest(a), opt_digest(b))
            }
            Cause::Dependency { path, dependency, a, b } => write!(
                f,
                "input {} ({} vs {}) comes from {dependency}, which differs",
                Esc(path),
                opt_digest(a),
                opt_digest(b)
            ),
            Cause::Nondeterministic => f.write_str("same tool, arguments, environment and inputs, different results: the tool is not deterministic"),
        }
    }
}

impl fmt::Display for ActionDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.action;
        if m.index_a == m.index_b {
            write!(f, "{} [#{}]", m.key, m.index_a)?;
        } else {
            write!(f, "{} [#{} in a, #{} in b]", m.key, m.index_a, m.index_b)?;
        }
        writeln!(f)?;
        writeln!(f, "    {}", self.cause)?;
        if let Some((a, b)) = &self.status {
            writeln!(f, "    status: {a:?} vs {b:?}")?;
        }
        for o in &self.outputs {
            writeln!(
                f,
                "    output {}: {} vs {}",
                Esc(&o.name),
                file(&o.a),
                file(&o.b)
            )?;
        }
        if !self.results_differ() {
            writeln!(f, "    (its outputs are the same)")?;
        }
        Ok(())
    }
}

impl fmt::Display for TraceDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return writeln!(f, "traces match");
        }
        for h in &self.header {
            writeln!(f, "header {}: {} vs {}", h.field, Esc(&h.a), Esc(&h.b))?;
        }
        let roots: Vec<_> = self.root_causes().collect();
        let consequences: Vec<_> = self.actions.iter().filter(|d| !d.is_root_cause()).collect();
        if !self.actions.is_empty() {
            writeln!(
                f,
                "{} action(s) differ: {} root cause(s), {} consequence(s)",
                self.actions.len(),
                roots.len(),
                consequences.len()
            )?;
        }
        for d in roots {
            write!(f, "root cause: {d}")?;
        }
        for d in consequences {
            write!(f, "consequence: {d}")?;
        }
        for u in &self.only_in_a {
            writeln!(f, "only in a: {} [#{}]", u.key, u.index)?;
        }
        for u in &self.only_in_b {
            writeln!(f, "only in b: {} [#{}]", u.key, u.index)?;
        }
        Ok(())
    }
}
