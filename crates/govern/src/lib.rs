//! Governance for mixplane: what an engine or agent may change, who must approve it, and how
//! personal data is hidden from engines and agents.
//!
//! # What this crate owns
//!
//! - [`proposal`]: the lifecycle of a change — proposed → approved | rejected | expired →
//!   applied → rolled back — with its evidence (input snapshot hash, engine and version,
//!   trigger, KPIs before and after) and the diff it applies (and its inverse).
//! - [`evidence`]: what a gate decides on — each change's real size, the order's priority,
//!   the kinds the diff implies, the areas and units touched — computed from the diff against
//!   a read-only view of the plant; what the proposer declares is only a checked claim.
//! - [`finding`]: the quality alert a `quality_hold` proposal rests on, kept in its evidence.
//! - [`policy`]: autonomy per action kind and plant area (`copilot`, `assisted` with
//!   thresholds, `closed_loop`), approver roles, four-eyes and expiry, read from TOML
//!   (`data/policy.toml` is the shipped default).
//! - [`rbac`]: roles → permissions, principals (people, services, agents) and their scopes
//!   over the plant hierarchy (site, area).
//! - [`mes`]: how the simulated MES sink turns a diff into plant events.
//! - [`pseudo`]: keyed HMAC-SHA256 pseudonyms of operator identities and masking of
//!   configured fields (recipe parameters).
//!
//! # What it must not do
//!
//! No I/O and no clock: every time is passed in by the caller, tokens are hashed and stored
//! by `store`, HTTP lives in `server`. Decisions are plain functions of their inputs, so the
//! property tests in `tests/` can drive the whole lifecycle.

pub mod evidence;
pub mod finding;
pub mod kpis;
pub mod mes;
pub mod policy;
pub mod proposal;
pub mod pseudo;
pub mod rbac;

pub use evidence::{
    Assessment, Checks, ClaimCorrection, Facts, HoldValue, KpiSource, PlantView, WithHolds, assess,
};
pub use finding::{AlertFinding, ControlLimits, HeldItem};
pub use policy::{Autonomy, Decided, Gate, Policy, PolicyError, Privacy, Rule, Thresholds};
pub use proposal::{
    ActionKind, Change, Decision, DecisionKind, Entity, Evidence, Field, GovernError, Outcome,
    Proposal, ProposalDraft, Status, Trigger,
};
pub use pseudo::{PRINCIPAL_FIELDS, Pseudonymizer, hmac_sha256};
pub use rbac::{Hierarchy, Permission, Principal, PrincipalKind, Role, Scope};
