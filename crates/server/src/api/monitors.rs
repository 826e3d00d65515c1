//! Monitors: create, get, list, update, delete, enable, disable, and each
//! one's audit log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use tidewatch_store::monitor::DEFAULT_THRESHOLD;
use tidewatch_store::{AlertRoute, AuditEntry, Frequency, Monitor, MonitorSpec, MonitorState};

use super::body::{Body, Fields, Path};
use super::{ApiError, AppState, Caller};

/// The fields of a spec that a request may set, taken from `f` over
/// `spec` (a new monitor's defaults, or the monitor as it is).
fn apply(f: &mut Fields, spec: &mut MonitorSpec) {
    if let Some(v) = f.opt_string("baseline") {
        spec.baseline = v;
        // A new baseline name: its newest version unless one is given.
        spec.baseline_version = None;
    }
    if let Some(v) = f.opt_i64("baseline_version") {
        spec.baseline_version = Some(v);
    }
    if let Some(v) = f.opt_string("target") {
        spec.target = v;
    }
    if f.has("services") {
        spec.services = f.opt_strings("services").unwrap_or_default();
    }
    if f.has("features") {
        spec.features = f.opt_strings("features");
    }
    if let Some(v) = f.opt_f64("threshold") {
        spec.threshold = v;
    }
    if let Some(v) = f.opt_bool("enabled") {
        spec.enabled = v;
    }
    if let Some(v) = f.value("alerts") {
        match serde_json::from_value::<Vec<AlertRoute>>(v) {
            Ok(routes) => spec.alerts = routes,
            Err(_) => f.invalid(
                "alerts",
                "must be a list of {\"type\": \"email\", \"webhook\" or \"slack\", \"to\": address or URL}",
            ),
        }
    }
    if f.has("alert_persistence") {
        match f.value("alert_persistence") {
            None | Some(serde_json::Value::Null) => spec.alert_persistence = None,
            Some(v) => match serde_json::from_value(v) {
                Ok(p) => spec.alert_persistence = Some(p),
                Err(_) => f.invalid(
                    "alert_persistence",
                    "must be {\"drifted\": N, \"of\": M}, or null",
                ),
            },
        }
    }
    if let Some(v) = f.opt_string_map("feature_methods") {
        spec.feature_methods = v;
    }
    if let Some(v) = f.opt_number_map("feature_thresholds") {
        spec.feature_thresholds = v;
    }
}

