//! The plain data types of the store's interface: who writes, what a write did, filters,
//! pages, stored events, counts and audit records.
//!
//! None of them mentions a database backend, so callers stay the same whichever backend a
//! [`crate::Store`] runs on.

use std::collections::BTreeMap;

use model::{Event, Mode, OrderStatus, Timestamp};
use serde::{Deserialize, Serialize};

/// What kind of party performed a write.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Person,
    Service,
    Agent,
    System,
}

model::wire_enum!(ActorKind, "actor kind", [Person, Service, Agent, System]);

/// Who performed a write; recorded in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Actor {
    pub kind: ActorKind,
    /// A user name, a service name with version (`sim/0.1.0`), an agent id.
    pub id: String,
}

impl Actor {
    pub fn new(kind: ActorKind, id: impl Into<String>) -> Actor {
        Actor {
            kind,
            id: id.into(),
        }
    }

    pub fn person(id: impl Into<String>) -> Actor {
        Actor::new(ActorKind::Person, id)
    }

    pub fn service(id: impl Into<String>) -> Actor {
        Actor::new(ActorKind::Service, id)
    }

    pub fn agent(id: impl Into<String>) -> Actor {
        Actor::new(ActorKind::Agent, id)
    }

    pub fn system(id: impl Into<String>) -> Actor {
        Actor::new(ActorKind::System, id)
    }
}

/// What one [`crate::Store::append`] did.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct AppendOutcome {
    /// Events newly stored.
    pub inserted: usize,
    /// Events skipped because the same id with identical content was already stored (or came
    /// earlier in the same batch).
    pub duplicates: usize,
    /// Log sequence numbers of the first and last stored event; none when nothing was stored.
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
}

/// Which orders [`crate::Store::orders`] returns; results are ordered by order id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderFilter {
    pub mode: Option<Mode>,
    pub status: Option<OrderStatus>,
    /// At most this many items (capped at [`crate::MAX_PAGE`]); default 100.
    pub limit: u32,
    pub offset: u32,
}

impl Default for OrderFilter {
    fn default() -> Self {
        OrderFilter {
            mode: None,
            status: None,
            limit: 100,
            offset: 0,
        }
    }
}

/// One page of a longer result, with the total number of matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Matches across all pages.
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// Which events [`crate::Store::events`] returns; results are in log order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventFilter {
    /// Event type wire names (`order_released`, …); all types when empty.
    pub types: Vec<String>,
    /// Plant time, inclusive.
    pub from: Option<Timestamp>,
    /// Plant time, exclusive.
    pub to: Option<Timestamp>,
    /// Only events stored after this log sequence number (for paging and tailing).
    pub after_seq: Option<i64>,
    /// At most this many (capped at [`crate::MAX_PAGE`]); default 1000.
    pub limit: u32,
}

impl Default for EventFilter {
    fn default() -> Self {
        EventFilter {
            types: Vec::new(),
            from: None,
            to: None,
            after_seq: None,
            limit: 1000,
        }
    }
}

/// An event as stored in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoredEvent {
    /// Position in the log, from 1, strictly increasing in storage order.
    pub seq: i64,
    /// When the store committed it (wall clock), as opposed to `event.time` (plant time).
    pub recorded_at: Timestamp,
    pub event: Event,
}

/// Sizes of the log and the projections.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Counts {
    /// Events in the log.
    pub events: u64,
    /// Orders by mode and status (only non-zero cells are present).
    pub orders_by_mode_status: BTreeMap<Mode, BTreeMap<OrderStatus, u64>>,
    pub lots: u64,
    pub serials: u64,
    /// Quality results recorded, over all characteristics.
    pub quality_results: u64,
}

/// Which audit records to read ([`crate::Store::audit_search`]).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Records with `seq > after_seq`; newest first, records with `seq < after_seq`
    /// (`i64::MAX` for the newest).
    pub after_seq: i64,
    pub limit: u32,
    /// Newest first instead of in order.
    pub newest_first: bool,
    /// The actor's id, exactly.
    pub actor: Option<String>,
    /// The start of the action: `proposal.` matches `proposal.create`, `proposal.approve`, ….
    pub action: Option<String>,
    /// Written at or after this instant.
    pub from: Option<Timestamp>,
    /// Written before this instant.
    pub to: Option<Timestamp>,
}

/// One record of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuditRecord {
    /// Position in the trail, from 1 without gaps.
    pub seq: i64,
    /// Wall-clock time of the write.
    pub at: Timestamp,
    pub actor: Actor,
    /// `plant.put`, `events.append`, `store.reset`, `projections.rebuild`.
    pub action: String,
    /// What was written: `plant:v3`, `events:101-200`.
    pub subject: String,
    /// Action-specific facts, such as counts and a digest of the stored events.
    pub detail: serde_json::Value,
    /// The previous record's hash; 64 zeros for the first record.
    pub prev_hash: String,
    /// SHA-256 (hex) over `prev_hash` and the canonical form of this record's fields.
    pub hash: String,
}

/// How a record breaks the audit chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditFault {
    /// The stored hash does not match the record's fields: it was altered, or moved to
    /// another position.
    Altered,
    /// A gap in the sequence numbers before this record: records were removed.
    Removed,
    /// `prev_hash` does not match the previous record's hash: a record was inserted, removed or
    /// reordered before this one (with its hash recomputed).
    Relinked,
    /// The trail no longer holds, as it was, the last record this process wrote or read:
    /// records were removed from the end, or the trail was rewritten from there.
    Head,
    /// A field cannot be read (an unknown actor kind, detail that is not JSON).
    Unreadable,
}

/// The first record at which the audit chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuditBreak {
    pub seq: i64,
    pub fault: AuditFault,
    pub message: String,
}

/// Result of [`crate::Store::verify_audit`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuditReport {
    /// Records checked.
    pub records: u64,
    /// Hash of the last record, to anchor outside the database; none for an empty trail.
    pub head_hash: Option<String>,
    /// The first bad record; none when the whole chain verifies.
    pub first_bad: Option<AuditBreak>,
}

impl AuditReport {
    /// True when every record verifies.
    pub fn is_intact(&self) -> bool {
        self.first_bad.is_none()
    }
}
