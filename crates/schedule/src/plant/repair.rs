//! Repair: a new schedule after a disruption that keeps everything not affected in place.
//!
//! Operations that started before `now` are frozen where they are; the rest keep their unit
//! and may not start earlier than before (they are held at their old start), and are decoded
//! in their old order, so an operation moves only if the disruption (a downtime window, a
//! rush order placed first) pushes it. A short improvement run then trades the stability
//! term (minutes moved against the old schedule) against the rest of the objective.

use serde::{Deserialize, Serialize};

use super::construct::{Genome, Model, Score, decode};
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
    let placed: std::collections::HashMap<&str, &Assignment> = current
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
    let model = Model::compile(&p);
    let n = model.n_ops();
    // Old order of groups (new groups first), old units, held at old starts.
    let mut hold = vec![i64::MIN; n];
    let mut pref = vec![None; n];
    let mut key = vec![i64::MIN; model.groups.len()];
    for (i, id) in model.op_ids.iter().enumerate() {
        if let Some(a) = placed.get(id.as_str()) {
            hold[i] = a.start;
            pref[i] = p.operations[i]
                .alternatives
                .iter()
                .position(|x| x.unit == a.unit)
                .map(|x| x as u16);
        }
    }
    for (g, members) in model.groups.iter().enumerate() {
        let h = members.iter().map(|&i| hold[i]).min().unwrap_or(i64::MIN);
        key[g] = h;
    }
    let mut order: Vec<usize> = (0..model.groups.len()).collect();
    order.sort_by_key(|&g| (key[g], g));
    let genome = Genome {
        order,
        unit_pref: pref,
        hold: Some(hold),
    };
    let decoded = match decode(&model, &genome) {
        Ok(d) => d,
        Err(_) => {
            // Held starts cannot be kept: rebuild from scratch around the frozen part.
            let (_, _, d) = super::improve::first_feasible(&p, Some(weights))?;
            d
        }
    };
    let genome_used = genome;
    let (_, best, iterations) = improve(
        &model,
        genome_used,
        decoded,
        options,
        termination,
        &mut |_| {},
    );
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
    Ok(RepairOutcome {
        problem: p,
        schedule,
        score: best.score,
        moved,
        iterations,
    })
}
