//! `mixplane schedule solve|check|explain|generate|reference` and `mixplane bench jssp|fjsp`;
//! `schedule scenarios` lives in [`super::scenarios`], `bench plant` in [`super::bench_plant`].
//!
//! Benchmark formats (JSPLIB, Brandimarte `.fjs`) go to the job-shop solver
//! ([`schedule::solve`]); native problems to the mixed-mode engine
//! ([`schedule::plant::solve_plant`]). Every schedule printed has passed the matching
//! independent checker first. `explain` (and the end of a native `solve`) says why late
//! orders are late and which units and pools are the bottlenecks
//! ([`schedule::plant::explain`]). Progress goes to stderr, results to stdout.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use schedule::plant::explain::{CipReason, Explanation, LateOrder, Link, LinkKind, Via};
use schedule::plant::{PlantProblem, PlantSchedule, Preset};
use schedule::{SolveOptions, TimeLimit};
use serde_json::{Value, json};

use crate::progress::ProgressBar;

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
    Scenarios(super::scenarios::ScenariosArgs),
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
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Iteration budget per thread (makes the run reproducible).
    #[arg(long)]
    pub iterations: Option<u64>,
    /// Objective preset for native problems: maximize_throughput, minimize_tardiness,
    /// minimize_changeovers, balanced [default: the problem's weights]
    #[arg(long)]
    pub objective: Option<String>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    pub problem: PathBuf,
    /// A schedule: the JSON printed by `solve --json`, a list of entries, or {"assignments": …}.
    pub schedule: PathBuf,
    #[arg(long, value_enum)]
    pub format: Option<Format>,
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
    #[arg(long, default_value_t = 1000)]
    pub operations: usize,
    #[arg(long, default_value_t = 20)]
    pub units: usize,
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
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// jssp, fjsp or plant (native problems plus generated families, with bounds).
    #[arg(value_parser = ["jssp", "fjsp", "plant"])]
    pub kind: String,
    /// Directory with the instances and bounds.csv (plant: the native *.json problems).
    pub dir: PathBuf,
    #[arg(long, default_value_t = 10.0)]
    pub time_limit: f64,
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Only these instances (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// plant: one JSON array on stdout, with each instance's anytime curve.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ScheduleArgs) -> anyhow::Result<()> {
    match args.command {
        ScheduleCommand::Solve(a) => solve(a),
        ScheduleCommand::Check(a) => check(a),
        ScheduleCommand::Explain(a) => explain(a),
        ScheduleCommand::Scenarios(a) => super::scenarios::run(a),
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
        let objective = match &args.objective {
            Some(p) => Some(schedule::plant::Objective::preset(
                p.parse::<Preset>().map_err(anyhow::Error::msg)?,
            )),
            None => None,
        };
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

/// The minutes from the horizon start as `[from, to]`.
fn stretch(l: &Link) -> String {
    format!("[{:>6}, {:>6}]", l.from, l.to)
}

/// One line saying what a link of a chain is.
fn describe(l: &Link) -> String {
    match &l.kind {
        LinkKind::Operation {
            op,
            order,
            unit,
            via,
        } => match via {
            Via::Last => format!("{op} runs on {unit} (last operation)"),
            Via::Precedence { succ, min_lag } if *min_lag != 0 => {
                format!(
                    "{op} (order {order}) runs on {unit}; {succ} follows it (min lag {min_lag})"
                )
            }
            Via::Precedence { succ, .. } => {
                format!("{op} (order {order}) runs on {unit}; {succ} follows it")
            }
            Via::Unit { succ } => {
                format!("{unit} busy with {op} (order {order}) before {succ}")
            }
            Via::Pool {
                succ,
                pool,
                holders,
            } => format!(
                "{op} (order {order}, on {unit}) holds pool {pool} that {succ} needs (held by {})",
                holders.join(", ")
            ),
            Via::Material { succ, material } => {
                format!("{op} (order {order}, on {unit}) produces {material} that {succ} consumes")
            }
        },
        LinkKind::Lag { pred, op, min_lag } => {
            format!("min lag {min_lag} min between {pred} and {op}")
        }
        LinkKind::Setup {
            unit,
            op,
            after,
            changeover,
            cip,
        } => {
            let mut parts = Vec::new();
            if let Some(c) = changeover {
                parts.push(format!(
                    "changeover {}→{} {} min (table {})",
                    c.from, c.to, c.minutes, c.table
                ));
            }
            if let Some(c) = cip {
                let why: Vec<String> = c
                    .reasons
                    .iter()
                    .map(|r| match r {
                        CipReason::ProductChange { from, to } => {
                            format!(
                                "product {}→{}",
                                from.as_deref().unwrap_or("-"),
                                to.as_deref().unwrap_or("-")
                            )
                        }
                        CipReason::AfterBatches { batches } => {
                            format!("after {batches} batches")
                        }
                        CipReason::MaxRun { run_minutes, limit } => {
                            format!("run {run_minutes} > {limit} min")
                        }
                    })
                    .collect();
                parts.push(format!("CIP {} min ({})", c.minutes, why.join(", ")));
            }
            format!(
                "setup on {unit} after {after} before {op}: {}",
                parts.join(" + ")
            )
        }
        LinkKind::Calendar { unit, op } => format!("{unit} off shift for {op}"),
        LinkKind::Downtime { unit, op, window } => {
            format!("{unit} down [{}, {}] for {op}", window.start, window.end)
        }
        LinkKind::Pool {
            pool,
            op,
            holders,
            capacity,
        } => {
            let held = if holders.is_empty() {
                String::from("closed or reduced")
            } else {
                format!("held by {}", holders.join(", "))
            };
            match capacity {
                Some(c) => format!("pool {pool} full for {op} ({held}; capacity back to {c})"),
                None => format!("pool {pool} full for {op} ({held})"),
            }
        }
        LinkKind::Material {
            material,
            op,
            quantity,
            receipt,
        } => match receipt {
            Some(r) => format!(
                "{op} waits for {quantity} of {material}: receipt of {} at {}",
                r.quantity, r.time
            ),
            None => format!("{op} waits for {quantity} of {material}"),
        },
        LinkKind::MaxLag { op, succ, max_lag } => {
            format!("{op} held late: {succ} must start within {max_lag} min of its end")
        }
        LinkKind::Release { op, order, release } => {
            format!("{op} (order {order}) released at {release}")
        }
        LinkKind::Frozen { op, unit } => format!("{op} frozen on {unit}"),
        LinkKind::Idle { op } => format!("{op} idle: nothing in the problem held it"),
    }
}

/// The longest link charged to the order's dominant cause.
fn main_link(o: &LateOrder) -> Option<&Link> {
    o.chain
        .iter()
        .filter(|l| l.cause == o.dominant_cause)
        .max_by_key(|l| l.minutes)
}

fn percent(p: Option<f64>) -> String {
    p.map_or_else(|| "-".into(), |p| format!("{p:.1}"))
}

/// The full explanation: late orders with their chains, then units and pools by rank.
fn print_explanation(e: &Explanation) {
    println!(
        "{} late order(s), {} minutes late in all (span {} – {} min)",
        e.late_orders.len(),
        e.total_minutes_late,
        e.span.start,
        e.span.end
    );
    for o in &e.late_orders {
        println!(
            "\norder {}: {} min late (due {}, done {}, released {}), dominant cause: {}",
            o.order, o.minutes_late, o.due, o.completion, o.release, o.dominant_cause
        );
        let by: Vec<String> = o
            .minutes_by_cause
            .iter()
            .map(|c| format!("{} {}", c.cause, c.minutes))
            .collect();
        println!("  minutes by cause: {}", by.join(", "));
        for l in &o.chain {
            println!(
                "  {} {:>6} min  {:<10}  {}",
                stretch(l),
                l.minutes,
                l.cause.as_str(),
                describe(l)
            );
        }
    }
    let w = e
        .units
        .iter()
        .map(|u| u.unit.len())
        .max()
        .unwrap_or(0)
        .max(4);
    println!("\nbottleneck units");
    println!(
        "{:>4}  {:<w$} {:>7} {:>8} {:>8} {:>7} {:>11} {:>5} {:>11} {:>9}",
        "rank",
        "unit",
        "load %",
        "busy",
        "avail",
        "setup",
        "changeovers",
        "CIPs",
        "late orders",
        "late min"
    );
    for u in &e.units {
        println!(
            "{:>4}  {:<w$} {:>7} {:>8} {:>8} {:>7} {:>11} {:>5} {:>11} {:>9}",
            u.rank,
            u.unit,
            percent(u.load_percent),
            u.busy_minutes,
            u.available_minutes,
            u.setup_minutes,
            u.changeovers,
            u.cips,
            u.late_orders,
            u.late_minutes
        );
    }
    let w = e
        .pools
        .iter()
        .map(|p| p.pool.len())
        .max()
        .unwrap_or(0)
        .max(4);
    println!("\nbottleneck pools");
    println!(
        "{:>4}  {:<w$} {:>8} {:>9} {:>9} {:>11} {:>9}",
        "rank", "pool", "avg %", "full min", "peak/cap", "late orders", "late min"
    );
    for p in &e.pools {
        println!(
            "{:>4}  {:<w$} {:>8} {:>9} {:>9} {:>11} {:>9}",
            p.rank,
            p.pool,
            percent(p.average_utilization_percent),
            p.minutes_at_full_capacity,
            format!("{}/{}", p.peak, p.capacity),
            p.late_orders,
            p.late_minutes
        );
    }
}

/// A few lines after a solved schedule: the worst late orders and the top bottlenecks.
fn print_summary(e: &Explanation, top: usize) {
    println!(
        "late orders: {} ({} min late in all)",
        e.late_orders.len(),
        e.total_minutes_late
    );
    for o in e.late_orders.iter().take(top) {
        let why = main_link(o).map_or_else(String::new, |l| format!(": {}", describe(l)));
        println!(
            "  {} {} min late, mostly {}{why}",
            o.order, o.minutes_late, o.dominant_cause
        );
    }
    let units: Vec<String> = e
        .units
        .iter()
        .take(3)
        .map(|u| {
            format!(
                "{} {}% load ({} late orders)",
                u.unit,
                percent(u.load_percent),
                u.late_orders
            )
        })
        .collect();
    println!("bottleneck units: {}", units.join(", "));
    let pools: Vec<String> = e
        .pools
        .iter()
        .take(3)
        .map(|p| {
            format!(
                "{} {}% average, {} min full ({} late orders)",
                p.pool,
                percent(p.average_utilization_percent),
                p.minutes_at_full_capacity,
                p.late_orders
            )
        })
        .collect();
    if !pools.is_empty() {
        println!("bottleneck pools: {}", pools.join(", "));
    }
    println!("(`mixplane schedule explain` prints every chain)");
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
    for v in &report.violations {
        println!("violation: {v:?}");
    }
    if !report.is_feasible() {
        bail!("{} violation(s)", report.violations.len());
    }
    println!("feasible, makespan {}", report.makespan);
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

pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
    if args.kind == "plant" {
        return super::bench_plant::run(args);
    }
    let ext = if args.kind == "jssp" { "txt" } else { "fjs" };
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
    println!(
        "# {} {} instances, {} s each, {} threads, seed {}",
        args.kind,
        instances.len(),
        args.time_limit,
        options.threads,
        options.seed
    );
    println!(
        "{:<10} {:>9} {:>10} {:>8}",
        "instance", "makespan", "best known", "gap %"
    );
    let limit = args.time_limit;
    let mut term = |_: &str| -> Box<dyn schedule::Termination> {
        let start = Instant::now();
        Box::new(TimeLimit {
            clock: move || start.elapsed().as_secs_f64(),
            limit_seconds: limit,
        })
    };
    let report = schedule::bench::run_bench(&instances, &options, &mut term, &mut |r| {
        println!(
            "{:<10} {:>9} {:>10} {:>8}",
            r.instance,
            r.makespan,
            r.best_known.map_or("-".into(), |b| b.to_string()),
            r.gap_percent.map_or("-".into(), |g| format!("{g:.2}"))
        );
    })?;
    println!("\n{:<10} {:>3} {:>10}", "group", "n", "mean gap %");
    for g in &report.groups {
        println!(
            "{:<10} {:>3} {:>10.2}",
            g.group, g.count, g.mean_gap_percent
        );
    }
    Ok(())
}

/// The demo's schedule: the reference plant's order book at `options.start`, solved by the
/// mixed-mode engine (first feasible, then improvement for `seconds`), checked, and turned
/// into a [`sim::Plan`] for the simulator. Returns the plan and a KPI summary.
pub fn engine_plan(
    catalog: &model::Catalog,
    options: &sim::SimOptions,
    seconds: f64,
) -> anyhow::Result<(sim::Plan, String)> {
    let started = Instant::now();
    let state = model::PlantState::initial(catalog, options.start);
    let horizon = (options.days * 1440.0).ceil() as i64;
    let problem = schedule::plant::from_model::problem_from_model(
        catalog,
        &state,
        &schedule::plant::from_model::FromModelOptions::new(options.start, horizon),
    )
    .context("mapping the plant to a scheduling problem")?;
    let first = schedule::plant::first_feasible(&problem, None)?;
    let first_ms = started.elapsed().as_secs_f64() * 1000.0;
    let initial_score = first.2.score;
    let mut term = TimeLimit {
        clock: move || started.elapsed().as_secs_f64(),
        limit_seconds: seconds,
    };
    let solve_options = schedule::plant::PlantSolveOptions {
        seed: options.seed,
        threads: 2,
        max_iterations: None,
        objective: None,
    };
    let mut bar = ProgressBar::new("scheduling");
    let (_, best, iterations) = schedule::plant::improve::improve(
        &first.0,
        first.1,
        first.2,
        &solve_options,
        &mut term,
        &mut |p| {
            let f = (started.elapsed().as_secs_f64() / seconds.max(1e-9)).min(1.0);
            bar.set(f, &format!("objective {:.0}", p.best.total));
        },
    );
    let schedule = best.to_schedule(&first.0);
    let report = schedule::plant::check(&problem, &schedule);
    anyhow::ensure!(
        report.feasible,
        "internal error: the engine's schedule failed the checker: {:?}",
        report.violations
    );
    bar.finish(&format!("objective {:.0}", report.kpis.objective));
    let mut plan = sim::Plan::default();
    for a in &schedule.assignments {
        let Some((order, step)) = a.op.rsplit_once('/') else {
            continue;
        };
        let Ok(step) = step.parse::<u32>() else {
            continue;
        };
        plan.units
            .entry(model::UnitId::from(a.unit.as_str()))
            .or_default()
            .push(sim::PlannedOperation {
                order: model::OrderId::from(order),
                step,
                start: problem.horizon_start.plus_minutes(a.start as f64),
            });
    }
    for ops in plan.units.values_mut() {
        ops.sort_by_key(|o| o.start);
    }
    let k = &report.kpis;
    let summary = format!(
        "Schedule (mixed-mode engine: {} operations, first feasible in {first_ms:.0} ms, {iterations} improving iterations)\n  \
         makespan {:.1} days, {} late orders (weighted tardiness {:.0} min), {} changeovers ({} min, cost {:.0}), {} CIPs, utilisation {:.1}%\n  \
         objective {:.0} (first feasible {:.0}); the simulator runs this plan\n",
        problem.operations.len(),
        k.makespan as f64 / 1440.0,
        k.late_orders,
        k.weighted_tardiness,
        k.changeovers,
        k.changeover_minutes,
        k.changeover_cost,
        k.cips,
        k.utilization_percent,
        k.objective,
        initial_score.total,
    );
    let summary = summary + &bottlenecks_and_scenarios(&problem, &schedule, options.seed)?;
    Ok((plan, summary))
}

/// The demo's planner view: what holds the plan back, and the ranked what-ifs.
fn bottlenecks_and_scenarios(
    problem: &PlantProblem,
    schedule: &PlantSchedule,
    seed: u64,
) -> anyhow::Result<String> {
    use std::fmt::Write as _;
    let e = schedule::plant::explain(problem, schedule)?;
    let mut out = String::new();
    if let (Some(u), Some(p)) = (e.units.first(), e.pools.first()) {
        let _ = writeln!(
            out,
            "  bottlenecks: unit {} ({:.0}% load, holds {} late orders for {} min), pool {} ({:.0}% used, {} min at full capacity)",
            u.unit,
            u.load_percent.unwrap_or(0.0),
            u.late_orders,
            u.late_minutes,
            p.pool,
            p.average_utilization_percent.unwrap_or(0.0),
            p.minutes_at_full_capacity
        );
    }
    let options = schedule::plant::scenario::ScenarioOptions {
        seed,
        threads: 2,
        max_iterations: None,
        risk_runs: 100,
        ..Default::default()
    };
    // Each what-if searches for 0.4 s from the plan.
    let mut slice = super::scenarios::time_slices(0.4);
    let report = schedule::plant::scenario::run_scenarios(
        problem,
        Some(schedule),
        &options,
        &mut slice,
        &mut |_, _| {},
    )?;
    let _ = writeln!(
        out,
        "Scenarios from this plan (ranked by throughput, changeover cost and on-time risk; `mixplane schedule scenarios` for more)"
    );
    for s in &report.scenarios {
        let k = &s.kpis;
        let _ = writeln!(
            out,
            "  {}. {:<23} makespan {:>4.1} d, {:>2} late, changeover cost {:>5.0}, risk of lateness {:>4.1}%{}",
            s.rank,
            s.scenario.as_str(),
            k.makespan_minutes as f64 / 1440.0,
            k.late_orders,
            k.changeover_cost,
            100.0 * k.on_time_risk,
            if s.kept_plan && s.scenario != schedule::plant::scenario::ScenarioKind::AsPlanned {
                " (the plan holds: nothing better found)".to_string()
            } else if k.overtime_minutes > 0 {
                format!(", {} min overtime", k.overtime_minutes)
            } else {
                String::new()
            }
        );
    }
    Ok(out)
}

/// Runs the simulator on a plan, with a progress bar.
pub fn simulate_planned(
    catalog: &model::Catalog,
    options: &sim::SimOptions,
    plan: &sim::Plan,
) -> anyhow::Result<sim::SimOutput> {
    let mut bar = ProgressBar::new("simulating");
    let days = options.days;
    let output = sim::simulate(catalog, options, Some(plan), |p: sim::Progress| {
        bar.set(
            p.fraction,
            &format!("day {:.1}/{days} · {} events", p.fraction * days, p.events),
        );
    })
    .context("simulation failed")?;
    bar.finish(&format!("done: {} events", output.events.len()));
    Ok(output)
}
