//! The JSON-LD import fast path (`epcis::fast::import_json`) against the full reader
//! (`json::parse` → `lower` → `IndexBuilder::add`): the same index for every sample document,
//! for the benchmark's generated genealogy and for damaged documents, or the same error (and
//! nothing added) when the full reader rejects a document.

#[path = "../benches/common/mod.rs"]
#[allow(dead_code)]
mod common;

mod sample_files;

use model::Timestamp;
use trace::epcis::{self, fast};
use trace::{ImportError, Index, IndexBuilder};

fn samples() -> Vec<(String, String)> {
    sample_files::samples("epcis")
        .into_iter()
        .filter(|(name, _)| name.ends_with(".jsonld") || name.ends_with(".json"))
        .collect()
}

/// The full path: event model, genealogy records, index.
fn full(texts: &[&str]) -> Result<Index, ImportError> {
    let mut builder = IndexBuilder::new();
    for text in texts {
        let doc = epcis::json::parse(text)?;
        builder.add(&epcis::lower(&doc.events));
    }
    Ok(builder.finish())
}

/// The fast path, the way imports run.
fn fast(texts: &[&str]) -> Result<Index, ImportError> {
    let mut builder = IndexBuilder::new();
    for text in texts {
        fast::import_json(text, &mut builder)?;
    }
    Ok(builder.finish())
}

#[test]
fn every_sample_gives_the_same_index_on_both_paths() {
    let samples = samples();
    let mut compared = 0;
    for (name, text) in &samples {
        let expected = full(&[text]);
        if name.starts_with("query_SimpleEventQuery") {
            assert!(
                expected.is_err(),
                "{name}: a query is not a document of events"
            );
            continue;
        }
        let expected = expected.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            fast(&[text]).unwrap() == expected,
            "{name}: the indexes differ"
        );
        // The model's events lowered straight into the index: the same again.
        let doc = epcis::json::parse(text).unwrap();
        let mut builder = IndexBuilder::new();
        builder.add_epcis(&doc.events);
        assert!(builder.finish() == expected, "{name}: add_epcis differs");
        compared += 1;
    }
    assert!(compared >= 15, "only {compared} samples compared");
    // All of them into one index, in order.
    let texts: Vec<&str> = samples
        .iter()
        .filter(|(n, _)| !n.starts_with("query_SimpleEventQuery"))
        .map(|(_, t)| t.as_str())
        .collect();
    assert!(fast(&texts).unwrap() == full(&texts).unwrap());
}

#[test]
fn the_generated_genealogy_gives_the_same_index_on_both_paths() {
    let mut g = common::Gen::default();
    let events = common::batch_events(&mut g, 0);
    let texts: Vec<String> = events
        .chunks(2_500)
        .map(|c| epcis::json::document(c, &Default::default(), Timestamp(0)).to_string())
        .collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let expected = full(&texts).unwrap();
    assert!(expected.edge_count() > 200_000);
    assert!(fast(&texts).unwrap() == expected);
}

/// Damages that the full reader accepts or rejects: both paths must agree either way.
const DAMAGES: &[(&str, &str)] = &[
    ("\"epcList\"", "\"epcLst\""),
    ("\"ADD\"", "\"ADDED\""),
    ("\"OBSERVE\"", "\"DELETE\""),
    ("\"ADD\"", "\"DELETE\""),
    ("urn:epc:id:sgtin:", "urn:epc:id:sgtin:x"),
    ("urn:epc:id:sgtin:", "lot:"),
    ("urn:epc:class:lgtin:", "https://id.gs1.org/01/"),
    ("\"eventTime\"", "\"eventTme\""),
    ("\"eventID\"", "\"example:eventID\""),
    (
        "\"eventTimeZoneOffset\": \"",
        "\"eventTimeZoneOffset\": \"x",
    ),
    ("\"quantity\": ", "\"quantity\": \"1\", \"x\": "),
    ("\"readPoint\": {", "\"readPoint\": {\"x\": 1, "),
    ("\"bizLocation\": {\"id\"", "\"bizLocation\": {\"xid\""),
    ("\"type\": \"ObjectEvent\"", "\"type\": \"ObjectEvnt\""),
    ("\"action\"", "\"action\": null, \"example:a\""),
    ("\"bizStep\"", "\"example:bizStep\""),
    ("\"disposition\"", "\"dispositon\""),
    ("\"parentID\": \"", "\"parentID\": \" "),
    ("\"childEPCs\": [", "\"childEPCs\": [\"\", "),
    (
        "\"persistentDisposition\": {",
        "\"persistentDisposition\": {\"set\": null, ",
    ),
    (
        "\"errorDeclaration\": {",
        "\"errorDeclaration\": {\"reason\": 5, ",
    ),
    (
        "\"sensorElementList\": [",
        "\"sensorElementList\": {\"x\": [",
    ),
    (
        "\"destinationList\": [",
        "\"destinationList\": [{\"type\": \"x\"}, ",
    ),
    ("\"eventList\": [", "\"eventList\": [{}, "),
    ("\"eventList\": [", "\"eventList\": [[], "),
    ("\"epcisBody\"", "\"epcisBdy\""),
    ("}", "},"),
];

