//! Governance persistence: principals and their API tokens (argon2id-hashed), proposals and
//! their approvals, and the pseudonym key.
//!
//! Every write here goes through the store's one audited write path: it takes the writer lock,
//! builds the next chained audit record with `Writer::audit_record`, and inserts it with
//! `sqlite::insert_audit` in the same transaction as its own rows, exactly like an event
//! append. The audit detail of a governance write names `modified_by` (the engine and version,
//! e.g. `mixplane-scheduler/0.1.0`, or the person), the principal's role, the source event
//! and, when a change was applied or rolled back, the sink's answer.
//!
//! # Token hashing
//!
//! Tokens are `mxp_<id>_<secret>` with a 16-hex-digit id and a 256-bit secret from the OS
//! random generator; the store keeps only the argon2id PHC string of the whole token, found by
//! its id. [`TokenHashing::Standard`] is OWASP's minimum (19 MiB, 2 passes, 1 lane, ~20 ms
//! optimised); [`TokenHashing::Fast`] (1 MiB, 1 pass) is for tests and demos that create many
//! tokens — verification reads the parameters from the stored hash, so both verify alike.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use govern::{ActionKind, Principal, PrincipalKind, Proposal, Role, Scope, Status};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::error::{Context, Result, StoreError};
use crate::store::{Backend, Store, now_ms};
use crate::types::{Actor, ActorKind, Page};

/// How expensive token hashes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenHashing {
    /// argon2id, 19 MiB, 2 passes, 1 lane (OWASP's recommended minimum).
    #[default]
    Standard,
    /// argon2id, 1 MiB, 1 pass: fast enough for tests that create many tokens.
    Fast,
}

impl TokenHashing {
    fn argon2(self) -> Argon2<'static> {
        let (memory_kib, passes) = match self {
            TokenHashing::Standard => (19 * 1024, 2),
            TokenHashing::Fast => (1024, 1),
        };
        let params = Params::new(memory_kib, passes, 1, None).expect("valid argon2 parameters");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
}

/// A token just created: the only time its secret is seen.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub principal: Principal,
    pub token_id: String,
    /// `mxp_<id>_<secret>`; show it once, it is not stored.
    pub token: String,
}

/// A proposal as stored, with its row version (for optimistic concurrency).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProposal {
    pub proposal: Proposal,
    pub version: i64,
}

/// Which proposals [`Store::proposals`] returns, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProposalFilter {
    pub status: Option<Status>,
    pub kind: Option<ActionKind>,
    pub area: Option<String>,
    /// Only these areas (a caller's scope); none for every area.
    pub areas_in: Option<Vec<String>>,
    pub limit: u32,
    pub offset: u32,
}

impl Default for ProposalFilter {
    fn default() -> ProposalFilter {
        ProposalFilter {
            status: None,
            kind: None,
            area: None,
            areas_in: None,
            limit: 100,
            offset: 0,
        }
    }
}

/// Who makes a governance write and what the audit record says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct GovernanceWrite {
    /// The authenticated principal (or the CLI user, or the policy itself).
    pub actor: Actor,
    /// The principal's role, when there is one.
    pub role: Option<Role>,
    /// The engine and version (`mixplane-scheduler/0.1.0`) or the person that made the change.
    pub modified_by: String,
    /// The event that triggered it, if any.
    pub source_event: Option<String>,
    /// The sink's answer, for applications and rollbacks.
    pub sink: Option<Value>,
}

impl GovernanceWrite {
    /// A write by `actor` that modifies as that actor.
    pub fn by(actor: Actor, role: Option<Role>) -> GovernanceWrite {
        GovernanceWrite {
            modified_by: actor.id.clone(),
            actor,
            role,
            source_event: None,
            sink: None,
        }
    }

    fn detail(&self, extra: Value) -> Value {
        let mut detail = json!({
            "modified_by": self.modified_by,
            "role": self.role.map(Role::as_str),
            "source_event": self.source_event,
        });
        if let Some(sink) = &self.sink {
            detail["sink"] = sink.clone();
        }
        if let (Value::Object(into), Value::Object(from)) = (&mut detail, extra) {
            into.extend(from);
        }
        detail
    }
}

