//! `mixplane bench crash`: `kill -9` trials of `mixplane serve` during ingest.
//!
//! Each trial kills the server with SIGKILL in the middle of ingest, starts it again on the
//! same data directory and checks what the Durability section of ARCHITECTURE.md promises:
//!
//! - `http`: clients post batches of fresh events; a batch whose 2xx answer reached its client
//!   is *acknowledged*. The kill comes after a drawn number of acknowledgements plus a drawn
//!   delay, so it lands anywhere in the next batches' parsing, folding, writing or commit.
//!   After the restart every acknowledged event is stored with its content; every batch sent
//!   is stored whole or not at all (nothing half-written); no event is stored twice, and an
//!   acknowledged batch sent again is answered as duplicates only.
//! - `connector`: a `jsonl` connector tails a feed file the trial appends to; the events the
//!   server reported stored (`GET /healthz`) before the kill are the acknowledged ones. The
//!   kill comes when a drawn number of the feed's events is stored; after the restart the
//!   connector resumes from the cursor it committed with its last batch, and every line of the
//!   feed must end up stored exactly once (a cursor ahead of the log would lose events, one
//!   behind it would store them twice).
//!
//! After every trial `mixplane audit verify` runs on the trial's store.
//!
//! On SQLite (the default) the trials of a kind share the kind's data directory: the first
//! server of a trial is the restarted one of the trial before, so restarts are on a growing
//! log. On PostgreSQL (`--database postgres://…`) each trial gets a fresh schema of that
//! database (`crash_<run>_<kind>_<trial>`) and a data directory of its own, so no two trials
//! share a row; every process of the trial (the store's preparation, each `mixplane serve`
//! with its connector, `audit verify`) is given the same URL with `--database`, and the checks
//! after the kill and the restart are the same. The schemas are dropped at the end when every
//! trial passed (and no `--data-dir` was given), and kept for a look otherwise.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use model::rng::Rng;
use model::{Event, Timestamp};
use serde::Serialize;

use super::StoreAt;
use super::bench_target::{Api, Batch, EventGen, ServeProcess, drop_schemas, mixplane, nonce};

/// The principal the trials' connector stores as.
const CONNECTOR_PRINCIPAL: &str = "connector-crash";
/// How long a trial waits for ingest to reach its kill point, or the feed to be stored.
const PATIENCE: Duration = Duration::from_secs(120);
/// Connector batches in one trial's feed.
const FEED_BATCHES: usize = 20;

#[derive(Debug, clap::Args)]
pub struct CrashArgs {
    /// Trials of each kind.
    #[arg(long, default_value_t = 100)]
    pub trials: usize,
    /// Where the server ingests when it is killed [default: both, one after the other]
    #[arg(long, value_enum)]
    pub kind: Option<CrashKind>,
    /// Directory for the trials' data directories (one per kind) [default: a temporary
    /// directory, removed afterwards unless a trial failed].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Run the trials on PostgreSQL: `postgres://USER@HOST/DB`. Each trial's store is a fresh
    /// schema of that database (any `schema=` in the URL is replaced), dropped afterwards
    /// when every trial passed and no --data-dir is given [default: SQLite, the data
    /// directory's file].
    #[arg(long)]
    pub database: Option<String>,
    /// Events per HTTP batch, and lines per connector batch.
    #[arg(long, default_value_t = 200)]
    pub batch: usize,
    /// Concurrent HTTP clients posting batches.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Seed of the kill points (the same seed, the same draws).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object instead of the summary.
    #[arg(long)]
    pub json: bool,
}

/// Where the server is ingesting when it is killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CrashKind {
    /// `POST /v1/events` from concurrent clients.
    Http,
    /// A `jsonl` connector tailing a file.
    Connector,
}

impl CrashKind {
    fn name(self) -> &'static str {
        match self {
            CrashKind::Http => "http",
            CrashKind::Connector => "connector",
        }
    }
}

