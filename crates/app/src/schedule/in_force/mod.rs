//! The plan in force: the one schedule the plant is meant to follow, kept in the store as
//! numbered versions with their provenance, and the scheduling problem of the plant as it is
//! now, which every what-if, repair and explanation starts from.
//!
//! - [`current_problem`] builds the problem from the store's catalog and folded state
//!   (`problem`): minute 0 is the plant clock, open orders with their remaining steps, the
//!   running step fixed, units down now as downtime, lots on quality hold not counted as
//!   stock, open expected receipts as receipts (an overdue one assumed a day after now),
//!   absent pool members as less capacity. The same store state gives the same problem.
//! - [`in_force`] and [`history`] read the versions; [`rebase`] expresses the plan in force
//!   on a problem's horizon, [`plan_on`] makes that a schedule the checker accepts (repairing
//!   it when the plant moved away from it).
//! - [`adopt`] puts a checked schedule in force directly (the demo's first plan, a planner's
//!   `POST /v1/schedule/plan`); [`propose`] submits a candidate plan as a governed
//!   `schedule_change` proposal (`candidate`), which becomes the plan in force when it is
//!   applied and is undone when it is rolled back ([`applied`], [`rolled_back`], called by
//!   `crate::govern` where an application or rollback succeeds).
//! - Putting a version in force expires every proposal still waiting whose candidate started
//!   from an older plan, in the same transaction, with the reason in the audit record.
//! - [`view`] answers what a reader may see: an area-scoped reader sees only the assignments
//!   (and problem units and operations) of its area's units.
//! - [`explain`] answers why orders are late under the plan in force and which units and
//!   pools hold them up, limited the same way to what the reader reads.

mod candidate;
mod dispatch;
mod explain;
mod problem;
mod view;

use std::time::Instant;

use govern::{Principal, Role, Scope};
use model::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use schedule::plant::bound::{Optimality, plan_optimality};
use schedule::plant::checker::{Kpis, check};
use schedule::plant::construct::DecodeError;
use schedule::plant::problem::{Assignment, PlantProblem, PlantSchedule};
use schedule::plant::{PlantSolveError, PlantSolveOptions, solve_plant};
use schedule::{Termination, TimeLimit};
use store::{GovernanceWrite, StoredPlan};

pub(crate) use self::candidate::keep;
pub use self::candidate::{
    Alternative, CandidatePlan, PlanDraft, applied, candidate, check_candidate_current, propose,
    rolled_back,
};
pub use self::dispatch::{DISPATCH_SOURCE, dispatch};
pub use self::explain::{LatenessAnswer, OrderLateness, explain};
pub use self::problem::{OVERDUE_RECEIPT_HOURS, current_problem, open_receipts};
pub use self::view::{AssignmentAt, PlanAnswer, ProblemAnswer, problem_for, view};
use crate::{App, AppError, blocking};

/// What a version of the plan is, besides its schedule: its number, by whom, from what and
/// when it was put in force. Flattened into every answer that describes a version, so the
/// wire form is the same everywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanHeader {
    /// 1 for the first plan; the highest version is in force.
    pub version: u64,
    /// When it was put in force (the service's clock).
    pub made_at: Timestamp,
    /// The plant's clock (its latest event) when it was put in force.
    pub plant_time: Timestamp,
    /// The principal that put it in force, or that proposed it.
    pub made_by: String,
    /// The engine and version that computed it (`engine/version`), when one did.
    pub modified_by: Option<String>,
    /// The proposal it came from.
    pub proposal: Option<String>,
    /// The version it replaced.
    pub basis: Option<u64>,
    pub reason: String,
    /// Minute 0 of the schedule.
    pub horizon_start: Timestamp,
}

/// One version of the plan in force: what was put in force, by whom, from what, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanVersion {
    #[serde(flatten)]
    pub header: PlanHeader,
    /// Assignments in minutes from `horizon_start`.
    pub schedule: PlantSchedule,
    /// The independent checker's KPIs of the schedule against the problem it was made for.
    pub kpis: Kpis,
    /// How far the schedule may be from the best possible for that problem (absent from
    /// versions stored before it was computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimality: Option<Optimality>,
}

