//! Drift methods: one file, one unit each.
//!
//! A [`Method`] declares its metric name (the key in the report's `metrics`
//! object), whether it is a distance, a test statistic or a p-value, its
//! range, unit and log base, the column kinds it applies to and its default
//! threshold, and computes its value from the prepared [`Input`] of one
//! feature. [`registry`] lists them all; the user-facing method reference
//! (`docs/methods.md`) is generated from these declarations.
//!
//! The contract every method keeps is written in `docs/specs/method.md` and
//! checked for each of them by [`contract`]'s harness.

mod anderson_darling;
mod chi2;
pub mod contract;
mod cramer_von_mises;
mod energy;
mod euclidean;
mod hellinger;
mod jensen_shannon;
mod ks;
mod l_infinity;
mod normalized_wasserstein;
mod psi;
mod wasserstein;
mod z_test;

pub use anderson_darling::{AndersonDarlingPvalue, AndersonKsamp, anderson_ksamp};
pub use chi2::{
    Chi2Pvalue, Chi2Statistic, Chi2Test, Lambda, chi2_contingency, chisquare, power_divergence,
};
pub use cramer_von_mises::{CramerVonMises, CramerVonMisesPvalue, CvmMethod, cramervonmises_2samp};
pub use energy::EnergyDistance;
pub use euclidean::{EuclideanDistance, euclidean_distance};
pub use hellinger::{HellingerDistance, hellinger_distance};
pub use jensen_shannon::{JensenShannonDistance, jensen_shannon_distance};
pub use ks::{KsMode, KsPvalue, KsStatistic, KsTest, ks_2samp};
pub use l_infinity::{LInfinityDistance, l_infinity_distance};
pub use normalized_wasserstein::NormalizedWassersteinDistance;
pub use psi::{Psi, ZeroFill, psi, psi_quantile_edges, psi_sturges_combined, quantile_bin_counts};
pub use wasserstein::WassersteinDistance;
pub use z_test::{ZPvalue, two_proportion_z_test};

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::error::StatResult;
use crate::stats::cdf::distances_from_walk;
use crate::stats::kolmogorov::Alternative;
use crate::stats::pooled::{PooledWalk, walk};

/// What a metric's number is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// A distance or divergence: 0 for identical distributions, larger
    /// means more drift; drift when above the threshold.
    Distance,
    /// A test statistic without a drift decision of its own.
    Statistic,
    /// A p-value of a test of "same distribution": small means drift; drift
    /// when below the threshold.
    PValue,
}

/// The kind of feature a method compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    /// Numeric features.
    Numeric,
    /// Categorical features.
    Categorical,
    /// Categorical features with exactly two categories in the baseline.
    Binary,
}

/// A numeric feature, prepared for the methods: missing values removed.
#[derive(Debug, Clone, Copy)]
pub struct NumericInput<'a> {
    /// Baseline values, sorted ascending, all finite, non-empty.
    pub baseline: &'a [f64],
    /// Target values, sorted ascending, all finite, non-empty.
    pub target: &'a [f64],
    /// Sample standard deviation of the baseline.
    pub baseline_std: f64,
    /// Counts on the baseline's histogram bins, with underflow first and
    /// overflow last (bins fixed by the baseline).
    pub baseline_hist: &'a [u64],
    /// Target counts on the same bins.
    pub target_hist: &'a [u64],
    /// Baseline counts in the baseline's decile bins (for PSI).
    pub baseline_deciles: &'a [u64],
    /// Target counts in the same decile bins.
    pub target_deciles: &'a [u64],
    /// Intermediate results shared by the methods of this feature.
    pub shared: &'a Shared,
}

/// Intermediate results that several methods of one feature need (the one
/// merge of the sorted samples behind Wasserstein, energy, KS, Cramér-von
/// Mises and Anderson-Darling; the KS test behind its statistic and p-value;
/// the contingency test behind the chi-square statistic and p-value),
/// computed once, on first use.
#[derive(Debug, Default)]
pub struct Shared {
    walk: OnceLock<PooledWalk>,
    ks: OnceLock<KsTest>,
    chi2: OnceLock<StatResult<Chi2Test>>,
}

impl NumericInput<'_> {
    /// The one merge over the two sorted samples that the exact methods share.
    pub fn walk(&self) -> &PooledWalk {
        self.shared
            .walk
            .get_or_init(|| walk(self.baseline, self.target))
    }

    /// `(wasserstein, energy)` of the two sorted samples.
    pub fn distances(&self) -> (f64, f64) {
        distances_from_walk(self.walk())
    }

    /// The two-sided KS test in SciPy's `auto` mode.
    pub fn ks(&self) -> KsTest {
        *self
            .shared
            .ks
            .get_or_init(|| ks::ks_from_walk(self.walk(), Alternative::TwoSided, KsMode::Auto))
    }
}

impl CategoricalInput<'_> {
    /// The chi-square test of homogeneity of the baseline and target counts.
    pub fn homogeneity(&self) -> StatResult<Chi2Test> {
        self.shared
            .chi2
            .get_or_init(|| chi2::homogeneity(self.baseline, self.target))
            .clone()
    }
}

