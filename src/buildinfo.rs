//! Reading the build info the Go linker embeds in a binary, as Go's
//! `debug/buildinfo` reads it: the file's format from its first bytes (ELF,
//! PE, Mach-O and fat Mach-O, XCOFF, Plan 9), the data that holds the
//! `\xff Go buildinf:` header (ELF `.go.buildinfo`, Mach-O `__go_buildinfo`,
//! PE's first initialized read-write section, XCOFF and Plan 9 data), the
//! header found at a 16-byte boundary, then the Go version and the module
//! text (inline since Go 1.18, through pointers before).
//!
//! Only the few header fields that locate that data are parsed: gob needs no
//! general object-file library for this. A file go does not recognize (a
//! WebAssembly module among them: go has no reader for it) is
//! [`BuildInfoError::Unrecognized`], with go's words.

use std::path::{Path, PathBuf};

/// Why a file's build info cannot be read; the texts are `debug/buildinfo`'s.
#[derive(Debug, thiserror::Error)]
pub enum BuildInfoError {
    /// Reading the file failed (`could not read Go build info: open x: ...`).
    #[error("could not read Go build info: {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not an executable format Go knows.
    #[error("could not read Go build info from {}: unrecognized file format", .0.display())]
    Unrecognized(PathBuf),
    /// An executable without Go build info.
    #[error("could not read Go build info from {}: not a Go executable", .0.display())]
    NotGo(PathBuf),
}

/// A binary's embedded build info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInfo {
    /// `go1.27.3`.
    pub go_version: String,
    /// `runtime/debug.BuildInfo.String()` as the linker got it (without the
    /// sentinels around it); empty when the binary has none.
    pub modinfo: String,
}

/// Reads the build info of the file at `path`.
pub fn read_file(path: &Path) -> Result<BuildInfo, BuildInfoError> {
    let data = std::fs::read(path).map_err(|source| BuildInfoError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read(&data).map_err(|e| match e {
        Fail::Unrecognized => BuildInfoError::Unrecognized(path.to_path_buf()),
        Fail::NotGo => BuildInfoError::NotGo(path.to_path_buf()),
    })
}

/// Why [`read`] failed (go's `errUnrecognizedFormat`, `errNotGoExe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fail {
    Unrecognized,
    NotGo,
}

const MAGIC: &[u8] = b"\xff Go buildinf:";
const ALIGN: u64 = 16;
const HEADER_SIZE: u64 = 32;

/// One mapping of addresses to file bytes: `[addr, addr+size)` is the file
/// at `offset`.
#[derive(Debug, Clone, Copy)]
struct Span {
    addr: u64,
    size: u64,
    offset: u64,
}

/// A parsed executable: where the build info is looked for, and how
/// addresses map to file bytes (searched in order, as go's `DataReader`).
struct Exe {
    data: Option<(u64, u64)>,
    spans: Vec<Span>,
    big_endian: bool,
}

impl Exe {
    /// The file bytes from `addr` to the end of its span, at most `n`.
    fn at<'a>(&self, file: &'a [u8], addr: u64, n: u64) -> Result<&'a [u8], Fail> {
        let s = self
            .spans
            .iter()
            .find(|s| s.size > 0 && s.addr <= addr && addr <= s.addr + (s.size - 1))
            .ok_or(Fail::Unrecognized)?;
        let start = s.offset + (addr - s.addr);
        let end = (s.offset + s.size).min(start.saturating_add(n));
        let len = file.len() as u64;
        Ok(&file[start.min(len) as usize..end.min(len) as usize])
    }
}

