//! What the walk and the loads read, rebuilt from the problem document and the schedule with
//! this module's own helpers: where each operation sits, the unit sequences with the setup
//! before each operation, the units' available intervals, and pool usage and material level
//! profiles as step functions.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::report::{ChangeoverSetup, CipReason, CipSetup};
use crate::index::{Idx, IndexVec, MaterialIdx, OpIdx, OrderIdx, PoolIdx, UnitIdx, enumerate};
use crate::plant::interval::merge;
use crate::plant::problem::{
    CipSpec, Interval, KeyedBy, MaterialSpec, OperationSpec, OrderSpec, PlantProblem,
    PlantSchedule, PoolSpec, ProblemError, UnitSpec,
};

/// Before any time of the problem.
pub(super) const NEG: i64 = i64::MIN / 4;
/// After any time of the problem.
pub(super) const POS: i64 = i64::MAX / 4;
/// Relative tolerance of material levels.
pub(super) const TOL: f64 = 1e-6;

/// Where a scheduled operation runs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Placed {
    pub(super) unit: UnitIdx,
    pub(super) start: i64,
    pub(super) end: i64,
}

/// The setup before an operation on its unit.
#[derive(Debug, Clone, Default)]
pub(super) struct Setup {
    pub(super) minutes: i64,
    pub(super) changeover: Option<ChangeoverSetup>,
    pub(super) cip: Option<CipSetup>,
}

/// What made an available interval of a unit begin.
#[derive(Debug, Clone, Copy)]
pub(super) enum Opened {
    Calendar,
    Downtime(Interval),
}

/// An available interval of a unit.
#[derive(Debug, Clone, Copy)]
pub(super) struct Avail {
    pub(super) start: i64,
    pub(super) end: i64,
    pub(super) opened: Opened,
}

/// A scheduled operation using a pool.
#[derive(Debug, Clone, Copy)]
pub(super) struct PoolUser {
    pub(super) op: OpIdx,
    pub(super) quantity: i64,
    pub(super) start: i64,
    pub(super) end: i64,
}

/// A pool's capacity and usage as a step function: segment `i` is `[times[i], times[i+1])`.
#[derive(Debug, Clone)]
pub(super) struct PoolProfile {
    pub(super) times: Vec<i64>,
    pub(super) cap: Vec<i64>,
    pub(super) used: Vec<i64>,
    /// Every scheduled user, by start.
    pub(super) users: Vec<PoolUser>,
    /// (end, op) of every scheduled user, by end.
    pub(super) ends: Vec<(i64, OpIdx)>,
}

/// A material's level as a step function: `level[i]` holds from `times[i]` on.
#[derive(Debug, Clone)]
pub(super) struct MaterialProfile {
    pub(super) initial: f64,
    pub(super) times: Vec<i64>,
    pub(super) level: Vec<f64>,
    /// Scheduled producers: (op, end).
    pub(super) producers: Vec<(OpIdx, i64)>,
}

/// The problem and schedule, indexed for the walk.
pub(super) struct Context<'a> {
    pub(super) p: &'a PlantProblem,
    pub(super) units: IndexVec<UnitIdx, &'a str>,
    pub(super) pools: IndexVec<PoolIdx, &'a str>,
    pub(super) unit_idx: HashMap<&'a str, UnitIdx>,
    pub(super) pool_idx: HashMap<&'a str, PoolIdx>,
    pub(super) place: IndexVec<OpIdx, Option<Placed>>,
    pub(super) op_order: IndexVec<OpIdx, OrderIdx>,
    /// Per order: its scheduled operation ending last.
    pub(super) last_op: IndexVec<OrderIdx, Option<OpIdx>>,
    /// Per op: predecessors with their min lag.
    pub(super) preds: IndexVec<OpIdx, Vec<(OpIdx, i64)>>,
    /// Per op: successors with a max lag (succ, max lag).
    pub(super) max_lag_succs: IndexVec<OpIdx, Vec<(OpIdx, i64)>>,
    /// Per op: the operation before it on its unit.
    pub(super) prev: IndexVec<OpIdx, Option<OpIdx>>,
    pub(super) setup: IndexVec<OpIdx, Setup>,
    /// Per unit: its operations by start.
    pub(super) seqs: IndexVec<UnitIdx, Vec<OpIdx>>,
    pub(super) avail: IndexVec<UnitIdx, Vec<Avail>>,
    /// Per unit: its downtime, merged.
    pub(super) downtime: IndexVec<UnitIdx, Vec<Interval>>,
    pub(super) pool_uses: IndexVec<OpIdx, Vec<(PoolIdx, i64)>>,
    pub(super) consumes: IndexVec<OpIdx, Vec<(MaterialIdx, f64)>>,
    pub(super) pool_profiles: IndexVec<PoolIdx, PoolProfile>,
    pub(super) materials: IndexVec<MaterialIdx, MaterialProfile>,
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

