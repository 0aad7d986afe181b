//! The scheduling endpoints (`/v1/schedule/...`): thin HTTP glue over the pure mixed-mode
//! engine in `schedule::plant`.
//!
//! - `POST /v1/schedule/optimize` takes the classic integration payload as it is
//!   (`production_orders`, `constraints`, `objective`), maps it to a native problem (each work
//!   center becomes `work_center_capacity` parallel units; changeovers of
//!   `changeover_time_minutes` between different `current_parameter_set`s; an order with
//!   `cleaning_in_place_required` gets a CIP before it; orders whose material is not
//!   available are released after `material_lead_time_minutes`; required certifications are
//!   pools sized by `certified_operators` when given), solves it, and answers with the
//!   `sequence`, `throughput_gain_percent` against the orders run as given (first come, first
//!   served on the first free unit), the KPIs and the schedule;
//! - `POST /v1/schedule/solve`, `/check` and `/repair` speak the native format; `solve`
//!   answers with the explanation of its schedule too;
//! - `POST /v1/schedule/explain` takes a native problem and any schedule of it and answers
//!   with the chain that made each late order late and the units and pools ranked as
//!   bottlenecks (`schedule::plant::explain`).
//!
//! Every schedule returned has passed the independent checker; a schedule that does not is a
//! 500 (a solver bug), never an answer. Impossible input is a 422 naming the order,
//! operation, pool, certification or material at fault; a schedule naming an operation or
//! unit the problem does not have is a 422 naming it. The solver runs on a blocking thread
//! with a time limit read from the server's clock (the engine itself has none).

use std::collections::BTreeMap;
use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::routing::post;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use model::Timestamp;
use schedule::plant::checker::{CheckReport, Kpis};
use schedule::plant::construct::{Model, Rule, Score, decode, initial};
use schedule::plant::explain::Explanation;
use schedule::plant::problem::*;
use schedule::plant::repair::{BreachedMaxLag, Disruption};
use schedule::plant::{PlantSolveError, PlantSolveOptions, check, solve_plant};
use schedule::{Either, Termination, TimeLimit};

use crate::api::Json200;
use crate::extract::Json;
use crate::problem::Problem;
use crate::routes::{Endpoint, Permission};

/// The scheduling endpoints, appended to the route table by `api::endpoints`.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            method: Method::POST,
            path: "/v1/schedule/optimize",
            operation_id: "optimizeSchedule",
            summary: "Classic integration payload (production_orders, constraints, objective) → sequence, throughput gain, KPIs and schedule",
            tag: "schedule",
            params: &[],
            request: Some(|g| g.subschema_for::<OptimizeRequest>()),
            response: |g| g.subschema_for::<OptimizeResponse>(),
            success_status: 200,
            writes: false,
            permission: Permission::WriteSchedule,
            handler: || post(optimize),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/schedule/solve",
            operation_id: "solveSchedule",
            summary: "Solve a native mixed-mode problem; the schedule has passed the independent checker",
            tag: "schedule",
            params: &[],
            request: Some(|g| g.subschema_for::<SolveRequest>()),
            response: |g| g.subschema_for::<SolveResponse>(),
            success_status: 200,
            writes: false,
            permission: Permission::WriteSchedule,
            handler: || post(solve),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/schedule/check",
            operation_id: "checkSchedule",
            summary: "Check a schedule against a native problem: every violated constraint with the ids involved, and the KPIs",
            tag: "schedule",
            params: &[],
            request: Some(|g| g.subschema_for::<CheckRequest>()),
            response: |g| g.subschema_for::<CheckReport>(),
            success_status: 200,
            writes: false,
            permission: Permission::ReadSchedule,
            handler: || post(check_schedule),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/schedule/explain",
            operation_id: "explainSchedule",
            summary: "Explain a schedule of a native problem: for each late order the chain of waits that made it late (unit, setup, pool, material, calendar, downtime, precedence, release), and the bottleneck units and pools with their load",
            tag: "schedule",
            params: &[],
            request: Some(|g| g.subschema_for::<ExplainRequest>()),
            response: |g| g.subschema_for::<Explanation>(),
            success_status: 200,
            writes: false,
            permission: Permission::ReadSchedule,
            handler: || post(explain_schedule),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/schedule/repair",
            operation_id: "repairSchedule",
            summary: "Reschedule after downtime or a rush order, moving as little as needed",
            tag: "schedule",
            params: &[],
            request: Some(|g| g.subschema_for::<RepairRequest>()),
            response: |g| g.subschema_for::<RepairResponse>(),
            success_status: 200,
            writes: false,
            permission: Permission::WriteSchedule,
            handler: || post(repair),
        },
    ]
}

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
    #[serde(default)]
    pub operator_certifications_required: Vec<String>,
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
    #[serde(default)]
    pub work_center_capacity: Option<Capacity>,
    /// Changeover between different parameter sets (and CIP length), minutes.
    #[serde(default)]
    pub changeover_time_minutes: Option<f64>,
    /// Reported against the achieved utilisation.
    #[serde(default)]
    pub target_utilization_percent: Option<f64>,
    /// Certified operators available per certification; absent = not limiting.
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

