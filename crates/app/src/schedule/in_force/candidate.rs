//! Candidate plans: a schedule proposed to replace the plan in force, carried by a governed
//! `schedule_change` proposal, put in force when the proposal is applied and undone when it
//! is rolled back.
//!
//! [`propose`] never trusts its caller's figures: it checks the schedule against the problem
//! with the independent checker, computes the diff against the plan in force rebased onto the
//! problem (operation moves become `operation_dispatched` events through the `mes-sim` sink),
//! recomputes the KPIs before and after, and submits through `crate::govern` with the
//! candidate stored under the proposal's id, so the policy decides.

use std::collections::BTreeMap;

use govern::{
    ActionKind, Evidence, GovernError, KpiSource, Principal, Proposal, ProposalDraft, Trigger,
};
use model::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use schedule::plant::bound::{Optimality, plan_optimality};
use schedule::plant::checker::{Kpis, check};
use schedule::plant::problem::{PlantProblem, PlantSchedule};
use schedule::plant::scenario::{ScenarioChanges, ScenarioResult};
use store::GovernanceWrite;

use super::{PlanHeader, PlanVersion, in_force, plant_time, put_version, rebase};
use crate::scenario::diff::diff_of;
use crate::{App, AppError, blocking};

/// A ranked alternative the proposer considered (a what-if it did not choose).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alternative {
    /// The scenario or option, e.g. `minimize_changeovers`.
    pub scenario: String,
    /// 1 = best.
    pub rank: u32,
    /// Its KPIs by name.
    #[serde(default)]
    pub kpis: BTreeMap<String, f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Alternative {
    /// A what-if's summary: its kind, rank, KPIs and description.
    pub fn from_scenario(result: &ScenarioResult) -> Alternative {
        let kpis = serde_json::to_value(&result.kpis)
            .ok()
            .and_then(|v| serde_json::from_value::<BTreeMap<String, serde_json::Value>>(v).ok())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.as_f64()?)))
            .collect();
        Alternative {
            scenario: result.scenario.to_string(),
            rank: result.rank as u32,
            kpis,
            description: Some(result.description.clone()),
        }
    }
}

/// What a proposer hands [`propose`].
#[derive(Debug, Clone)]
pub struct PlanDraft {
    pub title: String,
    /// The proposal's area; by default the one area of the units the plan changes.
    pub area: Option<String>,
    /// The problem the schedule is for (the current problem, or it with a disruption).
    pub problem: PlantProblem,
    pub schedule: PlantSchedule,
    /// The version in force the proposer started from; none when no plan was in force.
    pub basis: Option<u64>,
    pub trigger: Trigger,
    /// The engine that computed the schedule (its version is this build's).
    pub engine: String,
    pub alternatives: Vec<Alternative>,
}

/// The plan a proposal carries, as stored with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CandidatePlan {
    /// The version in force it started from.
    pub basis: Option<u64>,
    /// `engine/version` of what computed it.
    pub engine: String,
    pub horizon_start: Timestamp,
    pub schedule: PlantSchedule,
    /// The checker's KPIs of the schedule against its problem.
    pub kpis: Kpis,
    /// SHA-256 of the problem it was checked against.
    pub problem_sha256: String,
    /// How far it may be from the best possible for that problem (absent from candidates
    /// stored before it was computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimality: Option<Optimality>,
    #[serde(default)]
    pub alternatives: Vec<Alternative>,
}

/// The evidence, diff and candidate of a draft, computed off the runtime.
struct Prepared {
    evidence: Evidence,
    diff: Vec<govern::Change>,
    units: std::collections::BTreeSet<String>,
    candidate: CandidatePlan,
}

fn sha256_of(value: &serde_json::Value) -> String {
    let digest = Sha256::digest(serde_json::to_vec(value).expect("JSON values serialise"));
    model::wire::hex(&digest)
}

