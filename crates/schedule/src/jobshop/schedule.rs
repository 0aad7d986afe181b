//! The solver's output: a list of timed operation assignments and the makespan.
//!
//! Plain serialisable data (0-based indices). Produced by [`super::search`], verified by
//! [`super::checker`], consumed by the CLI and the server.

use serde::{Deserialize, Serialize};

/// One operation placed on a machine in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledOp {
    /// 0-based job index.
    pub job: usize,
    /// 0-based operation index within the job.
    pub op: usize,
    /// 0-based machine index.
    pub machine: usize,
    /// Start time.
    pub start: u64,
    /// End time (`start + duration`).
    pub end: u64,
}

/// A complete schedule.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Schedule {
    /// Every operation exactly once, in no particular order.
    pub ops: Vec<ScheduledOp>,
    /// Latest end time.
    pub makespan: u64,
}
