//! The independent checker of mixed-mode schedules.
//!
//! It re-derives every rule of [`super::problem`] from the problem document itself, with its
//! own data structures (string-keyed maps, sorted event sweeps), and shares no code with the
//! solver ([`super::construct`], [`super::improve`]). Given a problem and a schedule it lists
//! every violated constraint with the ids involved, and recomputes the KPIs and the weighted
//! objective, so the solver's own score can be cross-checked.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::problem::{
    Assignment, ChangeoverTable, CipSpec, Interval, KeyedBy, MaterialSpec, OperationSpec,
    OrderSpec, PlantProblem, PlantSchedule, PoolSpec, UnitSpec,
};

/// One violated constraint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Violation {
    /// An operation of the problem is not in the schedule.
    MissingOperation { op: String },
    /// An operation appears more than once.
    DuplicateOperation { op: String },
    /// The schedule names an operation the problem does not have.
    UnknownOperation { op: String },
    /// The unit is not one of the operation's alternatives.
    WrongUnit { op: String, unit: String },
    /// `end - start` differs from the duration on that unit.
    WrongDuration {
        op: String,
        unit: String,
        expected: i64,
        actual: i64,
    },
    /// A frozen or in-progress operation is not where it was fixed.
    FrozenMoved {
        op: String,
        unit: String,
        start: i64,
        fixed_unit: String,
        fixed_start: i64,
    },
    /// Starts before its own or its order's release.
    Release {
        op: String,
        release: i64,
        start: i64,
    },
    /// Starts before a predecessor's end plus the minimum lag.
    Precedence {
        pred: String,
        op: String,
        earliest: i64,
        start: i64,
    },
    /// Starts after a predecessor's end plus the maximum lag.
    MaxLag {
        pred: String,
        op: String,
        latest: i64,
        start: i64,
    },
    /// Two consecutive operations on a unit are closer than the setup between them
    /// (changeover plus CIP), or overlap.
    UnitOverlap {
        unit: String,
        first: String,
        second: String,
        setup_minutes: i64,
        first_end: i64,
        second_start: i64,
    },
    /// An operation (with its setup) runs while its unit is unavailable.
    UnitUnavailable {
        unit: String,
        op: String,
        from: i64,
        to: i64,
    },
    /// Pool usage above its capacity at time `time`.
    PoolCapacity {
        pool: String,
        time: i64,
        used: u64,
        capacity: u64,
        ops: Vec<String>,
    },
    /// Inventory of a material below zero at time `time`.
    InventoryNegative {
        material: String,
        time: i64,
        level: f64,
    },
}

/// Recomputed KPIs and the weighted objective.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Kpis {
    /// Latest end (minutes from the horizon start).
    pub makespan: i64,
    /// Sum over orders of weight × minutes late.
    pub weighted_tardiness: f64,
    /// Orders with a due date that finish after it.
    pub late_orders: usize,
    pub changeover_minutes: i64,
    pub changeover_cost: f64,
    pub changeovers: usize,
    pub cips: usize,
    /// Minutes moved against the reference (unit changes count 60).
    pub stability: i64,
    /// Busy minutes / (units × makespan), in percent.
    pub utilization_percent: f64,
    /// The weighted objective.
    pub objective: f64,
}

/// The checker's verdict.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CheckReport {
    pub feasible: bool,
    pub violations: Vec<Violation>,
    pub kpis: Kpis,
}

const TOL: f64 = 1e-6;

