//! Quality use-cases: SPC analysis, recording results (then enforcement), control charts,
//! alerts, holds, nonconformances and the release gate.
//!
//! Quality results are events (`quality_result_recorded`): [`record_results`] appends them
//! through the event path (atomic, idempotent by id) and then runs [`enforce_app`]. An event
//! batch runs it too ([`after_ingest`]), and every quality read runs it first
//! ([`catch_up`]), so results that arrived by another path (`mixplane import`) are judged
//! before anyone sees alerts, holds or the release gate. The holds enforcement decides are
//! proposed by the quality agent ([`hold_agent`]) and placed when the proposal applies
//! (`crate::govern`); a hold proposed and not yet applied blocks the release gate.
//!
//! Nonconformance transitions follow `quality::nc` and are stored with who and when, guarded
//! by the NC's row version.
//!
//! Every read and write here is scoped by [`crate::scope`]: an area-scoped reader sees the
//! charts, alerts, holds and nonconformances that touch its area (another area's single
//! object answers not found), and holds, releases and nonconformance transitions act only on
//! items wholly inside the actor's area; an item the plant state does not know is refused.

mod enforce;
mod gate;
pub mod hold_agent;
pub mod propose;
pub mod root_cause;

use std::sync::Arc;

use govern::Principal;
use model::{Event, EventKind, Timestamp};
use quality::enforce::{Alert, ChartView, ItemKind, ResultInput};
use quality::nc::{NcCommand, Nonconformance};
use quality::policy::QualityPolicy;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use store::{
    AlertFilter, EnforceRun, Hold, HoldFilter, HoldRelease, NcFilter, NcUpdate, NewNc, Page,
    StoredNc,
};

use self::enforce::principal;
pub use self::enforce::{
    StateGenealogy, characteristic_specs, enforce, enforce_app, enforcer_actor, result_input,
    transitions,
};
pub use self::gate::{GateAnswer, release_gate};
use crate::conditional::{self, Expected, version_tag};
use crate::scope::{Reach, all_filtered, page_of};
use crate::{App, AppError};

/// Runs enforcement after a committed event batch that holds quality results (the events
/// are stored either way; a failure is logged and the next quality read retries).
pub async fn after_ingest(app: &App, events: &[Event]) {
    if events
        .iter()
        .any(|e| matches!(e.kind, EventKind::QualityResultRecorded { .. }))
    {
        catch_up(app).await;
    }
}

/// Runs enforcement before a read; a failure is logged and the read goes on.
pub async fn catch_up(app: &App) {
    if let Err(error) = enforce_app(app).await {
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

/// SPC analysis of a request; answers with the shape of a test vector's `expected`.
pub fn analyze(request: SpcRequest) -> Result<Value, AppError> {
    let request = quality::AnalyzeRequest {
        chart: request.chart,
        params: request.params,
        data: request.data,
    };
    let response = quality::analyze(&request).map_err(|e| AppError::Invalid(e.to_string()))?;
    serde_json::to_value(&response)
        .map_err(|e| AppError::Internal(format!("the analysis does not serialise: {e}")))
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

/// Stores a batch of results as events (within `who`'s scope) and runs enforcement.
pub async fn record_results(
    app: &App,
    who: &Principal,
    results: Vec<QualityResultIn>,
) -> Result<QualityIngest, AppError> {
    let actor = store::actor_of(who);
    if app.store.plant().await.is_none() {
        return Err(AppError::NoPlant);
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
        crate::events::check_event_scope(who, catalog, &snapshot.state, &events)?;
    }
    let outcome = app.store.append(&events, &actor).await?;
    let enforcement = enforce_app(app).await?;
    Ok(QualityIngest {
        inserted: outcome.inserted,
        duplicates: outcome.duplicates,
        first_seq: outcome.first_seq,
        last_seq: outcome.last_seq,
        enforcement,
    })
}

/// The control chart of a characteristic under the enterprise policy, if `who` reads it.
pub async fn chart(app: &App, who: &Principal, id: &str) -> Result<ChartView, AppError> {
    let reach = Reach::of(app, who).await?;
    let spec = characteristic_specs(reach.catalog().plant())
        .into_iter()
        .find(|s| s.id == id && reach.reads_characteristic(id))
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "characteristic `{id}` is in no inspection plan of the plant"
            ))
        })?;
    let inputs: Vec<ResultInput> = app
        .store
        .quality_results(id)
        .await?
        .iter()
        .filter_map(|e| result_input(&e.event))
        .collect();
    Ok(quality::enforce::chart(
        &QualityPolicy::enterprise_default(),
        &spec,
        &inputs,
    ))
}

