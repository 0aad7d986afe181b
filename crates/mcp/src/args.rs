//! The arguments of each tool: what a model sends, with the JSON Schema it is shown
//! (`tools/list`) generated from the same types, so the schema cannot promise a field the
//! tool does not read. Every struct refuses unknown fields, so a misspelt argument is named
//! in the error rather than silently ignored.

use schemars::JsonSchema;
use serde::Deserialize;

/// Default number of items a list tool answers.
pub const DEFAULT_LIMIT: usize = 50;
/// The most items a list tool answers in one call.
pub const MAX_LIMIT: usize = 500;

/// No arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListOrders {
    /// Only orders in this status: planned, released, in_progress, completed or cancelled.
    #[serde(default)]
    pub status: Option<String>,
    /// Only orders of this production mode: discrete, process or repetitive.
    #[serde(default)]
    pub mode: Option<String>,
    /// At most this many orders (default 50, at most 500), by order id.
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderId {
    /// A production order id, as `list_orders` answers it (e.g. `PO-1001`).
    pub order_id: String,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainLateness {
    /// One order to explain; without it, every late order you may read.
    #[serde(default)]
    pub order_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Characteristic {
    /// A quality characteristic id from the plant's inspection plans (e.g. `EA-100.temp`);
    /// `list_alerts` answers the characteristics that signalled.
    pub characteristic: String,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAlerts {
    /// Only alerts of this characteristic.
    #[serde(default)]
    pub characteristic: Option<String>,
    /// Only alerts of this severity: critical, major or minor.
    #[serde(default)]
    pub severity: Option<String>,
    /// At most this many alerts (default 50, at most 500), newest first.
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListHolds {
    /// Only holds in force (true) or released ones (false).
    #[serde(default)]
    pub active: Option<bool>,
    /// Only holds on this kind of item: lot, serial or order.
    #[serde(default)]
    pub item_kind: Option<String>,
    /// Only holds on this item id.
    #[serde(default)]
    pub item_id: Option<String>,
    /// At most this many holds (default 50, at most 500), newest first.
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListNonconformances {
    /// Only nonconformances in this workflow state: open, investigating, dispositioned,
    /// capa, verified or closed.
    #[serde(default)]
    pub state: Option<String>,
    /// Only nonconformances not closed (true) or closed (false).
    #[serde(default)]
    pub open: Option<bool>,
    /// At most this many (default 50, at most 500), newest first.
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseGate {
    /// A lot or batch id (give this or `serial`).
    #[serde(default)]
    pub lot: Option<String>,
    /// A serial number (give this or `lot`).
    #[serde(default)]
    pub serial: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Trace {
    /// A lot, batch, serial, pallet or order id (plant ids, GS1 URNs and Digital Link URIs
    /// are accepted).
    pub id: String,
    /// Hops from the start; none for the whole genealogy.
    #[serde(default)]
    pub max_depth: Option<u32>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Recall {
    /// A suspect lot, batch, serial or pallet (give this, or `unit` with a window).
    #[serde(default)]
    pub id: Option<String>,
    /// A unit whose output in the window `from`..`to` is suspect.
    #[serde(default)]
    pub unit: Option<String>,
    /// Window start for `unit`, RFC 3339 (e.g. `2026-03-02T06:00:00Z`).
    #[serde(default)]
    pub from: Option<String>,
    /// Window end for `unit` (exclusive), RFC 3339.
    #[serde(default)]
    pub to: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalId {
    /// A proposal id, as a propose tool answered it.
    pub proposal_id: String,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatIf {
    /// What-ifs to compare with the plan in force (2 to 5 of maximize_throughput,
    /// minimize_tardiness, minimize_changeovers, overtime_on_bottleneck,
    /// defer_low_priority); default the first four but minimize_tardiness.
    #[serde(default)]
    pub scenarios: Option<Vec<String>>,
    /// Overtime after each shift of the bottleneck for overtime_on_bottleneck, minutes
    /// (default 120).
    #[serde(default)]
    pub overtime_minutes: Option<i64>,
    /// How much later the lowest-priority orders may finish for defer_low_priority, minutes
    /// (default 1440).
    #[serde(default)]
    pub defer_minutes: Option<i64>,
    /// Search budget per scenario and thread in iterations; with it the answer is
    /// reproducible. Without it the search runs for `time_limit_seconds`.
    #[serde(default)]
    pub iterations: Option<u64>,
    /// Wall-clock budget for all scenarios together, seconds (default 5, at most 60).
    #[serde(default)]
    pub time_limit_seconds: Option<f64>,
    /// Seed of the search and the risk runs.
    #[serde(default)]
    pub seed: u64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitScenario {
    /// The `scenario` of one entry of `run_what_if`'s `scenarios`, unchanged (e.g.
    /// `minimize_changeovers`).
    pub scenario: String,
    /// The `changes` of that entry, unchanged (overtime windows, deferrals; `{}` for the
    /// objective presets).
    #[serde(default)]
    pub changes: Option<serde_json::Value>,
    /// The `schedule` of that entry, unchanged (`{"assignments": [...]}`).
    pub schedule: serde_json::Value,
    /// The plant area the proposal belongs to; by default the one area whose units it
    /// changes.
    #[serde(default)]
    pub area: Option<String>,
    /// The `seed` given to `run_what_if` (the problem is rebuilt the same way).
    #[serde(default)]
    pub seed: u64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeHold {
    /// lot, serial or order.
    pub item_kind: String,
    /// The id of the lot, serial or order to hold.
    pub item_id: String,
    /// Why, in words a reviewer understands (what was seen, where).
    pub reason: String,
    /// minor, major or critical.
    pub severity: String,
    /// The quality alert the hold rests on, if any (an id from `list_alerts`).
    #[serde(default)]
    pub alert_id: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeHoldRelease {
    /// The hold to release, an id from `list_holds` (only holds in force).
    pub hold_id: String,
    /// Why the item may be released (the evidence that it is good).
    pub reason: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeNcTransition {
    /// The nonconformance, an id from `list_nonconformances`.
    pub nc_id: String,
    /// The workflow command, e.g. `{"action": "start_investigation"}` (open → investigating),
    /// `{"action": "disposition", "disposition": "rework"}` (use_as_is, rework, scrap or
    /// return; investigating → dispositioned), `{"action": "start_capa"}`,
    /// `{"action": "add_capa_action", "id": "A1", "description": "…"}`,
    /// `{"action": "complete_capa_action", "id": "A1"}`, `{"action": "verify"}`,
    /// `{"action": "close"}`.
    pub transition: serde_json::Value,
}

/// The limit a list tool applies: `limit` within 1..=[`MAX_LIMIT`], default
/// [`DEFAULT_LIMIT`].
pub fn limit(asked: Option<usize>) -> Result<usize, String> {
    match asked {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(format!(
            "`limit` is {n}; give a number from 1 to {MAX_LIMIT}"
        )),
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RootCause {
    /// One characteristic id, or several showing one defect on different products (e.g.
    /// every assembly's failure count: `M50-FAIL`, `M200-FAIL`); `list_alerts` answers the
    /// characteristics that signalled.
    pub characteristics: Vec<String>,
    /// Only results at or after this time, RFC 3339.
    #[serde(default)]
    pub from: Option<String>,
    /// Only results before this time, RFC 3339.
    #[serde(default)]
    pub to: Option<String>,
    /// Causes to answer (default 10, at most 100).
    #[serde(default)]
    pub top: Option<usize>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Kpis {
    /// Window start, RFC 3339 (default: 30 days before `to`).
    #[serde(default)]
    pub from: Option<String>,
    /// Window end (exclusive), RFC 3339 (default: now).
    #[serde(default)]
    pub to: Option<String>,
}
