//! Connectors: the I/O edge between mixplane and the plant's other systems (SPEC C9).
//!
//! A **source** reads records from a peer (an MES's OData service, a broker, a file) and maps
//! each to mixplane events; the runner stores them through `app`'s ingest use-case as the
//! connector's own principal, and only then advances the source's cursor, kept in the store.
//! A record that cannot be mapped goes to the dead-letter table with the reason; it never
//! blocks the records behind it. A **sink** carries an approved proposal's changes to the
//! peer as commands. `docs/connectors.md` is the contract every connector meets, and the
//! compliance harness in `tests/` runs each connector against it.
//!
//! Architecture invariant: an edge like `server` — it calls `app`'s use-cases and never
//! reaches into `server` or the store's tables; no engine logic of its own; protocol
//! modules heavy to build sit behind cargo features.
//!
//! Modules: [`source`] (the seam a protocol implements), [`runner`] (one source's loop:
//! cursor, store, dead letters, backoff, counters), [`kinds`] (a kind's name → the factory
//! that builds its source from a configuration entry), [`service`] (the configured
//! connectors started and stopped together, and `connect check`), and the sources:
//! [`jsonl`] (a file of events, tailed by byte offset), [`mqtt`] (a broker's topics, QoS 1 in a
//! persistent session, acknowledged after the store), `nats` (feature `nats`: a JetStream
//! durable consumer, acknowledged after the store), `opcua` (feature `opcua`: equipment states
//! from an OPC UA server's nodes, subscribed to) and [`odata`] (an OData v4 change feed — an
//! Opcenter-style MES, or SAP CAP — read by modified time; and the `mes` command sink).
//! [`payload`] reads the event documents the file and broker kinds carry.

mod gather;
pub mod jsonl;
pub mod kinds;
pub mod mqtt;
#[cfg(feature = "nats")]
pub mod nats;
pub mod odata;
#[cfg(feature = "opcua")]
pub mod opcua;
#[cfg(feature = "nats")]
pub mod outbox;
pub mod payload;
pub mod runner;
pub mod service;
pub mod source;

pub use kinds::{AnySource, ConnectError, ConnectorSpec, Kinds};
pub use runner::{Pacing, Runner, Stop, StopHandle, stop_pair};
