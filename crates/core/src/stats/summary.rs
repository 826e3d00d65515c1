//! Summary statistics of a numeric sample: moments and quantiles.
//!
//! Conventions (stated because peers differ): variance and standard deviation
//! use `n - 1` (sample, `ddof=1`); skewness is the Fisher-Pearson coefficient
//! `g1 = m3 / m2^1.5` and kurtosis the excess kurtosis `g2 = m4 / m2^2 - 3`,
//! both with population moments (SciPy's `skew` and `kurtosis` defaults);
//! quantiles interpolate linearly between order statistics (NumPy's default
//! `linear` method, Hyndman and Fan type 7).

use serde::{Deserialize, Serialize};

/// `numpy.quantile(x, q)` (method `linear`) of sorted, non-empty `sorted`.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let pos = q * (n - 1) as f64;
    let lo = pos.floor();
    let i = lo as usize;
    if i + 1 >= n {
        return sorted[n - 1];
    }
    let frac = pos - lo;
    let (a, b) = (sorted[i], sorted[i + 1]);
    // NumPy's _lerp: a + (b - a) * t, computed from the nearer end.
    let diff = b - a;
    if frac >= 0.5 {
        b - diff * (1.0 - frac)
    } else {
        a + diff * frac
    }
}

/// The percentiles reported for every numeric feature, in percent.
pub const PERCENTILES: [f64; 9] = [0.1, 1.0, 5.0, 25.0, 50.0, 75.0, 95.0, 99.0, 99.9];

/// Summary statistics of a numeric sample (missing values excluded).
/// All fields are NaN when the sample is empty; dispersion and shape are
/// NaN when undefined (fewer than 2 values, or zero variance for shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericSummary {
    /// Number of non-missing values.
    pub count: u64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median (50th percentile).
    pub median: f64,
    /// Sample variance (`n - 1` denominator).
    pub variance: f64,
    /// Sample standard deviation (`n - 1` denominator).
    pub std: f64,
    /// Fisher-Pearson skewness `g1` (population moments).
    pub skewness: f64,
    /// Excess kurtosis `g2` (population moments; 0 for a normal).
    pub kurtosis: f64,
    /// Percentiles at [`PERCENTILES`], in that order.
    pub percentiles: Vec<f64>,
}

impl NumericSummary {
    /// Summarises sorted, finite values.
    pub fn from_sorted(sorted: &[f64]) -> NumericSummary {
        let n = sorted.len();
        if n == 0 {
            return NumericSummary {
                count: 0,
                min: f64::NAN,
                max: f64::NAN,
                mean: f64::NAN,
                median: f64::NAN,
                variance: f64::NAN,
                std: f64::NAN,
                skewness: f64::NAN,
                kurtosis: f64::NAN,
                percentiles: vec![f64::NAN; PERCENTILES.len()],
            };
        }
        let nf = n as f64;
        let mean = super::sum_compensated(sorted.iter().copied()) / nf;
        // Two-pass central moments (numerically stable for shifted data).
        let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
        for &x in sorted {
            let d = x - mean;
            let d2 = d * d;
            m2 += d2;
            m3 += d2 * d;
            m4 += d2 * d2;
        }
        let (pm2, pm3, pm4) = (m2 / nf, m3 / nf, m4 / nf);
        let variance = if n > 1 { m2 / (nf - 1.0) } else { f64::NAN };
        let (skewness, kurtosis) = if n > 1 && pm2 > 0.0 {
            (pm3 / pm2.powf(1.5), pm4 / (pm2 * pm2) - 3.0)
        } else {
            (f64::NAN, f64::NAN)
        };
        NumericSummary {
            count: n as u64,
            min: sorted[0],
            max: sorted[n - 1],
            mean,
            median: quantile_sorted(sorted, 0.5),
            variance,
            std: variance.sqrt(),
            skewness,
            kurtosis,
            percentiles: PERCENTILES
                .iter()
                .map(|p| quantile_sorted(sorted, p / 100.0))
                .collect(),
        }
    }

    /// The statistics as (name, value) pairs, in report order.
    pub fn named(&self) -> Vec<(String, f64)> {
        let mut out = vec![
            ("min".to_string(), self.min),
            ("max".to_string(), self.max),
            ("median".to_string(), self.median),
            ("mean".to_string(), self.mean),
            ("variance".to_string(), self.variance),
            ("std".to_string(), self.std),
            ("skewness".to_string(), self.skewness),
            ("kurtosis".to_string(), self.kurtosis),
        ];
        for (p, v) in PERCENTILES.iter().zip(&self.percentiles) {
            out.push((format!("p{}", format_percent(*p)), *v));
        }
        out
    }
}

/// `0.1` -> `"0_1"`, `5.0` -> `"5"`, `99.9` -> `"99_9"`: names usable as
/// JSON keys and metric labels.
fn format_percent(p: f64) -> String {
    let s = format!("{p}");
    s.replace('.', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy_linear() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&x, 0.5), 2.5);
        assert_eq!(quantile_sorted(&x, 0.25), 1.75);
        assert_eq!(quantile_sorted(&x, 1.0), 4.0);
        assert_eq!(quantile_sorted(&x, 0.0), 1.0);
    }

    #[test]
    fn moments() {
        let s = NumericSummary::from_sorted(&[1.0, 2.0, 3.0, 4.0, 10.0]);
        assert_eq!(s.mean, 4.0);
        assert_eq!(s.variance, 12.5);
        assert!(s.skewness > 0.0);
        let names: Vec<_> = s.named().into_iter().map(|(n, _)| n).collect();
        assert!(names.contains(&"p99_9".to_string()));
    }
}
