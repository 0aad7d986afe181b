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
//!   with elements of other namespaces after them;
//! - `required-field`: what the schemas require that the readers would do without. Both
//!   bindings: `eventTimeZoneOffset` on every event; a TransactionEvent's
//!   `bizTransactionList` with at least one entry; an AssociationEvent's `parentID`; at
//!   least one `sensorReport` in each sensor element (XML: at least one `sensorElement` in
//!   a `sensorElementList`, and a quantity element's `quantity` when it has a `uom`). JSON-LD only (the XSD leaves them optional): an ObjectEvent's
//!   `epcList` (empty is enough), a non-empty `quantityList`, or sensor elements with a
//!   `readPoint`; an AggregationEvent's or AssociationEvent's `childEPCs` or
//!   `childQuantityList` unless the action is DELETE; a TransactionEvent's `epcList` or
//!   `quantityList` unless the action is DELETE; a TransformationEvent's inputs and
//!   outputs, or its `transformationID` and either; a sensor report's `type`; a
//!   persistent disposition's `set` or `unset`;
//! - `value-format`: values of the schemas' types and patterns. JSON-LD: an
//!   `eventTimeZoneOffset` from `-14:00` to `+14:00` (the pattern
//!   `^([+]|[-])((0[0-9]|1[0-3]):([0-5][0-9])|14:00)$`; the XSD types it `xsd:string`);
//!   `eventTime`, `recordTime` and `errorDeclaration.declarationTime` RFC 3339 date-times
//!   (`format: date-time`); the identifiers typed `format: uri` (`eventID`, `parentID`,
//!   the EPC lists, `epcClass`, `transformationID`, `certificationInfo`, `readPoint.id`,
//!   `bizLocation.id`, business transactions, sources, destinations,
//!   `correctiveEventIDs`) with a URI scheme and no spaces; the `type` of a business
//!   transaction, source or destination and an error declaration's `reason` one of the
//!   schema's terms (`po`, `owning_party`, `did_not_occur`, …) or a URI of another
//!   vocabulary (the schema refuses the terms' own CBV URIs there; like the `cbv-*` rules
//!   these checks take them, as the readers do). XML: the same times match
//!   the XSD's `DateTimeStamp` pattern (an uppercase `T`, `Z` or an offset to ±14:00),
//!   and a quantity is an `xsd:decimal` (no exponent). Sensor elements, both bindings:
//!   the metadata's and reports' times are date-times as above, the reports' values
//!   (`value`, `minValue`, … `percValue`) numbers (`decimal`; XML `xsd:double`),
//!   `booleanValue` a boolean, `hexBinaryValue` hexadecimal (XML: two digits an octet);
//!   JSON-LD also: their device, method, rules, substance and `uriValue` fields URIs and
//!   `stringValue` and `uom` strings.
//!
//! What the schemas require that the readers already refuse, with the event and field
//! named, is not checked twice: a missing or unknown event `type` (the five types; the
//! JSON schema's extension types by URI are not read), a missing or unreadable
//! `eventTime` or `recordTime`, a missing `action` on all but TransformationEvents and one
//! other than ADD, OBSERVE or DELETE, a quantity element without `epcClass` or with a
//! `quantity` that is not a number, a `readPoint` or `bizLocation` without `id`, a
//! business transaction without its value, a source or destination without its `type`
//! or value, an error declaration without `declarationTime`.
//!
//! Not held (yet): the JSON schema's `uom` pattern `^[A-Z0-9]{2,3}$` (UN/ECE Rec. 20
//! codes; the plant's units such as `kg` are what the writers give, and mapping them is
//! a decision of its own), the business transaction, source/destination and error reason
//! terms in XML (the XSD types them `xsd:anyURI`), the measurement types of sensor
//! reports, an ObjectEvent's `ilmd` only with ADD, and the typing of the XSD's
//! `xsd:anyURI` (which takes almost any text).
//!
//! A 1.x XML document (its own schema, with 2.0's fields in extension wrappers) is held
//! to the CBV, quantity-element and ILMD rules only.
//!
//! Sources of the rules: GS1 EPCIS 2.0 (2022), its JSON schema and XSD as published in
//! github.com/gs1/EPCIS at commit 2b888be: `JSON-Schema/schemas/bizStep-JSON-Schema.json`
//! and `disposition-JSON-Schema.json` for the CBV 2.0 terms listed below;
//! `JSON-Schema/schemas/event-definitions-JSON-Schema.json` (`Event`, `quantityElement`,
//! `sensorElement`, `sensorReport`, `persistentDisposition`, `uri`, `time`) and the
//! per-type schemas (`ObjectEvent-JSON-Schema.json`, …: `required` and the `anyOf` of
//! what an event names) for `required-field` and `value-format` in JSON-LD;
//! `XSD/EPCglobal-epcis-2_0.xsd` for the element sequences, the elements without
//! `minOccurs="0"`, `DateTimeStamp` and the `xsd:decimal` quantity.

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

