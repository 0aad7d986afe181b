//! Reconciliation: does the genealogy add up?
//!
//! - **Consumption without a producer**: a lot or serial consumed into an order although no
//!   order produced it and no receipt brought it in.
//! - **Mass balance per batch** (per order or transformation): inputs and outputs summed per
//!   unit of measure; with the routing's expectation (planned quantity and expected yield)
//!   the actual yield (output / planned) is checked against the expected range.
//! - **Orphan serials**: serials with no origin (neither produced nor received) that are
//!   nevertheless packed, shipped, consumed or observed.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::graph::EdgeKind;
use crate::id::{IdKind, short};
use crate::index::{Index, NodeId};

/// What the routing expects of an order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Expectation {
    /// Quantity the order was planned to make.
    pub planned: f64,
    /// Lowest acceptable yield (output / planned).
    pub yield_low: f64,
    /// Highest plausible yield.
    pub yield_high: f64,
}

impl Expectation {
    /// The range around a routing's expected yield: `[expected - tolerance, 1 + tolerance]`.
    pub fn from_routing(planned: f64, expected_yield: f64, tolerance: f64) -> Expectation {
        Expectation {
            planned,
            yield_low: (expected_yield - tolerance).max(0.0),
            yield_high: 1.0 + tolerance,
        }
    }
}

/// A consumed item nobody produced or received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Unproduced {
    pub id: String,
    pub label: String,
    pub kind: IdKind,
    pub consumed: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// The orders it was consumed into, by label.
    pub orders: Vec<String>,
}

/// The verdict of a mass balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BalanceStatus {
    /// Yield within the expected range.
    Ok,
    /// Yield below the range.
    LowYield,
    /// Yield above the range.
    HighYield,
    /// Inputs consumed, nothing produced yet.
    NoOutput,
    /// No expectation to check against.
    Unchecked,
}

/// Inputs against outputs of one order or transformation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MassBalance {
    pub order: String,
    pub label: String,
    /// Consumed quantity per unit of measure (`ea` when unknown).
    pub inputs: BTreeMap<String, f64>,
    /// Produced quantity per unit of measure.
    pub outputs: BTreeMap<String, f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned: Option<f64>,
    /// Output / planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_yield: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expectation>,
    pub status: BalanceStatus,
}

/// A serial with no origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Orphan {
    pub id: String,
    pub label: String,
    /// What links it does have (`packed_into`, `shipped_to`, …, or `observed`).
    pub seen_as: Vec<String>,
}

/// The reconciliation report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReconcileReport {
    pub consumption_without_producer: Vec<Unproduced>,
    pub mass_balance: Vec<MassBalance>,
    pub orphan_serials: Vec<Orphan>,
    /// Batches whose status is not `ok` or `unchecked`.
    pub out_of_balance: usize,
}

fn has_origin(index: &Index, n: NodeId) -> bool {
    let b = index.balance(n);
    b.received > 0.0
        || index
            .in_edges(n)
            .iter()
            .any(|&e| index.edge_kind(e) == EdgeKind::ProducedFrom)
}

/// Reconciles the genealogy; `expectations` are keyed by the order's canonical id.
pub fn reconcile(index: &Index, expectations: &BTreeMap<String, Expectation>) -> ReconcileReport {
    let mut unproduced = Vec::new();
    let mut balances = Vec::new();
    let mut orphans = Vec::new();
    for n in 0..index.node_count() as NodeId {
        let kind = index.kind(n);
        let name = index.name(n);
        let consumed_into: Vec<_> = index
            .out_edges(n)
            .iter()
            .copied()
            .filter(|&e| index.edge_kind(e) == EdgeKind::ConsumedInto)
            .collect();
        if !consumed_into.is_empty() && !has_origin(index, n) && kind != IdKind::Product {
            let mut orders: Vec<String> = consumed_into
                .iter()
                .map(|&e| short(index.name(index.edge_to(e))).to_owned())
                .collect();
            orders.sort();
            orders.dedup();
            unproduced.push(Unproduced {
                id: name.to_owned(),
                label: short(name).to_owned(),
                kind,
                consumed: consumed_into
                    .iter()
                    .map(|&e| index.edge_quantity(e).unwrap_or(1.0))
                    .sum(),
                uom: consumed_into
                    .iter()
                    .find_map(|&e| index.edge_uom(e))
                    .map(str::to_owned),
                orders,
            });
        }
        if kind == IdKind::Serial && !has_origin(index, n) {
            let mut seen: Vec<String> = index
                .out_edges(n)
                .iter()
                .map(|&e| index.edge_kind(e).as_str().to_owned())
                .collect();
            seen.sort();
            seen.dedup();
            if seen.is_empty() {
                seen.push("observed".into());
            }
            orphans.push(Orphan {
                id: name.to_owned(),
                label: short(name).to_owned(),
                seen_as: seen,
            });
        }
        if kind == IdKind::Order {
            let mut inputs = BTreeMap::new();
            let mut outputs = BTreeMap::new();
            for &e in index.in_edges(n) {
                if index.edge_kind(e) == EdgeKind::ConsumedInto {
                    *inputs
                        .entry(index.edge_uom(e).unwrap_or("ea").to_owned())
                        .or_insert(0.0) += index.edge_quantity(e).unwrap_or(1.0);
                }
            }
            for &e in index.out_edges(n) {
                if index.edge_kind(e) == EdgeKind::ProducedFrom {
                    *outputs
                        .entry(index.edge_uom(e).unwrap_or("ea").to_owned())
                        .or_insert(0.0) += index.edge_quantity(e).unwrap_or(1.0);
                }
            }
            if inputs.is_empty() && outputs.is_empty() {
                continue;
            }
            let expected = expectations.get(name).copied();
            let produced: f64 = outputs.values().sum();
            let actual_yield = expected
                .filter(|x| x.planned > 0.0)
                .map(|x| produced / x.planned);
            let status = if outputs.is_empty() {
                BalanceStatus::NoOutput
            } else {
                match (actual_yield, expected) {
                    (Some(y), Some(x)) if y < x.yield_low - 1e-9 => BalanceStatus::LowYield,
                    (Some(y), Some(x)) if y > x.yield_high + 1e-9 => BalanceStatus::HighYield,
                    (Some(_), Some(_)) => BalanceStatus::Ok,
                    _ => BalanceStatus::Unchecked,
                }
            };
            balances.push(MassBalance {
                order: name.to_owned(),
                label: short(name).to_owned(),
                inputs,
                outputs,
                planned: expected.map(|x| x.planned),
                actual_yield,
                expected,
                status,
            });
        }
    }
    unproduced.sort_by(|a, b| a.id.cmp(&b.id));
    balances.sort_by(|a, b| a.order.cmp(&b.order));
    orphans.sort_by(|a, b| a.id.cmp(&b.id));
    let out_of_balance = balances
        .iter()
        .filter(|b| !matches!(b.status, BalanceStatus::Ok | BalanceStatus::Unchecked))
        .count();
    ReconcileReport {
        consumption_without_producer: unproduced,
        mass_balance: balances,
        orphan_serials: orphans,
        out_of_balance,
    }
}
