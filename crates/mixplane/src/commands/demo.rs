//! `mixplane demo`: recreate the demo data from the reference plant, simulate it, store the
//! events, put the engine's plan of the plant as it is now in force and dispatch it, print a
//! plant summary and serve the API with the live agents, while the simulator runs the plant
//! on live at `--speed` (`commands::live`; `--speed 0` keeps the store static).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use anyhow::Context;
use model::{Mode, OrderStatus, PlantState};
use serde_json::json;

use crate::DataArgs;
use crate::config;
use crate::progress::ProgressBar;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Simulated days.
    #[arg(long, default_value_t = 14.0)]
    pub days: f64,
    /// Seed of the simulation and of the engine's plan (the same seed, the same demo).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Address to listen on [default: the config file's [server] bind, else 127.0.0.1:8080]
    #[arg(long, env = "MIXPLANE_BIND")]
    pub bind: Option<String>,
    /// Exit after printing the summary instead of serving.
    #[arg(long)]
    pub no_serve: bool,
    /// Plant time per wall time while serving: the simulator runs the plant on from the end
    /// of the history (60: a wall second is a plant minute); 0 keeps the store static.
    #[arg(long, default_value_t = 60.0)]
    pub speed: f64,
    /// Print the summary as one JSON document instead of text (needs --no-serve: a serving
    /// demo goes on printing what it does).
    #[arg(long, requires = "no_serve")]
    pub json: bool,
}

const BATCH: usize = 2000;

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let settings = config::resolve(&args.data, args.bind.clone())?;
    super::init_logging(&settings);
    anyhow::ensure!(
        args.days > 0.0 && args.days <= 366.0,
        "--days must be in (0, 366], got {}",
        args.days
    );
    anyhow::ensure!(
        args.speed.is_finite() && (0.0..=1_000_000.0).contains(&args.speed),
        "--speed must be in [0, 1000000] (plant time per wall time; 0 keeps the store static), got {}",
        args.speed
    );
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "creating the data directory {}",
            settings.data_dir.display()
        )
    })?;

    // Governance first: an admin token to call the API with, and the policy in force.
    let runtime = super::runtime()?;
    let store = super::open_store(&runtime, settings.store_at(), super::Open::OrCreate)?;
    let token = runtime.block_on(super::govern::demo_admin_token(&store))?;
    let (_, policy_written) = super::govern::load_policy(&settings.data_dir)?;
    let policy_path = super::govern::policy_path(&settings.data_dir);
    if !args.json {
        println!("admin token  {token}");
        println!(
            "             (shown once, stored only as a hash; send it as `Authorization: Bearer <token>`)"
        );
        println!(
            "policy       {}{}",
            policy_path.display(),
            if policy_written {
                " (written from the default: autonomy per action kind and area, approvers, thresholds)"
            } else {
                " (yours: autonomy per action kind and area, approvers, thresholds)"
            }
        );
    }

    let catalog = model::Catalog::new(sim::reference_plant())
        .map_err(|e| anyhow::anyhow!("reference plant: {e}"))?;
    let options = sim::SimOptions {
        days: args.days,
        seed: args.seed,
        ..sim::SimOptions::default()
    };
    let (plan, schedule_summary) = super::planning::engine_plan(&catalog, &options, 3.0)?;
    // --- live plant (issue #13): with --speed > 0 the history is the first --days of a
    // longer run that goes on live while the demo serves (the same events as a static run).
    let (events, live_plant) = if args.speed > 0.0 {
        let (events, plant) = super::live::history(&runtime, &catalog, &options, &plan)?;
        (events, Some(plant))
    } else {
        let output = super::planning::simulate_planned(&catalog, &options, &plan)?;
        (output.events, None)
    };
    // --- end live plant

    let actor = super::cli_actor();
    runtime.block_on(async {
        store
            .reset(&actor)
            .await
            .context("clearing the previous demo data")?;
        store
            .put_plant(catalog.plant().clone(), &actor)
            .await
            .context("storing the reference plant")?;
        let mut bar = ProgressBar::new("storing   ");
        let total = events.len().max(1);
        for (index, chunk) in events.chunks(BATCH).enumerate() {
            store
                .append(chunk, &actor)
                .await
                .context("storing simulated events")?;
            let done = (index * BATCH + chunk.len()).min(total);
            bar.set(done as f64 / total as f64, &format!("{done} events"));
        }
        bar.finish(&format!("stored {} events", events.len()));
        anyhow::Ok(())
    })?;

    let state = runtime.block_on(store.state());
    if !args.json {
        print!("{}", summary(&catalog, &state, args.days, args.seed));
        print!("{schedule_summary}");
    }
    let app = super::govern::app_over(store.clone(), &settings.data_dir)?;
    // The plan in force first (the what-ifs, agents and proposals start from it) — when the
    // plant runs live, sent to the MES as its dispatch list so the simulated plant follows
    // it; then the demo's proposals and the quality agent's holds, which go through the same
    // governance.
    let plan = runtime.block_on(super::govern::demo_plan(&app, args.seed))?;
    let dispatched = if live_plant.is_some() && !args.no_serve {
        runtime
            .block_on(super::govern::dispatch_plan(&app, &plan))
            .context("dispatching the plan in force")?
    } else {
        0
    };
    let quiet = args.json;
    let say = |line: String| {
        if !quiet {
            println!("{line}");
        }
    };
    say(format!(
        "Plan in force      version {} from {}: {} operations ({dispatched} dispatched to the MES), {} late orders, makespan {} min (GET /v1/schedule)",
        plan.header.version,
        plan.header.horizon_start,
        plan.schedule.assignments.len(),
        plan.kpis.late_orders,
        plan.kpis.makespan
    ));
    let trigger = events.last().map(|e| e.id.to_string());
    let proposals = runtime
        .block_on(super::govern::demo_proposals(&app, trigger.as_deref()))
        .context("proposing the demo's changes")?;
    let quality = runtime.block_on(async {
        app::quality::enforce_app(&app).await?;
        store.quality_counts().await
    });
    let quality = quality.context("judging the quality results")?;
    say(format!(
        "Quality            {} alerts, {} holds, {} open nonconformances (enterprise SPC policy; holds proposed by the quality agent under the policy)",
        quality.alerts, quality.holds_active, quality.nonconformances_open
    ));
    say(format!(
        "data in {} · demo took {:.1} s",
        settings.data_dir.display(),
        started.elapsed().as_secs_f64()
    ));
    if args.json {
        let plan = json!({
            "version": plan.header.version,
            "horizon_start": plan.header.horizon_start,
            "operations": plan.schedule.assignments.len(),
            "dispatched": dispatched,
            "kpis": plan.kpis,
        });
        let quality = json!({
            "alerts": quality.alerts,
            "holds_active": quality.holds_active,
            "nonconformances_open": quality.nonconformances_open,
        });
        return super::door::print_json(&json!({
            "admin_token": token,
            "policy": {"path": policy_path, "written_from_default": policy_written},
            "plant": summary_json(&catalog, &state, args.days, args.seed),
            "plan_in_force": plan,
            "quality": quality,
            "proposals": proposals,
            "data_dir": settings.data_dir,
            "seconds": started.elapsed().as_secs_f64(),
        }));
    }
    print!(
        "{}",
        super::govern::summary(&token, &proposals, &settings.bind)
    );
    if args.no_serve {
        return Ok(());
    }
    // --- live plant (issue #13): the run goes on from the end of the history while serving.
    let live = live_plant.map(|plant| {
        let from = model::Timestamp(options.start.0 + (options.days * 86_400_000.0).round() as i64);
        super::live::go_live(&runtime, &app, plant, from, args.speed)
    });
    let served = super::serve_blocking(&runtime, app, &settings);
    if let Some(live) = live {
        println!("{}", super::live::status_line(&live.status()));
    }
    // --- end live plant
    served
}

