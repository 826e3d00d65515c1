//! Distances between two one-dimensional distributions through their CDFs:
//! the Wasserstein-1 distance and the energy distance.
//!
//! Both follow SciPy's `_cdf_distance` (Ramdas, Garcia and Cuturi 2015,
//! "On Wasserstein two sample testing and related families of nonparametric
//! tests"): with `U` and `V` the (weighted) empirical CDFs,
//!
//! * `l_p(U, V) = (∫ |U(x) - V(x)|^p dx)^(1/p)`, integrated exactly as a sum
//!   over the gaps between consecutive pooled values;
//! * Wasserstein-1 is `l_1`, in the units of the data;
//! * the energy distance is `sqrt(2) * l_2`, in the square root of the units.
//!
//! Values are used exactly as given (no rounding, no binning). NaN in the
//! input gives NaN, as in SciPy; the engine removes missing values first.

use super::{check_weights, sort_values, sum_compensated};
use crate::error::{StatError, StatResult};

/// One sample of a distance computation: values with optional weights.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    /// The observed values.
    pub values: &'a [f64],
    /// Optional non-negative weights, one per value.
    pub weights: Option<&'a [f64]>,
}

impl<'a> Sample<'a> {
    /// An unweighted sample.
    pub fn new(values: &'a [f64]) -> Self {
        Sample {
            values,
            weights: None,
        }
    }

    /// A weighted sample.
    pub fn weighted(values: &'a [f64], weights: &'a [f64]) -> Self {
        Sample {
            values,
            weights: Some(weights),
        }
    }
}

/// A sample sorted by value, with cumulative weights normalised to end at 1.
struct SortedSample {
    values: Vec<f64>,
    /// `cdf[i]` is the CDF just after `values[i]` (weights of `values[..=i]`).
    cdf: Option<Vec<f64>>,
}

impl SortedSample {
    fn prepare(sample: Sample<'_>, side: &'static str) -> StatResult<Self> {
        if sample.values.is_empty() {
            return Err(StatError::EmptySample { side });
        }
        match sample.weights {
            None => {
                let mut values = sample.values.to_vec();
                sort_values(&mut values);
                Ok(SortedSample { values, cdf: None })
            }
            Some(weights) => {
                check_weights(sample.values.len(), weights)?;
                let mut pairs: Vec<(f64, f64)> = sample
                    .values
                    .iter()
                    .copied()
                    .zip(weights.iter().copied())
                    .collect();
                // Stable sort, NaN last, as NumPy's argsort (mergesort) does.
                pairs.sort_by(|a, b| match (a.0.is_nan(), b.0.is_nan()) {
                    (false, false) => a.0.total_cmp(&b.0),
                    (a_nan, b_nan) => a_nan.cmp(&b_nan),
                });
                let mut cum = Vec::with_capacity(pairs.len());
                let mut acc = 0.0;
                for &(_, w) in &pairs {
                    acc += w;
                    cum.push(acc);
                }
                let total = acc;
                let cdf = cum.into_iter().map(|c| c / total).collect();
                Ok(SortedSample {
                    values: pairs.into_iter().map(|p| p.0).collect(),
                    cdf: Some(cdf),
                })
            }
        }
    }
}

/// Which `l_p` norm of the CDF difference to integrate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Power {
    One,
    Two,
}

/// Walks the pooled sorted values of `u` and `v` and integrates
/// `|U - V|^p` over each gap between consecutive pooled values.
fn integrate(u: &SortedSample, v: &SortedSample, power: Power) -> f64 {
    let (nu, nv) = (u.values.len(), v.values.len());
    let (mut i, mut j) = (0usize, 0usize);
    // Current position: the pooled value most recently passed.
    let mut prev: Option<f64> = None;
    let mut terms = Vec::with_capacity(nu + nv);
    let cdf_at = |s: &SortedSample, k: usize, n: usize| -> f64 {
        if k == 0 {
            0.0
        } else {
            match &s.cdf {
                None => k as f64 / n as f64,
                Some(c) => c[k - 1],
            }
        }
    };
    while i < nu || j < nv {
        let take_u = j >= nv || (i < nu && u.values[i] <= v.values[j]);
        let x = if take_u { u.values[i] } else { v.values[j] };
        if let Some(p) = prev {
            let delta = x - p;
            // CDFs just after `p`: counts of values <= p on each side
            // (NumPy's searchsorted side='right').
            let du = cdf_at(u, i, nu);
            let dv = cdf_at(v, j, nv);
            let diff = (du - dv).abs();
            terms.push(match power {
                Power::One => diff * delta,
                Power::Two => diff * diff * delta,
            });
        }
        // Advance past every copy of x on both sides, so that the CDFs used
        // for the next gap count all values <= x.
        if take_u {
            i += 1;
        } else {
            j += 1;
        }
        while i < nu && u.values[i] == x {
            i += 1;
        }
        while j < nv && v.values[j] == x {
            j += 1;
        }
        prev = Some(x);
    }
    sum_compensated(terms)
}

