//! The event log, the projections and the audit trail on SQLite.

use std::collections::HashMap;

use model::{Mode, OrderStatus};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::{Sqlite, Tx};
use crate::audit::RawRecord;
use crate::backend::{
    AuditRowQuery, AuditSince, BodyRow, EventQuery, EventRow, EventRowRead, Loaded, LogStore,
    LogTx, MaterialRow, OrderRow, Projection, RawCounts, Table, UnitRow, Write,
};
use crate::error::{Context, Result};

impl LogStore for Sqlite {
    async fn orders(
        &self,
        mode: Option<Mode>,
        status: Option<OrderStatus>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<String>, u64)> {
        let (pool, mode, status) = (
            &self.pool,
            mode.map(Mode::as_str),
            status.map(OrderStatus::as_str),
        );
        const WHERE: &str = "WHERE (?1 IS NULL OR mode = ?1) AND (?2 IS NULL OR status = ?2)";
        let total: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM orders {WHERE}"))
            .bind(mode)
            .bind(status)
            .fetch_one(pool)
            .await
            .and_then(|row| row.try_get(0))
            .ctx("counting orders")?;
        let bodies = sqlx::query(&format!(
            "SELECT body FROM orders {WHERE} ORDER BY id LIMIT ?3 OFFSET ?4"
        ))
        .bind(mode)
        .bind(status)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await
        .ctx("reading orders")?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, sqlx::Error>>()
        .ctx("reading orders")?;
        Ok((bodies, total as u64))
    }

    async fn events_with_ids(&self, ids: &[&str]) -> Result<Vec<EventRowRead>> {
        let (pool, ids_json) = (&self.pool, json_list(ids));
        sqlx::query(
            "SELECT seq, recorded_at, body FROM events \
             WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY seq",
        )
        .bind(ids_json)
        .fetch_all(pool)
        .await
        .ctx("reading events by id")?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
        .collect::<Result<_, sqlx::Error>>()
        .ctx("reading events by id")
    }

    async fn events(&self, query: &EventQuery<'_>) -> Result<Vec<EventRowRead>> {
        let pool = &self.pool;
        let types_json = (!query.types.is_empty()).then(|| json_list(query.types));
        let types_json = types_json.as_deref();
        let (from, to, after_seq, limit) = (query.from, query.to, query.after_seq, query.limit);
        let mut sql = String::from("SELECT seq, recorded_at, body FROM events WHERE seq > ?1");
        if from.is_some() {
            sql.push_str(" AND time >= ?2");
        }
        if to.is_some() {
            sql.push_str(" AND time < ?3");
        }
        if types_json.is_some() {
            sql.push_str(" AND type IN (SELECT value FROM json_each(?4))");
        }
        sql.push_str(" ORDER BY seq LIMIT ?5");
        sqlx::query(&sql)
            .bind(after_seq)
            .bind(from)
            .bind(to)
            .bind(types_json)
            .bind(limit)
            .fetch_all(pool)
            .await
            .ctx("reading events")?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect::<Result<_, sqlx::Error>>()
            .ctx("reading events")
    }

