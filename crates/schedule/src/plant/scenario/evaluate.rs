//! Judging a schedule under a scenario (KPIs and Monte Carlo lateness risk against the
//! original due dates), searching one scenario from where its search starts (the plan and a
//! fresh construction side by side), and ranking the evaluated scenarios by weighted KPIs.

use std::collections::BTreeMap;

use super::super::bound::{Optimality, plan_optimality};
use super::super::checker::check;
use super::super::construct::{Genome, construct, decode};
use super::super::improve::{
    PlantSolveError, PlantSolveOptions, improve_from, solve_plant, validated_model,
};
use super::super::problem::{Objective, PlantProblem, PlantSchedule};
use super::super::risk::{OrderRisk, lateness_risk};
use super::changes::{apply_changes, describe, overtime_used, problem_with};
use super::{
    RankScores, RankingWeights, ScenarioChanges, ScenarioError, ScenarioKind, ScenarioKpis,
    ScenarioOptions, ScenarioResult,
};
use crate::termination::Termination;

/// How the Monte Carlo lateness risk is drawn ([`lateness_risk`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RiskOptions {
    pub runs: usize,
    pub duration_spread: f64,
    pub seed: u64,
}

/// A schedule judged under a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub kpis: ScenarioKpis,
    /// Orders with a due date, most at risk first.
    pub order_risk: Vec<OrderRisk>,
}

/// The KPIs and per-order lateness risk of `schedule` under `changes` (the scenario's
/// problem, [`problem_with`]), against the original due dates: the figures
/// [`run_scenarios`] ranks by, for a schedule from anywhere (a plan in force, a scenario
/// brought back to be committed). The caller checks feasibility first.
pub fn assess(
    original: &PlantProblem,
    changes: &ScenarioChanges,
    schedule: &PlantSchedule,
    risk: &RiskOptions,
) -> Result<Assessment, ScenarioError> {
    let judge_problem = problem_with(original, changes);
    let report = check(&judge_problem, schedule);
    let mut order_risk = lateness_risk(
        &judge_problem,
        schedule,
        risk.runs,
        risk.duration_spread,
        risk.seed,
    )?;
    let weight: BTreeMap<&str, f64> = original
        .orders
        .iter()
        .map(|o| (o.id.as_str(), o.weight))
        .collect();
    let weight_of = |order: &str| weight.get(order).copied().unwrap_or(1.0);
    let total_weight: f64 = order_risk.iter().map(|r| weight_of(&r.order)).sum();
    let on_time_risk = if total_weight > 0.0 {
        order_risk
            .iter()
            .map(|r| weight_of(&r.order) * r.probability_late)
            .sum::<f64>()
            / total_weight
    } else {
        0.0
    };
    let expected_late_orders = order_risk.iter().map(|r| r.probability_late).sum();
    order_risk.sort_by(|a, b| {
        b.probability_late
            .total_cmp(&a.probability_late)
            .then_with(|| a.order.cmp(&b.order))
    });
    let k = &report.kpis;
    let days = k.makespan.max(1) as f64 / 1440.0;
    Ok(Assessment {
        kpis: ScenarioKpis {
            makespan_minutes: k.makespan,
            throughput_orders_per_day: original.orders.len() as f64 / days,
            changeover_minutes: k.changeover_minutes,
            changeover_cost: k.changeover_cost,
            late_orders: k.late_orders,
            weighted_tardiness: k.weighted_tardiness,
            utilization_percent: k.utilization_percent,
            expected_late_orders,
            on_time_risk,
            overtime_minutes: overtime_used(changes, schedule),
        },
        order_risk,
    })
}

