//! The collector: records sent by deployed services, made durable before
//! they are acknowledged.
//!
//! `POST /api/v1/services/{service}/inputs` (or `.../predictions`, with
//! optional `?model=&version=`) takes a batch as a JSON array, NDJSON or
//! CSV (by `Content-Type`, gzip accepted), checks it whole (a bad batch is
//! refused with the first bad record's index, and nothing of it is kept),
//! gives records without `$Timestamp` the receive time, appends the batch
//! as one frame to the write-ahead log and syncs it, and only then answers
//! `201`. Concurrent batches share syncs (group commit): a batch waits for
//! the first sync that starts after its frame is written. A batch whose `Idempotency-Key` the service has sent before is
//! not stored again: the answer is the first one's, with `200`.
//!
//! [`Collector::compact`] moves the log into day-partitioned Parquet in the
//! reference's layout (see [`tidewatch_data::collected`]); `serve` runs it
//! every minute.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tidewatch_data::collected::Partition;
use tidewatch_data::columns::{ColumnsBuilder, Record};
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

/// What a frame says of its batch, before the body (see [`encode`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Header {
    service: String,
    stream: Stream,
    model: Option<String>,
    version: Option<String>,
    key: Option<String>,
    received_at: String,
    /// `json`, `ndjson` or `csv`.
    format: String,
    records: usize,
}

fn format_name(f: BodyFormat) -> &'static str {
    match f {
        BodyFormat::JsonArray => "json",
        BodyFormat::Ndjson => "ndjson",
        BodyFormat::Csv => "csv",
    }
}

fn format_of(name: &str) -> Option<BodyFormat> {
    match name {
        "json" => Some(BodyFormat::JsonArray),
        "ndjson" => Some(BodyFormat::Ndjson),
        "csv" => Some(BodyFormat::Csv),
        _ => None,
    }
}

/// A frame's payload: the header's length (`u32`, little-endian), the
/// header as JSON, then the body as sent (decompressed). The body is kept
/// as it came, checked but not rewritten, so a batch costs one pass.
fn encode(header: &Header, body: &[u8]) -> Vec<u8> {
    let head = serde_json::to_vec(header).expect("a header serialises");
    let mut out = Vec::with_capacity(4 + head.len() + body.len());
    out.extend_from_slice(&(head.len() as u32).to_le_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(body);
    out
}

/// A payload's header and body; `None` if it is not one [`encode`] made.
fn decode(payload: &[u8]) -> Option<(Header, &[u8])> {
    let len = u32::from_le_bytes(payload.get(..4)?.try_into().ok()?) as usize;
    let head = payload.get(4..4 + len)?;
    let header = serde_json::from_slice(head).ok()?;
    Some((header, &payload[4 + len..]))
}

/// One batch of the log, read back with its records.
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
    /// The records, each with a `$Timestamp` (the receive time where the
    /// sender gave none).
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
    /// A sync of the log failed earlier: the collector takes nothing more
    /// until it is restarted (500).
    #[error("the write-ahead log could not be synced ({0}); restart the server")]
    Failed(String),
    /// The disk holding the log has too little space left: try again later
    /// (429), once compaction or an operator has freed some.
    #[error(
        "the disk holding the collector's log has {free} bytes free, below the collector's floor of {floor}: retry later"
    )]
    DiskFull {
        /// Bytes free for this process.
        free: u64,
        /// The floor.
        floor: u64,
    },
    /// The log's backlog passed its limit: try again later (429).
    #[error("the collector's backlog is {backlog} bytes, past its limit of {limit}: retry later")]
    Busy {
        /// Bytes in the log.
        backlog: u64,
        /// The limit.
        limit: u64,
    },
}

struct Inner {
    wal: Wal,
    /// Acknowledgements by (service, idempotency key), with the ticket
    /// their batch's frame must be synced through.
    seen: HashMap<(String, String), (Ack, u64)>,
}

/// The group commit's state: how far the log is synced, whether a sync is
/// under way, and whether one failed.
#[derive(Default)]
struct Durable {
    synced: u64,
    syncing: bool,
    failed: Option<String>,
}

