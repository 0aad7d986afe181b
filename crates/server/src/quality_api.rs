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

use app::quality::root_cause::{RootCauseRequest, RootCauseView};
use app::quality::{
    GateAnswer, HoldRequest, NC_STATES, NcRequest, NcView, QualityIngest, QualityResultIn,
    ReleaseRequest, SpcRequest,
};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use quality::enforce::{Alert, ChartView, ItemRef};
use quality::nc::NcCommand;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::{AlertFilter, Hold, HoldFilter, NcFilter};

use crate::AppState;
use crate::api::Json200;
use crate::auth::Caller;
use crate::conditional::{self, Tagged};
use crate::extract::{Json, Query};
use crate::paging::{Key, Linked, ListSpec, PageRequest};
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
            path: "/v1/quality/root-cause",
            operation_id: "rankRootCauses",
            summary: "Upstream process parameters and component lots, across modes and through genealogy, ranked by how well they explain a characteristic's results, each with the policy's corrective action",
            tag: "quality",
            params: ROOT_CAUSE_PARAMS,
            request: None,
            response: |g| g.subschema_for::<RootCauseView>(),
            success_status: 200,
            permission: Permission::ReadQuality,
            conflicts: &[],
            handler: || get(root_cause),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/quality/alerts",
            operation_id: "listQualityAlerts",
            summary: "Alerts raised by rule violations, newest first",
            tag: "quality",
            params: ALERT_PARAMS,
            request: None,
            response: |g| g.subschema_for::<AlertList>(),
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
            response: |g| g.subschema_for::<HoldList>(),
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
            method: Method::GET,
            path: "/v1/quality/holds/{id}",
            operation_id: "getHold",
            summary: "One hold, with its `ETag` (for `If-Match` on its release)",
            tag: "quality",
            params: ID_PARAMS,
            request: None,
            response: |g| g.subschema_for::<Hold>(),
            success_status: 200,
            permission: Permission::ReadQuality,
            conflicts: &[],
            handler: || get(get_hold),
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
            response: |g| g.subschema_for::<NcList>(),
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
    crate::api::CURSOR,
    query(
        "sort",
        "string",
        "-at (default), at, id or -id (`-` descending; ties by id)",
    )
    .one_of(|| names(ALERTS.sorts)),
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
    crate::api::CURSOR,
    query(
        "sort",
        "string",
        "-placed_at (default), placed_at, id or -id (`-` descending; ties by id)",
    )
    .one_of(|| names(HOLDS.sorts)),
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
    crate::api::CURSOR,
    query(
        "sort",
        "string",
        "-opened_at (default), opened_at, id or -id (`-` descending; ties by id)",
    )
    .one_of(|| names(NCS.sorts)),
];

/// How the quality lists page.
pub static ALERTS: ListSpec = ListSpec {
    path: "/v1/quality/alerts",
    default_limit: 100,
    max_limit: 1000,
    sorts: &["-at", "at", "id", "-id"],
};

pub static HOLDS: ListSpec = ListSpec {
    path: "/v1/quality/holds",
    default_limit: 100,
    max_limit: 1000,
    sorts: &["-placed_at", "placed_at", "id", "-id"],
};

pub static NCS: ListSpec = ListSpec {
    path: "/v1/quality/nonconformances",
    default_limit: 100,
    max_limit: 1000,
    sorts: &["-opened_at", "opened_at", "id", "-id"],
};

/// A page of alerts.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AlertList {
    pub items: Vec<Alert>,
    /// Alerts matching the filter that the caller reads, over all pages.
    pub total: u64,
    pub limit: u32,
    /// The path and query of the next page; `null` on the last.
    pub next: Option<String>,
}

/// A page of holds.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HoldList {
    pub items: Vec<Hold>,
    /// Holds matching the filter that the caller reads, over all pages.
    pub total: u64,
    pub limit: u32,
    /// The path and query of the next page; `null` on the last.
    pub next: Option<String>,
}

