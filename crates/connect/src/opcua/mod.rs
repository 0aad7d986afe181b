//! The `opcua` source (cargo feature `opcua`): equipment states read from an OPC UA server,
//! one configured node per unit, its value mapped to `equipment_state_changed` events.
//!
//! The source subscribes to the nodes (one monitored item each, every change queued between
//! publishes) and collects the data-change notifications in a bounded channel that `poll`
//! drains. A record is one value of one node; its source id is the node and the value's
//! source timestamp (`ns=2;s=R-101.State@2026-03-02T06:00:00.1234567Z`) and the event id is
//! derived from it (`opcua-<source id>`), so a value delivered again — the current value a
//! server sends to every new subscription, or a value read again from history — stores
//! nothing twice. A value the node's map does not name, a bad status, a type that is
//! neither a string nor an integer, or no source timestamp is a record refused with the
//! reason (a dead letter), and the stream goes on.
//!
//! OPC UA subscriptions do not replay: what changed while no subscription was alive is not
//! sent, only the current value when one is created. With `history = true` (the server
//! historizes the nodes, OPC UA Part 11), every (re)connect first reads each node's raw
//! history from the cursor — the newest source timestamp stored — and only then the live
//! notifications, so a restart or a lost connection loses nothing. Without it, the cursor is
//! informational and the changes made while disconnected are lost but for the current value.
//!
//! A lost connection is `Unavailable`; the next poll connects and subscribes again. So is a
//! full channel (the notifications it dropped are lost unless history is read). Security is
//! `none` only: the messages are neither signed nor encrypted and a password would travel in
//! the clear, so the kind is for a server on the loopback or a network as trusted as one.

mod mapping;
mod session;

use std::collections::BTreeMap;
use std::path::PathBuf;

use model::{EquipmentState, UnitId};
use opcua::types::NodeId;
use serde::Deserialize;

pub use self::mapping::{EVENT_SOURCE, NodeMapping, event_id, source_id};
use self::session::Connection;
use crate::kinds::{AnySource, ConnectError, ConnectorSpec};
use crate::odata::config::Secret;
use crate::source::{Batch, PeerError, Record, Source};

/// The kind's name in the configuration.
pub const KIND: &str = "opcua";

/// The `settings` of an `opcua` connector.
///
/// ```toml
/// endpoint = "opc.tcp://127.0.0.1:4840/"
/// security = "none"
/// history = true
/// [[connectors.settings.nodes]]
/// node = "ns=2;s=R-101.State"
/// unit = "R-101"
/// map = { RUN = "running", STOP = "idle", FAULT = "down" }
/// [[connectors.settings.nodes]]
/// node = "ns=2;s=TB-1.StateCode"
/// unit = "TB-1"
/// map = { "1" = "idle", "2" = "running", "3" = "down" }
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpcuaSettings {
    /// The server's endpoint URL (`opc.tcp://host:port/path`).
    pub endpoint: String,
    /// Message security; `none` is the only one (see the module's doc).
    #[serde(default)]
    pub security: Security,
    /// Signs in with a user name and password when both are given, anonymously otherwise.
    #[serde(default)]
    pub username: Option<String>,
    /// Resolved by the binary from `password_env`/`password_file`.
    #[serde(default)]
    pub password: Option<Secret>,
    /// How often the server publishes the changes of the subscription.
    #[serde(default = "default_publishing_interval_ms")]
    pub publishing_interval_ms: u64,
    /// Read each node's history from the cursor when connecting (the server must historize
    /// the nodes); see the module's doc.
    #[serde(default)]
    pub history: bool,
    /// The changes a monitored item queues between two publishes.
    #[serde(default = "default_queue_size")]
    pub queue_size: u32,
    /// The notifications held between two polls; more is an overflow (reconnect).
    #[serde(default = "default_channel_capacity")]
    pub channel_capacity: usize,
    /// The most records one poll answers.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// How long connecting and one service call may take.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// Where the client library keeps its certificate folders (with security `none` they
    /// stay empty); the system's temporary folder by default.
    #[serde(default = "default_pki_dir")]
    pub pki_dir: PathBuf,
    pub nodes: Vec<NodeSetting>,
}

