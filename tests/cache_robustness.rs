//! Robustness of the build cache (`gob::cache`): round trips, corruption, writers
//! killed mid-write, concurrent processes, a full disk, directory ownership, and
//! the stat cache's racy-file rule.
//!
//! Tests that need other processes re-run this test binary with
//! `GOB_CACHE_TEST_ROLE` set; the ignored test `child_role` then plays the role.

use std::ffi::CString;
use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

mod common;

use common::area::{text, Area};
use gob::cache::{
    ActionEntry, ActionKey, ActionKeyBuilder, Cache, CacheError, Digest, DigestCache, DigestStats,
    Lookup, Miss, Mode, RACY_WINDOW,
};

/// Selects the child role; unset in a normal test run.
const ROLE: &str = "GOB_CACHE_TEST_ROLE";
/// The role's argument (a directory, a seed).
const ARG: &str = "GOB_CACHE_TEST_ARG";
/// Printed by a child once it runs, so a parent can tell "the child failed" from
/// "the wrapper (unshare) could not start it".
const STARTED: &str = "GOB-CACHE-CHILD-STARTED";

// ---------------------------------------------------------------------------
// Helpers

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p =
            std::env::temp_dir().join(format!("gob-cache-test-{}-{n}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        must(fs::create_dir_all(&p), "create temp dir");
        TempDir(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn must<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e}"),
    }
}

/// xorshift64*: deterministic, seedable, good enough for sizes and sleep times.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `len` pseudo-random bytes determined by `seed`.
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut r = Rng::new(seed);
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        v.extend_from_slice(&r.next().to_le_bytes());
    }
    v.truncate(len);
    v
}

fn key(name: &str) -> ActionKey {
    let mut b = ActionKeyBuilder::new(Digest::of_bytes(b"test tool"));
    b.arg(name);
    b.finish()
}

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    must(fs::create_dir_all(dir), "create dir");
    let p = dir.join(name);
    must(fs::write(&p, content), "write test file");
    p
}

fn open(dir: &Path) -> Cache {
    must(Cache::open(dir), "open cache")
}

fn get(cache: &Cache, k: &ActionKey) -> Lookup {
    must(cache.get(k, Mode::Full), "get")
}

fn hit(cache: &Cache, k: &ActionKey) -> ActionEntry {
    match get(cache, k) {
        Lookup::Hit(e) => e,
        Lookup::Miss(m) => panic!("expected a hit for {k}, got a miss: {m}"),
    }
}

/// Every file below `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for ent in rd.flatten() {
            let p = ent.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn is_temp(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| n.as_bytes().starts_with(b".tmp-"))
}

fn temps_under(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| is_temp(p))
        .collect()
}

/// Rewrites `path` in place with `f` applied to its content (the cache's files
/// are read-only: make it writable first, as a stray process or disk error would).
fn damage(path: &Path, f: impl FnOnce(&mut Vec<u8>)) {
    must(
        fs::set_permissions(path, fs::Permissions::from_mode(0o644)),
        "chmod",
    );
    let mut b = must(fs::read(path), "read for damage");
    f(&mut b);
    let mut file = must(
        fs::OpenOptions::new().write(true).truncate(true).open(path),
        "open for damage",
    );
    must(file.write_all(&b), "write damage");
}

fn flip(path: &Path, at: usize) {
    damage(path, |b| b[at] ^= 0x20);
}

