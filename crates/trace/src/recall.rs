//! Recall simulation: everything downstream of a suspect lot, batch or serial (or of whatever
//! a unit made in a time window), with quantities and current status, as JSON, CSV and EPCIS.
//!
//! The affected set is the forward closure of the seeds (an item unpacked from a container
//! is not affected by what happened to the container afterwards). Each affected item gets a
//! status from the index's balances and dispositions (a container counts for its contents
//! only while they are packed in it):
//!
//! - `on_hold`: its latest disposition or a persistent disposition is a hold;
//! - `in_stock`: some quantity is still on hand (and, for packed items, the container did not
//!   ship);
//! - `shipped`: it, or the container it was packed into, shipped to a customer;
//! - `wip`: it was consumed into an order that has produced nothing yet;
//! - `consumed`: it was used up by orders that finished.
//!
//! Orders are `wip` until they produce, then `completed`. Customers are listed with the
//! quantity of affected material shipped to them.

use std::collections::BTreeMap;

use model::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::epcis::{Action, EpcisEvent, EventType, QuantityElement};
use crate::graph::EdgeKind;
use crate::id::{Id, IdKind, short};
use crate::index::{Direction, Filter, Index, NodeId};
use crate::query::QueryError;

/// Where a recall starts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecallRequest {
    /// A suspect lot, batch, serial or pallet (any accepted spelling).
    #[serde(default)]
    pub id: Option<String>,
    /// A unit whose output in the window is suspect.
    #[serde(default)]
    pub unit: Option<String>,
    /// Window start (inclusive) for `unit`.
    #[serde(default)]
    pub from: Option<Timestamp>,
    /// Window end (exclusive) for `unit`.
    #[serde(default)]
    pub to: Option<Timestamp>,
}

/// The current status of an affected item or order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Wip,
    InStock,
    OnHold,
    Shipped,
    Consumed,
    Completed,
}

model::wire_enum!(
    Status,
    "recall status",
    [Wip, InStock, OnHold, Shipped, Consumed, Completed]
);

/// One affected order, lot, serial or pallet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecallItem {
    pub id: String,
    pub label: String,
    pub kind: IdKind,
    pub status: Status,
    /// Made or received (orders: made).
    pub quantity: f64,
    /// Still on hand (0 for orders).
    pub on_hand: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// Hops from the nearest seed.
    pub depth: u32,
    /// Customers it (or its container) shipped to, by label.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customers: Vec<String>,
}

/// A customer that received affected material.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecallCustomer {
    pub id: String,
    pub label: String,
    /// Shipped quantity of affected material, per unit of measure (`ea` when unknown).
    pub quantities: BTreeMap<String, f64>,
    /// Affected items shipped to it.
    pub items: usize,
}

/// Counts over the whole recall.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecallTotals {
    pub orders: usize,
    pub lots: usize,
    pub serials: usize,
    pub pallets: usize,
    pub customers: usize,
    pub other: usize,
    /// Items per status.
    pub by_status: BTreeMap<String, usize>,
}

/// The recall's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecallReport {
    pub seeds: Vec<String>,
    pub orders: Vec<RecallItem>,
    pub lots: Vec<RecallItem>,
    pub serials: Vec<RecallItem>,
    pub pallets: Vec<RecallItem>,
    /// Affected products, assets, transactions and other ids.
    pub other: Vec<RecallItem>,
    pub customers: Vec<RecallCustomer>,
    pub totals: RecallTotals,
}

/// Why a recall cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecallError {
    #[error(transparent)]
    NotFound(#[from] QueryError),
    #[error("a recall needs an `id`, or a `unit` with a time window (`from`, `to`)")]
    NoSeed,
}

const EPS: f64 = 1e-9;

fn has_out(index: &Index, n: NodeId, kind: EdgeKind) -> bool {
    index
        .out_edges(n)
        .iter()
        .any(|&e| index.edge_kind(e) == kind)
}

/// The status of `n` (see the module docs).
pub fn status(index: &Index, n: NodeId) -> Status {
    status_at(index, n, 0)
}

fn status_at(index: &Index, n: NodeId, depth: u32) -> Status {
    if index.kind(n) == IdKind::Order {
        return if has_out(index, n, EdgeKind::ProducedFrom) {
            Status::Completed
        } else {
            Status::Wip
        };
    }
    if index.is_held(n) {
        return Status::OnHold;
    }
    let b = index.balance(n);
    let packed_parents = || {
        index
            .out_edges(n)
            .iter()
            .filter(|&&e| index.edge_kind(e) == EdgeKind::PackedInto && index.edge_holds(e))
            .map(|&e| index.edge_to(e))
    };
    if depth < 8 && packed_parents().any(|p| status_at(index, p, depth + 1) == Status::Shipped) {
        return Status::Shipped;
    }
    if b.on_hand() > EPS {
        return Status::InStock;
    }
    if b.shipped > EPS || has_out(index, n, EdgeKind::ShippedTo) {
        return Status::Shipped;
    }
    if b.consumed > EPS {
        let open = index.out_edges(n).iter().any(|&e| {
            index.edge_kind(e) == EdgeKind::ConsumedInto
                && !has_out(index, index.edge_to(e), EdgeKind::ProducedFrom)
        });
        return if open { Status::Wip } else { Status::Consumed };
    }
    Status::InStock
}

