//! AggregationEvent DELETE: a child taken out of a container is no longer in it from that
//! time on. Forward and backward trace and recall follow the container only while the child
//! was in it; the fast import path and the full reader agree.

use serde_json::{Value, json};
use trace::epcis::{self, fast};
use trace::index::{Direction, Filter};
use trace::{Id, Index, IndexBuilder, RecallRequest};

fn sgtin(n: u32) -> String {
    format!("urn:epc:id:sgtin:4012345.011111.{n}")
}
fn sscc(n: u32) -> String {
    format!("urn:epc:id:sscc:4012345.{n:010}")
}
fn pgln(n: u32) -> String {
    format!("urn:epc:id:pgln:4012345.{n:05}")
}

fn at(minute: u32) -> String {
    format!("2026-03-02T06:{minute:02}:00Z")
}

fn aggregation(id: &str, minute: u32, action: &str, parent: &str, children: &[String]) -> Value {
    let mut e = json!({
        "type": "AggregationEvent", "eventID": id, "eventTime": at(minute),
        "eventTimeZoneOffset": "+00:00", "action": action, "parentID": parent,
        "bizStep": if action == "DELETE" { "unpacking" } else { "packing" },
    });
    if !children.is_empty() {
        e["childEPCs"] = json!(children);
    }
    e
}

fn shipping(id: &str, minute: u32, item: &str, customer: &str) -> Value {
    json!({
        "type": "ObjectEvent", "eventID": id, "eventTime": at(minute),
        "eventTimeZoneOffset": "+00:00", "action": "OBSERVE", "epcList": [item],
        "bizStep": "shipping", "disposition": "in_transit",
        "destinationList": [{ "type": "owning_party", "destination": customer }],
    })
}

/// Serials 1 and 2 packed into case 1; serial 2 taken out and packed into case 2; case 1 on
/// pallet 3 shipped to customer 1; case 2 shipped to customer 2, then emptied (DELETE without
/// children) and shipped again, to customer 3.
fn document() -> String {
    let events = vec![
        json!({
            "type": "ObjectEvent", "eventID": "e1", "eventTime": at(1),
            "eventTimeZoneOffset": "+00:00", "action": "ADD",
            "epcList": [sgtin(1), sgtin(2)], "bizStep": "commissioning",
        }),
        aggregation("e2", 2, "ADD", &sscc(1), &[sgtin(1), sgtin(2)]),
        aggregation("e3", 3, "DELETE", &sscc(1), &[sgtin(2)]),
        aggregation("e4", 4, "ADD", &sscc(2), &[sgtin(2)]),
        aggregation("e5", 5, "ADD", &sscc(3), &[sscc(1)]),
        shipping("e6", 6, &sscc(3), &pgln(1)),
        shipping("e7", 7, &sscc(2), &pgln(2)),
        aggregation("e8", 8, "DELETE", &sscc(2), &[]),
        shipping("e9", 9, &sscc(2), &pgln(3)),
    ];
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": at(0),
        "epcisBody": { "eventList": events },
    })
    .to_string()
}

fn index() -> Index {
    let text = document();
    let doc = epcis::json::parse(&text).unwrap();
    let full = Index::build(&epcis::lower(&doc.events));
    let mut builder = IndexBuilder::new();
    fast::import_json(&text, &mut builder).unwrap();
    let fast = builder.finish();
    assert!(fast == full, "the fast path and the full reader agree");
    full
}

fn names(index: &Index, from: &str, direction: Direction) -> Vec<String> {
    let start = index.resolve(from).unwrap();
    index
        .reach(&[start], direction, &Filter::default())
        .iter()
        .map(|r| index.name(r.node).to_owned())
        .collect()
}

fn canon(text: &str) -> String {
    Id::parse(text).unwrap().id
}