/// Checks what needs the data: the baseline (pinned to its newest version
/// when none is given), the target's time column, and that every named
/// feature is in the baseline profile and in the target's columns.
async fn check_against_data(state: &AppState, spec: &mut MonitorSpec) -> Result<(), ApiError> {
    // The model first: it names the baseline the rules below check.
    let mut model_problems = Vec::new();
    if let Some(m) = spec.model.clone() {
        match state.store.model(&m.name, &m.version).await {
            Ok(model) => {
                spec.baseline = model.baseline;
                spec.baseline_version = Some(model.baseline_version);
            }
            Err(tidewatch_store::StoreError::NotFound { .. }) => model_problems.push(invalid(
                "model",
                format!(
                    "no model {:?} version {:?} is registered",
                    m.name, m.version
                ),
            )),
            Err(e) => return Err(e.into()),
        }
        for s in &spec.services {
            match state.store.service(s).await {
                Ok(service) if service.model == m.name && service.version == m.version => {}
                Ok(service) => model_problems.push(invalid(
                    "services",
                    format!(
                        "service {s:?} serves model {:?} version {:?}, not this one",
                        service.model, service.version
                    ),
                )),
                Err(tidewatch_store::StoreError::NotFound { .. }) => model_problems.push(invalid(
                    "services",
                    format!("no service {s:?} is registered"),
                )),
                Err(e) => return Err(e.into()),
            }
        }
    }
    let mut problems = spec.problems();
    problems.extend(model_problems);
    let record = match state
        .store
        .baseline(&spec.baseline, spec.baseline_version)
        .await
    {
        Ok(r) => Some(r),
        Err(tidewatch_store::StoreError::NotFound { name, .. }) => {
            problems.push(invalid("baseline", format!("no baseline named {name:?}")));
            None
        }
        Err(e) => return Err(e.into()),
    };
    let dataset = match state.store.dataset(&spec.target).await {
        // A model's monitor has services, not a target dataset.
        _ if spec.model.is_some() => None,
        Ok(d) => Some(d),
        Err(tidewatch_store::StoreError::NotFound { name, .. }) => {
            problems.push(invalid("target", format!("no dataset named {name:?}")));
            None
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(d) = &dataset
        && d.time_column.is_none()
    {
        problems.push(invalid(
            "target",
            format!(
                "dataset {:?} has no time column, so it has no windows",
                d.name
            ),
        ));
    }
    for (feature, method) in &spec.feature_methods {
        if tidewatch_core::methods::by_name(method).is_none() {
            problems.push(invalid(
                &format!("feature_methods.{feature}"),
                format!("unknown metric {method:?} (see `tidewatch methods`)"),
            ));
        }
    }
    let mut named: Vec<(String, &String)> = Vec::new();
    for f in spec.features.iter().flatten() {
        named.push(("features".into(), f));
    }
    for f in spec.feature_methods.keys() {
        named.push((format!("feature_methods.{f}"), f));
    }
    for f in spec.feature_thresholds.keys() {
        named.push((format!("feature_thresholds.{f}"), f));
    }
    if let Some(record) = &record {
        spec.baseline_version = Some(record.version);
        let profile = state.baselines.get(&state.store, record).await?;
        for (field, f) in &named {
            if profile.feature(f).is_none() {
                problems.push(invalid(
                    field,
                    format!(
                        "feature {f:?} is not in baseline {} v{}",
                        record.name, record.version
                    ),
                ));
            }
        }
    }
    // The target's columns, when its data can be read already (a
    // collected dataset may have no files yet).
    if let Some(d) = dataset.filter(|_| !named.is_empty()) {
        let columns = tokio::task::spawn_blocking(move || {
            let options = crate::runner::read_options(&d).ok()?;
            let data = tidewatch_data::Dataset::open(&d.input, &options).ok()?;
            Some(
                data.schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect::<Vec<_>>(),
            )
        })
        .await
        .ok()
        .flatten();
        if let Some(columns) = columns {
            for (field, f) in &named {
                if !columns.contains(f) {
                    problems.push(invalid(
                        field,
                        format!("feature {f:?} is not a column of dataset {:?}", spec.target),
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        problems.dedup();
        Err(ApiError::Invalid(problems))
    }
}

/// Both checks' broken rules in one answer (the first other error alone).
fn both(a: Result<(), ApiError>, b: Result<(), ApiError>) -> Result<(), ApiError> {
    match (a, b) {
        (Ok(()), r) | (r, Ok(())) => r,
        (Err(ApiError::Invalid(mut x)), Err(ApiError::Invalid(y))) => {
            for p in y {
                if !x.contains(&p) {
                    x.push(p);
                }
            }
            Err(ApiError::Invalid(x))
        }
        (Err(e), _) => Err(e),
    }
}

fn invalid(field: &str, rule: String) -> tidewatch_store::Invalid {
    tidewatch_store::Invalid {
        field: field.to_string(),
        rule,
    }
}

/// `POST /monitors`: `{name, baseline, baseline_version?, target,
/// frequency, latency_hours?, threshold?, features?, alerts?, enabled?,
/// feature_methods?, feature_thresholds?}`.
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Body(mut f): Body,
) -> Result<(StatusCode, Json<Monitor>), ApiError> {
    let name = f.string("name").unwrap_or_default();
    let frequency = match f.string("frequency").map(|s| s.parse::<Frequency>()) {
        Some(Ok(freq)) => freq,
        Some(Err(rule)) => {
            f.invalid("frequency", rule);
            Frequency::Day
        }
        None => Frequency::Day,
    };
    let latency_hours = match f.opt_i64("latency_hours") {
        None => 0,
        Some(h) => u32::try_from(h).unwrap_or_else(|_| {
            f.invalid("latency_hours", format!("must lie in 0 to 1000, not {h}"));
            0
        }),
    };
    // Made from a model: the model's baseline, its services as targets.
    let model = f.opt_string("model");
    let model_version = f.opt_string("model_version");
    let model = match (model, model_version) {
        (Some(name), Some(version)) => {
            if f.has("baseline") {
                f.invalid("baseline", "is the model's: leave it out");
            }
            Some(tidewatch_store::ModelRef { name, version })
        }
        (Some(_), None) => {
            f.invalid("model_version", "is required with model");
            None
        }
        (None, Some(_)) => {
            f.invalid("model", "is required with model_version");
            None
        }
        (None, None) => {
            if !f.has("baseline") {
                f.invalid("baseline", "is required (or model and model_version)");
            }
            if !f.has("target") {
                f.invalid(
                    "target",
                    "is required (or model, model_version and services)",
                );
            }
            None
        }
    };
    let mut spec = MonitorSpec {
        name,
        baseline: String::new(),
        baseline_version: None,
        target: String::new(),
        model,
        services: Vec::new(),
        features: None,
        frequency,
        latency_hours,
        threshold: DEFAULT_THRESHOLD,
        alerts: Vec::new(),
        alert_persistence: None,
        enabled: true,
        feature_methods: Default::default(),
        feature_thresholds: Default::default(),
    };
    apply(&mut f, &mut spec);
    let read = f.finish();
    both(read, check_against_data(&state, &mut spec).await)?;
    let monitor = state
        .store
        .create_monitor(&spec, Some(&caller.name))
        .await?;
    state.wake.notify_waiters();
    Ok((StatusCode::CREATED, Json(monitor)))
}

/// `GET /monitors`: every monitor not deleted.
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<Monitor>>, ApiError> {
    Ok(Json(state.store.monitors().await?))
}

/// `GET /monitors/{name}`.
pub async fn get_one(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Monitor>, ApiError> {
    Ok(Json(state.store.monitor(&name).await?))
}

/// `PATCH /monitors/{name}`: the fields given change, the rest stay. Name,
/// frequency and latency are fixed at creation.
pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    Body(mut f): Body,
) -> Result<Json<Monitor>, ApiError> {
    let current = state.store.monitor(&name).await?;
    let mut spec = current.spec.clone();
    if let Some(n) = f.opt_string("name").filter(|n| *n != name) {
        f.invalid(
            "name",
            format!("is fixed at creation ({name:?}, not {n:?})"),
        );
    }
    if let Some(v) = f.opt_string("frequency")
        && v.parse::<Frequency>().ok() != Some(spec.frequency)
    {
        f.invalid(
            "frequency",
            format!("is fixed at creation ({}, not {v:?})", spec.frequency),
        );
    }
    if let Some(h) = f.opt_i64("latency_hours")
        && h != i64::from(spec.latency_hours)
    {
        f.invalid(
            "latency_hours",
            format!("is fixed at creation ({}, not {h})", spec.latency_hours),
        );
    }
    apply(&mut f, &mut spec);
    let read = f.finish();
    both(read, check_against_data(&state, &mut spec).await)?;
    let monitor = state
        .store
        .update_monitor(&spec, Some(&caller.name))
        .await?;
    state.wake.notify_waiters();
    Ok(Json(monitor))
}

async fn set_state(
    state: AppState,
    caller: Caller,
    name: String,
    to: MonitorState,
) -> Result<Json<Monitor>, ApiError> {
    let monitor = state
        .store
        .set_monitor_state(&name, to, Some(&caller.name))
        .await?;
    state.wake.notify_waiters();
    Ok(Json(monitor))
}

/// `DELETE /monitors/{name}`: every later operation on it fails (410).
pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Json<Monitor>, ApiError> {
    // Its queued runs will never run.
    state.store.cancel_queued(&name).await?;
    set_state(state, caller, name, MonitorState::Deleted).await
}

/// `POST /monitors/{name}/enable`.
pub async fn enable(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Json<Monitor>, ApiError> {
    set_state(state, caller, name, MonitorState::Enabled).await
}

/// `POST /monitors/{name}/disable`.
pub async fn disable(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Json<Monitor>, ApiError> {
    set_state(state, caller, name, MonitorState::Disabled).await
}

/// `GET /monitors/{name}/audit`: every change, oldest first.
pub async fn audit(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    state.store.monitor(&name).await?;
    Ok(Json(state.store.monitor_audit(&name).await?))
}

/// `GET /monitors/{name}/alerts`: its notifications, newest first: where
/// each went, whether it was sent, attempts and the last error.
pub async fn alerts(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Vec<tidewatch_store::Notification>>, ApiError> {
    Ok(Json(state.store.notifications(&name).await?))
}

/// `POST /monitors/{name}/alerts/test`: a test notification to each of its
/// routes, queued for delivery (202).
pub async fn test_alerts(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<Vec<tidewatch_store::Notification>>), ApiError> {
    let queued = state.store.queue_test_notifications(&name).await?;
    Ok((StatusCode::ACCEPTED, Json(queued)))
}
