//! Batches of records as a deployed service sends them to the collector:
//! a JSON array of objects, NDJSON (one object a line) or CSV with a
//! header, optionally gzip-compressed. A batch is checked whole before
//! anything of it is kept: the first bad record is named by its index
//! (0-based) with what is wrong.
//!
//! Values are scalars: numbers, strings, booleans or null (CSV values are
//! strings; the compactor infers their types). Three fields are the
//! reference system's: `$Timestamp` (RFC 3339; the receive time when
//! absent), `$CorrelationId` and `$RequestId` (strings).

use std::io::Read;

use serde_json::{Map, Value};

/// The time of a record.
pub const TIMESTAMP: &str = "$Timestamp";
/// What joins an input to its prediction.
pub const CORRELATION_ID: &str = "$CorrelationId";
/// The request a record came with.
pub const REQUEST_ID: &str = "$RequestId";

/// How a batch's body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// A JSON array of objects (`application/json`).
    JsonArray,
    /// One JSON object a line (`application/x-ndjson`, `application/jsonl`).
    Ndjson,
    /// CSV with a header row (`text/csv`).
    Csv,
}

impl BodyFormat {
    /// The format a `Content-Type` names (parameters such as `charset`
    /// ignored); `None` for any other type.
    pub fn from_content_type(content_type: &str) -> Option<BodyFormat> {
        let mime = content_type.split(';').next().unwrap_or_default().trim();
        match mime.to_ascii_lowercase().as_str() {
            "application/json" => Some(BodyFormat::JsonArray),
            "application/x-ndjson"
            | "application/ndjson"
            | "application/jsonl"
            | "application/x-jsonlines" => Some(BodyFormat::Ndjson),
            "text/csv" | "application/csv" => Some(BodyFormat::Csv),
            _ => None,
        }
    }
}

/// Limits on one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Records in a batch, at most (default 100,000).
    pub records: usize,
    /// Fields in a record, at most (default 1,000).
    pub fields: usize,
    /// Bytes of the body once decompressed, at most (default 64 MiB).
    pub decompressed_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            records: 100_000,
            fields: 1_000,
            decompressed_bytes: 64 << 20,
        }
    }
}

/// Why a batch is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The body as a whole cannot be read (bad gzip, not JSON at all,
    /// no CSV header).
    #[error("the body: {0}")]
    Body(String),
    /// One record is bad; nothing of the batch is kept.
    #[error("record {index}: {why}")]
    Record {
        /// Its 0-based position in the batch.
        index: usize,
        /// What is wrong.
        why: String,
    },
    /// The batch passes a limit.
    #[error("{0}")]
    TooLarge(String),
}

fn record_error(index: usize, why: impl Into<String>) -> BatchError {
    BatchError::Record {
        index,
        why: why.into(),
    }
}

/// Undoes gzip when the body starts with its magic bytes (whatever the
/// headers say), within the size limit.
fn decompress<'a>(
    body: &'a [u8],
    limits: &Limits,
) -> Result<std::borrow::Cow<'a, [u8]>, BatchError> {
    if !body.starts_with(&[0x1f, 0x8b]) {
        if body.len() > limits.decompressed_bytes {
            return Err(BatchError::TooLarge(format!(
                "the body is {} bytes, more than {}",
                body.len(),
                limits.decompressed_bytes
            )));
        }
        return Ok(body.into());
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(body)
        .take(limits.decompressed_bytes as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| BatchError::Body(format!("not valid gzip: {e}")))?;
    if out.len() > limits.decompressed_bytes {
        return Err(BatchError::TooLarge(format!(
            "the body is more than {} bytes decompressed",
            limits.decompressed_bytes
        )));
    }
    Ok(out.into())
}

