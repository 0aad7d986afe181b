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

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};

use model::{
    Catalog, Event, Mode, OrderId, OrderState, OrderStatus, Plant, PlantState, Timestamp, UnitId,
    UnitState,
};
use serde_json::Value;

use crate::audit::{self, GENESIS, RawRecord};
use crate::backend::{Backend, EventQuery, Table, Tx};
use crate::error::{Result, StoreError};
use crate::sqlite;
use crate::types::*;

pub(crate) use crate::write::decode_stored;

/// The largest page [`Store::orders`], [`Store::events`] and [`Store::audit_log`] return.
pub const MAX_PAGE: u32 = 10_000;

/// Layout version of the projection tables; a mismatch at open triggers a rebuild.
pub(crate) const PROJECTION_VERSION: i64 = 1;

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
    writer: tokio::sync::Mutex<Writer>,
    view: RwLock<Snapshot>,
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
    audit_seq: i64,
    audit_head: String,
    /// The state may differ from the database (a write failed or panicked half-way).
    pub(crate) stale: bool,
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
        self.audit_seq = record.seq;
        self.audit_head = record.hash;
    }
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
    /// missing), `sqlite::memory:` for a private in-memory database.
    pub async fn open(url: &str) -> Result<Store> {
        if url == "sqlite::memory:" {
            return Store::open_in_memory().await;
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or(path);
            return Store::open_sqlite(Path::new(path)).await;
        }
        Err(StoreError::Url(format!(
            "`{url}` is not a supported database URL (expected sqlite://PATH or sqlite::memory:)"
        )))
    }

    /// Opens (creating it and its directory if missing) an SQLite database file, migrates it,
    /// loads the plant and folds the log into memory. Projections that are missing or stale
    /// are rebuilt from the log.
    pub async fn open_sqlite(path: &Path) -> Result<Store> {
        Store::from_backend(sqlite::open_file(path).await?).await
    }

    /// Opens a fresh private in-memory SQLite database (for tests and demos).
    pub async fn open_in_memory() -> Result<Store> {
        Store::from_backend(sqlite::open_memory().await?).await
    }

    async fn from_backend(backend: Backend) -> Result<Store> {
        let (writer, stale) = load_writer(&backend).await?;
        let view = Snapshot {
            catalog: writer.catalog.clone(),
            state: Arc::new(writer.state.clone()),
        };
        let store = Store {
            inner: Arc::new(Inner {
                backend,
                writer: tokio::sync::Mutex::new(writer),
                view: RwLock::new(view),
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
    /// under the writer lock, `rows` runs in one backend transaction and returns its value
    /// and, when it wrote something, its audit entry. The entry becomes the next chained audit
    /// record, inserted in the same transaction, which then commits; without an entry the
    /// transaction is rolled back.
    pub(crate) async fn audited<T, F>(&self, rows: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx, Arc<Inner>) -> TxFuture<'t, (T, Option<Entry>)>
            + Send
            + 'static,
    {
        self.spawn_write(move |inner| async move {
            let mut writer = inner.lock_writer().await?;
            let mut tx = inner.backend.begin().await?;
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
        // Not spawned like the other writes: that would cost a copy of every batch. Dropping
        // this future half-way is still safe: the writer copy is marked stale until the commit
        // is acknowledged, the view is only touched after it, and the next write reloads a
        // stale writer from the database.
        self.inner.append(events, actor).await
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

    /// The current plant, if one was put.
    pub async fn plant(&self) -> Option<Arc<Catalog>> {
        self.inner.snapshot().catalog
    }

    /// The current folded state (every acknowledged event, nothing else).
    pub async fn state(&self) -> Arc<PlantState> {
        self.inner.snapshot().state
    }

    /// The current plant and state, taken together.
    pub async fn snapshot(&self) -> Snapshot {
        self.inner.snapshot()
    }

    /// One order's current state.
    pub async fn order(&self, id: &OrderId) -> Option<OrderState> {
        self.inner.snapshot().state.orders.get(id).cloned()
    }

    /// Every unit's current state, by unit id.
    pub async fn units(&self) -> Vec<(UnitId, UnitState)> {
        let state = self.inner.snapshot().state;
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

    /// Stored events matching the filter, in log order.
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
            limit: i64::from(filter.limit.min(MAX_PAGE)),
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
        let raw = self.inner.backend.audit_rows(after_seq, limit).await?;
        raw.into_iter()
            .map(|r| {
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
            })
            .collect()
    }

    /// Recomputes the audit chain and names the first record that breaks it. Writes wait
    /// while it runs.
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        let writer = self.inner.writer.lock().await;
        let mut records = Vec::new();
        loop {
            let after = records.last().map_or(0, |r: &RawRecord| r.seq);
            let page = self.inner.backend.audit_rows(after, 10_000).await?;
            let done = page.len() < 10_000;
            records.extend(page);
            if done {
                break;
            }
        }
        let expected = (writer.audit_seq > 0).then_some(writer.audit_head.as_str());
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

/// Loads the plant and folds the log; says whether the projections are stale.
async fn load_writer(backend: &Backend) -> Result<(Writer, bool)> {
    let loaded = backend.load().await?;
    let (audit_seq, audit_head) = loaded.audit_head.unwrap_or((0, GENESIS.to_owned()));
    let mut writer = Writer {
        catalog: None,
        plant_version: 0,
        start: Timestamp(0),
        state: PlantState::default(),
        last_seq: loaded.last_seq,
        events: loaded.events,
        audit_seq,
        audit_head,
        stale: false,
    };
    let Some((version, body, start)) = loaded.plant else {
        if loaded.events > 0 {
            return Err(corrupt("the event log holds events but no plant is stored"));
        }
        return Ok((writer, false));
    };
    let plant: Plant = serde_json::from_str(&body)
        .map_err(|e| corrupt(format!("stored plant v{version} does not decode: {e}")))?;
    let catalog = Arc::new(
        Catalog::new(plant)
            .map_err(|e| corrupt(format!("stored plant v{version} no longer validates: {e}")))?,
    );
    let mut state = PlantState::initial(&catalog, Timestamp(start));
    backend
        .replay(|seq, body| {
            let event: Event = serde_json::from_str(body)
                .map_err(|e| corrupt(format!("event at seq {seq} does not decode: {e}")))?;
            state
                .apply(&catalog, &event)
                .map_err(|source| StoreError::Replay { seq, source })
        })
        .await?;
    let counter = |name: &str| loaded.counters.get(name).copied();
    let stale = counter("projection_seq") != Some(loaded.last_seq)
        || counter("projection_version") != Some(PROJECTION_VERSION)
        || counter("projection_plant") != Some(version);
    writer.catalog = Some(catalog);
    writer.plant_version = version;
    writer.start = Timestamp(start);
    writer.state = state;
    Ok((writer, stale))
}

impl Inner {
    pub(crate) fn snapshot(&self) -> Snapshot {
        self.view
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The writer, reloaded from the database first if an earlier write left it stale.
    pub(crate) async fn lock_writer(&self) -> Result<tokio::sync::MutexGuard<'_, Writer>> {
        let mut writer = self.writer.lock().await;
        if writer.stale {
            let (fresh, _) = load_writer(&self.backend).await?;
            *writer = fresh;
            self.publish_all(&writer);
        }
        Ok(writer)
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
