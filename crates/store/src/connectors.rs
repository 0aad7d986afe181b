//! Connectors' persistence: where each source resumes (its cursor) and the records it could
//! not map (dead letters).
//!
//! A connector's batch is one write: its events are appended through the log's write path and,
//! in the same transaction, its new dead letters (once per connector and source id) and its
//! cursor are stored, audited with the events (`events.append` naming the connector) or, when
//! the batch stored no event, as `connector.batch`. So the cursor never runs ahead of the log
//! and a crash at any point replays the batch, which the log's idempotency by event id absorbs.

use model::{Event, Timestamp};
use serde::Serialize;
use serde_json::Value;

use crate::backend::{ConnectorRows, CursorRow, DeadLetterRow};
use crate::error::{Result, StoreError};
use crate::store::{Store, now_ms};
use crate::types::{Actor, AppendOutcome};

/// A record a connector could not map, to be kept.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDeadLetter {
    /// The peer's identity of the record.
    pub source_id: String,
    /// Why it could not be mapped.
    pub reason: String,
    /// The record as the peer sent it.
    pub raw: Value,
}

/// What one connector batch stores besides its events.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConnectorBatch {
    /// The connector's name.
    pub connector: String,
    /// The cursor to resume from after this batch (none: keep the stored one).
    pub cursor: Option<String>,
    pub dead_letters: Vec<NewDeadLetter>,
}

/// What storing a connector batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ConnectorOutcome {
    pub append: AppendOutcome,
    /// Dead letters newly stored (one read before is not stored again).
    pub dead_letters: u64,
}

/// A connector's stored place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct StoredCursor {
    pub connector: String,
    pub cursor: Option<String>,
    /// The plant time of the newest event stored through the connector.
    pub last_event_time: Option<Timestamp>,
    pub updated_at: Timestamp,
}

/// A stored dead letter.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DeadLetter {
    /// Its place among the store's dead letters (a keyset for paging).
    pub seq: i64,
    pub connector: String,
    pub source_id: String,
    pub reason: String,
    pub raw: Value,
    pub at: Timestamp,
}

fn stored_cursor(row: CursorRow) -> StoredCursor {
    StoredCursor {
        connector: row.connector,
        cursor: row.cursor,
        last_event_time: row.last_event_time.map(Timestamp),
        updated_at: Timestamp(row.updated_at),
    }
}

fn dead_letter(row: DeadLetterRow) -> Result<DeadLetter> {
    let raw = serde_json::from_str(&row.raw).map_err(|e| {
        StoreError::Corrupt(format!("dead letter {} does not decode: {e}", row.seq))
    })?;
    Ok(DeadLetter {
        seq: row.seq,
        connector: row.connector,
        source_id: row.source_id,
        reason: row.reason,
        raw,
        at: Timestamp(row.at),
    })
}

impl Store {
    /// Appends a connector's `events` (atomically and idempotently by id, like
    /// [`Store::append`]) and, in the same transaction, its new dead letters and cursor. A
    /// batch that brings nothing new (no event stored, no dead letter, no cursor) writes
    /// nothing.
    pub async fn append_from_connector(
        &self,
        events: &[Event],
        actor: &Actor,
        batch: ConnectorBatch,
    ) -> Result<ConnectorOutcome> {
        let mut rows = ConnectorRows {
            connector: batch.connector,
            cursor: batch.cursor,
            last_event_time: events.iter().map(|e| e.time.0).max(),
            dead_letters: batch
                .dead_letters
                .into_iter()
                .map(|d| {
                    let raw = serde_json::to_string(&d.raw).expect("JSON values serialise");
                    (d.source_id, d.reason, raw)
                })
                .collect(),
            at: now_ms(),
        };
        let (append, dead_letters) = self.inner.append(events, actor, Some(&mut rows)).await?;
        Ok(ConnectorOutcome {
            append,
            dead_letters,
        })
    }

    /// One connector's stored cursor.
    pub async fn connector_cursor(&self, connector: &str) -> Result<Option<StoredCursor>> {
        Ok(self
            .inner
            .backend
            .connector_cursor(connector)
            .await?
            .map(stored_cursor))
    }

    /// Every connector's stored cursor, by name.
    pub async fn connector_cursors(&self) -> Result<Vec<StoredCursor>> {
        Ok(self
            .inner
            .backend
            .connector_cursors()
            .await?
            .into_iter()
            .map(stored_cursor)
            .collect())
    }

    /// A connector's dead letters after `after_seq`, oldest first, at most `limit` (capped at
    /// [`crate::MAX_PAGE`] and one more, so that a pager knows there is a next page).
    pub async fn dead_letters(
        &self,
        connector: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<DeadLetter>> {
        let limit = i64::from(limit.min(crate::MAX_PAGE + 1));
        self.inner
            .backend
            .dead_letters(connector, after_seq, limit)
            .await?
            .into_iter()
            .map(dead_letter)
            .collect()
    }

    /// The number of dead letters per connector (those with none are left out).
    pub async fn dead_letter_counts(&self) -> Result<Vec<(String, u64)>> {
        Ok(self
            .inner
            .backend
            .dead_letter_counts()
            .await?
            .into_iter()
            .map(|(name, n)| (name, n as u64))
            .collect())
    }
}
