//! Human-readable output: the per-feature table and the method list.

use std::io::{self, Write};

use tidewatch_core::DriftReport;
use tidewatch_core::methods::{self, MetricKind};

fn fmt_num(x: Option<f64>) -> String {
    match x {
        None => "-".to_string(),
        Some(v) if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) => format!("{v:.3e}"),
        Some(v) => format!("{v:.4}"),
    }
}

/// Prints the per-feature table and a dataset summary line.
pub fn table(out: &mut impl Write, report: &DriftReport) -> io::Result<()> {
    let rows: Vec<[String; 6]> = report
        .features
        .iter()
        .map(|f| {
            [
                f.name.clone(),
                f.kind.to_string(),
                f.method.clone().unwrap_or_else(|| "-".into()),
                fmt_num(f.score),
                fmt_num(f.threshold),
                if f.method.is_none() {
                    "-".to_string()
                } else if f.drift_detected {
                    format!("yes ({})", f.drift_reasons.join(", "))
                } else {
                    "no".to_string()
                },
            ]
        })
        .collect();
    let header = ["feature", "kind", "method", "score", "threshold", "drifted"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: &[String]| -> io::Result<()> {
        let parts: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        writeln!(out, "{}", parts.join("  ").trim_end())
    };
    line(out, &header.map(String::from))?;
    for r in &rows {
        line(out, r)?;
    }
    writeln!(
        out,
        "\n{} of {} features drifted (share {:.2}, dataset drift at {:.2}: {}); baseline {} rows, target {} rows",
        report.drifted_features,
        report.feature_count,
        report.drift_share,
        report.drift_share_threshold,
        if report.dataset_drift { "yes" } else { "no" },
        report.baseline_rows,
        report.target_rows
    )?;
    let s = &report.schema;
    if !s.baseline_only.is_empty() || !s.target_only.is_empty() || !s.type_mismatches.is_empty() {
        writeln!(
            out,
            "schema: only in baseline {:?}; only in target {:?}; type changed {:?}",
            s.baseline_only,
            s.target_only,
            s.type_mismatches
                .iter()
                .map(|m| format!("{} {}->{}", m.name, m.baseline, m.target))
                .collect::<Vec<_>>()
        )?;
    }
    Ok(())
}

/// Prints the drift metrics.
pub fn methods(out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "{:<33} {:<10} {:<28} default threshold",
        "metric", "kind", "range"
    )?;
    for m in methods::registry() {
        let kind = match m.kind() {
            MetricKind::Distance => "distance",
            MetricKind::Statistic => "statistic",
            MetricKind::PValue => "p-value",
        };
        let t = match (m.default_threshold(), m.kind()) {
            (Some(t), MetricKind::PValue) => format!("< {t}"),
            (Some(t), _) => format!("> {t}"),
            (None, _) => "reported only".into(),
        };
        writeln!(out, "{:<33} {:<10} {:<28} {}", m.name(), kind, m.range(), t)?;
    }
    Ok(())
}
