//! What the enforcer answers: alerts, the holds and nonconformances the policy decides, and
//! the points and view of a control chart display.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::nc::EpochMillis;
use crate::policy::{Mode, ResolvedPolicy, Severity, Transform};
use crate::rules::{RuleSet, Violation};

use super::input::ItemRef;

/// Center and limits of one plotted point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Limits {
    /// Center line.
    pub center: f64,
    /// Lower control limit.
    pub lcl: f64,
    /// Upper control limit.
    pub ucl: f64,
}

/// A point that violated the policy's rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Alert {
    /// `AL-<characteristic>-<index>`.
    pub id: String,
    /// Characteristic id.
    pub characteristic: String,
    /// Mode.
    pub mode: Mode,
    /// Chart kind.
    pub chart: String,
    /// 0-based index of the point on the characteristic's chart.
    pub index: usize,
    /// 1 while the limits were being established, 2 after.
    pub phase: u8,
    /// Rule set of the rules.
    pub rule_set: RuleSet,
    /// Fired rules (numbers of the rule set).
    pub rules: Vec<u8>,
    /// Strictly beyond a control limit.
    pub beyond_limits: bool,
    /// The dispersion chart (MR, R, S) is out of control at this point.
    pub dispersion_out_of_control: bool,
    /// Every signal of the point lies on the good side of a one-sided specification (below
    /// the centre line with only an upper specification limit, above it with only a lower
    /// one): reported, but nothing is held and no nonconformance opens.
    #[serde(default)]
    pub good_side: bool,
    /// The fired rules whose pattern lies on the good side of a one-sided specification
    /// (they do not count toward the severity).
    #[serde(default)]
    pub good_side_rules: Vec<u8>,
    /// Most severe of the signals that count against the material (minor when every signal
    /// is on the good side).
    pub severity: Severity,
    /// Plotted value.
    pub value: f64,
    /// Limits of the point.
    pub limits: Limits,
    /// Items measured (serials, lots, orders).
    pub items: Vec<ItemRef>,
    /// Events of the results that make up the point.
    pub event_ids: Vec<String>,
    /// Time of the last result of the point.
    #[serde(with = "crate::time::rfc3339")]
    #[schemars(with = "model::Timestamp")]
    pub at: EpochMillis,
    /// Version of the policy that judged it.
    pub policy_version: String,
}

/// How a held item relates to the alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HoldLink {
    /// The item measured.
    Item,
    /// Upstream of it (what it was made from).
    Upstream,
    /// Downstream of it (what was made from it).
    Downstream,
}

/// An item to put on hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HoldAction {
    /// The item.
    pub item: ItemRef,
    /// How it relates to the alert.
    pub link: HoldLink,
    /// Why, in words.
    pub reason: String,
    /// The alert that caused it.
    pub alert_id: String,
    /// Characteristic.
    pub characteristic: String,
    /// When (the alert's time).
    #[serde(with = "crate::time::rfc3339")]
    #[schemars(with = "model::Timestamp")]
    pub at: EpochMillis,
}

/// A nonconformance to open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NcAction {
    /// `NC-<characteristic>-<index>`.
    pub id: String,
    /// What was found.
    pub description: String,
    /// Items concerned (keys `lot:…`, `serial:…`, `order:…`).
    pub items: Vec<String>,
    /// The alert that caused it.
    pub alert_id: String,
    /// Characteristic.
    pub characteristic: String,
    /// Severity of the alert.
    pub severity: Severity,
    /// When (the alert's time).
    #[serde(with = "crate::time::rfc3339")]
    #[schemars(with = "model::Timestamp")]
    pub at: EpochMillis,
}

/// What one [`Enforcer::feed`](super::Enforcer::feed) produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Outcome {
    /// New alerts, in order.
    pub alerts: Vec<Alert>,
    /// Items to hold (each item at most once per feed).
    pub holds: Vec<HoldAction>,
    /// Nonconformances to open.
    pub nonconformances: Vec<NcAction>,
    /// Results ignored: unknown characteristic, unsupported chart, or a value the chart
    /// cannot take (an incomplete subgroup, a size that differs from an np chart's).
    pub skipped: u64,
}

/// One plotted point of a [`ChartView`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChartPoint {
    /// 0-based index.
    pub index: usize,
    /// 1 (limits being established) or 2 (frozen limits).
    pub phase: u8,
    /// Plotted value.
    pub value: f64,
    /// Limits of the point.
    pub limits: Limits,
    /// Fired rules.
    pub rules: Vec<u8>,
    /// Strictly beyond a limit.
    pub beyond_limits: bool,
    /// Dispersion out of control.
    pub dispersion_out_of_control: bool,
    /// Items measured.
    pub items: Vec<ItemRef>,
    /// Time of the last result of the point.
    #[serde(with = "crate::time::rfc3339")]
    #[schemars(with = "model::Timestamp")]
    pub at: EpochMillis,
}

/// Chart data of one characteristic under the policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChartView {
    /// Characteristic id.
    pub characteristic: String,
    /// Chart kind.
    pub chart: String,
    /// Mode.
    pub mode: Mode,
    /// `phase1` (collecting points), `monitoring` (limits frozen) or `unsupported`.
    pub status: String,
    /// The resolved policy.
    pub policy: ResolvedPolicy,
    /// The scale the chart was computed on (`log` charts report values and limits back in
    /// measured units).
    pub transform: Transform,
    /// Frozen center and limits (the first point's for p and u charts); none in phase I.
    pub limits: Option<Limits>,
    /// Points charted so far (phase I points appear once the limits freeze).
    pub points: Vec<ChartPoint>,
    /// Rule violations `{rule, index}`.
    pub violations: Vec<Violation>,
    /// Indices strictly beyond a limit.
    pub points_out_of_control: Vec<usize>,
    /// Points waiting for phase I to complete.
    pub pending_phase1: usize,
    /// Results that could not be charted.
    pub skipped: u64,
}
