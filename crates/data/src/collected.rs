//! Collected data at rest: records of one partition written as a Parquet
//! file, the layout the reference system's model servers wrote, under a
//! root folder:
//!
//! `<service>/<model>/<version>/<inputs|predictions>/YYYY/MM/DD/part-<N>.parquet`
//!
//! (`_` for a model or version not given). Column types are inferred from
//! the records of the file: `$Timestamp` is a UTC timestamp (microseconds);
//! a column whose values are all booleans is boolean, all whole numbers
//! 64-bit integers, all numbers 64-bit floats; anything else is text (a
//! mix of types included, numbers written as JSON). A file is written
//! whole or not at all: to a temporary name, synced, renamed, and its
//! folder synced; writing the same part again replaces it, so a compactor
//! that redoes its work after a crash duplicates nothing.

use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use chrono::{DateTime, Datelike, Utc};
use serde_json::{Map, Value};

use crate::records::TIMESTAMP;

/// Where a partition lies: the service, model, version, stream and UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Partition {
    /// The service.
    pub service: String,
    /// The model name, if given.
    pub model: Option<String>,
    /// The model version, if given.
    pub version: Option<String>,
    /// `inputs` or `predictions`.
    pub stream: String,
    /// The UTC day of the records' `$Timestamp`.
    pub day: chrono::NaiveDate,
}

/// A path segment from a name: characters other than letters, digits,
/// `.`, `_` and `-` become `_`, and `.` or `..` alone do too.
fn segment(name: Option<&str>) -> String {
    let s: String = name
        .unwrap_or("_")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s == "." || s == ".." {
        "_".into()
    } else {
        s
    }
}

impl Partition {
    /// The partition's folder under `root`.
    pub fn dir(&self, root: &Path) -> PathBuf {
        root.join(segment(Some(&self.service)))
            .join(segment(self.model.as_deref()))
            .join(segment(self.version.as_deref()))
            .join(segment(Some(&self.stream)))
            .join(format!("{:04}", self.day.year()))
            .join(format!("{:02}", self.day.month()))
            .join(format!("{:02}", self.day.day()))
    }
}

/// The glob of every compacted part of one stream of `service` under
/// `root`: of one model and version where they are given, of any
/// otherwise.
pub fn stream_glob(
    root: &Path,
    service: &str,
    model: Option<&str>,
    version: Option<&str>,
    stream: &str,
) -> String {
    let any = |v: Option<&str>| v.map_or_else(|| "*".to_string(), |v| segment(Some(v)));
    root.join(segment(Some(service)))
        .join(any(model))
        .join(any(version))
        .join(segment(Some(stream)))
        .join("*")
        .join("*")
        .join("*")
        .join("part-*.parquet")
        .display()
        .to_string()
}

/// What is compacted of one stream of a service on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DayCount {
    /// `inputs` or `predictions`.
    pub stream: String,
    /// The UTC day.
    pub day: chrono::NaiveDate,
    /// Records.
    pub rows: u64,
    /// The newest `$Timestamp` among them, microseconds since 1970-01-01
    /// UTC (from the parts' statistics).
    pub last_micros: Option<i64>,
}

