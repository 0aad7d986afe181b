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
use std::sync::atomic::Ordering;

use model::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::backend::{AlertRow, EnforcerSave, NcRow, Numbered, Tx};
use crate::error::{Result, StoreError};
use crate::store::{Entry, Inner, Snapshot, Store, TxFuture, decode_stored, now_ms};
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
    /// The `quality_hold` proposal whose application places it (none: by hand).
    pub proposal: Option<String>,
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
    /// `quality_hold` proposals made for the run's alerts (their holds count in `holds` once
    /// a proposal applied by itself).
    #[serde(default)]
    pub hold_proposals: usize,
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
    /// The `quality_hold` proposal whose application placed it; its rollback releases it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposal: Option<String>,
}

/// A stored nonconformance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoredNc {
    pub id: String,
    pub state: String,
    /// Row version; a transition must name the version it read.
    pub version: i64,
    /// The characteristic whose alert opened it, if an alert did.
    pub characteristic: Option<String>,
    pub items: Vec<String>,
    /// The NC (workflow state, disposition, CAPA actions) as JSON.
    pub body: Value,
    /// Every transition, oldest first.
    pub transitions: Vec<NcTransition>,
}

/// What [`Store::place_proposal_holds`] found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProposalHolds {
    /// The proposal's holds in force (placed now, or by an earlier delivery of it).
    pub placed: Vec<Hold>,
    /// How many of `placed` were placed now.
    pub new: usize,
    /// Items that were on hold already by something else: their holds, untouched.
    pub already_held: Vec<Hold>,
}

/// Outcome of [`Store::release_hold`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldRelease {
    Released(Hold),
    NotFound,
    AlreadyReleased(Hold),
    /// The caller's `permit` refused the hold (nothing was written).
    Refused(Hold),
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

fn alert(row: AlertRow) -> Result<StoredAlert> {
    Ok(StoredAlert {
        body: serde_json::from_str(&row.body)
            .map_err(|e| corrupt(format!("alert {}: {e}", row.id)))?,
        id: row.id,
        characteristic: row.characteristic,
        severity: row.severity,
        phase: row.phase as u8,
        at: Timestamp(row.at),
    })
}

fn nc(row: NcRow) -> Result<StoredNc> {
    Ok(StoredNc {
        body: serde_json::from_str(&row.body)
            .map_err(|e| corrupt(format!("NC {}: {e}", row.id)))?,
        id: row.id,
        state: row.state,
        version: row.version,
        characteristic: row.characteristic,
        items: row.items,
        transitions: row.transitions,
    })
}

