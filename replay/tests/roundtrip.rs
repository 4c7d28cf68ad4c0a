//! Every record type survives a write and a read unchanged.
mod common;

use common::*;
use gob_replay::schema::*;
use gob_replay::{Limits, Trace, TraceError, TraceReader, TraceWriter};

#[test]
fn every_record_type_round_trips() {
    let (h, records) = small_trace_records();
    let bytes = write(&h, &records);
    let (h2, got, err) = read_all(&bytes, Limits::default()).expect("open");
    assert!(err.is_none(), "{err:?}");
    assert_eq!(h2, h);
    assert_eq!(got, records);
}

#[test]
fn default_valued_fields_round_trip() {
    // Every optional key omitted: empty lists, zero times, no sandbox.
    let h = Header {
        target_env: vec![],
        tools: vec![],
        roots: vec![],
        patterns: vec![],
        blobs: false,
        gob_version: String::new(),
        ..header()
    };
    let mut a = compile(0, "p", vec![], 0);
    a.argv.clear();
    a.env.clear();
    a.outputs.clear();
    a.wall_ns = 0;
    a.cpu_ns = 0;
    a.sandbox = None;
    a.status = Status::Exited(-1);
    let records = vec![
        Record::Action(a),
        Record::End(End {
            actions: 1,
            success: true,
        }),
    ];
    let bytes = write(&h, &records);
    let (h2, got, err) = read_all(&bytes, Limits::default()).expect("open");
    assert!(err.is_none());
    assert_eq!(h2, h);
    assert_eq!(got, records);
}

#[test]
fn trace_reads_whole_and_looks_up_actions() {
    let (h, records) = small_trace_records();
    let bytes = write(&h, &records);
    let t = Trace::from_reader(&bytes[..], Limits::default()).expect("read");
    assert!(t.is_complete());
    assert_eq!(t.actions.len(), 5);
    assert_eq!(t.blobs.len(), 3);
    assert_eq!(
        t.action(3).map(|a| a.package.as_str()),
        Some("example.com/hello")
    );
    assert!(t.action(2).is_none());
    assert_eq!(
        t.end,
        Some(End {
            actions: 5,
            success: false
        })
    );
}

#[test]
fn read_keeping_asks_for_every_blob_and_keeps_what_it_chooses() {
    let (h, records) = small_trace_records();
    let bytes = write(&h, &records);
    let whole = Trace::from_reader(&bytes[..], Limits::default()).expect("read");
    // Asked about every blob (digest and length) before its bytes are read.
    let mut asked = std::collections::HashMap::new();
    let reader = TraceReader::new(&bytes[..]).expect("open");
    let t = Trace::read_keeping(reader, |d, len| {
        asked.insert(*d, len);
        false
    })
    .expect("read");
    assert!(t.blobs.is_empty());
    let sizes: std::collections::HashMap<_, _> = whole
        .blobs
        .iter()
        .map(|(d, b)| (*d, b.len() as u64))
        .collect();
    assert_eq!(asked, sizes);
    assert_eq!((t.actions, t.end), (whole.actions, whole.end));
    // Keeping one keeps exactly that one.
    let one = *whole.blobs.keys().next().expect("a blob");
    let reader = TraceReader::new(&bytes[..]).expect("open");
    let t = Trace::read_keeping(reader, |d, _| *d == one).expect("read");
    assert_eq!(t.blobs.len(), 1);
    assert_eq!(t.blobs.get(&one), whole.blobs.get(&one));
}

#[test]
fn blobs_are_deduplicated() {
    let h = header();
    let mut w = TraceWriter::new(Vec::new(), &h).unwrap();
    let d = Digest::of(b"same");
    assert!(!w.has_blob(&d));
    assert!(w.write_blob(&d, b"same").unwrap());
    assert!(w.has_blob(&d));
    let before = w.bytes_written();
    assert!(!w.write_blob(&d, b"same").unwrap());
    assert_eq!(w.bytes_written(), before);
    let bytes = w
        .finish(End {
            actions: 0,
            success: true,
        })
        .unwrap();
    let (_, got, err) = read_all(&bytes, Limits::default()).unwrap();
    assert!(err.is_none());
    assert_eq!(
        got.iter().filter(|r| matches!(r, Record::Blob(_))).count(),
        1
    );
}

#[test]
fn file_round_trip() {
    let dir = std::env::temp_dir().join(format!("gob-replay-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("trace.gobtrace");
    let (h, records) = small_trace_records();
    let mut w = TraceWriter::create(&path, &h).unwrap();
    for r in &records {
        match r {
            Record::Blob(b) => {
                w.write_blob(&b.digest, &b.data).unwrap();
            }
            Record::Action(a) => w.write_action(a).unwrap(),
            Record::End(e) => {
                w.finish(e.clone()).unwrap();
                break;
            }
            Record::Header(_) => unreachable!(),
        }
    }
    let r = TraceReader::open(&path).unwrap();
    assert_eq!(r.header(), &h);
    let got: Vec<Record> = r.collect::<Result<_, _>>().unwrap();
    assert_eq!(got, records);
    let t = Trace::open(&path, Limits::default()).unwrap();
    assert!(t.is_complete());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn open_missing_file_names_the_path() {
    let err = TraceReader::open("/nonexistent/trace").err().unwrap();
    assert!(matches!(err, TraceError::Open { .. }));
    assert!(err.to_string().contains("/nonexistent/trace"));
}
