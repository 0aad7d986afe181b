//! The source's side of the profile: [`map_row`] turns one row of an entity set into the
//! mixplane events it stands for.
//!
//! - **Event-like rows** (`EquipmentStatusHistory`, `MTUOperationTracking`, `ResultHistory`)
//!   map one to one.
//! - **State-like rows** map to what differs from what mixplane already knows ([`Known`]): a
//!   `WorkOrder` is `order_released` the first time, then `order_changed` for the quantity,
//!   due date and priority that differ and `order_cancelled` when it is `Aborted`; a
//!   `WorkOrderOperation` is `operation_dispatched` for a planned machine or start that
//!   differs from the last dispatch known, `operation_started` once and `operation_completed` once; an
//!   `Equipment` row is `equipment_state_changed` when its status differs; an
//!   `ExpectedReceipt` is `receipt_expected` when new or changed and `receipt_cancelled`.
//!   `MaterialTrackingUnit` and `ProducedMaterialItem` rows map to nothing: their quantities
//!   follow from the movements, and a hold is no plant event.
//!
//! Event ids are derived from the row, so a row read twice maps to the same events: an
//! event-like row's is `opc-<Set>-<Id>`; a state-like row's is `opc-<Set>-<Id>-<what>`, with
//! `-<ModifiedOn in ms>` added for what can happen more than once (changes, dispatches).
//! Read the sets of one poll in [`EntitySet::ALL`] order, so a row finds what it names.

use std::collections::BTreeMap;

use model::{
    EquipmentState, Event, EventKind, OrderId, OrderStatus, PlantState, Priority, ProductionOrder,
    ReceiptId, Timestamp, UnitId,
};
use serde_json::{Map, Value};

use crate::sets::EntitySet;
use crate::wire::{self, operation_status, order_status};

/// What mixplane already knows about an order.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownOrder {
    pub quantity: f64,
    pub due: Timestamp,
    pub priority: Priority,
    /// Neither completed nor cancelled: it still takes changes.
    pub open: bool,
}

/// What mixplane already knows about one operation (step of an order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownOperation {
    pub started: bool,
    pub completed: bool,
    /// The unit and start the latest dispatch said.
    pub unit: Option<UnitId>,
    pub start: Option<Timestamp>,
}

/// What mixplane already knows about an expected receipt.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownReceipt {
    pub quantity: f64,
    pub expected: Timestamp,
    pub supplier: Option<String>,
    pub purchase_order: Option<String>,
    /// Neither received nor cancelled.
    pub open: bool,
}

/// What mixplane already knows, as the mapping of state-like rows needs it.
pub trait Known {
    /// The order, if it was released (a planned order of the book is not known here).
    fn order(&self, order: &OrderId) -> Option<KnownOrder>;
    /// The operation's progress and dispatch (all empty when nothing is known).
    fn operation(&self, order: &OrderId, step: u32) -> KnownOperation;
    /// The unit's current state, if known.
    fn unit_state(&self, unit: &UnitId) -> Option<EquipmentState>;
    /// The expected receipt, if announced.
    fn receipt(&self, receipt: &ReceiptId) -> Option<KnownReceipt>;
}

impl Known for PlantState {
    fn order(&self, order: &OrderId) -> Option<KnownOrder> {
        let state = self.orders.get(order)?;
        if state.status == OrderStatus::Planned {
            return None;
        }
        Some(KnownOrder {
            quantity: state.order.quantity,
            due: state.order.due,
            priority: state.order.priority,
            open: !matches!(
                state.status,
                OrderStatus::Completed | OrderStatus::Cancelled
            ),
        })
    }

    fn operation(&self, order: &OrderId, step: u32) -> KnownOperation {
        let Some(state) = self.orders.get(order) else {
            return KnownOperation::default();
        };
        let dispatch = state.dispatched.get(&step);
        KnownOperation {
            started: state.steps_completed > step || state.current_step == Some(step),
            completed: state.steps_completed > step,
            unit: dispatch.and_then(|d| d.unit.clone()),
            start: dispatch.and_then(|d| d.start),
        }
    }

    fn unit_state(&self, unit: &UnitId) -> Option<EquipmentState> {
        self.units.get(unit).map(|u| u.state)
    }

    fn receipt(&self, receipt: &ReceiptId) -> Option<KnownReceipt> {
        self.receipts.get(receipt).map(|r| KnownReceipt {
            quantity: r.quantity,
            expected: r.expected,
            supplier: r.supplier.clone(),
            purchase_order: r.purchase_order.clone(),
            open: r.is_open(),
        })
    }
}

