//! Proposals: a change an engine, agent or person wants to make, with its evidence and its
//! diff, and the lifecycle that decides whether and when it is applied.
//!
//! ```text
//!            ┌──────────► rejected
//! proposed ──┼──────────► expired            (not approved before `expires_at`)
//!            └─► approved ─► applied ─► rolled_back
//! ```
//!
//! A proposal's [`Gate`] is fixed from the policy when it is proposed: zero approvals (it is
//! approved at once and applies by itself — `closed_loop`, or `assisted` within thresholds)
//! or one or two (four-eyes) approvals from the rule's approver roles. Every transition
//! checks the acting [`Principal`]: its role, its scope over every area the proposal's diff
//! touches, and that nobody approves their own proposal and no agent approves at all.
//!
//! The gate is decided on the server's [`Assessment`] of the diff, never on what the
//! proposer declares: the kind must be one the diff implies, the areas are those the diff
//! touches (the proposer's `area` is only the primary one, corrected when the diff does not
//! touch it), the sizes and priorities are computed, and every claim the assessment
//! contradicts is recorded in [`Proposal::checks`].

use std::collections::BTreeMap;
use std::fmt;

use model::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::evidence::{Assessment, Checks, ClaimCorrection, correct_claims, describe, kinds_text};
use crate::policy::{Autonomy, Gate, Policy};
use crate::rbac::{Hierarchy, Permission, Principal, PrincipalKind, Role};

/// What kind of change a proposal makes; policies are set per kind.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    ScheduleChange,
    ResourceTransfer,
    QualityHold,
    NcDisposition,
    WorkInstructionChange,
}

model::wire_enum!(
    ActionKind,
    "action kind",
    [
        ScheduleChange,
        ResourceTransfer,
        QualityHold,
        NcDisposition,
        WorkInstructionChange
    ]
);

/// What made the engine propose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Trigger {
    /// An event in the log.
    Event { event_id: String },
    /// A principal asked (a planner pressing "re-plan", an agent's own initiative).
    Principal { principal: String },
    /// A quality alert: the last result of the signalling point (`event_id`) and what the
    /// alert found — rules, point, limits, the items held and the genealogy reaching them.
    /// For the reviewer: the gate is decided on the diff's assessment, not on the finding.
    QualityAlert {
        event_id: String,
        finding: Box<crate::finding::AlertFinding>,
    },
}

/// Why a proposal should be trusted: what it was computed from, by what, and what it gains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// SHA-256 (hex) of the input snapshot the engine read.
    pub input_sha256: String,
    /// Engine name, e.g. `mixplane-scheduler`.
    pub engine: String,
    /// Engine version, e.g. `0.1.0`.
    pub engine_version: String,
    pub trigger: Trigger,
    #[serde(default)]
    pub kpis_before: BTreeMap<String, f64>,
    #[serde(default)]
    pub kpis_after: BTreeMap<String, f64>,
}

impl Evidence {
    /// `engine/version`, what the audit trail records as `modified_by`.
    pub fn modified_by(&self) -> String {
        format!("{}/{}", self.engine, self.engine_version)
    }
}

