//! The demo's live plant, as the CLI runs it: the history is the first `--days` of a longer
//! simulator run (`app::live_sim::LivePlant`), advanced with a progress bar; while the demo
//! serves, the same run goes on at `--speed` through `app::live_sim`.

use std::sync::Arc;

use anyhow::Context;
use model::{Event, Timestamp};

use crate::progress::ProgressBar;

/// Plant days the live run goes on past the history (fewer when the year bound is near).
pub const LIVE_DAYS: f64 = 30.0;

/// Drifts drawn from the seed in the live part, per 30 plant days.
pub const LIVE_DRIFTS_PER_MONTH: f64 = 4.0;

/// The history's run made longer: the same seed and plan, `LIVE_DAYS` more days, and drifts
/// drawn only past the history (so the history is the one `--speed 0` stores).
pub fn live_options(history: &sim::SimOptions) -> sim::SimOptions {
    sim::SimOptions {
        days: (history.days + LIVE_DAYS).min(366.0),
        drifts_per_month: LIVE_DRIFTS_PER_MONTH,
        drifts_from_day: history.days,
        ..history.clone()
    }
}

/// Starts the live run and advances it to the end of the history: the history's events
/// and the plant, ready to go on.
pub fn history(
    runtime: &tokio::runtime::Runtime,
    catalog: &model::Catalog,
    history: &sim::SimOptions,
    plan: &sim::Plan,
) -> anyhow::Result<(Vec<Event>, app::live_sim::LivePlant)> {
    let plant = app::live_sim::LivePlant::start(
        Arc::new(catalog.clone()),
        live_options(history),
        Some(plan.clone()),
    )
    .context("starting the live plant")?;
    let end = Timestamp(history.start.0 + (history.days * 86_400_000.0).round() as i64);
    let mut bar = ProgressBar::new("simulating");
    let mut events = Vec::new();
    let mut t = history.start;
    while t < end {
        t = Timestamp((t.0 + 3_600_000).min(end.0));
        let (batch, _) = runtime
            .block_on(plant.advance_to(t))
            .context("simulating the history")?;
        events.extend(batch);
        let fraction = (t.0 - history.start.0) as f64 / (end.0 - history.start.0).max(1) as f64;
        bar.set(
            fraction,
            &format!(
                "day {:.1}/{} · {} events",
                fraction * history.days,
                history.days,
                events.len()
            ),
        );
    }
    bar.finish(&format!("done: {} events", events.len()));
    Ok((events, plant))
}

/// Starts the live plant on `runtime`, from the end of the history, and prints what it does.
pub fn go_live(
    runtime: &tokio::runtime::Runtime,
    app: &app::App,
    plant: app::live_sim::LivePlant,
    from: Timestamp,
    speed: f64,
) -> app::live_sim::LiveHandle {
    let end = plant.end();
    let drifts = plant.drifts().len();
    if let Some(catalog) = runtime.block_on(app.store.plant()) {
        app.know_drifts(plant.known_drifts(&catalog));
    }
    let config = app::live_sim::LiveConfig {
        speed,
        ..app::live_sim::LiveConfig::default()
    };
    println!(
        "live plant   runs on at ×{speed} from {from} to {end} (a wall second is {} of plant time): \
         breakdowns, rush orders and {drifts} drifts from the seed; its events enter as `{}`, and \
         approved dispatches change what it does next",
        plant_duration(speed),
        app::live_sim::SIMULATOR
    );
    let _entered = runtime.enter();
    app::live_sim::spawn(app::live_sim::LiveDriver::new(
        app.clone(),
        plant,
        from,
        config,
    ))
}

/// What the live plant did, in one line.
pub fn status_line(status: &app::live_sim::LiveStatus) -> String {
    format!(
        "live plant   reached {} ({}): {} events ingested, {} replans from dispatches ({} operations moved, {} left as they were), {} events refused",
        status.plant_time,
        match (&status.failed, status.finished) {
            (Some(why), _) => format!("failed: {why}"),
            (None, true) => "the end of its run".to_owned(),
            (None, false) => "stopped".to_owned(),
        },
        status.events_ingested,
        status.replans,
        status.dispatches_applied,
        status.dispatches_skipped,
        status.events_rejected
    )
}

/// A wall second of plant time, in words.
fn plant_duration(speed: f64) -> String {
    if speed >= 3600.0 {
        format!("{:.1} h", speed / 3600.0)
    } else if speed >= 60.0 {
        format!("{:.1} min", speed / 60.0)
    } else {
        format!("{speed:.1} s")
    }
}
