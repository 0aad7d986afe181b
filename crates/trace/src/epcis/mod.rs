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
//! - AggregationEvent (ADD/OBSERVE): children `packed_into` the parent; DELETE unpacks: the
//!   named children (every child, when none is named) leave the parent from that time on
//!   (a [`Removal`]; the index ends the earlier links, see [`crate::Index::reach`]);
//! - AssociationEvent (ADD/OBSERVE): children `associated` with the parent; DELETE ends the
//!   association the same way;
//! - TransactionEvent (ADD/OBSERVE) and business transactions on any event: a `transaction`
//!   link to each business transaction;
//! - ObjectEvent: commissioning or receiving (ADD, or bizStep `receiving`) is a receipt;
//!   bizStep `shipping` with an owning or possessing party as destination `shipped_to` it;
//! - every event's disposition and `persistentDisposition` become observations of its items;
//! - `errorDeclaration`: an event that declares an error retracts every event with its
//!   `eventID`, including itself; the corrective events named by `correctiveEventIDs` stand on
//!   their own.

/// Implements `Deserialize` for a record read from a JSON object only (serde's derived
/// structs would also take an array), by a body run for each key (`$key`, read as the
/// one-field string wrapper `$keyty`: a borrowing one makes a key with escapes an error).
/// The body may keep a bit set of the fields seen (`$seen`, to refuse one seen twice), and a
/// `finish` block may check the record read (`$fin`) before it is returned.
macro_rules! json_object {
    ($ty:ident, $what:literal, $keyty:ident, |$map:ident, $key:ident, $out:ident| $body:block) => {
        $crate::epcis::json_object!(
            $ty,
            $what,
            $keyty,
            |$map, $key, _seen, $out| $body,
            |record| { Ok(record) }
        );
    };
    ($ty:ident, $what:literal, $keyty:ident, |$map:ident, $key:ident, $seen:ident, $out:ident| $body:block, |$fin:ident| $finish:block) => {
        impl<'de> serde::de::Deserialize<'de> for $ty<'de> {
            fn deserialize<D: serde::de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $ty<'de>;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_map<M: serde::de::MapAccess<'de>>(
                        self,
                        mut $map: M,
                    ) -> Result<Self::Value, M::Error> {
                        let mut $out = $ty::default();
                        let mut $seen = 0u64;
                        let _ = &mut $seen;
                        while let Some($keyty($key)) = $map.next_key::<$keyty<'de>>()? {
                            $body
                        }
                        let $fin = $out;
                        $finish
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}
pub(crate) use json_object;

pub mod conformance;
pub mod fast;
pub mod json;
pub mod query;
pub mod retraction;
pub mod xml;

/// A sensor report's numeric fields (EPCIS 2.0 `sensorReport`: `xsd:double` in the XSD, numbers
/// in the JSON schema): the XML reader types them, the conformance rules check them.
pub(crate) const SENSOR_NUMBERS: [&str; 7] = [
    "value",
    "minValue",
    "maxValue",
    "meanValue",
    "sDev",
    "percRank",
    "percValue",
];

pub use retraction::{Retraction, retractions};

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use model::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::graph::{Edge, EdgeKind, Genealogy, Observation, Removal};
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

model::wire_enum!(
    EventType,
    "EPCIS event type",
    [
        ObjectEvent,
        AggregationEvent,
        TransactionEvent,
        TransformationEvent,
        AssociationEvent
    ]
);

impl EventType {
    /// The type named `text` (its wire name), if any.
    pub fn from_name(text: &str) -> Option<EventType> {
        text.parse().ok()
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

model::wire_enum!(Action, "action", [Add, Observe, Delete]);

impl Action {
    /// The action named `text` (`ADD`, `OBSERVE`, `DELETE`), if any.
    pub fn from_name(text: &str) -> Option<Action> {
        text.parse().ok()
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

impl PersistentDisposition {
    /// Whether it sets or unsets anything (the schema asks one that is there to).
    pub fn says_something(&self) -> bool {
        !self.set.is_empty() || !self.unset.is_empty()
    }
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
        self.shorten_str(text).to_owned()
    }

    /// [`Vocab::shorten`], borrowed.
    pub(crate) fn shorten_str(self, text: &str) -> &str {
        // Every prefix, however often it is repeated: what is read once reads the same when
        // written and read again (`fuzz/FINDINGS.md`, finding 1).
        let mut text = text.trim();
        while let Some(rest) = text
            .strip_prefix(self.urn())
            .or_else(|| text.strip_prefix(self.web()))
        {
            text = rest;
        }
        text
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

/// An identifier on its way into the genealogy: kind and canonical text.
#[derive(Debug, Clone)]
pub(crate) struct NodeRef<'a> {
    pub kind: IdKind,
    pub id: Cow<'a, str>,
}

impl<'a> NodeRef<'a> {
    fn with_kind(self, kind: IdKind) -> NodeRef<'a> {
        NodeRef { kind, id: self.id }
    }

    fn to_id(&self) -> Id {
        Id {
            kind: self.kind,
            id: self.id.clone().into_owned(),
        }
    }
}

fn id_of<'a>(text: &'a str) -> NodeRef<'a> {
    // Imported identifiers are canonical already; classify those without re-parsing.
    if let Some(kind) = crate::id::canonical_kind(text) {
        return NodeRef {
            kind,
            id: Cow::Borrowed(text),
        };
    }
    match Id::parse(text) {
        Ok(id) if id.id == text => NodeRef {
            kind: id.kind,
            id: Cow::Borrowed(text),
        },
        Ok(id) => NodeRef {
            kind: id.kind,
            id: Cow::Owned(id.id),
        },
        Err(_) => NodeRef {
            kind: IdKind::Other,
            id: Cow::Borrowed(text),
        },
    }
}

/// The eventIDs that events of `events` declare to be in error.
pub fn retracted(events: &[EpcisEvent]) -> BTreeSet<&str> {
    events
        .iter()
        .filter(|e| e.error_declaration.is_some())
        .map(|e| e.event_id.as_str())
        .collect()
}

/// A quantity element as lowering sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QuantityView<'a> {
    pub class: &'a str,
    pub quantity: Option<f64>,
    pub uom: Option<&'a str>,
}

/// What lowering reads of one event: borrowed, canonical ids and short CBV names. Both the
/// full model ([`EpcisEvent`]) and the JSON-LD fast path ([`fast`]) produce it, so there is
/// one lowering.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventView<'a> {
    pub event_type: Option<EventType>,
    pub event_id: &'a str,
    pub time: Timestamp,
    pub action: Option<Action>,
    pub declares_error: bool,
    pub parent: Option<&'a str>,
    pub epcs: Vec<&'a str>,
    pub children: Vec<&'a str>,
    pub inputs: Vec<&'a str>,
    pub outputs: Vec<&'a str>,
    pub quantities: Vec<QuantityView<'a>>,
    pub child_quantities: Vec<QuantityView<'a>>,
    pub input_quantities: Vec<QuantityView<'a>>,
    pub output_quantities: Vec<QuantityView<'a>>,
    pub transformation_id: Option<&'a str>,
    pub biz_step: Option<&'a str>,
    pub disposition: Option<&'a str>,
    pub persistent_set: Vec<&'a str>,
    pub persistent_unset: Vec<&'a str>,
    /// The business location, else the read point.
    pub location: Option<&'a str>,
    pub biz_transactions: Vec<&'a str>,
    /// (type, id) of each destination.
    pub destinations: Vec<(&'a str, &'a str)>,
}

