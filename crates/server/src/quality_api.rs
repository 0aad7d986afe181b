//! The quality endpoints (`/v1/quality/...`) and the glue that runs enforcement.
//!
//! SPC analysis (`spc/analyze`) calls the pure `quality` engine on the request. Quality results
//! are events (`quality_result_recorded`): `POST /v1/quality/results` appends them through the
//! event path (atomic, idempotent by id) and then runs [`enforce`], which feeds every result
//! logged since the enforcer's cursor through `quality::enforce::Enforcer` under the
//! enterprise policy and stores the alerts, holds and nonconformances it decides, with the
//! enforcer's state, in one audited write. `POST /v1/events` runs it too ([`after_ingest`]),
//! and every quality read runs it first, so results that arrived by another path
//! (`mixplane import`) are judged before anyone sees alerts, holds or the release gate.
//!
//! Nonconformance transitions follow `quality::nc` (an invalid one is a 409 naming the state
//! and the action) and are stored with who and when, guarded by the NC's row version. The
//! caller is the authenticated principal ([`Caller`]); writes are audited under it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use model::{Event, EventKind, PlantState, Timestamp};
use quality::enforce::{
    Alert, CharacteristicSpec, ChartView, Enforcer, EnforcerState, Genealogy, ItemKind, ItemRef,
    ResultInput,
};
use quality::nc::{NcCommand, NcError, NcSummary, Nonconformance, ReleaseDecision, release_gate};
use quality::policy::{Mode, QualityPolicy};
use store::{
    Actor, AlertFilter, EnforceRun, Hold, HoldFilter, HoldRelease, NcFilter, NcTransition,
    NcUpdate, NewAlert, NewHold, NewNc, QualityWrite, Store, StoreError, StoredNc,
};

use crate::AppState;
use crate::api::Json200;
use crate::auth::Caller;
use crate::extract::{Json, Query};
use crate::problem::Problem;
use crate::routes::{Endpoint, Param, Permission, path, query};

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
            writes: false,
            permission: Permission::ReadQuality,
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
            writes: true,
            permission: Permission::WriteQuality,
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
            writes: false,
            permission: Permission::ReadQuality,
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
            writes: false,
            permission: Permission::ReadQuality,
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
            writes: false,
            permission: Permission::ReadQuality,
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
            writes: true,
            permission: Permission::WriteQuality,
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
            writes: true,
            permission: Permission::WriteQuality,
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
            writes: false,
            permission: Permission::ReadQuality,
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
            writes: true,
            permission: Permission::WriteQuality,
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
            writes: false,
            permission: Permission::ReadQuality,
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
            writes: true,
            permission: Permission::DisposeQuality,
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
            writes: false,
            permission: Permission::ReadQuality,
            handler: || get(gate),
        },
    ]
}

const ID_PARAMS: &[Param] = &[path("id", "identifier")];

const ALERT_PARAMS: &[Param] = &[
    query("characteristic", "string", "only this characteristic"),
    query("severity", "string", "critical, major or minor"),
    query("limit", "integer", "page size (default 100, max 1000)"),
    query("offset", "integer", "alerts to skip"),
];

const HOLD_PARAMS: &[Param] = &[
    query(
        "active",
        "boolean",
        "only active (true) or released (false) holds",
    ),
    query("item_kind", "string", "lot, serial or order"),
    query("item_id", "string", "only holds on this item"),
    query("limit", "integer", "page size (default 100, max 1000)"),
    query("offset", "integer", "holds to skip"),
];

