//! Runs of the reference plant: every event folds into `PlantState`, runs are
//! deterministic, inventory never goes negative, drifts show up where the ground truth says
//! and raise downstream defects.

use std::collections::BTreeMap;

use model::{Catalog, EventKind, PlantState, Timestamp};
use proptest::prelude::*;
use sim::{DriftSpec, DriftTarget, SimOptions, SimOutput};

fn run(catalog: &Catalog, options: &SimOptions) -> SimOutput {
    sim::simulate(catalog, options, None, |_| {}).expect("valid options")
}

/// Folds every event, checking lots and serials never go below zero on the way.
fn fold_all(catalog: &Catalog, options: &SimOptions, out: &SimOutput) -> PlantState {
    let mut state = PlantState::initial(catalog, options.start);
    let end = options.start.plus_minutes(options.days * 1440.0);
    let mut last = options.start;
    for (i, event) in out.events.iter().enumerate() {
        assert!(event.time >= last, "event {i} goes back in time");
        assert!(event.time <= end, "event {i} after the end");
        assert_eq!(event.source.as_deref(), Some("sim"));
        assert_eq!(
            event.id.as_str(),
            format!("sim-{}-{:07}", options.seed, i + 1)
        );
        last = event.time;
        if let EventKind::MaterialConsumed {
            serial: Some(serial),
            lot: None,
            ..
        } = &event.kind
        {
            let known = state
                .serials
                .get(serial)
                .expect("consumed serials were produced");
            assert!(
                known.consumed_by.is_none(),
                "serial {serial} consumed twice"
            );
        }
        if let Err(e) = state.apply(catalog, event) {
            panic!("event {i} rejected: {e}");
        }
        if let EventKind::MaterialConsumed { lot: Some(lot), .. }
        | EventKind::MaterialShipped { lot: Some(lot), .. } = &event.kind
        {
            let on_hand = state.lots[lot].on_hand();
            assert!(on_hand > -1e-6, "lot {lot} went negative: {on_hand}");
        }
    }
    state
}

#[test]
fn fourteen_day_reference_run_folds_without_errors() {
    let catalog = sim::reference_catalog();
    let options = SimOptions::default();
    let out = run(&catalog, &options);
    let state = fold_all(&catalog, &options, &out);
    assert_eq!(state.events_applied as usize, out.events.len());
    assert!(out.events.len() > 5_000, "{} events", out.events.len());
    let completed = out.summary.orders_completed_by_mode.values().sum::<u64>();
    assert!(completed >= 120, "{completed} orders completed");
    for mode in ["discrete", "process", "repetitive"] {
        assert!(out.summary.orders_completed_by_mode[mode] > 10, "{mode}");
    }
    // Dispatches come from the control plane (an approved schedule change carried out by the
    // MES), not from the plant floor the simulator plays; its suppliers cancel no delivery
    // and its crews are never absent.
    let not_played = [
        "operation_dispatched",
        "receipt_cancelled",
        "member_attendance",
    ];
    for kind in model::EventKind::TYPE_NAMES
        .into_iter()
        .filter(|k| !not_played.contains(k))
    {
        assert!(
            out.summary.events_by_type.contains_key(kind),
            "no {kind} events"
        );
    }
    let states: std::collections::BTreeSet<_> = out
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::EquipmentStateChanged { state, .. } => Some(*state),
            _ => None,
        })
        .collect();
    assert_eq!(states.len(), 5, "every equipment state occurs: {states:?}");
    assert!(!out.truth.breakdowns.is_empty());
    assert!(out.truth.bottleneck.is_some());
    assert!(out.summary.shipments > 0 && out.summary.serials_produced > 0);
    // Every inspection characteristic of the plant got results.
    let measured: usize = out.summary.quality.len();
    let defined: usize = catalog
        .plant()
        .inspection_plans
        .iter()
        .map(|p| p.characteristics.len())
        .sum();
    assert_eq!(measured, defined);
}

