//! Lower bounds on every objective term, so each plan can say how far it may be from the best
//! possible.
//!
//! Every bound is the optimum of a relaxation, so no feasible schedule scores below it:
//!
//! - **heads** (earliest start of each operation): its release, or its fixed start, and the
//!   chain of its predecessors at their shortest alternatives plus min lags; calendars,
//!   downtime, pools, materials, max lags and setups are dropped (they only delay work);
//! - **weighted tardiness**: each order's critical path against its due date, and for each
//!   *group of units* (see [`unit_groups`]) a relaxation over the operations that can run
//!   nowhere outside the group: the group's `k` units become one machine `k` times as fast
//!   with preemption allowed (whatever the units do in any interval, the fast machine does
//!   in the same interval, so no operation finishes later there), its shortest-remaining-time
//!   schedule gives the smallest possible j-th completion time for every j, and the cheapest
//!   assignment of those completion times to the operations (each order charged through one
//!   of its operations, plus its tail to the order's end) bounds the orders' weighted
//!   tardiness; the best group wins (one unit alone is the classic single-machine bound);
//! - **makespan**: the longest chain, the last completion of every group's fast machine
//!   (the load of its operations after their heads), the average load over all units and
//!   the load of each pool at its largest capacity;
//! - **changeovers**: on a unit whose operations all carry a changeover key, the operations
//!   that can run nowhere else show k distinct keys, so at least k − 1 changes between
//!   distinct keys, each at least the cheapest change between any two keys that can meet on
//!   the unit (tables need not obey the triangle inequality);
//! - **stability**: 0;
//! - and on small problems whose objective is weighted tardiness alone, the optimum itself
//!   when the exact search of [`super::exact`] finishes within its node budget.
//!
//! The total is the objective's weighted sum of the terms (each bounded on its own).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::checker::check;
use super::construct::{INF, Model, Score};
use super::exact::exact_tardiness;
use super::problem::{PlantProblem, PlantSchedule, ProblemError};

/// How far a plan may be from the best possible, shown beside every plan: "at most
/// `gap_percent` % from the best possible".
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Optimality {
    /// The plan's objective (the weighted sum the search minimises).
    pub objective: f64,
    /// No schedule of the problem has a smaller objective.
    pub bound: f64,
    /// The bound term by term (each term bounded on its own).
    pub bound_terms: Score,
    /// The plan is at most this many percent of its objective above the best possible
    /// (0: the plan is proved optimal).
    pub gap_percent: f64,
}

impl Optimality {
    /// The optimality of a plan of objective `objective` against the bound `bound`.
    pub fn new(objective: f64, bound: Score) -> Optimality {
        Optimality {
            objective,
            bound: bound.total,
            bound_terms: bound,
            gap_percent: gap_percent(objective, bound.total),
        }
    }
}

/// The optimality of `schedule` for `problem` under the problem's own objective: the
/// checker's objective of the schedule against [`problem_bound`].
pub fn plan_optimality(
    problem: &PlantProblem,
    schedule: &PlantSchedule,
) -> Result<Optimality, ProblemError> {
    problem.validate()?;
    let kpis = check(problem, schedule).kpis;
    let bound = lower_bound_with(&Model::compile(problem), Some(kpis.weighted_tardiness));
    Ok(Optimality::new(kpis.objective, bound))
}

/// Above this many charged operations in one group its assignment (cubic) gives way to
/// [`cheapest_per_position`].
const ASSIGNMENT_LIMIT: usize = 320;
/// The most assignment work (the sum of rows³ over the groups) one bound may take.
const ASSIGNMENT_WORK: usize = 200_000_000;

/// A lower bound on every term of the objective for `model` (see the module doc), from the
/// relaxations alone.
pub fn lower_bound(m: &Model) -> Score {
    lower_bound_with(m, None)
}

/// [`lower_bound`], and where the exact search of [`super::exact`] applies (small problems
/// whose objective is weighted tardiness alone), the optimum it proves below
/// `incumbent_tardiness`, the weighted tardiness of a schedule known to exist.
pub fn lower_bound_with(m: &Model, incumbent_tardiness: Option<f64>) -> Score {
    let proved = incumbent_tardiness.and_then(|inc| exact_tardiness(m, inc));
    bound_with_proved(m, proved)
}

