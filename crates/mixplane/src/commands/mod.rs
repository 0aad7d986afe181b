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
pub mod migrate_store;
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

/// Where a command's store is: a database URL when one is given, else the SQLite file of the
/// data directory (which keeps the policy and the sinks' files either way).
#[derive(Debug, Clone, Copy)]
pub struct StoreAt<'a> {
    pub data_dir: &'a Path,
    pub database: Option<&'a str>,
}

/// A database URL that holds no store, for a command that reads one.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0} holds no mixplane store; check --database, or create one with `mixplane demo`, `mixplane import` or `mixplane migrate-store`"
)]
pub struct NoStoreAt(pub String);

/// The one way a command opens its store.
pub fn open_store(
    runtime: &tokio::runtime::Runtime,
    at: StoreAt<'_>,
    open: Open,
) -> anyhow::Result<Arc<store::Store>> {
    if let Some(url) = at.database {
        let shown = store::redact_url(url);
        if open == Open::Existing {
            let found = runtime
                .block_on(store::Store::exists(url))
                .with_context(|| format!("looking for the store at {shown}"))?;
            if !found {
                return Err(NoStoreAt(shown).into());
            }
        } else {
            // The policy and the sinks' files stay in the data directory.
            std::fs::create_dir_all(at.data_dir)
                .with_context(|| format!("creating {}", at.data_dir.display()))?;
        }
        let started = std::time::Instant::now();
        let store = runtime
            .block_on(store::Store::open(url))
            .with_context(|| format!("opening the store at {shown}"))?;
        report_open(&store, started.elapsed());
        return Ok(Arc::new(store));
    }
    let path = at.data_dir.join(STORE_FILE);
    if open == Open::Existing && !path.is_file() {
        return Err(NoStore(at.data_dir.to_owned()).into());
    }
    let started = std::time::Instant::now();
    let store = runtime
        .block_on(store::Store::open_sqlite(&path))
        .with_context(|| format!("opening the store at {}", path.display()))?;
    report_open(&store, started.elapsed());
    Ok(Arc::new(store))
}

/// Logs how the store's state was loaded: from which snapshot, how many events were folded
/// and in what time. A snapshot not used is a warning (a full replay of a large log takes
/// minutes, and the operator should see why); a slow open is worth a line; a quick one is
/// debug detail, not a line on every command.
fn report_open(store: &store::Store, took: std::time::Duration) {
    let opened = store.opened();
    let seconds = took.as_secs_f64();
    let how = match opened.snapshot_seq {
        Some(seq) => format!(
            "from its snapshot at seq {seq} and {} events after it",
            opened.folded
        ),
        None => format!("by replaying {} events", opened.folded),
    };
    if let Some(why) = &opened.fallback {
        tracing::warn!("store opened in {seconds:.3} s {how}: its snapshot was not used ({why})");
    } else if seconds >= 1.0 {
        tracing::info!("store opened in {seconds:.3} s {how}");
    } else {
        tracing::debug!("store opened in {seconds:.3} s {how}");
    }
}

/// The use-cases over the store at `at`, with the policy and sinks of its data directory.
pub fn open_app(
    runtime: &tokio::runtime::Runtime,
    at: StoreAt<'_>,
    open: Open,
) -> anyhow::Result<app::App> {
    let store = open_store(runtime, at, open)?;
    govern::app_over(store, at.data_dir)
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
    let store = open_store(&runtime, settings.store_at(), open)?;
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

/// How a served node shares its plant with others (`mixplane serve --node`): none for a node
/// alone, which runs the plant's once-only work from the start.
#[derive(Debug, Clone, Default)]
pub struct Cluster {
    /// Take part in the election of the plant's leader: the connectors, the agents and the
    /// outbox run only while this node holds the lease.
    pub leader: Option<app::leader::LeaderSettings>,
    /// Publish every stored event to NATS JetStream.
    #[cfg(feature = "nats")]
    pub outbox: Option<::connect::outbox::OutboxSettings>,
}

/// Serves the API until Ctrl-C or SIGTERM, running the connectors and agents of `settings`.
pub fn serve_blocking(
    runtime: &tokio::runtime::Runtime,
    app: app::App,
    settings: &crate::config::Settings,
) -> anyhow::Result<()> {
    serve_cluster(runtime, app, settings, Cluster::default())
}

/// Serves the API as one node of `cluster` until Ctrl-C or SIGTERM.
pub fn serve_cluster(
    runtime: &tokio::runtime::Runtime,
    app: app::App,
    settings: &crate::config::Settings,
    cluster: Cluster,
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
        let mut state =
            server::AppState::from_app(app.clone()).with_limits(settings.limits.clone());
        // For work on the dashboard's files: served from this folder instead of the binary.
        if let Some(dir) = std::env::var_os(server::ui::UI_DIR_VAR) {
            state = state.with_ui_dir(dir.into());
        }
        let (stop_work, stop) = ::connect::stop_pair();
        let work = OnceOnly {
            app,
            settings: settings.clone(),
            agents: state.agents.clone(),
            #[cfg(feature = "nats")]
            outbox: cluster.outbox.clone(),
        };
        let leading = match cluster.leader.clone() {
            // Alone: the once-only work starts now; a connector that cannot start stops the
            // start.
            None => {
                let running = work.start(&stop).await?;
                tokio::spawn(async move {
                    running.finish().await;
                })
            }
            Some(leader) => tokio::spawn(work.lead(leader, stop.clone())),
        };
        let served = match tls {
            #[cfg(feature = "tls")]
            Some(tls) => server::serve_tls(listener, state, tls, shutdown_signal()).await,
            #[cfg(not(feature = "tls"))]
            Some(never) => match never {},
            None => server::serve(listener, state, shutdown_signal()).await,
        }
        .context("serving the API");
        // A graceful stop: each connector ends between two stores; a leader hands its lease
        // back.
        stop_work.stop();
        let _ = leading.await;
        // A clean stop leaves a snapshot of the state at the log's end, so that the next start
        // folds nothing (none is written when the stored one already is). Only a cache: a
        // failure is reported and changes nothing.
        if let Err(error) = store.write_snapshot_if_behind().await {
            eprintln!("warning: no state snapshot written at shutdown: {error}");
        }
        served
    })
}

