//! The broker sources measured against the machine's Mosquitto (127.0.0.1:1883) and, with
//! feature `nats`, NATS JetStream (127.0.0.1:4222) — issue #15's closing figures:
//!
//! (a) **throughput** — the connector runs (runner, in-memory store holding the reference
//! plant); a publisher sends `BROKER_BENCH_EVENTS` (default 20,000) equipment states and quality
//! results as fast as the broker takes them (QoS 1 / JetStream acknowledged publish); events
//! stored per second from the first publication to the last event stored. Median of
//! `BROKER_BENCH_RUNS` (default 3).
//!
//! (b) **lag** — the publisher sends `BROKER_BENCH_LAG_EVENTS` (default 2,000) at
//! `BROKER_BENCH_RATE` per second (default 200); the time from each publication to the runner
//! having stored its event (the connector's stored-event counter, read every millisecond;
//! one topic or subject, so events arrive in order). Median and p99.
//!
//! `cargo bench -p connect --features nats --bench brokers`. Not a timed test: nothing fails
//! on a slow machine.

#[path = "../tests/common/brokers.rs"]
#[allow(dead_code)]
mod brokers;

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::App;
use connect::source::Source;
use connect::{Pacing, Runner, stop_pair};
use govern::{Principal, PrincipalKind, Role, Scope};
use store::{Actor, Store};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

const NAME: &str = "bench";

/// How far the throughput publisher may run ahead of what is stored.
const MAX_AHEAD: u64 = 800;

/// A fresh store holding the reference plant.
async fn app() -> App {
    let store = Store::open_in_memory().await.unwrap();
    store
        .put_plant_at(
            sim::reference_plant(),
            Some(sim::SimOptions::default().start),
            &Actor::system("bench"),
        )
        .await
        .unwrap();
    App::new(Arc::new(store))
}

fn runner<S: Source + 'static>(app: &App, source: S) -> Runner<S> {
    Runner {
        source,
        app: app.clone(),
        principal: Principal::new(
            "connector-bench",
            PrincipalKind::Service,
            Role::Operator,
            Scope::All,
        ),
        kind: "bench".into(),
        pacing: Pacing::with_interval(Duration::from_millis(10)),
    }
}

fn stored(app: &App) -> u64 {
    app.connectors
        .get(NAME)
        .map_or(0, |s| s.counters.events_stored)
}

/// The payloads of `n` plant events labelled `label`.
fn payloads(label: &str, n: usize) -> Vec<Vec<u8>> {
    let plant = sim::reference_plant();
    let start = sim::SimOptions::default().start;
    (0..n)
        .map(|i| serde_json::to_vec(&brokers::plant_event(&plant, start, label, i)).unwrap())
        .collect()
}

/// A broker the benchmark publishes to: how to make a source reading what it publishes.
trait Bench {
    type Source: Source + 'static;
    async fn source(&mut self, label: &str) -> Self::Source;
    /// Publishes one payload and waits for the broker's acknowledgement.
    async fn publish(&mut self, payload: Vec<u8>);
}

