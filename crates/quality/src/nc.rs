//! Nonconformance (NC) workflow and the release gate, as a pure state machine.
//!
//! ```text
//! open → investigating → dispositioned (use_as_is | rework | scrap | return) → capa → verified → closed
//! ```
//!
//! CAPA actions are added and completed in `capa`; moving to `verified` needs at least one
//! action and every action done; closing needs every action verified. Every transition
//! records who (a principal id) and when (milliseconds since the Unix epoch, the integer of
//! `model::Timestamp`, passed in by the caller — this module reads no clock); the times
//! serialise as RFC 3339, like every time at the edges (see [`crate::time`]). A transition
//! that does not apply in the current state is a typed error naming both, and leaves the NC
//! unchanged.
//!
//! [`release_gate`] answers whether an item may ship, given the holds and NCs the caller
//! found linked to it (through genealogy): any active hold, any NC not closed, or a closed NC
//! disposed as scrap or return blocks it, with one reason each.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use crate::time::EpochMillis;

/// What is done with the nonconforming material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Accept as is (concession).
    UseAsIs,
    /// Rework to conformance.
    Rework,
    /// Scrap.
    Scrap,
    /// Return to the supplier.
    Return,
}

/// Workflow state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NcState {
    /// Raised, not yet investigated.
    Open,
    /// Under investigation.
    Investigating,
    /// A disposition was decided.
    Dispositioned,
    /// Corrective and preventive actions in progress.
    Capa,
    /// CAPA effectiveness verified.
    Verified,
    /// Closed.
    Closed,
}

model::wire_enum!(
    NcState,
    "nonconformance state",
    [Open, Investigating, Dispositioned, Capa, Verified, Closed]
);

impl NcState {
    /// The snake_case name (the same as [`NcState::as_str`], kept for the edges that call it).
    pub fn name(self) -> &'static str {
        self.as_str()
    }
}

/// Progress of one CAPA action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CapaStatus {
    /// Not done yet.
    Open,
    /// Done, awaiting verification.
    Done,
    /// Verified effective.
    Verified,
}

/// A corrective or preventive action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CapaAction {
    /// Identifier, unique within the NC.
    pub id: String,
    /// What is to be done.
    pub description: String,
    /// Progress.
    pub status: CapaStatus,
    /// Who added it.
    pub added_by: String,
    /// When it was added.
    #[serde(with = "crate::time::rfc3339")]
    #[schemars(with = "model::Timestamp")]
    pub added_at: EpochMillis,
    /// Who completed it.
    pub done_by: Option<String>,
    /// When it was completed.
    #[serde(default, with = "crate::time::rfc3339_opt")]
    #[schemars(with = "Option<model::Timestamp>")]
    pub done_at: Option<EpochMillis>,
    /// Who verified it.
    pub verified_by: Option<String>,
    /// When it was verified.
    #[serde(default, with = "crate::time::rfc3339_opt")]
    #[schemars(with = "Option<model::Timestamp>")]
    pub verified_at: Option<EpochMillis>,
}

/// A command applied to an NC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum NcCommand {
    /// open → investigating.
    StartInvestigation,
    /// investigating → dispositioned.
    Disposition {
        /// The decision.
        disposition: Disposition,
    },
    /// dispositioned → capa.
    StartCapa,
    /// Adds an action (in capa).
    AddCapaAction {
        /// Action id.
        id: String,
        /// What is to be done.
        description: String,
    },
    /// Marks an action done (in capa).
    CompleteCapaAction {
        /// Action id.
        id: String,
    },
    /// Marks a done action verified (in capa or verified).
    VerifyCapaAction {
        /// Action id.
        id: String,
    },
    /// capa → verified (every action done).
    Verify,
    /// verified → closed (every action verified).
    Close,
}

