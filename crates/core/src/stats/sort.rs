//! Sorting finite `f64` values fast.
//!
//! Sorting is the floor of exact-mode profiling and comparison, so it goes
//! through this one function. It uses the `voracious_radix_sort` crate (a
//! radix sort for floats, Lafitte 2020): on 1M values about 17 ms here,
//! against 37 ms for `sort_unstable_by(f64::total_cmp)` and 35 ms for a
//! comparison sort on order-preserving integer keys; an 11-bit LSD radix sort
//! written here took 60-70 ms, its scatter passes bound by cache misses.

use voracious_radix_sort::RadixSort;

/// Sorts finite `values` ascending. `-0.0` and `0.0` compare equal and may
/// come in either order. Values must not be NaN (the engine removes them as
/// missing before sorting; see [`super::sort_values`] for NaN-aware sorting).
pub fn sort_f64(values: &mut [f64]) {
    debug_assert!(values.iter().all(|v| !v.is_nan()), "sort_f64 takes no NaN");
    values.voracious_sort();
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn matches_comparison_sort(
            mut v in prop::collection::vec(prop_oneof![any::<f64>().prop_filter("finite", |x| x.is_finite()), -3.0f64..3.0, Just(0.0), Just(-0.0), Just(f64::INFINITY), Just(f64::NEG_INFINITY)], 0..6000)
        ) {
            let mut want = v.clone();
            want.sort_unstable_by(f64::total_cmp);
            sort_f64(&mut v);
            prop_assert_eq!(v, want);
        }
    }
}
