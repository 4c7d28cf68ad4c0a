//! The commands: one file per `gob` subcommand, each turning its options into
//! calls on the engine (`load`, `plan`, `exec`, `cache`, `memo`) and its
//! results into what the command prints. `main.rs` parses the command line and
//! dispatches here; the engine knows nothing of the command line.

/// `gob audit`: two builds under varied conditions, traces and outputs compared.
pub mod audit;
/// `gob build`: load, select targets, plan, execute, install.
pub mod build;
/// `gob clean`: remove the build cache.
pub mod clean;
/// `gob env`: the configuration gob uses, printed like `go env`.
pub mod env;
/// `gob install`: go install's locations for executables.
pub mod install;
/// `gob list`: packages as `go list` prints them (its `-json` schema).
pub mod list;
pub mod list_modules;
pub mod list_values;
/// `gob replay`: a trace's actions re-run through the runner, outputs proved bit for bit.
pub mod replay;
/// `gob run`: go run's argument rule; the program run outside the sandbox.
pub mod run;
/// `gob trace show` and `gob trace diff`: a recorded trace as text or JSON.
pub mod trace;
/// `gob version`: gob's version and the toolchain it would use.
pub mod version;
