//! The embedded store: one SQLite file in a data directory, created on
//! first use, its schema migrated on open. Datasets and monitors live here
//! (baselines, runs and results follow); every change of a monitor is
//! written to the audit log in the same transaction.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use tidewatch_core::{BaselineProfile, DriftReport};

use crate::monitor::{Invalid, MonitorSpec};
use crate::window::Window;

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "tidewatch.db";

/// The schema's migrations, in order: version `i + 1` is `MIGRATIONS[i]`.
/// A migration, once released, never changes; new ones are appended.
const MIGRATIONS: [&str; 6] = [
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_schedule_metrics.sql"),
    include_str!("../migrations/0003_ingest_tokens.sql"),
    include_str!("../migrations/0004_models_services.sql"),
    include_str!("../migrations/0005_notifications.sql"),
    include_str!("../migrations/0006_result_columns.sql"),
];

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed (I/O, corruption, a constraint not checked
    /// earlier).
    #[error("the store at {path}: {source}")]
    Database {
        /// The database file.
        path: PathBuf,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// The data directory cannot be created or read.
    #[error("the data directory {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The database is of a newer tidewatch.
    #[error(
        "the store at {path} has schema version {found}; this tidewatch knows up to {known}: upgrade tidewatch"
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// A request breaks rules (each named with its field).
    #[error("invalid: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Invalid>),
    /// No such entity.
    #[error("no {entity} named {name:?}")]
    NotFound {
        /// `dataset`, `monitor`, ...
        entity: &'static str,
        /// The name asked for.
        name: String,
    },
    /// The name is taken.
    #[error("a {entity} named {name:?} exists already")]
    Exists {
        /// `dataset`, `monitor`, ...
        entity: &'static str,
        /// The name.
        name: String,
    },
    /// The monitor was deleted: nothing more can be done with it.
    #[error("monitor {0:?} is deleted")]
    Deleted(String),
    /// A stored baseline file is missing, corrupt or unreadable.
    #[error("baseline {name} version {version} ({path}): {detail}")]
    BaselineFile {
        /// The baseline.
        name: String,
        /// Its version.
        version: i64,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A field that is fixed at creation was changed.
    #[error("{field} of monitor {name:?} is fixed at creation")]
    Fixed {
        /// The monitor.
        name: String,
        /// The field.
        field: &'static str,
    },
}

/// A named source of data: what to read and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Unique name (the monitor-name rule).
    pub name: String,
    /// A path, a glob or an object-store URL.
    pub input: String,
    /// `csv`, `parquet` or `ndjson`; `None`: from the file names.
    pub format: Option<String>,
    /// The time column windows cut on (required of a monitor's target).
    pub time_column: Option<String>,
    /// Further read options, as JSON.
    pub options: serde_json::Value,
}

/// A stored baseline: a profile fitted from a dataset, versioned and
/// immutable. The profile itself is a file in the data directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineRecord {
    /// Its name (the monitor-name rule); versions share it.
    pub name: String,
    /// 1 for the first profile of this name, then 2, 3, ...
    pub version: i64,
    /// The dataset it was fitted from.
    pub dataset: String,
    /// The profile file, relative to the data directory.
    pub file: String,
    /// FNV-1a of the file's bytes, hex (checked on every load).
    pub checksum: String,
    /// Rows profiled.
    pub rows: i64,
    /// The window profiled, if any (RFC 3339).
    pub window: (Option<String>, Option<String>),
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// Why a run exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    /// Asked for one date, possibly with overrides.
    Adhoc,
    /// Started by the scheduler when its window completed (once a window).
    Scheduled,
    /// One window of a backfill range.
    Backfill,
}

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// Waiting for a worker.
    Queued,
    /// Being computed.
    Running,
    /// Done, with results.
    Succeeded,
    /// Done, with the error that stopped it.
    Failed,
    /// Stopped on request.
    Cancelled,
}

macro_rules! text_enum {
    ($t:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $t {
            /// The stored text.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
            fn from_text(s: &str) -> Self {
                match s { $($s => Self::$v,)* _ => unreachable!("the schema's CHECK allows only these") }
            }
        }
    };
}
text_enum!(RunKind { Adhoc => "adhoc", Scheduled => "scheduled", Backfill => "backfill" });
text_enum!(RunState {
    Queued => "queued",
    Running => "running",
    Succeeded => "succeeded",
    Failed => "failed",
    Cancelled => "cancelled",
});

/// A run: one window of one monitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Its id.
    pub id: i64,
    /// The monitor's name.
    pub monitor: String,
    /// Why it exists.
    pub kind: RunKind,
    /// Where it is.
    pub state: RunState,
    /// The window compared.
    pub window: Window,
    /// Feature and threshold overrides (adhoc runs), JSON.
    pub overrides: serde_json::Value,
    /// Why it failed.
    pub error: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When a worker took it (the last time, if it was re-queued).
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// The service whose collected inputs it compares (monitors made from
    /// a model); `None`: the monitor's target dataset.
    #[serde(default)]
    pub service: Option<String>,
}

/// A succeeded run's results: the dataset-level figures and the whole
/// report (every metric of every feature, contributions, histograms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// The run.
    pub run: Run,
    /// The drift coefficient (null when the classifier could not run).
    pub drift_coefficient: Option<f64>,
    /// The monitor's threshold when it ran.
    pub threshold: f64,
    /// coefficient > threshold.
    pub has_drift: Option<bool>,
    /// The dataset-level figures and every feature's metrics, JSON (see
    /// [`crate::metrics::window_metrics`]); the whole report is
    /// [`Store::run_report`].
    pub metrics: serde_json::Value,
}

/// A monitor's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MonitorState {
    /// Scheduled.
    Enabled,
    /// Kept, not scheduled.
    Disabled,
    /// Gone: every operation on it fails.
    Deleted,
}

impl MonitorState {
    fn as_str(self) -> &'static str {
        match self {
            MonitorState::Enabled => "enabled",
            MonitorState::Disabled => "disabled",
            MonitorState::Deleted => "deleted",
        }
    }

    fn parse(s: &str) -> MonitorState {
        match s {
            "enabled" => MonitorState::Enabled,
            "disabled" => MonitorState::Disabled,
            _ => MonitorState::Deleted,
        }
    }
}

/// A stored monitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Monitor {
    /// Its definition.
    pub spec: MonitorSpec,
    /// Its state.
    pub state: MonitorState,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Start of the first window the scheduler runs: the newest complete
    /// window when the monitor was created or last enabled (earlier
    /// windows are backfill's). `None` until it is first enabled.
    pub schedule_from: Option<DateTime<Utc>>,
}

