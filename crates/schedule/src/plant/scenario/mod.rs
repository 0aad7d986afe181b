//! What-if scenarios: a handful of schedules under different weightings and assumptions,
//! each with its KPIs and Monte Carlo on-time risk, ranked by weighted KPIs.
//!
//! The first scenario is always `as_planned` (the problem's own objective); the others are
//! chosen from [`ScenarioKind`]:
//! - `maximize_throughput`, `minimize_tardiness`, `minimize_changeovers`: the same plant
//!   under another objective preset;
//! - `overtime_on_bottleneck`: the worst bottleneck *that works to a calendar* in the
//!   as-planned schedule (overtime is meaningless on a unit that is always available) gets
//!   `overtime_minutes` added after each of its shifts, as do the pools with calendars that
//!   its operations need (the crew stays too);
//! - `defer_low_priority`: the orders of the lowest weight, when weights differ, get their
//!   due date moved `defer_minutes` later for the optimiser, so the capacity goes to the
//!   others first.
//!
//! Every scenario is judged against the *original* due dates: a deferred order that ends
//! after its original due date still counts as late, and the ranking weighs lateness by order
//! weight, so deferral pays only when it protects heavier orders. Risk runs use the same
//! seed in every scenario (common random numbers), so differences come from the schedules,
//! not from the dice. A scenario that does not apply (no calendar-bound unit, all weights
//! equal) is reported in [`ScenarioReport::skipped`] with the reason.
//!
//! Every what-if is a genuine alternative or is not listed: it searches from the plan (the
//! schedule in force, else `as_planned`'s) and from a fresh construction under its own
//! objective, side by side, and answers with the best schedule by its own KPI first
//! (makespan, weighted tardiness, changeovers; the weighted objective for overtime and
//! deferral) that is strictly better than the plan on that KPI and whose KPIs differ from the
//! plan's and from every answer chosen before it. One that finds none is reported in
//! [`ScenarioReport::none_found`] with the reason ("no alternative trading … for … was found
//! within the budget"), so the list may be shorter than asked, never padded with the plan.
//!
//! Ranking: each KPI is scored in `[0, 1]` against the best scenario — throughput as
//! `value / best`, changeover cost as `best / value` (changeover minutes when no scenario has
//! any cost), on-time as `1 − weighted probability of being late` — and the scores are
//! combined with [`RankingWeights`]. Ties keep the order in which scenarios were asked for.
//!
//! Pure like the rest of the crate: the caller supplies a [`Termination`] per scenario.
//!
//! The options, results and errors live here with [`run_scenarios`]; `changes` builds and
//! checks a scenario's overtime and deferrals, `evaluate` searches and judges one scenario
//! and ranks them all, `select` chooses a what-if's answer among what its search found.

mod changes;
mod evaluate;
mod select;
#[cfg(test)]
mod tests;

pub use changes::{check_changes, problem_with};
pub use evaluate::{Assessment, RiskOptions, assess};

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::bound::Optimality;
use super::checker::check;
use super::explain::{UnitLoad, explain};
use super::improve::PlantSolveError;
use super::problem::{Interval, Objective, PlantProblem, PlantSchedule, Preset, ProblemError};
use super::risk::OrderRisk;
use crate::termination::Termination;
use changes::{deferrals, overtime_changes};
use evaluate::{Setup, Start, judge, rank, search};
use select::{choose, signature};

/// A what-if the caller can ask for (`as_planned` is always run first).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioKind {
    AsPlanned,
    MaximizeThroughput,
    MinimizeTardiness,
    MinimizeChangeovers,
    OvertimeOnBottleneck,
    DeferLowPriority,
}

impl ScenarioKind {
    /// The scenarios run when the caller names none (five with `as_planned`).
    pub const DEFAULT: [ScenarioKind; 4] = [
        ScenarioKind::MaximizeThroughput,
        ScenarioKind::MinimizeChangeovers,
        ScenarioKind::OvertimeOnBottleneck,
        ScenarioKind::DeferLowPriority,
    ];
}

model::wire_enum!(
    ScenarioKind,
    "scenario",
    [
        AsPlanned,
        MaximizeThroughput,
        MinimizeTardiness,
        MinimizeChangeovers,
        OvertimeOnBottleneck,
        DeferLowPriority,
    ]
);

