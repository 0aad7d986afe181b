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
//! Ranking: each KPI is scored in `[0, 1]` against the best scenario — throughput as
//! `value / best`, changeover cost as `best / value` (changeover minutes when no scenario has
//! any cost), on-time as `1 − weighted probability of being late` — and the scores are
//! combined with [`RankingWeights`]. Ties keep the order in which scenarios were asked for.
//!
//! Pure like the rest of the crate: the caller supplies a [`Termination`] per scenario.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::checker::check;
use super::construct::{Genome, Model, decode};
use super::explain::{UnitLoad, explain};
use super::improve::{PlantSolution, PlantSolveError, PlantSolveOptions, improve, solve_plant};
use super::interval::covered_minutes;
use super::problem::{Interval, Objective, PlantProblem, PlantSchedule, Preset, ProblemError};
use super::risk::{OrderRisk, lateness_risk};
use crate::termination::Termination;

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
    pub const ALL: [ScenarioKind; 6] = [
        ScenarioKind::AsPlanned,
        ScenarioKind::MaximizeThroughput,
        ScenarioKind::MinimizeTardiness,
        ScenarioKind::MinimizeChangeovers,
        ScenarioKind::OvertimeOnBottleneck,
        ScenarioKind::DeferLowPriority,
    ];

    /// The scenarios run when the caller names none (five with `as_planned`).
    pub const DEFAULT: [ScenarioKind; 4] = [
        ScenarioKind::MaximizeThroughput,
        ScenarioKind::MinimizeChangeovers,
        ScenarioKind::OvertimeOnBottleneck,
        ScenarioKind::DeferLowPriority,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ScenarioKind::AsPlanned => "as_planned",
            ScenarioKind::MaximizeThroughput => "maximize_throughput",
            ScenarioKind::MinimizeTardiness => "minimize_tardiness",
            ScenarioKind::MinimizeChangeovers => "minimize_changeovers",
            ScenarioKind::OvertimeOnBottleneck => "overtime_on_bottleneck",
            ScenarioKind::DeferLowPriority => "defer_low_priority",
        }
    }
}

impl std::fmt::Display for ScenarioKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ScenarioKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ScenarioKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = ScenarioKind::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown scenario `{s}` (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

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
    /// The answer is the plan in force unchanged: no better schedule was found under this
    /// scenario's objective and assumptions (always for `as_planned` given a plan).
    pub kept_plan: bool,
}

/// A scenario that was asked for but does not apply to this problem.
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

/// Windows after each window of `availability`, `extra` minutes long, clipped to the next
/// window and the horizon.
fn overtime_windows(availability: &[Interval], extra: i64, horizon: i64) -> Vec<Interval> {
    let mut sorted: Vec<Interval> = availability.to_vec();
    sorted.sort_by_key(|w| (w.start, w.end));
    let mut out = Vec::new();
    for (i, w) in sorted.iter().enumerate() {
        let next = sorted[i + 1..]
            .iter()
            .map(|n| n.start)
            .filter(|&s| s >= w.end)
            .min()
            .unwrap_or(horizon);
        // A later window that overlaps this one's end leaves no gap to fill.
        if sorted.iter().any(|o| o.start <= w.end && o.end > w.end) {
            continue;
        }
        let end = (w.end + extra).min(next).min(horizon);
        if end > w.end {
            out.push(Interval { start: w.end, end });
        }
    }
    out
}

