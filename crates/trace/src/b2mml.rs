//! B2MML (ISA-95) documents: production performance `MaterialActual`s as genealogy, in the
//! V0401 (`http://www.wbf.org/xml/B2MML-V0401`), V0600 (`http://www.mesa.org/xml/B2MML-V0600`)
//! and V0700 (`http://www.mesa.org/xml/B2MML`) namespaces.
//!
//! A `ProductionPerformance` (V0700: `OperationsPerformance`) holds responses (one per
//! order: `ProductionResponse` / `OperationsResponse`), each with segment responses (nested
//! ones too) whose `MaterialActual`s say which lot or sub-lot was consumed or produced, how
//! much and in which unit. They lower to `consumed_into` / `produced_from` edges between the
//! lot and the response's order. Other nouns (schedules, material definitions and
//! information, equipment) are read and counted; lots whose `Status` is a hold
//! (`NotValid`, `Blocked`, `OnHold`, `Quarantine`, `Rejected`) become `on_hold`
//! observations. Any other root, or another namespace, is an error.

use model::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::ImportError;
use crate::graph::{Edge, EdgeKind, Genealogy, Observation};
use crate::id::{Id, IdKind};
use crate::xml::{Element, parse as parse_xml};

/// The B2MML release a document uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Version {
    V0401,
    V0600,
    V0700,
}

/// What one document held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct B2mmlImport {
    pub version: Version,
    /// The root element's name (`SyncProductionPerformance`, …).
    pub noun: String,
    /// Material actuals read.
    pub material_actuals: usize,
    /// Lots and sub-lots described (material information).
    pub material_lots: usize,
    pub genealogy: Genealogy,
}

const HOLD_STATUS: [&str; 5] = ["NotValid", "Blocked", "OnHold", "Quarantine", "Rejected"];

/// Reads one B2MML document. `default_time` dates actuals that carry no time of their own
/// and whose document has no `CreationDateTime`.
pub fn parse(text: &str, default_time: Timestamp) -> Result<B2mmlImport, ImportError> {
    let doc = parse_xml(text)?;
    let root = &doc.root;
    let namespace = doc
        .namespaces
        .get(root.name.split_once(':').map_or("", |(p, _)| p))
        .map(String::as_str)
        .unwrap_or("");
    let version = match namespace {
        "http://www.wbf.org/xml/B2MML-V0401" => Version::V0401,
        "http://www.mesa.org/xml/B2MML-V0600" => Version::V0600,
        "http://www.mesa.org/xml/B2MML" => Version::V0700,
        other => {
            return Err(ImportError::document(
                "xmlns",
                format!("`{other}` is not a B2MML namespace (expected V0401, V0600 or V0700)"),
            ));
        }
    };
    let noun = root.local().to_owned();
    let time = root
        .child("ApplicationArea")
        .and_then(|a| a.child_text("CreationDateTime"))
        .and_then(|t| Timestamp::parse(t).ok())
        .unwrap_or(default_time);
    let data = root.child("DataArea").unwrap_or(root);
    let mut out = B2mmlImport {
        version,
        noun: noun.clone(),
        material_actuals: 0,
        material_lots: 0,
        genealogy: Genealogy::default(),
    };
    let known = [
        "ProductionPerformance",
        "OperationsPerformance",
        "ProductionSchedule",
        "OperationsSchedule",
        "MaterialDefinition",
        "MaterialInformation",
        "EquipmentInformation",
        "MaterialLot",
        "PersonnelInformation",
        "ProcessSegmentInformation",
    ];
    let base = noun
        .trim_start_matches("Sync")
        .trim_start_matches("Process")
        .trim_start_matches("Show")
        .trim_start_matches("Get")
        .trim_start_matches("Acknowledge")
        .trim_start_matches("Change")
        .trim_start_matches("Respond")
        .trim_start_matches("Notify");
    if !known.contains(&base) && !known.contains(&noun.as_str()) {
        return Err(ImportError::document(
            noun,
            "unsupported B2MML noun (expected a production/operations performance or schedule, material or equipment information)",
        ));
    }
    for performance in data
        .children
        .iter()
        .chain(std::iter::once(root))
        .filter(|c| matches!(c.local(), "ProductionPerformance" | "OperationsPerformance"))
    {
        for response in performance
            .children
            .iter()
            .filter(|c| matches!(c.local(), "ProductionResponse" | "OperationsResponse"))
        {
            let order_text = response
                .child_text("ProductionRequestID")
                .or_else(|| response.child_text("OperationsRequestID"))
                .or_else(|| response.child_text("ID"))
                .ok_or_else(|| {
                    ImportError::document(format!("{}.ID", response.local()), "missing")
                })?;
            let order = Id::parse_as(IdKind::Order, order_text).map_err(|e| {
                ImportError::document(format!("{}.ID", response.local()), e.to_string())
            })?;
            let response_time = actual_time(response).unwrap_or(time);
            for segment in response.children_named("SegmentResponse") {
                segment_actuals(segment, &order, response_time, &mut out)?;
            }
        }
    }
    // Lot status from material information.
    fn lots(e: &Element, time: Timestamp, out: &mut B2mmlImport) {
        for c in &e.children {
            if matches!(c.local(), "MaterialLot" | "MaterialSubLot") {
                out.material_lots += 1;
                if let (Some(id), Some(status)) = (c.child_text("ID"), c.child_text("Status"))
                    && HOLD_STATUS.contains(&status)
                    && let Ok(item) = Id::parse_as(IdKind::Lot, id)
                {
                    let mut obs = Observation::new(item, time, &format!("b2mml:lot:{id}"));
                    obs.disposition = Some("on_hold".into());
                    out.genealogy.observations.push(obs);
                }
            }
            lots(c, time, out);
        }
    }
    lots(data, time, &mut out);
    Ok(out)
}

