//! The domain classifier behind the drift coefficient: can a model tell
//! baseline rows (label 0) from target rows (label 1)?
//!
//! This module holds the parts that do not depend on the classifier:
//! seeded, stratified sampling and splitting ([`sampling`]), and the test of
//! "the classifier does no better than chance" on held-out scores
//! ([`significance`]). The classifier and the report come with issue 3.

pub mod classifier;
pub mod gbdt;
pub mod sample;
pub mod sampling;
pub mod significance;