impl NcCommand {
    /// The snake_case name of the command.
    pub fn name(&self) -> &'static str {
        match self {
            NcCommand::StartInvestigation => "start_investigation",
            NcCommand::Disposition { .. } => "disposition",
            NcCommand::StartCapa => "start_capa",
            NcCommand::AddCapaAction { .. } => "add_capa_action",
            NcCommand::CompleteCapaAction { .. } => "complete_capa_action",
            NcCommand::VerifyCapaAction { .. } => "verify_capa_action",
            NcCommand::Verify => "verify",
            NcCommand::Close => "close",
        }
    }
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NcRecord {
    /// Command name.
    pub action: String,
    /// State before.
    pub from: NcState,
    /// State after.
    pub to: NcState,
    /// Principal id.
    pub by: String,
    /// When.
    #[serde(with = "crate::time::rfc3339")]
    #[schemars(with = "model::Timestamp")]
    pub at: EpochMillis,
    /// Detail (disposition, CAPA action id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NcError {
    /// The command does not apply in the current state.
    #[error("cannot {action} a nonconformance in state `{state}`")]
    InvalidTransition {
        /// Current state.
        state: NcState,
        /// Attempted command.
        action: &'static str,
    },
    /// No CAPA action with this id.
    #[error("no CAPA action `{id}`")]
    UnknownCapaAction {
        /// Action id.
        id: String,
    },
    /// A CAPA action with this id exists already.
    #[error("CAPA action `{id}` already exists")]
    DuplicateCapaAction {
        /// Action id.
        id: String,
    },
    /// The CAPA action is not in the status the command needs.
    #[error("cannot {action} CAPA action `{id}` in status {status:?}")]
    CapaActionStatus {
        /// Action id.
        id: String,
        /// Its status.
        status: CapaStatus,
        /// Attempted command.
        action: &'static str,
    },
    /// Verification needs at least one CAPA action.
    #[error("cannot verify: no CAPA action was recorded")]
    NoCapaActions,
    /// Verification needs every action done.
    #[error("cannot verify: CAPA actions not done: {}", pending.join(", "))]
    CapaNotDone {
        /// Ids of actions still open.
        pending: Vec<String>,
    },
    /// Closing needs every action verified.
    #[error("cannot close: CAPA actions not verified: {}", pending.join(", "))]
    CapaNotVerified {
        /// Ids of actions not verified.
        pending: Vec<String>,
    },
    /// The principal id is empty.
    #[error("a transition needs a principal id")]
    MissingPrincipal,
    /// The timestamp is earlier than the last recorded one.
    #[error(
        "timestamp {} is earlier than the last recorded {}",
        model::Timestamp(*.at),
        model::Timestamp(*.last)
    )]
    TimeWentBackwards {
        /// Last recorded time.
        last: EpochMillis,
        /// Time given.
        at: EpochMillis,
    },
}

/// A nonconformance with its CAPA actions and audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Nonconformance {
    /// Identifier.
    pub id: String,
    /// What was found.
    pub description: String,
    /// Linked items (lot, batch or serial ids).
    pub items: Vec<String>,
    /// Current state.
    pub state: NcState,
    /// Decided disposition.
    pub disposition: Option<Disposition>,
    /// CAPA actions.
    pub capa: Vec<CapaAction>,
    /// Audit trail, oldest first (starts with the opening).
    pub history: Vec<NcRecord>,
}

impl Nonconformance {
    /// Opens an NC (recorded as the first history entry).
    pub fn open(
        id: impl Into<String>,
        description: impl Into<String>,
        items: Vec<String>,
        by: &str,
        at: EpochMillis,
    ) -> Result<Self, NcError> {
        if by.trim().is_empty() {
            return Err(NcError::MissingPrincipal);
        }
        Ok(Nonconformance {
            id: id.into(),
            description: description.into(),
            items,
            state: NcState::Open,
            disposition: None,
            capa: Vec::new(),
            history: vec![NcRecord {
                action: "open".into(),
                from: NcState::Open,
                to: NcState::Open,
                by: by.to_string(),
                at,
                detail: None,
            }],
        })
    }

    /// Whether the NC still blocks release (not closed).
    pub fn is_open(&self) -> bool {
        self.state != NcState::Closed
    }

    fn action_mut(&mut self, id: &str) -> Result<&mut CapaAction, NcError> {
        self.capa
            .iter_mut()
            .find(|a| a.id == id)
            .ok_or_else(|| NcError::UnknownCapaAction { id: id.to_string() })
    }

