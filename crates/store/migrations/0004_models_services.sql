-- Version 4: registered models and the services that collect for them
-- (the reference's Model.register and its deployments), and runs per
-- service: a monitor made from a model compares each of its services'
-- collected inputs, one run per service per window.

CREATE TABLE models (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    version          TEXT NOT NULL,
    -- The training dataset, and the baseline fitted from it at registration.
    dataset_id       INTEGER NOT NULL REFERENCES datasets (id),
    baseline         TEXT NOT NULL,
    baseline_version INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    UNIQUE (name, version)
);

CREATE TABLE services (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    -- The model version it serves.
    model      TEXT NOT NULL,
    version    TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- The service a run compares (NULL: the monitor's target dataset).
ALTER TABLE runs ADD COLUMN service TEXT;
DROP INDEX runs_scheduled_once;
CREATE UNIQUE INDEX runs_scheduled_once ON runs (monitor_id, window_start, COALESCE(service, ''))
    WHERE kind = 'scheduled';
