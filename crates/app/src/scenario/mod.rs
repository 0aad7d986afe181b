//! What-if scenarios of a native problem and the commit of the one a planner chose.
//!
//! [`scenarios`]: the plan and up to 5 what-if schedules that are genuine alternatives to it
//! (the others are in the report's `none_found` with the reason), each with KPIs and Monte
//! Carlo on-time risk per order, ranked by weighted KPIs (`schedule::plant::scenario`). The
//! wall-clock budget covers all scenarios together and is split evenly between them (each
//! what-if searches from the plan and from a fresh construction side by side, on two threads
//! at least); with `iterations` and no time limit the answer is reproducible for a seed.
//! Every returned schedule has passed the independent checker against its scenario's
//! problem.
//!
//! [`commit`]: the planner's choice becomes a governed `schedule_change` proposal. The chosen
//! scenario comes back as [`scenarios`] returned it (its kind, its changes and its schedule);
//! the changes are re-checked to be the scenario's own and to belong to the problem, the
//! schedule is re-checked with the independent checker against the scenario's problem, every
//! KPI is recomputed (nothing the caller sends about KPIs is trusted), and the proposal goes
//! through [`crate::govern::submit`], so the policy decides whether it applies by itself, on
//! `govern`'s own assessment of the diff against the loaded plant (every area it touches).
//! The scenario's schedule rides along as the proposal's candidate plan: applied, it is the
//! plan in force ([`crate::schedule::in_force`]).
//!
//! Without a problem, both work on the plant as it is now: [`scenarios_now`] on the current
//! problem starting from the plan in force expressed on it, [`commit`] against the plan in
//! force rebased onto the current problem (what the MES was told), so a what-if never names
//! an order that completed since the plan was made.

pub(crate) mod diff;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use govern::{ActionKind, Change, Evidence, Principal, Proposal, ProposalDraft, Trigger};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use schedule::plant::checker::check;
use schedule::plant::problem::{PlantProblem, PlantSchedule};
use schedule::plant::scenario::{
    RankingWeights, RiskOptions, ScenarioChanges, ScenarioError, ScenarioKind, ScenarioOptions,
    ScenarioReport, ScenarioResult, assess, check_changes, problem_with, run_scenarios,
};
use schedule::{Termination, TimeLimit};

use self::diff::{diff, kpi_map, title};
use crate::schedule::checked;
use crate::schedule::in_force::CandidatePlan;
use crate::{App, AppError, blocking};

/// A native problem and what to compare.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenariosRequest {
    /// The native problem; without it, the plant as it is now
    /// ([`crate::schedule::in_force::current_problem`]) with the plan in force as `plan`.
    #[serde(default)]
    pub problem: Option<PlantProblem>,
    /// The schedule in force: `as_planned` is this plan and every what-if starts from it
    /// (without it `as_planned` is solved too). Only with `problem`.
    #[serde(default)]
    pub plan: Option<PlantSchedule>,
    /// What-ifs after `as_planned` (2 to 5); default `maximize_throughput`,
    /// `minimize_changeovers`, `overtime_on_bottleneck`, `defer_low_priority`.
    #[serde(default)]
    pub scenarios: Option<Vec<ScenarioKind>>,
    /// KPI weights of the ranking (default 1 each).
    #[serde(default)]
    pub ranking: Option<RankingWeights>,
    /// Monte Carlo runs per scenario (default 200).
    #[serde(default)]
    pub risk_runs: Option<usize>,
    /// Log-sigma of the duration factor in the risk runs (default 0.15).
    #[serde(default)]
    pub duration_spread: Option<f64>,
    /// Overtime after each shift of the bottleneck, minutes (default 120).
    #[serde(default)]
    pub overtime_minutes: Option<i64>,
    /// How much later the lowest-priority orders may finish, minutes (default 1440).
    #[serde(default)]
    pub defer_minutes: Option<i64>,
    /// Wall-clock budget for all scenarios together, seconds (default 5, at most 60).
    #[serde(default)]
    pub time_limit_seconds: Option<f64>,
    /// Iteration budget per thread and scenario (reproducible answers).
    #[serde(default)]
    pub iterations: Option<u64>,
    #[serde(default)]
    pub seed: u64,
    /// Search threads (1 to 4).
    #[serde(default)]
    pub threads: Option<usize>,
}

