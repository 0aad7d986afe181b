//! `mixplane bench plant DIR`: the mixed-mode engine on every native problem in DIR and on
//! generated families of 30, 100, 300 and 1,000 operations (every constraint type, from
//! [`schedule::plant::generate`]).
//!
//! Per instance: the first feasible objective, the plan, its lower bound and gap ("at most
//! X % from the best possible"), the seconds until the best came within 1 % of the final
//! plan, and (with `--json`) the anytime curve. Every plan passes the independent checker
//! before it is printed.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use schedule::TimeLimit;
use schedule::plant::anytime::{AnytimeRun, solve_anytime};
use schedule::plant::generate::{GenerateOptions, generate};
use schedule::plant::{PlantProblem, PlantSolveOptions, check};
use serde_json::json;

use super::schedule::{SolverBenchArgs, read_native};

/// Sizes of the generated families.
const FAMILIES: [usize; 4] = [30, 100, 300, 1000];

/// Units of a generated family: about 25 operations per unit, at least 3.
fn units_for(operations: usize) -> usize {
    (operations / 25).clamp(3, 40)
}

/// The native problems of `dir` (every `*.json`, by name), then the generated families.
fn instances(args: &SolverBenchArgs) -> anyhow::Result<Vec<(String, PlantProblem)>> {
    let mut files: Vec<_> = std::fs::read_dir(&args.dir)
        .with_context(|| format!("reading {}", args.dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        out.push((stem(&path), read_native(&path)?));
    }
    for ops in FAMILIES {
        out.push((
            format!("gen{ops}"),
            generate(GenerateOptions {
                operations: ops,
                units: units_for(ops),
                seed: args.seed,
            }),
        ));
    }
    Ok(out
        .into_iter()
        .filter(|(name, _)| args.only.is_empty() || args.only.contains(name))
        .collect())
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}

fn cell(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{v:.2}"))
}

pub fn run(args: SolverBenchArgs) -> anyhow::Result<()> {
    let instances = instances(&args)?;
    let options = PlantSolveOptions {
        seed: args.seed,
        threads: args.threads.max(1),
        max_iterations: None,
        objective: None,
    };
    if !args.json {
        println!(
            "# plant {} instances, {} s each, {} threads, seed {}",
            instances.len(),
            args.time_limit,
            options.threads,
            options.seed
        );
        println!(
            "{:<12} {:>6} {:>12} {:>12} {:>12} {:>7} {:>8} {:>10}",
            "instance", "ops", "first", "plan", "bound", "gap %", "t1% s", "iterations"
        );
    }
    let mut rows = Vec::new();
    for (name, problem) in &instances {
        let started = Instant::now();
        let mut term = TimeLimit {
            clock: move || started.elapsed().as_secs_f64(),
            limit_seconds: args.time_limit,
        };
        let run = solve_anytime(problem, &options, &mut term)
            .with_context(|| format!("solving {name}"))?;
        let report = check(problem, &run.solution.schedule);
        if !report.feasible {
            bail!(
                "internal error: the plan of {name} failed the checker: {:?}",
                report.violations
            );
        }
        let s = &run.solution;
        if args.json {
            rows.push(row_json(name, problem, &run));
        } else {
            println!(
                "{:<12} {:>6} {:>12.0} {:>12.0} {:>12.0} {:>7.2} {:>8} {:>10}",
                name,
                problem.operations.len(),
                s.initial_score.total,
                s.score.total,
                s.bound.total,
                s.gap_percent,
                cell(run.seconds_to_within(1.0)),
                s.iterations
            );
        }
    }
    if args.json {
        println!("{}", serde_json::to_string(&rows)?);
    }
    Ok(())
}

fn row_json(name: &str, problem: &PlantProblem, run: &AnytimeRun) -> serde_json::Value {
    let s = &run.solution;
    json!({
        "instance": name,
        "operations": problem.operations.len(),
        "first_feasible": s.initial_score.total,
        "first_feasible_seconds": run.first_feasible_seconds,
        "objective": s.score.total,
        "score": s.score,
        "bound": s.bound,
        "gap_percent": s.gap_percent,
        "seconds_to_within_1_percent": run.seconds_to_within(1.0),
        "iterations": s.iterations,
        "curve": run.curve,
    })
}
