//! The walk from a late order's last operation back to its release: at each operation the
//! hard bound that held it, the stretches from that bound to its start and what blocked
//! each, and where the walk goes next.

use super::context::{Context, NEG};
use super::report::{Cause, Link, LinkKind, Via};
use crate::index::{IndexVec, MaterialIdx, OpIdx, OrderIdx, PoolIdx};
use crate::plant::problem::{Interval, Receipt};

/// A stretch between the hard bound and the start, and what blocked it.
#[derive(Debug, Clone)]
pub(super) enum Block {
    Calendar,
    Downtime(Interval),
    Pool {
        pool: PoolIdx,
        lift_op: Option<OpIdx>,
        capacity: Option<u32>,
    },
    Material {
        material: MaterialIdx,
        quantity: f64,
        lift_op: Option<OpIdx>,
        receipt: Option<Receipt>,
    },
    MaxLag {
        succ: OpIdx,
        max_lag: i64,
    },
    Idle,
}

/// The hard bound of an operation's start: what it is.
#[derive(Debug, Clone, Copy)]
enum Hard {
    Pred { pred: OpIdx, min_lag: i64 },
    Unit { prev: OpIdx },
    Release { release: i64 },
    None,
}

/// The links of one chain, latest first, tiling `[floor, cursor]` as they are added.
struct Tiling {
    links: Vec<Link>,
    /// The order's release: the walk stops there.
    floor: i64,
    /// Start of the earliest link so far.
    cursor: i64,
}

impl Tiling {
    /// Adds the link `[from, to]` (clipped at the floor); false when the chain has reached
    /// the floor and the walk stops.
    fn emit(&mut self, from: i64, to: i64, cause: Cause, kind: LinkKind) -> bool {
        if self.cursor <= self.floor {
            return false;
        }
        debug_assert_eq!(to, self.cursor, "links tile the time");
        let from = from.max(self.floor);
        self.links.push(Link {
            from,
            to,
            minutes: to - from,
            cause,
            kind,
        });
        self.cursor = from;
        from > self.floor
    }
}

/// Where the walk goes after an operation.
enum Step {
    /// Into this operation, reached this way.
    Next(OpIdx, Via),
    /// Nowhere: the chain is complete.
    Stop,
}

