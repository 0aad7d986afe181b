//! The waits between an operation's hard bound and its start: when its unit, a pool or a
//! material would first have let it start, and why not before.

use super::chain::Block;
use super::context::{Context, Opened, POS, TOL};
use crate::index::{MaterialIdx, OpIdx, PoolIdx, UnitIdx};
use crate::plant::problem::Receipt;

impl Context<'_> {
    /// `None` when the unit can take setup plus run at `t`; else when it first can, and why not.
    pub(super) fn unit_wait(
        &self,
        u: UnitIdx,
        t: i64,
        setup: i64,
        dur: i64,
        s: i64,
    ) -> Option<(i64, Block)> {
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
    fn pool_short(&self, k: PoolIdx, o: OpIdx, q: i64, from: i64, to: i64) -> Option<usize> {
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

    /// `None` when pool `k` has `q` free for `o` over `[t, t + dur)`; else the first start
    /// with enough free, and the operation whose end (or the capacity change) freed it.
    pub(super) fn pool_wait(
        &self,
        k: PoolIdx,
        o: OpIdx,
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
            .min_by(|&a, &b| self.op(a).id.cmp(&self.op(b).id));
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
    pub(super) fn material_wait(
        &self,
        k: MaterialIdx,
        q: f64,
        t: i64,
        s: i64,
    ) -> Option<(i64, Block)> {
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
                .min_by(|&a, &b| self.op(a).id.cmp(&self.op(b).id));
            let arrived: f64 = self
                .material(k)
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
    pub(super) fn holders(&self, k: PoolIdx, o: OpIdx, from: i64, to: i64) -> Vec<String> {
        let users = &self.pool_profiles[k].users;
        let to = to.max(from + 1);
        users[..users.partition_point(|u| u.start < to)]
            .iter()
            .filter(|u| u.op != o && from < u.end)
            .map(|u| self.op_id(u.op))
            .collect()
    }
}