fn actual_time(e: &Element) -> Option<Timestamp> {
    e.child_text("ActualEndTime")
        .or_else(|| e.child_text("ActualStartTime"))
        .or_else(|| e.child_text("EndTime"))
        .or_else(|| e.child_text("StartTime"))
        .and_then(|t| Timestamp::parse(t).ok())
}

fn segment_actuals(
    segment: &Element,
    order: &Id,
    time: Timestamp,
    out: &mut B2mmlImport,
) -> Result<(), ImportError> {
    let time = actual_time(segment).unwrap_or(time);
    let segment_id = segment
        .child_text("ID")
        .or_else(|| segment.child_text("ProcessSegmentID"))
        .unwrap_or("");
    let unit = segment
        .child("EquipmentActual")
        .and_then(|e| e.child_text("EquipmentID"))
        .and_then(|u| Id::parse_as(IdKind::Unit, u).ok());
    for actual in segment.children_named("MaterialActual") {
        let index = out.material_actuals;
        out.material_actuals += 1;
        let err = |field: &str, message: String| {
            ImportError::event(index, None, format!("MaterialActual.{field}"), message)
        };
        let lot = actual
            .child_text("MaterialLotID")
            .or_else(|| actual.child_text("MaterialSubLotID"))
            .filter(|l| !l.is_empty())
            .ok_or_else(|| err("MaterialLotID", "missing (needed for genealogy)".into()))?;
        let item =
            Id::parse_as(IdKind::Lot, lot).map_err(|e| err("MaterialLotID", e.to_string()))?;
        let usage = actual.child_text("MaterialUse").unwrap_or("");
        let (quantity, uom) = match actual.child("Quantity") {
            Some(q) => {
                let text = q.child_text("QuantityString").unwrap_or("");
                let quantity = text
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        err(
                            "Quantity.QuantityString",
                            format!("`{text}` is not a number"),
                        )
                    })?;
                (
                    Some(quantity),
                    q.child_text("UnitOfMeasure")
                        .filter(|u| !u.is_empty())
                        .map(str::to_owned),
                )
            }
            None => (None, None),
        };
        let location = actual
            .child("Location")
            .and_then(|l| l.child_text("EquipmentID"))
            .and_then(|u| Id::parse_as(IdKind::Unit, u).ok())
            .or_else(|| unit.clone());
        let event = format!("b2mml:{}:{segment_id}:{index}", order.short());
        let (kind, from, to) = match usage {
            "Consumed" | "Consumable" => (EdgeKind::ConsumedInto, item, order.clone()),
            "Produced" | "ByProduct" | "Co-product" | "CoProduct" => {
                (EdgeKind::ProducedFrom, order.clone(), item)
            }
            other => {
                return Err(err(
                    "MaterialUse",
                    format!(
                        "`{other}` is not Consumed, Consumable, Produced, ByProduct or CoProduct"
                    ),
                ));
            }
        };
        out.genealogy.edges.push(Edge {
            kind,
            from,
            to,
            time,
            location,
            quantity,
            uom,
            event,
        });
    }
    for nested in segment.children_named("SegmentResponse") {
        segment_actuals(nested, order, time, out)?;
    }
    Ok(())
}
