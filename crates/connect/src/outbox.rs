//! The outbox: every event the store keeps, published to NATS JetStream after its commit, in
//! log order, none lost and none twice.
//!
//! The store is the outbox table (its log, by seq); this publisher, run by the plant's leader
//! only (`app::leader`), reads what was stored after the last event the stream holds and
//! publishes each event to `{subject}.{type}` with the event's id as `Nats-Msg-Id` and its seq
//! as `Mixplane-Seq`, waiting for JetStream's acknowledgement before going on. Nothing is kept
//! beside the stream: a new leader (or a restart) asks the stream for its last message's
//! `Mixplane-Seq` and goes on after it. Publishing twice cannot happen in the stream: an event
//! published again (a leader that died between publishing and being acknowledged, or an old
//! leader's last messages) carries the same `Nats-Msg-Id` inside the stream's duplicate
//! window (an hour, [`DUPLICATE_WINDOW`]), and JetStream drops it.

use std::sync::Arc;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, stream};
use store::{EventFilter, Store};

use crate::runner::Stop;

/// How long JetStream remembers a message id to drop its duplicates.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(3600);
/// The header carrying the event's seq in the store's log.
pub const SEQ_HEADER: &str = "Mixplane-Seq";
/// Events read from the store per round.
const BATCH: u32 = 1_000;
/// The longest wait between two looks at the log when no write wakes the publisher.
const IDLE: Duration = Duration::from_millis(500);

/// Where the outbox publishes.
#[derive(Debug, Clone)]
pub struct OutboxSettings {
    /// The NATS server, `nats://HOST:PORT`.
    pub url: String,
    /// The JetStream stream (created when missing, file storage).
    pub stream: String,
    /// The subjects' prefix: an event goes to `{subject}.{type}`.
    pub subject: String,
}

/// Why the outbox could not go on.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("connecting to NATS at {url}: {message}")]
    Connect { url: String, message: String },
    #[error("the JetStream stream `{stream}`: {message}")]
    Stream { stream: String, message: String },
    #[error("publishing event `{id}` (seq {seq}): {message}")]
    Publish {
        id: String,
        seq: i64,
        message: String,
    },
    #[error("reading the store's log: {0}")]
    Store(#[from] store::StoreError),
}

/// What a stream holds of the outbox: its messages' event ids and seqs, in stream order.
#[derive(Debug, Clone, Default)]
pub struct Published {
    pub ids: Vec<String>,
    pub seqs: Vec<i64>,
}

async fn context(settings: &OutboxSettings) -> Result<jetstream::Context, OutboxError> {
    let client = async_nats::connect(&settings.url)
        .await
        .map_err(|e| OutboxError::Connect {
            url: settings.url.clone(),
            message: e.to_string(),
        })?;
    Ok(jetstream::new(client))
}

