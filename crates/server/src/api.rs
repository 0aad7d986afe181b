//! Handlers of the v1 API and their place in the route table.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use app::plant::WorkCenterView;
use model::{Event, Mode, OrderState, OrderStatus, Plant, Timestamp};
use store::{AppendOutcome, EventFilter, OrderFilter, StoredEvent};

use crate::AppState;
use crate::auth::Caller;
use crate::event_batch::EventBatch;
use crate::extract::Query;
use crate::problem::Problem;
use crate::routes::{Endpoint, Param, Permission, names, path, query};

/// The operation id of the event batch, which has its own body and batch limits.
pub const INGEST_EVENTS: &str = "ingestEvents";

/// Every endpoint of the service. Adding one here adds it to the router and the OpenAPI
/// document at once.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            method: Method::GET,
            path: "/healthz",
            operation_id: "health",
            summary: "Liveness and a count of stored events",
            tag: "operations",
            params: &[],
            request: None,
            response: |g| g.subschema_for::<Health>(),
            success_status: 200,
            permission: Permission::Public,
            conflicts: &[],
            handler: || get(health),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/plant",
            operation_id: "getPlant",
            summary: "The plant model: hierarchy, pools, materials, routings, calendars, inspection plans",
            tag: "plant",
            params: &[],
            request: None,
            response: |g| g.subschema_for::<Plant>(),
            success_status: 200,
            permission: Permission::ReadPlant,
            conflicts: &[],
            handler: || get(get_plant),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/orders",
            operation_id: "listOrders",
            summary: "Production orders with their progress, filtered by mode and status, paged",
            tag: "orders",
            params: ORDER_PARAMS,
            request: None,
            response: |g| g.subschema_for::<OrderPage>(),
            success_status: 200,
            permission: Permission::ReadPlant,
            conflicts: &[],
            handler: || get(list_orders),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/orders/{id}",
            operation_id: "getOrder",
            summary: "One production order with its progress",
            tag: "orders",
            params: ORDER_ID_PARAMS,
            request: None,
            response: |g| g.subschema_for::<OrderState>(),
            success_status: 200,
            permission: Permission::ReadPlant,
            conflicts: &[],
            handler: || get(get_order),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/work-centers",
            operation_id: "listWorkCenters",
            summary: "Work centers with their units' current state and utilisation",
            tag: "plant",
            params: &[],
            request: None,
            response: |g| g.subschema_for::<Vec<WorkCenterView>>(),
            success_status: 200,
            permission: Permission::ReadPlant,
            conflicts: &[],
            handler: || get(list_work_centers),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/events",
            operation_id: INGEST_EVENTS,
            summary: "Batch ingest of events; idempotent by event id, atomic per batch",
            tag: "events",
            params: &[],
            request: Some(|g| g.subschema_for::<Vec<Event>>()),
            response: |g| g.subschema_for::<AppendOutcome>(),
            success_status: 200,
            permission: Permission::WriteEvents,
            conflicts: &["event-conflict"],
            handler: || post(ingest_events),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/events",
            operation_id: "listEvents",
            summary: "Stored events in log order, filtered by type and time",
            tag: "events",
            params: EVENT_PARAMS,
            request: None,
            response: |g| g.subschema_for::<Vec<StoredEvent>>(),
            success_status: 200,
            permission: Permission::ReadEvents,
            conflicts: &[],
            handler: || get(list_events),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/audit",
            operation_id: "listAudit",
            summary: "The hash-chained audit trail of every write",
            tag: "governance",
            params: AUDIT_PARAMS,
            request: None,
            response: |g| g.subschema_for::<Vec<store::AuditRecord>>(),
            success_status: 200,
            permission: Permission::ReadAudit,
            conflicts: &[],
            handler: || get(list_audit),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/openapi.json",
            operation_id: "openapi",
            summary: "This OpenAPI document",
            tag: "operations",
            params: &[],
            request: None,
            response: |g| g.subschema_for::<serde_json::Value>(),
            success_status: 200,
            permission: Permission::Public,
            conflicts: &[],
            handler: || get(openapi),
        },
        Endpoint {
            method: Method::GET,
            path: "/docs",
            operation_id: "apiDocs",
            summary: "The API reference page (HTML), rendered from this OpenAPI document; public like the document",
            tag: "operations",
            params: &[],
            request: None,
            response: |g| g.subschema_for::<String>(),
            success_status: 200,
            permission: Permission::Public,
            conflicts: &[],
            handler: || get(api_docs),
        },
    ]
    .into_iter()
    .chain(crate::trace_api::endpoints())
    .chain(crate::quality_api::endpoints())
    .chain(crate::govern_api::endpoints())
    .chain(crate::schedule_api::endpoints())
    .chain(crate::scenario_api::endpoints())
    .chain(crate::principals_api::endpoints())
    .collect()
}

const ORDER_PARAMS: &[Param] = &[
    query("mode", "string", "discrete, process or repetitive").one_of(|| names(Mode::ALL)),
    query(
        "status",
        "string",
        "planned, released, in_progress, completed or cancelled",
    )
    .one_of(|| names(OrderStatus::ALL)),
    query("limit", "integer", "page size (default 50, max 1000)"),
    query("offset", "integer", "orders to skip"),
];

const ORDER_ID_PARAMS: &[Param] = &[path("id", "order id")];

