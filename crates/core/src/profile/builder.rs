//! Fitting a profile as mergeable accumulators: [`ProfileBuilder::update`]
//! with each record batch, [`ProfileBuilder::merge`] two partial states
//! (from other threads, other files, other machines), then
//! [`ProfileBuilder::finish`]. The result does not depend on how the rows
//! were split or in which order they came: values are sorted at the end,
//! counts add, and the classifier's rows are chosen by a hash of their
//! content.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{Field, Schema};
use rayon::prelude::*;

use super::target::{Planned, Shape, TargetBuilder};
use super::{BaselineProfile, ProfileOptions, feature_profile};
use crate::column::{self, MISSING_LABEL};
use crate::domain::sample::{SampleAccumulator, SampleForm, row_keys};
use crate::error::{Error, Result};
use crate::kind::{FeatureKind, KindRule, TypeClass, type_class};
use crate::stats::moments::Moments;

/// What one column accumulates.
#[derive(Debug, Clone)]
pub(crate) enum ColumnState {
    /// Finite values, and the count of missing ones; with the label counts
    /// too while the kind may still turn out categorical (at most
    /// [`LABELS_KEPT`] distinct labels, else `None`).
    Numbers {
        values: Vec<f64>,
        missing: u64,
        labels: Option<HashMap<String, u64>>,
        /// Sketch mode: `values` holds only the values of the rows with the
        /// smallest keys; `None` in exact mode (every value kept).
        kept: Option<Kept>,
    },
    /// Label counts, missing values under [`MISSING_LABEL`].
    Labels(HashMap<String, u64>),
}

/// Sketch mode's bookkeeping for a numeric column: the keys of the rows
/// whose values are kept (aligned with the values), and the moments of
/// every value. Keeping the values of the `cap` rows of smallest key is a
/// seeded sample that merges exactly, like the classifier's sample, and
/// memory stays under twice `cap` values whatever the row count.
#[derive(Debug, Clone)]
pub(crate) struct Kept {
    pub(crate) cap: usize,
    keys: Vec<(u64, u64)>,
    /// After a pruning, the largest key kept: larger keys never enter.
    bound: Option<(u64, u64)>,
    pub(crate) moments: Moments,
}

impl Kept {
    pub(crate) fn new(cap: usize) -> Kept {
        Kept {
            cap,
            keys: Vec::new(),
            bound: None,
            moments: Moments::default(),
        }
    }

    /// Keeps the `cap` values of smallest key (of `values`, aligned with
    /// the keys).
    pub(crate) fn prune(&mut self, values: &mut Vec<f64>) {
        if self.keys.len() <= self.cap {
            return;
        }
        let mut order: Vec<usize> = (0..self.keys.len()).collect();
        order.select_nth_unstable_by_key(self.cap, |&r| self.keys[r]);
        order.truncate(self.cap);
        self.keys = order.iter().map(|&r| self.keys[r]).collect();
        *values = order.iter().map(|&r| values[r]).collect();
        self.bound = self.keys.iter().max().copied();
    }
}

/// Distinct labels a number column keeps counting for the reference rule,
/// which calls a column categorical at up to 100 distinct values.
const LABELS_KEPT: usize = 100;

/// A profile being fitted; see the module documentation.
#[derive(Debug, Clone)]
pub struct ProfileBuilder {
    options: ProfileOptions,
    schema: Arc<Schema>,
    /// The profiled columns: index in the schema, and its state.
    columns: Vec<(usize, ColumnState)>,
    /// Per profiled column, how it enters the classifier's sample (`None`
    /// for datetime and text columns, which never do).
    forms: Vec<Option<SampleForm>>,
    rows: u64,
    sample: Option<SampleAccumulator>,
    /// Sketch mode: the columns whose content keys the rows (the compared
    /// ones); empty in exact mode.
    keyed: Vec<(usize, String, SampleForm)>,
    /// A batch's row keys, kept between batches to spare an allocation.
    keys: Vec<(u64, u64)>,
}

impl super::Accumulator for ProfileBuilder {
    fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        ProfileBuilder::update(self, batch)
    }

    fn merge(&mut self, other: Self) -> Result<()> {
        ProfileBuilder::merge(self, other)
    }
}