/// The relaxations' bound raised by a weighted tardiness `proved` optimal (by the exact
/// search).
pub(crate) fn bound_with_proved(m: &Model, proved: Option<f64>) -> Score {
    let n = m.ops.len();
    let mindur: Vec<i64> = m
        .ops
        .iter()
        .map(|o| o.alts.iter().map(|a| a.dur).min().unwrap_or(0))
        .collect();
    let dur_of = |i: usize| -> i64 {
        match m.ops[i].fixed {
            Some((u, _)) => m.ops[i]
                .alts
                .iter()
                .find(|a| a.unit == u)
                .map_or(mindur[i], |a| a.dur),
            None => mindur[i],
        }
    };
    let topo: Vec<usize> = m
        .topo_groups
        .iter()
        .flat_map(|&g| m.groups[g].iter().copied())
        .collect();
    let mut head = vec![0i64; n];
    for &i in &topo {
        let o = &m.ops[i];
        head[i] = match o.fixed {
            Some((_, s)) => s,
            None => o
                .preds
                .iter()
                .map(|&(p, lag, _)| head[p] + dur_of(p) + lag)
                .fold(o.release, i64::max),
        };
    }
    // Tail of each operation to its order's end (successors in the same order only).
    let mut tail = vec![0i64; n];
    for &i in topo.iter().rev() {
        let o = &m.ops[i];
        for &s in &o.succs {
            if m.ops[s].order != o.order {
                continue;
            }
            let lag = m.ops[s]
                .preds
                .iter()
                .filter(|x| x.0 == i)
                .map(|x| x.1)
                .max()
                .unwrap_or(0);
            tail[i] = tail[i].max(lag + dur_of(s) + tail[s]);
        }
    }
    let end_lb: Vec<i64> = (0..n).map(|i| head[i] + dur_of(i)).collect();
    let mut bound = Score {
        makespan: makespan_bound(m, &head, &end_lb, &mindur, &dur_of),
        weighted_tardiness: tardiness_bound(m, &head, &tail, &end_lb, &dur_of),
        ..Score::default()
    };
    if let Some(proved) = proved {
        bound.weighted_tardiness = bound.weighted_tardiness.max(proved);
    }
    let (minutes, cost) = changeover_bound(m);
    bound.changeover_minutes = minutes;
    bound.changeover_cost = cost;
    let w = &m.weights;
    bound.total = w.makespan * bound.makespan as f64
        + w.tardiness * bound.weighted_tardiness
        + w.changeover_minutes * bound.changeover_minutes as f64
        + w.changeover_cost * bound.changeover_cost;
    bound
}

/// How far `score` may be from the best possible, in percent of `score` (0 when it meets
/// the bound).
pub fn gap_percent(score: f64, bound: f64) -> f64 {
    if score <= bound + 1e-9 * score.abs().max(1.0) || score <= 0.0 {
        0.0
    } else {
        100.0 * (score - bound.max(0.0)) / score
    }
}

/// The operations that can only run on each unit (not fixed: those are where they are).
fn own_ops(m: &Model) -> Vec<Vec<usize>> {
    let mut own = vec![Vec::new(); m.units.len()];
    for (i, o) in m.ops.iter().enumerate() {
        if o.fixed.is_none() && o.alts.len() == 1 {
            own[o.alts[0].unit].push(i);
        }
    }
    own
}

fn makespan_bound(
    m: &Model,
    head: &[i64],
    end_lb: &[i64],
    mindur: &[i64],
    dur_of: &dyn Fn(usize) -> i64,
) -> i64 {
    let n = m.ops.len();
    if n == 0 {
        return 0;
    }
    let mut lb = end_lb.iter().copied().max().unwrap_or(0).max(0);
    let min_head = head.iter().copied().min().unwrap_or(0);
    if !m.units.is_empty() {
        let work: i64 = mindur.iter().sum();
        let units = m.units.len() as i64;
        lb = lb.max(min_head + (work + units - 1) / units);
    }
    for group in unit_groups(m) {
        let jobs: Vec<(i64, i64)> = group.ops.iter().map(|&i| (head[i], dur_of(i))).collect();
        if let Some(&last) = fast_machine_completions(&jobs, &group.capacity).last() {
            lb = lb.max(last);
        }
    }
    for (p, prof) in m.pool_caps.iter().enumerate() {
        let cap = prof.iter().map(|s| s.1).max().unwrap_or(0);
        if cap <= 0 {
            continue;
        }
        let users: Vec<(usize, i64)> = (0..n)
            .filter_map(|i| {
                m.ops[i]
                    .pools
                    .iter()
                    .find(|x| x.0 == p)
                    .map(|&(_, q)| (i, q))
            })
            .collect();
        if let Some(first) = users.iter().map(|&(i, _)| head[i]).min() {
            let load: i64 = users.iter().map(|&(i, q)| q * mindur[i]).sum();
            lb = lb.max(first + (load + cap - 1) / cap);
        }
    }
    lb
}

