//! Snapshots of the folded state, so that a store opens without folding its whole log.
//!
//! The writer's state is a pure function of the plant and the log (`PlantState::apply` is
//! deterministic), so it can be cached: a snapshot is the state encoded ([`codec`]) at a log
//! seq, with the plant version it was folded under, the id of the event at that seq, the number
//! of events up to it, the fingerprint of the state's layout ([`layout`]) and a SHA-256 digest
//! over all of these and the body. Opening reads the newest snapshot, checks it against the log
//! and folds only the events after it ([`load_writer`]); every check that fails — another plant
//! version, no event at its seq or another one there, another layout, a digest that does not
//! match, a body that does not decode, a tail event that does not apply to it — is a
//! [`SnapshotMismatch`], reported by [`Store::opened`], and the log is replayed in full as
//! before. A snapshot can therefore only make opening faster, never the state different.
//!
//! Snapshots are written by the append that takes the log [`DEFAULT_INTERVAL`] events past the
//! last one (after its own commit and acknowledgement to the writer, in a transaction of its
//! own, so a snapshot that fails to write fails no ingest), by [`Store::write_snapshot`] (at a
//! clean shutdown, say) and by `rebuild_projections`. Each replaces the ones before. They are a
//! cache, not part of the record: not audited (the audit trail is the database's change
//! counter, and a snapshot changes nothing another process must catch up with), wiped with the
//! log by a reset, and never the only copy of anything.

pub mod codec;

use std::sync::OnceLock;
use std::time::Instant;

use model::{Catalog, Plant, PlantState, Timestamp};
use sha2::{Digest, Sha256};

use crate::audit::GENESIS;
use crate::backend::{SnapshotKey, SnapshotRow, Tx};
use crate::error::{Result, StoreError};
use crate::fold::fold_log;
use crate::store::{Inner, PROJECTION_VERSION, Store, Writer, corrupt, now_ms};

pub use codec::CodecError;

/// Events between two snapshots written by appends: at about 400,000 events a second of fold,
/// the tail an open replays stays under a quarter of a second.
pub const DEFAULT_INTERVAL: u64 = 100_000;

/// By default an append writes the next snapshot no sooner than this many times the last
/// one's cost after it ([`Store::set_snapshot_budget`]), so that snapshots take at most about a tenth of the writer's time however large the
/// state grows (a snapshot of a 10 M-event state costs seconds); the tail an open folds grows
/// instead, and a clean shutdown's snapshot leaves none.
pub const DEFAULT_COST_FACTOR: u32 = 10;

/// Version of the snapshot encoding and of the fold's meaning: bump it when `codec` changes or
/// when `PlantState::apply` folds the same events into a different state, so that snapshots
/// written before are replayed over rather than trusted.
const FORMAT: u32 = 2;

/// Why a stored snapshot was not used (the log was replayed in full instead).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SnapshotMismatch {
    #[error("the snapshot was folded under plant v{snapshot}, the plant is v{plant}")]
    PlantVersion { snapshot: i64, plant: i64 },
    #[error("the snapshot has another state layout or encoding (written by another build)")]
    Layout,
    #[error("the snapshot is at seq {seq}, past the end of the log (seq {last})")]
    AheadOfLog { seq: i64, last: i64 },
    #[error("the snapshot is at seq {seq} of event `{expected}`, the log has {found:?} there")]
    Event {
        seq: i64,
        expected: String,
        found: Option<String>,
    },
    #[error("the snapshot's digest does not match its contents")]
    Digest,
    #[error(transparent)]
    Decode(#[from] CodecError),
    #[error("event at seq {seq} does not apply to the snapshot: {message}")]
    Tail { seq: i64, message: String },
}

/// How the state was loaded when the store was opened (or last reloaded after another
/// process replaced the plant or reset the log).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Opened {
    /// The seq of the snapshot the state started from; none when the log was replayed from
    /// its start.
    pub snapshot_seq: Option<i64>,
    /// Events folded at open: those after the snapshot, or the whole log.
    pub folded: u64,
    /// Why a stored snapshot was not used, if one was there.
    pub fallback: Option<SnapshotMismatch>,
}