// ----- alerts and holds --------------------------------------------------------------------

/// The alerts last read for each filter, decoded, kept under the audit head they were read
/// at: a list of alerts is read from the database and decoded again only after a write (any
/// process's: every write appends an audit record).
pub(crate) type AlertsRead = store::KeptUnderHead<AlertKey, Arc<Vec<Alert>>>;

/// An alert filter's characteristic and severity.
type AlertKey = (Option<String>, Option<String>);

/// Filters whose reads are kept at once; past it the oldest reads are forgotten together.
pub(crate) const ALERT_READS_KEPT: usize = 64;

/// Every alert `who` reads that matches `filter` (its `limit` and `offset` are ignored),
/// newest first, after catching enforcement up.
pub async fn all_alerts(
    app: &App,
    who: &Principal,
    filter: AlertFilter,
) -> Result<Vec<Alert>, AppError> {
    Ok(read_alerts(app, who, filter)
        .await?
        .iter()
        .cloned()
        .collect())
}

/// The alerts one principal reads under one filter, shared with every reader of the same
/// filter until the next write: what the keyset pages of the API are cut from, cloning only
/// the page.
#[derive(Debug)]
pub struct ReadAlerts {
    all: Arc<Vec<Alert>>,
    reach: Reach,
}

impl ReadAlerts {
    /// The alerts the principal reads, newest first.
    pub fn iter(&self) -> impl Iterator<Item = &Alert> {
        self.all
            .iter()
            .filter(|alert| self.reach.reads_characteristic(&alert.characteristic))
    }
}

/// As [`all_alerts`], without copying them.
pub async fn read_alerts(
    app: &App,
    who: &Principal,
    filter: AlertFilter,
) -> Result<ReadAlerts, AppError> {
    catch_up(app).await;
    let reach = Reach::of(app, who).await?;
    // `Reach::of` caught the process up with the database: its seq names what is stored now.
    let seq = app.store.known_audit_seq();
    let key = (filter.characteristic.clone(), filter.severity.clone());
    let kept = app.alerts_read.get(&key, seq);
    let alerts = match kept {
        Some(alerts) => alerts,
        None => {
            let stored = all_filtered(
                |offset, limit| {
                    let filter = AlertFilter {
                        offset,
                        limit,
                        ..filter.clone()
                    };
                    async move { Ok(app.store.alerts(filter).await?) }
                },
                |_| true,
            )
            .await?;
            let decoded: Vec<Alert> = stored
                .into_iter()
                .map(|a| {
                    serde_json::from_value(a.body).map_err(|e| {
                        AppError::Internal(format!("stored alert {} does not decode: {e}", a.id))
                    })
                })
                .collect::<Result<_, _>>()?;
            let decoded = Arc::new(decoded);
            app.alerts_read.put(key, seq, Arc::clone(&decoded));
            decoded
        }
    };
    Ok(ReadAlerts { all: alerts, reach })
}

/// The kind of an item named in a request: `lot`, `serial` or `order`.
pub fn item_kind(kind: &str, field: &str) -> Result<ItemKind, AppError> {
    match kind {
        "lot" => Ok(ItemKind::Lot),
        "serial" => Ok(ItemKind::Serial),
        "order" => Ok(ItemKind::Order),
        other => Err(AppError::Invalid(format!(
            "`{field}`: `{other}` is not lot, serial or order"
        ))),
    }
}

/// One page (`limit` and `offset`) of the holds `who` reads, newest first (after catching
/// enforcement up).
pub async fn holds(app: &App, who: &Principal, filter: HoldFilter) -> Result<Page<Hold>, AppError> {
    let (limit, offset) = (filter.limit, filter.offset);
    Ok(page_of(all_holds(app, who, filter).await?, limit, offset))
}

