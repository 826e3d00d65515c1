//! `POST /services/{service}/inputs` and `.../predictions`: the collector's
//! endpoint (see [`crate::collector`]).

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};

use super::body::{Fields, Path, Query};
use super::{ApiError, AppState};
use crate::collector::{Ack, CollectError, Stream};
use tidewatch_data::records::{BatchError, BodyFormat};

/// Largest request body the collector reads, in bytes (compressed).
pub const MAX_BATCH_BYTES: usize = 32 << 20;

async fn ingest(
    state: AppState,
    service: String,
    stream: Stream,
    query: Vec<(String, String)>,
    req: Request,
) -> Result<(StatusCode, Json<Ack>), ApiError> {
    let Some(collector) = state.collector.clone() else {
        return Err(ApiError::Unavailable(
            "the collector is not running here".into(),
        ));
    };
    if let Err(rule) = tidewatch_store::monitor::check_name(&service) {
        return Err(ApiError::field("service", rule));
    }
    let mut f = Fields::from_query(query);
    let model = f.opt_string("model");
    let version = f.opt_string("version");
    f.finish()?;
    let headers = req.headers();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let format = BodyFormat::from_content_type(&content_type).ok_or_else(|| {
        ApiError::field(
            "Content-Type",
            format!(
                "must be application/json, application/x-ndjson or text/csv, not {content_type:?}"
            ),
        )
    })?;
    let key = headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map(str::to_string)
                .map_err(|_| ApiError::field("Idempotency-Key", "must be visible ASCII"))
        })
        .transpose()?;
    let body = axum::body::to_bytes(req.into_body(), MAX_BATCH_BYTES)
        .await
        .map_err(|_| {
            ApiError::TooLarge(format!("the body is more than {MAX_BATCH_BYTES} bytes"))
        })?;
    let ack = tokio::task::spawn_blocking(move || {
        collector.ingest(&service, stream, model, version, key, &body, format)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the collector's thread failed: {e}")))?
    .map_err(|e| match e {
        CollectError::Batch(BatchError::TooLarge(m)) => ApiError::TooLarge(m),
        CollectError::Batch(BatchError::Record { index, why }) => {
            ApiError::BadRecord { index, why }
        }
        CollectError::Batch(b) => ApiError::BadRequest(b.to_string()),
        CollectError::Wal(w) => ApiError::Internal(w.to_string()),
        CollectError::Failed(m) => ApiError::Internal(m),
        busy @ CollectError::Busy { .. } => ApiError::Busy {
            message: busy.to_string(),
            retry_after_secs: 5,
        },
    })?;
    let status = if ack.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(ack)))
}

/// `POST /services/{service}/inputs?model=&version=`.
pub async fn inputs(
    State(state): State<AppState>,
    Path(service): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    req: Request,
) -> Result<(StatusCode, Json<Ack>), ApiError> {
    ingest(state, service, Stream::Inputs, query, req).await
}

/// `POST /services/{service}/predictions?model=&version=`.
pub async fn predictions(
    State(state): State<AppState>,
    Path(service): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    req: Request,
) -> Result<(StatusCode, Json<Ack>), ApiError> {
    ingest(state, service, Stream::Predictions, query, req).await
}
