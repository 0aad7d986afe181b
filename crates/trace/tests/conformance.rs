//! The conformance rules of an EPCIS 2.0 capture interface against the public sample
//! documents: every sample passes (they are the standard's own examples), and each sample
//! made non-conformant in one way is refused by the rule that names it.

mod sample_files;

use serde_json::Value;
use trace::epcis::conformance::{check_json, check_xml};
use trace::epcis::xml::standard_tree;

use sample_files::samples;

fn documents() -> Vec<(String, String)> {
    samples("epcis")
        .into_iter()
        .filter(|(name, _)| !name.starts_with("query_"))
        .collect()
}

fn check(name: &str, text: &str) -> Result<(), trace::epcis::conformance::Violation> {
    if name.ends_with(".xml") {
        check_xml(&standard_tree(text).expect("XML"))
    } else {
        check_json(&serde_json::from_str::<Value>(text).expect("JSON"))
    }
}

#[test]
fn every_sample_is_conformant() {
    let all = documents();
    assert!(all.len() >= 10);
    for (name, text) in all {
        if let Err(v) = check(&name, &text) {
            panic!("{name}: {v}");
        }
    }
}

#[test]
fn each_sample_without_its_context_is_refused_by_name() {
    for (name, text) in documents()
        .into_iter()
        .filter(|(n, _)| n.ends_with(".jsonld"))
    {
        let mut value: Value = serde_json::from_str(&text).unwrap();
        value.as_object_mut().unwrap().remove("@context");
        let error = check_json(&value).expect_err("no context");
        assert_eq!(error.rule, "context-required", "{name}");
    }
}

#[test]
fn a_bare_word_outside_the_cbv_is_refused_where_it_stands() {
    let mut refused = 0;
    for (name, text) in documents()
        .into_iter()
        .filter(|(n, _)| n.ends_with(".jsonld"))
    {
        let mut value: Value = serde_json::from_str(&text).unwrap();
        let Some(events) = value["epcisBody"]["eventList"].as_array_mut() else {
            continue;
        };
        let Some((index, event)) = events
            .iter_mut()
            .enumerate()
            .find(|(_, e)| e.get("bizStep").is_some())
        else {
            continue;
        };
        event["bizStep"] = Value::from("sorting");
        let error = check_json(&value).expect_err("not a CBV step");
        assert_eq!(error.rule, "cbv-bizstep", "{name}");
        assert_eq!(error.event, Some(index), "{name}");
        assert_eq!(error.field, "bizStep");
        refused += 1;
    }
    assert!(refused >= 5, "only {refused} samples had a business step");
}

/// What we write is what we would take: every sample's events, exported as XML, pass the
/// rules, the XSD's element order included.
#[test]
fn the_xml_we_write_is_conformant() {
    for (name, text) in documents() {
        let doc = match trace::import::read(&text, model::Timestamp(0)).expect("reads") {
            trace::import::Imported::Epcis(doc) => doc,
            _ => panic!("{name}: not EPCIS"),
        };
        let xml = trace::epcis::xml::document(&doc.events, &doc.namespaces, model::Timestamp(0));
        if let Err(v) = check_xml(&standard_tree(&xml).expect("XML")) {
            panic!("{name}: {v}\n{xml}");
        }
        let json = trace::epcis::json::document(&doc.events, &doc.namespaces, model::Timestamp(0));
        if let Err(v) = check_json(&json) {
            panic!("{name}: {v}\n{json}");
        }
    }
}

/// A sample's text with one event changed by `change` (the first event `pick` accepts).
fn json_with(name: &str, pick: fn(&Value) -> bool, change: fn(&mut Value)) -> String {
    let text = documents()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no sample {name}"))
        .1;
    let mut value: Value = serde_json::from_str(&text).unwrap();
    let events = value["epcisBody"]["eventList"].as_array_mut().unwrap();
    let event = events
        .iter_mut()
        .find(|e| pick(e))
        .unwrap_or_else(|| panic!("{name}: no event to change"));
    change(event);
    value.to_string()
}

fn xml_with(name: &str, from: &str, to: &str) -> String {
    let text = documents()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no sample {name}"))
        .1;
    assert!(text.contains(from), "{name}: no `{from}`");
    text.replacen(from, to, 1)
}

/// A small EPCIS 2.0 XML document holding one event of `kind` with `inner` after its
/// eventTime.
fn xml_event(kind: &str, inner: &str) -> String {
    format!(
        "<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\" schemaVersion=\"2.0\" \
         creationDate=\"2026-01-01T00:00:00Z\"><EPCISBody><EventList><{kind}>\
         <eventTime>2026-01-01T00:00:00Z</eventTime>{inner}</{kind}></EventList></EPCISBody>\
         </epcis:EPCISDocument>"
    )
}

