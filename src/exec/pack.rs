//! `pack r`: append object files to a Go archive, byte for byte as cmd/go's packInternal does.
//!
//! Go 1.27 ships no pack tool; cmd/go appends the assembler's objects itself.
//! Each member gets a 60-byte ar header (name padded or cut to 16 bytes, mtime,
//! uid and gid 0, mode 0644, size), and odd-sized members a padding byte.

use std::io::{self, Read, Write};
use std::path::PathBuf;

/// Writes the archive `base` followed by each member (its name, the host
/// file holding it) to `out`, streaming: memory stays a copy buffer
/// whatever the sizes (a crafted trace may name one large object thousands
/// of times). The runner calls this on a confined thread with declared
/// inputs only (`runner.rs`).
pub fn write_archive(
    out: &mut impl Write,
    mut base: impl Read,
    members: &[(String, PathBuf)],
) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    io::copy(&mut base, &mut out)?;
    for (name, obj) in members {
        let mut f = std::fs::File::open(obj)?;
        let size = f.metadata()?.len();
        out.write_all(&member_header(name, size))?;
        let n = io::copy(&mut (&mut f).take(size), &mut out)?;
        if n != size {
            return Err(io::Error::other(format!(
                "{}: {n} bytes read, {size} expected",
                obj.display()
            )));
        }
        if size % 2 == 1 {
            out.write_all(&[0])?;
        }
    }
    out.flush()
}

/// cmd/go's 60-byte member header: the name padded or cut to 16 bytes,
/// mtime, uid and gid 0, mode 0644, the size.
fn member_header(name: &str, size: u64) -> Vec<u8> {
    let mut n: Vec<u8> = name.as_bytes().iter().copied().take(16).collect();
    n.resize(16, b' ');
    let header = format!("{:<12}{:<6}{:<6}{:<8o}{:<10}`\n", 0, 0, 0, 0o644, size);
    n.extend_from_slice(header.as_bytes());
    n
}

/// Appends one member with cmd/go's header layout.
pub fn append_member(archive: &mut Vec<u8>, name: &str, content: &[u8]) {
    archive.extend_from_slice(&member_header(name, content.len() as u64));
    archive.extend_from_slice(content);
    if content.len() % 2 == 1 {
        archive.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_matches_cmd_go() {
        let mut a = b"!<arch>\n".to_vec();
        append_member(&mut a, "cpu_x86.o", b"abc");
        let h = &a[8..68];
        assert_eq!(&h[..16], b"cpu_x86.o       ");
        assert_eq!(&h[16..], b"0           0     0     644     3         `\n");
        assert_eq!(a.len(), 8 + 60 + 3 + 1, "odd sizes are padded");
        let mut b = Vec::new();
        append_member(&mut b, "a_very_long_object_name.o", b"");
        assert_eq!(&b[..16], b"a_very_long_obje");
    }
}
