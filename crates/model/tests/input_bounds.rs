//! What an event or plant document may hold (issue 12, item 4): a field its type does not
//! define is refused by name with the event type (an `order_changed` with a mistyped `duee`
//! used to be stored as an event that changes nothing), and ids are at most
//! `MAX_ID_CHARS` characters with no control character. Valid documents still read.

use model::ids::{IdError, MAX_ID_CHARS, check_id};
use model::{Event, EventKind, OrderId, Plant};
use serde_json::{Value, json};

/// One valid event of every type, as JSON.
fn one_of_each() -> Vec<Value> {
    let t = "2026-03-02T06:00:00Z";
    let kinds = [
        json!({"type": "order_released", "order": {"id": "MO-1", "product": "P", "routing": "R",
            "quantity": 10.0, "release": t, "due": t, "priority": "high"}}),
        json!({"type": "order_changed", "order": "MO-1", "due": t}),
        json!({"type": "order_cancelled", "order": "MO-1", "reason": "r"}),
        json!({"type": "operation_started", "order": "MO-1", "step": 0, "unit": "U", "members": ["m"]}),
        json!({"type": "operation_completed", "order": "MO-1", "step": 0, "unit": "U",
            "good_quantity": 1.0, "scrap_quantity": 0.0, "parameters": {"temp": 80.5}}),
        json!({"type": "equipment_state_changed", "unit": "U", "state": "down", "reason": "jam"}),
        json!({"type": "material_received", "material": "M", "lot": "L", "quantity": 5.0}),
        json!({"type": "material_consumed", "order": "MO-1", "step": 0, "material": "M", "lot": "L",
            "quantity": 1.0}),
        json!({"type": "material_produced", "order": "MO-1", "material": "P", "serials": ["S1"],
            "quantity": 1.0}),
        json!({"type": "material_shipped", "material": "P", "lot": "L", "quantity": 1.0,
            "customer": "C"}),
        json!({"type": "quality_result_recorded", "characteristic": "c", "value": 1.5, "sample": 3}),
        json!({"type": "operation_dispatched", "order": "MO-1", "step": 1, "unit": "U"}),
        json!({"type": "receipt_expected", "receipt": "PO-1/1", "material": "M", "quantity": 5.0,
            "expected": t, "supplier": "S", "purchase_order": "PO-1"}),
        json!({"type": "receipt_cancelled", "receipt": "PO-1/1", "reason": "r"}),
        json!({"type": "member_attendance", "pool": "P", "member": "m", "present": false,
            "from": t, "until": "2026-03-02T14:00:00Z"}),
    ];
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, mut kind)| {
            let map = kind.as_object_mut().unwrap();
            map.insert("id".into(), json!(format!("e-{i}")));
            map.insert("time".into(), json!(t));
            map.insert("source".into(), json!("test"));
            kind
        })
        .collect()
}

fn read(value: &Value) -> Result<Event, String> {
    serde_json::from_str::<Event>(&value.to_string()).map_err(|e| e.to_string())
}

#[test]
fn every_event_type_reads_and_round_trips() {
    let events = one_of_each();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, EventKind::TYPE_NAMES);
    for value in &events {
        let event = read(value).unwrap();
        assert_eq!(event.kind.type_name(), value["type"]);
        let again: Event = serde_json::from_value(serde_json::to_value(&event).unwrap()).unwrap();
        assert_eq!(again, event);
    }
    // The envelope's optional source may be null or left out.
    let mut bare = events[2].clone();
    bare.as_object_mut().unwrap().remove("source");
    assert_eq!(read(&bare).unwrap().source, None);
    bare["source"] = Value::Null;
    assert_eq!(read(&bare).unwrap().source, None);
}

#[test]
fn a_mistyped_due_is_refused_naming_the_field_and_the_event_type() {
    let text = r#"{"id":"e-9","time":"2026-03-02T06:00:00Z","type":"order_changed","order":"MO-260008","duee":"2026-03-20T00:00:00Z"}"#;
    let err = serde_json::from_str::<Event>(text).unwrap_err().to_string();
    assert!(err.contains("`order_changed` event"), "{err}");
    assert!(err.contains("unknown field `duee`"), "{err}");
}

#[test]
fn every_event_type_refuses_a_field_it_does_not_define() {
    for mut value in one_of_each() {
        let kind = value["type"].as_str().unwrap().to_owned();
        value["sourc"] = json!("typo");
        let err = read(&value).unwrap_err();
        assert!(err.contains(&format!("`{kind}` event")), "{err}");
        assert!(err.contains("unknown field `sourc`"), "{err}");
    }
    // A nested order refuses unknown fields too.
    let mut released = one_of_each().remove(0);
    released["order"]["prio"] = json!("high");
    let err = read(&released).unwrap_err();
    assert!(err.contains("unknown field `prio`"), "{err}");
}