#[test]
fn same_seed_same_events_and_different_seed_different_events() {
    let catalog = sim::reference_catalog();
    let options = SimOptions {
        days: 7.0,
        ..Default::default()
    };
    let a = serde_json::to_string(&run(&catalog, &options)).unwrap();
    let b = serde_json::to_string(&run(&catalog, &options)).unwrap();
    assert!(a == b, "same seed gave different output");
    let other = SimOptions {
        seed: 8,
        ..options.clone()
    };
    let c = serde_json::to_string(&run(&catalog, &other).events).unwrap();
    let a_events = serde_json::to_string(&run(&catalog, &options).events).unwrap();
    assert_ne!(a_events, c);
}

#[test]
fn progress_is_reported_in_order() {
    let catalog = sim::reference_catalog();
    let options = SimOptions {
        days: 2.0,
        ..Default::default()
    };
    let mut seen = Vec::new();
    let out = sim::simulate(&catalog, &options, None, |p| seen.push(p)).unwrap();
    assert!(seen.len() >= 40);
    assert!(
        seen.windows(2)
            .all(|w| w[0].sim_time <= w[1].sim_time && w[0].events <= w[1].events)
    );
    let last = seen.last().unwrap();
    assert_eq!(last.fraction, 1.0);
    assert_eq!(last.events as usize, out.events.len());
}

/// Leak and function failures counted on the characteristics the drift should reach.
fn downstream_failures(out: &SimOutput, characteristics: &[model::CharacteristicId]) -> f64 {
    out.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::QualityResultRecorded {
                characteristic,
                value,
                ..
            } if characteristic.as_str().ends_with("-FAIL")
                && characteristics.contains(characteristic) =>
            {
                Some(*value)
            }
            _ => None,
        })
        .sum()
}

#[test]
fn reactor_temperature_drift_is_measured_and_raises_downstream_defects() {
    let catalog = sim::reference_catalog();
    let base = SimOptions::default();
    let drift = SimOptions {
        drifts: vec![DriftSpec::reactor_temperature_creep()],
        ..base.clone()
    };
    let clean = run(&catalog, &base);
    let drifted = run(&catalog, &drift);
    fold_all(&catalog, &drift, &drifted);

    let truth = &drifted.truth.drifts[0];
    assert!(truth.magnitude_at_end > 10.0);
    assert!(!truth.affected_lots.is_empty());
    assert!(
        truth
            .downstream_characteristics
            .iter()
            .any(|c| c.as_str() == "M50-LEAK")
    );
    assert!(
        truth
            .downstream_characteristics
            .iter()
            .any(|c| c.as_str() == "EA100-VISC")
    );

    // The parameter itself: EA-100 reactor temperatures after day 9 sit well above target.
    let day9 = base.start.plus_minutes(9.0 * 1440.0);
    let mut routing_of = BTreeMap::new();
    let temps = |out: &SimOutput, routing_of: &mut BTreeMap<model::OrderId, model::RoutingId>| {
        let mut late = Vec::new();
        for e in &out.events {
            match &e.kind {
                EventKind::OrderReleased { order } => {
                    routing_of.insert(order.id.clone(), order.routing.clone());
                }
                EventKind::OperationCompleted {
                    order,
                    step: 1,
                    parameters,
                    ..
                } if routing_of[order].as_str() == "RCP-EA100" && e.time > day9 => {
                    late.push(parameters["reactor_temperature"]);
                }
                _ => {}
            }
        }
        late.iter().sum::<f64>() / late.len().max(1) as f64
    };
    let drifted_temp = temps(&drifted, &mut routing_of);
    let clean_temp = temps(&clean, &mut routing_of);
    assert!(
        drifted_temp > 90.0,
        "drifted EA-100 temperature {drifted_temp}"
    );
    assert!(
        (clean_temp - 85.0).abs() < 2.0,
        "clean EA-100 temperature {clean_temp}"
    );

    let failures_drift = downstream_failures(&drifted, &truth.downstream_characteristics);
    let failures_clean = downstream_failures(&clean, &truth.downstream_characteristics);
    assert!(
        failures_drift > failures_clean * 1.5,
        "drift {failures_drift} vs clean {failures_clean}"
    );
}

