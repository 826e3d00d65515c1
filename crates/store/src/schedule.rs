//! What the scheduler asks of the store: which windows are due, and
//! queueing many runs at once (a backfill) in one transaction.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::db::{MonitorState, Run, RunKind, Store, StoreError, now_text, parse_time, time_text};
use crate::window::{Window, last_complete};

impl Store {
    /// The windows due for a scheduled run at `now`: for every enabled
    /// monitor, each complete window from its schedule start (or after its
    /// newest scheduled run) through the newest complete one, oldest first.
    /// After a pause (a restart, a stopped server) this is the catch-up;
    /// queueing them is idempotent, so a window is never run twice.
    pub async fn due_windows(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, Window)>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.name, m.spec, m.schedule_from, \
             (SELECT MAX(r.window_start) FROM runs r \
              WHERE r.monitor_id = m.id AND r.kind = 'scheduled') AS last_scheduled \
             FROM monitors m WHERE m.state = 'enabled' AND m.schedule_from IS NOT NULL \
             ORDER BY m.name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        let mut due = Vec::new();
        for row in rows {
            let name: String = row.get("name");
            let spec: crate::MonitorSpec =
                serde_json::from_str(row.get("spec")).expect("the store holds specs it wrote");
            let from = parse_time(row.get("schedule_from"));
            let newest = last_complete(spec.frequency, spec.latency_hours, now);
            let mut w = spec.frequency.window_at(from);
            if let Some(last) = row.get::<Option<String>, _>("last_scheduled") {
                let last = spec.frequency.window_at(parse_time(&last));
                if last >= w {
                    w = spec.frequency.next(&last);
                }
            }
            while w <= newest {
                due.push((name.clone(), w));
                w = spec.frequency.next(&w);
            }
        }
        Ok(due)
    }

    /// Queues one run of monitor `name` per window (per window and
    /// service, for a monitor made from a model: its services, or those
    /// `overrides.services` lists), all in one transaction (all or none).
    /// Scheduled windows that already have a run are skipped; the runs
    /// queued are returned.
    pub async fn queue_runs(
        &self,
        name: &str,
        kind: RunKind,
        windows: &[Window],
        overrides: &serde_json::Value,
    ) -> Result<Vec<Run>, StoreError> {
        let (monitor_id, m) = self.monitor_row(name).await?;
        if m.state == MonitorState::Deleted {
            return Err(StoreError::Deleted(name.to_string()));
        }
        let services: Vec<Option<String>> = match overrides.get("services") {
            Some(list) => {
                let list: Vec<String> = serde_json::from_value(list.clone()).map_err(|_| {
                    StoreError::Invalid(vec![crate::Invalid {
                        field: "services".into(),
                        rule: "must be a list of service names".into(),
                    }])
                })?;
                let unknown: Vec<&String> = list
                    .iter()
                    .filter(|s| !m.spec.services.contains(s))
                    .collect();
                if !unknown.is_empty() || list.is_empty() {
                    return Err(StoreError::Invalid(vec![crate::Invalid {
                        field: "services".into(),
                        rule: format!(
                            "must list services of monitor {name:?} ({}), not {unknown:?}",
                            m.spec.services.join(", ")
                        ),
                    }]));
                }
                list.into_iter().map(Some).collect()
            }
            None if m.spec.services.is_empty() => vec![None],
            None => m.spec.services.iter().cloned().map(Some).collect(),
        };
        let mut tx = self.pool.begin().await.map_err(|e| self.db(e))?;
        let mut ids = Vec::with_capacity(windows.len() * services.len());
        let now = now_text();
        let overrides = overrides.to_string();
        for w in windows {
            for service in &services {
                let id: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO runs (monitor_id, kind, state, window_start, window_end, overrides, \
                     created_at, service) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?) \
                     ON CONFLICT DO NOTHING RETURNING id",
                )
                .bind(monitor_id)
                .bind(kind.as_str())
                .bind(time_text(w.start))
                .bind(time_text(w.end))
                .bind(&overrides)
                .bind(&now)
                .bind(service)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| self.db(e))?;
                ids.extend(id);
            }
        }
        tx.commit().await.map_err(|e| self.db(e))?;
        let mut runs = Vec::with_capacity(ids.len());
        for id in ids {
            runs.push(self.run(id).await?);
        }
        Ok(runs)
    }

    /// Cancels every queued run of monitor `name` (a backfill stopped);
    /// returns how many. Running ones are cancelled by id.
    pub async fn cancel_queued(&self, name: &str) -> Result<u64, StoreError> {
        let (monitor_id, _) = self.monitor_row(name).await?;
        let done = sqlx::query(
            "UPDATE runs SET state = 'cancelled', finished_at = ? \
             WHERE monitor_id = ? AND state = 'queued'",
        )
        .bind(now_text())
        .bind(monitor_id)
        .execute(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(done.rows_affected())
    }

    /// How many runs are queued, over all monitors.
    pub async fn queued_runs(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COUNT(*) FROM runs WHERE state = 'queued'")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.db(e))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::Duration;

    use super::*;
    use crate::{Frequency, MonitorSpec};

    fn spec(name: &str, frequency: Frequency, latency_hours: u32) -> MonitorSpec {
        MonitorSpec {
            name: name.into(),
            baseline: "training".into(),
            baseline_version: None,
            target: "collected".into(),
            model: None,
            services: Vec::new(),
            features: None,
            frequency,
            latency_hours,
            threshold: 0.2,
            alerts: vec![],
            alert_persistence: None,
            enabled: true,
            feature_methods: BTreeMap::new(),
            feature_thresholds: BTreeMap::new(),
        }
    }

    #[tokio::test]
    async fn the_schedule_runs_each_complete_window_once_and_catches_up() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let m = store
            .create_monitor(&spec("daily", Frequency::Day, 6), None)
            .await
            .unwrap();
        let start = m.schedule_from.unwrap();
        let now = Utc::now();
        // The newest complete window at creation is due at once.
        let due = store.due_windows(now).await.unwrap();
        assert_eq!(due.len(), 1, "{due:?}");
        assert_eq!(due[0].1.start, start);
        let queue = |due: Vec<(String, Window)>| {
            let store = store.clone();
            async move {
                for (name, w) in due {
                    store
                        .queue_runs(&name, RunKind::Scheduled, &[w], &serde_json::json!({}))
                        .await
                        .unwrap();
                }
            }
        };
        queue(due).await;
        assert!(store.due_windows(now).await.unwrap().is_empty());
        // Three days later (a server that was down): the three windows
        // completed meanwhile, in order, and no earlier one.
        let later = now + Duration::days(3);
        let due = store.due_windows(later).await.unwrap();
        let starts: Vec<_> = due.iter().map(|(_, w)| w.start).collect();
        assert_eq!(
            starts,
            (1..=3)
                .map(|d| start + Duration::days(d))
                .collect::<Vec<_>>()
        );
        // Queued twice (two schedulers racing): each window once.
        queue(due.clone()).await;
        queue(due).await;
        let runs = store.runs("daily").await.unwrap();
        assert_eq!(runs.len(), 4);
        assert!(store.due_windows(later).await.unwrap().is_empty());
        // Disabled: nothing is due. Enabled again: the schedule restarts
        // at the newest window complete when it was enabled (by the
        // store's clock, still the creation day here), and goes on after
        // the newest scheduled run.
        store
            .set_monitor_state("daily", MonitorState::Disabled, None)
            .await
            .unwrap();
        assert!(
            store
                .due_windows(later + Duration::days(7))
                .await
                .unwrap()
                .is_empty()
        );
        store
            .set_monitor_state("daily", MonitorState::Enabled, None)
            .await
            .unwrap();
        let due = store.due_windows(later + Duration::days(7)).await.unwrap();
        assert_eq!(
            due.first().map(|d| d.1.start),
            Some(start + Duration::days(4))
        );
    }

    #[tokio::test]
    async fn a_backfill_queues_in_one_transaction_and_can_be_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store
            .create_monitor(&spec("weekly", Frequency::Week, 0), None)
            .await
            .unwrap();
        let weeks =
            Frequency::Week.windows("2024-01-01".parse().unwrap(), "2024-12-31".parse().unwrap());
        assert_eq!(weeks.len(), 53);
        let runs = store
            .queue_runs("weekly", RunKind::Backfill, &weeks, &serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(runs.len(), 53);
        assert_eq!(store.queued_runs().await.unwrap(), 53);
        store.claim_run().await.unwrap().unwrap();
        assert_eq!(store.cancel_queued("weekly").await.unwrap(), 52);
        assert_eq!(store.queued_runs().await.unwrap(), 0);
        let err = store
            .queue_runs("ghost", RunKind::Backfill, &weeks, &serde_json::json!({}))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "no monitor named \"ghost\"");
    }
}
