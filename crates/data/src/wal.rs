//! Write-ahead segments: the collector's durable log. A batch is
//! acknowledged only once its frame is written and synced to a segment
//! file, so what was acknowledged survives a crash; a crash in the middle
//! of a write leaves a torn frame at the end of the newest segment, which
//! opening the log cuts off (that batch was never acknowledged).
//!
//! A log is a folder of segments `seg-NNNNNNNNNNNNNNNNNNNN.wal`, numbered
//! in write order. A segment is a sequence of frames:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `TWF1` |
//! | 4 | payload length, little-endian `u32` |
//! | 4 | CRC-32 (IEEE) of the payload, little-endian |
//! | n | payload |
//!
//! The log does not look inside payloads. When the open segment passes
//! its size limit it is sealed and a new one starts; sealed segments are
//! what a compactor reads, and removes once their content is stored
//! elsewhere.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The first bytes of every frame.
pub const MAGIC: [u8; 4] = *b"TWF1";
/// Bytes before a frame's payload.
pub const HEADER: usize = 12;

/// What can go wrong with a log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalError {
    /// A file of the log could not be read, written or synced.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A sealed segment is damaged: its content cannot be trusted, and it
    /// is not the newest segment, whose torn end a crash explains.
    #[error("{path}: damaged frame at byte {offset}: {why}")]
    Corrupt {
        /// The segment.
        path: PathBuf,
        /// Where the damaged frame starts.
        offset: u64,
        /// What is wrong with it.
        why: String,
    },
    /// A payload longer than a frame can hold.
    #[error("a payload of {0} bytes is more than a frame holds")]
    TooLarge(usize),
    /// Another process has the log open: a log has one writer.
    #[error(
        "{path} is locked: another process (a running `tidewatch serve`?) has this log open; send records to it instead"
    )]
    InUse {
        /// The log's lock file.
        path: PathBuf,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WalError + '_ {
    move |source| WalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What opening a log found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Whole frames in all segments.
    pub frames: usize,
    /// Bytes cut off the newest segment's end: a frame torn by a crash
    /// (never acknowledged). 0 after a clean stop.
    pub truncated: u64,
}

/// An open log, appending to its newest segment.
#[derive(Debug)]
pub struct Wal {
    dir: PathBuf,
    /// Locked while the log is open (see [`Wal::open`]).
    _lock: File,
    file: File,
    seq: u64,
    size: u64,
    max_segment_bytes: u64,
    /// Bytes written by this process (the group commit's tickets).
    written: u64,
    /// Bytes in all segments (the backlog a compactor has yet to take).
    total: u64,
}

/// The path of segment `seq` in `dir`.
fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("seg-{seq:020}.wal"))
}

/// The segments in `dir`, oldest first, with their numbers.
fn list(dir: &Path) -> Result<Vec<(u64, PathBuf)>, WalError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name();
        let Some(seq) = name
            .to_str()
            .and_then(|n| n.strip_prefix("seg-")?.strip_suffix(".wal"))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        out.push((seq, entry.path()));
    }
    out.sort();
    Ok(out)
}

fn sync_dir(dir: &Path) -> Result<(), WalError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Splits `bytes` into frames: the payloads of the whole frames, and
/// where the first bad frame starts with why, if any.
fn frames(bytes: &[u8]) -> (Vec<&[u8]>, Option<(usize, String)>) {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.len() < HEADER {
            return (
                out,
                Some((
                    at,
                    format!("a header cut short ({} of {HEADER} bytes)", rest.len()),
                )),
            );
        }
        if rest[..4] != MAGIC {
            return (out, Some((at, "no frame magic".into())));
        }
        let len = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(rest[8..12].try_into().expect("4 bytes"));
        let Some(payload) = rest.get(HEADER..HEADER + len) else {
            return (
                out,
                Some((
                    at,
                    format!(
                        "a payload cut short ({} of {len} bytes)",
                        rest.len() - HEADER
                    ),
                )),
            );
        };
        if crc32fast::hash(payload) != crc {
            return (
                out,
                Some((at, "the payload's checksum does not match".into())),
            );
        }
        out.push(payload);
        at += HEADER + len;
    }
    (out, None)
}

