//! Planning for the simulator: the plant's order book solved by the mixed-mode engine and
//! turned into the [`sim::Plan`] the simulator runs, and the planner's view of a plan (its
//! bottlenecks and the ranked what-ifs from it).
//!
//! An edge prints what these answer; progress is reported through a callback so that the
//! edge decides how to show it.

use std::time::Instant;

use model::OperationRef;
use schedule::plant::checker::Kpis;
use schedule::plant::construct::Score;
use schedule::plant::explain::Explanation;
use schedule::plant::from_model::{FromModelOptions, problem_from_model};
use schedule::plant::scenario::{ScenarioKind, ScenarioOptions, ScenarioReport, run_scenarios};
use schedule::plant::{PlantProblem, PlantSchedule, PlantSolveOptions, check, solve_plant};
use schedule::{Termination, TimeLimit};

use crate::AppError;

/// A plan the engine made for the simulator, with what it was made from.
#[derive(Debug, Clone)]
pub struct EnginePlan {
    /// What the simulator runs: each unit's operations in start order.
    pub plan: sim::Plan,
    /// The scheduling problem of the plant's order book.
    pub problem: PlantProblem,
    /// The engine's schedule of it (checked).
    pub schedule: PlantSchedule,
    /// The checker's KPIs of the schedule.
    pub kpis: Kpis,
    /// Score of the first feasible schedule, before improvement.
    pub initial_score: Score,
    /// Improving iterations, summed over threads.
    pub iterations: u64,
}

/// The plant's order book at `options.start` over `options.days`, solved by the mixed-mode
/// engine (first feasible, then improvement for `seconds` in all), checked, and turned into
/// a [`sim::Plan`]. `progress` hears the fraction of the time spent and the best objective.
pub fn engine_plan(
    catalog: &model::Catalog,
    options: &sim::SimOptions,
    seconds: f64,
    progress: &mut dyn FnMut(f64, f64),
) -> Result<EnginePlan, AppError> {
    let started = Instant::now();
    let state = model::PlantState::initial(catalog, options.start);
    let horizon = (options.days * 1440.0).ceil() as i64;
    let problem = problem_from_model(
        catalog,
        &state,
        &FromModelOptions::new(options.start, horizon),
    )
    .map_err(|e| AppError::Invalid(format!("mapping the plant to a scheduling problem: {e}")))?;
    let mut term = TimeLimit {
        clock: move || started.elapsed().as_secs_f64(),
        limit_seconds: seconds,
    };
    let solve_options = PlantSolveOptions {
        seed: options.seed,
        threads: 2,
        max_iterations: None,
        objective: None,
    };
    let solution = solve_plant(&problem, &solve_options, &mut term, &mut |p| {
        let f = (started.elapsed().as_secs_f64() / seconds.max(1e-9)).min(1.0);
        progress(f, p.best.total);
    })
    .map_err(AppError::impossible)?;
    let report = check(&problem, &solution.schedule);
    if !report.feasible {
        return Err(AppError::Internal(format!(
            "the engine's schedule failed the checker: {:?}",
            report.violations
        )));
    }
    Ok(EnginePlan {
        plan: sim_plan(problem.horizon_start, &solution.schedule),
        kpis: report.kpis,
        initial_score: solution.initial_score,
        iterations: solution.iterations,
        schedule: solution.schedule,
        problem,
    })
}

/// The simulator's plan of a schedule whose minute 0 is `horizon_start`: each unit's
/// operations (those whose id is an operation reference `<order>/<step>`) with their planned
/// start, in start order.
pub fn sim_plan(horizon_start: model::Timestamp, schedule: &PlantSchedule) -> sim::Plan {
    let mut plan = sim::Plan::default();
    for a in &schedule.assignments {
        let Ok(operation) = a.op.parse::<OperationRef>() else {
            continue;
        };
        plan.units
            .entry(model::UnitId::from(a.unit.as_str()))
            .or_default()
            .push(sim::PlannedOperation {
                order: operation.order,
                step: operation.step,
                start: horizon_start.plus_minutes(a.start as f64),
            });
    }
    for ops in plan.units.values_mut() {
        ops.sort_by_key(|o| o.start);
    }
    plan
}

/// Each scenario's own wall-clock limit of `seconds`, counted from when it starts.
pub fn time_slices(seconds: f64) -> impl FnMut(ScenarioKind) -> Box<dyn Termination> {
    move |_| {
        let begun = Instant::now();
        Box::new(TimeLimit {
            clock: move || begun.elapsed().as_secs_f64(),
            limit_seconds: seconds,
        })
    }
}

/// A planner's view of a plan: what holds it back, and the what-ifs from it, ranked.
#[derive(Debug, Clone)]
pub struct PlannerView {
    pub explanation: Explanation,
    pub scenarios: ScenarioReport,
}

/// The bottlenecks of `schedule` and the default what-ifs from it (each searching for
/// `seconds_each`, 100 risk runs).
pub fn planner_view(
    problem: &PlantProblem,
    schedule: &PlantSchedule,
    seed: u64,
    seconds_each: f64,
) -> Result<PlannerView, AppError> {
    let explanation = schedule::plant::explain(problem, schedule).map_err(AppError::impossible)?;
    let options = ScenarioOptions {
        seed,
        threads: 2,
        max_iterations: None,
        risk_runs: 100,
        ..Default::default()
    };
    let mut slice = time_slices(seconds_each);
    let scenarios = run_scenarios(
        problem,
        Some(schedule),
        &options,
        &mut slice,
        &mut |_, _| {},
    )
    .map_err(|e| AppError::Impossible(e.to_string()))?;
    Ok(PlannerView {
        explanation,
        scenarios,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simulator_plan_keeps_operation_references_in_start_order() {
        let start = model::Timestamp::parse("2026-01-05T06:00:00Z").unwrap();
        let schedule: PlantSchedule = serde_json::from_value(serde_json::json!({
            "assignments": [
                {"op": "A/1/1", "unit": "U1", "start": 20, "end": 30},
                {"op": "cip", "unit": "U1", "start": 10, "end": 15},
                {"op": "A/1/0", "unit": "U1", "start": 0, "end": 10}
            ]
        }))
        .unwrap();
        let plan = sim_plan(start, &schedule);
        let ops = &plan.units[&model::UnitId::from("U1")];
        let steps: Vec<(String, u32)> = ops.iter().map(|o| (o.order.to_string(), o.step)).collect();
        assert_eq!(steps, [("A/1".to_owned(), 0), ("A/1".to_owned(), 1)]);
        assert_eq!(ops[1].start, start.plus_minutes(20.0));
    }
}
