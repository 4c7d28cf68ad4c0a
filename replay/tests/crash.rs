//! Crash safety: a writer killed mid-stream leaves a trace whose every
//! finished action reads back, ending in `Incomplete`.
//!
//! The writer runs in a child process (this test binary re-executed with
//! `GOB_REPLAY_CRASH_CHILD` set), which the parent SIGKILLs.
mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::*;
use gob_replay::schema::{Digest, Record};
use gob_replay::{Limits, TraceError, TraceReader, TraceWriter};

const CHILD_ENV: &str = "GOB_REPLAY_CRASH_CHILD";

/// The child's body: writes actions to the file named by the environment,
/// reporting each on stdout once written; `MODE=pause` sleeps after 5
/// actions, `MODE=busy` keeps writing (with blobs) until killed.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let busy = std::env::var("MODE").as_deref() == Ok("busy");
    let mut w = TraceWriter::create(&path, &header()).unwrap();
    let mut out = std::io::stdout();
    for i in 0u32.. {
        if busy {
            // A blob of a few hundred KiB so the kill often lands mid-record.
            let data: Vec<u8> = (0..300_000u32)
                .map(|j| (j.wrapping_mul(2654435761).wrapping_add(i) >> 13) as u8)
                .collect();
            w.write_blob(&Digest::of(&data), &data).unwrap();
        }
        w.write_action(&compile(i, &format!("pkg{i}"), vec![], 20))
            .unwrap();
        writeln!(out, "wrote {i}").unwrap();
        out.flush().unwrap();
        if !busy && i == 4 {
            std::thread::sleep(std::time::Duration::from_secs(600));
        }
    }
}

fn run_child(mode: &str, wait_for: u32) -> (std::path::PathBuf, u32) {
    let dir = std::env::temp_dir().join(format!("gob-replay-crash-{}-{mode}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("trace");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &path)
        .env("MODE", mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut done = 0;
    for line in &mut lines {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("wrote ") {
            done = n.parse::<u32>().unwrap() + 1;
            if done >= wait_for {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    (path, done)
}

fn check_killed_trace(path: &std::path::Path, at_least: u32) -> usize {
    let bytes = std::fs::read(path).unwrap();
    let (h, records, err) = read_all(&bytes, Limits::default()).expect("header readable");
    assert_eq!(h, header());
    let actions: Vec<_> = records
        .iter()
        .filter_map(|r| {
            if let Record::Action(a) = r {
                Some(a)
            } else {
                None
            }
        })
        .collect();
    assert!(
        actions.len() as u32 >= at_least,
        "{} actions read, {at_least} reported written",
        actions.len()
    );
    for (i, a) in actions.iter().enumerate() {
        assert_eq!(a, &&compile(i as u32, &format!("pkg{i}"), vec![], 20));
    }
    match err {
        Some(TraceError::Incomplete { records_read, .. }) => {
            assert_eq!(records_read as usize, 1 + records.len())
        }
        other => panic!("expected Incomplete, got {other:?}"),
    }
    // Trace::open accepts it, without End.
    let t = gob_replay::Trace::open(path, Limits::default()).unwrap();
    assert!(!t.is_complete());
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    actions.len()
}

#[test]
fn killed_while_idle_keeps_every_finished_action() {
    let (path, done) = run_child("pause", 5);
    assert_eq!(done, 5);
    assert_eq!(check_killed_trace(&path, 5), 5);
}

#[test]
fn killed_while_writing_keeps_every_finished_action() {
    let (path, done) = run_child("busy", 40);
    check_killed_trace(&path, done);
}

/// Pins: a trace cut inside a blob (the kill landed while it was written)
/// opens as incomplete with the actions before it; `Trace::open` returned
/// the cut as an error (tests/trace.rs's killed build, now and then).
#[test]
fn cut_inside_a_blob_opens_incomplete() {
    let h = header();
    let mut w = TraceWriter::new(Vec::new(), &h).unwrap();
    w.write_action(&compile(0, "a", vec![], 3)).unwrap();
    w.flush().unwrap();
    let before = w.get_ref().len();
    let data: Vec<u8> = (0..300_000u32)
        .map(|j| (j.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    w.write_blob(&Digest::of(&data), &data).unwrap();
    w.flush().unwrap();
    let after = w.get_ref().len();
    assert!(after > before + 2, "the blob took no bytes");
    let dir = std::env::temp_dir().join(format!("gob-replay-cut-blob-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("trace");
    std::fs::write(&path, &w.get_ref()[..(before + after) / 2]).unwrap();
    let t = gob_replay::Trace::open(&path, Limits::default()).unwrap();
    assert!(!t.is_complete());
    assert_eq!(t.actions.len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dropped_writer_is_incomplete() {
    let h = header();
    let mut w = TraceWriter::new(Vec::new(), &h).unwrap();
    w.write_action(&compile(0, "a", vec![], 3)).unwrap();
    w.write_action(&compile(1, "b", vec![0], 3)).unwrap();
    let bytes = w.get_ref().clone();
    drop(w);
    let mut r = TraceReader::new(&bytes[..]).unwrap();
    assert!(matches!(r.next(), Some(Ok(Record::Action(_)))));
    assert!(matches!(r.next(), Some(Ok(Record::Action(_)))));
    assert!(matches!(
        r.next(),
        Some(Err(TraceError::Incomplete {
            records_read: 3,
            ..
        }))
    ));
    assert!(r.next().is_none());
}

/// A sink that takes `room` bytes, then fails every write.
struct Full {
    data: Vec<u8>,
    room: usize,
}

impl std::io::Write for Full {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.data.len() >= self.room {
            return Err(std::io::Error::other("disk full"));
        }
        let n = buf.len().min(self.room - self.data.len());
        self.data.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn failed_write_stops_the_trace_cleanly() {
    let h = header();
    let probe = TraceWriter::new(Vec::new(), &h).unwrap();
    let room = probe.get_ref().len() + 300; // the header, and part of one action
    let mut w = TraceWriter::new(
        Full {
            data: Vec::new(),
            room,
        },
        &h,
    )
    .unwrap();
    let mut failed_at = None;
    for i in 0..50u32 {
        if let Err(e) = w.write_action(&compile(i, &format!("p{i}"), vec![], 20)) {
            assert!(matches!(e, TraceError::Write { .. }), "{e:?}");
            failed_at = Some(i);
            break;
        }
    }
    let failed_at = failed_at.expect("the sink fills up");
    // Everything after is refused, End included.
    assert!(matches!(
        w.write_action(&compile(99, "q", vec![], 1)),
        Err(TraceError::Write { .. })
    ));
    let bytes = w.get_ref().data.clone();
    assert!(matches!(
        w.finish(gob_replay::schema::End {
            actions: failed_at,
            success: false
        }),
        Err(TraceError::Write { .. })
    ));
    // What reached the sink reads as a cut trace.
    let (_, records, err) = read_all(&bytes, Limits::default()).unwrap();
    assert!(records.len() as u32 <= failed_at);
    assert!(
        matches!(err, Some(TraceError::Incomplete { .. })),
        "{err:?}"
    );
}
