//! The `tidewatch` command: a thin layer over the engine (`tidewatch-core`),
//! the data layer (`tidewatch-data`) and the monitoring service
//! (`tidewatch-server`, whose API the monitoring commands call, in-process
//! or over HTTP). It parses arguments, calls the layers below and prints;
//! every error is reported once, here.
//!
//! Exit codes: 0 success; 1 bad input (a missing file, a malformed row, an
//! unknown option value); 2 an internal error (a panic: a bug, reported as
//! such); 3 drift found with `--fail-on-drift`.

mod args;
mod client;
mod collect;
mod monitoring;
mod output;
mod progress;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use arrow_array::RecordBatch;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use tidewatch_core::stats::correction::Correction;
use tidewatch_core::stats::kde::Bandwidth;
use tidewatch_core::{BaselineProfile, CompareOptions, ProfileBuilder, ProfileOptions};
use tidewatch_data::{Dataset, ReadOptions};

use args::{ProfileArgs, ReadArgs, parse_pairs, source_of};
use indicatif::ProgressBar;
use progress::Progress;

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
    /// Profile a baseline dataset once into a file that `compare --baseline` reads.
    Profile(Box<ProfileCommandArgs>),
    /// List the drift metrics with their kind, range and default threshold.
    Methods,
    /// Run the monitoring service: REST API, scheduler and run workers.
    Serve(monitoring::ServeArgs),
    /// Manage API tokens (on the data directory).
    Token {
        #[command(flatten)]
        place: monitoring::Place,
        #[command(subcommand)]
        command: monitoring::TokenCommand,
    },
    /// Manage datasets: named sources of baseline or target data.
    Dataset {
        #[command(flatten)]
        place: monitoring::Place,
        #[command(subcommand)]
        command: monitoring::DatasetCommand,
    },
    /// Manage baselines: profiles fitted once from a dataset, versioned.
    Baseline {
        #[command(flatten)]
        place: monitoring::Place,
        #[command(subcommand)]
        command: monitoring::BaselineCommand,
    },
    /// Manage monitors.
    Monitor {
        #[command(flatten)]
        place: monitoring::Place,
        #[command(subcommand)]
        command: monitoring::MonitorCommand,
    },
    /// Start, list, show and cancel runs.
    Run {
        #[command(flatten)]
        place: monitoring::Place,
        #[command(subcommand)]
        command: monitoring::RunCommand,
    },
    /// Run a monitor for every window of a date range.
    Backfill {
        #[command(flatten)]
        place: monitoring::Place,
        #[command(flatten)]
        args: monitoring::BackfillArgs,
    },
    /// A monitor's results per window.
    Results {
        #[command(flatten)]
        place: monitoring::Place,
        #[command(flatten)]
        args: monitoring::ResultsArgs,
    },
    /// Write a monitor's figures: the coefficient trend and contributions per window.
    Show {
        #[command(flatten)]
        place: monitoring::Place,
        #[command(flatten)]
        args: monitoring::ShowArgs,
    },
    /// Registered models: a version and its training dataset (its baseline).
    Model {
        #[command(flatten)]
        place: monitoring::Place,
        #[command(subcommand)]
        command: monitoring::ModelCommand,
    },
    /// Services that collect for a model version.
    Service {
        #[command(flatten)]
        place: monitoring::Place,
        #[command(subcommand)]
        command: monitoring::ServiceCommand,
    },
    /// Alert notifications: list them, or send a test.
    Alert {
        #[command(flatten)]
        place: monitoring::Place,
        #[command(subcommand)]
        command: monitoring::AlertCommand,
    },
    /// Collected records: import the reference's folder layout, export a window.
    Collect {
        #[command(flatten)]
        place: monitoring::Place,
        #[command(subcommand)]
        command: collect::CollectCommand,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// A per-feature table.
    Table,
    /// The whole report as JSON.
    Json,
    /// A Markdown document: verdict, features by contribution, schema differences.
    Markdown,
    /// One self-contained HTML page with charts (best with -o FILE).
    Html,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(clap::Args)]
