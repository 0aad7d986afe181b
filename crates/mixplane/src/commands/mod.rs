//! One module per subcommand, plus the helpers they share.

pub mod audit;
pub mod bench_plant;
pub mod demo;
pub mod govern;
pub mod import;
pub mod scenarios;
pub mod schedule;
pub mod serve;
pub mod sim;
pub mod spc;
pub mod token;
pub mod trace;
pub mod validate;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

/// The actor that CLI writes are audited under.
pub fn cli_actor() -> store::Actor {
    let user = std::env::var("USER").unwrap_or_else(|_| "cli".to_owned());
    store::Actor::person(user)
}

/// Opens (creating if needed) the store in `data_dir`.
pub fn open_store(
    runtime: &tokio::runtime::Runtime,
    data_dir: &Path,
) -> anyhow::Result<Arc<store::Store>> {
    let path = data_dir.join("mixplane.db");
    let store = runtime
        .block_on(store::Store::open_sqlite(&path))
        .with_context(|| format!("opening the store at {}", path.display()))?;
    Ok(Arc::new(store))
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

pub fn init_logging(level: tracing::Level) {
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Reads and parses a plant document, naming the line and column of a JSON error.
pub fn read_plant(path: &Path) -> anyhow::Result<model::Plant> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid plant document", path.display()))
}

/// Resolves when the process receives Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing open requests");
}

/// Serves the API until a shutdown signal.
pub fn serve_blocking(
    runtime: &tokio::runtime::Runtime,
    state: server::AppState,
    bind: &str,
) -> anyhow::Result<()> {
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("binding {bind}"))?;
        let address = listener.local_addr()?;
        println!("serving the API on http://{address} (Ctrl-C to stop)");
        println!(
            "  try: curl -H \"Authorization: Bearer $MIXPLANE_TOKEN\" 'http://{address}/v1/orders?mode=process&limit=5'"
        );
        server::serve(listener, state, shutdown_signal())
            .await
            .context("serving the API")
    })
}
