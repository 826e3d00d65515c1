//! Comparing a target with a fitted baseline.

use std::collections::{BTreeMap, HashMap};

use arrow_array::RecordBatch;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::column::MISSING_LABEL;
use crate::domain::classifier::{self, ClassifierOptions, ClassifierResult};
use crate::domain::sample::SampledRows;
use crate::error::{Error, Result};
use crate::kind::FeatureKind;
use crate::methods::{self, CategoricalInput, Input, Method, MetricKind, NumericInput, Shared};
use crate::profile::builder::ColumnState;
use crate::profile::target::TargetColumn;
use crate::profile::{
    BaselineProfile, CategoricalProfile, FeatureDetail, FeatureProfile, NumericProfile,
    TargetProfile, accumulate, check_schemas,
};
use crate::report::*;
use crate::stats::correction::Correction;
use crate::stats::histogram::{counts_sorted, linspace};
use crate::stats::kde::{Bandwidth, GaussianKde, binned_kde};
use crate::stats::moments::Moments;
use crate::stats::summary::NumericSummary;

/// Label of the bucket holding every category the baseline never saw.
pub const UNSEEN_LABEL: &str = "<unseen>";

/// Options for a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CompareOptions {
    /// Deciding metric per feature, overriding the automatic choice.
    pub methods: BTreeMap<String, String>,
    /// A deciding metric for every feature it applies to (after `methods`).
    pub method: Option<String>,
    /// Threshold per feature, overriding the metric's default.
    pub thresholds: BTreeMap<String, f64>,
    /// Multiple-testing correction of p-value decisions (default
    /// Benjamini-Hochberg).
    pub correction: Correction,
    /// Absolute change in the missing rate that counts as drift (default 0.05).
    pub missing_rate_threshold: f64,
    /// Share of drifted features at which the dataset drifts (default 0.5).
    pub drift_share_threshold: f64,
    /// Baseline sizes up to this use tests, above it distances (default 1000).
    pub small_sample: usize,
    /// Points of the KDE grid (default 128).
    pub kde_points: usize,
    /// KDE bandwidth rule (default Scott).
    pub bandwidth: Bandwidth,
    /// Samples up to this size get an exact KDE; larger ones a binned one
    /// (default 5000).
    pub exact_kde_limit: usize,
    /// Whether to run the domain classifier (default true; it needs a
    /// profile fitted with a classifier budget).
    pub classifier: bool,
    /// Seed of the classifier's target sample and splits (default 0).
    pub seed: u64,
    /// Drift-coefficient threshold: drift when strictly above (default 0.2).
    pub threshold: f64,
    /// Classifier splits, for the intervals (default 3).
    pub repeats: usize,
    /// Compare only these baseline features, in the classifier too (the
    /// reference's `feature_list`); `None`: every profiled feature.
    pub features: Option<Vec<String>>,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            methods: BTreeMap::new(),
            method: None,
            thresholds: BTreeMap::new(),
            correction: Correction::BenjaminiHochberg,
            missing_rate_threshold: 0.05,
            drift_share_threshold: 0.5,
            small_sample: 1000,
            kde_points: 128,
            bandwidth: Bandwidth::Scott,
            exact_kde_limit: 5000,
            classifier: true,
            seed: 0,
            threshold: 0.2,
            repeats: 3,
            features: None,
        }
    }
}

/// The automatic choice of deciding metric (documented in the README):
///
/// | feature | baseline values <= `small` | more |
/// |---|---|---|
/// | numeric, more than 5 distinct values | `ks_pvalue` | `normalized_wasserstein_distance` |
/// | numeric, at most 5 distinct values | `jensen_shannon_distance` | `jensen_shannon_distance` |
/// | categorical, 2 categories | `z_pvalue` | `jensen_shannon_distance` |
/// | categorical, more | `chi2_pvalue` | `jensen_shannon_distance` |
pub fn auto_method(
    kind: FeatureKind,
    binary: bool,
    baseline_n: u64,
    distinct: u64,
    small: usize,
) -> &'static str {
    let small = baseline_n as usize <= small;
    match kind {
        FeatureKind::Numeric if distinct <= 5 => "jensen_shannon_distance",
        FeatureKind::Numeric if small => "ks_pvalue",
        FeatureKind::Numeric => "normalized_wasserstein_distance",
        _ if !small => "jensen_shannon_distance",
        _ if binary => "z_pvalue",
        _ => "chi2_pvalue",
    }
}

fn rate(count: u64, rows: u64) -> f64 {
    if rows == 0 {
        f64::NAN
    } else {
        count as f64 / rows as f64
    }
}

impl BaselineProfile {
    /// Compares the target `batches` with this baseline: accumulates them
    /// with [`BaselineProfile::target`], then [`BaselineProfile::compare_target`].
    pub fn compare(
        &self,
        batches: &[RecordBatch],
        options: &CompareOptions,
    ) -> Result<DriftReport> {
        let schema = check_schemas(batches)?.ok_or(Error::EmptyTarget)?;
        let target = accumulate(self.target(schema, options.seed)?, batches)?;
        self.compare_target(target.finish()?, options)
    }