struct CompareArgs {
    /// BASELINE TARGET, or only TARGET with --baseline: each a file, a
    /// directory or a glob of CSV, Parquet or NDJSON files.
    #[arg(required = true, num_args = 1..=2, value_name = "DATA")]
    inputs: Vec<String>,
    /// A baseline profiled by `tidewatch profile`, instead of baseline data.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Colour the verdicts: auto (when standard output is a terminal and
    /// NO_COLOR is unset), always, never.
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorArg,
    /// Also write figures (summary, contributions, one distribution chart
    /// per feature) into this folder, each as SVG and PNG.
    #[arg(long, value_name = "DIR")]
    figures: Option<PathBuf>,
    /// Write the report to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Start of the target's time window (RFC 3339 or a date, UTC, inclusive).
    #[arg(long)]
    from: Option<String>,
    /// End of the target's time window (exclusive).
    #[arg(long)]
    to: Option<String>,
    /// Start of the baseline's time window (inclusive).
    #[arg(long)]
    baseline_from: Option<String>,
    /// End of the baseline's time window (exclusive).
    #[arg(long)]
    baseline_to: Option<String>,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    profile: ProfileArgs,
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
    /// Skip the domain classifier (no drift coefficient or contributions).
    #[arg(long)]
    no_classifier: bool,
    /// Seeded splits of the domain classifier (the first is reported, all give the intervals).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Exit with code 3 when the dataset drifts (coefficient above the
    /// threshold, or the drifted share of features reaching --drift-share).
    #[arg(long)]
    fail_on_drift: bool,
}

#[derive(clap::Args)]
struct ProfileCommandArgs {
    /// The baseline data: a file, a directory or a glob of CSV, Parquet or NDJSON files.
    input: String,
    /// The profile file to write.
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// Start of the time window (RFC 3339 or a date, UTC, inclusive).
    #[arg(long)]
    from: Option<String>,
    /// End of the time window (exclusive).
    #[arg(long)]
    to: Option<String>,
    /// Keep no rows for the domain classifier (comparisons then report no
    /// drift coefficient).
    #[arg(long)]
    no_classifier: bool,
    #[command(flatten)]
    read: ReadArgs,
    #[command(flatten)]
    profile: ProfileArgs,
}

/// Feeds every batch of `dataset` to `consume`, as the files are read:
/// memory holds what `consume` keeps, not the data. Reports values that did
/// not parse (counted as missing) on stderr; no rows at all is an error.
fn stream(
    dataset: &Dataset,
    what: &str,
    bar: &ProgressBar,
    mut consume: impl FnMut(&RecordBatch) -> tidewatch_core::Result<()>,
) -> anyhow::Result<()> {
    let mut batches = dataset.batches();
    for batch in batches.by_ref() {
        let batch = batch.with_context(|| format!("reading the {what}"))?;
        consume(&batch).with_context(|| format!("profiling the {what}"))?;
        bar.inc(batch.num_rows() as u64);
    }
    bar.finish_and_clear();
    let report = batches.report();
    for (column, n) in &report.bad_values {
        eprintln!(
            "tidewatch: {what}: {n} values of column {column:?} did not parse and count as missing"
        );
    }
    if report.rows == 0 {
        return Err(batches.empty_error()).with_context(|| format!("reading the {what}"));
    }
    Ok(())
}

fn open(input: &str, options: &ReadOptions, what: &str) -> anyhow::Result<Dataset> {
    Dataset::open(input, options).with_context(|| format!("reading the {what}"))
}

/// Profiles the baseline `input`, batch by batch as the files are read.
fn fit_baseline(
    input: &str,
    read_options: &ReadOptions,
    options: &ProfileOptions,
    bar: &ProgressBar,
) -> anyhow::Result<BaselineProfile> {
    let dataset = open(input, read_options, "baseline")?;
    let mut builder =
        ProfileBuilder::new(dataset.schema(), options).context("profiling the baseline")?;
    stream(&dataset, "baseline", bar, |b| builder.update(b))?;
    let mut fitted = builder.finish().context("profiling the baseline")?;
    fitted.source = Some(source_of(&dataset, read_options));
    Ok(fitted)
}

