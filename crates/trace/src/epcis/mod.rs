//! GS1 EPCIS 2.0: the event model, its lowering into genealogy, and the JSON-LD and XML
//! bindings ([`json`], [`xml`]).
//!
//! All five event types are read (ObjectEvent, AggregationEvent, TransactionEvent,
//! TransformationEvent, AssociationEvent). Identifiers are normalised on the way in
//! ([`crate::id`]), CBV values (`urn:epcglobal:cbv:bizstep:receiving`,
//! `https://ref.gs1.org/cbv/BizStep-receiving`) become their short names (`receiving`), and
//! fields the model does not name but that carry a namespace prefix (`example:myField`) are
//! kept as extensions, so an imported document exports to the same events.
//!
//! Lowering ([`lower`]) follows the standard's meaning:
//!
//! - TransformationEvent: inputs `consumed_into` the transformation (its `transformationID`,
//!   or the event itself), outputs `produced_from` it;
//! - AggregationEvent (ADD/OBSERVE): children `packed_into` the parent; DELETE unpacks and
//!   adds no link;
//! - AssociationEvent (ADD/OBSERVE): children `associated` with the parent;
//! - TransactionEvent (ADD/OBSERVE) and business transactions on any event: a `transaction`
//!   link to each business transaction;
//! - ObjectEvent: commissioning or receiving (ADD, or bizStep `receiving`) is a receipt;
//!   bizStep `shipping` with an owning or possessing party as destination `shipped_to` it;
//! - every event's disposition and `persistentDisposition` become observations of its items;
//! - `errorDeclaration`: an event that declares an error retracts every event with its
//!   `eventID`, including itself; the corrective events named by `correctiveEventIDs` stand on
//!   their own.

pub mod json;
pub mod query;
pub mod xml;

use std::collections::{BTreeMap, BTreeSet};

use model::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::graph::{Edge, EdgeKind, Genealogy, Observation};
use crate::id::{Id, IdKind};

/// The five EPCIS 2.0 event types.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum EventType {
    ObjectEvent,
    AggregationEvent,
    TransactionEvent,
    TransformationEvent,
    AssociationEvent,
}

impl EventType {
    pub const ALL: [EventType; 5] = [
        EventType::ObjectEvent,
        EventType::AggregationEvent,
        EventType::TransactionEvent,
        EventType::TransformationEvent,
        EventType::AssociationEvent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ObjectEvent => "ObjectEvent",
            EventType::AggregationEvent => "AggregationEvent",
            EventType::TransactionEvent => "TransactionEvent",
            EventType::TransformationEvent => "TransformationEvent",
            EventType::AssociationEvent => "AssociationEvent",
        }
    }

    pub fn from_name(text: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// ADD, OBSERVE or DELETE.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Action {
    Add,
    Observe,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Add => "ADD",
            Action::Observe => "OBSERVE",
            Action::Delete => "DELETE",
        }
    }

    pub fn from_name(text: &str) -> Option<Action> {
        match text {
            "ADD" => Some(Action::Add),
            "OBSERVE" => Some(Action::Observe),
            "DELETE" => Some(Action::Delete),
            _ => None,
        }
    }
}

/// A quantity of a class (a lot, a product, an EPC pattern).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct QuantityElement {
    /// Canonical class id.
    pub epc_class: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
}

/// A business transaction (purchase order, despatch advice, invoice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BizTransaction {
    /// CBV short name (`po`) or the URI as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub id: String,
}

/// A source or destination of a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Party {
    /// CBV short name (`owning_party`, `possessing_party`, `location`).
    pub kind: String,
    /// Canonical id.
    pub id: String,
}

/// A declaration that an earlier event with the same eventID was in error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorDeclaration {
    pub declaration_time: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corrective_event_ids: Vec<String>,
}

/// Persistent dispositions set and unset by an event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PersistentDisposition {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unset: Vec<String>,
}

