//! `gob run`: what go run does around the build: where the package ends and
//! the program's arguments begin, and the program run outside the sandbox
//! with the terminal's streams, its failure reported in go's words.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What `gob run` builds (cmd/go/internal/run's runRun).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunTarget {
    /// The leading arguments ending in `.go`: the command-line-arguments package.
    Files(Vec<String>),
    /// One package pattern.
    Package(String),
}

/// A `gob run` command line go would refuse too, in go's words.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RunError {
    /// No package and no files.
    #[error("gob: no go files listed")]
    NoFiles,
    /// `gob run x_test.go`.
    #[error("gob: cannot run *_test.go files ({0})")]
    TestFile(String),
    /// `gob run pkg@version`: the module must be downloaded, and gob builds
    /// only from what is on disk.
    #[error("gob: {0}: gob run cannot run pkg@version: it builds only modules on disk (no network); use go run, or add the module to go.mod")]
    Versioned(String),
}

/// Splits go run's arguments into what to build and the program's arguments:
/// the leading `.go` files, else the first argument as a package.
pub fn split_args(args: &[String]) -> Result<(RunTarget, Vec<String>), RunError> {
    let files = args.iter().take_while(|a| a.ends_with(".go")).count();
    if files > 0 {
        if let Some(t) = args[..files].iter().find(|f| f.ends_with("_test.go")) {
            return Err(RunError::TestFile(t.clone()));
        }
        return Ok((
            RunTarget::Files(args[..files].to_vec()),
            args[files..].to_vec(),
        ));
    }
    match args.first() {
        Some(a) if !a.starts_with('-') => {
            if is_versioned(a) {
                return Err(RunError::Versioned(a.clone()));
            }
            Ok((RunTarget::Package(a.clone()), args[1..].to_vec()))
        }
        _ => Err(RunError::NoFiles),
    }
}

/// `pkg@version` as cmd/go tells it from a path (not `./x@y`, not absolute).
pub fn is_versioned(arg: &str) -> bool {
    let local = arg == "." || arg == ".." || arg.starts_with("./") || arg.starts_with("../");
    arg.contains('@') && !local && !Path::new(arg).is_absolute()
}

/// How the program ended, as go run reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// Exit status 0.
    Success,
    /// go's message (`exit status 3`, `signal: killed`, `fork/exec P: …`);
    /// go run then exits 1.
    Failed(String),
}

/// The program to run a binary with: `-exec`'s words, else for a target
/// other than the host `go_GOOS_GOARCH_exec` from `$PATH` if there is one
/// (cmd/go's FindExecCmd), else nothing (the binary itself).
pub fn exec_cmd(
    exec: Option<&[String]>,
    target: (&str, &str),
    host: (&str, &str),
    path: Option<&str>,
) -> Vec<String> {
    if let Some(e) = exec {
        return e.to_vec();
    }
    if target == host {
        return Vec::new();
    }
    let name = format!("go_{}_{}_exec", target.0, target.1);
    path.and_then(|p| {
        std::env::split_paths(p)
            .map(|d| d.join(&name))
            .find(|p| p.is_file())
    })
    .map(|p| vec![p.display().to_string()])
    .unwrap_or_default()
}

/// Runs `exec... binary args...` outside the sandbox, with gob's stdin,
/// stdout and stderr, and says how it ended.
pub fn run_program(exec: &[String], binary: &Path, args: &[String]) -> Ended {
    let mut argv: Vec<PathBuf> = exec.iter().map(PathBuf::from).collect();
    argv.push(binary.to_path_buf());
    argv.extend(args.iter().map(PathBuf::from));
    let status = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .status();
    match status {
        Err(e) => Ended::Failed(format!(
            "fork/exec {}: {}",
            argv[0].display(),
            crate::commands::version::io_text(&e)
        )),
        Ok(s) if s.success() => Ended::Success,
        Ok(s) => Ended::Failed(status_text(s)),
    }
}

/// Go's `*exec.ExitError` text: `exit status N` or `signal: NAME`.
fn status_text(s: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (s.code(), s.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(sig)) => format!("signal: {}", signal_name(sig)),
        _ => format!("{s}"),
    }
}

/// Go's syscall.Signal strings for the common signals.
fn signal_name(sig: i32) -> String {
    match sig {
        libc::SIGHUP => "hangup".into(),
        libc::SIGINT => "interrupt".into(),
        libc::SIGQUIT => "quit".into(),
        libc::SIGILL => "illegal instruction".into(),
        libc::SIGTRAP => "trace/breakpoint trap".into(),
        libc::SIGABRT => "aborted".into(),
        libc::SIGBUS => "bus error".into(),
        libc::SIGFPE => "floating point exception".into(),
        libc::SIGKILL => "killed".into(),
        libc::SIGSEGV => "segmentation fault".into(),
        libc::SIGPIPE => "broken pipe".into(),
        libc::SIGALRM => "alarm clock".into(),
        libc::SIGTERM => "terminated".into(),
        n => format!("signal {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn go_runs_split() {
        assert_eq!(
            split_args(&s(&["a.go", "b.go", "x.go.txt", "c.go"])).unwrap(),
            (
                RunTarget::Files(s(&["a.go", "b.go"])),
                s(&["x.go.txt", "c.go"])
            )
        );
        assert_eq!(
            split_args(&s(&["./cmd", "-x", "y.go"])).unwrap(),
            (RunTarget::Package("./cmd".into()), s(&["-x", "y.go"]))
        );
        assert_eq!(split_args(&[]).unwrap_err(), RunError::NoFiles);
        assert_eq!(
            split_args(&s(&["a_test.go"])).unwrap_err(),
            RunError::TestFile("a_test.go".into())
        );
        assert!(matches!(
            split_args(&s(&["example.com/x@v1.0.0"])),
            Err(RunError::Versioned(_))
        ));
        assert!(split_args(&s(&["./x@y"])).is_ok());
    }

    #[test]
    fn exit_status_words() {
        let end = |sh: &str| run_program(&s(&["/bin/sh", "-c", sh]), Path::new("sh"), &[]);
        assert_eq!(end("exit 0"), Ended::Success);
        assert_eq!(end("exit 3"), Ended::Failed("exit status 3".into()));
        assert_eq!(end("kill -9 $$"), Ended::Failed("signal: killed".into()));
    }
}
