//! `POST /v1/schedule/scenarios`: 3–5 what-if schedules of a native problem, each with KPIs
//! and Monte Carlo on-time risk per order, ranked by weighted KPIs (`schedule::plant::scenario`).
//!
//! The wall-clock budget covers all scenarios together and is split evenly between them;
//! with `iterations` and no time limit the answer is reproducible for a seed. Every returned
//! schedule has passed the independent checker against its scenario's problem (the original
//! plus the scenario's overtime windows); one that does not is a 500, never an answer.
//!
//! `POST /v1/schedule/scenarios/commit`: the planner's choice becomes a governed
//! `schedule_change` proposal (see [`commit`]). The chosen scenario comes back as the
//! scenarios call returned it (its kind, its changes and its schedule); the server re-checks
//! that the changes are the scenario's own and belong to the problem, re-checks the schedule
//! with the independent checker against the scenario's problem, recomputes every KPI itself
//! (nothing the caller sends about KPIs is trusted), and submits the proposal through
//! [`crate::govern_api::submit`], so the policy decides whether it applies by itself.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::Instant;

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::post;
use govern::{ActionKind, Change, Evidence, Principal, Proposal, ProposalDraft, Trigger};
use model::Priority;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use schedule::plant::checker::check;
use schedule::plant::problem::{Assignment, Interval, PlantProblem, PlantSchedule};
use schedule::plant::scenario::{
    RankingWeights, RiskOptions, ScenarioChanges, ScenarioError, ScenarioKind, ScenarioKpis,
    ScenarioOptions, ScenarioReport, ScenarioResult, assess, check_changes, problem_with,
    run_scenarios,
};
use schedule::{Termination, TimeLimit};

use crate::AppState;
use crate::api::Json200;
use crate::auth::{Caller, forbidden};
use crate::extract::Json;
use crate::govern_api::Created;
use crate::problem::Problem;
use crate::routes::{Endpoint, Permission};
use crate::schedule_api::{blocking, checked, impossible};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        scenarios_endpoint(),
        Endpoint {
            method: Method::POST,
            path: "/v1/schedule/scenarios/commit",
            operation_id: "scheduleScenarioCommit",
            summary: "Commit a what-if scenario: its schedule is re-checked against the scenario's problem and becomes a schedule_change proposal (KPIs of the plan in force vs the scenario as evidence; due-date moves, overtime windows and moved operations as the diff) that the policy applies or holds for approval",
            tag: "schedule",
            params: &[],
            request: Some(|g| g.subschema_for::<CommitRequest>()),
            response: |g| g.subschema_for::<Proposal>(),
            success_status: 201,
            writes: true,
            permission: Permission::ProposeChanges,
            handler: || post(commit_handler),
        },
    ]
}

fn scenarios_endpoint() -> Endpoint {
    Endpoint {
        method: Method::POST,
        path: "/v1/schedule/scenarios",
        operation_id: "scheduleScenarios",
        summary: "What-if schedules (objective presets, overtime on the bottleneck, deferral of low-priority orders) with on-time risk per order, ranked by weighted KPIs",
        tag: "schedule",
        params: &[],
        request: Some(|g| g.subschema_for::<ScenariosRequest>()),
        response: |g| g.subschema_for::<ScenarioReport>(),
        success_status: 200,
        writes: false,
        permission: Permission::WriteSchedule,
        handler: || post(scenarios),
    }
}

/// A native problem and what to compare.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenariosRequest {
    pub problem: PlantProblem,
    /// The schedule in force: `as_planned` is this plan and every what-if starts from it
    /// (without it `as_planned` is solved too).
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
    fn options(&self) -> ScenarioOptions {
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
    fn slice_seconds(&self, scenarios: usize) -> f64 {
        let total = match (self.time_limit_seconds, self.iterations) {
            (Some(t), _) => t.clamp(0.0, 60.0),
            // An iteration budget alone: the clock is only a safety net.
            (None, Some(_)) => 60.0,
            (None, None) => 5.0,
        };
        total / scenarios.max(1) as f64
    }
}

async fn scenarios(
    Json(request): Json<ScenariosRequest>,
) -> Result<Json200<ScenarioReport>, Problem> {
    blocking(move || {
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
            &request.problem,
            request.plan.as_ref(),
            &options,
            &mut termination_for,
            &mut |_, _| {},
        )
        .map_err(|e| match e {
            ScenarioError::Options(message) => Problem::unprocessable(message),
            ScenarioError::Solve(e) => impossible(e),
        })?;
        for s in &report.scenarios {
            checked(
                &report.problem_of(&request.problem, s.scenario),
                &s.schedule,
            )?;
        }
        Ok(Json200(report))
    })
    .await
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
    /// The native problem the scenarios were computed for.
    pub problem: PlantProblem,
    /// The schedule in force, which the diff and the "before" KPIs are measured against.
    /// Without it the problem's `reference` is (when it has one); with neither, every
    /// operation is listed as newly placed and there are no "before" KPIs.
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
}

