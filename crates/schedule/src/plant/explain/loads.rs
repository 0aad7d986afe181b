//! The load of every unit and pool over the span, with the late chains each holds, and their
//! ranking as bottlenecks.

use super::LateCharge;
use super::context::{Context, NEG, POS};
use super::report::{Link, LinkKind, PoolLoad, UnitLoad, Via};
use crate::index::{IndexVec, PoolIdx, UnitIdx};
use crate::plant::problem::Interval;

impl Context<'_> {
    /// The unit a link of a late chain charges (busy, setup, calendar, downtime).
    pub(super) fn unit_of_link(&self, l: &Link) -> Option<UnitIdx> {
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
    pub(super) fn pool_of_link(&self, l: &Link) -> Option<PoolIdx> {
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

    /// From minute 0 (or the earliest setup start, if earlier) to the latest end.
    pub(super) fn span(&self) -> Interval {
        let mut start = 0i64;
        let mut end = NEG;
        for (o, pl) in self.place.iter_enumerated() {
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

    /// Every unit's load over `span`, unranked.
    pub(super) fn unit_loads(
        &self,
        span: Interval,
        late: &IndexVec<UnitIdx, LateCharge>,
    ) -> Vec<UnitLoad> {
        self.seqs
            .iter_enumerated()
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

    /// Every pool's load over `span`, unranked.
    pub(super) fn pool_loads(
        &self,
        span: Interval,
        late: &IndexVec<PoolIdx, LateCharge>,
    ) -> Vec<PoolLoad> {
        self.pool_profiles
            .iter_enumerated()
            .map(|(k, prof)| {
                let mut l = PoolLoad {
                    pool: self.pools[k].to_owned(),
                    rank: 0,
                    capacity: self.pool(k).capacity,
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

/// Units, worst bottleneck first: most minutes in late chains, then load, then busy minutes.
pub(super) fn ranked_units(mut units: Vec<UnitLoad>) -> Vec<UnitLoad> {
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
    units
}

/// Pools, worst bottleneck first: most minutes in late chains, then minutes at full capacity,
/// then average utilisation.
pub(super) fn ranked_pools(mut pools: Vec<PoolLoad>) -> Vec<PoolLoad> {
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
    pools
}