/// One audit-log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (a token's name), if known.
    pub actor: Option<String>,
    /// What kind of entity.
    pub entity: String,
    /// What was done: `create`, `update`, `enable`, `disable`, `delete`.
    pub action: String,
    /// The change, as JSON.
    pub detail: serde_json::Value,
}

/// The store of one data directory.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: SqlitePool,
    dir: PathBuf,
}

pub(crate) fn now_text() -> String {
    time_text(Utc::now())
}

/// Times as stored: RFC 3339, UTC, microseconds (so text order is time
/// order).
pub(crate) fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A query of runs (`runs r` joined to their monitor `m`) ending in
/// `$tail`, as one static string.
macro_rules! select_runs {
    ($tail:literal) => {
        concat!(
            "SELECT r.id, m.name AS monitor, r.kind, r.state, r.window_start, r.window_end, ",
            "r.overrides, r.error, r.created_at, r.started_at, r.finished_at, r.service ",
            "FROM runs r JOIN monitors m ON m.id = r.monitor_id ",
            $tail
        )
    };
}

/// A query of succeeded runs with their results: the run columns, the
/// result columns, `$extra` columns, then `$tail`.
macro_rules! select_results {
    ($extra:literal, $tail:literal) => {
        concat!(
            "SELECT r.id, m.name AS monitor, r.kind, r.state, r.window_start, r.window_end, ",
            "r.overrides, r.error, r.created_at, r.started_at, r.finished_at, r.service, ",
            "x.drift_coefficient, x.threshold, x.has_drift, x.metrics",
            $extra,
            " FROM runs r JOIN monitors m ON m.id = r.monitor_id ",
            "JOIN run_results x ON x.run_id = r.id ",
            $tail
        )
    };
}

fn result_of(row: &sqlx::sqlite::SqliteRow) -> RunResult {
    RunResult {
        run: run_of(row),
        drift_coefficient: row.get("drift_coefficient"),
        threshold: row.get("threshold"),
        has_drift: row.get("has_drift"),
        metrics: serde_json::from_str(row.get("metrics")).unwrap_or_default(),
    }
}

pub(crate) fn run_of(row: &sqlx::sqlite::SqliteRow) -> Run {
    Run {
        id: row.get("id"),
        monitor: row.get("monitor"),
        kind: RunKind::from_text(row.get("kind")),
        state: RunState::from_text(row.get("state")),
        window: Window {
            start: parse_time(row.get("window_start")),
            end: parse_time(row.get("window_end")),
        },
        overrides: serde_json::from_str(row.get("overrides")).unwrap_or_default(),
        error: row.get("error"),
        created_at: parse_time(row.get("created_at")),
        started_at: row
            .get::<Option<String>, _>("started_at")
            .map(|t| parse_time(&t)),
        finished_at: row
            .get::<Option<String>, _>("finished_at")
            .map(|t| parse_time(&t)),
        service: row.get("service"),
    }
}

pub(crate) fn parse_time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