const NC_PARAMS: &[Param] = &[
    query(
        "state",
        "string",
        "open, investigating, dispositioned, capa, verified or closed",
    ),
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

/// The principal of quality writes the policy makes.
fn enforcer_actor() -> Actor {
    Actor::service(format!("quality-enforcer/{}", env!("CARGO_PKG_VERSION")))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn principal(actor: &Actor) -> String {
    format!("{}:{}", actor.kind.as_str(), actor.id)
}

// ----- enforcement glue -------------------------------------------------------------------

/// The characteristics of the plant's inspection plans, each with the mode of the routing
/// that makes the inspected material.
pub fn characteristic_specs(plant: &model::Plant) -> Vec<CharacteristicSpec> {
    let mut specs = Vec::new();
    for plan in &plant.inspection_plans {
        let mode = plant
            .routings
            .iter()
            .find(|r| r.product == plan.material)
            .map_or(Mode::Process, |r| match r.mode {
                model::Mode::Discrete => Mode::Discrete,
                model::Mode::Process => Mode::Process,
                model::Mode::Repetitive => Mode::Repetitive,
            });
        for c in &plan.characteristics {
            let chart = serde_json::to_value(c.chart)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            specs.push(CharacteristicSpec {
                id: c.id.to_string(),
                mode,
                chart,
                subgroup_size: c.subgroup_size as usize,
                lsl: c.lsl,
                usl: c.usl,
            });
        }
    }
    specs
}

/// Genealogy over the folded plant state: which order made and consumed which lot or serial.
pub struct StateGenealogy<'a> {
    state: &'a PlantState,
    consumed: BTreeMap<&'a str, Vec<ItemRef>>,
    produced: BTreeMap<&'a str, Vec<ItemRef>>,
}

impl<'a> StateGenealogy<'a> {
    pub fn new(state: &'a PlantState) -> StateGenealogy<'a> {
        let mut consumed: BTreeMap<&str, Vec<ItemRef>> = BTreeMap::new();
        let mut produced: BTreeMap<&str, Vec<ItemRef>> = BTreeMap::new();
        for (id, lot) in &state.lots {
            for order in &lot.consumed_by {
                consumed
                    .entry(order.as_str())
                    .or_default()
                    .push(ItemRef::lot(id.as_str()));
            }
            if let Some(order) = &lot.produced_by {
                produced
                    .entry(order.as_str())
                    .or_default()
                    .push(ItemRef::lot(id.as_str()));
            }
        }
        for (id, serial) in &state.serials {
            if let Some(order) = &serial.consumed_by {
                consumed
                    .entry(order.as_str())
                    .or_default()
                    .push(ItemRef::serial(id.as_str()));
            }
            if let Some(order) = &serial.produced_by {
                produced
                    .entry(order.as_str())
                    .or_default()
                    .push(ItemRef::serial(id.as_str()));
            }
        }
        StateGenealogy {
            state,
            consumed,
            produced,
        }
    }

    /// The order that made an item (an order is its own).
    pub fn producer(&self, item: &ItemRef) -> Option<String> {
        match item.kind {
            ItemKind::Order => Some(item.id.clone()),
            ItemKind::Lot => self
                .state
                .lots
                .get(&item.id.as_str().into())
                .and_then(|l| l.produced_by.as_ref())
                .map(ToString::to_string),
            ItemKind::Serial => self
                .state
                .serials
                .get(&item.id.as_str().into())
                .and_then(|s| s.produced_by.as_ref())
                .map(ToString::to_string),
        }
    }

    fn consumers(&self, item: &ItemRef) -> Vec<String> {
        match item.kind {
            ItemKind::Order => vec![item.id.clone()],
            ItemKind::Lot => self
                .state
                .lots
                .get(&item.id.as_str().into())
                .map(|l| l.consumed_by.iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
            ItemKind::Serial => self
                .state
                .serials
                .get(&item.id.as_str().into())
                .and_then(|s| s.consumed_by.as_ref())
                .map(|o| vec![o.to_string()])
                .unwrap_or_default(),
        }
    }
}

impl Genealogy for StateGenealogy<'_> {
    fn upstream(&self, item: &ItemRef) -> Vec<ItemRef> {
        self.producer(item)
            .and_then(|o| self.consumed.get(o.as_str()).cloned())
            .unwrap_or_default()
    }

    fn downstream(&self, item: &ItemRef) -> Vec<ItemRef> {
        if item.kind == ItemKind::Order {
            return self
                .produced
                .get(item.id.as_str())
                .cloned()
                .unwrap_or_default();
        }
        self.consumers(item)
            .iter()
            .flat_map(|o| self.produced.get(o.as_str()).cloned().unwrap_or_default())
            .collect()
    }
}

fn result_input(event: &Event) -> Option<ResultInput> {
    let EventKind::QualityResultRecorded {
        characteristic,
        value,
        sample,
        sample_size,
        order,
        lot,
        serial,
        ..
    } = &event.kind
    else {
        return None;
    };
    Some(ResultInput {
        event_id: event.id.to_string(),
        at: event.time.0,
        characteristic: characteristic.to_string(),
        value: *value,
        sample: *sample,
        sample_size: *sample_size,
        order: order.as_ref().map(ToString::to_string),
        lot: lot.as_ref().map(ToString::to_string),
        serial: serial.as_ref().map(ToString::to_string),
    })
}

/// Judges every quality result logged since the enforcer's cursor under the enterprise
/// policy and stores the alerts, holds and NCs decided (none when nothing is new).
pub async fn enforce(store: &Store) -> Result<Option<EnforceRun>, StoreError> {
    if store.plant().await.is_none() {
        return Ok(None);
    }
    let actor = enforcer_actor();
    let by = principal(&actor);
    store
        .enforce_quality(&actor, move |batch| {
            let policy = QualityPolicy::enterprise_default();
            let catalog = batch
                .snapshot
                .catalog
                .clone()
                .ok_or_else(|| "no plant is loaded".to_string())?;
            let specs = characteristic_specs(catalog.plant());
            let state: EnforcerState = match &batch.previous_state {
                Some(text) => serde_json::from_str(text)
                    .map_err(|e| format!("saved enforcer state does not decode: {e}"))?,
                None => EnforcerState::default(),
            };
            let mut enforcer = Enforcer::resume(policy, specs, state);
            let inputs: Vec<ResultInput> = batch
                .results
                .iter()
                .filter_map(|e| result_input(&e.event))
                .collect();
            let genealogy = StateGenealogy::new(&batch.snapshot.state);
            let outcome = enforcer.feed(&inputs, &genealogy);
            let alerts = outcome
                .alerts
                .iter()
                .map(|a| NewAlert {
                    id: a.id.clone(),
                    characteristic: a.characteristic.clone(),
                    severity: a.severity.name().to_owned(),
                    phase: a.phase,
                    at: Timestamp(a.at),
                    body: serde_json::to_value(a).unwrap_or_default(),
                })
                .collect();
            let holds = outcome
                .holds
                .iter()
                .map(|h| NewHold {
                    item_kind: h.item.kind.name().to_owned(),
                    item_id: h.item.id.clone(),
                    link: serde_json::to_value(h.link)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    reason: h.reason.clone(),
                    alert_id: Some(h.alert_id.clone()),
                    at: Timestamp(h.at),
                })
                .collect();
            let mut nonconformances = Vec::new();
            for nc in &outcome.nonconformances {
                let opened =
                    Nonconformance::open(&nc.id, &nc.description, nc.items.clone(), &by, nc.at)
                        .map_err(|e| e.to_string())?;
                nonconformances.push(NewNc {
                    id: nc.id.clone(),
                    state: opened.state.name().to_owned(),
                    characteristic: Some(nc.characteristic.clone()),
                    alert_id: Some(nc.alert_id.clone()),
                    items: nc.items.clone(),
                    at: Timestamp(nc.at),
                    transitions: transitions(&opened, 0),
                    body: serde_json::to_value(&opened).unwrap_or_default(),
                });
            }
            Ok(QualityWrite {
                state: serde_json::to_string(enforcer.state()).map_err(|e| e.to_string())?,
                policy_version: enforcer.policy().version.clone(),
                alerts,
                holds,
                nonconformances,
            })
        })
        .await
}

/// History entries of `nc` from index `from` on, as the store keeps them.
fn transitions(nc: &Nonconformance, from: usize) -> Vec<NcTransition> {
    nc.history
        .iter()
        .skip(from)
        .map(|r| NcTransition {
            action: r.action.clone(),
            from: r.from.name().to_owned(),
            to: r.to.name().to_owned(),
            by: r.by.clone(),
            at: Timestamp(r.at),
            detail: r.detail.clone(),
        })
        .collect()
}

/// Runs enforcement after a committed event batch that holds quality results (the events
/// are stored either way; a failure is logged and the next quality read retries).
pub async fn after_ingest(app: &AppState, events: &[Event]) {
    if events
        .iter()
        .any(|e| matches!(e.kind, EventKind::QualityResultRecorded { .. }))
    {
        catch_up(app).await;
    }
}

/// Runs enforcement before a read; a failure is logged and the read goes on.
async fn catch_up(app: &AppState) {
    if let Err(error) = enforce(&app.store).await {
        tracing::error!(%error, "quality enforcement failed");
    }
}

// ----- analysis ------------------------------------------------------------------------------

/// A request shaped like a test vector: `{chart, params, data}`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SpcRequest {
    /// imr, xbar_r, xbar_s, p, np, c, u, ewma, cusum, capability, t2_individual, t2_subgroup,
    /// rules, constants.
    pub chart: String,
    #[serde(default)]
    pub params: Map<String, Value>,
    #[serde(default)]
    pub data: Map<String, Value>,
}

async fn analyze(Json(request): Json<SpcRequest>) -> Result<Json200<Value>, Problem> {
    let request = quality::AnalyzeRequest {
        chart: request.chart,
        params: request.params,
        data: request.data,
    };
    let response = quality::analyze(&request).map_err(|e| Problem::unprocessable(e.to_string()))?;
    let value = serde_json::to_value(&response)
        .map_err(|e| Problem::internal(format!("the analysis does not serialise: {e}")))?;
    Ok(Json200(value))
}

// ----- results and charts ----------------------------------------------------------------

/// One quality result: a `quality_result_recorded` event without its `type`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QualityResultIn {
    /// Event id; sending the same id again stores it once.
    pub id: String,
    /// When it was measured (RFC 3339).
    pub time: Timestamp,
    #[serde(default)]
    pub source: Option<String>,
    pub characteristic: String,
    pub value: f64,
    /// Subgroup number: results with the same characteristic and sample form one subgroup.
    #[serde(default)]
    pub sample: Option<u64>,
    /// Inspected size (attribute charts; `value` is then a count).
    #[serde(default)]
    pub sample_size: Option<f64>,
    #[serde(default)]
    pub order: Option<String>,
    #[serde(default)]
    pub lot: Option<String>,
    #[serde(default)]
    pub serial: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
}

