//! `tidewatch collect import|export` on a data directory: a sample tree in
//! the reference system's layout imported (twice: the second time stores
//! nothing), then windows of it exported as CSV and Parquet.

use std::path::Path;

use super::tidewatch;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = tidewatch(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `loans-api/loans/3/inputs/2024/03/{01,02,03}/data.csv` with 40 records a
/// day, and one day of predictions, as the reference's model servers wrote
/// them (`$Timestamp`, `$CorrelationId`, `$RequestId` beside the features).
fn reference_tree(root: &Path) {
    for day in 1..=3u32 {
        let dir = root.join(format!("loans-api/loans/3/inputs/2024/03/{day:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = String::from("$Timestamp,$CorrelationId,$RequestId,income,region\n");
        for i in 0..40u32 {
            text.push_str(&format!(
                "2024-03-{day:02}T{:02}:{:02}:00.1234567Z,c-{day}-{i},r-{day}-{i},{},\"north, east\"\n",
                i % 24,
                i,
                1000 * day + i
            ));
        }
        std::fs::write(dir.join("data.csv"), text).unwrap();
    }
    let dir = root.join("loans-api/loans/3/predictions/2024/03/01");
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = String::from("$Timestamp,$CorrelationId,$RequestId,approved\n");
    for i in 0..40u32 {
        text.push_str(&format!(
            "2024-03-01T{:02}:{i:02}:00Z,c-1-{i},r-1-{i},{}\n",
            i % 24,
            i % 2
        ));
    }
    std::fs::write(dir.join("data.csv"), text).unwrap();
}

#[test]
fn a_reference_tree_imports_once_and_exports_by_window() {
    let tmp = tempfile::tempdir().unwrap();
    let (tree, home) = (tmp.path().join("modeldata"), tmp.path().join("home"));
    reference_tree(&tree);
    let (tree_s, home_s) = (tree.to_str().unwrap(), home.to_str().unwrap());
    let (code, out, err) = run(&[
        "collect",
        "import",
        tree_s,
        "--data-dir",
        home_s,
        "--batch-records",
        "30",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("4 files: 8 batches (160 records) stored, 0 batches imported before"),
        "{out}"
    );
    // Compacted into the collector's Parquet layout.
    let part_days = std::fs::read_dir(home.join("collect/data/loans-api/loans/3/inputs/2024/03"))
        .unwrap()
        .count();
    assert_eq!(part_days, 3);
    // Again: nothing more is stored.
    let (code, out, err) = run(&["collect", "import", tree_s, "--data-dir", home_s]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("0 batches (0 records) stored"), "{out}");

    // Day 2 as CSV (a date as --to includes the day).
    let csv = tmp.path().join("day2.csv");
    let (code, out, err) = run(&[
        "collect",
        "export",
        "loans-api",
        "--from",
        "2024-03-02",
        "--to",
        "2024-03-02",
        "-o",
        csv.to_str().unwrap(),
        "--data-dir",
        home_s,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(csv,"), "{out}");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 41, "{text}");
    assert!(text.contains("2001") && !text.contains(",1001,") && !text.contains("3001"));
    assert!(
        text.contains("\"north, east\""),
        "quoted commas survive: {text}"
    );
    // The predictions as Parquet, all of them.
    let parquet = tmp.path().join("predictions.parquet");
    let (code, _, err) = run(&[
        "collect",
        "export",
        "loans-api",
        "--stream",
        "predictions",
        "-o",
        parquet.to_str().unwrap(),
        "--data-dir",
        home_s,
    ]);
    assert_eq!(code, 0, "{err}");
    let file = std::fs::File::open(&parquet).unwrap();
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 1024).unwrap();
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 40);

    // Errors name what is wrong, and exit 1.
    let stray = tree.join("loans-api/loans/3/inputs/notes.txt");
    std::fs::write(&stray, "x").unwrap();
    let (code, _, err) = run(&["collect", "import", tree_s, "--data-dir", home_s]);
    assert_eq!(code, 1);
    assert!(
        err.contains("notes.txt") && err.contains("reference layout"),
        "{err}"
    );
    let (code, _, err) = run(&[
        "collect",
        "export",
        "nobody",
        "-o",
        csv.to_str().unwrap(),
        "--data-dir",
        home_s,
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("404") && err.contains("no collected records"),
        "{err}"
    );
}

/// The reference's whole flow from the CLI, on a data directory: register
/// a model with its training data and two services, import what the
/// services collected, make a monitor from the model, backfill, and read
/// one result per service.
#[test]
fn a_model_its_services_and_a_monitor_made_from_it() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let home_s = home.to_str().unwrap();
    let ok = |args: &[&str]| -> String {
        let mut all = args.to_vec();
        all.extend(["--data-dir", home_s]);
        let (code, out, err) = run(&all);
        assert_eq!(code, 0, "tidewatch {args:?}: {err}");
        out
    };
    let train = tmp.path().join("train.csv");
    let mut text = String::from("x,c\n");
    for i in 0..420u32 {
        text.push_str(&format!(
            "{},{}\n",
            (i * 37) % 101,
            ["a", "b", "c"][i as usize % 3]
        ));
    }
    std::fs::write(&train, text).unwrap();
    ok(&["dataset", "create", "train", train.to_str().unwrap()]);
    let model = ok(&[
        "model",
        "register",
        "loans",
        "--version",
        "3",
        "--dataset",
        "train",
    ]);
    assert!(model.contains("\"baseline_version\": 1"), "{model}");
    for s in ["loans-east", "loans-west"] {
        ok(&[
            "service",
            "register",
            s,
            "--model",
            "loans",
            "--version",
            "3",
        ]);
    }
    // What the services collected, in the reference's layout; the west's
    // x has moved.
    let tree = tmp.path().join("modeldata");
    for (service, shift) in [("loans-east", 0), ("loans-west", 150)] {
        let dir = tree.join(format!("{service}/loans/3/inputs/2024/03/04"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = String::from("$Timestamp,$CorrelationId,$RequestId,x,c\n");
        for i in 0..300u32 {
            text.push_str(&format!(
                "2024-03-04T{:02}:{:02}:00Z,{service}-{i},r{i},{},{}\n",
                i % 24,
                i % 60,
                (i * 37) % 101 + shift,
                ["a", "b", "c"][i as usize % 3]
            ));
        }
        std::fs::write(dir.join("data.csv"), text).unwrap();
    }
    ok(&["collect", "import", tree.to_str().unwrap()]);
    ok(&[
        "monitor",
        "create",
        "loans",
        "--frequency",
        "day",
        "--model",
        "loans",
        "--model-version",
        "3",
        "--services",
        "loans-east,loans-west",
        "--disabled",
    ]);
    ok(&["backfill", "loans", "2024-03-04", "2024-03-04"]);
    let table = ok(&[
        "results",
        "loans",
        "--from",
        "2024-03-04",
        "--to",
        "2024-03-05",
    ]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].ends_with("service"), "{table}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" no ") && l.ends_with("loans-east")),
        "{table}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("DRIFT") && l.ends_with("loans-west")),
        "{table}"
    );
    // Figures: one folder per service.
    let figures = tmp.path().join("figures");
    let out = ok(&[
        "show",
        "loans",
        "--from",
        "2024-03-04",
        "--to",
        "2024-03-05",
        "-o",
        figures.to_str().unwrap(),
    ]);
    assert_eq!(out.lines().count(), 2, "{out}");
    for s in ["loans-east", "loans-west"] {
        assert!(
            figures.join(s).join("drift-coefficient.svg").is_file(),
            "{out}"
        );
    }
    // A service of another model version is refused, naming it.
    let (code, _, err) = run(&[
        "monitor",
        "create",
        "other",
        "--frequency",
        "day",
        "--model",
        "loans",
        "--model-version",
        "4",
        "--services",
        "loans-east",
        "--data-dir",
        home_s,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("model") && err.contains("\"4\""), "{err}");

    // The dashboard draws one service at a time, and switches between them.
    let reader = super::serve::token(&home, "viewer", "read");
    let server = super::serve::Server::start(&home);
    let browser = super::webdriver::Browser::start();
    browser.go(&format!("{}/monitors/loans", server.url));
    browser.type_into("#token", &reader);
    browser.click("#login button[type=submit]");
    browser.wait("the first service's window", || {
        browser.count("#service option") == 2 && browser.count("#trend circle.point") == 1
    });
    let header = browser.text(".title").unwrap();
    assert!(header.contains("model loans 3"), "{header}");
    let drifted = "#trend circle.point[fill=\"#d62728\"]";
    assert_eq!(browser.count(drifted), 0, "loans-east did not drift");
    browser.eval(
        "const s = document.getElementById('service'); s.value = 'loans-west'; \
         s.dispatchEvent(new Event('change'))",
        serde_json::json!([]),
    );
    browser.wait("loans-west's drifted window", || {
        browser.count(drifted) == 1
    });
}