/// The collector of one data directory.
#[derive(Clone)]
pub struct Collector {
    inner: Arc<Mutex<Inner>>,
    durable: Arc<(Mutex<Durable>, Condvar)>,
    /// Held by the one compaction at a time.
    compacting: Arc<Mutex<()>>,
    dir: PathBuf,
    /// Limits on one batch.
    pub limits: Limits,
    /// Bytes the log may hold before batches are refused with 429 (default
    /// 8 GiB): the compaction backlog a slow or stopped compactor leaves.
    pub max_backlog_bytes: u64,
    /// Bytes that must stay free on the log's disk after a batch is
    /// written (default 100 MiB): below that, batches are refused with 429
    /// rather than filling the disk the store and compaction need too.
    pub min_free_bytes: u64,
    /// How long the idempotency keys of compacted batches are kept
    /// (default 7 days): a batch sent again later than that is stored
    /// again. Keys are pruned by [`Collector::compact`].
    pub key_retention: std::time::Duration,
    /// The failure point the process ends at (see `crash_at`).
    failpoint: Option<String>,
    counts: Arc<Mutex<std::collections::BTreeMap<String, ServiceCounts>>>,
}

/// Default [`Collector::key_retention`].
pub const KEY_RETENTION: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// Default [`Collector::min_free_bytes`].
pub const MIN_FREE_BYTES: u64 = 100 << 20;

/// Bytes free for unprivileged use on the file system holding `path`
/// (`None` where that cannot be known).
fn free_bytes(path: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        let s = rustix::fs::statvfs(path).ok()?;
        Some(s.f_bavail.saturating_mul(s.f_frsize))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// What one service sent, since the server started (for `/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ServiceCounts {
    /// Batches stored.
    pub batches: u64,
    /// Records in them.
    pub rows: u64,
    /// Their bytes, decompressed.
    pub bytes: u64,
    /// Batches sent again with a key already stored (answered, not stored).
    pub repeated: u64,
    /// Batches refused as bad or too large (400, 413).
    pub rejected: u64,
    /// Batches turned away while the backlog or the disk was full (429).
    pub throttled: u64,
}

/// Default [`Collector::max_backlog_bytes`].
pub const MAX_BACKLOG_BYTES: u64 = 8 << 30;

impl Collector {
    /// Opens the log under `data_dir/collect/wal` (a torn last frame is cut
    /// off) and recalls the idempotency keys of every batch in it.
    pub fn open(data_dir: &Path) -> Result<Collector, WalError> {
        let dir = data_dir.join("collect").join("wal");
        let (wal, _) = Wal::open(&dir, SEGMENT_BYTES)?;
        let mut seen = HashMap::new();
        for path in wal.segments()? {
            for payload in tidewatch_data::wal::read_segment(&path)? {
                let Some((header, _)) = decode(&payload) else {
                    continue;
                };
                if let Some(key) = header.key {
                    let ack = Ack {
                        records: header.records,
                        received_at: header.received_at,
                        duplicate: true,
                    };
                    // Synced on open: ticket 0.
                    seen.insert((header.service, key), (ack, 0));
                }
            }
        }
        // Keys of batches compacted already.
        let keys_dir = dir
            .parent()
            .map_or_else(|| dir.join("keys"), |p| p.join("keys"));
        if let Ok(entries) = std::fs::read_dir(&keys_dir) {
            for entry in entries.flatten() {
                if entry.path().extension().is_none_or(|e| e != "keys") {
                    continue;
                }
                let text =
                    std::fs::read_to_string(entry.path()).map_err(|source| WalError::Io {
                        path: entry.path(),
                        source,
                    })?;
                for line in text.lines() {
                    let Ok(v) = serde_json::from_str::<Value>(line) else {
                        continue;
                    };
                    let (Some(service), Some(key)) = (v["service"].as_str(), v["key"].as_str())
                    else {
                        continue;
                    };
                    let ack = Ack {
                        records: v["records"].as_u64().unwrap_or(0) as usize,
                        received_at: v["received_at"].as_str().unwrap_or_default().to_string(),
                        duplicate: true,
                    };
                    seen.insert((service.to_string(), key.to_string()), (ack, 0));
                }
            }
        }
        Ok(Collector {
            inner: Arc::new(Mutex::new(Inner { wal, seen })),
            durable: Arc::new((Mutex::new(Durable::default()), Condvar::new())),
            compacting: Arc::new(Mutex::new(())),
            dir,
            limits: Limits::default(),
            max_backlog_bytes: MAX_BACKLOG_BYTES,
            min_free_bytes: MIN_FREE_BYTES,
            key_retention: KEY_RETENTION,
            failpoint: std::env::var("TIDEWATCH_FAILPOINT").ok(),
            counts: Arc::default(),
        })
    }

