//! Executing one run: read the monitor's target dataset in the run's
//! window, compare it with the stored baseline (never re-read: the profile
//! file is loaded once and kept in memory), and store the results with the
//! run's success. A run that cannot complete ends failed with the reason,
//! visible in the store; a run cancelled while it reads stops between
//! batches.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use tidewatch_core::{BaselineProfile, CompareOptions, ProfileBuilder, ProfileOptions};
use tidewatch_data::join::Predictions;
use tidewatch_data::window::TimeWindow;
use tidewatch_data::{BadValues, ColumnType, Dataset, ReadOptions};
use tidewatch_store::{BaselineRecord, Run, RunState, Store, StoreError};

/// Target rows a window needs at least; fewer fail the run (the
/// reference's minimum).
pub const MIN_TARGET_ROWS: u64 = 50;

/// Profiles kept in memory, at most; the least recently used goes first.
const CACHED_BASELINES: usize = 8;

/// Loaded baseline profiles by name and version: a backfill of many
/// windows loads its baseline file once.
#[derive(Clone, Default)]
pub struct Baselines {
    cache: Arc<Mutex<Cache>>,
}

/// A use counter, and each profile by (name, version) with its last use.
type Cache = (u64, HashMap<(String, i64), (u64, Arc<BaselineProfile>)>);

impl Baselines {
    /// The profile `record` names, from memory or its file (checked
    /// against the record).
    pub async fn get(
        &self,
        store: &Store,
        record: &BaselineRecord,
    ) -> Result<Arc<BaselineProfile>, StoreError> {
        let key = (record.name.clone(), record.version);
        {
            let mut guard = self.cache.lock().expect("the cache lock is never poisoned");
            let (clock, map) = &mut *guard;
            *clock += 1;
            if let Some((used, p)) = map.get_mut(&key) {
                *used = *clock;
                return Ok(p.clone());
            }
        }
        let (store, rec) = (store.clone(), record.clone());
        let profile = tokio::task::spawn_blocking(move || store.load_baseline(&rec))
            .await
            .map_err(|e| StoreError::BaselineFile {
                name: record.name.clone(),
                version: record.version,
                path: record.file.clone().into(),
                detail: format!("the loading thread failed: {e}"),
            })??;
        let profile = Arc::new(profile);
        let mut guard = self.cache.lock().expect("the cache lock is never poisoned");
        let (clock, map) = &mut *guard;
        if map.len() >= CACHED_BASELINES
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(key, (*clock, profile.clone()));
        Ok(profile)
    }
}

/// The read options a dataset's stored `options` give: `delimiter` and
/// `quote` (one ASCII character each), `header` (boolean), `column_types`
/// (column to `integer`, `float`, `string`, `boolean` or `timestamp`) and
/// `bad_values` (`fail` or `missing`). An unknown key is an error.
pub fn read_options(dataset: &tidewatch_store::Dataset) -> Result<ReadOptions, String> {
    let mut options = ReadOptions {
        format: dataset
            .format
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e: String| format!("format: {e}"))?,
        ..ReadOptions::default()
    };
    let empty = serde_json::Map::new();
    let map = match &dataset.options {
        serde_json::Value::Object(m) => m,
        serde_json::Value::Null => &empty,
        other => return Err(format!("options: must be an object, not {other}")),
    };
    let char_of = |key: &str, v: &serde_json::Value| -> Result<u8, String> {
        match v.as_str().map(str::as_bytes) {
            Some([c]) if c.is_ascii() => Ok(*c),
            _ => Err(format!(
                "options.{key}: must be one ASCII character, not {v}"
            )),
        }
    };
    for (key, v) in map {
        match key.as_str() {
            "delimiter" => options.csv.delimiter = char_of(key, v)?,
            "quote" => options.csv.quote = char_of(key, v)?,
            "header" => {
                options.csv.header = v
                    .as_bool()
                    .ok_or_else(|| format!("options.header: must be true or false, not {v}"))?
            }
            "bad_values" => {
                options.bad_values = match v.as_str() {
                    Some("fail") => BadValues::Fail,
                    Some("missing") => BadValues::Missing,
                    _ => {
                        return Err(format!(
                            "options.bad_values: must be fail or missing, not {v}"
                        ));
                    }
                }
            }
            "column_types" => {
                let types = v
                    .as_object()
                    .ok_or_else(|| format!("options.column_types: must be an object, not {v}"))?;
                for (column, t) in types {
                    let t: ColumnType = t
                        .as_str()
                        .ok_or_else(|| format!("options.column_types.{column}: must be a string"))?
                        .parse()
                        .map_err(|e: String| format!("options.column_types.{column}: {e}"))?;
                    options.column_types.insert(column.clone(), t);
                }
            }
            // The join, read by `join_of`.
            "predictions" | "join_on" => {
                if !v.is_string() {
                    return Err(format!("options.{key}: must be a string, not {v}"));
                }
            }
            other => {
                return Err(format!(
                    "options.{other}: unknown (known: delimiter, quote, header, column_types, bad_values, predictions, join_on)"
                ));
            }
        }
    }
    Ok(options)
}

