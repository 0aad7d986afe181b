//! Mapping of the rows that are facts (status history, material movements, quality results)
//! one to one, and of expected receipts against what is known of them.

use model::{EquipmentState, Event, EventKind, OrderId, ReceiptId};

use crate::map::{Known, MapError, Reader};
use crate::sets::EntitySet;
use crate::wire;

/// The one event an event-like row stands for, at the row's `Date`; a row naming a work
/// order mixplane does not know yet waits for it ([`MapError::Waiting`]).
pub(crate) fn event_row(row: &Reader<'_>, known: &dyn Known) -> Result<Event, MapError> {
    let time = row.time("Date")?;
    let kind = match row.set {
        EntitySet::EquipmentStatusHistory => EventKind::EquipmentStateChanged {
            unit: row.id("EquipmentNId", "UnitId")?,
            state: state(row)?,
            reason: row.opt_text("Reason")?.map(str::to_owned),
        },
        EntitySet::ResultHistory => EventKind::QualityResultRecorded {
            characteristic: row.id("CharacteristicNId", "CharacteristicId")?,
            value: row.number("ResultValue")?,
            sample: match row.opt_integer("SampleNumber")? {
                None => None,
                Some(n) => Some(
                    u64::try_from(n)
                        .map_err(|_| row.fail("SampleNumber", format!("{n} is negative")))?,
                ),
            },
            sample_size: row.opt_number("SampleSize")?,
            order: match row.opt_id("WorkOrderNId", "OrderId")? {
                Some(order) => Some(known_order(row, known, order)?),
                None => None,
            },
            lot: row.opt_id("MaterialTrackingUnitNId", "LotId")?,
            serial: row.opt_id("SerialNumber", "SerialId")?,
            unit: row.opt_id("EquipmentNId", "UnitId")?,
        },
        _ => movement(row, known)?,
    };
    Ok(row.event("", time, kind))
}

/// `order` when mixplane knows it, else the row waits for its `WorkOrder` row.
fn known_order(row: &Reader<'_>, known: &dyn Known, order: OrderId) -> Result<OrderId, MapError> {
    match known.order(&order) {
        Some(_) => Ok(order),
        None => Err(row.wait("WorkOrderNId", format!("work order `{order}`"))),
    }
}

fn state(row: &Reader<'_>) -> Result<EquipmentState, MapError> {
    let status = row.text("Status")?;
    wire::equipment_state_of(status).ok_or_else(|| {
        row.fail(
            "Status",
            format!("`{status}` is none of Running, Idle, Setup, Cleaning, Down"),
        )
    })
}

/// An `MTUOperationTracking` row: its `Action` says which movement.
fn movement(row: &Reader<'_>, known: &dyn Known) -> Result<EventKind, MapError> {
    let material = row.id("MaterialNId", "MaterialId")?;
    let quantity = row.number("Quantity")?;
    let serials = || -> Result<Vec<model::SerialId>, MapError> {
        Ok(row
            .texts("SerialNumbers")?
            .into_iter()
            .map(Into::into)
            .collect())
    };
    let lot = || row.opt_id::<model::LotId>("MaterialTrackingUnitNId", "LotId");
    let action = row.text("Action")?;
    Ok(match action {
        "Receive" => EventKind::MaterialReceived {
            material,
            lot: row.id("MaterialTrackingUnitNId", "LotId")?,
            quantity,
            supplier: row.opt_text("Supplier")?.map(str::to_owned),
            receipt: row.opt_id("ExpectedReceiptNId", "ReceiptId")?,
        },
        "Consume" => {
            let mut serials = serials()?;
            if serials.len() > 1 {
                return Err(row.fail("SerialNumbers", "a consumption names one serial at most"));
            }
            EventKind::MaterialConsumed {
                order: known_order(row, known, row.id("WorkOrderNId", "OrderId")?)?,
                step: row.step()?,
                material,
                lot: lot()?,
                serial: serials.pop(),
                quantity,
            }
        }
        "Produce" => EventKind::MaterialProduced {
            order: known_order(row, known, row.id("WorkOrderNId", "OrderId")?)?,
            material,
            lot: lot()?,
            serials: serials()?,
            quantity,
        },
        "Ship" => EventKind::MaterialShipped {
            material,
            lot: lot()?,
            serials: serials()?,
            quantity,
            customer: row.text("Customer")?.to_owned(),
        },
        other => {
            return Err(row.fail(
                "Action",
                format!("`{other}` is none of Receive, Consume, Produce, Ship"),
            ));
        }
    })
}

/// An `ExpectedReceipt` row: announced (or announced again with what changed), cancelled.
pub(crate) fn expected_receipt(
    row: &Reader<'_>,
    known: &dyn Known,
) -> Result<Vec<Event>, MapError> {
    let receipt: ReceiptId = row.id("NId", "ReceiptId")?;
    let modified = row.time("ModifiedOn")?;
    let status = row.text("Status")?;
    if !["Open", "Received", "Cancelled"].contains(&status) {
        return Err(row.fail(
            "Status",
            format!("`{status}` is none of Open, Received, Cancelled"),
        ));
    }
    let quantity = row.number("Quantity")?;
    let expected = row.time("ExpectedDate")?;
    let supplier = row.opt_text("Supplier")?.map(str::to_owned);
    let purchase_order = row.opt_text("PurchaseOrder")?.map(str::to_owned);
    let material: model::MaterialId = row.id("MaterialNId", "MaterialId")?;
    let announced = || EventKind::ReceiptExpected {
        receipt: receipt.clone(),
        material: material.clone(),
        quantity,
        expected,
        supplier: supplier.clone(),
        purchase_order: purchase_order.clone(),
    };
    let mut events = Vec::new();
    let open = match known.receipt(&receipt) {
        None => {
            events.push(row.event(&format!("-expected-{}", modified.0), modified, announced()));
            true
        }
        Some(k) if k.open => {
            let same = (k.quantity - quantity).abs() <= 1e-9 * quantity.abs().max(1.0)
                && k.expected == expected
                && k.supplier == supplier
                && k.purchase_order == purchase_order;
            if !same && status == "Open" {
                events.push(row.event(&format!("-expected-{}", modified.0), modified, announced()));
            }
            true
        }
        Some(_) => false,
    };
    if open && status == "Cancelled" {
        let reason = row.opt_text("Notes")?.map(str::to_owned);
        events.push(row.event(
            "-cancelled",
            modified,
            EventKind::ReceiptCancelled { receipt, reason },
        ));
    }
    Ok(events)
}
