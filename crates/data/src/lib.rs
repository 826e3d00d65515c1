//! tidewatch's data access: reading datasets into Arrow record batches.
//!
//! This layer sits between the pure engine (`tidewatch-core`) and the
//! binaries. It knows files; the engine does not. Today it reads CSV files
//! with a header, inferring column types from the data; later issues add
//! Parquet, NDJSON, globs, compression, time windows and object stores.
//!
//! ```no_run
//! let batches = tidewatch_data::read_csv(std::path::Path::new("baseline.csv"), &Default::default())?;
//! # Ok::<(), tidewatch_data::Error>(())
//! ```
#![deny(missing_docs)]

use std::fs::File;
use std::io::{BufReader, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_csv::ReaderBuilder;
use arrow_csv::reader::Format;
use thiserror::Error;

/// Errors reading a dataset. Each names the file.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not valid CSV, or a value does not fit its column.
    #[error("{path}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// What the CSV reader reported (with line and column where known).
        message: String,
    },
    /// The file has a header but no data rows, or nothing at all.
    #[error("{path}: no data rows")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// Options for reading CSV.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    /// Field delimiter (default `,`).
    pub delimiter: u8,
    /// Rows per record batch (default 65,536).
    pub batch_size: usize,
    /// Rows read to infer column types (default: all).
    pub infer_rows: Option<usize>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: b',',
            batch_size: 65_536,
            infer_rows: None,
        }
    }
}

/// Reads a CSV file with a header row into record batches, inferring each
/// column's type (integer, float, boolean, timestamp, else string) from its
/// values. Empty fields are nulls.
pub fn read_csv(path: &Path, options: &CsvOptions) -> Result<Vec<RecordBatch>, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let csv = |e: arrow_schema::ArrowError| Error::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut file = File::open(path).map_err(io)?;
    let format = Format::default()
        .with_header(true)
        .with_delimiter(options.delimiter);
    let (schema, rows) = format
        .infer_schema(BufReader::new(&mut file), options.infer_rows)
        .map_err(csv)?;
    if rows == 0 || schema.fields().is_empty() {
        return Err(Error::Empty {
            path: path.to_path_buf(),
        });
    }
    file.rewind().map_err(io)?;
    let reader = ReaderBuilder::new(Arc::new(schema))
        .with_format(format)
        .with_batch_size(options.batch_size)
        .build(BufReader::with_capacity(1 << 20, file))
        .map_err(csv)?;
    let batches = reader.collect::<Result<Vec<_>, _>>().map_err(csv)?;
    if batches.iter().all(|b| b.num_rows() == 0) {
        return Err(Error::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn infers_types_and_nulls() {
        let f = write("a,b,c\n1,x,2.5\n2,,3\n,y,\n");
        let batches = read_csv(f.path(), &CsvOptions::default()).unwrap();
        let b = &batches[0];
        assert_eq!(b.num_rows(), 3);
        assert_eq!(
            b.schema().field(0).data_type(),
            &arrow_schema::DataType::Int64
        );
        assert_eq!(
            b.schema().field(1).data_type(),
            &arrow_schema::DataType::Utf8
        );
        assert_eq!(b.column(1).null_count(), 1);
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = read_csv(Path::new("/no/such/file.csv"), &CsvOptions::default()).unwrap_err();
        assert!(err.to_string().contains("/no/such/file.csv"), "{err}");
    }

    #[test]
    fn header_only_is_empty() {
        let f = write("a,b\n");
        assert!(matches!(
            read_csv(f.path(), &CsvOptions::default()),
            Err(Error::Empty { .. })
        ));
    }

    #[test]
    fn ragged_row_is_an_error_with_its_line() {
        let f = write("a,b\n1,2\n3\n");
        let err = read_csv(f.path(), &CsvOptions::default()).unwrap_err();
        assert!(matches!(err, Error::Csv { .. }), "{err}");
        assert!(err.to_string().to_lowercase().contains("line"), "{err}");
    }
}
