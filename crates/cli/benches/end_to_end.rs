//! End-to-end benchmark of the `tidewatch` binary: the engine bench's data
//! (20 numeric and 5 categorical columns, drift planted in five) written as
//! Parquet and CSV, then `tidewatch compare` on each with the defaults
//! (domain classifier at its default budget), timed as a user would see it,
//! with its peak memory; against the floor of merely reading both files.
//!
//! `cargo bench -p tidewatch-cli --bench end_to_end -- [ROWS_PER_SIDE ...]`
//! (default 1000000). `--profile ROWS` also times `tidewatch profile` of
//! one Parquet file of ROWS rows, exact and in sketch mode (`--max-values`,
//! the bounded-memory check). Files go to
//! `$TIDEWATCH_BENCH_DIR` (default: a temporary folder, removed after).

#[path = "../../core/benches/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use arrow_array::RecordBatch;
use tidewatch_data::{Dataset, ReadOptions};

fn write_parquet(path: &Path, batches: &[RecordBatch]) {
    let file = std::fs::File::create(path).expect("create parquet");
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batches[0].schema(), None)
        .expect("parquet writer");
    for b in batches {
        w.write(b).expect("write parquet");
    }
    w.close().expect("close parquet");
}

fn write_csv(path: &Path, batches: &[RecordBatch]) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).expect("create csv"));
    let mut w = arrow_csv::Writer::new(file);
    for b in batches {
        w.write(b).expect("write csv");
    }
}

/// Wall seconds and peak resident MiB of `tidewatch ARGS`, run through
/// `/usr/bin/time` when it is there (else the peak is unknown).
fn run(args: &[&str]) -> (f64, f64) {
    let exe = env!("CARGO_BIN_EXE_tidewatch");
    let timed = Path::new("/usr/bin/time").exists();
    let mut cmd = if timed {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "%M"]).arg(exe);
        c
    } else {
        Command::new(exe)
    };
    let start = Instant::now();
    let out = cmd.args(args).output().expect("tidewatch runs");
    let wall = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() || out.status.code() == Some(3),
        "tidewatch {args:?}: {stderr}"
    );
    let peak = if timed {
        stderr
            .lines()
            .last()
            .and_then(|l| l.trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    } else {
        f64::NAN
    };
    (wall, peak)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut sizes = Vec::new();
    let mut profile_rows = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--profile" {
            profile_rows = it.next().and_then(|r| r.parse::<usize>().ok());
        } else if let Ok(n) = a.parse::<usize>() {
            sizes.push(n);
        }
    }
    if sizes.is_empty() && profile_rows.is_none() {
        sizes.push(1_000_000);
    }
    let tmp = tempfile::tempdir().expect("temporary folder");
    let dir = std::env::var("TIDEWATCH_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("bench folder");
    println!(
        "{:>10} {:>8} {:>10} {:>12} {:>14}",
        "rows/side", "format", "read s", "compare s", "peak RSS MiB"
    );
    for rows in sizes {
        let baseline = common::dataset(rows, 1, false);
        let target = common::dataset(rows, 2, true);
        for (format, ext) in [("parquet", "parquet"), ("csv", "csv")] {
            let b = dir.join(format!("baseline_{rows}.{ext}"));
            let t = dir.join(format!("target_{rows}.{ext}"));
            if !b.exists() || !t.exists() {
                match format {
                    "parquet" => {
                        write_parquet(&b, &baseline);
                        write_parquet(&t, &target);
                    }
                    _ => {
                        write_csv(&b, &baseline);
                        write_csv(&t, &target);
                    }
                }
            }
            let (b, t) = (b.to_str().expect("utf-8"), t.to_str().expect("utf-8"));
            // The floor: reading both files into record batches.
            let start = Instant::now();
            for path in [b, t] {
                let d = Dataset::open(path, &ReadOptions::default()).expect("open");
                std::hint::black_box(d.read_all().expect("read"));
            }
            let read = start.elapsed().as_secs_f64();
            let (wall, peak) = run(&["compare", b, t, "--format", "json"]);
            println!("{rows:>10} {format:>8} {read:>10.2} {wall:>12.2} {peak:>14.0}");
        }
    }
    if let Some(rows) = profile_rows {
        let path = dir.join(format!("profile_{rows}.parquet"));
        if !path.exists() {
            // Written in slices, so the bench itself never holds all rows.
            let file = std::fs::File::create(&path).expect("create parquet");
            let first = common::dataset(65_536, 3, false);
            let mut w = parquet::arrow::ArrowWriter::try_new(file, first[0].schema(), None)
                .expect("parquet writer");
            let mut written = 0;
            let mut slice = 0u64;
            while written < rows {
                let n = (rows - written).min(1 << 20);
                for b in common::dataset(n, 3 + slice, false) {
                    w.write(&b).expect("write parquet");
                }
                written += n;
                slice += 1;
            }
            w.close().expect("close parquet");
        }
        let out = dir.join("bench.baseline");
        let file_mib = std::fs::metadata(&path).map_or(f64::NAN, |m| m.len() as f64 / 1048576.0);
        println!("profile of {rows} rows ({file_mib:.0} MiB of Parquet):");
        // Exact keeps every value; sketch mode a bounded sample per feature.
        for max_values in [None, Some("1000000"), Some("100000")] {
            let mut args = vec![
                "profile",
                path.to_str().expect("utf-8"),
                "-o",
                out.to_str().expect("utf-8"),
            ];
            if let Some(n) = max_values {
                args.extend(["--max-values", n]);
            }
            let (wall, peak) = run(&args);
            let profile_mib =
                std::fs::metadata(&out).map_or(f64::NAN, |m| m.len() as f64 / 1048576.0);
            println!(
                "  {:<22} {wall:>7.2} s  peak RSS {peak:>6.0} MiB  profile {profile_mib:>6.1} MiB",
                max_values.map_or("exact".to_string(), |n| format!("--max-values {n}"))
            );
        }
    }
}
