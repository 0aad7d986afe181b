//! Current state, folded from events.
//!
//! [`PlantState::apply`] checks an event against the catalog and the state so far and either
//! applies it whole or rejects it with an [`EventError`] naming the field at fault; a rejected
//! event leaves the state untouched. Folding the same events in the same order always gives
//! the same state, which is what lets the store rebuild projections from its log.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::event::{EquipmentState, Event, EventKind};
use crate::ids::*;
use crate::plant::{Mode, OrderStatus, ProductionOrder, Routing, Step};
use crate::supply::{AttendanceBook, Receipts};
use crate::time::Timestamp;

/// Why an event cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event `{event}` ({kind}): {field}: {message}")]
pub struct EventError {
    pub event: String,
    pub kind: &'static str,
    /// The event field at fault, such as `order` or `order.routing`.
    pub field: String,
    pub message: String,
}

/// An order with its progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OrderState {
    pub order: ProductionOrder,
    pub mode: Mode,
    pub status: OrderStatus,
    /// Steps completed so far.
    pub steps_completed: u32,
    pub steps_total: u32,
    /// The step running now, and where.
    pub current_step: Option<u32>,
    pub current_unit: Option<UnitId>,
    /// Good and scrap quantities of the last completed step.
    pub good_quantity: f64,
    pub scrap_quantity: f64,
    pub started: Option<Timestamp>,
    pub completed: Option<Timestamp>,
    /// Where and when the MES's dispatch list plans each step (by 0-based step), as the
    /// latest `operation_dispatched` events for it said; absent when nothing was dispatched.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dispatched: BTreeMap<u32, Dispatch>,
}

/// What the MES's dispatch list plans for one step of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Dispatch {
    /// The unit the step is planned on, if a dispatch said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitId>,
    /// When the step is planned to start, if a dispatch said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Timestamp>,
}

/// What an equipment unit is doing and for how long it has done so.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnitState {
    pub state: EquipmentState,
    pub since: Timestamp,
    /// Accumulated minutes in each state, up to `since`.
    pub minutes_in_state: BTreeMap<EquipmentState, f64>,
}

/// A lot or batch and the quantities that moved through it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LotState {
    pub material: MaterialId,
    /// The order that made it; none for purchased lots.
    pub produced_by: Option<OrderId>,
    pub received: f64,
    pub produced: f64,
    pub consumed: f64,
    pub shipped: f64,
    /// Orders that consumed from it.
    pub consumed_by: Vec<OrderId>,
}

impl LotState {
    /// Quantity still on hand.
    pub fn on_hand(&self) -> f64 {
        self.received + self.produced - self.consumed - self.shipped
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SerialState {
    pub material: MaterialId,
    pub produced_by: Option<OrderId>,
    pub consumed_by: Option<OrderId>,
    pub shipped_to: Option<String>,
}

/// Everything that the events have established so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlantState {
    /// Boxed: an order's state is some 250 bytes, and a map of millions of them is built,
    /// cloned and searched faster when its nodes hold a pointer each than when they hold
    /// (and move) the states themselves.
    pub orders: BTreeMap<OrderId, Box<OrderState>>,
    pub units: BTreeMap<UnitId, UnitState>,
    pub lots: BTreeMap<LotId, LotState>,
    pub serials: BTreeMap<SerialId, SerialState>,
    /// Number of quality results per characteristic.
    pub quality_results: BTreeMap<CharacteristicId, u64>,
    pub events_applied: u64,
    /// Time of the latest event applied.
    pub clock: Option<Timestamp>,
    /// Deliveries of purchased material announced by `receipt_expected`, open or closed.
    #[serde(default, skip_serializing_if = "Receipts::is_empty")]
    pub receipts: Receipts,
    /// The latest attendance fact of each pool member that has one (members without one are
    /// present).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attendance: AttendanceBook,
}

impl PlantState {
    /// State before any event: every unit idle at `start`, the plant's order book planned.
    pub fn initial(catalog: &Catalog, start: Timestamp) -> PlantState {
        let mut state = PlantState::default();
        for unit in &catalog.plant().units {
            state.units.insert(
                unit.id.clone(),
                UnitState {
                    state: EquipmentState::Idle,
                    since: start,
                    minutes_in_state: BTreeMap::new(),
                },
            );
        }
        for order in &catalog.plant().orders {
            let record = Box::new(order_state(catalog, order, OrderStatus::Planned));
            state.orders.insert(order.id.clone(), record);
        }
        state
    }

