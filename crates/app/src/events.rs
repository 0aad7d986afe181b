//! Event ingest: a batch of plant events appended atomically (idempotent by id), within the
//! caller's scope, then quality enforcement for any results among them. Reads of the log and
//! of the audit trail, within the reader's scope ([`crate::scope`]).

use govern::Principal;
use model::{AreaId, Event};
use store::{AppendOutcome, AuditRecord, EventFilter, StoredEvent};

use crate::scope::Reach;

use crate::{App, AppError};

/// Appends `events` as `who` and runs quality enforcement when they hold results.
pub async fn ingest(
    app: &App,
    who: &Principal,
    events: &[Event],
) -> Result<AppendOutcome, AppError> {
    let store::Snapshot { catalog, state } = app.store.snapshot().await;
    let catalog = catalog.ok_or(AppError::NoPlant)?;
    check_event_scope(who, &catalog, &state, events)?;
    // Let go of the snapshot before the append: a state a reader still holds when the batch
    // commits is copied whole instead of folded in place (`publish_batch`), and a request
    // holding its own through the wait for the write lock made every batch pay that copy.
    drop(state);
    let outcome = app.store.append(events, &store::actor_of(who)).await?;
    crate::quality::after_ingest(app, events).await;
    Ok(outcome)
}

/// An area-scoped principal may only write events that act inside its area: an event on a
/// unit of another area, an order whose routing runs outside it, or a site-wide event (a
/// purchased receipt, a shipment) is refused, naming the event and the areas. Site and
/// all-site scopes reach every area of their site (checked by the edge's permission layer).
pub fn check_event_scope(
    who: &Principal,
    catalog: &model::Catalog,
    state: &model::PlantState,
    events: &[Event],
) -> Result<(), AppError> {
    let govern::Scope::Area(own) = &who.scope else {
        return Ok(());
    };
    for (index, event) in events.iter().enumerate() {
        let areas = catalog.event_areas(event, state);
        let outside: Vec<String> = areas
            .iter()
            .filter(|a| a.as_str() != own)
            .map(ToString::to_string)
            .collect();
        if areas.is_empty() || !outside.is_empty() {
            let reach = if areas.is_empty() {
                "is site-wide".to_owned()
            } else {
                format!("acts in area(s) {}", outside.join(", "))
            };
            return Err(AppError::Forbidden(format!(
                "event {index} (id `{}`, {}) {reach}, outside the caller's scope `area:{own}`; nothing was stored",
                event.id,
                event.kind.type_name()
            )));
        }
        // A result joins its characteristic's control chart, whose alerts hold material and
        // open nonconformances in the areas that make it: only a principal of one of those
        // areas records it, whatever order, unit or lot the result names.
        if let model::EventKind::QualityResultRecorded { characteristic, .. } = &event.kind
            && let Some(chart) =
                crate::scope::characteristic_areas(catalog, characteristic.as_str())
            && !chart.iter().any(|a| a.as_str() == own)
        {
            let inspected: Vec<&str> = chart.iter().map(AreaId::as_str).collect();
            return Err(AppError::Forbidden(format!(
                "event {index} (id `{}`, {}) records a result of characteristic `{characteristic}`, inspected in area(s) {}, outside the caller's scope `area:{own}`; nothing was stored",
                event.id,
                event.kind.type_name(),
                inspected.join(", ")
            )));
        }
    }
    Ok(())
}

/// Stored events `who` reads, in log order: for an area-scoped reader the log is read on
/// past what it does not read until `filter.limit` events are found or the log ends.
pub async fn list(
    app: &App,
    who: &Principal,
    filter: EventFilter,
) -> Result<Vec<StoredEvent>, AppError> {
    let reach = Reach::of(app, who).await?;
    if reach.is_site_wide() {
        return Ok(app.store.events(filter).await?);
    }
    let wanted = filter.limit as usize;
    let mut found = Vec::new();
    let mut after_seq = filter.after_seq;
    loop {
        let page = app
            .store
            .events(EventFilter {
                after_seq,
                limit: store::MAX_PAGE,
                ..filter.clone()
            })
            .await?;
        let exhausted = page.len() < store::MAX_PAGE as usize;
        after_seq = page.last().map(|e| e.seq).or(after_seq);
        found.extend(page.into_iter().filter(|e| reach.reads_event(&e.event)));
        if found.len() >= wanted || exhausted {
            found.truncate(wanted);
            return Ok(found);
        }
    }
}

/// The audit records `filter` selects, in order. Its records name no area
/// (a subject such as `events:101-200` spans the plant) and its hash chain can only be
/// verified whole, so reading it needs a site-wide scope.
pub async fn audit(
    app: &App,
    who: &Principal,
    filter: &store::AuditFilter,
) -> Result<Vec<AuditRecord>, AppError> {
    site_wide(who)?;
    Ok(app.store.audit_search(filter).await?)
}

/// The check of the audit trail's hash chain ([`store::Store::verify_audit`]), under the
/// same rule as reading it.
pub async fn verify_audit(app: &App, who: &Principal) -> Result<store::AuditReport, AppError> {
    site_wide(who)?;
    Ok(app.store.verify_audit().await?)
}

fn site_wide(who: &Principal) -> Result<(), AppError> {
    if let govern::Scope::Area(area) = &who.scope {
        return Err(AppError::Forbidden(format!(
            "the audit trail spans every area and is verified whole; reading it needs a site-wide scope, not `area:{area}`"
        )));
    }
    Ok(())
}
