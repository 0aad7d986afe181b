//! Persistence of imported genealogy documents (EPCIS 2.0 events, B2MML material actuals).
//!
//! The store keeps what the `trace` engine needs and nothing of its logic: a document arrives
//! already parsed and normalised by the caller as plain rows ([`TraceDocument`]), and is
//! written through the store's one audited write path — the writer lock, one chained audit
//! record (`trace.import`) and the rows in one transaction, so a document is stored whole or
//! not at all. EPCIS events are idempotent by key (the eventID): the same key with the same
//! body is a duplicate and skipped, with another body a [`StoreError::Conflict`] naming the
//! event's index and id; the same document (by content hash) twice is a duplicate document.

use std::collections::HashMap;

use model::{Event, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::backend::TraceDocumentRow;
use crate::error::{Result, StoreError};
use crate::store::{Entry, Store, now_ms};
use crate::types::{Actor, EventFilter};

/// One EPCIS event of a document, as the caller normalised it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceEventRow {
    /// Idempotency key: the eventID, or `<eventID>#error` for an error declaration.
    pub key: String,
    pub event_id: String,
    /// `ObjectEvent`, `AggregationEvent`, …
    pub event_type: String,
    /// Event time, ms since the epoch.
    pub event_time: i64,
    /// JSON of the event.
    pub body: String,
}

/// A document to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceDocument {
    /// `epcis_json`, `epcis_xml`, `b2mml`, `capture` …
    pub format: String,
    /// File name or other label.
    pub name: String,
    /// Hash of the document's canonical content.
    pub sha256: String,
    pub events: Vec<TraceEventRow>,
    /// JSON of genealogy records carried outside EPCIS events (B2MML).
    pub genealogy: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TraceImportOutcome {
    /// The document's sequence number (also for a duplicate document).
    pub document: Option<i64>,
    pub inserted: usize,
    pub duplicates: usize,
    /// The same document was imported before; nothing was written.
    pub duplicate_document: bool,
}

/// A stored EPCIS event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTraceEvent {
    pub seq: i64,
    pub document: i64,
    pub recorded_at: Timestamp,
    pub body: String,
}

/// Stored EPCIS event bodies read for the genealogy index ([`Store::trace_event_bodies`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceBodies(Bodies);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Bodies {
    /// Bodies joined by [`SEPARATOR`], which none of them holds.
    Joined(Vec<String>),
    /// One body a row.
    Rows(Vec<String>),
}

impl TraceBodies {
    /// Bodies joined by [`SEPARATOR`], which none of them holds.
    pub(crate) fn joined(joined: Vec<String>) -> TraceBodies {
        TraceBodies(Bodies::Joined(joined))
    }

    /// One body a row.
    pub(crate) fn rows(rows: Vec<String>) -> TraceBodies {
        TraceBodies(Bodies::Rows(rows))
    }

    /// The bodies, in storage order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let (joined, rows) = match &self.0 {
            Bodies::Joined(j) => (j.as_slice(), &[][..]),
            Bodies::Rows(r) => (&[][..], r.as_slice()),
        };
        joined
            .iter()
            .flat_map(|j| j.split(SEPARATOR))
            .chain(rows.iter().map(String::as_str))
    }
}

/// Joins stored bodies (ASCII record separator, which JSON text holds only escaped).
pub(crate) const SEPARATOR: char = '\u{1e}';

/// The rows of a document not stored yet, and the number of duplicates: against the stored
/// rows and earlier in the document, in document order (the first offending event is the one
/// named in a conflict).
fn fresh_rows<'d>(
    events: &'d [TraceEventRow],
    stored: &HashMap<String, (i64, String)>,
) -> Result<(Vec<&'d TraceEventRow>, usize)> {
    let mut seen: HashMap<&str, (usize, &str)> = HashMap::with_capacity(events.len());
    let mut fresh = Vec::with_capacity(events.len());
    let mut duplicates = 0;
    for (index, row) in events.iter().enumerate() {
        if let Some(&(first, body)) = seen.get(row.key.as_str()) {
            if body == row.body {
                duplicates += 1;
                continue;
            }
            return Err(StoreError::Conflict {
                index,
                id: row.event_id.clone(),
                where_: format!("at document index {first}"),
            });
        }
        seen.insert(&row.key, (index, &row.body));
        match stored.get(row.key.as_str()) {
            Some((seq, body)) => {
                if *body != row.body {
                    return Err(StoreError::Conflict {
                        index,
                        id: row.event_id.clone(),
                        where_: format!("in the trace log (seq {seq})"),
                    });
                }
                duplicates += 1;
            }
            None => fresh.push(row),
        }
    }
    Ok((fresh, duplicates))
}

