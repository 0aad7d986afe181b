//! `mixplane connect check`: each configured connector's health (its peer answers, its
//! principal may write events) and lag, from the config file's `[[connectors]]` and the
//! store's cursors. Exits 1 when a connector is unhealthy.

use std::time::Duration;

use anyhow::Context;

use crate::DataArgs;

#[derive(Debug, clap::Args)]
pub struct ConnectArgs {
    #[command(subcommand)]
    pub command: ConnectCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConnectCommand {
    /// Ask each configured connector's peer whether it answers, and print its health, stored
    /// cursor, lag and dead letters; exit 1 when one is unhealthy.
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Print the reports as one JSON array.
    #[arg(long)]
    pub json: bool,
    /// How long each peer may take to answer, in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub timeout_seconds: f64,
}

/// A connector that is not healthy (exit 1).
#[derive(Debug, thiserror::Error)]
#[error("{0} of the configured connectors are unhealthy")]
pub struct Unhealthy(pub usize);

pub fn run(args: ConnectArgs) -> anyhow::Result<()> {
    match args.command {
        ConnectCommand::Check(args) => check(args),
    }
}

fn check(args: CheckArgs) -> anyhow::Result<()> {
    let timeout = args.timeout_seconds;
    if !(timeout.is_finite() && timeout > 0.0 && timeout <= 3600.0) {
        anyhow::bail!("--timeout-seconds must be above 0 and at most 3600, not {timeout}");
    }
    let data = super::open_data(&args.data, super::Open::Existing)?;
    let app = app::App::new(data.store.clone());
    let specs = &data.settings.connectors;
    let reports = data
        .runtime
        .block_on(::connect::service::check(
            &app,
            specs,
            &::connect::Kinds::for_app(&app),
            Duration::from_secs_f64(timeout),
        ))
        .context("checking the connectors")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else if reports.is_empty() {
        println!("no connectors are configured (add [[connectors]] to the config file)");
    } else {
        println!(
            "{:<24} {:<8} {:<10} {:>12} {:>8}  CURSOR / ERROR",
            "NAME", "KIND", "HEALTH", "LAG", "DEAD"
        );
        for r in &reports {
            let lag = r
                .lag_seconds
                .map_or_else(|| "-".to_owned(), |s| format!("{s:.1} s"));
            let detail = match &r.error {
                Some(error) => error.clone(),
                None => r.cursor.clone().unwrap_or_else(|| "(none yet)".into()),
            };
            println!(
                "{:<24} {:<8} {:<10} {:>12} {:>8}  {detail}",
                r.name,
                r.kind,
                if r.healthy { "ok" } else { "unhealthy" },
                lag,
                r.dead_letters
            );
        }
    }
    let unhealthy = reports.iter().filter(|r| !r.healthy).count();
    if unhealthy > 0 {
        return Err(Unhealthy(unhealthy).into());
    }
    Ok(())
}
