//! `mixplane schedule scenarios PROBLEM`: what-if schedules of a native problem, ranked.
//!
//! The time limit covers all scenarios together and is split evenly; `--iterations` makes the
//! run reproducible. Every schedule is checked against its scenario's problem before it is
//! printed. A table on stdout (or one JSON object with `--json`); progress on stderr.
//!
//! `--commit SCENARIO` turns the chosen scenario into a governed `schedule_change` proposal
//! in the data directory's store, through the same code path as
//! `POST /v1/schedule/scenarios/commit` ([`app::scenario::commit`]): re-checked,
//! evidence and diff computed by the server module, the policy deciding whether it applies by
//! itself. The proposer is the CLI user as a planner.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use govern::{Principal, PrincipalKind, Proposal, Role, Scope, Status};
use schedule::plant::scenario::{
    RankingWeights, ScenarioKind, ScenarioOptions, ScenarioReport, run_scenarios,
};

use crate::DataArgs;
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
    #[arg(long, value_delimiter = ',', value_parser = crate::choice::of::<ScenarioKind>())]
    pub scenarios: Vec<ScenarioKind>,
    /// Wall-clock budget for all scenarios together, seconds.
    #[arg(long, default_value_t = 10.0)]
    pub time_limit: f64,
    /// Iteration budget per thread and scenario (makes the run reproducible).
    #[arg(long)]
    pub iterations: Option<u64>,
    /// Search threads per scenario.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Seed of the searches and the Monte Carlo runs (the same seed and budget, the same answer).
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
    /// Print one JSON object on stdout (with --commit, the proposal under `proposal`).
    #[arg(long)]
    pub json: bool,
    /// Commit this scenario (e.g. minimize_changeovers) as a governed schedule_change
    /// proposal in the data directory's store; the policy applies it or holds it for approval.
    #[arg(long, value_name = "SCENARIO", value_parser = crate::choice::of::<ScenarioKind>())]
    pub commit: Option<ScenarioKind>,
    /// With --commit: the proposal's plant area [default: the one area whose units the
    /// scenario changes].
    #[arg(long, requires = "commit")]
    pub area: Option<String>,
    #[command(flatten)]
    pub data: DataArgs,
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
        args.scenarios.clone()
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
    let mut termination_for = app::plan::time_slices(slice);
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
    let committed = match &args.commit {
        Some(kind) => Some(commit(&args, *kind, &problem, plan, &report)?),
        None => None,
    };
    if args.json {
        let mut out = serde_json::to_value(&report)?;
        if let Some(proposal) = &committed {
            out["proposal"] = serde_json::to_value(proposal)?;
        }
        println!("{out}");
    } else {
        print_table(&report);
        if let Some(proposal) = &committed {
            print_commit(proposal);
        }
    }
    Ok(())
}

/// Stores the scenario `kind` of `report` as a proposal from the CLI user.
fn commit(
    args: &ScenariosArgs,
    kind: ScenarioKind,
    problem: &schedule::plant::PlantProblem,
    plan: Option<schedule::plant::PlantSchedule>,
    report: &ScenarioReport,
) -> anyhow::Result<Proposal> {
    let Some(chosen) = report.scenarios.iter().find(|s| s.scenario == kind) else {
        if let Some(skipped) = report.skipped.iter().find(|s| s.scenario == kind) {
            bail!(
                "--commit {kind}: the scenario was skipped: {}",
                skipped.reason
            );
        }
        if let Some(none) = report.none_found.iter().find(|s| s.scenario == kind) {
            bail!(
                "--commit {kind}: the scenario found no alternative to the plan: {}",
                none.reason
            );
        }
        let ran: Vec<&str> = report
            .scenarios
            .iter()
            .map(|s| s.scenario.as_str())
            .collect();
        bail!(
            "--commit {kind}: the scenario was not run (ran {}; add it to --scenarios)",
            ran.join(", ")
        );
    };
    let super::DataDir {
        settings,
        runtime,
        store,
    } = super::open_data(&args.data, super::Open::Existing)?;
    let app = super::govern::app_over(store, &settings.data_dir)?;
    let user = std::env::var("USER").unwrap_or_else(|_| "cli".to_owned());
    let proposer = Principal::new(user, PrincipalKind::Person, Role::Planner, Scope::All);
    let request = app::scenario::CommitRequest {
        problem: Some(problem.clone()),
        plan,
        scenario: chosen.into(),
        area: args.area.clone(),
        risk_runs: Some(args.risk_runs),
        duration_spread: Some(args.duration_spread),
        seed: args.seed,
    };
    runtime
        .block_on(app::scenario::commit(&app, &proposer, request))
        .with_context(|| {
            format!(
                "committing scenario {kind} to the store in {}",
                settings.data_dir.display()
            )
        })
}