fn profile(args: &ProfileCommandArgs) -> anyhow::Result<ExitCode> {
    let read_options = args
        .read
        .options(args.from.as_deref(), args.to.as_deref())?;
    let options = args.profile.options(!args.no_classifier)?;
    let progress = Progress::new();
    let fitted = fit_baseline(
        &args.input,
        &read_options,
        &options,
        &progress.rows("baseline"),
    )?;
    let bytes = fitted.to_bytes()?;
    write_atomically(&args.output, &bytes)?;
    let mut out = std::io::stdout().lock();
    output::profile_summary(&mut out, &args.output, &fitted, bytes.len())?;
    Ok(ExitCode::SUCCESS)
}

/// Writes every figure of `report` into `dir` as SVG and PNG (rendered on
/// all threads).
fn write_figures(
    dir: &std::path::Path,
    report: &tidewatch_core::DriftReport,
) -> anyhow::Result<()> {
    use rayon::prelude::*;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    tidewatch_report::figures::figures(report)
        .par_iter()
        .try_for_each(|figure| -> anyhow::Result<()> {
            let svg = dir.join(format!("{}.svg", figure.name));
            std::fs::write(&svg, &figure.svg)
                .with_context(|| format!("writing {}", svg.display()))?;
            let png = dir.join(format!("{}.png", figure.name));
            let bytes = tidewatch_report::figures::png(figure, 2.0)?;
            std::fs::write(&png, bytes).with_context(|| format!("writing {}", png.display()))?;
            Ok(())
        })
}

