//! Integration: `Sandbox::run_in_thread`, the confinement of in-process steps.

mod common;

use common::*;
use gob_sandbox::Mode;

/// Pins (issue #12): an in-process step (gob's pack) reads only what it was
/// given and writes only beneath its output directory; the caller's own
/// threads stay unrestricted.
#[test]
fn an_in_thread_step_reads_only_inputs_and_writes_only_its_dir() {
    for mode in MODES {
        let Some(sb) = sandbox(mode) else { continue };
        let s = Scratch::new(&format!("thread-{}", mode.name()));
        let input = s.file("in/declared.o", "object\n");
        let secret = s.file("in/undeclared.o", "secret\n");
        let out = s.dir("out");
        let elsewhere = s.dir("elsewhere");
        let ((read_ok, read_other, write_ok, write_other), enf) = sb
            .run_in_thread(
                std::slice::from_ref(&input),
                std::slice::from_ref(&out),
                || {
                    (
                        std::fs::read(&input).map(|b| b.len()),
                        std::fs::read(&secret).map(drop),
                        std::fs::write(out.join("a.a"), b"archive"),
                        std::fs::write(elsewhere.join("a.a"), b"archive"),
                    )
                },
            )
            .unwrap();
        assert_eq!(read_ok.unwrap(), 7, "{mode:?}");
        write_ok.unwrap();
        assert_eq!(enf.mode, mode);
        if matches!(mode, Mode::Full | Mode::Landlock) {
            let e = read_other.unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EACCES), "{mode:?}: {e}");
            let e = write_other.unwrap_err();
            assert_eq!(e.raw_os_error(), Some(libc::EACCES), "{mode:?}: {e}");
            assert_eq!(enf.landlock_abi, sb.landlock_abi());
            assert!(enf.landlock_abi >= Some(gob_sandbox::MIN_LANDLOCK_ABI));
        } else {
            // Without Landlock the caller's path discipline is the only fence.
            read_other.unwrap();
            write_other.unwrap();
        }
        assert_eq!(enf.seccomp, mode != Mode::None);
        // This thread was never restricted.
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), "secret\n");
        std::fs::write(elsewhere.join("b"), b"free").unwrap();
    }
}
