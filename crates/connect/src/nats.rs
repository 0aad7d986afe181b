//! The `nats` source (feature `nats`): mixplane event documents published on NATS subjects that
//! a JetStream stream keeps, read through a durable pull consumer and acknowledged only once
//! stored.
//!
//! - **Delivery.** A durable consumer (`mixplane-{name}` by default) with explicit
//!   acknowledgement reads the stream; the source holds one continuous pull, reads what it
//!   delivers in batches, and acknowledges a batch's messages in [`Source::acknowledge`], after
//!   the runner's store committed (the acknowledgements are flushed to the server before the
//!   runner goes on). A message delivered and not acknowledged (a kill, a store that failed)
//!   is delivered again after `ack_wait_seconds`, or at once when the source saw the store fail
//!   (it is negatively acknowledged).
//! - **The store is the authority on the position.** The cursor is the stream sequence of the
//!   last message stored. When the stored cursor is behind what the consumer has had
//!   acknowledged (the log was reset, or restored from a backup), the consumer is created again
//!   from the message after the cursor, so the stream is read again from there: unlike MQTT, a
//!   JetStream stream keeps its history (as long as its own limits keep it).
//! - **Idempotency.** A message's events keep their publishers' ids; the record's source id is
//!   `{stream}#{sequence}`, so a message delivered twice is one record.
//! - **Connection.** The client reconnects by itself; while it is not connected a poll is
//!   `Unavailable`, so the connector shows `retrying`.
//!
//! Settings: `url` (`nats://127.0.0.1:4222`), `stream`, `consumer` (durable name), `subjects`
//! (filter subjects; all the stream's when empty), `username`/`password` (or
//! `password_env`/`password_file`) or `token` (or `token_env`/`token_file`), `batch_max` (256),
//! `wait_ms` (500), `ack_wait_seconds` (30).

use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::DeliverPolicy, consumer::pull};
use futures_util::StreamExt;
use serde::Deserialize;

use tokio::time::Instant;

use crate::gather::Gathering;
use crate::kinds::{AnySource, ConnectError, ConnectorSpec};
use crate::payload::map_event_document;
use crate::source::{Batch, PeerError, Record, Source};

/// The kind's name in the configuration.
pub const KIND: &str = "nats";

/// How long connecting or a JetStream API call may take.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(10);

/// The `settings` of a `nats` connector.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsSettings {
    pub url: String,
    pub stream: String,
    #[serde(default)]
    pub consumer: Option<String>,
    #[serde(default)]
    pub subjects: Vec<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default = "default_batch_max")]
    pub batch_max: usize,
    #[serde(default = "default_wait_ms")]
    pub wait_ms: u64,
    #[serde(default = "default_ack_wait")]
    pub ack_wait_seconds: f64,
}

fn default_batch_max() -> usize {
    256
}

fn default_wait_ms() -> u64 {
    500
}

fn default_ack_wait() -> f64 {
    30.0
}

/// A connection, the stream and the continuous pull over the consumer.
struct Session {
    client: async_nats::Client,
    stream: jetstream::stream::Stream,
    messages: Option<pull::Stream>,
    /// The stream sequence this session has acknowledged through (as the store holds it).
    position: u64,
}

/// A durable consumer read in batches.
pub struct NatsSource {
    name: String,
    settings: NatsSettings,
    session: Option<Session>,
    /// Returned by the last poll, to be acknowledged once stored.
    unacknowledged: Vec<jetstream::Message>,
}

impl std::fmt::Debug for NatsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsSource")
            .field("name", &self.name)
            .field("url", &self.settings.url)
            .field("stream", &self.settings.stream)
            .field("connected", &self.session.is_some())
            .finish()
    }
}

