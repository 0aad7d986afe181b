//! Governance persistence: principals and their API tokens (argon2id-hashed), proposals and
//! their approvals, and the pseudonym key.
//!
//! Every write here goes through the store's one audited write path: it takes the writer lock,
//! hands the backend its rows ([`GovernanceRow`]) and the next chained audit record in one
//! transaction (`Store::audited`), exactly like an event append. The audit detail of a governance write names `modified_by` (the engine and version,
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
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use govern::{ActionKind, Principal, PrincipalKind, Proposal, Role, Scope, Status};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::backend::{GovernanceRow, PrincipalRow};
use crate::error::{Result, StoreError};
use crate::principals::PrincipalError;
use crate::store::{Entry, Store, now_ms};
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
    pub(crate) fn argon2(self) -> Argon2<'static> {
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
    /// Only proposals acting in none but these areas and not site-wide (an area-scoped
    /// caller's reach); none for every proposal.
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

    pub(crate) fn detail(&self, extra: Value) -> Value {
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

/// `bytes` random bytes from the operating system, in hex: token secrets, session ids.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buffer);
    model::wire::hex(&buffer)
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn principal(row: PrincipalRow) -> Result<Principal> {
    Ok(Principal {
        kind: row.kind.parse().map_err(corrupt)?,
        role: row.role.parse().map_err(corrupt)?,
        scope: row.scope.parse().map_err(corrupt)?,
        id: row.id,
    })
}

fn stored_proposal((body, version): (String, i64)) -> Result<StoredProposal> {
    let proposal = serde_json::from_str(&body)
        .map_err(|e| corrupt(format!("proposal row does not decode: {e}")))?;
    Ok(StoredProposal { proposal, version })
}

/// The decisions of `proposal` from the `from`th on, as rows.
fn decision_rows(proposal: &Proposal, from: usize) -> Vec<GovernanceRow> {
    proposal
        .decisions
        .iter()
        .enumerate()
        .skip(from)
        .map(|(seq, d)| GovernanceRow::Decision {
            proposal: proposal.id.clone(),
            seq: seq as i64 + 1,
            principal: d.principal.clone(),
            role: d.role,
            decision: match d.decision {
                govern::DecisionKind::Approve => "approve",
                govern::DecisionKind::Reject => "reject",
            },
            at: d.at.0,
            comment: d.comment.clone(),
        })
        .collect()
}

impl Store {
    /// The one audited write path, for governance rows: the rows and one chained audit record
    /// commit together or not at all. Returns false (and writes nothing) when a proposal
    /// update found another version.
    async fn governed_write(
        &self,
        actor: Actor,
        action: &'static str,
        subject: String,
        detail: Value,
        rows: Vec<GovernanceRow>,
    ) -> Result<bool> {
        self.audited(move |tx, _| {
            Box::pin(async move {
                for row in &rows {
                    if !tx.governance_row(row).await? {
                        return Ok((false, None));
                    }
                }
                let entry = Entry {
                    actor,
                    action,
                    subject,
                    detail,
                    at: now_ms(),
                };
                Ok((true, Some(entry)))
            })
        })
        .await
    }

    /// Issues `name` a token: creates the principal when the name is free, issues it another
    /// token when it exists with exactly this kind, role and scope, and refuses
    /// ([`PrincipalError::Exists`]) when it exists otherwise — a name is never rebound (change a
    /// principal with [`Store::update_principal`]). Audited as `principal.create` or
    /// `token.create`; the token itself is never stored or audited.
    pub async fn create_token(
        &self,
        name: &str,
        kind: PrincipalKind,
        role: Role,
        scope: Scope,
        hashing: TokenHashing,
        write: GovernanceWrite,
    ) -> Result<IssuedToken> {
        let wanted = Principal::new(name, kind, role, scope);
        match self.principal(name).await? {
            None => self.create_principal(&wanted, hashing, write).await,
            Some(existing) if existing == wanted => {
                self.issue_token(&existing, hashing, false, write).await
            }
            Some(_) => Err(PrincipalError::Exists(name.to_owned()).into()),
        }
    }

    /// Revokes every token of the principal `name` (none when there is no such principal);
    /// returns how many. Audited as `token.revoke`; refused for the last global administrator.
    pub async fn revoke_tokens(&self, name: &str, write: GovernanceWrite) -> Result<u64> {
        match self.principal(name).await? {
            Some(principal) => self.revoke_principal_tokens(&principal, write).await,
            None => Ok(0),
        }
    }

    /// The principal a token belongs to, if the token is well-formed, known, not revoked and
    /// its hash verifies. A well-formed token takes one argon2 verification (run off the async
    /// threads) whether its id is known or not: an unknown or revoked id is verified against
    /// [`decoy_hash`], so the time of the answer does not tell which ids exist. Callers that
    /// face the network bound how many of these run at once (the server's `TokenCache`).
    pub async fn authenticate(&self, token: &str) -> Result<Option<Principal>> {
        let Some(token_id) = token_id(token) else {
            return Ok(None);
        };
        let stored = self.inner.backend.token_hash(token_id).await?;
        let known = stored.is_some();
        let token_owned = token.to_owned();
        let verified = tokio::task::spawn_blocking(move || {
            // The decoy is made here, off the async threads, the first time it is needed.
            let hash = stored.as_deref().unwrap_or_else(|| decoy_hash());
            verify_token(token_owned.as_bytes(), hash)
        })
        .await
        .map_err(|e| corrupt(format!("token verification task failed: {e}")))?;
        if !(known && verified) {
            return Ok(None);
        }
        self.token_principal(token_id).await
    }

    /// The principal of a live token id, without verifying a secret (for callers that cached
    /// a verified token and only need to know it is still live).
    pub async fn token_principal(&self, token_id: &str) -> Result<Option<Principal>> {
        let row = self.inner.backend.token_principal(token_id).await?;
        row.map(principal).transpose()
    }

    /// One principal by name.
    pub async fn principal(&self, name: &str) -> Result<Option<Principal>> {
        let row = self.inner.backend.principal(name).await?;
        row.map(principal).transpose()
    }

    /// Every principal, by name.
    pub async fn principals(&self) -> Result<Vec<Principal>> {
        let rows = self.inner.backend.principals().await?;
        rows.into_iter().map(principal).collect()
    }

    /// Stores a new proposal. Audited as `proposal.create` with its evidence's engine as
    /// `modified_by`, its trigger and its input hash.
    pub async fn insert_proposal(&self, proposal: &Proposal, write: GovernanceWrite) -> Result<()> {
        let body = serde_json::to_string(proposal).expect("proposals serialise");
        let mut statements = vec![GovernanceRow::Proposal {
            id: proposal.id.clone(),
            kind: proposal.kind.as_str(),
            site: proposal.site.clone(),
            area: proposal.area.clone(),
            status: proposal.status.as_str(),
            proposed_by: proposal.proposed_by.clone(),
            proposed_at: proposal.proposed_at.0,
            expires_at: proposal.expires_at.0,
            body,
        }];
        statements.extend(decision_rows(proposal, 0));
        let detail = write.detail(json!({
            "kind": proposal.kind,
            "area": proposal.area,
            "areas": proposal.areas,
            "claims_corrected": proposal.checks.claims_corrected,
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
        let stored = self.inner.backend.decisions_stored(&proposal.id).await?;
        let mut statements = vec![GovernanceRow::ProposalUpdate {
            id: proposal.id.clone(),
            status: proposal.status.as_str(),
            body,
            version,
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
        let row = self.inner.backend.proposal(id).await?;
        row.map(stored_proposal).transpose()
    }

    /// Proposals matching the filter, newest first.
    pub async fn proposals(&self, filter: &ProposalFilter) -> Result<Page<Proposal>> {
        let limit = filter.limit.min(crate::MAX_PAGE);
        let (rows, total) = self.inner.backend.proposals(filter, limit).await?;
        let items = rows
            .into_iter()
            .map(|row| stored_proposal(row).map(|p| p.proposal))
            .collect::<Result<_>>()?;
        Ok(Page {
            items,
            total,
            limit,
            offset: filter.offset,
        })
    }

    /// Deletes every proposal and decision (the demo starts afresh). Audited as
    /// `proposals.clear`.
    pub async fn clear_proposals(&self, write: GovernanceWrite) -> Result<()> {
        let statements = vec![GovernanceRow::ClearProposals];
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
        let read = || self.inner.backend.pseudonym_key();
        if let Some(key) = read().await? {
            return Ok(key);
        }
        let mut key = vec![0u8; 32];
        OsRng.fill_bytes(&mut key);
        let statements = vec![GovernanceRow::PseudonymKey { key, at: now_ms() }];
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
/// argon2 working memory kept between verifications: at most this many buffers (of 19 MiB
/// for a standard hash) are kept; more verifications at once allocate and free their own.
const KEPT_BUFFERS: usize = 4;

static BUFFERS: std::sync::Mutex<Vec<Vec<Block>>> = std::sync::Mutex::new(Vec::new());

/// Whether `token` hashes to the argon2 PHC string `phc`, with the parameters, salt and
/// output length it names, compared in constant time (as `PasswordVerifier` does).
///
/// Its working memory comes from [`BUFFERS`] and goes back there: argon2's own verifier
/// allocates 19 MiB each time, and the allocator keeps such blocks per thread arena, so
/// verifications spread over the blocking threads left hundreds of MB resident.
fn verify_token(token: &[u8], phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let needed = params.block_count();
    let mut blocks = {
        let mut kept = BUFFERS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match kept.iter().position(|b| b.len() >= needed) {
            Some(at) => kept.swap_remove(at),
            None => vec![Block::default(); needed],
        }
    };
    let argon2 = Argon2::new(algorithm, version, params);
    let computed = Output::init_with(expected.len(), |out| {
        Ok(argon2.hash_password_into_with_memory(token, salt, out, &mut blocks[..])?)
    });
    let mut kept = BUFFERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if kept.len() < KEPT_BUFFERS {
        kept.push(blocks);
    }
    // `Output`'s equality is constant-time.
    computed.is_ok_and(|computed| computed == expected)
}

/// The argon2id hash an unknown or revoked token id is verified against: of a random secret
/// nobody holds, with the parameters of [`TokenHashing::Standard`] (those of every token the
/// service issues), made once per process.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let secret = random_hex(32);
        TokenHashing::Standard
            .argon2()
            .hash_password(secret.as_bytes(), &SaltString::generate(&mut OsRng))
            .expect("hashing a random secret with valid parameters")
            .to_string()
    })
}

/// The id of a well-formed token (`mxp_<16 hex digits>_<64 hex digits>`), without looking
/// it up; `None` for anything else.
pub fn token_id(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("mxp_")?;
    let (id, secret) = rest.split_once('_')?;
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex(id, 16) && hex(secret, 64)).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_against_their_hash_and_nothing_else() {
        let salt = SaltString::generate(&mut OsRng);
        for hashing in [TokenHashing::Fast, TokenHashing::Standard] {
            let hash = hashing
                .argon2()
                .hash_password(b"mxp_right", &salt)
                .unwrap()
                .to_string();
            // Twice: the second reuses the kept working memory.
            for _ in 0..2 {
                assert!(verify_token(b"mxp_right", &hash));
                assert!(!verify_token(b"mxp_wrong", &hash));
            }
        }
        assert!(!verify_token(b"mxp_right", "not a PHC string"));
        assert!(!verify_token(b"mxp_right", decoy_hash()));
        assert!(BUFFERS.lock().unwrap().len() <= KEPT_BUFFERS);
    }

    #[test]
    fn token_ids_parse_only_from_well_formed_tokens() {
        let token = format!("mxp_{}_{}", "a".repeat(16), "b".repeat(64));
        assert_eq!(token_id(&token), Some("aaaaaaaaaaaaaaaa"));
        assert_eq!(token_id("mxp_short_x"), None);
        assert_eq!(token_id("Bearer x"), None);
    }
}
