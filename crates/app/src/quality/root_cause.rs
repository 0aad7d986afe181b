//! Root cause, exposed: which upstream process parameters and component lots, across modes,
//! best explain a characteristic's results (`quality::upstream` over the stored events), each
//! with the corrective action the quality policy suggests; the suggestions a nonconformance
//! shows; and the scoring of the ranking against faults the simulator injects.
//!
//! Scope: the reader must read every characteristic asked about; causes in areas it does not
//! read (a routing none of whose units are in its area, a lot it does not read) are left out
//! and counted, so an area-scoped engineer learns that the cause lies elsewhere without
//! reading another area's records.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;

use govern::Principal;
use model::{Catalog, Timestamp};
use quality::enforce::{CharacteristicSpec, ItemKind};
use quality::monitor::Side;
use quality::policy::QualityPolicy;
use quality::upstream::{Cause, CauseKind, RootCauseQuery, RootCauseReport, Worse, rank_upstream};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::EventFilter;

use crate::scope::Reach;
use crate::{App, AppError};

/// The event kinds the join reads: genealogy, parameters and results.
const JOIN_TYPES: [&str; 6] = [
    "order_released",
    "operation_completed",
    "material_consumed",
    "material_produced",
    "material_received",
    "quality_result_recorded",
];

/// What to explain.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RootCauseRequest {
    /// One characteristic, or several that show one defect on different products.
    pub characteristics: Vec<String>,
    /// Results recorded at or after this time.
    #[serde(default)]
    pub from: Option<Timestamp>,
    /// Results recorded before this time.
    #[serde(default)]
    pub to: Option<Timestamp>,
    /// Orders upstream of the measured one to look through (default 4, at most 8).
    #[serde(default)]
    pub depth: Option<u32>,
    /// Orders a candidate needs values on (default 8, at least 3).
    #[serde(default)]
    pub min_support: Option<usize>,
    /// Causes returned (default 10, at most 100).
    #[serde(default)]
    pub top: Option<usize>,
}

/// A ranked cause with what the policy suggests doing about it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SuggestedCause {
    /// `RCP-EA100 step 2 reactor_temperature`, `lot PL-… (RM-…)`.
    pub name: String,
    #[serde(flatten)]
    pub cause: Cause,
    /// The quality policy's corrective action for this cause.
    pub suggested_action: String,
}

/// The ranking as a reader sees it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RootCauseView {
    pub characteristics: Vec<String>,
    /// Which direction is a defect, from the characteristics' specification limits.
    pub worse: Worse,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Results in the window, and of those tied to an order.
    pub results: usize,
    pub linked_results: usize,
    /// Measured orders (the units of the analysis).
    pub orders: usize,
    /// Candidates found upstream.
    pub candidates: usize,
    /// Ranked causes, most significant first (at most `top`).
    pub causes: Vec<SuggestedCause>,
    /// Ranked causes left out because they lie outside the reader's areas.
    pub outside_scope: usize,
}

/// Ranks the upstream causes of the requested characteristics' results.
pub async fn root_cause(
    app: &App,
    who: &Principal,
    request: RootCauseRequest,
) -> Result<RootCauseView, AppError> {
    let reach = Reach::of(app, who).await?;
    let query = query_for(reach.catalog(), &request, |id| {
        reach.reads_characteristic(id)
    })?;
    let top = request.top.unwrap_or(10);
    if !(1..=100).contains(&top) {
        return Err(AppError::BadRequest(format!(
            "top must be between 1 and 100, got {top}"
        )));
    }
    let events = join_events(app, query.to).await?;
    let report = rank_upstream(&events, &query).map_err(|e| AppError::Invalid(e.to_string()))?;
    Ok(view(
        &reach,
        &QualityPolicy::enterprise_default(),
        report,
        query.worse,
        top,
    ))
}

/// The engine's query for a request, checking the characteristics exist and are read.
fn query_for(
    catalog: &Catalog,
    request: &RootCauseRequest,
    reads: impl Fn(&str) -> bool,
) -> Result<RootCauseQuery, AppError> {
    if request.characteristics.is_empty() {
        return Err(AppError::BadRequest(
            "name at least one characteristic (`characteristics`)".into(),
        ));
    }
    let specs = super::characteristic_specs(catalog.plant());
    let mut worse = BTreeSet::new();
    for id in &request.characteristics {
        let spec = specs.iter().find(|s| &s.id == id && reads(id)).ok_or_else(|| {
            AppError::NotFound(format!(
                "characteristic `{id}` is in no inspection plan of the plant (GET /v1/plant lists them)"
            ))
        })?;
        worse.insert(worse_of(spec));
    }
    let worse = match worse.into_iter().collect::<Vec<_>>().as_slice() {
        [one] => *one,
        _ => Worse::Either,
    };
    let depth = request.depth.unwrap_or(4);
    if depth > 8 {
        return Err(AppError::BadRequest(format!(
            "depth must be at most 8, got {depth}"
        )));
    }
    Ok(RootCauseQuery {
        characteristics: request.characteristics.clone(),
        worse,
        from: request.from,
        to: request.to,
        depth,
        min_support: request.min_support.unwrap_or(8),
    })
}

