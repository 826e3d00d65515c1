//! End-to-end tests of the `tidewatch` binary: one test binary, modules per
//! command.

mod alerts;
mod collect;
mod compare;
mod dashboard;
mod data;
mod readme;
#[cfg(feature = "object-store")]
mod remote;
mod serve;
mod webdriver;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A bundled example file.
pub fn example(name: &str) -> PathBuf {
    root().join("examples/data").join(name)
}

/// Runs `tidewatch` with `args`.
pub fn tidewatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tidewatch"))
        .args(args)
        .output()
        .expect("tidewatch runs")
}
