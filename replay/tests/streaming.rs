//! Blob records are streamed (issue #13 item 8): a blob can be as large as
//! `max_record` (256 MiB), but no reader holds more than `max_held_record`
//! of any record, and a blob's bytes reach a sink only in pieces, hashed on
//! the way, with the digest checked before the copy is reported done.
mod common;

use common::*;
use gob_replay::schema::*;
use gob_replay::{CopyError, Item, Limits, Trace, TraceError, TraceReader};

fn small_held() -> Limits {
    Limits {
        max_held_record: 4096,
        ..Limits::default()
    }
}

/// Bytes that do not compress to nothing.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

/// A blob record in the layout gob writes, declaring `digest` for `data`.
fn blob_record(digest: &Digest, data: &[u8]) -> Vec<u8> {
    Cbor::new()
        .array(2)
        .uint(1)
        .map(2)
        .uint(0)
        .bytes(&digest.0)
        .uint(1)
        .bytes(data)
        .done()
}

fn end_record(actions: u64) -> Vec<u8> {
    Cbor::new()
        .array(2)
        .uint(3)
        .map(2)
        .uint(0)
        .uint(actions)
        .uint(1)
        .head(7, 21)
        .done()
}

/// A complete decompressed stream: the common header, then `records`, then End.
fn stream(records: &[Vec<u8>]) -> Vec<u8> {
    let h = split_records(&decompress(&small_trace())).remove(0);
    let mut all = vec![h];
    all.extend(records.iter().cloned());
    all.push(end_record(0));
    frame(&all)
}

fn open(plain: &[u8], limits: Limits) -> TraceReader<std::io::Cursor<Vec<u8>>> {
    TraceReader::with_limits(std::io::Cursor::new(compress(plain)), limits).expect("open")
}

#[test]
fn a_blob_larger_than_a_held_record_is_streamed_in_pieces() {
    let data = pattern(3 << 20);
    let d = Digest::of(&data);
    let plain = stream(&[blob_record(&d, &data)]);
    let mut r = open(&plain, small_held());
    let Ok(Some(Item::Blob(b))) = r.next_item() else {
        panic!("expected a blob")
    };
    assert_eq!((b.digest(), b.len()), (d, data.len() as u64));
    let mut pieces = Vec::new();
    let mut got = Vec::new();
    b.copy_to(&mut |p| {
        pieces.push(p.len());
        got.extend_from_slice(p);
        Ok(())
    })
    .expect("copy");
    assert!(got == data, "the streamed bytes differ");
    assert!(
        pieces.len() >= 3 && pieces.iter().all(|&n| n <= 1 << 20),
        "{pieces:?}"
    );
    assert!(matches!(
        r.next_item(),
        Ok(Some(Item::Record(Record::End(_))))
    ));
    // The iterator and `Trace` read it whole, into memory, on request.
    let t = Trace::from_reader(&compress(&plain)[..], small_held()).expect("read");
    assert_eq!(t.blobs.get(&d), Some(&data));
}

