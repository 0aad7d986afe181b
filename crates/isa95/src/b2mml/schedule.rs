//! What a B2MML schedule document holds, read without a plant: its requests, each with its
//! times, priority, produced material and segment requirements (nested ones flattened in
//! document order).
//!
//! Read: a `ProductionSchedule` (V0401, V0600: `ProductionRequest` → `SegmentRequirement`,
//! nested `SegmentRequirement`, `MaterialRequirement` with `MaterialUse` `Produced` or V0600's
//! `MaterialProducedRequirement`) or an `OperationsSchedule` (V0600, V0700:
//! `OperationsRequest` → `SegmentRequirement`, nested `SegmentRequirement` (V0600) or
//! `SegmentRequirementChild` (V0700)), as the document's root or inside a BOD's `DataArea`
//! (`SyncProductionSchedule`, `ProcessOperationsSchedule`, …). Element names are those of the
//! MESA schemas (MESAInternational/B2MML-BatchML @ 65cc665, `Schema/B2MML-OperationsSchedule.xsd`,
//! `Schema/B2MML-Common.xsd`; V0600 `B2MML-V0600-ProductionSchedule.xsd` and
//! `B2MML-V0600-OperationsSchedule.xsd` @ c53bc90). Children are looked up by name, so the
//! reader takes the element orders of all three releases.
//!
//! A fault inside a request (a date that is not one, a request without `ID`) is kept with
//! that request ([`ScheduleDocument::requests`]), so a caller may refuse the document or
//! only the request; a fault outside any request refuses the document.

use model::Timestamp;
use trace::xml::{Element, parse as parse_xml};

use super::Version;
use crate::error::{Isa95Error, RequestError};

/// A schedule document as read.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleDocument {
    pub version: Version,
    /// The root element's local name (`SyncProductionSchedule`, `OperationsSchedule`, …).
    pub noun: String,
    /// `ApplicationArea/CreationDateTime`, else the first schedule's `PublishedDate`.
    pub created: Option<Timestamp>,
    /// The first schedule's `ID`.
    pub schedule_id: Option<String>,
    /// Every request of every schedule in the document, in document order.
    pub requests: Vec<Result<Request, RequestError>>,
}

/// One `ProductionRequest` or `OperationsRequest`.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: String,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    /// The numeric `Priority` as written.
    pub priority: Option<String>,
    /// `OperationsDefinitionID` (or V0401/V0600 `ProductProductionRuleID`): the routing.
    pub definition: Option<String>,
    /// Materials required with `MaterialUse` `Produced` (or V0600
    /// `MaterialProducedRequirement`s), anywhere in the request's segments.
    pub produced: Vec<ProducedMaterial>,
    pub segments: Vec<Segment>,
}

/// A material the request makes, with the path of the element that names it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProducedMaterial {
    /// Where in the request (`SegmentRequirement[0].MaterialRequirement[0]`).
    pub path: String,
    pub material: String,
    /// `Quantity/QuantityString` as written.
    pub quantity: Option<String>,
    pub uom: Option<String>,
}

/// One segment requirement.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Where in the request (`SegmentRequirement[1].SegmentRequirementChild[0]`).
    pub path: String,
    pub id: Option<String>,
    pub process_segment: Option<String>,
    pub earliest_start: Option<Timestamp>,
    pub latest_end: Option<Timestamp>,
    /// `EquipmentRequirement/EquipmentID`s, in order.
    pub equipment: Vec<String>,
}

const SCHEDULES: [&str; 2] = ["ProductionSchedule", "OperationsSchedule"];
const REQUESTS: [&str; 2] = ["ProductionRequest", "OperationsRequest"];
const NESTED_SEGMENTS: [&str; 2] = ["SegmentRequirement", "SegmentRequirementChild"];

/// Reads a schedule document.
pub fn read_schedule(text: &str) -> Result<ScheduleDocument, Isa95Error> {
    let doc = parse_xml(text)?;
    let root = &doc.root;
    let prefix = root.name.split_once(':').map_or("", |(p, _)| p);
    let namespace = doc.namespaces.get(prefix).map(String::as_str).unwrap_or("");
    let version = Version::of_namespace(namespace)?;
    let noun = root.local().to_owned();
    let schedules: Vec<&Element> = if SCHEDULES.contains(&root.local()) {
        vec![root]
    } else {
        let is_schedule_bod = SCHEDULES.iter().any(|s| noun.ends_with(s));
        let data = root.child("DataArea").filter(|_| is_schedule_bod);
        let data = data.ok_or_else(|| {
            Isa95Error::document(
                noun.clone(),
                "not a schedule (expected ProductionSchedule or OperationsSchedule, alone or in a BOD's DataArea)",
            )
        })?;
        data.children
            .iter()
            .filter(|c| SCHEDULES.contains(&c.local()))
            .collect()
    };
    let created_text = root
        .child("ApplicationArea")
        .and_then(|a| a.child_text("CreationDateTime"))
        .map(|t| ("ApplicationArea.CreationDateTime", t))
        .or_else(|| {
            schedules
                .first()
                .and_then(|s| s.child_text("PublishedDate"))
                .map(|t| ("PublishedDate", t))
        });
    let created = match created_text {
        Some((field, text)) => Some(
            Timestamp::parse(text)
                .map_err(|e| Isa95Error::document(field, format!("`{text}`: {e}")))?,
        ),
        None => None,
    };
    let schedule_id = schedules
        .first()
        .and_then(|s| s.child_text("ID"))
        .map(str::to_owned);
    let mut requests = Vec::new();
    for schedule in schedules {
        for element in schedule
            .children
            .iter()
            .filter(|c| REQUESTS.contains(&c.local()))
        {
            let position = requests.len();
            requests.push(read_request(element, position));
        }
    }
    Ok(ScheduleDocument {
        version,
        noun,
        created,
        schedule_id,
        requests,
    })
}

