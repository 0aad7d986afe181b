//! The anytime optimiser: options, progress, cancellation and the multi-threaded driver.
//!
//! Each thread runs an independent [`tabu`] search seeded from `(seed, thread index)`.
//! Threads meet at deterministic checkpoints every `exchange_interval` iterations (never on
//! wall-clock time): each publishes its best, everybody reads all of them, and a thread whose
//! best is worse than the global best adopts it as a restart candidate. The final answer is
//! the best makespan, ties broken by the lowest thread index. With `max_iterations` and a
//! termination that never fires, the result is exactly reproducible for a given seed and
//! thread count. Thread 0 runs on the caller's thread and is the only one that polls the
//! caller's [`Termination`] and calls the progress callback, so neither needs to be `Send`.

// Index loops over several parallel flat arrays read better than zipped iterators here.
#![allow(clippy::needless_range_loop)]

mod construct;
mod graph;
mod tabu;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Mutex};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::jobshop::problem::{Problem, ProblemError};
use crate::jobshop::schedule::Schedule;
use crate::termination::Termination;
use graph::{Inst, Sol, State};
use model::rng::splitmix64;

/// Options of [`solve`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SolveOptions {
    /// Master seed.
    pub seed: u64,
    /// Number of search threads (at least 1).
    pub threads: usize,
    /// Iteration budget per thread; `None` = run until the termination fires (or optimality
    /// is proven by reaching the lower bound).
    pub max_iterations: Option<u64>,
    /// Iterations between deterministic elite exchanges (and progress reports).
    pub exchange_interval: u64,
    /// Non-improving iterations before a restart from an elite (`None` = automatic).
    pub max_no_improve: Option<u64>,
    /// Use path relinking between elite solutions at restarts (classic job shop only).
    pub path_relinking: bool,
    /// Tabu tenure range `[min, max]` (`None` = automatic: `L = 10 + jobs/machines`,
    /// `[L, 1.4 L]`).
    pub tabu_tenure: Option<[u32; 2]>,
    /// Stop as soon as a schedule with at most this makespan is found (e.g. a proven
    /// optimum from a bounds table).
    pub target_makespan: Option<u64>,
    /// Restarts without improving a thread's best before it restarts from a fresh
    /// randomised construction (`None` = automatic, 40).
    pub fresh_restart_after: Option<u32>,
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions {
            seed: 0,
            threads: 1,
            max_iterations: None,
            exchange_interval: 5_000,
            max_no_improve: None,
            path_relinking: true,
            tabu_tenure: None,
            target_makespan: None,
            fresh_restart_after: None,
        }
    }
}

/// Reported at every checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Best makespan over all threads so far.
    pub best_makespan: u64,
    /// Iterations summed over threads.
    pub iterations: u64,
    /// Checkpoint number (0-based).
    pub checkpoint: u64,
    /// Elapsed seconds as reported by the caller's termination clock, if it has one.
    pub elapsed_seconds: Option<f64>,
}

/// Result of [`solve`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SolveResult {
    /// Best schedule found.
    pub schedule: Schedule,
    /// Iterations summed over threads.
    pub iterations: u64,
    /// True when the makespan equals the problem's simple lower bound (proven optimal).
    pub proven_optimal: bool,
    /// Thread that found the returned schedule.
    pub thread: usize,
}

/// Why [`solve`] could not run.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SolveError {
    /// The problem is structurally invalid.
    #[error("invalid problem: {0}")]
    Problem(#[from] ProblemError),
    /// The problem has no operation.
    #[error("problem has no operations")]
    Empty,
}

struct Slot {
    makespan: u32,
    iterations: u64,
    sol: Sol,
    done: bool,
}

