//! Scheduling use-cases over the pure mixed-mode engine in `schedule::plant`: the classic
//! integration payload (`optimize`), and `solve`, `check`, `explain` and `repair` of native
//! problems.
//!
//! `optimize` maps the classic payload (`production_orders`, `constraints`, `objective`) to a
//! native problem ([`classic_problem`]: each work center becomes `work_center_capacity`
//! parallel units; changeovers of `changeover_time_minutes` between different
//! `current_parameter_set`s; an order with `cleaning_in_place_required` gets a CIP of
//! `changeover_time_minutes` right before it, also as its unit's first order (the unit's state
//! before `start` is unknown), shown in its slot and counted in the KPIs; orders whose
//! material is not available are released after `material_lead_time_minutes`; required
//! certifications are pools sized by `certified_operators`, which must then list each of them
//! with at least one operator), solves it,
//! and answers with the `sequence`, `throughput_gain_percent` against the orders run as given
//! (first come, first served on the first free unit), the KPIs and the schedule.
//!
//! Every schedule returned has passed the independent checker; a schedule that does not is
//! [`AppError::Internal`] (a solver bug), never an answer. Impossible input is
//! [`AppError::Impossible`] naming the order, operation, pool, certification or material at
//! fault; a payload that names what its constraints do not define (a work center missing from
//! a per-work-center `work_center_capacity`, a required certification missing from
//! `certified_operators`) is [`AppError::Invalid`] naming the field. These functions are CPU-bound: an async edge runs them with [`crate::blocking`].
//! The search's time limit is read from a monotonic clock (the engine itself has none).

mod classic;
pub mod in_force;

use std::collections::BTreeMap;
use std::time::Instant;

use model::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use schedule::plant::bound::Optimality;
use schedule::plant::checker::{CheckReport, Kpis};
use schedule::plant::construct::Score;
use schedule::plant::explain::Explanation;
use schedule::plant::problem::*;
use schedule::plant::repair::{BreachedMaxLag, Disruption};
use schedule::plant::{PlantSolveOptions, check, solve_plant};
use schedule::{Either, Termination, TimeLimit};

pub use self::classic::{PRESET_ALIASES, classic_problem, optimize, preset};
use crate::AppError;

/// How long and how the solver may search.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchLimits {
    /// Wall-clock limit of the improvement, seconds (default 1, at most 30).
    #[serde(default)]
    pub time_limit_seconds: Option<f64>,
    /// Iteration budget per thread (reproducible answers).
    #[serde(default)]
    pub iterations: Option<u64>,
    #[serde(default)]
    pub seed: u64,
    /// Search threads (1 to 4).
    #[serde(default)]
    pub threads: Option<usize>,
}

/// One order of the classic payload.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct ClassicOrder {
    pub order_id: String,
    /// `discrete`, `process` or `repetitive`.
    #[serde(rename = "type")]
    pub kind: String,
    pub work_center: String,
    pub estimated_duration_minutes: f64,
    /// `high`, `medium` or `low`.
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default = "yes")]
    pub material_available: bool,
    /// Each certification is held by one operator for the whole order, out of
    /// `constraints.certified_operators`.
    #[serde(default)]
    pub operator_certifications_required: Vec<String>,
    /// A CIP (`changeover_time_minutes` long) right before the order on its unit, also when
    /// it is the unit's first order.
    #[serde(default)]
    pub cleaning_in_place_required: bool,
    #[serde(default)]
    pub current_parameter_set: Option<String>,
    /// Optional due date, minutes from the start (or `due_date` as RFC 3339).
    #[serde(default)]
    pub due_minutes: Option<i64>,
    #[serde(default)]
    pub due_date: Option<Timestamp>,
}

fn yes() -> bool {
    true
}