/// Checks one record's fields: scalars only, the reference fields typed,
/// within the field limit.
fn check_record(
    index: usize,
    record: &Map<String, Value>,
    limits: &Limits,
) -> Result<(), BatchError> {
    if record.len() > limits.fields {
        return Err(record_error(
            index,
            format!("{} fields, more than {}", record.len(), limits.fields),
        ));
    }
    for (name, value) in record {
        if name.is_empty() {
            return Err(record_error(index, "a field has an empty name"));
        }
        match value {
            Value::Array(_) | Value::Object(_) => {
                return Err(record_error(
                    index,
                    format!(
                        "field {name:?} is {}: only numbers, strings, booleans and null",
                        if value.is_array() {
                            "an array"
                        } else {
                            "an object"
                        }
                    ),
                ));
            }
            Value::Number(n) if n.as_f64().is_none_or(|f| !f.is_finite()) => {
                return Err(record_error(
                    index,
                    format!("field {name:?} is not a finite number"),
                ));
            }
            _ => {}
        }
    }
    // Null, like absent: the receive time.
    if let Some(t) = record.get(TIMESTAMP).filter(|t| !t.is_null()) {
        match t.as_str() {
            Some(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => {}
            _ => {
                return Err(record_error(
                    index,
                    format!(
                        "{TIMESTAMP} must be an RFC 3339 time such as 2024-03-01T12:00:00Z, not {t}"
                    ),
                ));
            }
        }
    }
    for id in [CORRELATION_ID, REQUEST_ID] {
        if let Some(v) = record.get(id)
            && !(v.is_string() || v.is_null())
        {
            return Err(record_error(
                index,
                format!("{id} must be a string, not {v}"),
            ));
        }
    }
    Ok(())
}

/// Reads a batch: decompresses, parses, checks every record. Returns the
/// records, or why the batch is refused (naming the first bad record).
pub fn parse(
    body: &[u8],
    format: BodyFormat,
    limits: &Limits,
) -> Result<Vec<Map<String, Value>>, BatchError> {
    let body = decompress(body, limits)?;
    let records: Vec<Map<String, Value>> = match format {
        BodyFormat::JsonArray => {
            let value: Value = serde_json::from_slice(&body)
                .map_err(|e| BatchError::Body(format!("not JSON: {e}")))?;
            let Value::Array(items) = value else {
                return Err(BatchError::Body(
                    "a JSON body must be an array of objects".into(),
                ));
            };
            if items.len() > limits.records {
                return Err(too_many(items.len(), limits));
            }
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Object(m) => Ok(m),
                    other => Err(record_error(i, format!("not an object but {other}"))),
                })
                .collect::<Result<_, _>>()?
        }
        BodyFormat::Ndjson => {
            let mut out = Vec::new();
            let lines = body
                .split(|b| *b == b'\n')
                .filter(|l| !l.iter().all(u8::is_ascii_whitespace));
            for (i, line) in lines.enumerate() {
                if out.len() == limits.records {
                    return Err(too_many(out.len() + 1, limits));
                }
                match serde_json::from_slice::<Value>(line) {
                    Ok(Value::Object(m)) => out.push(m),
                    Ok(other) => return Err(record_error(i, format!("not an object but {other}"))),
                    Err(e) => return Err(record_error(i, format!("not JSON: {e}"))),
                }
            }
            out
        }
        BodyFormat::Csv => {
            let mut reader = ::csv::ReaderBuilder::new()
                .has_headers(true)
                .flexible(true)
                .from_reader(&body[..]);
            let header: Vec<String> = reader
                .headers()
                .map_err(|e| BatchError::Body(format!("the CSV header: {e}")))?
                .iter()
                .map(str::to_string)
                .collect();
            if header.is_empty() {
                return Err(BatchError::Body("a CSV body needs a header row".into()));
            }
            let mut out = Vec::new();
            for (i, row) in reader.records().enumerate() {
                if out.len() == limits.records {
                    return Err(too_many(out.len() + 1, limits));
                }
                let row = row.map_err(|e| record_error(i, format!("CSV: {e}")))?;
                if row.len() != header.len() {
                    return Err(record_error(
                        i,
                        format!("{} CSV fields, the header has {}", row.len(), header.len()),
                    ));
                }
                let m: Map<String, Value> = header
                    .iter()
                    .zip(row.iter())
                    .map(|(k, v)| {
                        let v = if v.is_empty() {
                            Value::Null
                        } else {
                            Value::String(v.to_string())
                        };
                        (k.clone(), v)
                    })
                    .collect();
                out.push(m);
            }
            out
        }
    };
    for (i, r) in records.iter().enumerate() {
        check_record(i, r, limits)?;
    }
    Ok(records)
}

fn too_many(n: usize, limits: &Limits) -> BatchError {
    BatchError::TooLarge(format!(
        "{n} or more records, more than {} in one batch",
        limits.records
    ))
}

/// A batch that passed [`check`]: its decompressed body and its size.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked<'a> {
    /// The body, decompressed.
    pub body: std::borrow::Cow<'a, [u8]>,
    /// Records in it.
    pub records: usize,
}

