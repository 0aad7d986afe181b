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