    /// Applies one event, or leaves the state untouched and says why not.
    pub fn apply(&mut self, catalog: &Catalog, event: &Event) -> Result<(), EventError> {
        self.check(catalog, event)?;
        self.fold(catalog, event);
        self.events_applied += 1;
        self.clock = Some(self.clock.map_or(event.time, |c| c.max(event.time)));
        Ok(())
    }

    fn check(&self, catalog: &Catalog, event: &Event) -> Result<(), EventError> {
        let fail = |field: &str, message: String| EventError {
            event: event.id.to_string(),
            kind: event.kind.type_name(),
            field: field.to_owned(),
            message,
        };
        if event.id.as_str().trim().is_empty() {
            return Err(fail("id", "must not be empty".into()));
        }
        match &event.kind {
            EventKind::OrderReleased { .. }
            | EventKind::OrderChanged { .. }
            | EventKind::OrderCancelled { .. }
            | EventKind::OperationStarted { .. }
            | EventKind::OperationCompleted { .. }
            | EventKind::OperationDispatched { .. } => {
                self.check_order_event(catalog, &event.kind, &fail)?;
            }
            EventKind::EquipmentStateChanged { unit, .. } => {
                if catalog.unit(unit).is_none() {
                    return Err(fail("unit", format!("unit `{unit}` does not exist")));
                }
            }
            EventKind::MaterialReceived { .. } => {
                self.check_material_event(catalog, &event.kind, &fail)?;
                self.check_supply_event(catalog, &event.kind, &fail)?;
            }
            EventKind::MaterialConsumed { .. }
            | EventKind::MaterialProduced { .. }
            | EventKind::MaterialShipped { .. } => {
                self.check_material_event(catalog, &event.kind, &fail)?;
            }
            EventKind::ReceiptExpected { .. }
            | EventKind::ReceiptCancelled { .. }
            | EventKind::MemberAttendance { .. } => {
                self.check_supply_event(catalog, &event.kind, &fail)?;
            }
            EventKind::QualityResultRecorded { .. } => {
                self.check_quality_result(catalog, &event.kind, &fail)?;
            }
        }
        Ok(())
    }

