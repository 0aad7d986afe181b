//! The `mqtt` source: equipment states, quality results (any mixplane event document) published
//! on an MQTT 3.1.1 broker, read with QoS 1 in a persistent session and acknowledged only
//! once stored.
//!
//! - **Delivery.** The connector subscribes with QoS 1 under a fixed client id and a
//!   persistent session (`clean_session = false`), with manual acknowledgements: a message is
//!   `PUBACK`ed by [`Source::acknowledge`], after the runner's store committed. A connector that
//!   is stopped or killed keeps its session at the broker, which holds what is published
//!   meanwhile and delivers again (with `DUP`) what was delivered but not acknowledged.
//! - **Idempotency.** A message's events keep the ids their publisher gave them, so a message
//!   delivered twice stores nothing twice. The record's source id is the topic and a digest of
//!   the payload, so a poison message delivered twice is kept once.
//! - **What MQTT cannot do.** The broker keeps no history past the session: a store that lost
//!   events (a reset, a restore) cannot read them again from the broker, unlike a file, an
//!   OData feed or a JetStream stream. The stored cursor is informational: how many messages
//!   the connector has stored, and the last one's source id (`1234 plant/R-101/state#…`).
//! - **Batches.** A poll waits up to `wait_ms` for the first message, then gathers as
//!   [`crate::gather`] says, up to `batch_max`; the broker's in-flight window (Mosquitto's
//!   `max_inflight_messages`, 20 by default) bounds a batch too, since it sends no more until
//!   we acknowledge.
//! - **Connection.** The event loop is driven inside `poll` and `acknowledge`, by the runner's
//!   task alone, so a runner that is aborted takes its connection with it. A lost connection is
//!   `Unavailable`; the next poll connects again, and the pending acknowledgements of the lost
//!   one are dropped (the broker delivers those messages again).
//!
//! Settings: `host`, `port` (1883), `topics` (filters, `+` and `#` allowed), `client_id`
//! (`mixplane-{name}` by default; it names the session, so two connectors must not share it),
//! `username` and `password` (or `password_env`/`password_file`, resolved by the binary),
//! `keep_alive_seconds` (30), `batch_max` (500), `wait_ms` (500).

use std::collections::VecDeque;
use std::time::Duration;

use rumqttc::{
    AsyncClient, ConnectionError, Event as MqttEvent, EventLoop, Incoming, MqttOptions, Outgoing,
    Publish, QoS,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use tokio::time::Instant;

use crate::gather::Gathering;
use crate::kinds::{AnySource, ConnectError, ConnectorSpec};
use crate::payload::map_event_document;
use crate::source::{Batch, PeerError, Record, Source};

/// The kind's name in the configuration.
pub const KIND: &str = "mqtt";

/// How long connecting, subscribing or flushing acknowledgements may take.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(10);

/// The `settings` of an `mqtt` connector.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttSettings {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    pub topics: Vec<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default = "default_keep_alive")]
    pub keep_alive_seconds: u64,
    #[serde(default = "default_batch_max")]
    pub batch_max: usize,
    #[serde(default = "default_wait_ms")]
    pub wait_ms: u64,
}

fn default_port() -> u16 {
    1883
}

fn default_keep_alive() -> u64 {
    30
}

fn default_batch_max() -> usize {
    500
}

fn default_wait_ms() -> u64 {
    500
}

/// An open session: the client that queues requests and the loop that carries them.
struct Session {
    client: AsyncClient,
    events: EventLoop,
}

/// A subscription read in batches.
pub struct MqttSource {
    name: String,
    settings: MqttSettings,
    session: Option<Session>,
    /// Delivered by the broker but not yet returned by a poll.
    inbox: VecDeque<Publish>,
    /// Returned by the last poll, to be acknowledged once stored.
    unacknowledged: Vec<Publish>,
}

impl std::fmt::Debug for MqttSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttSource")
            .field("name", &self.name)
            .field("host", &self.settings.host)
            .field("topics", &self.settings.topics)
            .field("connected", &self.session.is_some())
            .finish()
    }
}

