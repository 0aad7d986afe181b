//! Genealogy and traceability over HTTP: `/v1/trace/...` (import, backward and forward trace,
//! recall, reconciliation) and the EPCIS 2.0 REST capture and query endpoints
//! (`POST /epcis/capture`, `GET /epcis/events`).
//!
//! The handlers parse, call the `trace` engine and the store, and serialise; the glue they
//! share with the CLI (reading a document into the store, building the genealogy index from
//! what is stored) is public here as [`import_text`] (in two halves, [`read_document`] and
//! [`store_document`], so that the CLI reads one document while the one before is stored)
//! and [`load_index`].
//!
//! The server keeps the index it built in [`IndexCache`] (part of the app state) and builds it
//! again only when the store changed since: every write appends an audit record in its own
//! transaction, so the last audit sequence number is the store's version. An import, a
//! capture, an event batch, a plant load or a reset is seen by the next query.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use model::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::{Actor, Store, StoreError, TraceDocument, TraceEventRow, TraceImportOutcome};
use trace::epcis::query::EventQuery;
use trace::import::Imported;
use trace::recall::{RecallReport, RecallRequest};
use trace::{Direction, Expectation, Id, IdKind, ImportError, ReconcileReport, TraceReport};

use crate::AppState;
use crate::auth::Caller;
use crate::extract::{Json, Query};
use crate::problem::Problem;
use crate::routes::{Endpoint, Param, Permission, path, query};

/// Why a trace operation failed (shared with the CLI).
#[derive(Debug, thiserror::Error)]
pub enum TraceFailure {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("{0}")]
    Corrupt(String),
    #[error("{0}")]
    Unsupported(String),
}

impl From<TraceFailure> for Problem {
    fn from(failure: TraceFailure) -> Problem {
        match failure {
            TraceFailure::Store(e) => e.into(),
            TraceFailure::Import(e) => {
                let mut p = Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-document",
                    e.to_string(),
                );
                p.errors = vec![format!(
                    "index={} id={} field={}",
                    e.index.map_or("-".into(), |i| i.to_string()),
                    e.event_id.as_deref().unwrap_or("-"),
                    e.field
                )];
                p
            }
            TraceFailure::Unsupported(e) => Problem::unprocessable(e),
            TraceFailure::Corrupt(e) => {
                tracing::error!(error = %e, "stored genealogy does not decode");
                Problem::internal("stored genealogy does not decode (see the server log)")
            }
        }
    }
}

/// What importing one document did.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ImportSummary {
    pub name: String,
    /// `epcis`, `b2mml` or `events` (the plant's own events, appended to the log).
    pub format: String,
    /// Events (or B2MML material actuals) the document held.
    pub events: usize,
    pub inserted: usize,
    pub duplicates: usize,
    pub duplicate_document: bool,
}

/// Reads `text` (any supported format) and stores it whole, or nothing of it.
pub async fn import_text(
    store: &Store,
    name: &str,
    text: &str,
    actor: &Actor,
    now: Timestamp,
) -> Result<ImportSummary, TraceFailure> {
    store_document(store, read_document(name, text, now)?, actor).await
}

/// [`import_text`] of a document already read from `text` (with [`trace::import::read`]):
/// stores it whole, or nothing of it.
pub async fn import_read(
    store: &Store,
    name: &str,
    text: &str,
    imported: Imported,
    actor: &Actor,
) -> Result<ImportSummary, TraceFailure> {
    store_document(store, ready(name, text, imported)?, actor).await
}

/// A document read and made ready to store, with nothing stored yet ([`read_document`]).
#[derive(Debug)]
pub struct ReadDocument {
    name: String,
    what: Ready,
}

#[derive(Debug)]
enum Ready {
    /// The plant's own events, for the log.
    Events(Vec<model::Event>),
    /// EPCIS or B2MML rows for the trace tables; `events` as [`ImportSummary::events`].
    Trace {
        prepared: trace::persist::Prepared,
        events: usize,
        b2mml: bool,
    },
}

impl ReadDocument {
    /// Whether the document holds the plant's own events (which need a plant to be stored).
    pub fn is_plant_events(&self) -> bool {
        matches!(self.what, Ready::Events(_))
    }
}

/// The CPU half of [`import_text`]: reads `text` and turns it into rows, touching no store,
/// so that a caller can read the next document while the one before is being stored.
pub fn read_document(name: &str, text: &str, now: Timestamp) -> Result<ReadDocument, TraceFailure> {
    ready(name, text, trace::import::read(text, now)?)
}