/// Submits `draft` as a `schedule_change` proposal from `proposer` carrying its schedule as
/// the candidate plan (see the module documentation). A draft that started from another
/// version than the one in force is refused as stale; one that changes nothing is
/// [`AppError::NothingToCommit`].
pub async fn propose(
    app: &App,
    proposer: &Principal,
    draft: PlanDraft,
) -> Result<Proposal, AppError> {
    let plan = in_force(app).await?;
    let current = plan.as_ref().map(|p| p.header.version);
    if draft.basis != current {
        return Err(GovernError::Stale(format!(
            "the draft started from plan version {}, but {} is in force; start again from the plan in force",
            draft.basis.map_or("none".into(), |v| v.to_string()),
            current.map_or("none".into(), |v| v.to_string()),
        ))
        .into());
    }
    let PlanDraft {
        title,
        area,
        problem,
        schedule,
        basis,
        trigger,
        engine,
        alternatives,
    } = draft;
    let prepared = blocking(move || {
        prepare(
            &problem,
            schedule,
            plan.as_ref(),
            basis,
            trigger,
            engine,
            alternatives,
        )
    })
    .await?;
    let area = crate::scenario::proposal_area(app, proposer, area, &prepared.units).await?;
    let proposal_draft = ProposalDraft {
        kind: ActionKind::ScheduleChange,
        area,
        title,
        evidence: prepared.evidence,
        diff: prepared.diff,
    };
    crate::govern::submit_plan(
        app,
        proposer,
        proposal_draft,
        KpiSource::Recomputed,
        Some(prepared.candidate),
    )
    .await
}

fn prepare(
    problem: &PlantProblem,
    schedule: PlantSchedule,
    plan: Option<&PlanVersion>,
    basis: Option<u64>,
    trigger: Trigger,
    engine: String,
    alternatives: Vec<Alternative>,
) -> Result<Prepared, AppError> {
    problem
        .validate()
        .map_err(|e| AppError::Invalid(format!("problem: {e}")))?;
    let report = check(problem, &schedule);
    if !report.feasible {
        return Err(crate::scenario::infeasible(
            "schedule: the candidate plan fails the independent checker against its problem",
            &report.violations,
        ));
    }
    let optimality = plan_optimality(problem, &schedule).ok();
    let baseline = plan.map(|p| rebase(p, problem));
    let before = baseline
        .as_ref()
        .map(|b| checker_kpis(&check(problem, b).kpis))
        .unwrap_or_default();
    let after = checker_kpis(&report.kpis);
    let (diff, units) = diff_of(
        problem,
        &ScenarioChanges::default(),
        &schedule,
        baseline.as_ref(),
    );
    if diff.is_empty() {
        return Err(AppError::NothingToCommit(
            "the candidate plan changes nothing against the plan in force: nothing to propose"
                .into(),
        ));
    }
    let problem_sha256 = sha256_of(&json!(problem));
    let input_sha256 = sha256_of(&json!({
        "problem": problem_sha256,
        "basis": basis,
        "schedule": schedule,
    }));
    let engine_version = env!("CARGO_PKG_VERSION").to_owned();
    let candidate = CandidatePlan {
        basis,
        engine: format!("{engine}/{engine_version}"),
        horizon_start: problem.horizon_start,
        schedule,
        kpis: report.kpis,
        problem_sha256,
        optimality,
        alternatives,
    };
    Ok(Prepared {
        evidence: Evidence {
            input_sha256,
            engine,
            engine_version,
            trigger,
            kpis_before: before,
            kpis_after: after,
        },
        diff,
        units,
        candidate,
    })
}

/// The checker's KPIs by name.
pub(crate) fn checker_kpis(kpis: &Kpis) -> BTreeMap<String, f64> {
    let serde_json::Value::Object(fields) = json!(kpis) else {
        unreachable!("KPIs serialise as an object")
    };
    fields
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.as_f64()?)))
        .collect()
}

/// Stores `candidate` with the proposal just made (audited as `plan.candidate` by the
/// proposer). Called by `crate::govern` right after the proposal is stored.
pub(crate) async fn keep(
    app: &App,
    proposer: &Principal,
    proposal: &Proposal,
    candidate: &CandidatePlan,
) -> Result<(), AppError> {
    let body = serde_json::to_value(candidate).expect("candidates serialise");
    let write = GovernanceWrite {
        actor: store::actor_of(proposer),
        role: Some(proposer.role),
        modified_by: candidate.engine.clone(),
        source_event: crate::govern::source_event(proposal),
        sink: None,
    };
    app.store
        .insert_plan_candidate(&proposal.id, candidate.basis, &body, write)
        .await?;
    Ok(())
}

async fn stored_candidate(app: &App, id: &str) -> Result<Option<CandidatePlan>, AppError> {
    let Some(stored) = app.store.plan_candidate(id).await? else {
        return Ok(None);
    };
    serde_json::from_value(stored.body).map(Some).map_err(|e| {
        AppError::Corrupt(format!("the candidate plan of `{id}` does not decode: {e}"))
    })
}

