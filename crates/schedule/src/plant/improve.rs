//! The anytime optimiser of mixed-mode schedules.
//!
//! It searches the space of [`Genome`]s (group priority order + preferred units), decoding
//! each candidate with the schedule generation scheme of [`super::construct`], so every
//! candidate is feasible. Moves: swap and insertion of groups in the priority order, unit
//! reassignment, moving a late order's operations forward, campaign moves (put an operation
//! right after a like product on its unit) and large-neighbourhood moves that take the
//! related operations of one unit and time window out and reinsert them in a new order
//! (by changeover key, by due date or shuffled). Acceptance is late-acceptance hill
//! climbing on the weighted objective: a candidate is kept when it is no worse than the
//! current schedule or than the current schedule of [`HISTORY`] iterations ago, and that
//! history always records the current score (so the search can climb out of a basin; a
//! history that only ever went down made it a pure descent after a few dozen iterations,
//! which ended `tardy30a` at 80 on every seed where 48 is optimal). When a run finds
//! nothing better for a while it restarts from the best schedule moved by [`KICKS`] random
//! moves (iterated local search), so deep basins that need several simultaneous changes
//! (one order made late so that a heavier one is on time) are left too.
//!
//! Weighted tardiness is flat almost everywhere (most moves change no late order), so two
//! things give the search a direction there: one move in twelve works on the critical chain
//! of a late order ([`super::chain`]: the block move ahead of the operation that holds it up
//! on its unit, or another unit for it), and a tie of the objective is broken towards the
//! smaller weighted sum of the orders' completion times (heavy orders finished earlier leave
//! room a later move can use). On `tardy100a` at 300,000 iterations, seeds 1–10, the two
//! together brought the mean from about 6,400 to 5,936.
//!
//! Threads run independent searches seeded from `(seed, thread)`; the best result wins, ties
//! by the lowest thread. With an iteration budget the answer is reproducible for a given seed
//! and thread count. Thread 0 runs on the caller's thread and alone polls the caller's
//! [`Termination`] and calls the progress callback.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use super::bound::{Optimality, bound_with_proved, gap_percent, lower_bound_with};
use super::chain::chain_move;
use super::construct::{DecodeError, Decoded, Genome, Model, Score, construct, decode};
use super::exact::exact_search_until;
use super::problem::{Objective, PlantProblem, PlantSchedule, ProblemError};
use crate::termination::Termination;
use model::rng::Rng;

/// Options of [`solve_plant`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlantSolveOptions {
    pub seed: u64,
    pub threads: usize,
    /// Improvement iterations per thread; `None` = until the termination fires.
    pub max_iterations: Option<u64>,
    /// Overrides the problem's objective weights.
    pub objective: Option<Objective>,
}

impl Default for PlantSolveOptions {
    fn default() -> Self {
        PlantSolveOptions {
            seed: 0,
            threads: 1,
            max_iterations: None,
            objective: None,
        }
    }
}

/// Reported by thread 0 every 64 iterations and at the end, with the caller's clock.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlantProgress {
    /// Best score of thread 0 so far.
    pub best: Score,
    pub iterations: u64,
    pub elapsed_seconds: Option<f64>,
}

/// The result of [`solve_plant`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlantSolution {
    pub schedule: PlantSchedule,
    /// Score term by term.
    pub score: Score,
    /// Score of the first feasible (constructive) schedule.
    pub initial_score: Score,
    /// Iterations summed over threads.
    pub iterations: u64,
    /// A lower bound on every term ([`super::bound::lower_bound`]): no schedule scores less.
    #[serde(default)]
    pub bound: Score,
    /// The plan is at most this many percent from the best possible (0: proved optimal).
    #[serde(default)]
    pub gap_percent: f64,
}

impl PlantSolution {
    /// The plan's objective against its bound, as answers show it.
    pub fn optimality(&self) -> Optimality {
        Optimality::new(self.score.total, self.bound)
    }

    /// A solution with its bound and gap from the compiled model it was found for.
    pub fn new(
        model: &Model,
        schedule: PlantSchedule,
        score: Score,
        initial_score: Score,
        iterations: u64,
    ) -> PlantSolution {
        let bound = lower_bound_with(model, Some(score.weighted_tardiness));
        PlantSolution::with_bound(schedule, score, initial_score, iterations, bound)
    }