impl<'a> EventView<'a> {
    pub(crate) fn of(e: &'a EpcisEvent) -> EventView<'a> {
        let quantities = |list: &'a [QuantityElement]| {
            list.iter()
                .map(|q| QuantityView {
                    class: &q.epc_class,
                    quantity: q.quantity,
                    uom: q.uom.as_deref(),
                })
                .collect()
        };
        let strs = |list: &'a [String]| list.iter().map(String::as_str).collect();
        EventView {
            event_type: Some(e.event_type),
            event_id: &e.event_id,
            time: e.event_time,
            action: e.action,
            declares_error: e.error_declaration.is_some(),
            parent: e.parent_id.as_deref(),
            epcs: strs(&e.epc_list),
            children: strs(&e.child_epcs),
            inputs: strs(&e.input_epc_list),
            outputs: strs(&e.output_epc_list),
            quantities: quantities(&e.quantity_list),
            child_quantities: quantities(&e.child_quantity_list),
            input_quantities: quantities(&e.input_quantity_list),
            output_quantities: quantities(&e.output_quantity_list),
            transformation_id: e.transformation_id.as_deref(),
            biz_step: e.biz_step.as_deref(),
            disposition: e.disposition.as_deref(),
            persistent_set: e
                .persistent_disposition
                .as_ref()
                .map_or_else(Vec::new, |p| strs(&p.set)),
            persistent_unset: e
                .persistent_disposition
                .as_ref()
                .map_or_else(Vec::new, |p| strs(&p.unset)),
            location: e.biz_location.as_deref().or(e.read_point.as_deref()),
            biz_transactions: e
                .biz_transaction_list
                .iter()
                .map(|b| b.id.as_str())
                .collect(),
            destinations: e
                .destination_list
                .iter()
                .map(|p| (p.kind.as_str(), p.id.as_str()))
                .collect(),
        }
    }

