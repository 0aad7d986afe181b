//! Properties of the readers and the writer: no input makes a reader panic, and any orders
//! and plan written as an OperationsSchedule read back as the same orders and assignments.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use isa95::{
    OperationsScheduleOut, OrderOptions, PlannedOrder, PlannedSegment, ReadAssignment,
    RecipeOptions, orders_from_schedule, read_assignments, read_schedule,
    routing_from_master_recipe, write_operations_schedule,
};
use model::{Catalog, OperationRef, Priority, ProductionOrder, Timestamp};
use proptest::prelude::*;

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::new(sim::reference_plant()).unwrap())
}

fn courbon() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../testdata/samples/b2mml/courbon_v0401_SyncProductionSchedule_PRO-27942.xml",
        );
        std::fs::read_to_string(path).unwrap()
    })
}

/// Per step: which alternative, start offset from the release and minutes.
type StepDraw = (usize, i64, i64);

/// One order of the reference plant: its routing's index, quantity, release (ms), lead time
/// (minutes), priority, and the plan's draws for its steps.
type OrderDraw = (usize, f64, i64, i64, Priority, Vec<StepDraw>);

fn order_strategy() -> impl Strategy<Value = OrderDraw> {
    (
        0..catalog().plant().routings.len(),
        (1u32..5_000_000).prop_map(|q| f64::from(q) / 1000.0),
        1_600_000_000_000i64..1_900_000_000_000,
        0i64..30 * 24 * 60,
        prop_oneof![
            Just(Priority::High),
            Just(Priority::Medium),
            Just(Priority::Low)
        ],
        prop::collection::vec((0usize..8, 0i64..10_000, 1i64..600), 8),
    )
}

fn planned_orders(drawn: &BTreeMap<String, OrderDraw>) -> (Vec<PlannedOrder>, Vec<ReadAssignment>) {
    let mut assignments = Vec::new();
    let requests = drawn
        .iter()
        .map(
            |(id, (routing, quantity, release, lead, priority, steps))| {
                let routing = &catalog().plant().routings[*routing];
                let release = Timestamp(*release);
                let order = ProductionOrder {
                    id: id.as_str().into(),
                    product: routing.product.clone(),
                    routing: routing.id.clone(),
                    quantity: *quantity,
                    release,
                    due: release.plus_minutes(*lead as f64),
                    priority: *priority,
                    customer: None,
                };
                let segments = routing
                    .steps
                    .iter()
                    .enumerate()
                    .map(|(k, step)| {
                        let op = OperationRef::new(order.id.clone(), k as u32);
                        let (pick, offset, minutes) = steps[k % steps.len()];
                        // Every other step is left unplanned (a step already done).
                        if k % 2 == 1 {
                            let units = step.alternatives.iter().map(|a| a.unit.clone()).collect();
                            return PlannedSegment {
                                op,
                                step: step.name.clone(),
                                units,
                                times: None,
                            };
                        }
                        let unit = step.alternatives[pick % step.alternatives.len()]
                            .unit
                            .clone();
                        let start = release.plus_minutes(offset as f64);
                        let end = start.plus_minutes(minutes as f64);
                        assignments.push(ReadAssignment {
                            op: op.clone(),
                            unit: unit.clone(),
                            start,
                            end,
                        });
                        PlannedSegment {
                            op,
                            step: step.name.clone(),
                            units: vec![unit],
                            times: Some((start, end)),
                        }
                    })
                    .collect();
                let uom = catalog().material(&order.product).unwrap().uom.clone();
                PlannedOrder {
                    order,
                    uom,
                    segments,
                }
            },
        )
        .collect();
    assignments.sort();
    (requests, assignments)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn orders_and_a_plan_written_read_back_the_same(
        drawn in prop::collection::btree_map(
            "[A-Za-z0-9][A-Za-z0-9&<>'\" ./_-]{0,18}[A-Za-z0-9]",
            order_strategy(),
            1..6,
        ),
        published in 1_600_000_000_000i64..1_900_000_000_000,
    ) {
        let (requests, assignments) = planned_orders(&drawn);
        let orders: Vec<ProductionOrder> = requests.iter().map(|r| r.order.clone()).collect();
        let text = write_operations_schedule(&OperationsScheduleOut {
            id: "plan & <7>".into(),
            published: Timestamp(published),
            requests,
        });
        let document = read_schedule(&text).unwrap();
        prop_assert_eq!(document.schedule_id.as_deref(), Some("plan & <7>"));
        prop_assert_eq!(document.created, Some(Timestamp(published)));
        let back = orders_from_schedule(&document, catalog(), &OrderOptions::default()).unwrap();
        prop_assert_eq!(back.orders, orders);
        prop_assert_eq!(read_assignments(&document).unwrap(), assignments);
    }

    #[test]
    fn the_schedule_reader_never_panics(text in "\\PC{0,400}") {
        if let Ok(document) = read_schedule(&text) {
            let _ = orders_from_schedule(&document, catalog(), &OrderOptions::default());
            let _ = read_assignments(&document);
        }
    }

    #[test]
    fn a_damaged_sample_is_read_or_refused_without_panic(
        cut in 0usize..6300,
        splice in "[<>/a-zA-Z0-9 =\"]{0,12}",
    ) {
        let sample = courbon();
        let cut = (0..=cut.min(sample.len())).rev().find(|k| sample.is_char_boundary(*k)).unwrap_or(0);
        let damaged = format!("{}{splice}{}", &sample[..cut], &sample[cut..]);
        if let Ok(document) = read_schedule(&damaged) {
            let _ = orders_from_schedule(&document, catalog(), &OrderOptions {
                due_after_hours: Some(8.0),
                ..OrderOptions::default()
            });
        }
    }

    #[test]
    fn the_recipe_reader_never_panics(text in "\\PC{0,400}") {
        let _ = routing_from_master_recipe(&text, catalog(), &RecipeOptions::default());
        let wrapped = format!("<BatchInformation xmlns=\"http://www.wbf.org/xml/BatchML-V02\"><MasterRecipe>{text}</MasterRecipe></BatchInformation>");
        let _ = routing_from_master_recipe(&wrapped, catalog(), &RecipeOptions::default());
    }
}