fn tardiness_bound(
    m: &Model,
    head: &[i64],
    tail: &[i64],
    end_lb: &[i64],
    dur_of: &dyn Fn(usize) -> i64,
) -> f64 {
    // Each order's critical path against its due date.
    let mut completion = vec![i64::MIN; m.orders.len()];
    for (i, o) in m.ops.iter().enumerate() {
        completion[o.order] = completion[o.order].max(end_lb[i]);
    }
    let cp: Vec<f64> = m
        .orders
        .iter()
        .zip(&completion)
        .map(|(o, &c)| match o.due {
            Some(due) if c > due => o.weight * (c - due) as f64,
            _ => 0.0,
        })
        .collect();
    let cp_total: f64 = cp.iter().sum();
    let mut best = cp_total;
    let mut work = 0usize;
    for group in unit_groups(m) {
        if group.ops.len() < 2 {
            continue;
        }
        // Each order is charged through its operation here with the latest possible end.
        let key = |k: usize| end_lb[k] + tail[k];
        let mut charged: Vec<Option<usize>> = vec![None; m.orders.len()];
        for &i in &group.ops {
            let o = m.ops[i].order;
            if m.orders[o].due.is_some() && charged[o].is_none_or(|c| key(i) > key(c)) {
                charged[o] = Some(i);
            }
        }
        let rows: Vec<usize> = group
            .ops
            .iter()
            .copied()
            .filter(|&i| charged[m.ops[i].order] == Some(i))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let jobs: Vec<(i64, i64)> = group.ops.iter().map(|&i| (head[i], dur_of(i))).collect();
        // The charged operations hold distinct ranks among all the group's completions, and
        // lateness never falls with a later end, so the earliest `rows.len()` ranks suffice.
        let mut times = fast_machine_completions(&jobs, &group.capacity);
        times.truncate(rows.len());
        let cost: Vec<Vec<f64>> = rows
            .iter()
            .map(|&i| {
                let o = m.ops[i].order;
                let order = &m.orders[o];
                let due = order.due.unwrap_or(i64::MAX);
                times
                    .iter()
                    .map(|&c| {
                        let late = (c.max(end_lb[i]) + tail[i] - due).max(0);
                        (order.weight * late as f64).max(cp[o])
                    })
                    .collect()
            })
            .collect();
        let others: f64 = (0..m.orders.len())
            .filter(|&o| charged[o].is_none())
            .map(|o| cp[o])
            .sum();
        // Smallest groups first; past a size or a budget of assignment work (cubic), the
        // cheaper bound of the cheapest row per position, so that a plan's bound stays a
        // fraction of a second on the largest problems.
        work += rows.len().pow(3);
        let assigned = if rows.len() <= ASSIGNMENT_LIMIT && work <= ASSIGNMENT_WORK {
            min_assignment(&cost)
        } else {
            cheapest_per_position(&cost)
        };
        best = best.max(others + assigned);
    }
    best
}

fn changeover_bound(m: &Model) -> (i64, f64) {
    let mut all_keyed = vec![true; m.units.len()];
    for o in &m.ops {
        for a in &o.alts {
            if a.key.is_none() {
                all_keyed[a.unit] = false;
            }
        }
    }
    let own = own_ops(m);
    let (mut minutes, mut cost) = (0i64, 0.0f64);
    for (u, unit) in m.units.iter().enumerate() {
        let Some(t) = unit.table else { continue };
        if !all_keyed[u] {
            continue;
        }
        let mut keys: Vec<u32> = own[u]
            .iter()
            .filter_map(|&i| m.ops[i].alts[0].key)
            .collect();
        keys.sort_unstable();
        keys.dedup();
        if keys.len() < 2 {
            continue;
        }
        // The cheapest change between any two keys that can meet on this unit (the default
        // where the table has no entry for some pair): a sequence may pass through keys of
        // operations that can also run elsewhere.
        let mut possible: Vec<u32> = m
            .ops
            .iter()
            .flat_map(|o| o.alts.iter())
            .filter(|a| a.unit == u)
            .filter_map(|a| a.key)
            .collect();
        possible.sort_unstable();
        possible.dedup();
        let table = &m.tables[t];
        let (mut mm, mut mc) = (i64::MAX, f64::INFINITY);
        for &a in &possible {
            for &b in &possible {
                if a != b {
                    let (x, c) = table.entries.get(&(a, b)).copied().unwrap_or(table.default);
                    mm = mm.min(x);
                    mc = mc.min(c);
                }
            }
        }
        let changes = keys.len() as i64 - 1;
        minutes += changes * mm.max(0);
        cost += changes as f64 * mc.max(0.0);
    }
    (minutes, cost)
}

