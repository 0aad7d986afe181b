//! B2MML schedule reader (`isa95::read_schedule`, V0401/V0600 ProductionSchedule and
//! V0600/V0700 OperationsSchedule) and its requests as orders of the reference plant
//! (`isa95::orders_from_schedule`, per request): any text is read or rejected with an
//! `Isa95Error`, and orders that map, written as an OperationsSchedule, read back the same.
#![no_main]

use isa95::{
    OperationsScheduleOut, OrderOptions, PlannedOrder, PlannedSegment, Strictness,
    orders_from_schedule, read_assignments, read_schedule, write_operations_schedule,
};
use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::{reference_catalog, t0, text};
use model::OperationRef;

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let Ok(document) = read_schedule(text) else {
        return;
    };
    let _ = read_assignments(&document);
    let options = OrderOptions {
        strictness: Strictness::PerRequest,
        due_after_hours: Some(8.0),
    };
    let Ok(import) = orders_from_schedule(&document, reference_catalog(), &options) else {
        return;
    };
    if import.orders.is_empty() {
        return;
    }
    let catalog = reference_catalog();
    let requests = import
        .orders
        .iter()
        .map(|order| {
            let routing = catalog
                .routing(&order.routing)
                .expect("a mapped order's routing");
            PlannedOrder {
                order: order.clone(),
                uom: catalog
                    .material(&order.product)
                    .expect("its product")
                    .uom
                    .clone(),
                segments: routing
                    .steps
                    .iter()
                    .enumerate()
                    .map(|(k, step)| PlannedSegment {
                        op: OperationRef::new(order.id.clone(), k as u32),
                        step: step.name.clone(),
                        units: step.alternatives.iter().map(|a| a.unit.clone()).collect(),
                        times: None,
                    })
                    .collect(),
            }
        })
        .collect();
    let written = write_operations_schedule(&OperationsScheduleOut {
        id: "fuzz".into(),
        published: t0(),
        requests,
    });
    let again = read_schedule(&written).expect("a written schedule reads");
    let back = orders_from_schedule(&again, catalog, &OrderOptions::default())
        .expect("written orders map again");
    assert_eq!(back.orders, import.orders);
});
