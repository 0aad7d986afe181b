//! Proposals: submit, list, show, approve or reject, apply or roll back through a sink, and
//! resolving pseudonyms.
//!
//! The lifecycle's rules are `govern`'s (pure); these use-cases load and store proposals
//! through the store (every write audited with the principal and `modified_by`), hold the
//! apply lock so that a change reaches its sink once, and deliver applied changes to a
//! [`sink`]. Object-level rules — the approver roles of the proposal's kind, every area it
//! touches within the caller's scope, nobody approving their own, no agent approving — are
//! `govern`'s.
//!
//! Before a proposal is made, [`submit`] has `govern` assess its diff against the store's
//! current plant ([`govern::evidence`]): the gate is decided on what the diff really does,
//! and what the proposer claimed otherwise is recorded in the proposal and in the audit
//! record of its creation.

pub mod holds;
pub mod nc;
pub mod sink;

use std::path::PathBuf;

use govern::{
    ActionKind, DecisionKind, KpiSource, Outcome, PlantView, Policy, Principal, Proposal,
    ProposalDraft, Pseudonymizer, Scope, Status, Trigger, WithHolds,
};
use model::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;
use store::{GovernanceWrite, ProposalFilter};

pub use self::sink::{MesCommands, MesDelivery, SinkKind};
use crate::conditional::{self, Expected, version_tag};
use crate::{App, AppError};

/// Governance settings and caches of a running application.
#[derive(Debug)]
pub struct Governance {
    /// The policy in force.
    pub policy: Policy,
    /// Where `apply` sends changes unless the request names a sink, and where proposals that
    /// apply by themselves go.
    pub default_sink: SinkKind,
    /// The JSON Lines file of the `file` sink; none disables that sink.
    pub file_sink: Option<PathBuf>,
    /// The external MES of the `mes` sink; none disables that sink.
    pub mes: Option<std::sync::Arc<dyn sink::MesCommands>>,
    pseudonymizer: tokio::sync::OnceCell<Pseudonymizer>,
    /// Applications and rollbacks run one at a time, so a change reaches its sink once.
    apply_lock: tokio::sync::Mutex<()>,
    ids: std::sync::Arc<dyn crate::clock::IdSource>,
}

impl Default for Governance {
    fn default() -> Governance {
        Governance::new(Policy::default_policy(), SinkKind::MesSim, None)
    }
}

impl Governance {
    pub fn new(policy: Policy, default_sink: SinkKind, file_sink: Option<PathBuf>) -> Governance {
        Governance {
            policy,
            default_sink,
            file_sink,
            mes: None,
            pseudonymizer: tokio::sync::OnceCell::new(),
            apply_lock: tokio::sync::Mutex::new(()),
            ids: std::sync::Arc::new(crate::clock::ProcessIds::default()),
        }
    }

    /// The same governance with `mes` as the external MES of the `mes` sink.
    pub fn with_mes(mut self, mes: std::sync::Arc<dyn sink::MesCommands>) -> Governance {
        self.mes = Some(mes);
        self
    }

    /// The same governance taking proposal ids from `ids` (e.g. [`crate::SequentialIds`]).
    pub fn with_ids(mut self, ids: std::sync::Arc<dyn crate::clock::IdSource>) -> Governance {
        self.ids = ids;
        self
    }

    /// The pseudonymiser keyed with the store's secret (created on first use).
    pub async fn pseudonymizer(&self, store: &store::Store) -> Result<&Pseudonymizer, AppError> {
        self.pseudonymizer
            .get_or_try_init(|| async {
                let key = store.pseudonym_key().await?;
                Ok::<_, AppError>(Pseudonymizer::new(key, self.policy.privacy.clone()))
            })
            .await
    }

    /// A new proposal id from the injected id source.
    fn new_id(&self, now: Timestamp, proposer: &str, title: &str) -> String {
        self.ids.next_id("P-", now, &[proposer, title])
    }
}

