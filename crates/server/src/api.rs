//! Handlers of the v1 API and their place in the route table.

use axum::extract::{Path, RawQuery, State};
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
use crate::paging::{Key, Linked, ListSpec, PageRequest};
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
            path: "/readyz",
            operation_id: "ready",
            summary: "Readiness: 200 when the store answers and the server is not shutting down, else 503 (for load balancers)",
            tag: "operations",
            params: &[],
            request: None,
            response: |g| g.subschema_for::<serde_json::Value>(),
            success_status: 200,
            permission: Permission::Public,
            conflicts: &[],
            handler: || get(crate::metrics::readyz),
        },
        Endpoint {
            method: Method::GET,
            path: "/metrics",
            operation_id: "metrics",
            summary: "Prometheus metrics (text format 0.0.4): requests and latency per route, events applied, proposals by status, quality alerts, holds, NCs and enforcement backlog, connectors' counters and lag, agents' reactions; site-wide scopes only",
            tag: "operations",
            params: &[],
            request: None,
            response: |g| g.subschema_for::<String>(),
            success_status: 200,
            permission: Permission::ReadEvents,
            conflicts: &[],
            handler: || get(crate::metrics::metrics),
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
            response: |g| g.subschema_for::<EventPage>(),
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
            response: |g| g.subschema_for::<AuditPage>(),
            success_status: 200,
            permission: Permission::ReadAudit,
            conflicts: &[],
            handler: || get(list_audit),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/audit/verify",
            operation_id: "verifyAudit",
            summary: "Recompute the audit trail's hash chain and name the first bad record",
            tag: "governance",
            params: &[],
            request: None,
            response: |g| g.subschema_for::<store::AuditReport>(),
            success_status: 200,
            permission: Permission::ReadAudit,
            conflicts: &[],
            handler: || get(verify_audit),
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
    .chain(crate::connectors_api::endpoints())
    .chain(crate::isa95_api::endpoints())
    .chain(crate::mcp_api::endpoints())
    .collect()
}

/// How the order list pages: `due` and `release` change when an order is changed, so a row
/// may move between pages under those sorts; `id` never changes.
pub static ORDERS: ListSpec = ListSpec {
    path: "/v1/orders",
    default_limit: 50,
    max_limit: 1000,
    sorts: &["id", "-id", "due", "-due", "release", "-release"],
};

pub static EVENTS: ListSpec = ListSpec {
    path: "/v1/events",
    default_limit: 100,
    max_limit: 10_000,
    sorts: &[],
};

pub static AUDIT: ListSpec = ListSpec {
    path: "/v1/audit",
    default_limit: 100,
    max_limit: 1000,
    sorts: &["seq", "-seq"],
};

/// The `cursor` parameter, the same on every list.
pub const CURSOR: Param = query(
    "cursor",
    "string",
    "opaque position from the previous page's `next`; an altered cursor or one made for another list, filter or sort is a 400 naming `cursor`",
);

const ORDER_PARAMS: &[Param] = &[
    query("mode", "string", "discrete, process or repetitive").one_of(|| names(Mode::ALL)),
    query(
        "status",
        "string",
        "planned, released, in_progress, completed or cancelled",
    )
    .one_of(|| names(OrderStatus::ALL)),
    query("limit", "integer", "page size (default 50, max 1000)"),
    CURSOR,
    query(
        "sort",
        "string",
        "id (default), -id, due, -due, release or -release (`-` descending; ties by id)",
    )
    .one_of(|| names(ORDERS.sorts)),
];

const ORDER_ID_PARAMS: &[Param] = &[path("id", "order id")];

const AUDIT_PARAMS: &[Param] = &[
    query("limit", "integer", "page size (default 100, max 1000)"),
    CURSOR,
    query(
        "sort",
        "string",
        "`seq` (default, oldest first) or `-seq` (newest first)",
    )
    .one_of(|| names(AUDIT.sorts)),
    query(
        "after_seq",
        "integer",
        "start after this sequence number instead of a cursor (records are in sequence order)",
    ),
    query(
        "actor",
        "string",
        "only records written by the actor with this id, exactly",
    ),
    query(
        "action",
        "string",
        "only records whose action starts with this (`proposal.` for every proposal action)",
    ),
    query(
        "from",
        "string",
        "RFC 3339: records written at or after this time",
    )
    .instant(),
    query("to", "string", "RFC 3339: records written before this time").instant(),
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
    query("limit", "integer", "page size (default 100, max 10000)"),
    CURSOR,
    query(
        "after_seq",
        "integer",
        "start after this log sequence number instead of a cursor (events are in log order)",
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
    cursor: Option<String>,
    sort: Option<String>,
}

/// A page of orders.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OrderPage {
    pub items: Vec<OrderState>,
    /// Orders matching the filter that the caller reads, over all pages.
    pub total: u64,
    pub limit: u32,
    /// The path and query of the next page; `null` on the last.
    pub next: Option<String>,
}

