//! Moves on the critical chain of a late order, for weighted tardiness.
//!
//! A late order is late because of a chain of waits that ends at its last operation: each
//! operation on it started either as soon as a predecessor allowed (precedence) or as soon as
//! its unit was free of the operation before it (a *unit block*). Random swaps rarely hit the
//! one pair that matters among a hundred groups; these moves do: pick a late order (the
//! heavier its weighted tardiness, the likelier), walk its chain back from the last
//! operation, pick one unit-blocked operation on it, and either move it ahead of an
//! operation of the contiguous block before it on its unit (the Nowicki–Smutnicki block
//! move, read for tardiness instead of makespan) or send it to another of its units and a
//! little earlier (a cross-unit reassignment on the tardy chain).

use super::construct::{Decoded, Genome, Model};
use model::rng::Rng;

fn below(rng: &mut Rng, n: usize) -> usize {
    rng.below_u32(n.min(u32::MAX as usize) as u32) as usize
}

/// Applies one chain move to `g`; false when no order is late or the chain has no unit
/// block (then `g` is unchanged).
pub(super) fn chain_move(
    m: &Model,
    g: &mut Genome,
    cur: &Decoded,
    order_groups: &[Vec<usize>],
    rng: &mut Rng,
) -> bool {
    let Some(o) = pick_late_order(m, cur, order_groups, rng) else {
        return false;
    };
    // The order's last operation.
    let Some(last) = order_groups[o]
        .iter()
        .flat_map(|&gr| m.groups[gr].iter().copied())
        .max_by_key(|&i| (cur.end[i], i))
    else {
        return false;
    };
    // Each unit's operations in start order, and every operation's place there.
    let mut seq: Vec<Vec<usize>> = vec![Vec::new(); m.units.len()];
    for i in 0..m.ops.len() {
        seq[cur.unit[i]].push(i);
    }
    let mut place = vec![0usize; m.ops.len()];
    for s in &mut seq {
        s.sort_by_key(|&i| (cur.start[i], i));
        for (k, &i) in s.iter().enumerate() {
            place[i] = k;
        }
    }
    // Walk the chain back; keep each unit-blocked operation with the start of its block.
    let mut blocked: Vec<(usize, usize)> = Vec::new();
    let mut i = last;
    for _ in 0..m.ops.len() {
        let op = &m.ops[i];
        if op.fixed.is_some() {
            break;
        }
        let mut ready = op.release;
        let mut by: Option<usize> = None;
        for &(p, lag, _) in &op.preds {
            if cur.end[p] + lag >= ready {
                ready = cur.end[p] + lag;
                by = Some(p);
            }
        }
        if cur.start[i] <= ready {
            match by {
                Some(p) => {
                    i = p;
                    continue;
                }
                None => break,
            }
        }
        let u = cur.unit[i];
        let k = place[i];
        if k == 0 {
            break;
        }
        // The contiguous block before i: operations that follow each other with no more
        // idle time than a setup could explain (the unit's worst change is bounded by the
        // gap to the release/precedence time, so use "ends before i starts and after the
        // block's previous one starts").
        let mut first = k - 1;
        while first > 0 {
            let (a, b) = (seq[u][first - 1], seq[u][first]);
            let idle = cur.start[b] - cur.end[a];
            if idle > max_setup(m, u) {
                break;
            }
            first -= 1;
        }
        blocked.push((i, first));
        i = seq[u][k - 1];
    }
    if blocked.is_empty() {
        return false;
    }
    let (i, first) = blocked[below(rng, blocked.len())];
    let u = cur.unit[i];
    let k = place[i];
    let pos = |g: &Genome, gr: usize| g.order.iter().position(|&x| x == gr).expect("present");
    let gi = m.ops[i].group;
    let alts = m.ops[i].alts.len();
    if alts > 1 && below(rng, 3) == 0 {
        // Another unit, and a little earlier.
        let now = m.ops[i].alts.iter().position(|a| a.unit == u).unwrap_or(0);
        let mut c = below(rng, alts - 1);
        if c >= now {
            c += 1;
        }
        g.unit_pref[i] = Some(c as u16);
        let p = pos(g, gi);
        let x = g.order.remove(p);
        g.order.insert(p.saturating_sub(below(rng, 8)), x);
        return true;
    }
    // Ahead of an operation of its block.
    let target = seq[u][first + below(rng, k - first)];
    let gt = m.ops[target].group;
    if gt == gi {
        return false;
    }
    let p = pos(g, gi);
    let x = g.order.remove(p);
    let t = pos(g, gt);
    g.order.insert(t.min(p), x);
    true
}

/// The longest changeover on unit `u` (0 without a table).
fn max_setup(m: &Model, u: usize) -> i64 {
    let Some(t) = m.units[u].table else { return 0 };
    let t = &m.tables[t];
    t.entries.values().map(|e| e.0).fold(t.default.0, i64::max)
        + m.units[u].cip.as_ref().map_or(0, |c| c.minutes)
}

/// A late order drawn with probability proportional to its weighted tardiness.
fn pick_late_order(
    m: &Model,
    cur: &Decoded,
    order_groups: &[Vec<usize>],
    rng: &mut Rng,
) -> Option<usize> {
    let mut late: Vec<(usize, f64)> = Vec::new();
    let mut sum = 0.0;
    for (o, order) in m.orders.iter().enumerate() {
        let Some(due) = order.due else { continue };
        let end = order_groups[o]
            .iter()
            .flat_map(|&gr| m.groups[gr].iter())
            .map(|&i| cur.end[i])
            .max()
            .unwrap_or(i64::MIN);
        if end > due {
            let w = order.weight.max(1e-6) * (end - due) as f64;
            sum += w;
            late.push((o, sum));
        }
    }
    let &(_, total) = late.last()?;
    let r = rng.uniform() * total;
    late.iter()
        .find(|&&(_, c)| r < c)
        .or(late.last())
        .map(|&(o, _)| o)
}