/// A page of proposals.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProposalPage {
    pub items: Vec<Proposal>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// A resolved pseudonym.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Resolved {
    pub pseudonym: String,
    pub identity: String,
}

/// Which proposals to list.
#[derive(Debug, Clone, Default)]
pub struct ListProposals {
    pub status: Option<Status>,
    pub kind: Option<ActionKind>,
    pub area: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

async fn load(app: &App, id: &str) -> Result<store::StoredProposal, AppError> {
    app.store
        .proposal(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("proposal `{id}` does not exist")))
}

/// The event a proposal answers, if an event triggered it.
pub fn source_event(proposal: &Proposal) -> Option<String> {
    match &proposal.evidence.trigger {
        Trigger::Event { event_id } | Trigger::QualityAlert { event_id, .. } => {
            Some(event_id.clone())
        }
        Trigger::Principal { .. } => None,
    }
}

fn write_by(caller: &Principal, modified_by: String, proposal: &Proposal) -> GovernanceWrite {
    GovernanceWrite {
        actor: store::actor_of(caller),
        role: Some(caller.role),
        modified_by,
        source_event: source_event(proposal),
        sink: None,
    }
}

/// Proposals newest first, only those every area of which is in `who`'s scope (and, for an
/// area scope, none acting site-wide), expired ones shown as expired.
pub async fn list(
    app: &App,
    who: &Principal,
    query: ListProposals,
) -> Result<ProposalPage, AppError> {
    let areas_in = match &who.scope {
        Scope::Area(area) => Some(vec![area.clone()]),
        Scope::All | Scope::Site(_) => None,
    };
    let mut page = app
        .store
        .proposals(&ProposalFilter {
            status: query.status,
            kind: query.kind,
            area: query.area,
            areas_in,
            limit: query.limit,
            offset: query.offset,
        })
        .await?;
    let now = app.now();
    for proposal in &mut page.items {
        proposal.expire_if_due(now);
    }
    Ok(ProposalPage {
        items: page.items,
        total: page.total,
        limit: query.limit,
        offset: query.offset,
    })
}

/// Every proposal matching `query` (its `limit` and `offset` are ignored) that `who` may read,
/// as [`list`] filters them, newest first: what the keyset pages of the API are cut from.
pub async fn list_all(
    app: &App,
    who: &Principal,
    query: ListProposals,
) -> Result<Vec<Proposal>, AppError> {
    let mut all = Vec::new();
    loop {
        let page = list(
            app,
            who,
            ListProposals {
                limit: store::MAX_PAGE,
                offset: u32::try_from(all.len()).unwrap_or(u32::MAX),
                ..query.clone()
            },
        )
        .await?;
        let read = page.items.len();
        all.extend(page.items);
        if read < store::MAX_PAGE as usize || all.len() as u64 >= page.total {
            return Ok(all);
        }
    }
}

/// The entity tag of a stored proposal as it reads now: its row version, marked when the
/// proposal has expired on reading but is not yet stored as expired (its answer differs).
pub fn etag(stored: &store::StoredProposal, now: model::Timestamp) -> String {
    let mut shown = stored.proposal.clone();
    shown.expire_if_due(now);
    let tag = version_tag(stored.version);
    if shown.status == stored.proposal.status {
        tag
    } else {
        format!("{}-expired\"", tag.trim_end_matches('"'))
    }
}

/// One proposal, if every area it acts in is within `who`'s scope.
pub async fn show(app: &App, who: &Principal, id: &str) -> Result<Proposal, AppError> {
    Ok(show_tagged(app, who, id).await?.0)
}

