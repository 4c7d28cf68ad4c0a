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
