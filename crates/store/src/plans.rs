//! Persistence of the plan in force: numbered plan versions and the candidate plans that
//! proposals carry.
//!
//! The store keeps plans as opaque JSON bodies with a few columns for lookups; what a plan is
//! (a schedule with its horizon, KPIs and provenance) is `app`'s business. Every write goes
//! through the store's one audited write path (`Store::audited`): the rows and one chained
//! audit record commit together. Putting a version in force ([`Store::put_plan`]) also stores,
//! in the same transaction, the proposals it expires (their candidates started from an older
//! plan), so the plan in force and the proposals still waiting never disagree.

use govern::Status;
use model::Timestamp;
use serde_json::{Value, json};

use crate::backend::GovernanceRow;
use crate::backend::PlanRow;
use crate::error::{Result, StoreError};
use crate::govern::{GovernanceWrite, StoredProposal};
use crate::store::{Entry, Store, now_ms};

/// A plan version as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPlan {
    /// 1 for the first plan put in force; the highest is in force.
    pub version: u64,
    pub made_at: Timestamp,
    /// The principal that made it (or under whose proposal it was made).
    pub made_by: String,
    /// The proposal it came from.
    pub proposal: Option<String>,
    /// The version it replaced.
    pub basis: Option<u64>,
    /// The plan itself (JSON, the caller's format).
    pub body: Value,
}

/// A proposal's candidate plan.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCandidate {
    pub proposal: String,
    /// The version in force it started from; none when no plan was in force.
    pub basis: Option<u64>,
    pub created_at: Timestamp,
    pub body: Value,
}

/// At most this many plan versions are read at once.
pub const MAX_PLAN_VERSIONS: u32 = 100;

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn stored_plan(row: PlanRow) -> Result<StoredPlan> {
    let body = serde_json::from_str(&row.body)
        .map_err(|e| corrupt(format!("plan version {} does not decode: {e}", row.version)))?;
    Ok(StoredPlan {
        version: row.version as u64,
        made_at: Timestamp(row.made_at),
        made_by: row.made_by,
        proposal: row.proposal,
        basis: row.basis.map(|b| b as u64),
        body,
    })
}

impl Store {
    /// The plan in force (the highest version), if a plan was ever put in force.
    pub async fn plan_in_force(&self) -> Result<Option<StoredPlan>> {
        self.inner
            .backend
            .plan_latest()
            .await?
            .map(stored_plan)
            .transpose()
    }

    /// One plan version.
    pub async fn plan_version(&self, version: u64) -> Result<Option<StoredPlan>> {
        let version = i64::try_from(version).unwrap_or(i64::MAX);
        self.inner
            .backend
            .plan_version(version)
            .await?
            .map(stored_plan)
            .transpose()
    }

    /// Plan versions newest first, at most `limit` (and [`MAX_PLAN_VERSIONS`]).
    pub async fn plan_versions(&self, limit: u32) -> Result<Vec<StoredPlan>> {
        self.plan_versions_before(None, limit.min(MAX_PLAN_VERSIONS))
            .await
    }