    async fn counts(&self) -> Result<RawCounts> {
        let pool = &self.pool;
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM lots),
                    (SELECT COUNT(*) FROM serials),
                    (SELECT COALESCE(SUM(value), 0) FROM counters WHERE name LIKE 'quality:%')",
        )
        .fetch_one(pool)
        .await
        .ctx("counting")?;
        let get = |i: usize| row.try_get::<i64, _>(i).ctx("counting");
        let (events, lots, serials, quality) = (get(0)?, get(1)?, get(2)?, get(3)?);
        let orders = sqlx::query("SELECT mode, status, COUNT(*) FROM orders GROUP BY mode, status")
            .fetch_all(pool)
            .await
            .ctx("counting orders")?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect::<Result<_, sqlx::Error>>()
            .ctx("counting orders")?;
        Ok(RawCounts {
            events,
            orders,
            lots,
            serials,
            quality,
        })
    }

    async fn audit_rows(&self, query: &AuditRowQuery<'_>) -> Result<Vec<RawRecord>> {
        let pool = &self.pool;
        // One statement for every combination of filters (an absent filter binds NULL), one
        // per direction, each walking the primary key.
        let sql = if query.newest_first {
            "SELECT seq, at, actor_kind, actor_id, action, subject, detail, prev_hash, hash
             FROM audit WHERE seq < ?1
               AND (?3 IS NULL OR actor_id = ?3)
               AND (?4 IS NULL OR substr(action, 1, length(?4)) = ?4)
               AND (?5 IS NULL OR at >= ?5)
               AND (?6 IS NULL OR at < ?6)
             ORDER BY seq DESC LIMIT ?2"
        } else {
            "SELECT seq, at, actor_kind, actor_id, action, subject, detail, prev_hash, hash
             FROM audit WHERE seq > ?1
               AND (?3 IS NULL OR actor_id = ?3)
               AND (?4 IS NULL OR substr(action, 1, length(?4)) = ?4)
               AND (?5 IS NULL OR at >= ?5)
               AND (?6 IS NULL OR at < ?6)
             ORDER BY seq LIMIT ?2"
        };
        sqlx::query(sql)
            .bind(query.after)
            .bind(query.limit)
            .bind(query.actor_id)
            .bind(query.action_prefix)
            .bind(query.from_ms)
            .bind(query.to_ms)
            .fetch_all(pool)
            .await
            .ctx("reading the audit trail")?
            .iter()
            .map(raw_record)
            .collect::<Result<_, sqlx::Error>>()
            .ctx("reading the audit trail")
    }

    async fn audit_latest(&self, subject: &str) -> Result<Option<RawRecord>> {
        // Walks the trail back from its head: the record sought is usually among the last.
        sqlx::query(
            "SELECT seq, at, actor_kind, actor_id, action, subject, detail, prev_hash, hash
             FROM audit WHERE subject = ?1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(subject)
        .fetch_optional(&self.pool)
        .await
        .ctx("reading the audit trail")?
        .as_ref()
        .map(raw_record)
        .transpose()
        .ctx("reading the audit trail")
    }

    async fn projection_rows(&self, table: Table) -> Result<Vec<(String, String)>> {
        let pool = &self.pool;
        let sql = match table {
            Table::Orders => "SELECT id, body FROM orders ORDER BY id",
            Table::Units => "SELECT id, body FROM units ORDER BY id",
            Table::Lots => "SELECT id, body FROM lots ORDER BY id",
            Table::Serials => "SELECT id, body FROM serials ORDER BY id",
            Table::Receipts => "SELECT id, body FROM receipts ORDER BY id",
            Table::Attendance => "SELECT id, body FROM attendance ORDER BY id",
            Table::Counters => "SELECT name, CAST(value AS TEXT) FROM counters ORDER BY name",
        };
        sqlx::query(sql)
            .fetch_all(pool)
            .await
            .ctx("reading projections")?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .ctx("reading projections")
    }

    async fn wrote(&self, bytes: u64) {
        self.checkpoint.wrote(&self.pool, bytes);
    }

    async fn audit_head_seq(&self) -> Result<i64> {
        sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM audit")
            .fetch_one(&self.pool)
            .await
            .and_then(|row| row.try_get(0))
            .ctx("reading the audit head")
    }

    async fn begin(&self) -> Result<crate::backend::Tx> {
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .ctx("beginning a write transaction (waiting for the database's write lock, which another process may hold)")?;
        Ok(crate::backend::Tx::Sqlite(Tx(tx)))
    }

    async fn begin_read(&self) -> Result<crate::backend::Tx> {
        let tx = self
            .pool
            .begin()
            .await
            .ctx("beginning a read transaction")?;
        Ok(crate::backend::Tx::Sqlite(Tx(tx)))
    }
}

