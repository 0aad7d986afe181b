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
use app::govern::{ListProposals, Resolved};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing::{get, post};
use govern::{DecisionKind, Permission, Policy, Proposal, ProposalDraft, Status};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::{Created, Json200};
use crate::auth::Caller;
use crate::conditional::{self, Tagged};
use crate::extract::{Json, OptionalJson, Query};
use crate::paging::{Key, Linked, ListSpec, PageRequest};
use crate::problem::Problem;
use crate::routes::{Endpoint, Param, names, path, query};

/// The governance endpoints, appended to the route table by [`crate::api::endpoints`].
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            method: Method::GET,
            path: "/v1/kpis",
            operation_id: "getRolloutKpis",
            summary: "Rollout KPIs over a window: recommendations per action kind and area (made, applied by themselves, approved, rejected, expired, acceptance rate, time to decision), manual schedule changes, agent calls by tool, drift detection against known ground truth",
            tag: "governance",
            params: KPI_PARAMS,
            request: None,
            response: |g| g.subschema_for::<govern::kpis::RolloutKpis>(),
            success_status: 200,
            permission: Permission::ReadProposals,
            conflicts: &[],
            handler: || get(kpis),
        },
        Endpoint {
            method: Method::GET,
            path: "/v1/proposals",
            operation_id: "listProposals",
            summary: "Proposals, newest first, filtered by status, kind and area (only those in the caller's scope)",
            tag: "governance",
            params: LIST_PARAMS,
            request: None,
            response: |g| g.subschema_for::<ProposalList>(),
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
            summary: "Send an approved proposal to a sink (mes-sim, file or mes); the sink's answer is recorded and audited",
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
    crate::api::CURSOR,
    query(
        "sort",
        "string",
        "-proposed_at (default), proposed_at, expires_at, -expires_at, id or -id (`-` descending; ties by id)",
    )
    .one_of(|| names(PROPOSALS.sorts)),
];

/// How the proposal list pages.
pub static PROPOSALS: ListSpec = ListSpec {
    path: "/v1/proposals",
    default_limit: 50,
    max_limit: 1000,
    sorts: &[
        "-proposed_at",
        "proposed_at",
        "expires_at",
        "-expires_at",
        "id",
        "-id",
    ],
};

/// A page of proposals.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ProposalList {
    pub items: Vec<Proposal>,
    /// Proposals matching the filter that the caller reads, over all pages.
    pub total: u64,
    pub limit: u32,
    /// The path and query of the next page; `null` on the last.
    pub next: Option<String>,
}

const ID_PARAMS: &[Param] = &[path("id", "proposal id")];

const PSEUDONYM_PARAMS: &[Param] = &[path("pseudonym", "a pseudonym, `psn_…`")];

/// An optional comment with an approval or rejection.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    #[serde(default)]
    pub comment: Option<String>,
}

/// Which sink to apply to (`mes-sim`, `file` or `mes`); the server's default when absent.
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
    cursor: Option<String>,
    sort: Option<String>,
}

async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Linked<ProposalList>, Problem> {
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
    let request = PageRequest::parse(
        &PROPOSALS,
        q.limit,
        q.sort.as_deref(),
        q.cursor.as_deref(),
        raw.as_deref(),
    )?;
    let query = ListProposals {
        status,
        kind,
        area: q.area,
        limit: 0,
        offset: 0,
    };
    let all = app::govern::list_all(&app, &caller.0, query).await?;
    let page = request.page(all, |p, sort| {
        let id = Key::from(p.id.as_str());
        match sort {
            "proposed_at" => vec![p.proposed_at.0.into(), id],
            "expires_at" => vec![p.expires_at.0.into(), id],
            _ => vec![id],
        }
    });
    let next = page.next.clone();
    Ok(Linked(
        ProposalList {
            items: page.items,
            total: page.total,
            limit: request.limit,
            next: page.next,
        },
        next,
    ))
}

async fn show(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (proposal, etag) = app::govern::show_tagged(&app, &caller.0, &id).await?;
    Ok(conditional::get_answer(&headers, proposal, etag))
}

async fn policy(State(app): State<AppState>) -> Json200<Policy> {
    Json200(app.governance.policy.clone())
}

async fn agents(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json200<AgentsView>, Problem> {
    Ok(Json200(
        app::agents::live::view(&state, &caller.0, state.agents.get()).await?,
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
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<DecisionBody>,
) -> Result<Tagged<Proposal>, Problem> {
    decide(app, caller, id, headers, DecisionKind::Approve, body).await
}

async fn reject(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<DecisionBody>,
) -> Result<Tagged<Proposal>, Problem> {
    decide(app, caller, id, headers, DecisionKind::Reject, body).await
}

async fn decide(
    app: AppState,
    caller: Caller,
    id: String,
    headers: HeaderMap,
    decision: DecisionKind,
    body: DecisionBody,
) -> Result<Tagged<Proposal>, Problem> {
    let expected = conditional::if_match(&headers)?;
    let (decided, etag) = app::govern::decide_if(
        &app,
        &caller.0,
        &id,
        decision,
        body.comment,
        expected.as_ref(),
    )
    .await?;
    Ok(Tagged::ok(decided, etag))
}

async fn apply(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    OptionalJson(body): OptionalJson<ApplyBody>,
) -> Result<Tagged<Proposal>, Problem> {
    let expected = conditional::if_match(&headers)?;
    let sink = body
        .sink
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: model::wire::UnknownName| Problem::unprocessable(e.to_string()))?;
    let (applied, etag) =
        app::govern::apply_if(&app, &caller.0, &id, sink, expected.as_ref()).await?;
    Ok(Tagged::ok(applied, etag))
}

async fn roll_back(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Tagged<Proposal>, Problem> {
    let expected = conditional::if_match(&headers)?;
    let (rolled_back, etag) =
        app::govern::roll_back_if(&app, &caller.0, &id, expected.as_ref()).await?;
    Ok(Tagged::ok(rolled_back, etag))
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

const KPI_PARAMS: &[Param] = &[
    query(
        "from",
        "string",
        "RFC 3339: start of the window (default: 30 days before `to`)",
    )
    .instant(),
    query(
        "to",
        "string",
        "RFC 3339: end of the window, exclusive (default: now)",
    )
    .instant(),
];

#[derive(Debug, Deserialize)]
struct KpiQuery {
    from: Option<String>,
    to: Option<String>,
}

async fn kpis(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<KpiQuery>,
) -> Result<Json200<govern::kpis::RolloutKpis>, Problem> {
    let time = |name: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(model::Timestamp::parse)
            .transpose()
            .map_err(|e| Problem::bad_request(format!("query parameter `{name}`: {e}")))
    };
    let request = app::kpis::KpiRequest {
        from: time("from", &q.from)?,
        to: time("to", &q.to)?,
    };
    Ok(Json200(app::kpis::rollout(&app, &caller.0, request).await?))
}