/// What the trials of one kind found. Every count but `trials`, `killed_mid_ingest` and
/// `acknowledged_events` should be zero.
#[derive(Debug, Default, Serialize)]
pub struct KindReport {
    pub kind: Option<CrashKind>,
    /// The store's backend: `sqlite` or `postgres`.
    pub backend: &'static str,
    pub trials: usize,
    /// Trials whose kill came while events were still being ingested.
    pub killed_mid_ingest: usize,
    pub acknowledged_events: u64,
    /// Acknowledged events missing after the restart (connector: lines of the feed never
    /// stored).
    pub lost_events: u64,
    /// Batches stored in part.
    pub half_written_batches: u64,
    /// Events stored more than once, or an acknowledged batch stored again when resent.
    pub duplicate_events: u64,
    /// Events stored with content other than what was sent, or that nobody sent.
    pub mismatched_events: u64,
    /// Trials after which `mixplane audit verify` failed.
    pub audit_failures: u64,
    /// Trials that could not be run or checked (server refused a valid batch, did not
    /// restart, ...).
    pub trial_errors: u64,
    /// The first failures, verbatim.
    pub failures: Vec<String>,
    pub seconds: f64,
}

impl KindReport {
    fn passed(&self) -> bool {
        self.lost_events == 0
            && self.half_written_batches == 0
            && self.duplicate_events == 0
            && self.mismatched_events == 0
            && self.audit_failures == 0
            && self.trial_errors == 0
    }

    fn fail(&mut self, message: String) {
        if self.failures.len() < 10 {
            self.failures.push(message);
        }
    }
}

/// What every trial of a kind shares, and the store the current trial runs on.
struct Trials<'a> {
    runtime: &'a tokio::runtime::Runtime,
    args: &'a CrashArgs,
    kind: CrashKind,
    /// The kind's directory: the data directory on SQLite, the trials' directories' parent
    /// on PostgreSQL.
    root: PathBuf,
    /// The current trial's data directory.
    dir: PathBuf,
    /// The current trial's store on PostgreSQL (a URL naming its schema); `None` on SQLite.
    database: Option<String>,
    config: Option<PathBuf>,
    feed: PathBuf,
    token: String,
    units: Vec<String>,
    base: Timestamp,
    /// The run's token, in event ids and schema names.
    nonce: String,
    rng: Rng,
    /// The schemas made for the trials (PostgreSQL).
    schemas: Vec<String>,
}

pub fn run(args: CrashArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.trials > 0, "--trials must be at least 1");
    anyhow::ensure!(
        args.batch > 0 && args.clients > 0,
        "--batch and --clients must be positive"
    );
    let kinds = match args.kind {
        Some(kind) => vec![kind],
        None => vec![CrashKind::Http, CrashKind::Connector],
    };
    let (root, temporary) = match &args.data_dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("mixplane-bench-crash-{}", nonce())),
            true,
        ),
    };
    if let Some(url) = &args.database {
        anyhow::ensure!(
            store::is_postgres_url(url),
            "--database takes a PostgreSQL URL (postgres://USER@HOST/DB), not {}",
            store::redact_url(url)
        );
    }
    let backend = backend_of(&args);
    // The run's token: ids of the events, names of the schemas. The wall clock, and a few
    // random bytes for two runs started in the same millisecond.
    let run = format!("{}_{}", nonce(), store::random_hex(3));
    let runtime = super::runtime()?;
    let mut reports = Vec::new();
    let mut schemas = Vec::new();
    for kind in kinds {
        let dir = root.join(kind.name());
        let (report, made) = run_kind(&runtime, &args, kind, dir, &run)?;
        reports.push(report);
        schemas.extend(made);
    }
    let passed = reports.iter().all(KindReport::passed);
    let database = args
        .database
        .as_deref()
        .map(|url| store::redact_url(&store::without_schema(url)));
    if args.json {
        super::door::print_json(&serde_json::json!({
            "backend": backend,
            "database": database,
            "schemas": args.database.as_ref().map(|_| format!("crash_{run}_<kind>_<trial>")),
            "data_dir": root.display().to_string(),
            "passed": passed,
            "kinds": reports,
        }))?;
    } else {
        print_summary(backend, database.as_deref(), &reports);
    }
    if temporary && passed {
        let _ = std::fs::remove_dir_all(&root);
        if let Some(url) = &args.database
            && let Err(error) = runtime.block_on(drop_schemas(url, &schemas))
        {
            eprintln!("warning: the trials' schemas were not all dropped: {error:#}");
        }
    }
    if !passed {
        let kept = match &database {
            Some(database) => format!(" and the schemas crash_{run}_* of {database}"),
            None => String::new(),
        };
        bail!(
            "kill -9 trials failed; the data is kept in {}{kept}",
            root.display()
        );
    }
    Ok(())
}

