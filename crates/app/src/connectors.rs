//! Connectors' use-cases: storing what a source read as the connector's own principal, and
//! the status of every configured connector for the API and `connect check`.
//!
//! [`ingest_batch`] is the one way a connector's records reach the log: each record's events
//! are checked against the principal's scope, then appended with the connector's dead letters
//! and new cursor in one audited store transaction (`Store::append_from_connector`). A record
//! that cannot be mapped, that maps to events outside the principal's scope, or whose events
//! the fold refuses (an unknown order, a conflicting id) is dead-lettered with the reason and
//! the rest of the batch is stored: one bad record never blocks the stream.
//!
//! [`Registry`] is the runtime status the connector runners (in the `connect` crate) keep up
//! to date and the edges read: health, counters, the last error. It lives here so that the
//! HTTP edge, which does not know the runners, can answer `GET /v1/connectors`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use govern::{Principal, Scope};
use model::{Event, Timestamp};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use store::{AppendOutcome, ConnectorBatch, DeadLetter, NewDeadLetter, StoreError};

use crate::{App, AppError};

/// A record a source read, mapped to events or refused with a reason.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingRecord {
    /// The peer's identity of the record (the same record read again has the same id).
    pub source_id: String,
    pub mapped: Result<Vec<Event>, String>,
    /// The record as the peer sent it, kept with a dead letter.
    pub raw: Value,
}

/// What storing one batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchOutcome {
    /// Events stored and duplicates skipped.
    pub append: AppendOutcome,
    /// Records of this batch dead-lettered (mapping refused, out of scope, refused by the fold).
    pub dead_lettered: usize,
    /// Of those, the ones not dead-lettered before (a replay finds them stored).
    pub dead_letters_new: u64,
}

/// Stores a connector's batch as `who`: the events of its mappable records, its dead letters
/// and its new cursor (`None` keeps the stored one), in one audited transaction. Refused
/// records are dead-lettered, never blocking the others (see the module docs).
pub async fn ingest_batch(
    app: &App,
    who: &Principal,
    connector: &str,
    records: Vec<IncomingRecord>,
    cursor: Option<String>,
) -> Result<BatchOutcome, AppError> {
    let store::Snapshot { catalog, state } = app.store.snapshot().await;
    let catalog = catalog.ok_or(AppError::NoPlant)?;
    let mut letters = Vec::new();
    let mut kept: Vec<(IncomingRecord, Vec<Event>)> = Vec::new();
    for record in records {
        match &record.mapped {
            Err(reason) => letters.push(letter(&record, reason.clone())),
            Ok(events) => match crate::events::check_event_scope(who, &catalog, &state, events) {
                Ok(()) => {
                    let events = events.clone();
                    kept.push((record, events));
                }
                Err(refused) => letters.push(letter(&record, refused.to_string())),
            },
        }
    }
    // Not held through the append: a snapshot still held when the batch commits makes the
    // store copy the whole state instead of folding the batch in place (as `events::ingest`).
    drop(state);
    let actor = store::actor_of(who);
    // Each refusal by the fold names the event's index: its record is dead-lettered and the
    // rest tried again, at most once per record.
    loop {
        let mut owner = Vec::new();
        let mut events = Vec::new();
        for (at, (_, mapped)) in kept.iter().enumerate() {
            owner.extend(std::iter::repeat_n(at, mapped.len()));
            events.extend(mapped.iter().cloned());
        }
        let batch = ConnectorBatch {
            connector: connector.to_owned(),
            cursor: cursor.clone(),
            dead_letters: letters.clone(),
        };
        match app
            .store
            .append_from_connector(&events, &actor, batch)
            .await
        {
            Ok(outcome) => {
                crate::quality::after_ingest(app, &events).await;
                return Ok(BatchOutcome {
                    append: outcome.append,
                    dead_lettered: letters.len(),
                    dead_letters_new: outcome.dead_letters,
                });
            }
            Err(
                refused @ (StoreError::Invalid { index, .. } | StoreError::Conflict { index, .. }),
            ) => {
                let (record, _) = kept.remove(owner[index]);
                letters.push(letter(&record, refused.to_string()));
            }
            Err(other) => return Err(other.into()),
        }
    }
}

fn letter(record: &IncomingRecord, reason: String) -> NewDeadLetter {
    NewDeadLetter {
        source_id: record.source_id.clone(),
        reason,
        raw: record.raw.clone(),
    }
}

/// A connector's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Configured, not polled successfully yet.
    Starting,
    /// The last poll and store succeeded.
    Ok,
    /// The peer is unavailable or the store refused; retrying with backoff.
    Retrying,
    /// The peer refused the credentials or answers what cannot be read; retried at the
    /// longest backoff until someone acts.
    Failed,
    /// Stopped (the service is shutting down).
    Stopped,
}