/// A version in the history, without its schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanSummary {
    #[serde(flatten)]
    pub header: PlanHeader,
    /// Operations the schedule places.
    pub operations: usize,
    pub kpis: Kpis,
    /// Whether this is the plan in force.
    pub in_force: bool,
}

/// Why a schedule is put in force, and what made it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    pub reason: String,
    /// `engine/version` of what computed the schedule.
    pub modified_by: Option<String>,
    pub proposal: Option<String>,
}

/// The engine name of plans the service makes itself.
pub const PLAN_ENGINE: &str = "mixplane-scheduler";

/// At most this many attempts to put a version in force against concurrent writers.
const ATTEMPTS: usize = 5;

fn decode(stored: StoredPlan) -> Result<PlanVersion, AppError> {
    serde_json::from_value(stored.body).map_err(|e| {
        AppError::Corrupt(format!(
            "plan version {} does not decode: {e}",
            stored.version
        ))
    })
}

/// The plan in force, if one was ever put in force.
pub async fn in_force(app: &App) -> Result<Option<PlanVersion>, AppError> {
    app.store.plan_in_force().await?.map(decode).transpose()
}

/// The versions newest first, at most `limit` (at most [`store::MAX_PLAN_VERSIONS`]).
pub async fn history(app: &App, limit: u32) -> Result<Vec<PlanSummary>, AppError> {
    history_before(app, None, limit).await
}

/// The versions numbered below `before` (from the newest when `None`), newest first, at most
/// `limit`: the keyset pages of the history.
pub async fn history_before(
    app: &App,
    before: Option<u64>,
    limit: u32,
) -> Result<Vec<PlanSummary>, AppError> {
    let stored = app.store.plan_versions_before(before, limit).await?;
    let mut out = Vec::with_capacity(stored.len());
    for (i, s) in stored.into_iter().enumerate() {
        let v = decode(s)?;
        out.push(PlanSummary {
            header: v.header,
            operations: v.schedule.assignments.len(),
            kpis: v.kpis,
            in_force: i == 0 && before.is_none(),
        });
    }
    Ok(out)
}

/// Whole minutes from `from` to `to` (the horizons of the service's problems start on whole
/// minutes, so plans move between them exactly).
fn minutes_between(from: Timestamp, to: Timestamp) -> i64 {
    (to.0 - from.0).div_euclid(60_000)
}

/// The plan in force expressed on `problem`'s horizon: every assignment shifted to minutes
/// from `problem.horizon_start`, keeping its absolute time; an operation the problem no
/// longer has (its step completed, its order closed) dropped. An operation of the problem the
/// plan lacks (an order released since) is absent: the plan never placed it. An operation the
/// problem fixes (running now) is where the plant runs it, not where the plan put it.
///
/// The result says what the plan meant, so a diff against it names the MES's dispatches; it
/// need not pass the checker (the plant may be behind the plan): [`plan_on`] makes a seed the
/// engines accept.
pub fn rebase(plan: &PlanVersion, problem: &PlantProblem) -> PlantSchedule {
    let shift = minutes_between(problem.horizon_start, plan.header.horizon_start);
    let ops: std::collections::HashMap<&str, &schedule::plant::problem::OperationSpec> = problem
        .operations
        .iter()
        .map(|op| (op.id.as_str(), op))
        .collect();
    let assignments = plan
        .schedule
        .assignments
        .iter()
        .filter_map(|a| {
            let op = ops.get(a.op.as_str())?;
            let length = a.end - a.start;
            Some(match &op.fixed {
                Some(fixed) => Assignment {
                    op: a.op.clone(),
                    unit: fixed.unit.clone(),
                    start: fixed.start,
                    end: fixed.start + fixed_length(op, &fixed.unit).unwrap_or(length),
                },
                None => Assignment {
                    op: a.op.clone(),
                    unit: a.unit.clone(),
                    start: a.start + shift,
                    end: a.end + shift,
                },
            })
        })
        .collect();
    PlantSchedule { assignments }
}

fn fixed_length(op: &schedule::plant::problem::OperationSpec, unit: &str) -> Option<i64> {
    op.alternatives
        .iter()
        .find(|alt| alt.unit == unit)
        .and_then(|alt| alt.duration(op.quantity))
}