/// The event types genealogy is built from.
pub const MATERIAL_EVENT_TYPES: [&str; 5] = [
    "operation_started",
    "material_received",
    "material_consumed",
    "material_produced",
    "material_shipped",
];

impl Store {
    /// Stores a genealogy document atomically with its audit record (see the module docs).
    pub async fn import_trace_document(
        &self,
        document: TraceDocument,
        actor: &Actor,
    ) -> Result<TraceImportOutcome> {
        let actor = actor.clone();
        self.audited(move |tx, _| {
            Box::pin(async move {
                if let Some(seq) = tx.trace_document(&document.sha256).await? {
                    let outcome = TraceImportOutcome {
                        document: Some(seq),
                        inserted: 0,
                        duplicates: document.events.len(),
                        duplicate_document: true,
                    };
                    return Ok((outcome, None));
                }
                let keys: Vec<&str> = document.events.iter().map(|e| e.key.as_str()).collect();
                let stored = tx.trace_keys(&keys).await?;
                let (fresh, duplicates) = fresh_rows(&document.events, &stored)?;
                let at = now_ms();
                let seq = tx
                    .insert_trace_document(&TraceDocumentRow {
                        format: &document.format,
                        name: &document.name,
                        sha256: &document.sha256,
                        events: fresh.len() as i64,
                        recorded_at: at,
                    })
                    .await?;
                tx.insert_trace_events(seq, at, &fresh).await?;
                if let Some(body) = &document.genealogy {
                    tx.insert_trace_genealogy(seq, body).await?;
                }
                let detail = json!({
                    "format": document.format,
                    "name": document.name,
                    "sha256": document.sha256,
                    "inserted": fresh.len(),
                    "duplicates": duplicates,
                    "genealogy": document.genealogy.is_some(),
                });
                let outcome = TraceImportOutcome {
                    document: Some(seq),
                    inserted: fresh.len(),
                    duplicates,
                    duplicate_document: false,
                };
                let entry = Entry {
                    actor,
                    action: "trace.import",
                    subject: format!("trace_document:{seq}"),
                    detail,
                    at,
                };
                Ok((outcome, Some(entry)))
            })
        })
        .await
    }

    /// Stored EPCIS events with `seq > after_seq`, at most `limit` (capped at
    /// [`crate::MAX_PAGE`]), in storage order.
    pub async fn trace_events(&self, after_seq: i64, limit: u32) -> Result<Vec<StoredTraceEvent>> {
        let limit = i64::from(limit.min(crate::MAX_PAGE));
        self.inner.backend.trace_events(after_seq, limit).await
    }

    /// Every stored EPCIS event body, in storage order.
    pub async fn all_trace_events(&self) -> Result<Vec<StoredTraceEvent>> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = self.trace_events(after, crate::MAX_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            out.extend(page);
        }
        Ok(out)
    }

    /// Every stored EPCIS event body, in storage order (what the genealogy index is built
    /// from), read in one snapshot. (SQLite hands them over joined in blocks.)
    pub async fn trace_event_bodies(&self) -> Result<TraceBodies> {
        self.inner.backend.trace_event_bodies().await
    }

    /// The genealogy bodies stored with documents (B2MML), in import order.
    pub async fn trace_genealogy(&self) -> Result<Vec<String>> {
        self.inner.backend.trace_genealogy().await
    }

    /// The log's events that genealogy is built from ([`MATERIAL_EVENT_TYPES`]), in order.
    pub async fn material_events(&self) -> Result<Vec<Event>> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = self
                .events(EventFilter {
                    types: MATERIAL_EVENT_TYPES
                        .iter()
                        .map(|s| (*s).to_owned())
                        .collect(),
                    after_seq: Some(after),
                    limit: crate::MAX_PAGE,
                    ..EventFilter::default()
                })
                .await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            out.extend(page.into_iter().map(|s| s.event));
        }
        Ok(out)
    }
}
