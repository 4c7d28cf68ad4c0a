//! Blob records are streamed (issue #13 item 8): a blob can be as large as
//! `max_record` (256 MiB), but no reader holds more than `max_held_record`
//! of any record, and a blob's bytes reach a sink only in pieces, hashed on
//! the way, with the digest checked before the copy is reported done.
mod common;

use common::*;
use gob_replay::schema::*;
use gob_replay::{CopyError, Item, Limits, Trace, TraceError, TraceReader, TraceWriter};

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

/// A source that yields `first` on its first pass and `second` after a
/// rewind, noting the largest read it was asked for and every byte it gave.
struct Changing {
    first: Vec<u8>,
    second: Vec<u8>,
    pass: u32,
    pos: usize,
    largest_read: usize,
    given_second: usize,
}

impl std::io::Read for Changing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.largest_read = self.largest_read.max(buf.len());
        let src = if self.pass <= 1 {
            &self.first
        } else {
            &self.second
        };
        let n = buf.len().min(src.len() - self.pos.min(src.len()));
        buf[..n].copy_from_slice(&src[self.pos..self.pos + n]);
        self.pos += n;
        if self.pass > 1 {
            self.given_second += n;
        }
        Ok(n)
    }
}

impl std::io::Seek for Changing {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        assert_eq!(to, std::io::SeekFrom::Start(0), "only rewinds");
        self.pass += 1;
        self.pos = 0;
        Ok(0)
    }
}

fn changing(first: Vec<u8>, second: Vec<u8>) -> Changing {
    Changing {
        first,
        second,
        pass: 0,
        pos: 0,
        largest_read: 0,
        given_second: 0,
    }
}

/// Pins (issue #13 item 8): the writer embedded a blob from one slice, so
/// `gob build --trace` and `gob audit` read each input whole into memory (a
/// linked program's archives are megabytes each: audit of cmd/go peaked
/// above go build). `write_blob_from` reads its source in pieces of at most
/// `BLOB_PIECE` bytes, whatever the blob's size, and the blob reads back.
#[test]
fn a_blob_is_written_from_a_source_in_pieces() {
    let data: Vec<u8> = (0..3 * gob_replay::BLOB_PIECE + 17)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    let d = Digest::of(&data);
    let mut src = changing(data.clone(), data.clone());
    let mut w = TraceWriter::new(Vec::new(), &header()).unwrap();
    assert!(w.write_blob_from(&d, data.len() as u64, &mut src).unwrap());
    assert!(
        src.largest_read <= gob_replay::BLOB_PIECE,
        "{}",
        src.largest_read
    );
    assert!(!w
        .write_blob_from(&d, data.len() as u64, &mut changing(Vec::new(), Vec::new()))
        .unwrap());
    let bytes = w
        .finish(End {
            actions: 0,
            success: true,
        })
        .unwrap();
    let t = Trace::from_reader(&bytes[..], Limits::default()).unwrap();
    assert_eq!(t.blobs.get(&d), Some(&data));
}

/// Pins: a source that is not the bytes hashed is refused before anything
/// is written (another length, other content), and one that changes between
/// the check and the copy never gets a changed byte into the trace: the
/// writer stops at the first piece that differs and is broken after it.
#[test]
fn a_blob_source_that_changes_is_not_written() {
    let n = 2 * gob_replay::BLOB_PIECE + 5;
    let data = vec![b'a'; n];
    let d = Digest::of(&data);
    let mut w = TraceWriter::new(Vec::new(), &header()).unwrap();
    let before = w.bytes_written();
    for other in [vec![b'a'; n - 1], vec![b'a'; n + 1], vec![b'b'; n]] {
        let err = w
            .write_blob_from(&d, n as u64, &mut changing(other.clone(), other))
            .unwrap_err();
        assert!(matches!(err, TraceError::DigestMismatch { .. }), "{err}");
        assert_eq!(w.bytes_written(), before);
        assert!(!w.has_blob(&d));
    }
    // Right on the first pass, changed in its second piece on the second.
    let mut later = data.clone();
    later[gob_replay::BLOB_PIECE + 1] = b'S';
    let mut src = changing(data.clone(), later);
    let err = w.write_blob_from(&d, n as u64, &mut src).unwrap_err();
    assert!(
        err.to_string()
            .contains("changed while it was being embedded"),
        "{err}"
    );
    assert!(!w.has_blob(&d));
    // The first piece was checked and written; the second was read, found
    // changed, and not written; nothing more was read.
    assert_eq!(src.given_second, 2 * gob_replay::BLOB_PIECE);
    assert!(
        w.write_blob(&Digest::of(b"x"), b"x").is_err(),
        "the writer is broken"
    );
}
