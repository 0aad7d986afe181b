//! `mixplane bench load`: a load generator of our own against a real `mixplane serve`.
//!
//! Without `--server` it prepares a store (`mixplane demo --no-serve --speed 0 --days N`,
//! which also answers an admin token), serves it on loopback as a child process and measures
//! it; with `--server URL --token T` it measures a server someone else started. The prepared
//! store is the data directory's SQLite file, or with `--database postgres://…` a fresh schema
//! of that database (`load_<run>`, given to both `demo` and `serve`, dropped at the end unless
//! `--data-dir` is given). Each step
//! runs one workload at one number of concurrent clients for a fixed time, after a warm-up
//! whose requests are not counted:
//!
//! - `reads`: authenticated `GET`s in turn — `/v1/orders?limit=50`, `/v1/orders/{id}`,
//!   `/v1/work-centers`, `/v1/quality/alerts?limit=20`;
//! - `events`: `POST /v1/events` of batches of fresh `equipment_state_changed` events.
//!
//! Every client is a task on one tokio runtime with its own keep-alive connection, sending
//! its next request as soon as the last is answered (a closed loop: the rate measured is the
//! rate sustained). A request counts when its answer ends inside the measured window; any
//! answer other than 2xx, or a transport error, is an error, counted and reported. Steps are
//! repeated `--runs` times and the medians reported. The client and the server share the
//! machine's cores unless `--server-cpus` pins the server (and `taskset` the client).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

use super::StoreAt;
use super::bench_target::{Api, EventGen, ServeProcess, drop_schemas, mixplane, nonce, snippet};

#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// Measure this running server (`http://HOST:PORT`) instead of starting one; needs --token.
    #[arg(long, requires = "token")]
    pub server: Option<String>,
    /// Bearer token of a principal that may read orders, work centers and quality alerts and
    /// record events (with --server; otherwise the prepared store's admin token is used).
    #[arg(long, env = "MIXPLANE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Data directory of the store to prepare and serve [default: a temporary directory,
    /// removed afterwards]. An existing store there is replaced by the demo's.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Prepare and serve the store on PostgreSQL: `postgres://USER@HOST/DB`. The store is a
    /// fresh schema of that database (any `schema=` in the URL is replaced), dropped
    /// afterwards unless --data-dir is given [default: SQLite, the data directory's file].
    #[arg(long, conflicts_with = "server")]
    pub database: Option<String>,
    /// Simulated days of the reference plant in the prepared store.
    #[arg(long, default_value_t = 14.0)]
    pub days: f64,
    /// Pin the started server to these CPUs (`taskset -c LIST`, e.g. `0`).
    #[arg(long)]
    pub server_cpus: Option<String>,
    /// Concurrent clients of each step (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [1, 8, 64])]
    pub clients: Vec<usize>,
    /// Workloads to run (comma-separated): reads, events.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Workload::Reads, Workload::Events])]
    pub workloads: Vec<Workload>,
    /// Measured seconds of each step.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds of warm-up before each step's measurement (requests sent, not counted).
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Events per batch of the `events` workload.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// Times each step is run; the medians are reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// What a step's clients send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Workload {
    /// Authenticated reads: orders, one order, work centers, quality alerts.
    Reads,
    /// Batches of fresh events, `POST /v1/events`.
    Events,
}

/// One run of one step.
#[derive(Debug, Clone, Serialize)]
pub struct StepRun {
    pub requests: u64,
    pub requests_per_second: f64,
    pub events_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors: u64,
}

/// A step's runs and their medians.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub workload: Workload,
    pub clients: usize,
    pub median: StepRun,
    pub runs: Vec<StepRun>,
    /// The first few errors, verbatim.
    pub error_samples: Vec<String>,
}

/// The fixed inputs of the reads: order ids to fetch one by one.
struct ReadMix {
    order_ids: Vec<String>,
}

impl ReadMix {
    /// The `n`-th request of client `client`: the four reads in turn, the clients out of
    /// phase, so every mix of routes is in flight at once.
    fn path(&self, client: usize, n: usize) -> String {
        match (client + n) % 4 {
            0 => "/v1/orders?limit=50".to_owned(),
            1 => format!(
                "/v1/orders/{}",
                self.order_ids[(client * 7 + n) % self.order_ids.len()]
            ),
            2 => "/v1/work-centers".to_owned(),
            _ => "/v1/quality/alerts?limit=20".to_owned(),
        }
    }
}

/// What one client measured.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    events: u64,
    errors: u64,
    error_samples: Vec<String>,
}