/// One EPCIS 2.0 event of any type, with normalised identifiers and CBV values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EpcisEvent {
    pub event_type: EventType,
    /// The eventID; derived from the content (`urn:mixplane:event:<hash>`) when absent.
    pub event_id: String,
    pub event_time: Timestamp,
    /// `±hh:mm`.
    pub event_time_zone_offset: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certification_info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_declaration: Option<ErrorDeclaration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub epc_list: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub child_epcs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_epc_list: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_epc_list: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quantity_list: Vec<QuantityElement>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub child_quantity_list: Vec<QuantityElement>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_quantity_list: Vec<QuantityElement>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_quantity_list: Vec<QuantityElement>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_disposition: Option<PersistentDisposition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_point: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_location: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub biz_transaction_list: Vec<BizTransaction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_list: Vec<Party>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destination_list: Vec<Party>,
    /// Sensor elements as given (JSON-LD shape).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensor_element_list: Vec<serde_json::Value>,
    /// Instance/lot master data, keyed by prefixed name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ilmd: BTreeMap<String, serde_json::Value>,
    /// User extensions, keyed by prefixed name (`example:myField`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extensions: BTreeMap<String, serde_json::Value>,
}

impl EpcisEvent {
    /// An event of `event_type` at `time` with nothing else set.
    pub fn new(event_type: EventType, event_id: String, event_time: Timestamp) -> EpcisEvent {
        EpcisEvent {
            event_type,
            event_id,
            event_time,
            event_time_zone_offset: "+00:00".into(),
            record_time: None,
            certification_info: None,
            error_declaration: None,
            action: None,
            parent_id: None,
            epc_list: Vec::new(),
            child_epcs: Vec::new(),
            input_epc_list: Vec::new(),
            output_epc_list: Vec::new(),
            quantity_list: Vec::new(),
            child_quantity_list: Vec::new(),
            input_quantity_list: Vec::new(),
            output_quantity_list: Vec::new(),
            transformation_id: None,
            biz_step: None,
            disposition: None,
            persistent_disposition: None,
            read_point: None,
            biz_location: None,
            biz_transaction_list: Vec::new(),
            source_list: Vec::new(),
            destination_list: Vec::new(),
            sensor_element_list: Vec::new(),
            ilmd: BTreeMap::new(),
            extensions: BTreeMap::new(),
        }
    }

    /// Every EPC and class the event mentions (for `MATCH_epc` style queries).
    pub fn all_ids(&self) -> impl Iterator<Item = &str> {
        self.parent_id
            .iter()
            .chain(&self.epc_list)
            .chain(&self.child_epcs)
            .chain(&self.input_epc_list)
            .chain(&self.output_epc_list)
            .map(String::as_str)
            .chain(
                self.quantity_list
                    .iter()
                    .chain(&self.child_quantity_list)
                    .chain(&self.input_quantity_list)
                    .chain(&self.output_quantity_list)
                    .map(|q| q.epc_class.as_str()),
            )
    }
}

/// An EPCIS document: its events and the namespace prefixes it declared.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EpcisDocument {
    pub events: Vec<EpcisEvent>,
    /// Extension prefix → namespace URI (from `@context` or `xmlns:`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub namespaces: BTreeMap<String, String>,
}

/// The CBV vocabularies whose values are shortened on import.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Vocab {
    BizStep,
    Disposition,
    BizTransactionType,
    SourceDestType,
    ErrorReason,
}

impl Vocab {
    fn urn(self) -> &'static str {
        match self {
            Vocab::BizStep => "urn:epcglobal:cbv:bizstep:",
            Vocab::Disposition => "urn:epcglobal:cbv:disp:",
            Vocab::BizTransactionType => "urn:epcglobal:cbv:btt:",
            Vocab::SourceDestType => "urn:epcglobal:cbv:sdt:",
            Vocab::ErrorReason => "urn:epcglobal:cbv:er:",
        }
    }
    fn web(self) -> &'static str {
        match self {
            Vocab::BizStep => "https://ref.gs1.org/cbv/BizStep-",
            Vocab::Disposition => "https://ref.gs1.org/cbv/Disp-",
            Vocab::BizTransactionType => "https://ref.gs1.org/cbv/BTT-",
            Vocab::SourceDestType => "https://ref.gs1.org/cbv/SDT-",
            Vocab::ErrorReason => "https://ref.gs1.org/cbv/ER-",
        }
    }

    /// The short name of a CBV value in any spelling; other values unchanged.
    pub(crate) fn shorten(self, text: &str) -> String {
        let text = text.trim();
        text.strip_prefix(self.urn())
            .or_else(|| text.strip_prefix(self.web()))
            .unwrap_or(text)
            .to_owned()
    }

    /// The URN spelling of a short name (for XML); other values unchanged.
    pub(crate) fn to_urn(self, text: &str) -> String {
        if text.contains(':') {
            text.to_owned()
        } else {
            format!("{}{text}", self.urn())
        }
    }
}

