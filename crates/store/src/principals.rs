//! Principals and their tokens as stored: create a principal with its first token, issue an
//! existing one another token, change its role and scope, revoke its tokens. Every operation
//! is one audited write (`Store::audited`) whose audit record carries the principal before and
//! after (`null` before its creation) and the token concerned.
//!
//! Two rules hold here, whoever calls — the HTTP use-cases (`app::principals`), the CLI, the
//! demo:
//!
//! - **A name is never rebound.** Creating refuses a name that exists ([`PrincipalError::Exists`]);
//!   every other operation names the principal as the caller saw it and is refused, writing
//!   nothing, when it changed meanwhile ([`PrincipalError::Changed`]). The check runs inside the
//!   write's transaction, under the store's writer lock.
//! - **The last global administrator stays.** A change or revocation that concerns an
//!   administrator with scope `*` is refused when it would leave no administrator with scope
//!   `*` and a live token ([`PrincipalError::LastGlobalAdmin`]), so the API can always be
//!   administered.
//!
//! Who may do what to whom (scopes, roles) is decided by the caller (`app::principals`), not
//! here. Principal names are checked by [`check_principal_name`].

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, SaltString};
use govern::{Principal, Role, Scope};
use serde_json::{Value, json};

use crate::backend::{GovernanceRow, PrincipalRow};
use crate::error::{Result, StoreError};
use crate::govern::{GovernanceWrite, IssuedToken, TokenHashing, random_hex};
use crate::store::{Entry, Store, now_ms};

/// The longest principal name, in characters.
pub const MAX_PRINCIPAL_NAME: usize = 128;

/// Why a principal operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrincipalError {
    /// The name breaks the naming rule (says which part).
    #[error("principal name: {0}")]
    Name(String),
    /// Creating a principal whose name is taken.
    #[error(
        "a principal named `{0}` exists already; a name is never rebound (change its role or scope, or issue it another token, instead)"
    )]
    Exists(String),
    /// No principal has this name.
    #[error("no principal is named `{0}`")]
    Unknown(String),
    /// The principal changed between the caller's read and this write.
    #[error("principal `{0}` changed while this request ran; reload it and try again")]
    Changed(String),
    /// The change would leave no administrator with scope `*` and a live token.
    #[error(
        "`{0}` is the last administrator with scope `*` and a live token; create or promote another one first"
    )]
    LastGlobalAdmin(String),
}

/// Whether `name` may name a principal: 1 to 128 characters, none of them a control or
/// invisible formatting character, no space at either end, no `:` (audit actors and holds
/// write principals as `kind:name`, so a name with a colon could pass for another kind), and
/// not of the form of a pseudonym (`psn_` and 24 hex digits), which it would impersonate in
/// what agents read.
pub fn check_principal_name(name: &str) -> std::result::Result<(), PrincipalError> {
    let bad = |why: &str| Err(PrincipalError::Name(why.to_owned()));
    let count = name.chars().count();
    if count == 0 {
        return bad("it is empty; a name has 1 to 128 characters");
    }
    if count > MAX_PRINCIPAL_NAME {
        return bad(&format!(
            "it has {count} characters; a name has at most {MAX_PRINCIPAL_NAME}"
        ));
    }
    if let Some((at, c)) = name.chars().enumerate().find(|(_, c)| invisible(*c)) {
        return bad(&format!(
            "character {} is U+{:04X}, a control or invisible character",
            at + 1,
            u32::from(c)
        ));
    }
    if name.trim() != name {
        return bad("it begins or ends with white space");
    }
    if name.contains(':') {
        return bad("it contains `:`, which separates a kind from a name in audit records");
    }
    if govern::Pseudonymizer::is_pseudonym(name) {
        return bad("it has the form of a pseudonym (`psn_` and 24 hex digits)");
    }
    Ok(())
}

/// Control characters, and the format characters that render as nothing (zero-width spaces
/// and joiners, direction marks and overrides, the byte-order mark, the soft hyphen): names
/// that differ only by them would look the same.
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
        )
}

fn row_of(principal: &Principal) -> PrincipalRow {
    PrincipalRow {
        id: principal.id.clone(),
        kind: principal.kind.as_str().to_owned(),
        role: principal.role.as_str().to_owned(),
        scope: principal.scope.to_string(),
    }
}

/// A principal as the audit record shows it, with its number of live tokens.
fn snapshot(principal: &Principal, live_tokens: i64) -> Value {
    json!({
        "kind": principal.kind.as_str(),
        "role": principal.role.as_str(),
        "scope": principal.scope.to_string(),
        "live_tokens": live_tokens,
    })
}