fn read_request(element: &Element, position: usize) -> Result<Request, RequestError> {
    let id = element
        .child_text("ID")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            RequestError::new(
                format!("#{position}"),
                format!("{}.ID", element.local()),
                "missing (every request needs an ID: it becomes the order id)",
            )
        })?
        .to_owned();
    let time =
        |field: &str| optional_time(element, field).map_err(|m| RequestError::new(&id, field, m));
    let start = time("StartTime")?;
    let end = time("EndTime")?;
    let mut request = Request {
        id: id.clone(),
        start,
        end,
        priority: element.child_text("Priority").map(str::to_owned),
        definition: element
            .child_text("OperationsDefinitionID")
            .or_else(|| element.child_text("ProductProductionRuleID"))
            .filter(|d| !d.is_empty())
            .map(str::to_owned),
        produced: Vec::new(),
        segments: Vec::new(),
    };
    for (k, segment) in element.children_named("SegmentRequirement").enumerate() {
        read_segment(segment, &format!("SegmentRequirement[{k}]"), &mut request)?;
    }
    Ok(request)
}

/// The time in `field`, none when the element is absent or empty; a message when its text
/// is not an RFC 3339 instant.
fn optional_time(element: &Element, field: &str) -> Result<Option<Timestamp>, String> {
    match element.child_text(field).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => Timestamp::parse(text)
            .map(Some)
            .map_err(|e| format!("`{text}` is not a date and time: {e}")),
    }
}

fn read_segment(element: &Element, path: &str, request: &mut Request) -> Result<(), RequestError> {
    let time = |field: &str| {
        optional_time(element, field)
            .map_err(|m| RequestError::new(&request.id, format!("{path}.{field}"), m))
    };
    let segment = Segment {
        path: path.to_owned(),
        id: element.child_text("ID").map(str::to_owned),
        process_segment: element.child_text("ProcessSegmentID").map(str::to_owned),
        earliest_start: time("EarliestStartTime")?,
        latest_end: time("LatestEndTime")?,
        equipment: element
            .children_named("EquipmentRequirement")
            .flat_map(|r| r.children_named("EquipmentID"))
            .map(|e| e.text.trim().to_owned())
            .filter(|e| !e.is_empty())
            .collect(),
    };
    request.segments.push(segment);
    let produced_requirements = element
        .children_named("MaterialRequirement")
        .enumerate()
        .filter(|(_, m)| {
            m.child_text("MaterialUse")
                .is_some_and(|u| u == "Produced" || u == "Material Produced")
        })
        .map(|(k, m)| (format!("{path}.MaterialRequirement[{k}]"), m))
        .chain(
            element
                .children_named("MaterialProducedRequirement")
                .enumerate()
                .map(|(k, m)| (format!("{path}.MaterialProducedRequirement[{k}]"), m)),
        );
    for (material_path, material) in produced_requirements {
        let id = material
            .child_text("MaterialDefinitionID")
            .filter(|m| !m.is_empty())
            .ok_or_else(|| {
                RequestError::new(
                    &request.id,
                    format!("{material_path}.MaterialDefinitionID"),
                    "missing (a produced material names its definition)",
                )
            })?;
        let quantity = material.child("Quantity");
        request.produced.push(ProducedMaterial {
            path: material_path.clone(),
            material: id.to_owned(),
            quantity: quantity
                .and_then(|q| q.child_text("QuantityString"))
                .map(str::to_owned),
            uom: quantity
                .and_then(|q| q.child_text("UnitOfMeasure"))
                .filter(|u| !u.is_empty())
                .map(str::to_owned),
        });
    }
    for name in NESTED_SEGMENTS {
        for (k, nested) in element.children_named(name).enumerate() {
            read_segment(nested, &format!("{path}.{name}[{k}]"), request)?;
        }
    }
    Ok(())
}