/// [`show`] with the proposal's entity tag ([`etag`]).
pub async fn show_tagged(
    app: &App,
    who: &Principal,
    id: &str,
) -> Result<(Proposal, String), AppError> {
    let h = app.plant_hierarchy().await?;
    let stored = load(app, id).await?;
    let tag = etag(&stored, app.now());
    let mut proposal = stored.proposal;
    if let Some(gap) = proposal.scope_gap(who, &h) {
        // As with every single read (`crate::scope`): one that touches none of the reader's
        // area does not exist to it; one that touches it knows the proposal is there.
        if let Scope::Area(own) = &who.scope
            && proposal.area != *own
            && !proposal.areas.contains(own)
        {
            return Err(AppError::NotFound(format!(
                "proposal `{id}` does not exist"
            )));
        }
        return Err(AppError::Forbidden(format!(
            "proposal `{id}` acts in {gap}, outside {}'s scope {}",
            who.id, who.scope
        )));
    }
    proposal.expire_if_due(app.now());
    Ok((proposal, tag))
}

/// Stores a proposal from `proposer` and, when the policy lets it apply by itself, sends it
/// to the default sink at once (audited with the policy's autonomy as the applier). The one
/// path of every proposer: `POST /v1/proposals`, a committed scenario, an in-process agent.
/// The draft's KPIs are recorded as the proposer's claim.
pub async fn submit(
    app: &App,
    proposer: &Principal,
    draft: ProposalDraft,
) -> Result<Proposal, AppError> {
    submit_with(app, proposer, draft, KpiSource::Claimed).await
}

/// [`submit`], saying where the draft's KPIs come from (`Recomputed` only for a caller that
/// computed them itself from the inputs, like a committed scenario).
pub(crate) async fn submit_with(
    app: &App,
    proposer: &Principal,
    draft: ProposalDraft,
    kpis: KpiSource,
) -> Result<Proposal, AppError> {
    submit_plan(app, proposer, draft, kpis, None).await
}

/// [`submit_with`] for a proposal carrying a candidate plan
/// ([`crate::schedule::in_force`]): the candidate is stored with the proposal, and becomes the
/// plan in force if the proposal applies.
pub(crate) async fn submit_plan(
    app: &App,
    proposer: &Principal,
    draft: ProposalDraft,
    kpis: KpiSource,
    candidate: Option<crate::schedule::in_force::CandidatePlan>,
) -> Result<Proposal, AppError> {
    let snapshot = app.store.snapshot().await;
    let catalog = snapshot.catalog.ok_or(AppError::NoPlant)?;
    let h = govern::Hierarchy::from_plant(catalog.plant());
    let held = holds::held_items(app, &draft.diff).await?;
    let facts = WithHolds {
        facts: PlantView {
            catalog: &catalog,
            state: &snapshot.state,
        },
        held: &held,
    };
    let mut assessment = govern::assess(&draft.diff, &facts)?;
    assessment.kpis = kpis;
    let now = app.now();
    let id = app.governance.new_id(now, &proposer.id, &draft.title);
    let policy = &app.governance.policy;
    let proposal = Proposal::propose(id, draft, proposer, policy, &h, &assessment, now)?;
    let write = write_by(proposer, proposal.evidence.modified_by(), &proposal);
    app.store.insert_proposal(&proposal, write).await?;
    if let Some(candidate) = &candidate {
        crate::schedule::in_force::keep(app, proposer, &proposal, candidate).await?;
    }
    if proposal.status != Status::Approved || !proposal.gate.is_auto() {
        return Ok(proposal);
    }
    // Within the policy's autonomy: it applies by itself.
    let _guard = app.governance.apply_lock.lock().await;
    let stored = load(app, &proposal.id).await?;
    let mut proposal = stored.proposal;
    proposal.check_apply(None, &h)?;
    let governor = Principal::new(
        "mixplane-governor",
        govern::PrincipalKind::Service,
        govern::Role::Admin,
        Scope::All,
    );
    let actor = store::Actor::system("mixplane-governor");
    let sink = app.governance.default_sink;
    let by = match proposal.autonomy {
        govern::Autonomy::Copilot => "policy:copilot",
        govern::Autonomy::Assisted => "policy:assisted",
        govern::Autonomy::ClosedLoop => "policy:closed_loop",
    };
    let mut write = write_by(&governor, proposal.evidence.modified_by(), &proposal);
    write.actor = actor.clone();
    write.role = None;
    let diff = proposal.diff.clone();
    // The sink checks the areas of what it carries out against the proposer's scope.
    match deliver_change(app, sink, &proposal, &diff, "apply", &actor, proposer).await {
        Ok(answer) => {
            proposal.record_applied(Outcome {
                by: by.into(),
                at: now,
                sink: delivered_to(&answer, sink),
                answer: answer.clone(),
            });
            write.sink = Some(answer);
            if !app
                .store
                .update_proposal(&proposal, stored.version, "proposal.apply", write)
                .await?
            {
                return Err(AppError::ProposalChanged(proposal.id));
            }
            crate::schedule::in_force::applied(app, &governor, &proposal).await?;
        }
        Err(answer) => {
            // Left approved for a person to apply elsewhere; the failure is audited.
            write.sink = Some(answer.clone());
            app.store
                .audit_only(
                    "proposal.apply_failed",
                    format!("proposal:{}", proposal.id),
                    serde_json::json!({ "direction": "apply" }),
                    write,
                )
                .await?;
        }
    }
    Ok(proposal)
}

