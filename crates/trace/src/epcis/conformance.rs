//! What a conformant EPCIS 2.0 capture interface refuses that the readers would take.
//!
//! The readers ([`super::json`], [`super::xml`]) are forgiving on purpose: they read what
//! producers write, so that a document from an old or sloppy system can still be traced. A
//! repository that others rely on must be stricter at its door, as the standard's own
//! artefacts are (the EPCIS 2.0 JSON schema and XSD, and the CBV 2.0 vocabularies). These
//! checks are those rules, written out; each [`Violation`] names its rule, the event (index
//! and eventID) and the field, so a producer knows what to mend:
//!
//! - `context-required`: a JSON-LD document or event names its `@context`;
//! - `cbv-bizstep`, `cbv-disposition`: a bare business step or disposition (also in a
//!   persistent disposition) is one of the CBV 2.0 terms, and a CBV URI names one of them;
//!   any other vocabulary is written as a URI of its own;
//! - `quantity-element-fields`: a quantity element holds `epcClass`, `quantity` and `uom`
//!   only;
//! - `ilmd-namespace`: every ILMD field is an extension, so it carries a namespace prefix;
//! - `xsd-order` (XML): an event's standard elements come in the XSD's sequence, each once,
//!   with elements of other namespaces after them.
//!
//! Sources of the rules: GS1 EPCIS 2.0 (2022), its JSON schema and XSD as published in
//! github.com/gs1/EPCIS (`JSON-Schema/schemas/bizStep-JSON-Schema.json` and
//! `disposition-JSON-Schema.json` for the CBV 2.0 terms listed below,
//! `XSD/EPCglobal-epcis-2_0.xsd` for the element sequences, at commit 2b888be).

use serde_json::Value;

use crate::xml::Element;

/// The CBV 2.0 business steps.
pub const CBV_BIZ_STEPS: [&str; 41] = [
    "accepting",
    "arriving",
    "assembling",
    "collecting",
    "commissioning",
    "consigning",
    "creating_class_instance",
    "cycle_counting",
    "decommissioning",
    "departing",
    "destroying",
    "disassembling",
    "dispensing",
    "encoding",
    "entering_exiting",
    "holding",
    "inspecting",
    "installing",
    "killing",
    "loading",
    "other",
    "packing",
    "picking",
    "receiving",
    "removing",
    "repackaging",
    "repairing",
    "replacing",
    "reserving",
    "retail_selling",
    "sampling",
    "sensor_reporting",
    "shipping",
    "staging_outbound",
    "stock_taking",
    "stocking",
    "storing",
    "transporting",
    "unloading",
    "unpacking",
    "void_shipping",
];

/// The CBV 2.0 dispositions.
pub const CBV_DISPOSITIONS: [&str; 33] = [
    "active",
    "available",
    "completeness_inferred",
    "completeness_verified",
    "conformant",
    "container_closed",
    "container_open",
    "damaged",
    "destroyed",
    "dispensed",
    "disposed",
    "encoded",
    "expired",
    "in_progress",
    "in_transit",
    "inactive",
    "mismatch_class",
    "mismatch_instance",
    "mismatch_quantity",
    "needs_replacement",
    "no_pedigree_match",
    "non_conformant",
    "non_sellable_other",
    "partially_dispensed",
    "recalled",
    "reserved",
    "retail_sold",
    "returned",
    "sellable_accessible",
    "sellable_not_accessible",
    "stolen",
    "unavailable",
    "unknown",
];

/// A rule of the standard a document breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a conformant EPCIS 2.0 document (rule `{rule}`): {}`{field}`: {message}", at(*.event, .event_id.as_deref()))]
pub struct Violation {
    /// The rule's name (see the module docs).
    pub rule: &'static str,
    /// The event's position in the document, if the rule is about one.
    pub event: Option<usize>,
    pub event_id: Option<String>,
    pub field: String,
    pub message: String,
}

