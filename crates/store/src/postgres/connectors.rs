//! Connectors' cursors and dead letters on PostgreSQL (a dead letter's seq is an identity
//! column).

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::{Postgres, Tx};
use crate::backend::{ConnectorRows, ConnectorStore, ConnectorTx, CursorRow, DeadLetterRow};
use crate::error::{Context, Result};

fn cursor_row(row: &PgRow) -> Result<CursorRow> {
    let read = "reading a connector cursor";
    Ok(CursorRow {
        connector: row.try_get(0).ctx(read)?,
        cursor: row.try_get(1).ctx(read)?,
        last_event_time: row.try_get(2).ctx(read)?,
        updated_at: row.try_get(3).ctx(read)?,
    })
}

fn dead_letter_row(row: &PgRow) -> Result<DeadLetterRow> {
    let read = "reading a dead letter";
    Ok(DeadLetterRow {
        seq: row.try_get(0).ctx(read)?,
        connector: row.try_get(1).ctx(read)?,
        source_id: row.try_get(2).ctx(read)?,
        reason: row.try_get(3).ctx(read)?,
        raw: row.try_get(4).ctx(read)?,
        at: row.try_get(5).ctx(read)?,
    })
}

const CURSOR_COLUMNS: &str = "connector, cursor, last_event_time, updated_at";

impl ConnectorStore for Postgres {
    async fn connector_cursors(&self) -> Result<Vec<CursorRow>> {
        sqlx::query(&format!(
            "SELECT {CURSOR_COLUMNS} FROM connector_cursors ORDER BY connector"
        ))
        .fetch_all(&self.pool)
        .await
        .ctx("reading connector cursors")?
        .iter()
        .map(cursor_row)
        .collect()
    }

    async fn connector_cursor(&self, connector: &str) -> Result<Option<CursorRow>> {
        sqlx::query(&format!(
            "SELECT {CURSOR_COLUMNS} FROM connector_cursors WHERE connector = $1"
        ))
        .bind(connector)
        .fetch_optional(&self.pool)
        .await
        .ctx("reading a connector cursor")?
        .as_ref()
        .map(cursor_row)
        .transpose()
    }

    async fn dead_letters(
        &self,
        connector: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<DeadLetterRow>> {
        sqlx::query(
            "SELECT seq, connector, source_id, reason, raw, at FROM connector_dead_letters
             WHERE connector = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(connector)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("reading dead letters")?
        .iter()
        .map(dead_letter_row)
        .collect()
    }

    async fn dead_letter_counts(&self) -> Result<Vec<(String, i64)>> {
        sqlx::query(
            "SELECT connector, COUNT(*) FROM connector_dead_letters GROUP BY connector
             ORDER BY connector",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("counting dead letters")?
        .iter()
        .map(|row| {
            let read = "counting dead letters";
            Ok((row.try_get(0).ctx(read)?, row.try_get(1).ctx(read)?))
        })
        .collect()
    }
}

impl ConnectorTx for Tx {
    async fn write_connector(&mut self, rows: &ConnectorRows) -> Result<u64> {
        let mut stored = 0;
        for (source_id, reason, raw) in &rows.dead_letters {
            let done = sqlx::query(
                "INSERT INTO connector_dead_letters (connector, source_id, reason, raw, at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (connector, source_id) DO NOTHING",
            )
            .bind(&rows.connector)
            .bind(source_id)
            .bind(reason)
            .bind(raw)
            .bind(rows.at)
            .execute(&mut *self.0)
            .await
            .ctx("writing a dead letter")?;
            stored += done.rows_affected();
        }
        // GREATEST ignores NULLs: the later of the two event times, or the one there is.
        sqlx::query(
            "INSERT INTO connector_cursors (connector, cursor, last_event_time, updated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (connector) DO UPDATE SET
                 cursor = COALESCE(excluded.cursor, connector_cursors.cursor),
                 last_event_time = GREATEST(excluded.last_event_time,
                                            connector_cursors.last_event_time),
                 updated_at = excluded.updated_at",
        )
        .bind(&rows.connector)
        .bind(&rows.cursor)
        .bind(rows.last_event_time)
        .bind(rows.at)
        .execute(&mut *self.0)
        .await
        .ctx("writing a connector cursor")?;
        Ok(stored)
    }
}