/// Where a scenario's search starts.
#[derive(Clone, Copy)]
pub(super) enum Start<'s> {
    /// This very schedule, unchanged (the plan in force as `as_planned`).
    Keep(&'s PlantSchedule),
    /// Search from this schedule and, beside it, from a fresh construction under the
    /// scenario's own objective (two starting points, one search thread each at least).
    From(&'s PlantSchedule),
    /// Construct and improve from scratch.
    Fresh,
}

/// A scenario as it is searched: its kind, the objective it searches under and its changes
/// to the problem.
pub(super) struct Setup {
    pub(super) kind: ScenarioKind,
    pub(super) objective: Objective,
    pub(super) changes: ScenarioChanges,
}

/// One scenario solved and judged, before ranking.
pub(super) struct Evaluated {
    pub(super) kind: ScenarioKind,
    pub(super) description: String,
    pub(super) objective: Objective,
    pub(super) changes: ScenarioChanges,
    pub(super) kpis: ScenarioKpis,
    pub(super) order_risk: Vec<OrderRisk>,
    pub(super) schedule: PlantSchedule,
    pub(super) iterations: u64,
    pub(super) kept_plan: bool,
    pub(super) optimality: Optimality,
}

/// What a scenario's search ended with: the distinct best schedules of its search threads
/// (feasible for the scenario's problem), by thread.
pub(super) struct Searched {
    pub(super) candidates: Vec<PlantSchedule>,
    pub(super) iterations: u64,
}

/// Searches one scenario from `start` under `objective` and its `changes`.
pub(super) fn search(
    original: &PlantProblem,
    setup: &Setup,
    options: &ScenarioOptions,
    start: Start<'_>,
    termination: &mut dyn Termination,
) -> Result<Searched, ScenarioError> {
    let Setup {
        kind,
        objective,
        ref changes,
    } = *setup;
    let solve_options = PlantSolveOptions {
        // Each scenario searches from its own seed; the risk runs share one.
        seed: options.seed ^ (kind as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D),
        threads: options.threads,
        max_iterations: options.max_iterations,
        objective: Some(objective),
    };
    let solve_problem = apply_changes(original, changes, true);
    match start {
        Start::Keep(schedule) => Ok(Searched {
            candidates: vec![schedule.clone()],
            iterations: 0,
        }),
        Start::Fresh => {
            let solution = solve_plant(&solve_problem, &solve_options, termination, &mut |_| {})?;
            Ok(Searched {
                candidates: vec![solution.schedule],
                iterations: solution.iterations,
            })
        }
        Start::From(schedule) => {
            // The fresh construction is a heuristic: where it finds no schedule (a group
            // tied by maximum lags it cannot place, say) the plan, which passed the checker,
            // is still a start, so the what-if is searched from it alone rather than lost.
            let model = validated_model(&solve_problem, Some(objective))?;
            let fresh = construct(&model);
            let mut starts = Vec::new();
            // The plan replays under every what-if (they add availability or change weights
            // and due dates only); should it not, the fresh start alone is searched.
            let replayed = Genome::from_schedule(&model, &solve_problem, schedule);
            if let Ok(d) = decode(&model, &replayed) {
                starts.push((replayed, d));
            }
            match fresh {
                Ok(start) => starts.push(start),
                Err(error) if starts.is_empty() => {
                    return Err(PlantSolveError::Decode(error).into());
                }
                Err(_) => {}
            }
            let results = improve_from(&model, starts, &solve_options, termination, &mut |_| {});
            let mut candidates: Vec<PlantSchedule> = Vec::new();
            for (_, d, _) in &results {
                let s = d.to_schedule(&model);
                if !candidates.contains(&s) {
                    candidates.push(s);
                }
            }
            Ok(Searched {
                candidates,
                iterations: results.iter().map(|r| r.2).sum(),
            })
        }
    }
}

/// A scenario's chosen schedule judged (KPIs and risk against the original due dates).
pub(super) fn judge(
    original: &PlantProblem,
    setup: Setup,
    options: &ScenarioOptions,
    schedule: PlantSchedule,
    iterations: u64,
    plan: Option<&PlantSchedule>,
) -> Result<Evaluated, ScenarioError> {
    let Setup {
        kind,
        objective,
        changes,
    } = setup;
    debug_assert!(
        check(&problem_with(original, &changes), &schedule).feasible,
        "{kind}"
    );
    // The bound of the problem the scenario was searched on, under its own objective.
    let mut searched = apply_changes(original, &changes, true);
    searched.objective = Some(objective);
    let optimality = plan_optimality(&searched, &schedule)?;
    let Assessment { kpis, order_risk } = assess(
        original,
        &changes,
        &schedule,
        &RiskOptions {
            runs: options.risk_runs,
            duration_spread: options.duration_spread,
            seed: options.seed,
        },
    )?;
    Ok(Evaluated {
        kind,
        description: describe(kind, &changes, options),
        objective,
        changes,
        kpis,
        order_risk,
        kept_plan: plan.is_some_and(|p| *p == schedule),
        schedule,
        iterations,
        optimality,
    })
}

pub(super) fn rank(evaluated: Vec<Evaluated>, weights: RankingWeights) -> Vec<ScenarioResult> {
    let best_throughput = evaluated
        .iter()
        .map(|e| e.kpis.throughput_orders_per_day)
        .fold(0.0, f64::max);
    let use_cost = evaluated.iter().any(|e| e.kpis.changeover_cost > 0.0);
    let cost = |e: &Evaluated| {
        if use_cost {
            e.kpis.changeover_cost
        } else {
            e.kpis.changeover_minutes as f64
        }
    };
    let best_cost = evaluated.iter().map(cost).fold(f64::INFINITY, f64::min);
    let sum = weights.throughput + weights.changeover_cost + weights.on_time;
    let mut results: Vec<ScenarioResult> = evaluated
        .into_iter()
        .map(|e| {
            let throughput = if best_throughput > 0.0 {
                e.kpis.throughput_orders_per_day / best_throughput
            } else {
                1.0
            };
            let c = cost(&e);
            let changeover_cost = if c > 0.0 { best_cost / c } else { 1.0 };
            let on_time = 1.0 - e.kpis.on_time_risk;
            let total = (weights.throughput * throughput
                + weights.changeover_cost * changeover_cost
                + weights.on_time * on_time)
                / sum;
            ScenarioResult {
                scenario: e.kind,
                rank: 0,
                description: e.description,
                objective: e.objective,
                changes: e.changes,
                kpis: e.kpis,
                scores: RankScores {
                    throughput,
                    changeover_cost,
                    on_time,
                    total,
                },
                order_risk: e.order_risk,
                schedule: e.schedule,
                iterations: e.iterations,
                kept_plan: e.kept_plan,
                optimality: e.optimality,
            }
        })
        .collect();
    // Stable: equal totals keep the asked-for order.
    results.sort_by(|a, b| b.scores.total.total_cmp(&a.scores.total));
    for (i, r) in results.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    results
}
