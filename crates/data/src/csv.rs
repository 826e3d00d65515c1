//! CSV files (optionally gzip or zstd compressed): a header row, column
//! types inferred from the first rows or given.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_cast::{CastOptions, cast_with_options};
use arrow_csv::reader::Format as CsvFormat;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use crate::csv_chunks::Blocks;
use crate::files::open_text;
use crate::{BadValues, ColumnType, Decoded, Error};

/// Options of the CSV dialect.
#[derive(Debug, Clone)]
pub struct CsvOptions {
    /// Field delimiter (default `,`).
    pub delimiter: u8,
    /// Quote character (default `"`).
    pub quote: u8,
    /// Whether the first row names the columns (default yes; without one
    /// columns are `column_1`, `column_2`, ...).
    pub header: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: b',',
            quote: b'"',
            header: true,
        }
    }
}

pub(crate) fn dialect(options: &CsvOptions) -> CsvFormat {
    CsvFormat::default()
        .with_header(options.header)
        .with_delimiter(options.delimiter)
        .with_quote(options.quote)
}

/// The schema of a CSV file: types inferred from its first `infer_rows`
/// rows (all when `None`), then `overrides` applied.
pub fn infer_schema(
    path: &Path,
    options: &CsvOptions,
    infer_rows: Option<usize>,
    overrides: &BTreeMap<String, ColumnType>,
) -> Result<Schema, Error> {
    let reader = open_text(path)?;
    let (schema, rows) = dialect(options)
        .infer_schema(reader, infer_rows)
        .map_err(|e| format_error(path, e, None))?;
    if rows == 0 || schema.fields().is_empty() {
        return Err(Error::Empty {
            input: path.display().to_string(),
            detail: String::new(),
        });
    }
    apply_overrides(path, schema, overrides)
}

/// `schema` with the types of `overrides`, or an error naming overrides of
/// columns it does not have.
pub(crate) fn apply_overrides(
    path: &Path,
    schema: Schema,
    overrides: &BTreeMap<String, ColumnType>,
) -> Result<Schema, Error> {
    let unknown: Vec<&str> = overrides
        .keys()
        .filter(|name| schema.field_with_name(name).is_err())
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(Error::Options(format!(
            "{}: no column {} to set the type of (columns: {})",
            path.display(),
            unknown.join(", "),
            crate::column_list(&schema)
        )));
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match overrides.get(f.name()) {
            Some(t) => Field::new(f.name(), t.data_type(), true),
            None => f.as_ref().clone(),
        })
        .collect();
    Ok(Schema::new(fields))
}

/// Streams the record batches of a CSV file read as `schema`, parsed on
/// all cores: cut into blocks at record boundaries (newlines outside
/// quotes), parsed side by side, delivered in file order.
///
/// With [`BadValues::Missing`], values that do not parse become nulls and
/// are counted by column in `bad_values`.
pub fn read(
    path: &Path,
    schema: SchemaRef,
    options: &CsvOptions,
    batch_size: usize,
    bad_values: BadValues,
) -> Result<Decoded, Error> {
    let blocks = Blocks {
        batch_size,
        bad_values,
        threads: std::thread::available_parallelism().map_or(1, usize::from),
        block: crate::csv_chunks::BLOCK,
    };
    read_in_blocks(path, schema, options, blocks)
}

/// [`read`] parsed as `blocks` says.
pub(crate) fn read_in_blocks(
    path: &Path,
    schema: SchemaRef,
    options: &CsvOptions,
    blocks: Blocks,
) -> Result<Decoded, Error> {
    let text = open_text(path)?;
    let read_as = match blocks.bad_values {
        BadValues::Fail => schema.clone(),
        // Read every column as text, then cast leniently.
        BadValues::Missing => as_text(&schema),
    };
    Ok(Box::new(crate::csv_chunks::read(
        text,
        path.to_path_buf(),
        (read_as, schema),
        options,
        blocks,
    )))
}

/// `schema` with every column as text.
pub(crate) fn as_text(schema: &Schema) -> SchemaRef {
    Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ))
}

/// A reader's batches as [`Decoded`]: errors name the file and column;
/// with [`BadValues::Missing`] the text batches are cast to `schema`.
pub(crate) fn decoded(
    reader: impl Iterator<Item = Result<RecordBatch, ArrowError>> + Send + 'static,
    path: PathBuf,
    schema: SchemaRef,
    bad_values: BadValues,
) -> Decoded {
    Box::new(reader.map(move |batch| {
        let batch = batch.map_err(|e| format_error(&path, e, Some(&schema)))?;
        match bad_values {
            BadValues::Fail => Ok((batch, BTreeMap::new())),
            BadValues::Missing => cast_leniently(&path, &batch, &schema),
        }
    }))
}

