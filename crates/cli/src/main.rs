//! The `tidewatch` command: a thin layer over the engine (`tidewatch-core`)
//! and the data layer (`tidewatch-data`). It parses arguments, reads files,
//! calls the engine and prints; every error is reported once, here.
//!
//! Exit codes: 0 success; 1 bad input (a missing file, a malformed row, an
//! unknown option value); 2 an internal error (a panic: a bug, reported as
//! such); 3 drift found with `--fail-on-drift`.

mod output;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use tidewatch_core::stats::correction::Correction;
use tidewatch_core::stats::histogram::BinRule;
use tidewatch_core::stats::kde::Bandwidth;
use tidewatch_core::{BaselineProfile, CompareOptions, FeatureKind, KindRule, ProfileOptions};

#[derive(Parser)]
#[command(
    name = "tidewatch",
    version,
    about = "Data-drift monitoring for machine-learning models"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compare a target dataset with a baseline and report drift per feature.
    Compare(Box<CompareArgs>),
    /// List the drift metrics with their kind, range and default threshold.
    Methods,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// A per-feature table.
    Table,
    /// The whole report as JSON.
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum RuleArg {
    /// Numbers numeric; strings and booleans categorical; very many distinct strings text.
    Default,
    /// The reference system's: at most min(5% of rows, 100) distinct values is categorical.
    Reference,
}

#[derive(clap::Args)]
struct CompareArgs {
    /// Baseline CSV file (the model's training data).
    baseline: PathBuf,
    /// Target CSV file (the inputs the model saw).
    target: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Only these columns (comma separated).
    #[arg(long, value_delimiter = ',')]
    features: Option<Vec<String>>,
    /// Leave these columns out (comma separated).
    #[arg(long, value_delimiter = ',')]
    exclude: Vec<String>,
    /// Treat these columns as categorical (comma separated).
    #[arg(long, value_delimiter = ',')]
    categorical: Vec<String>,
    /// Treat these columns as numeric (comma separated).
    #[arg(long, value_delimiter = ',')]
    numeric: Vec<String>,
    /// Treat these columns as text: profiled, not compared (comma separated).
    #[arg(long, value_delimiter = ',')]
    text: Vec<String>,
    /// Column kind inference rule.
    #[arg(long, value_enum, default_value = "default")]
    kind_rule: RuleArg,
    /// Deciding metric for every feature it applies to (see `tidewatch methods`).
    #[arg(long)]
    method: Option<String>,
    /// Deciding metric for one feature: FEATURE=METRIC (repeatable).
    #[arg(long = "feature-method", value_name = "FEATURE=METRIC")]
    feature_methods: Vec<String>,
    /// Threshold for one feature: FEATURE=VALUE (repeatable).
    #[arg(long = "feature-threshold", value_name = "FEATURE=VALUE")]
    feature_thresholds: Vec<String>,
    /// Multiple-testing correction of p-value decisions: bh, bonferroni, none.
    #[arg(long, default_value = "bh")]
    correction: String,
    /// Histogram bins: auto, fd, sturges, doane, scott, rice, sqrt or a count.
    #[arg(long, default_value = "auto")]
    bins: String,
    /// Upper bound on histogram bins.
    #[arg(long, default_value_t = 100)]
    max_bins: usize,
    /// Share of drifted features at which the dataset counts as drifted.
    #[arg(long, default_value_t = 0.5)]
    drift_share: f64,
    /// KDE bandwidth: scott, silverman, or a factor multiplying the standard deviation.
    #[arg(long, default_value = "scott")]
    bandwidth: String,
    /// Drift-coefficient threshold: the dataset drifts when the domain
    /// classifier's coefficient is strictly above it.
    #[arg(long, default_value_t = 0.2)]
    threshold: f64,
    /// Seed of every random step (sampling, splits).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Skip the domain classifier (no drift coefficient or contributions).
    #[arg(long)]
    no_classifier: bool,
    /// Rows per side the domain classifier uses, at most.
    #[arg(long, default_value_t = 20_000)]
    classifier_budget: usize,
    /// Seeded splits of the domain classifier (the first is reported, all give the intervals).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Exit with code 3 when the dataset drifts (coefficient above the
    /// threshold, or the drifted share of features reaching --drift-share).
    #[arg(long)]
    fail_on_drift: bool,
}

