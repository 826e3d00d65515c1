//! Reading datasets (formats, directories, windows) and stored baselines:
//! `tidewatch profile` and `tidewatch compare --baseline`.

use std::path::Path;

use serde_json::Value;

use super::{example, tidewatch};

fn ok(args: &[&str]) -> Vec<u8> {
    let out = tidewatch(args);
    assert!(
        out.status.success(),
        "tidewatch {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs a command that must fail with exit code 1; returns its stderr.
fn fails(args: &[&str]) -> String {
    let out = tidewatch(args);
    assert_eq!(out.status.code(), Some(1), "tidewatch {args:?}");
    String::from_utf8(out.stderr).unwrap()
}

fn weather(name: &str) -> String {
    example(&format!("seattle_weather_{name}.csv"))
        .display()
        .to_string()
}

/// The JSON report of `compare` with `args`.
fn report(args: &[&str]) -> Value {
    let mut all = vec!["compare", "--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_slice(&ok(&all)).unwrap()
}

/// Writes a CSV file as Parquet (types as tidewatch infers them).
pub(crate) fn to_parquet(csv: &str, out: &Path) {
    let dataset =
        tidewatch_data::Dataset::open(csv, &tidewatch_data::ReadOptions::default()).unwrap();
    let (batches, _) = dataset.read_all().unwrap();
    let file = std::fs::File::create(out).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, dataset.schema(), None).unwrap();
    for b in &batches {
        writer.write(b).unwrap();
    }
    writer.close().unwrap();
}

#[test]
fn a_stored_baseline_compares_like_the_data_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("weather.baseline");
    let file = file.to_str().unwrap();
    let summary =
        String::from_utf8(ok(&["profile", &weather("baseline_2012_2013"), "-o", file])).unwrap();
    assert!(summary.contains("731 rows"), "{summary}");
    let direct = report(&[&weather("baseline_2012_2013"), &weather("target_2015")]);
    let stored = report(&["--baseline", file, &weather("target_2015")]);
    assert_eq!(direct, stored);
    // Corrupt: one byte changed.
    let mut bytes = std::fs::read(file).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0xff;
    let corrupt = dir.path().join("corrupt.baseline");
    std::fs::write(&corrupt, &bytes).unwrap();
    let err = fails(&[
        "compare",
        "--baseline",
        corrupt.to_str().unwrap(),
        &weather("target_2015"),
    ]);
    assert!(
        err.contains("corrupt.baseline") && err.contains("checksum"),
        "{err}"
    );
    // Not a profile at all; and baseline data besides a stored baseline.
    let err = fails(&[
        "compare",
        "--baseline",
        &weather("target_2015"),
        &weather("target_2015"),
    ]);
    assert!(err.contains("not a tidewatch baseline profile"), "{err}");
    let b = weather("baseline_2012_2013");
    let err = fails(&["compare", "--baseline", file, &b, &weather("target_2015")]);
    assert!(
        err.contains("with --baseline FILE give only the target"),
        "{err}"
    );
}

#[test]
fn parquet_ndjson_and_compressed_csv_read_alike() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.parquet");
    to_parquet(&weather("target_2015"), &target);
    let gz = dir.path().join("target.csv.gz");
    {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::fast(),
        );
        enc.write_all(&std::fs::read(weather("target_2015")).unwrap())
            .unwrap();
        enc.finish().unwrap();
    }
    let ndjson = dir.path().join("target.jsonl");
    {
        let text = std::fs::read_to_string(weather("target_2015")).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let mut out = String::new();
        for line in lines {
            let mut obj = serde_json::Map::new();
            for (k, v) in header.iter().zip(line.split(',')) {
                let value = match v.parse::<f64>() {
                    Ok(x) => Value::from(x),
                    Err(_) => Value::from(v),
                };
                obj.insert((*k).to_string(), value);
            }
            out.push_str(&Value::Object(obj).to_string());
            out.push('\n');
        }
        std::fs::write(&ndjson, out).unwrap();
    }
    let csv = report(&[
        &weather("baseline_2012_2013"),
        &weather("target_2015"),
        "--no-classifier",
    ]);
    for other in [&target, &gz, &ndjson] {
        let r = report(&[
            &weather("baseline_2012_2013"),
            other.to_str().unwrap(),
            "--no-classifier",
        ]);
        assert_eq!(r["features"], csv["features"], "{}", other.display());
    }
}