fn uom_of(index: &Index, n: NodeId) -> Option<String> {
    index
        .in_edges(n)
        .iter()
        .chain(index.out_edges(n))
        .find_map(|&e| index.edge_uom(e))
        .map(str::to_owned)
}

/// The seeds a request names.
pub fn seeds(index: &Index, request: &RecallRequest) -> Result<Vec<NodeId>, RecallError> {
    let mut seeds = Vec::new();
    if let Some(id) = &request.id {
        seeds.push(
            index
                .resolve(id)
                .ok_or_else(|| QueryError::NotFound(id.clone()))?,
        );
    }
    if let Some(unit) = &request.unit {
        let unit_node = Id::parse_as(IdKind::Unit, unit)
            .ok()
            .and_then(|u| index.node(&u.id))
            .or_else(|| index.resolve(unit))
            .ok_or_else(|| QueryError::NotFound(unit.clone()))?;
        let filter = Filter {
            max_depth: None,
            from: request.from,
            to: request.to,
        };
        let mut found: Vec<NodeId> = index
            .edges()
            .filter(|&e| {
                index.edge_location(e) == Some(unit_node)
                    && filter.from.is_none_or(|f| index.edge_time(e) >= f)
                    && filter.to.is_none_or(|t| index.edge_time(e) < t)
                    && matches!(
                        index.edge_kind(e),
                        EdgeKind::ConsumedInto | EdgeKind::ProducedFrom
                    )
            })
            .map(|e| index.edge_to(e))
            .collect();
        found.sort_unstable();
        found.dedup();
        seeds.extend(found);
    }
    if request.id.is_none() && request.unit.is_none() {
        return Err(RecallError::NoSeed);
    }
    Ok(seeds)
}