/// Checks a batch exactly as [`parse`] does, without building its
/// records: the collector's fast path, which stores the body as sent and
/// leaves parsing to the reader. `parse` of the returned body cannot fail.
pub fn check<'a>(
    body: &'a [u8],
    format: BodyFormat,
    limits: &Limits,
) -> Result<Checked<'a>, BatchError> {
    use serde::de::DeserializeSeed;
    let body = decompress(body, limits)?;
    let records = match format {
        BodyFormat::JsonArray => {
            let index = std::cell::Cell::new(0usize);
            let mut de = serde_json::Deserializer::from_slice(&body);
            let seed = ArraySeed {
                index: &index,
                limits,
            };
            let checked = seed.deserialize(&mut de).and_then(|n| de.end().map(|()| n));
            match checked {
                Ok(n) => n,
                // Our own rules are data errors; syntax is the body's, as
                // in parse, which reads the whole body first.
                Err(e) if e.is_data() => {
                    return Err(split_error(&e, index.get()));
                }
                Err(e) => return Err(BatchError::Body(format!("not JSON: {e}"))),
            }
        }
        BodyFormat::Ndjson => {
            let mut n = 0;
            let lines = body
                .split(|b| *b == b'\n')
                .filter(|l| !l.iter().all(u8::is_ascii_whitespace));
            for (i, line) in lines.enumerate() {
                if n == limits.records {
                    return Err(too_many(n + 1, limits));
                }
                let mut de = serde_json::Deserializer::from_slice(line);
                let checked = RecordSeed { limits }
                    .deserialize(&mut de)
                    .and_then(|()| de.end());
                if let Err(e) = checked {
                    return Err(split_error(&e, i));
                }
                n += 1;
            }
            n
        }
        // CSV holds only strings: materialising is the check.
        BodyFormat::Csv => parse(&body, format, limits)?.len(),
    };
    Ok(Checked { body, records })
}

/// A serde error of record `index` as the batch error [`parse`] gives.
fn split_error(e: &serde_json::Error, index: usize) -> BatchError {
    let text = e.to_string();
    // Our own messages are marked: "@record" for a record's rule,
    // "@large" for a limit, "@body" for the body as a whole.
    let plain = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m);
    if let Some(m) = plain.strip_prefix("@large ") {
        return BatchError::TooLarge(m.to_string());
    }
    if let Some(m) = plain.strip_prefix("@body ") {
        return BatchError::Body(m.to_string());
    }
    if let Some(m) = plain.strip_prefix("@record ") {
        return record_error(index, m);
    }
    record_error(index, format!("not JSON: {e}"))
}

struct ArraySeed<'a> {
    index: &'a std::cell::Cell<usize>,
    limits: &'a Limits,
}

impl<'de> serde::de::DeserializeSeed<'de> for ArraySeed<'_> {
    type Value = usize;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ArraySeed<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of objects")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut n = 0;
        loop {
            self.index.set(n);
            if n == self.limits.records {
                // One more element means too many.
                if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(serde::de::Error::custom(format!(
                        "@large {}",
                        too_many(n + 1, self.limits)
                    )));
                }
                return Ok(n);
            }
            match seq.next_element_seed(RecordSeed {
                limits: self.limits,
            })? {
                Some(()) => n += 1,
                None => return Ok(n),
            }
        }
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<usize, A::Error> {
        Err(serde::de::Error::custom(
            "@body a JSON body must be an array of objects",
        ))
    }
}

/// Checks one record where it lies in the body.
struct RecordSeed<'a> {
    limits: &'a Limits,
}

impl<'de> serde::de::DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for RecordSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        use serde::de::Error;
        let mut fields = 0;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            fields += 1;
            if fields > self.limits.fields {
                // Count them all, for the same message as parse's.
                let mut total = fields;
                map.next_value::<serde::de::IgnoredAny>()?;
                while map.next_key::<serde::de::IgnoredAny>()?.is_some() {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    total += 1;
                }
                return Err(A::Error::custom(format!(
                    "@record {total} fields, more than {}",
                    self.limits.fields
                )));
            }
            if key.is_empty() {
                return Err(A::Error::custom("@record a field has an empty name"));
            }
            let value = map.next_value::<Scalar>()?;
            let bad = match &value {
                Scalar::Nested(what) => Some(format!(
                    "field {key:?} is {what}: only numbers, strings, booleans and null"
                )),
                Scalar::NonFinite => Some(format!("field {key:?} is not a finite number")),
                _ => None,
            };
            if let Some(why) = bad {
                return Err(A::Error::custom(format!("@record {why}")));
            }
            match key.as_ref() {
                TIMESTAMP => match &value {
                    Scalar::Null => {}
                    Scalar::Str(t) if chrono::DateTime::parse_from_rfc3339(t).is_ok() => {}
                    other => {
                        return Err(A::Error::custom(format!(
                            "@record {TIMESTAMP} must be an RFC 3339 time such as 2024-03-01T12:00:00Z, not {}",
                            other.shown()
                        )));
                    }
                },
                CORRELATION_ID | REQUEST_ID if !matches!(value, Scalar::Null | Scalar::Str(_)) => {
                    return Err(A::Error::custom(format!(
                        "@record {key} must be a string, not {}",
                        value.shown()
                    )));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(serde::de::Error::custom(
            "@record not an object but an array",
        ))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        Err(E::custom(format!("@record not an object but {v}")))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        Err(E::custom(format!("@record not an object but {v}")))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        Err(E::custom(format!("@record not an object but {v}")))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        Err(E::custom(format!("@record not an object but {v}")))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        Err(E::custom(format!(
            "@record not an object but {}",
            Value::String(v.to_string())
        )))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Err(E::custom("@record not an object but null"))
    }
}

