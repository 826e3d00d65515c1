//! A drift report as Markdown: the dataset's verdict, the features ranked
//! by contribution, and the schema differences.

use std::fmt::Write;

use tidewatch_core::DriftReport;

use crate::{FEATURE_COLUMNS, coefficient_interval, feature_cells, number, pvalue, ranked};

/// Escapes the characters that would break a table cell or add markup.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' | '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Renders `report`.
pub fn render(report: &DriftReport) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = write_report(&mut s, report);
    s
}

fn write_report(s: &mut String, r: &DriftReport) -> std::fmt::Result {
    writeln!(s, "# Drift report\n")?;
    writeln!(s, "| | |\n|---|---|")?;
    match r.drift_coefficient {
        Some(c) => {
            let interval = coefficient_interval(r);
            let verdict = if r.has_drift == Some(true) {
                "**drift**"
            } else {
                "no drift"
            };
            writeln!(
                s,
                "| drift coefficient | {c:.3}{interval}; threshold {:.2}: {verdict} |",
                r.threshold
            )?;
            writeln!(
                s,
                "| held-out AUC | {} (p-value {} that the classifier does no better than chance) |",
                number(r.auc),
                pvalue(r.pvalue)
            )?;
        }
        None => writeln!(
            s,
            "| drift coefficient | not computed: {} |",
            cell(
                r.classifier
                    .note
                    .as_deref()
                    .unwrap_or("the classifier did not run")
            )
        )?,
    }
    writeln!(
        s,
        "| drifted features | {} of {} (share {:.2}; dataset drift at {:.2}: {}) |",
        r.drifted_features,
        r.feature_count,
        r.drift_share,
        r.drift_share_threshold,
        if r.dataset_drift { "yes" } else { "no" }
    )?;
    writeln!(
        s,
        "| rows | baseline {}, target {} |\n",
        r.baseline_rows, r.target_rows
    )?;
    writeln!(s, "## Features\n")?;
    writeln!(s, "| {} |", FEATURE_COLUMNS.join(" | "))?;
    writeln!(s, "|---|---|---:|---|---:|---:|---|---:|")?;
    for f in ranked(r) {
        let cells = feature_cells(f).map(|c| cell(&c));
        writeln!(s, "| {} |", cells.join(" | "))?;
    }
    let schema = &r.schema;
    if !schema.baseline_only.is_empty()
        || !schema.target_only.is_empty()
        || !schema.type_mismatches.is_empty()
    {
        writeln!(s, "\n## Schema differences\n")?;
        let list = |names: &[String]| {
            names
                .iter()
                .map(|n| format!("`{}`", n.replace('`', "'")))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !schema.baseline_only.is_empty() {
            writeln!(s, "- only in the baseline: {}", list(&schema.baseline_only))?;
        }
        if !schema.target_only.is_empty() {
            writeln!(s, "- only in the target: {}", list(&schema.target_only))?;
        }
        for m in &schema.type_mismatches {
            writeln!(
                s,
                "- `{}`: {} in the baseline, {} in the target",
                m.name.replace('`', "'"),
                cell(&m.baseline),
                cell(&m.target)
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b*c_d\ne"), "a\\|b\\*c\\_d e");
    }
}
