//! The drift report: what a comparison of a target with a baseline found.
//!
//! Serialised as JSON with stable snake_case keys (schema in
//! `docs/report-schema.md`). Numbers that are undefined (NaN) are `null`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::kind::FeatureKind;

/// Report format identifier, bumped on incompatible changes.
pub const REPORT_FORMAT: &str = "tidewatch.drift_report.v1";

/// The result of comparing a target with a baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    /// Always [`REPORT_FORMAT`].
    pub format: String,
    /// Rows in the baseline.
    pub baseline_rows: u64,
    /// Rows in the target.
    pub target_rows: u64,
    /// Compared features (numeric and categorical).
    pub feature_count: usize,
    /// Compared features with drift detected.
    pub drifted_features: usize,
    /// `drifted_features / feature_count`, in [0, 1].
    pub drift_share: f64,
    /// Whether `drift_share` reaches `drift_share_threshold`.
    pub dataset_drift: bool,
    /// Share of drifted features at which the dataset counts as drifted.
    pub drift_share_threshold: f64,
    /// Multiple-testing correction applied to p-value decisions.
    pub correction: String,
    /// The domain classifier's drift coefficient, `max(0, mcc)` in [0, 1]
    /// (null when the classifier did not run).
    pub drift_coefficient: Option<f64>,
    /// Its raw held-out Matthews correlation, in [-1, 1].
    pub mcc: Option<f64>,
    /// Its held-out ROC AUC, in [0, 1].
    pub auc: Option<f64>,
    /// Spread of the coefficient over repeated seeded splits: 2.5 % and
    /// 97.5 % quantiles from 40 repeats, else minimum and maximum.
    pub drift_coefficient_interval: Option<(f64, f64)>,
    /// The same for the MCC.
    pub mcc_interval: Option<(f64, f64)>,
    /// The same for the AUC.
    pub auc_interval: Option<(f64, f64)>,
    /// One-sided p-value of "the classifier does no better than chance"
    /// (Mann-Whitney test of the held-out scores).
    pub pvalue: Option<f64>,
    /// `drift_coefficient > threshold` (strictly greater).
    pub has_drift: Option<bool>,
    /// Threshold on the drift coefficient (default 0.2).
    pub threshold: f64,
    /// How the classifier ran, or why it did not.
    pub classifier: ClassifierInfo,
    /// Columns of the two sides compared.
    pub schema: SchemaDiff,
    /// One entry per profiled feature, in baseline column order.
    pub features: Vec<FeatureReport>,
}

/// How the domain classifier ran.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClassifierInfo {
    /// Seed of the sampling and the splits.
    pub seed: u64,
    /// Baseline rows used (after sampling to the budget).
    pub baseline_rows: u64,
    /// Target rows used.
    pub target_rows: u64,
    /// Rows per side at most.
    pub budget: u64,
    /// Splits made (the first is reported, all give the intervals).
    pub repeats: u64,
    /// Features the classifier saw.
    pub features: Vec<String>,
    /// Why it did not run, when it did not.
    pub note: Option<String>,
}

/// How the two sides' columns line up.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SchemaDiff {
    /// Columns on both sides.
    pub common: Vec<String>,
    /// Columns only in the baseline.
    pub baseline_only: Vec<String>,
    /// Columns only in the target.
    pub target_only: Vec<String>,
    /// Columns on both sides whose types differ.
    pub type_mismatches: Vec<TypeMismatch>,
    /// How the target's columns changed from one of its files to the next
    /// (a collected service that added a field, stopped sending one, or
    /// changed a type), one line per change naming the file and column;
    /// the target is read as the union of its files' columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_changes: Vec<String>,
}

/// A column whose type differs between the sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeMismatch {
    /// Column name.
    pub name: String,
    /// Baseline type.
    pub baseline: String,
    /// Target type.
    pub target: String,
}

/// Missing values on both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Missing {
    /// Missing values in the baseline.
    pub baseline_count: u64,
    /// Share of baseline rows missing, in [0, 1].
    pub baseline_rate: f64,
    /// Missing values in the target.
    pub target_count: u64,
    /// Share of target rows missing, in [0, 1].
    pub target_rate: f64,
    /// `target_rate - baseline_rate`, in [-1, 1].
    pub rate_change: f64,
    /// Whether `|rate_change|` exceeds the missing-rate threshold.
    pub drift_detected: bool,
}