fn cdf_distance(u: Sample<'_>, v: Sample<'_>, power: Power) -> StatResult<f64> {
    let u = SortedSample::prepare(u, "u")?;
    let v = SortedSample::prepare(v, "v")?;
    if u.values.iter().chain(&v.values).any(|x| x.is_nan()) {
        return Ok(f64::NAN);
    }
    let s = integrate(&u, &v, power);
    Ok(match power {
        Power::One => s,
        Power::Two => s.sqrt(),
    })
}

/// First Wasserstein distance between two samples, in the data's units.
///
/// Equal to `scipy.stats.wasserstein_distance(u, v, u_weights, v_weights)`.
/// Range `[0, inf)`; 0 exactly when the two distributions coincide.
pub fn wasserstein_distance(u: Sample<'_>, v: Sample<'_>) -> StatResult<f64> {
    cdf_distance(u, v, Power::One)
}

/// Energy distance between two samples (Székely and Rizzo), in the square
/// root of the data's units: `sqrt(2) * l_2(U, V)`.
///
/// Equal to `scipy.stats.energy_distance(u, v, u_weights, v_weights)`.
/// Range `[0, inf)`; 0 exactly when the two distributions coincide.
pub fn energy_distance(u: Sample<'_>, v: Sample<'_>) -> StatResult<f64> {
    Ok(std::f64::consts::SQRT_2 * cdf_distance(u, v, Power::Two)?)
}

/// Wasserstein-1 and energy distance of two already sorted, finite,
/// unweighted samples, from one [`walk`](super::pooled::walk): the engine's
/// fast path. Returns `(wasserstein, energy)`. Both slices must be non-empty.
pub fn sorted_distances(u: &[f64], v: &[f64]) -> (f64, f64) {
    distances_from_walk(&super::pooled::walk(u, v))
}

/// `(wasserstein, energy)` from a pooled walk.
pub fn distances_from_walk(w: &super::pooled::PooledWalk) -> (f64, f64) {
    (w.l1, std::f64::consts::SQRT_2 * w.l2_squared.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docstring_examples() {
        let w = wasserstein_distance(Sample::new(&[0.0, 1.0, 3.0]), Sample::new(&[5.0, 6.0, 8.0]))
            .unwrap();
        assert_eq!(w, 5.0);
        let e = energy_distance(Sample::new(&[0.0, 8.0]), Sample::new(&[0.0, 8.0])).unwrap();
        assert_eq!(e, 0.0);
    }

    #[test]
    fn fast_path_matches_general_path() {
        let u = [0.5, 1.0, 1.0, 2.0, 7.5];
        let v = [-1.0, 1.0, 3.0, 3.0];
        let (w, e) = sorted_distances(&u, &v);
        let w2 = wasserstein_distance(Sample::new(&u), Sample::new(&v)).unwrap();
        let e2 = energy_distance(Sample::new(&u), Sample::new(&v)).unwrap();
        assert!((w - w2).abs() <= 1e-15 * w2.abs());
        assert!((e - e2).abs() <= 1e-15 * e2.abs());
    }

    #[test]
    fn empty_sample_is_an_error() {
        assert_eq!(
            wasserstein_distance(Sample::new(&[]), Sample::new(&[1.0])),
            Err(StatError::EmptySample { side: "u" })
        );
    }
}
