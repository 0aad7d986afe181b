//! Everything that happens in the plant arrives as an [`Event`].
//!
//! Events are facts: the store appends them once (idempotent by [`EventId`]) and never edits
//! them; current state is a fold over them ([`crate::state::PlantState`]).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::*;
use crate::plant::{Priority, ProductionOrder};
use crate::time::Timestamp;

/// One fact with its identity, time and origin. A field that neither the envelope nor the
/// event's type defines is refused, naming the field and the type.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(extend("unevaluatedProperties" = false))]
pub struct Event {
    /// Unique across the log; ingesting the same id twice stores it once.
    pub id: EventId,
    /// When it happened in the plant (not when it was stored).
    pub time: Timestamp,
    /// The system that reported it: `sim`, `opcenter`, `mqtt:line-3`, a user.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(flatten)]
    pub kind: EventKind,
}

// Serde refuses unknown fields only in a type that is not flattened, and `Event` flattens
// its kind: so the envelope (`id`, `time`, `source`) is taken out of the object here and the
// rest is read as an `EventKind`, which refuses what its variant does not define (a mistyped
// `duee` would otherwise make an event that changes nothing).
impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Event, D::Error> {
        use serde::de::Error;
        let mut fields = serde_json::Map::<String, Value>::deserialize(deserializer)?;
        // The envelope is read first, in the order of its fields, as the derived reader did.
        let named = match fields.get("type").and_then(Value::as_str) {
            Some(kind) => format!("`{kind}` event: "),
            None => String::new(),
        };
        let in_event = |field: &str, e: serde_json::Error| {
            D::Error::custom(format!("{named}field `{field}`: {e}"))
        };
        let id = fields
            .remove("id")
            .ok_or_else(|| D::Error::missing_field("id"))?;
        let id = EventId::deserialize(id).map_err(|e| in_event("id", e))?;
        let time = fields
            .remove("time")
            .ok_or_else(|| D::Error::missing_field("time"))?;
        let time = Timestamp::deserialize(time).map_err(|e| in_event("time", e))?;
        let source = match fields.remove("source") {
            None => None,
            Some(source) => {
                Option::<String>::deserialize(source).map_err(|e| in_event("source", e))?
            }
        };
        let kind = match fields.get("type") {
            Some(Value::String(kind)) => kind.clone(),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "field `type`: expected the event type as a string, found {other}"
                )));
            }
            None => return Err(D::Error::missing_field("type")),
        };
        let kind = EventKind::deserialize(Value::Object(fields))
            .map_err(|e| D::Error::custom(format!("`{kind}` event: {e}")))?;
        Ok(Event {
            id,
            time,
            source,
            kind,
        })
    }
}

/// The state an equipment unit reports.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EquipmentState {
    Running,
    Idle,
    Setup,
    Cleaning,
    Down,
}

crate::wire_enum!(
    EquipmentState,
    "equipment state",
    [Running, Idle, Setup, Cleaning, Down]
);

