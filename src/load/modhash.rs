//! The `h1:` module hash (golang.org/x/mod/sumdb/dirhash Hash1) for go.sum verification.
//!
//! `h1:` = base64(sha256(concat over sorted file names `N` of
//! `hex(sha256(contents(N))) + "  " + N + "\n"`)), where names are
//! `<module path>@<version>/<slash path>` for module trees and `go.mod` for go.mod sums.

use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::files::{Files, Kind};

/// Errors while hashing a module tree.
#[derive(Debug, thiserror::Error)]
pub enum ModHashError {
    /// Reading a file or directory failed.
    #[error("{op} {}: {source}", .path.display())]
    Io {
        /// `lstat`, `open`, `read` or `readdir`.
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The root is not a directory (a symlink to a directory counts as not a directory).
    #[error("{} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// Hash1 refuses names containing a newline.
    #[error("dirhash: filenames with newlines are not supported")]
    NewlineInName,
    /// A file name that is not valid UTF-8.
    #[error("file name is not valid UTF-8: {}", .0.display())]
    NonUtf8Name(PathBuf),
}

fn io_err<'a>(
    op: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> ModHashError + 'a {
    move |source| ModHashError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// `dirhash.Hash1` over named contents. Names are sorted (bytewise) first.
pub fn hash1<I, N>(files: I) -> Result<String, ModHashError>
where
    I: IntoIterator<Item = (N, Vec<u8>)>,
    N: Into<String>,
{
    let mut v: Vec<(String, Vec<u8>)> = files.into_iter().map(|(n, d)| (n.into(), d)).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    let mut summary = String::new();
    for (name, data) in &v {
        if name.contains('\n') {
            return Err(ModHashError::NewlineInName);
        }
        summary.push_str(&hex(&Sha256::digest(data)));
        summary.push_str("  ");
        summary.push_str(name);
        summary.push('\n');
    }
    Ok(finish(summary.as_bytes()))
}

fn finish(summary: &[u8]) -> String {
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(summary))
    )
}

fn hex(b: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(D[(x >> 4) as usize] as char);
        s.push(D[(x & 15) as usize] as char);
    }
    s
}

/// The go.mod hash recorded as `path version/go.mod h1:…` in go.sum
/// (Hash1 over the single file name `go.mod`).
pub fn hash_go_mod(data: &[u8]) -> String {
    let summary = format!("{}  go.mod\n", hex(&Sha256::digest(data)));
    finish(summary.as_bytes())
}

/// Lists files like `dirhash.DirFiles`: every non-directory entry under `dir`
/// (symlinks and other irregular files included, not followed; directory
/// symlinks are not descended into), named `prefix/rel` with `/` separators.
/// Nothing is skipped: not `.git`, not nested modules, not hidden files.
pub fn dir_files(
    files: &Files,
    dir: &Path,
    prefix: &str,
) -> Result<Vec<(String, PathBuf)>, ModHashError> {
    if files.lstat(dir).map_err(io_err("lstat", dir))? != Kind::Dir {
        return Err(ModHashError::NotADirectory(dir.to_path_buf()));
    }
    let mut out = Vec::new();
    walk(files, dir, "", prefix, &mut out)?;
    Ok(out)
}

fn walk(
    files: &Files,
    dir: &Path,
    rel: &str,
    prefix: &str,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), ModHashError> {
    let mut entries: Vec<(String, PathBuf, bool)> = Vec::new();
    for e in files.read_dir(dir).map_err(io_err("readdir", dir))? {
        let e = e.map_err(io_err("readdir", dir))?;
        let p = e.path;
        let name = e
            .name
            .into_string()
            .map_err(|_| ModHashError::NonUtf8Name(p.clone()))?;
        let kind = files.lstat(&p).map_err(io_err("lstat", &p))?;
        entries.push((name, p, kind == Kind::Dir));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, p, is_dir) in entries {
        let r = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if is_dir {
            walk(files, &p, &r, prefix, out)?;
        } else {
            out.push((clean_join(prefix, &r), p));
        }
    }
    Ok(())
}

/// `filepath.ToSlash(filepath.Join(prefix, rel))` for slash paths.
fn clean_join(prefix: &str, rel: &str) -> String {
    let joined = if prefix.is_empty() {
        rel.to_string()
    } else {
        format!("{prefix}/{rel}")
    };
    clean_slash_path(&joined)
}

/// Lexical `path.Clean`.
pub fn clean_slash_path(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for e in p.split('/') {
        match e {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            e => out.push(e),
        }
    }
    let s = out.join("/");
    match (rooted, s.is_empty()) {
        (true, _) => format!("/{s}"),
        (false, true) => ".".into(),
        (false, false) => s,
    }
}

