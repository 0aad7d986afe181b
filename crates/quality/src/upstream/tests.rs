//! Root cause through genealogy on small hand-built plants (a batch parameter two levels up,
//! a bad delivery, depth, windows, bad queries, event order) and on the simulator's canonical
//! reactor-temperature creep.

use std::collections::BTreeMap;

use model::{Event, EventKind, Priority, ProductionOrder, Timestamp};
use proptest::prelude::*;

use super::*;

const T0: i64 = 1_772_409_600_000; // 2026-03-02T00:00:00Z

struct Plant {
    events: Vec<Event>,
}

impl Plant {
    fn new() -> Plant {
        Plant { events: Vec::new() }
    }

    fn push(&mut self, minute: i64, kind: EventKind) {
        let id = format!("e{}", self.events.len());
        self.events.push(Event {
            id: id.into(),
            time: Timestamp(T0 + minute * 60_000),
            source: None,
            kind,
        });
    }

    fn order(&mut self, minute: i64, id: &str, routing: &str, product: &str) {
        self.push(
            minute,
            EventKind::OrderReleased {
                order: ProductionOrder {
                    id: id.into(),
                    product: product.into(),
                    routing: routing.into(),
                    quantity: 1.0,
                    release: Timestamp(T0),
                    due: Timestamp(T0 + 86_400_000),
                    priority: Priority::Medium,
                    customer: None,
                },
            },
        );
    }

    fn completed(&mut self, minute: i64, order: &str, step: u32, parameters: &[(&str, f64)]) {
        self.push(
            minute,
            EventKind::OperationCompleted {
                order: order.into(),
                step,
                unit: "U".into(),
                good_quantity: 1.0,
                scrap_quantity: 0.0,
                parameters: parameters
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), *v))
                    .collect::<BTreeMap<_, _>>(),
            },
        );
    }

    fn produced(&mut self, minute: i64, order: &str, material: &str, lot: &str) {
        self.push(
            minute,
            EventKind::MaterialProduced {
                order: order.into(),
                material: material.into(),
                lot: Some(lot.into()),
                serials: Vec::new(),
                quantity: 100.0,
            },
        );
    }

    fn received(&mut self, minute: i64, material: &str, lot: &str) {
        self.push(
            minute,
            EventKind::MaterialReceived {
                material: material.into(),
                lot: lot.into(),
                quantity: 1000.0,
                supplier: Some("ACME".into()),
                receipt: None,
            },
        );
    }

    fn consumed(&mut self, minute: i64, order: &str, material: &str, lot: &str, quantity: f64) {
        self.push(
            minute,
            EventKind::MaterialConsumed {
                order: order.into(),
                step: 0,
                material: material.into(),
                lot: Some(lot.into()),
                serial: None,
                quantity,
            },
        );
    }

    fn result(&mut self, minute: i64, lot: &str, value: f64) {
        self.push(
            minute,
            EventKind::QualityResultRecorded {
                characteristic: "LEAK".into(),
                value,
                sample: None,
                sample_size: None,
                order: None,
                lot: Some(lot.into()),
                serial: None,
                unit: None,
            },
        );
    }
}

/// Twenty resin batches whose temperature and pressure vary (a fixed pseudo-random pattern);
/// each assembly order takes one batch and one housing lot of three. `leak` gives an
/// assembly's result from (batch temperature, housing lot index).
fn two_level_plant(leak: impl Fn(f64, usize) -> f64) -> Plant {
    let mut p = Plant::new();
    for h in 0..3 {
        p.received(0, "HOUSING", &format!("H{h}"));
    }
    for b in 0..20_i64 {
        let batch = format!("B{b}");
        let temperature = 80.0 + ((b * 7) % 20) as f64 / 2.0;
        let pressure = 2.0 + ((b * 13) % 20) as f64 / 10.0;
        p.order(b * 60, &batch, "RCP-RESIN", "RESIN");
        p.completed(
            b * 60 + 30,
            &batch,
            1,
            &[("temperature", temperature), ("pressure", pressure)],
        );
        p.produced(b * 60 + 40, &batch, "RESIN", &format!("L{b}"));
        let assembly = format!("A{b}");
        let housing = (b % 3) as usize;
        p.order(b * 60 + 41, &assembly, "RTG-ASSY", "PUMP");
        p.consumed(b * 60 + 42, &assembly, "RESIN", &format!("L{b}"), 5.0);
        p.consumed(
            b * 60 + 42,
            &assembly,
            "HOUSING",
            &format!("H{housing}"),
            1.0,
        );
        p.produced(b * 60 + 50, &assembly, "PUMP", &format!("P{b}"));
        p.result(b * 60 + 55, &format!("P{b}"), leak(temperature, housing));
    }
    p
}

#[test]
fn a_batch_parameter_two_levels_up_ranks_first() {
    let plant = two_level_plant(|t, _| 0.1 + (t - 80.0) * 0.05);
    let report = rank_upstream(&plant.events, &RootCauseQuery::new("LEAK")).unwrap();
    assert_eq!(
        (report.results, report.linked_results, report.orders),
        (20, 20, 20)
    );
    let top = &report.causes[0];
    assert_eq!(
        top.cause,
        CauseKind::Parameter {
            routing: "RCP-RESIN".into(),
            step: 1,
            parameter: "temperature".into()
        }
    );
    assert_eq!(top.cause.name(), "RCP-RESIN step 2 temperature");
    assert_eq!((top.rank, top.orders, top.items), (1, 20, 20));
    assert!(top.association.effect.unwrap() > 0.99, "{top:?}");
    assert!(top.q_value.unwrap() < 1e-6, "{top:?}");
    // Every candidate is there: two parameters and three housing lots.
    assert_eq!(report.candidates, 5);
    assert_eq!(report.causes.len(), 5);
}

