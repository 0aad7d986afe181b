//! Explanations of hand-made schedules, and the tiling and charging invariants on generated
//! ones.
//!
//! Test code only: the parent declares this module under `#[cfg(test)]` (which is also how
//! the workspace tidy test tells it from library code).

use std::collections::HashMap;

use super::*;
use crate::plant::problem::{Assignment, Interval, Receipt};
use proptest::prelude::*;
use serde_json::json;

fn problem(extra: serde_json::Value) -> PlantProblem {
    let mut base = json!({
        "horizon_start": "2026-03-02T00:00:00Z",
        "horizon_minutes": 1440,
        "units": [{"id": "U1"}, {"id": "U2"}],
        "orders": [],
        "operations": []
    });
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    let p: PlantProblem = serde_json::from_value(base).unwrap();
    p.validate().unwrap();
    p
}

fn op(id: &str, order: &str, unit: &str, minutes: i64) -> serde_json::Value {
    json!({"id": id, "order": order, "alternatives": [{"unit": unit, "minutes": minutes}]})
}

fn schedule(rows: &[(&str, &str, i64, i64)]) -> PlantSchedule {
    PlantSchedule {
        assignments: rows
            .iter()
            .map(|&(op, unit, start, end)| Assignment {
                op: op.into(),
                unit: unit.into(),
                start,
                end,
            })
            .collect(),
    }
}

fn late<'e>(e: &'e Explanation, order: &str) -> &'e LateOrder {
    e.late_orders
        .iter()
        .find(|l| l.order == order)
        .unwrap_or_else(|| panic!("{order} is not late: {e:#?}"))
}

/// (kind, from, to) of each link, and the ops they name, for compact assertions.
fn spans(chain: &[Link]) -> Vec<(Cause, i64, i64)> {
    chain.iter().map(|l| (l.cause, l.from, l.to)).collect()
}

fn operation(l: &Link) -> (&str, &str, &Via) {
    match &l.kind {
        LinkKind::Operation { op, unit, via, .. } => (op, unit, via),
        other => panic!("not an operation link: {other:?}"),
    }
}

#[test]
fn precedence_and_min_lag() {
    let mut a2 = op("a2", "A", "U2", 50);
    a2["predecessors"] = json!([{"op": "a1", "min_lag": 20}]);
    let p = problem(json!({
        "orders": [{"id": "A", "due": 100}],
        "operations": [op("a1", "A", "U1", 100), a2]
    }));
    let s = schedule(&[("a1", "U1", 0, 100), ("a2", "U2", 120, 170)]);
    let e = explain(&p, &s).unwrap();
    let a = late(&e, "A");
    assert_eq!(
        (a.completion, a.minutes_late, a.last_op.as_str()),
        (170, 70, "a2")
    );
    assert_eq!(
        spans(&a.chain),
        vec![
            (Cause::Processing, 120, 170),
            (Cause::Precedence, 100, 120),
            (Cause::Processing, 0, 100)
        ]
    );
    assert_eq!(operation(&a.chain[0]), ("a2", "U2", &Via::Last));
    assert_eq!(
        a.chain[1].kind,
        LinkKind::Lag {
            pred: "a1".into(),
            op: "a2".into(),
            min_lag: 20
        }
    );
    assert_eq!(
        operation(&a.chain[2]).2,
        &Via::Precedence {
            succ: "a2".into(),
            min_lag: 20
        }
    );
    assert_eq!(a.dominant_cause, Cause::Precedence);
    assert_eq!(e.total_minutes_late, 70);
}

