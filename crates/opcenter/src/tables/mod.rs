//! The emulator's side of the profile: [`Tables`] folds plant events (as the simulator emits
//! them) into the rows of the entity sets, stamping every row it writes with a `ModifiedOn`
//! later than any before, and hands the rows out in OData JSON shape.
//!
//! Stamps: a row written for an event at plant time `t` gets `ModifiedOn = t`, or one
//! millisecond after the previous stamp when that is not earlier, so stamps are strictly
//! increasing over all sets and a change feed (`ModifiedOn gt <cursor>`) misses nothing.
//! Event-like rows are keyed by the id of the event that made them (`NId`).
//!
//! Not carried: `member_attendance` (Opcenter's labour model is not part of the profile).

use std::collections::BTreeMap;

use model::{Catalog, Event, EventKind, Timestamp, UnitId};
use serde_json::{Map, Value, json};

mod material;

use crate::command::Applied;
use crate::sets::EntitySet;
use crate::wire::{
    equipment_status, guid, operation_status, order_status, priority_number, sequence_of, time_text,
};

/// Why an event could not be folded into rows; no row was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event `{event}` ({kind}): {message}")]
pub struct ApplyError {
    pub event: String,
    pub kind: &'static str,
    pub message: String,
}

/// A set that the profile does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("app `{app}` has no entity set `{set}`")]
pub struct UnknownSet {
    pub app: String,
    pub set: String,
}

type Row = Map<String, Value>;

/// The rows of every entity set, folded from events and changed by commands.
#[derive(Debug, Clone)]
pub struct Tables {
    catalog: Catalog,
    rows: BTreeMap<EntitySet, BTreeMap<String, Row>>,
    last_stamp: Option<Timestamp>,
    /// Commands carried out, by idempotency key: what was asked and what was answered.
    pub(crate) commands: BTreeMap<String, (String, crate::command::CommandAnswer)>,
}

impl Tables {
    /// Tables before any event: every unit of the plant an `Equipment` row, idle since
    /// `start` (as [`model::PlantState::initial`] has it).
    pub fn new(catalog: &Catalog, start: Timestamp) -> Tables {
        let mut tables = Tables {
            catalog: catalog.clone(),
            rows: BTreeMap::new(),
            last_stamp: None,
            commands: BTreeMap::new(),
        };
        for unit in &catalog.plant().units {
            let mut row = Row::new();
            row.insert("Name".into(), json!(unit.name));
            row.insert("LevelNId".into(), json!("Unit"));
            row.insert("Status".into(), json!("Idle"));
            row.insert("StatusReason".into(), Value::Null);
            row.insert("StatusSince".into(), json!(time_text(start)));
            tables.write(EntitySet::Equipment, unit.id.as_str(), start, row);
        }
        tables
    }

    /// The latest `ModifiedOn` written, if any row was.
    pub fn last_modified(&self) -> Option<Timestamp> {
        self.last_stamp
    }

    /// The rows of set `set` of app `app`, ordered by `ModifiedOn` (ties cannot occur).
    pub fn rows(&self, app: &str, set: &str) -> Result<Vec<Value>, UnknownSet> {
        let found = EntitySet::find(app, set).ok_or_else(|| UnknownSet {
            app: app.into(),
            set: set.into(),
        })?;
        Ok(self.set_rows(found))
    }

    /// The rows of `set`, ordered by `ModifiedOn`.
    pub fn set_rows(&self, set: EntitySet) -> Vec<Value> {
        let mut rows: Vec<&Row> = self
            .rows
            .get(&set)
            .into_iter()
            .flat_map(|r| r.values())
            .collect();
        rows.sort_by_key(|row| stamp_of(row));
        rows.into_iter().cloned().map(Value::Object).collect()
    }

    /// The rows of `set` stamped after `after` (a `ModifiedOn` text; empty for all), ordered
    /// by `ModifiedOn`: a change feed's page without the copying of rows that did not change.
    pub fn changed_since(&self, set: EntitySet, after: &str) -> Vec<Value> {
        let mut rows: Vec<&Row> = self
            .rows
            .get(&set)
            .into_iter()
            .flat_map(|r| r.values())
            .filter(|row| stamp_of(row) > after)
            .collect();
        rows.sort_by_key(|row| stamp_of(row));
        rows.into_iter().cloned().map(Value::Object).collect()
    }

    /// The row of `set` whose natural key is `nid`.
    pub fn row(&self, set: EntitySet, nid: &str) -> Option<&Map<String, Value>> {
        self.rows.get(&set)?.get(nid)
    }

