//! The mixed-mode plant model shared by every other crate.
//!
//! Owns the ISA-95-shaped domain (site → area → work center → unit, each with a [`Mode`]),
//! pooled secondary resources, materials, lots and serials, routings/recipes/line runs,
//! changeovers and CIP rules, calendars (read in the site's time zone, with daylight saving),
//! inspection plans and production orders; the [`Event`]s through which everything that
//! happens arrives; the fold of events into [`PlantState`]; validation that names the field
//! and id at fault; and the JSON Schemas of the plant and event documents.
//!
//! Architecture invariant: this crate is pure data and logic. It performs no I/O, reads no
//! clock and knows nothing about SQL, HTTP or the simulator; every time it handles is passed
//! in by the caller.

pub mod calendar;
pub mod catalog;
pub mod event;
pub mod ids;
pub mod json_scan;
pub mod plant;
pub mod rng;
pub mod schema;
pub mod state;
pub mod supply;
pub mod time;
pub mod wire;

pub use catalog::{Catalog, ValidationError, ValidationErrors};
pub use event::{EquipmentState, Event, EventKind};
pub use ids::*;
pub use plant::*;
pub use state::{EventError, LotState, OrderState, PlantState, SerialState, UnitState};
pub use supply::{Attendance, ExpectedReceipt, ReceiptStatus, Receipts};
pub use time::{TimeParseError, Timestamp};
