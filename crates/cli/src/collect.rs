//! `tidewatch collect import|export`: collected records from and to files.
//!
//! `import DIR` sends every file of a folder in the reference system's
//! layout, `<service>/<model>/<version>/<inputs|predictions>/YYYY/MM/DD/<name>.csv`,
//! to the collector, as the service's model would have, in batches of at
//! most `--batch-records` records. Each batch's idempotency key comes from
//! the file's path in the folder and its content, so importing the same
//! file again stores nothing more, and a file that changed is imported as
//! new. `export SERVICE` writes a window of a service's records to a file.
//! Both work on the data directory (whose collector then must not be in use
//! by a server) or on a server with `--server`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use axum::http::Method;
use clap::Subcommand;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::client::Client;
use crate::monitoring::{Place, query, runtime, seg};

/// `tidewatch collect ...`.
#[derive(Subcommand)]
pub enum CollectCommand {
    /// Import a folder in the reference layout
    /// (`<service>/<model>/<version>/<inputs|predictions>/YYYY/MM/DD/<name>.csv`),
    /// idempotently.
    Import {
        /// The folder.
        dir: PathBuf,
        /// Records sent in one batch, at most.
        #[arg(long, default_value_t = 10_000)]
        batch_records: usize,
    },
    /// Export a window of a service's records (for retraining) as Parquet or CSV.
    Export {
        /// The service.
        service: String,
        /// Start of the window (inclusive): a date or an RFC 3339 time.
        #[arg(long)]
        from: Option<String>,
        /// End of the window: a date includes its whole day; a time is exclusive.
        #[arg(long)]
        to: Option<String>,
        /// The file written.
        #[arg(short, long)]
        output: PathBuf,
        /// inputs or predictions.
        #[arg(long, default_value = "inputs")]
        stream: String,
        /// Only this model's records.
        #[arg(long)]
        model: Option<String>,
        /// Only this model version's records.
        #[arg(long)]
        version: Option<String>,
        /// parquet or csv (default: from the output's extension, else parquet).
        #[arg(long)]
        format: Option<String>,
    },
}

/// A file of the reference layout, by its place in the folder.
#[derive(Debug, Clone, PartialEq)]
struct LayoutFile {
    path: PathBuf,
    /// Its path in the folder, with `/` between segments.
    relative: String,
    service: String,
    model: String,
    version: String,
    stream: String,
}