    pub(crate) fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Folds one event into the rows it changes; `Ok(false)` when the profile does not carry
    /// it (`member_attendance`). An event that does not fit the rows (an operation of an
    /// order never released) changes nothing and is refused.
    pub fn apply(&mut self, event: &Event) -> Result<bool, ApplyError> {
        let fail = |message: String| ApplyError {
            event: event.id.to_string(),
            kind: event.kind.type_name(),
            message,
        };
        self.check(&event.kind).map_err(fail)?;
        let t = event.time;
        match &event.kind {
            EventKind::OrderReleased { order } => self.release(order, t),
            EventKind::OrderChanged {
                order,
                quantity,
                due,
                priority,
            } => {
                let mut changes = Row::new();
                if let Some(q) = quantity {
                    changes.insert("PlannedTargetQuantity".into(), json!(q));
                }
                if let Some(due) = due {
                    changes.insert("DueDate".into(), json!(time_text(*due)));
                }
                if let Some(p) = priority {
                    changes.insert("Priority".into(), json!(priority_number(*p)));
                }
                self.write(EntitySet::WorkOrder, order.as_str(), t, changes);
            }
            EventKind::OrderCancelled { order, reason } => self.cancel(order.as_str(), reason, t),
            EventKind::OperationStarted {
                order,
                step,
                unit,
                members,
            } => self.start(order.as_str(), *step, unit, members, t),
            EventKind::OperationCompleted {
                order,
                step,
                unit,
                good_quantity,
                scrap_quantity,
                parameters,
            } => {
                let parameters: Vec<Value> = parameters
                    .iter()
                    .map(|(name, value)| json!({"Name": name, "Value": value}))
                    .collect();
                self.complete(
                    order.as_str(),
                    *step,
                    unit,
                    (*good_quantity, *scrap_quantity),
                    parameters,
                    t,
                );
            }
            EventKind::OperationDispatched {
                order,
                step,
                unit,
                start,
            } => {
                let mut changes = Row::new();
                if let Some(unit) = unit {
                    changes.insert("ToBeUsedMachine".into(), json!(unit));
                }
                if let Some(start) = start {
                    changes.insert("EstimatedStartTime".into(), json!(time_text(*start)));
                }
                let nid = operation_nid(order.as_str(), *step);
                self.write(EntitySet::WorkOrderOperation, &nid, t, changes);
            }
            EventKind::EquipmentStateChanged {
                unit,
                state,
                reason,
            } => self.equipment_state(event, unit, equipment_status(*state), reason.as_deref()),
            EventKind::MemberAttendance { .. } => return Ok(false),
            EventKind::QualityResultRecorded { .. } => self.quality_result(event),
            EventKind::ReceiptExpected { .. }
            | EventKind::ReceiptCancelled { .. }
            | EventKind::MaterialReceived { .. }
            | EventKind::MaterialConsumed { .. }
            | EventKind::MaterialProduced { .. }
            | EventKind::MaterialShipped { .. } => self.material(event),
        }
        Ok(true)
    }