/// Which way a characteristic's results are worse: up for an upper limit only or a defect
/// count, down for a lower limit only, either for two limits.
fn worse_of(spec: &CharacteristicSpec) -> Worse {
    if is_count(spec) {
        return Worse::Higher;
    }
    match spec.good_side() {
        Some(Side::Below) => Worse::Higher,
        Some(Side::Above) => Worse::Lower,
        None => Worse::Either,
    }
}

fn is_count(spec: &CharacteristicSpec) -> bool {
    matches!(spec.chart.as_str(), "p" | "np" | "c" | "u")
}

/// Every event the join needs, up to `to` (genealogy before the window counts).
async fn join_events(app: &App, to: Option<Timestamp>) -> Result<Vec<model::Event>, AppError> {
    let mut events = Vec::new();
    let mut after_seq = None;
    loop {
        let page = app
            .store
            .events(EventFilter {
                types: JOIN_TYPES.iter().map(|t| (*t).to_owned()).collect(),
                to,
                after_seq,
                limit: store::MAX_PAGE,
                ..EventFilter::default()
            })
            .await?;
        let Some(last) = page.last() else { break };
        after_seq = Some(last.seq);
        let full = page.len() as u32 >= store::MAX_PAGE;
        events.extend(page.into_iter().map(|s| s.event));
        if !full {
            break;
        }
    }
    Ok(events)
}

fn view(
    reach: &Reach,
    policy: &QualityPolicy,
    report: RootCauseReport,
    worse: Worse,
    top: usize,
) -> RootCauseView {
    let (inside, outside): (Vec<Cause>, Vec<Cause>) = report
        .causes
        .into_iter()
        .partition(|c| reads_cause(reach, &c.cause));
    RootCauseView {
        characteristics: report.characteristics,
        worse,
        from: report.from,
        to: report.to,
        results: report.results,
        linked_results: report.linked_results,
        orders: report.orders,
        candidates: report.candidates,
        outside_scope: outside.len(),
        causes: inside
            .into_iter()
            .take(top)
            .map(|cause| suggested(policy, cause))
            .collect(),
    }
}

fn suggested(policy: &QualityPolicy, cause: Cause) -> SuggestedCause {
    let effect = cause.association.effect.unwrap_or(0.0);
    SuggestedCause {
        name: cause.cause.name(),
        suggested_action: policy.corrective_actions.suggest(&cause.cause, effect),
        cause,
    }
}

fn reads_cause(reach: &Reach, cause: &CauseKind) -> bool {
    match cause {
        CauseKind::Parameter { routing, .. } => {
            reach.is_site_wide() || reach.reads(&reach.catalog().routing_areas(routing))
        }
        CauseKind::ComponentLot { lot, .. } => reach.reads_item(ItemKind::Lot, lot.as_str()),
    }
}

/// The suggested causes of a nonconformance opened by an alert: the top three upstream
/// causes of its characteristic up to the NC's opening, empty when it has no characteristic
/// or nothing links.
pub async fn nc_suggestions(
    app: &App,
    reach: &Reach,
    characteristic: &str,
    opened: Timestamp,
) -> Result<Vec<SuggestedCause>, AppError> {
    let request = RootCauseRequest {
        characteristics: vec![characteristic.to_owned()],
        to: Some(opened.plus_minutes(1.0)),
        ..RootCauseRequest::default()
    };
    let Ok(query) = query_for(reach.catalog(), &request, |id| {
        reach.reads_characteristic(id)
    }) else {
        return Ok(Vec::new());
    };
    let events = join_events(app, query.to).await?;
    Ok(match rank_upstream(&events, &query) {
        Ok(report) => {
            view(
                reach,
                &QualityPolicy::enterprise_default(),
                report,
                query.worse,
                3,
            )
            .causes
        }
        Err(_) => Vec::new(),
    })
}

// ----- scoring against the simulator -------------------------------------------------------