/// The plan in force on `problem` as a schedule the checker accepts, for the engines that
/// start from it (`repair`, `run_scenarios`): [`rebase`] when that passes the checker, else
/// the rebased plan repaired from minute 0 — an operation the plan started before now that
/// the plant has not started is behind plan and is held from minute 0 instead; everything
/// keeps its unit and its order and moves only as far as the plant's position needs. The
/// problem's `reference` becomes the rebased plan, so stability is measured against the
/// plan in force. When that repair breaks a maximum wait, the problem is solved again with
/// the stability term weighted up. Every operation the result places before minute 0 is one
/// the plant runs.
pub fn plan_on(
    plan: &PlanVersion,
    problem: &PlantProblem,
    seed: u64,
    termination: &mut dyn Termination,
) -> Result<(PlantProblem, PlantSchedule), AppError> {
    let rebased = rebase(plan, problem);
    let mut problem = problem.clone();
    problem.reference = rebased.assignments.clone();
    if check(&problem, &rebased).feasible {
        return Ok((problem, rebased));
    }
    let options = PlantSolveOptions {
        seed,
        threads: 1,
        max_iterations: None,
        objective: None,
    };
    let mut behind = rebased.clone();
    let fixed: std::collections::HashSet<&str> = problem
        .operations
        .iter()
        .filter(|op| op.fixed.is_some())
        .map(|op| op.id.as_str())
        .collect();
    for a in &mut behind.assignments {
        if a.start < 0 && !fixed.contains(a.op.as_str()) {
            a.end -= a.start;
            a.start = 0;
        }
    }
    let out = schedule::plant::repair::repair(&problem, &behind, &[], 0, &options, termination)
        .map_err(AppError::impossible)?;
    if check(&problem, &out.schedule).feasible {
        return Ok((problem, out.schedule));
    }
    // The repair kept the order of a plan the plant is far behind and broke a maximum wait
    // (it drops such waits to find a schedule): plan again, as close to the plan in force as
    // the stability term keeps it.
    let mut weights = problem.weights();
    weights.stability = weights.stability.max(1.0);
    let options = PlantSolveOptions {
        objective: Some(weights),
        ..options
    };
    match solve_plant(&problem, &options, termination, &mut |_| {}) {
        Ok(solution) => {
            crate::schedule::checked(&problem, &solution.schedule)?;
            Ok((problem, solution.schedule))
        }
        // No schedule keeps that wait at all (the step before it runs now): the repair's
        // problem, without it, is the one the plant can follow.
        Err(_) => Ok((relaxed(&problem, out.problem, &out.schedule)?, out.schedule)),
    }
}

/// `repaired` (a repair's problem: `problem` less the maximum waits behind running steps
/// that cannot be kept) with `problem`'s objective and reference, after checking `schedule`
/// against it.
pub fn relaxed(
    problem: &PlantProblem,
    mut repaired: PlantProblem,
    schedule: &PlantSchedule,
) -> Result<PlantProblem, AppError> {
    repaired.objective = problem.objective;
    repaired.reference = problem.reference.clone();
    crate::schedule::checked(&repaired, schedule)?;
    Ok(repaired)
}

/// The plant as it is now and the plan in force on it: what an agent repairing after a
/// disruption, or a what-if, starts from.
#[derive(Debug, Clone)]
pub struct CurrentPlan {
    /// The current problem; its `reference` is the plan in force rebased (when there is one).
    pub problem: PlantProblem,
    /// The plan in force, when there is one.
    pub plan: Option<PlanVersion>,
    /// The plan in force on `problem`, passing the checker ([`plan_on`]).
    pub schedule: Option<PlantSchedule>,
}

impl CurrentPlan {
    /// The version a draft made from this starts from ([`PlanDraft::basis`]).
    pub fn basis(&self) -> Option<u64> {
        self.plan.as_ref().map(|p| p.header.version)
    }
}

