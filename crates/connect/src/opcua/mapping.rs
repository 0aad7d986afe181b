//! A node's value to a record: the configured table from the value to an equipment state,
//! the record's identity (node + source timestamp) and the event id derived from it.
//!
//! Pure: the session hands in what it received (`Sample`), this module decides what it
//! means, so every refusal (a value outside the table, a bad status, a wrong type, no source
//! timestamp) is tested without a server.

use std::collections::BTreeMap;

use model::{EquipmentState, Event, EventKind, Timestamp, UnitId};
use serde_json::{Value, json};

use crate::source::Record;

/// What the events of this kind name as their `source`.
pub const EVENT_SOURCE: &str = "opcua";

/// A configured node: which unit its value is the state of, and how its values read.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeMapping {
    /// The node id as configured (`ns=2;s=R-101.State`), also its name in source ids.
    pub node: String,
    pub unit: UnitId,
    /// The value's text (a string as is, an integer in decimal) → the state it means.
    pub states: BTreeMap<String, EquipmentState>,
}

/// A node's value as the server sent it, reduced to what mapping needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The value as a table key (a string, or an integer in decimal); `Err` names the type
    /// of a value that is neither.
    pub value: Result<String, String>,
    /// The value for the raw record kept with a dead letter.
    pub raw_value: Value,
    /// `None` when the status is good; otherwise its name (`BadSensorFailure`).
    pub bad_status: Option<String>,
    /// When the value changed at its source (the device), to the nanosecond.
    pub source_time: Option<jiff::Timestamp>,
    /// When the server last saw it, for a value that has no source time.
    pub server_time: Option<jiff::Timestamp>,
}

/// The source id of a node's value at a source time: the same value delivered again (after a
/// reconnect, or read from history) has the same id.
pub fn source_id(node: &str, source_time: jiff::Timestamp) -> String {
    format!("{node}@{source_time}")
}

/// The event id of a node's value at a source time, derived from the source id alone, so a
/// value delivered twice stores one event.
pub fn event_id(node: &str, source_time: jiff::Timestamp) -> String {
    format!("opcua-{}", source_id(node, source_time))
}

/// The record a sample of `mapping`'s node is.
pub fn record(mapping: &NodeMapping, sample: &Sample) -> Record {
    let raw = json!({
        "node": mapping.node,
        "unit": mapping.unit,
        "value": sample.raw_value,
        "status": sample.bad_status.as_deref().unwrap_or("Good"),
        "source_time": sample.source_time.map(|t| t.to_string()),
        "server_time": sample.server_time.map(|t| t.to_string()),
    });
    let Some(source_time) = sample.source_time else {
        // No identity of its own: named by the server's time, so it is kept once at least.
        let seen = sample
            .server_time
            .map_or_else(|| "no-time".to_owned(), |t| t.to_string());
        return Record {
            source_id: format!("{}@server:{seen}", mapping.node),
            mapped: Err("the value has no source timestamp, so it has no identity: it cannot be stored idempotently".into()),
            raw,
        };
    };
    Record {
        source_id: source_id(&mapping.node, source_time),
        mapped: map_sample(mapping, sample, source_time).map(|event| vec![event]),
        raw,
    }
}

fn map_sample(
    mapping: &NodeMapping,
    sample: &Sample,
    source_time: jiff::Timestamp,
) -> Result<Event, String> {
    if let Some(status) = &sample.bad_status {
        return Err(format!(
            "node {} reported status {status}: the value is not a state",
            mapping.node
        ));
    }
    let key = sample.value.as_ref().map_err(|kind| {
        format!(
            "node {} holds a {kind}; a state is read from a string or an integer",
            mapping.node
        )
    })?;
    let state = mapping.states.get(key).copied().ok_or_else(|| {
        let known: Vec<&str> = mapping.states.keys().map(String::as_str).collect();
        format!(
            "node {} holds `{key}`, which the connector's map does not name (it maps {})",
            mapping.node,
            known.join(", ")
        )
    })?;
    Ok(Event {
        id: event_id(&mapping.node, source_time).into(),
        time: Timestamp(source_time.as_millisecond()),
        source: Some(EVENT_SOURCE.to_owned()),
        kind: EventKind::EquipmentStateChanged {
            unit: mapping.unit.clone(),
            state,
            reason: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping() -> NodeMapping {
        NodeMapping {
            node: "ns=2;s=R-101.State".into(),
            unit: "R-101".into(),
            states: [
                ("run".to_owned(), EquipmentState::Running),
                ("3".to_owned(), EquipmentState::Down),
            ]
            .into_iter()
            .collect(),
        }
    }

    fn sample(value: Result<&str, &str>, at: &str) -> Sample {
        Sample {
            value: value.map(str::to_owned).map_err(str::to_owned),
            raw_value: json!(value.unwrap_or("?")),
            bad_status: None,
            source_time: Some(at.parse().unwrap()),
            server_time: None,
        }
    }

    #[test]
    fn a_mapped_value_is_one_state_change_named_by_node_and_source_time() {
        let at = "2026-03-02T06:00:00.1234567Z";
        let record = record(&mapping(), &sample(Ok("3"), at));
        assert_eq!(record.source_id, format!("ns=2;s=R-101.State@{at}"));
        let events = record.mapped.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(
            events[0].id.as_str(),
            "opcua-ns=2;s=R-101.State@2026-03-02T06:00:00.1234567Z"
        );
        assert_eq!(
            events[0].time,
            Timestamp::parse("2026-03-02T06:00:00.123Z").unwrap()
        );
        assert_eq!(
            events[0].kind,
            EventKind::EquipmentStateChanged {
                unit: "R-101".into(),
                state: EquipmentState::Down,
                reason: None
            }
        );
        // Delivered again (a reconnect, a history read), the same record.
        let again = super::record(&mapping(), &sample(Ok("3"), at));
        assert_eq!(again.source_id, format!("ns=2;s=R-101.State@{at}"));
        assert_eq!(again.mapped.unwrap(), events);
    }

    #[test]
    fn unmapped_values_bad_statuses_wrong_types_and_missing_times_are_refused() {
        let at = "2026-03-02T06:00:00Z";
        let outside = record(&mapping(), &sample(Ok("exploded"), at));
        let reason = outside.mapped.unwrap_err();
        assert!(
            reason.contains("`exploded`") && reason.contains("3, run"),
            "{reason}"
        );

        let mut bad = sample(Ok("run"), at);
        bad.bad_status = Some("BadSensorFailure".into());
        let reason = record(&mapping(), &bad).mapped.unwrap_err();
        assert!(reason.contains("BadSensorFailure"), "{reason}");

        let typed = record(&mapping(), &sample(Err("Double"), at));
        assert!(typed.mapped.unwrap_err().contains("holds a Double"));

        let mut timeless = sample(Ok("run"), at);
        timeless.source_time = None;
        timeless.server_time = Some(at.parse().unwrap());
        let record = record(&mapping(), &timeless);
        assert_eq!(record.source_id, format!("ns=2;s=R-101.State@server:{at}"));
        assert!(record.mapped.unwrap_err().contains("no source timestamp"));
    }
}
