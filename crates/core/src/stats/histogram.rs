//! Histogram bin edges and counts, equal to NumPy's `histogram_bin_edges`
//! and `histogram` for equal-width bins.
//!
//! Bin-width rules (NumPy's names): `sqrt`, `sturges`, `rice`, `scott`, `fd`
//! (Freedman-Diaconis), `doane`, and `auto` (the smaller of `fd` and
//! `sturges`, with the `fd` width at least half the `sqrt` width). Edges are
//! `linspace(min, max, bins + 1)`; every bin is half-open `[a, b)` except the
//! last, which also holds its right edge.

use serde::{Deserialize, Serialize};

use super::summary::quantile_sorted;
use crate::error::{StatError, StatResult};

/// How to choose the number of equal-width bins.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinRule {
    /// min(max(fd, sqrt / 2), sturges) width; NumPy's `auto` (NumPy >= 2.1).
    Auto,
    /// Freedman-Diaconis: width `2 IQR n^(-1/3)`.
    Fd,
    /// Sturges: `log2(n) + 1` bins.
    Sturges,
    /// Doane: Sturges corrected for skewness.
    Doane,
    /// Scott: width `(24 sqrt(pi) / n)^(1/3) sigma`.
    Scott,
    /// Rice: `2 n^(1/3)` bins.
    Rice,
    /// Square root: `sqrt(n)` bins.
    Sqrt,
    /// A fixed number of bins.
    Count(usize),
}

impl BinRule {
    /// Parses NumPy's names or a positive integer.
    pub fn parse(s: &str) -> Option<BinRule> {
        Some(match s {
            "auto" => BinRule::Auto,
            "fd" => BinRule::Fd,
            "sturges" => BinRule::Sturges,
            "doane" => BinRule::Doane,
            "scott" => BinRule::Scott,
            "rice" => BinRule::Rice,
            "sqrt" => BinRule::Sqrt,
            other => match other.parse::<usize>() {
                Ok(n) if n > 0 => BinRule::Count(n),
                _ => return None,
            },
        })
    }
}

fn ptp(sorted: &[f64]) -> f64 {
    sorted[sorted.len() - 1] - sorted[0]
}

fn std_pop(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    (x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt()
}

fn width_sturges(x: &[f64]) -> f64 {
    ptp(x) / ((x.len() as f64).log2() + 1.0)
}

fn width_fd(x: &[f64]) -> f64 {
    let iqr = quantile_sorted(x, 0.75) - quantile_sorted(x, 0.25);
    2.0 * iqr * (x.len() as f64).powf(-1.0 / 3.0)
}

fn width(rule: BinRule, sorted: &[f64]) -> f64 {
    let n = sorted.len() as f64;
    match rule {
        BinRule::Sqrt => ptp(sorted) / n.sqrt(),
        BinRule::Sturges => width_sturges(sorted),
        BinRule::Rice => ptp(sorted) / (2.0 * n.powf(1.0 / 3.0)),
        BinRule::Scott => {
            (24.0 * std::f64::consts::PI.sqrt() / n).powf(1.0 / 3.0) * std_pop(sorted)
        }
        BinRule::Fd => width_fd(sorted),
        BinRule::Doane => {
            if sorted.len() > 2 {
                let sg1 = (6.0 * (n - 2.0) / ((n + 1.0) * (n + 3.0))).sqrt();
                let sigma = std_pop(sorted);
                if sigma > 0.0 {
                    let mean = sorted.iter().sum::<f64>() / n;
                    let g1 = sorted
                        .iter()
                        .map(|v| {
                            let t = (v - mean) / sigma;
                            t * t * t
                        })
                        .sum::<f64>()
                        / n;
                    return ptp(sorted) / (1.0 + n.log2() + (1.0 + g1.abs() / sg1).log2());
                }
            }
            0.0
        }
        BinRule::Auto => {
            // NumPy >= 2.1: the FD width is bounded below by half the sqrt
            // width, which caps the bin count for heavy tails.
            let fd = width_fd(sorted).max(ptp(sorted) / n.sqrt() / 2.0);
            fd.min(width_sturges(sorted))
        }
        BinRule::Count(_) => unreachable!("fixed counts have no width"),
    }
}

/// `numpy.linspace(start, stop, num)`, endpoint included.
pub fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    if num == 0 {
        return Vec::new();
    }
    if num == 1 {
        return vec![start];
    }
    let div = (num - 1) as f64;
    let delta = stop - start;
    let step = delta / div;
    let mut out: Vec<f64> = (0..num)
        .map(|i| {
            if step == 0.0 {
                (i as f64 / div) * delta + start
            } else {
                i as f64 * step + start
            }
        })
        .collect();
    out[num - 1] = stop;
    out
}