#[test]
fn characteristic_drift_shifts_measurements() {
    let catalog = sim::reference_catalog();
    let options = SimOptions {
        drifts: vec![DriftSpec {
            target: DriftTarget::Characteristic {
                characteristic: "CRT-EA100-50-FILLWT".into(),
            },
            unit: None,
            start_day: 0.0,
            shift: 3.0,
            rate_per_day: 0.0,
            end_day: None,
        }],
        ..Default::default()
    };
    let out = run(&catalog, &options);
    let q = out
        .summary
        .quality
        .iter()
        .find(|q| q.characteristic.as_str() == "CRT-EA100-50-FILLWT")
        .unwrap();
    assert!(q.mean > 64.0, "{}", q.mean);
}

#[test]
fn bad_options_are_rejected_with_the_field() {
    let catalog = sim::reference_catalog();
    let bad = SimOptions {
        days: 0.0,
        ..Default::default()
    };
    let err = sim::simulate(&catalog, &bad, None, |_| {}).unwrap_err();
    assert!(err.to_string().contains("days"), "{err}");
    let bad = SimOptions {
        drifts: vec![DriftSpec {
            target: DriftTarget::Parameter {
                routing: Some("RCP-EA100".into()),
                step: 1,
                name: "no_such_parameter".into(),
            },
            unit: None,
            start_day: 0.0,
            shift: 1.0,
            rate_per_day: 0.0,
            end_day: None,
        }],
        ..Default::default()
    };
    let err = sim::simulate(&catalog, &bad, None, |_| {}).unwrap_err();
    assert!(err.to_string().contains("drifts[0]"), "{err}");
    let mut fixed_before_it_starts = DriftSpec::reactor_temperature_creep();
    fixed_before_it_starts.end_day = Some(4.0);
    let bad = SimOptions {
        drifts: vec![fixed_before_it_starts],
        ..Default::default()
    };
    let err = sim::simulate(&catalog, &bad, None, |_| {}).unwrap_err();
    assert!(err.to_string().contains("drifts[0].end_day"), "{err}");
    let bad = SimOptions {
        drifts_per_month: -1.0,
        ..Default::default()
    };
    let err = sim::simulate(&catalog, &bad, None, |_| {}).unwrap_err();
    assert!(err.to_string().contains("drifts_per_month"), "{err}");
}

#[test]
fn start_time_is_the_callers() {
    let catalog = sim::reference_catalog();
    let options = SimOptions {
        start: Timestamp::parse("2026-03-04T06:00:00Z").unwrap(),
        days: 1.0,
        ..Default::default()
    };
    let out = run(&catalog, &options);
    assert!(out.events.first().unwrap().time >= options.start);
    fold_all(&catalog, &options, &out);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn every_event_folds_for_any_seed(
        seed in 0u64..10_000,
        days in 0.25f64..3.0,
        breakdowns in any::<bool>(),
        new_orders in any::<bool>(),
        offset_hours in 0u32..72,
    ) {
        let catalog = sim::reference_catalog();
        let options = SimOptions {
            seed,
            days,
            breakdowns,
            new_orders,
            start: Timestamp::parse("2026-03-02T00:00:00Z").unwrap().plus_minutes(f64::from(offset_hours) * 60.0),
            drifts: vec![DriftSpec::reactor_temperature_creep()],
            ..Default::default()
        };
        let out = run(&catalog, &options);
        fold_all(&catalog, &options, &out);
    }
}

#[test]
fn a_plan_taken_from_a_run_replays_cleanly() {
    let catalog = sim::reference_catalog();
    let options = SimOptions {
        days: 7.0,
        new_orders: false,
        ..Default::default()
    };
    let dispatched = run(&catalog, &options);
    let plan = sim::Plan::from_events(&catalog, &dispatched.events);
    assert!(plan.units.len() >= 10);
    let replayed = sim::simulate(&catalog, &options, Some(&plan), |_| {}).unwrap();
    fold_all(&catalog, &options, &replayed);
    let done = |o: &SimOutput| o.summary.orders_completed_by_mode.values().sum::<u64>();
    assert!(
        done(&replayed) * 10 >= done(&dispatched) * 8,
        "replay completed {} vs {}",
        done(&replayed),
        done(&dispatched)
    );
    // Each unit ran its planned operations in the planned order, none before its start.
    let replayed_plan = sim::Plan::from_events(&catalog, &replayed.events);
    for (unit, ops) in &replayed_plan.units {
        // Operations beyond the plan (not started in the original run) come after it.
        for (op, planned) in ops.iter().zip(&plan.units[unit]) {
            assert_eq!((&op.order, op.step), (&planned.order, planned.step));
            assert!(op.start >= planned.start);
        }
    }
}

