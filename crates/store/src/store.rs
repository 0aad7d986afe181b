//! [`Store`]: the backend-neutral handle that callers hold.
//!
//! A store keeps two copies of the folded state. The *writer* copy lives behind an async mutex
//! that serialises writes; a batch is folded into it (with an undo journal, see
//! [`crate::journal`]), committed, and only then published to the *view* copy that readers get
//! as an `Arc<PlantState>`. Publishing applies the same events to the view in place when no
//! reader holds the previous snapshot, and clones the writer copy when one does, so readers
//! never see an unacknowledged event and ingest does not clone the whole state per batch.
//!
//! A caller that gives up waiting (a dropped HTTP request) cannot leave the store
//! inconsistent: the rare writes (plant, reset, rebuild) run in their own Tokio task, and an
//! append marks the writer copy stale until its commit is acknowledged, so a write that fails
//! or is dropped half-way makes the next write reload the writer copy from the database.
//!
//! # Several processes on one database
//!
//! Other processes (the CLI beside a running server, several API nodes) may write to the same
//! database, so the writer copy is only this process's knowledge of it, never the authority.
//! Every write opens its transaction with the database's write lock (`Backend::begin`, SQLite
//! `BEGIN IMMEDIATE`), so the writes of all processes are serialised, and inside it first
//! catches up ([`Inner::catch_up`]): it reads the audit trail's head — every write of every
//! process appends exactly one audit record, so the head is the database's change counter —
//! and when another process wrote since, folds the events appended since (by seq), or reloads
//! everything when the plant was replaced or the log reset in between. The next audit record is
//! then chained to the head read in the same transaction, event ids are checked against the
//! log in it, and seqs continue from it. Reads of the in-memory state
//! ([`Store::state`], [`Store::snapshot`] and the like) compare the database's head with the
//! one this process last wrote or read (one indexed lookup) and catch up first when they
//! differ. A trail whose head moved backwards, or whose record this process wrote or read was
//! replaced, is not caught up with: writes are refused (`StoreError::Corrupt`) and
//! [`Store::verify_audit`] names the break.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use model::{
    Catalog, Event, Mode, OrderId, OrderState, OrderStatus, Plant, PlantState, Timestamp, UnitId,
    UnitState,
};
use serde_json::Value;

use crate::audit::{self, GENESIS, RawRecord};
use crate::backend::{AuditRowQuery, Backend, EventQuery, Table, Tx};
use crate::error::{Result, StoreError};
use crate::snapshot::{self, Opened};
use crate::types::*;
use crate::{postgres, sqlite};

pub(crate) use crate::write::decode_stored;

/// The largest page [`Store::orders`], [`Store::events`] and [`Store::audit_log`] return.
pub const MAX_PAGE: u32 = 10_000;

/// Layout version of the projection tables; a mismatch at open triggers a rebuild.
pub(crate) const PROJECTION_VERSION: i64 = 2;

/// The persistent plant, event log, projections and audit trail. Cheap to clone (all clones
/// share one database and one in-memory state).
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.inner.backend.name())
            .finish()
    }
}

/// A consistent pair of plant and state.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub catalog: Option<Arc<Catalog>>,
    pub state: Arc<PlantState>,
}

pub(crate) struct Inner {
    pub(crate) backend: Backend,
    /// Shared so that the open can hand the lock to the task that fills the writer's copy of
    /// the state in ([`Store::from_backend`]).
    writer: Arc<tokio::sync::Mutex<Writer>>,
    view: RwLock<Snapshot>,
    /// The seq of the audit record the writer last wrote or read, stored when the writer lock
    /// is released ([`WriterGuard`]): a read that finds the database's head elsewhere catches
    /// up before it answers.
    known_head: AtomicI64,
    /// The audit head's seq, sent whenever a write (or a catch-up with another process's
    /// writes) moves it: what live views ([`Store::changes`]) wake on.
    head_changes: tokio::sync::watch::Sender<i64>,
    /// Events between snapshots written by appends (0: none).
    snapshot_every: AtomicU64,
    /// How many times the last snapshot's cost an append waits before the next.
    snapshot_budget: AtomicU32,
    /// How the state was last loaded in full (at open, or a reload).
    opened: Mutex<Opened>,
    /// The lease every write checks inside its transaction while this process leads
    /// (`crate::lease`): none for a process that does not.
    pub(crate) fence: Mutex<Option<crate::lease::Lease>>,
    /// The numbering of this process's looks at the audit head ([`crate::fresh`]).
    pub(crate) freshness: crate::fresh::Freshness,
    /// Live principals by token id, kept under the audit head they were read at.
    pub(crate) principals: crate::fresh::PrincipalCache,
    /// The audit head at which the quality enforcer last had nothing to judge (-1: none).
    pub(crate) quality_idle_at: AtomicI64,
}

