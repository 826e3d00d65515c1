//! Population stability index.

use super::{Domain, Input, Method, MetricKind};
use crate::error::{StatError, StatResult};
use crate::stats::histogram::{BinRule, bin_edges, counts};
use crate::stats::summary::quantile_sorted;

/// How empty bins are filled before taking logarithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZeroFill {
    /// A zero proportion becomes 1e-4 (no renormalisation).
    Fixed,
    /// A zero proportion becomes (smallest non-zero proportion) / 1e6 when
    /// that is at most 1e-4, else 1e-4; each side separately (Evidently).
    Adaptive,
}

fn fill(props: &mut [f64], rule: ZeroFill) {
    let value = match rule {
        ZeroFill::Fixed => 1e-4,
        ZeroFill::Adaptive => {
            let min = props
                .iter()
                .copied()
                .filter(|p| *p > 0.0)
                .fold(f64::INFINITY, f64::min);
            if min <= 1e-4 { min / 1e6 } else { 1e-4 }
        }
    };
    for p in props.iter_mut() {
        if *p == 0.0 {
            *p = value;
        }
    }
}

/// `PSI = sum_i (b_i - t_i) ln(b_i / t_i)` over bin proportions of the
/// baseline (`b`) and target (`t`) counts, after zero filling.
pub fn psi(baseline: &[u64], target: &[u64], rule: ZeroFill) -> StatResult<f64> {
    if baseline.len() != target.len() {
        return Err(StatError::LengthMismatch {
            left: baseline.len(),
            right: target.len(),
        });
    }
    let nb: u64 = baseline.iter().sum();
    let nt: u64 = target.iter().sum();
    if nb == 0 {
        return Err(StatError::EmptySample { side: "baseline" });
    }
    if nt == 0 {
        return Err(StatError::EmptySample { side: "target" });
    }
    let mut b: Vec<f64> = baseline.iter().map(|c| *c as f64 / nb as f64).collect();
    let mut t: Vec<f64> = target.iter().map(|c| *c as f64 / nt as f64).collect();
    fill(&mut b, rule);
    fill(&mut t, rule);
    Ok(b.iter().zip(&t).map(|(b, t)| (b - t) * (b / t).ln()).sum())
}

/// Inner edges of the baseline's decile bins (`numpy.quantile` at 0.1..0.9,
/// de-duplicated): bins are `(-inf, e1), [e1, e2), ..., [e9, inf)`.
pub fn psi_quantile_edges(sorted_baseline: &[f64], bins: usize) -> Vec<f64> {
    let mut edges: Vec<f64> = (0..=bins)
        .map(|i| quantile_sorted(sorted_baseline, i as f64 / bins as f64))
        .collect();
    edges.dedup();
    if edges.len() <= 2 {
        return Vec::new();
    }
    edges[1..edges.len() - 1].to_vec()
}

/// Counts of sorted `values` in the left-closed bins cut at `inner` edges.
pub fn quantile_bin_counts(sorted_values: &[f64], inner: &[f64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(inner.len() + 1);
    let mut prev = 0usize;
    for &e in inner {
        // values < e fall in bins up to this edge (searchsorted side='right' on the edges)
        let idx = sorted_values.partition_point(|v| *v < e);
        out.push((idx - prev) as u64);
        prev = idx;
    }
    out.push((sorted_values.len() - prev) as u64);
    out
}

/// PSI with Evidently's binning: Sturges bins over the pooled sample,
/// adaptive zero fill (`psi_binning = 'sturges_combined'` in the reference
/// cases). Re-bins on every target, so it is a compatibility function only.
pub fn psi_sturges_combined(baseline: &[f64], target: &[f64]) -> StatResult<f64> {
    let mut pooled: Vec<f64> = baseline.iter().chain(target).copied().collect();
    crate::stats::sort_values(&mut pooled);
    let edges = bin_edges(&pooled, BinRule::Sturges, None)?;
    let (b, _, _) = counts(baseline, &edges);
    let (t, _, _) = counts(target, &edges);
    psi(&b, &t, ZeroFill::Adaptive)
}

/// Population stability index.
pub struct Psi;

impl Method for Psi {
    fn name(&self) -> &'static str {
        "psi"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["population_stability_index"]
    }
    fn kind(&self) -> MetricKind {
        MetricKind::Distance
    }
    fn domains(&self) -> &'static [Domain] {
        &[Domain::Numeric, Domain::Categorical]
    }
    fn range(&self) -> &'static str {
        "[0, inf)"
    }
    fn unit(&self) -> &'static str {
        "nats (natural log)"
    }
    fn default_threshold(&self) -> Option<f64> {
        Some(0.1)
    }
    fn summary(&self) -> &'static str {
        "Population stability index: a symmetrised Kullback-Leibler divergence over bins fixed by the baseline."
    }
    fn details(&self) -> &'static str {
        "`PSI = sum_i (b_i - t_i) ln(b_i / t_i)` over baseline (`b`) and target (`t`) \
         proportions. Numeric features use the baseline's deciles as bins (left-closed, outer \
         bins open-ended, duplicate edges merged) and fill an empty bin with 1e-4; categorical \
         features use one bin per baseline category plus one for unseen categories, filling \
         empty bins with (smallest non-zero proportion) / 1e6 when that is at most 1e-4, else \
         1e-4. Missing values are excluded from numeric PSI and are their own category for \
         categorical PSI. Rule of thumb: below 0.1 stable, 0.1-0.25 moderate, above 0.25 major \
         shift (Siddiqi 2006, Credit Risk Scorecards)."
    }
    fn compute(&self, input: &Input<'_>) -> StatResult<f64> {
        match input {
            Input::Numeric(n) => psi(n.baseline_deciles, n.target_deciles, ZeroFill::Fixed),
            Input::Categorical(c) => psi(c.baseline, c.target, ZeroFill::Adaptive),
        }
    }
}