/// What a run of a monitor made from a model compares: the service's
/// collected inputs for that model version (compacted, under the data
/// directory), joined to its predictions, cut on `$Timestamp`.
pub fn service_dataset(
    store: &Store,
    service: &str,
    model: &tidewatch_store::ModelRef,
) -> tidewatch_store::Dataset {
    use tidewatch_data::collected::stream_glob;
    let root = store.dir().join("collect").join("data");
    let glob = |stream| {
        stream_glob(
            &root,
            service,
            Some(&model.name),
            Some(&model.version),
            stream,
        )
    };
    tidewatch_store::Dataset {
        name: format!("service {service}"),
        input: glob("inputs"),
        format: Some("parquet".into()),
        time_column: Some(tidewatch_data::records::TIMESTAMP.into()),
        options: serde_json::json!({"predictions": glob("predictions")}),
    }
}

/// Predictions are read this far beyond the window on each side: a
/// prediction is logged a moment after its input, which may lie on the
/// other side of a window's edge.
const PREDICTION_MARGIN_MICROS: i64 = 3_600_000_000;

/// The dataset's records with their predictions joined, when its options
/// name a `predictions` input (joined on `join_on`, default
/// `$CorrelationId`, left outer: see [`tidewatch_data::join`]).
struct Source {
    data: Dataset,
    join: Option<(Predictions, SchemaRef)>,
}

impl Source {
    fn open(dataset: &tidewatch_store::Dataset, read: &ReadOptions) -> Result<Source, String> {
        let data = Dataset::open(&dataset.input, read).map_err(|e| e.to_string())?;
        let option = |k: &str| dataset.options.get(k).and_then(|v| v.as_str());
        let Some(input) = option("predictions") else {
            return Ok(Source { data, join: None });
        };
        let key = option("join_on").unwrap_or(tidewatch_data::records::CORRELATION_ID);
        let mut around = ReadOptions {
            window: read.window.clone(),
            ..ReadOptions::default()
        };
        if let Some(w) = &mut around.window {
            w.column = tidewatch_data::records::TIMESTAMP.to_string();
            w.from = w.from.map(|f| f - PREDICTION_MARGIN_MICROS);
            w.to = w.to.map(|t| t + PREDICTION_MARGIN_MICROS);
        }
        let predictions = match Dataset::open(input, &around) {
            Ok(p) => Predictions::read(&p, key).map_err(|e| format!("predictions: {e}"))?,
            // Nothing predicted yet: nothing to join.
            Err(tidewatch_data::Error::NoFiles { .. }) => Predictions::none(key),
            Err(e) => return Err(format!("predictions: {e}")),
        };
        let schema = predictions
            .joined_schema(&data.schema())
            .map_err(|e| e.to_string())?;
        Ok(Source {
            data,
            join: Some((predictions, schema)),
        })
    }

    fn schema(&self) -> SchemaRef {
        match &self.join {
            Some((_, schema)) => schema.clone(),
            None => self.data.schema(),
        }
    }

    /// A batch of the records, joined.
    fn joined(&self, batch: RecordBatch) -> Result<RecordBatch, String> {
        match &self.join {
            Some((p, schema)) => p.attach(&batch, schema).map_err(|e| e.to_string()),
            None => Ok(batch),
        }
    }
}

/// Fits a baseline profile of `dataset` (optionally within `[from, to)`
/// on its time column), streaming its files: blocking work.
pub fn fit_baseline(
    dataset: &tidewatch_store::Dataset,
    window: Option<(Option<String>, Option<String>)>,
    options: &ProfileOptions,
) -> Result<BaselineProfile, String> {
    let mut read = read_options(dataset)?;
    if let Some((from, to)) = window {
        let column = dataset.time_column.as_deref().ok_or_else(|| {
            format!(
                "dataset {:?} has no time column to cut from and to on",
                dataset.name
            )
        })?;
        read.window = Some(
            TimeWindow::parse(column, from.as_deref(), to.as_deref()).map_err(|e| e.to_string())?,
        );
    }
    let source = Source::open(dataset, &read)?;
    let data = &source.data;
    let mut builder = ProfileBuilder::new(source.schema(), options).map_err(|e| e.to_string())?;
    let mut batches = data.batches();
    for batch in batches.by_ref() {
        let batch = source.joined(batch.map_err(|e| e.to_string())?)?;
        builder.update(&batch).map_err(|e| e.to_string())?;
    }
    if batches.report().rows == 0 {
        return Err(batches.empty_error().to_string());
    }
    let mut profile = builder.finish().map_err(|e| e.to_string())?;
    let w = read.window.as_ref();
    profile.source = Some(tidewatch_core::DataSource {
        input: dataset.input.clone(),
        files: data.files.iter().map(|f| f.display().to_string()).collect(),
        time_column: w.map(|w| w.column.clone()),
        from: w
            .and_then(|w| w.from)
            .map(tidewatch_data::window::format_instant),
        to: w
            .and_then(|w| w.to)
            .map(tidewatch_data::window::format_instant),
    });
    Ok(profile)
}

