//! tidewatch's monitoring service. So far: [`runner`], which executes a
//! queued run. The scheduler, the REST API, the collector, alerts and the
//! dashboard build on it.
#![deny(missing_docs)]

pub mod runner;
