//! State snapshots on SQLite: one row per snapshot in `state_snapshots`, the body a BLOB.

use sqlx::Row;

use super::Tx;
use crate::backend::{SnapshotKey, SnapshotRow, SnapshotTx};
use crate::error::{Context, Result};

impl SnapshotTx for Tx {
    async fn latest_snapshot(&mut self) -> Result<Option<SnapshotRow>> {
        const CONTEXT: &str = "reading the latest state snapshot";
        let Some(row) = sqlx::query(
            "SELECT seq, plant_version, event_id, events, layout, digest, body, created_at
             FROM state_snapshots ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(&mut *self.0)
        .await
        .ctx(CONTEXT)?
        else {
            return Ok(None);
        };
        let snapshot = SnapshotRow {
            seq: row.try_get(0).ctx(CONTEXT)?,
            plant_version: row.try_get(1).ctx(CONTEXT)?,
            event_id: row.try_get(2).ctx(CONTEXT)?,
            events: row.try_get(3).ctx(CONTEXT)?,
            layout: row.try_get(4).ctx(CONTEXT)?,
            digest: row.try_get(5).ctx(CONTEXT)?,
            body: row.try_get(6).ctx(CONTEXT)?,
            created_at: row.try_get(7).ctx(CONTEXT)?,
        };
        Ok(Some(snapshot))
    }

    async fn latest_snapshot_key(&mut self) -> Result<Option<SnapshotKey>> {
        let key = sqlx::query_as::<_, (i64, i64, String, String)>(
            "SELECT seq, plant_version, event_id, layout
             FROM state_snapshots ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(&mut *self.0)
        .await
        .ctx("reading the latest state snapshot's key")?;
        Ok(
            key.map(|(seq, plant_version, event_id, layout)| SnapshotKey {
                seq,
                plant_version,
                event_id,
                layout,
            }),
        )
    }

    async fn event_id_of(&mut self, seq: i64) -> Result<Option<String>> {
        sqlx::query("SELECT id FROM events WHERE seq = ?1")
            .bind(seq)
            .fetch_optional(&mut *self.0)
            .await
            .and_then(|row| row.map(|row| row.try_get(0)).transpose())
            .ctx("reading an event id")
    }

    async fn write_snapshot(&mut self, r: &SnapshotRow) -> Result<()> {
        const CONTEXT: &str = "writing a state snapshot";
        sqlx::query("DELETE FROM state_snapshots")
            .execute(&mut *self.0)
            .await
            .ctx(CONTEXT)?;
        sqlx::query(
            "INSERT INTO state_snapshots
                 (seq, plant_version, event_id, events, layout, digest, body, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(r.seq)
        .bind(r.plant_version)
        .bind(&r.event_id)
        .bind(r.events)
        .bind(&r.layout)
        .bind(&r.digest)
        .bind(&r.body)
        .bind(r.created_at)
        .execute(&mut *self.0)
        .await
        .ctx(CONTEXT)?;
        Ok(())
    }
}