    /// A solution with a bound already computed.
    pub fn with_bound(
        schedule: PlantSchedule,
        score: Score,
        initial_score: Score,
        iterations: u64,
        bound: Score,
    ) -> PlantSolution {
        PlantSolution {
            schedule,
            score,
            initial_score,
            iterations,
            bound,
            gap_percent: gap_percent(score.total, bound.total),
        }
    }
}

/// Why [`solve_plant`] failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlantSolveError {
    #[error(transparent)]
    Problem(#[from] ProblemError),
    #[error("no feasible schedule: {0}")]
    Decode(#[from] DecodeError),
}

/// Validates and compiles a problem, weighted by `objective` (its own weights when none).
pub fn validated_model(
    problem: &PlantProblem,
    objective: Option<Objective>,
) -> Result<Model, ProblemError> {
    problem.validate()?;
    let mut model = Model::compile(problem);
    if let Some(w) = objective {
        model.weights = w;
    }
    Ok(model)
}

/// Validates, compiles and builds the first feasible schedule.
pub fn first_feasible(
    problem: &PlantProblem,
    objective: Option<Objective>,
) -> Result<(Model, Genome, Decoded), PlantSolveError> {
    let model = validated_model(problem, objective)?;
    let (g, d) = construct(&model)?;
    Ok((model, g, d))
}

/// Solves a problem: constructive start, then anytime improvement.
pub fn solve_plant(
    problem: &PlantProblem,
    options: &PlantSolveOptions,
    termination: &mut dyn Termination,
    progress: &mut dyn FnMut(&PlantProgress),
) -> Result<PlantSolution, PlantSolveError> {
    let (model, genome, decoded) = first_feasible(problem, options.objective)?;
    let initial_score = decoded.score;
    if let Some((_, d, bound)) = exact_first(&model, &genome, &decoded, termination) {
        progress(&PlantProgress {
            best: d.score,
            iterations: 0,
            elapsed_seconds: None,
        });
        return Ok(PlantSolution::with_bound(
            d.to_schedule(&model),
            d.score,
            initial_score,
            0,
            bound,
        ));
    }
    let (g, d, iterations) = improve(&model, genome, decoded, options, termination, progress);
    let (_, d, bound) = finish(&model, g, d, termination);
    Ok(PlantSolution::with_bound(
        d.to_schedule(&model),
        d.score,
        initial_score,
        iterations,
        bound,
    ))
}

/// The share of the time left that the exact mode may take before the search starts.
const EXACT_SHARE: f64 = 0.5;

/// The exact mode of small problems, tried before any search: where [`super::exact`]
/// applies and finishes within its node budget (a few seconds at most) before `termination`
/// stops it, its schedule is optimal and its optimum the bound; the search is then skipped.
pub fn exact_first(
    model: &Model,
    genome: &Genome,
    decoded: &Decoded,
    termination: &mut dyn Termination,
) -> Option<(Genome, Decoded, Score)> {
    // Where the caller's limit is a time, the exact mode takes at most half of what is left
    // (it either finishes well within that or is unlikely to finish at all), and the search
    // has the rest.
    let exact = match (
        termination.remaining_seconds(),
        termination.elapsed_seconds(),
    ) {
        (Some(left), Some(now)) => {
            let until = now + left * EXACT_SHARE;
            let mut share = || {
                termination.should_stop()
                    || termination.elapsed_seconds().is_some_and(|t| t >= until)
            };
            exact_search_until(model, decoded.score.weighted_tardiness, &mut share)
        }
        _ => exact_search_until(model, decoded.score.weighted_tardiness, termination),
    }?;
    let bound = bound_with_proved(model, Some(exact.tardiness));
    match exact.better {
        None => Some((genome.clone(), decoded.clone(), bound)),
        Some(g) => {
            let d = decode(model, &g).ok()?;
            (d.score.total <= decoded.score.total).then_some((g, d, bound))
        }
    }
}

/// After the search: where [`super::exact`] applies and finishes before `termination`
/// stops it, the optimum it proves is the bound, and the schedule it found replaces the
/// search's when better. Elsewhere the relaxations' bound.
pub fn finish(
    model: &Model,
    genome: Genome,
    decoded: Decoded,
    termination: &mut dyn Termination,
) -> (Genome, Decoded, Score) {
    let Some(exact) = exact_search_until(model, decoded.score.weighted_tardiness, termination)
    else {
        return (genome, decoded, lower_bound_with(model, None));
    };
    let bound = bound_with_proved(model, Some(exact.tardiness));
    if let Some(g) = exact.better
        && let Ok(d) = decode(model, &g)
        && d.score.total < decoded.score.total
    {
        return (g, d, bound);
    }
    (genome, decoded, bound)
}

/// Runs the improvement threads from a starting genome; returns the best found.
pub fn improve(
    model: &Model,
    genome: Genome,
    decoded: Decoded,
    options: &PlantSolveOptions,
    termination: &mut dyn Termination,
    progress: &mut dyn FnMut(&PlantProgress),
) -> (Genome, Decoded, u64) {
    let results = improve_from(
        model,
        vec![(genome, decoded)],
        options,
        termination,
        progress,
    );
    let iterations = results.iter().map(|r| r.2).sum();
    let mut best: Option<(Genome, Decoded)> = None;
    for (g, d, _) in results {
        if best
            .as_ref()
            .is_none_or(|b| d.score.total < b.1.score.total)
        {
            best = Some((g, d));
        }
    }
    let (g, d) = best.expect("at least one thread");
    (g, d, iterations)
}

/// Runs improvement threads from several starting points: thread `t` starts from
/// `starts[t % starts.len()]`, with `max(options.threads, starts.len())` threads so every
/// start is searched. Returns each thread's best with its iterations, by thread. With an
/// iteration budget each thread runs it to the end, so the results do not depend on timing.
pub fn improve_from(
    model: &Model,
    starts: Vec<(Genome, Decoded)>,
    options: &PlantSolveOptions,
    termination: &mut dyn Termination,
    progress: &mut dyn FnMut(&PlantProgress),
) -> Vec<(Genome, Decoded, u64)> {
    assert!(!starts.is_empty(), "improve_from needs a start");
    let threads = options.threads.max(starts.len());
    let stop = AtomicBool::new(false);
    let budget = options.max_iterations;
    if budget == Some(0) || model.groups.len() < 2 {
        return starts.into_iter().map(|(g, d)| (g, d, 0)).collect();
    }
    let start = |t: usize| starts[t % starts.len()].clone();
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for t in 1..threads {
            let (g, d) = start(t);
            let stop = &stop;
            let seed = options.seed;
            handles.push(scope.spawn(move || {
                let mut rng = Rng::new(seed ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                let mut poll = || stop.load(Ordering::Relaxed);
                search(model, g, d, &mut rng, budget, &mut poll, &mut |_| {})
            }));
        }
        let mut rng = Rng::new(options.seed);
        // The poll and the report both read the caller's termination (the report for its
        // clock), never at the same time.
        let term = RefCell::new(termination);
        let mut poll = || {
            let s = term.borrow_mut().should_stop();
            if s {
                stop.store(true, Ordering::Relaxed);
            }
            s
        };
        let mut report = |p: &PlantProgress| {
            progress(&PlantProgress {
                elapsed_seconds: term.borrow_mut().elapsed_seconds(),
                ..*p
            });
        };
        let (g, d) = start(0);
        let first = search(model, g, d, &mut rng, budget, &mut poll, &mut report);
        // Only the caller's termination stops the other threads: with an iteration budget
        // each thread runs its own budget to the end, so results do not depend on timing.
        let mut all = vec![first];
        for h in handles {
            all.push(h.join().expect("search thread panicked"));
        }
        all
    })
}

