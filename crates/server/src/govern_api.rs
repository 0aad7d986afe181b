//! The governance endpoints: proposals (list with filters, show, submit, approve, reject,
//! apply, roll back), the policy in force, and resolving pseudonyms (admins only).
//!
//! Handlers parse, call the pure lifecycle in `govern`, persist through the store (every write
//! audited with the authenticated principal and `modified_by`) and send applied changes to a
//! [`crate::sink`]. Route-level permissions come from the route table ([`crate::auth`]);
//! object-level rules — the approver roles of the proposal's kind, the proposal's area within
//! the caller's scope, nobody approving their own, no agent approving — are `govern`'s.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use govern::{
    DecisionKind, GovernError, Hierarchy, Outcome, Permission, Policy, Principal, Proposal,
    ProposalDraft, Pseudonymizer, Scope, Status, Trigger,
};
use model::Timestamp;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::{GovernanceWrite, ProposalFilter};

use crate::AppState;
use crate::api::Json200;
use crate::auth::{Caller, TokenCache, forbidden};
use crate::extract::Query;
use crate::problem::Problem;
use crate::routes::{Endpoint, Param, path, query};
use crate::sink::{self, SinkKind};

/// Governance settings and caches of a running server.
#[derive(Debug)]
pub struct Governance {
    /// The policy in force.
    pub policy: Policy,
    /// Where `apply` sends changes unless the request names a sink, and where proposals that
    /// apply by themselves go.
    pub default_sink: SinkKind,
    /// The JSON Lines file of the `file` sink; none disables that sink.
    pub file_sink: Option<PathBuf>,
    /// Verified tokens.
    pub tokens: TokenCache,
    pseudonymizer: tokio::sync::OnceCell<Pseudonymizer>,
    /// Applications and rollbacks run one at a time, so a change reaches its sink once.
    apply_lock: tokio::sync::Mutex<()>,
    counter: AtomicU64,
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
            tokens: TokenCache::default(),
            pseudonymizer: tokio::sync::OnceCell::new(),
            apply_lock: tokio::sync::Mutex::new(()),
            counter: AtomicU64::new(0),
        }
    }

    /// The pseudonymiser keyed with the store's secret (created on first use).
    pub async fn pseudonymizer(&self, store: &store::Store) -> Result<&Pseudonymizer, Problem> {
        self.pseudonymizer
            .get_or_try_init(|| async {
                let key = store.pseudonym_key().await?;
                Ok::<_, Problem>(Pseudonymizer::new(key, self.policy.privacy.clone()))
            })
            .await
    }

    fn new_id(&self, now: Timestamp, proposer: &str, title: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let digest = Sha256::new()
            .chain_update(now.0.to_le_bytes())
            .chain_update(n.to_le_bytes())
            .chain_update(std::process::id().to_le_bytes())
            .chain_update(proposer.as_bytes())
            .chain_update(title.as_bytes())
            .finalize();
        let hex: String = digest[..5].iter().map(|b| format!("{b:02x}")).collect();
        format!("P-{hex}")
    }
}

/// The wall clock, in the model's time type (the server is an edge and may read it).
pub fn now() -> Timestamp {
    Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
    )
}

