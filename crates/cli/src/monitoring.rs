//! The monitoring commands: `serve`, `token`, `dataset`, `baseline`,
//! `monitor`, `run`, `backfill`, `results` and `show`. Each builds an API
//! request and prints the answer; the API does the work, in-process on the
//! data directory or on a server with `--server`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use axum::http::Method;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::client::Client;

/// Where the monitoring commands work.
#[derive(Args, Clone)]
pub struct Place {
    /// The data directory (store and baseline files), used when no
    /// --server is given.
    #[arg(
        long,
        env = "TIDEWATCH_HOME",
        default_value = "./tidewatch-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// A tidewatch server to work on instead of the data directory.
    #[arg(long, env = "TIDEWATCH_SERVER", value_name = "URL", global = true)]
    pub server: Option<String>,
    /// The server's bearer token.
    #[arg(long, env = "TIDEWATCH_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
}

impl Place {
    pub(crate) async fn client(&self) -> anyhow::Result<Client> {
        match &self.server {
            Some(url) => Client::remote(url, self.token.clone()),
            None => Client::local(&self.data_dir).await,
        }
    }
}

/// `tidewatch serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: a free port, printed on start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: std::net::SocketAddr,
    /// Runs computed at once.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Seconds between the scheduler's looks for complete windows.
    #[arg(long, default_value_t = 60)]
    pub schedule_every: u64,
    /// Seconds between compactions of collected records into Parquet.
    #[arg(long, default_value_t = 60)]
    pub compact_every: u64,
    /// MiB the collector leaves free on its disk: below that, batches get 429.
    #[arg(long, default_value_t = 100)]
    pub collect_min_free_mb: u64,
    /// Days the collector remembers a batch's Idempotency-Key: a batch sent
    /// again later than that is stored again.
    #[arg(long, default_value_t = 7)]
    pub collect_key_days: u64,
    /// The key webhook alerts are signed with (HMAC-SHA256; default: the
    /// data directory's `webhook-secret`, made on first start).
    #[arg(long, env = "TIDEWATCH_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    #[command(flatten)]
    pub mail: MailArgs,
    /// The data directory.
    #[arg(long, env = "TIDEWATCH_HOME", default_value = "./tidewatch-data")]
    pub data_dir: PathBuf,
}

/// How alert email goes out (`serve`, and `alert test` on a data directory).
#[derive(Args, Clone)]
pub struct MailArgs {
    /// SMTP server for alert email (none: email alerts fail, saying so).
    #[arg(long, env = "TIDEWATCH_SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// Its port.
    #[arg(long, env = "TIDEWATCH_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,
    /// starttls, tls (implicit, port 465) or plain.
    #[arg(long, env = "TIDEWATCH_SMTP_TLS", default_value = "starttls")]
    pub smtp_tls: String,
    /// Login user, if the server wants one.
    #[arg(long, env = "TIDEWATCH_SMTP_USER")]
    pub smtp_user: Option<String>,
    /// Login password.
    #[arg(long, env = "TIDEWATCH_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// The sender's address.
    #[arg(
        long,
        env = "TIDEWATCH_SMTP_FROM",
        default_value = "tidewatch@localhost"
    )]
    pub smtp_from: String,
    /// This server's address as users reach it, for links in alerts.
    #[arg(long, env = "TIDEWATCH_PUBLIC_URL")]
    pub public_url: Option<String>,
}

impl MailArgs {
    /// The SMTP settings, if a host is given.
    pub fn smtp(&self) -> anyhow::Result<Option<tidewatch_server::alerts::Smtp>> {
        let Some(host) = &self.smtp_host else {
            return Ok(None);
        };
        Ok(Some(tidewatch_server::alerts::Smtp {
            host: host.clone(),
            port: self.smtp_port,
            tls: self
                .smtp_tls
                .parse()
                .map_err(|e: String| anyhow::anyhow!("--smtp-tls: {e}"))?,
            login: match (&self.smtp_user, &self.smtp_password) {
                (Some(u), Some(p)) => Some((u.clone(), p.clone())),
                (None, None) => None,
                _ => bail!("--smtp-user and --smtp-password go together"),
            },
            from: self.smtp_from.clone(),
        }))
    }
}

/// `tidewatch token ...` (on the data directory only: tokens are made by
/// whoever owns it).
#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret (shown this once).
    Create {
        /// Its name.
        name: String,
        /// What it may do: read (GET only), admin, or ingest (send records
        /// to one --service, nothing else).
        #[arg(long, default_value = "read")]
        role: String,
        /// The service an ingest token sends records to.
        #[arg(long)]
        service: Option<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token.
    Revoke {
        /// Its name.
        name: String,
    },
}