    /// Stops the compaction for good at failure point `point` when it was
    /// named in `TIDEWATCH_FAILPOINT` at start: says so on stderr, then
    /// waits, so that a test can kill the process (SIGKILL) exactly there.
    /// `compact:part-written` (after the first part of a segment),
    /// `compact:parts-written` (every part, no keys yet),
    /// `compact:keys-saved` (the segment not yet removed).
    fn crash_at(&self, point: &str) {
        if self.failpoint.as_deref() == Some(point) {
            eprintln!("tidewatch: failure point {point} reached");
            loop {
                std::thread::park();
            }
        }
    }

    /// The log's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Waits until the log is synced through `ticket`. The first waiter
    /// syncs for everyone: one sync covers every frame written before it
    /// (group commit), so concurrent batches share a disk flush.
    fn wait_durable(&self, ticket: u64) -> Result<(), CollectError> {
        let (lock, cv) = &*self.durable;
        let mut d = lock.lock().expect("the collector lock is never poisoned");
        loop {
            if let Some(f) = &d.failed {
                return Err(CollectError::Failed(f.clone()));
            }
            if d.synced >= ticket {
                return Ok(());
            }
            if d.syncing {
                d = cv.wait(d).expect("the collector lock is never poisoned");
                continue;
            }
            d.syncing = true;
            drop(d);
            let handle = self
                .inner
                .lock()
                .expect("the collector lock is never poisoned")
                .wal
                .sync_handle();
            let synced = handle.and_then(|(file, through)| {
                file.sync_data()
                    .map(|()| through)
                    .map_err(|source| WalError::Io {
                        path: self.dir.clone(),
                        source,
                    })
            });
            d = lock.lock().expect("the collector lock is never poisoned");
            d.syncing = false;
            match synced {
                Ok(through) => d.synced = d.synced.max(through),
                Err(e) => d.failed = Some(e.to_string()),
            }
            cv.notify_all();
        }
    }

    /// What each service sent since this collector opened, by service.
    pub fn counts(&self) -> Vec<(String, ServiceCounts)> {
        self.counts
            .lock()
            .expect("the counts lock is never poisoned")
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// Checks `body` and stores it durably: when this returns `Ok`, the
    /// batch survives a crash. Blocking (it waits for a sync of the log):
    /// call it off the async threads.
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
        let answer = self.store_batch(service, stream, model, version, key, body, format);
        let mut counts = self
            .counts
            .lock()
            .expect("the counts lock is never poisoned");
        let c = counts.entry(service.to_string()).or_default();
        match &answer {
            Ok((ack, _)) if ack.duplicate => c.repeated += 1,
            Ok((ack, bytes)) => {
                c.batches += 1;
                c.rows += ack.records as u64;
                c.bytes += *bytes as u64;
            }
            Err(CollectError::Batch(_)) => c.rejected += 1,
            Err(CollectError::Busy { .. } | CollectError::DiskFull { .. }) => c.throttled += 1,
            Err(_) => {}
        }
        answer.map(|(ack, _)| ack)
    }

