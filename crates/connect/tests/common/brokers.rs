//! What the broker tests share: a TCP gate between the connector and the machine's broker
//! (taken down and brought back without touching the broker, which other tests use), names
//! no other run uses, and plant events to publish.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use model::{Plant, Timestamp};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A loopback port forwarding to `target` until taken down: then every open connection is cut
/// and new ones are closed at once, as a broker that went away would.
pub struct TcpGate {
    pub port: u16,
    down: Arc<AtomicBool>,
    connections: Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl TcpGate {
    pub async fn open(target: u16) -> TcpGate {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(std::sync::Mutex::new(Vec::new()));
        let accept = {
            let down = down.clone();
            let connections = connections.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((mut inbound, _)) = listener.accept().await else {
                        return;
                    };
                    if down.load(Ordering::SeqCst) {
                        drop(inbound);
                        continue;
                    }
                    let forward = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target)).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    connections.lock().unwrap().push(forward);
                }
            })
        };
        TcpGate {
            port,
            down,
            connections,
            accept,
        }
    }

    /// Cuts every connection and refuses new ones.
    pub fn down(&self) {
        self.down.store(true, Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    pub fn up(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

impl Drop for TcpGate {
    fn drop(&mut self) {
        self.accept.abort();
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }
}

/// Whether the broker on `port` answers. When it does not, the test says so and passes, unless
/// `MIXPLANE_REQUIRE_BROKERS=1` (`.ci/run`), which makes it fail.
pub async fn reachable(port: u16, what: &str) -> bool {
    if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
        return true;
    }
    if std::env::var("MIXPLANE_REQUIRE_BROKERS").is_ok_and(|v| v == "1") {
        panic!("{what} does not answer on 127.0.0.1:{port}, and MIXPLANE_REQUIRE_BROKERS=1");
    }
    eprintln!(
        "skipped: {what} does not answer on 127.0.0.1:{port} (MIXPLANE_REQUIRE_BROKERS=1 makes this a failure)"
    );
    false
}

/// A label no other test run on this machine uses (brokers outlive test processes).
pub fn unique(label: &str) -> String {
    format!(
        "{label}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// Event `index` of a stream of equipment states and quality results of the reference plant:
/// even indices a unit's state, odd ones a result of an inspected characteristic. Its id is
/// `{label}-{index}`.
pub fn plant_event(
    plant: &Plant,
    start: Timestamp,
    label: &str,
    index: usize,
) -> serde_json::Value {
    let time = start.plus_minutes(index as f64 / 10.0);
    let id = format!("{label}-{index}");
    if index.is_multiple_of(2) {
        let unit = &plant.units[(index / 2) % plant.units.len()];
        let states = ["running", "idle", "setup", "cleaning", "down"];
        serde_json::json!({
            "id": id, "time": time, "source": "broker-test", "type": "equipment_state_changed",
            "unit": unit.id, "state": states[(index / 2) % states.len()],
        })
    } else {
        let characteristics: Vec<_> = plant
            .inspection_plans
            .iter()
            .flat_map(|plan| &plan.characteristics)
            .collect();
        let characteristic = characteristics[(index / 2) % characteristics.len()];
        serde_json::json!({
            "id": id, "time": time, "source": "broker-test", "type": "quality_result_recorded",
            "characteristic": characteristic.id, "value": 10.0 + (index % 7) as f64 / 10.0,
        })
    }
}

/// The equipment states and quality results a broker test publishes ([`plant_event`], numbered
/// from 0), and what it has published, for a test that publishes it all again.
pub struct PlantStream {
    plant: Plant,
    start: Timestamp,
    label: String,
    next: usize,
    published: Vec<(usize, Vec<u8>)>,
}

impl PlantStream {
    /// A stream of the reference plant whose event ids start with `label`.
    pub fn new(label: &str) -> PlantStream {
        PlantStream {
            plant: sim::reference_plant(),
            start: sim::SimOptions::default().start,
            label: label.to_owned(),
            next: 0,
            published: Vec::new(),
        }
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn plant(&self) -> (Plant, Timestamp) {
        (self.plant.clone(), self.start)
    }

    /// The next `n` payloads with their numbers (remembered as published), and the ids of
    /// their events.
    pub fn next(&mut self, n: usize) -> (Vec<(usize, Vec<u8>)>, Vec<String>) {
        let numbers = self.next..self.next + n;
        self.next += n;
        let payloads: Vec<(usize, Vec<u8>)> = numbers
            .clone()
            .map(|i| {
                let event = plant_event(&self.plant, self.start, &self.label, i);
                (i, serde_json::to_vec(&event).unwrap())
            })
            .collect();
        self.published.extend(payloads.iter().cloned());
        let ids = numbers.map(|i| format!("{}-{i}", self.label)).collect();
        (payloads, ids)
    }

    /// Everything published so far, with its numbers.
    pub fn published(&self) -> Vec<(usize, Vec<u8>)> {
        self.published.clone()
    }
}

/// The ids of the events `records` map to (every record mapped).
pub fn event_ids(records: &[connect::source::Record]) -> Vec<String> {
    records
        .iter()
        .flat_map(|r| r.mapped.as_ref().unwrap())
        .map(|e| e.id.to_string())
        .collect()
}

/// A message no connector can map: an event type that does not exist.
pub const POISON: &[u8] =
    br#"{"id": "poison", "type": "no_such_event", "time": "2026-03-02T06:00:00Z"}"#;
