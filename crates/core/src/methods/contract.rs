//! The contract every drift method keeps (`docs/specs/method.md`), as one
//! harness that each method's tests run.
//!
//! 1. Identical baseline and target: a distance is exactly 0, a p-value is at
//!    least 0.25 (the Anderson-Darling p-value is clipped there).
//! 2. Deterministic: the same input gives bit-identical output.
//! 3. The value lies within the declared range and is never NaN for a kind
//!    the method applies to.
//! 4. Symmetry: distances that are symmetric give the same value with the
//!    sides swapped (PSI and JS included; the normalised Wasserstein divides by
//!    the baseline's spread and is exempt).
//! 5. Drift is seen: a clearly shifted target reads as drift at the default
//!    threshold.

use super::{CategoricalInput, Input, Method, MetricKind, NumericInput, Shared};
use crate::stats::histogram::{BinRule, bin_edges, counts};
use crate::stats::summary::NumericSummary;

/// Owned data for a numeric [`Input`].
pub struct NumericFixture {
    baseline: Vec<f64>,
    target: Vec<f64>,
    std: f64,
    bh: Vec<u64>,
    th: Vec<u64>,
    bd: Vec<u64>,
    td: Vec<u64>,
}

impl NumericFixture {
    /// Prepares two samples the way the engine does.
    pub fn new(mut baseline: Vec<f64>, mut target: Vec<f64>) -> Self {
        baseline.sort_by(f64::total_cmp);
        target.sort_by(f64::total_cmp);
        let std = NumericSummary::from_sorted(&baseline).std;
        let edges = bin_edges(&baseline, BinRule::Auto, Some(256)).expect("finite data");
        let hist = |x: &[f64]| {
            let (c, u, o) = counts(x, &edges);
            let mut v = vec![u];
            v.extend(c);
            v.push(o);
            v
        };
        let inner = super::psi_quantile_edges(&baseline, 10);
        NumericFixture {
            bh: hist(&baseline),
            th: hist(&target),
            bd: super::quantile_bin_counts(&baseline, &inner),
            td: super::quantile_bin_counts(&target, &inner),
            baseline,
            target,
            std,
        }
    }

    /// The method input, with `shared` holding its intermediate results.
    pub fn input<'a>(&'a self, shared: &'a Shared) -> Input<'a> {
        Input::Numeric(NumericInput {
            baseline: &self.baseline,
            target: &self.target,
            baseline_std: self.std,
            baseline_hist: &self.bh,
            target_hist: &self.th,
            baseline_deciles: &self.bd,
            target_deciles: &self.td,
            shared,
        })
    }
}

/// Computes `method` on a fresh input: nothing is shared between calls.
fn run(method: &dyn Method, numeric: bool, num: (&[f64], &[f64]), cat: (&[u64], &[u64])) -> f64 {
    let shared = Shared::default();
    let result = if numeric {
        let f = NumericFixture::new(num.0.to_vec(), num.1.to_vec());
        method.compute(&f.input(&shared))
    } else {
        method.compute(&Input::Categorical(CategoricalInput {
            baseline: cat.0,
            target: cat.1,
            shared: &shared,
        }))
    };
    result.unwrap_or_else(|e| panic!("{}: {e}", method.name()))
}

fn check_value(m: &dyn Method, v: f64, what: &str) {
    assert!(!v.is_nan(), "{}: NaN on {what}", m.name());
    assert!(v >= 0.0, "{}: negative value {v} on {what}", m.name());
    if m.kind() == MetricKind::PValue {
        assert!(v <= 1.0, "{}: p-value {v} > 1 on {what}", m.name());
    }
}

/// Runs the contract on `method` with numeric and categorical samples.
pub fn assert_method_contract(method: &dyn Method) {
    // Numeric: a deterministic, non-trivial sample and a shifted copy.
    let base: Vec<f64> = (0..400)
        .map(|i| ((i * 7919) % 400) as f64 / 40.0 + (i % 7) as f64)
        .collect();
    let shifted: Vec<f64> = base.iter().map(|x| x + 6.0).collect();
    let other: Vec<f64> = base.iter().map(|x| x * 1.1 + 0.3).collect();
    let cat_base: Vec<u64> = vec![120, 80, 150, 50, 0];
    let cat_shift: Vec<u64> = vec![20, 180, 60, 90, 50];
    let cat_other: Vec<u64> = vec![110, 90, 140, 55, 5];
    for numeric in [true, false] {
        if !method.applies(numeric, false) && (numeric || !method.applies(false, true)) {
            continue;
        }
        let binary = !numeric && !method.applies(false, false);
        let (cb, cs, co) = if binary {
            (
                vec![300u64, 200, 0],
                vec![150u64, 350, 0],
                vec![290u64, 210, 0],
            )
        } else {
            (cat_base.clone(), cat_shift.clone(), cat_other.clone())
        };
        let v = run(method, numeric, (&base, &base), (&cb, &cb));
        check_value(method, v, "identical samples");
        match method.kind() {
            MetricKind::Distance => assert!(
                v.abs() < 1e-12,
                "{}: {v} != 0 on identical samples",
                method.name()
            ),
            MetricKind::PValue => {
                assert!(v >= 0.25, "{}: p = {v} on identical samples", method.name())
            }
            MetricKind::Statistic => {}
        }
        let v1 = run(method, numeric, (&base, &shifted), (&cb, &cs));
        let v2 = run(method, numeric, (&base, &shifted), (&cb, &cs));
        assert_eq!(
            v1.to_bits(),
            v2.to_bits(),
            "{}: not deterministic",
            method.name()
        );
        check_value(method, v1, "shifted samples");
        if let Some(t) = method.default_threshold() {
            assert!(
                method.drifted(v1, t),
                "{}: {v1} misses a clear shift at threshold {t}",
                method.name()
            );
        }
        // Symmetry on a mild change, for symmetric distances.
        if method.kind() == MetricKind::Distance
            && method.name() != "normalized_wasserstein_distance"
        {
            let ab = run(method, numeric, (&base, &other), (&cb, &co));
            let ba = run(method, numeric, (&other, &base), (&co, &cb));
            // Binned numeric distances use the baseline's bins, so swapping
            // sides changes the bins: only exact-value metrics are symmetric.
            let binned = numeric
                && matches!(
                    method.name(),
                    "psi" | "jensen_shannon_distance" | "hellinger_distance"
                );
            if !binned {
                assert!(
                    (ab - ba).abs() <= 1e-12 * ab.abs().max(1e-300),
                    "{}: {ab} vs {ba} not symmetric",
                    method.name()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_method_keeps_the_contract() {
        for m in super::super::registry() {
            super::assert_method_contract(*m);
        }
    }
}