/// The current problem and the plan in force on it ([`plan_on`], repairing for at most
/// `seconds`), or the current problem alone when no plan is in force.
pub async fn current_plan(app: &App, seed: u64, seconds: f64) -> Result<CurrentPlan, AppError> {
    let problem = current_problem(app).await?;
    let Some(plan) = in_force(app).await? else {
        return Ok(CurrentPlan {
            problem,
            plan: None,
            schedule: None,
        });
    };
    blocking(move || {
        let started = Instant::now();
        let mut term = TimeLimit {
            clock: move || started.elapsed().as_secs_f64(),
            limit_seconds: seconds,
        };
        let (problem, schedule) = plan_on(&plan, &problem, seed, &mut term)?;
        Ok(CurrentPlan {
            problem,
            plan: Some(plan),
            schedule: Some(schedule),
        })
    })
    .await
}

/// Whether `who` may put a plan in force directly: an administrator, supervisor or planner
/// over the whole site (a plan covers every area).
fn check_may_adopt(who: &Principal) -> Result<(), AppError> {
    if !matches!(who.role, Role::Admin | Role::Supervisor | Role::Planner) {
        return Err(AppError::Forbidden(format!(
            "{} (role {}) may not put a plan in force; administrators, supervisors and planners may",
            who.id, who.role
        )));
    }
    if let Scope::Area(area) = &who.scope {
        return Err(AppError::Forbidden(format!(
            "{} is scoped to area `{area}`; a plan covers every area of the site, so putting \
             one in force needs a site-wide scope (propose a change instead)",
            who.id
        )));
    }
    Ok(())
}

/// Checks `schedule` against `problem` with the independent checker and puts it in force as
/// the next version, made by `who` (an administrator, supervisor or planner of the whole
/// site), superseding the
/// plan in force and expiring every proposal still waiting whose candidate started from it.
pub async fn adopt(
    app: &App,
    who: &Principal,
    problem: &PlantProblem,
    schedule: PlantSchedule,
    provenance: Provenance,
) -> Result<PlanVersion, AppError> {
    check_may_adopt(who)?;
    let report = check(problem, &schedule);
    if !report.feasible {
        return Err(crate::scenario::infeasible(
            "schedule: the plan fails the independent checker against the current problem",
            &report.violations,
        ));
    }
    let plan = PlanVersion {
        header: PlanHeader {
            version: 0,
            made_at: app.now(),
            plant_time: plant_time(app).await,
            made_by: who.id.clone(),
            modified_by: provenance.modified_by,
            proposal: provenance.proposal,
            basis: None,
            reason: provenance.reason,
            horizon_start: problem.horizon_start,
        },
        optimality: plan_optimality(problem, &schedule).ok(),
        schedule,
        kpis: report.kpis,
    };
    put_version(app, who, plan).await
}

/// The plant's clock: its latest event, or the service's clock before any.
pub(crate) async fn plant_time(app: &App) -> Timestamp {
    app.store
        .snapshot()
        .await
        .state
        .clock
        .unwrap_or_else(|| app.now())
}

/// Stores `plan` as the next version (its `version` and `basis` are set here), expiring the
/// proposals it supersedes; retried when another writer came first.
pub(crate) async fn put_version(
    app: &App,
    who: &Principal,
    mut plan: PlanVersion,
) -> Result<PlanVersion, AppError> {
    for _ in 0..ATTEMPTS {
        let current = app.store.plan_in_force().await?;
        plan.header.basis = current.as_ref().map(|c| c.version);
        plan.header.version = plan.header.basis.unwrap_or(0) + 1;
        let mut expire = Vec::new();
        for id in app
            .store
            .pending_candidates_before(plan.header.version)
            .await?
        {
            let Some(mut stored) = app.store.proposal(&id).await? else {
                continue;
            };
            if matches!(
                stored.proposal.status,
                govern::Status::Proposed | govern::Status::Approved
            ) {
                stored.proposal.status = govern::Status::Expired;
                expire.push(stored);
            }
        }
        let body = serde_json::to_value(&plan).expect("plans serialise");
        let stored = StoredPlan {
            version: plan.header.version,
            made_at: plan.header.made_at,
            made_by: plan.header.made_by.clone(),
            proposal: plan.header.proposal.clone(),
            basis: plan.header.basis,
            body,
        };
        let reason = format!(
            "superseded: plan version {} was put in force ({}); the proposal started from an older plan",
            plan.header.version, plan.header.reason
        );
        let write = GovernanceWrite {
            actor: store::actor_of(who),
            role: Some(who.role),
            modified_by: plan
                .header
                .modified_by
                .clone()
                .unwrap_or_else(|| who.id.clone()),
            source_event: None,
            sink: None,
        };
        if app
            .store
            .put_plan(stored, &plan.header.reason, expire, &reason, write)
            .await?
        {
            return Ok(plan);
        }
    }
    Err(AppError::Internal(
        "the plan in force changed on every attempt to put a new one in force; retry".into(),
    ))
}

