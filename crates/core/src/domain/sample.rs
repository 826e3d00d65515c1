//! The classifier's view of the data: a seeded sample of rows, each
//! feature binned by bins fixed by the baseline.
//!
//! Fitting a baseline profile keeps a sample of baseline rows (at most a
//! budget) with every compared feature binned: numeric features by at most
//! 255 quantile bins of the baseline sample, categorical features by the
//! baseline's categories (one more bin for categories the baseline never
//! saw), missing values in their own bin. A comparison samples the target
//! to the same budget and bins it with the same bins.

use std::collections::HashMap;

use arrow_array::RecordBatch;
use serde::{Deserialize, Serialize};

use super::gbdt::{BinnedColumn, bin_categorical, bin_with_edges, numeric_edges};
use crate::column::{self, MISSING_LABEL};
use crate::error::{Error, Result};
use crate::profile::{FeatureDetail, FeatureProfile};

/// How one feature is binned for the classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Binning {
    /// Upper bin edges of a numeric feature.
    Numeric(Vec<f64>),
    /// Baseline categories (code = position); unseen ones get the next code.
    Categorical(Vec<String>),
}

/// The baseline rows kept for the domain classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierSample {
    /// Feature names, in profile order.
    pub features: Vec<String>,
    /// Binning of each feature.
    pub binnings: Vec<Binning>,
    /// Bins of the sampled baseline rows, per feature.
    pub bins: Vec<Vec<u8>>,
    /// Rows per side at most (the budget the sample was drawn with).
    pub budget: usize,
    /// Seed of the sampling.
    pub seed: u64,
}

impl ClassifierSample {
    /// Number of baseline rows kept.
    pub fn rows(&self) -> usize {
        self.bins.first().map_or(0, Vec::len)
    }
}

/// The seeded start of a row's key.
fn key_start(seed: u64) -> u64 {
    mix(seed.wrapping_add(0x9E37_79B9_7F4A_7C15))
}

/// SplitMix64's finaliser: the mixing step of row keys.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A number's contribution to a row key: NaN for every missing value;
/// -0.0 and 0.0 alike.
fn number_bits(x: f64) -> u64 {
    if x.is_nan() {
        u64::MAX
    } else {
        (x + 0.0).to_bits()
    }
}

/// How a column's values enter the baseline sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SampleForm {
    /// As numbers.
    Number,
    /// As labels.
    Label,
    /// As numbers, with their labels kept in case the column turns out
    /// categorical (the reference kind rule).
    NumberAndLabel,
}

/// The baseline sample being drawn, batch by batch: the rows with the
/// smallest seeded hash of their content seen so far, at most twice the
/// budget between prunings. Keeping the smallest keys is mergeable: the
/// rows kept from all the data are the rows kept from the parts' kept rows.
#[derive(Debug, Clone)]
pub(crate) struct SampleAccumulator {
    /// Schema index, name and form of each sampled column.
    columns: Vec<(usize, String, SampleForm)>,
    budget: usize,
    seed: u64,
    /// Row keys: the content hash, then a second hash that breaks ties.
    keys: Vec<(u64, u64)>,
    /// Per column, the kept rows' numbers (empty for label columns).
    numbers: Vec<Vec<f64>>,
    /// Per column, the kept rows' labels (empty for number columns).
    labels: Vec<Vec<Option<String>>>,
    /// After a pruning, the largest key kept: larger keys never enter.
    bound: Option<(u64, u64)>,
}

impl SampleAccumulator {
    pub(crate) fn new(
        columns: Vec<(usize, String, SampleForm)>,
        budget: usize,
        seed: u64,
    ) -> SampleAccumulator {
        let n = columns.len();
        SampleAccumulator {
            columns,
            budget,
            seed,
            keys: Vec::new(),
            numbers: vec![Vec::new(); n],
            labels: vec![Vec::new(); n],
            bound: None,
        }
    }