impl LogTx for Tx {
    async fn load(&mut self) -> Result<Loaded> {
        let conn = &mut *self.0;
        let plant =
            sqlx::query("SELECT version, body, start FROM plants ORDER BY version DESC LIMIT 1")
                .fetch_optional(&mut *conn)
                .await
                .ctx("reading the plant")?
                .map(|row| {
                    Ok::<_, sqlx::Error>((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
                })
                .transpose()
                .ctx("reading the plant")?;
        // The last seq only (a rowid lookup): counting the events would scan the whole log,
        // which is what opening from a snapshot avoids; the fold counts them instead.
        let last_seq: i64 = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(&mut *conn)
            .await
            .and_then(|row| row.try_get(0))
            .ctx("reading the event log size")?;
        let audit_head = audit_head(conn).await?;
        let counters = sqlx::query("SELECT name, value FROM counters")
            .fetch_all(&mut *conn)
            .await
            .ctx("reading counters")?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<HashMap<String, i64>, sqlx::Error>>()
            .ctx("reading counters")?;
        Ok(Loaded {
            plant,
            last_seq,
            audit_head,
            counters,
        })
    }

    /// A group of events at a time, each group read as one row: SQLite joins the seqs of up
    /// to [`GROUP`] events with commas and their bodies with newlines, which no stored body
    /// holds (they are compact JSON, whose strings escape control characters), so that a
    /// replay costs one row's trip out of SQLite per group instead of per event. A group whose
    /// parts do not count out, or whose seqs do not ascend, is read again one row per event.
    async fn replay(
        &mut self,
        mut after: i64,
        mut f: impl FnMut(i64, &str) -> Result<()> + Send,
    ) -> Result<i64> {
        const CONTEXT: &str = "reading the event log";
        let mut count = 0;
        loop {
            let group = sqlx::query(
                "SELECT count(*), max(seq), group_concat(seq, ','), group_concat(body, char(10))
                 FROM (SELECT seq, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2)",
            )
            .bind(after)
            .bind(GROUP)
            .fetch_one(&mut *self.0)
            .await
            .ctx(CONTEXT)?;
            let n: i64 = group.try_get(0).ctx(CONTEXT)?;
            if n == 0 {
                return Ok(count);
            }
            let last: i64 = group.try_get(1).ctx(CONTEXT)?;
            let seqs: &str = group.try_get(2).ctx(CONTEXT)?;
            let bodies: &str = group.try_get(3).ctx(CONTEXT)?;
            match split_group(seqs, bodies, n) {
                Some(events) => {
                    for (seq, body) in events {
                        f(seq, body)?;
                    }
                }
                None => {
                    for (seq, body) in self.events_between(after, last).await? {
                        f(seq, &body)?;
                    }
                }
            }
            after = last;
            count += n;
            if n < GROUP {
                return Ok(count);
            }
        }
    }

    async fn existing(&mut self, ids: &[&str]) -> Result<HashMap<String, (i64, String)>> {
        let rows = sqlx::query(
            "SELECT seq, id, body FROM events WHERE id IN (SELECT value FROM json_each(?1))",
        )
        .bind(json_list(ids))
        .fetch_all(&mut *self.0)
        .await
        .ctx("looking up event ids")?;
        rows.iter()
            .map(|row| Ok((row.try_get(1)?, (row.try_get(0)?, row.try_get(2)?))))
            .collect::<Result<_, sqlx::Error>>()
            .ctx("looking up event ids")
    }

    async fn write_log(&mut self, w: Write<'_>) -> Result<()> {
        let conn: &mut SqliteConnection = &mut self.0;
        if let Some((plant_version, body, start, created_at)) = w.plant {
            sqlx::query(
                "INSERT INTO plants (version, body, start, created_at) VALUES (?1, ?2, ?3, ?4)",
            )
            .bind(plant_version)
            .bind(body)
            .bind(start)
            .bind(created_at)
            .execute(&mut *conn)
            .await
            .ctx("storing the plant")?;
        }
        if w.wipe_events {
            sqlx::query("DELETE FROM events")
                .execute(&mut *conn)
                .await
                .ctx("wiping the event log")?;
            sqlx::query("DELETE FROM sqlite_sequence WHERE name = 'events'")
                .execute(&mut *conn)
                .await
                .ctx("wiping the event log")?;
            // A snapshot is a fold of the log wiped here.
            sqlx::query("DELETE FROM state_snapshots")
                .execute(&mut *conn)
                .await
                .ctx("wiping the state snapshots")?;
            // What the quality enforcer decided derives from the log: it goes with it, so a new
            // log (even one with the same event ids) is judged afresh under the policy in force.
            super::quality::wipe_judged(conn, true).await?;
            // Connectors read their peers again from the start into the new log (their dead
            // letters stay: a record read again is recognised by its source id).
            sqlx::query("DELETE FROM connector_cursors")
                .execute(&mut *conn)
                .await
                .ctx("wiping connector cursors")?;
        }
        insert_rows(
            conn,
            "INSERT INTO events (recorded_at, seq, id, type, time, source, body)",
            "",
            w.events,
            "inserting events",
        )
        .await?;
        write_projection(conn, w.projection).await?;
        insert_audit(conn, w.audit).await
    }

    async fn audit_head(&mut self) -> Result<Option<(i64, String)>> {
        audit_head(&mut self.0).await
    }

    async fn audit_since(&mut self, seq: i64, actions: &[&str]) -> Result<AuditSince> {
        let row = sqlx::query(
            "SELECT (SELECT hash FROM audit WHERE seq = ?1),
                    (SELECT COUNT(*) FROM audit
                     WHERE seq > ?1 AND action IN (SELECT value FROM json_each(?2)))",
        )
        .bind(seq)
        .bind(json_list(actions))
        .fetch_one(&mut *self.0)
        .await
        .ctx("reading the audit trail")?;
        Ok(AuditSince {
            hash_at: row.try_get(0).ctx("reading the audit trail")?,
            matching: row.try_get(1).ctx("reading the audit trail")?,
        })
    }

    async fn insert_audit(&mut self, record: &RawRecord) -> Result<()> {
        insert_audit(&mut self.0, record).await
    }
}

/// The last audit record's seq and hash.
async fn audit_head(conn: &mut SqliteConnection) -> Result<Option<(i64, String)>> {
    sqlx::query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        .fetch_optional(conn)
        .await
        .ctx("reading the audit head")?
        .map(|row| Ok::<_, sqlx::Error>((row.try_get(0)?, row.try_get(1)?)))
        .transpose()
        .ctx("reading the audit head")
}

/// A list as a JSON array, for `json_each`.
pub(super) fn json_list<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).expect("strings serialise")
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// A row that binds its columns, in order, to a multi-row `VALUES` statement.
trait BindRow {
    const COLUMNS: usize;
    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q>;
}

impl BindRow for EventRow<'_> {
    const COLUMNS: usize = 7;
    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(self.recorded_at)
            .bind(self.seq)
            .bind(self.id)
            .bind(self.kind)
            .bind(self.time)
            .bind(self.source)
            .bind(self.body)
    }
}

