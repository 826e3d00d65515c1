-- Version 5: the alert outbox. A scheduled or backfill run whose drift
-- coefficient is above its threshold queues one notification per alert
-- route of its monitor, in the transaction that stores its results; each
-- window (and service) notifies a route once, however often it is re-run.
-- A test notification (tidewatch alert test) has no run.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY,
    monitor_id      INTEGER NOT NULL REFERENCES monitors (id),
    run_id          INTEGER REFERENCES runs (id),
    window_start    TEXT NOT NULL,
    window_end      TEXT NOT NULL,
    service         TEXT,
    -- The AlertRoute, JSON: {"type": "email" | "webhook", "to": ...}.
    route           TEXT NOT NULL,
    -- What is sent, JSON.
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE UNIQUE INDEX notifications_once
    ON notifications (monitor_id, window_start, COALESCE(service, ''), route);
CREATE INDEX notifications_due ON notifications (state, next_attempt_at);
