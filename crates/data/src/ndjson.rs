//! Newline-delimited JSON (optionally gzip or zstd compressed): one object
//! per line, column types inferred from the first lines or given.

use std::collections::BTreeMap;
use std::io::BufReader;
use std::path::Path;

use arrow_json::ReaderBuilder;
use arrow_json::reader::infer_json_schema;
use arrow_schema::{Schema, SchemaRef};

use crate::csv::{apply_overrides, as_text, decoded, format_error};
use crate::files::open_text;
use crate::{BadValues, ColumnType, Decoded, Error};

/// The schema of an NDJSON file: types inferred from its first
/// `infer_rows` lines (all when `None`), then `overrides` applied.
pub fn infer_schema(
    path: &Path,
    infer_rows: Option<usize>,
    overrides: &BTreeMap<String, ColumnType>,
) -> Result<Schema, Error> {
    let reader = BufReader::new(open_text(path)?);
    let (schema, rows) =
        infer_json_schema(reader, infer_rows).map_err(|e| format_error(path, e, None))?;
    if rows == 0 || schema.fields().is_empty() {
        return Err(Error::Empty {
            input: path.display().to_string(),
            detail: String::new(),
        });
    }
    apply_overrides(path, schema, overrides)
}

/// Streams the record batches of an NDJSON file read as `schema`; with
/// [`BadValues::Missing`], values that do not fit their column become
/// nulls, counted by column.
pub fn read(
    path: &Path,
    schema: SchemaRef,
    batch_size: usize,
    bad_values: BadValues,
) -> Result<Decoded, Error> {
    let text = BufReader::new(open_text(path)?);
    let path = path.to_path_buf();
    let builder = match bad_values {
        BadValues::Fail => ReaderBuilder::new(schema.clone()),
        // Every value as text, then cast leniently.
        BadValues::Missing => ReaderBuilder::new(as_text(&schema)).with_coerce_primitive(true),
    };
    let reader = builder
        .with_batch_size(batch_size)
        .build(text)
        .map_err(|e| format_error(&path, e, Some(&schema)))?;
    Ok(decoded(reader, path, schema, bad_values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::DataType;
    use std::io::Write;
    use std::sync::Arc;

    #[test]
    fn reads_objects_with_missing_fields_and_counts_bad_values() {
        let mut f = tempfile::Builder::new()
            .suffix(".jsonl")
            .tempfile()
            .unwrap();
        writeln!(f, r#"{{"a": 1, "b": "x"}}"#).unwrap();
        writeln!(f, r#"{{"a": 2}}"#).unwrap();
        writeln!(f, r#"{{"a": "three", "b": "z"}}"#).unwrap();
        let mut o = BTreeMap::new();
        o.insert("a".to_string(), ColumnType::Integer);
        let schema = Arc::new(infer_schema(f.path(), Some(2), &o).unwrap());
        assert_eq!(schema.field(0).data_type(), &DataType::Int64);
        let strict: Result<Vec<_>, _> = read(f.path(), schema.clone(), 100, BadValues::Fail)
            .unwrap()
            .collect();
        assert!(strict.is_err());
        let lenient: Vec<_> = read(f.path(), schema, 100, BadValues::Missing)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let (batch, bad) = &lenient[0];
        assert_eq!(batch.num_rows(), 3);
        assert_eq!(batch.column(1).null_count(), 1, "the missing field");
        assert_eq!(bad.get("a"), Some(&1));
    }
}
