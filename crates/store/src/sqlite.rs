//! The SQLite backend: connection settings, migrations and every SQL statement the store runs
//! on SQLite.
//!
//! All statements are checked at run time (`sqlx::query`), so building needs no database. Bulk
//! writes pass a whole batch as one JSON array parameter and expand it with `json_each`, which
//! makes a batch of a thousand events one `INSERT` instead of a thousand.
//!
//! Connection settings: WAL journal, `synchronous = FULL` (every commit is fsynced to the WAL
//! before it returns, so an acknowledged batch survives power loss and `kill -9`), foreign keys
//! on, a 10 s busy timeout.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, SqliteConnection};

use crate::audit::RawRecord;
use crate::error::{Context, Result, StoreError};

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

fn base_options(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        // 64 MiB of page cache per connection: the id index and the projections of a busy
        // plant stay in memory.
        .pragma("cache_size", "-65536")
        .pragma("temp_store", "memory")
        // The store checkpoints the WAL in the background (see `Checkpointer` in store.rs);
        // SQLite's automatic checkpoint inside a commit only steps in past 64 MiB of WAL.
        .pragma("wal_autocheckpoint", "16000")
}

/// Opens (creating if missing) a database file and migrates it.
pub(crate) async fn open_file(path: &Path) -> Result<SqlitePool> {
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
            context: "creating the database directory",
            path: parent.display().to_string(),
            source,
        })?;
    }
    let options = base_options(
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true),
    );
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .ctx("opening the database file")?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// Opens a private in-memory database (one connection, kept for the pool's life).
pub(crate) async fn open_memory() -> Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str("sqlite::memory:")
        .ctx("parsing the in-memory database URL")?
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await
        .ctx("opening an in-memory database")?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// What the store needs to know about a database when it opens it.
pub(crate) struct Loaded {
    /// Latest plant: version, JSON, start (ms).
    pub plant: Option<(i64, String, i64)>,
    pub last_seq: i64,
    pub events: i64,
    /// Last audit record: seq and hash.
    pub audit_head: Option<(i64, String)>,
    pub counters: HashMap<String, i64>,
}

pub(crate) async fn load(pool: &SqlitePool) -> Result<Loaded> {
    let plant =
        sqlx::query("SELECT version, body, start FROM plants ORDER BY version DESC LIMIT 1")
            .fetch_optional(pool)
            .await
            .ctx("reading the plant")?
            .map(|row| Ok::<_, sqlx::Error>((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .transpose()
            .ctx("reading the plant")?;
    let row = sqlx::query("SELECT COALESCE(MAX(seq), 0), COUNT(*) FROM events")
        .fetch_one(pool)
        .await
        .ctx("reading the event log size")?;
    let (last_seq, events) = (
        row.try_get(0).ctx("reading the event log size")?,
        row.try_get(1).ctx("reading the event log size")?,
    );
    let audit_head = sqlx::query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        .fetch_optional(pool)
        .await
        .ctx("reading the audit head")?
        .map(|row| Ok::<_, sqlx::Error>((row.try_get(0)?, row.try_get(1)?)))
        .transpose()
        .ctx("reading the audit head")?;
    let counters = sqlx::query("SELECT name, value FROM counters")
        .fetch_all(pool)
        .await
        .ctx("reading counters")?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<HashMap<String, i64>, sqlx::Error>>()
        .ctx("reading counters")?;
    Ok(Loaded {
        plant,
        last_seq,
        events,
        audit_head,
        counters,
    })
}

/// Calls `f(seq, body)` for every event in log order, a page at a time.
pub(crate) async fn replay(
    pool: &SqlitePool,
    mut f: impl FnMut(i64, &str) -> Result<()>,
) -> Result<()> {
    const PAGE: i64 = 20_000;
    let mut after = 0i64;
    loop {
        let rows = sqlx::query("SELECT seq, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")
            .bind(after)
            .bind(PAGE)
            .fetch_all(pool)
            .await
            .ctx("reading the event log")?;
        for row in &rows {
            let seq: i64 = row.try_get(0).ctx("reading the event log")?;
            let body: &str = row.try_get(1).ctx("reading the event log")?;
            f(seq, body)?;
            after = seq;
        }
        if (rows.len() as i64) < PAGE {
            return Ok(());
        }
    }
}

/// Stored `(seq, body)` of those of `ids` (a JSON array of strings) already in the log.
pub(crate) async fn existing(
    pool: &SqlitePool,
    ids_json: &str,
) -> Result<HashMap<String, (i64, String)>> {
    let rows = sqlx::query(
        "SELECT seq, id, body FROM events WHERE id IN (SELECT value FROM json_each(?1))",
    )
    .bind(ids_json)
    .fetch_all(pool)
    .await
    .ctx("looking up event ids")?;
    rows.iter()
        .map(|row| Ok((row.try_get(1)?, (row.try_get(0)?, row.try_get(2)?))))
        .collect::<Result<_, sqlx::Error>>()
        .ctx("looking up event ids")
}

/// Rows of the projection tables to write.
#[derive(Debug, Default)]
pub(crate) struct Projection<'a> {
    /// Delete every projection row first (a full rewrite).
    pub replace_all: bool,
    pub orders: Vec<OrderRow<'a>>,
    pub units: Vec<UnitRow<'a>>,
    pub lots: Vec<MaterialRow<'a>>,
    pub serials: Vec<MaterialRow<'a>>,
    pub counters: Vec<(String, i64)>,
}

#[derive(Debug)]
pub(crate) struct EventRow<'a> {
    pub recorded_at: i64,
    pub seq: i64,
    pub id: &'a str,
    pub kind: &'static str,
    pub time: i64,
    pub source: Option<&'a str>,
    pub body: &'a str,
}

#[derive(Debug)]
pub(crate) struct OrderRow<'a> {
    pub id: &'a str,
    pub mode: &'static str,
    pub status: &'static str,
    pub due: i64,
    pub priority: &'static str,
    pub body: String,
}

