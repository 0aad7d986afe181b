//! The simulated MES sink's translation of a diff into plant events: what the MES would report
//! back after carrying the change out. The caller appends the events through the store, so an
//! applied change shows up in the event log and the state like any other fact.
//!
//! Supported changes: an order's `due`, `priority` or `quantity` (→ `order_changed`) and a
//! unit's `state` (→ `equipment_state_changed`, e.g. a quality hold taking a unit down). Any
//! other change is refused with a message naming it, so the caller can use the file sink.

use model::{EquipmentState, Event, EventKind, Priority, Timestamp};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::proposal::Change;

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
            let kind = kind_for(proposal, change).map_err(|why| {
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

fn kind_for(proposal: &str, change: &Change) -> Result<EventKind, String> {
    let order = || change.id.as_str().into();
    match (change.entity.as_str(), change.field.as_str()) {
        ("order", "due") => Ok(EventKind::OrderChanged {
            order: order(),
            quantity: None,
            due: Some(value::<Timestamp>(&change.after)?),
            priority: None,
        }),
        ("order", "priority") => Ok(EventKind::OrderChanged {
            order: order(),
            quantity: None,
            due: None,
            priority: Some(value::<Priority>(&change.after)?),
        }),
        ("order", "quantity") => Ok(EventKind::OrderChanged {
            order: order(),
            quantity: Some(value::<f64>(&change.after)?),
            due: None,
            priority: None,
        }),
        ("unit", "state") => Ok(EventKind::EquipmentStateChanged {
            unit: change.id.as_str().into(),
            state: value::<EquipmentState>(&change.after)?,
            reason: Some(format!("proposal {proposal}")),
        }),
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
}
