//! Collected records decoded straight into columns: the compactor's path
//! from a batch's body (as it was sent and checked) to the Arrow columns
//! of its Parquet part, without a map per record.
//!
//! A [`Record`] is read into a reusable scratch (each field's name and
//! value, text in one buffer); a [`ColumnsBuilder`] keeps, per column, the
//! rows that have a value. Its [`ColumnsBuilder::finish`] decides each
//! column's type from its values, as [`crate::collected`] documents:
//! `$Timestamp` a UTC timestamp, all booleans boolean, all whole numbers
//! 64-bit integers, all numbers 64-bit floats, anything else text (a
//! number or boolean among text written as JSON).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use chrono::DateTime;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::records::TIMESTAMP;

/// One value as read; text is a range of a buffer beside it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cell {
    Bool(bool),
    Int(i64),
    /// A whole number above `i64::MAX`.
    UInt(u64),
    Float(f64),
    Text(u32, u32),
}

/// A record being read: its fields' names and values, in order.
#[derive(Debug, Default)]
pub struct Record {
    fields: Vec<(Range<usize>, Option<Cell>)>,
    text: String,
}

impl Record {
    fn clear(&mut self) {
        self.fields.clear();
        self.text.clear();
    }

    fn push_text(&mut self, s: &str) -> (u32, u32) {
        let start = self.text.len();
        self.text.push_str(s);
        (start as u32, s.len() as u32)
    }

    fn name(&self, range: &Range<usize>) -> &str {
        &self.text[range.clone()]
    }

    /// The text of field `name`, if it has a text value (the last one,
    /// where a name repeats, as a JSON object keeps).
    pub fn text_of(&self, name: &str) -> Option<&str> {
        let (_, cell) = self
            .fields
            .iter()
            .rev()
            .find(|(n, _)| self.name(n) == name)?;
        match cell {
            Some(Cell::Text(s, l)) => Some(&self.text[*s as usize..(*s + *l) as usize]),
            _ => None,
        }
    }

    /// Sets field `name` to text `value` where it has no value.
    pub fn default_text(&mut self, name: &str, value: &str) {
        let present = self
            .fields
            .iter()
            .rev()
            .find(|(n, _)| self.name(n) == name)
            .is_some_and(|(_, c)| c.is_some());
        if !present {
            let (s, _) = self.push_text(name);
            let key = s as usize..s as usize + name.len();
            let (vs, vl) = self.push_text(value);
            self.fields.push((key, Some(Cell::Text(vs, vl))));
        }
    }

    /// Reads one JSON object (checked before: no nested values).
    pub fn read_json(&mut self, json: &[u8]) -> Result<(), serde_json::Error> {
        self.clear();
        let mut de = serde_json::Deserializer::from_slice(json);
        RecordSeed(self).deserialize(&mut de)?;
        de.end()
    }

    /// Reads a record from a map of values (CSV bodies, and tests).
    pub fn read_map(&mut self, record: &Map<String, Value>) {
        self.clear();
        for (k, v) in record {
            let (s, l) = self.push_text(k);
            let key = s as usize..(s + l) as usize;
            let cell = match v {
                Value::Null => None,
                Value::Bool(b) => Some(Cell::Bool(*b)),
                Value::Number(n) => Some(match (n.as_i64(), n.as_u64()) {
                    (Some(i), _) => Cell::Int(i),
                    (None, Some(u)) => Cell::UInt(u),
                    _ => Cell::Float(n.as_f64().unwrap_or(f64::NAN)),
                }),
                Value::String(t) => {
                    let (s, l) = self.push_text(t);
                    Some(Cell::Text(s, l))
                }
                // Checked batches hold no nested values; as text, as JSON.
                other => {
                    let (s, l) = self.push_text(&other.to_string());
                    Some(Cell::Text(s, l))
                }
            };
            self.fields.push((key, cell));
        }
    }
}

/// Reads a record's object into the scratch.
struct RecordSeed<'a>(&'a mut Record);

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a record (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(TextSeed(&mut *self.0))? {
            let cell = map.next_value_seed(CellSeed(&mut *self.0))?;
            self.0.fields.push((key, cell));
        }
        Ok(())
    }
}

/// A key, appended to the scratch's text.
struct TextSeed<'a>(&'a mut Record);