pub(crate) fn impossible(error: impl std::fmt::Display) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "impossible-schedule",
        error.to_string(),
    )
}

fn solve_error(error: PlantSolveError) -> Problem {
    impossible(error)
}

fn options(limits: &SearchLimits, objective: Option<Objective>) -> PlantSolveOptions {
    PlantSolveOptions {
        seed: limits.seed,
        threads: limits.threads.unwrap_or(1).clamp(1, 4),
        max_iterations: limits.iterations,
        objective,
    }
}

fn termination(limits: &SearchLimits) -> impl Termination {
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

pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| Problem::internal("the scheduler failed; see the server log"))?
}

pub(crate) fn checked(
    problem: &PlantProblem,
    schedule: &PlantSchedule,
) -> Result<CheckReport, Problem> {
    let report = check(problem, schedule);
    if !report.feasible {
        tracing::error!(violations = ?report.violations, "solver returned an infeasible schedule");
        return Err(Problem::internal(
            "the solver's schedule failed the independent checker (a bug; see the server log)",
        ));
    }
    Ok(report)
}

async fn solve(Json(request): Json<SolveRequest>) -> Result<Json200<SolveResponse>, Problem> {
    blocking(move || {
        let objective = request.objective.map(Objective::preset);
        let mut problem = request.problem;
        let mut term = termination(&request.limits);
        let solution = solve_plant(
            &problem,
            &options(&request.limits, objective),
            &mut term,
            &mut |_| {},
        )
        .map_err(solve_error)?;
        if objective.is_some() {
            problem.objective = objective;
        }
        let report = checked(&problem, &solution.schedule)?;
        let explanation = if request.explain {
            Some(schedule::plant::explain(&problem, &solution.schedule).map_err(impossible)?)
        } else {
            None
        };
        Ok(Json200(SolveResponse {
            schedule: solution.schedule,
            score: solution.score,
            initial_score: solution.initial_score,
            kpis: report.kpis,
            iterations: solution.iterations,
            explanation,
        }))
    })
    .await
}

async fn check_schedule(
    Json(request): Json<CheckRequest>,
) -> Result<Json200<CheckReport>, Problem> {
    request.problem.validate().map_err(impossible)?;
    blocking(move || Ok(Json200(check(&request.problem, &request.schedule)))).await
}

async fn explain_schedule(
    Json(request): Json<ExplainRequest>,
) -> Result<Json200<Explanation>, Problem> {
    request.problem.validate().map_err(impossible)?;
    blocking(move || {
        schedule::plant::explain(&request.problem, &request.schedule)
            .map(Json200)
            .map_err(|e| {
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-schedule",
                    e.to_string(),
                )
            })
    })
    .await
}

async fn repair(Json(request): Json<RepairRequest>) -> Result<Json200<RepairResponse>, Problem> {
    blocking(move || {
        let mut term = termination(&request.limits);
        let out = schedule::plant::repair::repair(
            &request.problem,
            &request.schedule,
            &request.disruptions,
            request.now,
            &options(&request.limits, None),
            &mut term,
        )
        .map_err(solve_error)?;
        let report = checked(&out.problem, &out.schedule)?;
        Ok(Json200(RepairResponse {
            problem: out.problem,
            schedule: out.schedule,
            score: out.score,
            kpis: report.kpis,
            moved: out.moved,
            iterations: out.iterations,
            breached_max_lags: out.breached_max_lags,
        }))
    })
    .await
}

fn preset(objective: Option<&str>) -> Result<Preset, Problem> {
    match objective.unwrap_or("balanced") {
        "minimize_makespan" | "maximize_throughput" | "throughput" => {
            Ok(Preset::MaximizeThroughput)
        }
        "minimize_tardiness" | "on_time_delivery" => Ok(Preset::MinimizeTardiness),
        "minimize_changeovers" | "minimize_changeover" => Ok(Preset::MinimizeChangeovers),
        "balanced" => Ok(Preset::Balanced),
        other => Err(impossible(format!(
            "objective: unknown objective `{other}` (expected maximize_throughput, minimize_tardiness, minimize_changeovers or balanced)"
        ))),
    }
}

