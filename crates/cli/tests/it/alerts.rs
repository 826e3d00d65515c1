//! `tidewatch alert test|list` on a data directory, against a real webhook
//! receiver on loopback.

use std::sync::{Arc, Mutex};

use super::tidewatch;

#[test]
fn a_test_alert_reaches_the_webhook_signed_and_names_what_failed() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let home_s = home.to_str().unwrap();
    // The receiver: keeps each body and signature.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let got: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let keep = got.clone();
    let url = runtime.block_on(async move {
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let keep = keep.clone();
                async move {
                    let sig = headers
                        .get("x-tidewatch-signature")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    keep.lock().unwrap().push((body, sig));
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    });
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--data-dir", home_s]);
        let out = tidewatch(&all);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let train = tmp.path().join("train.csv");
    let mut text = String::from("timestamp,x\n");
    for i in 0..100 {
        text.push_str(&format!("2024-01-01T00:{:02}:00Z,{}\n", i % 60, i % 17));
    }
    std::fs::write(&train, text).unwrap();
    for args in [
        vec![
            "dataset",
            "create",
            "train",
            train.to_str().unwrap(),
            "--time-column",
            "timestamp",
        ],
        vec!["baseline", "create", "b", "--dataset", "train"],
        vec![
            "monitor",
            "create",
            "m",
            "--frequency",
            "day",
            "--baseline",
            "b",
            "--target",
            "train",
            "--disabled",
            "--webhook",
            &url,
            "--email",
            "ops@example.com",
        ],
    ] {
        let (code, _, err) = run(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
    }
    // No SMTP server given: the webhook is sent, the email is not, and
    // the command says so with exit 1.
    let (code, out, err) = run(&["alert", "test", "m"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("not delivered"), "{err}");
    assert!(out.contains("webhook") && out.contains("\tsent\t"), "{out}");
    assert!(out.contains("no SMTP server is configured"), "{out}");
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let (body, sig) = &got[0];
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        (v["event"].as_str(), v["monitor"].as_str()),
        (Some("test"), Some("m"))
    );
    let secret = std::fs::read_to_string(home.join("webhook-secret")).unwrap();
    assert_eq!(
        sig,
        &tidewatch_server::alerts::signature(secret.trim().as_bytes(), body.as_bytes())
    );
    let (code, out, _) = run(&["alert", "list", "m"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 2, "{out}");
    let (code, _, err) = run(&["alert", "test", "nobody"]);
    assert_eq!(code, 1);
    assert!(err.contains("404"), "{err}");
}