impl Tally {
    fn error(&mut self, message: String) {
        self.errors += 1;
        if self.error_samples.len() < 3 {
            self.error_samples.push(message);
        }
    }
}

/// What the clients of a step share.
struct StepPlan {
    workload: Workload,
    api: Api,
    reads: Arc<ReadMix>,
    /// Units and base time of the generated events.
    units: Vec<String>,
    base: model::Timestamp,
    batch: usize,
    /// Ids' prefix for this step.
    prefix: String,
    measure_from: Instant,
    measure_until: Instant,
}

/// One client: sends until the window closes, counting what ends inside it.
async fn client(plan: Arc<StepPlan>, index: usize) -> Tally {
    let mut tally = Tally::default();
    let mut events = EventGen::new(
        format!("{}-c{index}", plan.prefix),
        plan.units.clone(),
        plan.base,
    );
    let mut n = 0usize;
    while Instant::now() < plan.measure_until {
        let (sent, answer) = match plan.workload {
            Workload::Reads => {
                let path = plan.reads.path(index, n);
                let sent = Instant::now();
                (sent, plan.api.get(&path).await.map(|a| (a, path, 0)))
            }
            Workload::Events => {
                let batch = events.batch(plan.batch);
                let size = batch.ids.len() as u64;
                let sent = Instant::now();
                let answer = plan.api.post_events(batch.body).await;
                (sent, answer.map(|a| (a, "/v1/events".to_owned(), size)))
            }
        };
        n += 1;
        let done = Instant::now();
        if done < plan.measure_from || done > plan.measure_until {
            continue;
        }
        match answer {
            Ok(((status, _), _, events)) if (200..300).contains(&status) => {
                let micros = done.duration_since(sent).as_micros();
                tally
                    .latencies_us
                    .push(u32::try_from(micros).unwrap_or(u32::MAX));
                tally.events += events;
            }
            Ok(((status, body), path, _)) => {
                tally.error(format!("{path}: {status} {}", snippet(&body)));
            }
            Err(e) => tally.error(format!("{e}")),
        }
    }
    tally
}

/// The value at quantile `q` of sorted `values`, in milliseconds (nearest rank).
fn quantile_ms(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[rank - 1]) / 1000.0
}

/// Runs one step once: `clients` clients for the warm-up and the window.
async fn run_step(
    plan: StepPlan,
    clients: usize,
    window: Duration,
) -> anyhow::Result<(StepRun, Vec<String>)> {
    let plan = Arc::new(plan);
    let tasks: Vec<_> = (0..clients)
        .map(|i| tokio::spawn(client(plan.clone(), i)))
        .collect();
    let mut latencies = Vec::new();
    let (mut events, mut errors, mut samples) = (0, 0, Vec::new());
    for task in tasks {
        let tally = task.await.context("a load client panicked")?;
        latencies.extend(tally.latencies_us);
        events += tally.events;
        errors += tally.errors;
        samples.extend(tally.error_samples);
    }
    samples.truncate(5);
    latencies.sort_unstable();
    let seconds = window.as_secs_f64();
    let requests = latencies.len() as u64;
    let run = StepRun {
        requests,
        requests_per_second: requests as f64 / seconds,
        events_per_second: events as f64 / seconds,
        p50_ms: quantile_ms(&latencies, 0.50),
        p99_ms: quantile_ms(&latencies, 0.99),
        max_ms: latencies.last().map_or(0.0, |&m| f64::from(m) / 1000.0),
        errors,
    };
    Ok((run, samples))
}

/// The median of `values` (the upper one of an even count's two).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn median_run(runs: &[StepRun]) -> StepRun {
    let of = |f: fn(&StepRun) -> f64| median(runs.iter().map(f).collect());
    StepRun {
        requests: of(|r| r.requests as f64) as u64,
        requests_per_second: of(|r| r.requests_per_second),
        events_per_second: of(|r| r.events_per_second),
        p50_ms: of(|r| r.p50_ms),
        p99_ms: of(|r| r.p99_ms),
        max_ms: of(|r| r.max_ms),
        errors: runs.iter().map(|r| r.errors).sum(),
    }
}

/// The server under test: one this command started (kept alive while it measures) or one
/// named by `--server`.
struct Target {
    base_url: String,
    token: String,
    _server: Option<ServeProcess>,
    /// A temporary data directory to remove at the end.
    temporary: Option<PathBuf>,
    /// A temporary schema to drop at the end: the database's URL and the schema.
    temporary_schema: Option<(String, String)>,
    /// `sqlite` or `postgres` (a server started here), `unknown` (one given by --server).
    backend: &'static str,
    description: String,
}