fn truncate(path: &Path, len: u64) {
    must(
        fs::set_permissions(path, fs::Permissions::from_mode(0o644)),
        "chmod",
    );
    let f = must(
        fs::OpenOptions::new().write(true).open(path),
        "open for truncate",
    );
    must(f.set_len(len), "truncate");
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// This test binary, re-run to play `role` with `arg`.
fn child(role: &str, arg: &str) -> Command {
    let mut c = Command::new(must(std::env::current_exe(), "current_exe"));
    child_args(&mut c, role, arg);
    c
}

fn child_args(c: &mut Command, role: &str, arg: &str) {
    c.args([
        "--ignored",
        "--exact",
        "child_role",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(ROLE, role)
    .env(ARG, arg)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
}

fn output_text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Plays the role named by `GOB_CACHE_TEST_ROLE` (a no-op without it).
#[test]
#[ignore = "run only as a child process by the other tests"]
fn child_role() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let arg = std::env::var(ARG).unwrap_or_default();
    eprintln!("{STARTED}");
    match role.as_str() {
        "writer" => writer_role(&arg),
        "mixer" => mixer_role(&arg),
        "diskfull" => diskfull_role(Path::new(&arg)),
        other => panic!("unknown role {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// 1. Round trip and deduplication

#[test]
fn round_trip_put_get_materialize_and_dedup() {
    let t = TempDir::new("roundtrip");
    let dir = t.path().join("cache");
    let cache = open(&dir);
    let archive = bytes(1, 100_000);
    let binary = bytes(2, 5_000);
    let src = t.path().join("src");
    let a = write(&src, "pkg.a", &archive);
    let b = write(&src, "a.out", &binary);
    must(
        fs::set_permissions(&b, fs::Permissions::from_mode(0o755)),
        "chmod",
    );
    let k = key("round trip");

    assert_eq!(get(&cache, &k), Lookup::Miss(Miss::Absent));
    let put = must(
        cache.put(
            &k,
            Mode::Full,
            &[("_pkg_.a", &a), ("a.out", &b)],
            b"compile: ok\n",
        ),
        "put",
    );
    assert_eq!(put.key, k);
    assert_eq!(put.log, b"compile: ok\n");
    assert_eq!(put.log_digest, Digest::of_bytes(b"compile: ok\n"));
    let o = &put.outputs;
    assert_eq!(o.len(), 2);
    assert_eq!(
        (o[0].name.as_str(), o[0].digest, o[0].size, o[0].executable),
        ("_pkg_.a", Digest::of_bytes(&archive), 100_000, false)
    );
    assert_eq!(
        (o[1].name.as_str(), o[1].digest, o[1].size, o[1].executable),
        ("a.out", Digest::of_bytes(&binary), 5_000, true)
    );

    let got = hit(&cache, &k);
    assert_eq!(got, put);
    // A second handle (another process, in effect) sees the same entry.
    assert_eq!(hit(&open(&dir), &k), put);

    let out = t.path().join("out");
    must(fs::create_dir_all(&out), "mkdir");
    must(
        cache.materialize(&got, "_pkg_.a", &out.join("x.a")),
        "materialize archive",
    );
    must(
        cache.materialize(&got, "a.out", &out.join("bin")),
        "materialize binary",
    );
    assert_eq!(must(fs::read(out.join("x.a")), "read"), archive);
    assert_eq!(must(fs::read(out.join("bin")), "read"), binary);
    let mode = |p: &Path| must(fs::metadata(p), "stat").permissions().mode() & 0o777;
    assert_eq!(mode(&out.join("x.a")), 0o644);
    assert_eq!(mode(&out.join("bin")), 0o755);
    // Materializing over an existing file replaces it.
    must(fs::write(out.join("x.a"), b"stale"), "write");
    must(
        cache.materialize(&got, "_pkg_.a", &out.join("x.a")),
        "materialize again",
    );
    assert_eq!(must(fs::read(out.join("x.a")), "read"), archive);
    assert_eq!(files_under(&out), vec![out.join("bin"), out.join("x.a")]);
    match cache.materialize(&got, "nope", &out.join("nope")) {
        Err(CacheError::NoSuchOutput { key, name }) => {
            assert_eq!((key, name.as_str()), (k, "nope"))
        }
        other => panic!("want NoSuchOutput, got {other:?}"),
    }

    // On disk: private directories, read-only blobs named by digest.
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("blobs")), 0o700);
    assert_eq!(mode(&cache.blob_path(&o[0].digest)), 0o444);
    assert_eq!(
        cache.blob_path(&o[0].digest),
        dir.join("blobs")
            .join(&o[0].digest.to_string()[..2])
            .join(o[0].digest.to_string())
    );
    assert_eq!(
        cache.entry_path(&k),
        dir.join("actions")
            .join(&k.to_string()[..2])
            .join(k.to_string())
    );
    let blobs = files_under(&dir.join("blobs"));
    assert_eq!(blobs.len(), 3, "archive, binary, log: {blobs:?}");

    // Identical content under other keys is stored once.
    let copy = write(&src, "copy.a", &archive);
    let k2 = key("same content");
    let e2 = must(
        cache.put(&k2, Mode::Full, &[("out", &copy)], b"compile: ok\n"),
        "put copy",
    );
    assert_eq!(e2.outputs[0].digest, o[0].digest);
    assert_eq!(files_under(&dir.join("blobs")), blobs);
    assert_eq!(files_under(&dir.join("actions")).len(), 2);
    assert_eq!(hit(&cache, &k2), e2);
    // Putting the same key again replaces the entry (last writer wins).
    let e3 = must(cache.put(&k2, Mode::Full, &[("out", &b)], b""), "put again");
    assert_eq!(hit(&cache, &k2), e3);
    assert!(temps_under(&dir).is_empty());
}

// ---------------------------------------------------------------------------
// 2. Corruption

/// A cache with one entry: a 100,000-byte output "o" and log "log".
fn one_entry(t: &TempDir) -> (Cache, ActionKey, ActionEntry, Vec<u8>) {
    let cache = open(&t.path().join("cache"));
    let content = bytes(7, 100_000);
    let src = write(&t.path().join("src"), "o", &content);
    let k = key("corruptible");
    let e = must(cache.put(&k, Mode::Full, &[("o", &src)], b"log"), "put");
    (cache, k, e, content)
}

fn expect_corrupt(l: Lookup, path: &Path, detail_has: &str) {
    match l {
        Lookup::Miss(Miss::Corrupt { path: p, detail }) => {
            assert_eq!(p, path);
            assert!(
                detail.contains(detail_has),
                "detail {detail:?} lacks {detail_has:?}"
            );
        }
        other => panic!("want Corrupt miss for {}, got {other:?}", path.display()),
    }
}

#[test]
fn blob_damage_is_a_corrupt_miss_and_is_removed() {
    type Damage = fn(&Path);
    let cases: [(&str, Damage, &str); 4] = [
        ("flipped byte", |p| flip(p, 50_000), "content hashes to"),
        (
            "flipped last byte",
            |p| flip(p, 99_999),
            "content hashes to",
        ),
        (
            "truncated",
            |p| truncate(p, 60_000),
            "blob has 60000 bytes, entry says 100000",
        ),
        (
            "emptied",
            |p| truncate(p, 0),
            "blob has 0 bytes, entry says 100000",
        ),
    ];
    for (what, damage_fn, detail) in cases {
        let t = TempDir::new("blobdamage");
        let (cache, k, e, content) = one_entry(&t);
        let blob = cache.blob_path(&e.outputs[0].digest);
        damage_fn(&blob);
        expect_corrupt(get(&cache, &k), &blob, detail);
        assert!(!blob.exists(), "{what}: corrupt blob left behind");
        assert!(!cache.entry_path(&k).exists(), "{what}: entry left behind");
        assert_eq!(get(&cache, &k), Lookup::Miss(Miss::Absent), "{what}");
        // Storing again heals the cache.
        let src = write(&t.path().join("src"), "o", &content);
        must(
            cache.put(&k, Mode::Full, &[("o", &src)], b"log"),
            "put again",
        );
        assert_eq!(hit(&cache, &k), e, "{what}");
    }
}

#[test]
fn damaged_log_blob_is_a_corrupt_miss() {
    let t = TempDir::new("logdamage");
    let (cache, k, e, _) = one_entry(&t);
    let blob = cache.blob_path(&e.log_digest);
    flip(&blob, 1);
    expect_corrupt(get(&cache, &k), &blob, "tool log");
    assert!(!cache.entry_path(&k).exists());
    assert_eq!(get(&cache, &k), Lookup::Miss(Miss::Absent));
}

#[test]
fn materialize_detects_damage_after_get_and_leaves_no_dest() {
    type Damage = fn(&Path);
    let cases: [(Damage, &str); 3] = [
        (|p| flip(p, 12_345), "content hashes to"),
        (|p| truncate(p, 99_999), "blob has 99999 bytes, want 100000"),
        (|p| truncate(p, 0), "blob has 0 bytes, want 100000"),
    ];
    for (damage_fn, detail_has) in cases {
        let t = TempDir::new("matdamage");
        let (cache, k, _, _) = one_entry(&t);
        let e = hit(&cache, &k);
        let blob = cache.blob_path(&e.outputs[0].digest);
        damage_fn(&blob);
        let out = t.path().join("out");
        must(fs::create_dir_all(&out), "mkdir");
        match cache.materialize(&e, "o", &out.join("o")) {
            Err(CacheError::Corrupt { path, detail }) => {
                assert_eq!(path, blob);
                assert!(
                    detail.contains(detail_has),
                    "{detail:?} lacks {detail_has:?}"
                );
                assert!(detail.starts_with("output \"o\" of action "), "{detail:?}");
            }
            other => panic!("want Corrupt, got {other:?}"),
        }
        assert!(
            files_under(&out).is_empty(),
            "materialize left {:?}",
            files_under(&out)
        );
        assert!(!blob.exists());
        assert!(!cache.entry_path(&k).exists());
        assert_eq!(get(&cache, &k), Lookup::Miss(Miss::Absent));
    }
}

#[test]
fn damaged_entry_is_a_corrupt_miss_and_is_removed() {
    type Damage = fn(&Path);
    let cases: [(&str, Damage, &str); 6] = [
        ("first byte flipped", |p| flip(p, 0), "checksum mismatch"),
        ("middle byte flipped", |p| flip(p, 100), "checksum mismatch"),
        (
            "checksum flipped",
            |p| damage(p, |b| *b.iter_mut().rev().nth(3).unwrap_or(&mut 0) ^= 1),
            "",
        ),
        (
            "cut short",
            |p| damage(p, |b| b.truncate(b.len() - 1)),
            "no checksum line",
        ),
        (
            "cut in half",
            |p| damage(p, |b| b.truncate(b.len() / 2)),
            "",
        ),
        ("emptied", |p| truncate(p, 0), "truncated: 0 bytes"),
    ];
    for (what, damage_fn, detail) in cases {
        let t = TempDir::new("entrydamage");
        let (cache, k, e, _) = one_entry(&t);
        let entry = cache.entry_path(&k);
        damage_fn(&entry);
        expect_corrupt(get(&cache, &k), &entry, detail);
        assert!(!entry.exists(), "{what}: entry left behind");
        assert_eq!(get(&cache, &k), Lookup::Miss(Miss::Absent), "{what}");
        // The blobs were sound and stay.
        assert!(cache.blob_path(&e.outputs[0].digest).exists(), "{what}");
    }
}

#[test]
fn entry_filed_under_another_key_is_corrupt() {
    let t = TempDir::new("wrongkey");
    let (cache, k, _, _) = one_entry(&t);
    let other = key("someone else");
    let dest = cache.entry_path(&other);
    must(
        fs::create_dir_all(dest.parent().unwrap_or(Path::new("/"))),
        "mkdir",
    );
    must(fs::copy(cache.entry_path(&k), &dest), "copy entry");
    expect_corrupt(
        get(&cache, &other),
        &dest,
        &format!("entry is for action {k}, not {other}"),
    );
    assert!(!dest.exists());
    hit(&cache, &k);
}

#[test]
fn verified_blob_shortcut_does_not_hide_later_damage() {
    // Blobs older than the racy window are remembered as verified after a get;
    // a later write changes their ctime even if the mtime is put back.
    let t = TempDir::new("shortcut");
    let (cache, k, e, _) = one_entry(&t);
    std::thread::sleep(RACY_WINDOW + Duration::from_millis(300));
    assert_eq!(hit(&cache, &k), e);
    assert_eq!(hit(&cache, &k), e);
    let blob = cache.blob_path(&e.outputs[0].digest);
    let before = must(fs::metadata(&blob), "stat");
    flip(&blob, 4242);
    let f = must(fs::File::open(&blob), "open");
    must(
        f.set_modified(must(before.modified(), "mtime")),
        "restore mtime",
    );
    let after = must(fs::metadata(&blob), "stat");
    assert_eq!(
        (after.len(), after.modified().ok()),
        (before.len(), before.modified().ok())
    );
    expect_corrupt(get(&cache, &k), &blob, "content hashes to");
}

// ---------------------------------------------------------------------------
// 3. Writers killed with SIGKILL

/// The outputs a writer stores for `k`: a function of the key alone, so anyone
/// can check a hit. Sizes 16 KiB to ~1.5 MiB.
fn crash_outputs(k: &ActionKey) -> Vec<(String, Vec<u8>)> {
    let seed = u64::from_le_bytes(k.as_bytes()[..8].try_into().unwrap_or([0; 8]));
    let mut r = Rng::new(seed);
    (0..3)
        .map(|j| {
            let len = 16 * 1024 + r.below(1_500_000) as usize;
            (format!("out{j}"), bytes(seed ^ j, len))
        })
        .collect()
}

fn writer_role(arg: &str) {
    let (dir, seed) = arg.split_once(' ').unwrap_or((arg, "0"));
    let seed: u64 = seed.parse().unwrap_or(0);
    let cache = open(&Path::new(dir).join("cache"));
    let work = Path::new(dir).join(format!("work-{}", std::process::id()));
    // Keys overlap between runs (so entries are overwritten while a kill lands)
    // and continue into new ones.
    for i in 0u64.. {
        let k = key(&format!("crash {}", (seed * 7 + i) % 60));
        let outs = crash_outputs(&k);
        let paths: Vec<(String, PathBuf)> = outs
            .iter()
            .map(|(n, c)| (n.clone(), write(&work, n, c)))
            .collect();
        let refs: Vec<(&str, &Path)> = paths
            .iter()
            .map(|(n, p)| (n.as_str(), p.as_path()))
            .collect();
        must(
            cache.put(&k, Mode::Full, &refs, format!("log for {k}").as_bytes()),
            "writer put",
        );
    }
}

#[test]
fn sigkill_during_writes_leaves_only_valid_entries() {
    let t = TempDir::new("sigkill");
    let mut rng = Rng::new(0x5eed_0001);
    for iter in 0..8u64 {
        let mut c = child("writer", &format!("{} {iter}", t.path().display()));
        let proc_ = must(c.spawn(), "spawn writer");
        std::thread::sleep(Duration::from_millis(60 + rng.below(300)));
        let mut proc_ = proc_;
        must(proc_.kill(), "kill -9 writer");
        let out = must(proc_.wait_with_output(), "wait writer");
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGKILL),
            "writer ended before it was killed:\n{}",
            output_text(&out)
        );
    }

    let cache = open(&t.path().join("cache"));
    let (mut hits, mut temps) = (0, 0);
    for p in files_under(&t.path().join("cache").join("actions")) {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some(k) = ActionKey::from_hex(name) else {
            assert!(is_temp(&p), "stray file {}", p.display());
            temps += 1;
            continue;
        };
        // A killed writer loses no completed write: every entry must be whole.
        let e = hit(&cache, &k);
        let want = crash_outputs(&k);
        assert_eq!(e.outputs.len(), want.len());
        assert_eq!(e.log, format!("log for {k}").as_bytes());
        for (o, (name, content)) in e.outputs.iter().zip(&want) {
            assert_eq!(
                (&o.name, o.size, o.digest),
                (name, content.len() as u64, Digest::of_bytes(content))
            );
            let dest = t.path().join("check");
            must(cache.materialize(&e, name, &dest), "materialize");
            assert!(
                must(fs::read(&dest), "read") == *content,
                "output {name} of {k} differs"
            );
        }
        hits += 1;
    }
    // No blob holds anything but the content its name promises.
    for p in files_under(&t.path().join("cache").join("blobs")) {
        if is_temp(&p) {
            temps += 1;
            continue;
        }
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert_eq!(
            Some(Digest::of_bytes(&must(fs::read(&p), "read blob"))),
            Digest::from_hex(name),
            "{}",
            p.display()
        );
    }
    eprintln!("after 8 kills: {hits} whole entries, {temps} abandoned temporary files");
    assert!(
        hits >= 4,
        "writers made too little progress to test anything ({hits} entries)"
    );
}

// ---------------------------------------------------------------------------
// 4. Concurrent processes

const MIX_KEYS: u64 = 6;

/// Output `j` of key `k` as written by writer `w`: a header naming all three,
/// then bytes; output 2 is the same for every writer (shared, deduplicated).
fn mix_output(k: u64, w: u64, j: u64) -> Vec<u8> {
    let w = if j == 2 { 0 } else { w };
    let seed = k * 1_000_003 + w * 101 + j;
    let mut v = format!("k{k} w{w} j{j}\n").into_bytes();
    v.extend(bytes(seed, 1024 + (seed % 7) as usize * 40_000));
    v
}

/// Checks a hit for key `k`: every output from one writer, all content exact.
fn check_mix_hit(cache: &Cache, e: &ActionEntry, k: u64, scratch: &Path) {
    let names: Vec<&str> = e.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["o0", "o1", "o2"]);
    let log = String::from_utf8_lossy(&e.log).to_string();
    let w: u64 = log
        .strip_prefix(&format!("k{k} by w"))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad log {log:?}"));
    for j in 0..3 {
        must(
            cache.materialize(e, &format!("o{j}"), scratch),
            "materialize",
        );
        assert!(
            must(fs::read(scratch), "read") == mix_output(k, w, j),
            "key {k} output {j} is not writer {w}'s"
        );
    }
}