fn ready(name: &str, text: &str, imported: Imported) -> Result<ReadDocument, TraceFailure> {
    let what = match imported {
        Imported::Events(events) => Ready::Events(events),
        Imported::Query(_) => {
            return Err(TraceFailure::Unsupported(format!(
                "{name} is an EPCIS SimpleEventQuery, not a document of events; pass its parameters to GET /epcis/events"
            )));
        }
        Imported::Epcis(_) | Imported::B2mml(_) => {
            let (events, b2mml) = match &imported {
                Imported::B2mml(doc) => (doc.material_actuals, true),
                Imported::Epcis(doc) => (doc.events.len(), false),
                _ => (0, false),
            };
            let prepared =
                trace::persist::prepare(&imported, text).expect("EPCIS and B2MML are stored");
            Ready::Trace {
                prepared,
                events,
                b2mml,
            }
        }
    };
    Ok(ReadDocument {
        name: name.to_owned(),
        what,
    })
}

/// The store half of [`import_text`]: stores a document read with [`read_document`] whole,
/// or nothing of it.
pub async fn store_document(
    store: &Store,
    document: ReadDocument,
    actor: &Actor,
) -> Result<ImportSummary, TraceFailure> {
    let name = document.name;
    let (prepared, events, b2mml) = match document.what {
        Ready::Events(events) => {
            let outcome = store.append(&events, actor).await?;
            return Ok(ImportSummary {
                name,
                format: "events".into(),
                events: events.len(),
                inserted: outcome.inserted,
                duplicates: outcome.duplicates,
                duplicate_document: false,
            });
        }
        Ready::Trace {
            prepared,
            events,
            b2mml,
        } => (prepared, events, b2mml),
    };
    let format = prepared.format;
    let outcome: TraceImportOutcome = store
        .import_trace_document(
            TraceDocument {
                format: format.to_owned(),
                name: name.clone(),
                sha256: prepared.sha256,
                events: prepared
                    .rows
                    .into_iter()
                    .map(|r| TraceEventRow {
                        key: r.key,
                        event_id: r.event_id,
                        event_type: r.event_type,
                        event_time: r.event_time,
                        body: r.body,
                    })
                    .collect(),
                genealogy: prepared.genealogy,
            },
            actor,
        )
        .await?;
    Ok(ImportSummary {
        name,
        format: format.to_owned(),
        events,
        inserted: if b2mml && !outcome.duplicate_document {
            events
        } else {
            outcome.inserted
        },
        duplicates: if b2mml && outcome.duplicate_document {
            events
        } else {
            outcome.duplicates
        },
        duplicate_document: outcome.duplicate_document,
    })
}

/// Every stored EPCIS event with its log position and record time.
pub async fn stored_epcis(
    store: &Store,
) -> Result<Vec<(i64, Timestamp, trace::epcis::EpcisEvent)>, TraceFailure> {
    let rows = store.all_trace_events().await?;
    let events = trace::persist::decode_events(rows.iter().map(|r| r.body.as_str()))
        .map_err(TraceFailure::Corrupt)?;
    Ok(rows
        .iter()
        .zip(events)
        .map(|(r, e)| (r.seq, r.recorded_at, e))
        .collect())
}

/// The genealogy index over everything stored: the log's material events, captured EPCIS
/// events and imported B2MML genealogy. The EPCIS bodies are read in one pass and lowered
/// straight from their text ([`trace::persist::assemble_stored`]).
pub async fn load_index(store: &Store) -> Result<trace::Index, TraceFailure> {
    let material = store.material_events().await?;
    let catalog = store.plant().await;
    let bodies = store.trace_event_bodies().await?;
    let genealogy = store.trace_genealogy().await?;
    let bodies: Vec<&str> = bodies.iter().collect();
    trace::persist::assemble_stored(
        &material,
        catalog.as_deref(),
        &bodies,
        genealogy.iter().map(String::as_str),
    )
    .map_err(TraceFailure::Corrupt)
}

/// The genealogy index of the store's current version (see the module docs).
#[derive(Default)]
pub struct IndexCache {
    /// The audit sequence number the index was built at, and the index.
    current: tokio::sync::Mutex<Option<(i64, Arc<trace::Index>)>>,
}

impl std::fmt::Debug for IndexCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexCache").finish_non_exhaustive()
    }
}