/// Judges the quality results after the enforcer's cursor and stores what `enforce` decided;
/// `None` (and nothing written) when there was nothing new.
async fn enforce_in<F>(
    tx: &mut Tx,
    inner: Arc<Inner>,
    placed_by: &str,
    enforce: F,
) -> Result<Option<(EnforceRun, Value)>>
where
    F: FnOnce(QualityBatch) -> std::result::Result<QualityWrite, String>,
{
    let mut restarted = false;
    let (cursor, previous_state) = match tx.enforcer().await? {
        None => (0, None),
        Some((seq, event, state)) => {
            let at = tx.event_id_at(seq).await?;
            if seq > 0 && at != event {
                // The log was reset: what was judged no longer exists.
                restarted = true;
                tx.wipe_judged(false).await?;
                (0, None)
            } else {
                (seq, Some(state))
            }
        }
    };
    let rows = tx.quality_results_after(cursor).await?;
    let last = tx.last_event().await?;
    if rows.is_empty() && !restarted {
        return Ok(None);
    }
    let results = decode_stored(rows)?;
    // The view, caught up with the database by this write (not `Store::snapshot`, which
    // would wait for the writer lock this write holds).
    let snapshot = inner.snapshot();
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
    let mut n = tx.next_number(Numbered::Alerts).await?;
    for a in &write.alerts {
        // Numbered whether or not it was new, as it always was.
        run.alerts += usize::from(tx.insert_alert(a, n).await?);
        n += 1;
    }
    let mut n = tx.next_number(Numbered::Holds).await?;
    for h in &write.holds {
        if tx
            .insert_hold(&format!("H-{n:06}"), n, h, placed_by)
            .await?
        {
            n += 1;
            run.holds += 1;
        }
    }
    let mut n = tx.next_number(Numbered::Nonconformances).await?;
    for nc in &write.nonconformances {
        if tx.insert_nc(nc, n).await? {
            n += 1;
            run.nonconformances += 1;
        }
    }
    let (cursor_seq, cursor_event) = last.map_or((0, None), |(s, id)| (s, Some(id)));
    run.cursor_seq = cursor_seq;
    tx.save_enforcer(&EnforcerSave {
        cursor_seq,
        cursor_event,
        policy_version: &write.policy_version,
        state: &write.state,
        at: now_ms(),
    })
    .await?;
    let detail = json!({
        "modified_by": format!("quality-enforcer/{}", write.policy_version),
        "results": run.results,
        "alerts": run.alerts,
        "holds": run.holds,
        "nonconformances": run.nonconformances,
        "cursor_seq": run.cursor_seq,
        "restarted": run.restarted,
    });
    Ok(Some((run, detail)))
}

