//! Unit tests of the row mappings: each set's rows, written by `Tables` from events, mapped
//! back against a `PlantState`; and the errors that name the set, row and field.

use model::{Catalog, EquipmentState, Event, EventKind, PlantState, Priority, Timestamp};
use serde_json::{Value, json};

use crate::map::{MapError, map_row, map_set_row};
use crate::sets::EntitySet;
use crate::tables::Tables;
use crate::wire::guid;

struct Fixture {
    catalog: Catalog,
    tables: Tables,
    state: PlantState,
    next: u32,
}

fn start() -> Timestamp {
    Timestamp::parse("2026-03-02T00:00:00Z").unwrap()
}

impl Fixture {
    fn new() -> Fixture {
        let catalog = sim::reference_catalog();
        Fixture {
            tables: Tables::new(&catalog, start()),
            state: PlantState::initial(&catalog, start()),
            catalog,
            next: 0,
        }
    }

    /// Applies `kind` at `minutes` after the start to the tables.
    fn happen(&mut self, minutes: f64, kind: EventKind) -> Event {
        self.next += 1;
        let event = Event {
            id: format!("e-{}", self.next).into(),
            time: start().plus_minutes(minutes),
            source: Some("test".into()),
            kind,
        };
        self.tables.apply(&event).expect("fits the tables");
        event
    }

    fn row(&self, set: EntitySet, nid: &str) -> Value {
        Value::Object(self.tables.row(set, nid).expect("row exists").clone())
    }

    /// Maps the row and folds what it maps to.
    fn read(&mut self, set: EntitySet, nid: &str) -> Vec<Event> {
        let row = self.row(set, nid);
        let events = map_row(set.app().name(), set.name(), &row, &self.state).expect("maps");
        for event in &events {
            self.state.apply(&self.catalog, event).expect("folds");
        }
        events
    }

    fn release_first_order(&mut self) -> model::ProductionOrder {
        let order = self.catalog.plant().orders[0].clone();
        self.happen(
            1.0,
            EventKind::OrderReleased {
                order: order.clone(),
            },
        );
        order
    }
}

fn field_of(error: MapError) -> (String, String) {
    match error {
        MapError::Field { set, field, .. } => (set, field),
        other => panic!("not a field error: {other}"),
    }
}

#[test]
fn a_work_order_is_released_once_then_changed_then_cancelled() {
    let mut f = Fixture::new();
    let order = f.release_first_order();
    let id = order.id.as_str().to_owned();
    let events = f.read(EntitySet::WorkOrder, &id);
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].id.as_str(),
        format!("opc-WorkOrder-{}-released", guid("WorkOrder", &id))
    );
    assert_eq!(events[0].time, start().plus_minutes(1.0));
    assert_eq!(events[0].source.as_deref(), Some("opcenter"));
    assert_eq!(
        events[0].kind,
        EventKind::OrderReleased {
            order: order.clone()
        }
    );
    assert!(f.read(EntitySet::WorkOrder, &id).is_empty(), "nothing new");

    let due = order.due.plus_minutes(90.0);
    f.happen(
        5.0,
        EventKind::OrderChanged {
            order: order.id.clone(),
            quantity: None,
            due: Some(due),
            priority: Some(Priority::Low),
        },
    );
    let events = f.read(EntitySet::WorkOrder, &id);
    assert_eq!(
        events.iter().map(|e| &e.kind).collect::<Vec<_>>(),
        [&EventKind::OrderChanged {
            order: order.id.clone(),
            quantity: None,
            due: Some(due),
            priority: Some(Priority::Low)
        }]
    );
    let stamp = start().plus_minutes(5.0).0;
    assert!(
        events[0]
            .id
            .as_str()
            .ends_with(&format!("-changed-{stamp}")),
        "{}",
        events[0].id
    );

    f.happen(
        6.0,
        EventKind::OrderCancelled {
            order: order.id.clone(),
            reason: "customer withdrew".into(),
        },
    );
    let events = f.read(EntitySet::WorkOrder, &id);
    assert_eq!(
        events[0].kind,
        EventKind::OrderCancelled {
            order: order.id.clone(),
            reason: "customer withdrew".into()
        }
    );
    // The aborted order's operations say nothing more.
    let operation = crate::operation_nid(&id, 0);
    assert_eq!(
        f.row(EntitySet::WorkOrderOperation, &operation)["Status"],
        "Aborted"
    );
    assert!(f.read(EntitySet::WorkOrderOperation, &operation).is_empty());
}

