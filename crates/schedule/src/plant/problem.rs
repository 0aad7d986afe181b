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
//! [`PlantProblem::validate`] (in `validate.rs`) reports malformed input with the id and field at fault, and
//! impossible input (no unit can run an operation, a precedence cycle, a pool requirement
//! above capacity, a material that can never be available) as typed [`ProblemError`]s.

use std::collections::BTreeMap;

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
    /// A CIP right before this operation on whichever unit runs it, whatever ran there before
    /// (also when it is the unit's first operation: the unit's state before the horizon is
    /// unknown). The unit's `cip` rule gives its minutes and cost, so every alternative unit
    /// must have one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cip_before: bool,
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

model::wire_enum!(
    Preset,
    "objective",
    [
        MaximizeThroughput,
        MinimizeTardiness,
        MinimizeChangeovers,
        Balanced
    ]
);

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
    pub(super) fn invalid(id: &str, field: &str, message: impl Into<String>) -> ProblemError {
        ProblemError::Invalid {
            id: id.to_owned(),
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl AltSpec {
    /// Minutes this alternative takes for `quantity` items (`None` if malformed, a sum past
    /// `i64` included: `validate` then names the alternative instead of overflowing).
    pub fn duration(&self, quantity: f64) -> Option<i64> {
        match (self.minutes, self.items_per_hour) {
            (Some(m), None) => Some(m),
            (None, Some(rate)) if rate > 0.0 && rate.is_finite() => self
                .setup_minutes
                .checked_add((60.0 * quantity / rate).ceil() as i64),
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
}

/// The JSON Schema of the native problem format, pretty-printed.
pub fn problem_schema() -> String {
    let mut text = serde_json::to_string_pretty(&schemars::schema_for!(PlantProblem))
        .expect("a schema always serialises");
    text.push('\n');
    text
}
