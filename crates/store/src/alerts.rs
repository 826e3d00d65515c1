//! The alert outbox: notifications queued durably when a run drifts, then
//! delivered (and retried) by the server. A scheduled or backfill run
//! whose drift coefficient is strictly above its threshold queues one
//! notification per alert route of its monitor, in the same transaction as
//! its results; a window (and service) notifies each route once, so a
//! re-run of the window does not notify again.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Row;
use tidewatch_core::DriftReport;

use crate::db::{Store, StoreError, now_text, parse_time, time_text};
use crate::window::Window;
use crate::{AlertRoute, MonitorSpec};

/// Where a notification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationState {
    /// Waiting for its (next) attempt.
    Pending,
    /// Delivered.
    Sent,
    /// Given up after its attempts.
    Failed,
}

impl NotificationState {
    fn from_text(s: &str) -> NotificationState {
        match s {
            "sent" => NotificationState::Sent,
            "failed" => NotificationState::Failed,
            _ => NotificationState::Pending,
        }
    }
}

/// One alert to one route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Its id.
    pub id: i64,
    /// The monitor.
    pub monitor: String,
    /// The run that drifted (none for a test).
    pub run_id: Option<i64>,
    /// Its window.
    pub window: Window,
    /// Its service, for a monitor made from a model.
    pub service: Option<String>,
    /// Where it goes.
    pub route: AlertRoute,
    /// What is sent (the webhook's JSON body; the email's facts).
    pub payload: Value,
    /// Where it is.
    pub state: NotificationState,
    /// Attempts made.
    pub attempts: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the next attempt is due (pending ones).
    pub next_attempt_at: DateTime<Utc>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it was delivered.
    pub sent_at: Option<DateTime<Utc>>,
}

/// The payload of a drifted run: the monitor, window, coefficient,
/// threshold and the three features that contributed most.
fn payload(
    monitor: &str,
    run_id: i64,
    window: &Window,
    service: Option<&str>,
    report: &DriftReport,
    threshold: f64,
) -> Value {
    let mut top: Vec<(&str, f64)> = report
        .features
        .iter()
        .filter_map(|f| Some((f.name.as_str(), f.contribution?)))
        .collect();
    top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    top.truncate(3);
    json!({
        "event": "drift",
        "monitor": monitor,
        "service": service,
        "run_id": run_id,
        "window_start": window.start,
        "window_end": window.end,
        "drift_coefficient": report.drift_coefficient,
        "threshold": threshold,
        "auc": report.auc,
        "top_features": top
            .iter()
            .map(|(name, c)| json!({"name": name, "contribution": c}))
            .collect::<Vec<_>>(),
        "link": format!("/monitors/{monitor}?run={run_id}"),
    })
}

