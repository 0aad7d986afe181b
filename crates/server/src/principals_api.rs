//! Principals and their tokens over HTTP (`/v1/principals`), for administrators who cannot
//! run the CLI on the server: list who may call the API, create a principal with its first
//! token (shown once), change a principal's role or scope, issue an existing principal
//! another token, revoke a principal's tokens — the use-cases of `app::principals`, where the
//! rule that a caller touches only principals within its own scope and role lives.

use app::principals::{ChangedPrincipal, Issued, NewPrincipal, PrincipalChange, Revoked};
use axum::extract::{Path, RawQuery, State};
use axum::http::Method;
use axum::routing::{delete, get, patch, post};
use govern::{Permission, Principal};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::api::{Created, Json200};
use crate::auth::Caller;
use crate::extract::{Json, Query};
use crate::paging::{Key, Linked, ListSpec, PageRequest};
use crate::problem::Problem;
use crate::routes::{Endpoint, Param, names, path, query};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            method: Method::GET,
            path: "/v1/principals",
            operation_id: "listPrincipals",
            summary: "The principals within the caller's scope: name, kind, role and scope",
            tag: "governance",
            params: LIST_PARAMS,
            request: None,
            response: |g| g.subschema_for::<PrincipalList>(),
            success_status: 200,
            permission: Permission::ManagePrincipals,
            conflicts: &[],
            handler: || get(list),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/principals",
            operation_id: "issueToken",
            summary: "Create a principal and issue its first token (shown once; audited); 409 when the name exists",
            tag: "governance",
            params: &[],
            request: Some(|g| g.subschema_for::<NewPrincipal>()),
            response: |g| g.subschema_for::<Issued>(),
            success_status: 201,
            permission: Permission::ManagePrincipals,
            conflicts: &["principal-exists"],
            handler: || post(create),
        },
        Endpoint {
            method: Method::PATCH,
            path: "/v1/principals/{name}",
            operation_id: "updatePrincipal",
            summary: "Change a principal's role or scope (audited with before and after; effective on its next call)",
            tag: "governance",
            params: NAME_PARAMS,
            request: Some(|g| g.subschema_for::<PrincipalChange>()),
            response: |g| g.subschema_for::<ChangedPrincipal>(),
            success_status: 200,
            permission: Permission::ManagePrincipals,
            conflicts: &["principal-changed", "last-global-admin"],
            handler: || patch(change),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/principals/{name}/tokens",
            operation_id: "issueAnotherToken",
            summary: "Issue an existing principal another token (shown once; audited)",
            tag: "governance",
            params: NAME_PARAMS,
            request: None,
            response: |g| g.subschema_for::<Issued>(),
            success_status: 201,
            permission: Permission::ManagePrincipals,
            conflicts: &["principal-changed"],
            handler: || post(issue),
        },
        Endpoint {
            method: Method::DELETE,
            path: "/v1/principals/{name}/tokens",
            operation_id: "revokeTokens",
            summary: "Revoke every token of a principal (audited; effective on the next call)",
            tag: "governance",
            params: NAME_PARAMS,
            request: None,
            response: |g| g.subschema_for::<Revoked>(),
            success_status: 200,
            permission: Permission::ManagePrincipals,
            conflicts: &["principal-changed", "last-global-admin"],
            handler: || delete(revoke),
        },
    ]
}

const NAME_PARAMS: &[Param] = &[path("name", "a principal's name")];

/// How the principal list pages.
pub static PRINCIPALS: ListSpec = ListSpec {
    path: "/v1/principals",
    default_limit: 100,
    max_limit: 1000,
    sorts: &["id", "-id"],
};

const LIST_PARAMS: &[Param] = &[
    query("limit", "integer", "page size (default 100, max 1000)"),
    crate::api::CURSOR,
    query("sort", "string", "id (default) or -id: by principal name")
        .one_of(|| names(PRINCIPALS.sorts)),
];

/// A page of principals.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PrincipalList {
    pub items: Vec<Principal>,
    /// Principals within the caller's scope, over all pages.
    pub total: u64,
    pub limit: u32,
    /// The path and query of the next page; `null` on the last.
    pub next: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
    sort: Option<String>,
}

async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
    RawQuery(raw): RawQuery,
) -> Result<Linked<PrincipalList>, Problem> {
    let request = PageRequest::parse(
        &PRINCIPALS,
        q.limit,
        q.sort.as_deref(),
        q.cursor.as_deref(),
        raw.as_deref(),
    )?;
    let all = app::principals::list(&app, &caller.0).await?;
    let page = request.page(all, |p, _| vec![Key::from(p.id.as_str())]);
    let next = page.next.clone();
    Ok(Linked(
        PrincipalList {
            items: page.items,
            total: page.total,
            limit: request.limit,
            next: page.next,
        },
        next,
    ))
}

async fn create(
    State(app): State<AppState>,
    caller: Caller,
    Json(request): Json<NewPrincipal>,
) -> Result<Created<Issued>, Problem> {
    Ok(Created(
        app::principals::create(&app, &caller.0, request).await?,
    ))
}

async fn change(
    State(app): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(request): Json<PrincipalChange>,
) -> Result<Json200<ChangedPrincipal>, Problem> {
    Ok(Json200(
        app::principals::change(&app, &caller.0, &name, request).await?,
    ))
}

async fn issue(
    State(app): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Created<Issued>, Problem> {
    Ok(Created(
        app::principals::issue(&app, &caller.0, &name).await?,
    ))
}

async fn revoke(
    State(app): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json200<Revoked>, Problem> {
    Ok(Json200(
        app::principals::revoke(&app, &caller.0, &name).await?,
    ))
}
