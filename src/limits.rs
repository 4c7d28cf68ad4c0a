//! Action limits: what every action may use, in go-like sizes and durations.
//!
//! The defaults are `gob_sandbox::Limits::default()` (their reasons are in
//! sandbox/README.md, "Limits"); `--action-timeout`, `--action-memory`,
//! `--action-disk` and `--action-output` replace one each, for every command
//! that runs actions (build, audit, replay).

use std::time::Duration;

/// A limit given on the command line, before it is applied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LimitFlags {
    /// `--action-timeout`: wall time (`off`: none).
    pub timeout: Option<String>,
    /// `--action-memory`: address space.
    pub memory: Option<String>,
    /// `--action-disk`: each file, `/tmp`, and the action's directory in total.
    pub disk: Option<String>,
    /// `--action-output`: captured stdout, and stderr, each.
    pub output: Option<String>,
}

impl LimitFlags {
    /// The limits: the defaults with each given flag applied. Errors name the flag.
    pub fn limits(&self) -> Result<gob_sandbox::Limits, String> {
        let mut l = gob_sandbox::Limits::default();
        let size = |flag: &str, v: &Option<String>, slot: &mut Option<u64>| -> Result<(), String> {
            if let Some(v) = v {
                *slot = parse_size(v).map_err(|e| format!("--{flag}={v}: {e}"))?;
            }
            Ok(())
        };
        size("action-memory", &self.memory, &mut l.memory)?;
        size("action-disk", &self.disk, &mut l.disk_bytes)?;
        size("action-output", &self.output, &mut l.output_bytes)?;
        if let Some(v) = &self.timeout {
            l.wall = parse_duration(v).map_err(|e| format!("--action-timeout={v}: {e}"))?;
        }
        Ok(l)
    }
}

/// A size as Go writes them (`GOMEMLIMIT`): a whole number of bytes with an
/// optional unit `B`, `KiB`, `MiB`, `GiB` or `TiB` (`512MiB`, `4GiB`); `off`
/// for no limit. Zero is refused (nothing could run).
pub fn parse_size(s: &str) -> Result<Option<u64>, String> {
    if s == "off" {
        return Ok(None);
    }
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let shift = match unit {
        "" | "B" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        "TiB" => 40,
        _ => {
            return Err(format!(
                "unknown unit {unit:?}: use B, KiB, MiB, GiB or TiB (e.g. 512MiB), or off"
            ))
        }
    };
    let n: u64 = num
        .parse()
        .map_err(|_| "not a size: write a whole number and a unit, e.g. 512MiB".to_string())?;
    if n == 0 {
        return Err("must be more than 0 (or off for no limit)".into());
    }
    n.checked_mul(1 << shift)
        .map(Some)
        .ok_or_else(|| "too large".to_string())
}

/// A duration as Go's `time.ParseDuration` writes them: numbers (decimals
/// allowed) each with a unit `ms`, `s`, `m` or `h` (`30s`, `1m30s`, `1.5h`);
/// `off` for no limit. Zero is refused.
pub fn parse_duration(s: &str) -> Result<Option<Duration>, String> {
    if s == "off" {
        return Ok(None);
    }
    let bad =
        || "not a duration: write e.g. 30s, 10m, 1h30m (units ms, s, m, h), or off".to_string();
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let n_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let n: f64 = rest[..n_end].parse().map_err(|_| bad())?;
        rest = &rest[n_end..];
        let u_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let secs = match &rest[..u_end] {
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        rest = &rest[u_end..];
        total += n * secs;
    }
    if total <= 0.0 {
        return Err("must be more than 0 (or off for no limit)".into());
    }
    Duration::try_from_secs_f64(total)
        .map(Some)
        .map_err(|_| "too large".to_string())
}

/// A size in the unit a user would write (`64MiB`, `1GiB`, `1000B`).
pub fn show_size(n: u64) -> String {
    for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if n >= 1 << shift && n % (1 << shift) == 0 {
            return format!("{}{unit}", n >> shift);
        }
    }
    format!("{n}B")
}

/// A duration as Go prints it (`1h0m0s` is shown `1h`, `90s` as `1m30s`).
pub fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 1000 != 0 {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_parse_like_go() {
        assert_eq!(parse_size("512MiB"), Ok(Some(512 << 20)));
        assert_eq!(parse_size("4GiB"), Ok(Some(4 << 30)));
        assert_eq!(parse_size("1000"), Ok(Some(1000)));
        assert_eq!(parse_size("off"), Ok(None));
        for bad in ["", "0", "4gb", "1.5GiB", "-1", "GiB", "99999999999TiB"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_duration("30s"), Ok(Some(Duration::from_secs(30))));
        assert_eq!(parse_duration("1h30m"), Ok(Some(Duration::from_secs(5400))));
        assert_eq!(parse_duration("1.5h"), Ok(Some(Duration::from_secs(5400))));
        assert_eq!(
            parse_duration("250ms"),
            Ok(Some(Duration::from_millis(250)))
        );
        for bad in ["", "0s", "10", "s", "1d", "1h-3m"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(show_size(64 << 20), "64MiB");
        assert_eq!(show_size(1500), "1500B");
        assert_eq!(show_duration(Duration::from_secs(3600)), "1h");
        assert_eq!(show_duration(Duration::from_secs(90)), "1m30s");
    }

    #[test]
    fn flags_replace_defaults_and_name_themselves() {
        let f = LimitFlags {
            timeout: Some("10m".into()),
            disk: Some("off".into()),
            ..Default::default()
        };
        let l = f.limits().unwrap();
        assert_eq!(l.wall, Some(Duration::from_secs(600)));
        assert_eq!(l.disk_bytes, None);
        assert_eq!(l.output_bytes, gob_sandbox::Limits::default().output_bytes);
        let e = LimitFlags {
            memory: Some("lots".into()),
            ..Default::default()
        }
        .limits()
        .unwrap_err();
        assert!(e.starts_with("--action-memory=lots: "), "{e}");
    }
}