/// Whether [`Inner::save_snapshot`] writes over a stored snapshot that already holds the
/// log's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rewrite {
    Always,
    IfBehind,
}

/// A snapshot written: where, and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotInfo {
    /// The last event folded into it.
    pub seq: i64,
    /// Events in the log up to it.
    pub events: i64,
    /// Size of the encoded state.
    pub bytes: usize,
    /// Time spent encoding and hashing the state, and writing and committing it.
    pub encode_ms: f64,
    pub write_ms: f64,
}

/// The fingerprint of what a snapshot's body means: the encoding's version, the build's
/// version and the JSON schema of `PlantState` (which changes with any field or variant of the
/// types it holds). Computed once.
pub(crate) fn layout() -> &'static str {
    static LAYOUT: OnceLock<String> = OnceLock::new();
    LAYOUT.get_or_init(|| {
        let schema =
            serde_json::to_value(schemars::schema_for!(PlantState)).expect("schemas serialise");
        layout_of(env!("CARGO_PKG_VERSION"), schema)
    })
}

/// [`layout`] of a build's version and a state schema. The schema's prose (`description`,
/// from doc comments) is left out: rewording a comment changes no byte of a snapshot, and
/// must not make the next open replay a large log.
fn layout_of(version: &str, mut schema: serde_json::Value) -> String {
    use serde_json::Value;
    // Keywords whose value maps names (a field may be called `description`) to schemas, and
    // keywords whose value is data rather than a schema.
    const SCHEMA_MAPS: [&str; 4] = ["properties", "$defs", "definitions", "patternProperties"];
    const DATA: [&str; 4] = ["const", "default", "enum", "examples"];
    fn without_prose(schema: &mut Value) {
        match schema {
            Value::Object(keywords) => {
                keywords.remove("description");
                for (keyword, value) in keywords.iter_mut() {
                    match (keyword.as_str(), value) {
                        (k, _) if DATA.contains(&k) => {}
                        (k, Value::Object(named)) if SCHEMA_MAPS.contains(&k) => {
                            named.values_mut().for_each(without_prose);
                        }
                        (_, value) => without_prose(value),
                    }
                }
            }
            // `anyOf`, `oneOf`, `allOf`, `prefixItems`: lists of schemas.
            Value::Array(schemas) => schemas.iter_mut().for_each(without_prose),
            _ => {}
        }
    }
    without_prose(&mut schema);
    let mut hasher = Sha256::new();
    hasher.update(FORMAT.to_le_bytes());
    hasher.update(version.as_bytes());
    hasher.update(b"\n");
    hasher.update(
        serde_json::to_string(&schema)
            .expect("values serialise")
            .as_bytes(),
    );
    model::wire::hex(&hasher.finalize())
}

/// The digest over a snapshot's every column but itself and its creation time.
fn digest(row: &SnapshotRow) -> String {
    let mut hasher = Sha256::new();
    hasher.update(row.seq.to_le_bytes());
    hasher.update(row.plant_version.to_le_bytes());
    hasher.update(row.events.to_le_bytes());
    hasher.update((row.event_id.len() as u64).to_le_bytes());
    hasher.update(row.event_id.as_bytes());
    hasher.update((row.layout.len() as u64).to_le_bytes());
    hasher.update(row.layout.as_bytes());
    hasher.update(&row.body);
    model::wire::hex(&hasher.finalize())
}

/// A snapshot of `state` as folded up to `seq` (event `event_id`, `events` events).
fn snapshot_row(
    state: &PlantState,
    seq: i64,
    event_id: String,
    events: i64,
    plant_version: i64,
) -> SnapshotRow {
    let mut row = SnapshotRow {
        seq,
        plant_version,
        event_id,
        events,
        layout: layout().to_owned(),
        digest: String::new(),
        body: codec::encode(state),
        created_at: now_ms(),
    };
    row.digest = digest(&row);
    row
}

/// What [`load_writer`] read.
pub(crate) struct Load {
    pub writer: Writer,
    /// The projections do not match the log.
    pub stale: bool,
    pub opened: Opened,
}

