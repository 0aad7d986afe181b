//! Alerts, holds, nonconformances and the enforcer's cursor on PostgreSQL.

use model::Timestamp;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use super::{Postgres, Tx};
use crate::backend::{
    AlertRow, EnforcerSave, EventRowRead, NcRow, Numbered, QualityStore, QualityTx,
};
use crate::error::{Context, Result};
use crate::quality::{
    AlertFilter, Hold, HoldFilter, NcFilter, NcTransition, NewAlert, NewHold, NewNc, QualityCounts,
};

fn hold_row(row: &PgRow) -> Result<Hold> {
    let ctx = "reading a hold";
    let released_at: Option<i64> = row.try_get("released_at").ctx(ctx)?;
    Ok(Hold {
        id: row.try_get("id").ctx(ctx)?,
        item_kind: row.try_get("item_kind").ctx(ctx)?,
        item_id: row.try_get("item_id").ctx(ctx)?,
        link: row.try_get("link").ctx(ctx)?,
        reason: row.try_get("reason").ctx(ctx)?,
        alert_id: row.try_get("alert_id").ctx(ctx)?,
        placed_by: row.try_get("placed_by").ctx(ctx)?,
        placed_at: Timestamp(row.try_get("placed_at").ctx(ctx)?),
        active: released_at.is_none(),
        released_by: row.try_get("released_by").ctx(ctx)?,
        released_at: released_at.map(Timestamp),
        release_reason: row.try_get("release_reason").ctx(ctx)?,
        proposal: row.try_get("proposal_id").ctx(ctx)?,
    })
}

/// The enforcer's decisions: derived from the event log, so wiped with it (children first).
const JUDGED_TABLES: [&str; 5] = [
    "quality_nc_transitions",
    "quality_nc_items",
    "quality_ncs",
    "quality_holds",
    "quality_alerts",
];

/// Deletes every row of the enforcer's decisions and, with `cursor`, its place in the log.
pub(super) async fn wipe_judged(conn: &mut PgConnection, cursor: bool) -> Result<()> {
    let cursor_table = cursor.then_some("quality_enforcer");
    for table in JUDGED_TABLES.into_iter().chain(cursor_table) {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *conn)
            .await
            .ctx("clearing the quality records of a reset log")?;
    }
    Ok(())
}

const HOLD_COLUMNS: &str = "id, item_kind, item_id, link, reason, alert_id, placed_by, placed_at, \
                            released_by, released_at, release_reason, proposal_id";

async fn next_n(conn: &mut PgConnection, of: Numbered) -> Result<i64> {
    let table = match of {
        Numbered::Alerts => "quality_alerts",
        Numbered::Holds => "quality_holds",
        Numbered::Nonconformances => "quality_ncs",
    };
    let sql = format!("SELECT COALESCE(MAX(n), 0) + 1 FROM {table}");
    sqlx::query_scalar(&sql)
        .fetch_one(conn)
        .await
        .ctx("numbering a quality record")
}

async fn insert_nc(conn: &mut PgConnection, nc: &NewNc, n: i64) -> Result<bool> {
    let ctx = "storing a nonconformance";
    let done = sqlx::query(
        "INSERT INTO quality_ncs
            (id, n, state, characteristic, alert_id, opened_at, updated_at, version, body)
         VALUES ($1, $2, $3, $4, $5, $6, $6, 1, $7) ON CONFLICT DO NOTHING",
    )
    .bind(&nc.id)
    .bind(n)
    .bind(&nc.state)
    .bind(&nc.characteristic)
    .bind(&nc.alert_id)
    .bind(nc.at.0)
    .bind(nc.body.to_string())
    .execute(&mut *conn)
    .await
    .ctx(ctx)?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    if !nc.items.is_empty() {
        sqlx::query(
            "INSERT INTO quality_nc_items (nc_id, item)
             SELECT $1, item FROM UNNEST($2::text[]) AS i(item) ON CONFLICT DO NOTHING",
        )
        .bind(&nc.id)
        .bind(&nc.items)
        .execute(&mut *conn)
        .await
        .ctx(ctx)?;
    }
    insert_transitions(conn, &nc.id, 0, &nc.transitions).await?;
    Ok(true)
}

