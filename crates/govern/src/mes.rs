//! The simulated MES sink's translation of a diff into plant events: what the MES would report
//! back after carrying the change out. The caller appends the events through the store, so an
//! applied change shows up in the event log and the state like any other fact.
//!
//! Supported changes: an order's `due`, `priority` or `quantity` (→ `order_changed`), a
//! unit's `state` (→ `equipment_state_changed`, e.g. a quality hold taking a unit down) and an
//! operation's `unit` or `start` (→ `operation_dispatched`: the MES's dispatch list now plans
//! step `<step>` of order `<order>` there or then; the operation id is `<order>/<step>`, split
//! at the last `/`, as the scheduler names operations). An operation change whose target is
//! `null` (a rollback to a plan that did not hold the operation) is refused: there is no
//! dispatch to return to. Overtime windows (`unit.overtime_windows`, `pool.overtime_windows`)
//! are refused because the MES keeps no calendar and the model has no calendar event; like any
//! other unsupported change, the message names it, so the caller can use the file sink.

use model::{EquipmentState, Event, EventKind, Priority, Timestamp, UnitId};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::proposal::{Change, Entity, Field};

/// The events that carry out `diff` for proposal `proposal` (`direction` is `apply` or
/// `rollback`), at plant time `time`. Event ids are `<proposal>-<direction>-<n>`, so
/// delivering the same diff twice is idempotent.
pub fn events_for(
    proposal: &str,
    direction: &str,
    diff: &[Change],
    time: Timestamp,
) -> Result<Vec<Event>, String> {
    diff.iter()
        .enumerate()
        .map(|(index, change)| {
            let kind = kind_for(proposal, direction, change).map_err(|why| {
                format!(
                    "change {index} ({}.{} of `{}`): {why}",
                    change.entity, change.field, change.id
                )
            })?;
            Ok(Event {
                id: format!("{proposal}-{direction}-{}", index + 1).into(),
                time,
                source: Some("mixplane-governor".into()),
                kind,
            })
        })
        .collect()
}

fn value<T: DeserializeOwned>(v: &Value) -> Result<T, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("`after` is not valid here: {e}"))
}

/// `operation.unit` / `operation.start` → the MES dispatching the step there or then.
fn dispatched(direction: &str, change: &Change) -> Result<EventKind, String> {
    let model::OperationRef { order, step } = change
        .id
        .parse::<model::OperationRef>()
        .map_err(|e| e.to_string())?;
    if change.after.is_null() {
        return Err(if direction == "rollback" {
            "cannot roll back: the operation was not in the plan before the change (`before` \
             is null), so there is no dispatch to return to"
                .into()
        } else {
            "`after` is null: an operation cannot be dispatched to nothing".into()
        });
    }
    let (unit, start) = match change.field {
        Field::Unit => {
            let unit = value::<String>(&change.after)?;
            if unit.trim().is_empty() {
                return Err("`after` is not valid here: the unit is empty".into());
            }
            (Some(UnitId::from(unit)), None)
        }
        _ => (None, Some(value::<Timestamp>(&change.after)?)),
    };
    Ok(EventKind::OperationDispatched {
        order,
        step,
        unit,
        start,
    })
}