impl Store {
    /// Opens the store in `dir`, creating the directory and the database
    /// on first use and applying the migrations it lacks.
    pub async fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let file = dir.join(DATABASE_FILE);
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|source| StoreError::Database {
                path: file.clone(),
                source,
            })?
            .filename(&file)
            .create_if_missing(true)
            .foreign_keys(true)
            // Write-ahead log, synced at every commit: what the store
            // acknowledged survives a crash.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Database {
                path: file.clone(),
                source,
            })?;
        let store = Store {
            pool,
            dir: dir.to_path_buf(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn db(&self, source: sqlx::Error) -> StoreError {
        StoreError::Database {
            path: self.dir.join(DATABASE_FILE),
            source,
        }
    }

    /// The schema version (SQLite's `user_version`).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.db(e))
    }

    /// Applies the migrations after the database's version, each in one
    /// transaction with its version bump.
    async fn migrate(&self) -> Result<(), StoreError> {
        let known = MIGRATIONS.len() as i64;
        let found = self.schema_version().await?;
        if found > known {
            return Err(StoreError::NewerSchema {
                path: self.dir.join(DATABASE_FILE),
                found,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let mut tx = self.pool.begin().await.map_err(|e| self.db(e))?;
            sqlx::raw_sql(*sql)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.db(e))?;
            // PRAGMA takes no parameters; the version is a number we made.
            let bump = format!("PRAGMA user_version = {}", i + 1);
            sqlx::raw_sql(sqlx::AssertSqlSafe(bump))
                .execute(&mut *tx)
                .await
                .map_err(|e| self.db(e))?;
            tx.commit().await.map_err(|e| self.db(e))?;
        }
        Ok(())
    }

    /// Adds a dataset.
    pub async fn create_dataset(&self, d: &Dataset) -> Result<(), StoreError> {
        let mut problems = Vec::new();
        if let Err(rule) = crate::monitor::check_name(&d.name) {
            problems.push(Invalid {
                field: "name".into(),
                rule,
            });
        }
        if d.input.trim().is_empty() {
            problems.push(Invalid {
                field: "input".into(),
                rule: "must name a file, directory, glob or URL".into(),
            });
        }
        if let Some(f) = &d.format
            && !["csv", "parquet", "ndjson"].contains(&f.as_str())
        {
            problems.push(Invalid {
                field: "format".into(),
                rule: format!("must be csv, parquet or ndjson, not {f:?}"),
            });
        }
        if !problems.is_empty() {
            return Err(StoreError::Invalid(problems));
        }
        let result = sqlx::query(
            "INSERT INTO datasets (name, input, format, time_column, options, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&d.name)
        .bind(&d.input)
        .bind(&d.format)
        .bind(&d.time_column)
        .bind(d.options.to_string())
        .bind(now_text())
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Exists {
                entity: "dataset",
                name: d.name.clone(),
            }),
            Err(e) => Err(self.db(e)),
        }
    }

    /// The dataset named `name`.
    pub async fn dataset(&self, name: &str) -> Result<Dataset, StoreError> {
        let row = sqlx::query(
            "SELECT name, input, format, time_column, options FROM datasets WHERE name = ?",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db(e))?
        .ok_or_else(|| StoreError::NotFound {
            entity: "dataset",
            name: name.to_string(),
        })?;
        Ok(dataset_of(&row))
    }

    /// Every dataset, by name.
    pub async fn datasets(&self) -> Result<Vec<Dataset>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, input, format, time_column, options FROM datasets ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(dataset_of).collect())
    }

    /// Stores `profile` as the next version of baseline `name`, fitted from
    /// `dataset`: the file is written and synced first, then recorded, so
    /// a record never names a missing file.
    pub async fn create_baseline(
        &self,
        name: &str,
        dataset: &str,
        profile: &BaselineProfile,
    ) -> Result<BaselineRecord, StoreError> {
        if let Err(rule) = crate::monitor::check_name(name) {
            return Err(StoreError::Invalid(vec![Invalid {
                field: "name".into(),
                rule,
            }]));
        }
        let dataset_id: i64 = sqlx::query_scalar("SELECT id FROM datasets WHERE name = ?")
            .bind(dataset)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.db(e))?
            .ok_or_else(|| StoreError::NotFound {
                entity: "dataset",
                name: dataset.to_string(),
            })?;
        let bytes = profile.to_bytes().map_err(|e| {
            StoreError::Invalid(vec![Invalid {
                field: "profile".into(),
                rule: e.to_string(),
            }])
        })?;
        let mut tx = self.pool.begin().await.map_err(|e| self.db(e))?;
        let version: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM baselines WHERE name = ?",
        )
        .bind(name)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| self.db(e))?;
        let file = format!("baselines/{name}-v{version}.baseline");
        let path = self.dir.join(&file);
        write_synced(&path, &bytes).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        let source = profile.source.as_ref();
        let window = (
            source.and_then(|s| s.from.clone()),
            source.and_then(|s| s.to.clone()),
        );
        let checksum = format!("{:016x}", tidewatch_core::profile::checksum(&bytes));
        let inserted = sqlx::query(
            "INSERT INTO baselines (name, version, dataset_id, file, checksum, rows, \
             window_from, window_to, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(name)
        .bind(version)
        .bind(dataset_id)
        .bind(&file)
        .bind(&checksum)
        .bind(profile.rows as i64)
        .bind(&window.0)
        .bind(&window.1)
        .bind(now_text())
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            let _ = std::fs::remove_file(&path);
            return Err(if is_unique_violation(&e) {
                StoreError::Exists {
                    entity: "baseline version",
                    name: format!("{name} v{version}"),
                }
            } else {
                self.db(e)
            });
        }
        tx.commit().await.map_err(|e| self.db(e))?;
        self.baseline(name, Some(version)).await
    }

    /// Baseline `name` at `version` (the newest when `None`).
    pub async fn baseline(
        &self,
        name: &str,
        version: Option<i64>,
    ) -> Result<BaselineRecord, StoreError> {
        let row = sqlx::query(
            "SELECT b.name, b.version, d.name AS dataset, b.file, b.checksum, b.rows, \
             b.window_from, b.window_to, b.created_at FROM baselines b \
             JOIN datasets d ON d.id = b.dataset_id \
             WHERE b.name = ? AND (? IS NULL OR b.version = ?) ORDER BY b.version DESC LIMIT 1",
        )
        .bind(name)
        .bind(version)
        .bind(version)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db(e))?
        .ok_or_else(|| StoreError::NotFound {
            entity: "baseline",
            name: match version {
                Some(v) => format!("{name} v{v}"),
                None => name.to_string(),
            },
        })?;
        Ok(baseline_of(&row))
    }

    /// Every version of every baseline, by name then version.
    pub async fn baselines(&self) -> Result<Vec<BaselineRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT b.name, b.version, d.name AS dataset, b.file, b.checksum, b.rows, \
             b.window_from, b.window_to, b.created_at FROM baselines b \
             JOIN datasets d ON d.id = b.dataset_id ORDER BY b.name, b.version",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(baseline_of).collect())
    }

    /// The profile a record names, its file checked against the record.
    pub fn load_baseline(&self, record: &BaselineRecord) -> Result<BaselineProfile, StoreError> {
        let path = self.dir.join(&record.file);
        let bad = |detail: String| StoreError::BaselineFile {
            name: record.name.clone(),
            version: record.version,
            path: path.clone(),
            detail,
        };
        let bytes = std::fs::read(&path).map_err(|e| bad(e.to_string()))?;
        let sum = format!("{:016x}", tidewatch_core::profile::checksum(&bytes));
        if sum != record.checksum {
            return Err(bad(format!(
                "the file changed since it was stored (checksum {sum}, recorded {})",
                record.checksum
            )));
        }
        BaselineProfile::from_bytes(&bytes).map_err(|e| bad(e.to_string()))
    }

    /// Queues a run of monitor `name` over `window`. A scheduled run of a
    /// window that already has one is not queued again: `None`.
    pub async fn queue_run(
        &self,
        name: &str,
        kind: RunKind,
        window: Window,
        overrides: serde_json::Value,
    ) -> Result<Option<Run>, StoreError> {
        Ok(self
            .queue_runs(name, kind, &[window], &overrides)
            .await?
            .into_iter()
            .next())
    }

    /// Run `id`.
    pub async fn run(&self, id: i64) -> Result<Run, StoreError> {
        let row = sqlx::query(select_runs!("WHERE r.id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.db(e))?
            .ok_or_else(|| StoreError::NotFound {
                entity: "run",
                name: id.to_string(),
            })?;
        Ok(run_of(&row))
    }

    /// The runs of monitor `name`, by window then id.
    pub async fn runs(&self, name: &str) -> Result<Vec<Run>, StoreError> {
        let rows = sqlx::query(select_runs!(
            "WHERE m.name = ? ORDER BY r.window_start, r.id"
        ))
        .bind(name)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(run_of).collect())
    }

    /// Takes the oldest queued run and marks it running, atomically (two
    /// workers never take one run).
    pub async fn claim_run(&self) -> Result<Option<Run>, StoreError> {
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE runs SET state = 'running', started_at = ? WHERE id = \
             (SELECT id FROM runs WHERE state = 'queued' ORDER BY id LIMIT 1) RETURNING id",
        )
        .bind(now_text())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        match id {
            Some(id) => Ok(Some(self.run(id).await?)),
            None => Ok(None),
        }
    }

    /// Takes queued run `id` and marks it running, atomically; `None` when
    /// it is not queued (taken by another worker, cancelled, finished).
    pub async fn claim_run_id(&self, id: i64) -> Result<Option<Run>, StoreError> {
        let claimed: Option<i64> = sqlx::query_scalar(
            "UPDATE runs SET state = 'running', started_at = ? WHERE id = ? AND state = 'queued' \
             RETURNING id",
        )
        .bind(now_text())
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        match claimed {
            Some(id) => Ok(Some(self.run(id).await?)),
            None => Ok(None),
        }
    }

    /// Ends a running run: succeeded, or failed with `error`. A run
    /// cancelled meanwhile stays cancelled.
    pub async fn finish_run(&self, id: i64, error: Option<&str>) -> Result<Run, StoreError> {
        let state = if error.is_some() {
            RunState::Failed
        } else {
            RunState::Succeeded
        };
        sqlx::query(
            "UPDATE runs SET state = ?, error = ?, finished_at = ? WHERE id = ? AND state = 'running'",
        )
        .bind(state.as_str())
        .bind(error)
        .bind(now_text())
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        self.run(id).await
    }

    /// Ends a running run as succeeded with its `report`, in one
    /// transaction: a run is never succeeded without results. A run
    /// cancelled meanwhile stays cancelled and its report is dropped.
    pub async fn complete_run(
        &self,
        id: i64,
        report: &DriftReport,
        threshold: f64,
    ) -> Result<Run, StoreError> {
        let json = serde_json::to_string(report).expect("a report serialises");
        let metrics = crate::metrics::window_metrics(report);
        let mut tx = self.pool.begin().await.map_err(|e| self.db(e))?;
        let done = sqlx::query(
            "UPDATE runs SET state = 'succeeded', finished_at = ? WHERE id = ? AND state = 'running'",
        )
        .bind(now_text())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.db(e))?;
        if done.rows_affected() == 1 {
            sqlx::query(
                "INSERT INTO run_results (run_id, drift_coefficient, threshold, has_drift, \
                 dataset, metrics, report) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(report.drift_coefficient)
            .bind(threshold)
            .bind(report.drift_coefficient.map(|c| c > threshold))
            .bind(metrics["dataset"].to_string())
            .bind(metrics.to_string())
            .bind(json)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.db(e))?;
            if let Some(features) = metrics["features"].as_object() {
                for (name, f) in features {
                    sqlx::query(
                        "INSERT INTO feature_results (run_id, feature, contribution, \
                         drift_detected, metrics) VALUES (?, ?, ?, ?, ?)",
                    )
                    .bind(id)
                    .bind(name)
                    .bind(f["contribution"].as_f64())
                    .bind(f["drift_detected"].as_bool())
                    .bind(f.to_string())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.db(e))?;
                }
            }
            if report.drift_coefficient.is_some_and(|c| c > threshold) {
                crate::alerts::queue_notifications(&mut tx, id, report, threshold)
                    .await
                    .map_err(|e| self.db(e))?;
            }
        }
        tx.commit().await.map_err(|e| self.db(e))?;
        self.run(id).await
    }

    /// The results of monitor `name` for the windows overlapping
    /// `[from, to)` (the reference's get_output): by default only scheduled
    /// and backfill runs count (`include_adhoc` adds adhoc ones), and each
    /// window shows its newest succeeded run (for each service, when the
    /// monitor compares services). In window order, then by service.
    pub async fn results(
        &self,
        name: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        include_adhoc: bool,
    ) -> Result<Vec<RunResult>, StoreError> {
        self.monitor(name).await?;
        // The newest run of each window picked first, so that only their
        // metrics are read.
        let rows = sqlx::query(concat!(
            newest_per_window!(),
            select_results!(
                "",
                "WHERE r.id IN (SELECT id FROM newest) ORDER BY r.window_start, r.service"
            )
        ))
        .bind(name)
        .bind(time_text(to))
        .bind(time_text(from))
        .bind(include_adhoc)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(result_of).collect())
    }

    /// The results of run `id` (any kind), if it succeeded.
    pub async fn run_result(&self, id: i64) -> Result<RunResult, StoreError> {
        let row = sqlx::query(select_results!("", "WHERE r.id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.db(e))?
            .ok_or_else(|| StoreError::NotFound {
                entity: "result of run",
                name: id.to_string(),
            })?;
        Ok(result_of(&row))
    }

    /// The whole drift report of run `id`, if it succeeded: every metric,
    /// summary, histogram and density.
    pub async fn run_report(&self, id: i64) -> Result<serde_json::Value, StoreError> {
        let text: String = sqlx::query_scalar("SELECT report FROM run_results WHERE run_id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.db(e))?
            .ok_or_else(|| StoreError::NotFound {
                entity: "report of run",
                name: id.to_string(),
            })?;
        Ok(serde_json::from_str(&text).unwrap_or_default())
    }

    /// Cancels a queued or running run; a finished one is left as it is
    /// and said so.
    pub async fn cancel_run(&self, id: i64) -> Result<Run, StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET state = 'cancelled', finished_at = ? \
             WHERE id = ? AND state IN ('queued', 'running')",
        )
        .bind(now_text())
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        let run = self.run(id).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Invalid(vec![Invalid {
                field: "run".into(),
                rule: format!(
                    "run {id} is {} and can no longer be cancelled",
                    run.state.as_str()
                ),
            }]));
        }
        Ok(run)
    }

    /// Puts back in the queue every run left running by a process that
    /// died (called on start); returns how many.
    pub async fn requeue_interrupted(&self) -> Result<u64, StoreError> {
        let r = sqlx::query(
            "UPDATE runs SET state = 'queued', started_at = NULL WHERE state = 'running'",
        )
        .execute(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(r.rows_affected())
    }

    /// Adds a monitor (enabled or disabled as its spec says), audited.
    pub async fn create_monitor(
        &self,
        spec: &MonitorSpec,
        actor: Option<&str>,
    ) -> Result<Monitor, StoreError> {
        let problems = spec.problems();
        if !problems.is_empty() {
            return Err(StoreError::Invalid(problems));
        }
        let state = if spec.enabled {
            MonitorState::Enabled
        } else {
            MonitorState::Disabled
        };
        let now = now_text();
        let json = serde_json::to_string(spec).expect("a spec serialises");
        let mut tx = self.pool.begin().await.map_err(|e| self.db(e))?;
        let schedule_from = spec.enabled.then(|| schedule_start(spec));
        let inserted = sqlx::query(
            "INSERT INTO monitors (name, spec, state, created_at, updated_at, schedule_from) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&spec.name)
        .bind(&json)
        .bind(state.as_str())
        .bind(&now)
        .bind(&now)
        .bind(schedule_from)
        .execute(&mut *tx)
        .await;
        let id = match inserted {
            Ok(r) => r.last_insert_rowid(),
            Err(e) if is_unique_violation(&e) => {
                return Err(StoreError::Exists {
                    entity: "monitor",
                    name: spec.name.clone(),
                });
            }
            Err(e) => return Err(self.db(e)),
        };
        audit(
            &mut tx,
            actor,
            "monitor",
            id,
            "create",
            &serde_json::json!({ "spec": spec }),
        )
        .await
        .map_err(|e| self.db(e))?;
        tx.commit().await.map_err(|e| self.db(e))?;
        self.monitor(&spec.name).await
    }

    /// The monitor named `name` (deleted ones are an error).
    pub async fn monitor(&self, name: &str) -> Result<Monitor, StoreError> {
        let (_, m) = self.monitor_row(name).await?;
        if m.state == MonitorState::Deleted {
            return Err(StoreError::Deleted(name.to_string()));
        }
        Ok(m)
    }

    pub(crate) async fn monitor_row(&self, name: &str) -> Result<(i64, Monitor), StoreError> {
        let row = sqlx::query(
            "SELECT id, spec, state, created_at, updated_at, schedule_from FROM monitors \
             WHERE name = ?",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db(e))?
        .ok_or_else(|| StoreError::NotFound {
            entity: "monitor",
            name: name.to_string(),
        })?;
        Ok((row.get::<i64, _>("id"), monitor_of(&row)))
    }

    /// Every monitor not deleted, by name.
    pub async fn monitors(&self) -> Result<Vec<Monitor>, StoreError> {
        let rows = sqlx::query(
            "SELECT spec, state, created_at, updated_at, schedule_from FROM monitors \
             WHERE state != 'deleted' ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(monitor_of).collect())
    }

    /// Replaces a monitor's updatable fields with `spec`'s (name, frequency
    /// and latency must stay as they were), audited with the old and new
    /// specs.
    pub async fn update_monitor(
        &self,
        spec: &MonitorSpec,
        actor: Option<&str>,
    ) -> Result<Monitor, StoreError> {
        let (id, old) = self.monitor_row(&spec.name).await?;
        if old.state == MonitorState::Deleted {
            return Err(StoreError::Deleted(spec.name.clone()));
        }
        for (field, same) in [
            ("frequency", old.spec.frequency == spec.frequency),
            (
                "latency_hours",
                old.spec.latency_hours == spec.latency_hours,
            ),
        ] {
            if !same {
                return Err(StoreError::Fixed {
                    name: spec.name.clone(),
                    field,
                });
            }
        }
        let problems = spec.problems();
        if !problems.is_empty() {
            return Err(StoreError::Invalid(problems));
        }
        let state = if spec.enabled {
            MonitorState::Enabled
        } else {
            MonitorState::Disabled
        };
        let detail = serde_json::json!({ "before": old.spec, "after": spec });
        self.change(id, &spec.name, Some(spec), state, "update", detail, actor)
            .await
    }

    /// Sets a monitor's state: `enable`, `disable` or `delete`, audited.
    pub async fn set_monitor_state(
        &self,
        name: &str,
        state: MonitorState,
        actor: Option<&str>,
    ) -> Result<Monitor, StoreError> {
        let (id, old) = self.monitor_row(name).await?;
        if old.state == MonitorState::Deleted {
            return Err(StoreError::Deleted(name.to_string()));
        }
        let action = match state {
            MonitorState::Enabled => "enable",
            MonitorState::Disabled => "disable",
            MonitorState::Deleted => "delete",
        };
        let mut spec = old.spec.clone();
        spec.enabled = state == MonitorState::Enabled;
        let detail = serde_json::json!({ "from": old.state, "to": state });
        self.change(id, name, Some(&spec), state, action, detail, actor)
            .await?;
        if state == MonitorState::Deleted {
            // What was deleted, as it was.
            let (_, m) = self.monitor_row(name).await?;
            return Ok(m);
        }
        self.monitor(name).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn change(
        &self,
        id: i64,
        name: &str,
        spec: Option<&MonitorSpec>,
        state: MonitorState,
        action: &str,
        detail: serde_json::Value,
        actor: Option<&str>,
    ) -> Result<Monitor, StoreError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.db(e))?;
        let json = spec.map(|s| serde_json::to_string(s).expect("a spec serialises"));
        // Enabling a monitor that was not enabled starts its schedule at the
        // newest complete window: what completed while it was off is
        // backfill's. (SET expressions see the row as it was.)
        let restart = spec.map(schedule_start);
        sqlx::query(
            "UPDATE monitors SET spec = COALESCE(?, spec), state = ?, updated_at = ?, \
             schedule_from = CASE WHEN state != 'enabled' AND ? = 'enabled' THEN ? \
             ELSE schedule_from END WHERE id = ?",
        )
        .bind(json)
        .bind(state.as_str())
        .bind(now_text())
        .bind(state.as_str())
        .bind(restart)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.db(e))?;
        audit(&mut tx, actor, "monitor", id, action, &detail)
            .await
            .map_err(|e| self.db(e))?;
        tx.commit().await.map_err(|e| self.db(e))?;
        let (_, m) = self.monitor_row(name).await?;
        Ok(m)
    }

    /// The audit log of monitor `name`, oldest first (deleted ones too).
    pub async fn monitor_audit(&self, name: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let (id, _) = self.monitor_row(name).await?;
        let rows = sqlx::query(
            "SELECT at, actor, entity, action, detail FROM audit_log \
             WHERE entity = 'monitor' AND entity_id = ? ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                at: parse_time(r.get("at")),
                actor: r.get("actor"),
                entity: r.get("entity"),
                action: r.get("action"),
                detail: serde_json::from_str(r.get("detail")).unwrap_or_default(),
            })
            .collect())
    }
}

