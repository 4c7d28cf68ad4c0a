//! Integration: invalid policies and setup failures are reported, named
//! after the bad entry or the failing step, never silent and never a hang.

mod common;

use std::time::{Duration, Instant};

use common::*;
use gob_sandbox::{Bind, Mode, SandboxError};

fn invalid(r: Result<gob_sandbox::Outcome, SandboxError>) -> String {
    match r {
        Err(SandboxError::InvalidPolicy(m)) => m,
        other => panic!("expected InvalidPolicy, got {other:?}"),
    }
}

#[test]
fn invalid_policies_name_the_bad_entry() {
    let mode = Mode::Full;
    let Some(sb) = sandbox(mode) else { return };
    let s = Scratch::new("invalid");
    let f = s.file("f", "");

    let mut p = policy(mode, &["true"]);
    p.inputs.push(Bind {
        host: f.clone(),
        inside: "rel/f".into(),
    });
    assert!(invalid(sb.run(&p)).contains("rel/f"));

    let mut p = policy(mode, &["true"]);
    p.inputs.push(Bind {
        host: f.clone(),
        inside: "/a/../etc/f".into(),
    });
    assert!(invalid(sb.run(&p)).contains("/a/../etc/f"));

    let mut p = policy(mode, &["true"]);
    p.inputs.push(Bind {
        host: s.path("missing"),
        inside: "/m".into(),
    });
    assert!(invalid(sb.run(&p)).contains("missing"));

    let mut p = policy(mode, &["true"]);
    p.outputs.push(Bind {
        host: f.clone(),
        inside: "/out".into(),
    });
    assert!(invalid(sb.run(&p)).contains("not a directory"));

    let mut p = policy(mode, &["true"]);
    p.program = "/usr/bin/env".into();
    assert!(invalid(sb.run(&p)).contains("/usr/bin/env"));

    let mut p = policy(mode, &["true"]);
    p.cwd = "/nowhere".into();
    assert!(invalid(sb.run(&p)).contains("/nowhere"));
}

#[test]
fn a_failing_bind_names_its_mount() {
    for mode in [Mode::Full, Mode::Namespaces] {
        let Some(sb) = sandbox(mode) else { continue };
        let s = Scratch::new("bind");
        let dir = s.dir("src");
        let f = s.file("f", "");
        let mut p = policy(mode, &["true"]);
        p.inputs.push(Bind {
            host: dir,
            inside: "/src".into(),
        });
        // Beneath a bound input dir whose host side lacks the mount point.
        p.inputs.push(Bind {
            host: f,
            inside: "/src/missing/f".into(),
        });
        let start = Instant::now();
        match sb.run(&p) {
            Err(SandboxError::Setup { step, source }) => {
                assert!(step.starts_with("mount /src/missing/f"), "{step}");
                assert_eq!(source.raw_os_error(), Some(libc::ENOENT), "{source}");
            }
            other => panic!("{mode:?}: expected a setup error, got {other:?}"),
        }
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}

#[test]
fn a_failing_chdir_names_the_directory() {
    let mode = Mode::Landlock;
    let Some(sb) = sandbox(mode) else { return };
    let s = Scratch::new("chdir");
    let mut p = policy(mode, &["true"]);
    p.cwd = s.path("does-not-exist");
    match sb.run(&p) {
        Err(SandboxError::Setup { step, source }) => {
            assert!(
                step.starts_with("chdir ") && step.ends_with("does-not-exist"),
                "{step}"
            );
            assert_eq!(source.raw_os_error(), Some(libc::ENOENT));
        }
        other => panic!("expected a setup error, got {other:?}"),
    }
}

#[test]
fn exec_failures_are_exec_errors() {
    for mode in MODES {
        let Some(sb) = sandbox(mode) else { continue };
        let s = Scratch::new("exec");
        let text = s.file("not-a-program", "just text\n");
        let mut p = policy(mode, &[]);
        let inside = if mode.remaps_paths() {
            "/bin/not-a-program".into()
        } else {
            text.clone()
        };
        p.inputs.push(Bind {
            host: text,
            inside: inside.clone(),
        });
        p.program = inside.clone();
        match sb.run(&p) {
            Err(SandboxError::Exec { program, source }) => {
                assert_eq!(program, inside);
                assert_eq!(
                    source.raw_os_error(),
                    Some(libc::EACCES),
                    "{mode:?}: {source}"
                );
            }
            other => panic!("{mode:?}: expected an exec error, got {other:?}"),
        }
    }
}

#[test]
fn errors_display_the_step() {
    let e = SandboxError::Setup {
        step: "mount /work/b001".into(),
        source: std::io::Error::from_raw_os_error(libc::EPERM),
    };
    assert!(e.to_string().contains("mount /work/b001"));
}