fn overtime_changes(
    problem: &PlantProblem,
    bottleneck: &str,
    extra: i64,
) -> Result<Vec<Overtime>, String> {
    let unit = problem
        .units
        .iter()
        .find(|u| u.id == bottleneck)
        .ok_or_else(|| format!("unit `{bottleneck}` not in the problem"))?;
    let h = problem.horizon_minutes;
    let mut out = Vec::new();
    if let Some(w) = &unit.availability {
        let windows = overtime_windows(w, extra, h);
        if !windows.is_empty() {
            out.push(Overtime {
                kind: "unit".into(),
                id: unit.id.clone(),
                windows,
            });
        }
    }
    let crew: BTreeSet<&str> = problem
        .operations
        .iter()
        .filter(|op| op.alternatives.iter().any(|a| a.unit == bottleneck))
        .flat_map(|op| op.pools.iter().map(|p| p.pool.as_str()))
        .collect();
    for pool in &problem.pools {
        if !crew.contains(pool.id.as_str()) {
            continue;
        }
        if let Some(w) = &pool.availability {
            let windows = overtime_windows(w, extra, h);
            if !windows.is_empty() {
                out.push(Overtime {
                    kind: "pool".into(),
                    id: pool.id.clone(),
                    windows,
                });
            }
        }
    }
    if out.is_empty() {
        return Err(format!(
            "the bottleneck `{bottleneck}` has no gap between shifts inside the horizon to fill"
        ));
    }
    Ok(out)
}

fn deferrals(problem: &PlantProblem, minutes: i64) -> Result<Vec<Deferral>, String> {
    let weights = problem.orders.iter().map(|o| o.weight);
    let lightest = weights.clone().fold(f64::INFINITY, f64::min);
    let heaviest = weights.fold(f64::NEG_INFINITY, f64::max);
    if problem.orders.is_empty() || lightest >= heaviest {
        return Err("every order has the same weight: none is of lower priority".into());
    }
    let out: Vec<Deferral> = problem
        .orders
        .iter()
        .filter(|o| o.weight <= lightest)
        .filter_map(|o| {
            o.due.map(|due| Deferral {
                order: o.id.clone(),
                weight: o.weight,
                due,
                deferred_due: due + minutes,
            })
        })
        .collect();
    if out.is_empty() {
        return Err("no order of the lowest weight has a due date to defer".into());
    }
    Ok(out)
}

/// The original problem with a scenario's changes; `deferred_dues` chooses whether deferred
/// orders carry their deferred due date (for the optimiser) or the original (for judging).
/// The problem a scenario's schedule is built for and judged against: the original with the
/// scenario's overtime windows. Deferred due dates only steer the search; lateness is judged
/// against the original ones.
pub fn problem_with(original: &PlantProblem, changes: &ScenarioChanges) -> PlantProblem {
    apply_changes(original, changes, false)
}

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