/// Solves a (flexible) job shop for minimum makespan.
///
/// `termination` is polled by the calling thread about every 32 iterations; `progress` is
/// called at every checkpoint with the global best.
pub fn solve(
    problem: &Problem,
    options: &SolveOptions,
    termination: &mut dyn Termination,
    progress: &mut dyn FnMut(&Progress),
) -> Result<SolveResult, SolveError> {
    problem.validate()?;
    if problem.n_operations() == 0 {
        return Err(SolveError::Empty);
    }
    let inst = Inst::new(problem);
    let threads = options.threads.max(1);
    let mut params = tabu::Params::for_instance(&inst);
    if let Some(x) = options.max_no_improve {
        params.max_no_improve = x.max(1);
    }
    params.path_relinking = options.path_relinking;
    if let Some(f) = options.fresh_restart_after {
        params.fresh_after = f.max(1);
    }
    if let Some(t) = options.target_makespan {
        params.stop_at = u32::try_from(t).unwrap_or(u32::MAX);
    }
    if let Some([lo, hi]) = options.tabu_tenure {
        params.tenure_min = lo.max(1);
        params.tenure_max = hi.max(params.tenure_min);
    }
    let interval = options.exchange_interval.max(1);
    let stop = AtomicBool::new(false);
    let barrier = Barrier::new(threads);
    let slots: Vec<Mutex<Slot>> = (0..threads)
        .map(|_| {
            Mutex::new(Slot {
                makespan: u32::MAX,
                iterations: 0,
                sol: Sol::default(),
                done: false,
            })
        })
        .collect();
    let ctx = Ctx {
        inst: &inst,
        params: &params,
        options,
        interval,
        stop: &stop,
        barrier: &barrier,
        slots: &slots,
    };
    std::thread::scope(|scope| {
        for t in 1..threads {
            let ctx = &ctx;
            scope.spawn(move || {
                let mut poll = || ctx.stop.load(Ordering::Relaxed);
                worker(ctx, t, &mut poll, &mut |_| {});
            });
        }
        let term = std::cell::RefCell::new(termination);
        let mut poll = || {
            let s = term.borrow_mut().should_stop();
            if s {
                stop.store(true, Ordering::Relaxed);
            }
            s || stop.load(Ordering::Relaxed)
        };
        let mut report = |p: &Progress| {
            let mut p = *p;
            p.elapsed_seconds = term.borrow_mut().elapsed_seconds();
            progress(&p);
        };
        worker(&ctx, 0, &mut poll, &mut report);
    });
    let (thread, iterations, sol) = pick_best(&slots);
    let mut st = State::new(&inst);
    let ok = st.load(&inst, &sol);
    debug_assert!(ok);
    let schedule = st.to_schedule(&inst);
    Ok(SolveResult {
        proven_optimal: schedule.makespan <= u64::from(inst.lower_bound),
        schedule,
        iterations,
        thread,
    })
}

struct Ctx<'a> {
    inst: &'a Inst,
    params: &'a tabu::Params,
    options: &'a SolveOptions,
    interval: u64,
    stop: &'a AtomicBool,
    barrier: &'a Barrier,
    slots: &'a [Mutex<Slot>],
}

fn thread_seed(seed: u64, t: usize) -> u64 {
    let mut s = seed ^ (t as u64).wrapping_mul(0xA076_1D64_78BD_642F);
    splitmix64(&mut s)
}

fn lock(m: &Mutex<Slot>) -> std::sync::MutexGuard<'_, Slot> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn pick_best(slots: &[Mutex<Slot>]) -> (usize, u64, Sol) {
    let mut best = (0usize, u32::MAX);
    let mut total = 0;
    for (t, s) in slots.iter().enumerate() {
        let s = lock(s);
        total += s.iterations;
        if s.makespan < best.1 {
            best = (t, s.makespan);
        }
    }
    let sol = lock(&slots[best.0]).sol.clone();
    (best.0, total, sol)
}

fn worker(
    ctx: &Ctx<'_>,
    t: usize,
    poll: &mut dyn FnMut() -> bool,
    progress: &mut dyn FnMut(&Progress),
) {
    let noise = if t == 0 { 0.0 } else { 0.3 };
    let mut s = tabu::Searcher::new(
        ctx.inst,
        thread_seed(ctx.options.seed, t),
        ctx.params.clone(),
        noise,
    );
    let mut used = 0u64;
    let mut checkpoint = 0u64;
    let mut published = u32::MAX;
    loop {
        let budget = match ctx.options.max_iterations {
            Some(max) => ctx.interval.min(max - used),
            None => ctx.interval,
        };
        let mut local_stop = false;
        let done = s.run(budget, &mut || {
            local_stop = poll();
            local_stop
        });
        used += done;
        {
            let mut slot = lock(&ctx.slots[t]);
            slot.iterations = used;
            slot.done = s.done;
            if s.best.makespan < published {
                slot.sol.copy_from(&s.best);
                slot.makespan = s.best.makespan;
                published = s.best.makespan;
            }
        }
        ctx.barrier.wait();
        // Read phase: nobody writes slots or the stop flag between the two barriers.
        let (gt, _, _) = peek_best(ctx.slots);
        let total: u64 = ctx.slots.iter().map(|x| lock(x).iterations).sum();
        let any_done = ctx.slots.iter().any(|x| lock(x).done);
        let gbest = lock(&ctx.slots[gt]).makespan;
        if t == 0 {
            progress(&Progress {
                best_makespan: u64::from(gbest),
                iterations: total,
                checkpoint,
                elapsed_seconds: None,
            });
        }
        if gbest < s.best.makespan {
            let g = lock(&ctx.slots[gt]);
            s.receive(&g.sol);
        }
        let budget_over = ctx.options.max_iterations.is_some_and(|m| used >= m);
        let finish = budget_over || any_done || ctx.stop.load(Ordering::Relaxed);
        ctx.barrier.wait();
        let _ = local_stop;
        if finish {
            break;
        }
        checkpoint += 1;
    }
}

fn peek_best(slots: &[Mutex<Slot>]) -> (usize, u32, u64) {
    let mut best = (0usize, u32::MAX, 0);
    for (t, s) in slots.iter().enumerate() {
        let s = lock(s);
        best.2 += s.iterations;
        if s.makespan < best.1 {
            best = (t, s.makespan, best.2);
        }
    }
    best
}
