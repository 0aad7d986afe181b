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
//! Where it lives: `report` (what an explanation says), `context` (the problem and schedule
//! rebuilt for the walk: placements, unit sequences with setups, availability, pool and
//! material profiles), `chain` (the walk), `waits` (unit, pool and material waits), `loads`
//! (loads and their ranking).
//!
//! Pure and deterministic: no I/O, no clock, ordered maps only where order shows.

mod chain;
mod context;
mod loads;
mod report;
#[cfg(test)]
mod tests;
mod waits;

use std::collections::{BTreeMap, BTreeSet};

use super::problem::{PlantProblem, PlantSchedule, ProblemError};
use crate::index::{Idx, IndexVec, OrderIdx, PoolIdx, UnitIdx, enumerate};
use context::Context;
pub use report::{
    Cause, CauseMinutes, ChangeoverSetup, CipReason, CipSetup, Explanation, LateOrder, Link,
    LinkKind, PoolLoad, UnitLoad, Via,
};

/// The late orders whose chains a unit or pool holds, and the minutes charged to it.
type LateCharge = (BTreeSet<OrderIdx>, i64);

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
    let mut unit_late: IndexVec<UnitIdx, LateCharge> =
        IndexVec::filled((BTreeSet::new(), 0), cx.units.len());
    let mut pool_late: IndexVec<PoolIdx, LateCharge> =
        IndexVec::filled((BTreeSet::new(), 0), cx.pools.len());
    for (k, o) in enumerate::<OrderIdx, _>(&problem.orders) {
        let (Some(due), Some(last)) = (o.due, cx.last_op[k]) else {
            continue;
        };
        let completion = cx.at(last).end;
        if completion <= due {
            continue;
        }
        let chain = cx.chain(k, last);
        for l in &chain {
            if let Some(u) = cx.unit_of_link(l) {
                unit_late[u].0.insert(k);
                unit_late[u].1 += l.minutes;
            }
            if let Some(p) = cx.pool_of_link(l) {
                pool_late[p].0.insert(k);
                pool_late[p].1 += l.minutes;
            }
        }
        let minutes_by_cause = minutes_by_cause(&chain);
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
            last_op: cx.op(last).id.clone(),
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
    Ok(Explanation {
        span,
        total_minutes_late: late.iter().map(|l| l.minutes_late).sum(),
        late_orders: late,
        units: loads::ranked_units(cx.unit_loads(span, &unit_late)),
        pools: loads::ranked_pools(cx.pool_loads(span, &pool_late)),
    })
}

/// Minutes of a chain per cause, most first (ties by cause).
fn minutes_by_cause(chain: &[Link]) -> Vec<CauseMinutes> {
    let mut by: BTreeMap<Cause, i64> = BTreeMap::new();
    for l in chain {
        *by.entry(l.cause).or_default() += l.minutes;
    }
    let mut minutes: Vec<CauseMinutes> = by
        .into_iter()
        .map(|(cause, minutes)| CauseMinutes { cause, minutes })
        .collect();
    minutes.sort_by(|a, b| b.minutes.cmp(&a.minutes).then(a.cause.cmp(&b.cause)));
    minutes
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
        .map(OrderIdx::new)
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
