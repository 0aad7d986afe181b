//! The rollout KPIs: how the recommendations of each action kind fared in each area over a
//! window (made, applied by themselves, approved, rejected, expired, rolled back, the
//! acceptance rate, the time from proposal to decision), the schedule changes made without a
//! proposal, the agents' calls by tool, and how early quality drifts were detected where the
//! simulator's ground truth is known.
//!
//! Pure: the caller reads proposals, plan versions, audit records, alerts and results, and
//! passes them with the window; nothing here reads a clock.
//!
//! Definitions:
//! - a proposal counts in the window it was made in, under its kind and primary area;
//! - *applied by itself*: applied with no approval (its outcome's `by` is `policy:…`);
//! - *approved*: approved by people (and then applied or not), *rejected*, *expired*,
//!   *rolled back* by its status, *waiting* while proposed;
//! - *acceptance rate*: approved ÷ (approved + rejected + expired), the share of what was
//!   put to people that they took; none when nothing was put to them;
//! - *time to decision*: from the proposal to the decision that settled it (the last
//!   approval or the rejection), median and 90th percentile in minutes;
//! - *drift detection*: from a drift's start to the first alert on a characteristic it
//!   reaches (*delay*), and from that alert to the first result out of specification there
//!   (*lead*: positive when the alert came first), for every known drift. Drifts, alerts and
//!   results are in plant time; the window is in the time proposals, plan versions and
//!   audited calls were made, which for a simulated plant is not the plant's.

use std::collections::BTreeMap;

use model::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::proposal::{ActionKind, DecisionKind, Proposal, Status};

const MINUTE: f64 = 60_000.0;

/// The window, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Window {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Window {
    fn holds(&self, t: Timestamp) -> bool {
        self.from <= t && t < self.to
    }
}

/// A plan put in force, and whether a proposal made it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanChange {
    pub at: Timestamp,
    pub by: String,
    pub proposal: Option<String>,
}

/// One call an agent made through a door (a tool of the MCP server, say).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentCall {
    pub at: Timestamp,
    pub agent: String,
    pub tool: String,
}

/// A drift the simulator injected: when it started and the characteristics it reaches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KnownDrift {
    /// What drifted, in words.
    pub name: String,
    pub start: Timestamp,
    pub characteristics: Vec<String>,
}

/// What the KPIs are computed from.
#[derive(Debug, Clone, Default)]
pub struct KpiInput<'a> {
    pub proposals: &'a [Proposal],
    pub plan_changes: &'a [PlanChange],
    /// `None` when the reader may not see them (the audit trail needs a site-wide scope).
    pub agent_calls: Option<&'a [AgentCall]>,
    pub drifts: &'a [KnownDrift],
    /// (characteristic, time) of every alert.
    pub alerts: &'a [(String, Timestamp)],
    /// (characteristic, time) of every result outside its specification limits.
    pub out_of_spec: &'a [(String, Timestamp)],
}

/// Minutes: the median and 90th percentile (nearest rank) of `n` values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Minutes {
    pub n: usize,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

impl Minutes {
    fn of(mut values: Vec<f64>) -> Minutes {
        values.sort_by(f64::total_cmp);
        let at = |q: f64| {
            (!values.is_empty()).then(|| {
                let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
                (values[rank - 1] * 10.0).round() / 10.0
            })
        };
        Minutes {
            n: values.len(),
            median: at(0.5),
            p90: at(0.9),
        }
    }
}

/// The recommendations of one action kind in one area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Recommendations {
    /// None in the total over every kind.
    pub kind: Option<ActionKind>,
    /// None in the total over every area.
    pub area: Option<String>,
    pub made: u64,
    pub applied_by_itself: u64,
    pub approved: u64,
    pub rejected: u64,
    pub expired: u64,
    pub rolled_back: u64,
    pub waiting: u64,
    pub acceptance_rate: Option<f64>,
    pub time_to_decision: Minutes,
}

/// One agent tool's use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ToolUse {
    pub tool: String,
    pub calls: u64,
    /// Distinct agents that called it.
    pub agents: u64,
}

/// How one known drift was detected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DriftDetection {
    pub drift: KnownDrift,
    pub first_alert: Option<Timestamp>,
    pub first_out_of_spec: Option<Timestamp>,
    /// Minutes from the drift's start to the first alert.
    pub delay_minutes: Option<f64>,
    /// Minutes from the first alert to the first result out of specification (positive:
    /// the alert came first); none without both.
    pub lead_minutes: Option<f64>,
}

/// The rollout KPIs over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RolloutKpis {
    pub window: Window,
    /// Per action kind and area, in kind then area order.
    pub recommendations: Vec<Recommendations>,
    /// The same over every kind and area.
    pub total: Recommendations,
    /// Plans put in force in the window without a proposal.
    pub manual_schedule_changes: u64,
    /// Plans put in force in the window from a proposal.
    pub proposed_schedule_changes: u64,
    /// Agent calls by tool, most used first; none when the reader may not see them.
    pub agent_calls: Option<Vec<ToolUse>>,
    /// Every drift whose ground truth is known (in plant time, which the window is not: it
    /// is the time proposals, plans and calls were made).
    pub drift_detection: Vec<DriftDetection>,
    /// Minutes from drift start to first alert over those detected.
    pub drift_detection_delay: Minutes,
}

