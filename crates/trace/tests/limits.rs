//! Hostile documents (issue 12, item 4): XML or JSON nested 35,000 deep, and oversized names
//! and texts, are refused by every reader with an error naming the bound, on an ordinary test
//! thread (2 MiB of stack) — before, the XML readers overflowed the stack and aborted the
//! process. A property test checks nesting on both sides of the bounds.

use model::Timestamp;
use proptest::prelude::*;
use trace::epcis::{self, fast};
use trace::limits::{MAX_JSON_DEPTH, MAX_NAME_BYTES, MAX_TEXT_BYTES, MAX_XML_DEPTH};
use trace::{ImportError, IndexBuilder, Limit, b2mml, import};

const HOSTILE_DEPTH: usize = 35_000;

fn t0() -> Timestamp {
    Timestamp::parse("2026-03-02T06:00:00Z").unwrap()
}

/// `depth` elements nested inside `root`'s body (`<root><a><a>…</a></a></root>`).
fn nested_xml(root: &str, depth: usize) -> String {
    format!(
        "<{root} xmlns=\"urn:epcglobal:epcis:xsd:2\">{}{}</{root}>",
        "<a>".repeat(depth),
        "</a>".repeat(depth)
    )
}

fn expect_limit(result: Result<impl std::fmt::Debug, ImportError>, limit: Limit) -> ImportError {
    let err = result.expect_err("a hostile document must be refused");
    assert_eq!(err.limit, Some(limit), "{err}");
    assert!(err.to_string().contains(&limit.to_string()), "{err}");
    err
}

#[test]
fn xml_nested_35000_deep_is_refused_by_every_xml_reader() {
    let depth = Limit::Depth(MAX_XML_DEPTH);
    let epcis_doc = nested_xml("EPCISDocument", HOSTILE_DEPTH);
    assert!(epcis_doc.len() > 240_000);
    let err = expect_limit(import::read(&epcis_doc, t0()), depth);
    assert!(err.field.starts_with("byte "), "{err}");
    assert!(err.message.contains("depth 65"), "{err}");
    expect_limit(epcis::xml::parse(&epcis_doc), depth);
    expect_limit(trace::xml::parse(&epcis_doc), depth);

    let b2mml_doc = nested_xml("ProductionPerformance", HOSTILE_DEPTH);
    expect_limit(import::read(&b2mml_doc, t0()), depth);
    expect_limit(b2mml::parse(&b2mml_doc, t0()), depth);

    // Self-closing innermost elements count too.
    let empty = format!(
        "{}<a/>{}",
        "<a>".repeat(MAX_XML_DEPTH),
        "</a>".repeat(MAX_XML_DEPTH)
    );
    expect_limit(trace::xml::parse(&empty), depth);
    let fits = format!(
        "{}<a/>{}",
        "<a>".repeat(MAX_XML_DEPTH - 1),
        "</a>".repeat(MAX_XML_DEPTH - 1)
    );
    assert!(trace::xml::parse(&fits).is_ok());
}

/// An EPCIS JSON-LD document with one valid event and `value` as an extension.
fn epcis_json_with(value: &str) -> String {
    format!(
        r#"{{"@context":["https://ref.gs1.org/standards/epcis/epcis-context.jsonld",{{"ex":"urn:ex"}}],
"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-03-02T06:00:00Z",
"epcisBody":{{"eventList":[{{"type":"ObjectEvent","eventID":"ni:///sha-256;x","eventTime":"2026-03-02T06:00:00Z",
"eventTimeZoneOffset":"+00:00","action":"OBSERVE","epcList":["urn:epc:id:sgtin:4012345.011111.1"],
"ex:deep":{value}}}]}}}}"#
    )
}

