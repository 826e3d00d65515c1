//! Dashboard benchmark: a daily monitor of 200 features (160 numeric, 40
//! categorical) with 365 windows of results. The first window is a real
//! run of the engine; the other 364 store that report with its
//! coefficient and contributions varied (a year of running every window
//! would bench the engine, not the dashboard).
//!
//! Measured over HTTP on loopback: each call the dashboard makes (the
//! monitors list, the monitor's series, one feature's metric series, a
//! window's features, one feature's distributions; the series also
//! gzip-compressed, as browsers ask for it), against the floor of
//! reading the 365 stored rows and parsing their JSON. Then, where
//! Debian's Chromium and chromedriver are installed, the page itself:
//! from opening the monitor to its 365 trend points and stacked bars
//! drawn, and from clicking a window to its details drawn.
//!
//! `cargo bench -p tidewatch-server --bench dashboard`

#[path = "../../cli/tests/it/webdriver.rs"]
#[allow(dead_code)]
mod webdriver;

use std::io::Write;
use std::time::Instant;

use serde_json::json;
use tidewatch_core::{DriftReport, ProfileOptions};
use tidewatch_server::api::{AppState, app};
use tidewatch_store::{Dataset, Frequency, MonitorSpec, RunKind, Store};

const NUMERIC: usize = 160;
const CATEGORICAL: usize = 40;
const WINDOWS: usize = 365;

/// A seeded generator (SplitMix64), for data without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `rows` rows of every feature on 2024-01-01, shifted by `shift`.
fn write_csv(path: &std::path::Path, rows: usize, seed: u64, shift: f64) {
    let mut rng = Rng(seed);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut header = vec!["timestamp".to_string()];
    header.extend((0..NUMERIC).map(|i| format!("num_{i:03}")));
    header.extend((0..CATEGORICAL).map(|i| format!("cat_{i:02}")));
    writeln!(out, "{}", header.join(",")).unwrap();
    for r in 0..rows {
        let mut line = format!("2024-01-01T{:02}:{:02}:00Z", (r / 60) % 24, r % 60);
        for i in 0..NUMERIC {
            let v = rng.uniform()
                + rng.uniform()
                + rng.uniform()
                + if i % 10 == 0 { shift } else { 0.0 };
            line.push_str(&format!(",{:.5}", v * (i + 1) as f64));
        }
        for _ in 0..CATEGORICAL {
            let u = rng.uniform() + shift * 0.2;
            line.push_str(&format!(",c{}", (u * u * 6.0) as u32 % 6));
        }
        writeln!(out, "{line}").unwrap();
    }
}