/// Takes the oldest queued run, executes it, and returns it as it ended
/// (`None` when nothing is queued).
pub async fn run_next(store: &Store, baselines: &Baselines) -> Result<Option<Run>, StoreError> {
    let Some(run) = store.claim_run().await? else {
        return Ok(None);
    };
    Ok(Some(execute(store, baselines, &run).await?))
}

/// Executes the running `run` and records how it ended. While it runs,
/// its state is polled: a cancelled run stops reading.
pub async fn execute(store: &Store, baselines: &Baselines, run: &Run) -> Result<Run, StoreError> {
    let cancelled = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (store, flag, id) = (store.clone(), cancelled.clone(), run.id);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                if matches!(store.run(id).await, Ok(r) if r.state == RunState::Cancelled) {
                    flag.store(true, Ordering::Relaxed);
                    return;
                }
            }
        })
    };
    let outcome = compare(store, baselines, run, cancelled).await;
    watcher.abort();
    match outcome {
        Ok((report, threshold)) => store.complete_run(run.id, &report, threshold).await,
        Err(reason) => store.finish_run(run.id, Some(&reason)).await,
    }
}

/// The run's drift report and the threshold it was judged by, or why
/// there is none.
async fn compare(
    store: &Store,
    baselines: &Baselines,
    run: &Run,
    cancelled: Arc<AtomicBool>,
) -> Result<(tidewatch_core::DriftReport, f64), String> {
    debug_assert_eq!(run.state, RunState::Running);
    let monitor = store
        .monitor(&run.monitor)
        .await
        .map_err(|e| e.to_string())?;
    let spec = monitor.spec;
    let record = store
        .baseline(&spec.baseline, spec.baseline_version)
        .await
        .map_err(|e| e.to_string())?;
    let dataset = match (&run.service, &spec.model) {
        (Some(service), Some(model)) => service_dataset(store, service, model),
        _ => store
            .dataset(&spec.target)
            .await
            .map_err(|e| e.to_string())?,
    };
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
    let features = match run.overrides.get("features") {
        Some(list) => Some(
            serde_json::from_value::<Vec<String>>(list.clone())
                .map_err(|e| format!("the run's feature list: {e}"))?,
        ),
        None => spec.features.clone(),
    };
    let options = CompareOptions {
        threshold,
        methods: spec.feature_methods.clone(),
        thresholds: spec.feature_thresholds.clone(),
        features,
        ..CompareOptions::default()
    };
    let window = run.window;
    let profile = baselines
        .get(store, &record)
        .await
        .map_err(|e| e.to_string())?;
    let mut read = read_options(&dataset)?;
    read.window = Some(TimeWindow {
        column,
        from: Some(window.start.timestamp_micros()),
        to: Some(window.end.timestamp_micros()),
    });
    // Reading and comparing are blocking work: off the async threads.
    tokio::task::spawn_blocking(move || {
        let source = Source::open(&dataset, &read)?;
        let data = &source.data;
        let schema_changes = data.schema_changes().to_vec();
        let mut target = profile
            .target(source.schema(), options.seed)
            .map_err(|e| e.to_string())?;
        let mut batches = data.batches();
        for batch in batches.by_ref() {
            if cancelled.load(Ordering::Relaxed) {
                return Err("cancelled".to_string());
            }
            let batch = source.joined(batch.map_err(|e| e.to_string())?)?;
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
        let mut report = profile
            .compare_target(target, &options)
            .map_err(|e| e.to_string())?;
        report.schema.target_changes = schema_changes;
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
            baseline_version: None,
            target: "analysis".into(),
            model: None,
            services: Vec::new(),
            features: None,
            frequency: Frequency::Week,
            latency_hours: 0,
            threshold: 0.2,
            alerts: vec![],
            alert_persistence: None,
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
        let baselines = Baselines::default();
        while run_next(&store, &baselines).await.unwrap().is_some() {}
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
