//! Principals and their tokens over HTTP (`/v1/principals`), for administrators who cannot
//! run the CLI on the server: list who may call the API, create or update a principal and
//! issue it a token (shown once), revoke a principal's tokens — the use-cases of
//! `app::principals`, where the rule that a caller grants no more reach than it has lives.

use app::principals::{IssueRequest, Issued, Revoked};
use axum::extract::{Path, State};
use axum::http::Method;
use axum::routing::{delete, get};
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
            summary: "Every principal that may call the API: name, kind, role and scope",
            tag: "governance",
            params: &[],
            request: None,
            response: |g| g.subschema_for::<Vec<Principal>>(),
            success_status: 200,
            permission: Permission::ManagePrincipals,
            handler: || get(list),
        },
        Endpoint {
            method: Method::POST,
            path: "/v1/principals",
            operation_id: "issueToken",
            summary: "Create or update a principal and issue it a token (shown once; audited)",
            tag: "governance",
            params: &[],
            request: Some(|g| g.subschema_for::<IssueRequest>()),
            response: |g| g.subschema_for::<Issued>(),
            success_status: 201,
            permission: Permission::ManagePrincipals,
            handler: || axum::routing::post(issue),
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
            handler: || delete(revoke),
        },
    ]
}

const NAME_PARAMS: &[Param] = &[path("name", "a principal's name")];

async fn list(State(app): State<AppState>) -> Result<Json200<Vec<Principal>>, Problem> {
    Ok(Json200(app::principals::list(&app).await?))
}

async fn issue(
    State(app): State<AppState>,
    caller: Caller,
    Json(request): Json<IssueRequest>,
) -> Result<Created<Issued>, Problem> {
    Ok(Created(
        app::principals::issue(&app, &caller.0, request).await?,
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
