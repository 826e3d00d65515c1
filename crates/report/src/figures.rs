//! Figures as files: the drift summary, the contributions, and one
//! distribution chart per feature, each as SVG and PNG. PNGs are rendered
//! here from the same SVG with an embedded font (DejaVu Sans), so they look
//! the same on a machine without any font installed.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};
use tidewatch_core::DriftReport;
use tidewatch_core::report::Distribution;

use crate::{ranked, svg};

/// The font every figure is drawn with.
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// One figure: a file name without extension, and its SVG.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File stem: `summary`, `contributions`, or `feature-NN-name`.
    pub name: String,
    /// A standalone SVG document.
    pub svg: String,
}

/// A figure that could not be rendered.
#[derive(Debug, thiserror::Error)]
#[error("figure {name}: {message}")]
pub struct FigureError {
    /// The figure.
    pub name: String,
    /// What went wrong.
    pub message: String,
}

/// Characters of a feature name kept in a file name (letters, digits, `-`,
/// `_`; at most 60); others become `_`.
pub fn file_safe(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    if safe.is_empty() {
        "_".to_string()
    } else {
        safe
    }
}

fn standalone(svg: String) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{svg}\n")
}

/// Every figure of `report`: the summary, the contributions (when the
/// domain classifier ran), and each compared feature's distribution, in
/// order of contribution (the number in the name is that rank).
pub fn figures(report: &DriftReport) -> Vec<Figure> {
    let mut out = vec![Figure {
        name: "summary".into(),
        svg: standalone(svg::summary(report)),
    }];
    let features = ranked(report);
    let bars: Vec<(&str, f64)> = features
        .iter()
        .filter_map(|f| f.contribution.map(|c| (f.name.as_str(), c)))
        .collect();
    if !bars.is_empty() {
        out.push(Figure {
            name: "contributions".into(),
            svg: standalone(svg::contributions(&bars, bars.len())),
        });
    }
    let width = features.len().to_string().len().max(2);
    for (k, f) in features.iter().enumerate() {
        let chart = match &f.distribution {
            Some(Distribution::Numeric { histogram, density }) => {
                svg::numeric(&f.name, histogram, density)
            }
            Some(Distribution::Categorical(freq)) => svg::categorical(&f.name, freq),
            None => continue,
        };
        out.push(Figure {
            name: format!("feature-{:0width$}-{}", k + 1, file_safe(&f.name)),
            svg: standalone(chart),
        });
    }
    out
}

fn options() -> &'static usvg::Options<'static> {
    static OPTIONS: OnceLock<usvg::Options<'static>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut fonts = usvg::fontdb::Database::new();
        fonts.load_font_data(FONT.to_vec());
        fonts.set_sans_serif_family("DejaVu Sans");
        usvg::Options {
            font_family: "DejaVu Sans".into(),
            fontdb: Arc::new(fonts),
            ..usvg::Options::default()
        }
    })
}

/// Renders a figure as PNG, on white, at `scale` times its SVG size.
pub fn png(figure: &Figure, scale: f32) -> Result<Vec<u8>, FigureError> {
    let error = |message: String| FigureError {
        name: figure.name.clone(),
        message,
    };
    let tree = usvg::Tree::from_str(&figure.svg, options()).map_err(|e| error(e.to_string()))?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(scale)
        .ok_or_else(|| error("empty".into()))?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| {
        error(format!(
            "cannot draw {}x{} pixels",
            size.width(),
            size.height()
        ))
    })?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| error(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_safe("a b/c.d"), "a_b_c_d");
        assert_eq!(file_safe(""), "_");
        assert_eq!(file_safe("ok_name-1"), "ok_name-1");
    }

    #[test]
    fn text_renders_without_system_fonts() {
        // A figure of only text: its PNG has dark pixels, so the embedded
        // font drew the glyphs.
        let figure = Figure {
            name: "t".into(),
            svg: r#"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="30" font-family="sans-serif" font-size="16"><text x="4" y="20">drift 0.31</text></svg>"#.into(),
        };
        let bytes = png(&figure, 1.0).unwrap();
        let decoded = tiny_skia::Pixmap::decode_png(&bytes).unwrap();
        let dark = decoded.pixels().iter().filter(|p| p.red() < 128).count();
        assert!(dark > 50, "{dark} dark pixels");
    }
}
