//! Purchased material in a run of the reference plant: every delivery is announced ahead by a
//! `receipt_expected` and names it when it arrives; some come late, some of those announced
//! again first; `purchasing` lists what the events show.

use model::{EventKind, PlantState, Timestamp};
use sim::SimOptions;

fn run(catalog: &model::Catalog, options: &SimOptions) -> sim::SimOutput {
    sim::simulate(catalog, options, None, |_| {}).expect("valid options")
}

#[test]
fn purchasing_lists_every_receipt_the_events_show() {
    let catalog = sim::reference_catalog();
    let options = SimOptions {
        days: 5.0,
        ..Default::default()
    };
    let out = run(&catalog, &options);
    type Row = (Timestamp, String, String, f64);
    let key = |a: &Row, b: &Row| a.0.cmp(&b.0).then(a.1.cmp(&b.1));
    let mut received: Vec<Row> = out
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::MaterialReceived {
                material,
                quantity,
                receipt,
                ..
            } => Some((
                e.time,
                receipt.as_ref().expect("names its receipt").to_string(),
                material.to_string(),
                *quantity,
            )),
            _ => None,
        })
        .collect();
    let mut listed: Vec<Row> = out
        .purchasing
        .iter()
        .map(|p| {
            (
                p.arrived,
                p.receipt.to_string(),
                p.material.to_string(),
                p.quantity,
            )
        })
        .collect();
    received.sort_by(key);
    listed.sort_by(key);
    assert_eq!(listed, received);
    assert!(out.purchasing.iter().any(|p| !p.expedited));
}

#[test]
fn every_receipt_is_announced_ahead_and_some_come_late_or_slip_first() {
    let catalog = sim::reference_catalog();
    let options = SimOptions {
        days: 10.0,
        ..Default::default()
    };
    let out = run(&catalog, &options);
    // The latest expectation of each receipt when it arrives, and how often it was announced.
    let mut expected: std::collections::BTreeMap<String, (Timestamp, u32)> = Default::default();
    let (mut late, mut slipped, mut received) = (0, 0, 0);
    for e in &out.events {
        match &e.kind {
            EventKind::ReceiptExpected {
                receipt,
                expected: at,
                ..
            } => {
                assert!(*at >= e.time, "{receipt} announced after its time");
                let entry = expected.entry(receipt.to_string()).or_insert((*at, 0));
                if entry.1 > 0 {
                    assert!(*at > entry.0, "a second announcement moves {receipt} later");
                    slipped += 1;
                }
                *entry = (*at, entry.1 + 1);
            }
            EventKind::MaterialReceived { receipt, .. } => {
                let receipt = receipt.as_ref().expect("names its receipt").to_string();
                let (at, _) = expected
                    .get(&receipt)
                    .unwrap_or_else(|| panic!("{receipt} arrived unannounced"));
                received += 1;
                if e.time > *at {
                    late += 1;
                }
            }
            _ => {}
        }
    }
    assert!(received > 20, "{received} receipts");
    assert!(late > 0, "some receipts arrive after their expected time");
    assert!(slipped > 0, "some late receipts are announced again first");
    // Folded, every receipt that arrived is closed, and what is still open is still to come.
    let mut state = PlantState::initial(&catalog, options.start);
    for event in &out.events {
        state.apply(&catalog, event).unwrap();
    }
    for (id, r) in &state.receipts {
        match r.status {
            model::ReceiptStatus::Received => assert!(r.lot.is_some(), "{id}"),
            model::ReceiptStatus::Open => assert!(
                out.purchasing.iter().all(|p| p.receipt != *id),
                "{id} arrived but is open"
            ),
            model::ReceiptStatus::Cancelled => panic!("the simulated plant cancels nothing"),
        }
    }
}