#[test]
fn unit_contention_clipped_at_the_release() {
    let p = problem(json!({
        "orders": [{"id": "A", "release": 20, "due": 60}, {"id": "B"}],
        "operations": [op("a1", "A", "U1", 50), op("b1", "B", "U1", 100)]
    }));
    let s = schedule(&[("b1", "U1", 0, 100), ("a1", "U1", 100, 150)]);
    let e = explain(&p, &s).unwrap();
    let a = late(&e, "A");
    assert_eq!(a.minutes_late, 90);
    assert_eq!(
        spans(&a.chain),
        vec![(Cause::Processing, 100, 150), (Cause::Unit, 20, 100)]
    );
    assert_eq!(
        operation(&a.chain[1]),
        ("b1", "U1", &Via::Unit { succ: "a1".into() })
    );
    assert!(matches!(&a.chain[1].kind, LinkKind::Operation { order, .. } if order == "B"));
    assert_eq!(a.dominant_cause, Cause::Unit);
    let u1 = &e.units[0];
    assert_eq!((u1.unit.as_str(), u1.rank), ("U1", 1));
    assert_eq!((u1.late_orders, u1.late_minutes), (1, 80));
    assert_eq!((u1.busy_minutes, u1.available_minutes), (150, 150));
    assert_eq!(u1.load_percent, Some(100.0));
    assert_eq!(e.units[1].load_percent, Some(0.0));
}

#[test]
fn pool_contention_names_the_pool_and_its_holders() {
    let mut a1 = op("a1", "A", "U1", 40);
    a1["pools"] = json!([{"pool": "TECH", "quantity": 1}]);
    let mut b1 = op("b1", "B", "U2", 80);
    b1["pools"] = json!([{"pool": "TECH", "quantity": 1}]);
    let mut c1 = op("c1", "C", "U2", 50);
    c1["pools"] = json!([{"pool": "OVEN", "quantity": 1}]);
    let p = problem(json!({
        "pools": [{"id": "TECH", "capacity": 1},
                  {"id": "OVEN", "capacity": 1, "dips": [{"start": 0, "end": 90, "capacity": 0}]}],
        "orders": [{"id": "A", "due": 100}, {"id": "B"}, {"id": "C", "due": 100}],
        "operations": [a1, b1, c1]
    }));
    let s = schedule(&[
        ("b1", "U2", 0, 80),
        ("a1", "U1", 80, 120),
        ("c1", "U2", 90, 140),
    ]);
    let e = explain(&p, &s).unwrap();
    let a = late(&e, "A");
    assert_eq!(
        spans(&a.chain),
        vec![(Cause::Processing, 80, 120), (Cause::Pool, 0, 80)]
    );
    assert_eq!(
        operation(&a.chain[1]),
        (
            "b1",
            "U2",
            &Via::Pool {
                succ: "a1".into(),
                pool: "TECH".into(),
                holders: vec!["b1".into()]
            }
        )
    );
    assert_eq!(a.dominant_cause, Cause::Pool);
    // The oven is closed by a capacity dip until 90: c1 waits on U2 first for b1 (the
    // unit), but the dip holds it longer.
    let c = late(&e, "C");
    assert_eq!(
        spans(&c.chain),
        vec![
            (Cause::Processing, 90, 140),
            (Cause::Pool, 80, 90),
            (Cause::Unit, 0, 80)
        ]
    );
    assert_eq!(
        c.chain[1].kind,
        LinkKind::Pool {
            pool: "OVEN".into(),
            op: "c1".into(),
            holders: vec![],
            capacity: Some(1)
        }
    );
    let tech = e.pools.iter().find(|x| x.pool == "TECH").unwrap();
    assert_eq!(tech.rank, 1);
    assert_eq!((tech.late_orders, tech.late_minutes), (1, 80));
    assert_eq!((tech.minutes_at_full_capacity, tech.peak), (120, 1));
    // Busy 120 of the span's 140 minutes.
    assert_eq!((e.span.start, e.span.end), (0, 140));
    assert_eq!((tech.used_minutes, tech.capacity_minutes), (120, 140));
    assert_eq!(
        tech.average_utilization_percent,
        Some(100.0 * 120.0 / 140.0)
    );
    let oven = e.pools.iter().find(|x| x.pool == "OVEN").unwrap();
    assert_eq!(oven.capacity_minutes, 50);
    assert_eq!(oven.minutes_at_full_capacity, 50);
}