/// How much each KPI counts in the ranking (relative weights, any non-negative scale).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RankingWeights {
    pub throughput: f64,
    pub changeover_cost: f64,
    pub on_time: f64,
}

impl Default for RankingWeights {
    fn default() -> Self {
        RankingWeights {
            throughput: 1.0,
            changeover_cost: 1.0,
            on_time: 1.0,
        }
    }
}

/// Options of [`run_scenarios`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ScenarioOptions {
    pub seed: u64,
    pub threads: usize,
    /// Improvement iterations per thread and scenario; `None` = until the termination fires.
    pub max_iterations: Option<u64>,
    /// Which what-ifs to run after `as_planned` (2 to 5 of them, no repeats).
    pub scenarios: Vec<ScenarioKind>,
    /// Monte Carlo runs per scenario.
    pub risk_runs: usize,
    /// Log-sigma of the lognormal duration factor in the risk runs.
    pub duration_spread: f64,
    /// Overtime added after each shift of the bottleneck.
    pub overtime_minutes: i64,
    /// How much later deferred orders are due.
    pub defer_minutes: i64,
    pub ranking: RankingWeights,
}

impl Default for ScenarioOptions {
    fn default() -> Self {
        ScenarioOptions {
            seed: 0,
            threads: 1,
            max_iterations: None,
            scenarios: ScenarioKind::DEFAULT.to_vec(),
            risk_runs: 200,
            duration_spread: 0.15,
            overtime_minutes: 120,
            defer_minutes: 1440,
            ranking: RankingWeights::default(),
        }
    }
}

/// Extra availability given to one unit or pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Overtime {
    /// `unit` or `pool`.
    pub kind: String,
    pub id: String,
    pub windows: Vec<Interval>,
}

/// An order whose due date the optimiser was allowed to move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Deferral {
    pub order: String,
    pub weight: f64,
    pub due: i64,
    pub deferred_due: i64,
}

/// What a scenario changed in the problem (empty for pure re-weightings).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioChanges {
    pub overtime: Vec<Overtime>,
    pub deferred: Vec<Deferral>,
}

/// KPIs of one scenario, against the original due dates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioKpis {
    pub makespan_minutes: i64,
    /// Orders per day of makespan.
    pub throughput_orders_per_day: f64,
    pub changeover_minutes: i64,
    pub changeover_cost: f64,
    pub late_orders: usize,
    pub weighted_tardiness: f64,
    pub utilization_percent: f64,
    /// Sum over orders of the probability of being late.
    pub expected_late_orders: f64,
    /// Order-weighted mean probability of being late, in `[0, 1]`.
    pub on_time_risk: f64,
    /// Minutes of work scheduled inside overtime windows.
    pub overtime_minutes: i64,
}

/// The ranking score of a scenario, KPI by KPI, each in `[0, 1]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RankScores {
    pub throughput: f64,
    pub changeover_cost: f64,
    pub on_time: f64,
    /// Weighted mean of the three.
    pub total: f64,
}

/// One evaluated scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioResult {
    pub scenario: ScenarioKind,
    /// 1 = best.
    pub rank: usize,
    pub description: String,
    pub objective: Objective,
    pub changes: ScenarioChanges,
    pub kpis: ScenarioKpis,
    pub scores: RankScores,
    /// Orders with a due date, most at risk first.
    pub order_risk: Vec<OrderRisk>,
    /// Feasible against the scenario's problem (the original plus its changes).
    pub schedule: PlantSchedule,
    pub iterations: u64,
    /// The answer is the plan in force unchanged: only ever `as_planned` given a plan (a
    /// what-if that finds nothing better is in [`ScenarioReport::none_found`] instead).
    pub kept_plan: bool,
    /// How far the schedule may be from the best possible for the scenario's problem and
    /// objective (its lower bound and the gap to it); absent from answers stored before.
    #[serde(default)]
    pub optimality: Optimality,
}

/// A scenario that was asked for but does not apply to this problem, or found no
/// alternative to the plan; `reason` says which.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SkippedScenario {
    pub scenario: ScenarioKind,
    pub reason: String,
}

