//! One module per subcommand, plus the helpers they share.

pub mod audit;
pub mod bench;
pub mod bench_crash;
pub mod bench_load;
pub mod bench_plant;
pub mod bench_target;
pub mod connect;
pub mod demo;
pub mod door;
pub mod govern;
pub mod holds;
pub mod import;
pub mod isa95;
pub mod kpis;
pub mod live;
pub mod mcp;
pub mod mes_emulator;
pub mod nc;
pub mod planning;
pub mod proposals;
pub mod root_cause;
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
    store::actor_of(&cli_principal())
}

/// The principal the CLI acts as in scoped use-cases: the local user, unrestricted (whoever
/// runs the binary on the database file reaches all of it anyway).
pub fn cli_principal() -> ::govern::Principal {
    let user = std::env::var("USER").unwrap_or_else(|_| "cli".to_owned());
    app::scope::local_principal(&user)
}

/// The file of the store in a data directory.
pub const STORE_FILE: &str = "mixplane.db";

/// Whether a command may create the store it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// The command reads data: a directory without a store is an error naming it (a typo in
    /// `--data-dir` must not pass for an empty, intact store).
    Existing,
    /// The command creates data (demo, import, token create, serve): the store is created
    /// when the directory has none.
    OrCreate,
}

/// A data directory that holds no store, for a command that reads one.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} holds no mixplane store (no {STORE_FILE}); check --data-dir, or create one with `mixplane demo` or `mixplane import`",
    .0.display()
)]
pub struct NoStore(pub std::path::PathBuf);

/// The one way a command opens the store in `data_dir`.
pub fn open_store(
    runtime: &tokio::runtime::Runtime,
    data_dir: &Path,
    open: Open,
) -> anyhow::Result<Arc<store::Store>> {
    let path = data_dir.join(STORE_FILE);
    if open == Open::Existing && !path.is_file() {
        return Err(NoStore(data_dir.to_owned()).into());
    }
    let store = runtime
        .block_on(store::Store::open_sqlite(&path))
        .with_context(|| format!("opening the store at {}", path.display()))?;
    Ok(Arc::new(store))
}

/// The use-cases over the store in `data_dir`, with its policy and sinks.
pub fn open_app(
    runtime: &tokio::runtime::Runtime,
    data_dir: &Path,
    open: Open,
) -> anyhow::Result<app::App> {
    let store = open_store(runtime, data_dir, open)?;
    govern::app_over(store, data_dir)
}

/// What a command that works on stored data starts from: its settings, a runtime and the
/// store named by its `--data-dir`/`--config`.
pub struct DataDir {
    pub settings: crate::config::Settings,
    pub runtime: tokio::runtime::Runtime,
    pub store: Arc<store::Store>,
}

/// Resolves a command's data arguments and opens its store, the one way every command does.
pub fn open_data(data: &crate::DataArgs, open: Open) -> anyhow::Result<DataDir> {
    let settings = crate::config::resolve(data, None)?;
    let runtime = runtime()?;
    let store = open_store(&runtime, &settings.data_dir, open)?;
    Ok(DataDir {
        settings,
        runtime,
        store,
    })
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Logs to stderr at `settings`' level and format (see [`crate::logging`]).
pub fn init_logging(settings: &crate::config::Settings) {
    crate::logging::init(settings.log_level, settings.log_format);
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

/// The TLS configuration `[server.tls]` names, read and checked.
#[cfg(feature = "tls")]
fn tls_of(settings: &crate::config::Settings) -> anyhow::Result<Option<server::tls::Tls>> {
    settings
        .tls
        .as_ref()
        .map(|files| server::tls::Tls::from_pem_files(&files.cert_file, &files.key_file))
        .transpose()
        .context("config [server.tls]")
}

/// Without the `tls` feature, a `[server.tls]` section is refused rather than ignored: the
/// operator asked for HTTPS and must not get plain HTTP unawares.
#[cfg(not(feature = "tls"))]
fn tls_of(settings: &crate::config::Settings) -> anyhow::Result<Option<std::convert::Infallible>> {
    if let Some(files) = &settings.tls {
        anyhow::bail!(
            "config [server.tls] names `{}` and `{}`, but this mixplane was built without TLS; build it with `--features tls`, or terminate TLS in a reverse proxy (README, \"TLS\")",
            files.cert_file.display(),
            files.key_file.display()
        );
    }
    Ok(None)
}

/// Serves the API until a shutdown signal.
pub fn serve_blocking(
    runtime: &tokio::runtime::Runtime,
    app: app::App,
    settings: &crate::config::Settings,
) -> anyhow::Result<()> {
    let bind = settings.bind.as_str();
    // Read before binding, so that a bad certificate stops the start with nothing served.
    let tls = tls_of(settings)?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("binding {bind}"))?;
        let address = listener.local_addr()?;
        println!("serving the API on {scheme}://{address} (Ctrl-C to stop)");
        println!(
            "  try: MIXPLANE_TOKEN=mxp_… mixplane proposals list --server {scheme}://{address}"
        );
        println!("  dashboard: open {scheme}://{address}/ in a browser and sign in with a token");
        let store = app.store.clone();
        let (stop_connectors, stop) = ::connect::stop_pair();
        let connectors =
            ::connect::service::start(&app, &settings.connectors, &::connect::Kinds::for_app(&app), &stop)
                .await
                .context("starting the connectors")?;
        for spec in &settings.connectors {
            println!(
                "connector    {} ({}) as {}, every {:?}",
                spec.name, spec.kind, spec.principal, spec.poll_interval
            );
        }
        let mut state = server::AppState::from_app(app.clone()).with_limits(settings.limits.clone());
        // For work on the dashboard's files: served from this folder instead of the binary.
        if let Some(dir) = std::env::var_os(server::ui::UI_DIR_VAR) {
            state = state.with_ui_dir(dir.into());
        }
        if settings.agents.enabled {
            let agents = app::agents::live::start(app, settings.agents.clone());
            println!(
                "agents       repair, re-plan and improve the plan in force as events arrive (scope {})",
                settings.agents.scope
            );
            state = state.with_agents(agents);
        }
        let served = match tls {
            #[cfg(feature = "tls")]
            Some(tls) => server::serve_tls(listener, state, tls, shutdown_signal()).await,
            #[cfg(not(feature = "tls"))]
            Some(never) => match never {},
            None => server::serve(listener, state, shutdown_signal()).await,
        }
        .context("serving the API");
        // A graceful stop: each connector ends between two stores.
        stop_connectors.stop();
        for task in connectors {
            let _ = task.await;
        }
        // A clean stop leaves a snapshot of the state at the log's end, so that the next start
        // folds nothing. Only a cache: a failure is reported and changes nothing.
        if let Err(error) = store.write_snapshot().await {
            eprintln!("warning: no state snapshot written at shutdown: {error}");
        }
        served
    })
}
