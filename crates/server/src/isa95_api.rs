//! ISA-95 documents over HTTP: `POST /v1/b2mml/schedule` releases a B2MML schedule's
//! requests as orders, `GET /v1/b2mml/schedule` answers the plan in force as a B2MML V0700
//! `OperationsSchedule`, `POST /v1/batchml/routing` reads a BatchML master recipe as a routing
//! of the loaded plant (stored nowhere: the plant changes only by loading a new one).
//!
//! The handlers extract, call `app::isa95` and answer; releasing orders is writing events
//! (the caller's scope is checked on each order's routing, as for `POST /v1/events`).

use std::collections::BTreeMap;

use app::isa95::ScheduleImported;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use isa95::{OrderOptions, RecipeImport, RecipeOptions, Strictness};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Caller;
use crate::extract::Query;
use crate::problem::Problem;
use crate::routes::{Endpoint, Param, Permission, query};

const SCHEDULE_PARAMS: &[Param] = &[
    query(
        "per_request",
        "boolean",
        "Release the requests that map and list the others (`refused`), instead of refusing the whole document on the first fault",
    ),
    query(
        "due_after_hours",
        "number",
        "Due date of a request that gives none: this many hours after its release (without it such a request is refused)",
    ),
];

const RECIPE_PARAMS: &[Param] = &[
    query(
        "routing",
        "string",
        "The routing's id (default: the recipe's ID)",
    ),
    query(
        "product",
        "string",
        "The product the recipe makes (default: the header's ProductID)",
    ),
    query(
        "equipment",
        "string",
        "Unit procedures and the work center or unit running each: `Make Suspension=WC-RX;Package=FS-1` (for those whose equipment requirements name none)",
    ),
    query(
        "default_step_minutes",
        "number",
        "Minutes of an operation whose phases give no time",
    ),
];

/// The ISA-95 endpoints, appended to the route table by [`crate::api::endpoints`].
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            method: Method::POST,
            path: "/v1/b2mml/schedule",
            operation_id: "importB2mmlSchedule",
            summary: "Release the orders of a B2MML ProductionSchedule (V0401, V0600) or OperationsSchedule (V0600, V0700): one order per request, all or nothing unless `per_request`; the same document again stores nothing",
            tag: "isa95",
            params: SCHEDULE_PARAMS,
            request: Some(|g| g.subschema_for::<String>()),
            response: |g| g.subschema_for::<ScheduleImported>(),
            success_status: 200,
            permission: Permission::WriteEvents,
            conflicts: &["event-conflict"],
            handler: || post(import_schedule),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/b2mml/schedule",
            operation_id: "exportB2mmlSchedule",
            summary: "The plan in force as a B2MML V0700 SyncOperationsSchedule: one OperationsRequest per order, a SegmentRequirement per operation with its unit and earliest start / latest end (an area reader gets its area's units only); 404 when no plan is in force",
            tag: "isa95",
            params: &[],
            request: None,
            response: |g| g.subschema_for::<String>(),
            success_status: 200,
            permission: Permission::ReadSchedule,
            conflicts: &[],
            handler: || get(export_schedule),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/batchml/routing",
            operation_id: "readBatchmlRecipe",
            summary: "Read a BatchML master recipe as a process routing of the loaded plant (one step per operation, units from each unit procedure's work center or unit, durations from the phases); stores nothing",
            tag: "isa95",
            params: RECIPE_PARAMS,
            request: Some(|g| g.subschema_for::<String>()),
            response: |g| g.subschema_for::<RecipeImport>(),
            success_status: 200,
            permission: Permission::ReadPlant,
            conflicts: &[],
            handler: || post(read_recipe),
        },
    ]
}

fn body_text(body: &Bytes) -> Result<&str, Problem> {
    std::str::from_utf8(body)
        .map_err(|e| Problem::bad_request(format!("the body is not UTF-8: {e}")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleParams {
    #[serde(default)]
    per_request: bool,
    due_after_hours: Option<f64>,
}

async fn import_schedule(
    State(app): State<AppState>,
    caller: Caller,
    Query(params): Query<ScheduleParams>,
    body: Bytes,
) -> Result<axum::Json<ScheduleImported>, Problem> {
    let options = OrderOptions {
        strictness: if params.per_request {
            Strictness::PerRequest
        } else {
            Strictness::WholeDocument
        },
        due_after_hours: params.due_after_hours,
    };
    let imported =
        app::isa95::import_schedule(&app, &caller.0, body_text(&body)?, &options).await?;
    Ok(axum::Json(imported))
}

async fn export_schedule(State(app): State<AppState>, caller: Caller) -> Result<Response, Problem> {
    let text = app::isa95::export_schedule(&app, &caller.0).await?;
    Ok(([(header::CONTENT_TYPE, "application/xml")], text).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecipeParams {
    routing: Option<String>,
    product: Option<String>,
    equipment: Option<String>,
    default_step_minutes: Option<f64>,
}

/// `equipment` as `UNIT_PROCEDURE=ID` pairs separated by `;`.
fn equipment_pairs(text: Option<&str>) -> Result<BTreeMap<String, String>, Problem> {
    let mut pairs = BTreeMap::new();
    for pair in text
        .unwrap_or("")
        .split(';')
        .filter(|p| !p.trim().is_empty())
    {
        let (unit_procedure, id) = pair.rsplit_once('=').ok_or_else(|| {
            Problem::bad_request(format!(
                "equipment: `{pair}` is not UNIT_PROCEDURE=WORK_CENTER_OR_UNIT"
            ))
        })?;
        pairs.insert(unit_procedure.trim().to_owned(), id.trim().to_owned());
    }
    Ok(pairs)
}

async fn read_recipe(
    State(app): State<AppState>,
    Query(params): Query<RecipeParams>,
    body: Bytes,
) -> Result<axum::Json<RecipeImport>, Problem> {
    let options = RecipeOptions {
        routing: params.routing.map(model::RoutingId::from),
        product: params.product.map(model::MaterialId::from),
        equipment: equipment_pairs(params.equipment.as_deref())?,
        default_step_minutes: params.default_step_minutes,
    };
    let import = app::isa95::recipe_routing(&app, body_text(&body)?, &options).await?;
    Ok(axum::Json(import))
}