/// Approves or rejects a proposal as `who`. A proposal found expired is stored as expired
/// (by the governor) before the refusal.
pub async fn decide(
    app: &App,
    who: &Principal,
    id: &str,
    decision: DecisionKind,
    comment: Option<String>,
) -> Result<Proposal, AppError> {
    Ok(decide_if(app, who, id, decision, comment, None).await?.0)
}

/// [`decide`], refused without writing when `expected` names a version no longer current;
/// answers the decided proposal and its new entity tag.
pub async fn decide_if(
    app: &App,
    who: &Principal,
    id: &str,
    decision: DecisionKind,
    comment: Option<String>,
    expected: Option<&Expected>,
) -> Result<(Proposal, String), AppError> {
    let h = app.plant_hierarchy().await?;
    let stored = load(app, id).await?;
    let now = app.now();
    let subject = format!("proposal:{id}");
    let what = format!("proposal `{id}`");
    conditional::check(app, expected, &etag(&stored, now), &subject, &what).await?;
    let mut proposal = stored.proposal.clone();
    let result = match decision {
        DecisionKind::Approve => proposal.approve(who, &h, now, comment),
        DecisionKind::Reject => proposal.reject(who, &h, now, comment),
    };
    if let Err(error) = result {
        if proposal.status == Status::Expired && stored.proposal.status != Status::Expired {
            let write = GovernanceWrite {
                actor: store::Actor::system("mixplane-governor"),
                role: None,
                modified_by: "mixplane-governor".into(),
                source_event: source_event(&proposal),
                sink: None,
            };
            app.store
                .update_proposal(&proposal, stored.version, "proposal.expire", write)
                .await?;
        }
        return Err(error.into());
    }
    let action = match decision {
        DecisionKind::Approve => "proposal.approve",
        DecisionKind::Reject => "proposal.reject",
    };
    let write = write_by(who, who.id.clone(), &proposal);
    if !app
        .store
        .update_proposal(&proposal, stored.version, action, write)
        .await?
    {
        // Someone wrote between the read and this write: with an expectation that is a
        // stale version like any other.
        if expected.is_some() {
            return Err(conditional::stale(app, "a newer version", &subject, &what).await);
        }
        return Err(AppError::ProposalChanged(id.to_owned()));
    }
    Ok((proposal, version_tag(stored.version + 1)))
}

/// Which way a change set goes through a sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Apply,
    Rollback,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Apply => "apply",
            Direction::Rollback => "rollback",
        }
    }
}

/// Applies a proposal through `sink` (the default sink when `None`).
pub async fn apply(
    app: &App,
    who: &Principal,
    id: &str,
    sink: Option<SinkKind>,
) -> Result<Proposal, AppError> {
    Ok(apply_if(app, who, id, sink, None).await?.0)
}