fn covered(
    windows: &Option<Vec<Interval>>,
    downtime: &[Interval],
    horizon: i64,
    from: i64,
    to: i64,
) -> bool {
    if from >= to {
        return true;
    }
    if downtime.iter().any(|d| d.start < to && from < d.end) {
        return false;
    }
    let Some(windows) = windows else { return true };
    if from >= horizon {
        return true;
    }
    let need_to = to.min(horizon);
    // Merge the windows and look for one merged stretch holding [from, need_to).
    let mut sorted: Vec<(i64, i64)> = windows.iter().map(|w| (w.start, w.end)).collect();
    sorted.sort_unstable();
    let mut cur: Option<(i64, i64)> = None;
    for (s, e) in sorted {
        match cur {
            Some((cs, ce)) if s <= ce => cur = Some((cs, ce.max(e))),
            _ => {
                if let Some((cs, ce)) = cur
                    && cs <= from
                    && need_to <= ce
                {
                    return true;
                }
                cur = Some((s, e));
            }
        }
    }
    matches!(cur, Some((cs, ce)) if cs <= from && need_to <= ce)
}

fn op_key<'a>(op: &'a OperationSpec, keyed: &KeyedBy) -> Option<&'a str> {
    match keyed {
        KeyedBy::Family => op.family.as_deref(),
        KeyedBy::Attribute { name } => op.attributes.get(name).map(String::as_str),
    }
}

/// Checks `schedule` against `problem`.
pub fn check(problem: &PlantProblem, schedule: &PlantSchedule) -> CheckReport {
    let mut c = Checker::new(problem, schedule);
    let placed: Vec<(&str, &Assignment)> = c.placed.iter().map(|(&id, &a)| (id, a)).collect();
    for (id, a) in placed {
        c.duration(id, a);
        c.frozen_or_release(id, a);
        c.precedence(id, a);
    }
    let mut kpis = Kpis::default();
    let mut busy = 0i64;
    for unit in &problem.units {
        busy += c.unit_sequence(unit, &mut kpis);
    }
    for pool in &problem.pools {
        c.pool_capacity(pool);
    }
    for m in &problem.materials {
        c.inventory(m);
    }
    c.kpis(&mut kpis, busy);
    CheckReport {
        feasible: c.violations.is_empty(),
        violations: c.violations,
        kpis,
    }
}

/// The problem indexed by id, the schedule by operation, and the violations found so far.
struct Checker<'a> {
    problem: &'a PlantProblem,
    ops: HashMap<&'a str, &'a OperationSpec>,
    orders: HashMap<&'a str, &'a OrderSpec>,
    tables: HashMap<&'a str, &'a ChangeoverTable>,
    /// Each known operation's first assignment.
    placed: BTreeMap<&'a str, &'a Assignment>,
    violations: Vec<Violation>,
}