impl From<Violation> for crate::error::ImportError {
    fn from(v: Violation) -> Self {
        crate::error::ImportError {
            index: v.event,
            event_id: v.event_id,
            field: v.field,
            message: format!(
                "breaks rule `{}` of a conformant EPCIS 2.0 capture interface: {}",
                v.rule, v.message
            ),
            limit: None,
        }
    }
}

fn at(event: Option<usize>, id: Option<&str>) -> String {
    match (event, id) {
        (Some(i), Some(id)) => format!("event {i} (eventID `{id}`), "),
        (Some(i), None) => format!("event {i}, "),
        _ => String::new(),
    }
}

/// The terms of a CBV vocabulary, with its URN and Web URI prefixes.
struct Terms {
    rule: &'static str,
    terms: &'static [&'static str],
    urn: &'static str,
    web: &'static str,
}

const BIZ_STEP: Terms = Terms {
    rule: "cbv-bizstep",
    terms: &CBV_BIZ_STEPS,
    urn: "urn:epcglobal:cbv:bizstep:",
    web: "https://ref.gs1.org/cbv/BizStep-",
};

const DISPOSITION: Terms = Terms {
    rule: "cbv-disposition",
    terms: &CBV_DISPOSITIONS,
    urn: "urn:epcglobal:cbv:disp:",
    web: "https://ref.gs1.org/cbv/Disp-",
};

/// One event being checked: where it is, for the violation.
struct EventAt<'a> {
    index: usize,
    id: Option<&'a str>,
}

impl EventAt<'_> {
    fn violation(&self, rule: &'static str, field: &str, message: String) -> Violation {
        Violation {
            rule,
            event: Some(self.index),
            event_id: self.id.map(str::to_owned),
            field: field.to_owned(),
            message,
        }
    }

    fn term(&self, terms: &Terms, field: &str, value: &str) -> Result<(), Violation> {
        let value = value.trim();
        let term = value
            .strip_prefix(terms.urn)
            .or_else(|| value.strip_prefix(terms.web));
        let known = |t: &str| terms.terms.contains(&t);
        match term {
            Some(t) if !known(t) => Err(self.violation(
                terms.rule,
                field,
                format!("`{value}` names no CBV 2.0 term"),
            )),
            None if !value.contains(':') && !known(value) => Err(self.violation(
                terms.rule,
                field,
                format!(
                    "`{value}` is not a CBV 2.0 term; a value of another vocabulary is written as a URI"
                ),
            )),
            _ => Ok(()),
        }
    }
}

const QUANTITY_LISTS: [&str; 4] = [
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputQuantityList",
];
const QUANTITY_FIELDS: [&str; 3] = ["epcClass", "quantity", "uom"];

/// Checks a JSON-LD document (an `EPCISDocument`, an `EPCISQueryDocument` or one event).
pub fn check_json(document: &Value) -> Result<(), Violation> {
    let Some(object) = document.as_object() else {
        return Err(Violation {
            rule: "context-required",
            event: None,
            event_id: None,
            field: "@context".into(),
            message: "a document is a JSON object naming its `@context`, not a bare list".into(),
        });
    };
    if !object.contains_key("@context") {
        return Err(Violation {
            rule: "context-required",
            event: None,
            event_id: None,
            field: "@context".into(),
            message: "missing: a JSON-LD document or event names its context".into(),
        });
    }
    let body = &document["epcisBody"];
    let list = match object.get("type").and_then(Value::as_str) {
        Some("EPCISDocument") => body["eventList"].as_array(),
        Some("EPCISQueryDocument") => body["queryResults"]["resultsBody"]["eventList"].as_array(),
        _ => return check_json_event(0, document),
    };
    for (index, event) in list.into_iter().flatten().enumerate() {
        check_json_event(index, event)?;
    }
    Ok(())
}

