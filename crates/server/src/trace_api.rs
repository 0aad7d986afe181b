//! Genealogy and traceability over HTTP: `/v1/trace/...` (import, backward and forward trace,
//! recall, reconciliation) and the EPCIS 2.0 REST capture and query endpoints
//! (`POST /epcis/capture`, `GET /epcis/events`).
//!
//! The handlers extract, call the use-cases in `app::trace` (which read documents into the
//! store and query the genealogy index, kept in a cache rebuilt only when the store changed)
//! and render the answer: JSON, CSV or EPCIS JSON-LD/XML.
//!
//! A capture is stored before the answer is sent, so `POST /epcis/capture` answers with what
//! it stored and no `Location`: there is no capture job to poll (EPCIS 2.0 names the header
//! for asynchronous capture only).

use std::collections::BTreeMap;

use app::trace::{ImportSummary, ScopedRecall, ScopedReconcile, ScopedTrace};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use model::Timestamp;
use serde::Deserialize;
use trace::Direction;
use trace::epcis::Action;
use trace::epcis::query::EventQuery;
use trace::recall::RecallRequest;

use crate::AppState;
use crate::auth::Caller;
use crate::extract::{Json, Query};
use crate::problem::Problem;
use crate::routes::{Endpoint, Param, Permission, names, path, query};

/// The body as text; a JSON document (one that opens with `{` or `[`) nests at most
/// [`crate::limits::MAX_JSON_DEPTH`] deep, as every JSON body does, so that the events kept
/// from it still read back inside a query document.
fn body_text(body: &Bytes) -> Result<&str, Problem> {
    let is_json = matches!(
        body.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    );
    if is_json {
        crate::extract::within_depth(body)?;
    }
    std::str::from_utf8(body)
        .map_err(|e| Problem::bad_request(format!("the body is not UTF-8: {e}")))
}

const TRACE_PARAMS: &[Param] = &[
    path(
        "id",
        "A lot, batch, serial, pallet or order: URN, GS1 Digital Link or plant id",
    ),
    query(
        "max_depth",
        "integer",
        "Hops from the start; no limit when absent",
    ),
    query(
        "from",
        "string",
        "Only links at or after this instant (RFC 3339)",
    )
    .instant(),
    query("to", "string", "Only links before this instant (RFC 3339)").instant(),
];

/// The answers a recall gives: JSON, CSV, or the recall as EPCIS events (JSON-LD).
const RECALL_FORMATS: &[&str] = &["json", "csv", "epcis"];

const RECALL_PARAMS: &[Param] = &[
    path("id", "The suspect lot, batch, serial or pallet"),
    query(
        "format",
        "string",
        "`json` (default), `csv` or `epcis` (recall events, JSON-LD)",
    )
    .one_of(|| names(RECALL_FORMATS)),
];

const RECALL_FORMAT_PARAMS: &[Param] = &[query(
    "format",
    "string",
    "`json` (default), `csv` or `epcis` (recall events, JSON-LD)",
)
.one_of(|| names(RECALL_FORMATS))];

const IMPORT_PARAMS: &[Param] = &[query(
    "name",
    "string",
    "A label for the document (a file name) in the audit trail",
)];

const EPCIS_QUERY_PARAMS: &[Param] = &[
    query(
        "eventType",
        "string",
        "ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent, AssociationEvent (comma-separated)",
    )
    .list_of(|| names(trace::epcis::EventType::ALL)),
    query("GE_eventTime", "string", "Events at or after this instant").instant(),
    query("LT_eventTime", "string", "Events before this instant").instant(),
    query("EQ_action", "string", "ADD, OBSERVE, DELETE").list_of(|| names(Action::ALL)),
    query(
        "EQ_bizStep",
        "string",
        "Business steps (CBV short name, URN or Web URI)",
    ),
    query("EQ_disposition", "string", "Dispositions"),
    query("EQ_readPoint", "string", "Read points"),
    query("EQ_bizLocation", "string", "Business locations"),
    query(
        "MATCH_epc",
        "string",
        "EPCs in epcList/childEPCs (URN or Digital Link)",
    ),
    query(
        "MATCH_anyEPC",
        "string",
        "EPCs anywhere (parent, children, inputs, outputs)",
    ),
    query("MATCH_epcClass", "string", "Classes in quantity lists"),
    query("perPage", "integer", "Events per page (default 100)"),
    query(
        "nextPageToken",
        "string",
        "Token from the previous page's Link header",
    ),
];

