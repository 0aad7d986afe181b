//! Compiling a validated problem into the flat index arrays of [`Model`]: unit availability
//! minus downtime, pool capacity profiles, operations with their changeover keys, the
//! topological order and the max-lag groups.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::super::interval::merge;
use super::super::problem::{KeyedBy, PlantProblem};
use super::{Alt, Cip, INF, Model, Op, Order, Table, Unit};

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

fn availability(
    windows: &Option<Vec<super::super::problem::Interval>>,
    horizon: i64,
) -> Vec<(i64, i64)> {
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
            .map(|u| compile_unit(u, h, &table_idx, &mut frontier))
            .collect();
        let pool_caps: Vec<Vec<(i64, i64)>> = p
            .pools
            .iter()
            .map(|pool| pool_profile(pool, h, &mut frontier))
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
                    cip_before: o.cip_before,
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
        let n = ops.len();
        let topo = op_topological_order(&ops);
        let groups = max_lag_groups(&mut ops, &topo);
        let topo_groups = group_topological_order(&ops, groups.len());
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

/// Position of each item by its id, for the compile step's id → index lookups.
fn index_by_id<T>(items: &[T], id: impl Fn(&T) -> &str) -> HashMap<&str, usize> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| (id(item), i))
        .collect()
}

/// Free-capacity step profile of a pool: (from time, capacity), first at -[`INF`]; raises
/// `frontier` to the end of its last dip.
fn pool_profile(
    pool: &super::super::problem::PoolSpec,
    h: i64,
    frontier: &mut i64,
) -> Vec<(i64, i64)> {
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
        *frontier = (*frontier).max(d.end);
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
}

/// Topological order of operations (Kahn, smallest index first for determinism).
fn op_topological_order(ops: &[Op]) -> Vec<usize> {
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
    topo
}

/// Groups: components of the max-lag graph (union-find) between unfixed operations, members
/// in topological order; sets each operation's `group`.
fn max_lag_groups(ops: &mut [Op], topo: &[usize]) -> Vec<Vec<usize>> {
    let n = ops.len();
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
    for &i in topo {
        let r = find(&mut parent, i);
        let g = *group_of_root.entry(r).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
        ops[i].group = g;
    }
    groups
}

/// Groups in a topological order of the group graph (smallest index first).
fn group_topological_order(ops: &[Op], ng: usize) -> Vec<usize> {
    let n = ops.len();
    // Group topological order: groups are created in the op topo order of their first
    // member; order groups by the topo position of their last member's requirements.
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
    topo_groups
}

/// A unit's available intervals (its windows inside the horizon, minus downtime), its
/// changeover table and CIP rule; raises `frontier` to the end of its last downtime.
fn compile_unit(
    u: &super::super::problem::UnitSpec,
    h: i64,
    table_idx: &HashMap<&str, usize>,
    frontier: &mut i64,
) -> Unit {
    let down: Vec<(i64, i64)> = u.downtime.iter().map(|d| (d.start, d.end)).collect();
    for d in &down {
        *frontier = (*frontier).max(d.1);
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
}
