//! cgo (issue #15), against `go build` with the same C compiler (the host's
//! gcc and g++) and `CGO_ENABLED=1`:
//!
//! - programs are go's, byte for byte (both linked without a build ID), with
//!   the same build info, and behave the same: fixtures/cgo (C with a header
//!   in a subdirectory, a header in the module's include/ reached through
//!   `-I${SRCDIR}/../include`, C++, `.S`, `-lm`), and a hello that resolves a
//!   user and a host through `os/user` and `net` (cgo's resolvers), also
//!   with a `$CGO_CFLAGS` flag off the allowlist (go's `preferlinkext`: the
//!   program is then linked externally);
//! - a real cgo module from Debian: mattn/go-sqlite3 as Debian ships it,
//!   linked with `-lsqlite3` against Debian's libsqlite3 (a local replace
//!   of /usr/share/gocode), opening a database;
//! - a `#cgo` flag off cmd/go's allowlist fails with go's message, and
//!   `CGO_CFLAGS_ALLOW` lets it through as in go;
//! - `--hermetic`: a header outside every declared root (an absolute `-I`)
//!   is not in the action's view, and the failure names it and the
//!   package; a header that is a link into the module is declared (the
//!   program is go's), one out of it refused by name;
//! - a cgo build's trace names the C toolchain by its identity; `gob
//!   replay` refuses it, naming a C action;
//! - the no-op memo answers a cgo build again, and not once the C compiler
//!   `$PATH` would find changes.
//!
//! The host compiler is the oracle's too, so these need gcc and g++ on
//! `/usr/bin`, and the sqlite case Debian's golang-github-mattn-go-sqlite3-dev
//! (ci/install-cc installs them; under CI their absence fails).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::area::{build_info, first_stderr_line, text, Area};

/// Whether gcc and g++ are there; under CI they must be.
fn have_cc() -> bool {
    let ok = ["/usr/bin/gcc", "/usr/bin/g++"]
        .iter()
        .all(|p| Path::new(p).exists());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI: gcc and g++ are missing (ci/install-cc installs them)"
        );
        eprintln!("skipping: no gcc/g++ in /usr/bin");
    }
    ok
}

const CGO: (&str, &str) = ("CGO_ENABLED", "1");

/// Builds `dir` with both (`-ldflags=-buildid=`), then checks bytes, build
/// info and what the programs print.
fn same_program(area: &Area, dir: &Path, name: &str, extra: &[(&str, &str)]) -> String {
    let mut env = vec![CGO];
    env.extend_from_slice(extra);
    let (ours, theirs) = area.build_both(dir, name, &["-ldflags=-buildid="], "amd64", &env);
    assert_eq!(
        build_info(area, dir, &ours),
        build_info(area, dir, &theirs),
        "{name}: build info"
    );
    let run = |bin: &PathBuf| {
        let o = Command::new(bin).output().unwrap();
        assert!(
            o.status.success(),
            "{name}: {}: {}",
            bin.display(),
            text(&o)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let (mine, go) = (run(&ours), run(&theirs));
    assert_eq!(mine, go, "{name}: output");
    assert!(
        fs::read(&ours).unwrap() == fs::read(&theirs).unwrap(),
        "{name}: gob's program differs from go's ({} vs {})",
        ours.display(),
        theirs.display()
    );
    mine
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, body) in files {
        let p = dir.join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, body).unwrap();
    }
}

const RESOLVE: &str = r#"package main

import (
	"fmt"
	"net"
	"os/user"
)

func main() {
	u, err := user.Current()
	fmt.Println(u != nil && u.Username != "", err)
	addrs, err := net.LookupHost("localhost")
	fmt.Println(len(addrs) > 0, err)
}
"#;

#[test]
fn cgo_programs_are_gos() {
    if !have_cc() {
        return;
    }
    let area = Area::new("cgo-same");
    let fx = area.copy_fixture("cgo", "cgo");
    assert_eq!(
        same_program(&area, &fx, "fixture", &[]),
        "cgo: 5 4 42 7 100\n"
    );

    let hello = area.path("resolve");
    write(
        &hello,
        &[
            ("go.mod", "module example.com/resolve\n\ngo 1.24\n"),
            ("main.go", RESOLVE),
        ],
    );
    assert_eq!(
        same_program(&area, &hello, "resolve", &[]),
        "true <nil>\ntrue <nil>\n"
    );
    // A user flag off the allowlist: cmd/go's preferlinkext token in the
    // archives asks for an external link.
    let external = [("CGO_CFLAGS", "-O2 -g -fno-ident")];
    same_program(&area, &hello, "resolve-external", &external);
    let internal = fs::read(area.path("out/resolve-gob")).unwrap();
    let ext = fs::read(area.path("out/resolve-external-gob")).unwrap();
    assert!(internal != ext, "-fno-ident in CGO_CFLAGS changed nothing");
}