/// `sqlite` or `postgres`: the backend the trials' stores are on.
fn backend_of(args: &CrashArgs) -> &'static str {
    if args.database.is_some() {
        "postgres"
    } else {
        "sqlite"
    }
}

fn print_summary(backend: &str, database: Option<&str>, reports: &[KindReport]) {
    match database {
        Some(database) => println!("# {backend}: {database}, a fresh schema per trial"),
        None => println!("# {backend}: one data directory per kind, its log growing"),
    }
    println!(
        "{:<10} {:>6} {:>9} {:>13} {:>5} {:>13} {:>10} {:>10} {:>6} {:>6}",
        "kind",
        "trials",
        "mid-ingest",
        "acknowledged",
        "lost",
        "half-written",
        "duplicates",
        "mismatched",
        "audit",
        "errors"
    );
    for r in reports {
        println!(
            "{:<10} {:>6} {:>9} {:>13} {:>5} {:>13} {:>10} {:>10} {:>6} {:>6}   ({:.0} s)",
            r.kind.map_or("", CrashKind::name),
            r.trials,
            r.killed_mid_ingest,
            r.acknowledged_events,
            r.lost_events,
            r.half_written_batches,
            r.duplicate_events,
            r.mismatched_events,
            r.audit_failures,
            r.trial_errors,
            r.seconds
        );
        for failure in &r.failures {
            println!("  {failure}");
        }
    }
}

/// A store with the reference plant, an administrator (whose new token is answered) and
/// the connector's service principal.
fn prepare(runtime: &tokio::runtime::Runtime, at: StoreAt<'_>) -> anyhow::Result<String> {
    use ::govern::{Principal, PrincipalKind, Role, Scope};
    let dir = at.data_dir;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let store = super::open_store(runtime, at, super::Open::OrCreate)?;
    runtime.block_on(async {
        let actor = super::cli_actor();
        if store.plant().await.is_none() {
            store
                .put_plant(sim::reference_plant(), &actor)
                .await
                .context("storing the reference plant")?;
        }
        if store.principal(CONNECTOR_PRINCIPAL).await?.is_none() {
            let connector = Principal::new(
                CONNECTOR_PRINCIPAL,
                PrincipalKind::Service,
                Role::Operator,
                Scope::All,
            );
            let write = store::GovernanceWrite::by(actor, None);
            store
                .create_principal(&connector, store::TokenHashing::Standard, write)
                .await
                .context("creating the connector's principal")?;
        }
        super::govern::demo_admin_token(&store).await
    })
}

/// The configuration of the trials' connector: the feed file, `batch` lines a batch.
fn write_config(dir: &Path, feed: &Path, batch: usize) -> anyhow::Result<PathBuf> {
    let path = dir.join("crash.toml");
    let text = format!(
        "[[connectors]]\nname = \"crash-feed\"\nkind = \"jsonl\"\nprincipal = \"{CONNECTOR_PRINCIPAL}\"\n\
         poll_interval_seconds = 0.05\n[connectors.settings]\npath = {:?}\nbatch_lines = {batch}\n",
        feed.display().to_string()
    );
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    if !feed.exists() {
        std::fs::write(feed, "").with_context(|| format!("creating {}", feed.display()))?;
    }
    Ok(path)
}