const HISTORY: usize = 40;
/// Iterations without a new best of the run before a restart (at least; more on large
/// problems, see [`search`]).
const STALL: u64 = 3_000;
/// Random moves applied to the best schedule at a restart.
const KICKS: usize = 16;

/// The best schedule moved by [`KICKS`] random moves, each kept when it decodes.
fn kick(
    m: &Model,
    best: &(Genome, Decoded),
    order_groups: &[Vec<usize>],
    rng: &mut Rng,
) -> (Genome, Decoded) {
    let (mut g, mut d) = best.clone();
    for _ in 0..KICKS {
        let mut c = g.clone();
        mutate(m, &mut c, &d, order_groups, rng);
        if let Ok(x) = decode(m, &c) {
            g = c;
            d = x;
        }
    }
    (g, d)
}

fn search(
    m: &Model,
    genome: Genome,
    decoded: Decoded,
    rng: &mut Rng,
    budget: Option<u64>,
    should_stop: &mut dyn FnMut() -> bool,
    progress: &mut dyn FnMut(&PlantProgress),
) -> (Genome, Decoded, u64) {
    let mut cur = (genome, decoded);
    let mut best = cur.clone();
    let mut history = [cur.1.score.total; HISTORY];
    let mut it = 0u64;
    // Order -> groups, for moves on late orders.
    let mut order_groups: Vec<Vec<usize>> = vec![Vec::new(); m.orders.len()];
    for (g, members) in m.groups.iter().enumerate() {
        let o = m.ops[members[0]].order;
        if !order_groups[o].contains(&g) {
            order_groups[o].push(g);
        }
    }
    // Restarts: after `stall_limit` iterations without a new best of the current run, the
    // run starts again from the best with KICKS random moves and a fresh history.
    let stall_limit = STALL.max(100 * m.groups.len() as u64);
    let mut run_best = cur.1.score.total;
    let mut stall = 0u64;
    loop {
        if budget.is_some_and(|b| it >= b) {
            break;
        }
        stall += 1;
        if stall > stall_limit {
            stall = 0;
            cur = kick(m, &best, &order_groups, rng);
            run_best = cur.1.score.total;
            history = [run_best; HISTORY];
        }
        if it.is_multiple_of(8) && should_stop() {
            break;
        }
        if it.is_multiple_of(64) {
            progress(&PlantProgress {
                best: best.1.score,
                iterations: it,
                elapsed_seconds: None,
            });
        }
        it += 1;
        let mut cand = cur.0.clone();
        mutate(m, &mut cand, &cur.1, &order_groups, rng);
        let Ok(d) = decode(m, &cand) else { continue };
        let slot = (it as usize) % HISTORY;
        // Ties of the objective go to the schedule that finishes the heavy orders earlier
        // where weighted tardiness is most of it (its wide plateaus hide what a later move
        // could use); elsewhere ties are taken as they come, a free walk on the plateau
        // (generated 100-operation plants, 100k iterations, seeds 1-10: median 17,146
        // instead of 17,430 with the rule everywhere; tardy100a keeps the rule).
        let tardiness_led = m.weights.tardiness * cur.1.score.weighted_tardiness
            >= TARDINESS_LED * cur.1.score.total;
        let better = if d.score.total == cur.1.score.total && tardiness_led {
            secondary(m, &d) <= secondary(m, &cur.1)
        } else {
            d.score.total <= cur.1.score.total
        };
        if better || d.score.total < history[slot] {
            cur = (cand, d);
        }
        history[slot] = cur.1.score.total;
        if cur.1.score.total < run_best {
            run_best = cur.1.score.total;
            stall = 0;
        }
        if cur.1.score.total < best.1.score.total {
            best = cur.clone();
        }
    }
    progress(&PlantProgress {
        best: best.1.score,
        iterations: it,
        elapsed_seconds: None,
    });
    (best.0, best.1, it)
}