#[test]
fn records_other_than_streamed_blobs_are_held_only_up_to_the_limit() {
    // An action record over the limit.
    let mut a = compile(0, "example.com/x", vec![], 1);
    a.stdout = pattern(8 << 10);
    let bytes = write(&header(), &[Record::Action(a.clone())]);
    match first_error_with(&decompress(&bytes), small_held()) {
        Some(TraceError::RecordTooLarge { size, max, .. }) => {
            assert_eq!(max, 4096);
            assert!(size > 8 << 10);
        }
        other => panic!("{other:?}"),
    }
    // The writer refuses what the reader would.
    let mut w = gob_replay::TraceWriter::with_options(
        Vec::new(),
        &header(),
        gob_replay::WriterOptions {
            limits: small_held(),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(matches!(
        w.write_action(&a),
        Err(TraceError::RecordTooLarge { max: 4096, .. })
    ));
    // A blob in another layout (keys swapped) is read whole: accepted under
    // the limit, refused over it.
    let swapped = |data: &[u8]| {
        Cbor::new()
            .array(2)
            .uint(1)
            .map(2)
            .uint(1)
            .bytes(data)
            .uint(0)
            .bytes(&Digest::of(data).0)
            .done()
    };
    let small = pattern(1000);
    let t =
        Trace::from_reader(&compress(&stream(&[swapped(&small)]))[..], small_held()).expect("read");
    assert_eq!(t.blobs.get(&Digest::of(&small)), Some(&small));
    match first_error_with(&stream(&[swapped(&pattern(5000))]), small_held()) {
        Some(TraceError::RecordTooLarge { max: 4096, .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn wrong_bytes_fail_the_copy_and_stop_the_reader() {
    let data = pattern(2 << 20);
    let claimed = Digest::of(b"something else");
    let plain = stream(&[blob_record(&claimed, &data)]);
    let mut r = open(&plain, Limits::default());
    let Ok(Some(Item::Blob(b))) = r.next_item() else {
        panic!("expected a blob")
    };
    let mut seen = 0usize;
    let err = b
        .copy_to(&mut |p| {
            seen += p.len();
            Ok(())
        })
        .unwrap_err();
    match err {
        CopyError::Trace(TraceError::DigestMismatch { digest, actual, at }) => {
            assert_eq!((digest, actual, at.record), (claimed, Digest::of(&data), 1));
        }
        other => panic!("{other:?}"),
    }
    // The sink saw the bytes (the caller discards them); nothing follows.
    assert_eq!(seen, data.len());
    assert!(matches!(r.next_item(), Ok(None)));
}

#[test]
fn a_blob_left_unread_is_still_checked() {
    let data = pattern(100_000);
    let plain = stream(&[blob_record(&Digest::of(b"x"), &data)]);
    let mut r = open(&plain, Limits::default());
    assert!(matches!(r.next_item(), Ok(Some(Item::Blob(_)))));
    assert!(matches!(
        r.next_item(),
        Err(TraceError::DigestMismatch { .. })
    ));
    // Unread and good: skipped, and the stream goes on.
    let plain = stream(&[blob_record(&Digest::of(&data), &data)]);
    let mut r = open(&plain, Limits::default());
    assert!(matches!(r.next_item(), Ok(Some(Item::Blob(_)))));
    assert!(matches!(
        r.next_item(),
        Ok(Some(Item::Record(Record::End(_))))
    ));
}

#[test]
fn a_trace_cut_inside_a_streamed_blob_is_incomplete() {
    let data = pattern(3 << 20);
    let plain = stream(&[blob_record(&Digest::of(&data), &data)]);
    let cut = &plain[..plain.len() - data.len() / 2];
    let mut r = open(cut, Limits::default());
    let Ok(Some(Item::Blob(b))) = r.next_item() else {
        panic!("expected a blob")
    };
    match b.copy_to(&mut |_| Ok(())) {
        Err(CopyError::Trace(e)) => assert!(e.is_incomplete(), "{e}"),
        other => panic!("{other:?}"),
    }
    // A sink's own failure is the sink's, and stops the reader too.
    let mut r = open(&plain, Limits::default());
    let Ok(Some(Item::Blob(b))) = r.next_item() else {
        panic!("expected a blob")
    };
    match b.copy_to(&mut |_| Err(std::io::Error::other("disk full"))) {
        Err(CopyError::Sink(e)) => assert_eq!(e.to_string(), "disk full"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(r.next_item(), Ok(None)));
}

#[test]
fn a_blob_record_with_bytes_after_its_data_is_malformed() {
    let data = pattern(100);
    let mut rec = blob_record(&Digest::of(&data), &data);
    rec.push(0);
    match first_error(&stream(&[rec])) {
        Some(TraceError::Malformed { at, reason }) => {
            assert_eq!(at.record, 1);
            assert!(reason.contains("blob record"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_skimming_reader_yields_only_blobs_and_proves_its_input() {
    let bytes = small_trace();
    let whole = Trace::from_reader(&bytes[..], Limits::default()).expect("read");
    let mut first = TraceReader::new(&bytes[..]).expect("open");
    let _ = Trace::read_from(&mut first, |_, _| false).expect("read");
    let a = first.input_digest().expect("digest");
    assert_eq!(a, Digest::of(&bytes), "the digest covers the whole input");
    // Skimming: the same blobs, nothing else, and the same input digest even
    // though the second reader decoded no action.
    let mut second = TraceReader::new(&bytes[..]).expect("open");
    second.skim();
    let mut blobs = std::collections::HashMap::new();
    while let Some(item) = second.next_item().expect("item") {
        match item {
            Item::Blob(b) => {
                let d = b.digest();
                blobs.insert(d, b.into_vec().expect("bytes"));
            }
            Item::Record(r) => panic!("skimming yielded {r:?}"),
        }
    }
    assert_eq!(blobs, whole.blobs);
    assert_eq!(second.input_digest().expect("digest"), a);
    // A reader stopped early still hashes the rest of its input.
    let mut third = TraceReader::new(&bytes[..]).expect("open");
    assert_eq!(third.input_digest().expect("digest"), a);
    // Other bytes, another digest.
    let other = write(&header(), &[]);
    let mut fourth = TraceReader::new(&other[..]).expect("open");
    assert_ne!(fourth.input_digest().expect("digest"), a);
}
