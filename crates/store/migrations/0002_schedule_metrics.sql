-- Version 2: the scheduler's starting window, compact per-window metrics
-- for the results query, and token roles fixed.

-- Start of the first window the scheduler may run for a monitor: the newest
-- complete window when the monitor was created or last enabled (windows
-- before it are backfill's). NULL: not scheduled yet.
ALTER TABLE monitors ADD COLUMN schedule_from TEXT;

-- The dataset-level figures and every feature's metrics of a run, JSON:
-- what the results query returns, without the distributions of the report.
ALTER TABLE run_results ADD COLUMN metrics TEXT NOT NULL DEFAULT '{}';

CREATE INDEX runs_by_state ON runs (state, id);
