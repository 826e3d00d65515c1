//! Reading one column of a set of record batches into the engine's forms:
//! finite numbers (missing counted apart) or category labels.

use std::collections::HashMap;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::DataType;

use crate::error::{Error, Result};

/// The label used for a missing categorical value.
pub const MISSING_LABEL: &str = "<missing>";

/// The arrays of column `name` across `batches` (absent batches skipped).
pub(crate) fn arrays<'a>(batches: &'a [RecordBatch], name: &str) -> Vec<&'a ArrayRef> {
    batches
        .iter()
        .filter_map(|b| b.schema().index_of(name).ok().map(|i| b.column(i)))
        .collect()
}

/// Finite values of a numeric column, and the number of missing values
/// (null, NaN, +inf, -inf).
pub(crate) fn numeric_values(name: &str, arrays: &[&ArrayRef]) -> Result<(Vec<f64>, u64)> {
    let total: usize = arrays.iter().map(|a| a.len()).sum();
    let mut values = Vec::with_capacity(total);
    let mut missing = 0u64;
    for array in arrays {
        let cast = arrow_cast::cast(array, &DataType::Float64).map_err(|e| Error::Arrow {
            column: name.to_string(),
            message: e.to_string(),
        })?;
        let floats = cast.as_primitive::<Float64Type>();
        if floats.null_count() == 0 {
            for &v in floats.values().iter() {
                if v.is_finite() {
                    values.push(v);
                } else {
                    missing += 1;
                }
            }
        } else {
            for v in floats.iter() {
                match v {
                    Some(v) if v.is_finite() => values.push(v),
                    _ => missing += 1,
                }
            }
        }
    }
    Ok((values, missing))
}

/// Counts of each label of a column (as displayed text; booleans as
/// `true`/`false`), with missing values under [`MISSING_LABEL`].
pub(crate) fn category_counts(name: &str, arrays: &[&ArrayRef]) -> Result<HashMap<String, u64>> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    let options = FormatOptions::default();
    for array in arrays {
        if let Some(strings) = array.as_string_opt::<i32>() {
            for v in strings.iter() {
                *counts
                    .entry(v.unwrap_or(MISSING_LABEL).to_string())
                    .or_default() += 1;
            }
            continue;
        }
        let formatter =
            ArrayFormatter::try_new(array.as_ref(), &options).map_err(|e| Error::Arrow {
                column: name.to_string(),
                message: e.to_string(),
            })?;
        for i in 0..array.len() {
            let label = if array.is_null(i) {
                MISSING_LABEL.to_string()
            } else {
                formatter.value(i).to_string()
            };
            *counts.entry(label).or_default() += 1;
        }
    }
    Ok(counts)
}