/// Records per stream and UTC day of `service` under `root`, read from the
/// compacted parts' footers (no rows are decoded), oldest day first.
pub fn day_counts(root: &Path, service: &str) -> Result<Vec<DayCount>, crate::Error> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::file::statistics::Statistics;
    let mut counts: std::collections::BTreeMap<(chrono::NaiveDate, String), (u64, Option<i64>)> =
        std::collections::BTreeMap::new();
    for stream in ["inputs", "predictions"] {
        let pattern = stream_glob(root, service, None, None, stream);
        let Ok(paths) = glob::glob(&pattern) else {
            continue;
        };
        for path in paths.flatten() {
            // .../<stream>/YYYY/MM/DD/part-N.parquet
            let day = (|| {
                let d = path.parent()?;
                let m = d.parent()?;
                let y = m.parent()?;
                let text = |p: &Path| p.file_name()?.to_str().map(str::to_string);
                chrono::NaiveDate::parse_from_str(
                    &format!("{}-{}-{}", text(y)?, text(m)?, text(d)?),
                    "%Y-%m-%d",
                )
                .ok()
            })();
            let Some(day) = day else { continue };
            let file = std::fs::File::open(&path).map_err(|source| crate::Error::Io {
                path: path.clone(),
                source,
            })?;
            let reader = SerializedFileReader::new(file).map_err(|e| crate::Error::Format {
                path: path.clone(),
                message: e.to_string(),
            })?;
            let meta = reader.metadata();
            let leaf = meta
                .file_metadata()
                .schema_descr()
                .columns()
                .iter()
                .position(|c| c.path().parts() == [TIMESTAMP]);
            let entry = counts.entry((day, stream.to_string())).or_default();
            for rg in meta.row_groups() {
                entry.0 += rg.num_rows().max(0) as u64;
                if let Some(Statistics::Int64(st)) = leaf.and_then(|l| rg.column(l).statistics())
                    && let Some(&max) = st.max_opt()
                {
                    entry.1 = Some(entry.1.map_or(max, |m| m.max(max)));
                }
            }
        }
    }
    Ok(counts
        .into_iter()
        .map(|((day, stream), (rows, last_micros))| DayCount {
            stream,
            day,
            rows,
            last_micros,
        })
        .collect())
}

/// The services with a folder under `root` (as their path segments), in
/// name order; none when `root` does not exist yet.
pub fn services(root: &Path) -> Result<Vec<String>, crate::Error> {
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(crate::Error::Io {
                path: root.to_path_buf(),
                source,
            });
        }
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| crate::Error::Io {
            path: root.to_path_buf(),
            source,
        })?;
        if entry.file_type().is_ok_and(|t| t.is_dir())
            && let Some(name) = entry.file_name().to_str()
            && !name.starts_with('.')
        {
            names.push(name.to_string());
        }
    }
    names.sort();
    Ok(names)
}

/// A file format records are exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Parquet, zstd-compressed.
    Parquet,
    /// CSV with a header; times in RFC 3339.
    Csv,
}

impl ExportFormat {
    /// `parquet` or `csv`.
    pub fn from_name(name: &str) -> Option<ExportFormat> {
        match name.to_ascii_lowercase().as_str() {
            "parquet" => Some(ExportFormat::Parquet),
            "csv" => Some(ExportFormat::Csv),
            _ => None,
        }
    }

    /// The format a file name's extension says (`.parquet`, `.csv`).
    pub fn from_path(path: &Path) -> Option<ExportFormat> {
        ExportFormat::from_name(path.extension()?.to_str()?)
    }
}

/// Encodes `batches` (one schema) as one file in `format`.
pub fn encode(batches: &[RecordBatch], format: ExportFormat) -> Result<Vec<u8>, crate::Error> {
    let fail = |e: String| crate::Error::Options(format!("encoding the export: {e}"));
    let Some(first) = batches.first() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    match format {
        ExportFormat::Parquet => {
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
                .build();
            let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, first.schema(), Some(props))
                .map_err(|e| fail(e.to_string()))?;
            for b in batches {
                w.write(b).map_err(|e| fail(e.to_string()))?;
            }
            w.close().map_err(|e| fail(e.to_string()))?;
        }
        ExportFormat::Csv => {
            let mut w = arrow_csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut out);
            for b in batches {
                w.write(b).map_err(|e| fail(e.to_string()))?;
            }
        }
    }
    Ok(out)
}

/// The UTC day of a record's `$Timestamp` (records reaching here have a
/// valid one).
pub fn day_of(record: &Map<String, Value>) -> Option<chrono::NaiveDate> {
    let t = record.get(TIMESTAMP)?.as_str()?;
    DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|d| d.with_timezone(&Utc).date_naive())
}

/// The records as one record batch: `$Timestamp` first, then every other
/// field of any record, by name.
pub fn to_batch(records: &[Map<String, Value>]) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let mut columns = crate::columns::ColumnsBuilder::default();
    let mut record = crate::columns::Record::default();
    for r in records {
        record.read_map(r);
        columns.push(&record);
    }
    columns.finish()
}

