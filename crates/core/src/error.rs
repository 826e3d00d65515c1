//! Errors of the drift engine.
//!
//! Two layers: [`StatError`] for a statistic that cannot be computed on its
//! input (the cases where SciPy raises), and [`Error`](enum@Error) for the engine as a
//! whole (schemas, options, profile files). Both name the offending input.

use thiserror::Error;

/// A statistic could not be computed on the given input.
///
/// These mirror the inputs on which SciPy raises (or returns an all-NaN
/// result with a warning): the engine reports them instead of a silent number.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum StatError {
    /// One of the samples has no values.
    #[error("the {side} sample is empty")]
    EmptySample {
        /// Which sample: "baseline", "target", "u", "v", "first", ...
        side: &'static str,
    },
    /// A sample weight was negative.
    #[error("weight {value} at position {index} is negative: all weights must be non-negative")]
    NegativeWeight {
        /// Position of the weight in its array.
        index: usize,
        /// The weight.
        value: f64,
    },
    /// The weights do not sum to a positive, finite number.
    #[error("weights sum to {sum}: they must sum to a positive, finite number")]
    BadWeightSum {
        /// The sum of the weights.
        sum: f64,
    },
    /// Values and weights have different lengths.
    #[error("{values} values but {weights} weights")]
    WeightLength {
        /// Number of values.
        values: usize,
        /// Number of weights.
        weights: usize,
    },
    /// A value was NaN or infinite where only finite values make sense.
    #[error("value {value} at position {index} is not finite")]
    NonFinite {
        /// Position of the value.
        index: usize,
        /// The value.
        value: f64,
    },
    /// Too few observations for the statistic.
    #[error("{what} needs at least {needed} observations, got {got}")]
    TooFew {
        /// The statistic.
        what: &'static str,
        /// Required number of observations.
        needed: usize,
        /// Number given.
        got: usize,
    },
    /// All observations are equal, so a spread-based statistic is undefined.
    #[error("{what} is undefined: all {n} values are equal ({value})")]
    Constant {
        /// The statistic.
        what: &'static str,
        /// Number of values.
        n: usize,
        /// The single value.
        value: f64,
    },
    /// A contingency table has a category with no observations on either side.
    #[error(
        "category at column {column} has no observations on either side, so its expected frequency is zero"
    )]
    ZeroExpected {
        /// Column (category index) of the empty cell.
        column: usize,
    },
    /// Two vectors that must align have different lengths.
    #[error("length mismatch: {left} against {right}")]
    LengthMismatch {
        /// Length of the first vector.
        left: usize,
        /// Length of the second vector.
        right: usize,
    },
    /// A parameter is outside its valid range.
    #[error("invalid parameter {name} = {value}: {why}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// Its value, as text.
        value: String,
        /// What is wrong.
        why: &'static str,
    },
}

/// Errors of the drift engine: fitting a baseline, comparing a target, and
/// reading or writing a profile.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A statistic failed on one feature.
    #[error("feature {feature:?}, {metric}: {source}")]
    Stat {
        /// Feature name.
        feature: String,
        /// Metric name.
        metric: &'static str,
        /// What went wrong.
        source: StatError,
    },
    /// The baseline has no rows.
    #[error("the baseline has no rows")]
    EmptyBaseline,
    /// The target has no rows.
    #[error("the target has no rows")]
    EmptyTarget,
    /// Baseline and target share no column that can be compared.
    #[error(
        "baseline and target have no column in common that can be compared (baseline: {baseline:?}; target: {target:?})"
    )]
    NoCommonColumns {
        /// Baseline column names.
        baseline: Vec<String>,
        /// Target column names.
        target: Vec<String>,
    },
    /// Record batches of one dataset disagree on their schema.
    #[error("record batch {batch} has a different schema from the first batch: {detail}")]
    SchemaMismatch {
        /// Index of the offending batch.
        batch: usize,
        /// How it differs.
        detail: String,
    },
    /// An option names a column that does not exist.
    #[error("{option} names column {column:?}, which the baseline does not have")]
    UnknownColumn {
        /// The option.
        option: &'static str,
        /// The column.
        column: String,
    },
    /// An option names a metric that does not exist or does not apply.
    #[error("unknown metric {name:?} for feature {feature:?} (known: {known})")]
    UnknownMetric {
        /// Feature name.
        feature: String,
        /// The name given.
        name: String,
        /// The known names, comma separated.
        known: String,
    },
    /// A column's type cannot be used with the requested kind.
    #[error("column {column:?} of type {data_type} cannot be treated as {kind}")]
    KindMismatch {
        /// Column name.
        column: String,
        /// Arrow data type.
        data_type: String,
        /// Requested kind.
        kind: String,
    },
    /// Options are invalid (every problem is listed).
    #[error("invalid options: {}", .0.join("; "))]
    InvalidOptions(Vec<String>),
    /// A profile file could not be decoded.
    #[error("baseline profile is unreadable: {0}")]
    ProfileFormat(String),
    /// A profile file was written by a newer tidewatch.
    #[error(
        "baseline profile has format version {found}, this tidewatch reads up to version {supported}"
    )]
    ProfileVersion {
        /// Version in the file.
        found: u32,
        /// Highest version this build reads.
        supported: u32,
    },
    /// Arrow could not cast or read a column.
    #[error("column {column:?}: {message}")]
    Arrow {
        /// Column name.
        column: String,
        /// Arrow's message.
        message: String,
    },
}

/// Result alias for statistics.
pub type StatResult<T> = std::result::Result<T, StatError>;
/// Result alias for the engine.
pub type Result<T> = std::result::Result<T, Error>;