    /// Offers the rows of `batch`.
    pub(crate) fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        let rows = batch.num_rows();
        let mut keys = vec![(key_start(self.seed), key_start(!self.seed)); rows];
        let mut numbers = Vec::with_capacity(self.columns.len());
        for (i, name, form) in &self.columns {
            let array = batch.column(*i);
            let fold = |k: &mut (u64, u64), bits: u64| {
                *k = (mix(k.0 ^ bits), mix(k.1 ^ bits.rotate_left(17)));
            };
            if *form == SampleForm::Label {
                let mut row = 0;
                column::each_label(name, array, |label| {
                    fold(&mut keys[row], label.map_or(u64::MAX, column::label_hash));
                    row += 1;
                })?;
                numbers.push(Vec::new());
            } else {
                let values = column::numeric_rows(name, &[array])?;
                for (k, &x) in keys.iter_mut().zip(&values) {
                    fold(k, number_bits(x));
                }
                numbers.push(values);
            }
        }
        let chosen: Vec<usize> = (0..rows)
            .filter(|&r| self.bound.is_none_or(|b| keys[r] <= b))
            .collect();
        if chosen.is_empty() {
            return Ok(());
        }
        self.keys.extend(chosen.iter().map(|&r| keys[r]));
        for (c, (i, name, form)) in self.columns.iter().enumerate() {
            if *form != SampleForm::Label {
                self.numbers[c].extend(chosen.iter().map(|&r| numbers[c][r]));
            }
            if *form != SampleForm::Number {
                let mut want = chosen.iter().peekable();
                let mut row = 0;
                let out = &mut self.labels[c];
                column::each_label(name, batch.column(*i), |label| {
                    if want.peek() == Some(&&row) {
                        want.next();
                        out.push(label.map(str::to_string));
                    }
                    row += 1;
                })?;
            }
        }
        if self.keys.len() > 2 * self.budget {
            self.prune();
        }
        Ok(())
    }

    /// Adds the rows another part kept.
    pub(crate) fn merge(&mut self, other: SampleAccumulator) {
        self.keys.extend(other.keys);
        for (mine, theirs) in self.numbers.iter_mut().zip(other.numbers) {
            mine.extend(theirs);
        }
        for (mine, theirs) in self.labels.iter_mut().zip(other.labels) {
            mine.extend(theirs);
        }
        if self.keys.len() > self.budget {
            self.prune();
        }
    }

    /// Keeps the `budget` rows of smallest key, in key order.
    fn prune(&mut self) {
        let mut order: Vec<usize> = (0..self.keys.len()).collect();
        if order.len() > self.budget {
            order.select_nth_unstable_by_key(self.budget, |&r| self.keys[r]);
            order.truncate(self.budget);
        }
        order.sort_unstable_by_key(|&r| self.keys[r]);
        self.keys = order.iter().map(|&r| self.keys[r]).collect();
        for v in &mut self.numbers {
            if !v.is_empty() {
                *v = order.iter().map(|&r| v[r]).collect();
            }
        }
        for v in &mut self.labels {
            if !v.is_empty() {
                *v = order.iter().map(|&r| v[r].take()).collect();
            }
        }
        if self.keys.len() == self.budget {
            self.bound = self.keys.last().copied();
        }
    }

    /// The sample of the profile's compared `features`, binned.
    pub(crate) fn finish(mut self, features: &[FeatureProfile]) -> Result<ClassifierSample> {
        self.prune();
        let mut names = Vec::new();
        let mut binnings = Vec::new();
        let mut bins = Vec::new();
        for f in features {
            let Some(c) = self.columns.iter().position(|(_, name, _)| *name == f.name) else {
                continue;
            };
            let form = self.columns[c].2;
            match &f.detail {
                FeatureDetail::Numeric(_) if form != SampleForm::Label => {
                    let values = &self.numbers[c];
                    let edges = numeric_edges(values);
                    bins.push(bin_with_edges(values, &edges).bins);
                    binnings.push(Binning::Numeric(edges));
                }
                FeatureDetail::Categorical(cat) if form != SampleForm::Number => {
                    let categories: Vec<String> = cat
                        .categories
                        .iter()
                        .filter(|c| *c != MISSING_LABEL)
                        .cloned()
                        .collect();
                    let code: HashMap<&str, u32> = categories
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (c.as_str(), i as u32))
                        .collect();
                    let unseen = categories.len() as u32;
                    let codes: Vec<Option<u32>> = self.labels[c]
                        .iter()
                        .map(|l| l.as_deref().map(|l| code.get(l).copied().unwrap_or(unseen)))
                        .collect();
                    bins.push(bin_categorical(&codes, categories.len() + 1).bins);
                    binnings.push(Binning::Categorical(categories));
                }
                _ => continue,
            }
            names.push(f.name.clone());
        }
        Ok(ClassifierSample {
            features: names,
            binnings,
            bins,
            budget: self.budget,
            seed: self.seed,
        })
    }
}

