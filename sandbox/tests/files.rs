//! Integration: what the command sees and may change on the file tree.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use common::*;
use gob_sandbox::{Bind, ExecStatus, Mode};

/// A policy with one read-only input file and one output dir.
fn setup(mode: Mode, s: &Scratch, args: &[&str]) -> gob_sandbox::Policy {
    let input = s.file("src/input.txt", "original\n");
    let out = s.dir("out");
    let mut p = policy(mode, args);
    let (ii, oi): (PathBuf, PathBuf) = if mode.remaps_paths() {
        ("/src/input.txt".into(), "/out".into())
    } else {
        (input.clone(), out.clone())
    };
    p.inputs.push(Bind {
        host: input,
        inside: ii,
    });
    p.outputs.push(Bind {
        host: out,
        inside: oi,
    });
    p
}

/// The inside path for `rel` ("src/input.txt" or "out/x").
fn at(mode: Mode, s: &Scratch, rel: &str) -> String {
    if mode.remaps_paths() {
        format!("/{rel}")
    } else {
        s.path(rel).to_string_lossy().into_owned()
    }
}

#[test]
fn inputs_are_readable() {
    for mode in MODES {
        let Some(sb) = sandbox(mode) else { continue };
        let s = Scratch::new("read");
        let p = setup(mode, &s, &["read", &at(mode, &s, "src/input.txt")]);
        let o = sb.run(&p).unwrap();
        assert_eq!(stdout(&o), "original\n", "{mode:?}: {}", stderr(&o));
    }
}

#[test]
fn inputs_cannot_be_changed() {
    for mode in [Mode::Full, Mode::Namespaces, Mode::Landlock] {
        let Some(sb) = sandbox(mode) else { continue };
        let s = Scratch::new("ro");
        let input = at(mode, &s, "src/input.txt");
        let mut attempts = vec![
            vec!["write", &input, "pwned"],
            vec!["append", &input, "pwned"],
            vec!["truncate", &input],
            vec!["unlink", &input],
        ];
        // Landlock does not govern metadata: the owner may chmod its own
        // files in Landlock mode (a documented limit of that mode).
        if mode != Mode::Landlock {
            attempts.push(vec!["chmod", &input]);
        }
        for args in attempts {
            let o = sb.run(&setup(mode, &s, &args)).unwrap();
            assert_eq!(
                o.status,
                ExecStatus::Exited(1),
                "{mode:?} {args:?}: {}",
                stdout(&o)
            );
            assert!(
                stderr(&o).starts_with("errno="),
                "{mode:?} {args:?}: {}",
                stderr(&o)
            );
        }
        assert_eq!(
            std::fs::read_to_string(s.path("src/input.txt")).unwrap(),
            "original\n"
        );
    }
}

#[test]
fn outputs_are_writable_and_owned_by_the_caller() {
    for mode in MODES {
        let Some(sb) = sandbox(mode) else { continue };
        let s = Scratch::new("rw");
        let file = at(mode, &s, "out/result.a");
        let o = sb
            .run(&setup(mode, &s, &["write", &file, "archive"]))
            .unwrap();
        assert_eq!(o.status, ExecStatus::Exited(0), "{mode:?}: {}", stderr(&o));
        let host = s.path("out/result.a");
        assert_eq!(
            std::fs::read_to_string(&host).unwrap(),
            "archive",
            "{mode:?}"
        );
        let m = std::fs::metadata(&host).unwrap();
        // SAFETY: plain getter.
        let uid = unsafe { libc::geteuid() };
        assert_eq!(
            m.uid(),
            uid,
            "{mode:?}: outputs belong to the caller after the run"
        );
        assert_eq!(
            std::fs::metadata(s.path("out")).unwrap().uid(),
            uid,
            "{mode:?}"
        );
        // And a subdirectory, then a rename inside the output.
        let dir = at(mode, &s, "out/sub");
        assert_eq!(
            sb.run(&setup(mode, &s, &["mkdir", &dir])).unwrap().status,
            ExecStatus::Exited(0)
        );
        let to = at(mode, &s, "out/sub/renamed.a");
        let o = sb.run(&setup(mode, &s, &["rename", &file, &to])).unwrap();
        assert_eq!(o.status, ExecStatus::Exited(0), "{mode:?}: {}", stderr(&o));
        assert_eq!(
            std::fs::metadata(s.path("out/sub/renamed.a"))
                .unwrap()
                .uid(),
            uid
        );
    }
}