/// Reads the build info from a whole file's bytes (go's `readRawBuildInfo`).
fn read(file: &[u8]) -> Result<BuildInfo, Fail> {
    if file.len() < 16 {
        return Err(Fail::Unrecognized);
    }
    let exe = parse(file).ok_or(Fail::Unrecognized)?;
    let (start, size) = match exe.data {
        Some((a, s)) if s > 0 => (a, s),
        _ => return Err(Fail::NotGo),
    };
    let addr = search_magic(&exe, file, start, size)?;
    let header = exe.at(file, addr, HEADER_SIZE)?;
    if (header.len() as u64) < HEADER_SIZE {
        return Err(Fail::NotGo);
    }
    let flags = header[15];
    let (go_version, modinfo) = if flags & 2 == 2 {
        let (v, next) = decode_string(&exe, file, addr + HEADER_SIZE)?;
        let (m, _) = decode_string(&exe, file, next)?;
        (v, m)
    } else {
        let ptr_size = header[14] as usize;
        if ptr_size != 4 && ptr_size != 8 {
            return Err(Fail::NotGo);
        }
        let big = flags & 1 == 1;
        let ptr = |b: &[u8]| read_uint(&b[..ptr_size], big);
        (
            read_string(&exe, file, ptr_size, ptr(&header[16..])),
            read_string(&exe, file, ptr_size, ptr(&header[16 + ptr_size..])),
        )
    };
    if go_version.is_empty() {
        return Err(Fail::NotGo);
    }
    // The module text is framed by two 16-byte sentinels.
    let m = &modinfo;
    let modinfo = if m.len() >= 33 && m[m.len() - 17] == b'\n' {
        String::from_utf8_lossy(&m[16..m.len() - 16]).into_owned()
    } else {
        String::new()
    };
    Ok(BuildInfo {
        go_version: String::from_utf8_lossy(&go_version).into_owned(),
        modinfo,
    })
}

fn search_magic(exe: &Exe, file: &[u8], start: u64, size: u64) -> Result<u64, Fail> {
    let end = start.checked_add(size).ok_or(Fail::Unrecognized)?;
    let mut at = start.div_ceil(ALIGN) * ALIGN;
    while at < end {
        let chunk = exe.at(file, at, (end - at).min(1 << 20))?;
        if chunk.is_empty() {
            return Err(Fail::NotGo);
        }
        let mut i = 0;
        while let Some(j) = find(&chunk[i..], MAGIC) {
            let k = (i + j) as u64;
            if end - at - k < HEADER_SIZE {
                return Err(Fail::NotGo);
            }
            if k % ALIGN == 0 {
                return Ok(at + k);
            }
            i = (k.div_ceil(ALIGN) * ALIGN) as usize;
            if i > chunk.len() {
                return Err(Fail::NotGo);
            }
        }
        at += chunk.len() as u64;
    }
    Err(Fail::NotGo)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A uvarint-prefixed string at `addr`, and the address after it.
fn decode_string(exe: &Exe, file: &[u8], addr: u64) -> Result<(Vec<u8>, u64), Fail> {
    let b = exe.at(file, addr, 10)?;
    let (mut len, mut shift, mut n) = (0u64, 0u32, 0usize);
    loop {
        let Some(&c) = b.get(n) else {
            return Err(Fail::NotGo);
        };
        n += 1;
        if shift >= 64 {
            return Err(Fail::NotGo);
        }
        len |= u64::from(c & 0x7f) << shift;
        if c & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let addr = addr + n as u64;
    let s = exe.at(file, addr, len)?;
    if (s.len() as u64) < len {
        return Err(Fail::NotGo);
    }
    Ok((s.to_vec(), addr + len))
}

/// A Go string header (pointer, length) at `addr` and its bytes; empty when
/// either cannot be read (go's `readString`).
fn read_string(exe: &Exe, file: &[u8], ptr_size: usize, addr: u64) -> Vec<u8> {
    let Ok(h) = exe.at(file, addr, 2 * ptr_size as u64) else {
        return Vec::new();
    };
    if h.len() < 2 * ptr_size {
        return Vec::new();
    }
    let data = read_uint(&h[..ptr_size], exe.big_endian);
    let len = read_uint(&h[ptr_size..2 * ptr_size], exe.big_endian);
    match exe.at(file, data, len) {
        Ok(s) if s.len() as u64 == len => s.to_vec(),
        _ => Vec::new(),
    }
}

fn read_uint(b: &[u8], big: bool) -> u64 {
    let mut v = 0u64;
    if big {
        for &c in b {
            v = v << 8 | u64::from(c);
        }
    } else {
        for &c in b.iter().rev() {
            v = v << 8 | u64::from(c);
        }
    }
    v
}

/// Fixed-width reads at file offsets; `None` past the end.
struct Bytes<'a> {
    b: &'a [u8],
    big: bool,
}

impl Bytes<'_> {
    fn uint(&self, off: u64, n: usize) -> Option<u64> {
        let off = usize::try_from(off).ok()?;
        let s = self.b.get(off..off.checked_add(n)?)?;
        Some(read_uint(s, self.big))
    }
    fn u16(&self, off: u64) -> Option<u64> {
        self.uint(off, 2)
    }
    fn u32(&self, off: u64) -> Option<u64> {
        self.uint(off, 4)
    }
    /// A 4- or 8-byte word.
    fn word(&self, off: u64, wide: bool) -> Option<u64> {
        self.uint(off, if wide { 8 } else { 4 })
    }
    /// A NUL-padded name of at most `n` bytes.
    fn name(&self, off: u64, n: usize) -> Option<&[u8]> {
        let off = usize::try_from(off).ok()?;
        let s = self.b.get(off..off.checked_add(n)?)?;
        Some(&s[..s.iter().position(|&c| c == 0).unwrap_or(n)])
    }
}

