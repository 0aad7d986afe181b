//! `mixplane serve`: serve the API over an existing data directory.

use crate::DataArgs;
use crate::config;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Address to listen on [default: the config file's [server] bind, else 127.0.0.1:8080]
    #[arg(long, env = "MIXPLANE_BIND")]
    pub bind: Option<String>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let settings = config::resolve(&args.data, args.bind.clone())?;
    super::init_logging(&settings);
    let runtime = super::runtime()?;
    let store = super::open_store(&runtime, &settings.data_dir, super::Open::OrCreate)?;
    let app = super::govern::app_with_sinks(store, &settings)?;
    if runtime.block_on(app.store.plant()).is_none() {
        tracing::warn!(
            "the store holds no plant yet; run `mixplane demo` or `mixplane import` first"
        );
    }
    super::serve_blocking(&runtime, app, &settings)
}
