//! tidewatch's monitoring model and its results store.
//!
//! * [`window`]: the windows a monitor runs over (a UTC day, a Monday-to-Sunday
//!   week, a calendar month), when each is complete, and backfill ranges.
//! * [`monitor`]: a monitor's definition and the rules each field obeys,
//!   every broken rule named with its field.
//! * [`db`]: the embedded store, one SQLite file in a data directory,
//!   migrated on open: datasets, versioned baselines (profile files beside
//!   the database), monitors with an audit log, runs and their results.
//! * [`schedule`]: the windows due for the scheduler, and backfills queued
//!   in one transaction.
//! * [`metrics`]: the compact per-window results the results query reads.
//! * [`token`]: API tokens with a role, stored hashed.
//!
//! The one decision a reader must know: **the store is the only state**.
//! A run is queued, claimed, finished or cancelled by a single SQL
//! statement or transaction, so a process that dies at any point leaves a
//! state the next one resumes from (runs left running are re-queued; a
//! scheduled window is queued at most once, by a unique index).
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use tidewatch_store::{Role, Store};
//! let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(dir.path()).await.unwrap();
//! let (token, secret) = store.create_token("ops", Role::Admin).await.unwrap();
//! assert_eq!(store.authenticate(&secret).await.unwrap(), Some(token));
//! # });
//! ```
#![deny(missing_docs)]

pub mod alerts;
pub mod db;
pub mod metrics;
pub mod models;
pub mod monitor;
pub mod schedule;
pub mod series;
pub mod token;
pub mod window;

pub use alerts::{Notification, NotificationState};
pub use db::{
    AuditEntry, BaselineRecord, Dataset, Monitor, MonitorState, Run, RunKind, RunResult, RunState,
    Store, StoreError,
};
pub use models::{Model, Service};
pub use monitor::{AlertRoute, Invalid, ModelRef, MonitorSpec};
pub use series::{FeatureCell, WindowSummary};
pub use token::{Role, Token};
pub use window::{Frequency, Window};