/// Waits for a JetStream call, at most [`EXCHANGE_TIMEOUT`].
async fn within<T, E: std::fmt::Display>(
    what: &str,
    call: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, PeerError> {
    tokio::time::timeout(EXCHANGE_TIMEOUT, call)
        .await
        .map_err(|_| PeerError::unavailable(format!("{what}: no answer in time")))?
        .map_err(|e| PeerError::unavailable(format!("{what}: {e}")))
}

/// The stored cursor as a stream sequence (0: nothing stored yet).
fn stored_position(cursor: Option<&str>) -> Result<u64, PeerError> {
    match cursor {
        None => Ok(0),
        Some(text) => text.parse::<u64>().map_err(|_| {
            PeerError::Broken(format!(
                "the stored cursor `{text}` is not a stream sequence; was the connector's kind changed?"
            ))
        }),
    }
}

impl NatsSource {
    pub fn new(name: impl Into<String>, settings: NatsSettings) -> NatsSource {
        NatsSource {
            name: name.into(),
            settings,
            session: None,
            unacknowledged: Vec::new(),
        }
    }

    fn durable(&self) -> String {
        self.settings
            .consumer
            .clone()
            .unwrap_or_else(|| format!("mixplane-{}", self.name))
    }

    async fn connect_client(&self) -> Result<async_nats::Client, PeerError> {
        let mut options = async_nats::ConnectOptions::new()
            .name(format!("mixplane {}", self.name))
            .connection_timeout(EXCHANGE_TIMEOUT);
        if let Some(user) = &self.settings.username {
            options = options.user_and_password(
                user.clone(),
                self.settings.password.clone().unwrap_or_default(),
            );
        } else if let Some(token) = &self.settings.token {
            options = options.token(token.clone());
        }
        options
            .connect(self.settings.url.as_str())
            .await
            .map_err(|e| match e.kind() {
                async_nats::ConnectErrorKind::AuthorizationViolation => {
                    PeerError::Unauthorized(format!("NATS refused our credentials: {e}"))
                }
                _ => PeerError::unavailable(format!("connecting to {}: {e}", self.settings.url)),
            })
    }

    /// The consumer's configuration, delivering from the message after `position`.
    fn consumer_config(&self, position: u64) -> pull::Config {
        let (filter_subject, filter_subjects) = match self.settings.subjects.as_slice() {
            [one] => (one.clone(), Vec::new()),
            many => (String::new(), many.to_vec()),
        };
        pull::Config {
            durable_name: Some(self.durable()),
            deliver_policy: if position == 0 {
                DeliverPolicy::All
            } else {
                DeliverPolicy::ByStartSequence {
                    start_sequence: position + 1,
                }
            },
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: Duration::from_secs_f64(self.settings.ack_wait_seconds),
            filter_subject,
            filter_subjects,
            ..Default::default()
        }
    }

    /// Connects, finds the stream, and makes the durable consumer agree with the store:
    /// created from the cursor when missing or ahead of it.
    async fn open(&self, position: u64) -> Result<Session, PeerError> {
        let client = self.connect_client().await?;
        let context = jetstream::new(client.clone());
        let stream = within(
            &format!("finding stream `{}`", self.settings.stream),
            context.get_stream(self.settings.stream.clone()),
        )
        .await?;
        let durable = self.durable();
        let existing = tokio::time::timeout(EXCHANGE_TIMEOUT, stream.consumer_info(&durable))
            .await
            .map_err(|_| PeerError::unavailable("reading the consumer: no answer in time"))?;
        let acknowledged = existing
            .as_ref()
            .ok()
            .map(|info| info.ack_floor.stream_sequence);
        if acknowledged.is_some_and(|floor| floor > position) {
            // The store holds less than the consumer had acknowledged: read again from the
            // store's position.
            tracing::warn!(
                connector = %self.name,
                stored = position,
                acknowledged = acknowledged.unwrap_or(0),
                "the store is behind the NATS consumer; creating it again from the store's position"
            );
            within("removing the consumer", stream.delete_consumer(&durable)).await?;
        }
        if existing.is_err() || acknowledged.is_some_and(|floor| floor > position) {
            within(
                "creating the consumer",
                stream.create_consumer(self.consumer_config(position)),
            )
            .await?;
        }
        Ok(Session {
            client,
            stream,
            messages: None,
            position,
        })
    }

    /// Forgets the connection after a failure: what it delivered and was not acknowledged
    /// comes again after the acknowledgement wait.
    fn disconnect(&mut self) {
        self.session = None;
        self.unacknowledged.clear();
    }

    /// The continuous pull of the session, started on first use.
    async fn messages<'a>(
        settings: &NatsSettings,
        durable: &str,
        session: &'a mut Session,
    ) -> Result<&'a mut pull::Stream, PeerError> {
        if session.messages.is_none() {
            let consumer: jetstream::consumer::PullConsumer =
                within("opening the consumer", session.stream.get_consumer(durable)).await?;
            let messages = within(
                "starting the pull",
                consumer
                    .stream()
                    .max_messages_per_batch(settings.batch_max)
                    .heartbeat(Duration::from_secs(5))
                    .expires(Duration::from_secs(30))
                    .messages(),
            )
            .await?;
            session.messages = Some(messages);
        }
        Ok(session.messages.as_mut().expect("started above"))
    }

    /// Waits up to `wait_ms` for the first message, then gathers until quiet or full.
    async fn gather(&mut self) -> Result<Vec<jetstream::Message>, PeerError> {
        let durable = self.durable();
        let settings = self.settings.clone();
        let session = self.session.as_mut().expect("connected by poll");
        let messages = Self::messages(&settings, &durable, session).await?;
        let mut gathered = Vec::new();
        let wait = Duration::from_millis(settings.wait_ms);
        let mut gathering = Gathering::start(wait, false, Instant::now());
        while gathered.len() < settings.batch_max {
            let Some(limit) = gathering.next_wait(Instant::now()) else {
                break;
            };
            match tokio::time::timeout(limit, messages.next()).await {
                Err(_) => break,
                Ok(None) => return Err(PeerError::unavailable("the pull from the consumer ended")),
                Ok(Some(Err(e))) => {
                    return Err(PeerError::unavailable(format!("pulling messages: {e}")));
                }
                Ok(Some(Ok(message))) => {
                    gathered.push(message);
                    gathering.took_one(Instant::now());
                }
            }
        }
        Ok(gathered)
    }
}