async fn list_orders(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<OrderQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Linked<OrderPage>, Problem> {
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
    let request = PageRequest::parse(
        &ORDERS,
        q.limit,
        q.sort.as_deref(),
        q.cursor.as_deref(),
        raw.as_deref(),
    )?;
    let reach = app::scope::Reach::of(&app, &caller.0).await?;
    let filter = OrderFilter {
        mode,
        status,
        limit: 0,
        offset: 0,
    };
    let page = request.page(app::plant::orders_in(&reach, &filter), |o, sort| {
        let id = Key::from(o.order.id.as_str());
        match sort {
            "due" => vec![o.order.due.0.into(), id],
            "release" => vec![o.order.release.0.into(), id],
            _ => vec![id],
        }
    });
    let next = page.next.clone();
    Ok(Linked(
        OrderPage {
            items: page.items.into_iter().cloned().collect(),
            total: page.total,
            limit: request.limit,
            next: page.next,
        },
        next,
    ))
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
    cursor: Option<String>,
    sort: Option<String>,
}

/// A page of stored events, in log order.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EventPage {
    pub items: Vec<StoredEvent>,
    /// The path and query of the next page; `null` on the last.
    pub next: Option<String>,
}

async fn list_events(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<EventQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Linked<EventPage>, Problem> {
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
    let request = PageRequest::parse(
        &EVENTS,
        q.limit,
        q.sort.as_deref(),
        q.cursor.as_deref(),
        raw.as_deref(),
    )?;
    let after_seq = request.after_seq(q.after_seq)?;
    // One more than the page tells whether there is a next one; the use-case fills the page
    // with what the caller reads, so a scoped page is short only at the end.
    let mut items = app::events::list(
        &app,
        &caller.0,
        EventFilter {
            types,
            from,
            to,
            after_seq: Some(after_seq),
            limit: request.limit + 1,
        },
    )
    .await?;
    let next = seq_next(&request, &mut items, |e| e.seq);
    Ok(Linked(
        EventPage {
            items,
            next: next.clone(),
        },
        next,
    ))
}

/// Cuts the extra item off a log-ordered page fetched one longer than asked, answering the
/// `next` link when there was one.
fn seq_next<T>(
    request: &PageRequest,
    items: &mut Vec<T>,
    seq: impl Fn(&T) -> i64,
) -> Option<String> {
    if items.len() <= request.limit as usize {
        return None;
    }
    items.truncate(request.limit as usize);
    items
        .last()
        .map(|last| request.next_link(vec![Key::Int(seq(last))]))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    after_seq: Option<i64>,
    actor: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    sort: Option<String>,
}

/// A page of the audit trail, in sequence order.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditPage {
    pub items: Vec<store::AuditRecord>,
    /// The path and query of the next page; `null` on the last.
    pub next: Option<String>,
}

async fn list_audit(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Linked<AuditPage>, Problem> {
    let request = PageRequest::parse(
        &AUDIT,
        q.limit,
        q.sort.as_deref(),
        q.cursor.as_deref(),
        raw.as_deref(),
    )?;
    let after_seq = match (request.descending, &request.after, q.after_seq) {
        (true, _, Some(_)) => {
            return Err(Problem::bad_request(
                "query parameter `after_seq` reads the trail in order; newest first (`sort=-seq`) pages by `cursor`",
            ));
        }
        (true, None, None) => i64::MAX,
        _ => request.after_seq(q.after_seq)?,
    };
    let filter = store::AuditFilter {
        after_seq,
        limit: request.limit + 1,
        newest_first: request.descending,
        actor: nonempty(q.actor),
        action: nonempty(q.action),
        from: instant("from", q.from.as_deref())?,
        to: instant("to", q.to.as_deref())?,
    };
    let mut items = app::events::audit(&app, &caller.0, &filter).await?;
    let next = seq_next(&request, &mut items, |r| r.seq);
    Ok(Linked(
        AuditPage {
            items,
            next: next.clone(),
        },
        next,
    ))
}

/// The chain check of the whole audit trail: the records checked, the head's hash, and the
/// first record that breaks the chain, if one does.
async fn verify_audit(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json200<store::AuditReport>, Problem> {
    Ok(Json200(app::events::verify_audit(&app, &caller.0).await?))
}

fn nonempty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// An optional RFC 3339 query parameter, refused by name when it does not parse.
fn instant(name: &str, value: Option<&str>) -> Result<Option<Timestamp>, Problem> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(Timestamp::parse)
        .transpose()
        .map_err(|e| Problem::bad_request(format!("query parameter `{name}`: {e}")))
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