/// Loads the plant and the state as `tx` reads them: from the newest snapshot that matches
/// the log and the events after it, or by folding the whole log.
pub(crate) async fn load_writer(tx: &mut Tx) -> Result<Load> {
    let loaded = tx.load().await?;
    let (audit_seq, audit_head) = loaded.audit_head.unwrap_or((0, GENESIS.to_owned()));
    let mut writer = Writer {
        catalog: None,
        plant_version: 0,
        start: Timestamp(0),
        state: PlantState::default(),
        last_seq: loaded.last_seq,
        events: 0,
        audit_seq,
        audit_head,
        stale: false,
        snapshot_seq: 0,
        snapshot_cost: None,
    };
    let load = |writer| Load {
        writer,
        stale: false,
        opened: Opened::default(),
    };
    let Some((version, body, start)) = loaded.plant else {
        if loaded.last_seq > 0 {
            return Err(corrupt("the event log holds events but no plant is stored"));
        }
        return Ok(load(writer));
    };
    let plant: Plant = serde_json::from_str(&body)
        .map_err(|e| corrupt(format!("stored plant v{version} does not decode: {e}")))?;
    let catalog = Catalog::new(plant)
        .map_err(|e| corrupt(format!("stored plant v{version} no longer validates: {e}")))?;
    let mut opened = Opened::default();
    let restored = match restore(tx, &catalog, version, loaded.last_seq).await? {
        Ok(restored) => Some(restored),
        Err(None) => None,
        Err(Some(mismatch)) => {
            opened.fallback = Some(mismatch);
            None
        }
    };
    let state = match restored {
        Some(restored) => {
            opened.snapshot_seq = Some(restored.seq);
            opened.folded = restored.tail as u64;
            writer.events = restored.events + restored.tail;
            writer.snapshot_seq = restored.seq;
            restored.state
        }
        None => {
            let mut state = PlantState::initial(&catalog, Timestamp(start));
            let count = fold_log(tx, 0, |seq, event| {
                state
                    .apply(&catalog, &event)
                    .map_err(|source| StoreError::Replay { seq, source })
            })
            .await?;
            opened.folded = count as u64;
            writer.events = count;
            state
        }
    };
    let counter = |name: &str| loaded.counters.get(name).copied();
    let stale = counter("projection_seq") != Some(loaded.last_seq)
        || counter("projection_version") != Some(PROJECTION_VERSION)
        || counter("projection_plant") != Some(version);
    writer.catalog = Some(std::sync::Arc::new(catalog));
    writer.plant_version = version;
    writer.start = Timestamp(start);
    writer.state = state;
    Ok(Load {
        stale,
        opened,
        ..load(writer)
    })
}

/// A state restored from a snapshot and the events after it.
struct Restored {
    seq: i64,
    /// Events up to the snapshot, and after it.
    events: i64,
    tail: i64,
    state: PlantState,
}

/// The state from the newest snapshot and the log's tail after it; `Err(None)` when there is
/// no snapshot, `Err(Some(why))` when there is one that does not match the log. Only the
/// database's own failures are errors.
async fn restore(
    tx: &mut Tx,
    catalog: &Catalog,
    plant_version: i64,
    last_seq: i64,
) -> Result<std::result::Result<Restored, Option<SnapshotMismatch>>> {
    let Some(row) = tx.latest_snapshot().await? else {
        return Ok(Err(None));
    };
    if let Err(mismatch) = check(tx, &row, plant_version, last_seq).await? {
        return Ok(Err(Some(mismatch)));
    }
    // The digest is checked beside the decode (a tenth of an open at 10 M events), and a
    // state decoded from a body whose digest does not match is thrown away unused.
    let (intact, decoded) = std::thread::scope(|scope| {
        let intact = scope.spawn(|| digest(&row) == row.digest);
        let decoded = codec::decode(&row.body);
        (intact.join().unwrap_or(false), decoded)
    });
    if !intact {
        return Ok(Err(Some(SnapshotMismatch::Digest)));
    }
    let mut state = match decoded {
        Ok(state) => state,
        Err(error) => return Ok(Err(Some(error.into()))),
    };
    let mut failed = None;
    let folded = fold_log(tx, row.seq, |seq, event| {
        if let Err(source) = state.apply(catalog, &event) {
            // Perhaps the snapshot's fault: say so, and replay the whole log instead
            // (which reports the event again should it be the log's).
            failed.get_or_insert(SnapshotMismatch::Tail {
                seq,
                message: source.to_string(),
            });
            return Err(StoreError::Replay { seq, source });
        }
        Ok(())
    })
    .await;
    let tail_count = match folded {
        Ok(count) => count,
        Err(_) if failed.is_some() => return Ok(Err(failed)),
        Err(error) => return Err(error),
    };
    Ok(Ok(Restored {
        seq: row.seq,
        events: row.events,
        tail: tail_count,
        state,
    }))
}

