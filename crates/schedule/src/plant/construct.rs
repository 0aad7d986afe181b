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

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::interval::merge;
use super::problem::{Assignment, KeyedBy, Objective, PlantProblem, PlantSchedule};

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

fn subtract(avail: Vec<(i64, i64)>, down: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let down = merge(down.to_vec());
    let mut out = Vec::with_capacity(avail.len() + down.len());
    for (mut s, e) in avail {
        for &(ds, de) in &down {
            if de <= s || ds >= e {
                continue;
            }
            if ds > s {
                out.push((s, ds));
            }
            s = s.max(de);
        }
        if s < e {
            out.push((s, e));
        }
    }
    out
}

fn availability(windows: &Option<Vec<super::problem::Interval>>, horizon: i64) -> Vec<(i64, i64)> {
    match windows {
        None => vec![(-INF, INF)],
        Some(w) => {
            let mut v: Vec<(i64, i64)> = w.iter().map(|x| (x.start, x.end.min(horizon))).collect();
            v.push((horizon, INF));
            merge(v)
        }
    }
}

impl Model {
    /// Compiles a problem that passed [`PlantProblem::validate`].
    pub fn compile(p: &PlantProblem) -> Model {
        let h = p.horizon_minutes;
        let mut frontier = h;
        let unit_idx = index_by_id(&p.units, |x| x.id.as_str());
        let table_idx = index_by_id(&p.changeovers, |x| x.id.as_str());
        let pool_idx = index_by_id(&p.pools, |x| x.id.as_str());
        let mat_idx = index_by_id(&p.materials, |x| x.id.as_str());
        let order_idx = index_by_id(&p.orders, |x| x.id.as_str());
        let op_idx = index_by_id(&p.operations, |x| x.id.as_str());
        let mut interner: HashMap<String, u32> = HashMap::new();
        let mut intern = |s: &str| -> u32 {
            let n = interner.len() as u32;
            *interner.entry(s.to_owned()).or_insert(n)
        };
        let tables: Vec<Table> = p
            .changeovers
            .iter()
            .map(|t| Table {
                default: (t.default_minutes, t.default_cost),
                entries: t
                    .entries
                    .iter()
                    .map(|e| ((intern(&e.from), intern(&e.to)), (e.minutes, e.cost)))
                    .collect(),
            })
            .collect();
        let units: Vec<Unit> = p
            .units
            .iter()
            .map(|u| {
                let down: Vec<(i64, i64)> = u.downtime.iter().map(|d| (d.start, d.end)).collect();
                for d in &down {
                    frontier = frontier.max(d.1);
                }
                Unit {
                    avail: subtract(availability(&u.availability, h), &down),
                    table: u.changeover.as_deref().map(|t| table_idx[t]),
                    cip: u.cip.as_ref().map(|c| Cip {
                        minutes: c.minutes,
                        cost: c.cost,
                        on_product_change: c.on_product_change,
                        after_batches: c.after_batches,
                        max_run: c.max_run_minutes,
                    }),
                }
            })
            .collect();
        let pool_caps: Vec<Vec<(i64, i64)>> = p
            .pools
            .iter()
            .map(|pool| {
                let cap = i64::from(pool.capacity);
                let avail = availability(&pool.availability, h);
                // Breakpoints: availability edges and dips.
                let mut points: Vec<i64> = vec![-INF];
                for &(s, e) in &avail {
                    points.push(s);
                    points.push(e);
                }
                for d in &pool.dips {
                    points.push(d.start);
                    points.push(d.end);
                    frontier = frontier.max(d.end);
                }
                points.retain(|&t| t < INF);
                points.sort_unstable();
                points.dedup();
                let mut prof: Vec<(i64, i64)> = Vec::with_capacity(points.len());
                for &t in &points {
                    let up = avail.iter().any(|&(s, e)| s <= t && t < e);
                    let mut c = if up { cap } else { 0 };
                    for d in &pool.dips {
                        if d.start <= t && t < d.end {
                            c = c.min(i64::from(d.capacity));
                        }
                    }
                    if prof.last().is_none_or(|l| l.1 != c) {
                        prof.push((t, c));
                    }
                }
                prof
            })
            .collect();
        let orders: Vec<Order> = p
            .orders
            .iter()
            .map(|o| Order {
                due: o.due,
                weight: o.weight,
            })
            .collect();
        let mut ops: Vec<Op> = p
            .operations
            .iter()
            .map(|o| {
                let order = order_idx[o.order.as_str()];
                let release = p.orders[order].release.max(o.release.unwrap_or(i64::MIN));
                let alts = o
                    .alternatives
                    .iter()
                    .map(|a| {
                        let unit = unit_idx[a.unit.as_str()];
                        let key = units[unit].table.and_then(|t| {
                            let k = match &p.changeovers[t].keyed_by {
                                KeyedBy::Family => o.family.as_deref(),
                                KeyedBy::Attribute { name } => {
                                    o.attributes.get(name).map(String::as_str)
                                }
                            };
                            k.map(&mut intern)
                        });
                        Alt {
                            unit,
                            dur: a.duration(o.quantity).unwrap_or(1),
                            key,
                        }
                    })
                    .collect();
                Op {
                    release,
                    order,
                    alts,
                    preds: o
                        .predecessors
                        .iter()
                        .map(|l| (op_idx[l.op.as_str()], l.min_lag, l.max_lag))
                        .collect(),
                    succs: Vec::new(),
                    product: o.product.as_deref().map(&mut intern),
                    pools: o
                        .pools
                        .iter()
                        .filter(|u| u.quantity > 0)
                        .map(|u| (pool_idx[u.pool.as_str()], i64::from(u.quantity)))
                        .collect(),
                    consumes: o
                        .consumes
                        .iter()
                        .map(|q| (mat_idx[q.material.as_str()], q.quantity))
                        .collect(),
                    produces: o
                        .produces
                        .iter()
                        .map(|q| (mat_idx[q.material.as_str()], q.quantity))
                        .collect(),
                    fixed: o
                        .fixed
                        .as_ref()
                        .map(|f| (unit_idx[f.unit.as_str()], f.start)),
                    group: usize::MAX,
                }
            })
            .collect();
        for i in 0..ops.len() {
            for k in 0..ops[i].preds.len() {
                let p = ops[i].preds[k].0;
                ops[p].succs.push(i);
            }
        }
        // Topological order of operations (Kahn, smallest index first for determinism).
        let n = ops.len();
        let mut indeg: Vec<usize> = ops.iter().map(|o| o.preds.len()).collect();
        let mut heap: BinaryHeap<Reverse<usize>> =
            (0..n).filter(|&i| indeg[i] == 0).map(Reverse).collect();
        let mut topo = Vec::with_capacity(n);
        while let Some(Reverse(i)) = heap.pop() {
            topo.push(i);
            for &s in &ops[i].succs {
                indeg[s] -= 1;
                if indeg[s] == 0 {
                    heap.push(Reverse(s));
                }
            }
        }
        // Groups: components of the max-lag graph (union-find).
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(parent: &mut [usize], mut x: usize) -> usize {
            while parent[x] != x {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            x
        }
        for i in 0..n {
            for k in 0..ops[i].preds.len() {
                let (pr, _, max) = ops[i].preds[k];
                if max.is_some() && ops[i].fixed.is_none() && ops[pr].fixed.is_none() {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, pr));
                    if a != b {
                        parent[a] = b;
                    }
                }
            }
        }
        let mut group_of_root: HashMap<usize, usize> = HashMap::new();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for &i in &topo {
            let r = find(&mut parent, i);
            let g = *group_of_root.entry(r).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[g].push(i);
            ops[i].group = g;
        }
        // Group topological order: groups are created in the op topo order of their first
        // member; order groups by the topo position of their last member's requirements.
        let ng = groups.len();
        let mut gindeg = vec![0usize; ng];
        let mut gsucc: Vec<Vec<usize>> = vec![Vec::new(); ng];
        for i in 0..n {
            for &(pr, _, _) in &ops[i].preds {
                let (a, b) = (ops[pr].group, ops[i].group);
                if a != b {
                    gsucc[a].push(b);
                    gindeg[b] += 1;
                }
            }
        }
        let mut gheap: BinaryHeap<Reverse<usize>> =
            (0..ng).filter(|&g| gindeg[g] == 0).map(Reverse).collect();
        let mut topo_groups = Vec::with_capacity(ng);
        while let Some(Reverse(g)) = gheap.pop() {
            topo_groups.push(g);
            for &s in &gsucc[g] {
                gindeg[s] -= 1;
                if gindeg[s] == 0 {
                    gheap.push(Reverse(s));
                }
            }
        }
        for m in &p.materials {
            for r in &m.receipts {
                frontier = frontier.max(r.time);
            }
        }
        for o in &ops {
            if let Some((_, s)) = o.fixed {
                frontier = frontier.max(s + o.alts.iter().map(|a| a.dur).max().unwrap_or(0));
            }
        }
        let mut reference = vec![None; n];
        for r in &p.reference {
            if let (Some(&i), Some(&u)) = (op_idx.get(r.op.as_str()), unit_idx.get(r.unit.as_str()))
            {
                reference[i] = Some((u, r.start));
            }
        }
        Model {
            ops,
            units,
            tables,
            pool_caps,
            mat_initial: p.materials.iter().map(|m| m.initial).collect(),
            mat_receipts: p
                .materials
                .iter()
                .map(|m| m.receipts.iter().map(|r| (r.time, r.quantity)).collect())
                .collect(),
            orders,
            groups,
            topo_groups,
            weights: p.weights(),
            reference,
            frontier,
            op_ids: p.operations.iter().map(|o| o.id.clone()).collect(),
            unit_ids: p.units.iter().map(|u| u.id.clone()).collect(),
            mat_ids: p.materials.iter().map(|m| m.id.clone()).collect(),
        }
    }

    pub fn n_ops(&self) -> usize {
        self.ops.len()
    }
}

