//! Hostile input: every hazard a trace from elsewhere may carry ends as the
//! exact error variant, never a panic or a large allocation.
mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::*;
use gob_replay::schema::*;
use gob_replay::{Limits, PathProblem, TraceError, TraceReader, TraceWriter, WriterOptions};

// --- zstd layer -------------------------------------------------------------

#[test]
fn window_bomb_in_frame_header() {
    // Magic, a descriptor with no content size, a 2 GiB window (log 31).
    let mut bytes = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, (31 - 10) << 3];
    bytes.extend_from_slice(&[0x01, 0x00, 0x00]); // an empty last raw block
    let err = TraceReader::new(&bytes[..]).err().unwrap();
    assert!(
        matches!(err, TraceError::WindowTooLarge { window, max } if window == 1 << 31 && max == 1 << 23),
        "{err:?}"
    );
}

#[test]
fn window_bomb_single_segment() {
    // Single segment: the window is the declared content size, 2^40 here.
    let mut bytes = vec![0x28, 0xb5, 0x2f, 0xfd, 0xe0];
    bytes.extend_from_slice(&(1u64 << 40).to_le_bytes());
    let err = TraceReader::new(&bytes[..]).err().unwrap();
    assert!(
        matches!(err, TraceError::WindowTooLarge { window, .. } if window == 1 << 40),
        "{err:?}"
    );
}

#[test]
fn real_frame_with_large_window_is_refused() {
    let plain = decompress(&small_trace());
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    enc.window_log(28).unwrap();
    enc.write_all(&plain).unwrap();
    let bytes = enc.finish().unwrap();
    let err = TraceReader::new(&bytes[..]).err().unwrap();
    assert!(
        matches!(err, TraceError::WindowTooLarge { window, .. } if window == 1 << 28),
        "{err:?}"
    );
    // A lower limit refuses the writer's default 2 MiB window too.
    let limits = Limits {
        window_log_max: 20,
        ..Limits::default()
    };
    let err = TraceReader::with_limits(&small_trace()[..], limits)
        .err()
        .unwrap();
    assert!(
        matches!(err, TraceError::WindowTooLarge { max, .. } if max == 1 << 20),
        "{err:?}"
    );
}

#[test]
fn not_zstd() {
    for bytes in [
        &b"hello, this is not a trace"[..],
        &[0x28, 0xb5, 0x2f, 0xfe, 0, 0][..],
        &[0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0][..],
    ] {
        let err = TraceReader::new(bytes).err().unwrap();
        assert!(matches!(err, TraceError::NotATrace { .. }), "{err:?}");
    }
}

#[test]
fn corrupt_zstd_block_is_a_read_error() {
    let mut bytes = small_trace();
    // Past the frame header: damage the first block's header to a reserved type.
    bytes[6] = 0xff;
    bytes[7] = 0xff;
    bytes[8] = 0xff;
    let err = match TraceReader::new(&bytes[..]) {
        Err(e) => e,
        Ok(mut r) => r.find_map(Result::err).unwrap(),
    };
    assert!(matches!(err, TraceError::Read { .. }), "{err:?}");
}

