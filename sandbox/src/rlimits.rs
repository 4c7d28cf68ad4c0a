//! Resource limits: `Limits` turned into the setrlimit list the child applies.

use crate::Limits;

/// `(RLIMIT_*, value)` pairs, soft and hard limit alike. A limit above the
/// caller's own hard limit is clamped to it: the child could not raise it.
/// With a cgroup (`in_cgroup`), memory is its `memory.max` instead of
/// RLIMIT_AS: the Go runtime reserves far more address space than it
/// touches, so resident memory is the measure that bounds a tool fairly.
pub(crate) fn plan(l: &Limits, in_cgroup: bool) -> Vec<(i32, u64)> {
    let cpu = l
        .cpu
        .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
        .map(|s| s.max(1));
    let wanted = [
        (libc::RLIMIT_AS, l.memory.filter(|_| !in_cgroup)),
        (libc::RLIMIT_NPROC, l.processes),
        (libc::RLIMIT_FSIZE, l.disk_bytes),
        (libc::RLIMIT_CPU, cpu),
        (libc::RLIMIT_NOFILE, l.open_files),
        (libc::RLIMIT_CORE, Some(0)),
    ];
    wanted
        .into_iter()
        .filter_map(|(res, v)| v.map(|v| (res as i32, v.min(hard_limit(res)))))
        .collect()
}

/// The caller's hard limit for `res`.
fn hard_limit(res: libc::__rlimit_resource_t) -> u64 {
    let mut r = libc::rlimit64 {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: r is a valid out-pointer.
    if unsafe { libc::getrlimit64(res, &mut r) } == 0 {
        r.rlim_max
    } else {
        u64::MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn maps_limits_and_rounds_cpu_up() {
        let l = Limits {
            wall: None,
            cpu: Some(Duration::from_millis(1500)),
            memory: Some(1 << 30),
            processes: None,
            disk_bytes: Some(1 << 20),
            output_bytes: Some(64),
            open_files: Some(64),
        };
        let p = plan(&l, false);
        assert!(p.contains(&(libc::RLIMIT_AS as i32, 1 << 30)));
        assert!(!plan(&l, true)
            .iter()
            .any(|&(r, _)| r == libc::RLIMIT_AS as i32));
        assert!(p.contains(&(libc::RLIMIT_CPU as i32, 2)));
        assert!(p.contains(&(libc::RLIMIT_CORE as i32, 0)));
        assert!(p.contains(&(libc::RLIMIT_FSIZE as i32, 1 << 20)));
        assert!(!p.iter().any(|&(r, _)| r == libc::RLIMIT_NPROC as i32));
    }
}