/// The audit actor for a principal.
pub fn actor_of(principal: &Principal) -> Actor {
    let kind = match principal.kind {
        PrincipalKind::Person => ActorKind::Person,
        PrincipalKind::Service => ActorKind::Service,
        PrincipalKind::Agent => ActorKind::Agent,
    };
    Actor::new(kind, principal.id.clone())
}

/// A bound parameter of a governance statement.
#[derive(Debug, Clone)]
enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    Blob(Vec<u8>),
}

/// One statement of a governance write; `must_change` statements that change no row abort
/// the write (a concurrent decision won).
#[derive(Debug, Clone)]
struct Stmt {
    sql: &'static str,
    args: Vec<Arg>,
    must_change: bool,
}

impl Stmt {
    fn new(sql: &'static str, args: Vec<Arg>) -> Stmt {
        Stmt {
            sql,
            args,
            must_change: false,
        }
    }
}

fn text(value: impl Into<String>) -> Arg {
    Arg::Text(value.into())
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buffer);
    crate::audit::hex(&buffer)
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn principal_row(row: &SqliteRow) -> Result<Principal> {
    let get = |i: usize| row.try_get::<String, _>(i).ctx("reading a principal");
    let (id, kind, role, scope) = (get(0)?, get(1)?, get(2)?, get(3)?);
    Ok(Principal {
        kind: kind.parse().map_err(corrupt)?,
        role: role.parse().map_err(corrupt)?,
        scope: scope.parse().map_err(corrupt)?,
        id,
    })
}

fn proposal_row(row: &SqliteRow) -> Result<StoredProposal> {
    let body: String = row.try_get(0).ctx("reading a proposal")?;
    let version: i64 = row.try_get(1).ctx("reading a proposal")?;
    let proposal = serde_json::from_str(&body)
        .map_err(|e| corrupt(format!("proposal row does not decode: {e}")))?;
    Ok(StoredProposal { proposal, version })
}

fn decision_rows(proposal: &Proposal, from: usize) -> Vec<Stmt> {
    proposal
        .decisions
        .iter()
        .enumerate()
        .skip(from)
        .map(|(seq, d)| {
            Stmt::new(
                "INSERT INTO approvals (proposal_id, seq, principal_id, role, decision, at, comment)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
                vec![
                    text(&proposal.id),
                    Arg::Int(seq as i64 + 1),
                    text(&d.principal),
                    text(d.role.as_str()),
                    text(match d.decision {
                        govern::DecisionKind::Approve => "approve",
                        govern::DecisionKind::Reject => "reject",
                    }),
                    Arg::Int(d.at.0),
                    Arg::OptText(d.comment.clone()),
                ],
            )
        })
        .collect()
}

impl Store {
    fn pool(&self) -> &sqlx::SqlitePool {
        let Backend::Sqlite(pool) = &self.inner.backend;
        pool
    }

    /// The one audited write path, for governance rows: the statements and one chained audit
    /// record commit together or not at all. Returns false (and writes nothing) when a
    /// `must_change` statement changed no row.
    async fn governed_write(
        &self,
        actor: Actor,
        action: &'static str,
        subject: String,
        detail: Value,
        statements: Vec<Stmt>,
    ) -> Result<bool> {
        self.spawn_write(move |inner| async move {
            let mut writer = inner.lock_writer().await?;
            let record = writer.audit_record(&actor, action, subject, &detail, now_ms());
            let Backend::Sqlite(pool) = &inner.backend;
            let mut tx = pool.begin().await.ctx("beginning a transaction")?;
            for statement in &statements {
                let mut query = sqlx::query(statement.sql);
                for arg in &statement.args {
                    query = match arg {
                        Arg::Text(v) => query.bind(v.as_str()),
                        Arg::OptText(v) => query.bind(v.as_deref()),
                        Arg::Int(v) => query.bind(*v),
                        Arg::Blob(v) => query.bind(v.as_slice()),
                    };
                }
                let done = query
                    .execute(&mut *tx)
                    .await
                    .ctx("writing governance data")?;
                if statement.must_change && done.rows_affected() == 0 {
                    tx.rollback().await.ctx("rolling back")?;
                    return Ok(false);
                }
            }
            crate::sqlite::insert_audit(&mut tx, &record).await?;
            tx.commit().await.ctx("committing")?;
            writer.audited(record);
            Ok(true)
        })
        .await
    }