/// The executable formats go's reader recognizes, by their first bytes.
fn parse(file: &[u8]) -> Option<Exe> {
    let id = &file[..16];
    if id.starts_with(b"\x7fELF") {
        elf(file)
    } else if id.starts_with(b"MZ") {
        pe(file)
    } else if id.starts_with(b"\xfe\xed\xfa") || id[1..].starts_with(b"\xfa\xed\xfe") {
        macho(file, 0)
    } else if id.starts_with(b"\xca\xfe\xba\xbe") || id.starts_with(b"\xca\xfe\xba\xbf") {
        // A fat file: the first architecture's image.
        let b = Bytes { b: file, big: true };
        let wide = id[3] == 0xbf;
        if b.u32(4)? == 0 {
            return None;
        }
        let off = if wide {
            b.word(8 + 8, true)?
        } else {
            b.u32(8 + 8)?
        };
        macho(file, off)
    } else if id.starts_with(&[0x01, 0xdf]) || id.starts_with(&[0x01, 0xf7]) {
        xcoff(file)
    } else if matches!(
        read_uint(&id[..4], true),
        0x0000_01eb | 0x0000_8a97 | 0x0000_0647
    ) {
        plan9(file)
    } else {
        None
    }
}

fn elf(file: &[u8]) -> Option<Exe> {
    let wide = match file[4] {
        1 => false,
        2 => true,
        _ => return None,
    };
    let big = match file[5] {
        1 => false,
        2 => true,
        _ => return None,
    };
    let b = Bytes { b: file, big };
    let (phoff, shoff, rest) = if wide {
        (b.word(0x20, true)?, b.word(0x28, true)?, 0x36)
    } else {
        (b.word(0x1c, false)?, b.word(0x20, false)?, 0x2a)
    };
    let phentsize = b.u16(rest)?;
    let phnum = b.u16(rest + 2)?;
    let shentsize = b.u16(rest + 4)?;
    let shnum = b.u16(rest + 6)?;
    let shstrndx = b.u16(rest + 8)?;
    let mut spans = Vec::new();
    for i in 0..phnum {
        let p = phoff + i * phentsize;
        spans.push(if wide {
            Span {
                offset: b.word(p + 8, true)?,
                addr: b.word(p + 16, true)?,
                size: b.word(p + 32, true)?,
            }
        } else {
            Span {
                offset: b.u32(p + 4)?,
                addr: b.u32(p + 8)?,
                size: b.u32(p + 16)?,
            }
        });
    }
    // Section headers: name, addr, size.
    let section = |i: u64| -> Option<(u64, u64, u64, u64)> {
        let s = shoff + i * shentsize;
        Some(if wide {
            (
                b.u32(s)?,
                b.word(s + 16, true)?,
                b.word(s + 24, true)?,
                b.word(s + 32, true)?,
            )
        } else {
            (b.u32(s)?, b.u32(s + 12)?, b.u32(s + 16)?, b.u32(s + 20)?)
        })
    };
    let mut data = None;
    if shnum > 0 && shstrndx < shnum {
        let (_, _, stroff, _) = section(shstrndx)?;
        for i in 0..shnum {
            let (name, addr, _, size) = section(i)?;
            if b.name(stroff + name, 14) == Some(b".go.buildinfo")
                && b.uint(stroff + name + 13, 1) == Some(0)
            {
                data = Some((addr, size));
                break;
            }
        }
    }
    Some(Exe {
        data,
        spans,
        big_endian: big,
    })
}

