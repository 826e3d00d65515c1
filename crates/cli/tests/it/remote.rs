//! Inputs in object stores, read over the S3 protocol from a real S3 API
//! server on a local port (moto's server: `pip install "moto[server]"`,
//! which `scripts/test` installs), and over plain HTTP from the same server.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::example;

/// A running S3 API server, stopped on drop.
struct S3Server {
    child: Child,
    port: u16,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl S3Server {
    fn start() -> S3Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "python3 runs moto's S3 API server: pip install \"moto[server]\" (scripts/test does)",
            );
        let mut server = S3Server { child, port };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "moto's S3 API server exited ({status}): pip install \"moto[server]\" (scripts/test does)"
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "moto's server did not listen within 30 s: is moto[server] installed?"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// Sends one HTTP PUT (a bucket or an object, readable by anyone, so
    /// that plain HTTP can read it too) and returns the status.
    fn put(&self, path: &str, body: &[u8]) -> u16 {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            s,
            "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\nx-amz-acl: public-read\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        )
        .unwrap();
        s.write_all(body).unwrap();
        let mut response = String::new();
        s.read_to_string(&mut response).unwrap();
        response
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }

    /// Runs `tidewatch` with credentials and the endpoint of this server.
    fn tidewatch(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tidewatch"))
            .args(args)
            .env("AWS_ENDPOINT", format!("http://127.0.0.1:{}", self.port))
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_ACCESS_KEY_ID", "tidewatch")
            .env("AWS_SECRET_ACCESS_KEY", "tidewatch")
            .env("AWS_REGION", "us-east-1")
            .output()
            .expect("tidewatch runs")
    }
}

fn json(out: Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn s3_and_http_objects_read_like_local_files() {
    let server = S3Server::start();
    assert_eq!(server.put("/weather", b""), 200, "bucket created");
    let baseline = example("seattle_weather_baseline_2012_2013.csv");
    let target = example("seattle_weather_target_2015.csv");
    let (b_text, t_text) = (
        std::fs::read(&baseline).unwrap(),
        std::fs::read(&target).unwrap(),
    );
    // The target as Parquet, and the baseline split into two gzip parts.
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("t.parquet");
    super::data::to_parquet(target.to_str().unwrap(), &parquet);
    let text = String::from_utf8(b_text.clone()).unwrap();
    let (header, rows) = text.split_once('\n').unwrap();
    let lines: Vec<&str> = rows.lines().collect();
    let half = lines.len() / 2;
    for (i, part) in [&lines[..half], &lines[half..]].iter().enumerate() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        writeln!(gz, "{header}\n{}", part.join("\n")).unwrap();
        let key = format!("/weather/baseline/part-{i}.csv.gz");
        assert_eq!(server.put(&key, &gz.finish().unwrap()), 200);
    }
    assert_eq!(server.put("/weather/baseline/.hidden.csv", b"x\n1\n"), 200);
    assert_eq!(server.put("/weather/target/2015.csv", &t_text), 200);
    let pq = std::fs::read(&parquet).unwrap();
    assert_eq!(server.put("/weather/target/2015.parquet", &pq), 200);

    let local = json(server.tidewatch(&[
        "compare",
        baseline.to_str().unwrap(),
        target.to_str().unwrap(),
        "--format",
        "json",
    ]));
    // A prefix of compressed parts against a CSV object, and against Parquet
    // read by byte ranges; then a glob.
    for target in [
        "s3://weather/target/2015.csv",
        "s3://weather/target/2015.parquet",
        "s3://weather/target/*.csv",
    ] {
        let remote = json(server.tidewatch(&[
            "compare",
            "s3://weather/baseline",
            target,
            "--format",
            "json",
        ]));
        assert!(remote == local, "{target} reads unlike the local file");
    }
    // Plain HTTP: one object by its URL (moto serves objects path-style).
    let http = format!(
        "http://127.0.0.1:{}/weather/target/2015.parquet",
        server.port
    );
    let remote = json(server.tidewatch(&[
        "compare",
        baseline.to_str().unwrap(),
        &http,
        "--format",
        "json",
    ]));
    assert!(remote == local, "HTTP reads unlike the local file");

    // Errors name the URL.
    for (input, expected) in [
        ("s3://weather/nothing-here", "no such object"),
        ("s3://weather/target/*.json", "matches no object"),
        ("s3://no-such-bucket/x.csv", "no-such-bucket"),
    ] {
        let out = server.tidewatch(&["compare", "s3://weather/baseline", input]);
        assert_eq!(out.status.code(), Some(1), "{input}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(input) || err.contains(expected),
            "{input}: {err}"
        );
        assert!(err.contains(expected), "{input}: {err}");
    }
}