/// The writer lock. Releasing it tells readers the audit head the writer knows — after the
/// view was published, so a reader that finds the database's head known finds the view up to
/// it.
pub(crate) struct WriterGuard<'a> {
    writer: tokio::sync::MutexGuard<'a, Writer>,
    known_head: &'a AtomicI64,
    head_changes: &'a tokio::sync::watch::Sender<i64>,
}

impl std::ops::Deref for WriterGuard<'_> {
    type Target = Writer;
    fn deref(&self) -> &Writer {
        &self.writer
    }
}

impl std::ops::DerefMut for WriterGuard<'_> {
    fn deref_mut(&mut self) -> &mut Writer {
        &mut self.writer
    }
}

impl Drop for WriterGuard<'_> {
    fn drop(&mut self) {
        let seq = self.writer.audit_seq;
        self.known_head.store(seq, Ordering::Release);
        self.head_changes.send_if_modified(|known| {
            let moved = *known != seq;
            *known = seq;
            moved
        });
    }
}

/// The audit record a write asks for: who did what to what, when, and the detail.
pub(crate) struct Entry {
    pub actor: Actor,
    pub action: &'static str,
    pub subject: String,
    pub detail: Value,
    pub at: i64,
}

/// The rows of an audited write ([`Store::audited`]): its value and, when it wrote something,
/// its audit entry.
pub(crate) type TxFuture<'t, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 't>>;

/// The writer's copy of everything it needs to know between writes.
pub(crate) struct Writer {
    pub(crate) catalog: Option<Arc<Catalog>>,
    pub(crate) plant_version: i64,
    pub(crate) start: Timestamp,
    pub(crate) state: PlantState,
    /// Last event seq assigned (0 for an empty log).
    pub(crate) last_seq: i64,
    /// Events in the log.
    pub(crate) events: i64,
    pub(crate) audit_seq: i64,
    pub(crate) audit_head: String,
    /// The state may differ from the database (a write failed or panicked half-way).
    pub(crate) stale: bool,
    /// The seq of the last snapshot this process wrote or loaded (0: none): the next is due
    /// an interval past it.
    pub(crate) snapshot_seq: i64,
    /// When the last snapshot an append wrote ended, and what it cost: the next waits a
    /// multiple of that (`crate::snapshot`).
    pub(crate) snapshot_cost: Option<(std::time::Instant, std::time::Duration)>,
}

impl Writer {
    /// The next audit record, chained to the last one. Every write builds exactly one and hands
    /// it to the backend, which inserts it in the write's transaction.
    pub(crate) fn audit_record(
        &self,
        actor: &Actor,
        action: &str,
        subject: String,
        detail: &serde_json::Value,
        at: i64,
    ) -> RawRecord {
        let seq = self.audit_seq + 1;
        let detail = detail.to_string();
        let hash = audit::record_hash(
            &self.audit_head,
            seq,
            at,
            actor.kind.as_str(),
            &actor.id,
            action,
            &subject,
            &detail,
        );
        RawRecord {
            seq,
            at,
            actor_kind: actor.kind.as_str().to_owned(),
            actor_id: actor.id.clone(),
            action: action.to_owned(),
            subject,
            detail,
            prev_hash: self.audit_head.clone(),
            hash,
        }
    }

    pub(crate) fn audited(&mut self, record: RawRecord) {
        self.set_head(record.seq, record.hash);
    }

    fn set_head(&mut self, seq: i64, hash: String) {
        self.audit_seq = seq;
        self.audit_head = hash;
    }
}