/// A row that cannot be mapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    #[error("app `{app}` has no entity set `{set}`")]
    UnknownSet { app: String, set: String },
    /// A field of the row is missing, of the wrong type, or says something impossible.
    #[error("{set} row `{id}`: field `{field}`: {message}")]
    Field {
        set: String,
        /// The row's `Id` (`?` when the row has none).
        id: String,
        field: String,
        message: String,
    },
}

/// The events row `row` of set `set` in app `app` stands for, given what mixplane knows.
pub fn map_row(
    app: &str,
    set: &str,
    row: &Value,
    known: &dyn Known,
) -> Result<Vec<Event>, MapError> {
    let found = EntitySet::find(app, set).ok_or_else(|| MapError::UnknownSet {
        app: app.into(),
        set: set.into(),
    })?;
    map_set_row(found, row, known)
}

/// [`map_row`] for a set already looked up.
pub fn map_set_row(set: EntitySet, row: &Value, known: &dyn Known) -> Result<Vec<Event>, MapError> {
    let reader = Reader::new(set, row)?;
    match set {
        EntitySet::WorkOrder => work_order(&reader, known),
        EntitySet::WorkOrderOperation => operation(&reader, known),
        EntitySet::Equipment => equipment(&reader, known),
        EntitySet::ExpectedReceipt => crate::map_events::expected_receipt(&reader, known),
        EntitySet::MaterialTrackingUnit | EntitySet::ProducedMaterialItem => {
            reader.text("NId")?;
            Ok(Vec::new())
        }
        EntitySet::EquipmentStatusHistory
        | EntitySet::MtuOperationTracking
        | EntitySet::ResultHistory => crate::map_events::event_row(&reader).map(|e| vec![e]),
    }
}

/// Typed access to a row's fields, each failure naming the set, the row's `Id` and the field.
pub(crate) struct Reader<'a> {
    pub(crate) set: EntitySet,
    pub(crate) id: String,
    fields: &'a Map<String, Value>,
}

impl<'a> Reader<'a> {
    fn new(set: EntitySet, row: &'a Value) -> Result<Reader<'a>, MapError> {
        let fail = |field: &str, message: &str| MapError::Field {
            set: set.name().into(),
            id: "?".into(),
            field: field.into(),
            message: message.into(),
        };
        let fields = row
            .as_object()
            .ok_or_else(|| fail("", "the row is not a JSON object"))?;
        let id = match fields.get("Id") {
            Some(Value::String(id)) if !id.trim().is_empty() => id.clone(),
            _ => return Err(fail("Id", "missing or not a GUID string")),
        };
        let reader = Reader { set, id, fields };
        reader.time("ModifiedOn")?;
        Ok(reader)
    }

    pub(crate) fn fail(&self, field: &str, message: impl Into<String>) -> MapError {
        MapError::Field {
            set: self.set.name().into(),
            id: self.id.clone(),
            field: field.into(),
            message: message.into(),
        }
    }

    /// The field's value, `None` when absent or null.
    fn value(&self, field: &str) -> Option<&'a Value> {
        self.fields.get(field).filter(|v| !v.is_null())
    }