    /// [`Collector::ingest`], with the bytes stored.
    #[allow(clippy::too_many_arguments)]
    fn store_batch(
        &self,
        service: &str,
        stream: Stream,
        model: Option<String>,
        version: Option<String>,
        key: Option<String>,
        body: &[u8],
        format: BodyFormat,
    ) -> Result<(Ack, usize), CollectError> {
        let id = key.as_ref().map(|k| (service.to_string(), k.clone()));
        if let Some(id) = &id {
            let seen = {
                let inner = self
                    .inner
                    .lock()
                    .expect("the collector lock is never poisoned");
                inner.seen.get(id).cloned()
            };
            if let Some((ack, ticket)) = seen {
                // Answered only once the first copy is durable.
                self.wait_durable(ticket)?;
                return Ok((ack, 0));
            }
        }
        let checked = records::check(body, format, &self.limits)?;
        let received_at = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
        let header = Header {
            service: service.to_string(),
            stream,
            model,
            version,
            key,
            received_at: received_at.clone(),
            format: format_name(format).to_string(),
            records: checked.records,
        };
        let bytes = checked.body.len();
        let payload = encode(&header, &checked.body);
        let ack = Ack {
            records: checked.records,
            received_at,
            duplicate: false,
        };
        let ticket = {
            let failed = self
                .durable
                .0
                .lock()
                .expect("the collector lock is never poisoned")
                .failed
                .clone();
            if let Some(f) = failed {
                return Err(CollectError::Failed(f));
            }
            let mut inner = self
                .inner
                .lock()
                .expect("the collector lock is never poisoned");
            if let Some(free) = free_bytes(&self.dir)
                && free < self.min_free_bytes.saturating_add(payload.len() as u64)
            {
                return Err(CollectError::DiskFull {
                    free,
                    floor: self.min_free_bytes,
                });
            }
            let backlog = inner.wal.total_bytes();
            if backlog >= self.max_backlog_bytes {
                return Err(CollectError::Busy {
                    backlog,
                    limit: self.max_backlog_bytes,
                });
            }
            // Another request with the same key may have won meanwhile.
            if let Some((first, ticket)) = id.as_ref().and_then(|id| inner.seen.get(id)).cloned() {
                drop(inner);
                self.wait_durable(ticket)?;
                return Ok((first, 0));
            }
            let ticket = inner.wal.write(&[&payload])?;
            if let Some(id) = id {
                let repeat = Ack {
                    duplicate: true,
                    ..ack.clone()
                };
                inner.seen.insert(id, (repeat, ticket));
            }
            ticket
        };
        self.wait_durable(ticket)?;
        Ok((ack, bytes))
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
            out.extend(self.segment_batches(&path)?);
        }
        Ok(out)
    }

    /// The batches of one segment, with their records.
    fn segment_batches(&self, path: &Path) -> Result<Vec<Batch>, WalError> {
        let mut out = Vec::new();
        for payload in tidewatch_data::wal::read_segment(path)? {
            let Some((h, body)) = decode(&payload) else {
                continue;
            };
            let Some(format) = format_of(&h.format) else {
                continue;
            };
            // Checked when it came: parsing it again cannot fail.
            let Ok(mut records) = records::parse(body, format, &self.limits) else {
                continue;
            };
            for r in &mut records {
                if r.get(TIMESTAMP).is_none_or(Value::is_null) {
                    r.insert(TIMESTAMP.to_string(), Value::String(h.received_at.clone()));
                }
                if format == BodyFormat::Csv {
                    typed_csv_values(r);
                }
            }
            out.push(Batch {
                service: h.service,
                stream: h.stream,
                model: h.model,
                version: h.version,
                key: h.key,
                received_at: h.received_at,
                records,
            });
        }
        Ok(out)
    }

    /// The records of segment `path`, decoded straight into columns, one
    /// builder per partition (service, model, version, stream and the UTC
    /// day of each record's `$Timestamp`, the receive time where it has
    /// none), and the lines of its batches' idempotency keys.
    fn segment_columns(
        &self,
        path: &Path,
    ) -> Result<(Vec<(Partition, ColumnsBuilder)>, String), CompactError> {
        type Stem = (String, Option<String>, Option<String>, Stream);
        let mut by_stem: Vec<(Stem, Vec<(chrono::NaiveDate, ColumnsBuilder)>)> = Vec::new();
        let mut keys = String::new();
        let mut record = Record::default();
        let bad = |why: String| CompactError::Segment(path.to_path_buf(), why);
        for payload in tidewatch_data::wal::read_segment(path)? {
            let Some((h, body)) = decode(&payload) else {
                return Err(bad("a frame that is not a batch".into()));
            };
            let Some(format) = format_of(&h.format) else {
                return Err(bad(format!("a batch of unknown format {:?}", h.format)));
            };
            if let Some(k) = &h.key {
                let line = serde_json::json!({"service": h.service, "key": k,
                    "records": h.records, "received_at": h.received_at});
                keys.push_str(&line.to_string());
                keys.push('\n');
            }
            let stem: Stem = (h.service, h.model, h.version, h.stream);
            let days = match by_stem.iter().position(|(s, _)| *s == stem) {
                Some(k) => &mut by_stem[k].1,
                None => {
                    by_stem.push((stem, Vec::new()));
                    &mut by_stem.last_mut().expect("just pushed").1
                }
            };
            let received_at = h.received_at;
            let mut add = |r: &mut Record| {
                r.default_text(TIMESTAMP, &received_at);
                // Checked when it came: every record has a valid time.
                let Some(day) = r
                    .text_of(TIMESTAMP)
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map(|d| d.with_timezone(&Utc).date_naive())
                else {
                    return;
                };
                let columns = match days.iter().position(|(d, _)| *d == day) {
                    Some(k) => &mut days[k].1,
                    None => {
                        days.push((day, ColumnsBuilder::default()));
                        &mut days.last_mut().expect("just pushed").1
                    }
                };
                columns.push(r);
            };
            let read = |e: serde_json::Error| bad(format!("a batch read back: {e}"));
            match format {
                BodyFormat::JsonArray => {
                    tidewatch_data::columns::each_in_array(body, &mut record, &mut add)
                        .map_err(read)?;
                }
                BodyFormat::Ndjson => {
                    for line in body
                        .split(|b| *b == b'\n')
                        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
                    {
                        record.read_json(line).map_err(read)?;
                        add(&mut record);
                    }
                }
                BodyFormat::Csv => {
                    let maps = records::parse(body, format, &self.limits)
                        .map_err(|e| bad(format!("a batch read back: {e}")))?;
                    for mut m in maps {
                        typed_csv_values(&mut m);
                        record.read_map(&m);
                        add(&mut record);
                    }
                }
            }
        }
        let mut parts = Vec::new();
        for ((service, model, version, stream), days) in by_stem {
            let stream = match stream {
                Stream::Inputs => "inputs",
                Stream::Predictions => "predictions",
            };
            for (day, columns) in days {
                let partition = Partition {
                    service: service.clone(),
                    model: model.clone(),
                    version: version.clone(),
                    stream: stream.to_string(),
                    day,
                };
                parts.push((partition, columns));
            }
        }
        Ok((parts, keys))
    }

    /// Where compacted records go: `data_dir/collect/data`.
    pub fn data_root(&self) -> PathBuf {
        self.dir
            .parent()
            .map_or_else(|| self.dir.join("data"), |p| p.join("data"))
    }

    fn keys_dir(&self) -> PathBuf {
        self.dir
            .parent()
            .map_or_else(|| self.dir.join("keys"), |p| p.join("keys"))
    }

    /// Moves what the log holds into day-partitioned Parquet under
    /// [`Collector::data_root`]: every sealed segment (and the open one
    /// first, when `seal_open` and it holds frames) is written as one part
    /// per partition, named by the segment's number, then its idempotency
    /// keys are saved beside, then the segment is removed. A crash at any
    /// point redoes the segment: the same parts are written again under
    /// the same names, so nothing is lost or doubled. Blocking.
    pub fn compact(&self, seal_open: bool) -> Result<Compacted, CompactError> {
        let _one = self
            .compacting
            .lock()
            .expect("the compaction lock is never poisoned");
        let sealed = {
            let mut inner = self
                .inner
                .lock()
                .expect("the collector lock is never poisoned");
            if seal_open && inner.wal.open_segment_bytes() > 0 {
                inner.wal.rotate()?;
            }
            inner.wal.sealed()?
        };
        let mut done = Compacted::default();
        for path in sealed {
            let part = segment_number(&path).ok_or_else(|| CompactError::Name(path.clone()))?;
            let (parts, keys) = self.segment_columns(&path)?;
            let root = self.data_root();
            done.parts += parts.len();
            for (p, columns) in parts {
                done.records += columns.rows();
                let batch = columns
                    .finish()
                    .map_err(|e| CompactError::Segment(path.clone(), format!("as columns: {e}")))?;
                tidewatch_data::collected::write_batch(&root, &p, part, &batch)?;
                self.crash_at("compact:part-written");
            }
            self.crash_at("compact:parts-written");
            // The keys outlive the segment, so a retry after a restart is
            // still recognised.
            let keys_dir = self.keys_dir();
            let keys_file = keys_dir.join(format!("{part:020}.keys"));
            write_synced(&keys_dir, &keys_file, keys.as_bytes())?;
            self.crash_at("compact:keys-saved");
            self.inner
                .lock()
                .expect("the collector lock is never poisoned")
                .wal
                .remove(&path)?;
            done.segments += 1;
        }
        done.pruned_keys = self.prune_keys()?;
        Ok(done)
    }

    /// Forgets the idempotency keys of batches received more than
    /// [`Collector::key_retention`] ago: the files that hold them (by their
    /// time of writing, which is after every receipt in them) and their
    /// entries in memory. Returns the files removed.
    fn prune_keys(&self) -> Result<usize, CompactError> {
        let now = std::time::SystemTime::now();
        let Some(cutoff) = now.checked_sub(self.key_retention) else {
            return Ok(0);
        };
        let dir = self.keys_dir();
        let mut removed = 0;
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < cutoff);
            if old && path.extension().is_some_and(|e| e == "keys") {
                std::fs::remove_file(&path).map_err(|source| CompactError::Io {
                    path: path.clone(),
                    source,
                })?;
                removed += 1;
            }
        }
        // Receipt times are RFC 3339 in UTC with microseconds: they order
        // as text.
        let cutoff =
            chrono::DateTime::<Utc>::from(cutoff).to_rfc3339_opts(SecondsFormat::Micros, true);
        self.inner
            .lock()
            .expect("the collector lock is never poisoned")
            .seen
            .retain(|_, (ack, _)| ack.received_at >= cutoff);
        Ok(removed)
    }
}