    /// What the rows must already hold for the event to fit them.
    fn check(&self, kind: &EventKind) -> Result<(), String> {
        let order_row = |order: &model::OrderId| {
            self.row(EntitySet::WorkOrder, order.as_str())
                .ok_or_else(|| format!("work order `{order}` was never released"))
        };
        let operation_row = |order: &model::OrderId, step: u32| {
            order_row(order)?;
            self.row(
                EntitySet::WorkOrderOperation,
                &operation_nid(order.as_str(), step),
            )
            .map(|_| ())
            .ok_or_else(|| format!("work order `{order}` has no step {step}"))
        };
        match kind {
            EventKind::OrderReleased { order } => {
                if self.row(EntitySet::WorkOrder, order.id.as_str()).is_some() {
                    return Err(format!("work order `{}` was already released", order.id));
                }
                if self.catalog.routing(&order.routing).is_none() {
                    return Err(format!("routing `{}` does not exist", order.routing));
                }
            }
            EventKind::OrderChanged { order, .. } | EventKind::OrderCancelled { order, .. } => {
                order_row(order)?;
            }
            EventKind::OperationStarted { order, step, .. }
            | EventKind::OperationCompleted { order, step, .. }
            | EventKind::OperationDispatched { order, step, .. } => operation_row(order, *step)?,
            EventKind::MaterialConsumed { order, .. }
            | EventKind::MaterialProduced { order, .. } => {
                order_row(order)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Writes `changes` into row `nid` of `set` (creating it with its `Id` and `NId`) and
    /// stamps it.
    pub(crate) fn write(&mut self, set: EntitySet, nid: &str, t: Timestamp, changes: Row) {
        let stamp = self.next_stamp(t);
        let row = self
            .rows
            .entry(set)
            .or_default()
            .entry(nid.to_owned())
            .or_insert_with(|| {
                let mut row = Row::new();
                row.insert("Id".into(), json!(guid(set.name(), nid)));
                row.insert("NId".into(), json!(nid));
                row.insert("ModifiedOn".into(), Value::Null);
                row
            });
        row.extend(changes);
        row.insert("ModifiedOn".into(), json!(time_text(stamp)));
    }

    /// Writes `fields` into row `nid` of `set` (created with its `Id` and `NId`) as no
    /// event would — the emulator's injected rows, e.g. one a connector cannot map — stamped
    /// like every write, after every row before; answers the row. `Id`, `NId` and
    /// `ModifiedOn` in `fields` are ignored: the tables own them.
    pub fn write_row(
        &mut self,
        set: EntitySet,
        nid: &str,
        t: Timestamp,
        mut fields: Map<String, Value>,
    ) -> Map<String, Value> {
        for owned in ["Id", "NId", "ModifiedOn"] {
            fields.remove(owned);
        }
        self.write(set, nid, t, fields);
        self.row(set, nid).cloned().unwrap_or_default()
    }

    fn next_stamp(&mut self, t: Timestamp) -> Timestamp {
        let stamp = match self.last_stamp {
            Some(last) if t <= last => Timestamp(last.0 + 1),
            _ => t,
        };
        self.last_stamp = Some(stamp);
        stamp
    }

    fn release(&mut self, order: &model::ProductionOrder, t: Timestamp) {
        let routing = self
            .catalog
            .routing(&order.routing)
            .expect("checked")
            .clone();
        let mut row = Row::new();
        row.insert("FinalMaterialNId".into(), json!(order.product));
        row.insert("ProcessNId".into(), json!(order.routing));
        row.insert("InitialQuantity".into(), json!(order.quantity));
        row.insert("PlannedTargetQuantity".into(), json!(order.quantity));
        row.insert("Priority".into(), json!(priority_number(order.priority)));
        row.insert("EstimatedStartTime".into(), json!(time_text(order.release)));
        row.insert("DueDate".into(), json!(time_text(order.due)));
        row.insert("Customer".into(), json!(order.customer));
        row.insert("Status".into(), json!(order_status::RELEASED));
        row.insert("Notes".into(), Value::Null);
        row.insert("ActualStartTime".into(), Value::Null);
        row.insert("ActualEndTime".into(), Value::Null);
        row.insert("ProducedQuantity".into(), json!(0.0));
        row.insert("ScrappedQuantity".into(), json!(0.0));
        row.insert("IsHold".into(), json!(false));
        row.insert("HoldReason".into(), Value::Null);
        let order_id = order.id.as_str();
        self.write(EntitySet::WorkOrder, order_id, t, row);
        for (step, definition) in (0u32..).zip(&routing.steps) {
            let mut row = Row::new();
            row.insert("WorkOrder_Id".into(), json!(guid("WorkOrder", order_id)));
            row.insert("WorkOrderNId".into(), json!(order_id));
            row.insert("Sequence".into(), json!(sequence_of(step)));
            row.insert("Name".into(), json!(definition.name));
            row.insert("Status".into(), json!(operation_status::READY));
            row.insert("TargetQuantity".into(), json!(order.quantity));
            for field in [
                "ToBeUsedMachine",
                "EstimatedStartTime",
                "ActualUsedMachine",
                "Equipment_Id",
                "ActualStartTime",
                "ActualEndTime",
            ] {
                row.insert(field.into(), Value::Null);
            }
            row.insert("ActualUsedResources".into(), json!([]));
            row.insert("ProducedQuantity".into(), json!(0.0));
            row.insert("ScrappedQuantity".into(), json!(0.0));
            row.insert("ActualParameters".into(), json!([]));
            self.write(
                EntitySet::WorkOrderOperation,
                &operation_nid(order_id, step),
                t,
                row,
            );
        }
    }

    fn cancel(&mut self, order: &str, reason: &str, t: Timestamp) {
        let mut row = Row::new();
        row.insert("Status".into(), json!(order_status::ABORTED));
        row.insert("Notes".into(), json!(reason));
        self.write(EntitySet::WorkOrder, order, t, row);
        let open: Vec<String> = self
            .rows
            .get(&EntitySet::WorkOrderOperation)
            .into_iter()
            .flat_map(|rows| rows.iter())
            .filter(|(_, row)| {
                row["WorkOrderNId"] == order && row["Status"] != operation_status::COMPLETE
            })
            .map(|(nid, _)| nid.clone())
            .collect();
        for nid in open {
            let mut row = Row::new();
            row.insert("Status".into(), json!(operation_status::ABORTED));
            self.write(EntitySet::WorkOrderOperation, &nid, t, row);
        }
    }

    fn start(
        &mut self,
        order: &str,
        step: u32,
        unit: &UnitId,
        members: &[model::MemberId],
        t: Timestamp,
    ) {
        let mut row = Row::new();
        row.insert("Status".into(), json!(operation_status::ACTIVE));
        row.insert("ActualUsedMachine".into(), json!(unit));
        row.insert(
            "Equipment_Id".into(),
            json!(guid("Equipment", unit.as_str())),
        );
        row.insert("ActualUsedResources".into(), json!(members));
        row.insert("ActualStartTime".into(), json!(time_text(t)));
        self.write(
            EntitySet::WorkOrderOperation,
            &operation_nid(order, step),
            t,
            row,
        );
        let header = self.row(EntitySet::WorkOrder, order).expect("checked");
        let mut changes = Row::new();
        if header["Status"] == order_status::RELEASED {
            changes.insert("Status".into(), json!(order_status::ACTIVE));
        }
        if header["ActualStartTime"].is_null() {
            changes.insert("ActualStartTime".into(), json!(time_text(t)));
        }
        if !changes.is_empty() {
            self.write(EntitySet::WorkOrder, order, t, changes);
        }
    }

    fn complete(
        &mut self,
        order: &str,
        step: u32,
        unit: &UnitId,
        (good, scrap): (f64, f64),
        parameters: Vec<Value>,
        t: Timestamp,
    ) {
        let mut row = Row::new();
        row.insert("Status".into(), json!(operation_status::COMPLETE));
        row.insert("ActualUsedMachine".into(), json!(unit));
        row.insert(
            "Equipment_Id".into(),
            json!(guid("Equipment", unit.as_str())),
        );
        row.insert("ActualEndTime".into(), json!(time_text(t)));
        row.insert("ProducedQuantity".into(), json!(good));
        row.insert("ScrappedQuantity".into(), json!(scrap));
        row.insert("ActualParameters".into(), Value::Array(parameters));
        self.write(
            EntitySet::WorkOrderOperation,
            &operation_nid(order, step),
            t,
            row,
        );
        let steps = self.steps_of(order);
        let mut changes = Row::new();
        changes.insert("ProducedQuantity".into(), json!(good));
        changes.insert("ScrappedQuantity".into(), json!(scrap));
        if step + 1 >= steps {
            changes.insert("Status".into(), json!(order_status::COMPLETE));
            changes.insert("ActualEndTime".into(), json!(time_text(t)));
        } else {
            changes.insert("Status".into(), json!(order_status::ACTIVE));
        }
        let header = self.row(EntitySet::WorkOrder, order).expect("checked");
        if header["ActualStartTime"].is_null() {
            changes.insert("ActualStartTime".into(), json!(time_text(t)));
        }
        self.write(EntitySet::WorkOrder, order, t, changes);
    }

    /// How many steps the work order's routing has.
    pub(crate) fn steps_of(&self, order: &str) -> u32 {
        self.row(EntitySet::WorkOrder, order)
            .and_then(|row| row["ProcessNId"].as_str())
            .and_then(|routing| self.catalog.routing(&routing.into()))
            .map_or(0, |routing| routing.steps.len() as u32)
    }

    fn equipment_state(
        &mut self,
        event: &Event,
        unit: &UnitId,
        status: &str,
        reason: Option<&str>,
    ) {
        let t = event.time;
        let mut row = Row::new();
        if self.row(EntitySet::Equipment, unit.as_str()).is_none() {
            let name = self
                .catalog
                .unit(unit)
                .map_or(unit.as_str(), |u| u.name.as_str());
            row.insert("Name".into(), json!(name));
            row.insert("LevelNId".into(), json!("Unit"));
        }
        row.insert("Status".into(), json!(status));
        row.insert("StatusReason".into(), json!(reason));
        row.insert("StatusSince".into(), json!(time_text(t)));
        self.write(EntitySet::Equipment, unit.as_str(), t, row);
        let mut history = Row::new();
        history.insert(
            "Equipment_Id".into(),
            json!(guid("Equipment", unit.as_str())),
        );
        history.insert("EquipmentNId".into(), json!(unit));
        history.insert("Date".into(), json!(time_text(t)));
        history.insert("Status".into(), json!(status));
        history.insert("Reason".into(), json!(reason));
        self.write(
            EntitySet::EquipmentStatusHistory,
            event.id.as_str(),
            t,
            history,
        );
    }

    fn quality_result(&mut self, event: &Event) {
        let EventKind::QualityResultRecorded {
            characteristic,
            value,
            sample,
            sample_size,
            order,
            lot,
            serial,
            unit,
        } = &event.kind
        else {
            return;
        };
        let ko = self
            .catalog
            .characteristic(characteristic)
            .is_some_and(|(_, c)| {
                c.lsl.is_some_and(|lsl| *value < lsl) || c.usl.is_some_and(|usl| *value > usl)
            });
        let fk = |set: &str, nid: &Option<String>| json!(nid.as_ref().map(|n| guid(set, n)));
        let order = order.as_ref().map(|o| o.to_string());
        let lot = lot.as_ref().map(|l| l.to_string());
        let unit = unit.as_ref().map(|u| u.to_string());
        let mut row = Row::new();
        row.insert("Date".into(), json!(time_text(event.time)));
        row.insert("CharacteristicNId".into(), json!(characteristic));
        row.insert("ResultValue".into(), json!(value));
        row.insert("IsKO".into(), json!(ko));
        row.insert("SampleNumber".into(), json!(sample));
        row.insert("SampleSize".into(), json!(sample_size));
        row.insert("WorkOrder_Id".into(), fk("WorkOrder", &order));
        row.insert("WorkOrderNId".into(), json!(order));
        row.insert(
            "MaterialTrackingUnit_Id".into(),
            fk("MaterialTrackingUnit", &lot),
        );
        row.insert("MaterialTrackingUnitNId".into(), json!(lot));
        row.insert("SerialNumber".into(), json!(serial));
        row.insert("Equipment_Id".into(), fk("Equipment", &unit));
        row.insert("EquipmentNId".into(), json!(unit));
        self.write(EntitySet::ResultHistory, event.id.as_str(), event.time, row);
    }

    /// Carries out a parsed command (see [`crate::command`]) at plant time `t`.
    /// An event it makes is named `cmd-<key>` after the command's idempotency key.
    pub(crate) fn carry_out(
        &mut self,
        key: &str,
        applied: Applied,
        t: Timestamp,
    ) -> Result<(), String> {
        match applied {
            Applied::Event(kind) => {
                let event = Event {
                    id: format!("cmd-{key}").into(),
                    time: t,
                    source: Some("opcenter-command".into()),
                    kind,
                };
                self.apply(&event).map(|_| ()).map_err(|e| e.message)
            }
            Applied::Hold { set, nid, hold } => {
                let mut row = Row::new();
                row.insert("IsHold".into(), json!(hold.is_some()));
                row.insert("HoldReason".into(), json!(hold));
                self.write(set, &nid, t, row);
                Ok(())
            }
        }
    }
}

/// The `NId` of step `step` of work order `order`: mixplane's operation id `<order>/<step>`.
pub fn operation_nid(order: &str, step: u32) -> String {
    format!("{order}/{step}")
}

fn stamp_of(row: &Row) -> &str {
    row.get("ModifiedOn").and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_row_is_stamped_after_every_row_and_keeps_its_key() {
        let catalog = sim::reference_catalog();
        let start = Timestamp::parse("2026-03-02T06:00:00Z").unwrap();
        let mut tables = Tables::new(&catalog, start);
        let before = tables.last_modified().unwrap();
        let mut fields = Map::new();
        fields.insert("Status".into(), json!("Exploded"));
        fields.insert("Id".into(), json!("not-the-id"));
        let row = tables.write_row(EntitySet::EquipmentStatusHistory, "poison-1", start, fields);
        assert_eq!(row["Id"], json!(guid("EquipmentStatusHistory", "poison-1")));
        assert_eq!(row["NId"], "poison-1");
        assert_eq!(row["Status"], "Exploded");
        let stamp = tables.last_modified().unwrap();
        assert!(stamp > before);
        assert_eq!(row["ModifiedOn"], json!(time_text(stamp)));
    }
}
