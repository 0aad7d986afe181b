//! `mixplane import`: load events from JSON Lines into the store, in atomic batches.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::Context;

use crate::DataArgs;
use crate::config;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// JSON Lines file: one event per line.
    pub events: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// Plant to load when the store has none yet [default: the reference plant]
    #[arg(long)]
    pub plant: Option<PathBuf>,
    /// Events per atomic batch.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// Print one JSON object: events inserted, already stored, and the data directory.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    let settings = config::resolve(&args.data, None)?;
    super::init_logging(&settings);
    anyhow::ensure!(args.batch > 0, "--batch must be at least 1");
    let file = std::fs::File::open(&args.events)
        .with_context(|| format!("opening {}", args.events.display()))?;
    let mut events = Vec::new();
    for (number, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line =
            line.with_context(|| format!("reading {} line {}", args.events.display(), number + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let event: model::Event = serde_json::from_str(&line).with_context(|| {
            format!(
                "{} line {}: not a valid event",
                args.events.display(),
                number + 1
            )
        })?;
        events.push(event);
    }
    let runtime = super::runtime()?;
    let store = super::open_store(&runtime, settings.store_at(), super::Open::OrCreate)?;
    let actor = super::cli_actor();
    if runtime.block_on(store.plant()).is_none() {
        let catalog = super::sim::load_catalog(args.plant.as_ref())?;
        runtime.block_on(store.put_plant(catalog.plant().clone(), &actor))?;
    }
    let (mut inserted, mut duplicates) = (0, 0);
    for (index, chunk) in events.chunks(args.batch).enumerate() {
        let outcome = runtime
            .block_on(store.append(chunk, &actor))
            .with_context(|| {
                format!(
                    "batch {} (events {} to {})",
                    index + 1,
                    index * args.batch + 1,
                    index * args.batch + chunk.len()
                )
            })?;
        inserted += outcome.inserted;
        duplicates += outcome.duplicates;
    }
    if args.json {
        let answer = serde_json::json!({
            "inserted": inserted,
            "duplicates": duplicates,
            "data_dir": settings.data_dir.display().to_string(),
        });
        println!("{answer}");
    } else {
        println!(
            "imported {inserted} new events ({duplicates} already stored) into {}",
            settings.data_dir.display()
        );
    }
    Ok(())
}