/// Maps the classic payload to a native problem (unit ids `WORK_CENTER#k`).
pub fn classic_problem(
    request: &OptimizeRequest,
    start: Timestamp,
) -> Result<PlantProblem, Problem> {
    if request.production_orders.is_empty() {
        return Err(impossible(
            "production_orders: there is no order to schedule",
        ));
    }
    let c = &request.constraints;
    let changeover = c.changeover_time_minutes.unwrap_or(0.0).max(0.0).ceil() as i64;
    let lead = c.material_lead_time_minutes.unwrap_or(480).max(0);
    let mut centers: BTreeMap<&str, u32> = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    for o in &request.production_orders {
        if !seen.insert(o.order_id.as_str()) {
            return Err(impossible(format!(
                "production_orders: order `{}` is listed twice",
                o.order_id
            )));
        }
        if !matches!(o.kind.as_str(), "discrete" | "process" | "repetitive") {
            return Err(impossible(format!(
                "order `{}`: type `{}` is not discrete, process or repetitive",
                o.order_id, o.kind
            )));
        }
        if !(o.estimated_duration_minutes.is_finite() && o.estimated_duration_minutes > 0.0) {
            return Err(impossible(format!(
                "order `{}`: estimated_duration_minutes must be a positive number",
                o.order_id
            )));
        }
        let capacity = match &c.work_center_capacity {
            None => 1,
            Some(Capacity::All(n)) => *n,
            Some(Capacity::PerWorkCenter(map)) => map.get(&o.work_center).copied().unwrap_or(1),
        };
        if capacity == 0 {
            return Err(impossible(format!(
                "order `{}` cannot run: work center `{}` has no capacity (work_center_capacity is 0)",
                o.order_id, o.work_center
            )));
        }
        centers.insert(&o.work_center, capacity.min(64));
    }
    let cip_centers: std::collections::HashSet<&str> = request
        .production_orders
        .iter()
        .filter(|o| o.cleaning_in_place_required)
        .map(|o| o.work_center.as_str())
        .collect();
    let mut units = Vec::new();
    for (wc, n) in &centers {
        for k in 1..=*n {
            units.push(UnitSpec {
                id: format!("{wc}#{k}"),
                mode: None,
                availability: None,
                downtime: Vec::new(),
                changeover: Some("parameter_set".into()),
                cip: cip_centers.contains(wc).then(|| CipSpec {
                    minutes: changeover.max(1),
                    cost: 0.0,
                    on_product_change: true,
                    after_batches: None,
                    max_run_minutes: None,
                }),
            });
        }
    }
    let mut pools = Vec::new();
    if let Some(certified) = &c.certified_operators {
        let mut needed: BTreeMap<&str, ()> = BTreeMap::new();
        for o in &request.production_orders {
            for cert in &o.operator_certifications_required {
                let have = certified.get(cert).copied().unwrap_or(0);
                if have == 0 {
                    return Err(impossible(format!(
                        "order `{}` needs certification `{cert}` that nobody holds (certified_operators)",
                        o.order_id
                    )));
                }
                needed.insert(cert, ());
            }
        }
        for cert in needed.keys() {
            pools.push(PoolSpec {
                id: format!("cert:{cert}"),
                description: Some(format!("operators certified {cert}")),
                capacity: certified[*cert],
                availability: None,
                dips: Vec::new(),
            });
        }
    }
    let mut orders = Vec::new();
    let mut operations = Vec::new();
    for o in &request.production_orders {
        let weight = match o.priority.as_deref().unwrap_or("medium") {
            "high" => 4.0,
            "medium" => 2.0,
            "low" => 1.0,
            other => {
                return Err(impossible(format!(
                    "order `{}`: priority `{other}` is not high, medium or low",
                    o.order_id
                )));
            }
        };
        let due = o
            .due_minutes
            .or_else(|| o.due_date.map(|d| (d.0 - start.0).div_euclid(60_000)));
        orders.push(OrderSpec {
            id: o.order_id.clone(),
            release: if o.material_available { 0 } else { lead },
            due,
            weight,
        });
        let n = centers[o.work_center.as_str()];
        let minutes = o.estimated_duration_minutes.ceil() as i64;
        let mut attributes = BTreeMap::new();
        if let Some(ps) = &o.current_parameter_set {
            attributes.insert("parameter_set".to_string(), ps.clone());
        }
        let product = if o.cleaning_in_place_required {
            format!("cip:{}", o.order_id)
        } else {
            o.current_parameter_set.clone().unwrap_or_default()
        };
        operations.push(OperationSpec {
            id: o.order_id.clone(),
            order: o.order_id.clone(),
            release: None,
            predecessors: Vec::new(),
            alternatives: (1..=n)
                .map(|k| AltSpec {
                    unit: format!("{}#{k}", o.work_center),
                    minutes: Some(minutes),
                    items_per_hour: None,
                    setup_minutes: 0,
                })
                .collect(),
            quantity: 0.0,
            product: Some(product),
            family: None,
            attributes,
            pools: if c.certified_operators.is_some() {
                o.operator_certifications_required
                    .iter()
                    .map(|cert| PoolUse {
                        pool: format!("cert:{cert}"),
                        quantity: 1,
                    })
                    .collect()
            } else {
                Vec::new()
            },
            consumes: Vec::new(),
            produces: Vec::new(),
            fixed: None,
        });
    }
    let problem = PlantProblem {
        schema_version: PROBLEM_SCHEMA_VERSION,
        horizon_start: start,
        horizon_minutes: 0,
        units,
        changeovers: vec![ChangeoverTable {
            id: "parameter_set".into(),
            keyed_by: KeyedBy::Attribute {
                name: "parameter_set".into(),
            },
            default_minutes: changeover,
            default_cost: changeover as f64,
            entries: Vec::new(),
        }],
        pools,
        materials: Vec::new(),
        orders,
        operations,
        reference: Vec::new(),
        objective: Some(Objective::preset(preset(request.objective.as_deref())?)),
    };
    problem.validate().map_err(impossible)?;
    Ok(problem)
}

