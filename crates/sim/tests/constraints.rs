//! An independent checker of a simulated history against the plant's rules, sharing no code
//! with the engine: units run one operation at a time and only inside their calendars,
//! steps follow their predecessors, pool members are never double-booked and hold the
//! certification (level, expiry) the step requires, and genealogy is consistent.

use std::collections::{BTreeMap, BTreeSet};

use model::{Catalog, EquipmentState, EventKind, OrderId, Timestamp, UnitId};
use sim::SimOptions;

const DAY: i64 = 86_400_000;

/// Is the unit's calendar open at `t` (inside a shift, outside its blackouts)? Shifts are
/// read in UTC, so the plant's site must name no time zone.
fn open(catalog: &Catalog, unit: &UnitId, t: i64) -> bool {
    assert_eq!(
        catalog.plant().site.time_zone,
        None,
        "this checker reads UTC shifts"
    );
    let u = catalog.unit(unit).unwrap();
    let cal = catalog
        .plant()
        .calendars
        .iter()
        .find(|c| c.id == u.calendar)
        .unwrap();
    let blocked = cal
        .blackouts
        .iter()
        .any(|b| (b.units.is_empty() || b.units.contains(unit)) && b.start.0 <= t && t < b.end.0);
    if blocked {
        return false;
    }
    // A shift that started today or yesterday may cover t.
    let day = t.div_euclid(DAY);
    (day - 1..=day).any(|d| {
        let weekday = ((d + 3).rem_euclid(7) + 1) as u8;
        cal.shifts.iter().any(|s| {
            let start = d * DAY + i64::from(s.start_minute) * 60_000;
            s.weekdays.contains(&weekday)
                && start <= t
                && t < start + i64::from(s.length_minutes) * 60_000
        })
    })
}

/// What a unit did since its last CIP and last changeover.
#[derive(Default)]
struct UnitHistory {
    last_order: Option<OrderId>,
    last_product: Option<model::MaterialId>,
    last_key: Option<String>,
    batches_since_cip: u32,
    run_ms_since_cip: i64,
    cleaned: bool,
    set_up: bool,
}

/// The changeover key of a product under a matrix: its family or a family attribute.
fn key(catalog: &Catalog, matrix: &model::ChangeoverMatrix, product: &model::MaterialId) -> String {
    let family = catalog.material(product).unwrap().family.clone().unwrap();
    match &matrix.keyed_by {
        model::ChangeoverKey::Family => family.to_string(),
        model::ChangeoverKey::Attribute { name } => catalog
            .plant()
            .families
            .iter()
            .find(|f| f.id == family)
            .and_then(|f| f.attributes.get(name).cloned())
            .unwrap_or_else(|| family.to_string()),
    }
}

/// A new order on a unit must be preceded by the CIP its rule makes due and by a setup
/// whenever the changeover matrix asks for one.
fn check_changeover(
    catalog: &Catalog,
    unit: &UnitId,
    order: &OrderId,
    product: &model::MaterialId,
    h: &mut UnitHistory,
) {
    if h.last_order.as_ref() == Some(order) {
        return; // the next step of the same batch, in the same vessel
    }
    let def = catalog.unit(unit).unwrap();
    if let Some(rule) = &def.cip {
        let product_change = h.last_product.as_ref().is_some_and(|p| p != product);
        if rule.on_product_change && product_change {
            assert!(
                h.cleaned,
                "{unit}: product change to {product} ({order}) without CIP"
            );
        }
        if let Some(n) = rule.after_batches {
            assert!(
                h.batches_since_cip < n,
                "{unit}: {order} is batch {} since CIP",
                h.batches_since_cip + 1
            );
        }
        if let Some(max) = rule.max_run_minutes {
            assert!(
                (h.run_ms_since_cip as f64) < max * 60_000.0,
                "{unit}: {order} started after {} min of running without CIP",
                h.run_ms_since_cip / 60_000
            );
        }
        h.batches_since_cip += 1;
    }
    if let Some(matrix) = def
        .changeover_matrix
        .as_ref()
        .and_then(|m| catalog.changeover_matrix(m))
    {
        let new_key = key(catalog, matrix, product);
        if let Some(last) = &h.last_key
            && matrix.lookup(last, &new_key).0 > 0.0
        {
            assert!(
                h.set_up,
                "{unit}: changeover {last} -> {new_key} ({order}) without setup"
            );
        }
        h.last_key = Some(new_key);
    }
    h.last_product = Some(product.clone());
    h.cleaned = false;
    h.set_up = false;
}

