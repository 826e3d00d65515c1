//! tidewatch's monitoring model and its results store.
//!
//! * [`window`]: the windows a monitor runs over (a UTC day, a Monday-to-Sunday
//!   week, a calendar month), when each is complete, and backfill ranges.
//! * [`monitor`]: a monitor's definition and the rules each field obeys,
//!   every broken rule named with its field.
//!
//! * [`db`]: the embedded store, one SQLite file in a data directory,
//!   migrated on open: datasets and monitors with an audit log so far;
//!   baselines, runs and results follow.
#![deny(missing_docs)]

pub mod db;
pub mod monitor;
pub mod window;

pub use db::{
    BaselineRecord, Dataset, Monitor, MonitorState, Run, RunKind, RunResult, RunState, Store,
    StoreError,
};
pub use monitor::{AlertRoute, Invalid, MonitorSpec};
pub use window::{Frequency, Window};
