//! Wasserstein-1 distance divided by the baseline's standard deviation.

use super::{Domain, Input, Method, MetricKind};
use crate::error::StatResult;

/// Floor on the baseline standard deviation, so that a constant baseline
/// does not divide by zero (the value Evidently uses).
pub const STD_FLOOR: f64 = 0.001;

/// `W1 / max(std_baseline, 0.001)`: Wasserstein in baseline standard deviations.
pub struct NormalizedWassersteinDistance;

impl Method for NormalizedWassersteinDistance {
    fn name(&self) -> &'static str {
        "normalized_wasserstein_distance"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["wasserstein_norm", "normalized_wasserstein"]
    }
    fn kind(&self) -> MetricKind {
        MetricKind::Distance
    }
    fn domains(&self) -> &'static [Domain] {
        &[Domain::Numeric]
    }
    fn range(&self) -> &'static str {
        "[0, inf)"
    }
    fn unit(&self) -> &'static str {
        "baseline standard deviations"
    }
    fn default_threshold(&self) -> Option<f64> {
        Some(0.1)
    }
    fn summary(&self) -> &'static str {
        "Wasserstein-1 in units of the baseline's standard deviation: scale-free, so one threshold fits every feature."
    }
    fn details(&self) -> &'static str {
        "`W1(baseline, target) / max(s, 0.001)` with `s` the baseline sample standard deviation \
         (`n - 1`). A shift of the whole distribution by `k` standard deviations reads `k`. \
         The default threshold 0.1 is the one Evidently uses for large samples."
    }
    fn compute(&self, input: &Input<'_>) -> StatResult<f64> {
        match input {
            Input::Numeric(n) => {
                let w = n.distances().0;
                let s = if n.baseline_std.is_finite() {
                    n.baseline_std
                } else {
                    0.0
                };
                Ok(w / s.max(STD_FLOOR))
            }
            Input::Categorical(_) => Ok(f64::NAN),
        }
    }
}
