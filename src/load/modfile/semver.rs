//! Semantic versions (`golang.org/x/mod/semver`) and `module.CanonicalVersion`.

#[derive(Default)]
pub(super) struct Semver<'a> {
    major: &'a str,
    short: &'static str,
    pub(super) build: &'a str,
}

pub(super) fn parse_semver(v: &str) -> Option<Semver<'_>> {
    let b = v.as_bytes();
    if b.first() != Some(&b'v') {
        return None;
    }
    fn int(b: &[u8], i: usize) -> Option<usize> {
        let mut j = i;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == i || (b[i] == b'0' && j - i > 1) {
            return None;
        }
        Some(j)
    }
    let mut p = Semver::default();
    let j = int(b, 1)?;
    p.major = &v[1..j];
    if j == b.len() {
        p.short = ".0.0";
        return Some(p);
    }
    if b[j] != b'.' {
        return None;
    }
    let k = int(b, j + 1)?;
    if k == b.len() {
        p.short = ".0";
        return Some(p);
    }
    if b[k] != b'.' {
        return None;
    }
    let mut i = int(b, k + 1)?;
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'-';
    if i < b.len() && b[i] == b'-' {
        // prerelease
        i += 1;
        let mut start = i;
        while i < b.len() && b[i] != b'+' {
            if !ident(b[i]) && b[i] != b'.' {
                return None;
            }
            if b[i] == b'.' {
                if start == i || bad_num(&b[start..i]) {
                    return None;
                }
                start = i + 1;
            }
            i += 1;
        }
        if start == i || bad_num(&b[start..i]) {
            return None;
        }
    }
    if i < b.len() && b[i] == b'+' {
        let bstart = i;
        i += 1;
        let mut start = i;
        while i < b.len() {
            if !ident(b[i]) && b[i] != b'.' {
                return None;
            }
            if b[i] == b'.' {
                if start == i {
                    return None;
                }
                start = i + 1;
            }
            i += 1;
        }
        if start == i {
            return None;
        }
        p.build = &v[bstart..];
    }
    if i != b.len() {
        return None;
    }
    Some(p)
}

fn bad_num(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_digit) && s.len() > 1 && s[0] == b'0'
}

/// `semver.IsValid`.
pub fn is_valid_semver(v: &str) -> bool {
    parse_semver(v).is_some()
}

/// `semver.Major` (e.g. `v2`), or "" if invalid.
pub fn semver_major(v: &str) -> String {
    parse_semver(v).map_or(String::new(), |p| format!("v{}", p.major))
}

/// `module.CanonicalVersion`: `semver.Canonical` keeping `+incompatible`; "" if invalid.
pub fn canonical_version(v: &str) -> String {
    let Some(p) = parse_semver(v) else {
        return String::new();
    };
    let mut cv = if !p.build.is_empty() {
        v[..v.len() - p.build.len()].to_string()
    } else {
        format!("{v}{}", p.short)
    };
    if p.build == "+incompatible" {
        cv.push_str("+incompatible");
    }
    cv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_versions() {
        assert_eq!(canonical_version("v1.2"), "v1.2.0");
        assert_eq!(canonical_version("v1"), "v1.0.0");
        assert_eq!(canonical_version("v1.2.3+meta"), "v1.2.3");
        assert_eq!(
            canonical_version("v2.0.0+incompatible"),
            "v2.0.0+incompatible"
        );
        assert_eq!(canonical_version("v1.2-pre"), "");
        assert_eq!(canonical_version("v01.2.3"), "");
        assert_eq!(canonical_version("v1.2.3-01"), "");
        assert!(is_valid_semver("v1.2.3-0.2020"));
    }
}
