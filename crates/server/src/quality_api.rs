//! The quality endpoints (`/v1/quality/...`): HTTP over the use-cases in `app::quality`.
//!
//! SPC analysis (`spc/analyze`) calls the pure `quality` engine on the request. Quality results
//! are events: `POST /v1/quality/results` appends them and runs enforcement, which stores the
//! alerts, holds and nonconformances the enterprise policy decides; every quality read runs it
//! first, so results that arrived by another path are judged before anyone sees alerts, holds
//! or the release gate. Nonconformance transitions follow `quality::nc` (an invalid one is a
//! 409 naming the state and the action). The caller is the authenticated principal
//! ([`Caller`]); writes are audited under it, and every read and write is scoped to its
//! areas by the use-cases (`app::scope`).

use app::quality::{
    AlertPage, GateAnswer, HoldRequest, NC_STATES, NcPage, NcRequest, NcView, QualityIngest,
    QualityResultIn, ReleaseRequest, SpcRequest,
};
use axum::extract::{Path, State};
use axum::http::Method;
use axum::routing::{get, post};
use quality::enforce::{ChartView, ItemRef};
use quality::nc::NcCommand;
use serde::Deserialize;
use serde_json::Value;
use store::{AlertFilter, Hold, HoldFilter, NcFilter};

use crate::AppState;
use crate::api::{Created, Json200};
use crate::auth::Caller;
use crate::extract::{Json, Query};
use crate::problem::Problem;
use crate::routes::{Endpoint, Param, Permission, names, path, query};

/// The quality endpoints, appended to the route table by `api::endpoints`.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            method: Method::POST,
            path: "/v1/quality/spc/analyze",
            operation_id: "analyzeSpc",
            summary: "SPC analysis of a request shaped like a test vector's {chart, params, data}; answers with the shape of its `expected`",
            tag: "quality",
            params: &[],
            request: Some(|g| g.subschema_for::<SpcRequest>()),
            response: |g| g.subschema_for::<Value>(),
            success_status: 200,
            permission: Permission::ReadQuality,
            conflicts: &[],
            handler: || post(analyze),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/quality/results",
            operation_id: "recordQualityResults",
            summary: "Batch ingest of quality results (quality_result_recorded events; idempotent by id, atomic), then enforcement",
            tag: "quality",
            params: &[],
            request: Some(|g| g.subschema_for::<Vec<QualityResultIn>>()),
            response: |g| g.subschema_for::<QualityIngest>(),
            success_status: 200,
            permission: Permission::WriteQuality,
            conflicts: &["event-conflict"],
            handler: || post(record_results),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/quality/characteristics/{id}/chart",
            operation_id: "getCharacteristicChart",
            summary: "Control chart of a characteristic under the enterprise policy: points, center, limits, violations",
            tag: "quality",
            params: ID_PARAMS,
            request: None,
            response: |g| g.subschema_for::<ChartView>(),
            success_status: 200,
            permission: Permission::ReadQuality,
            conflicts: &[],
            handler: || get(chart),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/quality/alerts",
            operation_id: "listQualityAlerts",
            summary: "Alerts raised by rule violations, newest first",
            tag: "quality",
            params: ALERT_PARAMS,
            request: None,
            response: |g| g.subschema_for::<AlertPage>(),
            success_status: 200,
            permission: Permission::ReadQuality,
            conflicts: &[],
            handler: || get(list_alerts),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/quality/holds",
            operation_id: "listHolds",
            summary: "Holds on lots, serials and orders, newest first",
            tag: "quality",
            params: HOLD_PARAMS,
            request: None,
            response: |g| g.subschema_for::<store::Page<Hold>>(),
            success_status: 200,
            permission: Permission::ReadQuality,
            conflicts: &[],
            handler: || get(list_holds),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/quality/holds",
            operation_id: "placeHold",
            summary: "Put a lot, serial or order on hold",
            tag: "quality",
            params: &[],
            request: Some(|g| g.subschema_for::<HoldRequest>()),
            response: |g| g.subschema_for::<Hold>(),
            success_status: 201,
            permission: Permission::WriteQuality,
            conflicts: &["already-on-hold"],
            handler: || post(place_hold),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/quality/holds/{id}/release",
            operation_id: "releaseHold",
            summary: "Release a hold",
            tag: "quality",
            params: ID_PARAMS,
            request: Some(|g| g.subschema_for::<ReleaseRequest>()),
            response: |g| g.subschema_for::<Hold>(),
            success_status: 200,
            permission: Permission::WriteQuality,
            conflicts: &["hold-released"],
            handler: || post(release_hold),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/quality/nonconformances",
            operation_id: "listNonconformances",
            summary: "Nonconformances with their CAPA actions and history, newest first",
            tag: "quality",
            params: NC_PARAMS,
            request: None,
            response: |g| g.subschema_for::<NcPage>(),
            success_status: 200,
            permission: Permission::ReadQuality,
            conflicts: &[],
            handler: || get(list_ncs),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/quality/nonconformances",
            operation_id: "openNonconformance",
            summary: "Open a nonconformance on lots, serials or orders",
            tag: "quality",
            params: &[],
            request: Some(|g| g.subschema_for::<NcRequest>()),
            response: |g| g.subschema_for::<NcView>(),
            success_status: 201,
            permission: Permission::WriteQuality,
            conflicts: &[],
            handler: || post(open_nc),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/quality/nonconformances/{id}",
            operation_id: "getNonconformance",
            summary: "One nonconformance with its CAPA actions and history",
            tag: "quality",
            params: ID_PARAMS,
            request: None,
            response: |g| g.subschema_for::<NcView>(),
            success_status: 200,
            permission: Permission::ReadQuality,
            conflicts: &[],
            handler: || get(get_nc),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/quality/nonconformances/{id}/transitions",
            operation_id: "transitionNonconformance",
            summary: "Move a nonconformance on: start_investigation, disposition, start_capa, add/complete/verify_capa_action, verify, close",
            tag: "quality",
            params: ID_PARAMS,
            request: Some(|g| g.subschema_for::<NcCommand>()),
            response: |g| g.subschema_for::<NcView>(),
            success_status: 200,
            permission: Permission::DisposeQuality,
            conflicts: &[
                "invalid-transition",
                "nonconformance-rule",
                "concurrent-transition",
            ],
            handler: || post(transition_nc),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/quality/release-gate",
            operation_id: "releaseGate",
            summary: "May this lot or serial ship? Blocked by holds and by open (or scrap/return) nonconformances on it or upstream of it",
            tag: "quality",
            params: GATE_PARAMS,
            request: None,
            response: |g| g.subschema_for::<GateAnswer>(),
            success_status: 200,
            permission: Permission::ReadQuality,
            conflicts: &[],
            handler: || get(gate),
        },
    ]
}

