//! Reading a record that carries mixplane's own event document (`schemas/`): a line of the
//! `jsonl` kind, a message of the `mqtt` and `nats` kinds. One reader, so every kind refuses
//! the same things with the same reasons.
//!
//! A record holds one event, or an array of events (a publisher batching several into one
//! message); the events keep their own ids, which is what makes a record delivered twice
//! store nothing twice. What is refused: bytes that are not JSON, JSON that is not an event
//! document (an unknown field, a missing id), nesting deeper than
//! [`json_scan::MAX_JSON_DEPTH`], a string longer than [`MAX_FIELD_BYTES`], an empty array.

use model::Event;
use model::json_scan;

/// The longest string inside an event document (as the API's default field limit).
pub const MAX_FIELD_BYTES: usize = 64 * 1024;

/// The record's events or why it has none, and the record as the peer sent it (JSON when it
/// parses, else its text) for a dead letter.
pub fn map_event_document(bytes: &[u8]) -> (Result<Vec<Event>, String>, serde_json::Value) {
    let text = || serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned());
    let shape = json_scan::measure(bytes, MAX_FIELD_BYTES, json_scan::MAX_JSON_DEPTH);
    if let Some(offset) = shape.too_deep {
        let reason = format!(
            "the record nests deeper than {} at byte {offset}",
            json_scan::MAX_JSON_DEPTH
        );
        return (Err(reason), text());
    }
    let raw = serde_json::from_slice::<serde_json::Value>(bytes).unwrap_or_else(|_| text());
    if let Some(long) = shape.long_string {
        let reason = format!(
            "a string of {} bytes (at byte {}) is longer than the limit of {MAX_FIELD_BYTES} bytes",
            long.bytes, long.offset
        );
        return (Err(reason), raw);
    }
    let is_array = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let mapped = if is_array {
        match serde_json::from_slice::<Vec<Event>>(bytes) {
            Ok(events) if events.is_empty() => Err("an empty array of events".to_owned()),
            Ok(events) => Ok(events),
            Err(e) => Err(format!("not an array of mixplane events: {e}")),
        }
    } else {
        serde_json::from_slice::<Event>(bytes)
            .map(|event| vec![event])
            .map_err(|e| format!("not a mixplane event: {e}"))
    };
    (mapped, raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str) -> String {
        format!(
            r#"{{"id":"{id}","time":"2026-01-05T06:00:00Z","type":"equipment_state_changed","unit":"R-101","state":"down"}}"#
        )
    }

    #[test]
    fn one_event_or_an_array_of_them_maps() {
        let (one, _) = map_event_document(event("e1").as_bytes());
        assert_eq!(one.unwrap().len(), 1, "one event");
        let many = format!("[{},{}]", event("e1"), event("e2"));
        let (two, raw) = map_event_document(many.as_bytes());
        let ids: Vec<String> = two.unwrap().iter().map(|e| e.id.to_string()).collect();
        assert_eq!(ids, ["e1", "e2"]);
        assert!(raw.is_array());
    }

    #[test]
    fn what_is_not_an_event_document_is_refused_with_the_reason_and_kept() {
        for (bytes, reason) in [
            (&b"not json"[..], "not a mixplane event"),
            (b"[]", "an empty array"),
            (b"[1]", "not an array of mixplane events"),
            (b"{\"id\":\"x\"}", "not a mixplane event"),
        ] {
            let (mapped, raw) = map_event_document(bytes);
            let err = mapped.unwrap_err();
            assert!(err.contains(reason), "{err}");
            assert!(!raw.is_null());
        }
        let deep = "[".repeat(json_scan::MAX_JSON_DEPTH + 2);
        assert!(
            map_event_document(deep.as_bytes())
                .0
                .unwrap_err()
                .contains("nests deeper")
        );
    }
}