impl ScenariosRequest {
    pub fn options(&self) -> ScenarioOptions {
        let d = ScenarioOptions::default();
        ScenarioOptions {
            seed: self.seed,
            threads: self.threads.unwrap_or(1).clamp(1, 4),
            max_iterations: self.iterations,
            scenarios: self.scenarios.clone().unwrap_or(d.scenarios),
            risk_runs: self.risk_runs.unwrap_or(d.risk_runs),
            duration_spread: self.duration_spread.unwrap_or(d.duration_spread),
            overtime_minutes: self.overtime_minutes.unwrap_or(d.overtime_minutes),
            defer_minutes: self.defer_minutes.unwrap_or(d.defer_minutes),
            ranking: self.ranking.unwrap_or(d.ranking),
        }
    }

    /// Seconds each scenario may search.
    pub fn slice_seconds(&self, scenarios: usize) -> f64 {
        let total = match (self.time_limit_seconds, self.iterations) {
            (Some(t), _) => t.clamp(0.0, 60.0),
            // An iteration budget alone: the clock is only a safety net.
            (None, Some(_)) => 60.0,
            (None, None) => 5.0,
        };
        total / scenarios.max(1) as f64
    }
}

/// Seconds a plan in force that the plant moved away from may be repaired for, before the
/// what-ifs start from it.
const REBASE_SECONDS: f64 = 1.0;

/// The ranked what-ifs and, when the service chose what they ran on (a request without a
/// problem), that basis: a commit sends it back, so that what is committed is measured
/// against what was compared, however far the plant has moved since.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ScenarioAnswer {
    #[serde(flatten)]
    pub report: ScenarioReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<ScenarioBasis>,
}

/// What the what-ifs of the plant as it is now ran on: the current problem (a maximum wait
/// behind a running step the plant can no longer keep relaxed, `plan_on`) and the plan in
/// force rebased onto it, as the MES was told it (not repaired: a proposal's `before` is
/// what the plant holds). `POST /v1/schedule/scenarios/commit` takes the problem with the
/// plan's assignments as its `reference`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ScenarioBasis {
    pub problem: PlantProblem,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlantSchedule>,
}

/// [`scenarios`] of the request's problem or, without one, of the plant as it is now starting
/// from the plan in force expressed on it ([`crate::schedule::in_force::current_plan`]), with
/// that basis in the answer.
pub async fn scenarios_now(
    app: &App,
    mut request: ScenariosRequest,
) -> Result<ScenarioAnswer, AppError> {
    let mut basis = None;
    if request.problem.is_none() {
        if request.plan.is_some() {
            return Err(AppError::Invalid(
                "plan: a plan needs the problem it is a schedule of; send both, or neither to start from the plan in force".into(),
            ));
        }
        let current =
            crate::schedule::in_force::current_plan(app, request.seed, REBASE_SECONDS).await?;
        basis = Some(ScenarioBasis {
            problem: current.problem.clone(),
            plan: current
                .plan
                .as_ref()
                .map(|plan| crate::schedule::in_force::rebase(plan, &current.problem)),
        });
        request.problem = Some(current.problem);
        request.plan = current.schedule;
    }
    let report = blocking(move || scenarios(&request)).await?;
    Ok(ScenarioAnswer { report, basis })
}

/// What-if schedules of a native problem, ranked; every returned schedule has passed the
/// checker against its scenario's problem. CPU-bound: run it with [`crate::blocking`]. The
/// request must name its problem ([`scenarios_now`] fills it in).
pub fn scenarios(request: &ScenariosRequest) -> Result<ScenarioReport, AppError> {
    let Some(problem) = request.problem.as_ref() else {
        return Err(AppError::Invalid(
            "problem: required here (the current problem is filled in by the service)".into(),
        ));
    };
    let options = request.options();
    let slice = request.slice_seconds(options.scenarios.len() + 1);
    let mut termination_for = |_kind| {
        let started = Instant::now();
        Box::new(TimeLimit {
            clock: move || started.elapsed().as_secs_f64(),
            limit_seconds: slice,
        }) as Box<dyn Termination>
    };
    let report = run_scenarios(
        problem,
        request.plan.as_ref(),
        &options,
        &mut termination_for,
        &mut |_, _| {},
    )
    .map_err(|e| match e {
        ScenarioError::Options(message) => AppError::Invalid(message),
        ScenarioError::Solve(e) => AppError::impossible(e),
    })?;
    for s in &report.scenarios {
        checked(&report.problem_of(problem, s.scenario), &s.schedule)?;
    }
    Ok(report)
}