/// [`apply`], refused without sending anything when `expected` names a version no longer
/// current; answers the proposal and its new entity tag.
pub async fn apply_if(
    app: &App,
    who: &Principal,
    id: &str,
    sink: Option<SinkKind>,
    expected: Option<&Expected>,
) -> Result<(Proposal, String), AppError> {
    let sink = sink.unwrap_or(app.governance.default_sink);
    send(app, who, id, sink, Direction::Apply, expected).await
}

/// Rolls an applied proposal back through the sink that applied it.
pub async fn roll_back(app: &App, who: &Principal, id: &str) -> Result<Proposal, AppError> {
    Ok(roll_back_if(app, who, id, None).await?.0)
}

/// [`roll_back`], refused without sending anything when `expected` names a version no longer
/// current; answers the proposal and its new entity tag.
pub async fn roll_back_if(
    app: &App,
    who: &Principal,
    id: &str,
    expected: Option<&Expected>,
) -> Result<(Proposal, String), AppError> {
    let sink = app.governance.default_sink;
    send(app, who, id, sink, Direction::Rollback, expected).await
}

/// Applies or rolls back a proposal through a sink, recording and auditing the sink's answer
/// either way.
async fn send(
    app: &App,
    who: &Principal,
    id: &str,
    sink: SinkKind,
    direction: Direction,
    expected: Option<&Expected>,
) -> Result<(Proposal, String), AppError> {
    let h = app.plant_hierarchy().await?;
    let _guard = app.governance.apply_lock.lock().await;
    let stored = load(app, id).await?;
    // Checked before the sink is called: a stale request reaches no MES.
    let (subject, what) = (format!("proposal:{id}"), format!("proposal `{id}`"));
    conditional::check(app, expected, &etag(&stored, app.now()), &subject, &what).await?;
    let mut proposal = stored.proposal;
    let (diff, sink) = match direction {
        Direction::Apply => {
            proposal.check_apply(Some(who), &h)?;
            still_current(app, &proposal, &proposal.diff, sink, Direction::Apply).await?;
            crate::schedule::in_force::check_candidate_current(app, &proposal).await?;
            (proposal.diff.clone(), sink)
        }
        Direction::Rollback => {
            proposal.check_roll_back(who, &h)?;
            // A rollback goes back through the sink that applied the change.
            let applied_by = proposal
                .applied
                .as_ref()
                .and_then(|o| o.sink.parse().ok())
                .unwrap_or(sink);
            let inverse = proposal.inverse_diff();
            // Only what the proposal set may be undone: a field changed since (by a later
            // proposal or by the plant) is not silently put back. Only the simulated MES
            // changes the plant as it applies; what a file sink's consumer carried out reaches
            // the plant later, if at all, so its rollback is left for that consumer to check
            // (the inverse diff names the values it expects).
            if applied_by == SinkKind::MesSim {
                still_current(app, &proposal, &inverse, applied_by, Direction::Rollback).await?;
            }
            (inverse, applied_by)
        }
    };
    let actor = store::actor_of(who);
    let mut write = write_by(who, proposal.evidence.modified_by(), &proposal);
    let direction_name = direction.as_str();
    match deliver_change(app, sink, &proposal, &diff, direction_name, &actor, who).await {
        Ok(answer) => {
            let outcome = Outcome {
                by: who.id.clone(),
                at: app.now(),
                sink: delivered_to(&answer, sink),
                answer: answer.clone(),
            };
            let action = match direction {
                Direction::Apply => {
                    proposal.record_applied(outcome);
                    "proposal.apply"
                }
                Direction::Rollback => {
                    proposal.record_rolled_back(outcome);
                    "proposal.rollback"
                }
            };
            write.sink = Some(answer);
            if !app
                .store
                .update_proposal(&proposal, stored.version, action, write)
                .await?
            {
                return Err(AppError::ProposalChanged(id.to_owned()));
            }
            // The plan in force follows: a candidate plan applied is in force, rolled back
            // the plan it replaced is put back.
            match direction {
                Direction::Apply => {
                    crate::schedule::in_force::applied(app, who, &proposal).await?;
                }
                Direction::Rollback => {
                    crate::schedule::in_force::rolled_back(app, who, &proposal).await?;
                }
            }
            Ok((proposal, version_tag(stored.version + 1)))
        }
        Err(answer) => {
            let message = answer["message"].as_str().unwrap_or("failed").to_owned();
            let out_of_scope = answer["reason"] == "scope";
            write.sink = Some(answer);
            app.store
                .audit_only(
                    match direction {
                        Direction::Apply => "proposal.apply_failed",
                        Direction::Rollback => "proposal.rollback_failed",
                    },
                    format!("proposal:{id}"),
                    serde_json::json!({ "direction": direction_name }),
                    write,
                )
                .await?;
            let refusal =
                format!("sink `{sink}` refused the {direction_name} of `{id}`: {message}");
            Err(if out_of_scope {
                AppError::Forbidden(refusal)
            } else {
                AppError::Sink(refusal)
            })
        }
    }
}