/// The work that runs once per plant: connectors, agents, the outbox.
struct OnceOnly {
    app: app::App,
    settings: crate::config::Settings,
    agents: std::sync::Arc<std::sync::OnceLock<app::agents::live::AgentsHandle>>,
    #[cfg(feature = "nats")]
    outbox: Option<::connect::outbox::OutboxSettings>,
}

/// The once-only work running.
struct Running {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Waits for the tasks to end (after their stop was asked for).
    async fn finish(self) {
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

impl OnceOnly {
    async fn start(&self, stop: &::connect::Stop) -> anyhow::Result<Running> {
        let settings = &self.settings;
        let tasks = ::connect::service::start(
            &self.app,
            &settings.connectors,
            &::connect::Kinds::for_app(&self.app),
            stop,
        )
        .await
        .context("starting the connectors")?;
        for spec in &settings.connectors {
            println!(
                "connector    {} ({}) as {}, every {:?}",
                spec.name, spec.kind, spec.principal, spec.poll_interval
            );
        }
        if settings.agents.enabled && self.agents.get().is_none() {
            let agents = app::agents::live::start(self.app.clone(), settings.agents.clone());
            println!(
                "agents       repair, re-plan and improve the plan in force as events arrive (scope {})",
                settings.agents.scope
            );
            let _ = self.agents.set(agents);
        }
        #[cfg(feature = "nats")]
        let tasks = {
            let mut tasks = tasks;
            if let Some(outbox) = self.outbox.clone() {
                println!(
                    "outbox       every stored event to NATS {} stream {} ({}.TYPE)",
                    outbox.url, outbox.stream, outbox.subject
                );
                tasks.push(tokio::spawn(publish(
                    self.app.store.clone(),
                    outbox,
                    stop.clone(),
                )));
            }
            tasks
        };
        Ok(Running { tasks })
    }

    /// Waits for the plant's lease, runs the once-only work while it holds it, and hands it
    /// back at a graceful stop. A node that loses the lease while running exits: the fence
    /// already refuses its writes, and a restart makes it a follower again.
    async fn lead(self, leader: app::leader::LeaderSettings, mut stop: ::connect::Stop) {
        let store = self.app.store.clone();
        let lease = tokio::select! {
            lease = app::leader::acquire(&store, &leader) => lease,
            _ = stop.stopped() => return,
        };
        println!(
            "leader       node {} leads the plant (lease epoch {}, {:?})",
            leader.node, lease.epoch, leader.ttl
        );
        let running = match self.start(&stop).await {
            Ok(running) => running,
            Err(error) => {
                eprintln!(
                    "error: node {} cannot run the plant's work: {error:#}",
                    leader.node
                );
                app::leader::release(&store, &lease).await;
                std::process::exit(1);
            }
        };
        tokio::select! {
            lost = app::leader::hold(&store, &lease, &leader) => {
                eprintln!(
                    "error: node {} stopped leading the plant: {lost}; exiting so that it restarts as a follower",
                    leader.node
                );
                std::process::exit(75);
            }
            _ = stop.stopped() => {}
        }
        running.finish().await;
        app::leader::release(&store, &lease).await;
    }
}

/// Runs the outbox until the stop, starting again after a failure (from what the stream
/// holds, so nothing is skipped).
#[cfg(feature = "nats")]
async fn publish(
    store: std::sync::Arc<store::Store>,
    settings: ::connect::outbox::OutboxSettings,
    mut stop: ::connect::Stop,
) {
    loop {
        match ::connect::outbox::run(store.clone(), &settings, stop.clone()).await {
            Ok(()) => return,
            Err(error) => tracing::warn!(%error, "the outbox stopped; starting again in 1 s"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            _ = stop.stopped() => return,
        }
    }
}
