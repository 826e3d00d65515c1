//! The reference system's Euclidean distance of category frequency vectors.

use super::l_infinity::frequencies_total;
use super::{Domain, Input, Method, MetricKind};
use crate::error::StatResult;

/// `sqrt(sum_i (p_i - q_i)^2)` over normalised frequencies.
pub fn euclidean_distance(p: &[u64], q: &[u64]) -> StatResult<f64> {
    let (sp, sq) = frequencies_total(p, q)?;
    Ok(p.iter()
        .zip(q)
        .map(|(a, b)| {
            let d = *a as f64 / sp - *b as f64 / sq;
            d * d
        })
        .sum::<f64>()
        .sqrt())
}

/// Euclidean distance of frequency vectors.
pub struct EuclideanDistance;

impl Method for EuclideanDistance {
    fn name(&self) -> &'static str {
        "euclidean_distance"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["euclidean"]
    }
    fn kind(&self) -> MetricKind {
        MetricKind::Distance
    }
    fn domains(&self) -> &'static [Domain] {
        &[Domain::Categorical]
    }
    fn range(&self) -> &'static str {
        "[0, sqrt(2)]"
    }
    fn unit(&self) -> &'static str {
        "probability"
    }
    fn default_threshold(&self) -> Option<f64> {
        Some(0.1)
    }
    fn summary(&self) -> &'static str {
        "The reference system's categorical distance: the Euclidean norm of the change in category shares."
    }
    fn details(&self) -> &'static str {
        "`sqrt(sum_i (p_i - q_i)^2)` over normalised frequencies of the union of categories \
         (here: baseline categories, the missing category and the unseen bucket). Kept for \
         parity with the reference system; ranges from 0 to sqrt(2) (two disjoint single \
         categories)."
    }
    fn compute(&self, input: &Input<'_>) -> StatResult<f64> {
        match input {
            Input::Categorical(c) => euclidean_distance(c.baseline, c.target),
            Input::Numeric(_) => Ok(f64::NAN),
        }
    }
}
