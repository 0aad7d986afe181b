//! `required-field`: what the schemas require that the readers would do without.

use super::*;

/// `required-field` (JSON-LD): what `event-definitions-JSON-Schema.json` and the per-type
/// schemas require beyond what the reader already refuses.
pub(super) fn required_json(at: &EventAt<'_>, event: &Value) -> Result<(), Violation> {
    if !has(event, "eventTimeZoneOffset") {
        return Err(missing(
            at,
            "eventTimeZoneOffset",
            "every event states the UTC offset of its eventTime",
        ));
    }
    let kind = event["type"].as_str().unwrap_or_default();
    let delete = event["action"].as_str() == Some("DELETE");
    match kind {
        "ObjectEvent" => {
            let sensed = non_empty(&event["sensorElementList"]) && has(event, "readPoint");
            if !has(event, "epcList") && !non_empty(&event["quantityList"]) && !sensed {
                return Err(missing(
                    at,
                    "epcList",
                    "an ObjectEvent has an epcList (which may be empty), a quantityList, or sensor elements with a readPoint",
                ));
            }
        }
        "AggregationEvent" | "AssociationEvent" => {
            if kind == "AssociationEvent" && !has(event, "parentID") {
                return Err(missing(
                    at,
                    "parentID",
                    "an AssociationEvent names its parent",
                ));
            }
            if !non_empty(&event["childEPCs"]) && !non_empty(&event["childQuantityList"]) && !delete
            {
                return Err(missing(
                    at,
                    "childEPCs",
                    "childEPCs or a childQuantityList is required unless the action is DELETE",
                ));
            }
        }
        "TransactionEvent" => {
            if !non_empty(&event["bizTransactionList"]) {
                return Err(missing(
                    at,
                    "bizTransactionList",
                    "a TransactionEvent names at least one business transaction",
                ));
            }
            if !has(event, "epcList") && !non_empty(&event["quantityList"]) && !delete {
                return Err(missing(
                    at,
                    "epcList",
                    "an epcList (which may be empty) or a quantityList is required unless the action is DELETE",
                ));
            }
        }
        "TransformationEvent" => {
            let inputs =
                non_empty(&event["inputEPCList"]) || non_empty(&event["inputQuantityList"]);
            let outputs =
                non_empty(&event["outputEPCList"]) || non_empty(&event["outputQuantityList"]);
            let joined = has(event, "transformationID") && (inputs || outputs);
            if !(joined || inputs && outputs) {
                let field = if inputs {
                    "outputEPCList"
                } else {
                    "inputEPCList"
                };
                return Err(missing(
                    at,
                    field,
                    "a TransformationEvent has inputs and outputs, or a transformationID and either",
                ));
            }
        }
        _ => {}
    }
    for (i, element) in event["sensorElementList"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(reports) = element["sensorReport"].as_array().filter(|r| !r.is_empty()) else {
            return Err(missing(
                at,
                &format!("sensorElementList[{i}].sensorReport"),
                "a sensor element holds at least one sensor report",
            ));
        };
        if let Some(j) = reports.iter().position(|r| !has(r, "type")) {
            return Err(missing(
                at,
                &format!("sensorElementList[{i}].sensorReport[{j}].type"),
                "a sensor report names its measurement type",
            ));
        }
    }
    if let Some(pd) = event.get("persistentDisposition")
        && !non_empty(&pd["set"])
        && !non_empty(&pd["unset"])
    {
        return Err(missing(
            at,
            "persistentDisposition.set",
            "a persistent disposition sets or unsets at least one disposition",
        ));
    }
    Ok(())
}

/// `required-field` (XML): what the EPCIS 2.0 XSD requires beyond what the reader already
/// refuses (elements without `minOccurs="0"`).
pub(super) fn required_xml(
    at: &EventAt<'_>,
    kind: &str,
    fields: &[&Element],
) -> Result<(), Violation> {
    let field = |name: &str| fields.iter().find(|f| f.name == name);
    if field("eventTimeZoneOffset").is_none() {
        return Err(missing(
            at,
            "eventTimeZoneOffset",
            "every event states the UTC offset of its eventTime",
        ));
    }
    if kind == "TransactionEvent"
        && field("bizTransactionList")
            .is_none_or(|list| list.children_named("bizTransaction").next().is_none())
    {
        return Err(missing(
            at,
            "bizTransactionList",
            "a TransactionEvent names at least one business transaction",
        ));
    }
    if kind == "AssociationEvent" && field("parentID").is_none() {
        return Err(missing(
            at,
            "parentID",
            "an AssociationEvent names its parent",
        ));
    }
    // `QuantityElementType`: `uom` sits in an optional sequence that starts with `quantity`.
    for name in QUANTITY_LISTS {
        for (i, element) in field(name)
            .into_iter()
            .flat_map(|list| list.children_named("quantityElement"))
            .enumerate()
        {
            if element.child("uom").is_some() && element.child("quantity").is_none() {
                return Err(missing(
                    at,
                    &format!("{name}[{i}].quantity"),
                    "a quantity element with a uom states its quantity",
                ));
            }
        }
    }
    if let Some(list) = field("sensorElementList") {
        let mut elements = list.children_named("sensorElement").peekable();
        if elements.peek().is_none() {
            return Err(missing(
                at,
                "sensorElementList.sensorElement",
                "a sensor element list holds at least one sensor element",
            ));
        }
        for (i, element) in elements.enumerate() {
            if element.children_named("sensorReport").next().is_none() {
                return Err(missing(
                    at,
                    &format!("sensorElementList[{i}].sensorReport"),
                    "a sensor element holds at least one sensor report",
                ));
            }
        }
    }
    Ok(())
}