/// The engine a committed scenario's evidence names.
pub const COMMIT_ENGINE: &str = "mixplane-scenarios";

/// At most this many checker violations are listed in a refusal.
const MAX_LISTED_VIOLATIONS: usize = 20;

/// The scenario a planner chose, as `POST /v1/schedule/scenarios` returned it: its kind, the
/// changes it made to the problem and its schedule. The other fields of a returned scenario
/// (rank, kpis, scores, order_risk, …) may be sent along and are ignored: the server
/// recomputes every KPI from the problem and the schedules.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct ChosenScenario {
    pub scenario: ScenarioKind,
    /// Overtime windows (`overtime_on_bottleneck`) and deferrals (`defer_low_priority`);
    /// empty for the objective presets.
    #[serde(default)]
    pub changes: ScenarioChanges,
    /// The scenario's schedule; it must pass the checker against the scenario's problem.
    pub schedule: PlantSchedule,
}

impl From<&ScenarioResult> for ChosenScenario {
    fn from(result: &ScenarioResult) -> ChosenScenario {
        ChosenScenario {
            scenario: result.scenario,
            changes: result.changes.clone(),
            schedule: result.schedule.clone(),
        }
    }
}

/// A scenario to commit, with the problem and plan it was computed from.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitRequest {
    /// The native problem the scenarios were computed for; without it, the plant as it is
    /// now, with the plan in force as `plan` (what `POST /v1/schedule/scenarios` without a
    /// problem ran on).
    #[serde(default)]
    pub problem: Option<PlantProblem>,
    /// The schedule in force, which the diff and the "before" KPIs are measured against.
    /// Without it the problem's `reference` is (when it has one); with neither, every
    /// operation is listed as newly placed and there are no "before" KPIs. Only with
    /// `problem`.
    #[serde(default)]
    pub plan: Option<PlantSchedule>,
    pub scenario: ChosenScenario,
    /// The plant area the proposal belongs to; by default the one area of the loaded plant
    /// whose units the scenario changes (required when they span several areas or none).
    #[serde(default)]
    pub area: Option<String>,
    /// Monte Carlo runs for the on-time risk in the evidence (default 200, 1 to 10000).
    #[serde(default)]
    pub risk_runs: Option<usize>,
    /// Log-sigma of the duration factor in the risk runs (default 0.15, 0 to 2).
    #[serde(default)]
    pub duration_spread: Option<f64>,
    /// Seed of the risk runs (the same for the plan and the scenario).
    #[serde(default)]
    pub seed: u64,
}

/// What the pure part of a commit produces; the area is decided against the loaded plant.
struct Prepared {
    title: String,
    evidence: Evidence,
    diff: Vec<Change>,
    /// Units whose work or calendar changes.
    units: BTreeSet<String>,
    /// The scenario's schedule as the plan it proposes.
    candidate: CandidatePlan,
}