/// Opens the database a [`Store::open`] URL names.
pub(crate) async fn backend_for(url: &str) -> Result<Backend> {
    if postgres::is_url(url) {
        return postgres::open(url).await;
    }
    if url == "sqlite::memory:" {
        return sqlite::open_memory().await;
    }
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or(path);
        return sqlite::open_file(Path::new(path)).await;
    }
    Err(StoreError::Url(format!(
        "`{url}` is not a supported database URL (expected sqlite://PATH, sqlite::memory: or postgres://…)"
    )))
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

impl Store {
    /// Opens a store from a URL: `sqlite://PATH` or `sqlite:PATH` for a file (created if
    /// missing), `sqlite::memory:` for a private in-memory database, `postgres://…` (or
    /// `postgresql://…`) for a PostgreSQL database, with `?schema=NAME` for a store in a schema
    /// of its own (created if missing; `public` by default).
    pub async fn open(url: &str) -> Result<Store> {
        Store::from_backend(backend_for(url).await?).await
    }

    /// Whether a store is at `url` (a PostgreSQL schema holding one, an SQLite file), without
    /// creating anything.
    pub async fn exists(url: &str) -> Result<bool> {
        if postgres::is_url(url) {
            return postgres::exists(url).await;
        }
        match url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            Some(path) => Ok(Path::new(path.split('?').next().unwrap_or(path)).is_file()),
            None => Ok(url == "sqlite::memory:"),
        }
    }

    /// Deletes the store at a PostgreSQL `url` (its schema, which must not be `public`, and all
    /// it holds). A store on SQLite is deleted by removing its file.
    pub async fn drop_postgres_store(url: &str) -> Result<()> {
        if !postgres::is_url(url) {
            return Err(StoreError::Url(format!(
                "`{url}` is not a postgres:// URL; a store on SQLite is deleted by removing its file"
            )));
        }
        postgres::drop_store(url).await
    }

    /// Opens (creating it and its directory if missing) an SQLite database file, migrates it,
    /// loads the plant and the state: from the latest snapshot and the events after it when
    /// the snapshot matches the log, else by folding the whole log (`crate::snapshot`).
    /// Projections that are missing or stale are rebuilt from the log.
    pub async fn open_sqlite(path: &Path) -> Result<Store> {
        Store::from_backend(sqlite::open_file(path).await?).await
    }

    /// Opens a fresh private in-memory SQLite database (for tests and demos).
    pub async fn open_in_memory() -> Result<Store> {
        Store::from_backend(sqlite::open_memory().await?).await
    }

    async fn from_backend(backend: Backend) -> Result<Store> {
        let mut tx = backend.begin_read().await?;
        let load = snapshot::load_writer(&mut tx).await?;
        tx.rollback().await?;
        let (mut writer, stale) = (load.writer, load.stale);
        let known_head = AtomicI64::new(writer.audit_seq);
        let (head_changes, _) = tokio::sync::watch::channel(writer.audit_seq);
        // The state loaded goes to the readers as it is; the writer's own copy is cloned from
        // it in the background, under the writer lock taken here, before anyone can ask for
        // it: opening does not wait for a second copy of a large state, the first write does.
        // Should that task never run (its runtime shutting down), the writer stays marked
        // stale, and the next write reloads it from the database.
        let state = Arc::new(std::mem::take(&mut writer.state));
        writer.stale = true;
        let view = Snapshot {
            catalog: writer.catalog.clone(),
            state: state.clone(),
        };
        let writer = Arc::new(tokio::sync::Mutex::new(writer));
        let mut filling = writer
            .clone()
            .try_lock_owned()
            .expect("nothing else holds a new store's writer lock");
        tokio::task::spawn_blocking(move || {
            filling.state = (*state).clone();
            filling.stale = false;
            // The view's state is shared with nobody again once this copy is dropped, so the
            // next batch is applied to it in place.
            drop(state);
            drop(filling);
        });
        let store = Store {
            inner: Arc::new(Inner {
                backend,
                writer,
                view: RwLock::new(view),
                known_head,
                head_changes,
                snapshot_every: AtomicU64::new(snapshot::DEFAULT_INTERVAL),
                snapshot_budget: AtomicU32::new(snapshot::DEFAULT_COST_FACTOR),
                opened: Mutex::new(load.opened),
                fence: Mutex::new(None),
                freshness: crate::fresh::Freshness::default(),
                principals: crate::fresh::PrincipalCache::new(crate::fresh::PRINCIPAL_CACHE_LIMIT),
                quality_idle_at: AtomicI64::new(-1),
            }),
        };
        if stale {
            store
                .inner
                .rebuild(
                    Actor::system("store/open"),
                    "projections were stale at open",
                )
                .await?;
        }
        Ok(store)
    }

    /// Runs a write in its own task, so that dropping the caller's future cannot interrupt it.
    pub(crate) async fn spawn_write<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: FnOnce(Arc<Inner>) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        match tokio::spawn(f(self.inner.clone())).await {
            Ok(result) => result,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => Err(corrupt(format!("the write task was cancelled: {error}"))),
        }
    }

    /// The one audited write path of the governance, quality and trace rows: in its own task,
    /// under the writer lock, in one backend write transaction that first catches up with
    /// what other processes wrote ([`Inner::catch_up`]), `rows` runs and returns its value
    /// and, when it wrote something, its audit entry. The entry becomes the next audit record,
    /// chained to the head read in the same transaction, which then commits; without an entry
    /// the transaction is rolled back.
    pub(crate) async fn audited<T, F>(&self, rows: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx, Arc<Inner>) -> TxFuture<'t, (T, Option<Entry>)>
            + Send
            + 'static,
    {
        self.spawn_write(move |inner| async move {
            let (mut writer, mut tx) = inner.begin_write().await?;
            let (value, entry) = rows(&mut tx, inner.clone()).await?;
            let Some(entry) = entry else {
                tx.rollback().await?;
                return Ok(value);
            };
            let record = writer.audit_record(
                &entry.actor,
                entry.action,
                entry.subject,
                &entry.detail,
                entry.at,
            );
            tx.insert_audit(&record).await?;
            tx.commit().await?;
            writer.audited(record);
            Ok(value)
        })
        .await
    }

    /// The seq of the audit record this process last wrote or caught up to. Every write of
    /// every process appends one record, so a read's answer cached under this value stays
    /// right while it stays the same (read it after catching up: a [`Store::state`] or any
    /// read that refreshes).
    pub fn known_audit_seq(&self) -> i64 {
        self.inner.known_head.load(Ordering::Acquire)
    }

    /// The audit head's seq, updated after every committed write of this process (and every
    /// catch-up with another process's): live views wait on it and then read the audit
    /// records past the seq they last saw to learn what changed.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<i64> {
        self.inner.head_changes.subscribe()
    }

    /// Validates and stores a plant as a new version and resets the state to
    /// `PlantState::initial(catalog, start)`, where `start` is the earliest release in the
    /// plant's order book, or the current time when the book is empty. Only allowed while
    /// the event log is empty ([`StoreError::LogNotEmpty`]; see [`Store::reset`]).
    pub async fn put_plant(&self, plant: Plant, actor: &Actor) -> Result<()> {
        self.put_plant_at(plant, None, actor).await
    }

    /// Like [`Store::put_plant`] with an explicit start instant for the initial state.
    pub async fn put_plant_at(
        &self,
        plant: Plant,
        start: Option<Timestamp>,
        actor: &Actor,
    ) -> Result<()> {
        let catalog = Catalog::new(plant)?;
        let actor = actor.clone();
        self.spawn_write(move |inner| async move { inner.put_plant(catalog, start, actor).await })
            .await
    }

    /// Wipes the event log and the projections and resets the state to the plant's initial
    /// state, so that the plant can be replaced or the history replayed. The plant versions
    /// and the audit trail are kept; the reset itself is audited.
    pub async fn reset(&self, actor: &Actor) -> Result<()> {
        let actor = actor.clone();
        self.spawn_write(move |inner| async move { inner.reset(actor).await })
            .await
    }

    /// Appends a batch of events atomically. Events already stored with identical content
    /// (also earlier in the same batch) are skipped as duplicates; the same id with different
    /// content is a [`StoreError::Conflict`]; an event that does not apply is a
    /// [`StoreError::Invalid`] naming its batch index, id and field. On any error nothing is
    /// stored. On success the events, the projection rows they touched and one audit record
    /// are committed in one transaction before this returns.
    pub async fn append(&self, events: &[Event], actor: &Actor) -> Result<AppendOutcome> {
        // Spawned like the other writes, at the cost of a copy of the batch: a caller that
        // stops waiting (a client gone, a deadline, an aborted task) must not drop the write
        // half-way, which would leave its `BEGIN IMMEDIATE` holding the database's write lock
        // on a pooled connection and every later write waiting for it in vain
        // (`tests/cancel.rs`).
        let events = events.to_vec();
        let actor = actor.clone();
        self.spawn_write(
            move |inner| async move { Ok(inner.append(&events, &actor, None).await?.0) },
        )
        .await
    }

    /// Replays the whole log through a fresh initial state and rewrites every projection row
    /// (and the in-memory state) from it.
    pub async fn rebuild_projections(&self) -> Result<()> {
        self.spawn_write(move |inner| async move {
            inner
                .rebuild(Actor::system("store"), "requested")
                .await
                .map(|_| ())
        })
        .await
    }

    /// The current plant, if one was put. Like every read of the in-memory state, it first
    /// catches up with what other processes wrote (see the module docs); should the database
    /// not answer that check, it answers with what this process knows.
    pub async fn plant(&self) -> Option<Arc<Catalog>> {
        self.inner.fresh_snapshot().await.catalog
    }

    /// The current folded state (every acknowledged event, nothing else).
    pub async fn state(&self) -> Arc<PlantState> {
        self.inner.fresh_snapshot().await.state
    }

    /// The current plant and state, taken together.
    pub async fn snapshot(&self) -> Snapshot {
        self.inner.fresh_snapshot().await
    }

    /// One order's current state.
    pub async fn order(&self, id: &OrderId) -> Option<OrderState> {
        self.inner
            .fresh_snapshot()
            .await
            .state
            .orders
            .get(id)
            .map(|order| (**order).clone())
    }

    /// Every unit's current state, by unit id.
    pub async fn units(&self) -> Vec<(UnitId, UnitState)> {
        let state = self.inner.fresh_snapshot().await.state;
        state
            .units
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Orders from the SQL projection, filtered by mode and status, ordered by id.
    pub async fn orders(&self, filter: OrderFilter) -> Result<Page<OrderState>> {
        let limit = filter.limit.min(MAX_PAGE);
        let (bodies, total) = self
            .inner
            .backend
            .orders(
                filter.mode,
                filter.status,
                i64::from(limit),
                i64::from(filter.offset),
            )
            .await?;
        let items = bodies
            .iter()
            .map(|body| serde_json::from_str(body).map_err(|e| corrupt(format!("order row: {e}"))))
            .collect::<Result<_>>()?;
        Ok(Page {
            items,
            total,
            limit,
            offset: filter.offset,
        })
    }

    /// The stored events among `ids`, in log order (ids not stored are simply absent).
    pub async fn events_with_ids(&self, ids: &[&str]) -> Result<Vec<StoredEvent>> {
        decode_stored(self.inner.backend.events_with_ids(ids).await?)
    }

    /// Stored events matching the filter, in log order, at most `limit` (capped one above
    /// [`MAX_PAGE`], so that a pager reading a full page and one more knows there is a next).
    pub async fn events(&self, filter: EventFilter) -> Result<Vec<StoredEvent>> {
        for (i, name) in filter.types.iter().enumerate() {
            if !model::EventKind::TYPE_NAMES.contains(&name.as_str()) {
                return Err(StoreError::BadFilter {
                    field: format!("types[{i}]"),
                    message: format!(
                        "unknown event type `{name}` (expected one of {})",
                        model::EventKind::TYPE_NAMES.join(", ")
                    ),
                });
            }
        }
        let query = EventQuery {
            types: &filter.types,
            from: filter.from.map(|t| t.0),
            to: filter.to.map(|t| t.0),
            after_seq: filter.after_seq.unwrap_or(0),
            limit: i64::from(filter.limit.min(MAX_PAGE + 1)),
        };
        decode_stored(self.inner.backend.events(&query).await?)
    }

    /// Sizes of the log and the projections.
    pub async fn counts(&self) -> Result<Counts> {
        let counts = self.inner.backend.counts().await?;
        let mut by_mode: BTreeMap<Mode, BTreeMap<OrderStatus, u64>> = BTreeMap::new();
        for (mode, status, n) in counts.orders {
            let mode: Mode = mode.parse().map_err(corrupt)?;
            let status: OrderStatus = status.parse().map_err(corrupt)?;
            by_mode.entry(mode).or_default().insert(status, n as u64);
        }
        Ok(Counts {
            events: counts.events as u64,
            orders_by_mode_status: by_mode,
            lots: counts.lots as u64,
            serials: counts.serials as u64,
            quality_results: counts.quality as u64,
        })
    }

    /// Audit records with `seq > after_seq`, at most `limit` (capped at [`MAX_PAGE`]).
    pub async fn audit_log(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>> {
        let limit = i64::from(limit.min(MAX_PAGE));
        let raw = self
            .inner
            .backend
            .audit_rows(&AuditRowQuery::all(after_seq, limit))
            .await?;
        raw.into_iter().map(audit_record).collect()
    }

    /// Audit records matching `filter`, in order, at most `filter.limit` (capped at
    /// [`MAX_PAGE`]).
    pub async fn audit_search(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
        let query = AuditRowQuery {
            after: filter.after_seq,
            limit: i64::from(filter.limit.min(MAX_PAGE)),
            newest_first: filter.newest_first,
            actor_id: filter.actor.as_deref(),
            action_prefix: filter.action.as_deref(),
            from_ms: filter.from.map(|t| t.0),
            to_ms: filter.to.map(|t| t.0),
        };
        let raw = self.inner.backend.audit_rows(&query).await?;
        raw.into_iter().map(audit_record).collect()
    }

    /// The last audit record about `subject` (`proposal:P-1`, `hold:H-1`, `nc:NC-1`): who
    /// changed it last, and when.
    pub async fn last_audit_of(&self, subject: &str) -> Result<Option<AuditRecord>> {
        self.inner
            .backend
            .audit_latest(subject)
            .await?
            .map(audit_record)
            .transpose()
    }

    /// Recomputes the audit chain and names the first record that breaks it, including a
    /// trail that no longer holds the last record this process wrote or read. Writes of this
    /// process wait while it runs; records other processes append meanwhile are checked too.
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        // Learn the head other processes wrote (a trail rewritten under this process is not
        // caught up with, and the check below names the break).
        let _ = self.inner.refresh().await;
        let writer = self.inner.lock_writer().await;
        let mut records = Vec::new();
        loop {
            let after = records.last().map_or(0, |r: &RawRecord| r.seq);
            let page = self
                .inner
                .backend
                .audit_rows(&AuditRowQuery::all(after, 10_000))
                .await?;
            let done = page.len() < 10_000;
            records.extend(page);
            if done {
                break;
            }
        }
        let expected = (writer.audit_seq > 0).then_some((writer.audit_seq, &*writer.audit_head));
        Ok(audit::verify(&records, expected))
    }

    /// The state as the SQL projection tables hold it, read back into a [`PlantState`]. Equal
    /// to [`Store::state`] whenever the projections are consistent (tests check this).
    pub async fn projected_state(&self) -> Result<PlantState> {
        let backend = &self.inner.backend;
        let mut state = PlantState::default();
        let parse = |table: &str, id: &str, body: &str| {
            corrupt(format!("{table} row `{id}` does not decode: {body}"))
        };
        for (id, body) in backend.projection_rows(Table::Orders).await? {
            let value = serde_json::from_str(&body).map_err(|_| parse("orders", &id, &body))?;
            state.orders.insert(id.into(), value);
        }
        for (id, body) in backend.projection_rows(Table::Units).await? {
            let value = serde_json::from_str(&body).map_err(|_| parse("units", &id, &body))?;
            state.units.insert(id.into(), value);
        }
        for (id, body) in backend.projection_rows(Table::Lots).await? {
            let value = serde_json::from_str(&body).map_err(|_| parse("lots", &id, &body))?;
            state.lots.insert(id.into(), value);
        }
        for (id, body) in backend.projection_rows(Table::Serials).await? {
            let value = serde_json::from_str(&body).map_err(|_| parse("serials", &id, &body))?;
            state.serials.insert(id.into(), value);
        }
        for (id, body) in backend.projection_rows(Table::Receipts).await? {
            let value = serde_json::from_str(&body).map_err(|_| parse("receipts", &id, &body))?;
            state.receipts.insert(id.into(), value);
        }
        for (id, body) in backend.projection_rows(Table::Attendance).await? {
            let value = serde_json::from_str(&body).map_err(|_| parse("attendance", &id, &body))?;
            state.attendance.insert(id.into(), value);
        }
        for (name, value) in backend.projection_rows(Table::Counters).await? {
            let number: i64 = value
                .parse()
                .map_err(|_| parse("counters", &name, &value))?;
            if let Some(characteristic) = name.strip_prefix("quality:") {
                state
                    .quality_results
                    .insert(characteristic.into(), number as u64);
            } else if name == "events_applied" {
                state.events_applied = number as u64;
            } else if name == "clock" {
                state.clock = Some(Timestamp(number));
            }
        }
        Ok(state)
    }
}

