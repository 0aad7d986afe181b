//! Quick measurement of the plant engine on native problems, without building the CLI.
//!
//! `cargo run --release -p schedule --example plant -- FILE.json [--time-limit S | --iters N]
//!     [--seeds 1-5] [--threads T] [--search-only 1]`
//!
//! `--search-only 1` runs the anytime search alone (no exact mode, no bound).
//!
//! Prints, per seed, the plan's objective, its lower bound and gap, iterations and the
//! seconds to within 1 % of the final plan; every plan is re-checked by the checker.

use std::time::Instant;

use schedule::plant::anytime::solve_anytime;
use schedule::plant::problem::PlantProblem;
use schedule::plant::{PlantSolveOptions, check, first_feasible, improve};
use schedule::{Never, Termination, TimeLimit};

fn main() {
    if let Err(e) = real_main() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: plant FILE [--time-limit S | --iters N] [--seeds A-B] [--threads T] [--search-only 1]";
    let file = args.first().ok_or(usage)?.clone();
    let mut limit: Option<f64> = None;
    let mut iters: Option<u64> = None;
    let (mut lo, mut hi) = (1u64, 5u64);
    let mut threads = 1usize;
    let mut search_only = false;
    let mut i = 1;
    while i < args.len() {
        let val = args.get(i + 1).ok_or(usage)?;
        match args[i].as_str() {
            "--time-limit" => limit = Some(val.parse().map_err(|_| "bad --time-limit")?),
            "--iters" => iters = Some(val.parse().map_err(|_| "bad --iters")?),
            "--search-only" => search_only = val == "1",
            "--threads" => threads = val.parse().map_err(|_| "bad --threads")?,
            "--seeds" => {
                let (a, b) = val.split_once('-').unwrap_or((val, val));
                lo = a.parse().map_err(|_| "bad --seeds")?;
                hi = b.parse().map_err(|_| "bad --seeds")?;
            }
            other => return Err(format!("unknown option {other}\n{usage}")),
        }
        i += 2;
    }
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{file}: {e}"))?;
    let problem: PlantProblem = serde_json::from_str(&text).map_err(|e| format!("{file}: {e}"))?;
    println!("seed objective bound gap% iterations seconds to-1%");
    for seed in lo..=hi {
        let options = PlantSolveOptions {
            seed,
            threads,
            max_iterations: iters,
            objective: None,
        };
        let start = Instant::now();
        let mut term: Box<dyn Termination> = match limit {
            Some(l) => Box::new(TimeLimit {
                clock: move || start.elapsed().as_secs_f64(),
                limit_seconds: l,
            }),
            None => Box::new(Never),
        };
        if search_only {
            let (model, genome, decoded) =
                first_feasible(&problem, None).map_err(|e| e.to_string())?;
            let (_, d, it) = improve(
                &model,
                genome,
                decoded,
                &options,
                term.as_mut(),
                &mut |_| {},
            );
            println!(
                "{seed} {} - - {it} {:.2} -",
                d.score.total,
                start.elapsed().as_secs_f64()
            );
            continue;
        }
        let run = solve_anytime(&problem, &options, term.as_mut()).map_err(|e| e.to_string())?;
        let s = &run.solution;
        let report = check(&problem, &s.schedule);
        if !report.feasible || (report.kpis.objective - s.score.total).abs() > 1e-6 {
            return Err(format!(
                "seed {seed}: the checker disagrees: {:?}",
                report.violations
            ));
        }
        println!(
            "{seed} {} {} {:.1} {} {:.2} {}",
            s.score.total,
            s.bound.total,
            s.gap_percent,
            s.iterations,
            start.elapsed().as_secs_f64(),
            run.seconds_to_within(1.0)
                .map_or("-".into(), |t| format!("{t:.2}"))
        );
    }
    Ok(())
}
