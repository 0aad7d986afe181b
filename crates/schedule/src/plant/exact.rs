//! An exact search for the weighted tardiness of small problems, so that a plan there can be
//! proved optimal (gap 0) or shown how far it may be from the optimum.
//!
//! It applies to problems of at most [`EXACT_LIMIT`] operations whose objective is weighted
//! tardiness alone and whose constraints are orders as chains (precedence with min lags),
//! alternative units with fixed minutes, releases, due dates and sequence-dependent
//! changeovers: no calendars, downtime, pools, materials, CIP, max lags or fixed operations.
//!
//! Weighted tardiness is regular (it never falls when an operation ends later), so some
//! optimal schedule is *semi-active*: every operation starts as early as its release, its
//! predecessors and the operation before it on its unit (with the changeover) allow. Such a
//! schedule is fully given by its operations in order of start, and replaying that order
//! reproduces it (every duration is positive, so predecessors start strictly earlier). The
//! search therefore builds schedules one operation at a time in non-decreasing order of start
//! (equal starts by operation index), each operation on one of its units at the earliest
//! start there — every semi-active schedule is met exactly once. A partial schedule is cut
//! when a lower bound on its weighted tardiness reaches the best known: the orders already
//! finished count as they are; for every other operation, its start cannot be before the
//! last start placed (the order of the search), its release, its predecessors' bounds and the
//! time its least busy unit becomes free, which gives each open order a completion bound.
//!
//! The search is depth-first with the cheapest children first and stops after a node budget,
//! so it is deterministic; only a finished search proves anything.

use super::construct::{Genome, INF, Model};
use crate::termination::{Never, Termination};

/// The largest problem (operations) the exact search is tried on.
pub const EXACT_LIMIT: usize = 40;
/// Nodes the exact search may visit before it gives up (a few seconds at most; `tardy30b`
/// needs about 0.9 million from a poor incumbent).
pub const NODE_BUDGET: u64 = 2_000_000;
/// Nodes between two questions to the caller's [`Termination`] (a few milliseconds).
pub const STOP_EVERY: u64 = 4_096;

/// Whether the exact search applies to `m` (see the module doc).
pub fn applies(m: &Model) -> bool {
    let w = &m.weights;
    let tardiness_only = w.tardiness > 0.0
        && w.makespan == 0.0
        && w.changeover_minutes == 0.0
        && w.changeover_cost == 0.0
        && (w.stability == 0.0 || m.reference.iter().all(Option::is_none));
    tardiness_only
        && !m.ops.is_empty()
        && m.ops.len() <= EXACT_LIMIT
        && m.pool_caps.is_empty()
        && m.mat_initial.is_empty()
        && m.units
            .iter()
            .all(|u| u.cip.is_none() && u.avail.len() == 1 && u.avail[0] == (-INF, INF))
        && m.ops.iter().all(|o| {
            o.fixed.is_none()
                && !o.cip_before
                && o.pools.is_empty()
                && o.consumes.is_empty()
                && o.produces.is_empty()
                && o.preds.iter().all(|p| p.2.is_none())
                && o.alts.iter().all(|a| a.dur > 0)
        })
}

/// The least weighted tardiness of any schedule of `m`, below `incumbent` (a value some
/// schedule is known to reach), or `incumbent` itself when nothing is below it; `None` when
/// the search does not apply or ran out of its node budget (then nothing is proved).
pub fn exact_tardiness(m: &Model, incumbent: f64) -> Option<f64> {
    exact_search(m, incumbent).map(|e| e.tardiness)
}

/// What a finished exact search proved.
#[derive(Debug, Clone)]
pub struct Exact {
    /// The least weighted tardiness of any schedule.
    pub tardiness: f64,
    /// A schedule that reaches it when it is below the incumbent: the priority order and
    /// units that replay it (`None` when the incumbent is already optimal).
    pub better: Option<Genome>,
}

/// [`exact_tardiness`] with the better schedule it found, if any.
pub fn exact_search(m: &Model, incumbent: f64) -> Option<Exact> {
    exact_search_until(m, incumbent, &mut Never)
}

