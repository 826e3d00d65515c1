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

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
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

/// The seeded keys of the rows of `batch`, by the content of `columns`
/// (numbers by their bits, labels by their hash; see [`SampleForm`]), into
/// `keys`. Identical rows get identical keys; rows differing in any value
/// get independent ones, so the rows of smallest key are a seeded sample
/// that does not depend on row order or on how the rows were split.
pub(crate) fn row_keys(
    batch: &RecordBatch,
    columns: &[(usize, String, SampleForm)],
    seed: u64,
    keys: &mut Vec<(u64, u64)>,
) -> Result<()> {
    keys.clear();
    keys.resize(batch.num_rows(), (key_start(seed), key_start(!seed)));
    let fold = |k: &mut (u64, u64), bits: u64| *k = (step(k.0, bits), step2(k.1, bits));
    for (i, name, form) in columns {
        let array = batch.column(*i);
        if *form == SampleForm::Label {
            let mut row = 0;
            column::each_label(name, array, |label| {
                fold(&mut keys[row], label.map_or(u64::MAX, column::label_hash));
                row += 1;
            })?;
            continue;
        }
        // Numbers read in place (floats are shared, not copied).
        let values = column::floats(name, array)?;
        match values.nulls().filter(|n| n.null_count() > 0) {
            None => {
                for (k, &x) in keys.iter_mut().zip(values.values().iter()) {
                    fold(k, number_bits(x));
                }
            }
            Some(nulls) => {
                for ((k, &x), valid) in keys
                    .iter_mut()
                    .zip(values.values().iter())
                    .zip(nulls.iter())
                {
                    fold(k, if valid { number_bits(x) } else { u64::MAX });
                }
            }
        }
    }
    for k in keys.iter_mut() {
        *k = (mix(k.0), mix(k.1));
    }
    Ok(())
}

/// One column's labels of the kept rows, interned: a row costs a code, and
/// only a label not seen before allocates.
#[derive(Debug, Clone, Default)]
pub(crate) struct Labels {
    /// Per row, the label's index in `dictionary`; `None` when missing.
    codes: Vec<Option<u32>>,
    dictionary: Vec<String>,
    index: HashMap<String, u32>,
}

impl Labels {
    fn push(&mut self, label: Option<&str>) {
        let code = label.map(|l| match self.index.get(l) {
            Some(&c) => c,
            None => {
                let c = self.dictionary.len() as u32;
                self.dictionary.push(l.to_string());
                self.index.insert(l.to_string(), c);
                c
            }
        });
        self.codes.push(code);
    }

    /// Appends another part's rows.
    fn append(&mut self, other: &Labels) {
        for code in &other.codes {
            self.push(code.map(|c| other.dictionary[c as usize].as_str()));
        }
    }

    /// Keeps the rows `order` names, in that order; labels no row uses any
    /// more are dropped once they outnumber the rows (a column of distinct
    /// labels would otherwise keep every label it ever sampled).
    fn reorder(&mut self, order: &[usize]) {
        if self.codes.is_empty() {
            return;
        }
        let old = std::mem::take(&mut self.codes);
        if self.dictionary.len() > 2 * order.len() {
            let dictionary = std::mem::take(&mut self.dictionary);
            self.index.clear();
            for &r in order {
                self.push(old[r].map(|c| dictionary[c as usize].as_str()));
            }
        } else {
            self.codes = order.iter().map(|&r| old[r]).collect();
        }
    }

