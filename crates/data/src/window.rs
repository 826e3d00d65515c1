//! Time windows: the rows whose time column falls in `[from, to)`, UTC.

use arrow_array::{Array, BooleanArray, RecordBatch, TimestampMicrosecondArray};
use arrow_cast::cast;
use arrow_schema::{DataType, Schema, TimeUnit};
use arrow_select::filter::filter_record_batch;
use chrono::{DateTime, NaiveDate, NaiveDateTime};

use crate::Error;

/// A half-open time window on a column: rows with `from <= time < to`.
/// Either bound may be open. Rows whose time is missing are outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeWindow {
    /// The time column.
    pub column: String,
    /// Inclusive lower bound, microseconds since 1970-01-01 UTC.
    pub from: Option<i64>,
    /// Exclusive upper bound, microseconds since 1970-01-01 UTC.
    pub to: Option<i64>,
}

/// Parses an instant: RFC 3339 (`2024-03-01T12:00:00Z`, any offset), a
/// date-time without offset (UTC), or a date (its midnight, UTC). Returns
/// microseconds since 1970-01-01 UTC.
pub fn parse_instant(text: &str) -> Result<i64, Error> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.timestamp_micros());
    }
    for pattern in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, pattern) {
            return Ok(d.and_utc().timestamp_micros());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            .timestamp_micros());
    }
    Err(Error::Options(format!(
        "{text:?} is not a date or time (expected RFC 3339 such as 2024-03-01T00:00:00Z, or a date such as 2024-03-01)"
    )))
}

/// Formats microseconds since the epoch as RFC 3339 UTC.
pub fn format_instant(micros: i64) -> String {
    DateTime::from_timestamp_micros(micros)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| format!("{micros} µs"))
}

impl TimeWindow {
    /// A window on `column` from the optional `from` and `to` texts.
    pub fn parse(column: &str, from: Option<&str>, to: Option<&str>) -> Result<TimeWindow, Error> {
        let from = from.map(parse_instant).transpose()?;
        let to = to.map(parse_instant).transpose()?;
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            return Err(Error::Options(format!(
                "the window is empty: from {} is not before to {}",
                format_instant(f),
                format_instant(t)
            )));
        }
        Ok(TimeWindow {
            column: column.to_string(),
            from,
            to,
        })
    }

    /// Checks that `schema` has the column, of a type that holds times.
    pub fn check(&self, schema: &Schema) -> Result<(), Error> {
        let field = schema.field_with_name(&self.column).map_err(|_| {
            Error::Options(format!(
                "no time column {:?} (columns: {})",
                self.column,
                crate::column_list(schema)
            ))
        })?;
        match field.data_type() {
            DataType::Timestamp(..)
            | DataType::Date32
            | DataType::Date64
            | DataType::Utf8
            | DataType::LargeUtf8 => Ok(()),
            other => Err(Error::Options(format!(
                "time column {:?} is {other}, not a date, timestamp or text",
                self.column
            ))),
        }
    }

    /// Whether rows with times in `[min, max]` (in `unit`s since the
    /// epoch) may fall in the window: the test that skips Parquet row
    /// groups by their statistics.
    pub fn may_overlap(&self, min: i64, max: i64, unit: TimeUnit) -> bool {
        let micros = |v: i64| match unit {
            TimeUnit::Second => v.saturating_mul(1_000_000),
            TimeUnit::Millisecond => v.saturating_mul(1_000),
            TimeUnit::Microsecond => v,
            TimeUnit::Nanosecond => v.div_euclid(1_000),
        };
        let (min, max) = (micros(min), micros(max));
        self.from.is_none_or(|f| max >= f) && self.to.is_none_or(|t| min < t)
    }

    /// The rows of `batch` in the window, and how many rows had no time
    /// (missing or not parsable).
    pub fn filter(&self, batch: &RecordBatch) -> Result<(RecordBatch, usize), Error> {
        let column = batch
            .column_by_name(&self.column)
            .ok_or_else(|| Error::Options(format!("no time column {:?}", self.column)))?;
        // To UTC instants: offsets in text and time zones of timestamps
        // apply; times without either are taken as UTC.
        let micros = cast(
            column,
            &DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())),
        )
        .map_err(|e| Error::Options(format!("time column {:?}: {e}", self.column)))?;
        let micros = micros
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .expect("cast to microsecond timestamps");
        let no_time = micros.null_count();
        let keep: BooleanArray = micros
            .iter()
            .map(|t| {
                Some(t.is_some_and(|t| {
                    self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t < e)
                }))
            })
            .collect();
        let kept = filter_record_batch(batch, &keep)
            .map_err(|e| Error::Options(format!("filtering by {:?}: {e}", self.column)))?;
        Ok((kept, no_time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int64Array, StringArray};
    use std::sync::Arc;

    #[test]
    fn instants_parse_to_utc_micros() {
        assert_eq!(parse_instant("1970-01-02").unwrap(), 86_400_000_000);
        assert_eq!(parse_instant("1970-01-01T00:00:01Z").unwrap(), 1_000_000);
        assert_eq!(parse_instant("1970-01-01T01:00:00+01:00").unwrap(), 0);
        assert_eq!(parse_instant("1970-01-01 00:00:00.5").unwrap(), 500_000);
        let err = parse_instant("yesterday").unwrap_err().to_string();
        assert!(err.contains("yesterday"), "{err}");
        assert_eq!(format_instant(86_400_000_000), "1970-01-02T00:00:00Z");
    }

    #[test]
    fn window_is_half_open_and_drops_missing_times() {
        let w = TimeWindow::parse("t", Some("2024-01-02"), Some("2024-01-03")).unwrap();
        let t = StringArray::from(vec![
            Some("2024-01-01T23:59:59Z"),
            Some("2024-01-02T00:00:00Z"),
            Some("2024-01-02T23:59:59Z"),
            Some("2024-01-03T00:00:00Z"),
            None,
        ]);
        let v = Int64Array::from(vec![1, 2, 3, 4, 5]);
        let batch =
            RecordBatch::try_from_iter([("t", Arc::new(t) as _), ("v", Arc::new(v) as _)]).unwrap();
        let (kept, no_time) = w.filter(&batch).unwrap();
        let v = kept
            .column(1)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        assert_eq!(v.values(), &[2, 3]);
        assert_eq!(no_time, 1);
    }

    #[test]
    fn empty_windows_and_wrong_columns_are_errors() {
        assert!(TimeWindow::parse("t", Some("2024-01-03"), Some("2024-01-03")).is_err());
        let w = TimeWindow::parse("t", Some("2024-01-01"), None).unwrap();
        let schema = Schema::new(vec![arrow_schema::Field::new("x", DataType::Float64, true)]);
        assert!(
            w.check(&schema)
                .unwrap_err()
                .to_string()
                .contains("no time column")
        );
        let schema = Schema::new(vec![arrow_schema::Field::new("t", DataType::Float64, true)]);
        assert!(
            w.check(&schema)
                .unwrap_err()
                .to_string()
                .contains("not a date")
        );
    }

    #[test]
    fn row_group_overlap() {
        let w = TimeWindow::parse(
            "t",
            Some("1970-01-01T00:00:10Z"),
            Some("1970-01-01T00:00:20Z"),
        )
        .unwrap();
        assert!(!w.may_overlap(0, 9, TimeUnit::Second));
        assert!(w.may_overlap(0, 10, TimeUnit::Second));
        assert!(w.may_overlap(19_999, 30_000, TimeUnit::Millisecond));
        assert!(!w.may_overlap(20, 30, TimeUnit::Second));
    }
}
