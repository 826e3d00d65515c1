//! Backfill benchmark: 52 weekly windows over 1M collected rows (the engine
//! bench's 20 numeric and 5 categorical columns, sorted by a timestamp,
//! drift planted from week 26 on, Parquet in row groups of 16,384 rows)
//! against a 1M-row baseline, run by the service's workers with their
//! default concurrency (2); then the results query over the 52 windows
//! and 25 features, over HTTP on loopback.
//!
//! The floor: reading every collected row once, and reading and sorting
//! one numeric column of them. A backfill must cost the target reads plus
//! the comparisons, never a re-read of the baseline (its profile file is
//! loaded once).
//!
//! `cargo bench -p tidewatch-server --bench backfill -- [ROWS] [--max-values N]
//! [--workers N]` (default 1000000 a side, an exact baseline profile, 2
//! workers as `tidewatch serve` has). Files go to `$TIDEWATCH_BENCH_DIR` (default: a
//! temporary folder, removed after).

#[path = "../../core/benches/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::Instant;

use arrow_array::{Array, Float64Array, RecordBatch, TimestampMicrosecondArray};
use tidewatch_core::ProfileOptions;
use tidewatch_server::api::{AppState, app};
use tidewatch_store::{Dataset, Frequency, MonitorSpec, RunKind, RunState, Store};

const WEEKS: i64 = 52;

/// 2024-01-01T00:00:00Z, a Monday, in microseconds.
const START: i64 = 1_704_067_200_000_000;
const WEEK_MICROS: i64 = 7 * 24 * 3600 * 1_000_000;

/// `rows` collected rows over 52 weeks in time order; weeks 26 on drift.
fn collected(rows: usize) -> Vec<RecordBatch> {
    let half = rows / 2;
    let early = common::dataset(half, 7, false);
    let late = common::dataset(rows - half, 8, true);
    let mut out = Vec::new();
    let mut row = 0i64;
    for b in early.into_iter().chain(late) {
        let n = b.num_rows() as i64;
        let ts: Vec<i64> = (row..row + n)
            .map(|r| {
                START + (i128::from(r) * i128::from(WEEKS * WEEK_MICROS) / rows as i128) as i64
            })
            .collect();
        row += n;
        let mut columns: Vec<(String, Arc<dyn Array>)> = vec![(
            "timestamp".into(),
            Arc::new(TimestampMicrosecondArray::from(ts).with_timezone("UTC")),
        )];
        for (f, c) in b.schema().fields().iter().zip(b.columns()) {
            columns.push((f.name().clone(), c.clone()));
        }
        out.push(RecordBatch::try_from_iter(columns).expect("consistent columns"));
    }
    out
}

