//! Is the domain classifier better than chance on held-out rows?
//!
//! The test: on the held-out half, the area under the ROC curve times
//! `n0 n1` is the Mann-Whitney `U` statistic of the target rows' scores
//! against the baseline rows' scores. The model was fitted on the other
//! half, so on the held-out half its scores are a fixed function of each
//! row; if baseline and target come from one distribution (no drift), the
//! held-out rows are exchangeable and every assignment of the labels to
//! them is equally likely, which is exactly the Mann-Whitney null. So the
//! one-sided Mann-Whitney test of "target scores are stochastically
//! larger" is a valid test of "the classifier does no better than chance",
//! whatever the classifier. Only the held-out half may be used: scores on
//! training rows are not exchangeable.
//!
//! The p-value uses the normal approximation with tie correction and
//! continuity correction, equal to `scipy.stats.mannwhitneyu(target_scores,
//! baseline_scores, alternative='greater', method='asymptotic')`; held-out
//! halves are hundreds of rows or more, where it is accurate.

use crate::error::{StatError, StatResult};
use crate::stats::special::normal_sf;

/// Result of the chance-level test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChanceTest {
    /// Held-out ROC AUC, in [0, 1]; 0.5 is chance.
    pub auc: f64,
    /// The Mann-Whitney `U` of the positive (target) scores.
    pub u: f64,
    /// The standardised statistic (with continuity correction).
    pub z: f64,
    /// One-sided p-value of "AUC is no better than 0.5".
    pub pvalue: f64,
}

/// Tests held-out `scores` against `labels` (`true` = target row).
pub fn chance_test(scores: &[f64], labels: &[bool]) -> StatResult<ChanceTest> {
    if scores.len() != labels.len() {
        return Err(StatError::LengthMismatch {
            left: scores.len(),
            right: labels.len(),
        });
    }
    if let Some((index, &value)) = scores.iter().enumerate().find(|(_, s)| !s.is_finite()) {
        return Err(StatError::NonFinite { index, value });
    }
    let n1 = labels.iter().filter(|l| **l).count();
    let n0 = labels.len() - n1;
    if n1 == 0 {
        return Err(StatError::EmptySample { side: "target" });
    }
    if n0 == 0 {
        return Err(StatError::EmptySample { side: "baseline" });
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_unstable_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Midranks; the positives' rank sum and the tie term sum(t^3 - t).
    let (mut rank_sum, mut ties) = (0.0f64, 0.0f64);
    let mut k = 0;
    while k < order.len() {
        let mut end = k + 1;
        while end < order.len() && scores[order[end]] == scores[order[k]] {
            end += 1;
        }
        let t = (end - k) as f64;
        let midrank = (k + end + 1) as f64 / 2.0;
        rank_sum += midrank * order[k..end].iter().filter(|&&i| labels[i]).count() as f64;
        ties += t * t * t - t;
        k = end;
    }
    let (f0, f1) = (n0 as f64, n1 as f64);
    let n = f0 + f1;
    let u = rank_sum - f1 * (f1 + 1.0) / 2.0;
    let mu = f0 * f1 / 2.0;
    let sigma = (f0 * f1 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)))).sqrt();
    let (z, pvalue) = if sigma > 0.0 {
        let z = (u - mu - 0.5) / sigma;
        (z, normal_sf(z))
    } else {
        // Every score equal: no evidence either way.
        (0.0, 1.0)
    };
    Ok(ChanceTest {
        auc: u / (f0 * f1),
        u,
        z,
        pvalue,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::scoring::roc_auc;

    #[test]
    fn matches_scipy_mannwhitneyu() {
        // scipy.stats.mannwhitneyu(pos, neg, alternative='greater',
        // method='asymptotic') with pos = scores of label 1, neg of label 0.
        let scores = [
            0.1, 0.4, 0.35, 0.8, 0.7, 0.2, 0.9, 0.35, 0.6, 0.05, 0.5, 0.65,
        ];
        let labels = [
            false, false, true, true, true, false, true, false, true, false, false, true,
        ];
        let t = chance_test(&scores, &labels).unwrap();
        assert_eq!(t.u, 33.5);
        assert!(
            (t.pvalue - 0.008061207671650176).abs() < 1e-12,
            "{}",
            t.pvalue
        );
        let labels_b: Vec<bool> = labels.to_vec();
        assert!((t.auc - roc_auc(&labels_b, &scores, None)).abs() < 1e-15);
    }

    #[test]
    fn no_signal_is_not_significant_and_perfect_separation_is() {
        let scores = [0.5; 40];
        let labels: Vec<bool> = (0..40).map(|i| i % 2 == 0).collect();
        let t = chance_test(&scores, &labels).unwrap();
        assert_eq!((t.auc, t.pvalue), (0.5, 1.0));
        let scores: Vec<f64> = (0..40)
            .map(|i| {
                if i % 2 == 0 {
                    1.0 + i as f64
                } else {
                    -(i as f64)
                }
            })
            .collect();
        let t = chance_test(&scores, &labels).unwrap();
        assert_eq!(t.auc, 1.0);
        assert!(t.pvalue < 1e-6);
    }

    #[test]
    fn degenerate_inputs_are_errors() {
        assert!(chance_test(&[0.1, 0.2], &[true, true]).is_err());
        assert!(chance_test(&[0.1, f64::NAN], &[true, false]).is_err());
        assert!(chance_test(&[0.1], &[true, false]).is_err());
    }
}
