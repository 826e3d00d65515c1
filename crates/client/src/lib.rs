//! A client for tidewatch's collector, for instrumenting a deployed model
//! written in Rust: records are buffered and sent in batches of
//! [`Sender::batch_size`]; a batch that fails for a reason that may pass (the
//! server unreachable, `429 Too Many Requests`, a `5xx`) is sent again with
//! exponential backoff (honouring `Retry-After`), under the same
//! `Idempotency-Key`, so the collector stores it once however often it is
//! sent. A batch the collector refuses (`400`, `401`, `403`, `413`) is an
//! error at once: sending it again would not help.
//!
//! ```no_run
//! # async fn f() -> Result<(), tidewatch_client::ClientError> {
//! use serde_json::json;
//! let mut inputs = tidewatch_client::Sender::new("http://localhost:8080", "loans-api", "TOKEN")
//!     .model("loans", "3");
//! for request in 0..10_000 {
//!     let features = json!({"car_value": 12638, "salary_range": "0 - 20K €"});
//!     inputs.record(features.as_object().unwrap().clone(), Some(format!("r{request}"))).await?;
//! }
//! inputs.flush().await?; // what is left in the buffer
//! # Ok(()) }
//! ```

use std::time::Duration;

use serde_json::{Map, Value};

/// Why a batch was not stored.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The collector refused the batch; sending it again would not help.
    #[error("the collector refused the batch ({status}): {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The collector's message (naming the first bad record, for a 400).
        message: String,
    },
    /// Every attempt failed for a reason that might have passed.
    #[error("the batch was not stored after {attempts} attempts: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// What the last one met.
        last: String,
    },
}

/// What the collector answered for a stored batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Ack {
    /// Records stored.
    pub records: u64,
    /// Whether an earlier attempt had stored it already.
    pub duplicate: bool,
    /// Attempts it took.
    pub attempts: u32,
}

/// Buffers records of one service's stream and sends them in batches.
pub struct Sender {
    http: reqwest::Client,
    url: String,
    token: String,
    buffer: Vec<Value>,
    /// Records per batch (default 1,000).
    pub batch_size: usize,
    /// Attempts per batch before [`ClientError::GaveUp`] (default 8).
    pub max_attempts: u32,
    /// The first wait between attempts (default 100 ms); it doubles each
    /// time, up to [`Sender::max_backoff`].
    pub backoff: Duration,
    /// The longest wait between attempts, `Retry-After` included (default 30 s).
    pub max_backoff: Duration,
    /// A random prefix of this sender's idempotency keys.
    key_prefix: String,
    batches: u64,
}

