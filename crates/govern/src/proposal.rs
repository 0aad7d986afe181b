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
//! checks the acting [`Principal`]: its role, its scope over the proposal's area, and that
//! nobody approves their own proposal and no agent approves at all.

use std::collections::BTreeMap;
use std::fmt;

use model::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Trigger {
    /// An event in the log.
    Event { event_id: String },
    /// A principal asked (a planner pressing "re-plan", an agent's own initiative).
    Principal { principal: String },
}

/// Why a proposal should be trusted: what it was computed from, by what, and what it gains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    }
);

/// One field of one object changing from `before` to `after`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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

/// What a proposer submits; the rest of a [`Proposal`] is decided by [`Proposal::propose`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProposalDraft {
    pub kind: ActionKind,
    /// The plant area the change happens in.
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
    /// The sink's name: `mes-sim`, `file`.
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
    pub area: String,
    pub title: String,
    pub proposed_by: String,
    pub proposed_by_kind: PrincipalKind,
    pub proposed_at: Timestamp,
    pub expires_at: Timestamp,
    pub evidence: Evidence,
    pub diff: Vec<Change>,
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
}

impl Proposal {
    /// Checks the proposer and the draft, and fixes the gate and expiry from the policy. A
    /// proposal that needs no approval starts out approved.
    pub fn propose(
        id: impl Into<String>,
        draft: ProposalDraft,
        proposer: &Principal,
        policy: &Policy,
        hierarchy: &Hierarchy,
        now: Timestamp,
    ) -> Result<Proposal, GovernError> {
        if !proposer.role.allows(Permission::ProposeChanges) {
            return Err(GovernError::Forbidden(format!(
                "role {} may not propose changes",
                proposer.role
            )));
        }
        if !hierarchy.areas.contains(&draft.area) {
            return Err(GovernError::Invalid(format!(
                "area `{}` is not an area of site `{}`",
                draft.area, hierarchy.site
            )));
        }
        if !proposer.scope.reaches(hierarchy, Some(&draft.area)) {
            return Err(GovernError::Forbidden(format!(
                "area `{}` is outside {}'s scope {}",
                draft.area, proposer.id, proposer.scope
            )));
        }
        if draft.diff.is_empty() {
            return Err(GovernError::Invalid("the diff is empty".into()));
        }
        if draft.evidence.engine.trim().is_empty()
            || draft.evidence.engine_version.trim().is_empty()
        {
            return Err(GovernError::Invalid(
                "the evidence must name the engine and its version".into(),
            ));
        }
        let rule = policy.rule_for(draft.kind, &draft.area);
        let gate = rule.gate(&draft.diff);
        let status = if gate.is_auto() {
            Status::Approved
        } else {
            Status::Proposed
        };
        Ok(Proposal {
            id: id.into(),
            kind: draft.kind,
            site: hierarchy.site.clone(),
            area: draft.area,
            title: draft.title,
            proposed_by: proposer.id.clone(),
            proposed_by_kind: proposer.kind,
            proposed_at: now,
            expires_at: now.plus_minutes(rule.expiry_minutes as f64),
            evidence: draft.evidence,
            diff: draft.diff,
            autonomy: rule.autonomy,
            gate,
            status,
            decisions: Vec::new(),
            applied: None,
            rolled_back: None,
        })
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
        if !who.scope.reaches(hierarchy, Some(&self.area)) {
            return forbidden(format!(
                "area `{}` of site `{}` is outside {}'s scope {}",
                self.area, self.site, who.id, who.scope
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
        match who {
            Some(who) if !who.may(Permission::ApplyProposals, hierarchy, Some(&self.area)) => {
                return Err(GovernError::Forbidden(format!(
                    "{} (role {}, scope {}) may not apply proposals in area {}",
                    who.id, who.role, who.scope, self.area
                )));
            }
            None if !self.gate.is_auto() => {
                return Err(GovernError::Forbidden(format!(
                    "proposal {} needs approval; it does not apply by itself",
                    self.id
                )));
            }
            _ => {}
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
        if !who.may(Permission::ApplyProposals, hierarchy, Some(&self.area)) {
            return Err(GovernError::Forbidden(format!(
                "{} (role {}, scope {}) may not roll back proposals in area {}",
                who.id, who.role, who.scope, self.area
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::Scope;
    use serde_json::json;

    #[test]
    fn change_kinds_and_fields_are_an_open_set_with_an_unchanged_wire_form() {
        let text = r#"{"entity":"operation","id":"MO-1/0","field":"start","before":null,"after":1,"high_priority":false}"#;
        let change: Change = serde_json::from_str(text).unwrap();
        assert_eq!(change.entity, Entity::Operation);
        assert_eq!(change.field, Field::Start);
        assert_eq!(serde_json::to_string(&change).unwrap(), text);
        let other: Change = serde_json::from_str(&text.replace("operation", "recipe")).unwrap();
        assert_eq!(other.entity, Entity::Other("recipe".into()));
        assert_eq!(other.entity.as_str(), "recipe");
        assert_eq!(Entity::from("pool_member"), Entity::PoolMember);
        assert_eq!(
            Field::from("overtime_windows").to_string(),
            "overtime_windows"
        );
        assert_eq!(Field::from("colour"), Field::Other("colour".into()));
    }

    fn hierarchy() -> Hierarchy {
        Hierarchy {
            site: "S".into(),
            areas: ["MIX", "PACK"].map(String::from).into(),
        }
    }

    fn person(id: &str, role: Role, scope: &str) -> Principal {
        Principal::new(id, PrincipalKind::Person, role, scope.parse().unwrap())
    }

    fn draft(kind: ActionKind, minutes: i64) -> ProposalDraft {
        ProposalDraft {
            kind,
            area: "MIX".into(),
            title: "move".into(),
            evidence: Evidence {
                input_sha256: "ab".repeat(32),
                engine: "mixplane-scheduler".into(),
                engine_version: "0.1.0".into(),
                trigger: Trigger::Event {
                    event_id: "e-1".into(),
                },
                kpis_before: [("tardiness_min".into(), 90.0)].into(),
                kpis_after: [("tardiness_min".into(), 30.0)].into(),
            },
            diff: vec![Change {
                entity: "order".into(),
                id: "PO-1".into(),
                field: "due".into(),
                before: json!("2026-03-02T06:00:00Z"),
                after: json!("2026-03-02T08:00:00Z"),
                shift_minutes: Some(minutes),
                high_priority: true,
            }],
        }
    }

    fn outcome() -> Outcome {
        Outcome {
            by: "x".into(),
            at: Timestamp(5),
            sink: "file".into(),
            answer: json!({"ok": true}),
        }
    }

    #[test]
    fn lifecycle_with_approval_apply_and_rollback() {
        let h = hierarchy();
        let policy = Policy::default_policy();
        let agent = Principal::new("bot", PrincipalKind::Agent, Role::Agent, Scope::All);
        let mut p = Proposal::propose(
            "P1",
            draft(ActionKind::ScheduleChange, 120),
            &agent,
            &policy,
            &h,
            Timestamp(0),
        )
        .unwrap();
        assert_eq!(p.status, Status::Proposed);
        assert_eq!(p.expires_at, Timestamp(240 * 60_000));
        assert!(p.check_apply(None, &h).is_err());
        // Wrong role, wrong scope, agents.
        let qe = person("q", Role::QualityEngineer, "*");
        assert!(matches!(
            p.approve(&qe, &h, Timestamp(1), None),
            Err(GovernError::Forbidden(_))
        ));
        let pack = person("pp", Role::Planner, "area:PACK");
        assert!(matches!(
            p.approve(&pack, &h, Timestamp(1), None),
            Err(GovernError::Forbidden(_))
        ));
        assert!(matches!(
            p.approve(&agent, &h, Timestamp(1), None),
            Err(GovernError::Forbidden(_))
        ));
        let planner = person("ann", Role::Planner, "area:MIX");
        p.approve(&planner, &h, Timestamp(1), Some("ok".into()))
            .unwrap();
        assert_eq!(p.status, Status::Approved);
        let viewer = person("v", Role::Viewer, "*");
        assert!(matches!(
            p.check_apply(Some(&viewer), &h),
            Err(GovernError::Forbidden(_))
        ));
        p.apply(Some(&planner), &h, outcome()).unwrap();
        assert_eq!(p.status, Status::Applied);
        assert!(p.check_apply(Some(&planner), &h).is_err());
        p.check_roll_back(&planner, &h).unwrap();
        let inverse = p.inverse_diff();
        assert_eq!(inverse[0].after, p.diff[0].before);
        assert_eq!(inverse[0].shift_minutes, Some(-120));
        p.record_rolled_back(outcome());
        assert_eq!(p.status, Status::RolledBack);
    }

    #[test]
    fn within_thresholds_applies_by_itself() {
        let h = hierarchy();
        let planner = person("ann", Role::Planner, "*");
        let p = Proposal::propose(
            "P",
            draft(ActionKind::ScheduleChange, 30),
            &planner,
            &Policy::default_policy(),
            &h,
            Timestamp(0),
        )
        .unwrap();
        assert_eq!(p.status, Status::Approved);
        p.check_apply(None, &h).unwrap();
    }

    #[test]
    fn four_eyes_expiry_own_and_rejection() {
        let h = hierarchy();
        let policy = Policy::default_policy();
        let qe = person("q1", Role::QualityEngineer, "*");
        let mut p = Proposal::propose(
            "P",
            draft(ActionKind::NcDisposition, 0),
            &qe,
            &policy,
            &h,
            Timestamp(0),
        )
        .unwrap();
        assert_eq!(p.gate.approvals, 2);
        assert!(
            matches!(
                p.approve(&qe, &h, Timestamp(1), None),
                Err(GovernError::Forbidden(_))
            ),
            "own"
        );
        let q2 = person("q2", Role::QualityEngineer, "site:S");
        p.approve(&q2, &h, Timestamp(1), None).unwrap();
        assert_eq!(p.status, Status::Proposed);
        assert!(matches!(
            p.approve(&q2, &h, Timestamp(2), None),
            Err(GovernError::Conflict(_))
        ));
        let mut expired = p.clone();
        let sup = person("s", Role::Supervisor, "*");
        let late = p.expires_at;
        assert!(matches!(
            expired.approve(&sup, &h, late, None),
            Err(GovernError::Conflict(_))
        ));
        assert_eq!(expired.status, Status::Expired);
        p.approve(&sup, &h, Timestamp(3), None).unwrap();
        assert_eq!(p.status, Status::Approved);
        assert!(p.gate_satisfied());

        let mut r = Proposal::propose(
            "R",
            draft(ActionKind::NcDisposition, 0),
            &qe,
            &policy,
            &h,
            Timestamp(0),
        )
        .unwrap();
        r.reject(&sup, &h, Timestamp(1), Some("no".into())).unwrap();
        assert_eq!(r.status, Status::Rejected);
        assert!(r.approve(&q2, &h, Timestamp(2), None).is_err());
    }

    #[test]
    fn proposing_checks_role_scope_and_content() {
        let h = hierarchy();
        let policy = Policy::default_policy();
        let viewer = person("v", Role::Viewer, "*");
        assert!(matches!(
            Proposal::propose(
                "P",
                draft(ActionKind::QualityHold, 0),
                &viewer,
                &policy,
                &h,
                Timestamp(0)
            ),
            Err(GovernError::Forbidden(_))
        ));
        let pack = person("p", Role::Planner, "area:PACK");
        assert!(matches!(
            Proposal::propose(
                "P",
                draft(ActionKind::QualityHold, 0),
                &pack,
                &policy,
                &h,
                Timestamp(0)
            ),
            Err(GovernError::Forbidden(_))
        ));
        let mut nowhere = draft(ActionKind::QualityHold, 0);
        nowhere.area = "MARS".into();
        assert!(matches!(
            Proposal::propose("P", nowhere, &viewer, &policy, &h, Timestamp(0)),
            Err(GovernError::Forbidden(_) | GovernError::Invalid(_))
        ));
        assert_eq!(
            "nc_disposition".parse::<ActionKind>(),
            Ok(ActionKind::NcDisposition)
        );
        assert_eq!("rolled_back".parse::<Status>(), Ok(Status::RolledBack));
    }
}