#[test]
fn plans_naming_impossible_assignments_are_rejected() {
    let catalog = sim::reference_catalog();
    let order = catalog.plant().orders[0].clone();
    let mut plan = sim::Plan::default();
    plan.units.insert(
        "PK-L1".into(),
        vec![sim::PlannedOperation {
            order: order.id.clone(),
            step: 0,
            start: order.release,
        }],
    );
    let err = sim::simulate(&catalog, &SimOptions::default(), Some(&plan), |_| {}).unwrap_err();
    assert!(err.to_string().contains("units.PK-L1[0]"), "{err}");
}

fn correlation(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum::<f64>().sqrt();
    let sy: f64 = y.iter().map(|b| (b - my).powi(2)).sum::<f64>().sqrt();
    if sx == 0.0 || sy == 0.0 {
        0.0
    } else {
        sxy / (sx * sy)
    }
}

/// The drifted reactor temperature, joined to the assemblies through genealogy (batch lot
/// consumed by the assembly order), explains their failure rate better than any other
/// parameter of the same recipe: the causal link root-cause ranking is tested on.
#[test]
fn drifted_parameter_explains_downstream_failures_best() {
    for seed in SEEDS {
        drifted_parameter_ranks_first(*seed);
    }
}

/// Seeds 1 to 12 all rank it first; these include the closest calls.
const SEEDS: &[u64] = &[2, 3, 5, 7];

fn drifted_parameter_ranks_first(seed: u64) {
    let catalog = sim::reference_catalog();
    let options = SimOptions {
        seed,
        drifts: vec![DriftSpec::reactor_temperature_creep()],
        ..Default::default()
    };
    let out = run(&catalog, &options);
    let mut routing_of = BTreeMap::new();
    let mut parameters: BTreeMap<(model::OrderId, u32), BTreeMap<String, f64>> = BTreeMap::new();
    let mut lot_order = BTreeMap::new();
    let mut consumed: BTreeMap<model::OrderId, Vec<(model::LotId, f64)>> = BTreeMap::new();
    let mut failure_rate = BTreeMap::new();
    for e in &out.events {
        match &e.kind {
            EventKind::OrderReleased { order } => {
                routing_of.insert(order.id.clone(), order.routing.to_string());
            }
            EventKind::OperationCompleted {
                order,
                step,
                parameters: p,
                ..
            } if routing_of[order] == "RCP-EA100" => {
                parameters.insert((order.clone(), *step), p.clone());
            }
            EventKind::MaterialProduced {
                order,
                lot: Some(lot),
                ..
            } => {
                lot_order.insert(lot.clone(), order.clone());
            }
            EventKind::MaterialConsumed {
                order,
                material,
                lot: Some(lot),
                quantity,
                ..
            } if material.as_str() == "RES-EA100" => {
                consumed
                    .entry(order.clone())
                    .or_default()
                    .push((lot.clone(), *quantity));
            }
            EventKind::QualityResultRecorded {
                characteristic,
                value,
                sample_size: Some(n),
                order: Some(order),
                ..
            } if characteristic.as_str().ends_with("-FAIL") => {
                failure_rate.insert(order.clone(), value / n);
            }
            _ => {}
        }
    }
    // Every parameter of the recipe, as a quantity-weighted mean over the lots consumed.
    let names: std::collections::BTreeSet<(u32, String)> = parameters
        .iter()
        .flat_map(|((_, s), p)| p.keys().map(move |k| (*s, k.clone())))
        .collect();
    let mut scores = Vec::new();
    for (step, name) in &names {
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for (order, rate) in &failure_rate {
            let Some(lots) = consumed.get(order) else {
                continue;
            };
            let (mut sum, mut weight) = (0.0, 0.0);
            for (lot, q) in lots {
                if let Some(v) = lot_order
                    .get(lot)
                    .and_then(|o| parameters.get(&(o.clone(), *step)))
                    .and_then(|p| p.get(name))
                {
                    sum += v * q;
                    weight += q;
                }
            }
            if weight > 0.0 {
                xs.push(sum / weight);
                ys.push(*rate);
            }
        }
        assert!(xs.len() >= 20, "{} assembly orders joined", xs.len());
        scores.push((correlation(&xs, &ys).abs(), format!("{step}:{name}")));
    }
    scores.sort_by(|a, b| b.0.total_cmp(&a.0));
    assert_eq!(
        scores[0].1, "1:reactor_temperature",
        "seed {seed}: {scores:?}"
    );
    assert!(scores[0].0 > 0.6, "seed {seed}: {scores:?}");
}

