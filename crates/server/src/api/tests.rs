//! The API driven in-process (`oneshot`, no sockets, no sleeps): access
//! rules, the JSON errors naming fields, the OpenAPI document against the
//! router, and a monitor's life from dataset to figures.

use std::io::Write;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tidewatch_store::{Role, Store};
use tower::ServiceExt;

use super::*;

struct Api {
    state: AppState,
    admin: String,
    reader: String,
    _dir: tempfile::TempDir,
}

impl Api {
    async fn new() -> Api {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("home")).await.unwrap();
        let (_, admin) = store.create_token("ops", Role::Admin).await.unwrap();
        let (_, reader) = store.create_token("viewer", Role::Read).await.unwrap();
        let mut state = AppState::new(store);
        state.collector =
            Some(crate::collector::Collector::open(&dir.path().join("home")).unwrap());
        Api {
            state,
            admin,
            reader,
            _dir: dir,
        }
    }

    fn path(&self, name: &str) -> String {
        self._dir.path().join(name).display().to_string()
    }

    async fn call(
        &self,
        token: Option<&str>,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, bytes) = self.raw(token, method, uri, body).await;
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn raw(
        &self,
        token: Option<&str>,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Vec<u8>) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some(v) => Body::from(v.to_string()),
            None => Body::empty(),
        };
        let response = app(self.state.clone())
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, bytes.to_vec())
    }

    /// Sends a collector batch with `content_type` and optional
    /// idempotency key.
    async fn send(
        &self,
        token: &str,
        uri: &str,
        content_type: &str,
        key: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, content_type);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        let response = app(self.state.clone())
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn admin(&self, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let token = self.admin.clone();
        self.call(Some(&token), method, uri, body).await
    }
}

/// The fields an error body names.
fn fields(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect()
}

/// A CSV of `rows_per_day` rows a day from `first` for `days` days: `x`
/// numeric (shifted by `shift` from day `shift_from` on), `c` categorical.
fn write_csv(path: &str, days: i64, rows_per_day: i64, shift: f64, shift_from: i64) {
    let mut f = std::fs::File::create(path).unwrap();
    writeln!(f, "timestamp,x,c").unwrap();
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    for d in 0..days {
        for i in 0..rows_per_day {
            let t = start + chrono::Duration::days(d);
            let x = ((i * 37 + d * 11) % 101) as f64 + if d >= shift_from { shift } else { 0.0 };
            let c = ["a", "b", "c"][(i % 3) as usize];
            writeln!(f, "{t}T{:02}:00:00Z,{x},{c}", i % 24).unwrap();
        }
    }
}

#[tokio::test]
async fn tokens_decide_who_may_read_and_who_may_change() {
    let api = Api::new().await;
    let (status, body) = api.call(None, Method::GET, "/api/v1/monitors", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bearer token")
    );
    let (status, _) = api
        .call(Some("tw_wrong"), Method::GET, "/api/v1/monitors", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let reader = api.reader.clone();
    let (status, body) = api
        .call(Some(&reader), Method::GET, "/api/v1/monitors", None)
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!([])));
    let dataset = json!({"name": "d", "input": "x.csv"});
    let (status, body) = api
        .call(
            Some(&reader),
            Method::POST,
            "/api/v1/datasets",
            Some(dataset.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("read-only")
    );
    let (status, _) = api
        .admin(Method::POST, "/api/v1/datasets", Some(dataset))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // Revoked: no longer accepted.
    api.state.store.revoke_token("viewer").await.unwrap();
    let (status, _) = api
        .call(Some(&reader), Method::GET, "/api/v1/monitors", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Health and the OpenAPI document need no token.
    let (status, body) = api.call(None, Method::GET, "/healthz", None).await;
    assert_eq!(
        (status, body["status"].clone()),
        (StatusCode::OK, json!("ok"))
    );
    let (status, _) = api
        .call(None, Method::GET, "/api/v1/openapi.json", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    // The token list shows no secret.
    let (_, tokens) = api.admin(Method::GET, "/api/v1/tokens", None).await;
    assert!(!tokens.to_string().contains(&api.admin));
    assert_eq!(tokens[0]["name"], "ops");
}

#[tokio::test]
async fn every_openapi_operation_is_routed() {
    let api = Api::new().await;
    let doc = openapi::spec();
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 31, "{:?}", paths.keys());
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let uri = path
                .replace("{name}", "ghost")
                .replace("{id}", "999")
                .replace("{figure}", "contributions.svg");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, body) = api.admin(m, &uri, Some(json!({}))).await;
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(
                !message.starts_with("no route"),
                "{method} {path}: {status} {message}"
            );
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        }
    }
    // And a path that is not in the document is not routed.
    let (status, body) = api.admin(Method::GET, "/api/v1/nothing", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["message"], "no route /api/v1/nothing");
    let (status, body) = api.admin(Method::PUT, "/api/v1/monitors", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        body["error"]["message"],
        "/api/v1/monitors does not take PUT"
    );
}

