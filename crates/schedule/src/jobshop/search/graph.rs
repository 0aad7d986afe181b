//! Flat disjunctive-graph representation used by the optimiser.
//!
//! Operations are numbered `0..n` job by job; every array is indexed by that `u32` id.
//! [`Inst`] is immutable problem data; [`State`] is a solution under search: machine
//! assignment, machine sequences, and the derived heads (earliest starts), tails (longest
//! path after the end) and a topological order, recomputed in `O(n)` by Kahn's algorithm.

use crate::jobshop::problem::Problem;
use crate::jobshop::schedule::{Schedule, ScheduledOp};
use model::rng::Rng;

/// Sentinel for "no operation".
pub(crate) const NONE: u32 = u32::MAX;

/// Immutable flat problem data.
#[derive(Debug)]
pub(crate) struct Inst {
    pub n: usize,
    pub m: usize,
    pub n_jobs: usize,
    pub job_of: Vec<u32>,
    pub op_in_job: Vec<u32>,
    pub jprev: Vec<u32>,
    pub jnext: Vec<u32>,
    /// Alternatives of op `i` are `alt_start[i]..alt_start[i + 1]`.
    pub alt_start: Vec<u32>,
    pub alt_mach: Vec<u32>,
    pub alt_dur: Vec<u32>,
    pub job_first: Vec<u32>,
    pub flexible: bool,
    pub lower_bound: u32,
    /// Minimum duration of each op (for priorities).
    pub min_dur: Vec<u32>,
}

impl Inst {
    /// Builds the flat data; the problem must have passed `validate`.
    pub fn new(p: &Problem) -> Inst {
        let n = p.n_operations();
        let mut inst = Inst {
            n,
            m: p.n_machines,
            n_jobs: p.jobs.len(),
            job_of: Vec::with_capacity(n),
            op_in_job: Vec::with_capacity(n),
            jprev: Vec::with_capacity(n),
            jnext: Vec::with_capacity(n),
            alt_start: Vec::with_capacity(n + 1),
            alt_mach: Vec::new(),
            alt_dur: Vec::new(),
            job_first: Vec::with_capacity(p.jobs.len()),
            flexible: !p.is_classic(),
            lower_bound: u32::try_from(p.lower_bound()).unwrap_or(u32::MAX),
            min_dur: Vec::with_capacity(n),
        };
        for (j, job) in p.jobs.iter().enumerate() {
            let first = inst.job_of.len() as u32;
            inst.job_first.push(first);
            let len = job.operations.len();
            for (o, op) in job.operations.iter().enumerate() {
                let id = first + o as u32;
                inst.job_of.push(j as u32);
                inst.op_in_job.push(o as u32);
                inst.jprev.push(if o == 0 { NONE } else { id - 1 });
                inst.jnext.push(if o + 1 == len { NONE } else { id + 1 });
                inst.alt_start.push(inst.alt_mach.len() as u32);
                let mut md = u32::MAX;
                for a in &op.alternatives {
                    inst.alt_mach.push(a.machine as u32);
                    inst.alt_dur.push(a.duration);
                    md = md.min(a.duration);
                }
                inst.min_dur.push(md);
            }
        }
        inst.alt_start.push(inst.alt_mach.len() as u32);
        inst
    }

    #[inline]
    pub fn alts(&self, i: u32) -> std::ops::Range<usize> {
        self.alt_start[i as usize] as usize..self.alt_start[i as usize + 1] as usize
    }

    pub fn dur_on(&self, i: u32, machine: u32) -> Option<u32> {
        self.alts(i)
            .find(|&a| self.alt_mach[a] == machine)
            .map(|a| self.alt_dur[a])
    }
}

/// A stored solution: machine of each op and the sequence of each machine.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sol {
    pub mach: Vec<u32>,
    pub seq: Vec<Vec<u32>>,
    pub makespan: u32,
}

impl Sol {
    pub fn copy_from(&mut self, other: &Sol) {
        self.mach.clone_from(&other.mach);
        self.seq.resize_with(other.seq.len(), Vec::new);
        for (a, b) in self.seq.iter_mut().zip(&other.seq) {
            a.clone_from(b);
        }
        self.makespan = other.makespan;
    }
}

