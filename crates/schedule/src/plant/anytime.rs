//! A solve that records its anytime curve: the best objective over time, for benchmarks.
//!
//! Time comes from the caller's [`Termination`] (its `elapsed_seconds`), so the engine stays
//! without a clock; with a termination that has none the curve is indexed by iterations only
//! and the times are `None`.

use serde::{Deserialize, Serialize};

use super::improve::{
    PlantSolution, PlantSolveError, PlantSolveOptions, exact_first, finish, first_feasible, improve,
};
use super::problem::PlantProblem;
use crate::termination::Termination;

/// One point of the curve: the best objective known at that moment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AnytimePoint {
    /// Seconds since the caller's start (from its termination's clock).
    pub seconds: Option<f64>,
    /// Iterations of the reporting thread so far.
    pub iterations: u64,
    pub objective: f64,
}

/// The result of [`solve_anytime`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnytimeRun {
    pub solution: PlantSolution,
    /// Seconds to the first feasible schedule.
    pub first_feasible_seconds: Option<f64>,
    /// Every improvement of the best objective, in order; the first point is the first
    /// feasible schedule, the last the final plan.
    pub curve: Vec<AnytimePoint>,
}

impl AnytimeRun {
    /// Seconds until the best objective came within `percent` % of the final plan's.
    pub fn seconds_to_within(&self, percent: f64) -> Option<f64> {
        let target = self.solution.score.total;
        let slack = target.abs() * percent / 100.0 + 1e-9;
        self.curve
            .iter()
            .find(|p| p.objective <= target + slack)
            .and_then(|p| p.seconds)
    }
}

/// Solves like [`super::solve_plant`] and records the best objective over time.
pub fn solve_anytime(
    problem: &PlantProblem,
    options: &PlantSolveOptions,
    termination: &mut dyn Termination,
) -> Result<AnytimeRun, PlantSolveError> {
    let (model, genome, decoded) = first_feasible(problem, options.objective)?;
    let first_feasible_seconds = termination.elapsed_seconds();
    let initial_score = decoded.score;
    let mut curve = vec![AnytimePoint {
        seconds: first_feasible_seconds,
        iterations: 0,
        objective: initial_score.total,
    }];
    if let Some((_, best, bound)) = exact_first(&model, &genome, &decoded, termination) {
        if best.score.total < initial_score.total {
            curve.push(AnytimePoint {
                seconds: termination.elapsed_seconds(),
                iterations: 0,
                objective: best.score.total,
            });
        }
        let solution = PlantSolution::with_bound(
            best.to_schedule(&model),
            best.score,
            initial_score,
            0,
            bound,
        );
        return Ok(AnytimeRun {
            solution,
            first_feasible_seconds,
            curve,
        });
    }
    let (g, best, iterations) = improve(&model, genome, decoded, options, termination, &mut |p| {
        if curve.last().is_some_and(|l| p.best.total < l.objective) {
            curve.push(AnytimePoint {
                seconds: p.elapsed_seconds,
                iterations: p.iterations,
                objective: p.best.total,
            });
        }
    });
    // The exact mode of small problems may improve the plan (and proves the bound).
    let (_, best, bound) = finish(&model, g, best, termination);
    // Another thread (or the exact mode) may have found the final plan: it closes the curve.
    if curve.last().is_some_and(|l| best.score.total < l.objective) {
        curve.push(AnytimePoint {
            seconds: termination.elapsed_seconds(),
            iterations,
            objective: best.score.total,
        });
    }
    let solution = PlantSolution::with_bound(
        best.to_schedule(&model),
        best.score,
        initial_score,
        iterations,
        bound,
    );
    Ok(AnytimeRun {
        solution,
        first_feasible_seconds,
        curve,
    })
}