/// A categorical feature, prepared for the methods: counts aligned over the
/// baseline's categories (the missing category included when present),
/// followed by one bucket for categories the baseline never saw.
#[derive(Debug, Clone, Copy)]
pub struct CategoricalInput<'a> {
    /// Baseline counts per category; the last (unseen) bucket is 0.
    pub baseline: &'a [u64],
    /// Target counts per category.
    pub target: &'a [u64],
    /// Intermediate results shared by the methods of this feature.
    pub shared: &'a Shared,
}

/// One feature's data as the methods see it.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A numeric feature.
    Numeric(NumericInput<'a>),
    /// A categorical feature.
    Categorical(CategoricalInput<'a>),
}

/// A drift method: one metric of one feature.
pub trait Method: Send + Sync {
    /// The metric's key in reports, snake_case and unique.
    fn name(&self) -> &'static str;
    /// Other names accepted on the command line.
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// Distance, statistic or p-value.
    fn kind(&self) -> MetricKind;
    /// Kinds of feature it applies to.
    fn domains(&self) -> &'static [Domain];
    /// The range of its values.
    fn range(&self) -> &'static str;
    /// The unit of its values (and the log base, where one is used).
    fn unit(&self) -> &'static str;
    /// Default threshold for a drift decision; `None` when the metric is
    /// reported only (its scale depends on the data).
    fn default_threshold(&self) -> Option<f64>;
    /// One sentence: what it measures.
    fn summary(&self) -> &'static str;
    /// Formula, algorithm, citation and the reference implementation it
    /// agrees with.
    fn details(&self) -> &'static str;
    /// Computes the metric.
    fn compute(&self, input: &Input<'_>) -> StatResult<f64>;

    /// Whether `value` means drift at `threshold`: distances drift above it,
    /// p-values below it; statistics never decide.
    fn drifted(&self, value: f64, threshold: f64) -> bool {
        match self.kind() {
            MetricKind::Distance => value > threshold,
            MetricKind::PValue => value < threshold,
            MetricKind::Statistic => false,
        }
    }

    /// Whether the method applies to a feature of this domain.
    fn applies(&self, numeric: bool, binary: bool) -> bool {
        self.domains().iter().any(|d| match d {
            Domain::Numeric => numeric,
            Domain::Categorical => !numeric,
            Domain::Binary => !numeric && binary,
        })
    }
}

static REGISTRY: &[&dyn Method] = &[
    &WassersteinDistance,
    &EnergyDistance,
    &NormalizedWassersteinDistance,
    &KsStatistic,
    &KsPvalue,
    &CramerVonMisesPvalue,
    &AndersonDarlingPvalue,
    &Psi,
    &JensenShannonDistance,
    &HellingerDistance,
    &LInfinityDistance,
    &EuclideanDistance,
    &Chi2Statistic,
    &Chi2Pvalue,
    &ZPvalue,
];

/// Every drift method, in report order.
pub fn registry() -> &'static [&'static dyn Method] {
    REGISTRY
}

/// The method with this name or alias.
pub fn by_name(name: &str) -> Option<&'static dyn Method> {
    REGISTRY
        .iter()
        .copied()
        .find(|m| m.name() == name || m.aliases().contains(&name))
}

/// The user-facing method reference, generated from the registry.
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "# Drift methods\n\n\
         <!-- This file is generated from the method declarations in \
         crates/core/src/methods/. Do not edit it by hand: run \
         `TIDEWATCH_UPDATE_DOCS=1 cargo test -p tidewatch-core method_reference` -->\n\n\
         | metric | kind | applies to | range | unit | default threshold |\n\
         |---|---|---|---|---|---|\n",
    );
    for m in REGISTRY {
        let domains: Vec<&str> = m
            .domains()
            .iter()
            .map(|d| match d {
                Domain::Numeric => "numeric",
                Domain::Categorical => "categorical",
                Domain::Binary => "binary categorical",
            })
            .collect();
        let threshold = match (m.default_threshold(), m.kind()) {
            (Some(t), MetricKind::PValue) => format!("drift when < {t}"),
            (Some(t), _) => format!("drift when > {t}"),
            (None, _) => "reported only".to_string(),
        };
        let kind = match m.kind() {
            MetricKind::Distance => "distance",
            MetricKind::Statistic => "statistic",
            MetricKind::PValue => "p-value",
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            m.name(),
            kind,
            domains.join(", "),
            m.range(),
            m.unit(),
            threshold
        ));
    }
    for m in REGISTRY {
        out.push_str(&format!(
            "\n## `{}`\n\n{}\n\n{}\n",
            m.name(),
            m.summary(),
            m.details()
        ));
        if !m.aliases().is_empty() {
            out.push_str(&format!("\nAliases: {}.\n", m.aliases().join(", ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_and_aliases_are_unique() {
        let mut seen = HashSet::new();
        for m in registry() {
            assert!(seen.insert(m.name()), "duplicate name {}", m.name());
            for a in m.aliases() {
                assert!(seen.insert(a), "duplicate alias {a}");
            }
        }
    }

    #[test]
    fn method_reference_is_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/methods.md");
        let generated = reference_markdown();
        if std::env::var_os("TIDEWATCH_UPDATE_DOCS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "docs/methods.md is stale: run TIDEWATCH_UPDATE_DOCS=1 cargo test -p tidewatch-core method_reference"
        );
    }
}
