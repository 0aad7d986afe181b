//! Reads of the plant and its current state: production orders, and work centers with their
//! units' state and utilisation, each within the reader's scope ([`crate::scope`]: an
//! area-scoped reader sees the orders whose routing runs in its area and the work centers of
//! its area; another area's order is not found). The plant document itself (hierarchy,
//! routings, materials) is site-wide and read whole.

use std::collections::BTreeMap;

use govern::Principal;
use model::{EquipmentState, Mode, OrderState, Plant, Timestamp};
use schemars::JsonSchema;
use serde::Serialize;
use store::OrderFilter;

use crate::scope::Reach;
use crate::{App, AppError};

/// Every order `who` reads that matches `filter` (its `limit` and `offset` are ignored), in
/// id order. Read from the state in memory (the same fold the orders' table projects, caught
/// up with the database by [`Reach::of`]): a page of a list costs no query and no decoding.
pub async fn all_orders(
    app: &App,
    who: &Principal,
    filter: OrderFilter,
) -> Result<Vec<OrderState>, AppError> {
    let reach = Reach::of(app, who).await?;
    Ok(orders_in(&reach, &filter).into_iter().cloned().collect())
}

/// The orders of `reach`'s state its principal reads that match `filter`, in id order,
/// borrowed: a caller that pages them clones only its page.
pub fn orders_in<'a>(reach: &'a Reach, filter: &OrderFilter) -> Vec<&'a OrderState> {
    reach
        .state()
        .orders
        .values()
        .map(|order| &**order)
        .filter(|order| filter.mode.is_none_or(|mode| order.mode == mode))
        .filter(|order| filter.status.is_none_or(|status| order.status == status))
        .filter(|order| reach.reads_order(order))
        .collect()
}

/// One order, if it exists and `who` reads it.
pub async fn order(app: &App, who: &Principal, id: &str) -> Result<OrderState, AppError> {
    let reach = Reach::of(app, who).await?;
    reach
        .order_areas(id)
        .filter(|areas| reach.reads(areas))
        .and_then(|_| reach.state().orders.get(&id.into()).map(|o| (**o).clone()))
        .ok_or_else(|| AppError::NotFound(format!("order `{id}` does not exist")))
}

/// The work centers of the areas `who` reads, with their units' state and utilisation.
pub async fn work_centers(app: &App, who: &Principal) -> Result<Vec<WorkCenterView>, AppError> {
    let reach = Reach::of(app, who).await?;
    let mut views = work_center_views(reach.catalog().plant(), reach.state());
    views.retain(|wc| reach.reads_area(&wc.area.as_str().into()));
    Ok(views)
}

/// A unit with its state and how its time was spent.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UnitView {
    pub id: String,
    pub name: String,
    pub state: EquipmentState,
    pub since: Timestamp,
    /// Share of the recorded time spent running, 0 to 1.
    pub utilisation: f64,
    pub minutes_in_state: BTreeMap<EquipmentState, f64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WorkCenterView {
    pub id: String,
    pub name: String,
    pub area: String,
    pub mode: Mode,
    pub units: Vec<UnitView>,
    /// Mean utilisation of the units.
    pub utilisation: f64,
}

/// Work centers with their units' state and utilisation, from the current state.
pub fn work_center_views(plant: &Plant, state: &model::PlantState) -> Vec<WorkCenterView> {
    plant
        .work_centers
        .iter()
        .map(|wc| {
            let units: Vec<UnitView> = plant
                .units
                .iter()
                .filter(|u| u.work_center == wc.id)
                .map(|u| {
                    let unit_state = state.units.get(&u.id);
                    let minutes = unit_state
                        .map(|s| s.minutes_in_state.clone())
                        .unwrap_or_default();
                    let total: f64 = minutes.values().sum();
                    let running = minutes
                        .get(&EquipmentState::Running)
                        .copied()
                        .unwrap_or(0.0);
                    UnitView {
                        id: u.id.to_string(),
                        name: u.name.clone(),
                        state: unit_state.map_or(EquipmentState::Idle, |s| s.state),
                        since: unit_state.map_or(Timestamp::default(), |s| s.since),
                        utilisation: if total > 0.0 { running / total } else { 0.0 },
                        minutes_in_state: minutes,
                    }
                })
                .collect();
            let utilisation = if units.is_empty() {
                0.0
            } else {
                units.iter().map(|u| u.utilisation).sum::<f64>() / units.len() as f64
            };
            WorkCenterView {
                id: wc.id.to_string(),
                name: wc.name.clone(),
                area: wc.area.to_string(),
                mode: wc.mode,
                units,
                utilisation,
            }
        })
        .collect()
}
