//! A histogram-based gradient-boosted decision-tree classifier for binary
//! labels, grown leaf-wise, with native missing values and categorical
//! splits.
//!
//! The algorithm is LightGBM's (Ke et al. 2017, "LightGBM: A Highly
//! Efficient Gradient Boosting Decision Tree", NeurIPS) without its
//! sampling tricks:
//! * features are pre-binned into at most 255 bins plus one missing bin
//!   ([`BinnedColumn`]); numeric bins come from quantiles, categorical bins
//!   are categories;
//! * each tree fits the logistic loss's gradient `p - y` and hessian
//!   `p (1 - p)` (Friedman 2001; second-order gain as in XGBoost, Chen and
//!   Guestrin 2016): a leaf's value is `-G / (H + lambda)` and a split's gain
//!   `G_L^2/(H_L+lambda) + G_R^2/(H_R+lambda) - G^2/(H+lambda)`;
//! * trees grow leaf-wise (best gain first) up to a number of leaves;
//!   per-bin gradient histograms of the smaller child are built and the
//!   larger child's are the parent's minus the smaller's; histograms sum
//!   integer-quantised gradients and leaf values come from the exact ones
//!   (the `train` module says how and why);
//! * numeric splits are thresholds on the bin order, with the missing bin
//!   sent to whichever side gains more; categorical splits order the
//!   categories by `G / (H + smoothing)` and take the best prefix (Fisher
//!   1958, as LightGBM does).
//!
//! Everything is deterministic: no randomness, histogram sums are exact
//! integers, and floating-point sums are taken in a fixed order.

use rayon::prelude::*;

mod train;

/// Bin code of a missing value.
pub const MISSING_BIN: u8 = 255;
/// Largest number of value bins per feature.
pub const MAX_BINS: usize = 255;

/// One feature, binned.
#[derive(Debug, Clone)]
pub struct BinnedColumn {
    /// Bin of each row: `0..bins` for values, [`MISSING_BIN`] for missing.
    pub bins: Vec<u8>,
    /// Number of value bins in use.
    pub n_bins: usize,
    /// Whether bins are unordered categories.
    pub categorical: bool,
}

/// Training parameters. Defaults: the reference system's 100 trees, 31
/// leaves, learning rate 0.1.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Number of trees.
    pub trees: usize,
    /// Leaves per tree.
    pub max_leaves: usize,
    /// Shrinkage applied to each tree's values.
    pub learning_rate: f64,
    /// Fewest rows in a leaf.
    pub min_data_in_leaf: usize,
    /// Smallest hessian sum in a leaf.
    pub min_hessian_in_leaf: f64,
    /// L2 regularisation of leaf values.
    pub lambda: f64,
    /// Smoothing added to hessians when ordering categories.
    pub cat_smooth: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            trees: 100,
            max_leaves: 31,
            learning_rate: 0.1,
            min_data_in_leaf: 20,
            min_hessian_in_leaf: 1e-3,
            lambda: 0.0,
            cat_smooth: 10.0,
        }
    }
}

/// How a node routes rows.
#[derive(Debug, Clone, PartialEq)]
enum Rule {
    /// Bins `<= threshold` go left; the missing bin goes left when `missing_left`.
    Threshold { threshold: u8, missing_left: bool },
    /// Bins whose bit is set go left (the missing bin included).
    Categories(Box<[u64; 4]>),
}

