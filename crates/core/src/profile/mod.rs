//! The baseline profile: everything later comparisons need, fitted once.

use std::collections::BTreeMap;

use arrow_array::RecordBatch;
use arrow_schema::Schema;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub(crate) mod builder;
pub(crate) mod target;
#[cfg(test)]
pub(crate) mod test_data;

pub use builder::ProfileBuilder;
use builder::{ColumnState, label_stats};
pub use target::{TargetBuilder, TargetProfile};

use crate::column::MISSING_LABEL;
use crate::domain::sample::ClassifierSample;
use crate::error::{Error, Result};
use crate::kind::{FeatureKind, KindOverrides, KindRule, infer, type_class};
use crate::methods::{psi_quantile_edges, quantile_bin_counts};
use crate::stats::histogram::{BinRule, bin_edges, counts_sorted};
use crate::stats::moments::Moments;
use crate::stats::sort::sort_f64;
use crate::stats::summary::NumericSummary;

/// Format version of serialised profiles. Bump on any change of the
/// serialised structs. Version 2 added the data source and the checksum;
/// version 3 sketch mode (`max_values`, `sampled`).
pub const PROFILE_FORMAT_VERSION: u32 = 3;
const MAGIC: &[u8; 8] = b"TWBASE\0\x01";
/// Magic, version, checksum.
const HEADER_LEN: usize = 8 + 4 + 8;

/// Options for fitting a baseline profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProfileOptions {
    /// Kind inference rule (default: tidewatch's).
    pub kind_rule: KindRule,
    /// Kind overrides by column name.
    pub kinds: KindOverrides,
    /// Columns to profile (default: all).
    pub features: Option<Vec<String>>,
    /// Columns to leave out.
    pub exclude: Vec<String>,
    /// Histogram bin rule for numeric features (default: NumPy's `auto`).
    pub bins: BinRule,
    /// Upper bound on the number of histogram bins (default 100).
    pub max_bins: usize,
    /// Baseline rows kept for the domain classifier, at most (default
    /// 20,000; 0 keeps none and disables the classifier).
    pub classifier_budget: usize,
    /// Seed of the classifier's baseline sample, and of the value sample in
    /// sketch mode (default 0).
    pub seed: u64,
    /// Sketch mode: values kept per numeric feature, at most (a seeded
    /// sample of the rows; count, mean, moments, min and max stay exact).
    /// Memory then no longer grows with the row count. `None` (the
    /// default) keeps every value: exact.
    pub max_values: Option<usize>,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        ProfileOptions {
            kind_rule: KindRule::Default,
            kinds: KindOverrides::new(),
            features: None,
            exclude: Vec::new(),
            bins: BinRule::Auto,
            max_bins: 100,
            classifier_budget: 20_000,
            seed: 0,
            max_values: None,
        }
    }
}

/// What a numeric feature's profile keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericProfile {
    /// Every finite value, sorted; in sketch mode a seeded sample of at most
    /// [`ProfileOptions::max_values`] of them.
    pub sorted: Vec<f64>,
    /// Whether `sorted` is a sample (sketch mode). The summary's count,
    /// mean, moments, min and max are still of every value; its median and
    /// percentiles, the histogram counts, the deciles and `distinct` are
    /// the sample's.
    pub sampled: bool,
    /// Summary statistics.
    pub summary: NumericSummary,
    /// Histogram edges fixed by the baseline.
    pub edges: Vec<f64>,
    /// Baseline counts per bin (underflow and overflow are 0 by construction).
    pub counts: Vec<u64>,
    /// Inner edges of the baseline's decile bins (for PSI).
    pub decile_edges: Vec<f64>,
    /// Baseline counts in the decile bins.
    pub decile_counts: Vec<u64>,
    /// Number of distinct finite values.
    pub distinct: u64,
}

/// What a categorical feature's profile keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalProfile {
    /// Categories ordered by baseline count, most frequent first (ties by
    /// label); the missing category, when present, is among them.
    pub categories: Vec<String>,
    /// Baseline count of each category.
    pub counts: Vec<u64>,
}

/// Per-kind content of a feature profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FeatureDetail {
    /// A numeric feature.
    Numeric(NumericProfile),
    /// A categorical feature.
    Categorical(CategoricalProfile),
    /// A datetime or text feature: only counts are kept.
    Uncompared {
        /// Number of distinct non-missing values.
        distinct: u64,
    },
}