/// Debian's go-sqlite3 (its sources, without the bundled amalgamation).
const SQLITE: &str = "/usr/share/gocode/src/github.com/mattn/go-sqlite3";

#[test]
fn debian_sqlite_driver_is_gos() {
    if !have_cc() {
        return;
    }
    if !Path::new(SQLITE).join("go.mod").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI: {SQLITE} is missing (ci/install-cc installs it)"
        );
        eprintln!("skipping: no {SQLITE}");
        return;
    }
    let area = Area::new("cgo-sqlite");
    let dir = area.path("sq");
    let gomod = format!(
        "module example.com/sq\n\ngo 1.24\n\nrequire github.com/mattn/go-sqlite3 v1.14.16\n\nreplace github.com/mattn/go-sqlite3 => {SQLITE}\n"
    );
    write(
        &dir,
        &[
            ("go.mod", &gomod),
            (
                "main.go",
                r#"package main

import (
	"database/sql"
	"fmt"

	_ "github.com/mattn/go-sqlite3"
)

func main() {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		panic(err)
	}
	var n int
	if err := db.QueryRow("select 6 * 7").Scan(&n); err != nil {
		panic(err)
	}
	fmt.Println("sqlite:", n)
}
"#,
            ),
        ],
    );
    assert_eq!(same_program(&area, &dir, "sqlite", &[]), "sqlite: 42\n");
}

#[test]
fn flags_off_the_allowlist_fail_as_in_go() {
    if !have_cc() {
        return;
    }
    let area = Area::new("cgo-flags");
    let dir = area.path("bad");
    write(
        &dir,
        &[
            ("go.mod", "module example.com/bad\n\ngo 1.24\n"),
            (
                "main.go",
                "package main\n\n// #cgo CFLAGS: -finline-limit=100\n// static int one(void) { return 1; }\nimport \"C\"\n\nfunc main() { println(C.one()) }\n",
            ),
        ],
    );
    let args = ["build", "-o", "/dev/null", "."];
    let gob = area.gob(&dir, &args, &[CGO]);
    let go = area.run_with(&common::go_binary(), &dir, &args, &[CGO]);
    assert!(
        !go.status.success() && !gob.status.success(),
        "{}",
        text(&gob)
    );
    assert_eq!(
        first_stderr_line(&gob),
        first_stderr_line(&go),
        "{}",
        text(&gob)
    );
    assert!(first_stderr_line(&gob).contains("invalid flag in #cgo CFLAGS: -finline-limit=100"));
    let allow = [CGO, ("CGO_CFLAGS_ALLOW", "-finline-limit=.*")];
    let gob = area.gob(&dir, &args, &allow);
    let go = area.run_with(&common::go_binary(), &dir, &args, &allow);
    assert!(go.status.success(), "go: {}", text(&go));
    assert!(gob.status.success(), "gob: {}", text(&gob));
}

#[test]
fn hermetic_cgo_names_an_undeclared_header() {
    if !have_cc() {
        return;
    }
    let area = Area::new("cgo-leak");
    let outside = area.path("outside");
    write(&outside, &[("secret.h", "#define SECRET 7\n")]);
    let dir = area.path("leak");
    let main = format!(
        "package main\n\n// #cgo CFLAGS: -I{}\n// #include \"secret.h\"\nimport \"C\"\n\nfunc main() {{ println(C.SECRET) }}\n",
        outside.display()
    );
    write(
        &dir,
        &[
            ("go.mod", "module example.com/leak\n\ngo 1.24\n"),
            ("main.go", &main),
        ],
    );
    let args = ["build", "-o", "/dev/null", "."];
    let go = area.run_with(&common::go_binary(), &dir, &args, &[CGO]);
    assert!(go.status.success(), "go reads the header: {}", text(&go));
    let gob = area.gob(
        &dir,
        &["build", "--hermetic", "-o", "/dev/null", "."],
        &[CGO],
    );
    let err = text(&gob);
    assert!(!gob.status.success(), "{err}");
    assert!(
        err.contains("secret.h") && err.contains("example.com/leak"),
        "{err}"
    );
}

