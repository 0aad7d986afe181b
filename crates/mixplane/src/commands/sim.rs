//! `mixplane sim`: simulate a plant and write its events as JSON Lines.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;

use crate::progress::ProgressBar;

#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Plant document to simulate [default: the built-in reference plant]
    #[arg(long)]
    pub plant: Option<PathBuf>,
    /// Simulated days.
    #[arg(long, default_value_t = 14.0)]
    pub days: f64,
    /// Seed: the same plant, seed and options give byte-identical events.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Write events here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the ground truth (injected faults and drifts) here as JSON.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Simulation options as JSON (breakdowns, drifts, …), overriding the defaults.
    #[arg(long)]
    pub options: Option<PathBuf>,
}

/// Loads the plant named on the command line, or the reference plant.
pub fn load_catalog(plant: Option<&PathBuf>) -> anyhow::Result<model::Catalog> {
    let plant = match plant {
        Some(path) => super::read_plant(path)?,
        None => sim::reference_plant(),
    };
    model::Catalog::new(plant).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Runs the simulator with a progress bar on stderr.
pub fn simulate(
    catalog: &model::Catalog,
    options: &sim::SimOptions,
) -> anyhow::Result<sim::SimOutput> {
    let mut bar = ProgressBar::new("simulating");
    let days = options.days;
    let output = sim::simulate(catalog, options, None, |p: sim::Progress| {
        bar.set(
            p.fraction,
            &format!("day {:.1}/{days} · {} events", p.fraction * days, p.events),
        );
    })
    .context("simulation failed")?;
    bar.finish(&format!("done: {} events", output.events.len()));
    Ok(output)
}

pub fn run(args: SimArgs) -> anyhow::Result<()> {
    let catalog = load_catalog(args.plant.as_ref())?;
    let mut options = match &args.options {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not valid simulation options", path.display()))?
        }
        None => sim::SimOptions::default(),
    };
    anyhow::ensure!(
        args.days > 0.0 && args.days <= 366.0,
        "--days must be in (0, 366], got {}",
        args.days
    );
    options.days = args.days;
    options.seed = args.seed;
    let output = simulate(&catalog, &options)?;
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut sink = BufWriter::new(sink);
    for event in &output.events {
        serde_json::to_writer(&mut sink, event)?;
        sink.write_all(b"\n")?;
    }
    sink.flush()?;
    if let Some(path) = &args.truth {
        let text = serde_json::to_string_pretty(&output.truth)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.out {
        eprintln!("wrote {} events to {}", output.events.len(), path.display());
    }
    Ok(())
}
