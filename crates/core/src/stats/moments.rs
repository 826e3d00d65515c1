//! Streaming moments: count, mean, central moments up to the fourth, min
//! and max, updated one value at a time and merged exactly (up to
//! rounding) from parts, in any grouping. Sketch mode keeps only a sample
//! of each numeric feature's values but its moments over all of them.
//!
//! Updates and merges follow Pébay (2008), "Formulas for robust, one-pass
//! parallel computation of covariances and arbitrary-order statistical
//! moments", with the mean and central sums `M2..M4` (not raw power sums,
//! which cancel catastrophically).

use serde::{Deserialize, Serialize};

use super::summary::NumericSummary;

/// Moments of the finite values seen so far.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    /// Values seen.
    pub n: u64,
    /// Their mean.
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    pub m2: f64,
    /// Sum of cubed deviations.
    pub m3: f64,
    /// Sum of fourth powers of deviations.
    pub m4: f64,
    /// Smallest value (+inf when none).
    pub min: f64,
    /// Largest value (-inf when none).
    pub max: f64,
}

impl Default for Moments {
    fn default() -> Self {
        Moments {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            m3: 0.0,
            m4: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

impl Moments {
    /// Adds one finite value.
    pub fn add(&mut self, x: f64) {
        let n1 = self.n as f64;
        self.n += 1;
        let n = self.n as f64;
        let delta = x - self.mean;
        let delta_n = delta / n;
        let delta_n2 = delta_n * delta_n;
        let term1 = delta * delta_n * n1;
        self.mean += delta_n;
        self.m4 += term1 * delta_n2 * (n * n - 3.0 * n + 3.0) + 6.0 * delta_n2 * self.m2
            - 4.0 * delta_n * self.m3;
        self.m3 += term1 * delta_n * (n - 2.0) - 3.0 * delta_n * self.m2;
        self.m2 += term1;
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    /// Adds the values another part saw.
    pub fn merge(&mut self, other: &Moments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        let (na, nb) = (self.n as f64, other.n as f64);
        let n = na + nb;
        let delta = other.mean - self.mean;
        let (d2, d3, d4) = (
            delta * delta,
            delta * delta * delta,
            delta * delta * delta * delta,
        );
        let m2 = self.m2 + other.m2 + d2 * na * nb / n;
        let m3 = self.m3
            + other.m3
            + d3 * na * nb * (na - nb) / (n * n)
            + 3.0 * delta * (na * other.m2 - nb * self.m2) / n;
        let m4 = self.m4
            + other.m4
            + d4 * na * nb * (na * na - na * nb + nb * nb) / (n * n * n)
            + 6.0 * d2 * (na * na * other.m2 + nb * nb * self.m2) / (n * n)
            + 4.0 * delta * (na * other.m3 - nb * self.m3) / n;
        self.mean += delta * nb / n;
        self.m2 = m2;
        self.m3 = m3;
        self.m4 = m4;
        self.n += other.n;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Puts these moments into `summary` (count, min, max, mean, variance,
    /// standard deviation, skewness, kurtosis), with the conventions of
    /// [`NumericSummary`]; its median and percentiles stay as they are.
    pub fn apply(&self, summary: &mut NumericSummary) {
        let n = self.n as f64;
        summary.count = self.n;
        if self.n == 0 {
            return;
        }
        summary.min = self.min;
        summary.max = self.max;
        summary.mean = self.mean;
        summary.variance = if self.n > 1 {
            self.m2 / (n - 1.0)
        } else {
            f64::NAN
        };
        summary.std = summary.variance.sqrt();
        let (pm2, pm3, pm4) = (self.m2 / n, self.m3 / n, self.m4 / n);
        (summary.skewness, summary.kurtosis) = if self.n > 1 && pm2 > 0.0 {
            (pm3 / pm2.powf(1.5), pm4 / (pm2 * pm2) - 3.0)
        } else {
            (f64::NAN, f64::NAN)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sampling::Rng;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
    }

    #[test]
    fn streamed_and_merged_moments_match_the_two_pass_summary() {
        let mut rng = Rng::new(3);
        // Shifted far from 0, skewed: a hard case for naive power sums.
        let x: Vec<f64> = (0..10_000)
            .map(|_| 1e6 + rng.normal().exp() * 3.0)
            .collect();
        let mut sorted = x.clone();
        sorted.sort_by(f64::total_cmp);
        let exact = NumericSummary::from_sorted(&sorted);
        let mut one = Moments::default();
        x.iter().for_each(|&v| one.add(v));
        // Uneven parts, merged in another order.
        let mut parts: Vec<Moments> = [0, 1, 17, 2500, 7000, 10_000]
            .windows(2)
            .map(|w| {
                let mut m = Moments::default();
                x[w[0]..w[1]].iter().for_each(|&v| m.add(v));
                m
            })
            .collect();
        let mut merged = parts.pop().unwrap();
        for p in parts.iter().rev() {
            merged.merge(p);
        }
        for m in [one, merged] {
            let mut s = exact.clone();
            m.apply(&mut s);
            assert_eq!(s.count, 10_000);
            assert_eq!((s.min, s.max), (exact.min, exact.max));
            assert!(
                close(s.mean, exact.mean, 1e-12),
                "{} {}",
                s.mean,
                exact.mean
            );
            assert!(close(s.variance, exact.variance, 1e-9));
            assert!(
                close(s.skewness, exact.skewness, 1e-8),
                "{} {}",
                s.skewness,
                exact.skewness
            );
            assert!(
                close(s.kurtosis, exact.kurtosis, 1e-8),
                "{} {}",
                s.kurtosis,
                exact.kurtosis
            );
        }
    }

    #[test]
    fn degenerate_inputs_follow_the_summary_conventions() {
        let mut m = Moments::default();
        let mut s = NumericSummary::from_sorted(&[]);
        m.apply(&mut s);
        assert_eq!(s.count, 0);
        m.add(2.0);
        m.add(2.0);
        let mut s = NumericSummary::from_sorted(&[2.0, 2.0]);
        m.apply(&mut s);
        assert_eq!((s.mean, s.variance), (2.0, 0.0));
        assert!(s.skewness.is_nan() && s.kurtosis.is_nan());
    }
}
