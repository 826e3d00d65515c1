//! tidewatch's report renderers: what a [`DriftReport`] looks like to a
//! reader. Built from the report alone (aggregates, never rows), shared by
//! the command line and the server.
//!
//! * [`markdown`]: a Markdown document (for pull requests, wikis, chat);
//! * [`html`]: one self-contained HTML page with inline SVG charts;
//! * [`svg`]: the charts themselves;
//! * [`figures`]: the charts as SVG and PNG files;
//! * [`trend`]: charts over a monitor's windows (the coefficient trend,
//!   contributions stacked per window, one metric's trend).
//!
//! ```
//! # fn demo(report: &tidewatch_core::DriftReport) {
//! let text = tidewatch_report::markdown::render(report);
//! assert!(text.starts_with("# Drift report"));
//! # }
//! ```
#![deny(missing_docs)]

use tidewatch_core::{DriftReport, FeatureReport};

pub mod figures;
pub mod html;
pub mod markdown;
pub mod svg;
pub mod trend;

/// Escapes text for HTML and SVG: `&`, `<`, `>`, `"` and `'`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The features in reading order: by contribution, largest first, when the
/// domain classifier ran (ties, and features it did not see, keep column
/// order); else in column order.
pub fn ranked(report: &DriftReport) -> Vec<&FeatureReport> {
    let mut features: Vec<&FeatureReport> = report.features.iter().collect();
    if report.drift_coefficient.is_some() {
        features.sort_by(|a, b| {
            b.contribution
                .unwrap_or(-1.0)
                .total_cmp(&a.contribution.unwrap_or(-1.0))
        });
    }
    features
}

/// A number for people: 4 decimals, or scientific notation for very
/// small and very large magnitudes; `-` when undefined.
pub fn number(x: Option<f64>) -> String {
    match x {
        None => "-".to_string(),
        Some(v) if v.is_nan() => "-".to_string(),
        Some(v) if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) => format!("{v:.3e}"),
        Some(v) => format!("{v:.4}"),
    }
}

/// A p-value: as [`number`], except that one too small for a 64-bit float
/// (it underflowed to 0) reads `< 1e-300`, not zero.
pub fn pvalue(p: Option<f64>) -> String {
    match p {
        Some(0.0) => "< 1e-300".to_string(),
        other => number(other),
    }
}

/// The drift coefficient's interval over the repeated splits, as
/// ` (interval LO to HI)`; empty when there is none.
pub fn coefficient_interval(report: &DriftReport) -> String {
    report
        .drift_coefficient_interval
        .map(|(lo, hi)| format!(" (interval {lo:.3} to {hi:.3})"))
        .unwrap_or_default()
}

/// A share in [0, 1] as a percentage with one decimal; `-` when undefined.
pub fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |c| format!("{:.1}%", 100.0 * c))
}

/// The columns of a feature's row in the features tables.
pub const FEATURE_COLUMNS: [&str; 8] = [
    "feature",
    "kind",
    "contribution",
    "method",
    "score",
    "threshold",
    "drifted",
    "missing: baseline / target",
];

/// A feature's row in the features tables, as plain text, in the order of
/// [`FEATURE_COLUMNS`].
pub fn feature_cells(f: &FeatureReport) -> [String; 8] {
    [
        f.name.clone(),
        f.kind.to_string(),
        percent(f.contribution),
        f.method.clone().unwrap_or_else(|| "-".into()),
        number(f.score),
        number(f.threshold),
        verdict(f),
        format!(
            "{} / {}",
            percent(Some(f.missing.baseline_rate)),
            percent(Some(f.missing.target_rate))
        ),
    ]
}

/// A feature's verdict: `-` when nothing decides it, else yes (with the
/// reasons) or no.
pub fn verdict(f: &FeatureReport) -> String {
    if f.method.is_none() {
        "-".to_string()
    } else if f.drift_detected {
        format!("yes ({})", f.drift_reasons.join(", "))
    } else {
        "no".to_string()
    }
}
