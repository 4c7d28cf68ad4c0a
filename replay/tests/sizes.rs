//! Measurements of the encoding's cost (run with `--nocapture` to see them);
//! the asserts pin the budget: a digest-only compile record ≤ 1 KB.
mod common;

use common::*;
use gob_replay::{TraceWriter, WriterOptions};
use std::time::Instant;

/// A build of `n` packages, each a compile with 20 inputs (60-byte paths)
/// depending on up to 3 earlier ones, digest-only (no blobs).
fn build(n: u32, options: WriterOptions) -> (usize, u64, std::time::Duration) {
    let h = header();
    let start = Instant::now();
    let mut w = TraceWriter::with_options(Vec::new(), &h, options).unwrap();
    for i in 0..n {
        let deps = (i.saturating_sub(3)..i).collect();
        let a = compile(i, &format!("example.com/module/pkg{i:04}"), deps, 20);
        w.write_action(&a).unwrap();
    }
    let raw = w.bytes_written();
    let out = w
        .finish(gob_replay::schema::End {
            actions: n,
            success: true,
        })
        .unwrap();
    (out.len(), raw, start.elapsed())
}

#[test]
fn action_record_size_within_budget() {
    let n = 1000;
    let (flushed, raw, t_flushed) = build(n, WriterOptions::default());
    let (unflushed, _, t_unflushed) = build(
        n,
        WriterOptions {
            flush_each_action: false,
            ..Default::default()
        },
    );
    let one = {
        let h = header();
        let mut w = TraceWriter::new(Vec::new(), &h).unwrap();
        let before = w.get_ref().len();
        w.write_action(&compile(0, "example.com/module/pkg0000", vec![], 20))
            .unwrap();
        (w.get_ref().len() - before, w.bytes_written())
    };
    eprintln!(
        "compile record, 20 inputs: {} bytes CBOR; alone in a trace: {} bytes compressed",
        one.1, one.0
    );
    eprintln!(
        "{n} actions: {raw} bytes CBOR ({} per action); flushed per action {flushed} bytes ({} per action, {:?}); \
         unflushed {unflushed} bytes ({} per action, {:?})",
        raw / u64::from(n),
        flushed / n as usize,
        t_flushed,
        unflushed / n as usize,
        t_unflushed
    );
    assert!(
        flushed / (n as usize) <= 1024,
        "{} bytes per action",
        flushed / n as usize
    );
}

/// Blobs against `tar | zstd -3` on a real source tree:
/// `GOB_REPLAY_CORPUS=/some/src cargo test -p gob-replay --test sizes -- --ignored --nocapture`
#[test]
#[ignore]
fn blob_compression_on_a_corpus() {
    let Ok(root) = std::env::var("GOB_REPLAY_CORPUS") else {
        return;
    };
    let mut files = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(root)];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                files.push(p);
            }
        }
    }
    let h = header();
    let start = Instant::now();
    let mut w = TraceWriter::new(Vec::new(), &h).unwrap();
    let mut raw = 0u64;
    let mut inputs = Vec::new();
    let mut index = 0;
    for p in &files {
        let data = std::fs::read(p).unwrap();
        raw += data.len() as u64;
        let d = gob_replay::schema::Digest::of(&data);
        w.write_blob(&d, &data).unwrap();
        inputs.push(gob_replay::schema::FileRef {
            path: format!("/src{}", p.display()),
            size: data.len() as u64,
            digest: d,
        });
        if inputs.len() == 20 {
            let mut a = compile(index, "p", vec![], 0);
            a.inputs = std::mem::take(&mut inputs);
            w.write_action(&a).unwrap();
            index += 1;
        }
    }
    let out = w
        .finish(gob_replay::schema::End {
            actions: index,
            success: true,
        })
        .unwrap();
    eprintln!(
        "{} files, {raw} bytes: trace {} bytes (ratio {:.2}), {:?}",
        files.len(),
        out.len(),
        raw as f64 / out.len() as f64,
        start.elapsed()
    );
}