/// What a record's value is, as far as the check cares.
enum Scalar<'de> {
    Null,
    Bool(bool),
    Number(f64),
    NonFinite,
    Str(std::borrow::Cow<'de, str>),
    Nested(&'static str),
}

impl Scalar<'_> {
    /// As JSON, for messages.
    fn shown(&self) -> String {
        match self {
            Scalar::Null => "null".into(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Number(n) => Value::from(*n).to_string(),
            Scalar::NonFinite => "a non-finite number".into(),
            Scalar::Str(s) => Value::String(s.to_string()).to_string(),
            Scalar::Nested(what) => (*what).to_string(),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number, string, boolean or null")
            }
            fn visit_unit<E>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Number(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Number(v as f64))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar<'de>, E> {
                Ok(if v.is_finite() {
                    Scalar::Number(v)
                } else {
                    Scalar::NonFinite
                })
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(v.to_string().into()))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(v.into()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Scalar<'de>, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Scalar::Nested("an array"))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Scalar<'de>, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Scalar::Nested("an object"))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn the_three_formats_give_the_same_records() {
        let json = br#"[{"$Timestamp": "2024-03-01T12:00:00Z", "x": "1.5", "c": "a"},
                        {"x": "2", "c": null, "$CorrelationId": "r2"}]"#;
        let ndjson = b"{\"$Timestamp\": \"2024-03-01T12:00:00Z\", \"x\": \"1.5\", \"c\": \"a\"}\n\n{\"x\": \"2\", \"c\": null, \"$CorrelationId\": \"r2\"}\n";
        let csv = b"$Timestamp,x,c,$CorrelationId\n2024-03-01T12:00:00Z,1.5,a,\n,2,,r2\n";
        let limits = Limits::default();
        let a = parse(json, BodyFormat::JsonArray, &limits).unwrap();
        let b = parse(ndjson, BodyFormat::Ndjson, &limits).unwrap();
        let c = parse(csv, BodyFormat::Csv, &limits).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 2);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0]["x"], "1.5");
        assert_eq!(c[1]["c"], Value::Null);
        assert_eq!(c[1][CORRELATION_ID], "r2");
        // Gzip is undone whatever the format.
        assert_eq!(
            parse(&gzip(json), BodyFormat::JsonArray, &limits).unwrap(),
            a
        );
        assert_eq!(parse(&gzip(csv), BodyFormat::Csv, &limits).unwrap(), c);
    }

    #[test]
    fn the_first_bad_record_is_named_and_the_batch_refused() {
        let limits = Limits {
            fields: 3,
            ..Limits::default()
        };
        for (body, format, says) in [
            (
                &br#"[{"x": 1}, {"a": 1, "b": 2, "c": 3, "d": 4}]"#[..],
                BodyFormat::JsonArray,
                "record 1: 4 fields, more than 3",
            ),
            (
                &br#"[{"x": 1}, {"x": [1, 2]}]"#[..],
                BodyFormat::JsonArray,
                "record 1: field \"x\" is an array",
            ),
            (
                br#"[{"x": 1}, 7]"#,
                BodyFormat::JsonArray,
                "record 1: not an object but 7",
            ),
            (
                br#"[{"$Timestamp": "yesterday"}]"#,
                BodyFormat::JsonArray,
                "record 0: $Timestamp must be an RFC 3339 time",
            ),
            (
                br#"[{"$RequestId": 5}]"#,
                BodyFormat::JsonArray,
                "record 0: $RequestId must be a string",
            ),
            (
                b"{\"x\": 1}\n{\"x\": \n",
                BodyFormat::Ndjson,
                "record 1: not JSON",
            ),
            (
                b"a,b\n1,2\n3\n",
                BodyFormat::Csv,
                "record 1: 1 CSV fields, the header has 2",
            ),
            (
                br#"{"x": 1}"#,
                BodyFormat::JsonArray,
                "the body: a JSON body must be an array",
            ),
            (
                br#"[{"x": 1}, {"x": 2}, {"x": ]"#,
                BodyFormat::JsonArray,
                "the body: not JSON",
            ),
            (
                b"\x1f\x8bnot gzip",
                BodyFormat::JsonArray,
                "the body: not valid gzip",
            ),
        ] {
            let err = parse(body, format, &limits).unwrap_err();
            assert!(err.to_string().starts_with(says), "{says:?}: {err}");
            // The fast check refuses alike, naming the same record.
            let fast = check(body, format, &limits).unwrap_err();
            assert!(fast.to_string().starts_with(says), "{says:?}: {fast}");
            match (&err, &fast) {
                (BatchError::Record { index: a, .. }, BatchError::Record { index: b, .. }) => {
                    assert_eq!(a, b, "{says}")
                }
                (a, b) => assert_eq!(
                    std::mem::discriminant(a),
                    std::mem::discriminant(b),
                    "{says}: {a} / {b}"
                ),
            }
        }
    }

    #[test]
    fn the_fast_check_counts_what_parse_reads() {
        let limits = Limits::default();
        let json = br#"[{"$Timestamp": "2024-03-01T12:00:00Z", "x": 1.5, "c": "a"}, {"x": null, "ok": true}]"#;
        let ndjson = b"{\"x\": 1}\n\n{\"x\": \"\\u00e9\"}\n";
        let csv = b"x,c\n1,a\n2,b\n3,c\n";
        for (body, format, n) in [
            (&json[..], BodyFormat::JsonArray, 2),
            (ndjson, BodyFormat::Ndjson, 2),
            (csv, BodyFormat::Csv, 3),
        ] {
            let checked = check(body, format, &limits).unwrap();
            assert_eq!(checked.records, n);
            assert_eq!(parse(&checked.body, format, &limits).unwrap().len(), n);
        }
        let big = Limits {
            records: 1,
            ..Limits::default()
        };
        assert!(matches!(
            check(br#"[{}, {}]"#, BodyFormat::JsonArray, &big),
            Err(BatchError::TooLarge(_))
        ));
        assert!(matches!(
            check(b"{}\n{}\n", BodyFormat::Ndjson, &big),
            Err(BatchError::TooLarge(_))
        ));
        assert_eq!(
            check(b"[]", BodyFormat::JsonArray, &big).unwrap().records,
            0
        );
    }

    #[test]
    fn limits_refuse_large_batches_wide_records_and_gzip_bombs() {
        let limits = Limits {
            records: 2,
            fields: 2,
            decompressed_bytes: 1000,
        };
        let err = parse(br#"[{}, {}, {}]"#, BodyFormat::JsonArray, &limits).unwrap_err();
        assert!(matches!(err, BatchError::TooLarge(_)), "{err}");
        let err = parse(b"{}\n{}\n{}\n", BodyFormat::Ndjson, &limits).unwrap_err();
        assert!(matches!(err, BatchError::TooLarge(_)), "{err}");
        let err = parse(
            br#"[{"a": 1, "b": 2, "c": 3}]"#,
            BodyFormat::JsonArray,
            &limits,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "record 0: 3 fields, more than 2");
        let bomb = gzip(&vec![b' '; 100_000]);
        let err = parse(&bomb, BodyFormat::JsonArray, &limits).unwrap_err();
        assert!(
            err.to_string()
                .contains("more than 1000 bytes decompressed"),
            "{err}"
        );
    }

    #[test]
    fn content_types_name_formats() {
        assert_eq!(
            BodyFormat::from_content_type("application/json; charset=utf-8"),
            Some(BodyFormat::JsonArray)
        );
        assert_eq!(
            BodyFormat::from_content_type("application/x-ndjson"),
            Some(BodyFormat::Ndjson)
        );
        assert_eq!(
            BodyFormat::from_content_type("Text/CSV"),
            Some(BodyFormat::Csv)
        );
        assert_eq!(BodyFormat::from_content_type("text/plain"), None);
    }
}