/// Every hold `who` reads that matches `filter` (its `limit` and `offset` are ignored),
/// newest first, after catching enforcement up.
pub async fn all_holds(
    app: &App,
    who: &Principal,
    filter: HoldFilter,
) -> Result<Vec<Hold>, AppError> {
    catch_up(app).await;
    let reach = Reach::of(app, who).await?;
    all_filtered(
        |offset, limit| {
            let filter = HoldFilter {
                offset,
                limit,
                ..filter.clone()
            };
            async move { Ok(app.store.holds(filter).await?) }
        },
        |hold| reach.reads_item_key(&format!("{}:{}", hold.item_kind, hold.item_id)),
    )
    .await
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

/// Puts an item on hold as `who`: the item must exist in the plant state and lie inside
/// `who`'s scope.
pub async fn place_hold(
    app: &App,
    who: &Principal,
    request: HoldRequest,
) -> Result<Hold, AppError> {
    let actor = store::actor_of(who);
    let kind = item_kind(&request.item_kind, "item_kind")?;
    if request.item_id.trim().is_empty() {
        return Err(AppError::Invalid("`item_id` must not be empty".into()));
    }
    if request.reason.trim().is_empty() {
        return Err(AppError::Invalid("`reason` must not be empty".into()));
    }
    Reach::of(app, who)
        .await?
        .check_acts_on_item(kind, request.item_id.trim())?;
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
        return Err(AppError::AlreadyOnHold(format!(
            "{} `{}` is already on hold ({}: {})",
            hold.item_kind, hold.item_id, hold.id, hold.reason
        )));
    }
    Ok(hold)
}

/// Releases a hold as `who`, when its item lies inside `who`'s scope.
pub async fn release_hold(
    app: &App,
    who: &Principal,
    id: &str,
    request: ReleaseRequest,
) -> Result<Hold, AppError> {
    release_hold_if(app, who, id, request, None).await
}

/// One hold, if `who` reads its item, with its entity tag (a digest of the stored record: a
/// hold changes once, when it is released).
pub async fn hold(app: &App, who: &Principal, id: &str) -> Result<(Hold, String), AppError> {
    let reach = Reach::of(app, who).await?;
    let hold = app
        .store
        .hold(id)
        .await?
        .filter(|h| reach.reads_item_key(&format!("{}:{}", h.item_kind, h.item_id)))
        .ok_or_else(|| AppError::NotFound(format!("hold `{id}` does not exist")))?;
    let tag = conditional::digest_tag(&hold);
    Ok((hold, tag))
}

/// [`release_hold`], refused without writing when `expected` names a version of the hold no
/// longer current (it was released meanwhile).
pub async fn release_hold_if(
    app: &App,
    who: &Principal,
    id: &str,
    request: ReleaseRequest,
    expected: Option<&Expected>,
) -> Result<Hold, AppError> {
    let actor = store::actor_of(who);
    if request.reason.trim().is_empty() {
        return Err(AppError::Invalid("`reason` must not be empty".into()));
    }
    let (subject, what) = (format!("hold:{id}"), format!("hold `{id}`"));
    // A hold changes only by its release, so the version read here is still current in the
    // release's transaction unless that finds the hold released (answered below).
    if expected.is_some()
        && let Some(current) = app.store.hold(id).await?
    {
        let tag = conditional::digest_tag(&current);
        conditional::check(app, expected, &tag, &subject, &what).await?;
    }
    let reach = Reach::of(app, who).await?;
    let permit = {
        let reach = reach.clone();
        move |hold: &Hold| hold_in_reach(&reach, hold).is_ok()
    };
    match app
        .store
        .release_hold_if(id, &actor, &request.reason, permit)
        .await?
    {
        HoldRelease::Released(hold) => Ok(hold),
        HoldRelease::Refused(hold) => Err(hold_in_reach(&reach, &hold)
            .err()
            .unwrap_or_else(|| AppError::Internal("a hold was refused, then allowed".into()))),
        HoldRelease::NotFound => Err(AppError::NotFound(format!("hold `{id}` does not exist"))),
        HoldRelease::AlreadyReleased(hold) if expected.is_some_and(|e| *e != Expected::Any) => {
            Err(conditional::stale(app, &conditional::digest_tag(&hold), &subject, &what).await)
        }
        HoldRelease::AlreadyReleased(hold) => Err(AppError::HoldReleased(
            format!(
                "hold `{id}` was already released by {} ",
                hold.released_by.unwrap_or_default()
            )
            .trim_end()
            .to_owned(),
        )),
    }
}

