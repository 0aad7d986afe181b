//! The OData source against the MES emulator, measured (issue #14's closing figures):
//!
//! (a) **throughput** — the emulator (in process, manual clock, seed 7) holding a backlog of
//! `MES_BENCH_DAYS` (default 3) simulated days; a fresh in-memory store with the reference
//! plant reads every entity set through the `odata` kind and the connector runner, in the
//! order the rows name each other (work orders and expected receipts first), each until its
//! cursor reaches the set's newest row. Events stored per second of wall time, the median of
//! `MES_BENCH_RUNS` (default 3) runs.
//!
//! (b) **lag** — the emulator (its plant still, so only our changes are news), the
//! equipment-status feed read every
//! `MES_BENCH_POLL_SECONDS` (default 5) seconds; `MES_BENCH_CHANGES` (default 6) times, at a
//! seeded random moment, an equipment status is set through the emulator's command, and the
//! time from the command's answer to the runner having stored its event is taken. Median and
//! p99.
//!
//! Run with `cargo bench -p mixplane --bench mes_source`; the full measurement with
//! `MES_BENCH_DAYS=7 MES_BENCH_RUNS=5 MES_BENCH_CHANGES=60`. Not a timed test: nothing fails
//! on a slow machine.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// The sets read, in the order their rows name each other.
const SETS: &[(&str, &str)] = &[
    ("AppU4DM", "WorkOrder"),
    ("Material", "ExpectedReceipt"),
    ("AppU4DM", "WorkOrderOperation"),
    ("AppU4DM", "ResultHistory"),
    ("Equipment", "EquipmentStatusHistory"),
    ("Material", "MaterialTrackingUnit"),
    ("Material", "ProducedMaterialItem"),
    ("Material", "MTUOperationTracking"),
];

struct Emu {
    emulator: mesemu::Emulator,
    base: String,
    config: mesemu::Config,
    client: mesemu::client::Client,
}

impl Emu {
    async fn start(config: mesemu::Config) -> Emu {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let emulator = mesemu::Emulator::start(listener, config.clone())
            .await
            .unwrap();
        let base = format!("http://{}", emulator.addr());
        let client = mesemu::client::Client::new(base.clone(), config.credentials.clone());
        Emu {
            emulator,
            base,
            config,
            client,
        }
    }

    fn settings(&self, app: &str, set: &str) -> Value {
        let c = &self.config.credentials;
        json!({
            "base_url": self.base, "app": app, "entity_set": set, "page_size": 500,
            "auth": {"kind": "password", "username": c.username, "password": c.password,
                     "client_id": c.client_id, "client_secret": c.client_secret},
        })
    }

    async fn token(&self) -> String {
        self.client.sign_in().await.unwrap()
    }

    /// The cursor of a set's newest row (`ModifiedOn|Id`), if it has rows.
    async fn newest(&self, token: &str, app: &str, set: &str) -> Option<String> {
        let url = format!(
            "{}/sit-svc/Application/{app}/odata/{set}?$orderby=ModifiedOn%20desc,Id%20desc&$top=1&$select=Id,ModifiedOn",
            self.base
        );
        let page = self.client.page(token, &url).await.unwrap();
        let row = page["value"].get(0)?;
        Some(format!(
            "{}|{}",
            row["ModifiedOn"].as_str()?,
            row["Id"].as_str()?
        ))
    }

    async fn command(&self, token: &str, app: &str, name: &str, body: Value) -> Value {
        self.client.command(token, app, name, &body).await.unwrap()
    }
}

fn principal() -> govern::Principal {
    govern::Principal::new(
        "connector-mes",
        govern::PrincipalKind::Service,
        govern::Role::Operator,
        govern::Scope::All,
    )
}

async fn fresh_app(start: model::Timestamp) -> app::App {
    let store = store::Store::open_in_memory().await.unwrap();
    store
        .put_plant_at(
            sim::reference_plant(),
            Some(start),
            &store::Actor::system("bench"),
        )
        .await
        .unwrap();
    app::App::new(Arc::new(store))
}

fn runner(
    app: &app::App,
    emu: &Emu,
    set: (&str, &str),
    poll: Duration,
) -> connect::Runner<connect::AnySource> {
    let spec = connect::ConnectorSpec {
        name: format!("mes-{}", set.1),
        kind: "odata".into(),
        principal: "connector-mes".into(),
        poll_interval: poll,
        settings: emu.settings(set.0, set.1),
    };
    connect::Runner {
        source: connect::Kinds::for_app(app).build(&spec).unwrap(),
        app: app.clone(),
        principal: principal(),
        kind: "odata".into(),
        pacing: connect::Pacing::with_interval(poll),
    }
}