/// Checks a snapshot's columns against the log (its digest is checked by [`restore`], beside
/// the decode that checks its body).
async fn check(
    tx: &mut Tx,
    row: &SnapshotRow,
    plant_version: i64,
    last_seq: i64,
) -> Result<std::result::Result<(), SnapshotMismatch>> {
    if row.plant_version != plant_version {
        return Ok(Err(SnapshotMismatch::PlantVersion {
            snapshot: row.plant_version,
            plant: plant_version,
        }));
    }
    if row.layout != layout() {
        return Ok(Err(SnapshotMismatch::Layout));
    }
    if row.seq > last_seq {
        return Ok(Err(SnapshotMismatch::AheadOfLog {
            seq: row.seq,
            last: last_seq,
        }));
    }
    let found = tx.event_id_of(row.seq).await?;
    if found.as_deref() != Some(row.event_id.as_str()) {
        return Ok(Err(SnapshotMismatch::Event {
            seq: row.seq,
            expected: row.event_id.clone(),
            found,
        }));
    }
    Ok(Ok(()))
}

impl Inner {
    /// Writes a snapshot of the writer's state in a write transaction of its own, after
    /// catching up with what other processes wrote (so the state is the fold of the log up to
    /// its last seq as that transaction reads it). Nothing when there is no event yet, nor,
    /// with `Rewrite::IfBehind`, when the stored snapshot is already the one this build would
    /// write.
    pub(crate) async fn save_snapshot(
        &self,
        w: &mut Writer,
        rewrite: Rewrite,
    ) -> Result<Option<SnapshotInfo>> {
        let mut tx = self.backend.begin().await?;
        self.catch_up(w, &mut tx).await?;
        if w.catalog.is_none() || w.last_seq == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let event_id = tx.event_id_of(w.last_seq).await?.ok_or_else(|| {
            corrupt(format!(
                "the log has no event at its last seq {}",
                w.last_seq
            ))
        })?;
        if rewrite == Rewrite::IfBehind {
            let current = SnapshotKey {
                seq: w.last_seq,
                plant_version: w.plant_version,
                event_id: event_id.clone(),
                layout: layout().to_owned(),
            };
            if tx.latest_snapshot_key().await?.as_ref() == Some(&current) {
                tx.rollback().await?;
                w.snapshot_seq = w.last_seq;
                return Ok(None);
            }
        }
        let started = Instant::now();
        let row = snapshot_row(&w.state, w.last_seq, event_id, w.events, w.plant_version);
        let encoded = started.elapsed();
        tx.write_snapshot(&row).await?;
        tx.commit().await?;
        w.snapshot_seq = row.seq;
        Ok(Some(SnapshotInfo {
            seq: row.seq,
            events: row.events,
            bytes: row.body.len(),
            encode_ms: encoded.as_secs_f64() * 1e3,
            write_ms: (started.elapsed() - encoded).as_secs_f64() * 1e3,
        }))
    }

