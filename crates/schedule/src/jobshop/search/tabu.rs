//! The tabu search of one thread.
//!
//! Neighbourhood (on one critical path, blocks = maximal runs of machine arcs):
//! - N7 (Zhang et al. 2007): move an operation of a block to the block's front or rear, and
//!   the first/last operation of a block into its interior — which contains the N5 swaps
//!   (Nowicki & Smutnicki 1996);
//! - flexible problems: reassign a critical operation to another of its machines at the best
//!   feasible position (Mastrolilli & Gambardella 2000 style insertion).
//!
//! Moves are evaluated approximately in `O(block)` from heads and tails (Balas &
//! Vazacopoulos: longest path through the moved operations). Feasibility is guaranteed by
//! sufficient path conditions on heads/tails/topological positions, with an exact re-check
//! (and undo) after applying. Tabu attributes are operation pairs whose order a move
//! reversed (and op/machine pairs for reassignment), with a random tenure redrawn per move;
//! aspiration by the thread best. Stagnation and cycles trigger a restart from an elite
//! solution with a random perturbation.

use super::graph::{Inst, NONE, Sol, State};
use model::rng::Rng;

/// Tuning knobs of one search thread.
#[derive(Debug, Clone)]
pub(crate) struct Params {
    pub tenure_min: u32,
    pub tenure_max: u32,
    pub max_no_improve: u64,
    pub elite_size: usize,
    pub perturb_min: u32,
    pub perturb_max: u32,
    pub path_relinking: bool,
    /// Stop as soon as the makespan is at most this (0 = only at the lower bound).
    pub stop_at: u32,
    /// Restarts without improving the thread best before a fresh construction.
    pub fresh_after: u32,
}

