//! Flat disjunctive-graph representation used by the optimiser.
//!
//! Operations are numbered `0..n` job by job; every array is indexed by that `u32` id.
//! [`Inst`] is immutable problem data; [`State`] is a solution under search: machine
//! assignment, machine sequences, and the derived heads (earliest starts), tails (longest
//! path after the end) and a topological order, recomputed in `O(n)` by Kahn's algorithm.

use crate::problem::Problem;
use crate::rng::Rng;
use crate::schedule::{Schedule, ScheduledOp};

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
    indeg: Vec<u32>,
    stack: Vec<u32>,
    pub makespan: u32,
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
            indeg: vec![0; inst.n],
            stack: Vec::with_capacity(inst.n),
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
        for s in &self.seq {
            for (p, &o) in s.iter().enumerate() {
                self.pos[o as usize] = p as u32;
            }
        }
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
        let p = self.pos[i as usize];
        if p == 0 {
            NONE
        } else {
            self.seq[self.mach[i as usize] as usize][p as usize - 1]
        }
    }

    #[inline]
    pub fn mnext(&self, i: u32) -> u32 {
        let s = &self.seq[self.mach[i as usize] as usize];
        let p = self.pos[i as usize] as usize + 1;
        if p < s.len() { s[p] } else { NONE }
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
        let s = &mut self.seq[m];
        if from < to {
            s[from..=to].rotate_left(1);
        } else {
            s[to..=from].rotate_right(1);
        }
        let (lo, hi) = if from < to { (from, to) } else { (to, from) };
        for p in lo..=hi {
            self.pos[s[p] as usize] = p as u32;
        }
    }

    /// Moves op `i` to machine `k` at position `p` (of the sequence without `i`).
    /// Returns the old (machine, position).
    pub fn reassign(&mut self, inst: &Inst, i: u32, k: u32, p: usize) -> (u32, usize) {
        let iu = i as usize;
        let old = self.mach[iu];
        let old_p = self.pos[iu] as usize;
        {
            let s = &mut self.seq[old as usize];
            s.remove(old_p);
            for q in old_p..s.len() {
                self.pos[s[q] as usize] = q as u32;
            }
        }
        let s = &mut self.seq[k as usize];
        s.insert(p, i);
        for q in p..s.len() {
            self.pos[s[q] as usize] = q as u32;
        }
        self.mach[iu] = k;
        self.dur[iu] = inst.dur_on(i, k).unwrap_or(0);
        (old, old_p)
    }

    /// Extracts one critical path (forward order) into `path`; ties broken by `rng`.
    pub fn critical_path(&self, inst: &Inst, rng: &mut Rng, path: &mut Vec<u32>) {
        path.clear();
        let mut end = NONE;
        let mut seen = 0u32;
        for i in 0..inst.n {
            if self.head[i] + self.dur[i] == self.makespan && self.tail[i] == 0 {
                seen += 1;
                if rng.below(seen) == 0 {
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
                    if rng.below(2) == 0 {
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
