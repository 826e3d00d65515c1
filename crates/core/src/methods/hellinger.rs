//! Hellinger distance between two frequency vectors.

use super::{Domain, Input, Method, MetricKind};
use crate::error::{StatError, StatResult};

/// `H(p, q) = sqrt(max(0, 1 - sum_i sqrt(p_i q_i)))` with `p` and `q`
/// normalised to sum 1, evaluated in the equal form
/// `||sqrt p - sqrt q||_2 / sqrt 2`, which has no cancellation near 0
/// (identical inputs give exactly 0).
pub fn hellinger_distance(p: &[f64], q: &[f64]) -> StatResult<f64> {
    if p.len() != q.len() {
        return Err(StatError::LengthMismatch {
            left: p.len(),
            right: q.len(),
        });
    }
    let sp: f64 = p.iter().sum();
    let sq: f64 = q.iter().sum();
    let ss: f64 = p
        .iter()
        .zip(q)
        .map(|(a, b)| {
            let d = (a / sp).sqrt() - (b / sq).sqrt();
            d * d
        })
        .sum();
    Ok((ss / 2.0).sqrt().min(1.0))
}

/// Hellinger distance.
pub struct HellingerDistance;

impl Method for HellingerDistance {
    fn name(&self) -> &'static str {
        "hellinger_distance"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["hellinger"]
    }
    fn kind(&self) -> MetricKind {
        MetricKind::Distance
    }
    fn domains(&self) -> &'static [Domain] {
        &[Domain::Numeric, Domain::Categorical]
    }
    fn range(&self) -> &'static str {
        "[0, 1]"
    }
    fn unit(&self) -> &'static str {
        "unitless"
    }
    fn default_threshold(&self) -> Option<f64> {
        Some(0.1)
    }
    fn summary(&self) -> &'static str {
        "Hellinger distance: one minus the Bhattacharyya overlap of the two distributions, square-rooted."
    }
    fn details(&self) -> &'static str {
        "`H = sqrt(1 - sum_i sqrt(p_i q_i))` over normalised frequencies (Hellinger 1909); 0 \
         for identical, 1 for disjoint distributions. Same bins as `jensen_shannon_distance`."
    }
    fn compute(&self, input: &Input<'_>) -> StatResult<f64> {
        let (b, t) = match input {
            Input::Numeric(n) => (n.baseline_hist, n.target_hist),
            Input::Categorical(c) => (c.baseline, c.target),
        };
        let b: Vec<f64> = b.iter().map(|v| *v as f64).collect();
        let t: Vec<f64> = t.iter().map(|v| *v as f64).collect();
        hellinger_distance(&b, &t)
    }
}
