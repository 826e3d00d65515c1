//! The dashboard in a real headless Chromium, driven over WebDriver
//! (chromedriver, both from Debian's `chromium` and `chromium-driver`
//! packages, which `scripts/test` installs): sign in with a token, the
//! monitors list, a monitor's trend with one point per window, a clicked
//! window's feature details, the backfill form starting runs, the enable
//! control, and the collected services. A screenshot of each page is kept
//! under `test-output/dashboard/`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::example;
use super::root;
use super::serve::{Server, call, token};

/// The browser and its driver, from the environment or Debian's paths.
fn browser() -> (PathBuf, PathBuf) {
    let chromium = std::env::var_os("TIDEWATCH_CHROMIUM").map_or_else(
        || PathBuf::from("/usr/bin/chromium"),
        PathBuf::from,
    );
    let driver = std::env::var_os("TIDEWATCH_CHROMEDRIVER").map_or_else(
        || PathBuf::from("/usr/bin/chromedriver"),
        PathBuf::from,
    );
    assert!(
        chromium.exists() && driver.exists(),
        "the dashboard test needs {} and {}: install Debian's chromium and chromium-driver \
         packages (scripts/test does)",
        chromium.display(),
        driver.display()
    );
    (chromium, driver)
}

/// A W3C WebDriver session on a chromedriver of its own; both end on drop.
struct Browser {
    driver: Child,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.send("DELETE", "", None);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    fn start() -> Browser {
        let (chromium, driver) = browser();
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        // Ready when its status says so (not a sleep).
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = runtime.block_on(async {
                let r = client.get(format!("{base}/status")).send().await.ok()?;
                let v: Value = r.json().await.ok()?;
                v["value"]["ready"].as_bool()
            });
            if ready == Some(true) {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver never got ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,1000",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let answer: Value = runtime.block_on(async {
            client
                .post(format!("{base}/session"))
                .json(&caps)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        let id = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {answer}"))
            .to_string();
        Browser {
            driver: child,
            runtime,
            client,
            session: format!("{base}/session/{id}"),
            _profile: profile,
        }
    }

    /// One WebDriver command; its `value`, or the driver's error.
    fn send(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.runtime.block_on(async {
            let mut req = self.client.request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", self.session),
            );
            if let Some(b) = body {
                req = req.json(&b);
            }
            let response = req.send().await.map_err(|e| e.to_string())?;
            let ok = response.status().is_success();
            let v: Value = response.json().await.map_err(|e| e.to_string())?;
            if ok {
                Ok(v["value"].clone())
            } else {
                Err(v["value"].to_string())
            }
        })
    }

    fn go(&self, url: &str) {
        self.send("POST", "/url", Some(json!({ "url": url }))).unwrap();
    }