#[test]
fn material_from_a_receipt_and_from_a_producer() {
    let mut a1 = op("a1", "A", "U3", 60);
    a1["consumes"] = json!([{"material": "M", "quantity": 10}]);
    let mut b1 = op("b1", "B", "U2", 150);
    b1["produces"] = json!([{"material": "M", "quantity": 10}]);
    let mut c1 = op("c1", "C", "U1", 50);
    c1["consumes"] = json!([{"material": "M", "quantity": 10}]);
    let p = problem(json!({
        "units": [{"id": "U1"}, {"id": "U2"}, {"id": "U3"}],
        "materials": [{"id": "M", "initial": 0, "receipts": [{"time": 300, "quantity": 10}]}],
        "orders": [{"id": "A", "due": 320}, {"id": "B"}, {"id": "C", "due": 180}],
        "operations": [a1, b1, c1]
    }));
    let s = schedule(&[
        ("b1", "U2", 0, 150),
        ("c1", "U1", 150, 200),
        ("a1", "U3", 300, 360),
    ]);
    let e = explain(&p, &s).unwrap();
    let c = late(&e, "C");
    assert_eq!(
        spans(&c.chain),
        vec![(Cause::Processing, 150, 200), (Cause::Material, 0, 150)]
    );
    assert_eq!(
        operation(&c.chain[1]),
        (
            "b1",
            "U2",
            &Via::Material {
                succ: "c1".into(),
                material: "M".into()
            }
        )
    );
    let a = late(&e, "A");
    assert_eq!(
        spans(&a.chain),
        vec![(Cause::Processing, 300, 360), (Cause::Material, 0, 300)]
    );
    assert_eq!(
        a.chain[1].kind,
        LinkKind::Material {
            material: "M".into(),
            op: "a1".into(),
            quantity: 10.0,
            receipt: Some(Receipt {
                time: 300,
                quantity: 10.0
            })
        }
    );
    assert_eq!(a.dominant_cause, Cause::Material);
}

#[test]
fn changeover_and_cip_name_keys_and_minutes() {
    let mut a1 = op("a1", "A", "U1", 60);
    a1["family"] = json!("FAM-B");
    a1["product"] = json!("P2");
    let mut b1 = op("b1", "B", "U1", 60);
    b1["family"] = json!("FAM-A");
    b1["product"] = json!("P1");
    let p = problem(json!({
        "units": [{"id": "U1", "changeover": "CO", "cip": {"minutes": 30, "cost": 5, "on_product_change": true}}, {"id": "U2"}],
        "changeovers": [{"id": "CO", "keyed_by": {"kind": "family"}, "default_minutes": 10,
                         "entries": [{"from": "FAM-A", "to": "FAM-B", "minutes": 45, "cost": 7}]}],
        "orders": [{"id": "A", "due": 150}, {"id": "B"}],
        "operations": [a1, b1]
    }));
    let s = schedule(&[("b1", "U1", 0, 60), ("a1", "U1", 135, 195)]);
    let e = explain(&p, &s).unwrap();
    let a = late(&e, "A");
    assert_eq!(
        spans(&a.chain),
        vec![
            (Cause::Processing, 135, 195),
            (Cause::Setup, 60, 135),
            (Cause::Unit, 0, 60)
        ]
    );
    assert_eq!(
        a.chain[1].kind,
        LinkKind::Setup {
            unit: "U1".into(),
            op: "a1".into(),
            after: "b1".into(),
            changeover: Some(ChangeoverSetup {
                table: "CO".into(),
                from: "FAM-A".into(),
                to: "FAM-B".into(),
                minutes: 45,
                cost: 7.0
            }),
            cip: Some(CipSetup {
                minutes: 30,
                cost: 5.0,
                reasons: vec![CipReason::ProductChange {
                    from: Some("P1".into()),
                    to: Some("P2".into())
                }]
            })
        }
    );
    assert_eq!(a.dominant_cause, Cause::Setup);
    let u1 = e.units.iter().find(|u| u.unit == "U1").unwrap();
    assert_eq!(
        (
            u1.changeovers,
            u1.changeover_minutes,
            u1.cips,
            u1.cip_minutes,
            u1.busy_minutes
        ),
        (1, 45, 1, 30, 195)
    );
    assert_eq!(u1.late_minutes, 135);
}

