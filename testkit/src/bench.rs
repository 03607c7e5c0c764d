//! Small helpers shared by the benchmark programs in `examples/`.

use std::time::Duration;

/// `2 cores, Intel(R) Xeon(R) Processor`: what the figures were measured on.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {cpu}")
}

/// The `q` quantile (0..=1) of sorted durations, nearest rank: with 20 samples p99 is the max.
pub fn quantile(sorted: &[Duration], q: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// `12.3 ms` / `0.412 ms`, or `-` for nothing.
pub fn ms(d: Option<Duration>) -> String {
    match d {
        None => "-".into(),
        Some(d) if d < Duration::from_millis(10) => format!("{:.3} ms", d.as_secs_f64() * 1e3),
        Some(d) => format!("{:.1} ms", d.as_secs_f64() * 1e3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles() {
        let d: Vec<_> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile(&d, 0.5), Some(Duration::from_millis(50)));
        assert_eq!(quantile(&d, 0.99), Some(Duration::from_millis(99)));
        assert_eq!(quantile(&d, 1.0), Some(Duration::from_millis(100)));
        assert_eq!(quantile(&d[..20], 0.99), Some(Duration::from_millis(20)));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn formatting() {
        assert_eq!(ms(None), "-");
        assert_eq!(ms(Some(Duration::from_micros(412))), "0.412 ms");
        assert_eq!(ms(Some(Duration::from_millis(1234))), "1234.0 ms");
        assert!(machine().contains("cores"));
    }
}