impl BindRow for OrderRow<'_> {
    const COLUMNS: usize = 6;
    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(self.id)
            .bind(self.mode)
            .bind(self.status)
            .bind(self.due)
            .bind(self.priority)
            .bind(self.body.as_str())
    }
}

impl BindRow for UnitRow<'_> {
    const COLUMNS: usize = 4;
    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(self.id)
            .bind(self.state)
            .bind(self.since)
            .bind(self.body.as_str())
    }
}

impl BindRow for MaterialRow<'_> {
    const COLUMNS: usize = 3;
    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(self.id)
            .bind(self.material)
            .bind(self.body.as_str())
    }
}

impl BindRow for BodyRow<'_> {
    const COLUMNS: usize = 2;
    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query.bind(self.id).bind(self.body.as_str())
    }
}

impl BindRow for (String, i64) {
    const COLUMNS: usize = 2;
    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query.bind(self.0.as_str()).bind(self.1)
    }
}

/// Rows per `INSERT` statement: few statements per batch, few distinct statement texts for
/// the prepared-statement cache, and well below SQLite's limit of 32766 parameters.
const ROWS_PER_STATEMENT: usize = 250;

/// `head VALUES (?, …), … tail` for `rows` rows of `columns` anonymous parameters.
/// (Anonymous because sqlx looks up the name of every numbered parameter, and SQLite's lookup
/// is linear: numbered parameters make a large statement quadratic to bind.)
fn values_sql(head: &str, columns: usize, rows: usize, tail: &str) -> String {
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * (columns * 2 + 2) + 16);
    sql.push_str(head);
    sql.push_str(" VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push(',');
            }
            sql.push('?');
        }
        sql.push(')');
    }
    sql.push(' ');
    sql.push_str(tail);
    sql
}

/// Inserts `rows` with as few statements as possible.
async fn insert_rows<R: BindRow>(
    conn: &mut SqliteConnection,
    head: &str,
    tail: &str,
    rows: &[R],
    context: &'static str,
) -> Result<()> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = values_sql(head, R::COLUMNS, chunk.len(), tail);
        let mut query = sqlx::query(&sql);
        for row in chunk {
            query = row.bind(query);
        }
        query.execute(&mut *conn).await.ctx(context)?;
    }
    Ok(())
}

