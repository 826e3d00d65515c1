//! tidewatch's monitoring model and (to come) its results store.
//!
//! * [`window`]: the windows a monitor runs over (a UTC day, a Monday-to-Sunday
//!   week, a calendar month), when each is complete, and backfill ranges.
//! * [`monitor`]: a monitor's definition and the rules each field obeys,
//!   every broken rule named with its field.
//!
//! The embedded SQLite store of datasets, baselines, monitors, runs and
//! results builds on these.
#![deny(missing_docs)]

pub mod monitor;
pub mod window;

pub use monitor::{AlertRoute, Invalid, MonitorSpec};
pub use window::{Frequency, Window};