/// Checks that `changes` are what scenario `kind` could have made of `problem` (for a
/// scenario brought back to be committed): its kind's own changes only, overtime only right
/// after a shift of a unit or pool that works to a calendar, deferral only of the
/// lowest-weight orders from their own due dates. The error names the change and what is
/// wrong with it.
pub fn check_changes(
    problem: &PlantProblem,
    kind: ScenarioKind,
    changes: &ScenarioChanges,
) -> Result<(), String> {
    let bad = |m: String| Err(m);
    let wants_overtime = kind == ScenarioKind::OvertimeOnBottleneck;
    let wants_deferral = kind == ScenarioKind::DeferLowPriority;
    if wants_overtime == changes.overtime.is_empty() {
        return bad(format!(
            "changes.overtime: scenario `{kind}` {}",
            if wants_overtime {
                "must list its overtime windows"
            } else {
                "adds no overtime"
            }
        ));
    }
    if wants_deferral == changes.deferred.is_empty() {
        return bad(format!(
            "changes.deferred: scenario `{kind}` {}",
            if wants_deferral {
                "must list its deferred orders"
            } else {
                "defers no order"
            }
        ));
    }
    let horizon = problem.horizon_minutes;
    for (i, ot) in changes.overtime.iter().enumerate() {
        let at = format!("changes.overtime[{i}]");
        let calendar = match ot.kind.as_str() {
            "unit" => match problem.units.iter().find(|u| u.id == ot.id) {
                Some(u) => u.availability.as_ref(),
                None => return bad(format!("{at}: unit `{}` is not in the problem", ot.id)),
            },
            "pool" => match problem.pools.iter().find(|p| p.id == ot.id) {
                Some(p) => p.availability.as_ref(),
                None => return bad(format!("{at}: pool `{}` is not in the problem", ot.id)),
            },
            other => return bad(format!("{at}.kind: `{other}` (expected unit or pool)")),
        };
        let Some(shifts) = calendar else {
            return bad(format!(
                "{at}: {} `{}` works no calendar (always available); overtime means nothing there",
                ot.kind, ot.id
            ));
        };
        if ot.windows.is_empty() {
            return bad(format!("{at}.windows: empty"));
        }
        for (j, w) in ot.windows.iter().enumerate() {
            let at = format!("{at}.windows[{j}] [{}, {})", w.start, w.end);
            if !(0 <= w.start && w.start < w.end && w.end <= horizon) {
                return bad(format!(
                    "{at}: not a window inside the horizon [0, {horizon})"
                ));
            }
            if w.end - w.start > 24 * 60 {
                return bad(format!("{at}: longer than 1440 minutes of overtime"));
            }
            if !shifts.iter().any(|s| s.end == w.start) {
                return bad(format!(
                    "{at}: does not start at the end of a shift of {} `{}`",
                    ot.kind, ot.id
                ));
            }
            if let Some(s) = shifts.iter().find(|s| s.start < w.end && w.start < s.end) {
                return bad(format!(
                    "{at}: overlaps the shift [{}, {}) of {} `{}`",
                    s.start, s.end, ot.kind, ot.id
                ));
            }
        }
    }
    if !changes.deferred.is_empty() {
        let lightest = problem
            .orders
            .iter()
            .map(|o| o.weight)
            .fold(f64::INFINITY, f64::min);
        for (i, d) in changes.deferred.iter().enumerate() {
            let at = format!("changes.deferred[{i}]");
            let Some(order) = problem.orders.iter().find(|o| o.id == d.order) else {
                return bad(format!("{at}: order `{}` is not in the problem", d.order));
            };
            if order.due != Some(d.due) {
                return bad(format!(
                    "{at}: order `{}` is due at minute {}, not {}",
                    d.order,
                    order
                        .due
                        .map_or_else(|| "(no due date)".to_owned(), |m| m.to_string()),
                    d.due
                ));
            }
            if d.deferred_due <= d.due {
                return bad(format!(
                    "{at}: deferred_due {} is not later than due {}",
                    d.deferred_due, d.due
                ));
            }
            if order.weight > lightest {
                return bad(format!(
                    "{at}: order `{}` has weight {}, above the lowest weight {lightest}; only the lowest-priority orders are deferred",
                    d.order, order.weight
                ));
            }
        }
    }
    Ok(())
}

fn apply_changes(
    original: &PlantProblem,
    changes: &ScenarioChanges,
    deferred_dues: bool,
) -> PlantProblem {
    let mut p = original.clone();
    for ot in &changes.overtime {
        let target = if ot.kind == "unit" {
            p.units
                .iter_mut()
                .find(|u| u.id == ot.id)
                .and_then(|u| u.availability.as_mut())
        } else {
            p.pools
                .iter_mut()
                .find(|x| x.id == ot.id)
                .and_then(|x| x.availability.as_mut())
        };
        if let Some(windows) = target {
            windows.extend(ot.windows.iter().copied());
            windows.sort_by_key(|w| (w.start, w.end));
        }
    }
    if deferred_dues {
        for d in &changes.deferred {
            if let Some(o) = p.orders.iter_mut().find(|o| o.id == d.order) {
                o.due = Some(d.deferred_due);
            }
        }
    }
    p
}

fn overtime_used(changes: &ScenarioChanges, schedule: &PlantSchedule) -> i64 {
    changes
        .overtime
        .iter()
        .filter(|ot| ot.kind == "unit")
        .map(|ot| {
            schedule
                .assignments
                .iter()
                .filter(|a| a.unit == ot.id)
                .map(|a| {
                    covered_minutes(ot.windows.iter().map(|w| (w.start, w.end)), a.start, a.end)
                })
                .sum::<i64>()
        })
        .sum()
}

