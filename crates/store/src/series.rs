//! Results as series over windows, for the dashboard: each window's
//! dataset-level figures, every feature's contribution and drift flag,
//! and one feature's metrics, read from narrow columns (see migration 6)
//! rather than from each window's whole metrics JSON.

use serde_json::Value;
use sqlx::Row;

use crate::Store;
use crate::db::{Run, StoreError, run_of, time_text};

/// One window's newest scheduled or backfill result, without its features.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowSummary {
    /// The run.
    pub run: Run,
    /// The drift coefficient, 0..1 (null when the classifier could not run).
    pub drift_coefficient: Option<f64>,
    /// The monitor's threshold when it ran.
    pub threshold: f64,
    /// coefficient > threshold.
    pub has_drift: Option<bool>,
    /// The dataset-level figures (see [`crate::metrics::window_metrics`]).
    pub dataset: Value,
}

/// One feature's contribution and drift flag in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureCell {
    /// The run.
    pub run_id: i64,
    /// The feature.
    pub feature: String,
    /// Its share of the classifier's split gain, 0..1.
    pub contribution: Option<f64>,
    /// Whether it drifted.
    pub drift_detected: Option<bool>,
}

impl Store {
    /// The newest succeeded scheduled or backfill run of each window (and
    /// service) of monitor `name` overlapping `[from, to)`, in window order,
    /// then by service.
    pub async fn window_summaries(
        &self,
        name: &str,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<WindowSummary>, StoreError> {
        self.monitor(name).await?;
        let rows = sqlx::query(concat!(
            newest_per_window!(),
            "SELECT r.id, m.name AS monitor, r.kind, r.state, r.window_start, r.window_end, \
             r.overrides, r.error, r.created_at, r.started_at, r.finished_at, r.service, \
             x.drift_coefficient, x.threshold, x.has_drift, x.dataset \
             FROM runs r JOIN monitors m ON m.id = r.monitor_id \
             JOIN run_results x ON x.run_id = r.id \
             WHERE r.id IN (SELECT id FROM newest) ORDER BY r.window_start, r.service"
        ))
        .bind(name)
        .bind(time_text(to))
        .bind(time_text(from))
        .bind(false)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows
            .iter()
            .map(|row| WindowSummary {
                run: run_of(row),
                drift_coefficient: row.get("drift_coefficient"),
                threshold: row.get("threshold"),
                has_drift: row.get("has_drift"),
                dataset: serde_json::from_str(row.get("dataset")).unwrap_or_default(),
            })
            .collect())
    }

    /// Every feature's contribution and drift flag in each of `runs`, by
    /// run then feature (from an index: no JSON is read).
    pub async fn feature_cells(&self, runs: &[i64]) -> Result<Vec<FeatureCell>, StoreError> {
        let rows = sqlx::query(
            "SELECT run_id, feature, contribution, drift_detected FROM feature_results \
             WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, feature",
        )
        .bind(serde_json::to_string(runs).expect("ids serialise"))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows
            .iter()
            .map(|row| FeatureCell {
                run_id: row.get("run_id"),
                feature: row.get("feature"),
                contribution: row.get("contribution"),
                drift_detected: row.get("drift_detected"),
            })
            .collect())
    }

    /// Feature `feature`'s compact metrics (kind, method, score, threshold,
    /// contribution, every metric: see [`crate::metrics::window_metrics`])
    /// in each of `runs` that has it, by run.
    pub async fn feature_metrics(
        &self,
        runs: &[i64],
        feature: &str,
    ) -> Result<Vec<(i64, Value)>, StoreError> {
        let rows = sqlx::query(
            "SELECT run_id, metrics FROM feature_results \
             WHERE run_id IN (SELECT value FROM json_each(?)) AND feature = ? ORDER BY run_id",
        )
        .bind(serde_json::to_string(runs).expect("ids serialise"))
        .bind(feature)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows
            .iter()
            .map(|row| {
                (
                    row.get("run_id"),
                    serde_json::from_str(row.get("metrics")).unwrap_or_default(),
                )
            })
            .collect())
    }
}
