//! A target window accumulated batch by batch, like a baseline: what a
//! comparison needs of it, and nothing more. Memory grows with what is
//! kept (each numeric feature's finite values, each categorical feature's
//! label counts, the classifier's bounded sample), never with the record
//! batches themselves, which are dropped after [`TargetBuilder::update`].

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Schema};
use rayon::prelude::*;

use super::builder::{ColumnState, Kept, merge_column, update_column};
use super::{BaselineProfile, FeatureDetail};
use crate::domain::sample::{SampleAccumulator, SampleForm, SampledRows, row_keys};
use crate::error::{Error, Result};
use crate::kind::{FeatureKind, KindRule, TypeClass, type_class};
use crate::stats::sort::sort_f64;

/// Salt of the target sample's seed, so that the target's rows are not
/// chosen by the same hashes as the baseline's.
const TARGET_SALT: u64 = 0x7461_7267_6574;

/// What the target keeps of one baseline column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Finite values and the missing count (a numeric feature).
    Numbers,
    /// Label counts (a categorical feature, or one that may become text).
    Labels,
    /// Both: a number column the reference rule may call categorical.
    NumbersAndLabels,
    /// Only the missing count (a datetime or text feature).
    Nulls,
}

/// One baseline column as the target accumulates it.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub(crate) name: String,
    pub(crate) shape: Shape,
    /// How its content enters a row's key (as the baseline's builder keyed
    /// it), if at all.
    pub(crate) form: Option<SampleForm>,
    /// Whether it enters the classifier's sample.
    pub(crate) sampled: bool,
}

/// One target column's state.
#[derive(Debug, Clone)]
pub(crate) enum TargetColumn {
    /// Numbers, labels or both.
    State(ColumnState),
    /// Missing values of a datetime or text feature.
    Nulls(u64),
}

/// A target being accumulated: [`TargetBuilder::update`] with each record
/// batch, [`TargetBuilder::merge`] partial states, then
/// [`TargetBuilder::finish`]. Made by [`BaselineProfile::target`], or by
/// [`super::ProfileBuilder::target`] while the baseline is still being read.
#[derive(Debug, Clone)]
pub struct TargetBuilder {
    schema: Arc<Schema>,
    /// Baseline columns the target has: index in the target schema, name,
    /// state.
    columns: Vec<(usize, String, TargetColumn)>,
    rows: u64,
    sample: Option<SampleAccumulator>,
    seed: u64,
    budget: Option<usize>,
    /// Sketch mode: the seed of the value sample (the baseline's, so that
    /// the same rows give the same sample on both sides), and the columns
    /// keying rows, as the baseline keyed them.
    values_seed: u64,
    keyed: Vec<(usize, String, SampleForm)>,
    keys: Vec<(u64, u64)>,
}

/// A finished target, ready for [`BaselineProfile::compare_target`].
#[derive(Debug, Clone)]
pub struct TargetProfile {
    pub(crate) schema: Arc<Schema>,
    /// Columns by name; numeric values sorted.
    pub(crate) columns: HashMap<String, TargetColumn>,
    pub(crate) rows: u64,
    pub(crate) sample: Option<SampledRows>,
    pub(crate) seed: u64,
    pub(crate) budget: Option<usize>,
}

impl super::Accumulator for TargetBuilder {
    fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        TargetBuilder::update(self, batch)
    }

    fn merge(&mut self, other: Self) -> Result<()> {
        TargetBuilder::merge(self, other)
    }
}