async fn write_projection(conn: &mut SqliteConnection, p: &Projection<'_>) -> Result<()> {
    if p.replace_all {
        for table in [
            "orders",
            "units",
            "lots",
            "serials",
            "receipts",
            "attendance",
            "counters",
        ] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *conn)
                .await
                .ctx("clearing projections")?;
        }
    }
    const CONTEXT: &str = "writing projections";
    insert_rows(
        conn,
        "INSERT INTO orders (id, mode, status, due, priority, body)",
        "ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, status = excluded.status,
             due = excluded.due, priority = excluded.priority, body = excluded.body",
        &p.orders,
        CONTEXT,
    )
    .await?;
    insert_rows(
        conn,
        "INSERT INTO units (id, state, since, body)",
        "ON CONFLICT (id) DO UPDATE SET state = excluded.state, since = excluded.since,
             body = excluded.body",
        &p.units,
        CONTEXT,
    )
    .await?;
    for (table, rows) in [
        ("lots", &p.lots),
        ("serials", &p.serials),
        ("receipts", &p.receipts),
    ] {
        insert_rows(
            conn,
            &format!("INSERT INTO {table} (id, material, body)"),
            "ON CONFLICT (id) DO UPDATE SET material = excluded.material, body = excluded.body",
            rows,
            CONTEXT,
        )
        .await?;
    }
    insert_rows(
        conn,
        "INSERT INTO attendance (id, body)",
        "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
        &p.attendance,
        CONTEXT,
    )
    .await?;
    insert_rows(
        conn,
        "INSERT INTO counters (name, value)",
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        &p.counters,
        CONTEXT,
    )
    .await?;
    Ok(())
}

async fn insert_audit(conn: &mut SqliteConnection, r: &RawRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit (seq, at, actor_kind, actor_id, action, subject, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .bind(r.seq)
    .bind(r.at)
    .bind(&r.actor_kind)
    .bind(&r.actor_id)
    .bind(&r.action)
    .bind(&r.subject)
    .bind(&r.detail)
    .bind(&r.prev_hash)
    .bind(&r.hash)
    .execute(conn)
    .await
    .ctx("writing the audit record")?;
    Ok(())
}

fn raw_record(row: &SqliteRow) -> Result<RawRecord, sqlx::Error> {
    Ok(RawRecord {
        seq: row.try_get(0)?,
        at: row.try_get(1)?,
        actor_kind: row.try_get(2)?,
        actor_id: row.try_get(3)?,
        action: row.try_get(4)?,
        subject: row.try_get(5)?,
        detail: row.try_get(6)?,
        prev_hash: row.try_get(7)?,
        hash: row.try_get(8)?,
    })
}

/// Events per row of a replay's page (`LogTx::replay`).
const GROUP: i64 = 1024;

/// The `n` events of a replay group: its seqs joined by commas and its bodies by newlines, in
/// the same order; none when they do not count out to `n` each or the seqs do not ascend.
fn split_group<'a>(seqs: &'a str, bodies: &'a str, n: i64) -> Option<Vec<(i64, &'a str)>> {
    let (mut seqs, mut bodies) = (seqs.split(','), bodies.split('\n'));
    let mut events: Vec<(i64, &str)> = Vec::with_capacity(n.clamp(0, GROUP) as usize);
    for (seq, body) in seqs.by_ref().zip(bodies.by_ref()) {
        let seq = seq.parse().ok()?;
        if events.last().is_some_and(|&(before, _)| before >= seq) {
            return None;
        }
        events.push((seq, body));
    }
    let whole = seqs.next().is_none() && bodies.next().is_none() && events.len() as i64 == n;
    whole.then_some(events)
}

impl Tx {
    /// The events after seq `after` up to `last`, one row each.
    async fn events_between(&mut self, after: i64, last: i64) -> Result<Vec<(i64, String)>> {
        sqlx::query_as("SELECT seq, body FROM events WHERE seq > ?1 AND seq <= ?2 ORDER BY seq")
            .bind(after)
            .bind(last)
            .fetch_all(&mut *self.0)
            .await
            .ctx("reading the event log")
    }
}

#[cfg(test)]
mod tests {
    use super::split_group;

    #[test]
    fn a_group_is_split_only_when_its_parts_count_out() {
        let events = split_group("3,4,9", "{\"a\":1}\n{}\n{\"b\":\"x\\ny\"}", 3).unwrap();
        assert_eq!(
            events,
            [(3, "{\"a\":1}"), (4, "{}"), (9, "{\"b\":\"x\\ny\"}")]
        );
        // A body with a raw newline (none is ever stored) makes one part too many.
        assert_eq!(split_group("3,4", "{}\n{\"a\":\"x\ny\"}", 2), None);
        assert_eq!(split_group("3,4,5", "{}\n{}", 3), None);
        assert_eq!(split_group("3,x", "{}\n{}", 2), None);
        assert_eq!(split_group("3,4", "{}\n{}", 3), None);
        assert_eq!(split_group("4,3", "{}\n{}", 2), None);
    }
}
