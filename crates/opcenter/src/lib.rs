//! mixplane's Opcenter profile: the entity sets an Opcenter-style MES (Siemens Opcenter
//! Execution Foundation, Opcenter EX DS) serves over OData v4, and the translations between
//! them and mixplane.
//!
//! # What this crate owns
//!
//! - [`sets`]: the apps (`AppU4DM`, `Equipment`, `Material`), their entity sets and
//!   properties as plain data; [`schema`] renders them as each app's CSDL model.
//! - [`tables`]: the emulator's side — [`Tables`] folds plant events (as the simulator emits
//!   them) into rows stamped with a strictly increasing `ModifiedOn`, and hands the rows out
//!   in OData JSON shape; commands change rows too ([`Tables::apply_command`]).
//! - [`map`]: the source's side — [`map_row`] turns a row into mixplane events given what
//!   mixplane already [`Known`]s, with event ids derived from the row.
//! - [`command`]: the MES commands an approved proposal's changes become ([`commands_for`]),
//!   how the MES reads them ([`parse_command`]) and the answer shape ([`CommandAnswer`]).
//! - [`wire`]: name-based GUIDs, `Edm.DateTimeOffset` text, coded values.
//!
//! `docs/opcenter-profile.md` describes the sets, mapping rules and commands, and names the
//! public sources the names follow.
//!
//! # What it must not do
//!
//! No I/O and no clock: plant times arrive with the events and commands, HTTP and paging
//! live in the emulator (`mesemu`) and the connector (`connect`). The same events give the
//! same rows, GUIDs and stamps; the same row gives the same events.

pub mod command;
mod command_parse;
pub mod map;
mod map_events;
pub mod schema;
pub mod sets;
pub mod tables;
pub mod wire;

#[cfg(test)]
mod map_tests;

pub use command::{
    Action, AnswerError, Command, CommandAnswer, CommandError, CommandsError, IDEMPOTENCY_KEY,
    MODIFIED_BY, ParsedCommand, commands_for, parse_command,
};
pub use map::{Known, KnownOperation, KnownOrder, KnownReceipt, MapError, map_row, map_set_row};
pub use schema::{app_schema, csdl, schema};
pub use sets::{App, Edm, EntitySet, PropertyDef, SetKind};
pub use tables::{ApplyError, Tables, UnknownSet, operation_nid};