/// Checks a chosen scenario and submits it as a `schedule_change` proposal from `proposer`
/// through [`crate::govern::submit`] (stored, audited, and applied by itself when the
/// policy allows). Used by `POST /v1/schedule/scenarios/commit` and by
/// `mixplane schedule scenarios --commit`.
pub async fn commit(
    app: &App,
    proposer: &Principal,
    mut request: CommitRequest,
) -> Result<Proposal, AppError> {
    let asked_area = request.area.clone();
    let proposer_id = proposer.id.clone();
    let in_force = crate::schedule::in_force::in_force(app).await?;
    let basis = in_force.as_ref().map(|p| p.header.version);
    // Without a problem: the plant as it is now, measured against the plan in force as it
    // stands (rebased, not repaired: the diff's `before` is what the MES was told).
    let mut baseline = None;
    if request.problem.is_none() {
        if request.plan.is_some() {
            return Err(AppError::Invalid(
                "plan: a plan needs the problem it is a schedule of; send both, or neither to commit against the plan in force".into(),
            ));
        }
        // The problem the what-ifs ran on (`scenarios_now`): the current one, less a maximum
        // wait behind a running step the plant can no longer keep.
        let current =
            crate::schedule::in_force::current_plan(app, request.seed, REBASE_SECONDS).await?;
        let mut problem = current.problem;
        if let Some(plan) = &in_force {
            let rebased = crate::schedule::in_force::rebase(plan, &problem);
            problem.reference = rebased.assignments.clone();
            baseline = Some(rebased);
        }
        request.problem = Some(problem);
    }
    let prepared = blocking(move || prepare(&request, &proposer_id, baseline, basis)).await?;
    let area = proposal_area(app, proposer, asked_area, &prepared.units).await?;
    let draft = ProposalDraft {
        kind: ActionKind::ScheduleChange,
        area,
        title: prepared.title,
        evidence: prepared.evidence,
        diff: prepared.diff,
    };
    // Every KPI of the evidence was recomputed here from the problem and the schedules; the
    // scenario's schedule becomes the plan in force if the proposal applies.
    crate::govern::submit_plan(
        app,
        proposer,
        draft,
        govern::KpiSource::Recomputed,
        Some(prepared.candidate),
    )
    .await
}

