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

/// The ids of the runs a results query shows, as a `WITH newest AS (...)`
/// clause: for monitor `?1`, the newest succeeded run of each window (and
/// service) overlapping `[?3, ?2)` (bound as RFC 3339 text: to, then
/// from), counting adhoc runs only when `?4` is true.
macro_rules! newest_per_window {
    () => {
        "WITH newest AS (SELECT id FROM (SELECT r.id, ROW_NUMBER() OVER (PARTITION BY \
         r.window_start, COALESCE(r.service, '') ORDER BY r.id DESC) AS n \
         FROM runs r JOIN monitors m ON m.id = r.monitor_id \
         JOIN run_results x ON x.run_id = r.id \
         WHERE m.name = ? AND r.state = 'succeeded' AND r.window_start < ? \
         AND r.window_end > ? AND (? OR r.kind IN ('scheduled', 'backfill'))) WHERE n = 1) "
    };
}

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