#[test]
fn an_operation_is_dispatched_started_and_completed_once_each() {
    let mut f = Fixture::new();
    let order = f.release_first_order();
    let routing = f.catalog.routing(&order.routing).unwrap().clone();
    let unit = routing.steps[0].alternatives[0].unit.clone();
    f.read(EntitySet::WorkOrder, order.id.as_str());
    let nid = crate::operation_nid(order.id.as_str(), 0);
    assert!(
        f.read(EntitySet::WorkOrderOperation, &nid).is_empty(),
        "a ready operation says nothing"
    );

    let planned = start().plus_minutes(60.0);
    f.happen(
        2.0,
        EventKind::OperationDispatched {
            order: order.id.clone(),
            step: 0,
            unit: Some(unit.clone()),
            start: Some(planned),
        },
    );
    let events = f.read(EntitySet::WorkOrderOperation, &nid);
    assert_eq!(
        events[0].kind,
        EventKind::OperationDispatched {
            order: order.id.clone(),
            step: 0,
            unit: Some(unit.clone()),
            start: Some(planned)
        }
    );
    // Only what differs from the last dispatch is said again.
    let later = planned.plus_minutes(30.0);
    f.happen(
        3.0,
        EventKind::OperationDispatched {
            order: order.id.clone(),
            step: 0,
            unit: None,
            start: Some(later),
        },
    );
    let events = f.read(EntitySet::WorkOrderOperation, &nid);
    assert_eq!(
        events[0].kind,
        EventKind::OperationDispatched {
            order: order.id.clone(),
            step: 0,
            unit: None,
            start: Some(later)
        }
    );

    f.happen(
        70.0,
        EventKind::OperationStarted {
            order: order.id.clone(),
            step: 0,
            unit: unit.clone(),
            members: vec!["P-1".into()],
        },
    );
    let parameters = [("temperature".to_owned(), 81.5)].into_iter().collect();
    f.happen(
        130.0,
        EventKind::OperationCompleted {
            order: order.id.clone(),
            step: 0,
            unit: unit.clone(),
            good_quantity: 9.0,
            scrap_quantity: 1.0,
            parameters,
        },
    );
    let events = f.read(EntitySet::WorkOrderOperation, &nid);
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].time, start().plus_minutes(70.0));
    assert!(
        matches!(&events[0].kind, EventKind::OperationStarted { members, .. } if members[0].as_str() == "P-1")
    );
    assert_eq!(events[1].time, start().plus_minutes(130.0));
    assert!(matches!(
        &events[1].kind,
        EventKind::OperationCompleted { good_quantity, scrap_quantity, parameters, .. }
            if *good_quantity == 9.0 && *scrap_quantity == 1.0 && parameters["temperature"] == 81.5
    ));
    assert!(events[1].id.as_str().ends_with("-completed"));
    assert!(f.read(EntitySet::WorkOrderOperation, &nid).is_empty());
    assert_eq!(f.state.orders[&order.id].steps_completed, 1);
}

