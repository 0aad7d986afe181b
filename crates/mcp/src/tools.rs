//! The tool table: every tool once, with its description, the permission it needs and the
//! schema of its arguments; `tools/list` and the dispatch of `tools/call` are both read from
//! it, so a tool cannot be listed without its rule or called without being listed.
//!
//! No tool decides or applies a proposal: none needs `decide_proposals` or
//! `apply_proposals` (a unit test holds the table to that), so an agent never approves,
//! whatever its role would allow.

use govern::Permission;
use schemars::JsonSchema;
use serde_json::{Map, Value};

use crate::args;

/// One tool.
pub struct ToolSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// What the principal's role must grant (checked with the plant's site scope before the
    /// use-case runs; the use-case checks the object's areas).
    pub permission: Permission,
    /// Reads only (a proposal tool writes a proposal).
    pub read_only: bool,
    pub schema: fn() -> Map<String, Value>,
}

/// The JSON Schema of `T` as a tool's `inputSchema`.
fn schema<T: JsonSchema>() -> Map<String, Value> {
    let generated = schemars::schema_for!(T);
    match serde_json::to_value(generated) {
        Ok(Value::Object(mut map)) => {
            // Clients want the object itself; the draft marker and title add nothing.
            map.remove("$schema");
            map.remove("title");
            map.entry("type").or_insert_with(|| Value::from("object"));
            map.entry("properties")
                .or_insert_with(|| Value::Object(Map::new()));
            map
        }
        _ => Map::new(),
    }
}

macro_rules! tool {
    ($name:literal, $title:literal, $permission:ident, $read_only:literal, $args:ty, $description:expr) => {
        ToolSpec {
            name: $name,
            title: $title,
            description: $description,
            permission: Permission::$permission,
            read_only: $read_only,
            schema: schema::<$args>,
        }
    };
}

