//! Engine benchmark: fit a baseline profile and compare a target, on
//! generated data (fixed seed) of 20 numeric and 5 categorical columns with
//! a shift planted in a few, against the floor of merely sorting the same
//! numeric columns (with the same radix sort the engine uses).
//!
//! `cargo bench -p tidewatch-core --bench engine -- [ROWS ...]`
//! (default: 100000 1000000). Prints seconds, peak resident memory and the
//! size of the generated input (peak minus input is what the engine added).

mod common;

use std::hint::black_box;
use std::time::Instant;

use arrow_array::Float64Array;
use common::dataset;
use rayon::prelude::*;
use tidewatch_core::stats::sort::sort_f64;
use tidewatch_core::{BaselineProfile, CompareOptions, ProfileOptions};

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.expect("at least one run"))
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if args.is_empty() {
        vec![100_000, 1_000_000]
    } else {
        args
    };
    println!(
        "threads: {}; columns: 20 numeric + 5 categorical; times are the best of 3 runs",
        rayon::current_num_threads()
    );
    println!(
        "{:>10} {:>10} {:>10} {:>12} {:>14} {:>10}",
        "rows", "fit s", "compare s", "sort floor s", "peak RSS MiB", "input MiB"
    );
    // The per-feature engine alone: the domain classifier has its own bench.
    let profile_options = ProfileOptions {
        classifier_budget: 0,
        ..ProfileOptions::default()
    };
    let compare_options = CompareOptions {
        classifier: false,
        ..CompareOptions::default()
    };
    for rows in sizes {
        let baseline = dataset(rows, 1, false);
        let target = dataset(rows, 2, true);
        // The floor: extract and sort the 20 numeric columns of both sides.
        let (floor, _) = best_of(3, || {
            [&baseline, &target]
                .par_iter()
                .flat_map(|side| {
                    (0..20).into_par_iter().map(move |c| {
                        let mut v: Vec<f64> = side
                            .iter()
                            .flat_map(|b| {
                                b.column(c)
                                    .as_any()
                                    .downcast_ref::<Float64Array>()
                                    .expect("f64")
                                    .values()
                                    .iter()
                                    .copied()
                            })
                            .collect();
                        sort_f64(&mut v);
                        black_box(v.len())
                    })
                })
                .sum::<usize>()
        });
        let (fit, profile) = best_of(3, || {
            BaselineProfile::fit(&baseline, &profile_options).expect("fit")
        });
        let (cmp, report) = best_of(3, || {
            profile.compare(&target, &compare_options).expect("compare")
        });
        // The generated record batches themselves, which the engine borrows:
        // peak RSS minus this is what fitting and comparing added.
        let input_mib = [&baseline, &target]
            .iter()
            .flat_map(|side| side.iter())
            .map(|b| b.get_array_memory_size())
            .sum::<usize>() as f64
            / (1024.0 * 1024.0);
        println!(
            "{rows:>10} {fit:>10.3} {cmp:>10.3} {floor:>12.3} {:>14.0} {input_mib:>14.0}",
            common::peak_rss_mib()
        );
        black_box(report.drifted_features);
        let drifted: Vec<&str> = report
            .features
            .iter()
            .filter(|f| f.drift_detected)
            .map(|f| f.name.as_str())
            .collect();
        println!("{:>10} drifted: {}", "", drifted.join(", "));
        // The same with the domain classifier at its defaults (a sample of
        // 20,000 rows a side, 3 seeded splits).
        let (fit_c, with_sample) = best_of(1, || {
            BaselineProfile::fit(&baseline, &ProfileOptions::default()).expect("fit")
        });
        let (cmp_c, report_c) = best_of(1, || {
            with_sample
                .compare(&target, &CompareOptions::default())
                .expect("compare")
        });
        println!(
            "{:>10} with the domain classifier: fit {fit_c:.3} s, compare {cmp_c:.3} s, coefficient {:.3}, AUC {:.3}",
            "",
            report_c.drift_coefficient.unwrap_or(f64::NAN),
            report_c.auc.unwrap_or(f64::NAN)
        );
    }
}
