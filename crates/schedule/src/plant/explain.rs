//! Explanations of a mixed-mode schedule: why each late order is late, and where the
//! bottlenecks are.
//!
//! Everything is derived from the problem document and the schedule as given (it works on any
//! schedule, not only the solver's): the unit sequences (sorted by start), the setups between
//! consecutive operations (changeover by the unit's table, CIP by the unit's rule), the units'
//! available intervals, pool usage profiles and material levels are rebuilt here with this
//! module's own helpers. It uses no solver internals.
//!
//! **Late-order chains.** For an order finishing after its due date, the walk starts at the
//! order's last operation and goes back in time. For an operation starting at `s` it asks what
//! held it there:
//! - the *hard bound* `B`: the latest of its release (the order's, raised by the operation's
//!   own), each predecessor's end plus min lag, and the previous operation on its unit's end
//!   plus the setup before this one (changeover and CIP);
//! - from `B` to `s`, the *windows*: its unit not available for setup plus run (shift calendar,
//!   maintenance or downtime), a pool without enough free capacity over the run (naming the
//!   pool and the operations holding it), a consumed material whose level would go negative
//!   (until a receipt arrives or a producing operation ends), or a successor with a maximum
//!   lag pulling it late. Scanning forward from `B`, each stretch is charged to the check that
//!   stays blocked longest; a stretch where nothing blocks is `idle` (the schedule left it
//!   waiting; a solver's schedule can do this when a producer placed later frees material
//!   earlier, or repair holds an operation at its old start).
//!
//! If the last stretch before `s` ends when another operation ends (it freed the pool or
//! produced the material), the walk continues into that operation; otherwise the stretches
//! are links of the chain and the walk continues from `B` into the predecessor (with a `lag`
//! link for a non-zero min lag) or the unit's previous operation (with a `setup` link), or
//! stops at a release. A frozen operation stops the walk too. The walk also stops when it
//! reaches the order's own release (time 0 by default), clipping the last link there.
//!
//! The links of a chain therefore tile `[release, completion]` of the order without gaps:
//! each link covers `[from, to]` with `minutes = to - from`, the first ends at the order's
//! completion, each starts where the next (earlier) one ends, and the minutes add up to
//! `completion - release`. Each link has a [`Cause`]; the order's own operations reached from
//! its last one through precedence count as `processing`, and the dominant cause is the one
//! with the most minutes besides processing.
//!
//! **Bottlenecks.** Over the span from minute 0 (or the earliest setup start, if earlier) to
//! the latest end: per unit its processing and setup minutes, available minutes (calendar
//! minus downtime) and load; per pool its average utilisation and minutes at full capacity;
//! both with the late orders and minutes of late chains they hold. Units and pools are ranked
//! by minutes in late chains, then by load (units) or minutes at full capacity (pools).
//!
//! Pure and deterministic: no I/O, no clock, ordered maps only where order shows.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::interval::merge;
use super::problem::{
    Interval, KeyedBy, OperationSpec, PlantProblem, PlantSchedule, ProblemError, Receipt,
};

const NEG: i64 = i64::MIN / 4;
const POS: i64 = i64::MAX / 4;
const TOL: f64 = 1e-6;

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

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Processing => "processing",
            Cause::Precedence => "precedence",
            Cause::Unit => "unit",
            Cause::Setup => "setup",
            Cause::Calendar => "calendar",
            Cause::Downtime => "downtime",
            Cause::Pool => "pool",
            Cause::Material => "material",
            Cause::MaxLag => "max_lag",
            Cause::Release => "release",
            Cause::Frozen => "frozen",
            Cause::Idle => "idle",
        }
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// Explains `schedule` of `problem`: the chain of every late order and the loads.
///
/// The problem must be valid; the schedule may name each operation once, on units of the
/// problem. Operations left out are ignored; an infeasible schedule is explained as it is
/// (violated bounds are simply not taken as reasons).
pub fn explain(
    problem: &PlantProblem,
    schedule: &PlantSchedule,
) -> Result<Explanation, ProblemError> {
    let cx = Context::new(problem, schedule)?;
    let mut late = Vec::new();
    let mut unit_late: Vec<(BTreeSet<usize>, i64)> = vec![(BTreeSet::new(), 0); cx.units.len()];
    let mut pool_late: Vec<(BTreeSet<usize>, i64)> = vec![(BTreeSet::new(), 0); cx.pools.len()];
    for (k, o) in problem.orders.iter().enumerate() {
        let (Some(due), Some(last)) = (o.due, cx.last_op[k]) else {
            continue;
        };
        let completion = cx.place[last].expect("placed").end;
        if completion <= due {
            continue;
        }
        let chain = cx.chain(k, last);
        let mut by: BTreeMap<Cause, i64> = BTreeMap::new();
        for l in &chain {
            *by.entry(l.cause).or_default() += l.minutes;
            if let Some(u) = cx.unit_of_link(l) {
                unit_late[u].0.insert(k);
                unit_late[u].1 += l.minutes;
            }
            if let Some(p) = cx.pool_of_link(l) {
                pool_late[p].0.insert(k);
                pool_late[p].1 += l.minutes;
            }
        }
        let mut minutes_by_cause: Vec<CauseMinutes> = by
            .into_iter()
            .map(|(cause, minutes)| CauseMinutes { cause, minutes })
            .collect();
        minutes_by_cause.sort_by(|a, b| b.minutes.cmp(&a.minutes).then(a.cause.cmp(&b.cause)));
        let dominant_cause = minutes_by_cause
            .iter()
            .find(|c| c.cause != Cause::Processing && c.minutes > 0)
            .map_or(Cause::Processing, |c| c.cause);
        late.push(LateOrder {
            order: o.id.clone(),
            release: o.release,
            due,
            completion,
            minutes_late: completion - due,
            weight: o.weight,
            last_op: problem.operations[last].id.clone(),
            dominant_cause,
            minutes_by_cause,
            chain,
        });
    }
    late.sort_by(|a, b| {
        b.minutes_late
            .cmp(&a.minutes_late)
            .then_with(|| a.order.cmp(&b.order))
    });
    let span = cx.span();
    let mut units = cx.unit_loads(span, &unit_late);
    units.sort_by(|a, b| {
        b.late_minutes
            .cmp(&a.late_minutes)
            .then(
                b.load_percent
                    .unwrap_or(-1.0)
                    .total_cmp(&a.load_percent.unwrap_or(-1.0)),
            )
            .then(b.busy_minutes.cmp(&a.busy_minutes))
            .then_with(|| a.unit.cmp(&b.unit))
    });
    for (i, u) in units.iter_mut().enumerate() {
        u.rank = i + 1;
    }
    let mut pools = cx.pool_loads(span, &pool_late);
    pools.sort_by(|a, b| {
        b.late_minutes
            .cmp(&a.late_minutes)
            .then(b.minutes_at_full_capacity.cmp(&a.minutes_at_full_capacity))
            .then(
                b.average_utilization_percent
                    .unwrap_or(-1.0)
                    .total_cmp(&a.average_utilization_percent.unwrap_or(-1.0)),
            )
            .then_with(|| a.pool.cmp(&b.pool))
    });
    for (i, p) in pools.iter_mut().enumerate() {
        p.rank = i + 1;
    }
    Ok(Explanation {
        span,
        total_minutes_late: late.iter().map(|l| l.minutes_late).sum(),
        late_orders: late,
        units,
        pools,
    })
}

/// The chain of any order (late or not) from its completion back to its release; empty when
/// none of its operations is scheduled.
pub fn order_chain(
    problem: &PlantProblem,
    schedule: &PlantSchedule,
    order: &str,
) -> Result<Vec<Link>, ProblemError> {
    let cx = Context::new(problem, schedule)?;
    let k = problem
        .orders
        .iter()
        .position(|o| o.id == order)
        .ok_or_else(|| ProblemError::Invalid {
            id: order.to_owned(),
            field: "order".into(),
            message: "not an order of the problem".into(),
        })?;
    Ok(match cx.last_op[k] {
        Some(last) => cx.chain(k, last),
        None => Vec::new(),
    })
}

#[derive(Debug, Clone, Copy)]
struct Placed {
    unit: usize,
    start: i64,
    end: i64,
}

/// The setup before an operation on its unit.
#[derive(Debug, Clone, Default)]
struct Setup {
    minutes: i64,
    changeover: Option<ChangeoverSetup>,
    cip: Option<CipSetup>,
}

