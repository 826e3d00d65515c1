//! Two-sample Kolmogorov-Smirnov test, as `scipy.stats.ks_2samp`.

use serde::{Deserialize, Serialize};

use super::{Domain, Input, Method, MetricKind};
use crate::error::{StatError, StatResult};
use crate::stats::kolmogorov::{Alternative, kolmogorov_n_sf, two_sample_exact};
use crate::stats::pooled::{PooledWalk, walk};
use crate::stats::sort::sort_f64;

/// How the p-value is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KsMode {
    /// Exact when both samples have at most 10,000 values, else asymptotic
    /// (SciPy's `auto`).
    Auto,
    /// The exact null distribution (falls back to asymptotic on overflow).
    Exact,
    /// The asymptotic distribution.
    Asymp,
}

/// Result of a two-sample KS test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KsTest {
    /// The statistic `D` in `[0, 1]`: the largest CDF difference in the
    /// direction of the alternative.
    pub statistic: f64,
    /// The p-value in `[0, 1]`.
    pub pvalue: f64,
    /// The value at which the largest difference occurs.
    pub location: f64,
    /// +1 when the first sample's CDF is above the second's there, -1 below.
    pub sign: i8,
    /// Whether the exact distribution was used.
    pub exact: bool,
}

const MAX_AUTO_N: usize = 10_000;

/// Two-sample KS test on sorted, finite, non-empty samples.
pub fn ks_2samp_sorted(
    data1: &[f64],
    data2: &[f64],
    alternative: Alternative,
    mode: KsMode,
) -> StatResult<KsTest> {
    let (n1, n2) = (data1.len(), data2.len());
    if n1 == 0 {
        return Err(StatError::EmptySample { side: "first" });
    }
    if n2 == 0 {
        return Err(StatError::EmptySample { side: "second" });
    }
    Ok(ks_from_walk(&walk(data1, data2), alternative, mode))
}

/// The KS test from a pooled walk of the two sorted samples (SciPy's
/// statistic, location and p-value).
pub fn ks_from_walk(w: &PooledWalk, alternative: Alternative, mode: KsMode) -> KsTest {
    let (n1, n2) = (w.n1, w.n2);
    let (f1, f2) = (n1 as f64, n2 as f64);
    let min_s = (-w.min.diff).clamp(0.0, 1.0);
    let max_s = w.max.diff;
    let (mut d, location, sign) = if alternative == Alternative::Less
        || (alternative == Alternative::TwoSided && min_s > max_s)
    {
        (min_s, w.min.location(), -1i8)
    } else {
        (max_s, w.max.location(), 1i8)
    };
    let mut exact = match mode {
        KsMode::Auto => n1.max(n2) <= MAX_AUTO_N,
        KsMode::Exact => true,
        KsMode::Asymp => false,
    };
    let mut pvalue = f64::NAN;
    if exact {
        match two_sample_exact(n1 as u64, n2 as u64, d, alternative) {
            Some((snapped, p)) => {
                d = snapped;
                pvalue = p;
            }
            None => exact = false,
        }
    }
    if !exact {
        let (m, n) = if f1 >= f2 { (f1, f2) } else { (f2, f1) };
        let en = m * n / (m + n);
        pvalue = match alternative {
            Alternative::TwoSided => kolmogorov_n_sf(en.round_ties_even() as u64, d),
            _ => {
                let z = en.sqrt() * d;
                // Hodges (1958) eq. 5.3, with m the larger sample.
                let expt = -2.0 * z * z - 2.0 * z * (m + 2.0 * n) / (m * n * (m + n)).sqrt() / 3.0;
                expt.exp()
            }
        };
    }
    KsTest {
        statistic: d,
        pvalue: if pvalue.is_nan() {
            pvalue
        } else {
            pvalue.clamp(0.0, 1.0)
        },
        location,
        sign,
        exact,
    }
}

