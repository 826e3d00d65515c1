//! Multiple-testing corrections across features.
//!
//! Adjusted p-values (`statsmodels.stats.multitest.multipletests` with
//! `fdr_bh` and `bonferroni`): a feature is significant at level `alpha`
//! when its adjusted p-value is below `alpha`. NaN p-values stay NaN and do
//! not count towards the number of tests.

use serde::{Deserialize, Serialize};

/// A correction for testing many features at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Correction {
    /// No correction.
    None,
    /// Benjamini-Hochberg (1995) false discovery rate (the default).
    #[default]
    BenjaminiHochberg,
    /// Bonferroni family-wise error rate.
    Bonferroni,
}

impl Correction {
    /// Parses `none`, `bh` / `benjamini-hochberg`, `bonferroni`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "none" => Correction::None,
            "bh" | "benjamini-hochberg" | "fdr_bh" => Correction::BenjaminiHochberg,
            "bonferroni" => Correction::Bonferroni,
            _ => return None,
        })
    }

    /// Adjusted p-values, in the order given.
    pub fn adjust(self, pvalues: &[f64]) -> Vec<f64> {
        let valid: Vec<usize> = (0..pvalues.len())
            .filter(|&i| !pvalues[i].is_nan())
            .collect();
        let m = valid.len() as f64;
        let mut out = pvalues.to_vec();
        match self {
            Correction::None => {}
            Correction::Bonferroni => {
                for &i in &valid {
                    out[i] = (pvalues[i] * m).min(1.0);
                }
            }
            Correction::BenjaminiHochberg => {
                let mut order = valid.clone();
                order.sort_by(|&a, &b| pvalues[a].total_cmp(&pvalues[b]));
                let mut running = 1.0f64;
                for (rank, &i) in order.iter().enumerate().rev() {
                    let adj = pvalues[i] * m / (rank + 1) as f64;
                    running = running.min(adj);
                    out[i] = running.min(1.0);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bh_matches_statsmodels() {
        // multipletests([0.01, 0.04, 0.03, 0.2], method='fdr_bh')[1]
        let adj = Correction::BenjaminiHochberg.adjust(&[0.01, 0.04, 0.03, 0.2]);
        let want = [0.04, 0.16 / 3.0, 0.16 / 3.0, 0.2];
        for (a, w) in adj.iter().zip(want) {
            assert!((a - w).abs() < 1e-15, "{a} vs {w}");
        }
        let bonf = Correction::Bonferroni.adjust(&[0.01, f64::NAN, 0.5]);
        assert_eq!(bonf[0], 0.02);
        assert!(bonf[1].is_nan());
        assert_eq!(bonf[2], 1.0);
    }
}