/// What made an available interval of a unit begin.
#[derive(Debug, Clone, Copy)]
enum Opened {
    Calendar,
    Downtime(Interval),
}

#[derive(Debug, Clone, Copy)]
struct Avail {
    start: i64,
    end: i64,
    opened: Opened,
}

/// A pool's capacity and usage as a step function: segment `i` is `[times[i], times[i+1])`.
#[derive(Debug, Clone)]
struct PoolProfile {
    times: Vec<i64>,
    cap: Vec<i64>,
    used: Vec<i64>,
    /// (op, quantity, start, end) of every scheduled user, by start.
    users: Vec<(usize, i64, i64, i64)>,
    /// (end, op) of every scheduled user, by end.
    ends: Vec<(i64, usize)>,
}

/// A material's level as a step function: `level[i]` holds from `times[i]` on.
#[derive(Debug, Clone)]
struct MaterialProfile {
    initial: f64,
    times: Vec<i64>,
    level: Vec<f64>,
    /// Scheduled producers: (op, end).
    producers: Vec<(usize, i64)>,
}

/// A stretch between the hard bound and the start, and what blocked it.
#[derive(Debug, Clone)]
enum Block {
    Calendar,
    Downtime(Interval),
    Pool {
        pool: usize,
        lift_op: Option<usize>,
        capacity: Option<u32>,
    },
    Material {
        material: usize,
        quantity: f64,
        lift_op: Option<usize>,
        receipt: Option<Receipt>,
    },
    MaxLag {
        succ: usize,
        max_lag: i64,
    },
    Idle,
}

#[derive(Debug, Clone, Copy)]
enum Hard {
    Pred { pred: usize, min_lag: i64 },
    Unit { prev: usize },
    Release { release: i64 },
    None,
}

struct Context<'a> {
    p: &'a PlantProblem,
    units: Vec<&'a str>,
    pools: Vec<&'a str>,
    unit_idx: HashMap<&'a str, usize>,
    pool_idx: HashMap<&'a str, usize>,
    place: Vec<Option<Placed>>,
    op_order: Vec<usize>,
    /// Per order: its scheduled operation ending last.
    last_op: Vec<Option<usize>>,
    preds: Vec<Vec<(usize, i64)>>,
    /// Per op: successors with a max lag (succ, max lag).
    max_lag_succs: Vec<Vec<(usize, i64)>>,
    prev: Vec<Option<usize>>,
    setup: Vec<Setup>,
    seqs: Vec<Vec<usize>>,
    avail: Vec<Vec<Avail>>,
    downtime: Vec<Vec<Interval>>,
    pool_uses: Vec<Vec<(usize, i64)>>,
    consumes: Vec<Vec<(usize, f64)>>,
    pool_profiles: Vec<PoolProfile>,
    materials: Vec<MaterialProfile>,
}

fn key_of<'o>(op: &'o OperationSpec, keyed: &KeyedBy) -> Option<&'o str> {
    match keyed {
        KeyedBy::Family => op.family.as_deref(),
        KeyedBy::Attribute { name } => op.attributes.get(name).map(String::as_str),
    }
}

fn invalid(id: &str, field: String, message: &str) -> ProblemError {
    ProblemError::Invalid {
        id: id.to_owned(),
        field,
        message: message.to_owned(),
    }
}

