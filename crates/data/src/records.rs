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
fn check(index: usize, record: &Map<String, Value>, limits: &Limits) -> Result<(), BatchError> {
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
        if let Some(v) = record.get(id) {
            if !(v.is_string() || v.is_null()) {
                return Err(record_error(
                    index,
                    format!("{id} must be a string, not {v}"),
                ));
            }
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
        check(i, r, limits)?;
    }
    Ok(records)
}

fn too_many(n: usize, limits: &Limits) -> BatchError {
    BatchError::TooLarge(format!(
        "{n} or more records, more than {} in one batch",
        limits.records
    ))
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
        let limits = Limits::default();
        for (body, format, says) in [
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
                b"\x1f\x8bnot gzip",
                BodyFormat::JsonArray,
                "the body: not valid gzip",
            ),
        ] {
            let err = parse(body, format, &limits).unwrap_err().to_string();
            assert!(err.starts_with(says), "{says:?}: {err}");
        }
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