impl Store {
    /// The audited write path for quality rows: `rows` writes in a transaction under the
    /// writer lock ([`Store::audited`]) and returns the audit detail; a `null` detail means
    /// `rows` changed nothing: the transaction is rolled back and no audit record is written.
    async fn quality_write<T, F>(
        &self,
        actor: &Actor,
        action: &'static str,
        subject: String,
        rows: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx, Arc<Inner>) -> TxFuture<'t, (T, Value)> + Send + 'static,
    {
        let actor = actor.clone();
        self.audited(move |tx, inner| {
            Box::pin(async move {
                let (value, detail) = rows(tx, inner).await?;
                let entry = (!detail.is_null()).then(|| Entry {
                    actor,
                    action,
                    subject,
                    detail,
                    at: now_ms(),
                });
                Ok((value, entry))
            })
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
        self.quality_write(
            actor,
            "quality.enforce",
            "quality:enforcer".into(),
            move |tx, inner| {
                Box::pin(async move {
                    Ok(match enforce_in(tx, inner, &placed_by, enforce).await? {
                        Some((run, detail)) => (Some(run), detail),
                        None => (None, Value::Null),
                    })
                })
            },
        )
        .await
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
            proposal: None,
        };
        let placed_by = actor_key(actor);
        let subject = format!("{item_kind}:{item_id}");
        self.quality_write(actor, "quality.hold.place", subject, move |tx, _| {
            Box::pin(async move {
                let n = tx.next_number(Numbered::Holds).await?;
                let id = format!("H-{n:06}");
                let placed = tx.insert_hold(&id, n, &hold, &placed_by).await?;
                let stored = tx
                    .active_hold(&hold.item_kind, &hold.item_id)
                    .await?
                    .ok_or_else(|| corrupt(format!("the hold on {} vanished", hold.item_id)))?;
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
        self.release_hold_if(id, actor, reason, |_| true).await
    }

    /// Releases a hold if `permit` allows it, read in the same transaction as the release
    /// (the caller's object-level check: the hold's item in the actor's scope).
    pub async fn release_hold_if(
        &self,
        id: &str,
        actor: &Actor,
        reason: &str,
        permit: impl FnOnce(&Hold) -> bool + Send + 'static,
    ) -> Result<HoldRelease> {
        let (id, reason, by) = (id.to_owned(), reason.to_owned(), actor_key(actor));
        self.quality_write(
            actor,
            "quality.hold.release",
            format!("hold:{id}"),
            move |tx, _| {
                Box::pin(async move {
                    let Some(hold) = tx.hold(&id).await? else {
                        return Ok((HoldRelease::NotFound, Value::Null));
                    };
                    if !permit(&hold) {
                        return Ok((HoldRelease::Refused(hold), Value::Null));
                    }
                    if !hold.active {
                        return Ok((HoldRelease::AlreadyReleased(hold), Value::Null));
                    }
                    let at = now_ms();
                    tx.release_hold(&id, &by, at, &reason).await?;
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

    /// Places the holds of an applied `quality_hold` proposal (audited as
    /// `quality.hold.place`, naming the proposal), each naming the proposal. An item already on
    /// hold keeps its hold: by this proposal (a repeated delivery), it is returned as placed;
    /// by anything else, it is returned in the second list and nothing is placed for it.
    pub async fn place_proposal_holds(
        &self,
        actor: &Actor,
        proposal: &str,
        holds: Vec<NewHold>,
    ) -> Result<ProposalHolds> {
        let placed_by = actor_key(actor);
        let key = proposal.to_owned();
        self.quality_write(
            actor,
            "quality.hold.place",
            format!("proposal:{proposal}"),
            move |tx, _| {
                Box::pin(async move {
                    let mut out = ProposalHolds::default();
                    let mut n = tx.next_number(Numbered::Holds).await?;
                    let mut new = Vec::new();
                    for mut hold in holds {
                        hold.proposal = Some(key.clone());
                        if tx
                            .insert_hold(&format!("H-{n:06}"), n, &hold, &placed_by)
                            .await?
                        {
                            n += 1;
                            new.push(format!("H-{:06}", n - 1));
                        }
                        let stored = tx
                            .active_hold(&hold.item_kind, &hold.item_id)
                            .await?
                            .ok_or_else(|| {
                                corrupt(format!("the hold on {} vanished", hold.item_id))
                            })?;
                        if stored.proposal.as_deref() == Some(key.as_str()) {
                            out.placed.push(stored);
                        } else {
                            out.already_held.push(stored);
                        }
                    }
                    out.new = new.len();
                    let detail = if new.is_empty() {
                        Value::Null
                    } else {
                        json!({
                            "proposal": key,
                            "holds": new,
                            "items": out.placed.iter()
                                .map(|h| format!("{}:{}", h.item_kind, h.item_id))
                                .collect::<Vec<_>>(),
                        })
                    };
                    Ok((out, detail))
                })
            },
        )
        .await
    }

    /// Releases every active hold a proposal placed (its rollback; audited as
    /// `quality.hold.release`, naming the proposal) and returns them released.
    pub async fn release_proposal_holds(
        &self,
        actor: &Actor,
        proposal: &str,
        reason: &str,
    ) -> Result<Vec<Hold>> {
        let (key, reason, by) = (proposal.to_owned(), reason.to_owned(), actor_key(actor));
        self.quality_write(
            actor,
            "quality.hold.release",
            format!("proposal:{proposal}"),
            move |tx, _| {
                Box::pin(async move {
                    let holds = tx.active_holds_of_proposal(&key).await?;
                    let at = now_ms();
                    let mut released = Vec::new();
                    for hold in holds {
                        tx.release_hold(&hold.id, &by, at, &reason).await?;
                        released.push(Hold {
                            active: false,
                            released_by: Some(by.clone()),
                            released_at: Some(Timestamp(at)),
                            release_reason: Some(reason.clone()),
                            ..hold
                        });
                    }
                    let detail = if released.is_empty() {
                        Value::Null
                    } else {
                        json!({
                            "proposal": key,
                            "holds": released.iter().map(|h| &h.id).collect::<Vec<_>>(),
                            "reason": reason,
                        })
                    };
                    Ok((released, detail))
                })
            },
        )
        .await
    }

    /// Holds matching the filter, newest first.
    /// One hold.
    pub async fn hold(&self, id: &str) -> Result<Option<Hold>> {
        self.inner.backend.hold_one(id).await
    }

    pub async fn holds(&self, filter: HoldFilter) -> Result<Page<Hold>> {
        let (items, total) = self.inner.backend.holds(&filter).await?;
        Ok(Page {
            items,
            total,
            limit: filter.limit,
            offset: filter.offset,
        })
    }

    /// Active holds on any of `items` (`(kind, id)` pairs).
    pub async fn active_holds_on(&self, items: &[(String, String)]) -> Result<Vec<Hold>> {
        let keys: Vec<String> = items.iter().map(|(k, i)| format!("{k}:{i}")).collect();
        self.inner.backend.active_holds_on(&keys).await
    }

    /// Alerts matching the filter, newest first.
    pub async fn alerts(&self, filter: AlertFilter) -> Result<Page<StoredAlert>> {
        let (rows, total) = self.inner.backend.alerts(&filter).await?;
        Ok(Page {
            items: rows.into_iter().map(alert).collect::<Result<_>>()?,
            total,
            limit: filter.limit,
            offset: filter.offset,
        })
    }

    /// One nonconformance with its items and transitions.
    pub async fn nonconformance(&self, id: &str) -> Result<Option<StoredNc>> {
        self.inner
            .backend
            .nonconformance(id)
            .await?
            .map(nc)
            .transpose()
    }

    /// Nonconformances matching the filter, newest first.
    pub async fn nonconformances(&self, filter: NcFilter) -> Result<Page<StoredNc>> {
        let (rows, total) = self.inner.backend.nonconformances(&filter).await?;
        Ok(Page {
            items: rows.into_iter().map(nc).collect::<Result<_>>()?,
            total,
            limit: filter.limit,
            offset: filter.offset,
        })
    }

    /// Nonconformances concerning any of `items` (`lot:ID`, `serial:ID`, `order:ID`).
    pub async fn nonconformances_on(&self, items: &[String]) -> Result<Vec<StoredNc>> {
        let rows = self.inner.backend.nonconformances_on(items).await?;
        rows.into_iter().map(nc).collect()
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
                        let n = tx.next_number(Numbered::Nonconformances).await?;
                        let nc = build(format!("NC-{n:06}"));
                        if !tx.insert_nc(&nc, n).await? {
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
                    match tx.nc_version(&id).await? {
                        None => return Ok((Some(NcUpdate::NotFound), Value::Null)),
                        Some(v) if v != expected_version => {
                            return Ok((Some(NcUpdate::Stale), Value::Null));
                        }
                        Some(_) => {}
                    }
                    let count = tx.nc_transitions(&id).await?;
                    tx.update_nc(&id, expected_version, &state, &body.to_string(), now_ms())
                        .await?;
                    tx.insert_transitions(&id, count, &transitions).await?;
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
        decode_stored(self.inner.backend.quality_results(characteristic).await?)
    }

    /// Counts of alerts, active holds and open NCs, and the enforcer's cursor.
    pub async fn quality_counts(&self) -> Result<QualityCounts> {
        self.inner.backend.quality_counts().await
    }

    /// Whether [`Store::enforce_quality`] would find anything to judge, read without the
    /// write lock: readers that catch enforcement up first ask this, so a read does not take
    /// the database's write lock (and wait behind ingest) when nothing is new.
    ///
    /// Nothing pending stays so until a write (a result appended, the enforcer's cursor
    /// moved, the log reset), and every write moves the audit head: while this process's head
    /// is the one at which nothing was pending, it answers without asking the database.
    pub async fn quality_pending(&self) -> Result<bool> {
        self.refresh_reads().await?;
        let head = self.known_audit_seq();
        if self.inner.quality_idle_at.load(Ordering::Acquire) == head {
            return Ok(false);
        }
        let pending = self.inner.backend.quality_pending().await?;
        if !pending {
            self.inner.quality_idle_at.store(head, Ordering::Release);
        }
        Ok(pending)
    }
}
