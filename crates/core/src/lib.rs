//! tidewatch's drift engine.
pub mod error;
pub mod methods;
pub mod stats;