fn describe(kind: ScenarioKind, changes: &ScenarioChanges, options: &ScenarioOptions) -> String {
    match kind {
        ScenarioKind::AsPlanned => "the plan as given, under its own objective".into(),
        ScenarioKind::MaximizeThroughput => "objective preset maximize_throughput".into(),
        ScenarioKind::MinimizeTardiness => "objective preset minimize_tardiness".into(),
        ScenarioKind::MinimizeChangeovers => "objective preset minimize_changeovers".into(),
        ScenarioKind::OvertimeOnBottleneck => {
            let names: Vec<String> = changes
                .overtime
                .iter()
                .map(|o| format!("{} {}", o.kind, o.id))
                .collect();
            format!(
                "{} minutes of overtime after each shift on {}",
                options.overtime_minutes,
                names.join(", ")
            )
        }
        ScenarioKind::DeferLowPriority => format!(
            "{} lowest-priority orders due {} minutes later (judged against the original dates)",
            changes.deferred.len(),
            options.defer_minutes
        ),
    }
}

struct Evaluated {
    kind: ScenarioKind,
    description: String,
    objective: Objective,
    changes: ScenarioChanges,
    kpis: ScenarioKpis,
    order_risk: Vec<OrderRisk>,
    schedule: PlantSchedule,
    iterations: u64,
    kept_plan: bool,
}

fn evaluate(
    original: &PlantProblem,
    kind: ScenarioKind,
    changes: ScenarioChanges,
    objective: Objective,
    options: &ScenarioOptions,
    start: Start<'_>,
    termination: &mut dyn Termination,
) -> Result<Evaluated, ScenarioError> {
    let solve_problem = apply_changes(original, &changes, true);
    let judge_problem = problem_with(original, &changes);
    let plan = match start {
        Start::Keep(p) | Start::From(p) => Some(p),
        Start::Fresh => None,
    };
    let solve_options = PlantSolveOptions {
        // Each scenario searches from its own seed; the risk runs share one.
        seed: options.seed ^ (kind as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D),
        threads: options.threads,
        max_iterations: options.max_iterations,
        objective: Some(objective),
    };
    let solution = match start {
        // The kept plan is judged below, not scored here: its bound is the trivial one.
        Start::Keep(schedule) => PlantSolution {
            schedule: schedule.clone(),
            score: Default::default(),
            initial_score: Default::default(),
            iterations: 0,
            bound: Default::default(),
            gap_percent: 0.0,
        },
        Start::From(schedule) => {
            let mut p = solve_problem.clone();
            p.objective = Some(objective);
            let model = Model::compile(&p);
            let genome = Genome::from_schedule(&model, &p, schedule);
            match decode(&model, &genome) {
                Ok(decoded) => {
                    let (_, best, iterations) = improve(
                        &model,
                        genome,
                        decoded,
                        &solve_options,
                        termination,
                        &mut |_| {},
                    );
                    let improved = best.to_schedule(&model);
                    // The plan itself holds under every what-if (they add availability or
                    // change weights and due dates only): a what-if never answers with
                    // something worse, by its own objective, than keeping the plan.
                    let keep = check(&p, schedule);
                    let found = check(&p, &improved);
                    let schedule = if keep.feasible && keep.kpis.objective <= found.kpis.objective {
                        schedule.clone()
                    } else {
                        improved
                    };
                    PlantSolution::new(&model, schedule, best.score, Default::default(), iterations)
                }
                // The plan in force does not replay under this scenario: start afresh.
                Err(_) => solve_plant(&solve_problem, &solve_options, termination, &mut |_| {})?,
            }
        }
        Start::Fresh => solve_plant(&solve_problem, &solve_options, termination, &mut |_| {})?,
    };
    let mut judged = judge_problem.clone();
    judged.objective = Some(objective);
    debug_assert!(check(&judged, &solution.schedule).feasible, "{kind}");
    let Assessment { kpis, order_risk } = assess(
        original,
        &changes,
        &solution.schedule,
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
        kept_plan: plan.is_some_and(|p| *p == solution.schedule),
        schedule: solution.schedule,
        iterations: solution.iterations,
    })
}