    /// Plan versions numbered below `before` (all when `None`), newest first, at most `limit`
    /// (capped one above [`MAX_PLAN_VERSIONS`], so that a pager reading a full page and one
    /// more knows there is a next): the keyset pages of the history.
    pub async fn plan_versions_before(
        &self,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<StoredPlan>> {
        let limit = i64::from(limit.min(MAX_PLAN_VERSIONS + 1));
        let before = before.map_or(i64::MAX, |v| i64::try_from(v).unwrap_or(i64::MAX));
        let rows = self.inner.backend.plan_versions(before, limit).await?;
        rows.into_iter().map(stored_plan).collect()
    }

    /// The latest plan version made from `proposal`.
    pub async fn plan_of_proposal(&self, proposal: &str) -> Result<Option<StoredPlan>> {
        self.inner
            .backend
            .plan_of_proposal(proposal)
            .await?
            .map(stored_plan)
            .transpose()
    }

    /// The candidate plan `proposal` carries.
    pub async fn plan_candidate(&self, proposal: &str) -> Result<Option<StoredCandidate>> {
        let Some((basis, at, body)) = self.inner.backend.plan_candidate(proposal).await? else {
            return Ok(None);
        };
        let body = serde_json::from_str(&body).map_err(|e| {
            corrupt(format!(
                "the candidate plan of `{proposal}` does not decode: {e}"
            ))
        })?;
        Ok(Some(StoredCandidate {
            proposal: proposal.to_owned(),
            basis: basis.map(|b| b as u64),
            created_at: Timestamp(at),
            body,
        }))
    }

    /// Ids of the proposals still waiting (proposed or approved) whose candidate plan started
    /// from a version older than `version`, or from none; oldest first.
    pub async fn pending_candidates_before(&self, version: u64) -> Result<Vec<String>> {
        let version = i64::try_from(version).unwrap_or(i64::MAX);
        self.inner.backend.pending_candidates_before(version).await
    }

    /// Stores `body` as the candidate plan of `proposal` (which must exist), started from
    /// version `basis`. Audited as `plan.candidate`.
    pub async fn insert_plan_candidate(
        &self,
        proposal: &str,
        basis: Option<u64>,
        body: &Value,
        write: GovernanceWrite,
    ) -> Result<()> {
        let text = serde_json::to_string(body).expect("JSON values serialise");
        let detail = write.detail(json!({ "basis": basis, "bytes": text.len() }));
        let proposal = proposal.to_owned();
        self.audited(move |tx, _| {
            Box::pin(async move {
                let basis = basis.map(|b| b as i64);
                tx.insert_plan_candidate(&proposal, basis, now_ms(), &text)
                    .await?;
                let entry = Entry {
                    actor: write.actor,
                    action: "plan.candidate",
                    subject: format!("proposal:{proposal}"),
                    detail,
                    at: now_ms(),
                };
                Ok(((), Some(entry)))
            })
        })
        .await
    }

    /// Puts `plan` in force as version `plan.version`, and stores each of `expire` (proposals
    /// whose candidates it supersedes, their status set to expired by the caller) at their
    /// row version, all with one audit record (`plan.adopt`, naming the version, what it
    /// replaced, the proposal it came from, `reason`, and every proposal expired with
    /// `expiry_reason`). Returns false and writes nothing when another version was put in
    /// force first, or one of the proposals changed since it was read: read again and retry.
    pub async fn put_plan(
        &self,
        plan: StoredPlan,
        reason: &str,
        expire: Vec<StoredProposal>,
        expiry_reason: &str,
        write: GovernanceWrite,
    ) -> Result<bool> {
        for stored in &expire {
            if stored.proposal.status != Status::Expired {
                return Err(corrupt(format!(
                    "proposal `{}` is {}, not expired, in a plan write",
                    stored.proposal.id, stored.proposal.status
                )));
            }
        }
        let detail = write.detail(json!({
            "version": plan.version,
            "basis": plan.basis,
            "proposal": plan.proposal,
            "made_by": plan.made_by,
            "reason": reason,
            "expired": expire.iter().map(|s| json!({
                "proposal": s.proposal.id,
                "reason": expiry_reason,
            })).collect::<Vec<_>>(),
        }));
        let row = PlanRow {
            version: plan.version as i64,
            made_at: plan.made_at.0,
            made_by: plan.made_by,
            proposal: plan.proposal,
            basis: plan.basis.map(|b| b as i64),
            body: serde_json::to_string(&plan.body).expect("JSON values serialise"),
        };
        let updates: Vec<GovernanceRow> = expire
            .iter()
            .map(|s| GovernanceRow::ProposalUpdate {
                id: s.proposal.id.clone(),
                status: s.proposal.status.as_str(),
                body: serde_json::to_string(&s.proposal).expect("proposals serialise"),
                version: s.version,
            })
            .collect();
        self.audited(move |tx, _| {
            Box::pin(async move {
                if !tx.insert_plan_version(&row).await? {
                    return Ok((false, None));
                }
                for update in &updates {
                    if !tx.governance_row(update).await? {
                        return Ok((false, None));
                    }
                }
                let entry = Entry {
                    actor: write.actor,
                    action: "plan.adopt",
                    subject: format!("plan:{}", row.version),
                    detail,
                    at: now_ms(),
                };
                Ok((true, Some(entry)))
            })
        })
        .await
    }

    /// Deletes every plan version and candidate (the demo starts afresh). Audited as
    /// `plans.clear`.
    pub async fn clear_plans(&self, write: GovernanceWrite) -> Result<()> {
        let detail = write.detail(json!({}));
        self.audited(move |tx, _| {
            Box::pin(async move {
                tx.clear_plans().await?;
                let entry = Entry {
                    actor: write.actor,
                    action: "plans.clear",
                    subject: "plans".into(),
                    detail,
                    at: now_ms(),
                };
                Ok(((), Some(entry)))
            })
        })
        .await
    }
}
