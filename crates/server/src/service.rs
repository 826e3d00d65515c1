//! The running service: the HTTP listener, a bounded pool of run workers,
//! and the scheduler, all over one store.
//!
//! * Workers take queued runs oldest first, one each (the store's claim is
//!   atomic); `workers` bounds how many windows are computed at once.
//! * The scheduler wakes every `schedule_every`, queues each enabled
//!   monitor's windows that have completed (all of them after a pause:
//!   that is the catch-up), and wakes the workers. A window is queued for
//!   the schedule at most once, by the store's unique index.
//! * On start, runs left running by a process that died are queued again.
//! * The collector's log is compacted into day-partitioned Parquet every
//!   `compact_every`.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tidewatch_store::{RunKind, Store, StoreError};

use crate::api::{AppState, app};
use crate::runner::run_next;

/// How the service runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on (port 0: any free port).
    pub bind: SocketAddr,
    /// Runs computed at once, at least 1 (default 2).
    pub workers: usize,
    /// How often the scheduler looks for complete windows (default 60 s).
    pub schedule_every: Duration,
    /// How often the collector's log is compacted into Parquet (default 60 s).
    pub compact_every: Duration,
    /// Bytes the collector leaves free on its disk (default 100 MiB; see
    /// [`crate::collector::Collector::min_free_bytes`]).
    pub collect_min_free_bytes: u64,
    /// How long the collector keeps the idempotency keys of batches
    /// (default 7 days).
    pub collect_key_retention: Duration,
    /// The key webhooks are signed with (default: `webhook-secret` in the
    /// data directory, made on first start).
    pub webhook_secret: Option<String>,
    /// Where alert email goes out (none: email alerts fail, saying so).
    pub smtp: Option<crate::alerts::Smtp>,
    /// The server's address as users reach it, for links in alerts.
    pub public_url: Option<String>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            workers: 2,
            schedule_every: Duration::from_secs(60),
            compact_every: Duration::from_secs(60),
            collect_min_free_bytes: crate::collector::MIN_FREE_BYTES,
            collect_key_retention: crate::collector::KEY_RETENTION,
            webhook_secret: None,
            smtp: None,
            public_url: None,
        }
    }
}

/// One worker: executes queued runs until the process ends, sleeping
/// until woken (or a second passes) when the queue is empty.
pub async fn worker(state: AppState) {
    loop {
        let notified = state.wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        match run_next(&state.store, &state.baselines).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                tokio::select! {
                    _ = &mut notified => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
            Err(e) => {
                eprintln!("tidewatch serve: a worker could not take or finish a run: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Queues every window due at `now` as a scheduled run and wakes the
/// workers; returns how many runs were queued.
pub async fn schedule_once(state: &AppState, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut queued = 0;
    for (name, window) in state.store.due_windows(now).await? {
        queued += state
            .store
            .queue_runs(&name, RunKind::Scheduled, &[window], &serde_json::json!({}))
            .await?
            .len();
    }
    if queued > 0 {
        state.wake.notify_waiters();
    }
    Ok(queued)
}

/// Compacts the collector's log every `every`, off the async threads. A
/// failed compaction is logged and retried next time (what it did stays
/// done).
async fn compactor(collector: crate::collector::Collector, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let c = collector.clone();
        match tokio::task::spawn_blocking(move || c.compact(true)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("tidewatch serve: compaction failed (retried later): {e}"),
            Err(e) => eprintln!("tidewatch serve: the compaction thread failed: {e}"),
        }
    }
}

/// Delivers due alerts every second; a failure of the store is logged and
/// retried (the outbox keeps every notification).
async fn alerter(store: tidewatch_store::Store, deliverer: crate::alerts::Deliverer) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Err(e) = deliverer.deliver_due(&store).await {
            eprintln!("tidewatch serve: alert delivery failed (retried): {e}");
        }
    }
}

async fn scheduler(state: AppState, every: Duration) {
    loop {
        if let Err(e) = schedule_once(&state, Utc::now()).await {
            eprintln!("tidewatch serve: the scheduler failed: {e}");
        }
        tokio::time::sleep(every).await;
    }
}

/// Runs the service on `store` until Ctrl-C or SIGTERM: re-queues
/// interrupted runs, starts the workers and the scheduler, binds, calls
/// `ready` with the bound address, and serves.
pub async fn serve(
    store: Store,
    config: ServeConfig,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let requeued = store
        .requeue_interrupted()
        .await
        .map_err(std::io::Error::other)?;
    if requeued > 0 {
        eprintln!("tidewatch serve: {requeued} interrupted runs queued again");
    }
    let mut collector =
        crate::collector::Collector::open(store.dir()).map_err(std::io::Error::other)?;
    collector.min_free_bytes = config.collect_min_free_bytes;
    collector.key_retention = config.collect_key_retention;
    tokio::spawn(compactor(collector.clone(), config.compact_every));
    let mut state = AppState::new(store);
    state.collector = Some(collector);
    for _ in 0..config.workers.max(1) {
        tokio::spawn(worker(state.clone()));
    }
    tokio::spawn(scheduler(state.clone(), config.schedule_every));
    let secret = match &config.webhook_secret {
        Some(s) => s.as_bytes().to_vec(),
        None => crate::alerts::webhook_secret(state.store.dir())?,
    };
    let mut deliverer = crate::alerts::Deliverer::new(&secret);
    deliverer.smtp = config.smtp.clone();
    deliverer.public_url = config.public_url.clone();
    tokio::spawn(alerter(state.store.clone(), deliverer));
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("binding {}: {e}", config.bind)))?;
    ready(listener.local_addr()?);
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown())
        .await
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler installs");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