/// Audited actions after which another process's writes are not caught up with by folding the
/// new events: the writer copy is reloaded.
const RELOADING_ACTIONS: [&str; 2] = ["plant.put", "store.reset"];

/// A catch-up that folds more events than this publishes a copy of the writer's state instead
/// of applying them to the view one by one (and keeps no list of them).
const PUBLISH_IN_PLACE: usize = 10_000;

impl Inner {
    pub(crate) fn snapshot(&self) -> Snapshot {
        self.view
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Brings the writer (and the view) up to the database as `tx` reads it: reloads it when
    /// an earlier write of this process left it stale or another process replaced the plant
    /// or reset the log since, folds the events other processes appended since, and takes the
    /// audit head from the database. Every write calls it first, in its own write transaction
    /// (which holds the database's write lock, so nothing else moves until it commits).
    pub(crate) async fn catch_up(&self, w: &mut Writer, tx: &mut Tx) -> Result<()> {
        if w.stale {
            return self.reload(w, tx).await;
        }
        let (seq, hash) = tx.audit_head().await?.unwrap_or((0, GENESIS.to_owned()));
        if seq == w.audit_seq && hash == w.audit_head {
            return Ok(());
        }
        let since = tx.audit_since(w.audit_seq, &RELOADING_ACTIONS).await?;
        let kept = w.audit_seq == 0 || since.hash_at.as_deref() == Some(w.audit_head.as_str());
        if !kept || seq < w.audit_seq {
            return Err(corrupt(format!(
                "the audit trail no longer holds record {} as this process wrote or read it (the trail now ends at record {seq}): records were removed or rewritten; nothing is written until this is resolved (`mixplane audit verify` names the break)",
                w.audit_seq
            )));
        }
        if since.matching > 0 {
            return self.reload(w, tx).await;
        }
        let Some(catalog) = w.catalog.clone() else {
            // No plant, so no events either (a plant put since would have reloaded).
            w.set_head(seq, hash);
            return Ok(());
        };
        // Until the fold is complete the state is neither the old nor the new one.
        w.stale = true;
        let after = w.last_seq;
        let (mut folded, mut count, mut last) = (Vec::new(), 0usize, after);
        let state = &mut w.state;
        crate::fold::fold_log(tx, after, |at, event| {
            state
                .apply(&catalog, &event)
                .map_err(|source| StoreError::Replay { seq: at, source })?;
            count += 1;
            last = at;
            if count <= PUBLISH_IN_PLACE {
                folded.push(event);
            }
            Ok(())
        })
        .await?;
        w.events += count as i64;
        w.last_seq = last;
        w.set_head(seq, hash);
        w.stale = false;
        if count > PUBLISH_IN_PLACE {
            self.publish_all(w);
        } else {
            self.publish_batch(w, &catalog, folded.iter());
        }
        Ok(())
    }

    /// The writer lock and a write transaction (holding the database's write lock), the
    /// writer caught up with the database.
    pub(crate) async fn begin_write(&self) -> Result<(WriterGuard<'_>, Tx)> {
        let mut writer = self.lock_writer().await;
        let mut tx = self.backend.begin().await?;
        crate::lease::check_fence(self, &mut tx).await?;
        self.catch_up(&mut writer, &mut tx).await?;
        Ok((writer, tx))
    }

    /// The writer lock.
    pub(crate) async fn lock_writer(&self) -> WriterGuard<'_> {
        WriterGuard {
            writer: self.writer.lock().await,
            known_head: &self.known_head,
            head_changes: &self.head_changes,
        }
    }