async fn insert_transitions(
    conn: &mut PgConnection,
    id: &str,
    after: i64,
    transitions: &[NcTransition],
) -> Result<()> {
    for (i, t) in transitions.iter().enumerate() {
        sqlx::query(
            "INSERT INTO quality_nc_transitions
                (nc_id, seq, action, from_state, to_state, by_actor, at, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(after + i as i64 + 1)
        .bind(&t.action)
        .bind(&t.from)
        .bind(&t.to)
        .bind(&t.by)
        .bind(t.at.0)
        .bind(&t.detail)
        .execute(&mut *conn)
        .await
        .ctx("storing an NC transition")?;
    }
    Ok(())
}

/// Places a hold unless the item already has an active one; says whether it did.
async fn insert_hold(
    conn: &mut PgConnection,
    id: &str,
    n: i64,
    hold: &NewHold,
    placed_by: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO quality_holds
            (id, n, item_kind, item_id, link, reason, alert_id, placed_by, placed_at,
             proposal_id)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10
         WHERE NOT EXISTS (SELECT 1 FROM quality_holds
                           WHERE item_kind = $3 AND item_id = $4 AND released_at IS NULL)
         ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(n)
    .bind(&hold.item_kind)
    .bind(&hold.item_id)
    .bind(&hold.link)
    .bind(&hold.reason)
    .bind(&hold.alert_id)
    .bind(placed_by)
    .bind(hold.at.0)
    .bind(&hold.proposal)
    .execute(conn)
    .await
    .ctx("placing a hold")?;
    Ok(done.rows_affected() > 0)
}

/// The items and transitions of NCs read as `(id, state, version, body, characteristic)`.
async fn nc_rows(
    pool: &PgPool,
    rows: Vec<(String, String, i64, String, Option<String>)>,
) -> Result<Vec<NcRow>> {
    let mut out = Vec::with_capacity(rows.len());
    for (id, state, version, body, characteristic) in rows {
        let items: Vec<String> = sqlx::query_scalar(
            "SELECT item FROM quality_nc_items WHERE nc_id = $1 ORDER BY item COLLATE \"C\"",
        )
        .bind(&id)
        .fetch_all(pool)
        .await
        .ctx("reading NC items")?;
        let transitions: Vec<(String, String, String, String, i64, Option<String>)> =
            sqlx::query_as(
                "SELECT action, from_state, to_state, by_actor, at, detail
                 FROM quality_nc_transitions WHERE nc_id = $1 ORDER BY seq",
            )
            .bind(&id)
            .fetch_all(pool)
            .await
            .ctx("reading NC transitions")?;
        out.push(NcRow {
            id,
            state,
            version,
            body,
            characteristic,
            items,
            transitions: transitions
                .into_iter()
                .map(|(action, from, to, by, at, detail)| NcTransition {
                    action,
                    from,
                    to,
                    by,
                    at: Timestamp(at),
                    detail,
                })
                .collect(),
        });
    }
    Ok(out)
}

impl QualityStore for Postgres {
    async fn hold_one(&self, id: &str) -> Result<Option<Hold>> {
        let sql = format!("SELECT {HOLD_COLUMNS} FROM quality_holds WHERE id = $1");
        sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a hold")?
            .as_ref()
            .map(hold_row)
            .transpose()
    }

    async fn holds(&self, filter: &HoldFilter) -> Result<(Vec<Hold>, u64)> {
        let active = filter.active.map(i64::from);
        let cond = "($1::bigint IS NULL OR ($1 = 1 AND released_at IS NULL)
                                        OR ($1 = 0 AND released_at IS NOT NULL))
                    AND ($2::text IS NULL OR item_kind = $2)
                    AND ($3::text IS NULL OR item_id = $3)";
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM quality_holds WHERE {cond}"))
                .bind(active)
                .bind(&filter.item_kind)
                .bind(&filter.item_id)
                .fetch_one(&self.pool)
                .await
                .ctx("counting holds")?;
        let rows = sqlx::query(&format!(
            "SELECT {HOLD_COLUMNS} FROM quality_holds WHERE {cond}
             ORDER BY n DESC LIMIT $4 OFFSET $5"
        ))
        .bind(active)
        .bind(&filter.item_kind)
        .bind(&filter.item_id)
        .bind(i64::from(filter.limit))
        .bind(i64::from(filter.offset))
        .fetch_all(&self.pool)
        .await
        .ctx("reading holds")?;
        let holds = rows.iter().map(hold_row).collect::<Result<_>>()?;
        Ok((holds, total as u64))
    }

    async fn active_holds_on(&self, keys: &[String]) -> Result<Vec<Hold>> {
        let rows = sqlx::query(&format!(
            "SELECT {HOLD_COLUMNS} FROM quality_holds
             WHERE released_at IS NULL AND item_kind || ':' || item_id = ANY($1)
             ORDER BY n"
        ))
        .bind(keys)
        .fetch_all(&self.pool)
        .await
        .ctx("reading holds")?;
        rows.iter().map(hold_row).collect()
    }

    async fn alerts(&self, filter: &AlertFilter) -> Result<(Vec<AlertRow>, u64)> {
        let cond = "($1::text IS NULL OR characteristic = $1)
                    AND ($2::text IS NULL OR severity = $2)";
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM quality_alerts WHERE {cond}"))
                .bind(&filter.characteristic)
                .bind(&filter.severity)
                .fetch_one(&self.pool)
                .await
                .ctx("counting alerts")?;
        let rows: Vec<(String, String, String, i64, i64, String)> = sqlx::query_as(&format!(
            "SELECT id, characteristic, severity, phase, at, body FROM quality_alerts
             WHERE {cond} ORDER BY n DESC LIMIT $3 OFFSET $4"
        ))
        .bind(&filter.characteristic)
        .bind(&filter.severity)
        .bind(i64::from(filter.limit))
        .bind(i64::from(filter.offset))
        .fetch_all(&self.pool)
        .await
        .ctx("reading alerts")?;
        let alerts = rows
            .into_iter()
            .map(|(id, characteristic, severity, phase, at, body)| AlertRow {
                id,
                characteristic,
                severity,
                phase,
                at,
                body,
            })
            .collect();
        Ok((alerts, total as u64))
    }

    async fn nonconformance(&self, id: &str) -> Result<Option<NcRow>> {
        let rows = sqlx::query_as(
            "SELECT id, state, version, body, characteristic FROM quality_ncs WHERE id = $1",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading nonconformances")?;
        Ok(nc_rows(&self.pool, rows).await?.pop())
    }

    async fn nonconformances(&self, filter: &NcFilter) -> Result<(Vec<NcRow>, u64)> {
        let open = filter.open.map(i64::from);
        let cond = "($1::text IS NULL OR state = $1)
                    AND ($2::bigint IS NULL OR ($2 = 1 AND state != 'closed')
                                            OR ($2 = 0 AND state = 'closed'))";
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM quality_ncs WHERE {cond}"))
                .bind(&filter.state)
                .bind(open)
                .fetch_one(&self.pool)
                .await
                .ctx("counting nonconformances")?;
        let rows = sqlx::query_as(&format!(
            "SELECT id, state, version, body, characteristic FROM quality_ncs WHERE {cond}
             ORDER BY n DESC LIMIT $3 OFFSET $4"
        ))
        .bind(&filter.state)
        .bind(open)
        .bind(i64::from(filter.limit))
        .bind(i64::from(filter.offset))
        .fetch_all(&self.pool)
        .await
        .ctx("reading nonconformances")?;
        Ok((nc_rows(&self.pool, rows).await?, total as u64))
    }

    async fn nonconformances_on(&self, items: &[String]) -> Result<Vec<NcRow>> {
        let rows = sqlx::query_as(
            "SELECT id, state, version, body, characteristic FROM quality_ncs WHERE id IN
               (SELECT nc_id FROM quality_nc_items WHERE item = ANY($1))
             ORDER BY n",
        )
        .bind(items)
        .fetch_all(&self.pool)
        .await
        .ctx("reading nonconformances")?;
        nc_rows(&self.pool, rows).await
    }

    async fn quality_results(&self, characteristic: &str) -> Result<Vec<EventRowRead>> {
        sqlx::query_as(
            "SELECT seq, recorded_at, body FROM events
             WHERE type = 'quality_result_recorded'
               AND ((body::jsonb) ->> 'characteristic') = $1 ORDER BY seq",
        )
        .bind(characteristic)
        .fetch_all(&self.pool)
        .await
        .ctx("reading quality results")
    }

    async fn quality_counts(&self) -> Result<QualityCounts> {
        let (alerts, holds, ncs, cursor): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM quality_alerts),
                    (SELECT COUNT(*) FROM quality_holds WHERE released_at IS NULL),
                    (SELECT COUNT(*) FROM quality_ncs WHERE state != 'closed'),
                    COALESCE((SELECT cursor_seq FROM quality_enforcer WHERE id = 1), 0)",
        )
        .fetch_one(&self.pool)
        .await
        .ctx("counting quality records")?;
        Ok(QualityCounts {
            alerts: alerts as u64,
            holds_active: holds as u64,
            nonconformances_open: ncs as u64,
            cursor_seq: cursor,
        })
    }

    async fn quality_pending(&self) -> Result<bool> {
        // The checks `enforce_in` makes in its write transaction, read without one: no
        // cursor and some result, a cursor whose event is gone (a reset log), or a result
        // after the cursor (a range of the `events_quality_seq` index).
        sqlx::query_scalar(
            "SELECT CASE
                 WHEN q.cursor_seq IS NULL THEN
                     EXISTS(SELECT 1 FROM events WHERE type = 'quality_result_recorded')
                 WHEN q.cursor_seq > 0
                      AND (SELECT id FROM events WHERE seq = q.cursor_seq)
                          IS DISTINCT FROM q.cursor_event
                     THEN true
                 ELSE EXISTS(SELECT 1 FROM events
                             WHERE seq > q.cursor_seq AND type = 'quality_result_recorded')
             END
             FROM (SELECT 1) AS one LEFT JOIN quality_enforcer q ON q.id = 1",
        )
        .fetch_one(&self.pool)
        .await
        .ctx("reading the quality enforcer")
    }
}

