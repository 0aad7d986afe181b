//! Genealogy and traceability for mixplane (SPEC C5): the digital thread that links serials,
//! batches and lots across modes, traced both ways, with recall simulation and
//! reconciliation, reading and writing GS1 EPCIS 2.0 and reading B2MML.
//!
//! # What this crate owns
//!
//! - [`id`]: identifiers (serial, lot/batch, SSCC pallet, order, unit, customer, …) with every
//!   URN and GS1 Digital Link spelling normalised to one canonical id.
//! - [`graph`]: the genealogy as plain data — downstream [`Edge`]s (produced-from,
//!   consumed-into with quantity and unit, packed-into, shipped-to, transaction, associated),
//!   each with time and location, and [`Observation`]s (receipts, dispositions).
//! - [`index`]: the in-memory index (interned `u32` nodes, CSR adjacency both ways) that
//!   traversals run on without allocating strings.
//! - [`query`]: backward (where from) and forward (where used) trace with depth and time
//!   filters, as a tree and a flat list.
//! - [`recall`]: recall simulation from a lot, batch, serial or a unit and time window, as
//!   JSON, CSV and EPCIS events; [`reconcile`]: consumption without a producer, mass
//!   balance per batch, orphan serials.
//! - [`epcis`] (JSON-LD and XML, all five event types, error declarations, persistent
//!   dispositions, unpacking by DELETE, SimpleEventQuery parameters; a JSON-LD fast path that
//!   reads a document straight into the index, [`epcis::fast`]), [`b2mml`] (production performance
//!   `MaterialActual`, V0401/V0600/V0700), [`material`] (the plant's own material events),
//!   and [`import`], which detects the format and reads a document whole or not at all.
//! - [`limits`]: how deep and how large an imported document may be; every reader refuses a
//!   document past a bound by name, and nothing recurses deeper than the bounds.
//!
//! # What it must not do
//!
//! Architecture invariant: pure. No I/O, no clock, no SQL, no HTTP; times it writes (EPCIS
//! creation dates, recall event times) are passed in. The store persists imported documents
//! and the server and CLI call these functions.

pub mod b2mml;
pub mod epcis;
pub mod error;
pub mod graph;
pub mod id;
pub mod import;
pub mod index;
pub mod limits;
pub mod material;
pub mod persist;
pub mod query;
pub mod recall;
pub mod reconcile;
pub mod xml;

pub use error::ImportError;
pub use graph::{Edge, EdgeKind, Genealogy, Observation};
pub use id::{Id, IdKind};
pub use index::{Direction, Filter, Index, IndexBuilder};
pub use limits::Limit;
pub use query::{TraceReport, TraceRequest, TraceStep, TraceTree, trace};
pub use recall::{RecallReport, RecallRequest, recall};
pub use reconcile::{Expectation, ReconcileReport, reconcile};
