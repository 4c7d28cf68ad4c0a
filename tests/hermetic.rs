//! `gob build --hermetic` on real modules: the same bytes as an unsandboxed
//! build, `-toolexec` inside the sandbox, and undeclared reads named loudly.

mod common;

use std::fs;
use std::path::PathBuf;

use common::area::{text, Area};

fn fixture(name: &str) -> PathBuf {
    common::repo_root().join("fixtures").join(name)
}

/// Builds `fixture` with `--sandbox=MODE -a` into its own cache and returns the binary's bytes.
fn build_bytes(area: &Area, name: &str, mode: &str, goarch: &str) -> Vec<u8> {
    build_bytes_with(area, name, mode, goarch, &[], "")
}

/// [`build_bytes`] with `extra` arguments; `tag` keeps its output and cache apart.
fn build_bytes_with(
    area: &Area,
    name: &str,
    mode: &str,
    goarch: &str,
    extra: &[&str],
    tag: &str,
) -> Vec<u8> {
    let out = area.path(&format!(
        "out/{}-{mode}-{goarch}{tag}",
        name.replace('/', "_")
    ));
    let cache = area.path(&format!("cache-{mode}{tag}"));
    let mut args = vec!["build", "-a"];
    let sandbox = format!("--sandbox={mode}");
    args.push(&sandbox);
    args.extend_from_slice(extra);
    args.extend(["-o", out.to_str().unwrap(), "."]);
    let o = area.gob(
        &fixture(name),
        &args,
        &[("GOBCACHE", cache.to_str().unwrap()), ("GOARCH", goarch)],
    );
    assert!(
        o.status.success(),
        "gob build --sandbox={mode} {extra:?} {name} ({goarch}): {}",
        text(&o)
    );
    fs::read(&out).unwrap()
}

/// Pins: every layer of the sandbox changes what a tool may see, never what it
/// writes; the argv differs (inside paths) and -trimpath makes that invisible.
#[test]
fn hermetic_builds_are_byte_identical_to_unsandboxed_ones() {
    let area = Area::new("hermetic-bytes");
    for (name, goarch) in [
        ("hello", "amd64"),
        ("asmcall", "amd64"),
        ("asmcall", "arm64"),
        ("replace", "amd64"),
        ("vendored", "amd64"),
    ] {
        let plain = build_bytes(&area, name, "none", goarch);
        for mode in ["full", "namespaces", "landlock"] {
            let boxed = build_bytes(&area, name, mode, goarch);
            assert!(
                plain == boxed,
                "{name} ({goarch}): --sandbox={mode} wrote other bytes than --sandbox=none"
            );
        }
    }
}

/// Pins issue #11 item 3: a GOROOT reached through a symlink (Debian's
/// /usr/lib/go, any `ln -s` install) failed in the namespace modes with
/// "sandbox setup failed at mount /goroot/pkg/tool/... (bind of <link>/...)":
/// binds read their sources beneath /oldroot, where an absolute link resolves
/// against the scaffold. Now every source is resolved on the host first.
#[test]
fn a_symlinked_goroot_builds_in_the_namespace_modes() {
    let area = Area::new("symlinked-goroot");
    let link = area.path("golink");
    std::os::unix::fs::symlink(common::goroot(), &link).unwrap();
    for name in ["hello", "asmcall"] {
        let real = build_bytes(&area, name, "full", "amd64");
        for mode in ["full", "namespaces"] {
            let args = ["--goroot", link.to_str().unwrap()];
            let boxed = build_bytes_with(&area, name, mode, "amd64", &args, "-link");
            assert!(
                boxed == real,
                "{name}: --sandbox={mode} with a symlinked GOROOT wrote other bytes"
            );
        }
    }
}

/// Builds the toolexec probe (a static Go program) in `mode`.
fn probe(area: &Area, mode: &str) -> PathBuf {
    area.probe(mode, &[("mode", mode)])
}