impl ProfileBuilder {
    /// An empty profile of data with `schema`; the options are checked
    /// against it (every unknown column named).
    pub fn new(schema: Arc<Schema>, options: &ProfileOptions) -> Result<ProfileBuilder> {
        let known: HashSet<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let mut problems = Vec::new();
        for (option, list) in [
            ("--features", options.features.clone().unwrap_or_default()),
            ("--exclude", options.exclude.clone()),
            ("kind override", options.kinds.keys().cloned().collect()),
        ] {
            for c in list {
                if !known.contains(c.as_str()) {
                    problems.push(Error::UnknownColumn { option, column: c }.to_string());
                }
            }
        }
        if options.max_bins == 0 {
            problems.push("max_bins must be at least 1".to_string());
        }
        if options.max_values == Some(0) {
            problems.push("max_values must be at least 1 (or unset, to keep every value)".into());
        }
        if !problems.is_empty() {
            return Err(Error::InvalidOptions(problems));
        }
        let mut columns = Vec::new();
        let mut forms = Vec::new();
        let mut sampled = Vec::new();
        for (i, field) in schema.fields().iter().enumerate() {
            let name = field.name();
            let wanted = options
                .features
                .as_ref()
                .is_none_or(|l| l.iter().any(|n| n == name))
                && !options.exclude.iter().any(|n| n == name);
            if !wanted {
                continue;
            }
            let class = type_class(field.data_type());
            let forced = options.kinds.get(name).copied();
            let numbers = match forced {
                Some(kind) => kind == FeatureKind::Numeric,
                None => class == TypeClass::Number,
            };
            // Only the reference rule can call a number column categorical.
            let may_be_labels = forced.is_none()
                && class == TypeClass::Number
                && options.kind_rule == KindRule::Reference;
            let state = if numbers {
                ColumnState::Numbers {
                    values: Vec::new(),
                    missing: 0,
                    labels: may_be_labels.then(HashMap::new),
                    kept: options.max_values.map(Kept::new),
                }
            } else {
                ColumnState::Labels(HashMap::new())
            };
            // Datetime and text columns never reach the classifier.
            let uncompared = match forced {
                Some(kind) => matches!(kind, FeatureKind::Datetime | FeatureKind::Text),
                None => class == TypeClass::Temporal,
            };
            let form = match &state {
                _ if uncompared => None,
                ColumnState::Numbers { .. } if may_be_labels => Some(SampleForm::NumberAndLabel),
                ColumnState::Numbers { .. } => Some(SampleForm::Number),
                ColumnState::Labels(_) => Some(SampleForm::Label),
            };
            if let Some(form) = form {
                sampled.push((i, name.clone(), form));
            }
            forms.push(form);
            columns.push((i, state));
        }
        let keyed = options
            .max_values
            .map(|_| sampled.clone())
            .unwrap_or_default();
        let sample = (options.classifier_budget > 0)
            .then(|| SampleAccumulator::new(sampled, options.classifier_budget, options.seed));
        Ok(ProfileBuilder {
            options: options.clone(),
            schema,
            columns,
            forms,
            rows: 0,
            sample,
            keyed,
            keys: Vec::new(),
        })
    }