impl<'a> Context<'a> {
    fn new(p: &'a PlantProblem, schedule: &PlantSchedule) -> Result<Context<'a>, ProblemError> {
        p.validate()?;
        let index = |ids: Vec<&'a str>| -> HashMap<&'a str, usize> {
            ids.into_iter().enumerate().map(|(i, id)| (id, i)).collect()
        };
        let units: Vec<&str> = p.units.iter().map(|u| u.id.as_str()).collect();
        let pools: Vec<&str> = p.pools.iter().map(|x| x.id.as_str()).collect();
        let unit_idx = index(units.clone());
        let pool_idx = index(pools.clone());
        let mat_idx = index(p.materials.iter().map(|m| m.id.as_str()).collect());
        let order_idx = index(p.orders.iter().map(|o| o.id.as_str()).collect());
        let op_idx = index(p.operations.iter().map(|o| o.id.as_str()).collect());
        let n = p.operations.len();
        let mut place: Vec<Option<Placed>> = vec![None; n];
        for (i, a) in schedule.assignments.iter().enumerate() {
            let Some(&o) = op_idx.get(a.op.as_str()) else {
                return Err(invalid(
                    &a.op,
                    format!("schedule.assignments[{i}].op"),
                    "not an operation of the problem",
                ));
            };
            let Some(&u) = unit_idx.get(a.unit.as_str()) else {
                return Err(invalid(
                    &a.op,
                    format!("schedule.assignments[{i}].unit"),
                    &format!("unit `{}` is not a unit of the problem", a.unit),
                ));
            };
            if a.end < a.start {
                return Err(invalid(
                    &a.op,
                    format!("schedule.assignments[{i}].end"),
                    "end is before start",
                ));
            }
            if place[o].is_some() {
                return Err(invalid(
                    &a.op,
                    format!("schedule.assignments[{i}].op"),
                    "scheduled more than once",
                ));
            }
            place[o] = Some(Placed {
                unit: u,
                start: a.start,
                end: a.end,
            });
        }
        let op_order: Vec<usize> = p
            .operations
            .iter()
            .map(|o| order_idx[o.order.as_str()])
            .collect();
        let mut last_op: Vec<Option<usize>> = vec![None; p.orders.len()];
        for (o, pl) in place.iter().enumerate() {
            let Some(pl) = pl else { continue };
            let slot = &mut last_op[op_order[o]];
            if slot.is_none_or(|l: usize| pl.end > place[l].expect("placed").end) {
                *slot = Some(o);
            }
        }
        let preds: Vec<Vec<(usize, i64)>> = p
            .operations
            .iter()
            .map(|o| {
                o.predecessors
                    .iter()
                    .map(|l| (op_idx[l.op.as_str()], l.min_lag))
                    .collect()
            })
            .collect();
        let mut max_lag_succs: Vec<Vec<(usize, i64)>> = vec![Vec::new(); n];
        for (o, op) in p.operations.iter().enumerate() {
            for l in &op.predecessors {
                if let Some(max) = l.max_lag {
                    max_lag_succs[op_idx[l.op.as_str()]].push((o, max));
                }
            }
        }
        // Unit sequences and the setups between consecutive operations.
        let mut seqs: Vec<Vec<usize>> = vec![Vec::new(); units.len()];
        for (o, pl) in place.iter().enumerate() {
            if let Some(pl) = pl {
                seqs[pl.unit].push(o);
            }
        }
        let mut prev = vec![None; n];
        let mut setup = vec![Setup::default(); n];
        for (u, seq) in seqs.iter_mut().enumerate() {
            seq.sort_by(|&x, &y| {
                let (a, b) = (place[x].expect("placed"), place[y].expect("placed"));
                (a.start, a.end, &p.operations[x].id).cmp(&(b.start, b.end, &p.operations[y].id))
            });
            let spec = &p.units[u];
            let table = spec
                .changeover
                .as_deref()
                .and_then(|t| p.changeovers.iter().find(|c| c.id == t));
            let mut batches = 0u32;
            let mut run = 0i64;
            let mut before: Option<usize> = None;
            for &o in seq.iter() {
                let op = &p.operations[o];
                let dur = {
                    let pl = place[o].expect("placed");
                    pl.end - pl.start
                };
                let mut s = Setup::default();
                if let (Some(q), Some(t)) = (before, table)
                    && let (Some(from), Some(to)) = (
                        key_of(&p.operations[q], &t.keyed_by),
                        key_of(op, &t.keyed_by),
                    )
                    && from != to
                {
                    let (minutes, cost) = t
                        .entries
                        .iter()
                        .find(|e| e.from == from && e.to == to)
                        .map_or((t.default_minutes, t.default_cost), |e| (e.minutes, e.cost));
                    s.minutes += minutes;
                    s.changeover = Some(ChangeoverSetup {
                        table: t.id.clone(),
                        from: from.to_owned(),
                        to: to.to_owned(),
                        minutes,
                        cost,
                    });
                }
                if let Some(rule) = &spec.cip {
                    let mut reasons = Vec::new();
                    if rule.on_product_change
                        && let Some(q) = before
                        && p.operations[q].product != op.product
                    {
                        reasons.push(CipReason::ProductChange {
                            from: p.operations[q].product.clone(),
                            to: op.product.clone(),
                        });
                    }
                    if let Some(limit) = rule.after_batches
                        && batches >= limit
                    {
                        reasons.push(CipReason::AfterBatches { batches });
                    }
                    if let Some(limit) = rule.max_run_minutes
                        && run > 0
                        && run + dur > limit
                    {
                        reasons.push(CipReason::MaxRun {
                            run_minutes: run + dur,
                            limit,
                        });
                    }
                    if !reasons.is_empty() {
                        s.minutes += rule.minutes;
                        s.cip = Some(CipSetup {
                            minutes: rule.minutes,
                            cost: rule.cost,
                            reasons,
                        });
                        batches = 0;
                        run = 0;
                    }
                    batches += 1;
                    run += dur;
                }
                prev[o] = before;
                setup[o] = s;
                before = Some(o);
            }
        }
        // Available intervals of each unit, remembering what opened each.
        let h = p.horizon_minutes;
        let mut avail = Vec::with_capacity(units.len());
        let mut downtime = Vec::with_capacity(units.len());
        for u in &p.units {
            let base: Vec<(i64, i64)> = match &u.availability {
                None => vec![(NEG, POS)],
                Some(w) => {
                    let mut v: Vec<(i64, i64)> =
                        w.iter().map(|x| (x.start, x.end.min(h))).collect();
                    v.push((h, POS));
                    merge(v)
                }
            };
            let down: Vec<Interval> = merge(u.downtime.iter().map(|d| (d.start, d.end)).collect())
                .into_iter()
                .map(|(start, end)| Interval { start, end })
                .collect();
            let mut out = Vec::new();
            for (s0, e) in base {
                let mut s = s0;
                let mut opened = Opened::Calendar;
                for d in &down {
                    if d.end <= s || d.start >= e {
                        continue;
                    }
                    if d.start > s {
                        out.push(Avail {
                            start: s,
                            end: d.start,
                            opened,
                        });
                    }
                    s = s.max(d.end);
                    opened = Opened::Downtime(*d);
                }
                if s < e {
                    out.push(Avail {
                        start: s,
                        end: e,
                        opened,
                    });
                }
            }
            avail.push(out);
            downtime.push(down);
        }
        let pool_uses: Vec<Vec<(usize, i64)>> = p
            .operations
            .iter()
            .map(|o| {
                let mut v: Vec<(usize, i64)> = Vec::new();
                for u in &o.pools {
                    let k = pool_idx[u.pool.as_str()];
                    match v.iter_mut().find(|x| x.0 == k) {
                        Some(x) => x.1 += i64::from(u.quantity),
                        None => v.push((k, i64::from(u.quantity))),
                    }
                }
                v.retain(|x| x.1 > 0);
                v
            })
            .collect();
        let consumes: Vec<Vec<(usize, f64)>> = p
            .operations
            .iter()
            .map(|o| {
                let mut v: Vec<(usize, f64)> = Vec::new();
                for c in &o.consumes {
                    let k = mat_idx[c.material.as_str()];
                    match v.iter_mut().find(|x| x.0 == k) {
                        Some(x) => x.1 += c.quantity,
                        None => v.push((k, c.quantity)),
                    }
                }
                v.retain(|x| x.1 > 0.0);
                v
            })
            .collect();
        let pool_profiles = p
            .pools
            .iter()
            .enumerate()
            .map(|(k, pool)| {
                let mut users = Vec::new();
                for (o, pl) in place.iter().enumerate() {
                    if let Some(pl) = pl
                        && pl.end > pl.start
                        && let Some(&(_, q)) = pool_uses[o].iter().find(|x| x.0 == k)
                    {
                        users.push((o, q, pl.start, pl.end));
                    }
                }
                let mut times: BTreeSet<i64> = BTreeSet::new();
                times.insert(NEG);
                let mut delta: BTreeMap<i64, i64> = BTreeMap::new();
                for &(_, q, s, e) in &users {
                    times.insert(s);
                    times.insert(e);
                    *delta.entry(s).or_default() += q;
                    *delta.entry(e).or_default() -= q;
                }
                for d in &pool.dips {
                    times.insert(d.start);
                    times.insert(d.end);
                }
                if let Some(w) = &pool.availability {
                    for x in w {
                        times.insert(x.start);
                        times.insert(x.end);
                    }
                    times.insert(h);
                }
                let times: Vec<i64> = times.into_iter().collect();
                let mut used = Vec::with_capacity(times.len());
                let mut cap = Vec::with_capacity(times.len());
                let mut level = 0i64;
                for &t in &times {
                    level += delta.get(&t).copied().unwrap_or(0);
                    used.push(level);
                    let mut c = i64::from(pool.capacity);
                    if let Some(w) = &pool.availability
                        && t < h
                        && !w.iter().any(|x| x.start <= t && t < x.end)
                    {
                        c = 0;
                    }
                    for d in &pool.dips {
                        if d.start <= t && t < d.end {
                            c = c.min(i64::from(d.capacity));
                        }
                    }
                    cap.push(c);
                }
                users.sort_by_key(|x| (x.2, x.0));
                let mut ends: Vec<(i64, usize)> = users.iter().map(|u| (u.3, u.0)).collect();
                ends.sort_unstable();
                PoolProfile {
                    times,
                    cap,
                    used,
                    users,
                    ends,
                }
            })
            .collect();
        let materials = p
            .materials
            .iter()
            .enumerate()
            .map(|(k, m)| {
                let mut delta: BTreeMap<i64, f64> = BTreeMap::new();
                for r in &m.receipts {
                    *delta.entry(r.time).or_default() += r.quantity;
                }
                let mut producers = Vec::new();
                for (o, pl) in place.iter().enumerate() {
                    let Some(pl) = pl else { continue };
                    if let Some(&(_, q)) = consumes[o].iter().find(|x| x.0 == k) {
                        *delta.entry(pl.start).or_default() -= q;
                    }
                    let made: f64 = p.operations[o]
                        .produces
                        .iter()
                        .filter(|x| x.material == m.id)
                        .map(|x| x.quantity)
                        .sum();
                    if made > 0.0 {
                        *delta.entry(pl.end).or_default() += made;
                        producers.push((o, pl.end));
                    }
                }
                let mut level = m.initial;
                let mut times = Vec::with_capacity(delta.len());
                let mut levels = Vec::with_capacity(delta.len());
                for (t, d) in delta {
                    level += d;
                    times.push(t);
                    levels.push(level);
                }
                MaterialProfile {
                    initial: m.initial,
                    times,
                    level: levels,
                    producers,
                }
            })
            .collect();
        Ok(Context {
            p,
            units,
            pools,
            unit_idx,
            pool_idx,
            place,
            op_order,
            last_op,
            preds,
            max_lag_succs,
            prev,
            setup,
            seqs,
            avail,
            downtime,
            pool_uses,
            consumes,
            pool_profiles,
            materials,
        })
    }

    fn at(&self, o: usize) -> Placed {
        self.place[o].expect("only scheduled operations are walked")
    }

    fn op_id(&self, o: usize) -> String {
        self.p.operations[o].id.clone()
    }

    /// The walk from `last` (of order `k`) back to the order's release.
    fn chain(&self, k: usize, last: usize) -> Vec<Link> {
        let floor = self.p.orders[k].release;
        let mut links = Vec::new();
        let mut visited = vec![false; self.p.operations.len()];
        let mut cursor = self.at(last).end;
        let mut next = Some((last, Via::Last));
        let mut emit = |links: &mut Vec<Link>, from: i64, to: i64, cause: Cause, kind: LinkKind| {
            if cursor <= floor {
                return false;
            }
            debug_assert_eq!(to, cursor, "links tile the time");
            let from = from.max(floor);
            links.push(Link {
                from,
                to,
                minutes: to - from,
                cause,
                kind,
            });
            cursor = from;
            from > floor
        };
        'walk: while let Some((o, via)) = next.take() {
            visited[o] = true;
            let pl = self.at(o);
            let own = self.op_order[o] == k;
            let cause = match &via {
                Via::Last => Cause::Processing,
                Via::Precedence { .. } if own => Cause::Processing,
                Via::Precedence { .. } => Cause::Precedence,
                Via::Unit { .. } => Cause::Unit,
                Via::Pool { .. } => Cause::Pool,
                Via::Material { .. } => Cause::Material,
            };
            let kind = LinkKind::Operation {
                op: self.op_id(o),
                order: self.p.orders[self.op_order[o]].id.clone(),
                unit: self.units[pl.unit].to_owned(),
                via,
            };
            if !emit(&mut links, pl.start, pl.end, cause, kind) {
                break;
            }
            if let Some(f) = &self.p.operations[o].fixed {
                let kind = LinkKind::Frozen {
                    op: self.op_id(o),
                    unit: f.unit.clone(),
                };
                emit(&mut links, floor, pl.start, Cause::Frozen, kind);
                break;
            }
            let (bound, hard) = self.hard_bound(o, &visited);
            let stretches = self.stretches(o, bound);
            for (from, to, block) in stretches.iter().rev() {
                let lift = match block {
                    Block::Pool {
                        pool,
                        lift_op: Some(x),
                        ..
                    } if !visited[*x] => Some((
                        *x,
                        Via::Pool {
                            succ: self.op_id(o),
                            pool: self.pools[*pool].to_owned(),
                            holders: self.holders(*pool, o, *from, *to),
                        },
                    )),
                    Block::Material {
                        material,
                        lift_op: Some(x),
                        ..
                    } if !visited[*x] => Some((
                        *x,
                        Via::Material {
                            succ: self.op_id(o),
                            material: self.p.materials[*material].id.clone(),
                        },
                    )),
                    _ => None,
                };
                if lift.is_some() {
                    next = lift;
                    continue 'walk;
                }
                let (cause, kind) = self.block_link(o, *from, *to, block);
                if !emit(&mut links, *from, *to, cause, kind) {
                    break 'walk;
                }
            }
            match hard {
                Hard::Pred { pred, min_lag } => {
                    if min_lag != 0 {
                        let kind = LinkKind::Lag {
                            pred: self.op_id(pred),
                            op: self.op_id(o),
                            min_lag,
                        };
                        if !emit(
                            &mut links,
                            self.at(pred).end,
                            bound,
                            Cause::Precedence,
                            kind,
                        ) {
                            break;
                        }
                    }
                    next = Some((
                        pred,
                        Via::Precedence {
                            succ: self.op_id(o),
                            min_lag,
                        },
                    ));
                }
                Hard::Unit { prev } => {
                    let s = &self.setup[o];
                    if s.minutes != 0 {
                        let kind = LinkKind::Setup {
                            unit: self.units[pl.unit].to_owned(),
                            op: self.op_id(o),
                            after: self.op_id(prev),
                            changeover: s.changeover.clone(),
                            cip: s.cip.clone(),
                        };
                        if !emit(&mut links, self.at(prev).end, bound, Cause::Setup, kind) {
                            break;
                        }
                    }
                    next = Some((
                        prev,
                        Via::Unit {
                            succ: self.op_id(o),
                        },
                    ));
                }
                Hard::Release { release } => {
                    let kind = LinkKind::Release {
                        op: self.op_id(o),
                        order: self.p.orders[self.op_order[o]].id.clone(),
                        release,
                    };
                    emit(&mut links, floor, bound, Cause::Release, kind);
                }
                Hard::None => {
                    let kind = LinkKind::Idle { op: self.op_id(o) };
                    emit(&mut links, floor, bound, Cause::Idle, kind);
                }
            }
        }
        links
    }

