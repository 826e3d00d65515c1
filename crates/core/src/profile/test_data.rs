//! Data the profile tests share.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampSecondArray,
};

use crate::domain::sampling::Rng;
use crate::kind::KindRule;
use crate::profile::ProfileOptions;

/// `rows` rows of a float `x` (normal, moved by `shift`, every 17th
/// missing), a few-valued integer `n`, a string `s` (every 13th missing),
/// and with `time` a timestamp `t` (every 11th missing).
pub(crate) fn mixed(rows: usize, seed: u64, shift: f64, time: bool) -> RecordBatch {
    let mut rng = Rng::new(seed);
    let x: Vec<Option<f64>> = (0..rows)
        .map(|i| (i % 17 != 0).then(|| rng.normal() + shift))
        .collect();
    let n: Vec<i64> = (0..rows).map(|_| rng.below(7) as i64).collect();
    let s: Vec<Option<String>> = (0..rows)
        .map(|i| (i % 13 != 0).then(|| format!("c{}", rng.below(5))))
        .collect();
    let mut columns = vec![
        ("x", Arc::new(Float64Array::from(x)) as ArrayRef),
        ("n", Arc::new(Int64Array::from(n)) as ArrayRef),
        ("s", Arc::new(StringArray::from(s)) as ArrayRef),
    ];
    if time {
        let t: Vec<Option<i64>> = (0..rows)
            .map(|i| (i % 11 != 0).then_some(i as i64))
            .collect();
        columns.push(("t", Arc::new(TimestampSecondArray::from(t)) as ArrayRef));
    }
    RecordBatch::try_from_iter(columns).unwrap()
}

/// Profile options with `rule` and a classifier `budget`.
pub(crate) fn options(rule: KindRule, budget: usize) -> ProfileOptions {
    ProfileOptions {
        kind_rule: rule,
        classifier_budget: budget,
        ..ProfileOptions::default()
    }
}