/// A solution candidate: the priority order of groups and preferred units.
#[derive(Debug, Clone, PartialEq)]
pub struct Genome {
    /// A permutation of group indices; lower position = placed first among eligible.
    pub order: Vec<usize>,
    /// Preferred alternative index per operation (`None`: best by earliest end).
    pub unit_pref: Vec<Option<u16>>,
    /// Lower bound on each operation's start (repair keeps operations at their old start).
    pub hold: Option<Vec<i64>>,
}

impl Genome {
    /// The genome that replays `schedule`: groups in order of their earliest start, each
    /// operation on the unit it has there (operations the schedule lacks go last, free to
    /// choose). `problem` must be the one `model` was compiled from.
    pub fn from_schedule(
        model: &Model,
        problem: &PlantProblem,
        schedule: &PlantSchedule,
    ) -> Genome {
        let (starts, unit_pref) = placements(problem, schedule);
        let key: Vec<i64> = model
            .groups
            .iter()
            .map(|members| {
                members
                    .iter()
                    .filter_map(|&i| starts[i])
                    .min()
                    .unwrap_or(i64::MAX)
            })
            .collect();
        let mut order: Vec<usize> = (0..model.groups.len()).collect();
        order.sort_by_key(|&g| (key[g], g));
        Genome {
            order,
            unit_pref,
            hold: None,
        }
    }
}

