//! A run taken step by step (`sim::Live`): advancing in any steps gives the events of one
//! `simulate` call, a longer horizon leaves the past as it was, a replan moves only what has
//! not started and is deterministic, and a live run goes on past the order book with rush
//! orders, breakdowns and drifts.

use model::{Catalog, Event, EventKind, OrderId, Timestamp, UnitId};
use proptest::prelude::*;
use sim::{Live, Plan, PlannedOperation, SimOptions};

const HOUR_MINUTES: f64 = 60.0;

fn at(options: &SimOptions, hours: f64) -> Timestamp {
    options.start.plus_minutes(hours * HOUR_MINUTES)
}

fn simulate(catalog: &Catalog, options: &SimOptions, plan: Option<&Plan>) -> Vec<Event> {
    sim::simulate(catalog, options, plan, |_| {})
        .expect("valid options")
        .events
}

/// Every event of a live run advanced in steps of `steps` minutes (cycled) to its end.
fn stepped(
    catalog: &Catalog,
    options: &SimOptions,
    plan: Option<&Plan>,
    steps: &[u32],
) -> Vec<Event> {
    let mut live = Live::new(catalog, options, plan).expect("valid options");
    let mut events = Vec::new();
    let mut t = live.start();
    for step in steps.iter().cycle() {
        events.extend(live.advance_to(t));
        if live.finished() {
            break;
        }
        t = t.plus_minutes(f64::from(*step));
    }
    assert_eq!(live.now(), live.end());
    assert!(live.advance_to(live.end().plus_minutes(60.0)).is_empty());
    events
}

fn started(events: &[Event]) -> Vec<(OrderId, u32, UnitId, Timestamp)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::OperationStarted {
                order, step, unit, ..
            } => Some((order.clone(), *step, unit.clone(), e.time)),
            _ => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]
    #[test]
    fn advancing_in_steps_gives_the_events_of_one_run(
        seed in 1u64..1000,
        steps in proptest::collection::vec(1u32..600, 1..8),
        with_plan in any::<bool>(),
    ) {
        let catalog = sim::reference_catalog();
        let options = SimOptions { seed, days: 2.5, drifts_per_month: 10.0, ..Default::default() };
        let plan = with_plan.then(|| Plan::from_events(&catalog, &simulate(&catalog, &options, None)));
        let whole = simulate(&catalog, &options, plan.as_ref());
        let parts = stepped(&catalog, &options, plan.as_ref(), &steps);
        prop_assert_eq!(whole.len(), parts.len());
        prop_assert!(whole == parts, "stepping changed the events");
    }
}

#[test]
fn a_longer_horizon_leaves_the_past_as_it_was() {
    let catalog = sim::reference_catalog();
    let short = SimOptions {
        days: 4.0,
        ..Default::default()
    };
    // Drifts drawn from the seed start after the history.
    let long = SimOptions {
        days: 12.0,
        drifts_per_month: 30.0,
        drifts_from_day: 4.0,
        ..short.clone()
    };
    // The plan of a whole run, as the demo's engine plan covers the order book.
    let plan = Plan::from_events(&catalog, &simulate(&catalog, &long, None));
    for plan in [None, Some(&plan)] {
        let mut live = Live::new(&catalog, &long, plan).unwrap();
        assert!(!live.drifts().is_empty());
        assert!(live.drifts().iter().all(|d| d.start_day >= 4.0));
        let history = live.advance_to(at(&short, 4.0 * 24.0));
        assert_eq!(live.now(), at(&short, 96.0));
        assert!(history == simulate(&catalog, &short, plan));
        // The run goes on from there, numbering its events on.
        let next = live.advance_to(at(&short, 100.0));
        assert!(!next.is_empty());
        assert_eq!(
            next[0].id.as_str(),
            format!("sim-7-{:07}", history.len() + 1)
        );
    }
}

/// The first operation started after `after` whose step has another unit it could run on,
/// with that other unit.
fn movable(
    catalog: &Catalog,
    events: &[Event],
    after: Timestamp,
) -> (OrderId, u32, UnitId, Timestamp, UnitId) {
    started(events)
        .into_iter()
        .filter(|(_, _, _, t)| *t > after)
        .find_map(|(order, step, unit, t)| {
            let routing = events.iter().find_map(|e| match &e.kind {
                EventKind::OrderReleased { order: o } if o.id == order => {
                    catalog.routing(&o.routing)
                }
                _ => None,
            })?;
            let other = routing.steps[step as usize]
                .alternatives
                .iter()
                .find(|a| a.unit != unit)?;
            Some((order, step, unit, t, other.unit.clone()))
        })
        .expect("an operation with an alternative unit starts")
}

fn plan_of(unit: &UnitId, order: &OrderId, step: u32, start: Timestamp) -> Plan {
    let mut plan = Plan::default();
    plan.units.insert(
        unit.clone(),
        vec![PlannedOperation {
            order: order.clone(),
            step,
            start,
        }],
    );
    plan
}