/// The record of a message: its events or why not, its source id and its raw form.
fn record_of(stream: &str, message: &jetstream::Message) -> (u64, Record) {
    let sequence = message.info().map(|i| i.stream_sequence).unwrap_or(0);
    let (mapped, raw) = map_event_document(&message.payload);
    let record = Record {
        source_id: format!("{stream}#{sequence}"),
        mapped,
        raw: serde_json::json!({ "subject": message.subject.as_str(), "payload": raw }),
    };
    (sequence, record)
}

/// Builds a `nats` source from its configuration.
pub fn factory(spec: &ConnectorSpec) -> Result<AnySource, ConnectError> {
    let settings: NatsSettings = spec.settings()?;
    let refuse = |message: &str| ConnectError::Settings {
        connector: spec.name.clone(),
        message: message.to_owned(),
    };
    if settings.stream.is_empty() || settings.stream.contains(['.', '*', '>', ' ']) {
        return Err(refuse(
            "`stream` must be a stream name (no `.`, `*`, `>` or space)",
        ));
    }
    if settings.batch_max == 0 {
        return Err(refuse("`batch_max` must be at least 1"));
    }
    if !(0.5..=86_400.0).contains(&settings.ack_wait_seconds) {
        return Err(refuse("`ack_wait_seconds` must be 0.5 to 86400"));
    }
    if settings.password.is_some() && settings.username.is_none() {
        return Err(refuse("a `password` needs a `username`"));
    }
    if settings.token.is_some() && settings.username.is_some() {
        return Err(refuse("give a `username` or a `token`, not both"));
    }
    Ok(AnySource(Box::new(NatsSource::new(&spec.name, settings))))
}

