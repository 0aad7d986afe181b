//! Event ingest: a batch of plant events appended atomically (idempotent by id), within the
//! caller's scope, then quality enforcement for any results among them.

use govern::Principal;
use model::Event;
use store::AppendOutcome;

use crate::{App, AppError};

/// Appends `events` as `who` and runs quality enforcement when they hold results.
pub async fn ingest(
    app: &App,
    who: &Principal,
    events: &[Event],
) -> Result<AppendOutcome, AppError> {
    let snapshot = app.store.snapshot().await;
    let catalog = snapshot.catalog.ok_or(AppError::NoPlant)?;
    check_event_scope(who, &catalog, &snapshot.state, events)?;
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
    }
    Ok(())
}
