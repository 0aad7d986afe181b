//! What-if scenarios over HTTP: `POST /v1/schedule/scenarios` (the plan and up to 5 what-if
//! schedules of a native problem, each a genuine alternative to the plan with KPIs and Monte
//! Carlo on-time risk per order, ranked by weighted KPIs; what-ifs that found none are listed
//! in `none_found` with the reason) and `POST /v1/schedule/scenarios/commit` (the planner's choice becomes a governed
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
        summary: "What-if schedules (objective presets, overtime on the bottleneck, deferral of low-priority orders) with on-time risk per order, ranked by weighted KPIs; each differs from the plan and from the others, and a what-if with no alternative is listed in none_found with the reason; without a problem, of the plant as it is now starting from the plan in force, and the answer's `basis` holds that problem and plan for the commit to send back",
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
) -> Result<Json200<app::scenario::ScenarioAnswer>, Problem> {
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