#[test]
fn a_replan_moves_only_what_has_not_started() {
    let catalog = sim::reference_catalog();
    let options = SimOptions {
        days: 3.0,
        ..Default::default()
    };
    let reference = simulate(&catalog, &options, None);
    let now = at(&options, 20.0);
    let (order, step, natural_unit, natural_start, other) =
        movable(&catalog, &reference, now.plus_minutes(120.0));
    let planned_start = natural_start.plus_minutes(90.0);

    let mut live = Live::new(&catalog, &options, None).unwrap();
    let mut events = live.advance_to(now);
    let before = events.len();
    assert!(events == reference[..before], "the past is the reference's");
    assert_eq!(live.planned(&order, step), None);

    // An operation that has started cannot be moved; one of an unknown order or on a unit
    // that cannot run it is refused by name; the movable one is moved.
    // An operation that has started, of an order with steps still to start.
    let (done_order, done_step, done_unit, _) = started(&events)
        .into_iter()
        .rev()
        .find(|(o, s, ..)| {
            started(&reference[before..])
                .iter()
                .any(|(later, later_step, ..)| later == o && later_step > s)
        })
        .expect("an order in progress");
    let mut plan = plan_of(&other, &order, step, planned_start);
    plan.units.insert(
        done_unit.clone(),
        vec![
            PlannedOperation {
                order: done_order.clone(),
                step: done_step,
                start: now,
            },
            PlannedOperation {
                order: "NO-SUCH-ORDER".into(),
                step: 0,
                start: now,
            },
        ],
    );
    let replanned = live.replan(&plan);
    assert_eq!(replanned.applied, 1, "{replanned:?}");
    assert_eq!(replanned.skipped.len(), 2);
    let reasons: Vec<&str> = replanned
        .skipped
        .iter()
        .map(|s| s.reason.as_str())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("already started")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("NO-SUCH-ORDER")),
        "{reasons:?}"
    );
    assert_eq!(
        live.planned(&order, step),
        Some((other.clone(), planned_start))
    );

    events.extend(live.advance_to(live.end()));
    let runs = started(&events);
    let moved: Vec<_> = runs
        .iter()
        .filter(|(o, s, ..)| o == &order && *s == step)
        .collect();
    assert_eq!(moved.len(), 1, "{moved:?}");
    let (_, _, unit, time) = moved[0];
    assert_eq!(
        unit, &other,
        "runs on the dispatched unit, not {natural_unit}"
    );
    assert!(*time >= planned_start, "{time} before {planned_start}");
    // Nothing that had started before the replan starts again.
    let mut seen = std::collections::BTreeSet::new();
    for (o, s, ..) in &runs {
        assert!(seen.insert((o.clone(), *s)), "{o} step {s} started twice");
    }
}

#[test]
fn replans_at_the_same_times_give_the_same_events() {
    let catalog = sim::reference_catalog();
    let options = SimOptions {
        days: 3.0,
        seed: 11,
        ..Default::default()
    };
    let reference = simulate(&catalog, &options, None);
    let run = || {
        let mut live = Live::new(&catalog, &options, None).unwrap();
        let mut events = Vec::new();
        for hours in [12.0, 30.0] {
            let now = at(&options, hours);
            events.extend(live.advance_to(now));
            let (order, step, _, start, other) =
                movable(&catalog, &reference, now.plus_minutes(60.0));
            live.replan(&plan_of(&other, &order, step, start));
        }
        events.extend(live.advance_to(live.end()));
        events
    };
    let a = run();
    let b = run();
    assert!(a == b, "the same replans gave different events");
    assert!(a != reference, "the replans changed nothing");
}

#[test]
fn a_live_run_goes_on_past_the_order_book() {
    let catalog = sim::reference_catalog();
    let options = SimOptions {
        days: 14.0 + 30.0,
        drifts_per_month: 6.0,
        ..Default::default()
    };
    let mut live = Live::new(&catalog, &options, None).unwrap();
    let history = live.advance_to(at(&options, 20.0 * 24.0));
    assert!(!history.is_empty());
    let mut routings: std::collections::BTreeMap<OrderId, model::RoutingId> = catalog
        .plant()
        .orders
        .iter()
        .map(|o| (o.id.clone(), o.routing.clone()))
        .collect();
    for event in &history {
        if let EventKind::OrderReleased { order } = &event.kind {
            routings.insert(order.id.clone(), order.routing.clone());
        }
    }
    let mut rush = 0;
    let mut breakdowns = 0;
    let mut completed = 0;
    let mut out_of_window = 0;
    let mut t = live.now();
    while !live.finished() {
        t = t.plus_minutes(6.0 * 60.0);
        for event in live.advance_to(t) {
            match &event.kind {
                EventKind::OrderReleased { order } => {
                    routings.insert(order.id.clone(), order.routing.clone());
                    rush += usize::from(order.id.as_str().starts_with("RUSH-"));
                }
                EventKind::EquipmentStateChanged {
                    reason: Some(reason),
                    ..
                } if reason.starts_with("breakdown") => breakdowns += 1,
                EventKind::OperationCompleted {
                    order,
                    step,
                    parameters,
                    ..
                } => {
                    completed += 1;
                    let routing = catalog.routing(&routings[order]).expect("known routing");
                    for p in &routing.steps[*step as usize].parameters {
                        if parameters
                            .get(&p.name)
                            .is_some_and(|v| *v < p.low || *v > p.high)
                        {
                            out_of_window += 1;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let drifts_live = live.drifts().iter().filter(|d| d.start_day >= 20.0).count();
    assert!(rush >= 10, "{rush} rush orders in the live part");
    assert!(breakdowns >= 2, "{breakdowns} breakdowns in the live part");
    assert!(completed >= 100, "{completed} operations completed");
    assert!(drifts_live >= 1, "{:?}", live.drifts());
    assert!(
        out_of_window >= 1,
        "{out_of_window} parameters out of window"
    );
}