/// An open set of names: the ones mixplane knows as variants, any other kept by its name.
/// The wire form is the name alone (`"order"`, `"overtime_windows"`), so an edge or an MES
/// may name kinds and fields this version does not know; mixplane's own code matches the
/// variants instead of comparing strings.
macro_rules! open_names {
    ($(#[$doc:meta])* $ty:ident { $($(#[$vdoc:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $ty {
            $($(#[$vdoc])* $variant,)+
            /// A name this version has no variant for.
            #[serde(untagged)]
            Other(String),
        }

        impl $ty {
            /// The wire name.
            pub fn as_str(&self) -> &str {
                match self {
                    $ty::Other(name) => name,
                    known => model::wire::name_of(known),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// The variant a name stands for (a known name never becomes `Other`).
        impl From<&str> for $ty {
            fn from(name: &str) -> $ty {
                let name: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
                    serde::de::value::StrDeserializer::new(name);
                $ty::deserialize(name).expect("an open set takes any name")
            }
        }

        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}

open_names!(
    /// What kind of object a change is to.
    Entity {
        Order,
        Operation,
        Unit,
        Pool,
        Lot,
        /// A serial number (its field `hold`).
        Serial,
        PoolMember,
    }
);

open_names!(
    /// Which field of the object changes.
    Field {
        Due,
        Priority,
        Quantity,
        State,
        /// The unit an operation runs on.
        Unit,
        /// When an operation starts.
        Start,
        OvertimeWindows,
        /// A quality hold on a lot, serial or order: `null` when there is none, else
        /// `{"reason", "severity", "alert", "link"}` ([`crate::evidence::HoldValue`]).
        Hold,
    }
);

/// One field of one object changing from `before` to `after`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// What kind of object: `order`, `operation`, `unit`, `lot`, `pool_member`, …
    #[schemars(with = "String")]
    pub entity: Entity,
    pub id: String,
    #[schemars(with = "String")]
    pub field: Field,
    pub before: Value,
    pub after: Value,
    /// For time moves: how far the object moves, in minutes (signed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift_minutes: Option<i64>,
    /// The object belongs to a high-priority order.
    #[serde(default)]
    pub high_priority: bool,
}

impl Change {
    /// The change that undoes this one.
    pub fn inverse(&self) -> Change {
        Change {
            before: self.after.clone(),
            after: self.before.clone(),
            shift_minutes: self.shift_minutes.map(|m| -m),
            ..self.clone()
        }
    }

    /// The diff that undoes `diff`: each change inverted, in reverse order.
    pub fn inverse_diff(diff: &[Change]) -> Vec<Change> {
        diff.iter().rev().map(Change::inverse).collect()
    }

    /// Distinct objects (entity and id) a diff changes: what thresholds count as operations.
    pub fn objects_changed(diff: &[Change]) -> usize {
        diff.iter()
            .map(|c| (c.entity.as_str(), c.id.as_str()))
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    }
}

/// Longest proposal title, in characters: a title is a line in an inbox, not a document.
pub const MAX_TITLE_CHARS: usize = 200;

/// What a proposer submits; the rest of a [`Proposal`] is decided by [`Proposal::propose`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalDraft {
    /// Must be a kind the diff implies (see [`crate::evidence`]).
    pub kind: ActionKind,
    /// The proposer's primary area. Only a claim: the proposal's areas are every area its
    /// diff touches, and this one is kept only when the diff touches it.
    pub area: String,
    pub title: String,
    pub evidence: Evidence,
    pub diff: Vec<Change>,
}

/// Approve or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Approve,
    Reject,
}

/// One principal's decision on a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Decision {
    pub principal: String,
    pub kind: PrincipalKind,
    pub role: Role,
    pub decision: DecisionKind,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A change sent to a sink, and what the sink answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Outcome {
    /// The principal that applied it, or `policy:<autonomy>` when it applied by itself.
    pub by: String,
    pub at: Timestamp,
    /// The sink's name: `mes-sim`, `file`, `mes`.
    pub sink: String,
    /// The sink's answer, as it gave it.
    pub answer: Value,
}

/// Where a proposal is in its lifecycle.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Proposed,
    Approved,
    Rejected,
    Expired,
    Applied,
    RolledBack,
}

model::wire_enum!(
    Status,
    "status",
    [Proposed, Approved, Rejected, Expired, Applied, RolledBack]
);

/// A proposed change with its evidence, gate, decisions and outcomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Proposal {
    pub id: String,
    pub kind: ActionKind,
    pub site: String,
    /// The primary area (the proposer's, when the diff touches it).
    pub area: String,
    /// Every area the diff touches, computed by the server; deciding, applying and reading
    /// need scope over all of them. Empty only in proposals stored before it was kept (then
    /// `area` is the one).
    #[serde(default)]
    pub areas: Vec<String>,
    pub title: String,
    pub proposed_by: String,
    pub proposed_by_kind: PrincipalKind,
    pub proposed_at: Timestamp,
    pub expires_at: Timestamp,
    pub evidence: Evidence,
    pub diff: Vec<Change>,
    /// What the server computed beside the proposer's claims.
    #[serde(default)]
    pub checks: Checks,
    /// The autonomy of the rule that set the gate.
    pub autonomy: Autonomy,
    pub gate: Gate,
    pub status: Status,
    #[serde(default)]
    pub decisions: Vec<Decision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back: Option<Outcome>,
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GovernError {
    /// The principal may not do this (role, scope, own proposal, agent): HTTP 403.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The proposal is not in a state that allows this: HTTP 409.
    #[error("{0}")]
    Conflict(String),
    /// The proposal itself is malformed: HTTP 422.
    #[error("invalid proposal: {0}")]
    Invalid(String),
    /// A change's `before` is not the plant's current value: HTTP 409.
    #[error("stale proposal: {0}")]
    Stale(String),
}

impl Proposal {
    /// Checks the proposer and the draft against the server's `assessment` of its diff
    /// ([`crate::evidence::assess`]), and fixes the gate and expiry from the policy: the
    /// strictest over the rules of every area the diff touches. A proposal that needs no
    /// approval starts out approved.
    pub fn propose(
        id: impl Into<String>,
        mut draft: ProposalDraft,
        proposer: &Principal,
        policy: &Policy,
        hierarchy: &Hierarchy,
        assessment: &Assessment,
        now: Timestamp,
    ) -> Result<Proposal, GovernError> {
        if !proposer.role.allows(Permission::ProposeChanges) {
            return Err(GovernError::Forbidden(format!(
                "role {} may not propose changes",
                proposer.role
            )));
        }
        if draft.diff.is_empty() {
            return Err(GovernError::Invalid("the diff is empty".into()));
        }
        if assessment.changes.len() != draft.diff.len() {
            return Err(GovernError::Invalid(format!(
                "the assessment covers {} change(s), the diff has {}",
                assessment.changes.len(),
                draft.diff.len()
            )));
        }
        let title_chars = draft.title.chars().count();
        if draft.title.trim().is_empty()
            || title_chars > MAX_TITLE_CHARS
            || draft.title.chars().any(char::is_control)
        {
            return Err(GovernError::Invalid(format!(
                "title: 1 to {MAX_TITLE_CHARS} characters without control characters \
                 ({title_chars} given)"
            )));
        }
        if draft.evidence.engine.trim().is_empty()
            || draft.evidence.engine_version.trim().is_empty()
        {
            return Err(GovernError::Invalid(
                "the evidence must name the engine and its version".into(),
            ));
        }
        for (index, (change, real)) in draft.diff.iter().zip(&assessment.changes).enumerate() {
            if !real.kinds.is_empty() && !real.kinds.contains(&draft.kind) {
                return Err(GovernError::Invalid(format!(
                    "kind: {} is a {} change, not {}; file it under its own kind (a diff of \
                     several kinds is split into one proposal per kind)",
                    describe(index, change),
                    kinds_text(&real.kinds),
                    draft.kind
                )));
            }
        }
        let (area, areas, mut corrected) = Self::areas_of(&draft, hierarchy, assessment)?;
        let scoped = Scoped {
            site: &hierarchy.site,
            areas: &areas,
            site_wide: assessment.site_wide,
        };
        if let Some(gap) = scoped.gap(proposer, hierarchy) {
            return Err(GovernError::Forbidden(format!(
                "the diff acts in {gap}, outside {}'s scope {}",
                proposer.id, proposer.scope
            )));
        }
        corrected.extend(correct_claims(&mut draft.diff, assessment));
        let unassessed = assessment.unassessed();
        let decided = policy
            .decide(draft.kind, &areas, &draft.diff, &unassessed)
            .map_err(GovernError::Invalid)?;
        let status = if decided.gate.is_auto() {
            Status::Approved
        } else {
            Status::Proposed
        };
        Ok(Proposal {
            id: id.into(),
            kind: draft.kind,
            site: hierarchy.site.clone(),
            area,
            areas,
            title: draft.title,
            proposed_by: proposer.id.clone(),
            proposed_by_kind: proposer.kind,
            proposed_at: now,
            expires_at: now.plus_minutes(decided.expiry_minutes as f64),
            evidence: draft.evidence,
            diff: draft.diff,
            checks: Checks {
                units: assessment.units.iter().cloned().collect(),
                site_wide: assessment.site_wide,
                kpis: assessment.kpis,
                claims_corrected: corrected,
                unchecked_before: assessment.unchecked_before(),
                unassessed,
            },
            autonomy: decided.autonomy,
            gate: decided.gate,
            status,
            decisions: Vec::new(),
            applied: None,
            rolled_back: None,
        })
    }

    /// The primary area and every area of a draft: the areas its diff touches (the draft's
    /// own area is the primary one if among them, else the first), or the draft's area alone
    /// when the diff touches none (changes mixplane cannot assess, site-wide changes).
    fn areas_of(
        draft: &ProposalDraft,
        hierarchy: &Hierarchy,
        assessment: &Assessment,
    ) -> Result<(String, Vec<String>, Vec<ClaimCorrection>), GovernError> {
        let touched = assessment.areas();
        if let Some(unknown) = touched.iter().find(|a| !hierarchy.areas.contains(*a)) {
            return Err(GovernError::Invalid(format!(
                "the diff acts in area `{unknown}`, which is not an area of site `{}`",
                hierarchy.site
            )));
        }
        let Some(first) = touched.first() else {
            if !hierarchy.areas.contains(&draft.area) {
                return Err(GovernError::Invalid(format!(
                    "area `{}` is not an area of site `{}`",
                    draft.area, hierarchy.site
                )));
            }
            return Ok((draft.area.clone(), vec![draft.area.clone()], Vec::new()));
        };
        let areas: Vec<String> = touched.iter().cloned().collect();
        if touched.contains(&draft.area) {
            return Ok((draft.area.clone(), areas, Vec::new()));
        }
        let correction = ClaimCorrection {
            change: None,
            field: "area".into(),
            claimed: Value::String(draft.area.clone()),
            computed: serde_json::json!(areas),
        };
        Ok((first.clone(), areas, vec![correction]))
    }

    /// Every area the proposal acts in (`area` alone for proposals stored before `areas`).
    pub fn areas(&self) -> Vec<&str> {
        if self.areas.is_empty() {
            vec![self.area.as_str()]
        } else {
            self.areas.iter().map(String::as_str).collect()
        }
    }

    /// What of this proposal lies outside `who`'s scope (`area \`X\``, `the whole site`), if
    /// anything does: reading, deciding and applying it need scope over all of it.
    pub fn scope_gap(&self, who: &Principal, hierarchy: &Hierarchy) -> Option<String> {
        let areas = self
            .areas()
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        Scoped {
            site: &self.site,
            areas: &areas,
            site_wide: self.checks.site_wide,
        }
        .gap(who, hierarchy)
    }

    /// The approvals that count towards the gate: distinct principals, permitted.
    pub fn approvals(&self) -> impl Iterator<Item = &Decision> {
        self.decisions
            .iter()
            .filter(|d| d.decision == DecisionKind::Approve)
    }

    /// Marks the proposal expired if it still waits for approval at `now`; says whether it is
    /// expired.
    pub fn expire_if_due(&mut self, now: Timestamp) -> bool {
        if self.status == Status::Proposed && now >= self.expires_at {
            self.status = Status::Expired;
        }
        self.status == Status::Expired
    }

    /// Why `who` may not decide (approve or reject) this proposal, if they may not.
    fn check_decider(&self, who: &Principal, hierarchy: &Hierarchy) -> Result<(), GovernError> {
        let forbidden = |why: String| Err(GovernError::Forbidden(why));
        if who.kind == PrincipalKind::Agent || who.role == Role::Agent {
            return forbidden(format!("{} is an agent; agents never approve", who.id));
        }
        if who.id == self.proposed_by {
            return forbidden(format!(
                "{} proposed {}; nobody approves their own proposal",
                who.id, self.id
            ));
        }
        if !who.role.allows(Permission::DecideProposals)
            || !self.gate.approver_roles.contains(&who.role)
        {
            return forbidden(format!(
                "role {} may not decide {} proposals in area {} (approvers: {})",
                who.role,
                self.kind,
                self.area,
                self.gate
                    .approver_roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(gap) = self.scope_gap(who, hierarchy) {
            return forbidden(format!(
                "proposal {} acts in {gap} of site `{}`, outside {}'s scope {}",
                self.id, self.site, who.id, who.scope
            ));
        }
        Ok(())
    }

    fn check_waiting(&mut self, now: Timestamp, verb: &str) -> Result<(), GovernError> {
        if self.expire_if_due(now) {
            return Err(GovernError::Conflict(format!(
                "proposal {} expired at {}; it can no longer be {verb}",
                self.id, self.expires_at
            )));
        }
        if self.status != Status::Proposed {
            return Err(GovernError::Conflict(format!(
                "proposal {} is {}; only proposed proposals can be {verb}",
                self.id, self.status
            )));
        }
        Ok(())
    }

    /// Records `who`'s approval; the proposal becomes approved once the gate's count of
    /// distinct approvers is reached.
    pub fn approve(
        &mut self,
        who: &Principal,
        hierarchy: &Hierarchy,
        now: Timestamp,
        comment: Option<String>,
    ) -> Result<(), GovernError> {
        self.check_decider(who, hierarchy)?;
        self.check_waiting(now, "approved")?;
        if self.approvals().any(|d| d.principal == who.id) {
            return Err(GovernError::Conflict(format!(
                "{} already approved {}; a second approval must come from someone else",
                who.id, self.id
            )));
        }
        self.decisions.push(Decision {
            principal: who.id.clone(),
            kind: who.kind,
            role: who.role,
            decision: DecisionKind::Approve,
            at: now,
            comment,
        });
        if self.approvals().count() >= usize::from(self.gate.approvals) {
            self.status = Status::Approved;
        }
        Ok(())
    }

    /// Records `who`'s rejection; the proposal is rejected.
    pub fn reject(
        &mut self,
        who: &Principal,
        hierarchy: &Hierarchy,
        now: Timestamp,
        comment: Option<String>,
    ) -> Result<(), GovernError> {
        self.check_decider(who, hierarchy)?;
        self.check_waiting(now, "rejected")?;
        self.decisions.push(Decision {
            principal: who.id.clone(),
            kind: who.kind,
            role: who.role,
            decision: DecisionKind::Reject,
            at: now,
            comment,
        });
        self.status = Status::Rejected;
        Ok(())
    }

    /// Whether the recorded approvals satisfy the gate: enough distinct approvers, none of
    /// them the proposer or an agent, each of an approver role. Checked again before applying,
    /// so a proposal tampered with in storage does not apply.
    pub fn gate_satisfied(&self) -> bool {
        if self.gate.is_auto() {
            return true;
        }
        let approvers: std::collections::BTreeSet<&str> = self
            .approvals()
            .filter(|d| {
                d.principal != self.proposed_by
                    && d.kind != PrincipalKind::Agent
                    && d.role != Role::Agent
                    && self.gate.approver_roles.contains(&d.role)
            })
            .map(|d| d.principal.as_str())
            .collect();
        approvers.len() >= usize::from(self.gate.approvals)
    }

    /// Checks that `who` may send this proposal to a sink now (`None`: it applies by itself,
    /// which only a gate of zero approvals allows).
    pub fn check_apply(
        &self,
        who: Option<&Principal>,
        hierarchy: &Hierarchy,
    ) -> Result<(), GovernError> {
        if let Some(who) = who {
            if !who.may(Permission::ApplyProposals, hierarchy, None) {
                return Err(GovernError::Forbidden(format!(
                    "{} (role {}) may not apply proposals",
                    who.id, who.role
                )));
            }
            if let Some(gap) = self.scope_gap(who, hierarchy) {
                return Err(GovernError::Forbidden(format!(
                    "{} (scope {}) may not apply proposal {}: it acts in {gap}",
                    who.id, who.scope, self.id
                )));
            }
        }
        if who.is_none() && !self.gate.is_auto() {
            return Err(GovernError::Forbidden(format!(
                "proposal {} needs approval; it does not apply by itself",
                self.id
            )));
        }
        if self.status != Status::Approved {
            return Err(GovernError::Conflict(format!(
                "proposal {} is {}; only approved proposals can be applied",
                self.id, self.status
            )));
        }
        if !self.gate_satisfied() {
            return Err(GovernError::Conflict(format!(
                "proposal {} lacks the approvals its gate needs",
                self.id
            )));
        }
        Ok(())
    }

    /// Records the sink's answer to applying the proposal. Call after [`Proposal::check_apply`].
    pub fn record_applied(&mut self, outcome: Outcome) {
        self.status = Status::Applied;
        self.applied = Some(outcome);
    }

    /// Checks and applies in one step (for callers whose sink cannot fail, and for tests).
    pub fn apply(
        &mut self,
        who: Option<&Principal>,
        hierarchy: &Hierarchy,
        outcome: Outcome,
    ) -> Result<(), GovernError> {
        self.check_apply(who, hierarchy)?;
        self.record_applied(outcome);
        Ok(())
    }

    /// Checks that `who` may roll this proposal back now.
    pub fn check_roll_back(
        &self,
        who: &Principal,
        hierarchy: &Hierarchy,
    ) -> Result<(), GovernError> {
        if !who.may(Permission::ApplyProposals, hierarchy, None) {
            return Err(GovernError::Forbidden(format!(
                "{} (role {}) may not roll back proposals",
                who.id, who.role
            )));
        }
        if let Some(gap) = self.scope_gap(who, hierarchy) {
            return Err(GovernError::Forbidden(format!(
                "{} (scope {}) may not roll back proposal {}: it acts in {gap}",
                who.id, who.scope, self.id
            )));
        }
        if self.status != Status::Applied {
            return Err(GovernError::Conflict(format!(
                "proposal {} is {}; only applied proposals can be rolled back",
                self.id, self.status
            )));
        }
        Ok(())
    }

    /// The diff a rollback applies.
    pub fn inverse_diff(&self) -> Vec<Change> {
        Change::inverse_diff(&self.diff)
    }

    /// Records the sink's answer to the rollback.
    pub fn record_rolled_back(&mut self, outcome: Outcome) {
        self.status = Status::RolledBack;
        self.rolled_back = Some(outcome);
    }
}

/// The areas (and site-wide reach) something acts in, for scope checks.
struct Scoped<'a> {
    site: &'a str,
    areas: &'a [String],
    site_wide: bool,
}

impl Scoped<'_> {
    /// The first part outside `who`'s scope, named for a message.
    fn gap(&self, who: &Principal, hierarchy: &Hierarchy) -> Option<String> {
        if let Some(area) = self
            .areas
            .iter()
            .find(|a| !who.scope.reaches(hierarchy, Some(a)))
        {
            return Some(format!("area `{area}`"));
        }
        let area_scoped = matches!(who.scope, crate::rbac::Scope::Area(_));
        if self.site_wide && area_scoped {
            return Some(format!(
                "site `{}` as a whole (not inside one area)",
                self.site
            ));
        }
        None
    }
}