fn remove(event: &mut Value, keys: &[&str]) {
    let object = event.as_object_mut().unwrap();
    for key in keys {
        object.remove(*key);
    }
}

fn is(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["type"] == kind
}

/// Each document is broken in exactly one way: strict capture refuses it whole, naming the
/// rule and the field; lenient capture takes it.
fn assert_refused_by(case: &str, text: &str, rule: &str, field: &str) {
    let now = model::Timestamp(0);
    let error = match trace::import::read_held(text, now, true) {
        Ok(_) => panic!("{case}: taken by strict capture"),
        Err(e) => e,
    };
    assert!(
        error.message.contains(&format!("`{rule}`")),
        "{case}: {error:?}"
    );
    assert_eq!(error.field, field, "{case}: {error:?}");
    assert!(error.index.is_some(), "{case}: names no event");
    if let Err(e) = trace::import::read_held(text, now, false) {
        panic!("{case}: lenient capture refused it: {e:?}");
    }
}

#[test]
fn each_required_field_missing_is_refused_by_name_in_both_bindings() {
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "json: no eventTimeZoneOffset",
            json_with(
                "ObjectEvent.jsonld",
                |_| true,
                |e| remove(e, &["eventTimeZoneOffset"]),
            ),
            "eventTimeZoneOffset",
        ),
        (
            "json: TransactionEvent without bizTransactionList",
            json_with(
                "TransactionEvent.jsonld",
                |e| is("TransactionEvent")(e),
                |e| remove(e, &["bizTransactionList"]),
            ),
            "bizTransactionList",
        ),
        (
            "json: AssociationEvent without parentID",
            json_with(
                "AssociationEvent.jsonld",
                |e| is("AssociationEvent")(e),
                |e| remove(e, &["parentID"]),
            ),
            "parentID",
        ),
        (
            "json: ObjectEvent saying nothing of what it saw",
            json_with(
                "ObjectEvent.jsonld",
                |e| e.get("epcList").is_some(),
                |e| remove(e, &["epcList", "quantityList", "sensorElementList"]),
            ),
            "epcList",
        ),
        (
            "json: AggregationEvent without children",
            json_with(
                "AggregationEvent.jsonld",
                |e| is("AggregationEvent")(e) && e["action"] != "DELETE",
                |e| remove(e, &["childEPCs", "childQuantityList"]),
            ),
            "childEPCs",
        ),
        (
            "json: TransformationEvent without inputs or a transformationID",
            json_with(
                "TransformationEvent.jsonld",
                |e| is("TransformationEvent")(e),
                |e| {
                    remove(
                        e,
                        &["inputEPCList", "inputQuantityList", "transformationID"],
                    )
                },
            ),
            "inputEPCList",
        ),
        (
            "json: sensor element without reports",
            json_with(
                "ObjectEvent_with_sensorData.jsonld",
                |e| e.get("sensorElementList").is_some(),
                |e| remove(&mut e["sensorElementList"][0], &["sensorReport"]),
            ),
            "sensorElementList[0].sensorReport",
        ),
        (
            "json: sensor report without type",
            json_with(
                "ObjectEvent_with_sensorData.jsonld",
                |e| e.get("sensorElementList").is_some(),
                |e| remove(&mut e["sensorElementList"][0]["sensorReport"][0], &["type"]),
            ),
            "sensorElementList[0].sensorReport[0].type",
        ),
        (
            "json: empty persistentDisposition",
            json_with(
                "ObjectEvent_with_persistentDisposition.jsonld",
                |e| e.get("persistentDisposition").is_some(),
                |e| e["persistentDisposition"] = serde_json::json!({}),
            ),
            "persistentDisposition.set",
        ),
        (
            "xml: no eventTimeZoneOffset",
            xml_with(
                "AggregationEvent.xml",
                "<eventTimeZoneOffset>+02:00</eventTimeZoneOffset>",
                "",
            ),
            "eventTimeZoneOffset",
        ),
        (
            "xml: a quantity element with a uom and no quantity",
            xml_with("AggregationEvent.xml", "<quantity>200.5</quantity>", ""),
            "childQuantityList[1].quantity",
        ),
        (
            "xml: TransactionEvent without bizTransactionList",
            xml_event(
                "TransactionEvent",
                "<eventTimeZoneOffset>+01:00</eventTimeZoneOffset>\
                 <epcList><epc>urn:epc:id:sgtin:0614141.107346.2017</epc></epcList>\
                 <action>ADD</action>",
            ),
            "bizTransactionList",
        ),
        (
            "xml: AssociationEvent without parentID",
            xml_event(
                "AssociationEvent",
                "<eventTimeZoneOffset>+01:00</eventTimeZoneOffset>\
                 <childEPCs><epc>urn:epc:id:giai:4000001.12345</epc></childEPCs>\
                 <action>ADD</action>",
            ),
            "parentID",
        ),
        (
            "xml: sensor element without reports",
            xml_event(
                "ObjectEvent",
                "<eventTimeZoneOffset>+01:00</eventTimeZoneOffset><epcList/>\
                 <action>OBSERVE</action><sensorElementList><sensorElement>\
                 <sensorMetadata time=\"2026-01-01T00:00:00Z\"/></sensorElement>\
                 </sensorElementList>",
            ),
            "sensorElementList[0].sensorReport",
        ),
    ];
    for (case, text, field) in cases {
        assert_refused_by(case, &text, "required-field", field);
    }
    // The controls: the same small documents with what they lacked are taken.
    let now = model::Timestamp(0);
    for text in [
        xml_event(
            "TransactionEvent",
            "<eventTimeZoneOffset>+01:00</eventTimeZoneOffset>\
             <bizTransactionList><bizTransaction>urn:epcglobal:cbv:bt:0614141073467:1152</bizTransaction></bizTransactionList>\
             <epcList><epc>urn:epc:id:sgtin:0614141.107346.2017</epc></epcList><action>ADD</action>",
        ),
        xml_event(
            "AssociationEvent",
            "<eventTimeZoneOffset>+01:00</eventTimeZoneOffset>\
             <parentID>urn:epc:id:grai:4012345.55555.987</parentID>\
             <childEPCs><epc>urn:epc:id:giai:4000001.12345</epc></childEPCs><action>ADD</action>",
        ),
    ] {
        if let Err(e) = trace::import::read_held(&text, now, true) {
            panic!("{e:?}\n{text}");
        }
    }
}