/// Parallel units per work center: one number for all, or a map by work center.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Capacity {
    All(u32),
    PerWorkCenter(BTreeMap<String, u32>),
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
pub struct ClassicConstraints {
    /// Parallel units per work center (default 1 each). As a map it must name every work
    /// center the orders use.
    #[serde(default)]
    pub work_center_capacity: Option<Capacity>,
    /// Changeover between different parameter sets (and CIP length), minutes.
    #[serde(default)]
    pub changeover_time_minutes: Option<f64>,
    /// Reported against the achieved utilisation.
    #[serde(default)]
    pub target_utilization_percent: Option<f64>,
    /// Operators holding each certification. Required when an order lists
    /// `operator_certifications_required`: every certification required must be listed with at
    /// least 1 operator.
    #[serde(default)]
    pub certified_operators: Option<BTreeMap<String, u32>>,
    /// Release delay of orders whose material is not available (default 480).
    #[serde(default)]
    pub material_lead_time_minutes: Option<i64>,
}

/// The classic integration payload.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct OptimizeRequest {
    pub production_orders: Vec<ClassicOrder>,
    #[serde(default)]
    pub constraints: ClassicConstraints,
    /// `maximize_throughput` (also `minimize_makespan`), `minimize_tardiness`,
    /// `minimize_changeovers` or `balanced`.
    #[serde(default)]
    pub objective: Option<String>,
    /// Minute 0 of the schedule (default: now).
    #[serde(default)]
    pub start: Option<Timestamp>,
    #[serde(default, flatten)]
    pub limits: SearchLimits,
}

