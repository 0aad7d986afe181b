//! The `jsonl` source: a file a plant system appends mixplane events to, one JSON event per
//! line (the event document of `schemas/`), tailed by byte offset.
//!
//! The cursor is the byte offset just past the last complete line read; a line still being
//! written (no newline yet) is left for the next poll. A line's source id is
//! `{path}@{offset}`, so a line read again after a restart is the same record; its events keep
//! their own ids, which the log deduplicates. A line that is not an event document (see
//! [`crate::payload`]: one event or an array of them) is a record refused with the reason and
//! kept as a dead letter, and the tail goes on past it. Blank lines are skipped. A missing file is a
//! peer that is not there yet (retried); a file shorter than the cursor was truncated or
//! replaced, which someone must look at (`Broken`).
//!
//! Settings: `path` (the file), `batch_lines` (most lines per poll, default 500).

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;

use serde::Deserialize;

use crate::kinds::{AnySource, ConnectError, ConnectorSpec};
use crate::payload::map_event_document;
use crate::source::{Batch, PeerError, Record, Source};

/// The kind's name in the configuration.
pub const KIND: &str = "jsonl";

/// The longest line read as one record; a longer one is dead-lettered.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The `settings` of a `jsonl` connector.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonlSettings {
    pub path: PathBuf,
    #[serde(default = "default_batch_lines")]
    pub batch_lines: usize,
}

fn default_batch_lines() -> usize {
    500
}

/// A tailed file of events.
#[derive(Debug, Clone)]
pub struct JsonlSource {
    name: String,
    settings: JsonlSettings,
}

impl JsonlSource {
    pub fn new(name: impl Into<String>, settings: JsonlSettings) -> JsonlSource {
        JsonlSource {
            name: name.into(),
            settings,
        }
    }
}

/// Builds a `jsonl` source from its configuration.
pub fn factory(spec: &ConnectorSpec) -> Result<AnySource, ConnectError> {
    let settings: JsonlSettings = spec.settings()?;
    if settings.batch_lines == 0 {
        return Err(ConnectError::Settings {
            connector: spec.name.clone(),
            message: "`batch_lines` must be at least 1".into(),
        });
    }
    Ok(AnySource(Box::new(JsonlSource::new(&spec.name, settings))))
}

/// Reads up to `max_lines` complete lines from `offset`.
fn read_lines(path: &PathBuf, offset: u64, max_lines: usize) -> Result<Batch, PeerError> {
    let shown = path.display();
    let mut file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            PeerError::unavailable(format!("{shown} does not exist (yet)"))
        }
        _ => PeerError::unavailable(format!("{shown} does not open: {e}")),
    })?;
    let len = file
        .metadata()
        .map_err(|e| PeerError::unavailable(format!("{shown}: {e}")))?
        .len();
    if len < offset {
        return Err(PeerError::Broken(format!(
            "{shown} holds {len} bytes, fewer than the {offset} already read: it was truncated or replaced; reset the connector's cursor to read it again"
        )));
    }
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| PeerError::unavailable(format!("{shown}: {e}")))?;
    let mut reader = BufReader::new(file);
    let mut at = offset;
    let mut records = Vec::new();
    let mut line = Vec::new();
    while records.len() < max_lines {
        line.clear();
        let read = reader
            .by_ref()
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| PeerError::unavailable(format!("{shown}: {e}")))?;
        if read == 0 {
            break;
        }
        let complete = line.last() == Some(&b'\n');
        let source_id = format!("{shown}@{at}");
        if !complete && line.len() <= MAX_LINE_BYTES {
            // The writer has not finished this line: read it again next time.
            break;
        }
        if !complete {
            // Longer than a record may be: skip to its end, if it has one yet.
            let mut skipped = line.len() as u64;
            let mut rest = Vec::new();
            loop {
                rest.clear();
                let n = reader
                    .by_ref()
                    .take(1 << 16)
                    .read_until(b'\n', &mut rest)
                    .map_err(|e| PeerError::unavailable(format!("{shown}: {e}")))?;
                skipped += n as u64;
                if rest.last() == Some(&b'\n') {
                    break;
                }
                if n == 0 {
                    return Ok(Batch {
                        records,
                        cursor: Some(at.to_string()),
                        more: false,
                    });
                }
            }
            let head = String::from_utf8_lossy(&line[..256.min(line.len())]).into_owned();
            records.push(Record {
                source_id,
                mapped: Err(format!(
                    "the line is {skipped} bytes, longer than the limit of {MAX_LINE_BYTES}"
                )),
                raw: serde_json::json!({ "head": head, "bytes": skipped }),
            });
            at += skipped;
            continue;
        }
        at += read as u64;
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        if body.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let (mapped, raw) = map_event_document(body);
        records.push(Record {
            source_id,
            mapped,
            raw,
        });
    }
    Ok(Batch {
        more: records.len() >= max_lines && at < len,
        records,
        cursor: Some(at.to_string()),
    })
}