/// The real report with window `i`'s coefficient and contributions.
fn varied(report: &DriftReport, i: usize) -> DriftReport {
    let mut r = report.clone();
    let drifted = i >= WINDOWS / 2;
    let c = if drifted { 0.35 } else { 0.05 } + 0.04 * ((i as f64) * 0.7).sin();
    r.drift_coefficient = Some(c);
    r.has_drift = Some(c > 0.2);
    let mut total = 0.0;
    for (k, f) in r.features.iter_mut().enumerate() {
        let w = f.contribution.unwrap_or(0.0) * (1.3 + ((i * 7 + k * 13) as f64).sin());
        f.contribution = Some(w);
        total += w;
    }
    for f in &mut r.features {
        f.contribution = f.contribution.map(|w| w / total.max(1e-12));
    }
    r
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (base, target) = (dir.join("baseline.csv"), dir.join("target.csv"));
    write_csv(&base, 5000, 1, 0.0);
    write_csv(&target, 2000, 2, 0.3);
    let home = dir.join("home");
    let (store, token, run_ids) = runtime.block_on(async {
        let store = Store::open(&home).await.unwrap();
        for (name, file) in [("train", &base), ("collected", &target)] {
            store
                .create_dataset(&Dataset {
                    name: name.into(),
                    input: file.display().to_string(),
                    format: None,
                    time_column: Some("timestamp".into()),
                    options: json!({}),
                })
                .await
                .unwrap();
        }
        let train = store.dataset("train").await.unwrap();
        let profile = tidewatch_server::runner::fit_baseline(
            &train,
            None,
            &ProfileOptions {
                exclude: vec!["timestamp".into()],
                ..ProfileOptions::default()
            },
        )
        .unwrap();
        store
            .create_baseline("training", "train", &profile)
            .await
            .unwrap();
        store
            .create_monitor(
                &MonitorSpec {
                    name: "wide".into(),
                    baseline: "training".into(),
                    baseline_version: Some(1),
                    target: "collected".into(),
                    model: None,
                    services: Vec::new(),
                    features: None,
                    frequency: Frequency::Day,
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
            Frequency::Day.windows("2024-01-01".parse().unwrap(), "2024-12-30".parse().unwrap());
        assert_eq!(windows.len(), WINDOWS);
        // The first window, run for real.
        store
            .queue_runs("wide", RunKind::Backfill, &windows[..1], &json!({}))
            .await
            .unwrap();
        let state = AppState::new(store.clone());
        let first = tidewatch_server::runner::run_next(&state.store, &state.baselines)
            .await
            .unwrap()
            .expect("a run");
        let report: DriftReport =
            serde_json::from_value(store.run_report(first.id).await.unwrap()).unwrap();
        assert_eq!(
            report.features.len(),
            NUMERIC + CATEGORICAL,
            "every feature compared"
        );
        let runs = store
            .queue_runs("wide", RunKind::Backfill, &windows[1..], &json!({}))
            .await
            .unwrap();
        let mut ids = vec![first.id];
        for (i, run) in runs.iter().enumerate() {
            store.claim_run_id(run.id).await.unwrap().expect("claimed");
            store
                .complete_run(run.id, &varied(&report, i + 1), 0.2)
                .await
                .unwrap();
            ids.push(run.id);
        }
        let (_, token) = store
            .create_token("bench", tidewatch_store::Role::Admin)
            .await
            .unwrap();
        (store, token, ids)
    });
    println!(
        "dashboard bench: monitor of {} features, {WINDOWS} daily windows",
        NUMERIC + CATEGORICAL
    );

    // The floor: the stored rows read and their JSON parsed, nothing else.
    let floor = runtime.block_on(async {
        let mut times = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            let results = store
                .results(
                    "wide",
                    "2024-01-01T00:00:00Z".parse().unwrap(),
                    "2025-01-01T00:00:00Z".parse().unwrap(),
                    false,
                )
                .await
                .unwrap();
            assert_eq!(results.len(), WINDOWS);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        percentile(&times, 0.5)
    });
    println!("floor: read the {WINDOWS} stored result rows and parse them: median {floor:.1} ms");
    let cells = runtime.block_on(async {
        let mut times = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            let cells = store.feature_cells(&run_ids).await.unwrap();
            assert_eq!(cells.len(), WINDOWS * (NUMERIC + CATEGORICAL));
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        percentile(&times, 0.5)
    });
    println!(
        "store: every feature's contribution in every window ({} cells): median {cells:.1} ms",
        WINDOWS * (NUMERIC + CATEGORICAL)
    );

    let addr = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = AppState::new(store.clone());
        tokio::spawn(async move { axum::serve(listener, app(state)).await });
        addr
    });
    let url = format!("http://{addr}");
    let last = run_ids[WINDOWS - 1];
    let calls = [
        ("monitors list", "/api/v1/overview".to_string()),
        ("series", "/api/v1/monitors/wide/series".to_string()),
        ("series, gzip", "/api/v1/monitors/wide/series".to_string()),
        (
            "one feature's metrics",
            "/api/v1/monitors/wide/series?feature=num_000&contributions=false".to_string(),
        ),
        (
            "a window's features",
            format!("/api/v1/monitors/wide/results?run={last}"),
        ),
        (
            "one feature's distributions",
            format!("/api/v1/runs/{last}/report?feature=num_000"),
        ),
        (
            "(results query, every metric)",
            "/api/v1/monitors/wide/results?from=2024-01-01&to=2025-01-01".to_string(),
        ),
    ];
    runtime.block_on(async {
        let client = reqwest::Client::new();
        for (what, path) in &calls {
            let mut times = Vec::new();
            let mut bytes = 0;
            for _ in 0..20 {
                let t = Instant::now();
                let mut request = client.get(format!("{url}{path}")).bearer_auth(&token);
                if what.ends_with("gzip") {
                    // As a browser asks; the bytes counted are those sent.
                    request = request.header("accept-encoding", "gzip");
                }
                let response = request.send().await.unwrap();
                assert!(response.status().is_success(), "{path}");
                let body = response.bytes().await.unwrap();
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                bytes = body.len();
            }
            times.sort_by(f64::total_cmp);
            println!(
                "{what:<32} {:>9} bytes  median {:>6.1} ms  p95 {:>6.1} ms",
                bytes,
                percentile(&times, 0.5),
                percentile(&times, 0.95)
            );
        }
    });

    // The page in Chromium, where it is installed.
    if !std::path::Path::new("/usr/bin/chromedriver").exists() {
        println!("(no chromedriver: the page's drawing times are not measured)");
        return;
    }
    let browser = webdriver::Browser::start();
    browser.go(&format!("{url}/"));
    browser.type_into("#token", &token);
    browser.click("#login button[type=submit]");
    browser.wait("the monitors list", || browser.count("#monitors tr") > 1);
    let mut open = Vec::new();
    let mut details = Vec::new();
    for round in 0..5 {
        browser.click("nav a[href=\"/\"]");
        browser.wait("the monitors list", || browser.count("#monitors tr") > 1);
        let t = Instant::now();
        browser.click("#monitors a");
        browser.wait("the trend and bars", || {
            browser.count("#trend circle.point") == WINDOWS
                && browser.count("#contributions g.bar") == WINDOWS
        });
        open.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let index = 100 + round;
        browser.click(&format!("#trend circle.point[data-index=\"{index}\"]"));
        browser.wait("the window's details", || {
            browser.count("#features tbody tr") == NUMERIC + CATEGORICAL
                && browser.count("#distribution svg") == 1
                && browser.count("#metric-trend circle.point") == WINDOWS
        });
        details.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    open.sort_by(f64::total_cmp);
    details.sort_by(f64::total_cmp);
    println!(
        "page in headless Chromium: monitor opened to {WINDOWS} points and bars drawn: median {:.0} ms (max {:.0}); \
         a window clicked to its {} features, metric trend and distribution drawn: median {:.0} ms (max {:.0})",
        percentile(&open, 0.5),
        open[open.len() - 1],
        NUMERIC + CATEGORICAL,
        percentile(&details, 0.5),
        details[details.len() - 1]
    );
}
