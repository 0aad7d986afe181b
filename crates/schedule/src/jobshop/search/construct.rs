//! Constructive start: a Giffler–Thompson style list scheduler with the
//! most-work-remaining priority, earliest-finishing machine for flexible operations and
//! optional multiplicative noise (so threads start from different schedules).

use super::graph::{Inst, NONE, Sol};
use model::rng::Rng;

/// Builds a feasible solution; `noise` in `[0, 1)` perturbs the priorities.
pub(crate) fn greedy(inst: &Inst, rng: &mut Rng, noise: f64) -> Sol {
    let nj = inst.n_jobs;
    let mut next: Vec<u32> = inst.job_first.clone();
    let mut ready = vec![0u64; nj];
    let mut mready = vec![0u64; inst.m];
    let mut work = vec![0f64; nj];
    for i in 0..inst.n {
        work[inst.job_of[i] as usize] += f64::from(inst.min_dur[i]);
    }
    let mut sol = Sol {
        mach: vec![0; inst.n],
        seq: vec![Vec::new(); inst.m],
        makespan: 0,
    };
    // Best (ect, machine, duration, est) for each job's next op.
    let mut best: Vec<(u64, u32, u32, u64)> = vec![(0, 0, 0, 0); nj];
    for _ in 0..inst.n {
        let mut cstar = u64::MAX;
        let mut mstar = 0u32;
        for j in 0..nj {
            let o = next[j];
            if o == NONE {
                continue;
            }
            let mut b = (u64::MAX, 0, 0, 0);
            for a in inst.alts(o) {
                let m = inst.alt_mach[a];
                let est = ready[j].max(mready[m as usize]);
                let ect = est + u64::from(inst.alt_dur[a]);
                if ect < b.0 {
                    b = (ect, m, inst.alt_dur[a], est);
                }
            }
            best[j] = b;
            if b.0 < cstar {
                cstar = b.0;
                mstar = b.1;
            }
        }
        let mut pick = usize::MAX;
        let mut pick_pri = f64::NEG_INFINITY;
        for j in 0..nj {
            if next[j] == NONE || best[j].1 != mstar || best[j].3 >= cstar {
                continue;
            }
            let pri = work[j] * (1.0 + noise * rng.uniform());
            if pri > pick_pri {
                pick_pri = pri;
                pick = j;
            }
        }
        if pick == usize::MAX {
            // The op achieving c* always qualifies unless it has zero duration; fall back to it.
            pick = (0..nj)
                .find(|&j| next[j] != NONE && best[j].0 == cstar)
                .unwrap_or(0);
        }
        let o = next[pick];
        let (ect, m, _d, _est) = best[pick];
        sol.mach[o as usize] = m;
        sol.seq[m as usize].push(o);
        ready[pick] = ect;
        mready[m as usize] = ect;
        work[pick] -= f64::from(inst.min_dur[o as usize]);
        next[pick] = inst.jnext[o as usize];
        sol.makespan = sol.makespan.max(ect as u32);
    }
    sol
}