/// Whether `reach` may act on the item of `hold`. A hold names its item as it was when
/// placed; one the plant state no longer knows can only be released with a site-wide scope.
fn hold_in_reach(reach: &Reach, hold: &Hold) -> Result<(), AppError> {
    let what = format!(
        "hold `{}` on {} `{}`",
        hold.id, hold.item_kind, hold.item_id
    );
    let areas = crate::scope::parse_key(&format!("{}:{}", hold.item_kind, hold.item_id))
        .and_then(|(kind, item)| reach.item_areas(kind, item))
        .unwrap_or_default();
    reach.check_acts(&what, &areas)
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
    /// The characteristic whose alert opened it, if an alert did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub characteristic: Option<String>,
    pub nonconformance: Nonconformance,
    /// While it is not closed, read one at a time: the most likely upstream causes of its
    /// characteristic's results up to its opening, each with the quality policy's corrective
    /// action (`root_cause`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suggested_causes: Vec<root_cause::SuggestedCause>,
}

pub(crate) fn nc_view(stored: StoredNc) -> Result<NcView, AppError> {
    let nonconformance = serde_json::from_value(stored.body).map_err(|e| {
        AppError::Internal(format!(
            "stored nonconformance {} does not decode: {e}",
            stored.id
        ))
    })?;
    Ok(NcView {
        id: stored.id,
        version: stored.version,
        items: stored.items,
        characteristic: stored.characteristic,
        nonconformance,
        suggested_causes: Vec::new(),
    })
}

/// The states a nonconformance can be in, as filters name them.
pub const NC_STATES: [&str; 6] = [
    "open",
    "investigating",
    "dispositioned",
    "capa",
    "verified",
    "closed",
];

/// Whether `reach` reads a nonconformance: one on no item is site-wide, else it must
/// concern an item the reader reads.
pub(crate) fn reads_nc(reach: &Reach, nc: &StoredNc) -> bool {
    reach.is_site_wide()
        || nc.items.is_empty()
        || nc.items.iter().any(|item| reach.reads_item_key(item))
}

/// One page (`limit` and `offset`) of the nonconformances `who` reads, newest first (after
/// catching enforcement up).
pub async fn nonconformances(
    app: &App,
    who: &Principal,
    filter: NcFilter,
) -> Result<Page<NcView>, AppError> {
    let (limit, offset) = (filter.limit, filter.offset);
    Ok(page_of(
        all_nonconformances(app, who, filter).await?,
        limit,
        offset,
    ))
}

/// Every nonconformance `who` reads that matches `filter` (its `limit` and `offset` are
/// ignored), newest first, after catching enforcement up.
pub async fn all_nonconformances(
    app: &App,
    who: &Principal,
    filter: NcFilter,
) -> Result<Vec<NcView>, AppError> {
    catch_up(app).await;
    let reach = Reach::of(app, who).await?;
    all_filtered(
        |offset, limit| {
            let filter = NcFilter {
                offset,
                limit,
                ..filter.clone()
            };
            async move { Ok(app.store.nonconformances(filter).await?) }
        },
        |nc| reads_nc(&reach, nc),
    )
    .await?
    .into_iter()
    .map(nc_view)
    .collect()
}

/// One nonconformance, if `who` reads it (after catching enforcement up).
pub async fn nonconformance(app: &App, who: &Principal, id: &str) -> Result<NcView, AppError> {
    catch_up(app).await;
    let reach = Reach::of(app, who).await?;
    let stored = app
        .store
        .nonconformance(id)
        .await?
        .filter(|nc| reads_nc(&reach, nc))
        .ok_or_else(|| AppError::NotFound(format!("nonconformance `{id}` does not exist")))?;
    let mut view = nc_view(stored)?;
    let nc = &view.nonconformance;
    if let (Some(characteristic), Some(opened)) = (&view.characteristic, nc.history.first())
        && nc.state.name() != "closed"
    {
        view.suggested_causes =
            root_cause::nc_suggestions(app, &reach, characteristic, Timestamp(opened.at)).await?;
    }
    Ok(view)
}