#[test]
fn json_nested_35000_deep_is_refused_by_every_json_reader() {
    let depth = Limit::Depth(MAX_JSON_DEPTH);
    let deep = format!("{}{}", "[".repeat(HOSTILE_DEPTH), "]".repeat(HOSTILE_DEPTH));
    let err = expect_limit(import::read(&deep, t0()), depth);
    assert_eq!(err.field, format!("line 1 column {}", MAX_JSON_DEPTH + 1));
    expect_limit(epcis::json::parse(&deep), depth);

    // Deep inside a field the fast path does not read: it must not accept what the full
    // reader refuses (serde_json skips an ignored value without a depth limit).
    let objects = format!(
        "{}1{}",
        "{\"ex:a\":".repeat(HOSTILE_DEPTH),
        "}".repeat(HOSTILE_DEPTH)
    );
    let doc = epcis_json_with(&objects);
    expect_limit(epcis::json::parse(&doc), depth);
    let mut builder = IndexBuilder::new();
    expect_limit(fast::import_json(&doc, &mut builder), depth);
    assert_eq!((builder.node_count(), builder.edge_count()), (0, 0));
    let err = fast::import_json_many(&[&doc], &mut IndexBuilder::new()).unwrap_err();
    assert_eq!(err.error.limit, Some(depth));

    // The same document with a shallow extension reads on both paths.
    let fine = epcis_json_with("{\"ex:a\":[1,2,{\"ex:b\":\"c\"}]}");
    assert_eq!(epcis::json::parse(&fine).unwrap().events.len(), 1);
    assert_eq!(
        fast::import_json(&fine, &mut IndexBuilder::new()).unwrap(),
        1
    );
}

#[test]
fn oversized_names_and_texts_are_refused_by_name() {
    let text = Limit::TextBytes(MAX_TEXT_BYTES);
    let long = "x".repeat(MAX_TEXT_BYTES + 1);

    let xml_text = format!("<EPCISDocument><note>{long}</note></EPCISDocument>");
    let err = expect_limit(import::read(&xml_text, t0()), text);
    assert_eq!(err.field, "note");
    let xml_attr = format!("<EPCISDocument note=\"{long}\"/>");
    let err = expect_limit(import::read(&xml_attr, t0()), text);
    assert_eq!(err.field, "note");
    // Text arriving in pieces (entities, CDATA) is counted whole.
    let pieces = format!(
        "<r>{}<![CDATA[{}]]></r>",
        "&amp;".repeat(MAX_TEXT_BYTES / 2),
        "y".repeat(MAX_TEXT_BYTES / 2 + 1)
    );
    expect_limit(trace::xml::parse(&pieces), text);
    let name = "n".repeat(MAX_NAME_BYTES + 1);
    let xml_name = format!("<EPCISDocument><{name}/></EPCISDocument>");
    expect_limit(
        import::read(&xml_name, t0()),
        Limit::NameBytes(MAX_NAME_BYTES),
    );

    let json = epcis_json_with(&format!("\"{long}\""));
    let err = expect_limit(epcis::json::parse(&json), text);
    assert_eq!(err.field, "ex:deep");
    expect_limit(fast::import_json(&json, &mut IndexBuilder::new()), text);
    expect_limit(import::read(&json, t0()), text);
}

#[test]
fn white_space_between_many_children_is_not_counted_as_text() {
    // A long list laid out with new lines holds more white space than one text may.
    let events = "\n    <a>1</a>".repeat(MAX_TEXT_BYTES / 4);
    let doc = trace::xml::parse(&format!("<r>{events}\n</r>")).unwrap();
    assert_eq!(doc.root.children.len(), MAX_TEXT_BYTES / 4);
    assert_eq!(doc.root.children[0].text, "1");
}

/// A tree of nested elements/arrays, described by the number of children at each level.
fn shape() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(0u8..3, 1..(MAX_JSON_DEPTH + 8))
}

fn xml_of(shape: &[u8]) -> String {
    let mut open = String::new();
    let mut close = String::new();
    for (level, extra) in shape.iter().enumerate() {
        open.push_str(&format!("<e{level} k=\"{extra}\">"));
        for _ in 0..*extra {
            open.push_str("<leaf>t</leaf>");
        }
        close.insert_str(0, &format!("</e{level}>"));
    }
    format!("{open}{close}")
}

