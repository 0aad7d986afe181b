//! ISA-95 and ISA-88 documents ↔ mixplane's model types (SPEC C9): B2MML schedules in as
//! orders and the plan in force out as a B2MML `OperationsSchedule`; BatchML master recipes
//! in as process routings.
//!
//! # What this crate owns
//!
//! - [`b2mml::schedule`]: what a `ProductionSchedule` (V0401, V0600) or `OperationsSchedule`
//!   (V0600, V0700) holds, read without a plant.
//! - [`b2mml::orders`]: its requests as [`model::ProductionOrder`]s checked against the
//!   plant (each fault naming the request and the field), whole document or per request, and
//!   the `order_released` events with ids and times from the document alone (idempotent).
//! - [`b2mml::operations`]: a plan written as a V0700 `SyncOperationsSchedule` (one request
//!   per order, one segment requirement per operation with its unit and times) and its
//!   assignments read back.
//! - [`batchml`]: a master recipe's procedure → unit procedures → operations → phases as a
//!   [`model::Routing`] in process mode.
//!
//! Element names and orders are facts taken from the MESA schemas
//! (MESAInternational/B2MML-BatchML, MESA B2MML licence: "The Business To Manufacturing
//! Markup Language (B2MML) is used courtesy of MESA International."); each module names the
//! schema files it follows. No schema file is copied.
//!
//! # What it must not do
//!
//! Architecture invariant: pure. No I/O, no clock, no store: documents arrive as text, the
//! plant as a [`model::Catalog`], times from the document or the caller. XML is read with
//! `trace::xml` (one bounded reader for every XML document mixplane takes), and nothing here
//! decides what is stored: `app::isa95` does.

pub mod b2mml;
pub mod batchml;
pub mod error;
mod write;

pub use b2mml::Version;
pub use b2mml::operations::{
    OperationsScheduleOut, PlannedOrder, PlannedSegment, ReadAssignment, read_assignments,
    write_operations_schedule,
};
pub use b2mml::orders::{
    OrderImport, OrderOptions, Strictness, orders_from_schedule, release_events,
};
pub use b2mml::schedule::{ScheduleDocument, read_schedule};
pub use batchml::{RecipeImport, RecipeOptions, routing_from_master_recipe};
pub use error::{Isa95Error, RequestError};
