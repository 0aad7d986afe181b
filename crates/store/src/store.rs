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

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use model::{
    Catalog, Event, Mode, OrderId, OrderState, OrderStatus, Plant, PlantState, Priority, Timestamp,
    UnitId, UnitState,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;

use crate::audit::{self, GENESIS, RawRecord};
use crate::error::{Result, StoreError};
use crate::journal::{Journal, Touched};
use crate::sqlite::{self, EventRow, MaterialRow, OrderRow, Projection, UnitRow, Write};
use crate::types::*;

/// The largest page [`Store::orders`], [`Store::events`] and [`Store::audit_log`] return.
pub const MAX_PAGE: u32 = 10_000;

/// Layout version of the projection tables; a mismatch at open triggers a rebuild.
const PROJECTION_VERSION: i64 = 1;

/// The persistent plant, event log, projections and audit trail. Cheap to clone (all clones
/// share one database and one in-memory state).
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match &self.inner.backend {
            Backend::Sqlite(_) => "sqlite",
        };
        f.debug_struct("Store").field("backend", &backend).finish()
    }
}

/// A consistent pair of plant and state.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub catalog: Option<Arc<Catalog>>,
    pub state: Arc<PlantState>,
}

pub(crate) enum Backend {
    Sqlite(SqlitePool),
}

pub(crate) struct Inner {
    pub(crate) backend: Backend,
    writer: tokio::sync::Mutex<Writer>,
    view: RwLock<Snapshot>,
    checkpoint: Checkpointer,
}

/// Copies the write-ahead log back into the database file in the background, so that appends
/// do not pay for checkpoints in their commit (SQLite's own automatic checkpoint, which runs
/// inside a commit, stays on as a backstop with a larger threshold).
struct Checkpointer {
    /// File-backed WAL database (an in-memory one has no WAL).
    enabled: bool,
    running: Arc<AtomicBool>,
    /// Bytes written since the last checkpoint started (an estimate: the rows' text).
    pending: AtomicU64,
}

/// Start a background checkpoint after this much new row text (≈ 2–3× that in WAL pages).
const CHECKPOINT_BYTES: u64 = 16 << 20;

impl Inner {
    /// Notes `bytes` of committed row text and starts a passive checkpoint when enough piled up.
    fn wrote(&self, bytes: u64) {
        let cp = &self.checkpoint;
        if !cp.enabled || cp.pending.fetch_add(bytes, Ordering::Relaxed) + bytes < CHECKPOINT_BYTES
        {
            return;
        }
        if cp.running.swap(true, Ordering::AcqRel) {
            return;
        }
        cp.pending.store(0, Ordering::Relaxed);
        let Backend::Sqlite(pool) = &self.backend;
        let pool = pool.clone();
        let running = Arc::clone(&cp.running);
        tokio::spawn(async move {
            // PASSIVE copies what it can without blocking the writer or readers. A failure only
            // means the WAL grows until the next attempt or SQLite's own checkpoint.
            let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await;
            running.store(false, Ordering::Release);
        });
    }
}

/// The writer's copy of everything it needs to know between writes.
pub(crate) struct Writer {
    catalog: Option<Arc<Catalog>>,
    plant_version: i64,
    start: Timestamp,
    state: PlantState,
    /// Last event seq assigned (0 for an empty log).
    last_seq: i64,
    /// Events in the log.
    events: i64,
    audit_seq: i64,
    audit_head: String,
    /// The state may differ from the database (a write failed or panicked half-way).
    stale: bool,
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

impl Backend {
    async fn load(&self) -> Result<sqlite::Loaded> {
        match self {
            Backend::Sqlite(pool) => sqlite::load(pool).await,
        }
    }

    async fn replay(&self, f: impl FnMut(i64, &str) -> Result<()>) -> Result<()> {
        match self {
            Backend::Sqlite(pool) => sqlite::replay(pool, f).await,
        }
    }

    async fn existing(&self, ids_json: &str) -> Result<HashMap<String, (i64, String)>> {
        match self {
            Backend::Sqlite(pool) => sqlite::existing(pool, ids_json).await,
        }
    }

