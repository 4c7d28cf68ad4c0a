//! Policy validation: every path, string and reference checked before any process starts.
//!
//! A [`Policy`] is plain data; [`check`] turns it into a [`Checked`] policy
//! (the policy plus what was learnt from the host: whether each input is a
//! file or a directory) or an `InvalidPolicy` error naming the bad entry.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::mounts::RESERVED;
use crate::{Mode, Policy, SandboxError};

/// Whether a host path is a file (anything bound as a file) or a directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Not a directory.
    File,
    /// A directory.
    Dir,
}

/// A validated policy.
pub(crate) struct Checked<'p> {
    /// The policy.
    pub policy: &'p Policy,
    /// The kind of each input, in order.
    pub input_kinds: Vec<Kind>,
    /// Host directories bound (or given a Landlock rule) as a whole.
    pub groups: Vec<crate::groups::Group>,
    /// For each input, its group if it is covered by one.
    pub member_of: Vec<Option<usize>>,
}

/// An `InvalidPolicy` error.
fn invalid(msg: String) -> SandboxError {
    SandboxError::InvalidPolicy(msg)
}

/// Whether the bytes contain a NUL (which no system call can carry).
fn has_nul(s: &OsStr) -> bool {
    s.as_bytes().contains(&0)
}

/// The bytes of a path.
fn bytes(p: &Path) -> &[u8] {
    p.as_os_str().as_bytes()
}

/// Whether normalized absolute `inner` is `outer` or beneath it: a byte
/// comparison, cheaper than `Path::starts_with`, which parses components.
pub(crate) fn is_within(inner: &Path, outer: &Path) -> bool {
    let (a, b) = (bytes(outer), bytes(inner));
    a == b"/" || (b.starts_with(a) && (b.len() == a.len() || b[a.len()] == b'/'))
}

/// Tree order of normalized absolute paths: bytes, with `/` lowest, so that
/// a path's descendants directly follow it (and parents precede children).
pub(crate) fn tree_cmp(a: &Path, b: &Path) -> std::cmp::Ordering {
    let key = |c: &u8| if *c == b'/' { 0 } else { *c };
    bytes(a).iter().map(key).cmp(bytes(b).iter().map(key))
}

/// Whether `p` is absolute and normalized: no empty, `.` or `..` component,
/// no trailing slash.
pub(crate) fn is_normalized_absolute(p: &Path) -> bool {
    let b = p.as_os_str().as_bytes();
    match b {
        [] => false,
        b"/" => true,
        [b'/', rest @ ..] => rest
            .split(|&c| c == b'/')
            .all(|seg| !seg.is_empty() && seg != b"." && seg != b".."),
        _ => false,
    }
}

/// Checks an inside path (modes with a mount namespace).
fn check_inside(what: &str, p: &Path) -> Result<(), SandboxError> {
    if has_nul(p.as_os_str()) {
        return Err(invalid(format!("{what} {}: contains NUL", p.display())));
    }
    if !is_normalized_absolute(p) {
        return Err(invalid(format!(
            "{what} {}: inside path must be absolute and normalized (no `.`, `..`, `//` or trailing `/`)",
            p.display()
        )));
    }
    if p == Path::new("/") {
        return Err(invalid(format!(
            "{what} /: cannot bind over the sandbox root"
        )));
    }
    if let Some(r) = RESERVED.iter().find(|r| is_within(p, Path::new(r))) {
        return Err(invalid(format!(
            "{what} {}: {r} is provided by the sandbox",
            p.display()
        )));
    }
    Ok(())
}

/// Checks a host path: absolute, no NUL, exists; returns its kind.
fn check_host(what: &str, p: &Path) -> Result<Kind, SandboxError> {
    if has_nul(p.as_os_str()) {
        return Err(invalid(format!(
            "{what} host path {}: contains NUL",
            p.display()
        )));
    }
    if !p.is_absolute() {
        return Err(invalid(format!(
            "{what} host path {}: must be absolute",
            p.display()
        )));
    }
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => Ok(Kind::Dir),
        Ok(_) => Ok(Kind::File),
        Err(e) => Err(invalid(format!("{what} host path {}: {e}", p.display()))),
    }
}