/// Ids to their positions, as indices of their space.
fn index_of<'a, I: Idx>(ids: impl Iterator<Item = &'a str>) -> HashMap<&'a str, I> {
    ids.enumerate().map(|(i, id)| (id, I::new(i))).collect()
}

impl<'a> Context<'a> {
    pub(super) fn new(
        p: &'a PlantProblem,
        schedule: &PlantSchedule,
    ) -> Result<Context<'a>, ProblemError> {
        p.validate()?;
        let units: IndexVec<UnitIdx, &str> = p.units.iter().map(|u| u.id.as_str()).collect();
        let pools: IndexVec<PoolIdx, &str> = p.pools.iter().map(|x| x.id.as_str()).collect();
        let unit_idx = index_of(units.iter().copied());
        let pool_idx = index_of(pools.iter().copied());
        let mat_idx = index_of(p.materials.iter().map(|m| m.id.as_str()));
        let order_idx: HashMap<&str, OrderIdx> = index_of(p.orders.iter().map(|o| o.id.as_str()));
        let op_idx = index_of(p.operations.iter().map(|o| o.id.as_str()));
        let place = place_operations(p, schedule, &op_idx, &unit_idx)?;
        let op_order: IndexVec<OpIdx, OrderIdx> = p
            .operations
            .iter()
            .map(|o| order_idx[o.order.as_str()])
            .collect();
        let last_op = last_operations(&place, &op_order, p.orders.len());
        let (preds, max_lag_succs) = precedence(p, &op_idx);
        let sequences = UnitSequences::build(p, &place);
        let (avail, downtime) = p
            .units
            .iter()
            .map(|u| availability(u, p.horizon_minutes))
            .unzip();
        let pool_uses = p
            .operations
            .iter()
            .map(|o| pool_uses(o, &pool_idx))
            .collect();
        let consumes = p
            .operations
            .iter()
            .map(|o| consumption(o, &mat_idx))
            .collect();
        let pool_profiles = enumerate(&p.pools)
            .map(|(k, pool)| pool_profile(k, pool, &place, &pool_uses, p.horizon_minutes))
            .collect();
        let materials = enumerate(&p.materials)
            .map(|(k, m)| material_profile(k, m, p, &place, &consumes))
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
            prev: sequences.prev,
            setup: sequences.setup,
            seqs: sequences.seqs,
            avail: IndexVec::from_vec(avail),
            downtime: IndexVec::from_vec(downtime),
            pool_uses,
            consumes,
            pool_profiles,
            materials,
        })
    }

    /// Where a scheduled operation sits.
    pub(super) fn at(&self, o: OpIdx) -> Placed {
        self.place[o].expect("only scheduled operations are walked")
    }

    pub(super) fn op(&self, o: OpIdx) -> &'a OperationSpec {
        &self.p.operations[o.index()]
    }

    pub(super) fn op_id(&self, o: OpIdx) -> String {
        self.op(o).id.clone()
    }

    pub(super) fn order(&self, k: OrderIdx) -> &'a OrderSpec {
        &self.p.orders[k.index()]
    }

    /// The order an operation belongs to.
    pub(super) fn order_of(&self, o: OpIdx) -> &'a OrderSpec {
        self.order(self.op_order[o])
    }

    pub(super) fn material(&self, k: MaterialIdx) -> &'a MaterialSpec {
        &self.p.materials[k.index()]
    }

    pub(super) fn pool(&self, k: PoolIdx) -> &'a PoolSpec {
        &self.p.pools[k.index()]
    }
}

/// Where each operation of the schedule runs; an assignment naming an unknown operation or
/// unit, ending before it starts, or repeating an operation is an error naming it.
fn place_operations(
    p: &PlantProblem,
    schedule: &PlantSchedule,
    op_idx: &HashMap<&str, OpIdx>,
    unit_idx: &HashMap<&str, UnitIdx>,
) -> Result<IndexVec<OpIdx, Option<Placed>>, ProblemError> {
    let mut place: IndexVec<OpIdx, Option<Placed>> = IndexVec::filled(None, p.operations.len());
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
    Ok(place)
}