#[derive(Default)]
struct Tally {
    made: u64,
    applied_by_itself: u64,
    approved: u64,
    rejected: u64,
    expired: u64,
    rolled_back: u64,
    waiting: u64,
    decision_minutes: Vec<f64>,
}

impl Tally {
    fn add(&mut self, p: &Proposal) {
        self.made += 1;
        let by_itself = p
            .applied
            .as_ref()
            .is_some_and(|o| o.by.starts_with("policy:"));
        let approvals = p
            .decisions
            .iter()
            .filter(|d| d.decision == DecisionKind::Approve)
            .count();
        match p.status {
            Status::Proposed => self.waiting += 1,
            Status::Rejected => self.rejected += 1,
            Status::Expired => self.expired += 1,
            Status::RolledBack => self.rolled_back += 1,
            Status::Approved | Status::Applied => {}
        }
        if by_itself {
            self.applied_by_itself += 1;
        } else if approvals > 0 && p.status != Status::Rejected {
            self.approved += 1;
        }
        let settled = match p.status {
            Status::Rejected => p
                .decisions
                .iter()
                .find(|d| d.decision == DecisionKind::Reject),
            _ if approvals > 0 => p
                .decisions
                .iter()
                .rfind(|d| d.decision == DecisionKind::Approve),
            _ => None,
        };
        if let Some(decision) = settled {
            self.decision_minutes
                .push((decision.at.0 - p.proposed_at.0) as f64 / MINUTE);
        }
    }

    fn finish(self, kind: Option<ActionKind>, area: Option<String>) -> Recommendations {
        let put = self.approved + self.rejected + self.expired;
        Recommendations {
            kind,
            area,
            made: self.made,
            applied_by_itself: self.applied_by_itself,
            approved: self.approved,
            rejected: self.rejected,
            expired: self.expired,
            rolled_back: self.rolled_back,
            waiting: self.waiting,
            acceptance_rate: (put > 0).then(|| self.approved as f64 / put as f64),
            time_to_decision: Minutes::of(self.decision_minutes),
        }
    }
}

/// The KPIs over `window` from `input`.
pub fn rollout_kpis(window: Window, input: &KpiInput<'_>) -> RolloutKpis {
    let mut groups: BTreeMap<(ActionKind, &str), Tally> = BTreeMap::new();
    let mut total = Tally::default();
    for p in input
        .proposals
        .iter()
        .filter(|p| window.holds(p.proposed_at))
    {
        groups.entry((p.kind, p.area.as_str())).or_default().add(p);
        total.add(p);
    }
    let recommendations = groups
        .into_iter()
        .map(|((kind, area), tally)| tally.finish(Some(kind), Some(area.to_owned())))
        .collect();
    let in_window = input.plan_changes.iter().filter(|c| window.holds(c.at));
    let (proposed, manual): (Vec<&PlanChange>, Vec<&PlanChange>) =
        in_window.partition(|c| c.proposal.is_some());
    // Drifts are in plant time, the window in the time proposals were made: every known
    // drift is reported.
    let drift_detection: Vec<DriftDetection> =
        input.drifts.iter().map(|d| detection(d, input)).collect();
    let delays = drift_detection
        .iter()
        .filter_map(|d| d.delay_minutes)
        .collect();
    RolloutKpis {
        window,
        recommendations,
        total: total.finish(None, None),
        manual_schedule_changes: manual.len() as u64,
        proposed_schedule_changes: proposed.len() as u64,
        agent_calls: input.agent_calls.map(|calls| tool_use(window, calls)),
        drift_detection,
        drift_detection_delay: Minutes::of(delays),
    }
}

fn tool_use(window: Window, calls: &[AgentCall]) -> Vec<ToolUse> {
    let mut by_tool: BTreeMap<&str, (u64, std::collections::BTreeSet<&str>)> = BTreeMap::new();
    for call in calls.iter().filter(|c| window.holds(c.at)) {
        let entry = by_tool.entry(call.tool.as_str()).or_default();
        entry.0 += 1;
        entry.1.insert(call.agent.as_str());
    }
    let mut out: Vec<ToolUse> = by_tool
        .into_iter()
        .map(|(tool, (calls, agents))| ToolUse {
            tool: tool.to_owned(),
            calls,
            agents: agents.len() as u64,
        })
        .collect();
    out.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.tool.cmp(&b.tool)));
    out
}

fn detection(drift: &KnownDrift, input: &KpiInput<'_>) -> DriftDetection {
    let first = |list: &[(String, Timestamp)]| {
        list.iter()
            .filter(|(c, at)| *at >= drift.start && drift.characteristics.contains(c))
            .map(|(_, at)| *at)
            .min()
    };
    let first_alert = first(input.alerts);
    let first_out_of_spec = first(input.out_of_spec);
    let minutes =
        |from: Timestamp, to: Timestamp| ((to.0 - from.0) as f64 / MINUTE * 10.0).round() / 10.0;
    DriftDetection {
        delay_minutes: first_alert.map(|a| minutes(drift.start, a)),
        lead_minutes: first_alert
            .zip(first_out_of_spec)
            .map(|(a, o)| minutes(a, o)),
        first_alert,
        first_out_of_spec,
        drift: drift.clone(),
    }
}

#[cfg(test)]
mod tests;
