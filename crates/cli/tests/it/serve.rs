//! `tidewatch serve` end to end: the real binary on a loopback port over a
//! temporary data directory, driven over HTTP. The car-loan reference is
//! the baseline; its analysis period, whose second half is drifted, is
//! backfilled week by week, with the server killed (SIGKILL) in the middle
//! of the backfill and started again.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{example, tidewatch};

/// A running server, killed on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `tidewatch serve` on a free port and waits for its
    /// "listening" line (readiness, not a sleep).
    pub(crate) fn start(home: &Path) -> Server {
        Server::start_with(home, &[])
    }

    /// [`Server::start`] with more options.
    pub(crate) fn start_with(home: &Path, extra: &[&str]) -> Server {
        let bind: &[&str] = if extra.contains(&"--bind") {
            &[]
        } else {
            &["--bind", "127.0.0.1:0"]
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_tidewatch"))
            .args(["serve", "--workers", "2", "--schedule-every", "1"])
            .args(bind)
            .args(extra)
            .arg("--data-dir")
            .arg(home)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("tidewatch serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        Server { child, url }
    }

    /// Kills the process at once, as a crash would.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// A blocking HTTP call with `token`; the status and the JSON body.
pub(crate) fn call(
    server: &Server,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut req = client.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}/api/v1{path}", server.url),
        );
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let response = req.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    })
}

