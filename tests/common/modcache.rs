//! A Go module cache laid out by `go mod download` from a `file://` proxy built
//! out of `fixtures/modcache-src/<escaped path>@<version>/` (no network).
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::repo_root;

/// Builds the proxy under `root/proxy` and runs `go mod download` for
/// fixtures/modcache with `env` (which must set GOMODCACHE), checking that the
/// committed go.sum is what go computes.
pub fn populate(go: &Path, root: &Path, env: &[(String, String)]) {
    let src = repo_root().join("fixtures").join("modcache-src");
    let proxy = root.join("proxy");
    let mut versions = Vec::new();
    collect_module_dirs(&src, &src, &mut versions);
    assert!(
        !versions.is_empty(),
        "no <path>@<version> dirs under {}",
        src.display()
    );
    for (dir, escaped, version) in &versions {
        let path = unescape_module_path(escaped);
        let at_v = proxy.join(escaped).join("@v");
        fs::create_dir_all(&at_v).unwrap();
        let list = at_v.join("list");
        let mut listed = fs::read_to_string(&list).unwrap_or_default();
        listed.push_str(&format!("{version}\n"));
        fs::write(&list, listed).unwrap();
        fs::write(
            at_v.join(format!("{version}.info")),
            format!("{{\"Version\":\"{version}\",\"Time\":\"2024-01-01T00:00:00Z\"}}\n"),
        )
        .unwrap();
        fs::copy(dir.join("go.mod"), at_v.join(format!("{version}.mod"))).unwrap();
        let mut files = Vec::new();
        collect_files(dir, dir, &mut files);
        files.sort();
        let entries: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|rel| {
                (
                    format!("{path}@{version}/{rel}"),
                    fs::read(dir.join(rel)).unwrap(),
                )
            })
            .collect();
        fs::write(at_v.join(format!("{version}.zip")), stored_zip(&entries)).unwrap();
    }

    // `go mod download` in a temp copy so the repo is never written to.
    let fixture = repo_root().join("fixtures").join("modcache");
    let work = root.join("modcache-fixture");
    fs::create_dir_all(&work).unwrap();
    for f in ["go.mod", "go.sum"] {
        fs::copy(fixture.join(f), work.join(f)).unwrap_or_else(|e| panic!("copy {f}: {e}"));
    }
    let proxy_url = format!("file://{}", proxy.to_string_lossy());
    let mut cmd = Command::new(go);
    cmd.args(["mod", "download"]).current_dir(&work).env_clear();
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.env("GOPROXY", &proxy_url).env("GOFLAGS", "-mod=mod");
    let out = cmd.output().expect("running go mod download");
    assert!(
        out.status.success(),
        "go mod download (GOPROXY={proxy_url}) failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = fs::read_to_string(fixture.join("go.sum")).unwrap();
    let got = fs::read_to_string(work.join("go.sum")).unwrap();
    assert_eq!(
        got, want,
        "fixtures/modcache/go.sum is stale: go mod download wants the left side"
    );
}

/// Finds `<escaped path>@<version>` directories below `dir`.
fn collect_module_dirs(base: &Path, dir: &Path, out: &mut Vec<(PathBuf, String, String)>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if !p.is_dir() {
            continue;
        }
        let rel = p
            .strip_prefix(base)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        match rel.rsplit_once('@') {
            Some((escaped, version)) if !version.contains('/') => {
                out.push((p.clone(), escaped.to_string(), version.to_string()))
            }
            _ => collect_module_dirs(base, &p, out),
        }
    }
}

fn collect_files(base: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect_files(base, &p, out);
        } else {
            out.push(
                p.strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}

/// Module-cache case escaping reversed: `!x` is `X`.
pub fn unescape_module_path(escaped: &str) -> String {
    let mut out = String::new();
    let mut bang = false;
    for c in escaped.chars() {
        if bang {
            out.push(c.to_ascii_uppercase());
            bang = false;
        } else if c == '!' {
            bang = true;
        } else {
            out.push(c);
        }
    }
    out
}

pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A minimal zip archive with stored (uncompressed) entries.
pub fn stored_zip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let (time, date) = (0u16, (2024 - 1980) << 9 | 1 << 5 | 1); // 2024-01-01 00:00
    let mut out = Vec::new();
    let mut central = Vec::new();
    let u16le = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
    let u32le = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        u32le(&mut out, 0x0403_4b50);
        for x in [20, 0x0800, 0, time, date] {
            u16le(&mut out, x);
        }
        for x in [crc, data.len() as u32, data.len() as u32] {
            u32le(&mut out, x);
        }
        u16le(&mut out, name.len() as u16);
        u16le(&mut out, 0);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);

        u32le(&mut central, 0x0201_4b50);
        for x in [20, 20, 0x0800, 0, time, date] {
            u16le(&mut central, x);
        }
        for x in [crc, data.len() as u32, data.len() as u32] {
            u32le(&mut central, x);
        }
        for x in [name.len() as u16, 0, 0, 0, 0] {
            u16le(&mut central, x);
        }
        u32le(&mut central, 0o100644 << 16);
        u32le(&mut central, offset);
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    u32le(&mut out, 0x0605_4b50);
    for x in [0, 0, entries.len() as u16, entries.len() as u16] {
        u16le(&mut out, x);
    }
    u32le(&mut out, central.len() as u32);
    u32le(&mut out, cd_offset);
    u16le(&mut out, 0);
    out
}
