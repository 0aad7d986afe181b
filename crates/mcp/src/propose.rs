//! The tools that propose: what-ifs and committing one, and quality holds. Each proposal goes
//! through governance (`app::govern::submit`, via the use-case), and the answer says whether
//! it applied by itself under the policy or waits for a person, and for whom.

use app::scenario::{ChosenScenario, CommitRequest, ScenariosRequest};
use govern::{Proposal, Scope};
use schedule::plant::scenario::ScenarioKind;
use serde_json::{Value, json};

use crate::args;
use crate::calls::Call;
use crate::error::ToolError;

/// A proposal as a propose tool answers it: where governance left it, then the proposal.
pub fn answer(proposal: &Proposal) -> Result<Value, ToolError> {
    Ok(json!({
        "governance": app::quality::propose::governance_summary(proposal),
        "proposal": serde_json::to_value(proposal)
            .map_err(|e| ToolError::App(app::AppError::Internal(format!("answer: {e}"))))?,
    }))
}

/// The what-ifs cover the whole plant (every order's KPIs and schedule), so only a
/// principal whose scope is the whole site may run them.
fn site_wide(call: &Call<'_>) -> Result<(), ToolError> {
    match &call.who.scope {
        Scope::All | Scope::Site(_) => Ok(()),
        Scope::Area(_) => Err(ToolError::Scope {
            message: format!(
                "`{}` compares schedules of the whole plant, which an area scope does not read",
                call.tool
            ),
            scope: call.who.scope.to_string(),
            next: "it needs a site-wide scope (`*` or `site:…`); `explain_lateness` and \
                   `get_schedule` answer for this agent's area"
                .into(),
        }),
    }
}

pub async fn what_if(call: &Call<'_>, a: args::WhatIf) -> Result<Value, ToolError> {
    site_wide(call)?;
    let scenarios = a
        .scenarios
        .map(|names| {
            names
                .iter()
                .map(|name| {
                    name.trim()
                        .parse::<ScenarioKind>()
                        .map_err(|e| ToolError::arguments(call.tool, format!("`scenarios`: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let request = ScenariosRequest {
        problem: None,
        plan: None,
        scenarios,
        ranking: None,
        risk_runs: None,
        duration_spread: None,
        overtime_minutes: a.overtime_minutes,
        defer_minutes: a.defer_minutes,
        time_limit_seconds: a.time_limit_seconds,
        iterations: a.iterations,
        seed: a.seed,
        threads: None,
    };
    // The report alone: the basis (the whole problem) is for clients that commit with it.
    let report = app::scenario::scenarios_now(call.app, request)
        .await
        .map_err(|e| call.fail(e))?
        .report;
    serde_json::to_value(report)
        .map_err(|e| ToolError::App(app::AppError::Internal(format!("answer: {e}"))))
}

pub async fn commit(call: &Call<'_>, a: args::CommitScenario) -> Result<Value, ToolError> {
    site_wide(call)?;
    let chosen: ChosenScenario = serde_json::from_value(json!({
        "scenario": a.scenario.trim(),
        "changes": a.changes.unwrap_or_else(|| json!({})),
        "schedule": a.schedule,
    }))
    .map_err(|e| {
        ToolError::arguments(
            call.tool,
            format!(
                "{e}; pass `scenario`, `changes` and `schedule` of one entry of `run_what_if`'s `scenarios` unchanged"
            ),
        )
    })?;
    let request = CommitRequest {
        problem: None,
        plan: None,
        scenario: chosen,
        area: a.area,
        risk_runs: None,
        duration_spread: None,
        seed: a.seed,
    };
    let proposal = app::scenario::commit(call.app, call.who, request)
        .await
        .map_err(|e| call.fail(e))?;
    answer(&proposal)
}

pub async fn hold(call: &Call<'_>, a: args::ProposeHold) -> Result<Value, ToolError> {
    let request = app::quality::propose::HoldProposal {
        item_kind: a.item_kind,
        item_id: a.item_id,
        reason: a.reason,
        severity: a.severity,
        alert: a.alert_id,
    };
    let proposal = app::quality::propose::propose_hold(call.app, call.who, request)
        .await
        .map_err(|e| call.fail(e))?;
    answer(&proposal)
}

pub async fn nc_transition(
    call: &Call<'_>,
    a: args::ProposeNcTransition,
) -> Result<Value, ToolError> {
    let command: quality::nc::NcCommand = serde_json::from_value(a.transition).map_err(|e| {
        ToolError::arguments(
            call.tool,
            format!(
                "`transition`: {e}; give a command such as {{\"action\": \"start_investigation\"}} \
                 or {{\"action\": \"disposition\", \"disposition\": \"rework\"}}"
            ),
        )
    })?;
    let proposal =
        app::quality::propose::propose_nc_transition(call.app, call.who, a.nc_id.trim(), command)
            .await
            .map_err(|e| call.fail(e))?;
    answer(&proposal)
}

pub async fn release(call: &Call<'_>, a: args::ProposeHoldRelease) -> Result<Value, ToolError> {
    let proposal =
        app::quality::propose::propose_release(call.app, call.who, a.hold_id.trim(), &a.reason)
            .await
            .map_err(|e| call.fail(e))?;
    answer(&proposal)
}
