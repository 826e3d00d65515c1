//! Pure numerical routines behind the drift methods, each written to agree
//! with a named SciPy, NumPy or scikit-learn function (the reference cases in
//! `tests/fixtures/scipy/` pin the agreement).
//!
//! Nothing here knows about columns or profiles: inputs are slices of `f64`.

pub mod cdf;
pub mod correction;
pub mod histogram;
pub mod kde;
pub mod kolmogorov;
pub mod moments;
pub mod pooled;
pub mod scoring;
pub mod sort;
pub mod special;
pub mod summary;

use crate::error::{StatError, StatResult};

/// Checks a weight vector the way SciPy's `_validate_distribution` does:
/// same length as the values, non-negative, with a positive finite sum.
/// Returns the sum.
pub fn check_weights(values: usize, weights: &[f64]) -> StatResult<f64> {
    if weights.len() != values {
        return Err(StatError::WeightLength {
            values,
            weights: weights.len(),
        });
    }
    if let Some((index, &value)) = weights.iter().enumerate().find(|(_, w)| **w < 0.0) {
        return Err(StatError::NegativeWeight { index, value });
    }
    let sum: f64 = weights.iter().sum();
    if !(sum > 0.0 && sum.is_finite()) {
        return Err(StatError::BadWeightSum { sum });
    }
    Ok(sum)
}

/// Sorts values ascending with NaN last (NumPy's order).
pub fn sort_values(values: &mut [f64]) {
    let nans = values.iter().filter(|v| v.is_nan()).count();
    if nans == 0 {
        sort::sort_f64(values);
        return;
    }
    let mut finite: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    sort::sort_f64(&mut finite);
    finite.resize(values.len(), f64::NAN);
    values.copy_from_slice(&finite);
}

/// Index of the first element greater than `x` in sorted `sorted`
/// (NumPy's `searchsorted(side='right')`).
#[inline]
pub fn upper_bound(sorted: &[f64], x: f64) -> usize {
    sorted.partition_point(|v| *v <= x)
}

/// Index of the first element not less than `x` in sorted `sorted`
/// (NumPy's `searchsorted(side='left')`).
#[inline]
pub fn lower_bound(sorted: &[f64], x: f64) -> usize {
    sorted.partition_point(|v| *v < x)
}

/// Neumaier-compensated sum: order-independent to within one rounding for
/// the sizes we see, and close to NumPy's pairwise summation.
pub fn sum_compensated(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut sum = 0.0_f64;
    let mut c = 0.0_f64;
    for v in values {
        let t = sum + v;
        if sum.abs() >= v.abs() {
            c += (sum - t) + v;
        } else {
            c += (v - t) + sum;
        }
        sum = t;
    }
    sum + c
}