    /// An order or operation event: the order is open (or, when released, new) and the step,
    /// unit and quantities fit it.
    fn check_order_event(
        &self,
        catalog: &Catalog,
        kind: &EventKind,
        fail: &Fail<'_>,
    ) -> Result<(), EventError> {
        match kind {
            EventKind::OrderReleased { order } => {
                if let Some(existing) = self.orders.get(&order.id)
                    && existing.status != OrderStatus::Planned
                {
                    return Err(fail(
                        "order.id",
                        format!("order `{}` was already released", order.id),
                    ));
                }
                if let Some(problem) = catalog.check_order(order, "order").into_iter().next() {
                    return Err(fail(&problem.path, problem.message));
                }
            }
            EventKind::OrderChanged {
                order,
                quantity: q,
                due,
                ..
            } => {
                let state = self.open_order(order).map_err(|m| fail("order", m))?;
                if let Some(q) = q {
                    positive(fail, "quantity", *q)?;
                }
                if let Some(due) = due
                    && *due < state.order.release
                {
                    return Err(fail(
                        "due",
                        format!(
                            "{due} is before the order's release {}",
                            state.order.release
                        ),
                    ));
                }
            }
            EventKind::OrderCancelled { order, .. } => {
                self.open_order(order).map_err(|m| fail("order", m))?;
            }
            EventKind::OperationStarted {
                order, step, unit, ..
            } => {
                let state = self.open_order(order).map_err(|m| fail("order", m))?;
                self.check_step(catalog, state, *step, unit)
                    .map_err(|(f, m)| fail(f, m))?;
            }
            EventKind::OperationCompleted {
                order,
                step,
                unit,
                good_quantity,
                scrap_quantity,
                ..
            } => {
                let state = self.open_order(order).map_err(|m| fail("order", m))?;
                self.check_step(catalog, state, *step, unit)
                    .map_err(|(f, m)| fail(f, m))?;
                non_negative(fail, "good_quantity", *good_quantity)?;
                non_negative(fail, "scrap_quantity", *scrap_quantity)?;
            }
            EventKind::OperationDispatched {
                order,
                step,
                unit,
                start,
            } => {
                let state = self.open_order(order).map_err(|m| fail("order", m))?;
                if unit.is_none() && start.is_none() {
                    return Err(fail(
                        "unit",
                        "a dispatch needs a unit, a start or both".into(),
                    ));
                }
                match unit {
                    Some(unit) => self
                        .check_step(catalog, state, *step, unit)
                        .map_err(|(f, m)| fail(f, m))?,
                    None => {
                        self.check_step_index(catalog, state, *step)
                            .map_err(|(f, m)| fail(f, m))?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A material movement: the material exists, the quantity is not negative, and lots and
    /// serials carry that material.
    fn check_material_event(
        &self,
        catalog: &Catalog,
        kind: &EventKind,
        fail: &Fail<'_>,
    ) -> Result<(), EventError> {
        match kind {
            EventKind::MaterialReceived {
                material,
                lot,
                quantity: q,
                ..
            } => {
                known_material(catalog, fail, "material", material)?;
                non_negative(fail, "quantity", *q)?;
                self.check_lot_material(lot, material)
                    .map_err(|m| fail("lot", m))?;
            }
            EventKind::MaterialConsumed {
                order,
                material,
                lot,
                serial,
                quantity: q,
                ..
            } => {
                if !self.orders.contains_key(order) {
                    return Err(fail("order", format!("order `{order}` does not exist")));
                }
                known_material(catalog, fail, "material", material)?;
                non_negative(fail, "quantity", *q)?;
                match (lot, serial) {
                    (None, None) => {
                        return Err(fail("lot", "either lot or serial is required".into()));
                    }
                    (Some(lot), _) => self
                        .check_lot_material(lot, material)
                        .map_err(|m| fail("lot", m))?,
                    (None, Some(serial)) => self
                        .check_serial_material(serial, material)
                        .map_err(|m| fail("serial", m))?,
                }
            }
            EventKind::MaterialProduced {
                order,
                material,
                lot,
                serials,
                quantity: q,
            } => {
                if !self.orders.contains_key(order) {
                    return Err(fail("order", format!("order `{order}` does not exist")));
                }
                known_material(catalog, fail, "material", material)?;
                non_negative(fail, "quantity", *q)?;
                if lot.is_none() && serials.is_empty() {
                    return Err(fail("lot", "either lot or serials is required".into()));
                }
                if let Some(lot) = lot {
                    self.check_lot_material(lot, material)
                        .map_err(|m| fail("lot", m))?;
                }
                for (i, serial) in serials.iter().enumerate() {
                    if self.serials.contains_key(serial) {
                        return Err(fail(
                            &format!("serials[{i}]"),
                            format!("serial `{serial}` was already produced"),
                        ));
                    }
                }
            }
            EventKind::MaterialShipped {
                material,
                lot,
                serials,
                quantity: q,
                customer,
            } => {
                known_material(catalog, fail, "material", material)?;
                non_negative(fail, "quantity", *q)?;
                if customer.trim().is_empty() {
                    return Err(fail("customer", "must not be empty".into()));
                }
                if let Some(lot) = lot {
                    self.check_lot_material(lot, material)
                        .map_err(|m| fail("lot", m))?;
                }
                for (i, serial) in serials.iter().enumerate() {
                    self.check_serial_material(serial, material)
                        .map_err(|m| fail(&format!("serials[{i}]"), m))?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A quality result: a known characteristic, a finite value, a positive sample size, and
    /// existing order and unit when named.
    fn check_quality_result(
        &self,
        catalog: &Catalog,
        kind: &EventKind,
        fail: &Fail<'_>,
    ) -> Result<(), EventError> {
        if let EventKind::QualityResultRecorded {
            characteristic,
            value,
            order,
            unit,
            sample_size,
            ..
        } = kind
        {
            if catalog.characteristic(characteristic).is_none() {
                return Err(fail(
                    "characteristic",
                    format!("characteristic `{characteristic}` does not exist"),
                ));
            }
            if !value.is_finite() {
                return Err(fail("value", "must be a finite number".into()));
            }
            if let Some(size) = sample_size {
                positive(fail, "sample_size", *size)?;
            }
            if let Some(order) = order
                && !self.orders.contains_key(order)
            {
                return Err(fail("order", format!("order `{order}` does not exist")));
            }
            if let Some(unit) = unit
                && catalog.unit(unit).is_none()
            {
                return Err(fail("unit", format!("unit `{unit}` does not exist")));
            }
        }
        Ok(())
    }

    fn open_order(&self, id: &OrderId) -> Result<&OrderState, String> {
        match self.orders.get(id) {
            None => Err(format!("order `{id}` does not exist")),
            Some(o) if matches!(o.status, OrderStatus::Completed | OrderStatus::Cancelled) => {
                Err(format!(
                    "order `{id}` is {} and takes no further changes",
                    o.status.as_str()
                ))
            }
            Some(o) => Ok(o),
        }
    }

    fn check_step(
        &self,
        catalog: &Catalog,
        order: &OrderState,
        step: u32,
        unit: &UnitId,
    ) -> Result<(), (&'static str, String)> {
        let (routing, definition) = self.check_step_index(catalog, order, step)?;
        if !definition.alternatives.iter().any(|a| &a.unit == unit) {
            return Err((
                "unit",
                format!(
                    "unit `{unit}` cannot run step {step} (`{}`) of routing `{}`",
                    definition.name, routing.id
                ),
            ));
        }
        Ok(())
    }

    /// The order's routing and its step `step`, or why the routing has no such step.
    fn check_step_index<'c>(
        &self,
        catalog: &'c Catalog,
        order: &OrderState,
        step: u32,
    ) -> Result<(&'c Routing, &'c Step), (&'static str, String)> {
        let routing = catalog
            .routing(&order.order.routing)
            .expect("orders in state passed the catalog check");
        match routing.steps.get(step as usize) {
            Some(definition) => Ok((routing, definition)),
            None => Err((
                "step",
                format!(
                    "routing `{}` has {} steps, no step {step}",
                    routing.id,
                    routing.steps.len()
                ),
            )),
        }
    }

    fn check_lot_material(&self, lot: &LotId, material: &MaterialId) -> Result<(), String> {
        match self.lots.get(lot) {
            Some(existing) if &existing.material != material => Err(format!(
                "lot `{lot}` holds `{}`, not `{material}`",
                existing.material
            )),
            _ => Ok(()),
        }
    }

    fn check_serial_material(
        &self,
        serial: &SerialId,
        material: &MaterialId,
    ) -> Result<(), String> {
        match self.serials.get(serial) {
            Some(existing) if &existing.material != material => Err(format!(
                "serial `{serial}` is `{}`, not `{material}`",
                existing.material
            )),
            _ => Ok(()),
        }
    }

    fn lot_mut(&mut self, lot: &LotId, material: &MaterialId) -> &mut LotState {
        self.lots.entry(lot.clone()).or_insert_with(|| LotState {
            material: material.clone(),
            produced_by: None,
            received: 0.0,
            produced: 0.0,
            consumed: 0.0,
            shipped: 0.0,
            consumed_by: Vec::new(),
        })
    }

    fn serial_mut(&mut self, serial: &SerialId, material: &MaterialId) -> &mut SerialState {
        self.serials
            .entry(serial.clone())
            .or_insert_with(|| SerialState {
                material: material.clone(),
                produced_by: None,
                consumed_by: None,
                shipped_to: None,
            })
    }

    fn fold(&mut self, catalog: &Catalog, event: &Event) {
        match &event.kind {
            EventKind::OrderReleased { .. }
            | EventKind::OrderChanged { .. }
            | EventKind::OrderCancelled { .. }
            | EventKind::OperationStarted { .. }
            | EventKind::OperationCompleted { .. }
            | EventKind::OperationDispatched { .. } => self.fold_order_event(catalog, event),
            EventKind::EquipmentStateChanged {
                unit,
                state: new_state,
                ..
            } => {
                let unit_state = self.units.entry(unit.clone()).or_insert_with(|| UnitState {
                    state: EquipmentState::Idle,
                    since: event.time,
                    minutes_in_state: BTreeMap::new(),
                });
                // Late events (time before `since`) change the state but add no negative time.
                let minutes = event.time.minutes_since(unit_state.since).max(0.0);
                *unit_state
                    .minutes_in_state
                    .entry(unit_state.state)
                    .or_insert(0.0) += minutes;
                unit_state.state = *new_state;
                unit_state.since = unit_state.since.max(event.time);
            }
            EventKind::MaterialReceived { .. } => {
                self.fold_material_event(&event.kind);
                self.fold_supply_event(event);
            }
            EventKind::MaterialConsumed { .. }
            | EventKind::MaterialProduced { .. }
            | EventKind::MaterialShipped { .. } => self.fold_material_event(&event.kind),
            EventKind::ReceiptExpected { .. }
            | EventKind::ReceiptCancelled { .. }
            | EventKind::MemberAttendance { .. } => self.fold_supply_event(event),
            EventKind::QualityResultRecorded { characteristic, .. } => {
                *self
                    .quality_results
                    .entry(characteristic.clone())
                    .or_insert(0) += 1;
            }
        }
    }

    /// An order or operation event moves its order's status, progress, quantities or dispatches.
    fn fold_order_event(&mut self, catalog: &Catalog, event: &Event) {
        match &event.kind {
            EventKind::OrderReleased { order } => {
                let record = Box::new(order_state(catalog, order, OrderStatus::Released));
                self.orders.insert(order.id.clone(), record);
            }
            EventKind::OrderChanged {
                order,
                quantity,
                due,
                priority,
            } => {
                let state = self.orders.get_mut(order).expect("checked");
                if let Some(q) = quantity {
                    state.order.quantity = *q;
                }
                if let Some(due) = due {
                    state.order.due = *due;
                }
                if let Some(p) = priority {
                    state.order.priority = *p;
                }
            }
            EventKind::OrderCancelled { order, .. } => {
                let state = self.orders.get_mut(order).expect("checked");
                state.status = OrderStatus::Cancelled;
                state.current_step = None;
                state.current_unit = None;
            }
            EventKind::OperationStarted {
                order, step, unit, ..
            } => {
                let state = self.orders.get_mut(order).expect("checked");
                state.status = OrderStatus::InProgress;
                state.current_step = Some(*step);
                state.current_unit = Some(unit.clone());
                state.started.get_or_insert(event.time);
            }
            EventKind::OperationCompleted {
                order,
                step,
                good_quantity,
                scrap_quantity,
                ..
            } => {
                let state = self.orders.get_mut(order).expect("checked");
                state.steps_completed = state.steps_completed.max(step + 1);
                state.good_quantity = *good_quantity;
                state.scrap_quantity = *scrap_quantity;
                state.current_step = None;
                state.current_unit = None;
                state.started.get_or_insert(event.time);
                if state.steps_completed >= state.steps_total {
                    state.status = OrderStatus::Completed;
                    state.completed = Some(event.time);
                } else {
                    state.status = OrderStatus::InProgress;
                }
            }
            EventKind::OperationDispatched {
                order,
                step,
                unit,
                start,
            } => {
                let state = self.orders.get_mut(order).expect("checked");
                let dispatch = state.dispatched.entry(*step).or_insert(Dispatch {
                    unit: None,
                    start: None,
                });
                if let Some(unit) = unit {
                    dispatch.unit = Some(unit.clone());
                }
                if let Some(start) = start {
                    dispatch.start = Some(*start);
                }
            }
            _ => {}
        }
    }

    /// A material movement adds to its lot's or serials' received, consumed, produced or
    /// shipped record.
    fn fold_material_event(&mut self, kind: &EventKind) {
        match kind {
            EventKind::MaterialReceived {
                material,
                lot,
                quantity,
                ..
            } => {
                self.lot_mut(lot, material).received += quantity;
            }
            EventKind::MaterialConsumed {
                order,
                material,
                lot,
                serial,
                quantity,
                ..
            } => {
                if let Some(lot) = lot {
                    let state = self.lot_mut(lot, material);
                    state.consumed += quantity;
                    if !state.consumed_by.contains(order) {
                        state.consumed_by.push(order.clone());
                    }
                } else if let Some(serial) = serial {
                    self.serial_mut(serial, material).consumed_by = Some(order.clone());
                }
            }
            EventKind::MaterialProduced {
                order,
                material,
                lot,
                serials,
                quantity,
            } => {
                if let Some(lot) = lot {
                    let state = self.lot_mut(lot, material);
                    state.produced += quantity;
                    state.produced_by = Some(order.clone());
                }
                for serial in serials {
                    self.serial_mut(serial, material).produced_by = Some(order.clone());
                }
            }
            EventKind::MaterialShipped {
                material,
                lot,
                serials,
                quantity,
                customer,
            } => {
                if let Some(lot) = lot {
                    self.lot_mut(lot, material).shipped += quantity;
                }
                for serial in serials {
                    self.serial_mut(serial, material).shipped_to = Some(customer.clone());
                }
            }
            _ => {}
        }
    }
}

/// Builds the error for one field of the event being checked.
pub(crate) type Fail<'a> = dyn Fn(&str, String) -> EventError + 'a;

/// The material exists in the catalog.
pub(crate) fn known_material(
    catalog: &Catalog,
    fail: &Fail<'_>,
    field: &str,
    m: &MaterialId,
) -> Result<(), EventError> {
    catalog
        .material(m)
        .map(|_| ())
        .ok_or_else(|| fail(field, format!("material `{m}` does not exist")))
}

/// A quantity is a finite, non-negative number.
fn non_negative(fail: &Fail<'_>, field: &str, q: f64) -> Result<(), EventError> {
    if q.is_finite() && q >= 0.0 {
        Ok(())
    } else {
        Err(fail(
            field,
            format!("must be a non-negative number, got {q}"),
        ))
    }
}

/// A quantity or sample size is a finite, positive number.
fn positive(fail: &Fail<'_>, field: &str, q: f64) -> Result<(), EventError> {
    if q.is_finite() && q > 0.0 {
        Ok(())
    } else {
        Err(fail(field, format!("must be a positive number, got {q}")))
    }
}

fn order_state(catalog: &Catalog, order: &ProductionOrder, status: OrderStatus) -> OrderState {
    let routing = catalog
        .routing(&order.routing)
        .expect("orders passed the catalog check");
    OrderState {
        order: order.clone(),
        mode: routing.mode,
        status,
        steps_completed: 0,
        steps_total: routing.steps.len() as u32,
        current_step: None,
        current_unit: None,
        good_quantity: 0.0,
        scrap_quantity: 0.0,
        started: None,
        completed: None,
        dispatched: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let plant =
            serde_json::from_str(include_str!("../../sim/data/reference-plant.json")).unwrap();
        Catalog::new(plant).unwrap()
    }

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn dispatch(
        id: &str,
        order: &str,
        step: u32,
        unit: Option<&str>,
        start: Option<&str>,
    ) -> Event {
        Event {
            id: id.into(),
            time: at("2026-03-02T01:00:00Z"),
            source: Some("test".into()),
            kind: EventKind::OperationDispatched {
                order: order.into(),
                step,
                unit: unit.map(UnitId::from),
                start: start.map(at),
            },
        }
    }

    /// The reference plant's first order (routing RCP-EA100: R-101|R-102, R-101|R-102,
    /// FS-1|FS-2), planned.
    const ORDER: &str = "MO-260001";

    #[test]
    fn dispatches_are_recorded_per_step_and_merge() {
        let catalog = catalog();
        let mut state = PlantState::initial(&catalog, at("2026-03-02T00:00:00Z"));
        let before = state.orders[&OrderId::from(ORDER)].clone();
        assert!(before.dispatched.is_empty());
        state
            .apply(&catalog, &dispatch("d-1", ORDER, 1, Some("R-102"), None))
            .unwrap();
        state
            .apply(
                &catalog,
                &dispatch("d-2", ORDER, 1, None, Some("2026-03-02T05:00:00Z")),
            )
            .unwrap();
        state
            .apply(
                &catalog,
                &dispatch("d-3", ORDER, 2, Some("FS-1"), Some("2026-03-02T09:00:00Z")),
            )
            .unwrap();
        state
            .apply(&catalog, &dispatch("d-4", ORDER, 1, Some("R-101"), None))
            .unwrap();
        let order = &state.orders[&OrderId::from(ORDER)];
        assert_eq!(
            order.dispatched[&1],
            Dispatch {
                unit: Some("R-101".into()),
                start: Some(at("2026-03-02T05:00:00Z")),
            }
        );
        assert_eq!(
            order.dispatched[&2],
            Dispatch {
                unit: Some("FS-1".into()),
                start: Some(at("2026-03-02T09:00:00Z")),
            }
        );
        assert_eq!(order.dispatched.len(), 2);
        // A plan, not progress: status and steps are untouched.
        assert_eq!(order.status, before.status);
        assert_eq!(order.steps_completed, 0);
        assert_eq!(order.current_step, None);
        assert_eq!(state.events_applied, 4);
        // Serialised: the dispatch list appears only when there is one.
        let json = serde_json::to_value(order).unwrap();
        assert_eq!(json["dispatched"]["1"]["unit"], "R-101");
        assert!(
            serde_json::to_value(&before)
                .unwrap()
                .get("dispatched")
                .is_none()
        );
        let back: OrderState = serde_json::from_value(json).unwrap();
        assert_eq!(&back, &**order);
    }

    #[test]
    fn stored_order_states_without_dispatches_still_read() {
        let catalog = catalog();
        let state = PlantState::initial(&catalog, at("2026-03-02T00:00:00Z"));
        let mut json = serde_json::to_value(&state).unwrap();
        json["orders"][ORDER]
            .as_object_mut()
            .unwrap()
            .remove("dispatched");
        let back: PlantState = serde_json::from_value(json).unwrap();
        assert_eq!(back, state);
    }

    #[test]
    fn bad_dispatches_are_rejected_naming_the_field() {
        let catalog = catalog();
        let start = at("2026-03-02T00:00:00Z");
        let mut state = PlantState::initial(&catalog, start);
        let rejected = |state: &PlantState, event: Event, field: &str, needle: &str| {
            let mut copy = state.clone();
            let error = copy.apply(&catalog, &event).unwrap_err();
            assert_eq!(error.field, field, "{error}");
            assert_eq!(error.kind, "operation_dispatched");
            assert!(
                error.to_string().contains(needle),
                "`{needle}` not in {error}"
            );
            assert_eq!(&copy, state, "a rejected event leaves the state untouched");
        };
        rejected(
            &state,
            dispatch("x", "MO-NOPE", 0, Some("R-101"), None),
            "order",
            "order `MO-NOPE` does not exist",
        );
        rejected(
            &state,
            dispatch("x", ORDER, 3, Some("R-101"), None),
            "step",
            "has 3 steps, no step 3",
        );
        rejected(
            &state,
            dispatch("x", ORDER, 7, None, Some("2026-03-02T05:00:00Z")),
            "step",
            "no step 7",
        );
        rejected(
            &state,
            dispatch("x", ORDER, 2, Some("R-101"), None),
            "unit",
            "unit `R-101` cannot run step 2",
        );
        rejected(
            &state,
            dispatch("x", ORDER, 0, None, None),
            "unit",
            "a unit, a start or both",
        );
        // A cancelled order takes no dispatch.
        state
            .apply(
                &catalog,
                &Event {
                    id: "c-1".into(),
                    time: start,
                    source: None,
                    kind: EventKind::OrderCancelled {
                        order: ORDER.into(),
                        reason: "test".into(),
                    },
                },
            )
            .unwrap();
        rejected(
            &state,
            dispatch("x", ORDER, 0, Some("R-101"), None),
            "order",
            "is cancelled",
        );
    }
}