fn json_of(shape: &[u8]) -> String {
    let mut open = String::new();
    let mut close = String::new();
    for extra in shape {
        if extra % 2 == 0 {
            open.push_str("{\"ex:k\":");
            close.insert(0, '}');
        } else {
            open.push('[');
            for _ in 0..*extra {
                open.push_str("\"s\",");
            }
            close.insert(0, ']');
        }
    }
    format!("{open}0{close}")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Any nesting up to (and past) the bounds either reads or is refused cleanly; past the
    /// bound, always with the named limit; within it, never for depth.
    #[test]
    fn nesting_reads_or_is_refused_cleanly(shape in shape()) {
        let xml = xml_of(&shape);
        // The leaves of the innermost element are one level further down.
        let xml_depth = shape.len() + usize::from(shape.last() != Some(&0));
        match trace::xml::parse(&xml) {
            Ok(doc) => prop_assert!(xml_depth <= MAX_XML_DEPTH && !doc.root.name.is_empty()),
            Err(e) => {
                prop_assert!(xml_depth > MAX_XML_DEPTH);
                prop_assert_eq!(e.limit, Some(Limit::Depth(MAX_XML_DEPTH)));
            }
        }
        // Through the importer: read as B2MML (an unknown noun) or refused for depth.
        if let Err(e) = import::read(&xml, t0()) {
            prop_assert_eq!(e.limit.is_some(), xml_depth > MAX_XML_DEPTH);
        }

        let json = json_of(&shape);
        let deep_json = shape.len() > MAX_JSON_DEPTH;
        match import::read(&json, t0()) {
            Ok(_) => prop_assert!(!deep_json),
            Err(e) => prop_assert_eq!(e.limit.is_some(), deep_json, "{}", e),
        }
        // Inside an event, four levels down (document, body, event list, event).
        let doc = epcis_json_with(&json);
        let deep_doc = shape.len() + 4 > MAX_JSON_DEPTH;
        let full = epcis::json::parse(&doc);
        let fast = fast::import_json(&doc, &mut IndexBuilder::new());
        prop_assert_eq!(full.is_ok(), !deep_doc);
        prop_assert_eq!(fast.is_ok(), !deep_doc);
        if deep_doc {
            prop_assert_eq!(full.unwrap_err().limit, Some(Limit::Depth(MAX_JSON_DEPTH)));
        }
    }
}

#[test]
fn event_time_zone_offsets_past_a_day_are_refused_on_every_path() {
    for (offset, fine) in [
        ("+24:00", false),
        ("-23:60", false),
        ("+23:59", true),
        ("-00:00", true),
    ] {
        let json = epcis_json_with("1").replace("\"+00:00\"", &format!("\"{offset}\""));
        let full = epcis::json::parse(&json);
        let fast = fast::import_json(&json, &mut IndexBuilder::new());
        assert_eq!((full.is_ok(), fast.is_ok()), (fine, fine), "{offset}");
        if !fine {
            let err = full.unwrap_err();
            assert_eq!(err.field, "eventTimeZoneOffset", "{err}");
            assert!(err.message.contains("hours 00 to 23"), "{err}");
            assert_eq!(fast.unwrap_err(), err);
        }
        let xml = format!(
            "<EPCISDocument><EPCISBody><EventList><ObjectEvent><eventTime>2026-03-02T06:00:00Z</eventTime>\
             <eventTimeZoneOffset>{offset}</eventTimeZoneOffset><action>OBSERVE</action></ObjectEvent>\
             </EventList></EPCISBody></EPCISDocument>"
        );
        assert_eq!(epcis::xml::parse(&xml).is_ok(), fine, "{offset}");
    }
}

/// An event holding every object the fast path reads into, each with an extension member
/// `"ex:site<N>": 0` that [`skipped_value_at`] replaces.
const EVERY_SITE: &str = r#"{"@context":["https://ref.gs1.org/standards/epcis/epcis-context.jsonld",{"ex":"urn:ex"}],
"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-03-02T06:00:00Z","ex:site1":0,
"epcisBody":{"ex:site2":0,"eventList":[{"type":"ObjectEvent","eventID":"ni:///sha-256;x",
"eventTime":"2026-03-02T06:00:00Z","eventTimeZoneOffset":"+00:00","action":"ADD","ex:site3":0,
"epcList":["urn:epc:id:sgtin:4012345.011111.1"],
"quantityList":[{"epcClass":"urn:epc:class:lgtin:4012345.012345.L1","quantity":2,"uom":"KGM","ex:site4":0}],
"readPoint":{"id":"urn:epc:id:sgln:4012345.00001.0","ex:site5":0},
"bizLocation":{"id":"urn:epc:id:sgln:4012345.00002.0","ex:site6":0},
"bizTransactionList":[{"type":"po","bizTransaction":"urn:epc:id:gdti:4012345.00001.1","ex:site7":0}],
"sourceList":[{"type":"owning_party","source":"urn:epc:id:pgln:4012345.00001","ex:site8":0}],
"destinationList":[{"type":"owning_party","destination":"urn:epc:id:pgln:4012345.00002","ex:site9":0}],
"persistentDisposition":{"set":["completeness_verified"],"ex:site10":0},
"sensorElementList":[{"ex:site11":0}],"ilmd":{"ex:site12":0}},
{"type":"ObjectEvent","eventID":"ni:///sha-256;y","eventTime":"2026-03-02T07:00:00Z",
"eventTimeZoneOffset":"+00:00","action":"OBSERVE","epcList":["urn:epc:id:sgtin:4012345.011111.1"],
"errorDeclaration":{"declarationTime":"2026-03-02T08:00:00Z","reason":"incorrect_data","ex:site13":0}}]}}"#;