/// What a batch of results did.
#[derive(Debug, Serialize, JsonSchema)]
pub struct QualityIngest {
    pub inserted: usize,
    pub duplicates: usize,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    /// The enforcement run the batch triggered (none when nothing was new).
    pub enforcement: Option<EnforceRun>,
}

async fn record_results(
    State(app): State<AppState>,
    caller: Caller,
    Json(results): Json<Vec<QualityResultIn>>,
) -> Result<Json200<QualityIngest>, Problem> {
    let actor = caller.actor();
    if app.store.plant().await.is_none() {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "no-plant",
            "no plant is loaded; run `mixplane demo` or load one first",
        ));
    }
    let events: Vec<Event> = results
        .into_iter()
        .map(|r| Event {
            id: r.id.into(),
            time: r.time,
            source: r.source,
            kind: EventKind::QualityResultRecorded {
                characteristic: r.characteristic.into(),
                value: r.value,
                sample: r.sample,
                sample_size: r.sample_size,
                order: r.order.map(Into::into),
                lot: r.lot.map(Into::into),
                serial: r.serial.map(Into::into),
                unit: r.unit.map(Into::into),
            },
        })
        .collect();
    let snapshot = app.store.snapshot().await;
    if let Some(catalog) = &snapshot.catalog {
        crate::api::check_event_scope(&caller, catalog, &snapshot.state, &events)?;
    }
    let outcome = app.store.append(&events, &actor).await?;
    let enforcement = enforce(&app.store).await?;
    Ok(Json200(QualityIngest {
        inserted: outcome.inserted,
        duplicates: outcome.duplicates,
        first_seq: outcome.first_seq,
        last_seq: outcome.last_seq,
        enforcement,
    }))
}