    /// Replaces the writer with what `tx` reads, and publishes it.
    async fn reload(&self, w: &mut Writer, tx: &mut Tx) -> Result<()> {
        let load = snapshot::load_writer(tx).await?;
        *w = load.writer;
        *self.opened.lock().unwrap_or_else(PoisonError::into_inner) = load.opened;
        self.publish_all(w);
        Ok(())
    }

    pub(crate) fn snapshot_every(&self) -> u64 {
        self.snapshot_every.load(Ordering::Relaxed)
    }

    pub(crate) fn set_snapshot_every(&self, events: u64) {
        self.snapshot_every.store(events, Ordering::Relaxed);
    }

    pub(crate) fn snapshot_budget(&self) -> u32 {
        self.snapshot_budget.load(Ordering::Relaxed)
    }

    pub(crate) fn set_snapshot_budget(&self, factor: u32) {
        self.snapshot_budget.store(factor, Ordering::Relaxed);
    }

    pub(crate) fn opened(&self) -> Opened {
        self.opened
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Catches up with what other processes wrote since this one last wrote or read the
    /// database, when they wrote anything: one look at the audit head otherwise, and none in
    /// a request that a look begun after it already covers ([`crate::fresh`]). A private
    /// in-memory database has no other writer.
    pub(crate) async fn refresh(&self) -> Result<()> {
        if !self.backend.shared() || self.freshness.covers_current(self.owner()) {
            return Ok(());
        }
        let look = self.freshness.begin();
        let head = self.backend.audit_head_seq().await?;
        if head != self.known_head.load(Ordering::Acquire) {
            let mut writer = self.lock_writer().await;
            let mut tx = self.backend.begin_read().await?;
            let caught_up = self.catch_up(&mut writer, &mut tx).await;
            tx.rollback().await?;
            caught_up?;
            // The writer lock is released here, and with it the head it knows is published.
        }
        self.freshness.applied(look);
        Ok(())
    }

    /// What tells this store's requests from another's ([`crate::fresh`]).
    pub(crate) fn owner(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    /// The view after [`Inner::refresh`]; when the database cannot be read, the view this
    /// process has (its writes will report the failure).
    pub(crate) async fn fresh_snapshot(&self) -> Snapshot {
        let _ = self.refresh().await;
        self.snapshot()
    }

    /// Replaces the view with a copy of the writer's state.
    pub(crate) fn publish_all(&self, writer: &Writer) {
        let mut view = self.view.write().unwrap_or_else(PoisonError::into_inner);
        *view = Snapshot {
            catalog: writer.catalog.clone(),
            state: Arc::new(writer.state.clone()),
        };
    }

    /// Brings the view up to the writer after a committed batch: applies the batch in place
    /// when no reader holds the current snapshot, otherwise copies the writer's state.
    pub(crate) fn publish_batch<'a>(
        &self,
        writer: &Writer,
        catalog: &Catalog,
        events: impl Iterator<Item = &'a Event>,
    ) {
        let mut view = self.view.write().unwrap_or_else(PoisonError::into_inner);
        match Arc::get_mut(&mut view.state) {
            Some(state) => {
                for event in events {
                    if state.apply(catalog, event).is_err() {
                        // Cannot happen (the writer applied the same events to the same state),
                        // but a copy is always right.
                        *state = writer.state.clone();
                        break;
                    }
                }
            }
            None => view.state = Arc::new(writer.state.clone()),
        }
    }
}

fn audit_record(r: RawRecord) -> Result<AuditRecord> {
    Ok(AuditRecord {
        seq: r.seq,
        at: Timestamp(r.at),
        actor: Actor {
            kind: r.actor_kind.parse().map_err(corrupt)?,
            id: r.actor_id,
        },
        action: r.action,
        subject: r.subject,
        detail: serde_json::from_str(&r.detail)
            .map_err(|e| corrupt(format!("audit record {}: {e}", r.seq)))?,
        prev_hash: r.prev_hash,
        hash: r.hash,
    })
}
