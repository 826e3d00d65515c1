//! Runs (adhoc, backfill; scheduled ones come from the scheduler), their
//! cancellation, and the results query.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use tidewatch_store::window::last_complete;
use tidewatch_store::{Frequency, Run, RunKind, RunResult, Window};

use super::body::{Body, Fields, Path, Query};
use super::{ApiError, AppState, Caller};

/// A day given as `YYYY-MM-DD` or an RFC 3339 instant (its UTC day).
pub fn parse_day(text: &str) -> Result<NaiveDate, String> {
    let t = text.trim();
    if let Ok(d) = t.parse::<NaiveDate>() {
        return Ok(d);
    }
    DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc).date_naive())
        .map_err(|_| format!("{text:?} is not a date (YYYY-MM-DD) or an RFC 3339 instant"))
}

/// An instant given as RFC 3339 or a date (its midnight, UTC).
fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    t.parse::<NaiveDate>()
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
        .map_err(|_| format!("{text:?} is not an RFC 3339 instant or a date (YYYY-MM-DD)"))
}

/// The optional instant of field `name`, RFC 3339 or a date; a broken
/// one is recorded as invalid.
pub(crate) fn instant_field(f: &mut Fields, name: &str) -> Option<DateTime<Utc>> {
    let text = f.opt_string(name)?;
    parse_instant(&text)
        .map_err(|rule| f.invalid(name, rule))
        .ok()
}

/// The optional `from` and `to` instants of a query over windows; `from`
/// not before `to` is recorded as invalid.
pub(crate) fn range_fields(f: &mut Fields) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let from = instant_field(f, "from");
    let to = instant_field(f, "to");
    if let (Some(a), Some(b)) = (from, to)
        && a >= b
    {
        f.invalid("from", format!("must be before to ({a} is not before {b})"));
    }
    (from, to)
}

/// Which service's results a query over monitor `name`'s windows keeps:
/// the one asked for, if the results have it; none asked for is fine
/// while at most one service has results (`services`: theirs, sorted).
/// `Some` filters to that service, `None` keeps every result.
pub(crate) fn pick_service(
    name: &str,
    services: &[String],
    asked: Option<&str>,
) -> Result<Option<String>, ApiError> {
    match asked {
        Some(s) if !services.iter().any(|x| x == s) => Err(ApiError::field(
            "service",
            format!("monitor {name:?} has no results of service {s:?} in the range"),
        )),
        Some(s) => Ok(Some(s.to_string())),
        None if services.len() > 1 => Err(ApiError::field(
            "service",
            format!(
                "is required: the monitor's results are of {}",
                services.join(", ")
            ),
        )),
        None => Ok(None),
    }
}

fn day_field(f: &mut Fields, name: &str) -> Option<NaiveDate> {
    let text = f.string(name)?;
    match parse_day(&text) {
        Ok(d) => Some(d),
        Err(rule) => {
            f.invalid(name, rule);
            None
        }
    }
}

