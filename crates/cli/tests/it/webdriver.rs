//! A W3C WebDriver client for the dashboard's tests and benchmark: a
//! chromedriver of its own driving Debian's Chromium headless (both from
//! the `chromium` and `chromium-driver` packages; `TIDEWATCH_CHROMIUM` and
//! `TIDEWATCH_CHROMEDRIVER` point elsewhere).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The browser and its driver, from the environment or Debian's paths.
fn browser() -> (PathBuf, PathBuf) {
    let chromium = std::env::var_os("TIDEWATCH_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    let driver = std::env::var_os("TIDEWATCH_CHROMEDRIVER")
        .map_or_else(|| PathBuf::from("/usr/bin/chromedriver"), PathBuf::from);
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
pub struct Browser {
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
    pub fn start() -> Browser {
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
    pub fn send(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
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

    pub fn go(&self, url: &str) {
        self.send("POST", "/url", Some(json!({ "url": url })))
            .unwrap();
    }

    /// Runs `script` (a function body) in the page with `args`.
    pub fn eval(&self, script: &str, args: Value) -> Value {
        self.send(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// How many elements match `css`.
    pub fn count(&self, css: &str) -> usize {
        self.eval(
            "return document.querySelectorAll(arguments[0]).length",
            json!([css]),
        )
        .as_u64()
        .unwrap() as usize
    }

    /// The text of the first element matching `css`, if any.
    pub fn text(&self, css: &str) -> Option<String> {
        self.eval(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : null",
            json!([css]),
        )
        .as_str()
        .map(str::to_string)
    }

    /// The first element matching `css`, waiting for it.
    pub fn element(&self, css: &str) -> String {
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
    pub fn click(&self, css: &str) {
        let id = self.element(css);
        self.send("POST", &format!("/element/{id}/click"), Some(json!({})))
            .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    /// Keys typed into a field.
    pub fn type_into(&self, css: &str, text: &str) {
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
    pub fn set_date(&self, css: &str, date: &str) {
        self.element(css);
        self.eval(
            "document.querySelector(arguments[0]).value = arguments[1]",
            json!([css, date]),
        );
    }

    /// Waits until the first element matching `css` holds `needle`.
    pub fn wait_for_text(&self, css: &str, needle: &str) {
        self.wait(&format!("{needle:?} in {css}"), || {
            self.text(css).is_some_and(|t| t.contains(needle))
        });
    }

    /// Waits up to 60 s for `ready`, naming `what` when it never is.
    pub fn wait(&self, what: &str, ready: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ready() {
            if Instant::now() > deadline {
                let page = self.text("body").unwrap_or_default();
                panic!("waited 60 s for {what}; the page says:\n{page}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A PNG of the whole page, kept as `dir/name.png`.
    pub fn screenshot(&self, dir: &Path, name: &str) -> PathBuf {
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
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
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
