//! L-infinity distance between category frequencies.

use super::{Domain, Input, Method, MetricKind};
use crate::error::{StatError, StatResult};

/// `max_i |p_i - q_i|` over normalised frequencies.
pub fn l_infinity_distance(p: &[u64], q: &[u64]) -> StatResult<f64> {
    let (sp, sq) = frequencies_total(p, q)?;
    Ok(p.iter()
        .zip(q)
        .map(|(a, b)| (*a as f64 / sp - *b as f64 / sq).abs())
        .fold(0.0, f64::max))
}

pub(super) fn frequencies_total(p: &[u64], q: &[u64]) -> StatResult<(f64, f64)> {
    if p.len() != q.len() {
        return Err(StatError::LengthMismatch {
            left: p.len(),
            right: q.len(),
        });
    }
    let sp: u64 = p.iter().sum();
    let sq: u64 = q.iter().sum();
    if sp == 0 {
        return Err(StatError::EmptySample { side: "baseline" });
    }
    if sq == 0 {
        return Err(StatError::EmptySample { side: "target" });
    }
    Ok((sp as f64, sq as f64))
}

/// L-infinity distance.
pub struct LInfinityDistance;

impl Method for LInfinityDistance {
    fn name(&self) -> &'static str {
        "l_infinity_distance"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["l_infinity", "linf"]
    }
    fn kind(&self) -> MetricKind {
        MetricKind::Distance
    }
    fn domains(&self) -> &'static [Domain] {
        &[Domain::Categorical]
    }
    fn range(&self) -> &'static str {
        "[0, 1]"
    }
    fn unit(&self) -> &'static str {
        "probability"
    }
    fn default_threshold(&self) -> Option<f64> {
        Some(0.1)
    }
    fn summary(&self) -> &'static str {
        "The largest change in any one category's share."
    }
    fn details(&self) -> &'static str {
        "`max_i |p_i - q_i|` over the baseline's categories, the missing category and the \
         unseen bucket (NannyML's L-infinity). Easy to read: 0.12 means some category's share \
         moved by 12 percentage points."
    }
    fn compute(&self, input: &Input<'_>) -> StatResult<f64> {
        match input {
            Input::Categorical(c) => l_infinity_distance(c.baseline, c.target),
            Input::Numeric(_) => Ok(f64::NAN),
        }
    }
}