fn kind_for(proposal: &str, direction: &str, change: &Change) -> Result<EventKind, String> {
    let order = || change.id.as_str().into();
    match (&change.entity, &change.field) {
        (Entity::Order, Field::Due) => Ok(EventKind::OrderChanged {
            order: order(),
            quantity: None,
            due: Some(value::<Timestamp>(&change.after)?),
            priority: None,
        }),
        (Entity::Order, Field::Priority) => Ok(EventKind::OrderChanged {
            order: order(),
            quantity: None,
            due: None,
            priority: Some(value::<Priority>(&change.after)?),
        }),
        (Entity::Order, Field::Quantity) => Ok(EventKind::OrderChanged {
            order: order(),
            quantity: Some(value::<f64>(&change.after)?),
            due: None,
            priority: None,
        }),
        (Entity::Unit, Field::State) => Ok(EventKind::EquipmentStateChanged {
            unit: change.id.as_str().into(),
            state: value::<EquipmentState>(&change.after)?,
            reason: Some(format!("proposal {proposal}")),
        }),
        (Entity::Operation, Field::Unit | Field::Start) => dispatched(direction, change),
        (entity @ (Entity::Unit | Entity::Pool), Field::OvertimeWindows) => Err(format!(
            "the simulated MES cannot carry out `{entity}.overtime_windows`: it keeps no \
             calendar and there is no calendar event; use the file sink"
        )),
        (entity, field) => Err(format!(
            "the simulated MES cannot carry out `{entity}.{field}`; use the file sink"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(entity: &str, field: &str, before: Value, after: Value) -> Change {
        Change {
            entity: entity.into(),
            id: "X-1".into(),
            field: field.into(),
            before,
            after,
            shift_minutes: None,
            high_priority: false,
        }
    }

    #[test]
    fn changes_become_events_and_inverses_undo_them() {
        let diff = vec![
            change(
                "order",
                "due",
                json!("2026-03-02T10:00:00Z"),
                json!("2026-03-02T12:00:00Z"),
            ),
            change("order", "priority", json!("low"), json!("high")),
            change("unit", "state", json!("running"), json!("down")),
        ];
        let events = events_for("P-1", "apply", &diff, Timestamp(7)).unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].id.as_str(), "P-1-apply-1");
        assert!(matches!(
            &events[0].kind,
            EventKind::OrderChanged { due: Some(t), .. } if t.to_string() == "2026-03-02T12:00:00Z"
        ));
        let back = events_for(
            "P-1",
            "rollback",
            &Change::inverse_diff(&diff),
            Timestamp(8),
        )
        .unwrap();
        assert!(matches!(
            &back[0].kind,
            EventKind::EquipmentStateChanged {
                state: EquipmentState::Running,
                ..
            }
        ));
        assert!(matches!(
            &back[2].kind,
            EventKind::OrderChanged { due: Some(t), .. } if t.to_string() == "2026-03-02T10:00:00Z"
        ));
    }

    #[test]
    fn unsupported_changes_are_refused_by_name() {
        let diff = vec![change("work_instruction", "text", json!("a"), json!("b"))];
        let error = events_for("P", "apply", &diff, Timestamp(0)).unwrap_err();
        assert!(error.contains("work_instruction.text"), "{error}");
        let bad = vec![change("order", "priority", json!("low"), json!("urgent"))];
        assert!(events_for("P", "apply", &bad, Timestamp(0)).is_err());
    }

    fn operation_change(id: &str, field: &str, before: Value, after: Value) -> Change {
        Change {
            id: id.into(),
            ..change("operation", field, before, after)
        }
    }

    #[test]
    fn operation_moves_become_dispatches_and_roll_back() {
        let diff = vec![
            operation_change("MO-1/2", "unit", json!("R-101"), json!("R-102")),
            operation_change(
                "MO-1/2",
                "start",
                json!("2026-03-02T06:00:00Z"),
                json!("2026-03-02T07:30:00Z"),
            ),
            // An order id holding `/` itself: split at the last one.
            operation_change("LINE/7/MO-9/0", "unit", json!("FS-1"), json!("FS-2")),
        ];
        let events = events_for("P-2", "apply", &diff, Timestamp(5)).unwrap();
        assert_eq!(events.len(), 3);
        assert_eq!(events[1].id.as_str(), "P-2-apply-2");
        assert_eq!(events[0].kind.type_name(), "operation_dispatched");
        assert_eq!(
            events[0].kind,
            EventKind::OperationDispatched {
                order: "MO-1".into(),
                step: 2,
                unit: Some("R-102".into()),
                start: None,
            }
        );
        assert_eq!(
            events[1].kind,
            EventKind::OperationDispatched {
                order: "MO-1".into(),
                step: 2,
                unit: None,
                start: Some(Timestamp::parse("2026-03-02T07:30:00Z").unwrap()),
            }
        );
        assert!(matches!(
            &events[2].kind,
            EventKind::OperationDispatched { order, step: 0, unit: Some(u), .. }
                if order.as_str() == "LINE/7/MO-9" && u.as_str() == "FS-2"
        ));
        // Rollback: the inverse diff (reversed) dispatches back to the plan's unit and start.
        let back = events_for(
            "P-2",
            "rollback",
            &Change::inverse_diff(&diff),
            Timestamp(6),
        )
        .unwrap();
        assert_eq!(back[0].id.as_str(), "P-2-rollback-1");
        assert!(matches!(
            &back[0].kind,
            EventKind::OperationDispatched { order, unit: Some(u), .. }
                if order.as_str() == "LINE/7/MO-9" && u.as_str() == "FS-1"
        ));
        assert_eq!(
            back[1].kind,
            EventKind::OperationDispatched {
                order: "MO-1".into(),
                step: 2,
                unit: None,
                start: Some(Timestamp::parse("2026-03-02T06:00:00Z").unwrap()),
            }
        );
        assert!(matches!(
            &back[2].kind,
            EventKind::OperationDispatched { unit: Some(u), start: None, .. } if u.as_str() == "R-101"
        ));
    }

    #[test]
    fn an_operation_the_plan_lacked_cannot_be_rolled_back_to() {
        let diff = vec![
            operation_change("MO-1/0", "unit", Value::Null, json!("R-101")),
            operation_change(
                "MO-1/0",
                "start",
                Value::Null,
                json!("2026-03-02T06:00:00Z"),
            ),
        ];
        assert_eq!(
            events_for("P-3", "apply", &diff, Timestamp(0))
                .unwrap()
                .len(),
            2
        );
        let error = events_for(
            "P-3",
            "rollback",
            &Change::inverse_diff(&diff),
            Timestamp(1),
        )
        .unwrap_err();
        assert!(
            error.starts_with("change 0 (operation.start of `MO-1/0`)"),
            "{error}"
        );
        assert!(error.contains("cannot roll back"), "{error}");
        assert!(error.contains("not in the plan"), "{error}");
        // Applying a change to nothing is refused too.
        let error =
            events_for("P-3", "apply", &Change::inverse_diff(&diff), Timestamp(1)).unwrap_err();
        assert!(error.contains("`after` is null"), "{error}");
    }

    #[test]
    fn malformed_operation_changes_are_refused_naming_the_change() {
        let refused = |change: Change, needle: &str| {
            let error = events_for("P", "apply", &[change], Timestamp(0)).unwrap_err();
            assert!(error.contains(needle), "`{needle}` not in {error}");
            error
        };
        let error = refused(
            operation_change("MO-1", "unit", json!("R-101"), json!("R-102")),
            "operation id `MO-1` is not `<order>/<step>`",
        );
        assert!(
            error.starts_with("change 0 (operation.unit of `MO-1`)"),
            "{error}"
        );
        refused(
            operation_change("MO-1/first", "unit", json!("R-101"), json!("R-102")),
            "step `first` is not a non-negative integer",
        );
        refused(
            operation_change("MO-1/-1", "unit", json!("R-101"), json!("R-102")),
            "step `-1`",
        );
        refused(
            operation_change("/3", "unit", json!("R-101"), json!("R-102")),
            "the order is empty",
        );
        refused(
            operation_change(
                "MO-1/0",
                "start",
                json!("2026-03-02T06:00:00Z"),
                json!("soon"),
            ),
            "`after` is not valid here",
        );
        refused(
            operation_change("MO-1/0", "unit", json!("R-101"), json!(101)),
            "`after` is not valid here",
        );
        refused(
            operation_change("MO-1/0", "unit", json!("R-101"), json!(" ")),
            "the unit is empty",
        );
        refused(
            operation_change("MO-1/0", "end", json!(1), json!(2)),
            "cannot carry out `operation.end`",
        );
    }

    #[test]
    fn overtime_windows_are_still_refused_by_name() {
        for entity in ["unit", "pool"] {
            let diff = vec![change(
                entity,
                "overtime_windows",
                json!([]),
                json!([{"start": "2026-03-02T22:00:00Z", "end": "2026-03-03T02:00:00Z"}]),
            )];
            let error = events_for("P", "apply", &diff, Timestamp(0)).unwrap_err();
            assert!(
                error.contains(&format!("`{entity}.overtime_windows`")),
                "{error}"
            );
            assert!(error.contains("calendar"), "{error}");
            assert!(error.contains("file sink"), "{error}");
        }
    }
}
