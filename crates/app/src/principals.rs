//! Principals and their tokens: list who may call the API, create a principal with its first
//! token (shown once, stored only as an argon2id hash), change a principal's role and scope,
//! issue an existing principal another token, revoke a principal's tokens. Creating and
//! changing are separate operations: creating refuses a name that exists, so a name is never
//! silently rebound. Every change is audited by the store with the calling administrator and
//! the principal before and after.
//!
//! # Who may touch whom
//!
//! A caller manages a principal only when that principal is *within* the caller
//! ([`within`]):
//!
//! - its scope is contained in the caller's: `*` contains everything, a site itself and its
//!   areas, an area only itself — so only an unrestricted (`*`) administrator touches `*`
//!   principals, and an area administrator only principals of its area;
//! - its role grants nothing the caller's role does not ([`govern::Role::permissions`]):
//!   every role is within an administrator's, but no role that may one day manage principals
//!   without being an administrator could raise anyone above itself.
//!
//! Creating needs the new principal within the caller; changing needs the principal within
//! the caller both before and after; issuing another token and revoking need it within the
//! caller. The rules the store keeps for every caller (the CLI too) come on top: a name is
//! never rebound, a change made on a stale read is refused, and the last administrator with
//! scope `*` and a live token can be neither demoted, narrowed nor revoked.

use govern::{Hierarchy, Principal, PrincipalKind, Role, Scope};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::GovernanceWrite;

use crate::{App, AppError};

/// A principal to create, with its first token.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPrincipal {
    /// 1 to 128 printable characters, no `:`, no white space at either end.
    pub name: String,
    pub role: Role,
    /// `*`, `site:<id>` or `area:<id>`.
    pub scope: Scope,
    /// `person`, `service` or `agent` (default: what the role implies).
    #[serde(default)]
    pub kind: Option<PrincipalKind>,
}

/// A change of a principal's role or scope (or both); its kind and name never change.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrincipalChange {
    #[serde(default)]
    pub role: Option<Role>,
    /// `*`, `site:<id>` or `area:<id>`.
    #[serde(default)]
    pub scope: Option<Scope>,
}

/// A new token: this answer is the only place it is ever shown.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Issued {
    pub principal: Principal,
    pub token_id: String,
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
}

/// A principal before and after a change (the same when the change changed nothing).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ChangedPrincipal {
    pub before: Principal,
    pub after: Principal,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Revoked {
    pub principal: String,
    pub revoked: u64,
}

/// Whether a caller with scope `own` may grant `granted`: whether `granted` is contained in
/// `own` (an area belongs to a site only as the plant says).
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

/// Whether `role` grants nothing `own` does not.
fn role_within(role: Role, own: Role) -> bool {
    role.permissions()
        .iter()
        .all(|permission| own.allows(*permission))
}

/// Why `target` is not within `who` (see the module doc), or nothing when it is.
pub fn within(
    who: &Principal,
    target: &Principal,
    plant: Option<&Hierarchy>,
) -> Result<(), String> {
    if !may_grant(&who.scope, &target.scope, plant) {
        return Err(format!(
            "`{}` has scope `{}`, which reaches beyond the caller's `{}`",
            target.id, target.scope, who.scope
        ));
    }
    if !role_within(target.role, who.role) {
        return Err(format!(
            "`{}` has role {}, which grants more than the caller's role {}",
            target.id, target.role, who.role
        ));
    }
    Ok(())
}

async fn check_within(app: &App, who: &Principal, target: &Principal) -> Result<(), AppError> {
    let plant = app.hierarchy().await;
    within(who, target, plant.as_ref()).map_err(AppError::Forbidden)
}

fn check_name(name: &str) -> Result<(), AppError> {
    store::check_principal_name(name).map_err(|e| AppError::Invalid(e.to_string()))
}