pub(crate) fn token(home: &Path, name: &str, role: &str) -> String {
    let out = tidewatch(&[
        "token",
        "create",
        name,
        "--role",
        role,
        "--data-dir",
        home.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The runs of monitor `car-loans`, by window.
fn runs(server: &Server, token: &str) -> Vec<Value> {
    runs_of(server, token, "car-loans")
}

/// The runs of a monitor, by window.
fn runs_of(server: &Server, token: &str, monitor: &str) -> Vec<Value> {
    let (status, runs) = call(
        server,
        Some(token),
        "GET",
        &format!("/monitors/{monitor}/runs"),
        None,
    );
    assert_eq!(status, 200, "{runs}");
    runs.as_array().unwrap().clone()
}

fn count(runs: &[Value], state: &str) -> usize {
    runs.iter().filter(|r| r["state"] == state).count()
}

#[test]
fn a_weekly_backfill_survives_a_killed_server_and_finds_the_late_drift() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let admin = token(&home, "e2e", "admin");
    let reader = token(&home, "viewer", "read");
    let server = Server::start(&home);

    // Access: no token, a read-only token changing something.
    let (status, body) = call(&server, None, "GET", "/monitors", None);
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (401, json!("unauthenticated"))
    );
    let (status, _) = call(&server, Some(&reader), "POST", "/datasets", Some(json!({})));
    assert_eq!(status, 403);

    for (name, file) in [
        ("reference", "car_loan_reference.csv"),
        ("analysis", "car_loan_analysis.csv"),
    ] {
        let body = json!({"name": name, "input": example(file), "time_column": "timestamp"});
        let (status, answer) = call(&server, Some(&admin), "POST", "/datasets", Some(body));
        assert_eq!(status, 201, "{answer}");
    }
    let (status, answer) = call(
        &server,
        Some(&admin),
        "POST",
        "/baselines",
        Some(json!({"name": "training", "dataset": "reference",
                    "exclude": ["id", "repaid", "timestamp", "y_pred_proba", "y_pred"]})),
    );
    assert_eq!(status, 201, "{answer}");
    // Invalid monitors are refused with the field named.
    let (status, answer) = call(
        &server,
        Some(&admin),
        "POST",
        "/monitors",
        Some(
            json!({"name": "car-loans", "baseline": "training", "target": "analysis",
                    "frequency": "fortnight", "threshold": -1}),
        ),
    );
    assert_eq!(status, 400);
    let fields: Vec<&str> = answer["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["frequency", "threshold"]);
    // Disabled: only the backfill runs, not the schedule (whose windows
    // are today's, with no rows in this old data).
    let (status, answer) = call(
        &server,
        Some(&admin),
        "POST",
        "/monitors",
        Some(
            json!({"name": "car-loans", "baseline": "training", "target": "analysis",
                    "frequency": "week", "enabled": false}),
        ),
    );
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = call(
        &server,
        Some(&admin),
        "POST",
        "/monitors/car-loans/backfill",
        Some(json!({"from": "2018-10-30", "to": "2019-08-29"})),
    );
    assert_eq!(status, 202, "{answer}");
    let weeks = answer["runs"].as_array().unwrap().len();
    assert_eq!(weeks, 44);

    // Kill the server once a few windows are done, mid-backfill.
    let started = Instant::now();
    loop {
        let done = count(&runs(&server, &admin), "succeeded");
        if done >= 4 {
            assert!(done < weeks, "the backfill finished before the kill");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the backfill does not progress"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server.kill();

    // Started again: interrupted runs are queued again and the backfill
    // goes on to the end.
    let server = Server::start(&home);
    let started = Instant::now();
    let runs = loop {
        let runs = runs(&server, &admin);
        if count(&runs, "queued") + count(&runs, "running") == 0 {
            break runs;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the backfill does not finish"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    // No window lost or doubled: one run per week, every one succeeded.
    assert_eq!(runs.len(), weeks);
    assert_eq!(count(&runs, "succeeded"), weeks, "{runs:?}");
    let mut starts: Vec<&str> = runs
        .iter()
        .map(|r| r["window"]["start"].as_str().unwrap())
        .collect();
    starts.dedup();
    assert_eq!(starts.len(), weeks);

    let (status, results) = call(
        &server,
        Some(&reader),
        "GET",
        "/monitors/car-loans/results?from=2018-10-29&to=2019-09-02",
        None,
    );
    assert_eq!(status, 200, "{results}");
    let windows = results["windows"].as_array().unwrap();
    assert_eq!(windows.len(), weeks);
    let drift: Vec<bool> = windows.iter().map(|w| w["has_drift"] == true).collect();
    let quarter = weeks / 4;
    assert!(
        drift[..quarter].iter().all(|d| !d),
        "early weeks: {drift:?}"
    );
    // The last week is partial (the data ends on a Thursday): a few
    // hundred rows, which the classifier may not separate.
    assert!(
        drift[weeks - 1 - quarter..weeks - 1].iter().all(|d| *d),
        "late weeks: {drift:?}"
    );
    assert_eq!(
        windows[0]["metrics"]["features"].as_object().unwrap().len(),
        7
    );

    // The CLI on the server: the results table and the figures.
    let url = server.url.clone();
    let out = tidewatch(&[
        "results",
        "car-loans",
        "--server",
        &url,
        "--token",
        &reader,
        "--from",
        "2019-06-01",
        "--to",
        "2019-07-01",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        table.lines().filter(|l| l.ends_with("DRIFT")).count(),
        5,
        "{table}"
    );
    let figures = dir.path().join("figures");
    let out = tidewatch(&[
        "show",
        "car-loans",
        "--server",
        &url,
        "--token",
        &reader,
        "--from",
        "2018-10-29",
        "--to",
        "2019-09-02",
        "--details",
        "-o",
        figures.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(figures.join("drift-coefficient.svg")).unwrap();
    assert_eq!(svg.matches(r#"class="point""#).count(), weeks);
    assert!(figures.join("contributions.png").exists());
    assert_eq!(
        std::fs::read_dir(&figures).unwrap().count(),
        2 * (2 + 7),
        "two trends and one metric trend per feature, as SVG and PNG"
    );
    // A bad token on the CLI is an error naming the status.
    let out = tidewatch(&["monitor", "list", "--server", &url, "--token", "tw_bad"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));
}

#[test]
fn the_cli_works_on_a_local_data_directory_alike() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let h = home.to_str().unwrap();
    let reference = example("car_loan_reference.csv");
    let analysis = example("car_loan_analysis.csv");
    for args in [
        vec![
            "dataset",
            "create",
            "reference",
            reference.to_str().unwrap(),
            "--time-column",
            "timestamp",
        ],
        vec![
            "dataset",
            "create",
            "analysis",
            analysis.to_str().unwrap(),
            "--time-column",
            "timestamp",
        ],
        vec![
            "baseline",
            "create",
            "training",
            "--dataset",
            "reference",
            "--exclude",
            "id,repaid,timestamp,y_pred_proba,y_pred",
        ],
        vec![
            "monitor",
            "create",
            "car-loans",
            "--frequency",
            "month",
            "--baseline",
            "training",
            "--target",
            "analysis",
            "--disabled",
        ],
    ] {
        let mut args = args.clone();
        args.extend(["--data-dir", h]);
        let out = tidewatch(&args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Locally the runs execute in the command itself.
    let out = tidewatch(&[
        "backfill",
        "car-loans",
        "2019-01-01",
        "2019-06-30",
        "--data-dir",
        h,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .matches("succeeded")
            .count(),
        6
    );
    let out = tidewatch(&[
        "results",
        "car-loans",
        "--from",
        "2019-01-01",
        "--to",
        "2019-07-01",
        "--data-dir",
        h,
    ]);
    let table = String::from_utf8(out.stdout).unwrap();
    assert_eq!(table.lines().count(), 7, "{table}");
    assert!(table.lines().last().unwrap().ends_with("DRIFT"), "{table}");
    // Errors: an unknown monitor, FROM after TO, a bad threshold.
    for (args, says) in [
        (vec!["results", "ghost"], "no monitor named \"ghost\""),
        (
            vec!["backfill", "car-loans", "2019-06-01", "2019-01-01"],
            "from: must not be after to",
        ),
        (
            vec!["monitor", "update", "car-loans", "--threshold", "7"],
            "threshold: must lie in [0, 1], not 7",
        ),
        (
            vec!["run", "start", "car-loans", "yesterday"],
            "date: \"yesterday\" is not a date",
        ),
    ] {
        let mut args = args.clone();
        args.extend(["--data-dir", h]);
        let out = tidewatch(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// A CSV of the last `days` UTC days before today, `per_day` rows a day.
fn recent_csv(path: &Path, days: i64, per_day: i64) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    writeln!(f, "timestamp,x,c").unwrap();
    let today = chrono::Utc::now().date_naive();
    for d in 1..=days {
        let day = today - chrono::Duration::days(d);
        for i in 0..per_day {
            let x = (i * 37 % 101) as f64;
            let c = ["a", "b", "c"][(i % 3) as usize];
            writeln!(f, "{day}T{:02}:{:02}:00Z,{x},{c}", i % 24, i % 60).unwrap();
        }
    }
}

#[test]
fn the_scheduler_runs_the_newest_complete_window_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let admin = token(&home, "e2e", "admin");
    let data = dir.path().join("recent.csv");
    recent_csv(&data, 3, 120);
    let server = Server::start(&home);
    let body = json!({"name": "recent", "input": data, "time_column": "timestamp"});
    assert_eq!(
        call(&server, Some(&admin), "POST", "/datasets", Some(body)).0,
        201
    );
    let body = json!({"name": "b", "dataset": "recent", "exclude": ["timestamp"]});
    let (status, answer) = call(&server, Some(&admin), "POST", "/baselines", Some(body));
    assert_eq!(status, 201, "{answer}");
    // Enabled, daily, no latency: yesterday's window is complete, and the
    // scheduler (every second here) runs it without being asked.
    let body = json!({"name": "daily", "baseline": "b", "target": "recent", "frequency": "day"});
    let (status, answer) = call(&server, Some(&admin), "POST", "/monitors", Some(body));
    assert_eq!(status, 201, "{answer}");
    let started = Instant::now();
    let run = loop {
        let runs = runs_of(&server, &admin, "daily");
        if let Some(r) = runs.iter().find(|r| r["state"] == "succeeded") {
            break r.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no scheduled run: {runs:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(run["kind"], "scheduled");
    let yesterday = (chrono::Utc::now().date_naive() - chrono::Duration::days(1)).to_string();
    assert!(
        run["window"]["start"]
            .as_str()
            .unwrap()
            .starts_with(&yesterday),
        "{run}"
    );
    // Restarted, it does not run the window again.
    server.kill();
    let server = Server::start(&home);
    std::thread::sleep(Duration::from_millis(2500));
    let runs = runs_of(&server, &admin, "daily");
    assert_eq!(runs.len(), 1, "{runs:?}");
}

#[test]
fn batches_acknowledged_before_a_kill_are_all_there_once() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let out = tidewatch(&[
        "token",
        "create",
        "writer",
        "--role",
        "ingest",
        "--service",
        "loans-api",
        "--data-dir",
        home.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let server = Server::start(&home);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = format!("{}/api/v1/services/loans-api/inputs", server.url);
    let batch = |k: usize| {
        let rows: Vec<Value> = (0..100)
            .map(|i| {
                let c = ["a", "b"][i % 2];
                json!({"x": (k * 100 + i) as f64, "c": c, "$CorrelationId": format!("{k}-{i}")})
            })
            .collect();
        Value::Array(rows).to_string()
    };
    // Four writers send keyed batches while the server is killed under
    // them; each remembers which batches were acknowledged.
    let acked: Vec<Vec<usize>> = runtime.block_on(async {
        let client = reqwest::Client::new();
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (client, url, token) = (client.clone(), url.clone(), token.clone());
                tokio::spawn(async move {
                    let mut acked = Vec::new();
                    for k in (w..10_000).step_by(4) {
                        let sent = client
                            .post(&url)
                            .bearer_auth(&token)
                            .header("content-type", "application/json")
                            .header("idempotency-key", format!("b{k}"))
                            .body(batch(k))
                            .send()
                            .await;
                        match sent {
                            Ok(r) if r.status().as_u16() == 201 => acked.push(k),
                            Ok(r) => panic!("batch {k}: {}", r.status()),
                            Err(_) => break, // the server is gone
                        }
                    }
                    acked
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let mut acked = Vec::new();
        // Kill while the writers are mid-stream.
        let kill = tokio::task::spawn_blocking(move || server.kill());
        for w in writers {
            acked.push(w.await.unwrap());
        }
        kill.await.unwrap();
        acked
    });
    let acked: Vec<usize> = acked.into_iter().flatten().collect();
    assert!(
        acked.len() > 20,
        "only {} batches were acknowledged",
        acked.len()
    );
    assert!(acked.len() < 10_000, "the kill came after every batch");
    // The log after the crash (opened as a restart would): every
    // acknowledged batch, once; whatever else is there (sent, not yet
    // answered) once at most.
    let collector = tidewatch_server::collector::Collector::open(&home).unwrap();
    let stored = collector.batches().unwrap();
    let mut keys: Vec<String> = stored.iter().filter_map(|b| b.key.clone()).collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "a batch stored twice");
    for k in &acked {
        assert!(
            keys.contains(&format!("b{k}")),
            "acknowledged batch {k} is lost"
        );
    }
    assert!(stored.iter().all(|b| b.records.len() == 100));
    // Restarted, the writers resend what was not acknowledged: nothing
    // is doubled.
    drop(collector);
    let server = Server::start(&home);
    runtime.block_on(async {
        let client = reqwest::Client::new();
        for k in 0..10_000usize {
            if acked.contains(&k) || k % 97 != 0 {
                continue;
            }
            let r = client
                .post(format!("{}/api/v1/services/loans-api/inputs", server.url))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .header("idempotency-key", format!("b{k}"))
                .body(batch(k))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.status());
        }
    });
    server.kill();
    let collector = tidewatch_server::collector::Collector::open(&home).unwrap();
    let mut keys: Vec<String> = collector
        .batches()
        .unwrap()
        .iter()
        .filter_map(|b| b.key.clone())
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "a resent batch stored twice");
}

/// A token of `role` (named after it) made on the data directory `home`;
/// an ingest token writes to `service`.
fn new_token(home: &Path, role: &str, service: Option<&str>) -> String {
    let mut args = vec!["token", "create", role, "--role", role];
    if let Some(s) = service {
        args.extend(["--service", s]);
    }
    args.extend(["--data-dir", home.to_str().unwrap()]);
    let out = tidewatch(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Whether a compaction was cut short in `home`: a segment still in the
/// log whose parts were written already, or a part's temporary file.
fn compaction_interrupted(home: &Path) -> bool {
    let wal = home.join("collect/wal");
    let segments: Vec<String> = std::fs::read_dir(&wal)
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    Some(name.strip_prefix("seg-")?.strip_suffix(".wal")?.to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    let mut stack = vec![home.join("collect/data")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() {
                stack.push(e.path());
            } else if name.ends_with(".tmp")
                || name
                    .strip_prefix("part-")
                    .and_then(|n| n.strip_suffix(".parquet"))
                    .is_some_and(|n| segments.iter().any(|s| s == n))
            {
                return true;
            }
        }
    }
    false
}

#[test]
fn records_acknowledged_are_there_once_after_kills_in_the_middle_of_compactions() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let token = |role: &str, service: Option<&str>| new_token(&home, role, service);
    let (writer, reader) = (token("ingest", Some("loans-api")), token("read", None));
    const ROWS: usize = 100;
    const BATCHES: usize = 300;
    // Each batch spans three days, so a segment compacts into several parts.
    let batch = |k: usize| {
        let rows: Vec<Value> = (0..ROWS)
            .map(|i| {
                json!({"id": k * ROWS + i, "x": (i % 17) as f64 * 0.5,
                            "$Timestamp": format!("2024-03-{:02}T12:00:00Z", 1 + i % 3)})
            })
            .collect();
        Value::Array(rows).to_string()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    // Sends batches `from..BATCHES` until the server is gone; returns the
    // acknowledged ones.
    let send = |url: String, from: usize| {
        let (client, writer) = (client.clone(), writer.clone());
        runtime.block_on(async move {
            let mut ok = Vec::new();
            for k in from..BATCHES {
                let sent = client
                    .post(&url)
                    .bearer_auth(&writer)
                    .header("content-type", "application/json")
                    .header("idempotency-key", format!("b{k}"))
                    .body(batch(k))
                    .send()
                    .await;
                match sent {
                    // 200: stored before the crash, answered now.
                    Ok(r) if r.status().is_success() => ok.push(k),
                    Ok(r) => panic!("batch {k}: {}", r.status()),
                    Err(_) => break, // the server is gone
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            ok
        })
    };
    let mut acked: Vec<usize> = Vec::new();
    let mut next = 0;
    // The server crashes at each point of a compaction in turn, the first
    // time it reaches it; each restart resends from the first batch not
    // acknowledged, and compacts what the crash left.
    for point in [
        "compact:part-written",
        "compact:parts-written",
        "compact:keys-saved",
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tidewatch"))
            .args(["serve", "--bind", "127.0.0.1:0", "--compact-every", "1"])
            .arg("--data-dir")
            .arg(&home)
            .env("TIDEWATCH_FAILPOINT", point)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap()
            .to_string();
        // When the compactor says it is at the point, SIGKILL the server
        // there, while the senders go on.
        let stderr = child.stderr.take().unwrap();
        let pid = child.id();
        let killer = std::thread::spawn(move || {
            let reached = BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
                .any(|l| l.contains("failure point"));
            if reached {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
            reached
        });
        let newly = send(format!("{url}/api/v1/services/loans-api/inputs"), next);
        assert!(
            killer.join().unwrap(),
            "{point}: the compaction never got there"
        );
        let status = child.wait().unwrap();
        assert!(!status.success(), "{point}: the server was not killed");
        assert!(
            compaction_interrupted(&home),
            "{point}: no trace of a compaction cut short"
        );
        assert!(!newly.is_empty(), "{point}: nothing acknowledged");
        next = newly.last().unwrap() + 1;
        acked.extend(newly);
    }
    // Restarted without failure points: the rest is sent, the export
    // compacts first and reads every part.
    let server = Server::start(&home);
    acked.extend(send(
        format!("{}/api/v1/services/loans-api/inputs", server.url),
        next,
    ));
    let (status, bytes) = runtime.block_on(async {
        let r = client
            .get(format!(
                "{}/api/v1/services/loans-api/export?format=csv",
                server.url
            ))
            .bearer_auth(&reader)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap())
    });
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let id_col = header.iter().position(|h| *h == "id").unwrap();
    let mut seen = vec![0u8; BATCHES * ROWS];
    for line in lines {
        let id: usize = line.split(',').nth(id_col).unwrap().parse().unwrap();
        seen[id] += 1;
    }
    acked.sort();
    acked.dedup();
    assert_eq!(
        acked,
        (0..BATCHES).collect::<Vec<_>>(),
        "every batch acknowledged"
    );
    assert!(
        seen.iter().all(|&n| n == 1),
        "every record exactly once: {:?}",
        seen.iter()
            .enumerate()
            .filter(|(_, n)| **n != 1)
            .take(5)
            .collect::<Vec<_>>()
    );
}

#[test]
fn the_rust_client_batches_retries_until_the_server_is_up_and_stores_once() {
    use tidewatch_client::{ClientError, Sender};
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let token = |role: &str, service: Option<&str>| new_token(&home, role, service);
    let (writer, reader) = (token("ingest", Some("loans-api")), token("read", None));
    // A free port, for a server that starts after the client.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let sending = {
        let (base, writer) = (base.clone(), writer.clone());
        runtime.spawn(async move {
            let mut s = Sender::new(&base, "loans-api", &writer).model("loans", "3");
            s.max_attempts = 40;
            s.backoff = Duration::from_millis(50);
            s.max_backoff = Duration::from_millis(200);
            let mut acks = Vec::new();
            for i in 0..2500u32 {
                let mut r = serde_json::Map::new();
                r.insert("id".into(), json!(i));
                r.insert("x".into(), json!(f64::from(i) / 10.0));
                if let Some(ack) = s.record(r, Some(format!("c{i}"))).await.unwrap() {
                    acks.push(ack);
                }
            }
            acks.extend(s.flush().await.unwrap());
            acks
        })
    };
    std::thread::sleep(Duration::from_millis(700));
    let port_arg = format!("127.0.0.1:{port}");
    let server = Server::start_with(&home, &["--bind", &port_arg]);
    let acks = runtime.block_on(sending).unwrap();
    assert_eq!(acks.len(), 3, "{acks:?}");
    assert!(
        acks[0].attempts > 1,
        "the first batch waited for the server: {acks:?}"
    );
    assert_eq!(
        acks.iter().map(|a| a.records).sum::<u64>(),
        2500,
        "{acks:?}"
    );
    // Stored once each.
    let (status, text) = runtime.block_on(async {
        let r = reqwest::Client::new()
            .get(format!(
                "{}/api/v1/services/loans-api/export?format=csv",
                server.url
            ))
            .bearer_auth(&reader)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    });
    assert_eq!(status, 200, "{text}");
    assert_eq!(text.lines().count(), 2501, "a header and 2,500 records");
    // A bad record is refused at once, naming it; the batch stays buffered.
    let refused = runtime.block_on(async {
        let mut s = Sender::new(&server.url, "loans-api", &writer);
        let mut r = serde_json::Map::new();
        r.insert("nested".into(), json!({"a": 1}));
        s.record(r, None).await.unwrap();
        let e = s.flush().await.unwrap_err();
        (e, s.pending())
    });
    assert!(
        matches!(&refused.0, ClientError::Refused { status: 400, message } if message.contains("record 0") || message.contains("nested")),
        "{}",
        refused.0
    );
    assert_eq!(refused.1, 1);
    drop(server);
    // A collector out of disk answers 429: retried, then given up, naming it.
    let server = Server::start_with(&home, &["--collect-min-free-mb", "1000000000"]);
    let gave_up = runtime.block_on(async {
        let mut s = Sender::new(&server.url, "loans-api", &writer);
        s.max_attempts = 3;
        s.backoff = Duration::from_millis(10);
        s.max_backoff = Duration::from_millis(20);
        s.record(serde_json::Map::new(), None).await.unwrap();
        s.flush().await.unwrap_err()
    });
    assert!(
        matches!(&gave_up, ClientError::GaveUp { attempts: 3, last } if last.starts_with("429")),
        "{gave_up}"
    );
}

#[test]
fn the_real_collector_refuses_bad_batches_and_tokens_by_status() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let writer = new_token(&home, "ingest", Some("loans-api"));
    let other = {
        let out = tidewatch(&[
            "token",
            "create",
            "other",
            "--role",
            "ingest",
            "--service",
            "other-api",
            "--data-dir",
            home.to_str().unwrap(),
        ]);
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let server = Server::start(&home);
    let url = format!("{}/api/v1/services/loans-api/inputs", server.url);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let post = |token: &str, content_type: &str, body: Vec<u8>| {
        let (url, token, content_type) = (url.clone(), token.to_string(), content_type.to_string());
        runtime.block_on(async move {
            let r = reqwest::Client::new()
                .post(&url)
                .bearer_auth(token)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        })
    };
    // A bad record: 400 naming its index; nothing stored.
    let (status, body) = post(
        &writer,
        "application/json",
        br#"[{"x": 1}, {"x": {"nested": true}}]"#.to_vec(),
    );
    assert_eq!(status, 400, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["record"], 1, "{body}");
    // Too large: 413.
    let (status, body) = post(&writer, "application/json", vec![b' '; 33 << 20]);
    assert_eq!(status, 413, "{body}");
    // Not a token: 401; another service's token: 403.
    let (status, _) = post("not-a-token", "application/json", b"[]".to_vec());
    assert_eq!(status, 401);
    let (status, _) = post(&other, "application/json", br#"[{"x": 1}]"#.to_vec());
    assert_eq!(status, 403);
    // A good batch after all that: 201.
    let (status, body) = post(&writer, "text/csv", b"x,c\n1,a\n2,b\n".to_vec());
    assert_eq!(status, 201, "{body}");
    server.kill();
}
