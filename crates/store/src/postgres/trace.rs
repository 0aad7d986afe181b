//! Imported genealogy documents on PostgreSQL.

use std::collections::HashMap;

use model::Timestamp;
use sqlx::Row;

use super::{Postgres, Tx};
use crate::backend::{TraceDocumentRow, TraceStore, TraceTx};
use crate::error::{Context, Result};
use crate::trace::{StoredTraceEvent, TraceBodies, TraceEventRow};

/// Rows inserted per statement (each column bound as one array).
const INSERT_CHUNK: usize = 5_000;

impl TraceStore for Postgres {
    async fn trace_events(&self, after: i64, limit: i64) -> Result<Vec<StoredTraceEvent>> {
        let rows = sqlx::query(
            "SELECT seq, document, recorded_at, body FROM trace_events WHERE seq > $1
             ORDER BY seq LIMIT $2",
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

    /// One statement, so one snapshot; the rows stream in over the connection, one body a
    /// row (nothing to gain from joining them on the server).
    async fn trace_event_bodies(&self) -> Result<TraceBodies> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT body FROM trace_events ORDER BY seq")
            .fetch_all(&self.pool)
            .await
            .ctx("reading trace events")?;
        Ok(TraceBodies::rows(rows))
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
        sqlx::query("SELECT seq FROM trace_documents WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&mut *self.0)
            .await
            .ctx("looking up a trace document")?
            .map(|row| row.try_get(0))
            .transpose()
            .ctx("looking up a trace document")
    }

    /// Every key in one statement, bound as an array.
    async fn trace_keys(&mut self, keys: &[&str]) -> Result<HashMap<String, (i64, String)>> {
        let mut stored = HashMap::new();
        if keys.is_empty() {
            return Ok(stored);
        }
        for found in sqlx::query("SELECT key, seq, body FROM trace_events WHERE key = ANY($1)")
            .bind(keys)
            .fetch_all(&mut *self.0)
            .await
            .ctx("looking up trace events")?
        {
            let key: String = found.try_get(0).ctx("looking up trace events")?;
            let seq: i64 = found.try_get(1).ctx("looking up trace events")?;
            let body: String = found.try_get(2).ctx("looking up trace events")?;
            stored.insert(key, (seq, body));
        }
        Ok(stored)
    }

    async fn insert_trace_document(&mut self, document: &TraceDocumentRow<'_>) -> Result<i64> {
        sqlx::query(
            "INSERT INTO trace_documents (format, name, sha256, events, recorded_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING seq",
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

    /// Many rows per statement: each column is one array parameter, unnested in order (the
    /// identity column numbers the rows in document order).
    async fn insert_trace_events(
        &mut self,
        document: i64,
        at: i64,
        rows: &[&TraceEventRow],
    ) -> Result<()> {
        for chunk in rows.chunks(INSERT_CHUNK) {
            let keys: Vec<&str> = chunk.iter().map(|r| r.key.as_str()).collect();
            let event_ids: Vec<&str> = chunk.iter().map(|r| r.event_id.as_str()).collect();
            let types: Vec<&str> = chunk.iter().map(|r| r.event_type.as_str()).collect();
            let times: Vec<i64> = chunk.iter().map(|r| r.event_time).collect();
            let bodies: Vec<&str> = chunk.iter().map(|r| r.body.as_str()).collect();
            sqlx::query(
                "INSERT INTO trace_events
                    (key, event_id, document, type, event_time, recorded_at, body)
                 SELECT r.key, r.event_id, $1, r.type, r.event_time, $2, r.body
                 FROM UNNEST($3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[])
                      WITH ORDINALITY AS r(key, event_id, type, event_time, body, n)
                 ORDER BY r.n",
            )
            .bind(document)
            .bind(at)
            .bind(&keys)
            .bind(&event_ids)
            .bind(&types)
            .bind(&times)
            .bind(&bodies)
            .execute(&mut *self.0)
            .await
            .ctx("storing trace events")?;
        }
        Ok(())
    }

    async fn insert_trace_genealogy(&mut self, document: i64, body: &str) -> Result<()> {
        sqlx::query("INSERT INTO trace_genealogy (document, body) VALUES ($1, $2)")
            .bind(document)
            .bind(body)
            .execute(&mut *self.0)
            .await
            .ctx("storing trace genealogy")?;
        Ok(())
    }
}