    async fn write(&self, write: Write<'_>) -> Result<Option<i64>> {
        match self {
            Backend::Sqlite(pool) => sqlite::write(pool, write).await,
        }
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn priority_str(p: Priority) -> &'static str {
    match p {
        Priority::High => "high",
        Priority::Medium => "medium",
        Priority::Low => "low",
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("store rows always serialise")
}

/// Projection rows for the touched keys (or, with `touched = None`, for everything).
fn projection<'a>(
    state: &'a PlantState,
    touched: Option<&'a Touched>,
    last_seq: i64,
    plant_version: i64,
) -> Projection<'a> {
    fn rows<'a, K: Ord + 'a, V: 'a, R>(
        map: &'a BTreeMap<K, V>,
        keys: Option<&'a std::collections::BTreeSet<K>>,
        row: impl Fn(&'a K, &'a V) -> R,
    ) -> Vec<R> {
        match keys {
            None => map.iter().map(|(k, v)| row(k, v)).collect(),
            Some(keys) => keys
                .iter()
                .filter_map(|k| map.get_key_value(k))
                .map(|(k, v)| row(k, v))
                .collect(),
        }
    }
    let orders = rows(&state.orders, touched.map(|t| &t.orders), |id, o| {
        OrderRow {
            id: id.as_str(),
            mode: o.mode.as_str(),
            status: o.status.as_str(),
            due: o.order.due.0,
            priority: priority_str(o.order.priority),
            body: to_json(o),
        }
    });
    let units = rows(&state.units, touched.map(|t| &t.units), |id, u| UnitRow {
        id: id.as_str(),
        state: u.state.as_str(),
        since: u.since.0,
        body: to_json(u),
    });
    let lots = rows(&state.lots, touched.map(|t| &t.lots), |id, l| MaterialRow {
        id: id.as_str(),
        material: l.material.as_str(),
        body: to_json(l),
    });
    let serials = rows(&state.serials, touched.map(|t| &t.serials), |id, s| {
        MaterialRow {
            id: id.as_str(),
            material: s.material.as_str(),
            body: to_json(s),
        }
    });
    let mut counters: Vec<(String, i64)> = rows(
        &state.quality_results,
        touched.map(|t| &t.quality),
        |id, n| (format!("quality:{id}"), *n as i64),
    );
    counters.push(("events_applied".into(), state.events_applied as i64));
    if let Some(clock) = state.clock {
        counters.push(("clock".into(), clock.0));
    }
    counters.push(("projection_seq".into(), last_seq));
    counters.push(("projection_version".into(), PROJECTION_VERSION));
    counters.push(("projection_plant".into(), plant_version));
    Projection {
        replace_all: touched.is_none(),
        orders,
        units,
        lots,
        serials,
        counters,
    }
}

/// Stored rows `(seq, recorded_at, body)` as events.
fn decode_stored(rows: Vec<(i64, i64, String)>) -> Result<Vec<StoredEvent>> {
    rows.into_iter()
        .map(|(seq, recorded_at, body)| {
            let event = serde_json::from_str(&body)
                .map_err(|e| corrupt(format!("event at seq {seq}: {e}")))?;
            Ok(StoredEvent {
                seq,
                recorded_at: Timestamp(recorded_at),
                event,
            })
        })
        .collect()
}

/// Folds a batch into `state`: skips duplicates, stops at the first conflict or invalid event.
/// Returns the indexes of the events applied and the number of duplicates. On error the caller
/// undoes the journal.
fn fold_batch(
    state: &mut PlantState,
    catalog: &Catalog,
    events: &[Event],
    bodies: &[String],
    existing: &HashMap<String, (i64, String)>,
    journal: &mut Journal,
) -> Result<(Vec<usize>, usize)> {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(events.len());
    let mut accepted = Vec::with_capacity(events.len());
    let mut duplicates = 0;
    for (index, event) in events.iter().enumerate() {
        let id = event.id.as_str();
        if let Some((seq, body)) = existing.get(id) {
            if *body == bodies[index] {
                duplicates += 1;
                continue;
            }
            return Err(StoreError::Conflict {
                index,
                id: id.to_owned(),
                where_: format!("stored at seq {seq}"),
            });
        }
        if let Some(&earlier) = seen.get(id) {
            if bodies[earlier] == bodies[index] {
                duplicates += 1;
                continue;
            }
            return Err(StoreError::Conflict {
                index,
                id: id.to_owned(),
                where_: format!("at batch index {earlier}"),
            });
        }
        journal.save(state, event);
        state
            .apply(catalog, event)
            .map_err(|source| StoreError::Invalid {
                index,
                id: id.to_owned(),
                source,
            })?;
        seen.insert(id, index);
        accepted.push(index);
    }
    Ok((accepted, duplicates))
}