fn pe(file: &[u8]) -> Option<Exe> {
    let b = Bytes {
        b: file,
        big: false,
    };
    let pe = b.u32(0x3c)?;
    if b.name(pe, 4)? != b"PE" {
        return None;
    }
    let coff = pe + 4;
    let nsections = b.u16(coff + 2)?;
    let opt_size = b.u16(coff + 16)?;
    let opt = coff + 20;
    let image_base = match (opt_size, b.u16(opt)) {
        (0, _) => 0,
        (_, Some(0x10b)) => b.u32(opt + 28)?,
        (_, Some(0x20b)) => b.word(opt + 24, true)?,
        _ => return None,
    };
    let mut spans = Vec::new();
    let mut data = None;
    for i in 0..nsections {
        let s = opt + opt_size + i * 40;
        let vsize = b.u32(s + 8)?;
        let vaddr = b.u32(s + 12)?;
        let raw_size = b.u32(s + 16)?;
        let raw_off = b.u32(s + 20)?;
        let chars = b.u32(s + 36)?;
        spans.push(Span {
            addr: vaddr + image_base,
            size: raw_size,
            offset: raw_off,
        });
        // IMAGE_SCN_CNT_INITIALIZED_DATA | MEM_READ | MEM_WRITE, any 32-byte alignment bits.
        if data.is_none() && vaddr != 0 && raw_size != 0 && chars & !0x60_0000 == 0xc000_0040 {
            data = Some((vaddr + image_base, vsize));
        }
    }
    Some(Exe {
        data,
        spans,
        big_endian: false,
    })
}

fn macho(file: &[u8], base: u64) -> Option<Exe> {
    let le = Bytes {
        b: file,
        big: false,
    };
    let magic = le.u32(base)?;
    let (big, wide) = match magic {
        0xfeed_face => (false, false),
        0xfeed_facf => (false, true),
        0xcefa_edfe => (true, false),
        0xcffa_edfe => (true, true),
        _ => return None,
    };
    let b = Bytes { b: file, big };
    let ncmds = b.u32(base + 16)?;
    let mut at = base + if wide { 32 } else { 28 };
    let mut spans = Vec::new();
    let mut data = None;
    for _ in 0..ncmds {
        let cmd = b.u32(at)?;
        let size = b.u32(at + 4)?;
        if size < 8 {
            return None;
        }
        let seg64 = cmd == 0x19;
        if cmd == 0x1 || seg64 {
            let w = |o: u64| b.word(at + o, seg64);
            let (addr, fileoff, filesize, nsects, sects) = if seg64 {
                (w(24)?, w(40)?, w(48)?, b.u32(at + 64)?, at + 72)
            } else {
                (w(24)?, w(32)?, w(36)?, b.u32(at + 48)?, at + 56)
            };
            if b.name(at + 8, 16)? != b"__PAGEZERO" {
                spans.push(Span {
                    addr,
                    size: filesize,
                    offset: base + fileoff,
                });
            }
            let sect_size = if seg64 { 80 } else { 68 };
            for i in 0..nsects {
                let s = sects + i * sect_size;
                if data.is_none() && b.name(s, 16)? == b"__go_buildinfo" {
                    data = Some((
                        b.word(s + 32, seg64)?,
                        b.word(s + 32 + if seg64 { 8 } else { 4 }, seg64)?,
                    ));
                }
            }
        }
        at += size;
    }
    Some(Exe {
        data,
        spans,
        big_endian: big,
    })
}