/// The governance endpoints, appended to the route table by [`crate::api::endpoints`].
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            method: Method::GET,
            path: "/v1/proposals",
            operation_id: "listProposals",
            summary: "Proposals, newest first, filtered by status, kind and area (only those in the caller's scope)",
            tag: "governance",
            params: LIST_PARAMS,
            request: None,
            response: |g| g.subschema_for::<ProposalPage>(),
            success_status: 200,
            writes: false,
            permission: Permission::ReadProposals,
            handler: || get(list),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/proposals",
            operation_id: "submitProposal",
            summary: "Submit a proposal with its evidence and diff; the policy decides whether it waits for approval or applies by itself",
            tag: "governance",
            params: &[],
            request: Some(|g| g.subschema_for::<ProposalDraft>()),
            response: |g| g.subschema_for::<Proposal>(),
            success_status: 201,
            writes: true,
            permission: Permission::ProposeChanges,
            handler: || post(submit_handler),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/proposals/{id}",
            operation_id: "getProposal",
            summary: "One proposal with its evidence, gate, decisions and sink answers",
            tag: "governance",
            params: ID_PARAMS,
            request: None,
            response: |g| g.subschema_for::<Proposal>(),
            success_status: 200,
            writes: false,
            permission: Permission::ReadProposals,
            handler: || get(show),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/proposals/{id}/approve",
            operation_id: "approveProposal",
            summary: "Approve a proposal (an approver role of its kind, in scope, not the proposer, not an agent)",
            tag: "governance",
            params: ID_PARAMS,
            request: Some(|g| g.subschema_for::<DecisionBody>()),
            response: |g| g.subschema_for::<Proposal>(),
            success_status: 200,
            writes: true,
            permission: Permission::DecideProposals,
            handler: || post(approve),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/proposals/{id}/reject",
            operation_id: "rejectProposal",
            summary: "Reject a proposal",
            tag: "governance",
            params: ID_PARAMS,
            request: Some(|g| g.subschema_for::<DecisionBody>()),
            response: |g| g.subschema_for::<Proposal>(),
            success_status: 200,
            writes: true,
            permission: Permission::DecideProposals,
            handler: || post(reject),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/proposals/{id}/apply",
            operation_id: "applyProposal",
            summary: "Send an approved proposal to a sink (mes-sim or file); the sink's answer is recorded and audited",
            tag: "governance",
            params: ID_PARAMS,
            request: Some(|g| g.subschema_for::<ApplyBody>()),
            response: |g| g.subschema_for::<Proposal>(),
            success_status: 200,
            writes: true,
            permission: Permission::ApplyProposals,
            handler: || post(apply),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/proposals/{id}/rollback",
            operation_id: "rollBackProposal",
            summary: "Apply the inverse of an applied proposal through the sink that applied it",
            tag: "governance",
            params: ID_PARAMS,
            request: None,
            response: |g| g.subschema_for::<Proposal>(),
            success_status: 200,
            writes: true,
            permission: Permission::ApplyProposals,
            handler: || post(roll_back),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/policy",
            operation_id: "getPolicy",
            summary: "The governance policy in force: autonomy per action kind and area, approvers, four-eyes, expiry, privacy",
            tag: "governance",
            params: &[],
            request: None,
            response: |g| g.subschema_for::<Policy>(),
            success_status: 200,
            writes: false,
            permission: Permission::ReadProposals,
            handler: || get(policy),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/pseudonyms/{pseudonym}",
            operation_id: "resolvePseudonym",
            summary: "The identity behind an operator pseudonym (admins only; audited)",
            tag: "governance",
            params: PSEUDONYM_PARAMS,
            request: None,
            response: |g| g.subschema_for::<Resolved>(),
            success_status: 200,
            writes: true,
            permission: Permission::ResolvePseudonyms,
            handler: || get(resolve),
        },
    ]
}

const LIST_PARAMS: &[Param] = &[
    query(
        "status",
        "string",
        "proposed, approved, rejected, expired, applied or rolled_back",
    ),
    query(
        "kind",
        "string",
        "schedule_change, resource_transfer, quality_hold, nc_disposition or work_instruction_change",
    ),
    query("area", "string", "an area id"),
    query("limit", "integer", "page size (default 50, max 1000)"),
    query("offset", "integer", "proposals to skip"),
];

const ID_PARAMS: &[Param] = &[path("id", "proposal id")];

const PSEUDONYM_PARAMS: &[Param] = &[path("pseudonym", "a pseudonym, `psn_…`")];

/// A page of proposals.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProposalPage {
    pub items: Vec<Proposal>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// An optional comment with an approval or rejection.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    #[serde(default)]
    pub comment: Option<String>,
}

/// Which sink to apply to (`mes-sim` or `file`); the server's default when absent.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyBody {
    #[serde(default)]
    pub sink: Option<String>,
}

/// A resolved pseudonym.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Resolved {
    pub pseudonym: String,
    pub identity: String,
}

/// A JSON body that may be absent (an empty body is the type's default).
pub struct OptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| Problem::bad_request(e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        serde_json::from_slice(&bytes)
            .map(OptionalJson)
            .map_err(|e| Problem::unprocessable(e.to_string()))
    }
}

async fn plant_hierarchy(app: &AppState) -> Result<Hierarchy, Problem> {
    crate::auth::hierarchy(app).await.ok_or_else(|| {
        Problem::new(
            StatusCode::CONFLICT,
            "no-plant",
            "no plant is loaded; run `mixplane demo` or load one first",
        )
    })
}

async fn load(app: &AppState, id: &str) -> Result<store::StoredProposal, Problem> {
    app.store
        .proposal(id)
        .await?
        .ok_or_else(|| Problem::not_found(format!("proposal `{id}` does not exist")))
}

