//! Inputs in object stores: `s3://bucket/key`, `gs://bucket/key`,
//! `az://container/key` (also `abfs://`, `abfss://`), `http(s)://host/path`,
//! read through the `object_store` crate. A URL names one object, a
//! "directory" (every data object under the prefix), or a glob of keys
//! (`s3://bucket/logs/2024-*/*.parquet`); plain HTTP servers cannot list, so
//! there a URL names one object.
//!
//! Credentials and endpoints come from the environment, as each store's
//! own tools read them (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_REGION`, `AWS_ENDPOINT`, `AWS_ALLOW_HTTP`; `GOOGLE_*`; `AZURE_*`).
//!
//! Objects are streamed, never downloaded whole: text formats through a
//! reader over the object's byte stream, Parquet by byte ranges (its footer,
//! then the column chunks of the row groups read). The rest of the data
//! layer sees a remote object as a path holding its URL.

#[cfg(feature = "object-store")]
mod store;
#[cfg(feature = "object-store")]
pub use store::{RemoteFile, open, resolve};

#[cfg(not(feature = "object-store"))]
pub use disabled::{RemoteFile, open, resolve};

use crate::Error;

/// URL schemes read through an object store.
const SCHEMES: [&str; 7] = ["s3", "gs", "az", "abfs", "abfss", "http", "https"];

/// Whether `input` is an object-store URL (see the module documentation).
pub fn is_url(input: &str) -> bool {
    input
        .split_once("://")
        .is_some_and(|(scheme, _)| SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()))
}

/// A URL split into its store's root (`scheme://bucket`) and the key.
#[cfg_attr(not(feature = "object-store"), allow(dead_code))]
fn split(url: &str) -> Result<(String, String), Error> {
    let bad = |why: &str| Error::NoFiles {
        input: url.to_string(),
        why: why.to_string(),
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("not a URL"))?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(bad("the URL names no bucket or host"));
    }
    Ok((
        format!("{}://{bucket}", scheme.to_ascii_lowercase()),
        key.to_string(),
    ))
}

/// What a build without the `object-store` feature says of a URL.
#[cfg(not(feature = "object-store"))]
mod disabled {
    use std::io::Read;
    use std::path::{Path, PathBuf};

    use crate::Error;

    fn unsupported(url: &str) -> Error {
        Error::NoFiles {
            input: url.to_string(),
            why: "this tidewatch was built without object-store support (cargo feature \
                  object-store)"
                .into(),
        }
    }

    /// Always an error: no store to resolve in.
    pub fn resolve(url: &str) -> Result<Vec<PathBuf>, Error> {
        Err(unsupported(url))
    }

    /// Always an error: no store to read from.
    pub fn open(path: &Path) -> Result<Box<dyn Read + Send>, Error> {
        Err(unsupported(&path.to_string_lossy()))
    }

    /// A remote file: none can exist in this build.
    pub enum RemoteFile {}

    impl RemoteFile {
        /// Always an error: no store to read from.
        pub fn open(path: &Path) -> Result<RemoteFile, Error> {
            Err(unsupported(&path.to_string_lossy()))
        }
    }

    impl parquet::file::reader::Length for RemoteFile {
        fn len(&self) -> u64 {
            match *self {}
        }
    }

    impl parquet::file::reader::ChunkReader for RemoteFile {
        type T = std::io::Empty;

        fn get_read(&self, _: u64) -> parquet::errors::Result<Self::T> {
            match *self {}
        }

        fn get_bytes(&self, _: u64, _: usize) -> parquet::errors::Result<bytes::Bytes> {
            match *self {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_their_parts() {
        assert!(is_url("s3://b/k.csv") && is_url("HTTPS://h/x.parquet"));
        assert!(!is_url("data/x.csv") && !is_url("file:///x.csv") && !is_url("c:\\x"));
        assert_eq!(
            split("s3://bucket/a/b.csv").unwrap(),
            ("s3://bucket".to_string(), "a/b.csv".to_string())
        );
        assert_eq!(
            split("gs://bucket").unwrap(),
            ("gs://bucket".to_string(), String::new())
        );
        assert!(split("s3:///key").is_err());
    }
}