impl Drop for Target {
    fn drop(&mut self) {
        // The server first (a field dropped after this body), then its files: stop it here.
        self._server = None;
        if let Some(dir) = &self.temporary {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((url, schema)) = self.temporary_schema.take() {
            let dropped = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)
                .and_then(|runtime| {
                    runtime.block_on(drop_schemas(&url, std::slice::from_ref(&schema)))
                });
            if let Err(error) = dropped {
                eprintln!("warning: the schema {schema} was not dropped: {error:#}");
            }
        }
    }
}

/// Prepares and serves a store, or names the given server.
fn target(args: &LoadArgs) -> anyhow::Result<Target> {
    if let (Some(url), Some(token)) = (&args.server, &args.token) {
        return Ok(Target {
            base_url: url.trim_end_matches('/').to_owned(),
            token: token.clone(),
            _server: None,
            temporary: None,
            temporary_schema: None,
            backend: "unknown",
            description: format!("{url} (started by you)"),
        });
    }
    if let Some(url) = &args.database {
        anyhow::ensure!(
            store::is_postgres_url(url),
            "--database takes a PostgreSQL URL (postgres://USER@HOST/DB), not {}",
            store::redact_url(url)
        );
    }
    let (data_dir, temporary) = match &args.data_dir {
        Some(dir) => (dir.clone(), None),
        None => {
            let dir = std::env::temp_dir().join(format!("mixplane-bench-load-{}", nonce()));
            (dir.clone(), Some(dir))
        }
    };
    // On PostgreSQL, a schema of this run's own: the demo replaces whatever store it opens.
    let schema = args
        .database
        .as_ref()
        .map(|_| format!("load_{}_{}", nonce(), store::random_hex(3)));
    let database = match (&args.database, &schema) {
        (Some(url), Some(schema)) => Some(store::with_schema(url, schema)),
        _ => None,
    };
    let at = StoreAt {
        data_dir: &data_dir,
        database: database.as_deref(),
    };
    let mut target = Target {
        base_url: String::new(),
        token: String::new(),
        _server: None,
        temporary_schema: match (&database, &temporary, &schema) {
            (Some(url), Some(_), Some(schema)) => Some((url.clone(), schema.clone())),
            _ => None,
        },
        temporary,
        backend: if database.is_some() {
            "postgres"
        } else {
            "sqlite"
        },
        description: String::new(),
    };
    let store_name = match (&args.database, &schema) {
        (Some(url), Some(schema)) => format!(
            "PostgreSQL {} schema {schema}",
            store::redact_url(&store::without_schema(url))
        ),
        _ => format!("SQLite {}", data_dir.display()),
    };
    let days = args.days.to_string();
    if !args.json {
        eprintln!("preparing the store: the reference plant, {days} simulated days ({store_name})");
    }
    let demo = [
        "demo",
        "--no-serve",
        "--speed",
        "0",
        "--json",
        "--days",
        &days,
    ];
    let summary: serde_json::Value =
        serde_json::from_str(&mixplane(&demo, at)?).context("reading `mixplane demo --json`")?;
    target.token = summary["admin_token"]
        .as_str()
        .context("`mixplane demo --json` answered no admin_token")?
        .to_owned();
    let server = ServeProcess::start(at, None, args.server_cpus.as_deref())?;
    target.base_url = server.base_url.clone();
    target.description = format!(
        "mixplane serve on {} over {store_name} ({days} simulated days), {}",
        server.base_url,
        match &args.server_cpus {
            Some(cpus) => format!("pinned to CPUs {cpus}"),
            None => "sharing every core with the clients".to_owned(),
        }
    );
    target._server = Some(server);
    Ok(target)
}

pub fn run(args: LoadArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.duration > 0.0 && args.warmup >= 0.0,
        "--duration must be positive and --warmup not negative"
    );
    anyhow::ensure!(args.runs > 0, "--runs must be at least 1");
    anyhow::ensure!(
        args.clients.iter().all(|&c| c > 0),
        "--clients must be positive"
    );
    anyhow::ensure!(args.batch > 0, "--batch must be at least 1");
    let target = target(&args)?;
    let runtime = super::runtime()?;
    let max_clients = args.clients.iter().copied().max().unwrap_or(1);
    let reports = runtime.block_on(measure(&args, &target, max_clients))?;
    print_reports(&args, &target, &reports)?;
    let errors: u64 = reports.iter().map(|r| r.median.errors).sum();
    anyhow::ensure!(
        errors == 0,
        "{errors} requests failed (any answer but 2xx is an error)"
    );
    Ok(())
}