/// `dirhash.HashDir(dir, prefix, Hash1)`: the `h1:` hash of an extracted module
/// tree, with `prefix` = `"<module path>@<version>"`. Equals the go.sum hash of
/// the module zip when `dir` holds exactly the zip's contents.
pub fn hash_dir(files: &Files, dir: &Path, prefix: &str) -> Result<String, ModHashError> {
    let mut summary = String::new();
    let mut sorted = dir_files(files, dir, prefix)?;
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, path) in &sorted {
        if name.contains('\n') {
            return Err(ModHashError::NewlineInName);
        }
        let mut f = files.open(path).map_err(io_err("open", path))?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = f.read(&mut buf).map_err(io_err("read", path))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        summary.push_str(&hex(&h.finalize()));
        summary.push_str("  ");
        summary.push_str(name);
        summary.push('\n');
    }
    Ok(finish(summary.as_bytes()))
}

/// Reads the `.ziphash` the go command stores beside a downloaded zip
/// (`$GOMODCACHE/cache/download/<esc path>/@v/<esc version>.ziphash`), trimmed.
/// `Ok(None)` if it does not exist.
pub fn read_ziphash(files: &Files, ziphash_file: &Path) -> Result<Option<String>, ModHashError> {
    match files.read(ziphash_file) {
        Ok(d) => Ok(Some(String::from_utf8_lossy(&d).trim().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("open", ziphash_file)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::modfile::{download_cache_file, module_cache_dir, parse_go_sum};
    use std::fs;
    use std::process::Command;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn temp_dir(tag: &str) -> PathBuf {
        static N: AtomicUsize = AtomicUsize::new(0);
        let d = std::env::temp_dir().join(format!(
            "gob-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn go_mod_hash_known_values() {
        // The empty go.mod hash that go drops from go.sum.
        assert_eq!(
            hash_go_mod(b""),
            "h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY="
        );
        assert_eq!(
            hash_go_mod(b"module x\n"),
            hash1([("go.mod", b"module x\n".to_vec())]).unwrap()
        );
        assert!(hash1([("a\nb", Vec::new())]).is_err());
        assert_eq!(clean_slash_path("a@v1/./b//c"), "a@v1/b/c");
        assert_eq!(clean_slash_path("../a/.."), "..");
    }

    fn crc32(data: &[u8]) -> u32 {
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

    /// A minimal stored (uncompressed) zip writer.
    fn write_zip(path: &Path, files: &[(String, Vec<u8>)]) {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data) in files {
            let off = out.len() as u32;
            let crc = crc32(data);
            let le16 = |v: &mut Vec<u8>, x: u16| v.extend_from_slice(&x.to_le_bytes());
            let le32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
            le32(&mut out, 0x0403_4b50);
            for x in [20u16, 0, 0, 0, 0x21] {
                le16(&mut out, x);
            }
            le32(&mut out, crc);
            le32(&mut out, data.len() as u32);
            le32(&mut out, data.len() as u32);
            le16(&mut out, name.len() as u16);
            le16(&mut out, 0);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            le32(&mut central, 0x0201_4b50);
            for x in [20u16, 20, 0, 0, 0, 0x21] {
                le16(&mut central, x);
            }
            le32(&mut central, crc);
            le32(&mut central, data.len() as u32);
            le32(&mut central, data.len() as u32);
            le16(&mut central, name.len() as u16);
            for x in [0u16, 0, 0, 0] {
                le16(&mut central, x);
            }
            le32(&mut central, 0);
            le32(&mut central, off);
            central.extend_from_slice(name.as_bytes());
        }
        let cd_off = out.len() as u32;
        let cd_len = central.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&(files.len() as u16).to_le_bytes());
        out.extend_from_slice(&(files.len() as u16).to_le_bytes());
        out.extend_from_slice(&cd_len.to_le_bytes());
        out.extend_from_slice(&cd_off.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        fs::write(path, out).unwrap();
    }

    fn json_field(json: &str, key: &str) -> Option<String> {
        let pat = format!("\"{key}\": \"");
        let i = json.find(&pat)? + pat.len();
        let j = json[i..].find('"')?;
        Some(json[i..i + j].to_string())
    }

    #[test]
    fn oracle_hash_matches_go_mod_download() {
        let go = crate::testutil::go_binary();
        let root = temp_dir("modhash-oracle");
        let proxy = root.join("proxy");
        let cache = root.join("modcache");
        let work = root.join("work");
        fs::create_dir_all(&work).unwrap();
        type Mod = (&'static str, &'static str, Vec<(&'static str, Vec<u8>)>);
        let mods: Vec<Mod> = vec![
            (
                "example.com/Upper/Mod",
                "v1.0.0",
                vec![
                    (
                        "go.mod",
                        b"module example.com/Upper/Mod\n\ngo 1.21\n".to_vec(),
                    ),
                    ("a.go", b"package mod\n".to_vec()),
                    ("sub/B.txt", b"hello\n".to_vec()),
                    (".hidden", b"h".to_vec()),
                    ("_x/empty", Vec::new()),
                    ("bin.dat", (0..=255u8).collect()),
                ],
            ),
            (
                "example.com/simple/v2",
                "v2.3.4-Pre.1",
                vec![
                    ("go.mod", b"module example.com/simple/v2\n".to_vec()),
                    ("z.go", b"package simple\n".to_vec()),
                    ("A/b/c.go", b"package c\n".to_vec()),
                    ("LICENSE", b"MIT\n".to_vec()),
                ],
            ),
            (
                "example.com/nomod",
                "v0.1.0",
                vec![("x.go", b"package nomod\n".to_vec())],
            ),
        ];
        for (path, ver, files) in &mods {
            let ep = crate::load::modfile::escape_module_path(path).unwrap();
            let ev = crate::load::modfile::escape_version(ver).unwrap();
            let dir = proxy.join(&ep).join("@v");
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("list"), format!("{ver}\n")).unwrap();
            fs::write(
                dir.join(format!("{ev}.info")),
                format!("{{\"Version\":\"{ver}\",\"Time\":\"2020-01-01T00:00:00Z\"}}"),
            )
            .unwrap();
            let gomod = files
                .iter()
                .find(|f| f.0 == "go.mod")
                .map(|f| f.1.clone())
                .unwrap_or_else(|| format!("module {path}\n").into_bytes());
            fs::write(dir.join(format!("{ev}.mod")), &gomod).unwrap();
            let zfiles: Vec<(String, Vec<u8>)> = files
                .iter()
                .map(|(n, d)| (format!("{path}@{ver}/{n}"), d.clone()))
                .collect();
            write_zip(&dir.join(format!("{ev}.zip")), &zfiles);

            let out = Command::new(&go)
                .current_dir(&work)
                .args(["mod", "download", "-json", &format!("{path}@{ver}")])
                .env("GOPROXY", format!("file://{}", proxy.display()))
                .env("GOMODCACHE", &cache)
                .env("GOFLAGS", "-mod=mod")
                .env("GONOSUMDB", "*")
                .env("GOSUMDB", "off")
                .env("GOTOOLCHAIN", "local")
                .env("GO111MODULE", "on")
                .env("GOWORK", "off")
                .env("GOENV", "off")
                .env("GOCACHE", root.join("gocache"))
                .output()
                .unwrap();
            let json = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(
                out.status.success(),
                "{json}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let sum = json_field(&json, "Sum").unwrap();
            let gomod_sum = json_field(&json, "GoModSum").unwrap();
            let dir_reported = json_field(&json, "Dir").unwrap();

            let mdir = module_cache_dir(&cache, path, ver).unwrap();
            assert_eq!(Path::new(&dir_reported), mdir, "cache layout for {path}");
            assert_eq!(
                hash_dir(&Files::new(), &mdir, &format!("{path}@{ver}")).unwrap(),
                sum,
                "{path}"
            );
            assert_eq!(hash_go_mod(&gomod), gomod_sum, "{path} go.mod");
            let zh = download_cache_file(&cache, path, ver, "ziphash").unwrap();
            assert_eq!(
                read_ziphash(&Files::new(), &zh).unwrap().as_deref(),
                Some(sum.as_str())
            );
            let in_memory = hash1(
                files
                    .iter()
                    .map(|(n, d)| (format!("{path}@{ver}/{n}"), d.clone())),
            )
            .unwrap();
            assert_eq!(in_memory, sum);

            let gosum = format!("{path} {ver} {sum}\n{path} {ver}/go.mod {gomod_sum}\n");
            let gs = parse_go_sum(Path::new("go.sum"), gosum.as_bytes()).unwrap();
            assert_eq!(
                gs.lookup(path, ver),
                (Some(sum.as_str()), Some(gomod_sum.as_str()))
            );
        }
        let _ = Command::new(&go)
            .args(["clean", "-modcache"])
            .env("GOMODCACHE", &cache)
            .env("GOENV", "off")
            .env("GOCACHE", root.join("gocache"))
            .output();
        let _ = fs::remove_dir_all(&root);
    }
}