impl Sender {
    /// A sender of inputs to the collector at `base_url`
    /// (`http://host:port`) for `service`, with an ingest token.
    pub fn new(base_url: &str, service: &str, token: &str) -> Sender {
        let mut random = [0u8; 8];
        // Without randomness the keys of two senders could meet; the time
        // still keeps them apart in practice.
        if getrandom::fill(&mut random).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            random = nanos.to_le_bytes();
        }
        Sender {
            http: reqwest::Client::new(),
            url: format!(
                "{}/api/v1/services/{}/inputs",
                base_url.trim_end_matches('/'),
                service
            ),
            token: token.to_string(),
            buffer: Vec::new(),
            batch_size: 1000,
            max_attempts: 8,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(30),
            key_prefix: random.iter().map(|b| format!("{b:02x}")).collect(),
            batches: 0,
        }
    }

    /// Sends predictions instead of inputs.
    pub fn predictions(mut self) -> Sender {
        if let Some(base) = self.url.strip_suffix("/inputs") {
            self.url = format!("{base}/predictions");
        }
        self
    }

    /// Tags the records with the model's name and version.
    pub fn model(mut self, name: &str, version: &str) -> Sender {
        let enc = |s: &str| -> String {
            s.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect()
        };
        let base = self.url.split('?').next().unwrap_or_default().to_string();
        self.url = format!("{base}?model={}&version={}", enc(name), enc(version));
        self
    }

    /// Records that wait in the buffer.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }

    /// Adds a record (its `$Timestamp` is now unless it has one; the
    /// correlation id joins it to its prediction) and sends the buffer once
    /// it holds a batch. On an error the batch stays in the buffer, to be
    /// sent by a later [`Sender::flush`].
    pub async fn record(
        &mut self,
        mut record: Map<String, Value>,
        correlation_id: Option<String>,
    ) -> Result<Option<Ack>, ClientError> {
        if let Some(id) = correlation_id {
            record.insert("$CorrelationId".into(), Value::String(id));
        }
        self.buffer.push(Value::Object(record));
        if self.buffer.len() >= self.batch_size.max(1) {
            return self.flush().await;
        }
        Ok(None)
    }

    /// Sends what the buffer holds as one batch, retrying as the module
    /// says; `None` if it was empty.
    pub async fn flush(&mut self) -> Result<Option<Ack>, ClientError> {
        if self.buffer.is_empty() {
            return Ok(None);
        }
        let key = format!("{}-{}", self.key_prefix, self.batches);
        let body = Value::Array(std::mem::take(&mut self.buffer)).to_string();
        match self.send(&key, body.clone()).await {
            Ok(ack) => {
                self.batches += 1;
                Ok(Some(ack))
            }
            Err(e) => {
                // Kept, with its key, for the next flush.
                if let Ok(Value::Array(records)) = serde_json::from_str(&body) {
                    self.buffer = records;
                }
                Err(e)
            }
        }
    }

    async fn send(&self, key: &str, body: String) -> Result<Ack, ClientError> {
        let mut wait = self.backoff;
        let mut last = String::new();
        for attempt in 1..=self.max_attempts.max(1) {
            let sent = self
                .http
                .post(&self.url)
                .bearer_auth(&self.token)
                .header("content-type", "application/json")
                .header("idempotency-key", key)
                .body(body.clone())
                .send()
                .await;
            let mut retry_after = None;
            match sent {
                Ok(r) if r.status().is_success() => {
                    let v: Value = r.json().await.unwrap_or(Value::Null);
                    return Ok(Ack {
                        records: v["records"].as_u64().unwrap_or(0),
                        duplicate: v["duplicate"].as_bool().unwrap_or(false),
                        attempts: attempt,
                    });
                }
                Ok(r) => {
                    let status = r.status().as_u16();
                    retry_after = r
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let v: Value = r.json().await.unwrap_or(Value::Null);
                    let message = v["error"]["message"]
                        .as_str()
                        .unwrap_or("no message")
                        .to_string();
                    if status != 429 && status < 500 {
                        return Err(ClientError::Refused { status, message });
                    }
                    last = format!("{status}: {message}");
                }
                Err(e) => last = e.to_string(),
            }
            if attempt < self.max_attempts {
                let pause = retry_after.unwrap_or(wait).min(self.max_backoff);
                tokio::time::sleep(pause).await;
                wait = (wait * 2).min(self.max_backoff);
            }
        }
        Err(ClientError::GaveUp {
            attempts: self.max_attempts.max(1),
            last,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_stream_model_and_version() {
        let s = Sender::new("http://h:1/", "loans-api", "t").model("loans v2", "3");
        assert_eq!(
            s.url,
            "http://h:1/api/v1/services/loans-api/inputs?model=loans%20v2&version=3"
        );
        let p = Sender::new("http://h:1", "svc", "t")
            .predictions()
            .model("m", "1");
        assert_eq!(
            p.url,
            "http://h:1/api/v1/services/svc/predictions?model=m&version=1"
        );
        let (a, b) = (Sender::new("x", "s", "t"), Sender::new("x", "s", "t"));
        assert_ne!(a.key_prefix, b.key_prefix, "senders' keys do not meet");
    }

    #[tokio::test]
    async fn nothing_to_send_is_no_request_and_an_unreachable_server_keeps_the_batch() {
        // Port 9 (discard) on loopback: nothing listens there.
        let mut s = Sender::new("http://127.0.0.1:9", "svc", "t");
        s.max_attempts = 2;
        s.backoff = Duration::from_millis(1);
        assert!(s.flush().await.unwrap().is_none());
        s.record(Map::new(), Some("c1".into())).await.unwrap();
        let err = s.flush().await.unwrap_err();
        assert!(
            matches!(err, ClientError::GaveUp { attempts: 2, .. }),
            "{err}"
        );
        assert_eq!(s.pending(), 1, "the batch waits for the next flush");
    }
}