#[test]
fn downtime_calendar_and_max_lag() {
    let mut a2 = op("a2", "A", "U2", 60);
    a2["predecessors"] = json!([{"op": "a1", "max_lag": 10}]);
    let p = problem(json!({
        "units": [{"id": "U1"}, {"id": "U2", "downtime": [{"start": 0, "end": 200}]},
                  {"id": "U3", "availability": [{"start": 300, "end": 600}]}],
        "orders": [{"id": "A", "due": 210}, {"id": "C", "due": 100}],
        "operations": [op("a1", "A", "U1", 50), a2, op("c1", "C", "U3", 30)]
    }));
    let s = schedule(&[
        ("a1", "U1", 140, 190),
        ("a2", "U2", 200, 260),
        ("c1", "U3", 300, 330),
    ]);
    let e = explain(&p, &s).unwrap();
    let a = late(&e, "A");
    assert_eq!(
        spans(&a.chain),
        vec![
            (Cause::Processing, 200, 260),
            (Cause::Downtime, 190, 200),
            (Cause::Processing, 140, 190),
            (Cause::MaxLag, 0, 140)
        ]
    );
    assert_eq!(
        a.chain[1].kind,
        LinkKind::Downtime {
            unit: "U2".into(),
            op: "a2".into(),
            window: Interval { start: 0, end: 200 }
        }
    );
    assert_eq!(
        a.chain[3].kind,
        LinkKind::MaxLag {
            op: "a1".into(),
            succ: "a2".into(),
            max_lag: 10
        }
    );
    let c = late(&e, "C");
    assert_eq!(
        spans(&c.chain),
        vec![(Cause::Processing, 300, 330), (Cause::Calendar, 0, 300)]
    );
    assert_eq!(c.dominant_cause, Cause::Calendar);
    // Availability over the span [0, 330): U2 loses its 200 minutes of downtime, U3 is
    // only open from 300.
    let avail = |id: &str| {
        e.units
            .iter()
            .find(|u| u.unit == id)
            .unwrap()
            .available_minutes
    };
    assert_eq!((avail("U1"), avail("U2"), avail("U3")), (330, 130, 30));
}

#[test]
fn any_schedule_idle_frozen_and_release() {
    let mut f1 = op("f1", "F", "U1", 30);
    f1["fixed"] = json!({"unit": "U1", "start": 40});
    let mut r1 = op("r1", "R", "U2", 10);
    r1["release"] = json!(100);
    let p = problem(json!({
        "orders": [{"id": "A", "due": 60}, {"id": "F", "due": 50}, {"id": "R", "release": 30, "due": 100}],
        "operations": [op("a1", "A", "U2", 50), f1, r1]
    }));
    let s = schedule(&[
        ("f1", "U1", 40, 70),
        ("a1", "U2", 50, 100),
        ("r1", "U2", 100, 110),
    ]);
    let e = explain(&p, &s).unwrap();
    assert_eq!(
        spans(&late(&e, "A").chain),
        vec![(Cause::Processing, 50, 100), (Cause::Idle, 0, 50)]
    );
    let f = late(&e, "F");
    assert_eq!(
        spans(&f.chain),
        vec![(Cause::Processing, 40, 70), (Cause::Frozen, 0, 40)]
    );
    assert_eq!(f.dominant_cause, Cause::Frozen);
    // The operation's own release (100) beats the unit (a1 ends at 100) on a tie? No:
    // ties go to the unit, which ends at 100 too, and the chain follows a1 back.
    let r = late(&e, "R");
    assert_eq!(
        spans(&r.chain),
        vec![
            (Cause::Processing, 100, 110),
            (Cause::Unit, 50, 100),
            (Cause::Idle, 30, 50)
        ]
    );
    assert_eq!(e.late_orders[0].order, "A");
    let chain = order_chain(&p, &s, "R").unwrap();
    assert_eq!(chain, r.chain);
    assert!(order_chain(&p, &s, "NOPE").is_err());
}

