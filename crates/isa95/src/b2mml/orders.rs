//! A schedule's requests as mixplane orders, checked against the plant, and the
//! `order_released` events that release them.
//!
//! Each request becomes one [`ProductionOrder`]:
//!
//! - id: the request's `ID`;
//! - product and quantity: the material it produces (`MaterialUse` `Produced`), which must be
//!   a material of the plant, in the material's unit of measure (a `UnitOfMeasure` that
//!   differs, ignoring case, is refused: mixplane converts no units); several requirements of
//!   the product add up, two different products are refused;
//! - routing: `OperationsDefinitionID` (V0401/V0600 `ProductProductionRuleID`) when given —
//!   it must make the product — else the plant's one routing of the product;
//! - release: `StartTime`, else the earliest segment `EarliestStartTime`, else the
//!   document's creation time; due: `EndTime`, else the latest segment `LatestEndTime`, else
//!   release plus [`OrderOptions::due_after_hours`] when the caller gives it;
//! - priority: B2MML's numeric `Priority`, 1 or less high, 2 medium, 3 or more low (the
//!   numbering [`priority_number`] writes); none is medium;
//! - customer: none (a request has no field for it).
//!
//! The events' ids and times come from the document alone (`b2mml:<order>:released`, the
//! document's creation time, else the order's release), so importing the same document
//! again stores nothing twice.

use std::collections::BTreeSet;

use model::{
    Catalog, Event, EventId, EventKind, MaterialId, OrderId, Priority, ProductionOrder, RoutingId,
    Timestamp,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::schedule::{Request, ScheduleDocument};
use crate::error::{Isa95Error, RequestError};

/// Whether one bad request refuses the whole document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Strictness {
    /// The first fault refuses the document; nothing is released.
    #[default]
    WholeDocument,
    /// Requests with a fault are listed in [`OrderImport::refused`]; the others are released.
    PerRequest,
}

/// How requests become orders.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OrderOptions {
    #[serde(default)]
    pub strictness: Strictness,
    /// Due date of a request that names none (no `EndTime`, no segment `LatestEndTime`):
    /// this many hours after its release. Without it such a request is refused.
    #[serde(default)]
    pub due_after_hours: Option<f64>,
}

/// The orders a document releases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OrderImport {
    /// The document's creation time, when it gives one.
    pub created: Option<Timestamp>,
    pub orders: Vec<ProductionOrder>,
    /// Requests left out, with why ([`Strictness::PerRequest`] only).
    pub refused: Vec<RequestError>,
}

/// The longest default lead time taken, in hours (ten years).
pub const MAX_LEAD_HOURS: f64 = 87_600.0;

/// The source named by the events of imported schedules.
pub const SOURCE: &str = "b2mml";

/// The orders `document`'s requests stand for in the plant `catalog`.
pub fn orders_from_schedule(
    document: &ScheduleDocument,
    catalog: &Catalog,
    options: &OrderOptions,
) -> Result<OrderImport, Isa95Error> {
    let mut import = OrderImport {
        created: document.created,
        orders: Vec::new(),
        refused: Vec::new(),
    };
    if let Some(hours) = options.due_after_hours
        && !(0.0..=MAX_LEAD_HOURS).contains(&hours)
    {
        return Err(Isa95Error::document(
            "due_after_hours",
            format!("{hours} is not a lead time of 0 to {MAX_LEAD_HOURS} hours"),
        ));
    }
    let mut seen = BTreeSet::new();
    for request in &document.requests {
        let order = request.clone().and_then(|request| {
            if !seen.insert(request.id.clone()) {
                return Err(RequestError::new(
                    &request.id,
                    "ID",
                    "a second request with this ID in the document",
                ));
            }
            order_of(&request, document.created, catalog, options)
        });
        match order {
            Ok(order) => import.orders.push(order),
            Err(fault) if options.strictness == Strictness::PerRequest => {
                import.refused.push(fault);
            }
            Err(fault) => return Err(fault.into()),
        }
    }
    if import.orders.is_empty() && import.refused.is_empty() {
        return Err(Isa95Error::document(
            document.noun.clone(),
            "the document holds no ProductionRequest or OperationsRequest",
        ));
    }
    Ok(import)
}

fn order_of(
    request: &Request,
    created: Option<Timestamp>,
    catalog: &Catalog,
    options: &OrderOptions,
) -> Result<ProductionOrder, RequestError> {
    let fail = |field: &str, message: String| RequestError::new(&request.id, field, message);
    model::ids::check_id("order", &request.id).map_err(|e| fail("ID", e.to_string()))?;
    // The release event's id holds the order id: it must fit the bound of ids too.
    let event_id = released_event_id(&OrderId::from(request.id.as_str()));
    model::ids::check_id("event", event_id.as_str()).map_err(|e| fail("ID", e.to_string()))?;
    let (product, quantity) = product_and_quantity(request, catalog)?;
    let routing = routing_of(request, &product, catalog)?;
    let release = request
        .start
        .or_else(|| request.segments.iter().filter_map(|s| s.earliest_start).min())
        .or(created)
        .ok_or_else(|| {
            fail(
                "StartTime",
                "missing, and no segment has an EarliestStartTime nor the document a CreationDateTime".into(),
            )
        })?;
    let due = match request
        .end
        .or_else(|| request.segments.iter().filter_map(|s| s.latest_end).max())
    {
        Some(due) => due,
        None => match options.due_after_hours {
            Some(hours) => release.plus_minutes(hours * 60.0),
            None => {
                return Err(fail(
                    "EndTime",
                    "missing (no due date), and no segment has a LatestEndTime; give a due date or a default lead time".into(),
                ));
            }
        },
    };
    // An RFC 3339 year has four digits: a due date past 9999 could not be written back.
    if Timestamp::parse(&due.to_string()).is_err() {
        return Err(fail(
            "EndTime",
            format!("the due date {due} is past the year 9999"),
        ));
    }
    if due < release {
        return Err(fail(
            "EndTime",
            format!("the due date {due} is before the release {release}"),
        ));
    }
    let priority = match request.priority.as_deref().filter(|p| !p.is_empty()) {
        None => Priority::Medium,
        Some(text) => priority_of_number(text)
            .ok_or_else(|| fail("Priority", format!("`{text}` is not a whole number")))?,
    };
    let order = ProductionOrder {
        id: OrderId::from(request.id.as_str()),
        product,
        routing,
        quantity,
        release,
        due,
        priority,
        customer: None,
    };
    if let Some(problem) = catalog.check_order(&order, "order").into_iter().next() {
        return Err(fail(&problem.path, problem.message));
    }
    Ok(order)
}

