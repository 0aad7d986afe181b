//! One live OPC UA session: connected, subscribed to the configured nodes, its data-change
//! notifications collected in a bounded channel, and the raw history of those nodes read on
//! demand.
//!
//! The client library would reconnect by itself and recreate the subscription behind our
//! back; we switch that off (`disable_reconnects`, no retries), so a lost connection ends the
//! session's event loop and the source sees it: the poll answers `Unavailable`, and the next
//! poll connects afresh, reads history from its cursor (when enabled) and subscribes again.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opcua::client::{ClientBuilder, DataChangeCallback, HistoryReadAction, IdentityToken, Session};
use opcua::crypto::SecurityPolicy;
use opcua::types::{
    AttributeId, ByteString, DataValue, DateTime, EndpointDescription, HistoryData,
    HistoryReadValueId, MessageSecurityMode, MonitoredItemCreateRequest, MonitoringMode,
    MonitoringParameters, NodeId, NumericRange, QualifiedName, ReadRawModifiedDetails, ReadValueId,
    StatusCode, TimestampsToReturn, UserTokenPolicy, Variant,
};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::OpcuaSettings;
use super::mapping::Sample;
use crate::source::PeerError;

/// A data change of the node at `node` (its index in the settings' list).
#[derive(Debug, Clone)]
pub(super) struct Notification {
    pub node: usize,
    pub sample: Sample,
}

/// One read of a node's history.
pub(super) struct NodeHistory {
    /// Oldest first.
    pub values: Vec<DataValue>,
    /// The node holds values after these (the read was cut at its limit or the server's).
    pub more: bool,
}

/// A connected session and its subscription.
pub(super) struct Connection {
    session: Arc<Session>,
    event_loop: JoinHandle<StatusCode>,
    notifications: mpsc::Receiver<Notification>,
    /// Notifications the full channel could not take since the subscription began.
    dropped: Arc<AtomicU64>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Ends the event loop and with it the TCP connection; the server times the session
        // out (a clean close would need an await a drop cannot make).
        self.event_loop.abort();
    }
}

/// OPC UA's time (100 ns ticks since 1601) as an instant.
pub(super) fn instant_of(time: &DateTime) -> Option<jiff::Timestamp> {
    const TICKS_TO_UNIX_EPOCH: i128 = 116_444_736_000_000_000;
    if time.is_null() {
        return None;
    }
    let nanos = (i128::from(time.checked_ticks()) - TICKS_TO_UNIX_EPOCH) * 100;
    jiff::Timestamp::from_nanosecond(nanos).ok()
}

/// An instant as OPC UA's time (to its 100 ns).
fn opcua_time(instant: jiff::Timestamp) -> DateTime {
    const TICKS_TO_UNIX_EPOCH: i128 = 116_444_736_000_000_000;
    let ticks = instant.as_nanosecond() / 100 + TICKS_TO_UNIX_EPOCH;
    DateTime::from(i64::try_from(ticks).unwrap_or(i64::MAX - 1))
}

/// What mapping needs of a value as the server sent it.
pub(super) fn sample_of(value: &DataValue) -> Sample {
    let (key, raw_value) = match &value.value {
        Some(Variant::String(text)) => {
            let text = text.as_ref().to_owned();
            (Ok(text.clone()), Value::String(text))
        }
        Some(variant) => match integer_of(variant) {
            Some(n) => (Ok(n.to_string()), json!(n)),
            None => {
                let kind = format!("{:?}", variant.type_id());
                (Err(kind), Value::String(format!("{variant:?}")))
            }
        },
        None => (Err("value-less notification".to_owned()), Value::Null),
    };
    let status = value.status.unwrap_or(StatusCode::Good);
    Sample {
        value: key,
        raw_value,
        bad_status: (!status.is_good()).then(|| status.to_string()),
        source_time: value.source_timestamp.as_ref().and_then(instant_of),
        server_time: value.server_timestamp.as_ref().and_then(instant_of),
    }
}