fn check_kind(kind: PrincipalKind, role: Role) -> Result<(), AppError> {
    if role == Role::Agent && kind != PrincipalKind::Agent {
        return Err(AppError::Invalid(format!(
            "kind: the agent role is for principals of kind agent, not {kind}"
        )));
    }
    Ok(())
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

/// The principal named `name`, checked to be within `who`.
async fn target(app: &App, who: &Principal, name: &str) -> Result<Principal, AppError> {
    check_name(name)?;
    let target = app.store.existing_principal(name).await?;
    check_within(app, who, &target).await?;
    Ok(target)
}

/// The principals whose scope lies within `who`'s, by name.
pub async fn list(app: &App, who: &Principal) -> Result<Vec<Principal>, AppError> {
    let plant = app.hierarchy().await;
    let mut principals = app.store.principals().await?;
    principals.retain(|p| may_grant(&who.scope, &p.scope, plant.as_ref()));
    Ok(principals)
}

/// Creates a principal and issues it its first token, as `who`; a name that exists is
/// refused (409), never rebound.
pub async fn create(app: &App, who: &Principal, request: NewPrincipal) -> Result<Issued, AppError> {
    check_name(&request.name)?;
    let kind = request
        .kind
        .unwrap_or_else(|| PrincipalKind::for_role(request.role));
    check_kind(kind, request.role)?;
    let principal = Principal::new(request.name, kind, request.role, request.scope);
    check_within(app, who, &principal).await?;
    let issued = app
        .store
        .create_principal(&principal, store::TokenHashing::Standard, write_by(who))
        .await?;
    Ok(Issued {
        principal: issued.principal,
        token_id: issued.token_id,
        token: issued.token,
    })
}

/// Changes the role or scope of the principal `name`, as `who`; its tokens act with the new
/// ones from their next request.
pub async fn change(
    app: &App,
    who: &Principal,
    name: &str,
    request: PrincipalChange,
) -> Result<ChangedPrincipal, AppError> {
    if request.role.is_none() && request.scope.is_none() {
        return Err(AppError::Invalid(
            "name a `role` or a `scope` to change (a principal's name and kind never change)"
                .into(),
        ));
    }
    let before = target(app, who, name).await?;
    let role = request.role.unwrap_or(before.role);
    let scope = request.scope.unwrap_or_else(|| before.scope.clone());
    check_kind(before.kind, role)?;
    let wanted = Principal::new(before.id.clone(), before.kind, role, scope.clone());
    check_within(app, who, &wanted).await?;
    if wanted == before {
        return Ok(ChangedPrincipal {
            after: before.clone(),
            before,
        });
    }
    let after = app
        .store
        .update_principal(&before, role, scope, write_by(who))
        .await?;
    Ok(ChangedPrincipal { before, after })
}

/// Issues the existing principal `name` another token, as `who`.
pub async fn issue(app: &App, who: &Principal, name: &str) -> Result<Issued, AppError> {
    let principal = target(app, who, name).await?;
    let issued = app
        .store
        .issue_token(
            &principal,
            store::TokenHashing::Standard,
            false,
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
    let principal = target(app, who, name).await?;
    let revoked = app
        .store
        .revoke_principal_tokens(&principal, write_by(who))
        .await?;
    Ok(Revoked {
        principal: principal.id,
        revoked,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plant() -> Hierarchy {
        Hierarchy {
            site: "RHF".into(),
            areas: ["A-CHEM".to_string(), "A-PACK".to_string()]
                .into_iter()
                .collect(),
        }
    }

    fn s(text: &str) -> Scope {
        text.parse().unwrap()
    }

    #[test]
    fn a_caller_grants_no_more_reach_than_it_has() {
        let plant = plant();
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

    /// The reproductions of issue 12: an area administrator cannot touch the global one, nor
    /// a principal of another area; only a `*` administrator touches `*` principals.
    #[test]
    fn only_principals_within_the_caller_are_touched() {
        let plant = plant();
        let h = Some(&plant);
        let who = |role, scope: &str| Principal::new("who", PrincipalKind::Person, role, s(scope));
        let target =
            |role, scope: &str| Principal::new("them", PrincipalKind::Person, role, s(scope));
        let chem_admin = who(Role::Admin, "area:A-CHEM");
        let site_admin = who(Role::Admin, "site:RHF");
        let root = who(Role::Admin, "*");

        let demo_admin = target(Role::Admin, "*");
        let refused = within(&chem_admin, &demo_admin, h).unwrap_err();
        assert!(refused.contains("scope `*`"), "{refused}");
        assert!(within(&site_admin, &demo_admin, h).is_err());
        assert!(within(&root, &demo_admin, h).is_ok());

        let pack_planner = target(Role::Planner, "area:A-PACK");
        assert!(within(&chem_admin, &pack_planner, h).is_err());
        assert!(within(&site_admin, &pack_planner, h).is_ok());
        assert!(within(&chem_admin, &target(Role::Admin, "area:A-CHEM"), h).is_ok());
        assert!(within(&chem_admin, &target(Role::Viewer, "site:RHF"), h).is_err());

        // Roles: nothing above the caller's (only administrators manage principals today, so
        // this bites for a role below admin).
        let supervisor = who(Role::Supervisor, "*");
        let refused = within(&supervisor, &target(Role::Admin, "area:A-CHEM"), h).unwrap_err();
        assert!(refused.contains("grants more"), "{refused}");
        assert!(within(&supervisor, &target(Role::Planner, "*"), h).is_ok());
        assert!(within(&supervisor, &target(Role::Agent, "*"), h).is_ok());
        assert!(within(&who(Role::Planner, "*"), &target(Role::Operator, "*"), h).is_err());
    }
}
