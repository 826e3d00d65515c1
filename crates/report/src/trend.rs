//! Charts over a monitor's windows, the reference's two figures and one
//! more: the drift coefficient per window with the threshold line; each
//! feature's contribution, stacked per window; and one metric of one
//! feature per window. Drawn from the results query's aggregates.

use std::fmt::Write;

use crate::escape;
use crate::svg::{WIDTH, heading, open, tick};

const HEIGHT: f64 = 240.0;
const LEFT: f64 = 46.0;
const RIGHT: f64 = 36.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 40.0;
/// Colour of drifted windows and of the threshold line.
const DRIFT: &str = "#C0392B";
/// Colours of stacked features, in order of total contribution.
const PALETTE: [&str; 10] = [
    "#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#EECA3B", "#B279A2", "#FF9DA6",
    "#9D755D", "#BAB0AC",
];
/// Features stacked by name; the rest are summed as "other".
pub const STACKED_FEATURES: usize = 9;

/// One window on the x axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The window's label (its first day).
    pub label: String,
    /// The value; `None` when the window has none (drawn as a gap).
    pub value: Option<f64>,
}

fn x_of(i: usize, n: usize) -> f64 {
    let w = WIDTH - LEFT - RIGHT;
    if n <= 1 {
        LEFT + w / 2.0
    } else {
        LEFT + w * i as f64 / (n - 1) as f64
    }
}

fn y_of(v: f64, lo: f64, hi: f64) -> f64 {
    let h = HEIGHT - TOP - BOTTOM;
    TOP + h * (1.0 - ((v - lo) / (hi - lo)).clamp(0.0, 1.0))
}

/// The y axis with five ticks, and at most ~8 x labels.
fn axes(s: &mut String, labels: &[&str], lo: f64, hi: f64, x_of: impl Fn(usize) -> f64) {
    for k in 0..=4 {
        let v = lo + (hi - lo) * k as f64 / 4.0;
        let y = y_of(v, lo, hi);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 4.0,
            y + 4.0,
            tick(v)
        );
    }
    let step = labels.len().div_ceil(8).max(1);
    for (i, l) in labels.iter().enumerate().step_by(step) {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x_of(i),
            HEIGHT - BOTTOM + 16.0,
            escape(l)
        );
    }
}

