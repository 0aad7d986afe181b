//! What a quality alert tells a reviewer: the finding a `quality_hold` proposal rests on, kept
//! in its evidence ([`crate::Evidence::alert`]) beside the diff that holds the items.
//!
//! The quality agent fills it from the enforcer's alert (characteristic, rules, the plotted
//! point and its control limits, the results that made it) and from the genealogy it
//! followed to each held item. It is evidence for the reader, as the KPIs are: the gate is
//! decided on the diff's assessment ([`crate::evidence`]), never on what a finding says.

use model::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Centre line and control limits of the point that signalled.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlLimits {
    pub center: f64,
    pub lcl: f64,
    pub ucl: f64,
}

/// One item a proposal holds, and how the alert reaches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeldItem {
    /// `lot:ID`, `serial:ID` or `order:ID`.
    pub item: String,
    /// `item` (measured), `upstream` (what it was made from) or `downstream` (made from it).
    pub link: String,
    /// The genealogy walked from a measured item to this one, items and orders as
    /// `kind:ID` (`lot:B-7 → order:MO-3 → lot:RES-1`); the item alone when it was measured.
    pub path: Vec<String>,
}

/// The alert behind a quality hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertFinding {
    /// The alert's id (`AL-<characteristic>-<index>`).
    pub alert: String,
    pub characteristic: String,
    /// `minor`, `major`, `critical`.
    pub severity: String,
    /// Chart kind (`imr`, `xbar_r`, …).
    pub chart: String,
    /// `nelson` or `western_electric`.
    pub rule_set: String,
    /// The rules that fired (numbers of the rule set).
    pub rules: Vec<u8>,
    pub beyond_limits: bool,
    pub dispersion_out_of_control: bool,
    /// 0-based index of the point on the characteristic's chart.
    pub point: usize,
    /// The plotted value.
    pub value: f64,
    pub limits: ControlLimits,
    /// The quality results (event ids) that make up the point.
    pub results: Vec<String>,
    /// The items measured (`kind:ID`).
    pub measured: Vec<String>,
    /// When the last result of the point was measured.
    pub at: Timestamp,
    /// What the alert holds and why.
    pub holds: Vec<HeldItem>,
    /// Items the reaction named that the plant does not know (never produced, received or
    /// booked here): not held by this proposal, the alert's nonconformance names them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<String>,
}
