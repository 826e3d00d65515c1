//! Domain-classifier benchmark: fit the gradient-boosted trees on the
//! training half of baseline + target rows (20 numeric and 5 categorical
//! features, shifts planted as in the engine bench) and score the held-out
//! half.
//!
//! `cargo bench -p tidewatch-core --bench classifier -- [ROWS_PER_SIDE ...]`
//! (default 100000). Prints seconds, held-out AUC and peak memory.

mod common;

use std::time::Instant;

use tidewatch_core::domain::gbdt::{
    BinnedColumn, Booster, Params, bin_categorical, bin_with_edges, numeric_edges,
};
use tidewatch_core::domain::sampling::{Rng, stratified_halves};
use tidewatch_core::stats::scoring::roc_auc;

/// Rows of one side, column by column: 20 numeric then 5 categorical codes.
fn side(rows: usize, seed: u64, shifted: bool) -> (Vec<Vec<f64>>, Vec<Vec<Option<u32>>>) {
    let mut rng = Rng::new(seed);
    let numeric = (0..20)
        .map(|c| {
            let (shift, scale) = match (shifted, c) {
                (true, 0..=2) => (0.5, 1.0),
                (true, 3) => (0.0, 1.5),
                _ => (0.0, 1.0),
            };
            (0..rows)
                .map(|_| (rng.normal() * scale + shift) * (c + 1) as f64)
                .collect()
        })
        .collect();
    let categorical = (0..5)
        .map(|c| {
            let k = 3 + 4 * c;
            (0..rows)
                .map(|_| {
                    let u = rng.uniform();
                    let u = if shifted && c == 0 { u.sqrt() } else { u * u };
                    Some(((u * k as f64) as u32).min(k as u32 - 1))
                })
                .collect()
        })
        .collect();
    (numeric, categorical)
}

type Half<'a> = (&'a [Vec<f64>], &'a [Vec<Option<u32>>], &'a [bool]);

/// Writes one half as little-endian f64, column after column (categories as
/// codes, missing as NaN), then the labels as 0/1: the input of
/// `sklearn_domain.py`, which fits scikit-learn's
/// HistGradientBoostingClassifier on exactly these rows.
fn export(dir: &str, rows: usize, train: Half<'_>, held: Half<'_>) {
    use std::io::Write;
    std::fs::create_dir_all(dir).expect("export folder");
    for (name, (num, cat, labels)) in [("train", train), ("held_out", held)] {
        let path = format!("{dir}/{rows}_{name}.f64");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("export file"));
        let mut put = |x: f64| out.write_all(&x.to_le_bytes()).expect("write");
        for col in num {
            col.iter().for_each(|&v| put(v));
        }
        for col in cat {
            col.iter().for_each(|v| put(v.map_or(f64::NAN, f64::from)));
        }
        labels.iter().for_each(|&l| put(f64::from(u8::from(l))));
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![100_000]
    } else {
        sizes
    };
    println!(
        "{:>10} {:>8} {:>8} {:>8} {:>8} {:>12}",
        "rows/side", "bin s", "fit s", "score s", "AUC", "peak RSS MiB"
    );
    for rows in sizes {
        let (bn, bc) = side(rows, 1, false);
        let (tn, tc) = side(rows, 2, true);
        let labels: Vec<bool> = (0..2 * rows).map(|i| i >= rows).collect();
        let split = stratified_halves(&labels, &mut Rng::new(42));
        // Raw values of the rows at `idx`: numeric columns, then category codes.
        fn pick<T: Copy>(
            base: &[Vec<T>],
            target: &[Vec<T>],
            rows: usize,
            idx: &[usize],
        ) -> Vec<Vec<T>> {
            base.iter()
                .zip(target)
                .map(|(b, tg)| {
                    idx.iter()
                        .map(|&i| if i < rows { b[i] } else { tg[i - rows] })
                        .collect()
                })
                .collect()
        }
        let raw = |idx: &[usize]| -> (Vec<Vec<f64>>, Vec<Vec<Option<u32>>>) {
            let num = pick(&bn, &tn, rows, idx);
            let cat = pick(&bc, &tc, rows, idx);
            (num, cat)
        };
        let t = Instant::now();
        let (train_num, train_cat) = raw(&split.train);
        let (held_num, held_cat) = raw(&split.held_out);
        // Bins are fixed by the training half and applied to the held-out half.
        let edges: Vec<Vec<f64>> = train_num.iter().map(|v| numeric_edges(v)).collect();
        let bin = |num: &[Vec<f64>], cat: &[Vec<Option<u32>>]| -> Vec<BinnedColumn> {
            num.iter()
                .zip(&edges)
                .map(|(v, e)| bin_with_edges(v, e))
                .chain(
                    cat.iter()
                        .enumerate()
                        .map(|(c, v)| bin_categorical(v, 3 + 4 * c)),
                )
                .collect()
        };
        let train = bin(&train_num, &train_cat);
        let held = bin(&held_num, &held_cat);
        let train_labels: Vec<bool> = split.train.iter().map(|&i| labels[i]).collect();
        let held_labels: Vec<bool> = split.held_out.iter().map(|&i| labels[i]).collect();
        let bin_s = t.elapsed().as_secs_f64();
        if let Ok(dir) = std::env::var("TIDEWATCH_BENCH_EXPORT") {
            export(
                &dir,
                rows,
                (&train_num, &train_cat, &train_labels),
                (&held_num, &held_cat, &held_labels),
            );
        }
        let t = Instant::now();
        let model = Booster::fit(&train, &train_labels, &Params::default());
        let fit_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let scores = model.raw_scores(&held);
        let score_s = t.elapsed().as_secs_f64();
        let auc = roc_auc(&held_labels, &scores, None);
        println!(
            "{rows:>10} {bin_s:>8.2} {fit_s:>8.2} {score_s:>8.2} {auc:>8.4} {:>12.0}",
            common::peak_rss_mib()
        );
    }
}