/// `POST /monitors/{name}/runs`: an adhoc run of the window holding
/// `date`, with optional `features` and `threshold` overrides.
pub async fn adhoc(
    State(state): State<AppState>,
    Extension(_caller): Extension<Caller>,
    Path(name): Path<String>,
    Body(mut f): Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let monitor = state.store.monitor(&name).await?;
    let date = day_field(&mut f, "date");
    let features = f.opt_strings("features");
    let threshold = f.opt_f64("threshold");
    let services = f.opt_strings("services");
    if let Some(t) = threshold.filter(|t| !(0.0..=1.0).contains(t)) {
        f.invalid("threshold", format!("must lie in [0, 1], not {t}"));
    }
    if let Some(list) = &features {
        if list.is_empty() {
            f.invalid(
                "features",
                "must list at least one feature (or be left out)",
            );
        }
        if let Ok(record) = state
            .store
            .baseline(&monitor.spec.baseline, monitor.spec.baseline_version)
            .await
        {
            let profile = state.baselines.get(&state.store, &record).await?;
            for name in list {
                if profile.feature(name).is_none() {
                    f.invalid(
                        "features",
                        format!(
                            "feature {name:?} is not in baseline {} v{}",
                            record.name, record.version
                        ),
                    );
                }
            }
        }
    }
    f.finish()?;
    let window = monitor
        .spec
        .frequency
        .window_of(date.expect("finish() refused a missing date"));
    let mut overrides = json!({});
    if let Some(list) = features {
        overrides["features"] = json!(list);
    }
    if let Some(t) = threshold {
        overrides["threshold"] = json!(t);
    }
    if let Some(list) = services {
        overrides["services"] = json!(list);
    }
    let runs = state
        .store
        .queue_runs(&name, RunKind::Adhoc, &[window], &overrides)
        .await?;
    state.wake.notify_waiters();
    // The run, as ever; with every run queued under `runs` (one per
    // service, for a monitor made from a model).
    let first = runs
        .first()
        .ok_or_else(|| ApiError::Internal("an adhoc run was not queued".into()))?;
    let mut answer = serde_json::to_value(first)
        .map_err(|e| ApiError::Internal(format!("a run as JSON: {e}")))?;
    answer["runs"] = json!(runs);
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

/// `POST /monitors/{name}/backfill`: `{from, to}` (dates, both included):
/// one run per window holding a day of the range, however many.
pub async fn backfill(
    State(state): State<AppState>,
    Extension(_caller): Extension<Caller>,
    Path(name): Path<String>,
    Body(mut f): Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let monitor = state.store.monitor(&name).await?;
    let from = day_field(&mut f, "from");
    let to = day_field(&mut f, "to");
    let services = f.opt_strings("services");
    if let (Some(a), Some(b)) = (from, to)
        && a > b
    {
        f.invalid("from", format!("must not be after to ({a} is after {b})"));
    }
    f.finish()?;
    let (from, to) = (from.expect("checked"), to.expect("checked"));
    let windows = monitor.spec.frequency.windows(from, to);
    let overrides = match services {
        Some(list) => json!({ "services": list }),
        None => json!({}),
    };
    let runs = state
        .store
        .queue_runs(&name, RunKind::Backfill, &windows, &overrides)
        .await?;
    state.wake.notify_waiters();
    Ok((StatusCode::ACCEPTED, Json(json!({ "runs": runs }))))
}

/// `GET /monitors/{name}/runs`: every run, by window then id; `state` and
/// `kind` filter.
pub async fn list(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Json<Vec<Run>>, ApiError> {
    let mut f = Fields::from_query(query);
    let want_state = f.opt_string("state");
    let want_kind = f.opt_string("kind");
    f.finish()?;
    state.store.monitor(&name).await?;
    let runs = state.store.runs(&name).await?;
    Ok(Json(
        runs.into_iter()
            .filter(|r| want_state.as_deref().is_none_or(|s| s == r.state.as_str()))
            .filter(|r| want_kind.as_deref().is_none_or(|k| k == r.kind.as_str()))
            .collect(),
    ))
}

fn run_id(text: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::field("id", format!("{text:?} is not a run id")))
}

/// `GET /runs/{id}`.
pub async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Run>, ApiError> {
    Ok(Json(state.store.run(run_id(&id)?).await?))
}

/// `GET /runs/{id}/report?feature=`: the whole drift report of a
/// succeeded run; with `feature`, its `features` hold that one alone.
pub async fn report(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let mut f = Fields::from_query(query);
    let feature = f.opt_string("feature");
    f.finish()?;
    let id = run_id(&id)?;
    let mut report = state.store.run_report(id).await?;
    if let Some(name) = feature {
        let features = report["features"].as_array_mut();
        let Some(features) = features else {
            return Err(ApiError::Internal(format!(
                "run {id}'s report has no features"
            )));
        };
        features.retain(|f| f["name"].as_str() == Some(name.as_str()));
        if features.is_empty() {
            return Err(ApiError::field(
                "feature",
                format!("run {id}'s report has no feature {name:?}"),
            ));
        }
    }
    Ok(Json(report))
}

/// `POST /runs/{id}/cancel`: a queued run never starts; a running one
/// stops between batches. A finished run cannot be cancelled (400).
pub async fn cancel(
    State(state): State<AppState>,
    Extension(_caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Run>, ApiError> {
    Ok(Json(state.store.cancel_run(run_id(&id)?).await?))
}

/// `POST /monitors/{name}/cancel`: cancels every queued run of the
/// monitor (a backfill stopped).
pub async fn cancel_queued(
    State(state): State<AppState>,
    Extension(_caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.store.monitor(&name).await?;
    let n = state.store.cancel_queued(&name).await?;
    Ok(Json(json!({ "cancelled": n })))
}

/// The default range of the results query: the last 10 periods, ending
/// with the newest complete window.
pub fn default_range(frequency: Frequency, latency_hours: u32, now: DateTime<Utc>) -> Window {
    let newest = last_complete(frequency, latency_hours, now);
    let mut first = newest;
    for _ in 0..9 {
        first = frequency.window_at(first.start - Duration::seconds(1));
    }
    Window {
        start: first.start,
        end: newest.end,
    }
}

fn window_json(r: &RunResult) -> Value {
    json!({
        "run_id": r.run.id,
        "kind": r.run.kind,
        "service": r.run.service,
        "window_start": r.run.window.start,
        "window_end": r.run.window.end,
        "drift_coefficient": r.drift_coefficient,
        "threshold": r.threshold,
        "has_drift": r.has_drift,
        "metrics": r.metrics,
    })
}

/// `GET /monitors/{name}/results?from=&to=&include_adhoc=&run=`: the
/// reference's get_output. For the windows overlapping `[from, to)`
/// (default: the last 10 periods), each window's newest scheduled or
/// backfill result (`include_adhoc=true` counts adhoc runs too); `run=ID`
/// selects one run instead.
pub async fn results(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let mut f = Fields::from_query(query);
    let (from, to) = range_fields(&mut f);
    let include_adhoc = f.opt_bool("include_adhoc").unwrap_or(false);
    let run = f.opt_i64("run");
    f.finish()?;
    let monitor = state.store.monitor(&name).await?;
    if let Some(id) = run {
        let r = state.store.run_result(id).await?;
        if r.run.monitor != name {
            return Err(ApiError::NotFound(format!(
                "monitor {name:?} has no run {id}"
            )));
        }
        return Ok(Json(json!({
            "monitor": name,
            "from": r.run.window.start,
            "to": r.run.window.end,
            "windows": [window_json(&r)],
        })));
    }
    let range = default_range(
        monitor.spec.frequency,
        monitor.spec.latency_hours,
        Utc::now(),
    );
    let (from, to) = (from.unwrap_or(range.start), to.unwrap_or(range.end));
    let results = state.store.results(&name, from, to, include_adhoc).await?;
    Ok(Json(json!({
        "monitor": name,
        "from": from,
        "to": to,
        "windows": results.iter().map(window_json).collect::<Vec<_>>(),
    })))
}
