//! EPCIS XML as producers write it, beyond the one form the samples use: every element
//! qualified with a prefix bound to the EPCIS namespace (`<epcis:eventTime>`), and a single
//! event with no `EPCISDocument` around it. Each reads to the same events as the samples'
//! own form, and a single event reads as it does inside a document (and its JSON-LD twin
//! as the event itself).

mod sample_files;

use model::Timestamp;
use trace::epcis::{EpcisDocument, json, xml};
use trace::import::{Imported, read};

use sample_files::samples;

fn t0() -> Timestamp {
    Timestamp::parse("2026-01-01T00:00:00Z").unwrap()
}

fn epcis(name: &str, text: &str) -> EpcisDocument {
    match read(text, t0()).unwrap_or_else(|e| panic!("{name}: {e}")) {
        Imported::Epcis(doc) => doc,
        other => panic!("{name}: read as {:?}", other.format()),
    }
}

/// `text` with every element that has no prefix given `prefix`, bound to `namespace` on
/// the root element.
fn qualify_every_element(text: &str, prefix: &str, namespace: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut rest = text;
    let mut declared = false;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let closing = rest.starts_with("</");
        let name_start = if closing { 2 } else { 1 };
        let is_element = rest[name_start..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !is_element {
            out.push('<');
            rest = &rest[1..];
            continue;
        }
        let name_len = rest[name_start..]
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .expect("a tag ends");
        let name = &rest[name_start..name_start + name_len];
        out.push_str(&rest[..name_start]);
        if name.contains(':') {
            out.push_str(name);
        } else {
            out.push_str(&format!("{prefix}:{name}"));
        }
        if !declared && !closing {
            out.push_str(&format!(" xmlns:{prefix}=\"{namespace}\""));
            declared = true;
        }
        rest = &rest[name_start + name_len..];
    }
    out.push_str(rest);
    out
}

#[test]
fn elements_qualified_with_an_epcis_prefix_read_as_the_plain_ones() {
    let xml_samples: Vec<_> = samples("epcis")
        .into_iter()
        .filter(|(name, _)| name.ends_with(".xml"))
        .collect();
    assert!(!xml_samples.is_empty(), "XML samples present");
    for (name, text) in xml_samples {
        let plain = epcis(&name, &text);
        assert!(!plain.events.is_empty(), "{name}: events");
        for namespace in ["urn:epcglobal:epcis:xsd:2", "urn:epcglobal:epcis:xsd:1"] {
            let qualified = qualify_every_element(&text, "ep", namespace);
            assert!(qualified.contains("<ep:eventTime>"), "{qualified}");
            let read_back = epcis(&name, &qualified);
            assert_eq!(read_back.events, plain.events, "{name} in {namespace}");
        }
        // A prefix bound elsewhere is an extension, not a standard field: the event then
        // has no `eventTime` of its own, and the reader says so.
        let foreign = qualify_every_element(&text, "ext", "http://ns.example.com/other");
        let error = read(&foreign, t0())
            .expect_err("not EPCIS fields")
            .to_string();
        assert!(error.contains("eventTime"), "{name}: {error}");
    }
}

#[test]
fn a_single_xml_event_reads_as_it_does_in_a_document() {
    let mut checked = 0;
    for (name, text) in samples("epcis")
        .into_iter()
        .filter(|(name, _)| name.ends_with(".jsonld") && !name.starts_with("query_"))
    {
        let doc = epcis(&name, &text);
        for event in &doc.events {
            // The event alone, in each binding: the XML cut from a one-event document.
            let one = xml::document(std::slice::from_ref(event), &doc.namespaces, t0());
            let start = one.find("<EventList>").expect("an event list") + "<EventList>".len();
            let end = one.find("</EventList>").expect("an event list's end");
            let namespaces: String = doc
                .namespaces
                .iter()
                .map(|(p, u)| format!(" xmlns:{p}=\"{u}\""))
                .collect();
            let element = one[start..end].trim();
            let tag_end = element
                .find(|c: char| c.is_whitespace() || c == '>')
                .unwrap();
            let single_xml = format!(
                "<?xml version=\"1.0\"?>\n{}{namespaces}{}",
                &element[..tag_end],
                &element[tag_end..]
            );
            // The same as in a document of its own (the XML binding's own round trip is
            // the samples test's business), and alone in JSON-LD as the event it is.
            let in_document = epcis(&name, &one).events;
            let from_xml = epcis(&name, &single_xml).events;
            assert_eq!(from_xml.len(), 1, "{name}: {single_xml}");
            assert_eq!(from_xml, in_document, "{name}: {single_xml}");
            let single_json = json::event_value(event);
            let from_json = epcis(&name, &single_json.to_string()).events;
            assert_eq!(from_json, vec![event.clone()], "{name}");
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} events checked");
}

#[test]
fn an_xml_root_that_is_neither_epcis_nor_an_event_is_not_read_as_epcis() {
    let error = xml::parse("<Thing><EPCISBody/></Thing>")
        .expect_err("not EPCIS")
        .to_string();
    assert!(error.contains("unknown root element"), "{error}");
    assert!(!xml::is_epcis_root("Thing"));
    assert!(xml::is_epcis_root("ObjectEvent"));
    assert!(xml::is_epcis_root("EPCISQueryDocument"));
}
