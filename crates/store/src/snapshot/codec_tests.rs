//! Tests of the snapshot encoding: enum lists, varints and floats bit for bit, the orders'
//! halves on one thread and two, and truncated bodies refused.

use super::*;

/// Every variant is in its list: a variant added to the model fails to compile here.
#[test]
fn enum_lists_are_complete() {
    for m in MODES {
        match m {
            Mode::Discrete | Mode::Process | Mode::Repetitive => {}
        }
    }
    let all_statuses = |s: OrderStatus| match s {
        OrderStatus::Planned
        | OrderStatus::Released
        | OrderStatus::InProgress
        | OrderStatus::Completed
        | OrderStatus::Cancelled => 5,
    };
    assert_eq!(all_statuses(STATUSES[0]), STATUSES.len());
    let all_priorities = |p: Priority| match p {
        Priority::High | Priority::Medium | Priority::Low => 3,
    };
    assert_eq!(all_priorities(PRIORITIES[0]), PRIORITIES.len());
    let all_equipment = |s: EquipmentState| match s {
        EquipmentState::Running
        | EquipmentState::Idle
        | EquipmentState::Setup
        | EquipmentState::Cleaning
        | EquipmentState::Down => 5,
    };
    assert_eq!(all_equipment(EQUIPMENT[0]), EQUIPMENT.len());
    let all_receipts = |s: ReceiptStatus| match s {
        ReceiptStatus::Open | ReceiptStatus::Received | ReceiptStatus::Cancelled => 3,
    };
    assert_eq!(all_receipts(RECEIPTS[0]), RECEIPTS.len());
    assert_eq!(Mode::ALL.len(), MODES.len());
}

#[test]
fn varints_round_trip() {
    let mut e = Enc::default();
    let values = [0i64, 1, -1, 63, -64, 1 << 40, i64::MAX, i64::MIN];
    for v in values {
        e.i64(v);
    }
    let mut d = Dec {
        buf: &e.buf,
        at: 0,
        symbols: Vec::new(),
    };
    for v in values {
        assert_eq!(d.i64().unwrap(), v);
    }
    assert_eq!(d.at, e.buf.len());
}

#[test]
fn floats_round_trip_bit_for_bit() {
    let values = [
        0.0,
        -0.0,
        1.0,
        -3.0,
        0.1,
        2.5e-300,
        f64::MAX,
        f64::MIN_POSITIVE,
        9_007_199_254_740_992.0,
        -9_007_199_254_740_993.0,
        1e300,
        f64::INFINITY,
        f64::NAN,
    ];
    let mut e = Enc::default();
    for v in values {
        e.f64(v);
    }
    let mut d = Dec {
        buf: &e.buf,
        at: 0,
        symbols: Vec::new(),
    };
    for v in values {
        assert_eq!(d.f64().unwrap().to_bits(), v.to_bits(), "{v}");
    }
    assert_eq!(d.at, e.buf.len());
}

fn order(id: &str, quantity: f64) -> OrderState {
    OrderState {
        order: ProductionOrder {
            id: id.into(),
            product: "P".into(),
            routing: "R".into(),
            quantity,
            release: Timestamp(1),
            due: Timestamp(-2),
            priority: Priority::Low,
            customer: Some("C".into()),
        },
        mode: Mode::Process,
        status: OrderStatus::InProgress,
        steps_completed: 1,
        steps_total: 3,
        current_step: Some(1),
        current_unit: Some("U".into()),
        good_quantity: 0.5,
        scrap_quantity: -0.0,
        started: Some(Timestamp(5)),
        completed: None,
        dispatched: BTreeMap::from([(
            2,
            Dispatch {
                unit: None,
                start: Some(Timestamp(9)),
            },
        )]),
    }
}

/// The orders' halves are written and read the same on one thread and on two, and an order
/// stored under a key other than its id keeps both.
#[test]
fn order_halves_read_alike_on_one_thread_and_two() {
    let mut state = PlantState::default();
    for i in 0..101 {
        let id = format!("O-{i:04}");
        state
            .orders
            .insert(id.as_str().into(), Box::new(order(&id, f64::from(i))));
    }
    state
        .orders
        .insert("O-odd".into(), Box::new(order("O-other", 1.5)));
    let bytes = encode_with(&state, usize::MAX);
    assert_eq!(encode_with(&state, 0), bytes);
    assert_eq!(decode_with(&bytes, 0).unwrap(), state);
    assert_eq!(decode_with(&bytes, usize::MAX).unwrap(), state);
    for cut in [1, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
        assert!(decode_with(&bytes[..cut], 0).is_err(), "cut at {cut}");
    }
}

#[test]
fn truncated_bodies_are_refused() {
    let mut state = PlantState::default();
    state.quality_results.insert("C".into(), 3);
    state.clock = Some(Timestamp(1_700_000_000_000));
    let bytes = encode(&state);
    assert_eq!(decode(&bytes).unwrap(), state);
    for cut in 0..bytes.len() {
        assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
    }
}