async fn commit_handler(
    State(app): State<AppState>,
    caller: Caller,
    Json(request): Json<CommitRequest>,
) -> Result<Created, Problem> {
    commit(&app, &caller.0, request).await.map(Created)
}

/// Checks a chosen scenario and submits it as a `schedule_change` proposal from `proposer`
/// through [`crate::govern_api::submit`] (stored, audited, and applied by itself when the
/// policy allows). Used by `POST /v1/schedule/scenarios/commit` and by
/// `mixplane schedule scenarios --commit`.
pub async fn commit(
    app: &AppState,
    proposer: &Principal,
    request: CommitRequest,
) -> Result<Proposal, Problem> {
    let asked_area = request.area.clone();
    let proposer_id = proposer.id.clone();
    let prepared = blocking(move || prepare(&request, &proposer_id)).await?;
    let area = proposal_area(app, proposer, asked_area, &prepared.units).await?;
    let draft = ProposalDraft {
        kind: ActionKind::ScheduleChange,
        area,
        title: prepared.title,
        evidence: prepared.evidence,
        diff: prepared.diff,
    };
    crate::govern_api::submit(app, proposer, draft).await
}

/// The proposal's area: the one asked for, else the single area of the loaded plant whose
/// units the scenario changes. The proposer's scope must reach every area touched.
async fn proposal_area(
    app: &AppState,
    proposer: &Principal,
    asked: Option<String>,
    units: &BTreeSet<String>,
) -> Result<String, Problem> {
    let catalog = app.store.plant().await.ok_or_else(|| {
        Problem::new(
            StatusCode::CONFLICT,
            "no-plant",
            "no plant is loaded; run `mixplane demo` or load one first",
        )
    })?;
    let hierarchy = govern::Hierarchy::from_plant(catalog.plant());
    let mut touched: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for unit in units {
        if let Some(area) = catalog.unit_area(&model::UnitId::from(unit.as_str())) {
            touched.entry(area.to_string()).or_default().push(unit);
        }
    }
    for (area, in_area) in &touched {
        if !proposer.scope.reaches(&hierarchy, Some(area)) {
            return Err(forbidden(format!(
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
        (None, _) => Err(Problem::unprocessable(format!(
            "area: none of the units the scenario changes ({}) is a unit of the loaded plant; name the proposal's `area`",
            units.iter().cloned().collect::<Vec<_>>().join(", ")
        ))),
        (Some(_), Some(_)) => Err(Problem::unprocessable(format!(
            "area: the scenario changes units in areas {}; name the proposal's `area`",
            touched.keys().cloned().collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Checks the request and computes the title, evidence and diff (pure; runs off the runtime).
fn prepare(request: &CommitRequest, proposer: &str) -> Result<Prepared, Problem> {
    let problem = &request.problem;
    let chosen = &request.scenario;
    problem
        .validate()
        .map_err(|e| Problem::unprocessable(format!("problem: {e}")))?;
    let runs = request.risk_runs.unwrap_or(200);
    if !(1..=10_000).contains(&runs) {
        return Err(Problem::unprocessable(format!(
            "risk_runs: must be 1 to 10000, got {runs}"
        )));
    }
    let spread = request.duration_spread.unwrap_or(0.15);
    if !(0.0..=2.0).contains(&spread) {
        return Err(Problem::unprocessable(format!(
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
        .map_err(|m| Problem::unprocessable(format!("scenario.{m}")))?;
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
            .map_err(impossible)
    };
    let after = judge(&chosen.changes, &chosen.schedule)?;
    let baseline: Option<PlantSchedule> = match &request.plan {
        Some(plan) => Some(plan.clone()),
        None if !problem.reference.is_empty() => Some(PlantSchedule {
            assignments: problem.reference.clone(),
        }),
        None => None,
    };
    let before = match &baseline {
        Some(plan) => judge(&ScenarioChanges::default(), plan)?,
        None => BTreeMap::new(),
    };
    let (diff, units) = diff(problem, chosen, baseline.as_ref());
    if diff.is_empty() {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "nothing-to-commit",
            format!(
                "scenario `{}` changes nothing against the plan in force: nothing to commit",
                chosen.scenario
            ),
        ));
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
    let input_sha256 = digest.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    });
    Ok(Prepared {
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

/// A 422 listing the checker's violations.
fn infeasible(what: &str, violations: &[schedule::plant::Violation]) -> Problem {
    let listed: Vec<String> = violations
        .iter()
        .take(MAX_LISTED_VIOLATIONS)
        .map(|v| serde_json::to_string(v).expect("violations serialise"))
        .collect();
    let mut problem = Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "infeasible-schedule",
        format!(
            "{what}: {} violation(s), first {}",
            violations.len(),
            listed.first().map_or("", String::as_str)
        ),
    );
    problem.errors = listed;
    problem
}

/// The evidence's KPIs: the engine's, by name.
fn kpi_map(kpis: &ScenarioKpis) -> BTreeMap<String, f64> {
    let Value::Object(fields) = json!(kpis) else {
        unreachable!("KPIs serialise as an object")
    };
    fields
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.as_f64()?)))
        .collect()
}

fn at(problem: &PlantProblem, minute: i64) -> Value {
    json!(problem.horizon_start.plus_minutes(minute as f64))
}

fn window_json(problem: &PlantProblem, w: &Interval) -> Value {
    json!({ "start": at(problem, w.start), "end": at(problem, w.end) })
}

/// The diff a MES needs to carry the scenario out, and the units it touches:
/// 1. each deferred order's due date (`order.due`, with `shift_minutes`);
/// 2. each unit's or pool's overtime windows (`unit.overtime_windows` /
///    `pool.overtime_windows`, before `[]`);
/// 3. each operation whose unit or start differs from the plan in force (`operation.unit`,
///    `operation.start` with `shift_minutes`; before `null` when the plan lacks it).
///
/// Changes of high-priority orders (weight of `high` or more) are flagged.
fn diff(
    problem: &PlantProblem,
    chosen: &ChosenScenario,
    baseline: Option<&PlantSchedule>,
) -> (Vec<Change>, BTreeSet<String>) {
    let weight: BTreeMap<&str, f64> = problem
        .orders
        .iter()
        .map(|o| (o.id.as_str(), o.weight))
        .collect();
    let high = |order: &str| {
        weight
            .get(order)
            .is_some_and(|w| *w >= Priority::High.weight())
    };
    let order_of: BTreeMap<&str, &str> = problem
        .operations
        .iter()
        .map(|op| (op.id.as_str(), op.order.as_str()))
        .collect();
    let mut changes = Vec::new();
    let mut units = BTreeSet::new();
    for d in &chosen.changes.deferred {
        changes.push(Change {
            entity: "order".into(),
            id: d.order.clone(),
            field: "due".into(),
            before: at(problem, d.due),
            after: at(problem, d.deferred_due),
            shift_minutes: Some(d.deferred_due - d.due),
            high_priority: high(&d.order),
        });
    }
    for ot in &chosen.changes.overtime {
        if ot.kind == "unit" {
            units.insert(ot.id.clone());
        }
        changes.push(Change {
            entity: ot.kind.clone(),
            id: ot.id.clone(),
            field: "overtime_windows".into(),
            before: json!([]),
            after: Value::Array(ot.windows.iter().map(|w| window_json(problem, w)).collect()),
            shift_minutes: None,
            high_priority: false,
        });
    }
    let before: BTreeMap<&str, &Assignment> = baseline
        .map(|b| b.assignments.iter().map(|a| (a.op.as_str(), a)).collect())
        .unwrap_or_default();
    let mut after: Vec<&Assignment> = chosen.schedule.assignments.iter().collect();
    after.sort_by(|a, b| a.op.cmp(&b.op));
    for a in after {
        let high_priority = order_of.get(a.op.as_str()).is_some_and(|o| high(o));
        let was = before.get(a.op.as_str());
        let change = |field: &str, before: Value, after: Value, shift: Option<i64>| Change {
            entity: "operation".into(),
            id: a.op.clone(),
            field: field.into(),
            before,
            after,
            shift_minutes: shift,
            high_priority,
        };
        if was.is_none_or(|b| b.unit != a.unit) {
            changes.push(change(
                "unit",
                was.map_or(Value::Null, |b| json!(b.unit)),
                json!(a.unit),
                None,
            ));
            units.insert(a.unit.clone());
            if let Some(b) = was {
                units.insert(b.unit.clone());
            }
        }
        if was.is_none_or(|b| b.start != a.start) {
            changes.push(change(
                "start",
                was.map_or(Value::Null, |b| at(problem, b.start)),
                at(problem, a.start),
                was.map(|b| a.start - b.start),
            ));
            units.insert(a.unit.clone());
        }
    }
    (changes, units)
}

/// `Scenario <kind>: late orders 3 → 1, weighted tardiness …` (headline KPIs, plan → scenario).
fn title(
    kind: ScenarioKind,
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
    diff: &[Change],
) -> String {
    let headline = [
        ("late orders", "late_orders", 0),
        ("weighted tardiness", "weighted_tardiness", 0),
        ("changeover cost", "changeover_cost", 0),
        ("makespan", "makespan_minutes", 0),
        ("on-time risk", "on_time_risk", 3),
    ];
    let parts: Vec<String> = headline
        .iter()
        .map(|(label, key, digits)| {
            let a = after[*key];
            match before.get(*key) {
                Some(b) => format!("{label} {b:.digits$} → {a:.digits$}"),
                None => format!("{label} {a:.digits$}"),
            }
        })
        .collect();
    let moved = diff
        .iter()
        .filter(|c| c.entity == "operation")
        .map(|c| c.id.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    format!(
        "Scenario {kind}: {}{}; {moved} operation(s) moved",
        parts.join(", "),
        if before.is_empty() {
            " (no plan in force)"
        } else {
            ""
        }
    )
}
