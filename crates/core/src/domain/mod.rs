//! The domain classifier behind the drift coefficient: can a model tell
//! baseline rows (label 0) from target rows (label 1)?
//!
//! * [`gbdt`]: the gradient-boosted trees (histogram-based, leaf-wise,
//!   native missing values and categories);
//! * [`sampling`]: seeded generator, budgets and stratified splits;
//! * [`significance`]: the test of "the classifier does no better than
//!   chance" on held-out scores;
//! * [`classifier`]: the coefficient, AUC, intervals and contributions;
//! * [`sample`]: the baseline rows a profile keeps for it, binned by bins
//!   fixed by the baseline.

pub mod classifier;
pub mod gbdt;
pub mod sample;
pub mod sampling;
pub mod significance;