fn xcoff(file: &[u8]) -> Option<Exe> {
    let b = Bytes { b: file, big: true };
    let wide = file[1] == 0xf7;
    let nsections = b.u16(2)?;
    let opt_size = b.u16(16)?;
    let first = if wide { 24 } else { 20 } + opt_size;
    let sect_size = if wide { 72 } else { 40 };
    let mut spans = Vec::new();
    let mut data = None;
    for i in 0..nsections {
        let s = first + i * sect_size;
        let (vaddr, size, offset, flags) = if wide {
            (
                b.word(s + 16, true)?,
                b.word(s + 24, true)?,
                b.word(s + 32, true)?,
                b.u32(s + 64)?,
            )
        } else {
            (
                b.u32(s + 12)?,
                b.u32(s + 16)?,
                b.u32(s + 20)?,
                b.u32(s + 36)?,
            )
        };
        spans.push(Span {
            addr: vaddr,
            size,
            offset,
        });
        // STYP_DATA.
        if data.is_none() && flags & 0xffff == 0x40 {
            data = Some((vaddr, size));
        }
    }
    Some(Exe {
        data,
        spans,
        big_endian: true,
    })
}

fn plan9(file: &[u8]) -> Option<Exe> {
    let b = Bytes { b: file, big: true };
    let magic = b.u32(0)?;
    let text = b.u32(4)?;
    let data = b.u32(8)?;
    // HDR_MAGIC: a 64-bit entry point follows the header.
    let header = if magic & 0x8000 != 0 { 40 } else { 32 };
    let text_span = Span {
        addr: header,
        size: text,
        offset: header,
    };
    let data_span = Span {
        addr: header + text,
        size: data,
        offset: header + text,
    };
    Some(Exe {
        data: Some((data_span.offset, data_span.size)),
        spans: vec![text_span, data_span],
        big_endian: true,
    })
}

/// A module line of the build info (`runtime/debug.Module`), in its JSON field order.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Module {
    /// Module path.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Version.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// go.sum hash.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sum: String,
    /// Its replacement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replace: Option<Box<Module>>,
}

/// One `build` line (`runtime/debug.BuildSetting`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Setting {
    /// The key (`-ldflags`, `GOOS`, …).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// The value.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub value: String,
}

/// `runtime/debug.BuildInfo` as `go version -m -json` prints it: this
/// struct's field order is encoding/json's output order.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parsed {
    /// `go1.27.3`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub go_version: String,
    /// The main package's path.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// The main module.
    pub main: Module,
    /// The dependencies.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deps: Vec<Module>,
    /// The build settings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub settings: Vec<Setting>,
}

/// Why the module text cannot be parsed (`runtime/debug.ParseBuildInfo`'s words).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("could not parse Go build info: line {line}: {why}")]
pub struct ParseError {
    /// 1-based.
    pub line: usize,
    /// What is wrong.
    pub why: &'static str,
}

impl BuildInfo {
    /// The module text parsed as `runtime/debug.ParseBuildInfo` parses it.
    pub fn parse(&self) -> Result<Parsed, ParseError> {
        let mut bi = Parsed {
            go_version: self.go_version.clone(),
            ..Parsed::default()
        };
        // Which module a `=>` line replaces: 0 none, 1 main, 2 the last dep.
        let mut last = 0;
        let module = |cols: &str, line| -> Result<Module, ParseError> {
            let e: Vec<&str> = cols.split('\t').collect();
            if e.len() != 2 && e.len() != 3 {
                return Err(ParseError {
                    line,
                    why: "expected 2 or 3 columns",
                });
            }
            Ok(Module {
                path: e[0].into(),
                version: e[1].into(),
                sum: e.get(2).copied().unwrap_or("").into(),
                replace: None,
            })
        };
        // Only complete lines count, as in go.
        let text = &self.modinfo[..self.modinfo.rfind('\n').map_or(0, |i| i + 1)];
        for (i, l) in text.lines().enumerate() {
            let n = i + 1;
            if let Some(p) = l.strip_prefix("path\t") {
                bi.path = p.into();
            } else if let Some(m) = l.strip_prefix("mod\t") {
                bi.main = module(m, n)?;
                last = 1;
            } else if let Some(m) = l.strip_prefix("dep\t") {
                bi.deps.push(module(m, n)?);
                last = 2;
            } else if let Some(r) = l.strip_prefix("=>\t") {
                let e: Vec<&str> = r.split('\t').collect();
                if e.len() != 3 {
                    return Err(ParseError {
                        line: n,
                        why: "expected 3 columns for replacement",
                    });
                }
                let rep = Some(Box::new(Module {
                    path: e[0].into(),
                    version: e[1].into(),
                    sum: e[2].into(),
                    replace: None,
                }));
                match last {
                    1 => bi.main.replace = rep,
                    2 => bi.deps.last_mut().expect("a dep").replace = rep,
                    _ => {
                        return Err(ParseError {
                            line: n,
                            why: "replacement with no module on previous line",
                        })
                    }
                }
                last = 0;
            } else if let Some(kv) = l.strip_prefix("build\t") {
                let bad = |why| ParseError { line: n, why };
                let (key, rest) = quoted_prefix(kv, Some('=')).ok_or(bad("invalid build line"))?;
                if key.is_empty() {
                    return Err(bad("build line with missing key"));
                }
                let rest = rest
                    .strip_prefix('=')
                    .ok_or(bad("build line missing '='"))?;
                let (value, tail) =
                    quoted_prefix(rest, None).ok_or(bad("invalid quoted value in build line"))?;
                if !tail.is_empty() {
                    return Err(bad("unexpected data after quoted value in build line"));
                }
                bi.settings.push(Setting { key, value });
            }
        }
        Ok(bi)
    }
}