/// Carries out a change set (a proposal's diff, or its inverse) for apply or rollback: the
/// one place that decides what carries out what. Quality holds are mixplane's own records,
/// placed and released in the quality store ([`holds`]), and so are nonconformances, moved
/// through their workflow ([`nc`]); every other change goes to `sink`
/// ([`sink::deliver`]). A diff mixing the two is refused (a proposal is of one kind; file
/// the holds apart). `Ok` and `Err` are the answers recorded and audited.
async fn deliver_change(
    app: &App,
    sink: SinkKind,
    proposal: &Proposal,
    diff: &[govern::Change],
    direction: &str,
    actor: &store::Actor,
    on_behalf: &Principal,
) -> Result<serde_json::Value, serde_json::Value> {
    let nc_changes = diff.iter().filter(|c| nc::is_nc(c)).count();
    if nc_changes > 0 {
        if nc_changes < diff.len() {
            return Err(serde_json::json!({
                "sink": nc::NC_SINK,
                "status": "Error",
                "message": "the diff mixes nonconformance transitions with other changes; \
                            propose the transitions apart",
            }));
        }
        return nc::deliver(app, diff, direction, on_behalf).await;
    }
    let hold_changes = diff.iter().filter(|c| holds::is_hold(c)).count();
    if hold_changes == 0 {
        return sink::deliver(app, sink, proposal, diff, direction, actor, on_behalf).await;
    }
    if hold_changes < diff.len() {
        return Err(serde_json::json!({
            "sink": holds::HOLDS_SINK,
            "status": "Error",
            "message": "the diff mixes quality holds with other changes; propose the holds \
                        apart (holds are placed by mixplane, the rest goes to a sink)",
        }));
    }
    holds::deliver(app, proposal, diff, direction, actor, on_behalf).await
}

/// The name of what carried a change set out: the answer's `sink` (holds answer as
/// [`holds::HOLDS_SINK`]), else `sink`'s.
fn delivered_to(answer: &serde_json::Value, sink: SinkKind) -> String {
    answer["sink"]
        .as_str()
        .map_or_else(|| sink.to_string(), str::to_owned)
}