/// Casts a batch of text columns to `schema`, nulls for values that do not
/// parse, counted by column.
pub(crate) fn cast_leniently(
    path: &Path,
    batch: &RecordBatch,
    schema: &SchemaRef,
) -> Result<(RecordBatch, BTreeMap<String, u64>), Error> {
    let options = CastOptions {
        safe: true,
        ..CastOptions::default()
    };
    let mut bad = BTreeMap::new();
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        let cast = cast_with_options(column, field.data_type(), &options)
            .map_err(|e| format_error(path, e, Some(schema)))?;
        let lost = cast.null_count().saturating_sub(column.null_count());
        if lost > 0 {
            bad.insert(field.name().clone(), lost as u64);
        }
        columns.push(cast);
    }
    let batch = RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| format_error(path, e, Some(schema)))?;
    Ok((batch, bad))
}

/// An Arrow error as a file error; `for column N` gains the column's name.
pub(crate) fn format_error(path: &Path, e: ArrowError, schema: Option<&Schema>) -> Error {
    let mut message = e.to_string();
    if let Some(schema) = schema
        && let Some(at) = message.find("for column ")
    {
        let digits: String = message[at + 11..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if let Ok(i) = digits.parse::<usize>()
            && let Some(field) = schema.fields().get(i)
        {
            let end = at + 11 + digits.len();
            message.insert_str(end, &format!(" ({:?})", field.name()));
        }
    }
    Error::Format {
        path: path.to_path_buf(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(text: &str, suffix: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(suffix).tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn read_all(
        path: &Path,
        bad: BadValues,
    ) -> Result<(Vec<RecordBatch>, BTreeMap<String, u64>), Error> {
        let schema = Arc::new(infer_schema(
            path,
            &CsvOptions::default(),
            None,
            &BTreeMap::new(),
        )?);
        let mut batches = Vec::new();
        let mut counts = BTreeMap::new();
        for item in read(path, schema, &CsvOptions::default(), 1024, bad)? {
            let (b, c) = item?;
            batches.push(b);
            for (k, v) in c {
                *counts.entry(k).or_insert(0) += v;
            }
        }
        Ok((batches, counts))
    }

    #[test]
    fn infers_types_and_nulls() {
        let f = write("a,b,c\n1,x,2.5\n2,,3\n,y,\n", ".csv");
        let (batches, _) = read_all(f.path(), BadValues::Fail).unwrap();
        let b = &batches[0];
        assert_eq!(b.num_rows(), 3);
        assert_eq!(b.schema().field(0).data_type(), &DataType::Int64);
        assert_eq!(b.schema().field(1).data_type(), &DataType::Utf8);
        assert_eq!(b.schema().field(2).data_type(), &DataType::Float64);
        assert_eq!(b.column(1).null_count(), 1);
    }

    #[test]
    fn header_only_is_empty() {
        let f = write("a,b\n", ".csv");
        assert!(matches!(
            read_all(f.path(), BadValues::Fail),
            Err(Error::Empty { .. })
        ));
    }

    #[test]
    fn ragged_row_is_an_error_with_its_line() {
        let f = write("a,b\n1,2\n3\n", ".csv");
        let err = read_all(f.path(), BadValues::Fail).unwrap_err();
        assert!(matches!(err, Error::Format { .. }), "{err}");
        assert!(err.to_string().to_lowercase().contains("line"), "{err}");
    }

    #[test]
    fn a_value_of_the_wrong_type_names_line_and_column_or_counts_as_missing() {
        // Types from the first row only: "oops" on line 4 is not a number.
        let f = write("id,score\n1,2.5\n2,3.5\n3,oops\n", ".csv");
        let schema = Arc::new(
            infer_schema(f.path(), &CsvOptions::default(), Some(1), &BTreeMap::new()).unwrap(),
        );
        let run = |bad| {
            read(f.path(), schema.clone(), &CsvOptions::default(), 1024, bad)
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
        };
        let err = run(BadValues::Fail).unwrap_err().to_string();
        assert!(err.contains("\"score\""), "{err}");
        assert!(err.contains("line"), "{err}");
        let ok = run(BadValues::Missing).unwrap();
        assert_eq!(ok[0].0.column(1).null_count(), 1);
        assert_eq!(ok[0].1.get("score"), Some(&1));
    }

    #[test]
    fn overrides_set_types_and_unknown_columns_are_named() {
        let f = write("id,code\n1,007\n2,010\n", ".csv");
        let mut o = BTreeMap::new();
        o.insert("code".to_string(), ColumnType::String);
        let s = infer_schema(f.path(), &CsvOptions::default(), None, &o).unwrap();
        assert_eq!(s.field(1).data_type(), &DataType::Utf8);
        o.insert("nope".to_string(), ColumnType::Float);
        let err = infer_schema(f.path(), &CsvOptions::default(), None, &o).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn gzip_and_zstd_read_like_plain() {
        let text = "a,b\n1,x\n2,y\n";
        let gz = tempfile::Builder::new()
            .suffix(".csv.gz")
            .tempfile()
            .unwrap();
        let mut enc =
            flate2::write::GzEncoder::new(gz.reopen().unwrap(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap();
        let zst = tempfile::Builder::new()
            .suffix(".csv.zst")
            .tempfile()
            .unwrap();
        zstd::stream::copy_encode(text.as_bytes(), zst.reopen().unwrap(), 3).unwrap();
        for f in [&gz, &zst] {
            let (batches, _) = read_all(f.path(), BadValues::Fail).unwrap();
            assert_eq!(batches[0].num_rows(), 2, "{}", f.path().display());
        }
    }

    /// Every batch of `path` read whole by one arrow-csv reader (the
    /// reference the block-parallel reader must match), concatenated.
    fn sequential(path: &Path, schema: SchemaRef) -> Result<RecordBatch, ArrowError> {
        let reader = arrow_csv::ReaderBuilder::new(schema.clone())
            .with_format(dialect(&CsvOptions::default()))
            .build(std::fs::File::open(path).unwrap())?;
        let batches = reader.collect::<Result<Vec<_>, _>>()?;
        arrow_select::concat::concat_batches(&schema, &batches)
    }

    fn in_blocks(
        path: &Path,
        schema: SchemaRef,
        bad: BadValues,
        block: usize,
    ) -> Result<(RecordBatch, BTreeMap<String, u64>), Error> {
        let mut batches = Vec::new();
        let mut counts = BTreeMap::new();
        let blocks = Blocks {
            batch_size: 7,
            bad_values: bad,
            threads: 3,
            block,
        };
        for item in read_in_blocks(path, schema.clone(), &CsvOptions::default(), blocks)? {
            let (b, c) = item?;
            batches.push(b);
            for (k, v) in c {
                *counts.entry(k).or_insert(0) += v;
            }
        }
        Ok((
            arrow_select::concat::concat_batches(&schema, &batches).unwrap(),
            counts,
        ))
    }

    /// 300 rows with quoted fields holding newlines, delimiters and
    /// doubled quotes, so that small blocks cut near every kind of byte.
    fn tricky(bad_row: Option<usize>) -> tempfile::NamedTempFile {
        let mut text = String::from("id,note,x\n");
        for i in 0..300 {
            let note = match i % 4 {
                0 => format!("\"line\nbreak {i}\""),
                1 => format!("\"a, \"\"quoted\"\" {i}\""),
                2 => String::new(),
                _ => format!("plain{i}"),
            };
            let x = if Some(i) == bad_row {
                "oops".to_string()
            } else {
                format!("{}.5", i * 3)
            };
            text.push_str(&format!("{i},{note},{x}\n"));
        }
        write(&text, ".csv")
    }

    #[test]
    fn blocks_cut_anywhere_give_the_rows_of_one_sequential_read() {
        let f = tricky(None);
        let schema = Arc::new(
            infer_schema(f.path(), &CsvOptions::default(), None, &BTreeMap::new()).unwrap(),
        );
        let whole = sequential(f.path(), schema.clone()).unwrap();
        assert_eq!(whole.num_rows(), 300);
        for block in [1, 2, 3, 5, 16, 61, 64, 1000, 1 << 20] {
            let (parts, _) = in_blocks(f.path(), schema.clone(), BadValues::Fail, block).unwrap();
            assert_eq!(parts, whole, "block of {block} bytes");
        }
    }

    #[test]
    fn errors_deep_in_a_file_name_the_line_a_sequential_read_names() {
        let f = tricky(Some(233));
        let schema = Arc::new(
            infer_schema(f.path(), &CsvOptions::default(), Some(10), &BTreeMap::new()).unwrap(),
        );
        let expected = sequential(f.path(), schema.clone())
            .unwrap_err()
            .to_string();
        let line = expected
            .split("line ")
            .nth(1)
            .unwrap()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .to_string();
        for block in [7, 100, 1 << 20] {
            let err = in_blocks(f.path(), schema.clone(), BadValues::Fail, block)
                .unwrap_err()
                .to_string();
            assert!(err.contains(&format!("line {line}")), "{err} / {expected}");
            assert!(err.contains("\"x\""), "{err}");
        }
        let (ok, counts) = in_blocks(f.path(), schema, BadValues::Missing, 50).unwrap();
        assert_eq!(ok.num_rows(), 300);
        assert_eq!(counts.get("x"), Some(&1));
    }
}