async fn chart(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json200<ChartView>, Problem> {
    let catalog = app
        .store
        .plant()
        .await
        .ok_or_else(|| Problem::new(StatusCode::CONFLICT, "no-plant", "no plant is loaded"))?;
    let spec = characteristic_specs(catalog.plant())
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| {
            Problem::not_found(format!(
                "characteristic `{id}` is in no inspection plan of the plant"
            ))
        })?;
    let inputs: Vec<ResultInput> = app
        .store
        .quality_results(&id)
        .await?
        .iter()
        .filter_map(|e| result_input(&e.event))
        .collect();
    Ok(Json200(quality::enforce::chart(
        &QualityPolicy::enterprise_default(),
        &spec,
        &inputs,
    )))
}

// ----- alerts and holds --------------------------------------------------------------------

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

/// A page of alerts.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AlertPage {
    pub items: Vec<Alert>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

async fn list_alerts(
    State(app): State<AppState>,
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
    let limit = page_limit(q.limit)?;
    catch_up(&app).await;
    let page = app
        .store
        .alerts(AlertFilter {
            characteristic: q.characteristic,
            severity: q.severity,
            limit,
            offset: q.offset.unwrap_or(0),
        })
        .await?;
    let items = page
        .items
        .into_iter()
        .map(|a| {
            serde_json::from_value(a.body).map_err(|e| {
                Problem::internal(format!("stored alert {} does not decode: {e}", a.id))
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Json200(AlertPage {
        items,
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    }))
}

#[derive(Debug, Deserialize)]
struct HoldQuery {
    active: Option<bool>,
    item_kind: Option<String>,
    item_id: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

fn item_kind(kind: &str, field: &str) -> Result<ItemKind, Problem> {
    match kind {
        "lot" => Ok(ItemKind::Lot),
        "serial" => Ok(ItemKind::Serial),
        "order" => Ok(ItemKind::Order),
        other => Err(Problem::unprocessable(format!(
            "`{field}`: `{other}` is not lot, serial or order"
        ))),
    }
}

async fn list_holds(
    State(app): State<AppState>,
    Query(q): Query<HoldQuery>,
) -> Result<Json200<store::Page<Hold>>, Problem> {
    if let Some(kind) = &q.item_kind {
        item_kind(kind, "item_kind").map_err(|p| Problem::bad_request(p.detail))?;
    }
    let limit = page_limit(q.limit)?;
    catch_up(&app).await;
    Ok(Json200(
        app.store
            .holds(HoldFilter {
                active: q.active,
                item_kind: q.item_kind,
                item_id: q.item_id,
                limit,
                offset: q.offset.unwrap_or(0),
            })
            .await?,
    ))
}

/// A hold placed by hand.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    /// lot, serial or order.
    pub item_kind: String,
    pub item_id: String,
    /// Why, in words.
    pub reason: String,
}

/// Why a hold is released.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRequest {
    pub reason: String,
}

/// A 201 JSON response.
struct Created<T>(T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, axum::Json(self.0)).into_response()
    }
}

