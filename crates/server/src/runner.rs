//! Executing one run: read the monitor's target dataset in the run's
//! window, compare it with the stored baseline (never re-read: the profile
//! file is loaded), and store the results with the run's success. A run
//! that cannot complete ends failed with the reason, visible in the store.

use tidewatch_core::CompareOptions;
use tidewatch_data::window::TimeWindow;
use tidewatch_data::{Dataset, ReadOptions};
use tidewatch_store::{Run, RunState, Store};

/// Target rows a window needs at least; fewer fail the run.
pub const MIN_TARGET_ROWS: u64 = 50;

/// Takes the oldest queued run, executes it, and returns it as it ended
/// (`None` when nothing is queued).
pub async fn run_next(store: &Store) -> Result<Option<Run>, tidewatch_store::StoreError> {
    let Some(run) = store.claim_run().await? else {
        return Ok(None);
    };
    Ok(Some(execute(store, &run).await?))
}

/// Executes the running `run` and records how it ended.
pub async fn execute(store: &Store, run: &Run) -> Result<Run, tidewatch_store::StoreError> {
    match compare(store, run).await {
        Ok((report, threshold)) => store.complete_run(run.id, &report, threshold).await,
        Err(reason) => store.finish_run(run.id, Some(&reason)).await,
    }
}

/// The run's drift report and the threshold it was judged by, or why
/// there is none.
async fn compare(store: &Store, run: &Run) -> Result<(tidewatch_core::DriftReport, f64), String> {
    debug_assert_eq!(run.state, RunState::Running);
    let monitor = store
        .monitor(&run.monitor)
        .await
        .map_err(|e| e.to_string())?;
    let spec = monitor.spec;
    let record = store
        .baseline(&spec.baseline, None)
        .await
        .map_err(|e| e.to_string())?;
    let dataset = store
        .dataset(&spec.target)
        .await
        .map_err(|e| e.to_string())?;
    let column = dataset.time_column.clone().ok_or_else(|| {
        format!(
            "dataset {:?} has no time column, so it has no windows",
            dataset.name
        )
    })?;
    let threshold = run
        .overrides
        .get("threshold")
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(spec.threshold);
    let options = CompareOptions {
        threshold,
        methods: spec.feature_methods.clone(),
        thresholds: spec.feature_thresholds.clone(),
        ..CompareOptions::default()
    };
    let window = run.window;
    let profile = store.load_baseline(&record).map_err(|e| e.to_string())?;
    let read = ReadOptions {
        format: dataset
            .format
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e: String| e)?,
        window: Some(TimeWindow {
            column,
            from: Some(window.start.timestamp_micros()),
            to: Some(window.end.timestamp_micros()),
        }),
        ..ReadOptions::default()
    };
    let input = dataset.input.clone();
    // Reading and comparing are blocking work: off the async threads.
    tokio::task::spawn_blocking(move || {
        let data = Dataset::open(&input, &read).map_err(|e| e.to_string())?;
        let mut target = profile
            .target(data.schema(), options.seed)
            .map_err(|e| e.to_string())?;
        let mut batches = data.batches();
        for batch in batches.by_ref() {
            let batch = batch.map_err(|e| e.to_string())?;
            target.update(&batch).map_err(|e| e.to_string())?;
        }
        if target.rows() < MIN_TARGET_ROWS {
            return Err(format!(
                "{} target rows in the window [{}, {}): at least {MIN_TARGET_ROWS} are needed",
                target.rows(),
                window.start.to_rfc3339(),
                window.end.to_rfc3339()
            ));
        }
        let target = target.finish().map_err(|e| e.to_string())?;
        let report = profile
            .compare_target(target, &options)
            .map_err(|e| e.to_string())?;
        Ok((report, threshold))
    })
    .await
    .map_err(|e| format!("the run's worker failed: {e}"))?
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tidewatch_core::{BaselineProfile, ProfileOptions};
    use tidewatch_store::{Dataset as DatasetRecord, Frequency, MonitorSpec, RunKind};

    use super::*;

    fn example(name: &str) -> String {
        format!("{}/../../examples/data/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    #[tokio::test]
    async fn a_weekly_backfill_finds_the_drift_of_the_later_weeks() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        for (name, file) in [
            ("reference", "car_loan_reference.csv"),
            ("analysis", "car_loan_analysis.csv"),
        ] {
            store
                .create_dataset(&DatasetRecord {
                    name: name.into(),
                    input: example(file),
                    format: None,
                    time_column: Some("timestamp".into()),
                    options: serde_json::json!({}),
                })
                .await
                .unwrap();
        }
        let reference =
            Dataset::open(&example("car_loan_reference.csv"), &ReadOptions::default()).unwrap();
        let (batches, _) = reference.read_all().unwrap();
        let options = ProfileOptions {
            exclude: vec!["id".into(), "repaid".into(), "timestamp".into()],
            ..ProfileOptions::default()
        };
        let profile = BaselineProfile::fit(&batches, &options).unwrap();
        store
            .create_baseline("training", "reference", &profile)
            .await
            .unwrap();
        let spec = MonitorSpec {
            name: "car-loans".into(),
            baseline: "training".into(),
            target: "analysis".into(),
            features: None,
            frequency: Frequency::Week,
            latency_hours: 0,
            threshold: 0.2,
            alerts: vec![],
            enabled: true,
            feature_methods: BTreeMap::new(),
            feature_thresholds: BTreeMap::new(),
        };
        store.create_monitor(&spec, None).await.unwrap();
        let weeks =
            Frequency::Week.windows("2018-10-30".parse().unwrap(), "2019-08-29".parse().unwrap());
        for w in &weeks {
            store
                .queue_run("car-loans", RunKind::Backfill, *w, serde_json::json!({}))
                .await
                .unwrap();
        }
        // A window with no rows fails with its reason.
        let empty = Frequency::Week.window_of("2017-01-02".parse().unwrap());
        store
            .queue_run("car-loans", RunKind::Adhoc, empty, serde_json::json!({}))
            .await
            .unwrap();
        while run_next(&store).await.unwrap().is_some() {}
        let runs = store.runs("car-loans").await.unwrap();
        let failed: Vec<_> = runs
            .iter()
            .filter(|r| r.state == RunState::Failed)
            .collect();
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert!(
            failed[0]
                .error
                .as_deref()
                .unwrap()
                .contains("0 target rows")
        );
        let results = store
            .results(
                "car-loans",
                weeks[0].start,
                weeks[weeks.len() - 1].end,
                false,
            )
            .await
            .unwrap();
        // Every week with enough rows has a result (the last, partial
        // week may be short).
        assert!(
            results.len() >= weeks.len() - 1,
            "{} of {}",
            results.len(),
            weeks.len()
        );
        let drift: Vec<bool> = results.iter().map(|r| r.has_drift == Some(true)).collect();
        let half = drift.len() / 2;
        let early = drift[..half / 2].iter().filter(|d| **d).count();
        let late = drift[drift.len() - half / 2..]
            .iter()
            .filter(|d| **d)
            .count();
        assert_eq!(early, 0, "early weeks: {drift:?}");
        assert!(late >= half / 2 - 1, "late weeks: {drift:?}");
    }
}