fn mixer_role(arg: &str) {
    let (dir, id) = arg.split_once(' ').unwrap_or((arg, "0"));
    let id: u64 = id.parse().unwrap_or(0);
    let dir = Path::new(dir);
    let cache = open(&dir.join("cache"));
    let counts: Vec<(u64, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2u64)
            .map(|th| {
                let cache = &cache;
                s.spawn(move || {
                    let w = id * 10 + th;
                    let work = dir.join(format!("work-{w}"));
                    // Made up front: the first lookup may already be a hit
                    // (another process put the key), and a hit materializes here.
                    must(fs::create_dir_all(&work), "create work dir");
                    let mut r = Rng::new(w + 1);
                    let (mut hits, mut puts) = (0, 0);
                    for _ in 0..40 {
                        let k = r.below(MIX_KEYS);
                        let key = key(&format!("mix {k}"));
                        match get(cache, &key) {
                            Lookup::Hit(e) => {
                                check_mix_hit(cache, &e, k, &work.join("check"));
                                hits += 1;
                            }
                            Lookup::Miss(Miss::Absent) => {
                                let paths: Vec<PathBuf> = (0..3)
                                    .map(|j| write(&work, &format!("o{j}"), &mix_output(k, w, j)))
                                    .collect();
                                let outs = [
                                    ("o0", paths[0].as_path()),
                                    ("o1", &paths[1]),
                                    ("o2", &paths[2]),
                                ];
                                must(
                                    cache.put(
                                        &key,
                                        Mode::Full,
                                        &outs,
                                        format!("k{k} by w{w}").as_bytes(),
                                    ),
                                    "mixer put",
                                );
                                puts += 1;
                            }
                            Lookup::Miss(m) => {
                                panic!("writer {w}: unexpected miss for key {k}: {m}")
                            }
                        }
                    }
                    (hits, puts)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| panic!("mixer thread panicked")))
            .collect()
    });
    let hits: u64 = counts.iter().map(|c| c.0).sum();
    let puts: u64 = counts.iter().map(|c| c.1).sum();
    println!("MIX hits={hits} puts={puts}");
}

