//! The `mqtt` source against the machine's Mosquitto (127.0.0.1:1883): the compliance harness,
//! and what a persistent session with acknowledgement after the store promises. The connector
//! reaches the broker through a [`TcpGate`], so the peer can go down without stopping a broker
//! other tests use; the test's publisher talks to the broker directly.

mod common;
mod compliance;

use std::time::Duration;

use common::brokers::{POISON, PlantStream, TcpGate, event_ids, reachable, unique};
use compliance::Peer;
use connect::mqtt::{MqttSettings, MqttSource};
use connect::source::Source;
use model::{Plant, Timestamp};
use rumqttc::{AsyncClient, Event, Incoming, MqttOptions, QoS};

const BROKER_PORT: u16 = 1883;

/// Publishes `payloads` with QoS 1 and returns once the broker has acknowledged every one.
async fn publish(topic_of: impl Fn(usize) -> String, payloads: &[Vec<u8>]) {
    let mut options = MqttOptions::new(unique("publisher"), "127.0.0.1", BROKER_PORT);
    options.set_keep_alive(Duration::from_secs(10));
    let (client, mut events) = AsyncClient::new(options, payloads.len() + 4);
    for (i, payload) in payloads.iter().enumerate() {
        client
            .try_publish(topic_of(i), QoS::AtLeastOnce, false, payload.clone())
            .unwrap();
    }
    let mut acknowledged = 0;
    while acknowledged < payloads.len() {
        let event = tokio::time::timeout(Duration::from_secs(20), events.poll())
            .await
            .expect("the broker acknowledges the publications")
            .expect("the broker is reachable on 127.0.0.1:1883");
        if let Event::Incoming(Incoming::PubAck(_)) = event {
            acknowledged += 1;
        }
    }
    let _ = client.try_disconnect();
}

/// Connects as `client_id` with a clean session, which removes the session the tests left.
fn forget_session(client_id: String) {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let mut options = MqttOptions::new(client_id, "127.0.0.1", BROKER_PORT);
            options.set_clean_session(true);
            let (_client, mut events) = AsyncClient::new(options, 4);
            let _ = tokio::time::timeout(Duration::from_secs(5), async {
                while let Ok(event) = events.poll().await {
                    if let Event::Incoming(Incoming::ConnAck(_)) = event {
                        return;
                    }
                }
            })
            .await;
        });
    })
    .join()
    .unwrap();
}

/// A topic tree of its own on the broker, a session the connector's client id holds there,
/// and a gate the connector goes through.
struct MqttPeer {
    label: String,
    gate: TcpGate,
    stream: PlantStream,
}

impl MqttPeer {
    /// A peer on the machine's broker, or `None` when it does not run here (see [`reachable`]).
    async fn new(label: &str) -> Option<MqttPeer> {
        if !reachable(BROKER_PORT, "Mosquitto").await {
            return None;
        }
        let label = unique(label);
        let peer = MqttPeer {
            stream: PlantStream::new(&label),
            label,
            gate: TcpGate::open(BROKER_PORT).await,
        };
        // The session exists from the connector's first connection: create it before anything
        // is published, as a deployed connector would have.
        let mut source = peer.source(compliance::NAME, &app_placeholder().await);
        source
            .poll(None)
            .await
            .expect("the broker takes the session");
        Some(peer)
    }

    fn client_id(&self) -> String {
        format!("mixplane-test-{}", self.label)
    }

    fn settings(&self) -> MqttSettings {
        MqttSettings {
            host: "127.0.0.1".into(),
            port: self.gate.port,
            topics: vec![format!("mixplane-test/{}/#", self.label)],
            client_id: Some(self.client_id()),
            username: None,
            password: None,
            keep_alive_seconds: 10,
            batch_max: 50,
            wait_ms: 50,
        }
    }

    /// Publishes numbered payloads, each on the topic its number gives.
    async fn publish(&self, payloads: &[(usize, Vec<u8>)]) {
        let bodies: Vec<Vec<u8>> = payloads.iter().map(|(_, p)| p.clone()).collect();
        publish(|k| self.topic(payloads[k].0), &bodies).await;
    }

    fn topic(&self, index: usize) -> String {
        let leaf = if index.is_multiple_of(2) {
            "state"
        } else {
            "quality"
        };
        format!("mixplane-test/{}/{leaf}", self.label)
    }
}

/// `Peer::source` takes an app; the MQTT kind maps without one.
async fn app_placeholder() -> app::App {
    app::App::new(std::sync::Arc::new(
        store::test_support::private_store().await.unwrap(),
    ))
}

impl Drop for MqttPeer {
    fn drop(&mut self) {
        forget_session(self.client_id());
    }
}

impl Peer for MqttPeer {
    type Source = MqttSource;

    fn source(&self, name: &str, _app: &app::App) -> MqttSource {
        MqttSource::new(name, self.settings())
    }

    fn plant(&self) -> (Plant, Timestamp) {
        self.stream.plant()
    }

    async fn produce(&mut self, n: usize) -> Vec<String> {
        let (payloads, ids) = self.stream.next(n);
        self.publish(&payloads).await;
        ids
    }

    async fn repeat(&mut self) {
        let again = self.stream.published();
        self.publish(&again).await;
    }

    async fn poison(&mut self) {
        publish(|_| self.topic(0), &[POISON.to_vec()]).await;
    }

    async fn down(&mut self) {
        self.gate.down();
    }

    async fn up(&mut self) {
        self.gate.up();
    }

    fn replays_after_reset(&self) -> bool {
        false
    }
}

compliance_tests!(mqtt, optional MqttPeer::new("mqtt").await);

/// Messages a source took and never acknowledged (its batch was not stored) come again to
/// the next connection of the session; acknowledged ones do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_is_not_acknowledged_comes_again_and_what_is_does_not() {
    let Some(mut peer) = MqttPeer::new("mqtt-ack").await else {
        return;
    };
    let app = app_placeholder().await;
    let ids = peer.produce(6).await;

    // Taken and never acknowledged: the connector was killed before its store.
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

    // The next connection of the session gets them again; this one acknowledges each batch.
    let mut second = peer.source(compliance::NAME, &app);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..100 {
        seen.extend(event_ids(&second.poll(None).await.unwrap().records));
        second.acknowledge().await.unwrap();
        if seen.len() == ids.len() {
            break;
        }
    }
    let wanted: std::collections::BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(
        seen, wanted,
        "the unacknowledged {taken:?} did not come again"
    );
    second.close().await;

    let mut third = peer.source(compliance::NAME, &app);
    let batch = third.poll(None).await.unwrap();
    assert!(
        batch.records.is_empty(),
        "acknowledged messages came again: {:?}",
        batch.records
    );
}

/// What is published while the connector is stopped is held by its session and stored when it
/// starts again; equipment states and quality results land as those events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_holds_what_is_published_while_the_connector_is_stopped() {
    let Some(peer) = MqttPeer::new("mqtt-session").await else {
        return;
    };
    let (_app, cursor) = compliance::holds_states_and_results_while_stopped(peer).await;
    let cursor = cursor.unwrap();
    assert!(
        cursor.starts_with("20 "),
        "the cursor counts the messages stored: {cursor}"
    );
}