    /// Applies a command by principal `by` at time `at`. On error nothing changes.
    pub fn apply(&mut self, command: &NcCommand, by: &str, at: EpochMillis) -> Result<(), NcError> {
        use NcState as S;
        if by.trim().is_empty() {
            return Err(NcError::MissingPrincipal);
        }
        if let Some(last) = self.history.last().map(|r| r.at).filter(|&last| at < last) {
            return Err(NcError::TimeWentBackwards { last, at });
        }
        let from = self.state;
        let invalid = || NcError::InvalidTransition {
            state: from,
            action: command.name(),
        };
        let mut detail = None;
        let to = match (command, from) {
            (NcCommand::StartInvestigation, S::Open) => S::Investigating,
            (NcCommand::Disposition { disposition }, S::Investigating) => {
                self.disposition = Some(*disposition);
                detail = Some(format!("{disposition:?}"));
                S::Dispositioned
            }
            (NcCommand::StartCapa, S::Dispositioned) => S::Capa,
            (NcCommand::AddCapaAction { id, description }, S::Capa) => {
                if self.capa.iter().any(|a| &a.id == id) {
                    return Err(NcError::DuplicateCapaAction { id: id.clone() });
                }
                self.capa.push(CapaAction {
                    id: id.clone(),
                    description: description.clone(),
                    status: CapaStatus::Open,
                    added_by: by.to_string(),
                    added_at: at,
                    done_by: None,
                    done_at: None,
                    verified_by: None,
                    verified_at: None,
                });
                detail = Some(id.clone());
                S::Capa
            }
            (NcCommand::CompleteCapaAction { id }, S::Capa) => {
                let a = self.action_mut(id)?;
                if a.status != CapaStatus::Open {
                    return Err(NcError::CapaActionStatus {
                        id: id.clone(),
                        status: a.status,
                        action: command.name(),
                    });
                }
                a.status = CapaStatus::Done;
                a.done_by = Some(by.to_string());
                a.done_at = Some(at);
                detail = Some(id.clone());
                S::Capa
            }
            (NcCommand::VerifyCapaAction { id }, S::Capa | S::Verified) => {
                let a = self.action_mut(id)?;
                if a.status != CapaStatus::Done {
                    return Err(NcError::CapaActionStatus {
                        id: id.clone(),
                        status: a.status,
                        action: command.name(),
                    });
                }
                a.status = CapaStatus::Verified;
                a.verified_by = Some(by.to_string());
                a.verified_at = Some(at);
                detail = Some(id.clone());
                from
            }
            (NcCommand::Verify, S::Capa) => {
                if self.capa.is_empty() {
                    return Err(NcError::NoCapaActions);
                }
                let pending: Vec<String> = self
                    .capa
                    .iter()
                    .filter(|a| a.status == CapaStatus::Open)
                    .map(|a| a.id.clone())
                    .collect();
                if !pending.is_empty() {
                    return Err(NcError::CapaNotDone { pending });
                }
                S::Verified
            }
            (NcCommand::Close, S::Verified) => {
                let pending: Vec<String> = self
                    .capa
                    .iter()
                    .filter(|a| a.status != CapaStatus::Verified)
                    .map(|a| a.id.clone())
                    .collect();
                if !pending.is_empty() {
                    return Err(NcError::CapaNotVerified { pending });
                }
                S::Closed
            }
            _ => return Err(invalid()),
        };
        self.state = to;
        self.history.push(NcRecord {
            action: command.name().to_string(),
            from,
            to,
            by: by.to_string(),
            at,
            detail,
        });
        Ok(())
    }
}

/// A hold on an item (lot, batch, serial), as supplied by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Hold {
    /// Hold id.
    pub id: String,
    /// Why it was placed.
    pub reason: String,
    /// Whether it was released.
    pub released: bool,
}

/// What the release gate needs to know about an NC linked to the item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NcSummary {
    /// NC id.
    pub id: String,
    /// Current state.
    pub state: NcState,
    /// Disposition, when decided.
    pub disposition: Option<Disposition>,
}

impl From<&Nonconformance> for NcSummary {
    fn from(nc: &Nonconformance) -> Self {
        NcSummary {
            id: nc.id.clone(),
            state: nc.state,
            disposition: nc.disposition,
        }
    }
}

/// One reason an item may not ship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BlockReason {
    /// An active hold.
    Hold {
        /// Hold id.
        hold_id: String,
        /// Its reason.
        reason: String,
    },
    /// A hold proposed through governance and not yet decided or applied: the item does not
    /// ship while a reviewer decides whether to hold it.
    HoldProposed {
        /// The proposal's id.
        proposal_id: String,
        /// What the proposal says, e.g. `hold proposed, awaiting approval`.
        reason: String,
    },
    /// A linked NC is not closed.
    OpenNonconformance {
        /// NC id.
        nc_id: String,
        /// Its state.
        state: NcState,
    },
    /// A linked NC disposed the material as scrap or return.
    Disposed {
        /// NC id.
        nc_id: String,
        /// The disposition.
        disposition: Disposition,
    },
}

/// The release gate's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum ReleaseDecision {
    /// The item may ship.
    Allowed,
    /// The item may not ship, for these reasons (holds by id, then NCs by id).
    Blocked {
        /// Every reason found.
        reasons: Vec<BlockReason>,
    },
}

