//! tidewatch's drift engine: pure computation, no I/O.
//!
//! A baseline (usually a model's training data) is profiled once into a
//! [`BaselineProfile`]; each target window is then compared with it, giving
//! a [`DriftReport`] with, per feature, every applicable drift metric, the
//! deciding metric and its verdict, missing-value changes, summary
//! statistics of both sides, and histogram and density data for figures.
//!
//! * [`stats`]: numerical routines, each agreeing with a named SciPy, NumPy
//!   or scikit-learn function (the test suite pins the agreement).
//! * [`methods`]: one unit per drift metric, with its kind (distance,
//!   statistic, p-value), range, unit, default threshold and documentation,
//!   listed in [`methods::registry`].
//! * [`domain`]: the domain classifier behind the drift coefficient
//!   (gradient-boosted trees telling baseline rows from target rows) and
//!   each feature's contribution.
//! * [`kind`]: how columns become numeric, categorical, datetime or text.
//! * [`profile`] and [`compare`]: fit once, compare many.
//!
//! The one decision a reader must know: **bins, categories and the sorted
//! sample are fixed by the baseline**, so a target never changes how the
//! baseline is summarised, and numbers are comparable across windows.
//!
//! Input is Arrow record batches; this crate depends on arrow-rs, not on a
//! query engine.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{Float64Array, RecordBatch};
//! use tidewatch_core::{BaselineProfile, CompareOptions, ProfileOptions};
//!
//! let batch = |v: Vec<f64>| {
//!     RecordBatch::try_from_iter([("x", Arc::new(Float64Array::from(v)) as _)]).unwrap()
//! };
//! let baseline = batch((0..200).map(|i| i as f64).collect());
//! let target = batch((0..200).map(|i| i as f64 + 50.0).collect());
//! let profile = BaselineProfile::fit(&[baseline], &ProfileOptions::default()).unwrap();
//! let report = profile.compare(&[target], &CompareOptions::default()).unwrap();
//! let x = &report.features[0];
//! assert_eq!(x.metrics["wasserstein_distance"], Some(50.0));
//! assert!(x.drift_detected);
//! ```
#![deny(missing_docs)]

mod column;
pub mod compare;
pub mod domain;
pub mod error;
pub mod kind;
pub mod methods;
pub mod profile;
pub mod report;
pub mod stats;

pub use column::MISSING_LABEL;
pub use compare::{CompareOptions, UNSEEN_LABEL, auto_method};
pub use error::{Error, Result, StatError};
pub use kind::{FeatureKind, KindRule};
pub use profile::{
    Accumulator, BaselineProfile, DataSource, ProfileBuilder, ProfileOptions, TargetBuilder,
    TargetProfile,
};
pub use report::{DriftReport, FeatureReport};