#[test]
fn each_value_out_of_format_is_refused_by_name_in_both_bindings() {
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "json: offset past +14:00",
            json_with(
                "ObjectEvent.jsonld",
                |_| true,
                |e| e["eventTimeZoneOffset"] = Value::from("+15:00"),
            ),
            "eventTimeZoneOffset",
        ),
        (
            "json: offset Z",
            json_with(
                "ObjectEvent.jsonld",
                |_| true,
                |e| e["eventTimeZoneOffset"] = Value::from("Z"),
            ),
            "eventTimeZoneOffset",
        ),
        (
            "json: eventTime with a space for T",
            json_with(
                "ObjectEvent.jsonld",
                |_| true,
                |e| e["eventTime"] = Value::from("2026-01-01 00:00:00Z"),
            ),
            "eventTime",
        ),
        (
            "json: eventID not a URI",
            json_with(
                "ObjectEvent.jsonld",
                |_| true,
                |e| e["eventID"] = Value::from("event-1"),
            ),
            "eventID",
        ),
        (
            "json: an EPC not a URI",
            json_with(
                "ObjectEvent.jsonld",
                |e| non_empty(&e["epcList"]),
                |e| e["epcList"][0] = Value::from("0614141 107346 2017"),
            ),
            "epcList[0]",
        ),
        (
            "json: a business transaction not a URI",
            json_with(
                "TransactionEvent.jsonld",
                |e| non_empty(&e["bizTransactionList"]),
                |e| e["bizTransactionList"][0]["bizTransaction"] = Value::from("PO 1152"),
            ),
            "bizTransactionList[0].bizTransaction",
        ),
        (
            "json: a business transaction type outside the CBV",
            json_with(
                "TransactionEvent.jsonld",
                |e| non_empty(&e["bizTransactionList"]),
                |e| e["bizTransactionList"][0]["type"] = Value::from("purchase_order"),
            ),
            "bizTransactionList[0].type",
        ),
        (
            "json: a source type outside the CBV",
            json_with(
                "ObjectEvent_all_possible_fields.jsonld",
                |e| non_empty(&e["sourceList"]),
                |e| e["sourceList"][0]["type"] = Value::from("owner"),
            ),
            "sourceList[0].type",
        ),
        (
            "json: an error reason outside the CBV",
            json_with(
                "ObjectEvent_with_error_declaration.jsonld",
                |e| e.get("errorDeclaration").is_some(),
                |e| e["errorDeclaration"]["reason"] = Value::from("typo"),
            ),
            "errorDeclaration.reason",
        ),
        (
            "json: a sensor value not a number",
            json_with(
                "ObjectEvent_with_sensorData.jsonld",
                |e| e.get("sensorElementList").is_some(),
                |e| e["sensorElementList"][0]["sensorReport"][0]["value"] = Value::from("26 C"),
            ),
            "sensorElementList[0].sensorReport[0].value",
        ),
        (
            "json: a sensor's deviceID not a URI",
            json_with(
                "ObjectEvent_with_sensorData.jsonld",
                |e| e.get("sensorElementList").is_some(),
                |e| e["sensorElementList"][0]["sensorMetadata"]["deviceID"] = Value::from(111),
            ),
            "sensorElementList[0].sensorMetadata.deviceID",
        ),
        (
            "xml: a sensor value not an xsd:double",
            xml_event(
                "ObjectEvent",
                "<eventTimeZoneOffset>+01:00</eventTimeZoneOffset><epcList/>\
                 <action>OBSERVE</action><sensorElementList><sensorElement>\
                 <sensorReport type=\"Temperature\" value=\"26 C\"/></sensorElement>\
                 </sensorElementList>",
            ),
            "sensorElementList[0].sensorReport[0].value",
        ),
        (
            "xml: a sensor's hexBinaryValue of an odd length",
            xml_event(
                "ObjectEvent",
                "<eventTimeZoneOffset>+01:00</eventTimeZoneOffset><epcList/>\
                 <action>OBSERVE</action><sensorElementList><sensorElement>\
                 <sensorReport type=\"Temperature\" value=\"26.5\"/>\
                 <sensorReport type=\"Temperature\" hexBinaryValue=\"ABC\"/></sensorElement>\
                 </sensorElementList>",
            ),
            "sensorElementList[0].sensorReport[1].hexBinaryValue",
        ),
        (
            "xml: eventTime offset past +14:00",
            xml_with(
                "AggregationEvent.xml",
                "<eventTime>2013-06-08T14:58:56.591Z</eventTime>",
                "<eventTime>2013-06-08T14:58:56.591+15:00</eventTime>",
            ),
            "eventTime",
        ),
        (
            "xml: eventTime with a space for T",
            xml_with(
                "TransformationEvent.xml",
                "<eventTime>2013-10-31T14:58:56.591Z</eventTime>",
                "<eventTime>2013-10-31 14:58:56.591Z</eventTime>",
            ),
            "eventTime",
        ),
        (
            "xml: quantity with an exponent",
            xml_with(
                "AggregationEvent.xml",
                "<quantity>10.0</quantity>",
                "<quantity>1e1</quantity>",
            ),
            "childQuantityList[0].quantity",
        ),
    ];
    for (case, text, field) in cases {
        assert_refused_by(case, &text, "value-format", field);
    }
}