const AUDIT_PARAMS: &[Param] = &[
    query(
        "after_seq",
        "integer",
        "only records after this sequence number",
    ),
    query(
        "limit",
        "integer",
        "at most this many records (default 100, max 1000)",
    ),
];

const EVENT_PARAMS: &[Param] = &[
    query(
        "type",
        "string",
        "comma-separated event types, e.g. operation_completed,quality_result_recorded",
    )
    .list_of(|| names(&model::EventKind::TYPE_NAMES)),
    query("from", "string", "RFC 3339: events at or after this time").instant(),
    query("to", "string", "RFC 3339: events before this time").instant(),
    query(
        "after_seq",
        "integer",
        "only events after this log sequence number",
    ),
    query(
        "limit",
        "integer",
        "at most this many events (default 100, max 10000)",
    ),
];

#[derive(Debug, Serialize, JsonSchema)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    pub events: u64,
}

async fn health(State(app): State<AppState>) -> Json200<Health> {
    let events = app.store.state().await.events_applied;
    Json200(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        events,
    })
}

async fn get_plant(State(app): State<AppState>) -> Result<Json200<Plant>, Problem> {
    let catalog = app.store.plant().await.ok_or_else(no_plant)?;
    Ok(Json200(catalog.plant().clone()))
}

fn no_plant() -> Problem {
    app::AppError::NoPlant.into()
}

#[derive(Debug, Deserialize)]
struct OrderQuery {
    mode: Option<String>,
    status: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

/// A page of orders.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OrderPage {
    pub items: Vec<OrderState>,
    /// Orders matching the filter, over all pages.
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

async fn list_orders(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<OrderQuery>,
) -> Result<Json200<OrderPage>, Problem> {
    let mode = q
        .mode
        .as_deref()
        .map(str::parse::<Mode>)
        .transpose()
        .map_err(|e| Problem::bad_request(format!("query parameter `mode`: {e}")))?;
    let status = q
        .status
        .as_deref()
        .map(str::parse::<OrderStatus>)
        .transpose()
        .map_err(|e| Problem::bad_request(format!("query parameter `status`: {e}")))?;
    let limit = q.limit.unwrap_or(50);
    if limit == 0 || limit > 1000 {
        return Err(Problem::bad_request(
            "query parameter `limit` must be 1 to 1000",
        ));
    }
    let offset = q.offset.unwrap_or(0);
    let page = app::plant::orders(
        &app,
        &caller.0,
        OrderFilter {
            mode,
            status,
            limit,
            offset,
        },
    )
    .await?;
    Ok(Json200(OrderPage {
        items: page.items,
        total: page.total,
        limit,
        offset,
    }))
}

async fn get_order(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json200<OrderState>, Problem> {
    Ok(Json200(app::plant::order(&app, &caller.0, &id).await?))
}

async fn list_work_centers(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json200<Vec<WorkCenterView>>, Problem> {
    Ok(Json200(app::plant::work_centers(&app, &caller.0).await?))
}

async fn ingest_events(
    State(app): State<AppState>,
    caller: Caller,
    EventBatch(events): EventBatch,
) -> Result<Json200<AppendOutcome>, Problem> {
    Ok(Json200(
        app::events::ingest(&app, &caller.0, &events).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct EventQuery {
    #[serde(rename = "type")]
    types: Option<String>,
    from: Option<String>,
    to: Option<String>,
    after_seq: Option<i64>,
    limit: Option<u32>,
}

async fn list_events(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<EventQuery>,
) -> Result<Json200<Vec<StoredEvent>>, Problem> {
    let types: Vec<String> = q
        .types
        .as_deref()
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    // Which event types exist is the store's to say: it refuses an unknown one by name
    // (`StoreError::BadFilter`, a 422 problem), for every caller of `Store::events`.
    let time = |name: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(Timestamp::parse)
            .transpose()
            .map_err(|e| Problem::bad_request(format!("query parameter `{name}`: {e}")))
    };
    let from = time("from", &q.from)?;
    let to = time("to", &q.to)?;
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > 10_000 {
        return Err(Problem::bad_request(
            "query parameter `limit` must be 1 to 10000",
        ));
    }
    let events = app::events::list(
        &app,
        &caller.0,
        EventFilter {
            types,
            from,
            to,
            after_seq: q.after_seq,
            limit,
        },
    )
    .await?;
    Ok(Json200(events))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    after_seq: Option<i64>,
    limit: Option<u32>,
}

async fn list_audit(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Json200<Vec<store::AuditRecord>>, Problem> {
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(Problem::bad_request(
            "query parameter `limit` must be 1 to 1000",
        ));
    }
    Ok(Json200(
        app::events::audit(&app, &caller.0, q.after_seq.unwrap_or(0), limit).await?,
    ))
}

async fn openapi(State(app): State<AppState>) -> impl IntoResponse {
    Json200(app.openapi.as_ref().clone())
}

async fn api_docs(State(app): State<AppState>) -> axum::response::Html<String> {
    axum::response::Html(app.docs.to_string())
}

/// A 200 JSON response.
pub struct Json200<T>(pub T);

impl<T: Serialize> IntoResponse for Json200<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// A 201 JSON response.
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> axum::response::Response {
        (StatusCode::CREATED, axum::Json(self.0)).into_response()
    }
}