impl Rule {
    #[inline]
    fn goes_left(&self, bin: u8) -> bool {
        match self {
            Rule::Threshold {
                threshold,
                missing_left,
            } => {
                if bin == MISSING_BIN {
                    *missing_left
                } else {
                    bin <= *threshold
                }
            }
            Rule::Categories(set) => set[(bin >> 6) as usize] >> (bin & 63) & 1 == 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Split {
        feature: usize,
        rule: Rule,
        left: usize,
        right: usize,
    },
    Leaf(f64),
}

/// One regression tree on binned features, laid out for scoring: every
/// rule is a set of the bin codes that go left, so a step is one bit test.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    /// Split nodes; the root is the first when there is any.
    splits: Vec<Split>,
    /// Leaf values; a tree without splits is its only leaf.
    leaves: Vec<f64>,
}

/// A split node of a [`Tree`]: children `>= 0` are splits, `< 0` leaves
/// (`!child` is the leaf's index).
#[derive(Debug, Clone, PartialEq)]
struct Split {
    feature: u32,
    left: i32,
    right: i32,
    /// Bit `b` set: bin code `b` goes left.
    goes_left: [u64; 4],
}

impl Tree {
    /// Lays out a tree built as `nodes` (the root first).
    fn from_nodes(nodes: &[Node]) -> Tree {
        let mut splits = Vec::new();
        let mut leaves = Vec::new();
        // Node index to the laid-out child reference.
        let mut refs = vec![0i32; nodes.len()];
        for (i, node) in nodes.iter().enumerate() {
            refs[i] = match node {
                Node::Leaf(v) => {
                    leaves.push(*v);
                    !(leaves.len() as i32 - 1)
                }
                Node::Split { .. } => {
                    splits.push(i);
                    splits.len() as i32 - 1
                }
            };
        }
        let splits = splits
            .into_iter()
            .map(|i| match &nodes[i] {
                Node::Split {
                    feature,
                    rule,
                    left,
                    right,
                } => {
                    let mut goes_left = [0u64; 4];
                    for b in 0..=255u8 {
                        if rule.goes_left(b) {
                            goes_left[usize::from(b >> 6)] |= 1 << (b & 63);
                        }
                    }
                    Split {
                        feature: *feature as u32,
                        left: refs[*left],
                        right: refs[*right],
                        goes_left,
                    }
                }
                Node::Leaf(_) => unreachable!("only splits were listed"),
            })
            .collect();
        Tree { splits, leaves }
    }