/// Repetitive runs crewed by trainees scrap more than runs crewed by qualified operators
/// and experts, as the ground truth's multipliers say.
#[test]
fn trainee_crews_scrap_more_than_expert_crews() {
    let catalog = sim::reference_catalog();
    let level_of = |member: &str| -> f64 {
        catalog
            .plant()
            .pools
            .iter()
            .flat_map(|p| p.members.iter())
            .find(|m| m.id.as_str() == member)
            .and_then(|m| {
                m.certifications
                    .iter()
                    .find(|h| h.certification.as_str() == "packaging")
            })
            .map_or(f64::NAN, |h| f64::from(h.level))
    };
    let (mut low, mut high) = (Vec::new(), Vec::new());
    for seed in [7, 8, 9, 10, 11, 12] {
        let out = run(
            &catalog,
            &SimOptions {
                seed,
                ..Default::default()
            },
        );
        assert_eq!(out.truth.scrap_multiplier_by_level[&1], 1.6);
        let mut crew = BTreeMap::new();
        for e in &out.events {
            match &e.kind {
                EventKind::OperationStarted {
                    order,
                    unit,
                    members,
                    ..
                } if unit.as_str().starts_with("PK-") => {
                    let levels: Vec<f64> = members
                        .iter()
                        .map(|m| level_of(m.as_str()))
                        .filter(|l| !l.is_nan())
                        .collect();
                    crew.insert(
                        order.clone(),
                        levels.iter().sum::<f64>() / levels.len() as f64,
                    );
                }
                EventKind::OperationCompleted {
                    order,
                    good_quantity,
                    scrap_quantity,
                    ..
                } if crew.contains_key(order) => {
                    let rate = scrap_quantity / (good_quantity + scrap_quantity);
                    match crew[order] {
                        l if l <= 1.5 => low.push(rate),
                        l if l >= 2.0 => high.push(rate),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(
        low.len() >= 5 && high.len() >= 5,
        "{} / {}",
        low.len(),
        high.len()
    );
    // A crew counted low (mean level at most 1.5) scraps at least 1.3 times the base rate, one
    // counted high (2 or more) at most the base rate: the noise of yields and rounding keeps
    // the measured ratio near that bound (1.29 over these six seeds once late deliveries
    // reshuffled the crews), so the test asks for a clear margin above 1, not for the bound.
    assert!(
        mean(&low) > mean(&high) * 1.2,
        "{} vs {}",
        mean(&low),
        mean(&high)
    );
}

#[test]
fn options_documents_parse_as_documented() {
    let text = r#"{"seed": 3, "days": 7, "drifts": [{"target": {"kind": "parameter",
        "routing": "RCP-EA100", "step": 1, "name": "reactor_temperature"},
        "start_day": 5, "rate_per_day": 2}]}"#;
    let options: SimOptions = serde_json::from_str(text).unwrap();
    assert_eq!(options.drifts, vec![DriftSpec::reactor_temperature_creep()]);
    assert_eq!((options.seed, options.days), (3, 7.0));
    assert!(options.breakdowns && options.new_orders && options.order_changes);
    let characteristic = r#"{"drifts": [{"target": {"kind": "characteristic",
        "characteristic": "M50-BORE"}, "start_day": 3, "shift": 0.02}]}"#;
    let options: SimOptions = serde_json::from_str(characteristic).unwrap();
    assert_eq!(options.drifts[0].shift, 0.02);
    assert!(serde_json::from_str::<SimOptions>(r#"{"seeds": 1}"#).is_err());
    let back: SimOptions =
        serde_json::from_str(&serde_json::to_string(&SimOptions::default()).unwrap()).unwrap();
    assert_eq!(back, SimOptions::default());
}

/// The engine is not tied to the reference plant: a stripped variant without pools,
/// inspections, changeovers, CIP, breakdown data or blackouts still runs and folds.
#[test]
fn a_bare_plant_runs_too() {
    let mut plant = sim::reference_plant();
    for routing in &mut plant.routings {
        for step in &mut routing.steps {
            step.pools.clear();
            step.inspection = None;
            step.max_wait_minutes = None;
            step.parameters.clear();
        }
    }
    for unit in &mut plant.units {
        unit.changeover_matrix = None;
        unit.cip = None;
        unit.mtbf_hours = None;
        unit.mttr_hours = None;
    }
    for calendar in &mut plant.calendars {
        calendar.blackouts.clear();
    }
    plant.inspection_plans.clear();
    plant.changeover_matrices.clear();
    let catalog = Catalog::new(plant).unwrap();
    let options = SimOptions {
        days: 4.0,
        ..Default::default()
    };
    let out = run(&catalog, &options);
    fold_all(&catalog, &options, &out);
    assert!(out.summary.orders_completed_by_mode.values().sum::<u64>() > 20);
    assert!(out.truth.breakdowns.is_empty());
    assert!(
        !out.summary
            .events_by_type
            .contains_key("quality_result_recorded")
    );
}

/// A process order bigger than every vessel still runs (as one campaign) instead of
/// waiting forever.
#[test]
fn oversized_process_orders_still_run() {
    let mut plant = sim::reference_plant();
    let order = plant
        .orders
        .iter_mut()
        .find(|o| o.routing.as_str() == "RCP-EA100")
        .unwrap();
    order.quantity = 5000.0;
    let id = order.id.clone();
    let catalog = Catalog::new(plant).unwrap();
    let options = SimOptions {
        days: 3.0,
        ..Default::default()
    };
    let out = run(&catalog, &options);
    fold_all(&catalog, &options, &out);
    assert!(out.events.iter().any(|e| matches!(&e.kind,
        EventKind::OperationStarted { order, .. } if order == &id)));
}

/// Cancelled orders leave the plan: the operations planned after them still run.
#[test]
fn plan_replay_survives_cancellations() {
    use std::collections::BTreeSet;
    let catalog = sim::reference_catalog();
    for seed in 1..=20 {
        let base = SimOptions {
            seed,
            days: 6.0,
            new_orders: false,
            order_changes: false,
            ..Default::default()
        };
        let mut plan = sim::Plan::from_events(&catalog, &run(&catalog, &base).events);
        // Start everything a day and a half later, so customers cancel before starts.
        for ops in plan.units.values_mut() {
            for op in ops {
                op.start = op.start.plus_minutes(36.0 * 60.0);
            }
        }
        let with_changes = SimOptions {
            order_changes: true,
            ..base
        };
        let out = sim::simulate(&catalog, &with_changes, Some(&plan), |_| {}).unwrap();
        fold_all(&catalog, &with_changes, &out);
        let cancelled: BTreeSet<&model::OrderId> = out
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::OrderCancelled { order, .. } => Some(order),
                _ => None,
            })
            .collect();
        let started: BTreeSet<(&model::OrderId, u32)> = out
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::OperationStarted { order, step, .. } => Some((order, *step)),
                _ => None,
            })
            .collect();
        // On each unit, planned operations after a cancelled one still ran.
        let mut checked = 0;
        for ops in plan.units.values() {
            let Some(k) = ops.iter().position(|op| cancelled.contains(&op.order)) else {
                continue;
            };
            let later: Vec<_> = ops[k + 1..]
                .iter()
                .filter(|op| !cancelled.contains(&op.order))
                .filter(|op| op.start.0 < out.summary.end.0 - 86_400_000)
                .collect();
            if later.is_empty() {
                continue;
            }
            checked += 1;
            assert!(
                later
                    .iter()
                    .any(|op| started.contains(&(&op.order, op.step))),
                "seed {seed}: the unit stopped behind a cancelled order"
            );
        }
        if checked > 0 {
            return;
        }
    }
    panic!("no seed in 1..=20 cancels a planned order early enough to check");
}