/// A solution under search with its derived graph data.
#[derive(Debug, Clone)]
pub(crate) struct State {
    pub mach: Vec<u32>,
    pub dur: Vec<u32>,
    pub seq: Vec<Vec<u32>>,
    pub pos: Vec<u32>,
    pub head: Vec<u32>,
    pub tail: Vec<u32>,
    pub topo: Vec<u32>,
    pub topo_pos: Vec<u32>,
    /// Machine predecessor / successor of each op (`NONE` at the ends).
    pub mp: Vec<u32>,
    pub mn: Vec<u32>,
    /// Order-independent hash of the machine arcs (for cycle detection).
    pub arc_hash: u64,
    indeg: Vec<u32>,
    stack: Vec<u32>,
    mark: Vec<u32>,
    mark_val: u32,
    buf: Vec<u32>,
    pub makespan: u32,
}

#[inline]
fn arc_mix(a: u32, b: u32) -> u64 {
    let mut x = (u64::from(a) << 32 | u64::from(b)).wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl State {
    pub fn new(inst: &Inst) -> State {
        State {
            mach: vec![0; inst.n],
            dur: vec![0; inst.n],
            seq: vec![Vec::new(); inst.m],
            pos: vec![0; inst.n],
            head: vec![0; inst.n],
            tail: vec![0; inst.n],
            topo: Vec::with_capacity(inst.n),
            topo_pos: vec![0; inst.n],
            mp: vec![NONE; inst.n],
            mn: vec![NONE; inst.n],
            arc_hash: 0,
            indeg: vec![0; inst.n],
            stack: Vec::with_capacity(inst.n),
            mark: vec![0; inst.n],
            mark_val: 0,
            buf: Vec::with_capacity(inst.n),
            makespan: 0,
        }
    }

    /// Loads a stored solution and evaluates it; false if it has a cycle.
    pub fn load(&mut self, inst: &Inst, sol: &Sol) -> bool {
        self.mach.clone_from(&sol.mach);
        for (a, b) in self.seq.iter_mut().zip(&sol.seq) {
            a.clone_from(b);
        }
        for i in 0..inst.n {
            self.dur[i] = inst.dur_on(i as u32, self.mach[i]).unwrap_or(0);
        }
        for m in 0..self.seq.len() {
            self.relink(m, 0, self.seq[m].len());
        }
        self.rehash();
        self.evaluate(inst)
    }

    pub fn save(&self, sol: &mut Sol) {
        sol.mach.clone_from(&self.mach);
        sol.seq.resize_with(self.seq.len(), Vec::new);
        for (a, b) in sol.seq.iter_mut().zip(&self.seq) {
            a.clone_from(b);
        }
        sol.makespan = self.makespan;
    }

    #[inline]
    pub fn mprev(&self, i: u32) -> u32 {
        self.mp[i as usize]
    }

    #[inline]
    pub fn mnext(&self, i: u32) -> u32 {
        self.mn[i as usize]
    }

    /// Recomputes `pos`, `mp`, `mn` for positions `lo..hi` of machine `m` (and the links
    /// of the neighbours just outside).
    fn relink(&mut self, m: usize, lo: usize, hi: usize) {
        let s = &self.seq[m];
        let hi = hi.min(s.len());
        for p in lo..hi {
            let o = s[p] as usize;
            self.pos[o] = p as u32;
            self.mp[o] = if p > 0 { s[p - 1] } else { NONE };
            self.mn[o] = if p + 1 < s.len() { s[p + 1] } else { NONE };
        }
        if lo > 0 && lo <= s.len() {
            self.mn[s[lo - 1] as usize] = if lo < s.len() { s[lo] } else { NONE };
        }
        if hi < s.len() && hi > 0 {
            self.mp[s[hi] as usize] = s[hi - 1];
        }
    }

    /// Hash contribution of the machine arcs leaving positions `lo..hi` of machine `m`.
    fn arcs_hash(&self, m: usize, lo: usize, hi: usize) -> u64 {
        let s = &self.seq[m];
        let mut h = 0u64;
        for p in lo..hi.min(s.len().saturating_sub(1)) {
            h = h.wrapping_add(arc_mix(s[p], s[p + 1]));
        }
        h
    }

    fn rehash(&mut self) {
        let mut h = 0u64;
        for m in 0..self.seq.len() {
            h = h.wrapping_add(self.arcs_hash(m, 0, self.seq[m].len()));
        }
        self.arc_hash = h;
    }

    /// End time of `i` (head + duration), 0 for `NONE`.
    #[inline]
    pub fn end_of(&self, i: u32) -> u32 {
        if i == NONE {
            0
        } else {
            self.head[i as usize] + self.dur[i as usize]
        }
    }

    /// Tail plus duration of `i`, 0 for `NONE`.
    #[inline]
    pub fn qd(&self, i: u32) -> u32 {
        if i == NONE {
            0
        } else {
            self.tail[i as usize] + self.dur[i as usize]
        }
    }

    /// Recomputes topological order, heads, tails and makespan. False on a cycle.
    pub fn evaluate(&mut self, inst: &Inst) -> bool {
        let n = inst.n;
        self.topo.clear();
        self.stack.clear();
        for i in 0..n {
            let d = u32::from(inst.jprev[i] != NONE) + u32::from(self.pos[i] > 0);
            self.indeg[i] = d;
            if d == 0 {
                self.stack.push(i as u32);
            }
        }
        let mut makespan = 0;
        while let Some(i) = self.stack.pop() {
            let iu = i as usize;
            self.topo_pos[iu] = self.topo.len() as u32;
            self.topo.push(i);
            let h = self.end_of(inst.jprev[iu]).max(self.end_of(self.mprev(i)));
            self.head[iu] = h;
            makespan = makespan.max(h + self.dur[iu]);
            let js = inst.jnext[iu];
            if js != NONE {
                self.indeg[js as usize] -= 1;
                if self.indeg[js as usize] == 0 {
                    self.stack.push(js);
                }
            }
            let ms = self.mnext(i);
            if ms != NONE {
                self.indeg[ms as usize] -= 1;
                if self.indeg[ms as usize] == 0 {
                    self.stack.push(ms);
                }
            }
        }
        if self.topo.len() != n {
            return false;
        }
        for k in (0..n).rev() {
            let i = self.topo[k];
            let t = self.qd(inst.jnext[i as usize]).max(self.qd(self.mnext(i)));
            self.tail[i as usize] = t;
        }
        self.makespan = makespan;
        true
    }

    /// Moves the op at position `from` of machine `m` to position `to`.
    pub fn shift(&mut self, m: usize, from: usize, to: usize) {
        let (lo, hi) = if from < to { (from, to) } else { (to, from) };
        let hlo = lo.saturating_sub(1);
        let old = self.arcs_hash(m, hlo, hi + 1);
        let s = &mut self.seq[m];
        if from < to {
            s[from..=to].rotate_left(1);
        } else {
            s[to..=from].rotate_right(1);
        }
        self.relink(m, lo, hi + 1);
        let new = self.arcs_hash(m, hlo, hi + 1);
        self.arc_hash = self.arc_hash.wrapping_sub(old).wrapping_add(new);
    }

    /// Applies [`State::shift`] and updates topological order, heads, tails and makespan
    /// incrementally. Returns false (with the shift applied but nothing else touched) when
    /// the move created a cycle; the caller then shifts back.
    ///
    /// Every new arc except `s[b] -> s[a]` (old positions `a < b`) agrees with the old
    /// topological order, so only the range `topo_pos[s[a]]..=topo_pos[s[b]]` is reordered:
    /// descendants of `s[a]` inside it go after the others (Pearce–Kelly style).
    pub fn shift_update(&mut self, inst: &Inst, m: usize, from: usize, to: usize) -> bool {
        let (a, b) = if from < to { (from, to) } else { (to, from) };
        let u = self.seq[m][a];
        let v = self.seq[m][b];
        let lo = self.topo_pos[u as usize] as usize;
        let hi = self.topo_pos[v as usize] as usize;
        self.shift(m, from, to);
        debug_assert!(lo < hi);
        // Descendants of u (new graph) with topo position <= hi.
        self.mark_val = self.mark_val.wrapping_add(1);
        if self.mark_val == 0 {
            self.mark.iter_mut().for_each(|x| *x = 0);
            self.mark_val = 1;
        }
        let mv = self.mark_val;
        self.stack.clear();
        self.stack.push(u);
        self.mark[u as usize] = mv;
        while let Some(x) = self.stack.pop() {
            for y in [inst.jnext[x as usize], self.mn[x as usize]] {
                if y == NONE
                    || self.topo_pos[y as usize] as usize > hi
                    || self.mark[y as usize] == mv
                {
                    continue;
                }
                if y == v {
                    return false;
                }
                self.mark[y as usize] = mv;
                self.stack.push(y);
            }
        }
        self.buf.clear();
        for p in lo..=hi {
            let x = self.topo[p];
            if self.mark[x as usize] != mv {
                self.buf.push(x);
            }
        }
        for p in lo..=hi {
            let x = self.topo[p];
            if self.mark[x as usize] == mv {
                self.buf.push(x);
            }
        }
        for (k, &x) in self.buf.iter().enumerate() {
            self.topo[lo + k] = x;
            self.topo_pos[x as usize] = (lo + k) as u32;
        }
        let mut makespan = 0;
        for p in (0..=hi).rev() {
            let i = self.topo[p];
            let iu = i as usize;
            let t = self.qd(inst.jnext[iu]).max(self.qd(self.mn[iu]));
            self.tail[iu] = t;
            if p < lo {
                makespan = makespan.max(self.head[iu] + self.dur[iu] + t);
            }
        }
        for p in lo..inst.n {
            let i = self.topo[p];
            let iu = i as usize;
            let h = self.end_of(inst.jprev[iu]).max(self.end_of(self.mp[iu]));
            self.head[iu] = h;
            makespan = makespan.max(h + self.dur[iu] + self.tail[iu]);
        }
        self.makespan = makespan;
        true
    }

    /// Moves op `i` to machine `k` at position `p` (of the sequence without `i`).
    /// Returns the old (machine, position).
    pub fn reassign(&mut self, inst: &Inst, i: u32, k: u32, p: usize) -> (u32, usize) {
        let iu = i as usize;
        let old = self.mach[iu];
        let old_p = self.pos[iu] as usize;
        self.seq[old as usize].remove(old_p);
        self.relink(old as usize, old_p, usize::MAX);
        if old_p == self.seq[old as usize].len() && old_p > 0 {
            let last = self.seq[old as usize][old_p - 1];
            self.mn[last as usize] = NONE;
        }
        self.seq[k as usize].insert(p, i);
        self.relink(k as usize, p, usize::MAX);
        self.rehash();
        self.mach[iu] = k;
        self.dur[iu] = inst.dur_on(i, k).unwrap_or(0);
        (old, old_p)
    }

    /// Extracts one critical path (forward order) into `path`; ties broken by `rng`.
    pub fn critical_path(&self, inst: &Inst, rng: &mut Rng, path: &mut Vec<u32>) {
        path.clear();
        let mut end = NONE;
        let mut seen = 0u32;
        // Some job-last operation always ends a critical path (zero-duration successors
        // of a critical end are critical ends too), so only those are scanned.
        for j in 0..inst.n_jobs {
            let i = if j + 1 < inst.n_jobs {
                inst.job_first[j + 1] as usize - 1
            } else {
                inst.n - 1
            };
            if self.head[i] + self.dur[i] == self.makespan && self.tail[i] == 0 {
                seen += 1;
                if rng.below_u32(seen) == 0 {
                    end = i as u32;
                }
            }
        }
        let mut cur = end;
        while cur != NONE {
            path.push(cur);
            let h = self.head[cur as usize];
            if h == 0 {
                break;
            }
            let jp = inst.jprev[cur as usize];
            let mp = self.mprev(cur);
            let jt = jp != NONE && self.end_of(jp) == h;
            let mt = mp != NONE && self.end_of(mp) == h;
            cur = match (jt, mt) {
                (true, true) => {
                    if rng.below_u32(2) == 0 {
                        jp
                    } else {
                        mp
                    }
                }
                (true, false) => jp,
                (false, true) => mp,
                (false, false) => NONE,
            };
        }
        path.reverse();
    }

    /// Semi-active schedule from the current heads.
    pub fn to_schedule(&self, inst: &Inst) -> Schedule {
        let mut ops = Vec::with_capacity(inst.n);
        let mut makespan = 0u64;
        for i in 0..inst.n {
            let start = u64::from(self.head[i]);
            let end = start + u64::from(self.dur[i]);
            makespan = makespan.max(end);
            ops.push(ScheduledOp {
                job: inst.job_of[i] as usize,
                op: inst.op_in_job[i] as usize,
                machine: self.mach[i] as usize,
                start,
                end,
            });
        }
        Schedule { ops, makespan }
    }
}
