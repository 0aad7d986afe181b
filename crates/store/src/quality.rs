//! Quality persistence: alerts, holds and nonconformances (NCs) with their transition
//! history, and the enforcer's cursor and running state.
//!
//! The store knows no SPC: the caller runs the pure `quality` enforcer inside
//! [`Store::enforce_quality`], which hands it the quality results logged since the cursor
//! (with the plant and state they were folded into) and writes back what it decided. NC
//! workflow rules live in `quality::nc`; here an NC is a JSON body with a state, a version
//! (optimistic concurrency) and its transitions.
//!
//! Every write goes through the store's one audited write path — the writer lock, the next
//! chained audit record, and the caller's rows committed in the same transaction — so a hold
//! or NC change is either wholly stored with its audit record or not at all, and survives a
//! restart (the tables are in `migrations/0010_quality.sql`).

use std::sync::Arc;

use model::{Event, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use crate::error::{Context, Result, StoreError};
use crate::store::{Backend, Inner, Snapshot, Store, now_ms};
use crate::types::{Actor, Page, StoredEvent};

/// What [`Store::enforce_quality`] hands the enforcer.
#[derive(Debug, Clone)]
pub struct QualityBatch {
    /// The enforcer's saved state (none on the first run or after the log was reset).
    pub previous_state: Option<String>,
    /// `quality_result_recorded` events after the cursor, in log order.
    pub results: Vec<StoredEvent>,
    /// The plant and state including every one of those events.
    pub snapshot: Snapshot,
}

/// What the enforcer decided, to be stored.
#[derive(Debug, Clone, Default)]
pub struct QualityWrite {
    /// The enforcer's new state.
    pub state: String,
    /// Version of the policy that judged the results.
    pub policy_version: String,
    pub alerts: Vec<NewAlert>,
    pub holds: Vec<NewHold>,
    pub nonconformances: Vec<NewNc>,
}

/// An alert to store.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub id: String,
    pub characteristic: String,
    pub severity: String,
    pub phase: u8,
    pub at: Timestamp,
    /// The alert as JSON.
    pub body: Value,
}

/// A hold to place.
#[derive(Debug, Clone)]
pub struct NewHold {
    /// `lot`, `serial` or `order`.
    pub item_kind: String,
    pub item_id: String,
    /// `item`, `upstream`, `downstream` (policy) or `manual`.
    pub link: String,
    pub reason: String,
    pub alert_id: Option<String>,
    pub at: Timestamp,
}

/// One step of an NC's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NcTransition {
    pub action: String,
    pub from: String,
    pub to: String,
    /// Who (principal id).
    pub by: String,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A nonconformance to open.
#[derive(Debug, Clone)]
pub struct NewNc {
    pub id: String,
    pub state: String,
    pub characteristic: Option<String>,
    pub alert_id: Option<String>,
    /// Items concerned (`lot:ID`, `serial:ID`, `order:ID`).
    pub items: Vec<String>,
    pub at: Timestamp,
    /// The NC as JSON.
    pub body: Value,
    /// Its history so far (the opening).
    pub transitions: Vec<NcTransition>,
}

/// What one enforcement run stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EnforceRun {
    /// Quality results judged.
    pub results: usize,
    /// New alerts, holds (items newly held) and NCs.
    pub alerts: usize,
    pub holds: usize,
    pub nonconformances: usize,
    /// Log seq the enforcer has now judged up to.
    pub cursor_seq: i64,
    /// The log had been reset since the last run: quality records of the old log were
    /// cleared and enforcement started over.
    pub restarted: bool,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoredAlert {
    pub id: String,
    pub characteristic: String,
    pub severity: String,
    pub phase: u8,
    pub at: Timestamp,
    /// The alert as the enforcer reported it.
    pub body: Value,
}

