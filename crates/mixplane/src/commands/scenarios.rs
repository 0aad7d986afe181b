//! `mixplane schedule scenarios PROBLEM`: what-if schedules of a native problem, ranked.
//!
//! The time limit covers all scenarios together and is split evenly; `--iterations` makes the
//! run reproducible. Every schedule is checked against its scenario's problem before it is
//! printed. A table on stdout (or one JSON object with `--json`); progress on stderr.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use schedule::plant::scenario::{
    RankingWeights, ScenarioKind, ScenarioOptions, ScenarioReport, run_scenarios,
};
use schedule::{Termination, TimeLimit};

use crate::progress::ProgressBar;

#[derive(Debug, clap::Args)]
pub struct ScenariosArgs {
    /// The native problem file.
    pub file: PathBuf,
    /// The schedule in force (`solve --json` output or a list of entries): `as_planned` is
    /// this plan, and every what-if starts from it.
    #[arg(long)]
    pub plan: Option<PathBuf>,
    /// What-ifs after as_planned, comma-separated (2 to 5 of maximize_throughput,
    /// minimize_tardiness, minimize_changeovers, overtime_on_bottleneck, defer_low_priority)
    /// [default: maximize_throughput,minimize_changeovers,overtime_on_bottleneck,defer_low_priority]
    #[arg(long, value_delimiter = ',')]
    pub scenarios: Vec<String>,
    /// Wall-clock budget for all scenarios together, seconds.
    #[arg(long, default_value_t = 10.0)]
    pub time_limit: f64,
    /// Iteration budget per thread and scenario (makes the run reproducible).
    #[arg(long)]
    pub iterations: Option<u64>,
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Monte Carlo runs per scenario.
    #[arg(long, default_value_t = 200)]
    pub risk_runs: usize,
    /// Log-sigma of the lognormal duration factor in the risk runs.
    #[arg(long, default_value_t = 0.15)]
    pub duration_spread: f64,
    /// Overtime after each shift of the bottleneck, minutes.
    #[arg(long, default_value_t = 120)]
    pub overtime_minutes: i64,
    /// How much later the lowest-priority orders may be due, minutes.
    #[arg(long, default_value_t = 1440)]
    pub defer_minutes: i64,
    /// Ranking weights throughput,changeover_cost,on_time.
    #[arg(long, value_delimiter = ',', num_args = 3, default_values_t = [1.0, 1.0, 1.0])]
    pub ranking: Vec<f64>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Each scenario's own wall-clock limit of `seconds`, counted from when it starts.
pub fn time_slices(seconds: f64) -> impl FnMut(ScenarioKind) -> Box<dyn Termination> {
    move |_| {
        let begun = Instant::now();
        Box::new(TimeLimit {
            clock: move || begun.elapsed().as_secs_f64(),
            limit_seconds: seconds,
        })
    }
}

pub fn run(args: ScenariosArgs) -> anyhow::Result<()> {
    let problem = super::schedule::read_native(&args.file)?;
    let plan = match &args.plan {
        Some(path) => Some(super::schedule::read_native_schedule(path)?),
        None => None,
    };
    let scenarios = if args.scenarios.is_empty() {
        ScenarioKind::DEFAULT.to_vec()
    } else {
        args.scenarios
            .iter()
            .map(|s| s.parse::<ScenarioKind>().map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<_>>()?
    };
    let [throughput, changeover_cost, on_time] = args.ranking[..] else {
        bail!("--ranking takes three weights: throughput,changeover_cost,on_time");
    };
    let options = ScenarioOptions {
        seed: args.seed,
        threads: args.threads.max(1),
        max_iterations: args.iterations,
        scenarios,
        risk_runs: args.risk_runs,
        duration_spread: args.duration_spread,
        overtime_minutes: args.overtime_minutes,
        defer_minutes: args.defer_minutes,
        ranking: RankingWeights {
            throughput,
            changeover_cost,
            on_time,
        },
    };
    let slice = args.time_limit.max(0.0) / (options.scenarios.len() + 1) as f64;
    let started = Instant::now();
    let mut termination_for = time_slices(slice);
    let mut bar = ProgressBar::new("scenarios");
    let report = run_scenarios(
        &problem,
        plan.as_ref(),
        &options,
        &mut termination_for,
        &mut |done, total| {
            bar.set(
                done as f64 / total as f64,
                &format!("{done} of {total} scenarios"),
            )
        },
    )?;
    bar.finish(&format!(
        "{} scenarios in {:.1} s",
        report.scenarios.len(),
        started.elapsed().as_secs_f64()
    ));
    for s in &report.scenarios {
        let verdict = schedule::plant::check(&report.problem_of(&problem, s.scenario), &s.schedule);
        if !verdict.feasible {
            bail!(
                "internal error: scenario {} failed the checker: {:?}",
                s.scenario,
                verdict.violations
            );
        }
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_table(&report);
    }
    Ok(())
}

fn print_table(report: &ScenarioReport) {
    if let Some(b) = &report.bottleneck {
        println!(
            "overtime goes to {}: bottleneck rank {}, {:.1}% load ({} of {} min), holds up {} late orders for {} min",
            b.unit,
            b.rank,
            b.load_percent.unwrap_or(0.0),
            b.busy_minutes,
            b.available_minutes,
            b.late_orders,
            b.late_minutes
        );
    }
    println!(
        "{:<4} {:<24} {:>6} {:>9} {:>8} {:>11} {:>5} {:>9} {:>8} {:>8}",
        "rank",
        "scenario",
        "score",
        "makespan",
        "orders/d",
        "changeover",
        "late",
        "E[late]",
        "risk %",
        "overtime"
    );
    for s in &report.scenarios {
        let k = &s.kpis;
        println!(
            "{:<4} {:<24} {:>6.3} {:>9} {:>8.2} {:>11.0} {:>5} {:>9.2} {:>8.1} {:>8}",
            s.rank,
            s.scenario.as_str(),
            s.scores.total,
            k.makespan_minutes,
            k.throughput_orders_per_day,
            k.changeover_cost,
            k.late_orders,
            k.expected_late_orders,
            100.0 * k.on_time_risk,
            k.overtime_minutes
        );
    }
    for s in &report.scenarios {
        let risky: Vec<String> = s
            .order_risk
            .iter()
            .take_while(|r| r.probability_late > 0.0)
            .take(5)
            .map(|r| format!("{} {:.0}%", r.order, 100.0 * r.probability_late))
            .collect();
        let held = if s.kept_plan && s.scenario != ScenarioKind::AsPlanned {
            " — the plan holds: nothing better found"
        } else {
            ""
        };
        println!("{}: {}{held}", s.scenario, s.description);
        if !risky.is_empty() {
            println!("  most at risk: {}", risky.join(", "));
        }
    }
    for s in &report.skipped {
        println!("skipped {}: {}", s.scenario, s.reason);
    }
}
