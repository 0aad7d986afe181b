//! What-if scenarios over HTTP: `POST /v1/schedule/scenarios` (3–5 what-if schedules of a
//! native problem, each with KPIs and Monte Carlo on-time risk per order, ranked by weighted
//! KPIs) and `POST /v1/schedule/scenarios/commit` (the planner's choice becomes a governed
//! `schedule_change` proposal). The use-cases, with their checks and the proposal's diff and
//! evidence, are `app::scenario`'s.

use app::scenario::{CommitRequest, ScenariosRequest};
use axum::extract::State;
use axum::http::Method;
use axum::routing::post;
use govern::Proposal;
use schedule::plant::scenario::ScenarioReport;

use crate::AppState;
use crate::api::{Created, Json200};
use crate::auth::Caller;
use crate::extract::Json;
use crate::problem::Problem;
use crate::routes::{Endpoint, Permission};

/// The scenario endpoints, appended to the route table by `api::endpoints`.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        scenarios_endpoint(),
        Endpoint {
            method: Method::POST,
            path: "/v1/schedule/scenarios/commit",
            operation_id: "scheduleScenarioCommit",
            summary: "Commit a what-if scenario: its schedule is re-checked against the scenario's problem (the current problem when none is sent) and becomes a schedule_change proposal (KPIs of the plan in force vs the scenario as evidence; due-date moves, overtime windows and moved operations as the diff) that the policy applies or holds for approval; applied, the scenario's schedule becomes the plan in force",
            tag: "schedule",
            params: &[],
            request: Some(|g| g.subschema_for::<CommitRequest>()),
            response: |g| g.subschema_for::<Proposal>(),
            success_status: 201,
            permission: Permission::ProposeChanges,
            conflicts: &["stale-before"],
            handler: || post(commit),
        },
    ]
}

fn scenarios_endpoint() -> Endpoint {
    Endpoint {
        method: Method::POST,
        path: "/v1/schedule/scenarios",
        operation_id: "scheduleScenarios",
        summary: "What-if schedules (objective presets, overtime on the bottleneck, deferral of low-priority orders) with on-time risk per order, ranked by weighted KPIs; without a problem, of the plant as it is now starting from the plan in force",
        tag: "schedule",
        params: &[],
        request: Some(|g| g.subschema_for::<ScenariosRequest>()),
        response: |g| g.subschema_for::<ScenarioReport>(),
        success_status: 200,
        permission: Permission::WriteSchedule,
        conflicts: &[],
        handler: || post(scenarios),
    }
}

async fn scenarios(
    State(app): State<AppState>,
    Json(request): Json<ScenariosRequest>,
) -> Result<Json200<ScenarioReport>, Problem> {
    Ok(Json200(app::scenario::scenarios_now(&app, request).await?))
}

async fn commit(
    State(app): State<AppState>,
    caller: Caller,
    Json(request): Json<CommitRequest>,
) -> Result<Created<Proposal>, Problem> {
    Ok(Created(
        app::scenario::commit(&app, &caller.0, request).await?,
    ))
}