/// Every file under `dir`, in path order.
fn files_under(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries =
            std::fs::read_dir(&d).with_context(|| format!("reading the folder {}", d.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("reading the folder {}", d.display()))?;
            let path = entry.path();
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Where `path` lies in the reference layout under `dir`, or why it does
/// not fit it.
fn layout_file(dir: &Path, path: &Path) -> anyhow::Result<LayoutFile> {
    let relative = path.strip_prefix(dir).unwrap_or(path);
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let fits = parts.len() == 8
        && (parts[3] == "inputs" || parts[3] == "predictions")
        && [(4, 4), (5, 2), (6, 2)]
            .iter()
            .all(|&(i, n)| parts[i].len() == n && parts[i].bytes().all(|b| b.is_ascii_digit()))
        && parts[7].ends_with(".csv");
    if !fits {
        bail!(
            "{}: not in the reference layout <service>/<model>/<version>/<inputs|predictions>/YYYY/MM/DD/<name>.csv",
            path.display()
        );
    }
    Ok(LayoutFile {
        path: path.to_path_buf(),
        relative: parts.join("/"),
        service: parts[0].clone(),
        model: parts[1].clone(),
        version: parts[2].clone(),
        stream: parts[3].clone(),
    })
}

/// The file's records as CSV bodies of at most `per_batch` records, each
/// with the header.
fn csv_batches(path: &Path, bytes: &[u8], per_batch: usize) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let header = reader
        .byte_headers()
        .with_context(|| format!("{}: reading the header", path.display()))?
        .clone();
    let mut out = Vec::new();
    let mut writer: Option<(csv::Writer<Vec<u8>>, usize)> = None;
    for (k, record) in reader.byte_records().enumerate() {
        // The header is line 1.
        let record = record.with_context(|| format!("{}: record {}", path.display(), k + 1))?;
        let (w, n) = writer.get_or_insert_with(|| {
            let mut w = csv::Writer::from_writer(Vec::new());
            // Writing to memory cannot fail.
            let _ = w.write_byte_record(&header);
            (w, 0)
        });
        w.write_byte_record(&record)
            .with_context(|| format!("{}: record {}", path.display(), k + 1))?;
        *n += 1;
        if *n == per_batch.max(1) {
            let (w, _) = writer.take().expect("just filled");
            out.push(w.into_inner().context("flushing a batch")?);
        }
    }
    if let Some((w, _)) = writer {
        out.push(w.into_inner().context("flushing a batch")?);
    }
    Ok(out)
}

/// A batch's idempotency key: from the file's place and content, and the
/// batch's position in it.
fn import_key(file: &LayoutFile, bytes: &[u8], batch: usize) -> String {
    let mut h = Sha256::new();
    h.update(file.relative.as_bytes());
    h.update([0]);
    h.update(bytes);
    let digest = h.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("import-{hex}-{batch}")
}

/// `tidewatch collect`.
pub fn collect(place: &Place, command: &CollectCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let client = match &place.server {
            Some(_) => place.client().await?,
            None => Client::local_collecting(&place.data_dir).await?,
        };
        match command {
            CollectCommand::Import { dir, batch_records } => {
                import(&client, dir, *batch_records).await
            }
            CollectCommand::Export {
                service,
                from,
                to,
                output,
                stream,
                model,
                version,
                format,
            } => {
                let format = format
                    .clone()
                    .or_else(|| {
                        tidewatch_data::collected::ExportFormat::from_path(output).map(|f| {
                            match f {
                                tidewatch_data::collected::ExportFormat::Parquet => "parquet",
                                tidewatch_data::collected::ExportFormat::Csv => "csv",
                            }
                            .to_string()
                        })
                    })
                    .unwrap_or_else(|| "parquet".into());
                let path = format!(
                    "/services/{}/export{}",
                    seg(service),
                    query(&[
                        ("stream", Some(stream.clone())),
                        ("model", model.clone()),
                        ("version", version.clone()),
                        ("from", from.clone()),
                        ("to", to.clone()),
                        ("format", Some(format.clone())),
                    ])
                );
                let bytes = client.call_raw(Method::GET, &path, &[], None).await?;
                std::fs::write(output, &bytes)
                    .with_context(|| format!("writing {}", output.display()))?;
                println!(
                    "wrote {} ({format}, {} bytes)",
                    output.display(),
                    bytes.len()
                );
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

async fn import(client: &Client, dir: &Path, per_batch: usize) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        bail!("{}: not a folder", dir.display());
    }
    // Every file is checked against the layout before anything is sent.
    let files = files_under(dir)?
        .iter()
        .map(|p| layout_file(dir, p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (mut stored, mut repeated, mut records) = (0usize, 0usize, 0u64);
    for file in &files {
        let bytes = std::fs::read(&file.path)
            .with_context(|| format!("reading {}", file.path.display()))?;
        for (k, body) in csv_batches(&file.path, &bytes, per_batch)?
            .into_iter()
            .enumerate()
        {
            let path = format!(
                "/services/{}/{}{}",
                seg(&file.service),
                file.stream,
                query(&[
                    ("model", Some(file.model.clone())),
                    ("version", Some(file.version.clone())),
                ])
            );
            let headers = [
                ("content-type", "text/csv".to_string()),
                ("idempotency-key", import_key(file, &bytes, k)),
            ];
            let answer = client
                .call_raw(Method::POST, &path, &headers, Some(body))
                .await
                .with_context(|| format!("importing {}", file.path.display()))?;
            let ack: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
            if ack["duplicate"].as_bool() == Some(true) {
                repeated += 1;
            } else {
                stored += 1;
                records += ack["records"].as_u64().unwrap_or(0);
            }
        }
    }
    if let Some(collector) = client.collector().cloned() {
        // Nobody else compacts the data directory: into Parquet now.
        tokio::task::spawn_blocking(move || collector.compact(true))
            .await
            .context("the compaction's thread failed")?
            .context("compacting the imported records")?;
    }
    println!(
        "{} files: {stored} batches ({records} records) stored, {repeated} batches imported before",
        files.len()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_reference_layout_is_imported() {
        let dir = Path::new("/in");
        let ok = layout_file(
            dir,
            Path::new("/in/loans-api/loans/3/inputs/2024/03/01/data.csv"),
        )
        .unwrap();
        assert_eq!(
            (ok.service.as_str(), ok.model.as_str(), ok.version.as_str()),
            ("loans-api", "loans", "3")
        );
        assert_eq!(ok.stream, "inputs");
        assert_eq!(ok.relative, "loans-api/loans/3/inputs/2024/03/01/data.csv");
        for bad in [
            "/in/loans-api/loans/3/outputs/2024/03/01/data.csv",
            "/in/loans-api/loans/3/inputs/2024/3/01/data.csv",
            "/in/loans-api/loans/inputs/2024/03/01/data.csv",
            "/in/loans-api/loans/3/inputs/2024/03/01/data.json",
        ] {
            let err = layout_file(dir, Path::new(bad)).unwrap_err().to_string();
            assert!(
                err.contains(bad) && err.contains("reference layout"),
                "{err}"
            );
        }
    }

    #[test]
    fn files_split_into_batches_with_the_header_each() {
        let text = b"a,b\n1,\"x\ny\"\n2,z\n3,w\n";
        let batches = csv_batches(Path::new("f.csv"), text, 2).unwrap();
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0], b"a,b\n1,\"x\ny\"\n2,z\n".to_vec());
        assert_eq!(batches[1], b"a,b\n3,w\n".to_vec());
        assert!(
            csv_batches(Path::new("f.csv"), b"a,b\n", 2)
                .unwrap()
                .is_empty()
        );
        let err = csv_batches(Path::new("f.csv"), b"a,b\n1,2,3\n", 2)
            .unwrap_err()
            .to_string();
        assert!(err.contains("f.csv: record 1"), "{err}");
    }

    #[test]
    fn keys_follow_the_place_and_content_of_a_file() {
        let file = |rel: &str| LayoutFile {
            path: PathBuf::from(rel),
            relative: rel.into(),
            service: "s".into(),
            model: "m".into(),
            version: "1".into(),
            stream: "inputs".into(),
        };
        let a = file("s/m/1/inputs/2024/03/01/data.csv");
        let b = file("s/m/1/inputs/2024/03/02/data.csv");
        assert_eq!(import_key(&a, b"x", 0), import_key(&a, b"x", 0));
        assert_ne!(import_key(&a, b"x", 0), import_key(&a, b"x", 1));
        assert_ne!(import_key(&a, b"x", 0), import_key(&a, b"y", 0));
        assert_ne!(import_key(&a, b"x", 0), import_key(&b, b"x", 0));
    }
}
