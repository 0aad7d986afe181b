//! ISA-95 documents through the use-cases: a B2MML schedule's requests released as orders,
//! the plan in force written as a B2MML `OperationsSchedule`, a BatchML master recipe added
//! to the plant as a process routing. The documents themselves are `isa95`'s; this module
//! decides what is stored and as whom.
//!
//! - [`import_schedule`]: the requests become `order_released` events stored through
//!   [`crate::events::ingest`] (the caller's scope, audited, idempotent: the events' ids and
//!   times come from the document, so the same document again stores nothing); by default a
//!   fault in any request refuses the document and nothing is stored.
//! - [`export_schedule`]: the plan in force as the caller may read it ([`crate::schedule::
//!   in_force::view`]), one request per order it places, each step of the order's routing a
//!   segment (planned ones with their unit and times; for a site-wide reader the others too,
//!   with the units that can run them).
//! - [`recipe_routing`] reads a recipe against the loaded plant; [`import_recipe`] stores the
//!   plant with it, which the store allows only while the event log is empty (a plant
//!   version resets the state).

use std::collections::BTreeMap;

use govern::Principal;
use isa95::{
    OperationsScheduleOut, OrderOptions, PlannedOrder, PlannedSegment, RecipeImport, RecipeOptions,
    RequestError, Version,
};
use model::{Catalog, OperationRef, OrderId, Plant, Routing, UnitId};
use schemars::JsonSchema;
use serde::Serialize;

use crate::{App, AppError};

/// What a schedule import did.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ScheduleImported {
    pub version: Version,
    /// The document's root element.
    pub noun: String,
    /// The orders the document releases, in document order.
    pub orders: Vec<OrderId>,
    /// Release events newly stored, and those stored before (the same document again).
    pub inserted: usize,
    pub duplicates: usize,
    /// Requests left out, with why (per-request mode only).
    pub refused: Vec<RequestError>,
}

fn invalid(error: isa95::Isa95Error) -> AppError {
    AppError::Invalid(error.to_string())
}

/// Releases the orders of the B2MML schedule `text` as `who`.
pub async fn import_schedule(
    app: &App,
    who: &Principal,
    text: &str,
    options: &OrderOptions,
) -> Result<ScheduleImported, AppError> {
    let catalog = app.catalog().await?;
    let document = isa95::read_schedule(text).map_err(invalid)?;
    let import = isa95::orders_from_schedule(&document, &catalog, options).map_err(invalid)?;
    let events = isa95::release_events(&import);
    let (inserted, duplicates) = if events.is_empty() {
        (0, 0)
    } else {
        let outcome = crate::events::ingest(app, who, &events).await?;
        (outcome.inserted, outcome.duplicates)
    };
    Ok(ScheduleImported {
        version: document.version,
        noun: document.noun,
        orders: import.orders.iter().map(|o| o.id.clone()).collect(),
        inserted,
        duplicates,
        refused: import.refused,
    })
}

/// The plan in force as a B2MML V0700 `SyncOperationsSchedule`, as `who` may read it,
/// published now.
pub async fn export_schedule(app: &App, who: &Principal) -> Result<String, AppError> {
    let answer = crate::schedule::in_force::view(app, who)
        .await?
        .ok_or_else(|| AppError::NotFound("no plan is in force".into()))?;
    let catalog = app.catalog().await?;
    let state = app.store.snapshot().await.state;
    let mut planned: BTreeMap<OperationRef, (UnitId, model::Timestamp, model::Timestamp)> =
        BTreeMap::new();
    for assignment in &answer.assignments {
        let op: OperationRef = assignment
            .op
            .parse()
            .map_err(|e| AppError::Corrupt(format!("the plan in force names an operation: {e}")))?;
        planned.insert(
            op,
            (
                UnitId::from(assignment.unit.as_str()),
                assignment.start_at,
                assignment.end_at,
            ),
        );
    }
    let site_wide = answer.area.is_none();
    let mut requests = Vec::new();
    // The keys are in (order, step) order, so each order's operations are together.
    let mut orders: Vec<&OrderId> = planned.keys().map(|op| &op.order).collect();
    orders.dedup();
    for id in orders {
        let order = state
            .orders
            .get(id)
            .map(|s| s.order.clone())
            .ok_or_else(|| {
                AppError::Corrupt(format!(
                    "the plan in force places order `{id}`, which the plant does not know"
                ))
            })?;
        requests.push(planned_order(&catalog, order, &planned, site_wide)?);
    }
    if requests.is_empty() {
        return Err(AppError::NotFound(
            "the plan in force places no operation the caller may read".into(),
        ));
    }
    Ok(isa95::write_operations_schedule(&OperationsScheduleOut {
        id: format!("plan-{}", answer.header.version),
        published: app.now(),
        requests,
    }))
}

