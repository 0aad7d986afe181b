//! The scheduling problem model owned by the engine.
//!
//! The benchmark core is a (flexible) job shop: every [`Job`] is an ordered chain of
//! [`Operation`]s, and every operation runs on exactly one of its [`Alternative`]s
//! (machine, duration). A classic job shop is the special case of one alternative per
//! operation.
//!
//! Growth path (not built yet, on purpose): release and due dates and weights belong on
//! [`Job`], changeover families on [`Operation`], pooled secondary resources and materials as
//! new top-level collections of [`Problem`]. Everything here is plain serialisable data; the
//! solver converts it to its own flat arrays.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One way to run an operation: on `machine` (0-based) for `duration` time units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alternative {
    /// 0-based machine index, `< Problem::n_machines`.
    pub machine: usize,
    /// Processing time on that machine.
    pub duration: u32,
}

/// A processing step of a job; it runs on exactly one of its alternatives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// Non-empty; at most one alternative per machine.
    pub alternatives: Vec<Alternative>,
}

impl Operation {
    /// Duration of this operation on `machine`, if the machine is an alternative.
    pub fn duration_on(&self, machine: usize) -> Option<u32> {
        self.alternatives
            .iter()
            .find(|a| a.machine == machine)
            .map(|a| a.duration)
    }
}

/// A job: operations that must run one after the other, in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Operations in technological order.
    pub operations: Vec<Operation>,
}

/// A (flexible) job-shop problem, makespan objective.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Number of machines; machine indices are `0..n_machines`.
    pub n_machines: usize,
    /// The jobs.
    pub jobs: Vec<Job>,
}

/// A structural defect of a [`Problem`], naming the job/operation at fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProblemError {
    /// Job `job` has no operations.
    #[error("job {job} has no operations")]
    EmptyJob {
        /// Job index.
        job: usize,
    },
    /// Operation has no alternative.
    #[error("job {job} operation {op} has no alternative machine")]
    NoAlternative {
        /// Job index.
        job: usize,
        /// Operation index within the job.
        op: usize,
    },
    /// A machine index is out of range.
    #[error("job {job} operation {op}: machine {machine} out of range (n_machines = {n_machines})")]
    MachineOutOfRange {
        /// Job index.
        job: usize,
        /// Operation index within the job.
        op: usize,
        /// Offending machine.
        machine: usize,
        /// Number of machines of the problem.
        n_machines: usize,
    },
    /// The same machine is listed twice for one operation.
    #[error("job {job} operation {op}: machine {machine} listed twice")]
    DuplicateMachine {
        /// Job index.
        job: usize,
        /// Operation index within the job.
        op: usize,
        /// Offending machine.
        machine: usize,
    },
    /// The sum of the longest durations does not fit the solver's 32-bit time axis.
    #[error("total processing time {total} exceeds the supported horizon {max}")]
    HorizonTooLarge {
        /// Sum over operations of the longest alternative.
        total: u64,
        /// Largest supported horizon.
        max: u64,
    },
}

impl Problem {
    /// Total number of operations.
    pub fn n_operations(&self) -> usize {
        self.jobs.iter().map(|j| j.operations.len()).sum()
    }

    /// True when every operation has exactly one alternative (a classic job shop).
    pub fn is_classic(&self) -> bool {
        self.jobs
            .iter()
            .flat_map(|j| &j.operations)
            .all(|o| o.alternatives.len() == 1)
    }

    /// Checks the structural rules the solver relies on.
    pub fn validate(&self) -> Result<(), ProblemError> {
        let mut total: u64 = 0;
        for (j, job) in self.jobs.iter().enumerate() {
            if job.operations.is_empty() {
                return Err(ProblemError::EmptyJob { job: j });
            }
            for (o, op) in job.operations.iter().enumerate() {
                if op.alternatives.is_empty() {
                    return Err(ProblemError::NoAlternative { job: j, op: o });
                }
                let mut longest = 0u32;
                for (k, a) in op.alternatives.iter().enumerate() {
                    if a.machine >= self.n_machines {
                        return Err(ProblemError::MachineOutOfRange {
                            job: j,
                            op: o,
                            machine: a.machine,
                            n_machines: self.n_machines,
                        });
                    }
                    if op.alternatives[..k].iter().any(|b| b.machine == a.machine) {
                        return Err(ProblemError::DuplicateMachine {
                            job: j,
                            op: o,
                            machine: a.machine,
                        });
                    }
                    longest = longest.max(a.duration);
                }
                total += u64::from(longest);
            }
        }
        let max = u64::from(u32::MAX / 2);
        if total > max {
            return Err(ProblemError::HorizonTooLarge { total, max });
        }
        Ok(())
    }

    /// A simple lower bound on the makespan: the longest job (shortest alternatives) and,
    /// for machines that are the only choice of some operations, their fixed load.
    pub fn lower_bound(&self) -> u64 {
        let mut best = 0u64;
        let mut load = vec![0u64; self.n_machines];
        let mut flexible_total = 0u64;
        for job in &self.jobs {
            let mut len = 0u64;
            for op in &job.operations {
                let d = op
                    .alternatives
                    .iter()
                    .map(|a| a.duration)
                    .min()
                    .unwrap_or(0);
                len += u64::from(d);
                if op.alternatives.len() == 1
                    && let Some(l) = load.get_mut(op.alternatives[0].machine)
                {
                    *l += u64::from(op.alternatives[0].duration);
                }
                flexible_total += u64::from(d);
            }
            best = best.max(len);
        }
        best = best.max(load.iter().copied().max().unwrap_or(0));
        if self.n_machines > 0 {
            best = best.max(flexible_total.div_ceil(self.n_machines as u64));
        }
        best
    }
}