/// The candidate plan of proposal `id` and its alternatives, if `who` reads the proposal; an
/// area reader sees only the assignments of its area's units.
pub async fn candidate(app: &App, who: &Principal, id: &str) -> Result<CandidatePlan, AppError> {
    crate::govern::show(app, who, id).await?;
    let mut candidate = stored_candidate(app, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("proposal `{id}` carries no candidate plan")))?;
    let reach = crate::scope::Reach::of(app, who).await?;
    if let Some(units) = super::view::area_units(&reach) {
        candidate
            .schedule
            .assignments
            .retain(|a| units.contains(&a.unit));
    }
    Ok(candidate)
}

/// Refuses to apply a proposal whose candidate started from a plan that is no longer in
/// force (a plan put in force since expires such proposals; this catches one decided in
/// between).
pub async fn check_candidate_current(app: &App, proposal: &Proposal) -> Result<(), AppError> {
    let Some(candidate) = stored_candidate(app, &proposal.id).await? else {
        return Ok(());
    };
    let current = app.store.plan_in_force().await?.map(|p| p.version);
    if candidate.basis != current {
        return Err(GovernError::Stale(format!(
            "proposal {} started from plan version {}, but {} is in force",
            proposal.id,
            candidate.basis.map_or("none".into(), |v| v.to_string()),
            current.map_or("none".into(), |v| v.to_string()),
        ))
        .into());
    }
    Ok(())
}

/// After `proposal` was applied by `who`: its candidate plan, if it carries one, becomes the
/// plan in force (made by the proposer, modified by the evidence's engine).
pub async fn applied(
    app: &App,
    who: &Principal,
    proposal: &Proposal,
) -> Result<Option<PlanVersion>, AppError> {
    let Some(candidate) = stored_candidate(app, &proposal.id).await? else {
        return Ok(None);
    };
    let plan = PlanVersion {
        header: PlanHeader {
            version: 0,
            made_at: app.now(),
            plant_time: plant_time(app).await,
            made_by: proposal.proposed_by.clone(),
            modified_by: Some(proposal.evidence.modified_by()),
            proposal: Some(proposal.id.clone()),
            basis: None,
            reason: format!("proposal {} applied: {}", proposal.id, proposal.title),
            horizon_start: candidate.horizon_start,
        },
        schedule: candidate.schedule,
        kpis: candidate.kpis,
        optimality: candidate.optimality,
    };
    put_version(app, who, plan).await.map(Some)
}

/// After `proposal` was rolled back by `who`: when the plan it put in force is still in
/// force, the plan it replaced is put back as a new version ("rollback of P"). When another
/// plan was put in force since, that one stays (the rollback undid only the proposal's own
/// dispatches), and the audit trail says so.
pub async fn rolled_back(
    app: &App,
    who: &Principal,
    proposal: &Proposal,
) -> Result<Option<PlanVersion>, AppError> {
    let Some(made) = app.store.plan_of_proposal(&proposal.id).await? else {
        return Ok(None);
    };
    let current = app.store.plan_in_force().await?.map(|p| p.version);
    let replaced = match made.basis {
        Some(basis) if current == Some(made.version) => app.store.plan_version(basis).await?,
        _ => None,
    };
    let Some(replaced) = replaced else {
        let write = GovernanceWrite::by(store::actor_of(who), Some(who.role));
        app.store
            .audit_only(
                "plan.rollback_kept",
                format!("plan:{}", made.version),
                json!({
                    "proposal": proposal.id,
                    "in_force": current,
                    "why": if current == Some(made.version) {
                        "the proposal's plan was the first; there is no plan to put back"
                    } else {
                        "another plan was put in force since; it stays"
                    },
                }),
                write,
            )
            .await?;
        return Ok(None);
    };
    let old = super::decode(replaced)?;
    let plan = PlanVersion {
        header: PlanHeader {
            version: 0,
            made_at: app.now(),
            plant_time: plant_time(app).await,
            made_by: who.id.clone(),
            modified_by: old.header.modified_by.clone(),
            proposal: Some(proposal.id.clone()),
            basis: None,
            reason: format!(
                "rollback of {}: version {} put back",
                proposal.id, old.header.version
            ),
            horizon_start: old.header.horizon_start,
        },
        schedule: old.schedule,
        kpis: old.kpis,
        optimality: old.optimality,
    };
    put_version(app, who, plan).await.map(Some)
}
