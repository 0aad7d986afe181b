//! What a run returns besides the events: the ground truth the engines are scored against
//! (kept apart from the events, which are all an engine may see) and a summary for people.

use std::collections::BTreeMap;

use model::{CharacteristicId, Event, LotId, OrderId, Timestamp, UnitId};
use serde::{Deserialize, Serialize};

use crate::options::DriftSpec;

/// Everything a run produces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimOutput {
    /// The plant's history, in non-decreasing time order, ids `sim-<seed>-<counter>`.
    pub events: Vec<Event>,
    /// What really happened, for scoring engines; never part of the events.
    pub truth: GroundTruth,
    pub summary: Summary,
    /// Purchased-material receipts the run scheduled (its open purchase orders), in due
    /// order: the ATP dates a scheduler may know in advance. Each is
    /// announced by a `receipt_expected` promising `due` and arrives as a
    /// `material_received` naming it at `arrived` (later than `due` when it was late).
    pub purchasing: Vec<PurchaseReceipt>,
}

/// One scheduled delivery of purchased material.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchaseReceipt {
    /// The expected receipt's id in the events.
    pub receipt: model::ReceiptId,
    /// When the supplier promised it.
    pub due: Timestamp,
    /// When it arrived.
    pub arrived: Timestamp,
    pub material: model::MaterialId,
    pub quantity: f64,
    pub supplier: String,
    /// Expedited for an order that arrived during the run (not known at the start).
    pub expedited: bool,
}

/// The faults and facts that were injected or measured behind the events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    pub seed: u64,
    pub start: Timestamp,
    pub end: Timestamp,
    pub breakdowns: Vec<BreakdownTruth>,
    pub drifts: Vec<DriftTruth>,
    /// The resource with the highest busy fraction.
    pub bottleneck: Option<ResourceUtilisation>,
    /// Every unit and pool, busiest first.
    pub utilisation: Vec<ResourceUtilisation>,
    /// Orders that arrived during the run (not in the plant's order book): customers' rush
    /// orders (`RUSH-…`) and the make-to-stock orders planned to feed them (`MRP-…`).
    pub arrived_orders: Vec<OrderId>,
    /// Times a process step started later than its predecessor's `max_wait_minutes` allowed.
    pub max_wait_violations: Vec<MaxWaitViolation>,
    /// How a certification level scales the scrap of discrete and repetitive steps (and,
    /// a twelfth as much, their duration): the answer skill-gap analysis should find.
    pub scrap_multiplier_by_level: BTreeMap<u8, f64>,
}

/// One injected breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakdownTruth {
    pub unit: UnitId,
    pub start: Timestamp,
    /// When the repair ends (may lie after the run's end).
    pub end: Timestamp,
    pub repair_minutes: f64,
    pub failure_mode: String,
    /// The order whose operation was interrupted.
    pub order: Option<OrderId>,
}

/// One injected drift and where it landed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftTruth {
    pub spec: DriftSpec,
    pub start: Timestamp,
    /// Offset reached at the run's end, in the target's unit of measure.
    pub magnitude_at_end: f64,
    /// Lots made by operations that ran with a non-zero offset (parameter drifts).
    pub affected_lots: Vec<LotId>,
    /// Orders whose measurements or parameters carried a non-zero offset.
    pub affected_orders: Vec<OrderId>,
    /// Characteristics expected to respond: the drifted one, or for a parameter drift the
    /// inspection characteristics of the drifted product and of every product made from it.
    pub downstream_characteristics: Vec<CharacteristicId>,
}

/// How busy a unit or pool was over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceUtilisation {
    /// A unit id or a pool id.
    pub resource: String,
    /// `unit` or `pool`.
    pub kind: String,
    /// Fraction of the run busy (units: running, setup or cleaning; pools: member-time held).
    pub utilisation: f64,
}

/// A process step that waited longer than allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaxWaitViolation {
    pub order: OrderId,
    pub step: u32,
    pub allowed_minutes: f64,
    pub waited_minutes: f64,
}

/// Figures a CLI shows after a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub start: Timestamp,
    pub end: Timestamp,
    pub events: u64,
    pub events_by_type: BTreeMap<String, u64>,
    pub orders_released: u64,
    /// Completed orders per mode (`discrete`, `process`, `repetitive`).
    pub orders_completed_by_mode: BTreeMap<String, u64>,
    pub orders_completed_on_time: u64,
    pub orders_completed_late: u64,
    pub orders_cancelled: u64,
    /// Released orders neither completed nor cancelled by the end, per mode.
    pub orders_open_by_mode: BTreeMap<String, u64>,
    pub work_centers: Vec<WorkCenterSummary>,
    pub units: Vec<UnitSummary>,
    /// Lots made by production orders (batches, lot codes).
    pub lots_produced: u64,
    /// Purchased lots received.
    pub lots_received: u64,
    pub serials_produced: u64,
    pub shipments: u64,
    pub breakdowns: u64,
    pub changeovers: u64,
    pub cip_cycles: u64,
    pub quality: Vec<QualitySummary>,
}

/// Time shares of one work center (mean over its units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkCenterSummary {
    pub work_center: String,
    pub mode: String,
    pub units: u32,
    /// Fraction of simulated time running.
    pub utilisation: f64,
    pub setup: f64,
    pub cleaning: f64,
    pub down: f64,
}

/// Time shares of one unit by equipment state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitSummary {
    pub unit: UnitId,
    pub running: f64,
    pub idle: f64,
    pub setup: f64,
    pub cleaning: f64,
    pub down: f64,
}

/// Results of one characteristic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualitySummary {
    pub characteristic: CharacteristicId,
    pub results: u64,
    pub mean: f64,
    /// Results outside the specification limits (variables data only).
    pub out_of_spec: u64,
}

/// What a [`crate::Live::replan`] did with the operations it was given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Replanned {
    /// Operations now planned where and when the plan said.
    pub applied: usize,
    /// Operations left as they were, each with the reason.
    pub skipped: Vec<SkippedOperation>,
}

/// An operation a replan could not move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedOperation {
    pub order: OrderId,
    pub step: u32,
    pub unit: UnitId,
    pub reason: String,
}