async fn place_hold(
    State(app): State<AppState>,
    caller: Caller,
    Json(request): Json<HoldRequest>,
) -> Result<Created<Hold>, Problem> {
    let actor = caller.actor();
    item_kind(&request.item_kind, "item_kind")?;
    if request.item_id.trim().is_empty() {
        return Err(Problem::unprocessable("`item_id` must not be empty"));
    }
    if request.reason.trim().is_empty() {
        return Err(Problem::unprocessable("`reason` must not be empty"));
    }
    let (hold, placed) = app
        .store
        .place_hold(
            &actor,
            &request.item_kind,
            request.item_id.trim(),
            &request.reason,
        )
        .await?;
    if !placed {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "already-on-hold",
            format!(
                "{} `{}` is already on hold ({}: {})",
                hold.item_kind, hold.item_id, hold.id, hold.reason
            ),
        ));
    }
    Ok(Created(hold))
}

async fn release_hold(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(request): Json<ReleaseRequest>,
) -> Result<Json200<Hold>, Problem> {
    let actor = caller.actor();
    if request.reason.trim().is_empty() {
        return Err(Problem::unprocessable("`reason` must not be empty"));
    }
    match app.store.release_hold(&id, &actor, &request.reason).await? {
        HoldRelease::Released(hold) => Ok(Json200(hold)),
        HoldRelease::NotFound => Err(Problem::not_found(format!("hold `{id}` does not exist"))),
        HoldRelease::AlreadyReleased(hold) => Err(Problem::new(
            StatusCode::CONFLICT,
            "hold-released",
            format!(
                "hold `{id}` was already released by {} ",
                hold.released_by.unwrap_or_default()
            )
            .trim_end()
            .to_owned(),
        )),
    }
}

// ----- nonconformances ---------------------------------------------------------------------

/// A nonconformance with its workflow state, CAPA actions and history.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NcView {
    pub id: String,
    /// Row version (changes with every transition).
    pub version: i64,
    /// Items concerned (`lot:ID`, `serial:ID`, `order:ID`).
    pub items: Vec<String>,
    pub nonconformance: Nonconformance,
}

