//! Assessing quality-hold changes (`lot.hold`, `serial.hold`, `order.hold`): the item must
//! exist, its areas are the plant's, `before` is checked against the holds the caller knows,
//! placing is a `quality_hold` and releasing an `nc_disposition`.

use std::collections::BTreeSet;

use govern::evidence::{FactTable, OrderFacts, WithHolds};
use govern::{ActionKind, Change, Entity, Field, GovernError, assess};
use model::{Priority, Timestamp};
use serde_json::{Value, json};

fn facts() -> FactTable {
    FactTable {
        orders: [(
            "PO-1".to_owned(),
            OrderFacts {
                priority: Priority::Medium,
                due: Timestamp(0),
                quantity: 10.0,
                areas: ["MIX".to_owned()].into(),
                steps: 1,
            },
        )]
        .into(),
        lots: [
            ("LOT-BOUGHT".to_owned(), BTreeSet::new()),
            ("LOT-MADE".to_owned(), ["MIX".to_owned()].into()),
        ]
        .into(),
        ..FactTable::default()
    }
}

fn hold(entity: Entity, id: &str, before: Value, after: Value) -> Change {
    Change {
        entity,
        id: id.into(),
        field: Field::Hold,
        before,
        after,
        shift_minutes: None,
        high_priority: false,
    }
}

fn placed() -> Value {
    json!({"reason": "viscosity beyond the limits", "severity": "critical", "alert": "AL-1"})
}

#[test]
fn a_hold_is_a_quality_hold_located_where_the_plant_says() {
    let table = facts();
    let diff = [
        hold(Entity::Lot, "LOT-MADE", Value::Null, placed()),
        hold(Entity::Order, "PO-1", Value::Null, placed()),
    ];
    let assessment = assess(&diff, &table).unwrap();
    for change in &assessment.changes {
        assert_eq!(change.kinds, [ActionKind::QualityHold]);
        assert_eq!(change.areas, BTreeSet::from(["MIX".to_owned()]));
        assert!(!change.before_checked, "a plain plant view knows no holds");
    }
    // A purchased lot acts site-wide.
    let bought = assess(
        &[hold(Entity::Lot, "LOT-BOUGHT", Value::Null, placed())],
        &table,
    )
    .unwrap();
    assert!(bought.site_wide);
    // Releasing is a disposition.
    let release = assess(
        &[hold(Entity::Lot, "LOT-MADE", placed(), Value::Null)],
        &table,
    )
    .unwrap();
    assert_eq!(release.changes[0].kinds, [ActionKind::NcDisposition]);
}

#[test]
fn unknown_items_and_malformed_holds_are_refused_by_name() {
    let table = facts();
    let refused = |change: Change| match assess(&[change], &table) {
        Err(GovernError::Invalid(why)) => why,
        other => panic!("not refused: {other:?}"),
    };
    assert!(
        refused(hold(Entity::Lot, "LOT-NONE", Value::Null, placed())).contains("no lot `LOT-NONE`")
    );
    assert!(
        refused(hold(Entity::Serial, "SN-1", Value::Null, placed())).contains("no serial `SN-1`"),
        "a view without serials knows none"
    );
    assert!(
        refused(hold(Entity::Order, "PO-9", Value::Null, placed())).contains("no order `PO-9`")
    );
    assert!(
        refused(hold(Entity::Lot, "LOT-MADE", Value::Null, Value::Null)).contains("places a hold")
    );
    assert!(
        refused(hold(
            Entity::Lot,
            "LOT-MADE",
            Value::Null,
            json!({"reason": "x", "severity": "apocalyptic"})
        ))
        .contains("severity")
    );
    assert!(
        refused(hold(
            Entity::Lot,
            "LOT-MADE",
            Value::Null,
            json!({"reason": " ", "severity": "minor"})
        ))
        .contains("reason")
    );
    assert!(
        refused(hold(
            Entity::Lot,
            "LOT-MADE",
            Value::Null,
            json!({"reason": "x", "severity": "minor", "colour": "red"})
        ))
        .contains("colour")
    );
}

#[test]
fn before_is_checked_against_the_holds_the_caller_knows() {
    let held: BTreeSet<String> = ["lot:LOT-MADE".to_owned()].into();
    let none = BTreeSet::new();
    let with = |held| WithHolds {
        facts: facts(),
        held,
    };
    // Holding what is held, or releasing what is not, is stale.
    let stale = assess(
        &[hold(Entity::Lot, "LOT-MADE", Value::Null, placed())],
        &with(&held),
    );
    assert!(matches!(stale, Err(GovernError::Stale(why)) if why.contains("an active hold")));
    let stale = assess(
        &[hold(Entity::Lot, "LOT-MADE", placed(), Value::Null)],
        &with(&none),
    );
    assert!(matches!(stale, Err(GovernError::Stale(_))));
    // Otherwise `before` is confirmed.
    let ok = assess(
        &[hold(Entity::Lot, "LOT-MADE", Value::Null, placed())],
        &with(&none),
    )
    .unwrap();
    assert!(ok.changes[0].before_checked);
    let ok = assess(
        &[hold(Entity::Lot, "LOT-MADE", placed(), Value::Null)],
        &with(&held),
    )
    .unwrap();
    assert!(ok.changes[0].before_checked);
}