const ID_PARAMS: &[Param] = &[path("id", "identifier")];

const ALERT_PARAMS: &[Param] = &[
    query("characteristic", "string", "only this characteristic"),
    query("severity", "string", "critical, major or minor")
        .one_of(|| names(quality::policy::Severity::ALL)),
    query("limit", "integer", "page size (default 100, max 1000)"),
    query("offset", "integer", "alerts to skip"),
];

const HOLD_PARAMS: &[Param] = &[
    query(
        "active",
        "boolean",
        "only active (true) or released (false) holds",
    ),
    query("item_kind", "string", "lot, serial or order")
        .one_of(|| names(quality::enforce::ItemKind::ALL)),
    query("item_id", "string", "only holds on this item"),
    query("limit", "integer", "page size (default 100, max 1000)"),
    query("offset", "integer", "holds to skip"),
];

const NC_PARAMS: &[Param] = &[
    query(
        "state",
        "string",
        "open, investigating, dispositioned, capa, verified or closed",
    )
    .one_of(|| names(&NC_STATES)),
    query(
        "open",
        "boolean",
        "only NCs not closed (true) or closed (false)",
    ),
    query("limit", "integer", "page size (default 100, max 1000)"),
    query("offset", "integer", "NCs to skip"),
];

const GATE_PARAMS: &[Param] = &[
    query("lot", "string", "a lot or batch id"),
    query("serial", "string", "a serial number"),
];

async fn analyze(Json(request): Json<SpcRequest>) -> Result<Json200<Value>, Problem> {
    Ok(Json200(app::quality::analyze(request)?))
}

async fn record_results(
    State(app): State<AppState>,
    caller: Caller,
    Json(results): Json<Vec<QualityResultIn>>,
) -> Result<Json200<QualityIngest>, Problem> {
    Ok(Json200(
        app::quality::record_results(&app, &caller.0, results).await?,
    ))
}

