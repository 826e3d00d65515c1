-- tidewatch's results store, version 1. Times are RFC 3339 UTC text;
-- structured settings are JSON text.

CREATE TABLE datasets (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    -- A path, a glob or an object-store URL.
    input       TEXT NOT NULL,
    -- csv, parquet or ndjson; NULL: from the file names.
    format      TEXT,
    time_column TEXT,
    -- Read options (delimiter, column types, ...), JSON.
    options     TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL
);

CREATE TABLE baselines (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    dataset_id  INTEGER NOT NULL REFERENCES datasets (id),
    -- The profile file, relative to the data directory; immutable.
    file        TEXT NOT NULL,
    checksum    TEXT NOT NULL,
    rows        INTEGER NOT NULL,
    window_from TEXT,
    window_to   TEXT,
    created_at  TEXT NOT NULL,
    UNIQUE (name, version)
);

CREATE TABLE monitors (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    -- The MonitorSpec, JSON.
    spec       TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('enabled', 'disabled', 'deleted')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE runs (
    id           INTEGER PRIMARY KEY,
    monitor_id   INTEGER NOT NULL REFERENCES monitors (id),
    kind         TEXT NOT NULL CHECK (kind IN ('adhoc', 'scheduled', 'backfill')),
    state        TEXT NOT NULL
                 CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    window_start TEXT NOT NULL,
    window_end   TEXT NOT NULL,
    -- Per-run feature and threshold overrides (adhoc), JSON.
    overrides    TEXT NOT NULL DEFAULT '{}',
    error        TEXT,
    created_at   TEXT NOT NULL,
    started_at   TEXT,
    finished_at  TEXT
);
-- The scheduler never runs a window twice.
CREATE UNIQUE INDEX runs_scheduled_once ON runs (monitor_id, window_start)
    WHERE kind = 'scheduled';
CREATE INDEX runs_by_monitor ON runs (monitor_id, window_start);

CREATE TABLE run_results (
    run_id            INTEGER PRIMARY KEY REFERENCES runs (id),
    drift_coefficient REAL,
    threshold         REAL NOT NULL,
    has_drift         INTEGER,
    -- The whole drift report (every metric of every feature), JSON.
    report            TEXT NOT NULL
);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT,
    entity    TEXT NOT NULL,
    entity_id INTEGER,
    action    TEXT NOT NULL,
    -- What changed, JSON.
    detail    TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    -- SHA-256 of the token, hex; the token itself is never stored.
    hash       TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL CHECK (role IN ('read', 'admin')),
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
