//! The dashboard's data: compact, column-oriented answers that a page can
//! draw at once, for monitors of hundreds of features and windows.
//!
//! - `GET /overview`: every monitor with its newest window, next run and
//!   run counts (the monitors list);
//! - `GET /monitors/{name}/series`: one value per window for the trend,
//!   every feature's contribution per window, and one feature's metrics
//!   per window (`?feature=`);
//! - `GET /collected`: every service that sent records, with its rows per
//!   day.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use tidewatch_store::window::last_complete;
use tidewatch_store::{FeatureCell, MonitorState, WindowSummary};

use super::body::{Fields, Path, Query};
use super::runs::{pick_service, range_fields};
use super::{ApiError, AppState};

/// `GET /overview`: the monitors list. Per monitor (deleted ones left out):
/// its state, frequency and threshold; `latest`, the newest scheduled or
/// backfill window per service; `next_run_at`, when the scheduler runs the
/// next window (null when disabled); and `runs`, counts by state.
pub async fn overview(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let now = Utc::now();
    let monitors = state.store.monitors().await?;
    let latest = state.store.latest_results().await?;
    let counts = state.store.run_counts().await?;
    let mut list = Vec::new();
    for m in monitors.iter().filter(|m| m.state != MonitorState::Deleted) {
        let spec = &m.spec;
        let newest: Vec<Value> = latest
            .iter()
            .filter(|r| r.run.monitor == spec.name)
            .map(|r| {
                json!({
                    "service": r.run.service,
                    "run_id": r.run.id,
                    "window_start": r.run.window.start,
                    "window_end": r.run.window.end,
                    "drift_coefficient": r.drift_coefficient,
                    "threshold": r.threshold,
                    "has_drift": r.has_drift,
                })
            })
            .collect();
        let mut runs = Map::new();
        for c in counts.iter().filter(|c| c.monitor == spec.name) {
            runs.insert(c.state.as_str().to_string(), json!(c.runs));
        }
        let next_run_at = (m.state == MonitorState::Enabled).then(|| {
            let done = last_complete(spec.frequency, spec.latency_hours, now);
            spec.frequency.next(&done).complete_at(spec.latency_hours)
        });
        list.push(json!({
            "name": spec.name,
            "state": m.state,
            "frequency": spec.frequency,
            "latency_hours": spec.latency_hours,
            "threshold": spec.threshold,
            "baseline": spec.baseline,
            "target": spec.target,
            "model": spec.model,
            "services": spec.services,
            "alerts": spec.alerts.len(),
            "latest": newest,
            "next_run_at": next_run_at,
            "runs": runs,
        }));
    }
    Ok(Json(json!({ "now": now, "monitors": list })))
}

/// `GET /monitors/{name}/series?from=&to=&service=&feature=&contributions=`:
/// the windows of `[from, to)` (default: every window with a result), each
/// window's newest scheduled or backfill result, as columns:
///
/// ```json
/// {"windows": {"run_id": [..], "window_start": [..], "window_end": [..],
///              "drift_coefficient": [..], "threshold": [..], "has_drift": [..],
///              "auc": [..], "target_rows": [..], "drifted_features": [..]},
///  "features": ["income", ...],
///  "contributions": [[..per window..], ...],
///  "drift_detected": [[..per window..], ...],
///  "feature": {"name": "income", "kind": "numeric", "method": "...",
///              "metrics": {"psi": [..per window..], ...}, "score": [..], "threshold": [..]}}
/// ```
///
/// `features` are ordered by mean contribution (0..1), largest first, and
/// `contributions` and `drift_detected` follow that order; a feature a
/// window lacks has null there (`contributions=false` leaves all three
/// out). `feature` is present when asked for. A monitor made from a model
/// with several services needs `service`.
pub async fn series(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let mut f = Fields::from_query(query);
    let (from, to) = range_fields(&mut f);
    let service = f.opt_string("service");
    let feature = f.opt_string("feature");
    let contributions = f.opt_bool("contributions").unwrap_or(true);
    f.finish()?;
    state.store.monitor(&name).await?;
    // Every window: the store compares instants as RFC 3339 text, so the
    // bounds stay within four-digit years.
    let from = from.unwrap_or(DateTime::UNIX_EPOCH);
    let to = to.unwrap_or_else(|| {
        chrono::NaiveDate::from_ymd_opt(9999, 1, 1)
            .expect("a valid date")
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
    });
    let mut windows = state.store.window_summaries(&name, from, to).await?;
    let mut services: Vec<String> = windows
        .iter()
        .filter_map(|w| w.run.service.clone())
        .collect();
    services.sort();
    services.dedup();
    if let Some(s) = pick_service(&name, &services, service.as_deref())? {
        windows.retain(|w| w.run.service.as_deref() == Some(s.as_str()));
    }
    let ids: Vec<i64> = windows.iter().map(|w| w.run.id).collect();
    let mut answer = json!({
        "monitor": name,
        "service": service.or_else(|| services.first().cloned()),
        "services": services,
        "windows": window_columns(&windows),
    });
    if let Some(wanted) = feature {
        let metrics = state.store.feature_metrics(&ids, &wanted).await?;
        if metrics.is_empty() {
            return Err(ApiError::field(
                "feature",
                format!("no window of monitor {name:?} in the range has feature {wanted:?}"),
            ));
        }
        answer["feature"] = one_feature(&ids, &metrics, &wanted);
    }
    if !contributions {
        return Ok(Json(answer));
    }
    let cells = state.store.feature_cells(&ids).await?;
    let columns = feature_columns(&ids, &cells);
    answer["features"] = json!(columns.iter().map(|c| c.name).collect::<Vec<_>>());
    answer["contributions"] = json!(columns.iter().map(|c| &c.contribution).collect::<Vec<_>>());
    answer["drift_detected"] = json!(
        columns
            .iter()
            .map(|c| &c.drift_detected)
            .collect::<Vec<_>>()
    );
    Ok(Json(answer))
}

