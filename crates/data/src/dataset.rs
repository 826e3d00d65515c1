//! A dataset: the files an input names, read as one stream of record
//! batches with one schema, optionally cut to a time window.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use arrow_cast::{CastOptions, cast_with_options};
use arrow_schema::{Schema, SchemaRef};

use crate::files::{Format, detect, resolve};
use crate::{BadValues, Decoded, Error, ReadOptions, csv, ndjson, parquet};

/// Batches read ahead of the consumer, per dataset.
const READ_AHEAD: usize = 4;

/// The files of an input, their format and their common schema.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The input as given.
    pub input: String,
    /// Its files, sorted by path.
    pub files: Vec<PathBuf>,
    /// Their format.
    pub format: Format,
    schema: SchemaRef,
    schema_changes: Vec<String>,
    options: ReadOptions,
}

/// What reading a dataset found, beyond its rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadReport {
    /// Files read.
    pub files: usize,
    /// Rows read from the files (after Parquet row groups skipped by the
    /// time window).
    pub rows_read: u64,
    /// Rows kept (in the window, when there is one).
    pub rows: u64,
    /// Rows without a time (missing or unparsable), when there is a window.
    pub no_time: u64,
    /// Parquet row groups skipped by their time statistics, and their rows.
    pub skipped_row_groups: (usize, u64),
    /// Values that did not parse and count as missing, by column.
    pub bad_values: BTreeMap<String, u64>,
}

impl Dataset {
    /// Resolves `input` (a file, a directory or a glob) and reads the
    /// schema: Parquet's from the first file; CSV and NDJSON inferred from
    /// the first file's first rows; then the column type overrides.
    pub fn open(input: &str, options: &ReadOptions) -> Result<Dataset, Error> {
        let files = resolve(input)?;
        let format_of = |path: &PathBuf| -> Result<Format, Error> {
            match options.format {
                Some(f) => Ok(f),
                None => detect(path)
                    .map(|(f, _)| f)
                    .ok_or_else(|| Error::UnknownFormat { path: path.clone() }),
            }
        };
        let format = format_of(&files[0])?;
        for path in &files[1..] {
            let other = format_of(path)?;
            if other != format {
                return Err(Error::Options(format!(
                    "{input}: files of different formats ({} is {format:?}, {} is {other:?})",
                    files[0].display(),
                    path.display()
                )));
            }
        }
        let first = &files[0];
        let mut schema_changes = Vec::new();
        let schema = match format {
            Format::Csv => csv::infer_schema(
                first,
                &options.csv,
                options.infer_rows,
                &options.column_types,
            )?,
            Format::NdJson => {
                ndjson::infer_schema(first, options.infer_rows, &options.column_types)?
            }
            Format::Parquet => {
                let union = parquet::union_schema(&files, options.window.as_ref())?;
                schema_changes = union.changes;
                csv::apply_overrides(first, union.schema.as_ref().clone(), &options.column_types)?
            }
        };
        let schema = Arc::new(schema);
        if let Some(window) = &options.window {
            window.check(&schema).map_err(|e| match e {
                Error::Options(m) => Error::Options(format!("{input}: {m}")),
                other => other,
            })?;
        }
        Ok(Dataset {
            input: input.to_string(),
            files,
            format,
            schema,
            schema_changes,
            options: options.clone(),
        })
    }

    /// How the columns changed from file to file (Parquet files, which are
    /// read as the union of their columns): one line per change, naming
    /// the file and the column. Empty when every file has the same.
    pub fn schema_changes(&self) -> &[String] {
        &self.schema_changes
    }