/// A set of units and the operations that can run on no unit outside it.
struct UnitGroup {
    /// How many of the group's units are available from each time on: `(from, units)`,
    /// sorted, the first from [`INF`]'s negative.
    capacity: Vec<(i64, i64)>,
    ops: Vec<usize>,
}

/// Above this many units, groups are the units' eligible sets and their pairwise unions
/// rather than every subset.
const ALL_SUBSETS_UNITS: usize = 8;
/// The most groups relaxed (each costs a sort and an assignment).
const GROUP_LIMIT: usize = 256;

/// The groups of units the bounds relax: every subset of the units when there are at most
/// [`ALL_SUBSETS_UNITS`], else every single unit, every set of units some operation may
/// choose among, and the union of every two such sets (up to [`GROUP_LIMIT`], smallest
/// first). A group is kept only when some operation is confined to it; fixed operations
/// count on their unit (they occupy it), as does every alternative of the others.
fn unit_groups(m: &Model) -> Vec<UnitGroup> {
    let units = m.units.len();
    if units == 0 || units > 64 {
        return Vec::new();
    }
    let eligible: Vec<u64> = m
        .ops
        .iter()
        .map(|o| match o.fixed {
            Some((u, _)) => 1u64 << u,
            None => o.alts.iter().fold(0u64, |a, alt| a | (1u64 << alt.unit)),
        })
        .collect();
    let mut masks: Vec<u64> = if units <= ALL_SUBSETS_UNITS {
        (1..(1u64 << units)).collect()
    } else {
        let mut sets: Vec<u64> = eligible.iter().copied().filter(|&e| e != 0).collect();
        sets.extend((0..units).map(|u| 1u64 << u));
        sets.sort_unstable();
        sets.dedup();
        let mut all = sets.clone();
        for (k, &a) in sets.iter().enumerate() {
            for &b in &sets[k + 1..] {
                all.push(a | b);
            }
        }
        all.sort_unstable_by_key(|&g| (g.count_ones(), g));
        all.dedup();
        all
    };
    masks.retain(|&g| eligible.iter().any(|&e| e != 0 && e & !g == 0));
    masks.sort_by_key(|&g| (g.count_ones(), g));
    masks.truncate(GROUP_LIMIT);
    // The wide groups the limit may have cut: every set of units that operations tie
    // together (a stage of a flow line), and all units.
    let mut component: Vec<usize> = (0..units).collect();
    fn root(c: &mut [usize], u: usize) -> usize {
        let mut r = u;
        while c[r] != r {
            r = c[r];
        }
        c[u] = r;
        r
    }
    for &e in &eligible {
        let mut first = None;
        for u in (0..units).filter(|&u| e & (1u64 << u) != 0) {
            let r = root(&mut component, u);
            match first {
                None => first = Some(r),
                Some(f) => component[r] = f,
            }
        }
    }
    let mut wide: Vec<u64> = vec![0; units];
    for u in 0..units {
        let r = root(&mut component, u);
        wide[r] |= 1u64 << u;
    }
    wide.push(if units == 64 {
        u64::MAX
    } else {
        (1u64 << units) - 1
    });
    for g in wide {
        if g != 0 && !masks.contains(&g) && eligible.iter().any(|&e| e != 0 && e & !g == 0) {
            masks.push(g);
        }
    }
    masks
        .into_iter()
        .map(|g| UnitGroup {
            capacity: capacity_profile(m, g),
            ops: (0..m.ops.len())
                .filter(|&i| eligible[i] != 0 && eligible[i] & !g == 0)
                .collect(),
        })
        .collect()
}