/// A build line's key (up to `stop`) or value: a Go quoted string (`"…"`,
/// read as JSON, which strconv.Quote's output is for printable text) or a
/// raw one (`` `…` ``), else the plain text; and what follows.
fn quoted_prefix(s: &str, stop: Option<char>) -> Option<(String, &str)> {
    match s.chars().next() {
        Some('`') => {
            let end = s[1..].find('`')? + 1;
            Some((s[1..end].to_string(), &s[end + 1..]))
        }
        Some('"') => {
            let mut escaped = false;
            let end = s[1..].char_indices().find_map(|(i, c)| {
                let close = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                close.then_some(i + 1)
            })?;
            let v: String = serde_json::from_str(&s[..=end]).ok()?;
            Some((v, &s[end + 1..]))
        }
        _ => match stop {
            Some(c) => {
                let i = s.find(c)?;
                Some((s[..i].to_string(), &s[i..]))
            }
            None => Some((s.to_string(), "")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unrecognized_and_not_go() {
        assert_eq!(
            read(b"#!/bin/sh\necho hello world\n").err(),
            Some(Fail::Unrecognized)
        );
        assert_eq!(
            read(b"\0asm\x01\0\0\0\0\0\0\0\0\0\0\0").err(),
            Some(Fail::Unrecognized)
        );
        // The host's own gob test binary: an ELF file, but no Go in it.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(read(&me).err(), Some(Fail::NotGo));
    }

    #[test]
    fn go_binary_of_the_pinned_toolchain() {
        let go = crate::testutil::go_binary();
        let bi = read_file(&go).unwrap();
        assert_eq!(bi.go_version, "go1.27.3");
        assert!(bi.modinfo.starts_with("path\tcmd/go\n"), "{}", bi.modinfo);
        let p = bi.parse().unwrap();
        assert_eq!(p.path, "cmd/go");
        assert!(p
            .settings
            .iter()
            .any(|s| s.key == "GOOS" && s.value == "linux"));
    }

    #[test]
    fn build_lines_as_go_parses_them() {
        let bi = BuildInfo {
            go_version: "go1.27.3".into(),
            modinfo: "path\tx\nmod\tx\t(devel)\t\ndep\ty\tv1.0.0\th1:a=\n=>\tz\tv1.1.0\th1:b=\n\
                      build\t-ldflags=\"-X main.v=1 -s\"\nbuild\tGOOS=linux\nbuild\t\"a b\"=c\n"
                .into(),
        };
        let p = bi.parse().unwrap();
        assert_eq!(p.deps[0].replace.as_ref().unwrap().path, "z");
        assert_eq!(p.settings[0].value, "-X main.v=1 -s");
        assert_eq!(p.settings[2].key, "a b");
    }
}
