//! B2MML (ISA-95 Part 5 messages) schedules: what a `ProductionSchedule` or
//! `OperationsSchedule` holds ([`schedule`]), its requests as mixplane orders and their
//! `order_released` events ([`orders`]), and the plan in force written out as a V0700
//! `OperationsSchedule` and read back ([`operations`]).
//!
//! Namespaces: V0401 `http://www.wbf.org/xml/B2MML-V0401`, V0600
//! `http://www.mesa.org/xml/B2MML-V0600`, V0700 `http://www.mesa.org/xml/B2MML` (the same
//! three `trace::b2mml` reads for genealogy).

pub mod operations;
pub mod orders;
pub mod schedule;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Isa95Error;

/// The B2MML release a document uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "B2mmlVersion")]
pub enum Version {
    V0401,
    V0600,
    V0700,
}

/// The V0700 namespace, which the writer uses.
pub const NAMESPACE_V0700: &str = "http://www.mesa.org/xml/B2MML";

impl Version {
    /// The release a namespace URI names.
    pub fn of_namespace(namespace: &str) -> Result<Version, Isa95Error> {
        match namespace {
            "http://www.wbf.org/xml/B2MML-V0401" => Ok(Version::V0401),
            "http://www.mesa.org/xml/B2MML-V0600" => Ok(Version::V0600),
            NAMESPACE_V0700 => Ok(Version::V0700),
            other => Err(Isa95Error::document(
                "xmlns",
                format!("`{other}` is not a B2MML namespace (expected V0401, V0600 or V0700)"),
            )),
        }
    }
}