impl Source for JsonlSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn poll(&mut self, cursor: Option<&str>) -> Result<Batch, PeerError> {
        let offset = match cursor {
            None => 0,
            Some(text) => text.parse::<u64>().map_err(|_| {
                PeerError::Broken(format!(
                    "the stored cursor `{text}` is not a byte offset; was the connector's kind changed?"
                ))
            })?,
        };
        let path = self.settings.path.clone();
        let max = self.settings.batch_lines;
        tokio::task::spawn_blocking(move || read_lines(&path, offset, max))
            .await
            .map_err(|e| PeerError::Broken(format!("reading the file panicked: {e}")))?
    }

    async fn check(&mut self) -> Result<(), PeerError> {
        let path = self.settings.path.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::File::open(&path).map(drop).map_err(|e| {
                PeerError::unavailable(format!("{} does not open: {e}", path.display()))
            })
        })
        .await
        .map_err(|e| PeerError::Broken(format!("checking the file panicked: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, text: &[u8]) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("mixplane-jsonl-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("events.jsonl");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_partial_last_line_waits_and_blank_lines_are_skipped() {
        let path = temp("partial", b"not json\n\n{\"id\":");
        let batch = read_lines(&path, 0, 10).unwrap();
        assert_eq!(batch.records.len(), 1);
        assert_eq!(batch.cursor.as_deref(), Some("10"));
        assert!(!batch.more);
        assert!(
            batch.records[0]
                .mapped
                .as_ref()
                .unwrap_err()
                .contains("not a mixplane event")
        );
        assert_eq!(batch.records[0].raw, serde_json::json!("not json"));
        let again = read_lines(&path, 10, 10).unwrap();
        assert!(again.records.is_empty());
        assert_eq!(again.cursor.as_deref(), Some("10"));
    }

    #[test]
    fn batches_stop_at_the_line_limit_and_say_more() {
        let path = temp("more", b"1\n2\n3\n");
        let batch = read_lines(&path, 0, 2).unwrap();
        assert_eq!(batch.records.len(), 2);
        assert!(batch.more);
        assert_eq!(batch.cursor.as_deref(), Some("4"));
        assert_eq!(batch.records[1].source_id, format!("{}@2", path.display()));
    }

    #[test]
    fn a_truncated_file_is_broken_and_a_missing_one_unavailable() {
        let path = temp("short", b"1\n");
        assert!(matches!(read_lines(&path, 9, 2), Err(PeerError::Broken(_))));
        let missing = path.with_file_name("none.jsonl");
        assert!(matches!(
            read_lines(&missing, 0, 2),
            Err(PeerError::Unavailable { .. })
        ));
    }

    #[test]
    fn an_overlong_line_is_one_dead_letter_and_the_tail_goes_on() {
        let mut text = vec![b'x'; MAX_LINE_BYTES + 10];
        text.extend_from_slice(b"\nnext\n");
        let path = temp("long", &text);
        let batch = read_lines(&path, 0, 10).unwrap();
        assert_eq!(batch.records.len(), 2);
        assert!(
            batch.records[0]
                .mapped
                .as_ref()
                .unwrap_err()
                .contains("longer than")
        );
        assert_eq!(
            batch.records[1].source_id,
            format!("{}@{}", path.display(), MAX_LINE_BYTES + 11)
        );
    }
}