impl TargetBuilder {
    /// A target accumulating `plan`'s columns, sampled for the classifier
    /// when a `budget` is given, in sketch mode when the baseline's
    /// `options` say so.
    pub(crate) fn new(
        plan: Vec<Planned>,
        budget: Option<usize>,
        options: &super::ProfileOptions,
        schema: Arc<Schema>,
        seed: u64,
    ) -> Result<TargetBuilder> {
        let mut columns = Vec::new();
        let mut sampled = Vec::new();
        let mut keyed = Vec::new();
        let kept = || options.max_values.map(Kept::new);
        for p in plan {
            let Ok(i) = schema.index_of(&p.name) else {
                continue;
            };
            let state = match p.shape {
                Shape::Numbers => TargetColumn::State(ColumnState::Numbers {
                    values: Vec::new(),
                    missing: 0,
                    labels: None,
                    kept: kept(),
                }),
                Shape::NumbersAndLabels => TargetColumn::State(ColumnState::Numbers {
                    values: Vec::new(),
                    missing: 0,
                    labels: Some(HashMap::new()),
                    kept: kept(),
                }),
                Shape::Labels => TargetColumn::State(ColumnState::Labels(HashMap::new())),
                Shape::Nulls => TargetColumn::Nulls(0),
            };
            if let Some(form) = p.form {
                if p.sampled {
                    sampled.push((i, p.name.clone(), form));
                }
                if options.max_values.is_some() {
                    keyed.push((i, p.name.clone(), form));
                }
            }
            columns.push((i, p.name, state));
        }
        let sample = budget.map(|b| SampleAccumulator::new(sampled, b, seed ^ TARGET_SALT));
        Ok(TargetBuilder {
            schema,
            columns,
            rows: 0,
            sample,
            seed,
            budget,
            values_seed: options.seed,
            keyed,
            keys: Vec::new(),
        })
    }