    /// The latest of the release, predecessor and unit bounds not after the start (ties go to
    /// precedence, then the unit, then the release), and which it is.
    fn hard_bound(&self, o: usize, visited: &[bool]) -> (i64, Hard) {
        let pl = self.at(o);
        let op = &self.p.operations[o];
        let release = self.p.orders[self.op_order[o]]
            .release
            .max(op.release.unwrap_or(NEG));
        let mut best: Option<(i64, u8, Hard)> = None;
        let mut offer = |b: i64, prio: u8, hard: Hard| {
            if b <= pl.start && best.is_none_or(|(bb, bp, _)| b > bb || (b == bb && prio < bp)) {
                best = Some((b, prio, hard));
            }
        };
        for &(pred, min_lag) in &self.preds[o] {
            if let Some(pp) = self.place[pred]
                && !visited[pred]
            {
                offer(pp.end + min_lag, 0, Hard::Pred { pred, min_lag });
            }
        }
        if let Some(prev) = self.prev[o]
            && !visited[prev]
        {
            offer(
                self.at(prev).end + self.setup[o].minutes,
                1,
                Hard::Unit { prev },
            );
        }
        offer(release, 2, Hard::Release { release });
        best.map_or((pl.start, Hard::None), |(b, _, h)| (b, h))
    }

    /// The stretches from `bound` to the operation's start and what blocked each.
    fn stretches(&self, o: usize, bound: i64) -> Vec<(i64, i64, Block)> {
        let pl = self.at(o);
        let s = pl.start;
        let dur = pl.end - pl.start;
        let setup = self.setup[o].minutes;
        let mut out = Vec::new();
        let mut t = bound;
        while t < s {
            let mut worst: Option<(i64, Block)> = None;
            let mut consider = |c: i64, block: Block| {
                let c = c.min(s).max(t + 1);
                if worst.as_ref().is_none_or(|(w, _)| c > *w) {
                    worst = Some((c, block));
                }
            };
            if let Some((c, block)) = self.unit_wait(pl.unit, t, setup, dur, s) {
                consider(c, block);
            }
            for &(k, q) in &self.pool_uses[o] {
                if let Some((c, block)) = self.pool_wait(k, o, q, t, dur, s) {
                    consider(c, block);
                }
            }
            for &(k, q) in &self.consumes[o] {
                if let Some((c, block)) = self.material_wait(k, q, t, s) {
                    consider(c, block);
                }
            }
            for &(succ, max_lag) in &self.max_lag_succs[o] {
                if let Some(sp) = self.place[succ] {
                    let earliest = sp.start - max_lag - dur;
                    if earliest > t {
                        consider(earliest, Block::MaxLag { succ, max_lag });
                    }
                }
            }
            match worst {
                Some((c, block)) => {
                    out.push((t, c, block));
                    t = c;
                }
                None => {
                    out.push((t, s, Block::Idle));
                    t = s;
                }
            }
        }
        out
    }

    /// `None` when the unit can take setup plus run at `t`; else when it first can, and why not.
    fn unit_wait(&self, u: usize, t: i64, setup: i64, dur: i64, s: i64) -> Option<(i64, Block)> {
        let avail = &self.avail[u];
        let fits = |c: i64| {
            avail
                .iter()
                .any(|w| w.start <= c - setup && c + dur <= w.end)
        };
        if fits(t) {
            return None;
        }
        for w in avail {
            let c = (w.start + setup).max(t);
            if c > s {
                break;
            }
            if c + dur <= w.end {
                let block = match w.opened {
                    Opened::Calendar => Block::Calendar,
                    Opened::Downtime(d) => Block::Downtime(d),
                };
                return Some((c, block));
            }
        }
        // Not before the start: say what blocks at `t`.
        let block = self.downtime[u]
            .iter()
            .find(|d| d.start < t + dur && t - setup < d.end)
            .map_or(Block::Calendar, |d| Block::Downtime(*d));
        Some((s, block))
    }

