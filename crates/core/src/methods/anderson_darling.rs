//! k-sample Anderson-Darling test for two samples, as
//! `scipy.stats.anderson_ksamp([x, y], midrank=True)`.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use super::{Domain, Input, Method, MetricKind};
use crate::error::{StatError, StatResult};
use crate::stats::pooled::{PooledWalk, walk};

/// Result of the Anderson-Darling k-sample test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AndersonKsamp {
    /// The normalised statistic `(A2kN - (k - 1)) / sigma`.
    pub statistic: f64,
    /// The interpolated p-value, clipped to `[0.001, 0.25]`.
    pub pvalue: f64,
}

/// Significance levels of Scholz and Stephens' (1987) Table 2.
const SIG: [f64; 7] = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001];
const B0: [f64; 7] = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085];
const B1: [f64; 7] = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615];
const B2: [f64; 7] = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154];

/// Least-squares quadratic through points (x, y): coefficients of
/// `c0 x^2 + c1 x + c2` (NumPy's `polyfit(x, y, 2)` order).
fn polyfit2(x: &[f64], y: &[f64]) -> [f64; 3] {
    // Normal equations on centred and scaled x for conditioning.
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let sx = (x.iter().map(|v| (v - mx) * (v - mx)).sum::<f64>() / n).sqrt();
    let t: Vec<f64> = x.iter().map(|v| (v - mx) / sx).collect();
    let mut a = [[0.0f64; 4]; 3];
    for (ti, yi) in t.iter().zip(y) {
        let row = [ti * ti, *ti, 1.0];
        for r in 0..3 {
            for c in 0..3 {
                a[r][c] += row[r] * row[c];
            }
            a[r][3] += row[r] * yi;
        }
    }
    // Gaussian elimination with partial pivoting.
    for col in 0..3 {
        let piv = (col..3)
            .max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))
            .unwrap_or(col);
        a.swap(col, piv);
        for r in 0..3 {
            if r != col {
                let f = a[r][col] / a[col][col];
                let pivot_row = a[col];
                for (x, p) in a[r].iter_mut().zip(pivot_row).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    let (p, q, r) = (a[0][3] / a[0][0], a[1][3] / a[1][1], a[2][3] / a[2][2]);
    // p t^2 + q t + r with t = (x - mx)/sx, expanded in x.
    let s2 = sx * sx;
    [
        p / s2,
        -2.0 * p * mx / s2 + q / sx,
        p * mx * mx / s2 - q * mx / sx + r,
    ]
}

/// `h = sum_{i=1}^{N-1} 1/i` and
/// `g = sum_{i=2}^{N-1} (1/i) sum_{j=N-i+1}^{N-1} 1/j`, summed in SciPy's
/// order. They cost `O(N)` and depend on `N` only, so they are remembered:
/// a comparison's features usually share one `N`.
fn harmonic_sums(n: usize) -> (f64, f64) {
    static MEMO: OnceLock<Mutex<HashMap<usize, (f64, f64)>>> = OnceLock::new();
    let memo = MEMO.get_or_init(Default::default);
    if let Some(v) = memo.lock().ok().and_then(|m| m.get(&n).copied()) {
        return v;
    }
    let mut g = 0.0;
    let mut cum = 0.0;
    for (idx, j) in (2..n).rev().enumerate() {
        cum += 1.0 / j as f64;
        g += cum / (idx + 2) as f64;
    }
    let h = cum + 1.0;
    if let Ok(mut m) = memo.lock() {
        if m.len() > 1024 {
            m.clear();
        }
        m.insert(n, (h, g));
    }
    (h, g)
}

/// Anderson-Darling k-sample test (k = 2) on sorted, finite samples, with
/// midranks for ties (Scholz and Stephens 1987, J. Am. Stat. Assoc. 82(399)).
///
/// The p-value is interpolated on Scholz and Stephens' table of critical
/// values (quadratic in log p) and clipped to `[0.001, 0.25]`, as SciPy's
/// default: beyond that range it is only a bound.
pub fn anderson_ksamp(x: &[f64], y: &[f64]) -> StatResult<AndersonKsamp> {
    if x.is_empty() {
        return Err(StatError::EmptySample { side: "first" });
    }
    if y.is_empty() {
        return Err(StatError::EmptySample { side: "second" });
    }
    anderson_from_walk(&walk(x, y))
}

/// The test from a pooled walk of the two sorted samples.
pub fn anderson_from_walk(w: &PooledWalk) -> StatResult<AndersonKsamp> {
    let k = 2.0f64;
    let n_total = w.n1 + w.n2;
    let nf = n_total as f64;
    if n_total < 4 {
        // The null variance has N - 3 in its denominator.
        return Err(StatError::TooFew {
            what: "the Anderson-Darling test",
            needed: 4,
            got: n_total,
        });
    }
    if w.distinct < 2 {
        return Err(StatError::Constant {
            what: "the Anderson-Darling test",
            n: n_total,
            value: w.smallest,
        });
    }
    let (nx, ny) = (w.n1 as f64, w.n2 as f64);
    let a2akn = (w.ad_inner.0 / nx + w.ad_inner.1 / ny) * (nf - 1.0) / nf;

    let (h, g) = harmonic_sums(n_total);
    let hh = 1.0 / nx + 1.0 / ny; // H = sum_i 1/n_i
    let a = (4.0 * g - 6.0) * (k - 1.0) + (10.0 - 6.0 * g) * hh;
    let b = (2.0 * g - 4.0) * k * k + 8.0 * h * k + (2.0 * g - 14.0 * h - 4.0) * hh - 8.0 * h
        + 4.0 * g
        - 6.0;
    let c = (6.0 * h + 2.0 * g - 2.0) * k * k
        + (4.0 * h - 4.0 * g + 6.0) * k
        + (2.0 * h - 6.0) * hh
        + 4.0 * h;
    let d = (2.0 * h + 6.0) * k * k - 4.0 * h * k;
    let sigmasq =
        (a * nf.powi(3) + b * nf * nf + c * nf + d) / ((nf - 1.0) * (nf - 2.0) * (nf - 3.0));
    let m = k - 1.0;
    let statistic = (a2akn - m) / sigmasq.sqrt();
    let critical: Vec<f64> = (0..7)
        .map(|i| B0[i] + B1[i] / m.sqrt() + B2[i] / m)
        .collect();
    let cmin = critical.iter().copied().fold(f64::INFINITY, f64::min);
    let cmax = critical.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let pvalue = if statistic < cmin {
        0.25
    } else if statistic > cmax {
        0.001
    } else {
        let logsig: Vec<f64> = SIG.iter().map(|s| s.ln()).collect();
        let [c0, c1, c2] = polyfit2(&critical, &logsig);
        (c0 * statistic * statistic + c1 * statistic + c2).exp()
    };
    Ok(AndersonKsamp { statistic, pvalue })
}

/// The Anderson-Darling k-sample test's p-value.
pub struct AndersonDarlingPvalue;

impl Method for AndersonDarlingPvalue {
    fn name(&self) -> &'static str {
        "anderson_darling_pvalue"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["anderson_darling", "anderson"]
    }
    fn kind(&self) -> MetricKind {
        MetricKind::PValue
    }
    fn domains(&self) -> &'static [Domain] {
        &[Domain::Numeric]
    }
    fn range(&self) -> &'static str {
        "[0.001, 0.25] (clipped)"
    }
    fn unit(&self) -> &'static str {
        "probability"
    }
    fn default_threshold(&self) -> Option<f64> {
        Some(0.05)
    }
    fn summary(&self) -> &'static str {
        "Anderson-Darling k-sample test: a CDF-gap test that weighs the tails more than KS or Cramér-von Mises."
    }
    fn details(&self) -> &'static str {
        "Scholz and Stephens (1987) `A2akN` with midranks for ties, normalised by its null \
         variance; the p-value is interpolated (quadratic in log p) on their table of critical \
         values and clipped to [0.001, 0.25], exactly as \
         `scipy.stats.anderson_ksamp([baseline, target]).pvalue`. Values at the clip are bounds, \
         not estimates: 0.25 means \"at least 0.25\", 0.001 \"at most 0.001\"."
    }
    fn compute(&self, input: &Input<'_>) -> StatResult<f64> {
        match input {
            Input::Numeric(n) => Ok(anderson_from_walk(n.walk())?.pvalue),
            Input::Categorical(_) => Ok(f64::NAN),
        }
    }
}
