//! Parsing one CSV stream on several threads.
//!
//! Parsing text into numbers is most of the cost of reading a CSV file
//! (arrow-csv tokenises about 200 MB/s and parses floats at about 75 ns
//! each on one core), and one file is often all there is. So a splitter
//! thread cuts the decompressed text into blocks that end at record
//! boundaries, workers parse blocks independently, and the batches come
//! back in file order.
//!
//! A record boundary is a newline outside quotes. The quote state at any
//! byte is the parity of the quote characters before it (a doubled quote
//! inside a quoted field toggles twice), and every cut is made outside
//! quotes, so each block is scanned from a known state: no record is ever
//! split, even one with newlines inside quoted fields.
//!
//! Memory is bounded: at most [`IN_FLIGHT`] blocks exist at a time (being
//! split, parsed, or waiting for an earlier block to be delivered).

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use arrow_csv::ReaderBuilder;
use arrow_schema::{ArrowError, SchemaRef};

use crate::csv::{CsvOptions, cast_leniently, dialect, format_error};
use crate::{BadValueCounts, BadValues, Error};

/// Bytes a block holds at least (it ends at the first record boundary
/// after this many bytes, or at the end of the text).
pub(crate) const BLOCK: usize = 8 << 20;

/// Blocks in flight at most, per stream.
const IN_FLIGHT: usize = 4;

/// One parsed block: its batches (bad values counted), then the error that
/// stopped it, if any, as arrow-csv reported it (line numbers relative to
/// the block, fixed up on delivery).
struct Parsed {
    batches: Vec<(RecordBatch, BadValueCounts)>,
    error: Option<BlockError>,
}

enum BlockError {
    /// From the CSV decoder: its line numbers count from the block start.
    Arrow(ArrowError),
    /// Anything else (reading the file, casting).
    Other(Error),
}

/// What the splitter sends the workers.
type Work = (usize, Result<Vec<u8>, Error>);

/// How a CSV stream is parsed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Blocks {
    /// Rows per batch, at most.
    pub(crate) batch_size: usize,
    /// What a value that does not parse becomes.
    pub(crate) bad_values: BadValues,
    /// Parsing threads.
    pub(crate) threads: usize,
    /// Bytes a block holds at least ([`BLOCK`]; tests use small ones).
    pub(crate) block: usize,
}

/// Streams the batches of the CSV `text` read as `read_as`, cast to
/// `schema` when values may be bad (see [`crate::csv::read`]).
pub(crate) fn read(
    text: Box<dyn Read + Send>,
    path: PathBuf,
    (read_as, schema): (SchemaRef, SchemaRef),
    options: &CsvOptions,
    blocks: Blocks,
) -> Chunks {
    let Blocks {
        batch_size,
        bad_values,
        threads,
        block,
    } = blocks;
    let (work_tx, work_rx) = sync_channel::<Work>(threads);
    let (done_tx, done_rx) = channel::<(usize, Parsed)>();
    // A token per block in flight: the splitter takes one before cutting a
    // block and the reader returns it once the block is delivered.
    let (token_tx, token_rx) = sync_channel::<()>(IN_FLIGHT);
    let quote = options.quote;
    let header = options.header;
    std::thread::spawn(move || split(text, quote, header, block, work_tx, token_tx));
    let work_rx = Arc::new(Mutex::new(work_rx));
    for _ in 0..threads.max(1) {
        let work_rx = work_rx.clone();
        let done_tx = done_tx.clone();
        let (read_as, schema) = (read_as.clone(), schema.clone());
        let format = dialect(options).with_header(false);
        let path = path.clone();
        std::thread::spawn(move || {
            loop {
                let next = match work_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((index, bytes)) = next else {
                    return;
                };
                let parsed = match bytes {
                    Err(e) => Parsed {
                        batches: Vec::new(),
                        error: Some(BlockError::Other(e)),
                    },
                    Ok(bytes) => parse_block(
                        bytes,
                        &read_as,
                        &schema,
                        format.clone(),
                        batch_size,
                        bad_values,
                        &path,
                    ),
                };
                if done_tx.send((index, parsed)).is_err() {
                    return;
                }
            }
        });
    }
    Chunks {
        path,
        schema,
        header,
        done: done_rx,
        tokens: token_rx,
        waiting: BTreeMap::new(),
        next: 0,
        pending: Vec::new().into_iter(),
        rows_before: 0,
        block_start: 0,
        pending_error: None,
        failed: false,
    }
}