    pub(crate) fn opt_text(&self, field: &str) -> Result<Option<&'a str>, MapError> {
        match self.value(field) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(self.fail(field, format!("expected a string, found {other}"))),
        }
    }

    pub(crate) fn text(&self, field: &str) -> Result<&'a str, MapError> {
        match self.opt_text(field)? {
            Some(text) if !text.trim().is_empty() => Ok(text),
            Some(_) => Err(self.fail(field, "must not be empty")),
            None => Err(self.fail(field, "missing")),
        }
    }

    /// A required id, checked as mixplane checks ids read from outside.
    pub(crate) fn id<T: From<String>>(
        &self,
        field: &str,
        kind: &'static str,
    ) -> Result<T, MapError> {
        let text = self.text(field)?;
        model::check_id(kind, text).map_err(|e| self.fail(field, e.to_string()))?;
        Ok(T::from(text.to_owned()))
    }

    pub(crate) fn opt_id<T: From<String>>(
        &self,
        field: &str,
        kind: &'static str,
    ) -> Result<Option<T>, MapError> {
        match self.opt_text(field)? {
            None => Ok(None),
            Some(_) => self.id(field, kind).map(Some),
        }
    }

    pub(crate) fn opt_number(&self, field: &str) -> Result<Option<f64>, MapError> {
        match self.value(field) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_f64()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or_else(|| self.fail(field, "not a finite number")),
            Some(other) => Err(self.fail(field, format!("expected a number, found {other}"))),
        }
    }

    pub(crate) fn number(&self, field: &str) -> Result<f64, MapError> {
        self.opt_number(field)?
            .ok_or_else(|| self.fail(field, "missing"))
    }

    pub(crate) fn opt_integer(&self, field: &str) -> Result<Option<i64>, MapError> {
        match self.value(field) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.fail(field, format!("expected an integer, found {n}"))),
            Some(other) => Err(self.fail(field, format!("expected an integer, found {other}"))),
        }
    }

    pub(crate) fn integer(&self, field: &str) -> Result<i64, MapError> {
        self.opt_integer(field)?
            .ok_or_else(|| self.fail(field, "missing"))
    }

    pub(crate) fn opt_time(&self, field: &str) -> Result<Option<Timestamp>, MapError> {
        match self.opt_text(field)? {
            None => Ok(None),
            Some(text) => Timestamp::parse(text)
                .map(Some)
                .map_err(|e| self.fail(field, e.to_string())),
        }
    }

    pub(crate) fn time(&self, field: &str) -> Result<Timestamp, MapError> {
        self.opt_time(field)?
            .ok_or_else(|| self.fail(field, "missing"))
    }

    /// A collection of strings; absent or null reads as empty.
    pub(crate) fn texts(&self, field: &str) -> Result<Vec<String>, MapError> {
        match self.value(field) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(text) if !text.trim().is_empty() => Ok(text.clone()),
                    other => Err(self.fail(
                        &format!("{field}[{i}]"),
                        format!("expected a non-empty string, found {other}"),
                    )),
                })
                .collect(),
            Some(other) => Err(self.fail(field, format!("expected an array, found {other}"))),
        }
    }

    /// The 0-based routing step of the row's `Sequence`.
    pub(crate) fn step(&self) -> Result<u32, MapError> {
        let sequence = self.integer("Sequence")?;
        wire::step_of(sequence).ok_or_else(|| {
            self.fail(
                "Sequence",
                format!("{sequence} is not a positive multiple of 10 (step = Sequence / 10 - 1)"),
            )
        })
    }

    /// An event of this row at `time`, its id `opc-<Set>-<Id>` plus `suffix`.
    pub(crate) fn event(&self, suffix: &str, time: Timestamp, kind: EventKind) -> Event {
        Event {
            id: format!("opc-{}-{}{suffix}", self.set.name(), self.id).into(),
            time,
            source: Some("opcenter".into()),
            kind,
        }
    }
}