/// The plant summary of `demo --json`: what [`summary`] prints, as data.
fn summary_json(
    catalog: &model::Catalog,
    state: &PlantState,
    days: f64,
    seed: u64,
) -> serde_json::Value {
    let mut orders: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for order in state.orders.values() {
        *orders
            .entry(order.mode.as_str())
            .or_default()
            .entry(order.status.as_str())
            .or_default() += 1;
    }
    let produced_lots = state
        .lots
        .values()
        .filter(|l| l.produced_by.is_some())
        .count();
    json!({
        "site": catalog.plant().site.name,
        "days": days,
        "seed": seed,
        "orders_by_mode_and_status": orders,
        "work_centers": app::plant::work_center_views(catalog.plant(), state),
        "events_stored": state.events_applied,
        "quality_results": state.quality_results.values().sum::<u64>(),
        "characteristics": state.quality_results.len(),
        "lots": state.lots.len(),
        "lots_produced": produced_lots,
        "serials": state.serials.len(),
    })
}

/// The plant summary printed after the simulation.
pub fn summary(catalog: &model::Catalog, state: &PlantState, days: f64, seed: u64) -> String {
    let plant = catalog.plant();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{} — {days} simulated days, seed {seed}",
        plant.site.name
    );
    let _ = writeln!(out, "\nOrders by mode and status");
    let mut counts: BTreeMap<(Mode, OrderStatus), usize> = BTreeMap::new();
    for order in state.orders.values() {
        *counts.entry((order.mode, order.status)).or_default() += 1;
    }
    let _ = write!(out, "  {:<12}", "mode");
    for status in OrderStatus::ALL {
        let _ = write!(out, "{:>12}", status.as_str());
    }
    let _ = writeln!(out, "{:>8}", "total");
    for &mode in Mode::ALL {
        let _ = write!(out, "  {:<12}", mode.as_str());
        let mut total = 0;
        for &status in OrderStatus::ALL {
            let n = counts.get(&(mode, status)).copied().unwrap_or(0);
            total += n;
            let _ = write!(out, "{n:>12}");
        }
        let _ = writeln!(out, "{total:>8}");
    }
    let _ = writeln!(out, "\nUtilisation per work center (share of time running)");
    for wc in app::plant::work_center_views(plant, state) {
        let bar = "#".repeat((wc.utilisation * 20.0).round() as usize);
        let _ = writeln!(
            out,
            "  {:<32} {:<10} {:>5.1}%  {bar}",
            wc.name,
            wc.mode.as_str(),
            wc.utilisation * 100.0
        );
    }
    let quality: u64 = state.quality_results.values().sum();
    let produced_lots = state
        .lots
        .values()
        .filter(|l| l.produced_by.is_some())
        .count();
    let _ = writeln!(out, "\nEvents stored      {}", state.events_applied);
    let _ = writeln!(
        out,
        "Quality results    {quality} over {} characteristics",
        state.quality_results.len()
    );
    let _ = writeln!(
        out,
        "Lots               {} ({produced_lots} produced here, {} purchased)",
        state.lots.len(),
        state.lots.len() - produced_lots
    );
    let _ = writeln!(out, "Serials            {}", state.serials.len());
    out
}