/// What happened. The `type` field on the wire names the variant in snake_case; a field the
/// variant does not define is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum EventKind {
    /// The MES released an order to production.
    OrderReleased {
        order: ProductionOrder,
    },
    /// Quantity, due date or priority of a released order changed.
    OrderChanged {
        order: OrderId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quantity: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due: Option<Timestamp>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        priority: Option<Priority>,
    },
    OrderCancelled {
        order: OrderId,
        reason: String,
    },
    /// A step of an order started on a unit.
    OperationStarted {
        order: OrderId,
        /// 0-based index into the routing's steps.
        step: u32,
        unit: UnitId,
        /// Pool members (people, tanks, stations) held by the operation.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        members: Vec<MemberId>,
    },
    /// A step finished, with its good and scrap quantities and the actual process parameters.
    OperationCompleted {
        order: OrderId,
        step: u32,
        unit: UnitId,
        good_quantity: f64,
        scrap_quantity: f64,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        parameters: BTreeMap<String, f64>,
    },
    EquipmentStateChanged {
        unit: UnitId,
        state: EquipmentState,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Purchased material arrived as a lot. It closes the expected receipt it names, or else
    /// the open expected receipt of its material expected earliest (ties by receipt id), if
    /// any: a delivery fulfils one expectation whole, whatever its quantity (a remainder still
    /// to come is announced by a new `receipt_expected`).
    MaterialReceived {
        material: MaterialId,
        lot: LotId,
        quantity: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        supplier: Option<String>,
        /// The expected receipt this delivery fulfils.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        receipt: Option<ReceiptId>,
    },
    /// A delivery of purchased material is expected (a purchase order line, an ATP date).
    /// A later `receipt_expected` with the same `receipt` replaces its quantity, time,
    /// supplier and purchase order (the material stays); it stays open until a
    /// `material_received` fulfils it or a `receipt_cancelled` withdraws it.
    ReceiptExpected {
        receipt: ReceiptId,
        material: MaterialId,
        quantity: f64,
        /// When the delivery is expected to arrive.
        expected: Timestamp,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        supplier: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        purchase_order: Option<String>,
    },
    /// An expected receipt will not come.
    ReceiptCancelled {
        receipt: ReceiptId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A member of a pool (a certified person, a tank, a station) is absent, or present
    /// again, from `from` (the event's time when left out). An absence lasts until `until`,
    /// or until a later presence; `until` is refused on a presence (a member present stays
    /// so until the next fact).
    MemberAttendance {
        pool: PoolId,
        member: MemberId,
        present: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<Timestamp>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<Timestamp>,
    },
    /// An order consumed a quantity of a lot, or one serial item.
    MaterialConsumed {
        order: OrderId,
        step: u32,
        material: MaterialId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lot: Option<LotId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        serial: Option<SerialId>,
        quantity: f64,
    },
    /// An order produced a lot (batch, lot code) and/or serial items.
    MaterialProduced {
        order: OrderId,
        material: MaterialId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lot: Option<LotId>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        serials: Vec<SerialId>,
        quantity: f64,
    },
    /// Finished material left the plant for a customer.
    MaterialShipped {
        material: MaterialId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lot: Option<LotId>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        serials: Vec<SerialId>,
        quantity: f64,
        customer: String,
    },
    /// One measurement of a characteristic on an item, batch or lot.
    QualityResultRecorded {
        characteristic: CharacteristicId,
        value: f64,
        /// Subgroup number: results with the same characteristic and sample form one subgroup.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sample: Option<u64>,
        /// Inspected size for attribute data (`value` is then a count).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sample_size: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        order: Option<OrderId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lot: Option<LotId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        serial: Option<SerialId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<UnitId>,
    },
    /// The MES's dispatch list now plans step `step` of `order` on `unit` and/or from `start`
    /// (at least one of them): a plan, not a fact of the shop floor, so the order's progress
    /// is unchanged. A field left out keeps what an earlier dispatch of the step said.
    OperationDispatched {
        order: OrderId,
        /// 0-based index into the routing's steps.
        step: u32,
        /// The unit the step will run on; one of the step's alternatives.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<UnitId>,
        /// When the step is planned to start.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start: Option<Timestamp>,
    },
}

impl EventKind {
    /// Every wire name of an event type, for filters and documentation.
    pub const TYPE_NAMES: [&'static str; 15] = [
        "order_released",
        "order_changed",
        "order_cancelled",
        "operation_started",
        "operation_completed",
        "equipment_state_changed",
        "material_received",
        "material_consumed",
        "material_produced",
        "material_shipped",
        "quality_result_recorded",
        "operation_dispatched",
        "receipt_expected",
        "receipt_cancelled",
        "member_attendance",
    ];

    /// The wire name of this event's type.
    pub fn type_name(&self) -> &'static str {
        let index = match self {
            EventKind::OrderReleased { .. } => 0,
            EventKind::OrderChanged { .. } => 1,
            EventKind::OrderCancelled { .. } => 2,
            EventKind::OperationStarted { .. } => 3,
            EventKind::OperationCompleted { .. } => 4,
            EventKind::EquipmentStateChanged { .. } => 5,
            EventKind::MaterialReceived { .. } => 6,
            EventKind::MaterialConsumed { .. } => 7,
            EventKind::MaterialProduced { .. } => 8,
            EventKind::MaterialShipped { .. } => 9,
            EventKind::QualityResultRecorded { .. } => 10,
            EventKind::OperationDispatched { .. } => 11,
            EventKind::ReceiptExpected { .. } => 12,
            EventKind::ReceiptCancelled { .. } => 13,
            EventKind::MemberAttendance { .. } => 14,
        };
        Self::TYPE_NAMES[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_is_flat_with_a_type_tag() {
        let event = Event {
            id: "e-1".into(),
            time: Timestamp::parse("2026-03-02T06:00:00Z").unwrap(),
            source: Some("sim".into()),
            kind: EventKind::EquipmentStateChanged {
                unit: "R-101".into(),
                state: EquipmentState::Down,
                reason: None,
            },
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            json,
            r#"{"id":"e-1","time":"2026-03-02T06:00:00Z","source":"sim","type":"equipment_state_changed","unit":"R-101","state":"down"}"#
        );
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
        assert_eq!(back.kind.type_name(), "equipment_state_changed");
    }

    #[test]
    fn type_names_match_serde_tags() {
        let samples = [
            r#"{"type":"order_cancelled","order":"o","reason":"r"}"#,
            r#"{"type":"material_received","material":"m","lot":"l","quantity":1}"#,
            r#"{"type":"quality_result_recorded","characteristic":"c","value":1.5}"#,
            r#"{"type":"operation_dispatched","order":"o","step":1,"unit":"u"}"#,
            r#"{"type":"receipt_expected","receipt":"PO-1/1","material":"m","quantity":5,"expected":"2026-03-02T06:00:00Z"}"#,
            r#"{"type":"receipt_cancelled","receipt":"PO-1/1"}"#,
            r#"{"type":"member_attendance","pool":"p","member":"m","present":false}"#,
        ];
        for text in samples {
            let kind: EventKind = serde_json::from_str(text).unwrap();
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(kind.type_name(), value["type"]);
        }
    }

    #[test]
    fn a_dispatch_leaves_out_what_it_does_not_say() {
        let event = Event {
            id: "d-1".into(),
            time: Timestamp::parse("2026-03-02T06:00:00Z").unwrap(),
            source: None,
            kind: EventKind::OperationDispatched {
                order: "MO/7".into(),
                step: 2,
                unit: None,
                start: Some(Timestamp::parse("2026-03-02T08:30:00Z").unwrap()),
            },
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            json,
            r#"{"id":"d-1","time":"2026-03-02T06:00:00Z","source":null,"type":"operation_dispatched","order":"MO/7","step":2,"start":"2026-03-02T08:30:00Z"}"#
        );
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
        assert_eq!(back.kind.type_name(), "operation_dispatched");
        assert!(EventKind::TYPE_NAMES.contains(&"operation_dispatched"));
    }
}