fn product_and_quantity(
    request: &Request,
    catalog: &Catalog,
) -> Result<(MaterialId, f64), RequestError> {
    let fail = |field: String, message: String| RequestError::new(&request.id, field, message);
    let first = request.produced.first().ok_or_else(|| {
        fail(
            "SegmentRequirement.MaterialRequirement".into(),
            "no material with MaterialUse `Produced`: the request does not say what to make".into(),
        )
    })?;
    let product = MaterialId::from(first.material.as_str());
    let material = catalog.material(&product).ok_or_else(|| {
        fail(
            format!("{}.MaterialDefinitionID", first.path),
            format!("`{product}` is not a material of the plant"),
        )
    })?;
    let mut quantity = 0.0;
    for produced in &request.produced {
        if produced.material != first.material {
            return Err(fail(
                format!("{}.MaterialDefinitionID", produced.path),
                format!(
                    "a second product `{}` beside `{product}`: one request makes one product",
                    produced.material
                ),
            ));
        }
        let field = format!("{}.Quantity.QuantityString", produced.path);
        let text = produced
            .quantity
            .as_deref()
            .ok_or_else(|| fail(field.clone(), "missing".into()))?;
        let value = text
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .ok_or_else(|| fail(field.clone(), format!("`{text}` is not a positive number")))?;
        if let Some(uom) = &produced.uom
            && !uom.eq_ignore_ascii_case(&material.uom)
        {
            return Err(fail(
                format!("{}.Quantity.UnitOfMeasure", produced.path),
                format!("`{uom}` is not `{}`, the unit of `{product}`", material.uom),
            ));
        }
        quantity += value;
    }
    if !quantity.is_finite() {
        return Err(fail(
            "SegmentRequirement.MaterialRequirement".into(),
            "the produced quantities add up to more than a number can hold".into(),
        ));
    }
    Ok((product, quantity))
}

fn routing_of(
    request: &Request,
    product: &MaterialId,
    catalog: &Catalog,
) -> Result<RoutingId, RequestError> {
    if let Some(named) = &request.definition {
        let id = RoutingId::from(named.as_str());
        let routing = catalog.routing(&id).ok_or_else(|| {
            RequestError::new(
                &request.id,
                "OperationsDefinitionID",
                format!("`{named}` is not a routing of the plant"),
            )
        })?;
        if &routing.product != product {
            return Err(RequestError::new(
                &request.id,
                "OperationsDefinitionID",
                format!(
                    "routing `{named}` makes `{}`, not `{product}`",
                    routing.product
                ),
            ));
        }
        return Ok(id);
    }
    let making: Vec<&RoutingId> = catalog
        .plant()
        .routings
        .iter()
        .filter(|r| &r.product == product)
        .map(|r| &r.id)
        .collect();
    match making.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(RequestError::new(
            &request.id,
            "OperationsDefinitionID",
            format!("no routing of the plant makes `{product}`"),
        )),
        several => Err(RequestError::new(
            &request.id,
            "OperationsDefinitionID",
            format!(
                "missing, and {} routings make `{product}` ({}): name one",
                several.len(),
                several
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// The priority a B2MML `Priority` number stands for.
pub fn priority_of_number(text: &str) -> Option<Priority> {
    let number: i64 = text.trim().parse().ok()?;
    Some(match number {
        i64::MIN..=1 => Priority::High,
        2 => Priority::Medium,
        _ => Priority::Low,
    })
}

/// The B2MML `Priority` number written for a priority.
pub fn priority_number(priority: Priority) -> u8 {
    match priority {
        Priority::High => 1,
        Priority::Medium => 2,
        Priority::Low => 3,
    }
}

/// The id of the event releasing an imported order.
pub fn released_event_id(order: &OrderId) -> EventId {
    EventId::from(format!("{SOURCE}:{order}:released"))
}

/// One `order_released` event per order, with ids and times taken from the document.
pub fn release_events(import: &OrderImport) -> Vec<Event> {
    import
        .orders
        .iter()
        .map(|order| Event {
            id: released_event_id(&order.id),
            time: import.created.unwrap_or(order.release),
            source: Some(SOURCE.to_owned()),
            kind: EventKind::OrderReleased {
                order: order.clone(),
            },
        })
        .collect()
}