/// Runs every step `--runs` times.
async fn measure(
    args: &LoadArgs,
    target: &Target,
    max_clients: usize,
) -> anyhow::Result<Vec<StepReport>> {
    let setup = Api::new(&target.base_url, &target.token, 1)?;
    let orders = setup.get_json("/v1/orders?limit=200").await?;
    let order_ids: Vec<String> = orders["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["order"]["id"].as_str().map(str::to_owned))
        .collect();
    anyhow::ensure!(
        !order_ids.is_empty() || !args.workloads.contains(&Workload::Reads),
        "the store holds no orders to read"
    );
    let reads = Arc::new(ReadMix { order_ids });
    let units = setup.unit_ids().await?;
    let base = setup
        .newest_event_time()
        .await?
        .unwrap_or(model::Timestamp(0));
    let run_nonce = nonce();
    let mut reports = Vec::new();
    for &workload in &args.workloads {
        for &clients in &args.clients {
            let mut runs = Vec::new();
            let mut error_samples = Vec::new();
            for run in 0..args.runs {
                // A fresh client per step: no connection idle from the step before (the server
                // closes those after its idle timeout) is reused.
                let api = Api::new(&target.base_url, &target.token, max_clients)?;
                let warmup = Duration::from_secs_f64(args.warmup);
                let window = Duration::from_secs_f64(args.duration);
                let measure_from = Instant::now() + warmup;
                let plan = StepPlan {
                    workload,
                    api,
                    reads: reads.clone(),
                    units: units.clone(),
                    base,
                    batch: args.batch,
                    prefix: format!("load-{run_nonce}-{workload:?}-{clients}-{run}"),
                    measure_from,
                    measure_until: measure_from + window,
                };
                let (result, samples) = run_step(plan, clients, window).await?;
                if !args.json {
                    eprintln!(
                        "  {workload:?} × {clients} run {}: {:.0} req/s, p99 {:.2} ms, {} errors",
                        run + 1,
                        result.requests_per_second,
                        result.p99_ms,
                        result.errors
                    );
                }
                error_samples.extend(samples);
                runs.push(result);
            }
            error_samples.truncate(5);
            reports.push(StepReport {
                workload,
                clients,
                median: median_run(&runs),
                runs,
                error_samples,
            });
        }
    }
    Ok(reports)
}

fn print_reports(args: &LoadArgs, target: &Target, reports: &[StepReport]) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if args.json {
        let out = serde_json::json!({
            "server": target.description,
            "backend": target.backend,
            "cores": cores,
            "duration_seconds": args.duration,
            "warmup_seconds": args.warmup,
            "runs": args.runs,
            "batch": args.batch,
            "steps": reports,
        });
        return super::door::print_json(&out);
    }
    println!("# {}", target.description);
    println!(
        "# {cores} cores; {} s per step after {} s warm-up; medians of {} runs; event batches of {}",
        args.duration, args.warmup, args.runs, args.batch
    );
    println!(
        "{:<8} {:>7} {:>11} {:>10} {:>8} {:>8} {:>8} {:>7}",
        "workload", "clients", "requests/s", "events/s", "p50 ms", "p99 ms", "max ms", "errors"
    );
    for r in reports {
        let m = &r.median;
        let events = match r.workload {
            Workload::Reads => "-".to_owned(),
            Workload::Events => format!("{:.0}", m.events_per_second),
        };
        println!(
            "{:<8} {:>7} {:>11.0} {:>10} {:>8.2} {:>8.2} {:>8.2} {:>7}",
            format!("{:?}", r.workload).to_lowercase(),
            r.clients,
            m.requests_per_second,
            events,
            m.p50_ms,
            m.p99_ms,
            m.max_ms,
            m.errors
        );
        for sample in &r.error_samples {
            println!("  error: {sample}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank_in_milliseconds() {
        let values: Vec<u32> = (1..=100).map(|v| v * 1000).collect();
        assert_eq!(quantile_ms(&values, 0.5), 50.0);
        assert_eq!(quantile_ms(&values, 0.99), 99.0);
        assert_eq!(quantile_ms(&[], 0.99), 0.0);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
    }

    #[test]
    fn every_client_sends_all_four_reads() {
        let mix = ReadMix {
            order_ids: vec!["A".into(), "B".into()],
        };
        let paths: Vec<String> = (0..4).map(|n| mix.path(3, n)).collect();
        assert!(paths.contains(&"/v1/work-centers".to_owned()));
        assert!(paths.iter().any(|p| p.starts_with("/v1/orders/")));
        assert!(paths.contains(&"/v1/orders?limit=50".to_owned()));
        assert!(paths.contains(&"/v1/quality/alerts?limit=20".to_owned()));
    }
}