/// One node and how its values read.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSetting {
    /// The node id in OPC UA's text form (`ns=2;s=R-101.State`, `ns=3;i=1042`).
    pub node: String,
    /// The unit whose state the node holds.
    pub unit: UnitId,
    /// A string value, or an integer's decimal text (a code table), → the state it means.
    pub map: BTreeMap<String, EquipmentState>,
}

/// Message security of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Neither signed nor encrypted: loopback or an equally trusted network only.
    #[default]
    None,
}

fn default_publishing_interval_ms() -> u64 {
    500
}
fn default_queue_size() -> u32 {
    1000
}
fn default_channel_capacity() -> usize {
    10_000
}
fn default_batch_size() -> usize {
    500
}
fn default_timeout_seconds() -> u64 {
    10
}
fn default_pki_dir() -> PathBuf {
    std::env::temp_dir().join("mixplane-opcua-pki")
}

impl OpcuaSettings {
    /// Checks what deserialising cannot; the message names the setting.
    fn validate(&self) -> Result<Vec<NodeId>, String> {
        if !self.endpoint.starts_with("opc.tcp://") {
            return Err(format!(
                "`endpoint` {:?} is not an opc.tcp:// URL",
                self.endpoint
            ));
        }
        if self.nodes.is_empty() {
            return Err("`nodes` names no node".into());
        }
        if self.username.is_some() != self.password.is_some() {
            return Err("`username` and `password` go together".into());
        }
        for (name, value) in [
            ("publishing_interval_ms", self.publishing_interval_ms),
            ("queue_size", u64::from(self.queue_size)),
            ("channel_capacity", self.channel_capacity as u64),
            ("batch_size", self.batch_size as u64),
            ("timeout_seconds", self.timeout_seconds),
        ] {
            if value == 0 {
                return Err(format!("`{name}` must be at least 1"));
            }
        }
        for node in &self.nodes {
            if node.map.is_empty() {
                return Err(format!("node `{}`: `map` names no value", node.node));
            }
            // Every event id of the node (its latest possible source time the longest) must
            // be an id the store takes, or every value of it would be a dead letter.
            let longest = mapping::event_id(&node.node, jiff::Timestamp::MAX);
            model::ids::check_id("event", &longest)
                .map_err(|e| format!("node `{}` makes unusable event ids: {e}", node.node))?;
        }
        let ids = session::node_ids(self)?;
        let mut seen = std::collections::HashSet::new();
        if let Some(twice) = ids.iter().find(|id| !seen.insert(*id)) {
            return Err(format!("node {twice} is configured twice"));
        }
        Ok(ids)
    }
}

/// Equipment states read from an OPC UA server's nodes.
pub struct OpcuaSource {
    name: String,
    settings: OpcuaSettings,
    nodes: Vec<NodeId>,
    mappings: Vec<NodeMapping>,
    connection: Option<Connection>,
    /// Where the history still to read starts, after a (re)connect with `history` on.
    catch_up_from: Option<jiff::Timestamp>,
}

impl std::fmt::Debug for OpcuaSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpcuaSource")
            .field("name", &self.name)
            .field("endpoint", &self.settings.endpoint)
            .field("connected", &self.connection.is_some())
            .finish()
    }
}

impl OpcuaSource {
    /// A source of these settings; an error names the setting that cannot work.
    pub fn new(name: impl Into<String>, settings: OpcuaSettings) -> Result<OpcuaSource, String> {
        let nodes = settings.validate()?;
        let mappings = settings
            .nodes
            .iter()
            .map(|n| NodeMapping {
                node: n.node.clone(),
                unit: n.unit.clone(),
                states: n.map.clone(),
            })
            .collect();
        Ok(OpcuaSource {
            name: name.into(),
            settings,
            nodes,
            mappings,
            connection: None,
            catch_up_from: None,
        })
    }