/// `tidewatch dataset ...`.
#[derive(Subcommand)]
pub enum DatasetCommand {
    /// Name a source of data: a file, directory, glob or URL.
    Create {
        /// Its name.
        name: String,
        /// What to read.
        input: String,
        /// csv, parquet or ndjson (default: from the file names).
        #[arg(long)]
        format: Option<String>,
        /// The timestamp column windows cut on (required of a monitor's target).
        #[arg(long)]
        time_column: Option<String>,
        /// Read options as JSON: {"delimiter": ";", "column_types": {...}, ...}.
        #[arg(long, value_name = "JSON")]
        options: Option<String>,
    },
    /// List datasets.
    List,
    /// Show one dataset.
    Show {
        /// Its name.
        name: String,
    },
}

/// `tidewatch baseline ...`.
#[derive(Subcommand)]
pub enum BaselineCommand {
    /// Fit the next version of a baseline from a dataset, once.
    Create {
        /// Its name.
        name: String,
        /// The dataset profiled.
        #[arg(long)]
        dataset: String,
        /// Start of the window on the dataset's time column (inclusive).
        #[arg(long)]
        from: Option<String>,
        /// End of the window (exclusive).
        #[arg(long)]
        to: Option<String>,
        /// Only these columns (comma separated).
        #[arg(long, value_delimiter = ',')]
        features: Option<Vec<String>>,
        /// Leave these columns out (comma separated).
        #[arg(long, value_delimiter = ',')]
        exclude: Vec<String>,
        /// Treat these columns as categorical (comma separated).
        #[arg(long, value_delimiter = ',')]
        categorical: Vec<String>,
        /// Rows per side the domain classifier uses, at most.
        #[arg(long)]
        classifier_budget: Option<usize>,
        /// Sketch mode: keep at most N values per numeric feature.
        #[arg(long, value_name = "N")]
        max_values: Option<usize>,
        /// Seed of every random step.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// List every version of every baseline.
    List,
    /// Show a baseline version with its features.
    Show {
        /// Its name.
        name: String,
        /// The version (default: the newest).
        #[arg(long)]
        version: Option<i64>,
    },
}

/// The changeable fields of a monitor.
#[derive(Args, Default)]
pub struct MonitorFields {
    /// The baseline compared with.
    #[arg(long)]
    baseline: Option<String>,
    /// The baseline's version (default: the newest, pinned at creation).
    #[arg(long)]
    baseline_version: Option<i64>,
    /// The target dataset (with a time column).
    #[arg(long)]
    target: Option<String>,
    /// Features compared (comma separated; default: all common columns).
    #[arg(long, value_delimiter = ',')]
    features: Option<Vec<String>>,
    /// Drift-coefficient threshold in [0, 1] (default 0.2).
    #[arg(long)]
    threshold: Option<f64>,
    /// Alert this address on drift (repeatable).
    #[arg(long = "email", value_name = "ADDRESS")]
    emails: Vec<String>,
    /// POST to this URL on drift (repeatable).
    #[arg(long = "webhook", value_name = "URL")]
    webhooks: Vec<String>,
    /// Deciding metric for one feature: FEATURE=METRIC (repeatable).
    #[arg(long = "feature-method", value_name = "FEATURE=METRIC")]
    feature_methods: Vec<String>,
    /// Threshold for one feature: FEATURE=VALUE (repeatable).
    #[arg(long = "feature-threshold", value_name = "FEATURE=VALUE")]
    feature_thresholds: Vec<String>,
    /// Alert only when N of the last M windows drifted: N/M (e.g. 2/3).
    #[arg(long, value_name = "N/M")]
    alert_persistence: Option<String>,
    /// The services compared, for a monitor made from a model (comma separated).
    #[arg(long, value_delimiter = ',')]
    services: Option<Vec<String>>,
}

impl MonitorFields {
    fn body(&self) -> anyhow::Result<Value> {
        let mut body = json!({});
        if let Some(v) = &self.baseline {
            body["baseline"] = json!(v);
        }
        if let Some(v) = self.baseline_version {
            body["baseline_version"] = json!(v);
        }
        if let Some(v) = &self.target {
            body["target"] = json!(v);
        }
        if let Some(v) = &self.services {
            body["services"] = json!(v);
        }
        if let Some(v) = &self.alert_persistence {
            let (n, m) = v
                .split_once('/')
                .and_then(|(n, m)| {
                    Some((n.trim().parse::<u32>().ok()?, m.trim().parse::<u32>().ok()?))
                })
                .with_context(|| format!("--alert-persistence {v:?}: expected N/M, such as 2/3"))?;
            body["alert_persistence"] = json!({"drifted": n, "of": m});
        }
        if let Some(v) = &self.features {
            body["features"] = json!(v);
        }
        if let Some(v) = self.threshold {
            body["threshold"] = json!(v);
        }
        if !self.emails.is_empty() || !self.webhooks.is_empty() {
            let routes: Vec<Value> = self
                .emails
                .iter()
                .map(|e| json!({"type": "email", "to": e}))
                .chain(
                    self.webhooks
                        .iter()
                        .map(|u| json!({"type": "webhook", "to": u})),
                )
                .collect();
            body["alerts"] = json!(routes);
        }
        if !self.feature_methods.is_empty() {
            let pairs = crate::args::parse_pairs(&self.feature_methods, "--feature-method")?;
            body["feature_methods"] = json!(
                pairs
                    .into_iter()
                    .collect::<std::collections::BTreeMap<_, _>>()
            );
        }
        if !self.feature_thresholds.is_empty() {
            let mut map = serde_json::Map::new();
            for (k, v) in crate::args::parse_pairs(&self.feature_thresholds, "--feature-threshold")?
            {
                let t: f64 = v.parse().with_context(|| {
                    format!("--feature-threshold {k}={v}: {v:?} is not a number")
                })?;
                map.insert(k, json!(t));
            }
            body["feature_thresholds"] = Value::Object(map);
        }
        Ok(body)
    }
}

/// `tidewatch monitor ...`.
#[derive(Subcommand)]
pub enum MonitorCommand {
    /// Create a monitor.
    Create {
        /// Its name: 1-36 letters, digits, '_' or '-', starting with a letter or digit.
        name: String,
        /// Window length: day, week or month.
        #[arg(long)]
        frequency: String,
        /// Hours after a window ends before its data counts as complete (0-1000).
        #[arg(long, default_value_t = 0)]
        latency: i64,
        /// Create it with its schedule disabled.
        #[arg(long)]
        disabled: bool,
        /// Make it from this registered model (with --model-version and
        /// --services): the model's baseline, its services as targets.
        #[arg(long)]
        model: Option<String>,
        /// The model's version.
        #[arg(long)]
        model_version: Option<String>,
        #[command(flatten)]
        fields: MonitorFields,
    },
    /// Show a monitor.
    Get {
        /// Its name.
        name: String,
    },
    /// List monitors.
    List,
    /// Change a monitor's fields (name, frequency and latency are fixed).
    Update {
        /// Its name.
        name: String,
        #[command(flatten)]
        fields: MonitorFields,
    },
    /// Delete a monitor: every later operation on it fails.
    Delete {
        /// Its name.
        name: String,
    },
    /// Enable its schedule.
    Enable {
        /// Its name.
        name: String,
    },
    /// Disable its schedule.
    Disable {
        /// Its name.
        name: String,
    },
}

/// `tidewatch run ...`.
#[derive(Subcommand)]
pub enum RunCommand {
    /// Run a monitor now for the window holding DATE (an adhoc run).
    Start {
        /// The monitor.
        monitor: String,
        /// A day of the window (YYYY-MM-DD).
        date: String,
        /// Only these features (comma separated).
        #[arg(long, value_delimiter = ',')]
        features: Option<Vec<String>>,
        /// Threshold for this run.
        #[arg(long)]
        threshold: Option<f64>,
        /// Only these of the monitor's services (comma separated).
        #[arg(long, value_delimiter = ',')]
        services: Option<Vec<String>>,
        /// Queue the run and return (with --server; locally runs execute here).
        #[arg(long)]
        no_wait: bool,
    },
    /// List a monitor's runs.
    List {
        /// The monitor.
        monitor: String,
        /// Only runs in this state: queued, running, succeeded, failed, cancelled.
        #[arg(long)]
        state: Option<String>,
    },
    /// Show one run.
    Get {
        /// The run id.
        id: i64,
    },
    /// Cancel a queued or running run.
    Cancel {
        /// The run id.
        id: i64,
    },
}

/// `tidewatch backfill`.
#[derive(Args)]
pub struct BackfillArgs {
    /// The monitor.
    monitor: String,
    /// First day (YYYY-MM-DD), inclusive.
    from: String,
    /// Last day, inclusive.
    to: String,
    /// Only these of the monitor's services (comma separated).
    #[arg(long, value_delimiter = ',')]
    services: Option<Vec<String>>,
    /// Queue the runs and return (with --server; locally runs execute here).
    #[arg(long)]
    no_wait: bool,
}

/// `tidewatch results`.
#[derive(Args)]
pub struct ResultsArgs {
    /// The monitor.
    monitor: String,
    /// Start of the range (date or RFC 3339; default: the last 10 periods).
    #[arg(long)]
    from: Option<String>,
    /// End of the range (exclusive).
    #[arg(long)]
    to: Option<String>,
    /// Count adhoc runs too.
    #[arg(long)]
    include_adhoc: bool,
    /// One run's results.
    #[arg(long)]
    run: Option<i64>,
    /// Print the whole answer as JSON.
    #[arg(long)]
    json: bool,
}

/// `tidewatch show`.
#[derive(Args)]
pub struct ShowArgs {
    /// The monitor.
    monitor: String,
    /// Folder the figures are written to.
    #[arg(short, long, default_value = "figures")]
    output: PathBuf,
    /// Start of the range (date or RFC 3339; default: the last 10 periods).
    #[arg(long)]
    from: Option<String>,
    /// End of the range (exclusive).
    #[arg(long)]
    to: Option<String>,
    /// Also one metric trend per feature.
    #[arg(long)]
    details: bool,
    /// The metric of the detail trends (default: each feature's deciding metric).
    #[arg(long)]
    metric: Option<String>,
    /// Only this service (a monitor made from a model; default: each, in
    /// a folder of its own).
    #[arg(long)]
    service: Option<String>,
}

/// A path segment, percent-encoded.
pub(crate) fn seg(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A query string of the pairs that have values.
pub(crate) fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", seg(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

pub(crate) fn print_json(v: &Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// `tidewatch serve`.
pub fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = tidewatch_store::Store::open(&args.data_dir)
            .await
            .with_context(|| format!("opening the data directory {}", args.data_dir.display()))?;
        let config = tidewatch_server::service::ServeConfig {
            bind: args.bind,
            workers: args.workers,
            schedule_every: std::time::Duration::from_secs(args.schedule_every.max(1)),
            compact_every: std::time::Duration::from_secs(args.compact_every.max(1)),
            collect_min_free_bytes: args.collect_min_free_mb.saturating_mul(1 << 20),
            collect_key_retention: std::time::Duration::from_secs(
                args.collect_key_days.saturating_mul(24 * 3600),
            ),
            webhook_secret: args.webhook_secret.clone(),
            smtp: args.mail.smtp()?,
            public_url: args.mail.public_url.clone(),
        };
        let dir = args.data_dir.display().to_string();
        tidewatch_server::service::serve(store, config, |addr| {
            // Tests and scripts read this line to find the port.
            println!("tidewatch serve: listening on http://{addr} (data directory {dir})");
            let _ = std::io::stdout().flush();
        })
        .await
        .context("serving")?;
        Ok(ExitCode::SUCCESS)
    })
}

