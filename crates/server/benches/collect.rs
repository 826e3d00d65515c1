//! Collector benchmark: sustained ingestion over HTTP on loopback of
//! NDJSON batches of 1,000 rows (20 numeric and 5 string fields), from
//! concurrent writers on the same machine, every batch synced to the
//! write-ahead log before its answer. Prints rows a second, batch
//! latencies and the log's bytes a row.
//!
//! `cargo bench -p tidewatch-server --bench collect -- [SECONDS] [WRITERS] [ROWS_PER_S]
//! [--compact-every S]` (default 10 s, 8 writers, as fast as they can; with
//! a rate, the writers pace themselves to it, for latencies under a given
//! load; with `--compact-every`, the log is compacted while the writers
//! write, as `serve` does, and the backlog it leaves is printed).

use std::time::{Duration, Instant};

use tidewatch_server::api::{AppState, app};
use tidewatch_server::collector::Collector;
use tidewatch_store::Store;

fn batch(k: usize) -> String {
    let mut out = String::with_capacity(1000 * 400);
    for i in 0..1000 {
        out.push('{');
        for c in 0..20 {
            let v = ((k * 1000 + i) * (c + 7) % 10_007) as f64 / 7.0;
            out.push_str(&format!("\"num_{c}\":{v},"));
        }
        for c in 0..5 {
            out.push_str(&format!("\"cat_{c}\":\"c{c}_{}\",", (i + c) % (3 + 4 * c)));
        }
        out.push_str(&format!("\"$CorrelationId\":\"{k}-{i}\"}}\n"));
    }
    out
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut raw: Vec<String> = std::env::args().skip(1).collect();
    // `--compact-every S`: compact while ingesting, as `serve` does, to
    // show whether compaction keeps up (the backlog stays bounded).
    let compact_every = raw.iter().position(|a| a == "--compact-every").map(|i| {
        let v: f64 = raw.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(1.0);
        raw.drain(i..(i + 2).min(raw.len()));
        Duration::from_secs_f64(v)
    });
    let args: Vec<u64> = raw.iter().filter_map(|a| a.parse().ok()).collect();
    let seconds = args.first().copied().unwrap_or(10);
    let writers = args.get(1).copied().unwrap_or(8) as usize;
    // Each writer's pause between batch starts, for the asked rate.
    let pace = args
        .get(2)
        .map(|&rate| Duration::from_secs_f64(writers as f64 * 1000.0 / rate as f64));
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let (_, token) = store.create_ingest_token("bench", "svc").await.unwrap();
    let mut state = AppState::new(store);
    let collector = Collector::open(dir.path()).unwrap();
    state.collector = Some(collector.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app(state)).await });
    let url = format!("http://{addr}/api/v1/services/svc/inputs");
    let bodies: Vec<String> = (0..16).map(batch).collect();
    println!(
        "collector bench: {writers} writers, {seconds} s, NDJSON batches of 1000 rows ({} bytes){}",
        bodies[0].len(),
        args.get(2)
            .map_or(String::new(), |r| format!(", paced to {r} rows/s"))
    );
    let client = reqwest::Client::new();
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let (client, url, token, bodies) =
                (client.clone(), url.clone(), token.clone(), bodies.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut k = w;
                let mut next = Instant::now();
                while Instant::now() < end {
                    if let Some(p) = pace {
                        tokio::time::sleep_until(next.into()).await;
                        next += p;
                    }
                    let t = Instant::now();
                    let r = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("content-type", "application/x-ndjson")
                        .body(bodies[k % bodies.len()].clone())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status().as_u16(), 201);
                    latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                    k += writers;
                }
                latencies
            })
        })
        .collect();
    // The compactor beside the writers, and the log's backlog each second.
    let backlog = |c: &Collector| -> u64 {
        std::fs::read_dir(c.dir())
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    };
    let compactor = compact_every.map(|every| {
        let c = collector.clone();
        tokio::task::spawn_blocking(move || {
            let (mut compacted, mut samples) = (0usize, Vec::new());
            while Instant::now() < end {
                std::thread::sleep(every);
                samples.push(backlog(&c));
                compacted += c.compact(true).map_or(0, |d| d.records);
            }
            (compacted, samples)
        })
    });
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    if let Some(c) = compactor {
        let left = backlog(&collector);
        let (compacted, samples) = c.await.unwrap();
        let mb = |b: u64| format!("{:.0}", b as f64 / 1e6);
        let half = samples.len() / 2;
        let peak = |s: &[u64]| s.iter().copied().max().unwrap_or(0);
        println!(
            "compacting every {:.1} s while ingesting: {compacted} records compacted meanwhile; \
             log backlog before each compaction: largest {} MB in the first half, {} MB in the \
             second; {} MB when the writers stopped",
            compact_every.unwrap_or_default().as_secs_f64(),
            mb(peak(&samples[..half])),
            mb(peak(&samples[half..])),
            mb(left)
        );
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    let rows = latencies.len() * 1000;
    let wal: u64 = std::fs::read_dir(dir.path().join("collect/wal"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    println!(
        "{} batches, {:.0} rows/s; batch latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms{}",
        latencies.len(),
        rows as f64 / elapsed,
        pct(0.5),
        pct(0.99),
        latencies[latencies.len() - 1],
        if compact_every.is_none() {
            format!("; log {:.0} bytes a row", wal as f64 / rows as f64)
        } else {
            String::new()
        }
    );
    // Compaction of all of it, and what it leaves on disk.
    let t = Instant::now();
    let done = tokio::task::spawn_blocking(move || collector.compact(true).map(|d| (d, collector)))
        .await
        .unwrap()
        .unwrap();
    let (done, collector) = done;
    fn size(dir: &std::path::Path) -> u64 {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        size(&p)
                    } else {
                        e.metadata().map_or(0, |m| m.len())
                    }
                })
                .sum()
        })
    }
    let parquet = size(&collector.data_root());
    println!(
        "compaction: {} records into {} parts in {:.2} s ({:.0} rows/s); Parquet {:.1} bytes a row",
        done.records,
        done.parts,
        t.elapsed().as_secs_f64(),
        done.records as f64 / t.elapsed().as_secs_f64(),
        // Every row ingested is in the Parquet now.
        parquet as f64 / rows as f64
    );
}