#[test]
fn equipment_rows_map_their_status_and_history() {
    let mut f = Fixture::new();
    let unit = f.catalog.plant().units[0].id.clone();
    assert!(
        f.read(EntitySet::Equipment, unit.as_str()).is_empty(),
        "idle as known"
    );
    let event = f.happen(
        10.0,
        EventKind::EquipmentStateChanged {
            unit: unit.clone(),
            state: EquipmentState::Down,
            reason: Some("seal".into()),
        },
    );
    let history = f.read(EntitySet::EquipmentStatusHistory, event.id.as_str());
    assert_eq!(
        history[0].id.as_str(),
        format!(
            "opc-EquipmentStatusHistory-{}",
            guid("EquipmentStatusHistory", event.id.as_str())
        )
    );
    assert_eq!(history[0].kind, event.kind);
    assert_eq!(history[0].time, event.time);
    assert!(
        f.read(EntitySet::Equipment, unit.as_str()).is_empty(),
        "the history said it"
    );

    // Read without its history, the row says the state itself.
    let mut fresh = Fixture::new();
    fresh.happen(10.0, event.kind.clone());
    let events = fresh.read(EntitySet::Equipment, unit.as_str());
    assert_eq!(events[0].kind, event.kind);
    assert_eq!(events[0].time, event.time);
}

#[test]
fn movements_and_results_map_one_to_one() {
    let mut f = Fixture::new();
    let order = f.release_first_order();
    f.read(EntitySet::WorkOrder, order.id.as_str());
    let material = f.catalog.plant().materials[0].id.clone();
    let kinds = [
        EventKind::MaterialReceived {
            material: material.clone(),
            lot: "L-1".into(),
            quantity: 50.0,
            supplier: Some("ACME".into()),
            receipt: None,
        },
        EventKind::MaterialConsumed {
            order: order.id.clone(),
            step: 0,
            material: material.clone(),
            lot: Some("L-1".into()),
            serial: None,
            quantity: 20.0,
        },
        EventKind::MaterialProduced {
            order: order.id.clone(),
            material: material.clone(),
            lot: None,
            serials: vec!["S-1".into(), "S-2".into()],
            quantity: 2.0,
        },
        EventKind::MaterialShipped {
            material: material.clone(),
            lot: Some("L-1".into()),
            serials: vec!["S-1".into()],
            quantity: 5.0,
            customer: "Initech".into(),
        },
    ];
    for (i, kind) in kinds.into_iter().enumerate() {
        let event = f.happen(10.0 + i as f64, kind);
        let events = f.read(EntitySet::MtuOperationTracking, event.id.as_str());
        assert_eq!(events.len(), 1);
        assert_eq!((&events[0].kind, events[0].time), (&event.kind, event.time));
    }
    let lot = f.row(EntitySet::MaterialTrackingUnit, "L-1");
    assert_eq!(
        (lot["Quantity"].as_f64(), lot["ConsumedQuantity"].as_f64()),
        (Some(25.0), Some(20.0))
    );
    assert!(
        f.read(EntitySet::MaterialTrackingUnit, "L-1").is_empty(),
        "movements carry lots"
    );
    assert_eq!(
        f.row(EntitySet::ProducedMaterialItem, "S-1")["Status"],
        "Shipped"
    );
    assert_eq!(f.state.lots[&model::LotId::from("L-1")].on_hand(), 25.0);

    let characteristic = f.catalog.plant().inspection_plans[0].characteristics[0]
        .id
        .clone();
    let kind = EventKind::QualityResultRecorded {
        characteristic,
        value: 1.25,
        sample: Some(3),
        sample_size: None,
        order: Some(order.id.clone()),
        lot: Some("L-1".into()),
        serial: None,
        unit: None,
    };
    let event = f.happen(20.0, kind);
    let events = f.read(EntitySet::ResultHistory, event.id.as_str());
    assert_eq!((&events[0].kind, events[0].time), (&event.kind, event.time));
}