fn source_event(proposal: &Proposal) -> Option<String> {
    match &proposal.evidence.trigger {
        Trigger::Event { event_id } => Some(event_id.clone()),
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

fn lost_race(id: &str) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "proposal-changed",
        format!("proposal `{id}` changed while this request ran; reload it and try again"),
    )
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<String>,
    kind: Option<String>,
    area: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json200<ProposalPage>, Problem> {
    let bad =
        |name: &str, e: String| Problem::bad_request(format!("query parameter `{name}`: {e}"));
    let status = q
        .status
        .as_deref()
        .map(str::parse::<Status>)
        .transpose()
        .map_err(|e| bad("status", e))?;
    let kind = q
        .kind
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e| bad("kind", e))?;
    let limit = q.limit.unwrap_or(50);
    if limit == 0 || limit > 1000 {
        return Err(Problem::bad_request(
            "query parameter `limit` must be 1 to 1000",
        ));
    }
    let areas_in = match &caller.0.scope {
        Scope::Area(area) => Some(vec![area.clone()]),
        Scope::All | Scope::Site(_) => None,
    };
    let offset = q.offset.unwrap_or(0);
    let mut page = app
        .store
        .proposals(&ProposalFilter {
            status,
            kind,
            area: q.area,
            areas_in,
            limit,
            offset,
        })
        .await?;
    let now = now();
    for proposal in &mut page.items {
        proposal.expire_if_due(now);
    }
    Ok(Json200(ProposalPage {
        items: page.items,
        total: page.total,
        limit,
        offset,
    }))
}

async fn show(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json200<Proposal>, Problem> {
    let h = plant_hierarchy(&app).await?;
    let mut proposal = load(&app, &id).await?.proposal;
    if !caller.0.scope.reaches(&h, Some(&proposal.area)) {
        return Err(forbidden(format!(
            "proposal `{id}` is in area `{}`, outside {}'s scope {}",
            proposal.area, caller.0.id, caller.0.scope
        )));
    }
    proposal.expire_if_due(now());
    Ok(Json200(proposal))
}

async fn policy(State(app): State<AppState>) -> Json200<Policy> {
    Json200(app.governance.policy.clone())
}

/// The answer to a successful submission: 201 with the proposal.
pub struct Created(pub Proposal);

impl IntoResponse for Created {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, axum::Json(self.0)).into_response()
    }
}

async fn submit_handler(
    State(app): State<AppState>,
    caller: Caller,
    crate::extract::Json(draft): crate::extract::Json<ProposalDraft>,
) -> Result<Created, Problem> {
    submit(&app, &caller.0, draft).await.map(Created)
}

