//! Feature kinds and how they are inferred from the baseline.

use std::collections::BTreeMap;
use std::fmt;

use arrow_schema::DataType;
use serde::{Deserialize, Serialize};

/// How a feature is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// Ordered numbers, compared by distribution (integers keep their order).
    Numeric,
    /// A finite set of values, compared by category frequencies.
    Categorical,
    /// Dates and timestamps: profiled, not compared.
    Datetime,
    /// Free text or identifiers (very many distinct strings): profiled, not compared.
    Text,
}

impl FeatureKind {
    /// Whether drift methods compare this kind.
    pub fn is_compared(self) -> bool {
        matches!(self, FeatureKind::Numeric | FeatureKind::Categorical)
    }

    /// Parses `numeric`, `categorical`, `datetime`, `text`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "numeric" => FeatureKind::Numeric,
            "categorical" => FeatureKind::Categorical,
            "datetime" => FeatureKind::Datetime,
            "text" => FeatureKind::Text,
            _ => return None,
        })
    }
}

impl fmt::Display for FeatureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FeatureKind::Numeric => "numeric",
            FeatureKind::Categorical => "categorical",
            FeatureKind::Datetime => "datetime",
            FeatureKind::Text => "text",
        })
    }
}

/// The rule that decides a column's kind from the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KindRule {
    /// tidewatch's rule: numbers are numeric, strings and booleans are
    /// categorical, strings with very many distinct values are text, dates
    /// and timestamps are datetime.
    #[default]
    Default,
    /// The reference system's rule: a column with at most
    /// `min(floor(0.05 N), 100)` distinct baseline values is categorical
    /// (numbers included); otherwise numeric if numeric; strings beyond that
    /// are text and datetimes are datetime (neither is compared).
    Reference,
}

/// Above this many distinct strings, a string column is text when the
/// distinct values are also more than half of its non-missing values.
pub const TEXT_MIN_DISTINCT: usize = 50;
/// A string column with more distinct values than this is always text.
pub const TEXT_ALWAYS_DISTINCT: usize = 10_000;

/// What the arrow type says before looking at the values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeClass {
    Number,
    Boolean,
    String,
    Temporal,
    Other,
}

pub(crate) fn type_class(dt: &DataType) -> TypeClass {
    use DataType::*;
    match dt {
        Int8
        | Int16
        | Int32
        | Int64
        | UInt8
        | UInt16
        | UInt32
        | UInt64
        | Float16
        | Float32
        | Float64
        | Decimal128(_, _)
        | Decimal256(_, _) => TypeClass::Number,
        Boolean => TypeClass::Boolean,
        Utf8 | LargeUtf8 | Utf8View => TypeClass::String,
        Dictionary(_, v) => match type_class(v) {
            TypeClass::Number | TypeClass::String | TypeClass::Boolean => TypeClass::String,
            other => other,
        },
        Date32 | Date64 | Timestamp(_, _) | Time32(_) | Time64(_) | Duration(_) => {
            TypeClass::Temporal
        }
        Null => TypeClass::String,
        _ => TypeClass::Other,
    }
}

/// Infers the kind of a column from its type, its number of distinct
/// non-missing baseline values and its non-missing count.
pub(crate) fn infer(
    rule: KindRule,
    class: TypeClass,
    distinct: usize,
    non_missing: usize,
    rows: usize,
) -> FeatureKind {
    let text = |distinct: usize| {
        distinct > TEXT_ALWAYS_DISTINCT
            || (distinct > TEXT_MIN_DISTINCT && distinct * 2 > non_missing)
    };
    match rule {
        KindRule::Default => match class {
            TypeClass::Number => FeatureKind::Numeric,
            TypeClass::Boolean => FeatureKind::Categorical,
            TypeClass::String | TypeClass::Other => {
                if text(distinct) {
                    FeatureKind::Text
                } else {
                    FeatureKind::Categorical
                }
            }
            TypeClass::Temporal => FeatureKind::Datetime,
        },
        KindRule::Reference => {
            let limit = ((0.05 * rows as f64).floor() as usize).min(100);
            match class {
                TypeClass::Temporal => FeatureKind::Datetime,
                _ if distinct <= limit => FeatureKind::Categorical,
                TypeClass::Number => FeatureKind::Numeric,
                _ => FeatureKind::Text,
            }
        }
    }
}

/// Per-column kind overrides, by column name.
pub type KindOverrides = BTreeMap<String, FeatureKind>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inference_table() {
        use FeatureKind::*;
        use KindRule::{Default as Ours, Reference};
        // (rule, type, distinct, non-missing, rows) -> kind. For the
        // reference rule, N = 2000 gives the limit min(100, 100) = 100.
        let table = [
            ((Ours, TypeClass::Number, 3, 1000, 1000), Numeric),
            ((Ours, TypeClass::String, 3, 1000, 1000), Categorical),
            ((Ours, TypeClass::String, 900, 1000, 1000), Text),
            ((Ours, TypeClass::Boolean, 2, 10, 10), Categorical),
            ((Ours, TypeClass::Temporal, 10, 10, 10), Datetime),
            ((Reference, TypeClass::Number, 12, 2000, 2000), Categorical),
            ((Reference, TypeClass::Number, 500, 2000, 2000), Numeric),
            ((Reference, TypeClass::String, 500, 2000, 2000), Text),
        ];
        for ((rule, class, distinct, non_missing, rows), want) in table {
            assert_eq!(
                infer(rule, class, distinct, non_missing, rows),
                want,
                "{rule:?} {class:?} distinct={distinct} rows={rows}"
            );
        }
    }
}
