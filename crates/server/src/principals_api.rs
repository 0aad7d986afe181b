//! Principals and their tokens over HTTP (`/v1/principals`), for administrators who cannot
//! run the CLI on the server: list who may call the API, create or update a principal and
//! issue it a token (shown once, stored only as an argon2id hash), revoke a principal's
//! tokens. Every change is audited by the store with the calling administrator.
//!
//! A caller grants no more reach than it has: a site-wide administrator may grant its site or
//! an area of it, an area administrator only its own area; only an unrestricted (`*`) one may
//! grant `*`.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get};
use govern::{Hierarchy, Permission, Principal, PrincipalKind, Role, Scope};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::GovernanceWrite;

use crate::AppState;
use crate::api::Json200;
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

/// Who to issue a token to.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// 1 to 128 printable characters.
    pub name: String,
    pub role: Role,
    /// `*`, `site:<id>` or `area:<id>`.
    pub scope: Scope,
    /// `person`, `service` or `agent` (default: what the role implies).
    #[serde(default)]
    pub kind: Option<PrincipalKind>,
}

/// A new token: this answer is the only place it is ever shown.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Issued {
    pub principal: Principal,
    pub token_id: String,
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Revoked {
    pub principal: String,
    pub revoked: u64,
}

/// Whether a caller with scope `own` may grant `granted`.
fn may_grant(own: &Scope, granted: &Scope, plant: Option<&Hierarchy>) -> bool {
    match (own, granted) {
        (Scope::All, _) => true,
        (_, Scope::All) => false,
        (Scope::Site(mine), Scope::Site(theirs)) => mine == theirs,
        (Scope::Area(mine), Scope::Area(theirs)) => mine == theirs,
        (Scope::Area(_), Scope::Site(_)) => false,
        (Scope::Site(_), Scope::Area(area)) => {
            plant.is_some_and(|h| own.reaches(h, Some(area)) && h.areas.contains(area))
        }
    }
}

fn write_by(caller: &Caller) -> GovernanceWrite {
    GovernanceWrite {
        actor: caller.actor(),
        role: Some(caller.0.role),
        modified_by: caller.0.id.clone(),
        source_event: None,
        sink: None,
    }
}

async fn list(State(app): State<AppState>) -> Result<Json200<Vec<Principal>>, Problem> {
    Ok(Json200(app.store.principals().await?))
}

async fn issue(
    State(app): State<AppState>,
    caller: Caller,
    Json(request): Json<IssueRequest>,
) -> Result<(StatusCode, axum::Json<Issued>), Problem> {
    let plant = app.hierarchy().await;
    if !may_grant(&caller.0.scope, &request.scope, plant.as_ref()) {
        return Err(Problem::forbidden(format!(
            "scope `{}` reaches beyond the caller's `{}`",
            request.scope, caller.0.scope
        )));
    }
    let kind = request
        .kind
        .unwrap_or_else(|| PrincipalKind::for_role(request.role));
    if request.role == Role::Agent && kind != PrincipalKind::Agent {
        return Err(Problem::unprocessable(
            "kind: the agent role is for principals of kind agent",
        ));
    }
    let issued = app
        .store
        .create_token(
            &request.name,
            kind,
            request.role,
            request.scope,
            store::TokenHashing::Standard,
            write_by(&caller),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Issued {
            principal: issued.principal,
            token_id: issued.token_id,
            token: issued.token,
        }),
    ))
}

async fn revoke(
    State(app): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json200<Revoked>, Problem> {
    if app.store.principal(&name).await?.is_none() {
        return Err(Problem::not_found(format!(
            "no principal is named `{name}`"
        )));
    }
    let revoked = app.store.revoke_tokens(&name, write_by(&caller)).await?;
    Ok(Json200(Revoked {
        principal: name,
        revoked,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_grants_no_more_reach_than_it_has() {
        let plant = Hierarchy {
            site: "RHF".into(),
            areas: ["A-CHEM".to_string(), "A-PACK".to_string()]
                .into_iter()
                .collect(),
        };
        let s = |text: &str| text.parse::<Scope>().unwrap();
        let h = Some(&plant);
        assert!(may_grant(&s("*"), &s("*"), h));
        assert!(may_grant(&s("site:RHF"), &s("area:A-CHEM"), h));
        assert!(may_grant(&s("site:RHF"), &s("site:RHF"), h));
        assert!(!may_grant(&s("site:RHF"), &s("*"), h));
        assert!(!may_grant(&s("site:RHF"), &s("area:A-NOWHERE"), h));
        assert!(!may_grant(&s("site:RHF"), &s("area:A-CHEM"), None));
        assert!(may_grant(&s("area:A-CHEM"), &s("area:A-CHEM"), h));
        assert!(!may_grant(&s("area:A-CHEM"), &s("area:A-PACK"), h));
        assert!(!may_grant(&s("area:A-CHEM"), &s("site:RHF"), h));
    }
}