fn is_global_admin(principal: &Principal) -> bool {
    principal.role == Role::Admin && principal.scope == Scope::All
}

/// A fresh token and the argon2id hash the store keeps of it (hashed off the async threads).
async fn new_token(hashing: TokenHashing) -> Result<(String, String, String)> {
    let token_id = random_hex(8);
    let token = format!("mxp_{token_id}_{}", random_hex(32));
    let salt = SaltString::generate(&mut OsRng);
    let hash = {
        let token = token.clone();
        tokio::task::spawn_blocking(move || {
            hashing
                .argon2()
                .hash_password(token.as_bytes(), &salt)
                .map(|h| h.to_string())
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("token hashing task failed: {e}")))?
        .map_err(|e| StoreError::Corrupt(format!("token hashing failed: {e}")))?
    };
    Ok((token_id, token, hash))
}

fn token_row(token_id: &str, principal: &str, hash: String, at: i64) -> GovernanceRow {
    GovernanceRow::Token {
        id: token_id.to_owned(),
        principal: principal.to_owned(),
        hash,
        at,
    }
}

/// One principal write: its rows, and what each refusing row means.
struct PrincipalWrite {
    action: &'static str,
    name: String,
    rows: Vec<(GovernanceRow, Option<PrincipalError>)>,
    detail: Value,
}

impl Store {
    /// Runs a principal write in one audited transaction; the first row whose condition does
    /// not hold rolls it back and gives its error.
    async fn principal_write(&self, write: GovernanceWrite, op: PrincipalWrite) -> Result<()> {
        let entry = Entry {
            actor: write.actor.clone(),
            action: op.action,
            subject: format!("principal:{}", op.name),
            detail: write.detail(op.detail),
            at: now_ms(),
        };
        let rows = op.rows;
        let refused = self
            .audited(move |tx, _| {
                Box::pin(async move {
                    for (row, refusal) in rows {
                        if !tx.governance_row(&row).await? {
                            let error = refusal.map(StoreError::from).unwrap_or_else(|| {
                                StoreError::Corrupt(format!("a principal row was refused: {row:?}"))
                            });
                            return Ok((Some(error), None));
                        }
                    }
                    Ok((None, Some(entry)))
                })
            })
            .await?;
        refused.map_or(Ok(()), Err)
    }

    /// Creates `principal` and issues it its first token; refused when the name is taken.
    /// (The live-token counts of this and the other records are read just before the write.)
    /// Audited as `principal.create`.
    pub async fn create_principal(
        &self,
        principal: &Principal,
        hashing: TokenHashing,
        write: GovernanceWrite,
    ) -> Result<IssuedToken> {
        check_principal_name(&principal.id)?;
        let (token_id, token, hash) = new_token(hashing).await?;
        let at = now_ms();
        let name = principal.id.clone();
        let rows = vec![
            (
                GovernanceRow::NewPrincipal {
                    id: name.clone(),
                    kind: principal.kind,
                    role: principal.role,
                    scope: principal.scope.to_string(),
                    at,
                },
                Some(PrincipalError::Exists(name.clone())),
            ),
            (token_row(&token_id, &name, hash, at), None),
        ];
        let detail = json!({
            "principal": name,
            "before": null,
            "after": snapshot(principal, 1),
            // The names `token.create` records carried before principals had their own action.
            "kind": principal.kind.as_str(),
            "granted_role": principal.role.as_str(),
            "scope": principal.scope.to_string(),
            "token_id": token_id,
        });
        let op = PrincipalWrite {
            action: "principal.create",
            name,
            rows,
            detail,
        };
        self.principal_write(write, op).await?;
        Ok(IssuedToken {
            principal: principal.clone(),
            token_id,
            token,
        })
    }