    /// Compares an accumulated target with this baseline. The target must
    /// have been made for this profile (or the builder it finished from)
    /// with `options.seed`.
    pub fn compare_target(
        &self,
        target: TargetProfile,
        options: &CompareOptions,
    ) -> Result<DriftReport> {
        self.validate(options)?;
        if target.seed != options.seed {
            return Err(Error::InvalidOptions(vec![format!(
                "the target was sampled with seed {}, the comparison asks for seed {}",
                target.seed, options.seed
            )]));
        }
        if target.budget != self.classifier.as_ref().map(|c| c.budget) {
            return Err(Error::InvalidOptions(vec![
                "the target was accumulated for another baseline (classifier budgets differ)"
                    .into(),
            ]));
        }
        let target_rows = target.rows as usize;
        if target_rows == 0 {
            return Err(Error::EmptyTarget);
        }
        let schema = target.schema.clone();
        let target_types: HashMap<String, String> = schema
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().to_string()))
            .collect();
        let mut diff = SchemaDiff::default();
        for (name, ty) in &self.columns {
            match target_types.get(name) {
                Some(t) => {
                    diff.common.push(name.clone());
                    if t != ty {
                        diff.type_mismatches.push(TypeMismatch {
                            name: name.clone(),
                            baseline: ty.clone(),
                            target: t.clone(),
                        });
                    }
                }
                None => diff.baseline_only.push(name.clone()),
            }
        }
        for f in schema.fields() {
            if !self.columns.iter().any(|(n, _)| n == f.name()) {
                diff.target_only.push(f.name().clone());
            }
        }
        let comparable = self.features.iter().any(|f| {
            f.kind.is_compared()
                && target_types.contains_key(&f.name)
                && options
                    .features
                    .as_ref()
                    .is_none_or(|list| list.contains(&f.name))
        });
        if !comparable {
            return Err(Error::NoCommonColumns {
                baseline: self.columns.iter().map(|c| c.0.clone()).collect(),
                target: schema.fields().iter().map(|f| f.name().clone()).collect(),
            });
        }
        let TargetProfile {
            mut columns,
            sample,
            ..
        } = target;
        let chosen = |name: &str| {
            options
                .features
                .as_ref()
                .is_none_or(|list| list.iter().any(|f| f == name))
        };
        let pairs: Vec<_> = self
            .features
            .iter()
            .filter(|f| chosen(&f.name))
            .map(|f| (f, columns.remove(&f.name)))
            .collect();
        // The classifier and the per-feature metrics are independent: run
        // side by side, neither waits for the other's slowest part.
        let (features, classifier) = rayon::join(
            || {
                pairs
                    .into_par_iter()
                    .map(|(f, column)| compare_feature(f, column, target_rows as u64, options))
                    .collect::<Result<Vec<_>>>()
            },
            || self.run_classifier(sample.as_ref(), options),
        );
        let mut features = features?;
        let (result, info) = classifier?;
        if let Some((r, names)) = &result {
            for (name, (c, n)) in names
                .iter()
                .zip(r.contributions.iter().zip(&r.split_counts))
            {
                if let Some(f) = features.iter_mut().find(|f| &f.name == name) {
                    f.contribution = Some(*c);
                    f.split_count = Some(*n);
                }
            }
        }
        let result = result.map(|(r, _)| r);

        // Multiple-testing correction of the p-value decisions.
        let pvalue_features: Vec<usize> = (0..features.len())
            .filter(|&i| {
                features[i]
                    .method
                    .as_deref()
                    .and_then(methods::by_name)
                    .is_some_and(|m| m.kind() == MetricKind::PValue)
            })
            .collect();
        let raw: Vec<f64> = pvalue_features
            .iter()
            .map(|&i| features[i].score.unwrap_or(f64::NAN))
            .collect();
        let adjusted = options.correction.adjust(&raw);
        for (&i, adj) in pvalue_features.iter().zip(adjusted) {
            let f = &mut features[i];
            f.corrected_pvalue = finite(adj);
            f.score = finite(adj);
            if let (Some(t), Some(s)) = (f.threshold, f.score)
                && s < t
            {
                f.drift_reasons.insert(0, "distribution".into());
            }
        }
        for f in features.iter_mut() {
            f.drift_detected = !f.drift_reasons.is_empty();
        }
        let compared: Vec<&FeatureReport> =
            features.iter().filter(|f| f.method.is_some()).collect();
        let feature_count = compared.len();
        let drifted = compared.iter().filter(|f| f.drift_detected).count();
        let share = if feature_count == 0 {
            0.0
        } else {
            drifted as f64 / feature_count as f64
        };
        Ok(DriftReport {
            format: REPORT_FORMAT.to_string(),
            baseline_rows: self.rows,
            target_rows: target_rows as u64,
            feature_count,
            drifted_features: drifted,
            drift_share: share,
            dataset_drift: feature_count > 0 && share >= options.drift_share_threshold,
            drift_share_threshold: options.drift_share_threshold,
            correction: match options.correction {
                Correction::None => "none",
                Correction::BenjaminiHochberg => "benjamini_hochberg",
                Correction::Bonferroni => "bonferroni",
            }
            .to_string(),
            drift_coefficient: result.as_ref().map(|r| r.drift_coefficient),
            mcc: result.as_ref().map(|r| r.mcc),
            auc: result.as_ref().and_then(|r| finite(r.auc)),
            drift_coefficient_interval: result.as_ref().map(|r| r.drift_coefficient_interval),
            mcc_interval: result.as_ref().map(|r| r.mcc_interval),
            auc_interval: result.as_ref().map(|r| r.auc_interval),
            pvalue: result.as_ref().map(|r| r.pvalue),
            has_drift: result
                .as_ref()
                .map(|r| r.drift_coefficient > options.threshold),
            threshold: options.threshold,
            classifier: info,
            schema: diff,
            features,
        })
    }

    /// Runs the domain classifier on the profile's baseline sample and the
    /// target's sample; returns its result with the features it used, in
    /// the order of its contributions. A classifier that cannot run (too
    /// few rows, no sample kept) gives no result, and says why in
    /// `classifier.note`.
    #[allow(clippy::type_complexity)]
    fn run_classifier(
        &self,
        target: Option<&SampledRows>,
        options: &CompareOptions,
    ) -> Result<(Option<(ClassifierResult, Vec<String>)>, ClassifierInfo)> {
        let mut info = ClassifierInfo {
            seed: options.seed,
            repeats: options.repeats as u64,
            ..ClassifierInfo::default()
        };
        let sample = match (&self.classifier, options.classifier) {
            (_, false) => {
                info.note = Some("disabled".into());
                return Ok((None, info));
            }
            (None, true) => {
                info.note = Some("the baseline profile keeps no rows for the classifier".into());
                return Ok((None, info));
            }
            (Some(sample), true) => sample,
        };
        let Some(target) = target else {
            return Err(Error::InvalidOptions(vec![
                "the target was accumulated without a classifier sample".into(),
            ]));
        };
        info.budget = sample.budget as u64;
        let (names, base, target) = sample.with_target(target, options.features.as_deref())?;
        info.features = names.clone();
        info.baseline_rows = base.first().map_or(0, |c| c.bins.len() as u64);
        info.target_rows = target.first().map_or(0, |c| c.bins.len() as u64);
        let opts = ClassifierOptions {
            seed: options.seed,
            repeats: options.repeats,
            ..ClassifierOptions::default()
        };
        match classifier::run(&base, &target, &opts) {
            Ok(r) => Ok((Some((r, names)), info)),
            Err(e) => {
                info.note = Some(format!("the domain classifier did not run: {e}"));
                Ok((None, info))
            }
        }
    }

    fn validate(&self, options: &CompareOptions) -> Result<()> {
        let mut problems = Vec::new();
        let check_method =
            |problems: &mut Vec<String>, feature: &str, name: &str| match methods::by_name(name) {
                None => problems.push(format!(
                    "unknown metric {name:?} for feature {feature:?} (known: {})",
                    methods::registry()
                        .iter()
                        .map(|m| m.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                Some(m)
                    if m.kind() == MetricKind::Statistic
                        || (m.default_threshold().is_none()
                            && !options.thresholds.contains_key(feature)) =>
                {
                    if m.kind() == MetricKind::Statistic {
                        problems.push(format!(
                            "metric {name:?} is a statistic and cannot decide drift for {feature:?}"
                        ));
                    } else {
                        problems.push(format!(
                            "metric {name:?} has no default threshold: give one for {feature:?}"
                        ));
                    }
                }
                Some(_) => {}
            };
        for (feature, name) in &options.methods {
            check_method(&mut problems, feature, name);
            let Some(f) = self.feature(feature) else {
                problems.push(format!("method override names unknown feature {feature:?}"));
                continue;
            };
            // A per-feature override must fit the feature (a global one
            // applies where it fits and leaves the rest automatic).
            if let Some(m) = methods::by_name(name) {
                let (numeric, binary) = match &f.detail {
                    FeatureDetail::Numeric(_) => (true, false),
                    FeatureDetail::Categorical(c) => (
                        false,
                        c.categories.iter().filter(|c| *c != MISSING_LABEL).count() == 2,
                    ),
                    FeatureDetail::Uncompared { .. } => {
                        problems.push(format!(
                            "feature {feature:?} is {}: it is profiled, not compared, so it takes no metric",
                            f.kind
                        ));
                        continue;
                    }
                };
                if !m.applies(numeric, binary) {
                    problems.push(format!(
                        "metric {name:?} does not apply to {} feature {feature:?}",
                        f.kind
                    ));
                }
            }
        }
        if let Some(name) = &options.method {
            check_method(&mut problems, "every feature", name);
        }
        for (feature, t) in &options.thresholds {
            if self.feature(feature).is_none() {
                problems.push(format!("threshold names unknown feature {feature:?}"));
            }
            if !t.is_finite() {
                problems.push(format!("threshold for {feature:?} is not a number"));
            }
        }
        if let Some(list) = &options.features {
            if list.is_empty() {
                problems.push("the feature list is empty".into());
            }
            for name in list {
                if self.feature(name).is_none() {
                    problems.push(format!(
                        "feature {name:?} is not in the baseline profile (profiled: {})",
                        self.features
                            .iter()
                            .map(|f| f.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        if !(0.0..=1.0).contains(&options.missing_rate_threshold) {
            problems.push("missing-rate threshold must lie in [0, 1]".into());
        }
        if !(0.0..=1.0).contains(&options.drift_share_threshold) {
            problems.push("drift-share threshold must lie in [0, 1]".into());
        }
        if !(0.0..=1.0).contains(&options.threshold) {
            problems.push(format!(
                "drift-coefficient threshold {} must lie in [0, 1]",
                options.threshold
            ));
        }
        if options.classifier && options.repeats == 0 {
            problems.push("the classifier needs at least one split (repeats >= 1)".into());
        }
        if options.kde_points < 2 {
            problems.push("kde_points must be at least 2".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidOptions(problems))
        }
    }
}

fn empty_report(f: &FeatureProfile, target_rows: u64, note: String) -> FeatureReport {
    FeatureReport {
        name: f.name.clone(),
        kind: f.kind,
        data_type: f.data_type.clone(),
        method: None,
        threshold: None,
        score: None,
        drift_detected: false,
        drift_reasons: Vec::new(),
        rows: (f.rows, target_rows),
        missing: Missing {
            baseline_count: f.missing,
            baseline_rate: rate(f.missing, f.rows),
            target_count: 0,
            target_rate: f64::NAN,
            rate_change: f64::NAN,
            drift_detected: false,
        },
        summary: None,
        categories: None,
        metrics: BTreeMap::new(),
        metric_errors: BTreeMap::new(),
        corrected_pvalue: None,
        contribution: None,
        split_count: None,
        distribution: None,
        note: Some(note),
    }
}

fn compare_feature(
    f: &FeatureProfile,
    column: Option<TargetColumn>,
    target_rows: u64,
    options: &CompareOptions,
) -> Result<FeatureReport> {
    let Some(column) = column else {
        return Ok(empty_report(
            f,
            target_rows,
            "the target has no such column".into(),
        ));
    };
    let mismatch = || {
        Error::InvalidOptions(vec![format!(
            "the target accumulated feature {:?} in another form than the baseline's {} kind: \
         it was made for another baseline",
            f.name, f.kind
        )])
    };
    let mut report = match (&f.detail, column) {
        (
            FeatureDetail::Numeric(p),
            TargetColumn::State(ColumnState::Numbers {
                values,
                missing,
                kept,
                ..
            }),
        ) => {
            let moments = kept.map(|k| k.moments);
            compare_numeric(f, p, (values, missing, moments), target_rows, options)?
        }
        (FeatureDetail::Categorical(p), TargetColumn::State(ColumnState::Labels(counts)))
        | (
            FeatureDetail::Categorical(p),
            TargetColumn::State(ColumnState::Numbers {
                labels: Some(counts),
                ..
            }),
        ) => compare_categorical(f, p, counts, target_rows, options)?,
        (FeatureDetail::Uncompared { .. }, column) => {
            let mut r = empty_report(
                f,
                target_rows,
                format!("{} features are profiled, not compared", f.kind),
            );
            let nulls = match column {
                TargetColumn::Nulls(n) => n,
                TargetColumn::State(ColumnState::Numbers { missing, .. }) => missing,
                TargetColumn::State(ColumnState::Labels(counts)) => {
                    counts.get(MISSING_LABEL).copied().unwrap_or(0)
                }
            };
            r.missing.target_count = nulls;
            r.missing.target_rate = rate(nulls, target_rows);
            r.missing.rate_change = r.missing.target_rate - r.missing.baseline_rate;
            return Ok(r);
        }
        _ => return Err(mismatch()),
    };
    let m = &mut report.missing;
    m.rate_change = m.target_rate - m.baseline_rate;
    m.drift_detected = m.rate_change.abs() > options.missing_rate_threshold;
    if m.drift_detected {
        report.drift_reasons.push("missing_rate".into());
    }
    Ok(report)
}

/// What the choice of methods depends on.
struct Facts {
    numeric: bool,
    binary: bool,
    /// Non-missing baseline values.
    baseline_n: u64,
    /// Distinct baseline values.
    distinct: u64,
}

/// Computes every applicable metric and the deciding one.
fn run_methods(
    f: &FeatureProfile,
    input: &Input<'_>,
    facts: Facts,
    options: &CompareOptions,
    report: &mut FeatureReport,
) {
    let Facts {
        numeric,
        binary,
        baseline_n,
        distinct,
    } = facts;
    for m in methods::registry() {
        if !m.applies(numeric, binary) {
            continue;
        }
        match m.compute(input) {
            Ok(v) => {
                report.metrics.insert(m.name().to_string(), finite(v));
            }
            Err(e) => {
                report.metrics.insert(m.name().to_string(), None);
                report
                    .metric_errors
                    .insert(m.name().to_string(), e.to_string());
            }
        }
    }
    let chosen: &dyn Method = options
        .methods
        .get(&f.name)
        .or(options.method.as_ref())
        .and_then(|n| methods::by_name(n))
        .filter(|m| m.applies(numeric, binary))
        .unwrap_or_else(|| {
            methods::by_name(auto_method(
                f.kind,
                binary,
                baseline_n,
                distinct,
                options.small_sample,
            ))
            .expect("automatic methods are registered")
        });
    let threshold = options
        .thresholds
        .get(&f.name)
        .copied()
        .or(chosen.default_threshold());
    let score = report.metrics.get(chosen.name()).copied().flatten();
    report.method = Some(chosen.name().to_string());
    report.threshold = threshold;
    report.score = score;
    if chosen.kind() != MetricKind::PValue
        && let (Some(s), Some(t)) = (score, threshold)
        && chosen.drifted(s, t)
    {
        report.drift_reasons.push("distribution".into());
    }
}

fn summary_comparison(b: &NumericSummary, t: &NumericSummary) -> SummaryComparison {
    let (bn, tn) = (b.named(), t.named());
    let mut out = SummaryComparison {
        baseline: BTreeMap::new(),
        target: BTreeMap::new(),
        difference: BTreeMap::new(),
        percent_difference: BTreeMap::new(),
    };
    let mut push = |name: &str, bv: f64, tv: f64| {
        out.baseline.insert(name.to_string(), finite(bv));
        out.target.insert(name.to_string(), finite(tv));
        out.difference.insert(name.to_string(), finite(tv - bv));
        out.percent_difference.insert(
            name.to_string(),
            if bv == 0.0 {
                None
            } else {
                finite(100.0 * (tv - bv) / bv.abs())
            },
        );
    };
    push("count", b.count as f64, t.count as f64);
    for ((name, bv), (_, tv)) in bn.iter().zip(&tn) {
        push(name, *bv, *tv);
    }
    out
}

/// KDE of both sides on one grid: exact (SciPy's `gaussian_kde`) up to
/// `exact_kde_limit` values, else binned with the same Scott/Silverman
/// bandwidth computed from the summary's standard deviation.
fn density(
    (b, b_std): (&[f64], f64),
    (t, t_std): (&[f64], f64),
    options: &CompareOptions,
) -> Density {
    let bw = options.bandwidth;
    let (sb, st) = (bw.kernel_sd(b.len(), b_std), bw.kernel_sd(t.len(), t_std));
    let pad = 3.0 * sb.unwrap_or(0.0).max(st.unwrap_or(0.0));
    let lo = b[0].min(t[0]) - pad;
    let hi = b[b.len() - 1].max(t[t.len() - 1]) + pad;
    let (lo, hi) = if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    };
    let grid = linspace(lo, hi, options.kde_points);
    let exact = b.len().max(t.len()) <= options.exact_kde_limit;
    let eval = |x: &[f64], sd: Option<f64>| -> Option<Vec<f64>> {
        if x.len() <= options.exact_kde_limit {
            GaussianKde::fit(x, None, bw)
                .ok()
                .map(|k| k.evaluate(&grid))
        } else {
            // Bin on a grid 8 times finer, then keep every 8th point.
            let fine = linspace(lo, hi, (options.kde_points - 1) * 8 + 1);
            let d = binned_kde(x, &fine, sd?);
            Some(d.into_iter().step_by(8).collect())
        }
    };
    Density {
        baseline: eval(b, sb),
        target: eval(t, st),
        grid,
        bandwidth: match options.bandwidth {
            Bandwidth::Scott => "scott".into(),
            Bandwidth::Silverman => "silverman".into(),
            Bandwidth::Factor(x) => format!("factor {x}"),
        },
        exact,
    }
}

/// Compares a numeric feature; `target` holds the target's finite values,
/// sorted (in sketch mode a sample of them, with the moments of all), and
/// its count of missing values.
fn compare_numeric(
    f: &FeatureProfile,
    p: &NumericProfile,
    (target, t_missing, t_moments): (Vec<f64>, u64, Option<Moments>),
    target_rows: u64,
    options: &CompareOptions,
) -> Result<FeatureReport> {
    let mut report = empty_report(f, target_rows, String::new());
    report.note = None;
    report.missing.target_count = t_missing;
    report.missing.target_rate = rate(t_missing, target_rows);
    let mut t_summary = NumericSummary::from_sorted(&target);
    if let Some(m) = &t_moments {
        m.apply(&mut t_summary);
    }
    report.summary = Some(summary_comparison(&p.summary, &t_summary));
    if p.sampled || t_moments.is_some() {
        report.note = Some(format!(
            "sketch mode: metrics, histogram and percentiles from seeded samples of {} of {} baseline and {} of {} target values; count, mean, moments, min and max exact",
            p.sorted.len(),
            p.summary.count,
            target.len(),
            t_summary.count
        ));
    }
    if p.sorted.is_empty() || target.is_empty() {
        let side = if p.sorted.is_empty() {
            "baseline"
        } else {
            "target"
        };
        report.note = Some(format!(
            "no non-missing values in the {side}: only missing values are compared"
        ));
        report.method = Some("missing_rate".into());
        return Ok(report);
    }
    let (t_counts, under, over) = counts_sorted(&target, &p.edges);
    let mut bh = vec![0u64];
    bh.extend(&p.counts);
    bh.push(0);
    let mut th = vec![under];
    th.extend(&t_counts);
    th.push(over);
    let td = methods::quantile_bin_counts(&target, &p.decile_edges);
    let shared = Shared::default();
    let input = Input::Numeric(NumericInput {
        baseline: &p.sorted,
        target: &target,
        baseline_std: p.summary.std,
        baseline_hist: &bh,
        target_hist: &th,
        baseline_deciles: &p.decile_counts,
        target_deciles: &td,
        shared: &shared,
    });
    let facts = Facts {
        numeric: true,
        binary: false,
        baseline_n: p.sorted.len() as u64,
        distinct: p.distinct,
    };
    run_methods(f, &input, facts, options, &mut report);
    report.distribution = Some(Distribution::Numeric {
        histogram: Histogram {
            edges: p.edges.clone(),
            baseline: p.counts.clone(),
            target: t_counts,
            target_underflow: under,
            target_overflow: over,
        },
        density: density(
            (&p.sorted, p.summary.std),
            (&target, t_summary.std),
            options,
        ),
    });
    Ok(report)
}

/// Compares a categorical feature; `counts` are the target's label counts,
/// missing values under [`MISSING_LABEL`].
fn compare_categorical(
    f: &FeatureProfile,
    p: &CategoricalProfile,
    mut counts: HashMap<String, u64>,
    target_rows: u64,
    options: &CompareOptions,
) -> Result<FeatureReport> {
    let mut report = empty_report(f, target_rows, String::new());
    report.note = None;
    let t_missing = counts.get(MISSING_LABEL).copied().unwrap_or(0);
    report.missing.target_count = t_missing;
    report.missing.target_rate = rate(t_missing, target_rows);
    let target_distinct = counts.len() - usize::from(t_missing > 0);
    let mut aligned_t: Vec<u64> = p
        .categories
        .iter()
        .map(|c| counts.remove(c).unwrap_or(0))
        .collect();
    let mut unseen: Vec<(String, u64)> = counts.into_iter().collect();
    unseen.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let unseen_count: u64 = unseen.iter().map(|u| u.1).sum();
    aligned_t.push(unseen_count);
    let mut aligned_b = p.counts.clone();
    aligned_b.push(0);
    let mut labels = p.categories.clone();
    labels.push(UNSEEN_LABEL.to_string());
    report.categories = Some(CategorySummary {
        baseline_distinct: p.categories.iter().filter(|c| *c != MISSING_LABEL).count(),
        target_distinct,
        unseen_count,
        unseen_rate: rate(unseen_count, target_rows),
        unseen_top: unseen.into_iter().take(10).collect(),
    });
    // Buckets empty on both sides carry no information.
    let keep: Vec<usize> = (0..labels.len())
        .filter(|&i| aligned_b[i] + aligned_t[i] > 0)
        .collect();
    let b: Vec<u64> = keep.iter().map(|&i| aligned_b[i]).collect();
    let t: Vec<u64> = keep.iter().map(|&i| aligned_t[i]).collect();
    let binary = p.categories.iter().filter(|c| *c != MISSING_LABEL).count() == 2;
    let shared = Shared::default();
    let input = Input::Categorical(CategoricalInput {
        baseline: &b,
        target: &t,
        shared: &shared,
    });
    let facts = Facts {
        numeric: false,
        binary,
        baseline_n: p.counts.iter().sum(),
        distinct: p.categories.len() as u64,
    };
    run_methods(f, &input, facts, options, &mut report);
    report.distribution = Some(Distribution::Categorical(CategoryFrequencies {
        categories: labels,
        baseline: aligned_b,
        target: aligned_t,
    }));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Float64Array, StringArray};

    use super::*;
    use crate::profile::ProfileOptions;

    fn numeric(name: &str, v: Vec<Option<f64>>) -> RecordBatch {
        RecordBatch::try_from_iter([(name, Arc::new(Float64Array::from(v)) as _)]).unwrap()
    }

    #[test]
    fn missing_rate_change_is_drift_of_its_own() {
        let b = numeric("x", (0..1000).map(|i| Some((i % 50) as f64)).collect());
        let t = numeric(
            "x",
            (0..1000)
                .map(|i| {
                    if i % 5 == 0 {
                        None
                    } else {
                        Some((i % 50) as f64)
                    }
                })
                .collect(),
        );
        let p = BaselineProfile::fit(&[b], &ProfileOptions::default()).unwrap();
        let r = p.compare(&[t], &CompareOptions::default()).unwrap();
        let f = &r.features[0];
        assert_eq!(f.missing.target_count, 200);
        assert!((f.missing.rate_change - 0.2).abs() < 1e-12);
        assert!(f.drift_detected);
        assert_eq!(f.drift_reasons, vec!["missing_rate".to_string()]);
    }

    #[test]
    fn a_feature_list_limits_the_metrics_and_the_classifier() {
        let batch = |shift: f64| {
            RecordBatch::try_from_iter([
                (
                    "stable",
                    Arc::new(Float64Array::from(
                        (0..3000).map(|i| (i * 7 % 113) as f64).collect::<Vec<_>>(),
                    )) as _,
                ),
                (
                    "moved",
                    Arc::new(Float64Array::from(
                        (0..3000)
                            .map(|i| (i * 11 % 97) as f64 + shift)
                            .collect::<Vec<_>>(),
                    )) as _,
                ),
            ])
            .unwrap()
        };
        let p = BaselineProfile::fit(&[batch(0.0)], &ProfileOptions::default()).unwrap();
        let all = p
            .compare(&[batch(200.0)], &CompareOptions::default())
            .unwrap();
        assert_eq!(all.features.len(), 2);
        assert!(all.drift_coefficient.unwrap() > 0.5);
        let only = CompareOptions {
            features: Some(vec!["stable".into()]),
            ..CompareOptions::default()
        };
        let r = p.compare(&[batch(200.0)], &only).unwrap();
        assert_eq!(r.features.len(), 1);
        assert_eq!(r.features[0].name, "stable");
        assert_eq!(r.classifier.features, ["stable"]);
        assert!(
            r.drift_coefficient.unwrap() < 0.1,
            "{:?}",
            r.drift_coefficient
        );
        let unknown = CompareOptions {
            features: Some(vec!["nope".into()]),
            ..CompareOptions::default()
        };
        let err = p.compare(&[batch(0.0)], &unknown).unwrap_err().to_string();
        assert!(
            err.contains("\"nope\" is not in the baseline profile"),
            "{err}"
        );
    }

    #[test]
    fn unseen_categories_are_counted_and_drift() {
        let s = |v: Vec<&str>| {
            RecordBatch::try_from_iter([("c", Arc::new(StringArray::from(v)) as _)]).unwrap()
        };
        let b = s((0..600).map(|i| ["a", "b", "c"][i % 3]).collect());
        let t = s((0..600).map(|i| ["a", "b", "new"][i % 3]).collect());
        let p = BaselineProfile::fit(&[b], &ProfileOptions::default()).unwrap();
        let r = p.compare(&[t], &CompareOptions::default()).unwrap();
        let f = &r.features[0];
        let cats = f.categories.as_ref().unwrap();
        assert_eq!(cats.unseen_count, 200);
        assert_eq!(cats.unseen_top, vec![("new".to_string(), 200)]);
        assert_eq!(f.method.as_deref(), Some("chi2_pvalue"));
        assert!(f.drift_detected);
        assert!(f.metrics["chi2_pvalue"].unwrap() < 1e-10);
    }

    #[test]
    fn empty_target_and_foreign_columns_are_errors() {
        let b = numeric("x", (0..100).map(|i| Some(i as f64)).collect());
        let p = BaselineProfile::fit(&[b], &ProfileOptions::default()).unwrap();
        assert!(matches!(
            p.compare(&[], &CompareOptions::default()),
            Err(Error::EmptyTarget)
        ));
        let other = numeric("y", vec![Some(1.0)]);
        assert!(matches!(
            p.compare(&[other], &CompareOptions::default()),
            Err(Error::NoCommonColumns { .. })
        ));
    }

    #[test]
    fn all_missing_target_reports_missing_rate_only() {
        let b = numeric("x", (0..100).map(|i| Some(i as f64)).collect());
        let t = numeric("x", vec![None, Some(f64::NAN), Some(f64::INFINITY)]);
        let p = BaselineProfile::fit(&[b], &ProfileOptions::default()).unwrap();
        let r = p.compare(&[t], &CompareOptions::default()).unwrap();
        let f = &r.features[0];
        assert_eq!(f.missing.target_count, 3);
        assert!(f.drift_detected);
        assert!(
            f.note
                .as_deref()
                .unwrap()
                .contains("no non-missing values in the target")
        );
    }

    #[test]
    fn integer_feature_with_few_values_stays_numeric_and_uses_binned_js() {
        use arrow_array::Int64Array;
        let ints = |v: Vec<i64>| {
            RecordBatch::try_from_iter([("k", Arc::new(Int64Array::from(v)) as _)]).unwrap()
        };
        // Baseline mostly 0 and 1, target mostly 2 and 3.
        let b = ints((0..3000).map(|i| [0, 0, 1, 1, 2, 3][i % 6]).collect());
        let t = ints((0..3000).map(|i| [0, 1, 2, 2, 3, 3][i % 6]).collect());
        let p = BaselineProfile::fit(std::slice::from_ref(&b), &ProfileOptions::default()).unwrap();
        let r = p.compare(&[t], &CompareOptions::default()).unwrap();
        let f = &r.features[0];
        assert_eq!(f.kind, FeatureKind::Numeric);
        assert_eq!(f.method.as_deref(), Some("jensen_shannon_distance"));
        assert!(f.drift_detected, "{:?}", f.score);
        // Order is kept: the mean moved up from 7/6 to 11/6.
        let d = f.summary.as_ref().unwrap().difference["mean"].unwrap();
        assert!((d - 2.0 / 3.0).abs() < 1e-12, "{d}");
        // The same data against itself: no drift.
        let r = p.compare(&[b], &CompareOptions::default()).unwrap();
        assert!(!r.features[0].drift_detected);
        assert_eq!(r.features[0].score, Some(0.0));
    }

    #[test]
    fn too_few_rows_for_the_classifier_is_a_note_not_an_error() {
        let b = numeric("x", (0..300).map(|i| Some(i as f64)).collect());
        let t = numeric("x", (0..30).map(|i| Some(i as f64)).collect());
        let p = BaselineProfile::fit(&[b], &ProfileOptions::default()).unwrap();
        let r = p.compare(&[t], &CompareOptions::default()).unwrap();
        assert!(r.drift_coefficient.is_none());
        let note = r.classifier.note.unwrap();
        assert!(
            note.contains("at least 50") && note.contains("target"),
            "{note}"
        );
    }

    #[test]
    fn the_profile_keeps_its_classifier_sample_through_serialisation() {
        let b = numeric("x", (0..500).map(|i| Some((i % 37) as f64)).collect());
        let opts = ProfileOptions {
            classifier_budget: 100,
            ..ProfileOptions::default()
        };
        let p = BaselineProfile::fit(&[b], &opts).unwrap();
        let sample = p.classifier.as_ref().unwrap();
        assert_eq!(sample.bins[0].len(), 100);
        let back = BaselineProfile::from_bytes(&p.to_bytes().unwrap()).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn row_order_does_not_change_the_classifier() {
        let rows = |n: usize, shift: f64, reverse: bool| {
            let mut x: Vec<Option<f64>> = (0..n)
                .map(|i| Some(((i * 7919) % 997) as f64 / 100.0 + shift))
                .collect();
            let mut y: Vec<Option<f64>> =
                (0..n).map(|i| Some(((i * 104_729) % 991) as f64)).collect();
            if reverse {
                x.reverse();
                y.reverse();
            }
            RecordBatch::try_from_iter([
                ("x", Arc::new(Float64Array::from(x)) as _),
                ("y", Arc::new(Float64Array::from(y)) as _),
            ])
            .unwrap()
        };
        let opts = ProfileOptions {
            classifier_budget: 300,
            ..ProfileOptions::default()
        };
        let run = |reverse: bool| {
            let p = BaselineProfile::fit(&[rows(500, 0.0, reverse)], &opts).unwrap();
            p.compare(&[rows(400, 1.5, reverse)], &CompareOptions::default())
                .unwrap()
        };
        let (a, b) = (run(false), run(true));
        assert!(a.drift_coefficient.is_some());
        assert_eq!(a.drift_coefficient, b.drift_coefficient);
        assert_eq!((a.mcc, a.auc, a.pvalue), (b.mcc, b.auc, b.pvalue));
        let contributions = |r: &DriftReport| {
            r.features
                .iter()
                .map(|f| f.contribution)
                .collect::<Vec<_>>()
        };
        assert_eq!(contributions(&a), contributions(&b));
    }

    #[test]
    fn automatic_method_table() {
        use FeatureKind::{Categorical, Numeric};
        // (kind, binary, baseline values, distinct values) -> method
        let table = [
            ((Numeric, false, 500, 100), "ks_pvalue"),
            (
                (Numeric, false, 5000, 100),
                "normalized_wasserstein_distance",
            ),
            ((Numeric, false, 5000, 3), "jensen_shannon_distance"),
            ((Categorical, true, 500, 2), "z_pvalue"),
            ((Categorical, false, 500, 5), "chi2_pvalue"),
            ((Categorical, false, 5000, 5), "jensen_shannon_distance"),
        ];
        for ((kind, binary, n, distinct), want) in table {
            assert_eq!(
                auto_method(kind, binary, n, distinct, 1000),
                want,
                "{kind} n={n} distinct={distinct}"
            );
        }
    }

    #[test]
    fn report_is_deterministic_and_serialises_nan_as_null() {
        let b = numeric("x", (0..300).map(|i| Some((i * 37 % 101) as f64)).collect());
        let t = numeric(
            "x",
            (0..200).map(|i| Some((i * 13 % 97) as f64 + 3.0)).collect(),
        );
        let p = BaselineProfile::fit(&[b], &ProfileOptions::default()).unwrap();
        let r1 = serde_json::to_string(
            &p.compare(std::slice::from_ref(&t), &CompareOptions::default())
                .unwrap(),
        )
        .unwrap();
        let r2 =
            serde_json::to_string(&p.compare(&[t], &CompareOptions::default()).unwrap()).unwrap();
        assert_eq!(r1, r2);
        assert!(!r1.contains("NaN"));
    }
}