#[test]
fn envelope_faults_name_the_field_and_the_event_type() {
    let mut value = one_of_each().remove(5);
    value["time"] = json!("2026-03-02T06:00:00+24:00");
    let err = read(&value).unwrap_err();
    assert!(
        err.contains("`equipment_state_changed` event: field `time`"),
        "{err}"
    );
    assert!(err.contains("offset hours must be 00 to 23"), "{err}");
    value.as_object_mut().unwrap().remove("time");
    assert!(read(&value).unwrap_err().contains("missing field `time`"));
    // The envelope is checked first, in field order, as before.
    assert!(
        read(&json!({"id": "x"}))
            .unwrap_err()
            .contains("missing field `time`")
    );
    let mut untyped = one_of_each().remove(5);
    untyped.as_object_mut().unwrap().remove("type");
    assert!(read(&untyped).unwrap_err().contains("missing field `type`"));
    untyped["type"] = json!("order_exploded");
    assert!(
        read(&untyped)
            .unwrap_err()
            .contains("unknown variant `order_exploded`")
    );
}

#[test]
fn ids_are_bounded_and_free_of_control_characters() {
    let longest = "x".repeat(MAX_ID_CHARS);
    assert_eq!(check_id("OrderId", &longest), Ok(()));
    // Characters, not bytes: 256 two-byte characters fit.
    assert_eq!(check_id("OrderId", &"é".repeat(MAX_ID_CHARS)), Ok(()));
    assert_eq!(
        check_id("OrderId", &format!("{longest}x")),
        Err(IdError::TooLong {
            kind: "OrderId",
            chars: MAX_ID_CHARS + 1
        })
    );
    for (text, code) in [
        ("MO\u{0}1", 0),
        ("MO\n1", 10),
        ("MO\u{7f}1", 0x7f),
        ("MO\u{85}1", 0x85),
    ] {
        match check_id("OrderId", text) {
            Err(IdError::ControlCharacter { code: c, at, .. }) => {
                assert_eq!((c, at), (code, 2), "{text:?}")
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
    // Ids made of other scripts, punctuation and spaces stay fine.
    for ok in [
        "MO/2026/7",
        "Los 4711 – Charge",
        "ロット-1",
        "urn:epc:id:sgtin:4012345.011111.1",
    ] {
        assert_eq!(check_id("LotId", ok), Ok(()), "{ok}");
    }

    let id: Result<OrderId, _> = serde_json::from_str(&format!("\"{longest}\""));
    assert_eq!(id.unwrap().as_str(), longest);
    let err = serde_json::from_str::<OrderId>(&format!("\"{longest}y\"")).unwrap_err();
    assert!(
        err.to_string().contains("OrderId of 257 characters"),
        "{err}"
    );
    let err = serde_json::from_str::<OrderId>("\"MO\\u0007\"").unwrap_err();
    assert!(err.to_string().contains("U+0007"), "{err}");
}

#[test]
fn events_and_plant_documents_refuse_bad_ids() {
    let mut event = one_of_each().remove(1);
    event["order"] = json!("MO\u{1b}[31m");
    let err = read(&event).unwrap_err();
    assert!(err.contains("OrderId"), "{err}");
    assert!(err.contains("U+001B"), "{err}");
    event["id"] = json!("e".repeat(MAX_ID_CHARS + 1));
    let err = read(&event).unwrap_err();
    assert!(
        err.contains("field `id`") && err.contains("EventId of 257"),
        "{err}"
    );

    let text = include_str!("../../sim/data/reference-plant.json");
    let plant: Plant = serde_json::from_str(text).expect("the reference plant reads");
    let mut value: Value = serde_json::from_str(text).unwrap();
    let area = &mut value["areas"][0]["id"];
    assert!(
        area.is_string(),
        "the reference plant's first area has an id"
    );
    *area = json!("A\tB");
    let err = serde_json::from_value::<Plant>(value)
        .unwrap_err()
        .to_string();
    assert!(err.contains("AreaId") && err.contains("U+0009"), "{err}");
    drop(plant);
}

#[test]
fn the_published_schemas_state_the_id_bounds() {
    for schema in [model::schema::event_schema(), model::schema::plant_schema()] {
        let value: Value = serde_json::from_str(&schema).unwrap();
        let defs = value["$defs"].as_object().unwrap();
        let id = defs.get("OrderId").or_else(|| defs.get("AreaId")).unwrap();
        assert_eq!(id["maxLength"], MAX_ID_CHARS);
        assert_eq!(id["pattern"], r"^[^\u0000-\u001F\u007F-\u009F]*$");
    }
    // The event schema refuses what the reader refuses: nothing outside its properties.
    let event: Value = serde_json::from_str(&model::schema::event_schema()).unwrap();
    assert_eq!(event["unevaluatedProperties"], false);
}