impl IndexCache {
    /// The index over everything stored, built again only if the store changed since the
    /// last call. One caller builds while the others wait for it.
    pub async fn get(&self, store: &Store) -> Result<Arc<trace::Index>, TraceFailure> {
        let mut current = self.current.lock().await;
        let known = current.as_ref().map_or(0, |(version, _)| *version);
        // The version is read before the data: a write landing while the index is built
        // makes the next call build again, never hides that write.
        let version = audit_head(store, known).await?;
        if let Some((v, index)) = current.as_ref()
            && *v == version
        {
            return Ok(Arc::clone(index));
        }
        let index = Arc::new(load_index(store).await?);
        *current = Some((version, Arc::clone(&index)));
        Ok(index)
    }
}

/// The last audit sequence number, reading only records after `known`.
async fn audit_head(store: &Store, known: i64) -> Result<i64, StoreError> {
    let mut after = known;
    loop {
        let page = store.audit_log(after, store::MAX_PAGE).await?;
        match page.last() {
            Some(record) => after = record.seq,
            None => return Ok(after),
        }
    }
}

/// Mass-balance expectations from the plant's orders and routings (5 % tolerance).
pub async fn expectations(store: &Store) -> BTreeMap<String, Expectation> {
    let Some(catalog) = store.plant().await else {
        return BTreeMap::new();
    };
    let state = store.state().await;
    let plant = catalog.plant();
    state
        .orders
        .values()
        .filter_map(|o| {
            let routing = plant.routings.iter().find(|r| r.id == o.order.routing)?;
            Some((
                Id::local(IdKind::Order, o.order.id.as_str()).id,
                Expectation::from_routing(o.order.quantity, routing.expected_yield, 0.05),
            ))
        })
        .collect()
}

/// The instant "now" for records this API writes (the server is an edge and may read the clock).
fn now() -> Timestamp {
    Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
    )
}

fn body_text(body: &Bytes) -> Result<&str, Problem> {
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
    ),
    query("to", "string", "Only links before this instant (RFC 3339)"),
];

const RECALL_PARAMS: &[Param] = &[
    path("id", "The suspect lot, batch, serial or pallet"),
    query(
        "format",
        "string",
        "`json` (default), `csv` or `epcis` (recall events, JSON-LD)",
    ),
];

const RECALL_FORMAT_PARAMS: &[Param] = &[query(
    "format",
    "string",
    "`json` (default), `csv` or `epcis` (recall events, JSON-LD)",
)];

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
    ),
    query("GE_eventTime", "string", "Events at or after this instant"),
    query("LT_eventTime", "string", "Events before this instant"),
    query("EQ_action", "string", "ADD, OBSERVE, DELETE"),
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
            writes: true,
            permission: Permission::WriteTrace,
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
            response: |g| g.subschema_for::<TraceReport>(),
            success_status: 200,
            writes: false,
            permission: Permission::ReadTrace,
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
            response: |g| g.subschema_for::<TraceReport>(),
            success_status: 200,
            writes: false,
            permission: Permission::ReadTrace,
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
            response: |g| g.subschema_for::<RecallReport>(),
            success_status: 200,
            writes: false,
            permission: Permission::ReadTrace,
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
            response: |g| g.subschema_for::<RecallReport>(),
            success_status: 200,
            writes: false,
            permission: Permission::ReadTrace,
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
            response: |g| g.subschema_for::<ReconcileReport>(),
            success_status: 200,
            writes: false,
            permission: Permission::ReadTrace,
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
            writes: true,
            permission: Permission::WriteTrace,
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
            writes: false,
            permission: Permission::ReadTrace,
            handler: || get(epcis_events),
        },
    ]
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportParams {
    name: Option<String>,
}

/// Genealogy documents link lots, serials and containers across areas (a batch made in one
/// area is consumed and packed in others) and name locations by GS1 ids the plant model does
/// not map to areas, so what they touch cannot be bounded by an area: importing them needs a
/// site-wide scope.
fn site_wide(caller: &Caller) -> Result<(), Problem> {
    match &caller.0.scope {
        govern::Scope::Area(area) => Err(crate::auth::forbidden(format!(
            "genealogy documents link material across areas; importing them needs a site-wide scope, not `area:{area}`"
        ))),
        _ => Ok(()),
    }
}

async fn trace_import(
    State(app): State<AppState>,
    caller: Caller,
    Query(params): Query<ImportParams>,
    body: Bytes,
) -> Result<axum::Json<ImportSummary>, Problem> {
    site_wide(&caller)?;
    let actor = caller.actor();
    let name = params.name.unwrap_or_else(|| "upload".into());
    let summary = import_text(&app.store, &name, body_text(&body)?, &actor, now()).await?;
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
    id: &str,
    direction: Direction,
    params: TraceParams,
) -> Result<axum::Json<TraceReport>, Problem> {
    let index = app.trace_index.get(&app.store).await?;
    let request = trace::TraceRequest {
        max_depth: params.max_depth,
        from: params.from,
        to: params.to,
    };
    trace::trace(&index, id, direction, &request)
        .map(axum::Json)
        .map_err(|e| Problem::not_found(e.to_string()))
}

