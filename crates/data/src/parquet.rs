//! Parquet files: the schema from the file; with a time window, row groups
//! whose time statistics lie outside it are skipped without decoding.

use std::fs::File;
use std::path::Path;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, SchemaRef, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::metadata::RowGroupMetaData;
use parquet::file::reader::{ChunkReader, Length};
use parquet::file::statistics::Statistics;

use crate::remote::RemoteFile;

use crate::Error;
use crate::window::TimeWindow;

/// A Parquet file on disk or in an object store.
enum Source {
    Local(File),
    Remote(RemoteFile),
}

impl Length for Source {
    fn len(&self) -> u64 {
        match self {
            Source::Local(f) => f.len(),
            Source::Remote(r) => r.len(),
        }
    }
}

impl ChunkReader for Source {
    type T = Box<dyn std::io::Read + Send>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(match self {
            Source::Local(f) => Box::new(f.get_read(start)?),
            Source::Remote(r) => Box::new(r.get_read(start)?),
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        match self {
            Source::Local(f) => f.get_bytes(start, length),
            Source::Remote(r) => r.get_bytes(start, length),
        }
    }
}

fn open(path: &Path) -> Result<ParquetRecordBatchReaderBuilder<Source>, Error> {
    let source = if crate::remote::is_url(&path.to_string_lossy()) {
        Source::Remote(RemoteFile::open(path)?)
    } else {
        Source::Local(File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?)
    };
    ParquetRecordBatchReaderBuilder::try_new(source).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        message: format!("not a readable Parquet file: {e}"),
    })
}

/// The Arrow schema of a Parquet file.
pub fn schema(path: &Path) -> Result<SchemaRef, Error> {
    Ok(open(path)?.schema().clone())
}

/// The columns of several Parquet files read as one dataset, and what
/// changed from file to file: schema drift, as a collected service adds a
/// field, stops sending one, or sends whole numbers one day and fractions
/// the next.
#[derive(Debug, Clone, PartialEq)]
pub struct UnionSchema {
    /// Every column of any file, in the order first seen; nullable. A
    /// column whose type differs between files takes a type that holds
    /// both: 64-bit float for integers and floats, 64-bit integer for
    /// integers of other widths, text otherwise.
    pub schema: SchemaRef,
    /// One line per change, naming the file and the column.
    pub changes: Vec<String>,
}

/// The type that holds values of both `a` and `b`.
fn widen(a: &DataType, b: &DataType) -> DataType {
    use DataType::*;
    let int = |t: &DataType| matches!(t, Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32);
    let float = |t: &DataType| matches!(t, Float16 | Float32 | Float64);
    match (a, b) {
        _ if a == b => a.clone(),
        _ if int(a) && int(b) => Int64,
        _ if (int(a) || float(a)) && (int(b) || float(b)) => Float64,
        _ => Utf8,
    }
}

/// The union of the columns of `files` (see [`UnionSchema`]); with
/// `window`, only of the files that may hold rows in it (a column a
/// service stopped sending long ago is not part of this week's data). If
/// no file may, the first file's columns.
pub fn union_schema(
    files: &[std::path::PathBuf],
    window: Option<&TimeWindow>,
) -> Result<UnionSchema, Error> {
    let mut fields: Vec<arrow_schema::Field> = Vec::new();
    let mut changes = Vec::new();
    let mut seen_any = false;
    for path in files {
        let builder = open(path)?;
        if let Some(w) = window
            && !builder.metadata().row_groups().is_empty()
            && kept_row_groups(&builder, w).is_some_and(|keep| keep.is_empty())
        {
            continue;
        }
        let schema = builder.schema().clone();
        let name = path.display();
        if seen_any {
            for f in &fields {
                if schema.field_with_name(f.name()).is_err() {
                    changes.push(format!("{name}: no column {:?}", f.name()));
                }
            }
        }
        for field in schema.fields() {
            match fields.iter_mut().find(|f| f.name() == field.name()) {
                None => {
                    if seen_any {
                        changes.push(format!(
                            "{name}: new column {:?} ({})",
                            field.name(),
                            field.data_type()
                        ));
                    }
                    fields.push(field.as_ref().clone().with_nullable(true));
                }
                Some(f) if f.data_type() != field.data_type() => {
                    let wide = widen(f.data_type(), field.data_type());
                    changes.push(format!(
                        "{name}: column {:?} is {} here, {} before: read as {wide}",
                        field.name(),
                        field.data_type(),
                        f.data_type()
                    ));
                    *f = f.clone().with_data_type(wide);
                }
                Some(_) => {}
            }
        }
        seen_any = true;
    }
    if !seen_any && let Some(first) = files.first() {
        return Ok(UnionSchema {
            schema: schema(first)?,
            changes,
        });
    }
    Ok(UnionSchema {
        schema: std::sync::Arc::new(arrow_schema::Schema::new(fields)),
        changes,
    })
}