fn rank(evaluated: Vec<Evaluated>, weights: RankingWeights) -> Vec<ScenarioResult> {
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

/// Where a scenario's search starts.
#[derive(Clone, Copy)]
enum Start<'s> {
    /// This very schedule, unchanged (the plan in force as `as_planned`).
    Keep(&'s PlantSchedule),
    /// Improve from this schedule under the scenario's objective and changes.
    From(&'s PlantSchedule),
    /// Construct and improve from scratch.
    Fresh,
}

/// Runs `as_planned` and the asked-for what-ifs and ranks them. With `plan` (the schedule
/// in force, which must pass the checker) `as_planned` is that plan as it stands and every
/// what-if starts its search from it, so the scenarios are variations of the plan rather than
/// independent searches; without it `as_planned` is solved too. `termination_for` gives each
/// scenario its own stop condition (a time slice, a cancellation flag); `progress(done,
/// total)` is called after each scenario.
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
    let planned_objective = problem.weights();
    let base = evaluate(
        problem,
        ScenarioKind::AsPlanned,
        ScenarioChanges::default(),
        planned_objective,
        options,
        plan.map_or(Start::Fresh, Start::Keep),
        &mut *termination_for(ScenarioKind::AsPlanned),
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
                        (
                            planned_objective,
                            ScenarioChanges {
                                overtime,
                                deferred: Vec::new(),
                            },
                        )
                    })
                }
            },
            ScenarioKind::DeferLowPriority => {
                deferrals(problem, options.defer_minutes).map(|deferred| {
                    (
                        planned_objective,
                        ScenarioChanges {
                            overtime: Vec::new(),
                            deferred,
                        },
                    )
                })
            }
        };
        match setup {
            Err(reason) => skipped.push(SkippedScenario {
                scenario: kind,
                reason,
            }),
            Ok((objective, changes)) => evaluated.push(evaluate(
                problem,
                kind,
                changes,
                objective,
                options,
                plan.map_or(Start::Fresh, Start::From),
                &mut *termination_for(kind),
            )?),
        }
        progress(i + 2, total);
    }
    Ok(ScenarioReport {
        scenarios: rank(evaluated, options.ranking),
        skipped,
        bottleneck,
        ranking: options.ranking,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overtime_fills_the_gap_after_each_shift_up_to_the_next() {
        let w = |start, end| Interval { start, end };
        let shifts = [w(0, 480), w(600, 1080), w(1100, 1500)];
        assert_eq!(
            overtime_windows(&shifts, 120, 2000),
            vec![w(480, 600), w(1080, 1100), w(1500, 1620)]
        );
        assert_eq!(overtime_windows(&[w(0, 480)], 120, 500), vec![w(480, 500)]);
        // Overlapping windows leave no gap after the first.
        assert_eq!(
            overtime_windows(&[w(0, 500), w(400, 900)], 60, 2000),
            vec![w(900, 960)]
        );
    }

    #[test]
    fn options_are_checked_with_the_field_named() {
        let mut o = ScenarioOptions {
            scenarios: vec![ScenarioKind::MaximizeThroughput],
            ..Default::default()
        };
        let e = validate_options(&o).unwrap_err().to_string();
        assert!(e.contains("scenarios") && e.contains("got 1"), "{e}");
        o.scenarios = vec![ScenarioKind::AsPlanned, ScenarioKind::MaximizeThroughput];
        assert!(
            validate_options(&o)
                .unwrap_err()
                .to_string()
                .contains("as_planned")
        );
        o.scenarios = vec![
            ScenarioKind::MaximizeThroughput,
            ScenarioKind::MaximizeThroughput,
        ];
        assert!(
            validate_options(&o)
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        o.scenarios = ScenarioKind::DEFAULT.to_vec();
        o.risk_runs = 0;
        assert!(
            validate_options(&o)
                .unwrap_err()
                .to_string()
                .contains("risk_runs")
        );
        assert_eq!(
            "nope".parse::<ScenarioKind>().unwrap_err(),
            "unknown scenario `nope` (expected one of as_planned, maximize_throughput, minimize_tardiness, minimize_changeovers, overtime_on_bottleneck, defer_low_priority)"
        );
    }
}