/// Per operation of `problem`: its start in `schedule` and the index of the alternative
/// whose unit it runs on there (`None` where the schedule lacks it).
pub(crate) fn placements(
    problem: &PlantProblem,
    schedule: &PlantSchedule,
) -> (Vec<Option<i64>>, Vec<Option<u16>>) {
    let placed: HashMap<&str, (&str, i64)> = schedule
        .assignments
        .iter()
        .map(|a| (a.op.as_str(), (a.unit.as_str(), a.start)))
        .collect();
    problem
        .operations
        .iter()
        .map(|op| match placed.get(op.id.as_str()) {
            Some(&(unit, start)) => (
                Some(start),
                op.alternatives
                    .iter()
                    .position(|a| a.unit == unit)
                    .map(|x| x as u16),
            ),
            None => (None, None),
        })
        .unzip()
}

/// Score of a decoded schedule, term by term (the checker recomputes the same numbers).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
pub struct Score {
    pub makespan: i64,
    pub weighted_tardiness: f64,
    pub changeover_minutes: i64,
    pub changeover_cost: f64,
    pub stability: i64,
    /// The weighted sum.
    pub total: f64,
}

/// A decoded schedule.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub unit: Vec<usize>,
    pub start: Vec<i64>,
    pub end: Vec<i64>,
    pub score: Score,
}

impl Decoded {
    pub fn to_schedule(&self, m: &Model) -> PlantSchedule {
        PlantSchedule {
            assignments: (0..m.ops.len())
                .map(|i| Assignment {
                    op: m.op_ids[i].clone(),
                    unit: m.unit_ids[self.unit[i]].clone(),
                    start: self.start[i],
                    end: self.end[i],
                })
                .collect(),
        }
    }
}