/// How one injected fault was ranked.
#[derive(Debug, Clone, Serialize)]
pub struct FaultScore {
    pub seed: u64,
    /// The injected fault (a parameter creep or a component-lot defect).
    pub fault: sim::DriftSpec,
    /// The characteristics asked about: those downstream of the fault that respond to a
    /// lot's defect factor in the simulator (one-sided upper limits, defect counts).
    pub characteristics: Vec<String>,
    /// Rank of the first cause naming the fault (1-based), if it was ranked at all.
    pub rank: Option<usize>,
    /// Whether the top cause names the fault or has the same evidence as one that does (lots
    /// of two components always consumed together).
    pub first_or_same_evidence: bool,
    /// The top cause's name.
    pub top: Option<String>,
    /// Candidates ranked.
    pub ranked: usize,
}

/// The hit rates over a range of seeds.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub days: f64,
    pub faults: Vec<FaultScore>,
    /// Share of faults ranked first, and within the top three.
    pub first: f64,
    pub top3: f64,
    /// Share of faults the top cause names, counting candidates with the same evidence.
    pub first_or_same_evidence: f64,
}

/// For each seed: draws a fault (`sim::draw_fault`), simulates `days` days of the reference
/// plant with it, asks for the root cause of the characteristics it reaches over the whole
/// run, and records where the injected cause ranks. Pure and deterministic.
pub fn evaluate(seeds: RangeInclusive<u64>, days: f64) -> Result<Evaluation, AppError> {
    if !(days.is_finite() && (7.0..=120.0).contains(&days)) {
        return Err(AppError::BadRequest(format!(
            "days must be between 7 and 120, got {days}"
        )));
    }
    if seeds.is_empty() || seeds.end() - seeds.start() >= 1000 {
        return Err(AppError::BadRequest(
            "seeds must be a range A..B of at most 1000 seeds with A <= B".into(),
        ));
    }
    let catalog = sim::reference_catalog();
    let mut faults = Vec::new();
    for seed in seeds {
        let Some(fault) = sim::draw_fault(&catalog, seed, days) else {
            return Err(AppError::Invalid(
                "the reference plant has no fault an inspection would see".into(),
            ));
        };
        let options = sim::SimOptions {
            seed,
            days,
            drifts: vec![fault.clone()],
            ..Default::default()
        };
        let out = sim::simulate(&catalog, &options, None, |_| {})
            .map_err(|e| AppError::Internal(format!("seed {seed}: {e}")))?;
        let truth = &out.truth.drifts[0];
        let characteristics: Vec<String> = truth
            .downstream_characteristics
            .iter()
            .filter(|c| sim::responds_to_lot_quality(&catalog, c))
            .map(|c| c.to_string())
            .collect();
        let query = RootCauseQuery {
            characteristics: characteristics.clone(),
            worse: Worse::Higher,
            ..RootCauseQuery::new("")
        };
        let causes = rank_upstream(&out.events, &query)
            .map_err(|e| AppError::Internal(format!("seed {seed}: {e}")))?
            .causes;
        let names_fault = |c: &Cause| match (&fault.target, &c.cause) {
            (
                sim::DriftTarget::Parameter {
                    routing,
                    step,
                    name,
                },
                CauseKind::Parameter {
                    routing: r,
                    step: s,
                    parameter,
                },
            ) => routing.as_ref().is_none_or(|x| x == r) && step == s && name == parameter,
            (sim::DriftTarget::ComponentLot { .. }, CauseKind::ComponentLot { lot, .. }) => {
                truth.affected_lots.contains(lot)
            }
            _ => false,
        };
        let rank = causes.iter().position(names_fault).map(|i| i + 1);
        // The top cause, or one the data cannot tell from it, names the fault.
        let first_or_same_evidence = causes.first().is_some_and(|top| {
            names_fault(top)
                || causes
                    .iter()
                    .any(|c| names_fault(c) && top.same_evidence.contains(&c.cause.name()))
        });
        faults.push(FaultScore {
            seed,
            rank,
            first_or_same_evidence,
            top: causes.first().map(|c| c.cause.name()),
            ranked: causes.len(),
            characteristics,
            fault,
        });
    }
    let share = |k: usize| {
        faults
            .iter()
            .filter(|f| f.rank.is_some_and(|r| r <= k))
            .count() as f64
            / faults.len() as f64
    };
    let tied = faults.iter().filter(|f| f.first_or_same_evidence).count() as f64;
    Ok(Evaluation {
        days,
        first: share(1),
        top3: share(3),
        first_or_same_evidence: tied / faults.len() as f64,
        faults,
    })
}