    /// Adds the tree's value of each row of `rows` (bins row after row,
    /// `width` per row) to its score.
    ///
    /// Rows walk down together, [`LANES`] at a time, each step a
    /// branch-free choice of child: one row's walk is a chain of dependent
    /// loads whose direction the processor cannot predict, and interleaving
    /// independent rows overlaps those chains.
    fn add_to(&self, rows: &[u8], width: usize, scores: &mut [f64]) {
        if self.splits.is_empty() {
            scores.iter_mut().for_each(|s| *s += self.leaves[0]);
            return;
        }
        for (chunk, rows) in scores.chunks_mut(LANES).zip(rows.chunks(LANES * width)) {
            let mut at = [0i32; LANES];
            let lanes = &mut at[..chunk.len()];
            while lanes.iter().any(|&a| a >= 0) {
                for (a, row) in lanes.iter_mut().zip(rows.chunks_exact(width)) {
                    let split = &self.splits[(*a).max(0) as usize];
                    let bin = row[split.feature as usize];
                    let left = split.goes_left[usize::from(bin >> 6)] >> (bin & 63) & 1 == 1;
                    let next = if left { split.left } else { split.right };
                    *a = if *a < 0 { *a } else { next };
                }
            }
            for (score, &a) in chunk.iter_mut().zip(lanes.iter()) {
                *score += self.leaves[!a as usize];
            }
        }
    }
}

/// Rows walked down a tree together when scoring.
const LANES: usize = 8;

/// Per-feature split statistics of a fitted model.
#[derive(Debug, Clone, PartialEq)]
pub struct Importance {
    /// Number of splits on each feature (LightGBM's `split` importance, the
    /// reference system's contribution).
    pub splits: Vec<u64>,
    /// Total loss reduction of those splits (`gain` importance).
    pub gain: Vec<f64>,
}

/// A fitted classifier: the raw score of a row is `base + sum of trees`,
/// its probability of label 1 the logistic of that.
#[derive(Debug, Clone, PartialEq)]
pub struct Booster {
    base: f64,
    trees: Vec<Tree>,
    /// Split statistics per feature.
    pub importance: Importance,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl Booster {
    /// Fits a booster to binned `columns` and labels (`true` = 1).
    ///
    /// Panics if the columns and labels differ in length; callers check.
    pub fn fit(columns: &[BinnedColumn], labels: &[bool], params: &Params) -> Booster {
        assert!(
            columns.iter().all(|c| c.bins.len() == labels.len()),
            "columns and labels differ in length"
        );
        let (base, trees, importance) = train::fit(columns, labels, params);
        Booster {
            base,
            trees,
            importance,
        }
    }

    /// Raw scores (log-odds of label 1) of every row of `columns`.
    ///
    /// Rows are scored in blocks, tree by tree within a block. Each block's
    /// bins are first laid out row after row, so a step down a tree reads
    /// its row's bin with one load, from cache.
    pub fn raw_scores(&self, columns: &[BinnedColumn]) -> Vec<f64> {
        const BLOCK: usize = 2048;
        let n = columns.first().map_or(0, |c| c.bins.len());
        let width = columns.len();
        let mut out = vec![self.base; n];
        if width == 0 {
            for tree in &self.trees {
                tree.add_to(&[], 0, &mut out);
            }
            return out;
        }
        out.par_chunks_mut(BLOCK)
            .enumerate()
            .for_each(|(k, block)| {
                let start = k * BLOCK;
                let mut rows = vec![0u8; block.len() * width];
                for (f, col) in columns.iter().enumerate() {
                    let bins = &col.bins[start..start + block.len()];
                    for (row, &bin) in rows.chunks_exact_mut(width).zip(bins) {
                        row[f] = bin;
                    }
                }
                for tree in &self.trees {
                    tree.add_to(&rows, width, block);
                }
            });
        out
    }

    /// Probabilities of label 1.
    pub fn predict_proba(&self, columns: &[BinnedColumn]) -> Vec<f64> {
        self.raw_scores(columns).into_iter().map(sigmoid).collect()
    }
}

/// Upper edges of at most [`MAX_BINS`] bins at quantiles of the finite
/// `values` (ties kept in one bin): bin `k` holds values `<= edges[k]`.
pub fn numeric_edges(values: &[f64]) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    crate::stats::sort::sort_f64(&mut sorted);
    let mut edges: Vec<f64> = Vec::new();
    if !sorted.is_empty() {
        for k in 1..=MAX_BINS {
            let idx = (k * sorted.len())
                .div_ceil(MAX_BINS)
                .saturating_sub(1)
                .min(sorted.len() - 1);
            let e = sorted[idx];
            if edges.last() != Some(&e) {
                edges.push(e);
            }
        }
    }
    edges
}

/// Bins numeric `values` on `edges` from [`numeric_edges`]: values above the
/// last edge share the last bin; NaN and infinities are missing.
pub fn bin_with_edges(values: &[f64], edges: &[f64]) -> BinnedColumn {
    let last = edges.len().saturating_sub(1);
    let bins = values
        .iter()
        .map(|&v| {
            if !v.is_finite() {
                MISSING_BIN
            } else {
                edges.partition_point(|e| *e < v).min(last) as u8
            }
        })
        .collect();
    BinnedColumn {
        bins,
        n_bins: edges.len().max(1),
        categorical: false,
    }
}

/// Bins a numeric column on its own quantiles: the column and its edges.
pub fn bin_numeric(values: &[f64]) -> (BinnedColumn, Vec<f64>) {
    let edges = numeric_edges(values);
    (bin_with_edges(values, &edges), edges)
}

/// Bins a categorical column given each row's category code
/// (`None` = missing): codes below [`MAX_BINS`] keep their bin, the rest
/// share the last bin.
pub fn bin_categorical(codes: &[Option<u32>], n_categories: usize) -> BinnedColumn {
    let last = (MAX_BINS - 1) as u32;
    BinnedColumn {
        bins: codes
            .iter()
            .map(|c| match c {
                None => MISSING_BIN,
                Some(c) => (*c).min(last) as u8,
            })
            .collect(),
        n_bins: n_categories.clamp(1, MAX_BINS),
        categorical: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sampling::Rng;
    use crate::stats::scoring::roc_auc;

    /// Five features; label 1 shifts feature 2 by `shift`.
    fn data(n: usize, shift: f64, seed: u64) -> (Vec<BinnedColumn>, Vec<bool>) {
        let mut rng = Rng::new(seed);
        let labels: Vec<bool> = (0..n).map(|i| i % 2 == 1).collect();
        let columns = (0..5)
            .map(|f| {
                let v: Vec<f64> = labels
                    .iter()
                    .map(|&l| rng.normal() + if l && f == 2 { shift } else { 0.0 })
                    .collect();
                bin_numeric(&v).0
            })
            .collect();
        (columns, labels)
    }

    #[test]
    fn learns_a_shift_and_credits_the_shifted_feature() {
        let (cols, labels) = data(4000, 1.0, 1);
        let params = Params {
            trees: 30,
            ..Params::default()
        };
        let b = Booster::fit(&cols, &labels, &params);
        let auc = roc_auc(&labels, &b.raw_scores(&cols), None);
        assert!(auc > 0.7, "training AUC {auc}");
        let top = (0..5)
            .max_by(|&a, &b2| b.importance.gain[a].total_cmp(&b.importance.gain[b2]))
            .unwrap();
        assert_eq!(top, 2, "{:?}", b.importance);
    }

    #[test]
    fn separable_labels_fit_to_certainty_with_finite_scores() {
        // 300 trees at learning rate 1 push probabilities to 0 and 1 exactly.
        let n = 2000;
        let labels: Vec<bool> = (0..n).map(|i| i % 2 == 1).collect();
        let v: Vec<f64> = labels.iter().map(|&l| if l { 1.0 } else { 0.0 }).collect();
        let cols = vec![bin_numeric(&v).0];
        let params = Params {
            trees: 300,
            learning_rate: 1.0,
            ..Params::default()
        };
        let b = Booster::fit(&cols, &labels, &params);
        let scores = b.raw_scores(&cols);
        assert!(scores.iter().all(|s| s.is_finite()), "{:?}", &scores[..4]);
        assert_eq!(roc_auc(&labels, &scores, None), 1.0);
    }

    #[test]
    fn deterministic() {
        let (cols, labels) = data(2000, 0.5, 3);
        let params = Params {
            trees: 10,
            ..Params::default()
        };
        let a = Booster::fit(&cols, &labels, &params);
        let b = Booster::fit(&cols, &labels, &params);
        assert_eq!(a, b);
    }

    #[test]
    fn missing_values_and_categories_split_natively() {
        // Label 1 rows are missing feature 0 half the time, and favour category 3.
        let n = 4000;
        let labels: Vec<bool> = (0..n).map(|i| i % 2 == 1).collect();
        let mut rng = Rng::new(5);
        let v: Vec<f64> = labels
            .iter()
            .map(|&l| {
                if l && rng.below(2) == 0 {
                    f64::NAN
                } else {
                    rng.normal()
                }
            })
            .collect();
        let codes: Vec<Option<u32>> = labels
            .iter()
            .map(|&l| {
                Some(if l && rng.below(2) == 0 {
                    3
                } else {
                    rng.below(6) as u32
                })
            })
            .collect();
        let cols = vec![bin_numeric(&v).0, bin_categorical(&codes, 6)];
        let params = Params {
            trees: 20,
            ..Params::default()
        };
        let b = Booster::fit(&cols, &labels, &params);
        let auc = roc_auc(&labels, &b.raw_scores(&cols), None);
        assert!(auc > 0.75, "{auc}");
        assert!(
            b.importance.splits[0] > 0 && b.importance.splits[1] > 0,
            "{:?}",
            b.importance
        );
    }

    #[test]
    fn numeric_bins_follow_quantiles_and_keep_ties_together() {
        let v: Vec<f64> = (0..1000)
            .map(|i| (i % 10) as f64)
            .chain([f64::NAN])
            .collect();
        let (col, edges) = bin_numeric(&v);
        assert_eq!(edges, (0..10).map(f64::from).collect::<Vec<_>>());
        assert_eq!(col.bins[3], 3);
        assert_eq!(col.bins[1000], MISSING_BIN);
    }
}