/// What `POST /v1/schedule/plan` asks for.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MakePlanRequest {
    /// Wall-clock limit of the search, seconds (default 2, at most 30).
    #[serde(default)]
    pub time_limit_seconds: Option<f64>,
    #[serde(default)]
    pub seed: u64,
    /// Why (recorded with the version); default "a planner asked for a new plan".
    #[serde(default)]
    pub reason: Option<String>,
}

/// Solves the current problem and puts the engine's plan in force as `who`.
pub async fn make_plan(
    app: &App,
    who: &Principal,
    request: MakePlanRequest,
) -> Result<PlanVersion, AppError> {
    check_may_adopt(who)?;
    let seconds = request.time_limit_seconds.unwrap_or(2.0);
    if !(0.0..=30.0).contains(&seconds) {
        return Err(AppError::Invalid(format!(
            "time_limit_seconds: must be within 0 and 30, got {seconds}"
        )));
    }
    let reason = request
        .reason
        .unwrap_or_else(|| "a planner asked for a new plan".into());
    if reason.trim().is_empty() || reason.chars().count() > 200 {
        return Err(AppError::Invalid(
            "reason: must be 1 to 200 characters".into(),
        ));
    }
    let problem = current_problem(app).await?;
    let seed = request.seed;
    let (problem, schedule) = blocking(move || solve_current(&problem, seed, seconds)).await?;
    let provenance = Provenance {
        reason,
        modified_by: Some(format!("{PLAN_ENGINE}/{}", env!("CARGO_PKG_VERSION"))),
        proposal: None,
    };
    adopt(app, who, &problem, schedule, provenance).await
}

/// The engine's schedule of `problem` after `seconds` of search (two threads), checked, with
/// the problem it is a schedule of: `problem` itself, or — when the plant cannot keep a
/// maximum wait behind a step running now (the step after it cannot start in time) — the
/// problem without that wait, as a repair finds it. CPU-bound: run it with
/// [`crate::blocking`].
pub fn solve_current(
    problem: &PlantProblem,
    seed: u64,
    seconds: f64,
) -> Result<(PlantProblem, PlantSchedule), AppError> {
    let started = Instant::now();
    let mut term = TimeLimit {
        clock: move || started.elapsed().as_secs_f64(),
        limit_seconds: seconds,
    };
    let options = PlantSolveOptions {
        seed,
        threads: 2,
        max_iterations: None,
        objective: None,
    };
    solve_current_with(problem, &options, &mut term)
}

/// [`solve_current`] under any options and termination (an iteration budget gives a
/// reproducible answer, as the live agents need).
pub fn solve_current_with(
    problem: &PlantProblem,
    options: &PlantSolveOptions,
    term: &mut dyn Termination,
) -> Result<(PlantProblem, PlantSchedule), AppError> {
    match solve_plant(problem, options, term, &mut |_| {}) {
        Ok(solution) => {
            crate::schedule::checked(problem, &solution.schedule)?;
            Ok((problem.clone(), solution.schedule))
        }
        Err(PlantSolveError::Decode(DecodeError::MaxLag { .. })) => {
            let out = schedule::plant::repair::repair(
                problem,
                &PlantSchedule::default(),
                &[],
                0,
                options,
                term,
            )
            .map_err(AppError::impossible)?;
            Ok((relaxed(problem, out.problem, &out.schedule)?, out.schedule))
        }
        Err(e) => Err(AppError::impossible(e)),
    }
}

#[cfg(test)]
mod tests;