    /// The columns every batch has.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Streams every row of every file (in the window), in file order.
    /// Files are decoded on background threads (as many as the machine has
    /// cores, one file each at a time), each a few batches ahead.
    pub fn batches(&self) -> Batches {
        let files = self.files.len();
        // One channel per file, read in file order.
        let (senders, receivers): (Vec<_>, Vec<_>) =
            (0..files).map(|_| sync_channel(READ_AHEAD)).unzip();
        // Each file's sender, taken by the worker that reads the file.
        let senders: Vec<Mutex<Option<ChunkSender>>> =
            senders.into_iter().map(|s| Mutex::new(Some(s))).collect();
        let next = Arc::new(AtomicUsize::new(0));
        let stopped = Arc::new(AtomicBool::new(false));
        let senders = Arc::new(senders);
        let workers = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(files);
        for _ in 0..workers {
            let (dataset, next, senders) = (self.clone(), next.clone(), senders.clone());
            let stopped = stopped.clone();
            std::thread::spawn(move || {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= dataset.files.len() || stopped.load(Ordering::Relaxed) {
                        return;
                    }
                    let Some(send) = senders[k].lock().ok().and_then(|mut s| s.take()) else {
                        return;
                    };
                    match dataset.read_file(k, &dataset.files[k]) {
                        Err(e) => {
                            let _ = send.send(Err(e));
                        }
                        Ok(chunks) => {
                            for chunk in chunks {
                                let failed = chunk.is_err();
                                if send.send(chunk).is_err() || failed {
                                    break;
                                }
                            }
                        }
                    }
                }
            });
        }
        Batches {
            receivers: receivers.into_iter().collect(),
            report: ReadReport {
                files,
                ..ReadReport::default()
            },
            input: self.input.clone(),
            window: self.options.window.is_some(),
            done: false,
            stopped,
        }
    }

    /// Every batch, in memory, with the report; an input with no rows (in
    /// the window) is an error.
    pub fn read_all(&self) -> Result<(Vec<RecordBatch>, ReadReport), Error> {
        let mut batches = self.batches();
        let mut all = Vec::new();
        for b in batches.by_ref() {
            all.push(b?);
        }
        let report = batches.report().clone();
        if report.rows == 0 {
            return Err(batches.empty_error());
        }
        Ok((all, report))
    }

    /// The chunks of file `k`, checked against the dataset's schema.
    fn read_file(
        &self,
        k: usize,
        path: &std::path::Path,
    ) -> Result<Box<dyn Iterator<Item = Result<Chunk, Error>> + Send>, Error> {
        let o = &self.options;
        let mismatch = |detail: String| Error::SchemaMismatch {
            path: path.to_path_buf(),
            first: self.files[0].clone(),
            detail,
        };
        let raw: Decoded;
        let mut skipped = (0, 0);
        match self.format {
            Format::Csv => {
                if k > 0 {
                    let names =
                        column_names(&csv::infer_schema(path, &o.csv, Some(1), &BTreeMap::new())?);
                    if names != column_names(&self.schema) {
                        return Err(mismatch(format!("columns {names:?}")));
                    }
                }
                raw = csv::read(
                    path,
                    self.schema.clone(),
                    &o.csv,
                    o.batch_size,
                    o.bad_values,
                )?;
            }
            Format::NdJson => {
                raw = ndjson::read(path, self.schema.clone(), o.batch_size, o.bad_values)?;
            }
            Format::Parquet => {
                let (batches, pruned) = parquet::read(path, o.batch_size, o.window.as_ref())?;
                skipped = (pruned.row_groups, pruned.rows);
                let schema = self.schema.clone();
                let bad = o.bad_values;
                let path = path.to_path_buf();
                raw = Box::new(batches.map(move |b| conform(&path, b?, &schema, bad)));
            }
        }
        let window = o.window.clone();
        let mut first = Some(skipped);
        let path = path.to_path_buf();
        Ok(Box::new(raw.map(move |item| {
            let (batch, bad_values) = item?;
            let rows_read = batch.num_rows() as u64;
            let (batch, no_time) = match &window {
                Some(w) => {
                    let (kept, no_time) = w.filter(&batch).map_err(|e| match e {
                        Error::Options(m) => Error::Format {
                            path: path.to_path_buf(),
                            message: m,
                        },
                        other => other,
                    })?;
                    (kept, no_time as u64)
                }
                None => (batch, 0),
            };
            Ok(Chunk {
                batch,
                rows_read,
                no_time,
                skipped: first.take().unwrap_or_default(),
                bad_values,
            })
        })))
    }
}

/// A Parquet batch cast to the dataset's column types (overrides).
fn conform(
    path: &std::path::Path,
    batch: RecordBatch,
    schema: &SchemaRef,
    bad: BadValues,
) -> Result<(RecordBatch, BTreeMap<String, u64>), Error> {
    if batch.schema().fields() == schema.fields() {
        return Ok((batch, BTreeMap::new()));
    }
    let options = CastOptions {
        safe: bad == BadValues::Missing,
        ..CastOptions::default()
    };
    let mut lost = BTreeMap::new();
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        // By name: a file may lack a column of the dataset (all missing
        // here) or hold it in a narrower type.
        let Some(column) = batch.column_by_name(field.name()) else {
            columns.push(arrow_array::new_null_array(
                field.data_type(),
                batch.num_rows(),
            ));
            continue;
        };
        let cast =
            cast_with_options(column, field.data_type(), &options).map_err(|e| Error::Format {
                path: path.to_path_buf(),
                message: format!("column {:?}: {e}", field.name()),
            })?;
        let n = cast.null_count().saturating_sub(column.null_count());
        if n > 0 {
            lost.insert(field.name().clone(), n as u64);
        }
        columns.push(cast);
    }
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| Error::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok((batch, lost))
}

fn column_names(schema: &Schema) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

