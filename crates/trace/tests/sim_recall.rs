//! Recall on the reference plant's simulated genealogy: a batch lot reaches exactly the
//! orders, lots, serials and customers that a direct walk over the raw events finds, and
//! backward trace from each reached serial leads back to the batch.

use std::collections::BTreeSet;

use model::{Event, EventKind};
use sim::SimOptions;
use trace::recall::{RecallRequest, Status, recall};
use trace::{Direction, Index, TraceRequest};

/// The forward closure of `lot` computed straight from the events (no index, no graph).
fn closure_from_events(
    events: &[Event],
    lot: &str,
) -> (
    BTreeSet<String>,
    BTreeSet<String>,
    BTreeSet<String>,
    BTreeSet<String>,
) {
    let mut lots: BTreeSet<String> = [lot.to_owned()].into();
    let mut serials = BTreeSet::new();
    let mut orders = BTreeSet::new();
    let mut customers = BTreeSet::new();
    loop {
        let before = lots.len() + serials.len() + orders.len() + customers.len();
        for e in events {
            match &e.kind {
                EventKind::MaterialConsumed {
                    order, lot, serial, ..
                } => {
                    let hit = match (lot, serial) {
                        (_, Some(s)) => serials.contains(s.as_str()),
                        (Some(l), None) => lots.contains(l.as_str()),
                        _ => false,
                    };
                    if hit {
                        orders.insert(order.to_string());
                    }
                }
                EventKind::MaterialProduced {
                    order,
                    lot,
                    serials: made,
                    ..
                } if orders.contains(order.as_str()) => {
                    if let Some(l) = lot {
                        lots.insert(l.to_string());
                    }
                    serials.extend(made.iter().map(|s| s.to_string()));
                }
                EventKind::MaterialShipped {
                    lot,
                    serials: shipped,
                    customer,
                    ..
                } => {
                    let hit = lot.as_ref().is_some_and(|l| lots.contains(l.as_str()))
                        || shipped.iter().any(|s| serials.contains(s.as_str()));
                    if hit {
                        customers.insert(customer.clone());
                    }
                }
                _ => {}
            }
        }
        if lots.len() + serials.len() + orders.len() + customers.len() == before {
            return (lots, serials, orders, customers);
        }
    }
}

#[test]
fn a_batch_lot_recall_reaches_the_serials_and_customers_the_events_say() {
    let catalog = sim::reference_catalog();
    let options = SimOptions {
        days: 10.0,
        ..SimOptions::default()
    };
    let out = sim::simulate(&catalog, &options, None, |_| {}).unwrap();
    let genealogy = trace::material::lower(&out.events, Some(&catalog));
    let index = Index::build(&genealogy);

    // The batch lot (process order output) whose closure has the most serials and customers.
    let batches: BTreeSet<String> = out
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::MaterialProduced {
                lot: Some(l),
                serials,
                ..
            } if serials.is_empty() => Some(l.to_string()),
            _ => None,
        })
        .collect();
    let (lot, (lots, serials, orders, customers)) = batches
        .iter()
        .map(|l| (l.clone(), closure_from_events(&out.events, l)))
        .max_by_key(|(l, (_, s, _, c))| (c.len(), s.len(), std::cmp::Reverse(l.clone())))
        .unwrap();
    assert!(!serials.is_empty(), "some batch reaches serials");
    assert!(!customers.is_empty(), "some batch reaches customers");

    let report = recall(
        &index,
        &RecallRequest {
            id: Some(lot.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    let labels = |items: &[trace::recall::RecallItem]| -> BTreeSet<String> {
        items.iter().map(|i| i.label.clone()).collect()
    };
    assert_eq!(labels(&report.lots), lots);
    assert_eq!(labels(&report.serials), serials);
    assert_eq!(labels(&report.orders), orders);
    let got: BTreeSet<String> = report.customers.iter().map(|c| c.label.clone()).collect();
    assert_eq!(got, customers);
    // Statuses agree with the fold of the same events.
    let mut state = model::PlantState::initial(&catalog, options.start);
    for e in &out.events {
        state.apply(&catalog, e).unwrap();
    }
    for s in &report.serials {
        let st = &state.serials[&model::SerialId::from(s.label.as_str())];
        let expected = if st.shipped_to.is_some() {
            Status::Shipped
        } else if st.consumed_by.is_some() {
            s.status // consumed into an assembly: wip or consumed, depending on the order
        } else {
            Status::InStock
        };
        assert_eq!(s.status, expected, "serial {}", s.label);
    }
    // Backward from every serial reaches the batch.
    let batch_id = format!("urn:mixplane:lot:{lot}");
    for s in report.serials.iter().take(50) {
        let back =
            trace::trace(&index, &s.id, Direction::Backward, &TraceRequest::default()).unwrap();
        assert!(
            back.nodes.iter().any(|n| n.id == batch_id),
            "{} comes from {lot}",
            s.label
        );
    }
    // CSV and EPCIS renderings carry every item.
    let csv = report.to_csv();
    assert_eq!(
        csv.lines().count(),
        1 + report.items().count()
            + report
                .customers
                .iter()
                .map(|c| c.quantities.len())
                .sum::<usize>()
    );
    let events = report.to_epcis("r1", options.start);
    let recalled: usize = events
        .iter()
        .map(|e| e.epc_list.len() + e.quantity_list.len())
        .sum();
    assert_eq!(
        recalled,
        report.lots.len() + report.serials.len() + report.pallets.len()
    );
    let doc = trace::epcis::json::document(&events, &Default::default(), options.start).to_string();
    // What the recall writes, strict capture takes (both bindings) and reads back the same.
    let trace::import::Imported::Epcis(back) =
        trace::import::read_held(&doc, options.start, true).unwrap()
    else {
        panic!()
    };
    assert_eq!(back.events, events);
    let xml = trace::epcis::xml::document(&events, &Default::default(), options.start);
    if let Err(e) = trace::import::read_held(&xml, options.start, true) {
        panic!("{e:?}");
    }

    // Reconcile: the simulator's genealogy is complete.
    let rec = trace::reconcile(&index, &Default::default());
    assert!(
        rec.orphan_serials.is_empty(),
        "{:?}",
        rec.orphan_serials.first()
    );
    assert!(
        rec.consumption_without_producer.is_empty(),
        "{:?}",
        rec.consumption_without_producer.first()
    );
    assert!(!rec.mass_balance.is_empty());
}
