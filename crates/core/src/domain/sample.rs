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
use crate::error::Result;
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

/// One feature's raw values, row-aligned.
enum Raw {
    Numeric(Vec<f64>),
    Codes(Vec<Option<u32>>),
}

impl ClassifierSample {
    /// Number of baseline rows kept.
    pub fn rows(&self) -> usize {
        self.bins.first().map_or(0, Vec::len)
    }
}

impl Binning {
    /// Reads a feature's values in the form this binning needs.
    fn read(&self, name: &str, arrays: &[&arrow_array::ArrayRef]) -> Result<Raw> {
        Ok(match self {
            Binning::Numeric(_) => Raw::Numeric(column::numeric_rows(name, arrays)?),
            Binning::Categorical(categories) => {
                let codes: HashMap<String, u32> = categories
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.clone(), i as u32))
                    .collect();
                let unseen = categories.len() as u32;
                Raw::Codes(column::category_code_rows(name, arrays, &codes, unseen)?)
            }
        })
    }

    /// Bins the rows `picked` of `raw`.
    fn bin(&self, raw: &Raw, picked: &[usize]) -> BinnedColumn {
        match (self, raw) {
            (Binning::Numeric(edges), Raw::Numeric(v)) => {
                let values: Vec<f64> = picked.iter().map(|&r| v[r]).collect();
                bin_with_edges(&values, edges)
            }
            (Binning::Categorical(categories), Raw::Codes(c)) => {
                let codes: Vec<Option<u32>> = picked.iter().map(|&r| c[r]).collect();
                bin_categorical(&codes, categories.len() + 1)
            }
            _ => unreachable!("read() gives the binning's own form"),
        }
    }
}

/// The rows kept from a side: the `budget` rows with the smallest seeded
/// hash of their values, in that order. Choosing and ordering rows by their
/// content, not their position, makes the classifier's result independent
/// of row order: the same rows in any order give the same sample, split and
/// model. (Identical rows hash alike; which of them is kept changes nothing.)
fn pick_rows(raws: &[Raw], rows: usize, budget: usize, seed: u64) -> Vec<usize> {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let start = mix(seed.wrapping_add(0x9E37_79B9_7F4A_7C15));
    let mut keys = vec![start; rows];
    for raw in raws {
        match raw {
            Raw::Numeric(v) => {
                for (k, x) in keys.iter_mut().zip(v) {
                    // NaN for every missing value; -0.0 and 0.0 alike.
                    let bits = if x.is_nan() {
                        u64::MAX
                    } else {
                        (x + 0.0).to_bits()
                    };
                    *k = mix(*k ^ bits);
                }
            }
            Raw::Codes(c) => {
                for (k, x) in keys.iter_mut().zip(c) {
                    *k = mix(*k ^ x.map_or(u64::MAX, u64::from));
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..rows).collect();
    let key = |r: &usize| (keys[*r], *r);
    if budget < rows {
        // The budget smallest keys in linear time, then only those sorted.
        order.select_nth_unstable_by_key(budget, key);
        order.truncate(budget);
    }
    order.sort_unstable_by_key(key);
    order
}

impl ClassifierSample {
    /// Samples and bins the baseline's compared features.
    pub(crate) fn fit(
        batches: &[RecordBatch],
        features: &[FeatureProfile],
        rows: usize,
        budget: usize,
        seed: u64,
    ) -> Result<ClassifierSample> {
        // Binnings first (numeric edges come from the sample, so they are
        // placeholders until the rows are picked).
        let mut names = Vec::new();
        let mut binnings = Vec::new();
        let mut raws = Vec::new();
        for f in features {
            let binning = match &f.detail {
                FeatureDetail::Numeric(_) => Binning::Numeric(Vec::new()),
                FeatureDetail::Categorical(c) => Binning::Categorical(
                    c.categories
                        .iter()
                        .filter(|c| *c != MISSING_LABEL)
                        .cloned()
                        .collect(),
                ),
                FeatureDetail::Uncompared { .. } => continue,
            };
            raws.push(binning.read(&f.name, &column::arrays(batches, &f.name))?);
            names.push(f.name.clone());
            binnings.push(binning);
        }
        let picked = pick_rows(&raws, rows, budget, seed);
        let mut bins = Vec::with_capacity(raws.len());
        for (binning, raw) in binnings.iter_mut().zip(&raws) {
            if let (Binning::Numeric(edges), Raw::Numeric(v)) = (&mut *binning, raw) {
                let sample: Vec<f64> = picked.iter().map(|&r| v[r]).collect();
                *edges = numeric_edges(&sample);
            }
            bins.push(binning.bin(raw, &picked).bins);
        }
        Ok(ClassifierSample {
            features: names,
            binnings,
            bins,
            budget,
            seed,
        })
    }

    /// The baseline sample and a target sample binned alike, restricted to
    /// the features the target has. Returns the feature names used too.
    pub(crate) fn with_target(
        &self,
        batches: &[RecordBatch],
        target_rows: usize,
        seed: u64,
    ) -> Result<(Vec<String>, Vec<BinnedColumn>, Vec<BinnedColumn>)> {
        let schema = batches.first().map(|b| b.schema());
        let (mut names, mut base, mut raws, mut binnings) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((name, binning), bins) in self.features.iter().zip(&self.binnings).zip(&self.bins) {
            if schema.as_ref().is_none_or(|s| s.index_of(name).is_err()) {
                continue;
            }
            raws.push(binning.read(name, &column::arrays(batches, name))?);
            names.push(name.clone());
            binnings.push(binning);
            base.push(bins);
        }
        let picked = pick_rows(&raws, target_rows, self.budget, seed ^ 0x7461_7267_6574);
        let mut target = Vec::new();
        let mut baseline = Vec::new();
        for ((binning, raw), bins) in binnings.iter().zip(&raws).zip(base) {
            let t = binning.bin(raw, &picked);
            baseline.push(BinnedColumn {
                bins: bins.clone(),
                n_bins: t.n_bins,
                categorical: t.categorical,
            });
            target.push(t);
        }
        Ok((names, baseline, target))
    }
}
