//! Jensen-Shannon distance between two frequency vectors.

use super::{Domain, Input, Method, MetricKind};
use crate::error::{StatError, StatResult};

fn rel_entr(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x > 0.0 && y > 0.0 {
        x * (x / y).ln()
    } else if x == 0.0 && y >= 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// `scipy.spatial.distance.jensenshannon(p, q, base)`: `p` and `q` are
/// normalised to sum 1; the result is the square root of the JS divergence
/// in the given log base (`None`: natural log). NaN when a vector sums to 0
/// or contains NaN, as in SciPy.
pub fn jensen_shannon_distance(p: &[f64], q: &[f64], base: Option<f64>) -> StatResult<f64> {
    if p.len() != q.len() {
        return Err(StatError::LengthMismatch {
            left: p.len(),
            right: q.len(),
        });
    }
    let sp: f64 = p.iter().sum();
    let sq: f64 = q.iter().sum();
    let (mut left, mut right) = (0.0, 0.0);
    for (a, b) in p.iter().zip(q) {
        let (a, b) = (a / sp, b / sq);
        let m = (a + b) / 2.0;
        left += rel_entr(a, m);
        right += rel_entr(b, m);
    }
    let mut js = left + right;
    if let Some(base) = base {
        js /= base.ln();
    }
    Ok((js / 2.0).sqrt())
}

fn as_f64(c: &[u64]) -> Vec<f64> {
    c.iter().map(|v| *v as f64).collect()
}

/// Jensen-Shannon distance, base 2.
pub struct JensenShannonDistance;

impl Method for JensenShannonDistance {
    fn name(&self) -> &'static str {
        "jensen_shannon_distance"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["jensenshannon", "js"]
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
        "square root of bits (log base 2)"
    }
    fn default_threshold(&self) -> Option<f64> {
        Some(0.1)
    }
    fn summary(&self) -> &'static str {
        "Jensen-Shannon distance: the square root of the symmetric, bounded divergence of each side from their average."
    }
    fn details(&self) -> &'static str {
        "`JS = sqrt((KL(p || m) + KL(q || m)) / 2)` with `m = (p + q) / 2`, logarithms base 2 \
         so that it lies in [0, 1] (1 for disjoint supports). A distance (the square root), not \
         the divergence. Numeric features use the baseline's histogram bins with underflow and \
         overflow buckets; categorical features the baseline's categories plus an unseen \
         bucket. Equal to `scipy.spatial.distance.jensenshannon(p, q, base=2)`. Lin (1991), \
         IEEE Trans. Inf. Theory 37(1); Endres and Schindelin (2003) for the metric property."
    }
    fn compute(&self, input: &Input<'_>) -> StatResult<f64> {
        let (b, t) = match input {
            Input::Numeric(n) => (n.baseline_hist, n.target_hist),
            Input::Categorical(c) => (c.baseline, c.target),
        };
        jensen_shannon_distance(&as_f64(b), &as_f64(t), Some(2.0))
    }
}