    /// Parent-less items of the event: `epcList`, `childEPCs`, then the quantity lists.
    fn instances(&self) -> impl Iterator<Item = (&'a str, Option<f64>, Option<&'a str>)> + '_ {
        self.epcs
            .iter()
            .chain(&self.children)
            .map(|e| (*e, None, None))
            .chain(
                self.quantities
                    .iter()
                    .chain(&self.child_quantities)
                    .map(|q| (q.class, q.quantity, q.uom)),
            )
    }

    /// Outputs of a transformation: `outputEPCList`, then `outputQuantityList`.
    fn output_ids(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.outputs
            .iter()
            .copied()
            .chain(self.output_quantities.iter().map(|q| q.class))
    }
}

/// Where lowering puts what it finds; `'a` is the lifetime of the events' text.
pub(crate) trait Sink<'a> {
    #[allow(clippy::too_many_arguments)]
    fn edge(
        &mut self,
        kind: EdgeKind,
        from: &NodeRef<'a>,
        to: &NodeRef<'a>,
        time: Timestamp,
        location: Option<&NodeRef<'a>>,
        quantity: Option<f64>,
        uom: Option<&'a str>,
        event: &'a str,
    );

    /// `received` is a receipt's quantity and unit.
    #[allow(clippy::too_many_arguments)]
    fn observation(
        &mut self,
        item: &NodeRef<'a>,
        time: Timestamp,
        event: &'a str,
        received: Option<(f64, Option<&'a str>)>,
        disposition: Option<&'a str>,
        persistent_set: &[&'a str],
        persistent_unset: &[&'a str],
    );

    /// An unpacking: `child` (every child, when `None`) is no longer linked by `kind` to
    /// `parent` from `time` on.
    fn removal(
        &mut self,
        kind: EdgeKind,
        child: Option<&NodeRef<'a>>,
        parent: &NodeRef<'a>,
        time: Timestamp,
        event: &'a str,
    );
}

impl<'a> Sink<'a> for Genealogy {
    fn edge(
        &mut self,
        kind: EdgeKind,
        from: &NodeRef<'a>,
        to: &NodeRef<'a>,
        time: Timestamp,
        location: Option<&NodeRef<'a>>,
        quantity: Option<f64>,
        uom: Option<&'a str>,
        event: &'a str,
    ) {
        self.edges.push(Edge {
            kind,
            from: from.to_id(),
            to: to.to_id(),
            time,
            location: location.map(NodeRef::to_id),
            quantity,
            uom: uom.map(str::to_owned),
            event: event.to_owned(),
        });
    }

    fn observation(
        &mut self,
        item: &NodeRef<'a>,
        time: Timestamp,
        event: &'a str,
        received: Option<(f64, Option<&'a str>)>,
        disposition: Option<&'a str>,
        persistent_set: &[&'a str],
        persistent_unset: &[&'a str],
    ) {
        let mut obs = Observation::new(item.to_id(), time, event);
        if let Some((q, uom)) = received {
            obs.received = Some(q);
            obs.uom = uom.map(str::to_owned);
        }
        obs.disposition = disposition.map(str::to_owned);
        obs.persistent_set = persistent_set.iter().map(|s| (*s).to_owned()).collect();
        obs.persistent_unset = persistent_unset.iter().map(|s| (*s).to_owned()).collect();
        self.observations.push(obs);
    }

    fn removal(
        &mut self,
        kind: EdgeKind,
        child: Option<&NodeRef<'a>>,
        parent: &NodeRef<'a>,
        time: Timestamp,
        event: &'a str,
    ) {
        self.removals.push(Removal {
            kind,
            child: child.map(NodeRef::to_id),
            parent: parent.to_id(),
            time,
            event: event.to_owned(),
        });
    }
}

/// Lowers events into genealogy edges and observations (see the module docs), leaving out
/// every event whose eventID an error declaration retracts.
pub fn lower(events: &[EpcisEvent]) -> Genealogy {
    let views: Vec<EventView<'_>> = events.iter().map(EventView::of).collect();
    let mut out = Genealogy::default();
    lower_views(&views, &mut out);
    out
}

/// [`lower`] on views, into any sink.
pub(crate) fn lower_views<'a>(events: &[EventView<'a>], out: &mut impl Sink<'a>) {
    lower_views_with(events, &retracted_views(events), out);
}

/// [`retracted`] of event views.
pub(crate) fn retracted_views<'a>(events: &[EventView<'a>]) -> BTreeSet<&'a str> {
    events
        .iter()
        .filter(|e| e.declares_error)
        .map(|e| e.event_id)
        .collect()
}

