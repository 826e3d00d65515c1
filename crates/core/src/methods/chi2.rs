//! Chi-square tests: goodness of fit, power divergence, and the test of
//! homogeneity on a 2 x k contingency table (baseline row, target row).

use super::{Domain, Input, Method, MetricKind};
use crate::error::{StatError, StatResult};
use crate::stats::special::chi2_sf;

/// The power-divergence family member (Cressie and Read 1984).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lambda {
    /// Pearson's chi-square (lambda = 1).
    Pearson,
    /// The G-test / log-likelihood ratio (lambda = 0).
    LogLikelihood,
}

/// A chi-square test result.
#[derive(Debug, Clone, PartialEq)]
pub struct Chi2Test {
    /// The statistic, `[0, inf)`.
    pub statistic: f64,
    /// The p-value.
    pub pvalue: f64,
    /// Degrees of freedom.
    pub dof: f64,
}

fn term(obs: f64, exp: f64, lambda: Lambda) -> f64 {
    match lambda {
        Lambda::Pearson => (obs - exp) * (obs - exp) / exp,
        Lambda::LogLikelihood => {
            if obs == 0.0 {
                0.0
            } else {
                2.0 * obs * (obs / exp).ln()
            }
        }
    }
}

/// `scipy.stats.power_divergence(f_obs, f_exp, ddof, lambda_)`: expected
/// frequencies default to the mean of the observed ones; the p-value uses
/// `k - 1 - ddof` degrees of freedom (NaN when that is not positive).
pub fn power_divergence(
    f_obs: &[f64],
    f_exp: Option<&[f64]>,
    ddof: i64,
    lambda: Lambda,
) -> StatResult<Chi2Test> {
    let k = f_obs.len();
    let mean = f_obs.iter().sum::<f64>() / k as f64;
    let expected: Vec<f64> = match f_exp {
        Some(e) => {
            if e.len() != k {
                return Err(StatError::LengthMismatch {
                    left: k,
                    right: e.len(),
                });
            }
            let (so, se) = (f_obs.iter().sum::<f64>(), e.iter().sum::<f64>());
            if (so - se).abs() > 1e-8 * so.abs().max(se.abs()) {
                return Err(StatError::InvalidParameter {
                    name: "f_exp",
                    value: format!("sum {se} against observed sum {so}"),
                    why: "observed and expected frequencies must have the same sum",
                });
            }
            e.to_vec()
        }
        None => vec![mean; k],
    };
    let statistic: f64 = f_obs
        .iter()
        .zip(&expected)
        .map(|(o, e)| term(*o, *e, lambda))
        .sum();
    let dof = k as i64 - 1 - ddof;
    let pvalue = if dof > 0 {
        chi2_sf(statistic, dof as f64)
    } else {
        f64::NAN
    };
    Ok(Chi2Test {
        statistic,
        pvalue,
        dof: dof as f64,
    })
}

/// `scipy.stats.chisquare(f_obs, f_exp, ddof)`: Pearson's goodness of fit.
pub fn chisquare(f_obs: &[f64], f_exp: Option<&[f64]>, ddof: i64) -> StatResult<Chi2Test> {
    power_divergence(f_obs, f_exp, ddof, Lambda::Pearson)
}