/// Two-sample KS test on unsorted samples, equal to
/// `scipy.stats.ks_2samp(data1, data2, alternative, method)`. A NaN in
/// either sample gives an all-NaN result (SciPy's `nan_policy='propagate'`);
/// an empty sample is an error.
pub fn ks_2samp(
    data1: &[f64],
    data2: &[f64],
    alternative: Alternative,
    mode: KsMode,
) -> StatResult<KsTest> {
    if data1.is_empty() {
        return Err(StatError::EmptySample { side: "first" });
    }
    if data2.is_empty() {
        return Err(StatError::EmptySample { side: "second" });
    }
    if data1.iter().chain(data2).any(|v| v.is_nan()) {
        return Ok(KsTest {
            statistic: f64::NAN,
            pvalue: f64::NAN,
            location: f64::NAN,
            sign: 0,
            exact: false,
        });
    }
    let mut a = data1.to_vec();
    let mut b = data2.to_vec();
    sort_f64(&mut a);
    sort_f64(&mut b);
    ks_2samp_sorted(&a, &b, alternative, mode)
}

fn two_sided(input: &Input<'_>) -> StatResult<Option<KsTest>> {
    match input {
        Input::Numeric(n) => Ok(Some(n.ks())),
        Input::Categorical(_) => Ok(None),
    }
}

/// The KS statistic `D = sup |U(x) - V(x)|`.
pub struct KsStatistic;

impl Method for KsStatistic {
    fn name(&self) -> &'static str {
        "ks_statistic"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["ks_d"]
    }
    fn kind(&self) -> MetricKind {
        MetricKind::Distance
    }
    fn domains(&self) -> &'static [Domain] {
        &[Domain::Numeric]
    }
    fn range(&self) -> &'static str {
        "[0, 1]"
    }
    fn unit(&self) -> &'static str {
        "probability (CDF difference)"
    }
    fn default_threshold(&self) -> Option<f64> {
        None
    }
    fn summary(&self) -> &'static str {
        "The largest vertical gap between the baseline's and the target's empirical CDFs: the effect size beside the KS p-value."
    }
    fn details(&self) -> &'static str {
        "`D = max_x |U(x) - V(x)|` (Kolmogorov 1933, Smirnov 1939). Equal to the `statistic` of \
         `scipy.stats.ks_2samp(baseline, target)`; in exact mode it is snapped to the lattice \
         `h / lcm(n1, n2)` as SciPy does."
    }
    fn compute(&self, input: &Input<'_>) -> StatResult<f64> {
        Ok(two_sided(input)?.map_or(f64::NAN, |t| t.statistic))
    }
}

/// The KS test's two-sided p-value.
pub struct KsPvalue;

impl Method for KsPvalue {
    fn name(&self) -> &'static str {
        "ks_pvalue"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["ks"]
    }
    fn kind(&self) -> MetricKind {
        MetricKind::PValue
    }
    fn domains(&self) -> &'static [Domain] {
        &[Domain::Numeric]
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
        "Two-sided two-sample Kolmogorov-Smirnov test of \"baseline and target come from the same continuous distribution\"."
    }
    fn details(&self) -> &'static str {
        "Equal to the `pvalue` of `scipy.stats.ks_2samp(baseline, target)` (method `auto`) to \
         1e-9 relative: exact when both samples have at most 10,000 values (lattice-path \
         counting, Hodges 1958, with Viehmann's 2021 recursion for `1 - p`), otherwise the \
         distribution of the one-sample statistic `D_m` with `m = round(n1 n2 / (n1 + n2))` \
         (`kstwo`, Simard and L'Ecuyer 2011). With ties (discrete data) the test is \
         conservative. At large n every tiny difference is significant: read it beside \
         `ks_statistic`."
    }
    fn compute(&self, input: &Input<'_>) -> StatResult<f64> {
        Ok(two_sided(input)?.map_or(f64::NAN, |t| t.pvalue))
    }
}
