//! The dashboard in a real headless Chromium, driven over WebDriver
//! (chromedriver, both from Debian's `chromium` and `chromium-driver`
//! packages, which `scripts/test` installs): sign in with a token, the
//! monitors list, a monitor's trend with one point per window, a clicked
//! window's feature details, the backfill form starting runs, the enable
//! control, and the collected services. A screenshot of each page is kept
//! under `test-output/dashboard/`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::serve::{Server, call, token};
use super::webdriver::Browser;
use super::{example, root};

fn output_dir() -> PathBuf {
    let dir = root().join("test-output/dashboard");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Backfill runs of `monitor` that succeeded.
fn succeeded_backfills(server: &Server, token: &str, monitor: &str) -> usize {
    let (status, runs) = call(
        server,
        Some(token),
        "GET",
        &format!("/monitors/{monitor}/runs?kind=backfill"),
        None,
    );
    assert_eq!(status, 200, "{runs}");
    runs.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"] == "succeeded")
        .count()
}

/// A webhook nobody listens at: its deliveries fail, and say why.
const DEAD_HOOK: &str = "http://127.0.0.1:9/hook";

fn car_loan_monitor(server: &Server, admin: &str) {
    for (name, file) in [
        ("reference", "car_loan_reference.csv"),
        ("analysis", "car_loan_analysis.csv"),
    ] {
        let body = json!({"name": name, "input": example(file), "time_column": "timestamp"});
        let (status, answer) = call(server, Some(admin), "POST", "/datasets", Some(body));
        assert_eq!(status, 201, "{answer}");
    }
    for (path, body) in [
        (
            "/baselines",
            json!({"name": "training", "dataset": "reference",
                   "exclude": ["id", "repaid", "timestamp", "y_pred_proba", "y_pred"]}),
        ),
        (
            "/monitors",
            json!({"name": "car-loans", "baseline": "training", "target": "analysis",
                   "frequency": "week", "enabled": false,
                   "alerts": [{"type": "webhook", "to": DEAD_HOOK}]}),
        ),
    ] {
        let (status, answer) = call(server, Some(admin), "POST", path, Some(body));
        assert_eq!(status, 201, "{answer}");
    }
}

#[test]
fn the_dashboard_draws_a_monitor_and_its_controls_start_runs_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let admin = token(&home, "ops", "admin");
    let server = Server::start_with(&home, &["--compact-every", "1"]);
    car_loan_monitor(&server, &admin);
    // Four weeks before the drift starts (2019-04-01), run by the server.
    let (status, answer) = call(
        &server,
        Some(&admin),
        "POST",
        "/monitors/car-loans/backfill",
        Some(json!({"from": "2019-03-04", "to": "2019-03-31"})),
    );
    assert_eq!(status, 202, "{answer}");
    let deadline = Instant::now() + Duration::from_secs(120);
    while succeeded_backfills(&server, &admin, "car-loans") < 4 {
        assert!(Instant::now() < deadline, "the backfill never finished");
        std::thread::sleep(Duration::from_millis(200));
    }
    // A collected service, for the services page.
    let batch: Vec<Value> = (0..50)
        .map(|i| json!({"$Timestamp": format!("2026-01-02T10:{:02}:00Z", i), "x": i}))
        .collect();
    let (status, answer) = call(
        &server,
        Some(&admin),
        "POST",
        "/services/loans-api/inputs",
        Some(Value::Array(batch)),
    );
    assert_eq!(status, 201, "{answer}");

    let browser = Browser::start();
    browser.go(&format!("{}/", server.url));
    // Signing in: a wrong token is refused and said so; the right one in.
    browser.type_into("#token", "tw_not-a-token");
    browser.click("#login button[type=submit]");
    browser.wait_for_text("#login .error", "unknown or revoked");
    browser.screenshot(&output_dir(), "login");
    browser.type_into("#token", &admin);
    browser.click("#login button[type=submit]");
    browser.wait("the monitors list", || {
        browser.count("#monitors tr[data-monitor=\"car-loans\"]") == 1
    });
    let row = browser
        .text("#monitors tr[data-monitor=\"car-loans\"]")
        .unwrap();
    assert!(
        row.contains("disabled") && row.contains("2019-03-25"),
        "{row}"
    );
    browser.screenshot(&output_dir(), "monitors");

    // The monitor's page: one trend point per window with a result.
    browser.click("#monitors a");
    browser.wait("the trend", || browser.count("#trend circle.point") > 0);
    let (_, series) = call(
        &server,
        Some(&admin),
        "GET",
        "/monitors/car-loans/series",
        None,
    );
    let windows = series["windows"]["run_id"].as_array().unwrap().len();
    assert_eq!(windows, 4, "{series}");
    assert_eq!(browser.count("#trend circle.point"), windows);
    assert_eq!(browser.count("#contributions g.bar"), windows);
    // No window of these is drifted: no red point, and the threshold drawn.
    assert_eq!(browser.count("#trend polyline.threshold"), 1);
    assert_eq!(browser.count("#trend circle.point[fill=\"#d62728\"]"), 0);
    browser.screenshot(&output_dir(), "monitor");

    // Clicking a window shows its features, a metric trend and both
    // distributions.
    browser.click("#trend circle.point[data-index=\"2\"]");
    browser.wait("the window's features", || {
        browser.count("#features tbody tr") == 7 && browser.count("#distribution svg") == 1
    });
    let summary = browser.text("#window-summary").unwrap();
    let third_run = series["windows"]["run_id"][2].as_i64().unwrap();
    assert!(summary.contains(&format!("run {third_run}")), "{summary}");
    let heading = browser.text("#details h3").unwrap();
    assert!(heading.contains("2019-03-18"), "{heading}");
    // The address names the window, as a link to it.
    let address = browser.eval("return location.pathname + location.search", json!([]));
    assert_eq!(
        address.as_str().unwrap(),
        format!("/monitors/car-loans?run={third_run}")
    );
    assert_eq!(browser.count("#metric-trend circle.point"), windows);
    // The top feature is selected; a numeric one draws histograms and KDEs.
    browser.click("#features tr[data-feature=\"car_value\"]");
    browser.wait("car_value's histogram", || {
        browser.count("#distribution rect") > 10 && browser.count("#distribution path.kde") == 2
    });
    browser.screenshot(&output_dir(), "window");
    // A categorical feature draws bars per category, unseen included.
    browser.click("#features tr[data-feature=\"salary_range\"]");
    browser.wait("salary_range's bars", || {
        browser.count("#distribution rect.cat.baseline") == 5
    });
    let notes = browser.text("#distribution-notes").unwrap();
    assert!(
        notes.contains("missing") && notes.contains("unseen"),
        "{notes}"
    );

    // The backfill form starts runs; the trend grows as they finish.
    browser.set_date("#backfill-form input[name=from]", "2019-04-01");
    browser.set_date("#backfill-form input[name=to]", "2019-04-14");
    browser.click("#backfill-form button[type=submit]");
    browser.wait_for_text("#message", "2 backfill runs queued");
    let deadline = Instant::now() + Duration::from_secs(120);
    while succeeded_backfills(&server, &admin, "car-loans") < 6 {
        assert!(
            Instant::now() < deadline,
            "the dashboard's backfill never ran"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    browser.wait("six points, the new two drifted", || {
        browser.count("#trend circle.point") == 6
            && browser.count("#trend circle.point[fill=\"#d62728\"]") == 2
    });
    assert!(browser.count("#runs-table tr[data-state=\"succeeded\"]") >= 6);
    // Each drifted window queued an alert; the page shows the failed
    // attempts at the dead webhook, with their error.
    browser.wait("two alerts, each tried and failed", || {
        browser.eval("location.reload()", json!([]));
        browser.wait("the page", || browser.count("#trend circle.point") == 6);
        browser.count("#alerts-table tbody tr") == 2
            && browser.eval(
                "return [...document.querySelectorAll('#alerts-table td.error-text')]\
                 .every((td) => td.innerText.length > 0)",
                json!([]),
            ) == json!(true)
    });
    let alerts = browser.text("#alerts-table").unwrap();
    assert!(alerts.contains(&format!("webhook {DEAD_HOOK}")), "{alerts}");
    assert!(alerts.contains("2019-04-01 → 2019-04-08"), "{alerts}");
    // An adhoc run of a date, from its form.
    browser.set_date("#run-form input[name=date]", "2019-05-01");
    browser.click("#run-form button[type=submit]");
    browser.wait_for_text("#message", "queued for 2019-04-29");
    // Enabling the schedule from the page.
    browser.click(".title button");
    browser.wait("the enabled badge", || {
        browser.text(".title .badge").as_deref() == Some("enabled")
    });
    let (_, monitor) = call(&server, Some(&admin), "GET", "/monitors/car-loans", None);
    assert_eq!(monitor["state"], "enabled", "{monitor}");
    browser.screenshot(&output_dir(), "monitor-after-backfill");

    // The collected services: what was taken, and once compacted, the
    // rows per day.
    browser.click("nav a[href=\"/services\"]");
    browser.wait("the service", || {
        browser.count("section[data-service=\"loans-api\"]") == 1
    });
    let card = browser.text("section[data-service=\"loans-api\"]").unwrap();
    assert!(card.contains("50 rows taken"), "{card}");
    browser.wait("the compacted day", || {
        browser.eval("location.reload()", json!([]));
        browser.wait("the page", || browser.count("section[data-service]") == 1);
        browser.count("section[data-service=\"loans-api\"] g.bar") == 1
    });
    let card = browser.text("section[data-service=\"loans-api\"]").unwrap();
    assert!(card.contains("last record 2026-01-02 10:49 UTC"), "{card}");
    assert!(card.contains("not registered"), "{card}");
    browser.screenshot(&output_dir(), "services");
    // Signed out, then in with a read token: the page shows, its controls
    // answer with the API's refusal, and nothing changes.
    browser.click("#logout");
    browser.wait("the sign-in form", || browser.count("#login") == 1);
    let reader = token(&home, "viewer", "read");
    browser.type_into("#token", &reader);
    browser.click("#login button[type=submit]");
    browser.wait("the services again", || {
        browser.count("section[data-service]") == 1
    });
    // An alert's link opens its window, and a feature named there.
    browser.go(&format!(
        "{}/monitors/car-loans?run={third_run}&feature=loan_length",
        server.url
    ));
    browser.wait("the linked window", || {
        browser.count("#trend circle.point") == 6
            && browser
                .text("#window-summary")
                .is_some_and(|t| t.contains(&format!("run {third_run}")))
            && browser.count("#features tr.selected[data-feature=\"loan_length\"]") == 1
    });
    browser.click(".title button");
    browser.wait_for_text("#message", "read-only");
    let (_, monitor) = call(&server, Some(&admin), "GET", "/monitors/car-loans", None);
    assert_eq!(monitor["state"], "enabled", "{monitor}");
    for page in ["login", "monitors", "monitor", "window", "services"] {
        assert!(output_dir().join(format!("{page}.png")).is_file());
    }
}
