//! The index built from stored rows (`persist::assemble_stored`, reading the bodies straight
//! into lowering on two threads) against the one built from the decoded events
//! (`persist::decode_events` → `persist::assemble`): exactly equal for every sample document,
//! alone and all together, for the benchmark's generated genealogy with error declarations
//! across the halves the threads share, and for bodies the direct reader hands back to the
//! full one; the same error for a body that does not decode.

#[path = "../benches/common/mod.rs"]
#[allow(dead_code)]
mod common;

mod sample_files;

use model::Timestamp;
use trace::Index;
use trace::epcis::{EpcisEvent, ErrorDeclaration};
use trace::import::read;
use trace::persist::{self, Prepared};

use sample_files::samples;

/// The documents of `dir` as the store would hold them.
fn prepared(dir: &str) -> Vec<(String, Prepared)> {
    samples(dir)
        .into_iter()
        .filter_map(|(name, text)| {
            let imported = read(&text, Timestamp(0)).ok()?;
            let prepared = persist::prepare(&imported, &text)?;
            Some((name, prepared))
        })
        .collect()
}

/// Today's load: every body decoded into the event model, then assembled.
fn decoded(bodies: &[&str], genealogy: &[&str]) -> Result<Index, String> {
    let events = persist::decode_events(bodies.iter().copied())?;
    persist::assemble(&[], None, &events, genealogy.iter().copied())
}

fn stored(bodies: &[&str], genealogy: &[&str]) -> Result<Index, String> {
    persist::assemble_stored(&[], None, bodies, genealogy.iter().copied())
}

fn assert_same(bodies: &[&str], genealogy: &[&str], what: &str) -> Index {
    let expected = decoded(bodies, genealogy).unwrap_or_else(|e| panic!("{what}: {e}"));
    let got = stored(bodies, genealogy).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(got == expected, "{what}: the indexes differ");
    got
}

fn bodies_of(events: &[EpcisEvent]) -> Vec<String> {
    events.iter().map(|e| persist::row(e).body).collect()
}

#[test]
fn every_sample_gives_the_same_index_alone_and_together() {
    let epcis = prepared("epcis");
    let b2mml = prepared("b2mml");
    assert!(epcis.len() >= 15, "only {} EPCIS samples", epcis.len());
    let mut all = Vec::new();
    for (name, p) in &epcis {
        let bodies: Vec<&str> = p.rows.iter().map(|r| r.body.as_str()).collect();
        assert!(!bodies.is_empty(), "{name}: no events");
        assert_same(&bodies, &[], name);
        all.extend(bodies);
    }
    let genealogy: Vec<&str> = b2mml
        .iter()
        .filter_map(|(_, p)| p.genealogy.as_deref())
        .collect();
    // Every sample in one store: error declarations retract events of other documents.
    let index = assert_same(&all, &genealogy, "all samples");
    assert!(index.edge_count() > 0);
}

#[test]
fn the_generated_genealogy_gives_the_same_index_on_two_threads() {
    let mut g = common::Gen::default();
    let mut events = Vec::new();
    for b in 0..2 {
        events.extend(common::batch_events(&mut g, b));
    }
    // Error declarations, one in each half of the events, each retracting an event of the
    // other half: which events are left out is decided over all of them.
    let n = events.len();
    assert!(n > 4 * 2_048, "{n} events exercise both threads");
    for (declared, at) in [(n / 4, 3 * n / 4), (3 * n / 4 + 1, n / 4 + 1)] {
        let mut e = events[declared].clone();
        e.error_declaration = Some(ErrorDeclaration {
            declaration_time: Timestamp(e.event_time.0 + 1),
            reason: Some("incorrect_data".into()),
            corrective_event_ids: Vec::new(),
        });
        events.insert(at, e);
    }
    let bodies = bodies_of(&events);
    let bodies: Vec<&str> = bodies.iter().map(String::as_str).collect();
    let index = assert_same(&bodies, &[], "generated");
    let full = assert_same(
        &bodies[..bodies.len() - 3],
        &[],
        "generated, but the last three",
    );
    assert!(index.edge_count() > 100_000);
    assert!(index != full, "the events left out make another index");
}

#[test]
fn bodies_the_direct_reader_does_not_take_give_the_same_index() {
    let mut g = common::Gen::default();
    let events = common::batch_events(&mut g, 0);
    let mut bodies = bodies_of(&events[..3_000]);
    // An identifier with an escape, a field the stored form does not have, a field order of
    // its own, a null where an option may be null: read by serde as before.
    let mut quoted = EpcisEvent::new(
        trace::epcis::EventType::ObjectEvent,
        "urn:uuid:with-\"quote\"".into(),
        Timestamp(5),
    );
    quoted
        .epc_list
        .push("urn:epc:id:sgtin:4012345.011111.\\1".into());
    bodies.insert(10, persist::row(&quoted).body);
    let reordered = {
        let value: serde_json::Value = serde_json::from_str(&bodies[20]).unwrap();
        let mut map: Vec<(String, serde_json::Value)> =
            value.as_object().unwrap().clone().into_iter().collect();
        map.reverse();
        let mut text = String::from("{\"unknown\":[1,{\"a\":null}],");
        for (i, (k, v)) in map.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&serde_json::to_string(k).unwrap());
            text.push(':');
            text.push_str(&v.to_string());
        }
        text.push_str(",\"biz_location\":null}");
        text
    };
    bodies.push(reordered);
    let bodies: Vec<&str> = bodies.iter().map(String::as_str).collect();
    assert_same(&bodies, &[], "escapes and other shapes");
    // Each alone too (no threads).
    for (i, body) in bodies.iter().enumerate().take(25) {
        assert_same(&[body], &[], &format!("body {i}"));
    }
}

#[test]
fn a_body_that_does_not_decode_is_the_same_error() {
    let mut g = common::Gen::default();
    let events = common::batch_events(&mut g, 0);
    let good = bodies_of(&events[..4_000]);
    let first = &good[0];
    let broken = [
        // A duplicate field, which serde's derive rejects.
        first.replacen('{', "{\"event_id\":\"x\",", 1),
        // A wrong type where lowering does not look.
        first.replacen('{', "{\"record_time\":42,", 1),
        first.replacen('{', "{\"ilmd\":[],", 1),
        // A missing required field.
        first.replace("\"event_time_zone_offset\":\"+00:00\",", ""),
        // A list that is null.
        first.replacen('{', "{\"epc_list\":null,", 1),
        "not json".to_owned(),
    ];
    for (k, bad) in broken.iter().enumerate() {
        assert_ne!(bad, first, "case {k} changed the body");
        for at in [0, 3_000] {
            let mut bodies: Vec<&str> = good.iter().map(String::as_str).collect();
            bodies.insert(at, bad);
            let expected = decoded(&bodies, &[]).expect_err("today's load rejects it");
            let got = stored(&bodies, &[]).expect_err("the direct load rejects it");
            assert_eq!(got, expected, "case {k} at {at}");
            assert!(got.contains(&format!("stored EPCIS event {at} ")), "{got}");
        }
    }
    // A genealogy body that does not decode: the same error too.
    let bodies: Vec<&str> = good.iter().map(String::as_str).collect();
    assert_eq!(
        stored(&bodies, &["not json"]).unwrap_err(),
        decoded(&bodies, &["not json"]).unwrap_err()
    );
}
