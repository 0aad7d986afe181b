//! The mutable resource state during decoding: per unit its last operation and setup
//! counters, per pool a free-capacity profile, per material its level events; earliest
//! feasible starts, placing and undoing an operation, and placing a whole max-lag group.

use super::genome::Genome;
use super::{Alt, INF, Model};

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
pub(super) struct State<'m> {
    m: &'m Model,
    units: Vec<UnitState>,
    pools: Vec<Vec<(i64, i64)>>,
    /// Per material: merged (time, delta) events, sorted.
    mats: Vec<Vec<(i64, f64)>>,
    pub(super) unit: Vec<usize>,
    pub(super) start: Vec<i64>,
    pub(super) end: Vec<i64>,
    pub(super) setup_min: Vec<i64>,
    pub(super) setup_cost: Vec<f64>,
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
    pub(super) fn new(m: &'m Model) -> State<'m> {
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
            cip = self.m.ops[op].cip_before
                || (rule.on_product_change && st.last_product.is_some_and(|p| p != product))
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
        // A setup runs inside the horizon: never before minute 0 (a CIP the first operation
        // of a unit requires is done, not assumed done before the schedule starts).
        let ready = if setup > 0 { st.ready.max(0) } else { st.ready };
        let mut t = lb.max(ready.saturating_add(setup));
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

    pub(super) fn place_fixed(&mut self, op: usize) {
        let o = &self.m.ops[op];
        let (unit, start) = o.fixed.expect("fixed");
        let ai = o.alts.iter().position(|a| a.unit == unit).unwrap_or(0);
        let _ = self.place(op, ai, start);
    }

    /// Places a whole group; Err(material) when a member waits for material.
    pub(super) fn place_group(
        &mut self,
        g: usize,
        genome: &Genome,
        cw: f64,
    ) -> Result<(), GroupFail> {
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

pub(super) enum GroupFail {
    Material(usize, usize),
    MaxLag(usize),
}
