//! The `trace_replay_plan` target's body, shared with the main crate's
//! `tests/replay_fuzz.rs` so the same code runs on stable over the seeds: a
//! trace through everything `gob replay` does before the first tool runs
//! (`gob::commands::replay::plan`: the reader, the checks, the selection,
//! each action's conversion into a `Spawn`), running no tool and writing
//! only below a scratch directory.

use std::path::{Path, PathBuf};

use gob::commands::replay::{plan, ReplayOptions};
use gob::exec::runner::{InputData, Program, Spawn};
use gob::toolchain::Toolchain;
use gob_replay::TraceReader;

/// The package `--action` names in every fourth run (a seed's).
const SEED_PACKAGE: &str = "example.com/hello/two";

/// The `--src` tree: the sources of the seeds `tiny` and `two` (the fixture
/// hello with two packages added), byte for byte, so their digest-only
/// traces fetch inputs from it.
const SOURCES: &[(&str, &str)] = &[
    (
        "go.mod",
        "// Fixture: minimal main package importing fmt.\nmodule example.com/hello\n\ngo 1.27\n",
    ),
    (
        "tiny/tiny.go",
        "package tiny\n\n// Answer is a leaf package with no imports.\nfunc Answer() int { return 42 }\n",
    ),
    (
        "two/two.go",
        "package two\n\nimport \"example.com/hello/tiny\"\n\n// Twice depends on tiny.\nfunc Twice() int { return 2 * tiny.Answer() }\n",
    ),
];

/// A scratch directory with a fake toolchain (VERSION, an empty `compile`,
/// one source file) and a `--src` tree, made once per process.
pub struct Env {
    /// The scratch directory.
    base: PathBuf,
    /// The fake toolchain.
    toolchain: Toolchain,
}

impl Env {
    /// Makes the scratch directory `base` (emptied first).
    pub fn new(base: &Path) -> Env {
        let _ = std::fs::remove_dir_all(base);
        let goroot = base.join("goroot");
        let tools = goroot.join("pkg/tool/linux_amd64");
        std::fs::create_dir_all(&tools).unwrap();
        std::fs::create_dir_all(goroot.join("src/errors")).unwrap();
        std::fs::write(goroot.join("VERSION"), "go1.27.3\n").unwrap();
        std::fs::write(tools.join("compile"), "").unwrap();
        std::fs::write(goroot.join("src/errors/errors.go"), "package errors\n").unwrap();
        for (name, text) in SOURCES {
            let path = base.join("src").join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let toolchain = Toolchain::open(&goroot).unwrap();
        Env {
            base: base.to_path_buf(),
            toolchain,
        }
    }

    /// The replay directory of one run.
    fn root(&self) -> PathBuf {
        self.base.join("replay")
    }
}

/// Plans a replay of `data` read as a trace, then as the decompressed stream
/// of one (compressed first, so mutations reach the CBOR and trace layers).
pub fn run_both(env: &Env, data: &[u8]) {
    let _ = run(env, data);
    if let Ok(compressed) = zstd::bulk::compress(data, 1) {
        run(env, &compressed);
    }
}

/// Plans a replay of the trace `data` and checks what the plan would do.
/// The input's length picks the options (`--action` none, an id or a
/// package; `--shell`; `--trust-env`; `--allow-incomplete`), so every seed reaches each mode under
/// mutation. Returns how many spawns it planned. Must never panic, loop or
/// allocate beyond the reader's limits.
pub fn run(env: &Env, data: &[u8]) -> usize {
    let root = env.root();
    let _ = std::fs::remove_dir_all(&root);
    if let Err(e) = TraceReader::with_limits(data, crate::body::limits()) {
        let _ = e.to_string();
        return 0;
    }
    let only = match data.len() % 4 {
        0 => None,
        1 => Some("b002".to_string()),
        2 => Some("b001".to_string()),
        _ => Some(SEED_PACKAGE.to_string()),
    };
    let opts = ReplayOptions {
        trace: PathBuf::from("fuzz.cbor"),
        toolchain: env.toolchain.clone(),
        src: vec![(None, env.base.join("src"))],
        only,
        keep: false,
        dir: Some(root.clone()),
        jobs: 1,
        sandbox: gob_sandbox::Mode::Full,
        toolexec: None,
        trust_env: data.len() % 8 >= 4,
        allow_incomplete: data.len() % 32 >= 16,
        limits: gob_sandbox::Limits::default(),
        verbose: false,
        shell: data.len() % 16 >= 8,
    };
    let mut planned = 0;
    match plan(
        &opts,
        || TraceReader::with_limits(data, crate::body::limits()),
        &root,
    ) {
        Ok(p) => {
            for (index, spawn) in &p.spawns {
                if let Ok(s) = spawn {
                    check_spawn(env, &opts, &root, *index, s);
                    planned += 1;
                }
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    check_store(&root);
    planned
}

/// What replay would run stays inside what it may touch: tools from the
/// toolchain, inputs from the store or copied into the action's own
/// directory, outputs below it, and only the Go target's environment unless
/// `--trust-env`.
fn check_spawn(env: &Env, opts: &ReplayOptions, root: &Path, index: u32, s: &Spawn) {
    let blobs = root.join("blobs");
    let own = root.join("work").join(gob_replay::schema::action_id(index));
    assert_eq!(s.own.0, own, "b{index}: own directory");
    match &s.program {
        Program::Tool { host, wrapper, .. } => {
            assert!(
                host.starts_with(env.toolchain.tool_dir()),
                "b{index}: runs {host:?}"
            );
            assert!(wrapper.is_none(), "b{index}: a wrapper nobody asked for");
        }
        Program::Pack => {}
        Program::Shell => assert!(opts.shell, "b{index}: a shell without --shell"),
    }
    for input in &s.inputs {
        let at = input.at.to_str().expect("inside paths are UTF-8");
        assert!(
            gob_replay::check_inside_path(at).is_ok(),
            "b{index}: input at {at:?}"
        );
        match &input.data {
            InputData::Bind { host: blob, .. } => assert_eq!(
                blob.parent(),
                Some(blobs.as_path()),
                "b{index}: binds {blob:?} at {at}"
            ),
            InputData::Copy { dest, from, .. } => {
                assert!(dest.starts_with(&own), "b{index}: copies to {dest:?}");
                assert!(
                    from.iter().all(|f| f.parent() == Some(blobs.as_path())),
                    "b{index}: copies from {from:?}"
                );
            }
            InputData::Bytes { dest, .. } => {
                assert!(dest.starts_with(&own), "b{index}: writes {dest:?}")
            }
        }
    }
    for o in &s.outputs {
        assert!(
            !o.rel.is_empty() && o.rel.split('/').all(|c| !matches!(c, "" | "." | "..")),
            "b{index}: output {:?} at {:?}",
            o.name,
            o.rel
        );
    }
    if !opts.trust_env {
        for (k, _) in &s.env {
            assert!(
                k.starts_with("GO") && k.bytes().all(|b| b.is_ascii_alphanumeric()),
                "b{index}: sets {k:?} without --trust-env"
            );
        }
    }
}

/// Every file in the store holds the bytes its name says.
fn check_store(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root.join("blobs")) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // a temp name, before its rename
        }
        let bytes = std::fs::read(e.path()).unwrap();
        assert_eq!(
            blake3::hash(&bytes).to_hex().as_str(),
            name,
            "store file {name} holds other bytes"
        );
    }
}