fn write_parquet(path: &std::path::Path, batches: &[RecordBatch]) {
    let file = std::fs::File::create(path).expect("create parquet");
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(16_384))
        .build();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batches[0].schema(), Some(props))
        .expect("parquet writer");
    for b in batches {
        w.write(b).expect("write parquet");
    }
    w.close().expect("close parquet");
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rows: usize = args
        .iter()
        .take_while(|a| !a.starts_with("--"))
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    // Sketch mode for the baseline profile (a seeded sample of N values per
    // numeric feature), to compare with the exact default.
    let max_values: Option<usize> = args
        .iter()
        .position(|a| a == "--max-values")
        .and_then(|i| args.get(i + 1)?.parse().ok());
    let workers: usize = args
        .iter()
        .position(|a| a == "--workers")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(2);
    let keep = std::env::var_os("TIDEWATCH_BENCH_DIR").map(std::path::PathBuf::from);
    let tmp = tempfile::tempdir().expect("temporary folder");
    let dir = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).unwrap();
    let (base_file, target_file) = (dir.join("baseline.parquet"), dir.join("collected.parquet"));
    if !base_file.exists() || !target_file.exists() {
        write_parquet(&base_file, &common::dataset(rows, 1, false));
        write_parquet(&target_file, &collected(rows));
    }
    println!(
        "backfill bench: {rows} baseline rows, {rows} collected rows over {WEEKS} weeks, 25 features"
    );

    // The floor: read every collected row; read and sort one column.
    let options = tidewatch_data::ReadOptions::default();
    let t = Instant::now();
    let data = tidewatch_data::Dataset::open(target_file.to_str().unwrap(), &options).unwrap();
    let mut column: Vec<f64> = Vec::with_capacity(rows);
    for b in data.batches() {
        let b = b.unwrap();
        let c = b.column_by_name("num_0").unwrap();
        column.extend(
            c.as_any()
                .downcast_ref::<Float64Array>()
                .unwrap()
                .values()
                .iter(),
        );
    }
    let read = t.elapsed().as_secs_f64();
    column.sort_unstable_by(f64::total_cmp);
    let read_sort = t.elapsed().as_secs_f64();
    println!(
        "floor: read the collected rows {read:.2} s; read and sort one column {read_sort:.2} s"
    );

    let home = dir.join("home");
    let _ = std::fs::remove_dir_all(&home);
    let store = Store::open(&home).await.unwrap();
    for (name, file, time) in [
        ("train", &base_file, None),
        ("collected", &target_file, Some("timestamp")),
    ] {
        store
            .create_dataset(&Dataset {
                name: name.into(),
                input: file.display().to_string(),
                format: None,
                time_column: time.map(str::to_string),
                options: serde_json::json!({}),
            })
            .await
            .unwrap();
    }
    let t = Instant::now();
    let train = store.dataset("train").await.unwrap();
    let profile = tokio::task::spawn_blocking(move || {
        let options = ProfileOptions {
            max_values,
            ..ProfileOptions::default()
        };
        tidewatch_server::runner::fit_baseline(&train, None, &options)
    })
    .await
    .unwrap()
    .unwrap();
    store
        .create_baseline("training", "train", &profile)
        .await
        .unwrap();
    println!(
        "baseline fitted and stored once ({}): {:.2} s",
        max_values.map_or("exact".to_string(), |n| format!(
            "sketch mode, {n} values a feature"
        )),
        t.elapsed().as_secs_f64()
    );
    drop(profile);
    store
        .create_monitor(
            &MonitorSpec {
                name: "weekly".into(),
                baseline: "training".into(),
                baseline_version: Some(1),
                target: "collected".into(),
                model: None,
                services: Vec::new(),
                features: None,
                frequency: Frequency::Week,
                latency_hours: 0,
                threshold: 0.2,
                alerts: vec![],
                alert_persistence: None,
                enabled: false,
                feature_methods: Default::default(),
                feature_thresholds: Default::default(),
            },
            None,
        )
        .await
        .unwrap();
    let windows =
        Frequency::Week.windows("2024-01-01".parse().unwrap(), "2024-12-29".parse().unwrap());
    assert_eq!(windows.len(), WEEKS as usize);

    // The backfill, as the server runs it: queued, then the workers.
    let state = AppState::new(store.clone());
    let t = Instant::now();
    store
        .queue_runs(
            "weekly",
            RunKind::Backfill,
            &windows,
            &serde_json::json!({}),
        )
        .await
        .unwrap();
    let pool: Vec<_> = (0..workers)
        .map(|_| {
            let state = state.clone();
            tokio::spawn(async move {
                while tidewatch_server::runner::run_next(&state.store, &state.baselines)
                    .await
                    .unwrap()
                    .is_some()
                {}
            })
        })
        .collect();
    for w in pool {
        w.await.unwrap();
    }
    let backfill = t.elapsed().as_secs_f64();
    let runs = store.runs("weekly").await.unwrap();
    let ok = runs
        .iter()
        .filter(|r| r.state == RunState::Succeeded)
        .count();
    assert_eq!(
        ok,
        WEEKS as usize,
        "{:?}",
        runs.iter().find(|r| r.error.is_some())
    );
    println!(
        "backfill of {WEEKS} weekly windows, {workers} workers: {backfill:.2} s ({:.0} ms a window), peak RSS {:.0} MiB",
        1000.0 * backfill / WEEKS as f64,
        common::peak_rss_mib()
    );

    // The results query over HTTP on loopback.
    let (_, admin) = store
        .create_token("bench", tidewatch_store::Role::Read)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app(state)).await });
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/api/v1/monitors/weekly/results?from=2024-01-01&to=2024-12-30");
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..50 {
        let t = Instant::now();
        let response = client.get(&url).bearer_auth(&admin).send().await.unwrap();
        assert!(response.status().is_success());
        let body = response.bytes().await.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        bytes = body.len();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["windows"].as_array().unwrap().len(), WEEKS as usize);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "results query, {WEEKS} windows x 25 features over HTTP ({bytes} bytes): median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        times[times.len() - 1]
    );
    let drifted: Vec<bool> = store
        .results("weekly", windows[0].start, windows[51].end, false)
        .await
        .unwrap()
        .iter()
        .map(|r| r.has_drift == Some(true))
        .collect();
    println!(
        "drift found in {} of the first 26 weeks and {} of the last 26",
        drifted[..26].iter().filter(|d| **d).count(),
        drifted[26..].iter().filter(|d| **d).count()
    );
}
