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
//! Every schedule returned has passed the independent checker; one that does not is a 500 (a
//! solver bug), never an answer. Impossible input is a 422 naming what is at fault. The
//! solver runs on a blocking thread ([`app::blocking`]).

use app::blocking;
use app::schedule::{
    CheckRequest, ExplainRequest, OptimizeRequest, OptimizeResponse, RepairRequest, RepairResponse,
    SolveRequest, SolveResponse,
};
use axum::extract::State;
use axum::http::Method;
use axum::routing::post;
use schedule::plant::checker::CheckReport;
use schedule::plant::explain::Explanation;

use crate::AppState;
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

async fn repair(Json(request): Json<RepairRequest>) -> Result<Json200<RepairResponse>, Problem> {
    Ok(Json200(
        blocking(move || app::schedule::repair(request)).await?,
    ))
}
