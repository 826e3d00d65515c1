//! The API's one error type. Every failure becomes a JSON body
//!
//! ```json
//! {"error": {"status": 400, "code": "invalid", "message": "threshold: must lie in [0, 1], not 2",
//!            "fields": [{"field": "threshold", "rule": "must lie in [0, 1], not 2"}]}}
//! ```
//!
//! with the status its kind declares. Blame decides the status: the
//! caller's mistakes are 4xx with what to fix; the server's own failures
//! are 500 with a generic message, their detail written to the log only.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tidewatch_store::{Invalid, StoreError};

/// An API failure.
#[derive(Debug)]
pub enum ApiError {
    /// No token, or one that is unknown or revoked (401).
    Unauthenticated(String),
    /// A token whose role may not do this (403).
    Forbidden(String),
    /// Fields that break their rules, each named (400).
    Invalid(Vec<Invalid>),
    /// A request that cannot be read at all (400).
    BadRequest(String),
    /// A collected batch with a bad record, refused whole (400, with the
    /// record's index).
    BadRecord {
        /// The record's 0-based position in the batch.
        index: usize,
        /// What is wrong with it.
        why: String,
    },
    /// A body or batch past a limit (413).
    TooLarge(String),
    /// A part of the server that is not running (503).
    Unavailable(String),
    /// Too much to do now: come back after `retry_after_secs` (429, with
    /// `Retry-After`).
    Busy {
        /// What is full.
        message: String,
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// No such entity (404).
    NotFound(String),
    /// The path exists, the method does not (405).
    MethodNotAllowed(String),
    /// The name is taken, or the entity is in a state that forbids this
    /// (409).
    Conflict(String),
    /// The monitor was deleted (410).
    Gone(String),
    /// The server failed; the detail goes to the log, not the body (500).
    Internal(String),
}

impl ApiError {
    /// One broken rule of one field.
    pub fn field(field: &str, rule: impl Into<String>) -> ApiError {
        ApiError::Invalid(vec![Invalid {
            field: field.to_string(),
            rule: rule.into(),
        }])
    }

    /// The HTTP status of this kind of failure.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Invalid(_) | ApiError::BadRequest(_) | ApiError::BadRecord { .. } => {
                StatusCode::BAD_REQUEST
            }
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Busy { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::Invalid(_) => "invalid",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::BadRecord { .. } => "bad_record",
            ApiError::TooLarge(_) => "too_large",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Busy { .. } => "busy",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::Gone(_) => "gone",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Invalid(problems) => {
                let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
                f.write_str(&text.join("; "))
            }
            ApiError::Busy { message, .. } => f.write_str(message),
            ApiError::BadRecord { index, why } => {
                write!(f, "record {index}: {why}; nothing of the batch was stored")
            }
            ApiError::Internal(_) => f.write_str(
                "internal error: this is a bug or a storage failure, see the server log",
            ),
            ApiError::Unauthenticated(m)
            | ApiError::Forbidden(m)
            | ApiError::BadRequest(m)
            | ApiError::TooLarge(m)
            | ApiError::Unavailable(m)
            | ApiError::NotFound(m)
            | ApiError::MethodNotAllowed(m)
            | ApiError::Conflict(m)
            | ApiError::Gone(m) => f.write_str(m),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Invalid(problems) => ApiError::Invalid(problems),
            StoreError::Fixed { field, .. } => ApiError::field(field, e.to_string()),
            StoreError::NotFound { .. } => ApiError::NotFound(e.to_string()),
            StoreError::Exists { .. } => ApiError::Conflict(e.to_string()),
            StoreError::Deleted(_) => ApiError::Gone(e.to_string()),
            StoreError::Database { .. }
            | StoreError::Io { .. }
            | StoreError::NewerSchema { .. }
            | StoreError::BaselineFile { .. } => ApiError::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(detail) = &self {
            eprintln!("tidewatch serve: internal error: {detail}");
        }
        let fields = match &self {
            ApiError::Invalid(problems) => json!(problems),
            _ => json!([]),
        };
        let mut body = json!({
            "error": {
                "status": status.as_u16(),
                "code": self.code(),
                "message": self.to_string(),
                "fields": fields,
            }
        });
        if let ApiError::BadRecord { index, .. } = &self {
            body["error"]["record"] = json!(index);
        }
        let mut response = (status, Json(body)).into_response();
        if let ApiError::Busy {
            retry_after_secs, ..
        } = &self
        {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(*retry_after_secs),
            );
        }
        response
    }
}