/// `tidewatch token`.
pub fn token(place: &Place, command: &TokenCommand) -> anyhow::Result<ExitCode> {
    if place.server.is_some() {
        bail!("tokens are managed on the data directory (--data-dir), not through a server");
    }
    runtime()?.block_on(async {
        let store = tidewatch_store::Store::open(&place.data_dir)
            .await
            .with_context(|| format!("opening the data directory {}", place.data_dir.display()))?;
        match command {
            TokenCommand::Create {
                name,
                role,
                service,
            } => {
                let role: tidewatch_store::Role = role
                    .parse()
                    .map_err(|e: String| anyhow::anyhow!("--role: {e}"))?;
                let (_, secret) = match (role, service) {
                    (tidewatch_store::Role::Ingest, Some(s)) => {
                        store.create_ingest_token(name, s).await?
                    }
                    (tidewatch_store::Role::Ingest, None) => {
                        bail!("--role ingest needs --service: the service the token sends to")
                    }
                    (_, Some(_)) => bail!("--service is for --role ingest only"),
                    (role, None) => store.create_token(name, role).await?,
                };
                eprintln!(
                    "token {name:?} ({}) created; its secret is shown this once:",
                    role.as_str()
                );
                println!("{secret}");
            }
            TokenCommand::List => {
                for t in store.tokens().await? {
                    let state = if t.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "live"
                    };
                    println!(
                        "{}\t{}\t{}\t{}",
                        t.name,
                        t.role.as_str(),
                        state,
                        t.created_at.to_rfc3339()
                    );
                }
            }
            TokenCommand::Revoke { name } => {
                store.revoke_token(name).await?;
                println!("token {name:?} revoked");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `tidewatch dataset`.
pub fn dataset(place: &Place, command: &DatasetCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let client = place.client().await?;
        let answer = match command {
            DatasetCommand::Create {
                name,
                input,
                format,
                time_column,
                options,
            } => {
                let options: Value = match options {
                    Some(text) => serde_json::from_str(text)
                        .with_context(|| format!("--options {text:?} is not JSON"))?,
                    None => json!({}),
                };
                let input = absolute(input);
                client
                    .call(
                        Method::POST,
                        "/datasets",
                        Some(json!({"name": name, "input": input, "format": format,
                                    "time_column": time_column, "options": options})),
                    )
                    .await?
            }
            DatasetCommand::List => client.call(Method::GET, "/datasets", None).await?,
            DatasetCommand::Show { name } => {
                client
                    .call(Method::GET, &format!("/datasets/{}", seg(name)), None)
                    .await?
            }
        };
        print_json(&answer)?;
        Ok(ExitCode::SUCCESS)
    })
}

/// A local path made absolute (a server or a later command may run in
/// another folder); URLs and absolute paths stay as they are.
fn absolute(input: &str) -> String {
    if input.contains("://") || std::path::Path::new(input).is_absolute() {
        return input.to_string();
    }
    match std::env::current_dir() {
        Ok(cwd) => cwd.join(input).display().to_string(),
        Err(_) => input.to_string(),
    }
}

/// `tidewatch baseline`.
pub fn baseline(place: &Place, command: &BaselineCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let client = place.client().await?;
        let answer = match command {
            BaselineCommand::Create {
                name,
                dataset,
                from,
                to,
                features,
                exclude,
                categorical,
                classifier_budget,
                max_values,
                seed,
            } => {
                let mut body = json!({"name": name, "dataset": dataset});
                for (k, v) in [("from", from), ("to", to)] {
                    if let Some(v) = v {
                        body[k] = json!(v);
                    }
                }
                if let Some(f) = features {
                    body["features"] = json!(f);
                }
                if !exclude.is_empty() {
                    body["exclude"] = json!(exclude);
                }
                if !categorical.is_empty() {
                    body["categorical"] = json!(categorical);
                }
                for (k, v) in [
                    ("classifier_budget", classifier_budget),
                    ("max_values", max_values),
                ] {
                    if let Some(v) = v {
                        body[k] = json!(v);
                    }
                }
                if let Some(s) = seed {
                    body["seed"] = json!(s);
                }
                client.call(Method::POST, "/baselines", Some(body)).await?
            }
            BaselineCommand::List => client.call(Method::GET, "/baselines", None).await?,
            BaselineCommand::Show { name, version } => {
                let q = query(&[("version", version.map(|v| v.to_string()))]);
                client
                    .call(Method::GET, &format!("/baselines/{}{q}", seg(name)), None)
                    .await?
            }
        };
        print_json(&answer)?;
        Ok(ExitCode::SUCCESS)
    })
}

