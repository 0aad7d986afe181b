//! The native mixed-mode problem format: plain serialisable data with a JSON Schema.
//!
//! Time is integer minutes counted from `horizon_start` (the only wall-clock instant, an RFC
//! 3339 [`Timestamp`] at the edge). A problem lists:
//! - **units** with their availability (calendar shifts expanded over the horizon as windows;
//!   planned maintenance and live downtime as `downtime`), an optional changeover table and
//!   CIP rule. Inside the horizon a unit with `availability` is usable only inside those
//!   windows; from `horizon_minutes` on it is usable whenever it is not down;
//! - **changeover tables** keyed by product family or by an attribute (time and cost);
//! - **pools** of secondary resources (certified technicians, mobile tanks, test stations, an
//!   oven) with a capacity, their own availability and capacity dips over time;
//! - **materials** with initial stock and purchased receipts on ATP dates;
//! - **orders** with release, due date and weight;
//! - **operations** of the orders: precedence with minimum and maximum time lags
//!   (`start(succ) >= end(pred) + min_lag`, `start(succ) <= end(pred) + max_lag`), alternative
//!   units with unit-dependent durations (fixed minutes, or a line rate over `quantity`), the
//!   changeover keys, pool requirements held while the operation runs, material consumed at
//!   its start and produced at its end, and `fixed` (frozen or in-progress: unit and start
//!   never change).
//!
//! The sequence-dependent setup before an operation on a unit is its changeover (from the
//! previous operation's key) plus a CIP when the unit's rule calls for one; the setup runs on
//! the unit right before the operation, inside the same availability window.
//!
//! [`PlantProblem::validate`] reports malformed input with the id and field at fault, and
//! impossible input (no unit can run an operation, a precedence cycle, a pool requirement
//! above capacity, a material that can never be available) as typed [`ProblemError`]s.

use std::collections::{BTreeMap, HashMap, HashSet};

use model::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The version of the native problem format.
pub const PROBLEM_SCHEMA_VERSION: u32 = 1;

fn default_version() -> u32 {
    PROBLEM_SCHEMA_VERSION
}

fn one() -> f64 {
    1.0
}

/// A half-open interval `[start, end)` in minutes from the horizon start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Interval {
    pub start: i64,
    pub end: i64,
}

/// A mixed-mode scheduling problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlantProblem {
    /// Must equal [`PROBLEM_SCHEMA_VERSION`].
    #[serde(default = "default_version")]
    pub schema_version: u32,
    /// The instant of minute 0.
    pub horizon_start: Timestamp,
    /// Length of the planning horizon in minutes; availability windows cover `[0, horizon)`.
    pub horizon_minutes: i64,
    pub units: Vec<UnitSpec>,
    #[serde(default)]
    pub changeovers: Vec<ChangeoverTable>,
    #[serde(default)]
    pub pools: Vec<PoolSpec>,
    #[serde(default)]
    pub materials: Vec<MaterialSpec>,
    pub orders: Vec<OrderSpec>,
    pub operations: Vec<OperationSpec>,
    /// The current schedule when rescheduling: the stability term measures moves against it.
    #[serde(default)]
    pub reference: Vec<Assignment>,
    /// Objective weights; `balanced` when absent.
    #[serde(default)]
    pub objective: Option<Objective>,
}

/// An equipment unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitSpec {
    pub id: String,
    /// Discrete, process or repetitive (informational).
    #[serde(default)]
    pub mode: Option<String>,
    /// Shift windows inside the horizon; `None` means always available.
    #[serde(default)]
    pub availability: Option<Vec<Interval>>,
    /// Planned maintenance and live downtime: never available inside these.
    #[serde(default)]
    pub downtime: Vec<Interval>,
    /// Id of the changeover table used on this unit.
    #[serde(default)]
    pub changeover: Option<String>,
    #[serde(default)]
    pub cip: Option<CipSpec>,
}

