//! A monitor's figures, drawn from the windows of a results query (the
//! `windows` array of `GET /monitors/{name}/results`): the coefficient
//! trend with the threshold line, contributions stacked per window, and
//! one feature's metric per window. The API serves them; `tidewatch show`
//! writes them, from a local store or a server's results alike.

use serde_json::Value;
use tidewatch_report::figures::Figure;
use tidewatch_report::trend::{self, Point};

fn label(w: &Value) -> String {
    w["window_start"]
        .as_str()
        .map(|s| s.chars().take(10).collect())
        .unwrap_or_default()
}

fn standalone(svg: String) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{svg}\n")
}

/// The drift coefficient per window, with the threshold line (the newest
/// window's threshold).
pub fn coefficient_trend(windows: &[Value]) -> Figure {
    let points: Vec<Point> = windows
        .iter()
        .map(|w| Point {
            label: label(w),
            value: w["drift_coefficient"].as_f64(),
        })
        .collect();
    let threshold = windows
        .last()
        .and_then(|w| w["threshold"].as_f64())
        .unwrap_or(tidewatch_store::monitor::DEFAULT_THRESHOLD);
    Figure {
        name: "drift-coefficient".into(),
        svg: standalone(trend::coefficient(&points, threshold)),
    }
}

/// Each feature's contribution, stacked per window.
pub fn contributions(windows: &[Value]) -> Figure {
    let stacked: Vec<(String, Vec<(String, f64)>)> = windows
        .iter()
        .map(|w| {
            let shares = w["metrics"]["features"]
                .as_object()
                .map(|features| {
                    features
                        .iter()
                        .filter_map(|(name, f)| Some((name.clone(), f["contribution"].as_f64()?)))
                        .collect()
                })
                .unwrap_or_default();
            (label(w), shares)
        })
        .collect();
    Figure {
        name: "contributions".into(),
        svg: standalone(trend::contributions(&stacked)),
    }
}

/// The names of the features in the windows, in first-seen order.
pub fn features(windows: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in windows {
        if let Some(features) = w["metrics"]["features"].as_object() {
            for name in features.keys() {
                if !out.contains(name) {
                    out.push(name.clone());
                }
            }
        }
    }
    out
}

/// One feature's metric per window: `metric` names a metric (see
/// `tidewatch methods`), or is `None` for the feature's deciding metric,
/// drawn with its threshold. `None` when no window has the feature.
pub fn metric_trend(windows: &[Value], feature: &str, metric: Option<&str>) -> Option<Figure> {
    fn of<'a>(w: &'a Value, feature: &str) -> &'a Value {
        &w["metrics"]["features"][feature]
    }
    let found = windows.iter().find(|w| of(w, feature).is_object())?;
    let metric = match metric {
        Some(m) => m.to_string(),
        None => of(found, feature)["method"].as_str()?.to_string(),
    };
    let deciding = of(found, feature)["method"].as_str() == Some(metric.as_str());
    let points: Vec<Point> = windows
        .iter()
        .map(|w| Point {
            label: label(w),
            value: of(w, feature)["metrics"][metric.as_str()].as_f64(),
        })
        .collect();
    let threshold = deciding
        .then(|| of(found, feature)["threshold"].as_f64())
        .flatten();
    let safe = tidewatch_report::figures::file_safe(feature);
    Some(Figure {
        name: format!("metric-{safe}-{metric}"),
        svg: standalone(trend::line(
            &format!("{feature}: {metric}"),
            &points,
            threshold,
            None,
        )),
    })
}