/// Per order: its scheduled operation ending last (the first of equal ends).
fn last_operations(
    place: &IndexVec<OpIdx, Option<Placed>>,
    op_order: &IndexVec<OpIdx, OrderIdx>,
    orders: usize,
) -> IndexVec<OrderIdx, Option<OpIdx>> {
    let mut last_op: IndexVec<OrderIdx, Option<OpIdx>> = IndexVec::filled(None, orders);
    for (o, pl) in place.iter_enumerated() {
        let Some(pl) = pl else { continue };
        let slot = &mut last_op[op_order[o]];
        if slot.is_none_or(|l: OpIdx| pl.end > place[l].expect("placed").end) {
            *slot = Some(o);
        }
    }
    last_op
}

type Lags = IndexVec<OpIdx, Vec<(OpIdx, i64)>>;

/// Per operation: its predecessors with the min lag, and its successors with a max lag.
fn precedence(p: &PlantProblem, op_idx: &HashMap<&str, OpIdx>) -> (Lags, Lags) {
    let preds = p
        .operations
        .iter()
        .map(|o| {
            o.predecessors
                .iter()
                .map(|l| (op_idx[l.op.as_str()], l.min_lag))
                .collect()
        })
        .collect();
    let mut max_lag_succs: Lags = IndexVec::filled(Vec::new(), p.operations.len());
    for (o, op) in enumerate::<OpIdx, _>(&p.operations) {
        for l in &op.predecessors {
            if let Some(max) = l.max_lag {
                max_lag_succs[op_idx[l.op.as_str()]].push((o, max));
            }
        }
    }
    (preds, max_lag_succs)
}

/// Unit sequences and the setups between consecutive operations.
struct UnitSequences {
    seqs: IndexVec<UnitIdx, Vec<OpIdx>>,
    prev: IndexVec<OpIdx, Option<OpIdx>>,
    setup: IndexVec<OpIdx, Setup>,
}

impl UnitSequences {
    fn build(p: &PlantProblem, place: &IndexVec<OpIdx, Option<Placed>>) -> UnitSequences {
        let n = p.operations.len();
        let mut seqs: IndexVec<UnitIdx, Vec<OpIdx>> = IndexVec::filled(Vec::new(), p.units.len());
        for (o, pl) in place.iter_enumerated() {
            if let Some(pl) = pl {
                seqs[pl.unit].push(o);
            }
        }
        let mut out = UnitSequences {
            seqs: IndexVec::filled(Vec::new(), 0),
            prev: IndexVec::filled(None, n),
            setup: IndexVec::filled(Setup::default(), n),
        };
        let op = |o: OpIdx| &p.operations[o.index()];
        for (seq, spec) in seqs.iter_mut().zip(&p.units) {
            seq.sort_by(|&x, &y| {
                let (a, b) = (place[x].expect("placed"), place[y].expect("placed"));
                (a.start, a.end, &op(x).id).cmp(&(b.start, b.end, &op(y).id))
            });
            let table = spec
                .changeover
                .as_deref()
                .and_then(|t| p.changeovers.iter().find(|c| c.id == t));
            let mut cip = CipCounter::default();
            let mut before: Option<OpIdx> = None;
            for &o in seq.iter() {
                let pl = place[o].expect("placed");
                let mut s = Setup::default();
                if let (Some(q), Some(t)) = (before, table)
                    && let (Some(from), Some(to)) =
                        (key_of(op(q), &t.keyed_by), key_of(op(o), &t.keyed_by))
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
                    s.cip = cip.next(rule, before.map(op), op(o), pl.end - pl.start);
                    s.minutes += s.cip.as_ref().map_or(0, |c| c.minutes);
                }
                out.prev[o] = before;
                out.setup[o] = s;
                before = Some(o);
            }
        }
        out.seqs = seqs;
        out
    }
}

/// Batches and run minutes since a unit's last CIP.
#[derive(Default)]
struct CipCounter {
    batches: u32,
    run: i64,
}

impl CipCounter {
    /// The CIP due before `op` (after `before`, running `dur` minutes), if any, and the count
    /// moved past `op`.
    fn next(
        &mut self,
        rule: &CipSpec,
        before: Option<&OperationSpec>,
        op: &OperationSpec,
        dur: i64,
    ) -> Option<CipSetup> {
        let mut reasons = Vec::new();
        if op.cip_before {
            reasons.push(CipReason::Required);
        }
        if rule.on_product_change
            && let Some(q) = before
            && q.product != op.product
        {
            reasons.push(CipReason::ProductChange {
                from: q.product.clone(),
                to: op.product.clone(),
            });
        }
        if let Some(limit) = rule.after_batches
            && self.batches >= limit
        {
            reasons.push(CipReason::AfterBatches {
                batches: self.batches,
            });
        }
        if let Some(limit) = rule.max_run_minutes
            && self.run > 0
            && self.run + dur > limit
        {
            reasons.push(CipReason::MaxRun {
                run_minutes: self.run + dur,
                limit,
            });
        }
        let cip = (!reasons.is_empty()).then(|| {
            self.batches = 0;
            self.run = 0;
            CipSetup {
                minutes: rule.minutes,
                cost: rule.cost,
                reasons,
            }
        });
        self.batches += 1;
        self.run += dur;
        cip
    }
}