/// Why no schedule could be generated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error(
        "operation `{op}` waits for material `{material}` that never becomes available in time"
    )]
    MaterialStuck { op: String, material: String },
    #[error("operations linked by maximum lags around `{op}` could not be placed together")]
    MaxLag { op: String },
}

#[derive(Debug, Clone, Copy, Default)]
struct UnitState {
    ready: i64,
    last: Option<(usize, Option<u32>)>, // (op, key)
    last_product: Option<Option<u32>>,
    batches: u32,
    run: i64,
}

struct Undo {
    op: usize,
    unit_state: UnitState,
}

/// Mutable resource state during decoding.
struct State<'m> {
    m: &'m Model,
    units: Vec<UnitState>,
    pools: Vec<Vec<(i64, i64)>>,
    /// Per material: merged (time, delta) events, sorted.
    mats: Vec<Vec<(i64, f64)>>,
    unit: Vec<usize>,
    start: Vec<i64>,
    end: Vec<i64>,
    setup_min: Vec<i64>,
    setup_cost: Vec<f64>,
    placed: Vec<bool>,
}

fn seg_index(prof: &[(i64, i64)], t: i64) -> usize {
    prof.partition_point(|s| s.0 <= t).saturating_sub(1)
}

fn split_at(prof: &mut Vec<(i64, i64)>, t: i64) -> usize {
    let i = seg_index(prof, t);
    if prof[i].0 == t {
        i
    } else {
        prof.insert(i + 1, (t, prof[i].1));
        i + 1
    }
}

fn add_event(ev: &mut Vec<(i64, f64)>, t: i64, d: f64) {
    let i = ev.partition_point(|e| e.0 < t);
    if i < ev.len() && ev[i].0 == t {
        ev[i].1 += d;
    } else {
        ev.insert(i, (t, d));
    }
}