    /// A fresh session and subscription; history is read from the cursor before the live
    /// notifications when enabled.
    async fn connect(&mut self, after: Option<jiff::Timestamp>) -> Result<(), PeerError> {
        let connection = Connection::subscribe(&self.settings, &self.nodes).await?;
        self.connection = Some(connection);
        self.catch_up_from = self
            .settings
            .history
            .then(|| after.unwrap_or(jiff::Timestamp::UNIX_EPOCH));
        Ok(())
    }

    /// The next slice of history from `from`: every node's values up to the earliest last
    /// value among the nodes that had more than one read gives, in source-time order.
    async fn read_history(
        &mut self,
        from: jiff::Timestamp,
        after: Option<jiff::Timestamp>,
    ) -> Result<Batch, PeerError> {
        let connection = self.connection.as_ref().expect("connected before reading");
        let per_node = self.settings.batch_size.min(u32::MAX as usize) as u32;
        let lists = connection.history(&self.nodes, from, per_node).await?;
        let mut samples = Vec::new();
        let mut cut: Option<jiff::Timestamp> = None;
        for (node, history) in lists.iter().enumerate() {
            let node_samples: Vec<_> = history.values.iter().map(session::sample_of).collect();
            if history.more {
                // This node may hold more: nothing after its last value is complete yet.
                if let Some(last) = node_samples.last().and_then(|s| s.source_time) {
                    cut = Some(cut.map_or(last, |c| c.min(last)));
                }
            }
            samples.extend(node_samples.into_iter().map(|s| (node, s)));
        }
        if let Some(cut) = cut {
            samples.retain(|(_, s)| s.source_time.is_none_or(|t| t <= cut));
            // The next read starts at the cut, inclusive (values there are read again and
            // stored once); past it when a node holds more values at one instant than a read
            // gives, which would otherwise be read forever.
            self.catch_up_from = Some(if cut > from {
                cut
            } else {
                cut + jiff::SignedDuration::from_nanos(100)
            });
        } else {
            // History read up to now: the live notifications take over (those queued since
            // the subscription began repeat its end, and are stored once).
            self.catch_up_from = None;
        }
        samples.sort_by_key(|(node, s)| (s.source_time, *node));
        let records: Vec<Record> = samples
            .iter()
            .map(|(node, s)| mapping::record(&self.mappings[*node], s))
            .collect();
        Ok(Batch {
            cursor: advanced(after, samples.iter().map(|(_, s)| s)),
            records,
            more: true,
        })
    }
}

/// The cursor after these samples: the newest source time among them, when it is past the
/// cursor they were read after (a value re-sent on resubscribing is older); `None` keeps it.
fn advanced<'a>(
    after: Option<jiff::Timestamp>,
    samples: impl Iterator<Item = &'a mapping::Sample>,
) -> Option<String> {
    let newest = samples.filter_map(|s| s.source_time).max()?;
    after
        .is_none_or(|after| newest > after)
        .then(|| newest.to_string())
}

/// Builds an `opcua` source from its configuration.
pub fn factory(spec: &ConnectorSpec) -> Result<AnySource, ConnectError> {
    let settings: OpcuaSettings = spec.settings()?;
    let source =
        OpcuaSource::new(&spec.name, settings).map_err(|message| ConnectError::Settings {
            connector: spec.name.clone(),
            message,
        })?;
    Ok(AnySource(Box::new(source)))
}

impl Source for OpcuaSource {
    fn name(&self) -> &str {
        &self.name
    }