#[derive(Debug)]
pub(crate) struct UnitRow<'a> {
    pub id: &'a str,
    pub state: &'static str,
    pub since: i64,
    pub body: String,
}

/// A lot or serial row.
#[derive(Debug)]
pub(crate) struct MaterialRow<'a> {
    pub id: &'a str,
    pub material: &'a str,
    pub body: String,
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

/// One write: optionally a new plant version, a wipe or an append of events, projection rows,
/// and always exactly one audit record, all in one transaction.
pub(crate) struct Write<'a> {
    /// Plant version, JSON, start ms, created ms.
    pub plant: Option<(i64, &'a str, i64, i64)>,
    pub wipe_events: bool,
    pub events: &'a [EventRow<'a>],
    pub projection: &'a Projection<'a>,
    pub audit: &'a RawRecord,
}

/// Runs a [`Write`] in one transaction; returns the new plant version if one was stored.
pub(crate) async fn write(pool: &SqlitePool, w: Write<'_>) -> Result<Option<i64>> {
    let mut tx = pool.begin().await.ctx("beginning a transaction")?;
    let mut version = None;
    if let Some((plant_version, body, start, created_at)) = w.plant {
        let row = sqlx::query(
            "INSERT INTO plants (version, body, start, created_at) VALUES (?1, ?2, ?3, ?4)
             RETURNING version",
        )
        .bind(plant_version)
        .bind(body)
        .bind(start)
        .bind(created_at)
        .fetch_one(&mut *tx)
        .await
        .ctx("storing the plant")?;
        version = Some(row.try_get(0).ctx("storing the plant")?);
    }
    if w.wipe_events {
        sqlx::query("DELETE FROM events")
            .execute(&mut *tx)
            .await
            .ctx("wiping the event log")?;
        sqlx::query("DELETE FROM sqlite_sequence WHERE name = 'events'")
            .execute(&mut *tx)
            .await
            .ctx("wiping the event log")?;
        // What the quality enforcer decided derives from the log: it goes with it, so a new
        // log (even one with the same event ids) is judged afresh under the policy in force.
        crate::quality::wipe_judged(&mut tx, true).await?;
    }
    insert_rows(
        &mut tx,
        "INSERT INTO events (recorded_at, seq, id, type, time, source, body)",
        "",
        w.events,
        "inserting events",
    )
    .await?;
    write_projection(&mut tx, w.projection).await?;
    insert_audit(&mut tx, w.audit).await?;
    tx.commit().await.ctx("committing")?;
    Ok(version)
}

async fn write_projection(conn: &mut SqliteConnection, p: &Projection<'_>) -> Result<()> {
    if p.replace_all {
        for table in ["orders", "units", "lots", "serials", "counters"] {
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
    for (table, rows) in [("lots", &p.lots), ("serials", &p.serials)] {
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
        "INSERT INTO counters (name, value)",
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        &p.counters,
        CONTEXT,
    )
    .await?;
    Ok(())
}

pub(crate) async fn insert_audit(conn: &mut SqliteConnection, r: &RawRecord) -> Result<()> {
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

/// Audit records with `seq > after`, at most `limit`, in order.
pub(crate) async fn audit_rows(
    pool: &SqlitePool,
    after: i64,
    limit: i64,
) -> Result<Vec<RawRecord>> {
    sqlx::query(
        "SELECT seq, at, actor_kind, actor_id, action, subject, detail, prev_hash, hash
         FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
    .ctx("reading the audit trail")?
    .iter()
    .map(raw_record)
    .collect::<Result<_, sqlx::Error>>()
    .ctx("reading the audit trail")
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

/// Order bodies matching the filter, and the number of matches.
pub(crate) async fn orders(
    pool: &SqlitePool,
    mode: Option<&str>,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<String>, u64)> {
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

/// `(seq, recorded_at, body)` of events matching the filter, in log order.
/// The stored events with these ids, in log order.
pub(crate) async fn events_with_ids(
    pool: &SqlitePool,
    ids_json: &str,
) -> Result<Vec<(i64, i64, String)>> {
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

pub(crate) async fn events(
    pool: &SqlitePool,
    types_json: Option<&str>,
    from: Option<i64>,
    to: Option<i64>,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<(i64, i64, String)>> {
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

/// Raw counts: events, `(mode, status, n)`, lots, serials, quality results.
pub(crate) async fn counts(
    pool: &SqlitePool,
) -> Result<(i64, Vec<(String, String, i64)>, i64, i64, i64)> {
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
    Ok((events, orders, lots, serials, quality))
}

/// Every row of a projection table as `(id, body)`, for consistency checks.
pub(crate) async fn projection_rows(
    pool: &SqlitePool,
    table: Table,
) -> Result<Vec<(String, String)>> {
    let sql = match table {
        Table::Orders => "SELECT id, body FROM orders ORDER BY id",
        Table::Units => "SELECT id, body FROM units ORDER BY id",
        Table::Lots => "SELECT id, body FROM lots ORDER BY id",
        Table::Serials => "SELECT id, body FROM serials ORDER BY id",
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

/// The projection tables.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Table {
    Orders,
    Units,
    Lots,
    Serials,
    Counters,
}