    /// The first segment of pool `k` over `[from, to)` with less than `q` free (the operation's
    /// own use added back), if any.
    fn pool_short(&self, k: usize, o: usize, q: i64, from: i64, to: i64) -> Option<usize> {
        let prof = &self.pool_profiles[k];
        let own = self.at(o);
        let mut i = prof.times.partition_point(|&x| x <= from).saturating_sub(1);
        while i < prof.times.len() && prof.times[i] < to {
            let t = prof.times[i];
            let mut free = prof.cap[i] - prof.used[i];
            if own.start <= t && t < own.end {
                free += q;
            }
            if free < q {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    fn pool_wait(
        &self,
        k: usize,
        o: usize,
        q: i64,
        t: i64,
        dur: i64,
        s: i64,
    ) -> Option<(i64, Block)> {
        let prof = &self.pool_profiles[k];
        let mut c = t;
        // Every start before the end of a short segment overlaps it: jump past it.
        while let Some(i) = self.pool_short(k, o, q, c, c + dur) {
            c = prof.times.get(i + 1).copied().unwrap_or(POS);
            if c > s {
                return Some((
                    s,
                    Block::Pool {
                        pool: k,
                        lift_op: None,
                        capacity: None,
                    },
                ));
            }
        }
        if c == t {
            return None;
        }
        let ending = prof.ends.partition_point(|x| x.0 < c);
        let lift_op = prof.ends[ending..]
            .iter()
            .take_while(|x| x.0 == c)
            .map(|x| x.1)
            .filter(|&x| x != o)
            .min_by(|&a, &b| self.p.operations[a].id.cmp(&self.p.operations[b].id));
        let i = prof.times.partition_point(|&x| x <= c) - 1;
        let rose = i > 0 && prof.cap[i] > prof.cap[i - 1];
        let capacity = (lift_op.is_none() && rose).then(|| prof.cap[i] as u32);
        Some((
            c,
            Block::Pool {
                pool: k,
                lift_op,
                capacity,
            },
        ))
    }

    /// Material `k`: the level must stay at least `q` over `[c, s)` for the operation to start at
    /// `c` instead of `s` (from `s` on nothing changes).
    fn material_wait(&self, k: usize, q: f64, t: i64, s: i64) -> Option<(i64, Block)> {
        let m = &self.materials[k];
        let low = |level: f64| level < q - TOL * m.initial.abs().max(1.0);
        // Pieces of the level over [t, s): (piece start, level).
        let first = m.times.partition_point(|&x| x <= t);
        let level_at_t = if first == 0 {
            m.initial
        } else {
            m.level[first - 1]
        };
        let mut last_low: Option<usize> = low(level_at_t).then_some(first);
        let mut i = first;
        while i < m.times.len() && m.times[i] < s {
            if low(m.level[i]) {
                last_low = Some(i + 1);
            }
            i += 1;
        }
        // Blocked until the event after the last low piece.
        let after = last_low?;
        let c = m.times.get(after).copied().unwrap_or(s).min(s);
        let mut lift_op = None;
        let mut receipt = None;
        if c < s || m.times.get(after) == Some(&s) {
            lift_op = m
                .producers
                .iter()
                .filter(|x| x.1 == c)
                .map(|x| x.0)
                .min_by(|&a, &b| self.p.operations[a].id.cmp(&self.p.operations[b].id));
            let arrived: f64 = self.p.materials[k]
                .receipts
                .iter()
                .filter(|r| r.time == c)
                .map(|r| r.quantity)
                .sum();
            if lift_op.is_none() && arrived > 0.0 {
                receipt = Some(Receipt {
                    time: c,
                    quantity: arrived,
                });
            }
        }
        Some((
            c,
            Block::Material {
                material: k,
                quantity: q,
                lift_op,
                receipt,
            },
        ))
    }

    /// Operations other than `o` using pool `k` over `[from, to)`.
    fn holders(&self, k: usize, o: usize, from: i64, to: i64) -> Vec<String> {
        let users = &self.pool_profiles[k].users;
        let to = to.max(from + 1);
        users[..users.partition_point(|u| u.2 < to)]
            .iter()
            .filter(|u| u.0 != o && from < u.3)
            .map(|u| self.op_id(u.0))
            .collect()
    }

    fn block_link(&self, o: usize, from: i64, to: i64, block: &Block) -> (Cause, LinkKind) {
        let unit = || self.units[self.at(o).unit].to_owned();
        match block {
            Block::Calendar => (
                Cause::Calendar,
                LinkKind::Calendar {
                    unit: unit(),
                    op: self.op_id(o),
                },
            ),
            Block::Downtime(window) => (
                Cause::Downtime,
                LinkKind::Downtime {
                    unit: unit(),
                    op: self.op_id(o),
                    window: *window,
                },
            ),
            Block::Pool { pool, capacity, .. } => (
                Cause::Pool,
                LinkKind::Pool {
                    pool: self.pools[*pool].to_owned(),
                    op: self.op_id(o),
                    holders: self.holders(*pool, o, from, to),
                    capacity: *capacity,
                },
            ),
            Block::Material {
                material,
                quantity,
                receipt,
                ..
            } => (
                Cause::Material,
                LinkKind::Material {
                    material: self.p.materials[*material].id.clone(),
                    op: self.op_id(o),
                    quantity: *quantity,
                    receipt: *receipt,
                },
            ),
            Block::MaxLag { succ, max_lag } => (
                Cause::MaxLag,
                LinkKind::MaxLag {
                    op: self.op_id(o),
                    succ: self.op_id(*succ),
                    max_lag: *max_lag,
                },
            ),
            Block::Idle => (Cause::Idle, LinkKind::Idle { op: self.op_id(o) }),
        }
    }

    /// The unit a link of a late chain charges (busy, setup, calendar, downtime).
    fn unit_of_link(&self, l: &Link) -> Option<usize> {
        let id = match &l.kind {
            LinkKind::Operation {
                unit,
                via: Via::Unit { .. },
                ..
            }
            | LinkKind::Setup { unit, .. }
            | LinkKind::Calendar { unit, .. }
            | LinkKind::Downtime { unit, .. } => unit,
            _ => return None,
        };
        self.unit_idx.get(id.as_str()).copied()
    }

    /// The pool a link of a late chain charges.
    fn pool_of_link(&self, l: &Link) -> Option<usize> {
        let id = match &l.kind {
            LinkKind::Operation {
                via: Via::Pool { pool, .. },
                ..
            }
            | LinkKind::Pool { pool, .. } => pool,
            _ => return None,
        };
        self.pool_idx.get(id.as_str()).copied()
    }

    fn span(&self) -> Interval {
        let mut start = 0i64;
        let mut end = NEG;
        for (o, pl) in self.place.iter().enumerate() {
            if let Some(pl) = pl {
                start = start.min(pl.start - self.setup[o].minutes);
                end = end.max(pl.end);
            }
        }
        Interval {
            start,
            end: end.max(start),
        }
    }

    fn unit_loads(&self, span: Interval, late: &[(BTreeSet<usize>, i64)]) -> Vec<UnitLoad> {
        self.seqs
            .iter()
            .enumerate()
            .map(|(u, seq)| {
                let mut l = UnitLoad {
                    unit: self.units[u].to_owned(),
                    rank: 0,
                    operations: seq.len(),
                    processing_minutes: 0,
                    setup_minutes: 0,
                    changeover_minutes: 0,
                    changeovers: 0,
                    cip_minutes: 0,
                    cips: 0,
                    busy_minutes: 0,
                    available_minutes: 0,
                    load_percent: None,
                    late_orders: late[u].0.len(),
                    late_minutes: late[u].1,
                };
                for &o in seq {
                    let pl = self.at(o);
                    l.processing_minutes += pl.end - pl.start;
                    let s = &self.setup[o];
                    l.setup_minutes += s.minutes;
                    if let Some(c) = &s.changeover {
                        l.changeovers += 1;
                        l.changeover_minutes += c.minutes;
                    }
                    if let Some(c) = &s.cip {
                        l.cips += 1;
                        l.cip_minutes += c.minutes;
                    }
                }
                l.busy_minutes = l.processing_minutes + l.setup_minutes;
                l.available_minutes = self.avail[u]
                    .iter()
                    .map(|w| (w.end.min(span.end) - w.start.max(span.start)).max(0))
                    .sum();
                if l.available_minutes > 0 {
                    l.load_percent =
                        Some(100.0 * l.busy_minutes as f64 / l.available_minutes as f64);
                }
                l
            })
            .collect()
    }

    fn pool_loads(&self, span: Interval, late: &[(BTreeSet<usize>, i64)]) -> Vec<PoolLoad> {
        self.pool_profiles
            .iter()
            .enumerate()
            .map(|(k, prof)| {
                let mut l = PoolLoad {
                    pool: self.pools[k].to_owned(),
                    rank: 0,
                    capacity: self.p.pools[k].capacity,
                    capacity_minutes: 0,
                    used_minutes: 0,
                    average_utilization_percent: None,
                    minutes_at_full_capacity: 0,
                    peak: 0,
                    late_orders: late[k].0.len(),
                    late_minutes: late[k].1,
                };
                for i in 0..prof.times.len() {
                    let next = prof.times.get(i + 1).copied().unwrap_or(POS);
                    let len = (next.min(span.end) - prof.times[i].max(span.start)).max(0);
                    if len == 0 {
                        continue;
                    }
                    let (cap, used) = (prof.cap[i], prof.used[i]);
                    l.capacity_minutes += cap * len;
                    l.used_minutes += used * len;
                    l.peak = l.peak.max(used);
                    if cap > 0 && used >= cap {
                        l.minutes_at_full_capacity += len;
                    }
                }
                if l.capacity_minutes > 0 {
                    l.average_utilization_percent =
                        Some(100.0 * l.used_minutes as f64 / l.capacity_minutes as f64);
                }
                l
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plant::problem::Assignment;
    use proptest::prelude::*;
    use serde_json::json;

    fn problem(extra: serde_json::Value) -> PlantProblem {
        let mut base = json!({
            "horizon_start": "2026-03-02T00:00:00Z",
            "horizon_minutes": 1440,
            "units": [{"id": "U1"}, {"id": "U2"}],
            "orders": [],
            "operations": []
        });
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        let p: PlantProblem = serde_json::from_value(base).unwrap();
        p.validate().unwrap();
        p
    }

    fn op(id: &str, order: &str, unit: &str, minutes: i64) -> serde_json::Value {
        json!({"id": id, "order": order, "alternatives": [{"unit": unit, "minutes": minutes}]})
    }

    fn schedule(rows: &[(&str, &str, i64, i64)]) -> PlantSchedule {
        PlantSchedule {
            assignments: rows
                .iter()
                .map(|&(op, unit, start, end)| Assignment {
                    op: op.into(),
                    unit: unit.into(),
                    start,
                    end,
                })
                .collect(),
        }
    }

    fn late<'e>(e: &'e Explanation, order: &str) -> &'e LateOrder {
        e.late_orders
            .iter()
            .find(|l| l.order == order)
            .unwrap_or_else(|| panic!("{order} is not late: {e:#?}"))
    }

    /// (kind, from, to) of each link, and the ops they name, for compact assertions.
    fn spans(chain: &[Link]) -> Vec<(Cause, i64, i64)> {
        chain.iter().map(|l| (l.cause, l.from, l.to)).collect()
    }

    fn operation(l: &Link) -> (&str, &str, &Via) {
        match &l.kind {
            LinkKind::Operation { op, unit, via, .. } => (op, unit, via),
            other => panic!("not an operation link: {other:?}"),
        }
    }

    #[test]
    fn precedence_and_min_lag() {
        let mut a2 = op("a2", "A", "U2", 50);
        a2["predecessors"] = json!([{"op": "a1", "min_lag": 20}]);
        let p = problem(json!({
            "orders": [{"id": "A", "due": 100}],
            "operations": [op("a1", "A", "U1", 100), a2]
        }));
        let s = schedule(&[("a1", "U1", 0, 100), ("a2", "U2", 120, 170)]);
        let e = explain(&p, &s).unwrap();
        let a = late(&e, "A");
        assert_eq!(
            (a.completion, a.minutes_late, a.last_op.as_str()),
            (170, 70, "a2")
        );
        assert_eq!(
            spans(&a.chain),
            vec![
                (Cause::Processing, 120, 170),
                (Cause::Precedence, 100, 120),
                (Cause::Processing, 0, 100)
            ]
        );
        assert_eq!(operation(&a.chain[0]), ("a2", "U2", &Via::Last));
        assert_eq!(
            a.chain[1].kind,
            LinkKind::Lag {
                pred: "a1".into(),
                op: "a2".into(),
                min_lag: 20
            }
        );
        assert_eq!(
            operation(&a.chain[2]).2,
            &Via::Precedence {
                succ: "a2".into(),
                min_lag: 20
            }
        );
        assert_eq!(a.dominant_cause, Cause::Precedence);
        assert_eq!(e.total_minutes_late, 70);
    }

    #[test]
    fn unit_contention_clipped_at_the_release() {
        let p = problem(json!({
            "orders": [{"id": "A", "release": 20, "due": 60}, {"id": "B"}],
            "operations": [op("a1", "A", "U1", 50), op("b1", "B", "U1", 100)]
        }));
        let s = schedule(&[("b1", "U1", 0, 100), ("a1", "U1", 100, 150)]);
        let e = explain(&p, &s).unwrap();
        let a = late(&e, "A");
        assert_eq!(a.minutes_late, 90);
        assert_eq!(
            spans(&a.chain),
            vec![(Cause::Processing, 100, 150), (Cause::Unit, 20, 100)]
        );
        assert_eq!(
            operation(&a.chain[1]),
            ("b1", "U1", &Via::Unit { succ: "a1".into() })
        );
        assert!(matches!(&a.chain[1].kind, LinkKind::Operation { order, .. } if order == "B"));
        assert_eq!(a.dominant_cause, Cause::Unit);
        let u1 = &e.units[0];
        assert_eq!((u1.unit.as_str(), u1.rank), ("U1", 1));
        assert_eq!((u1.late_orders, u1.late_minutes), (1, 80));
        assert_eq!((u1.busy_minutes, u1.available_minutes), (150, 150));
        assert_eq!(u1.load_percent, Some(100.0));
        assert_eq!(e.units[1].load_percent, Some(0.0));
    }

    #[test]
    fn pool_contention_names_the_pool_and_its_holders() {
        let mut a1 = op("a1", "A", "U1", 40);
        a1["pools"] = json!([{"pool": "TECH", "quantity": 1}]);
        let mut b1 = op("b1", "B", "U2", 80);
        b1["pools"] = json!([{"pool": "TECH", "quantity": 1}]);
        let mut c1 = op("c1", "C", "U2", 50);
        c1["pools"] = json!([{"pool": "OVEN", "quantity": 1}]);
        let p = problem(json!({
            "pools": [{"id": "TECH", "capacity": 1},
                      {"id": "OVEN", "capacity": 1, "dips": [{"start": 0, "end": 90, "capacity": 0}]}],
            "orders": [{"id": "A", "due": 100}, {"id": "B"}, {"id": "C", "due": 100}],
            "operations": [a1, b1, c1]
        }));
        let s = schedule(&[
            ("b1", "U2", 0, 80),
            ("a1", "U1", 80, 120),
            ("c1", "U2", 90, 140),
        ]);
        let e = explain(&p, &s).unwrap();
        let a = late(&e, "A");
        assert_eq!(
            spans(&a.chain),
            vec![(Cause::Processing, 80, 120), (Cause::Pool, 0, 80)]
        );
        assert_eq!(
            operation(&a.chain[1]),
            (
                "b1",
                "U2",
                &Via::Pool {
                    succ: "a1".into(),
                    pool: "TECH".into(),
                    holders: vec!["b1".into()]
                }
            )
        );
        assert_eq!(a.dominant_cause, Cause::Pool);
        // The oven is closed by a capacity dip until 90: c1 waits on U2 first for b1 (the
        // unit), but the dip holds it longer.
        let c = late(&e, "C");
        assert_eq!(
            spans(&c.chain),
            vec![
                (Cause::Processing, 90, 140),
                (Cause::Pool, 80, 90),
                (Cause::Unit, 0, 80)
            ]
        );
        assert_eq!(
            c.chain[1].kind,
            LinkKind::Pool {
                pool: "OVEN".into(),
                op: "c1".into(),
                holders: vec![],
                capacity: Some(1)
            }
        );
        let tech = e.pools.iter().find(|x| x.pool == "TECH").unwrap();
        assert_eq!(tech.rank, 1);
        assert_eq!((tech.late_orders, tech.late_minutes), (1, 80));
        assert_eq!((tech.minutes_at_full_capacity, tech.peak), (120, 1));
        // Busy 120 of the span's 140 minutes.
        assert_eq!((e.span.start, e.span.end), (0, 140));
        assert_eq!((tech.used_minutes, tech.capacity_minutes), (120, 140));
        assert_eq!(
            tech.average_utilization_percent,
            Some(100.0 * 120.0 / 140.0)
        );
        let oven = e.pools.iter().find(|x| x.pool == "OVEN").unwrap();
        assert_eq!(oven.capacity_minutes, 50);
        assert_eq!(oven.minutes_at_full_capacity, 50);
    }

    #[test]
    fn material_from_a_receipt_and_from_a_producer() {
        let mut a1 = op("a1", "A", "U3", 60);
        a1["consumes"] = json!([{"material": "M", "quantity": 10}]);
        let mut b1 = op("b1", "B", "U2", 150);
        b1["produces"] = json!([{"material": "M", "quantity": 10}]);
        let mut c1 = op("c1", "C", "U1", 50);
        c1["consumes"] = json!([{"material": "M", "quantity": 10}]);
        let p = problem(json!({
            "units": [{"id": "U1"}, {"id": "U2"}, {"id": "U3"}],
            "materials": [{"id": "M", "initial": 0, "receipts": [{"time": 300, "quantity": 10}]}],
            "orders": [{"id": "A", "due": 320}, {"id": "B"}, {"id": "C", "due": 180}],
            "operations": [a1, b1, c1]
        }));
        let s = schedule(&[
            ("b1", "U2", 0, 150),
            ("c1", "U1", 150, 200),
            ("a1", "U3", 300, 360),
        ]);
        let e = explain(&p, &s).unwrap();
        let c = late(&e, "C");
        assert_eq!(
            spans(&c.chain),
            vec![(Cause::Processing, 150, 200), (Cause::Material, 0, 150)]
        );
        assert_eq!(
            operation(&c.chain[1]),
            (
                "b1",
                "U2",
                &Via::Material {
                    succ: "c1".into(),
                    material: "M".into()
                }
            )
        );
        let a = late(&e, "A");
        assert_eq!(
            spans(&a.chain),
            vec![(Cause::Processing, 300, 360), (Cause::Material, 0, 300)]
        );
        assert_eq!(
            a.chain[1].kind,
            LinkKind::Material {
                material: "M".into(),
                op: "a1".into(),
                quantity: 10.0,
                receipt: Some(Receipt {
                    time: 300,
                    quantity: 10.0
                })
            }
        );
        assert_eq!(a.dominant_cause, Cause::Material);
    }

    #[test]
    fn changeover_and_cip_name_keys_and_minutes() {
        let mut a1 = op("a1", "A", "U1", 60);
        a1["family"] = json!("FAM-B");
        a1["product"] = json!("P2");
        let mut b1 = op("b1", "B", "U1", 60);
        b1["family"] = json!("FAM-A");
        b1["product"] = json!("P1");
        let p = problem(json!({
            "units": [{"id": "U1", "changeover": "CO", "cip": {"minutes": 30, "cost": 5, "on_product_change": true}}, {"id": "U2"}],
            "changeovers": [{"id": "CO", "keyed_by": {"kind": "family"}, "default_minutes": 10,
                             "entries": [{"from": "FAM-A", "to": "FAM-B", "minutes": 45, "cost": 7}]}],
            "orders": [{"id": "A", "due": 150}, {"id": "B"}],
            "operations": [a1, b1]
        }));
        let s = schedule(&[("b1", "U1", 0, 60), ("a1", "U1", 135, 195)]);
        let e = explain(&p, &s).unwrap();
        let a = late(&e, "A");
        assert_eq!(
            spans(&a.chain),
            vec![
                (Cause::Processing, 135, 195),
                (Cause::Setup, 60, 135),
                (Cause::Unit, 0, 60)
            ]
        );
        assert_eq!(
            a.chain[1].kind,
            LinkKind::Setup {
                unit: "U1".into(),
                op: "a1".into(),
                after: "b1".into(),
                changeover: Some(ChangeoverSetup {
                    table: "CO".into(),
                    from: "FAM-A".into(),
                    to: "FAM-B".into(),
                    minutes: 45,
                    cost: 7.0
                }),
                cip: Some(CipSetup {
                    minutes: 30,
                    cost: 5.0,
                    reasons: vec![CipReason::ProductChange {
                        from: Some("P1".into()),
                        to: Some("P2".into())
                    }]
                })
            }
        );
        assert_eq!(a.dominant_cause, Cause::Setup);
        let u1 = e.units.iter().find(|u| u.unit == "U1").unwrap();
        assert_eq!(
            (
                u1.changeovers,
                u1.changeover_minutes,
                u1.cips,
                u1.cip_minutes,
                u1.busy_minutes
            ),
            (1, 45, 1, 30, 195)
        );
        assert_eq!(u1.late_minutes, 135);
    }

    #[test]
    fn downtime_calendar_and_max_lag() {
        let mut a2 = op("a2", "A", "U2", 60);
        a2["predecessors"] = json!([{"op": "a1", "max_lag": 10}]);
        let p = problem(json!({
            "units": [{"id": "U1"}, {"id": "U2", "downtime": [{"start": 0, "end": 200}]},
                      {"id": "U3", "availability": [{"start": 300, "end": 600}]}],
            "orders": [{"id": "A", "due": 210}, {"id": "C", "due": 100}],
            "operations": [op("a1", "A", "U1", 50), a2, op("c1", "C", "U3", 30)]
        }));
        let s = schedule(&[
            ("a1", "U1", 140, 190),
            ("a2", "U2", 200, 260),
            ("c1", "U3", 300, 330),
        ]);
        let e = explain(&p, &s).unwrap();
        let a = late(&e, "A");
        assert_eq!(
            spans(&a.chain),
            vec![
                (Cause::Processing, 200, 260),
                (Cause::Downtime, 190, 200),
                (Cause::Processing, 140, 190),
                (Cause::MaxLag, 0, 140)
            ]
        );
        assert_eq!(
            a.chain[1].kind,
            LinkKind::Downtime {
                unit: "U2".into(),
                op: "a2".into(),
                window: Interval { start: 0, end: 200 }
            }
        );
        assert_eq!(
            a.chain[3].kind,
            LinkKind::MaxLag {
                op: "a1".into(),
                succ: "a2".into(),
                max_lag: 10
            }
        );
        let c = late(&e, "C");
        assert_eq!(
            spans(&c.chain),
            vec![(Cause::Processing, 300, 330), (Cause::Calendar, 0, 300)]
        );
        assert_eq!(c.dominant_cause, Cause::Calendar);
        // Availability over the span [0, 330): U2 loses its 200 minutes of downtime, U3 is
        // only open from 300.
        let avail = |id: &str| {
            e.units
                .iter()
                .find(|u| u.unit == id)
                .unwrap()
                .available_minutes
        };
        assert_eq!((avail("U1"), avail("U2"), avail("U3")), (330, 130, 30));
    }

    #[test]
    fn any_schedule_idle_frozen_and_release() {
        let mut f1 = op("f1", "F", "U1", 30);
        f1["fixed"] = json!({"unit": "U1", "start": 40});
        let mut r1 = op("r1", "R", "U2", 10);
        r1["release"] = json!(100);
        let p = problem(json!({
            "orders": [{"id": "A", "due": 60}, {"id": "F", "due": 50}, {"id": "R", "release": 30, "due": 100}],
            "operations": [op("a1", "A", "U2", 50), f1, r1]
        }));
        let s = schedule(&[
            ("f1", "U1", 40, 70),
            ("a1", "U2", 50, 100),
            ("r1", "U2", 100, 110),
        ]);
        let e = explain(&p, &s).unwrap();
        assert_eq!(
            spans(&late(&e, "A").chain),
            vec![(Cause::Processing, 50, 100), (Cause::Idle, 0, 50)]
        );
        let f = late(&e, "F");
        assert_eq!(
            spans(&f.chain),
            vec![(Cause::Processing, 40, 70), (Cause::Frozen, 0, 40)]
        );
        assert_eq!(f.dominant_cause, Cause::Frozen);
        // The operation's own release (100) beats the unit (a1 ends at 100) on a tie? No:
        // ties go to the unit, which ends at 100 too, and the chain follows a1 back.
        let r = late(&e, "R");
        assert_eq!(
            spans(&r.chain),
            vec![
                (Cause::Processing, 100, 110),
                (Cause::Unit, 50, 100),
                (Cause::Idle, 30, 50)
            ]
        );
        assert_eq!(e.late_orders[0].order, "A");
        let chain = order_chain(&p, &s, "R").unwrap();
        assert_eq!(chain, r.chain);
        assert!(order_chain(&p, &s, "NOPE").is_err());
    }

    #[test]
    fn bad_schedules_are_named() {
        let p = problem(json!({
            "orders": [{"id": "A"}],
            "operations": [op("a1", "A", "U1", 50)]
        }));
        let err = explain(&p, &schedule(&[("ghost", "U1", 0, 50)])).unwrap_err();
        assert!(err.to_string().contains("ghost"), "{err}");
        let err = explain(&p, &schedule(&[("a1", "U9", 0, 50)])).unwrap_err();
        assert!(err.to_string().contains("U9"), "{err}");
        let err =
            explain(&p, &schedule(&[("a1", "U1", 0, 50), ("a1", "U1", 60, 110)])).unwrap_err();
        assert!(err.to_string().contains("more than once"), "{err}");
        let e = explain(&p, &PlantSchedule::default()).unwrap();
        assert!(e.late_orders.is_empty());
        assert_eq!(e.span, Interval { start: 0, end: 0 });
    }

    /// The invariants of a chain against the problem and the schedule.
    fn assert_chain(p: &PlantProblem, s: &PlantSchedule, order: &str, chain: &[Link]) {
        let at: HashMap<&str, &Assignment> =
            s.assignments.iter().map(|a| (a.op.as_str(), a)).collect();
        let spec = |id: &str| p.operations.iter().find(|o| o.id == id).unwrap();
        let o = p.orders.iter().find(|o| o.id == order).unwrap();
        let completion = p
            .operations
            .iter()
            .filter(|x| x.order == order)
            .filter_map(|x| at.get(x.id.as_str()).map(|a| a.end))
            .max();
        let Some(completion) = completion.filter(|&c| c > o.release) else {
            assert!(chain.is_empty(), "{order}: {chain:#?}");
            return;
        };
        assert_eq!(chain[0].to, completion, "{order}");
        assert!(
            matches!(&chain[0].kind, LinkKind::Operation { via: Via::Last, order: x, .. } if x == order)
        );
        assert_eq!(chain.last().unwrap().from, o.release, "{order}: {chain:#?}");
        assert_eq!(
            chain.iter().map(|l| l.minutes).sum::<i64>(),
            completion - o.release
        );
        for w in chain.windows(2) {
            assert_eq!(w[1].to, w[0].from, "{order}: links do not tile: {chain:#?}");
        }
        for l in chain {
            assert_eq!(l.minutes, l.to - l.from);
            let clip = |t: i64| t.max(o.release);
            match &l.kind {
                LinkKind::Operation { op, unit, via, .. } => {
                    let a = at[op.as_str()];
                    assert_eq!((&a.unit, l.to, l.from), (unit, a.end, clip(a.start)));
                    match via {
                        Via::Precedence { succ, min_lag } => assert!(
                            spec(succ)
                                .predecessors
                                .iter()
                                .any(|x| x.op == *op && x.min_lag == *min_lag)
                        ),
                        Via::Unit { succ } => {
                            assert_eq!(at[succ.as_str()].unit, a.unit);
                            assert!(at[succ.as_str()].start >= a.end);
                        }
                        Via::Pool {
                            succ,
                            pool,
                            holders,
                        } => {
                            assert!(spec(op).pools.iter().any(|u| u.pool == *pool));
                            assert!(spec(succ).pools.iter().any(|u| u.pool == *pool));
                            assert!(holders.contains(op));
                        }
                        Via::Material { succ, material } => {
                            assert!(spec(op).produces.iter().any(|m| m.material == *material));
                            assert!(spec(succ).consumes.iter().any(|m| m.material == *material));
                        }
                        Via::Last => assert_eq!(l.to, completion),
                    }
                }
                LinkKind::Lag { pred, op, min_lag } => {
                    assert_eq!(l.from, clip(at[pred.as_str()].end));
                    assert!(
                        spec(op)
                            .predecessors
                            .iter()
                            .any(|x| x.op == *pred && x.min_lag == *min_lag)
                    );
                }
                LinkKind::Setup {
                    unit,
                    op,
                    after,
                    changeover,
                    cip,
                } => {
                    let (a, b) = (at[after.as_str()], at[op.as_str()]);
                    assert_eq!((&a.unit, &b.unit), (unit, unit));
                    assert_eq!(l.from, clip(a.end));
                    let minutes = changeover.as_ref().map_or(0, |c| c.minutes)
                        + cip.as_ref().map_or(0, |c| c.minutes);
                    assert_eq!(l.to, a.end + minutes);
                    assert!(b.start >= l.to);
                }
                LinkKind::Downtime { unit, window, .. } => {
                    let u = p.units.iter().find(|u| u.id == *unit).unwrap();
                    assert!(
                        u.downtime
                            .iter()
                            .any(|d| d.start < window.end && window.start < d.end)
                    );
                }
                LinkKind::Pool { pool, op, .. } => {
                    assert!(spec(op).pools.iter().any(|u| u.pool == *pool));
                    assert!(l.to <= at[op.as_str()].start);
                }
                LinkKind::Material { material, op, .. } => {
                    assert!(spec(op).consumes.iter().any(|m| m.material == *material));
                }
                LinkKind::MaxLag { op, succ, max_lag } => {
                    assert!(
                        spec(succ)
                            .predecessors
                            .iter()
                            .any(|x| x.op == *op && x.max_lag == Some(*max_lag))
                    );
                }
                LinkKind::Release { op, release, .. } => {
                    let x = spec(op);
                    let r = p
                        .orders
                        .iter()
                        .find(|o| o.id == x.order)
                        .unwrap()
                        .release
                        .max(x.release.unwrap_or(i64::MIN));
                    assert_eq!(*release, r);
                    assert_eq!(l.to, r);
                }
                LinkKind::Frozen { op, .. } => assert!(spec(op).fixed.is_some()),
                LinkKind::Calendar { .. } | LinkKind::Idle { .. } => {}
            }
        }
    }

    fn assert_explained(p: &PlantProblem, s: &PlantSchedule) {
        let e = explain(p, s).unwrap();
        for o in &p.orders {
            let chain = order_chain(p, s, &o.id).unwrap();
            assert_chain(p, s, &o.id, &chain);
            if let Some(l) = e.late_orders.iter().find(|l| l.order == o.id) {
                assert_eq!(l.chain, chain);
                assert_eq!(l.minutes_late, l.completion - l.due);
                assert!(l.minutes_late > 0);
                let top = l
                    .minutes_by_cause
                    .iter()
                    .filter(|c| c.cause != Cause::Processing)
                    .map(|c| c.minutes)
                    .max()
                    .unwrap_or(0);
                if top > 0 {
                    assert!(
                        l.minutes_by_cause
                            .iter()
                            .any(|c| c.cause == l.dominant_cause && c.minutes == top)
                    );
                }
            }
        }
        // The loads agree with the independent checker's KPIs.
        let k = crate::plant::checker::check(p, s).kpis;
        assert_eq!(e.late_orders.len(), k.late_orders);
        let wt: f64 = e
            .late_orders
            .iter()
            .map(|l| l.weight * l.minutes_late as f64)
            .sum();
        assert!((wt - k.weighted_tardiness).abs() < 1e-6);
        let sum = |f: fn(&UnitLoad) -> i64| e.units.iter().map(f).sum::<i64>();
        assert_eq!(
            sum(|u| u.changeover_minutes + u.cip_minutes),
            k.changeover_minutes
        );
        assert_eq!(sum(|u| u.changeovers as i64), k.changeovers as i64);
        assert_eq!(sum(|u| u.cips as i64), k.cips as i64);
        let ranks: Vec<usize> = e.units.iter().map(|u| u.rank).collect();
        assert_eq!(ranks, (1..=e.units.len()).collect::<Vec<_>>());
        // Deterministic.
        assert_eq!(explain(p, s).unwrap(), e);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(12), ..ProptestConfig::default() })]
        #[test]
        fn chains_tile_and_name_what_the_schedule_holds(seed in 0u64..1000, ops in 5usize..90, units in 3usize..10, shift in 0i64..400) {
            let p = crate::plant::generate::generate(crate::plant::generate::GenerateOptions { operations: ops, units, seed });
            let (model, _, decoded) = crate::plant::improve::first_feasible(&p, None).unwrap();
            let s = decoded.to_schedule(&model);
            assert_explained(&p, &s);
            // Any schedule, not only the solver's: everything later (infeasible in places).
            let mut moved = s.clone();
            for a in &mut moved.assignments {
                a.start += shift;
                a.end += shift;
            }
            assert_explained(&p, &moved);
            // Tighter due dates make more orders late.
            let mut tight = p.clone();
            for o in &mut tight.orders {
                o.due = o.due.map(|d| o.release + (d - o.release) / 4);
            }
            assert_explained(&tight, &s);
        }
    }
}