/// A line over the windows with a dot per value; values above
/// `threshold` (strictly) are drawn in red, with the threshold as a dashed
/// line. `range` fixes the y axis (default: from the values).
pub fn line(
    title: &str,
    points: &[Point],
    threshold: Option<f64>,
    range: Option<(f64, f64)>,
) -> String {
    let mut s = String::new();
    open(&mut s, HEIGHT, title);
    heading(&mut s, title);
    let values: Vec<f64> = points
        .iter()
        .filter_map(|p| p.value)
        .chain(threshold)
        .collect();
    let (lo, hi) = range.unwrap_or_else(|| {
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        match (lo.is_finite(), hi.is_finite()) {
            (true, true) if hi > lo => (lo.min(0.0), hi + (hi - lo.min(0.0)) * 0.05),
            (true, true) => (lo - 0.5, hi + 0.5),
            _ => (0.0, 1.0),
        }
    });
    let n = points.len();
    let labels: Vec<&str> = points.iter().map(|p| p.label.as_str()).collect();
    axes(&mut s, &labels, lo, hi, |i| x_of(i, n));
    if let Some(t) = threshold {
        let y = y_of(t, lo, hi);
        let _ = write!(
            s,
            r#"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{DRIFT}" stroke-dasharray="5 3"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="{DRIFT}">threshold {}</text>"#,
            WIDTH - RIGHT,
            WIDTH - RIGHT,
            y - 4.0,
            tick(t)
        );
    }
    // The line, broken where a window has no value.
    let mut path = String::new();
    let mut pen_down = false;
    for (i, p) in points.iter().enumerate() {
        match p.value {
            Some(v) => {
                let _ = write!(
                    path,
                    "{}{:.1},{:.1} ",
                    if pen_down { "L" } else { "M" },
                    x_of(i, n),
                    y_of(v, lo, hi)
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    let _ = write!(
        s,
        r##"<path d="{}" fill="none" stroke="#4C78A8" stroke-width="2"/>"##,
        path.trim_end()
    );
    for (i, p) in points.iter().enumerate() {
        if let Some(v) = p.value {
            let above = threshold.is_some_and(|t| v > t);
            let _ = write!(
                s,
                r##"<circle class="point" cx="{:.1}" cy="{:.1}" r="3.5" fill="{}"><title>{}: {}</title></circle>"##,
                x_of(i, n),
                y_of(v, lo, hi),
                if above { DRIFT } else { "#4C78A8" },
                escape(&p.label),
                tick(v)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// The drift coefficient per window (0..1) with the threshold line.
pub fn coefficient(points: &[Point], threshold: f64) -> String {
    line(
        "drift coefficient",
        points,
        Some(threshold),
        Some((0.0, 1.0)),
    )
}

/// Each window's contributions (shares summing to 1), stacked: the
/// features with the largest total contribution by name, the rest as
/// "other". `windows` holds a label and `(feature, share)` pairs.
pub fn contributions(windows: &[(String, Vec<(String, f64)>)]) -> String {
    let mut totals: Vec<(String, f64)> = Vec::new();
    for (_, shares) in windows {
        for (f, c) in shares {
            match totals.iter_mut().find(|t| &t.0 == f) {
                Some(t) => t.1 += c,
                None => totals.push((f.clone(), *c)),
            }
        }
    }
    totals.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let named: Vec<&str> = totals
        .iter()
        .take(STACKED_FEATURES)
        .map(|t| t.0.as_str())
        .collect();
    let other = totals.len() > named.len();
    let legend_rows = (named.len() + usize::from(other)).div_ceil(3);
    let height = HEIGHT + 16.0 * legend_rows as f64;
    let mut s = String::new();
    open(&mut s, height, "contribution by feature");
    heading(&mut s, "contribution by feature");
    let n = windows.len();
    let w = WIDTH - LEFT - RIGHT;
    let slot = w / n.max(1) as f64;
    let bar = (slot * 0.8).max(1.0);
    let labels: Vec<&str> = windows.iter().map(|w| w.0.as_str()).collect();
    axes(&mut s, &labels, 0.0, 1.0, |i| {
        LEFT + slot * (i as f64 + 0.5)
    });
    for (i, (label, shares)) in windows.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let mut base = 0.0;
        let mut segment = |s: &mut String, name: &str, c: f64, colour: &str| {
            if c <= 0.0 {
                return;
            }
            let (y1, y0) = (y_of(base + c, 0.0, 1.0), y_of(base, 0.0, 1.0));
            let _ = write!(
                s,
                r#"<rect class="segment" x="{x:.1}" y="{y1:.1}" width="{bar:.1}" height="{:.1}" fill="{colour}"><title>{}: {} {:.1}%</title></rect>"#,
                (y0 - y1).max(0.0),
                escape(label),
                escape(name),
                100.0 * c
            );
            base += c;
        };
        for (k, name) in named.iter().enumerate() {
            let c = shares.iter().find(|s| s.0 == *name).map_or(0.0, |s| s.1);
            segment(&mut s, name, c, PALETTE[k]);
        }
        let rest: f64 = shares
            .iter()
            .filter(|s| !named.contains(&s.0.as_str()))
            .map(|s| s.1)
            .sum();
        segment(&mut s, "other", rest, "#999");
    }
    let entries = named
        .iter()
        .enumerate()
        .map(|(k, n)| (*n, PALETTE[k]))
        .chain(other.then_some(("other", "#999")));
    for (k, (name, colour)) in entries.enumerate() {
        let (col, row) = (k % 3, k / 3);
        let x = LEFT + col as f64 * 170.0;
        let y = HEIGHT + 4.0 + 16.0 * row as f64;
        let short: String = if name.chars().count() > 24 {
            name.chars().take(23).chain(['…']).collect()
        } else {
            name.to_string()
        };
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="{:.1}" width="10" height="10" fill="{colour}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            y - 9.0,
            x + 14.0,
            y,
            escape(&short)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(values: &[Option<f64>]) -> Vec<Point> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Point {
                label: format!("2024-01-{:02}", i + 1),
                value: *v,
            })
            .collect()
    }

    #[test]
    fn the_trend_draws_one_dot_per_value_and_marks_drift() {
        let svg = coefficient(&points(&[Some(0.05), None, Some(0.4), Some(0.1)]), 0.2);
        assert_eq!(svg.matches(r#"class="point""#).count(), 3);
        assert_eq!(
            svg.matches(DRIFT).count(),
            3,
            "threshold line, its label, one dot"
        );
        assert!(svg.contains("threshold 0.2"));
        // The gap breaks the line: two pen-downs.
        let d = svg.split(r#"<path d=""#).nth(1).unwrap();
        assert_eq!(d.split('"').next().unwrap().matches('M').count(), 2);
        let empty = coefficient(&[], 0.2);
        assert!(empty.ends_with("</svg>"));
    }

    #[test]
    fn contributions_stack_to_the_top_and_sum_the_rest() {
        let shares: Vec<(String, f64)> =
            (0..12).map(|k| (format!("f{k:02}"), 1.0 / 12.0)).collect();
        let svg = contributions(&[("w1".into(), shares.clone()), ("w2".into(), shares)]);
        // Nine named features and "other", in both windows.
        assert_eq!(svg.matches(r#"class="segment""#).count(), 20);
        assert!(svg.contains("other 25.0%"));
        let escaped = contributions(&[("w<1>".into(), vec![("a&b".into(), 1.0)])]);
        assert!(escaped.contains("a&amp;b") && !escaped.contains("a&b"));
    }
}