impl Source for NatsSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn poll(&mut self, cursor: Option<&str>) -> Result<Batch, PeerError> {
        let position = stored_position(cursor)?;
        if !self.unacknowledged.is_empty() {
            // The runner polls again only after acknowledging: this batch was not stored.
            // Deliver it again now rather than after the acknowledgement wait.
            for message in std::mem::take(&mut self.unacknowledged) {
                let _ = message.ack_with(AckKind::Nak(None)).await;
            }
        }
        let behind = self.session.as_ref().is_some_and(|s| position < s.position);
        if behind {
            self.disconnect();
        }
        if let Some(session) = &self.session
            && session.client.connection_state() != async_nats::connection::State::Connected
        {
            return Err(PeerError::unavailable(format!(
                "not connected to {} (reconnecting)",
                self.settings.url
            )));
        }
        if self.session.is_none() {
            self.session = Some(self.open(position).await?);
        }
        let gathered = match self.gather().await {
            Ok(gathered) => gathered,
            Err(e) => {
                self.disconnect();
                return Err(e);
            }
        };
        let stream = self.settings.stream.clone();
        let mut newest = None;
        let records: Vec<Record> = gathered
            .iter()
            .map(|message| {
                let (sequence, record) = record_of(&stream, message);
                newest = newest.max(Some(sequence));
                record
            })
            .collect();
        self.unacknowledged = gathered;
        Ok(Batch {
            more: !records.is_empty(),
            // Never behind what is stored: a redelivered message older than the cursor keeps it.
            cursor: newest.filter(|&n| n > position).map(|n| n.to_string()),
            records,
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
        let mut newest = session.position;
        for message in &self.unacknowledged {
            if let Err(e) = message.ack().await {
                self.disconnect();
                return Err(PeerError::unavailable(format!("acknowledging: {e}")));
            }
            if let Ok(info) = message.info() {
                newest = newest.max(info.stream_sequence);
            }
        }
        if let Err(e) = within("flushing the acknowledgements", session.client.flush()).await {
            self.disconnect();
            return Err(e);
        }
        session.position = newest;
        self.unacknowledged.clear();
        Ok(())
    }

    async fn close(&mut self) {
        self.unacknowledged.clear();
        if let Some(session) = self.session.take() {
            // What is delivered and not acknowledged comes again after the acknowledgement
            // wait; the acknowledgements already sent must reach the server first.
            let _ = tokio::time::timeout(EXCHANGE_TIMEOUT, session.client.flush()).await;
        }
    }

    async fn check(&mut self) -> Result<(), PeerError> {
        let client = self.connect_client().await?;
        let context = jetstream::new(client);
        within(
            &format!("finding stream `{}`", self.settings.stream),
            context.get_stream(self.settings.stream.clone()),
        )
        .await
        .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(settings: serde_json::Value) -> ConnectorSpec {
        ConnectorSpec {
            name: "results".into(),
            kind: KIND.into(),
            principal: "p".into(),
            poll_interval: Duration::from_millis(100),
            settings,
        }
    }

    #[test]
    fn settings_are_checked_when_the_connector_is_built() {
        let ok = spec(serde_json::json!({ "url": "nats://127.0.0.1:4222", "stream": "PLANT" }));
        assert!(factory(&ok).is_ok());
        for (settings, wanted) in [
            (
                serde_json::json!({ "url": "u", "stream": "a.b" }),
                "must be a stream name",
            ),
            (
                serde_json::json!({ "url": "u", "stream": "S", "ack_wait_seconds": 0 }),
                "ack_wait_seconds",
            ),
            (
                serde_json::json!({ "url": "u", "stream": "S", "username": "a", "token": "t" }),
                "not both",
            ),
            (
                serde_json::json!({ "url": "u", "stream": "S", "durable": "x" }),
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
    fn the_stored_cursor_is_a_stream_sequence() {
        assert_eq!(stored_position(None).unwrap(), 0);
        assert_eq!(stored_position(Some("41")).unwrap(), 41);
        assert!(matches!(
            stored_position(Some("12 plant/x#ab")),
            Err(PeerError::Broken(_))
        ));
    }
}
