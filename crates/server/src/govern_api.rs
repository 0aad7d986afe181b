//! The governance endpoints: proposals (list with filters, show, submit, approve, reject,
//! apply, roll back), the policy in force, and resolving pseudonyms (admins only).
//!
//! Handlers extract and call the use-cases in `app::govern`, which run the pure lifecycle of
//! `govern`, persist through the store (every write audited with the authenticated principal
//! and `modified_by`) and send applied changes to a sink. Route-level permissions come from
//! the route table ([`crate::auth`]); object-level rules — the approver roles of the
//! proposal's kind, the proposal's area within the caller's scope, nobody approving their
//! own, no agent approving — are `govern`'s.

use app::agents::live::AgentsView;
use app::govern::{ListProposals, ProposalPage, Resolved};
use axum::extract::{Path, State};
use axum::http::Method;
use axum::routing::{get, post};
use govern::{DecisionKind, Permission, Policy, Proposal, ProposalDraft, Status};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::AppState;
use crate::api::{Created, Json200};
use crate::auth::Caller;
use crate::extract::{Json, OptionalJson, Query};
use crate::problem::Problem;
use crate::routes::{Endpoint, Param, names, path, query};

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
            permission: Permission::ReadProposals,
            conflicts: &[],
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
            permission: Permission::ProposeChanges,
            conflicts: &["stale-before"],
            handler: || post(submit),
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
            permission: Permission::ReadProposals,
            conflicts: &[],
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
            permission: Permission::DecideProposals,
            conflicts: &["proposal-state", "proposal-changed"],
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
            permission: Permission::DecideProposals,
            conflicts: &["proposal-state", "proposal-changed"],
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
            permission: Permission::ApplyProposals,
            conflicts: &["proposal-state", "proposal-changed", "stale-before"],
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
            permission: Permission::ApplyProposals,
            conflicts: &["proposal-state", "proposal-changed"],
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
            permission: Permission::ReadProposals,
            conflicts: &[],
            handler: || get(policy),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/agents",
            operation_id: "getAgents",
            summary: "The live agents (repair, re-plan, improve): who they are, whether they run, and their recent reactions with the proposals they made",
            tag: "governance",
            params: &[],
            request: None,
            response: |g| g.subschema_for::<AgentsView>(),
            success_status: 200,
            permission: Permission::ReadProposals,
            conflicts: &[],
            handler: || get(agents),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/pseudonyms/{pseudonym}",
            operation_id: "resolvePseudonym",
            summary: "The identity behind a pseudonym, within the admin's scope (admins only; audited)",
            tag: "governance",
            params: PSEUDONYM_PARAMS,
            request: None,
            response: |g| g.subschema_for::<Resolved>(),
            success_status: 200,
            permission: Permission::ResolvePseudonyms,
            conflicts: &[],
            handler: || get(resolve),
        },
    ]
}

const LIST_PARAMS: &[Param] = &[
    query(
        "status",
        "string",
        "proposed, approved, rejected, expired, applied or rolled_back",
    )
    .one_of(|| names(Status::ALL)),
    query(
        "kind",
        "string",
        "schedule_change, resource_transfer, quality_hold, nc_disposition or work_instruction_change",
    )
    .one_of(|| names(govern::ActionKind::ALL)),
    query("area", "string", "an area id"),
    query("limit", "integer", "page size (default 50, max 1000)"),
    query("offset", "integer", "proposals to skip"),
];

const ID_PARAMS: &[Param] = &[path("id", "proposal id")];

const PSEUDONYM_PARAMS: &[Param] = &[path("pseudonym", "a pseudonym, `psn_…`")];

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
    let bad = |name: &str, e: model::wire::UnknownName| {
        Problem::bad_request(format!("query parameter `{name}`: {e}"))
    };
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
    let query = ListProposals {
        status,
        kind,
        area: q.area,
        limit,
        offset: q.offset.unwrap_or(0),
    };
    Ok(Json200(app::govern::list(&app, &caller.0, query).await?))
}

async fn show(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json200<Proposal>, Problem> {
    Ok(Json200(app::govern::show(&app, &caller.0, &id).await?))
}

async fn policy(State(app): State<AppState>) -> Json200<Policy> {
    Json200(app.governance.policy.clone())
}

async fn agents(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json200<AgentsView>, Problem> {
    Ok(Json200(
        app::agents::live::view(&state, &caller.0, state.agents.as_ref()).await?,
    ))
}

async fn submit(
    State(app): State<AppState>,
    caller: Caller,
    Json(draft): Json<ProposalDraft>,
) -> Result<Created<Proposal>, Problem> {
    Ok(Created(app::govern::submit(&app, &caller.0, draft).await?))
}

async fn approve(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<DecisionBody>,
) -> Result<Json200<Proposal>, Problem> {
    let decided =
        app::govern::decide(&app, &caller.0, &id, DecisionKind::Approve, body.comment).await?;
    Ok(Json200(decided))
}

async fn reject(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<DecisionBody>,
) -> Result<Json200<Proposal>, Problem> {
    let decided =
        app::govern::decide(&app, &caller.0, &id, DecisionKind::Reject, body.comment).await?;
    Ok(Json200(decided))
}

async fn apply(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<ApplyBody>,
) -> Result<Json200<Proposal>, Problem> {
    let sink = body
        .sink
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: model::wire::UnknownName| Problem::unprocessable(e.to_string()))?;
    Ok(Json200(
        app::govern::apply(&app, &caller.0, &id, sink).await?,
    ))
}

async fn roll_back(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json200<Proposal>, Problem> {
    Ok(Json200(app::govern::roll_back(&app, &caller.0, &id).await?))
}

async fn resolve(
    State(app): State<AppState>,
    caller: Caller,
    Path(pseudonym): Path<String>,
) -> Result<Json200<Resolved>, Problem> {
    Ok(Json200(
        app::govern::resolve(&app, &caller.0, &pseudonym).await?,
    ))
}