/// One order's request: its routing's steps, planned or (for a site-wide reader) not.
fn planned_order(
    catalog: &Catalog,
    order: model::ProductionOrder,
    planned: &BTreeMap<OperationRef, (UnitId, model::Timestamp, model::Timestamp)>,
    site_wide: bool,
) -> Result<PlannedOrder, AppError> {
    let routing = catalog.routing(&order.routing).ok_or_else(|| {
        AppError::Corrupt(format!(
            "order `{}` names routing `{}`, which the plant does not have",
            order.id, order.routing
        ))
    })?;
    let uom = catalog
        .material(&order.product)
        .map(|m| m.uom.clone())
        .unwrap_or_default();
    let mut segments = Vec::new();
    for (k, step) in routing.steps.iter().enumerate() {
        let op = OperationRef::new(order.id.clone(), k as u32);
        let segment = match planned.get(&op) {
            Some((unit, start, end)) => PlannedSegment {
                op,
                step: step.name.clone(),
                units: vec![unit.clone()],
                times: Some((*start, *end)),
            },
            None if site_wide => PlannedSegment {
                op,
                step: step.name.clone(),
                units: step.alternatives.iter().map(|a| a.unit.clone()).collect(),
                times: None,
            },
            None => continue,
        };
        segments.push(segment);
    }
    Ok(PlannedOrder {
        order,
        uom,
        segments,
    })
}

/// The routing the BatchML master recipe `text` stands for in the loaded plant.
pub async fn recipe_routing(
    app: &App,
    text: &str,
    options: &RecipeOptions,
) -> Result<RecipeImport, AppError> {
    let catalog = app.catalog().await?;
    isa95::routing_from_master_recipe(text, &catalog, options).map_err(invalid)
}

/// `plant` with `routing` added, validated; the same routing again leaves it as it is, and a
/// different routing of the same id is refused.
pub fn plant_with_routing(mut plant: Plant, routing: Routing) -> Result<Catalog, AppError> {
    match plant.routings.iter().find(|r| r.id == routing.id) {
        Some(existing) if *existing == routing => {}
        Some(_) => {
            return Err(AppError::Invalid(format!(
                "the plant already has a routing `{}` that differs; choose another routing id",
                routing.id
            )));
        }
        None => plant.routings.push(routing),
    }
    Catalog::new(plant).map_err(|e| AppError::Invalid(e.to_string()))
}

/// Adds the recipe's routing to the stored plant as `who` (a new plant version, which the
/// store takes only while the event log is empty).
pub async fn import_recipe(
    app: &App,
    who: &Principal,
    text: &str,
    options: &RecipeOptions,
) -> Result<RecipeImport, AppError> {
    let import = recipe_routing(app, text, options).await?;
    let catalog = app.catalog().await?;
    if catalog.routing(&import.routing.id) == Some(&import.routing) {
        return Ok(import);
    }
    let updated = plant_with_routing(catalog.plant().clone(), import.routing.clone())?;
    match app
        .store
        .put_plant(updated.plant().clone(), &store::actor_of(who))
        .await
    {
        Ok(()) => Ok(import),
        Err(error @ store::StoreError::LogNotEmpty { .. }) => Err(AppError::Invalid(format!(
            "routing `{}` was not added: {error}; add it to a plant document instead and load that",
            import.routing.id
        ))),
        Err(other) => Err(other.into()),
    }
}