impl Context<'_> {
    /// The walk from `last` (of order `k`) back to the order's release.
    pub(super) fn chain(&self, k: OrderIdx, last: OpIdx) -> Vec<Link> {
        let mut tiling = Tiling {
            links: Vec::new(),
            floor: self.order(k).release,
            cursor: self.at(last).end,
        };
        let mut visited: IndexVec<OpIdx, bool> = IndexVec::filled(false, self.p.operations.len());
        let mut next = Some((last, Via::Last));
        while let Some((o, via)) = next.take() {
            visited[o] = true;
            match self.walk_operation(&mut tiling, k, o, via, &visited) {
                Step::Next(x, via) => next = Some((x, via)),
                Step::Stop => break,
            }
        }
        tiling.links
    }

    /// Links operation `o` (reached by `via`) and what held it, and says where to go next.
    fn walk_operation(
        &self,
        tiling: &mut Tiling,
        k: OrderIdx,
        o: OpIdx,
        via: Via,
        visited: &IndexVec<OpIdx, bool>,
    ) -> Step {
        let pl = self.at(o);
        let own = self.op_order[o] == k;
        let cause = match &via {
            Via::Last => Cause::Processing,
            Via::Precedence { .. } if own => Cause::Processing,
            Via::Precedence { .. } => Cause::Precedence,
            Via::Unit { .. } => Cause::Unit,
            Via::Pool { .. } => Cause::Pool,
            Via::Material { .. } => Cause::Material,
        };
        let kind = LinkKind::Operation {
            op: self.op_id(o),
            order: self.order_of(o).id.clone(),
            unit: self.units[pl.unit].to_owned(),
            via,
        };
        if !tiling.emit(pl.start, pl.end, cause, kind) {
            return Step::Stop;
        }
        if let Some(f) = &self.op(o).fixed {
            let kind = LinkKind::Frozen {
                op: self.op_id(o),
                unit: f.unit.clone(),
            };
            tiling.emit(tiling.floor, pl.start, Cause::Frozen, kind);
            return Step::Stop;
        }
        let (bound, hard) = self.hard_bound(o, visited);
        for (from, to, block) in self.stretches(o, bound).iter().rev() {
            if let Some((x, via)) = self.lift(o, *from, *to, block, visited) {
                return Step::Next(x, via);
            }
            let (cause, kind) = self.block_link(o, *from, *to, block);
            if !tiling.emit(*from, *to, cause, kind) {
                return Step::Stop;
            }
        }
        self.follow_bound(tiling, o, bound, hard)
    }

    /// The operation whose end lifted a pool or material block, when the walk has not been
    /// there yet: the walk continues into it.
    fn lift(
        &self,
        o: OpIdx,
        from: i64,
        to: i64,
        block: &Block,
        visited: &IndexVec<OpIdx, bool>,
    ) -> Option<(OpIdx, Via)> {
        match block {
            Block::Pool {
                pool,
                lift_op: Some(x),
                ..
            } if !visited[*x] => Some((
                *x,
                Via::Pool {
                    succ: self.op_id(o),
                    pool: self.pools[*pool].to_owned(),
                    holders: self.holders(*pool, o, from, to),
                },
            )),
            Block::Material {
                material,
                lift_op: Some(x),
                ..
            } if !visited[*x] => Some((
                *x,
                Via::Material {
                    succ: self.op_id(o),
                    material: self.material(*material).id.clone(),
                },
            )),
            _ => None,
        }
    }

    /// Links the hard bound of `o` (a lag, a setup, the release or idle time) and steps into
    /// the predecessor or the unit's previous operation.
    fn follow_bound(&self, tiling: &mut Tiling, o: OpIdx, bound: i64, hard: Hard) -> Step {
        match hard {
            Hard::Pred { pred, min_lag } => {
                if min_lag != 0 {
                    let kind = LinkKind::Lag {
                        pred: self.op_id(pred),
                        op: self.op_id(o),
                        min_lag,
                    };
                    if !tiling.emit(self.at(pred).end, bound, Cause::Precedence, kind) {
                        return Step::Stop;
                    }
                }
                let via = Via::Precedence {
                    succ: self.op_id(o),
                    min_lag,
                };
                Step::Next(pred, via)
            }
            Hard::Unit { prev } => {
                let s = &self.setup[o];
                if s.minutes != 0 {
                    let kind = LinkKind::Setup {
                        unit: self.units[self.at(o).unit].to_owned(),
                        op: self.op_id(o),
                        after: self.op_id(prev),
                        changeover: s.changeover.clone(),
                        cip: s.cip.clone(),
                    };
                    if !tiling.emit(self.at(prev).end, bound, Cause::Setup, kind) {
                        return Step::Stop;
                    }
                }
                let via = Via::Unit {
                    succ: self.op_id(o),
                };
                Step::Next(prev, via)
            }
            Hard::Release { release } => {
                let kind = LinkKind::Release {
                    op: self.op_id(o),
                    order: self.order_of(o).id.clone(),
                    release,
                };
                tiling.emit(tiling.floor, bound, Cause::Release, kind);
                Step::Stop
            }
            Hard::None => {
                let kind = LinkKind::Idle { op: self.op_id(o) };
                tiling.emit(tiling.floor, bound, Cause::Idle, kind);
                Step::Stop
            }
        }
    }

    /// The latest of the release, predecessor and unit bounds not after the start (ties go to
    /// precedence, then the unit, then the release), and which it is.
    fn hard_bound(&self, o: OpIdx, visited: &IndexVec<OpIdx, bool>) -> (i64, Hard) {
        let pl = self.at(o);
        let release = self
            .order_of(o)
            .release
            .max(self.op(o).release.unwrap_or(NEG));
        let mut best: Option<(i64, u8, Hard)> = None;
        let mut offer = |b: i64, prio: u8, hard: Hard| {
            if b <= pl.start && best.is_none_or(|(bb, bp, _)| b > bb || (b == bb && prio < bp)) {
                best = Some((b, prio, hard));
            }
        };
        for &(pred, min_lag) in &self.preds[o] {
            if let Some(pp) = self.place[pred]
                && !visited[pred]
            {
                offer(pp.end + min_lag, 0, Hard::Pred { pred, min_lag });
            }
        }
        if let Some(prev) = self.prev[o]
            && !visited[prev]
        {
            offer(
                self.at(prev).end + self.setup[o].minutes,
                1,
                Hard::Unit { prev },
            );
        }
        offer(release, 2, Hard::Release { release });
        best.map_or((pl.start, Hard::None), |(b, _, h)| (b, h))
    }

    /// The stretches from `bound` to the operation's start and what blocked each.
    fn stretches(&self, o: OpIdx, bound: i64) -> Vec<(i64, i64, Block)> {
        let pl = self.at(o);
        let s = pl.start;
        let dur = pl.end - pl.start;
        let setup = self.setup[o].minutes;
        let mut out = Vec::new();
        let mut t = bound;
        while t < s {
            let mut worst: Option<(i64, Block)> = None;
            let mut consider = |c: i64, block: Block| {
                let c = c.min(s).max(t + 1);
                if worst.as_ref().is_none_or(|(w, _)| c > *w) {
                    worst = Some((c, block));
                }
            };
            if let Some((c, block)) = self.unit_wait(pl.unit, t, setup, dur, s) {
                consider(c, block);
            }
            for &(k, q) in &self.pool_uses[o] {
                if let Some((c, block)) = self.pool_wait(k, o, q, t, dur, s) {
                    consider(c, block);
                }
            }
            for &(k, q) in &self.consumes[o] {
                if let Some((c, block)) = self.material_wait(k, q, t, s) {
                    consider(c, block);
                }
            }
            for &(succ, max_lag) in &self.max_lag_succs[o] {
                if let Some(sp) = self.place[succ] {
                    let earliest = sp.start - max_lag - dur;
                    if earliest > t {
                        consider(earliest, Block::MaxLag { succ, max_lag });
                    }
                }
            }
            match worst {
                Some((c, block)) => {
                    out.push((t, c, block));
                    t = c;
                }
                None => {
                    out.push((t, s, Block::Idle));
                    t = s;
                }
            }
        }
        out
    }

    /// The cause and link of a blocked stretch `[from, to]` before `o`.
    fn block_link(&self, o: OpIdx, from: i64, to: i64, block: &Block) -> (Cause, LinkKind) {
        let unit = || self.units[self.at(o).unit].to_owned();
        match block {
            Block::Calendar => (
                Cause::Calendar,
                LinkKind::Calendar {
                    unit: unit(),
                    op: self.op_id(o),
                },
            ),
            Block::Downtime(window) => (
                Cause::Downtime,
                LinkKind::Downtime {
                    unit: unit(),
                    op: self.op_id(o),
                    window: *window,
                },
            ),
            Block::Pool { pool, capacity, .. } => (
                Cause::Pool,
                LinkKind::Pool {
                    pool: self.pools[*pool].to_owned(),
                    op: self.op_id(o),
                    holders: self.holders(*pool, o, from, to),
                    capacity: *capacity,
                },
            ),
            Block::Material {
                material,
                quantity,
                receipt,
                ..
            } => (
                Cause::Material,
                LinkKind::Material {
                    material: self.material(*material).id.clone(),
                    op: self.op_id(o),
                    quantity: *quantity,
                    receipt: *receipt,
                },
            ),
            Block::MaxLag { succ, max_lag } => (
                Cause::MaxLag,
                LinkKind::MaxLag {
                    op: self.op_id(o),
                    succ: self.op_id(*succ),
                    max_lag: *max_lag,
                },
            ),
            Block::Idle => (Cause::Idle, LinkKind::Idle { op: self.op_id(o) }),
        }
    }
}