/// The ranked scenarios.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioReport {
    /// Best first.
    pub scenarios: Vec<ScenarioResult>,
    pub skipped: Vec<SkippedScenario>,
    /// What-ifs that were searched but found no alternative to the plan: nothing better on
    /// their own KPI within the budget, only the same KPIs as the plan or another answer, or
    /// no feasible schedule at all under their changes.
    /// They are not in `scenarios`, which never pads the list with the plan again.
    #[serde(default)]
    pub none_found: Vec<SkippedScenario>,
    /// The unit given overtime: the worst bottleneck of the as-planned schedule (by the
    /// minutes it holds up late orders, then by load; see [`super::explain`]) among the
    /// units that work to a calendar and carry work.
    pub bottleneck: Option<UnitLoad>,
    pub ranking: RankingWeights,
}

impl ScenarioReport {
    /// The problem a scenario's schedule was built for (the original plus its changes).
    pub fn problem_of(&self, original: &PlantProblem, scenario: ScenarioKind) -> PlantProblem {
        match self.scenarios.iter().find(|s| s.scenario == scenario) {
            Some(s) => problem_with(original, &s.changes),
            None => original.clone(),
        }
    }
}

/// Why [`run_scenarios`] refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScenarioError {
    #[error("{0}")]
    Options(String),
    #[error(transparent)]
    Solve(#[from] PlantSolveError),
}

impl From<ProblemError> for ScenarioError {
    fn from(e: ProblemError) -> Self {
        ScenarioError::Solve(PlantSolveError::Problem(e))
    }
}

fn validate_options(options: &ScenarioOptions) -> Result<(), ScenarioError> {
    let bad = |m: String| Err(ScenarioError::Options(m));
    let asked = &options.scenarios;
    if !(2..=5).contains(&asked.len()) {
        return bad(format!(
            "scenarios: ask for 2 to 5 what-ifs besides as_planned, got {}",
            asked.len()
        ));
    }
    let mut seen = BTreeSet::new();
    for k in asked {
        if *k == ScenarioKind::AsPlanned {
            return bad("scenarios: as_planned always runs first; do not list it".into());
        }
        if !seen.insert(*k) {
            return bad(format!("scenarios: `{k}` is listed twice"));
        }
    }
    if options.risk_runs == 0 || options.risk_runs > 10_000 {
        return bad(format!(
            "risk_runs: must be 1 to 10000, got {}",
            options.risk_runs
        ));
    }
    if !(0.0..=2.0).contains(&options.duration_spread) {
        return bad(format!(
            "duration_spread: must be within 0 and 2, got {}",
            options.duration_spread
        ));
    }
    if !(1..=24 * 60).contains(&options.overtime_minutes) {
        return bad(format!(
            "overtime_minutes: must be 1 to 1440, got {}",
            options.overtime_minutes
        ));
    }
    if !(1..=365 * 24 * 60).contains(&options.defer_minutes) {
        return bad(format!(
            "defer_minutes: must be 1 to 525600, got {}",
            options.defer_minutes
        ));
    }
    let w = options.ranking;
    if [w.throughput, w.changeover_cost, w.on_time]
        .iter()
        .any(|x| !x.is_finite() || *x < 0.0)
        || w.throughput + w.changeover_cost + w.on_time <= 0.0
    {
        return bad("ranking: weights must be non-negative and not all zero".into());
    }
    Ok(())
}