impl MqttSource {
    pub fn new(name: impl Into<String>, settings: MqttSettings) -> MqttSource {
        MqttSource {
            name: name.into(),
            settings,
            session: None,
            inbox: VecDeque::new(),
            unacknowledged: Vec::new(),
        }
    }

    fn client_id(&self) -> String {
        self.settings
            .client_id
            .clone()
            .unwrap_or_else(|| format!("mixplane-{}", self.name))
    }

    fn options(&self) -> MqttOptions {
        let mut options = MqttOptions::new(
            self.client_id(),
            self.settings.host.clone(),
            self.settings.port,
        );
        options
            .set_keep_alive(Duration::from_secs(self.settings.keep_alive_seconds.max(5)))
            .set_clean_session(false)
            .set_manual_acks(true)
            .set_max_packet_size(2 << 20, 2 << 20);
        if let Some(user) = &self.settings.username {
            options.set_credentials(user, self.settings.password.clone().unwrap_or_default());
        }
        options
    }

    /// Connects and subscribes, unless connected.
    async fn connect(&mut self) -> Result<(), PeerError> {
        if self.session.is_some() {
            return Ok(());
        }
        // Requests are queued before the loop runs; room for a batch of acknowledgements.
        let capacity = self.settings.batch_max + self.settings.topics.len() + 16;
        let (client, mut events) = AsyncClient::new(self.options(), capacity);
        for topic in &self.settings.topics {
            client
                .try_subscribe(topic, QoS::AtLeastOnce)
                .map_err(|e| PeerError::Broken(format!("subscribing to `{topic}`: {e}")))?;
        }
        let mut pending = self.settings.topics.len();
        let deadline = tokio::time::Instant::now() + EXCHANGE_TIMEOUT;
        while pending > 0 {
            let event = tokio::time::timeout_at(deadline, events.poll())
                .await
                .map_err(|_| PeerError::unavailable("the broker did not confirm the subscription"))?
                .map_err(connection_error)?;
            match event {
                MqttEvent::Incoming(Incoming::SubAck(ack)) => {
                    if ack.return_codes.iter().any(|code| {
                        matches!(code, rumqttc::mqttbytes::v4::SubscribeReasonCode::Failure)
                    }) {
                        return Err(PeerError::Broken(format!(
                            "the broker refused the subscription to {:?}",
                            self.settings.topics
                        )));
                    }
                    pending -= 1;
                }
                MqttEvent::Incoming(Incoming::Publish(publish)) => self.inbox.push_back(publish),
                _ => {}
            }
        }
        self.session = Some(Session { client, events });
        Ok(())
    }

    /// Forgets the connection after a failure: what it delivered and was not acknowledged
    /// comes again on the next.
    fn disconnect(&mut self) {
        self.session = None;
        self.inbox.clear();
        self.unacknowledged.clear();
    }

    /// Waits up to `wait` for the first message, then gathers until quiet or full.
    async fn gather(&mut self, wait: Duration) -> Result<(), PeerError> {
        let Some(session) = self.session.as_mut() else {
            return Ok(());
        };
        let max = self.settings.batch_max;
        let mut gathering = Gathering::start(wait, !self.inbox.is_empty(), Instant::now());
        while self.inbox.len() < max {
            let Some(limit) = gathering.next_wait(Instant::now()) else {
                break;
            };
            match tokio::time::timeout(limit, session.events.poll()).await {
                Err(_) => break,
                Ok(Err(e)) => return Err(connection_error(e)),
                Ok(Ok(MqttEvent::Incoming(Incoming::Publish(publish)))) => {
                    self.inbox.push_back(publish);
                    gathering.took_one(Instant::now());
                }
                Ok(Ok(_)) => {}
            }
        }
        Ok(())
    }
}

