//! The REST API under `/api/v1`, its OpenAPI document, and `/healthz`.
//!
//! [`app`] builds the whole router from an [`AppState`]; the server binds
//! it to a socket, the CLI calls it in-process for a local data directory,
//! and tests drive it either way.
//!
//! Access: every `/api/v1` route but the OpenAPI document needs a bearer
//! token. `GET` needs a read or admin token; every other method needs an
//! admin token, except the collector's, which an ingest token for that
//! service may also call (401 without a valid token, 403 otherwise).

mod auth;
pub mod body;
mod collect;
mod dashboard;
mod datasets;
pub mod error;
mod figures;
mod gzip;
mod metrics;
mod models;
mod monitors;
pub mod openapi;
mod runs;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tokio::sync::Notify;

use crate::runner::Baselines;
use tidewatch_store::Store;

pub use auth::Caller;
pub use error::ApiError;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The store of the data directory.
    pub store: Store,
    /// Loaded baseline profiles.
    pub baselines: Baselines,
    /// Woken when runs are queued, so idle workers start at once.
    pub wake: Arc<Notify>,
    /// Requests without a token act as an admin: only for the CLI calling
    /// the router in-process on its own data directory, never for a socket.
    pub trust_local: bool,
    /// The collector, where this server runs one.
    pub collector: Option<crate::collector::Collector>,
}

impl AppState {
    /// State over `store`, requiring tokens.
    pub fn new(store: Store) -> AppState {
        AppState {
            store,
            baselines: Baselines::default(),
            wake: Arc::new(Notify::new()),
            trust_local: false,
            collector: None,
        }
    }
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/datasets", get(datasets::list).post(datasets::create))
        .route("/datasets/{name}", get(datasets::get_one))
        .route(
            "/baselines",
            get(datasets::list_baselines).post(datasets::create_baseline),
        )
        .route("/baselines/{name}", get(datasets::get_baseline))
        .route("/monitors", get(monitors::list).post(monitors::create))
        .route(
            "/monitors/{name}",
            get(monitors::get_one)
                .patch(monitors::update)
                .delete(monitors::delete),
        )
        .route("/monitors/{name}/enable", post(monitors::enable))
        .route("/monitors/{name}/disable", post(monitors::disable))
        .route("/monitors/{name}/audit", get(monitors::audit))
        .route("/monitors/{name}/alerts", get(monitors::alerts))
        .route("/monitors/{name}/alerts/test", post(monitors::test_alerts))
        .route("/monitors/{name}/runs", get(runs::list).post(runs::adhoc))
        .route("/monitors/{name}/backfill", post(runs::backfill))
        .route("/monitors/{name}/cancel", post(runs::cancel_queued))
        .route("/monitors/{name}/results", get(runs::results))
        .route("/monitors/{name}/figures/{figure}", get(figures::figure))
        .route("/monitors/{name}/series", get(dashboard::series))
        .route("/overview", get(dashboard::overview))
        .route("/collected", get(dashboard::collected))
        .route("/runs/{id}", get(runs::get_one))
        .route("/runs/{id}/cancel", post(runs::cancel))
        .route("/runs/{id}/report", get(runs::report))
        .route("/tokens", get(auth::list_tokens))
        .route("/services/{service}/inputs", post(collect::inputs))
        .route(
            "/services/{service}/predictions",
            post(collect::predictions),
        )
        .route("/services/{service}/export", get(collect::export))
        .route("/services/{service}/stats", get(collect::stats))
        .route("/models", get(models::list).post(models::register))
        .route("/models/{name}", get(models::get_one))
        .route(
            "/services",
            get(models::list_services).post(models::register_service),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .route("/openapi.json", get(openapi::document))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    let metrics = Router::new().route("/metrics", get(metrics::render)).layer(
        axum::middleware::from_fn_with_state(state.clone(), auth::require_token),
    );
    Router::new()
        .nest("/api/v1", api)
        .merge(metrics)
        .route("/healthz", get(healthz))
        .merge(crate::dashboard::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn(gzip::compress))
        .with_state(state)
}

async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let version = state.store.schema_version().await?;
    let queued = state.store.queued_runs().await?;
    Ok(axum::Json(serde_json::json!({
        "status": "ok",
        "schema_version": version,
        "queued_runs": queued,
    })))
}

async fn not_found(axum::extract::OriginalUri(uri): axum::extract::OriginalUri) -> ApiError {
    ApiError::NotFound(format!("no route {}", uri.path()))
}

async fn method_not_allowed(
    method: axum::http::Method,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> ApiError {
    ApiError::MethodNotAllowed(format!("{} does not take {method}", uri.path()))
}

#[cfg(test)]
mod tests;
