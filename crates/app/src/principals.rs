//! Principals and their tokens: list who may call the API, issue a principal a token (shown
//! once, stored only as an argon2id hash), revoke a principal's tokens. Every change is
//! audited by the store with the calling administrator.
//!
//! A caller grants no more reach than it has: a site-wide administrator may grant its site or
//! an area of it, an area administrator only its own area; only an unrestricted (`*`) one may
//! grant `*`.

use govern::{Hierarchy, Principal, PrincipalKind, Role, Scope};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::GovernanceWrite;

use crate::{App, AppError};

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

fn write_by(who: &Principal) -> GovernanceWrite {
    GovernanceWrite {
        actor: store::actor_of(who),
        role: Some(who.role),
        modified_by: who.id.clone(),
        source_event: None,
        sink: None,
    }
}

/// Every principal.
pub async fn list(app: &App) -> Result<Vec<Principal>, AppError> {
    Ok(app.store.principals().await?)
}

/// Creates (or updates) a principal and issues it a token, as `who`.
pub async fn issue(app: &App, who: &Principal, request: IssueRequest) -> Result<Issued, AppError> {
    let plant = app.hierarchy().await;
    if !may_grant(&who.scope, &request.scope, plant.as_ref()) {
        return Err(AppError::Forbidden(format!(
            "scope `{}` reaches beyond the caller's `{}`",
            request.scope, who.scope
        )));
    }
    let kind = request
        .kind
        .unwrap_or_else(|| PrincipalKind::for_role(request.role));
    if request.role == Role::Agent && kind != PrincipalKind::Agent {
        return Err(AppError::Invalid(
            "kind: the agent role is for principals of kind agent".into(),
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
            write_by(who),
        )
        .await?;
    Ok(Issued {
        principal: issued.principal,
        token_id: issued.token_id,
        token: issued.token,
    })
}

/// Revokes every token of the principal `name`, as `who`.
pub async fn revoke(app: &App, who: &Principal, name: &str) -> Result<Revoked, AppError> {
    if app.store.principal(name).await?.is_none() {
        return Err(AppError::NotFound(format!(
            "no principal is named `{name}`"
        )));
    }
    let revoked = app.store.revoke_tokens(name, write_by(who)).await?;
    Ok(Revoked {
        principal: name.to_owned(),
        revoked,
    })
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
