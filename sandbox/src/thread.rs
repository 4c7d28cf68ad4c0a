//! In-process steps under the sandbox's file confinement: a closure run on a fresh, self-restricted thread.
//!
//! Some steps of a build are not programs (gob's own `pack r`), yet they must
//! obey the same rule as a tool: read only the declared inputs, write only
//! the output directories. A thread can carry the per-thread layers of a
//! sandbox: no-new-privileges, a Landlock domain on host paths (modes that
//! use Landlock) and the seccomp filter (every mode but `none`). Namespaces
//! and rlimits belong to a whole process and are not applied; the caller's
//! own path discipline (inputs only from the declared list, outputs only
//! beneath the output directory, opened without following links) holds in
//! every mode.

use std::path::PathBuf;

use crate::kernel::{Kernel, SockFprog};
use crate::{Enforcement, Mode, Sandbox, SandboxError};

impl Sandbox {
    /// Runs `f` on a new thread that may read only `reads` (files or
    /// directories) and write only beneath `writes`, with this sandbox's
    /// per-thread layers (see the module doc), and returns its result and
    /// what enforced it. The thread ends with `f`; the caller's threads are
    /// never restricted.
    pub fn run_in_thread<R: Send>(
        &self,
        reads: &[PathBuf],
        writes: &[PathBuf],
        f: impl FnOnce() -> R + Send,
    ) -> Result<(R, Enforcement), SandboxError> {
        let uses_landlock = matches!(self.mode, Mode::Full | Mode::Landlock);
        let ruleset = if uses_landlock {
            let abi = self.landlock_abi.unwrap_or(crate::MAX_LANDLOCK_ABI);
            Some(crate::landlock::thread_ruleset(reads, writes, abi)?)
        } else {
            None
        };
        let filter: &[libc::sock_filter] = if self.mode == Mode::None {
            &[]
        } else {
            &self.filter
        };
        let mode = self.mode;
        let abi = self.landlock_abi;
        std::thread::scope(|s| {
            s.spawn(move || {
                let step = |step: &str, e: crate::kernel::Errno| SandboxError::Setup {
                    step: step.into(),
                    source: std::io::Error::from_raw_os_error(e.0),
                };
                let mut k = crate::sys::RawKernel;
                if mode != Mode::None {
                    k.prctl(libc::PR_SET_NO_NEW_PRIVS, 1)
                        .map_err(|e| step("prctl(PR_SET_NO_NEW_PRIVS)", e))?;
                }
                if let Some(fd) = &ruleset {
                    use std::os::fd::AsRawFd;
                    k.landlock_restrict_self(fd.as_raw_fd())
                        .map_err(|e| step("landlock_restrict_self", e))?;
                }
                if !filter.is_empty() {
                    let prog = SockFprog {
                        len: filter.len() as u16,
                        filter: filter.as_ptr(),
                    };
                    k.seccomp_set_filter(&prog)
                        .map_err(|e| step("seccomp", e))?;
                }
                let enforcement = Enforcement {
                    mode,
                    landlock_abi: ruleset.as_ref().and(abi),
                    seccomp: !filter.is_empty(),
                };
                Ok((f(), enforcement))
            })
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }
}
