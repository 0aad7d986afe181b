//! Repair: a new schedule after a disruption that keeps everything not affected in place.
//!
//! Operations that started before `now` are frozen where they are; the rest keep their unit
//! and may not start earlier than before (they are held at their old start), and are decoded
//! in their old order, so an operation moves only if the disruption (a downtime window, a
//! rush order placed first) pushes it. A short improvement run then trades the stability
//! term (minutes moved against the old schedule) against the rest of the objective.

use serde::{Deserialize, Serialize};

use std::collections::{HashMap, HashSet};

use super::construct::{DecodeError, Genome, Model, Score, decode, placements};
use super::improve::{PlantSolveError, PlantSolveOptions, improve};
use super::problem::*;
use crate::termination::Termination;

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Disruption {
    /// A unit is down over `[start, end)`.
    Downtime { unit: String, start: i64, end: i64 },
    /// A new order with its operations, to fit in.
    RushOrder {
        order: OrderSpec,
        operations: Vec<OperationSpec>,
    },
}

/// The repaired schedule and what moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairOutcome {
    /// The problem as repaired (disruptions applied, started operations frozen).
    pub problem: PlantProblem,
    pub schedule: PlantSchedule,
    pub score: Score,
    /// Operations whose unit or start changed.
    pub moved: Vec<String>,
    pub iterations: u64,
    /// Maximum waits that cannot be kept any more because the predecessor already ran (or
    /// runs) and the disruption holds its successor: dropped from `problem` so a schedule
    /// exists, and named here with the wait the schedule gives — a batch that will wait too
    /// long needs a person's decision, not a refusal to reschedule.
    pub breached_max_lags: Vec<BreachedMaxLag>,
}

/// A maximum wait after a frozen operation that the repaired schedule exceeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BreachedMaxLag {
    /// The frozen predecessor.
    pub predecessor: String,
    pub op: String,
    pub max_lag: i64,
    /// Minutes between the predecessor's end and the operation's start in the schedule.
    pub wait: i64,
}

/// Applies the disruptions to `problem`, freezes what started before `now` in `current` and
/// finds a schedule close to `current`.
pub fn repair(
    problem: &PlantProblem,
    current: &PlantSchedule,
    disruptions: &[Disruption],
    now: i64,
    options: &PlantSolveOptions,
    termination: &mut dyn Termination,
) -> Result<RepairOutcome, PlantSolveError> {
    let mut p = problem.clone();
    for d in disruptions {
        match d {
            Disruption::Downtime { unit, start, end } => {
                let u = p.units.iter_mut().find(|u| u.id == *unit).ok_or_else(|| {
                    ProblemError::Invalid {
                        id: unit.clone(),
                        field: "unit".into(),
                        message: "no such unit".into(),
                    }
                })?;
                u.downtime.push(Interval {
                    start: *start,
                    end: *end,
                });
            }
            Disruption::RushOrder { order, operations } => {
                p.orders.push(order.clone());
                p.operations.extend(operations.iter().cloned());
            }
        }
    }
    let placed: HashMap<&str, &Assignment> = current
        .assignments
        .iter()
        .map(|a| (a.op.as_str(), a))
        .collect();
    for op in &mut p.operations {
        if op.fixed.is_some() {
            continue;
        }
        if let Some(a) = placed.get(op.id.as_str()) {
            if a.start < now {
                op.fixed = Some(Fixed {
                    unit: a.unit.clone(),
                    start: a.start,
                    in_progress: a.end > now,
                });
            } else {
                op.release = Some(op.release.unwrap_or(now).max(now));
            }
        } else {
            op.release = Some(op.release.unwrap_or(now).max(now));
        }
    }
    p.reference = current.assignments.clone();
    let mut weights = options.objective.unwrap_or_else(|| p.weights());
    weights.stability = weights.stability.max(1.0);
    p.objective = Some(weights);
    p.validate()?;
    // When the held schedule cannot keep a maximum wait, the group at fault may first choose
    // its units again; a maximum wait behind a frozen operation that still cannot be kept is
    // dropped and reported; only then is the schedule rebuilt around the frozen part.
    let mut dropped: Vec<(String, String, i64)> = Vec::new();
    let mut unit_free: HashSet<String> = HashSet::new();
    let (model, genome, decoded) = loop {
        let model = Model::compile(&p);
        let mut genome = held_genome(&model, &p, current);
        for (i, id) in model.op_ids.iter().enumerate() {
            if unit_free.contains(id) {
                genome.unit_pref[i] = None;
            }
        }
        match decode(&model, &genome) {
            Ok(d) => break (model, genome, d),
            Err(DecodeError::MaxLag { op }) => {
                let group: Vec<String> = model
                    .op_ids
                    .iter()
                    .position(|x| *x == op)
                    .map(|i| {
                        model.groups[model.ops[i].group]
                            .iter()
                            .map(|&k| model.op_ids[k].clone())
                            .collect()
                    })
                    .unwrap_or_default();
                if group.iter().any(|id| !unit_free.contains(id)) {
                    unit_free.extend(group);
                    continue;
                }
                if drop_lags_behind_frozen(&mut p, &op, &mut dropped) {
                    continue;
                }
            }
            Err(DecodeError::MaterialStuck { .. }) => {}
        }
        match super::improve::first_feasible(&p, Some(weights)) {
            Ok((_, fresh, d)) => break (model, fresh, d),
            Err(PlantSolveError::Decode(DecodeError::MaxLag { op }))
                if drop_lags_behind_frozen(&mut p, &op, &mut dropped) => {}
            Err(e) => return Err(e),
        }
    };
    let (_, best, iterations) = improve(&model, genome, decoded, options, termination, &mut |_| {});
    let schedule = best.to_schedule(&model);
    let moved = schedule
        .assignments
        .iter()
        .filter(|a| {
            placed
                .get(a.op.as_str())
                .is_none_or(|b| b.start != a.start || b.unit != a.unit)
        })
        .map(|a| a.op.clone())
        .collect();
    let at = |id: &str| schedule.assignments.iter().find(|a| a.op == id);
    let breached_max_lags = dropped
        .into_iter()
        .filter_map(|(predecessor, op, max_lag)| {
            let wait = at(&op)?.start - at(&predecessor)?.end;
            Some(BreachedMaxLag {
                predecessor,
                op,
                max_lag,
                wait,
            })
        })
        .filter(|b| b.wait > b.max_lag)
        .collect();
    Ok(RepairOutcome {
        problem: p,
        schedule,
        score: best.score,
        moved,
        iterations,
        breached_max_lags,
    })
}