/// The share of the objective weighted tardiness must hold for ties to be broken by
/// [`secondary`].
const TARDINESS_LED: f64 = 0.5;

/// Weighted sum of the orders' completion times (orders with a due date).
fn secondary(m: &Model, d: &Decoded) -> f64 {
    let mut completion = vec![i64::MIN; m.orders.len()];
    for (i, o) in m.ops.iter().enumerate() {
        completion[o.order] = completion[o.order].max(d.end[i]);
    }
    m.orders
        .iter()
        .zip(&completion)
        .filter(|(o, _)| o.due.is_some())
        .map(|(o, &c)| o.weight * c as f64)
        .sum()
}

fn below(rng: &mut Rng, n: usize) -> usize {
    rng.below_u32(n.min(u32::MAX as usize) as u32) as usize
}

fn mutate(m: &Model, g: &mut Genome, cur: &Decoded, order_groups: &[Vec<usize>], rng: &mut Rng) {
    let ng = g.order.len();
    let n = m.ops.len();
    match below(rng, 12) {
        // One move in twelve works on the critical chain of a late order.
        10 | 11 if below(rng, 2) == 0 => {
            if !chain_move(m, g, cur, order_groups, rng) {
                let a = below(rng, ng);
                let b = (a + 1).min(ng - 1);
                g.order.swap(a, b);
            }
        }
        0 | 1 | 10 => {
            // Swap two nearby groups.
            let a = below(rng, ng);
            let span = 1 + below(rng, 30);
            let b = (a + span).min(ng - 1);
            g.order.swap(a, b);
        }
        2 | 3 => {
            // Move one group to a nearby position.
            let a = below(rng, ng);
            let x = g.order.remove(a);
            let span = 60usize;
            let lo = a.saturating_sub(span);
            let hi = (a + span).min(ng - 1);
            let b = lo + below(rng, hi - lo + 1);
            g.order.insert(b.min(g.order.len()), x);
        }
        4 => {
            // Reassign one operation's unit.
            let i = below(rng, n);
            let k = m.ops[i].alts.len();
            if k > 1 {
                let c = below(rng, k + 1);
                g.unit_pref[i] = if c == k { None } else { Some(c as u16) };
            }
        }
        5 => {
            // Pull a late order forward.
            let late: Vec<usize> = (0..m.orders.len())
                .filter(|&o| {
                    m.orders[o].due.is_some_and(|due| {
                        order_groups[o]
                            .iter()
                            .any(|&gr| m.groups[gr].iter().any(|&i| cur.end[i] > due))
                    })
                })
                .collect();
            if late.is_empty() {
                return;
            }
            let o = late[below(rng, late.len())];
            let jump = 1 + below(rng, 40);
            for &gr in &order_groups[o] {
                if let Some(p) = g.order.iter().position(|&x| x == gr) {
                    let x = g.order.remove(p);
                    g.order.insert(p.saturating_sub(jump), x);
                }
            }
        }
        6 | 7 => {
            // Campaign: put an operation right after a like product on its unit.
            let i = below(rng, n);
            let u = cur.unit[i];
            let Some(ai) = m.ops[i].alts.iter().position(|a| a.unit == u) else {
                return;
            };
            let Some(key) = m.ops[i].alts[ai].key else {
                return;
            };
            let mut bestj: Option<(i64, usize)> = None;
            for (j, o) in m.ops.iter().enumerate() {
                if j != i
                    && cur.unit[j] == u
                    && o.alts.iter().any(|a| a.unit == u && a.key == Some(key))
                {
                    let dist = (cur.start[j] - cur.start[i]).abs();
                    if bestj.is_none_or(|b| dist < b.0) {
                        bestj = Some((dist, j));
                    }
                }
            }
            let Some((_, j)) = bestj else { return };
            let (gi, gj) = (m.ops[i].group, m.ops[j].group);
            if gi == gj {
                return;
            }
            let pi = g.order.iter().position(|&x| x == gi).expect("present");
            let x = g.order.remove(pi);
            let pj = g.order.iter().position(|&x| x == gj).expect("present");
            g.order.insert(pj + 1, x);
            g.unit_pref[i] = Some(ai as u16);
        }
        _ => {
            // LNS: related operations of one unit in a time window, reinserted in a new order.
            let i = below(rng, n);
            let u = cur.unit[i];
            let width = 240 + below(rng, 2400) as i64;
            let (lo, hi) = (cur.start[i] - width / 2, cur.start[i] + width / 2);
            let mut chosen: Vec<usize> = Vec::new();
            for (j, _) in m.ops.iter().enumerate() {
                if cur.unit[j] == u && cur.start[j] >= lo && cur.start[j] <= hi {
                    let gr = m.ops[j].group;
                    if !chosen.contains(&gr) {
                        chosen.push(gr);
                    }
                    if below(rng, 3) == 0 {
                        g.unit_pref[j] = None;
                    }
                }
            }
            if chosen.len() < 2 {
                return;
            }
            let mut slots: Vec<usize> = g
                .order
                .iter()
                .enumerate()
                .filter(|(_, x)| chosen.contains(x))
                .map(|(p, _)| p)
                .collect();
            slots.sort_unstable();
            let key = |gr: usize| {
                let h = m.groups[gr][0];
                m.ops[h]
                    .alts
                    .iter()
                    .find(|a| a.unit == u)
                    .and_then(|a| a.key)
                    .unwrap_or(u32::MAX)
            };
            let due = |gr: usize| {
                m.orders[m.ops[m.groups[gr][0]].order]
                    .due
                    .unwrap_or(i64::MAX)
            };
            match below(rng, 3) {
                0 => chosen.sort_by_key(|&gr| (key(gr), due(gr))),
                1 => chosen.sort_by_key(|&gr| (due(gr), key(gr))),
                _ => {
                    for k in (1..chosen.len()).rev() {
                        let r = below(rng, k + 1);
                        chosen.swap(k, r);
                    }
                }
            }
            for (slot, gr) in slots.into_iter().zip(chosen) {
                g.order[slot] = gr;
            }
        }
    }
}