#[test]
fn replay_refuses_a_cgo_trace() {
    if !have_cc() {
        return;
    }
    let area = Area::new("cgo-replay");
    let fx = area.copy_fixture("cgo", "cgo");
    let trace = area.path("out/cgo.trace");
    let bin = area.path("out/cgo");
    let o = area.gob(
        &fx,
        &[
            "build",
            "--trace",
            trace.to_str().unwrap(),
            "-o",
            bin.to_str().unwrap(),
            ".",
        ],
        &[CGO],
    );
    assert!(o.status.success(), "{}", text(&o));
    // The header names the C toolchain by its identity, as the Go tools.
    let t = gob_replay::Trace::open(&trace, gob_replay::Limits::default()).unwrap();
    let cc: Vec<_> = t
        .header
        .tools
        .iter()
        .filter(|x| x.name == "cc" || x.name == "c++")
        .collect();
    assert_eq!(cc.len(), 2, "{:?}", t.header.tools);
    assert_eq!(cc[0].digest, cc[1].digest);
    let o = area.gob(&fx, &["replay", trace.to_str().unwrap()], &[]);
    let err = text(&o);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("belongs to a cgo build"), "{err}");
}

/// Whether gob's stderr says the no-op memo answered.
fn memo_hit(o: &std::process::Output) -> bool {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .any(|l| l.contains("no-op memo") && !l.contains("not recorded"))
}

#[test]
fn the_memo_stamps_the_c_toolchain() {
    if !have_cc() {
        return;
    }
    let area = Area::new("cgo-memo");
    let fx = area.copy_fixture("cgo", "cgo");
    // An empty directory first on $PATH: a gcc appearing there is the one
    // the next build would run.
    let first = area.path("first");
    fs::create_dir_all(&first).unwrap();
    let path = format!("{}:/usr/bin:/bin", first.display());
    let env = [CGO, ("PATH", path.as_str())];
    let bin = area.path("out/cgo");
    let args = ["build", "-v", "-o", bin.to_str().unwrap(), "."];
    let o = area.gob(&fx, &args, &env);
    assert!(o.status.success(), "{}", text(&o));
    // Past the racy window, then until the memo answers.
    std::thread::sleep(std::time::Duration::from_millis(3500));
    area.gob(&fx, &args, &env);
    let o = area.gob(&fx, &args, &env);
    assert!(
        memo_hit(&o),
        "an unchanged cgo build is the memo's: {}",
        text(&o)
    );
    std::os::unix::fs::symlink("/usr/bin/gcc", first.join("gcc")).unwrap();
    let o = area.gob(&fx, &args, &env);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        !memo_hit(&o),
        "another gcc on $PATH: the memo must not answer: {}",
        text(&o)
    );
}

#[test]
fn linked_headers_are_declared_inside_the_module_only() {
    if !have_cc() {
        return;
    }
    let area = Area::new("cgo-links");
    let dir = area.path("links");
    write(
        &dir,
        &[
            ("go.mod", "module example.com/links\n\ngo 1.24\n"),
            ("hdrs/real.h", "#define REAL 41\n"),
            (
                "main.go",
                "package main\n\n// #include \"link.h\"\nimport \"C\"\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(C.REAL + 1) }\n",
            ),
        ],
    );
    std::os::unix::fs::symlink("hdrs/real.h", dir.join("link.h")).unwrap();
    assert_eq!(same_program(&area, &dir, "links", &[]), "42\n");

    // A link out of the module: go reads it; gob refuses it by name before
    // anything runs (plan/inputs.rs), as any input out of its root.
    let outside = area.path("outside");
    write(&outside, &[("real.h", "#define REAL 41\n")]);
    fs::remove_file(dir.join("link.h")).unwrap();
    std::os::unix::fs::symlink(outside.join("real.h"), dir.join("link.h")).unwrap();
    let args = ["build", "-o", "/dev/null", "."];
    let go = area.run_with(&common::go_binary(), &dir, &args, &[CGO]);
    assert!(go.status.success(), "go: {}", text(&go));
    let gob = area.gob(&dir, &args, &[CGO]);
    let err = text(&gob);
    assert!(!gob.status.success(), "{err}");
    assert!(
        err.contains("link.h") && err.contains("example.com/links"),
        "{err}"
    );
}

/// Pins: `CXX` set to blanks (no words) with C++ to build panicked in the
/// planner; it is a clear error naming the package.
#[test]
fn blank_cxx_is_named_not_a_panic() {
    if !have_cc() {
        return;
    }
    let area = Area::new("cgo-blank-cxx");
    let fx = area.copy_fixture("cgo", "cgo");
    let o = area.gob(
        &fx,
        &["build", "-o", "/dev/null", "."],
        &[CGO, ("CXX", "  ")],
    );
    let err = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("example.com/cgo/cxx: no C++ compiler ($CXX) was found"),
        "{err}"
    );
}