async fn open_stream(
    context: &jetstream::Context,
    settings: &OutboxSettings,
) -> Result<stream::Stream, OutboxError> {
    context
        .get_or_create_stream(stream::Config {
            name: settings.stream.clone(),
            subjects: vec![format!("{}.>", settings.subject)],
            duplicate_window: DUPLICATE_WINDOW,
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(|e| OutboxError::Stream {
            stream: settings.stream.clone(),
            message: e.to_string(),
        })
}

fn seq_of(headers: &HeaderMap) -> Option<i64> {
    headers.get(SEQ_HEADER)?.as_str().parse().ok()
}

/// The seq of the last event the stream holds (0 for an empty stream).
async fn published_up_to(
    stream: &mut stream::Stream,
    settings: &OutboxSettings,
) -> Result<i64, OutboxError> {
    let failed = |e: &dyn std::fmt::Display| OutboxError::Stream {
        stream: settings.stream.clone(),
        message: e.to_string(),
    };
    let last = stream
        .info()
        .await
        .map_err(|e| failed(&e))?
        .state
        .last_sequence;
    if last == 0 {
        return Ok(0);
    }
    let message = stream.get_raw_message(last).await.map_err(|e| failed(&e))?;
    Ok(seq_of(&message.headers).unwrap_or(0))
}

/// Publishes what the store holds past what the stream holds, then follows the log until
/// `stop`. Returns an error when NATS or the store fails; the caller retries (from the
/// stream's last message again, so nothing is skipped).
pub async fn run(
    store: Arc<Store>,
    settings: &OutboxSettings,
    mut stop: Stop,
) -> Result<(), OutboxError> {
    let context = context(settings).await?;
    let mut stream = open_stream(&context, settings).await?;
    let mut after = published_up_to(&mut stream, settings).await?;
    let mut changes = store.changes();
    loop {
        if stop.is_stopped() {
            return Ok(());
        }
        let events = store
            .events(EventFilter {
                after_seq: Some(after),
                limit: BATCH,
                ..Default::default()
            })
            .await?;
        if events.is_empty() {
            tokio::select! {
                _ = changes.changed() => {}
                _ = tokio::time::sleep(IDLE) => {}
                _ = stop.stopped() => return Ok(()),
            }
            continue;
        }
        // Every publish of the round is sent before any acknowledgement is awaited; the seq
        // moves on only once all of them were acknowledged.
        let mut acks = Vec::with_capacity(events.len());
        for stored in &events {
            let id = stored.event.id.as_str().to_owned();
            let failed = |e: &dyn std::fmt::Display| OutboxError::Publish {
                id: id.clone(),
                seq: stored.seq,
                message: e.to_string(),
            };
            let mut headers = HeaderMap::new();
            headers.insert(async_nats::header::NATS_MESSAGE_ID, id.as_str());
            headers.insert(SEQ_HEADER, stored.seq.to_string().as_str());
            let payload = serde_json::to_vec(&stored.event).map_err(|e| failed(&e))?;
            let subject = format!("{}.{}", settings.subject, stored.event.kind.type_name());
            let ack = context
                .publish_with_headers(subject, headers, payload.into())
                .await
                .map_err(|e| failed(&e))?;
            acks.push((ack, id, stored.seq));
        }
        for (ack, id, seq) in acks {
            ack.await.map_err(|e| OutboxError::Publish {
                id,
                seq,
                message: e.to_string(),
            })?;
        }
        after = events.last().map_or(after, |stored| stored.seq);
    }
}

/// Every message of the outbox's stream: the event ids and seqs, in stream order (for checks
/// and tests: whether each stored event is there exactly once).
pub async fn published(settings: &OutboxSettings) -> Result<Published, OutboxError> {
    let context = context(settings).await?;
    let mut stream = open_stream(&context, settings).await?;
    let failed = |e: &dyn std::fmt::Display| OutboxError::Stream {
        stream: settings.stream.clone(),
        message: e.to_string(),
    };
    let state = stream.info().await.map_err(|e| failed(&e))?.state.clone();
    let mut out = Published::default();
    for sequence in state.first_sequence..=state.last_sequence {
        if state.messages == 0 {
            break;
        }
        let message = stream
            .get_raw_message(sequence)
            .await
            .map_err(|e| failed(&e))?;
        let id = message
            .headers
            .get(async_nats::header::NATS_MESSAGE_ID)
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        out.ids.push(id);
        out.seqs.push(seq_of(&message.headers).unwrap_or(0));
    }
    Ok(out)
}

/// Deletes the outbox's stream (for tests and for starting over; a missing one is no error).
pub async fn delete_stream(settings: &OutboxSettings) -> Result<(), OutboxError> {
    let context = context(settings).await?;
    match context.delete_stream(&settings.stream).await {
        Ok(_) => Ok(()),
        Err(e) if e.to_string().contains("not found") => Ok(()),
        Err(e) => Err(OutboxError::Stream {
            stream: settings.stream.clone(),
            message: e.to_string(),
        }),
    }
}
