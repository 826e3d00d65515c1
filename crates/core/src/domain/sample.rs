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
use super::sampling::{Rng, sample_rows};
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

impl Binning {
    fn bin(
        &self,
        name: &str,
        arrays: &[&arrow_array::ArrayRef],
        rows: &[usize],
    ) -> Result<BinnedColumn> {
        Ok(match self {
            Binning::Numeric(edges) => {
                let all = column::numeric_rows(name, arrays)?;
                let picked: Vec<f64> = rows.iter().map(|&r| all[r]).collect();
                bin_with_edges(&picked, edges)
            }
            Binning::Categorical(categories) => {
                let codes: HashMap<String, u32> = categories
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.clone(), i as u32))
                    .collect();
                let unseen = categories.len() as u32;
                let all = column::category_code_rows(name, arrays, &codes, unseen)?;
                let picked: Vec<Option<u32>> = rows.iter().map(|&r| all[r]).collect();
                bin_categorical(&picked, categories.len() + 1)
            }
        })
    }
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
        let picked = sample_rows(rows, budget, &mut Rng::new(seed));
        let mut out = ClassifierSample {
            features: Vec::new(),
            binnings: Vec::new(),
            bins: Vec::new(),
            budget,
            seed,
        };
        for f in features {
            let arrays = column::arrays(batches, &f.name);
            let (binning, bins) = match &f.detail {
                FeatureDetail::Numeric(_) => {
                    let all = column::numeric_rows(&f.name, &arrays)?;
                    let sample: Vec<f64> = picked.iter().map(|&r| all[r]).collect();
                    let edges = numeric_edges(&sample);
                    let bins = bin_with_edges(&sample, &edges).bins;
                    (Binning::Numeric(edges), bins)
                }
                FeatureDetail::Categorical(c) => {
                    let binning = Binning::Categorical(
                        c.categories
                            .iter()
                            .filter(|c| *c != MISSING_LABEL)
                            .cloned()
                            .collect(),
                    );
                    let bins = binning.bin(&f.name, &arrays, &picked)?.bins;
                    (binning, bins)
                }
                FeatureDetail::Uncompared { .. } => continue,
            };
            out.bins.push(bins);
            out.features.push(f.name.clone());
            out.binnings.push(binning);
        }
        Ok(out)
    }

    /// The baseline sample and a target sample binned alike, restricted to
    /// the features the target has. Returns the feature names used too.
    pub(crate) fn with_target(
        &self,
        batches: &[RecordBatch],
        target_rows: usize,
        seed: u64,
    ) -> Result<(Vec<String>, Vec<BinnedColumn>, Vec<BinnedColumn>)> {
        let picked = sample_rows(
            target_rows,
            self.budget,
            &mut Rng::new(seed ^ 0x7461_7267_6574),
        );
        let schema = batches.first().map(|b| b.schema());
        let (mut names, mut base, mut target) = (Vec::new(), Vec::new(), Vec::new());
        for ((name, binning), bins) in self.features.iter().zip(&self.binnings).zip(&self.bins) {
            if schema.as_ref().is_none_or(|s| s.index_of(name).is_err()) {
                continue;
            }
            let arrays = column::arrays(batches, name);
            let t = binning.bin(name, &arrays, &picked)?;
            base.push(BinnedColumn {
                bins: bins.clone(),
                n_bins: t.n_bins,
                categorical: t.categorical,
            });
            target.push(t);
            names.push(name.clone());
        }
        Ok((names, base, target))
    }
}
