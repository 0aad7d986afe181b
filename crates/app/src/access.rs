//! The door check every edge runs before a use-case: the principal's role must grant the
//! permission the call needs, and its scope must reach the plant's site. Object-level scope
//! (an order's, a lot's, a proposal's areas) is each use-case's, through `crate::scope`.
//!
//! The HTTP edge runs this for every route from its route table; the CLI runs it for each
//! daily-task command with the principal of the token it was given, so a role or scope is
//! refused the same way whichever door it comes through.

use govern::{Permission, Principal, Scope};

use crate::{App, AppError};

/// Whether `who` may make a call that needs `permission` on this store's plant: 403
/// ([`AppError::Forbidden`]) naming the role or the scope that does not reach.
pub async fn authorize(app: &App, who: &Principal, permission: Permission) -> Result<(), AppError> {
    if !who.role.allows(permission) {
        return Err(AppError::Forbidden(format!(
            "{} has role {}, which does not grant {permission:?}",
            who.id, who.role
        )));
    }
    let reaches = match app.hierarchy().await {
        Some(h) => who.scope.reaches(&h, None),
        // Without a plant, only an unrestricted scope can be checked to reach it.
        None => who.scope == Scope::All,
    };
    if !reaches {
        return Err(AppError::Forbidden(format!(
            "{}'s scope {} does not reach this plant's site",
            who.id, who.scope
        )));
    }
    Ok(())
}

/// Whether answers to `who` carry pseudonyms instead of operator identities and masked
/// recipe parameters (agents read no one's identity).
pub fn reads_pseudonymised(who: &Principal) -> bool {
    who.kind == govern::PrincipalKind::Agent || who.role == govern::Role::Agent
}