/// The types of a business transaction the JSON schema names
/// (`bizTransaction-type-JSON-Schema.json`).
const BIZ_TRANSACTION_TYPE: Terms = Terms {
    rule: "value-format",
    terms: &[
        "bol",
        "cert",
        "desadv",
        "inv",
        "pedigree",
        "po",
        "poc",
        "prodorder",
        "recadv",
        "rma",
        "testprd",
        "testres",
        "upevt",
    ],
    urn: "urn:epcglobal:cbv:btt:",
    web: "https://ref.gs1.org/cbv/BTT-",
};

/// The source and destination types (`source-dest-type-JSON-Schema.json`).
const SOURCE_DEST_TYPE: Terms = Terms {
    rule: "value-format",
    terms: &["owning_party", "possessing_party", "location"],
    urn: "urn:epcglobal:cbv:sdt:",
    web: "https://ref.gs1.org/cbv/SDT-",
};

/// The reasons of an error declaration (`error-reason-JSON-Schema.json`).
const ERROR_REASON: Terms = Terms {
    rule: "value-format",
    terms: &["did_not_occur", "incorrect_data"],
    urn: "urn:epcglobal:cbv:er:",
    web: "https://ref.gs1.org/cbv/ER-",
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
    required_json(&at, event)?;
    formats_json(&at, event)
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
/// 1.x document (its own schema, with 2.0's fields in extension wrappers) is not held to it,
/// nor to `required-field` and `value-format`.
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
    if in_order {
        required_xml(&at, event.local(), &fields)?;
        formats_xml(&at, &fields)?;
    }
    Ok(())
}

/// Whether `value` holds a non-empty array.
fn non_empty(value: &Value) -> bool {
    value.as_array().is_some_and(|a| !a.is_empty())
}

/// Whether `key` is present (and not `null`) on `object`.
fn has(object: &Value, key: &str) -> bool {
    object.get(key).is_some_and(|v| !v.is_null())
}

fn missing(at: &EventAt<'_>, field: &str, why: &str) -> Violation {
    at.violation("required-field", field, format!("missing: {why}"))
}

fn malformed(at: &EventAt<'_>, field: &str, value: &str, expected: &str) -> Violation {
    at.violation(
        "value-format",
        field,
        format!("`{value}` is not {expected}"),
    )
}