/// Where a monitor enabled now starts its schedule: the newest window
/// complete now.
fn schedule_start(spec: &MonitorSpec) -> String {
    time_text(crate::window::last_complete(spec.frequency, spec.latency_hours, Utc::now()).start)
}

async fn audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    actor: Option<&str>,
    entity: &str,
    id: i64,
    action: &str,
    detail: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, entity, entity_id, action, detail) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(now_text())
    .bind(actor)
    .bind(entity)
    .bind(id)
    .bind(action)
    .bind(detail.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes `bytes` to `path` (its folder created) through a temporary file
/// that is synced, then renamed into place, then the folder synced: after
/// a crash the file is whole or absent.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn dataset_of(row: &sqlx::sqlite::SqliteRow) -> Dataset {
    Dataset {
        name: row.get("name"),
        input: row.get("input"),
        format: row.get("format"),
        time_column: row.get("time_column"),
        options: serde_json::from_str(row.get("options")).unwrap_or_default(),
    }
}

fn baseline_of(row: &sqlx::sqlite::SqliteRow) -> BaselineRecord {
    BaselineRecord {
        name: row.get("name"),
        version: row.get("version"),
        dataset: row.get("dataset"),
        file: row.get("file"),
        checksum: row.get("checksum"),
        rows: row.get("rows"),
        window: (row.get("window_from"), row.get("window_to")),
        created_at: parse_time(row.get("created_at")),
    }
}