/// [`EVERY_SITE`] with `value` in place of the extension at site `site`.
fn skipped_value_at(site: usize, value: &str) -> String {
    let member = format!("\"ex:site{site}\":0");
    assert!(EVERY_SITE.contains(&member), "no site {site}");
    EVERY_SITE.replace(&member, &format!("\"ex:site{site}\":{value}"))
}

/// Wherever the fast path skips a value (a member of the document, of its body, of an event,
/// of every object and list element in an event, ILMD, a sensor element), it holds the depth
/// bound counted from the document's root: on both sides of the bound it gives what the
/// full reader gives (the same index, or the same depth error with nothing added).
#[test]
fn skipped_values_are_bounded_from_the_root_at_every_site() {
    let base = EVERY_SITE.to_owned();
    assert_eq!(fast::import_json(&base, &mut IndexBuilder::new()), Ok(2));
    for site in 1..=13 {
        let mut refused = 0;
        for levels in MAX_JSON_DEPTH - 12..=MAX_JSON_DEPTH {
            let nested = format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
            let doc = skipped_value_at(site, &nested);
            let full = epcis::json::parse(&doc).map(|doc| {
                let mut builder = IndexBuilder::new();
                builder.add(&epcis::lower(&doc.events));
                builder.finish()
            });
            let mut builder = IndexBuilder::new();
            let got = fast::import_json(&doc, &mut builder);
            match (full, got) {
                (Ok(index), Ok(2)) => assert!(builder.finish() == index, "site {site}"),
                (Err(e), Err(f)) => {
                    assert_eq!(
                        e.limit,
                        Some(Limit::Depth(MAX_JSON_DEPTH)),
                        "site {site}: {e}"
                    );
                    assert_eq!(e, f, "site {site}");
                    assert_eq!(builder.edge_count(), 0);
                    refused += 1;
                }
                (full, fast) => panic!(
                    "site {site}, {levels} levels: full reader {:?}, fast path {:?}",
                    full.map(|_| ()),
                    fast
                ),
            }
        }
        // The bound lies inside the levels tried: some are refused, not all.
        assert!((1..13).contains(&refused), "site {site}: {refused} refused");
    }
}

/// Skipped values are read past without being decoded, yet what the full reader refuses in
/// them (a lone surrogate escape, a number past `f64`, a string past the text bound) is
/// refused on the fast path too, and what it takes (escapes, exponents, brackets in strings)
/// is taken.
#[test]
fn skipped_values_are_checked_like_the_full_reader_checks_them() {
    let long = format!("\"{}\"", "x".repeat(MAX_TEXT_BYTES + 1));
    let refused = [
        r#""\uDE00""#,
        r#"{"a":["\uD800x"]}"#,
        "1e400",
        r#"[1,{"v":-2.5E+999}]"#,
        long.as_str(),
    ];
    let taken = [
        r#""M\u00fcller \ud83d\ude00 \"q\" \\u""#,
        r#"{"v":[1.5e-9,2E+10,-0.0,1e308],"s":"4000001e3 [[{{"}"#,
        "true",
        "null",
        r#"[{"ex:b":"c"},[],{}]"#,
    ];
    for site in [1, 3, 4, 11, 12, 13] {
        for (value, fine) in refused
            .iter()
            .map(|v| (v, false))
            .chain(taken.iter().map(|v| (v, true)))
        {
            let doc = skipped_value_at(site, value);
            let full = epcis::json::parse(&doc);
            let fast = fast::import_json(&doc, &mut IndexBuilder::new());
            assert_eq!(full.is_ok(), fine, "site {site}: {value}");
            match full {
                Ok(doc) => assert_eq!(fast, Ok(doc.events.len()), "site {site}: {value}"),
                Err(e) => assert_eq!(fast, Err(e), "site {site}: {value}"),
            }
        }
    }
}