    /// After an append: a snapshot when the log grew the interval past the last one. A
    /// snapshot is a cache, so failing to write one fails nothing; the next is tried an
    /// interval later.
    pub(crate) async fn snapshot_if_due(&self, w: &mut Writer) {
        let every = self.snapshot_every();
        if every == 0 || w.last_seq - w.snapshot_seq < every as i64 {
            return;
        }
        let factor = self.snapshot_budget();
        if let Some((at, cost)) = w.snapshot_cost
            && at.elapsed() < cost * factor
        {
            return;
        }
        let started = Instant::now();
        if self.save_snapshot(w, Rewrite::Always).await.is_err() {
            w.snapshot_seq = w.last_seq;
        }
        w.snapshot_cost = Some((Instant::now(), started.elapsed()));
    }
}

impl Store {
    /// Sets how many events an append lets the log grow past the last snapshot before it
    /// writes the next ([`DEFAULT_INTERVAL`] unless set; 0 writes none).
    pub fn set_snapshot_interval(&self, events: u64) {
        self.inner.set_snapshot_every(events);
    }

    /// Sets how long after a snapshot an append waits before the next, as a multiple of what
    /// the last one took ([`DEFAULT_COST_FACTOR`] unless set; 0: only the event interval
    /// counts, as tests want for snapshots at predictable seqs).
    pub fn set_snapshot_budget(&self, factor: u32) {
        self.inner.set_snapshot_budget(factor);
    }

    /// Writes a snapshot of the state at the log's end now (at a clean shutdown, say), so that
    /// the next open folds nothing; none for an empty log.
    pub async fn write_snapshot(&self) -> Result<Option<SnapshotInfo>> {
        self.spawn_write(move |inner| async move {
            let mut writer = inner.lock_writer().await;
            inner.save_snapshot(&mut writer, Rewrite::Always).await
        })
        .await
    }

    /// [`Store::write_snapshot`], unless the stored snapshot already holds the log's end as
    /// this build folds it (then none): a clean stop of a store nothing was written to since
    /// its last snapshot rewrites nothing (at 10 M events, a second and 120 MB of writes).
    pub async fn write_snapshot_if_behind(&self) -> Result<Option<SnapshotInfo>> {
        self.spawn_write(move |inner| async move {
            let mut writer = inner.lock_writer().await;
            inner.save_snapshot(&mut writer, Rewrite::IfBehind).await
        })
        .await
    }

    /// How the state was loaded at open (or at the last reload after another process
    /// replaced the plant or reset the log): from which snapshot, how many events were folded,
    /// and why a stored snapshot was not used.
    pub fn opened(&self) -> Opened {
        self.inner.opened()
    }
}

/// A snapshot row of `state` at the log's last seq, for a write that replaced the state
/// in full (a rebuild), in its transaction; none for an empty log.
pub(crate) async fn snapshot_in(
    tx: &mut Tx,
    w: &Writer,
    state: &PlantState,
) -> Result<Option<SnapshotRow>> {
    if w.last_seq == 0 {
        return Ok(None);
    }
    let Some(event_id) = tx.event_id_of(w.last_seq).await? else {
        return Ok(None);
    };
    let row = snapshot_row(state, w.last_seq, event_id, w.events, w.plant_version);
    tx.write_snapshot(&row).await?;
    Ok(Some(row))
}

#[cfg(test)]
mod layout_tests {
    use super::layout_of;
    use serde_json::json;

    #[test]
    fn rewording_a_doc_comment_keeps_the_layout_and_a_field_does_not() {
        let schema = |doc: &str, fields: serde_json::Value| {
            json!({
                "type": "object",
                "description": doc,
                "properties": fields,
                "$defs": {"Mode": {"description": doc, "enum": ["discrete", "process"]}},
            })
        };
        let fields = json!({"description": {"type": "string", "description": "a field's doc"}});
        let layout = layout_of("1.0.0", schema("before", fields.clone()));
        assert_eq!(layout, layout_of("1.0.0", schema("after", fields.clone())));
        // A field named `description` is part of the layout, and so is the build's version.
        assert_ne!(layout, layout_of("1.0.0", schema("before", json!({}))));
        assert_ne!(layout, layout_of("1.0.1", schema("before", fields)));
    }
}
