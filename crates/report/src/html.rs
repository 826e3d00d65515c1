//! A drift report as one self-contained HTML file: no script, no network,
//! no font files; charts are inline SVG. Built from the report's
//! aggregates only. Each feature's details sit in a closed `<details>`
//! element, so a report of a thousand features opens as fast as its
//! summary table.

use std::fmt::Write;

use tidewatch_core::report::Distribution;
use tidewatch_core::{DriftReport, FeatureReport};

use crate::{
    FEATURE_COLUMNS, coefficient_interval, escape, feature_cells, number, percent, pvalue, ranked,
    svg, verdict,
};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:0.5em 0}td,th{border-bottom:1px solid #ddd;padding:3px 10px;text-align:left;white-space:nowrap}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.yes{color:#b00;font-weight:bold}\
details{margin:0.4em 0;border:1px solid #ddd;border-radius:4px;padding:0.3em 0.8em}summary{cursor:pointer}\
.drift{color:#b00}.ok{color:#070}h1 small{font-weight:normal;color:#666;font-size:0.5em}";

/// Features whose details are open when the page loads: the first few by
/// contribution that drifted.
const OPEN_DETAILS: usize = 5;
/// The order of summary statistics in a feature's table.
const STATISTIC_ORDER: [&str; 18] = [
    "count", "mean", "std", "variance", "min", "p0_1", "p1", "p5", "p25", "median", "p50", "p75",
    "p95", "p99", "p99_9", "max", "skewness", "kurtosis",
];

/// Features drawn in the contribution chart.
const CONTRIBUTION_BARS: usize = 30;

/// Renders `report` with `title` (a heading naming what was compared).
pub fn render(report: &DriftReport, title: &str) -> String {
    let mut s = String::with_capacity(64 * 1024 + report.features.len() * 6 * 1024);
    // Writing to a String cannot fail.
    let _ = write_page(&mut s, report, title);
    s
}

fn write_page(s: &mut String, r: &DriftReport, title: &str) -> std::fmt::Result {
    write!(
        s,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body><h1>Drift report <small>{t}</small></h1>",
        t = escape(title)
    )?;
    // The verdict.
    s.push_str("<table>");
    match r.drift_coefficient {
        Some(c) => {
            let interval = coefficient_interval(r);
            let (class, word) = if r.has_drift == Some(true) {
                ("drift", "drift")
            } else {
                ("ok", "no drift")
            };
            write!(
                s,
                "<tr><th>drift coefficient</th><td><b class=\"{class}\">{c:.3}</b>{interval}; threshold {:.2}: <b class=\"{class}\">{word}</b></td></tr>",
                r.threshold
            )?;
            write!(
                s,
                "<tr><th>held-out AUC</th><td>{} (p-value {} that the classifier does no better than chance; {} + {} rows, seed {})</td></tr>",
                number(r.auc),
                pvalue(r.pvalue),
                r.classifier.baseline_rows,
                r.classifier.target_rows,
                r.classifier.seed
            )?;
        }
        None => write!(
            s,
            "<tr><th>drift coefficient</th><td>not computed: {}</td></tr>",
            escape(
                r.classifier
                    .note
                    .as_deref()
                    .unwrap_or("the classifier did not run")
            )
        )?,
    }
    write!(
        s,
        "<tr><th>drifted features</th><td>{} of {} (share {:.2}; dataset drift at {:.2}: {})</td></tr><tr><th>rows</th><td>baseline {}, target {}</td></tr></table>",
        r.drifted_features,
        r.feature_count,
        r.drift_share,
        r.drift_share_threshold,
        if r.dataset_drift {
            "<b class=\"drift\">yes</b>"
        } else {
            "no"
        },
        r.baseline_rows,
        r.target_rows
    )?;
    // Schema differences.
    let schema = &r.schema;
    if !schema.baseline_only.is_empty()
        || !schema.target_only.is_empty()
        || !schema.type_mismatches.is_empty()
    {
        s.push_str("<h2>Schema differences</h2><ul>");
        let list = |names: &[String]| {
            names
                .iter()
                .map(|n| format!("<code>{}</code>", escape(n)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !schema.baseline_only.is_empty() {
            write!(
                s,
                "<li>only in the baseline: {}</li>",
                list(&schema.baseline_only)
            )?;
        }
        if !schema.target_only.is_empty() {
            write!(
                s,
                "<li>only in the target: {}</li>",
                list(&schema.target_only)
            )?;
        }
        for m in &schema.type_mismatches {
            write!(
                s,
                "<li><code>{}</code>: {} in the baseline, {} in the target</li>",
                escape(&m.name),
                escape(&m.baseline),
                escape(&m.target)
            )?;
        }
        s.push_str("</ul>");
    }
    let features = ranked(r);
    // Contributions.
    let bars: Vec<(&str, f64)> = features
        .iter()
        .filter_map(|f| f.contribution.map(|c| (f.name.as_str(), c)))
        .collect();
    if !bars.is_empty() {
        write!(
            s,
            "<h2>Contribution to the drift coefficient</h2>{}",
            svg::contributions(&bars, CONTRIBUTION_BARS)
        )?;
    }
    // The features table.
    s.push_str("<h2>Features</h2><div style=\"overflow-x:auto\"><table><tr>");
    // Numbers align right: contribution, score, threshold, missing.
    let numeric = |i: usize| matches!(i, 2 | 4 | 5 | 7);
    for (i, name) in FEATURE_COLUMNS.iter().enumerate() {
        let class = if numeric(i) { " class=\"n\"" } else { "" };
        write!(s, "<th{class}>{name}</th>")?;
    }
    s.push_str("</tr>");
    for (k, f) in features.iter().enumerate() {
        s.push_str("<tr>");
        for (i, text) in feature_cells(f).iter().enumerate() {
            let class = match i {
                _ if numeric(i) => " class=\"n\"",
                6 if f.drift_detected => " class=\"yes\"",
                _ => "",
            };
            if i == 0 {
                write!(s, "<td><a href=\"#f{k}\">{}</a></td>", escape(text))?;
            } else {
                write!(s, "<td{class}>{}</td>", escape(text))?;
            }
        }
        s.push_str("</tr>");
    }
    s.push_str("</table></div><h2>Feature details</h2>");
    let mut opened = 0;
    for (k, f) in features.iter().enumerate() {
        let open = f.drift_detected && opened < OPEN_DETAILS;
        opened += usize::from(open);
        write_feature(s, k, f, open)?;
    }
    s.push_str("</body></html>\n");
    Ok(())
}

fn write_feature(s: &mut String, k: usize, f: &FeatureReport, open: bool) -> std::fmt::Result {
    write!(
        s,
        "<details id=\"f{k}\"{}><summary><b>{}</b> ({}, {}): {}</summary>",
        if open { " open" } else { "" },
        escape(&f.name),
        f.kind,
        escape(&f.data_type),
        escape(&verdict(f))
    )?;
    if let Some(note) = &f.note {
        write!(s, "<p>{}</p>", escape(note))?;
    }
    match &f.distribution {
        Some(Distribution::Numeric { histogram, density }) => {
            s.push_str(&svg::numeric(&f.name, histogram, density));
        }
        Some(Distribution::Categorical(freq)) => {
            s.push_str(&svg::categorical(&f.name, freq));
        }
        None => {}
    }
    write!(
        s,
        "<p>missing: baseline {} ({}), target {} ({})</p>",
        f.missing.baseline_count,
        percent(Some(f.missing.baseline_rate)),
        f.missing.target_count,
        percent(Some(f.missing.target_rate))
    )?;
    if let Some(c) = &f.categories {
        write!(
            s,
            "<p>categories: baseline {}, target {}; unseen in the target: {} rows ({})",
            c.baseline_distinct,
            c.target_distinct,
            c.unseen_count,
            percent(Some(c.unseen_rate))
        )?;
        if !c.unseen_top.is_empty() {
            let top: Vec<String> = c
                .unseen_top
                .iter()
                .map(|(label, n)| format!("<code>{}</code> {n}", escape(label)))
                .collect();
            write!(s, ", most frequent: {}", top.join(", "))?;
        }
        s.push_str("</p>");
    }
    if !f.metrics.is_empty() {
        s.push_str("<table><tr><th>metric</th><th class=\"n\">value</th></tr>");
        for (name, value) in &f.metrics {
            let decides = f.method.as_deref() == Some(name.as_str());
            write!(
                s,
                "<tr><td>{}{}</td><td class=\"n\">{}</td></tr>",
                escape(name),
                if decides { " (decides)" } else { "" },
                if name.ends_with("pvalue") {
                    pvalue(*value)
                } else {
                    number(*value)
                }
            )?;
        }
        for (name, why) in &f.metric_errors {
            write!(
                s,
                "<tr><td>{}</td><td>{}</td></tr>",
                escape(name),
                escape(why)
            )?;
        }
        s.push_str("</table>");
    }
    if let Some(summary) = &f.summary {
        s.push_str("<table><tr><th>statistic</th><th class=\"n\">baseline</th><th class=\"n\">target</th><th class=\"n\">difference</th><th class=\"n\">% difference</th></tr>");
        // Reading order: size, centre and spread, the quantiles from the
        // bottom up, then shape; any other statistic after.
        let mut names: Vec<&String> = summary.baseline.keys().collect();
        let rank = |n: &str| {
            STATISTIC_ORDER
                .iter()
                .position(|o| *o == n)
                .unwrap_or(STATISTIC_ORDER.len())
        };
        names.sort_by_key(|n| rank(n));
        for name in names {
            let base = &summary.baseline[name];
            let get = |m: &std::collections::BTreeMap<String, Option<f64>>| {
                m.get(name).copied().flatten()
            };
            write!(
                s,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                escape(name),
                number(*base),
                number(get(&summary.target)),
                number(get(&summary.difference)),
                number(get(&summary.percent_difference)),
            )?;
        }
        s.push_str("</table>");
    }
    s.push_str("</details>");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidewatch_core::report::{CategoryFrequencies, Missing};

    fn feature(name: &str) -> FeatureReport {
        FeatureReport {
            name: name.to_string(),
            kind: tidewatch_core::FeatureKind::Categorical,
            data_type: "Utf8".into(),
            method: Some("chi2_pvalue".into()),
            threshold: Some(0.05),
            score: Some(0.01),
            drift_detected: true,
            drift_reasons: vec!["distribution".into()],
            rows: (10, 10),
            missing: Missing {
                baseline_count: 0,
                baseline_rate: 0.0,
                target_count: 0,
                target_rate: 0.0,
                rate_change: 0.0,
                drift_detected: false,
            },
            summary: None,
            categories: None,
            metrics: [("chi2_pvalue".to_string(), Some(0.01))].into(),
            metric_errors: Default::default(),
            corrected_pvalue: None,
            contribution: Some(1.0),
            split_count: Some(3),
            distribution: Some(Distribution::Categorical(CategoryFrequencies {
                categories: vec!["<b>".into(), "a&b".into()],
                baseline: vec![6, 4],
                target: vec![2, 8],
            })),
            note: None,
        }
    }

    #[test]
    fn names_and_labels_are_escaped() {
        let report: DriftReport = serde_json::from_value(serde_json::json!({
            "format": "tidewatch.drift_report.v1", "baseline_rows": 10, "target_rows": 10,
            "feature_count": 1, "drifted_features": 1, "drift_share": 1.0, "dataset_drift": true,
            "drift_share_threshold": 0.5, "correction": "bh", "drift_coefficient": 0.5,
            "mcc": 0.5, "auc": 0.8, "drift_coefficient_interval": [0.4, 0.6],
            "mcc_interval": [0.4, 0.6], "auc_interval": [0.7, 0.9], "pvalue": 0.001,
            "has_drift": true, "threshold": 0.2,
            "classifier": {"seed": 0, "baseline_rows": 10, "target_rows": 10, "budget": 10,
                           "repeats": 1, "features": ["<script>"], "note": null},
            "schema": {"common": [], "baseline_only": [], "target_only": ["x\"y"], "type_mismatches": []},
            "features": []
        }))
        .unwrap();
        let mut report = report;
        report.features.push(feature("<script>alert(1)</script>"));
        let html = render(&report, "t<i>");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&lt;b&gt;") && html.contains("a&amp;b"));
        assert!(html.contains("x&quot;y"));
        assert!(
            html.contains("<details id=\"f0\" open>"),
            "a drifted feature opens"
        );
    }
}