/// Summary statistics of both sides and their differences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryComparison {
    /// Baseline statistics by name.
    pub baseline: BTreeMap<String, Option<f64>>,
    /// Target statistics by name.
    pub target: BTreeMap<String, Option<f64>>,
    /// `target - baseline` by name.
    pub difference: BTreeMap<String, Option<f64>>,
    /// `100 * (target - baseline) / |baseline|` by name (null when the
    /// baseline value is 0).
    pub percent_difference: BTreeMap<String, Option<f64>>,
}

/// Category counts of both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategorySummary {
    /// Distinct non-missing baseline categories.
    pub baseline_distinct: usize,
    /// Distinct non-missing target categories.
    pub target_distinct: usize,
    /// Target rows whose category the baseline never saw.
    pub unseen_count: u64,
    /// Their share of target rows, in [0, 1].
    pub unseen_rate: f64,
    /// The most frequent unseen categories with their counts (at most 10).
    pub unseen_top: Vec<(String, u64)>,
}

/// A histogram of both sides on the baseline's bins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Bin edges (numeric) fixed by the baseline.
    pub edges: Vec<f64>,
    /// Baseline counts per bin.
    pub baseline: Vec<u64>,
    /// Target counts per bin.
    pub target: Vec<u64>,
    /// Target values below the first edge.
    pub target_underflow: u64,
    /// Target values above the last edge.
    pub target_overflow: u64,
}

/// Category frequencies of both sides, aligned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryFrequencies {
    /// Labels: baseline categories, most frequent first (the missing value
    /// is `<missing>`), then `<unseen>` for all categories new in the target.
    pub categories: Vec<String>,
    /// Baseline counts.
    pub baseline: Vec<u64>,
    /// Target counts.
    pub target: Vec<u64>,
}

/// Kernel density estimates of both sides on one grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Density {
    /// Evaluation points.
    pub grid: Vec<f64>,
    /// Baseline density at each point (null when undefined, e.g. constant).
    pub baseline: Option<Vec<f64>>,
    /// Target density at each point.
    pub target: Option<Vec<f64>>,
    /// Bandwidth rule used.
    pub bandwidth: String,
    /// Whether the densities were computed exactly (else by linear binning).
    pub exact: bool,
}

/// Distribution data for figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Distribution {
    /// A numeric feature: histogram and KDE.
    Numeric {
        /// Histogram on the baseline's bins.
        histogram: Histogram,
        /// KDE of both sides.
        density: Density,
    },
    /// A categorical feature: aligned frequencies.
    Categorical(CategoryFrequencies),
}

/// One feature's comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureReport {
    /// Column name.
    pub name: String,
    /// Kind it was treated as.
    pub kind: FeatureKind,
    /// Baseline column type.
    pub data_type: String,
    /// The metric that decides drift (null for features not compared).
    pub method: Option<String>,
    /// Threshold of the deciding metric.
    pub threshold: Option<f64>,
    /// Value of the deciding metric (after correction for p-values).
    pub score: Option<f64>,
    /// Whether drift was detected: by the deciding metric or by the
    /// missing-rate change.
    pub drift_detected: bool,
    /// Why drift was detected: `distribution`, `missing_rate`.
    pub drift_reasons: Vec<String>,
    /// Rows compared (baseline, target).
    pub rows: (u64, u64),
    /// Missing values on both sides.
    pub missing: Missing,
    /// Summary statistics (numeric features).
    pub summary: Option<SummaryComparison>,
    /// Category counts (categorical features).
    pub categories: Option<CategorySummary>,
    /// Every applicable metric by name; null when undefined.
    pub metrics: BTreeMap<String, Option<f64>>,
    /// Metrics that could not be computed, with the reason.
    pub metric_errors: BTreeMap<String, String>,
    /// The deciding p-value after multiple-testing correction.
    pub corrected_pvalue: Option<f64>,
    /// Share of the domain classifier's split gain earned by this feature,
    /// in [0, 1]; the shares of all features sum to 1.
    pub contribution: Option<f64>,
    /// Splits on this feature in the classifier's trees (the reference
    /// system's contribution, for parity).
    pub split_count: Option<u64>,
    /// Distribution data for figures.
    pub distribution: Option<Distribution>,
    /// Why the feature was not compared (text and datetime, or a target
    /// without the column).
    pub note: Option<String>,
}

/// `Some(x)` when finite, else `None` (JSON null).
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}
