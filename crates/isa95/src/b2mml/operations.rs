//! The plan in force as a B2MML V0700 `SyncOperationsSchedule`, and the assignments read back
//! from one.
//!
//! One `OperationsRequest` per order (`ID` the order, `StartTime`/`EndTime` its release and
//! due date, `Priority` 1 high to 3 low, `OperationsDefinitionID` its routing) with one
//! `SegmentRequirement` per step of the routing: `ID` the operation (`<order>/<step>`),
//! `EarliestStartTime`/`LatestEndTime` the planned start and end, `ProcessSegmentID` the step's
//! name, `Duration` the planned minutes, `OperationsSegmentID` `<routing>/<step>`, and an
//! `EquipmentRequirement` naming the planned unit (`EquipmentID`). A step the plan does not
//! place (done, or no plan) has no times and names every unit that can run it. The product
//! and quantity are a `MaterialRequirement` (`MaterialUse` `Produced`) of the last segment,
//! so the document also reads back as orders ([`super::orders`]) — all but the customer,
//! which an ISA-95 request does not carry.
//!
//! Element names and their order follow MESAInternational/B2MML-BatchML @ 65cc665,
//! `Schema/B2MML-OperationsSchedule.xsd` (`OperationsScheduleType`, `OperationsRequestType`,
//! `OpSegmentRequirementType`, the `Sync…` transaction) and `Schema/B2MML-Common.xsd`
//! (`TransApplicationAreaType`, `OpEquipmentRequirementType`, `OpMaterialRequirementType`,
//! `QuantityValueType`).

use std::collections::BTreeMap;

use model::{OperationRef, ProductionOrder, Timestamp, UnitId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::NAMESPACE_V0700;
use super::orders::priority_number;
use super::schedule::ScheduleDocument;
use crate::error::{Isa95Error, RequestError};
use crate::write::XmlWriter;

/// A schedule to write: which document, when, and each order with its segments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OperationsScheduleOut {
    /// The schedule's `ID` (the plan version, say).
    pub id: String,
    /// `CreationDateTime` and `PublishedDate`.
    pub published: Timestamp,
    pub requests: Vec<PlannedOrder>,
}

/// One order and its operations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlannedOrder {
    pub order: ProductionOrder,
    /// The product's unit of measure (the order's quantity is in it).
    pub uom: String,
    /// In step order; at least one (the schema requires a segment per request).
    pub segments: Vec<PlannedSegment>,
}

/// One operation: where and when the plan runs it, or where it may run when unplanned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlannedSegment {
    #[schemars(with = "String")]
    pub op: OperationRef,
    /// The routing step's name.
    pub step: String,
    /// The planned unit, or every unit that can run it when `times` is none.
    pub units: Vec<UnitId>,
    /// Planned start and end.
    pub times: Option<(Timestamp, Timestamp)>,
}

/// One assignment read back: an operation on a unit from `start` to `end`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct ReadAssignment {
    #[schemars(with = "String")]
    pub op: OperationRef,
    pub unit: UnitId,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// The `releaseID` written: the B2MML release the document follows.
pub const RELEASE_ID: &str = "7.0";

/// Writes `schedule` as a `SyncOperationsSchedule` document.
pub fn write_operations_schedule(schedule: &OperationsScheduleOut) -> String {
    let mut w = XmlWriter::new();
    w.open(
        "SyncOperationsSchedule",
        &[("xmlns", NAMESPACE_V0700), ("releaseID", RELEASE_ID)],
    );
    w.open("ApplicationArea", &[]);
    w.open("Sender", &[]);
    w.leaf("LogicalID", "mixplane");
    w.close();
    w.leaf("CreationDateTime", &schedule.published.to_string());
    w.close();
    w.open("DataArea", &[]);
    w.empty("Sync");
    w.open("OperationsSchedule", &[]);
    w.leaf("ID", &schedule.id);
    w.leaf("PublishedDate", &schedule.published.to_string());
    w.leaf("OperationsType", "Production");
    for request in &schedule.requests {
        write_request(&mut w, request);
    }
    w.finish()
}