fn integer_of(variant: &Variant) -> Option<i128> {
    Some(match variant {
        Variant::SByte(n) => (*n).into(),
        Variant::Byte(n) => (*n).into(),
        Variant::Int16(n) => (*n).into(),
        Variant::UInt16(n) => (*n).into(),
        Variant::Int32(n) => (*n).into(),
        Variant::UInt32(n) => (*n).into(),
        Variant::Int64(n) => (*n).into(),
        Variant::UInt64(n) => (*n).into(),
        _ => return None,
    })
}

/// A failed service call or connection as the runner should treat it: the peer gone or
/// slow is `Unavailable`; refused credentials `Unauthorized`; the rest is a configuration
/// or a server that cannot work as asked (`Broken`).
pub(super) fn peer_error(what: &str, status: StatusCode) -> PeerError {
    let message = format!("{what}: {status}");
    match status {
        StatusCode::BadUserAccessDenied
        | StatusCode::BadIdentityTokenInvalid
        | StatusCode::BadIdentityTokenRejected
        | StatusCode::BadUserSignatureInvalid => PeerError::Unauthorized(message),
        StatusCode::BadNodeIdUnknown
        | StatusCode::BadNodeIdInvalid
        | StatusCode::BadAttributeIdInvalid
        | StatusCode::BadHistoryOperationUnsupported
        | StatusCode::BadHistoryOperationInvalid
        | StatusCode::BadNotReadable
        | StatusCode::BadSecurityPolicyRejected
        | StatusCode::BadTcpEndpointUrlInvalid => PeerError::Broken(message),
        _ => PeerError::Unavailable {
            message,
            retry_after: None,
        },
    }
}

/// Opens a session to the endpoint (security none) and waits until it is activated.
pub(super) async fn open(
    settings: &OpcuaSettings,
) -> Result<(Arc<Session>, JoinHandle<StatusCode>), PeerError> {
    let timeout = Duration::from_secs(settings.timeout_seconds);
    let mut client = ClientBuilder::new()
        .application_name("mixplane")
        .application_uri("urn:mixplane:connect:opcua")
        .product_uri("urn:mixplane")
        .pki_dir(&settings.pki_dir)
        .create_sample_keypair(false)
        .trust_server_certs(false)
        .session_retry_limit(0)
        .request_timeout(timeout)
        .client()
        .map_err(|errors| PeerError::Broken(format!("OPC UA client: {}", errors.join("; "))))?;
    let (identity, signing_in) = match (&settings.username, &settings.password) {
        (Some(user), Some(password)) => (
            IdentityToken::new_user_name(user.clone(), password.0.clone()),
            "a user name",
        ),
        _ => (IdentityToken::Anonymous, "anonymously"),
    };
    // Named in errors: a server that offers no endpoint for this security and identity
    // answers `BadSecurityPolicyRejected`, which says nothing of either.
    let opening = format!(
        "opening a session at {} (security none, signing in {signing_in})",
        settings.endpoint
    );
    let endpoint: EndpointDescription = (
        settings.endpoint.as_str(),
        SecurityPolicy::None.to_uri(),
        MessageSecurityMode::None,
        UserTokenPolicy::anonymous(),
    )
        .into();
    let (session, event_loop) = tokio::time::timeout(
        timeout,
        client.connect_to_matching_endpoint(endpoint, identity),
    )
    .await
    .map_err(|_| {
        PeerError::unavailable(format!(
            "{} did not answer within {timeout:?}",
            settings.endpoint
        ))
    })?
    .map_err(|e| peer_error(&opening, e.status()))?;
    session.disable_reconnects();
    let mut event_loop = event_loop.spawn();
    tokio::select! {
        connected = session.wait_for_connection() => {
            if !connected {
                event_loop.abort();
                return Err(PeerError::unavailable(format!(
                    "{}: the session closed while opening",
                    settings.endpoint
                )));
            }
        }
        ended = &mut event_loop => {
            let status = ended.unwrap_or(StatusCode::BadUnexpectedError);
            return Err(peer_error(&opening, status));
        }
        _ = tokio::time::sleep(timeout) => {
            event_loop.abort();
            return Err(PeerError::unavailable(format!(
                "{}: no session within {timeout:?}",
                settings.endpoint
            )));
        }
    }
    Ok((session, event_loop))
}

