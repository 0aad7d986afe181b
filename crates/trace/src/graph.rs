//! The genealogy as plain data: edges between identifiers and observations of single items.
//!
//! Every source (EPCIS events, B2MML material actuals, the simulator's material events)
//! lowers into the same two records, so the index and the queries never know where a link
//! came from:
//!
//! - an [`Edge`] goes **downstream**, from what was there first to what came of it:
//!   `lot ─consumed_into→ order`, `order ─produced_from→ serial` (read: the serial was
//!   produced from the order), `serial ─packed_into→ pallet`, `pallet ─shipped_to→ customer`,
//!   `item ─transaction→ purchase order`, `sensor ─associated→ asset`; each with the time
//!   and location it happened and, where known, a quantity and unit of measure;
//! - an [`Observation`] records what was seen of one item without linking it to another:
//!   a receipt (with quantity), a disposition (`in_progress`, `non_conformant`, …), a
//!   persistent disposition set or unset;
//! - a [`Removal`] ends a packed-into or associated link from a time on (unpacking).

use model::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::id::Id;

/// How two identifiers are linked. The edge always points downstream.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// An input lot or serial was consumed into an order or transformation.
    ConsumedInto,
    /// An output lot or serial was produced from an order or transformation.
    ProducedFrom,
    /// A child item was packed into a parent (case, pallet): aggregation.
    PackedInto,
    /// An item left for a customer.
    ShippedTo,
    /// An item took part in a business transaction (purchase order, despatch advice).
    Transaction,
    /// A child (sensor, component) was associated with a parent asset.
    Associated,
}

model::wire_enum!(
    EdgeKind,
    "edge kind",
    [
        ConsumedInto,
        ProducedFrom,
        PackedInto,
        ShippedTo,
        Transaction,
        Associated
    ]
);

impl EdgeKind {
    pub(crate) fn from_u8(value: u8) -> EdgeKind {
        EdgeKind::ALL
            .get(value as usize)
            .copied()
            .unwrap_or(EdgeKind::Associated)
    }
}

/// One downstream link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Edge {
    pub kind: EdgeKind,
    /// Upstream end.
    pub from: Id,
    /// Downstream end.
    pub to: Id,
    pub time: Timestamp,
    /// Where it happened: a unit, a read point or business location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Id>,
    /// Quantity that moved along the edge (consumed, produced, packed, shipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// The id of the event that established the link.
    pub event: String,
}

/// Something seen of one item that links it to nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Observation {
    pub item: Id,
    pub time: Timestamp,
    /// A receipt (purchased material, goods received) of this quantity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// The item's disposition from now on (CBV short name, e.g. `non_conformant`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
    /// Persistent dispositions set and unset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub persistent_set: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub persistent_unset: Vec<String>,
    pub event: String,
}

impl Observation {
    /// An observation of `item` with nothing in it yet.
    pub fn new(item: Id, time: Timestamp, event: &str) -> Observation {
        Observation {
            item,
            time,
            received: None,
            uom: None,
            disposition: None,
            persistent_set: Vec::new(),
            persistent_unset: Vec::new(),
            event: event.to_owned(),
        }
    }
}

/// The end of a packing or association (an EPCIS AggregationEvent or AssociationEvent with
/// action DELETE): from `time` on, `child` is no longer linked by `kind` to `parent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Removal {
    /// `packed_into` or `associated`.
    pub kind: EdgeKind,
    /// The child taken out; `None` for every child of the parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child: Option<Id>,
    pub parent: Id,
    pub time: Timestamp,
    /// The id of the event that ended the link.
    pub event: String,
}

/// Edges, observations and removals from any number of sources, ready to index.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Genealogy {
    pub edges: Vec<Edge>,
    pub observations: Vec<Observation>,
    /// Links ended later (unpacking); the index keeps the edge and records its end.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removals: Vec<Removal>,
}

impl Genealogy {
    pub fn extend(&mut self, other: Genealogy) {
        self.edges.extend(other.edges);
        self.observations.extend(other.observations);
        self.removals.extend(other.removals);
    }
}

/// Dispositions that put an item on hold: it may not ship until released.
pub const HOLD_DISPOSITIONS: [&str; 8] = [
    "non_conformant",
    "recalled",
    "needs_replacement",
    "non_sellable_other",
    "damaged",
    "expired",
    "stolen",
    "on_hold",
];

/// Whether a disposition (CBV short name) is a hold.
pub fn is_hold(disposition: &str) -> bool {
    HOLD_DISPOSITIONS.contains(&disposition)
}
