//! Principals and their tokens over HTTP (`/v1/principals`), for administrators who cannot
//! run the CLI on the server: list who may call the API, create a principal with its first
//! token (shown once), change a principal's role or scope, issue an existing principal
//! another token, revoke a principal's tokens — the use-cases of `app::principals`, where the
//! rule that a caller touches only principals within its own scope and role lives.

use app::principals::{ChangedPrincipal, Issued, NewPrincipal, PrincipalChange, Revoked};
use axum::extract::{Path, State};
use axum::http::Method;
use axum::routing::{delete, get, patch, post};
use govern::{Permission, Principal};

use crate::AppState;
use crate::api::{Created, Json200};
use crate::auth::Caller;
use crate::extract::Json;
use crate::problem::Problem;
use crate::routes::{Endpoint, Param, path};

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint {
            method: Method::GET,
            path: "/v1/principals",
            operation_id: "listPrincipals",
            summary: "The principals within the caller's scope: name, kind, role and scope",
            tag: "governance",
            params: &[],
            request: None,
            response: |g| g.subschema_for::<Vec<Principal>>(),
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

async fn list(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json200<Vec<Principal>>, Problem> {
    Ok(Json200(app::principals::list(&app, &caller.0).await?))
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
