//! `xsd-order`: the XSD's element sequences, shared with the XML writer.

use super::*;

/// The elements every event starts with, in the EPCIS 2.0 XSD's order (`EPCISEventType`).
pub(super) const BASE_SEQUENCE: [&str; 7] = [
    "eventTime",
    "recordTime",
    "eventTimeZoneOffset",
    "eventID",
    "errorDeclaration",
    "certificationInfo",
    "baseExtension",
];

/// The elements of each event type after the base ones, in the EPCIS 2.0 XSD's order
/// (`ObjectEventType`, …); elements in other namespaces may follow them all.
pub(crate) fn type_sequence(event_type: &str) -> &'static [&'static str] {
    match event_type {
        "ObjectEvent" => &[
            "epcList",
            "action",
            "bizStep",
            "disposition",
            "readPoint",
            "bizLocation",
            "bizTransactionList",
            "quantityList",
            "sourceList",
            "destinationList",
            "sensorElementList",
            "persistentDisposition",
            "ilmd",
            "extension",
        ],
        "AggregationEvent" => &[
            "parentID",
            "childEPCs",
            "action",
            "bizStep",
            "disposition",
            "readPoint",
            "bizLocation",
            "bizTransactionList",
            "childQuantityList",
            "sourceList",
            "destinationList",
            "sensorElementList",
            "persistentDisposition",
            "extension",
        ],
        "TransactionEvent" => &[
            "bizTransactionList",
            "parentID",
            "epcList",
            "action",
            "bizStep",
            "disposition",
            "readPoint",
            "bizLocation",
            "quantityList",
            "sourceList",
            "destinationList",
            "sensorElementList",
            "persistentDisposition",
            "extension",
        ],
        "TransformationEvent" => &[
            "inputEPCList",
            "inputQuantityList",
            "outputEPCList",
            "outputQuantityList",
            "transformationID",
            "bizStep",
            "disposition",
            "readPoint",
            "bizLocation",
            "bizTransactionList",
            "sourceList",
            "destinationList",
            "sensorElementList",
            "persistentDisposition",
            "ilmd",
            "extension",
        ],
        "AssociationEvent" => &[
            "parentID",
            "childEPCs",
            "childQuantityList",
            "action",
            "bizStep",
            "disposition",
            "readPoint",
            "bizLocation",
            "bizTransactionList",
            "sourceList",
            "destinationList",
            "sensorElementList",
            "persistentDisposition",
            "extension",
        ],
        _ => &[],
    }
}

/// `xsd-order`: the event's standard elements come in the XSD's sequence, each at most
/// once, and elements of other namespaces after them all.
pub(super) fn check_order(at: &EventAt<'_>, event: &Element) -> Result<(), Violation> {
    let kind = event.local();
    let sequence: Vec<&str> = BASE_SEQUENCE
        .iter()
        .chain(type_sequence(kind))
        .copied()
        .collect();
    let mut last: Option<(usize, &str)> = None;
    let mut foreign: Option<&str> = None;
    for child in &event.children {
        let name = child.name.as_str();
        if name.contains(':') {
            foreign.get_or_insert(name);
            continue;
        }
        let Some(position) = sequence.iter().position(|s| *s == name) else {
            return Err(at.violation(
                "xsd-order",
                name,
                format!("not an element of {kind} (an extension carries a namespace prefix)"),
            ));
        };
        if let Some(extension) = foreign {
            return Err(at.violation(
                "xsd-order",
                name,
                format!(
                    "comes after the extension element `{extension}`; extensions close the event"
                ),
            ));
        }
        if let Some((before, before_name)) = last
            && position <= before
        {
            let message = if position == before {
                "appears twice".to_owned()
            } else {
                format!(
                    "comes after `{before_name}`; the schema's order is {}",
                    sequence.join(", ")
                )
            };
            return Err(at.violation("xsd-order", name, message));
        }
        last = Some((position, name));
    }
    Ok(())
}
