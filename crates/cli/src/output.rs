//! Human-readable output: the per-feature table and the method list.

use std::io::{self, Write};

use tidewatch_core::methods::{self, MetricKind};
use tidewatch_core::{BaselineProfile, DriftReport};
use tidewatch_report::{FEATURE_COLUMNS, feature_cells, number as fmt_num, pvalue};

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const RESET: &str = "\x1b[0m";

/// Prints the per-feature table (ordered by contribution when the domain
/// classifier ran) and the dataset summary.
pub fn table(out: &mut impl Write, report: &DriftReport, color: bool) -> io::Result<()> {
    // The shared feature columns but the missing rates, which only the
    // JSON, Markdown and HTML reports carry.
    let rows: Vec<Vec<String>> = tidewatch_report::ranked(report)
        .iter()
        .map(|f| feature_cells(f)[..7].to_vec())
        .collect();
    let header: [&str; 7] = FEATURE_COLUMNS[..7].try_into().expect("7 columns");
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
        let text = parts.join("  ");
        let text = text.trim_end();
        // Colour the verdict (the last column) after padding, so escape
        // codes never count as width.
        let verdict_at = text.len() - cells[6].len();
        let paint = match cells[6].as_str() {
            v if v.starts_with("yes") => Some(RED),
            "no" => Some(GREEN),
            _ => None,
        };
        match paint {
            Some(code) if color => writeln!(
                out,
                "{}{code}{}{RESET}",
                &text[..verdict_at],
                &text[verdict_at..]
            ),
            _ => writeln!(out, "{text}"),
        }
    };
    line(out, &header.map(String::from))?;
    for r in &rows {
        line(out, r)?;
    }
    writeln!(out)?;
    match (report.drift_coefficient, report.auc, report.pvalue) {
        (Some(c), auc, p) => {
            let interval = report
                .drift_coefficient_interval
                .map_or(String::new(), |(lo, hi)| format!(" [{lo:.3}, {hi:.3}]"));
            writeln!(
                out,
                "drift coefficient {c:.3}{interval} (threshold {:.2}: {}); held-out AUC {}, p-value {} (seed {}, {} + {} rows)",
                report.threshold,
                match (report.has_drift == Some(true), color) {
                    (true, true) => format!("{RED}drift{RESET}"),
                    (true, false) => "drift".to_string(),
                    (false, true) => format!("{GREEN}no drift{RESET}"),
                    (false, false) => "no drift".to_string(),
                },
                fmt_num(auc),
                pvalue(p),
                report.classifier.seed,
                report.classifier.baseline_rows,
                report.classifier.target_rows,
            )?;
        }
        (None, _, _) => {
            if let Some(note) = &report.classifier.note {
                writeln!(out, "drift coefficient: not computed ({note})")?;
            }
        }
    }
    writeln!(
        out,
        "{} of {} features drifted (share {:.2}, dataset drift at {:.2}: {}); baseline {} rows, target {} rows",
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

/// What `tidewatch profile` wrote.
pub fn profile_summary(
    out: &mut impl Write,
    path: &std::path::Path,
    profile: &BaselineProfile,
    bytes: usize,
) -> io::Result<()> {
    let mut kinds = std::collections::BTreeMap::new();
    for f in &profile.features {
        *kinds.entry(f.kind.to_string()).or_insert(0usize) += 1;
    }
    let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    writeln!(
        out,
        "wrote {} ({:.1} MiB): {} rows, {} features ({})",
        path.display(),
        bytes as f64 / (1 << 20) as f64,
        profile.rows,
        profile.features.len(),
        kinds.join(", ")
    )?;
    if let Some(source) = &profile.source {
        let window = match (&source.time_column, &source.from, &source.to) {
            (Some(c), from, to) => format!(
                ", {c} in [{}, {})",
                from.as_deref().unwrap_or("-inf"),
                to.as_deref().unwrap_or("+inf")
            ),
            _ => String::new(),
        };
        writeln!(
            out,
            "from {} ({} file{}{window})",
            source.input,
            source.files.len(),
            if source.files.len() == 1 { "" } else { "s" }
        )?;
    }
    match &profile.classifier {
        Some(sample) => writeln!(
            out,
            "keeps {} rows for the domain classifier",
            sample.rows()
        )?,
        None => writeln!(out, "keeps no rows for the domain classifier")?,
    }
    Ok(())
}
