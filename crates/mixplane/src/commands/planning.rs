//! The demo's plan, as the CLI shows it: the engine's schedule of the reference plant
//! (`app::plan`) with a progress bar and a KPI summary, the planner's view of it, and the
//! simulator run on it.

use std::fmt::Write as _;
use std::time::Instant;

use anyhow::Context;

use crate::progress::ProgressBar;

/// The engine's plan of the plant's order book for `options`, searched for `seconds`, and
/// a summary of its KPIs, bottlenecks and what-ifs to print.
pub fn engine_plan(
    catalog: &model::Catalog,
    options: &sim::SimOptions,
    seconds: f64,
) -> anyhow::Result<(sim::Plan, String)> {
    let started = Instant::now();
    let mut bar = ProgressBar::new("scheduling");
    let planned = app::plan::engine_plan(catalog, options, seconds, &mut |fraction, objective| {
        bar.set(fraction, &format!("objective {objective:.0}"));
    })
    .context("scheduling the plant's order book")?;
    let k = &planned.kpis;
    bar.finish(&format!("objective {:.0}", k.objective));
    let mut summary = format!(
        "Schedule (mixed-mode engine: {} operations, solved in {:.1} s, {} improving iterations)\n  \
         makespan {:.1} days, {} late orders (weighted tardiness {:.0} min), {} changeovers ({} min, cost {:.0}), {} CIPs, utilisation {:.1}%\n  \
         objective {:.0} (first feasible {:.0}); the simulator runs this plan\n",
        planned.problem.operations.len(),
        started.elapsed().as_secs_f64(),
        planned.iterations,
        k.makespan as f64 / 1440.0,
        k.late_orders,
        k.weighted_tardiness,
        k.changeovers,
        k.changeover_minutes,
        k.changeover_cost,
        k.cips,
        k.utilization_percent,
        k.objective,
        planned.initial_score.total,
    );
    // Each what-if searches for 0.4 s from the plan.
    let view = app::plan::planner_view(&planned.problem, &planned.schedule, options.seed, 0.4)?;
    summary += &planner_view(&view);
    Ok((planned.plan, summary))
}

/// The planner's view as text: the top bottleneck unit and pool, and the ranked what-ifs.
fn planner_view(view: &app::plan::PlannerView) -> String {
    let mut out = String::new();
    let e = &view.explanation;
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
    let _ = writeln!(
        out,
        "Scenarios from this plan (ranked by throughput, changeover cost and on-time risk; `mixplane schedule scenarios` for more)"
    );
    for s in &view.scenarios.scenarios {
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
            if k.overtime_minutes > 0 {
                format!(", {} min overtime", k.overtime_minutes)
            } else {
                String::new()
            }
        );
    }
    for (what, list) in [
        ("no alternative", &view.scenarios.none_found),
        ("does not apply", &view.scenarios.skipped),
    ] {
        for s in list {
            let _ = writeln!(out, "     {:<23} {what}: {}", s.scenario.as_str(), s.reason);
        }
    }
    out
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