#[test]
fn damaged_documents_get_the_same_answer_and_nothing_half_imported() {
    let mut checked = 0;
    for (name, text) in samples() {
        for (from, to) in DAMAGES {
            for (nth, _) in text.match_indices(from).take(3) {
                let damaged = format!("{}{to}{}", &text[..nth], &text[nth + from.len()..]);
                let expected = full(&[&damaged]);
                let mut builder = IndexBuilder::new();
                let got = fast::import_json(&damaged, &mut builder);
                match (&expected, &got) {
                    (Ok(index), Ok(_)) => {
                        assert!(
                            builder.finish() == *index,
                            "{name}: `{from}` → `{to}` at {nth}: the indexes differ"
                        );
                    }
                    (Err(e), Err(f)) => {
                        assert_eq!(e, f, "{name}: `{from}` → `{to}` at {nth}");
                        assert_eq!(builder.edge_count(), 0, "{name}: half imported");
                        assert!(builder.finish() == IndexBuilder::new().finish());
                    }
                    _ => panic!(
                        "{name}: `{from}` → `{to}` at {nth}: full {:?}, fast {:?}",
                        expected.as_ref().map(|_| ()),
                        got.as_ref().map(|_| ())
                    ),
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} damaged documents");
}

#[test]
fn a_fault_in_either_half_of_a_large_document_adds_nothing() {
    let mut g = common::Gen::default();
    let events = common::batch_events(&mut g, 0);
    let text =
        epcis::json::document(&events[..1_000], &Default::default(), Timestamp(0)).to_string();
    // Serial 10 is in the first half of the document (its order), serial 99,990 in the
    // second (its pack); a control character makes either no identifier.
    for serial in [
        "urn:epc:id:sgtin:4012345.077889.10\"",
        "urn:epc:id:sgtin:4012345.077889.990\"",
    ] {
        let at = text.rfind(serial).unwrap_or_else(|| panic!("{serial}"));
        let damaged = format!(
            "{}\\u0001{}",
            &text[..at + serial.len() - 1],
            &text[at + serial.len() - 1..]
        );
        let expected = full(&[&damaged]).unwrap_err();
        assert!(
            expected.index.is_some() && expected.field.contains('['),
            "{expected}"
        );
        let mut builder = IndexBuilder::new();
        assert_eq!(
            fast::import_json(&damaged, &mut builder).unwrap_err(),
            expected
        );
        assert_eq!(builder.edge_count(), 0);
        assert!(builder.finish() == IndexBuilder::new().finish());
    }
}

/// The bulk import, the way `mixplane trace import FILE...` and the benchmark run.
fn bulk(texts: &[&str]) -> Result<Index, fast::BulkImportError> {
    let mut builder = IndexBuilder::new();
    fast::import_json_many(texts, &mut builder)?;
    Ok(builder.finish())
}

#[test]
fn a_bulk_import_gives_the_index_of_importing_one_document_after_another() {
    // The benchmark's documents (two batches, so that names recur across documents).
    let mut g = common::Gen::default();
    let mut texts = Vec::new();
    for b in 0..2 {
        let events = common::batch_events(&mut g, b);
        texts.extend(
            events
                .chunks(2_500)
                .map(|c| epcis::json::document(c, &Default::default(), Timestamp(0)).to_string()),
        );
    }
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    assert!(texts.len() >= 8);
    let expected = fast(&texts).unwrap();
    assert!(expected.edge_count() > 400_000);
    assert!(bulk(&texts).unwrap() == expected);
    // The samples, all in one batch (documents the fast path leaves to the full reader
    // among them), and each alone.
    let samples: Vec<(String, String)> = samples()
        .into_iter()
        .filter(|(name, _)| !name.starts_with("query_SimpleEventQuery"))
        .collect();
    let texts: Vec<&str> = samples.iter().map(|(_, t)| t.as_str()).collect();
    assert!(bulk(&texts).unwrap() == fast(&texts).unwrap());
    assert!(bulk(&texts).unwrap() == full(&texts).unwrap());
    for (name, text) in &samples {
        assert!(bulk(&[text]).unwrap() == fast(&[text]).unwrap(), "{name}");
    }
    assert!(bulk(&[]).unwrap() == IndexBuilder::new().finish());
}

#[test]
fn a_rejected_document_stops_a_bulk_import_after_the_documents_before_it() {
    let mut g = common::Gen::default();
    let events = common::batch_events(&mut g, 0);
    let texts: Vec<String> = events[..3_000]
        .chunks(1_000)
        .map(|c| epcis::json::document(c, &Default::default(), Timestamp(0)).to_string())
        .collect();
    let broken = texts[1].replacen("\"eventTime\"", "\"eventTme\"", 1);
    let expected_error = full(&[&broken]).unwrap_err();
    // A rejected document first, in the middle, last.
    for at in 0..3 {
        let mut batch: Vec<&str> = texts.iter().map(String::as_str).collect();
        batch[at] = &broken;
        let mut builder = IndexBuilder::new();
        let err = fast::import_json_many(&batch, &mut builder).unwrap_err();
        assert_eq!(err.document, at);
        assert_eq!(err.events_imported, 1_000 * at);
        assert_eq!(err.error, expected_error);
        assert!(err.to_string().contains(&format!("document {at}")), "{err}");
        // Exactly the documents before it, nothing of it or after it.
        assert!(builder.finish() == fast(&batch[..at]).unwrap(), "at {at}");
    }
}