/// A page of nonconformances.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NcList {
    pub items: Vec<NcView>,
    /// Nonconformances matching the filter that the caller reads, over all pages.
    pub total: u64,
    pub limit: u32,
    /// The path and query of the next page; `null` on the last.
    pub next: Option<String>,
}

const GATE_PARAMS: &[Param] = &[
    query("lot", "string", "a lot or batch id"),
    query("serial", "string", "a serial number"),
];

const ROOT_CAUSE_PARAMS: &[Param] = &[
    query(
        "characteristic",
        "string",
        "comma-separated characteristic ids (required): one, or several showing one defect on different products",
    ),
    query("from", "string", "RFC 3339: results at or after this time").instant(),
    query("to", "string", "RFC 3339: results before this time").instant(),
    query(
        "depth",
        "integer",
        "orders upstream of the measured one to look through (default 4, max 8)",
    ),
    query(
        "min_support",
        "integer",
        "orders a candidate needs values on (default 8, min 3)",
    ),
    query("top", "integer", "causes returned (default 10, max 100)"),
];

#[derive(Debug, Deserialize)]
struct RootCauseQuery {
    characteristic: Option<String>,
    from: Option<String>,
    to: Option<String>,
    depth: Option<u32>,
    min_support: Option<usize>,
    top: Option<usize>,
}

async fn root_cause(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<RootCauseQuery>,
) -> Result<Json200<RootCauseView>, Problem> {
    let characteristics: Vec<String> = q
        .characteristic
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let time = |name: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(model::Timestamp::parse)
            .transpose()
            .map_err(|e| Problem::bad_request(format!("query parameter `{name}`: {e}")))
    };
    let request = RootCauseRequest {
        characteristics,
        from: time("from", &q.from)?,
        to: time("to", &q.to)?,
        depth: q.depth,
        min_support: q.min_support,
        top: q.top,
    };
    Ok(Json200(
        app::quality::root_cause::root_cause(&app, &caller.0, request).await?,
    ))
}

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

#[derive(Debug, Deserialize)]
struct AlertQuery {
    characteristic: Option<String>,
    severity: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    sort: Option<String>,
}