/// Simulates a recall (see the module docs).
pub fn recall(index: &Index, request: &RecallRequest) -> Result<RecallReport, RecallError> {
    let seeds = seeds(index, request)?;
    let reached = index.reach(&seeds, Direction::Forward, &Filter::default());
    let mut affected = vec![false; 0];
    affected.resize(index.node_count(), false);
    for r in &reached {
        affected[r.node as usize] = true;
    }
    let mut report = RecallReport {
        seeds: seeds.iter().map(|&s| index.name(s).to_owned()).collect(),
        orders: Vec::new(),
        lots: Vec::new(),
        serials: Vec::new(),
        pallets: Vec::new(),
        other: Vec::new(),
        customers: Vec::new(),
        totals: RecallTotals::default(),
    };
    let mut customers: BTreeMap<NodeId, RecallCustomer> = BTreeMap::new();
    for r in &reached {
        let n = r.node;
        let kind = index.kind(n);
        if kind == IdKind::Customer {
            continue;
        }
        let b = index.balance(n);
        let status = status(index, n);
        let mut shipped_to = Vec::new();
        for &e in index.out_edges(n) {
            // A customer the trace did not reach (a container shipped after the suspect
            // item left it) received nothing affected.
            if index.edge_kind(e) == EdgeKind::ShippedTo && affected[index.edge_to(e) as usize] {
                let c = index.edge_to(e);
                let name = index.name(c);
                let entry = customers.entry(c).or_insert_with(|| RecallCustomer {
                    id: name.to_owned(),
                    label: short(name).to_owned(),
                    quantities: BTreeMap::new(),
                    items: 0,
                });
                let uom = index.edge_uom(e).unwrap_or("ea").to_owned();
                *entry.quantities.entry(uom).or_default() += index.edge_quantity(e).unwrap_or(1.0);
                entry.items += 1;
                shipped_to.push(short(name).to_owned());
            }
        }
        // Containers that shipped carry their contents' customers too.
        if shipped_to.is_empty() && status == Status::Shipped {
            let mut stack = vec![(n, 0)];
            while let Some((m, d)) = stack.pop() {
                for &e in index.out_edges(m) {
                    match index.edge_kind(e) {
                        EdgeKind::ShippedTo if affected[index.edge_to(e) as usize] => {
                            shipped_to.push(short(index.name(index.edge_to(e))).to_owned())
                        }
                        EdgeKind::PackedInto if d < 8 && index.edge_holds(e) => {
                            stack.push((index.edge_to(e), d + 1))
                        }
                        _ => {}
                    }
                }
            }
        }
        shipped_to.sort();
        shipped_to.dedup();
        let quantity = match kind {
            IdKind::Order => index
                .out_edges(n)
                .iter()
                .filter(|&&e| index.edge_kind(e) == EdgeKind::ProducedFrom)
                .map(|&e| index.edge_quantity(e).unwrap_or(1.0))
                .sum(),
            IdKind::Pallet if b.produced + b.received <= EPS => index
                .in_edges(n)
                .iter()
                .filter(|&&e| index.edge_kind(e) == EdgeKind::PackedInto && index.edge_holds(e))
                .map(|&e| index.edge_quantity(e).unwrap_or(1.0))
                .sum(),
            IdKind::Serial if b.produced + b.received <= EPS => 1.0,
            _ => b.produced + b.received,
        };
        let item = RecallItem {
            id: index.name(n).to_owned(),
            label: short(index.name(n)).to_owned(),
            kind,
            status,
            quantity,
            on_hand: if kind == IdKind::Order {
                0.0
            } else {
                b.on_hand().max(0.0)
            },
            uom: uom_of(index, n),
            depth: r.depth,
            customers: shipped_to,
        };
        *report
            .totals
            .by_status
            .entry(status.as_str().to_owned())
            .or_default() += 1;
        match kind {
            IdKind::Order => report.orders.push(item),
            IdKind::Lot => report.lots.push(item),
            IdKind::Serial => report.serials.push(item),
            IdKind::Pallet => report.pallets.push(item),
            _ => report.other.push(item),
        }
    }
    report.customers = customers.into_values().collect();
    report.totals.orders = report.orders.len();
    report.totals.lots = report.lots.len();
    report.totals.serials = report.serials.len();
    report.totals.pallets = report.pallets.len();
    report.totals.customers = report.customers.len();
    report.totals.other = report.other.len();
    Ok(report)
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

impl RecallReport {
    /// Every affected item (orders, lots, serials, pallets, other) in that order.
    pub fn items(&self) -> impl Iterator<Item = &RecallItem> {
        self.orders
            .iter()
            .chain(&self.lots)
            .chain(&self.serials)
            .chain(&self.pallets)
            .chain(&self.other)
    }

    /// One row per affected item and per customer:
    /// `category,id,label,kind,status,quantity,on_hand,uom,depth,customers`.
    pub fn to_csv(&self) -> String {
        let mut out =
            String::from("category,id,label,kind,status,quantity,on_hand,uom,depth,customers\n");
        for item in self.items() {
            let category = match item.kind {
                IdKind::Order => "order",
                IdKind::Lot => "lot",
                IdKind::Serial => "serial",
                IdKind::Pallet => "pallet",
                _ => "other",
            };
            out.push_str(&format!(
                "{category},{},{},{},{},{},{},{},{},{}\n",
                csv_field(&item.id),
                csv_field(&item.label),
                item.kind.as_str(),
                item.status.as_str(),
                item.quantity,
                item.on_hand,
                csv_field(item.uom.as_deref().unwrap_or("")),
                item.depth,
                csv_field(&item.customers.join(";")),
            ));
        }
        for c in &self.customers {
            for (uom, q) in &c.quantities {
                out.push_str(&format!(
                    "customer,{},{},customer,shipped,{q},0,{},,{}\n",
                    csv_field(&c.id),
                    csv_field(&c.label),
                    csv_field(uom),
                    c.items,
                ));
            }
        }
        out
    }

    /// The recall as EPCIS ObjectEvents at `time` (passed in; no clock here): shipped items
    /// get disposition `recalled`, everything still in the plant `non_conformant`, both with
    /// bizStep `holding`. Event ids are `urn:mixplane:recall:<recall_id>:<n>`.
    pub fn to_epcis(&self, recall_id: &str, time: Timestamp) -> Vec<EpcisEvent> {
        let mut events = Vec::new();
        for (n, (disposition, shipped)) in [("recalled", true), ("non_conformant", false)]
            .into_iter()
            .enumerate()
        {
            let mut e = EpcisEvent::new(
                EventType::ObjectEvent,
                format!("urn:mixplane:recall:{recall_id}:{}", n + 1),
                time,
            );
            e.action = Some(Action::Observe);
            e.biz_step = Some("holding".into());
            e.disposition = Some(disposition.into());
            for item in self.lots.iter().chain(&self.serials).chain(&self.pallets) {
                if (item.status == Status::Shipped) != shipped {
                    continue;
                }
                match item.kind {
                    IdKind::Lot => e.quantity_list.push(QuantityElement {
                        epc_class: item.id.clone(),
                        quantity: Some(if shipped {
                            item.quantity
                        } else {
                            item.on_hand.max(item.quantity)
                        }),
                        uom: item.uom.clone(),
                    }),
                    _ => e.epc_list.push(item.id.clone()),
                }
            }
            if !e.epc_list.is_empty() || !e.quantity_list.is_empty() {
                events.push(e);
            }
        }
        events
    }
}