/// The old order of groups (new groups first) on the old units, held at the old starts.
fn held_genome(model: &Model, p: &PlantProblem, current: &PlantSchedule) -> Genome {
    let (starts, unit_pref) = placements(p, current);
    let hold: Vec<i64> = starts.iter().map(|s| s.unwrap_or(i64::MIN)).collect();
    // Groups that must follow a frozen operation within a maximum wait have a window that
    // is already fixed in time: they go first, before the operations the disruption pushes
    // take their old slots.
    let behind_frozen = |i: usize| {
        model.ops[i]
            .preds
            .iter()
            .any(|&(pred, _, max)| max.is_some() && model.ops[pred].fixed.is_some())
    };
    let key: Vec<(bool, i64)> = model
        .groups
        .iter()
        .map(|members| {
            (
                !members.iter().any(|&i| behind_frozen(i)),
                members.iter().map(|&i| hold[i]).min().unwrap_or(i64::MIN),
            )
        })
        .collect();
    let mut order: Vec<usize> = (0..model.groups.len()).collect();
    order.sort_by_key(|&g| (key[g], g));
    Genome {
        order,
        unit_pref,
        hold: Some(hold),
    }
}

/// Drops the maximum lags of `op` behind frozen predecessors; false when it has none (the
/// failure has another cause and is reported as it is).
fn drop_lags_behind_frozen(
    p: &mut PlantProblem,
    op: &str,
    dropped: &mut Vec<(String, String, i64)>,
) -> bool {
    let frozen: HashSet<String> = p
        .operations
        .iter()
        .filter(|o| o.fixed.is_some())
        .map(|o| o.id.clone())
        .collect();
    let Some(spec) = p.operations.iter_mut().find(|o| o.id == op) else {
        return false;
    };
    let mut any = false;
    for lag in &mut spec.predecessors {
        if let Some(max) = lag.max_lag
            && frozen.contains(&lag.op)
        {
            lag.max_lag = None;
            dropped.push((lag.op.clone(), op.to_owned(), max));
            any = true;
        }
    }
    any
}
