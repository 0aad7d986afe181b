//! The solver's compiled model and its schedule generation scheme (the decoder).
//!
//! [`Model::compile`] turns a validated [`PlantProblem`] into flat index arrays: per unit its
//! available intervals (shift windows inside the horizon, always after it, minus downtime),
//! per pool a free-capacity step profile, per material its receipts. Operations linked by a
//! maximum time lag form a *group* that is placed together.
//!
//! A [`Genome`] (a priority order of groups plus an optional preferred unit per operation) is
//! decoded by a serial schedule generation scheme: the eligible group of best priority is
//! placed at the earliest feasible start of each member — after its predecessors plus min
//! lag, inside a unit window together with its setup (changeover + CIP from the unit's last
//! operation), with pool capacity free over the whole run and material on hand from the start
//! on (consumption never makes any later level negative). A max-lag violation raises the
//! predecessor's lower bound and the group is placed again (right-shifting the chain). A
//! group short of material waits until a producer of it is placed. Operations are appended
//! to their unit's sequence, so the setup rules only ever look at the unit's last operation.
//! Every decoded schedule is feasible by construction; the independent checker confirms it.
//!
//! The types of the compiled model live here; `compile` builds it, `genome` holds the
//! genome and the decoded result, `state` the resource state the decoder places into, and
//! `decode` the decoder, the priority rules and the first-feasible construction.

mod compile;
mod decode;
mod genome;
mod state;

use std::collections::HashMap;

pub use decode::{Rule, construct, decode, initial};
pub(crate) use genome::placements;
pub use genome::{DecodeError, Decoded, Genome, Score};

use super::problem::Objective;

pub(crate) const INF: i64 = i64::MAX / 4;

#[derive(Debug, Clone)]
pub(crate) struct Alt {
    pub unit: usize,
    pub dur: i64,
    /// Changeover key of this operation in the unit's table.
    pub key: Option<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct Op {
    pub release: i64,
    pub order: usize,
    pub alts: Vec<Alt>,
    /// (pred, min lag, max lag)
    pub preds: Vec<(usize, i64, Option<i64>)>,
    pub succs: Vec<usize>,
    pub product: Option<u32>,
    /// A CIP is due right before this operation, whatever ran before it.
    pub cip_before: bool,
    pub pools: Vec<(usize, i64)>,
    pub consumes: Vec<(usize, f64)>,
    pub produces: Vec<(usize, f64)>,
    pub fixed: Option<(usize, i64)>,
    pub group: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct Cip {
    pub minutes: i64,
    pub cost: f64,
    pub on_product_change: bool,
    pub after_batches: Option<u32>,
    pub max_run: Option<i64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Unit {
    /// Sorted, disjoint available intervals; the last one ends at [`INF`] unless down.
    pub avail: Vec<(i64, i64)>,
    pub table: Option<usize>,
    pub cip: Option<Cip>,
}

#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub default: (i64, f64),
    pub entries: HashMap<(u32, u32), (i64, f64)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub due: Option<i64>,
    pub weight: f64,
}

/// The compiled problem.
#[derive(Debug, Clone)]
pub struct Model {
    pub(crate) ops: Vec<Op>,
    pub(crate) units: Vec<Unit>,
    pub(crate) tables: Vec<Table>,
    /// Free capacity step profile per pool: (from time, capacity), first at -INF.
    pub(crate) pool_caps: Vec<Vec<(i64, i64)>>,
    pub(crate) mat_initial: Vec<f64>,
    pub(crate) mat_receipts: Vec<Vec<(i64, f64)>>,
    pub(crate) orders: Vec<Order>,
    /// Members of each group in topological order.
    pub(crate) groups: Vec<Vec<usize>>,
    /// Groups in a topological order of the group graph.
    pub(crate) topo_groups: Vec<usize>,
    pub(crate) weights: Objective,
    /// Per op: reference (unit, start) for the stability term.
    pub(crate) reference: Vec<Option<(usize, i64)>>,
    /// Time after which every unit and pool is free of calendars, dips and downtime.
    pub(crate) frontier: i64,
    pub(crate) op_ids: Vec<String>,
    pub(crate) unit_ids: Vec<String>,
    pub(crate) mat_ids: Vec<String>,
}