fn sha256_hex(parts: impl IntoIterator<Item = impl AsRef<[u8]>>) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_ref());
        hasher.update(b"\n");
    }
    audit::hex(&hasher.finalize())
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
        let pool = sqlite::open_file(path).await?;
        Store::from_backend(Backend::Sqlite(pool), true).await
    }

    /// Opens a fresh private in-memory SQLite database (for tests and demos).
    pub async fn open_in_memory() -> Result<Store> {
        let pool = sqlite::open_memory().await?;
        Store::from_backend(Backend::Sqlite(pool), false).await
    }

    async fn from_backend(backend: Backend, background_checkpoints: bool) -> Result<Store> {
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
                checkpoint: Checkpointer {
                    enabled: background_checkpoints,
                    running: Arc::new(AtomicBool::new(false)),
                    pending: AtomicU64::new(0),
                },
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
        let (bodies, total) = match &self.inner.backend {
            Backend::Sqlite(pool) => {
                sqlite::orders(
                    pool,
                    filter.mode.map(Mode::as_str),
                    filter.status.map(OrderStatus::as_str),
                    i64::from(limit),
                    i64::from(filter.offset),
                )
                .await?
            }
        };
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
        let rows = match &self.inner.backend {
            Backend::Sqlite(pool) => sqlite::events_with_ids(pool, &to_json(&ids)).await?,
        };
        decode_stored(rows)
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
        let types = (!filter.types.is_empty()).then(|| to_json(&filter.types));
        let limit = i64::from(filter.limit.min(MAX_PAGE));
        let rows = match &self.inner.backend {
            Backend::Sqlite(pool) => {
                sqlite::events(
                    pool,
                    types.as_deref(),
                    filter.from.map(|t| t.0),
                    filter.to.map(|t| t.0),
                    filter.after_seq.unwrap_or(0),
                    limit,
                )
                .await?
            }
        };
        decode_stored(rows)
    }

    /// Sizes of the log and the projections.
    pub async fn counts(&self) -> Result<Counts> {
        let (events, orders, lots, serials, quality) = match &self.inner.backend {
            Backend::Sqlite(pool) => sqlite::counts(pool).await?,
        };
        let mut by_mode: BTreeMap<Mode, BTreeMap<OrderStatus, u64>> = BTreeMap::new();
        for (mode, status, n) in orders {
            let mode: Mode = mode.parse().map_err(corrupt)?;
            let status: OrderStatus = status.parse().map_err(corrupt)?;
            by_mode.entry(mode).or_default().insert(status, n as u64);
        }
        Ok(Counts {
            events: events as u64,
            orders_by_mode_status: by_mode,
            lots: lots as u64,
            serials: serials as u64,
            quality_results: quality as u64,
        })
    }

    /// Audit records with `seq > after_seq`, at most `limit` (capped at [`MAX_PAGE`]).
    pub async fn audit_log(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>> {
        let limit = i64::from(limit.min(MAX_PAGE));
        let raw = match &self.inner.backend {
            Backend::Sqlite(pool) => sqlite::audit_rows(pool, after_seq, limit).await?,
        };
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
            let page = match &self.inner.backend {
                Backend::Sqlite(pool) => sqlite::audit_rows(pool, after, 10_000).await?,
            };
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
        let Backend::Sqlite(pool) = &self.inner.backend;
        let mut state = PlantState::default();
        let parse = |table: &str, id: &str, body: &str| {
            corrupt(format!("{table} row `{id}` does not decode: {body}"))
        };
        for (id, body) in sqlite::projection_rows(pool, sqlite::Table::Orders).await? {
            let value = serde_json::from_str(&body).map_err(|_| parse("orders", &id, &body))?;
            state.orders.insert(id.into(), value);
        }
        for (id, body) in sqlite::projection_rows(pool, sqlite::Table::Units).await? {
            let value = serde_json::from_str(&body).map_err(|_| parse("units", &id, &body))?;
            state.units.insert(id.into(), value);
        }
        for (id, body) in sqlite::projection_rows(pool, sqlite::Table::Lots).await? {
            let value = serde_json::from_str(&body).map_err(|_| parse("lots", &id, &body))?;
            state.lots.insert(id.into(), value);
        }
        for (id, body) in sqlite::projection_rows(pool, sqlite::Table::Serials).await? {
            let value = serde_json::from_str(&body).map_err(|_| parse("serials", &id, &body))?;
            state.serials.insert(id.into(), value);
        }
        for (name, value) in sqlite::projection_rows(pool, sqlite::Table::Counters).await? {
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
    fn snapshot(&self) -> Snapshot {
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
    fn publish_all(&self, writer: &Writer) {
        let mut view = self.view.write().unwrap_or_else(PoisonError::into_inner);
        *view = Snapshot {
            catalog: writer.catalog.clone(),
            state: Arc::new(writer.state.clone()),
        };
    }

    /// Brings the view up to the writer after a committed batch: applies the batch in place
    /// when no reader holds the current snapshot, otherwise copies the writer's state.
    fn publish_batch<'a>(
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

    async fn put_plant(
        &self,
        catalog: Catalog,
        start: Option<Timestamp>,
        actor: Actor,
    ) -> Result<()> {
        let mut guard = self.lock_writer().await?;
        let w = &mut *guard;
        if w.events > 0 {
            return Err(StoreError::LogNotEmpty { events: w.events });
        }
        let start = start
            .or_else(|| catalog.plant().orders.iter().map(|o| o.release).min())
            .unwrap_or_else(|| Timestamp(now_ms()));
        let state = PlantState::initial(&catalog, start);
        let body = to_json(catalog.plant());
        let version = w.plant_version + 1;
        let projection = projection(&state, None, w.last_seq, version);
        let at = now_ms();
        let plant = catalog.plant();
        let detail = json!({
            "version": version,
            "start": start,
            "sha256": sha256_hex([&body]),
            "site": plant.site.id,
            "units": plant.units.len(),
            "routings": plant.routings.len(),
            "orders": plant.orders.len(),
        });
        let record = w.audit_record(
            &actor,
            "plant.put",
            format!("plant:v{version}"),
            &detail,
            at,
        );
        self.backend
            .write(Write {
                plant: Some((version, &body, start.0, at)),
                wipe_events: false,
                events: &[],
                projection: &projection,
                audit: &record,
            })
            .await?;
        w.audited(record);
        w.catalog = Some(Arc::new(catalog));
        w.plant_version = version;
        w.start = start;
        w.state = state;
        self.publish_all(w);
        Ok(())
    }

    async fn reset(&self, actor: Actor) -> Result<()> {
        let mut guard = self.lock_writer().await?;
        let w = &mut *guard;
        let state = match &w.catalog {
            Some(catalog) => PlantState::initial(catalog, w.start),
            None => PlantState::default(),
        };
        let projection = projection(&state, None, 0, w.plant_version);
        let at = now_ms();
        let detail = json!({ "events_removed": w.events, "plant_version": w.plant_version });
        let record = w.audit_record(&actor, "store.reset", "events".into(), &detail, at);
        self.backend
            .write(Write {
                plant: None,
                wipe_events: true,
                events: &[],
                projection: &projection,
                audit: &record,
            })
            .await?;
        w.audited(record);
        w.state = state;
        w.last_seq = 0;
        w.events = 0;
        self.publish_all(w);
        Ok(())
    }

    /// Replays the log into a fresh state and rewrites every projection row from it.
    async fn rebuild(&self, actor: Actor, reason: &str) -> Result<u64> {
        let mut guard = self.lock_writer().await?;
        let w = &mut *guard;
        let Some(catalog) = w.catalog.clone() else {
            return Ok(0);
        };
        let mut state = PlantState::initial(&catalog, w.start);
        let mut replayed = 0u64;
        self.backend
            .replay(|seq, body| {
                let event: Event = serde_json::from_str(body)
                    .map_err(|e| corrupt(format!("event at seq {seq} does not decode: {e}")))?;
                replayed += 1;
                state
                    .apply(&catalog, &event)
                    .map_err(|source| StoreError::Replay { seq, source })
            })
            .await?;
        let projection = projection(&state, None, w.last_seq, w.plant_version);
        let at = now_ms();
        let detail = json!({ "events_replayed": replayed, "reason": reason });
        let record = w.audit_record(
            &actor,
            "projections.rebuild",
            format!("projections:1-{}", w.last_seq),
            &detail,
            at,
        );
        self.backend
            .write(Write {
                plant: None,
                wipe_events: false,
                events: &[],
                projection: &projection,
                audit: &record,
            })
            .await?;
        w.audited(record);
        w.state = state;
        w.stale = false;
        self.publish_all(w);
        Ok(replayed)
    }

    async fn append(&self, events: &[Event], actor: &Actor) -> Result<AppendOutcome> {
        let mut guard = self.lock_writer().await?;
        let w = &mut *guard;
        let catalog = w.catalog.clone().ok_or(StoreError::NoPlant)?;
        if events.is_empty() {
            return Ok(AppendOutcome::default());
        }
        let bodies = events
            .iter()
            .enumerate()
            .map(|(index, event)| {
                serde_json::to_string(event).map_err(|e| StoreError::Decode {
                    index,
                    message: e.to_string(),
                })
            })
            .collect::<Result<Vec<String>>>()?;
        let ids = to_json(&events.iter().map(|e| e.id.as_str()).collect::<Vec<_>>());
        let existing = self.backend.existing(&ids).await?;

        // From here until the commit is acknowledged, the writer's state runs ahead of the
        // database; `stale` makes the next write reload it should this future be dropped half-way.
        w.stale = true;
        let mut journal = Journal::default();
        let (accepted, duplicates) = match fold_batch(
            &mut w.state,
            &catalog,
            events,
            &bodies,
            &existing,
            &mut journal,
        ) {
            Ok(folded) => folded,
            Err(error) => {
                journal.undo(&mut w.state);
                w.stale = false;
                return Err(error);
            }
        };
        if accepted.is_empty() {
            w.stale = false;
            return Ok(AppendOutcome {
                inserted: 0,
                duplicates,
                first_seq: None,
                last_seq: None,
            });
        }

        let first_seq = w.last_seq + 1;
        let last_seq = w.last_seq + accepted.len() as i64;
        let at = now_ms();
        let mut touched = Touched::default();
        let rows: Vec<EventRow<'_>> = accepted
            .iter()
            .zip(first_seq..)
            .map(|(&i, seq)| {
                let event = &events[i];
                touched.add(event);
                EventRow {
                    recorded_at: at,
                    seq,
                    id: event.id.as_str(),
                    kind: event.kind.type_name(),
                    time: event.time.0,
                    source: event.source.as_deref(),
                    body: bodies[i].as_str(),
                }
            })
            .collect();
        let projection = projection(&w.state, Some(&touched), last_seq, w.plant_version);
        let written_bytes = (rows.iter().map(|r| r.body.len()).sum::<usize>()
            + projection
                .orders
                .iter()
                .map(|r| r.body.len())
                .sum::<usize>()
            + projection.lots.iter().map(|r| r.body.len()).sum::<usize>()
            + projection
                .serials
                .iter()
                .map(|r| r.body.len())
                .sum::<usize>()) as u64;
        let detail = json!({
            "inserted": accepted.len(),
            "duplicates": duplicates,
            "first_seq": first_seq,
            "last_seq": last_seq,
            "first_id": events[accepted[0]].id,
            "last_id": events[accepted[accepted.len() - 1]].id,
            "events_sha256": sha256_hex(accepted.iter().map(|&i| &bodies[i])),
        });
        let record = w.audit_record(
            actor,
            "events.append",
            format!("events:{first_seq}-{last_seq}"),
            &detail,
            at,
        );
        let written = self
            .backend
            .write(Write {
                plant: None,
                wipe_events: false,
                events: &rows,
                projection: &projection,
                audit: &record,
            })
            .await;
        if let Err(error) = written {
            // Not committed: put the state back, and still reload it before the next write in
            // case the database saw more than it reported.
            journal.undo(&mut w.state);
            return Err(error);
        }
        journal.clear();
        w.audited(record);
        w.last_seq = last_seq;
        w.events += accepted.len() as i64;
        w.stale = false;
        self.publish_batch(w, &catalog, accepted.iter().map(|&i| &events[i]));
        self.wrote(written_bytes);
        Ok(AppendOutcome {
            inserted: accepted.len(),
            duplicates,
            first_seq: Some(first_seq),
            last_seq: Some(last_seq),
        })
    }
}