#[test]
fn output_bomb_stops_at_the_total_limit() {
    // A header, then 32 MiB records of zeros of an unknown type (which a
    // reader skips): 1 GiB decompressed from a few hundred KiB.
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    enc.write_all(&frame(&[header_record(FORMAT, 1)])).unwrap();
    let payload = 32usize << 20;
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..32 {
        let prefix = Cbor::new().array(2).uint(99).head(2, payload as u64).done();
        let framing = Cbor::new().head(2, (prefix.len() + payload) as u64).done();
        enc.write_all(&framing).unwrap();
        enc.write_all(&prefix).unwrap();
        for _ in 0..payload >> 20 {
            enc.write_all(&zeros).unwrap();
        }
    }
    let bytes = enc.finish().unwrap();
    assert!(bytes.len() < 1 << 20, "{} bytes compressed", bytes.len());

    let limits = Limits {
        max_total: 256 << 20,
        ..Limits::default()
    };
    let start = Instant::now();
    let mut r = TraceReader::with_limits(&bytes[..], limits).unwrap();
    let err = r.find_map(Result::err).unwrap();
    assert!(start.elapsed() < Duration::from_secs(30));
    match err {
        TraceError::TotalTooLarge { at, max } => {
            assert_eq!(max, 256 << 20);
            assert!(at.offset <= 256 << 20);
            assert_eq!(at.record, 8); // records 1..=7 fit, the 8th would pass 256 MiB
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn record_length_bomb_in_framing() {
    // A record declaring 2^60 bytes: refused from its head, nothing read.
    let mut plain = frame(&[header_record(FORMAT, 1)]);
    plain.extend(Cbor::new().head(2, 1 << 60).done());
    plain.extend_from_slice(&[0; 64]);
    let err = first_error(&plain).unwrap();
    assert!(
        matches!(err, TraceError::RecordTooLarge { size, at, .. } if size == 1 << 60 && at.record == 1),
        "{err:?}"
    );
    // Below the limit but beyond the data: just a cut.
    let mut plain = frame(&[header_record(FORMAT, 1)]);
    plain.extend(Cbor::new().head(2, 200 << 20).done());
    let err = first_error(&plain).unwrap();
    assert!(
        matches!(
            err,
            TraceError::Incomplete {
                records_read: 1,
                ..
            }
        ),
        "{err:?}"
    );
}

// --- CBOR layer -------------------------------------------------------------

fn header_with_extra(value: &[u8]) -> Vec<u8> {
    Cbor::new()
        .array(2)
        .uint(0)
        .map(3)
        .uint(0)
        .str(FORMAT)
        .uint(1)
        .uint(1)
        .uint(50)
        .raw(value)
        .done()
}

#[test]
fn cbor_length_bombs() {
    // A byte string, a text string, an array and a map each declaring 2^60.
    let cases: [(Vec<u8>, &str); 4] = [
        (Cbor::new().head(2, 1 << 60).done(), "bytes"),
        (Cbor::new().head(3, 1 << 60).done(), "text"),
        (Cbor::new().head(4, 1 << 60).done(), "array"),
        (Cbor::new().head(5, 1 << 60).done(), "map"),
    ];
    for (value, what) in cases {
        let err = first_error(&frame(&[header_with_extra(&value)])).unwrap();
        match (what, &err) {
            ("bytes" | "text", TraceError::Malformed { reason, at }) => {
                assert!(
                    reason.contains("declared length 1152921504606846976"),
                    "{reason}"
                );
                assert_eq!(at.record, 0);
            }
            ("array" | "map", TraceError::TooManyItems { count, .. }) => {
                assert_eq!(*count, 1 << 60)
            }
            _ => panic!("{what}: {err:?}"),
        }
    }
    // Under the item limit but more items than bytes left.
    let err = first_error(&frame(&[header_with_extra(
        &Cbor::new().head(4, 1000).done(),
    )]))
    .unwrap();
    assert!(
        matches!(&err, TraceError::Malformed { reason, .. } if reason.contains("declared 1000 items")),
        "{err:?}"
    );
    // In a blob's data.
    let blob = Cbor::new()
        .array(2)
        .uint(1)
        .map(2)
        .uint(0)
        .bytes(&[0; 32])
        .uint(1)
        .head(2, 1 << 60)
        .done();
    let err = first_error(&frame(&[header_record(FORMAT, 1), blob])).unwrap();
    assert!(
        matches!(&err, TraceError::Malformed { at, .. } if at.record == 1),
        "{err:?}"
    );
}

#[test]
fn deep_nesting() {
    for (open, close) in [(0x81u8, 0x00u8), (0xa1, 0x00), (0xc6, 0x00)] {
        let mut value = vec![open; 10_000];
        if open == 0xa1 {
            // {0: {0: … }}: a key before each nested map.
            value = [0xa1, 0x00].repeat(5_000);
        }
        value.push(close);
        let err = first_error(&frame(&[header_with_extra(&value)])).unwrap();
        assert!(
            matches!(err, TraceError::TooDeep { max: 16, at } if at.record == 0),
            "{err:?}"
        );
    }
    // In an action record too, under an unknown key.
    let plain = decompress(&small_trace());
    let mut records = split_records(&plain);
    let a = &records[4];
    assert_eq!(a[0..2], [0x82, 0x02], "action envelope");
    assert!((0xa0..0xb7).contains(&a[2]), "a small map");
    let mut nested = vec![0x82, 0x02, a[2] + 1];
    nested.extend_from_slice(&a[3..]);
    nested.push(0x18);
    nested.push(60); // key 60
    nested.extend(vec![0x81; 10_000]);
    nested.push(0);
    records[4] = nested;
    let err = first_error(&frame(&records)).unwrap();
    assert!(
        matches!(err, TraceError::TooDeep { at, .. } if at.record == 4),
        "{err:?}"
    );
}

#[test]
fn limits_on_items_strings_and_records() {
    let bytes = small_trace();
    let err = read_all(
        &bytes,
        Limits {
            max_items: 4,
            ..Limits::default()
        },
    )
    .map(|x| x.2)
    .unwrap_or_else(Some)
    .unwrap();
    assert!(
        matches!(err, TraceError::TooManyItems { max: 4, .. }),
        "{err:?}"
    );
    let err = read_all(
        &bytes,
        Limits {
            max_string: 10,
            ..Limits::default()
        },
    )
    .map(|x| x.2)
    .unwrap_or_else(Some)
    .unwrap();
    assert!(
        matches!(err, TraceError::StringTooLong { max: 10, at, .. } if at.record == 0),
        "{err:?}"
    );
    let err = read_all(
        &bytes,
        Limits {
            max_record: 100,
            ..Limits::default()
        },
    )
    .map(|x| x.2)
    .unwrap_or_else(Some)
    .unwrap();
    assert!(
        matches!(err, TraceError::RecordTooLarge { max: 100, .. }),
        "{err:?}"
    );
    let err = read_all(
        &bytes,
        Limits {
            max_total: 1000,
            ..Limits::default()
        },
    )
    .map(|x| x.2)
    .unwrap_or_else(Some)
    .unwrap();
    assert!(
        matches!(err, TraceError::TotalTooLarge { max: 1000, .. }),
        "{err:?}"
    );
}

#[test]
fn malformed_records() {
    let h = header_record(FORMAT, 1);
    let end0 = Cbor::new()
        .array(2)
        .uint(3)
        .map(2)
        .uint(0)
        .uint(0)
        .uint(1)
        .bool(true)
        .done();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            [frame(std::slice::from_ref(&h)), vec![0x00]].concat(),
            "record framing",
        ),
        (
            frame(&[h.clone(), Cbor::new().uint(5).done()]),
            "expected an array",
        ),
        (
            frame(&[
                h.clone(),
                Cbor::new().array(3).uint(3).map(0).uint(0).done(),
            ]),
            "has 3 items",
        ),
        (
            frame(&[h.clone(), [end0.clone(), vec![0]].concat()]),
            "bytes after the record",
        ),
        (
            frame(&[
                h.clone(),
                Cbor::new().array(2).uint(2).map(1).uint(0).uint(0).done(),
            ]),
            "lacks key 1 (kind)",
        ),
        (
            frame(&[
                h.clone(),
                Cbor::new()
                    .array(2)
                    .uint(3)
                    .map(2)
                    .uint(0)
                    .str("x")
                    .uint(1)
                    .bool(true)
                    .done(),
            ]),
            "expected an unsigned integer",
        ),
        (
            frame(&[
                h.clone(),
                Cbor::new()
                    .array(2)
                    .uint(3)
                    .map(2)
                    .uint(0)
                    .uint(0)
                    .uint(0)
                    .uint(0)
                    .done(),
            ]),
            "appears twice",
        ),
        (
            frame(&[
                h.clone(),
                Cbor::new().array(2).uint(3).raw(&[0xbf, 0xff]).done(),
            ]),
            "indefinite-length a map",
        ),
        (
            frame(&[
                h.clone(),
                Cbor::new().array(2).uint(3).map(1).str("k").uint(0).done(),
            ]),
            "map key is a text string",
        ),
        (
            frame(&[
                h.clone(),
                Cbor::new()
                    .array(2)
                    .uint(2)
                    .map(1)
                    .uint(0)
                    .uint(1 << 40)
                    .done(),
            ]),
            "does not fit 32 bits",
        ),
        (
            frame(&[
                h.clone(),
                Cbor::new()
                    .array(2)
                    .uint(2)
                    .map(1)
                    .uint(1)
                    .raw(&[0x62, 0xff, 0xfe])
                    .done(),
            ]),
            "bad CBOR",
        ),
        (
            frame(&[
                h.clone(),
                Cbor::new()
                    .array(2)
                    .uint(1)
                    .map(2)
                    .uint(0)
                    .bytes(&[1, 2])
                    .uint(1)
                    .bytes(b"")
                    .done(),
            ]),
            "digest of 2 bytes",
        ),
        (
            frame(&[
                h.clone(),
                Cbor::new().array(2).uint(3).raw(&[0xa1, 0x00, 0xfc]).done(),
            ]),
            "reserved CBOR head byte",
        ),
    ];
    for (plain, expect) in cases {
        match first_error(&plain) {
            Some(TraceError::Malformed { at, reason }) => {
                assert_eq!(at.record, 1, "{expect}: {reason}");
                assert!(reason.contains(expect), "expected {expect:?} in {reason:?}");
            }
            other => panic!("{expect}: {other:?}"),
        }
    }
}

#[test]
fn unknown_keys_and_record_types_are_skipped() {
    let (h, records) = small_trace_records();
    let plain = decompress(&write(&h, &records));
    let mut parts = split_records(&plain);
    // Header: 12 keys -> 13 with key 40 holding a nested map.
    assert_eq!(parts[0][0..3], [0x82, 0x00, 0xac]);
    parts[0][2] = 0xad;
    parts[0].extend(
        Cbor::new()
            .uint(40)
            .map(1)
            .uint(1)
            .array(2)
            .str("x")
            .bytes(b"y")
            .done(),
    );
    // An unknown record type between two actions.
    parts.insert(
        5,
        Cbor::new()
            .array(2)
            .uint(7)
            .map(1)
            .uint(0)
            .str("future")
            .done(),
    );
    let (h2, got, err) = read_all(&compress(&frame(&parts)), Limits::default()).unwrap();
    assert!(err.is_none(), "{err:?}");
    assert_eq!(h2, h);
    assert_eq!(got, records);
}

// --- trace layer ------------------------------------------------------------

#[test]
fn wrong_format_and_version() {
    let err = first_error(&frame(&[header_record("not-a-gob-trace", 1)])).unwrap();
    assert!(
        matches!(&err, TraceError::WrongFormat { found } if found == "not-a-gob-trace"),
        "{err:?}"
    );
    // Version 2 with a field of another shape: named as a version problem.
    let v2 = Cbor::new()
        .array(2)
        .uint(0)
        .map(3)
        .uint(0)
        .str(FORMAT)
        .uint(3)
        .str("linux/amd64")
        .uint(1)
        .uint(2)
        .done();
    let err = first_error(&frame(&[v2])).unwrap();
    assert!(
        matches!(err, TraceError::WrongVersion { found: 2 }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "trace version 2, this gob reads version 1");
    // No version at all.
    let none = Cbor::new()
        .array(2)
        .uint(0)
        .map(1)
        .uint(0)
        .str(FORMAT)
        .done();
    assert!(matches!(
        first_error(&frame(&[none])),
        Some(TraceError::Malformed { .. })
    ));
    // The first record is not a header.
    let end = Cbor::new()
        .array(2)
        .uint(3)
        .map(2)
        .uint(0)
        .uint(0)
        .uint(1)
        .bool(true)
        .done();
    assert!(matches!(
        first_error(&frame(&[end])),
        Some(TraceError::NotATrace { .. })
    ));
    // The writer refuses to write another version.
    let h = Header {
        version: 2,
        ..header()
    };
    assert!(matches!(
        TraceWriter::new(Vec::new(), &h).err(),
        Some(TraceError::WrongVersion { found: 2 })
    ));
    let h = Header {
        format: "x".into(),
        ..header()
    };
    assert!(matches!(
        TraceWriter::new(Vec::new(), &h).err(),
        Some(TraceError::WrongFormat { .. })
    ));
}

#[test]
fn empty_and_tiny_inputs_are_incomplete() {
    for bytes in [&[][..], &[0x28][..], &[0x28, 0xb5, 0x2f, 0xfd][..]] {
        let err = TraceReader::new(bytes).err().unwrap();
        assert!(
            matches!(
                err,
                TraceError::Incomplete {
                    records_read: 0,
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

#[test]
fn blob_digest_mismatch() {
    let plain = decompress(&small_trace());
    let bad = replace_once(&plain, b"package fmt\n", b"package fmX\n");
    match first_error(&bad) {
        Some(TraceError::DigestMismatch { at, digest, actual }) => {
            assert_eq!(at.record, 1);
            assert_eq!(digest, Digest::of(b"package fmt\n"));
            assert_eq!(actual, Digest::of(b"package fmX\n"));
        }
        other => panic!("{other:?}"),
    }
    let mut w = TraceWriter::new(Vec::new(), &header()).unwrap();
    let err = w.write_blob(&Digest::of(b"a"), b"b").unwrap_err();
    assert!(matches!(err, TraceError::DigestMismatch { .. }));
    assert!(!w.has_blob(&Digest::of(b"a")));
}

#[test]
fn truncated_at_every_offset() {
    let (h, records) = small_trace_records();
    let bytes = write(&h, &records);
    let mut best = 0;
    for cut in 0..=bytes.len() {
        let outcome = read_all(&bytes[..cut], Limits::default());
        let (got, err) = match outcome {
            Err(TraceError::Incomplete {
                records_read: 0, ..
            }) => (Vec::new(), None),
            Err(e) => panic!("cut {cut}: {e:?}"),
            Ok((h2, got, err)) => {
                assert_eq!(h2, h);
                (got, err)
            }
        };
        assert_eq!(got[..], records[..got.len()], "cut {cut}: a prefix");
        assert!(
            got.len() >= best,
            "cut {cut}: fewer records than a shorter cut"
        );
        best = got.len();
        if cut == bytes.len() {
            assert!(err.is_none());
            assert_eq!(got.len(), records.len());
            continue;
        }
        match err {
            None => assert!(got.is_empty()),
            Some(TraceError::Incomplete { records_read, .. }) => {
                assert_eq!(records_read as usize, 1 + got.len())
            }
            // Cut in the frame's epilogue, after End's bytes: End is held back.
            Some(TraceError::Read { at, .. }) => {
                assert_eq!(got.len(), records.len() - 1, "cut {cut}");
                assert_eq!(at.record as usize, records.len() + 1);
            }
            Some(e) => panic!("cut {cut}: {e:?}"),
        }
    }
    // The same on the decompressed stream (a zstd frame that ends cleanly
    // in the middle of a record).
    let plain = decompress(&bytes);
    for cut in 0..plain.len() {
        match read_all(&compress(&plain[..cut]), Limits::default()) {
            Err(TraceError::Incomplete {
                records_read: 0, ..
            }) => {}
            Ok((
                _,
                got,
                Some(TraceError::Incomplete {
                    records_read,
                    offset,
                }),
            )) => {
                assert_eq!(records_read as usize, 1 + got.len());
                assert_eq!(offset as usize, cut);
            }
            other => panic!("plain cut {cut}: {other:?}"),
        }
    }
}

#[test]
fn appended_garbage() {
    let bytes = small_trace();
    // Bytes after the zstd frame.
    let err = read_all(&[&bytes[..], b"garbage"].concat(), Limits::default())
        .unwrap()
        .2
        .unwrap();
    assert!(matches!(err, TraceError::TrailingData { .. }), "{err:?}");
    // A second zstd frame.
    let err = read_all(&[&bytes[..], &bytes[..]].concat(), Limits::default())
        .unwrap()
        .2
        .unwrap();
    assert!(matches!(err, TraceError::TrailingData { .. }), "{err:?}");
    // A record after End, inside the frame.
    let plain = decompress(&bytes);
    let parts = split_records(&plain);
    let again = [plain.clone(), frame(&[parts[parts.len() - 1].clone()])].concat();
    let err = first_error(&again).unwrap();
    assert!(
        matches!(err, TraceError::TrailingData { at } if at.offset == plain.len() as u64),
        "{err:?}"
    );
    // One stray byte.
    let err = first_error(&[plain, vec![0]].concat()).unwrap();
    assert!(matches!(err, TraceError::TrailingData { .. }), "{err:?}");
}

#[test]
fn stream_invariants_on_read() {
    let plain = decompress(&small_trace());
    // [header, 3 blobs, actions 0 1 3 4 5, End]
    let parts = split_records(&plain);
    assert_eq!(parts.len(), 10);
    let invalid = |p: Vec<Vec<u8>>, expect: &str, record: u64| match first_error(&frame(&p)) {
        Some(TraceError::Invalid { at, reason }) => {
            assert!(reason.contains(expect), "expected {expect:?} in {reason:?}");
            assert_eq!(at.record, record, "{reason}");
        }
        other => panic!("{expect}: {other:?}"),
    };
    // Actions in the order they finished (not by index) are fine…
    let mut p = parts.clone();
    p.swap(4, 5);
    assert!(first_error(&frame(&p)).is_none());
    // …an index twice is not.
    let mut p = parts.clone();
    p.insert(6, parts[4].clone());
    invalid(p, "action index 0 appears twice", 6);
    let mut p = parts.clone();
    p.remove(4);
    invalid(p, "depends on action 0, which was not recorded", 5);
    let mut p = parts.clone();
    p.insert(2, parts[1].clone());
    invalid(p, "appears twice", 2);
    let mut p = parts.clone();
    p.insert(4, parts[0].clone());
    invalid(p, "a second header", 4);
    let mut p = parts.clone();
    p.remove(8);
    invalid(p, "End counts 5 actions, the trace has 4", 8);
    let mut p = parts.clone();
    p[6] = replace_once(&p[6], b"\x03\x82\x00\x01", b"\x03\x82\x00\x05");
    invalid(p, "depends on action 5, which is not earlier", 6);
}

#[test]
fn stream_invariants_on_write() {
    let mut w = TraceWriter::new(Vec::new(), &header()).unwrap();
    w.write_action(&compile(3, "a", vec![], 1)).unwrap();
    assert!(matches!(
        w.write_action(&compile(3, "b", vec![], 1)),
        Err(TraceError::Invalid { .. })
    ));
    assert!(matches!(
        w.write_action(&compile(4, "b", vec![2], 1)),
        Err(TraceError::Invalid { .. })
    ));
    assert!(matches!(
        w.write_action(&compile(4, "b", vec![4], 1)),
        Err(TraceError::Invalid { .. })
    ));
    w.write_action(&compile(4, "b", vec![3], 1)).unwrap();
    assert_eq!(w.actions(), 2);
    assert!(matches!(
        w.finish(End {
            actions: 3,
            success: true
        }),
        Err(TraceError::Invalid { .. })
    ));
}

#[test]
fn hostile_paths_on_read() {
    let plain = decompress(&small_trace());
    let p0 = b"/goroot/src/fmt/internal_file_number_000_of_pkg.go";
    let cases: Vec<(Vec<u8>, PathProblem, u64)> = vec![
        (
            replace_once(
                &plain,
                p0,
                b"/goroot/src/fmt/../../../file_number_000_of_pkg.go",
            ),
            PathProblem::DotDotComponent,
            4,
        ),
        (
            replace_once(
                &plain,
                p0,
                b"goroot/src/fmt/internal_file_number_000_of_pkg.go/",
            ),
            PathProblem::Relative,
            4,
        ),
        (
            replace_once(
                &plain,
                p0,
                b"/goroot/src/fmt/inte\0nal_file_number_000_of_pkg.go",
            ),
            PathProblem::Nul,
            4,
        ),
        (
            replace_once(
                &plain,
                p0,
                b"/goroot//rc/fmt/internal_file_number_000_of_pkg.go",
            ),
            PathProblem::EmptyComponent,
            4,
        ),
        (
            replace_once(
                &plain,
                p0,
                b"/goroot/src/fmt/internal_file_number_000_of_pkg.g/",
            ),
            PathProblem::EmptyComponent,
            4,
        ),
        (
            replace_once(
                &plain,
                p0,
                b"/goroot/src/fmt/./ternal_file_number_000_of_pkg.go",
            ),
            PathProblem::DotComponent,
            4,
        ),
        // The cwd (a whole CBOR text of 10 bytes).
        (
            replace_once(&plain, b"\x6a/work/b000", b"\x6a/work/b/.."),
            PathProblem::DotDotComponent,
            4,
        ),
        // A root in the header.
        (
            replace_once(&plain, b"\x67/goroot", b"\x67/g/../r"),
            PathProblem::DotDotComponent,
            0,
        ),
        // An output's path (argv mentions it too, as data).
        (
            replace_all(&plain, b"/work/b000/_pkg_.a", b"/work/b000/../p.a/"),
            PathProblem::DotDotComponent,
            4,
        ),
    ];
    for (bad, problem, record) in cases {
        match first_error(&bad) {
            Some(TraceError::BadPath {
                at: Some(at),
                problem: p,
                path,
            }) => {
                assert_eq!(p, problem, "{path:?}");
                assert_eq!(at.record, record, "{path:?}");
            }
            other => panic!("{problem:?}: {other:?}"),
        }
    }
    // An output name that is not a plain name.
    let bad = replace_once(&plain, b"\x67_pkg_.a", b"\x67../pk.a");
    assert!(matches!(first_error(&bad), Some(TraceError::Invalid { at, .. }) if at.record == 4));
}

#[test]
fn hostile_paths_on_write() {
    for (path, problem) in [
        ("/a/../etc/passwd", PathProblem::DotDotComponent),
        ("etc/passwd", PathProblem::Relative),
        ("/a\0b", PathProblem::Nul),
        ("/a//b", PathProblem::EmptyComponent),
        ("", PathProblem::Empty),
    ] {
        let mut w = TraceWriter::new(Vec::new(), &header()).unwrap();
        let mut a = compile(0, "p", vec![], 2);
        a.inputs[1].path = path.into();
        match w.write_action(&a) {
            Err(TraceError::BadPath {
                at: Some(_),
                problem: p,
                ..
            }) => assert_eq!(p, problem),
            other => panic!("{path:?}: {other:?}"),
        }
        // Nothing was written: the next action may still use index 0.
        w.write_action(&compile(0, "p", vec![], 2)).unwrap();
    }
    let h = Header {
        roots: vec![Root {
            inside: "relative".into(),
            kind: "module".into(),
        }],
        ..header()
    };
    assert!(matches!(
        TraceWriter::new(Vec::new(), &h).err(),
        Some(TraceError::BadPath {
            problem: PathProblem::Relative,
            ..
        })
    ));
}

#[test]
fn hostile_argv_env_and_output_are_data() {
    let mut a = compile(0, "p", vec![], 1);
    a.argv = vec![
        "$(rm -rf /)".into(),
        "`id`".into(),
        "\0".into(),
        "\x1b[31mred\x1b[0m".into(),
        "a\nb\r\n".into(),
        String::new(),
        "x".repeat(100_000),
        "ünïcödé \u{202e}".into(),
        "../../../etc/passwd".into(),
        "-o=/etc/shadow".into(),
    ];
    a.env = vec![
        (String::new(), String::new()),
        ("A=B".into(), "C=D".into()),
        ("PATH".into(), "\0".into()),
        ("LD_PRELOAD".into(), "/evil.so".into()),
        ("\n".into(), "\x1b]0;title\x07".into()),
    ];
    a.stdout = (0..=255).collect();
    a.stderr = b"\x1b[2J".to_vec();
    a.package = "../../evil\0pkg".into();
    a.kind = "\x1b".into();
    a.tool = "/bin/sh -c".into();
    a.status = Status::Error("\0\n".into());
    let records = vec![
        Record::Action(a),
        Record::End(End {
            actions: 1,
            success: false,
        }),
    ];
    let bytes = write(&header(), &records);
    let (_, got, err) = read_all(&bytes, Limits::default()).unwrap();
    assert!(err.is_none());
    assert_eq!(got, records);
    // Errors print paths escaped.
    let e = gob_replay::check_inside_path("/a\x1b[2J/../b").unwrap_err();
    assert!(!e.to_string().contains('\x1b'), "{e}");
}

#[test]
fn writer_refuses_what_the_default_reader_would() {
    let mut w = TraceWriter::new(Vec::new(), &header()).unwrap();
    let mut a = compile(0, "p", vec![], 1);
    a.argv.push("x".repeat((1 << 20) + 1));
    assert!(matches!(
        w.write_action(&a),
        Err(TraceError::StringTooLong { .. })
    ));
    let mut a = compile(0, "p", vec![], 1);
    a.stdout = vec![0; 257 << 20];
    assert!(matches!(
        w.write_action(&a),
        Err(TraceError::RecordTooLarge { .. })
    ));
    // Nothing was recorded: index 0 is still free.
    w.write_action(&compile(0, "p", vec![], 1)).unwrap();
    assert_eq!(w.actions(), 1);
}

// --- consistency and what a trace can make a reader hold (issue #13) --------

/// One action reading `inputs`, in a complete trace with `blobs` before it.
fn one_action_trace(blobs: &[&[u8]], inputs: Vec<FileRef>) -> Vec<u8> {
    let h = header();
    let mut records: Vec<Record> = blobs
        .iter()
        .map(|b| {
            Record::Blob(Blob {
                digest: Digest::of(b),
                data: b.to_vec(),
            })
        })
        .collect();
    let mut a = compile(0, "example.com/x", vec![], 0);
    a.inputs = inputs;
    records.push(Record::Action(a));
    records.push(Record::End(End {
        actions: 1,
        success: true,
    }));
    write(&h, &records)
}

fn file(path: &str, data: &[u8]) -> FileRef {
    FileRef {
        path: path.into(),
        size: data.len() as u64,
        digest: Digest::of(data),
    }
}

fn invalid_reason(e: Option<TraceError>) -> String {
    match e {
        Some(TraceError::Invalid { reason, .. }) => reason,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

/// Pins (issue #13): an input whose size contradicts its digest's blob was
/// accepted; now the reader refuses it naming the action and the path, and
/// the writer refuses to write it.
#[test]
fn a_size_that_contradicts_its_digest_is_refused() {
    let data: &[u8] = b"package x\n"; // 10 bytes
    let good = one_action_trace(&[data], vec![file("/mod/x/x.go", data)]);
    let d = Digest::of(data);
    let mut from = vec![0x01, 0x0a, 0x02, 0x58, 0x20];
    from.extend_from_slice(&d.0);
    let mut to = from.clone();
    to[1] = 0x0b; // 11 bytes
    let bad = replace_once(&decompress(&good), &from, &to);
    let why = invalid_reason(first_error(&bad));
    assert!(
        why.contains("action b001") && why.contains("/mod/x/x.go") && why.contains("11 bytes"),
        "{why}"
    );
    // The empty content has one digest: any other size for it is a lie.
    let empty = one_action_trace(&[], vec![file("/mod/x/empty.go", b"")]);
    let mut from = vec![0x01, 0x00, 0x02, 0x58, 0x20];
    from.extend_from_slice(&Digest::of(b"").0);
    let mut to = from.clone();
    to[1] = 0x05;
    let why = invalid_reason(first_error(&replace_once(&decompress(&empty), &from, &to)));
    assert!(why.contains("the digest of no bytes"), "{why}");
    // The writer checks the same.
    let mut w = TraceWriter::new(Vec::new(), &header()).unwrap();
    w.write_blob(&d, data).unwrap();
    let mut a = compile(0, "example.com/x", vec![], 0);
    a.inputs = vec![FileRef {
        size: 11,
        ..file("/mod/x/x.go", data)
    }];
    assert!(matches!(
        w.write_action(&a),
        Err(TraceError::Invalid { .. })
    ));
}

/// Pins (issue #13): two inputs at one path with different digests were
/// accepted (replay bound the first); now refused, naming action and path.
#[test]
fn one_path_with_two_contents_is_refused() {
    let trace = one_action_trace(
        &[],
        vec![file("/mod/x/a.go", b"one"), file("/mod/x/b.go", b"two")],
    );
    let bad = replace_once(&decompress(&trace), b"/mod/x/b.go", b"/mod/x/a.go");
    let why = invalid_reason(first_error(&bad));
    assert!(
        why.contains("action b001: input /mod/x/a.go is listed twice with different contents"),
        "{why}"
    );
}

/// Pins (issue #13): 40 actions of 2^20 inputs (a 150 KB file) took
/// `gob trace show` to 4 GB. Each action's inputs, outputs and argv bytes
/// are bounded, and so is what all actions take together: the read stops
/// at the first action past a limit, naming it.
#[test]
fn what_a_trace_can_make_a_reader_hold_is_bounded() {
    let lax = Limits {
        max_inputs: u64::MAX,
        max_held: u64::MAX,
        max_argv_bytes: u64::MAX,
        ..Limits::default()
    };
    let craft = |actions: Vec<ActionRecord>| {
        let opts = WriterOptions {
            limits: lax.clone(),
            ..WriterOptions::default()
        };
        let mut w = TraceWriter::with_options(Vec::new(), &header(), opts).unwrap();
        let n = actions.len() as u32;
        for a in &actions {
            w.write_action(a).unwrap();
        }
        w.finish(End {
            actions: n,
            success: true,
        })
        .unwrap()
    };
    let wide = craft(vec![compile(0, "example.com/x", vec![], 70_000)]);
    let err = read_all(&wide, Limits::default()).unwrap().2;
    assert!(
        matches!(&err, Some(TraceError::OverLimit { what, count: 70_000, max: 65_536, .. }) if what == "action b001: inputs"),
        "{err:?}"
    );
    let mut long = compile(0, "example.com/x", vec![], 1);
    long.argv = vec!["x".repeat(1 << 20); 5];
    let err = read_all(&craft(vec![long]), Limits::default()).unwrap().2;
    assert!(
        matches!(&err, Some(TraceError::OverLimit { what, .. }) if what == "action b001: argv and env bytes"),
        "{err:?}"
    );
    // Many actions, each within the limits: their sum is bounded.
    let many = craft((0..64).map(|i| compile(i, "p", vec![], 1000)).collect());
    let small = Limits {
        max_held: 4 << 20,
        ..Limits::default()
    };
    let err = read_all(&many, small).unwrap().2;
    assert!(
        matches!(&err, Some(TraceError::OverLimit { what, max, .. }) if what.starts_with("memory to hold the actions") && *max == 4 << 20),
        "{err:?}"
    );
    assert!(read_all(&many, Limits::default()).unwrap().2.is_none());
}
