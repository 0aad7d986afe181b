//! Material-app rows folded from plant events: lots (`MaterialTrackingUnit`), serial items
//! (`ProducedMaterialItem`), their movements (`MTUOperationTracking`) and expected receipts.

use model::{Event, EventKind};
use serde_json::{Value, json};

use super::{Row, Tables, operation_nid};
use crate::sets::EntitySet;
use crate::wire::{self, guid, time_text};

/// Material-app rows: lots, serial items, their movements and expected receipts.
impl Tables {
    pub(super) fn material(&mut self, event: &Event) {
        let t = event.time;
        let (action, material, lot, serials, quantity) = match &event.kind {
            EventKind::ReceiptExpected {
                receipt,
                material,
                quantity,
                expected,
                supplier,
                purchase_order,
            } => {
                let mut row = Row::new();
                row.insert("MaterialNId".into(), json!(material));
                row.insert("Quantity".into(), json!(quantity));
                row.insert("ExpectedDate".into(), json!(time_text(*expected)));
                row.insert("Supplier".into(), json!(supplier));
                row.insert("PurchaseOrder".into(), json!(purchase_order));
                row.insert("Status".into(), json!("Open"));
                row.insert("Notes".into(), Value::Null);
                self.write(EntitySet::ExpectedReceipt, receipt.as_str(), t, row);
                return;
            }
            EventKind::ReceiptCancelled { receipt, reason } => {
                let mut row = Row::new();
                row.insert("Status".into(), json!("Cancelled"));
                row.insert("Notes".into(), json!(reason));
                self.write(EntitySet::ExpectedReceipt, receipt.as_str(), t, row);
                return;
            }
            EventKind::MaterialReceived {
                material,
                lot,
                quantity,
                receipt,
                ..
            } => {
                if let Some(receipt) = receipt {
                    let mut row = Row::new();
                    row.insert("Status".into(), json!("Received"));
                    self.write(EntitySet::ExpectedReceipt, receipt.as_str(), t, row);
                }
                ("Receive", material, Some(lot), Vec::new(), *quantity)
            }
            EventKind::MaterialConsumed {
                material,
                lot,
                serial,
                quantity,
                ..
            } => (
                "Consume",
                material,
                lot.as_ref(),
                serial.iter().cloned().collect(),
                *quantity,
            ),
            EventKind::MaterialProduced {
                material,
                lot,
                serials,
                quantity,
                ..
            } => (
                "Produce",
                material,
                lot.as_ref(),
                serials.clone(),
                *quantity,
            ),
            EventKind::MaterialShipped {
                material,
                lot,
                serials,
                quantity,
                ..
            } => ("Ship", material, lot.as_ref(), serials.clone(), *quantity),
            _ => return,
        };
        if let Some(lot) = lot {
            self.move_lot(event, action, material, lot.as_str(), quantity);
        }
        for serial in &serials {
            self.move_serial(event, action, material, serial.as_str());
        }
        self.track(
            event,
            action,
            material,
            lot.map(|l| l.as_str()),
            &serials,
            quantity,
        );
    }

    fn move_lot(
        &mut self,
        event: &Event,
        action: &str,
        material: &model::MaterialId,
        lot: &str,
        q: f64,
    ) {
        let existing = self.row(EntitySet::MaterialTrackingUnit, lot).cloned();
        let number = |field: &str| {
            existing
                .as_ref()
                .and_then(|r| r[field].as_f64())
                .unwrap_or(0.0)
        };
        let mut row = Row::new();
        if existing.is_none() {
            let uom = self
                .catalog
                .material(material)
                .map_or("ea", |m| m.uom.as_str());
            row.insert("MaterialNId".into(), json!(material));
            row.insert("UoMNId".into(), json!(uom));
            for field in [
                "ReceivedQuantity",
                "ProducedQuantity",
                "ConsumedQuantity",
                "ShippedQuantity",
            ] {
                row.insert(field.into(), json!(0.0));
            }
            row.insert("ProducedByWorkOrderNId".into(), Value::Null);
            row.insert("IsHold".into(), json!(false));
            row.insert("HoldReason".into(), Value::Null);
        }
        let (field, sign) = match action {
            "Receive" => ("ReceivedQuantity", 1.0),
            "Produce" => ("ProducedQuantity", 1.0),
            "Consume" => ("ConsumedQuantity", -1.0),
            _ => ("ShippedQuantity", -1.0),
        };
        row.insert(field.into(), json!(number(field) + q));
        let on_hand = number("Quantity") + sign * q;
        row.insert("Quantity".into(), json!(on_hand));
        row.insert(
            "Status".into(),
            json!(if on_hand > 1e-9 {
                "Available"
            } else {
                "Exhausted"
            }),
        );
        if let EventKind::MaterialProduced { order, .. } = &event.kind {
            row.insert("ProducedByWorkOrderNId".into(), json!(order));
        }
        self.write(EntitySet::MaterialTrackingUnit, lot, event.time, row);
    }