/// When a unit must be cleaned in place; any trigger makes a CIP due before the next operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CipSpec {
    pub minutes: i64,
    #[serde(default)]
    pub cost: f64,
    /// CIP whenever `product` changes from one operation to the next.
    #[serde(default)]
    pub on_product_change: bool,
    /// CIP before an operation once this many operations ran since the last CIP.
    #[serde(default)]
    pub after_batches: Option<u32>,
    /// CIP before an operation that would make the run since the last CIP longer than this.
    #[serde(default)]
    pub max_run_minutes: Option<i64>,
}

/// What the rows and columns of a changeover table are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum KeyedBy {
    /// The operation's `family`.
    Family,
    /// The value of one of the operation's `attributes`.
    Attribute { name: String },
}

/// Sequence-dependent changeover times and costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeoverTable {
    pub id: String,
    pub keyed_by: KeyedBy,
    /// For two different keys without an entry.
    pub default_minutes: i64,
    #[serde(default)]
    pub default_cost: f64,
    #[serde(default)]
    pub entries: Vec<ChangeoverEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeoverEntry {
    pub from: String,
    pub to: String,
    pub minutes: i64,
    #[serde(default)]
    pub cost: f64,
}

/// A capacity reduction over an interval (a technician on leave, a tank in repair).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityDip {
    pub start: i64,
    pub end: i64,
    /// Capacity inside the interval (at most the pool's capacity).
    pub capacity: u32,
}

/// A pooled secondary resource: k interchangeable members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolSpec {
    pub id: String,
    /// What it is (e.g. `people certified reactor>=2`), informational.
    #[serde(default)]
    pub description: Option<String>,
    pub capacity: u32,
    /// Windows inside the horizon where the pool works; `None` means always.
    #[serde(default)]
    pub availability: Option<Vec<Interval>>,
    #[serde(default)]
    pub dips: Vec<CapacityDip>,
}

/// A purchased receipt arriving at `time` (its ATP date).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub time: i64,
    pub quantity: f64,
}

/// A material whose inventory must never go negative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaterialSpec {
    pub id: String,
    #[serde(default)]
    pub initial: f64,
    #[serde(default)]
    pub receipts: Vec<Receipt>,
}

/// A production order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderSpec {
    pub id: String,
    /// Earliest start of any of its operations.
    #[serde(default)]
    pub release: i64,
    #[serde(default)]
    pub due: Option<i64>,
    /// Weight of a minute of tardiness.
    #[serde(default = "one")]
    pub weight: f64,
}

/// A predecessor with time lags measured from its end to this operation's start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lag {
    pub op: String,
    #[serde(default)]
    pub min_lag: i64,
    /// Longest allowed wait between the predecessor's end and this start.
    #[serde(default)]
    pub max_lag: Option<i64>,
}

/// A unit that can run an operation and how long it takes there: `minutes`, or a line rate
/// (`setup_minutes + 60 * quantity / items_per_hour`, rounded up).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AltSpec {
    pub unit: String,
    #[serde(default)]
    pub minutes: Option<i64>,
    #[serde(default)]
    pub items_per_hour: Option<f64>,
    #[serde(default)]
    pub setup_minutes: i64,
}

/// A pool requirement held for the whole operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolUse {
    pub pool: String,
    pub quantity: u32,
}

/// A quantity of a material.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MaterialQty {
    pub material: String,
    pub quantity: f64,
}

/// A frozen or in-progress operation: it stays exactly here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fixed {
    pub unit: String,
    pub start: i64,
    /// Already running (informational; both kinds never move).
    #[serde(default)]
    pub in_progress: bool,
}

/// One operation of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationSpec {
    pub id: String,
    pub order: String,
    /// Earliest start, on top of the order's release.
    #[serde(default)]
    pub release: Option<i64>,
    #[serde(default)]
    pub predecessors: Vec<Lag>,
    pub alternatives: Vec<AltSpec>,
    /// Items to make, for rate-based alternatives.
    #[serde(default)]
    pub quantity: f64,
    /// Product made (CIP on product change).
    #[serde(default)]
    pub product: Option<String>,
    /// Product family (changeover tables keyed by family).
    #[serde(default)]
    pub family: Option<String>,
    /// Attributes (changeover tables keyed by attribute).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub pools: Vec<PoolUse>,
    #[serde(default)]
    pub consumes: Vec<MaterialQty>,
    #[serde(default)]
    pub produces: Vec<MaterialQty>,
    #[serde(default)]
    pub fixed: Option<Fixed>,
}

