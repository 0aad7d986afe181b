//! Persistence for mixplane: the plant document, the append-only event log, the SQL
//! projections of the folded state, and the hash-chained audit trail.
//!
//! # What this crate owns
//!
//! - **The plant**: every plant document put is validated ([`model::Catalog::new`]) and kept
//!   as a numbered version; the latest one is current.
//! - **The event log**: events are appended in atomic batches, idempotent by event id (the
//!   same id with byte-identical canonical JSON is a duplicate and skipped; the same id with
//!   other content is a conflict), and never edited. Each stored event gets a log sequence
//!   number (`seq`, from 1).
//! - **State and projections**: the log is folded through [`model::PlantState::apply`]; the
//!   result is kept in memory ([`Store::state`]) and in SQL tables (`orders`, `units`, `lots`,
//!   `serials`, `counters`) that serve filtered, paged queries. Projections are derived data:
//!   [`Store::rebuild_projections`] rewrites them from the log, and opening a database whose
//!   projections are missing or stale does so automatically.
//! - **The audit trail**: every write (plant put, event batch, reset, projection rebuild)
//!   appends one audit record in the same transaction, hash-chained to the previous one
//!   ([`audit`] describes the hash); [`Store::verify_audit`] recomputes the chain.
//!
//! # What it must not do
//!
//! No HTTP, no clocks in the model, no engine logic: the only domain logic here is folding
//! events through `model::PlantState`. Scheduling, quality and the rest read state through
//! this crate's accessors and live elsewhere.
//!
//! # Backends
//!
//! [`Store`] is one concrete type whose methods mention no backend. Behind it, the private
//! `backend` module is the seam: the front modules (`store`, `write`, `govern`, `quality`,
//! `trace`) decide what is kept and call typed operations on a `Backend` (reads, the log's
//! writes, opening a transaction) and a `Tx` (the rows of one audited write); every SQL
//! statement lives in the private `sqlite` module, which implements the seam's traits
//! (`LogStore`/`LogTx`, `GovernanceStore`/`GovernanceTx`, `QualityStore`/`QualityTx`,
//! `TraceStore`/`TraceTx`) on SQLite through sqlx, with run-time-checked queries and the
//! migrations of `migrations/` embedded. A PostgreSQL backend is a sibling module implementing
//! the same traits plus a variant of each of the two enums; the front modules and callers do
//! not change.

//! # Durability
//!
//! An append returns only after its transaction has committed. SQLite runs with
//! `journal_mode = WAL` and `synchronous = FULL`, so every commit is fsynced to the
//! write-ahead log before it returns: an acknowledged batch survives `kill -9` and power loss
//! (`tests/crash.rs` SIGKILLs a writer mid-ingest and checks every acknowledged event, the
//! audit chain and the projections). Foreign keys are on, the busy timeout is 10 s, each
//! connection keeps a 64 MiB page cache, and the WAL is checkpointed (PASSIVE) by a background
//! task every ~16 MiB of row text, with SQLite's in-commit automatic checkpoint as a backstop at
//! 16000 pages. One process should write to a database file at a time; the store serialises
//! the writes of one process itself. Floats survive the log exactly: the crate turns on
//! serde_json's `float_roundtrip`, without which a replayed state can differ in the last bit.
//!
//! # Ingest speed
//!
//! A batch is folded into the live state with an undo journal instead of a cloned state
//! (`journal`), its events are inserted with a few multi-row `INSERT … VALUES` statements
//! (250 rows each, anonymous parameters), and only the projection rows it touched are upserted
//! the same way. `benches/ingest.rs` measures it.
//!
//! # Other modules
//!
//! `connectors` keeps each connector's cursor and dead letters, written in the transaction
//! that appends the connector's batch (`Store::append_from_connector`).
//! `plans` keeps the plan versions (the highest is the plan in force) and the candidate plans
//! of proposals, as opaque JSON, putting a version in force and expiring the proposals it
//! supersedes in one transaction.
//! `govern` (with `principals`: the rules no caller can talk around — a name is never
//! rebound, the last global administrator stays), `quality` and `trace` persist governance,
//! quality-enforcement and genealogy records; their writes go through the same audited write
//! path (`Store::audited`: the writer lock, one backend transaction, the next chained audit
//! record from `Writer::audit_record`).

pub mod audit;
mod backend;
mod connectors;
mod copy;
mod error;
mod fold;
mod fresh;
mod govern;
mod journal;
mod lease;
mod plans;
mod postgres;
mod principals;
mod quality;
pub mod query;
pub mod snapshot;
mod sqlite;
mod store;
pub mod test_support;
mod trace;
mod types;
mod write;

pub use connectors::{ConnectorBatch, ConnectorOutcome, DeadLetter, NewDeadLetter, StoredCursor};
pub use copy::CopyReport;
pub use error::{Result, StoreError};
pub use fresh::KeptUnderHead;
pub use govern::{
    GovernanceWrite, IssuedToken, ProposalFilter, StoredProposal, TokenHashing, actor_of,
    random_hex, token_id,
};
pub use lease::Lease;
pub use plans::{MAX_PLAN_VERSIONS, StoredCandidate, StoredPlan};
pub use postgres::{is_url as is_postgres_url, redact as redact_url, with_schema, without_schema};
pub use principals::{MAX_PRINCIPAL_NAME, PrincipalError, check_principal_name};
pub use quality::{
    AlertFilter, EnforceRun, Hold, HoldFilter, HoldRelease, NcFilter, NcTransition, NcUpdate,
    NewAlert, NewHold, NewNc, ProposalHolds, QualityBatch, QualityCounts, QualityWrite,
    StoredAlert, StoredNc,
};
pub use snapshot::{Opened, SnapshotInfo, SnapshotMismatch};
pub use store::{MAX_PAGE, Snapshot, Store};
pub use trace::{
    MATERIAL_EVENT_TYPES, StoredTraceEvent, TraceDocument, TraceEventRow, TraceImportOutcome,
};
pub use types::*;