    fn move_serial(
        &mut self,
        event: &Event,
        action: &str,
        material: &model::MaterialId,
        serial: &str,
    ) {
        let mut row = Row::new();
        if self.row(EntitySet::ProducedMaterialItem, serial).is_none() {
            row.insert("MaterialNId".into(), json!(material));
            for field in [
                "WorkOrderNId",
                "WorkOrder_Id",
                "ConsumedByWorkOrderNId",
                "Customer",
                "HoldReason",
            ] {
                row.insert(field.into(), Value::Null);
            }
            row.insert("IsHold".into(), json!(false));
        }
        match &event.kind {
            EventKind::MaterialProduced { order, .. } => {
                row.insert("WorkOrderNId".into(), json!(order));
                row.insert(
                    "WorkOrder_Id".into(),
                    json!(guid("WorkOrder", order.as_str())),
                );
            }
            EventKind::MaterialConsumed { order, .. } => {
                row.insert("ConsumedByWorkOrderNId".into(), json!(order));
            }
            EventKind::MaterialShipped { customer, .. } => {
                row.insert("Customer".into(), json!(customer));
            }
            _ => {}
        }
        let status = match action {
            "Produce" => "Produced",
            "Consume" => "Consumed",
            "Ship" => "Shipped",
            _ => "Received",
        };
        row.insert("Status".into(), json!(status));
        self.write(EntitySet::ProducedMaterialItem, serial, event.time, row);
    }

    fn track(
        &mut self,
        event: &Event,
        action: &str,
        material: &model::MaterialId,
        lot: Option<&str>,
        serials: &[model::SerialId],
        quantity: f64,
    ) {
        let mut row = Row::new();
        row.insert("Date".into(), json!(time_text(event.time)));
        row.insert("Action".into(), json!(action));
        row.insert("MaterialNId".into(), json!(material));
        row.insert("MaterialTrackingUnitNId".into(), json!(lot));
        row.insert(
            "MaterialTrackingUnit_Id".into(),
            json!(lot.map(|l| guid("MaterialTrackingUnit", l))),
        );
        row.insert("SerialNumbers".into(), json!(serials));
        row.insert("Quantity".into(), json!(quantity));
        let (order, step, supplier, customer, receipt) = match &event.kind {
            EventKind::MaterialReceived {
                supplier, receipt, ..
            } => (
                None,
                None,
                supplier.clone(),
                None,
                receipt.as_ref().map(|r| r.to_string()),
            ),
            EventKind::MaterialConsumed { order, step, .. } => {
                (Some(order.as_str()), Some(*step), None, None, None)
            }
            EventKind::MaterialProduced { order, .. } => {
                (Some(order.as_str()), None, None, None, None)
            }
            EventKind::MaterialShipped { customer, .. } => {
                (None, None, None, Some(customer.clone()), None)
            }
            _ => (None, None, None, None, None),
        };
        row.insert("WorkOrderNId".into(), json!(order));
        row.insert(
            "WorkOrder_Id".into(),
            json!(order.map(|o| guid("WorkOrder", o))),
        );
        row.insert(
            "WorkOrderOperation_Id".into(),
            json!(
                order
                    .zip(step)
                    .map(|(o, s)| guid("WorkOrderOperation", &operation_nid(o, s)))
            ),
        );
        row.insert("Sequence".into(), json!(step.map(wire::sequence_of)));
        row.insert("Supplier".into(), json!(supplier));
        row.insert("Customer".into(), json!(customer));
        row.insert("ExpectedReceiptNId".into(), json!(receipt));
        self.write(
            EntitySet::MtuOperationTracking,
            event.id.as_str(),
            event.time,
            row,
        );
    }
}
