//! Turns a finished run into its [`GroundTruth`] and [`Summary`]: utilisation from the
//! equipment-state time the engine accounted, counts from the events themselves.

use std::collections::BTreeMap;

use model::{Catalog, EventKind, Mode, Timestamp};

use crate::engine::ReportInput;
use crate::measure;
use crate::options::DriftTarget;
use crate::output::*;

pub(crate) fn build(mut input: ReportInput<'_>) -> SimOutput {
    let cat = input.cat;
    let plant = cat.plant();
    let total = (input.end - input.start).max(1) as f64;
    let frac = |ms: i64| measure::round(ms as f64 / total, 4);

    let mut utilisation = Vec::new();
    let mut units = Vec::new();
    for (id, s) in &input.unit_state_ms {
        units.push(UnitSummary {
            unit: id.clone(),
            running: frac(s[0]),
            idle: frac(s[1]),
            setup: frac(s[2]),
            cleaning: frac(s[3]),
            down: frac(s[4]),
        });
        utilisation.push(ResourceUtilisation {
            resource: id.to_string(),
            kind: "unit".into(),
            utilisation: frac(s[0] + s[2] + s[3]),
        });
    }
    for (id, busy, members) in &input.pool_busy_ms {
        utilisation.push(ResourceUtilisation {
            resource: id.to_string(),
            kind: "pool".into(),
            utilisation: measure::round(*busy as f64 / (total * (*members).max(1) as f64), 4),
        });
    }
    utilisation.sort_by(|a, b| {
        b.utilisation
            .total_cmp(&a.utilisation)
            .then(a.resource.cmp(&b.resource))
    });

    let mut work_centers = Vec::new();
    for wc in &plant.work_centers {
        let members: Vec<&UnitSummary> = units
            .iter()
            .filter(|u| cat.unit(&u.unit).is_some_and(|d| d.work_center == wc.id))
            .collect();
        if members.is_empty() {
            continue;
        }
        let n = members.len() as f64;
        let mean = |f: fn(&UnitSummary) -> f64| {
            measure::round(members.iter().map(|u| f(u)).sum::<f64>() / n, 4)
        };
        work_centers.push(WorkCenterSummary {
            work_center: wc.id.to_string(),
            mode: wc.mode.as_str().into(),
            units: members.len() as u32,
            utilisation: mean(|u| u.running),
            setup: mean(|u| u.setup),
            cleaning: mean(|u| u.cleaning),
            down: mean(|u| u.down),
        });
    }

    let (summary_counts, quality) = count_events(cat, &input);
    let drifts = input
        .drifts
        .iter()
        .enumerate()
        .map(|(d, spec)| DriftTruth {
            spec: spec.clone(),
            start: Timestamp(input.start).plus_minutes(spec.start_day * 1440.0),
            magnitude_at_end: measure::round(spec.offset_at(total / 86_400_000.0), 4),
            affected_lots: input.drift_lots[d].iter().cloned().collect(),
            affected_orders: input.drift_orders[d].iter().cloned().collect(),
            downstream_characteristics: downstream(cat, &spec.target),
        })
        .collect();
    let truth = GroundTruth {
        seed: input.opts.seed,
        start: Timestamp(input.start),
        end: Timestamp(input.end),
        breakdowns: input.breakdowns.clone(),
        drifts,
        bottleneck: utilisation.first().cloned(),
        utilisation,
        arrived_orders: input.arrived.clone(),
        max_wait_violations: input.wait_violations.clone(),
        scrap_multiplier_by_level: crate::engine::SKILL_FACTORS
            .iter()
            .enumerate()
            .map(|(i, f)| (i as u8 + 1, *f))
            .collect(),
    };
    let summary = Summary {
        start: Timestamp(input.start),
        end: Timestamp(input.end),
        events: input.events.len() as u64,
        work_centers,
        units,
        breakdowns: input.breakdowns.len() as u64,
        changeovers: input.changeovers,
        cip_cycles: input.cip_cycles,
        quality,
        ..summary_counts
    };
    let mut purchasing = std::mem::take(&mut input.purchasing);
    purchasing.sort_by(|a, b| a.due.cmp(&b.due).then(a.material.cmp(&b.material)));
    SimOutput {
        events: input.events,
        truth,
        summary,
        purchasing,
    }
}