impl<'de> DeserializeSeed<'de> for TextSeed<'_> {
    type Value = Range<usize>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Range<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for TextSeed<'_> {
    type Value = Range<usize>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Range<usize>, E> {
        let (s, l) = self.0.push_text(v);
        Ok(s as usize..(s + l) as usize)
    }
}

/// A value, as a cell.
struct CellSeed<'a>(&'a mut Record);

impl<'de> DeserializeSeed<'de> for CellSeed<'_> {
    type Value = Option<Cell>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<Cell>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CellSeed<'_> {
    type Value = Option<Cell>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a number, string, boolean or null")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Option<Cell>, E> {
        Ok(Some(Cell::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Option<Cell>, E> {
        Ok(Some(Cell::Int(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Option<Cell>, E> {
        Ok(Some(match i64::try_from(v) {
            Ok(i) => Cell::Int(i),
            Err(_) => Cell::UInt(v),
        }))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Option<Cell>, E> {
        Ok(Some(Cell::Float(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Option<Cell>, E> {
        let (s, l) = self.0.push_text(v);
        Ok(Some(Cell::Text(s, l)))
    }

    fn visit_unit<E>(self) -> Result<Option<Cell>, E> {
        Ok(None)
    }

    fn visit_none<E>(self) -> Result<Option<Cell>, E> {
        Ok(None)
    }

    // Nested values were refused when the batch came; kept as JSON text
    // should one appear.
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<Cell>, A::Error> {
        let v = Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
        let (s, l) = self.0.push_text(&v.to_string());
        Ok(Some(Cell::Text(s, l)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<Cell>, A::Error> {
        let v = Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        let (s, l) = self.0.push_text(&v.to_string());
        Ok(Some(Cell::Text(s, l)))
    }
}

use serde::Deserialize;

/// Reads each record of a JSON array body into `record`, calling `each`.
pub fn each_in_array(
    body: &[u8],
    record: &mut Record,
    mut each: impl FnMut(&mut Record),
) -> Result<(), serde_json::Error> {
    struct Array<'a, F>(&'a mut Record, F);
    impl<'de, F: FnMut(&mut Record)> Visitor<'de> for Array<'_, F> {
        type Value = ();

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of records")
        }

        fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
            loop {
                self.0.clear();
                if seq.next_element_seed(RecordSeed(&mut *self.0))?.is_none() {
                    return Ok(());
                }
                (self.1)(self.0);
            }
        }
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    serde::Deserializer::deserialize_seq(&mut de, Array(record, &mut each))?;
    de.end()
}

/// The rows of one column that have a value.
#[derive(Debug, Default)]
struct Column {
    rows: Vec<u32>,
    cells: Vec<Cell>,
}

/// Records of one partition, column by column.
#[derive(Debug, Default)]
pub struct ColumnsBuilder {
    rows: usize,
    index: HashMap<String, usize>,
    names: Vec<String>,
    columns: Vec<Column>,
    text: String,
    /// The column of each field position of the previous record.
    last: Vec<usize>,
}

/// A column's type, from its values.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Timestamp,
    Boolean,
    Integer,
    Float,
    Text,
}

impl ColumnsBuilder {
    /// Records added.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Adds a record (a name given twice: its last value).
    pub fn push(&mut self, record: &Record) {
        let row = self.rows as u32;
        for (k, (name, cell)) in record.fields.iter().enumerate() {
            let name = record.name(name);
            // Records of a batch mostly list the same fields in the same
            // order: the previous record's column at this position is
            // checked before the name is hashed.
            let c = match self.last.get(k) {
                Some(&c) if self.names[c] == name => c,
                _ => {
                    let c = match self.index.get(name) {
                        Some(&c) => c,
                        None => {
                            self.names.push(name.to_string());
                            self.columns.push(Column::default());
                            self.index.insert(name.to_string(), self.names.len() - 1);
                            self.names.len() - 1
                        }
                    };
                    if k < self.last.len() {
                        self.last[k] = c;
                    } else {
                        self.last.push(c);
                    }
                    c
                }
            };
            // A null makes the column (all missing, it is text) but holds
            // no cell; after a value of the same name, it replaces it.
            let Some(cell) = *cell else {
                let column = &mut self.columns[c];
                if column.rows.last() == Some(&row) {
                    column.rows.pop();
                    column.cells.pop();
                }
                continue;
            };
            let cell = match cell {
                Cell::Text(s, l) => {
                    let start = self.text.len() as u32;
                    self.text
                        .push_str(&record.text[s as usize..(s + l) as usize]);
                    Cell::Text(start, l)
                }
                other => other,
            };
            let column = &mut self.columns[c];
            if column.rows.last() == Some(&row) {
                // The name again in this record: its last value counts.
                *column.cells.last_mut().expect("a cell per row") = cell;
            } else {
                column.rows.push(row);
                column.cells.push(cell);
            }
        }
        self.rows += 1;
    }

    fn text(&self, s: u32, l: u32) -> &str {
        &self.text[s as usize..(s + l) as usize]
    }

    /// The records as one record batch: `$Timestamp` first, then every
    /// other column by name.
    pub fn finish(self) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let n = self.rows;
        let mut order: Vec<usize> = (0..self.names.len())
            .filter(|&c| self.names[c] != TIMESTAMP)
            .collect();
        order.sort_by(|&a, &b| self.names[a].cmp(&self.names[b]));
        let timestamp = self.index.get(TIMESTAMP).copied();
        let empty = Column::default();
        let mut fields = Vec::with_capacity(order.len() + 1);
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(order.len() + 1);
        let all = std::iter::once((TIMESTAMP, timestamp.map_or(&empty, |c| &self.columns[c])))
            .chain(
                order
                    .iter()
                    .map(|&c| (self.names[c].as_str(), &self.columns[c])),
            );
        for (name, column) in all {
            let kind = if name == TIMESTAMP {
                Kind::Timestamp
            } else {
                let (mut bools, mut ints, mut numbers) = (true, true, true);
                for cell in &column.cells {
                    bools &= matches!(cell, Cell::Bool(_));
                    ints &= matches!(cell, Cell::Int(_));
                    numbers &= matches!(cell, Cell::Int(_) | Cell::UInt(_) | Cell::Float(_));
                }
                match (column.cells.is_empty(), bools, ints, numbers) {
                    (true, ..) => Kind::Text,
                    (_, true, ..) => Kind::Boolean,
                    (_, _, true, _) => Kind::Integer,
                    (_, _, _, true) => Kind::Float,
                    _ => Kind::Text,
                }
            };
            // Each row's cell, or none.
            let mut cells = column.rows.iter().zip(&column.cells).peekable();
            let mut at = |row: u32| -> Option<Cell> {
                match cells.peek() {
                    Some((r, c)) if **r == row => {
                        let c = **c;
                        cells.next();
                        Some(c)
                    }
                    _ => None,
                }
            };
            let (data_type, array): (DataType, ArrayRef) = match kind {
                Kind::Timestamp => {
                    let mut b = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
                    for row in 0..n as u32 {
                        b.append_option(match at(row) {
                            Some(Cell::Text(s, l)) => DateTime::parse_from_rfc3339(self.text(s, l))
                                .ok()
                                .map(|d| d.timestamp_micros()),
                            _ => None,
                        });
                    }
                    (
                        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                        Arc::new(b.finish()),
                    )
                }
                Kind::Boolean => {
                    let mut b = BooleanBuilder::with_capacity(n);
                    for row in 0..n as u32 {
                        b.append_option(match at(row) {
                            Some(Cell::Bool(v)) => Some(v),
                            _ => None,
                        });
                    }
                    (DataType::Boolean, Arc::new(b.finish()))
                }
                Kind::Integer => {
                    let mut b = Int64Builder::with_capacity(n);
                    for row in 0..n as u32 {
                        b.append_option(match at(row) {
                            Some(Cell::Int(v)) => Some(v),
                            _ => None,
                        });
                    }
                    (DataType::Int64, Arc::new(b.finish()))
                }
                Kind::Float => {
                    let mut b = Float64Builder::with_capacity(n);
                    for row in 0..n as u32 {
                        b.append_option(match at(row) {
                            Some(Cell::Int(v)) => Some(v as f64),
                            Some(Cell::UInt(v)) => Some(v as f64),
                            Some(Cell::Float(v)) => Some(v),
                            _ => None,
                        });
                    }
                    (DataType::Float64, Arc::new(b.finish()))
                }
                Kind::Text => {
                    let mut b = StringBuilder::new();
                    for row in 0..n as u32 {
                        match at(row) {
                            None => b.append_null(),
                            Some(Cell::Text(s, l)) => b.append_value(self.text(s, l)),
                            // As JSON writes them.
                            Some(Cell::Bool(v)) => b.append_value(if v { "true" } else { "false" }),
                            Some(Cell::Int(v)) => b.append_value(v.to_string()),
                            Some(Cell::UInt(v)) => b.append_value(v.to_string()),
                            Some(Cell::Float(v)) => b.append_value(
                                serde_json::Number::from_f64(v)
                                    .map_or_else(|| "null".to_string(), |x| x.to_string()),
                            ),
                        }
                    }
                    (DataType::Utf8, Arc::new(b.finish()))
                }
            };
            fields.push(Field::new(name, data_type, true));
            arrays.push(array);
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;

    /// The same records read from JSON text and from parsed maps.
    fn both(lines: &[&str]) -> (RecordBatch, RecordBatch) {
        let (mut fast, mut slow) = (ColumnsBuilder::default(), ColumnsBuilder::default());
        let mut r = Record::default();
        for line in lines {
            r.read_json(line.as_bytes()).unwrap();
            fast.push(&r);
            let map: Map<String, Value> = serde_json::from_str(line).unwrap();
            r.read_map(&map);
            slow.push(&r);
        }
        (fast.finish().unwrap(), slow.finish().unwrap())
    }

    #[test]
    fn json_text_and_parsed_maps_give_the_same_columns() {
        let lines = [
            r#"{"$Timestamp": "2024-03-01T00:00:00Z", "i": 1, "f": 3.0, "b": true, "s": "a\"b\u00e9", "mix": 1, "big": 18446744073709551615}"#,
            r#"{"$Timestamp": "2024-03-01T00:00:01.5+02:00", "i": -7, "f": 2, "b": false, "s": null, "mix": "x", "big": 1}"#,
            r#"{"i": 2, "f": 1e300, "mix": 2.5, "only": "here", "i": 3}"#,
        ];
        let (fast, slow) = both(&lines);
        assert_eq!(fast, slow);
        let schema = fast.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(
            names,
            ["$Timestamp", "b", "big", "f", "i", "mix", "only", "s"]
        );
        let kind = |n: &str| {
            fast.schema()
                .field_with_name(n)
                .unwrap()
                .data_type()
                .clone()
        };
        assert_eq!(kind("i"), DataType::Int64);
        assert_eq!(kind("f"), DataType::Float64);
        assert_eq!(kind("big"), DataType::Float64);
        assert_eq!(kind("b"), DataType::Boolean);
        assert_eq!(kind("mix"), DataType::Utf8);
        let mix = fast.column_by_name("mix").unwrap();
        let mix = mix
            .as_any()
            .downcast_ref::<arrow_array::StringArray>()
            .unwrap();
        assert_eq!(
            mix.iter().collect::<Vec<_>>(),
            [Some("1"), Some("x"), Some("2.5")],
            "numbers among text, as JSON writes them"
        );
        let (_, nulls) = both(&[r#"{"n": null, "v": 1, "v": null}"#, r#"{"v": 2}"#]);
        assert_eq!(
            nulls.schema().field_with_name("n").unwrap().data_type(),
            &DataType::Utf8
        );
        assert_eq!(
            nulls.column_by_name("n").unwrap().null_count(),
            2,
            "null only: text, all missing"
        );
        assert_eq!(
            nulls.column_by_name("v").unwrap().null_count(),
            1,
            "a later null wins"
        );
        let i = fast.column_by_name("i").unwrap();
        let i = i
            .as_any()
            .downcast_ref::<arrow_array::Int64Array>()
            .unwrap();
        assert_eq!(i.value(2), 3, "a repeated name keeps its last value");
        assert_eq!(fast.column_by_name("$Timestamp").unwrap().null_count(), 1);
    }

    #[test]
    fn an_array_body_reads_record_by_record() {
        let body = br#"[{"x": 1, "$Timestamp": "2024-03-01T00:00:00Z"}, {"x": 2.5}, {}]"#;
        let mut r = Record::default();
        let mut b = ColumnsBuilder::default();
        each_in_array(body, &mut r, |r| {
            r.default_text(TIMESTAMP, "2024-03-02T00:00:00Z");
            b.push(r);
        })
        .unwrap();
        assert_eq!(b.rows(), 3);
        let batch = b.finish().unwrap();
        let t = batch.column_by_name(TIMESTAMP).unwrap();
        assert_eq!(t.null_count(), 0, "the missing times defaulted");
        assert_eq!(
            batch.schema().field_with_name("x").unwrap().data_type(),
            &DataType::Float64
        );
        assert!(each_in_array(b"[1]", &mut r, |_| {}).is_err());
    }
}