/// The configured nodes' ids, parsed; a bad one is a configuration error, named.
pub(super) fn node_ids(settings: &OpcuaSettings) -> Result<Vec<NodeId>, String> {
    settings
        .nodes
        .iter()
        .map(|n| {
            n.node
                .parse::<NodeId>()
                .map_err(|_| format!("`{}` is not an OPC UA node id", n.node))
        })
        .collect()
}

impl Connection {
    /// Opens a session and subscribes to every node: one monitored item each, queueing up
    /// to `queue_size` changes between two publishes (a state that flips fast keeps every
    /// flip), reporting source and server timestamps.
    pub(super) async fn subscribe(
        settings: &OpcuaSettings,
        nodes: &[NodeId],
    ) -> Result<Connection, PeerError> {
        let (session, event_loop) = open(settings).await?;
        let (sender, notifications) = mpsc::channel(settings.channel_capacity);
        let dropped = Arc::new(AtomicU64::new(0));
        let index: HashMap<NodeId, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let full = Arc::clone(&dropped);
        let callback = DataChangeCallback::new(move |value, item| {
            let Some(&node) = index.get(&item.item_to_monitor().node_id) else {
                return;
            };
            let sample = sample_of(&value);
            // The callback runs inside the session's event loop and must not wait: a full
            // channel loses the notification, counted, and the source starts over.
            if sender.try_send(Notification { node, sample }).is_err() {
                full.fetch_add(1, Ordering::Relaxed);
            }
        });
        let interval = Duration::from_millis(settings.publishing_interval_ms);
        // Keep-alives every ten intervals (at least every 5 s); the server drops the
        // subscription after three missed.
        let keep_alive = (5_000 / settings.publishing_interval_ms.max(1)).clamp(1, 10) as u32;
        let connection = Connection {
            session,
            event_loop,
            notifications,
            dropped,
        };
        let subscription = connection
            .session
            .create_subscription(interval, keep_alive * 3, keep_alive, 0, 0, true, callback)
            .await
            .map_err(|e| peer_error("creating the subscription", e.status()))?;
        let items: Vec<MonitoredItemCreateRequest> = nodes
            .iter()
            .map(|node| {
                MonitoredItemCreateRequest::new(
                    node.clone().into(),
                    MonitoringMode::Reporting,
                    MonitoringParameters {
                        sampling_interval: settings.publishing_interval_ms as f64,
                        queue_size: settings.queue_size,
                        discard_oldest: false,
                        ..MonitoringParameters::default()
                    },
                )
            })
            .collect();
        let created = connection
            .session
            .create_monitored_items(subscription, TimestampsToReturn::Both, items)
            .await
            .map_err(|e| peer_error("creating the monitored items", e.status()))?;
        for (item, node) in created.iter().zip(&settings.nodes) {
            let status = item.result.status_code;
            if !status.is_good() {
                return Err(peer_error(
                    &format!("monitoring node {}", node.node),
                    status,
                ));
            }
        }
        Ok(connection)
    }

    /// Why the session ended, if it has (the server went away, or closed it).
    pub(super) fn lost(&self) -> Option<String> {
        self.event_loop
            .is_finished()
            .then(|| "the connection to the OPC UA server was lost".to_owned())
    }

    /// How many notifications the full channel dropped.
    pub(super) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Up to `max` notifications received, oldest first, without waiting.
    pub(super) fn drain(&mut self, max: usize) -> Vec<Notification> {
        let mut out = Vec::new();
        while out.len() < max {
            match self.notifications.try_recv() {
                Ok(n) => out.push(n),
                Err(_) => break,
            }
        }
        out
    }