/// Every tool, reads first.
pub static TOOLS: &[ToolSpec] = &[
    tool!(
        "list_orders",
        "List production orders",
        ReadPlant,
        true,
        args::ListOrders,
        "Production orders with their status, quantities, due dates and progress per step, \
         filtered by status or mode. Use it to find order ids and see which orders are open, \
         running or done. Only orders in this agent's scope are listed."
    ),
    tool!(
        "get_order",
        "Get one production order",
        ReadPlant,
        true,
        args::OrderId,
        "One production order by id: its status, routing progress, dispatched steps and lots."
    ),
    tool!(
        "list_work_centers",
        "List work centers and units",
        ReadPlant,
        true,
        args::NoArgs,
        "Work centers (with area and production mode) and their units: each unit's current \
         state (running, idle, down, ...), since when, and its utilisation."
    ),
    tool!(
        "get_schedule",
        "Schedule in force and its KPIs",
        ReadSchedule,
        true,
        args::NoArgs,
        "The plan in force (the schedule the plant follows): its version, provenance, KPIs \
         (tardiness, makespan, changeovers, ...) with the optimality gap, and its assignments \
         of operations to units in start order."
    ),
    tool!(
        "explain_lateness",
        "Why orders are late; bottlenecks",
        ReadSchedule,
        true,
        args::ExplainLateness,
        "Why orders are late under the plan in force: for each late order (or one order) \
         its minutes late, the dominant cause and the chain of waits back to its release; and \
         the units and resource pools ranked as bottlenecks by the lateness they cause and \
         their load."
    ),
    tool!(
        "get_control_chart",
        "Control chart and capability",
        ReadQuality,
        true,
        args::Characteristic,
        "The SPC control chart of a quality characteristic (points, centre line, control \
         limits, run-rule signals) and its process capability (Cp, Cpk against the spec)."
    ),
    tool!(
        "list_alerts",
        "List quality alerts",
        ReadQuality,
        true,
        args::ListAlerts,
        "Quality alerts raised by SPC enforcement, newest first: characteristic, severity, \
         the rules that fired, the measured items, and the reaction (hold, NC)."
    ),
    tool!(
        "list_holds",
        "List quality holds",
        ReadQuality,
        true,
        args::ListHolds,
        "Quality holds on lots, serials and orders, newest first: reason, who placed it, \
         whether it is still in force. Hold ids here are what `propose_hold_release` takes."
    ),
    tool!(
        "list_nonconformances",
        "List nonconformances (NCs)",
        ReadQuality,
        true,
        args::ListNonconformances,
        "Nonconformances with their workflow state (open, investigating, dispositioned, capa, \
         verified, closed), items, disposition, CAPA actions and history."
    ),
    tool!(
        "release_gate",
        "Release gate of a lot or serial",
        ReadQuality,
        true,
        args::ReleaseGate,
        "Whether a lot or serial may be released: the gate's decision and every reason \
         blocking it (holds in force or proposed, open nonconformances, missing inspections)."
    ),
    tool!(
        "trace_backward",
        "Trace an item backward",
        ReadTrace,
        true,
        args::Trace,
        "Genealogy upstream of an item: what it was made from (component lots, batches, \
         orders, units), hop by hop with times and quantities. Nodes outside this agent's \
         scope are redacted and counted."
    ),
    tool!(
        "trace_forward",
        "Trace an item forward",
        ReadTrace,
        true,
        args::Trace,
        "Genealogy downstream of an item: what it went into and where it was shipped, hop \
         by hop. Nodes outside this agent's scope are redacted and counted."
    ),
    tool!(
        "simulate_recall",
        "Simulate a recall",
        ReadTrace,
        true,
        args::Recall,
        "Simulates a recall from a suspect item (or a unit's output over a time window): \
         every affected lot, serial and shipment downstream, with quantities. Writes nothing."
    ),
    tool!(
        "rank_root_causes",
        "Rank the root causes of a quality problem",
        ReadQuality,
        true,
        args::RootCause,
        "Which upstream process parameters (of any recipe, line or assembly step) and which \
         delivered component lots best explain a characteristic's results, found by walking \
         the genealogy upstream from the measured items: each cause with its rank correlation, \
         p- and q-value, how many orders and items support it, causes the data cannot tell \
         apart, and the corrective action the quality policy suggests. Use it after \
         `list_alerts` shows a characteristic drifting. Causes outside this agent's scope are \
         counted, not shown."
    ),
    tool!(
        "get_rollout_kpis",
        "Rollout KPIs",
        ReadProposals,
        true,
        args::Kpis,
        "How the recommendations fared over a window, per action kind and area: made, \
         applied by themselves, approved, rejected, expired, the acceptance rate and the time \
         to a decision; schedule changes made without a proposal; agents' calls by tool; and, \
         where the simulator's ground truth is known, how soon each quality drift was \
         alerted on."
    ),
    tool!(
        "get_proposal",
        "Get a proposal's status",
        ReadProposals,
        true,
        args::ProposalId,
        "A proposal by id with where governance has it: waiting for approval (by whom), \
         approved, applied, rejected or expired. Use it to follow up a propose tool's answer."
    ),
    tool!(
        "run_what_if",
        "Run what-if scenarios",
        WriteSchedule,
        true,
        args::WhatIf,
        "Compares what-if scenarios against the plan in force on the plant as it is now \
         (maximize throughput, minimize tardiness or changeovers, overtime on the bottleneck, \
         defer low-priority orders), ranked by weighted KPIs with lateness risk; each answer \
         carries its schedule. Changes nothing: commit one with `commit_scenario`. Needs a \
         site-wide scope (the scenarios cover the whole plant)."
    ),
    tool!(
        "commit_scenario",
        "Propose a what-if scenario",
        ProposeChanges,
        false,
        args::CommitScenario,
        "Proposes one scenario of `run_what_if` as a schedule change. Governance decides: it \
         applies by itself when the policy allows (few operations moved), otherwise it waits \
         for a planner's approval. The answer says which. Agents never approve."
    ),
    tool!(
        "propose_hold",
        "Propose a quality hold",
        ProposeChanges,
        false,
        args::ProposeHold,
        "Proposes to put a lot, serial or order on quality hold, with the reason and \
         severity. Governance decides whether it is placed by itself or waits for a person \
         (a quality engineer); the answer says which. Agents never place holds directly."
    ),
    tool!(
        "propose_hold_release",
        "Propose releasing a quality hold",
        ProposeChanges,
        false,
        args::ProposeHoldRelease,
        "Proposes to release one quality hold (an id from `list_holds`) so its lot, serial or \
         order may move again, with the reason it is good. Governance decides (the shipped \
         policy: two quality approvers) and a person applies it; only that hold is released. \
         The answer says whether it waits and for whom."
    ),
    tool!(
        "propose_nc_transition",
        "Propose a nonconformance transition",
        ProposeChanges,
        false,
        args::ProposeNcTransition,
        "Proposes to move a nonconformance (NC) through its workflow: start the \
         investigation, disposition it (use as is, rework, scrap, return), start CAPA, add or \
         complete CAPA actions, verify, close. The command is checked against the NC now; \
         governance decides (the shipped policy: two quality approvers) and a person applies \
         it. The answer says whether it waits and for whom."
    ),
];

/// The tool named `name`.
pub fn find(name: &str) -> Option<&'static ToolSpec> {
    TOOLS.iter().find(|t| t.name == name)
}

/// Every tool's name, comma-separated, for an error naming what exists.
pub fn names() -> String {
    TOOLS.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_tool_decides_or_applies() {
        for tool in TOOLS {
            assert!(
                !matches!(
                    tool.permission,
                    Permission::DecideProposals | Permission::ApplyProposals
                ),
                "{} needs {:?}: agents never approve or apply",
                tool.name,
                tool.permission
            );
            assert!(!tool.name.contains("approve") && !tool.name.contains("apply"));
        }
    }

    #[test]
    fn names_are_unique_and_schemas_are_objects() {
        let mut seen = std::collections::BTreeSet::new();
        for tool in TOOLS {
            assert!(seen.insert(tool.name), "{} twice", tool.name);
            let schema = (tool.schema)();
            assert_eq!(schema["type"], "object", "{}", tool.name);
            assert!(schema["properties"].is_object(), "{}", tool.name);
            assert!(tool.description.len() > 60, "{}: describe it", tool.name);
        }
    }

    #[test]
    fn a_misspelt_argument_is_refused_by_name() {
        let error = serde_json::from_value::<args::OrderId>(serde_json::json!({"order": "x"}))
            .unwrap_err()
            .to_string();
        assert!(error.contains("order"), "{error}");
    }
}