fn non_empty(v: &Value) -> bool {
    v.as_array().is_some_and(|a| !a.is_empty())
}

/// What a lenient capture took and the writers give back passes strict capture: a `Z`
/// offset is written `+00:00`, an empty persistent disposition is left out, an ObjectEvent
/// that names no EPCs or quantities gets an empty `epcList` (JSON-LD), and a unit without a
/// quantity is left out (XML).
#[test]
fn what_the_writers_give_back_from_a_lenient_capture_is_conformant() {
    let event = |id: &str| {
        let mut e = trace::epcis::EpcisEvent::new(
            trace::epcis::EventType::ObjectEvent,
            id.into(),
            model::Timestamp(0),
        );
        e.action = Some(trace::epcis::Action::Observe);
        e.event_time_zone_offset = "Z".into();
        e.persistent_disposition = Some(Default::default());
        e
    };
    let mut unit_only = event("urn:ex:2");
    unit_only.quantity_list.push(trace::epcis::QuantityElement {
        epc_class: "urn:epc:class:lgtin:4012345.012345.998877".into(),
        quantity: None,
        uom: Some("KGM".into()),
    });
    let events = vec![event("urn:ex:1"), unit_only];
    let at = model::Timestamp(0);
    let json = trace::epcis::json::document(&events, &Default::default(), at);
    if let Err(v) = check_json(&json) {
        panic!("{v}\n{json}");
    }
    let xml = trace::epcis::xml::document(&events, &Default::default(), at);
    if let Err(v) = check_xml(&standard_tree(&xml).unwrap()) {
        panic!("{v}\n{xml}");
    }
}
