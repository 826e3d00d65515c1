//! Datasets (named sources of data) and baselines (profiles fitted from a
//! dataset once, versioned, immutable).

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use tidewatch_core::stats::histogram::BinRule;
use tidewatch_core::{FeatureKind, KindRule, ProfileOptions};
use tidewatch_store::{BaselineRecord, Dataset};

use super::body::{Body, Fields, Path, Query};
use super::{ApiError, AppState, Caller};
use crate::runner::{fit_baseline, read_options};

/// `POST /datasets`: `{name, input, format?, time_column?, options?}`.
pub async fn create(
    State(state): State<AppState>,
    Extension(_caller): Extension<Caller>,
    Body(mut f): Body,
) -> Result<(StatusCode, Json<Dataset>), ApiError> {
    let name = f.string("name");
    let input = f.string("input");
    let format = f.opt_string("format");
    let time_column = f.opt_string("time_column");
    let options = f.value("options").unwrap_or(serde_json::json!({}));
    f.finish()?;
    let dataset = Dataset {
        name: name.unwrap_or_default(),
        input: input.unwrap_or_default(),
        format,
        time_column,
        options,
    };
    if let Err(e) = read_options(&dataset) {
        let (field, rule) = e.split_once(": ").unwrap_or(("options", e.as_str()));
        return Err(ApiError::field(field, rule));
    }
    state.store.create_dataset(&dataset).await?;
    Ok((
        StatusCode::CREATED,
        Json(state.store.dataset(&dataset.name).await?),
    ))
}

/// `GET /datasets`.
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<Dataset>>, ApiError> {
    Ok(Json(state.store.datasets().await?))
}

/// `GET /datasets/{name}`.
pub async fn get_one(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Dataset>, ApiError> {
    Ok(Json(state.store.dataset(&name).await?))
}

/// `POST /baselines`: fits the next version of baseline `name` from
/// `dataset` (optionally `from`..`to` on its time column), with the
/// profiling options `features`, `exclude`, `categorical`, `numeric`,
/// `text`, `kind_rule` (default or reference), `bins`, `max_bins`,
/// `classifier_budget`, `seed` and `max_values`.
pub async fn create_baseline(
    State(state): State<AppState>,
    Extension(_caller): Extension<Caller>,
    Body(mut f): Body,
) -> Result<(StatusCode, Json<BaselineRecord>), ApiError> {
    let name = f.string("name");
    let dataset = f.string("dataset");
    let from = f.opt_string("from");
    let to = f.opt_string("to");
    let options = profile_options(&mut f);
    f.finish()?;
    let (name, dataset) = (name.unwrap_or_default(), dataset.unwrap_or_default());
    if let Err(rule) = tidewatch_store::monitor::check_name(&name) {
        return Err(ApiError::field("name", rule));
    }
    let record = state.store.dataset(&dataset).await?;
    let window = (from.is_some() || to.is_some()).then_some((from, to));
    let profile = tokio::task::spawn_blocking(move || fit_baseline(&record, window, &options))
        .await
        .map_err(|e| ApiError::Internal(format!("the profiling thread failed: {e}")))?
        .map_err(|e| ApiError::field("dataset", format!("{dataset:?} cannot be profiled: {e}")))?;
    let stored = state
        .store
        .create_baseline(&name, &dataset, &profile)
        .await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// Profiling options from a request's fields (each mistake recorded).
pub(super) fn profile_options(f: &mut Fields) -> ProfileOptions {
    let mut options = ProfileOptions {
        features: f.opt_strings("features"),
        exclude: f.opt_strings("exclude").unwrap_or_default(),
        ..ProfileOptions::default()
    };
    for (field, kind) in [
        ("categorical", FeatureKind::Categorical),
        ("numeric", FeatureKind::Numeric),
        ("text", FeatureKind::Text),
    ] {
        for c in f.opt_strings(field).unwrap_or_default() {
            if options.kinds.insert(c.clone(), kind).is_some() {
                f.invalid(field, format!("column {c:?} is given more than one kind"));
            }
        }
    }
    match f.opt_string("kind_rule").as_deref() {
        None | Some("default") => {}
        Some("reference") => options.kind_rule = KindRule::Reference,
        Some(other) => f.invalid(
            "kind_rule",
            format!("must be default or reference, not {other:?}"),
        ),
    }
    if let Some(bins) = f.opt_string("bins") {
        match BinRule::parse(&bins) {
            Some(rule) => options.bins = rule,
            None => f.invalid(
                "bins",
                format!(
                    "must be auto, fd, sturges, doane, scott, rice, sqrt or a count, not {bins:?}"
                ),
            ),
        }
    }
    let count = |f: &mut Fields, field: &str| -> Option<usize> {
        let n = f.opt_i64(field)?;
        match usize::try_from(n) {
            Ok(n) => Some(n),
            Err(_) => {
                f.invalid(field, format!("must not be negative, not {n}"));
                None
            }
        }
    };
    if let Some(n) = count(f, "max_bins") {
        options.max_bins = n;
    }
    if let Some(n) = count(f, "classifier_budget") {
        options.classifier_budget = n;
    }
    if let Some(n) = count(f, "seed") {
        options.seed = n as u64;
    }
    options.max_values = count(f, "max_values");
    options
}

/// `GET /baselines`: every version of every baseline.
pub async fn list_baselines(
    State(state): State<AppState>,
) -> Result<Json<Vec<BaselineRecord>>, ApiError> {
    Ok(Json(state.store.baselines().await?))
}

/// `GET /baselines/{name}?version=N`: one version (the newest by default),
/// with its features and their kinds.
pub async fn get_baseline(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut f = Fields::from_query(query);
    let version = f.opt_i64("version");
    f.finish()?;
    let record = state.store.baseline(&name, version).await?;
    let profile = state.baselines.get(&state.store, &record).await?;
    let features: Vec<_> = profile
        .features
        .iter()
        .map(|f| serde_json::json!({"name": f.name, "kind": f.kind, "rows": f.rows, "missing": f.missing}))
        .collect();
    let mut out = serde_json::to_value(&record).expect("a record serialises");
    out["features"] = serde_json::Value::Array(features);
    out["classifier_budget"] = serde_json::json!(profile.options.classifier_budget);
    Ok(Json(out))
}