fn run_kind(
    runtime: &tokio::runtime::Runtime,
    args: &CrashArgs,
    kind: CrashKind,
    root: PathBuf,
    run: &str,
) -> anyhow::Result<(KindReport, Vec<String>)> {
    let started = Instant::now();
    let mut trials = Trials {
        runtime,
        args,
        kind,
        dir: root.clone(),
        root,
        database: None,
        config: None,
        feed: PathBuf::new(),
        token: String::new(),
        units: Vec::new(),
        base: Timestamp(0),
        nonce: run.to_owned(),
        rng: Rng::derive(args.seed, kind.name()),
        schemas: Vec::new(),
    };
    let mut report = KindReport {
        kind: Some(kind),
        backend: backend_of(args),
        ..KindReport::default()
    };
    let on_postgres = args.database.is_some();
    let mut server: Option<ServeProcess> = None;
    for trial in 0..args.trials {
        // SQLite: one store for every trial, set up once. PostgreSQL: a fresh one each trial,
        // the previous trial's server stopped first.
        if server.is_none() || on_postgres {
            drop(server.take());
            match trials.set_up(trial) {
                Ok(started) => server = Some(started),
                Err(error) if on_postgres => {
                    report.trials += 1;
                    report.trial_errors += 1;
                    report.fail(format!("trial {trial}: setting up its store: {error:#}"));
                    continue;
                }
                Err(error) => return Err(error),
            }
        }
        let running = server.as_mut().expect("set up above");
        let outcome = match kind {
            CrashKind::Http => trials.http(running, trial, &mut report),
            CrashKind::Connector => trials.connector(running, trial, &mut report),
        };
        report.trials += 1;
        if let Err(error) = outcome {
            report.trial_errors += 1;
            report.fail(format!("trial {trial}: {error:#}"));
            // Go on from a server that runs, whatever state the failure left it in.
            running.kill9();
            *running = trials.start()?;
        }
        trials.audit(trial, &mut report);
        if !args.json {
            eprint!(
                "\r{} trial {}/{}: {} acknowledged, {} lost",
                kind.name(),
                trial + 1,
                args.trials,
                report.acknowledged_events,
                report.lost_events
            );
        }
    }
    // Stopped before its schema may be dropped.
    drop(server);
    if !args.json {
        eprintln!();
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok((report, trials.schemas))
}

/// One HTTP batch as sent, and whether its 2xx answer came back.
struct Sent {
    batch: Batch,
    acknowledged: bool,
}

impl Trials<'_> {
    /// The current trial's store, as the processes of the trial are given it.
    fn at(&self) -> StoreAt<'_> {
        StoreAt {
            data_dir: &self.dir,
            database: self.database.as_deref(),
        }
    }

    /// Prepares the store the next trials run on and serves it: on SQLite the kind's data
    /// directory (once: every trial on the log growing there), on PostgreSQL a fresh schema
    /// and data directory for each trial. Reads the plant's units and the time the next
    /// events start from.
    fn set_up(&mut self, trial: usize) -> anyhow::Result<ServeProcess> {
        if let Some(url) = &self.args.database {
            let schema = format!("crash_{}_{}_{trial}", self.nonce, self.kind.name());
            self.dir = self.root.join(format!("trial-{trial}"));
            self.database = Some(store::with_schema(url, &schema));
            self.schemas.push(schema);
        }
        self.token = prepare(self.runtime, self.at())?;
        self.feed = self.dir.join("feed.jsonl");
        self.config = match self.kind {
            CrashKind::Connector => Some(write_config(&self.dir, &self.feed, self.args.batch)?),
            CrashKind::Http => None,
        };
        let server = self.start()?;
        let api = Api::new(&server.base_url, &self.token, 1)?;
        self.units = self.runtime.block_on(api.unit_ids())?;
        let newest = self
            .runtime
            .block_on(api.newest_event_time())?
            .unwrap_or(Timestamp(0));
        self.base = Timestamp(newest.0 + 1);
        Ok(server)
    }

    /// `mixplane serve` on the current trial's store, with its connector.
    fn start(&self) -> anyhow::Result<ServeProcess> {
        Ok(ServeProcess::start(
            self.at(),
            self.config.as_deref(),
            None,
        )?)
    }

    fn api(&self, server: &ServeProcess) -> anyhow::Result<Api> {
        Ok(Api::new(&server.base_url, &self.token, self.args.clients)?)
    }

    fn restart(&self, server: &mut ServeProcess) -> anyhow::Result<()> {
        *server = self
            .start()
            .context("starting the server again after the kill")?;
        Ok(())
    }

    /// `mixplane audit verify` on the trial's store (beside the running server, as a second
    /// process reading the same database).
    fn audit(&self, trial: usize, report: &mut KindReport) {
        match mixplane(&["audit", "verify"], self.at()) {
            Ok(out) if out.contains("intact") => {}
            Ok(out) => {
                report.audit_failures += 1;
                report.fail(format!("trial {trial}: audit verify: {out}"));
            }
            Err(e) => {
                report.audit_failures += 1;
                report.fail(format!("trial {trial}: {e}"));
            }
        }
    }

    /// Posts batches from concurrent clients, kills the server after a drawn number of
    /// acknowledgements, restarts it and checks the log.
    fn http(
        &mut self,
        server: &mut ServeProcess,
        trial: usize,
        report: &mut KindReport,
    ) -> anyhow::Result<()> {
        let api = self.api(server)?;
        let before = self.runtime.block_on(api.events_applied())?;
        let kill_after = 1 + self.rng.below(8);
        let delay = Duration::from_micros(self.rng.below(20_000));
        let sent = Arc::new(Mutex::new(Vec::<Sent>::new()));
        let acks = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let refused = Arc::new(Mutex::new(Vec::<String>::new()));
        let clients: Vec<_> = (0..self.args.clients)
            .map(|c| {
                let generator = EventGen::new(
                    format!("crash-{}-t{trial}-c{c}", self.nonce),
                    self.units.clone(),
                    self.base,
                );
                let client = HttpClient {
                    api: api.clone(),
                    generator,
                    batch: self.args.batch,
                    sent: sent.clone(),
                    acks: acks.clone(),
                    stop: stop.clone(),
                    refused: refused.clone(),
                };
                self.runtime.spawn(client.run())
            })
            .collect();
        let reached = self.runtime.block_on(async {
            let deadline = Instant::now() + PATIENCE;
            while acks.load(Ordering::SeqCst) < kill_after && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            tokio::time::sleep(delay).await;
            acks.load(Ordering::SeqCst) >= kill_after
        });
        server.kill9();
        stop.store(true, Ordering::SeqCst);
        for client in clients {
            let _ = self.runtime.block_on(client);
        }
        // The clients' batches move the events' times on: the next trial starts after them.
        self.base = Timestamp(self.base.0 + 1_000_000);
        if let Some(message) = refused.lock().expect("not poisoned").first() {
            bail!("the server refused a valid batch: {message}");
        }
        anyhow::ensure!(
            reached,
            "fewer than {kill_after} batches acknowledged in {PATIENCE:?}"
        );
        report.killed_mid_ingest += 1;
        self.restart(server)?;
        let api = self.api(server)?;
        let sent = std::mem::take(&mut *sent.lock().expect("not poisoned"));
        let stored = self.runtime.block_on(api.events_after(before))?;
        check_http(&sent, &stored, trial, report)?;
        // Idempotency across the restart: an acknowledged batch sent again stores nothing.
        if let Some(again) = sent.iter().find(|s| s.acknowledged) {
            let outcome = self
                .runtime
                .block_on(api.ingest(again.batch.body.clone()))?;
            if outcome.inserted != 0 {
                report.duplicate_events += outcome.inserted;
                report.fail(format!(
                    "trial {trial}: an acknowledged batch sent again stored {} events again",
                    outcome.inserted
                ));
            }
        }
        Ok(())
    }

    /// Appends a feed, kills the server when a drawn share of it is stored, restarts it and
    /// checks the whole feed ends up stored exactly once.
    fn connector(
        &mut self,
        server: &mut ServeProcess,
        trial: usize,
        report: &mut KindReport,
    ) -> anyhow::Result<()> {
        let api = self.api(server)?;
        let before = self.runtime.block_on(api.events_applied())?;
        let size = (self.args.batch * FEED_BATCHES) as u64;
        let mut generator = EventGen::new(
            format!("crash-{}-t{trial}-feed", self.nonce),
            self.units.clone(),
            self.base,
        );
        let batch = generator.batch(size as usize);
        self.base = Timestamp(self.base.0 + size as i64 + 1);
        let expected: Vec<Event> =
            serde_json::from_str(&batch.body).context("reading back the feed's events")?;
        let mut lines = String::new();
        for event in &expected {
            lines.push_str(&serde_json::to_string(event)?);
            lines.push('\n');
        }
        let kill_at = before + 1 + self.rng.below(size - 1);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.feed)
            .with_context(|| format!("opening {}", self.feed.display()))?;
        file.write_all(lines.as_bytes())
            .with_context(|| format!("appending to {}", self.feed.display()))?;
        drop(file);
        let seen = self
            .runtime
            .block_on(wait_for_events(&api, kill_at, PATIENCE))?;
        server.kill9();
        anyhow::ensure!(
            seen >= kill_at,
            "the connector stored {} of {size} events in {PATIENCE:?}",
            seen - before
        );
        report.acknowledged_events += seen - before;
        if seen < before + size {
            report.killed_mid_ingest += 1;
        }
        self.restart(server)?;
        let api = self.api(server)?;
        let done = self
            .runtime
            .block_on(wait_for_events(&api, before + size, PATIENCE))?;
        let stored = self.runtime.block_on(api.events_after(before))?;
        if done < before + size {
            report.fail(format!(
                "trial {trial}: {} of the feed's {size} events stored after the restart",
                done - before
            ));
        }
        check_feed(&expected, &stored, trial, report)
    }
}