/// Writes `bytes` to a temporary file beside `path`, then renames it into
/// place: a reader never sees half a file.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("{}: not a file name", path.display()))?;
    let tmp = path.with_file_name(format!(".{}.tmp", name.to_string_lossy()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn compare(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let target_input = match (&args.baseline, args.inputs.as_slice()) {
        (Some(_), [target]) => target,
        (None, [_, target]) => target,
        (Some(_), _) => bail!("with --baseline FILE give only the target data"),
        (None, _) => {
            bail!("give the baseline data and the target data (or --baseline FILE and the target)")
        }
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
        seed: args.profile.seed,
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
    let target_options = args
        .read
        .options(args.from.as_deref(), args.to.as_deref())?;
    let baseline_name = match &args.baseline {
        Some(path) => path.display().to_string(),
        None => args.inputs[0].clone(),
    };
    let progress = Progress::new();
    let baseline_bar = match args.baseline {
        Some(_) => ProgressBar::hidden(),
        None => progress.rows("baseline"),
    };
    let target_bar = progress.rows("target");
    let seed = compare_options.seed;
    let (profile, target, target_changes) = match &args.baseline {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let profile = BaselineProfile::from_bytes(&bytes)
                .with_context(|| format!("reading {}", path.display()))?;
            let dataset = open(target_input, &target_options, "target")?;
            let mut target = profile
                .target(dataset.schema(), seed)
                .context("reading the target")?;
            stream(&dataset, "target", &target_bar, |b| target.update(b))?;
            (profile, target, dataset.schema_changes().to_vec())
        }
        None => {
            let read_options = args
                .read
                .options(args.baseline_from.as_deref(), args.baseline_to.as_deref())?;
            let options = args.profile.options(!args.no_classifier)?;
            // Both inputs are opened, then read, at the same time, so
            // neither waits on the other's reading. The target's accumulator
            // needs only the baseline's columns and options, not its rows.
            let (baseline, target) = std::thread::scope(|s| {
                let target = s.spawn(|| open(target_input, &target_options, "target"));
                let baseline = open(&args.inputs[0], &read_options, "baseline");
                (baseline, join(target))
            });
            let (baseline, target_data) = (baseline?, target?);
            let mut builder = ProfileBuilder::new(baseline.schema(), &options)
                .context("profiling the baseline")?;
            let mut target = builder
                .target(target_data.schema(), seed)
                .context("reading the target")?;
            let (b, t) = std::thread::scope(|s| {
                let t =
                    s.spawn(|| stream(&target_data, "target", &target_bar, |b| target.update(b)));
                let b = stream(&baseline, "baseline", &baseline_bar, |b| builder.update(b));
                (b, join(t))
            });
            b?;
            t?;
            let mut fitted = builder.finish().context("profiling the baseline")?;
            fitted.source = Some(source_of(&baseline, &read_options));
            (fitted, target, target_data.schema_changes().to_vec())
        }
    };
    let target = target.finish().context("reading the target")?;
    let mut report = profile
        .compare_target(target, &compare_options)
        .context("comparing the target with the baseline")?;
    report.schema.target_changes = target_changes;
    let color = match args.color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            use std::io::IsTerminal;
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let mut text = Vec::new();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut text, &report)?;
            writeln!(text)?;
        }
        Format::Table => output::table(&mut text, &report, color)?,
        Format::Markdown => {
            text.extend_from_slice(tidewatch_report::markdown::render(&report).as_bytes());
        }
        Format::Html => {
            let title = format!("{target_input} against {baseline_name}");
            text.extend_from_slice(tidewatch_report::html::render(&report, &title).as_bytes());
        }
    }
    if let Some(dir) = &args.figures {
        write_figures(dir, &report)?;
    }
    let mut out = std::io::stdout().lock();
    match &args.output {
        Some(path) => {
            write_atomically(path, &text)?;
            // The file holds the requested format; people see the table.
            output::table(&mut out, &report, color)?;
            writeln!(out, "report written to {}", path.display())?;
        }
        None => out.write_all(&text)?,
    }
    let drifted = report.dataset_drift || report.has_drift == Some(true);
    Ok(if args.fail_on_drift && drifted {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// The result of a scoped thread; its panic goes on unwinding here.
fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// The options of `compare` that profiling the baseline uses, as given on
/// the command line (they cannot apply to a stored baseline).
fn profile_options_given(matches: &clap::ArgMatches) -> Vec<String> {
    const FIXED: [&str; 12] = [
        "features",
        "exclude",
        "categorical",
        "numeric",
        "text",
        "kind_rule",
        "bins",
        "max_bins",
        "classifier_budget",
        "max_values",
        "baseline_from",
        "baseline_to",
    ];
    let Some(compare) = matches.subcommand_matches("compare") else {
        return Vec::new();
    };
    FIXED
        .iter()
        .filter(|id| compare.value_source(id) == Some(clap::parser::ValueSource::CommandLine))
        .map(|id| format!("--{}", id.replace('_', "-")))
        .collect()
}

fn run(cli: Cli, profile_options: &[String]) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Compare(args) => {
            if args.baseline.is_some() && !profile_options.is_empty() {
                bail!(
                    "{} cannot change a stored baseline: they apply when it is profiled (run `tidewatch profile` with them)",
                    profile_options.join(", ")
                );
            }
            compare(&args)
        }
        Command::Profile(args) => profile(&args),
        Command::Methods => {
            let mut out = std::io::stdout().lock();
            output::methods(&mut out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => monitoring::serve(&args),
        Command::Token { place, command } => monitoring::token(&place, &command),
        Command::Dataset { place, command } => monitoring::dataset(&place, &command),
        Command::Baseline { place, command } => monitoring::baseline(&place, &command),
        Command::Monitor { place, command } => monitoring::monitor(&place, &command),
        Command::Run { place, command } => monitoring::run(&place, &command),
        Command::Backfill { place, args } => monitoring::backfill(&place, &args),
        Command::Results { place, args } => monitoring::results(&place, &args),
        Command::Show { place, args } => monitoring::show(&place, &args),
        Command::Collect { place, command } => collect::collect(&place, &command),
        Command::Model { place, command } => monitoring::model(&place, &command),
        Command::Alert { place, command } => monitoring::alert(&place, &command),
        Command::Service { place, command } => monitoring::service(&place, &command),
    }
}

fn main() -> ExitCode {
    // Usage errors are bad input (exit 1); clap's own code would be 2, which
    // tidewatch keeps for internal errors.
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    let given = profile_options_given(&matches);
    // A panic is a bug in tidewatch, never the user's fault: say so, exit 2.
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "tidewatch: internal error: {info}\nThis is a bug in tidewatch, please report it with the command that caused it."
        );
    }));
    let outcome = match std::panic::catch_unwind(|| run(cli, &given)) {
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
