//! The rollout KPIs (`govern::kpis`) over what the store holds: proposals the reader reads,
//! the plan versions put in force, the calls agent principals made (from the audit trail, for
//! a site-wide reader only: it spans every area), alerts on characteristics the reader reads,
//! and, where the simulator's ground truth is known ([`App::know_drifts`]: the live plant of
//! `mixplane demo --speed`), how early its drifts were detected.

use govern::Principal;
use govern::kpis::{
    AgentCall, KnownDrift, KpiInput, PlanChange, RolloutKpis, Window, rollout_kpis,
};
use model::{EventKind, Timestamp};
use schemars::JsonSchema;
use serde::Deserialize;
use store::{ActorKind, AlertFilter};

use crate::govern::ListProposals;
use crate::scope::Reach;
use crate::{App, AppError};

/// The default window: the thirty days up to now.
const DEFAULT_DAYS: f64 = 30.0;

/// Which window the KPIs are over.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KpiRequest {
    /// Start of the window [default: 30 days before `to`].
    #[serde(default)]
    pub from: Option<Timestamp>,
    /// End of the window, exclusive [default: now].
    #[serde(default)]
    pub to: Option<Timestamp>,
}

/// The rollout KPIs over the requested window, as `who` may read them.
pub async fn rollout(
    app: &App,
    who: &Principal,
    request: KpiRequest,
) -> Result<RolloutKpis, AppError> {
    let to = request.to.unwrap_or_else(|| app.now());
    let from = request
        .from
        .unwrap_or_else(|| to.plus_minutes(-DEFAULT_DAYS * 1440.0));
    if from >= to {
        return Err(AppError::BadRequest(format!(
            "the window is empty: from {from} is not before to {to}"
        )));
    }
    crate::quality::catch_up(app).await;
    let reach = Reach::of(app, who).await?;
    let proposals = crate::govern::list_all(app, who, ListProposals::default()).await?;
    let plan_changes = plan_changes(app).await?;
    let agent_calls = if reach.is_site_wide() {
        Some(agent_calls(app).await?)
    } else {
        None
    };
    let alerts = alerts(app, &reach).await?;
    let drifts: Vec<KnownDrift> = app
        .known_drifts()
        .into_iter()
        .filter(|d| {
            d.characteristics
                .iter()
                .any(|c| reach.reads_characteristic(c))
        })
        .collect();
    let out_of_spec = out_of_spec(app, &reach, &drifts).await?;
    Ok(rollout_kpis(
        Window { from, to },
        &KpiInput {
            proposals: &proposals,
            plan_changes: &plan_changes,
            agent_calls: agent_calls.as_deref(),
            drifts: &drifts,
            alerts: &alerts,
            out_of_spec: &out_of_spec,
        },
    ))
}

async fn plan_changes(app: &App) -> Result<Vec<PlanChange>, AppError> {
    let mut out = Vec::new();
    let mut before = None;
    loop {
        let page = app
            .store
            .plan_versions_before(before, store::MAX_PLAN_VERSIONS)
            .await?;
        let Some(last) = page.last() else { break };
        before = Some(last.version);
        let full = page.len() as u32 >= store::MAX_PLAN_VERSIONS;
        out.extend(page.into_iter().map(|p| PlanChange {
            at: p.made_at,
            by: p.made_by,
            proposal: p.proposal,
        }));
        if !full {
            break;
        }
    }
    Ok(out)
}

/// Every audited write of an agent principal: its tool when the door recorded one (`detail.
/// tool`), else the action.
async fn agent_calls(app: &App) -> Result<Vec<AgentCall>, AppError> {
    const PAGE: u32 = 10_000;
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let records = app.store.audit_log(after, PAGE).await?;
        let Some(last) = records.last() else { break };
        after = last.seq;
        let full = records.len() as u32 >= PAGE;
        out.extend(
            records
                .into_iter()
                .filter(|r| r.actor.kind == ActorKind::Agent)
                .map(|r| AgentCall {
                    at: r.at,
                    tool: r.detail["tool"]
                        .as_str()
                        .map_or_else(|| r.action.clone(), str::to_owned),
                    agent: r.actor.id,
                }),
        );
        if !full {
            break;
        }
    }
    Ok(out)
}

async fn alerts(app: &App, reach: &Reach) -> Result<Vec<(String, Timestamp)>, AppError> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page = app
            .store
            .alerts(AlertFilter {
                characteristic: None,
                severity: None,
                limit: store::MAX_PAGE,
                offset,
            })
            .await?;
        let read = page.items.len() as u32;
        out.extend(
            page.items
                .into_iter()
                .filter(|a| reach.reads_characteristic(&a.characteristic))
                .map(|a| (a.characteristic, a.at)),
        );
        offset += read;
        if read < store::MAX_PAGE || u64::from(offset) >= page.total {
            break;
        }
    }
    Ok(out)
}

/// The results out of specification on the characteristics the known drifts reach.
async fn out_of_spec(
    app: &App,
    reach: &Reach,
    drifts: &[KnownDrift],
) -> Result<Vec<(String, Timestamp)>, AppError> {
    let mut watched: Vec<&String> = drifts.iter().flat_map(|d| &d.characteristics).collect();
    watched.sort();
    watched.dedup();
    let mut out = Vec::new();
    for id in watched {
        let Some((_, spec)) = reach.catalog().characteristic(&id.as_str().into()) else {
            continue;
        };
        for stored in app.store.quality_results(id).await? {
            if let EventKind::QualityResultRecorded { value, .. } = &stored.event.kind
                && (spec.lsl.is_some_and(|l| *value < l) || spec.usl.is_some_and(|u| *value > u))
            {
                out.push((id.clone(), stored.event.time));
            }
        }
    }
    Ok(out)
}