#[test]
fn bad_schedules_are_named() {
    let p = problem(json!({
        "orders": [{"id": "A"}],
        "operations": [op("a1", "A", "U1", 50)]
    }));
    let err = explain(&p, &schedule(&[("ghost", "U1", 0, 50)])).unwrap_err();
    assert!(err.to_string().contains("ghost"), "{err}");
    let err = explain(&p, &schedule(&[("a1", "U9", 0, 50)])).unwrap_err();
    assert!(err.to_string().contains("U9"), "{err}");
    let err = explain(&p, &schedule(&[("a1", "U1", 0, 50), ("a1", "U1", 60, 110)])).unwrap_err();
    assert!(err.to_string().contains("more than once"), "{err}");
    let e = explain(&p, &PlantSchedule::default()).unwrap();
    assert!(e.late_orders.is_empty());
    assert_eq!(e.span, Interval { start: 0, end: 0 });
}

/// The invariants of a chain against the problem and the schedule.
fn assert_chain(p: &PlantProblem, s: &PlantSchedule, order: &str, chain: &[Link]) {
    let at: HashMap<&str, &Assignment> = s.assignments.iter().map(|a| (a.op.as_str(), a)).collect();
    let spec = |id: &str| p.operations.iter().find(|o| o.id == id).unwrap();
    let o = p.orders.iter().find(|o| o.id == order).unwrap();
    let completion = p
        .operations
        .iter()
        .filter(|x| x.order == order)
        .filter_map(|x| at.get(x.id.as_str()).map(|a| a.end))
        .max();
    let Some(completion) = completion.filter(|&c| c > o.release) else {
        assert!(chain.is_empty(), "{order}: {chain:#?}");
        return;
    };
    assert_eq!(chain[0].to, completion, "{order}");
    assert!(
        matches!(&chain[0].kind, LinkKind::Operation { via: Via::Last, order: x, .. } if x == order)
    );
    assert_eq!(chain.last().unwrap().from, o.release, "{order}: {chain:#?}");
    assert_eq!(
        chain.iter().map(|l| l.minutes).sum::<i64>(),
        completion - o.release
    );
    for w in chain.windows(2) {
        assert_eq!(w[1].to, w[0].from, "{order}: links do not tile: {chain:#?}");
    }
    for l in chain {
        assert_eq!(l.minutes, l.to - l.from);
        let clip = |t: i64| t.max(o.release);
        match &l.kind {
            LinkKind::Operation { op, unit, via, .. } => {
                let a = at[op.as_str()];
                assert_eq!((&a.unit, l.to, l.from), (unit, a.end, clip(a.start)));
                match via {
                    Via::Precedence { succ, min_lag } => assert!(
                        spec(succ)
                            .predecessors
                            .iter()
                            .any(|x| x.op == *op && x.min_lag == *min_lag)
                    ),
                    Via::Unit { succ } => {
                        assert_eq!(at[succ.as_str()].unit, a.unit);
                        assert!(at[succ.as_str()].start >= a.end);
                    }
                    Via::Pool {
                        succ,
                        pool,
                        holders,
                    } => {
                        assert!(spec(op).pools.iter().any(|u| u.pool == *pool));
                        assert!(spec(succ).pools.iter().any(|u| u.pool == *pool));
                        assert!(holders.contains(op));
                    }
                    Via::Material { succ, material } => {
                        assert!(spec(op).produces.iter().any(|m| m.material == *material));
                        assert!(spec(succ).consumes.iter().any(|m| m.material == *material));
                    }
                    Via::Last => assert_eq!(l.to, completion),
                }
            }
            LinkKind::Lag { pred, op, min_lag } => {
                assert_eq!(l.from, clip(at[pred.as_str()].end));
                assert!(
                    spec(op)
                        .predecessors
                        .iter()
                        .any(|x| x.op == *pred && x.min_lag == *min_lag)
                );
            }
            LinkKind::Setup {
                unit,
                op,
                after,
                changeover,
                cip,
            } => {
                let (a, b) = (at[after.as_str()], at[op.as_str()]);
                assert_eq!((&a.unit, &b.unit), (unit, unit));
                assert_eq!(l.from, clip(a.end));
                let minutes = changeover.as_ref().map_or(0, |c| c.minutes)
                    + cip.as_ref().map_or(0, |c| c.minutes);
                assert_eq!(l.to, a.end + minutes);
                assert!(b.start >= l.to);
            }
            LinkKind::Downtime { unit, window, .. } => {
                let u = p.units.iter().find(|u| u.id == *unit).unwrap();
                assert!(
                    u.downtime
                        .iter()
                        .any(|d| d.start < window.end && window.start < d.end)
                );
            }
            LinkKind::Pool { pool, op, .. } => {
                assert!(spec(op).pools.iter().any(|u| u.pool == *pool));
                assert!(l.to <= at[op.as_str()].start);
            }
            LinkKind::Material { material, op, .. } => {
                assert!(spec(op).consumes.iter().any(|m| m.material == *material));
            }
            LinkKind::MaxLag { op, succ, max_lag } => {
                assert!(
                    spec(succ)
                        .predecessors
                        .iter()
                        .any(|x| x.op == *op && x.max_lag == Some(*max_lag))
                );
            }
            LinkKind::Release { op, release, .. } => {
                let x = spec(op);
                let r = p
                    .orders
                    .iter()
                    .find(|o| o.id == x.order)
                    .unwrap()
                    .release
                    .max(x.release.unwrap_or(i64::MIN));
                assert_eq!(*release, r);
                assert_eq!(l.to, r);
            }
            LinkKind::Frozen { op, .. } => assert!(spec(op).fixed.is_some()),
            LinkKind::Calendar { .. } | LinkKind::Idle { .. } => {}
        }
    }
}

