//! The seam between the store's front and a database backend.
//!
//! The front (`store`, `write`, `govern`, `quality`, `trace`) decides *what* is kept: it folds
//! events, chains audit records, runs the governance, quality and trace write paths, and
//! decodes stored JSON. A backend decides *how* rows are kept: it runs every statement. The
//! front never names a database; it calls the operations declared here on two handles:
//!
//! - [`Backend`], the open database: reads and the start of a write transaction
//!   ([`LogStore::begin`], which takes the database's write lock) or of a read transaction
//!   ([`LogStore::begin_read`]);
//! - [`Tx`], one open transaction: the statements of one audited write (and the reads the
//!   store folds from), then [`Tx::commit`] (or [`Tx::rollback`], or dropping it, which rolls
//!   back).
//!
//! The operations are grouped by area into traits, one pair per area: [`LogStore`] and
//! [`LogTx`], [`GovernanceStore`] and [`GovernanceTx`], [`QualityStore`] and [`QualityTx`],
//! [`TraceStore`] and [`TraceTx`], [`PlanStore`] and [`PlanTx`], [`ConnectorStore`] and
//! [`ConnectorTx`], and [`SnapshotTx`]. A backend implements all thirteen (SQLite does, in
//! `crate::sqlite`). The two enums forward each call to the backend in use, so the front's
//! futures stay `Send` without boxing.
//!
//! # Adding a backend
//!
//! A backend is a module beside `sqlite` and `postgres` that implements the thirteen traits
//! for its database handle and its transaction type, a variant of [`Backend`] and of [`Tx`],
//! an arm in `forward!` below, and a URL scheme in `Store::open`. The front modules do not
//! change.

use std::collections::HashMap;
use std::future::Future;

use govern::{PrincipalKind, Role};
use model::{Mode, OrderStatus};

use crate::audit::RawRecord;
use crate::copy::{Cell, CopyTable};
use crate::error::Result;
use crate::govern::ProposalFilter;
use crate::quality::{
    AlertFilter, Hold, HoldFilter, NcFilter, NcTransition, NewAlert, NewHold, NewNc, QualityCounts,
};
use crate::trace::{StoredTraceEvent, TraceBodies, TraceEventRow};
use crate::{postgres, sqlite};

/// An open database.
pub(crate) enum Backend {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
}

/// One open transaction of a [`Backend`]. Dropping it without [`Tx::commit`] rolls it back.
pub(crate) enum Tx {
    Sqlite(sqlite::Tx),
    Postgres(postgres::Tx),
}

/// Calls `$call` on the backend (or transaction) behind `$handle`, bound to `$inner`.
macro_rules! forward {
    (tx $handle:expr, $inner:ident => $call:expr) => {
        match $handle {
            Tx::Sqlite($inner) => $call,
            Tx::Postgres($inner) => $call,
        }
    };
    ($handle:expr, $inner:ident => $call:expr) => {
        match $handle {
            Backend::Sqlite($inner) => $call,
            Backend::Postgres($inner) => $call,
        }
    };
}