#[test]
fn a_bad_delivery_ranks_first_against_good_lots_of_its_material() {
    let plant = two_level_plant(|_, housing| if housing == 1 { 0.9 } else { 0.2 });
    let report = rank_upstream(&plant.events, &RootCauseQuery::new("LEAK")).unwrap();
    let top = &report.causes[0];
    assert_eq!(
        top.cause,
        CauseKind::ComponentLot {
            material: "HOUSING".into(),
            lot: "H1".into(),
            supplier: Some("ACME".into())
        },
        "{report:#?}"
    );
    assert_eq!(top.orders, 20, "the other lots' orders are its zeros");
    assert!(top.association.effect.unwrap() > 0.8);
}

#[test]
fn depth_zero_sees_only_the_measured_orders_own_inputs() {
    let plant = two_level_plant(|t, _| t);
    let query = RootCauseQuery {
        depth: 0,
        ..RootCauseQuery::new("LEAK")
    };
    let report = rank_upstream(&plant.events, &query).unwrap();
    assert!(
        report
            .causes
            .iter()
            .all(|c| matches!(c.cause, CauseKind::ComponentLot { .. })),
        "{report:#?}"
    );
}

#[test]
fn the_window_and_attribute_results_are_respected() {
    let mut plant = two_level_plant(|t, _| t);
    // A count over a sample size is a rate.
    plant.push(
        2000,
        EventKind::QualityResultRecorded {
            characteristic: "LEAK".into(),
            value: 3.0,
            sample: None,
            sample_size: Some(10.0),
            order: Some("A0".into()),
            lot: None,
            serial: None,
            unit: None,
        },
    );
    let query = RootCauseQuery {
        from: Some(Timestamp(T0 + 600 * 60_000)),
        ..RootCauseQuery::new("LEAK")
    };
    let report = rank_upstream(&plant.events, &query).unwrap();
    // Orders 10..19 in the window, plus A0's late attribute result.
    assert_eq!((report.results, report.orders), (11, 11));
}

#[test]
fn bad_queries_are_named() {
    let plant = two_level_plant(|t, _| t);
    let err = rank_upstream(&plant.events, &RootCauseQuery::new("NOPE")).unwrap_err();
    assert!(err.to_string().contains("no result of `NOPE`"), "{err}");
    let query = RootCauseQuery {
        characteristics: Vec::new(),
        ..RootCauseQuery::new("LEAK")
    };
    assert_eq!(
        rank_upstream(&plant.events, &query),
        Err(UpstreamError::NoCharacteristic)
    );
    let query = RootCauseQuery {
        min_support: 2,
        ..RootCauseQuery::new("LEAK")
    };
    assert_eq!(
        rank_upstream(&plant.events, &query),
        Err(UpstreamError::MinSupport(2))
    );
    let query = RootCauseQuery {
        from: Some(Timestamp(T0 + 10)),
        to: Some(Timestamp(T0)),
        ..RootCauseQuery::new("LEAK")
    };
    assert!(matches!(
        rank_upstream(&plant.events, &query),
        Err(UpstreamError::EmptyWindow { .. })
    ));
}

#[test]
fn the_canonical_reactor_creep_ranks_first_through_the_simulator() {
    let catalog = sim::reference_catalog();
    let options = sim::SimOptions {
        seed: 3,
        days: 14.0,
        drifts: vec![sim::DriftSpec::reactor_temperature_creep()],
        ..Default::default()
    };
    let out = sim::simulate(&catalog, &options, None, |_| {}).unwrap();
    let results_of = |c: &model::CharacteristicId| {
        out.events
            .iter()
            .filter(|e| matches!(&e.kind, EventKind::QualityResultRecorded { characteristic, .. } if characteristic == c))
            .count()
    };
    // The assemblies' failure counts respond: the defect is asked about across all of them.
    let failures: Vec<String> = out.truth.drifts[0]
        .downstream_characteristics
        .iter()
        .filter(|c| c.as_str().ends_with("-FAIL") && results_of(c) > 0)
        .map(|c| c.to_string())
        .collect();
    assert!(failures.len() >= 2, "{failures:?}");
    let query = RootCauseQuery {
        characteristics: failures.clone(),
        worse: Worse::Higher,
        ..RootCauseQuery::new("")
    };
    let report = rank_upstream(&out.events, &query).unwrap();
    let names: Vec<String> = report
        .causes
        .iter()
        .take(6)
        .map(|c| {
            format!(
                "{} rho {:.2} p {:.1e} n {}",
                c.cause.name(),
                c.association.effect.unwrap_or(f64::NAN),
                c.association.p_value.unwrap_or(f64::NAN),
                c.orders
            )
        })
        .collect();
    assert_eq!(
        report.causes[0].cause,
        CauseKind::Parameter {
            routing: "RCP-EA100".into(),
            step: 1,
            parameter: "reactor_temperature".into()
        },
        "{failures:?}: {names:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// The events' order does not change the report.
    #[test]
    fn the_report_does_not_depend_on_event_order(seed in any::<u64>()) {
        let plant = two_level_plant(|t, h| t + h as f64 * 0.3);
        let mut shuffled = plant.events.clone();
        let mut rng = model::rng::Rng::new(seed);
        for i in (1..shuffled.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            shuffled.swap(i, j);
        }
        let query = RootCauseQuery::new("LEAK");
        prop_assert_eq!(
            rank_upstream(&plant.events, &query).unwrap(),
            rank_upstream(&shuffled, &query).unwrap()
        );
    }
}