impl<'a> Checker<'a> {
    /// Indexes the problem and the schedule; unknown, duplicate and missing operations are the
    /// first violations.
    fn new(problem: &'a PlantProblem, schedule: &'a PlantSchedule) -> Checker<'a> {
        let mut c = Checker {
            problem,
            ops: problem
                .operations
                .iter()
                .map(|o| (o.id.as_str(), o))
                .collect(),
            orders: problem.orders.iter().map(|o| (o.id.as_str(), o)).collect(),
            tables: problem
                .changeovers
                .iter()
                .map(|t| (t.id.as_str(), t))
                .collect(),
            placed: BTreeMap::new(),
            violations: Vec::new(),
        };
        for a in &schedule.assignments {
            if !c.ops.contains_key(a.op.as_str()) {
                c.violations
                    .push(Violation::UnknownOperation { op: a.op.clone() });
            } else if c.placed.insert(a.op.as_str(), a).is_some() {
                c.violations
                    .push(Violation::DuplicateOperation { op: a.op.clone() });
            }
        }
        for op in &problem.operations {
            if !c.placed.contains_key(op.id.as_str()) {
                c.violations
                    .push(Violation::MissingOperation { op: op.id.clone() });
            }
        }
        c
    }

    /// The unit is one of the operation's alternatives, and the length is its duration there.
    fn duration(&mut self, id: &str, a: &Assignment) {
        let op = self.ops[id];
        match op.alternatives.iter().find(|x| x.unit == a.unit) {
            None => self.violations.push(Violation::WrongUnit {
                op: id.to_owned(),
                unit: a.unit.clone(),
            }),
            Some(alt) => {
                let expected = match (alt.minutes, alt.items_per_hour) {
                    (Some(m), _) => m,
                    (None, Some(r)) => alt.setup_minutes + (60.0 * op.quantity / r).ceil() as i64,
                    _ => -1,
                };
                if a.end - a.start != expected {
                    self.violations.push(Violation::WrongDuration {
                        op: id.to_owned(),
                        unit: a.unit.clone(),
                        expected,
                        actual: a.end - a.start,
                    });
                }
            }
        }
    }

    /// A fixed operation stays where it was fixed; any other starts at or after its release
    /// (its own, raised to its order's).
    fn frozen_or_release(&mut self, id: &str, a: &Assignment) {
        let op = self.ops[id];
        if let Some(f) = &op.fixed {
            if f.unit != a.unit || f.start != a.start {
                self.violations.push(Violation::FrozenMoved {
                    op: id.to_owned(),
                    unit: a.unit.clone(),
                    start: a.start,
                    fixed_unit: f.unit.clone(),
                    fixed_start: f.start,
                });
            }
            return;
        }
        let release = self
            .orders
            .get(op.order.as_str())
            .map_or(0, |o| o.release)
            .max(op.release.unwrap_or(i64::MIN));
        if a.start < release {
            self.violations.push(Violation::Release {
                op: id.to_owned(),
                release,
                start: a.start,
            });
        }
    }

    /// Each scheduled predecessor's end plus the min lag, and plus the max lag if any, bound
    /// the start. Not a fixed operation's: its start is a fact of the shop floor (frozen or
    /// begun), as its release and calendar are not checked either; no schedule can move it,
    /// so a predecessor that cannot end in time is a conflict of the input for the planner,
    /// not a fault of the schedule (fuzz finding 4). Lags from a fixed operation onto the
    /// operations after it are checked as any other.
    fn precedence(&mut self, id: &str, a: &Assignment) {
        if self.ops[id].fixed.is_some() {
            return;
        }
        for lag in &self.ops[id].predecessors {
            let Some(p) = self.placed.get(lag.op.as_str()) else {
                continue;
            };
            let earliest = p.end + lag.min_lag;
            if a.start < earliest {
                self.violations.push(Violation::Precedence {
                    pred: lag.op.clone(),
                    op: id.to_owned(),
                    earliest,
                    start: a.start,
                });
            }
            if let Some(max) = lag.max_lag
                && a.start > p.end + max
            {
                self.violations.push(Violation::MaxLag {
                    pred: lag.op.clone(),
                    op: id.to_owned(),
                    latest: p.end + max,
                    start: a.start,
                });
            }
        }
    }

    /// A unit's operations by start: the setup between consecutive ones (changeover and CIP,
    /// counted into `kpis`) fits between them, and each runs (with its setup) while the unit
    /// is available. Returns the unit's busy minutes.
    fn unit_sequence(&mut self, unit: &UnitSpec, kpis: &mut Kpis) -> i64 {
        let mut seq: Vec<&Assignment> = self
            .placed
            .values()
            .copied()
            .filter(|a| a.unit == unit.id)
            .collect();
        seq.sort_by(|x, y| (x.start, x.end, &x.op).cmp(&(y.start, y.end, &y.op)));
        let table = unit
            .changeover
            .as_deref()
            .and_then(|t| self.tables.get(t).copied());
        let mut cip = CipCount::default();
        let mut busy = 0i64;
        let mut prev: Option<&Assignment> = None;
        for a in seq {
            let op = self.ops[a.op.as_str()];
            let dur = a.end - a.start;
            busy += dur.max(0);
            let prev_op = prev.map(|p| self.ops[p.op.as_str()]);
            let mut setup = 0;
            if let (Some(t), Some(pop)) = (table, prev_op) {
                setup += changeover(t, pop, op, kpis);
            }
            if let Some(rule) = &unit.cip {
                setup += cip.before(rule, prev_op, op, dur, kpis);
            }
            if let Some(p) = prev {
                self.unit_overlap(unit, p, a, op, setup);
            }
            if op.fixed.is_none()
                // A setup runs inside the horizon, never before minute 0.
                && ((setup > 0 && a.start - setup < 0)
                    || !covered(
                        &unit.availability,
                        &unit.downtime,
                        self.problem.horizon_minutes,
                        a.start - setup,
                        a.end,
                    ))
            {
                self.violations.push(Violation::UnitUnavailable {
                    unit: unit.id.clone(),
                    op: a.op.clone(),
                    from: a.start - setup,
                    to: a.end,
                });
            }
            prev = Some(a);
        }
        busy
    }

    /// `a` (of `op`) starts after `p` ends plus the setup between them; a fixed operation
    /// only may not overlap.
    fn unit_overlap(
        &mut self,
        unit: &UnitSpec,
        p: &Assignment,
        a: &Assignment,
        op: &OperationSpec,
        setup: i64,
    ) {
        let needed = if op.fixed.is_none() { setup } else { 0 };
        if a.start - needed < p.end {
            self.violations.push(Violation::UnitOverlap {
                unit: unit.id.clone(),
                first: p.op.clone(),
                second: a.op.clone(),
                setup_minutes: needed,
                first_end: p.end,
                second_start: a.start,
            });
        }
    }

    /// Sweeps the pool's usage and capacity changes: usage never exceeds the capacity
    /// (calendar and dips applied).
    fn pool_capacity(&mut self, pool: &PoolSpec) {
        let horizon = self.problem.horizon_minutes;
        let mut times: BTreeSet<i64> = BTreeSet::new();
        let mut users: Vec<(&Assignment, u64)> = Vec::new();
        for (&id, &a) in &self.placed {
            let q: u64 = self.ops[id]
                .pools
                .iter()
                .filter(|u| u.pool == pool.id)
                .map(|u| u64::from(u.quantity))
                .sum();
            if q > 0 && a.end > a.start {
                users.push((a, q));
                times.insert(a.start);
                times.insert(a.end);
            }
        }
        if users.is_empty() {
            return;
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
        }
        times.insert(horizon);
        let times: Vec<i64> = times.into_iter().collect();
        for pair in times.windows(2) {
            let (t, t_next) = (pair[0], pair[1]);
            let active: Vec<&(&Assignment, u64)> = users
                .iter()
                .filter(|(a, _)| a.start <= t && t < a.end)
                .collect();
            if active.is_empty() {
                continue;
            }
            let used: u64 = active.iter().map(|x| x.1).sum();
            let mut capacity = u64::from(pool.capacity);
            if !covered(&pool.availability, &[], horizon, t, t_next) {
                capacity = 0;
            }
            for d in &pool.dips {
                if d.start <= t && t < d.end {
                    capacity = capacity.min(u64::from(d.capacity));
                }
            }
            if used > capacity {
                self.violations.push(Violation::PoolCapacity {
                    pool: pool.id.clone(),
                    time: t,
                    used,
                    capacity,
                    ops: active.iter().map(|x| x.0.op.clone()).collect(),
                });
            }
        }
    }

    /// All changes of a material at one instant apply together, then the level must be >= 0;
    /// the first negative level is reported.
    fn inventory(&mut self, m: &MaterialSpec) {
        let mut deltas: BTreeMap<i64, f64> = BTreeMap::new();
        for r in &m.receipts {
            *deltas.entry(r.time).or_default() += r.quantity;
        }
        for (&id, &a) in &self.placed {
            let op = self.ops[id];
            for q in op.consumes.iter().filter(|q| q.material == m.id) {
                *deltas.entry(a.start).or_default() -= q.quantity;
            }
            for q in op.produces.iter().filter(|q| q.material == m.id) {
                *deltas.entry(a.end).or_default() += q.quantity;
            }
        }
        let mut level = m.initial;
        for (t, d) in deltas {
            level += d;
            if level < -TOL * m.initial.abs().max(1.0) {
                self.violations.push(Violation::InventoryNegative {
                    material: m.id.clone(),
                    time: t,
                    level,
                });
                break;
            }
        }
    }

    /// Makespan, tardiness, stability, utilisation and the weighted objective (the setup KPIs
    /// are already counted by the unit sequences).
    fn kpis(&self, kpis: &mut Kpis, busy: i64) {
        let problem = self.problem;
        kpis.makespan = self
            .placed
            .values()
            .map(|a| a.end)
            .max()
            .unwrap_or(0)
            .max(0);
        let mut completion: HashMap<&str, i64> = HashMap::new();
        for (&id, a) in &self.placed {
            let c = completion
                .entry(self.ops[id].order.as_str())
                .or_insert(i64::MIN);
            *c = (*c).max(a.end);
        }
        for o in &problem.orders {
            if let (Some(due), Some(&c)) = (o.due, completion.get(o.id.as_str()))
                && c > due
            {
                kpis.late_orders += 1;
                kpis.weighted_tardiness += o.weight * (c - due) as f64;
            }
        }
        for r in &problem.reference {
            if let Some(a) = self.placed.get(r.op.as_str()) {
                kpis.stability += (a.start - r.start).abs() + if a.unit != r.unit { 60 } else { 0 };
            }
        }
        if kpis.makespan > 0 && !problem.units.is_empty() {
            kpis.utilization_percent =
                100.0 * busy as f64 / (problem.units.len() as f64 * kpis.makespan as f64);
        }
        let w = problem.weights();
        kpis.objective = w.makespan * kpis.makespan as f64
            + w.tardiness * kpis.weighted_tardiness
            + w.changeover_minutes * kpis.changeover_minutes as f64
            + w.changeover_cost * kpis.changeover_cost
            + w.stability * kpis.stability as f64;
    }
}

