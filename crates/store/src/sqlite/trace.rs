//! Imported genealogy documents on SQLite.

use std::collections::HashMap;

use model::Timestamp;
use sqlx::Row;

use super::{Sqlite, Tx};
use crate::backend::{TraceDocumentRow, TraceStore, TraceTx};
use crate::error::{Context, Result};
use crate::trace::{SEPARATOR, StoredTraceEvent, TraceBodies, TraceEventRow};

/// Keys looked up per statement (one parameter each).
const LOOKUP_CHUNK: usize = 1_000;
/// Rows inserted per statement (seven parameters each).
const INSERT_CHUNK: usize = 500;
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

impl TraceStore for Sqlite {
    async fn trace_events(&self, after: i64, limit: i64) -> Result<Vec<StoredTraceEvent>> {
        let rows = sqlx::query(
            "SELECT seq, document, recorded_at, body FROM trace_events WHERE seq > ?1
             ORDER BY seq LIMIT ?2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
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

    /// SQLite joins the bodies of [`BODIES_PER_READ`] events at a time into one value, so
    /// that rows do not cross from SQLite's thread one by one. Each joined value is checked
    /// (its count of pieces, its sequence numbers strictly ascending); one that does not
    /// check out (a body holding the separator), or that SQLite cannot make (longer than its
    /// string limit), has the whole read done again a row at a time.
    async fn trace_event_bodies(&self) -> Result<TraceBodies> {
        let mut tx = self.pool.begin().await.ctx("reading trace events")?;
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
                    return Ok(TraceBodies::rows(rows));
                }
            };
            joined.push(bodies);
            after = last;
        }
        Ok(TraceBodies::joined(joined))
    }

    async fn trace_genealogy(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT body FROM trace_genealogy ORDER BY document")
            .fetch_all(&self.pool)
            .await
            .ctx("reading trace genealogy")?;
        rows.iter()
            .map(|r| r.try_get(0).ctx("reading trace genealogy"))
            .collect()
    }
}

impl TraceTx for Tx {
    async fn trace_document(&mut self, sha256: &str) -> Result<Option<i64>> {
        sqlx::query("SELECT seq FROM trace_documents WHERE sha256 = ?1")
            .bind(sha256)
            .fetch_optional(&mut *self.0)
            .await
            .ctx("looking up a trace document")?
            .map(|row| row.try_get(0))
            .transpose()
            .ctx("looking up a trace document")
    }

    /// Looked up in batches of [`LOOKUP_CHUNK`].
    async fn trace_keys(&mut self, keys: &[&str]) -> Result<HashMap<String, (i64, String)>> {
        let mut stored = HashMap::new();
        for chunk in keys.chunks(LOOKUP_CHUNK) {
            let sql = format!(
                "SELECT key, seq, body FROM trace_events WHERE key IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(&sql);
            for key in chunk {
                query = query.bind(*key);
            }
            for found in query
                .fetch_all(&mut *self.0)
                .await
                .ctx("looking up trace events")?
            {
                let key: String = found.try_get(0).ctx("looking up trace events")?;
                let seq: i64 = found.try_get(1).ctx("looking up trace events")?;
                let body: String = found.try_get(2).ctx("looking up trace events")?;
                stored.insert(key, (seq, body));
            }
        }
        Ok(stored)
    }

    async fn insert_trace_document(&mut self, document: &TraceDocumentRow<'_>) -> Result<i64> {
        sqlx::query(
            "INSERT INTO trace_documents (format, name, sha256, events, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING seq",
        )
        .bind(document.format)
        .bind(document.name)
        .bind(document.sha256)
        .bind(document.events)
        .bind(document.recorded_at)
        .fetch_one(&mut *self.0)
        .await
        .ctx("storing a trace document")?
        .try_get(0)
        .ctx("storing a trace document")
    }

    /// Many rows per statement. Anonymous parameters only: sqlx looks up the name of every
    /// parameter, and SQLite finds a numbered one by a scan over all of them.
    async fn insert_trace_events(
        &mut self,
        document: i64,
        at: i64,
        rows: &[&TraceEventRow],
    ) -> Result<()> {
        for chunk in rows.chunks(INSERT_CHUNK) {
            let sql = format!(
                "INSERT INTO trace_events (key, event_id, document, type, event_time, recorded_at, body) VALUES {}",
                vec!["(?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query(&sql);
            for row in chunk {
                query = query
                    .bind(&row.key)
                    .bind(&row.event_id)
                    .bind(document)
                    .bind(&row.event_type)
                    .bind(row.event_time)
                    .bind(at)
                    .bind(&row.body);
            }
            query
                .execute(&mut *self.0)
                .await
                .ctx("storing trace events")?;
        }
        Ok(())
    }

    async fn insert_trace_genealogy(&mut self, document: i64, body: &str) -> Result<()> {
        sqlx::query("INSERT INTO trace_genealogy (document, body) VALUES (?1, ?2)")
            .bind(document)
            .bind(body)
            .execute(&mut *self.0)
            .await
            .ctx("storing trace genealogy")?;
        Ok(())
    }
}
