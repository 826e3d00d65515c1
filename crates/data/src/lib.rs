//! tidewatch's data access: datasets on disk into Arrow record batches.
//!
//! This layer sits between the pure engine (`tidewatch-core`) and the
//! binaries. It knows files; the engine does not.
//!
//! * [`files`]: what an input names (a file, a directory, a glob) and each
//!   file's format and compression;
//! * [`csv`], [`ndjson`], [`parquet`]: one reader per format, each
//!   streaming record batches;
//! * [`window`]: the half-open time window `[from, to)` on a time column;
//! * [`dataset`]: all of it together: [`Dataset::open`] resolves the files
//!   and the schema once, [`Dataset::batches`] streams their rows;
//! * [`collected`]: collected records at rest, one Parquet file a part in
//!   the reference's `<service>/<model>/<version>/<stream>/YYYY/MM/DD/`
//!   layout;
//! * [`records`]: batches of records as deployed services send them (JSON,
//!   NDJSON, CSV, gzip), checked whole;
//! * [`wal`]: write-ahead segments, the collector's durable log (frames
//!   synced before they are acknowledged, torn ends cut off on open).
//!
//! ```no_run
//! use tidewatch_data::{Dataset, ReadOptions};
//! let dataset = Dataset::open("collected/2024-*.parquet", &ReadOptions::default())?;
//! for batch in dataset.batches() {
//!     let batch = batch?;
//!     println!("{} rows", batch.num_rows());
//! }
//! # Ok::<(), tidewatch_data::Error>(())
//! ```
#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use thiserror::Error;

pub mod collected;
pub mod columns;
pub mod csv;
mod csv_chunks;
pub mod dataset;
pub mod files;
pub mod join;
pub mod ndjson;
pub mod parquet;
pub mod records;
pub mod remote;
pub mod wal;
pub mod window;

pub use dataset::{Batches, Dataset, ReadReport};
pub use files::{Compression, Format};
pub use window::TimeWindow;

/// Errors reading a dataset. Each names the input or file, and the line,
/// row and column where known.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// An input names no file: a missing path, an empty directory, a glob
    /// that matches nothing.
    #[error("{input}: {why}")]
    NoFiles {
        /// The input as given.
        input: String,
        /// What was looked for.
        why: String,
    },
    /// A file's format could not be told from its name.
    #[error(
        "{path}: unknown format (expected .csv, .parquet, .json, .jsonl or .ndjson, optionally .gz or .zst; or give the format)"
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A file is not valid in its format, or a value does not fit its
    /// column.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What went wrong, with line and column where known.
        message: String,
    },
    /// A file's columns differ from the dataset's (those of its first file).
    #[error("{path}: columns differ from {first}: {detail}")]
    SchemaMismatch {
        /// The file that differs.
        path: PathBuf,
        /// The file that set the dataset's columns.
        first: PathBuf,
        /// What differs.
        detail: String,
    },
    /// The input has no data rows (or none in the time window).
    #[error("{input}: no data rows{detail}")]
    Empty {
        /// The input as given, or the file.
        input: String,
        /// Why, when a window or filter is involved.
        detail: String,
    },
    /// The options do not fit the data: an unknown column, a time column
    /// that is not a time, an unparsable bound.
    #[error("{0}")]
    Options(String),
}

/// The column names of `schema`, comma separated (for error messages).
pub(crate) fn column_list(schema: &arrow_schema::Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Values that did not parse and count as missing, by column.
pub type BadValueCounts = BTreeMap<String, u64>;

/// A file's decoded batches, each with the values that did not parse in it.
pub type Decoded =
    Box<dyn Iterator<Item = Result<(arrow_array::RecordBatch, BadValueCounts), Error>> + Send>;

/// A column type to read a column as, overriding inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// 64-bit integers.
    Integer,
    /// 64-bit floats.
    Float,
    /// Strings.
    String,
    /// Booleans.
    Boolean,
    /// Timestamps (UTC, microseconds).
    Timestamp,
}

impl std::str::FromStr for ColumnType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "int" | "integer" | "int64" => ColumnType::Integer,
            "float" | "double" | "float64" | "number" => ColumnType::Float,
            "string" | "str" | "text" | "utf8" => ColumnType::String,
            "bool" | "boolean" => ColumnType::Boolean,
            "timestamp" | "datetime" | "time" => ColumnType::Timestamp,
            other => {
                return Err(format!(
                    "unknown column type {other:?} (expected integer, float, string, boolean or timestamp)"
                ));
            }
        })
    }
}

impl ColumnType {
    /// The Arrow type read for it.
    pub fn data_type(self) -> arrow_schema::DataType {
        use arrow_schema::{DataType, TimeUnit};
        match self {
            ColumnType::Integer => DataType::Int64,
            ColumnType::Float => DataType::Float64,
            ColumnType::String => DataType::Utf8,
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::Timestamp => {
                DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into()))
            }
        }
    }
}

/// What to do with a value that does not parse as its column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BadValues {
    /// Stop with an error naming the file, line and column (default).
    #[default]
    Fail,
    /// Count it as missing, and count it in [`ReadReport::bad_values`].
    Missing,
}

/// Options for reading a dataset.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The format of every file (default: from each file's name).
    pub format: Option<Format>,
    /// CSV details.
    pub csv: csv::CsvOptions,
    /// Rows read to infer column types of CSV and NDJSON (default 100,000;
    /// `None`: all rows of the first file).
    pub infer_rows: Option<usize>,
    /// Column types that override inference, by column name.
    pub column_types: BTreeMap<String, ColumnType>,
    /// Rows per record batch (default 65,536).
    pub batch_size: usize,
    /// Keep only rows in this time window.
    pub window: Option<TimeWindow>,
    /// What a value that does not parse becomes.
    pub bad_values: BadValues,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: None,
            csv: csv::CsvOptions::default(),
            infer_rows: Some(100_000),
            column_types: BTreeMap::new(),
            batch_size: 65_536,
            window: None,
            bad_values: BadValues::Fail,
        }
    }
}