/// A hold on a lot, serial or order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Hold {
    pub id: String,
    /// `lot`, `serial` or `order`.
    pub item_kind: String,
    pub item_id: String,
    /// How the item relates to the alert: `item`, `upstream`, `downstream`, or `manual`.
    pub link: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_id: Option<String>,
    /// `kind:id` of who placed it.
    pub placed_by: String,
    pub placed_at: Timestamp,
    /// Still in force.
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_reason: Option<String>,
}

/// A stored nonconformance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoredNc {
    pub id: String,
    pub state: String,
    /// Row version; a transition must name the version it read.
    pub version: i64,
    pub items: Vec<String>,
    /// The NC (workflow state, disposition, CAPA actions) as JSON.
    pub body: Value,
    /// Every transition, oldest first.
    pub transitions: Vec<NcTransition>,
}

/// Outcome of [`Store::release_hold`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldRelease {
    Released(Hold),
    NotFound,
    AlreadyReleased(Hold),
}

/// Outcome of [`Store::update_nc`].
#[derive(Debug, Clone, PartialEq)]
pub enum NcUpdate {
    Updated(StoredNc),
    NotFound,
    /// Another transition was stored since the caller read the NC.
    Stale,
}

/// Which alerts [`Store::alerts`] returns, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    pub characteristic: Option<String>,
    pub severity: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

/// Which holds [`Store::holds`] returns, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HoldFilter {
    pub active: Option<bool>,
    pub item_kind: Option<String>,
    pub item_id: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

/// Which NCs [`Store::nonconformances`] returns, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NcFilter {
    pub state: Option<String>,
    /// Only NCs not closed.
    pub open: Option<bool>,
    pub limit: u32,
    pub offset: u32,
}

/// Sizes of the quality records.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct QualityCounts {
    pub alerts: u64,
    pub holds_active: u64,
    pub nonconformances_open: u64,
    /// Log seq the enforcer has judged up to.
    pub cursor_seq: i64,
}