/// [`lower_views`] on some of a document's events, with the eventIDs the whole document
/// retracts.
pub(crate) fn lower_views_with<'a>(
    events: &[EventView<'a>],
    retracted: &BTreeSet<&str>,
    out: &mut impl Sink<'a>,
) {
    for event in events {
        if retracted.is_empty() || !retracted.contains(event.event_id) {
            lower_one(event, out);
        }
    }
}

fn lower_one<'a>(event: &EventView<'a>, out: &mut impl Sink<'a>) {
    let Some(event_type) = event.event_type else {
        return;
    };
    let location = event.location.map(id_of);
    let location = location.as_ref();
    let linking = event.action != Some(Action::Delete);
    let step = event.biz_step.unwrap_or("");

    match event_type {
        EventType::TransformationEvent => lower_transformation(event, location, out),
        EventType::AggregationEvent | EventType::AssociationEvent => {
            lower_containment(event, event_type, location, linking, out)
        }
        EventType::ObjectEvent => lower_object(event, location, linking, step, out),
        _ => {}
    }
    if linking {
        lower_transactions(event, event_type, location, out);
    }
    lower_dispositions(event, event_type, out);
}

/// A transformation: inputs are consumed into its node (the transformation id, else the event
/// as an order), and outputs are produced from it.
fn lower_transformation<'a>(
    event: &EventView<'a>,
    location: Option<&NodeRef<'a>>,
    out: &mut impl Sink<'a>,
) {
    let time = event.time;
    let id = event.event_id;
    let node = match event.transformation_id {
        Some(t) => id_of(t),
        None => NodeRef {
            kind: IdKind::Order,
            id: Cow::Borrowed(id),
        },
    };
    let node = node.with_kind(IdKind::Order);
    for &e in &event.inputs {
        let from = id_of(e);
        out.edge(
            EdgeKind::ConsumedInto,
            &from,
            &node,
            time,
            location,
            None,
            None,
            id,
        );
    }
    for q in &event.input_quantities {
        let from = id_of(q.class);
        out.edge(
            EdgeKind::ConsumedInto,
            &from,
            &node,
            time,
            location,
            q.quantity,
            q.uom,
            id,
        );
    }
    for &e in &event.outputs {
        let to = id_of(e);
        out.edge(
            EdgeKind::ProducedFrom,
            &node,
            &to,
            time,
            location,
            None,
            None,
            id,
        );
    }
    for q in &event.output_quantities {
        let to = id_of(q.class);
        out.edge(
            EdgeKind::ProducedFrom,
            &node,
            &to,
            time,
            location,
            q.quantity,
            q.uom,
            id,
        );
    }
}

