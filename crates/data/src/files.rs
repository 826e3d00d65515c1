//! What an input names: a file, a directory (every data file under it), or
//! a glob; and each file's format and compression, from its name.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use crate::Error;

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// Newline-delimited JSON objects.
    NdJson,
    /// Apache Parquet.
    Parquet,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "json" | "jsonl" | "ndjson" => Ok(Format::NdJson),
            "parquet" | "pq" => Ok(Format::Parquet),
            other => Err(format!(
                "unknown format {other:?} (expected csv, ndjson or parquet)"
            )),
        }
    }
}

/// A whole-file compression of a text format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (`.gz`).
    Gzip,
    /// Zstandard (`.zst`).
    Zstd,
}

/// The format and compression a file name says, if it says one.
pub fn detect(path: &Path) -> Option<(Format, Compression)> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let (stem, compression) = if let Some(stem) = name.strip_suffix(".gz") {
        (stem, Compression::Gzip)
    } else if let Some(stem) = name.strip_suffix(".zst") {
        (stem, Compression::Zstd)
    } else {
        (name.as_str(), Compression::None)
    };
    let format = match stem.rsplit_once('.')?.1 {
        "csv" | "tsv" | "txt" => Format::Csv,
        "json" | "jsonl" | "ndjson" => Format::NdJson,
        "parquet" | "pq" if compression == Compression::None => Format::Parquet,
        _ => return None,
    };
    Some((format, compression))
}

/// The compression a file name says (`.gz`, `.zst`), whatever the format.
pub fn compression_of(path: &Path) -> Compression {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if name.ends_with(".gz") {
        Compression::Gzip
    } else if name.ends_with(".zst") {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// The files an input names, sorted by path: the file itself; every data
/// file under a directory (recursively; hidden files and files whose
/// format the name does not say are skipped); or the files a glob
/// (`*`, `?`, `[...]`, `**`) matches.
///
/// An object-store URL (`s3://`, `gs://`, `az://`, `http(s)://`) resolves
/// in its store (see [`crate::remote`]); `file://` names a local path.
pub fn resolve(input: &str) -> Result<Vec<PathBuf>, Error> {
    if crate::remote::is_url(input) {
        return crate::remote::resolve(input);
    }
    let input = input.strip_prefix("file://").unwrap_or(input);
    let no_files = |why: &str| Error::NoFiles {
        input: input.to_string(),
        why: why.to_string(),
    };
    let path = Path::new(input);
    let mut files = if path.is_file() {
        vec![path.to_path_buf()]
    } else if path.is_dir() {
        let mut found = Vec::new();
        walk(path, &mut found)?;
        if found.is_empty() {
            return Err(no_files(
                "the directory holds no .csv, .parquet or .json/.jsonl/.ndjson files",
            ));
        }
        found
    } else if input.contains(['*', '?', '[']) {
        // Hidden files only when the pattern names the dot.
        let options = glob::MatchOptions {
            require_literal_leading_dot: true,
            ..glob::MatchOptions::new()
        };
        let paths =
            glob::glob_with(input, options).map_err(|e| no_files(&format!("bad glob: {e}")))?;
        let mut found = Vec::new();
        for entry in paths {
            let p = entry.map_err(|e| Error::Io {
                path: e.path().to_path_buf(),
                source: std::io::Error::new(e.error().kind(), e.error().to_string()),
            })?;
            if p.is_file() {
                found.push(p);
            }
        }
        if found.is_empty() {
            return Err(no_files("the glob matches no file"));
        }
        found
    } else {
        return Err(no_files("no such file or directory"));
    };
    files.sort();
    Ok(files)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, found)?;
        } else if detect(&path).is_some() {
            found.push(path);
        }
    }
    Ok(())
}

/// Opens a text file, decompressing as its name says, buffered.
/// A remote object (a path holding its URL) is streamed from its store.
pub fn open_text(path: &Path) -> Result<Box<dyn Read + Send>, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let raw: Box<dyn Read + Send> = if crate::remote::is_url(&path.to_string_lossy()) {
        crate::remote::open(path)?
    } else {
        Box::new(File::open(path).map_err(io)?)
    };
    let buffered = BufReader::with_capacity(1 << 20, raw);
    Ok(match compression_of(path) {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::bufread::MultiGzDecoder::new(buffered),
        )),
        Compression::Zstd => Box::new(BufReader::with_capacity(
            1 << 20,
            zstd::stream::read::Decoder::with_buffer(buffered).map_err(io)?,
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_compression_from_names() {
        let d = |n: &str| detect(Path::new(n));
        assert_eq!(d("a.csv"), Some((Format::Csv, Compression::None)));
        assert_eq!(d("dir/A.CSV.GZ"), Some((Format::Csv, Compression::Gzip)));
        assert_eq!(d("a.jsonl.zst"), Some((Format::NdJson, Compression::Zstd)));
        assert_eq!(d("a.parquet"), Some((Format::Parquet, Compression::None)));
        assert_eq!(d("a.parquet.gz"), None);
        assert_eq!(d("README"), None);
        assert_eq!(d("notes.md"), None);
    }

    #[test]
    fn directories_and_globs_resolve_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("2024").join("01");
        std::fs::create_dir_all(&sub).unwrap();
        for name in ["b.csv", "a.csv", ".hidden.csv", "notes.txt.md"] {
            std::fs::write(sub.join(name), "x\n1\n").unwrap();
        }
        std::fs::write(dir.path().join("c.parquet"), "").unwrap();
        let all = resolve(dir.path().to_str().unwrap()).unwrap();
        let names: Vec<_> = all
            .iter()
            .map(|p| {
                p.strip_prefix(dir.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["2024/01/a.csv", "2024/01/b.csv", "c.parquet"]);
        let glob = format!("{}/**/*.csv", dir.path().display());
        assert_eq!(resolve(&glob).unwrap().len(), 2);
    }

    #[test]
    fn nothing_found_names_the_input() {
        let err = resolve("/no/such/place.csv").unwrap_err();
        assert!(err.to_string().contains("/no/such/place.csv"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let err = resolve(&format!("{}/*.csv", dir.path().display())).unwrap_err();
        assert!(err.to_string().contains("matches no file"), "{err}");
        let err = resolve(dir.path().to_str().unwrap()).unwrap_err();
        assert!(err.to_string().contains("holds no"), "{err}");
    }
}
