//! The event log, the projections and the audit trail on PostgreSQL: lists are bound as arrays
//! (`= ANY($1)`) and rows are written many per `INSERT`, within PostgreSQL's parameter limit.

use std::collections::{HashMap, HashSet};

use model::{Mode, OrderStatus};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{PgConnection, Row};

use super::{Postgres, Tx};
use crate::audit::RawRecord;
use crate::backend::{
    AuditRowQuery, AuditSince, BodyRow, EventQuery, EventRow, EventRowRead, Loaded, LogStore,
    LogTx, MaterialRow, OrderRow, Projection, QualityTx, RawCounts, Table, UnitRow, Write,
};
use crate::error::{Context, Result};

impl LogStore for Postgres {
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
        const WHERE: &str =
            "WHERE ($1::text IS NULL OR mode = $1) AND ($2::text IS NULL OR status = $2)";
        let total: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM orders {WHERE}"))
            .bind(mode)
            .bind(status)
            .fetch_one(pool)
            .await
            .and_then(|row| row.try_get(0))
            .ctx("counting orders")?;
        let bodies = sqlx::query(&format!(
            "SELECT body FROM orders {WHERE} ORDER BY id LIMIT $3 OFFSET $4"
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
        sqlx::query("SELECT seq, recorded_at, body FROM events WHERE id = ANY($1) ORDER BY seq")
            .bind(ids)
            .fetch_all(&self.pool)
            .await
            .ctx("reading events by id")?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect::<Result<_, sqlx::Error>>()
            .ctx("reading events by id")
    }

    async fn events(&self, query: &EventQuery<'_>) -> Result<Vec<EventRowRead>> {
        let pool = &self.pool;
        let types = (!query.types.is_empty()).then_some(query.types);
        let (from, to, after_seq, limit) = (query.from, query.to, query.after_seq, query.limit);
        // Only the filters given are in the text (so each variant's plan can use its index);
        // the parameters are always all bound, and typed by their Rust types when unused.
        let mut sql = String::from("SELECT seq, recorded_at, body FROM events WHERE seq > $1");
        if from.is_some() {
            sql.push_str(" AND time >= $2");
        }
        if to.is_some() {
            sql.push_str(" AND time < $3");
        }
        if types.is_some() {
            sql.push_str(" AND type = ANY($4)");
        }
        sql.push_str(" ORDER BY seq LIMIT $5");
        sqlx::query(&sql)
            .bind(after_seq)
            .bind(from)
            .bind(to)
            .bind(types)
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
                    (SELECT COALESCE(SUM(value), 0)::bigint FROM counters
                     WHERE name LIKE 'quality:%')",
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
             FROM audit WHERE seq < $1
               AND ($3::text IS NULL OR actor_id = $3)
               AND ($4::text IS NULL OR starts_with(action, $4))
               AND ($5::bigint IS NULL OR at >= $5)
               AND ($6::bigint IS NULL OR at < $6)
             ORDER BY seq DESC LIMIT $2"
        } else {
            "SELECT seq, at, actor_kind, actor_id, action, subject, detail, prev_hash, hash
             FROM audit WHERE seq > $1
               AND ($3::text IS NULL OR actor_id = $3)
               AND ($4::text IS NULL OR starts_with(action, $4))
               AND ($5::bigint IS NULL OR at >= $5)
               AND ($6::bigint IS NULL OR at < $6)
             ORDER BY seq LIMIT $2"
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
             FROM audit WHERE subject = $1 ORDER BY seq DESC LIMIT 1",
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

    /// Nothing to do: PostgreSQL checkpoints its WAL itself.
    async fn wrote(&self, _bytes: u64) {}

    async fn audit_head_seq(&self) -> Result<i64> {
        sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM audit")
            .fetch_one(&self.pool)
            .await
            .and_then(|row| row.try_get(0))
            .ctx("reading the audit head")
    }

    async fn begin(&self) -> Result<crate::backend::Tx> {
        self.begin_write().await
    }

    async fn begin_read(&self) -> Result<crate::backend::Tx> {
        self.begin_read_only().await
    }
}

impl LogTx for Tx {
    async fn load(&mut self) -> Result<Loaded> {
        let conn: &mut PgConnection = &mut self.0;
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
        // The last seq only (an index lookup): counting the events would scan the whole log,
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

    /// A page at a time.
    async fn replay(
        &mut self,
        mut after: i64,
        mut f: impl FnMut(i64, &str) -> Result<()> + Send,
    ) -> Result<i64> {
        const PAGE: i64 = 20_000;
        let mut count = 0;
        loop {
            let rows =
                sqlx::query("SELECT seq, body FROM events WHERE seq > $1 ORDER BY seq LIMIT $2")
                    .bind(after)
                    .bind(PAGE)
                    .fetch_all(&mut *self.0)
                    .await
                    .ctx("reading the event log")?;
            for row in &rows {
                let seq: i64 = row.try_get(0).ctx("reading the event log")?;
                let body: &str = row.try_get(1).ctx("reading the event log")?;
                f(seq, body)?;
                after = seq;
            }
            count += rows.len() as i64;
            if (rows.len() as i64) < PAGE {
                return Ok(count);
            }
        }
    }

    async fn existing(&mut self, ids: &[&str]) -> Result<HashMap<String, (i64, String)>> {
        let rows = sqlx::query("SELECT seq, id, body FROM events WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(&mut *self.0)
            .await
            .ctx("looking up event ids")?;
        rows.iter()
            .map(|row| Ok((row.try_get(1)?, (row.try_get(0)?, row.try_get(2)?))))
            .collect::<Result<_, sqlx::Error>>()
            .ctx("looking up event ids")
    }

    async fn write_log(&mut self, w: Write<'_>) -> Result<()> {
        if let Some((plant_version, body, start, created_at)) = w.plant {
            sqlx::query(
                "INSERT INTO plants (version, body, start, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(plant_version)
            .bind(body)
            .bind(start)
            .bind(created_at)
            .execute(&mut *self.0)
            .await
            .ctx("storing the plant")?;
        }
        if w.wipe_events {
            // (Events carry explicit seqs: there is no sequence to reset.)
            sqlx::query("DELETE FROM events")
                .execute(&mut *self.0)
                .await
                .ctx("wiping the event log")?;
            // A snapshot is a fold of the log wiped here.
            sqlx::query("DELETE FROM state_snapshots")
                .execute(&mut *self.0)
                .await
                .ctx("wiping the state snapshots")?;
            // What the quality enforcer decided derives from the log: it goes with it, so a new
            // log (even one with the same event ids) is judged afresh under the policy in force.
            QualityTx::wipe_judged(self, true).await?;
            // Connectors read their peers again from the start into the new log (their dead
            // letters stay: a record read again is recognised by its source id).
            sqlx::query("DELETE FROM connector_cursors")
                .execute(&mut *self.0)
                .await
                .ctx("wiping connector cursors")?;
        }
        let conn: &mut PgConnection = &mut self.0;
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
            "SELECT (SELECT hash FROM audit WHERE seq = $1),
                    (SELECT COUNT(*) FROM audit WHERE seq > $1 AND action = ANY($2))",
        )
        .bind(seq)
        .bind(actions)
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
async fn audit_head(conn: &mut PgConnection) -> Result<Option<(i64, String)>> {
    sqlx::query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        .fetch_optional(conn)
        .await
        .ctx("reading the audit head")?
        .map(|row| Ok::<_, sqlx::Error>((row.try_get(0)?, row.try_get(1)?)))
        .transpose()
        .ctx("reading the audit head")
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, PgArguments>;

/// A row that binds its columns, in order, to a multi-row `VALUES` statement.
trait BindRow {
    const COLUMNS: usize;
    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q>;
    /// The row's conflict key, for rows written with `ON CONFLICT … DO UPDATE` (which
    /// PostgreSQL refuses to apply twice to one row in one statement); none for plain inserts.
    fn key(&self) -> Option<&str> {
        None
    }
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
    fn key(&self) -> Option<&str> {
        Some(self.id)
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
    fn key(&self) -> Option<&str> {
        Some(self.id)
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
    fn key(&self) -> Option<&str> {
        Some(self.id)
    }
}

impl BindRow for BodyRow<'_> {
    const COLUMNS: usize = 2;
    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query.bind(self.id).bind(self.body.as_str())
    }
    fn key(&self) -> Option<&str> {
        Some(self.id)
    }
}

impl BindRow for (String, i64) {
    const COLUMNS: usize = 2;
    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query.bind(self.0.as_str()).bind(self.1)
    }
    fn key(&self) -> Option<&str> {
        Some(&self.0)
    }
}

/// PostgreSQL's limit of bind parameters per statement (their count is a 16-bit field).
const MAX_PARAMETERS: usize = 65_535;

/// Rows per `INSERT` statement at most: few statements (round trips) per batch, few distinct
/// statement texts for the prepared-statement cache.
const ROWS_PER_STATEMENT: usize = 1_000;

/// Rows per statement for rows of `columns` parameters: within [`MAX_PARAMETERS`].
const fn rows_per_statement(columns: usize) -> usize {
    let fit = MAX_PARAMETERS / columns;
    if fit < ROWS_PER_STATEMENT {
        fit
    } else {
        ROWS_PER_STATEMENT
    }
}

/// `head VALUES ($1, …), … tail` for `rows` rows of `columns` numbered parameters.
fn values_sql(head: &str, columns: usize, rows: usize, tail: &str) -> String {
    use std::fmt::Write as _;
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * (columns * 7 + 3) + 16);
    sql.push_str(head);
    sql.push_str(" VALUES ");
    let mut n = 0;
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push(',');
            }
            n += 1;
            write!(sql, "${n}").expect("writing to a String");
        }
        sql.push(')');
    }
    sql.push(' ');
    sql.push_str(tail);
    sql
}

/// Inserts `rows` with as few statements as possible. Of rows with the same key only the
/// last is written (what SQLite's upsert leaves when it meets a key twice in one statement).
async fn insert_rows<R: BindRow>(
    conn: &mut PgConnection,
    head: &str,
    tail: &str,
    rows: &[R],
    context: &'static str,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut seen = HashSet::with_capacity(rows.len());
    let duplicated = rows.iter().filter_map(R::key).any(|key| !seen.insert(key));
    let rows: Vec<&R> = if duplicated {
        let mut seen = HashSet::with_capacity(rows.len());
        let mut last: Vec<&R> = rows
            .iter()
            .rev()
            .filter(|row| row.key().is_none_or(|key| seen.insert(key)))
            .collect();
        last.reverse();
        last
    } else {
        rows.iter().collect()
    };
    let per_statement = rows_per_statement(R::COLUMNS);
    // The text of a full statement is built once; only the last, shorter one differs.
    let mut full_sql: Option<String> = None;
    for chunk in rows.chunks(per_statement) {
        let short_sql;
        let sql = if chunk.len() == per_statement {
            full_sql.get_or_insert_with(|| values_sql(head, R::COLUMNS, per_statement, tail))
        } else {
            short_sql = values_sql(head, R::COLUMNS, chunk.len(), tail);
            &short_sql
        };
        let mut query = sqlx::query(sql.as_str());
        for row in chunk {
            query = row.bind(query);
        }
        query.execute(&mut *conn).await.ctx(context)?;
    }
    Ok(())
}

async fn write_projection(conn: &mut PgConnection, p: &Projection<'_>) -> Result<()> {
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

async fn insert_audit(conn: &mut PgConnection, r: &RawRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit (seq, at, actor_kind, actor_id, action, subject, detail, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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

fn raw_record(row: &PgRow) -> Result<RawRecord, sqlx::Error> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Backend, LogStore, LogTx};

    #[test]
    fn statements_number_their_parameters_within_the_limit() {
        assert_eq!(
            values_sql("INSERT INTO t (a, b)", 2, 2, "ON CONFLICT DO NOTHING"),
            "INSERT INTO t (a, b) VALUES ($1,$2),($3,$4) ON CONFLICT DO NOTHING"
        );
        assert_eq!(rows_per_statement(7), ROWS_PER_STATEMENT);
        assert_eq!(rows_per_statement(100), 655);
        assert!(rows_per_statement(7) * 7 <= MAX_PARAMETERS);
    }

    /// Many rows (several statements) and a key given twice (the last wins) on PostgreSQL,
    /// when the tests have a database (`MIXPLANE_TEST_POSTGRES`).
    #[test]
    fn bulk_writes_span_statements_and_keep_the_last_of_a_key() {
        let Some(url) = crate::test_support::postgres_url() else {
            return;
        };
        let schema = format!("t_{}", crate::random_hex(10));
        let url = format!("{url}?schema={schema}");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let Backend::Postgres(pg) = super::super::open(&url).await.unwrap() else {
                unreachable!("a PostgreSQL URL opens PostgreSQL")
            };
            let ids: Vec<String> = (0..2_500).map(|i| format!("e{i:05}")).collect();
            let events: Vec<EventRow<'_>> = ids
                .iter()
                .enumerate()
                .map(|(i, id)| EventRow {
                    recorded_at: 7,
                    seq: i as i64 + 1,
                    id,
                    kind: "note",
                    time: i as i64,
                    source: (i % 2 == 0).then_some("src"),
                    body: "{}",
                })
                .collect();
            let projection = Projection {
                counters: (0..1_500)
                    .map(|i| (format!("quality:c{i}"), 1))
                    .chain([("quality:c3".to_owned(), 40)])
                    .collect(),
                ..Projection::default()
            };
            let audit = RawRecord {
                seq: 1,
                at: 7,
                actor_kind: "system".into(),
                actor_id: "test".into(),
                action: "events.append".into(),
                subject: "log".into(),
                detail: "{}".into(),
                prev_hash: String::new(),
                hash: "h1".into(),
            };
            let crate::backend::Tx::Postgres(mut tx) = pg.begin().await.unwrap() else {
                unreachable!()
            };
            tx.write_log(Write {
                plant: None,
                wipe_events: false,
                events: &events,
                projection: &projection,
                audit: &audit,
            })
            .await
            .unwrap();
            let found = tx.existing(&["e00000", "e02499", "nope"]).await.unwrap();
            assert_eq!(found.len(), 2);
            assert_eq!(found["e02499"].0, 2_500);
            crate::backend::Finish::commit(tx).await.unwrap();
            let counts = pg.counts().await.unwrap();
            assert_eq!(counts.events, 2_500);
            assert_eq!(counts.quality, 1_499 + 40);
            let some = pg
                .events(&EventQuery {
                    types: &["note".to_owned()],
                    from: Some(10),
                    to: None,
                    after_seq: 0,
                    limit: 3,
                })
                .await
                .unwrap();
            assert_eq!(some.iter().map(|e| e.0).collect::<Vec<_>>(), [11, 12, 13]);
            assert_eq!(pg.audit_head_seq().await.unwrap(), 1);
            let audit = pg
                .audit_rows(&AuditRowQuery {
                    action_prefix: Some("events."),
                    ..AuditRowQuery::all(0, 10)
                })
                .await
                .unwrap();
            assert_eq!(audit.len(), 1);
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&pg.pool)
                .await
                .unwrap();
        });
    }
}
