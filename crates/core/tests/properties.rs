//! Invariants of the drift metrics, checked on random samples.

use std::sync::Arc;

use arrow_array::{Float64Array, RecordBatch};
use proptest::prelude::*;
use tidewatch_core::stats::cdf::{Sample, energy_distance, sorted_distances, wasserstein_distance};
use tidewatch_core::{BaselineProfile, CompareOptions, ProfileOptions};

fn sample() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-1e3f64..1e3, 1..60)
}

fn batch(v: &[f64]) -> RecordBatch {
    RecordBatch::try_from_iter([("x", Arc::new(Float64Array::from(v.to_vec())) as _)]).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn distance_to_itself_is_zero(u in sample()) {
        prop_assert_eq!(wasserstein_distance(Sample::new(&u), Sample::new(&u)).unwrap(), 0.0);
        prop_assert_eq!(energy_distance(Sample::new(&u), Sample::new(&u)).unwrap(), 0.0);
    }

    #[test]
    fn distances_are_symmetric(u in sample(), v in sample()) {
        let w1 = wasserstein_distance(Sample::new(&u), Sample::new(&v)).unwrap();
        let w2 = wasserstein_distance(Sample::new(&v), Sample::new(&u)).unwrap();
        prop_assert!((w1 - w2).abs() <= 1e-12 * w1.abs().max(1.0));
        let e1 = energy_distance(Sample::new(&u), Sample::new(&v)).unwrap();
        let e2 = energy_distance(Sample::new(&v), Sample::new(&u)).unwrap();
        prop_assert!((e1 - e2).abs() <= 1e-12 * e1.abs().max(1.0));
    }

    #[test]
    fn wasserstein_scales_with_the_data(u in sample(), v in sample(), k in 0.01f64..100.0) {
        let w = wasserstein_distance(Sample::new(&u), Sample::new(&v)).unwrap();
        let us: Vec<f64> = u.iter().map(|x| x * k).collect();
        let vs: Vec<f64> = v.iter().map(|x| x * k).collect();
        let ws = wasserstein_distance(Sample::new(&us), Sample::new(&vs)).unwrap();
        prop_assert!((ws - k * w).abs() <= 1e-9 * (k * w).abs().max(1e-9));
    }

    #[test]
    fn shift_moves_wasserstein_by_the_shift(u in sample(), s in -50f64..50.0) {
        let mut a = u.clone();
        a.sort_by(f64::total_cmp);
        let b: Vec<f64> = a.iter().map(|x| x + s).collect();
        let (w, _) = sorted_distances(&a, &b);
        prop_assert!((w - s.abs()).abs() <= 1e-9 * s.abs().max(1.0));
    }

    #[test]
    fn normalised_wasserstein_ignores_scale_and_order_does_not_matter(
        u in prop::collection::vec(-1e3f64..1e3, 3..60),
        v in prop::collection::vec(-1e3f64..1e3, 3..60),
        k in 0.1f64..10.0,
    ) {
        let run = |b: &[f64], t: &[f64]| {
            let p = BaselineProfile::fit(&[batch(b)], &ProfileOptions::default()).unwrap();
            p.compare(&[batch(t)], &CompareOptions::default()).unwrap()
        };
        let r = run(&u, &v);
        let us: Vec<f64> = u.iter().map(|x| x * k).collect();
        let vs: Vec<f64> = v.iter().map(|x| x * k).collect();
        let rs = run(&us, &vs);
        let nw = |r: &tidewatch_core::DriftReport| r.features[0].metrics["normalized_wasserstein_distance"].unwrap();
        let std_ok = r.features[0].summary.as_ref().unwrap().baseline["std"].unwrap() * k.min(1.0) > 0.01;
        if std_ok {
            prop_assert!((nw(&r) - nw(&rs)).abs() <= 1e-9 * nw(&r).max(1e-9));
        }
        // Reversed rows give the same metrics.
        let mut ur = u.clone();
        ur.reverse();
        let mut vr = v.clone();
        vr.reverse();
        let rr = run(&ur, &vr);
        prop_assert_eq!(&r.features[0].metrics, &rr.features[0].metrics);
    }
}
