//! Argument groups shared by commands, and their translation into the
//! options of the data layer and the engine.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use tidewatch_core::stats::histogram::BinRule;
use tidewatch_core::{DataSource, FeatureKind, KindRule, ProfileOptions};
use tidewatch_data::window::format_instant;
use tidewatch_data::{BadValues, ColumnType, Dataset, ReadOptions, TimeWindow};

#[derive(Clone, Copy, ValueEnum)]
pub enum RuleArg {
    /// Numbers numeric; strings and booleans categorical; very many distinct strings text.
    Default,
    /// The reference system's: at most min(5% of rows, 100) distinct values is categorical.
    Reference,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum BadValuesArg {
    /// Stop with an error naming the file, line and column.
    Fail,
    /// Count the value as missing, and report how many.
    Missing,
}

/// How files are read.
#[derive(Args, Clone)]
pub struct ReadArgs {
    /// Input format (default: from each file's name: .csv, .parquet,
    /// .json/.jsonl/.ndjson, optionally .gz or .zst).
    #[arg(long, value_name = "csv|parquet|ndjson")]
    pub input_format: Option<String>,
    /// CSV field delimiter.
    #[arg(long, default_value = ",")]
    pub delimiter: char,
    /// CSV quote character.
    #[arg(long, default_value = "\"")]
    pub quote: char,
    /// CSV files have no header row (columns are column_1, column_2, ...).
    #[arg(long)]
    pub no_header: bool,
    /// Rows of the first file read to infer column types (0: all rows).
    #[arg(long, default_value_t = 100_000)]
    pub infer_rows: usize,
    /// Read a column as a type: COLUMN=integer|float|string|boolean|timestamp (repeatable).
    #[arg(long = "column-type", value_name = "COLUMN=TYPE")]
    pub column_types: Vec<String>,
    /// What a value that does not parse as its column's type becomes.
    #[arg(long, value_enum, default_value = "fail")]
    pub bad_values: BadValuesArg,
    /// The time column that --from and --to cut on.
    #[arg(long)]
    pub time_column: Option<String>,
}

impl ReadArgs {
    /// Read options with a window `[from, to)` on the time column.
    pub fn options(&self, from: Option<&str>, to: Option<&str>) -> anyhow::Result<ReadOptions> {
        let mut column_types = BTreeMap::new();
        for (column, t) in parse_pairs(&self.column_types, "--column-type")? {
            let t: ColumnType = t
                .parse()
                .map_err(|e: String| anyhow::anyhow!("--column-type {column}={t}: {e}"))?;
            column_types.insert(column, t);
        }
        let window = match (&self.time_column, from.is_some() || to.is_some()) {
            (Some(column), _) => Some(TimeWindow::parse(column, from, to)?),
            (None, true) => bail!("--from and --to need --time-column to say which column is time"),
            (None, false) => None,
        };
        if !self.delimiter.is_ascii() {
            bail!(
                "--delimiter {:?}: must be one ASCII character",
                self.delimiter
            );
        }
        Ok(ReadOptions {
            format: self
                .input_format
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e: String| anyhow::anyhow!("--input-format: {e}"))?,
            csv: tidewatch_data::csv::CsvOptions {
                delimiter: self.delimiter as u8,
                quote: self.quote as u8,
                header: !self.no_header,
            },
            infer_rows: (self.infer_rows > 0).then_some(self.infer_rows),
            column_types,
            window,
            bad_values: match self.bad_values {
                BadValuesArg::Fail => BadValues::Fail,
                BadValuesArg::Missing => BadValues::Missing,
            },
            ..ReadOptions::default()
        })
    }
}

/// How a baseline is profiled.
#[derive(Args, Clone)]
pub struct ProfileArgs {
    /// Only these columns (comma separated).
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Leave these columns out (comma separated).
    #[arg(long, value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Treat these columns as categorical (comma separated).
    #[arg(long, value_delimiter = ',')]
    pub categorical: Vec<String>,
    /// Treat these columns as numeric (comma separated).
    #[arg(long, value_delimiter = ',')]
    pub numeric: Vec<String>,
    /// Treat these columns as text: profiled, not compared (comma separated).
    #[arg(long, value_delimiter = ',')]
    pub text: Vec<String>,
    /// Column kind inference rule.
    #[arg(long, value_enum, default_value = "default")]
    pub kind_rule: RuleArg,
    /// Histogram bins: auto, fd, sturges, doane, scott, rice, sqrt or a count.
    #[arg(long, default_value = "auto")]
    pub bins: String,
    /// Upper bound on histogram bins.
    #[arg(long, default_value_t = 100)]
    pub max_bins: usize,
    /// Rows per side the domain classifier uses, at most.
    #[arg(long, default_value_t = 20_000)]
    pub classifier_budget: usize,
    /// Seed of every random step (sampling, splits).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Sketch mode: keep at most N values per numeric feature (a seeded
    /// sample; count, mean, moments, min and max stay exact), so memory no
    /// longer grows with the rows. Default: keep every value (exact).
    #[arg(long, value_name = "N")]
    pub max_values: Option<usize>,
}

impl ProfileArgs {
    /// The engine's profile options; `classifier` false keeps no rows for it.
    pub fn options(&self, classifier: bool) -> anyhow::Result<ProfileOptions> {
        let mut kinds = BTreeMap::new();
        for (list, kind) in [
            (&self.categorical, FeatureKind::Categorical),
            (&self.numeric, FeatureKind::Numeric),
            (&self.text, FeatureKind::Text),
        ] {
            for c in list {
                if kinds.insert(c.clone(), kind).is_some() {
                    bail!("column {c:?} is given more than one kind");
                }
            }
        }
        let bins = BinRule::parse(&self.bins).with_context(|| {
            format!(
                "--bins {:?}: expected auto, fd, sturges, doane, scott, rice, sqrt or a positive count",
                self.bins
            )
        })?;
        Ok(ProfileOptions {
            kind_rule: match self.kind_rule {
                RuleArg::Default => KindRule::Default,
                RuleArg::Reference => KindRule::Reference,
            },
            kinds,
            features: self.features.clone(),
            exclude: self.exclude.clone(),
            bins,
            max_bins: self.max_bins,
            classifier_budget: if classifier {
                self.classifier_budget
            } else {
                0
            },
            seed: self.seed,
            max_values: self.max_values,
        })
    }
}

/// Splits `KEY=VALUE` arguments.
pub fn parse_pairs(args: &[String], what: &str) -> anyhow::Result<Vec<(String, String)>> {
    args.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => bail!("{what} {a:?} is not of the form NAME=VALUE"),
        })
        .collect()
}

/// What a profile records of the dataset it was fitted on.
pub fn source_of(dataset: &Dataset, options: &ReadOptions) -> DataSource {
    let window = options.window.as_ref();
    DataSource {
        input: dataset.input.clone(),
        files: dataset
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect(),
        time_column: window.map(|w| w.column.clone()),
        from: window.and_then(|w| w.from).map(format_instant),
        to: window.and_then(|w| w.to).map(format_instant),
    }
}
