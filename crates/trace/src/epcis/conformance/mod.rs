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

mod formats;
mod lexical;
mod order;
mod required;
mod terms;

use formats::{formats_json, formats_xml};
use lexical::*;
use order::check_order;
pub(crate) use order::type_sequence;
use required::{required_json, required_xml};
use terms::*;
pub use terms::{CBV_BIZ_STEPS, CBV_DISPOSITIONS};

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