async fn list_alerts(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<AlertQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Linked<AlertList>, Problem> {
    if let Some(s) = q
        .severity
        .as_deref()
        .filter(|s| !["critical", "major", "minor"].contains(s))
    {
        return Err(Problem::bad_request(format!(
            "query parameter `severity`: `{s}` is not critical, major or minor"
        )));
    }
    let request = PageRequest::parse(
        &ALERTS,
        q.limit,
        q.sort.as_deref(),
        q.cursor.as_deref(),
        raw.as_deref(),
    )?;
    let filter = AlertFilter {
        characteristic: q.characteristic,
        severity: q.severity,
        limit: 0,
        offset: 0,
    };
    let read = app::quality::read_alerts(&app, &caller.0, filter).await?;
    let page = request.page(read.iter().collect(), |a, sort| {
        let id = Key::from(a.id.as_str());
        match sort {
            "at" => vec![a.at.into(), id],
            _ => vec![id],
        }
    });
    let next = page.next.clone();
    Ok(Linked(
        AlertList {
            items: page.items.into_iter().cloned().collect(),
            total: page.total,
            limit: request.limit,
            next: page.next,
        },
        next,
    ))
}

#[derive(Debug, Deserialize)]
struct HoldQuery {
    active: Option<bool>,
    item_kind: Option<String>,
    item_id: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    sort: Option<String>,
}

async fn list_holds(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<HoldQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Linked<HoldList>, Problem> {
    if let Some(kind) = &q.item_kind {
        app::quality::item_kind(kind, "item_kind")
            .map_err(|e| Problem::bad_request(e.to_string()))?;
    }
    let request = PageRequest::parse(
        &HOLDS,
        q.limit,
        q.sort.as_deref(),
        q.cursor.as_deref(),
        raw.as_deref(),
    )?;
    let filter = HoldFilter {
        active: q.active,
        item_kind: q.item_kind,
        item_id: q.item_id,
        limit: 0,
        offset: 0,
    };
    let all = app::quality::all_holds(&app, &caller.0, filter).await?;
    let page = request.page(all, |h, sort| {
        let id = Key::from(h.id.as_str());
        match sort {
            "placed_at" => vec![h.placed_at.0.into(), id],
            _ => vec![id],
        }
    });
    let next = page.next.clone();
    Ok(Linked(
        HoldList {
            items: page.items,
            total: page.total,
            limit: request.limit,
            next: page.next,
        },
        next,
    ))
}

async fn place_hold(
    State(app): State<AppState>,
    caller: Caller,
    Json(request): Json<HoldRequest>,
) -> Result<Tagged<Hold>, Problem> {
    let hold = app::quality::place_hold(&app, &caller.0, request).await?;
    let etag = app::conditional::digest_tag(&hold);
    Ok(Tagged {
        status: StatusCode::CREATED,
        body: hold,
        etag,
    })
}

async fn get_hold(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (hold, etag) = app::quality::hold(&app, &caller.0, &id).await?;
    Ok(conditional::get_answer(&headers, hold, etag))
}

async fn release_hold(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(request): Json<ReleaseRequest>,
) -> Result<Tagged<Hold>, Problem> {
    let expected = conditional::if_match(&headers)?;
    let hold =
        app::quality::release_hold_if(&app, &caller.0, &id, request, expected.as_ref()).await?;
    let etag = app::conditional::digest_tag(&hold);
    Ok(Tagged::ok(hold, etag))
}

#[derive(Debug, Deserialize)]
struct NcQuery {
    state: Option<String>,
    open: Option<bool>,
    limit: Option<u32>,
    cursor: Option<String>,
    sort: Option<String>,
}

async fn list_ncs(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<NcQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Linked<NcList>, Problem> {
    if let Some(s) = q.state.as_deref().filter(|s| !NC_STATES.contains(s)) {
        return Err(Problem::bad_request(format!(
            "query parameter `state`: `{s}` is not one of {}",
            NC_STATES.join(", ")
        )));
    }
    let request = PageRequest::parse(
        &NCS,
        q.limit,
        q.sort.as_deref(),
        q.cursor.as_deref(),
        raw.as_deref(),
    )?;
    let filter = NcFilter {
        state: q.state,
        open: q.open,
        limit: 0,
        offset: 0,
    };
    let all = app::quality::all_nonconformances(&app, &caller.0, filter).await?;
    let page = request.page(all, |nc, sort| {
        let id = Key::from(nc.id.as_str());
        match sort {
            // The opening is the first record of an NC's history.
            "opened_at" => vec![
                nc.nonconformance.history.first().map_or(0, |r| r.at).into(),
                id,
            ],
            _ => vec![id],
        }
    });
    let next = page.next.clone();
    Ok(Linked(
        NcList {
            items: page.items,
            total: page.total,
            limit: request.limit,
            next: page.next,
        },
        next,
    ))
}

async fn get_nc(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let nc = app::quality::nonconformance(&app, &caller.0, &id).await?;
    let etag = app::conditional::version_tag(nc.version);
    Ok(conditional::get_answer(&headers, nc, etag))
}

async fn open_nc(
    State(app): State<AppState>,
    caller: Caller,
    Json(request): Json<NcRequest>,
) -> Result<Tagged<NcView>, Problem> {
    let nc = app::quality::open_nc(&app, &caller.0, request).await?;
    let etag = app::conditional::version_tag(nc.version);
    Ok(Tagged {
        status: StatusCode::CREATED,
        body: nc,
        etag,
    })
}

async fn transition_nc(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(command): Json<NcCommand>,
) -> Result<Tagged<NcView>, Problem> {
    let expected = conditional::if_match(&headers)?;
    let nc =
        app::quality::transition_nc_if(&app, &caller.0, &id, &command, expected.as_ref()).await?;
    let etag = app::conditional::version_tag(nc.version);
    Ok(Tagged::ok(nc, etag))
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