async fn trace_backward(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<TraceParams>,
) -> Result<axum::Json<TraceReport>, Problem> {
    run_trace(&app, &id, Direction::Backward, params).await
}

async fn trace_forward(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<TraceParams>,
) -> Result<axum::Json<TraceReport>, Problem> {
    run_trace(&app, &id, Direction::Forward, params).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecallParams {
    format: Option<String>,
}

async fn run_recall(
    app: &AppState,
    request: RecallRequest,
    format: Option<String>,
) -> Result<Response, Problem> {
    let format = format.unwrap_or_else(|| "json".into());
    if !matches!(format.as_str(), "json" | "csv" | "epcis") {
        return Err(Problem::bad_request(format!(
            "query parameter `format`: `{format}` is not json, csv or epcis"
        )));
    }
    let index = app.trace_index.get(&app.store).await?;
    let report = trace::recall(&index, &request).map_err(|e| match e {
        trace::recall::RecallError::NotFound(e) => Problem::not_found(e.to_string()),
        other => Problem::bad_request(other.to_string()),
    })?;
    Ok(match format.as_str() {
        "csv" => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            report.to_csv(),
        )
            .into_response(),
        "epcis" => {
            let at = now();
            let events = report.to_epcis(&format!("{}", at.0), at);
            let doc = trace::epcis::json::document(&events, &BTreeMap::new(), at);
            (
                [(header::CONTENT_TYPE, "application/ld+json")],
                doc.to_string(),
            )
                .into_response()
        }
        _ => axum::Json(report).into_response(),
    })
}

async fn trace_recall_id(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<RecallParams>,
) -> Result<Response, Problem> {
    let request = RecallRequest {
        id: Some(id),
        ..RecallRequest::default()
    };
    run_recall(&app, request, params.format).await
}

async fn trace_recall_request(
    State(app): State<AppState>,
    Query(params): Query<RecallParams>,
    Json(request): Json<RecallRequest>,
) -> Result<Response, Problem> {
    run_recall(&app, request, params.format).await
}

async fn trace_reconcile(
    State(app): State<AppState>,
) -> Result<axum::Json<ReconcileReport>, Problem> {
    let index = app.trace_index.get(&app.store).await?;
    let expectations = expectations(&app.store).await;
    Ok(axum::Json(trace::reconcile(&index, &expectations)))
}

async fn epcis_capture(
    State(app): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, Problem> {
    site_wide(&caller)?;
    let actor = caller.actor();
    let text = body_text(&body)?;
    let imported = trace::import::read(text, now()).map_err(TraceFailure::from)?;
    if !matches!(imported, Imported::Epcis(_)) {
        return Err(Problem::unprocessable(
            "the capture endpoint takes an EPCIS 2.0 document (JSON-LD or XML)",
        ));
    }
    let summary = import_read(&app.store, "capture", text, imported, &actor).await?;
    let location = format!("/epcis/capture/{}", summary.inserted);
    let mut response = (StatusCode::ACCEPTED, axum::Json(summary)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

async fn epcis_events(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, Problem> {
    let query = EventQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| Problem::bad_request(e.to_string()))?;
    let per_page = query.per_page.unwrap_or(100).min(10_000);
    let offset: usize = match &query.next_page_token {
        Some(token) => token.parse().map_err(|_| {
            Problem::bad_request(format!(
                "query parameter `nextPageToken`: `{token}` is not a token this server issued"
            ))
        })?,
        None => 0,
    };
    let mut events = stored_epcis(&app.store).await?;
    events.retain(|(_, _, e)| query.matches(e));
    if query.order_by_record_time {
        events.sort_by_key(|(seq, _, _)| *seq);
    } else {
        events.sort_by_key(|(seq, _, e)| (e.event_time, *seq));
    }
    if query.descending {
        events.reverse();
    }
    if let Some(limit) = query.event_count_limit {
        events.truncate(limit);
    }
    let total = events.len();
    let page: Vec<trace::epcis::EpcisEvent> = events
        .into_iter()
        .skip(offset)
        .take(per_page)
        .map(|(_, recorded, mut e)| {
            e.record_time.get_or_insert(recorded);
            e
        })
        .collect();
    let next = (offset + page.len() < total).then(|| offset + page.len());
    let at = now();
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