#[test]
fn expected_receipts_are_announced_changed_and_cancelled() {
    let mut f = Fixture::new();
    let material = f.catalog.plant().materials[0].id.clone();
    let expected = start().plus_minutes(3.0 * 1440.0);
    let announce = |quantity: f64| EventKind::ReceiptExpected {
        receipt: "PO-1/1".into(),
        material: material.clone(),
        quantity,
        expected,
        supplier: None,
        purchase_order: Some("PO-1".into()),
    };
    f.happen(1.0, announce(100.0));
    assert_eq!(
        f.read(EntitySet::ExpectedReceipt, "PO-1/1")[0].kind,
        announce(100.0)
    );
    assert!(f.read(EntitySet::ExpectedReceipt, "PO-1/1").is_empty());
    f.happen(2.0, announce(80.0));
    assert_eq!(
        f.read(EntitySet::ExpectedReceipt, "PO-1/1")[0].kind,
        announce(80.0)
    );
    f.happen(
        3.0,
        EventKind::ReceiptCancelled {
            receipt: "PO-1/1".into(),
            reason: Some("supplier".into()),
        },
    );
    let events = f.read(EntitySet::ExpectedReceipt, "PO-1/1");
    assert_eq!(
        events[0].kind,
        EventKind::ReceiptCancelled {
            receipt: "PO-1/1".into(),
            reason: Some("supplier".into())
        }
    );
    assert!(
        f.read(EntitySet::ExpectedReceipt, "PO-1/1").is_empty(),
        "closed receipts say nothing"
    );
}

#[test]
fn bad_rows_are_refused_naming_set_row_and_field() {
    let mut f = Fixture::new();
    let order = f.release_first_order();
    let id = order.id.as_str();
    let known = PlantState::initial(&f.catalog, start());
    let refused =
        |set: EntitySet, row: &Value| field_of(map_set_row(set, row, &known).unwrap_err());

    let good = f.row(EntitySet::WorkOrder, id);
    let mut row = good.clone();
    row["Priority"] = json!("high");
    assert_eq!(
        refused(EntitySet::WorkOrder, &row),
        ("WorkOrder".into(), "Priority".into())
    );
    let error = map_set_row(EntitySet::WorkOrder, &row, &known)
        .unwrap_err()
        .to_string();
    assert!(error.contains(good["Id"].as_str().unwrap()), "{error}");
    row = good.clone();
    row["DueDate"] = json!("next tuesday");
    assert_eq!(refused(EntitySet::WorkOrder, &row).1, "DueDate");
    row = good.clone();
    row["Status"] = json!("Teleported");
    assert_eq!(refused(EntitySet::WorkOrder, &row).1, "Status");
    row = good.clone();
    row.as_object_mut().unwrap().remove("Id");
    assert_eq!(refused(EntitySet::WorkOrder, &row).1, "Id");
    row = good.clone();
    row["NId"] = json!("a\u{7}b");
    assert_eq!(refused(EntitySet::WorkOrder, &row).1, "NId");

    let operation = f.row(EntitySet::WorkOrderOperation, &crate::operation_nid(id, 0));
    assert_eq!(
        refused(EntitySet::WorkOrderOperation, &operation).1,
        "WorkOrderNId",
        "order not known yet"
    );
    let mut row = operation.clone();
    row["Sequence"] = json!(15);
    assert_eq!(refused(EntitySet::WorkOrderOperation, &row).1, "Sequence");

    let material = f.catalog.plant().materials[0].id.clone();
    let event = f.happen(
        2.0,
        EventKind::MaterialReceived {
            material,
            lot: "L-9".into(),
            quantity: 1.0,
            supplier: None,
            receipt: None,
        },
    );
    let mut row = f.row(EntitySet::MtuOperationTracking, event.id.as_str());
    row["Action"] = json!("Teleport");
    assert_eq!(
        refused(EntitySet::MtuOperationTracking, &row),
        ("MTUOperationTracking".into(), "Action".into())
    );
    row["Action"] = json!("Receive");
    row["SerialNumbers"] = json!(["S-1", 7]);
    row["Quantity"] = json!("lots");
    assert_eq!(refused(EntitySet::MtuOperationTracking, &row).1, "Quantity");

    assert!(matches!(
        map_row("AppU4DM", "Teleporter", &good, &known),
        Err(MapError::UnknownSet { .. })
    ));
    assert_eq!(
        field_of(map_row("AppU4DM", "WorkOrder", &json!([1]), &known).unwrap_err()).1,
        ""
    );
}
