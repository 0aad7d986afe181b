//! The scheduling endpoints (`/v1/schedule/...`): HTTP over the use-cases in
//! `app::schedule`, which run the pure mixed-mode engine in `schedule::plant`.
//!
//! - `POST /v1/schedule/optimize` takes the classic integration payload as it is
//!   (`production_orders`, `constraints`, `objective`) and answers with the `sequence`,
//!   `throughput_gain_percent`, the KPIs and the schedule;
//! - `POST /v1/schedule/solve`, `/check` and `/repair` speak the native format; `solve`
//!   answers with the explanation of its schedule too;
//! - `POST /v1/schedule/explain` takes a native problem and any schedule of it and answers
//!   with the chain that made each late order late and the bottleneck units and pools.
//!
//! - `GET /v1/schedule` is the plan in force (version, provenance, KPIs, assignments in
//!   minutes and RFC 3339), `GET /v1/schedule/versions` its history, `GET
//!   /v1/schedule/problem` the problem of the plant as it is now, `POST /v1/schedule/plan`
//!   puts the engine's plan of that problem in force (administrators and site-wide planners),
//!   and `GET /v1/proposals/{id}/plan` is the candidate plan a proposal carries
//!   (`app::schedule::in_force`; an area reader sees only its area's units' assignments).
//!
//! Every schedule returned has passed the independent checker; one that does not is a 500 (a
//! solver bug), never an answer. Impossible input is a 422 naming what is at fault. The
//! solver runs on a blocking thread ([`app::blocking`]).

use app::blocking;
use app::schedule::in_force::{
    CandidatePlan, MakePlanRequest, PlanAnswer, PlanSummary, PlanVersion, ProblemAnswer,
};
use app::schedule::{
    CheckRequest, ExplainRequest, OptimizeRequest, OptimizeResponse, RepairRequest, RepairResponse,
    SolveRequest, SolveResponse,
};
use axum::extract::{Path, RawQuery, State};
use axum::http::Method;
use axum::routing::{get, post};
use schedule::plant::checker::CheckReport;
use schedule::plant::explain::Explanation;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::{Created, Json200};
use crate::auth::Caller;
use crate::extract::{Json, Query};
use crate::paging::{Key, Linked, ListSpec, PageRequest};
use crate::problem::Problem;
use crate::routes::{Endpoint, Param, Permission, path, query};

/// The scheduling endpoints, appended to the route table by `api::endpoints`.
pub fn endpoints() -> Vec<Endpoint> {
    let mut endpoints = in_force_endpoints();
    endpoints.extend(engine_endpoints());
    endpoints
}

const VERSION_PARAMS: &[Param] = &[
    query(
        "limit",
        "integer",
        "page size (default 20, max 100); versions come newest first",
    ),
    crate::api::CURSOR,
];

/// How the plan history pages: newest first, by version number, the one order it has.
pub static VERSIONS: ListSpec = ListSpec {
    path: "/v1/schedule/versions",
    default_limit: 20,
    max_limit: store::MAX_PLAN_VERSIONS,
    sorts: &["-version"],
};

/// A page of the plan's versions.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VersionList {
    pub items: Vec<PlanSummary>,
    /// The path and query of the next page; `null` on the last.
    pub next: Option<String>,
}

const PROPOSAL_PARAMS: &[Param] = &[path("id", "proposal id")];

/// The plan in force, its history, the current problem and proposals' candidate plans.
fn in_force_endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            method: Method::GET,
            path: "/v1/schedule",
            operation_id: "getSchedule",
            summary: "The plan in force: version, provenance (who or what made it, from which proposal, when), KPIs, and the assignments in minutes and RFC 3339 (an area reader sees its area's units only); 404 when no plan is in force",
            tag: "schedule",
            params: &[],
            request: None,
            response: |g| g.subschema_for::<PlanAnswer>(),
            success_status: 200,
            permission: Permission::ReadSchedule,
            conflicts: &[],
            handler: || get(schedule_in_force),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/schedule/versions",
            operation_id: "listScheduleVersions",
            summary: "The versions of the plan in force, newest first, with their provenance and KPIs",
            tag: "schedule",
            params: VERSION_PARAMS,
            request: None,
            response: |g| g.subschema_for::<VersionList>(),
            success_status: 200,
            permission: Permission::ReadSchedule,
            conflicts: &[],
            handler: || get(versions),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/schedule/problem",
            operation_id: "getScheduleProblem",
            summary: "The scheduling problem of the plant as it is now (open orders and their remaining steps, running steps fixed, units down, stock not on hold), which what-ifs and repairs start from (an area reader sees its area's units only)",
            tag: "schedule",
            params: &[],
            request: None,
            response: |g| g.subschema_for::<ProblemAnswer>(),
            success_status: 200,
            permission: Permission::ReadSchedule,
            conflicts: &[],
            handler: || get(current_problem),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/schedule/plan",
            operation_id: "makeSchedulePlan",
            summary: "Solve the current problem and put the engine's plan in force as the next version (administrators and site-wide planners); waiting proposals that started from the plan it replaces expire",
            tag: "schedule",
            params: &[],
            request: Some(|g| g.subschema_for::<MakePlanRequest>()),
            response: |g| g.subschema_for::<PlanVersion>(),
            success_status: 201,
            permission: Permission::WriteSchedule,
            conflicts: &[],
            handler: || post(make_plan),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/proposals/{id}/plan",
            operation_id: "getProposalPlan",
            summary: "The candidate plan a proposal carries (its schedule, KPIs, the version it started from) and the alternatives its proposer ranked",
            tag: "governance",
            params: PROPOSAL_PARAMS,
            request: None,
            response: |g| g.subschema_for::<CandidatePlan>(),
            success_status: 200,
            permission: Permission::ReadProposals,
            conflicts: &[],
            handler: || get(proposal_plan),
        },
    ]
}