/// What one compaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Compacted {
    /// Segments moved into Parquet and removed.
    pub segments: usize,
    /// Parquet parts written.
    pub parts: usize,
    /// Records written.
    pub records: usize,
    /// Files of idempotency keys older than the retention, removed.
    pub pruned_keys: usize,
}

/// Why a compaction stopped (what was done so far stays done; the rest is
/// redone next time).
#[derive(Debug, thiserror::Error)]
pub enum CompactError {
    /// Reading or removing a segment failed.
    #[error(transparent)]
    Wal(#[from] WalError),
    /// Writing a part failed.
    #[error(transparent)]
    Data(#[from] tidewatch_data::Error),
    /// Saving the keys failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A segment file whose name carries no number.
    #[error("{0}: not a segment name")]
    Name(PathBuf),
    /// A batch of a segment could not be read back (it stays in the log).
    #[error("{0}: {1}")]
    Segment(PathBuf, String),
}

/// The number in a segment's file name.
fn segment_number(path: &Path) -> Option<u64> {
    path.file_name()?
        .to_str()?
        .strip_prefix("seg-")?
        .strip_suffix(".wal")?
        .parse()
        .ok()
}

/// CSV values are text as sent: numbers and booleans become typed, so a
/// CSV and a JSON batch of the same records compact alike.
fn typed_csv_values(record: &mut Map<String, Value>) {
    for (k, v) in record.iter_mut() {
        if k.starts_with('$') {
            continue;
        }
        let Value::String(s) = v else { continue };
        let typed = match s.as_str() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            text => {
                if let Ok(i) = text.parse::<i64>() {
                    Some(Value::from(i))
                } else {
                    text.parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .and_then(serde_json::Number::from_f64)
                        .map(Value::Number)
                }
            }
        };
        if let Some(t) = typed {
            *v = t;
        }
    }
}

/// Writes `bytes` to `path` whole: a temporary file, synced, renamed, and
/// the folder synced.
fn write_synced(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), CompactError> {
    use std::io::Write;
    let io = |p: &Path| {
        let path = p.to_path_buf();
        move |source| CompactError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))
}
