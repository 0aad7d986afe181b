//! Throughput of the OData source from the MES emulator into the store: every set of the
//! profile read (in `opcenter::EntitySet::ALL` order) by the `odata` kind through the
//! runner — HTTP with OAuth, paging, mapping against the store's state, storing with the
//! cursor — into an in-memory SQLite store; prints rows and events per second.
//!
//! `cargo bench -p connect --bench odata_source [-- DAYS]` (default 5 plant days).

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::App;
use connect::{ConnectorSpec, Kinds, Pacing, Runner, stop_pair};
use govern::{Principal, PrincipalKind, Role, Scope};
use mesemu::{Config, Emulator};

fn main() {
    let days: f64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5.0);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(days));
}

async fn run(days: f64) {
    let config = Config {
        speed: 0.0,
        page_size: 500,
        days: days + 1.0,
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let emulator = Emulator::start(listener, config.clone()).await.unwrap();
    let base = format!("http://{}", emulator.addr());
    let client = mesemu::client::Client::new(base.clone(), config.credentials.clone());
    client
        .admin(
            "/emulator/advance",
            &serde_json::json!({ "minutes": days * 24.0 * 60.0 }),
        )
        .await
        .unwrap();
    let token = client.sign_in().await.unwrap();
    let c = &config.credentials;

    let store = store::Store::open_in_memory().await.unwrap();
    store
        .put_plant_at(
            sim::reference_plant(),
            Some(config.start),
            &store::Actor::system("bench"),
        )
        .await
        .unwrap();
    let app = App::new(Arc::new(store));
    let kinds = Kinds::for_app(&app);
    println!("plant days {days}; set, rows, events, seconds, rows/s, events/s");
    let (mut all_rows, mut all_events, mut all_seconds) = (0u64, 0u64, 0f64);
    for set in opcenter::EntitySet::ALL {
        let name = format!("bench-{}", set.name());
        let settings: toml::Table = toml::from_str(&format!(
            "base_url = {base:?}\napp = {:?}\nentity_set = {:?}\npage_size = 500\n\
             [auth]\nkind = \"password\"\nusername = {:?}\npassword = {:?}\nclient_id = {:?}\nclient_secret = {:?}\n",
            set.app().name(), set.name(), c.username, c.password, c.client_id, c.client_secret
        ))
        .unwrap();
        let spec = ConnectorSpec {
            name: name.clone(),
            kind: "odata".into(),
            principal: "connector-bench".into(),
            poll_interval: Duration::from_secs(3600),
            settings: serde_json::to_value(settings).unwrap(),
        };
        let source = kinds.build(&spec).unwrap();
        let (stop, watch) = stop_pair();
        let runner = Runner {
            source,
            app: app.clone(),
            principal: Principal::new(
                "connector-bench",
                PrincipalKind::Service,
                Role::Operator,
                Scope::All,
            ),
            kind: "odata".into(),
            pacing: Pacing {
                poll_interval: Duration::from_secs(3600),
                backoff_base: Duration::from_millis(10),
                backoff_cap: Duration::from_millis(100),
                max_retry_after: Duration::from_secs(1),
                seed: 1,
            },
        };
        // `$count` answers a bare number, which reads as JSON.
        let count_url = format!(
            "{base}/sit-svc/Application/{}/odata/{}/$count",
            set.app().name(),
            set.name()
        );
        let count = client
            .page(&token, &count_url)
            .await
            .unwrap()
            .as_u64()
            .expect("a count");
        let started = Instant::now();
        let task = tokio::spawn(runner.run(watch));
        // Caught up: every row the set holds was read and stored.
        let (rows, events) = loop {
            tokio::time::sleep(Duration::from_millis(2)).await;
            let Some(status) = app.connectors.get(&name) else {
                continue;
            };
            if status.counters.records >= count {
                break (status.counters.records, status.counters.events_stored);
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        stop.stop();
        task.await.unwrap();
        println!(
            "{set}, {rows}, {events}, {seconds:.3}, {:.0}, {:.0}",
            rows as f64 / seconds,
            events as f64 / seconds
        );
        all_rows += rows;
        all_events += events;
        all_seconds += seconds;
    }
    println!(
        "all, {all_rows}, {all_events}, {all_seconds:.3}, {:.0}, {:.0}",
        all_rows as f64 / all_seconds,
        all_events as f64 / all_seconds
    );
    emulator.stop().await;
}
