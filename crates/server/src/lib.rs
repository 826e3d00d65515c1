//! tidewatch's monitoring service: the REST API, the run workers and the
//! scheduler over one store.
//!
//! * [`api`]: the HTTP application ([`api::app`]): datasets, baselines,
//!   monitors, runs, results and figures under `/api/v1`, bearer tokens,
//!   JSON errors naming each field, and the OpenAPI document.
//! * [`runner`]: executing one run: the target window read, compared with
//!   the stored baseline profile (loaded once, kept in memory).
//! * [`service`]: the running server: listener, bounded worker pool,
//!   scheduler with catch-up, re-queueing of interrupted runs.
//! * [`figures`]: a monitor's charts drawn from its results.
//! * [`collector`]: records sent by deployed services, synced to a
//!   write-ahead log before they are acknowledged.
//!
//! The one decision a reader must know: **the API is the only interface**.
//! The CLI calls the same router in-process on a local data directory, or
//! over HTTP on a server, so both behave alike and are tested once.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use tower::ServiceExt;
//! let dir = tempfile::tempdir().unwrap();
//! let store = tidewatch_store::Store::open(dir.path()).await.unwrap();
//! let app = tidewatch_server::api::app(tidewatch_server::api::AppState::new(store));
//! let request = axum::http::Request::get("/api/v1/monitors")
//!     .body(axum::body::Body::empty())
//!     .unwrap();
//! let response = app.oneshot(request).await.unwrap();
//! assert_eq!(response.status(), 401); // no token
//! # });
//! ```
#![deny(missing_docs)]

pub mod alerts;
pub mod api;
pub mod collector;
pub mod dashboard;
pub mod figures;
pub mod runner;
pub mod service;