    async fn poll(&mut self, cursor: Option<&str>) -> Result<Batch, PeerError> {
        let after = match cursor {
            None => None,
            Some(text) => Some(text.parse::<jiff::Timestamp>().map_err(|_| {
                PeerError::Broken(format!(
                    "the stored cursor `{text}` is not a source timestamp; was the connector's kind changed?"
                ))
            })?),
        };
        if let Some(connection) = &self.connection {
            let lost = connection.lost();
            let dropped = connection.dropped();
            if lost.is_some() || dropped > 0 {
                self.connection = None;
                let message = lost.unwrap_or_else(|| {
                    format!(
                        "{dropped} notifications overflowed the channel of {}; subscribing again",
                        self.settings.channel_capacity
                    )
                });
                return Err(PeerError::Unavailable {
                    message,
                    retry_after: None,
                });
            }
        }
        if self.connection.is_none() {
            self.connect(after).await?;
        }
        if let Some(from) = self.catch_up_from {
            return self.read_history(from, after).await.inspect_err(|_| {
                self.connection = None;
            });
        }
        let connection = self.connection.as_mut().expect("connected above");
        let notifications = connection.drain(self.settings.batch_size);
        let records = notifications
            .iter()
            .map(|n| mapping::record(&self.mappings[n.node], &n.sample))
            .collect();
        Ok(Batch {
            records,
            cursor: advanced(after, notifications.iter().map(|n| &n.sample)),
            more: notifications.len() >= self.settings.batch_size,
        })
    }

    async fn check(&mut self) -> Result<(), PeerError> {
        session::read_once(&self.settings, &self.nodes).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(extra: serde_json::Value) -> Result<OpcuaSettings, String> {
        let mut value = serde_json::json!({
            "endpoint": "opc.tcp://127.0.0.1:4840/",
            "nodes": [{ "node": "ns=2;s=R-101.State", "unit": "R-101", "map": { "RUN": "running", "3": "down" } }],
        });
        value
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn settings_read_with_defaults_and_refuse_what_cannot_work() {
        let read = settings(serde_json::json!({})).unwrap();
        assert_eq!(read.security, Security::None);
        assert!(!read.history);
        assert_eq!(read.nodes[0].map["3"], EquipmentState::Down);
        assert!(read.validate().is_ok());

        let unknown = settings(serde_json::json!({ "securty": "none" })).unwrap_err();
        assert!(unknown.contains("securty"), "{unknown}");
        let sign = settings(serde_json::json!({ "security": "sign" })).unwrap_err();
        assert!(sign.contains("sign"), "{sign}");
        let state = settings(serde_json::json!({
            "nodes": [{ "node": "ns=2;s=X", "unit": "R-101", "map": { "a": "exploded" } }]
        }))
        .unwrap_err();
        assert!(state.contains("exploded"), "{state}");

        for (extra, named) in [
            (serde_json::json!({ "endpoint": "http://x" }), "endpoint"),
            (serde_json::json!({ "nodes": [] }), "nodes"),
            (serde_json::json!({ "username": "u" }), "password"),
            (serde_json::json!({ "batch_size": 0 }), "batch_size"),
            (
                serde_json::json!({ "nodes": [{ "node": "nonsense", "unit": "R-101", "map": { "a": "idle" } }] }),
                "nonsense",
            ),
            (
                serde_json::json!({ "nodes": [{ "node": format!("ns=2;s={}", "x".repeat(240)), "unit": "R-101", "map": { "a": "idle" } }] }),
                "unusable event ids",
            ),
            (
                serde_json::json!({ "nodes": [
                    { "node": "ns=2;s=A", "unit": "R-101", "map": { "a": "idle" } },
                    { "node": "ns=2;s=A", "unit": "R-102", "map": { "a": "idle" } },
                ] }),
                "twice",
            ),
        ] {
            let message = settings(extra).unwrap().validate().unwrap_err();
            assert!(message.contains(named), "{named}: {message}");
        }
    }

    #[test]
    fn a_password_is_not_shown() {
        let read = settings(serde_json::json!({ "username": "u", "password": "s3cret" })).unwrap();
        let source = OpcuaSource::new("line", read.clone()).unwrap();
        assert!(!format!("{read:?}").contains("s3cret"));
        assert!(!format!("{source:?}").contains("s3cret"));
    }
}
