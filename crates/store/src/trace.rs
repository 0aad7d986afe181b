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
use sqlx::Row;

use crate::error::{Context, Result, StoreError};
use crate::store::{Backend, Store, now_ms};
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

/// Keys looked up per statement (one parameter each).
const LOOKUP_CHUNK: usize = 1_000;
/// Rows inserted per statement (seven parameters each).
const INSERT_CHUNK: usize = 500;

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
const SEPARATOR: char = '\u{1e}';
/// Events whose bodies SQLite joins into one value.
const BODIES_PER_READ: i64 = 512;

/// Whether `seqs` (comma-separated) is `count` numbers, strictly ascending, all above `after`.
fn ascending_from(seqs: &str, after: i64, count: i64) -> bool {
    let mut previous = after;
    let mut n = 0;
    for part in seqs.split(',') {
        match part.parse::<i64>() {
            Ok(seq) if seq > previous => previous = seq,
            _ => return false,
        }
        n += 1;
    }
    n == count
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
        self.spawn_write(move |inner| async move {
            let mut writer = inner.lock_writer().await?;
            let Backend::Sqlite(pool) = &inner.backend;
            let mut tx = pool.begin().await.ctx("beginning a transaction")?;
            if let Some(row) = sqlx::query("SELECT seq FROM trace_documents WHERE sha256 = ?1")
                .bind(&document.sha256)
                .fetch_optional(&mut *tx)
                .await
                .ctx("looking up a trace document")?
            {
                let seq: i64 = row.try_get(0).ctx("looking up a trace document")?;
                return Ok(TraceImportOutcome {
                    document: Some(seq),
                    inserted: 0,
                    duplicates: document.events.len(),
                    duplicate_document: true,
                });
            }
            // The rows already stored under the document's keys, looked up in batches.
            let mut stored: HashMap<String, (i64, String)> = HashMap::new();
            for chunk in document.events.chunks(LOOKUP_CHUNK) {
                let sql = format!(
                    "SELECT key, seq, body FROM trace_events WHERE key IN ({})",
                    vec!["?"; chunk.len()].join(", ")
                );
                let mut query = sqlx::query(&sql);
                for row in chunk {
                    query = query.bind(&row.key);
                }
                for found in query
                    .fetch_all(&mut *tx)
                    .await
                    .ctx("looking up trace events")?
                {
                    let key: String = found.try_get(0).ctx("looking up trace events")?;
                    let seq: i64 = found.try_get(1).ctx("looking up trace events")?;
                    let body: String = found.try_get(2).ctx("looking up trace events")?;
                    stored.insert(key, (seq, body));
                }
            }
            // Duplicates and conflicts, against the table and earlier in the document, in
            // document order (the first offending event is the one named).
            let mut seen: HashMap<&str, (usize, &str)> =
                HashMap::with_capacity(document.events.len());
            let mut fresh = Vec::with_capacity(document.events.len());
            let mut duplicates = 0;
            for (index, row) in document.events.iter().enumerate() {
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
            let at = now_ms();
            let seq: i64 = sqlx::query(
                "INSERT INTO trace_documents (format, name, sha256, events, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) RETURNING seq",
            )
            .bind(&document.format)
            .bind(&document.name)
            .bind(&document.sha256)
            .bind(fresh.len() as i64)
            .bind(at)
            .fetch_one(&mut *tx)
            .await
            .ctx("storing a trace document")?
            .try_get(0)
            .ctx("storing a trace document")?;
            // Many rows per statement. Anonymous parameters only: sqlx looks up the name of
            // every parameter, and SQLite finds a numbered one by a scan over all of them.
            for chunk in fresh.chunks(INSERT_CHUNK) {
                let sql = format!(
                    "INSERT INTO trace_events (key, event_id, document, type, event_time, recorded_at, body) VALUES {}",
                    vec!["(?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ")
                );
                let mut query = sqlx::query(&sql);
                for row in chunk {
                    query = query
                        .bind(&row.key)
                        .bind(&row.event_id)
                        .bind(seq)
                        .bind(&row.event_type)
                        .bind(row.event_time)
                        .bind(at)
                        .bind(&row.body);
                }
                query
                    .execute(&mut *tx)
                    .await
                    .ctx("storing trace events")?;
            }
            if let Some(body) = &document.genealogy {
                sqlx::query("INSERT INTO trace_genealogy (document, body) VALUES (?1, ?2)")
                    .bind(seq)
                    .bind(body)
                    .execute(&mut *tx)
                    .await
                    .ctx("storing trace genealogy")?;
            }
            let detail = json!({
                "format": document.format,
                "name": document.name,
                "sha256": document.sha256,
                "inserted": fresh.len(),
                "duplicates": duplicates,
                "genealogy": document.genealogy.is_some(),
            });
            let record = writer.audit_record(
                &actor,
                "trace.import",
                format!("trace_document:{seq}"),
                &detail,
                at,
            );
            crate::sqlite::insert_audit(&mut tx, &record).await?;
            tx.commit().await.ctx("committing")?;
            writer.audited(record);
            Ok(TraceImportOutcome {
                document: Some(seq),
                inserted: fresh.len(),
                duplicates,
                duplicate_document: false,
            })
        })
        .await
    }

    /// Stored EPCIS events with `seq > after_seq`, at most `limit` (capped at
    /// [`crate::MAX_PAGE`]), in storage order.
    pub async fn trace_events(&self, after_seq: i64, limit: u32) -> Result<Vec<StoredTraceEvent>> {
        let Backend::Sqlite(pool) = &self.inner.backend;
        let rows = sqlx::query(
            "SELECT seq, document, recorded_at, body FROM trace_events WHERE seq > ?1
             ORDER BY seq LIMIT ?2",
        )
        .bind(after_seq)
        .bind(i64::from(limit.min(crate::MAX_PAGE)))
        .fetch_all(pool)
        .await
        .ctx("reading trace events")?;
        rows.iter()
            .map(|r| {
                Ok(StoredTraceEvent {
                    seq: r.try_get(0).ctx("reading trace events")?,
                    document: r.try_get(1).ctx("reading trace events")?,
                    recorded_at: Timestamp(r.try_get(2).ctx("reading trace events")?),
                    body: r.try_get(3).ctx("reading trace events")?,
                })
            })
            .collect()
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
    /// from), read in one snapshot.
    ///
    /// SQLite joins the bodies of [`BODIES_PER_READ`] events at a time into one value, so that
    /// rows do not cross from SQLite's thread one by one. Each joined value is checked (its
    /// count of pieces, its sequence numbers strictly ascending); one that does not check
    /// out (a body holding the separator), or that SQLite cannot make (longer than its
    /// string limit), has the whole read done again a row at a time.
    pub async fn trace_event_bodies(&self) -> Result<TraceBodies> {
        let Backend::Sqlite(pool) = &self.inner.backend;
        let mut tx = pool.begin().await.ctx("reading trace events")?;
        let mut joined = Vec::new();
        let mut after = 0i64;
        loop {
            let row = sqlx::query(
                "SELECT count(*), max(seq), group_concat(seq), group_concat(body, char(30))
                 FROM (SELECT seq, body FROM trace_events WHERE seq > ?1 ORDER BY seq LIMIT ?2)",
            )
            .bind(after)
            .bind(BODIES_PER_READ)
            .fetch_one(&mut *tx)
            .await;
            // A joined value SQLite cannot make (longer than its string limit) is read a row
            // at a time too; a real failure shows there again.
            let joined_read = row.ok().and_then(|row| {
                let count: i64 = row.try_get(0).ok()?;
                if count == 0 {
                    return Some(None);
                }
                let last: i64 = row.try_get(1).ok()?;
                let seqs: String = row.try_get(2).ok()?;
                let bodies: String = row.try_get(3).ok()?;
                (ascending_from(&seqs, after, count)
                    && bodies.split(SEPARATOR).count() as i64 == count)
                    .then_some(Some((last, bodies)))
            });
            let (last, bodies) = match joined_read {
                Some(Some(read)) => read,
                Some(None) => break,
                None => {
                    let rows: Vec<String> =
                        sqlx::query_scalar("SELECT body FROM trace_events ORDER BY seq")
                            .fetch_all(&mut *tx)
                            .await
                            .ctx("reading trace events")?;
                    return Ok(TraceBodies(Bodies::Rows(rows)));
                }
            };
            joined.push(bodies);
            after = last;
        }
        Ok(TraceBodies(Bodies::Joined(joined)))
    }

    /// The genealogy bodies stored with documents (B2MML), in import order.
    pub async fn trace_genealogy(&self) -> Result<Vec<String>> {
        let Backend::Sqlite(pool) = &self.inner.backend;
        let rows = sqlx::query("SELECT body FROM trace_genealogy ORDER BY document")
            .fetch_all(pool)
            .await
            .ctx("reading trace genealogy")?;
        rows.iter()
            .map(|r| r.try_get(0).ctx("reading trace genealogy"))
            .collect()
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