    /// Adds the rows of `batch`, which must have the builder's schema.
    pub fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        super::check_batch(&self.schema, batch)?;
        if !self.keyed.is_empty() {
            row_keys(batch, &self.keyed, self.values_seed, &mut self.keys)?;
        }
        let (schema, keys) = (&self.schema, &self.keys);
        let (columns, sample) = rayon::join(
            || {
                self.columns
                    .par_iter_mut()
                    .try_for_each(|(i, _, state)| match state {
                        TargetColumn::State(s) => {
                            update_column(schema.field(*i), batch.column(*i), s, false, keys)
                        }
                        TargetColumn::Nulls(n) => {
                            *n += batch.column(*i).null_count() as u64;
                            Ok(())
                        }
                    })
            },
            || self.sample.as_mut().map_or(Ok(()), |s| s.update(batch)),
        );
        columns?;
        sample?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Adds the rows `other` has seen (made for the same baseline, schema
    /// and seed).
    pub fn merge(&mut self, other: TargetBuilder) -> Result<()> {
        if other.schema.fields() != self.schema.fields()
            || other.seed != self.seed
            || other.budget != self.budget
            || other.columns.len() != self.columns.len()
        {
            return Err(Error::InvalidOptions(vec![
                "only targets of the same columns for the same baseline and seed merge".into(),
            ]));
        }
        for ((_, _, mine), (_, _, theirs)) in self.columns.iter_mut().zip(other.columns) {
            match (mine, theirs) {
                (TargetColumn::State(a), TargetColumn::State(b)) => merge_column(a, b, false),
                (TargetColumn::Nulls(a), TargetColumn::Nulls(b)) => *a += b,
                _ => unreachable!("one plan gives the same states"),
            }
        }
        if let (Some(mine), Some(theirs)) = (&mut self.sample, other.sample) {
            mine.merge(theirs);
        }
        self.rows += other.rows;
        Ok(())
    }

    /// Rows seen so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The finished target; one that saw no rows is an error.
    pub fn finish(self) -> Result<TargetProfile> {
        if self.rows == 0 {
            return Err(Error::EmptyTarget);
        }
        let columns = self
            .columns
            .into_par_iter()
            .map(|(_, name, mut state)| {
                if let TargetColumn::State(ColumnState::Numbers { values, kept, .. }) = &mut state {
                    if let Some(kept) = kept {
                        kept.prune(values);
                    }
                    sort_f64(values);
                }
                (name, state)
            })
            .collect();
        Ok(TargetProfile {
            schema: self.schema,
            columns,
            rows: self.rows,
            sample: self.sample.map(SampleAccumulator::into_rows),
            seed: self.seed,
            budget: self.budget,
        })
    }
}

impl BaselineProfile {
    /// An empty target of data with `schema`, to compare with this profile
    /// with the comparison's `seed` ([`crate::CompareOptions::seed`]).
    pub fn target(&self, schema: Arc<Schema>, seed: u64) -> Result<TargetBuilder> {
        let sampled = self.classifier.as_ref().map(|c| &c.features[..]);
        let plan = self
            .features
            .iter()
            .map(|f| {
                let in_sample = sampled.is_some_and(|s| s.contains(&f.name));
                // The form the baseline's builder sampled the column in, so
                // that target rows are keyed as they would have been then.
                let number_column = f
                    .data_type
                    .parse::<DataType>()
                    .is_ok_and(|t| type_class(&t) == TypeClass::Number);
                let may_be_labels = number_column
                    && self.options.kind_rule == KindRule::Reference
                    && !self.options.kinds.contains_key(&f.name);
                // The builder keys rows by every column but datetime ones
                // (only temporal types, or an override, make those) and
                // those forced to text.
                let keyed = f.kind != FeatureKind::Datetime
                    && self.options.kinds.get(&f.name) != Some(&FeatureKind::Text);
                let (shape, form) = match &f.detail {
                    _ if may_be_labels => (Shape::NumbersAndLabels, SampleForm::NumberAndLabel),
                    FeatureDetail::Numeric(_) => (Shape::Numbers, SampleForm::Number),
                    FeatureDetail::Categorical(_) => (Shape::Labels, SampleForm::Label),
                    FeatureDetail::Uncompared { .. } => (Shape::Nulls, SampleForm::Label),
                };
                Planned {
                    name: f.name.clone(),
                    shape,
                    form: keyed.then_some(form),
                    sampled: in_sample,
                }
            })
            .collect();
        let budget = self.classifier.as_ref().map(|c| c.budget);
        TargetBuilder::new(plan, budget, &self.options, schema, seed)
    }
}

impl TargetProfile {
    /// Rows in the target.
    pub fn rows(&self) -> u64 {
        self.rows
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::compare::CompareOptions;
    use crate::kind::KindRule;
    use crate::profile::{ProfileBuilder, ProfileOptions};

    fn batch(rows: usize, seed: u64, shift: f64) -> RecordBatch {
        crate::profile::test_data::mixed(rows, seed, shift, true)
    }

    fn options(rule: KindRule) -> ProfileOptions {
        crate::profile::test_data::options(rule, 400)
    }

    /// Whether two JSON values are equal, numbers within `tolerance`
    /// relative (absolute below 1: differences of near-equal moments).
    fn close(a: &serde_json::Value, b: &serde_json::Value, tolerance: f64) -> bool {
        use serde_json::Value;
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                x == y || (x - y).abs() <= tolerance * x.abs().max(y.abs()).max(1.0)
            }
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(x, y)| close(x, y, tolerance))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .all(|(k, v)| y.get(k).is_some_and(|w| close(v, w, tolerance)))
            }
            _ => a == b,
        }
    }

    fn json(r: &crate::DriftReport) -> String {
        serde_json::to_string(r).unwrap()
    }

    #[test]
    fn a_target_streamed_in_parts_gives_the_report_of_all_its_rows() {
        let baseline: Vec<RecordBatch> = (0..4).map(|k| batch(300, k, 0.0)).collect();
        let target: Vec<RecordBatch> = (10..16).map(|k| batch(250, k, 0.5)).collect();
        let compare = CompareOptions {
            seed: 7,
            ..CompareOptions::default()
        };
        for rule in [KindRule::Default, KindRule::Reference] {
            let profile = BaselineProfile::fit(&baseline, &options(rule)).unwrap();
            let whole = profile.compare(&target, &compare).unwrap();
            assert!(whole.drift_coefficient.is_some(), "{rule:?}");
            // Three parts, each fed backwards, merged last first.
            let schema = target[0].schema();
            let mut parts: Vec<TargetBuilder> = target
                .chunks(2)
                .map(|c| {
                    let mut p = profile.target(schema.clone(), 7).unwrap();
                    for b in c.iter().rev() {
                        p.update(b).unwrap();
                    }
                    p
                })
                .collect();
            let mut merged = parts.pop().unwrap();
            while let Some(p) = parts.pop() {
                merged.merge(p).unwrap();
            }
            assert_eq!(merged.rows(), 1500);
            let streamed = profile
                .compare_target(merged.finish().unwrap(), &compare)
                .unwrap();
            assert!(json(&whole) == json(&streamed), "{rule:?}");
        }
    }

    #[test]
    fn a_target_started_before_the_baseline_is_finished_gives_the_same_report() {
        let baseline: Vec<RecordBatch> = (0..4).map(|k| batch(300, k, 0.0)).collect();
        let target: Vec<RecordBatch> = (10..13).map(|k| batch(250, k, 0.5)).collect();
        let cases = [
            (KindRule::Default, None),
            (KindRule::Reference, None),
            (KindRule::Default, Some(300)),
            (KindRule::Reference, Some(300)),
        ];
        for (rule, max_values) in cases {
            let opts = ProfileOptions {
                max_values,
                ..options(rule)
            };
            let mut builder = ProfileBuilder::new(baseline[0].schema(), &opts).unwrap();
            let mut early = builder.target(target[0].schema(), 0).unwrap();
            for (b, t) in baseline.iter().zip(&target) {
                builder.update(b).unwrap();
                early.update(t).unwrap();
            }
            builder.update(&baseline[3]).unwrap();
            let profile = builder.finish().unwrap();
            let n = profile.feature("n").unwrap().kind;
            let expected = if rule == KindRule::Reference {
                crate::FeatureKind::Categorical
            } else {
                crate::FeatureKind::Numeric
            };
            assert_eq!(n, expected);
            let early = profile
                .compare_target(early.finish().unwrap(), &CompareOptions::default())
                .unwrap();
            let late = profile
                .compare(&target, &CompareOptions::default())
                .unwrap();
            // Exact mode: identical. Sketch mode streams the moments, which
            // then agree up to rounding.
            let tolerance = if max_values.is_some() { 1e-12 } else { 0.0 };
            assert!(
                close(
                    &serde_json::to_value(&early).unwrap(),
                    &serde_json::to_value(&late).unwrap(),
                    tolerance
                ),
                "{rule:?} {max_values:?}"
            );
            let t = early.features.iter().find(|f| f.name == "t").unwrap();
            assert_eq!(t.missing.target_count, 69, "every 11th of 750 rows");
        }
    }

    #[test]
    fn a_target_for_another_seed_or_baseline_is_refused() {
        let baseline = [batch(300, 1, 0.0)];
        let target = batch(300, 2, 0.0);
        let profile = BaselineProfile::fit(&baseline, &options(KindRule::Default)).unwrap();
        let mut t = profile.target(target.schema(), 1).unwrap();
        t.update(&target).unwrap();
        let err = profile
            .compare_target(t.clone().finish().unwrap(), &CompareOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("seed 1") && err.contains("seed 0"), "{err}");
        let other = BaselineProfile::fit(&baseline, &ProfileOptions::default()).unwrap();
        let compare = CompareOptions {
            seed: 1,
            ..CompareOptions::default()
        };
        let err = other
            .compare_target(t.finish().unwrap(), &compare)
            .unwrap_err()
            .to_string();
        assert!(err.contains("another baseline"), "{err}");
        let empty = profile.target(target.schema(), 0).unwrap();
        assert!(matches!(empty.finish(), Err(Error::EmptyTarget)));
    }

    #[test]
    fn sketch_mode_finds_no_drift_in_the_same_rows_and_finds_a_shift() {
        let baseline: Vec<RecordBatch> = (0..8).map(|k| batch(500, k, 0.0)).collect();
        let opts = ProfileOptions {
            max_values: Some(300),
            ..options(KindRule::Default)
        };
        let profile = BaselineProfile::fit(&baseline, &opts).unwrap();
        let same = profile
            .compare(&baseline, &CompareOptions::default())
            .unwrap();
        let x = &same.features[0];
        // The same rows give the same sample on both sides.
        assert_eq!(x.metrics["wasserstein_distance"], Some(0.0));
        assert_eq!(x.metrics["ks_pvalue"], Some(1.0));
        assert!(!x.drift_detected);
        assert!(
            x.note.as_deref().unwrap().contains("sketch mode"),
            "{:?}",
            x.note
        );
        let shifted: Vec<RecordBatch> = (20..28).map(|k| batch(500, k, 0.5)).collect();
        let r = profile
            .compare(&shifted, &CompareOptions::default())
            .unwrap();
        let x = &r.features[0];
        assert!(x.drift_detected, "{:?}", x.score);
        let mean = x.summary.as_ref().unwrap().difference["mean"].unwrap();
        assert!((mean - 0.5).abs() < 0.15, "{mean}");
        assert_eq!(
            x.summary.as_ref().unwrap().target["count"],
            Some(3760.0),
            "8 batches of 470 non-missing values"
        );
        // A stored sketch reads back identical.
        let back = BaselineProfile::from_bytes(&profile.to_bytes().unwrap()).unwrap();
        assert_eq!(back, profile);
    }
}