/// An aggregation or association: children are packed into (or associated with) the parent;
/// a DELETE removes them.
fn lower_containment<'a>(
    event: &EventView<'a>,
    event_type: EventType,
    location: Option<&NodeRef<'a>>,
    linking: bool,
    out: &mut impl Sink<'a>,
) {
    let time = event.time;
    let id = event.event_id;
    if let Some(parent) = event.parent {
        let kind = if event_type == EventType::AggregationEvent {
            EdgeKind::PackedInto
        } else {
            EdgeKind::Associated
        };
        let parent = id_of(parent);
        if linking {
            for (child, q, uom) in event.instances() {
                out.edge(kind, &id_of(child), &parent, time, location, q, uom, id);
            }
        } else {
            // DELETE: the children (all of them, when none is named) leave the parent.
            let mut any = false;
            for (child, _, _) in event.instances() {
                any = true;
                out.removal(kind, Some(&id_of(child)), &parent, time, id);
            }
            if !any {
                out.removal(kind, None, &parent, time, id);
            }
        }
    }
}

/// An object event: a shipment links its items to the customer; a receipt observes them with
/// their quantities.
fn lower_object<'a>(
    event: &EventView<'a>,
    location: Option<&NodeRef<'a>>,
    linking: bool,
    step: &str,
    out: &mut impl Sink<'a>,
) {
    let time = event.time;
    let id = event.event_id;
    let receipt = event.action == Some(Action::Add) || step == "receiving";
    if step == "shipping" && linking {
        let customer = event
            .destinations
            .iter()
            .find(|p| p.0 == "owning_party")
            .or_else(|| {
                event
                    .destinations
                    .iter()
                    .find(|p| p.0 == "possessing_party")
            });
        if let Some(&(_, customer)) = customer {
            let to = id_of(customer);
            let to = to.with_kind(IdKind::Customer);
            for (item, q, uom) in event.instances() {
                out.edge(
                    EdgeKind::ShippedTo,
                    &id_of(item),
                    &to,
                    time,
                    location,
                    q,
                    uom,
                    id,
                );
            }
        }
    }
    if receipt {
        for (item, q, uom) in event.instances() {
            out.observation(
                &id_of(item),
                time,
                id,
                Some((q.unwrap_or(1.0), uom)),
                None,
                &[],
                &[],
            );
        }
    }
}

/// Business transactions link the event's items (TransactionEvent: its whole point).
fn lower_transactions<'a>(
    event: &EventView<'a>,
    event_type: EventType,
    location: Option<&NodeRef<'a>>,
    out: &mut impl Sink<'a>,
) {
    let time = event.time;
    let id = event.event_id;
    if !event.biz_transactions.is_empty() {
        let items: Vec<NodeRef<'a>> = match event_type {
            EventType::TransformationEvent => event.output_ids().map(id_of).collect(),
            EventType::AggregationEvent | EventType::AssociationEvent => {
                event.parent.into_iter().map(id_of).collect()
            }
            _ => event
                .instances()
                .map(|(i, _, _)| id_of(i))
                .chain(event.parent.map(id_of))
                .collect(),
        };
        for &bt in &event.biz_transactions {
            let to = id_of(bt);
            let to = to.with_kind(IdKind::Order);
            for item in &items {
                out.edge(
                    EdgeKind::Transaction,
                    item,
                    &to,
                    time,
                    location,
                    None,
                    None,
                    id,
                );
            }
        }
    }
}

/// Dispositions of the event's items.
fn lower_dispositions<'a>(event: &EventView<'a>, event_type: EventType, out: &mut impl Sink<'a>) {
    let time = event.time;
    let id = event.event_id;
    if event.disposition.is_some()
        || !event.persistent_set.is_empty()
        || !event.persistent_unset.is_empty()
    {
        let observed: Vec<&str> = match event_type {
            EventType::TransformationEvent => event.output_ids().collect(),
            _ => event
                .instances()
                .map(|(i, _, _)| i)
                .chain(event.parent)
                .collect(),
        };
        for item in observed {
            out.observation(
                &id_of(item),
                time,
                id,
                None,
                event.disposition,
                &event.persistent_set,
                &event.persistent_unset,
            );
        }
    }
}