/// One feature of a baseline profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureProfile {
    /// Column name.
    pub name: String,
    /// Arrow data type, as text.
    pub data_type: String,
    /// The kind it is treated as.
    pub kind: FeatureKind,
    /// Rows.
    pub rows: u64,
    /// Missing values (null; NaN and infinities in numeric columns).
    pub missing: u64,
    /// Kind-specific content.
    pub detail: FeatureDetail,
}

/// A fitted baseline: fit once with [`BaselineProfile::fit`], then compare
/// any number of targets with [`BaselineProfile::compare`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineProfile {
    /// Rows in the baseline.
    pub rows: u64,
    /// Every baseline column and its Arrow type (for the schema diff).
    pub columns: Vec<(String, String)>,
    /// Profiled features, in column order.
    pub features: Vec<FeatureProfile>,
    /// The options it was fitted with.
    pub options: ProfileOptions,
    /// Baseline rows kept for the domain classifier (`None` when disabled).
    pub classifier: Option<ClassifierSample>,
    /// Where the rows came from, when the caller says (the engine reads no
    /// files).
    pub source: Option<DataSource>,
}

/// Where a profile's rows came from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DataSource {
    /// The input as given (a file, a directory, a glob).
    pub input: String,
    /// The files read.
    pub files: Vec<String>,
    /// The time column of the window, if any.
    pub time_column: Option<String>,
    /// Inclusive start of the window (RFC 3339), if any.
    pub from: Option<String>,
    /// Exclusive end of the window (RFC 3339), if any.
    pub to: Option<String>,
}

/// An error unless `batch` has the columns of `schema` (a builder's).
pub(crate) fn check_batch(schema: &Schema, batch: &RecordBatch) -> Result<()> {
    if batch.schema().fields() == schema.fields() {
        return Ok(());
    }
    Err(Error::SchemaMismatch {
        batch: 0,
        detail: format!(
            "{:?} against {:?}",
            batch.schema().fields(),
            schema.fields()
        ),
    })
}

/// The schema shared by all `batches` (`None` when there are none), or an
/// error naming the first batch that differs.
pub(crate) fn check_schemas(batches: &[RecordBatch]) -> Result<Option<std::sync::Arc<Schema>>> {
    let Some(first) = batches.first() else {
        return Ok(None);
    };
    let schema = first.schema();
    for (i, b) in batches.iter().enumerate().skip(1) {
        if b.schema().fields() != schema.fields() {
            return Err(Error::SchemaMismatch {
                batch: i,
                detail: format!("{:?} against {:?}", b.schema().fields(), schema.fields()),
            });
        }
    }
    Ok(Some(schema))
}

/// The shape of every profile computation: a state updated with record
/// batches and merged from parts (other threads, files or machines) in any
/// grouping, with the same result. [`ProfileBuilder`] and
/// [`TargetBuilder`] are accumulators; a query engine's aggregate can wrap
/// one.
pub trait Accumulator: Clone + Send + Sync {
    /// Adds the rows of `batch`.
    fn update(&mut self, batch: &RecordBatch) -> Result<()>;
    /// Adds the rows another part has seen.
    fn merge(&mut self, other: Self) -> Result<()>;
}

