//! `tidewatch compare`.

use std::io::Write;

use serde_json::Value;

use super::{example, tidewatch};

fn weather() -> (String, String) {
    (
        example("seattle_weather_baseline_2012_2013.csv")
            .display()
            .to_string(),
        example("seattle_weather_target_2015.csv")
            .display()
            .to_string(),
    )
}

/// Runs `compare` on the weather data with `extra` options and JSON output.
fn weather_json(extra: &[&str]) -> Value {
    let (b, t) = weather();
    let mut args = vec!["compare", &b, &t, "--format", "json"];
    args.extend_from_slice(extra);
    let out = tidewatch(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The report's entry for feature `name`.
fn feature<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no feature {name}"))
}

#[test]
fn table_lists_every_feature_with_its_verdict() {
    let (b, t) = weather();
    let out = tidewatch(&["compare", &b, &t]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let header = text.lines().next().unwrap();
    for col in ["feature", "kind", "method", "score", "drifted"] {
        assert!(header.contains(col), "header {header:?} lacks {col}");
    }
    let temp_max = text.lines().find(|l| l.starts_with("temp_max")).unwrap();
    assert!(
        temp_max.contains("numeric") && temp_max.contains("ks_pvalue") && temp_max.contains("yes"),
        "{temp_max}"
    );
    let weather = text.lines().find(|l| l.starts_with("weather")).unwrap();
    assert!(
        weather.contains("categorical") && weather.contains("chi2_pvalue"),
        "{weather}"
    );
    assert!(text.contains("features drifted"));
}

#[test]
fn json_report_has_the_documented_keys() {
    let (b, t) = weather();
    let out = tidewatch(&["compare", &b, &t, "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "features",
        "baseline_rows",
        "target_rows",
        "drift_share",
        "dataset_drift",
        "schema",
    ] {
        assert!(report.get(key).is_some(), "missing top-level key {key}");
    }
    assert_eq!(report["baseline_rows"], 731);
    assert_eq!(report["target_rows"], 365);
    let features = report["features"].as_array().unwrap();
    let wind = features.iter().find(|f| f["name"] == "wind").unwrap();
    for key in [
        "name",
        "kind",
        "method",
        "drift_detected",
        "missing",
        "summary",
        "metrics",
    ] {
        assert!(wind.get(key).is_some(), "feature lacks {key}");
    }
    let metrics = wind["metrics"].as_object().unwrap();
    for m in [
        "wasserstein_distance",
        "energy_distance",
        "normalized_wasserstein_distance",
        "ks_statistic",
        "ks_pvalue",
        "cramer_von_mises_pvalue",
        "anderson_darling_pvalue",
        "psi",
        "jensen_shannon_distance",
        "hellinger_distance",
    ] {
        assert!(metrics[m].is_number(), "wind: {m} = {}", metrics[m]);
    }
    assert!(
        metrics.get("chi2_pvalue").is_none(),
        "categorical metric on a numeric feature"
    );
    let weather = features.iter().find(|f| f["name"] == "weather").unwrap();
    let wm = weather["metrics"].as_object().unwrap();
    for m in [
        "chi2_statistic",
        "chi2_pvalue",
        "jensen_shannon_distance",
        "psi",
        "hellinger_distance",
        "l_infinity_distance",
        "euclidean_distance",
    ] {
        assert!(wm[m].is_number(), "weather: {m} = {}", wm[m]);
    }
    assert!(wind["summary"]["baseline"]["mean"].is_number());
    assert!(wind["summary"]["percent_difference"]["p99_9"].is_number());
}

#[test]
fn same_file_twice_shows_no_drift() {
    let (b, _) = weather();
    let out = tidewatch(&["compare", &b, &b, "--format", "json"]);
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["drifted_features"], 0);
    for f in report["features"].as_array().unwrap() {
        if let Some(w) = f["metrics"].get("wasserstein_distance") {
            assert_eq!(w.as_f64(), Some(0.0), "{}", f["name"]);
        }
    }
}

#[test]
fn missing_file_is_a_clear_error() {
    let (b, _) = weather();
    let out = tidewatch(&["compare", &b, "/no/such/target.csv"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/no/such/target.csv") && err.contains("target"),
        "{err}"
    );
}

#[test]
fn malformed_row_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "a,b\n1,2\n3,4\n5").unwrap();
    let (b, _) = weather();
    let out = tidewatch(&["compare", &b, path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.csv") && err.to_lowercase().contains("line"),
        "{err}"
    );
}

#[test]
fn no_common_columns_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.csv");
    std::fs::write(&path, "x,y\n1,2\n3,4\n").unwrap();
    let (b, _) = weather();
    let out = tidewatch(&["compare", &b, path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no column in common"));
}

#[test]
fn unknown_method_lists_the_known_ones() {
    let (b, t) = weather();
    let out = tidewatch(&["compare", &b, &t, "--method", "nonsense"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nonsense") && err.contains("wasserstein_distance"),
        "{err}"
    );
}

#[test]
fn overrides_change_kind_method_and_threshold() {
    let report = weather_json(&[
        "--categorical",
        "wind",
        "--feature-method",
        "temp_max=psi",
        "--feature-threshold",
        "temp_max=10",
    ]);
    assert_eq!(feature(&report, "wind")["kind"], "categorical");
    let temp_max = feature(&report, "temp_max");
    assert_eq!(temp_max["method"], "psi");
    assert_eq!(temp_max["threshold"], 10.0);
    assert_eq!(temp_max["drift_detected"], false);
}

#[test]
fn a_metric_that_does_not_fit_the_feature_is_an_error() {
    let (b, t) = weather();
    let out = tidewatch(&["compare", &b, &t, "--feature-method", "weather=ks_pvalue"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not apply to categorical feature \"weather\""),
        "{err}"
    );
}

#[test]
fn bandwidth_option_is_used_and_checked() {
    let report = weather_json(&["--bandwidth", "silverman"]);
    assert_eq!(
        feature(&report, "wind")["distribution"]["density"]["bandwidth"],
        "silverman"
    );
    let (b, t) = weather();
    let out = tidewatch(&["compare", &b, &t, "--bandwidth=-1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--bandwidth"));
}

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    let out = tidewatch(&["compare", "only-one-file.csv"]);
    assert_eq!(out.status.code(), Some(1));
    let out = tidewatch(&["compare", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--feature-method"));
}

#[test]
fn drift_coefficient_and_contributions_are_reported() {
    let report = weather_json(&[]);
    for key in ["drift_coefficient", "mcc", "auc", "pvalue", "has_drift"] {
        assert!(
            report[key].is_number() || report[key].is_boolean(),
            "{key} = {}",
            report[key]
        );
    }
    for key in ["drift_coefficient_interval", "mcc_interval", "auc_interval"] {
        assert_eq!(report[key].as_array().map(Vec::len), Some(2), "{key}");
    }
    assert_eq!(report["threshold"], 0.2);
    let c = report["drift_coefficient"].as_f64().unwrap();
    assert_eq!(report["has_drift"], c > 0.2);
    let total: f64 = report["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["contribution"].as_f64())
        .sum();
    assert!((total - 1.0).abs() < 1e-9, "contributions sum to {total}");
    assert!(feature(&report, "date")["contribution"].is_null());
    // The same seed gives the same report; the table lists features by contribution.
    assert_eq!(report, weather_json(&[]));
    let (b, t) = weather();
    let out = tidewatch(&["compare", &b, &t]);
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().nth(1).unwrap();
    let top = report["features"]
        .as_array()
        .unwrap()
        .iter()
        .max_by(|x, y| {
            x["contribution"]
                .as_f64()
                .unwrap_or(-1.0)
                .total_cmp(&y["contribution"].as_f64().unwrap_or(-1.0))
        })
        .unwrap()["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(first.starts_with(&top), "{first:?} should start with {top}");
    assert!(text.contains("drift coefficient"));
}

#[test]
fn no_classifier_leaves_the_coefficient_null() {
    let report = weather_json(&["--no-classifier"]);
    assert!(report["drift_coefficient"].is_null());
    assert!(report["has_drift"].is_null());
    assert!(feature(&report, "wind")["contribution"].is_null());
    assert!(report["classifier"]["note"].is_string());
}

#[test]
fn fail_on_drift_exits_3() {
    let (b, t) = weather();
    let out = tidewatch(&["compare", &b, &t, "--fail-on-drift"]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn methods_lists_the_registry() {
    let out = tidewatch(&["methods"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for m in tidewatch_core::methods::registry() {
        assert!(text.contains(m.name()), "{} missing", m.name());
    }
}

/// Runs `compare` on the weather data writing `--format format` to a
/// file; returns what the terminal showed and the file's text.
fn report_to_file(format: &str) -> (String, String, std::path::PathBuf) {
    let (b, t) = weather();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("report.{format}"));
    let out = tidewatch(&[
        "compare",
        &b,
        &t,
        "--format",
        format,
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    (String::from_utf8(out.stdout).unwrap(), text, path)
}

#[test]
fn markdown_report_to_a_file() {
    let (shown, text, path) = report_to_file("markdown");
    assert!(
        shown.ends_with(&format!("report written to {}\n", path.display())),
        "{shown}"
    );
    assert!(text.starts_with("# Drift report"), "{text}");
    assert!(text.contains("| drift coefficient | 0."), "{text}");
    // Features ranked by contribution: weather (most) comes before wind.
    let weather = text.find("| weather |").unwrap();
    let wind = text.find("| wind |").unwrap();
    assert!(weather < wind, "{text}");
    assert!(
        text.contains("temp\\_max"),
        "underscores are escaped: {text}"
    );
}

#[test]
fn html_report_is_one_self_contained_page() {
    let (_, html, _) = report_to_file("html");
    assert!(html.starts_with("<!doctype html>"));
    // Nothing to fetch: no script, stylesheet or image links.
    for needle in ["<script", "<link", "src=", "@import", "url("] {
        assert!(!html.contains(needle), "found {needle}");
    }
    // One chart per compared feature, plus the contributions.
    assert_eq!(
        html.matches("<svg").count(),
        6,
        "5 features + contributions"
    );
    assert!(
        html.contains("<summary><b>temp_max</b> (numeric"),
        "feature details"
    );
    assert!(html.contains("drift coefficient"));
}

#[test]
fn colour_only_when_asked_or_on_a_terminal_and_no_progress_in_pipes() {
    let (b, t) = weather();
    let piped = tidewatch(&["compare", &b, &t]);
    assert!(piped.status.success());
    assert!(!String::from_utf8_lossy(&piped.stdout).contains('\x1b'));
    assert!(piped.stderr.is_empty(), "no progress lines in a pipe");
    let always = tidewatch(&["compare", &b, &t, "--color", "always"]);
    let text = String::from_utf8(always.stdout).unwrap();
    assert!(text.contains("\x1b[31myes (distribution)\x1b[0m"), "{text}");
    // Escape codes never shift the columns: the plain text is the same.
    let plain: String = text
        .replace("\x1b[31m", "")
        .replace("\x1b[32m", "")
        .replace("\x1b[0m", "");
    assert_eq!(plain, String::from_utf8(piped.stdout).unwrap());
}

#[test]
fn figures_are_written_as_svg_and_png() {
    let (b, t) = weather();
    let dir = tempfile::tempdir().unwrap();
    let figures = dir.path().join("figures");
    let out = tidewatch(&["compare", &b, &t, "--figures", figures.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(&figures)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // Summary, contributions and the five compared features, twice each.
    assert_eq!(names.len(), 14, "{names:?}");
    assert!(
        names.contains(&"feature-01-weather.png".to_string()),
        "{names:?}"
    );
    for name in &names {
        let bytes = std::fs::read(figures.join(name)).unwrap();
        if name.ends_with(".png") {
            assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{name}");
            assert!(bytes.len() > 2000, "{name} has content");
        } else {
            assert!(bytes.starts_with(b"<?xml"), "{name}");
        }
    }
}
