//! Mixed-mode engine benchmark: the scale and latency targets of the scheduling issue.
//!
//! - **reference plant** (every constraint type, 14 days): validate + compile + first
//!   feasible schedule, median of 21 runs;
//! - **generated instance** of `--operations` (10,000) operations on `--units` (100) units:
//!   first feasible, median of 5 runs, and the peak resident set of the process afterwards
//!   (`VmHWM` from `/proc/self/status`; generation itself is not timed);
//! - **repair after a downtime event** on the reference plant: every unit that carries work
//!   goes down for four hours from the start of its first operation after day two; repair
//!   with no improvement (the minimal-move schedule) and with 100 improvement iterations,
//!   medians over the units;
//! - **explain** (late-order chains and bottlenecks) on both schedules, and **scenarios** on
//!   the reference plant from its solved plan (five scenarios, 100 iterations and 100 risk
//!   runs each).
//!
//! Every schedule is checked with the independent checker (not timed).
//! `cargo bench -p schedule --bench plant` (`-- --operations N --units M` for another size).

use std::time::Instant;

use schedule::Never;
use schedule::plant::checker::check;
use schedule::plant::from_model::{FromModelOptions, problem_from_model};
use schedule::plant::generate::{GenerateOptions, generate};
use schedule::plant::problem::{PlantProblem, PlantSchedule};
use schedule::plant::repair::{Disruption, repair};
use schedule::plant::scenario::{ScenarioOptions, run_scenarios};
use schedule::plant::{PlantSolveOptions, explain, first_feasible, solve_plant};

fn reference_problem() -> PlantProblem {
    let plant: model::Plant =
        serde_json::from_str(include_str!("../../sim/data/reference-plant.json"))
            .expect("reference plant parses");
    let catalog = model::Catalog::new(plant).expect("reference plant is valid");
    let start = model::Timestamp::parse("2026-03-02T00:00:00Z").expect("valid instant");
    let state = model::PlantState::initial(&catalog, start);
    problem_from_model(&catalog, &state, &FromModelOptions::new(start, 14 * 1440))
        .expect("reference plant maps to a problem")
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn millis(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// Median milliseconds of `runs` calls of `work`, which returns a schedule to check.
fn time_first_feasible(problem: &PlantProblem, runs: usize) -> (f64, PlantSchedule) {
    let mut samples = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        let (model, _, decoded) = first_feasible(problem, None).expect("feasible");
        samples.push(millis(started));
        last = Some(decoded.to_schedule(&model));
    }
    let schedule = last.expect("at least one run");
    assert_feasible(problem, &schedule, "first feasible");
    (median(samples), schedule)
}

fn assert_feasible(problem: &PlantProblem, schedule: &PlantSchedule, what: &str) {
    let report = check(problem, schedule);
    assert!(
        report.feasible,
        "{what}: {:?}",
        &report.violations[..report.violations.len().min(5)]
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .skip_while(|a| *a != name)
            .nth(1)
            .and_then(|v| v.parse::<usize>().ok())
    };
    let operations = flag("--operations").unwrap_or(10_000);
    let units = flag("--units").unwrap_or(100);

    let reference = reference_problem();
    let (ms, _) = time_first_feasible(&reference, 21);
    println!(
        "reference plant: {} operations on {} units, first feasible median {ms:.1} ms (21 runs)",
        reference.operations.len(),
        reference.units.len()
    );

    let big = generate(GenerateOptions {
        operations,
        units,
        seed: 0,
    });
    let (ms, big_schedule) = time_first_feasible(&big, 5);
    println!(
        "generated: {} operations on {} units, first feasible median {ms:.0} ms (5 runs); peak RSS {:.0} MiB",
        big.operations.len(),
        big.units.len(),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
    let started = Instant::now();
    let e = explain(&big, &big_schedule).expect("explainable");
    println!(
        "explain generated: {:.0} ms ({} late orders)",
        millis(started),
        e.late_orders.len()
    );

    let solved = solve_plant(
        &reference,
        &PlantSolveOptions {
            seed: 0,
            threads: 1,
            max_iterations: Some(300),
            objective: None,
        },
        &mut Never,
        &mut |_| {},
    )
    .expect("reference solves");
    let current = solved.schedule;
    let started = Instant::now();
    let e = explain(&reference, &current).expect("explainable");
    println!(
        "explain reference: {:.1} ms ({} late orders, top unit {}, top pool {})",
        millis(started),
        e.late_orders.len(),
        e.units.first().map_or("-", |u| u.unit.as_str()),
        e.pools.first().map_or("-", |p| p.pool.as_str())
    );

    for budget in [0u64, 100] {
        let mut samples = Vec::new();
        let mut moved = Vec::new();
        for unit in &reference.units {
            let Some(first) = current
                .assignments
                .iter()
                .filter(|a| a.unit == unit.id && a.start >= 2 * 1440)
                .map(|a| a.start)
                .min()
            else {
                continue;
            };
            let disruption = Disruption::Downtime {
                unit: unit.id.clone(),
                start: first,
                end: first + 240,
            };
            let options = PlantSolveOptions {
                seed: 0,
                threads: 1,
                max_iterations: Some(budget),
                objective: None,
            };
            let started = Instant::now();
            let out = repair(
                &reference,
                &current,
                std::slice::from_ref(&disruption),
                first,
                &options,
                &mut Never,
            )
            .expect("repairable");
            samples.push(millis(started));
            assert_feasible(&out.problem, &out.schedule, "repair");
            moved.push(out.moved.len() as f64);
        }
        println!(
            "repair after 4 h downtime, {budget} improvement iterations: median {:.1} ms, max {:.1} ms over {} units; median {} of {} operations moved",
            median(samples.clone()),
            samples.iter().copied().fold(0.0, f64::max),
            samples.len(),
            median(moved),
            reference.operations.len()
        );
    }

    let started = Instant::now();
    let report = run_scenarios(
        &reference,
        Some(&current),
        &ScenarioOptions {
            max_iterations: Some(100),
            risk_runs: 100,
            ..ScenarioOptions::default()
        },
        &mut |_| Box::new(Never),
        &mut |_, _| {},
    )
    .expect("scenarios run");
    println!(
        "scenarios on the reference plant: {} ranked in {:.0} ms (100 iterations, 100 risk runs each); best {}",
        report.scenarios.len(),
        millis(started),
        report.scenarios[0].scenario
    );
    println!("peak RSS {:.0} MiB", peak_rss_mib().unwrap_or(f64::NAN));
}