impl Params {
    pub fn for_instance(inst: &Inst) -> Params {
        let ratio = inst.n_jobs as f64 / inst.m.max(1) as f64;
        let base = 10.0 + ratio;
        // Zhang et al.'s `[L, 1.4 L]` suits the flexible case; for the classic job shop a
        // move here makes several operation pairs tabu at once, and iteration-budget runs on
        // ta12/22/25/27/33/36 preferred a shorter tenure (mean gap 0.51 % at [0.45 L, 0.8 L]
        // vs 0.79 % at [L, 1.4 L], 1.06 % at [3, 6]).
        let (tmin, tmax) = if inst.flexible {
            (base as u32, (1.4 * base) as u32 + 1)
        } else {
            ((0.45 * base).round() as u32, (0.8 * base).round() as u32)
        };
        let tmin = tmin.max(1);
        let max_no_improve = if inst.flexible { 4_000 } else { 8_000 };
        Params {
            tenure_min: tmin,
            tenure_max: tmax.max(tmin + 1),
            max_no_improve,
            elite_size: 8,
            perturb_min: 2,
            perturb_max: 6,
            path_relinking: true,
            stop_at: 0,
            fresh_after: 40,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Move {
    /// Move the op at `from` on machine `m` to position `to`.
    Shift { m: u32, from: u32, to: u32 },
    /// Move op `op` to machine `to_m` at position `to_pos`.
    Reassign { op: u32, to_m: u32, to_pos: u32 },
}

/// One search thread's state.
pub(crate) struct Searcher<'a> {
    inst: &'a Inst,
    params: Params,
    pub rng: Rng,
    st: State,
    /// Thread best.
    pub best: Sol,
    elite: Vec<Sol>,
    /// A solution received from another thread, used at the next restart.
    received: Option<Sol>,
    seg_best: u32,
    no_improve: u64,
    tabu_seq: Vec<u64>,
    tabu_mach: Vec<u64>,
    pub iter: u64,
    path: Vec<u32>,
    blocks: Vec<(u32, u32, u32)>,
    scratch: Vec<u32>,
    hashes: Vec<u64>,
    hash_pos: usize,
    force_random: bool,
    pub done: bool,
    tmp: Sol,
    /// Restarts since the thread best last improved, and the best at the last restart.
    fails: u32,
    best_at_restart: u32,
}

impl<'a> Searcher<'a> {
    pub fn new(inst: &'a Inst, seed: u64, params: Params, noise: f64) -> Searcher<'a> {
        let mut rng = Rng::new(seed);
        let start = super::construct::greedy(inst, &mut rng, noise);
        let mut st = State::new(inst);
        let ok = st.load(inst, &start);
        debug_assert!(ok, "greedy start must be acyclic");
        let mut best = Sol::default();
        st.save(&mut best);
        Searcher {
            inst,
            rng,
            seg_best: st.makespan,
            st,
            elite: Vec::new(),
            received: None,
            no_improve: 0,
            tabu_seq: vec![0; inst.n * inst.n_jobs],
            tabu_mach: vec![0; inst.n * inst.m],
            iter: 0,
            path: Vec::with_capacity(inst.n),
            blocks: Vec::with_capacity(inst.n),
            scratch: vec![0; inst.n + 1],
            hashes: vec![0; 128],
            hash_pos: 0,
            force_random: false,
            done: best.makespan <= params.stop_at.max(inst.lower_bound),
            best,
            params,
            tmp: Sol::default(),
            fails: 0,
            best_at_restart: u32::MAX,
        }
    }

    pub fn receive(&mut self, sol: &Sol) {
        match &mut self.received {
            Some(r) => r.copy_from(sol),
            None => self.received = Some(sol.clone()),
        }
    }

    #[inline]
    fn tkey(&self, x: u32, y: u32) -> usize {
        x as usize * self.inst.n_jobs + self.inst.job_of[y as usize] as usize
    }

    fn tenure(&mut self) -> u64 {
        let p = &self.params;
        u64::from(p.tenure_min + self.rng.below_u32(p.tenure_max - p.tenure_min + 1))
    }

    /// Runs up to `budget` iterations; `stop` is polled every 32 iterations.
    pub fn run(&mut self, budget: u64, stop: &mut dyn FnMut() -> bool) -> u64 {
        let mut done_iters = 0;
        while done_iters < budget && !self.done {
            if done_iters % 32 == 0 && stop() {
                break;
            }
            self.step();
            done_iters += 1;
        }
        done_iters
    }

    fn collect_blocks(&mut self) {
        self.blocks.clear();
        let path = &self.path;
        let st = &self.st;
        let mut k = 0;
        while k < path.len() {
            let mut e = k;
            while e + 1 < path.len() {
                let (a, b) = (path[e], path[e + 1]);
                if st.mach[a as usize] == st.mach[b as usize]
                    && st.pos[b as usize] == st.pos[a as usize] + 1
                {
                    e += 1;
                } else {
                    break;
                }
            }
            if e > k {
                let u = path[k];
                self.blocks.push((
                    st.mach[u as usize],
                    st.pos[u as usize],
                    st.pos[path[e] as usize],
                ));
            }
            k = e + 1;
        }
    }

    /// Sufficient condition that moving the op at `from` to `to` on machine `m` keeps the
    /// graph acyclic.
    fn shift_safe(&self, m: usize, from: usize, to: usize) -> bool {
        let st = &self.st;
        let s = &st.seq[m];
        if from < to {
            // u moves after v: unsafe iff a path JS(u) -> v exists.
            let (u, v) = (s[from], s[to]);
            let js = self.inst.jnext[u as usize];
            if js == NONE {
                return true;
            }
            if js == v {
                return false;
            }
            st.topo_pos[js as usize] > st.topo_pos[v as usize]
                || (st.dur[js as usize] > 0 && st.qd(js) <= st.qd(v))
        } else {
            // v moves before u: unsafe iff a path u -> JP(v) exists.
            let (u, v) = (s[to], s[from]);
            let jp = self.inst.jprev[v as usize];
            if jp == NONE {
                return true;
            }
            if jp == u {
                return false;
            }
            st.topo_pos[jp as usize] < st.topo_pos[u as usize]
                || (st.dur[jp as usize] > 0 && st.end_of(jp) <= st.end_of(u))
        }
    }

    /// Approximate makespan after the shift: longest path through the reordered segment.
    fn eval_shift(&mut self, m: usize, from: usize, to: usize) -> u32 {
        let st = &self.st;
        let inst = self.inst;
        let s = &st.seq[m];
        let (a, b) = if from < to { (from, to) } else { (to, from) };
        let k = b - a + 1;
        let at = |idx: usize| -> u32 {
            if from < to {
                if idx + 1 < k { s[a + 1 + idx] } else { s[a] }
            } else if idx == 0 {
                s[b]
            } else {
                s[a + idx - 1]
            }
        };
        let mut prev_end = if a > 0 { st.end_of(s[a - 1]) } else { 0 };
        for idx in 0..k {
            let w = at(idx);
            let r = st.end_of(inst.jprev[w as usize]).max(prev_end);
            self.scratch[idx] = r;
            prev_end = r + st.dur[w as usize];
        }
        let mut next_q = if b + 1 < s.len() { st.qd(s[b + 1]) } else { 0 };
        let mut est = 0;
        for idx in (0..k).rev() {
            let w = at(idx);
            let q = st.qd(inst.jnext[w as usize]).max(next_q);
            let d = st.dur[w as usize];
            est = est.max(self.scratch[idx] + d + q);
            next_q = q + d;
        }
        est
    }

    fn shift_tabu(&self, m: usize, from: usize, to: usize) -> bool {
        let s = &self.st.seq[m];
        let it = self.iter;
        if from < to {
            let u = s[from];
            s[from + 1..=to]
                .iter()
                .any(|&w| self.tabu_seq[self.tkey(w, u)] > it)
        } else {
            let v = s[from];
            s[to..from]
                .iter()
                .any(|&w| self.tabu_seq[self.tkey(v, w)] > it)
        }
    }

    /// Visits every N7 shift of every block: `f(m, from, to)`.
    fn for_each_shift(blocks: &[(u32, u32, u32)], mut f: impl FnMut(usize, usize, usize)) {
        for &(m, a, b) in blocks {
            let (m, a, b) = (m as usize, a as usize, b as usize);
            if b == a + 1 {
                f(m, a, b);
                continue;
            }
            for j in a + 1..=b {
                f(m, j, a); // to the front
            }
            for j in a..b {
                f(m, j, b); // to the rear
            }
            for j in a + 2..b {
                f(m, a, j); // first op into the interior
            }
            for j in a + 1..b.saturating_sub(1) {
                f(m, b, j); // last op into the interior
            }
        }
    }

    /// Best insertion position of `op` on machine `k` (duration `d`): (estimate, position).
    fn best_insertion(&self, op: u32, k: u32, d: u32) -> (u32, u32) {
        let st = &self.st;
        let inst = self.inst;
        let s = &st.seq[k as usize];
        let jp = inst.jprev[op as usize];
        let js = inst.jnext[op as usize];
        let lo = if jp == NONE {
            0
        } else {
            let t = st.topo_pos[jp as usize];
            s.partition_point(|&x| st.topo_pos[x as usize] <= t)
        };
        let hi = if js == NONE {
            s.len()
        } else {
            let t = st.topo_pos[js as usize];
            s.partition_point(|&x| st.topo_pos[x as usize] < t)
        };
        let jh = st.end_of(jp);
        let jt = st.qd(js);
        let mut best = (u32::MAX, lo as u32);
        for p in lo..=hi.max(lo) {
            let r = jh.max(if p > 0 { st.end_of(s[p - 1]) } else { 0 });
            let q = jt.max(if p < s.len() { st.qd(s[p]) } else { 0 });
            let e = r + d + q;
            if e < best.0 {
                best = (e, p as u32);
            }
        }
        best
    }

    fn step(&mut self) {
        self.iter += 1;
        let mut path = std::mem::take(&mut self.path);
        self.st.critical_path(self.inst, &mut self.rng, &mut path);
        self.path = path;
        self.collect_blocks();

        let aspiration = self.best.makespan;
        let mut best_mv: Option<Move> = None;
        let mut best_est = u32::MAX;
        let mut ties = 0u32;
        let mut tabu_mv: Option<Move> = None;
        let mut n_tabu = 0u32;
        let mut n_any = 0u32;
        let mut any_mv: Option<Move> = None;
        let force_random = std::mem::take(&mut self.force_random);

        let blocks = std::mem::take(&mut self.blocks);
        Self::for_each_shift(&blocks, |m, from, to| {
            if !self.shift_safe(m, from, to) {
                return;
            }
            let mv = Move::Shift {
                m: m as u32,
                from: from as u32,
                to: to as u32,
            };
            n_any += 1;
            if self.rng.below_u32(n_any) == 0 {
                any_mv = Some(mv);
            }
            if force_random {
                return;
            }
            let est = self.eval_shift(m, from, to);
            if self.shift_tabu(m, from, to) && est >= aspiration {
                n_tabu += 1;
                if self.rng.below_u32(n_tabu) == 0 {
                    tabu_mv = Some(mv);
                }
                return;
            }
            consider(
                &mut best_mv,
                &mut best_est,
                &mut ties,
                &mut self.rng,
                mv,
                est,
            );
        });
        self.blocks = blocks;

        if self.inst.flexible {
            for idx in 0..self.path.len() {
                let op = self.path[idx];
                let cur = self.st.mach[op as usize];
                for a in self.inst.alts(op) {
                    let k = self.inst.alt_mach[a];
                    if k == cur {
                        continue;
                    }
                    let (est, p) = self.best_insertion(op, k, self.inst.alt_dur[a]);
                    let mv = Move::Reassign {
                        op,
                        to_m: k,
                        to_pos: p,
                    };
                    n_any += 1;
                    if self.rng.below_u32(n_any) == 0 {
                        any_mv = Some(mv);
                    }
                    if force_random {
                        continue;
                    }
                    let tabu = self.tabu_mach[op as usize * self.inst.m + k as usize] > self.iter;
                    if tabu && est >= aspiration {
                        n_tabu += 1;
                        if self.rng.below_u32(n_tabu) == 0 {
                            tabu_mv = Some(mv);
                        }
                        continue;
                    }
                    consider(
                        &mut best_mv,
                        &mut best_est,
                        &mut ties,
                        &mut self.rng,
                        mv,
                        est,
                    );
                }
            }
        }

        let chosen = if force_random {
            any_mv
        } else {
            best_mv.or(tabu_mv)
        };
        let Some(mv) = chosen else {
            // No move at all: the critical path is a single job chain with fixed
            // durations, so the solution is optimal.
            self.done = true;
            return;
        };
        self.apply(mv);
        self.after_move();
    }

    fn apply(&mut self, mv: Move) {
        match mv {
            Move::Shift { m, from, to } => {
                let (m, from, to) = (m as usize, from as usize, to as usize);
                let it = self.iter;
                let ten = self.tenure();
                let s = &self.st.seq[m];
                if from < to {
                    let u = s[from];
                    for q in from + 1..=to {
                        let k = self.tkey(u, s[q]);
                        self.tabu_seq[k] = it + ten;
                    }
                } else {
                    let v = s[from];
                    for q in to..from {
                        let k = self.tkey(s[q], v);
                        self.tabu_seq[k] = it + ten;
                    }
                }
                if !self.st.shift_update(self.inst, m, from, to) {
                    self.st.shift(m, to, from);
                }
                #[cfg(debug_assertions)]
                {
                    let mut full = self.st.clone();
                    assert!(full.evaluate(self.inst));
                    assert_eq!(full.makespan, self.st.makespan);
                    assert_eq!(full.head, self.st.head);
                    assert_eq!(full.tail, self.st.tail);
                    for i in 0..self.inst.n {
                        let j = self.inst.jnext[i];
                        if j != NONE {
                            assert!(self.st.topo_pos[i] < self.st.topo_pos[j as usize]);
                        }
                        let k = self.st.mn[i];
                        if k != NONE {
                            assert!(self.st.topo_pos[i] < self.st.topo_pos[k as usize]);
                        }
                    }
                }
            }
            Move::Reassign { op, to_m, to_pos } => {
                let ten = self.tenure();
                let (old_m, old_p) = self.st.reassign(self.inst, op, to_m, to_pos as usize);
                self.tabu_mach[op as usize * self.inst.m + old_m as usize] = self.iter + ten;
                if !self.st.evaluate(self.inst) {
                    self.st.reassign(self.inst, op, old_m, old_p);
                    let ok = self.st.evaluate(self.inst);
                    debug_assert!(ok);
                }
            }
        }
    }

    fn after_move(&mut self) {
        let ms = self.st.makespan;
        if ms < self.best.makespan {
            self.st.save(&mut self.best);
            if ms <= self.params.stop_at.max(self.inst.lower_bound) {
                self.done = true;
            }
        }
        if ms < self.seg_best {
            self.seg_best = ms;
            self.no_improve = 0;
            self.st.save(&mut self.tmp);
        } else {
            self.no_improve += 1;
        }
        // Cycle detection on a hash of the machine arcs.
        let h = self.st.arc_hash ^ u64::from(ms);
        if self.hashes.contains(&h) {
            self.force_random = true;
        }
        self.hashes[self.hash_pos] = h;
        self.hash_pos = (self.hash_pos + 1) % self.hashes.len();

        if self.no_improve > self.params.max_no_improve {
            self.restart();
        }
    }

    fn push_elite(&mut self) {
        // `tmp` holds the best of the finished segment.
        let sol = &self.tmp;
        if sol.seq.is_empty() {
            return;
        }
        if self
            .elite
            .iter()
            .any(|e| e.makespan == sol.makespan && e.seq == sol.seq)
        {
            return;
        }
        if self.elite.len() < self.params.elite_size {
            self.elite.push(sol.clone());
        } else if let Some((wi, w)) = self
            .elite
            .iter()
            .enumerate()
            .max_by_key(|(_, e)| e.makespan)
            && w.makespan > sol.makespan
        {
            self.elite[wi].copy_from(sol);
        }
    }

    fn restart(&mut self) {
        self.push_elite();
        // Clear every tabu at once: all stored expiry iterations are now in the past.
        self.iter += u64::from(self.params.tenure_max) + 1;
        if self.best.makespan < self.best_at_restart {
            self.fails = 0;
        } else {
            self.fails += 1;
        }
        self.best_at_restart = self.best.makespan;
        let r = self.rng.below_u32(8);
        let use_received = r == 0 && self.received.is_some();
        if self.fails >= self.params.fresh_after && !use_received {
            // Long stagnation: leave the basin with a fresh randomised construction.
            self.fails = 0;
            let sol = super::construct::greedy(self.inst, &mut self.rng, 0.5);
            let ok = self.st.load(self.inst, &sol);
            debug_assert!(ok);
        } else if !use_received
            && self.params.path_relinking
            && !self.inst.flexible
            && self.elite.len() >= 2
            && r >= 4
        {
            self.path_relink();
        } else {
            let src: Sol = match &self.received {
                Some(rec) if use_received => rec.clone(),
                _ if r <= 2 || self.elite.is_empty() => self.best.clone(),
                _ => {
                    let i = self.rng.below_u32(self.elite.len() as u32) as usize;
                    self.elite[i].clone()
                }
            };
            let ok = self.st.load(self.inst, &src);
            debug_assert!(ok);
            let p = &self.params;
            let k = p.perturb_min
                + self.rng.below_u32(p.perturb_max - p.perturb_min + 1)
                + (self.fails / 4).min(12);
            for _ in 0..k {
                self.random_move();
            }
        }
        if self
            .received
            .as_ref()
            .is_some_and(|x| x.makespan >= self.best.makespan)
        {
            self.received = None;
        }
        self.seg_best = self.st.makespan;
        self.st.save(&mut self.tmp);
        self.no_improve = 0;
        if self.st.makespan < self.best.makespan {
            self.st.save(&mut self.best);
        }
    }

    /// Path relinking (classic job shop): start from one elite and apply adjacent swaps
    /// that remove order inversions with respect to another elite, stopping about a third
    /// to two thirds of the way.
    fn path_relink(&mut self) {
        let e = self.elite.len() as u32;
        let i = self.rng.below_u32(e) as usize;
        let mut j = self.rng.below_u32(e - 1) as usize;
        if j >= i {
            j += 1;
        }
        let ok = self.st.load(self.inst, &self.elite[i]);
        debug_assert!(ok);
        let target = &self.elite[j];
        let tpos = &mut self.scratch;
        for seq in &target.seq {
            for (p, &o) in seq.iter().enumerate() {
                tpos[o as usize] = p as u32;
            }
        }
        let mut dist = 0u32;
        for seq in &self.st.seq {
            for a in 0..seq.len() {
                for b in a + 1..seq.len() {
                    dist += u32::from(tpos[seq[a] as usize] > tpos[seq[b] as usize]);
                }
            }
        }
        if dist < 2 {
            return;
        }
        let steps = dist / 3 + self.rng.below_u32(dist / 3 + 1);
        let mut cands: Vec<(u32, u32)> = Vec::new();
        for _ in 0..steps {
            cands.clear();
            for (m, seq) in self.st.seq.iter().enumerate() {
                for p in 0..seq.len().saturating_sub(1) {
                    if self.scratch[seq[p] as usize] > self.scratch[seq[p + 1] as usize] {
                        cands.push((m as u32, p as u32));
                    }
                }
            }
            let mut done = false;
            while !cands.is_empty() {
                let k = self.rng.below_u32(cands.len() as u32) as usize;
                let (m, p) = cands.swap_remove(k);
                let (m, p) = (m as usize, p as usize);
                if self.st.shift_update(self.inst, m, p, p + 1) {
                    done = true;
                    break;
                }
                self.st.shift(m, p + 1, p);
            }
            if !done {
                break;
            }
        }
    }

    fn random_move(&mut self) {
        let mut path = std::mem::take(&mut self.path);
        self.st.critical_path(self.inst, &mut self.rng, &mut path);
        self.path = path;
        self.collect_blocks();
        let mut pick = None;
        let mut n = 0;
        let blocks = std::mem::take(&mut self.blocks);
        Self::for_each_shift(&blocks, |m, from, to| {
            if self.shift_safe(m, from, to) {
                n += 1;
                if self.rng.below_u32(n) == 0 {
                    pick = Some(Move::Shift {
                        m: m as u32,
                        from: from as u32,
                        to: to as u32,
                    });
                }
            }
        });
        self.blocks = blocks;
        if self.inst.flexible && (pick.is_none() || self.rng.below_u32(2) == 0) {
            let op = self.path[self.rng.below_u32(self.path.len() as u32) as usize];
            let alts = self.inst.alts(op);
            let a = alts.start + self.rng.below_u32(alts.len() as u32) as usize;
            let k = self.inst.alt_mach[a];
            if k != self.st.mach[op as usize] {
                let (_, p) = self.best_insertion(op, k, self.inst.alt_dur[a]);
                pick = Some(Move::Reassign {
                    op,
                    to_m: k,
                    to_pos: p,
                });
            }
        }
        if let Some(mv) = pick {
            self.apply(mv);
        }
    }
}

#[inline]
fn consider(
    best: &mut Option<Move>,
    best_est: &mut u32,
    ties: &mut u32,
    rng: &mut Rng,
    mv: Move,
    est: u32,
) {
    if est < *best_est {
        *best_est = est;
        *best = Some(mv);
        *ties = 1;
    } else if est == *best_est {
        *ties += 1;
        if rng.below_u32(*ties) == 0 {
            *best = Some(mv);
        }
    }
}