#[test]
fn an_input_inside_an_output_stays_read_only() {
    for mode in [Mode::Full, Mode::Namespaces] {
        let Some(sb) = sandbox(mode) else { continue };
        let s = Scratch::new("nested");
        let out = s.dir("b001");
        std::fs::write(out.join("importcfg"), "packagefile fmt=fmt.a\n").unwrap();
        let base = |args: &[&str]| {
            let mut p = policy(mode, args);
            p.outputs.push(Bind {
                host: out.clone(),
                inside: "/work/b001".into(),
            });
            p.inputs.push(Bind {
                host: out.join("importcfg"),
                inside: "/work/b001/importcfg".into(),
            });
            p.cwd = "/work/b001".into();
            p
        };
        let o = sb.run(&base(&["read", "importcfg"])).unwrap();
        assert_eq!(
            stdout(&o),
            "packagefile fmt=fmt.a\n",
            "{mode:?}: {}",
            stderr(&o)
        );
        for args in [
            vec!["write", "importcfg", "x"],
            vec!["truncate", "importcfg"],
            vec!["unlink", "importcfg"],
            vec!["rename", "importcfg", "moved"],
        ] {
            let o = sb.run(&base(&args)).unwrap();
            assert_eq!(
                o.status,
                ExecStatus::Exited(1),
                "{mode:?} {args:?}: {}",
                stdout(&o)
            );
        }
        // The rest of the output dir is writable.
        let o = sb.run(&base(&["write", "_pkg_.a", "ok"])).unwrap();
        assert_eq!(o.status, ExecStatus::Exited(0), "{mode:?}: {}", stderr(&o));
        assert_eq!(
            std::fs::read_to_string(out.join("importcfg")).unwrap(),
            "packagefile fmt=fmt.a\n"
        );
        assert_eq!(std::fs::read_to_string(out.join("_pkg_.a")).unwrap(), "ok");
    }
}

#[test]
fn only_declared_paths_exist_inside() {
    for mode in [Mode::Full, Mode::Namespaces] {
        let Some(sb) = sandbox(mode) else { continue };
        let s = Scratch::new("view");
        let p = setup(mode, &s, &["ls", "/"]);
        let o = sb.run(&p).unwrap();
        let mut names: Vec<&str> = stdout(&o).leak().lines().collect();
        names.sort();
        assert_eq!(names, ["bin", "dev", "out", "src", "tmp"], "{mode:?}");
        let o = sb.run(&setup(mode, &s, &["ls", "/dev"])).unwrap();
        let mut devs: Vec<String> = stdout(&o).lines().map(String::from).collect();
        devs.sort();
        assert_eq!(devs, ["null", "urandom", "zero"], "{mode:?}");
        for path in ["/etc/passwd", "/proc/self/status", "/home"] {
            let o = sb.run(&setup(mode, &s, &["read", path])).unwrap();
            assert!(
                stderr(&o).starts_with("errno=ENOENT"),
                "{mode:?} {path}: {}",
                stderr(&o)
            );
        }
        // The root itself is read-only.
        let o = sb.run(&setup(mode, &s, &["mkdir", "/new"])).unwrap();
        assert_eq!(o.status, ExecStatus::Exited(1), "{mode:?}");
    }
}

#[test]
fn landlock_mode_denies_undeclared_host_paths() {
    let mode = Mode::Landlock;
    let Some(sb) = sandbox(mode) else { return };
    let s = Scratch::new("ll");
    let secret = s.file("secret.txt", "secret");
    let o = sb
        .run(&setup(mode, &s, &["read", secret.to_str().unwrap()]))
        .unwrap();
    assert!(stderr(&o).starts_with("errno=EACCES"), "{}", stderr(&o));
    let o = sb
        .run(&setup(
            mode,
            &s,
            &["write", s.path("new.txt").to_str().unwrap(), "x"],
        ))
        .unwrap();
    assert!(stderr(&o).starts_with("errno=EACCES"), "{}", stderr(&o));
    assert!(!s.path("new.txt").exists());
}

#[test]
fn tmp_is_private_writable_and_fresh() {
    for mode in [Mode::Full, Mode::Namespaces] {
        let Some(sb) = sandbox(mode) else { continue };
        let o = sb
            .run(&policy(mode, &["write", "/tmp/scratch", "x"]))
            .unwrap();
        assert_eq!(o.status, ExecStatus::Exited(0), "{mode:?}: {}", stderr(&o));
        let o = sb.run(&policy(mode, &["ls", "/tmp"])).unwrap();
        assert_eq!(stdout(&o), "", "{mode:?}: /tmp is fresh per run");
    }
}