/// The rows a [`SampleAccumulator`] kept, in key order: per sampled column,
/// its name and its numbers or labels (whichever its form keeps).
#[derive(Debug, Clone)]
pub(crate) struct SampledRows {
    columns: Vec<(String, SampleForm)>,
    numbers: Vec<Vec<f64>>,
    labels: Vec<Vec<Option<String>>>,
    rows: usize,
}

impl SampleAccumulator {
    /// The kept rows, at most the budget, in key order.
    pub(crate) fn into_rows(mut self) -> SampledRows {
        self.prune();
        SampledRows {
            rows: self.keys.len(),
            columns: self
                .columns
                .into_iter()
                .map(|(_, name, form)| (name, form))
                .collect(),
            numbers: self.numbers,
            labels: self.labels,
        }
    }
}

impl ClassifierSample {
    /// The baseline sample and the target's sampled rows binned alike,
    /// restricted to the features the target sampled. Returns the feature
    /// names used too. Rows are chosen and ordered by a seeded hash of their
    /// content, not their position, so the classifier's result does not
    /// depend on row order.
    pub(crate) fn with_target(
        &self,
        target: &SampledRows,
    ) -> Result<(Vec<String>, Vec<BinnedColumn>, Vec<BinnedColumn>)> {
        let (mut names, mut baseline, mut binned) = (Vec::new(), Vec::new(), Vec::new());
        for ((name, binning), bins) in self.features.iter().zip(&self.binnings).zip(&self.bins) {
            let Some(c) = target.columns.iter().position(|(n, _)| n == name) else {
                continue;
            };
            let form = target.columns[c].1;
            let t = match binning {
                Binning::Numeric(edges) if form != SampleForm::Label => {
                    bin_with_edges(&target.numbers[c], edges)
                }
                Binning::Categorical(categories) if form != SampleForm::Number => {
                    let code: HashMap<&str, u32> = categories
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (c.as_str(), i as u32))
                        .collect();
                    let unseen = categories.len() as u32;
                    let codes: Vec<Option<u32>> = target.labels[c]
                        .iter()
                        .map(|l| l.as_deref().map(|l| code.get(l).copied().unwrap_or(unseen)))
                        .collect();
                    bin_categorical(&codes, categories.len() + 1)
                }
                _ => {
                    return Err(Error::InvalidOptions(vec![format!(
                        "the target sampled feature {name:?} in another form than the baseline: \
                         it was accumulated for another baseline"
                    )]));
                }
            };
            debug_assert_eq!(t.bins.len(), target.rows);
            baseline.push(BinnedColumn {
                bins: bins.clone(),
                n_bins: t.n_bins,
                categorical: t.categorical,
            });
            binned.push(t);
            names.push(name.clone());
        }
        Ok((names, baseline, binned))
    }
}