#[test]
fn an_unpacked_child_leaves_the_container_from_that_time_on() {
    let index = index();
    // The packing of serial 2 into case 1 ended at 06:03.
    let s2 = index.resolve(&sgtin(2)).unwrap();
    let ends: Vec<_> = index
        .out_edges(s2)
        .iter()
        .map(|&e| (index.name(index.edge_to(e)).to_owned(), index.edge_until(e)))
        .collect();
    assert!(ends.contains(&(
        canon(&sscc(1)),
        Some(model::Timestamp::parse(&at(3)).unwrap())
    )));
    assert!(ends.contains(&(
        canon(&sscc(2)),
        Some(model::Timestamp::parse(&at(8)).unwrap())
    )));

    let forward = names(&index, &sgtin(2), Direction::Forward);
    assert!(forward.contains(&canon(&sscc(2))));
    assert!(
        forward.contains(&canon(&pgln(2))),
        "shipped in case 2 before it was emptied"
    );
    for absent in [sscc(3), pgln(1), pgln(3)] {
        assert!(
            !forward.contains(&canon(&absent)),
            "{absent} in {forward:?}"
        );
    }
    // Serial 1 stayed in case 1: pallet 3, customer 1.
    let forward = names(&index, &sgtin(1), Direction::Forward);
    for present in [sscc(1), sscc(3), pgln(1)] {
        assert!(
            forward.contains(&canon(&present)),
            "{present} in {forward:?}"
        );
    }

    // Backward from what shipped: only what was inside at the time.
    let back = names(&index, &pgln(1), Direction::Backward);
    assert!(back.contains(&canon(&sgtin(1))));
    assert!(!back.contains(&canon(&sgtin(2))), "{back:?}");
    let back = names(&index, &pgln(2), Direction::Backward);
    assert!(back.contains(&canon(&sgtin(2))));
    let back = names(&index, &pgln(3), Direction::Backward);
    assert!(
        !back.contains(&canon(&sgtin(2))),
        "case 2 was empty: {back:?}"
    );
    // The start of a backward trace has no moment: everything ever in it.
    let back = names(&index, &sscc(1), Direction::Backward);
    assert!(back.contains(&canon(&sgtin(2))));
}

#[test]
fn recall_follows_the_child_not_the_container_it_left() {
    let index = index();
    let report = trace::recall(
        &index,
        &RecallRequest {
            id: Some(sgtin(2)),
            ..RecallRequest::default()
        },
    )
    .unwrap();
    let customers: Vec<&str> = report.customers.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(customers, [canon(&pgln(2)).as_str()]);
    // Both cases held it for a while; the pallet case 1 went onto later did not.
    let pallets: Vec<&str> = report.pallets.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(pallets, [canon(&sscc(1)), canon(&sscc(2))]);
    let case1 = &report.pallets[0];
    assert!(case1.customers.is_empty(), "{case1:?}");
    // Serial 2 is no longer in a case that shipped.
    let serial = &report.serials[0];
    assert_ne!(serial.status, trace::recall::Status::Shipped);

    // Serial 1 is still in case 1, which shipped on pallet 3.
    let report = trace::recall(
        &index,
        &RecallRequest {
            id: Some(sgtin(1)),
            ..RecallRequest::default()
        },
    )
    .unwrap();
    assert_eq!(report.serials[0].status, trace::recall::Status::Shipped);
    let customers: Vec<&str> = report.customers.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(customers, [canon(&pgln(1)).as_str()]);
}

/// Depth is the length of the shortest path the unpackings admit. When the first path to a
/// container is cut short by the traced item leaving it, what the container went into later
/// is reached along a longer path: its depth is that path's length, not its tree parent's
/// depth + 1, and a depth limit counts that path.
#[test]
fn depth_counts_the_path_an_unpacking_admits() {
    use model::Timestamp;
    use trace::{EdgeKind, IdKind};
    let mut b = IndexBuilder::new();
    let a = b.node(IdKind::Serial, "A");
    let lot = b.node(IdKind::Lot, "B");
    let case = b.node(IdKind::Pallet, "J");
    let pallet = b.node(IdKind::Pallet, "K");
    let link = |b: &mut IndexBuilder, kind, from, to, minute: i64, event: &str| {
        let e = b.event(event, Timestamp(minute * 60_000), None);
        b.add_edge_raw(kind, from, to, e, None, None);
    };
    link(&mut b, EdgeKind::ConsumedInto, a, lot, 0, "e0");
    link(&mut b, EdgeKind::PackedInto, lot, case, 0, "e1");
    link(&mut b, EdgeKind::PackedInto, a, case, 1, "e2");
    // A leaves the case at minute 2, before the case goes onto the pallet at minute 3.
    b.remove_raw(EdgeKind::PackedInto, Some(a), case, Timestamp(2 * 60_000));
    link(&mut b, EdgeKind::PackedInto, case, pallet, 3, "e3");
    let index = b.finish();

    let reach = |max_depth| {
        index
            .reach(
                &[a],
                Direction::Forward,
                &Filter {
                    max_depth,
                    ..Filter::default()
                },
            )
            .into_iter()
            .map(|r| (index.name(r.node).to_owned(), r.depth))
            .collect::<Vec<_>>()
    };
    // The case at depth 1 (A was in it); the pallet only through the lot (A → B → J → K).
    let all = reach(None);
    assert!(all.contains(&("J".to_owned(), 1)), "{all:?}");
    assert!(all.contains(&("K".to_owned(), 3)), "{all:?}");
    assert!(!reach(Some(2)).iter().any(|(n, _)| n == "K"));
    assert!(reach(Some(3)).contains(&("K".to_owned(), 3)));
}
