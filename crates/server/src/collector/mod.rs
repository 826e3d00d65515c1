//! The collector: records sent by deployed services, made durable before
//! they are acknowledged.
//!
//! `POST /api/v1/services/{service}/inputs` (or `.../predictions`, with
//! optional `?model=&version=`) takes a batch as a JSON array, NDJSON or
//! CSV (by `Content-Type`, gzip accepted), checks it whole (a bad batch is
//! refused with the first bad record's index, and nothing of it is kept),
//! gives records without `$Timestamp` the receive time, appends the batch
//! as one frame to the write-ahead log and syncs it, and only then answers
//! `201`. A batch whose `Idempotency-Key` the service has sent before is
//! not stored again: the answer is the first one's, with `200`.
//!
//! Compaction of the log into day-partitioned Parquet comes next (issue 6).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tidewatch_data::records::{self, BodyFormat, Limits, TIMESTAMP};
use tidewatch_data::wal::{Wal, WalError};

/// Bytes a segment holds before the next one starts.
const SEGMENT_BYTES: u64 = 64 << 20;

/// Which stream of a service a batch belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// The model's inputs.
    Inputs,
    /// The model's outputs.
    Predictions,
}

/// One batch as the log holds it (a frame's payload, JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// The service that sent it.
    pub service: String,
    /// Inputs or predictions.
    pub stream: Stream,
    /// The model name, if given.
    pub model: Option<String>,
    /// The model version, if given.
    pub version: Option<String>,
    /// The sender's idempotency key, if given.
    pub key: Option<String>,
    /// When it was received (RFC 3339, UTC).
    pub received_at: String,
    /// The records, each with a `$Timestamp`.
    pub records: Vec<Map<String, Value>>,
}

/// What the collector answers for an accepted batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Records stored.
    pub records: usize,
    /// When the batch was received.
    pub received_at: String,
    /// True when this is a repeat of a batch already stored (by its key).
    pub duplicate: bool,
}

/// Why the collector refused or failed a batch.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The batch is bad (400) or too large (413).
    #[error(transparent)]
    Batch(#[from] records::BatchError),
    /// The log failed: nothing was acknowledged (500).
    #[error(transparent)]
    Wal(#[from] WalError),
}

struct Inner {
    wal: Wal,
    /// Acknowledgements by (service, idempotency key).
    seen: HashMap<(String, String), Ack>,
}

/// The collector of one data directory.
#[derive(Clone)]
pub struct Collector {
    inner: Arc<Mutex<Inner>>,
    dir: PathBuf,
    /// Limits on one batch.
    pub limits: Limits,
}

impl Collector {
    /// Opens the log under `data_dir/collect/wal` (a torn last frame is cut
    /// off) and recalls the idempotency keys of every batch in it.
    pub fn open(data_dir: &Path) -> Result<Collector, WalError> {
        let dir = data_dir.join("collect").join("wal");
        let (wal, _) = Wal::open(&dir, SEGMENT_BYTES)?;
        let mut seen = HashMap::new();
        for path in wal.segments()? {
            for payload in tidewatch_data::wal::read_segment(&path)? {
                let Ok(batch) = serde_json::from_slice::<Batch>(&payload) else {
                    continue;
                };
                if let Some(key) = batch.key {
                    seen.insert(
                        (batch.service, key),
                        Ack {
                            records: batch.records.len(),
                            received_at: batch.received_at,
                            duplicate: true,
                        },
                    );
                }
            }
        }
        Ok(Collector {
            inner: Arc::new(Mutex::new(Inner { wal, seen })),
            dir,
            limits: Limits::default(),
        })
    }

    /// The log's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Checks `body` and stores it durably: when this returns `Ok`, the
    /// batch survives a crash. Blocking (it syncs a file): call it off the
    /// async threads.
    #[allow(clippy::too_many_arguments)]
    pub fn ingest(
        &self,
        service: &str,
        stream: Stream,
        model: Option<String>,
        version: Option<String>,
        key: Option<String>,
        body: &[u8],
        format: BodyFormat,
    ) -> Result<Ack, CollectError> {
        if let Some(k) = &key {
            let inner = self
                .inner
                .lock()
                .expect("the collector lock is never poisoned");
            if let Some(ack) = inner.seen.get(&(service.to_string(), k.clone())) {
                return Ok(ack.clone());
            }
        }
        let mut records = records::parse(body, format, &self.limits)?;
        let received_at = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
        for r in &mut records {
            if r.get(TIMESTAMP).is_none_or(Value::is_null) {
                r.insert(TIMESTAMP.to_string(), Value::String(received_at.clone()));
            }
        }
        let batch = Batch {
            service: service.to_string(),
            stream,
            model,
            version,
            key: key.clone(),
            received_at: received_at.clone(),
            records,
        };
        let payload = serde_json::to_vec(&batch).expect("a batch serialises");
        let ack = Ack {
            records: batch.records.len(),
            received_at,
            duplicate: false,
        };
        let mut inner = self
            .inner
            .lock()
            .expect("the collector lock is never poisoned");
        // Another request with the same key may have won meanwhile.
        if let Some(k) = &key {
            if let Some(ack) = inner.seen.get(&(service.to_string(), k.clone())) {
                return Ok(ack.clone());
            }
        }
        inner.wal.append(&[&payload])?;
        if let Some(k) = key {
            inner.seen.insert(
                (service.to_string(), k),
                Ack {
                    duplicate: true,
                    ..ack.clone()
                },
            );
        }
        Ok(ack)
    }

    /// Every batch in the log, oldest first (for compaction and tests).
    pub fn batches(&self) -> Result<Vec<Batch>, WalError> {
        // Held while reading, so no frame is half written.
        let inner = self
            .inner
            .lock()
            .expect("the collector lock is never poisoned");
        let mut out = Vec::new();
        for path in inner.wal.segments()? {
            for payload in tidewatch_data::wal::read_segment(&path)? {
                if let Ok(b) = serde_json::from_slice(&payload) {
                    out.push(b);
                }
            }
        }
        Ok(out)
    }
}