async fn chart(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json200<ChartView>, Problem> {
    Ok(Json200(app::quality::chart(&app, &caller.0, &id).await?))
}

fn page_limit(limit: Option<u32>) -> Result<u32, Problem> {
    let limit = limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(Problem::bad_request(
            "query parameter `limit` must be 1 to 1000",
        ));
    }
    Ok(limit)
}

#[derive(Debug, Deserialize)]
struct AlertQuery {
    characteristic: Option<String>,
    severity: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

async fn list_alerts(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<AlertQuery>,
) -> Result<Json200<AlertPage>, Problem> {
    if let Some(s) = q
        .severity
        .as_deref()
        .filter(|s| !["critical", "major", "minor"].contains(s))
    {
        return Err(Problem::bad_request(format!(
            "query parameter `severity`: `{s}` is not critical, major or minor"
        )));
    }
    let filter = AlertFilter {
        characteristic: q.characteristic,
        severity: q.severity,
        limit: page_limit(q.limit)?,
        offset: q.offset.unwrap_or(0),
    };
    Ok(Json200(
        app::quality::alerts(&app, &caller.0, filter).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct HoldQuery {
    active: Option<bool>,
    item_kind: Option<String>,
    item_id: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

async fn list_holds(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<HoldQuery>,
) -> Result<Json200<store::Page<Hold>>, Problem> {
    if let Some(kind) = &q.item_kind {
        app::quality::item_kind(kind, "item_kind")
            .map_err(|e| Problem::bad_request(e.to_string()))?;
    }
    let filter = HoldFilter {
        active: q.active,
        item_kind: q.item_kind,
        item_id: q.item_id,
        limit: page_limit(q.limit)?,
        offset: q.offset.unwrap_or(0),
    };
    Ok(Json200(app::quality::holds(&app, &caller.0, filter).await?))
}

async fn place_hold(
    State(app): State<AppState>,
    caller: Caller,
    Json(request): Json<HoldRequest>,
) -> Result<Created<Hold>, Problem> {
    Ok(Created(
        app::quality::place_hold(&app, &caller.0, request).await?,
    ))
}

async fn release_hold(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(request): Json<ReleaseRequest>,
) -> Result<Json200<Hold>, Problem> {
    Ok(Json200(
        app::quality::release_hold(&app, &caller.0, &id, request).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct NcQuery {
    state: Option<String>,
    open: Option<bool>,
    limit: Option<u32>,
    offset: Option<u32>,
}

async fn list_ncs(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<NcQuery>,
) -> Result<Json200<NcPage>, Problem> {
    if let Some(s) = q.state.as_deref().filter(|s| !NC_STATES.contains(s)) {
        return Err(Problem::bad_request(format!(
            "query parameter `state`: `{s}` is not one of {}",
            NC_STATES.join(", ")
        )));
    }
    let filter = NcFilter {
        state: q.state,
        open: q.open,
        limit: page_limit(q.limit)?,
        offset: q.offset.unwrap_or(0),
    };
    Ok(Json200(
        app::quality::nonconformances(&app, &caller.0, filter).await?,
    ))
}

async fn get_nc(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json200<NcView>, Problem> {
    Ok(Json200(
        app::quality::nonconformance(&app, &caller.0, &id).await?,
    ))
}

async fn open_nc(
    State(app): State<AppState>,
    caller: Caller,
    Json(request): Json<NcRequest>,
) -> Result<Created<NcView>, Problem> {
    Ok(Created(
        app::quality::open_nc(&app, &caller.0, request).await?,
    ))
}

async fn transition_nc(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(command): Json<NcCommand>,
) -> Result<Json200<NcView>, Problem> {
    Ok(Json200(
        app::quality::transition_nc(&app, &caller.0, &id, &command).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct GateQuery {
    lot: Option<String>,
    serial: Option<String>,
}

async fn gate(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<GateQuery>,
) -> Result<Json200<GateAnswer>, Problem> {
    let item = match (q.lot, q.serial) {
        (Some(lot), None) if !lot.trim().is_empty() => ItemRef::lot(lot.trim()),
        (None, Some(serial)) if !serial.trim().is_empty() => ItemRef::serial(serial.trim()),
        _ => {
            return Err(Problem::bad_request(
                "give exactly one of the query parameters `lot` or `serial`",
            ));
        }
    };
    Ok(Json200(
        app::quality::release_gate(&app, &caller.0, item).await?,
    ))
}