fn nc_view(stored: StoredNc) -> Result<NcView, Problem> {
    let nonconformance = serde_json::from_value(stored.body).map_err(|e| {
        Problem::internal(format!(
            "stored nonconformance {} does not decode: {e}",
            stored.id
        ))
    })?;
    Ok(NcView {
        id: stored.id,
        version: stored.version,
        items: stored.items,
        nonconformance,
    })
}

/// A page of nonconformances.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NcPage {
    pub items: Vec<NcView>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

#[derive(Debug, Deserialize)]
struct NcQuery {
    state: Option<String>,
    open: Option<bool>,
    limit: Option<u32>,
    offset: Option<u32>,
}

const NC_STATES: [&str; 6] = [
    "open",
    "investigating",
    "dispositioned",
    "capa",
    "verified",
    "closed",
];

async fn list_ncs(
    State(app): State<AppState>,
    Query(q): Query<NcQuery>,
) -> Result<Json200<NcPage>, Problem> {
    if let Some(s) = q.state.as_deref().filter(|s| !NC_STATES.contains(s)) {
        return Err(Problem::bad_request(format!(
            "query parameter `state`: `{s}` is not one of {}",
            NC_STATES.join(", ")
        )));
    }
    let limit = page_limit(q.limit)?;
    catch_up(&app).await;
    let page = app
        .store
        .nonconformances(NcFilter {
            state: q.state,
            open: q.open,
            limit,
            offset: q.offset.unwrap_or(0),
        })
        .await?;
    Ok(Json200(NcPage {
        items: page
            .items
            .into_iter()
            .map(nc_view)
            .collect::<Result<_, _>>()?,
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    }))
}

async fn get_nc(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json200<NcView>, Problem> {
    catch_up(&app).await;
    let stored = app
        .store
        .nonconformance(&id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("nonconformance `{id}` does not exist")))?;
    Ok(Json200(nc_view(stored)?))
}

/// A nonconformance opened by hand.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NcRequest {
    /// What was found.
    pub description: String,
    /// Items concerned: `lot:ID`, `serial:ID` or `order:ID`.
    pub items: Vec<String>,
    /// The characteristic concerned, if any.
    #[serde(default)]
    pub characteristic: Option<String>,
}

async fn open_nc(
    State(app): State<AppState>,
    caller: Caller,
    Json(request): Json<NcRequest>,
) -> Result<Created<NcView>, Problem> {
    let actor = caller.actor();
    if request.description.trim().is_empty() {
        return Err(Problem::unprocessable("`description` must not be empty"));
    }
    if request.items.is_empty() {
        return Err(Problem::unprocessable(
            "`items` must name at least one item",
        ));
    }
    for (i, item) in request.items.iter().enumerate() {
        let Some((kind, id)) = item.split_once(':') else {
            return Err(Problem::unprocessable(format!(
                "`items[{i}]`: `{item}` is not `lot:ID`, `serial:ID` or `order:ID`"
            )));
        };
        item_kind(kind, &format!("items[{i}]"))?;
        if id.trim().is_empty() {
            return Err(Problem::unprocessable(format!(
                "`items[{i}]`: the id is empty"
            )));
        }
    }
    let by = principal(&actor);
    let at = now_ms();
    let NcRequest {
        description,
        items,
        characteristic,
    } = request;
    let stored = app
        .store
        .create_nc(&actor, move |id| {
            let nc = Nonconformance::open(&id, &description, items.clone(), &by, at)
                .expect("a principal is always named");
            NewNc {
                state: nc.state.name().to_owned(),
                characteristic,
                alert_id: None,
                items,
                at: Timestamp(at),
                transitions: transitions(&nc, 0),
                body: serde_json::to_value(&nc).unwrap_or_default(),
                id,
            }
        })
        .await?;
    Ok(Created(nc_view(stored)?))
}