fn parse_block(
    bytes: Vec<u8>,
    read_as: &SchemaRef,
    schema: &SchemaRef,
    format: arrow_csv::reader::Format,
    batch_size: usize,
    bad_values: BadValues,
    path: &Path,
) -> Parsed {
    let mut out = Parsed {
        batches: Vec::new(),
        error: None,
    };
    let reader = match ReaderBuilder::new(read_as.clone())
        .with_format(format)
        .with_batch_size(batch_size)
        .build_buffered(Cursor::new(bytes))
    {
        Ok(r) => r,
        Err(e) => {
            out.error = Some(BlockError::Arrow(e));
            return out;
        }
    };
    for batch in reader {
        let batch = match batch {
            Err(e) => {
                out.error = Some(BlockError::Arrow(e));
                break;
            }
            Ok(batch) => batch,
        };
        match bad_values {
            BadValues::Fail => out.batches.push((batch, BTreeMap::new())),
            BadValues::Missing => match cast_leniently(path, &batch, schema) {
                Ok(cast) => out.batches.push(cast),
                Err(e) => {
                    out.error = Some(BlockError::Other(e));
                    break;
                }
            },
        }
    }
    out
}

/// Reads from `text` until `buf` holds `want` bytes or the text ends
/// (into spare capacity: nothing is zeroed first). Returns whether it
/// ended.
fn fill(text: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> std::io::Result<bool> {
    while buf.len() < want {
        let missing = (want - buf.len()) as u64;
        match text.take(missing).read_to_end(buf) {
            Ok(0) => return Ok(true),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// Cuts `text` into blocks at record boundaries and sends them in order.
fn split(
    mut text: Box<dyn Read + Send>,
    quote: u8,
    header: bool,
    block: usize,
    work: SyncSender<Work>,
    tokens: SyncSender<()>,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(block + (1 << 16));
    let mut index = 0;
    let mut skip_header = header;
    let mut eof = false;
    // How many bytes to hold before looking for a cut: a block, more when
    // one record (or the header) is longer than that.
    let mut want = block;
    loop {
        if !eof {
            match fill(&mut text, &mut buf, want) {
                Ok(ended) => eof = ended,
                Err(e) => {
                    let _ = tokens.send(());
                    let source = Error::Io {
                        path: PathBuf::new(),
                        source: e,
                    };
                    let _ = work.send((index, Err(source)));
                    return;
                }
            }
        }
        if skip_header {
            match first_record_end(&buf, quote) {
                Some(end) => {
                    buf.drain(..end);
                    skip_header = false;
                }
                None if eof => return,
                None => {
                    want = buf.len() + block;
                    continue;
                }
            }
        }
        let cut = if eof {
            buf.len()
        } else {
            match last_record_end(&buf, quote) {
                Some(end) => end,
                None => {
                    want = buf.len() + block;
                    continue;
                }
            }
        };
        want = block;
        if cut == 0 {
            return;
        }
        let rest = buf.split_off(cut);
        let full = std::mem::replace(&mut buf, rest);
        buf.reserve(block);
        if tokens.send(()).is_err() || work.send((index, Ok(full))).is_err() {
            return;
        }
        index += 1;
        if eof && buf.is_empty() {
            return;
        }
    }
}

/// Just past the first newline outside quotes, scanning from a state
/// outside quotes.
fn first_record_end(buf: &[u8], quote: u8) -> Option<usize> {
    let mut quoted = false;
    for (i, &b) in buf.iter().enumerate() {
        if b == quote {
            quoted = !quoted;
        } else if b == b'\n' && !quoted {
            return Some(i + 1);
        }
    }
    None
}

/// Just past the last newline outside quotes, scanning from a state
/// outside quotes; `None` when there is none.
fn last_record_end(buf: &[u8], quote: u8) -> Option<usize> {
    // Without a quote character anywhere, the last newline is the end.
    if !buf.contains(&quote) {
        return buf.iter().rposition(|&b| b == b'\n').map(|i| i + 1);
    }
    let mut quoted = false;
    let mut last = None;
    for (i, &b) in buf.iter().enumerate() {
        if b == quote {
            quoted = !quoted;
        } else if b == b'\n' && !quoted {
            last = Some(i + 1);
        }
    }
    last
}

/// The batches of a CSV stream parsed on several threads, in file order;
/// see [`read`].
pub(crate) struct Chunks {
    path: PathBuf,
    schema: SchemaRef,
    header: bool,
    done: Receiver<(usize, Parsed)>,
    tokens: Receiver<()>,
    /// Blocks parsed ahead of the one due.
    waiting: BTreeMap<usize, Parsed>,
    /// The block due next.
    next: usize,
    /// The batches of the block being delivered.
    pending: std::vec::IntoIter<(RecordBatch, BadValueCounts)>,
    /// Records delivered before the block being delivered.
    rows_before: u64,
    /// Records of the blocks before the one being delivered.
    block_start: u64,
    /// The error that stopped the block being delivered, due after its
    /// batches.
    pending_error: Option<BlockError>,
    failed: bool,
}

impl Chunks {
    /// The error that stopped a block, its line numbers counted from the
    /// start of the file as arrow-csv counts them (the header is line 0).
    fn block_error(&self, e: BlockError) -> Error {
        match e {
            BlockError::Other(Error::Io { source, .. }) => Error::Io {
                path: self.path.clone(),
                source,
            },
            BlockError::Other(e) => e,
            BlockError::Arrow(e) => {
                let offset = self.block_start + u64::from(self.header);
                let message = shift_line_numbers(&e.to_string(), offset);
                format_error(
                    &self.path,
                    ArrowError::CsvError(message),
                    Some(&self.schema),
                )
            }
        }
    }
}

/// `message` with every number after "line " increased by `offset`.
fn shift_line_numbers(message: &str, offset: u64) -> String {
    let mut out = String::with_capacity(message.len() + 8);
    let mut rest = message;
    while let Some(at) = rest.find("line ") {
        let (head, tail) = rest.split_at(at + 5);
        out.push_str(head);
        let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
        match digits.parse::<u64>() {
            Ok(n) => {
                out.push_str(&(n + offset).to_string());
                rest = &tail[digits.len()..];
            }
            Err(_) => rest = tail,
        }
    }
    out.push_str(rest);
    // arrow-csv wraps messages in its own prefix: keep one.
    out.strip_prefix("Csv error: ")
        .map(str::to_string)
        .unwrap_or(out)
}

impl Iterator for Chunks {
    type Item = Result<(RecordBatch, BadValueCounts), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.failed {
                return None;
            }
            if let Some(item) = self.pending.next() {
                self.rows_before += item.0.num_rows() as u64;
                return Some(Ok(item));
            }
            if let Some(e) = self.pending_error.take() {
                self.failed = true;
                return Some(Err(self.block_error(e)));
            }
            // The next block, in order.
            let parsed = loop {
                if let Some(p) = self.waiting.remove(&self.next) {
                    break p;
                }
                match self.done.recv() {
                    Ok((i, p)) => {
                        self.waiting.insert(i, p);
                    }
                    // The splitter and every worker are done: the end.
                    Err(_) => return None,
                }
            };
            self.next += 1;
            // The block is being delivered: free its slot for the splitter.
            let _ = self.tokens.try_recv();
            self.block_start = self.rows_before;
            self.pending = parsed.batches.into_iter();
            self.pending_error = parsed.error;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ends_respect_quotes() {
        let text = b"a,\"x\ny\",1\nb,\"\"\"q\"\"\n\",2\nc,3";
        assert_eq!(first_record_end(text, b'"'), Some(10));
        assert_eq!(last_record_end(text, b'"'), Some(23));
        assert_eq!(last_record_end(b"no newline", b'"'), None);
        assert_eq!(last_record_end(b"1,2\n3,4\n5", b'"'), Some(8));
    }

    #[test]
    fn line_numbers_shift() {
        assert_eq!(
            shift_line_numbers("Csv error: bad at line 3, see line 4", 10),
            "bad at line 13, see line 14"
        );
        assert_eq!(
            shift_line_numbers("no numbers: line x", 5),
            "no numbers: line x"
        );
    }
}