/// How many units of `group` (a bit set) are available from each time on: the sum of the
/// units' availability, as `(from, units)` steps, the first from `-INF`.
fn capacity_profile(m: &Model, group: u64) -> Vec<(i64, i64)> {
    let mut edges: Vec<(i64, i64)> = Vec::new();
    for (u, unit) in m.units.iter().enumerate() {
        if group & (1u64 << u) == 0 {
            continue;
        }
        for &(a, b) in &unit.avail {
            edges.push((a.max(-INF), 1));
            if b < INF {
                edges.push((b, -1));
            }
        }
    }
    edges.sort_unstable();
    let mut steps: Vec<(i64, i64)> = vec![(-INF, 0)];
    for (t, delta) in edges {
        let last = steps.last_mut().expect("a first step");
        if last.0 == t {
            last.1 += delta;
        } else {
            let units = last.1 + delta;
            steps.push((t, units));
        }
    }
    steps.dedup_by(|b, a| a.1 == b.1);
    steps
}

/// Completion times, sorted, of jobs `(release, duration)` on one machine whose speed at
/// each time is the number of units `capacity` says are available then, preemptive,
/// shortest remaining time first: no schedule of the jobs on those units, each unit working
/// only while available, has its j-th completion earlier, for any j. The speed is common to
/// all jobs, so the schedule is the plain one in *work time* (the units' minutes available
/// since the first release), mapped back; real ends are whole minutes, so they round up.
/// A job the units never finish ends at [`INF`].
fn fast_machine_completions(jobs: &[(i64, i64)], capacity: &[(i64, i64)]) -> Vec<i64> {
    let Some(origin) = jobs.iter().map(|j| j.0).min() else {
        return Vec::new();
    };
    // Work available between the origin and the start of each step (from the origin on).
    let mut steps: Vec<(i64, i64, i128)> = Vec::new();
    let mut work: i128 = 0;
    for (k, &(from, units)) in capacity.iter().enumerate() {
        let to = capacity.get(k + 1).map_or(INF, |s| s.0);
        if to <= origin {
            continue;
        }
        let from = from.max(origin);
        steps.push((from, units, work));
        work += i128::from(units) * i128::from(to - from);
    }
    let to_work = |t: i64| -> i128 {
        let k = steps.partition_point(|s| s.0 <= t) - 1;
        let (from, units, before) = steps[k];
        before + i128::from(units) * i128::from(t - from)
    };
    let from_work = |w: i128| -> i64 {
        if w <= 0 {
            return origin;
        }
        // The last step that starts with less than `w` done: `w` is reached inside it (a
        // step without units adds no work, so the one after it would start below `w` too).
        let k = steps.partition_point(|s| s.2 < w) - 1;
        let (from, units, before) = steps[k];
        if units <= 0 {
            return INF;
        }
        let units = i128::from(units);
        let at = i128::from(from) + (w - before + units - 1) / units;
        at.min(i128::from(INF)) as i64
    };
    let scaled: Vec<(i64, i64)> = jobs
        .iter()
        .map(|&(r, d)| (i64::try_from(to_work(r)).unwrap_or(INF), d))
        .collect();
    srpt_completions(&scaled)
        .into_iter()
        .map(|c| from_work(i128::from(c)))
        .collect()
}

/// Completion times, sorted, of the preemptive shortest-remaining-time schedule of jobs
/// `(release, duration)` on one machine: the smallest possible k-th completion for every k.
fn srpt_completions(jobs: &[(i64, i64)]) -> Vec<i64> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut by_release: Vec<(i64, i64)> = jobs.to_vec();
    by_release.sort_unstable();
    let mut ready: BinaryHeap<Reverse<i64>> = BinaryHeap::new();
    let mut out = Vec::with_capacity(jobs.len());
    let mut t = i64::MIN;
    let mut next = 0;
    while out.len() < jobs.len() {
        if ready.is_empty() {
            t = t.max(by_release[next].0);
        }
        while next < by_release.len() && by_release[next].0 <= t {
            ready.push(Reverse(by_release[next].1));
            next += 1;
        }
        let Reverse(rem) = ready.pop().expect("a released job");
        let until = by_release.get(next).map_or(i64::MAX, |j| j.0);
        if t + rem <= until {
            t += rem;
            out.push(t);
        } else {
            ready.push(Reverse(rem - (until - t)));
            t = until;
        }
    }
    out
}

/// A lower bound on the cheapest perfect matching of rows to columns in `O(n²)`: every
/// column is matched to some row, so it costs at least its cheapest row.
fn cheapest_per_position(cost: &[Vec<f64>]) -> f64 {
    let n = cost.len();
    (0..n)
        .map(|c| cost.iter().map(|row| row[c]).fold(f64::INFINITY, f64::min))
        .sum::<f64>()
        .max(0.0)
}