/// Writes `records` as `part-<part>.parquet` of `partition` under `root`,
/// whole or not at all (replacing an earlier write of the same part).
/// Returns the file.
pub fn write_part(
    root: &Path,
    partition: &Partition,
    part: u64,
    records: &[Map<String, Value>],
) -> Result<PathBuf, crate::Error> {
    let batch = to_batch(records).map_err(|e| crate::Error::Io {
        path: partition.dir(root),
        source: std::io::Error::other(e.to_string()),
    })?;
    write_batch(root, partition, part, &batch)
}

/// Writes `batch` as `part-<part>.parquet` of `partition` under `root`,
/// whole or not at all (replacing an earlier write of the same part).
/// Returns the file.
pub fn write_batch(
    root: &Path,
    partition: &Partition,
    part: u64,
    batch: &RecordBatch,
) -> Result<PathBuf, crate::Error> {
    let dir = partition.dir(root);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| crate::Error::Io { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let path = dir.join(format!("part-{part:020}.parquet"));
    let tmp = dir.join(format!(".part-{part:020}.parquet.tmp"));
    let file = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
        .build();
    let parquet_error = |e: parquet::errors::ParquetError| crate::Error::Io {
        path: tmp.clone(),
        source: std::io::Error::other(e.to_string()),
    };
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props))
        .map_err(parquet_error)?;
    writer.write(batch).map_err(parquet_error)?;
    let file = writer.into_inner().map_err(parquet_error)?;
    file.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io(&dir))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use arrow_array::Array;
    use serde_json::json;

    use super::*;
    use crate::{Dataset, ReadOptions};

    fn records(v: Value) -> Vec<Map<String, Value>> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_object().unwrap().clone())
            .collect()
    }

    #[test]
    fn types_are_inferred_per_column_and_mixed_ones_are_text() {
        let rs = records(json!([
            {"$Timestamp": "2024-03-01T12:00:00Z", "n": 1, "x": 1.5, "b": true, "s": "a", "m": 1},
            {"$Timestamp": "2024-03-01T13:00:00+01:00", "n": 2, "x": 2, "b": null, "s": null, "m": "two"},
        ]));
        let b = to_batch(&rs).unwrap();
        let types: Vec<String> = b
            .schema()
            .fields()
            .iter()
            .map(|f| format!("{}:{}", f.name(), f.data_type()))
            .collect();
        assert_eq!(
            types,
            [
                "$Timestamp:Timestamp(µs, \"UTC\")",
                "b:Boolean",
                "m:Utf8",
                "n:Int64",
                "s:Utf8",
                "x:Float64"
            ]
        );
        assert_eq!(b.column(1).null_count(), 1);
        let ts = b
            .column(0)
            .as_any()
            .downcast_ref::<arrow_array::TimestampMicrosecondArray>()
            .unwrap();
        assert_eq!(ts.value(1) - ts.value(0), 0, "12:00 UTC both");
    }

    #[test]
    fn a_part_is_written_whole_where_the_reference_layout_puts_it_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = Partition {
            service: "loans-api".into(),
            model: Some("loans".into()),
            version: None,
            stream: "inputs".into(),
            day: "2024-03-01".parse().unwrap(),
        };
        let rs = records(json!([
            {"$Timestamp": "2024-03-01T12:00:00Z", "x": 1.5},
            {"$Timestamp": "2024-03-01T18:00:00Z", "x": 2.5},
        ]));
        let path = write_part(dir.path(), &p, 7, &rs).unwrap();
        assert!(
            path.ends_with("loans-api/loans/_/inputs/2024/03/01/part-00000000000000000007.parquet")
        );
        // Written again (a compactor redoing its work): replaced, not doubled.
        write_part(dir.path(), &p, 7, &rs).unwrap();
        let files: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(files.len(), 1);
        let data = Dataset::open(
            dir.path().join("loans-api").to_str().unwrap(),
            &ReadOptions::default(),
        );
        let data = data.unwrap();
        let (batches, _) = data.read_all().unwrap();
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
        assert_eq!(segment(Some("../etc")), ".._etc");
        assert_eq!(segment(Some("..")), "_");
    }
}