/// Declares one trait of the seam and makes [`Backend`] (`&self` operations) or [`Tx`]
/// (`&mut self` operations) forward it.
macro_rules! seam {
    (
        $(#[$doc:meta])*
        trait $name:ident for Backend {
            $( $(#[$m:meta])* fn $op:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty; )*
        }
    ) => {
        $(#[$doc])*
        pub(crate) trait $name: Send + Sync {
            $( $(#[$m])* fn $op(&self $(, $arg: $ty)*) -> impl Future<Output = $ret> + Send; )*
        }

        impl Backend {
            $(
                $(#[$m])*
                pub(crate) async fn $op(&self $(, $arg: $ty)*) -> $ret {
                    forward!(self, inner => $name::$op(inner $(, $arg)*).await)
                }
            )*
        }
    };
    (
        $(#[$doc:meta])*
        trait $name:ident for Tx {
            $( $(#[$m:meta])* fn $op:ident(&mut self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty; )*
        }
    ) => {
        $(#[$doc])*
        pub(crate) trait $name: Send {
            $( $(#[$m])* fn $op(&mut self $(, $arg: $ty)*) -> impl Future<Output = $ret> + Send; )*
        }

        impl Tx {
            $(
                $(#[$m])*
                pub(crate) async fn $op(&mut self $(, $arg: $ty)*) -> $ret {
                    forward!(tx self, inner => $name::$op(inner $(, $arg)*).await)
                }
            )*
        }
    };
}

impl Backend {
    /// The backend's name, for `Debug`.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Whether other processes (or other handles) may open the same database, so that it can
    /// change under this one: a file may be, a private in-memory database may not.
    pub(crate) fn shared(&self) -> bool {
        match self {
            Backend::Sqlite(sqlite) => sqlite.shared(),
            // Other processes and nodes may always connect to the same database.
            Backend::Postgres(_) => true,
        }
    }
}

/// Ends a transaction; implemented by each backend's transaction type.
pub(crate) trait Finish: Sized + Send {
    fn commit(self) -> impl Future<Output = Result<()>> + Send;
    fn rollback(self) -> impl Future<Output = Result<()>> + Send;
}

impl Tx {
    /// Makes every statement of the transaction durable.
    pub(crate) async fn commit(self) -> Result<()> {
        forward!(tx self, inner => inner.commit().await)
    }

    /// Undoes every statement of the transaction.
    pub(crate) async fn rollback(self) -> Result<()> {
        forward!(tx self, inner => inner.rollback().await)
    }
}

// ---------------------------------------------------------------------------------------------
// The event log, the projections and the audit trail.

/// Which audit records to read: `seq > after` in order (or, newest first, `seq < after`
/// backwards), at most `limit`, and only those whose fields match every filter given.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AuditRowQuery<'a> {
    pub after: i64,
    pub limit: i64,
    pub newest_first: bool,
    /// The actor's id, exactly.
    pub actor_id: Option<&'a str>,
    /// The start of the action (`proposal.` matches every proposal action).
    pub action_prefix: Option<&'a str>,
    /// Unix milliseconds, inclusive.
    pub from_ms: Option<i64>,
    /// Unix milliseconds, exclusive.
    pub to_ms: Option<i64>,
}

impl AuditRowQuery<'_> {
    /// Every record past `after`, at most `limit`.
    pub(crate) fn all(after: i64, limit: i64) -> AuditRowQuery<'static> {
        AuditRowQuery {
            after,
            limit,
            newest_first: false,
            actor_id: None,
            action_prefix: None,
            from_ms: None,
            to_ms: None,
        }
    }
}

seam! {
    /// The plant, the event log, the projections and the audit trail.
    trait LogStore for Backend {
        /// Order bodies matching the filter, ordered by id, and the number of matches.
        fn orders(
            &self,
            mode: Option<Mode>,
            status: Option<OrderStatus>,
            limit: i64,
            offset: i64,
        ) -> Result<(Vec<String>, u64)>;
        /// `(seq, recorded_at, body)` of the stored events with these ids, in log order.
        fn events_with_ids(&self, ids: &[&str]) -> Result<Vec<EventRowRead>>;
        /// `(seq, recorded_at, body)` of the events matching the filter, in log order.
        fn events(&self, query: &EventQuery<'_>) -> Result<Vec<EventRowRead>>;
        /// Sizes of the log and the projections.
        fn counts(&self) -> Result<RawCounts>;
        /// Audit records matching the query, in order.
        fn audit_rows(&self, query: &AuditRowQuery<'_>) -> Result<Vec<RawRecord>>;
        /// The last audit record about `subject` (`proposal:P-1`, `hold:H-1`), if any.
        fn audit_latest(&self, subject: &str) -> Result<Option<RawRecord>>;
        /// The seq of the last audit record (0 for an empty trail): every write of every
        /// process appends one, so a change of it says that the database changed.
        fn audit_head_seq(&self) -> Result<i64>;
        /// Every row of a projection table as `(id, body)` (counters: `(name, value)`).
        fn projection_rows(&self, table: Table) -> Result<Vec<(String, String)>>;
        /// `bytes` of row text were committed (a backend may, say, checkpoint its log).
        fn wrote(&self, bytes: u64) -> ();
        /// Opens a write transaction that holds the database's write lock from its first
        /// statement (SQLite: `BEGIN IMMEDIATE`), so that the writes of every process on the
        /// database are serialised and each reads what the one before committed.
        fn begin(&self) -> Result<Tx>;
        /// Opens a read transaction: its reads see one committed state of the database.
        fn begin_read(&self) -> Result<Tx>;
    }
}

seam! {
    /// The log's reads and writes inside a transaction, and the audit record of every write.
    trait LogTx for Tx {
        /// What the store needs to know about the database to fold it.
        fn load(&mut self) -> Result<Loaded>;
        /// Calls `f(seq, body)` for every event with `seq > after`, in log order; returns how
        /// many there were.
        fn replay(&mut self, after: i64, f: impl FnMut(i64, &str) -> Result<()> + Send) -> Result<i64>;
        /// Stored `(seq, body)` by id, of those of `ids` already in the log.
        fn existing(&mut self, ids: &[&str]) -> Result<HashMap<String, (i64, String)>>;
        /// Writes a [`Write`]'s rows (the caller commits).
        fn write_log(&mut self, write: Write<'_>) -> Result<()>;
        /// The last audit record: seq and hash.
        fn audit_head(&mut self) -> Result<Option<(i64, String)>>;
        /// What was audited after record `seq`: that record's hash (none when it is gone) and
        /// how many later records have one of `actions`.
        fn audit_since(&mut self, seq: i64, actions: &[&str]) -> Result<AuditSince>;
        /// Inserts an audit record.
        fn insert_audit(&mut self, record: &RawRecord) -> Result<()>;
    }
}

seam! {
    /// Snapshots of the folded state (`crate::snapshot`): a cache of the log's fold, read at
    /// open and written every so many events.
    trait SnapshotTx for Tx {
        /// The snapshot with the highest seq, if any.
        fn latest_snapshot(&mut self) -> Result<Option<SnapshotRow>>;
        /// What the newest snapshot was folded from, without its body.
        fn latest_snapshot_key(&mut self) -> Result<Option<SnapshotKey>>;
        /// The id of the event at `seq`, if there is one.
        fn event_id_of(&mut self, seq: i64) -> Result<Option<String>>;
        /// Stores a snapshot and deletes every other (a newer one replaces them; one that
        /// turns out not to match is never a reason to read an older one).
        fn write_snapshot(&mut self, row: &SnapshotRow) -> Result<()>;
    }
}

/// A stored snapshot's columns (see the `state_snapshots` migration).
#[derive(Debug, Clone)]
pub(crate) struct SnapshotRow {
    pub seq: i64,
    pub plant_version: i64,
    pub event_id: String,
    pub events: i64,
    pub layout: String,
    pub digest: String,
    pub body: Vec<u8>,
    pub created_at: i64,
}

/// The columns that say what a stored snapshot was folded from (a [`SnapshotRow`] without its
/// body, its digest and its counts).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SnapshotKey {
    pub seq: i64,
    pub plant_version: i64,
    pub event_id: String,
    pub layout: String,
}

/// What [`LogTx::audit_since`] found.
#[derive(Debug)]
pub(crate) struct AuditSince {
    /// The hash of the record at the given seq, if there is one.
    pub hash_at: Option<String>,
    /// Later records with one of the given actions.
    pub matching: i64,
}

/// `(seq, recorded_at, body)` of a stored event.
pub(crate) type EventRowRead = (i64, i64, String);

/// Which events [`LogStore::events`] reads.
#[derive(Debug)]
pub(crate) struct EventQuery<'a> {
    /// Only these event types (none: every type).
    pub types: &'a [String],
    /// Event time at or after, ms.
    pub from: Option<i64>,
    /// Event time before, ms.
    pub to: Option<i64>,
    pub after_seq: i64,
    pub limit: i64,
}

/// Raw sizes: events, `(mode, status, n)` of orders, lots, serials, quality results.
#[derive(Debug)]
pub(crate) struct RawCounts {
    pub events: i64,
    pub orders: Vec<(String, String, i64)>,
    pub lots: i64,
    pub serials: i64,
    pub quality: i64,
}

/// What the store needs to know about a database when it opens it.
pub(crate) struct Loaded {
    /// Latest plant: version, JSON, start (ms).
    pub plant: Option<(i64, String, i64)>,
    pub last_seq: i64,
    /// Last audit record: seq and hash.
    pub audit_head: Option<(i64, String)>,
    pub counters: HashMap<String, i64>,
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
    /// Expected receipts, by receipt id with their material.
    pub receipts: Vec<MaterialRow<'a>>,
    /// Attendance, one row per pool.
    pub attendance: Vec<BodyRow<'a>>,
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
pub(crate) struct BodyRow<'a> {
    pub id: &'a str,
    pub body: String,
}

#[derive(Debug)]
pub(crate) struct MaterialRow<'a> {
    pub id: &'a str,
    pub material: &'a str,
    pub body: String,
}

/// One write of the log: optionally a new plant version, a wipe or an append of events,
/// projection rows, and always exactly one audit record, in the caller's transaction. A wipe also
/// removes what the quality enforcer judged of the old log, and its cursor.
pub(crate) struct Write<'a> {
    /// Plant version, JSON, start ms, created ms.
    pub plant: Option<(i64, &'a str, i64, i64)>,
    pub wipe_events: bool,
    pub events: &'a [EventRow<'a>],
    pub projection: &'a Projection<'a>,
    pub audit: &'a RawRecord,
}

/// The projection tables.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Table {
    Orders,
    Units,
    Lots,
    Serials,
    Receipts,
    Attendance,
    Counters,
}

// ---------------------------------------------------------------------------------------------
// Governance.

seam! {
    /// Principals, tokens, proposals and the pseudonym key.
    trait GovernanceStore for Backend {
        /// The number of live (not revoked) tokens of a principal.
        fn live_tokens(&self, principal: &str) -> Result<i64>;
        /// The hash of a live token.
        fn token_hash(&self, token_id: &str) -> Result<Option<String>>;
        /// The principal of a live token.
        fn token_principal(&self, token_id: &str) -> Result<Option<PrincipalRow>>;
        /// One principal by name.
        fn principal(&self, name: &str) -> Result<Option<PrincipalRow>>;
        /// Every principal, by name.
        fn principals(&self) -> Result<Vec<PrincipalRow>>;
        /// The number of decisions stored for a proposal.
        fn decisions_stored(&self, proposal: &str) -> Result<i64>;
        /// One proposal's body and row version.
        fn proposal(&self, id: &str) -> Result<Option<(String, i64)>>;
        /// Bodies and row versions of the proposals matching the filter (newest first, at
        /// most `limit`), and the number of matches.
        fn proposals(&self, filter: &ProposalFilter, limit: u32) -> Result<(Vec<(String, i64)>, u64)>;
        /// The pseudonym key, if one was created.
        fn pseudonym_key(&self) -> Result<Option<Vec<u8>>>;
    }
}

seam! {
    /// The rows of a governance write.
    trait GovernanceTx for Tx {
        /// Writes one row change; false when a row's condition does not hold (a
        /// [`GovernanceRow::ProposalUpdate`] found the proposal at another version, a
        /// principal exists already or changed, no global administrator would be left):
        /// nothing was changed by that row, and the caller rolls the transaction back.
        fn governance_row(&mut self, row: &GovernanceRow) -> Result<bool>;
    }
}

/// A principal's stored columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrincipalRow {
    pub id: String,
    pub kind: String,
    pub role: String,
    pub scope: String,
}

/// One row change of a governance write.
#[derive(Debug, Clone)]
pub(crate) enum GovernanceRow {
    /// Creates a principal; false when the name is taken (it is never rebound).
    NewPrincipal {
        id: String,
        kind: PrincipalKind,
        role: Role,
        scope: String,
        at: i64,
    },
    /// Changes a principal's role and scope; false unless it is still `before`.
    PrincipalUpdate {
        before: PrincipalRow,
        role: Role,
        scope: String,
        at: i64,
    },
    /// Writes nothing; false unless the principal is still as given (the state a caller's
    /// decision was made on).
    PrincipalIs(PrincipalRow),
    /// Writes nothing; false when no administrator with scope `*` and a live token is left.
    KeepGlobalAdmin,
    /// A new token (only its hash is kept).
    Token {
        id: String,
        principal: String,
        hash: String,
        at: i64,
    },
    /// Revokes every live token of a principal but `except`.
    RevokeTokens {
        principal: String,
        except: Option<String>,
        at: i64,
    },
    /// A new proposal (row version 1).
    Proposal {
        id: String,
        kind: &'static str,
        site: String,
        area: String,
        status: &'static str,
        proposed_by: String,
        proposed_at: i64,
        expires_at: i64,
        body: String,
    },
    /// A proposal's new status and body, only if it is still at `version`.
    ProposalUpdate {
        id: String,
        status: &'static str,
        body: String,
        version: i64,
    },
    /// A decision on a proposal, numbered from 1.
    Decision {
        proposal: String,
        seq: i64,
        principal: String,
        role: Role,
        decision: &'static str,
        at: i64,
        comment: Option<String>,
    },
    /// Deletes every proposal and decision.
    ClearProposals,
    /// Creates the pseudonym key unless one exists.
    PseudonymKey { key: Vec<u8>, at: i64 },
}

// ---------------------------------------------------------------------------------------------
// Quality.

seam! {
    /// Alerts, holds, nonconformances and the quality results of the log.
    trait QualityStore for Backend {
        /// Holds matching the filter, newest first, and the number of matches.
        fn holds(&self, filter: &HoldFilter) -> Result<(Vec<Hold>, u64)>;
        /// One hold.
        fn hold_one(&self, id: &str) -> Result<Option<Hold>>;
        /// Active holds on any of `keys` (`kind:id`), oldest first.
        fn active_holds_on(&self, keys: &[String]) -> Result<Vec<Hold>>;
        /// Alerts matching the filter, newest first, and the number of matches.
        fn alerts(&self, filter: &AlertFilter) -> Result<(Vec<AlertRow>, u64)>;
        /// One nonconformance.
        fn nonconformance(&self, id: &str) -> Result<Option<NcRow>>;
        /// Nonconformances matching the filter, newest first, and the number of matches.
        fn nonconformances(&self, filter: &NcFilter) -> Result<(Vec<NcRow>, u64)>;
        /// Nonconformances concerning any of `items`, oldest first.
        fn nonconformances_on(&self, items: &[String]) -> Result<Vec<NcRow>>;
        /// `(seq, recorded_at, body)` of every quality result of one characteristic, in log
        /// order.
        fn quality_results(&self, characteristic: &str) -> Result<Vec<EventRowRead>>;
        /// Counts of alerts, active holds and open NCs, and the enforcer's cursor.
        fn quality_counts(&self) -> Result<QualityCounts>;
        /// Whether the enforcer has anything to judge: a quality result after its cursor, or
        /// a cursor whose event is no longer in the log.
        fn quality_pending(&self) -> Result<bool>;
    }
}

seam! {
    /// The rows of a quality write.
    trait QualityTx for Tx {
        /// The enforcer's saved cursor (seq and the id of the event there) and state.
        fn enforcer(&mut self) -> Result<Option<(i64, Option<String>, String)>>;
        /// The id of the event at `seq`.
        fn event_id_at(&mut self, seq: i64) -> Result<Option<String>>;
        /// `(seq, recorded_at, body)` of the quality results after `seq`, in log order.
        fn quality_results_after(&mut self, seq: i64) -> Result<Vec<EventRowRead>>;
        /// The last event of the log: seq and id.
        fn last_event(&mut self) -> Result<Option<(i64, String)>>;
        /// Deletes what the enforcer decided (alerts, holds, NCs) and, with `cursor`, its
        /// place in the log.
        fn wipe_judged(&mut self, cursor: bool) -> Result<()>;
        /// The next number of a record kind (1 for the first).
        fn next_number(&mut self, of: Numbered) -> Result<i64>;
        /// Stores an alert as number `n` unless its id is stored; says whether it did.
        fn insert_alert(&mut self, alert: &NewAlert, n: i64) -> Result<bool>;
        /// Places a hold unless the item already has an active one; says whether it did.
        fn insert_hold(&mut self, id: &str, n: i64, hold: &NewHold, placed_by: &str) -> Result<bool>;
        /// Opens an NC as number `n` with its items and transitions unless its id is stored;
        /// says whether it did.
        fn insert_nc(&mut self, nc: &NewNc, n: i64) -> Result<bool>;
        /// Saves the enforcer's cursor, policy version and state.
        fn save_enforcer(&mut self, saved: &EnforcerSave<'_>) -> Result<()>;
        /// The active hold on an item.
        fn active_hold(&mut self, item_kind: &str, item_id: &str) -> Result<Option<Hold>>;
        /// The active holds a proposal placed, oldest first.
        fn active_holds_of_proposal(&mut self, proposal: &str) -> Result<Vec<Hold>>;
        /// One hold.
        fn hold(&mut self, id: &str) -> Result<Option<Hold>>;
        /// Releases a hold.
        fn release_hold(&mut self, id: &str, by: &str, at: i64, reason: &str) -> Result<()>;
        /// An NC's row version.
        fn nc_version(&mut self, id: &str) -> Result<Option<i64>>;
        /// The number of transitions stored for an NC.
        fn nc_transitions(&mut self, id: &str) -> Result<i64>;
        /// Stores an NC's new state and body if it is still at `version`.
        fn update_nc(&mut self, id: &str, version: i64, state: &str, body: &str, at: i64) -> Result<()>;
        /// Appends transitions to an NC's history, numbered after `after`.
        fn insert_transitions(&mut self, id: &str, after: i64, transitions: &[NcTransition]) -> Result<()>;
    }
}

/// The quality records numbered in order (`H-000001`, `NC-000001`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Numbered {
    Alerts,
    Holds,
    Nonconformances,
}

/// What the enforcer keeps between runs.
#[derive(Debug)]
pub(crate) struct EnforcerSave<'a> {
    pub cursor_seq: i64,
    pub cursor_event: Option<String>,
    pub policy_version: &'a str,
    pub state: &'a str,
    pub at: i64,
}

/// An alert's stored columns; `body` is JSON.
#[derive(Debug)]
pub(crate) struct AlertRow {
    pub id: String,
    pub characteristic: String,
    pub severity: String,
    pub phase: i64,
    pub at: i64,
    pub body: String,
}

/// A nonconformance's stored columns with its items and history; `body` is JSON.
#[derive(Debug)]
pub(crate) struct NcRow {
    pub id: String,
    pub state: String,
    pub version: i64,
    pub body: String,
    pub characteristic: Option<String>,
    pub items: Vec<String>,
    pub transitions: Vec<NcTransition>,
}

// ---------------------------------------------------------------------------------------------
// Trace.

seam! {
    /// Imported genealogy documents.
    trait TraceStore for Backend {
        /// Stored EPCIS events with `seq > after`, at most `limit`, in storage order.
        fn trace_events(&self, after: i64, limit: i64) -> Result<Vec<StoredTraceEvent>>;
        /// Every stored EPCIS event body, in storage order, read in one snapshot.
        fn trace_event_bodies(&self) -> Result<TraceBodies>;
        /// The genealogy bodies stored with documents, in import order.
        fn trace_genealogy(&self) -> Result<Vec<String>>;
    }
}

seam! {
    /// The rows of a trace import.
    trait TraceTx for Tx {
        /// The sequence number of the document with this content hash.
        fn trace_document(&mut self, sha256: &str) -> Result<Option<i64>>;
        /// `(seq, body)` by key of the stored events among `keys`.
        fn trace_keys(&mut self, keys: &[&str]) -> Result<HashMap<String, (i64, String)>>;
        /// Stores a document's header; returns its sequence number.
        fn insert_trace_document(&mut self, document: &TraceDocumentRow<'_>) -> Result<i64>;
        /// Stores the events of document `document`.
        fn insert_trace_events(&mut self, document: i64, at: i64, rows: &[&TraceEventRow]) -> Result<()>;
        /// Stores the genealogy carried by document `document`.
        fn insert_trace_genealogy(&mut self, document: i64, body: &str) -> Result<()>;
    }
}

/// A trace document's header columns.
#[derive(Debug)]
pub(crate) struct TraceDocumentRow<'a> {
    pub format: &'a str,
    pub name: &'a str,
    pub sha256: &'a str,
    pub events: i64,
    pub recorded_at: i64,
}

// ---------------------------------------------------------------------------------------------
// Plans.

seam! {
    /// The plan versions and the candidate plans of proposals.
    trait PlanStore for Backend {
        /// The highest plan version (the plan in force).
        fn plan_latest(&self) -> Result<Option<PlanRow>>;
        /// One plan version.
        fn plan_version(&self, version: i64) -> Result<Option<PlanRow>>;
        /// Plan versions below `before`, newest first, at most `limit`.
        fn plan_versions(&self, before: i64, limit: i64) -> Result<Vec<PlanRow>>;
        /// The latest plan version made from a proposal.
        fn plan_of_proposal(&self, proposal: &str) -> Result<Option<PlanRow>>;
        /// A proposal's candidate plan: basis, created at, body.
        fn plan_candidate(&self, proposal: &str) -> Result<Option<(Option<i64>, i64, String)>>;
        /// Ids of the proposals still waiting (proposed or approved) whose candidate started
        /// from a version before `version` (or from none), oldest first.
        fn pending_candidates_before(&self, version: i64) -> Result<Vec<String>>;
    }
}

seam! {
    /// The rows of a plan write.
    trait PlanTx for Tx {
        /// Inserts a plan version; false (nothing written) unless the highest stored version
        /// is `version - 1` (another plan was put in force first).
        fn insert_plan_version(&mut self, row: &PlanRow) -> Result<bool>;
        /// Stores a proposal's candidate plan (replacing one stored for it before).
        fn insert_plan_candidate(&mut self, proposal: &str, basis: Option<i64>, at: i64, body: &str) -> Result<()>;
        /// Deletes every plan version and candidate.
        fn clear_plans(&mut self) -> Result<()>;
    }
}

/// A plan version's stored columns; `body` is JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlanRow {
    pub version: i64,
    pub made_at: i64,
    pub made_by: String,
    pub proposal: Option<String>,
    pub basis: Option<i64>,
    pub body: String,
}

// ---------------------------------------------------------------------------------------------
// The read model (the OData surface's queries).

seam! {
    /// Filtered, ordered, windowed and counted reads of the read model's sets.
    trait ReadModelStore for Backend {
        /// The rows (and count, when asked) of one query, translated by the backend with its
        /// values bound, never spliced.
        fn query(&self, query: &crate::query::Query) -> Result<crate::query::Rows>;
    }
}

// ---------------------------------------------------------------------------------------------
// Connectors.

seam! {
    /// Connectors' cursors and dead letters.
    trait ConnectorStore for Backend {
        /// Every connector's cursor row, by name.
        fn connector_cursors(&self) -> Result<Vec<CursorRow>>;
        /// One connector's cursor row.
        fn connector_cursor(&self, connector: &str) -> Result<Option<CursorRow>>;
        /// A connector's dead letters with `seq > after`, oldest first, at most `limit`.
        fn dead_letters(&self, connector: &str, after: i64, limit: i64) -> Result<Vec<DeadLetterRow>>;
        /// The number of dead letters of every connector that has any, by name.
        fn dead_letter_counts(&self) -> Result<Vec<(String, i64)>>;
    }
}

seam! {
    /// The rows a connector's batch writes beside its events.
    trait ConnectorTx for Tx {
        /// Stores the dead letters not stored before (by connector and source id) and, when
        /// given, the connector's new cursor; returns the number of dead letters stored.
        fn write_connector(&mut self, rows: &ConnectorRows) -> Result<u64>;
    }
}

/// A connector's cursor row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CursorRow {
    pub connector: String,
    pub cursor: Option<String>,
    pub last_event_time: Option<i64>,
    pub updated_at: i64,
}

/// A stored dead letter; `raw` is JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeadLetterRow {
    pub seq: i64,
    pub connector: String,
    pub source_id: String,
    pub reason: String,
    pub raw: String,
    pub at: i64,
}

/// What one connector batch writes besides its events.
#[derive(Debug, Clone)]
pub(crate) struct ConnectorRows {
    pub connector: String,
    /// The cursor to resume from (none: keep the stored one).
    pub cursor: Option<String>,
    /// The plant time of the newest event the batch stored (none: keep the stored one).
    pub last_event_time: Option<i64>,
    /// `(source id, reason, raw JSON)`.
    pub dead_letters: Vec<(String, String, String)>,
    pub at: i64,
}

// ---------------------------------------------------------------------------------------------
// Copying a store between databases (`crate::copy`).

seam! {
    /// Whole tables, row for row, for copying a store (`Store::copy_store`).
    trait CopyTx for Tx {
        /// Up to `limit` rows of `table` whose key is past `after`, in key order (every row,
        /// `after` and `limit` ignored, for a table without a single key).
        fn export_rows(
            &mut self,
            table: &'static CopyTable,
            after: Option<Cell>,
            limit: i64,
        ) -> Result<Vec<Vec<Cell>>>;
        /// Inserts rows of `table` as they are (keys included).
        fn import_rows(&mut self, table: &'static CopyTable, rows: &[Vec<Cell>]) -> Result<()>;
        /// The number of rows in `table`.
        fn row_count(&mut self, table: &'static CopyTable) -> Result<i64>;
        /// Puts what the inserts bypassed right (the next value of generated keys).
        fn finish_import(&mut self) -> Result<()>;
    }
}

// ---------------------------------------------------------------------------------------------
// Leadership leases (`crate::lease`).

/// A lease as stored, with the database's clock when it was read.
#[derive(Debug, Clone)]
pub(crate) struct LeaseRow {
    pub epoch: i64,
    pub holder: String,
    /// Unix milliseconds by the database's clock.
    pub expires_at: i64,
    /// The database's clock at the read, unix milliseconds.
    pub now: i64,
}

seam! {
    /// Leases read and changed by the database's clock, each in a statement of its own.
    trait LeaseStore for Backend {
        /// Takes lease `name` for `holder` until `ttl_ms` from now, in a new epoch, when nobody
        /// holds it, it expired, or `holder` itself held it (an earlier run of the same node):
        /// the lease taken, or none when another holder's lease runs.
        fn acquire_lease(&self, name: &str, holder: &str, ttl_ms: i64) -> Result<Option<LeaseRow>>;
        /// Extends `holder`'s lease of `epoch` to `ttl_ms` from now: false when the epoch moved
        /// on (another holder took it).
        fn renew_lease(&self, name: &str, holder: &str, epoch: i64, ttl_ms: i64) -> Result<bool>;
        /// Ends `holder`'s lease of `epoch` now (the next candidate need not wait it out).
        fn release_lease(&self, name: &str, holder: &str, epoch: i64) -> Result<()>;
        /// The lease as it stands.
        fn lease(&self, name: &str) -> Result<Option<LeaseRow>>;
    }
}

seam! {
    /// The fence: a leader's writes check, inside their transaction, that it still leads.
    trait LeaseTx for Tx {
        /// Whether `holder` still holds lease `name` in `epoch`.
        fn holds_lease(&mut self, name: &str, holder: &str, epoch: i64) -> Result<bool>;
    }
}