fn check_json_event(index: usize, event: &Value) -> Result<(), Violation> {
    let at = EventAt {
        index,
        id: event["eventID"].as_str(),
    };
    if let Some(step) = event["bizStep"].as_str() {
        at.term(&BIZ_STEP, "bizStep", step)?;
    }
    if let Some(disposition) = event["disposition"].as_str() {
        at.term(&DISPOSITION, "disposition", disposition)?;
    }
    for part in ["set", "unset"] {
        for (i, value) in event["persistentDisposition"][part]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(value) = value.as_str() {
                at.term(
                    &DISPOSITION,
                    &format!("persistentDisposition.{part}[{i}]"),
                    value,
                )?;
            }
        }
    }
    for list in QUANTITY_LISTS {
        for (i, element) in event[list].as_array().into_iter().flatten().enumerate() {
            let unknown = element
                .as_object()
                .into_iter()
                .flat_map(|o| o.keys())
                .find(|k| !QUANTITY_FIELDS.contains(&k.as_str()));
            if let Some(key) = unknown {
                return Err(at.violation(
                    "quantity-element-fields",
                    &format!("{list}[{i}].{key}"),
                    "a quantity element holds epcClass, quantity and uom only".into(),
                ));
            }
        }
    }
    if let Some(ilmd) = event["ilmd"].as_object()
        && let Some(key) = ilmd
            .keys()
            .find(|k| !k.starts_with('@') && !k.contains(':'))
    {
        return Err(at.violation(
            "ilmd-namespace",
            &format!("ilmd.{key}"),
            format!("an ILMD field is an extension and carries a namespace prefix (`ex:{key}`)"),
        ));
    }
    Ok(())
}

