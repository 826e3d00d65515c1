//! The domain classifier: how well can gradient-boosted trees tell
//! baseline rows from target rows?
//!
//! Baseline rows are labelled 0 and target rows 1. The rows are split 50/50
//! with the same share of each label in both halves (the reference system's
//! single split, here seeded); the trees are fitted on one half and score
//! the other. The held-out scores give:
//! * `mcc`: the Matthews correlation of the predicted labels (probability
//!   above 0.5), raw, in [-1, 1], as the reference system stored it;
//! * `drift_coefficient = max(0, mcc)`, in [0, 1]: 0 means the classifier
//!   cannot tell the sides apart, 1 that it separates them perfectly;
//! * `auc`: the held-out ROC AUC, in [0, 1], 0.5 at chance;
//! * `pvalue`: the one-sided Mann-Whitney test of "the held-out AUC is no
//!   better than chance" ([`super::significance`]).
//!
//! Intervals come from repeating the split with further seeds: the 2.5 %
//! and 97.5 % quantiles of the repeated held-out values with 40 repeats or
//! more, their range (minimum, maximum) with fewer, where quantiles would
//! be interpolated guesses. They show the spread due to the split, not a
//! sampling interval of a population value.
//!
//! Contributions are each feature's share of the total split gain (loss
//! reduction) of the fitted trees, averaged over the repeats, summing to 1:
//! a feature that separates the sides well earns large gains. Known biases:
//! gain favours features with many distinct values a little (more candidate
//! thresholds), and correlated features share credit. The raw split counts
//! (the reference system's contribution) are kept for parity; they follow
//! how continuous a feature is more than whether it drifted.

use rayon::prelude::*;

use super::gbdt::{BinnedColumn, Booster, Params};
use super::sampling::{Rng, stratified_halves};
use super::significance::chance_test;
use crate::error::{StatError, StatResult};
use crate::stats::scoring::{matthews_corrcoef, roc_auc};
use crate::stats::summary::quantile_sorted;

/// Options of the domain classifier.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierOptions {
    /// Seed of every random step (default 0).
    pub seed: u64,
    /// Splits: the first is the reported one, all give the intervals
    /// (default 5).
    pub repeats: usize,
    /// Tree parameters (default: the reference's 100 trees, 31 leaves,
    /// learning rate 0.1).
    pub params: Params,
}

impl Default for ClassifierOptions {
    fn default() -> Self {
        ClassifierOptions {
            seed: 0,
            repeats: 5,
            params: Params::default(),
        }
    }
}

/// Fewest rows a side needs (the reference system's minimum).
pub const MIN_ROWS_PER_SIDE: usize = 50;

/// What the domain classifier found.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierResult {
    /// Held-out Matthews correlation of the first split, in [-1, 1].
    pub mcc: f64,
    /// `max(0, mcc)`, in [0, 1].
    pub drift_coefficient: f64,
    /// Held-out ROC AUC of the first split, in [0, 1].
    pub auc: f64,
    /// One-sided p-value of "no better than chance" on the first split.
    pub pvalue: f64,
    /// Spread of the repeated splits' MCC: 2.5 % and 97.5 % quantiles from
    /// 40 repeats, else minimum and maximum.
    pub mcc_interval: (f64, f64),
    /// The same for the drift coefficient.
    pub drift_coefficient_interval: (f64, f64),
    /// The same for the AUC.
    pub auc_interval: (f64, f64),
    /// Each feature's share of the split gain, summing to 1 (all 0 when no
    /// tree split at all).
    pub contributions: Vec<f64>,
    /// Splits on each feature in the first split's model.
    pub split_counts: Vec<u64>,
    /// Baseline and target rows used.
    pub rows: (usize, usize),
    /// Splits made.
    pub repeats: usize,
    /// The seed.
    pub seed: u64,
}

/// Repeats from which the interval is the 2.5-97.5 % quantile range rather
/// than the full range.
const QUANTILE_REPEATS: usize = 40;

/// One split's outcome.
struct Fitted {
    mcc: f64,
    auc: f64,
    /// The chance test's p-value (first split only).
    pvalue: f64,
    importance: super::gbdt::Importance,
}

fn interval(values: &[f64]) -> (f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.len() >= QUANTILE_REPEATS {
        (quantile_sorted(&v, 0.025), quantile_sorted(&v, 0.975))
    } else {
        (v[0], v[v.len() - 1])
    }
}

