//! Helpers shared by the benches (the end-to-end bench of the CLI crate
//! includes this file too).

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use rayon::prelude::*;
use tidewatch_core::domain::sampling::Rng;

/// Peak resident memory of this process so far, in MiB (Linux `VmHWM`).
#[allow(dead_code)]
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

const BATCH: usize = 65_536;

/// The benchmark data: `rows` rows of 20 numeric and 5 categorical
/// columns, in batches of 65,536; `shifted` plants the target's drift.
#[allow(dead_code)]
pub fn dataset(rows: usize, seed: u64, shifted: bool) -> Vec<RecordBatch> {
    let categories: Vec<Vec<String>> = (0..5)
        .map(|c| (0..(3 + 4 * c)).map(|k| format!("c{c}_{k}")).collect())
        .collect();
    (0..rows.div_ceil(BATCH))
        .into_par_iter()
        .map(|b| {
            let n = BATCH.min(rows - b * BATCH);
            let mut rng = Rng::new(seed ^ (b as u64).wrapping_mul(0xA24B_AED4_963E_E407));
            let mut cols: Vec<(String, ArrayRef)> = Vec::new();
            for c in 0..20 {
                // Planted shifts: columns 0-2 move by 0.5 sd, column 3 widens.
                let (shift, scale) = match (shifted, c) {
                    (true, 0..=2) => (0.5, 1.0),
                    (true, 3) => (0.0, 1.5),
                    _ => (0.0, 1.0),
                };
                let v: Vec<f64> = (0..n)
                    .map(|_| (rng.normal() * scale + shift) * (c + 1) as f64)
                    .collect();
                cols.push((format!("num_{c}"), Arc::new(Float64Array::from(v))));
            }
            for (c, cats) in categories.iter().enumerate() {
                let v: Vec<&str> = (0..n)
                    .map(|_| {
                        let u = rng.uniform();
                        // Skewed frequencies; the target of column 0 favours later categories.
                        let u = if shifted && c == 0 { u.sqrt() } else { u * u };
                        cats[((u * cats.len() as f64) as usize).min(cats.len() - 1)].as_str()
                    })
                    .collect();
                cols.push((format!("cat_{c}"), Arc::new(StringArray::from(v))));
            }
            RecordBatch::try_from_iter(cols).expect("consistent columns")
        })
        .collect()
}