/// One operation placed on a unit: runs `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    pub op: String,
    pub unit: String,
    pub start: i64,
    pub end: i64,
}

/// A schedule of a [`PlantProblem`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlantSchedule {
    pub assignments: Vec<Assignment>,
}

/// Named weightings of the objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    MaximizeThroughput,
    MinimizeTardiness,
    MinimizeChangeovers,
    Balanced,
}

impl std::str::FromStr for Preset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "maximize_throughput" => Ok(Preset::MaximizeThroughput),
            "minimize_tardiness" => Ok(Preset::MinimizeTardiness),
            "minimize_changeovers" => Ok(Preset::MinimizeChangeovers),
            "balanced" => Ok(Preset::Balanced),
            other => Err(format!(
                "unknown objective `{other}` (expected maximize_throughput, minimize_tardiness, minimize_changeovers or balanced)"
            )),
        }
    }
}

/// Weights of the objective terms (all minimised).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    /// Per minute of makespan.
    pub makespan: f64,
    /// Per weighted minute of tardiness (order weight × minutes late).
    pub tardiness: f64,
    /// Per minute of changeover and CIP.
    pub changeover_minutes: f64,
    /// Per unit of changeover and CIP cost.
    pub changeover_cost: f64,
    /// Per minute an operation moved against `reference` (a unit change counts 60 minutes).
    pub stability: f64,
}

impl Objective {
    pub fn preset(preset: Preset) -> Objective {
        let w = |makespan, tardiness, changeover_minutes, changeover_cost| Objective {
            makespan,
            tardiness,
            changeover_minutes,
            changeover_cost,
            stability: 0.1,
        };
        match preset {
            Preset::MaximizeThroughput => w(10.0, 0.1, 0.5, 0.01),
            Preset::MinimizeTardiness => w(0.5, 5.0, 0.2, 0.01),
            Preset::MinimizeChangeovers => w(0.5, 0.2, 5.0, 0.5),
            Preset::Balanced => w(2.0, 1.0, 1.0, 0.1),
        }
    }
}

impl Default for Objective {
    fn default() -> Self {
        Objective::preset(Preset::Balanced)
    }
}

/// Malformed or impossible input, naming what is at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProblemError {
    /// A field has a bad value; `id` is the object (unit, pool, operation …) holding it.
    #[error("{id}: {field}: {message}")]
    Invalid {
        id: String,
        field: String,
        message: String,
    },
    /// No alternative unit of the operation exists or is ever available for it.
    #[error("operation `{op}` cannot run on any unit: {reason}")]
    NoUnit { op: String, reason: String },
    /// Precedence edges form a cycle through these operations.
    #[error("precedence cycle through operations {ops:?}")]
    PrecedenceCycle { ops: Vec<String> },
    /// An operation needs more of a pool than it ever has.
    #[error("operation `{op}` needs {quantity} of pool `{pool}` whose capacity is {capacity}")]
    PoolOverCapacity {
        op: String,
        pool: String,
        quantity: u32,
        capacity: u32,
    },
    /// Consumption of a material exceeds everything that could ever be on hand.
    #[error(
        "material `{material}` can never be available: demand {demand} exceeds initial stock, receipts and production {supply}"
    )]
    MaterialNeverAvailable {
        material: String,
        demand: f64,
        supply: f64,
    },
}