async fn optimize(
    Json(request): Json<OptimizeRequest>,
) -> Result<Json200<OptimizeResponse>, Problem> {
    let start = request.start.unwrap_or_else(|| {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        Timestamp(ms - ms.rem_euclid(60_000))
    });
    let problem = classic_problem(&request, start)?;
    blocking(move || {
        // The baseline: the orders as given, each on the first free unit of its work center.
        let model = Model::compile(&problem);
        let baseline = decode(&model, &initial(&model, Rule::Topological))
            .map_err(|e| impossible(format!("no schedule: {e}")))?;
        let baseline_report = checked(&problem, &baseline.to_schedule(&model))?;
        let mut term = termination(&request.limits);
        let solution = solve_plant(
            &problem,
            &options(&request.limits, None),
            &mut term,
            &mut |_| {},
        )
        .map_err(solve_error)?;
        let (schedule, score) = if solution.score.total <= baseline.score.total {
            (solution.schedule, solution.score)
        } else {
            (baseline.to_schedule(&model), baseline.score)
        };
        let report = checked(&problem, &schedule)?;
        let k = &report.kpis;
        let mut slots: Vec<ClassicSlot> = schedule
            .assignments
            .iter()
            .map(|a| ClassicSlot {
                order_id: a.op.clone(),
                work_center: a
                    .unit
                    .rsplit_once('#')
                    .map_or(a.unit.clone(), |x| x.0.to_owned()),
                unit: a.unit.clone(),
                start_minute: a.start,
                end_minute: a.end,
                start: start.plus_minutes(a.start as f64),
                end: start.plus_minutes(a.end as f64),
            })
            .collect();
        slots.sort_by(|a, b| (a.start_minute, &a.unit).cmp(&(b.start_minute, &b.unit)));
        let base = baseline_report.kpis.makespan.max(1) as f64;
        let target = request.constraints.target_utilization_percent;
        Ok(Json200(OptimizeResponse {
            sequence: slots.iter().map(|s| s.order_id.clone()).collect(),
            throughput_gain_percent: ((base - k.makespan as f64) / base * 1000.0).round() / 10.0,
            kpis: ClassicKpis {
                makespan_minutes: k.makespan,
                baseline_makespan_minutes: baseline_report.kpis.makespan,
                changeover_minutes: k.changeover_minutes,
                baseline_changeover_minutes: baseline_report.kpis.changeover_minutes,
                cips: k.cips,
                weighted_tardiness: k.weighted_tardiness,
                late_orders: k.late_orders,
                utilization_percent: (k.utilization_percent * 10.0).round() / 10.0,
                target_utilization_percent: target,
                meets_target_utilization: target.map(|t| k.utilization_percent >= t),
            },
            schedule: slots,
            score,
            feasible: report.feasible,
        }))
    })
    .await
}