/// Queues the notifications of run `run_id`, which drifted, inside the
/// transaction that stores its results (scheduled and backfill runs only;
/// once per window, service and route).
pub(crate) async fn queue_notifications(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    run_id: i64,
    report: &DriftReport,
    threshold: f64,
) -> Result<(), sqlx::Error> {
    let row = sqlx::query(
        "SELECT r.kind, r.window_start, r.window_end, r.service, m.id AS monitor_id, \
         m.name, m.spec FROM runs r JOIN monitors m ON m.id = r.monitor_id WHERE r.id = ?",
    )
    .bind(run_id)
    .fetch_one(&mut **tx)
    .await?;
    let kind: String = row.get("kind");
    if kind == "adhoc" {
        return Ok(());
    }
    let spec: MonitorSpec =
        serde_json::from_str(row.get("spec")).expect("the store holds specs it wrote");
    let window = Window {
        start: parse_time(row.get("window_start")),
        end: parse_time(row.get("window_end")),
    };
    let service: Option<String> = row.get("service");
    let name: String = row.get("name");
    if let Some(p) = spec.alert_persistence {
        // The newest result of each of the last `of` windows up to this
        // one (its own result is stored already, in this transaction).
        let drifted: Option<i64> = sqlx::query_scalar(
            "SELECT SUM(has_drift) FROM (SELECT has_drift FROM (SELECT x.has_drift, \
             r.window_start, ROW_NUMBER() OVER (PARTITION BY r.window_start ORDER BY r.id DESC) \
             AS newest FROM runs r JOIN run_results x ON x.run_id = r.id \
             WHERE r.monitor_id = ? AND COALESCE(r.service, '') = COALESCE(?, '') \
             AND r.state = 'succeeded' AND r.kind IN ('scheduled', 'backfill') \
             AND r.window_start <= ?) WHERE newest = 1 ORDER BY window_start DESC LIMIT ?)",
        )
        .bind(row.get::<i64, _>("monitor_id"))
        .bind(&service)
        .bind(time_text(window.start))
        .bind(i64::from(p.of))
        .fetch_one(&mut **tx)
        .await?;
        if drifted.unwrap_or(0) < i64::from(p.drifted) {
            return Ok(());
        }
    }
    let body = payload(
        &name,
        run_id,
        &window,
        service.as_deref(),
        report,
        threshold,
    )
    .to_string();
    let now = now_text();
    for route in &spec.alerts {
        sqlx::query(
            "INSERT INTO notifications (monitor_id, run_id, window_start, window_end, service, \
             route, payload, state, next_attempt_at, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(row.get::<i64, _>("monitor_id"))
        .bind(run_id)
        .bind(time_text(window.start))
        .bind(time_text(window.end))
        .bind(&service)
        .bind(serde_json::to_string(route).expect("a route serialises"))
        .bind(&body)
        .bind(&now)
        .bind(&now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

const SELECT: &str = "SELECT n.id, m.name AS monitor, n.run_id, n.window_start, n.window_end, \
     n.service, n.route, n.payload, n.state, n.attempts, n.last_error, n.next_attempt_at, \
     n.created_at, n.sent_at FROM notifications n JOIN monitors m ON m.id = n.monitor_id ";

fn notification_of(row: &sqlx::sqlite::SqliteRow) -> Notification {
    Notification {
        id: row.get("id"),
        monitor: row.get("monitor"),
        run_id: row.get("run_id"),
        window: Window {
            start: parse_time(row.get("window_start")),
            end: parse_time(row.get("window_end")),
        },
        service: row.get("service"),
        route: serde_json::from_str(row.get("route")).unwrap_or(AlertRoute::Webhook(String::new())),
        payload: serde_json::from_str(row.get("payload")).unwrap_or(Value::Null),
        state: NotificationState::from_text(row.get("state")),
        attempts: row.get("attempts"),
        last_error: row.get("last_error"),
        next_attempt_at: parse_time(row.get("next_attempt_at")),
        created_at: parse_time(row.get("created_at")),
        sent_at: row
            .get::<Option<String>, _>("sent_at")
            .map(|t| parse_time(&t)),
    }
}

impl Store {
    /// Queues a test notification to each alert route of monitor `name`
    /// (`tidewatch alert test`); returns them.
    pub async fn queue_test_notifications(
        &self,
        name: &str,
    ) -> Result<Vec<Notification>, StoreError> {
        let (monitor_id, m) = self.monitor_row(name).await?;
        if m.state == crate::MonitorState::Deleted {
            return Err(StoreError::Deleted(name.to_string()));
        }
        let now = now_text();
        let body = json!({"event": "test", "monitor": name, "link": format!("/monitors/{name}")})
            .to_string();
        let mut ids = Vec::new();
        for route in &m.spec.alerts {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO notifications (monitor_id, window_start, window_end, route, payload, \
                 state, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) \
                 RETURNING id",
            )
            .bind(monitor_id)
            .bind(&now)
            .bind(&now)
            .bind(serde_json::to_string(route).expect("a route serialises"))
            .bind(&body)
            .bind(&now)
            .bind(&now)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
            ids.push(id);
        }
        let all = self.notifications(name).await?;
        Ok(all.into_iter().filter(|n| ids.contains(&n.id)).collect())
    }

    /// Pending notifications due at `now`, oldest first, at most `limit`.
    pub async fn due_notifications(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Notification>, StoreError> {
        let sql = format!(
            "{SELECT} WHERE n.state = 'pending' AND n.next_attempt_at <= ? ORDER BY n.id LIMIT ?"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(time_text(now))
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(notification_of).collect())
    }

    /// Every notification of monitor `name`, newest first.
    pub async fn notifications(&self, name: &str) -> Result<Vec<Notification>, StoreError> {
        self.monitor(name).await?;
        let sql = format!("{SELECT} WHERE m.name = ? ORDER BY n.id DESC");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        Ok(rows.iter().map(notification_of).collect())
    }

    /// Records an attempt at notification `id`: delivered (`Ok`), or
    /// failed with `error`, to be tried again at `retry_at` (`None`: given
    /// up).
    pub async fn record_attempt(
        &self,
        id: i64,
        outcome: Result<(), (String, Option<DateTime<Utc>>)>,
    ) -> Result<(), StoreError> {
        let q = match &outcome {
            Ok(()) => sqlx::query(
                "UPDATE notifications SET state = 'sent', attempts = attempts + 1, sent_at = ?, \
                 last_error = NULL WHERE id = ? AND state = 'pending'",
            )
            .bind(now_text())
            .bind(id),
            Err((error, retry_at)) => sqlx::query(
                "UPDATE notifications SET state = ?, attempts = attempts + 1, last_error = ?, \
                 next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ? AND state = 'pending'",
            )
            .bind(if retry_at.is_some() {
                "pending"
            } else {
                "failed"
            })
            .bind(error)
            .bind(retry_at.map(time_text))
            .bind(id),
        };
        q.execute(&self.pool).await.map_err(|e| self.db(e))?;
        Ok(())
    }
}

impl Store {
    /// Notifications by monitor and state, with their attempts summed: the
    /// metrics export's alert deliveries by outcome.
    pub async fn notification_counts(
        &self,
    ) -> Result<Vec<(String, NotificationState, u64, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.name, n.state, COUNT(*) AS notifications, SUM(n.attempts) AS attempts \
             FROM notifications n JOIN monitors m ON m.id = n.monitor_id \
             WHERE m.state != 'deleted' GROUP BY m.name, n.state ORDER BY m.name, n.state",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get("name"),
                    NotificationState::from_text(r.get("state")),
                    r.get::<i64, _>("notifications").max(0) as u64,
                    r.get::<Option<i64>, _>("attempts").unwrap_or(0).max(0) as u64,
                )
            })
            .collect())
    }
}