/// Polls `GET /healthz` until the server has folded `target` events, or `patience` ends;
/// answers the last count seen.
async fn wait_for_events(api: &Api, target: u64, patience: Duration) -> anyhow::Result<u64> {
    let deadline = Instant::now() + patience;
    loop {
        let count = api.events_applied().await?;
        if count >= target || Instant::now() >= deadline {
            return Ok(count);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// One client posting batches until it is stopped or its server is gone.
struct HttpClient {
    api: Api,
    generator: EventGen,
    batch: usize,
    sent: Arc<Mutex<Vec<Sent>>>,
    acks: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    refused: Arc<Mutex<Vec<String>>>,
}

impl HttpClient {
    async fn run(mut self) {
        while !self.stop.load(Ordering::SeqCst) {
            let batch = self.generator.batch(self.batch);
            let answer = self.api.post_events(batch.body.clone()).await;
            let acknowledged = matches!(answer, Ok((status, _)) if (200..300).contains(&status));
            if let Ok((status, body)) = &answer
                && !acknowledged
            {
                let message = format!("{status} {}", super::bench_target::snippet(body));
                self.refused.lock().expect("not poisoned").push(message);
            }
            self.sent.lock().expect("not poisoned").push(Sent {
                batch,
                acknowledged,
            });
            if !acknowledged {
                return;
            }
            self.acks.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The stored events (`GET /v1/events` items) by id, counting ids stored more than once.
fn stored_by_id(
    stored: &[serde_json::Value],
    report: &mut KindReport,
    trial: usize,
) -> anyhow::Result<std::collections::HashMap<String, Event>> {
    let mut by_id = std::collections::HashMap::new();
    for item in stored {
        let event: Event = serde_json::from_value(item["event"].clone())
            .with_context(|| format!("reading a stored event: {item}"))?;
        let id = event.id.to_string();
        if by_id.insert(id.clone(), event).is_some() {
            report.duplicate_events += 1;
            report.fail(format!("trial {trial}: event {id} is stored twice"));
        }
    }
    Ok(by_id)
}

/// Compares what is stored after the trial's start with what the clients sent.
fn check_http(
    sent: &[Sent],
    stored: &[serde_json::Value],
    trial: usize,
    report: &mut KindReport,
) -> anyhow::Result<()> {
    let mut by_id = stored_by_id(stored, report, trial)?;
    for s in sent {
        let events: Vec<Event> = serde_json::from_str(&s.batch.body)?;
        let present: Vec<Option<Event>> = events
            .iter()
            .map(|e| by_id.remove(&e.id.to_string()))
            .collect();
        let count = present.iter().flatten().count();
        if s.acknowledged {
            report.acknowledged_events += events.len() as u64;
            if count < events.len() {
                report.lost_events += (events.len() - count) as u64;
                report.fail(format!(
                    "trial {trial}: {} events of an acknowledged batch (first {}) are missing",
                    events.len() - count,
                    s.batch.ids[0]
                ));
            }
        }
        if count > 0 && count < events.len() {
            report.half_written_batches += 1;
            report.fail(format!(
                "trial {trial}: a batch (first {}) is stored in part: {count} of {}",
                s.batch.ids[0],
                events.len()
            ));
        }
        for (sent, stored) in events.iter().zip(&present) {
            if stored.as_ref().is_some_and(|stored| stored != sent) {
                report.mismatched_events += 1;
                report.fail(format!("trial {trial}: event {} changed", sent.id));
            }
        }
    }
    if !by_id.is_empty() {
        report.mismatched_events += by_id.len() as u64;
        report.fail(format!(
            "trial {trial}: {} events stored that no client sent",
            by_id.len()
        ));
    }
    Ok(())
}

/// Every line of the feed stored once, as written, and nothing else.
fn check_feed(
    expected: &[Event],
    stored: &[serde_json::Value],
    trial: usize,
    report: &mut KindReport,
) -> anyhow::Result<()> {
    let mut by_id = stored_by_id(stored, report, trial)?;
    let mut missing = 0;
    for event in expected {
        match by_id.remove(&event.id.to_string()) {
            None => missing += 1,
            Some(stored) if &stored != event => {
                report.mismatched_events += 1;
                report.fail(format!("trial {trial}: event {} changed", event.id));
            }
            Some(_) => {}
        }
    }
    if missing > 0 {
        report.lost_events += missing;
        report.fail(format!(
            "trial {trial}: {missing} lines of the feed never stored"
        ));
    }
    if !by_id.is_empty() {
        report.mismatched_events += by_id.len() as u64;
        report.fail(format!(
            "trial {trial}: {} events stored that the feed does not hold",
            by_id.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(generator: &mut EventGen, size: usize, acknowledged: bool) -> Sent {
        Sent {
            batch: generator.batch(size),
            acknowledged,
        }
    }

    /// The log's items for `events`, as `GET /v1/events` answers them.
    fn items(events: &[Event]) -> Vec<serde_json::Value> {
        events
            .iter()
            .map(|e| serde_json::json!({"event": e}))
            .collect()
    }

    fn events_of(sent: &Sent) -> Vec<Event> {
        serde_json::from_str(&sent.batch.body).unwrap()
    }

    #[test]
    fn the_check_counts_lost_half_written_duplicated_and_changed_events() {
        let base = Timestamp::parse("2026-03-02T06:00:00Z").unwrap();
        let mut generator = EventGen::new("t".into(), vec!["CB-1".into()], base);
        let acked = sent(&mut generator, 3, true);
        let unanswered = sent(&mut generator, 3, false);
        let never_stored = sent(&mut generator, 2, false);
        // All well: the acknowledged batch whole, the unanswered one whole, the last absent.
        let mut log = events_of(&acked);
        log.extend(events_of(&unanswered));
        let mut report = KindReport::default();
        let all = [acked, unanswered, never_stored];
        check_http(&all, &items(&log), 0, &mut report).unwrap();
        assert!(report.passed(), "{report:?}");
        assert_eq!(report.acknowledged_events, 3);

        // One acknowledged event lost, one unanswered batch stored in part, one event stored
        // twice, one changed.
        let mut log = events_of(&all[0]);
        log.remove(0);
        log.push(events_of(&all[1])[0].clone());
        log.push(log[0].clone());
        if let model::EventKind::EquipmentStateChanged { reason, .. } = &mut log[1].kind {
            *reason = Some("edited".into());
        }
        let mut report = KindReport::default();
        check_http(&all, &items(&log), 0, &mut report).unwrap();
        assert_eq!(report.lost_events, 1, "{report:?}");
        assert_eq!(report.half_written_batches, 2, "{report:?}");
        assert_eq!(report.duplicate_events, 1, "{report:?}");
        assert_eq!(report.mismatched_events, 1, "{report:?}");
        assert!(!report.passed());
    }

    #[test]
    fn the_feed_check_wants_every_line_once() {
        let base = Timestamp::parse("2026-03-02T06:00:00Z").unwrap();
        let mut generator = EventGen::new("f".into(), vec!["CB-1".into()], base);
        let feed = events_of(&sent(&mut generator, 4, true));
        let mut report = KindReport::default();
        check_feed(&feed, &items(&feed), 0, &mut report).unwrap();
        assert!(report.passed(), "{report:?}");
        let mut report = KindReport::default();
        check_feed(&feed, &items(&feed[1..]), 0, &mut report).unwrap();
        assert_eq!(report.lost_events, 1);
        let stray = events_of(&sent(&mut generator, 1, true));
        let mut log = feed.clone();
        log.extend(stray);
        let mut report = KindReport::default();
        check_feed(&feed, &items(&log), 0, &mut report).unwrap();
        assert_eq!(report.mismatched_events, 1);
    }
}