fn take_rows(columns: &[BinnedColumn], rows: &[usize]) -> Vec<BinnedColumn> {
    columns
        .iter()
        .map(|c| BinnedColumn {
            bins: rows.iter().map(|&r| c.bins[r]).collect(),
            n_bins: c.n_bins,
            categorical: c.categorical,
        })
        .collect()
}

/// Runs the domain classifier on binned baseline and target columns (the
/// same features, binned alike).
pub fn run(
    baseline: &[BinnedColumn],
    target: &[BinnedColumn],
    options: &ClassifierOptions,
) -> StatResult<ClassifierResult> {
    let nb = baseline.first().map_or(0, |c| c.bins.len());
    let nt = target.first().map_or(0, |c| c.bins.len());
    if baseline.is_empty() || baseline.len() != target.len() {
        return Err(StatError::LengthMismatch {
            left: baseline.len(),
            right: target.len(),
        });
    }
    for (side, n) in [("baseline", nb), ("target", nt)] {
        if n < MIN_ROWS_PER_SIDE {
            return Err(StatError::TooFew {
                what: if side == "baseline" {
                    "the domain classifier (baseline rows)"
                } else {
                    "the domain classifier (target rows)"
                },
                needed: MIN_ROWS_PER_SIDE,
                got: n,
            });
        }
    }
    if options.repeats == 0 {
        return Err(StatError::InvalidParameter {
            name: "repeats",
            value: "0".into(),
            why: "at least one split is needed",
        });
    }
    // The pooled rows: baseline first, then target.
    let pooled: Vec<BinnedColumn> = baseline
        .iter()
        .zip(target)
        .map(|(b, t)| BinnedColumn {
            bins: b.bins.iter().chain(&t.bins).copied().collect(),
            n_bins: b.n_bins.max(t.n_bins),
            categorical: b.categorical,
        })
        .collect();
    let labels: Vec<bool> = (0..nb + nt).map(|i| i >= nb).collect();
    let features = baseline.len();
    // The splits are independent: fit them in parallel, then combine in
    // split order, so the result does not depend on the thread count.
    let fits: Vec<StatResult<Fitted>> = (0..options.repeats)
        .into_par_iter()
        .map(|k| {
            let mut rng = Rng::new(options.seed.wrapping_add(k as u64));
            let split = stratified_halves(&labels, &mut rng);
            let train = take_rows(&pooled, &split.train);
            let held = take_rows(&pooled, &split.held_out);
            let train_labels: Vec<bool> = split.train.iter().map(|&i| labels[i]).collect();
            let held_labels: Vec<bool> = split.held_out.iter().map(|&i| labels[i]).collect();
            let model = Booster::fit(&train, &train_labels, &options.params);
            let scores = model.raw_scores(&held);
            let predicted: Vec<i64> = scores.iter().map(|&s| i64::from(s > 0.0)).collect();
            let truth: Vec<i64> = held_labels.iter().map(|&l| i64::from(l)).collect();
            Ok(Fitted {
                mcc: matthews_corrcoef(&truth, &predicted),
                auc: roc_auc(&held_labels, &scores, None),
                pvalue: if k == 0 {
                    chance_test(&scores, &held_labels)?.pvalue
                } else {
                    f64::NAN
                },
                importance: model.importance,
            })
        })
        .collect();
    let fits = fits.into_iter().collect::<StatResult<Vec<Fitted>>>()?;
    let mut gain_share = vec![0.0; features];
    for fit in &fits {
        let total: f64 = fit.importance.gain.iter().sum();
        if total > 0.0 {
            for (s, g) in gain_share.iter_mut().zip(&fit.importance.gain) {
                *s += g / total;
            }
        }
    }
    let mccs: Vec<f64> = fits.iter().map(|f| f.mcc).collect();
    let aucs: Vec<f64> = fits.iter().map(|f| f.auc).collect();
    let share_total: f64 = gain_share.iter().sum();
    let contributions = if share_total > 0.0 {
        gain_share.iter().map(|s| s / share_total).collect()
    } else {
        vec![0.0; features]
    };
    let first = &fits[0];
    let (mcc, auc, pvalue) = (first.mcc, first.auc, first.pvalue);
    let split_counts = first.importance.splits.clone();
    let coefficients: Vec<f64> = mccs.iter().map(|m| m.max(0.0)).collect();
    Ok(ClassifierResult {
        mcc,
        drift_coefficient: mcc.max(0.0),
        auc,
        pvalue,
        mcc_interval: interval(&mccs),
        drift_coefficient_interval: interval(&coefficients),
        auc_interval: interval(&aucs),
        contributions,
        split_counts,
        rows: (nb, nt),
        repeats: options.repeats,
        seed: options.seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::gbdt::{bin_with_edges, numeric_edges};

    /// Five standard-normal features a side; the target's feature
    /// `shifted` moves by `shift`. Bins are fixed by the baseline.
    fn sides(
        n: usize,
        shift: f64,
        shifted: usize,
        seed: u64,
    ) -> (Vec<BinnedColumn>, Vec<BinnedColumn>) {
        let mut rng = Rng::new(seed);
        let mut b = Vec::new();
        let mut t = Vec::new();
        for f in 0..5 {
            let bv: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
            let tv: Vec<f64> = (0..n)
                .map(|_| rng.normal() + if f == shifted { shift } else { 0.0 })
                .collect();
            let edges = numeric_edges(&bv);
            b.push(bin_with_edges(&bv, &edges));
            t.push(bin_with_edges(&tv, &edges));
        }
        (b, t)
    }

    fn quick() -> ClassifierOptions {
        ClassifierOptions {
            repeats: 1,
            ..ClassifierOptions::default()
        }
    }

    #[test]
    fn identical_distributions_read_as_no_drift() {
        let seeds = 20;
        let mut coefficients = Vec::new();
        let mut significant = 0;
        for seed in 0..seeds {
            let (b, t) = sides(2000, 0.0, 0, 100 + seed);
            let r = run(&b, &t, &ClassifierOptions { seed, ..quick() }).unwrap();
            coefficients.push(r.drift_coefficient);
            if r.pvalue < 0.05 {
                significant += 1;
            }
        }
        let mean = coefficients.iter().sum::<f64>() / seeds as f64;
        assert!(mean <= 0.05, "mean coefficient {mean}: {coefficients:?}");
        assert!(
            significant <= 1,
            "{significant} of {seeds} seeds significant"
        );
    }

    #[test]
    fn the_shifted_feature_contributes_most() {
        for seed in 0..3 {
            let (b, t) = sides(2000, 1.0, 3, 200 + seed);
            let r = run(&b, &t, &ClassifierOptions { seed, ..quick() }).unwrap();
            let top = (0..5)
                .max_by(|&x, &y| r.contributions[x].total_cmp(&r.contributions[y]))
                .unwrap();
            assert_eq!(top, 3, "seed {seed}: {:?}", r.contributions);
            assert!(
                r.drift_coefficient > 0.2,
                "seed {seed}: {}",
                r.drift_coefficient
            );
            assert!(r.pvalue < 1e-6);
            assert!((r.contributions.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn same_seed_same_result_and_intervals_cover_the_spread() {
        let (b, t) = sides(600, 0.5, 1, 7);
        let opts = ClassifierOptions {
            repeats: 3,
            params: Params {
                trees: 20,
                ..Params::default()
            },
            ..ClassifierOptions::default()
        };
        let r1 = run(&b, &t, &opts).unwrap();
        let r2 = run(&b, &t, &opts).unwrap();
        assert_eq!(r1, r2);
        assert!(r1.auc_interval.0 <= r1.auc_interval.1);
        assert!(r1.mcc_interval.0 <= r1.mcc && r1.mcc <= r1.mcc_interval.1 + 1e-12);
        assert_eq!((r1.rows, r1.repeats, r1.seed), ((600, 600), 3, 0));
    }

    #[test]
    fn degenerate_inputs() {
        let (b, t) = sides(40, 0.0, 0, 1);
        assert!(matches!(
            run(&b, &t, &quick()),
            Err(StatError::TooFew { .. })
        ));
        // Every row identical: no split is possible, the coefficient is 0.
        let constant = |n: usize| {
            vec![BinnedColumn {
                bins: vec![0; n],
                n_bins: 1,
                categorical: false,
            }]
        };
        let r = run(&constant(100), &constant(100), &quick()).unwrap();
        assert_eq!(r.drift_coefficient, 0.0);
        assert_eq!(r.auc, 0.5);
        assert_eq!(r.contributions, vec![0.0]);
        assert!(r.pvalue >= 0.5);
    }
}