fn print_commit(p: &Proposal) {
    println!(
        "\ncommitted as proposal {} ({}, area {}): {}",
        p.id, p.kind, p.area, p.title
    );
    let status = match p.status {
        Status::Proposed => format!(
            "waiting for {} approval(s) by {}: {}",
            p.gate.approvals,
            p.gate
                .approver_roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            p.gate.reasons.join("; ")
        ),
        Status::Applied => format!(
            "applied by itself ({}) through {}",
            p.applied.as_ref().map_or("", |o| o.by.as_str()),
            p.applied.as_ref().map_or("", |o| o.sink.as_str())
        ),
        Status::Approved => format!(
            "approved by the policy, not applied: the default sink refused it (audited as proposal.apply_failed); apply it with POST /v1/proposals/{}/apply {{\"sink\":\"file\"}}",
            p.id
        ),
        other => other.to_string(),
    };
    println!("  status: {status}");
    let before = &p.evidence.kpis_before;
    println!(
        "  {:<26} {:>12} {:>12} {:>12}",
        "kpi", "plan", "scenario", "delta"
    );
    for (name, after) in &p.evidence.kpis_after {
        match before.get(name) {
            Some(b) => println!("  {name:<26} {b:>12.3} {after:>12.3} {:>+12.3}", after - b),
            None => println!("  {name:<26} {:>12} {after:>12.3} {:>12}", "-", "-"),
        }
    }
    let count = |entity: &str| {
        p.diff
            .iter()
            .filter(|c| c.entity == entity)
            .map(|c| c.id.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    };
    println!(
        "  diff: {} change(s): {} order due date(s), {} calendar(s) with overtime, {} operation(s) moved",
        p.diff.len(),
        count("order"),
        count("unit") + count("pool"),
        count("operation")
    );
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
        "{:<4} {:<24} {:>6} {:>9} {:>8} {:>11} {:>5} {:>9} {:>8} {:>8} {:>7}",
        "rank",
        "scenario",
        "score",
        "makespan",
        "orders/d",
        "changeover",
        "late",
        "E[late]",
        "risk %",
        "overtime",
        "gap %"
    );
    for s in &report.scenarios {
        let k = &s.kpis;
        println!(
            "{:<4} {:<24} {:>6.3} {:>9} {:>8.2} {:>11.0} {:>5} {:>9.2} {:>8.1} {:>8} {:>7.1}",
            s.rank,
            s.scenario.as_str(),
            s.scores.total,
            k.makespan_minutes,
            k.throughput_orders_per_day,
            k.changeover_cost,
            k.late_orders,
            k.expected_late_orders,
            100.0 * k.on_time_risk,
            k.overtime_minutes,
            s.optimality.gap_percent
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
        println!("{}: {}", s.scenario, s.description);
        println!(
            "  objective {:.0}, lower bound {:.0}: at most {:.1} % from the best possible",
            s.optimality.objective, s.optimality.bound, s.optimality.gap_percent
        );
        if !risky.is_empty() {
            println!("  most at risk: {}", risky.join(", "));
        }
    }
    for s in &report.none_found {
        println!("no alternative from {}: {}", s.scenario, s.reason);
    }
    for s in &report.skipped {
        println!("skipped {}: {}", s.scenario, s.reason);
    }
}