fn check(seed: u64, days: f64) {
    let catalog = sim::reference_catalog();
    let options = SimOptions {
        seed,
        days,
        ..Default::default()
    };
    let out = sim::simulate(&catalog, &options, None, |_| {}).unwrap();
    let plant = catalog.plant();
    let end = options.start.plus_minutes(days * 1440.0).0;

    let mut routing_of = BTreeMap::new();
    for o in &plant.orders {
        routing_of.insert(o.id.clone(), o.routing.clone());
    }
    let mut busy_since: BTreeMap<UnitId, (EquipmentState, i64)> = BTreeMap::new();
    let mut unit_op: BTreeMap<UnitId, (OrderId, u32)> = BTreeMap::new();
    let mut held: BTreeMap<String, (OrderId, u32)> = BTreeMap::new();
    let mut op_members: BTreeMap<(OrderId, u32), Vec<String>> = BTreeMap::new();
    let mut completed_steps: BTreeMap<OrderId, u32> = BTreeMap::new();
    let mut produced_lots: BTreeSet<String> = BTreeSet::new();
    let mut received_lots: BTreeSet<String> = BTreeSet::new();
    let mut history: BTreeMap<UnitId, UnitHistory> = BTreeMap::new();

    let check_interval = |unit: &UnitId, a: i64, b: i64| {
        let mut t = a;
        while t < b {
            assert!(
                open(&catalog, unit, t),
                "seed {seed}: {unit} busy at {} outside its calendar (interval {}..{})",
                Timestamp(t),
                Timestamp(a),
                Timestamp(b)
            );
            t += 10 * 60_000;
        }
        if b > a {
            assert!(
                open(&catalog, unit, b - 1000),
                "{unit} busy until {}",
                Timestamp(b)
            );
        }
    };

    for e in &out.events {
        let t = e.time.0;
        match &e.kind {
            EventKind::OrderReleased { order } => {
                routing_of.insert(order.id.clone(), order.routing.clone());
            }
            EventKind::EquipmentStateChanged { unit, state, .. } => {
                let h = history.entry(unit.clone()).or_default();
                if let Some((previous, since)) = busy_since.remove(unit) {
                    check_interval(unit, since, t);
                    if previous == EquipmentState::Running {
                        h.run_ms_since_cip += t - since;
                    }
                }
                match state {
                    EquipmentState::Cleaning => {
                        h.cleaned = true;
                        h.batches_since_cip = 0;
                        h.run_ms_since_cip = 0;
                    }
                    EquipmentState::Setup => h.set_up = true,
                    _ => {}
                }
                if matches!(
                    state,
                    EquipmentState::Running | EquipmentState::Setup | EquipmentState::Cleaning
                ) {
                    busy_since.insert(unit.clone(), (*state, t));
                }
            }
            EventKind::OperationStarted {
                order,
                step,
                unit,
                members,
            } => {
                assert!(
                    !unit_op.contains_key(unit),
                    "{unit} started {order}/{step} while running {:?}",
                    unit_op[unit]
                );
                unit_op.insert(unit.clone(), (order.clone(), *step));
                let routing = catalog.routing(&routing_of[order]).unwrap();
                check_changeover(
                    &catalog,
                    unit,
                    order,
                    &routing.product,
                    history.entry(unit.clone()).or_default(),
                );
                let done = completed_steps.get(order).copied().unwrap_or(0);
                assert_eq!(
                    done, *step,
                    "{order} step {step} started after {done} steps"
                );
                let routing = catalog.routing(&routing_of[order]).unwrap();
                let def = &routing.steps[*step as usize];
                // Every requirement is met by distinct, free, qualified members.
                let mut unused: Vec<&str> = members.iter().map(|m| m.as_str()).collect();
                for req in &def.pools {
                    let pool = catalog.pool(&req.pool).unwrap();
                    for _ in 0..req.quantity {
                        let position = unused.iter().position(|m| {
                            pool.members.iter().any(|pm| {
                                pm.id.as_str() == *m
                                    && req.certification.as_ref().is_none_or(|c| {
                                        pm.certifications.iter().any(|h| {
                                            &h.certification == c
                                                && h.level >= req.min_level.unwrap_or(1)
                                                && h.expires.is_none_or(|x| x > e.time)
                                        })
                                    })
                            })
                        });
                        let position = position.unwrap_or_else(|| {
                            panic!(
                                "{order}/{step}: no qualified member of {} in {members:?}",
                                req.pool
                            )
                        });
                        unused.remove(position);
                    }
                }
                assert!(
                    unused.is_empty(),
                    "{order}/{step}: extra members {unused:?}"
                );
                for m in members {
                    assert!(
                        !held.contains_key(m.as_str()),
                        "{m} double-booked: {order}/{step} and {:?}",
                        held[m.as_str()]
                    );
                    held.insert(m.to_string(), (order.clone(), *step));
                }
                op_members.insert(
                    (order.clone(), *step),
                    members.iter().map(|m| m.to_string()).collect(),
                );
            }
            EventKind::OperationCompleted {
                order, step, unit, ..
            } => {
                assert_eq!(unit_op.remove(unit), Some((order.clone(), *step)));
                let h = history.entry(unit.clone()).or_default();
                h.last_order = Some(order.clone());
                for m in op_members.remove(&(order.clone(), *step)).unwrap() {
                    held.remove(&m);
                }
                completed_steps.insert(order.clone(), step + 1);
            }
            EventKind::MaterialReceived { lot, .. } => {
                received_lots.insert(lot.to_string());
            }
            EventKind::MaterialProduced { lot: Some(lot), .. } => {
                produced_lots.insert(lot.to_string());
            }
            EventKind::MaterialConsumed { lot: Some(lot), .. } => {
                assert!(
                    produced_lots.contains(lot.as_str()) || received_lots.contains(lot.as_str()),
                    "{lot} consumed before it existed"
                );
            }
            _ => {}
        }
    }
    for (unit, (_, since)) in busy_since {
        check_interval(&unit, since, end);
    }
}

#[test]
fn reference_runs_respect_calendars_pools_and_precedence() {
    for seed in [7, 8, 9] {
        check(seed, 14.0);
    }
}