/// Refuses a transition of `nc` by an actor whose scope does not hold every item of it
/// (one on no item, on a site-wide item or on an item the state does not know needs a
/// site-wide scope).
pub(crate) fn check_acts_on_nc(reach: &Reach, nc: &StoredNc) -> Result<(), AppError> {
    if reach.is_site_wide() {
        return Ok(());
    }
    let what = format!("nonconformance `{}`", nc.id);
    let mut areas = std::collections::BTreeSet::new();
    for item in &nc.items {
        match crate::scope::parse_key(item).and_then(|(kind, id)| reach.item_areas(kind, id)) {
            Some(item_areas) if !item_areas.is_empty() => areas.extend(item_areas),
            _ => {
                let what = format!("{what} (its item `{item}`, made by no order of the plant)");
                return reach.check_acts(&what, &std::collections::BTreeSet::new());
            }
        }
    }
    reach.check_acts(&what, &areas)
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

/// Opens a nonconformance as `who`.
pub async fn open_nc(app: &App, who: &Principal, request: NcRequest) -> Result<NcView, AppError> {
    let actor = store::actor_of(who);
    if request.description.trim().is_empty() {
        return Err(AppError::Invalid("`description` must not be empty".into()));
    }
    if request.items.is_empty() {
        return Err(AppError::Invalid(
            "`items` must name at least one item".into(),
        ));
    }
    for (i, item) in request.items.iter().enumerate() {
        let Some((kind, id)) = item.split_once(':') else {
            return Err(AppError::Invalid(format!(
                "`items[{i}]`: `{item}` is not `lot:ID`, `serial:ID` or `order:ID`"
            )));
        };
        item_kind(kind, &format!("items[{i}]"))?;
        if id.trim().is_empty() {
            return Err(AppError::Invalid(format!("`items[{i}]`: the id is empty")));
        }
    }
    let reach = Reach::of(app, who).await?;
    for (i, item) in request.items.iter().enumerate() {
        reach.check_acts_on_key(item).map_err(|e| match e {
            AppError::Invalid(m) => AppError::Invalid(format!("`items[{i}]`: {m}")),
            other => other,
        })?;
    }
    let by = principal(&actor);
    let at = app.now().0;
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
    nc_view(stored)
}

/// Moves a nonconformance on as `who` (two attempts: a concurrent transition makes the first
/// one stale).
pub async fn transition_nc(
    app: &App,
    who: &Principal,
    id: &str,
    command: &NcCommand,
) -> Result<NcView, AppError> {
    transition_nc_if(app, who, id, command, None).await
}

/// [`transition_nc`], refused without writing when `expected` names a version no longer
/// current (the tag of an NC is its row version, [`conditional::version_tag`]).
pub async fn transition_nc_if(
    app: &App,
    who: &Principal,
    id: &str,
    command: &NcCommand,
    expected: Option<&Expected>,
) -> Result<NcView, AppError> {
    let (subject, what) = (format!("nc:{id}"), format!("nonconformance `{id}`"));
    let actor = store::actor_of(who);
    let by = principal(&actor);
    let reach = Reach::of(app, who).await?;
    for _ in 0..2 {
        let stored =
            app.store.nonconformance(id).await?.ok_or_else(|| {
                AppError::NotFound(format!("nonconformance `{id}` does not exist"))
            })?;
        check_acts_on_nc(&reach, &stored)?;
        let version = stored.version;
        conditional::check(app, expected, &version_tag(version), &subject, &what).await?;
        let mut nc: Nonconformance = nc_view(stored)?.nonconformance;
        let before = nc.history.len();
        let at = app.now().0.max(nc.history.last().map_or(0, |r| r.at));
        nc.apply(command, &by, at)
            .map_err(|error| AppError::Nonconformance {
                id: id.to_owned(),
                error,
            })?;
        let body = serde_json::to_value(&nc)
            .map_err(|e| AppError::Internal(format!("nonconformance does not serialise: {e}")))?;
        match app
            .store
            .update_nc(
                id,
                version,
                nc.state.name(),
                body,
                transitions(&nc, before),
                &actor,
            )
            .await?
        {
            NcUpdate::Updated(stored) => return nc_view(stored),
            NcUpdate::NotFound => {
                return Err(AppError::NotFound(format!(
                    "nonconformance `{id}` does not exist"
                )));
            }
            NcUpdate::Stale => continue,
        }
    }
    Err(AppError::ConcurrentTransition(id.to_owned()))
}