/// One run of (a): every set read to its newest row; (events stored, dead letters, seconds).
async fn ingest_backlog(emu: &Emu, token: &str) -> (u64, u64, f64) {
    let app = fresh_app(emu.config.start).await;
    let started = Instant::now();
    let (mut stored, mut dead) = (0, 0);
    for &(app_name, set) in SETS {
        let Some(newest) = emu.newest(token, app_name, set).await else {
            continue;
        };
        let name = format!("mes-{set}");
        let (stop, watch) = connect::stop_pair();
        let task =
            tokio::spawn(runner(&app, emu, (app_name, set), Duration::from_millis(5)).run(watch));
        loop {
            let cursor = app.store.connector_cursor(&name).await.unwrap();
            if cursor.and_then(|c| c.cursor).as_deref() == Some(newest.as_str()) {
                let s = app.connectors.get(&name).unwrap();
                stored += s.counters.events_stored;
                dead += s.counters.dead_letters;
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        stop.stop();
        task.await.unwrap();
    }
    (stored, dead, started.elapsed().as_secs_f64())
}

async fn throughput() {
    let days = env_f64("MES_BENCH_DAYS", 3.0);
    let runs = env_u64("MES_BENCH_RUNS", 3).max(1);
    let emu = Emu::start(mesemu::Config {
        speed: 0.0,
        days: days + 1.0,
        page_size: 500,
        ..mesemu::Config::default()
    })
    .await;
    emu.emulator
        .advance(mesemu::Step::Minutes(days * 1440.0))
        .await
        .unwrap();
    let status = emu.emulator.status().await.unwrap();
    let token = emu.token().await;
    let mut rates = Vec::new();
    let mut last = (0, 0, 0.0);
    for _ in 0..runs {
        last = ingest_backlog(&emu, &token).await;
        rates.push(last.0 as f64 / last.2);
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "(a) throughput: {days} plant days, {} plant events in the emulator → {} events stored \
         ({} dead letters) per run; median {:.0} events/s over {runs} runs (min {:.0}, max {:.0})",
        status.events,
        last.0,
        last.1,
        percentile(&rates, 50.0),
        rates[0],
        rates[rates.len() - 1]
    );
    emu.emulator.stop().await;
}

async fn lag() {
    let poll = env_f64("MES_BENCH_POLL_SECONDS", 5.0);
    let changes = env_u64("MES_BENCH_CHANGES", 6).max(1);
    let emu = Emu::start(mesemu::Config {
        speed: 0.0,
        days: 2.0,
        ..mesemu::Config::default()
    })
    .await;
    let token = emu.token().await;
    let app = fresh_app(emu.config.start).await;
    let set = ("Equipment", "EquipmentStatusHistory");
    let name = format!("mes-{}", set.1);
    let (stop, watch) = connect::stop_pair();
    let task = tokio::spawn(runner(&app, &emu, set, Duration::from_secs_f64(poll)).run(watch));
    let stored = |app: &app::App| {
        app.connectors
            .get(&name)
            .map_or(0, |s| s.counters.events_stored)
    };
    // A seeded generator of the moments the changes are made at (xorshift).
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 10_000) as f64 / 10_000.0
    };
    let units = ["R-101", "R-102", "R-103", "FS-1", "FS-2", "CC-1"];
    let mut lags = Vec::new();
    for n in 0..changes {
        tokio::time::sleep(Duration::from_secs_f64(next() * poll)).await;
        let before = stored(&app);
        let unit = units[n as usize % units.len()];
        let state = if (n / units.len() as u64).is_multiple_of(2) {
            "Down"
        } else {
            "Idle"
        };
        let answer = emu
            .command(
                &token,
                "Equipment",
                "SetEquipmentStatus",
                json!({"EquipmentNId": unit, "Status": state, "Reason": "bench",
                       "IdempotencyKey": format!("bench-lag-{n}")}),
            )
            .await;
        assert_eq!(answer["Succeeded"], true, "{answer}");
        let changed = Instant::now();
        let deadline = changed + Duration::from_secs_f64(poll * 4.0 + 30.0);
        while stored(&app) == before
            || !app
                .store
                .snapshot()
                .await
                .state
                .units
                .get(&model::UnitId::from(unit))
                .is_some_and(|u| format!("{:?}", u.state).eq_ignore_ascii_case(state))
        {
            assert!(Instant::now() < deadline, "change {n} never stored");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        lags.push(changed.elapsed().as_secs_f64());
    }
    stop.stop();
    task.await.unwrap();
    lags.sort_by(f64::total_cmp);
    println!(
        "(b) lag: {changes} changes at a {poll} s poll → median {:.2} s, p99 {:.2} s (min {:.2}, max {:.2})",
        percentile(&lags, 50.0),
        percentile(&lags, 99.0),
        lags[0],
        lags[lags.len() - 1]
    );
    emu.emulator.stop().await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(throughput());
    runtime.block_on(lag());
}