/// `empty` fed with `batches`: one part per thread, merged.
pub(crate) fn accumulate<A: Accumulator>(empty: A, batches: &[RecordBatch]) -> Result<A> {
    let per_task = batches.len().div_ceil(rayon::current_num_threads()).max(1);
    let parts = batches
        .par_chunks(per_task)
        .map(|chunk| {
            let mut part = empty.clone();
            for batch in chunk {
                part.update(batch)?;
            }
            Ok(part)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut all = empty;
    for part in parts {
        all.merge(part)?;
    }
    Ok(all)
}

impl BaselineProfile {
    /// Profiles the baseline `batches` (all with one schema): a
    /// [`ProfileBuilder`] per group of batches, on all threads, merged.
    pub fn fit(batches: &[RecordBatch], options: &ProfileOptions) -> Result<BaselineProfile> {
        let schema = check_schemas(batches)?.ok_or(Error::EmptyBaseline)?;
        accumulate(ProfileBuilder::new(schema, options)?, batches)?.finish()
    }

    /// The profile of feature `name`.
    pub fn feature(&self, name: &str) -> Option<&FeatureProfile> {
        self.features.iter().find(|f| f.name == name)
    }

    /// Serialises the profile: an 8-byte magic, the format version as a
    /// little-endian `u32`, a checksum of the rest (64-bit FNV-1a,
    /// little-endian), then the profile in postcard encoding.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let body = postcard::to_allocvec(self).map_err(|e| Error::ProfileFormat(e.to_string()))?;
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&PROFILE_FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&checksum(&body).to_le_bytes());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Reads a profile written by [`BaselineProfile::to_bytes`]; a file of
    /// another kind, a corrupt or truncated one, or one of a newer (or the
    /// first, unreleased) format is an error saying which.
    pub fn from_bytes(bytes: &[u8]) -> Result<BaselineProfile> {
        if bytes.len() < 12 || &bytes[..8] != MAGIC {
            return Err(Error::ProfileFormat(
                "not a tidewatch baseline profile (bad magic bytes)".into(),
            ));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version > PROFILE_FORMAT_VERSION {
            return Err(Error::ProfileVersion {
                found: version,
                supported: PROFILE_FORMAT_VERSION,
            });
        }
        if version < PROFILE_FORMAT_VERSION {
            return Err(Error::ProfileFormat(format!(
                "format version {version} is older than the version {PROFILE_FORMAT_VERSION} this tidewatch reads; profile the baseline again"
            )));
        }
        if bytes.len() < HEADER_LEN {
            return Err(Error::ProfileFormat("truncated header".into()));
        }
        let expected = u64::from_le_bytes(bytes[12..HEADER_LEN].try_into().expect("8 bytes"));
        let body = &bytes[HEADER_LEN..];
        if checksum(body) != expected {
            return Err(Error::ProfileFormat(
                "checksum mismatch: the file is corrupt or truncated".into(),
            ));
        }
        let (profile, rest) = postcard::take_from_bytes::<BaselineProfile>(body)
            .map_err(|e| Error::ProfileFormat(format!("corrupt: {e}")))?;
        if !rest.is_empty() {
            return Err(Error::ProfileFormat(format!(
                "{} trailing bytes",
                rest.len()
            )));
        }
        Ok(profile)
    }
}

/// 64-bit FNV-1a of `bytes`: the checksum of serialised profiles.
pub fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn count_distinct_sorted(sorted: &[f64]) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    1 + sorted.windows(2).filter(|w| w[0] != w[1]).count() as u64
}

/// A feature's profile from its accumulated state.
pub(crate) fn feature_profile(
    field: &arrow_schema::Field,
    state: ColumnState,
    rows: usize,
    options: &ProfileOptions,
) -> Result<FeatureProfile> {
    let name = field.name().as_str();
    let class = type_class(field.data_type());
    let data_type = field.data_type().to_string();
    let mut state = state;
    let (distinct, non_missing) = match &mut state {
        ColumnState::Numbers {
            values,
            missing,
            kept,
            ..
        } => {
            if let Some(kept) = kept {
                kept.prune(values);
            }
            sort_f64(values);
            (
                count_distinct_sorted(values) as usize,
                rows - *missing as usize,
            )
        }
        ColumnState::Labels(counts) => label_stats(counts, rows),
    };
    let kind = match options.kinds.get(name) {
        Some(k) => *k,
        None => infer(options.kind_rule, class, distinct, non_missing, rows),
    };
    let (missing, detail) = match (kind, state) {
        (
            FeatureKind::Numeric,
            ColumnState::Numbers {
                values,
                missing,
                kept,
                ..
            },
        ) => (
            missing,
            FeatureDetail::Numeric(numeric_profile(values, kept.map(|k| k.moments), options)?),
        ),
        (FeatureKind::Categorical, ColumnState::Labels(counts))
        | (
            FeatureKind::Categorical,
            ColumnState::Numbers {
                labels: Some(counts),
                ..
            },
        ) => {
            let missing = counts.get(MISSING_LABEL).copied().unwrap_or(0);
            let mut pairs: Vec<(String, u64)> = counts.into_iter().collect();
            pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let (categories, counts) = pairs.into_iter().unzip();
            (
                missing,
                FeatureDetail::Categorical(CategoricalProfile { categories, counts }),
            )
        }
        (FeatureKind::Datetime | FeatureKind::Text, _) => (
            (rows - non_missing) as u64,
            FeatureDetail::Uncompared {
                distinct: distinct as u64,
            },
        ),
        (kind, _) => {
            return Err(Error::KindMismatch {
                column: name.to_string(),
                data_type,
                kind: kind.to_string(),
            });
        }
    };
    Ok(FeatureProfile {
        name: name.to_string(),
        data_type,
        kind,
        rows: rows as u64,
        missing,
        detail,
    })
}

/// The profile of a numeric feature from its sorted values: all of them,
/// or in sketch mode a sample, with the `moments` of all of them.
fn numeric_profile(
    sorted: Vec<f64>,
    moments: Option<Moments>,
    options: &ProfileOptions,
) -> Result<NumericProfile> {
    let mut summary = NumericSummary::from_sorted(&sorted);
    if let Some(m) = &moments {
        m.apply(&mut summary);
    }
    let edges = bin_edges(&sorted, options.bins, Some(options.max_bins))
        .map_err(|e| Error::InvalidOptions(vec![e.to_string()]))?;
    let (counts, _, _) = counts_sorted(&sorted, &edges);
    let decile_edges = psi_quantile_edges(&sorted, 10);
    let decile_counts = quantile_bin_counts(&sorted, &decile_edges);
    Ok(NumericProfile {
        sampled: moments.is_some(),
        distinct: count_distinct_sorted(&sorted),
        sorted,
        summary,
        edges,
        counts,
        decile_edges,
        decile_counts,
    })
}

/// Kinds of all profiled features, by name.
pub fn kinds(profile: &BaselineProfile) -> BTreeMap<String, FeatureKind> {
    profile
        .features
        .iter()
        .map(|f| (f.name.clone(), f.kind))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Float64Array, Int64Array, StringArray};

    use super::*;

    fn batch() -> RecordBatch {
        let n: i64 = 300;
        RecordBatch::try_from_iter([
            (
                "x",
                Arc::new(Float64Array::from(
                    (0..n).map(|i| i as f64 * 0.5).collect::<Vec<_>>(),
                )) as _,
            ),
            (
                "k",
                Arc::new(Int64Array::from((0..n).map(|i| i % 4).collect::<Vec<_>>())) as _,
            ),
            (
                "c",
                Arc::new(StringArray::from(
                    (0..n)
                        .map(|i| {
                            if i % 3 == 0 {
                                None
                            } else {
                                Some(["a", "b"][(i % 2) as usize])
                            }
                        })
                        .collect::<Vec<_>>(),
                )) as _,
            ),
        ])
        .unwrap()
    }

    #[test]
    fn kinds_and_missing_category() {
        let p = BaselineProfile::fit(&[batch()], &ProfileOptions::default()).unwrap();
        assert_eq!(p.feature("x").unwrap().kind, FeatureKind::Numeric);
        assert_eq!(p.feature("k").unwrap().kind, FeatureKind::Numeric);
        let c = p.feature("c").unwrap();
        assert_eq!(c.kind, FeatureKind::Categorical);
        assert_eq!(c.missing, 100);
        let FeatureDetail::Categorical(cp) = &c.detail else {
            panic!()
        };
        assert!(cp.categories.contains(&MISSING_LABEL.to_string()));
        // The reference rule makes the 4-valued integer categorical.
        let opts = ProfileOptions {
            kind_rule: KindRule::Reference,
            ..Default::default()
        };
        let p = BaselineProfile::fit(&[batch()], &opts).unwrap();
        assert_eq!(p.feature("k").unwrap().kind, FeatureKind::Categorical);
    }

    #[test]
    fn serialises_and_loads_back_identical() {
        let p = BaselineProfile::fit(&[batch()], &ProfileOptions::default()).unwrap();
        let bytes = p.to_bytes().unwrap();
        assert_eq!(BaselineProfile::from_bytes(&bytes).unwrap(), p);
        // Truncated, corrupt and newer files are clear errors.
        assert!(matches!(
            BaselineProfile::from_bytes(&bytes[..bytes.len() / 2]),
            Err(Error::ProfileFormat(_))
        ));
        assert!(matches!(
            BaselineProfile::from_bytes(b"not a profile"),
            Err(Error::ProfileFormat(_))
        ));
        let mut newer = bytes.clone();
        newer[8..12].copy_from_slice(&(PROFILE_FORMAT_VERSION + 1).to_le_bytes());
        assert!(matches!(
            BaselineProfile::from_bytes(&newer),
            Err(Error::ProfileVersion { .. })
        ));
        // One flipped bit anywhere in the body fails the checksum.
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let err = BaselineProfile::from_bytes(&flipped)
            .unwrap_err()
            .to_string();
        assert!(err.contains("checksum"), "{err}");
    }

    #[test]
    fn unknown_columns_in_options_are_all_reported() {
        let opts = ProfileOptions {
            features: Some(vec!["nope".into()]),
            exclude: vec!["also_nope".into()],
            ..Default::default()
        };
        let err = BaselineProfile::fit(&[batch()], &opts).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("nope") && text.contains("also_nope"),
            "{text}"
        );
    }

    #[test]
    fn empty_baseline_is_an_error() {
        assert!(matches!(
            BaselineProfile::fit(&[], &ProfileOptions::default()),
            Err(Error::EmptyBaseline)
        ));
    }
}