/// One scheduled order of the classic answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ClassicSlot {
    pub order_id: String,
    pub work_center: String,
    pub unit: String,
    pub start_minute: i64,
    pub end_minute: i64,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Minutes of setup on the unit right before the order: the changeover from the unit's
    /// previous parameter set plus the CIP when `cip`.
    pub setup_minutes: i64,
    /// A CIP runs right before the order because it asked for `cleaning_in_place_required`
    /// (even as its unit's first order: the unit's cleanliness before `start` is unknown).
    pub cip: bool,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ClassicKpis {
    pub makespan_minutes: i64,
    pub baseline_makespan_minutes: i64,
    pub changeover_minutes: i64,
    pub baseline_changeover_minutes: i64,
    pub cips: usize,
    pub weighted_tardiness: f64,
    pub late_orders: usize,
    pub utilization_percent: f64,
    pub target_utilization_percent: Option<f64>,
    pub meets_target_utilization: Option<bool>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OptimizeResponse {
    /// Order ids in start order.
    pub sequence: Vec<String>,
    /// Makespan reduction against the orders run as given, percent.
    pub throughput_gain_percent: f64,
    pub kpis: ClassicKpis,
    pub schedule: Vec<ClassicSlot>,
    /// Score of the returned schedule, term by term.
    pub score: Score,
    /// The returned schedule is at most `optimality.gap_percent` % from the best possible.
    pub optimality: Optimality,
    /// The independent checker's verdict on the returned schedule (always feasible).
    pub feasible: bool,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SolveRequest {
    pub problem: PlantProblem,
    /// A preset overriding the problem's weights.
    #[serde(default)]
    pub objective: Option<Preset>,
    /// Answer with the explanation of the schedule (default true; the late-order chains of a
    /// large, late schedule run to megabytes).
    #[serde(default = "yes")]
    pub explain: bool,
    #[serde(default, flatten)]
    pub limits: SearchLimits,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SolveResponse {
    pub schedule: PlantSchedule,
    pub score: Score,
    pub initial_score: Score,
    pub kpis: Kpis,
    pub iterations: u64,
    /// The schedule is at most `optimality.gap_percent` % from the best possible.
    pub optimality: Optimality,
    /// Why the late orders are late, and the bottleneck units and pools (absent when the
    /// request said `"explain": false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    pub problem: PlantProblem,
    pub schedule: PlantSchedule,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainRequest {
    pub problem: PlantProblem,
    /// Any schedule of the problem (each operation at most once, on units of the problem).
    pub schedule: PlantSchedule,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepairRequest {
    pub problem: PlantProblem,
    /// The schedule in force.
    pub schedule: PlantSchedule,
    pub disruptions: Vec<Disruption>,
    /// Minutes from the horizon start: what started before is frozen.
    pub now: i64,
    #[serde(default, flatten)]
    pub limits: SearchLimits,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RepairResponse {
    /// The problem as repaired: disruptions applied, started operations frozen, the old
    /// schedule as the stability reference. `schedule` passes the checker against it.
    pub problem: PlantProblem,
    pub schedule: PlantSchedule,
    pub score: Score,
    pub kpis: Kpis,
    /// Operations whose unit or start changed.
    pub moved: Vec<String>,
    pub iterations: u64,
    /// Maximum waits behind already-started operations that the disruption makes impossible
    /// (dropped from `problem`), with the wait the schedule gives: each needs a decision.
    pub breached_max_lags: Vec<BreachedMaxLag>,
}

/// Solver options from the request's limits.
pub fn options(limits: &SearchLimits, objective: Option<Objective>) -> PlantSolveOptions {
    PlantSolveOptions {
        seed: limits.seed,
        threads: limits.threads.unwrap_or(1).clamp(1, 4),
        max_iterations: limits.iterations,
        objective,
    }
}

/// When the search stops: the time limit (default 1 s, at most 30 s), or only the safety
/// net of 30 s when an iteration budget alone was given.
pub fn termination(limits: &SearchLimits) -> impl Termination {
    let started = Instant::now();
    let limit = limits.time_limit_seconds.unwrap_or(1.0).clamp(0.0, 30.0);
    let budget_only = limits.iterations.is_some() && limits.time_limit_seconds.is_none();
    Either(
        TimeLimit {
            clock: move || started.elapsed().as_secs_f64(),
            limit_seconds: if budget_only { 30.0 } else { limit },
        },
        schedule::Never,
    )
}

/// The checker's report on a schedule a solver returned; an infeasible one is a defect.
pub fn checked(problem: &PlantProblem, schedule: &PlantSchedule) -> Result<CheckReport, AppError> {
    let report = check(problem, schedule);
    if !report.feasible {
        tracing::error!(violations = ?report.violations, "solver returned an infeasible schedule");
        return Err(AppError::Internal(
            "the solver's schedule failed the independent checker (a bug; see the server log)"
                .into(),
        ));
    }
    Ok(report)
}

/// Solves a native problem (with the explanation of its schedule when asked).
pub fn solve(request: SolveRequest) -> Result<SolveResponse, AppError> {
    let objective = request.objective.map(Objective::preset);
    let mut problem = request.problem;
    let mut term = termination(&request.limits);
    let solution = solve_plant(
        &problem,
        &options(&request.limits, objective),
        &mut term,
        &mut |_| {},
    )
    .map_err(AppError::impossible)?;
    if objective.is_some() {
        problem.objective = objective;
    }
    let report = checked(&problem, &solution.schedule)?;
    let optimality = solution.optimality();
    let explanation = if request.explain {
        Some(schedule::plant::explain(&problem, &solution.schedule).map_err(AppError::impossible)?)
    } else {
        None
    };
    Ok(SolveResponse {
        schedule: solution.schedule,
        score: solution.score,
        initial_score: solution.initial_score,
        kpis: report.kpis,
        iterations: solution.iterations,
        optimality,
        explanation,
    })
}

/// Checks that a problem is valid before it is handed to the engine.
pub fn validate(problem: &PlantProblem) -> Result<(), AppError> {
    problem.validate().map_err(AppError::impossible)
}

/// Every violated constraint of a schedule, and its KPIs.
pub fn check_schedule(request: &CheckRequest) -> CheckReport {
    check(&request.problem, &request.schedule)
}

/// The chain that made each late order late and the bottlenecks of a schedule.
pub fn explain_schedule(request: &ExplainRequest) -> Result<Explanation, AppError> {
    schedule::plant::explain(&request.problem, &request.schedule)
        .map_err(|e| AppError::InvalidSchedule(e.to_string()))
}

/// Reschedules after downtime or a rush order, moving as little as needed.
pub fn repair(request: RepairRequest) -> Result<RepairResponse, AppError> {
    let mut term = termination(&request.limits);
    let out = schedule::plant::repair::repair(
        &request.problem,
        &request.schedule,
        &request.disruptions,
        request.now,
        &options(&request.limits, None),
        &mut term,
    )
    .map_err(AppError::impossible)?;
    let report = checked(&out.problem, &out.schedule)?;
    Ok(RepairResponse {
        problem: out.problem,
        schedule: out.schedule,
        score: out.score,
        kpis: report.kpis,
        moved: out.moved,
        iterations: out.iterations,
        breached_max_lags: out.breached_max_lags,
    })
}