fn differs(a: f64, b: f64) -> bool {
    (a - b).abs() > 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn work_order(row: &Reader<'_>, known: &dyn Known) -> Result<Vec<Event>, MapError> {
    let order: OrderId = row.id("NId", "OrderId")?;
    let modified = row.time("ModifiedOn")?;
    let status = row.text("Status")?;
    if ![
        order_status::RELEASED,
        order_status::ACTIVE,
        order_status::COMPLETE,
        order_status::ABORTED,
    ]
    .contains(&status)
    {
        return Err(row.fail(
            "Status",
            format!("`{status}` is none of Released, Active, Complete, Aborted"),
        ));
    }
    let quantity = row.number("PlannedTargetQuantity")?;
    let due = row.time("DueDate")?;
    let number = row.integer("Priority")?;
    let priority = wire::priority_of(number).ok_or_else(|| {
        row.fail(
            "Priority",
            format!("{number} is not a priority (1 high, 2 medium, 3 or more low)"),
        )
    })?;
    let stamp = modified.0;
    let mut events = Vec::new();
    let open = match known.order(&order) {
        None => {
            let released = ProductionOrder {
                id: order.clone(),
                product: row.id("FinalMaterialNId", "MaterialId")?,
                routing: row.id("ProcessNId", "RoutingId")?,
                quantity,
                release: row.time("EstimatedStartTime")?,
                due,
                priority,
                customer: row.opt_text("Customer")?.map(str::to_owned),
            };
            events.push(row.event(
                "-released",
                modified,
                EventKind::OrderReleased { order: released },
            ));
            true
        }
        Some(k) if k.open => {
            let quantity = differs(quantity, k.quantity).then_some(quantity);
            let due = (due != k.due).then_some(due);
            let priority = (priority != k.priority).then_some(priority);
            if quantity.is_some() || due.is_some() || priority.is_some() {
                events.push(row.event(
                    &format!("-changed-{stamp}"),
                    modified,
                    EventKind::OrderChanged {
                        order: order.clone(),
                        quantity,
                        due,
                        priority,
                    },
                ));
            }
            true
        }
        Some(_) => false,
    };
    if open && status == order_status::ABORTED {
        let reason = row
            .opt_text("Notes")?
            .unwrap_or("aborted in the MES")
            .to_owned();
        events.push(row.event(
            "-cancelled",
            modified,
            EventKind::OrderCancelled { order, reason },
        ));
    }
    Ok(events)
}

fn operation(row: &Reader<'_>, known: &dyn Known) -> Result<Vec<Event>, MapError> {
    let order: OrderId = row.id("WorkOrderNId", "OrderId")?;
    let step = row.step()?;
    let status = row.text("Status")?;
    let statuses = [
        operation_status::READY,
        operation_status::ACTIVE,
        operation_status::COMPLETE,
        operation_status::ABORTED,
    ];
    if !statuses.contains(&status) {
        return Err(row.fail(
            "Status",
            format!("`{status}` is none of Ready, Active, Complete, Aborted"),
        ));
    }
    let modified = row.time("ModifiedOn")?;
    let Some(header) = known.order(&order) else {
        return Err(row.fail(
            "WorkOrderNId",
            format!("work order `{order}` is not known yet: read its WorkOrder row first"),
        ));
    };
    if !header.open {
        return Ok(Vec::new());
    }
    let k = known.operation(&order, step);
    let started_at = row.opt_time("ActualStartTime")?;
    let ended_at = row.opt_time("ActualEndTime")?;
    let mut events = Vec::new();
    // A dispatch read late (the operation started meanwhile) is still the plan it was: say
    // what differs from the last dispatch known, before the start.
    {
        let unit: Option<UnitId> = row.opt_id("ToBeUsedMachine", "UnitId")?;
        let start = row.opt_time("EstimatedStartTime")?;
        let unit = unit.filter(|u| k.unit.as_ref() != Some(u));
        let start = start.filter(|s| k.start != Some(*s));
        if unit.is_some() || start.is_some() {
            let kind = EventKind::OperationDispatched {
                order: order.clone(),
                step,
                unit,
                start,
            };
            events.push(row.event(&format!("-dispatched-{}", modified.0), modified, kind));
        }
    }
    if let Some(at) = started_at.filter(|_| !k.started) {
        let kind = EventKind::OperationStarted {
            order: order.clone(),
            step,
            unit: row.id("ActualUsedMachine", "UnitId")?,
            members: row
                .texts("ActualUsedResources")?
                .into_iter()
                .map(Into::into)
                .collect(),
        };
        events.push(row.event("-started", at, kind));
    }
    if let Some(at) = ended_at.filter(|_| !k.completed) {
        let kind = EventKind::OperationCompleted {
            order,
            step,
            unit: row.id("ActualUsedMachine", "UnitId")?,
            good_quantity: row.number("ProducedQuantity")?,
            scrap_quantity: row.number("ScrappedQuantity")?,
            parameters: parameters(row)?,
        };
        events.push(row.event("-completed", at, kind));
    }
    Ok(events)
}

/// `ActualParameters`: `[{"Name": …, "Value": …}]`.
fn parameters(row: &Reader<'_>) -> Result<BTreeMap<String, f64>, MapError> {
    let Some(value) = row.value("ActualParameters") else {
        return Ok(BTreeMap::new());
    };
    let items = value
        .as_array()
        .ok_or_else(|| row.fail("ActualParameters", "expected an array"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let field = format!("ActualParameters[{i}]");
            let name = item
                .get("Name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty());
            let value = item
                .get("Value")
                .and_then(Value::as_f64)
                .filter(|v| v.is_finite());
            match (name, value) {
                (Some(name), Some(value)) => Ok((name.to_owned(), value)),
                (None, _) => Err(row.fail(&format!("{field}.Name"), "missing or empty")),
                (_, None) => {
                    Err(row.fail(&format!("{field}.Value"), "missing or not a finite number"))
                }
            }
        })
        .collect()
}

fn equipment(row: &Reader<'_>, known: &dyn Known) -> Result<Vec<Event>, MapError> {
    let unit: UnitId = row.id("NId", "UnitId")?;
    let status = row.text("Status")?;
    let state = wire::equipment_state_of(status).ok_or_else(|| {
        row.fail(
            "Status",
            format!("`{status}` is none of Running, Idle, Setup, Cleaning, Down"),
        )
    })?;
    if known.unit_state(&unit) == Some(state) {
        return Ok(Vec::new());
    }
    let since = row.time("StatusSince")?;
    let reason = row.opt_text("StatusReason")?.map(str::to_owned);
    let kind = EventKind::EquipmentStateChanged {
        unit,
        state,
        reason,
    };
    Ok(vec![row.event(&format!("-state-{}", since.0), since, kind)])
}