fn monitor_of(row: &sqlx::sqlite::SqliteRow) -> Monitor {
    Monitor {
        spec: serde_json::from_str(row.get("spec")).expect("the store holds specs it wrote"),
        state: MonitorState::parse(row.get("state")),
        created_at: parse_time(row.get("created_at")),
        updated_at: parse_time(row.get("updated_at")),
        schedule_from: row
            .get::<Option<String>, _>("schedule_from")
            .map(|t| parse_time(&t)),
    }
}

impl Store {
    /// Each monitor's newest succeeded scheduled or backfill result (one
    /// per service, for a monitor made from a model), for the metrics
    /// export. Deleted monitors are left out.
    pub async fn latest_results(&self) -> Result<Vec<RunResult>, StoreError> {
        let rows = sqlx::query(concat!(
            "WITH newest AS (SELECT id FROM (SELECT r.id, ROW_NUMBER() OVER (PARTITION BY \
             r.monitor_id, COALESCE(r.service, '') ORDER BY r.window_start DESC, r.id DESC) AS n \
             FROM runs r JOIN monitors m ON m.id = r.monitor_id \
             JOIN run_results x ON x.run_id = r.id \
             WHERE m.state != 'deleted' AND r.state = 'succeeded' \
             AND r.kind IN ('scheduled', 'backfill')) WHERE n = 1) ",
            select_results!(
                "",
                "WHERE r.id IN (SELECT id FROM newest) ORDER BY m.name, r.service"
            )
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(result_of).collect())
    }

    /// Runs by monitor and state, with the seconds the ended ones took.
    pub async fn run_counts(&self) -> Result<Vec<crate::metrics::RunCount>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.name AS monitor, r.state, COUNT(*) AS runs, \
             COALESCE(SUM(CASE WHEN r.started_at IS NOT NULL AND r.finished_at IS NOT NULL \
             THEN (julianday(r.finished_at) - julianday(r.started_at)) * 86400.0 END), 0.0) \
             AS seconds FROM runs r JOIN monitors m ON m.id = r.monitor_id \
             WHERE m.state != 'deleted' GROUP BY m.name, r.state ORDER BY m.name, r.state",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows
            .iter()
            .map(|row| crate::metrics::RunCount {
                monitor: row.get("monitor"),
                state: RunState::from_text(row.get("state")),
                runs: row.get::<i64, _>("runs").max(0) as u64,
                seconds: row.get("seconds"),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::monitor::AlertRoute;
    use crate::window::Frequency;

    fn spec(name: &str) -> MonitorSpec {
        MonitorSpec {
            name: name.into(),
            baseline: "training".into(),
            baseline_version: None,
            target: "collected".into(),
            model: None,
            services: Vec::new(),
            features: None,
            frequency: Frequency::Week,
            latency_hours: 24,
            threshold: 0.2,
            alerts: vec![AlertRoute::Email("ml@example.com".into())],
            alert_persistence: None,
            enabled: true,
            feature_methods: BTreeMap::new(),
            feature_thresholds: BTreeMap::new(),
        }
    }

    #[tokio::test]
    async fn the_store_is_created_on_first_use_and_migrated_once() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("nested/tidewatch-data");
        let store = Store::open(&home).await.unwrap();
        assert!(home.join(DATABASE_FILE).is_file());
        assert_eq!(store.schema_version().await.unwrap(), 6);
        store
            .create_dataset(&Dataset {
                name: "collected".into(),
                input: "data/*.parquet".into(),
                format: Some("parquet".into()),
                time_column: Some("timestamp".into()),
                options: serde_json::json!({}),
            })
            .await
            .unwrap();
        drop(store);
        // Reopened: nothing is applied twice and the data is there.
        let store = Store::open(&home).await.unwrap();
        assert_eq!(store.schema_version().await.unwrap(), 6);
        assert_eq!(store.datasets().await.unwrap().len(), 1);
        // A store from a newer tidewatch is refused.
        sqlx::raw_sql("PRAGMA user_version = 99")
            .execute(&store.pool)
            .await
            .unwrap();
        drop(store);
        let err = Store::open(&home).await.unwrap_err().to_string();
        assert!(
            err.contains("schema version 99") && err.contains("upgrade"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn datasets_are_named_once_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let d = Dataset {
            name: "train".into(),
            input: "train.csv".into(),
            format: None,
            time_column: None,
            options: serde_json::json!({"delimiter": ";"}),
        };
        store.create_dataset(&d).await.unwrap();
        assert_eq!(store.dataset("train").await.unwrap(), d);
        let err = store.create_dataset(&d).await.unwrap_err();
        assert!(matches!(err, StoreError::Exists { .. }), "{err}");
        let bad = Dataset {
            name: "-x".into(),
            format: Some("xlsx".into()),
            ..d.clone()
        };
        let err = store.create_dataset(&bad).await.unwrap_err().to_string();
        assert!(err.contains("name:") && err.contains("format:"), "{err}");
        let err = store.dataset("nope").await.unwrap_err().to_string();
        assert_eq!(err, "no dataset named \"nope\"");
    }

    #[tokio::test]
    async fn monitors_live_change_audited_and_die() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let m = store
            .create_monitor(&spec("loans"), Some("admin"))
            .await
            .unwrap();
        assert_eq!(m.state, MonitorState::Enabled);
        let err = store
            .create_monitor(&spec("loans"), None)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Exists { .. }));
        // Invalid specs name every broken rule.
        let bad = MonitorSpec {
            threshold: 2.0,
            latency_hours: 5000,
            ..spec("other")
        };
        match store.create_monitor(&bad, None).await.unwrap_err() {
            StoreError::Invalid(p) => {
                let fields: Vec<_> = p.iter().map(|p| p.field.as_str()).collect();
                assert_eq!(fields, ["latency_hours", "threshold"]);
            }
            other => panic!("{other}"),
        }
        // Updates keep the fixed fields.
        let mut changed = spec("loans");
        changed.threshold = 0.3;
        changed
            .alerts
            .push(AlertRoute::Webhook("https://hooks.example.com/x".into()));
        let m = store.update_monitor(&changed, Some("admin")).await.unwrap();
        assert_eq!(m.spec.threshold, 0.3);
        let mut fixed = changed.clone();
        fixed.frequency = Frequency::Day;
        let err = store
            .update_monitor(&fixed, None)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("frequency") && err.contains("fixed"), "{err}");
        // Disable, enable, delete: then every operation fails.
        let m = store
            .set_monitor_state("loans", MonitorState::Disabled, None)
            .await
            .unwrap();
        assert!(!m.spec.enabled && m.state == MonitorState::Disabled);
        store
            .set_monitor_state("loans", MonitorState::Enabled, None)
            .await
            .unwrap();
        store
            .set_monitor_state("loans", MonitorState::Deleted, Some("admin"))
            .await
            .unwrap();
        for err in [
            store.monitor("loans").await.unwrap_err(),
            store.update_monitor(&changed, None).await.unwrap_err(),
            store
                .set_monitor_state("loans", MonitorState::Enabled, None)
                .await
                .unwrap_err(),
        ] {
            assert_eq!(err.to_string(), "monitor \"loans\" is deleted");
        }
        assert!(store.monitors().await.unwrap().is_empty());
        let log = store.monitor_audit("loans").await.unwrap();
        let actions: Vec<_> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["create", "update", "disable", "enable", "delete"]);
        assert_eq!(log[1].detail["before"]["threshold"], 0.2);
        assert_eq!(log[1].detail["after"]["threshold"], 0.3);
        assert_eq!(log[0].actor.as_deref(), Some("admin"));
        // An unknown monitor is not the same error as a deleted one.
        let err = store.monitor("ghost").await.unwrap_err().to_string();
        assert_eq!(err, "no monitor named \"ghost\"");
    }

    #[tokio::test]
    async fn baselines_are_versioned_files_checked_on_load() {
        use std::sync::Arc;

        use arrow_array::{Float64Array, RecordBatch};
        use tidewatch_core::ProfileOptions;

        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let fit = |shift: f64| {
            let b = RecordBatch::try_from_iter([(
                "x",
                Arc::new(Float64Array::from(
                    (0..500).map(|i| i as f64 + shift).collect::<Vec<_>>(),
                )) as _,
            )])
            .unwrap();
            BaselineProfile::fit(&[b], &ProfileOptions::default()).unwrap()
        };
        let err = store
            .create_baseline("training", "nope", &fit(0.0))
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(err, "no dataset named \"nope\"");
        store
            .create_dataset(&Dataset {
                name: "train".into(),
                input: "train.csv".into(),
                format: None,
                time_column: None,
                options: serde_json::json!({}),
            })
            .await
            .unwrap();
        let (p1, p2) = (fit(0.0), fit(10.0));
        let r1 = store
            .create_baseline("training", "train", &p1)
            .await
            .unwrap();
        let r2 = store
            .create_baseline("training", "train", &p2)
            .await
            .unwrap();
        assert_eq!((r1.version, r2.version), (1, 2));
        assert_eq!(r2.rows, 500);
        assert_eq!(store.baseline("training", None).await.unwrap(), r2);
        assert_eq!(
            store
                .load_baseline(&store.baseline("training", Some(1)).await.unwrap())
                .unwrap(),
            p1
        );
        assert_eq!(store.load_baseline(&r2).unwrap(), p2);
        // A changed file is refused, naming the baseline and the file.
        let path = dir.path().join(&r1.file);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        let err = store.load_baseline(&r1).unwrap_err().to_string();
        assert!(
            err.contains("training version 1") && err.contains("changed"),
            "{err}"
        );
        let err = store
            .baseline("training", Some(7))
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(err, "no baseline named \"training v7\"");
    }

    #[tokio::test]
    async fn runs_queue_once_per_scheduled_window_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store.create_monitor(&spec("loans"), None).await.unwrap();
        let weeks =
            Frequency::Week.windows("2024-01-01".parse().unwrap(), "2024-01-21".parse().unwrap());
        assert_eq!(weeks.len(), 3);
        let none = serde_json::json!({});
        let first = store
            .queue_run("loans", RunKind::Scheduled, weeks[0], none.clone())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((first.state, first.window), (RunState::Queued, weeks[0]));
        // The scheduler never queues a window twice; other kinds may.
        assert!(
            store
                .queue_run("loans", RunKind::Scheduled, weeks[0], none.clone())
                .await
                .unwrap()
                .is_none()
        );
        for w in &weeks {
            store
                .queue_run("loans", RunKind::Backfill, *w, none.clone())
                .await
                .unwrap()
                .unwrap();
        }
        assert_eq!(store.runs("loans").await.unwrap().len(), 4);
        // Workers take runs oldest first, one each.
        let a = store.claim_run().await.unwrap().unwrap();
        let b = store.claim_run().await.unwrap().unwrap();
        assert_eq!((a.id, b.id), (first.id, first.id + 1));
        assert_eq!(a.state, RunState::Running);
        let a = store.finish_run(a.id, None).await.unwrap();
        assert_eq!(a.state, RunState::Succeeded);
        let err = store.cancel_run(a.id).await.unwrap_err().to_string();
        assert!(
            err.contains("succeeded") && err.contains("can no longer be cancelled"),
            "{err}"
        );
        // The process dies with b running: on restart b is queued again.
        drop(store);
        let store = Store::open(dir.path()).await.unwrap();
        assert_eq!(store.requeue_interrupted().await.unwrap(), 1);
        let again = store.claim_run().await.unwrap().unwrap();
        assert_eq!(again.id, b.id);
        let failed = store
            .finish_run(again.id, Some("no target rows in the window"))
            .await
            .unwrap();
        assert_eq!(failed.state, RunState::Failed);
        assert_eq!(
            failed.error.as_deref(),
            Some("no target rows in the window")
        );
        // Cancelling a queued run; a cancelled run is not claimed.
        let c = store.claim_run().await.unwrap().unwrap();
        let cancelled = store.cancel_run(c.id + 1).await.unwrap();
        assert_eq!(cancelled.state, RunState::Cancelled);
        assert!(store.claim_run().await.unwrap().is_none());
        // A run cancelled while running stays cancelled when it finishes.
        store.cancel_run(c.id).await.unwrap();
        assert_eq!(
            store.finish_run(c.id, None).await.unwrap().state,
            RunState::Cancelled
        );
        // A deleted monitor takes no runs.
        store
            .set_monitor_state("loans", MonitorState::Deleted, None)
            .await
            .unwrap();
        let err = store
            .queue_run("loans", RunKind::Adhoc, weeks[1], none)
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "monitor \"loans\" is deleted");
    }

    #[tokio::test]
    async fn a_run_claimed_by_id_is_claimed_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store.create_monitor(&spec("loans"), None).await.unwrap();
        let w = Frequency::Day.window_of("2024-01-01".parse().unwrap());
        let none = serde_json::json!({});
        let first = store
            .queue_run("loans", RunKind::Adhoc, w, none.clone())
            .await
            .unwrap()
            .unwrap();
        let second = store
            .queue_run("loans", RunKind::Adhoc, w, none)
            .await
            .unwrap()
            .unwrap();
        // The newer one, though the older is queued too.
        let taken = store.claim_run_id(second.id).await.unwrap().unwrap();
        assert_eq!((taken.id, taken.state), (second.id, RunState::Running));
        assert!(store.claim_run_id(second.id).await.unwrap().is_none());
        store.cancel_run(first.id).await.unwrap();
        assert!(store.claim_run_id(first.id).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn results_show_the_newest_scheduled_or_backfill_run_of_each_window() {
        use std::sync::Arc;

        use arrow_array::{Float64Array, RecordBatch};
        use tidewatch_core::{CompareOptions, ProfileOptions};

        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store.create_monitor(&spec("loans"), None).await.unwrap();
        let batch = |shift: f64| {
            RecordBatch::try_from_iter([(
                "x",
                Arc::new(Float64Array::from(
                    (0..400)
                        .map(|i| (i * 7 % 101) as f64 + shift)
                        .collect::<Vec<_>>(),
                )) as _,
            )])
            .unwrap()
        };
        let profile = BaselineProfile::fit(&[batch(0.0)], &ProfileOptions::default()).unwrap();
        let report = |shift: f64| {
            profile
                .compare(&[batch(shift)], &CompareOptions::default())
                .unwrap()
        };
        let weeks =
            Frequency::Week.windows("2024-01-01".parse().unwrap(), "2024-01-21".parse().unwrap());
        let none = serde_json::json!({});
        // Week 0: a backfill run, then a newer one; week 1: an adhoc run only;
        // week 2: a scheduled run that failed.
        let mut ran = Vec::new();
        for (kind, w, shift) in [
            (RunKind::Backfill, weeks[0], 0.0),
            (RunKind::Backfill, weeks[0], 60.0),
            (RunKind::Adhoc, weeks[1], 60.0),
        ] {
            let q = store
                .queue_run("loans", kind, w, none.clone())
                .await
                .unwrap()
                .unwrap();
            let r = store.claim_run().await.unwrap().unwrap();
            assert_eq!(q.id, r.id);
            store.complete_run(r.id, &report(shift), 0.2).await.unwrap();
            ran.push(r.id);
        }
        store
            .queue_run("loans", RunKind::Scheduled, weeks[2], none)
            .await
            .unwrap();
        let r = store.claim_run().await.unwrap().unwrap();
        store
            .finish_run(r.id, Some("no target rows"))
            .await
            .unwrap();

        let (from, to) = (weeks[0].start, weeks[2].end);
        let results = store.results("loans", from, to, false).await.unwrap();
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].run.id, ran[1], "the newest run of the window");
        assert_eq!(results[0].has_drift, Some(true));
        assert!(results[0].drift_coefficient.unwrap() > 0.2);
        assert_eq!(results[0].metrics["features"]["x"]["method"], "ks_pvalue");
        let report = store.run_report(ran[1]).await.unwrap();
        assert_eq!(report["features"][0]["name"], "x");
        // The same window as a series: its figures, and its feature's cells.
        let summaries = store.window_summaries("loans", from, to).await.unwrap();
        assert_eq!(summaries.len(), 1);
        assert_eq!(summaries[0].run.id, ran[1]);
        assert_eq!(summaries[0].drift_coefficient, results[0].drift_coefficient);
        assert_eq!(summaries[0].dataset, results[0].metrics["dataset"]);
        let cells = store.feature_cells(&[ran[0], ran[1]]).await.unwrap();
        assert_eq!(cells.len(), 2, "one feature in each of two runs");
        assert_eq!(cells[1].run_id, ran[1]);
        assert_eq!(cells[1].feature, "x");
        assert_eq!(
            cells[1].contribution,
            results[0].metrics["features"]["x"]["contribution"].as_f64()
        );
        assert_eq!(cells[1].drift_detected, Some(true));
        let metrics = store.feature_metrics(&[ran[1]], "x").await.unwrap();
        assert_eq!(
            metrics,
            [(ran[1], results[0].metrics["features"]["x"].clone())]
        );
        assert!(
            store
                .feature_metrics(&[ran[1]], "y")
                .await
                .unwrap()
                .is_empty()
        );
        let with_adhoc = store.results("loans", from, to, true).await.unwrap();
        assert_eq!(
            with_adhoc.iter().map(|r| r.run.id).collect::<Vec<_>>(),
            [ran[1], ran[2]]
        );
        // A range that ends where week 0 starts holds nothing.
        assert!(
            store
                .results(
                    "loans",
                    weeks[0].start - chrono::Duration::days(7),
                    weeks[0].start,
                    true
                )
                .await
                .unwrap()
                .is_empty()
        );
        // One run by id, even an older or adhoc one.
        let old = store.run_result(ran[0]).await.unwrap();
        assert_eq!(old.has_drift, Some(false));
        let err = store.run_result(r.id).await.unwrap_err().to_string();
        assert!(err.contains("no result of run"), "{err}");
    }

    #[tokio::test]
    async fn version_6_moves_each_features_results_into_rows() {
        // A version-5 database holding one result, as version 5 wrote it.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(DATABASE_FILE);
        let options = SqliteConnectOptions::from_str("sqlite://")
            .unwrap()
            .filename(&file)
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        for sql in &MIGRATIONS[..5] {
            sqlx::raw_sql(*sql).execute(&pool).await.unwrap();
        }
        let metrics = serde_json::json!({
            "dataset": {"auc": 0.7, "target_rows": 400},
            "features": {
                "income": {"contribution": 0.75, "drift_detected": true, "metrics": {"psi": 0.4}},
                "region": {"contribution": 0.25, "drift_detected": false, "metrics": {}},
            },
        });
        sqlx::query(
            "INSERT INTO monitors (id, name, spec, state, created_at, updated_at) \
             VALUES (1, 'm', ?, 'enabled', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')",
        )
        .bind(serde_json::to_string(&spec("m")).unwrap())
        .execute(&pool)
        .await
        .unwrap();
        sqlx::raw_sql(
            "PRAGMA user_version = 5; \
             INSERT INTO runs (id, monitor_id, kind, state, window_start, window_end, overrides, \
             created_at) VALUES (7, 1, 'backfill', 'succeeded', '2024-01-01T00:00:00Z', \
             '2024-01-08T00:00:00Z', '{}', '2024-01-09T00:00:00Z');",
        )
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO run_results (run_id, drift_coefficient, threshold, has_drift, report, \
             metrics) VALUES (7, 0.4, 0.2, 1, '{\"features\": []}', ?)",
        )
        .bind(metrics.to_string())
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        let store = Store::open(dir.path()).await.unwrap();
        assert_eq!(store.schema_version().await.unwrap(), 6);
        let cells = store.feature_cells(&[7]).await.unwrap();
        let got: Vec<(&str, Option<f64>, Option<bool>)> = cells
            .iter()
            .map(|c| (c.feature.as_str(), c.contribution, c.drift_detected))
            .collect();
        assert_eq!(
            got,
            [
                ("income", Some(0.75), Some(true)),
                ("region", Some(0.25), Some(false))
            ]
        );
        let income = store.feature_metrics(&[7], "income").await.unwrap();
        assert_eq!(income[0].1, metrics["features"]["income"]);
        let result = store.run_result(7).await.unwrap();
        assert_eq!(result.metrics, metrics, "the metrics kept whole");
        assert_eq!(
            store.run_report(7).await.unwrap()["features"],
            serde_json::json!([])
        );
        let window = Window {
            start: "2024-01-01T00:00:00Z".parse().unwrap(),
            end: "2024-01-08T00:00:00Z".parse().unwrap(),
        };
        let summaries = store
            .window_summaries("m", window.start, window.end)
            .await
            .unwrap();
        assert_eq!(summaries[0].dataset, metrics["dataset"]);
        assert_eq!(summaries[0].has_drift, Some(true));
    }
}