/// Normalises an EPC or class to its canonical id.
pub(crate) fn canonical(text: &str) -> Result<String, String> {
    Id::parse(text).map(|id| id.id).map_err(|e| e.to_string())
}

/// A stable id for an event that has none: a hash of its content.
pub(crate) fn derived_id(event: &EpcisEvent) -> String {
    let text = serde_json::to_string(event).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in text.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("urn:mixplane:event:{h:016x}")
}

fn id_of(text: &str) -> Id {
    // Imported identifiers are canonical already; classify those without re-parsing.
    if let Some(kind) = crate::id::canonical_kind(text) {
        return Id {
            kind,
            id: text.to_owned(),
        };
    }
    Id::parse(text).unwrap_or_else(|_| Id {
        kind: IdKind::Other,
        id: text.to_owned(),
    })
}

/// The eventIDs that events of `events` declare to be in error.
pub fn retracted(events: &[EpcisEvent]) -> BTreeSet<&str> {
    events
        .iter()
        .filter(|e| e.error_declaration.is_some())
        .map(|e| e.event_id.as_str())
        .collect()
}

/// Lowers events into genealogy edges and observations (see the module docs), leaving out
/// every event whose eventID an error declaration retracts.
pub fn lower(events: &[EpcisEvent]) -> Genealogy {
    let retracted = retracted(events);
    let mut out = Genealogy::default();
    for event in events {
        if !retracted.contains(event.event_id.as_str()) {
            lower_one(event, &mut out);
        }
    }
    out
}