/// Every payload of segment `path`, in order. A damaged frame is an
/// error (use on sealed segments; [`Wal::open`] repairs the newest).
pub fn read_segment(path: &Path) -> Result<Vec<Vec<u8>>, WalError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let (payloads, bad) = frames(&bytes);
    if let Some((offset, why)) = bad {
        return Err(WalError::Corrupt {
            path: path.to_path_buf(),
            offset: offset as u64,
            why,
        });
    }
    Ok(payloads.into_iter().map(<[u8]>::to_vec).collect())
}

impl Wal {
    /// Opens the log in `dir` (created if need be): checks every segment,
    /// cuts a torn frame off the newest one, and appends after it. A new
    /// segment starts when the open one passes `max_segment_bytes`.
    ///
    /// The log has one writer: it holds an exclusive lock on `dir/LOCK`
    /// while open (released when the process ends, however it ends), and
    /// another opening fails with [`WalError::InUse`].
    pub fn open(dir: &Path, max_segment_bytes: u64) -> Result<(Wal, Recovery), WalError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let lock_path = dir.join("LOCK");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(WalError::InUse { path: lock_path });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
        }
        let segments = list(dir)?;
        let mut recovery = Recovery {
            frames: 0,
            truncated: 0,
        };
        let mut total = 0u64;
        for (k, (_, path)) in segments.iter().enumerate() {
            let bytes = std::fs::read(path).map_err(io(path))?;
            total += bytes.len() as u64;
            let (payloads, bad) = frames(&bytes);
            recovery.frames += payloads.len();
            if let Some((offset, why)) = bad {
                if k + 1 < segments.len() {
                    return Err(WalError::Corrupt {
                        path: path.clone(),
                        offset: offset as u64,
                        why,
                    });
                }
                // The newest segment's torn end: never acknowledged.
                let f = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(io(path))?;
                f.set_len(offset as u64).map_err(io(path))?;
                f.sync_all().map_err(io(path))?;
                recovery.truncated = (bytes.len() - offset) as u64;
                total -= recovery.truncated;
            }
        }
        let seq = segments.last().map_or(1, |(s, _)| *s);
        let path = segment_path(dir, seq);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        let size = file.metadata().map_err(io(&path))?.len();
        // What an earlier process wrote but had not synced is made durable
        // now (it was never acknowledged, but it is whole).
        file.sync_all().map_err(io(&path))?;
        sync_dir(dir)?;
        Ok((
            Wal {
                dir: dir.to_path_buf(),
                _lock: lock,
                file,
                seq,
                size,
                max_segment_bytes: max_segment_bytes.max(1),
                written: 0,
                total,
            },
            recovery,
        ))
    }

    /// Appends one frame per payload and syncs them together: when this
    /// returns `Ok`, every one of them survives a crash. Returns the
    /// segment they went to.
    pub fn append(&mut self, payloads: &[&[u8]]) -> Result<u64, WalError> {
        self.write(payloads)?;
        let (file, _) = self.sync_handle()?;
        let path = segment_path(&self.dir, self.seq);
        file.sync_data().map_err(io(&path))?;
        Ok(self.seq)
    }

    /// Appends one frame per payload without syncing; returns the bytes
    /// written by this log so far, the ticket that [`Wal::sync_handle`]'s
    /// count must reach before these frames count as durable (group
    /// commit: one sync covers every write before it).
    pub fn write(&mut self, payloads: &[&[u8]]) -> Result<u64, WalError> {
        if self.size >= self.max_segment_bytes {
            self.rotate()?;
        }
        let mut buf = Vec::with_capacity(payloads.iter().map(|p| HEADER + p.len()).sum());
        for p in payloads {
            let len = u32::try_from(p.len()).map_err(|_| WalError::TooLarge(p.len()))?;
            buf.extend_from_slice(&MAGIC);
            buf.extend_from_slice(&len.to_le_bytes());
            buf.extend_from_slice(&crc32fast::hash(p).to_le_bytes());
            buf.extend_from_slice(p);
        }
        let path = segment_path(&self.dir, self.seq);
        if let Err(e) = self.file.write_all(&buf) {
            // Whatever part was written is a torn frame: cut it off now, so
            // that the next frame does not follow garbage.
            let _ = self.file.set_len(self.size);
            return Err(io(&path)(e));
        }
        self.size += buf.len() as u64;
        self.written += buf.len() as u64;
        self.total += buf.len() as u64;
        Ok(self.written)
    }

    /// A handle on the open segment and the bytes written so far: syncing
    /// the handle makes every write up to that count durable (earlier
    /// segments were synced when they were sealed).
    pub fn sync_handle(&self) -> Result<(File, u64), WalError> {
        let path = segment_path(&self.dir, self.seq);
        let file = self.file.try_clone().map_err(io(&path))?;
        Ok((file, self.written))
    }

    /// Seals the open segment (synced) and starts the next.
    pub fn rotate(&mut self) -> Result<(), WalError> {
        let current = segment_path(&self.dir, self.seq);
        self.file.sync_data().map_err(io(&current))?;
        let next = segment_path(&self.dir, self.seq + 1);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&next)
            .map_err(io(&next))?;
        sync_dir(&self.dir)?;
        self.file = file;
        self.seq += 1;
        self.size = 0;
        Ok(())
    }

    /// The sealed segments (every one but the open one), oldest first.
    pub fn sealed(&self) -> Result<Vec<PathBuf>, WalError> {
        Ok(list(&self.dir)?
            .into_iter()
            .filter(|(s, _)| *s < self.seq)
            .map(|(_, p)| p)
            .collect())
    }

    /// Every segment, the open one last.
    pub fn segments(&self) -> Result<Vec<PathBuf>, WalError> {
        Ok(list(&self.dir)?.into_iter().map(|(_, p)| p).collect())
    }

    /// Removes a sealed segment whose content is stored elsewhere.
    pub fn remove(&mut self, path: &Path) -> Result<(), WalError> {
        let len = std::fs::metadata(path).map_err(io(path))?.len();
        std::fs::remove_file(path).map_err(io(path))?;
        self.total = self.total.saturating_sub(len);
        sync_dir(&self.dir)
    }

    /// Bytes in all segments: the backlog not yet compacted away.
    pub fn total_bytes(&self) -> u64 {
        self.total
    }

    /// Bytes in the open segment.
    pub fn open_segment_bytes(&self) -> u64 {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_file(path: &Path) -> Vec<u8> {
        std::fs::read(path).unwrap()
    }

    fn payload(k: usize) -> Vec<u8> {
        (0..(k * 37 % 200 + 1))
            .map(|i| (i * 31 + k) as u8)
            .collect()
    }

    /// Every payload of the log in `dir`, oldest first.
    fn all(dir: &Path) -> Vec<Vec<u8>> {
        list(dir)
            .unwrap()
            .iter()
            .flat_map(|(_, p)| read_segment(p).unwrap())
            .collect()
    }

    #[test]
    fn appended_frames_come_back_in_order_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, rec) = Wal::open(dir.path(), 1000).unwrap();
        assert_eq!(
            rec,
            Recovery {
                frames: 0,
                truncated: 0
            }
        );
        let written: Vec<Vec<u8>> = (0..40).map(payload).collect();
        for chunk in written.chunks(3) {
            let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
            wal.append(&refs).unwrap();
        }
        assert!(wal.sealed().unwrap().len() >= 3, "rotated at 1000 bytes");
        drop(wal);
        let (mut wal, rec) = Wal::open(dir.path(), 1000).unwrap();
        assert_eq!(
            rec,
            Recovery {
                frames: 40,
                truncated: 0
            }
        );
        assert_eq!(all(dir.path()), written);
        let on_disk = |wal: &Wal| -> u64 {
            wal.segments()
                .unwrap()
                .iter()
                .map(|p| std::fs::metadata(p).unwrap().len())
                .sum()
        };
        assert_eq!(wal.total_bytes(), on_disk(&wal));
        // A sealed segment, once stored elsewhere, goes.
        let first = wal.sealed().unwrap()[0].clone();
        let n = read_segment(&first).unwrap().len();
        wal.remove(&first).unwrap();
        assert_eq!(wal.total_bytes(), on_disk(&wal));
        assert_eq!(all(dir.path()), written[n..].to_vec());
    }

    #[test]
    fn writes_count_tickets_that_one_sync_covers() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, _) = Wal::open(dir.path(), 100).unwrap();
        let a = wal.write(&[b"one"]).unwrap();
        let b = wal.write(&[b"two", b"three"]).unwrap();
        assert_eq!(a, (HEADER + 3) as u64);
        assert_eq!(b, a + (2 * HEADER + 8) as u64);
        // Past the segment size: the next write seals (and syncs) this one.
        let c = wal.write(&[&[7u8; 120]]).unwrap();
        let d = wal.write(&[b"four"]).unwrap();
        assert!(d > c && c > b);
        let (file, through) = wal.sync_handle().unwrap();
        assert_eq!(through, d);
        file.sync_data().unwrap();
        drop(wal);
        assert_eq!(all(dir.path()).len(), 5);
    }

    #[test]
    fn a_torn_last_frame_is_cut_off_and_nothing_acknowledged_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, _) = Wal::open(dir.path(), 1 << 20).unwrap();
        let acked: Vec<Vec<u8>> = (0..5).map(payload).collect();
        for p in &acked {
            wal.append(&[p]).unwrap();
        }
        let good = wal.open_segment_bytes();
        let torn = payload(99);
        wal.append(&[&torn]).unwrap();
        drop(wal);
        let path = segment_path(dir.path(), 1);
        let whole = read_file(&path);
        // A crash at every byte of the last frame's write.
        for cut in good as usize..whole.len() {
            std::fs::write(&path, &whole[..cut]).unwrap();
            let (mut wal, rec) = Wal::open(dir.path(), 1 << 20).unwrap();
            assert_eq!(rec.frames, 5, "cut at {cut}");
            assert_eq!(rec.truncated, (cut - good as usize) as u64);
            assert_eq!(all(dir.path()), acked, "cut at {cut}");
            // The log goes on after the cut.
            wal.append(&[b"after"]).unwrap();
            drop(wal);
            let mut expected = acked.clone();
            expected.push(b"after".to_vec());
            assert_eq!(all(dir.path()), expected);
        }
    }

    #[test]
    fn damage_is_cut_off_the_newest_segment_and_refused_in_a_sealed_one() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, _) = Wal::open(dir.path(), 300).unwrap();
        for k in 0..12 {
            wal.append(&[&payload(k)]).unwrap();
        }
        let sealed = wal.sealed().unwrap();
        drop(wal);
        // A flipped bit in the newest segment's last payload: cut off.
        let newest = list(dir.path()).unwrap().last().unwrap().1.clone();
        let mut bytes = read_file(&newest);
        let last = bytes.len() - 1;
        bytes[last] ^= 0x10;
        std::fs::write(&newest, &bytes).unwrap();
        let (_, rec) = Wal::open(dir.path(), 300).unwrap();
        assert_eq!(rec.frames, 11);
        assert!(rec.truncated > 0);
        // The same in a sealed segment is an error naming it and where.
        let mut bytes = read_file(&sealed[0]);
        bytes[HEADER] ^= 0x01;
        std::fs::write(&sealed[0], &bytes).unwrap();
        let err = Wal::open(dir.path(), 300).unwrap_err().to_string();
        assert!(
            err.contains("seg-00000000000000000001.wal")
                && err.contains("byte 0")
                && err.contains("checksum"),
            "{err}"
        );
        assert!(read_segment(&sealed[0]).is_err());
    }

    #[test]
    fn a_log_has_one_writer_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let (wal, _) = Wal::open(dir.path(), 300).unwrap();
        let err = Wal::open(dir.path(), 300).unwrap_err();
        assert!(matches!(err, WalError::InUse { .. }), "{err}");
        assert!(err.to_string().contains("LOCK"), "{err}");
        drop(wal);
        Wal::open(dir.path(), 300).expect("free again once the first is closed");
    }
}
