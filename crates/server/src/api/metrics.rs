//! `GET /metrics`: every monitor's newest figures, run counts and the
//! collector's counts, in the Prometheus text format (version 0.0.4), for
//! alert rules of one's own (the reference sent the same to its telemetry
//! store). Needs a read token, as the API does.

use std::fmt::Write;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::Value;

use super::{ApiError, AppState};

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The text of one family: its help, type and samples.
struct Family {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    samples: Vec<(Vec<(&'static str, String)>, f64)>,
}

impl Family {
    fn new(name: &'static str, kind: &'static str, help: &'static str) -> Family {
        Family {
            name,
            help,
            kind,
            samples: Vec::new(),
        }
    }

    fn add(&mut self, labels: Vec<(&'static str, String)>, value: f64) {
        self.samples.push((labels, value));
    }

    fn write(&self, out: &mut String) {
        if self.samples.is_empty() {
            return;
        }
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} {}", self.name, self.kind);
        for (labels, value) in &self.samples {
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let value = if value.is_nan() {
                "NaN".to_string()
            } else if value.is_infinite() {
                if *value > 0.0 { "+Inf" } else { "-Inf" }.to_string()
            } else {
                value.to_string()
            };
            let _ = writeln!(out, "{}{{{}}} {value}", self.name, labels.join(","));
        }
    }
}

/// `GET /metrics`.
pub async fn render(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let latest = state.store.latest_results().await?;
    let counts = state.store.run_counts().await?;
    let mut coefficient = Family::new(
        "tidewatch_drift_coefficient",
        "gauge",
        "Drift coefficient of the newest scheduled or backfill window: max(0, held-out MCC), 0..1.",
    );
    let mut auc = Family::new(
        "tidewatch_auc",
        "gauge",
        "Held-out ROC AUC of the domain classifier in that window, 0..1 (0.5: no drift).",
    );
    let mut has_drift = Family::new(
        "tidewatch_has_drift",
        "gauge",
        "1 when that window's coefficient is above the monitor's threshold, else 0.",
    );
    let mut threshold = Family::new(
        "tidewatch_threshold",
        "gauge",
        "The monitor's drift-coefficient threshold when that window ran.",
    );
    let mut window_end = Family::new(
        "tidewatch_window_end_timestamp_seconds",
        "gauge",
        "End of that window, in seconds since 1970-01-01 UTC.",
    );
    let mut contribution = Family::new(
        "tidewatch_feature_contribution",
        "gauge",
        "Each feature's share of the classifier's split gain in that window, summing to 1.",
    );
    let mut feature_drift = Family::new(
        "tidewatch_feature_drift_detected",
        "gauge",
        "1 when the feature drifted in that window by its deciding metric or missing rate.",
    );
    let mut metric = Family::new(
        "tidewatch_feature_metric",
        "gauge",
        "Every per-feature metric of that window by name (distances in their units, p-values 0..1).",
    );
    for r in &latest {
        let base = vec![
            ("monitor", r.run.monitor.clone()),
            ("service", r.run.service.clone().unwrap_or_default()),
        ];
        if let Some(c) = r.drift_coefficient {
            coefficient.add(base.clone(), c);
        }
        if let Some(a) = r.metrics["dataset"]["auc"].as_f64() {
            auc.add(base.clone(), a);
        }
        if let Some(d) = r.has_drift {
            has_drift.add(base.clone(), f64::from(u8::from(d)));
        }
        threshold.add(base.clone(), r.threshold);
        window_end.add(base.clone(), r.run.window.end.timestamp() as f64);
        let features = r.metrics["features"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (name, f) in &features {
            let mut labels = base.clone();
            labels.push(("feature", name.clone()));
            if let Some(c) = f["contribution"].as_f64() {
                contribution.add(labels.clone(), c);
            }
            if let Some(d) = f["drift_detected"].as_bool() {
                feature_drift.add(labels.clone(), f64::from(u8::from(d)));
            }
            for (m, v) in f["metrics"].as_object().into_iter().flatten() {
                if let Value::Number(n) = v {
                    let mut l = labels.clone();
                    l.push(("metric", m.clone()));
                    metric.add(l, n.as_f64().unwrap_or(f64::NAN));
                }
            }
        }
    }
    let mut runs = Family::new(
        "tidewatch_runs",
        "gauge",
        "Runs of each monitor in each state (queued, running, succeeded, failed, cancelled).",
    );
    let mut seconds = Family::new(
        "tidewatch_run_duration_seconds_sum",
        "gauge",
        "Seconds the ended runs of each monitor and state took, summed.",
    );
    for c in &counts {
        let labels = vec![
            ("monitor", c.monitor.clone()),
            ("state", c.state.as_str().to_string()),
        ];
        runs.add(labels.clone(), c.runs as f64);
        seconds.add(labels, c.seconds);
    }
    let mut alerts = Family::new(
        "tidewatch_alert_notifications",
        "gauge",
        "Alert notifications of each monitor by outcome (pending, sent, failed).",
    );
    let mut attempts = Family::new(
        "tidewatch_alert_attempts",
        "gauge",
        "Delivery attempts of those notifications, summed.",
    );
    for (monitor, state, n, tries) in state.store.notification_counts().await? {
        let state_name = serde_json::to_value(state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let labels = vec![("monitor", monitor), ("outcome", state_name)];
        alerts.add(labels.clone(), n as f64);
        attempts.add(labels, tries as f64);
    }
    let mut collected: Vec<Family> = [
        (
            "tidewatch_collector_batches_total",
            "Batches stored, since the server started.",
        ),
        (
            "tidewatch_collector_rows_total",
            "Records stored, since the server started.",
        ),
        (
            "tidewatch_collector_bytes_total",
            "Bytes of the batches stored (decompressed).",
        ),
        (
            "tidewatch_collector_repeated_batches_total",
            "Batches sent again with an Idempotency-Key already stored.",
        ),
        (
            "tidewatch_collector_rejected_batches_total",
            "Batches refused as bad or too large (400, 413).",
        ),
        (
            "tidewatch_collector_throttled_batches_total",
            "Batches turned away with 429 (backlog or disk full).",
        ),
    ]
    .into_iter()
    .map(|(name, help)| Family::new(name, "counter", help))
    .collect();
    if let Some(collector) = &state.collector {
        for (service, n) in collector.counts() {
            let values = [
                n.batches,
                n.rows,
                n.bytes,
                n.repeated,
                n.rejected,
                n.throttled,
            ];
            for (family, v) in collected.iter_mut().zip(values) {
                family.add(vec![("service", service.clone())], v as f64);
            }
        }
    }
    let mut out = String::new();
    for family in [
        &coefficient,
        &auc,
        &has_drift,
        &threshold,
        &window_end,
        &contribution,
        &feature_drift,
        &metric,
        &runs,
        &seconds,
        &alerts,
        &attempts,
    ]
    .into_iter()
    .chain(collected.iter())
    {
        family.write(&mut out);
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    ))
}