#[test]
fn dev_nodes_work() {
    for mode in MODES {
        let Some(sb) = sandbox(mode) else { continue };
        let o = sb
            .run(&policy(mode, &["write", "/dev/null", "discarded"]))
            .unwrap();
        assert_eq!(o.status, ExecStatus::Exited(0), "{mode:?}: {}", stderr(&o));
        let mut p = policy(mode, &["fsize", "10", "/dev/null"]);
        p.limits.disk_bytes = None;
        assert_eq!(
            sb.run(&p).unwrap().status,
            ExecStatus::Exited(0),
            "{mode:?}"
        );
    }
}

#[test]
fn directory_inputs_and_programs_beneath_them() {
    for mode in [Mode::Full, Mode::Namespaces] {
        let Some(sb) = sandbox(mode) else { continue };
        let s = Scratch::new("dirs");
        let tools = s.dir("goroot/pkg/tool");
        std::fs::copy(helper(), tools.join("compile")).unwrap();
        s.file("goroot/src/fmt/print.go", "package fmt\n");
        let mut p = policy(mode, &["read", "/goroot/src/fmt/print.go"]);
        p.inputs = vec![Bind {
            host: s.path("goroot"),
            inside: "/goroot".into(),
        }];
        p.program = "/goroot/pkg/tool/compile".into();
        let o = sb.run(&p).unwrap();
        assert_eq!(stdout(&o), "package fmt\n", "{mode:?}: {}", stderr(&o));
    }
}

#[test]
fn many_files_of_one_dir() {
    for mode in [Mode::Full, Mode::Namespaces, Mode::Landlock] {
        let Some(sb) = sandbox(mode) else { continue };
        let s = Scratch::new("many");
        let inside = |i: usize| -> PathBuf {
            if mode.remaps_paths() {
                format!("/pkg/f{i}.go").into()
            } else {
                s.path(&format!("pkg/f{i}.go"))
            }
        };
        let files: Vec<PathBuf> = (0..40)
            .map(|i| s.file(&format!("pkg/f{i}.go"), &format!("file {i}\n")))
            .collect();
        let mut p = policy(mode, &["read", inside(39).to_str().unwrap()]);
        p.inputs.extend(files.iter().enumerate().map(|(i, f)| Bind {
            host: f.clone(),
            inside: inside(i),
        }));
        // Every entry declared: the directory may be bound as a whole.
        let o = sb.run(&p).unwrap();
        assert_eq!(stdout(&o), "file 39\n", "{mode:?}: {}", stderr(&o));
        // One more file on the host, undeclared: it must stay invisible.
        s.file("pkg/secret.go", "secret\n");
        let secret = if mode.remaps_paths() {
            "/pkg/secret.go".into()
        } else {
            s.path("pkg/secret.go")
        };
        p.args = vec!["read".into(), secret.into()];
        let o = sb.run(&p).unwrap();
        assert_eq!(o.status, ExecStatus::Exited(1), "{mode:?}: {}", stdout(&o));
        p.args = vec!["read".into(), inside(7).into()];
        assert_eq!(stdout(&sb.run(&p).unwrap()), "file 7\n", "{mode:?}");
        if mode.remaps_paths() {
            p.args = vec!["ls".into(), "/pkg".into()];
            assert_eq!(stdout(&sb.run(&p).unwrap()).lines().count(), 40, "{mode:?}");
        }
    }
}

#[test]
fn a_program_written_while_other_threads_spawn_runs() {
    // Regression: `directory_inputs_and_programs_beneath_them` failed in CI
    // with ETXTBSY. A thread had just copied the program, and a sandbox that
    // another test thread cloned at that moment still held the copy's write
    // descriptor. Here, four threads each write programs and run them at once.
    for mode in [Mode::Full, Mode::Namespaces] {
        let Some(_) = sandbox(mode) else { continue };
        let s = Scratch::new("busy");
        std::thread::scope(|scope| {
            for t in 0..4 {
                let s = &s;
                scope.spawn(move || {
                    let sb = sandbox(mode).unwrap();
                    for i in 0..15 {
                        let tools = s.dir(&format!("t{t}/i{i}"));
                        std::fs::copy(helper(), tools.join("tool")).unwrap();
                        let mut p = policy(mode, &["write", "/dev/null", "x"]);
                        p.inputs = vec![Bind {
                            host: tools,
                            inside: "/tools".into(),
                        }];
                        p.program = "/tools/tool".into();
                        let o = sb
                            .run(&p)
                            .unwrap_or_else(|e| panic!("{mode:?} t{t} i{i}: {e}"));
                        assert_eq!(o.status, ExecStatus::Exited(0), "{mode:?}: {}", stderr(&o));
                    }
                });
            }
        });
    }
}