/// The record of a message: its events or why not, its source id and its raw form.
fn record_of(publish: &Publish) -> Record {
    let digest = Sha256::digest(&publish.payload);
    let source_id = format!("{}#{}", publish.topic, model::wire::hex(&digest[..12]));
    let (mapped, raw) = map_event_document(&publish.payload);
    let raw = serde_json::json!({ "topic": publish.topic, "payload": raw });
    Record {
        source_id,
        mapped,
        raw,
    }
}

fn connection_error(e: ConnectionError) -> PeerError {
    match e {
        ConnectionError::ConnectionRefused(code) => match code {
            rumqttc::ConnectReturnCode::BadUserNamePassword
            | rumqttc::ConnectReturnCode::NotAuthorized => {
                PeerError::Unauthorized(format!("the broker refused the connection: {code:?}"))
            }
            other => {
                PeerError::unavailable(format!("the broker refused the connection: {other:?}"))
            }
        },
        other => PeerError::unavailable(format!("the broker connection failed: {other}")),
    }
}

/// Builds an `mqtt` source from its configuration.
pub fn factory(spec: &ConnectorSpec) -> Result<AnySource, ConnectError> {
    let settings: MqttSettings = spec.settings()?;
    let refuse = |message: &str| ConnectError::Settings {
        connector: spec.name.clone(),
        message: message.to_owned(),
    };
    if settings.topics.is_empty() {
        return Err(refuse("`topics` must name at least one topic filter"));
    }
    if let Some(bad) = settings.topics.iter().find(|t| !rumqttc::valid_filter(t)) {
        return Err(refuse(&format!("`{bad}` is not an MQTT topic filter")));
    }
    if settings.batch_max == 0 {
        return Err(refuse("`batch_max` must be at least 1"));
    }
    if settings.password.is_some() && settings.username.is_none() {
        return Err(refuse("a `password` needs a `username`"));
    }
    Ok(AnySource(Box::new(MqttSource::new(&spec.name, settings))))
}