fn assert_explained(p: &PlantProblem, s: &PlantSchedule) {
    let e = explain(p, s).unwrap();
    for o in &p.orders {
        let chain = order_chain(p, s, &o.id).unwrap();
        assert_chain(p, s, &o.id, &chain);
        if let Some(l) = e.late_orders.iter().find(|l| l.order == o.id) {
            assert_eq!(l.chain, chain);
            assert_eq!(l.minutes_late, l.completion - l.due);
            assert!(l.minutes_late > 0);
            let top = l
                .minutes_by_cause
                .iter()
                .filter(|c| c.cause != Cause::Processing)
                .map(|c| c.minutes)
                .max()
                .unwrap_or(0);
            if top > 0 {
                assert!(
                    l.minutes_by_cause
                        .iter()
                        .any(|c| c.cause == l.dominant_cause && c.minutes == top)
                );
            }
        }
    }
    // The loads agree with the independent checker's KPIs.
    let k = crate::plant::checker::check(p, s).kpis;
    assert_eq!(e.late_orders.len(), k.late_orders);
    let wt: f64 = e
        .late_orders
        .iter()
        .map(|l| l.weight * l.minutes_late as f64)
        .sum();
    assert!((wt - k.weighted_tardiness).abs() < 1e-6);
    let sum = |f: fn(&UnitLoad) -> i64| e.units.iter().map(f).sum::<i64>();
    assert_eq!(
        sum(|u| u.changeover_minutes + u.cip_minutes),
        k.changeover_minutes
    );
    assert_eq!(sum(|u| u.changeovers as i64), k.changeovers as i64);
    assert_eq!(sum(|u| u.cips as i64), k.cips as i64);
    let ranks: Vec<usize> = e.units.iter().map(|u| u.rank).collect();
    assert_eq!(ranks, (1..=e.units.len()).collect::<Vec<_>>());
    // Deterministic.
    assert_eq!(explain(p, s).unwrap(), e);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(12), ..ProptestConfig::default() })]
    #[test]
    fn chains_tile_and_name_what_the_schedule_holds(seed in 0u64..1000, ops in 5usize..90, units in 3usize..10, shift in 0i64..400) {
        let p = crate::plant::generate::generate(crate::plant::generate::GenerateOptions { operations: ops, units, seed });
        let (model, _, decoded) = crate::plant::improve::first_feasible(&p, None).unwrap();
        let s = decoded.to_schedule(&model);
        assert_explained(&p, &s);
        // Any schedule, not only the solver's: everything later (infeasible in places).
        let mut moved = s.clone();
        for a in &mut moved.assignments {
            a.start += shift;
            a.end += shift;
        }
        assert_explained(&p, &moved);
        // Tighter due dates make more orders late.
        let mut tight = p.clone();
        for o in &mut tight.orders {
            o.due = o.due.map(|d| o.release + (d - o.release) / 4);
        }
        assert_explained(&tight, &s);
    }
}
