//! The `nats` source (feature `nats`) against the machine's NATS server with JetStream
//! (127.0.0.1:4222): the compliance harness, and what a durable consumer acknowledged after the
//! store promises. Each test has a memory stream of its own, deleted at the end; the connector
//! reaches the server through a [`TcpGate`], the test's publisher directly.
#![cfg(feature = "nats")]

mod common;
mod compliance;

use std::collections::BTreeSet;

use async_nats::jetstream;
use common::brokers::{POISON, PlantStream, TcpGate, event_ids, reachable, unique};
use compliance::Peer;
use connect::nats::{NatsSettings, NatsSource};
use connect::source::Source;
use model::{Plant, Timestamp};

const SERVER: &str = "nats://127.0.0.1:4222";

/// A stream of its own on the server, and a gate the connector goes through.
struct NatsPeer {
    stream: String,
    subject: String,
    label: String,
    gate: TcpGate,
    publisher: jetstream::Context,
    events: PlantStream,
}

impl NatsPeer {
    /// A peer on the machine's broker, or `None` when it does not run here (see [`reachable`]).
    async fn new(label: &str) -> Option<NatsPeer> {
        if !reachable(4222, "NATS with JetStream").await {
            return None;
        }
        let label = unique(label);
        let stream = format!("MXT_{}", label.replace('-', "_"));
        let subject = format!("mxt.{}", label.replace('-', "_"));
        let client = async_nats::connect(SERVER)
            .await
            .expect("NATS with JetStream runs on 127.0.0.1:4222");
        let publisher = jetstream::new(client);
        publisher
            .create_stream(jetstream::stream::Config {
                name: stream.clone(),
                subjects: vec![format!("{subject}.>")],
                storage: jetstream::stream::StorageType::Memory,
                ..Default::default()
            })
            .await
            .unwrap();
        Some(NatsPeer {
            events: PlantStream::new(&label),
            stream,
            subject,
            label,
            gate: TcpGate::open(4222).await,
            publisher,
        })
    }

    fn settings(&self) -> NatsSettings {
        NatsSettings {
            url: format!("nats://127.0.0.1:{}", self.gate.port),
            stream: self.stream.clone(),
            consumer: Some(format!("mixplane-{}", self.label)),
            subjects: Vec::new(),
            username: None,
            password: None,
            token: None,
            batch_max: 50,
            wait_ms: 50,
            ack_wait_seconds: 1.0,
        }
    }

    async fn publish(&self, index: usize, payload: Vec<u8>) {
        let leaf = if index.is_multiple_of(2) {
            "state"
        } else {
            "quality"
        };
        self.publisher
            .publish(format!("{}.{leaf}", self.subject), payload.into())
            .await
            .unwrap()
            .await
            .expect("the stream stores the message");
    }
}

impl Drop for NatsPeer {
    fn drop(&mut self) {
        let stream = self.stream.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                if let Ok(client) = async_nats::connect(SERVER).await {
                    let _ = jetstream::new(client).delete_stream(&stream).await;
                }
            });
        })
        .join()
        .unwrap();
    }
}

impl Peer for NatsPeer {
    type Source = NatsSource;

    fn source(&self, name: &str, _app: &app::App) -> NatsSource {
        NatsSource::new(name, self.settings())
    }

    fn plant(&self) -> (Plant, Timestamp) {
        self.events.plant()
    }

    async fn produce(&mut self, n: usize) -> Vec<String> {
        let (payloads, ids) = self.events.next(n);
        for (i, payload) in payloads {
            self.publish(i, payload).await;
        }
        ids
    }

    async fn repeat(&mut self) {
        for (i, payload) in self.events.published() {
            self.publish(i, payload).await;
        }
    }

    async fn poison(&mut self) {
        self.publish(0, POISON.to_vec()).await;
    }

    async fn down(&mut self) {
        self.gate.down();
    }

    async fn up(&mut self) {
        self.gate.up();
    }
}

compliance_tests!(nats, optional NatsPeer::new("nats").await);

/// Messages a source took and never acknowledged (killed before its store) are delivered again
/// to the durable consumer's next reader once the acknowledgement wait is over; acknowledged
/// ones are not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_not_acknowledged_comes_again_and_what_is_does_not() {
    let Some(mut peer) = NatsPeer::new("nats-ack").await else {
        return;
    };
    let app = app::App::new(std::sync::Arc::new(
        store::test_support::private_store().await.unwrap(),
    ));
    let ids = peer.produce(6).await;

    let mut first = peer.source(compliance::NAME, &app);
    let mut taken = Vec::new();
    for _ in 0..100 {
        taken = event_ids(&first.poll(None).await.unwrap().records);
        if !taken.is_empty() {
            break;
        }
    }
    assert!(!taken.is_empty(), "nothing was delivered");
    drop(first);

    let mut second = peer.source(compliance::NAME, &app);
    let mut seen = BTreeSet::new();
    let mut cursor: Option<String> = None;
    for _ in 0..200 {
        let batch = second.poll(cursor.as_deref()).await.unwrap();
        seen.extend(event_ids(&batch.records));
        cursor = batch.cursor.or(cursor);
        second.acknowledge().await.unwrap();
        if seen.len() == ids.len() {
            break;
        }
    }
    let wanted: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(
        seen, wanted,
        "the unacknowledged {taken:?} did not come again"
    );
    assert_eq!(
        cursor.as_deref(),
        Some("6"),
        "the cursor is the last stream sequence"
    );
    second.close().await;

    // Longer than the acknowledgement wait: nothing acknowledged comes again.
    let mut third = peer.source(compliance::NAME, &app);
    let mut again = Vec::new();
    let until = tokio::time::Instant::now() + std::time::Duration::from_millis(1500);
    while tokio::time::Instant::now() < until {
        again.extend(event_ids(
            &third.poll(cursor.as_deref()).await.unwrap().records,
        ));
    }
    assert!(
        again.is_empty(),
        "acknowledged messages came again: {again:?}"
    );
}

/// What is published while the connector is stopped is kept by the stream and stored when it
/// starts again; equipment states and quality results land as those events, and the cursor is
/// the stream sequence of the last one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_holds_what_is_published_while_the_connector_is_stopped() {
    let Some(peer) = NatsPeer::new("nats-held").await else {
        return;
    };
    let (_app, cursor) = compliance::holds_states_and_results_while_stopped(peer).await;
    assert_eq!(
        cursor.as_deref(),
        Some("20"),
        "the cursor is the last stream sequence"
    );
}