    /// The rows binned by the baseline's `categories` (a code each, one
    /// more for unseen labels, missing values in the missing bin).
    fn binned(&self, categories: &[String]) -> BinnedColumn {
        let code: HashMap<&str, u32> = categories
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i as u32))
            .collect();
        let codes = self.codes_in(&code, categories.len() as u32);
        bin_categorical(&codes, categories.len() + 1)
    }

    /// Each row's code in `codes` (by label), `unseen` for labels not in it.
    fn codes_in(&self, codes: &HashMap<&str, u32>, unseen: u32) -> Vec<Option<u32>> {
        let mapped: Vec<u32> = self
            .dictionary
            .iter()
            .map(|l| codes.get(l.as_str()).copied().unwrap_or(unseen))
            .collect();
        self.codes
            .iter()
            .map(|c| c.map(|c| mapped[c as usize]))
            .collect()
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

/// One column's step of a row key: a bijection of the key for each value,
/// so rows differing in one value never share a key; one multiplication
/// per value, with [`mix`] applied once per row at the end.
fn step(key: u64, bits: u64) -> u64 {
    (key ^ bits)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(29)
}

/// The second key's step: another multiplier and rotation.
fn step2(key: u64, bits: u64) -> u64 {
    (key ^ bits)
        .wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        .rotate_left(23)
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
    labels: Vec<Labels>,
    /// After a pruning, the largest key kept: larger keys never enter.
    bound: Option<(u64, u64)>,
    /// A batch's row keys, kept between batches to spare an allocation.
    scratch: Vec<(u64, u64)>,
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
            labels: vec![Labels::default(); n],
            bound: None,
            scratch: Vec::new(),
        }
    }

    /// Offers the rows of `batch`.
    pub(crate) fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        let rows = batch.num_rows();
        let mut keys = std::mem::take(&mut self.scratch);
        row_keys(batch, &self.columns, self.seed, &mut keys)?;
        let chosen: Vec<usize> = (0..rows)
            .filter(|&r| self.bound.is_none_or(|b| keys[r] <= b))
            .collect();
        if !chosen.is_empty() {
            self.keys.extend(chosen.iter().map(|&r| keys[r]));
            for (c, (i, name, form)) in self.columns.iter().enumerate() {
                if *form != SampleForm::Label {
                    let values = column::floats(name, batch.column(*i))?;
                    self.numbers[c].extend(chosen.iter().map(|&r| column::number_at(&values, r)));
                }
                if *form != SampleForm::Number {
                    let out = &mut self.labels[c];
                    let array = batch.column(*i);
                    if let Some(strings) = array.as_string_opt::<i32>() {
                        for &r in &chosen {
                            out.push(strings.is_valid(r).then(|| strings.value(r)));
                        }
                    } else {
                        let mut want = chosen.iter().peekable();
                        let mut row = 0;
                        column::each_label(name, array, |label| {
                            if want.peek() == Some(&&row) {
                                want.next();
                                out.push(label);
                            }
                            row += 1;
                        })?;
                    }
                }
            }
            if self.keys.len() > 2 * self.budget {
                self.prune();
            }
        }
        self.scratch = keys;
        Ok(())
    }

    /// Adds the rows another part kept.
    pub(crate) fn merge(&mut self, other: SampleAccumulator) {
        self.keys.extend(other.keys);
        for (mine, theirs) in self.numbers.iter_mut().zip(other.numbers) {
            mine.extend(theirs);
        }
        for (mine, theirs) in self.labels.iter_mut().zip(other.labels) {
            mine.append(&theirs);
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
            v.reorder(&order);
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
                    bins.push(self.labels[c].binned(&categories).bins);
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
    labels: Vec<Labels>,
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
    /// restricted to the features the target sampled (and to `only`, when
    /// given). Returns the feature names used too. Rows are chosen and ordered by a seeded hash of their
    /// content, not their position, so the classifier's result does not
    /// depend on row order.
    pub(crate) fn with_target(
        &self,
        target: &SampledRows,
        only: Option<&[String]>,
    ) -> Result<(Vec<String>, Vec<BinnedColumn>, Vec<BinnedColumn>)> {
        let (mut names, mut baseline, mut binned) = (Vec::new(), Vec::new(), Vec::new());
        for ((name, binning), bins) in self.features.iter().zip(&self.binnings).zip(&self.bins) {
            if only.is_some_and(|list| !list.contains(name)) {
                continue;
            }
            let Some(c) = target.columns.iter().position(|(n, _)| n == name) else {
                continue;
            };
            let form = target.columns[c].1;
            let t = match binning {
                Binning::Numeric(edges) if form != SampleForm::Label => {
                    bin_with_edges(&target.numbers[c], edges)
                }
                Binning::Categorical(categories) if form != SampleForm::Number => {
                    target.labels[c].binned(categories)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn labels_of(l: &Labels) -> Vec<Option<&str>> {
        l.codes
            .iter()
            .map(|c| c.map(|c| l.dictionary[c as usize].as_str()))
            .collect()
    }

    #[test]
    fn interned_labels_survive_reordering_merging_and_compaction() {
        let mut a = Labels::default();
        for i in 0..100 {
            a.push((i % 7 != 0).then(|| format!("label-{i}")).as_deref());
        }
        assert_eq!(a.dictionary.len(), 85);
        // Keep 10 rows: the dictionary is rebuilt from them alone.
        let order: Vec<usize> = (0..10).map(|i| 99 - 3 * i).collect();
        let expected: Vec<Option<String>> = order
            .iter()
            .map(|&r| (r % 7 != 0).then(|| format!("label-{r}")))
            .collect();
        a.reorder(&order);
        assert_eq!(
            labels_of(&a),
            expected.iter().map(|l| l.as_deref()).collect::<Vec<_>>()
        );
        assert!(a.dictionary.len() <= 10);
        let mut b = Labels::default();
        b.push(Some("label-99"));
        b.push(None);
        b.push(Some("other"));
        a.append(&b);
        assert_eq!(labels_of(&a)[10..], [Some("label-99"), None, Some("other")]);
        let codes: HashMap<&str, u32> = [("other", 0)].into_iter().collect();
        let mapped = a.codes_in(&codes, 1);
        assert_eq!(mapped[10..], [Some(1), None, Some(0)]);
    }
}
