//! `mixplane schedule solve|check|explain|generate|reference` and `mixplane bench jssp|fjsp`;
//! `schedule scenarios` lives in [`super::scenarios`], `bench plant` in [`super::bench_plant`]
//! (the `bench` command itself is [`super::bench`]).
//!
//! Benchmark formats (JSPLIB, Brandimarte `.fjs`) go to the job-shop solver
//! ([`schedule::solve`]); native problems to the mixed-mode engine
//! ([`schedule::plant::solve_plant`]). Every schedule printed has passed the matching
//! independent checker first. `explain` (and the end of a native `solve`) says why late
//! orders are late and which units and pools are the bottlenecks
//! ([`schedule::plant::explain`]). Progress goes to stderr, results to stdout.

mod explain_text;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use schedule::plant::{PlantProblem, PlantSchedule, Preset};
use schedule::{SolveOptions, TimeLimit};
use serde_json::{Value, json};

use crate::progress::ProgressBar;

use self::explain_text::{print_explanation, print_summary};

#[derive(Debug, clap::Args)]
pub struct ScheduleArgs {
    #[command(subcommand)]
    pub command: ScheduleCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ScheduleCommand {
    /// Solve a problem file (native JSON, JSPLIB job shop or Brandimarte .fjs).
    Solve(SolveArgs),
    /// Check a schedule against a problem and list every violated constraint.
    Check(CheckArgs),
    /// Explain a schedule of a native problem: why each late order is late, and the
    /// bottleneck units and pools.
    Explain(ExplainArgs),
    /// What-if schedules of a native problem (objective presets, overtime on the bottleneck,
    /// deferral of low-priority orders) with on-time risk per order, ranked by weighted KPIs.
    Scenarios(Box<super::scenarios::ScenariosArgs>),
    /// Write a generated native mixed-mode problem using every constraint type.
    Generate(GenerateArgs),
    /// Write the reference plant's current order book as a native problem.
    Reference(ReferenceArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Native,
    Jsplib,
    Fjs,
}

#[derive(Debug, clap::Args)]
pub struct SolveArgs {
    /// The problem file.
    pub file: PathBuf,
    /// File format [default: from the extension: .fjs, .json native, otherwise jsplib]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Wall-clock limit of the improvement phase, seconds.
    #[arg(long, default_value_t = 10.0)]
    pub time_limit: f64,
    /// Search threads.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Seed of the search (with --iterations, the same seed gives the same schedule).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Iteration budget per thread (makes the run reproducible).
    #[arg(long)]
    pub iterations: Option<u64>,
    /// Objective preset for native problems [default: the problem's weights]
    #[arg(long, value_parser = crate::choice::of::<Preset>())]
    pub objective: Option<Preset>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The problem the schedule is for.
    pub problem: PathBuf,
    /// A schedule: the JSON printed by `solve --json`, a list of entries, or {"assignments": …}.
    pub schedule: PathBuf,
    /// Problem file format [default: from the extension: .fjs, .json native, otherwise jsplib]
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Print one JSON object (a native problem's report is JSON either way).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The native problem.
    pub problem: PathBuf,
    /// A schedule: the JSON printed by `solve --json`, a list of entries, or {"assignments": …}.
    pub schedule: PathBuf,
    /// Print the explanation as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Operations in the generated problem.
    #[arg(long, default_value_t = 1000)]
    pub operations: usize,
    /// Units in the generated problem.
    #[arg(long, default_value_t = 20)]
    pub units: usize,
    /// Seed of the generator (the same seed, the same problem).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ReferenceArgs {
    /// Horizon in days from the reference start (2026-03-02).
    #[arg(long, default_value_t = 14)]
    pub days: i64,
    /// Write here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The arguments of the solver benchmarks, `bench jssp|fjsp|plant DIR`.
#[derive(Debug, clap::Args)]
pub struct SolverBenchArgs {
    /// Directory with the instances and bounds.csv (plant: the native *.json problems).
    pub dir: PathBuf,
    /// Wall-clock limit per instance, seconds.
    #[arg(long, default_value_t = 10.0)]
    pub time_limit: f64,
    /// Search threads per instance.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Seed of the searches.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Only these instances (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Print JSON instead of the table: jssp/fjsp the gap report as one object, plant one
    /// array with each instance's anytime curve.
    #[arg(long)]
    pub json: bool,
}

/// Which benchmark format `bench` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SolverBench {
    Jssp,
    Fjsp,
}

pub fn run(args: ScheduleArgs) -> anyhow::Result<()> {
    match args.command {
        ScheduleCommand::Solve(a) => solve(a),
        ScheduleCommand::Check(a) => check(a),
        ScheduleCommand::Explain(a) => explain(a),
        ScheduleCommand::Scenarios(a) => super::scenarios::run(*a),
        ScheduleCommand::Generate(a) => generate(a),
        ScheduleCommand::Reference(a) => reference(a),
    }
}

fn format_of(path: &Path, given: Option<Format>) -> Format {
    given.unwrap_or_else(|| match path.extension().and_then(|e| e.to_str()) {
        Some("fjs") => Format::Fjs,
        Some("json") => Format::Native,
        _ => Format::Jsplib,
    })
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn read_bench(path: &Path, format: Format) -> anyhow::Result<schedule::Problem> {
    let text = read(path)?;
    let parsed = if format == Format::Fjs {
        schedule::parse_fjs(&text)
    } else {
        schedule::parse_jsplib(&text)
    };
    parsed.with_context(|| format!("{} is not a valid {format:?} file", path.display()))
}

pub fn read_native(path: &Path) -> anyhow::Result<PlantProblem> {
    let text = read(path)?;
    let problem: PlantProblem = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid native problem", path.display()))?;
    problem
        .validate()
        .with_context(|| format!("{} cannot be scheduled", path.display()))?;
    Ok(problem)
}

fn write_out(out: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match out {
        Some(p) => std::fs::write(p, text).with_context(|| format!("writing {}", p.display())),
        None => {
            println!("{text}");
            Ok(())
        }
    }
}

fn solve(args: SolveArgs) -> anyhow::Result<()> {
    let format = format_of(&args.file, args.format);
    let started = Instant::now();
    let limit = args.time_limit;
    let mut term = TimeLimit {
        clock: move || started.elapsed().as_secs_f64(),
        limit_seconds: limit,
    };
    let mut bar = ProgressBar::new("schedule");
    if format == Format::Native {
        let problem = read_native(&args.file)?;
        let objective = args.objective.map(schedule::plant::Objective::preset);
        let options = schedule::plant::PlantSolveOptions {
            seed: args.seed,
            threads: args.threads.max(1),
            max_iterations: args.iterations,
            objective,
        };
        let (model, genome, decoded) = schedule::plant::first_feasible(&problem, objective)?;
        let first_ms = started.elapsed().as_secs_f64() * 1000.0;
        let initial_score = decoded.score;
        let (_, best, iterations) = schedule::plant::improve::improve(
            &model,
            genome,
            decoded,
            &options,
            &mut term,
            &mut |p| {
                let f = (started.elapsed().as_secs_f64() / limit.max(1e-9)).min(1.0);
                bar.set(
                    f,
                    &format!("objective {:.0} ({} it)", p.best.total, p.iterations),
                );
            },
        );
        let solution = schedule::plant::PlantSolution::new(
            &model,
            best.to_schedule(&model),
            best.score,
            initial_score,
            iterations,
        );
        eprintln!(
            "first feasible in {first_ms:.0} ms ({} operations, objective {:.0})",
            problem.operations.len(),
            initial_score.total
        );
        bar.finish(&format!("objective {:.0}", solution.score.total));
        let mut checked = problem.clone();
        if let Some(w) = objective {
            checked.objective = Some(w);
        }
        let report = schedule::plant::check(&checked, &solution.schedule);
        if !report.feasible {
            bail!(
                "internal error: the solver's schedule failed the checker: {:?}",
                report.violations
            );
        }
        eprintln!(
            "first feasible {:.0}, best {:.0} after {} iterations in {:.2} s",
            solution.initial_score.total,
            solution.score.total,
            solution.iterations,
            started.elapsed().as_secs_f64()
        );
        eprintln!(
            "lower bound {:.0}: at most {:.1} % from the best possible",
            solution.bound.total, solution.gap_percent
        );
        if args.json {
            let out = json!({
                "makespan": solution.score.makespan,
                "objective": solution.score.total,
                "score": solution.score,
                "initial_score": solution.initial_score,
                "kpis": report.kpis,
                "iterations": solution.iterations,
                "bound": solution.bound,
                "gap_percent": solution.gap_percent,
                "schedule": solution.schedule.assignments,
            });
            println!("{out}");
        } else {
            // The chains of a large late schedule run to megabytes: --json leaves them to
            // `schedule explain`.
            let explanation = schedule::plant::explain(&checked, &solution.schedule)?;
            print_native(&problem, &solution.schedule, &report.kpis);
            print_summary(&explanation, 5);
        }
        return Ok(());
    }
    let problem = read_bench(&args.file, format)?;
    let options = SolveOptions {
        seed: args.seed,
        threads: args.threads.max(1),
        max_iterations: args.iterations,
        ..SolveOptions::default()
    };
    let result = schedule::solve(&problem, &options, &mut term, &mut |p| {
        let f = (started.elapsed().as_secs_f64() / limit.max(1e-9)).min(1.0);
        bar.set(
            f,
            &format!("makespan {} ({} it)", p.best_makespan, p.iterations),
        );
    })?;
    bar.finish(&format!("makespan {}", result.schedule.makespan));
    let report = schedule::check(
        &problem,
        &result.schedule.ops,
        Some(result.schedule.makespan),
    );
    if !report.is_feasible() {
        bail!(
            "internal error: the solver's schedule failed the checker: {:?}",
            report.violations
        );
    }
    eprintln!(
        "makespan {} after {} iterations in {:.2} s",
        result.schedule.makespan,
        result.iterations,
        started.elapsed().as_secs_f64()
    );
    if args.json {
        let mut ops = result.schedule.ops.clone();
        ops.sort_by_key(|o| (o.job, o.op));
        println!(
            "{}",
            json!({
                "makespan": result.schedule.makespan,
                "objective": result.schedule.makespan,
                "iterations": result.iterations,
                "proven_optimal": result.proven_optimal,
                "schedule": ops,
            })
        );
    } else {
        println!("makespan {}", result.schedule.makespan);
        let mut ops = result.schedule.ops.clone();
        ops.sort_by_key(|o| (o.machine, o.start));
        for o in ops {
            println!(
                "machine {:>3}  job {:>3} op {:>3}  {:>6} – {:>6}",
                o.machine, o.job, o.op, o.start, o.end
            );
        }
    }
    Ok(())
}

fn print_native(problem: &PlantProblem, schedule: &PlantSchedule, k: &schedule::plant::Kpis) {
    println!(
        "makespan {} min, weighted tardiness {:.0}, late orders {}, changeovers {} ({} min, cost {:.0}), CIPs {}, utilisation {:.1}%, objective {:.0}",
        k.makespan,
        k.weighted_tardiness,
        k.late_orders,
        k.changeovers,
        k.changeover_minutes,
        k.changeover_cost,
        k.cips,
        k.utilization_percent,
        k.objective
    );
    let mut rows: Vec<_> = schedule.assignments.iter().collect();
    rows.sort_by(|a, b| (&a.unit, a.start).cmp(&(&b.unit, b.start)));
    for a in rows {
        let t = problem.horizon_start.plus_minutes(a.start as f64);
        println!(
            "{:<10} {:<20} {:>7} – {:>7}  {t}",
            a.unit, a.op, a.start, a.end
        );
    }
}

/// Reads a schedule document: `{"schedule": [...]}`, `{"assignments": [...]}` or a list.
fn schedule_entries(value: Value) -> anyhow::Result<Value> {
    Ok(match value {
        Value::Array(_) => value,
        Value::Object(mut m) => m
            .remove("schedule")
            .or_else(|| m.remove("assignments"))
            .context("the schedule document has neither `schedule` nor `assignments`")?,
        _ => bail!("a schedule must be a JSON object or list"),
    })
}

/// Reads a native schedule file (the output of `solve --json`, a list of entries, or
/// `{"assignments": …}`).
pub fn read_native_schedule(path: &Path) -> anyhow::Result<PlantSchedule> {
    let text = read(path)?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let assignments = serde_json::from_value(schedule_entries(value)?).with_context(|| {
        format!(
            "{}: schedule entries must be {{op, unit, start, end}}",
            path.display()
        )
    })?;
    Ok(PlantSchedule { assignments })
}

fn explain(args: ExplainArgs) -> anyhow::Result<()> {
    let problem = read_native(&args.problem)?;
    let schedule = read_native_schedule(&args.schedule)?;
    let explanation = schedule::plant::explain(&problem, &schedule)
        .with_context(|| format!("{} does not fit the problem", args.schedule.display()))?;
    if args.json {
        println!("{}", serde_json::to_string(&explanation)?);
    } else {
        print_explanation(&explanation);
    }
    Ok(())
}

fn check(args: CheckArgs) -> anyhow::Result<()> {
    let format = format_of(&args.problem, args.format);
    let text = read(&args.schedule)?;
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", args.schedule.display()))?;
    let entries = schedule_entries(value)?;
    if format == Format::Native {
        let problem = read_native(&args.problem)?;
        let assignments = serde_json::from_value(entries)
            .context("schedule entries must be {op, unit, start, end}")?;
        let report = schedule::plant::check(&problem, &PlantSchedule { assignments });
        println!("{}", serde_json::to_string_pretty(&report)?);
        if !report.feasible {
            bail!("{} violation(s)", report.violations.len());
        }
        return Ok(());
    }
    let problem = read_bench(&args.problem, format)?;
    let ops: Vec<schedule::ScheduledOp> = serde_json::from_value(entries)
        .context("schedule entries must be {job, op, machine, start, end}")?;
    let report = schedule::check(&problem, &ops, None);
    if args.json {
        let answer = serde_json::json!({
            "feasible": report.is_feasible(),
            "makespan": report.makespan,
            "violations": report.violations.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>(),
        });
        println!("{answer}");
    } else {
        for v in &report.violations {
            println!("violation: {v:?}");
        }
    }
    if !report.is_feasible() {
        bail!("{} violation(s)", report.violations.len());
    }
    if !args.json {
        println!("feasible, makespan {}", report.makespan);
    }
    Ok(())
}

fn generate(args: GenerateArgs) -> anyhow::Result<()> {
    let problem = schedule::plant::generate::generate(schedule::plant::generate::GenerateOptions {
        operations: args.operations,
        units: args.units,
        seed: args.seed,
    });
    write_out(args.out.as_deref(), &serde_json::to_string(&problem)?)
}

/// The reference plant's initial order book over `days` days as a native problem.
pub fn reference_problem(days: i64) -> anyhow::Result<PlantProblem> {
    let catalog = sim::reference_catalog();
    let start = sim::SimOptions::default().start;
    let state = model::PlantState::initial(&catalog, start);
    let options = schedule::plant::from_model::FromModelOptions::new(start, days * 1440);
    Ok(schedule::plant::from_model::problem_from_model(
        &catalog, &state, &options,
    )?)
}

fn reference(args: ReferenceArgs) -> anyhow::Result<()> {
    let problem = reference_problem(args.days)?;
    write_out(
        args.out.as_deref(),
        &serde_json::to_string_pretty(&problem)?,
    )
}

/// `bench jssp DIR` or `bench fjsp DIR`: the gap table against DIR/bounds.csv.
pub fn bench(kind: SolverBench, args: SolverBenchArgs) -> anyhow::Result<()> {
    let (name, ext) = match kind {
        SolverBench::Jssp => ("jssp", "txt"),
        SolverBench::Fjsp => ("fjsp", "fjs"),
    };
    let bounds_path = args.dir.join("bounds.csv");
    let bounds = schedule::parse_bounds(&read(&bounds_path)?)
        .with_context(|| format!("{} is not a bounds table", bounds_path.display()))?;
    let mut instances = Vec::new();
    for b in bounds {
        if !args.only.is_empty() && !args.only.contains(&b.name) {
            continue;
        }
        let path = args.dir.join(format!("{}.{ext}", b.name));
        if !path.exists() {
            continue;
        }
        let format = if ext == "fjs" {
            Format::Fjs
        } else {
            Format::Jsplib
        };
        instances.push(schedule::bench::BenchInstance {
            problem: read_bench(&path, format)?,
            name: b.name,
            best_known: b.upper_bound,
            optimum: b.optimum,
        });
    }
    let options = SolveOptions {
        seed: args.seed,
        threads: args.threads.max(1),
        ..SolveOptions::default()
    };
    // With --json the table goes nowhere and the report is printed whole at the end.
    let json = args.json;
    let row = |line: String| {
        if !json {
            println!("{line}");
        }
    };
    row(format!(
        "# {} {} instances, {} s each, {} threads, seed {}",
        name,
        instances.len(),
        args.time_limit,
        options.threads,
        options.seed
    ));
    row(format!(
        "{:<10} {:>9} {:>10} {:>8}",
        "instance", "makespan", "best known", "gap %"
    ));
    let limit = args.time_limit;
    let mut term = |_: &str| -> Box<dyn schedule::Termination> {
        let start = Instant::now();
        Box::new(TimeLimit {
            clock: move || start.elapsed().as_secs_f64(),
            limit_seconds: limit,
        })
    };
    let report = schedule::bench::run_bench(&instances, &options, &mut term, &mut |r| {
        row(format!(
            "{:<10} {:>9} {:>10} {:>8}",
            r.instance,
            r.makespan,
            r.best_known.map_or("-".into(), |b| b.to_string()),
            r.gap_percent.map_or("-".into(), |g| format!("{g:.2}"))
        ));
    })?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    println!("\n{:<10} {:>3} {:>10}", "group", "n", "mean gap %");
    for g in &report.groups {
        println!(
            "{:<10} {:>3} {:>10.2}",
            g.group, g.count, g.mean_gap_percent
        );
    }
    Ok(())
}