/// `required-field` (JSON-LD): what `event-definitions-JSON-Schema.json` and the per-type
/// schemas require beyond what the reader already refuses.
fn required_json(at: &EventAt<'_>, event: &Value) -> Result<(), Violation> {
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

/// The identifier fields the JSON schema types as `"format": "uri"` (single values).
const URI_FIELDS: [&str; 4] = [
    "eventID",
    "parentID",
    "transformationID",
    "certificationInfo",
];
/// The lists of identifiers the JSON schema types as URIs.
const URI_LISTS: [&str; 4] = ["epcList", "childEPCs", "inputEPCList", "outputEPCList"];

/// `value-format` (JSON-LD): the JSON schema's patterns and formats on the event's values.
fn formats_json(at: &EventAt<'_>, event: &Value) -> Result<(), Violation> {
    if let Some(offset) = event["eventTimeZoneOffset"].as_str()
        && !schema_offset(offset.as_bytes())
    {
        return Err(malformed(
            at,
            "eventTimeZoneOffset",
            offset,
            "a UTC offset ±hh:mm from -14:00 to +14:00",
        ));
    }
    for (field, value) in [
        ("eventTime", &event["eventTime"]),
        ("recordTime", &event["recordTime"]),
        (
            "errorDeclaration.declarationTime",
            &event["errorDeclaration"]["declarationTime"],
        ),
    ] {
        if let Some(text) = value.as_str()
            && !rfc3339_date_time(text)
        {
            return Err(malformed(
                at,
                field,
                text,
                "an RFC 3339 date-time such as 2026-03-02T06:00:00Z",
            ));
        }
    }
    let uri = |field: String, value: &Value| match value.as_str() {
        Some(text) if !is_uri(text) => Err(malformed(
            at,
            &field,
            text,
            "a URI (a scheme such as `urn:` or `https:`, then no spaces)",
        )),
        _ => Ok(()),
    };
    for field in URI_FIELDS {
        uri(field.into(), &event[field])?;
    }
    for (i, id) in event["certificationInfo"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        uri(format!("certificationInfo[{i}]"), id)?;
    }
    for list in URI_LISTS {
        for (i, id) in event[list].as_array().into_iter().flatten().enumerate() {
            uri(format!("{list}[{i}]"), id)?;
        }
    }
    for list in QUANTITY_LISTS {
        for (i, element) in event[list].as_array().into_iter().flatten().enumerate() {
            uri(format!("{list}[{i}].epcClass"), &element["epcClass"])?;
        }
    }
    for field in ["readPoint", "bizLocation"] {
        uri(format!("{field}.id"), &event[field]["id"])?;
    }
    for (list, key) in [
        ("bizTransactionList", "bizTransaction"),
        ("sourceList", "source"),
        ("destinationList", "destination"),
    ] {
        for (i, element) in event[list].as_array().into_iter().flatten().enumerate() {
            uri(format!("{list}[{i}].{key}"), &element[key])?;
        }
    }
    // The CBV's terms of the three vocabularies, or a URI of another.
    let mut typed: Vec<(&Terms, String, &str)> = Vec::new();
    for (list, terms) in [
        ("bizTransactionList", &BIZ_TRANSACTION_TYPE),
        ("sourceList", &SOURCE_DEST_TYPE),
        ("destinationList", &SOURCE_DEST_TYPE),
    ] {
        for (i, element) in event[list].as_array().into_iter().flatten().enumerate() {
            if let Some(kind) = element["type"].as_str() {
                typed.push((terms, format!("{list}[{i}].type"), kind));
            }
        }
    }
    if let Some(reason) = event["errorDeclaration"]["reason"].as_str() {
        typed.push((&ERROR_REASON, "errorDeclaration.reason".into(), reason));
    }
    for (terms, field, value) in typed {
        at.term(terms, &field, value)?;
        if value.contains(':') {
            uri(field, &Value::from(value))?;
        }
    }
    for (i, id) in event["errorDeclaration"]["correctiveEventIDs"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        uri(format!("errorDeclaration.correctiveEventIDs[{i}]"), id)?;
    }
    sensor_formats_json(at, event)
}

/// The sensor metadata fields the JSON schema types as date-times and as URIs.
const SENSOR_METADATA_TIMES: [&str; 3] = ["time", "startTime", "endTime"];
const SENSOR_URIS: [&str; 5] = [
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "bizRules",
];
/// The sensor report fields the JSON schema types as URIs beyond [`SENSOR_URIS`], and as
/// numbers (`decimal`); the XSD types the numbers `xsd:double`.
const SENSOR_REPORT_URIS: [&str; 4] = [
    "microorganism",
    "chemicalSubstance",
    "coordinateReferenceSystem",
    "uriValue",
];
const SENSOR_NUMBERS: [&str; 7] = [
    "value",
    "minValue",
    "maxValue",
    "meanValue",
    "sDev",
    "percRank",
    "percValue",
];

/// `value-format` on sensor elements (JSON-LD): the types `event-definitions-JSON-Schema.json`
/// gives `sensorMetadata` and `sensorReport` fields.
fn sensor_formats_json(at: &EventAt<'_>, event: &Value) -> Result<(), Violation> {
    let wrong = |field: String, value: &Value, expected: &str| {
        let text = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        Err(malformed(at, &field, &text, expected))
    };
    let uri = |field: String, value: &Value| match value.as_str() {
        Some(text) if is_uri(text) => Ok(()),
        _ => wrong(
            field,
            value,
            "a URI (a scheme such as `urn:` or `https:`, then no spaces)",
        ),
    };
    let time = |field: String, value: &Value| match value.as_str() {
        Some(text) if rfc3339_date_time(text) => Ok(()),
        _ => wrong(
            field,
            value,
            "an RFC 3339 date-time such as 2026-03-02T06:00:00Z",
        ),
    };
    for (i, element) in event["sensorElementList"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let metadata = &element["sensorMetadata"];
        for key in SENSOR_METADATA_TIMES {
            if let Some(v) = metadata.get(key) {
                time(format!("sensorElementList[{i}].sensorMetadata.{key}"), v)?;
            }
        }
        for key in SENSOR_URIS {
            if let Some(v) = metadata.get(key) {
                uri(format!("sensorElementList[{i}].sensorMetadata.{key}"), v)?;
            }
        }
        for (j, report) in element["sensorReport"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let field = |key: &str| format!("sensorElementList[{i}].sensorReport[{j}].{key}");
            if let Some(v) = report.get("time") {
                time(field("time"), v)?;
            }
            for key in SENSOR_URIS.iter().chain(&SENSOR_REPORT_URIS) {
                if let Some(v) = report.get(*key) {
                    uri(field(key), v)?;
                }
            }
            for key in SENSOR_NUMBERS {
                if let Some(v) = report.get(key)
                    && !v.is_number()
                {
                    wrong(field(key), v, "a number")?;
                }
            }
            if let Some(v) = report.get("booleanValue")
                && !v.is_boolean()
            {
                wrong(field("booleanValue"), v, "true or false")?;
            }
            if let Some(v) = report.get("hexBinaryValue")
                && !v
                    .as_str()
                    .is_some_and(|t| !t.is_empty() && t.bytes().all(|c| c.is_ascii_hexdigit()))
            {
                wrong(field("hexBinaryValue"), v, "hexadecimal digits")?;
            }
            for key in ["stringValue", "uom"] {
                if let Some(v) = report.get(key)
                    && !v.is_string()
                {
                    wrong(field(key), v, "a string")?;
                }
            }
        }
    }
    Ok(())
}

/// `required-field` (XML): what the EPCIS 2.0 XSD requires beyond what the reader already
/// refuses (elements without `minOccurs="0"`).
fn required_xml(at: &EventAt<'_>, kind: &str, fields: &[&Element]) -> Result<(), Violation> {
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

/// `value-format` (XML): the XSD's `DateTimeStamp` pattern on the event's times and
/// `xsd:decimal` on quantities.
fn formats_xml(at: &EventAt<'_>, fields: &[&Element]) -> Result<(), Violation> {
    for f in fields {
        let name = f.name.as_str();
        let time = match name {
            "eventTime" | "recordTime" => Some((name.to_owned(), f.text.trim())),
            "errorDeclaration" => f
                .child("declarationTime")
                .map(|t| ("errorDeclaration.declarationTime".to_owned(), t.text.trim())),
            _ => None,
        };
        if let Some((field, text)) = time
            && !xsd_date_time(text.as_bytes())
        {
            return Err(malformed(
                at,
                &field,
                text,
                "an XSD DateTimeStamp such as 2026-03-02T06:00:00Z (offset -14:00 to +14:00)",
            ));
        }
        if name == "sensorElementList" {
            sensor_formats_xml(at, f)?;
        }
        if QUANTITY_LISTS.contains(&name) {
            for (i, element) in f.children_named("quantityElement").enumerate() {
                if let Some(q) = element.child("quantity")
                    && !q.text.trim().is_empty()
                    && !xsd_decimal(q.text.trim().as_bytes())
                {
                    return Err(malformed(
                        at,
                        &format!("{name}[{i}].quantity"),
                        q.text.trim(),
                        "an xsd:decimal such as 12.5",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The attributes of one type, how to tell a value of it, and what it looks like.
type AttributeCheck<'a> = (&'a [&'a str], fn(&[u8]) -> bool, &'a str);

/// `value-format` on sensor elements (XML): the XSD's attribute types on `sensorMetadata`
/// and `sensorReport` (`DateTimeStamp` times, `xsd:double` numbers, `xsd:boolean`,
/// `xsd:hexBinary`).
fn sensor_formats_xml(at: &EventAt<'_>, list: &Element) -> Result<(), Violation> {
    for (i, element) in list.children_named("sensorElement").enumerate() {
        if let Some(metadata) = element.child("sensorMetadata") {
            for key in SENSOR_METADATA_TIMES {
                if let Some(text) = metadata.attribute(key)
                    && !xsd_date_time(text.trim().as_bytes())
                {
                    return Err(malformed(
                        at,
                        &format!("sensorElementList[{i}].sensorMetadata.{key}"),
                        text,
                        "an XSD DateTimeStamp such as 2026-03-02T06:00:00Z",
                    ));
                }
            }
        }
        for (j, report) in element.children_named("sensorReport").enumerate() {
            let field = |key: &str| format!("sensorElementList[{i}].sensorReport[{j}].{key}");
            let checks: [AttributeCheck<'_>; 4] = [
                (
                    &["time"],
                    xsd_date_time,
                    "an XSD DateTimeStamp such as 2026-03-02T06:00:00Z",
                ),
                (
                    &SENSOR_NUMBERS,
                    xsd_double,
                    "an xsd:double such as 26.5 or 1.2E3",
                ),
                (&["booleanValue"], xsd_boolean, "true, false, 1 or 0"),
                (
                    &["hexBinaryValue"],
                    xsd_hex_binary,
                    "pairs of hexadecimal digits",
                ),
            ];
            for (keys, valid, expected) in checks {
                for key in keys {
                    if let Some(text) = report.attribute(key)
                        && !valid(text.trim().as_bytes())
                    {
                        return Err(malformed(at, &field(key), text, expected));
                    }
                }
            }
        }
    }
    Ok(())
}

/// `xsd:double`: a decimal with an optional exponent, or `INF`, `-INF`, `NaN`.
fn xsd_double(b: &[u8]) -> bool {
    if matches!(b, b"INF" | b"-INF" | b"+INF" | b"NaN") {
        return true;
    }
    let (mantissa, exponent) = match b.iter().position(|&c| c == b'e' || c == b'E') {
        Some(p) => (&b[..p], Some(&b[p + 1..])),
        None => (b, None),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e
            .strip_prefix(b"+")
            .or_else(|| e.strip_prefix(b"-"))
            .unwrap_or(e);
        !e.is_empty() && e.iter().all(u8::is_ascii_digit)
    });
    exponent_ok && xsd_decimal(mantissa)
}

fn xsd_boolean(b: &[u8]) -> bool {
    matches!(b, b"true" | b"false" | b"1" | b"0")
}

/// `xsd:hexBinary`: hexadecimal digits, two to an octet.
fn xsd_hex_binary(b: &[u8]) -> bool {
    b.len().is_multiple_of(2) && b.iter().all(u8::is_ascii_hexdigit)
}

/// The JSON schema's `eventTimeZoneOffset` pattern: `+` or `-`, then `00:00` to `13:59`
/// or `14:00`.
fn schema_offset(b: &[u8]) -> bool {
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() == 6
        && matches!(b[0], b'+' | b'-')
        && b[3] == b':'
        && digits(1..3)
        && digits(4..6)
        && ((b[1..3] < b"14"[..] && b[4] <= b'5') || &b[1..6] == b"14:00")
}

/// The EPCIS 2.0 XSD's `DateTimeStamp` pattern: `yyyy-mm-ddThh:mm:ss`, an optional
/// fraction, then `Z` or an offset as [`schema_offset`] reads it; and a real date.
fn xsd_date_time(b: &[u8]) -> bool {
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let two = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape || two(11) > 23 || two(14) > 59 || two(17) > 59 {
        return false;
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let n = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    // The calendar (month 01 to 12, the day within the month) is `Timestamp::parse`'s.
    (rest == b"Z" || schema_offset(rest))
        && std::str::from_utf8(b).is_ok_and(|t| model::Timestamp::parse(t).is_ok())
}

/// JSON Schema's `date-time` format: RFC 3339's `date-time` (`T`, not a space, between
/// date and time).
fn rfc3339_date_time(text: &str) -> bool {
    matches!(text.as_bytes().get(10), Some(b'T' | b't')) && model::Timestamp::parse(text).is_ok()
}

/// `xsd:decimal`: an optional sign, digits with at most one decimal point, no exponent.
fn xsd_decimal(b: &[u8]) -> bool {
    let b = b
        .strip_prefix(b"+")
        .or_else(|| b.strip_prefix(b"-"))
        .unwrap_or(b);
    let (whole, fraction) = match b.iter().position(|&c| c == b'.') {
        Some(p) => (&b[..p], &b[p + 1..]),
        None => (b, &b[..0]),
    };
    (!whole.is_empty() || !fraction.is_empty())
        && whole.iter().chain(fraction).all(u8::is_ascii_digit)
}

/// JSON Schema's `uri` format, as far as it can be told without a full RFC 3986 parser: a
/// scheme (a letter, then letters, digits, `+`, `-` or `.`), a colon, and no whitespace or
/// control characters.
fn is_uri(text: &str) -> bool {
    let Some((scheme, _)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
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
        json!({"type": "ObjectEvent", "eventID": "urn:ex:E1", "eventTime": "2026-01-01T00:00:00Z",
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
                 <ObjectEvent><eventTime>2026-01-01T00:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset><eventID>E1</eventID>{inner}</ObjectEvent>\
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

    #[test]
    fn the_new_rules_name_their_field_in_json() {
        let without = |key: &str| {
            let mut e = event();
            e.as_object_mut().unwrap().remove(key);
            doc(e)
        };
        let refused = |v: Value| check_json(&v).err().map(|e| (e.rule, e.field));
        assert_eq!(
            refused(without("eventTimeZoneOffset")),
            Some(("required-field", "eventTimeZoneOffset".into()))
        );
        assert_eq!(
            refused(without("epcList")),
            Some(("required-field", "epcList".into()))
        );
        let mut empty = event();
        empty["epcList"] = json!([]);
        assert_eq!(refused(doc(empty)), None, "an empty epcList is enough");
        let mut transaction = event();
        transaction["type"] = json!("TransactionEvent");
        assert_eq!(
            refused(doc(transaction.clone())),
            Some(("required-field", "bizTransactionList".into()))
        );
        transaction["bizTransactionList"] = json!([{"bizTransaction": "urn:ex:po:1"}]);
        assert_eq!(refused(doc(transaction)), None);
        let mut odd = event();
        odd["readPoint"] = json!({"id": "dock 4"});
        assert_eq!(
            refused(doc(odd)),
            Some(("value-format", "readPoint.id".into()))
        );
    }

    /// The offsets the JSON schema's pattern takes are exactly ±00:00 to ±13:59 and ±14:00;
    /// an eventTime in the XML is held to the same offsets and an uppercase `T`.
    mod offsets {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn offsets_within_fourteen_hours_pass(
                plus in any::<bool>(), hours in 0u32..24, minutes in 0u32..60
            ) {
                let sign = if plus { '+' } else { '-' };
                let offset = format!("{sign}{hours:02}:{minutes:02}");
                let within = hours < 14 || (hours == 14 && minutes == 0);
                let mut e = event();
                e["eventTimeZoneOffset"] = json!(offset);
                let refused = check_json(&doc(e)).err();
                prop_assert_eq!(refused.is_none(), within, "{}", offset);
                if let Some(v) = refused {
                    prop_assert_eq!(v.rule, "value-format");
                    prop_assert_eq!(v.field, "eventTimeZoneOffset");
                }
                let time = format!("2026-01-01T00:00:00.5{offset}");
                prop_assert_eq!(xsd_date_time(time.as_bytes()), within, "{}", time);
                prop_assert!(!xsd_date_time(time.replace('T', "t").as_bytes()));
            }

            #[test]
            fn doubles_take_an_exponent_decimals_do_not(mantissa in -1000.0f64..1000.0, exponent in -300i32..300) {
                let text = format!("{mantissa}E{exponent}");
                prop_assert!(xsd_double(text.as_bytes()), "{}", text);
                prop_assert!(!xsd_decimal(text.as_bytes()), "{}", text);
                let plain = mantissa.to_string();
                prop_assert!(xsd_double(plain.as_bytes()) && xsd_decimal(plain.as_bytes()), "{}", plain);
                for bad in ["1.2E", "E3", "1.2.3", "inf", ""] {
                    prop_assert!(!xsd_double(bad.as_bytes()), "{}", bad);
                }
            }

            #[test]
            fn decimals_are_digits_with_one_point(whole in 0u64..1_000_000, fraction in 0u32..1000) {
                let text = format!("{whole}.{fraction}");
                prop_assert!(xsd_decimal(text.as_bytes()));
                let negative = format!("-{whole}");
                prop_assert!(xsd_decimal(negative.as_bytes()));
                let exponent = format!("{whole}e{fraction}");
                prop_assert!(!xsd_decimal(exponent.as_bytes()));
            }
        }
    }
}