impl ReleaseDecision {
    /// Whether shipping is allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, ReleaseDecision::Allowed)
    }
}

/// Decides whether an item may ship given the holds and NCs linked to it.
pub fn release_gate(holds: &[Hold], ncs: &[NcSummary]) -> ReleaseDecision {
    release_gate_pending(holds, &[], ncs)
}

/// [`release_gate`], with the holds proposed and waiting (`(proposal id, reason)`), which
/// block like holds: after the holds, before the NCs.
pub fn release_gate_pending(
    holds: &[Hold],
    proposed: &[(String, String)],
    ncs: &[NcSummary],
) -> ReleaseDecision {
    let mut hs: Vec<&Hold> = holds.iter().filter(|h| !h.released).collect();
    hs.sort_by(|a, b| a.id.cmp(&b.id));
    let mut ns: Vec<&NcSummary> = ncs.iter().collect();
    ns.sort_by(|a, b| a.id.cmp(&b.id));
    let mut reasons: Vec<BlockReason> = hs
        .into_iter()
        .map(|h| BlockReason::Hold {
            hold_id: h.id.clone(),
            reason: h.reason.clone(),
        })
        .collect();
    let mut ps: Vec<&(String, String)> = proposed.iter().collect();
    ps.sort();
    ps.dedup();
    reasons.extend(
        ps.into_iter()
            .map(|(id, reason)| BlockReason::HoldProposed {
                proposal_id: id.clone(),
                reason: reason.clone(),
            }),
    );
    for nc in ns {
        if nc.state != NcState::Closed {
            reasons.push(BlockReason::OpenNonconformance {
                nc_id: nc.id.clone(),
                state: nc.state,
            });
        } else if let Some(d @ (Disposition::Scrap | Disposition::Return)) = nc.disposition {
            reasons.push(BlockReason::Disposed {
                nc_id: nc.id.clone(),
                disposition: d,
            });
        }
    }
    if reasons.is_empty() {
        ReleaseDecision::Allowed
    } else {
        ReleaseDecision::Blocked { reasons }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nc() -> Nonconformance {
        Nonconformance::open(
            "NC-1",
            "burr on flange",
            vec!["LOT-7".into()],
            "qa.anna",
            1_000,
        )
        .unwrap()
    }

    #[test]
    fn full_lifecycle_records_who_and_when() {
        let mut n = nc();
        n.apply(&NcCommand::StartInvestigation, "qa.anna", 2_000)
            .unwrap();
        n.apply(
            &NcCommand::Disposition {
                disposition: Disposition::Rework,
            },
            "mrb.bo",
            3_000,
        )
        .unwrap();
        n.apply(&NcCommand::StartCapa, "mrb.bo", 4_000).unwrap();
        let add = NcCommand::AddCapaAction {
            id: "A1".into(),
            description: "replace deburr tool".into(),
        };
        n.apply(&add, "eng.cy", 5_000).unwrap();
        assert_eq!(
            n.apply(&add, "eng.cy", 5_000),
            Err(NcError::DuplicateCapaAction { id: "A1".into() })
        );
        assert_eq!(
            n.apply(&NcCommand::Verify, "qa.anna", 6_000),
            Err(NcError::CapaNotDone {
                pending: vec!["A1".into()]
            })
        );
        n.apply(
            &NcCommand::CompleteCapaAction { id: "A1".into() },
            "eng.cy",
            6_000,
        )
        .unwrap();
        n.apply(&NcCommand::Verify, "qa.anna", 7_000).unwrap();
        assert_eq!(
            n.apply(&NcCommand::Close, "qa.anna", 8_000),
            Err(NcError::CapaNotVerified {
                pending: vec!["A1".into()]
            })
        );
        n.apply(
            &NcCommand::VerifyCapaAction { id: "A1".into() },
            "qa.anna",
            8_000,
        )
        .unwrap();
        n.apply(&NcCommand::Close, "qa.anna", 9_000).unwrap();
        assert_eq!(n.state, NcState::Closed);
        let last = n.history.last().unwrap();
        assert_eq!(
            (last.by.as_str(), last.at, last.to),
            ("qa.anna", 9_000, NcState::Closed)
        );
        assert_eq!(n.capa[0].verified_by.as_deref(), Some("qa.anna"));
        assert_eq!(n.history.len(), 9);
    }

    #[test]
    fn times_are_rfc3339_and_stored_integer_times_still_load() {
        let mut n = nc();
        n.apply(&NcCommand::StartInvestigation, "qa.anna", 1_772_431_200_000)
            .unwrap();
        let json = serde_json::to_value(&n).unwrap();
        assert_eq!(json["history"][0]["at"], "1970-01-01T00:00:01Z");
        assert_eq!(json["history"][1]["at"], "2026-03-02T06:00:00Z");
        assert_eq!(serde_json::from_value::<Nonconformance>(json).unwrap(), n);
        let old = serde_json::json!({
            "id": "NC-1", "description": "burr on flange", "items": ["LOT-7"],
            "state": "capa", "disposition": "rework",
            "capa": [{"id": "A1", "description": "d", "status": "done", "added_by": "a",
                      "added_at": 5000, "done_by": "b", "done_at": 6000,
                      "verified_by": null, "verified_at": null}],
            "history": [{"action": "open", "from": "open", "to": "open", "by": "a", "at": 1000}],
        });
        let read: Nonconformance = serde_json::from_value(old).unwrap();
        assert_eq!(read.capa[0].done_at, Some(6000));
        assert_eq!(read.capa[0].verified_at, None);
        assert_eq!(read.history[0].at, 1000);
        let again = serde_json::to_value(&read).unwrap();
        assert_eq!(again["capa"][0]["added_at"], "1970-01-01T00:00:05Z");
        assert_eq!(again["capa"][0]["verified_at"], serde_json::Value::Null);
        let e = NcError::TimeWentBackwards {
            last: 1_772_431_200_000,
            at: 0,
        };
        assert_eq!(
            e.to_string(),
            "timestamp 1970-01-01T00:00:00Z is earlier than the last recorded 2026-03-02T06:00:00Z"
        );
    }

    #[test]
    fn invalid_transition_names_state_and_action() {
        let mut n = nc();
        let before = n.clone();
        let e = n.apply(&NcCommand::Close, "qa.anna", 2_000).unwrap_err();
        assert_eq!(
            e,
            NcError::InvalidTransition {
                state: NcState::Open,
                action: "close"
            }
        );
        assert_eq!(
            e.to_string(),
            "cannot close a nonconformance in state `open`"
        );
        assert_eq!(n, before);
        assert_eq!(
            n.apply(&NcCommand::StartInvestigation, "", 2_000),
            Err(NcError::MissingPrincipal)
        );
        assert!(matches!(
            n.apply(&NcCommand::StartInvestigation, "x", 10),
            Err(NcError::TimeWentBackwards { .. })
        ));
    }

    #[test]
    fn verify_needs_actions() {
        let mut n = nc();
        n.apply(&NcCommand::StartInvestigation, "a", 1).unwrap_err();
        n.apply(&NcCommand::StartInvestigation, "a", 1_000).unwrap();
        n.apply(
            &NcCommand::Disposition {
                disposition: Disposition::UseAsIs,
            },
            "a",
            1_000,
        )
        .unwrap();
        n.apply(&NcCommand::StartCapa, "a", 1_000).unwrap();
        assert_eq!(
            n.apply(&NcCommand::Verify, "a", 1_000),
            Err(NcError::NoCapaActions)
        );
    }

    #[test]
    fn release_gate_reasons() {
        assert!(release_gate(&[], &[]).is_allowed());
        let holds = [
            Hold {
                id: "H2".into(),
                reason: "SPC rule 1 on line 3".into(),
                released: false,
            },
            Hold {
                id: "H1".into(),
                reason: "old".into(),
                released: true,
            },
        ];
        let ncs = [
            NcSummary {
                id: "NC-9".into(),
                state: NcState::Closed,
                disposition: Some(Disposition::Scrap),
            },
            NcSummary {
                id: "NC-3".into(),
                state: NcState::Capa,
                disposition: Some(Disposition::Rework),
            },
            NcSummary {
                id: "NC-1".into(),
                state: NcState::Closed,
                disposition: Some(Disposition::UseAsIs),
            },
        ];
        let ReleaseDecision::Blocked { reasons } = release_gate(&holds, &ncs) else {
            panic!("must block");
        };
        assert_eq!(reasons.len(), 3);
        assert!(matches!(&reasons[0], BlockReason::Hold { hold_id, .. } if hold_id == "H2"));
        assert!(
            matches!(&reasons[1], BlockReason::OpenNonconformance { nc_id, state: NcState::Capa } if nc_id == "NC-3")
        );
        assert!(matches!(
            &reasons[2],
            BlockReason::Disposed {
                disposition: Disposition::Scrap,
                ..
            }
        ));
    }
}