/// The smallest total cost of a perfect matching of rows to columns (Hungarian method with
/// potentials, O(n³)); `cost` is square.
fn min_assignment(cost: &[Vec<f64>]) -> f64 {
    let n = cost.len();
    if n == 0 {
        return 0.0;
    }
    // 1-based rows/columns; column 0 is the virtual start of each augmenting path.
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; n + 1];
    let mut row_of = vec![0usize; n + 1];
    let mut way = vec![0usize; n + 1];
    for r in 1..=n {
        row_of[0] = r;
        let mut col = 0usize;
        let mut minv = vec![f64::INFINITY; n + 1];
        let mut used = vec![false; n + 1];
        loop {
            used[col] = true;
            let r0 = row_of[col];
            let mut delta = f64::INFINITY;
            let mut next = 0usize;
            for c in 1..=n {
                if used[c] {
                    continue;
                }
                let reduced = cost[r0 - 1][c - 1] - u[r0] - v[c];
                if reduced < minv[c] {
                    minv[c] = reduced;
                    way[c] = col;
                }
                if minv[c] < delta {
                    delta = minv[c];
                    next = c;
                }
            }
            for c in 0..=n {
                if used[c] {
                    u[row_of[c]] += delta;
                    v[c] -= delta;
                } else {
                    minv[c] -= delta;
                }
            }
            col = next;
            if row_of[col] == 0 {
                break;
            }
        }
        loop {
            let prev = way[col];
            row_of[col] = row_of[prev];
            col = prev;
            if col == 0 {
                break;
            }
        }
    }
    (1..=n).map(|c| cost[row_of[c] - 1][c - 1]).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srpt_gives_the_smallest_completions() {
        // A long job first, a short one arriving during it: the short one finishes at 2.
        assert_eq!(srpt_completions(&[(0, 10), (1, 1)]), vec![2, 11]);
        assert_eq!(srpt_completions(&[(5, 3), (0, 2)]), vec![2, 8]);
    }

    #[test]
    fn the_fast_machine_works_only_while_units_are_available() {
        // Two units always up: twice as fast, halves rounded up.
        let both = [(-INF, 2)];
        assert_eq!(
            fast_machine_completions(&[(0, 10), (0, 10)], &both),
            vec![5, 10]
        );
        assert_eq!(fast_machine_completions(&[(0, 3)], &both), vec![2]);
        // One unit, up in [0, 10) and from 20 on: a 15-minute job ends at 25.
        let shift = [(-INF, 0), (0, 1), (10, 0), (20, 1)];
        assert_eq!(fast_machine_completions(&[(0, 15)], &shift), vec![25]);
        // A job released during the break waits for the shift.
        assert_eq!(fast_machine_completions(&[(12, 3)], &shift), vec![23]);
        // Units that never come back never finish.
        assert_eq!(
            fast_machine_completions(&[(0, 15)], &[(-INF, 0), (0, 1), (10, 0)]),
            vec![INF]
        );
    }

    #[test]
    fn a_groups_capacity_sums_its_units_availability() {
        let mut m = Model::compile(&crate::plant::generate::generate(
            crate::plant::generate::GenerateOptions {
                operations: 10,
                units: 3,
                seed: 1,
            },
        ));
        m.units.truncate(2);
        m.units[0].avail = vec![(-INF, INF)];
        m.units[1].avail = vec![(0, 10), (20, INF)];
        assert_eq!(
            capacity_profile(&m, 0b11),
            vec![(-INF, 1), (0, 2), (10, 1), (20, 2)]
        );
        assert_eq!(
            capacity_profile(&m, 0b10),
            vec![(-INF, 0), (0, 1), (10, 0), (20, 1)]
        );
    }

    #[test]
    fn assignment_finds_the_cheapest_matching() {
        let cost = vec![
            vec![4.0, 1.0, 3.0],
            vec![2.0, 0.0, 5.0],
            vec![3.0, 2.0, 2.0],
        ];
        // 1 + 2 + 2 = 5 (row 0 → col 1, row 1 → col 0, row 2 → col 2).
        assert_eq!(min_assignment(&cost), 5.0);
        // The cheap bound: columns' cheapest rows, 2 + 0 + 2.
        assert_eq!(cheapest_per_position(&cost), 4.0);
    }

    #[test]
    fn gap_is_zero_at_the_bound() {
        assert_eq!(gap_percent(48.0, 48.0), 0.0);
        assert_eq!(gap_percent(0.0, 0.0), 0.0);
        assert_eq!(gap_percent(80.0, 40.0), 50.0);
    }
}