impl Source for MqttSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn poll(&mut self, cursor: Option<&str>) -> Result<Batch, PeerError> {
        if !self.unacknowledged.is_empty() {
            // The runner polls again only after acknowledging; a batch it did not store
            // (a store that failed) must come again, and only the broker can send it again.
            self.disconnect();
        }
        let connected = self.connect().await;
        if let Err(e) = connected {
            self.disconnect();
            return Err(e);
        }
        let wait = Duration::from_millis(self.settings.wait_ms);
        if let Err(e) = self.gather(wait).await {
            self.disconnect();
            return Err(e);
        }
        let take = self.inbox.len().min(self.settings.batch_max);
        let publishes: Vec<Publish> = self.inbox.drain(..take).collect();
        let records: Vec<Record> = publishes.iter().map(record_of).collect();
        let stored_before = cursor
            .and_then(|c| c.split(' ').next())
            .and_then(|count| count.parse::<u64>().ok())
            .unwrap_or(0);
        let cursor = records.last().map(|last| {
            let count = stored_before + records.len() as u64;
            format!("{count} {}", last.source_id)
        });
        self.unacknowledged = publishes;
        Ok(Batch {
            more: !records.is_empty(),
            records,
            cursor,
        })
    }

    async fn acknowledge(&mut self) -> Result<(), PeerError> {
        if self.unacknowledged.is_empty() {
            return Ok(());
        }
        let Some(session) = self.session.as_mut() else {
            self.unacknowledged.clear();
            return Err(PeerError::unavailable(
                "the connection closed before the acknowledgement",
            ));
        };
        let mut waiting = std::collections::BTreeSet::new();
        for publish in &self.unacknowledged {
            if publish.qos != QoS::AtMostOnce {
                waiting.insert(publish.pkid);
            }
            if let Err(e) = session.client.try_ack(publish) {
                self.disconnect();
                return Err(PeerError::unavailable(format!(
                    "queueing the acknowledgement: {e}"
                )));
            }
        }
        // Drive the loop until every PUBACK is written, keeping what arrives meanwhile.
        let deadline = tokio::time::Instant::now() + EXCHANGE_TIMEOUT;
        while !waiting.is_empty() {
            let event = match tokio::time::timeout_at(deadline, session.events.poll()).await {
                Err(_) => Err(PeerError::unavailable(
                    "the acknowledgements were not sent in time",
                )),
                Ok(polled) => polled.map_err(connection_error),
            };
            match event {
                Err(e) => {
                    self.disconnect();
                    return Err(e);
                }
                Ok(MqttEvent::Outgoing(Outgoing::PubAck(pkid))) => {
                    waiting.remove(&pkid);
                }
                Ok(MqttEvent::Incoming(Incoming::Publish(publish))) => {
                    self.inbox.push_back(publish);
                }
                Ok(_) => {}
            }
        }
        self.unacknowledged.clear();
        Ok(())
    }

    async fn close(&mut self) {
        let Some(mut session) = self.session.take() else {
            return;
        };
        self.inbox.clear();
        self.unacknowledged.clear();
        // DISCONNECT keeps the persistent session; the broker closes the connection after it,
        // so everything written before (acknowledgements) has been read.
        if session.client.try_disconnect().is_ok() {
            let _ = tokio::time::timeout(EXCHANGE_TIMEOUT, async {
                while session.events.poll().await.is_ok() {}
            })
            .await;
        }
    }

    async fn check(&mut self) -> Result<(), PeerError> {
        // A session of its own, clean, so checking neither takes over nor changes the
        // connector's session.
        let mut options = self.options();
        options
            .set_client_id(format!("{}-check", self.client_id()))
            .set_clean_session(true);
        let (_client, mut events) = AsyncClient::new(options, 4);
        let deadline = tokio::time::Instant::now() + EXCHANGE_TIMEOUT;
        loop {
            let event = tokio::time::timeout_at(deadline, events.poll())
                .await
                .map_err(|_| PeerError::unavailable("the broker did not answer in time"))?
                .map_err(connection_error)?;
            if let MqttEvent::Incoming(Incoming::ConnAck(_)) = event {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(settings: serde_json::Value) -> ConnectorSpec {
        ConnectorSpec {
            name: "states".into(),
            kind: KIND.into(),
            principal: "p".into(),
            poll_interval: Duration::from_millis(100),
            settings,
        }
    }

    #[test]
    fn settings_are_checked_when_the_connector_is_built() {
        let ok = spec(serde_json::json!({ "host": "127.0.0.1", "topics": ["plant/+/state"] }));
        assert!(factory(&ok).is_ok());
        for (settings, wanted) in [
            (
                serde_json::json!({ "host": "h", "topics": [] }),
                "at least one",
            ),
            (
                serde_json::json!({ "host": "h", "topics": ["a/#/b"] }),
                "not an MQTT topic filter",
            ),
            (
                serde_json::json!({ "host": "h", "topics": ["a"], "password": "x" }),
                "needs a `username`",
            ),
            (
                serde_json::json!({ "host": "h", "topics": ["a"], "qos": 2 }),
                "unknown field",
            ),
        ] {
            let Err(e) = factory(&spec(settings)) else {
                panic!("built despite {wanted}")
            };
            assert!(e.to_string().contains(wanted), "{e}");
        }
    }

    #[test]
    fn a_message_is_recorded_by_topic_and_payload_digest() {
        let mut publish = Publish::new("plant/R-101/state", QoS::AtLeastOnce, b"nope".to_vec());
        publish.pkid = 7;
        let first = record_of(&publish);
        publish.pkid = 9;
        publish.dup = true;
        let again = record_of(&publish);
        assert_eq!(
            first.source_id, again.source_id,
            "a redelivery is the same record"
        );
        assert!(first.source_id.starts_with("plant/R-101/state#"));
        assert!(first.mapped.unwrap_err().contains("not a mixplane event"));
        assert_eq!(first.raw["topic"], "plant/R-101/state");
    }
}