/// The dataset-level figures of each window, one array per figure.
fn window_columns(windows: &[WindowSummary]) -> Value {
    let column = |f: &dyn Fn(&WindowSummary) -> Value| windows.iter().map(f).collect::<Vec<_>>();
    json!({
        "run_id": column(&|w| json!(w.run.id)),
        "kind": column(&|w| json!(w.run.kind)),
        "window_start": column(&|w| json!(w.run.window.start)),
        "window_end": column(&|w| json!(w.run.window.end)),
        "drift_coefficient": column(&|w| json!(w.drift_coefficient)),
        "threshold": column(&|w| json!(w.threshold)),
        "has_drift": column(&|w| json!(w.has_drift)),
        "auc": column(&|w| w.dataset["auc"].clone()),
        "target_rows": column(&|w| w.dataset["target_rows"].clone()),
        "drifted_features": column(&|w| w.dataset["drifted_features"].clone()),
    })
}

/// One feature's contribution and drift flag per window (None where a
/// window lacks the feature).
struct FeatureColumn<'a> {
    name: &'a str,
    contribution: Vec<Option<f64>>,
    drift_detected: Vec<Option<bool>>,
}

/// Every feature's columns over the windows of runs `ids`, by mean
/// contribution (largest first).
fn feature_columns<'a>(ids: &[i64], cells: &'a [FeatureCell]) -> Vec<FeatureColumn<'a>> {
    let n = ids.len();
    let position: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut by_name: BTreeMap<&str, FeatureColumn<'a>> = BTreeMap::new();
    for cell in cells {
        let Some(&i) = position.get(&cell.run_id) else {
            continue;
        };
        let column = by_name
            .entry(&cell.feature)
            .or_insert_with(|| FeatureColumn {
                name: &cell.feature,
                contribution: vec![None; n],
                drift_detected: vec![None; n],
            });
        column.contribution[i] = cell.contribution;
        column.drift_detected[i] = cell.drift_detected;
    }
    let mean = |c: &FeatureColumn<'_>| c.contribution.iter().flatten().sum::<f64>() / n as f64;
    let mut columns: Vec<FeatureColumn<'a>> = by_name.into_values().collect();
    columns.sort_by(|a, b| mean(b).total_cmp(&mean(a)).then_with(|| a.name.cmp(b.name)));
    columns
}

/// One feature's every metric, score and threshold per window of runs
/// `ids`, from its stored metrics in each run that has it.
fn one_feature(ids: &[i64], stored: &[(i64, Value)], name: &str) -> Value {
    let n = ids.len();
    let position: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut metrics: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut score = vec![Value::Null; n];
    let mut threshold = vec![Value::Null; n];
    let mut drift = vec![Value::Null; n];
    let (mut kind, mut method) = (Value::Null, Value::Null);
    for (run, f) in stored {
        let Some(&i) = position.get(run) else {
            continue;
        };
        kind = f["kind"].clone();
        method = f["method"].clone();
        score[i] = f["score"].clone();
        threshold[i] = f["threshold"].clone();
        drift[i] = f["drift_detected"].clone();
        if let Some(m) = f["metrics"].as_object() {
            for (metric, value) in m {
                metrics
                    .entry(metric.clone())
                    .or_insert_with(|| vec![Value::Null; n])[i] = value.clone();
            }
        }
        metrics
            .entry("missing_rate_change".into())
            .or_insert_with(|| vec![Value::Null; n])[i] = f["missing_rate_change"].clone();
    }
    json!({
        "name": name,
        "kind": kind,
        "method": method,
        "score": score,
        "threshold": threshold,
        "drift_detected": drift,
        "metrics": metrics,
    })
}

/// `GET /collected`: every service that has sent records (compacted, or
/// counted since the server started) or is registered, with its rows per
/// stream and UTC day, newest record time and the collector's counts.
pub async fn collected(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let root = super::collect::data_root(&state);
    let registered = state.store.services().await?;
    let counts = state
        .collector
        .as_ref()
        .map(|c| c.counts())
        .unwrap_or_default();
    let mut names: Vec<String> = registered.iter().map(|s| s.name.clone()).collect();
    names.extend(counts.iter().map(|(s, _)| s.clone()));
    let listed = {
        let root = root.clone();
        tokio::task::spawn_blocking(move || tidewatch_data::collected::services(&root))
            .await
            .map_err(|e| ApiError::Internal(format!("the listing thread failed: {e}")))?
            .map_err(|e| ApiError::Internal(e.to_string()))?
    };
    names.extend(listed);
    names.sort();
    names.dedup();
    let mut list = Vec::new();
    for name in names {
        let mut entry = super::collect::service_stats(&state, &name).await?;
        let service = registered.iter().find(|s| s.name == name);
        entry["registered"] = json!(service.is_some());
        entry["model"] = json!(service.map(|s| &s.model));
        entry["version"] = json!(service.map(|s| &s.version));
        list.push(entry);
    }
    Ok(Json(json!({ "services": list })))
}