/// Refuses to apply a proposal whose `before` values the plant no longer holds (someone
/// changed the same field since it was proposed): its gate was decided on a move from those
/// values, and carrying out its `after` now would be a different change. A mes-sim delivery
/// whose events already stand in the log (an apply whose answer was lost) is left to the
/// sink, which recognises it.
///
/// A rollback is checked the same way on the inverse diff: the plant must still hold what the
/// proposal set, or undoing it would overwrite whatever changed the field since.
async fn still_current(
    app: &App,
    proposal: &Proposal,
    diff: &[govern::Change],
    sink: SinkKind,
    direction: Direction,
) -> Result<(), AppError> {
    if sink == SinkKind::MesSim {
        let first = format!("{}-{}-1", proposal.id, direction.as_str());
        if !app.store.events_with_ids(&[&first]).await?.is_empty() {
            return Ok(());
        }
    }
    let snapshot = app.store.snapshot().await;
    let catalog = snapshot.catalog.ok_or(AppError::NoPlant)?;
    let held = holds::held_items(app, diff).await?;
    let facts = WithHolds {
        facts: PlantView {
            catalog: &catalog,
            state: &snapshot.state,
        },
        held: &held,
    };
    let assessed = govern::assess(diff, &facts);
    // An external MES's delivery whose answer was lost may have landed and been read back
    // by the source already: the plant then holds every `after` value. The delivery is sent
    // again; the MES recognises its idempotency keys and answers as it did the first time.
    if sink == SinkKind::Mes
        && matches!(assessed, Err(govern::GovernError::Stale(_)))
        && govern::assess(&govern::Change::inverse_diff(diff), &facts).is_ok()
    {
        return Ok(());
    }
    assessed.map_err(|error| match error {
        govern::GovernError::Stale(why) => govern::GovernError::Stale(match direction {
            Direction::Apply => format!(
                "proposal {} no longer applies to the plant: {why}",
                proposal.id
            ),
            Direction::Rollback => format!(
                "proposal {} cannot be rolled back: the plant changed since it was applied: {why}",
                proposal.id
            ),
        }),
        other => other,
    })?;
    Ok(())
}

/// The identity behind a pseudonym, among the identities within `who`'s scope; the lookup
/// is audited whether or not it finds one.
///
/// The candidates are the principals within `who` ([`crate::principals::within`]) and the
/// members of the plant's pools that serve an area `who`'s scope reaches. A pool lists the
/// areas it serves and its members move between them, so a member of a pool shared by two
/// areas is within the scope of either area's administrator; a pool serving no area the
/// caller reaches is not. A pseudonym of anyone else answers the same 404 as one of nobody,
/// so an area administrator learns nothing about people outside its area.
pub async fn resolve(app: &App, who: &Principal, pseudonym: &str) -> Result<Resolved, AppError> {
    if !Pseudonymizer::is_pseudonym(pseudonym) {
        return Err(AppError::BadRequest(format!(
            "`{pseudonym}` is not a pseudonym (psn_ and 24 hex digits)"
        )));
    }
    let pseudonymizer = app.governance.pseudonymizer(&app.store).await?;
    let hierarchy = app.hierarchy().await;
    let mut candidates: Vec<String> = app
        .store
        .principals()
        .await?
        .into_iter()
        .filter(|p| crate::principals::within(who, p, hierarchy.as_ref()).is_ok())
        .map(|p| p.id)
        .collect();
    if let (Some(catalog), Some(hierarchy)) = (app.store.plant().await, hierarchy.as_ref()) {
        let pools = catalog.plant().pools.iter().filter(|pool| {
            pool.areas
                .iter()
                .any(|area| who.scope.reaches(hierarchy, Some(area.as_str())))
        });
        for pool in pools {
            candidates.extend(pool.members.iter().map(|m| m.id.to_string()));
        }
    }
    let identity = pseudonymizer
        .resolve(pseudonym, candidates.iter().map(String::as_str))
        .map(str::to_owned);
    let write = GovernanceWrite {
        actor: store::actor_of(who),
        role: Some(who.role),
        modified_by: who.id.clone(),
        source_event: None,
        sink: None,
    };
    app.store
        .audit_only(
            "pseudonym.resolve",
            format!("pseudonym:{pseudonym}"),
            serde_json::json!({ "found": identity.is_some(), "scope": who.scope.to_string() }),
            write,
        )
        .await?;
    identity
        .map(|identity| Resolved {
            pseudonym: pseudonym.to_owned(),
            identity,
        })
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "no identity within your scope `{}` has the pseudonym `{pseudonym}`",
                who.scope
            ))
        })
}