/// Counts by event type, orders by mode and status, genealogy and quality figures.
fn count_events(cat: &Catalog, input: &ReportInput<'_>) -> (Summary, Vec<QualitySummary>) {
    let mut by_type: BTreeMap<String, u64> = BTreeMap::new();
    let mut released: BTreeMap<model::OrderId, (Mode, Timestamp, u32)> = BTreeMap::new();
    let mut completed: BTreeMap<model::OrderId, Timestamp> = BTreeMap::new();
    let mut steps_done: BTreeMap<model::OrderId, u32> = BTreeMap::new();
    let mut cancelled: std::collections::BTreeSet<model::OrderId> = Default::default();
    let (mut lots_produced, mut lots_received, mut serials, mut shipments) = (0, 0, 0, 0);
    let mut quality: BTreeMap<model::CharacteristicId, (u64, f64, u64)> = BTreeMap::new();
    for e in &input.events {
        *by_type.entry(e.kind.type_name().to_owned()).or_insert(0) += 1;
        match &e.kind {
            EventKind::OrderReleased { order } => {
                let routing = cat.routing(&order.routing);
                let mode = routing.map_or(Mode::Discrete, |r| r.mode);
                let steps = routing.map_or(u32::MAX, |r| r.steps.len() as u32);
                released.insert(order.id.clone(), (mode, order.due, steps));
            }
            EventKind::OrderChanged {
                order,
                due: Some(due),
                ..
            } => {
                if let Some(r) = released.get_mut(order) {
                    r.1 = *due;
                }
            }
            EventKind::OrderCancelled { order, .. } => {
                cancelled.insert(order.clone());
            }
            EventKind::OperationCompleted { order, step, .. } => {
                let done = steps_done.entry(order.clone()).or_insert(0);
                *done = (*done).max(step + 1);
                if released.get(order).is_some_and(|r| *done >= r.2) {
                    completed.insert(order.clone(), e.time);
                }
            }
            EventKind::MaterialProduced {
                lot, serials: s, ..
            } => {
                if lot.is_some() {
                    lots_produced += 1;
                }
                serials += s.len() as u64;
            }
            EventKind::MaterialReceived { .. } => lots_received += 1,
            EventKind::MaterialShipped { .. } => shipments += 1,
            EventKind::QualityResultRecorded {
                characteristic,
                value,
                ..
            } => {
                let entry = quality.entry(characteristic.clone()).or_insert((0, 0.0, 0));
                entry.0 += 1;
                entry.1 += value;
                if let Some((_, c)) = cat.characteristic(characteristic)
                    && measure::is_variable(c)
                    && measure::out_of_spec(c, *value)
                {
                    entry.2 += 1;
                }
            }
            _ => {}
        }
    }
    let mut completed_by_mode: BTreeMap<String, u64> = BTreeMap::new();
    let mut open_by_mode: BTreeMap<String, u64> = BTreeMap::new();
    for m in Mode::ALL {
        completed_by_mode.insert(m.as_str().into(), 0);
        open_by_mode.insert(m.as_str().into(), 0);
    }
    let (mut on_time, mut late) = (0, 0);
    for (id, (mode, due, _)) in &released {
        match completed.get(id) {
            Some(t) => {
                *completed_by_mode.entry(mode.as_str().into()).or_insert(0) += 1;
                if t <= due {
                    on_time += 1;
                } else {
                    late += 1;
                }
            }
            None if cancelled.contains(id) => {}
            None => *open_by_mode.entry(mode.as_str().into()).or_insert(0) += 1,
        }
    }
    let quality = quality
        .into_iter()
        .map(|(c, (n, sum, oos))| QualitySummary {
            characteristic: c,
            results: n,
            mean: measure::round(sum / n.max(1) as f64, 4),
            out_of_spec: oos,
        })
        .collect();
    let summary = Summary {
        start: Timestamp(input.start),
        end: Timestamp(input.end),
        events: 0,
        events_by_type: by_type,
        orders_released: released.len() as u64,
        orders_completed_by_mode: completed_by_mode,
        orders_completed_on_time: on_time,
        orders_completed_late: late,
        orders_cancelled: cancelled.len() as u64,
        orders_open_by_mode: open_by_mode,
        work_centers: Vec::new(),
        units: Vec::new(),
        lots_produced,
        lots_received,
        serials_produced: serials,
        shipments,
        breakdowns: 0,
        changeovers: 0,
        cip_cycles: 0,
        quality: Vec::new(),
    };
    (summary, quality)
}

/// The characteristics a drift should move: the drifted one, or the inspections of every
/// product the drifted parameter or component goes into, transitively.
pub fn downstream(cat: &Catalog, target: &DriftTarget) -> Vec<model::CharacteristicId> {
    let plant = cat.plant();
    match target {
        DriftTarget::Characteristic { characteristic } => vec![characteristic.clone()],
        DriftTarget::Parameter { .. } | DriftTarget::ComponentLot { .. } => {
            let mut products: Vec<&model::MaterialId> = plant
                .routings
                .iter()
                .filter(|r| match target {
                    DriftTarget::Parameter { routing, .. } => {
                        routing.as_ref().is_none_or(|x| x == &r.id)
                    }
                    DriftTarget::ComponentLot { material } => r
                        .steps
                        .iter()
                        .any(|s| s.consumes.iter().any(|u| &u.material == material)),
                    DriftTarget::Characteristic { .. } => false,
                })
                .map(|r| &r.product)
                .collect();
            // The drifted products and everything made from them, transitively.
            let mut i = 0;
            while i < products.len() {
                let p = products[i];
                for r in &plant.routings {
                    if r.steps
                        .iter()
                        .any(|s| s.consumes.iter().any(|u| &u.material == p))
                        && !products.contains(&&r.product)
                    {
                        products.push(&r.product);
                    }
                }
                i += 1;
            }
            let mut out: Vec<model::CharacteristicId> = plant
                .routings
                .iter()
                .filter(|r| products.contains(&&r.product))
                .flat_map(|r| r.steps.iter().filter_map(|s| s.inspection.as_ref()))
                .filter_map(|id| plant.inspection_plans.iter().find(|p| &p.id == id))
                .flat_map(|p| p.characteristics.iter().map(|c| c.id.clone()))
                .collect();
            out.sort();
            out.dedup();
            out
        }
    }
}