/// Bin edges for sorted, finite `sorted` under `rule`, as
/// `numpy.histogram_bin_edges(x, bins=rule)`. At most `max_bins` bins
/// (`None`: no cap). Empty input gives the single bin `[0, 1]`; a constant
/// input the single bin `[x - 0.5, x + 0.5]`.
pub fn bin_edges(sorted: &[f64], rule: BinRule, max_bins: Option<usize>) -> StatResult<Vec<f64>> {
    if let Some((index, &value)) = sorted.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(StatError::NonFinite { index, value });
    }
    let (mut first, mut last) = match sorted {
        [] => (0.0, 1.0),
        _ => (sorted[0], sorted[sorted.len() - 1]),
    };
    if first == last {
        first -= 0.5;
        last += 0.5;
    }
    let bins = match rule {
        BinRule::Count(n) => {
            if n == 0 {
                return Err(StatError::InvalidParameter {
                    name: "bins",
                    value: "0".into(),
                    why: "must be at least 1",
                });
            }
            n
        }
        _ if sorted.is_empty() => 1,
        rule => {
            let w = width(rule, sorted);
            if w != 0.0 && w.is_finite() {
                ((last - first) / w).ceil() as usize
            } else {
                1
            }
        }
    };
    let bins = match max_bins {
        Some(cap) => bins.clamp(1, cap.max(1)),
        None => bins.max(1),
    };
    Ok(linspace(first, last, bins + 1))
}

/// Counts of `values` in equal-width bins `edges` (from [`bin_edges`] or
/// [`linspace`]), with NumPy's rounding corrections near the edges. Values
/// outside `[edges[0], edges[last]]` are returned separately as
/// `(underflow, overflow)`.
pub fn counts(values: &[f64], edges: &[f64]) -> (Vec<u64>, u64, u64) {
    let bins = edges.len() - 1;
    let mut out = vec![0u64; bins];
    let (first, last) = (edges[0], edges[bins]);
    let denom = last - first;
    let (mut under, mut over) = (0u64, 0u64);
    for &x in values {
        if x < first {
            under += 1;
            continue;
        }
        if x > last {
            over += 1;
            continue;
        }
        let f = (x - first) / denom * bins as f64;
        let mut i = (f as usize).min(bins);
        if i == bins {
            i -= 1;
        }
        if x < edges[i] {
            i -= 1;
        }
        if i + 1 < bins && x >= edges[i + 1] {
            i += 1;
        }
        out[i] += 1;
    }
    (out, under, over)
}

/// [`counts`] for sorted values, by binary search of each edge: the same
/// result (a value on an interior edge belongs to the bin above it, the last
/// edge to the last bin) in `O(bins log n)`.
pub fn counts_sorted(sorted: &[f64], edges: &[f64]) -> (Vec<u64>, u64, u64) {
    let bins = edges.len() - 1;
    let under = sorted.partition_point(|v| *v < edges[0]);
    let mut out = Vec::with_capacity(bins);
    let mut start = under;
    for (k, &e) in edges[1..].iter().enumerate() {
        let end = if k + 1 == bins {
            sorted.partition_point(|v| *v <= e)
        } else {
            sorted.partition_point(|v| *v < e)
        };
        out.push((end - start) as u64);
        start = end;
    }
    let over = sorted.len() - start;
    (out, under as u64, over as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_constant() {
        assert_eq!(bin_edges(&[], BinRule::Auto, None).unwrap(), vec![0.0, 1.0]);
        assert_eq!(
            bin_edges(&[7.0; 10], BinRule::Auto, None).unwrap(),
            vec![6.5, 7.5]
        );
    }

    #[test]
    fn sorted_counts_match_numpy_counts() {
        let mut x: Vec<f64> = (0..997)
            .map(|i| ((i * 7919) % 1000) as f64 / 37.0 - 5.0)
            .collect();
        x.sort_by(f64::total_cmp);
        for rule in [BinRule::Auto, BinRule::Count(7), BinRule::Sqrt] {
            let edges = bin_edges(&x[100..800], rule, None).unwrap();
            assert_eq!(counts_sorted(&x, &edges), counts(&x, &edges), "{rule:?}");
            // Values exactly on the edges, and just above them.
            let mut on: Vec<f64> = edges.clone();
            on.extend(edges.iter().map(|e| e + 1e-9));
            on.sort_by(f64::total_cmp);
            assert_eq!(
                counts_sorted(&on, &edges),
                counts(&on, &edges),
                "{rule:?} on edges"
            );
        }
    }

    #[test]
    fn last_bin_is_closed() {
        let edges = linspace(0.0, 1.0, 3);
        let (c, u, o) = counts(&[0.0, 0.5, 1.0, 1.5, -1.0], &edges);
        assert_eq!(c, vec![1, 2]);
        assert_eq!((u, o), (1, 1));
    }
}