/// [`exact_search`] that also gives up (proving nothing) once `stop` says so, asked every
/// [`STOP_EVERY`] nodes: the caller's time limit holds here as in the search.
pub fn exact_search_until(m: &Model, incumbent: f64, stop: &mut dyn Termination) -> Option<Exact> {
    if !applies(m) || stop.should_stop() {
        return None;
    }
    let mut s = Search::new(m, incumbent, stop);
    s.dfs(i64::MIN, usize::MAX, 0.0);
    if s.out_of_budget {
        return None;
    }
    let better = s.found.map(|(alt, start)| {
        // Groups by their start in the schedule found (each group is one operation here:
        // no max lags), each operation on the unit it has there.
        let mut order: Vec<usize> = (0..m.groups.len()).collect();
        order.sort_by_key(|&g| (m.groups[g].iter().map(|&i| start[i]).min(), g));
        Genome {
            order,
            unit_pref: alt.into_iter().map(|a| Some(a as u16)).collect(),
            hold: None,
        }
    });
    Some(Exact {
        tardiness: s.best,
        better,
    })
}

struct Search<'m, 't> {
    m: &'m Model,
    stop: &'t mut dyn Termination,
    best: f64,
    /// The alternative and start of every operation in the best schedule found.
    found: Option<(Vec<usize>, Vec<i64>)>,
    alt: Vec<usize>,
    start: Vec<i64>,
    nodes: u64,
    out_of_budget: bool,
    /// Per unit: when it is free and the changeover key of its last operation.
    free: Vec<i64>,
    last_key: Vec<Option<Option<u32>>>,
    end: Vec<i64>,
    placed: Vec<bool>,
    /// Operations of each order still to place.
    open: Vec<usize>,
    order_end: Vec<i64>,
    /// Operations in a topological order (for the bound's propagation).
    topo: Vec<usize>,
    count: usize,
    /// Scratch of the bound: earliest completion per operation, completion per order.
    ect: Vec<i64>,
    scratch_end: Vec<i64>,
}

impl<'m, 't> Search<'m, 't> {
    fn new(m: &'m Model, incumbent: f64, stop: &'t mut dyn Termination) -> Search<'m, 't> {
        let n = m.ops.len();
        let mut open = vec![0usize; m.orders.len()];
        for o in &m.ops {
            open[o.order] += 1;
        }
        let topo = m
            .topo_groups
            .iter()
            .flat_map(|&g| m.groups[g].iter().copied())
            .collect();
        Search {
            m,
            stop,
            best: incumbent,
            found: None,
            alt: vec![0; n],
            start: vec![0; n],
            nodes: 0,
            out_of_budget: false,
            free: vec![i64::MIN; m.units.len()],
            last_key: vec![None; m.units.len()],
            end: vec![0; n],
            placed: vec![false; n],
            open,
            order_end: vec![i64::MIN; m.orders.len()],
            topo,
            count: 0,
            ect: vec![0; n],
            scratch_end: vec![i64::MIN; m.orders.len()],
        }
    }

    fn tardiness(&self, order: usize, end: i64) -> f64 {
        let o = &self.m.orders[order];
        match o.due {
            Some(due) if end > due => o.weight * (end - due) as f64,
            _ => 0.0,
        }
    }

    /// Earliest start of operation `i` on alternative `a` now (its predecessors placed).
    fn start_on(&self, i: usize, a: usize) -> i64 {
        let op = &self.m.ops[i];
        let alt = &op.alts[a];
        let mut s = op.release;
        for &(p, lag, _) in &op.preds {
            s = s.max(self.end[p] + lag);
        }
        let u = alt.unit;
        if let Some(from) = self.last_key[u] {
            let setup = match (self.m.units[u].table, from, alt.key) {
                (Some(t), Some(f), Some(k)) if f != k => {
                    let table = &self.m.tables[t];
                    table
                        .entries
                        .get(&(f, k))
                        .copied()
                        .unwrap_or(table.default)
                        .0
                }
                _ => 0,
            };
            s = s.max(self.free[u] + setup);
        }
        s
    }

