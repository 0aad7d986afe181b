//! Genealogy and traceability use-cases: importing documents, backward and forward trace,
//! recall, reconciliation, and EPCIS 2.0 capture and query.
//!
//! Reads are scoped ([`crate::scope`]): a trace or recall shows an area-scoped reader what
//! lies outside its area as redacted nodes with a count, a reconciliation leaves out and
//! counts its findings there ([`redact`]); the EPCIS events query answers with imported
//! documents' events as captured, which link material across areas: like imports, it needs a
//! site-wide scope.

pub mod redact;
mod stored;

use govern::Principal;
use model::Timestamp;
use serde::{Deserialize, Serialize};
use trace::epcis::EpcisEvent;
use trace::epcis::query::EventQuery;
use trace::import::Imported;
use trace::recall::{RecallError, RecallRequest};
use trace::{Direction, TraceReport, TraceRequest};

pub use self::redact::{ScopedRecall, ScopedReconcile, ScopedTrace};
pub use self::stored::{
    ImportSummary, IndexCache, ReadDocument, expectations, import_read, import_text, load_index,
    read_document, read_document_held, ready, store_document, stored_epcis,
};
use crate::{App, AppError};

/// Genealogy documents link lots, serials and containers across areas (a batch made in one
/// area is consumed and packed in others) and name locations by GS1 ids the plant model does
/// not map to areas, so what they touch cannot be bounded by an area: importing them needs a
/// site-wide scope.
fn site_wide(who: &Principal) -> Result<(), AppError> {
    site_wide_for(who, "importing them")
}

/// Refuses an area-scoped principal what only a site-wide scope may do (`doing`).
fn site_wide_for(who: &Principal, doing: &str) -> Result<(), AppError> {
    match &who.scope {
        govern::Scope::Area(area) => Err(AppError::Forbidden(format!(
            "genealogy documents link material across areas; {doing} needs a site-wide scope, not `area:{area}`"
        ))),
        _ => Ok(()),
    }
}

/// How strictly EPCIS documents are taken at the door (capture and import).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EpcisValidation {
    /// Refused whole when they break a rule of a conformant capture interface
    /// ([`trace::epcis::conformance`]), with the rule named.
    #[default]
    Strict,
    /// Taken whenever the reader can read them (documents from systems that predate the
    /// standard's rules).
    Lenient,
}

impl EpcisValidation {
    /// Whether documents are held to the conformance rules.
    pub fn is_strict(self) -> bool {
        self == EpcisValidation::Strict
    }
}

/// Imports one document as `who`, all or nothing; an EPCIS document is held to the
/// service's [`EpcisValidation`].
pub async fn import(
    app: &App,
    who: &Principal,
    name: &str,
    text: &str,
) -> Result<ImportSummary, AppError> {
    site_wide(who)?;
    let imported = trace::import::read_held(text, app.now(), app.epcis_validation.is_strict())?;
    import_read(&app.store, name, text, imported, &store::actor_of(who)).await
}

/// Captures an EPCIS 2.0 document as `who`, all or nothing, held to the service's
/// [`EpcisValidation`]; anything else is refused.
pub async fn capture(app: &App, who: &Principal, text: &str) -> Result<ImportSummary, AppError> {
    site_wide(who)?;
    let imported = trace::import::read_held(text, app.now(), app.epcis_validation.is_strict())?;
    if !matches!(imported, Imported::Epcis(_)) {
        return Err(AppError::Invalid(
            "the capture endpoint takes an EPCIS 2.0 document (JSON-LD or XML)".into(),
        ));
    }
    import_read(&app.store, "capture", text, imported, &store::actor_of(who)).await
}

/// Everything an item was made of (`Backward`) or was made from it (`Forward`), with what
/// lies outside `who`'s scope redacted; a start outside it is not found.
pub async fn trace_item(
    app: &App,
    who: &Principal,
    id: &str,
    direction: Direction,
    request: &TraceRequest,
) -> Result<ScopedTrace, AppError> {
    let reach = crate::scope::Reach::of(app, who).await?;
    let (index, retractions) = app.trace_index.get_with_retractions(&app.store).await?;
    let report: TraceReport = trace::trace(&index, id, direction, request)
        .map_err(|e| not_found(&reach, &retractions, id, e.to_string()))?;
    let start_hidden = report
        .nodes
        .first()
        .is_some_and(|start| !redact::reads_node(&reach, start.kind, &start.id));
    if start_hidden {
        return Err(AppError::NotFound(format!(
            "`{id}` is not in the genealogy"
        )));
    }
    let mut scoped = redact::trace_report(&reach, report);
    scoped.retracted = redact::retractions_for(
        &reach,
        &retractions,
        scoped.report.nodes.iter().map(|n| &*n.id),
    );
    Ok(scoped)
}