/// The changeover minutes between `prev` and `op` by the unit's table (zero when their keys
/// are equal or missing); counted into `kpis`.
fn changeover(
    t: &ChangeoverTable,
    prev: &OperationSpec,
    op: &OperationSpec,
    kpis: &mut Kpis,
) -> i64 {
    let (Some(from), Some(to)) = (op_key(prev, &t.keyed_by), op_key(op, &t.keyed_by)) else {
        return 0;
    };
    if from == to {
        return 0;
    }
    let (m, c) = t
        .entries
        .iter()
        .find(|e| e.from == from && e.to == to)
        .map_or((t.default_minutes, t.default_cost), |e| (e.minutes, e.cost));
    kpis.changeover_minutes += m;
    kpis.changeover_cost += c;
    kpis.changeovers += 1;
    m
}

/// Batches and run minutes since a unit's last CIP.
#[derive(Default)]
struct CipCount {
    batches: u32,
    run: i64,
}

impl CipCount {
    /// The CIP minutes due before `op` (zero if none; counted into `kpis`), moving the count
    /// past `op`.
    fn before(
        &mut self,
        rule: &CipSpec,
        prev: Option<&OperationSpec>,
        op: &OperationSpec,
        dur: i64,
        kpis: &mut Kpis,
    ) -> i64 {
        let product_change = op.cip_before
            || rule.on_product_change && prev.is_some_and(|p| p.product != op.product);
        let batches = rule.after_batches.is_some_and(|n| self.batches >= n);
        let run = rule
            .max_run_minutes
            .is_some_and(|m| self.run > 0 && self.run + dur > m);
        let mut minutes = 0;
        if product_change || batches || run {
            minutes = rule.minutes;
            kpis.changeover_minutes += rule.minutes;
            kpis.changeover_cost += rule.cost;
            kpis.cips += 1;
            self.batches = 0;
            self.run = 0;
        }
        self.batches += 1;
        self.run += dur;
        minutes
    }
}