    /// A lower bound on the weighted tardiness of every completion of the partial schedule
    /// whose last start is `after`; `done` is the tardiness of the finished orders.
    fn bound(&mut self, after: i64, done: f64) -> f64 {
        let m = self.m;
        let mut ect = std::mem::take(&mut self.ect);
        let mut order_end = std::mem::take(&mut self.scratch_end);
        order_end.copy_from_slice(&self.order_end);
        for &i in &self.topo {
            if self.placed[i] {
                ect[i] = self.end[i];
                continue;
            }
            let op = &m.ops[i];
            let mut est = op.release.max(after);
            for &(p, lag, _) in &op.preds {
                est = est.max(ect[p] + lag);
            }
            ect[i] = op
                .alts
                .iter()
                .map(|a| est.max(self.free[a.unit]) + a.dur)
                .min()
                .unwrap_or(est);
            order_end[op.order] = order_end[op.order].max(ect[i]);
        }
        let mut lb = done;
        for (o, &left) in self.open.iter().enumerate() {
            if left > 0 {
                lb += self.tardiness(o, order_end[o]);
            }
        }
        self.ect = ect;
        self.scratch_end = order_end;
        lb
    }

    /// Places one more operation at a start of at least `after` (an index above `last` at
    /// an equal start); `done` is the tardiness of the orders finished so far.
    fn dfs(&mut self, after: i64, last: usize, done: f64) {
        if self.out_of_budget {
            return;
        }
        self.nodes += 1;
        if self.nodes > NODE_BUDGET
            || (self.nodes.is_multiple_of(STOP_EVERY) && self.stop.should_stop())
        {
            self.out_of_budget = true;
            return;
        }
        let m = self.m;
        if self.count == m.ops.len() {
            if done < self.best {
                self.best = done;
                self.found = Some((self.alt.clone(), self.start.clone()));
            }
            return;
        }
        // Children: every ready operation on every unit, at its earliest start there.
        let mut children: Vec<(f64, i64, usize, usize)> = Vec::new();
        for i in 0..m.ops.len() {
            if self.placed[i] || m.ops[i].preds.iter().any(|p| !self.placed[p.0]) {
                continue;
            }
            for a in 0..m.ops[i].alts.len() {
                let s = self.start_on(i, a);
                if s < after || (s == after && last != usize::MAX && i <= last) {
                    continue;
                }
                let (undo, d) = self.place(i, a, s, done);
                let lb = self.bound(s, d);
                self.unplace(i, a, undo);
                if lb < self.best - 1e-9 {
                    children.push((lb, s, i, a));
                }
            }
        }
        children.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        for (lb, s, i, a) in children {
            if lb >= self.best - 1e-9 {
                break;
            }
            let (undo, d) = self.place(i, a, s, done);
            self.dfs(s, i, d);
            self.unplace(i, a, undo);
            if self.out_of_budget {
                return;
            }
        }
    }

    /// Places `i` on alternative `a` at `s`; returns what undoes it and the new `done`.
    #[allow(clippy::type_complexity)]
    fn place(
        &mut self,
        i: usize,
        a: usize,
        s: i64,
        done: f64,
    ) -> ((i64, Option<Option<u32>>, i64), f64) {
        let op = &self.m.ops[i];
        let alt = &op.alts[a];
        let undo = (
            self.free[alt.unit],
            self.last_key[alt.unit],
            self.order_end[op.order],
        );
        self.end[i] = s + alt.dur;
        self.alt[i] = a;
        self.start[i] = s;
        self.free[alt.unit] = self.end[i];
        self.last_key[alt.unit] = Some(alt.key);
        self.placed[i] = true;
        self.count += 1;
        self.order_end[op.order] = self.order_end[op.order].max(self.end[i]);
        self.open[op.order] -= 1;
        let d = if self.open[op.order] == 0 {
            done + self.tardiness(op.order, self.order_end[op.order])
        } else {
            done
        };
        (undo, d)
    }

    fn unplace(&mut self, i: usize, a: usize, undo: (i64, Option<Option<u32>>, i64)) {
        let op = &self.m.ops[i];
        let u = op.alts[a].unit;
        self.free[u] = undo.0;
        self.last_key[u] = undo.1;
        self.order_end[op.order] = undo.2;
        self.placed[i] = false;
        self.count -= 1;
        self.open[op.order] += 1;
    }
}