/// Events per second through the source, from the first publication to the last stored.
async fn throughput<B: Bench>(bench: &mut B, label: &str, n: usize) -> f64 {
    let app = app().await;
    let source = bench.source(label).await;
    let (stop, watch) = stop_pair();
    let task = tokio::spawn(runner(&app, source).run(watch));
    let messages = payloads(label, n);
    let started = Instant::now();
    for (published, payload) in messages.into_iter().enumerate() {
        // Mosquitto drops QoS 1 messages queued for a client past `max_queued_messages` (1,000
        // by default): the publisher keeps within that of what is stored.
        while published as u64 > stored(&app) + MAX_AHEAD {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        bench.publish(payload).await;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while stored(&app) < n as u64 {
        assert!(Instant::now() < deadline, "stored {} of {n}", stored(&app));
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    stop.stop();
    task.await.unwrap();
    n as f64 / seconds
}

/// Seconds from each publication to its event stored, sorted.
async fn lag<B: Bench>(bench: &mut B, label: &str, n: usize, rate: f64) -> Vec<f64> {
    let app = app().await;
    let source = bench.source(label).await;
    let (stop, watch) = stop_pair();
    let task = tokio::spawn(runner(&app, source).run(watch));
    // The instant the stored counter first reached each count.
    let watcher = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut reached = vec![None; n];
            let mut seen = 0usize;
            while seen < n {
                let now = Instant::now();
                let count = (stored(&app) as usize).min(n);
                for slot in &mut reached[seen..count] {
                    *slot = Some(now);
                }
                seen = seen.max(count);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            reached
        })
    };
    let mut published = Vec::with_capacity(n);
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    for payload in payloads(label, n) {
        ticks.tick().await;
        published.push(Instant::now());
        bench.publish(payload).await;
    }
    let reached = watcher.await.unwrap();
    stop.stop();
    task.await.unwrap();
    let mut lags: Vec<f64> = published
        .iter()
        .zip(reached)
        .map(|(at, stored)| stored.unwrap().saturating_duration_since(*at).as_secs_f64())
        .collect();
    lags.sort_by(f64::total_cmp);
    lags
}

async fn measure<B: Bench>(what: &str, bench: &mut B) {
    let runs = env_usize("BROKER_BENCH_RUNS", 3);
    let events = env_usize("BROKER_BENCH_EVENTS", 20_000);
    let lag_events = env_usize("BROKER_BENCH_LAG_EVENTS", 2_000);
    let rate = env_usize("BROKER_BENCH_RATE", 200) as f64;
    let mut rates = Vec::new();
    for run in 0..runs {
        let label = brokers::unique(&format!("bench-{what}-{run}"));
        let per_second = throughput(bench, &label, events).await;
        println!("{what} (a) run {run}: {events} events, {per_second:.0} events/s");
        rates.push(per_second);
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "{what} (a) throughput: median {:.0} events/s over {runs} runs",
        rates[rates.len() / 2]
    );
    let label = brokers::unique(&format!("bench-{what}-lag"));
    let lags = lag(bench, &label, lag_events, rate).await;
    println!(
        "{what} (b) lag: {lag_events} events at {rate} /s → median {:.1} ms, p99 {:.1} ms (min {:.1}, max {:.1})",
        percentile(&lags, 50.0) * 1e3,
        percentile(&lags, 99.0) * 1e3,
        lags[0] * 1e3,
        lags[lags.len() - 1] * 1e3
    );
}

mod mqtt {
    use super::*;
    use connect::mqtt::{MqttSettings, MqttSource};
    use rumqttc::{AsyncClient, MqttOptions, QoS};

    pub struct MqttBench {
        client: AsyncClient,
        topic: String,
        _driver: tokio::task::JoinHandle<()>,
        acks: tokio::sync::mpsc::UnboundedReceiver<()>,
    }

    impl MqttBench {
        pub fn new() -> MqttBench {
            let options = MqttOptions::new(brokers::unique("bench-publisher"), "127.0.0.1", 1883);
            let (client, mut events) = AsyncClient::new(options, 64);
            let (tx, acks) = tokio::sync::mpsc::unbounded_channel();
            let driver = tokio::spawn(async move {
                while let Ok(event) = events.poll().await {
                    if let rumqttc::Event::Incoming(rumqttc::Incoming::PubAck(_)) = event {
                        let _ = tx.send(());
                    }
                }
            });
            MqttBench {
                client,
                topic: String::new(),
                _driver: driver,
                acks,
            }
        }
    }

    impl Bench for MqttBench {
        type Source = MqttSource;

        async fn source(&mut self, label: &str) -> MqttSource {
            self.topic = format!("mixplane-bench/{label}/events");
            let mut source = MqttSource::new(
                NAME,
                MqttSettings {
                    host: "127.0.0.1".into(),
                    port: 1883,
                    topics: vec![self.topic.clone()],
                    client_id: Some(format!("mixplane-{label}")),
                    username: None,
                    password: None,
                    keep_alive_seconds: 30,
                    batch_max: 500,
                    wait_ms: 200,
                },
            );
            // The session exists before anything is published.
            source.poll(None).await.unwrap();
            source.close().await;
            source
        }

        async fn publish(&mut self, payload: Vec<u8>) {
            self.client
                .publish(&self.topic, QoS::AtLeastOnce, false, payload)
                .await
                .unwrap();
            self.acks.recv().await.unwrap();
        }
    }
}

#[cfg(feature = "nats")]
mod nats {
    use super::*;
    use async_nats::jetstream;
    use connect::nats::{NatsSettings, NatsSource};

    pub struct NatsBench {
        context: jetstream::Context,
        streams: Vec<String>,
        subject: String,
    }

    impl NatsBench {
        pub async fn new() -> NatsBench {
            let client = async_nats::connect("nats://127.0.0.1:4222").await.unwrap();
            NatsBench {
                context: jetstream::new(client),
                streams: Vec::new(),
                subject: String::new(),
            }
        }

        pub async fn clean(&self) {
            for stream in &self.streams {
                let _ = self.context.delete_stream(stream).await;
            }
        }
    }

    impl Bench for NatsBench {
        type Source = NatsSource;

        async fn source(&mut self, label: &str) -> NatsSource {
            let token = label.replace('-', "_");
            let stream = format!("MXB_{token}");
            self.subject = format!("mxb.{token}.events");
            self.context
                .create_stream(jetstream::stream::Config {
                    name: stream.clone(),
                    subjects: vec![self.subject.clone()],
                    ..Default::default()
                })
                .await
                .unwrap();
            self.streams.push(stream.clone());
            NatsSource::new(
                NAME,
                NatsSettings {
                    url: "nats://127.0.0.1:4222".into(),
                    stream,
                    consumer: None,
                    subjects: Vec::new(),
                    username: None,
                    password: None,
                    token: None,
                    batch_max: 256,
                    wait_ms: 200,
                    ack_wait_seconds: 30.0,
                },
            )
        }

        async fn publish(&mut self, payload: Vec<u8>) {
            self.context
                .publish(self.subject.clone(), payload.into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!("broker sources: in-memory store, reference plant; figures are this machine's");
    let mut mqtt = mqtt::MqttBench::new();
    measure("mqtt", &mut mqtt).await;
    #[cfg(feature = "nats")]
    {
        let mut nats = nats::NatsBench::new().await;
        measure("nats", &mut nats).await;
        nats.clean().await;
    }
    #[cfg(not(feature = "nats"))]
    println!("nats: built without feature `nats`; `--features nats` measures it");
}