type ChunkSender = SyncSender<Result<Chunk, Error>>;

/// One decoded batch and what reading it found.
struct Chunk {
    batch: RecordBatch,
    rows_read: u64,
    no_time: u64,
    skipped: (usize, u64),
    bad_values: BTreeMap<String, u64>,
}

/// The stream of a dataset's record batches; [`Batches::report`] tells
/// what was read so far.
pub struct Batches {
    /// The files' channels not yet drained, the current one first.
    receivers: std::collections::VecDeque<Receiver<Result<Chunk, Error>>>,
    /// Set when the stream is dropped: workers start no further file.
    stopped: Arc<AtomicBool>,
    report: ReadReport,
    input: String,
    window: bool,
    done: bool,
}

impl Batches {
    /// What was read so far (all of it once the stream has ended).
    pub fn report(&self) -> &ReadReport {
        &self.report
    }

    /// The error for an input that gave no rows.
    pub fn empty_error(&self) -> Error {
        let r = &self.report;
        let detail = if self.window {
            format!(
                " in the time window ({} rows read, {} without a time)",
                r.rows_read, r.no_time
            )
        } else {
            String::new()
        };
        Error::Empty {
            input: self.input.clone(),
            detail,
        }
    }
}

impl Drop for Batches {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::Relaxed);
    }
}