#[tokio::test]
async fn invalid_requests_name_each_field_and_rule() {
    let api = Api::new().await;
    let (status, body) = api
        .admin(
            Method::POST,
            "/api/v1/monitors",
            Some(json!({
                "name": "-bad name", "frequency": "hourly", "threshold": 1.5,
                "latency_hours": 1001, "baseline": "nope", "target": "nope",
                "alerts": [{"type": "email", "to": "not-an-address"}], "colour": "red",
                "feature_methods": {"x": "coin_flip"}
            })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "invalid");
    let named = fields(&body);
    for field in [
        "name",
        "frequency",
        "latency_hours",
        "threshold",
        "alerts[0]",
        "feature_methods.x",
        "baseline",
        "target",
        "colour",
    ] {
        assert!(named.contains(&field.to_string()), "{field} in {named:?}");
    }
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("threshold: must lie in [0, 1], not 1.5"),
        "{message}"
    );
    assert!(
        message.contains("unknown frequency \"hourly\""),
        "{message}"
    );
    // A body that is not JSON, or not an object.
    let (status, body) = api
        .raw(
            Some(&api.admin.clone()),
            Method::POST,
            "/api/v1/monitors",
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let (status, body) = api
        .admin(Method::POST, "/api/v1/datasets", Some(json!([1])))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not an array")
    );
    // A path or query string that cannot be read is JSON too.
    let (status, body) = api.admin(Method::GET, "/api/v1/monitors/%FF", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("the request path"),
        "{body}"
    );
    let (status, body) = api
        .admin(Method::GET, "/api/v1/monitors/x/results?from=%FF", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(fields(&body), ["from"]);
    // Unknown monitor: 404 naming it.
    let (status, body) = api.admin(Method::GET, "/api/v1/monitors/ghost", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["message"], "no monitor named \"ghost\"");
    // Dataset options are checked when the dataset is made.
    let (status, body) = api
        .admin(
            Method::POST,
            "/api/v1/datasets",
            Some(json!({"name": "d", "input": "x.csv", "options": {"delimiter": ";;"}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(fields(&body), ["options.delimiter"]);
}

#[tokio::test]
async fn a_monitor_from_dataset_to_results_and_figures() {
    let api = Api::new().await;
    let (base, target) = (api.path("baseline.csv"), api.path("target.csv"));
    write_csv(&base, 14, 60, 0.0, 99);
    // Three weeks (2024-01-01 is a Monday); the third is shifted.
    write_csv(&target, 21, 60, 150.0, 14);
    for (name, input) in [("train", &base), ("collected", &target)] {
        let (status, body) = api
            .admin(
                Method::POST,
                "/api/v1/datasets",
                Some(json!({"name": name, "input": input, "time_column": "timestamp"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = api
        .admin(
            Method::POST,
            "/api/v1/baselines",
            Some(json!({"name": "training", "dataset": "train", "exclude": ["timestamp"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        (body["version"].clone(), body["rows"].clone()),
        (json!(1), json!(840))
    );
    let (status, body) = api
        .admin(Method::GET, "/api/v1/baselines/training", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["features"].as_array().unwrap().len(), 2);
    // A feature not in the data is named.
    let monitor = json!({"name": "weekly", "baseline": "training", "target": "collected",
                         "frequency": "week", "features": ["x", "y"]});
    let (status, body) = api
        .admin(Method::POST, "/api/v1/monitors", Some(monitor))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("feature \"y\" is not in baseline training v1")
    );
    let monitor = json!({"name": "weekly", "baseline": "training", "target": "collected",
                         "frequency": "week", "enabled": false});
    let (status, body) = api
        .admin(Method::POST, "/api/v1/monitors", Some(monitor.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["spec"]["baseline_version"], 1, "pinned at creation");
    let (status, _) = api
        .admin(Method::POST, "/api/v1/monitors", Some(monitor))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Backfill: FROM after TO is refused, naming from.
    let (status, body) = api
        .admin(
            Method::POST,
            "/api/v1/monitors/weekly/backfill",
            Some(json!({"from": "2024-02-01", "to": "2024-01-01"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(fields(&body), ["from"]);
    let (status, body) = api
        .admin(
            Method::POST,
            "/api/v1/monitors/weekly/backfill",
            Some(json!({"from": "2024-01-01", "to": "2024-01-21"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body["runs"].as_array().unwrap().len(), 3);
    // An adhoc run of the shifted week with one feature and its own threshold.
    let (status, adhoc) = api
        .admin(
            Method::POST,
            "/api/v1/monitors/weekly/runs",
            Some(json!({"date": "2024-01-17", "features": ["c"], "threshold": 0.5})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{adhoc}");
    while crate::runner::run_next(&api.state.store, &api.state.baselines)
        .await
        .unwrap()
        .is_some()
    {}
    let (_, runs) = api
        .admin(
            Method::GET,
            "/api/v1/monitors/weekly/runs?state=succeeded",
            None,
        )
        .await;
    assert_eq!(runs.as_array().unwrap().len(), 4, "{runs}");
    let (status, results) = api
        .admin(
            Method::GET,
            "/api/v1/monitors/weekly/results?from=2024-01-01&to=2024-01-22",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let windows = results["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 3, "adhoc runs do not count by default");
    let drift: Vec<_> = windows.iter().map(|w| w["has_drift"].clone()).collect();
    assert_eq!(drift, [json!(false), json!(false), json!(true)]);
    assert_eq!(
        windows[2]["metrics"]["features"]["x"]["drift_detected"],
        true
    );
    assert!(
        windows[2]["metrics"]["features"]["x"]["contribution"]
            .as_f64()
            .unwrap()
            > 0.5
    );
    assert!(windows[2]["metrics"]["dataset"]["auc"].as_f64().unwrap() > 0.9);
    // With adhoc runs, the third week shows the adhoc run (newest), which
    // compared c only, judged by its own threshold.
    let (_, with_adhoc) = api
        .admin(
            Method::GET,
            "/api/v1/monitors/weekly/results?from=2024-01-01&to=2024-01-22&include_adhoc=true",
            None,
        )
        .await;
    let third = &with_adhoc["windows"][2];
    assert_eq!(third["kind"], "adhoc");
    assert_eq!(third["threshold"], 0.5);
    assert_eq!(
        third["metrics"]["features"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["c"]
    );
    // One run by id; the whole report.
    let id = adhoc["id"].as_i64().unwrap();
    let (_, one) = api
        .admin(
            Method::GET,
            &format!("/api/v1/monitors/weekly/results?run={id}"),
            None,
        )
        .await;
    assert_eq!(one["windows"][0]["run_id"], id);
    let (status, report) = api
        .admin(Method::GET, &format!("/api/v1/runs/{id}/report"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["features"][0]["name"], "c");
    // Figures: one trend point per window, PNG bytes.
    let (status, svg) = api
        .raw(
            Some(&api.admin.clone()),
            Method::GET,
            "/api/v1/monitors/weekly/figures/drift-coefficient.svg?from=2024-01-01&to=2024-01-22",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let svg = String::from_utf8(svg).unwrap();
    assert_eq!(svg.matches(r#"class="point""#).count(), 3);
    let (status, png) = api
        .raw(
            Some(&api.admin.clone()),
            Method::GET,
            "/api/v1/monitors/weekly/figures/contributions.png?from=2024-01-01&to=2024-01-22",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&png[..4], b"\x89PNG");
    let (status, body) = api
        .admin(
            Method::GET,
            "/api/v1/monitors/weekly/figures/metric.svg?from=2024-01-01&to=2024-01-22&feature=zz",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(fields(&body), ["feature"]);
    // A finished run cannot be cancelled; a queued one can.
    let (status, _) = api
        .admin(Method::POST, &format!("/api/v1/runs/{id}/cancel"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Updates: fixed fields are refused; the rest change and are audited.
    let (status, body) = api
        .admin(
            Method::PATCH,
            "/api/v1/monitors/weekly",
            Some(json!({"frequency": "day", "threshold": 0.3})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(fields(&body), ["frequency"]);
    let (status, body) = api
        .admin(
            Method::PATCH,
            "/api/v1/monitors/weekly",
            Some(json!({"threshold": 0.3})),
        )
        .await;
    assert_eq!(
        (status, body["spec"]["threshold"].clone()),
        (StatusCode::OK, json!(0.3))
    );
    let (_, audit) = api
        .admin(Method::GET, "/api/v1/monitors/weekly/audit", None)
        .await;
    assert_eq!(audit[1]["actor"], "ops");
    // Deleted: every operation fails with 410.
    let (status, _) = api
        .admin(Method::DELETE, "/api/v1/monitors/weekly", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    for (method, uri) in [
        (Method::GET, "/api/v1/monitors/weekly"),
        (Method::GET, "/api/v1/monitors/weekly/results"),
        (Method::POST, "/api/v1/monitors/weekly/enable"),
        (Method::PATCH, "/api/v1/monitors/weekly"),
    ] {
        let (status, body) = api.admin(method.clone(), uri, Some(json!({}))).await;
        assert_eq!(status, StatusCode::GONE, "{method} {uri}");
        assert_eq!(body["error"]["message"], "monitor \"weekly\" is deleted");
    }
    let (status, body) = api
        .admin(
            Method::POST,
            "/api/v1/monitors/weekly/backfill",
            Some(json!({"from": "2024-01-01", "to": "2024-01-02"})),
        )
        .await;
    assert_eq!(status, StatusCode::GONE, "{body}");
}

#[tokio::test]
async fn the_scheduler_queues_complete_windows_once() {
    let api = Api::new().await;
    let input = api.path("t.csv");
    write_csv(&input, 3, 10, 0.0, 99);
    api.admin(
        Method::POST,
        "/api/v1/datasets",
        Some(json!({"name": "t", "input": input, "time_column": "timestamp"})),
    )
    .await;
    let (status, body) = api
        .admin(
            Method::POST,
            "/api/v1/baselines",
            Some(json!({"name": "b", "dataset": "t", "exclude": ["timestamp"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    api.admin(
        Method::POST,
        "/api/v1/monitors",
        Some(json!({"name": "m", "baseline": "b", "target": "t", "frequency": "day"})),
    )
    .await;
    let now = chrono::Utc::now();
    assert_eq!(
        crate::service::schedule_once(&api.state, now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        crate::service::schedule_once(&api.state, now)
            .await
            .unwrap(),
        0
    );
    let later = now + chrono::Duration::days(2);
    assert_eq!(
        crate::service::schedule_once(&api.state, later)
            .await
            .unwrap(),
        2
    );
    let (_, runs) = api
        .admin(Method::GET, "/api/v1/monitors/m/runs?kind=scheduled", None)
        .await;
    assert_eq!(runs.as_array().unwrap().len(), 3);
    // A window with no rows fails with the reason, visible as such.
    crate::runner::run_next(&api.state.store, &api.state.baselines)
        .await
        .unwrap();
    let (_, failed) = api
        .admin(Method::GET, "/api/v1/monitors/m/runs?state=failed", None)
        .await;
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("at least 50 are needed"),
        "{failed}"
    );
}

#[tokio::test]
async fn the_collector_stores_whole_batches_once_each_before_it_answers() {
    let mut api = Api::new().await;
    let (_, ingest) = api
        .state
        .store
        .create_ingest_token("loans-api-writer", "loans-api")
        .await
        .unwrap();
    let uri = "/api/v1/services/loans-api/inputs?model=loans&version=3";
    let batch = json!([
        {"$Timestamp": "2024-03-01T12:00:00Z", "x": 1.5, "c": "a", "$CorrelationId": "r1"},
        {"x": 2.5, "c": "b", "$CorrelationId": "r2"}
    ]);
    let (status, ack) = api
        .send(
            &ingest,
            uri,
            "application/json",
            Some("batch-1"),
            batch.to_string().into_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ack}");
    assert_eq!(
        (ack["records"].clone(), ack["duplicate"].clone()),
        (json!(2), json!(false))
    );
    // The same key again: stored once, answered as before.
    let (status, again) = api
        .send(
            &ingest,
            uri,
            "application/json",
            Some("batch-1"),
            batch.to_string().into_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["received_at"], ack["received_at"]);
    // NDJSON and CSV, no key.
    let ndjson = b"{\"x\": 3}\n{\"x\": 4}\n".to_vec();
    let (status, _) = api
        .send(&ingest, uri, "application/x-ndjson", None, ndjson)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let csv = b"x,c\n5,a\n".to_vec();
    let (status, _) = api
        .send(
            &ingest,
            "/api/v1/services/loans-api/predictions",
            "text/csv",
            None,
            csv,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // A bad record: 400 with its index, nothing of the batch stored.
    let bad = json!([{"x": 1}, {"x": 2}, {"x": {"nested": true}}])
        .to_string()
        .into_bytes();
    let (status, body) = api.send(&ingest, uri, "application/json", None, bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["record"], 2);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing of the batch was stored")
    );
    // An unknown content type names the header.
    let (status, body) = api
        .send(&ingest, uri, "text/plain", None, b"x".to_vec())
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(fields(&body), ["Content-Type"]);
    // Too large: 413.
    let huge = vec![b' '; super::collect::MAX_BATCH_BYTES + 1];
    let (status, body) = api.send(&ingest, uri, "application/json", None, huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    // The ingest token writes to its own service only, and reads nothing;
    // a read token cannot write.
    let (status, _) = api
        .send(
            &ingest,
            "/api/v1/services/other/inputs",
            "application/json",
            None,
            b"[]".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = api
        .call(Some(&ingest), Method::GET, "/api/v1/monitors", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let reader = api.reader.clone();
    let (status, _) = api
        .send(&reader, uri, "application/json", None, b"[]".to_vec())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // What was acknowledged is in the log, once each, with timestamps.
    let collector = api.state.collector.clone().unwrap();
    let batches = collector.batches().unwrap();
    assert_eq!(batches.len(), 3);
    assert_eq!(batches[0].records.len(), 2);
    assert_eq!(batches[0].records[0]["$Timestamp"], "2024-03-01T12:00:00Z");
    assert_eq!(
        batches[0].records[1]["$Timestamp"],
        json!(batches[0].received_at)
    );
    assert_eq!(batches[0].model.as_deref(), Some("loans"));
    assert_eq!(batches[2].stream, crate::collector::Stream::Predictions);
    // A backlog past its limit: 429 with Retry-After, nothing stored.
    let mut full = api.state.collector.clone().unwrap();
    full.max_backlog_bytes = 1;
    let mut busy = AppState::new(api.state.store.clone());
    busy.collector = Some(full);
    let response = one_record(busy, uri, &ingest).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()[header::RETRY_AFTER], "5");
    assert_eq!(collector.batches().unwrap().len(), 3);
    // Less free disk than the floor: 429 naming the free bytes, nothing stored.
    let mut cramped = api.state.collector.clone().unwrap();
    cramped.min_free_bytes = u64::MAX / 2;
    let mut full = AppState::new(api.state.store.clone());
    full.collector = Some(cramped);
    let response = one_record(full, uri, &ingest).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()[header::RETRY_AFTER], "60");
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = String::from_utf8_lossy(&body);
    assert!(
        body.contains("bytes free") && body.contains("floor"),
        "{body}"
    );
    assert_eq!(collector.batches().unwrap().len(), 3);
    // Reopened (a restart, once every handle of the first is gone: a log
    // has one writer): the key is remembered.
    drop(collector);
    api.state.collector = None;
    let reopened = crate::collector::Collector::open(api.state.store.dir()).unwrap();
    assert_eq!(reopened.batches().unwrap().len(), 3);
    let ack = reopened
        .ingest(
            "loans-api",
            crate::collector::Stream::Inputs,
            None,
            None,
            Some("batch-1".into()),
            b"[]",
            tidewatch_data::records::BodyFormat::JsonArray,
        )
        .unwrap();
    assert!(ack.duplicate);
    assert_eq!(reopened.batches().unwrap().len(), 3);
}

/// Sends a one-record batch to `uri` through a router on `state`.
async fn one_record(state: AppState, uri: &str, token: &str) -> axum::response::Response {
    let req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("[{\"x\": 1}]"))
        .unwrap();
    app(state).oneshot(req).await.unwrap()
}

#[tokio::test]
async fn compaction_moves_the_log_into_day_partitioned_parquet_once() {
    let mut api = Api::new().await;
    let (_, ingest) = api
        .state
        .store
        .create_ingest_token("w", "loans-api")
        .await
        .unwrap();
    let inputs = "/api/v1/services/loans-api/inputs?model=loans&version=3";
    let day = |d: u32, x: f64| json!({"$Timestamp": format!("2024-03-{d:02}T10:00:00Z"), "x": x, "c": "a"});
    let batch = json!([day(1, 1.0), day(1, 2.0), day(2, 3.0)])
        .to_string()
        .into_bytes();
    let (status, _) = api
        .send(&ingest, inputs, "application/json", Some("k1"), batch)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let csv = b"$Timestamp,x,c\n2024-03-02T11:00:00Z,4.5,b\n".to_vec();
    let (status, _) = api.send(&ingest, inputs, "text/csv", None, csv).await;
    assert_eq!(status, StatusCode::CREATED);
    let preds = b"{\"$Timestamp\": \"2024-03-01T10:00:00Z\", \"y\": 0.9}\n".to_vec();
    let (status, _) = api
        .send(
            &ingest,
            "/api/v1/services/loans-api/predictions",
            "application/x-ndjson",
            None,
            preds,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let collector = api.state.collector.clone().unwrap();
    let done = collector.compact(true).unwrap();
    assert_eq!((done.segments, done.parts, done.records), (1, 3, 5));
    let root = collector.data_root();
    let rows_in = |path: &str| -> (usize, Vec<arrow_array::RecordBatch>) {
        let data = tidewatch_data::Dataset::open(
            root.join(path).to_str().unwrap(),
            &tidewatch_data::ReadOptions::default(),
        )
        .unwrap();
        let (batches, _) = data.read_all().unwrap();
        (batches.iter().map(|b| b.num_rows()).sum(), batches)
    };
    assert_eq!(rows_in("loans-api/loans/3/inputs/2024/03/01").0, 2);
    assert_eq!(rows_in("loans-api/_/_/predictions/2024/03/01").0, 1);
    let (n, batches) = rows_in("loans-api/loans/3/inputs/2024/03/02");
    assert_eq!(n, 2);
    // The CSV's 4.5 is a number beside the JSON's 3.0.
    for b in &batches {
        let x = b.column_by_name("x").unwrap();
        assert_eq!(x.data_type(), &arrow_schema::DataType::Float64);
    }
    // The log is empty; nothing more to do.
    assert!(collector.batches().unwrap().is_empty());
    assert_eq!(
        collector.compact(true).unwrap(),
        crate::collector::Compacted::default()
    );
    // A crash before a segment's removal redoes it: the same parts again.
    // (Simulated: a new batch's segment copied aside before compaction and
    // put back after.)
    let again = json!([day(1, 9.0)]).to_string().into_bytes();
    api.send(&ingest, inputs, "application/json", None, again)
        .await;
    let mut segments: Vec<_> = collector
        .dir()
        .read_dir()
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    segments.sort();
    let seg = segments.last().unwrap().clone();
    let copy = std::fs::read(&seg).unwrap();
    collector.compact(true).unwrap();
    std::fs::write(&seg, copy).unwrap();
    drop(collector);
    api.state.collector = None;
    let reopened = crate::collector::Collector::open(api.state.store.dir()).unwrap();
    reopened.compact(true).unwrap();
    assert_eq!(
        rows_in("loans-api/loans/3/inputs/2024/03/01").0,
        3,
        "2 + 1, not doubled"
    );
    // Keys of compacted batches are remembered after a restart.
    let ack = reopened
        .ingest(
            "loans-api",
            crate::collector::Stream::Inputs,
            None,
            None,
            Some("k1".into()),
            b"[]",
            tidewatch_data::records::BodyFormat::JsonArray,
        )
        .unwrap();
    assert!(ack.duplicate && ack.records == 3, "{ack:?}");
}

#[tokio::test]
async fn a_collected_service_is_a_monitor_target_once_compacted() {
    let api = Api::new().await;
    let (_, ingest) = api
        .state
        .store
        .create_ingest_token("w", "loans-api")
        .await
        .unwrap();
    // Two days of inputs; the second day's x has moved.
    let rows = |d: u32, shift: f64| -> Vec<u8> {
        let v: Vec<Value> = (0..300)
            .map(|i| {
                let c = ["a", "b", "c"][i % 3];
                json!({
                    "$Timestamp": format!("2024-03-{d:02}T{:02}:{:02}:00Z", i % 24, i % 60),
                    "x": ((i * 37) % 101) as f64 + shift,
                    "c": c,
                })
            })
            .collect();
        Value::Array(v).to_string().into_bytes()
    };
    for (d, shift) in [(4, 0.0), (5, 150.0)] {
        let (status, _) = api
            .send(
                &ingest,
                "/api/v1/services/loans-api/inputs?model=loans&version=3",
                "application/json",
                None,
                rows(d, shift),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let collector = api.state.collector.clone().unwrap();
    collector.compact(true).unwrap();
    // The baseline: the same distribution as the first day, from a file.
    let base = api.path("train.csv");
    write_csv(&base, 7, 60, 0.0, 99);
    let target = collector.data_root().join("loans-api/loans/3/inputs");
    for body in [
        json!({"name": "train", "input": base}),
        json!({"name": "loans-api-inputs", "input": target, "time_column": "$Timestamp"}),
    ] {
        let (status, answer) = api
            .admin(Method::POST, "/api/v1/datasets", Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    let (status, answer) = api
        .admin(
            Method::POST,
            "/api/v1/baselines",
            Some(json!({"name": "training", "dataset": "train", "exclude": ["timestamp"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, answer) = api
        .admin(
            Method::POST,
            "/api/v1/monitors",
            Some(
                json!({"name": "loans", "baseline": "training", "target": "loans-api-inputs",
                        "frequency": "day", "enabled": false}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    backfill_and_run(&api, "loans", "2024-03-04", "2024-03-05").await;
    let (_, results) = api
        .admin(
            Method::GET,
            "/api/v1/monitors/loans/results?from=2024-03-04&to=2024-03-06",
            None,
        )
        .await;
    let windows = results["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 2, "{results}");
    assert_eq!(windows[0]["has_drift"], false);
    assert_eq!(windows[1]["has_drift"], true);
    assert_eq!(windows[1]["metrics"]["dataset"]["target_rows"], 300);
    // The metrics export: the newest window's figures, runs, collector counts.
    let (status, _) = api
        .send(
            &ingest,
            "/api/v1/services/loans-api/inputs",
            "application/json",
            None,
            br#"[{"x": {"nested": 1}}]"#.to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = api.raw(None, Method::GET, "/metrics", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, bytes) = api
        .raw(Some(&api.reader), Method::GET, "/metrics", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(bytes).unwrap();
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };
    let labels = r#"{monitor="loans",service=""}"#;
    let coefficient = value(&format!("tidewatch_drift_coefficient{labels}"));
    assert_eq!(Some(coefficient), windows[1]["drift_coefficient"].as_f64());
    assert_eq!(value(&format!("tidewatch_has_drift{labels}")), 1.0);
    assert_eq!(value(&format!("tidewatch_threshold{labels}")), 0.2);
    assert!(
        value(r#"tidewatch_feature_contribution{monitor="loans",service="",feature="x"}"#) > 0.5
    );
    assert!(
        value(
            r#"tidewatch_feature_metric{monitor="loans",service="",feature="x",metric="wasserstein_distance"}"#
        ) > 100.0
    );
    assert_eq!(
        value(r#"tidewatch_runs{monitor="loans",state="succeeded"}"#),
        2.0
    );
    assert_eq!(
        value(r#"tidewatch_collector_rows_total{service="loans-api"}"#),
        600.0
    );
    assert_eq!(
        value(r#"tidewatch_collector_batches_total{service="loans-api"}"#),
        2.0
    );
    assert!(
        text.contains("# TYPE tidewatch_collector_rows_total counter"),
        "{text}"
    );
}

#[tokio::test]
async fn a_window_of_collected_records_exports_as_parquet_or_csv() {
    let api = Api::new().await;
    let (_, ingest) = api
        .state
        .store
        .create_ingest_token("w", "loans-api")
        .await
        .unwrap();
    // Three days of inputs, 10 records a day, never compacted by hand:
    // the export compacts first.
    for d in 1..=3u32 {
        let rows: Vec<Value> = (0..10)
            .map(|i| json!({"$Timestamp": format!("2024-03-{d:02}T{i:02}:00:00Z"), "x": d * 100 + i, "c": "a"}))
            .collect();
        let (status, _) = api
            .send(
                &ingest,
                "/api/v1/services/loans-api/inputs?model=loans&version=3",
                "application/json",
                None,
                Value::Array(rows).to_string().into_bytes(),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let export = |q: &str| format!("/api/v1/services/loans-api/export{q}");
    // Days 2 and 3 (a date `to` includes its day), as CSV.
    let (status, bytes) = api
        .raw(
            Some(&api.reader),
            Method::GET,
            &export("?from=2024-03-02&to=2024-03-03&format=csv"),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let text = String::from_utf8(bytes).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 21, "a header and 20 records: {text}");
    assert!(
        lines[0].contains("$Timestamp") && lines[0].contains('x'),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with("2024-03-02T00:00:00"), "{}", lines[1]);
    assert!(text.contains(",300,") || text.contains(",300\n") || text.contains("300"));
    assert!(!text.contains("2024-03-01"), "day 1 is outside the window");
    // The whole stream as Parquet, of that model and version.
    let (status, bytes) = api
        .raw(
            Some(&api.reader),
            Method::GET,
            &export("?model=loans&version=3"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
        axum::body::Bytes::from(bytes),
        1024,
    )
    .unwrap();
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 30);
    // Errors name what is wrong.
    for (q, status, needle) in [
        ("?format=xlsx", StatusCode::BAD_REQUEST, "format"),
        ("?stream=outputs", StatusCode::BAD_REQUEST, "stream"),
        (
            "?from=2024-03-05&to=2024-03-01",
            StatusCode::BAD_REQUEST,
            "empty",
        ),
        ("?from=yesterday", StatusCode::BAD_REQUEST, "from/to"),
        (
            "?stream=predictions",
            StatusCode::NOT_FOUND,
            "no collected records",
        ),
        ("?from=2025-01-01", StatusCode::NOT_FOUND, "in the window"),
    ] {
        let (got, body) = api
            .call(Some(&api.reader), Method::GET, &export(q), None)
            .await;
        assert_eq!(got, status, "{q}: {body}");
        assert!(body.to_string().contains(needle), "{q}: {body}");
    }
    // An ingest token sends; it does not read.
    let (got, _) = api
        .call(Some(&ingest), Method::GET, &export(""), None)
        .await;
    assert_eq!(got, StatusCode::FORBIDDEN);
    // The service's stats: rows per day from the parts, the newest time.
    let (got, stats) = api
        .call(
            Some(&api.reader),
            Method::GET,
            "/api/v1/services/loans-api/stats",
            None,
        )
        .await;
    assert_eq!(got, StatusCode::OK, "{stats}");
    let days = stats["days"].as_array().unwrap();
    assert_eq!(days.len(), 3, "{stats}");
    assert!(
        days.iter()
            .all(|d| d["rows"] == 10 && d["stream"] == "inputs"),
        "{stats}"
    );
    assert_eq!(days[0]["day"], "2024-03-01");
    assert_eq!(stats["last_record_at"], "2024-03-03T09:00:00Z", "{stats}");
    assert_eq!(stats["since_start"]["rows"], 30);
    let (got, _) = api
        .call(
            Some(&api.reader),
            Method::GET,
            "/api/v1/services/nobody/stats",
            None,
        )
        .await;
    assert_eq!(got, StatusCode::NOT_FOUND);
    // The dashboard's list of services holds it, with the same figures.
    let (got, collected) = api
        .call(Some(&api.reader), Method::GET, "/api/v1/collected", None)
        .await;
    assert_eq!(got, StatusCode::OK, "{collected}");
    let listed = collected["services"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{collected}");
    assert_eq!(listed[0]["service"], "loans-api");
    assert_eq!(listed[0]["registered"], false);
    assert_eq!(listed[0]["days"], stats["days"]);
    assert_eq!(listed[0]["last_record_at"], stats["last_record_at"]);
}

#[tokio::test]
async fn schema_drift_in_collected_data_is_read_and_shows_in_the_run() {
    let api = Api::new().await;
    let (_, ingest) = api
        .state
        .store
        .create_ingest_token("w", "loans-api")
        .await
        .unwrap();
    let collector = api.state.collector.clone().unwrap();
    // Monday: x whole numbers. Tuesday (compacted into another part): x
    // with fractions and a new field z.
    for (d, fraction, extra) in [(4u32, 0.0, false), (5, 0.5, true)] {
        let rows: Vec<Value> = (0..300)
            .map(|i| {
                let mut r = json!({
                    "$Timestamp": format!("2024-03-{d:02}T{:02}:{:02}:00Z", i % 24, i % 60),
                    "x": if fraction == 0.0 { json!((i * 37) % 101) } else { json!(((i * 37) % 101) as f64 + fraction) },
                    "c": (["a", "b", "c"][i % 3]),
                });
                if extra {
                    r["z"] = json!(i);
                }
                r
            })
            .collect();
        let (status, _) = api
            .send(
                &ingest,
                "/api/v1/services/loans-api/inputs",
                "application/json",
                None,
                Value::Array(rows).to_string().into_bytes(),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        collector.compact(true).unwrap();
    }
    let base = api.path("train.csv");
    write_csv(&base, 7, 60, 0.0, 99);
    let target = collector.data_root().join("loans-api/_/_/inputs");
    for body in [
        json!({"name": "train", "input": base}),
        json!({"name": "collected", "input": target, "time_column": "$Timestamp"}),
    ] {
        let (status, answer) = api
            .admin(Method::POST, "/api/v1/datasets", Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    for (uri, body) in [
        (
            "/api/v1/baselines",
            json!({"name": "training", "dataset": "train", "exclude": ["timestamp"]}),
        ),
        (
            "/api/v1/monitors",
            json!({"name": "weekly", "baseline": "training", "target": "collected",
                   "frequency": "week", "enabled": false}),
        ),
    ] {
        let (status, answer) = api.admin(Method::POST, uri, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    let (status, run) = api
        .admin(
            Method::POST,
            "/api/v1/monitors/weekly/runs",
            Some(json!({"date": "2024-03-04"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{run}");
    while crate::runner::run_next(&api.state.store, &api.state.baselines)
        .await
        .unwrap()
        .is_some()
    {}
    let id = run["id"]
        .as_i64()
        .or(run["runs"][0]["id"].as_i64())
        .unwrap();
    let (_, run) = api
        .admin(Method::GET, &format!("/api/v1/runs/{id}"), None)
        .await;
    assert_eq!(run["state"], "succeeded", "{run}");
    let (status, report) = api
        .admin(Method::GET, &format!("/api/v1/runs/{id}/report"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let schema = &report["schema"];
    assert!(
        schema["target_only"]
            .as_array()
            .unwrap()
            .contains(&json!("z")),
        "{schema}"
    );
    let changes = schema["target_changes"].to_string();
    assert!(
        changes.contains("new column \\\"z\\\"")
            && changes.contains("column \\\"x\\\" is Float64 here, Int64 before"),
        "{changes}"
    );
    // Both days' rows were read: x's fractions were not cut off.
    let x = report["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "x")
        .unwrap();
    assert_eq!(x["rows"][1], 600, "{x}");
    assert_eq!(x["summary"]["target"]["max"], 100.5, "{x}");
}

#[tokio::test]
async fn idempotency_keys_are_forgotten_after_their_retention() {
    let api = Api::new().await;
    let (_, ingest) = api
        .state
        .store
        .create_ingest_token("w", "loans-api")
        .await
        .unwrap();
    let uri = "/api/v1/services/loans-api/inputs";
    let body = || br#"[{"x": 1}]"#.to_vec();
    let (status, _) = api
        .send(&ingest, uri, "application/json", Some("k1"), body())
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let collector = api.state.collector.clone().unwrap();
    // Within the retention (7 days by default): remembered after compaction.
    let done = collector.compact(true).unwrap();
    assert_eq!(done.pruned_keys, 0);
    let (status, _) = api
        .send(&ingest, uri, "application/json", Some("k1"), body())
        .await;
    assert_eq!(status, StatusCode::OK, "a repeat");
    let keys_dir = collector.dir().parent().unwrap().join("keys");
    assert_eq!(std::fs::read_dir(&keys_dir).unwrap().count(), 1);
    // Past it: the key's file goes, and the same key is a new batch.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let mut forgetful = collector.clone();
    forgetful.key_retention = std::time::Duration::from_millis(10);
    let done = forgetful.compact(true).unwrap();
    assert_eq!(done.pruned_keys, 1);
    assert_eq!(std::fs::read_dir(&keys_dir).unwrap().count(), 0);
    let (status, _) = api
        .send(&ingest, uri, "application/json", Some("k1"), body())
        .await;
    assert_eq!(status, StatusCode::CREATED, "forgotten, so stored again");
}

#[tokio::test]
async fn predictions_joined_to_inputs_are_monitored_as_features() {
    let api = Api::new().await;
    let (_, ingest) = api
        .state
        .store
        .create_ingest_token("w", "loans-api")
        .await
        .unwrap();
    let collector = api.state.collector.clone().unwrap();
    // Two days of inputs; predictions for all but every tenth, whose
    // score moves up on the second day while the inputs stay alike.
    for (d, shift) in [(4u32, 0.0), (5, 0.5)] {
        let ts = |i: usize| format!("2024-03-{d:02}T{:02}:{:02}:{:02}Z", i % 24, i % 60, i % 7);
        let inputs: Vec<Value> = (0..400)
            .map(|i| {
                json!({"$Timestamp": ts(i), "$CorrelationId": format!("{d}-{i}"),
                            "x": ((i * 37) % 101) as f64})
            })
            .collect();
        let predictions: Vec<Value> = (0..400)
            .filter(|i| i % 10 != 0)
            .map(|i| {
                json!({"$Timestamp": ts(i), "$CorrelationId": format!("{d}-{i}"),
                            "score": ((i * 53) % 97) as f64 / 97.0 + shift})
            })
            .collect();
        for (stream, body) in [("inputs", inputs), ("predictions", predictions)] {
            let (status, _) = api
                .send(
                    &ingest,
                    &format!("/api/v1/services/loans-api/{stream}?model=loans&version=3"),
                    "application/json",
                    None,
                    Value::Array(body).to_string().into_bytes(),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED);
        }
    }
    collector.compact(true).unwrap();
    let root = collector.data_root().join("loans-api/loans/3");
    let (status, answer) = api
        .admin(
            Method::POST,
            "/api/v1/datasets",
            Some(
                json!({"name": "served", "input": root.join("inputs"), "time_column": "$Timestamp",
                        "options": {"predictions": root.join("predictions")}}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    // The baseline: the first day, joined, so the score is a feature.
    for (uri, body) in [
        (
            "/api/v1/baselines",
            json!({"name": "day-one", "dataset": "served", "from": "2024-03-04", "to": "2024-03-05",
                   "exclude": ["$CorrelationId"]}),
        ),
        (
            "/api/v1/monitors",
            json!({"name": "served", "baseline": "day-one", "target": "served",
                   "frequency": "day", "enabled": false}),
        ),
    ] {
        let (status, answer) = api.admin(Method::POST, uri, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    backfill_and_run(&api, "served", "2024-03-04", "2024-03-05").await;
    let (_, results) = api
        .admin(
            Method::GET,
            "/api/v1/monitors/served/results?from=2024-03-04&to=2024-03-06",
            None,
        )
        .await;
    let windows = results["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 2, "{results}");
    let feature = |w: &Value, name: &str| -> Value { w["metrics"]["features"][name].clone() };
    // Day one against itself: nothing drifts. Day two: the predictions
    // drift, the inputs do not.
    assert_eq!(
        feature(&windows[0], "score")["drift_detected"],
        false,
        "{}",
        windows[0]
    );
    assert_eq!(
        feature(&windows[1], "score")["drift_detected"],
        true,
        "{}",
        windows[1]
    );
    assert_eq!(
        feature(&windows[1], "x")["drift_detected"],
        false,
        "{}",
        windows[1]
    );
    // Inputs without a prediction count as missing scores (40 of 400).
    let runs = api
        .admin(Method::GET, "/api/v1/monitors/served/runs", None)
        .await
        .1;
    let id = runs["runs"]
        .as_array()
        .or(runs.as_array())
        .unwrap()
        .iter()
        .find(|r| {
            r["window"]["start"]
                .as_str()
                .is_some_and(|s| s.starts_with("2024-03-05"))
        })
        .map(|r| r["id"].as_i64().unwrap())
        .unwrap_or_else(|| panic!("{runs}"));
    let (_, report) = api
        .admin(Method::GET, &format!("/api/v1/runs/{id}/report"), None)
        .await;
    let score = report["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "score")
        .unwrap();
    assert_eq!(score["missing"]["target_count"], 40, "{}", score["missing"]);
}

#[tokio::test]
async fn a_monitor_made_from_a_model_compares_each_of_its_services() {
    let api = Api::new().await;
    let base = api.path("train.csv");
    write_csv(&base, 7, 60, 0.0, 99);
    let (status, answer) = api
        .admin(
            Method::POST,
            "/api/v1/datasets",
            Some(json!({"name": "train", "input": base})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    // Register the model with its training data: its baseline is fitted.
    let (status, model) = api
        .admin(
            Method::POST,
            "/api/v1/models",
            Some(json!({"name": "loans", "version": "3", "dataset": "train", "exclude": ["timestamp"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{model}");
    assert_eq!(
        (&model["baseline"], &model["baseline_version"]),
        (&json!("loans"), &json!(1))
    );
    let (status, _) = api
        .admin(
            Method::POST,
            "/api/v1/models",
            Some(json!({"name": "loans", "version": "3", "dataset": "train"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    for service in ["loans-east", "loans-west"] {
        let (status, answer) = api
            .admin(
                Method::POST,
                "/api/v1/services",
                Some(json!({"name": service, "model": "loans", "version": "3"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    let (status, answer) = api
        .admin(
            Method::POST,
            "/api/v1/services",
            Some(json!({"name": "loans-north", "model": "loans", "version": "9"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    // Each service collects a Monday; the west's x has moved.
    for (service, shift) in [("loans-east", 0.0), ("loans-west", 150.0)] {
        let (_, ingest) = api
            .state
            .store
            .create_ingest_token(&format!("w-{service}"), service)
            .await
            .unwrap();
        let rows: Vec<Value> = (0..300)
            .map(|i| {
                json!({"$Timestamp": format!("2024-03-04T{:02}:{:02}:00Z", i % 24, i % 60),
                       "$CorrelationId": format!("{service}-{i}"),
                       "x": ((i * 37) % 101) as f64 + shift, "c": (["a", "b", "c"][i % 3])})
            })
            .collect();
        let (status, _) = api
            .send(
                &ingest,
                &format!("/api/v1/services/{service}/inputs?model=loans&version=3"),
                "application/json",
                None,
                Value::Array(rows).to_string().into_bytes(),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    api.state.collector.clone().unwrap().compact(true).unwrap();
    // Bad monitors are named field by field.
    for (body, field) in [
        (
            json!({"name": "m", "model": "loans", "model_version": "3", "services": ["nobody"], "frequency": "day"}),
            "services",
        ),
        (
            json!({"name": "m", "model": "loans", "model_version": "4", "services": ["loans-east"], "frequency": "day"}),
            "model",
        ),
        (
            json!({"name": "m", "model": "loans", "model_version": "3", "services": ["loans-east"], "target": "train", "frequency": "day"}),
            "target",
        ),
        (
            json!({"name": "m", "model": "loans", "services": ["loans-east"], "frequency": "day"}),
            "model_version",
        ),
    ] {
        let (status, answer) = api
            .admin(Method::POST, "/api/v1/monitors", Some(body))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert!(
            answer
                .to_string()
                .contains(&format!("\"field\":\"{field}\"")),
            "{field}: {answer}"
        );
    }
    let (status, monitor) = api
        .admin(
            Method::POST,
            "/api/v1/monitors",
            Some(json!({"name": "loans", "model": "loans", "model_version": "3",
                        "services": ["loans-east", "loans-west"], "frequency": "day", "enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{monitor}");
    assert_eq!(monitor["spec"]["baseline"], "loans", "{monitor}");
    // One run per service per window.
    let (status, answer) = api
        .admin(
            Method::POST,
            "/api/v1/monitors/loans/backfill",
            Some(json!({"from": "2024-03-04", "to": "2024-03-04"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["runs"].as_array().unwrap().len(), 2, "{answer}");
    while crate::runner::run_next(&api.state.store, &api.state.baselines)
        .await
        .unwrap()
        .is_some()
    {}
    let (_, results) = api
        .admin(
            Method::GET,
            "/api/v1/monitors/loans/results?from=2024-03-04&to=2024-03-05",
            None,
        )
        .await;
    let windows = results["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 2, "{results}");
    assert_eq!(
        (&windows[0]["service"], &windows[0]["has_drift"]),
        (&json!("loans-east"), &json!(false)),
        "{results}"
    );
    assert_eq!(
        (&windows[1]["service"], &windows[1]["has_drift"]),
        (&json!("loans-west"), &json!(true)),
        "{results}"
    );
    // A figure draws one service.
    let figure =
        "/api/v1/monitors/loans/figures/drift-coefficient.svg?from=2024-03-04&to=2024-03-05";
    let (status, answer) = api.admin(Method::GET, figure, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer.to_string().contains("loans-east, loans-west"),
        "{answer}"
    );
    let (status, bytes) = api
        .raw(
            Some(&api.admin),
            Method::GET,
            &format!("{figure}&service=loans-west"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&bytes).contains("<svg"));
    // Runs and backfills may name some of the services, and only its own.
    let (status, answer) = api
        .admin(
            Method::POST,
            "/api/v1/monitors/loans/runs",
            Some(json!({"date": "2024-03-04", "services": ["loans-west"]})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["service"], "loans-west");
    assert_eq!(answer["runs"].as_array().unwrap().len(), 1);
    let (status, answer) = api
        .admin(
            Method::POST,
            "/api/v1/monitors/loans/backfill",
            Some(json!({"from": "2024-03-04", "to": "2024-03-04", "services": ["elsewhere"]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.to_string().contains("services"), "{answer}");
}

/// Requests a receiver got, and the body, signature and delivery id of
/// each one it took.
type Received = Arc<std::sync::Mutex<(u32, Vec<(String, String, String)>)>>;

/// A webhook receiver on loopback that fails its first request (500) and
/// keeps what it takes.
async fn flaky_receiver() -> (String, Received) {
    use axum::routing::post;
    let seen: Received = Arc::default();
    let keep = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let keep = keep.clone();
            async move {
                let mut s = keep.lock().unwrap();
                s.0 += 1;
                if s.0 == 1 {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                s.1.push((body, h("x-tidewatch-signature"), h("x-tidewatch-delivery")));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

/// A daily monitor `daily` with `alerts`, over a target whose days from
/// 2024-01-08 on drift.
async fn drifting_daily_monitor(api: &Api, alerts: Value) {
    let (base, target) = (api.path("baseline.csv"), api.path("target.csv"));
    write_csv(&base, 7, 60, 0.0, 99);
    write_csv(&target, 10, 60, 150.0, 7);
    for (name, input) in [("train", &base), ("collected", &target)] {
        let (status, body) = api
            .admin(
                Method::POST,
                "/api/v1/datasets",
                Some(json!({"name": name, "input": input, "time_column": "timestamp"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    for (uri, body) in [
        (
            "/api/v1/baselines",
            json!({"name": "training", "dataset": "train", "exclude": ["timestamp"]}),
        ),
        (
            "/api/v1/monitors",
            json!({"name": "daily", "baseline": "training", "target": "collected",
                   "frequency": "day", "enabled": false, "alerts": alerts}),
        ),
    ] {
        let (status, answer) = api.admin(Method::POST, uri, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
}

/// Backfills `monitor` from `from` to `to` (days, inclusive) and executes
/// every queued run.
async fn backfill_and_run(api: &Api, monitor: &str, from: &str, to: &str) {
    let (status, answer) = api
        .admin(
            Method::POST,
            &format!("/api/v1/monitors/{monitor}/backfill"),
            Some(json!({"from": from, "to": to})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    while crate::runner::run_next(&api.state.store, &api.state.baselines)
        .await
        .unwrap()
        .is_some()
    {}
}

#[tokio::test]
async fn drifted_windows_notify_each_webhook_once_signed_and_retried() {
    let api = Api::new().await;
    let (url, seen) = flaky_receiver().await;
    drifting_daily_monitor(&api, json!([{"type": "webhook", "to": url}])).await;
    backfill_and_run(&api, "daily", "2024-01-07", "2024-01-09").await;
    // Two drifted days: two notifications; the first attempt meets the 500.
    let mut deliverer = crate::alerts::Deliverer::new(b"s3cret");
    deliverer.backoff = std::time::Duration::from_millis(20);
    assert_eq!(deliverer.deliver_due(&api.state.store).await.unwrap(), 1);
    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    assert_eq!(deliverer.deliver_due(&api.state.store).await.unwrap(), 1);
    // Re-running the windows notifies nobody again.
    backfill_and_run(&api, "daily", "2024-01-07", "2024-01-09").await;
    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    assert_eq!(deliverer.deliver_due(&api.state.store).await.unwrap(), 0);
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.0, 3, "one failed request, then one a window");
    let mut windows = Vec::new();
    for (body, sig, delivery) in &got.1 {
        assert_eq!(sig, &crate::alerts::signature(b"s3cret", body.as_bytes()));
        assert!(!delivery.is_empty());
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["monitor"], "daily");
        assert!(v["drift_coefficient"].as_f64().unwrap() > v["threshold"].as_f64().unwrap());
        assert_eq!(v["top_features"][0]["name"], "x", "{v}");
        windows.push(v["window_start"].as_str().unwrap().to_string());
    }
    windows.sort();
    assert_eq!(windows.len(), 2);
    assert!(
        windows[0].starts_with("2024-01-08") && windows[1].starts_with("2024-01-09"),
        "{windows:?}"
    );
    // The history, through the API.
    let (status, history) = api
        .admin(Method::GET, "/api/v1/monitors/daily/alerts", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(history.iter().all(|n| n["state"] == "sent"));
    let attempts: Vec<i64> = history
        .iter()
        .map(|n| n["attempts"].as_i64().unwrap())
        .collect();
    assert!(
        attempts.contains(&2) && attempts.contains(&1),
        "{attempts:?}"
    );
    // Deliveries by outcome in the metrics export.
    let (_, bytes) = api
        .raw(Some(&api.reader), Method::GET, "/metrics", None)
        .await;
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.contains(r#"tidewatch_alert_notifications{monitor="daily",outcome="sent"} 2"#)
            && text.contains(r#"tidewatch_alert_attempts{monitor="daily",outcome="sent"} 3"#),
        "{text}"
    );
}

#[tokio::test]
async fn drifted_windows_are_emailed_through_a_real_smtp_server() {
    let api = Api::new().await;
    drifting_daily_monitor(&api, json!([{"type": "email", "to": "ops@example.com"}])).await;
    // A real SMTP server on loopback (aiosmtpd), keeping what it gets in a
    // maildir.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let maildir = api.path("mail");
    let mut smtpd = std::process::Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(["-c", "aiosmtpd.handlers.Mailbox", &maildir])
        .spawn()
        .expect("python3 -m aiosmtpd (scripts/test installs it)");
    let ready = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(ready, "aiosmtpd did not start");
    backfill_and_run(&api, "daily", "2024-01-07", "2024-01-09").await;
    // No SMTP server configured: the attempt fails, saying so.
    let mut deliverer = crate::alerts::Deliverer::new(b"k");
    deliverer.backoff = std::time::Duration::from_millis(10);
    assert_eq!(deliverer.deliver_due(&api.state.store).await.unwrap(), 0);
    let (_, history) = api
        .admin(Method::GET, "/api/v1/monitors/daily/alerts", None)
        .await;
    assert!(
        history.to_string().contains("no SMTP server is configured"),
        "{history}"
    );
    deliverer.smtp = Some(crate::alerts::Smtp {
        host: "127.0.0.1".into(),
        port,
        tls: crate::alerts::SmtpTls::Plain,
        login: None,
        from: "tidewatch@example.com".into(),
    });
    deliverer.public_url = Some("http://tidewatch.example:8080".into());
    tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    let sent = deliverer.deliver_due(&api.state.store).await.unwrap();
    let _ = smtpd.kill();
    let _ = smtpd.wait();
    assert_eq!(sent, 2);
    let mut mails: Vec<String> = std::fs::read_dir(format!("{maildir}/new"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    mails.sort();
    assert_eq!(mails.len(), 2);
    for mail in &mails {
        assert!(mail.contains("To: ops@example.com"), "{mail}");
        assert!(
            mail.contains("Subject: [tidewatch] drift in daily:"),
            "{mail}"
        );
        assert!(mail.contains("(threshold 0.2; drift when above)"), "{mail}");
        assert!(mail.contains("Top contributing features:"), "{mail}");
        assert!(
            mail.contains("http://tidewatch.example:8080/monitors/daily?run="),
            "{mail}"
        );
    }
    assert!(
        mails
            .iter()
            .any(|m| m.contains("Window: 2024-01-08T00:00:00Z to 2024-01-09T00:00:00Z")),
        "{}",
        mails[0]
    );
    assert!(
        mails
            .iter()
            .any(|m| m.contains("Window: 2024-01-09T00:00:00Z to 2024-01-10T00:00:00Z"))
    );
}

#[tokio::test]
async fn a_slack_route_gets_one_text_message_a_window() {
    let api = Api::new().await;
    let (url, seen) = flaky_receiver().await;
    drifting_daily_monitor(&api, json!([{"type": "slack", "to": url}])).await;
    backfill_and_run(&api, "daily", "2024-01-08", "2024-01-09").await;
    let mut deliverer = crate::alerts::Deliverer::new(b"k");
    deliverer.backoff = std::time::Duration::from_millis(10);
    deliverer.deliver_due(&api.state.store).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(40)).await;
    deliverer.deliver_due(&api.state.store).await.unwrap();
    let got = seen.lock().unwrap().1.clone();
    assert_eq!(got.len(), 2);
    for (body, _, _) in &got {
        let v: Value = serde_json::from_str(body).unwrap();
        let text = v["text"].as_str().unwrap();
        assert!(text.starts_with("*[tidewatch] drift in daily:"), "{text}");
        assert!(text.contains("Top contributing features:\n  x:"), "{text}");
    }
}

#[tokio::test]
async fn with_persistence_only_the_second_drifted_window_in_a_row_alerts() {
    let api = Api::new().await;
    let (url, seen) = flaky_receiver().await;
    drifting_daily_monitor(&api, json!([{"type": "webhook", "to": url}])).await;
    let (status, answer) = api
        .admin(
            Method::PATCH,
            "/api/v1/monitors/daily",
            Some(json!({"alert_persistence": {"drifted": 2, "of": 3}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = api
        .admin(
            Method::PATCH,
            "/api/v1/monitors/daily",
            Some(json!({"alert_persistence": {"drifted": 4, "of": 3}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.to_string().contains("alert_persistence"), "{answer}");
    // 2024-01-07 did not drift; the 8th and 9th did: the 8th is one of
    // three, the 9th two of three.
    backfill_and_run(&api, "daily", "2024-01-07", "2024-01-09").await;
    let (_, history) = api
        .admin(Method::GET, "/api/v1/monitors/daily/alerts", None)
        .await;
    let history = history.as_array().unwrap().clone();
    assert_eq!(history.len(), 1, "{history:?}");
    assert!(
        history[0]["window"]["start"]
            .as_str()
            .unwrap()
            .starts_with("2024-01-09"),
        "{history:?}"
    );
    drop(seen);
}

#[tokio::test]
async fn the_dashboard_series_hold_one_value_per_window_and_feature() {
    let api = Api::new().await;
    drifting_daily_monitor(&api, json!([])).await;
    backfill_and_run(&api, "daily", "2024-01-01", "2024-01-10").await;
    let (status, series) = api
        .call(
            Some(&api.reader),
            Method::GET,
            "/api/v1/monitors/daily/series?feature=x",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{series}");
    let w = &series["windows"];
    assert_eq!(w["run_id"].as_array().unwrap().len(), 10, "{series}");
    let drifted: Vec<bool> = w["has_drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_bool().unwrap())
        .collect();
    assert_eq!(drifted, [[false; 7].as_slice(), &[true; 3]].concat());
    // The same figures as the results query, window by window.
    let (_, results) = api
        .admin(
            Method::GET,
            "/api/v1/monitors/daily/results?from=2024-01-01&to=2024-01-11",
            None,
        )
        .await;
    let windows = results["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 10);
    let features: Vec<&str> = series["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(features.len(), 2, "{series}");
    assert!(features.contains(&"x") && features.contains(&"c"));
    let mut means = Vec::new();
    for (k, name) in features.iter().enumerate() {
        let column = series["contributions"][k].as_array().unwrap();
        assert_eq!(column.len(), 10);
        for (i, window) in windows.iter().enumerate() {
            assert_eq!(w["run_id"][i], window["run_id"]);
            assert_eq!(w["drift_coefficient"][i], window["drift_coefficient"]);
            assert_eq!(
                column[i], window["metrics"]["features"][name]["contribution"],
                "{name} in window {i}"
            );
            assert_eq!(
                series["feature"]["metrics"]["ks_pvalue"][i],
                window["metrics"]["features"]["x"]["metrics"]["ks_pvalue"]
            );
        }
        means.push(column.iter().map(|v| v.as_f64().unwrap()).sum::<f64>());
    }
    assert!(means[0] >= means[1], "largest mean contribution first");
    assert_eq!(series["feature"]["name"], "x");
    assert_eq!(series["feature"]["kind"], "numeric");
    let (_, alone) = api
        .admin(
            Method::GET,
            "/api/v1/monitors/daily/series?feature=x&contributions=false",
            None,
        )
        .await;
    assert_eq!(alone["feature"], series["feature"]);
    assert_eq!(alone["windows"], series["windows"]);
    assert!(alone.get("contributions").is_none() && alone.get("features").is_none());
    // A range, and every bad parameter named.
    let (_, some) = api
        .admin(
            Method::GET,
            "/api/v1/monitors/daily/series?from=2024-01-05&to=2024-01-08",
            None,
        )
        .await;
    assert_eq!(some["windows"]["run_id"].as_array().unwrap().len(), 3);
    assert!(some.get("feature").is_none());
    for (query, field) in [
        ("feature=nope", "feature"),
        ("from=2024-01-05&to=2024-01-05", "from"),
        ("from=yesterday", "from"),
        ("service=loans", "service"),
        ("colour=red", "colour"),
    ] {
        let (status, body) = api
            .admin(
                Method::GET,
                &format!("/api/v1/monitors/daily/series?{query}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["fields"][0]["field"], field, "{body}");
    }
    let (status, _) = api
        .admin(Method::GET, "/api/v1/monitors/weekly/series", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The overview: the newest window, no next run while disabled.
    let (status, overview) = api
        .call(Some(&api.reader), Method::GET, "/api/v1/overview", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{overview}");
    let m = &overview["monitors"][0];
    assert_eq!(m["name"], "daily");
    assert_eq!(m["state"], "disabled");
    assert_eq!(m["latest"][0]["window_start"], "2024-01-10T00:00:00Z");
    assert_eq!(m["latest"][0]["has_drift"], true);
    assert_eq!(m["next_run_at"], Value::Null);
    assert_eq!(m["runs"]["succeeded"], 10);
    let (_, _) = api
        .admin(Method::POST, "/api/v1/monitors/daily/enable", None)
        .await;
    let (_, overview) = api.admin(Method::GET, "/api/v1/overview", None).await;
    let next: chrono::DateTime<chrono::Utc> = overview["monitors"][0]["next_run_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = chrono::Utc::now();
    assert!(
        next > now && next <= now + chrono::Duration::days(1),
        "a daily monitor runs within a day: {next}"
    );
    // One feature of a report.
    let run = w["run_id"][9].as_i64().unwrap();
    let (status, report) = api
        .admin(
            Method::GET,
            &format!("/api/v1/runs/{run}/report?feature=c"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["features"].as_array().unwrap().len(), 1);
    assert_eq!(report["features"][0]["distribution"]["type"], "categorical");
    let (status, body) = api
        .admin(
            Method::GET,
            &format!("/api/v1/runs/{run}/report?feature=zzz"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "feature");
}

#[tokio::test]
async fn the_dashboard_page_and_its_assets_are_served_without_a_token() {
    let api = Api::new().await;
    for (uri, media) in [
        ("/", "text/html"),
        ("/monitors/daily?run=3", "text/html"),
        ("/services", "text/html"),
        ("/assets/app.js", "text/javascript"),
        ("/assets/charts.js", "text/javascript"),
        ("/assets/app.css", "text/css"),
    ] {
        let response = app(api.state.clone())
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
        let headers = response.headers();
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with(media),
            "{uri}"
        );
        assert!(
            headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("script-src 'self'"),
            "{uri}"
        );
    }
    let (status, body) = api.call(None, Method::GET, "/assets/nope.js", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nope.js")
    );
    // The page's data still needs a token.
    let (status, _) = api.call(None, Method::GET, "/api/v1/overview", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
