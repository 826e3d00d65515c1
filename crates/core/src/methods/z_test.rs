//! Two-proportion z-test for binary features.

use super::{Domain, Input, Method, MetricKind};
use crate::error::{StatError, StatResult};
use crate::stats::special::normal_sf;

/// Two-sided two-proportion z-test with pooled variance:
/// `z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2))`, `p` the pooled share of
/// successes. Returns `(z, p-value)`; a pooled share of 0 or 1 (no
/// variation at all) gives `z = 0`, `p = 1`.
pub fn two_proportion_z_test(x1: u64, n1: u64, x2: u64, n2: u64) -> StatResult<(f64, f64)> {
    if n1 == 0 {
        return Err(StatError::EmptySample { side: "baseline" });
    }
    if n2 == 0 {
        return Err(StatError::EmptySample { side: "target" });
    }
    let (f1, f2) = (n1 as f64, n2 as f64);
    let (p1, p2) = (x1 as f64 / f1, x2 as f64 / f2);
    let p = (x1 + x2) as f64 / (f1 + f2);
    let se = (p * (1.0 - p) * (1.0 / f1 + 1.0 / f2)).sqrt();
    if se == 0.0 {
        return Ok((0.0, 1.0));
    }
    let z = (p1 - p2) / se;
    Ok((z, (2.0 * normal_sf(z.abs())).min(1.0)))
}

/// P-value of the two-proportion z-test.
pub struct ZPvalue;

impl Method for ZPvalue {
    fn name(&self) -> &'static str {
        "z_pvalue"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["z", "two_proportion_z"]
    }
    fn kind(&self) -> MetricKind {
        MetricKind::PValue
    }
    fn domains(&self) -> &'static [Domain] {
        &[Domain::Binary]
    }
    fn range(&self) -> &'static str {
        "[0, 1]"
    }
    fn unit(&self) -> &'static str {
        "probability"
    }
    fn default_threshold(&self) -> Option<f64> {
        Some(0.05)
    }
    fn summary(&self) -> &'static str {
        "Two-sided two-proportion z-test of the share of the baseline's first category, for features with two categories."
    }
    fn details(&self) -> &'static str {
        "Pooled-variance z statistic of the difference between the baseline's and the target's \
         share of the baseline's most frequent category (any other value, missing included, \
         counts as the other outcome); p-value `2 * norm.sf(|z|)`. Symmetric in the choice of \
         category. Applies to features whose baseline has exactly two categories."
    }
    fn compute(&self, input: &Input<'_>) -> StatResult<f64> {
        match input {
            Input::Categorical(c) => {
                // The first aligned category is the baseline's most frequent.
                let nb: u64 = c.baseline.iter().sum();
                let nt: u64 = c.target.iter().sum();
                let (xb, xt) = (
                    c.baseline.first().copied().unwrap_or(0),
                    c.target.first().copied().unwrap_or(0),
                );
                Ok(two_proportion_z_test(xb, nb, xt, nt)?.1)
            }
            Input::Numeric(_) => Ok(f64::NAN),
        }
    }
}
