//! On-time-delivery risk by Monte Carlo over uncertain durations.
//!
//! The schedule's decisions (unit per operation, order of operations) are kept; each run
//! scales every duration by a lognormal factor (`spread` is its log-sigma), rebuilds the
//! timing with the decoder (so calendars, pools, materials, setups and lags still hold) and
//! records which orders finish after their due date. The probability of being late per order
//! is the share of runs in which it was late. Seeded: same inputs, same answer, on every
//! platform (the transcendental functions come from `libm`).

use serde::{Deserialize, Serialize};

use super::construct::{Genome, Model, decode};
use super::problem::{PlantProblem, PlantSchedule, ProblemError};
use model::rng::Rng;

/// Probability of being late, per order with a due date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OrderRisk {
    pub order: String,
    pub probability_late: f64,
    /// Mean minutes late over the runs in which it was late.
    pub mean_minutes_late: f64,
}

/// A standard normal draw by Box–Muller. `libm`'s `log` and `cos` give the same bits on
/// every platform, which `f64::ln`/`f64::cos` do not promise (`sqrt` is exact everywhere).
fn normal(rng: &mut Rng) -> f64 {
    let u1 = rng.uniform().max(1e-12);
    let u2 = rng.uniform();
    (-2.0 * libm::log(u1)).sqrt() * libm::cos(2.0 * std::f64::consts::PI * u2)
}

/// Runs `runs` Monte Carlo samples of `schedule` on `problem`.
pub fn lateness_risk(
    problem: &PlantProblem,
    schedule: &PlantSchedule,
    runs: usize,
    spread: f64,
    seed: u64,
) -> Result<Vec<OrderRisk>, ProblemError> {
    problem.validate()?;
    let mut rng = Rng::new(seed);
    let mut late = vec![0usize; problem.orders.len()];
    let mut minutes = vec![0f64; problem.orders.len()];
    let mut done = 0usize;
    for _ in 0..runs {
        let mut p = problem.clone();
        for op in &mut p.operations {
            if op.fixed.is_some() {
                continue;
            }
            let factor = libm::exp(spread * normal(&mut rng));
            for alt in &mut op.alternatives {
                if let Some(m) = alt.minutes.as_mut() {
                    *m = ((*m as f64) * factor).round().max(1.0) as i64;
                }
                if let Some(r) = alt.items_per_hour.as_mut() {
                    *r /= factor;
                }
            }
        }
        let model = Model::compile(&p);
        let genome = Genome::from_schedule(&model, &p, schedule);
        let Ok(d) = decode(&model, &genome) else {
            continue;
        };
        done += 1;
        let mut completion = vec![i64::MIN; p.orders.len()];
        for (i, op) in model.ops.iter().enumerate() {
            completion[op.order] = completion[op.order].max(d.end[i]);
        }
        for (k, o) in p.orders.iter().enumerate() {
            if let Some(due) = o.due
                && completion[k] > due
            {
                late[k] += 1;
                minutes[k] += (completion[k] - due) as f64;
            }
        }
    }
    let n = done.max(1) as f64;
    Ok(problem
        .orders
        .iter()
        .enumerate()
        .filter(|(_, o)| o.due.is_some())
        .map(|(k, o)| OrderRisk {
            order: o.id.clone(),
            probability_late: late[k] as f64 / n,
            mean_minutes_late: if late[k] > 0 {
                minutes[k] / late[k] as f64
            } else {
                0.0
            },
        })
        .collect())
}