/// The elements every event starts with, in the EPCIS 2.0 XSD's order (`EPCISEventType`).
const BASE_SEQUENCE: [&str; 7] = [
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
fn check_order(at: &EventAt<'_>, event: &Element) -> Result<(), Violation> {
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

/// Checks the events of an XML document read by [`super::xml::standard_tree`] (standard
/// elements unprefixed, extensions prefixed). The element order is the EPCIS 2.0 XSD's; a
/// 1.x document (its own schema, with 2.0's fields in extension wrappers) is not held to it.
pub fn check_xml(document: &crate::xml::Document) -> Result<(), Violation> {
    let version_1 = document
        .namespaces
        .values()
        .any(|uri| uri == "urn:epcglobal:epcis:xsd:1");
    // A document the reader cannot read is the reader's to refuse: nothing to check here.
    let events = super::xml::event_elements(&document.root).unwrap_or_default();
    for (index, event) in events.into_iter().enumerate() {
        check_xml_event(index, event, !version_1)?;
    }
    Ok(())
}

fn check_xml_event(index: usize, event: &Element, in_order: bool) -> Result<(), Violation> {
    // 1.x wrappers read through, as the reader does.
    let fields = super::xml::event_fields(event);
    let id = fields
        .iter()
        .find(|f| f.name == "eventID")
        .map(|f| f.text.trim());
    let at = EventAt { index, id };
    if in_order {
        check_order(&at, event)?;
    }
    for f in &fields {
        match f.name.as_str() {
            "bizStep" => at.term(&BIZ_STEP, "bizStep", &f.text)?,
            "disposition" => at.term(&DISPOSITION, "disposition", &f.text)?,
            "persistentDisposition" => {
                for (i, value) in f.children.iter().enumerate() {
                    let field = format!("persistentDisposition.{}[{i}]", value.name);
                    at.term(&DISPOSITION, &field, &value.text)?;
                }
            }
            name if QUANTITY_LISTS.contains(&name) => {
                for (i, element) in f.children_named("quantityElement").enumerate() {
                    if let Some(unknown) = element
                        .children
                        .iter()
                        .find(|c| !QUANTITY_FIELDS.contains(&c.name.as_str()))
                    {
                        return Err(at.violation(
                            "quantity-element-fields",
                            &format!("{name}[{i}].{}", unknown.name),
                            "a quantity element holds epcClass, quantity and uom only".into(),
                        ));
                    }
                }
            }
            "ilmd" => {
                if let Some(bare) = f.children.iter().find(|c| !c.name.contains(':')) {
                    return Err(at.violation(
                        "ilmd-namespace",
                        &format!("ilmd.{}", bare.name),
                        format!(
                            "an ILMD field is an extension and carries a namespace prefix (`ex:{}`)",
                            bare.name
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(event: Value) -> Value {
        json!({"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
            "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-01-01T00:00:00Z", "epcisBody": {"eventList": [event]}})
    }

    fn event() -> Value {
        json!({"type": "ObjectEvent", "eventID": "E1", "eventTime": "2026-01-01T00:00:00Z",
            "eventTimeZoneOffset": "+00:00", "action": "OBSERVE",
            "epcList": ["urn:epc:id:sgtin:4012345.011122.1"], "bizStep": "shipping",
            "disposition": "in_transit"})
    }

    fn rule(v: Value) -> Option<&'static str> {
        check_json(&v).err().map(|e| e.rule)
    }

    #[test]
    fn a_conformant_document_passes_and_each_rule_names_itself() {
        assert_eq!(rule(doc(event())), None);
        let mut no_context = doc(event());
        no_context.as_object_mut().unwrap().remove("@context");
        assert_eq!(rule(no_context), Some("context-required"));
        assert_eq!(rule(json!([event()])), Some("context-required"));

        let with = |key: &str, value: Value| {
            let mut e = event();
            e[key] = value;
            doc(e)
        };
        assert_eq!(
            rule(with("bizStep", json!("shipping_out"))),
            Some("cbv-bizstep")
        );
        assert_eq!(
            rule(with("bizStep", json!("urn:epcglobal:cbv:bizstep:nope"))),
            Some("cbv-bizstep")
        );
        assert_eq!(
            rule(with(
                "bizStep",
                json!("urn:epcglobal:cbv:bizstep:receiving")
            )),
            None
        );
        assert_eq!(
            rule(with("bizStep", json!("https://example.com/steps/sorting"))),
            None
        );
        assert_eq!(
            rule(with("disposition", json!("quarantined"))),
            Some("cbv-disposition")
        );
        assert_eq!(
            rule(with(
                "persistentDisposition",
                json!({"set": ["quarantined"]})
            )),
            Some("cbv-disposition")
        );
        assert_eq!(
            rule(with(
                "quantityList",
                json!([{"epcClass": "urn:epc:class:lgtin:4012345.011111.1", "quantity": 1, "weight": 3}])
            )),
            Some("quantity-element-fields")
        );
        assert_eq!(
            rule(with("ilmd", json!({"lotNumber": "L1"}))),
            Some("ilmd-namespace")
        );
        assert_eq!(rule(with("ilmd", json!({"cbvmda:lotNumber": "L1"}))), None);
        let error = check_json(&with("disposition", json!("quarantined"))).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("cbv-disposition")
                && text.contains("E1")
                && text.contains("`disposition`"),
            "{text}"
        );
    }

    #[test]
    fn the_xml_events_follow_the_same_rules() {
        let xml = |inner: &str| {
            format!(
                "<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\" xmlns:ex=\"urn:ex\"><EPCISBody><EventList>\
                 <ObjectEvent><eventTime>2026-01-01T00:00:00Z</eventTime><eventID>E1</eventID>{inner}</ObjectEvent>\
                 </EventList></EPCISBody></epcis:EPCISDocument>"
            )
        };
        let check = |text: String| {
            let tree = crate::epcis::xml::standard_tree(&text).unwrap();
            check_xml(&tree).err().map(|e| e.rule)
        };
        assert_eq!(check(xml("<bizStep>shipping</bizStep>")), None);
        assert_eq!(
            check(xml("<bizStep>shipping_out</bizStep>")),
            Some("cbv-bizstep")
        );
        assert_eq!(
            check(xml("<disposition>quarantined</disposition>")),
            Some("cbv-disposition")
        );
        assert_eq!(
            check(xml(
                "<quantityList><quantityElement><epcClass>x</epcClass><weight>1</weight></quantityElement></quantityList>"
            )),
            Some("quantity-element-fields")
        );
        assert_eq!(
            check(xml("<ilmd><lotNumber>L1</lotNumber></ilmd>")),
            Some("ilmd-namespace")
        );
        assert_eq!(
            check(xml("<ilmd><ex:lotNumber>L1</ex:lotNumber></ilmd>")),
            None
        );
    }
}
