//! Commands: a proposal's changes become commands (`commands_for`), the MES reads them back
//! (`parse_command`) to what the changes asked, refuses a bad body naming the field, and
//! carries them out on its tables once per idempotency key (`Tables::apply_command`).

use govern::Change;
use model::{EquipmentState, EventKind, PlantState, Priority, Timestamp};
use opcenter::command::{codes, names};
use opcenter::{
    Action, CommandAnswer, CommandError, EntitySet, Tables, commands_for, map_set_row,
    operation_nid, parse_command,
};
use serde_json::{Value, json};

fn change(entity: &str, id: &str, field: &str, before: Value, after: Value) -> Change {
    Change {
        entity: entity.into(),
        id: id.into(),
        field: field.into(),
        before,
        after,
        shift_minutes: None,
        high_priority: false,
    }
}

fn t(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

fn diff() -> Vec<Change> {
    vec![
        change("order", "MO-1", "priority", json!("low"), json!("high")),
        change(
            "order",
            "MO-1",
            "due",
            json!("2026-03-04T10:00:00Z"),
            json!("2026-03-05T12:30:00Z"),
        ),
        change("order", "MO-1", "quantity", json!(100.0), json!(120.0)),
        change(
            "operation",
            "LINE/7/MO-9/2",
            "unit",
            json!("R-101"),
            json!("R-102"),
        ),
        change(
            "operation",
            "MO-1/0",
            "start",
            json!("2026-03-02T06:00:00Z"),
            json!("2026-03-02T07:30:00Z"),
        ),
        change(
            "lot",
            "L-7",
            "hold",
            Value::Null,
            json!({"reason": "SPC rule 1", "severity": "major"}),
        ),
        change("serial", "S-3", "hold", json!({"reason": "x"}), Value::Null),
        change("unit", "R-101", "state", json!("running"), json!("down")),
        change(
            "order",
            "MO-2",
            "hold",
            Value::Null,
            json!({"reason": "customer query"}),
        ),
    ]
}

#[test]
fn a_diff_becomes_commands_that_read_back_to_what_it_asked() {
    let commands = commands_for("P-1", "apply", &diff()).unwrap();
    let expected = [
        (
            "AppU4DM",
            names::SET_WORK_ORDER_PRIORITY,
            Action::SetWorkOrderPriority {
                order: "MO-1".into(),
                priority: Priority::High,
            },
        ),
        (
            "AppU4DM",
            names::SET_WORK_ORDER_DUE_DATE,
            Action::SetWorkOrderDueDate {
                order: "MO-1".into(),
                due: t("2026-03-05T12:30:00Z"),
            },
        ),
        (
            "AppU4DM",
            names::SET_WORK_ORDER_QUANTITY,
            Action::SetWorkOrderQuantity {
                order: "MO-1".into(),
                quantity: 120.0,
            },
        ),
        (
            "AppU4DM",
            names::DISPATCH_OPERATION,
            Action::DispatchOperation {
                order: "LINE/7/MO-9".into(),
                step: 2,
                unit: Some("R-102".into()),
                start: None,
            },
        ),
        (
            "AppU4DM",
            names::DISPATCH_OPERATION,
            Action::DispatchOperation {
                order: "MO-1".into(),
                step: 0,
                unit: None,
                start: Some(t("2026-03-02T07:30:00Z")),
            },
        ),
        (
            "Material",
            names::SET_MTU_HOLD,
            Action::SetLotHold {
                lot: "L-7".into(),
                hold: Some("SPC rule 1".into()),
            },
        ),
        (
            "Material",
            names::SET_ITEM_HOLD,
            Action::SetSerialHold {
                serial: "S-3".into(),
                hold: None,
            },
        ),
        (
            "Equipment",
            names::SET_EQUIPMENT_STATUS,
            Action::SetEquipmentStatus {
                unit: "R-101".into(),
                state: EquipmentState::Down,
                reason: Some("mixplane change P-1-apply-8".into()),
            },
        ),
        (
            "AppU4DM",
            names::SET_WORK_ORDER_HOLD,
            Action::SetWorkOrderHold {
                order: "MO-2".into(),
                hold: Some("customer query".into()),
            },
        ),
    ];
    assert_eq!(commands.len(), expected.len());
    for (i, (command, (app, name, action))) in commands.iter().zip(expected).enumerate() {
        assert_eq!((command.app.as_str(), command.name.as_str()), (app, name));
        assert_eq!(
            command.path(),
            format!("/sit-svc/Application/{app}/odata/{name}")
        );
        let key = format!("P-1-apply-{}", i + 1);
        assert_eq!(command.idempotency_key(), Some(key.as_str()));
        let parsed = parse_command(&command.app, &command.name, &command.body).unwrap();
        assert_eq!(
            (parsed.key, parsed.action, parsed.modified_by),
            (key, action, None)
        );
    }
    // The body is Opcenter's `{"command": {…}}` with the key inside.
    assert_eq!(
        commands[0].body,
        json!({"command": {"WorkOrderNId": "MO-1", "Priority": 1, "IdempotencyKey": "P-1-apply-1"}})
    );
    let mut signed = commands[0].clone();
    signed.set_modified_by("mixplane-scheduler/0.1.0 approved by ana");
    let parsed = parse_command(&signed.app, &signed.name, &signed.body).unwrap();
    assert_eq!(
        parsed.modified_by.as_deref(),
        Some("mixplane-scheduler/0.1.0 approved by ana")
    );
}

#[test]
fn a_rollback_is_the_inverse_diff_under_its_own_keys() {
    let diff = diff();
    let back = commands_for("P-1", "rollback", &Change::inverse_diff(&diff)).unwrap();
    assert_eq!(back[0].idempotency_key(), Some("P-1-rollback-1"));
    let first = parse_command(&back[0].app, &back[0].name, &back[0].body).unwrap();
    assert_eq!(
        first.action,
        Action::SetWorkOrderHold {
            order: "MO-2".into(),
            hold: None
        }
    );
    let last = back.last().unwrap();
    let last = parse_command(&last.app, &last.name, &last.body).unwrap();
    assert_eq!(
        last.action,
        Action::SetWorkOrderPriority {
            order: "MO-1".into(),
            priority: Priority::Low
        }
    );
}

#[test]
fn changes_no_command_carries_are_refused_by_name() {
    let error = commands_for(
        "P",
        "apply",
        &[change(
            "work_instruction",
            "WI-1",
            "text",
            json!("a"),
            json!("b"),
        )],
    )
    .unwrap_err();
    assert_eq!(
        (error.index, error.entity.as_str(), error.field.as_str()),
        (0, "work_instruction", "text")
    );
    assert!(
        error.to_string().contains("work_instruction.text"),
        "{error}"
    );
    let diff = [
        change("order", "MO-1", "priority", json!("low"), json!("high")),
        change("operation", "MO-1/0", "unit", Value::Null, json!("R-101")),
    ];
    let error = commands_for("P", "rollback", &Change::inverse_diff(&diff)).unwrap_err();
    assert!(error.message.contains("cannot roll back"), "{error}");
    let error = commands_for(
        "P",
        "apply",
        &[change(
            "order",
            "MO-1",
            "priority",
            json!("low"),
            json!("urgent"),
        )],
    )
    .unwrap_err();
    assert!(error.message.contains("`after` is not valid"), "{error}");
    let error = commands_for(
        "P",
        "apply",
        &[change("operation", "MO-1", "unit", json!("a"), json!("b"))],
    )
    .unwrap_err();
    assert!(error.message.contains("<order>/<step>"), "{error}");
}

fn refused_field(app: &str, name: &str, body: Value) -> String {
    match parse_command(app, name, &body) {
        Err(CommandError::Body { field, command, .. }) => {
            assert_eq!(command, name);
            field
        }
        other => panic!("not refused by field: {other:?}"),
    }
}

#[test]
fn a_bad_body_is_refused_naming_the_field() {
    let priority = names::SET_WORK_ORDER_PRIORITY;
    let ok = json!({"command": {"WorkOrderNId": "MO-1", "Priority": 2, "IdempotencyKey": "k"}});
    assert!(parse_command("AppU4DM", priority, &ok).is_ok());
    let cases = [
        (
            json!({"WorkOrderNId": "MO-1", "Priority": 2}),
            "IdempotencyKey",
        ),
        (
            json!({"WorkOrderNId": "MO-1", "Priority": "high", "IdempotencyKey": "k"}),
            "Priority",
        ),
        (
            json!({"WorkOrderNId": "MO-1", "Priority": 0, "IdempotencyKey": "k"}),
            "Priority",
        ),
        (
            json!({"Priority": 2, "IdempotencyKey": "k"}),
            "WorkOrderNId",
        ),
        (
            json!({"WorkOrderNId": "", "Priority": 2, "IdempotencyKey": "k"}),
            "WorkOrderNId",
        ),
        (
            json!({"WorkOrderNId": "MO-1", "Priorty": 2, "IdempotencyKey": "k"}),
            "Priorty",
        ),
    ];
    for (fields, field) in cases {
        assert_eq!(
            refused_field("AppU4DM", priority, json!({ "command": fields })),
            field
        );
    }
    assert_eq!(
        refused_field("AppU4DM", priority, json!({"WorkOrderNId": "MO-1"})),
        "command"
    );
    assert_eq!(
        refused_field("AppU4DM", priority, json!({"command": {}, "extra": 1})),
        "extra"
    );
    let dispatch = names::DISPATCH_OPERATION;
    let body = json!({"command": {"WorkOrderNId": "MO-1", "Sequence": 10, "IdempotencyKey": "k"}});
    assert_eq!(refused_field("AppU4DM", dispatch, body), "EquipmentNId");
    let body = json!({"command": {"WorkOrderNId": "MO-1", "Sequence": 15, "EquipmentNId": "R-1", "IdempotencyKey": "k"}});
    assert_eq!(refused_field("AppU4DM", dispatch, body), "Sequence");
    let body = json!({"command": {"WorkOrderNId": "MO-1", "Sequence": 10, "EstimatedStartTime": "soon", "IdempotencyKey": "k"}});
    assert_eq!(
        refused_field("AppU4DM", dispatch, body),
        "EstimatedStartTime"
    );
    let body = json!({"command": {"MaterialTrackingUnitNId": "L-1", "IdempotencyKey": "k"}});
    assert_eq!(
        refused_field("Material", names::SET_MTU_HOLD, body),
        "IsHold"
    );
    let body =
        json!({"command": {"EquipmentNId": "R-1", "Status": "Broken", "IdempotencyKey": "k"}});
    assert_eq!(
        refused_field("Equipment", names::SET_EQUIPMENT_STATUS, body),
        "Status"
    );

    let error = parse_command("Material", priority, &ok).unwrap_err();
    assert!(
        matches!(error, CommandError::UnknownCommand { .. }),
        "{error}"
    );
    let answer = error.answer();
    assert!(!answer.succeeded);
    assert_eq!(answer.error.error_code, codes::INVALID_ARGUMENT);
    assert!(
        answer
            .error
            .error_message
            .contains("UADMSetWorkOrderPriority")
    );
}

#[test]
fn the_answer_has_opcenter_shape() {
    let ok = serde_json::to_value(CommandAnswer::succeeded()).unwrap();
    assert_eq!(
        ok,
        json!({"Succeeded": true, "Error": {"ErrorCode": 0, "ErrorMessage": ""}})
    );
    let real = json!({
        "@odata.context": "…/$metadata#Siemens.SimaticIT.AppU4DM.UADMSetWorkOrderPriorityResponse",
        "Succeeded": false,
        "Error": {"ErrorCode": -702597, "ErrorMessage": "Work order is closed"},
        "SitUafExecutionDetail": null
    });
    let answer: CommandAnswer = serde_json::from_value(real).unwrap();
    assert_eq!(
        answer,
        CommandAnswer::failed(-702_597, "Work order is closed")
    );
}

/// The reference plant's first order, released at the start, with the tables around it.
fn released() -> (model::Catalog, Tables, model::ProductionOrder) {
    let catalog = sim::reference_catalog();
    let start = t("2026-03-02T00:00:00Z");
    let mut tables = Tables::new(&catalog, start);
    let order = catalog.plant().orders[0].clone();
    let event = model::Event {
        id: "e-1".into(),
        time: start,
        source: None,
        kind: EventKind::OrderReleased {
            order: order.clone(),
        },
    };
    tables.apply(&event).unwrap();
    (catalog, tables, order)
}

fn command(app: &str, name: &str, fields: Value) -> opcenter::ParsedCommand {
    parse_command(app, name, &json!({ "command": fields })).unwrap()
}

#[test]
fn the_emulator_carries_a_command_out_once_per_key() {
    let (catalog, mut tables, order) = released();
    let id = order.id.as_str();
    let now = t("2026-03-02T01:00:00Z");
    let asked = command(
        "AppU4DM",
        names::SET_WORK_ORDER_PRIORITY,
        json!({"WorkOrderNId": id, "Priority": 1, "IdempotencyKey": "P-1-apply-1"}),
    );
    assert_eq!(
        tables.apply_command(&asked, now),
        CommandAnswer::succeeded()
    );
    let row = tables.row(EntitySet::WorkOrder, id).unwrap().clone();
    assert_eq!(row["Priority"], 1);
    assert_eq!(row["ModifiedOn"], "2026-03-02T01:00:00.000Z");
    // The change reads back as the order change it was.
    let mut known = PlantState::initial(&catalog, t("2026-03-02T00:00:00Z"));
    let released = map_set_row(EntitySet::WorkOrder, &Value::Object(row.clone()), &known).unwrap();
    assert!(
        matches!(&released[0].kind, EventKind::OrderReleased { order } if order.priority == Priority::High)
    );
    known.apply(&catalog, &released[0]).unwrap();

    // Delivered again after a lost answer: the same answer, nothing changes.
    assert_eq!(
        tables.apply_command(&asked, t("2026-03-02T02:00:00Z")),
        CommandAnswer::succeeded()
    );
    assert_eq!(
        tables.row(EntitySet::WorkOrder, id).unwrap()["ModifiedOn"],
        row["ModifiedOn"]
    );
    // The same key for something else is refused.
    let other = command(
        "AppU4DM",
        names::SET_WORK_ORDER_PRIORITY,
        json!({"WorkOrderNId": id, "Priority": 3, "IdempotencyKey": "P-1-apply-1"}),
    );
    let answer = tables.apply_command(&other, now);
    assert_eq!(
        (answer.succeeded, answer.error.error_code),
        (false, codes::IDEMPOTENCY_CONFLICT)
    );

    let missing = command(
        "AppU4DM",
        names::SET_WORK_ORDER_DUE_DATE,
        json!({"WorkOrderNId": "NOPE", "DueDate": "2026-03-09T00:00:00Z", "IdempotencyKey": "k2"}),
    );
    assert_eq!(
        tables.apply_command(&missing, now).error.error_code,
        codes::NOT_FOUND
    );
    let early = command(
        "AppU4DM",
        names::SET_WORK_ORDER_DUE_DATE,
        json!({"WorkOrderNId": id, "DueDate": "2020-01-01T00:00:00Z", "IdempotencyKey": "k3"}),
    );
    assert_eq!(
        tables.apply_command(&early, now).error.error_code,
        codes::INVALID_ARGUMENT
    );
}

#[test]
fn dispatches_holds_and_statuses_change_the_rows() {
    let (catalog, mut tables, order) = released();
    let id = order.id.as_str();
    let now = t("2026-03-02T01:00:00Z");
    let routing = catalog.routing(&order.routing).unwrap();
    let unit = routing.steps[0].alternatives[0].unit.clone();
    let stranger = catalog
        .plant()
        .units
        .iter()
        .find(|u| routing.steps[0].alternatives.iter().all(|a| a.unit != u.id))
        .unwrap()
        .id
        .clone();

    let wrong = command(
        "AppU4DM",
        names::DISPATCH_OPERATION,
        json!({"WorkOrderNId": id, "Sequence": 10, "EquipmentNId": stranger, "IdempotencyKey": "d0"}),
    );
    assert_eq!(
        tables.apply_command(&wrong, now).error.error_code,
        codes::INVALID_ARGUMENT
    );
    let dispatch = command(
        "AppU4DM",
        names::DISPATCH_OPERATION,
        json!({"WorkOrderNId": id, "Sequence": 10, "EquipmentNId": unit, "EstimatedStartTime": "2026-03-02T04:00:00Z", "IdempotencyKey": "d1"}),
    );
    assert!(tables.apply_command(&dispatch, now).succeeded);
    let operation = tables
        .row(EntitySet::WorkOrderOperation, &operation_nid(id, 0))
        .unwrap();
    assert_eq!(
        (
            operation["ToBeUsedMachine"].as_str(),
            operation["EstimatedStartTime"].as_str()
        ),
        (Some(unit.as_str()), Some("2026-03-02T04:00:00.000Z"))
    );

    let started = model::Event {
        id: "e-2".into(),
        time: t("2026-03-02T04:00:00Z"),
        source: None,
        kind: EventKind::OperationStarted {
            order: order.id.clone(),
            step: 0,
            unit: unit.clone(),
            members: vec![],
        },
    };
    tables.apply(&started).unwrap();
    let again = command(
        "AppU4DM",
        names::DISPATCH_OPERATION,
        json!({"WorkOrderNId": id, "Sequence": 10, "EstimatedStartTime": "2026-03-02T05:00:00Z", "IdempotencyKey": "d2"}),
    );
    assert_eq!(
        tables
            .apply_command(&again, t("2026-03-02T04:30:00Z"))
            .error
            .error_code,
        codes::WRONG_STATE
    );

    let material = catalog.plant().materials[0].id.clone();
    let received = model::Event {
        id: "e-3".into(),
        time: t("2026-03-02T04:40:00Z"),
        source: None,
        kind: EventKind::MaterialReceived {
            material,
            lot: "L-1".into(),
            quantity: 5.0,
            supplier: None,
            receipt: None,
        },
    };
    tables.apply(&received).unwrap();
    let hold = command(
        "Material",
        names::SET_MTU_HOLD,
        json!({"MaterialTrackingUnitNId": "L-1", "IsHold": true, "HoldReason": "SPC", "IdempotencyKey": "h1"}),
    );
    assert!(
        tables
            .apply_command(&hold, t("2026-03-02T05:00:00Z"))
            .succeeded
    );
    let lot = tables.row(EntitySet::MaterialTrackingUnit, "L-1").unwrap();
    assert_eq!(
        (lot["IsHold"].as_bool(), lot["HoldReason"].as_str()),
        (Some(true), Some("SPC"))
    );
    let release = command(
        "Material",
        names::SET_MTU_HOLD,
        json!({"MaterialTrackingUnitNId": "L-1", "IsHold": false, "IdempotencyKey": "h2"}),
    );
    assert!(
        tables
            .apply_command(&release, t("2026-03-02T05:10:00Z"))
            .succeeded
    );
    assert_eq!(
        tables.row(EntitySet::MaterialTrackingUnit, "L-1").unwrap()["IsHold"],
        false
    );
    let absent = command(
        "Material",
        names::SET_MTU_HOLD,
        json!({"MaterialTrackingUnitNId": "L-404", "IsHold": true, "IdempotencyKey": "h3"}),
    );
    assert_eq!(
        tables.apply_command(&absent, now).error.error_code,
        codes::NOT_FOUND
    );

    let down = command(
        "Equipment",
        names::SET_EQUIPMENT_STATUS,
        json!({"EquipmentNId": unit, "Status": "Down", "Reason": "repair", "IdempotencyKey": "s1"}),
    );
    assert!(
        tables
            .apply_command(&down, t("2026-03-02T06:00:00Z"))
            .succeeded
    );
    assert_eq!(
        tables.row(EntitySet::Equipment, unit.as_str()).unwrap()["Status"],
        "Down"
    );
    let history = tables
        .row(EntitySet::EquipmentStatusHistory, "cmd-s1")
        .unwrap();
    assert_eq!(
        (history["Status"].as_str(), history["Reason"].as_str()),
        (Some("Down"), Some("repair"))
    );
}

mod properties {
    //! `commands_for` then `parse_command` gives back what any change asked; dropping a
    //! required field from any command's body is refused naming that field.

    use super::*;
    use proptest::prelude::*;

    fn order_id() -> impl Strategy<Value = String> {
        "[A-Z]{1,3}(-[0-9]{1,4}){1,2}(/[A-Z0-9]{1,3})?"
    }

    fn a_change() -> impl Strategy<Value = (Change, Action)> {
        let priority = prop_oneof![
            Just(Priority::High),
            Just(Priority::Medium),
            Just(Priority::Low)
        ];
        let minutes = 0i64..100_000;
        let base = t("2026-03-02T00:00:00Z").0;
        prop_oneof![
            (order_id(), priority).prop_map(|(id, p)| (
                change(
                    "order",
                    &id,
                    "priority",
                    Value::Null,
                    serde_json::to_value(p).unwrap()
                ),
                Action::SetWorkOrderPriority {
                    order: id.as_str().into(),
                    priority: p
                }
            )),
            (order_id(), minutes.clone()).prop_map(move |(id, m)| {
                let due = Timestamp(base + m * 60_000);
                (
                    change("order", &id, "due", Value::Null, json!(due.to_string())),
                    Action::SetWorkOrderDueDate {
                        order: id.as_str().into(),
                        due,
                    },
                )
            }),
            (order_id(), 1u32..10_000).prop_map(|(id, q)| (
                change(
                    "order",
                    &id,
                    "quantity",
                    Value::Null,
                    json!(f64::from(q) / 4.0)
                ),
                Action::SetWorkOrderQuantity {
                    order: id.as_str().into(),
                    quantity: f64::from(q) / 4.0
                }
            )),
            (order_id(), 0u32..40, "[A-Z]{1,2}-[0-9]{1,3}").prop_map(|(id, step, unit)| (
                change(
                    "operation",
                    &format!("{id}/{step}"),
                    "unit",
                    Value::Null,
                    json!(unit)
                ),
                Action::DispatchOperation {
                    order: id.as_str().into(),
                    step,
                    unit: Some(unit.as_str().into()),
                    start: None
                }
            )),
            (order_id(), 0u32..40, minutes).prop_map(move |(id, step, m)| {
                let start = Timestamp(base + m * 60_000);
                (
                    change(
                        "operation",
                        &format!("{id}/{step}"),
                        "start",
                        Value::Null,
                        json!(start.to_string()),
                    ),
                    Action::DispatchOperation {
                        order: id.as_str().into(),
                        step,
                        unit: None,
                        start: Some(start),
                    },
                )
            }),
            (order_id(), proptest::option::of("[a-z ]{1,20}")).prop_map(|(lot, reason)| {
                let after = reason
                    .as_ref()
                    .map_or(Value::Null, |r| json!({"reason": r}));
                let hold = reason.map(|r| {
                    if r.trim().is_empty() {
                        "quality hold".to_owned()
                    } else {
                        r
                    }
                });
                (
                    change("lot", &lot, "hold", Value::Null, after),
                    Action::SetLotHold {
                        lot: lot.as_str().into(),
                        hold,
                    },
                )
            }),
        ]
    }

    proptest! {
        #[test]
        fn any_diff_reads_back(changes in prop::collection::vec(a_change(), 1..6), proposal in "P-[0-9]{1,5}") {
            let (diff, actions): (Vec<Change>, Vec<Action>) = changes.into_iter().unzip();
            let commands = commands_for(&proposal, "apply", &diff).unwrap();
            for (i, (command, action)) in commands.iter().zip(actions).enumerate() {
                let parsed = parse_command(&command.app, &command.name, &command.body)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(parsed.key, format!("{proposal}-apply-{}", i + 1));
                prop_assert_eq!(parsed.action, action);
            }
        }

        #[test]
        fn a_missing_field_is_named(changes in prop::collection::vec(a_change(), 1..4), drop in any::<prop::sample::Index>()) {
            let (diff, _): (Vec<Change>, Vec<Action>) = changes.into_iter().unzip();
            for command in commands_for("P", "apply", &diff).unwrap() {
                let fields = command.body["command"].as_object().unwrap();
                let names: Vec<String> = fields.keys().cloned().collect();
                let dropped = &names[drop.index(names.len())];
                let mut body = command.body.clone();
                body["command"].as_object_mut().unwrap().remove(dropped);
                match parse_command(&command.app, &command.name, &body) {
                    // Optional fields (a hold's reason; one of a dispatch's two) may go.
                    Ok(_) => prop_assert!(["HoldReason"].contains(&dropped.as_str()), "{} was required", dropped),
                    Err(CommandError::Body { field, .. }) => {
                        let dispatch_pair = ["EquipmentNId", "EstimatedStartTime"];
                        prop_assert!(field == *dropped || (dispatch_pair.contains(&dropped.as_str()) && dispatch_pair.contains(&field.as_str())), "{} dropped, {} named", dropped, field);
                    }
                    Err(other) => prop_assert!(false, "{}", other),
                }
            }
        }
    }
}