    /// Adds the rows of `batch`, which must have the builder's schema.
    pub fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        super::check_batch(&self.schema, batch)?;
        if self.options.max_values.is_some() {
            row_keys(batch, &self.keyed, self.options.seed, &mut self.keys)?;
        }
        let (schema, keys) = (&self.schema, &self.keys);
        let (columns, sample) = rayon::join(
            || {
                self.columns.par_iter_mut().try_for_each(|(i, state)| {
                    update_column(schema.field(*i), batch.column(*i), state, true, keys)
                })
            },
            || self.sample.as_mut().map_or(Ok(()), |s| s.update(batch)),
        );
        columns?;
        sample?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Adds the rows `other` has seen (it must have the same schema and
    /// options).
    pub fn merge(&mut self, other: ProfileBuilder) -> Result<()> {
        if other.schema.fields() != self.schema.fields() || other.options != self.options {
            return Err(Error::InvalidOptions(vec![
                "only profiles of the same columns with the same options merge".into(),
            ]));
        }
        for ((_, mine), (_, theirs)) in self.columns.iter_mut().zip(other.columns) {
            merge_column(mine, theirs, true);
        }
        if let (Some(mine), Some(theirs)) = (&mut self.sample, other.sample) {
            mine.merge(theirs);
        }
        self.rows += other.rows;
        Ok(())
    }

    /// An empty target of data with `schema`, to be compared with the
    /// profile this builder will finish into. Known before any baseline row
    /// is read, so the target can stream in at the same time; `seed` is the
    /// comparison's seed ([`crate::CompareOptions::seed`]).
    pub fn target(&self, schema: Arc<Schema>, seed: u64) -> Result<TargetBuilder> {
        let plan = self
            .columns
            .iter()
            .zip(&self.forms)
            .map(|((i, state), form)| {
                let shape = match state {
                    _ if form.is_none() => Shape::Nulls,
                    ColumnState::Numbers { labels: None, .. } => Shape::Numbers,
                    ColumnState::Numbers {
                        labels: Some(_), ..
                    } => Shape::NumbersAndLabels,
                    ColumnState::Labels(_) => Shape::Labels,
                };
                Planned {
                    name: self.schema.field(*i).name().clone(),
                    shape,
                    form: *form,
                    sampled: form.is_some(),
                }
            })
            .collect();
        let budget = self.sample.as_ref().map(|_| self.options.classifier_budget);
        TargetBuilder::new(plan, budget, &self.options, schema, seed)
    }

    /// Rows seen so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The fitted profile; a builder that saw no rows is an error.
    pub fn finish(self) -> Result<BaselineProfile> {
        if self.rows == 0 {
            return Err(Error::EmptyBaseline);
        }
        let rows = self.rows as usize;
        let options = &self.options;
        let schema = &self.schema;
        let features = self
            .columns
            .into_par_iter()
            .map(|(i, state)| feature_profile(schema.field(i), state, rows, options))
            .collect::<Result<Vec<_>>>()?;
        let classifier = match self.sample {
            Some(sample) => Some(sample.finish(&features)?),
            None => None,
        };
        Ok(BaselineProfile {
            rows: self.rows,
            columns: schema
                .fields()
                .iter()
                .map(|f| (f.name().clone(), f.data_type().to_string()))
                .collect(),
            features,
            options: self.options,
            classifier,
            source: None,
        })
    }
}

/// Adds `array` to a column's state. A number column stops counting labels
/// past [`LABELS_KEPT`] distinct ones when `cap_labels` (a baseline: it can
/// no longer turn categorical); a target's counts are kept whole.
///
/// In sketch mode `keys` are the batch's row keys (see
/// [`crate::domain::sample::row_keys`]).
pub(crate) fn update_column(
    field: &Field,
    array: &ArrayRef,
    state: &mut ColumnState,
    cap_labels: bool,
    keys: &[(u64, u64)],
) -> Result<()> {
    let name = field.name();
    let kind_mismatch = |_| Error::KindMismatch {
        column: name.to_string(),
        data_type: field.data_type().to_string(),
        kind: FeatureKind::Numeric.to_string(),
    };
    match state {
        ColumnState::Numbers {
            values,
            missing,
            labels,
            kept: None,
        } => {
            let (v, m) = column::numeric_values(name, &[array]).map_err(kind_mismatch)?;
            values.extend_from_slice(&v);
            *missing += m;
            if let Some(counts) = labels {
                add_counts(counts, column::category_counts(name, &[array])?);
                if cap_labels && counts.len() > LABELS_KEPT + 1 {
                    *labels = None;
                }
            }
        }
        ColumnState::Numbers {
            values,
            missing,
            labels,
            kept: Some(kept),
        } => {
            let floats = column::floats(name, array).map_err(kind_mismatch)?;
            for (r, key) in keys.iter().enumerate().take(floats.len()) {
                let x = column::number_at(&floats, r);
                if x.is_nan() {
                    *missing += 1;
                    continue;
                }
                kept.moments.add(x);
                if kept.bound.is_none_or(|b| *key <= b) {
                    kept.keys.push(*key);
                    values.push(x);
                }
            }
            if kept.keys.len() > 2 * kept.cap {
                kept.prune(values);
            }
            if let Some(counts) = labels {
                add_counts(counts, column::category_counts(name, &[array])?);
                if cap_labels && counts.len() > LABELS_KEPT + 1 {
                    *labels = None;
                }
            }
        }
        ColumnState::Labels(counts) => add_counts(counts, column::category_counts(name, &[array])?),
    }
    Ok(())
}

fn add_counts(into: &mut HashMap<String, u64>, from: HashMap<String, u64>) {
    for (label, n) in from {
        *into.entry(label).or_insert(0) += n;
    }
}

/// Adds another part's state of the same column (see [`update_column`]
/// for `cap_labels`).
pub(crate) fn merge_column(mine: &mut ColumnState, theirs: ColumnState, cap_labels: bool) {
    match (mine, theirs) {
        (
            ColumnState::Numbers {
                values,
                missing,
                labels,
                kept,
            },
            ColumnState::Numbers {
                values: v,
                missing: m,
                labels: l,
                kept: k,
            },
        ) => {
            values.extend_from_slice(&v);
            *missing += m;
            if let (Some(mine), Some(theirs)) = (kept.as_mut(), k) {
                mine.keys.extend(theirs.keys);
                mine.moments.merge(&theirs.moments);
                mine.bound = None;
                if mine.keys.len() > 2 * mine.cap {
                    mine.prune(values);
                }
            }
            *labels = match (labels.take(), l) {
                (Some(mut a), Some(b)) => {
                    add_counts(&mut a, b);
                    (!cap_labels || a.len() <= LABELS_KEPT + 1).then_some(a)
                }
                _ => None,
            };
        }
        (ColumnState::Labels(a), ColumnState::Labels(b)) => add_counts(a, b),
        _ => unreachable!("the same schema and options give the same states"),
    }
}

/// Distinct non-missing labels and non-missing rows of label counts.
pub(crate) fn label_stats(counts: &HashMap<String, u64>, rows: usize) -> (usize, usize) {
    let missing = counts.get(MISSING_LABEL).copied().unwrap_or(0);
    (
        counts.len() - usize::from(missing > 0),
        rows - missing as usize,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Float64Array;

    fn batch(rows: usize, seed: u64) -> RecordBatch {
        crate::profile::test_data::mixed(rows, seed, 0.0, false)
    }

    fn options(rule: KindRule) -> ProfileOptions {
        crate::profile::test_data::options(rule, 300)
    }

    #[test]
    fn parts_merged_in_any_grouping_and_order_give_one_profile() {
        let batches: Vec<RecordBatch> = (0..6).map(|k| batch(500, k)).collect();
        for rule in [KindRule::Default, KindRule::Reference] {
            let options = options(rule);
            let schema = batches[0].schema();
            let mut one = ProfileBuilder::new(schema.clone(), &options).unwrap();
            for b in &batches {
                one.update(b).unwrap();
            }
            let one = one.finish().unwrap();
            // Three parts of two batches, merged last part first.
            let mut parts: Vec<ProfileBuilder> = batches
                .chunks(2)
                .map(|c| {
                    let mut p = ProfileBuilder::new(schema.clone(), &options).unwrap();
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
            assert_eq!(merged.rows(), 3000);
            let merged = merged.finish().unwrap();
            assert_eq!(one, merged, "{rule:?}");
            assert_eq!(one.classifier.as_ref().unwrap().rows(), 300);
            assert_eq!(one, BaselineProfile::fit(&batches, &options).unwrap());
        }
    }

    #[test]
    fn the_reference_rule_still_sees_labels_of_few_valued_numbers() {
        let b = batch(2000, 9);
        let p = BaselineProfile::fit(&[b], &options(KindRule::Reference)).unwrap();
        assert_eq!(p.feature("n").unwrap().kind, FeatureKind::Categorical);
        assert_eq!(p.feature("x").unwrap().kind, FeatureKind::Numeric);
        let sample = p.classifier.unwrap();
        assert_eq!(sample.features, ["x", "n", "s"]);
    }

    #[test]
    fn other_columns_or_options_do_not_merge() {
        let a = batch(10, 1);
        let options = options(KindRule::Default);
        let mut p = ProfileBuilder::new(a.schema(), &options).unwrap();
        let other = RecordBatch::try_from_iter([(
            "y",
            Arc::new(Float64Array::from(vec![1.0])) as ArrayRef,
        )])
        .unwrap();
        assert!(p.update(&other).is_err());
        let q = ProfileBuilder::new(a.schema(), &ProfileOptions::default()).unwrap();
        assert!(p.merge(q).is_err());
        assert!(matches!(p.finish(), Err(Error::EmptyBaseline)));
    }

    #[test]
    fn sketch_mode_keeps_a_bounded_mergeable_sample_with_exact_moments() {
        let batches: Vec<RecordBatch> = (0..6).map(|k| batch(500, k)).collect();
        let schema = batches[0].schema();
        let sketch = ProfileOptions {
            max_values: Some(200),
            ..options(KindRule::Default)
        };
        let mut one = ProfileBuilder::new(schema.clone(), &sketch).unwrap();
        for b in &batches {
            one.update(b).unwrap();
            for (_, state) in &one.columns {
                if let ColumnState::Numbers { values, kept, .. } = state {
                    assert!(values.len() <= 400, "{} values kept", values.len());
                    assert_eq!(kept.as_ref().unwrap().keys.len(), values.len());
                }
            }
        }
        let one = one.finish().unwrap();
        let mut parts: Vec<ProfileBuilder> = batches
            .chunks(4)
            .map(|c| {
                let mut p = ProfileBuilder::new(schema.clone(), &sketch).unwrap();
                for b in c.iter().rev() {
                    p.update(b).unwrap();
                }
                p
            })
            .collect();
        let mut merged = parts.pop().unwrap();
        merged.merge(parts.pop().unwrap()).unwrap();
        let merged = merged.finish().unwrap();
        // The same sample; moments equal up to rounding (merged, not
        // streamed).
        let without_moments = |p: &BaselineProfile| {
            let mut p = p.clone();
            for f in &mut p.features {
                if let crate::profile::FeatureDetail::Numeric(n) = &mut f.detail {
                    let s = &mut n.summary;
                    for v in [
                        &mut s.mean,
                        &mut s.variance,
                        &mut s.std,
                        &mut s.skewness,
                        &mut s.kurtosis,
                    ] {
                        *v = (*v * 1e9).round() / 1e9;
                    }
                }
            }
            p
        };
        assert!(without_moments(&one) == without_moments(&merged));
        let exact = BaselineProfile::fit(&batches, &options(KindRule::Default)).unwrap();
        let numeric = |p: &BaselineProfile| match &p.feature("x").unwrap().detail {
            crate::profile::FeatureDetail::Numeric(n) => n.clone(),
            _ => panic!("x is numeric"),
        };
        let (s, e) = (numeric(&one), numeric(&exact));
        assert!(s.sampled && !e.sampled);
        assert_eq!(s.sorted.len(), 200);
        assert_eq!(e.sorted.len() as u64, e.summary.count);
        assert_eq!(s.summary.count, e.summary.count);
        assert_eq!(
            (s.summary.min, s.summary.max),
            (e.summary.min, e.summary.max)
        );
        for (a, b) in [
            (s.summary.mean, e.summary.mean),
            (s.summary.std, e.summary.std),
            (s.summary.skewness, e.summary.skewness),
            (s.summary.kurtosis, e.summary.kurtosis),
        ] {
            assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} against {b}");
        }
        // The sample's values are values of the data.
        assert!(
            s.sorted
                .iter()
                .all(|v| e.sorted.binary_search_by(|x| x.total_cmp(v)).is_ok())
        );
        assert_eq!(
            one.feature("x").unwrap().missing,
            exact.feature("x").unwrap().missing
        );
        let zero = ProfileOptions {
            max_values: Some(0),
            ..ProfileOptions::default()
        };
        assert!(ProfileBuilder::new(schema, &zero).is_err());
    }
}
