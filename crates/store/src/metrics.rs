//! The compact form of a run's results that the results query returns: the
//! dataset-level figures and every feature's metrics, without the
//! distributions (histograms, densities) that only a one-window view needs.
//! It is computed once, when the run completes, so a query over many
//! windows reads small rows.

use serde_json::{Map, Value, json};
use tidewatch_core::DriftReport;

/// The metrics of one window:
///
/// ```json
/// {"dataset": {"drift_coefficient": 0.41, "mcc": 0.41, "auc": 0.77, ...},
///  "features": {"income": {"kind": "numeric", "method": "...", "score": 0.3,
///               "drift_detected": true, "contribution": 0.52, "metrics": {...}}}}
/// ```
///
/// Dataset figures: `drift_coefficient` (max(0, MCC), 0..1), `mcc`
/// (-1..1), `auc` (0..1), `pvalue` (of separability), `drift_share` (0..1),
/// `drifted_features`, `feature_count`, `dataset_drift`, `baseline_rows`,
/// `target_rows`. Per feature: `kind`, `method` (the deciding metric),
/// `threshold`, `score`, `drift_detected`, `contribution` (0..1, summing to
/// 1), `split_count`, `missing_rate_change` (target minus baseline) and
/// `metrics`, every applicable metric by name (null when undefined).
pub fn window_metrics(report: &DriftReport) -> Value {
    let mut features = Map::new();
    for f in &report.features {
        features.insert(
            f.name.clone(),
            json!({
                "kind": f.kind,
                "method": f.method,
                "threshold": f.threshold,
                "score": f.score,
                "drift_detected": f.drift_detected,
                "contribution": f.contribution,
                "split_count": f.split_count,
                "missing_rate_change": f.missing.rate_change,
                "metrics": f.metrics,
            }),
        );
    }
    json!({
        "dataset": {
            "drift_coefficient": report.drift_coefficient,
            "mcc": report.mcc,
            "auc": report.auc,
            "pvalue": report.pvalue,
            "drift_share": report.drift_share,
            "drifted_features": report.drifted_features,
            "feature_count": report.feature_count,
            "dataset_drift": report.dataset_drift,
            "baseline_rows": report.baseline_rows,
            "target_rows": report.target_rows,
        },
        "features": features,
    })
}

/// How many runs of a monitor are in one state, and how long the ended
/// ones took.
#[derive(Debug, Clone, PartialEq)]
pub struct RunCount {
    /// The monitor.
    pub monitor: String,
    /// The state.
    pub state: crate::RunState,
    /// Runs in it.
    pub runs: u64,
    /// Seconds from start to end, summed over those that started and ended.
    pub seconds: f64,
}