impl QualityTx for Tx {
    async fn enforcer(&mut self) -> Result<Option<(i64, Option<String>, String)>> {
        sqlx::query_as("SELECT cursor_seq, cursor_event, state FROM quality_enforcer WHERE id = 1")
            .fetch_optional(&mut *self.0)
            .await
            .ctx("reading the quality enforcer")
    }

    async fn event_id_at(&mut self, seq: i64) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT id FROM events WHERE seq = $1")
            .bind(seq)
            .fetch_optional(&mut *self.0)
            .await
            .ctx("reading the quality enforcer")
    }

    async fn quality_results_after(&mut self, seq: i64) -> Result<Vec<EventRowRead>> {
        sqlx::query_as(
            "SELECT seq, recorded_at, body FROM events
             WHERE seq > $1 AND type = 'quality_result_recorded' ORDER BY seq",
        )
        .bind(seq)
        .fetch_all(&mut *self.0)
        .await
        .ctx("reading quality results")
    }

    async fn last_event(&mut self) -> Result<Option<(i64, String)>> {
        sqlx::query_as("SELECT seq, id FROM events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *self.0)
            .await
            .ctx("reading the quality enforcer")
    }

    async fn wipe_judged(&mut self, cursor: bool) -> Result<()> {
        wipe_judged(&mut self.0, cursor).await
    }

    async fn next_number(&mut self, of: Numbered) -> Result<i64> {
        next_n(&mut self.0, of).await
    }

    async fn insert_alert(&mut self, a: &NewAlert, n: i64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO quality_alerts
                (id, n, characteristic, severity, phase, at, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(&a.id)
        .bind(n)
        .bind(&a.characteristic)
        .bind(&a.severity)
        .bind(i64::from(a.phase))
        .bind(a.at.0)
        .bind(a.body.to_string())
        .execute(&mut *self.0)
        .await
        .ctx("storing an alert")?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_hold(
        &mut self,
        id: &str,
        n: i64,
        hold: &NewHold,
        placed_by: &str,
    ) -> Result<bool> {
        insert_hold(&mut self.0, id, n, hold, placed_by).await
    }

    async fn insert_nc(&mut self, nc: &NewNc, n: i64) -> Result<bool> {
        insert_nc(&mut self.0, nc, n).await
    }

    async fn save_enforcer(&mut self, saved: &EnforcerSave<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO quality_enforcer
                (id, cursor_seq, cursor_event, policy_version, state, updated_at)
             VALUES (1, $1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET cursor_seq = excluded.cursor_seq,
                cursor_event = excluded.cursor_event,
                policy_version = excluded.policy_version,
                state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(saved.cursor_seq)
        .bind(&saved.cursor_event)
        .bind(saved.policy_version)
        .bind(saved.state)
        .bind(saved.at)
        .execute(&mut *self.0)
        .await
        .ctx("saving the quality enforcer")?;
        Ok(())
    }

    async fn active_hold(&mut self, item_kind: &str, item_id: &str) -> Result<Option<Hold>> {
        let sql = format!(
            "SELECT {HOLD_COLUMNS} FROM quality_holds
             WHERE item_kind = $1 AND item_id = $2 AND released_at IS NULL"
        );
        sqlx::query(&sql)
            .bind(item_kind)
            .bind(item_id)
            .fetch_optional(&mut *self.0)
            .await
            .ctx("reading a hold")?
            .as_ref()
            .map(hold_row)
            .transpose()
    }

    async fn active_holds_of_proposal(&mut self, proposal: &str) -> Result<Vec<Hold>> {
        let sql = format!(
            "SELECT {HOLD_COLUMNS} FROM quality_holds
             WHERE proposal_id = $1 AND released_at IS NULL ORDER BY n"
        );
        let rows = sqlx::query(&sql)
            .bind(proposal)
            .fetch_all(&mut *self.0)
            .await
            .ctx("reading the holds of a proposal")?;
        rows.iter().map(hold_row).collect()
    }

    async fn hold(&mut self, id: &str) -> Result<Option<Hold>> {
        let sql = format!("SELECT {HOLD_COLUMNS} FROM quality_holds WHERE id = $1");
        sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *self.0)
            .await
            .ctx("reading a hold")?
            .as_ref()
            .map(hold_row)
            .transpose()
    }

    async fn release_hold(&mut self, id: &str, by: &str, at: i64, reason: &str) -> Result<()> {
        sqlx::query(
            "UPDATE quality_holds SET released_by = $1, released_at = $2, release_reason = $3
             WHERE id = $4",
        )
        .bind(by)
        .bind(at)
        .bind(reason)
        .bind(id)
        .execute(&mut *self.0)
        .await
        .ctx("releasing a hold")?;
        Ok(())
    }

    async fn nc_version(&mut self, id: &str) -> Result<Option<i64>> {
        sqlx::query_scalar("SELECT version FROM quality_ncs WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *self.0)
            .await
            .ctx("reading a nonconformance")
    }

    async fn nc_transitions(&mut self, id: &str) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM quality_nc_transitions WHERE nc_id = $1")
            .bind(id)
            .fetch_one(&mut *self.0)
            .await
            .ctx("reading NC transitions")
    }

    async fn update_nc(
        &mut self,
        id: &str,
        version: i64,
        state: &str,
        body: &str,
        at: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE quality_ncs SET state = $1, body = $2, version = version + 1,
                updated_at = $3 WHERE id = $4 AND version = $5",
        )
        .bind(state)
        .bind(body)
        .bind(at)
        .bind(id)
        .bind(version)
        .execute(&mut *self.0)
        .await
        .ctx("updating a nonconformance")?;
        Ok(())
    }

    async fn insert_transitions(
        &mut self,
        id: &str,
        after: i64,
        transitions: &[NcTransition],
    ) -> Result<()> {
        insert_transitions(&mut self.0, id, after, transitions).await
    }
}