fn actor_key(actor: &Actor) -> String {
    format!("{}:{}", actor.kind.as_str(), actor.id)
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn hold_row(row: &SqliteRow) -> Result<Hold> {
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
pub(crate) async fn wipe_judged(conn: &mut SqliteConnection, cursor: bool) -> Result<()> {
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
                            released_by, released_at, release_reason";

async fn next_n(conn: &mut SqliteConnection, table: &'static str) -> Result<i64> {
    let sql = format!("SELECT COALESCE(MAX(n), 0) + 1 FROM {table}");
    sqlx::query_scalar(&sql)
        .fetch_one(conn)
        .await
        .ctx("numbering a quality record")
}

async fn insert_nc(conn: &mut SqliteConnection, nc: &NewNc, n: i64) -> Result<bool> {
    let ctx = "storing a nonconformance";
    let done = sqlx::query(
        "INSERT OR IGNORE INTO quality_ncs
            (id, n, state, characteristic, alert_id, opened_at, updated_at, version, body)
         VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)",
    )
    .bind(&nc.id)
    .bind(n)
    .bind(&nc.state)
    .bind(&nc.characteristic)
    .bind(&nc.alert_id)
    .bind(nc.at.0)
    .bind(nc.at.0)
    .bind(nc.body.to_string())
    .execute(&mut *conn)
    .await
    .ctx(ctx)?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    for item in &nc.items {
        sqlx::query("INSERT OR IGNORE INTO quality_nc_items (nc_id, item) VALUES (?, ?)")
            .bind(&nc.id)
            .bind(item)
            .execute(&mut *conn)
            .await
            .ctx(ctx)?;
    }
    insert_transitions(conn, &nc.id, 0, &nc.transitions).await?;
    Ok(true)
}

async fn insert_transitions(
    conn: &mut SqliteConnection,
    id: &str,
    after: i64,
    transitions: &[NcTransition],
) -> Result<()> {
    for (i, t) in transitions.iter().enumerate() {
        sqlx::query(
            "INSERT INTO quality_nc_transitions
                (nc_id, seq, action, from_state, to_state, by_actor, at, detail)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
    conn: &mut SqliteConnection,
    id: &str,
    n: i64,
    hold: &NewHold,
    placed_by: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT OR IGNORE INTO quality_holds
            (id, n, item_kind, item_id, link, reason, alert_id, placed_by, placed_at)
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?
         WHERE NOT EXISTS (SELECT 1 FROM quality_holds
                           WHERE item_kind = ? AND item_id = ? AND released_at IS NULL)",
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
    .bind(&hold.item_kind)
    .bind(&hold.item_id)
    .execute(conn)
    .await
    .ctx("placing a hold")?;
    Ok(done.rows_affected() > 0)
}

impl Store {
    fn quality_pool(&self) -> &sqlx::SqlitePool {
        let Backend::Sqlite(pool) = &self.inner.backend;
        pool
    }

    /// The audited write path for quality rows: under the writer lock, `rows` writes in a
    /// transaction that also inserts the next chained audit record with the detail `rows`
    /// returns; both commit together or not at all. A `null` detail means `rows` changed
    /// nothing: the transaction is rolled back and no audit record is written.
    async fn quality_write<T, F>(
        &self,
        actor: &Actor,
        action: &'static str,
        subject: String,
        rows: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(
                &'c mut SqliteConnection,
                Arc<Inner>,
            ) -> std::pin::Pin<
                Box<dyn Future<Output = Result<(T, Value)>> + Send + 'c>,
            > + Send
            + 'static,
    {
        let actor = actor.clone();
        self.spawn_write(move |inner| async move {
            let mut writer = inner.lock_writer().await?;
            let Backend::Sqlite(pool) = &inner.backend;
            let mut tx = pool.begin().await.ctx("beginning a transaction")?;
            let (value, detail) = rows(&mut tx, inner.clone()).await?;
            if detail.is_null() {
                // Nothing was written: no audit record either.
                tx.rollback().await.ctx("rolling back")?;
                return Ok(value);
            }
            let record = writer.audit_record(&actor, action, subject, &detail, now_ms());
            crate::sqlite::insert_audit(&mut tx, &record).await?;
            tx.commit().await.ctx("committing")?;
            writer.audited(record);
            Ok(value)
        })
        .await
    }

    /// Runs the quality enforcer over the quality results logged since its cursor and stores
    /// what it decided — alerts, holds (an item already on hold is not held twice), NCs, its
    /// new state and cursor — in one audited transaction (`quality.enforce`). `enforce` is
    /// called under the writer lock, so no event is missed or judged twice. Returns `None`
    /// when there was nothing new to judge.
    pub async fn enforce_quality<F>(&self, actor: &Actor, enforce: F) -> Result<Option<EnforceRun>>
    where
        F: FnOnce(QualityBatch) -> std::result::Result<QualityWrite, String> + Send + 'static,
    {
        let placed_by = actor_key(actor);
        let ran = self
            .quality_write(
                actor,
                "quality.enforce",
                "quality:enforcer".into(),
                move |tx, inner| {
                    Box::pin(async move {
                        let ctx = "reading the quality enforcer";
                        let saved: Option<(i64, Option<String>, String)> = sqlx::query_as(
                        "SELECT cursor_seq, cursor_event, state FROM quality_enforcer WHERE id = 1",
                    )
                    .fetch_optional(&mut *tx)
                    .await
                    .ctx(ctx)?;
                        let mut restarted = false;
                        let (cursor, previous_state) = match saved {
                            None => (0, None),
                            Some((seq, event, state)) => {
                                let at: Option<String> =
                                    sqlx::query_scalar("SELECT id FROM events WHERE seq = ?")
                                        .bind(seq)
                                        .fetch_optional(&mut *tx)
                                        .await
                                        .ctx(ctx)?;
                                if seq > 0 && at != event {
                                    // The log was reset: what was judged no longer exists.
                                    restarted = true;
                                    wipe_judged(&mut *tx, false).await?;
                                    (0, None)
                                } else {
                                    (seq, Some(state))
                                }
                            }
                        };
                        let rows: Vec<(i64, i64, String, String)> = sqlx::query_as(
                            "SELECT seq, recorded_at, id, body FROM events
                         WHERE seq > ? AND type = 'quality_result_recorded' ORDER BY seq",
                        )
                        .bind(cursor)
                        .fetch_all(&mut *tx)
                        .await
                        .ctx("reading quality results")?;
                        let last: Option<(i64, String)> =
                            sqlx::query_as("SELECT seq, id FROM events ORDER BY seq DESC LIMIT 1")
                                .fetch_optional(&mut *tx)
                                .await
                                .ctx(ctx)?;
                        if rows.is_empty() && !restarted {
                            return Ok((None, Value::Null));
                        }
                        let mut results = Vec::with_capacity(rows.len());
                        for (seq, recorded_at, _, body) in rows {
                            let event: Event = serde_json::from_str(&body)
                                .map_err(|e| corrupt(format!("event at seq {seq}: {e}")))?;
                            results.push(StoredEvent {
                                seq,
                                recorded_at: Timestamp(recorded_at),
                                event,
                            });
                        }
                        let snapshot = Store { inner }.snapshot().await;
                        let judged = results.len();
                        let write = enforce(QualityBatch {
                            previous_state,
                            results,
                            snapshot,
                        })
                        .map_err(|e| corrupt(format!("quality enforcement: {e}")))?;
                        let mut run = EnforceRun {
                            results: judged,
                            restarted,
                            ..EnforceRun::default()
                        };
                        let mut n = next_n(tx, "quality_alerts").await?;
                        for a in &write.alerts {
                            let done = sqlx::query(
                                "INSERT OR IGNORE INTO quality_alerts
                                (id, n, characteristic, severity, phase, at, body)
                             VALUES (?, ?, ?, ?, ?, ?, ?)",
                            )
                            .bind(&a.id)
                            .bind(n)
                            .bind(&a.characteristic)
                            .bind(&a.severity)
                            .bind(i64::from(a.phase))
                            .bind(a.at.0)
                            .bind(a.body.to_string())
                            .execute(&mut *tx)
                            .await
                            .ctx("storing an alert")?;
                            n += 1;
                            run.alerts += done.rows_affected() as usize;
                        }
                        let mut n = next_n(tx, "quality_holds").await?;
                        for h in &write.holds {
                            if insert_hold(tx, &format!("H-{n:06}"), n, h, &placed_by).await? {
                                n += 1;
                                run.holds += 1;
                            }
                        }
                        let mut n = next_n(tx, "quality_ncs").await?;
                        for nc in &write.nonconformances {
                            if insert_nc(tx, nc, n).await? {
                                n += 1;
                                run.nonconformances += 1;
                            }
                        }
                        let (cursor_seq, cursor_event) =
                            last.map_or((0, None), |(s, id)| (s, Some(id)));
                        run.cursor_seq = cursor_seq;
                        sqlx::query(
                            "INSERT INTO quality_enforcer
                            (id, cursor_seq, cursor_event, policy_version, state, updated_at)
                         VALUES (1, ?, ?, ?, ?, ?)
                         ON CONFLICT (id) DO UPDATE SET cursor_seq = excluded.cursor_seq,
                            cursor_event = excluded.cursor_event,
                            policy_version = excluded.policy_version,
                            state = excluded.state, updated_at = excluded.updated_at",
                        )
                        .bind(cursor_seq)
                        .bind(cursor_event)
                        .bind(&write.policy_version)
                        .bind(&write.state)
                        .bind(now_ms())
                        .execute(&mut *tx)
                        .await
                        .ctx("saving the quality enforcer")?;
                        let detail = json!({
                            "modified_by": format!("quality-enforcer/{}", write.policy_version),
                            "results": run.results,
                            "alerts": run.alerts,
                            "holds": run.holds,
                            "nonconformances": run.nonconformances,
                            "cursor_seq": run.cursor_seq,
                            "restarted": run.restarted,
                        });
                        Ok((Some(run), detail))
                    })
                },
            )
            .await?;
        Ok(ran)
    }

    /// Puts an item on hold by hand (audited as `quality.hold.place`). An item already on
    /// hold keeps its hold, which is returned with `false`.
    pub async fn place_hold(
        &self,
        actor: &Actor,
        item_kind: &str,
        item_id: &str,
        reason: &str,
    ) -> Result<(Hold, bool)> {
        let hold = NewHold {
            item_kind: item_kind.to_owned(),
            item_id: item_id.to_owned(),
            link: "manual".into(),
            reason: reason.to_owned(),
            alert_id: None,
            at: Timestamp(now_ms()),
        };
        let placed_by = actor_key(actor);
        let subject = format!("{item_kind}:{item_id}");
        self.quality_write(actor, "quality.hold.place", subject, move |tx, _| {
            Box::pin(async move {
                let n = next_n(tx, "quality_holds").await?;
                let id = format!("H-{n:06}");
                let placed = insert_hold(tx, &id, n, &hold, &placed_by).await?;
                let sql = format!(
                    "SELECT {HOLD_COLUMNS} FROM quality_holds
                     WHERE item_kind = ? AND item_id = ? AND released_at IS NULL"
                );
                let row = sqlx::query(&sql)
                    .bind(&hold.item_kind)
                    .bind(&hold.item_id)
                    .fetch_one(&mut *tx)
                    .await
                    .ctx("reading a hold")?;
                let stored = hold_row(&row)?;
                let detail = if placed {
                    json!({ "hold": stored.id, "reason": hold.reason })
                } else {
                    Value::Null
                };
                Ok(((stored, placed), detail))
            })
        })
        .await
    }

    /// Releases a hold (audited as `quality.hold.release`).
    pub async fn release_hold(&self, id: &str, actor: &Actor, reason: &str) -> Result<HoldRelease> {
        let (id, reason, by) = (id.to_owned(), reason.to_owned(), actor_key(actor));
        self.quality_write(
            actor,
            "quality.hold.release",
            format!("hold:{id}"),
            move |tx, _| {
                Box::pin(async move {
                    let sql = format!("SELECT {HOLD_COLUMNS} FROM quality_holds WHERE id = ?");
                    let Some(row) = sqlx::query(&sql)
                        .bind(&id)
                        .fetch_optional(&mut *tx)
                        .await
                        .ctx("reading a hold")?
                    else {
                        return Ok((HoldRelease::NotFound, Value::Null));
                    };
                    let hold = hold_row(&row)?;
                    if !hold.active {
                        return Ok((HoldRelease::AlreadyReleased(hold), Value::Null));
                    }
                    let at = now_ms();
                    sqlx::query(
                    "UPDATE quality_holds SET released_by = ?, released_at = ?, release_reason = ?
                     WHERE id = ?",
                )
                .bind(&by)
                .bind(at)
                .bind(&reason)
                .bind(&id)
                .execute(&mut *tx)
                .await
                .ctx("releasing a hold")?;
                    let released = Hold {
                        active: false,
                        released_by: Some(by),
                        released_at: Some(Timestamp(at)),
                        release_reason: Some(reason.clone()),
                        ..hold
                    };
                    let detail = json!({
                        "item": format!("{}:{}", released.item_kind, released.item_id),
                        "reason": reason,
                    });
                    Ok((HoldRelease::Released(released), detail))
                })
            },
        )
        .await
    }

    /// Holds matching the filter, newest first.
    pub async fn holds(&self, filter: HoldFilter) -> Result<Page<Hold>> {
        let active = filter.active.map(i64::from);
        let cond = "(?1 IS NULL OR (?1 = 1 AND released_at IS NULL)
                                OR (?1 = 0 AND released_at IS NOT NULL))
                    AND (?2 IS NULL OR item_kind = ?2) AND (?3 IS NULL OR item_id = ?3)";
        let pool = self.quality_pool();
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM quality_holds WHERE {cond}"))
                .bind(active)
                .bind(&filter.item_kind)
                .bind(&filter.item_id)
                .fetch_one(pool)
                .await
                .ctx("counting holds")?;
        let rows = sqlx::query(&format!(
            "SELECT {HOLD_COLUMNS} FROM quality_holds WHERE {cond}
             ORDER BY n DESC LIMIT ?4 OFFSET ?5"
        ))
        .bind(active)
        .bind(&filter.item_kind)
        .bind(&filter.item_id)
        .bind(i64::from(filter.limit))
        .bind(i64::from(filter.offset))
        .fetch_all(pool)
        .await
        .ctx("reading holds")?;
        Ok(Page {
            items: rows.iter().map(hold_row).collect::<Result<_>>()?,
            total: total as u64,
            limit: filter.limit,
            offset: filter.offset,
        })
    }

    /// Active holds on any of `items` (`(kind, id)` pairs).
    pub async fn active_holds_on(&self, items: &[(String, String)]) -> Result<Vec<Hold>> {
        let keys: Vec<String> = items.iter().map(|(k, i)| format!("{k}:{i}")).collect();
        let rows = sqlx::query(&format!(
            "SELECT {HOLD_COLUMNS} FROM quality_holds
             WHERE released_at IS NULL
               AND item_kind || ':' || item_id IN (SELECT value FROM json_each(?))
             ORDER BY n"
        ))
        .bind(serde_json::to_string(&keys).unwrap_or_default())
        .fetch_all(self.quality_pool())
        .await
        .ctx("reading holds")?;
        rows.iter().map(hold_row).collect()
    }

    /// Alerts matching the filter, newest first.
    pub async fn alerts(&self, filter: AlertFilter) -> Result<Page<StoredAlert>> {
        let pool = self.quality_pool();
        let cond = "(?1 IS NULL OR characteristic = ?1) AND (?2 IS NULL OR severity = ?2)";
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM quality_alerts WHERE {cond}"))
                .bind(&filter.characteristic)
                .bind(&filter.severity)
                .fetch_one(pool)
                .await
                .ctx("counting alerts")?;
        let rows: Vec<(String, String, String, i64, i64, String)> = sqlx::query_as(&format!(
            "SELECT id, characteristic, severity, phase, at, body FROM quality_alerts
             WHERE {cond} ORDER BY n DESC LIMIT ?3 OFFSET ?4"
        ))
        .bind(&filter.characteristic)
        .bind(&filter.severity)
        .bind(i64::from(filter.limit))
        .bind(i64::from(filter.offset))
        .fetch_all(pool)
        .await
        .ctx("reading alerts")?;
        let items = rows
            .into_iter()
            .map(|(id, characteristic, severity, phase, at, body)| {
                Ok(StoredAlert {
                    body: serde_json::from_str(&body)
                        .map_err(|e| corrupt(format!("alert {id}: {e}")))?,
                    id,
                    characteristic,
                    severity,
                    phase: phase as u8,
                    at: Timestamp(at),
                })
            })
            .collect::<Result<_>>()?;
        Ok(Page {
            items,
            total: total as u64,
            limit: filter.limit,
            offset: filter.offset,
        })
    }

    async fn nc_rows(&self, sql: &str, bind: Vec<Value>) -> Result<Vec<StoredNc>> {
        let pool = self.quality_pool();
        let mut query = sqlx::query_as::<_, (String, String, i64, String)>(sql);
        for b in &bind {
            query = match b {
                Value::Number(n) => query.bind(n.as_i64()),
                Value::String(s) => query.bind(s.clone()),
                _ => query.bind(None::<String>),
            };
        }
        let rows = query.fetch_all(pool).await.ctx("reading nonconformances")?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, state, version, body) in rows {
            let items: Vec<String> = sqlx::query_scalar(
                "SELECT item FROM quality_nc_items WHERE nc_id = ? ORDER BY item",
            )
            .bind(&id)
            .fetch_all(pool)
            .await
            .ctx("reading NC items")?;
            let transitions: Vec<(String, String, String, String, i64, Option<String>)> =
                sqlx::query_as(
                    "SELECT action, from_state, to_state, by_actor, at, detail
                     FROM quality_nc_transitions WHERE nc_id = ? ORDER BY seq",
                )
                .bind(&id)
                .fetch_all(pool)
                .await
                .ctx("reading NC transitions")?;
            out.push(StoredNc {
                body: serde_json::from_str(&body).map_err(|e| corrupt(format!("NC {id}: {e}")))?,
                id,
                state,
                version,
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

    /// One nonconformance with its items and transitions.
    pub async fn nonconformance(&self, id: &str) -> Result<Option<StoredNc>> {
        Ok(self
            .nc_rows(
                "SELECT id, state, version, body FROM quality_ncs WHERE id = ?",
                vec![json!(id)],
            )
            .await?
            .pop())
    }

    /// Nonconformances matching the filter, newest first.
    pub async fn nonconformances(&self, filter: NcFilter) -> Result<Page<StoredNc>> {
        let open = filter.open.map(|o| if o { 1 } else { 0 });
        let cond = "(?1 IS NULL OR state = ?1)
                    AND (?2 IS NULL OR (?2 = 1 AND state != 'closed') OR (?2 = 0 AND state = 'closed'))";
        let total: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM quality_ncs WHERE {cond}"))
                .bind(&filter.state)
                .bind(open)
                .fetch_one(self.quality_pool())
                .await
                .ctx("counting nonconformances")?;
        let items = self
            .nc_rows(
                &format!(
                    "SELECT id, state, version, body FROM quality_ncs WHERE {cond}
                     ORDER BY n DESC LIMIT ?3 OFFSET ?4"
                ),
                vec![
                    filter.state.clone().map_or(Value::Null, Value::String),
                    open.map_or(Value::Null, |o| json!(o)),
                    json!(filter.limit),
                    json!(filter.offset),
                ],
            )
            .await?;
        Ok(Page {
            items,
            total: total as u64,
            limit: filter.limit,
            offset: filter.offset,
        })
    }

    /// Nonconformances concerning any of `items` (`lot:ID`, `serial:ID`, `order:ID`).
    pub async fn nonconformances_on(&self, items: &[String]) -> Result<Vec<StoredNc>> {
        self.nc_rows(
            "SELECT id, state, version, body FROM quality_ncs WHERE id IN
               (SELECT nc_id FROM quality_nc_items WHERE item IN (SELECT value FROM json_each(?)))
             ORDER BY n",
            vec![json!(serde_json::to_string(items).unwrap_or_default())],
        )
        .await
    }

    /// Opens a nonconformance by hand (audited as `quality.nc.open`); `build` gets the new
    /// id (`NC-000042`) and returns the NC to store.
    pub async fn create_nc<F>(&self, actor: &Actor, build: F) -> Result<StoredNc>
    where
        F: FnOnce(String) -> NewNc + Send + 'static,
    {
        let id = self
            .quality_write(
                actor,
                "quality.nc.open",
                "quality:nc".into(),
                move |tx, _| {
                    Box::pin(async move {
                        let n = next_n(tx, "quality_ncs").await?;
                        let nc = build(format!("NC-{n:06}"));
                        if !insert_nc(tx, &nc, n).await? {
                            return Err(corrupt(format!(
                                "nonconformance {} exists already",
                                nc.id
                            )));
                        }
                        let detail = json!({ "nc": nc.id, "items": nc.items, "state": nc.state });
                        Ok((nc.id, detail))
                    })
                },
            )
            .await?;
        self.nonconformance(&id)
            .await?
            .ok_or_else(|| corrupt(format!("nonconformance {id} vanished")))
    }

    /// Stores a transition of an NC read at `expected_version` (audited as
    /// `quality.nc.transition`): its new state and body, and the new history entries.
    pub async fn update_nc(
        &self,
        id: &str,
        expected_version: i64,
        state: &str,
        body: Value,
        transitions: Vec<NcTransition>,
        actor: &Actor,
    ) -> Result<NcUpdate> {
        let (id, state) = (id.to_owned(), state.to_owned());
        let key = id.clone();
        let subject = format!("nc:{id}");
        let updated = self
            .quality_write(actor, "quality.nc.transition", subject, move |tx, _| {
                Box::pin(async move {
                    let current: Option<i64> =
                        sqlx::query_scalar("SELECT version FROM quality_ncs WHERE id = ?")
                            .bind(&id)
                            .fetch_optional(&mut *tx)
                            .await
                            .ctx("reading a nonconformance")?;
                    match current {
                        None => return Ok((Some(NcUpdate::NotFound), Value::Null)),
                        Some(v) if v != expected_version => {
                            return Ok((Some(NcUpdate::Stale), Value::Null));
                        }
                        Some(_) => {}
                    }
                    let count: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM quality_nc_transitions WHERE nc_id = ?",
                    )
                    .bind(&id)
                    .fetch_one(&mut *tx)
                    .await
                    .ctx("reading NC transitions")?;
                    sqlx::query(
                        "UPDATE quality_ncs SET state = ?, body = ?, version = version + 1,
                            updated_at = ? WHERE id = ? AND version = ?",
                    )
                    .bind(&state)
                    .bind(body.to_string())
                    .bind(now_ms())
                    .bind(&id)
                    .bind(expected_version)
                    .execute(&mut *tx)
                    .await
                    .ctx("updating a nonconformance")?;
                    insert_transitions(tx, &id, count, &transitions).await?;
                    let detail = json!({
                        "state": state,
                        "actions": transitions.iter().map(|t| &t.action).collect::<Vec<_>>(),
                    });
                    Ok((None, detail))
                })
            })
            .await?;
        if let Some(outcome) = updated {
            return Ok(outcome);
        }
        Ok(match self.nonconformance(&key).await? {
            Some(nc) => NcUpdate::Updated(nc),
            None => NcUpdate::NotFound,
        })
    }

    /// Every `quality_result_recorded` event of one characteristic, in log order.
    pub async fn quality_results(&self, characteristic: &str) -> Result<Vec<StoredEvent>> {
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT seq, recorded_at, body FROM events
             WHERE type = 'quality_result_recorded'
               AND json_extract(body, '$.characteristic') = ? ORDER BY seq",
        )
        .bind(characteristic)
        .fetch_all(self.quality_pool())
        .await
        .ctx("reading quality results")?;
        rows.into_iter()
            .map(|(seq, recorded_at, body)| {
                Ok(StoredEvent {
                    seq,
                    recorded_at: Timestamp(recorded_at),
                    event: serde_json::from_str(&body)
                        .map_err(|e| corrupt(format!("event at seq {seq}: {e}")))?,
                })
            })
            .collect()
    }

    /// Counts of alerts, active holds and open NCs, and the enforcer's cursor.
    pub async fn quality_counts(&self) -> Result<QualityCounts> {
        let pool = self.quality_pool();
        let (alerts, holds, ncs, cursor): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM quality_alerts),
                    (SELECT COUNT(*) FROM quality_holds WHERE released_at IS NULL),
                    (SELECT COUNT(*) FROM quality_ncs WHERE state != 'closed'),
                    COALESCE((SELECT cursor_seq FROM quality_enforcer WHERE id = 1), 0)",
        )
        .fetch_one(pool)
        .await
        .ctx("counting quality records")?;
        Ok(QualityCounts {
            alerts: alerts as u64,
            holds_active: holds as u64,
            nonconformances_open: ncs as u64,
            cursor_seq: cursor,
        })
    }
}