fn parse_pairs(args: &[String], what: &str) -> anyhow::Result<Vec<(String, String)>> {
    args.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => bail!("{what} {a:?} is not of the form FEATURE=VALUE"),
        })
        .collect()
}

fn compare(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let mut kinds = BTreeMap::new();
    for (list, kind) in [
        (&args.categorical, FeatureKind::Categorical),
        (&args.numeric, FeatureKind::Numeric),
        (&args.text, FeatureKind::Text),
    ] {
        for c in list {
            if kinds.insert(c.clone(), kind).is_some() {
                bail!("column {c:?} is given more than one kind");
            }
        }
    }
    let bins = BinRule::parse(&args.bins).with_context(|| {
        format!(
            "--bins {:?}: expected auto, fd, sturges, doane, scott, rice, sqrt or a positive count",
            args.bins
        )
    })?;
    let profile_options = ProfileOptions {
        kind_rule: match args.kind_rule {
            RuleArg::Default => KindRule::Default,
            RuleArg::Reference => KindRule::Reference,
        },
        kinds,
        features: args.features.clone(),
        exclude: args.exclude.clone(),
        bins,
        max_bins: args.max_bins,
        classifier_budget: if args.no_classifier {
            0
        } else {
            args.classifier_budget
        },
        seed: args.seed,
    };
    let mut compare_options = CompareOptions {
        correction: Correction::parse(&args.correction).with_context(|| {
            format!(
                "--correction {:?}: expected bh, bonferroni or none",
                args.correction
            )
        })?,
        drift_share_threshold: args.drift_share,
        classifier: !args.no_classifier,
        seed: args.seed,
        threshold: args.threshold,
        repeats: args.repeats,
        bandwidth: match args.bandwidth.as_str() {
            "scott" => Bandwidth::Scott,
            "silverman" => Bandwidth::Silverman,
            other => match other.parse::<f64>() {
                Ok(f) if f > 0.0 && f.is_finite() => Bandwidth::Factor(f),
                _ => bail!("--bandwidth {other:?}: expected scott, silverman or a positive number"),
            },
        },
        method: args.method.clone(),
        ..CompareOptions::default()
    };
    for (k, v) in parse_pairs(&args.feature_methods, "--feature-method")? {
        compare_options.methods.insert(k, v);
    }
    for (k, v) in parse_pairs(&args.feature_thresholds, "--feature-threshold")? {
        let t: f64 = v
            .parse()
            .with_context(|| format!("--feature-threshold {k}={v}: {v:?} is not a number"))?;
        compare_options.thresholds.insert(k, t);
    }
    let csv = tidewatch_data::CsvOptions::default();
    let baseline =
        tidewatch_data::read_csv(&args.baseline, &csv).context("reading the baseline")?;
    let target = tidewatch_data::read_csv(&args.target, &csv).context("reading the target")?;
    let profile =
        BaselineProfile::fit(&baseline, &profile_options).context("profiling the baseline")?;
    let report = profile
        .compare(&target, &compare_options)
        .context("comparing the target with the baseline")?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        Format::Table => output::table(&mut out, &report)?,
    }
    let drifted = report.dataset_drift || report.has_drift == Some(true);
    Ok(if args.fail_on_drift && drifted {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Compare(args) => compare(&args),
        Command::Methods => {
            let mut out = std::io::stdout().lock();
            output::methods(&mut out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    // Usage errors are bad input (exit 1); clap's own code would be 2, which
    // tidewatch keeps for internal errors.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    // A panic is a bug in tidewatch, never the user's fault: say so, exit 2.
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "tidewatch: internal error: {info}\nThis is a bug in tidewatch, please report it with the command that caused it."
        );
    }));
    let outcome = match std::panic::catch_unwind(|| run(cli)) {
        Ok(outcome) => outcome,
        Err(_) => return ExitCode::from(2),
    };
    match outcome {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`tidewatch ... | head`) is not an error.
            let broken_pipe = err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>().map(std::io::Error::kind)
                    == Some(std::io::ErrorKind::BrokenPipe)
                    || e.downcast_ref::<serde_json::Error>()
                        .and_then(serde_json::Error::io_error_kind)
                        == Some(std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("tidewatch: error: {err:#}");
            ExitCode::from(1)
        }
    }
}
