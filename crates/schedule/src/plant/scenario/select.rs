//! Choosing a what-if's answer among the schedules its search ended with: the best by the
//! scenario's own KPI first (makespan, weighted tardiness, changeovers; the weighted
//! objective for overtime and deferral), then by its weighted objective; only a schedule
//! strictly better than the plan on that KPI is an alternative, and only one whose KPIs
//! differ from the plan's and from every alternative already chosen (the same KPIs offer the
//! planner the same trade-off); an overtime answer must use the overtime. When none
//! qualifies the reason says so, plainly, and says that none exists when the plan is at the
//! lower bound of the KPI (`bound`).

use super::super::bound::lower_bound;
use super::super::checker::{Kpis, check};
use super::super::construct::Model;
use super::super::problem::{Objective, PlantProblem, PlantSchedule};
use super::ScenarioKind;
use super::changes::{apply_changes, overtime_used, problem_with};
use super::evaluate::Setup;

/// The KPIs that tell two answers apart (judged against the original due dates): equal
/// signatures offer the planner the same trade-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Signature {
    makespan: i64,
    changeover_minutes: i64,
    changeover_cost_milli: i64,
    late_orders: usize,
    weighted_tardiness_milli: i64,
    overtime_minutes: i64,
}

/// The signature of `schedule` under a scenario's `changes`.
pub(super) fn signature(
    original: &PlantProblem,
    setup: &Setup,
    schedule: &PlantSchedule,
) -> Signature {
    let k = check(&problem_with(original, &setup.changes), schedule).kpis;
    Signature {
        makespan: k.makespan,
        changeover_minutes: k.changeover_minutes,
        changeover_cost_milli: (k.changeover_cost * 1000.0).round() as i64,
        late_orders: k.late_orders,
        weighted_tardiness_milli: (k.weighted_tardiness * 1000.0).round() as i64,
        overtime_minutes: overtime_used(&setup.changes, schedule),
    }
}

/// Lower is better, compared term by term: the scenario's own KPI, then its weighted
/// objective (under its own weights, deferred due dates and overtime).
fn key(kind: ScenarioKind, weights: &Objective, k: &Kpis) -> [f64; 2] {
    match kind {
        ScenarioKind::MaximizeThroughput => [k.makespan as f64, k.objective],
        ScenarioKind::MinimizeTardiness => [k.weighted_tardiness, k.objective],
        ScenarioKind::MinimizeChangeovers => [
            weights.changeover_minutes * k.changeover_minutes as f64
                + weights.changeover_cost * k.changeover_cost,
            k.objective,
        ],
        ScenarioKind::AsPlanned
        | ScenarioKind::OvertimeOnBottleneck
        | ScenarioKind::DeferLowPriority => [k.objective, 0.0],
    }
}

fn lexicographic(a: &[f64; 2], b: &[f64; 2]) -> std::cmp::Ordering {
    a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1]))
}

/// Strictly lower, beyond rounding.
fn below(a: f64, b: f64) -> bool {
    a < b - 1e-9 * b.abs().max(1.0)
}

/// The index of the candidate that is the scenario's alternative to `reference` (the plan),
/// or why there is none. `taken` holds the signatures of the plan and of the alternatives
/// chosen before, by scenario.
pub(super) fn choose(
    original: &PlantProblem,
    setup: &Setup,
    candidates: &[PlantSchedule],
    reference: &PlantSchedule,
    taken: &[(ScenarioKind, Signature)],
) -> Result<usize, String> {
    let mut own = apply_changes(original, &setup.changes, true);
    own.objective = Some(setup.objective);
    let key_of = |s: &PlantSchedule| key(setup.kind, &setup.objective, &check(&own, s).kpis);
    let plan_kpis = check(&own, reference).kpis;
    let plan_key = key(setup.kind, &setup.objective, &plan_kpis);
    let mut order: Vec<(usize, [f64; 2])> = candidates
        .iter()
        .enumerate()
        .map(|(i, s)| (i, key_of(s)))
        .collect();
    order.sort_by(|a, b| lexicographic(&a.1, &b.1));
    let mut same_as = None;
    for (i, k) in order {
        if !below(k[0], plan_key[0]) {
            break;
        }
        let sig = signature(original, setup, &candidates[i]);
        // Overtime that goes unused is no overtime alternative (only a better plan).
        if setup.kind == ScenarioKind::OvertimeOnBottleneck && sig.overtime_minutes == 0 {
            continue;
        }
        match taken.iter().find(|(_, t)| *t == sig) {
            Some((other, _)) => same_as = same_as.or(Some(*other)),
            None => return Ok(i),
        }
    }
    Err(match same_as {
        Some(other) => format!(
            "its best alternative has the same KPIs as {other}: no different trade-off was found within the budget"
        ),
        None => {
            // The plan at the lower bound of the what-if's own KPI: no search could do better
            // (a KPI already at zero has its own reason).
            let bound = lower_bound(&Model::compile(&own));
            let at_bound = match setup.kind {
                ScenarioKind::MaximizeThroughput => plan_kpis.makespan <= bound.makespan,
                ScenarioKind::MinimizeTardiness => {
                    plan_kpis.weighted_tardiness > 0.0
                        && plan_kpis.weighted_tardiness <= bound.weighted_tardiness + 1e-9
                }
                ScenarioKind::MinimizeChangeovers => {
                    (plan_kpis.changeover_minutes > 0 || plan_kpis.changeover_cost > 0.0)
                        && plan_kpis.changeover_minutes <= bound.changeover_minutes
                        && plan_kpis.changeover_cost <= bound.changeover_cost + 1e-9
                }
                _ => false,
            };
            let reason = no_trade(setup, &plan_kpis);
            if at_bound {
                format!("{reason}; none exists: the plan is at the lower bound of this KPI")
            } else {
                reason
            }
        }
    })
}

/// Why a what-if found nothing better than the plan on its own KPI.
fn no_trade(setup: &Setup, plan: &Kpis) -> String {
    let within = "was found within the budget";
    match setup.kind {
        ScenarioKind::MaximizeThroughput => format!(
            "no alternative trading changeovers or lateness for a makespan shorter than the plan's {} min {within}",
            plan.makespan
        ),
        ScenarioKind::MinimizeTardiness if plan.weighted_tardiness <= 0.0 => {
            "the plan has every order on time: there is no lateness to trade for".into()
        }
        ScenarioKind::MinimizeTardiness => format!(
            "no alternative trading makespan or changeovers for less weighted tardiness than the plan's {:.0} {within}",
            plan.weighted_tardiness
        ),
        ScenarioKind::MinimizeChangeovers
            if plan.changeover_minutes == 0 && plan.changeover_cost <= 0.0 =>
        {
            "the plan has no changeover or CIP to save".into()
        }
        ScenarioKind::MinimizeChangeovers => format!(
            "no alternative trading makespan or lateness for less changeover than the plan's {} min (cost {:.0}) {within}",
            plan.changeover_minutes, plan.changeover_cost
        ),
        ScenarioKind::OvertimeOnBottleneck => {
            let on: Vec<&str> = setup
                .changes
                .overtime
                .iter()
                .map(|o| o.id.as_str())
                .collect();
            format!(
                "no schedule that uses the overtime on {} and is better than the plan by its objective {within}",
                on.join(", ")
            )
        }
        ScenarioKind::DeferLowPriority => format!(
            "deferring the {} lowest-priority order(s) frees nothing the other orders can use: no schedule better than the plan by its objective {within}",
            setup.changes.deferred.len()
        ),
        ScenarioKind::AsPlanned => "as_planned is the plan".into(),
    }
}