/// A unit's available intervals (calendar up to the horizon, open after it, minus downtime),
/// remembering what opened each, and its merged downtime.
fn availability(u: &UnitSpec, h: i64) -> (Vec<Avail>, Vec<Interval>) {
    let base: Vec<(i64, i64)> = match &u.availability {
        None => vec![(NEG, POS)],
        Some(w) => {
            let mut v: Vec<(i64, i64)> = w.iter().map(|x| (x.start, x.end.min(h))).collect();
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
    (out, down)
}

/// An operation's use of each pool (summed over repeated entries; zero uses dropped).
fn pool_uses(o: &OperationSpec, pool_idx: &HashMap<&str, PoolIdx>) -> Vec<(PoolIdx, i64)> {
    let mut v: Vec<(PoolIdx, i64)> = Vec::new();
    for u in &o.pools {
        let k = pool_idx[u.pool.as_str()];
        match v.iter_mut().find(|x| x.0 == k) {
            Some(x) => x.1 += i64::from(u.quantity),
            None => v.push((k, i64::from(u.quantity))),
        }
    }
    v.retain(|x| x.1 > 0);
    v
}

/// An operation's consumption of each material (summed; zero quantities dropped).
fn consumption(o: &OperationSpec, mat_idx: &HashMap<&str, MaterialIdx>) -> Vec<(MaterialIdx, f64)> {
    let mut v: Vec<(MaterialIdx, f64)> = Vec::new();
    for c in &o.consumes {
        let k = mat_idx[c.material.as_str()];
        match v.iter_mut().find(|x| x.0 == k) {
            Some(x) => x.1 += c.quantity,
            None => v.push((k, c.quantity)),
        }
    }
    v.retain(|x| x.1 > 0.0);
    v
}

/// Pool `k`'s capacity (calendar and dips applied) and usage over time.
fn pool_profile(
    k: PoolIdx,
    pool: &PoolSpec,
    place: &IndexVec<OpIdx, Option<Placed>>,
    pool_uses: &IndexVec<OpIdx, Vec<(PoolIdx, i64)>>,
    h: i64,
) -> PoolProfile {
    let mut users = Vec::new();
    for (o, pl) in place.iter_enumerated() {
        if let Some(pl) = pl
            && pl.end > pl.start
            && let Some(&(_, q)) = pool_uses[o].iter().find(|x| x.0 == k)
        {
            users.push(PoolUser {
                op: o,
                quantity: q,
                start: pl.start,
                end: pl.end,
            });
        }
    }
    let mut times: BTreeSet<i64> = BTreeSet::new();
    times.insert(NEG);
    let mut delta: BTreeMap<i64, i64> = BTreeMap::new();
    for u in &users {
        times.insert(u.start);
        times.insert(u.end);
        *delta.entry(u.start).or_default() += u.quantity;
        *delta.entry(u.end).or_default() -= u.quantity;
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
    users.sort_by_key(|u| (u.start, u.op));
    let mut ends: Vec<(i64, OpIdx)> = users.iter().map(|u| (u.end, u.op)).collect();
    ends.sort_unstable();
    PoolProfile {
        times,
        cap,
        used,
        users,
        ends,
    }
}

/// Material `k`'s level over time: receipts, consumption at starts, production at ends.
fn material_profile(
    k: MaterialIdx,
    m: &MaterialSpec,
    p: &PlantProblem,
    place: &IndexVec<OpIdx, Option<Placed>>,
    consumes: &IndexVec<OpIdx, Vec<(MaterialIdx, f64)>>,
) -> MaterialProfile {
    let mut delta: BTreeMap<i64, f64> = BTreeMap::new();
    for r in &m.receipts {
        *delta.entry(r.time).or_default() += r.quantity;
    }
    let mut producers = Vec::new();
    for (o, pl) in place.iter_enumerated() {
        let Some(pl) = pl else { continue };
        if let Some(&(_, q)) = consumes[o].iter().find(|x| x.0 == k) {
            *delta.entry(pl.start).or_default() -= q;
        }
        let made: f64 = p.operations[o.index()]
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
}