impl<'m> State<'m> {
    fn new(m: &'m Model) -> State<'m> {
        let n = m.ops.len();
        let mut mats: Vec<Vec<(i64, f64)>> = Vec::with_capacity(m.mat_receipts.len());
        for r in &m.mat_receipts {
            let mut ev = Vec::new();
            for &(t, q) in r {
                add_event(&mut ev, t, q);
            }
            mats.push(ev);
        }
        State {
            m,
            units: vec![
                UnitState {
                    ready: -INF,
                    ..UnitState::default()
                };
                m.units.len()
            ],
            pools: m.pool_caps.clone(),
            mats,
            unit: vec![usize::MAX; n],
            start: vec![0; n],
            end: vec![0; n],
            setup_min: vec![0; n],
            setup_cost: vec![0.0; n],
            placed: vec![false; n],
        }
    }

    /// Changeover + CIP before `op` (alternative `alt`) on its unit now: (minutes, cost, cip).
    fn setup(&self, op: usize, alt: &Alt) -> (i64, f64, bool) {
        let u = &self.m.units[alt.unit];
        let st = &self.units[alt.unit];
        let mut minutes = 0;
        let mut cost = 0.0;
        if let (Some(t), Some((_, Some(from))), Some(to)) = (u.table, st.last, alt.key)
            && from != to
        {
            let table = &self.m.tables[t];
            let (mm, c) = table
                .entries
                .get(&(from, to))
                .copied()
                .unwrap_or(table.default);
            minutes += mm;
            cost += c;
        }
        let mut cip = false;
        if let Some(rule) = &u.cip {
            let product = self.m.ops[op].product;
            cip = (rule.on_product_change && st.last_product.is_some_and(|p| p != product))
                || rule.after_batches.is_some_and(|n| st.batches >= n)
                || rule
                    .max_run
                    .is_some_and(|mr| st.run > 0 && st.run + alt.dur > mr);
            if cip {
                minutes += rule.minutes;
                cost += rule.cost;
            }
        }
        (minutes, cost, cip)
    }

    fn unit_fit(&self, unit: usize, t: i64, setup: i64, dur: i64) -> i64 {
        let avail = &self.m.units[unit].avail;
        let mut i = avail.partition_point(|w| w.1 <= t - setup);
        while i < avail.len() {
            let (a, b) = avail[i];
            let s = t.max(a + setup);
            if s + dur <= b {
                return s;
            }
            i += 1;
        }
        INF
    }

    fn pool_fit(&self, pool: usize, t: i64, dur: i64, q: i64) -> i64 {
        let prof = &self.pools[pool];
        let mut i = seg_index(prof, t);
        let mut cand = t;
        loop {
            let seg_end = prof.get(i + 1).map_or(INF, |s| s.0);
            if prof[i].1 < q {
                if i + 1 >= prof.len() {
                    return INF;
                }
                cand = seg_end;
            } else if seg_end >= cand + dur {
                return cand;
            }
            i += 1;
            if i >= prof.len() {
                return cand;
            }
        }
    }

    /// Earliest t' >= t at which consuming q keeps every later level non-negative.
    fn mat_fit(&self, mat: usize, t: i64, q: f64) -> Option<i64> {
        let ev = &self.mats[mat];
        let init = self.m.mat_initial[mat];
        let eps = 1e-9 * init.abs().max(1.0);
        // Levels after each event; suffix minima.
        let mut levels = Vec::with_capacity(ev.len());
        let mut l = init;
        for e in ev {
            l += e.1;
            levels.push(l);
        }
        let mut suf = vec![f64::INFINITY; ev.len() + 1];
        for k in (0..ev.len()).rev() {
            suf[k] = levels[k].min(suf[k + 1]);
        }
        // k0: index of the last event at or before t.
        let k0 = ev.partition_point(|e| e.0 <= t);
        let level_at_t = if k0 == 0 { init } else { levels[k0 - 1] };
        if level_at_t.min(suf[k0]) >= q - eps {
            return Some(t);
        }
        (k0..ev.len())
            .find(|&k| suf[k] >= q - eps)
            .map(|k| ev[k].0.max(t))
    }

    /// Earliest start of `op` on alternative `alt`, not before `lb`. Err(material) if a
    /// consumed material is never sufficient.
    fn earliest(&self, op: usize, alt: &Alt, lb: i64, setup: i64) -> Result<i64, usize> {
        let o = &self.m.ops[op];
        let st = &self.units[alt.unit];
        let mut t = lb.max(st.ready.saturating_add(setup));
        loop {
            let t0 = t;
            t = self.unit_fit(alt.unit, t, setup, alt.dur);
            for &(p, q) in &o.pools {
                t = self.pool_fit(p, t, alt.dur, q);
            }
            for &(mat, q) in &o.consumes {
                match self.mat_fit(mat, t, q) {
                    Some(x) => t = x,
                    None => return Err(mat),
                }
            }
            if t == t0 || t >= INF {
                return Ok(t);
            }
        }
    }

    fn place(&mut self, op: usize, ai: usize, start: i64) -> Undo {
        let alt = &self.m.ops[op].alts[ai];
        let (unit, dur) = (alt.unit, alt.dur);
        let (smin, scost, cip) = self.setup(op, alt);
        let key = alt.key;
        let undo = Undo {
            op,
            unit_state: self.units[unit],
        };
        let end = start + dur;
        let st = &mut self.units[unit];
        st.ready = st.ready.max(end);
        st.last = Some((op, key));
        if cip {
            st.batches = 0;
            st.run = 0;
        }
        st.batches += 1;
        st.run += dur;
        st.last_product = Some(self.m.ops[op].product);
        let o = &self.m.ops[op];
        for &(p, q) in &o.pools {
            let prof = &mut self.pools[p];
            let a = split_at(prof, start);
            let b = split_at(prof, end);
            for s in &mut prof[a..b] {
                s.1 -= q;
            }
        }
        for &(mat, q) in &o.consumes {
            add_event(&mut self.mats[mat], start, -q);
        }
        for &(mat, q) in &o.produces {
            add_event(&mut self.mats[mat], end, q);
        }
        self.unit[op] = unit;
        self.start[op] = start;
        self.end[op] = end;
        self.setup_min[op] = smin;
        self.setup_cost[op] = scost;
        self.placed[op] = true;
        undo
    }

    fn unplace(&mut self, undo: Undo) {
        let op = undo.op;
        let unit = self.unit[op];
        self.units[unit] = undo.unit_state;
        let (start, end) = (self.start[op], self.end[op]);
        let o = &self.m.ops[op];
        for &(p, q) in &o.pools {
            let prof = &mut self.pools[p];
            let a = split_at(prof, start);
            let b = split_at(prof, end);
            for s in &mut prof[a..b] {
                s.1 += q;
            }
        }
        for &(mat, q) in &o.consumes {
            add_event(&mut self.mats[mat], start, q);
        }
        for &(mat, q) in &o.produces {
            add_event(&mut self.mats[mat], end, -q);
        }
        self.placed[op] = false;
    }

    /// Places one operation at its best alternative, not before `lb`.
    fn place_best(
        &mut self,
        op: usize,
        lb: i64,
        pref: Option<u16>,
        cw: f64,
    ) -> Result<Undo, usize> {
        let o = &self.m.ops[op];
        let mut best: Option<(f64, usize, i64)> = None;
        let mut blocked = None;
        let prefer = pref.map(usize::from).filter(|&p| p < o.alts.len());
        for (ai, alt) in o.alts.iter().enumerate() {
            if prefer.is_some_and(|p| p != ai) {
                continue;
            }
            let (smin, scost, _) = self.setup(op, alt);
            match self.earliest(op, alt, lb, smin) {
                Ok(t) => {
                    let score = (t + alt.dur) as f64 + cw * (smin as f64 + 0.1 * scost);
                    if best.is_none_or(|b| score < b.0) {
                        best = Some((score, ai, t));
                    }
                }
                Err(mat) => blocked = Some(mat),
            }
        }
        match best {
            Some((_, ai, t)) if t < INF => Ok(self.place(op, ai, t)),
            _ => Err(blocked.unwrap_or(usize::MAX)),
        }
    }

    fn place_fixed(&mut self, op: usize) {
        let o = &self.m.ops[op];
        let (unit, start) = o.fixed.expect("fixed");
        let ai = o.alts.iter().position(|a| a.unit == unit).unwrap_or(0);
        let _ = self.place(op, ai, start);
    }

    /// Places a whole group; Err(material) when a member waits for material.
    fn place_group(&mut self, g: usize, genome: &Genome, cw: f64) -> Result<(), GroupFail> {
        let m = self.m;
        let members = &m.groups[g];
        let mut lb: Vec<i64> = members
            .iter()
            .map(|&i| {
                let hold = genome.hold.as_ref().map_or(i64::MIN, |h| h[i]);
                m.ops[i].release.max(hold)
            })
            .collect();
        let pos = |op: usize| members.iter().position(|&x| x == op);
        for attempt in 0..400 {
            if attempt == 200 {
                for x in &mut lb {
                    *x = (*x).max(self.frontier_now());
                }
            }
            let mut undos: Vec<Undo> = Vec::with_capacity(members.len());
            let mut ok = true;
            for (k, &i) in members.iter().enumerate() {
                let mut est = lb[k];
                for &(p, min, _) in &m.ops[i].preds {
                    est = est.max(self.end[p] + min);
                }
                match self.place_best(i, est, genome.unit_pref[i], cw) {
                    Ok(u) => undos.push(u),
                    Err(mat) => {
                        while let Some(u) = undos.pop() {
                            self.unplace(u);
                        }
                        return Err(GroupFail::Material(mat, i));
                    }
                }
                for &(p, _, max) in &m.ops[i].preds {
                    if let Some(max) = max
                        && self.start[i] > self.end[p] + max
                        && pos(p).is_none()
                    {
                        // Tied to a fixed operation: nothing can move it earlier.
                        while let Some(u) = undos.pop() {
                            self.unplace(u);
                        }
                        return Err(GroupFail::MaxLag(i));
                    }
                    if let Some(max) = max
                        && self.start[i] > self.end[p] + max
                        && let Some(kp) = pos(p)
                    {
                        let dur = self.end[p] - self.start[p];
                        lb[kp] = lb[kp].max(self.start[i] - max - dur).max(lb[kp] + 1);
                        ok = false;
                    }
                }
                if !ok {
                    break;
                }
            }
            if ok {
                return Ok(());
            }
            while let Some(u) = undos.pop() {
                self.unplace(u);
            }
        }
        Err(GroupFail::MaxLag(members[0]))
    }

    fn frontier_now(&self) -> i64 {
        let mut f = self.m.frontier;
        for u in &self.units {
            f = f.max(u.ready);
        }
        for (i, &p) in self.placed.iter().enumerate() {
            if p {
                f = f.max(self.end[i]);
            }
        }
        f + 1
    }
}

enum GroupFail {
    Material(usize, usize),
    MaxLag(usize),
}

/// Weight of setup minutes against end time when choosing a unit.
fn setup_weight(w: &Objective) -> f64 {
    let time = w.makespan + w.tardiness + 1e-9;
    (w.changeover_minutes + 0.1 * w.changeover_cost) / time
}

/// Decodes a genome into a feasible schedule.
pub fn decode(m: &Model, genome: &Genome) -> Result<Decoded, DecodeError> {
    let mut st = State::new(m);
    let n = m.ops.len();
    let ng = m.groups.len();
    // Fixed operations first, in time order per unit.
    let mut fixed: Vec<usize> = (0..n).filter(|&i| m.ops[i].fixed.is_some()).collect();
    fixed.sort_by_key(|&i| (m.ops[i].fixed.map(|f| f.1), i));
    for &i in &fixed {
        st.place_fixed(i);
    }
    // Groups of fixed operations are already placed: they come off the heap first.
    let mut pos = vec![0usize; ng];
    for (k, &g) in genome.order.iter().enumerate() {
        let all_fixed = m.groups[g].iter().all(|&i| m.ops[i].fixed.is_some());
        pos[g] = if all_fixed { 0 } else { k + 1 };
    }
    let mut indeg = vec![0usize; ng];
    for i in 0..n {
        for &(p, _, _) in &m.ops[i].preds {
            if m.ops[p].group != m.ops[i].group {
                indeg[m.ops[i].group] += 1;
            }
        }
    }
    let cw = setup_weight(&m.weights);
    let mut heap: BinaryHeap<Reverse<(usize, usize)>> = BinaryHeap::new();
    for g in 0..ng {
        if indeg[g] == 0 {
            heap.push(Reverse((pos[g], g)));
        }
    }
    let mut waiting: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut last_stuck: Option<(usize, usize)> = None;
    let mut done = 0usize;
    while done < ng {
        let Some(Reverse((_, g))) = heap.pop() else {
            let (mat, op) = last_stuck.unwrap_or((usize::MAX, 0));
            return Err(DecodeError::MaterialStuck {
                op: m.op_ids[op].clone(),
                material: m.mat_ids.get(mat).cloned().unwrap_or_default(),
            });
        };
        let all_fixed = m.groups[g].iter().all(|&i| m.ops[i].fixed.is_some());
        if !all_fixed {
            match st.place_group(g, genome, cw) {
                Ok(()) => {}
                Err(GroupFail::Material(mat, op)) => {
                    waiting.entry(mat).or_default().push(g);
                    last_stuck = Some((mat, op));
                    continue;
                }
                Err(GroupFail::MaxLag(op)) => {
                    return Err(DecodeError::MaxLag {
                        op: m.op_ids[op].clone(),
                    });
                }
            }
        }
        done += 1;
        for &i in &m.groups[g] {
            for &(mat, _) in &m.ops[i].produces {
                if let Some(list) = waiting.remove(&mat) {
                    for w in list {
                        heap.push(Reverse((pos[w], w)));
                    }
                }
            }
            for &s in &m.ops[i].succs {
                let sg = m.ops[s].group;
                if sg != g {
                    indeg[sg] -= 1;
                    if indeg[sg] == 0 {
                        heap.push(Reverse((pos[sg], sg)));
                    }
                }
            }
        }
    }
    let score = evaluate(
        m,
        &st.unit,
        &st.start,
        &st.end,
        &st.setup_min,
        &st.setup_cost,
    );
    Ok(Decoded {
        unit: st.unit,
        start: st.start,
        end: st.end,
        score,
    })
}

fn evaluate(
    m: &Model,
    unit: &[usize],
    start: &[i64],
    end: &[i64],
    smin: &[i64],
    scost: &[f64],
) -> Score {
    let mut s = Score {
        makespan: end.iter().copied().max().unwrap_or(0).max(0),
        ..Score::default()
    };
    let mut completion = vec![i64::MIN; m.orders.len()];
    for (i, o) in m.ops.iter().enumerate() {
        completion[o.order] = completion[o.order].max(end[i]);
        s.changeover_minutes += smin[i];
        s.changeover_cost += scost[i];
        if let Some((u, st)) = m.reference[i] {
            s.stability += (start[i] - st).abs() + if u != unit[i] { 60 } else { 0 };
        }
    }
    for (k, o) in m.orders.iter().enumerate() {
        if let Some(due) = o.due
            && completion[k] > due
        {
            s.weighted_tardiness += o.weight * (completion[k] - due) as f64;
        }
    }
    let w = &m.weights;
    s.total = w.makespan * s.makespan as f64
        + w.tardiness * s.weighted_tardiness
        + w.changeover_minutes * s.changeover_minutes as f64
        + w.changeover_cost * s.changeover_cost
        + w.stability * s.stability as f64;
    s
}

/// Priority rules for the initial order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Earliest latest-start (due minus remaining work), ties by changeover key (campaigns).
    Slack,
    /// Weighted earliest due date.
    WeightedDue,
    /// Campaigns: by changeover key, then due date.
    Campaign,
    /// As given (group topological order).
    Topological,
}