    /// Creates the principal `name` (or updates its kind, role and scope) and issues it a new
    /// token. Audited as `token.create`; the token itself is never stored or audited.
    pub async fn create_token(
        &self,
        name: &str,
        kind: PrincipalKind,
        role: Role,
        scope: Scope,
        hashing: TokenHashing,
        write: GovernanceWrite,
    ) -> Result<IssuedToken> {
        let name = name.trim();
        if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
            return Err(StoreError::BadFilter {
                field: "name".into(),
                message: "a principal name is 1 to 128 printable characters".into(),
            });
        }
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
            .map_err(|e| corrupt(format!("token hashing task failed: {e}")))?
            .map_err(|e| corrupt(format!("token hashing failed: {e}")))?
        };
        let principal = Principal::new(name, kind, role, scope);
        let now = now_ms();
        let statements = vec![
            Stmt::new(
                "INSERT INTO principals (id, kind, role, scope, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?)
                 ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, role = excluded.role,
                     scope = excluded.scope, updated_at = excluded.updated_at",
                vec![
                    text(name),
                    text(kind.as_str()),
                    text(role.as_str()),
                    text(principal.scope.to_string()),
                    Arg::Int(now),
                    Arg::Int(now),
                ],
            ),
            Stmt::new(
                "INSERT INTO tokens (id, principal_id, hash, created_at) VALUES (?, ?, ?, ?)",
                vec![text(&token_id), text(name), text(hash), Arg::Int(now)],
            ),
        ];
        let detail = write.detail(json!({
            "principal": name,
            "kind": kind.as_str(),
            "granted_role": role.as_str(),
            "scope": principal.scope.to_string(),
            "token_id": token_id,
        }));
        self.governed_write(
            write.actor,
            "token.create",
            format!("principal:{name}"),
            detail,
            statements,
        )
        .await?;
        Ok(IssuedToken {
            principal,
            token_id,
            token,
        })
    }

    /// Revokes every token of a principal. Audited as `token.revoke`; returns how many.
    pub async fn revoke_tokens(&self, name: &str, write: GovernanceWrite) -> Result<u64> {
        let live: i64 = sqlx::query(
            "SELECT COUNT(*) FROM tokens WHERE principal_id = ? AND revoked_at IS NULL",
        )
        .bind(name)
        .fetch_one(self.pool())
        .await
        .and_then(|row| row.try_get(0))
        .ctx("counting tokens")?;
        if live == 0 {
            return Ok(0);
        }
        let statements = vec![Stmt::new(
            "UPDATE tokens SET revoked_at = ? WHERE principal_id = ? AND revoked_at IS NULL",
            vec![Arg::Int(now_ms()), text(name)],
        )];
        let detail = write.detail(json!({ "principal": name, "tokens": live }));
        self.governed_write(
            write.actor,
            "token.revoke",
            format!("principal:{name}"),
            detail,
            statements,
        )
        .await?;
        Ok(live as u64)
    }

    /// The principal a token belongs to, if the token is well-formed, known, not revoked and
    /// its hash verifies. Takes one argon2 verification (run off the async threads).
    pub async fn authenticate(&self, token: &str) -> Result<Option<Principal>> {
        let Some(token_id) = token_id(token) else {
            return Ok(None);
        };
        let Some(row) = sqlx::query("SELECT hash FROM tokens WHERE id = ? AND revoked_at IS NULL")
            .bind(token_id)
            .fetch_optional(self.pool())
            .await
            .ctx("looking up a token")?
        else {
            return Ok(None);
        };
        let hash: String = row.try_get(0).ctx("looking up a token")?;
        let token_owned = token.to_owned();
        let verified = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash).is_ok_and(|parsed| {
                Argon2::default()
                    .verify_password(token_owned.as_bytes(), &parsed)
                    .is_ok()
            })
        })
        .await
        .map_err(|e| corrupt(format!("token verification task failed: {e}")))?;
        if !verified {
            return Ok(None);
        }
        self.token_principal(token_id).await
    }

    /// The principal of a live token id, without verifying a secret (for callers that cached
    /// a verified token and only need to know it is still live).
    pub async fn token_principal(&self, token_id: &str) -> Result<Option<Principal>> {
        sqlx::query(
            "SELECT p.id, p.kind, p.role, p.scope FROM tokens t JOIN principals p
             ON p.id = t.principal_id WHERE t.id = ? AND t.revoked_at IS NULL",
        )
        .bind(token_id)
        .fetch_optional(self.pool())
        .await
        .ctx("looking up a token's principal")?
        .as_ref()
        .map(principal_row)
        .transpose()
    }

    /// One principal by name.
    pub async fn principal(&self, name: &str) -> Result<Option<Principal>> {
        sqlx::query("SELECT id, kind, role, scope FROM principals WHERE id = ?")
            .bind(name)
            .fetch_optional(self.pool())
            .await
            .ctx("reading a principal")?
            .as_ref()
            .map(principal_row)
            .transpose()
    }

    /// Every principal, by name.
    pub async fn principals(&self) -> Result<Vec<Principal>> {
        sqlx::query("SELECT id, kind, role, scope FROM principals ORDER BY id")
            .fetch_all(self.pool())
            .await
            .ctx("reading principals")?
            .iter()
            .map(principal_row)
            .collect()
    }

    /// Stores a new proposal. Audited as `proposal.create` with its evidence's engine as
    /// `modified_by`, its trigger and its input hash.
    pub async fn insert_proposal(&self, proposal: &Proposal, write: GovernanceWrite) -> Result<()> {
        let body = serde_json::to_string(proposal).expect("proposals serialise");
        let mut statements = vec![Stmt::new(
            "INSERT INTO proposals (id, kind, site, area, status, proposed_by, proposed_at,
                 expires_at, version, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
            vec![
                text(&proposal.id),
                text(proposal.kind.as_str()),
                text(&proposal.site),
                text(&proposal.area),
                text(proposal.status.as_str()),
                text(&proposal.proposed_by),
                Arg::Int(proposal.proposed_at.0),
                Arg::Int(proposal.expires_at.0),
                text(body),
            ],
        )];
        statements.extend(decision_rows(proposal, 0));
        let detail = write.detail(json!({
            "kind": proposal.kind,
            "area": proposal.area,
            "status": proposal.status,
            "autonomy": proposal.autonomy,
            "gate": proposal.gate,
            "engine": proposal.evidence.modified_by(),
            "input_sha256": proposal.evidence.input_sha256,
            "trigger": proposal.evidence.trigger,
            "changes": proposal.diff.len(),
        }));
        self.governed_write(
            write.actor,
            "proposal.create",
            format!("proposal:{}", proposal.id),
            detail,
            statements,
        )
        .await
        .map(|_| ())
    }

    /// Stores a proposal's new state if it is still at `version` (else returns false and
    /// writes nothing: someone else decided first). Audited as `action` (`proposal.approve`,
    /// `proposal.reject`, `proposal.expire`, `proposal.apply`, `proposal.rollback`).
    pub async fn update_proposal(
        &self,
        proposal: &Proposal,
        version: i64,
        action: &'static str,
        write: GovernanceWrite,
    ) -> Result<bool> {
        let body = serde_json::to_string(proposal).expect("proposals serialise");
        let stored: i64 = sqlx::query("SELECT COUNT(*) FROM approvals WHERE proposal_id = ?")
            .bind(&proposal.id)
            .fetch_one(self.pool())
            .await
            .and_then(|row| row.try_get(0))
            .ctx("counting decisions")?;
        let mut statements = vec![Stmt {
            sql: "UPDATE proposals SET status = ?, version = version + 1, body = ?
                  WHERE id = ? AND version = ?",
            args: vec![
                text(proposal.status.as_str()),
                text(body),
                text(&proposal.id),
                Arg::Int(version),
            ],
            must_change: true,
        }];
        statements.extend(decision_rows(proposal, stored as usize));
        let detail = write.detail(json!({
            "status": proposal.status,
            "decisions": proposal.decisions.len(),
            "approvals": proposal.approvals().count(),
            "gate_approvals": proposal.gate.approvals,
        }));
        self.governed_write(
            write.actor,
            action,
            format!("proposal:{}", proposal.id),
            detail,
            statements,
        )
        .await
    }

    /// One proposal.
    pub async fn proposal(&self, id: &str) -> Result<Option<StoredProposal>> {
        sqlx::query("SELECT body, version FROM proposals WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .ctx("reading a proposal")?
            .as_ref()
            .map(proposal_row)
            .transpose()
    }

    /// Proposals matching the filter, newest first.
    pub async fn proposals(&self, filter: &ProposalFilter) -> Result<Page<Proposal>> {
        const WHERE: &str = "WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR kind = ?2)
            AND (?3 IS NULL OR area = ?3)
            AND (?4 IS NULL OR area IN (SELECT value FROM json_each(?4)))";
        let areas = filter
            .areas_in
            .as_ref()
            .map(|a| serde_json::to_string(a).expect("strings serialise"));
        let status = filter.status.map(Status::as_str);
        let kind = filter.kind.map(ActionKind::as_str);
        let limit = filter.limit.min(crate::MAX_PAGE);
        let total: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM proposals {WHERE}"))
            .bind(status)
            .bind(kind)
            .bind(filter.area.as_deref())
            .bind(areas.as_deref())
            .fetch_one(self.pool())
            .await
            .and_then(|row| row.try_get(0))
            .ctx("counting proposals")?;
        let items = sqlx::query(&format!(
            "SELECT body, version FROM proposals {WHERE}
             ORDER BY proposed_at DESC, id DESC LIMIT ?5 OFFSET ?6"
        ))
        .bind(status)
        .bind(kind)
        .bind(filter.area.as_deref())
        .bind(areas.as_deref())
        .bind(i64::from(limit))
        .bind(i64::from(filter.offset))
        .fetch_all(self.pool())
        .await
        .ctx("reading proposals")?
        .iter()
        .map(|row| proposal_row(row).map(|p| p.proposal))
        .collect::<Result<_>>()?;
        Ok(Page {
            items,
            total: total as u64,
            limit,
            offset: filter.offset,
        })
    }

    /// Deletes every proposal and decision (the demo starts afresh). Audited as
    /// `proposals.clear`.
    pub async fn clear_proposals(&self, write: GovernanceWrite) -> Result<()> {
        let statements = vec![
            Stmt::new("DELETE FROM approvals", vec![]),
            Stmt::new("DELETE FROM proposals", vec![]),
        ];
        let detail = write.detail(json!({}));
        self.governed_write(
            write.actor,
            "proposals.clear",
            "proposals".into(),
            detail,
            statements,
        )
        .await
        .map(|_| ())
    }

    /// The secret key of operator pseudonyms, created (audited as `pseudonym_key.create`) on
    /// first use.
    pub async fn pseudonym_key(&self) -> Result<Vec<u8>> {
        let read = || async {
            sqlx::query("SELECT value FROM governance_keys WHERE name = 'pseudonym'")
                .fetch_optional(self.pool())
                .await
                .ctx("reading the pseudonym key")?
                .map(|row| row.try_get::<Vec<u8>, _>(0))
                .transpose()
                .ctx("reading the pseudonym key")
        };
        if let Some(key) = read().await? {
            return Ok(key);
        }
        let mut key = vec![0u8; 32];
        OsRng.fill_bytes(&mut key);
        let statements = vec![Stmt::new(
            "INSERT INTO governance_keys (name, value, created_at) VALUES ('pseudonym', ?, ?)
             ON CONFLICT (name) DO NOTHING",
            vec![Arg::Blob(key), Arg::Int(now_ms())],
        )];
        self.governed_write(
            Actor::system("store/governance"),
            "pseudonym_key.create",
            "governance_keys:pseudonym".into(),
            json!({ "modified_by": "store/governance", "bits": 256 }),
            statements,
        )
        .await?;
        read()
            .await?
            .ok_or_else(|| corrupt("the pseudonym key vanished after it was created"))
    }

    /// Records a governance act that changes no table (resolving a pseudonym), so that it is
    /// in the audit trail.
    pub async fn audit_only(
        &self,
        action: &'static str,
        subject: String,
        extra: Value,
        write: GovernanceWrite,
    ) -> Result<()> {
        let detail = write.detail(extra);
        self.governed_write(write.actor, action, subject, detail, Vec::new())
            .await
            .map(|_| ())
    }
}

/// The id part of a well-formed token.
fn token_id(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("mxp_")?;
    let (id, secret) = rest.split_once('_')?;
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex(id, 16) && hex(secret, 64)).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_ids_parse_only_from_well_formed_tokens() {
        let token = format!("mxp_{}_{}", "a".repeat(16), "b".repeat(64));
        assert_eq!(token_id(&token), Some("aaaaaaaaaaaaaaaa"));
        assert_eq!(token_id("mxp_short_x"), None);
        assert_eq!(token_id("Bearer x"), None);
    }
}