/// `tidewatch monitor`.
pub fn monitor(place: &Place, command: &MonitorCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let client = place.client().await?;
        let path = |name: &str| format!("/monitors/{}", seg(name));
        let answer = match command {
            MonitorCommand::Create {
                name,
                frequency,
                latency,
                disabled,
                model,
                model_version,
                fields,
            } => {
                let mut body = fields.body()?;
                if let Some(m) = model {
                    body["model"] = json!(m);
                }
                if let Some(v) = model_version {
                    body["model_version"] = json!(v);
                }
                body["name"] = json!(name);
                body["frequency"] = json!(frequency);
                body["latency_hours"] = json!(latency);
                if *disabled {
                    body["enabled"] = json!(false);
                }
                client.call(Method::POST, "/monitors", Some(body)).await?
            }
            MonitorCommand::Get { name } => client.call(Method::GET, &path(name), None).await?,
            MonitorCommand::List => {
                let list = client.call(Method::GET, "/monitors", None).await?;
                let mut out = std::io::stdout().lock();
                for m in list.as_array().into_iter().flatten() {
                    writeln!(
                        out,
                        "{}\t{}\t{}\tbaseline {} v{}\ttarget {}\tthreshold {}",
                        m["spec"]["name"].as_str().unwrap_or_default(),
                        m["state"].as_str().unwrap_or_default(),
                        m["spec"]["frequency"].as_str().unwrap_or_default(),
                        m["spec"]["baseline"].as_str().unwrap_or_default(),
                        m["spec"]["baseline_version"],
                        m["spec"]["target"].as_str().unwrap_or_default(),
                        m["spec"]["threshold"],
                    )?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            MonitorCommand::Update { name, fields } => {
                client
                    .call(Method::PATCH, &path(name), Some(fields.body()?))
                    .await?
            }
            MonitorCommand::Delete { name } => {
                client.call(Method::DELETE, &path(name), None).await?
            }
            MonitorCommand::Enable { name } => {
                client
                    .call(Method::POST, &format!("{}/enable", path(name)), None)
                    .await?
            }
            MonitorCommand::Disable { name } => {
                client
                    .call(Method::POST, &format!("{}/disable", path(name)), None)
                    .await?
            }
        };
        print_json(&answer)?;
        Ok(ExitCode::SUCCESS)
    })
}

