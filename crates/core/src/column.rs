//! Reading one column of a set of record batches into the engine's forms:
//! finite numbers (missing counted apart) or category labels.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::DataType;

use crate::error::{Error, Result};

/// FNV-1a (Fowler, Noll, Vo), a fast hash for short labels that need no
/// protection against adversarial collisions (the labels only count rows).
#[derive(Default)]
struct Fnv1a(u64);

impl Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// The label used for a missing categorical value.
pub const MISSING_LABEL: &str = "<missing>";

/// An array cast to 64-bit floats (numbers, and strings that parse as
/// numbers), or an error naming the column. Float arrays are shared, not
/// copied.
pub(crate) fn floats(name: &str, array: &ArrayRef) -> Result<arrow_array::Float64Array> {
    as_floats(name, array)
}

/// Row `r` of `floats`: NaN when missing or not finite.
pub(crate) fn number_at(floats: &arrow_array::Float64Array, r: usize) -> f64 {
    let v = floats.values()[r];
    if floats.is_null(r) || !v.is_finite() {
        f64::NAN
    } else {
        v
    }
}

fn as_floats(name: &str, array: &ArrayRef) -> Result<arrow_array::Float64Array> {
    let cast = arrow_cast::cast(array, &DataType::Float64).map_err(|e| Error::Arrow {
        column: name.to_string(),
        message: e.to_string(),
    })?;
    Ok(cast.as_primitive::<Float64Type>().clone())
}

/// Finite values of a numeric column, and the number of missing values
/// (null, NaN, +inf, -inf).
pub(crate) fn numeric_values(name: &str, arrays: &[&ArrayRef]) -> Result<(Vec<f64>, u64)> {
    let total: usize = arrays.iter().map(|a| a.len()).sum();
    let mut values = Vec::with_capacity(total);
    let mut missing = 0u64;
    for array in arrays {
        let floats = as_floats(name, array)?;
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

/// Calls `f` with each row's label (as [`category_counts`] counts them),
/// `None` when missing.
pub(crate) fn each_label(
    name: &str,
    array: &ArrayRef,
    mut f: impl FnMut(Option<&str>),
) -> Result<()> {
    if let Some(strings) = array.as_string_opt::<i32>() {
        strings.iter().for_each(f);
        return Ok(());
    }
    for_each_label(name, array, &mut f)
}

/// A 64-bit hash of a label (FNV-1a of its bytes).
pub(crate) fn label_hash(label: &str) -> u64 {
    let mut h = Fnv1a::default();
    h.write(label.as_bytes());
    h.finish()
}

/// Calls `f` with each row's label of a non-string array, as displayed text
/// (booleans `true`/`false`), or `None` when missing (null; NaN and
/// infinities in float columns, as in numeric features).
fn for_each_label(name: &str, array: &ArrayRef, mut f: impl FnMut(Option<&str>)) -> Result<()> {
    let arrow = |e: arrow_schema::ArrowError| Error::Arrow {
        column: name.to_string(),
        message: e.to_string(),
    };
    let formatter =
        ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default()).map_err(arrow)?;
    let floats = matches!(
        array.data_type(),
        DataType::Float16 | DataType::Float32 | DataType::Float64
    )
    .then(|| as_floats(name, array))
    .transpose()?;
    let mut label = String::new();
    for i in 0..array.len() {
        let non_finite = floats.as_ref().is_some_and(|v| !v.value(i).is_finite());
        if array.is_null(i) || non_finite {
            f(None);
        } else {
            label.clear();
            std::fmt::write(&mut label, format_args!("{}", formatter.value(i))).map_err(|e| {
                Error::Arrow {
                    column: name.to_string(),
                    message: e.to_string(),
                }
            })?;
            f(Some(&label));
        }
    }
    Ok(())
}

/// Counts of each label of a column (as displayed text; booleans as
/// `true`/`false`), with missing values under [`MISSING_LABEL`].
pub(crate) fn category_counts(name: &str, arrays: &[&ArrayRef]) -> Result<HashMap<String, u64>> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    for array in arrays {
        if let Some(strings) = array.as_string_opt::<i32>() {
            // Count borrowed labels first: one allocation per distinct label.
            let mut local: HashMap<&str, u64, BuildHasherDefault<Fnv1a>> = HashMap::default();
            for v in strings.iter() {
                *local.entry(v.unwrap_or(MISSING_LABEL)).or_default() += 1;
            }
            for (label, n) in local {
                *counts.entry(label.to_string()).or_default() += n;
            }
            continue;
        }
        for_each_label(name, array, |label| {
            let label = label.unwrap_or(MISSING_LABEL);
            match counts.get_mut(label) {
                Some(n) => *n += 1,
                None => {
                    counts.insert(label.to_string(), 1);
                }
            }
        })?;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{BooleanArray, Float64Array};

    use super::*;

    #[test]
    fn non_finite_floats_are_missing_in_both_forms() {
        let a: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(1.0),
            None,
            Some(f64::NAN),
            Some(f64::INFINITY),
            Some(1.0),
        ]));
        let (values, missing) = numeric_values("x", &[&a]).unwrap();
        assert_eq!((values, missing), (vec![1.0, 1.0], 3));
        let counts = category_counts("x", &[&a]).unwrap();
        assert_eq!(counts[MISSING_LABEL], 3);
        assert_eq!(counts["1.0"], 2);
    }

    #[test]
    fn booleans_are_labelled() {
        let a: ArrayRef = Arc::new(BooleanArray::from(vec![Some(true), Some(false), None]));
        let counts = category_counts("b", &[&a]).unwrap();
        assert_eq!(counts["true"], 1);
        assert_eq!(counts["false"], 1);
        assert_eq!(counts[MISSING_LABEL], 1);
    }
}
