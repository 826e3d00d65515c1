//! Reading request bodies and query strings so that every mistake is named
//! with its field: a body is read as a JSON object, then each field is
//! taken with its expected type; wrong types, missing required fields and
//! unknown fields are all collected and reported at once (400).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tidewatch_store::Invalid;

use super::error::ApiError;

/// A path parameter (or a tuple of them); a value that cannot be read
/// (say, invalid UTF-8 after percent-decoding) is a JSON 400 like every
/// other error, not axum's plain-text rejection.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| ApiError::BadRequest(format!("the request path: {}", e.body_text())))
    }
}

/// A query string, as its pairs; one that cannot be read is a JSON 400.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| ApiError::BadRequest(format!("the query string: {}", e.body_text())))
    }
}

/// Largest request body read, in bytes.
pub const MAX_BODY: usize = 1 << 20;

/// A request body that is a JSON object (an empty body is `{}`).
pub struct Body(pub Fields);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::BadRequest(format!("the request body: {e}")))?;
        if bytes.len() > MAX_BODY {
            return Err(ApiError::BadRequest(format!(
                "the request body is {} bytes, more than {MAX_BODY}",
                bytes.len()
            )));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body(Fields::new(Map::new())));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(Body(Fields::new(map))),
            Ok(other) => Err(ApiError::BadRequest(format!(
                "the request body must be a JSON object, not {}",
                kind_of(&other)
            ))),
            Err(e) => Err(ApiError::BadRequest(format!(
                "the request body is not JSON: {e}"
            ))),
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The fields of a JSON object, taken one by one with their types; what
/// is wrong accumulates until [`Fields::finish`].
pub struct Fields {
    map: Map<String, Value>,
    taken: Vec<String>,
    problems: Vec<Invalid>,
}

impl Fields {
    /// The fields of `map`.
    pub fn new(map: Map<String, Value>) -> Fields {
        Fields {
            map,
            taken: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Fields from a query string's pairs (every value a string).
    pub fn from_query(pairs: Vec<(String, String)>) -> Fields {
        Fields::new(
            pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        )
    }

    /// Records a broken rule of `field`.
    pub fn invalid(&mut self, field: &str, rule: impl Into<String>) {
        self.problems.push(Invalid {
            field: field.to_string(),
            rule: rule.into(),
        });
    }

    /// The value of `name`, if present and not null.
    pub fn value(&mut self, name: &str) -> Option<Value> {
        self.taken.push(name.to_string());
        match self.map.get(name) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.clone()),
        }
    }

    fn typed<T>(&mut self, name: &str, want: &str, get: impl Fn(&Value) -> Option<T>) -> Option<T> {
        let v = self.value(name)?;
        match get(&v) {
            Some(t) => Some(t),
            None => {
                self.invalid(name, format!("must be {want}, not {}", shown(&v)));
                None
            }
        }
    }

    /// A required string.
    pub fn string(&mut self, name: &str) -> Option<String> {
        let v = self.opt_string(name);
        if v.is_none() && !self.problems.iter().any(|p| p.field == name) {
            self.invalid(name, "is required");
        }
        v
    }

    /// An optional string.
    pub fn opt_string(&mut self, name: &str) -> Option<String> {
        self.typed(name, "a string", |v| v.as_str().map(str::to_string))
    }

    /// An optional number (a numeric string too, for query strings).
    pub fn opt_f64(&mut self, name: &str) -> Option<f64> {
        self.typed(name, "a number", |v| match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
    }

    /// An optional whole number (a numeric string too).
    pub fn opt_i64(&mut self, name: &str) -> Option<i64> {
        self.typed(name, "a whole number", |v| match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
    }

    /// An optional boolean (`true`/`false` strings too).
    pub fn opt_bool(&mut self, name: &str) -> Option<bool> {
        self.typed(name, "true or false", |v| match v {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s == "true" => Some(true),
            Value::String(s) if s == "false" => Some(false),
            _ => None,
        })
    }

    /// An optional list of strings (a comma-separated string too).
    pub fn opt_strings(&mut self, name: &str) -> Option<Vec<String>> {
        self.typed(name, "a list of strings", |v| match v {
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect(),
            Value::String(s) => Some(
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            _ => None,
        })
    }

    /// An optional object of strings.
    pub fn opt_string_map(
        &mut self,
        name: &str,
    ) -> Option<std::collections::BTreeMap<String, String>> {
        self.typed(name, "an object of strings", |v| {
            v.as_object()?
                .iter()
                .map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
    }

    /// An optional object of numbers.
    pub fn opt_number_map(
        &mut self,
        name: &str,
    ) -> Option<std::collections::BTreeMap<String, f64>> {
        self.typed(name, "an object of numbers", |v| {
            v.as_object()?
                .iter()
                .map(|(k, v)| Some((k.clone(), v.as_f64()?)))
                .collect()
        })
    }

    /// Whether `name` was given (even as null).
    pub fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// The problems found so far, and fields that nothing took (unknown),
    /// as one 400; `Ok` when there are none.
    pub fn finish(mut self) -> Result<(), ApiError> {
        let unknown: Vec<String> = self
            .map
            .keys()
            .filter(|k| !self.taken.contains(k))
            .cloned()
            .collect();
        for k in unknown {
            let mut known = self.taken.clone();
            known.sort();
            known.dedup();
            self.invalid(
                &k,
                format!("is not a known field (known: {})", known.join(", ")),
            );
        }
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Invalid(self.problems))
        }
    }
}

fn shown(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(39).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(v: Value) -> Fields {
        match v {
            Value::Object(m) => Fields::new(m),
            _ => unreachable!(),
        }
    }

    #[test]
    fn every_mistake_is_named_with_its_field() {
        let mut f = fields(json!({"threshold": "high", "latency_hours": 3, "extra": 1}));
        assert_eq!(f.string("name"), None);
        assert_eq!(f.opt_f64("threshold"), None);
        assert_eq!(f.opt_i64("latency_hours"), Some(3));
        assert_eq!(f.opt_strings("features"), None);
        let ApiError::Invalid(problems) = f.finish().unwrap_err() else {
            panic!()
        };
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "name: is required",
                "threshold: must be a number, not \"high\"",
                "extra: is not a known field (known: features, latency_hours, name, threshold)"
            ]
        );
    }

    #[test]
    fn query_strings_give_numbers_lists_and_booleans() {
        let mut f = Fields::from_query(vec![
            ("n".into(), "12".into()),
            ("list".into(), "a, b,".into()),
            ("flag".into(), "true".into()),
        ]);
        assert_eq!(f.opt_i64("n"), Some(12));
        assert_eq!(f.opt_strings("list"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(f.opt_bool("flag"), Some(true));
        assert!(f.finish().is_ok());
    }
}