impl ProblemError {
    fn invalid(id: &str, field: &str, message: impl Into<String>) -> ProblemError {
        ProblemError::Invalid {
            id: id.to_owned(),
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl AltSpec {
    /// Minutes this alternative takes for `quantity` items (`None` if malformed).
    pub fn duration(&self, quantity: f64) -> Option<i64> {
        match (self.minutes, self.items_per_hour) {
            (Some(m), None) => Some(m),
            (None, Some(rate)) if rate > 0.0 && rate.is_finite() => {
                Some(self.setup_minutes + (60.0 * quantity / rate).ceil() as i64)
            }
            _ => None,
        }
    }
}

/// Largest time value accepted anywhere in a problem (about 1,900 years of minutes).
pub const MAX_TIME: i64 = 1 << 40;

impl PlantProblem {
    /// The objective weights in force.
    pub fn weights(&self) -> Objective {
        self.objective.unwrap_or_default()
    }

    /// Checks the problem; the first error found is returned.
    pub fn validate(&self) -> Result<(), ProblemError> {
        if self.schema_version != PROBLEM_SCHEMA_VERSION {
            return Err(ProblemError::invalid(
                "problem",
                "schema_version",
                format!(
                    "must be {PROBLEM_SCHEMA_VERSION}, got {}",
                    self.schema_version
                ),
            ));
        }
        if !(0..=MAX_TIME).contains(&self.horizon_minutes) {
            return Err(ProblemError::invalid(
                "problem",
                "horizon_minutes",
                "must be between 0 and 2^40",
            ));
        }
        let time = |id: &str, field: &str, t: i64| {
            if (-MAX_TIME..=MAX_TIME).contains(&t) {
                Ok(())
            } else {
                Err(ProblemError::invalid(
                    id,
                    field,
                    format!("{t} is out of range"),
                ))
            }
        };
        let intervals = |id: &str, field: &str, list: &[Interval]| {
            for (i, w) in list.iter().enumerate() {
                let f = format!("{field}[{i}]");
                time(id, &f, w.start)?;
                time(id, &f, w.end)?;
                if w.end < w.start {
                    return Err(ProblemError::invalid(id, &f, "end is before start"));
                }
            }
            Ok(())
        };
        let mut tables = HashSet::new();
        for t in &self.changeovers {
            if !tables.insert(t.id.as_str()) {
                return Err(ProblemError::invalid(
                    &t.id,
                    "id",
                    "duplicate changeover table id",
                ));
            }
            if t.default_minutes < 0 || t.entries.iter().any(|e| e.minutes < 0) {
                return Err(ProblemError::invalid(
                    &t.id,
                    "minutes",
                    "must not be negative",
                ));
            }
        }
        let mut units = HashMap::new();
        for (i, u) in self.units.iter().enumerate() {
            if u.id.is_empty() || units.insert(u.id.as_str(), i).is_some() {
                return Err(ProblemError::invalid(
                    &u.id,
                    "id",
                    "empty or duplicate unit id",
                ));
            }
            if let Some(w) = &u.availability {
                intervals(&u.id, "availability", w)?;
            }
            intervals(&u.id, "downtime", &u.downtime)?;
            if let Some(c) = &u.changeover
                && !tables.contains(c.as_str())
            {
                return Err(ProblemError::invalid(
                    &u.id,
                    "changeover",
                    format!("changeover table `{c}` does not exist"),
                ));
            }
            if let Some(cip) = &u.cip
                && (cip.minutes < 0 || cip.max_run_minutes.is_some_and(|m| m <= 0))
            {
                return Err(ProblemError::invalid(
                    &u.id,
                    "cip",
                    "minutes must be positive",
                ));
            }
        }
        let mut pools = HashMap::new();
        for p in &self.pools {
            if p.id.is_empty() || pools.insert(p.id.as_str(), p.capacity).is_some() {
                return Err(ProblemError::invalid(
                    &p.id,
                    "id",
                    "empty or duplicate pool id",
                ));
            }
            if let Some(w) = &p.availability {
                intervals(&p.id, "availability", w)?;
            }
            for (i, d) in p.dips.iter().enumerate() {
                if d.end < d.start || d.capacity > p.capacity {
                    return Err(ProblemError::invalid(
                        &p.id,
                        &format!("dips[{i}]"),
                        "end before start or capacity above the pool's",
                    ));
                }
            }
        }
        let mut supply: HashMap<&str, f64> = HashMap::new();
        for m in &self.materials {
            if m.id.is_empty() || supply.contains_key(m.id.as_str()) {
                return Err(ProblemError::invalid(
                    &m.id,
                    "id",
                    "empty or duplicate material id",
                ));
            }
            let bad = |q: f64| !(q.is_finite() && q >= 0.0);
            if bad(m.initial) || m.receipts.iter().any(|r| bad(r.quantity)) {
                return Err(ProblemError::invalid(
                    &m.id,
                    "initial/receipts",
                    "quantities must be non-negative numbers",
                ));
            }
            for (i, r) in m.receipts.iter().enumerate() {
                time(&m.id, &format!("receipts[{i}].time"), r.time)?;
            }
            supply.insert(
                &m.id,
                m.initial + m.receipts.iter().map(|r| r.quantity).sum::<f64>(),
            );
        }
        let mut orders = HashSet::new();
        for o in &self.orders {
            if o.id.is_empty() || !orders.insert(o.id.as_str()) {
                return Err(ProblemError::invalid(
                    &o.id,
                    "id",
                    "empty or duplicate order id",
                ));
            }
            time(&o.id, "release", o.release)?;
            if let Some(d) = o.due {
                time(&o.id, "due", d)?;
            }
            if !(o.weight.is_finite() && o.weight >= 0.0) {
                return Err(ProblemError::invalid(
                    &o.id,
                    "weight",
                    "must be a non-negative number",
                ));
            }
        }
        let mut ops = HashMap::new();
        for (i, op) in self.operations.iter().enumerate() {
            if op.id.is_empty() || ops.insert(op.id.as_str(), i).is_some() {
                return Err(ProblemError::invalid(
                    &op.id,
                    "id",
                    "empty or duplicate operation id",
                ));
            }
        }
        let mut demand: HashMap<&str, f64> = HashMap::new();
        for op in &self.operations {
            let id = op.id.as_str();
            if !orders.contains(op.order.as_str()) {
                return Err(ProblemError::invalid(
                    id,
                    "order",
                    format!("order `{}` does not exist", op.order),
                ));
            }
            if let Some(r) = op.release {
                time(id, "release", r)?;
            }
            if !(op.quantity.is_finite() && op.quantity >= 0.0) {
                return Err(ProblemError::invalid(
                    id,
                    "quantity",
                    "must be a non-negative number",
                ));
            }
            for (k, lag) in op.predecessors.iter().enumerate() {
                let f = format!("predecessors[{k}]");
                if !ops.contains_key(lag.op.as_str()) {
                    return Err(ProblemError::invalid(
                        id,
                        &f,
                        format!("operation `{}` does not exist", lag.op),
                    ));
                }
                if lag.op == op.id {
                    return Err(ProblemError::PrecedenceCycle {
                        ops: vec![op.id.clone()],
                    });
                }
                time(id, &f, lag.min_lag)?;
                if let Some(max) = lag.max_lag {
                    time(id, &f, max)?;
                    if max < lag.min_lag {
                        return Err(ProblemError::invalid(id, &f, "max_lag is below min_lag"));
                    }
                }
            }
            if op.alternatives.is_empty() {
                return Err(ProblemError::NoUnit {
                    op: op.id.clone(),
                    reason: "no alternative is listed".into(),
                });
            }
            let mut seen = HashSet::new();
            for (k, alt) in op.alternatives.iter().enumerate() {
                let f = format!("alternatives[{k}]");
                if !units.contains_key(alt.unit.as_str()) {
                    return Err(ProblemError::NoUnit {
                        op: op.id.clone(),
                        reason: format!("unit `{}` does not exist", alt.unit),
                    });
                }
                if !seen.insert(alt.unit.as_str()) {
                    return Err(ProblemError::invalid(id, &f, "unit listed twice"));
                }
                match alt.duration(op.quantity) {
                    Some(d) if (1..=MAX_TIME).contains(&d) && alt.setup_minutes >= 0 => {}
                    _ => {
                        return Err(ProblemError::invalid(
                            id,
                            &f,
                            "give `minutes` (at least 1) or a positive `items_per_hour`, not both",
                        ));
                    }
                }
            }
            for u in &op.pools {
                match pools.get(u.pool.as_str()) {
                    None => {
                        return Err(ProblemError::invalid(
                            id,
                            "pools",
                            format!("pool `{}` does not exist", u.pool),
                        ));
                    }
                    Some(&cap) if u.quantity > cap => {
                        return Err(ProblemError::PoolOverCapacity {
                            op: op.id.clone(),
                            pool: u.pool.clone(),
                            quantity: u.quantity,
                            capacity: cap,
                        });
                    }
                    _ => {}
                }
            }
            for (field, list) in [("consumes", &op.consumes), ("produces", &op.produces)] {
                for q in list {
                    if !supply.contains_key(q.material.as_str()) {
                        return Err(ProblemError::invalid(
                            id,
                            field,
                            format!("material `{}` does not exist", q.material),
                        ));
                    }
                    if !(q.quantity.is_finite() && q.quantity >= 0.0) {
                        return Err(ProblemError::invalid(
                            id,
                            field,
                            "quantity must be non-negative",
                        ));
                    }
                }
            }
            for q in &op.consumes {
                *demand.entry(q.material.as_str()).or_default() += q.quantity;
            }
            for q in &op.produces {
                *supply.get_mut(q.material.as_str()).expect("checked") += q.quantity;
            }
            if let Some(f) = &op.fixed {
                time(id, "fixed.start", f.start)?;
                if !op.alternatives.iter().any(|a| a.unit == f.unit) {
                    return Err(ProblemError::invalid(
                        id,
                        "fixed.unit",
                        format!("unit `{}` is not one of the alternatives", f.unit),
                    ));
                }
            }
        }
        let mut short: Vec<(&str, f64)> = demand.into_iter().collect();
        short.sort_by(|a, b| a.0.cmp(b.0));
        for (m, d) in short {
            let s = supply[m];
            if d > s + 1e-6 * s.abs().max(1.0) {
                return Err(ProblemError::MaterialNeverAvailable {
                    material: m.to_owned(),
                    demand: d,
                    supply: s,
                });
            }
        }
        self.find_cycle(&ops)?;
        Ok(())
    }

    fn find_cycle(&self, ops: &HashMap<&str, usize>) -> Result<(), ProblemError> {
        // Iterative DFS with colours; on a back edge, report the cycle's members.
        let n = self.operations.len();
        let mut colour = vec![0u8; n];
        let mut parent = vec![usize::MAX; n];
        for root in 0..n {
            if colour[root] != 0 {
                continue;
            }
            let mut stack = vec![(root, 0usize)];
            colour[root] = 1;
            while let Some(&mut (v, ref mut k)) = stack.last_mut() {
                let preds = &self.operations[v].predecessors;
                if *k < preds.len() {
                    let w = ops[preds[*k].op.as_str()];
                    *k += 1;
                    match colour[w] {
                        0 => {
                            colour[w] = 1;
                            parent[w] = v;
                            stack.push((w, 0));
                        }
                        1 => {
                            let mut cycle = vec![self.operations[w].id.clone()];
                            let mut x = v;
                            while x != w && x != usize::MAX {
                                cycle.push(self.operations[x].id.clone());
                                x = parent[x];
                            }
                            return Err(ProblemError::PrecedenceCycle { ops: cycle });
                        }
                        _ => {}
                    }
                } else {
                    colour[v] = 2;
                    stack.pop();
                }
            }
        }
        Ok(())
    }
}

/// The JSON Schema of the native problem format, pretty-printed.
pub fn problem_schema() -> String {
    let mut text = serde_json::to_string_pretty(&schemars::schema_for!(PlantProblem))
        .expect("a schema always serialises");
    text.push('\n');
    text
}