/// `scipy.stats.chi2_contingency([baseline, target], correction, lambda_)`:
/// the test of homogeneity of a 2 x k table. Expected counts are
/// `row total * column total / n`; Yates' continuity correction applies when
/// `correction` is set and the table has one degree of freedom. A category
/// with no observation on either side is an error, as in SciPy.
pub fn chi2_contingency(
    baseline: &[f64],
    target: &[f64],
    correction: bool,
    lambda: Lambda,
) -> StatResult<Chi2Test> {
    if baseline.len() != target.len() {
        return Err(StatError::LengthMismatch {
            left: baseline.len(),
            right: target.len(),
        });
    }
    let k = baseline.len();
    let rows = [baseline.iter().sum::<f64>(), target.iter().sum::<f64>()];
    let n = rows[0] + rows[1];
    let mut observed = Vec::with_capacity(2 * k);
    let mut expected = Vec::with_capacity(2 * k);
    for (r, row) in [baseline, target].iter().enumerate() {
        for (c, &o) in row.iter().enumerate() {
            let col = baseline[c] + target[c];
            let e = rows[r] * col / n;
            if e == 0.0 {
                return Err(StatError::ZeroExpected { column: c });
            }
            observed.push(o);
            expected.push(e);
        }
    }
    let dof = k.saturating_sub(1);
    if dof == 0 {
        return Ok(Chi2Test {
            statistic: 0.0,
            pvalue: 1.0,
            dof: 0.0,
        });
    }
    if dof == 1 && correction {
        for (o, e) in observed.iter_mut().zip(&expected) {
            let diff = e - *o;
            let magnitude = diff.abs().min(0.5);
            *o += magnitude * diff.signum() * f64::from(diff != 0.0);
        }
    }
    let statistic: f64 = observed
        .iter()
        .zip(&expected)
        .map(|(o, e)| term(*o, *e, lambda))
        .sum();
    Ok(Chi2Test {
        statistic,
        pvalue: chi2_sf(statistic, dof as f64),
        dof: dof as f64,
    })
}

/// Counts of categories seen on at least one side (columns empty on both
/// sides carry no information and would make the expected table singular).
fn nonempty_columns(b: &[u64], t: &[u64]) -> (Vec<f64>, Vec<f64>) {
    b.iter()
        .zip(t)
        .filter(|(x, y)| **x + **y > 0)
        .map(|(x, y)| (*x as f64, *y as f64))
        .unzip()
}

/// The test of homogeneity on baseline and target category counts, with
/// Yates' correction for two categories.
pub(super) fn homogeneity(baseline: &[u64], target: &[u64]) -> StatResult<Chi2Test> {
    let (b, t) = nonempty_columns(baseline, target);
    chi2_contingency(&b, &t, true, Lambda::Pearson)
}

fn homogeneity_of(input: &Input<'_>) -> StatResult<Option<Chi2Test>> {
    match input {
        Input::Categorical(c) => c.homogeneity().map(Some),
        Input::Numeric(_) => Ok(None),
    }
}

const DETAILS: &str = "The test of homogeneity on the 2 x k contingency table of baseline and \
    target counts per category (the baseline's categories, the missing category, and one bucket \
    for categories the baseline never saw), with Yates' correction when k = 2: \
    `scipy.stats.chi2_contingency([baseline, target])`. Not a goodness-of-fit test against \
    baseline proportions, so the baseline's own sampling noise is accounted for, and a new \
    category gives a finite statistic rather than p = 0. Categories absent on both sides are \
    left out.";

/// Chi-square statistic of the test of homogeneity.
pub struct Chi2Statistic;

impl Method for Chi2Statistic {
    fn name(&self) -> &'static str {
        "chi2_statistic"
    }
    fn kind(&self) -> MetricKind {
        MetricKind::Statistic
    }
    fn domains(&self) -> &'static [Domain] {
        &[Domain::Categorical]
    }
    fn range(&self) -> &'static str {
        "[0, inf)"
    }
    fn unit(&self) -> &'static str {
        "chi-square units (grows with n)"
    }
    fn default_threshold(&self) -> Option<f64> {
        None
    }
    fn summary(&self) -> &'static str {
        "Pearson's chi-square statistic of the baseline-vs-target contingency table."
    }
    fn details(&self) -> &'static str {
        DETAILS
    }
    fn compute(&self, input: &Input<'_>) -> StatResult<f64> {
        Ok(homogeneity_of(input)?.map_or(f64::NAN, |t| t.statistic))
    }
}

/// P-value of the chi-square test of homogeneity.
pub struct Chi2Pvalue;

impl Method for Chi2Pvalue {
    fn name(&self) -> &'static str {
        "chi2_pvalue"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["chisquare", "chi2"]
    }
    fn kind(&self) -> MetricKind {
        MetricKind::PValue
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
        Some(0.05)
    }
    fn summary(&self) -> &'static str {
        "Chi-square test of homogeneity: do baseline and target share the same category proportions?"
    }
    fn details(&self) -> &'static str {
        DETAILS
    }
    fn compute(&self, input: &Input<'_>) -> StatResult<f64> {
        Ok(homogeneity_of(input)?.map_or(f64::NAN, |t| t.pvalue))
    }
}