/// The trace endpoints, appended to the route table by [`crate::api::endpoints`].
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            method: Method::POST,
            path: "/v1/trace/import",
            operation_id: "traceImport",
            summary: "Import one genealogy document (EPCIS 2.0 JSON-LD or XML, B2MML, plant events), all or nothing",
            tag: "trace",
            params: IMPORT_PARAMS,
            request: Some(|g| g.subschema_for::<serde_json::Value>()),
            response: |g| g.subschema_for::<ImportSummary>(),
            success_status: 200,
            permission: Permission::WriteTrace,
            conflicts: &["event-conflict"],
            handler: || post(trace_import),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/trace/backward/{id}",
            operation_id: "traceBackward",
            summary: "Where from: everything an item was made of, as a flat list and a tree",
            tag: "trace",
            params: TRACE_PARAMS,
            request: None,
            response: |g| g.subschema_for::<ScopedTrace>(),
            success_status: 200,
            permission: Permission::ReadTrace,
            conflicts: &[],
            handler: || get(trace_backward),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/trace/forward/{id}",
            operation_id: "traceForward",
            summary: "Where used: everything made from an item and where it went, as a flat list and a tree",
            tag: "trace",
            params: TRACE_PARAMS,
            request: None,
            response: |g| g.subschema_for::<ScopedTrace>(),
            success_status: 200,
            permission: Permission::ReadTrace,
            conflicts: &[],
            handler: || get(trace_forward),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/trace/recall/{id}",
            operation_id: "traceRecall",
            summary: "Recall simulation from a suspect lot, batch or serial: affected orders, lots, serials, pallets, customers with quantity and status",
            tag: "trace",
            params: RECALL_PARAMS,
            request: None,
            response: |g| g.subschema_for::<ScopedRecall>(),
            success_status: 200,
            permission: Permission::ReadTrace,
            conflicts: &[],
            handler: || get(trace_recall_id),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/trace/recall",
            operation_id: "traceRecallRequest",
            summary: "Recall simulation from an id, or from a unit and a time window",
            tag: "trace",
            params: RECALL_FORMAT_PARAMS,
            request: Some(|g| g.subschema_for::<RecallRequest>()),
            response: |g| g.subschema_for::<ScopedRecall>(),
            success_status: 200,
            permission: Permission::ReadTrace,
            conflicts: &[],
            handler: || post(trace_recall_request),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/trace/reconcile",
            operation_id: "traceReconcile",
            summary: "Reconciliation: consumption without a producer, mass balance per batch, orphan serials",
            tag: "trace",
            params: &[],
            request: None,
            response: |g| g.subschema_for::<ScopedReconcile>(),
            success_status: 200,
            permission: Permission::ReadTrace,
            conflicts: &[],
            handler: || get(trace_reconcile),
        },
        Endpoint {
            method: Method::POST,
            path: "/epcis/capture",
            operation_id: "epcisCapture",
            summary: "EPCIS 2.0 capture: an EPCISDocument (JSON-LD or XML), stored whole or not at all",
            tag: "epcis",
            params: &[],
            request: Some(|g| g.subschema_for::<serde_json::Value>()),
            response: |g| g.subschema_for::<ImportSummary>(),
            success_status: 202,
            permission: Permission::WriteTrace,
            conflicts: &[],
            handler: || post(epcis_capture),
        },
        Endpoint {
            method: Method::GET,
            path: "/epcis/events",
            operation_id: "epcisEvents",
            summary: "EPCIS 2.0 events query (SimpleEventQuery parameters), paged with perPage and nextPageToken",
            tag: "epcis",
            params: EPCIS_QUERY_PARAMS,
            request: None,
            response: |g| g.subschema_for::<serde_json::Value>(),
            success_status: 200,
            permission: Permission::ReadTrace,
            conflicts: &[],
            handler: || get(epcis_events),
        },
    ]
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportParams {
    name: Option<String>,
}