#[test]
fn concurrent_processes_see_only_whole_entries() {
    let t = TempDir::new("concurrent");
    let procs: Vec<_> = (1..=4)
        .map(|id| {
            must(
                child("mixer", &format!("{} {id}", t.path().display())).spawn(),
                "spawn mixer",
            )
        })
        .collect();
    let (mut hits, mut puts) = (0u64, 0u64);
    for p in procs {
        let out = must(p.wait_with_output(), "wait mixer");
        assert!(out.status.success(), "mixer failed:\n{}", output_text(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        // The harness may have printed "test child_role ... " on the same line.
        let line = text
            .lines()
            .find_map(|l| l.split_once("MIX ").map(|x| x.1))
            .unwrap_or_else(|| panic!("no counts:\n{text}"));
        for part in line.split(' ') {
            match part.split_once('=') {
                Some(("hits", n)) => hits += n.parse::<u64>().unwrap_or(0),
                Some(("puts", n)) => puts += n.parse::<u64>().unwrap_or(0),
                _ => {}
            }
        }
    }
    assert!(
        hits > 0 && puts > 0,
        "hits={hits} puts={puts}: the processes did not overlap"
    );
    let cache = open(&t.path().join("cache"));
    for k in 0..MIX_KEYS {
        if let Lookup::Hit(e) = get(&cache, &key(&format!("mix {k}"))) {
            check_mix_hit(&cache, &e, k, &t.path().join("check"));
        }
    }
    assert!(temps_under(&t.path().join("cache")).is_empty());
}

// ---------------------------------------------------------------------------
// 5. Full disk

/// Unmounts on drop (also when a failed assertion unwinds).
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, size: &str) -> io::Result<Mount> {
        let target = CString::new(at.as_os_str().as_bytes())?;
        let opts = CString::new(format!("size={size},mode=0700"))?;
        // SAFETY: every pointer is a valid NUL-terminated string for the call.
        let rc = unsafe {
            libc::mount(
                c"tmpfs".as_ptr(),
                target.as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                opts.as_ptr().cast(),
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Mount(at.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        if let Ok(p) = CString::new(self.0.as_os_str().as_bytes()) {
            // SAFETY: p is a valid NUL-terminated path.
            unsafe { libc::umount2(p.as_ptr(), libc::MNT_DETACH) };
        }
    }
}

/// Appends to `path` until the file system is full.
fn fill(path: &Path) {
    let mut f = must(
        fs::OpenOptions::new().create(true).append(true).open(path),
        "open filler",
    );
    let chunk = vec![0xa5u8; 64 * 1024];
    loop {
        match f.write_all(&chunk) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => return,
            Err(e) => panic!("filling {}: {e}", path.display()),
        }
    }
}

fn diskfull_role(dir: &Path) {
    let mnt = dir.join("mnt");
    must(fs::create_dir_all(&mnt), "mkdir mnt");
    let _m = Mount::tmpfs(&mnt, "4m")
        .unwrap_or_else(|e| panic!("mount -t tmpfs -o size=4m tmpfs {}: {e}", mnt.display()));
    disk_full_scenario(dir, &mnt);
}

fn disk_full_scenario(outside: &Path, mnt: &Path) {
    let dir = mnt.join("cache");
    let cache = open(&dir);
    let src = outside.join("src");
    let a_content = bytes(11, 200_000);
    let a = write(&src, "a", &a_content);
    let ka = key("fits");
    let ea = must(
        cache.put(&ka, Mode::Full, &[("a", &a)], b"log a"),
        "put before the disk fills",
    );

    // Leave ~96 KiB: the first output fits, the second does not.
    let filler = mnt.join("filler");
    fill(&filler);
    let f = must(
        fs::OpenOptions::new().write(true).open(&filler),
        "open filler",
    );
    let len = must(f.metadata(), "stat filler").len();
    must(f.set_len(len.saturating_sub(96 * 1024)), "shrink filler");
    drop(f);
    let small = write(&src, "small", &bytes(12, 32 * 1024));
    let big_content = bytes(13, 1 << 20);
    let big = write(&src, "big", &big_content);
    let kb = key("does not fit");
    let err = match cache.put(
        &kb,
        Mode::Full,
        &[("small", &small), ("big", &big)],
        b"log b",
    ) {
        Ok(e) => panic!("put on a full disk succeeded: {e:?}"),
        Err(e) => e,
    };
    let big_blob = cache.blob_path(&Digest::of_bytes(&big_content));
    match &err {
        CacheError::DiskFull { path } => assert_eq!(path, &big_blob),
        other => panic!("want DiskFull, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!("disk full while writing {}", big_blob.display())
    );
    assert_eq!(get(&cache, &kb), Lookup::Miss(Miss::Absent));
    assert!(
        temps_under(&dir).is_empty(),
        "temporary files left: {:?}",
        temps_under(&dir)
    );
    assert_eq!(
        files_under(&dir.join("actions")),
        vec![cache.entry_path(&ka)]
    );

    // Completely full, with every blob already present: the entry itself cannot be
    // written. (A key in the same shard as `ka`, so no directory is needed.)
    fill(&filler);
    let shard = |k: &ActionKey| k.to_string()[..2].to_string();
    let kc = (0..10_000)
        .map(|i| key(&format!("entry only {i}")))
        .find(|k| shard(k) == shard(&ka))
        .unwrap_or_else(|| panic!("no key in shard {}", shard(&ka)));
    match cache.put(&kc, Mode::Full, &[("a", &a)], b"log a") {
        Err(CacheError::DiskFull { path }) => assert_eq!(path, cache.entry_path(&kc)),
        other => panic!("want DiskFull for the entry, got {other:?}"),
    }
    assert_eq!(get(&cache, &kc), Lookup::Miss(Miss::Absent));
    assert!(
        temps_under(&dir).is_empty(),
        "temporary files left: {:?}",
        temps_under(&dir)
    );

    // Reads still work on the full disk, from this handle and a new one.
    assert_eq!(hit(&cache, &ka), ea);
    let reopened = open(&dir);
    let e = hit(&reopened, &ka);
    let dest = outside.join("a.out");
    must(
        reopened.materialize(&e, "a", &dest),
        "materialize on a full disk",
    );
    assert!(must(fs::read(&dest), "read") == a_content);

    // Space back: the failed put now succeeds.
    must(fs::remove_file(&filler), "remove filler");
    must(
        cache.put(
            &kb,
            Mode::Full,
            &[("small", &small), ("big", &big)],
            b"log b",
        ),
        "put after freeing space",
    );
    hit(&cache, &kb);
}

#[test]
fn disk_full_put_fails_cleanly() {
    let t = TempDir::new("diskfull");
    // A private mount namespace: the tmpfs vanishes with the child, whatever happens.
    let mut c = Command::new("unshare");
    if !is_root() {
        c.args(["--user", "--map-root-user"]);
    }
    c.args(["--mount", "--propagation", "private"])
        .arg(must(std::env::current_exe(), "current_exe"));
    child_args(&mut c, "diskfull", &t.path().to_string_lossy());
    let why = match c.output() {
        Ok(o) if o.status.success() => return,
        Ok(o) if String::from_utf8_lossy(&o.stderr).contains(STARTED) => {
            panic!("disk-full scenario failed:\n{}", output_text(&o))
        }
        Ok(o) => output_text(&o),
        Err(e) => format!("cannot run unshare: {e}"),
    };
    // unshare could not give us a mount namespace. Root can still mount here.
    assert!(
        is_root(),
        "the disk-full test needs a small tmpfs: it runs as root or in a user+mount namespace \
         (`unshare --user --map-root-user --mount`), and this process is not root and unshare failed:\n{why}"
    );
    let mnt = t.path().join("mnt");
    must(fs::create_dir_all(&mnt), "mkdir mnt");
    let _m = Mount::tmpfs(&mnt, "4m").unwrap_or_else(|e| {
        panic!(
            "running as root but cannot mount a tmpfs on {} ({e}); unshare also failed:\n{why}",
            mnt.display()
        )
    });
    disk_full_scenario(t.path(), &mnt);
}

// ---------------------------------------------------------------------------
// 6. Ownership and permissions

#[test]
fn refuses_cache_dir_owned_by_another_user() {
    let t = TempDir::new("owner");
    let (dir, owner) = if is_root() {
        let d = t.path().join("theirs");
        must(fs::create_dir(&d), "mkdir");
        must(
            fs::set_permissions(&d, fs::Permissions::from_mode(0o700)),
            "chmod",
        );
        must(
            std::os::unix::fs::chown(&d, Some(65534), Some(65534)),
            "chown 65534",
        );
        (d, 65534)
    } else {
        // Not root: "/" belongs to root, not to us.
        (PathBuf::from("/"), 0)
    };
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    match Cache::open(&dir) {
        Err(e @ CacheError::NotOwner { .. }) => assert_eq!(
            e.to_string(),
            format!(
                "cache directory {} is owned by uid {owner}, not by the current user (uid {uid}); refusing to use it",
                dir.display()
            )
        ),
        other => panic!("want NotOwner, got {other:?}"),
    }
    if is_root() {
        assert!(
            files_under(&dir).is_empty(),
            "nothing may be created in a refused dir"
        );
    }
}

#[test]
fn refuses_world_writable_cache_dir() {
    let t = TempDir::new("perms");
    for mode in [0o777, 0o1777, 0o702] {
        let d = t.path().join(format!("open-{mode:o}"));
        must(fs::create_dir(&d), "mkdir");
        must(
            fs::set_permissions(&d, fs::Permissions::from_mode(mode)),
            "chmod",
        );
        match Cache::open(&d) {
            Err(e @ CacheError::WorldWritable { .. }) => assert_eq!(
                e.to_string(),
                format!(
                    "cache directory {} is world-writable (mode {mode:o}); refusing to use it",
                    d.display()
                )
            ),
            other => panic!("mode {mode:o}: want WorldWritable, got {other:?}"),
        }
        assert!(files_under(&d).is_empty());
    }
    // A new directory, and missing parents, are created private.
    let fresh = t.path().join("new").join("cache");
    open(&fresh);
    for d in [&fresh, &t.path().join("new")] {
        assert_eq!(
            must(fs::metadata(d), "stat").permissions().mode() & 0o7777,
            0o700,
            "{}",
            d.display()
        );
    }
    // A group-readable dir the user made is fine.
    let shared = t.path().join("shared");
    must(fs::create_dir(&shared), "mkdir");
    must(
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o750)),
        "chmod",
    );
    open(&shared);
}

// ---------------------------------------------------------------------------
// 7. The stat cache

/// Overwrites `path` with same-length `content` and puts its mtime back, as a
/// fast edit on a coarse-timestamp file system would look.
fn rewrite_keeping_size_and_mtime(path: &Path, content: &[u8]) {
    let before = must(fs::metadata(path), "stat");
    assert_eq!(before.len(), content.len() as u64);
    let mut f = must(fs::OpenOptions::new().write(true).open(path), "open");
    must(f.write_all(content), "rewrite");
    must(
        f.set_modified(must(before.modified(), "mtime")),
        "restore mtime",
    );
    drop(f);
    let after = must(fs::metadata(path), "stat");
    assert_eq!(
        (after.len(), after.modified().ok()),
        (before.len(), before.modified().ok())
    );
}

fn stats(hits: u64, hashed: u64) -> DigestStats {
    DigestStats { hits, hashed }
}

#[test]
fn digest_cache_skips_unchanged_settled_files() {
    let t = TempDir::new("statcache");
    let cache = open(&t.path().join("cache"));
    let v1 = b"package p // version 1\n";
    let v2 = b"package p // version 2\n";
    let f = write(&t.path().join("src"), "p.go", v1);
    // Let the file's timestamps age past the racy window.
    std::thread::sleep(RACY_WINDOW + Duration::from_millis(300));

    let dc = must(DigestCache::load(&cache), "load");
    assert_eq!(must(dc.digest(&f), "digest"), Digest::of_bytes(v1));
    assert_eq!(dc.stats(), stats(0, 1));
    assert_eq!(must(dc.digest(&f), "digest"), Digest::of_bytes(v1));
    assert_eq!(dc.stats(), stats(1, 1), "an unchanged file was read again");
    must(dc.save(), "save");

    // Persisted: a fresh load answers without reading the file at all.
    let dc = must(DigestCache::load(&cache), "reload");
    assert_eq!(must(dc.digest(&f), "digest"), Digest::of_bytes(v1));
    assert_eq!(dc.stats(), stats(1, 0));

    // Same size, same mtime, new bytes: the ctime moved, so the file is read.
    rewrite_keeping_size_and_mtime(&f, v2);
    assert_eq!(must(dc.digest(&f), "digest"), Digest::of_bytes(v2));
    assert_eq!(dc.stats(), stats(1, 1));
    // Just changed, so racy: not trusted yet, read again next time.
    assert_eq!(must(dc.digest(&f), "digest"), Digest::of_bytes(v2));
    assert_eq!(dc.stats(), stats(1, 2));

    // Replaced by another file (new inode): read.
    let g = write(&t.path().join("src"), "q.go", v1);
    must(fs::rename(&g, &f), "rename");
    assert_eq!(must(dc.digest(&f), "digest"), Digest::of_bytes(v1));
    assert_eq!(dc.stats(), stats(1, 3));
}

#[test]
fn digest_cache_rehashes_file_changed_within_the_same_second() {
    let t = TempDir::new("racy");
    let cache = open(&t.path().join("cache"));
    let f = write(&t.path().join("src"), "r.go", b"package r // aaaa\n");
    let dc = must(DigestCache::load(&cache), "load");
    assert_eq!(
        must(dc.digest(&f), "digest"),
        Digest::of_bytes(b"package r // aaaa\n")
    );
    // Edited right after hashing: same size, same mtime (as on a one-second
    // file system), different bytes.
    rewrite_keeping_size_and_mtime(&f, b"package r // bbbb\n");
    assert_eq!(
        must(dc.digest(&f), "digest"),
        Digest::of_bytes(b"package r // bbbb\n")
    );
    assert_eq!(dc.stats(), stats(0, 2));
    // Racy stamps are never persisted either.
    must(dc.save(), "save");
    let dc = must(DigestCache::load(&cache), "reload");
    assert_eq!(
        must(dc.digest(&f), "digest"),
        Digest::of_bytes(b"package r // bbbb\n")
    );
    assert_eq!(dc.stats(), stats(0, 1));
    // A damaged stat-cache file is ignored.
    must(
        fs::write(cache.dir().join("stat-cache"), b"garbage"),
        "write garbage",
    );
    let dc = must(DigestCache::load(&cache), "load damaged");
    assert_eq!(
        must(dc.digest(&f), "digest"),
        Digest::of_bytes(b"package r // bbbb\n")
    );
    match dc.digest(&t.path().join("missing.go")) {
        Err(CacheError::ReadInput { path, .. }) => assert_eq!(path, t.path().join("missing.go")),
        other => panic!("want ReadInput, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// clean and trim

fn set_age(path: &Path, age: Duration) {
    let f = must(fs::File::open(path), "open");
    let when = SystemTime::now()
        .checked_sub(age)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    must(f.set_modified(when), "set mtime");
}

#[test]
fn clean_removes_everything_but_live_temporary_files() {
    let t = TempDir::new("clean");
    let (cache, k, e, content) = one_entry(&t);
    let shard = cache.blob_path(&e.outputs[0].digest);
    let shard = shard.parent().unwrap_or(Path::new("/"));
    let live = write(shard, ".tmp-1-2-3", b"a put in progress");
    let stale = write(shard, ".tmp-4-5-6", b"abandoned by a crash");
    set_age(&stale, Duration::from_secs(2 * 3600));
    must(
        fs::write(cache.dir().join("stat-cache"), b"x"),
        "write stat-cache",
    );

    must(cache.clean(), "clean");
    assert_eq!(get(&cache, &k), Lookup::Miss(Miss::Absent));
    let left = files_under(cache.dir());
    assert_eq!(left, vec![cache.dir().join("CACHEDIR.TAG"), live.clone()]);
    must(cache.clean(), "clean twice");
    // Still usable.
    let src = write(&t.path().join("src"), "o", &content);
    must(
        cache.put(&k, Mode::Full, &[("o", &src)], b"log"),
        "put after clean",
    );
    assert_eq!(hit(&cache, &k), e);
}

#[test]
fn trim_keeps_blobs_of_recent_entries() {
    let t = TempDir::new("trim");
    let cache = open(&t.path().join("cache"));
    let src = t.path().join("src");
    let (a, b, orphan) = (bytes(21, 3000), bytes(22, 4000), bytes(23, 5000));
    let (k1, k2) = (key("recent"), key("old"));
    let e1 = must(
        cache.put(&k1, Mode::Full, &[("a", &write(&src, "a", &a))], b"ok"),
        "put",
    );
    let e2 = must(
        cache.put(&k2, Mode::Full, &[("b", &write(&src, "b", &b))], b"ok"),
        "put",
    );
    let k3 = key("orphan maker");
    let e3 = must(
        cache.put(&k3, Mode::Full, &[("c", &write(&src, "c", &orphan))], b"ok"),
        "put",
    );
    must(fs::remove_file(cache.entry_path(&k3)), "drop entry");
    let stale = write(
        &t.path().join("cache").join("blobs"),
        ".tmp-9-9-9",
        b"crash",
    );
    let e2_len = must(fs::metadata(cache.entry_path(&k2)), "stat entry").len();
    let hour = Duration::from_secs(3600);
    for p in files_under(&t.path().join("cache").join("blobs"))
        .iter()
        .chain([&cache.entry_path(&k2)])
    {
        set_age(p, 2 * hour);
    }
    let r = must(
        cache.trim(&gob::cache::TrimPolicy {
            max_age: hour,
            max_bytes: None,
        }),
        "trim",
    );
    assert_eq!(
        (r.entries_removed, r.blobs_removed, r.temps_removed),
        (1, 2, 1),
        "{r:?}"
    );
    assert_eq!(r.bytes_freed, 4000 + 5000 + 5 + e2_len);
    assert_eq!(hit(&cache, &k1), e1);
    assert_eq!(get(&cache, &k2), Lookup::Miss(Miss::Absent));
    assert!(!cache.blob_path(&e2.outputs[0].digest).exists());
    assert!(!cache.blob_path(&e3.outputs[0].digest).exists());
    assert!(!stale.exists());
    assert!(
        cache.blob_path(&e1.log_digest).exists(),
        "the shared log blob is still used by k1"
    );
}

/// The verified-blob set persisted by one process lets the next skip re-hashing
/// untouched blobs, but never hides a blob that was written to since: the write
/// changes the blob's ctime, so its stamp no longer matches and it is re-hashed.
#[test]
fn persisted_verification_never_hides_a_later_corruption() {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cache-verified-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    let dir = root.join("cache");
    let content = bytes(7, 100_000);
    let out = write(&root.join("src"), "out.a", &content);
    let k = key("persisted");
    {
        let c = open(&dir);
        must(
            c.put(&k, Mode::Full, &[("out.a", out.as_path())], b""),
            "put",
        );
        // Let the blob's timestamps settle past the racy window, then verify and persist.
        std::thread::sleep(gob::cache::RACY_WINDOW + Duration::from_millis(200));
        let e = hit(&c, &k);
        assert_eq!(e.outputs[0].size, content.len() as u64);
        must(c.save_verified(), "save verified set");
    }
    // A second "process" trusts the untouched blob.
    let c = open(&dir);
    let e = hit(&c, &k);
    let blob = c.blob_path(&e.outputs[0].digest);
    drop(c);
    // Flip one byte in place (same size): the next open must catch it.
    let mut perms = fs::metadata(&blob).unwrap().permissions();
    perms.set_mode(0o644);
    fs::set_permissions(&blob, perms).unwrap();
    let mut data = fs::read(&blob).unwrap();
    data[500] ^= 0x40;
    fs::write(&blob, &data).unwrap();
    let c = open(&dir);
    match get(&c, &k) {
        Lookup::Miss(Miss::Corrupt { .. }) => {}
        other => panic!("a corrupted blob must be a Corrupt miss, got {other:?}"),
    }
    let _ = fs::remove_dir_all(&root);
}

// ---------------------------------------------------------------------------
// Issue #13: modes, non-regular files, copies from descriptors, install
// hashing, trimming (library level); store failures and rebuilds (gob binary).

/// Runs `f` on a thread and fails the test if it has not returned within
/// `secs` (a FIFO in a blob's place used to block an open forever).
fn within<T: Send + 'static>(secs: u64, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(_) => panic!("{what} did not return within {secs} s (blocked on a FIFO?)"),
    }
}

/// Issue #13 item 3: an entry made in a weaker sandbox mode (Landlock alone
/// lets a daemon swap an output) is never served to a stronger lookup; a
/// weaker lookup may reuse a stronger entry, and the stronger run's store
/// replaces the weak entry. Old code: no mode in the entry, a hit for all.
#[test]
fn entries_serve_only_lookups_of_modes_at_most_as_strong() {
    let t = TempDir::new("modes");
    let cache = open(&t.path().join("cache"));
    let src = write(t.path(), "o", b"made under landlock");
    let k = key("modes");
    let weak = must(cache.put(&k, Mode::Landlock, &[("o", &src)], b""), "put");
    let lookup = |m| must(cache.get(&k, m), "get");
    for m in [Mode::Full, Mode::Namespaces] {
        assert_eq!(
            lookup(m),
            Lookup::Miss(Miss::Weaker {
                produced: Mode::Landlock,
                wanted: m
            })
        );
    }
    assert_eq!(
        lookup(Mode::Landlock).hit().map(|e| e.mode),
        Some(Mode::Landlock)
    );
    assert_eq!(lookup(Mode::None), Lookup::Hit(weak));
    must(cache.put(&k, Mode::Full, &[("o", &src)], b""), "put full");
    for m in [Mode::Full, Mode::Namespaces, Mode::Landlock, Mode::None] {
        assert_eq!(lookup(m).hit().map(|e| e.mode), Some(Mode::Full), "{m:?}");
    }
}

/// Issue #13 item 19: a FIFO, a link to itself, a link to another file or a
/// directory in a blob's or an entry's place is a miss that is removed, and
/// the next store heals it. Old code: the FIFO blocked `get` forever; a
/// self-link or a directory failed every later `put`.
#[test]
fn non_regular_blobs_and_entries_are_misses_that_heal() {
    type Plant = fn(&Path);
    let plants: [(&str, Plant); 4] = [
        ("fifo", |p| {
            let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap_or_default();
            // SAFETY: a NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
        }),
        ("self-link", |p| {
            must(std::os::unix::fs::symlink(p, p), "symlink");
        }),
        ("link-elsewhere", |p| {
            let other = p.with_file_name("elsewhere");
            must(fs::write(&other, b"secret"), "write");
            must(std::os::unix::fs::symlink(&other, p), "symlink");
        }),
        ("directory", |p| {
            must(fs::create_dir_all(p.join("sub")), "mkdir");
            must(fs::write(p.join("sub/f"), b"x"), "write");
        }),
    ];
    for (what, plant) in plants {
        for in_entry in [false, true] {
            let t = TempDir::new("nonregular");
            let (cache, k, e, content) = one_entry(&t);
            let victim = if in_entry {
                cache.entry_path(&k)
            } else {
                cache.blob_path(&e.outputs[0].digest)
            };
            must(fs::remove_file(&victim), "remove");
            plant(&victim);
            let case = format!("{what} as the {}", if in_entry { "entry" } else { "blob" });
            let dir = t.path().join("cache");
            let (l, dir) = within(20, &case, move || {
                let c = open(&dir);
                (get(&c, &k), dir)
            });
            match l {
                Lookup::Miss(Miss::Corrupt { path, .. }) => assert_eq!(path, victim, "{case}"),
                other => panic!("{case}: want a corrupt miss, got {other:?}"),
            }
            let cache = open(&dir);
            // Removed (or replaced below): never left to fail the next store.
            let src = write(&t.path().join("again"), "o", &content);
            must(cache.put(&k, Mode::Full, &[("o", &src)], b"log"), &case);
            let back = hit(&cache, &k);
            let out = t.path().join("out");
            must(fs::create_dir_all(&out), "mkdir");
            must(cache.materialize(&back, "o", &out.join("o")), &case);
            assert_eq!(must(fs::read(out.join("o")), "read"), content, "{case}");
        }
    }
}

/// Issue #13 item 19: `materialize` of a FIFO blob is a corrupt miss, not a hang.
#[test]
fn materialize_of_a_fifo_blob_is_a_miss() {
    let t = TempDir::new("fifomat");
    let (cache, _, e, _) = one_entry(&t);
    let blob = cache.blob_path(&e.outputs[0].digest);
    must(fs::remove_file(&blob), "remove");
    let c = std::ffi::CString::new(blob.as_os_str().as_encoded_bytes()).unwrap_or_default();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    let dir = t.path().join("cache");
    let dest = t.path().join("dest");
    let r = within(20, "materialize", move || {
        open(&dir)
            .materialize(&e, "o", &dest)
            .map_err(|e| e.is_miss())
    });
    assert_eq!(r, Err(true));
    assert!(fs::symlink_metadata(&blob).is_err(), "the FIFO is removed");
}

/// Issue #13 item 3: the store copies from the descriptor the runner checked
/// and digested, not from the path: a link swapped in afterwards (by a
/// process that outlived its tool) cannot put another file's bytes in the
/// cache, and bytes that no longer match the collected digest are refused.
#[test]
fn put_files_copies_from_the_descriptor_never_the_path() {
    let t = TempDir::new("fdput");
    let cache = open(&t.path().join("cache"));
    let out = write(t.path(), "_pkg_.a", b"the tool's output");
    let secret = write(t.path(), "secret", b"root-only secret bytes");
    let file = must(fs::File::open(&out), "open output");
    let d = Digest::of_bytes(b"the tool's output");
    // The swap: the name now leads to the secret.
    must(fs::remove_file(&out), "remove");
    must(std::os::unix::fs::symlink(&secret, &out), "symlink");
    let k = key("fdput");
    let src = gob::cache::OutputSource {
        name: "_pkg_.a",
        file: &file,
        path: &out,
        known: Some((d, 17)),
        executable: false,
    };
    let e = must(cache.put_files(&k, Mode::Full, &[src], b""), "put_files");
    assert_eq!(e.outputs[0].digest, d);
    let stored = must(fs::read(cache.blob_path(&d)), "read blob");
    assert_eq!(stored, b"the tool's output");
    // A digest the descriptor's bytes do not have: refused, nothing stored.
    let k2 = key("fdput-changed");
    let wrong = Digest::of_bytes(b"what was collected");
    let src = gob::cache::OutputSource {
        known: Some((wrong, 17)),
        ..src
    };
    match cache.put_files(&k2, Mode::Full, &[src], b"") {
        Err(CacheError::OutputChanged { path }) => assert_eq!(path, out),
        other => panic!("want OutputChanged, got {other:?}"),
    }
    assert!(!cache.blob_path(&wrong).exists());
    assert_eq!(get(&cache, &k2), Lookup::Miss(Miss::Absent));
}

/// Issue #13 item 17: installing a result hashes every byte it copies, so a
/// blob whose bytes changed under a trusted stat stamp is caught there: a
/// miss (`Corrupt`), the blob removed, nothing at the destination.
#[test]
fn install_hashes_what_it_copies() {
    let t = TempDir::new("install");
    let (cache, k, e, content) = one_entry(&t);
    let o = &e.outputs[0];
    let blob = cache.blob_path(&o.digest);
    let dest = t.path().join("bin/out");
    must(fs::create_dir_all(t.path().join("bin")), "mkdir");
    must(
        cache.install(&blob, &o.digest, o.size, 0o755, &dest),
        "install",
    );
    assert_eq!(must(fs::read(&dest), "read"), content);
    assert_eq!(
        must(fs::metadata(&dest), "stat").permissions().mode() & 0o777,
        0o755
    );
    must(fs::remove_file(&dest), "rm");
    flip(&blob, 4242);
    match cache.install(&blob, &o.digest, o.size, 0o755, &dest) {
        Err(e @ CacheError::Corrupt { .. }) => assert!(e.is_miss()),
        other => panic!("want Corrupt, got {other:?}"),
    }
    assert!(!blob.exists() && !dest.exists());
    assert!(matches!(
        get(&cache, &k),
        Lookup::Miss(Miss::MissingBlob { .. })
    ));
    // A fresh output (not a blob) that no longer has its digest: OutputChanged.
    let work = write(t.path(), "work-out", b"changed after collection");
    match cache.install(&work, &o.digest, o.size, 0o644, &dest) {
        Err(CacheError::OutputChanged { path }) => assert_eq!(path, work),
        other => panic!("want OutputChanged, got {other:?}"),
    }
}

/// Issue #13 item 20: `trim_if_due` trims like go (entries unused for five
/// days, at most once a day, the time in trim.txt) and removes abandoned
/// temporary files; with a size cap, the least recently used entries go
/// until the cache fits. Old code: nothing ever trimmed from a build.
#[test]
fn trim_if_due_removes_old_entries_once_a_day_and_honours_a_cap() {
    let t = TempDir::new("trimdue");
    let dir = t.path().join("cache");
    let cache = open(&dir);
    let day = Duration::from_secs(24 * 3600);
    let mut entries = Vec::new();
    for (i, age_days) in [7u64, 3, 2, 1].into_iter().enumerate() {
        let k = key(&format!("trim{i}"));
        let src = write(
            &t.path().join("src"),
            &format!("o{i}"),
            &bytes(i as u64, 100_000),
        );
        let e = must(cache.put(&k, Mode::Full, &[("o", &src)], b""), "put");
        let age = day * age_days as u32;
        set_age(&cache.entry_path(&k), age);
        set_age(&cache.blob_path(&e.outputs[0].digest), age);
        entries.push((k, e));
    }
    let stale_blob_tmp = write(&dir.join("blobs").join("ab"), ".tmp-1-2-3", b"abandoned");
    let stale_root_tmp = write(&dir, ".tmp-verified-99", b"abandoned");
    let live_tmp = write(&dir.join("blobs").join("ab"), ".tmp-4-5-6", b"in progress");
    set_age(&stale_blob_tmp, 3 * Duration::from_secs(3600));
    set_age(&stale_root_tmp, 3 * Duration::from_secs(3600));
    let r = must(cache.trim_if_due(None), "trim").unwrap_or_else(|| panic!("first trim not due"));
    assert_eq!(
        (r.entries_removed, r.blobs_removed, r.temps_removed),
        (1, 1, 2),
        "{r:?}"
    );
    assert_eq!(get(&cache, &entries[0].0), Lookup::Miss(Miss::Absent));
    for (k, e) in &entries[1..] {
        assert_eq!(&hit(&cache, k), e);
    }
    assert!(!stale_blob_tmp.exists() && !stale_root_tmp.exists() && live_tmp.exists());
    let stamp = must(fs::read_to_string(dir.join("trim.txt")), "trim.txt");
    assert!(stamp.trim().parse::<u64>().is_ok(), "{stamp:?}");
    // Not due again within the day, even with old entries around.
    set_age(&cache.entry_path(&entries[1].0), 6 * day);
    assert_eq!(must(cache.trim_if_due(None), "trim"), None);
    assert!(cache.entry_path(&entries[1].0).exists());
    // A cap: due hourly; the least recently used go until it fits (each
    // entry holds ~100 kB; 250 kB keeps the two newest).
    must(fs::write(dir.join("trim.txt"), "0\n"), "rewind trim.txt");
    set_age(&cache.entry_path(&entries[1].0), 3 * day);
    let r = must(cache.trim_if_due(Some(250_000)), "trim")
        .unwrap_or_else(|| panic!("capped trim not due"));
    assert_eq!((r.entries_removed, r.blobs_removed), (1, 1), "{r:?}");
    assert_eq!(get(&cache, &entries[1].0), Lookup::Miss(Miss::Absent));
    assert_eq!(&hit(&cache, &entries[2].0), &entries[2].1);
    assert_eq!(&hit(&cache, &entries[3].0), &entries[3].1);
}

#[test]
fn cache_size_caps_parse() {
    use gob::cache::parse_size;
    assert_eq!(parse_size(""), Some(None));
    assert_eq!(parse_size("0"), Some(None));
    assert_eq!(parse_size("1000"), Some(Some(1000)));
    assert_eq!(parse_size("10G"), Some(Some(10 << 30)));
    assert_eq!(parse_size("512MiB"), Some(Some(512 << 20)));
    assert_eq!(parse_size("2kb"), Some(Some(2048)));
    assert_eq!(parse_size("ten"), None);
    assert_eq!(parse_size("-1"), None);
    assert_eq!(parse_size("99999999999T"), None);
}

/// Copies the files of fixture `name` into `dest`.
fn copy_fixture(name: &str, dest: &Path) {
    must(fs::create_dir_all(dest), "mkdir");
    let from = common::repo_root().join("fixtures").join(name);
    for ent in must(fs::read_dir(&from), "read fixture") {
        let p = must(ent, "fixture entry").path();
        if p.is_file() {
            if let Some(n) = p.file_name() {
                must(fs::copy(&p, dest.join(n)), "copy fixture");
            }
        }
    }
}

/// Runs gob with `args` in `dir`; the output, which must be a success.
fn gob_ok(area: &Area, dir: &Path, args: &[&str]) -> Output {
    let o = area.run(&common::gob_binary(), dir, args, "amd64");
    assert!(o.status.success(), "gob {args:?} failed:\n{}", text(&o));
    o
}

/// The blob holding a built file's bytes.
fn blob_of(gobcache: &Path, file: &Path) -> PathBuf {
    let hex = Digest::of_bytes(&must(fs::read(file), "read built file")).to_string();
    gobcache.join("blobs").join(&hex[..2]).join(hex)
}

/// Writes `verified-blobs` claiming `blob` (digest `hex`) was verified with
/// its current stat stamp: what an earlier process records for a blob whose
/// bytes later rot without any stat change.
fn trust_current_stamp(gobcache: &Path, blob: &Path) {
    use std::os::unix::fs::MetadataExt;
    let m = must(fs::metadata(blob), "stat blob");
    let hex = blob.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let d = Digest::from_hex(hex).unwrap_or_else(|| panic!("not a blob name: {hex}"));
    let mut body = b"gob verified-blobs v1\n".to_vec();
    body.extend_from_slice(d.as_bytes());
    for v in [m.dev(), m.ino(), m.size(), m.mtime() as u64] {
        body.extend_from_slice(&v.to_le_bytes());
    }
    body.extend_from_slice(&(m.mtime_nsec() as u32).to_le_bytes());
    body.extend_from_slice(&(m.ctime() as u64).to_le_bytes());
    body.extend_from_slice(&(m.ctime_nsec() as u32).to_le_bytes());
    let sum = Digest::of_bytes(&body);
    body.extend_from_slice(sum.as_bytes());
    must(
        fs::write(gobcache.join("verified-blobs"), body),
        "write verified-blobs",
    );
}

/// Issue #13 items 19, 17 and 21 through `gob build`, on one warm cache:
/// - a corrupt final-binary blob with a no-op memo present rebuilds (old
///   code: "corrupt cache file", exit 1);
/// - a blob whose bytes rotted under a stamp an earlier process verified is
///   caught as it is installed, and the link runs again (old code: the rotten
///   binary was installed, exit 0);
/// - a read-only cache (a read-only bind mount) warns once, naming the cache,
///   and the build succeeds (old code: "storing outputs … in the cache", exit 1).
#[test]
fn gob_build_rebuilds_bad_blobs_and_survives_an_unwritable_cache() {
    let area = Area::new("cache-faults");
    let src = area.root.join("src");
    copy_fixture("hello", &src);
    let gobcache = area.root.join("gobcache");
    let bin = area.root.join("out").join("hello");
    let bin_arg = bin.to_string_lossy().into_owned();
    let build = ["build", "-v", "-o", bin_arg.as_str(), "."];
    // Stamps of just-copied files are racy: the memo is recorded by a later build.
    std::thread::sleep(RACY_WINDOW + Duration::from_millis(200));
    gob_ok(&area, &src, &build);
    let good = must(fs::read(&bin), "read binary");
    let memo_hit = |o: &Output| String::from_utf8_lossy(&o.stderr).contains("no-op memo");
    let o = gob_ok(&area, &src, &build);
    assert!(
        memo_hit(&o) || memo_hit(&gob_ok(&area, &src, &build)),
        "no memo: {}",
        text(&o)
    );

    // 1. The final binary's blob is damaged; the memo would restore from it.
    let blob = blob_of(&gobcache, &bin);
    flip(&blob, 1000);
    must(fs::remove_file(&bin), "rm binary");
    gob_ok(&area, &src, &build);
    assert!(
        must(fs::read(&bin), "read binary") == good,
        "memo restore: wrong binary"
    );

    // 2. Bit rot under a trusted stamp, no memo: caught as it is installed.
    let blob = blob_of(&gobcache, &bin);
    must(fs::remove_dir_all(gobcache.join("memo")), "rm memo");
    flip(&blob, 2000);
    trust_current_stamp(&gobcache, &blob);
    must(fs::remove_file(&bin), "rm binary");
    let o = gob_ok(&area, &src, &build);
    assert!(
        must(fs::read(&bin), "read binary") == good,
        "a rotten blob was installed:\n{}",
        text(&o)
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("1 ran"),
        "{}",
        text(&o)
    );

    // 3. A read-only cache: the edited package and the link run, their
    //    stores fail, one warning, the build succeeds.
    let main_go = src.join("main.go");
    let mut code = must(fs::read_to_string(&main_go), "read main.go");
    code.push_str("\n// edited\n");
    must(fs::write(&main_go, code), "edit main.go");
    let gc = gobcache.to_string_lossy().into_owned();
    let o = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(
            "mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\" && shift && exec \"$@\"",
        )
        .arg("sh")
        .arg(&gc)
        .arg(common::gob_binary())
        .args(build)
        .current_dir(&src)
        .env_clear()
        .envs(area.env("amd64"))
        .output();
    let o = must(o, "run unshare");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        o.status.success(),
        "read-only cache failed the build:\n{}",
        text(&o)
    );
    let warning = format!("gob: warning: the build cache {gc} could not store results");
    assert_eq!(err.matches(&warning).count(), 1, "{err}");
    assert!(err.contains("Read-only file system"), "{err}");
    let ran = must(Command::new(&bin).output(), "run binary");
    assert_eq!(String::from_utf8_lossy(&ran.stdout), "hello\n");
}

/// Issue #13 item 3 through `gob build`: a package built in landlock mode is
/// built again in namespaces mode (old code: served from the landlock
/// entry); the namespaces entry then serves landlock and none.
#[test]
fn gob_build_reuses_entries_only_from_modes_at_least_as_strong() {
    let area = Area::new("cache-modes");
    let m = area.root.join("src");
    must(fs::create_dir_all(m.join("lib")), "mkdir");
    must(
        fs::write(m.join("go.mod"), "module example.com/m\n\ngo 1.27\n"),
        "go.mod",
    );
    must(
        fs::write(
            m.join("lib/lib.go"),
            "package lib\n\nfunc F() int { return 1 }\n",
        ),
        "lib.go",
    );
    let ran = |mode: &str| -> String {
        let flag = format!("--sandbox={mode}");
        let o = gob_ok(&area, &m, &["build", "-v", &flag, "./lib"]);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        err.lines()
            .find(|l| l.contains(" actions: "))
            .map(|l| l.split(" actions: ").nth(1).unwrap_or("").to_string())
            .unwrap_or_else(|| panic!("no summary:\n{err}"))
    };
    assert!(ran("landlock").starts_with("1 ran"), "cold");
    assert_eq!(
        ran("namespaces"),
        "1 ran, 0 cached",
        "a landlock entry served namespaces"
    );
    assert!(
        ran("landlock").starts_with("0 ran"),
        "namespaces entry not reused by landlock"
    );
    assert!(
        ran("none").starts_with("0 ran"),
        "namespaces entry not reused by none"
    );
    assert!(ran("namespaces").starts_with("0 ran"));
}