fn lower_one(event: &EpcisEvent, out: &mut Genealogy) {
    let time = event.event_time;
    let location = event
        .biz_location
        .as_deref()
        .or(event.read_point.as_deref())
        .map(id_of);
    let edge = |kind, from: Id, to: Id, quantity: Option<f64>, uom: Option<String>| Edge {
        kind,
        from,
        to,
        time,
        location: location.clone(),
        quantity,
        uom,
        event: event.event_id.clone(),
    };
    let linking = event.action != Some(Action::Delete);
    let instances: Vec<(Id, Option<f64>, Option<String>)> = event
        .epc_list
        .iter()
        .chain(&event.child_epcs)
        .map(|e| (id_of(e), None, None))
        .chain(
            event
                .quantity_list
                .iter()
                .chain(&event.child_quantity_list)
                .map(|q| (id_of(&q.epc_class), q.quantity, q.uom.clone())),
        )
        .collect();
    let step = event.biz_step.as_deref().unwrap_or("");

    match event.event_type {
        EventType::TransformationEvent => {
            let node = match &event.transformation_id {
                Some(t) => Id {
                    kind: IdKind::Order,
                    id: id_of(t).id,
                },
                None => Id {
                    kind: IdKind::Order,
                    id: event.event_id.clone(),
                },
            };
            for e in &event.input_epc_list {
                out.edges.push(edge(
                    EdgeKind::ConsumedInto,
                    id_of(e),
                    node.clone(),
                    None,
                    None,
                ));
            }
            for q in &event.input_quantity_list {
                out.edges.push(edge(
                    EdgeKind::ConsumedInto,
                    id_of(&q.epc_class),
                    node.clone(),
                    q.quantity,
                    q.uom.clone(),
                ));
            }
            for e in &event.output_epc_list {
                out.edges.push(edge(
                    EdgeKind::ProducedFrom,
                    node.clone(),
                    id_of(e),
                    None,
                    None,
                ));
            }
            for q in &event.output_quantity_list {
                out.edges.push(edge(
                    EdgeKind::ProducedFrom,
                    node.clone(),
                    id_of(&q.epc_class),
                    q.quantity,
                    q.uom.clone(),
                ));
            }
        }
        EventType::AggregationEvent | EventType::AssociationEvent if linking => {
            if let Some(parent) = &event.parent_id {
                let kind = if event.event_type == EventType::AggregationEvent {
                    EdgeKind::PackedInto
                } else {
                    EdgeKind::Associated
                };
                for (child, q, uom) in &instances {
                    out.edges
                        .push(edge(kind, child.clone(), id_of(parent), *q, uom.clone()));
                }
            }
        }
        EventType::ObjectEvent => {
            let receipt = event.action == Some(Action::Add) || step == "receiving";
            if step == "shipping" && linking {
                let customer = event
                    .destination_list
                    .iter()
                    .find(|p| p.kind == "owning_party")
                    .or_else(|| {
                        event
                            .destination_list
                            .iter()
                            .find(|p| p.kind == "possessing_party")
                    });
                if let Some(customer) = customer {
                    let to = Id {
                        kind: IdKind::Customer,
                        id: id_of(&customer.id).id,
                    };
                    for (item, q, uom) in &instances {
                        out.edges.push(edge(
                            EdgeKind::ShippedTo,
                            item.clone(),
                            to.clone(),
                            *q,
                            uom.clone(),
                        ));
                    }
                }
            }
            if receipt {
                for (item, q, uom) in &instances {
                    let mut obs = Observation::new(item.clone(), time, &event.event_id);
                    obs.received = Some(q.unwrap_or(1.0));
                    obs.uom = uom.clone();
                    out.observations.push(obs);
                }
            }
        }
        _ => {}
    }

    // Business transactions link the event's items (TransactionEvent: its whole point).
    if linking && !event.biz_transaction_list.is_empty() {
        let items: Vec<Id> = match event.event_type {
            EventType::TransformationEvent => event
                .output_epc_list
                .iter()
                .map(|e| id_of(e))
                .chain(
                    event
                        .output_quantity_list
                        .iter()
                        .map(|q| id_of(&q.epc_class)),
                )
                .collect(),
            EventType::AggregationEvent | EventType::AssociationEvent => {
                event.parent_id.iter().map(|p| id_of(p)).collect()
            }
            _ => instances
                .iter()
                .map(|(i, _, _)| i.clone())
                .chain(event.parent_id.iter().map(|p| id_of(p)))
                .collect(),
        };
        for bt in &event.biz_transaction_list {
            let to = Id {
                kind: IdKind::Order,
                id: id_of(&bt.id).id,
            };
            for item in &items {
                out.edges.push(edge(
                    EdgeKind::Transaction,
                    item.clone(),
                    to.clone(),
                    None,
                    None,
                ));
            }
        }
    }

    // Dispositions of the event's items.
    let observed: Vec<Id> = match event.event_type {
        EventType::TransformationEvent => event
            .output_epc_list
            .iter()
            .map(|e| id_of(e))
            .chain(
                event
                    .output_quantity_list
                    .iter()
                    .map(|q| id_of(&q.epc_class)),
            )
            .collect(),
        _ => instances
            .into_iter()
            .map(|(i, _, _)| i)
            .chain(event.parent_id.iter().map(|p| id_of(p)))
            .collect(),
    };
    let persistent = event.persistent_disposition.clone().unwrap_or_default();
    if event.disposition.is_some() || !persistent.set.is_empty() || !persistent.unset.is_empty() {
        for item in observed {
            let mut obs = Observation::new(item, time, &event.event_id);
            obs.disposition = event.disposition.clone();
            obs.persistent_set = persistent.set.clone();
            obs.persistent_unset = persistent.unset.clone();
            out.observations.push(obs);
        }
    }
}
