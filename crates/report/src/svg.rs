//! Small inline SVG charts drawn from report aggregates: the overlaid
//! distribution of a feature on both sides, and bars of contributions.
//! Plain SVG with no script or font files, so they render anywhere.

use std::fmt::Write;

use tidewatch_core::report::{CategoryFrequencies, Density, Histogram};

use crate::escape;

/// Colour of the baseline side.
pub const BASELINE: &str = "#4C78A8";
/// Colour of the target side.
pub const TARGET: &str = "#F58518";

pub(crate) const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 8.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 18.0;
/// Most points of a density curve drawn.
const CURVE_POINTS: usize = 128;
/// Most categories drawn.
const CATEGORIES_DRAWN: usize = 30;

/// The figure's name, top left (the legend is top right).
pub(crate) fn heading(s: &mut String, title: &str) {
    let short: String = if title.chars().count() > 48 {
        title.chars().take(47).chain(['…']).collect()
    } else {
        title.to_string()
    };
    let _ = write!(
        s,
        r#"<text x="8" y="13" font-weight="bold">{}</text>"#,
        escape(&short)
    );
}

fn legend(s: &mut String) {
    let _ = write!(
        s,
        r#"<rect x="{x}" y="4" width="10" height="10" fill="{BASELINE}" fill-opacity="0.6"/><text x="{tx}" y="13">baseline</text><rect x="{x2}" y="4" width="10" height="10" fill="{TARGET}" fill-opacity="0.6"/><text x="{tx2}" y="13">target</text>"#,
        x = WIDTH - 150.0,
        tx = WIDTH - 136.0,
        x2 = WIDTH - 75.0,
        tx2 = WIDTH - 61.0,
    );
}

pub(crate) fn open(s: &mut String, height: f64, title: &str) {
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="11" role="img"><title>{}</title>"#,
        escape(title)
    );
}