/// The engine endpoints over native problems and the classic payload.
fn engine_endpoints() -> Vec<Endpoint> {
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
            permission: Permission::WriteSchedule,
            conflicts: &[],
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
            permission: Permission::WriteSchedule,
            conflicts: &[],
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
            permission: Permission::ReadSchedule,
            conflicts: &[],
            handler: || post(check_schedule),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/schedule/explain",
            operation_id: "explainPlanInForce",
            summary: "Why orders are late under the plan in force, rebased on the plant as it is now: each late order's minutes late and chain of waits (or, with `order`, that order's), and the bottleneck units and pools; an area reader sees its late orders, units and pools only; 404 when no plan is in force",
            tag: "schedule",
            params: EXPLAIN_PARAMS,
            request: None,
            response: |g| g.subschema_for::<app::schedule::in_force::LatenessAnswer>(),
            success_status: 200,
            permission: Permission::ReadSchedule,
            conflicts: &[],
            handler: || get(explain_in_force),
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
            permission: Permission::ReadSchedule,
            conflicts: &[],
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
            permission: Permission::WriteSchedule,
            conflicts: &[],
            handler: || post(repair),
        },
    ]
}

async fn optimize(
    State(app): State<AppState>,
    Json(request): Json<OptimizeRequest>,
) -> Result<Json200<OptimizeResponse>, Problem> {
    let now = app.now();
    let answer = blocking(move || app::schedule::optimize(request, now)).await?;
    Ok(Json200(answer))
}

async fn solve(Json(request): Json<SolveRequest>) -> Result<Json200<SolveResponse>, Problem> {
    Ok(Json200(
        blocking(move || app::schedule::solve(request)).await?,
    ))
}

async fn check_schedule(
    Json(request): Json<CheckRequest>,
) -> Result<Json200<CheckReport>, Problem> {
    app::schedule::validate(&request.problem)?;
    let report = blocking(move || Ok(app::schedule::check_schedule(&request))).await?;
    Ok(Json200(report))
}

async fn explain_schedule(
    Json(request): Json<ExplainRequest>,
) -> Result<Json200<Explanation>, Problem> {
    app::schedule::validate(&request.problem)?;
    let explanation = blocking(move || app::schedule::explain_schedule(&request)).await?;
    Ok(Json200(explanation))
}

const EXPLAIN_PARAMS: &[Param] = &[query(
    "order",
    "string",
    "one order's id: its chain of waits if it is late, else `on_time` true (404 when the reader does not read it)",
)];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplainQuery {
    order: Option<String>,
}

async fn explain_in_force(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<ExplainQuery>,
) -> Result<Json200<app::schedule::in_force::LatenessAnswer>, Problem> {
    let order = q.order.as_deref().map(str::trim).filter(|o| !o.is_empty());
    match app::schedule::in_force::explain(&app, &caller.0, order).await? {
        Some(answer) => Ok(Json200(answer)),
        None => Err(Problem::not_found(
            "no plan in force to explain: make one with `POST /v1/schedule/plan` (or `mixplane demo`)",
        )),
    }
}

async fn repair(Json(request): Json<RepairRequest>) -> Result<Json200<RepairResponse>, Problem> {
    Ok(Json200(
        blocking(move || app::schedule::repair(request)).await?,
    ))
}

async fn schedule_in_force(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json200<PlanAnswer>, Problem> {
    match app::schedule::in_force::view(&app, &caller.0).await? {
        Some(plan) => Ok(Json200(plan)),
        None => Err(Problem::not_found(
            "no plan in force: make one with `POST /v1/schedule/plan` (or `mixplane demo`), or apply a proposal that carries a plan",
        )),
    }
}

#[derive(Debug, Deserialize)]
struct VersionQuery {
    limit: Option<u32>,
    cursor: Option<String>,
    sort: Option<String>,
}

async fn versions(
    State(app): State<AppState>,
    Query(q): Query<VersionQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Linked<VersionList>, Problem> {
    let request = PageRequest::parse(
        &VERSIONS,
        q.limit,
        q.sort.as_deref(),
        q.cursor.as_deref(),
        raw.as_deref(),
    )?;
    let before = match request.after.as_deref() {
        None => None,
        Some([Key::Int(version)]) => Some(u64::try_from(*version).unwrap_or(0)),
        Some(_) => {
            return Err(Problem::bad_request(
                "query parameter `cursor`: it does not hold a version number",
            ));
        }
    };
    // One more than the page tells whether there is a next one.
    let mut items =
        app::schedule::in_force::history_before(&app, before, request.limit + 1).await?;
    let next = if items.len() > request.limit as usize {
        items.truncate(request.limit as usize);
        items.last().map(|last| {
            request.next_link(vec![Key::Int(
                i64::try_from(last.header.version).unwrap_or(i64::MAX),
            )])
        })
    } else {
        None
    };
    Ok(Linked(
        VersionList {
            items,
            next: next.clone(),
        },
        next,
    ))
}

async fn current_problem(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json200<ProblemAnswer>, Problem> {
    Ok(Json200(
        app::schedule::in_force::problem_for(&app, &caller.0).await?,
    ))
}

async fn make_plan(
    State(app): State<AppState>,
    caller: Caller,
    Json(request): Json<MakePlanRequest>,
) -> Result<Created<PlanVersion>, Problem> {
    Ok(Created(
        app::schedule::in_force::make_plan(&app, &caller.0, request).await?,
    ))
}

async fn proposal_plan(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json200<CandidatePlan>, Problem> {
    Ok(Json200(
        app::schedule::in_force::candidate(&app, &caller.0, &id).await?,
    ))
}