/// Pins: -toolexec PROG runs inside the action's sandbox (fixed hostname and
/// ids, no host files), with the tool and its arguments after it.
#[test]
fn toolexec_runs_inside_the_actions_sandbox() {
    let area = Area::new("toolexec");
    let report = probe(&area, "report");
    let o = area.gob(
        &fixture("hello"),
        &[
            "build",
            "--hermetic",
            "-toolexec",
            report.to_str().unwrap(),
            "-o",
            area.path("out/hello").to_str().unwrap(),
            ".",
        ],
        &[],
    );
    let t = text(&o);
    assert!(
        !o.status.success(),
        "the probe fails the link on purpose: {t}"
    );
    assert!(
        t.contains("toolexec-probe saw link: hostname=gob uid=1000 gid=1000 root-visible=false etc-passwd-visible=false"),
        "{t}"
    );
    assert!(
        t.contains("# example.com/hello"),
        "failure printed like go build: {t}"
    );

    // A pass-through wrapper changes nothing in the output.
    let pass = probe(&area, "pass");
    let with = area.path("out/hello-toolexec");
    let o = area.gob(
        &fixture("hello"),
        &[
            "build",
            "--hermetic",
            "-toolexec",
            pass.to_str().unwrap(),
            "-o",
            with.to_str().unwrap(),
            ".",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let without = build_bytes(&area, "hello", "full", "amd64");
    assert!(
        fs::read(&with).unwrap() == without,
        "-toolexec pass-through changed the binary"
    );
}

/// The lines a logging `-toolexec` script printed: `toolexec: IMPORTPATH TOOL`
/// for each tool run (go's `-V=full` probes pass through silently).
fn toolexec_lines(o: &std::process::Output) -> Vec<String> {
    let mut v: Vec<String> = String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| l.starts_with("toolexec: "))
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// Pins (#14 item 11): a dynamically linked -toolexec program and a `#!`
/// script (through `/usr/bin/env`) start in every sandbox mode: their
/// interpreter, loader and libraries are declared; the tool sees go's
/// TOOLEXEC_IMPORTPATH and the words after the program; and the binary is
/// the one go builds with the same wrapper (without the build ID gob does
/// not record: docs/build-vs-go.md). The old code failed with
/// `cannot execute /toolexec/env: No such file or directory`.
#[test]
fn dynamic_and_script_toolexec_programs_start_in_the_sandbox() {
    use std::os::unix::fs::PermissionsExt;
    let area = Area::new("toolexec-dynamic");
    let script = area.path("out/log-tools");
    fs::write(
        &script,
        "#!/usr/bin/env sh\n\
         case \"$3\" in -V=full) exec \"$2\" \"$3\";; esac\n\
         echo \"toolexec: $TOOLEXEC_IMPORTPATH ${2##*/} $1\" >&2\n\
         shift\n\
         exec \"$@\"\n",
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let wrapper = format!("{} 'an arg'", script.display());
    let go_out = area.path("out/hello-go");
    let o = area.run(
        &common::go_binary(),
        &fixture("asmcall"),
        &[
            "build",
            "-trimpath",
            "-buildvcs=false",
            "-ldflags=-buildid=",
            "-toolexec",
            &wrapper,
            "-o",
            go_out.to_str().unwrap(),
            ".",
        ],
        "amd64",
    );
    assert!(o.status.success(), "go: {}", text(&o));
    let want = toolexec_lines(&o);
    assert!(
        want.iter()
            .any(|l| l == "toolexec: example.com/asmcall link an arg"),
        "{want:?}"
    );
    for mode in ["full", "namespaces", "landlock"] {
        let out = area.path(&format!("out/hello-{mode}"));
        let cache = area.path(&format!("cache-te-{mode}"));
        let o = area.gob(
            &fixture("asmcall"),
            &[
                "build",
                &format!("--sandbox={mode}"),
                "-toolexec",
                &wrapper,
                "-o",
                out.to_str().unwrap(),
                ".",
            ],
            &[("GOBCACHE", cache.to_str().unwrap())],
        );
        assert!(o.status.success(), "{mode}: {}", text(&o));
        assert_eq!(
            toolexec_lines(&o),
            want,
            "{mode}: the tools and import paths go ran"
        );
        assert!(
            fs::read(&out).unwrap() == fs::read(&go_out).unwrap(),
            "{mode}: binary differs from go's"
        );
    }
    // A dynamically linked program (env is one on every distribution).
    let o = area.gob(
        &fixture("hello"),
        &[
            "build",
            "--hermetic",
            "-toolexec",
            "env GOB_SEEN=1",
            "-o",
            area.path("out/hello-env").to_str().unwrap(),
            ".",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
}

/// Pins: a -toolexec program that cannot start in a sandbox is refused before
/// the build, with what is wrong, not as a failed action.
#[test]
fn toolexec_that_cannot_start_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let area = Area::new("toolexec-bad");
    let p = area.path("out/rel-interp");
    fs::write(&p, "#!sh\nexec \"$@\"\n").unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    let o = area.gob(
        &fixture("hello"),
        &[
            "build",
            "-toolexec",
            p.to_str().unwrap(),
            "-o",
            area.path("out/x").to_str().unwrap(),
            ".",
        ],
        &[],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains(&format!(
            "gob: -toolexec: {}: #! interpreter sh is not an absolute path",
            p.display()
        )),
        "{t}"
    );
}

/// Pins: a read of an undeclared file fails the build and names the action,
/// the package, the path it tried (inside and on this host) and what to do.
#[test]
fn undeclared_read_names_action_package_and_path() {
    let area = Area::new("undeclared");
    let undeclared = probe(&area, "undeclared");
    let o = area.gob(
        &fixture("hello"),
        &[
            "build",
            "--hermetic",
            "-a",
            "-toolexec",
            undeclared.to_str().unwrap(),
            "-o",
            area.path("out/x").to_str().unwrap(),
            ".",
        ],
        &[],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    let version = common::goroot().join("VERSION");
    assert!(
        t.contains("read /goroot/VERSION, which it did not declare")
            && t.contains(&format!("(on this host: {})", version.display()))
            && t.contains("gob: action b0"),
        "{t}"
    );
    assert!(
        t.contains("compile of ") || t.contains("asm of ") || t.contains("symabis of "),
        "{t}"
    );
}

/// Pins: --hermetic and a weaker --sandbox conflict, and an unknown mode is named.
#[test]
fn sandbox_flags_are_checked() {
    let area = Area::new("sandbox-flags");
    let o = area.gob(
        &fixture("hello"),
        &["build", "--hermetic", "--sandbox=none", "."],
        &[],
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("--hermetic demands --sandbox=full"),
        "{}",
        text(&o)
    );
    let o = area.gob(&fixture("hello"), &["build", "-sandbox=jail", "."], &[]);
    assert!(!o.status.success());
    assert!(
        text(&o)
            .contains("--sandbox=jail: unknown mode; use auto, full, namespaces, landlock or none"),
        "{}",
        text(&o)
    );
}

/// Pins: a umask of 077 breaks nothing. As root every tool runs as nobody, so
/// gob's work files and cache entries must stay readable whatever the umask;
/// the installed binary still honours it (0777 less the umask, as go build).
#[test]
fn a_strict_umask_builds_and_is_honoured() {
    use std::os::unix::fs::PermissionsExt;
    let area = Area::new("umask");
    let out = area.path("out/hello");
    for round in ["cold", "warm"] {
        let _ = fs::remove_file(&out);
        let script = format!(
            "umask 077 && exec {} build --hermetic -o {} .",
            common::gob_binary().display(),
            out.display()
        );
        let o = std::process::Command::new("/bin/sh")
            .args(["-c", &script])
            .current_dir(fixture("hello"))
            .env_clear()
            .envs(area.env("amd64"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{round}: {}", text(&o));
        let mode = fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{round}");
    }
}