/// The row groups of a file that may hold rows in `window`; `None` when
/// the file's time column has no statistics to tell.
fn kept_row_groups(
    builder: &ParquetRecordBatchReaderBuilder<Source>,
    window: &TimeWindow,
) -> Option<Vec<usize>> {
    let unit = match builder
        .schema()
        .field_with_name(&window.column)
        .map(|f| f.data_type())
    {
        Ok(DataType::Timestamp(unit, _)) => *unit,
        Ok(DataType::Date32) => TimeUnit::Second,
        _ => return None,
    };
    let leaf = builder
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|c| c.path().parts() == [window.column.as_str()])?;
    let row_groups = builder.metadata().row_groups();
    Some(
        (0..row_groups.len())
            .filter(|&i| may_hold(&row_groups[i], leaf, unit, window))
            .collect(),
    )
}

/// A stream of record batches.
pub type RecordBatches = Box<dyn Iterator<Item = Result<RecordBatch, Error>> + Send>;

/// What [`read`] skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Row groups skipped by their statistics.
    pub row_groups: usize,
    /// Rows in them.
    pub rows: u64,
}

/// Streams the record batches of a Parquet file; with `window`, only row
/// groups that may hold rows in it are read (rows are still filtered by
/// the caller: a row group's statistics bound its times, they do not list
/// them).
pub fn read(
    path: &Path,
    batch_size: usize,
    window: Option<&TimeWindow>,
) -> Result<(RecordBatches, Pruned), Error> {
    let mut builder = open(path)?.with_batch_size(batch_size);
    let mut pruned = Pruned::default();
    if let Some(window) = window
        && let Some(keep) = kept_row_groups(&builder, window)
    {
        for (i, rg) in builder.metadata().row_groups().iter().enumerate() {
            if !keep.contains(&i) {
                pruned.row_groups += 1;
                pruned.rows += rg.num_rows().max(0) as u64;
            }
        }
        builder = builder.with_row_groups(keep);
    }
    let reader = builder.build().map_err(|e| Error::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let path = path.to_path_buf();
    let batches = reader.map(move |b| {
        b.map_err(|e| Error::Format {
            path: path.clone(),
            message: e.to_string(),
        })
    });
    Ok((Box::new(batches), pruned))
}

/// Whether a row group may hold rows in the window, by the statistics of
/// column `leaf` (a timestamp in `unit`s, or days for a date). Without
/// statistics it may.
fn may_hold(rg: &RowGroupMetaData, leaf: usize, unit: TimeUnit, window: &TimeWindow) -> bool {
    const DAY: i64 = 86_400;
    match rg.column(leaf).statistics() {
        Some(Statistics::Int64(s)) => match (s.min_opt(), s.max_opt()) {
            (Some(&min), Some(&max)) => window.may_overlap(min, max, unit),
            _ => true,
        },
        Some(Statistics::Int32(s)) => match (s.min_opt(), s.max_opt()) {
            // Date32: days since the epoch; the last day runs to its end.
            (Some(&min), Some(&max)) => window.may_overlap(
                i64::from(min) * DAY,
                (i64::from(max) + 1) * DAY - 1,
                TimeUnit::Second,
            ),
            _ => true,
        },
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Float64Array, TimestampMicrosecondArray};
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;
    use std::sync::Arc;

    /// Four row groups of 10 rows, one per day from 1970-01-01.
    fn file() -> tempfile::NamedTempFile {
        let f = tempfile::Builder::new()
            .suffix(".parquet")
            .tempfile()
            .unwrap();
        let day = 86_400_000_000i64;
        let t: Vec<i64> = (0..40).map(|i| (i / 10) * day + i).collect();
        let batch = RecordBatch::try_from_iter([
            (
                "t",
                Arc::new(TimestampMicrosecondArray::from(t).with_timezone("UTC")) as _,
            ),
            (
                "v",
                Arc::new(Float64Array::from(
                    (0..40).map(f64::from).collect::<Vec<_>>(),
                )) as _,
            ),
        ])
        .unwrap();
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(10))
            .build();
        let mut w = ArrowWriter::try_new(f.reopen().unwrap(), batch.schema(), Some(props)).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        f
    }

    #[test]
    fn row_groups_outside_the_window_are_skipped() {
        let f = file();
        let w = TimeWindow::parse("t", Some("1970-01-02"), Some("1970-01-03")).unwrap();
        let (batches, pruned) = read(f.path(), 1024, Some(&w)).unwrap();
        let rows: usize = batches.map(|b| b.unwrap().num_rows()).sum();
        assert_eq!(rows, 10);
        assert_eq!(
            pruned,
            Pruned {
                row_groups: 3,
                rows: 30
            }
        );
        let (all, pruned) = read(f.path(), 1024, None).unwrap();
        assert_eq!(all.map(|b| b.unwrap().num_rows()).sum::<usize>(), 40);
        assert_eq!(pruned, Pruned::default());
    }

    #[test]
    fn not_parquet_is_a_clear_error() {
        let f = tempfile::Builder::new()
            .suffix(".parquet")
            .tempfile()
            .unwrap();
        std::fs::write(f.path(), "a,b\n1,2\n").unwrap();
        let err = schema(f.path()).unwrap_err().to_string();
        assert!(err.contains("not a readable Parquet file"), "{err}");
        assert!(err.contains(".parquet"), "{err}");
    }
}