/// Not found: `message`, and where error declarations retracted every event that named
/// `id` (and the reader may see it), which ones, so that a link that vanished says why.
fn not_found(
    reach: &crate::scope::Reach,
    retractions: &[trace::epcis::Retraction],
    id: &str,
    message: String,
) -> AppError {
    let (kind, canonical) = trace::Id::parse(id).map_or_else(
        |_| (trace::IdKind::Other, id.to_owned()),
        |parsed| (parsed.kind, parsed.id),
    );
    // Only about an item the reader may see: of another area's item, not even that it was
    // retracted.
    if !redact::reads_node(reach, kind, &canonical) {
        return AppError::NotFound(message);
    }
    let retracted = redact::retractions_for(reach, retractions, [canonical.as_str()]);
    if retracted.is_empty() {
        return AppError::NotFound(message);
    }
    let which: Vec<String> = retracted.iter().map(|r| r.describe()).collect();
    AppError::NotFound(format!(
        "{message}: every event that named it was retracted by an error declaration: {}",
        which.join("; ")
    ))
}

/// A recall simulation from a suspect item, or from a unit and a time window, with the
/// affected items outside `who`'s scope left out and counted; a seed or unit outside it is
/// not found.
pub async fn recall(
    app: &App,
    who: &Principal,
    request: &RecallRequest,
) -> Result<ScopedRecall, AppError> {
    let reach = crate::scope::Reach::of(app, who).await?;
    if let Some(unit) = &request.unit {
        let unit_id = trace::Id::parse_as(trace::IdKind::Unit, unit)
            .map_or_else(|_| unit.clone(), |id| id.id);
        if !redact::reads_node(&reach, trace::IdKind::Unit, &unit_id) {
            return Err(AppError::NotFound(format!(
                "unit `{unit}` is not in the genealogy"
            )));
        }
    }
    let (index, retractions) = app.trace_index.get_with_retractions(&app.store).await?;
    let report = trace::recall(&index, request).map_err(|e| match e {
        RecallError::NotFound(e) => not_found(
            &reach,
            &retractions,
            request.id.as_deref().unwrap_or_default(),
            e.to_string(),
        ),
        other => AppError::BadRequest(other.to_string()),
    })?;
    let hidden_seed = report.seeds.iter().find(|seed| {
        trace::Id::parse(seed).is_ok_and(|id| !redact::reads_node(&reach, id.kind, &id.id))
    });
    if let Some(seed) = hidden_seed {
        return Err(AppError::NotFound(format!(
            "`{}` is not in the genealogy",
            request.id.as_deref().unwrap_or(seed)
        )));
    }
    let mut scoped = redact::recall_report(&reach, report);
    let report = &scoped.report;
    let shown: Vec<&str> = report
        .seeds
        .iter()
        .map(String::as_str)
        .chain(
            [
                &report.orders,
                &report.lots,
                &report.serials,
                &report.pallets,
                &report.other,
            ]
            .into_iter()
            .flatten()
            .map(|item| item.id.as_str()),
        )
        .collect();
    scoped.retracted = redact::retractions_for(&reach, &retractions, shown);
    Ok(scoped)
}

/// Reconciliation: consumption without a producer, mass balance per batch, orphan serials,
/// with the findings outside `who`'s scope left out and counted.
pub async fn reconcile(app: &App, who: &Principal) -> Result<ScopedReconcile, AppError> {
    let reach = crate::scope::Reach::of(app, who).await?;
    let index = app.trace_index.get(&app.store).await?;
    let expectations = expectations(&app.store).await;
    Ok(redact::reconcile_report(
        &reach,
        trace::reconcile(&index, &expectations),
    ))
}

/// One page of an EPCIS events query.
#[derive(Debug)]
pub struct EpcisPage {
    /// The events of the page, each with its record time.
    pub events: Vec<EpcisEvent>,
    /// The offset of the next page, when there is one.
    pub next: Option<usize>,
    /// When the page was read.
    pub at: Timestamp,
}

/// The stored EPCIS events `query` matches, ordered as it asks, from `offset` on (a
/// site-wide scope only).
pub async fn epcis_events(
    app: &App,
    who: &Principal,
    query: &EventQuery,
    offset: usize,
) -> Result<EpcisPage, AppError> {
    site_wide_for(who, "querying their events")?;
    let per_page = query.per_page.unwrap_or(100).min(10_000);
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
    let page: Vec<EpcisEvent> = events
        .into_iter()
        .skip(offset)
        .take(per_page)
        .map(|(_, recorded, mut e)| {
            e.record_time.get_or_insert(recorded);
            e
        })
        .collect();
    let next = (offset + page.len() < total).then(|| offset + page.len());
    Ok(EpcisPage {
        events: page,
        next,
        at: app.now(),
    })
}