/// One line of a run: id, kind, window, state, error.
fn run_line(run: &Value) -> String {
    let mut line = format!(
        "run {}\t{}\t{} .. {}\t{}",
        run["id"],
        run["kind"].as_str().unwrap_or_default(),
        run["window"]["start"].as_str().unwrap_or_default(),
        run["window"]["end"].as_str().unwrap_or_default(),
        run["state"].as_str().unwrap_or_default(),
    );
    if let Some(s) = run["service"].as_str() {
        line.push_str(&format!("\tservice {s}"));
    }
    if let Some(e) = run["error"].as_str() {
        line.push_str(&format!("\t{e}"));
    }
    line
}

/// Waits for `ids` to end: locally by executing them here, remotely by
/// polling the server. Prints each as it ends.
async fn wait(client: &Client, ids: &[i64]) -> anyhow::Result<()> {
    match client {
        Client::Local { .. } => {
            client
                .drain(ids, |run| {
                    let v = serde_json::to_value(run).unwrap_or_default();
                    println!("{}", run_line(&v));
                })
                .await
        }
        Client::Remote { .. } => {
            let mut pending: Vec<i64> = ids.to_vec();
            while !pending.is_empty() {
                let mut still = Vec::new();
                for id in pending {
                    let run = client
                        .call(Method::GET, &format!("/runs/{id}"), None)
                        .await?;
                    match run["state"].as_str() {
                        Some("queued" | "running") => still.push(id),
                        _ => println!("{}", run_line(&run)),
                    }
                }
                pending = still;
                if !pending.is_empty() {
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
            }
            Ok(())
        }
    }
}

/// `tidewatch run`.
pub fn run(place: &Place, command: &RunCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let client = place.client().await?;
        match command {
            RunCommand::Start {
                monitor,
                date,
                features,
                threshold,
                services,
                no_wait,
            } => {
                let mut body = json!({"date": date});
                if let Some(f) = features {
                    body["features"] = json!(f);
                }
                if let Some(t) = threshold {
                    body["threshold"] = json!(t);
                }
                if let Some(s) = services {
                    body["services"] = json!(s);
                }
                let run = client
                    .call(
                        Method::POST,
                        &format!("/monitors/{}/runs", seg(monitor)),
                        Some(body),
                    )
                    .await?;
                // One run, or one per service.
                let runs: Vec<Value> = match run["runs"].as_array() {
                    Some(list) => list.clone(),
                    None => vec![run],
                };
                for r in &runs {
                    println!("{}", run_line(r));
                }
                if !no_wait || matches!(client, Client::Local { .. }) {
                    let ids: Vec<i64> = runs.iter().filter_map(|r| r["id"].as_i64()).collect();
                    wait(&client, &ids).await?;
                }
            }
            RunCommand::List { monitor, state } => {
                let q = query(&[("state", state.clone())]);
                let runs = client
                    .call(
                        Method::GET,
                        &format!("/monitors/{}/runs{q}", seg(monitor)),
                        None,
                    )
                    .await?;
                for r in runs.as_array().into_iter().flatten() {
                    println!("{}", run_line(r));
                }
            }
            RunCommand::Get { id } => {
                print_json(
                    &client
                        .call(Method::GET, &format!("/runs/{id}"), None)
                        .await?,
                )?;
            }
            RunCommand::Cancel { id } => {
                let run = client
                    .call(Method::POST, &format!("/runs/{id}/cancel"), None)
                    .await?;
                println!("{}", run_line(&run));
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `tidewatch backfill`.
pub fn backfill(place: &Place, args: &BackfillArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let client = place.client().await?;
        let answer = client
            .call(
                Method::POST,
                &format!("/monitors/{}/backfill", seg(&args.monitor)),
                Some(match &args.services {
                    Some(s) => json!({"from": args.from, "to": args.to, "services": s}),
                    None => json!({"from": args.from, "to": args.to}),
                }),
            )
            .await?;
        let ids: Vec<i64> = answer["runs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["id"].as_i64())
            .collect();
        eprintln!("{} backfill runs queued", ids.len());
        if !args.no_wait || matches!(client, Client::Local { .. }) {
            wait(&client, &ids).await?;
        } else {
            for r in answer["runs"].as_array().into_iter().flatten() {
                println!("{}", run_line(r));
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn results_path(
    monitor: &str,
    from: &Option<String>,
    to: &Option<String>,
    adhoc: bool,
    run: Option<i64>,
) -> String {
    let q = query(&[
        ("from", from.clone()),
        ("to", to.clone()),
        ("include_adhoc", adhoc.then(|| "true".to_string())),
        ("run", run.map(|r| r.to_string())),
    ]);
    format!("/monitors/{}/results{q}", seg(monitor))
}

/// `tidewatch results`.
pub fn results(place: &Place, args: &ResultsArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let client = place.client().await?;
        let answer = client
            .call(
                Method::GET,
                &results_path(&args.monitor, &args.from, &args.to, args.include_adhoc, args.run),
                None,
            )
            .await?;
        if args.json {
            print_json(&answer)?;
            return Ok(ExitCode::SUCCESS);
        }
        let mut out = std::io::stdout().lock();
        let windows = answer["windows"].as_array().cloned().unwrap_or_default();
        // A monitor made from a model: a row per service per window.
        let by_service = windows.iter().any(|w| w["service"].is_string());
        writeln!(
            out,
            "window start          window end            run  kind       coefficient  threshold  drift{}",
            if by_service { "  service" } else { "" }
        )?;
        for w in &windows {
            let coefficient = w["drift_coefficient"]
                .as_f64()
                .map_or("-".to_string(), |c| format!("{c:.4}"));
            let drift = match w["has_drift"].as_bool() {
                Some(true) => "DRIFT",
                Some(false) => "no",
                None => "-",
            };
            let service = match w["service"].as_str() {
                Some(s) => format!("{drift:<5}  {s}"),
                None => drift.to_string(),
            };
            writeln!(
                out,
                "{:<21} {:<21} {:>4} {:<10} {:>11} {:>10}  {}",
                w["window_start"].as_str().unwrap_or_default().get(..19).unwrap_or_default(),
                w["window_end"].as_str().unwrap_or_default().get(..19).unwrap_or_default(),
                w["run_id"].to_string(),
                w["kind"].as_str().unwrap_or_default(),
                coefficient,
                w["threshold"].to_string(),
                service
            )?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `tidewatch show`: the coefficient trend and the contributions per
/// window (and with --details a metric trend per feature), as SVG and PNG.
pub fn show(place: &Place, args: &ShowArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let client = place.client().await?;
        let answer = client
            .call(
                Method::GET,
                &results_path(&args.monitor, &args.from, &args.to, false, None),
                None,
            )
            .await?;
        let windows = answer["windows"].as_array().cloned().unwrap_or_default();
        if windows.is_empty() {
            bail!(
                "monitor {:?} has no results from {} to {}: run or backfill it first",
                args.monitor,
                answer["from"].as_str().unwrap_or_default(),
                answer["to"].as_str().unwrap_or_default()
            );
        }
        // A monitor made from a model: one set of figures per service.
        let mut groups: Vec<(Option<String>, Vec<Value>)> = Vec::new();
        for w in windows {
            let service = w["service"].as_str().map(str::to_string);
            if args.service.is_some() && service != args.service {
                continue;
            }
            match groups.iter_mut().find(|(s, _)| *s == service) {
                Some((_, ws)) => ws.push(w),
                None => groups.push((service, vec![w])),
            }
        }
        if groups.is_empty() {
            bail!(
                "monitor {:?} has no results of service {:?} in the range",
                args.monitor,
                args.service.as_deref().unwrap_or_default()
            );
        }
        for (service, windows) in &groups {
            let mut figures = vec![
                tidewatch_server::figures::coefficient_trend(windows),
                tidewatch_server::figures::contributions(windows),
            ];
            if args.details {
                for feature in tidewatch_server::figures::features(windows) {
                    figures.extend(tidewatch_server::figures::metric_trend(
                        windows,
                        &feature,
                        args.metric.as_deref(),
                    ));
                }
            }
            let folder = match service {
                Some(s) if args.service.is_none() => args.output.join(s),
                _ => args.output.clone(),
            };
            std::fs::create_dir_all(&folder)
                .with_context(|| format!("creating {}", folder.display()))?;
            for figure in &figures {
                let svg = folder.join(format!("{}.svg", figure.name));
                std::fs::write(&svg, &figure.svg)
                    .with_context(|| format!("writing {}", svg.display()))?;
                let png = folder.join(format!("{}.png", figure.name));
                std::fs::write(&png, tidewatch_report::figures::png(figure, 2.0)?)
                    .with_context(|| format!("writing {}", png.display()))?;
            }
            println!(
                "{} figures of {} windows written to {}",
                figures.len(),
                windows.len(),
                folder.display()
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `tidewatch model ...`: registered models (the reference's `Model.register`).
#[derive(Subcommand)]
pub enum ModelCommand {
    /// Register a model version with its training dataset (fits its baseline).
    Register {
        /// The model's name.
        name: String,
        /// Its version.
        #[arg(long)]
        version: String,
        /// The dataset it was trained on.
        #[arg(long)]
        dataset: String,
        /// Columns of the training data left out of the baseline (comma separated).
        #[arg(long, value_delimiter = ',')]
        exclude: Option<Vec<String>>,
    },
    /// List registered model versions.
    List,
}

/// `tidewatch service ...`: services that collect for a model version.
#[derive(Subcommand)]
pub enum ServiceCommand {
    /// Register a service collecting for a registered model version.
    Register {
        /// The service's name (as in the collector's URLs).
        name: String,
        /// The model it serves.
        #[arg(long)]
        model: String,
        /// That model's version.
        #[arg(long)]
        version: String,
    },
    /// List registered services.
    List,
}

/// `tidewatch model`.
pub fn model(place: &Place, command: &ModelCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let client = place.client().await?;
        let answer = match command {
            ModelCommand::Register {
                name,
                version,
                dataset,
                exclude,
            } => {
                let mut body = json!({"name": name, "version": version, "dataset": dataset});
                if let Some(e) = exclude {
                    body["exclude"] = json!(e);
                }
                client.call(Method::POST, "/models", Some(body)).await?
            }
            ModelCommand::List => client.call(Method::GET, "/models", None).await?,
        };
        print_json(&answer)?;
        Ok(ExitCode::SUCCESS)
    })
}

/// `tidewatch service`.
pub fn service(place: &Place, command: &ServiceCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let client = place.client().await?;
        let answer = match command {
            ServiceCommand::Register {
                name,
                model,
                version,
            } => {
                client
                    .call(
                        Method::POST,
                        "/services",
                        Some(json!({"name": name, "model": model, "version": version})),
                    )
                    .await?
            }
            ServiceCommand::List => client.call(Method::GET, "/services", None).await?,
        };
        print_json(&answer)?;
        Ok(ExitCode::SUCCESS)
    })
}

/// `tidewatch alert ...`.
#[derive(Subcommand)]
pub enum AlertCommand {
    /// A monitor's alert notifications: route, state, attempts, last error.
    List {
        /// The monitor.
        monitor: String,
    },
    /// Send a test notification to each of a monitor's alert routes (a
    /// server sends them; on a data directory they are sent from here).
    Test {
        /// The monitor.
        monitor: String,
        #[command(flatten)]
        mail: MailArgs,
    },
}

/// One notification as a line.
fn notification_line(n: &Value) -> String {
    format!(
        "{}\t{}\t{} {}\t{}\tattempts {}{}",
        n["id"],
        n["window"]["start"].as_str().unwrap_or_default(),
        n["route"]["type"].as_str().unwrap_or_default(),
        n["route"]["to"].as_str().unwrap_or_default(),
        n["state"].as_str().unwrap_or_default(),
        n["attempts"],
        n["last_error"]
            .as_str()
            .map_or(String::new(), |e| format!("\t{e}"))
    )
}

/// `tidewatch alert`.
pub fn alert(place: &Place, command: &AlertCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let client = place.client().await?;
        let list = |monitor: &str| {
            let path = format!("/monitors/{}/alerts", seg(monitor));
            let client = &client;
            async move { client.call(Method::GET, &path, None).await }
        };
        match command {
            AlertCommand::List { monitor } => {
                for n in list(monitor).await?.as_array().into_iter().flatten() {
                    println!("{}", notification_line(n));
                }
            }
            AlertCommand::Test { monitor, mail } => {
                let queued = client
                    .call(
                        Method::POST,
                        &format!("/monitors/{}/alerts/test", seg(monitor)),
                        None,
                    )
                    .await?;
                let ids: Vec<i64> = queued
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|n| n["id"].as_i64())
                    .collect();
                if ids.is_empty() {
                    bail!("monitor {monitor:?} has no alert routes");
                }
                let local = matches!(client, Client::Local { .. });
                if let Client::Local { state } = &client {
                    // No server to send them: once, from here.
                    let secret = tidewatch_server::alerts::webhook_secret(state.store.dir())
                        .context("the data directory's webhook secret")?;
                    let mut deliverer = tidewatch_server::alerts::Deliverer::new(&secret);
                    deliverer.smtp = mail.smtp()?;
                    deliverer.public_url = mail.public_url.clone();
                    deliverer.deliver_due(&state.store).await?;
                }
                let mut failed = false;
                for n in list(monitor).await?.as_array().into_iter().flatten() {
                    if n["id"].as_i64().is_some_and(|id| ids.contains(&id)) {
                        failed |= local && n["state"] != "sent";
                        println!("{}", notification_line(n));
                    }
                }
                if failed {
                    bail!("a test notification was not delivered (see above)");
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