    /// Runs `script` (a function body) in the page with `args`.
    fn eval(&self, script: &str, args: Value) -> Value {
        self.send(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// How many elements match `css`.
    fn count(&self, css: &str) -> usize {
        self.eval(
            "return document.querySelectorAll(arguments[0]).length",
            json!([css]),
        )
        .as_u64()
        .unwrap() as usize
    }

    /// The text of the first element matching `css`, if any.
    fn text(&self, css: &str) -> Option<String> {
        self.eval(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : null",
            json!([css]),
        )
        .as_str()
        .map(str::to_string)
    }

    /// The first element matching `css`, waiting for it.
    fn element(&self, css: &str) -> String {
        self.wait(&format!("an element {css}"), || self.count(css) > 0);
        let v = self
            .send(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .unwrap();
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap()
            .to_string()
    }

    /// A real click (the driver moves the pointer there and presses).
    fn click(&self, css: &str) {
        let id = self.element(css);
        self.send("POST", &format!("/element/{id}/click"), Some(json!({})))
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    /// Keys typed into a field.
    fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.send("POST", &format!("/element/{id}/clear"), Some(json!({})))
            .unwrap();
        self.send(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .unwrap();
    }

    /// Sets a date field (typed dates follow the browser's locale).
    fn set_date(&self, css: &str, date: &str) {
        self.element(css);
        self.eval(
            "document.querySelector(arguments[0]).value = arguments[1]",
            json!([css, date]),
        );
    }

    /// Waits up to 60 s for `ready`, naming `what` when it never is.
    fn wait(&self, what: &str, ready: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ready() {
            if Instant::now() > deadline {
                let page = self.text("body").unwrap_or_default();
                panic!("waited 60 s for {what}; the page says:\n{page}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A PNG of the whole page, kept as `name.png` in the test-output folder.
    fn screenshot(&self, name: &str) -> PathBuf {
        self.send(
            "POST",
            "/window/rect",
            Some(json!({"width": 1400, "height": 1000})),
        )
        .unwrap();
        let height = self
            .eval("return document.documentElement.scrollHeight", json!([]))
            .as_u64()
            .unwrap_or(1000)
            .clamp(600, 6000);
        self.send(
            "POST",
            "/window/rect",
            Some(json!({"width": 1400, "height": height})),
        )
        .unwrap();
        let data = self.send("GET", "/screenshot", None).unwrap();
        let png = base64_decode(data.as_str().unwrap());
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
        let dir = output_dir();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

fn output_dir() -> PathBuf {
    let dir = root().join("test-output/dashboard");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Standard base64 (the screenshot's encoding).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let bytes: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c) << (18 - 6 * i);
        }
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

#[test]
fn base64_decodes_what_chromium_sends() {
    assert_eq!(base64_decode("aGVsbG8gd29ybGQ="), b"hello world");
    assert_eq!(base64_decode("YQ=="), b"a");
    assert_eq!(base64_decode("YWI="), b"ab");
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
                   "frequency": "week", "enabled": false}),
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
    browser.wait("the refusal", || {
        browser
            .text("#login .error")
            .is_some_and(|t| t.contains("unknown or revoked"))
    });
    browser.screenshot("login");
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
    browser.screenshot("monitors");

    // The monitor's page: one trend point per window with a result.
    browser.click("#monitors a");
    browser.wait("the trend", || browser.count("#trend circle.point") > 0);
    let (_, series) = call(&server, Some(&admin), "GET", "/monitors/car-loans/series", None);
    let windows = series["windows"]["run_id"].as_array().unwrap().len();
    assert_eq!(windows, 4, "{series}");
    assert_eq!(browser.count("#trend circle.point"), windows);
    assert_eq!(browser.count("#contributions g.bar"), windows);
    // No window of these is drifted: no red point, and the threshold drawn.
    assert_eq!(browser.count("#trend polyline.threshold"), 1);
    assert_eq!(browser.count("#trend circle.point[fill=\"#d62728\"]"), 0);
    browser.screenshot("monitor");

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
    assert_eq!(browser.count("#metric-trend circle.point"), windows);
    // The top feature is selected; a numeric one draws histograms and KDEs.
    browser.click("#features tr[data-feature=\"car_value\"]");
    browser.wait("car_value's histogram", || {
        browser.count("#distribution rect") > 10 && browser.count("#distribution path.kde") == 2
    });
    browser.screenshot("window");
    // A categorical feature draws bars per category, unseen included.
    browser.click("#features tr[data-feature=\"salary_range\"]");
    browser.wait("salary_range's bars", || {
        browser.count("#distribution rect.cat.baseline") == 5
    });
    let notes = browser.text("#distribution-notes").unwrap();
    assert!(notes.contains("missing") && notes.contains("unseen"), "{notes}");

    // The backfill form starts runs; the trend grows as they finish.
    browser.set_date("#backfill-form input[name=from]", "2019-04-01");
    browser.set_date("#backfill-form input[name=to]", "2019-04-14");
    browser.click("#backfill-form button[type=submit]");
    browser.wait("the queued message", || {
        browser
            .text("#message")
            .is_some_and(|t| t.contains("2 backfill runs queued"))
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    while succeeded_backfills(&server, &admin, "car-loans") < 6 {
        assert!(Instant::now() < deadline, "the dashboard's backfill never ran");
        std::thread::sleep(Duration::from_millis(200));
    }
    browser.wait("six points, the new two drifted", || {
        browser.count("#trend circle.point") == 6
            && browser.count("#trend circle.point[fill=\"#d62728\"]") == 2
    });
    assert!(browser.count("#runs-table tr[data-state=\"succeeded\"]") >= 6);
    // An adhoc run of a date, from its form.
    browser.set_date("#run-form input[name=date]", "2019-05-01");
    browser.click("#run-form button[type=submit]");
    browser.wait("the adhoc run", || {
        browser
            .text("#message")
            .is_some_and(|t| t.contains("queued for 2019-04-29"))
    });
    // Enabling the schedule from the page.
    browser.click(".title button");
    browser.wait("the enabled badge", || {
        browser.text(".title .badge").as_deref() == Some("enabled")
    });
    let (_, monitor) = call(&server, Some(&admin), "GET", "/monitors/car-loans", None);
    assert_eq!(monitor["state"], "enabled", "{monitor}");
    browser.screenshot("monitor-after-backfill");

    // The collected services: what was taken, and once compacted, the
    // rows per day.
    browser.click("nav a[href=\"#/services\"]");
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
    browser.screenshot("services");
    for page in ["login", "monitors", "monitor", "window", "services"] {
        assert!(output_dir().join(format!("{page}.png")).is_file());
    }
}