/// What a connector has done since the service started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Counters {
    /// Polls of the peer (successful or not).
    pub polls: u64,
    /// Records read.
    pub records: u64,
    /// Events newly stored.
    pub events_stored: u64,
    /// Events already in the log (a replay).
    pub duplicates: u64,
    /// Records dead-lettered.
    pub dead_letters: u64,
    /// Polls or stores retried after a failure.
    pub retries: u64,
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    pub last_success_at: Option<Timestamp>,
    /// The plant time of the newest event stored through the connector.
    pub newest_event_time: Option<Timestamp>,
}

/// One configured connector's runtime status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ConnectorStatus {
    pub name: String,
    /// Its kind (`jsonl`, `odata`).
    pub kind: String,
    /// The principal it stores as.
    pub principal: String,
    pub state: Health,
    pub counters: Counters,
}

/// The status of every connector of the service, kept by the runners.
#[derive(Debug, Default)]
pub struct Registry {
    connectors: Mutex<BTreeMap<String, ConnectorStatus>>,
}

impl Registry {
    /// Adds a connector in state `starting` (replacing one of the same name).
    pub fn register(&self, name: &str, kind: &str, principal: &str) {
        let status = ConnectorStatus {
            name: name.to_owned(),
            kind: kind.to_owned(),
            principal: principal.to_owned(),
            state: Health::Starting,
            counters: Counters::default(),
        };
        self.lock().insert(name.to_owned(), status);
    }

    /// Changes a registered connector's status (nothing when it is not registered).
    pub fn update(&self, name: &str, change: impl FnOnce(&mut ConnectorStatus)) {
        if let Some(status) = self.lock().get_mut(name) {
            change(status);
        }
    }

    /// One connector's status.
    pub fn get(&self, name: &str) -> Option<ConnectorStatus> {
        self.lock().get(name).cloned()
    }

    /// Every connector's status, by name.
    pub fn all(&self) -> Vec<ConnectorStatus> {
        self.lock().values().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, ConnectorStatus>> {
        // A panic while holding the lock leaves counters, never a broken invariant.
        self.connectors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A connector as the API shows it: its status, stored cursor, lag and dead letters.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ConnectorView {
    #[serde(flatten)]
    pub status: ConnectorStatus,
    /// The cursor it resumes from (opaque; none before its first batch).
    pub cursor: Option<String>,
    /// Now minus the plant time of the newest event stored through it, in seconds (none
    /// before one was stored).
    pub lag_seconds: Option<f64>,
    /// Records kept as dead letters, ever.
    pub dead_letter_count: u64,
}

/// Every configured connector, for `who` (any scope that reaches the plant: a connector's
/// status names no plant object).
pub async fn list(app: &App, _who: &Principal) -> Result<Vec<ConnectorView>, AppError> {
    let cursors = app.store.connector_cursors().await?;
    let counts: BTreeMap<String, u64> = app.store.dead_letter_counts().await?.into_iter().collect();
    let now = app.now();
    Ok(app
        .connectors
        .all()
        .into_iter()
        .map(|status| {
            let stored = cursors.iter().find(|c| c.connector == status.name);
            let newest = [
                status.counters.newest_event_time,
                stored.and_then(|c| c.last_event_time),
            ]
            .into_iter()
            .flatten()
            .max();
            ConnectorView {
                cursor: stored.and_then(|c| c.cursor.clone()),
                lag_seconds: newest.map(|t| (now.0 - t.0) as f64 / 1000.0),
                dead_letter_count: counts.get(&status.name).copied().unwrap_or(0),
                status,
            }
        })
        .collect())
}

/// A connector's dead letters after `after_seq`, oldest first, at most `limit` (and one more
/// when there are, for a pager). The raw records may concern any area, so reading them needs
/// a site-wide scope; a connector neither configured nor ever stored is not found.
pub async fn dead_letters(
    app: &App,
    who: &Principal,
    connector: &str,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<DeadLetter>, AppError> {
    if let Scope::Area(area) = &who.scope {
        return Err(AppError::Forbidden(format!(
            "dead letters are records as the peer sent them, not tied to an area; reading them needs a site-wide scope, not `area:{area}`"
        )));
    }
    if app.connectors.get(connector).is_none()
        && app.store.connector_cursor(connector).await?.is_none()
    {
        return Err(AppError::NotFound(format!(
            "no connector `{connector}` is configured or has stored anything"
        )));
    }
    Ok(app.store.dead_letters(connector, after_seq, limit).await?)
}
