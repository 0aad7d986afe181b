//! Agents that run in process: rules and engines that watch the plant and propose changes.
//!
//! An agent is a proposer like any other: it submits through [`crate::govern::submit`] under
//! its own agent principal, so the policy, the approvals and the audit trail treat its
//! proposals exactly as those from the API. [`resequence`] is the demo's simple rule; [`live`]
//! runs the agents that react to the plant's events.

pub mod live;
pub mod resequence;