#[test]
fn one_file_serves_as_baseline_and_target_through_windows() {
    let dir = tempfile::tempdir().unwrap();
    let both = dir.path().join("weather");
    std::fs::create_dir(&both).unwrap();
    std::fs::copy(weather("baseline_2012_2013"), both.join("a.csv")).unwrap();
    std::fs::copy(weather("target_2015"), both.join("b.csv")).unwrap();
    let all = both.to_str().unwrap();
    let r = report(&[
        all,
        all,
        "--time-column",
        "date",
        "--baseline-from",
        "2012-01-01",
        "--baseline-to",
        "2014-01-01",
        "--from",
        "2015-01-01",
        "--to",
        "2016-01-01",
    ]);
    let direct = report(&[&weather("baseline_2012_2013"), &weather("target_2015")]);
    assert_eq!(r["features"], direct["features"]);
    assert_eq!(r["rows"], direct["rows"]);
    // A window without rows, a bad bound, a window without its column.
    let err = fails(&[
        "compare",
        all,
        all,
        "--time-column",
        "date",
        "--from",
        "2030-01-01",
    ]);
    assert!(err.contains("no data rows in the time window"), "{err}");
    let err = fails(&[
        "compare",
        all,
        all,
        "--time-column",
        "date",
        "--from",
        "soon",
    ]);
    assert!(err.contains("\"soon\" is not a date"), "{err}");
    let err = fails(&["compare", all, all, "--from", "2015-01-01"]);
    assert!(err.contains("--time-column"), "{err}");
    let err = fails(&[
        "compare",
        all,
        all,
        "--time-column",
        "day",
        "--from",
        "2015-01-01",
    ]);
    assert!(err.contains("no time column \"day\""), "{err}");
}

#[test]
fn bad_values_fail_with_their_place_or_count_as_missing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.csv");
    let mut text = std::fs::read_to_string(weather("target_2015")).unwrap();
    text.push_str("2016-01-01,n/a,5.0,1.0,2.0,rain\n");
    std::fs::write(&target, text).unwrap();
    let t = target.to_str().unwrap();
    let b = weather("baseline_2012_2013");
    let err = fails(&[
        "compare",
        &b,
        t,
        "--column-type",
        "precipitation=float",
        "--no-classifier",
    ]);
    assert!(
        err.contains("target.csv") && err.contains("\"precipitation\""),
        "{err}"
    );
    assert!(err.contains("line"), "{err}");
    let out = tidewatch(&[
        "compare",
        &b,
        t,
        "--column-type",
        "precipitation=float",
        "--bad-values",
        "missing",
        "--no-classifier",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("1 values of column \"precipitation\" did not parse"),
        "{err}"
    );
    let err = fails(&["compare", &b, "/no/such/dir/*.csv"]);
    assert!(
        err.contains("/no/such/dir/*.csv") && err.contains("matches no file"),
        "{err}"
    );
}

#[test]
fn csv_dialects_and_files_without_header() {
    let dir = tempfile::tempdir().unwrap();
    let semi = dir.path().join("semi.csv");
    std::fs::write(&semi, "x;label\n1.5;'a;b'\n2.5;'c'\n3.5;'a;b'\n").unwrap();
    let s = semi.to_str().unwrap();
    let r = report(&[s, s, "--delimiter", ";", "--quote", "'", "--no-classifier"]);
    let names: Vec<&str> = r["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["x", "label"]);
    let bare = dir.path().join("bare.csv");
    std::fs::write(&bare, "1.5,a\n2.5,b\n").unwrap();
    let b = bare.to_str().unwrap();
    let r = report(&[b, b, "--no-header", "--no-classifier"]);
    assert_eq!(r["features"][0]["name"], "column_1");
    let err = fails(&["compare", s, s, "--delimiter", "§"]);
    assert!(
        err.contains("--delimiter") && err.contains("ASCII"),
        "{err}"
    );
}

#[test]
fn sketch_mode_keeps_a_bounded_sample_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sketch.baseline");
    let file = file.to_str().unwrap();
    let (b, t) = (weather("baseline_2012_2013"), weather("target_2015"));
    ok(&["profile", &b, "-o", file, "--max-values", "100"]);
    let stored = report(&["--baseline", file, &t]);
    let direct = report(&[&b, &t, "--max-values", "100"]);
    assert_eq!(stored, direct);
    let temp_max = stored["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "temp_max")
        .unwrap();
    let note = temp_max["note"].as_str().unwrap();
    assert!(
        note.contains("sketch mode") && note.contains("100 of 731"),
        "{note}"
    );
    // Counts stay exact; the histogram is the sample's.
    assert_eq!(temp_max["summary"]["baseline"]["count"], 731.0);
    let hist: u64 = temp_max["distribution"]["histogram"]["baseline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .sum();
    assert_eq!(hist, 100);
    let err = fails(&["compare", "--baseline", file, &t, "--max-values", "10"]);
    assert!(err.contains("--max-values"), "{err}");
    let err = fails(&["profile", &b, "-o", file, "--max-values", "0"]);
    assert!(err.contains("max_values must be at least 1"), "{err}");
}