    /// Each node's raw history from `from` (inclusive) on, at most `per_node` values each,
    /// oldest first, and whether it holds more.
    pub(super) async fn history(
        &self,
        nodes: &[NodeId],
        from: jiff::Timestamp,
        per_node: u32,
    ) -> Result<Vec<NodeHistory>, PeerError> {
        let details = ReadRawModifiedDetails {
            is_read_modified: false,
            start_time: opcua_time(from),
            // No end: every value from the start on, oldest first (OPC UA Part 11, 6.5.3).
            end_time: DateTime::null(),
            num_values_per_node: per_node,
            return_bounds: false,
        };
        let to_read: Vec<HistoryReadValueId> = nodes
            .iter()
            .map(|node| HistoryReadValueId {
                node_id: node.clone(),
                index_range: NumericRange::None,
                data_encoding: QualifiedName::null(),
                continuation_point: ByteString::null(),
            })
            .collect();
        let results = self
            .session
            .history_read(
                HistoryReadAction::ReadRawModifiedDetails(details.clone()),
                TimestampsToReturn::Both,
                false,
                &to_read,
            )
            .await
            .map_err(|e| peer_error("reading history", e.status()))?;
        // A node with more than a read gives also gets a continuation point; the source reads
        // on from its own position instead, so the points are handed back at once (a server
        // keeps only a few per session and refuses reads once they run out).
        let held: Vec<HistoryReadValueId> = results
            .iter()
            .zip(&to_read)
            .filter(|(result, _)| !result.continuation_point.is_null_or_empty())
            .map(|(result, read)| HistoryReadValueId {
                continuation_point: result.continuation_point.clone(),
                ..read.clone()
            })
            .collect();
        if !held.is_empty() {
            let released = self
                .session
                .history_read(
                    HistoryReadAction::ReadRawModifiedDetails(details),
                    TimestampsToReturn::Both,
                    true,
                    &held,
                )
                .await;
            if let Err(e) = released {
                tracing::debug!(error = %e, "releasing history continuation points failed");
            }
        }
        let mut lists = Vec::with_capacity(nodes.len());
        for (result, node) in results.into_iter().zip(nodes) {
            let more = !result.continuation_point.is_null_or_empty();
            if result.status_code.is_bad() {
                return Err(peer_error(
                    &format!(
                        "reading the history of node {node} (is it historized? else set `history = false`)"
                    ),
                    result.status_code,
                ));
            }
            let values = result
                .history_data
                .into_inner_as::<HistoryData>()
                .and_then(|data| data.data_values)
                .unwrap_or_default();
            // A server may page below what was asked: its continuation point says more.
            let more = more || values.len() >= per_node as usize;
            lists.push(NodeHistory { values, more });
        }
        Ok(lists)
    }
}

/// Reads each node's current value once: the health check.
pub(super) async fn read_once(settings: &OpcuaSettings, nodes: &[NodeId]) -> Result<(), PeerError> {
    let (session, event_loop) = open(settings).await?;
    let to_read: Vec<ReadValueId> = nodes
        .iter()
        .map(|node| ReadValueId {
            node_id: node.clone(),
            attribute_id: AttributeId::Value as u32,
            ..ReadValueId::default()
        })
        .collect();
    let read = session
        .read(&to_read, TimestampsToReturn::Both, 0.0)
        .await
        .map_err(|e| peer_error("reading the nodes", e.status()));
    let _ = session.disconnect().await;
    event_loop.abort();
    for (value, node) in read?.iter().zip(&settings.nodes) {
        let status = value.status.unwrap_or(StatusCode::Good);
        if matches!(
            status,
            StatusCode::BadNodeIdUnknown
                | StatusCode::BadNodeIdInvalid
                | StatusCode::BadNotReadable
        ) {
            return Err(peer_error(&format!("reading node {}", node.node), status));
        }
    }
    Ok(())
}