/// Tick label of an axis value.
pub(crate) fn tick(x: f64) -> String {
    if x != 0.0 && (x.abs() < 1e-2 || x.abs() >= 1e5) {
        format!("{x:.2e}")
    } else {
        format!("{:.3}", x)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// Histogram bars of both sides (as densities, so the two sides compare
/// whatever their sizes) with their density curves over them.
pub fn numeric(title: &str, hist: &Histogram, density: &Density) -> String {
    let mut s = String::new();
    open(&mut s, HEIGHT, title);
    heading(&mut s, title);
    legend(&mut s);
    let (lo, hi) = match (hist.edges.first(), hist.edges.last()) {
        (Some(&a), Some(&b)) if b > a => (a, b),
        _ => {
            s.push_str(r#"<text x="8" y="40">no spread to draw</text></svg>"#);
            return s;
        }
    };
    let (lo, hi) = match (density.grid.first(), density.grid.last()) {
        (Some(&a), Some(&b)) if a.is_finite() && b.is_finite() => (lo.min(a), hi.max(b)),
        _ => (lo, hi),
    };
    let plot_w = WIDTH - 2.0 * LEFT;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let x = |v: f64| LEFT + (v - lo) / (hi - lo) * plot_w;
    let heights = |counts: &[u64]| -> Vec<f64> {
        let total: u64 = counts.iter().sum();
        counts
            .iter()
            .zip(hist.edges.windows(2))
            .map(|(&c, e)| {
                let w = e[1] - e[0];
                if total == 0 || w <= 0.0 {
                    0.0
                } else {
                    c as f64 / (total as f64 * w)
                }
            })
            .collect()
    };
    let (hb, ht) = (heights(&hist.baseline), heights(&hist.target));
    let curve_max = |d: &Option<Vec<f64>>| {
        d.as_ref().map_or(0.0, |v| {
            v.iter()
                .copied()
                .filter(|y| y.is_finite())
                .fold(0.0, f64::max)
        })
    };
    let top = hb
        .iter()
        .chain(&ht)
        .copied()
        .fold(0.0, f64::max)
        .max(curve_max(&density.baseline))
        .max(curve_max(&density.target));
    if top <= 0.0 {
        s.push_str(r#"<text x="8" y="40">no values to draw</text></svg>"#);
        return s;
    }
    let y = |d: f64| TOP + plot_h - d / top * plot_h;
    for (heights, colour) in [(&hb, BASELINE), (&ht, TARGET)] {
        let mut path = String::new();
        for (h, e) in heights.iter().zip(hist.edges.windows(2)) {
            if *h > 0.0 {
                let _ = write!(
                    path,
                    "M{:.1} {:.1}H{:.1}V{:.1}H{:.1}Z",
                    x(e[0]),
                    TOP + plot_h,
                    x(e[1]),
                    y(*h),
                    x(e[0])
                );
            }
        }
        let _ = write!(
            s,
            r#"<path d="{path}" fill="{colour}" fill-opacity="0.35" stroke="{colour}" stroke-opacity="0.6" stroke-width="0.5"/>"#
        );
    }
    for (curve, colour) in [(&density.baseline, BASELINE), (&density.target, TARGET)] {
        let Some(curve) = curve else { continue };
        let step = curve.len().div_ceil(CURVE_POINTS).max(1);
        let points: Vec<String> = density
            .grid
            .iter()
            .zip(curve)
            .step_by(step)
            .filter(|(g, d)| g.is_finite() && d.is_finite())
            .map(|(&g, &d)| format!("{:.1},{:.1}", x(g), y(d)))
            .collect();
        let _ = write!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.5"/>"#,
            points.join(" ")
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{LEFT}" y1="{b}" x2="{r}" y2="{b}" stroke="#888"/><text x="{LEFT}" y="{t}">{}</text><text x="{r}" y="{t}" text-anchor="end">{}</text>"##,
        tick(lo),
        tick(hi),
        b = TOP + plot_h,
        r = WIDTH - LEFT,
        t = HEIGHT - 6.0,
    );
    let outside = hist.target_underflow + hist.target_overflow;
    if outside > 0 {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">target outside the baseline's range: {} below, {} above</text>"#,
            WIDTH / 2.0,
            HEIGHT - 6.0,
            hist.target_underflow,
            hist.target_overflow
        );
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars of each category's share on both sides (missing and
/// unseen categories included), the most frequent first.
pub fn categorical(title: &str, freq: &CategoryFrequencies) -> String {
    let shown = freq.categories.len().min(CATEGORIES_DRAWN);
    let row = 18.0;
    let height = TOP
        + 4.0
        + row * shown as f64
        + if shown < freq.categories.len() {
            16.0
        } else {
            4.0
        };
    let mut s = String::new();
    open(&mut s, height, title);
    heading(&mut s, title);
    legend(&mut s);
    let total = |v: &[u64]| v.iter().sum::<u64>().max(1) as f64;
    let (tb, tt) = (total(&freq.baseline), total(&freq.target));
    let label_w = 150.0;
    // Room on the right for the two shares of the longest bar.
    let bar_w = WIDTH - label_w - 110.0;
    let max_share = freq
        .baseline
        .iter()
        .map(|&c| c as f64 / tb)
        .chain(freq.target.iter().map(|&c| c as f64 / tt))
        .fold(0.0, f64::max)
        .max(1e-12);
    for k in 0..shown {
        let y0 = TOP + 4.0 + row * k as f64;
        let label = &freq.categories[k];
        let short: String = if label.chars().count() > 24 {
            label.chars().take(23).chain(['…']).collect()
        } else {
            label.clone()
        };
        let (b, t) = (freq.baseline[k] as f64 / tb, freq.target[k] as f64 / tt);
        let _ = write!(
            s,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text><rect x="{label_w}" y="{:.1}" width="{:.1}" height="7" fill="{BASELINE}"/><rect x="{label_w}" y="{:.1}" width="{:.1}" height="7" fill="{TARGET}"/><text x="{:.1}" y="{:.1}">{:.1}% / {:.1}%</text>"#,
            label_w - 6.0,
            y0 + 12.0,
            escape(&short),
            y0 + 1.0,
            b / max_share * bar_w,
            y0 + 8.0,
            t / max_share * bar_w,
            label_w + (b.max(t) / max_share * bar_w) + 4.0,
            y0 + 12.0,
            100.0 * b,
            100.0 * t
        );
    }
    if shown < freq.categories.len() {
        let _ = write!(
            s,
            r#"<text x="8" y="{:.1}">and {} more categories</text>"#,
            height - 4.0,
            freq.categories.len() - shown
        );
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars of each feature's contribution to the drift
/// coefficient, largest first (at most `limit`).
pub fn contributions(bars: &[(&str, f64)], limit: usize) -> String {
    let shown = bars.len().min(limit);
    let row = 16.0;
    let height = 8.0 + row * shown as f64;
    let mut s = String::new();
    open(&mut s, height, "contribution by feature");
    let label_w = 170.0;
    let bar_w = WIDTH - label_w - 60.0;
    let top = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(1e-12);
    for (k, (name, c)) in bars.iter().take(shown).enumerate() {
        let y0 = 4.0 + row * k as f64;
        let short: String = if name.chars().count() > 28 {
            name.chars().take(27).chain(['…']).collect()
        } else {
            (*name).to_string()
        };
        let _ = write!(
            s,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text><rect x="{label_w}" y="{:.1}" width="{:.1}" height="10" fill="{TARGET}"/><text x="{:.1}" y="{:.1}">{:.1}%</text>"#,
            label_w - 6.0,
            y0 + 10.0,
            escape(&short),
            y0 + 1.0,
            c / top * bar_w,
            label_w + c / top * bar_w + 4.0,
            y0 + 10.0,
            100.0 * c
        );
    }
    s.push_str("</svg>");
    s
}

/// The drift summary: the drift coefficient against its threshold, and the
/// share of drifted features against the dataset-drift share.
pub fn summary(report: &tidewatch_core::DriftReport) -> String {
    let mut s = String::new();
    open(&mut s, 110.0, "drift summary");
    let bar_x = 170.0;
    let bar_w = WIDTH - bar_x - 70.0;
    let mut gauge = |y: f64, label: &str, value: Option<f64>, mark: f64, drift: bool| {
        let colour = if drift { "#C0392B" } else { "#2E8B57" };
        let _ = write!(
            s,
            r##"<text x="{}" y="{:.1}" text-anchor="end">{}</text><rect x="{bar_x}" y="{:.1}" width="{bar_w}" height="14" fill="#eee"/>"##,
            bar_x - 8.0,
            y + 11.0,
            escape(label),
            y
        );
        match value {
            Some(v) => {
                let _ = write!(
                    s,
                    r##"<rect x="{bar_x}" y="{:.1}" width="{:.1}" height="14" fill="{colour}"/><text x="{:.1}" y="{:.1}">{v:.3}</text>"##,
                    y,
                    v.clamp(0.0, 1.0) * bar_w,
                    bar_x + bar_w + 6.0,
                    y + 11.0
                );
            }
            None => {
                let _ = write!(
                    s,
                    r#"<text x="{:.1}" y="{:.1}">not computed</text>"#,
                    bar_x + 6.0,
                    y + 11.0
                );
            }
        }
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#222" stroke-width="2"/>"##,
            y - 3.0,
            y + 17.0,
            x = bar_x + mark.clamp(0.0, 1.0) * bar_w
        );
    };
    gauge(
        22.0,
        "drift coefficient",
        report.drift_coefficient,
        report.threshold,
        report.has_drift == Some(true),
    );
    gauge(
        52.0,
        "drifted features (share)",
        Some(report.drift_share),
        report.drift_share_threshold,
        report.dataset_drift,
    );
    let _ = write!(
        s,
        r#"<text x="{bar_x}" y="98">the black marks are the thresholds; {} of {} features drifted</text></svg>"#,
        report.drifted_features, report.feature_count
    );
    s
}
