//! Records joined to their model's predictions: a left outer join on a key
//! column (the reference system's `$CorrelationId`), so a model's outputs
//! can be monitored as features beside its inputs (prediction drift).
//!
//! The predictions are read whole into a lookup (key to row); each batch
//! of records then gains the predictions' columns, missing where a record
//! has no prediction. A prediction's own `$Timestamp` and `$RequestId`,
//! and its key, are not added; a prediction column whose name a record
//! column has already is added as `<name>_prediction`. A key predicted
//! twice keeps its first prediction (in file order), and the lookup counts
//! the repeats.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, UInt32Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::Dataset;
use crate::Error;
use crate::records::{REQUEST_ID, TIMESTAMP};

/// The predictions of a window, by key.
#[derive(Debug, Clone)]
pub struct Predictions {
    key: String,
    /// The added columns, as named in the joined schema, whole.
    columns: Vec<(Field, ArrayRef)>,
    /// Row of each key's first prediction.
    rows: HashMap<String, u32>,
    /// Predictions whose key came before.
    pub repeated_keys: u64,
}

/// `column` as text (keys may be numbers in one file and text in another).
fn as_text(column: &ArrayRef) -> Result<StringArray, Error> {
    let text = arrow_cast::cast(column, &DataType::Utf8)
        .map_err(|e| Error::Options(format!("the join key as text: {e}")))?;
    Ok(text
        .as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .unwrap_or_else(|| StringArray::new_null(column.len())))
}

impl Predictions {
    /// No predictions: the join adds no column.
    pub fn none(key: &str) -> Predictions {
        Predictions {
            key: key.to_string(),
            columns: Vec::new(),
            rows: HashMap::new(),
            repeated_keys: 0,
        }
    }

    /// Reads `predictions` whole, keyed by its column `key`. A dataset with
    /// no rows (in its window) is [`Predictions::none`].
    pub fn read(predictions: &Dataset, key: &str) -> Result<Predictions, Error> {
        let schema = predictions.schema();
        if schema.field_with_name(key).is_err() {
            return Err(Error::Options(format!(
                "{}: the predictions have no column {key:?} to join on (columns: {})",
                predictions.input,
                crate::column_list(&schema)
            )));
        }
        let batches = match predictions.read_all() {
            Ok((b, _)) => b,
            Err(Error::Empty { .. }) => return Ok(Predictions::none(key)),
            Err(e) => return Err(e),
        };
        let all = arrow_select::concat::concat_batches(&schema, &batches)
            .map_err(|e| Error::Options(format!("{}: {e}", predictions.input)))?;
        let keys = as_text(all.column_by_name(key).expect("checked above"))?;
        let mut rows = HashMap::with_capacity(keys.len());
        let mut repeated_keys = 0;
        for (i, k) in keys.iter().enumerate() {
            if let Some(k) = k {
                if rows.contains_key(k) {
                    repeated_keys += 1;
                } else {
                    rows.insert(k.to_string(), i as u32);
                }
            }
        }
        let columns = schema
            .fields()
            .iter()
            .zip(all.columns())
            .filter(|(f, _)| ![key, TIMESTAMP, REQUEST_ID].contains(&f.name().as_str()))
            .map(|(f, c)| (f.as_ref().clone().with_nullable(true), c.clone()))
            .collect();
        Ok(Predictions {
            key: key.to_string(),
            columns,
            rows,
            repeated_keys,
        })
    }

    /// The records' columns, then the predictions' (renamed where a record
    /// column has the name). The records must have the key column.
    pub fn joined_schema(&self, records: &Schema) -> Result<SchemaRef, Error> {
        if records.field_with_name(&self.key).is_err() {
            return Err(Error::Options(format!(
                "the records have no column {:?} to join their predictions on (columns: {})",
                self.key,
                crate::column_list(records)
            )));
        }
        let mut fields: Vec<Field> = records
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        for (f, _) in &self.columns {
            let name = if fields.iter().any(|g| g.name() == f.name()) {
                format!("{}_prediction", f.name())
            } else {
                f.name().clone()
            };
            fields.push(f.clone().with_name(name));
        }
        Ok(Arc::new(Schema::new(fields)))
    }

    /// `batch` (of the records' schema) with each record's prediction
    /// columns, in `joined` (from [`Predictions::joined_schema`]).
    pub fn attach(&self, batch: &RecordBatch, joined: &SchemaRef) -> Result<RecordBatch, Error> {
        let keys = as_text(
            batch
                .column_by_name(&self.key)
                .ok_or_else(|| Error::Options(format!("a batch has no column {:?}", self.key)))?,
        )?;
        let rows: UInt32Array = keys
            .iter()
            .map(|k| k.and_then(|k| self.rows.get(k).copied()))
            .collect();
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        for (_, c) in &self.columns {
            columns.push(
                arrow_select::take::take(c.as_ref(), &rows, None)
                    .map_err(|e| Error::Options(format!("joining predictions: {e}")))?,
            );
        }
        RecordBatch::try_new(joined.clone(), columns)
            .map_err(|e| Error::Options(format!("joining predictions: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReadOptions;
    use arrow_array::{Float64Array, Int64Array};

    fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    #[test]
    fn each_record_gains_its_prediction_or_missing_values() {
        let dir = tempfile::tempdir().unwrap();
        let preds = write(
            dir.path(),
            "p.csv",
            "$Timestamp,$CorrelationId,$RequestId,score,x\n\
             2024-03-01T00:00:00Z,a,r1,0.9,7\n\
             2024-03-01T00:00:00Z,c,r2,0.1,8\n\
             2024-03-01T00:00:01Z,a,r3,0.5,9\n",
        );
        let p = Predictions::read(
            &Dataset::open(&preds, &ReadOptions::default()).unwrap(),
            "$CorrelationId",
        )
        .unwrap();
        assert_eq!(p.repeated_keys, 1);
        let records = Schema::new(vec![
            Field::new("$CorrelationId", DataType::Utf8, true),
            Field::new("x", DataType::Int64, true),
        ]);
        let joined = p.joined_schema(&records).unwrap();
        let names: Vec<&str> = joined.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["$CorrelationId", "x", "score", "x_prediction"]);
        let batch = RecordBatch::try_new(
            Arc::new(records.clone()),
            vec![
                Arc::new(StringArray::from(vec![
                    Some("c"),
                    Some("b"),
                    None,
                    Some("a"),
                ])),
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])),
            ],
        )
        .unwrap();
        let out = p.attach(&batch, &joined).unwrap();
        let score = out
            .column_by_name("score")
            .unwrap()
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap()
            .clone();
        assert_eq!(
            score.iter().collect::<Vec<_>>(),
            [Some(0.1), None, None, Some(0.9)],
            "left outer, the first prediction of a repeated key"
        );
        // Records without the key are an error naming it.
        let no_key = Schema::new(vec![Field::new("x", DataType::Int64, true)]);
        let err = p.joined_schema(&no_key).unwrap_err().to_string();
        assert!(err.contains("$CorrelationId"), "{err}");
        // No predictions at all: nothing added.
        let none = Predictions::none("$CorrelationId");
        assert_eq!(none.joined_schema(&records).unwrap().fields().len(), 2);
    }
}