/// Runs `as_planned` and the asked-for what-ifs and ranks them. With `plan` (the schedule
/// in force, which must pass the checker) `as_planned` is that plan as it stands; without it
/// `as_planned` is solved. Every what-if searches from that plan and, side by side, from a
/// fresh construction under its own objective, and answers with the best schedule by its own
/// KPI that beats the plan on it and offers KPIs no other answer has; a what-if that finds
/// none is listed in [`ScenarioReport::none_found`] with the reason, not padded in.
/// `termination_for` gives each scenario its own stop condition (a time slice, a
/// cancellation flag); `progress(done, total)` is called after each scenario.
pub fn run_scenarios<'t>(
    problem: &PlantProblem,
    plan: Option<&PlantSchedule>,
    options: &ScenarioOptions,
    termination_for: &mut dyn FnMut(ScenarioKind) -> Box<dyn Termination + 't>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ScenarioReport, ScenarioError> {
    validate_options(options)?;
    problem.validate()?;
    if let Some(plan) = plan {
        let verdict = check(problem, plan);
        if let Some(first) = verdict.violations.first() {
            return Err(ScenarioError::Options(format!(
                "plan: the schedule in force breaks {} constraint(s) of the problem, first {first:?}",
                verdict.violations.len()
            )));
        }
    }
    let total = options.scenarios.len() + 1;
    let planned = |kind, changes| Setup {
        kind,
        objective: problem.weights(),
        changes,
    };
    let base_setup = planned(ScenarioKind::AsPlanned, ScenarioChanges::default());
    let searched = search(
        problem,
        &base_setup,
        options,
        plan.map_or(Start::Fresh, Start::Keep),
        &mut *termination_for(ScenarioKind::AsPlanned),
    )?;
    let reference = searched.candidates[0].clone();
    let mut taken = vec![(
        ScenarioKind::AsPlanned,
        signature(problem, &base_setup, &reference),
    )];
    let base = judge(
        problem,
        base_setup,
        options,
        reference.clone(),
        searched.iterations,
        plan,
    )?;
    progress(1, total);
    let bottleneck = explain(problem, &base.schedule)?
        .units
        .into_iter()
        .find(|l| {
            l.busy_minutes > 0
                && problem
                    .units
                    .iter()
                    .any(|u| u.id == l.unit && u.availability.is_some())
        });
    let mut evaluated = vec![base];
    let mut skipped = Vec::new();
    let mut none_found = Vec::new();
    for (i, &kind) in options.scenarios.iter().enumerate() {
        let preset = |p| Ok((Objective::preset(p), ScenarioChanges::default()));
        let setup: Result<(Objective, ScenarioChanges), String> = match kind {
            ScenarioKind::AsPlanned => unreachable!("validate_options refuses as_planned"),
            ScenarioKind::MaximizeThroughput => preset(Preset::MaximizeThroughput),
            ScenarioKind::MinimizeTardiness => preset(Preset::MinimizeTardiness),
            ScenarioKind::MinimizeChangeovers => preset(Preset::MinimizeChangeovers),
            ScenarioKind::OvertimeOnBottleneck => match &bottleneck {
                None => Err("no unit that works to a calendar carries any work".into()),
                Some(b) => {
                    overtime_changes(problem, &b.unit, options.overtime_minutes).map(|overtime| {
                        let changes = ScenarioChanges {
                            overtime,
                            deferred: Vec::new(),
                        };
                        (problem.weights(), changes)
                    })
                }
            },
            ScenarioKind::DeferLowPriority => {
                deferrals(problem, options.defer_minutes).map(|deferred| {
                    let changes = ScenarioChanges {
                        overtime: Vec::new(),
                        deferred,
                    };
                    (problem.weights(), changes)
                })
            }
        };
        let setup = match setup {
            Err(reason) => {
                skipped.push(SkippedScenario {
                    scenario: kind,
                    reason,
                });
                progress(i + 2, total);
                continue;
            }
            Ok((objective, changes)) => Setup {
                kind,
                objective,
                changes,
            },
        };
        let searched = match search(
            problem,
            &setup,
            options,
            Start::From(&reference),
            &mut *termination_for(kind),
        ) {
            Ok(searched) => searched,
            // Neither the plan nor a fresh construction decodes under this what-if's changes
            // (a deferral that pulls apart steps tied by maximum lags, say): the what-if has no
            // schedule to show, and the others still stand.
            Err(ScenarioError::Solve(PlantSolveError::Decode(error))) => {
                none_found.push(SkippedScenario {
                    scenario: kind,
                    reason: format!("no feasible schedule under its changes: {error}"),
                });
                progress(i + 2, total);
                continue;
            }
            Err(other) => return Err(other),
        };
        match choose(problem, &setup, &searched.candidates, &reference, &taken) {
            Ok(k) => {
                let schedule = searched.candidates[k].clone();
                taken.push((kind, signature(problem, &setup, &schedule)));
                evaluated.push(judge(
                    problem,
                    setup,
                    options,
                    schedule,
                    searched.iterations,
                    plan,
                )?);
            }
            Err(reason) => none_found.push(SkippedScenario {
                scenario: kind,
                reason,
            }),
        }
        progress(i + 2, total);
    }
    Ok(ScenarioReport {
        scenarios: rank(evaluated, options.ranking),
        skipped,
        none_found,
        bottleneck,
        ranking: options.ranking,
    })
}
