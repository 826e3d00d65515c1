//! `/models` and `/services`: the reference's `Model.register(name,
//! version, datasets=[training])` and its deployments. Registering a model
//! version fits its baseline from the training dataset (a baseline named
//! after the model, next version); a service collects for one registered
//! model version, and a monitor made from the model compares its services.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use tidewatch_store::{Model, Service};

use super::body::{Body, Path, Query};
use super::datasets::profile_options;
use super::{ApiError, AppState};
use crate::runner::fit_baseline;

/// `POST /models`: `{name, version, dataset, ...profile options}`.
pub async fn register(
    State(state): State<AppState>,
    Body(mut f): Body,
) -> Result<(StatusCode, Json<Model>), ApiError> {
    let name = f.string("name").unwrap_or_default();
    let version = f.string("version").unwrap_or_default();
    let dataset = f.string("dataset").unwrap_or_default();
    let options = profile_options(&mut f);
    if let Err(rule) = tidewatch_store::monitor::check_name(&name) {
        f.invalid("name", rule);
    }
    if version.trim().is_empty() || version.len() > 64 {
        f.invalid("version", "must be 1 to 64 characters");
    }
    f.finish()?;
    if state.store.model(&name, &version).await.is_ok() {
        return Err(ApiError::Conflict(format!(
            "model {name} version {version} is registered already"
        )));
    }
    let record = state.store.dataset(&dataset).await?;
    let profile = tokio::task::spawn_blocking(move || fit_baseline(&record, None, &options))
        .await
        .map_err(|e| ApiError::Internal(format!("the profiling thread failed: {e}")))?
        .map_err(|e| ApiError::field("dataset", format!("{dataset:?} cannot be profiled: {e}")))?;
    let baseline = state
        .store
        .create_baseline(&name, &dataset, &profile)
        .await?;
    let model = state
        .store
        .register_model(&name, &version, &dataset, (&name, baseline.version))
        .await?;
    Ok((StatusCode::CREATED, Json(model)))
}

/// `GET /models`.
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<Model>>, ApiError> {
    Ok(Json(state.store.models().await?))
}

/// `GET /models/{name}?version=`: one version, or every version of the model.
pub async fn get_one(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Json<Vec<Model>>, ApiError> {
    let mut f = super::body::Fields::from_query(query);
    let version = f.opt_string("version");
    f.finish()?;
    let versions: Vec<Model> = state
        .store
        .models()
        .await?
        .into_iter()
        .filter(|m| m.name == name && version.as_ref().is_none_or(|v| &m.version == v))
        .collect();
    if versions.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no model {name:?}{}",
            version.map_or(String::new(), |v| format!(" version {v:?}"))
        )));
    }
    Ok(Json(versions))
}

/// `POST /services`: `{name, model, version}`.
pub async fn register_service(
    State(state): State<AppState>,
    Body(mut f): Body,
) -> Result<(StatusCode, Json<Service>), ApiError> {
    let name = f.string("name").unwrap_or_default();
    let model = f.string("model").unwrap_or_default();
    let version = f.string("version").unwrap_or_default();
    f.finish()?;
    let service = state
        .store
        .register_service(&name, &model, &version)
        .await?;
    Ok((StatusCode::CREATED, Json(service)))
}

/// `GET /services`.
pub async fn list_services(State(state): State<AppState>) -> Result<Json<Vec<Service>>, ApiError> {
    Ok(Json(state.store.services().await?))
}
