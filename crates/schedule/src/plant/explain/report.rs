//! What an explanation says: the late orders with their chains of links and causes, and the
//! load of every unit and pool. Plain serialisable data with a JSON Schema.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::plant::problem::{Interval, Receipt};

/// What a stretch of a late order's chain is charged to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The order's own operations running (its routing).
    Processing,
    /// Waiting for another order's predecessor, or a minimum lag.
    Precedence,
    /// The unit busy with an operation that ran before on it.
    Unit,
    /// Changeover and CIP before an operation.
    Setup,
    /// The unit outside its shift calendar.
    Calendar,
    /// The unit down (maintenance or a breakdown).
    Downtime,
    /// A pool at capacity.
    Pool,
    /// A material not yet on hand.
    Material,
    /// A successor's maximum lag holding the operation late.
    MaxLag,
    /// A release date.
    Release,
    /// A frozen or in-progress operation.
    Frozen,
    /// Nothing in the problem held the operation; the schedule left it waiting.
    Idle,
}

model::wire_enum!(
    Cause,
    "cause",
    [
        Processing, Precedence, Unit, Setup, Calendar, Downtime, Pool, Material, MaxLag, Release,
        Frozen, Idle
    ]
);

/// The changeover part of a setup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChangeoverSetup {
    /// The unit's changeover table.
    pub table: String,
    /// Key (family or attribute value) of the previous operation.
    pub from: String,
    /// Key of this operation.
    pub to: String,
    pub minutes: i64,
    pub cost: f64,
}

/// Why a CIP was due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CipReason {
    /// The operation itself requires one (`cip_before`).
    Required,
    /// The product changed.
    ProductChange {
        from: Option<String>,
        to: Option<String>,
    },
    /// This many operations ran since the last CIP.
    AfterBatches { batches: u32 },
    /// The run since the last CIP would exceed the limit.
    MaxRun { run_minutes: i64, limit: i64 },
}

/// The CIP part of a setup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CipSetup {
    pub minutes: i64,
    pub cost: f64,
    pub reasons: Vec<CipReason>,
}

/// How the walk reached an operation from the later one it held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Via {
    /// The order's last operation, where the chain starts.
    Last,
    /// A predecessor of `succ`.
    Precedence { succ: String, min_lag: i64 },
    /// The operation before `succ` on the same unit.
    Unit { succ: String },
    /// Its end freed `pool` for `succ`; `holders` held the pool while `succ` waited.
    Pool {
        succ: String,
        pool: String,
        holders: Vec<String>,
    },
    /// Its end produced `material` that `succ` consumes.
    Material { succ: String, material: String },
}

/// What a link of a chain is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LinkKind {
    /// `op` (of `order`) running on `unit`.
    Operation {
        op: String,
        order: String,
        unit: String,
        via: Via,
    },
    /// The minimum lag between `pred`'s end and `op`'s start.
    Lag {
        pred: String,
        op: String,
        min_lag: i64,
    },
    /// Changeover and CIP on `unit` between `after` and `op`.
    Setup {
        unit: String,
        op: String,
        after: String,
        changeover: Option<ChangeoverSetup>,
        cip: Option<CipSetup>,
    },
    /// `unit` outside its shift windows for `op` (with its setup).
    Calendar { unit: String, op: String },
    /// `unit` down over `window` (maintenance or breakdown) when `op` could have run.
    Downtime {
        unit: String,
        op: String,
        window: Interval,
    },
    /// Not enough of `pool` free for `op`; `holders` held it meanwhile. `capacity` is the
    /// pool's capacity from `to` on when the wait ended by a capacity change (a dip ending,
    /// the pool's calendar opening).
    Pool {
        pool: String,
        op: String,
        holders: Vec<String>,
        capacity: Option<u32>,
    },
    /// `op` needs `quantity` of `material`, not on hand until `receipt` (when it arrived).
    Material {
        material: String,
        op: String,
        quantity: f64,
        receipt: Option<Receipt>,
    },
    /// `succ` starts at most `max_lag` after `op` ends, which held `op` this late.
    MaxLag {
        op: String,
        succ: String,
        max_lag: i64,
    },
    /// `op` (of `order`) may not start before `release`.
    Release {
        op: String,
        order: String,
        release: i64,
    },
    /// `op` is frozen or in progress on `unit`.
    Frozen { op: String, unit: String },
    /// Nothing held `op` here.
    Idle { op: String },
}

/// One link of a chain: the stretch `[from, to]` (minutes from the horizon start) and what
/// it is charged to. `minutes = to - from` (negative only for a negative min lag).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Link {
    pub from: i64,
    pub to: i64,
    pub minutes: i64,
    pub cause: Cause,
    #[serde(flatten)]
    pub kind: LinkKind,
}

/// Minutes of a chain charged to one cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CauseMinutes {
    pub cause: Cause,
    pub minutes: i64,
}

/// A late order and the chain that made it late.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LateOrder {
    pub order: String,
    pub release: i64,
    pub due: i64,
    /// End of its last operation.
    pub completion: i64,
    pub minutes_late: i64,
    pub weight: f64,
    /// The operation the chain starts from.
    pub last_op: String,
    /// The cause with the most minutes besides the order's own processing (`processing` when
    /// there is nothing else).
    pub dominant_cause: Cause,
    /// Minutes of the chain per cause, most first.
    pub minutes_by_cause: Vec<CauseMinutes>,
    /// From the completion back to the release, latest first.
    pub chain: Vec<Link>,
}

/// Load of a unit over the span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnitLoad {
    pub unit: String,
    /// 1 = the worst bottleneck.
    pub rank: usize,
    pub operations: usize,
    pub processing_minutes: i64,
    /// Changeover plus CIP.
    pub setup_minutes: i64,
    pub changeover_minutes: i64,
    pub changeovers: usize,
    pub cip_minutes: i64,
    pub cips: usize,
    /// Processing plus setup.
    pub busy_minutes: i64,
    /// Minutes of the span inside the unit's calendar and outside its downtime.
    pub available_minutes: i64,
    /// Busy over available minutes, percent (`None` with no available minute).
    pub load_percent: Option<f64>,
    /// Late orders whose chain waits for this unit (busy, setup, calendar, downtime).
    pub late_orders: usize,
    /// Minutes of those chains charged to this unit.
    pub late_minutes: i64,
}

/// Load of a pool over the span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PoolLoad {
    pub pool: String,
    pub rank: usize,
    pub capacity: u32,
    /// Capacity × minutes available over the span (calendar and dips applied).
    pub capacity_minutes: i64,
    /// Quantity × minutes in use.
    pub used_minutes: i64,
    /// Used over capacity minutes, percent (`None` with no capacity in the span).
    pub average_utilization_percent: Option<f64>,
    /// Minutes where the pool is open and all of it is in use.
    pub minutes_at_full_capacity: i64,
    /// Largest quantity in use at once.
    pub peak: i64,
    pub late_orders: usize,
    pub late_minutes: i64,
}

/// The explanation of a schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Explanation {
    /// What the loads are measured over.
    pub span: Interval,
    /// Most minutes late first.
    pub late_orders: Vec<LateOrder>,
    pub total_minutes_late: i64,
    /// Every unit, worst bottleneck first.
    pub units: Vec<UnitLoad>,
    /// Every pool, worst bottleneck first.
    pub pools: Vec<PoolLoad>,
}