impl Iterator for Batches {
    type Item = Result<RecordBatch, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let Some(current) = self.receivers.front() else {
                self.done = true;
                return None;
            };
            let Ok(chunk) = current.recv() else {
                // This file is done (its sender dropped): on to the next.
                self.receivers.pop_front();
                continue;
            };
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            let r = &mut self.report;
            r.rows_read += chunk.rows_read;
            r.rows += chunk.batch.num_rows() as u64;
            r.no_time += chunk.no_time;
            r.skipped_row_groups.0 += chunk.skipped.0;
            r.skipped_row_groups.1 += chunk.skipped.1;
            for (k, v) in chunk.bad_values {
                *r.bad_values.entry(k).or_insert(0) += v;
            }
            if chunk.batch.num_rows() > 0 {
                return Some(Ok(chunk.batch));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TimeWindow;

    fn write(dir: &std::path::Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn a_directory_of_csv_files_reads_as_one_dataset_cut_to_a_window() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "day1.csv",
            "t,x\n2024-01-01T10:00:00Z,1\n2024-01-01T11:00:00Z,2\n",
        );
        write(dir.path(), "day2.csv", "t,x\n2024-01-02T10:00:00Z,3\n,4\n");
        let input = dir.path().to_str().unwrap();
        let all = Dataset::open(input, &ReadOptions::default()).unwrap();
        let (batches, report) = all.read_all().unwrap();
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 4);
        assert_eq!(report.files, 2);
        let options = ReadOptions {
            window: Some(
                TimeWindow::parse("t", Some("2024-01-01T11:00:00Z"), Some("2024-01-02")).unwrap(),
            ),
            ..ReadOptions::default()
        };
        let (_, report) = Dataset::open(input, &options).unwrap().read_all().unwrap();
        assert_eq!((report.rows_read, report.rows, report.no_time), (4, 1, 1));
        let options = ReadOptions {
            window: Some(TimeWindow::parse("t", Some("2025-01-01"), None).unwrap()),
            ..ReadOptions::default()
        };
        let err = Dataset::open(input, &options)
            .unwrap()
            .read_all()
            .unwrap_err()
            .to_string();
        assert!(err.contains("no data rows in the time window"), "{err}");
    }

    #[test]
    fn many_files_read_on_several_threads_keep_file_order() {
        let dir = tempfile::tempdir().unwrap();
        for k in 0..12 {
            let rows: String = (0..100).map(|i| format!("{}\n", k * 1000 + i)).collect();
            write(
                dir.path(),
                &format!("part{k:02}.csv"),
                &format!("x\n{rows}"),
            );
        }
        let d = Dataset::open(dir.path().to_str().unwrap(), &ReadOptions::default()).unwrap();
        let (batches, report) = d.read_all().unwrap();
        let values: Vec<i64> = batches
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<arrow_array::Int64Array>()
                    .unwrap()
                    .values()
                    .to_vec()
            })
            .collect();
        let expected: Vec<i64> = (0..12)
            .flat_map(|k| (0..100).map(move |i| k * 1000 + i))
            .collect();
        assert_eq!(values, expected);
        assert_eq!((report.files, report.rows), (12, 1200));
        // Dropping a stream early stops it without hanging.
        let mut stream = d.batches();
        assert!(stream.next().unwrap().is_ok());
        drop(stream);
    }

    #[test]
    fn a_file_with_other_columns_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.csv", "x,y\n1,2\n");
        write(dir.path(), "b.csv", "x,z\n1,2\n");
        let d = Dataset::open(dir.path().to_str().unwrap(), &ReadOptions::default()).unwrap();
        let err = d.read_all().unwrap_err().to_string();
        assert!(
            err.contains("b.csv") && err.contains("columns differ"),
            "{err}"
        );
    }

    #[test]
    fn unknown_format_and_mixed_formats_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.dat", "x\n1\n");
        let err = Dataset::open(
            dir.path().join("a.dat").to_str().unwrap(),
            &ReadOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("unknown format"), "{err}");
        write(dir.path(), "b.csv", "x\n1\n");
        write(dir.path(), "c.jsonl", "{\"x\": 1}\n");
        let err = Dataset::open(dir.path().to_str().unwrap(), &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("different formats"), "{err}");
    }

    /// Writes `columns` (name, array) with a UTC microsecond time column
    /// `t` at `day` noon of March 2024 as one Parquet file.
    fn parquet_day(dir: &std::path::Path, day: i64, columns: Vec<(&str, arrow_array::ArrayRef)>) {
        use arrow_array::TimestampMicrosecondArray;
        let n = columns[0].1.len();
        let noon = 1_709_294_400_000_000 + (day - 1) * 86_400_000_000;
        let mut all: Vec<(&str, arrow_array::ArrayRef)> = vec![(
            "t",
            Arc::new(TimestampMicrosecondArray::from(vec![noon; n]).with_timezone("UTC")),
        )];
        all.extend(columns);
        let batch = RecordBatch::try_from_iter(all).unwrap();
        let file = std::fs::File::create(dir.join(format!("day-{day}.parquet"))).unwrap();
        let mut w = ::parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    #[test]
    fn parquet_files_with_drifting_columns_read_as_their_union() {
        use arrow_array::{Array, Float64Array, Int64Array, StringArray};
        let dir = tempfile::tempdir().unwrap();
        // Day 1: x whole numbers, c text. Day 2: x fractions, a new y.
        // Day 3: x whole again, no c.
        parquet_day(
            dir.path(),
            1,
            vec![
                ("x", Arc::new(Int64Array::from(vec![1, 2]))),
                ("c", Arc::new(StringArray::from(vec!["a", "b"]))),
            ],
        );
        parquet_day(
            dir.path(),
            2,
            vec![
                ("x", Arc::new(Float64Array::from(vec![2.5]))),
                ("c", Arc::new(StringArray::from(vec!["a"]))),
                ("y", Arc::new(Float64Array::from(vec![7.0]))),
            ],
        );
        parquet_day(
            dir.path(),
            3,
            vec![("x", Arc::new(Int64Array::from(vec![9])))],
        );
        let input = dir.path().to_str().unwrap();
        let d = Dataset::open(input, &ReadOptions::default()).unwrap();
        let names = column_names(&d.schema());
        assert_eq!(names, ["t", "x", "c", "y"]);
        assert_eq!(
            d.schema().field_with_name("x").unwrap().data_type(),
            &arrow_schema::DataType::Float64
        );
        let changes = d.schema_changes().join("\n");
        assert!(
            changes.contains("day-2.parquet: column \"x\" is Float64 here, Int64 before"),
            "{changes}"
        );
        assert!(
            changes.contains("day-2.parquet: new column \"y\""),
            "{changes}"
        );
        assert!(
            changes.contains("day-3.parquet: no column \"c\""),
            "{changes}"
        );
        let (batches, _) = d.read_all().unwrap();
        let batch = arrow_select::concat::concat_batches(&d.schema(), &batches).unwrap();
        let x = batch.column_by_name("x").unwrap();
        let x = x.as_any().downcast_ref::<Float64Array>().unwrap();
        assert_eq!(
            x.values().to_vec(),
            vec![1.0, 2.0, 2.5, 9.0],
            "nothing rounded"
        );
        let c = batch.column_by_name("c").unwrap();
        assert_eq!((c.len(), c.null_count()), (4, 1), "day 3 has no c");
        let y = batch.column_by_name("y").unwrap();
        assert_eq!(y.null_count(), 3, "only day 2 has y");
        // A window on day 3 alone: the columns of day 3, no drift to report.
        let options = ReadOptions {
            window: Some(TimeWindow::parse("t", Some("2024-03-03"), Some("2024-03-04")).unwrap()),
            ..ReadOptions::default()
        };
        let d = Dataset::open(input, &options).unwrap();
        let names = column_names(&d.schema());
        assert_eq!(names, ["t", "x"]);
        assert!(d.schema_changes().is_empty());
        assert_eq!(d.read_all().unwrap().1.rows, 1);
    }
}