/// Validates `policy` for `mode`.
pub(crate) fn check<'p>(
    policy: &'p Policy,
    mode: Mode,
    cache: Option<&crate::groups::DirCache>,
) -> Result<Checked<'p>, SandboxError> {
    let remap = mode.remaps_paths();

    // Strings.
    if policy.hostname.is_empty() || policy.hostname.len() > 64 || policy.hostname.contains('\0') {
        return Err(invalid(format!(
            "hostname {:?}: must be 1 to 64 bytes without NUL",
            policy.hostname
        )));
    }
    for (i, a) in policy.args.iter().enumerate() {
        if has_nul(a) {
            return Err(invalid(format!("argument {} ({a:?}): contains NUL", i + 1)));
        }
    }
    for (k, v) in &policy.env {
        if k.is_empty() || has_nul(k) || k.as_bytes().contains(&b'=') {
            return Err(invalid(format!(
                "environment variable {k:?}: name must be non-empty, without `=` or NUL"
            )));
        }
        if has_nul(v) {
            return Err(invalid(format!(
                "environment variable {k:?}: value contains NUL"
            )));
        }
    }

    // Inputs and outputs. Fully declared directories are listed once, which
    // also gives their files' kinds; the rest is stat'ed one by one. Mode::None
    // binds nothing, so its inputs are only checked to be absolute paths.
    let n = policy.inputs.len();
    let found = if mode == Mode::None {
        crate::groups::Found {
            kinds: vec![None; n],
            groups: Vec::new(),
            member_of: vec![None; n],
        }
    } else {
        crate::groups::find(policy, remap, cache)
    };
    let mut input_kinds = Vec::with_capacity(n);
    for (i, b) in policy.inputs.iter().enumerate() {
        let known = found.kinds.get(i).copied().flatten();
        match known {
            Some(k) if !has_nul(b.host.as_os_str()) && b.host.is_absolute() => input_kinds.push(k),
            _ if mode == Mode::None => {
                if has_nul(b.host.as_os_str()) || !b.host.is_absolute() {
                    return Err(invalid(format!(
                        "input host path {}: must be absolute, without NUL",
                        b.host.display()
                    )));
                }
                input_kinds.push(Kind::File);
            }
            _ => input_kinds.push(check_host("input", &b.host)?),
        }
        if remap {
            check_inside("input", &b.inside)?;
        }
    }
    for b in &policy.outputs {
        if check_host("output", &b.host)? != Kind::Dir {
            return Err(invalid(format!(
                "output host path {}: not a directory",
                b.host.display()
            )));
        }
        if remap {
            check_inside("output", &b.inside)?;
        }
    }
    if remap {
        check_tree(policy, &input_kinds, &found)?;
    }

    // The program.
    let program = &policy.program;
    if has_nul(program.as_os_str()) || !program.is_absolute() {
        return Err(invalid(format!(
            "program {}: must be an absolute path without NUL",
            program.display()
        )));
    }
    if remap && !is_normalized_absolute(program) {
        return Err(invalid(format!(
            "program {}: inside path must be normalized",
            program.display()
        )));
    }
    if mode != Mode::None {
        let covered = policy.inputs.iter().zip(&input_kinds).any(|(b, &k)| {
            if remap {
                program == &b.inside || (k == Kind::Dir && is_within(program, &b.inside))
            } else {
                program == &b.host || (k == Kind::Dir && program.starts_with(&b.host))
            }
        });
        if !covered {
            return Err(invalid(format!(
                "program {}: not among the inputs nor beneath an input directory",
                program.display()
            )));
        }
    }

    // The working directory.
    let cwd = &policy.cwd;
    if has_nul(cwd.as_os_str()) || !cwd.is_absolute() {
        return Err(invalid(format!(
            "cwd {}: must be an absolute path without NUL",
            cwd.display()
        )));
    }
    if remap {
        if !is_normalized_absolute(cwd) {
            return Err(invalid(format!(
                "cwd {}: inside path must be normalized",
                cwd.display()
            )));
        }
        let exists = cwd == Path::new("/")
            || is_within(cwd, Path::new("/tmp"))
            || policy.inputs.iter().zip(&input_kinds).any(|(b, &k)| {
                is_within(&b.inside, cwd) || (k == Kind::Dir && is_within(cwd, &b.inside))
            })
            || policy
                .outputs
                .iter()
                .any(|b| is_within(&b.inside, cwd) || is_within(cwd, &b.inside));
        if !exists {
            return Err(invalid(format!(
                "cwd {}: not a declared directory, nor beneath or above one, nor /tmp",
                cwd.display()
            )));
        }
    }
    Ok(Checked {
        policy,
        input_kinds,
        groups: found.groups,
        member_of: found.member_of,
    })
}