fn nc_problem(id: &str, error: &NcError) -> Problem {
    let status = match error {
        NcError::UnknownCapaAction { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        NcError::MissingPrincipal => StatusCode::BAD_REQUEST,
        _ => StatusCode::CONFLICT,
    };
    let kind = match error {
        NcError::InvalidTransition { .. } => "invalid-transition",
        _ => "nonconformance-rule",
    };
    Problem::new(status, kind, format!("nonconformance `{id}`: {error}"))
}

async fn transition_nc(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(command): Json<NcCommand>,
) -> Result<Json200<NcView>, Problem> {
    let actor = caller.actor();
    let by = principal(&actor);
    // Two attempts: a concurrent transition makes the first one stale.
    for _ in 0..2 {
        let stored =
            app.store.nonconformance(&id).await?.ok_or_else(|| {
                Problem::not_found(format!("nonconformance `{id}` does not exist"))
            })?;
        let version = stored.version;
        let mut nc: Nonconformance = nc_view(stored)?.nonconformance;
        let before = nc.history.len();
        let at = now_ms().max(nc.history.last().map_or(0, |r| r.at));
        nc.apply(&command, &by, at)
            .map_err(|e| nc_problem(&id, &e))?;
        let body = serde_json::to_value(&nc)
            .map_err(|e| Problem::internal(format!("nonconformance does not serialise: {e}")))?;
        match app
            .store
            .update_nc(
                &id,
                version,
                nc.state.name(),
                body,
                transitions(&nc, before),
                &actor,
            )
            .await?
        {
            NcUpdate::Updated(stored) => return Ok(Json200(nc_view(stored)?)),
            NcUpdate::NotFound => {
                return Err(Problem::not_found(format!(
                    "nonconformance `{id}` does not exist"
                )));
            }
            NcUpdate::Stale => continue,
        }
    }
    Err(Problem::new(
        StatusCode::CONFLICT,
        "concurrent-transition",
        format!("nonconformance `{id}` changed while this transition was applied; retry"),
    ))
}

// ----- release gate ------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct GateQuery {
    lot: Option<String>,
    serial: Option<String>,
}

/// May an item ship, and if not, why.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GateAnswer {
    pub item: ItemRef,
    /// The item is known to the plant state (produced or received here).
    pub known: bool,
    /// Whether it may ship.
    pub allowed: bool,
    /// The decision with one reason per blocking hold or nonconformance.
    pub decision: ReleaseDecision,
    /// What was checked: the item, the order that made it and what it was made from.
    pub checked: Vec<String>,
}

async fn gate(
    State(app): State<AppState>,
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
    catch_up(&app).await;
    let state: Arc<PlantState> = app.store.state().await;
    let genealogy = StateGenealogy::new(&state);
    let known = match item.kind {
        ItemKind::Lot => state.lots.contains_key(&item.id.as_str().into()),
        _ => state.serials.contains_key(&item.id.as_str().into()),
    };
    // The item, its producer, and everything upstream of it (a few generations).
    let mut checked: BTreeSet<ItemRef> = BTreeSet::from([item.clone()]);
    let mut frontier = vec![item.clone()];
    for _ in 0..4 {
        let mut next = Vec::new();
        for i in &frontier {
            if let Some(order) = genealogy.producer(i) {
                let o = ItemRef::order(order);
                if checked.insert(o.clone()) {
                    next.push(o);
                }
            }
            for up in genealogy.upstream(i) {
                if checked.insert(up.clone()) {
                    next.push(up);
                }
            }
        }
        frontier = next;
    }
    // Holds count on the item and on the order that made it (an order hold stands for its
    // output); nonconformances on anything checked.
    let producer = genealogy.producer(&item).map(ItemRef::order);
    let hold_items: Vec<(String, String)> = std::iter::once(item.clone())
        .chain(producer)
        .map(|i| (i.kind.name().to_owned(), i.id))
        .collect();
    let holds = app.store.active_holds_on(&hold_items).await?;
    let keys: Vec<String> = checked.iter().map(ItemRef::key).collect();
    let ncs = app.store.nonconformances_on(&keys).await?;
    let gate_holds: Vec<quality::nc::Hold> = holds
        .iter()
        .map(|h| quality::nc::Hold {
            id: h.id.clone(),
            reason: format!("{}:{} on hold: {}", h.item_kind, h.item_id, h.reason),
            released: !h.active,
        })
        .collect();
    let summaries: Vec<NcSummary> = ncs
        .into_iter()
        .map(|s| nc_view(s).map(|v| NcSummary::from(&v.nonconformance)))
        .collect::<Result<_, _>>()?;
    let decision = release_gate(&gate_holds, &summaries);
    let allowed = decision.is_allowed();
    Ok(Json200(GateAnswer {
        item,
        known,
        allowed,
        decision,
        checked: keys,
    }))
}