/// The proposal's area: the one asked for, else the single area of the loaded plant whose
/// units the scenario changes. The proposer's scope must reach every area touched.
pub(crate) async fn proposal_area(
    app: &App,
    proposer: &Principal,
    asked: Option<String>,
    units: &BTreeSet<String>,
) -> Result<String, AppError> {
    let catalog = app.catalog().await?;
    let hierarchy = govern::Hierarchy::from_plant(catalog.plant());
    let mut touched: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for unit in units {
        if let Some(area) = catalog.unit_area(&model::UnitId::from(unit.as_str())) {
            touched.entry(area.to_string()).or_default().push(unit);
        }
    }
    for (area, in_area) in &touched {
        if !proposer.scope.reaches(&hierarchy, Some(area)) {
            return Err(AppError::Forbidden(format!(
                "the scenario changes unit `{}` of area `{area}`, outside {}'s scope {}",
                in_area[0], proposer.id, proposer.scope
            )));
        }
    }
    if let Some(area) = asked {
        return Ok(area);
    }
    let mut areas = touched.keys();
    match (areas.next(), areas.next()) {
        (Some(area), None) => Ok(area.clone()),
        (None, _) => Err(AppError::Invalid(format!(
            "area: none of the units the scenario changes ({}) is a unit of the loaded plant; name the proposal's `area`",
            units.iter().cloned().collect::<Vec<_>>().join(", ")
        ))),
        (Some(_), Some(_)) => Err(AppError::Invalid(format!(
            "area: the scenario changes units in areas {}; name the proposal's `area`",
            touched.keys().cloned().collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Checks the request and computes the title, evidence and diff (pure; runs off the runtime).
/// `baseline` is the plan in force rebased when the service filled in the problem (it need
/// not pass the checker: the plant may be behind it); `basis` the version in force.
fn prepare(
    request: &CommitRequest,
    proposer: &str,
    baseline: Option<PlantSchedule>,
    basis: Option<u64>,
) -> Result<Prepared, AppError> {
    let Some(problem) = request.problem.as_ref() else {
        return Err(AppError::Invalid("problem: required".into()));
    };
    let chosen = &request.scenario;
    problem
        .validate()
        .map_err(|e| AppError::Invalid(format!("problem: {e}")))?;
    let runs = request.risk_runs.unwrap_or(200);
    if !(1..=10_000).contains(&runs) {
        return Err(AppError::Invalid(format!(
            "risk_runs: must be 1 to 10000, got {runs}"
        )));
    }
    let spread = request.duration_spread.unwrap_or(0.15);
    if !(0.0..=2.0).contains(&spread) {
        return Err(AppError::Invalid(format!(
            "duration_spread: must be within 0 and 2, got {spread}"
        )));
    }
    if let Some(plan) = &request.plan {
        let verdict = check(problem, plan);
        if !verdict.feasible {
            return Err(infeasible(
                "plan: the schedule in force fails the independent checker against the problem",
                &verdict.violations,
            ));
        }
    }
    check_changes(problem, chosen.scenario, &chosen.changes)
        .map_err(|m| AppError::Invalid(format!("scenario.{m}")))?;
    let scenario_problem = problem_with(problem, &chosen.changes);
    let verdict = check(&scenario_problem, &chosen.schedule);
    if !verdict.feasible {
        return Err(infeasible(
            &format!(
                "scenario.schedule: the schedule of scenario `{}` fails the independent checker against the scenario's problem",
                chosen.scenario
            ),
            &verdict.violations,
        ));
    }
    let risk = RiskOptions {
        runs,
        duration_spread: spread,
        seed: request.seed,
    };
    let judge = |changes: &ScenarioChanges, schedule: &PlantSchedule| {
        assess(problem, changes, schedule, &risk)
            .map(|a| kpi_map(&a.kpis))
            .map_err(AppError::impossible)
    };
    let after = judge(&chosen.changes, &chosen.schedule)?;
    let baseline: Option<PlantSchedule> = match (&request.plan, baseline) {
        (Some(plan), _) => Some(plan.clone()),
        (None, Some(rebased)) => Some(rebased),
        (None, None) if !problem.reference.is_empty() => Some(PlantSchedule {
            assignments: problem.reference.clone(),
        }),
        (None, None) => None,
    };
    let before = match &baseline {
        Some(plan) => judge(&ScenarioChanges::default(), plan)?,
        None => BTreeMap::new(),
    };
    let (diff, units) = diff(problem, chosen, baseline.as_ref());
    if diff.is_empty() {
        return Err(AppError::NothingToCommit(format!(
            "scenario `{}` changes nothing against the plan in force: nothing to commit",
            chosen.scenario
        )));
    }
    let title = title(chosen.scenario, &before, &after, &diff);
    let input = json!({
        "problem": problem,
        "plan": baseline,
        "scenario": chosen.scenario,
        "changes": chosen.changes,
        "schedule": chosen.schedule,
    });
    let digest = Sha256::digest(serde_json::to_vec(&input).expect("JSON values serialise"));
    let input_sha256 = model::wire::hex(&digest);
    let problem_digest =
        Sha256::digest(serde_json::to_vec(&scenario_problem).expect("problems serialise"));
    let candidate = CandidatePlan {
        basis,
        engine: format!("{COMMIT_ENGINE}/{}", env!("CARGO_PKG_VERSION")),
        horizon_start: problem.horizon_start,
        schedule: chosen.schedule.clone(),
        kpis: verdict.kpis,
        problem_sha256: model::wire::hex(&problem_digest),
        optimality: schedule::plant::bound::plan_optimality(&scenario_problem, &chosen.schedule)
            .ok(),
        alternatives: Vec::new(),
    };
    Ok(Prepared {
        candidate,
        title,
        evidence: Evidence {
            input_sha256,
            engine: COMMIT_ENGINE.into(),
            engine_version: env!("CARGO_PKG_VERSION").into(),
            trigger: Trigger::Principal {
                principal: proposer.to_owned(),
            },
            kpis_before: before,
            kpis_after: after,
        },
        diff,
        units,
    })
}

/// A refusal listing the checker's violations.
pub(crate) fn infeasible(what: &str, violations: &[schedule::plant::Violation]) -> AppError {
    let listed: Vec<String> = violations
        .iter()
        .take(MAX_LISTED_VIOLATIONS)
        .map(|v| serde_json::to_string(v).expect("violations serialise"))
        .collect();
    AppError::Infeasible {
        detail: format!(
            "{what}: {} violation(s), first {}",
            violations.len(),
            listed.first().map_or("", String::as_str)
        ),
        violations: listed,
    }
}