/// Inside paths: no duplicates, nothing beneath a file. A group stands for
/// its members: they have distinct names in its directory, and nothing else
/// lies beneath that directory (groups.rs checked both).
fn check_tree(
    policy: &Policy,
    kinds: &[Kind],
    found: &crate::groups::Found,
) -> Result<(), SandboxError> {
    let mut all: Vec<(&Path, Kind)> = policy
        .inputs
        .iter()
        .zip(kinds.iter().copied())
        .zip(&found.member_of)
        .filter(|(_, g)| g.is_none())
        .map(|((b, k), _)| (b.inside.as_path(), k))
        .collect();
    all.extend(found.groups.iter().map(|g| (g.inside.as_path(), Kind::Dir)));
    all.extend(
        policy
            .outputs
            .iter()
            .map(|b| (b.inside.as_path(), Kind::Dir)),
    );
    all.sort_unstable_by(|a, b| tree_cmp(a.0, b.0));
    // In tree order, a path's descendants directly follow it.
    for w in all.windows(2) {
        let ((a, ka), (b, _)) = (w[0], w[1]);
        if a == b {
            return Err(invalid(format!(
                "inside path {} is declared twice",
                a.display()
            )));
        }
        if ka == Kind::File && is_within(b, a) {
            return Err(invalid(format!(
                "inside path {} is beneath {}, which is a file",
                b.display(),
                a.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Bind, Limits};
    use std::path::PathBuf;

    /// A scratch directory with a file `prog` and a directory `dir`.
    struct Scratch(PathBuf);
    impl Scratch {
        fn new(name: &str) -> Scratch {
            let d = std::env::temp_dir()
                .join(format!("gob-sandbox-policy-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(d.join("dir")).unwrap();
            std::fs::create_dir_all(d.join("out")).unwrap();
            std::fs::write(d.join("prog"), b"").unwrap();
            Scratch(d)
        }
    }
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn base(s: &Scratch) -> Policy {
        Policy {
            program: "/bin/prog".into(),
            args: vec![],
            env: vec![("A".into(), "b".into())],
            cwd: "/work".into(),
            inputs: vec![
                Bind {
                    host: s.0.join("prog"),
                    inside: "/bin/prog".into(),
                },
                Bind {
                    host: s.0.join("dir"),
                    inside: "/src".into(),
                },
            ],
            outputs: vec![Bind {
                host: s.0.join("out"),
                inside: "/work".into(),
            }],
            limits: Limits::default(),
            hostname: "gob".into(),
        }
    }

    fn err(p: &Policy, mode: Mode) -> String {
        match check(p, mode, None) {
            Err(SandboxError::InvalidPolicy(m)) => m,
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("policy accepted"),
        }
    }

    #[test]
    fn accepts_a_good_policy() {
        let s = Scratch::new("good");
        let p = base(&s);
        let c = check(&p, Mode::Full, None).unwrap();
        assert_eq!(c.input_kinds, vec![Kind::File, Kind::Dir]);
    }

    #[test]
    fn normalization() {
        assert!(is_within(Path::new("/a/b"), Path::new("/a")));
        assert!(is_within(Path::new("/a"), Path::new("/a")));
        assert!(is_within(Path::new("/a"), Path::new("/")));
        assert!(!is_within(Path::new("/ab"), Path::new("/a")));
        let mut v = vec!["/a/b", "/a-b", "/a", "/a/b/c", "/ab", "/a.b/c"];
        v.sort_by(|a, b| tree_cmp(Path::new(a), Path::new(b)));
        assert_eq!(v, ["/a", "/a/b", "/a/b/c", "/a-b", "/a.b/c", "/ab"]);
        for ok in ["/", "/a", "/a/b.c", "/a/..b"] {
            assert!(is_normalized_absolute(Path::new(ok)), "{ok}");
        }
        for bad in [
            "", "a", "/a/", "//a", "/a//b", "/./a", "/a/..", "/a/../b", "/a/.",
        ] {
            assert!(!is_normalized_absolute(Path::new(bad)), "{bad}");
        }
    }

    #[test]
    fn rejects_bad_inside_paths() {
        let s = Scratch::new("inside");
        for (inside, want) in [
            ("src", "absolute"),
            ("/a/../src", "normalized"),
            ("/src/", "normalized"),
            ("/", "root"),
            ("/tmp/x", "/tmp"),
            ("/dev", "/dev"),
        ] {
            let mut p = base(&s);
            p.inputs[1].inside = inside.into();
            let m = err(&p, Mode::Full);
            assert!(m.contains(want) && m.contains("input"), "{inside}: {m}");
        }
        let mut p = base(&s);
        p.inputs[1].inside = PathBuf::from(std::ffi::OsString::from_vec(b"/a\0b".to_vec()));
        assert!(err(&p, Mode::Full).contains("NUL"));
        // Landlock mode ignores inside paths.
        let mut p = base(&s);
        p.inputs[1].inside = "relative".into();
        p.program = s.0.join("prog");
        p.cwd = s.0.clone();
        assert!(check(&p, Mode::Landlock, None).is_ok());
    }

    use std::os::unix::ffi::OsStringExt;

    #[test]
    fn rejects_missing_host_paths() {
        let s = Scratch::new("host");
        let mut p = base(&s);
        p.inputs[1].host = s.0.join("nope");
        let m = err(&p, Mode::Full);
        assert!(m.contains("nope") && m.contains("input host path"), "{m}");
        let mut p = base(&s);
        p.inputs[1].host = "relative/dir".into();
        assert!(err(&p, Mode::Full).contains("absolute"));
        let mut p = base(&s);
        p.outputs[0].host = s.0.join("prog");
        assert!(err(&p, Mode::Full).contains("not a directory"));
    }

    #[test]
    fn program_must_be_an_input() {
        let s = Scratch::new("program");
        let mut p = base(&s);
        p.program = "/usr/bin/cc".into();
        assert!(err(&p, Mode::Full).contains("program /usr/bin/cc"));
        p.program = "/src/sub/tool".into(); // beneath an input dir
        assert!(check(&p, Mode::Full, None).is_ok());
        p.program = "/bin/prog/x".into(); // beneath an input file
        assert!(err(&p, Mode::Namespaces).contains("program"));
        p.program = "/src/../bin/prog".into();
        assert!(err(&p, Mode::Full).contains("normalized"));
        // Landlock mode: host paths.
        p.program = "/bin/prog".into();
        p.cwd = "/".into();
        assert!(err(&p, Mode::Landlock).contains("program"));
        p.program = s.0.join("prog");
        assert!(check(&p, Mode::Landlock, None).is_ok());
    }

    #[test]
    fn rejects_duplicates_and_paths_beneath_files() {
        let s = Scratch::new("tree");
        let mut p = base(&s);
        p.inputs.push(Bind {
            host: s.0.join("dir"),
            inside: "/src".into(),
        });
        assert!(err(&p, Mode::Full).contains("twice"));
        let mut p = base(&s);
        p.inputs.push(Bind {
            host: s.0.join("dir"),
            inside: "/bin/prog/sub".into(),
        });
        assert!(err(&p, Mode::Full).contains("which is a file"));
        let mut p = base(&s);
        p.outputs.push(Bind {
            host: s.0.join("out"),
            inside: "/src".into(),
        });
        assert!(err(&p, Mode::Full).contains("twice"));
    }

    #[test]
    fn cwd_must_exist_inside() {
        let s = Scratch::new("cwd");
        let mut p = base(&s);
        for ok in ["/", "/tmp", "/tmp/x", "/src", "/src/a/b", "/work", "/bin"] {
            p.cwd = ok.into();
            assert!(check(&p, Mode::Full, None).is_ok(), "{ok}");
        }
        for bad in ["/nowhere", "/bin/prog/x"] {
            p.cwd = bad.into();
            assert!(err(&p, Mode::Full).contains("cwd"), "{bad}");
        }
        p.cwd = "/work/".into();
        assert!(err(&p, Mode::Full).contains("normalized"));
        p.cwd = "work".into();
        assert!(err(&p, Mode::Full).contains("absolute"));
    }

    #[test]
    fn rejects_bad_strings() {
        let s = Scratch::new("strings");
        let mut p = base(&s);
        p.env.push(("A=B".into(), "x".into()));
        assert!(err(&p, Mode::Full).contains("environment variable"));
        let mut p = base(&s);
        p.env.push(("".into(), "x".into()));
        assert!(err(&p, Mode::Full).contains("environment variable"));
        let mut p = base(&s);
        p.args.push(std::ffi::OsString::from_vec(b"a\0".to_vec()));
        assert!(err(&p, Mode::Full).contains("argument 1"));
        let mut p = base(&s);
        p.hostname = String::new();
        assert!(err(&p, Mode::Full).contains("hostname"));
        p.hostname = "x".repeat(65);
        assert!(err(&p, Mode::Full).contains("hostname"));
    }
}
