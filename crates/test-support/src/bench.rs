//! What every benchmark prints and reads the same way: its scale and iterations from the
//! environment, percentiles, and each figure as one JSON line
//! `{"bench","name","value","unit","baseline","ratio","target","met"}` (`scripts/bench.sh`
//! collects them and fails on a missed target).

use serde_json::json;

/// `SHEGONG_BENCH_SCALE` (the test script's smoke runs use 0.02); 1 by default.
pub fn scale() -> f64 {
    std::env::var("SHEGONG_BENCH_SCALE").ok().and_then(|s| s.parse().ok()).filter(|s: &f64| *s > 0.0).unwrap_or(1.0)
}

/// `SHEGONG_BENCH_ITERATIONS`, or `default`.
pub fn iterations(default: usize) -> usize {
    std::env::var("SHEGONG_BENCH_ITERATIONS").ok().and_then(|s| s.parse().ok()).filter(|n| *n > 0).unwrap_or(default)
}

/// The `p` percentile (0 to 1) of `samples`, nearest rank; NaN for none.
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(((sorted.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN)
}

fn rounded(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// The JSON line of one figure of benchmark `bench`: met when `value` is at most `target`.
pub fn figure_line(
    bench: &str,
    name: &str,
    value: f64,
    unit: &str,
    baseline: Option<f64>,
    target: Option<f64>,
) -> serde_json::Value {
    json!({
        "bench": bench,
        "name": name,
        "value": rounded(value),
        "unit": unit,
        "baseline": baseline.map(rounded),
        "ratio": baseline.filter(|b| *b > 0.0).map(|b| rounded(value / b)),
        "target": target,
        "met": target.map(|t| value <= t),
    })
}

/// Prints one figure as one line on stdout.
pub fn figure(bench: &str, name: &str, value: f64, unit: &str, baseline: Option<f64>, target: Option<f64>) {
    println!("{}", figure_line(bench, name, value, unit, baseline, target));
}

/// [`figure_line`] for a figure where more is better (a rate): met when `value` is at least
/// `target`.
pub fn figure_line_at_least(
    bench: &str,
    name: &str,
    value: f64,
    unit: &str,
    baseline: Option<f64>,
    target: Option<f64>,
) -> serde_json::Value {
    let mut line = figure_line(bench, name, value, unit, baseline, target);
    line["met"] = json!(target.map(|t| value >= t));
    line
}

/// Prints one figure where more is better as one line on stdout.
pub fn figure_at_least(bench: &str, name: &str, value: f64, unit: &str, baseline: Option<f64>, target: Option<f64>) {
    println!("{}", figure_line_at_least(bench, name, value, unit, baseline, target));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_is_met_at_or_under_its_target_and_says_its_ratio_to_the_baseline() {
        let line = figure_line("b", "n", 150.0, "ms", Some(50.0), Some(300.0));
        assert_eq!((line["ratio"].as_f64(), line["met"].as_bool()), (Some(3.0), Some(true)));
        let missed = figure_line("b", "n", 300.5, "ms", None, Some(300.0));
        assert_eq!((missed["ratio"].is_null(), missed["met"].as_bool()), (true, Some(false)));
        assert!(figure_line("b", "n", 1.0, "ms", Some(0.0), None)["met"].is_null());
    }

    #[test]
    fn a_rate_is_met_at_or_over_its_target() {
        let line = figure_line_at_least("b", "n", 1200.0, "round trips/s", Some(3000.0), Some(1000.0));
        assert_eq!((line["ratio"].as_f64(), line["met"].as_bool()), (Some(0.4), Some(true)));
        assert_eq!(figure_line_at_least("b", "n", 999.0, "/s", None, Some(1000.0))["met"].as_bool(), Some(false));
        assert!(figure_line_at_least("b", "n", 1.0, "/s", None, None)["met"].is_null());
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples = [5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!((percentile(&samples, 0.0), percentile(&samples, 0.5), percentile(&samples, 1.0)), (1.0, 3.0, 5.0));
        assert!(percentile(&[], 0.5).is_nan());
    }
}