/// Stores a proposal from `proposer` and, when the policy lets it apply by itself, sends it
/// to the default sink at once (audited with the policy's autonomy as the applier). Used by
/// `POST /v1/proposals` and by in-process engines (the demo's re-sequencing rule).
pub async fn submit(
    app: &AppState,
    proposer: &Principal,
    draft: ProposalDraft,
) -> Result<Proposal, Problem> {
    let h = plant_hierarchy(app).await?;
    let now = now();
    let id = app.governance.new_id(now, &proposer.id, &draft.title);
    let proposal = Proposal::propose(id, draft, proposer, &app.governance.policy, &h, now)?;
    let write = write_by(proposer, proposal.evidence.modified_by(), &proposal);
    app.store.insert_proposal(&proposal, write).await?;
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
    match sink::deliver(
        app,
        sink,
        &proposal,
        &proposal.diff.clone(),
        "apply",
        &actor,
    )
    .await
    {
        Ok(answer) => {
            proposal.record_applied(Outcome {
                by: by.into(),
                at: now,
                sink: sink.to_string(),
                answer: answer.clone(),
            });
            write.sink = Some(answer);
            if !app
                .store
                .update_proposal(&proposal, stored.version, "proposal.apply", write)
                .await?
            {
                return Err(lost_race(&proposal.id));
            }
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

async fn approve(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<DecisionBody>,
) -> Result<Json200<Proposal>, Problem> {
    decide(&app, &caller.0, &id, DecisionKind::Approve, body.comment).await
}

async fn reject(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<DecisionBody>,
) -> Result<Json200<Proposal>, Problem> {
    decide(&app, &caller.0, &id, DecisionKind::Reject, body.comment).await
}

async fn decide(
    app: &AppState,
    who: &Principal,
    id: &str,
    decision: DecisionKind,
    comment: Option<String>,
) -> Result<Json200<Proposal>, Problem> {
    let h = plant_hierarchy(app).await?;
    let stored = load(app, id).await?;
    let mut proposal = stored.proposal.clone();
    let result = match decision {
        DecisionKind::Approve => proposal.approve(who, &h, now(), comment),
        DecisionKind::Reject => proposal.reject(who, &h, now(), comment),
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
        return Err(lost_race(id));
    }
    Ok(Json200(proposal))
}

async fn apply(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<ApplyBody>,
) -> Result<Json200<Proposal>, Problem> {
    let sink = match body.sink.as_deref() {
        Some(name) => name.parse().map_err(Problem::unprocessable)?,
        None => app.governance.default_sink,
    };
    send(&app, &caller.0, &id, sink, "apply").await
}

async fn roll_back(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json200<Proposal>, Problem> {
    send(
        &app,
        &caller.0,
        &id,
        app.governance.default_sink,
        "rollback",
    )
    .await
}

/// Applies (`direction = apply`) or rolls back a proposal through a sink, recording and
/// auditing the sink's answer either way.
async fn send(
    app: &AppState,
    who: &Principal,
    id: &str,
    sink: SinkKind,
    direction: &'static str,
) -> Result<Json200<Proposal>, Problem> {
    let h = plant_hierarchy(app).await?;
    let _guard = app.governance.apply_lock.lock().await;
    let stored = load(app, id).await?;
    let mut proposal = stored.proposal;
    let (diff, sink) = if direction == "apply" {
        proposal.check_apply(Some(who), &h)?;
        (proposal.diff.clone(), sink)
    } else {
        proposal.check_roll_back(who, &h)?;
        // A rollback goes back through the sink that applied the change.
        let applied_by = proposal
            .applied
            .as_ref()
            .and_then(|o| o.sink.parse().ok())
            .unwrap_or(sink);
        (proposal.inverse_diff(), applied_by)
    };
    let actor = store::actor_of(who);
    let mut write = write_by(who, proposal.evidence.modified_by(), &proposal);
    match sink::deliver(app, sink, &proposal, &diff, direction, &actor).await {
        Ok(answer) => {
            let outcome = Outcome {
                by: who.id.clone(),
                at: now(),
                sink: sink.to_string(),
                answer: answer.clone(),
            };
            let action = if direction == "apply" {
                proposal.record_applied(outcome);
                "proposal.apply"
            } else {
                proposal.record_rolled_back(outcome);
                "proposal.rollback"
            };
            write.sink = Some(answer);
            if !app
                .store
                .update_proposal(&proposal, stored.version, action, write)
                .await?
            {
                return Err(lost_race(id));
            }
            Ok(Json200(proposal))
        }
        Err(answer) => {
            let message = answer["message"].as_str().unwrap_or("failed").to_owned();
            write.sink = Some(answer);
            app.store
                .audit_only(
                    if direction == "apply" {
                        "proposal.apply_failed"
                    } else {
                        "proposal.rollback_failed"
                    },
                    format!("proposal:{id}"),
                    serde_json::json!({ "direction": direction }),
                    write,
                )
                .await?;
            Err(Problem::new(
                StatusCode::BAD_GATEWAY,
                "sink-error",
                format!("sink `{sink}` refused the {direction} of `{id}`: {message}"),
            ))
        }
    }
}

async fn resolve(
    State(app): State<AppState>,
    caller: Caller,
    Path(pseudonym): Path<String>,
) -> Result<Json200<Resolved>, Problem> {
    if !Pseudonymizer::is_pseudonym(&pseudonym) {
        return Err(Problem::bad_request(format!(
            "`{pseudonym}` is not a pseudonym (psn_ and 24 hex digits)"
        )));
    }
    let pseudonymizer = app.governance.pseudonymizer(&app.store).await?;
    let mut candidates: Vec<String> = app
        .store
        .principals()
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    if let Some(catalog) = app.store.plant().await {
        for pool in &catalog.plant().pools {
            candidates.extend(pool.members.iter().map(|m| m.id.to_string()));
        }
    }
    let identity = pseudonymizer
        .resolve(&pseudonym, candidates.iter().map(String::as_str))
        .map(str::to_owned);
    let write = GovernanceWrite {
        actor: caller.actor(),
        role: Some(caller.0.role),
        modified_by: caller.0.id.clone(),
        source_event: None,
        sink: None,
    };
    app.store
        .audit_only(
            "pseudonym.resolve",
            format!("pseudonym:{pseudonym}"),
            serde_json::json!({ "found": identity.is_some() }),
            write,
        )
        .await?;
    identity
        .map(|identity| {
            Json200(Resolved {
                pseudonym: pseudonym.clone(),
                identity,
            })
        })
        .ok_or_else(|| {
            Problem::not_found(format!("no known identity has the pseudonym `{pseudonym}`"))
        })
}

impl From<GovernError> for Problem {
    fn from(error: GovernError) -> Problem {
        match &error {
            GovernError::Forbidden(_) => forbidden(error.to_string()),
            GovernError::Conflict(_) => {
                Problem::new(StatusCode::CONFLICT, "proposal-state", error.to_string())
            }
            GovernError::Invalid(_) => Problem::unprocessable(error.to_string()),
        }
    }
}
