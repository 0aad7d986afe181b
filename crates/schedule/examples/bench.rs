//! Benchmark runner binary.
//!
//! `cargo run --release -p schedule --example bench -- jssp /work/shared/bench/jssp \
//!     --time-limit 10 --threads 2 [--only ta01,ta02] [--prefix ta] [--seed 1] [--iters N]`
//!
//! Reads `bounds.csv` in the directory, solves each listed instance (`<name>.txt` for
//! jssp, `<name>.fjs` for fjsp), re-checks every schedule and prints a gap table.

use std::time::Instant;

use schedule::bench::{BenchInstance, run_bench};
use schedule::{SolveOptions, Termination, TimeLimit, parse_bounds, parse_fjs, parse_jsplib};

fn main() {
    if let Err(e) = real_main() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bench <jssp|fjsp> <dir> [--time-limit S] [--threads N] [--only a,b] [--prefix p] [--seed N] [--iters N]";
    let kind = args.first().ok_or(usage)?.clone();
    let dir = args.get(1).ok_or(usage)?.clone();
    let mut time_limit = 10.0f64;
    let mut options = SolveOptions {
        threads: 2,
        ..SolveOptions::default()
    };
    let mut only: Option<Vec<String>> = None;
    let mut prefix: Option<String> = None;
    let mut i = 2;
    while i < args.len() {
        let val = args.get(i + 1).ok_or(usage)?;
        match args[i].as_str() {
            "--time-limit" => time_limit = val.parse().map_err(|_| "bad --time-limit")?,
            "--threads" => options.threads = val.parse().map_err(|_| "bad --threads")?,
            "--seed" => options.seed = val.parse().map_err(|_| "bad --seed")?,
            "--iters" => options.max_iterations = Some(val.parse().map_err(|_| "bad --iters")?),
            "--no-pr" => options.path_relinking = val != "1" && val != "true",
            "--no-improve" => {
                options.max_no_improve = Some(val.parse().map_err(|_| "bad --no-improve")?)
            }
            "--tenure" => {
                let (a, b) = val.split_once(',').ok_or("bad --tenure (want min,max)")?;
                options.tabu_tenure = Some([
                    a.parse().map_err(|_| "bad --tenure")?,
                    b.parse().map_err(|_| "bad --tenure")?,
                ]);
            }
            "--fresh" => {
                options.fresh_restart_after = Some(val.parse().map_err(|_| "bad --fresh")?)
            }
            "--only" => only = Some(val.split(',').map(str::to_string).collect()),
            "--prefix" => prefix = Some(val.clone()),
            other => return Err(format!("unknown option {other}\n{usage}")),
        }
        i += 2;
    }
    let ext = match kind.as_str() {
        "jssp" => "txt",
        "fjsp" => "fjs",
        _ => return Err(usage.into()),
    };
    let bounds_path = format!("{dir}/bounds.csv");
    let text = std::fs::read_to_string(&bounds_path).map_err(|e| format!("{bounds_path}: {e}"))?;
    let bounds = parse_bounds(&text).map_err(|e| format!("{bounds_path}: {e}"))?;
    let mut instances = Vec::new();
    for b in bounds {
        if only.as_ref().is_some_and(|o| !o.contains(&b.name)) {
            continue;
        }
        if prefix
            .as_ref()
            .is_some_and(|p| !b.name.starts_with(p.as_str()))
        {
            continue;
        }
        let path = format!("{dir}/{}.{ext}", b.name);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        let problem = if ext == "txt" {
            parse_jsplib(&text)
        } else {
            parse_fjs(&text)
        }
        .map_err(|e| format!("{path}: {e}"))?;
        instances.push(BenchInstance {
            name: b.name,
            problem,
            best_known: b.upper_bound,
            optimum: b.optimum,
        });
    }
    println!(
        "# {kind} {} instances, time limit {time_limit} s, threads {}, seed {}",
        instances.len(),
        options.threads,
        options.seed
    );
    println!(
        "{:<8} {:>8} {:>8} {:>8} {:>12}",
        "instance", "makespan", "best", "gap%", "iterations"
    );
    let limit = time_limit;
    let mut term = |_: &str| -> Box<dyn Termination> {
        let start = Instant::now();
        Box::new(TimeLimit {
            clock: move || start.elapsed().as_secs_f64(),
            limit_seconds: limit,
        })
    };
    let report = run_bench(&instances, &options, &mut term, &mut |r| {
        println!(
            "{:<8} {:>8} {:>8} {:>8} {:>12}",
            r.instance,
            r.makespan,
            r.best_known.map_or("-".into(), |b| b.to_string()),
            r.gap_percent.map_or("-".into(), |g| format!("{g:.2}")),
            r.iterations
        );
    })
    .map_err(|e| e.to_string())?;
    println!("\n{:<10} {:>3} {:>9}", "group", "n", "mean gap%");
    for g in &report.groups {
        println!("{:<10} {:>3} {:>9.2}", g.group, g.count, g.mean_gap_percent);
    }
    let all: Vec<f64> = report.rows.iter().filter_map(|r| r.gap_percent).collect();
    if !all.is_empty() {
        println!(
            "{:<10} {:>3} {:>9.2}",
            "all",
            all.len(),
            all.iter().sum::<f64>() / all.len() as f64
        );
    }
    Ok(())
}