fn write_request(w: &mut XmlWriter, request: &PlannedOrder) {
    let order = &request.order;
    w.open("OperationsRequest", &[]);
    w.leaf("ID", order.id.as_str());
    w.leaf("StartTime", &order.release.to_string());
    w.leaf("EndTime", &order.due.to_string());
    w.leaf("OperationsType", "Production");
    w.leaf("Priority", &priority_number(order.priority).to_string());
    w.leaf("OperationsDefinitionID", order.routing.as_str());
    let last = request.segments.len().saturating_sub(1);
    for (k, segment) in request.segments.iter().enumerate() {
        w.open("SegmentRequirement", &[]);
        w.leaf("ID", &segment.op.to_string());
        if let Some((start, end)) = segment.times {
            w.leaf("EarliestStartTime", &start.to_string());
            w.leaf("LatestEndTime", &end.to_string());
        }
        w.leaf("ProcessSegmentID", &segment.step);
        if let Some((start, end)) = segment.times {
            w.leaf("Duration", &duration_text(start, end));
        }
        w.leaf("OperationsDefinitionID", order.routing.as_str());
        w.leaf(
            "OperationsSegmentID",
            &format!("{}/{}", order.routing, segment.op.step),
        );
        if !segment.units.is_empty() {
            w.open("EquipmentRequirement", &[]);
            w.leaf("ID", &format!("{}/equipment", segment.op));
            for unit in &segment.units {
                w.leaf("EquipmentID", unit.as_str());
            }
            w.close();
        }
        if k == last {
            w.open("MaterialRequirement", &[]);
            w.leaf("ID", &format!("{}/produced", order.id));
            w.leaf("MaterialDefinitionID", order.product.as_str());
            w.leaf("MaterialUse", "Produced");
            w.open("Quantity", &[]);
            w.leaf("QuantityString", &order.quantity.to_string());
            w.leaf("DataType", "decimal");
            w.leaf("UnitOfMeasure", &request.uom);
            w.close();
            w.close();
        }
        w.close();
    }
    w.close();
}

/// An `xsd:duration` of whole seconds (`PT5400S`), which any reader of the type takes.
fn duration_text(start: Timestamp, end: Timestamp) -> String {
    let seconds = (end.0 - start.0).max(0) / 1000;
    format!("PT{seconds}S")
}

/// The assignments a schedule document holds: every segment requirement whose `ID` is an
/// operation (`<order>/<step>`) with both times and one `EquipmentID`. A segment with times
/// but not one unit, or an `ID` that names no operation, is refused naming it; a segment
/// without times is a step the plan does not place and is passed over.
pub fn read_assignments(document: &ScheduleDocument) -> Result<Vec<ReadAssignment>, Isa95Error> {
    let mut assignments = BTreeMap::new();
    for request in &document.requests {
        let request = request
            .as_ref()
            .map_err(|e| Isa95Error::Request(e.clone()))?;
        for segment in &request.segments {
            let (Some(start), Some(end)) = (segment.earliest_start, segment.latest_end) else {
                continue;
            };
            let fail = |field: &str, message: String| {
                Isa95Error::Request(RequestError::new(
                    &request.id,
                    format!("{}.{field}", segment.path),
                    message,
                ))
            };
            let id = segment.id.as_deref().unwrap_or("");
            let op: OperationRef = id.parse().map_err(|e| fail("ID", format!("{e}")))?;
            let [unit] = segment.equipment.as_slice() else {
                return Err(fail(
                    "EquipmentRequirement.EquipmentID",
                    format!(
                        "a planned segment names one unit, not {}",
                        segment.equipment.len()
                    ),
                ));
            };
            let assignment = ReadAssignment {
                op: op.clone(),
                unit: UnitId::from(unit.as_str()),
                start,
                end,
            };
            if assignments.insert(op, assignment).is_some() {
                return Err(fail("ID", format!("operation `{id}` is planned twice")));
            }
        }
    }
    Ok(assignments.into_values().collect())
}