/// The initial genome for a priority rule.
pub fn initial(m: &Model, rule: Rule) -> Genome {
    let n = m.ops.len();
    // Remaining work from each op to the end of its chain (shortest alternatives).
    let mut tail = vec![0i64; n];
    for &g in m.topo_groups.iter().rev() {
        for &i in m.groups[g].iter().rev() {
            let d = m.ops[i].alts.iter().map(|a| a.dur).min().unwrap_or(0);
            let after = m.ops[i].succs.iter().map(|&s| tail[s]).max().unwrap_or(0);
            tail[i] = d + after;
        }
    }
    let key = |i: usize| {
        i64::from(
            m.ops[i]
                .alts
                .first()
                .and_then(|a| a.key)
                .unwrap_or(u32::MAX),
        )
    };
    let mut topo_rank = vec![0usize; m.groups.len()];
    for (k, &g) in m.topo_groups.iter().enumerate() {
        topo_rank[g] = k;
    }
    // Groups right after a fixed operation they are tied to by a maximum lag go first.
    let urgent = |g: usize| -> i64 {
        let tied = m.groups[g].iter().any(|&i| {
            m.ops[i]
                .preds
                .iter()
                .any(|&(p, _, max)| max.is_some() && m.ops[p].fixed.is_some())
        });
        if tied { 0 } else { 1 }
    };
    let mut order: Vec<usize> = m.topo_groups.clone();
    let horizon = m.frontier.max(1);
    let sort_key = |g: usize| -> (i64, i64, i64, usize) {
        let head = m.groups[g][0];
        let o = &m.orders[m.ops[head].order];
        let due = o.due.unwrap_or(horizon * 2);
        let (a, b) = match rule {
            Rule::Slack => (due - tail[head], key(head)),
            Rule::WeightedDue => (
                ((due - tail[head]) as f64 / o.weight.max(0.1)) as i64,
                key(head),
            ),
            Rule::Campaign => (key(head), due.div_euclid(1440)),
            Rule::Topological => (0, 0),
        };
        (urgent(g), a, b, topo_rank[g])
    };
    order.sort_by_key(|&g| sort_key(g));
    Genome {
        order,
        unit_pref: vec![None; n],
        hold: None,
    }
}

/// Builds the first feasible schedule: tries each priority rule and keeps the best.
pub fn construct(m: &Model) -> Result<(Genome, Decoded), DecodeError> {
    let mut best: Option<(Genome, Decoded)> = None;
    let mut last_err = None;
    let rules: &[Rule] = if m.ops.len() > 5_000 {
        &[Rule::Slack]
    } else {
        &[
            Rule::Slack,
            Rule::WeightedDue,
            Rule::Campaign,
            Rule::Topological,
        ]
    };
    for &rule in rules {
        let g = initial(m, rule);
        match decode(m, &g) {
            Ok(d) => {
                if best
                    .as_ref()
                    .is_none_or(|b| d.score.total < b.1.score.total)
                {
                    best = Some((g, d));
                }
            }
            Err(e) => last_err = Some(e),
        }
    }
    best.ok_or_else(|| last_err.expect("at least one rule ran"))
}

/// Position of each item by its id, for the compile step's id → index lookups.
fn index_by_id<T>(items: &[T], id: impl Fn(&T) -> &str) -> HashMap<&str, usize> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| (id(item), i))
        .collect()
}
