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
        full @ CollectError::DiskFull { .. } => ApiError::Busy {
            message: full.to_string(),
            retry_after_secs: 60,
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

/// `GET /services/{service}/export?stream=&model=&version=&from=&to=&format=`:
/// the service's records of one stream (default `inputs`) in a time window
/// on `$Timestamp`, as one Parquet (default) or CSV file, for retraining
/// on what the model saw. `from` is inclusive; `to` is exclusive, and a
/// date alone includes its whole day. The log is compacted first, so every
/// acknowledged record is in the export.
pub async fn export(
    State(state): State<AppState>,
    Path(service): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    use tidewatch_data::collected::{self, ExportFormat};

    if let Err(rule) = tidewatch_store::monitor::check_name(&service) {
        return Err(ApiError::field("service", rule));
    }
    let mut f = Fields::from_query(query);
    let stream = f.opt_string("stream").unwrap_or_else(|| "inputs".into());
    if stream != "inputs" && stream != "predictions" {
        f.invalid("stream", "must be inputs or predictions");
    }
    let model = f.opt_string("model");
    let version = f.opt_string("version");
    let from = f.opt_string("from");
    // A date alone as `to` includes that day.
    let to =
        f.opt_string("to").map(
            |t| match chrono::NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d") {
                Ok(day) => day
                    .succ_opt()
                    .map_or(t, |next| next.format("%Y-%m-%d").to_string()),
                Err(_) => t,
            },
        );
    let format_name = f.opt_string("format").unwrap_or_else(|| "parquet".into());
    let format = ExportFormat::from_name(&format_name);
    if format.is_none() {
        f.invalid("format", "must be parquet or csv");
    }
    let window = match tidewatch_data::TimeWindow::parse(
        tidewatch_data::records::TIMESTAMP,
        from.as_deref(),
        to.as_deref(),
    ) {
        Ok(w) => Some(w),
        Err(e) => {
            f.invalid("from/to", e.to_string());
            None
        }
    };
    f.finish()?;
    let (Some(format), Some(window)) = (format, window) else {
        return Err(ApiError::BadRequest("a bad format or window".into()));
    };
    let collector = state.collector.clone();
    let root = collector.as_ref().map_or_else(
        || state.store.dir().join("collect").join("data"),
        |c| c.data_root(),
    );
    let glob = collected::stream_glob(
        &root,
        &service,
        model.as_deref(),
        version.as_deref(),
        &stream,
    );
    let what = format!(
        "service {service:?} ({stream}{}{})",
        model
            .as_ref()
            .map_or(String::new(), |m| format!(", model {m}")),
        version
            .as_ref()
            .map_or(String::new(), |v| format!(", version {v}"))
    );
    let bytes = tokio::task::spawn_blocking(move || {
        if let Some(c) = &collector {
            c.compact(true)
                .map_err(|e| ApiError::Internal(format!("compacting before the export: {e}")))?;
        }
        let options = tidewatch_data::ReadOptions {
            window: Some(window),
            ..Default::default()
        };
        let data = match tidewatch_data::Dataset::open(&glob, &options) {
            Ok(d) => d,
            Err(tidewatch_data::Error::NoFiles { .. }) => {
                return Err(ApiError::NotFound(format!(
                    "no collected records of {what}"
                )));
            }
            Err(e) => return Err(ApiError::BadRequest(format!("reading {what}: {e}"))),
        };
        let (batches, _) = data.read_all().map_err(|e| match e {
            tidewatch_data::Error::Empty { .. } => {
                ApiError::NotFound(format!("no collected records of {what} in the window"))
            }
            e => ApiError::BadRequest(format!("reading {what}: {e}")),
        })?;
        collected::encode(&batches, format).map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the export's thread failed: {e}")))??;
    let content_type = match format {
        ExportFormat::Parquet => "application/vnd.apache.parquet",
        ExportFormat::Csv => "text/csv",
    };
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}

/// Where the collector's compacted parts lie.
pub(crate) fn data_root(state: &AppState) -> std::path::PathBuf {
    state.collector.as_ref().map_or_else(
        || state.store.dir().join("collect").join("data"),
        |c| c.data_root(),
    )
}

/// What `service` has sent: its compacted records per stream and UTC day,
/// the newest record time and the collector's counts since start.
pub(crate) async fn service_stats(
    state: &AppState,
    service: &str,
) -> Result<serde_json::Value, ApiError> {
    let root = data_root(state);
    let name = service.to_string();
    let days =
        tokio::task::spawn_blocking(move || tidewatch_data::collected::day_counts(&root, &name))
            .await
            .map_err(|e| ApiError::Internal(format!("the stats thread failed: {e}")))?
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    let counts = state
        .collector
        .as_ref()
        .and_then(|c| c.counts().into_iter().find(|(s, _)| s == service))
        .map(|(_, n)| n)
        .unwrap_or_default();
    let last = days
        .iter()
        .filter_map(|d| d.last_micros)
        .max()
        .map(tidewatch_data::window::format_instant);
    Ok(serde_json::json!({
        "service": service,
        "days": days.iter().map(|d| serde_json::json!({
            "stream": d.stream, "day": d.day.to_string(), "rows": d.rows,
        })).collect::<Vec<_>>(),
        "last_record_at": last,
        "since_start": counts,
    }))
}

/// `GET /services/{service}/stats`: what a collected service has sent:
/// compacted records per stream and UTC day (from the parts' footers),
/// the newest record time, and what the collector took and refused from
/// it since the server started (the dashboard's view of a service).
pub async fn stats(
    State(state): State<AppState>,
    Path(service): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if let Err(rule) = tidewatch_store::monitor::check_name(&service) {
        return Err(ApiError::field("service", rule));
    }
    let stats = service_stats(&state, &service).await?;
    let silent = stats["days"].as_array().is_none_or(Vec::is_empty)
        && stats["since_start"] == serde_json::json!(crate::collector::ServiceCounts::default());
    if silent {
        return Err(ApiError::NotFound(format!(
            "service {service:?} has sent nothing"
        )));
    }
    Ok(Json(stats))
}