    /// Issues `principal` (as the caller read it) another token; with `revoke_others`, its
    /// other tokens are revoked in the same write (a rotation). Audited as `token.create`.
    pub async fn issue_token(
        &self,
        principal: &Principal,
        hashing: TokenHashing,
        revoke_others: bool,
        write: GovernanceWrite,
    ) -> Result<IssuedToken> {
        let (token_id, token, hash) = new_token(hashing).await?;
        let at = now_ms();
        let name = principal.id.clone();
        let mut rows = vec![
            (
                GovernanceRow::PrincipalIs(row_of(principal)),
                Some(PrincipalError::Changed(name.clone())),
            ),
            (token_row(&token_id, &name, hash, at), None),
        ];
        let live = self.inner.backend.live_tokens(&name).await?;
        if revoke_others {
            rows.push((
                GovernanceRow::RevokeTokens {
                    principal: name.clone(),
                    except: Some(token_id.clone()),
                    at,
                },
                None,
            ));
        }
        let detail = json!({
            "principal": name,
            "before": snapshot(principal, live),
            "after": snapshot(principal, if revoke_others { 1 } else { live + 1 }),
            "token_id": token_id,
            "revoked_others": if revoke_others { live } else { 0 },
        });
        let op = PrincipalWrite {
            action: "token.create",
            name,
            rows,
            detail,
        };
        self.principal_write(write, op).await?;
        Ok(IssuedToken {
            principal: principal.clone(),
            token_id,
            token,
        })
    }

    /// Changes the role and scope of `before` (as the caller read it); its tokens act with
    /// the new ones from their next request. Audited as `principal.update`.
    pub async fn update_principal(
        &self,
        before: &Principal,
        role: Role,
        scope: Scope,
        write: GovernanceWrite,
    ) -> Result<Principal> {
        let after = Principal::new(before.id.clone(), before.kind, role, scope);
        let name = before.id.clone();
        let mut rows = vec![(
            GovernanceRow::PrincipalUpdate {
                before: row_of(before),
                role,
                scope: after.scope.to_string(),
                at: now_ms(),
            },
            Some(PrincipalError::Changed(name.clone())),
        )];
        if is_global_admin(before) {
            rows.push((
                GovernanceRow::KeepGlobalAdmin,
                Some(PrincipalError::LastGlobalAdmin(name.clone())),
            ));
        }
        let live = self.inner.backend.live_tokens(&name).await?;
        let detail = json!({
            "principal": name,
            "before": snapshot(before, live),
            "after": snapshot(&after, live),
        });
        let op = PrincipalWrite {
            action: "principal.update",
            name,
            rows,
            detail,
        };
        self.principal_write(write, op).await?;
        Ok(after)
    }

    /// Revokes every live token of `principal` (as the caller read it); returns how many.
    /// Audited as `token.revoke`; nothing is written when it has none.
    pub async fn revoke_principal_tokens(
        &self,
        principal: &Principal,
        write: GovernanceWrite,
    ) -> Result<u64> {
        let name = principal.id.clone();
        let live = self.inner.backend.live_tokens(&name).await?;
        if live == 0 {
            return Ok(0);
        }
        let mut rows = vec![
            (
                GovernanceRow::PrincipalIs(row_of(principal)),
                Some(PrincipalError::Changed(name.clone())),
            ),
            (
                GovernanceRow::RevokeTokens {
                    principal: name.clone(),
                    except: None,
                    at: now_ms(),
                },
                None,
            ),
        ];
        if is_global_admin(principal) {
            rows.push((
                GovernanceRow::KeepGlobalAdmin,
                Some(PrincipalError::LastGlobalAdmin(name.clone())),
            ));
        }
        let detail = json!({
            "principal": name,
            "before": snapshot(principal, live),
            "after": snapshot(principal, 0),
            "tokens": live,
        });
        let op = PrincipalWrite {
            action: "token.revoke",
            name,
            rows,
            detail,
        };
        self.principal_write(write, op).await?;
        Ok(live as u64)
    }

    /// The principal `name`, or [`PrincipalError::Unknown`].
    pub async fn existing_principal(&self, name: &str) -> Result<Principal> {
        self.principal(name)
            .await?
            .ok_or_else(|| PrincipalError::Unknown(name.to_owned()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_names_are_printable_and_unambiguous() {
        for good in [
            "ada",
            "mes-bridge",
            "Zoë Müller",
            "svc/sim 0.1",
            &"x".repeat(128),
        ] {
            assert_eq!(check_principal_name(good), Ok(()), "{good:?}");
        }
        let refused = |name: &str| match check_principal_name(name) {
            Err(PrincipalError::Name(why)) => why,
            other => panic!("{name:?} passed: {other:?}"),
        };
        assert!(refused("").contains("empty"));
        assert!(refused(&"é".repeat(129)).contains("129 characters"));
        assert!(refused("ada\u{7}").contains("character 4 is U+0007"));
        assert!(refused("ad\u{200B}a").contains("U+200B"));
        assert!(refused("line\nbreak").contains("U+000A"));
        assert!(refused(" ada").contains("white space"));
        assert!(refused("person:ada").contains("`:`"));
        assert!(refused("psn_0123456789abcdef01234567").contains("pseudonym"));
    }
}
