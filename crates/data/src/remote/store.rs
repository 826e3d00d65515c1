//! The object-store side of [`super`]: stores built from URLs and the
//! environment, listing, and blocking readers over their requests.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt};

use super::split;
use crate::Error;
use crate::files::detect;

/// The runtime that drives the stores' requests; callers block on it from
/// their own threads.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tidewatch-io")
            .enable_all()
            .build()
            .expect("the I/O runtime starts")
    })
}

/// The store of a root (`scheme://bucket`), built once per process.
fn store(root: &str) -> Result<Arc<dyn ObjectStore>, Error> {
    static STORES: OnceLock<Mutex<HashMap<String, Arc<dyn ObjectStore>>>> = OnceLock::new();
    let stores = STORES.get_or_init(Default::default);
    if let Some(s) = stores.lock().ok().and_then(|m| m.get(root).cloned()) {
        return Ok(s);
    }
    let failed = |e: object_store::Error| Error::NoFiles {
        input: root.to_string(),
        why: format!("cannot set up the object store: {e}"),
    };
    let scheme = root.split_once("://").map_or("", |s| s.0);
    let built: Arc<dyn ObjectStore> = match scheme {
        "s3" => Arc::new(
            object_store::aws::AmazonS3Builder::from_env()
                .with_url(root)
                .build()
                .map_err(failed)?,
        ),
        "gs" => Arc::new(
            object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_url(root)
                .build()
                .map_err(failed)?,
        ),
        "az" | "abfs" | "abfss" => Arc::new(
            object_store::azure::MicrosoftAzureBuilder::from_env()
                .with_url(root)
                .build()
                .map_err(failed)?,
        ),
        _ => Arc::new(
            object_store::http::HttpBuilder::new()
                .with_url(root)
                // The URL says http or https; take it at its word.
                .with_client_options(
                    object_store::ClientOptions::new().with_allow_http(scheme == "http"),
                )
                .build()
                .map_err(failed)?,
        ),
    };
    if let Ok(mut m) = stores.lock() {
        m.insert(root.to_string(), built.clone());
    }
    Ok(built)
}

fn io_error(url: &str, e: object_store::Error) -> Error {
    let kind = match e {
        object_store::Error::NotFound { .. } => std::io::ErrorKind::NotFound,
        _ => std::io::ErrorKind::Other,
    };
    Error::Io {
        path: PathBuf::from(url),
        source: std::io::Error::new(kind, e.to_string()),
    }
}

/// The objects a URL names, as paths holding their URLs, sorted: the
/// object itself; every data object under it as a prefix (hidden names
/// skipped); or the keys a glob matches.
pub fn resolve(url: &str) -> Result<Vec<PathBuf>, Error> {
    let no_files = |why: String| Error::NoFiles {
        input: url.to_string(),
        why,
    };
    let (root, key) = split(url)?;
    let store = store(&root)?;
    let rt = runtime();
    let glob_at = key.find(['*', '?', '[']);
    let listing = root.starts_with("http");
    let mut found: Vec<String> = Vec::new();
    match glob_at {
        None => {
            let head = rt.block_on(store.head(&Key::from(key.as_str())));
            if head.is_ok() {
                found.push(key.clone());
            } else if let (true, Err(e)) = (listing, head) {
                return Err(no_files(format!("no such object: {e}")));
            } else {
                let prefix = Key::from(key.trim_end_matches('/'));
                for meta in list(rt, &store, &prefix).map_err(|e| io_error(url, e))? {
                    let k = meta.to_string();
                    let hidden = k
                        .strip_prefix(prefix.as_ref())
                        .unwrap_or(&k)
                        .split('/')
                        .any(|part| part.starts_with('.'));
                    if !hidden && detect(Path::new(&k)).is_some() {
                        found.push(k);
                    }
                }
                if found.is_empty() {
                    return Err(no_files(
                        "no such object, and no .csv, .parquet or .json/.jsonl/.ndjson objects under it"
                            .into(),
                    ));
                }
            }
        }
        Some(at) => {
            if listing {
                return Err(no_files(
                    "HTTP servers cannot list: globs need s3, gs or az".into(),
                ));
            }
            let pattern =
                glob::Pattern::new(&key).map_err(|e| no_files(format!("bad glob: {e}")))?;
            let prefix = Key::from(key[..at].rsplit_once('/').map_or("", |p| p.0));
            let options = glob::MatchOptions {
                require_literal_separator: true,
                require_literal_leading_dot: true,
                ..glob::MatchOptions::new()
            };
            for meta in list(rt, &store, &prefix).map_err(|e| io_error(url, e))? {
                let k = meta.to_string();
                if pattern.matches_with(&k, options) {
                    found.push(k);
                }
            }
            if found.is_empty() {
                return Err(no_files("the glob matches no object".into()));
            }
        }
    }
    found.sort();
    Ok(found
        .into_iter()
        .map(|k| PathBuf::from(format!("{root}/{k}")))
        .collect())
}

fn list(
    rt: &tokio::runtime::Runtime,
    store: &Arc<dyn ObjectStore>,
    prefix: &Key,
) -> Result<Vec<Key>, object_store::Error> {
    let prefix = (!prefix.as_ref().is_empty()).then_some(prefix);
    rt.block_on(async {
        let mut out = Vec::new();
        let mut stream = store.list(prefix);
        while let Some(meta) = stream.next().await {
            out.push(meta?.location);
        }
        Ok(out)
    })
}

/// An object's bytes as a blocking reader, streamed from the store.
pub fn open(path: &Path) -> Result<Box<dyn Read + Send>, Error> {
    let url = path.to_string_lossy().to_string();
    let (root, key) = split(&url)?;
    let store = store(&root)?;
    let result = runtime()
        .block_on(store.get(&Key::from(key.as_str())))
        .map_err(|e| io_error(&url, e))?;
    Ok(Box::new(StreamReader {
        url,
        stream: result.into_stream(),
        current: Bytes::new(),
    }))
}

struct StreamReader {
    url: String,
    stream: BoxStream<'static, object_store::Result<Bytes>>,
    current: Bytes,
}

impl Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match runtime().block_on(self.stream.next()) {
                None => return Ok(0),
                Some(Ok(bytes)) => self.current = bytes,
                Some(Err(e)) => {
                    return Err(std::io::Error::other(format!("{}: {e}", self.url)));
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

/// A remote Parquet file, read by byte ranges.
pub struct RemoteFile {
    url: String,
    store: Arc<dyn ObjectStore>,
    key: Key,
    size: u64,
}

impl RemoteFile {
    /// The object at `path` (a path holding its URL).
    pub fn open(path: &Path) -> Result<RemoteFile, Error> {
        let url = path.to_string_lossy().to_string();
        let (root, key) = split(&url)?;
        let store = store(&root)?;
        let key = Key::from(key.as_str());
        let meta = runtime()
            .block_on(store.head(&key))
            .map_err(|e| io_error(&url, e))?;
        Ok(RemoteFile {
            url,
            store,
            key,
            size: meta.size,
        })
    }

    fn range(&self, start: u64, end: u64) -> parquet::errors::Result<Bytes> {
        runtime()
            .block_on(self.store.get_range(&self.key, start..end))
            .map_err(|e| parquet::errors::ParquetError::External(Box::new(io_error(&self.url, e))))
    }
}

impl parquet::file::reader::Length for RemoteFile {
    fn len(&self) -> u64 {
        self.size
    }
}

impl parquet::file::reader::ChunkReader for RemoteFile {
    type T = std::io::Cursor<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(std::io::Cursor::new(self.range(start, self.size)?))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.range(start, start + length as u64)
    }
}
