-- Version 6: results laid out for queries over many windows.
--
-- Version 2 appended `metrics` after `report`, so reading the compact
-- metrics of a window walked the whole report's overflow pages first (a
-- report of 200 features is megabytes). The table is rebuilt with the
-- small columns first and the report last, and gains `dataset`, the
-- dataset-level figures alone.
--
-- `feature_results` holds each feature's entry of `metrics` as a row: its
-- contribution and drift flag as columns (a covering index serves every
-- feature's contribution per window without reading any JSON), and its
-- metrics, JSON, for one feature's trend.
CREATE TABLE run_results_v6 (
    run_id            INTEGER PRIMARY KEY REFERENCES runs (id),
    drift_coefficient REAL,
    threshold         REAL NOT NULL,
    has_drift         INTEGER,
    -- The dataset-level figures (`metrics.dataset`), JSON.
    dataset           TEXT NOT NULL DEFAULT '{}',
    -- The compact metrics of every feature (see store::metrics), JSON.
    metrics           TEXT NOT NULL DEFAULT '{}',
    -- The whole drift report, JSON.
    report            TEXT NOT NULL
);
INSERT INTO run_results_v6
    (run_id, drift_coefficient, threshold, has_drift, dataset, metrics, report)
SELECT run_id, drift_coefficient, threshold, has_drift,
       COALESCE(json_extract(metrics, '$.dataset'), '{}'), metrics, report
FROM run_results;
DROP TABLE run_results;
ALTER TABLE run_results_v6 RENAME TO run_results;

CREATE TABLE feature_results (
    run_id         INTEGER NOT NULL REFERENCES runs (id),
    feature        TEXT NOT NULL,
    -- Share of the classifier's split gain, 0..1 (null: no classifier).
    contribution   REAL,
    -- 1 when the feature drifted by its deciding metric or missing rate.
    drift_detected INTEGER,
    -- The feature's entry of run_results.metrics, JSON.
    metrics        TEXT NOT NULL,
    PRIMARY KEY (run_id, feature)
) WITHOUT ROWID;
CREATE INDEX feature_contributions
    ON feature_results (run_id, feature, contribution, drift_detected);
INSERT INTO feature_results (run_id, feature, contribution, drift_detected, metrics)
SELECT x.run_id, f.key, json_extract(f.value, '$.contribution'),
       json_extract(f.value, '$.drift_detected'), f.value
FROM run_results x, json_each(x.metrics, '$.features') f;