async fn trace_import(
    State(app): State<AppState>,
    caller: Caller,
    Query(params): Query<ImportParams>,
    body: Bytes,
) -> Result<axum::Json<ImportSummary>, Problem> {
    let name = params.name.unwrap_or_else(|| "upload".into());
    let summary = app::trace::import(&app, &caller.0, &name, body_text(&body)?).await?;
    Ok(axum::Json(summary))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TraceParams {
    max_depth: Option<u32>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
}

async fn run_trace(
    app: &AppState,
    caller: &Caller,
    id: &str,
    direction: Direction,
    params: TraceParams,
) -> Result<axum::Json<ScopedTrace>, Problem> {
    let request = trace::TraceRequest {
        max_depth: params.max_depth,
        from: params.from,
        to: params.to,
    };
    Ok(axum::Json(
        app::trace::trace_item(app, &caller.0, id, direction, &request).await?,
    ))
}

async fn trace_backward(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<TraceParams>,
) -> Result<axum::Json<ScopedTrace>, Problem> {
    run_trace(&app, &caller, &id, Direction::Backward, params).await
}

async fn trace_forward(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<TraceParams>,
) -> Result<axum::Json<ScopedTrace>, Problem> {
    run_trace(&app, &caller, &id, Direction::Forward, params).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecallParams {
    format: Option<String>,
}

async fn run_recall(
    app: &AppState,
    caller: &Caller,
    request: RecallRequest,
    format: Option<String>,
) -> Result<Response, Problem> {
    let format = format.unwrap_or_else(|| "json".into());
    if !RECALL_FORMATS.contains(&format.as_str()) {
        return Err(Problem::bad_request(format!(
            "query parameter `format`: `{format}` is not json, csv or epcis"
        )));
    }
    let scoped = app::trace::recall(app, &caller.0, &request).await?;
    let report = &scoped.report;
    Ok(match format.as_str() {
        "csv" => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            report.to_csv(),
        )
            .into_response(),
        "epcis" => {
            let at = app.now();
            let events = report.to_epcis(&format!("{}", at.0), at);
            let doc = trace::epcis::json::document(&events, &BTreeMap::new(), at);
            (
                [(header::CONTENT_TYPE, "application/ld+json")],
                doc.to_string(),
            )
                .into_response()
        }
        _ => axum::Json(scoped).into_response(),
    })
}

async fn trace_recall_id(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<RecallParams>,
) -> Result<Response, Problem> {
    let request = RecallRequest {
        id: Some(id),
        ..RecallRequest::default()
    };
    run_recall(&app, &caller, request, params.format).await
}

async fn trace_recall_request(
    State(app): State<AppState>,
    caller: Caller,
    Query(params): Query<RecallParams>,
    Json(request): Json<RecallRequest>,
) -> Result<Response, Problem> {
    run_recall(&app, &caller, request, params.format).await
}

async fn trace_reconcile(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<ScopedReconcile>, Problem> {
    Ok(axum::Json(app::trace::reconcile(&app, &caller.0).await?))
}

async fn epcis_capture(
    State(app): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, Problem> {
    let summary = app::trace::capture(&app, &caller.0, body_text(&body)?).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(summary)).into_response())
}

async fn epcis_events(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, Problem> {
    let query = EventQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| Problem::bad_request(e.to_string()))?;
    let offset: usize = match &query.next_page_token {
        Some(token) => token.parse().map_err(|_| {
            Problem::bad_request(format!(
                "query parameter `nextPageToken`: `{token}` is not a token this server issued"
            ))
        })?,
        None => 0,
    };
    let app::trace::EpcisPage {
        events: page,
        next,
        at,
    } = app::trace::epcis_events(&app, &caller.0, &query, offset).await?;
    let wants_xml = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("xml") && !a.contains("json"));
    let mut response = if wants_xml {
        (
            [(header::CONTENT_TYPE, "application/xml")],
            trace::epcis::xml::document(&page, &BTreeMap::new(), at),
        )
            .into_response()
    } else {
        let mut doc = trace::epcis::json::document(&page, &BTreeMap::new(), at);
        let body = doc["epcisBody"].take();
        doc["type"] = "EPCISQueryDocument".into();
        doc["epcisBody"] = serde_json::json!({
            "queryResults": { "queryName": "SimpleEventQuery", "resultsBody": body }
        });
        (
            [(header::CONTENT_TYPE, "application/ld+json")],
            doc.to_string(),
        )
            .into_response()
    };
    if let Some(next) = next {
        let mut link_query: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k != "nextPageToken")
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        link_query.push(format!("nextPageToken={next}"));
        let link = format!("</epcis/events?{}>; rel=\"next\"", link_query.join("&"));
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, value);
        }
        if let Ok(value) = HeaderValue::from_str(&next.to_string()) {
            response.headers_mut().insert("gs1-next-page-token", value);
        }
    }
    Ok(response)
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
