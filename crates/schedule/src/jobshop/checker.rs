//! Independent feasibility checker.
//!
//! Architecture invariant: this module shares no code with the solver ([`super::search`]). It
//! re-verifies a schedule from first principles against the [`Problem`] with its own data
//! structures (ordered maps keyed by ids) and lists **every** violated constraint, each naming
//! the job/operation/machine ids involved, then recomputes the makespan.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::problem::Problem;
use super::schedule::ScheduledOp;

/// One violated constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Violation {
    /// The entry names a job/operation that does not exist.
    UnknownOperation {
        /// Job id as given.
        job: usize,
        /// Operation id as given.
        op: usize,
    },
    /// The operation appears more than once.
    DuplicateOperation {
        /// Job id.
        job: usize,
        /// Operation id.
        op: usize,
        /// How many times it appears.
        count: usize,
    },
    /// The operation is not scheduled.
    MissingOperation {
        /// Job id.
        job: usize,
        /// Operation id.
        op: usize,
    },
    /// The machine is not one of the operation's alternatives.
    WrongMachine {
        /// Job id.
        job: usize,
        /// Operation id.
        op: usize,
        /// Machine used.
        machine: usize,
    },
    /// `end - start` differs from the duration on the chosen machine (or `end < start`).
    DurationMismatch {
        /// Job id.
        job: usize,
        /// Operation id.
        op: usize,
        /// Machine used.
        machine: usize,
        /// Required duration.
        expected: u64,
        /// `end - start` as scheduled (negative shown as 0 with `end < start`).
        actual: i128,
    },
    /// Operation `op` starts before operation `op - 1` of the same job ends.
    Precedence {
        /// Job id.
        job: usize,
        /// The later operation.
        op: usize,
        /// End of operation `op - 1`.
        previous_end: u64,
        /// Start of operation `op`.
        start: u64,
    },
    /// Two operations overlap in time on one machine.
    Overlap {
        /// Machine id.
        machine: usize,
        /// First operation (job, op).
        first: (usize, usize),
        /// Second operation (job, op).
        second: (usize, usize),
    },
    /// The claimed makespan differs from the recomputed one.
    MakespanMismatch {
        /// Claimed value.
        claimed: u64,
        /// Recomputed value.
        actual: u64,
    },
}

/// Result of [`check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    /// Every violation found (empty means feasible).
    pub violations: Vec<Violation>,
    /// Latest end time among the entries.
    pub makespan: u64,
}

impl CheckReport {
    /// True when no constraint is violated.
    pub fn is_feasible(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Checks `entries` against `problem`; if `claimed_makespan` is given it is compared too.
pub fn check(
    problem: &Problem,
    entries: &[ScheduledOp],
    claimed_makespan: Option<u64>,
) -> CheckReport {
    let mut violations = Vec::new();
    let mut by_id: BTreeMap<(usize, usize), Vec<&ScheduledOp>> = BTreeMap::new();
    let mut makespan = 0u64;
    for e in entries {
        makespan = makespan.max(e.end);
        let known = problem
            .jobs
            .get(e.job)
            .is_some_and(|j| e.op < j.operations.len());
        if !known {
            violations.push(Violation::UnknownOperation {
                job: e.job,
                op: e.op,
            });
            continue;
        }
        by_id.entry((e.job, e.op)).or_default().push(e);
    }
    for (&(job, op), list) in &by_id {
        if list.len() > 1 {
            violations.push(Violation::DuplicateOperation {
                job,
                op,
                count: list.len(),
            });
        }
        let spec = &problem.jobs[job].operations[op];
        for e in list {
            match spec.alternatives.iter().find(|a| a.machine == e.machine) {
                None => violations.push(Violation::WrongMachine {
                    job,
                    op,
                    machine: e.machine,
                }),
                Some(alt) => {
                    let actual = i128::from(e.end) - i128::from(e.start);
                    if actual != i128::from(alt.duration) {
                        violations.push(Violation::DurationMismatch {
                            job,
                            op,
                            machine: e.machine,
                            expected: u64::from(alt.duration),
                            actual,
                        });
                    }
                }
            }
        }
    }
    for (job, j) in problem.jobs.iter().enumerate() {
        for op in 0..j.operations.len() {
            if !by_id.contains_key(&(job, op)) {
                violations.push(Violation::MissingOperation { job, op });
            }
            if op > 0
                && let (Some(prev), Some(cur)) = (by_id.get(&(job, op - 1)), by_id.get(&(job, op)))
            {
                {
                    let previous_end = prev.iter().map(|e| e.end).max().unwrap_or(0);
                    for e in cur {
                        if e.start < previous_end {
                            violations.push(Violation::Precedence {
                                job,
                                op,
                                previous_end,
                                start: e.start,
                            });
                        }
                    }
                }
            }
        }
    }
    // Overlaps: per machine, sort by (start, end) and sweep keeping the latest-ending entry.
    let mut per_machine: BTreeMap<usize, Vec<&ScheduledOp>> = BTreeMap::new();
    for e in entries {
        per_machine.entry(e.machine).or_default().push(e);
    }
    for (&machine, list) in per_machine.iter_mut() {
        list.sort_by_key(|e| (e.start, e.end, e.job, e.op));
        for (i, a) in list.iter().enumerate() {
            for b in &list[i + 1..] {
                if b.start >= a.end {
                    break;
                }
                // Zero-length entries occupy no time.
                if a.end > a.start && b.end > b.start {
                    violations.push(Violation::Overlap {
                        machine,
                        first: (a.job, a.op),
                        second: (b.job, b.op),
                    });
                }
            }
        }
    }
    if let Some(claimed) = claimed_makespan
        && claimed != makespan
    {
        violations.push(Violation::MakespanMismatch {
            claimed,
            actual: makespan,
        });
    }
    CheckReport {
        violations,
        makespan,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobshop::parse::parse_jsplib;

    fn op(job: usize, op: usize, machine: usize, start: u64, end: u64) -> ScheduledOp {
        ScheduledOp {
            job,
            op,
            machine,
            start,
            end,
        }
    }

    #[test]
    fn detects_each_kind() {
        let p = parse_jsplib("2 2\n0 3 1 2\n1 4 0 1\n").unwrap();
        let good = vec![
            op(0, 0, 0, 0, 3),
            op(0, 1, 1, 4, 6),
            op(1, 0, 1, 0, 4),
            op(1, 1, 0, 4, 5),
        ];
        let r = check(&p, &good, Some(6));
        assert!(r.is_feasible(), "{:?}", r.violations);
        assert_eq!(r.makespan, 6);

        let bad = vec![
            op(0, 0, 1, 0, 3), // wrong machine
            op(0, 1, 1, 2, 4), // precedence (prev ends 3) + overlap with (1,0)
            op(1, 0, 1, 0, 5), // duration mismatch
            op(1, 0, 1, 0, 4), // duplicate
            op(3, 0, 0, 0, 1), // unknown
        ];
        let r = check(&p, &bad, Some(1));
        let has = |f: &dyn Fn(&Violation) -> bool| r.violations.iter().any(f);
        assert!(has(&|v| matches!(
            v,
            Violation::WrongMachine {
                job: 0,
                op: 0,
                machine: 1
            }
        )));
        assert!(has(&|v| matches!(
            v,
            Violation::Precedence { job: 0, op: 1, .. }
        )));
        assert!(has(&|v| matches!(
            v,
            Violation::DurationMismatch { job: 1, op: 0, .. }
        )));
        assert!(has(&|v| matches!(
            v,
            Violation::DuplicateOperation {
                job: 1,
                op: 0,
                count: 2
            }
        )));
        assert!(has(&|v| matches!(
            v,
            Violation::UnknownOperation { job: 3, op: 0 }
        )));
        assert!(has(&|v| matches!(
            v,
            Violation::MissingOperation { job: 1, op: 1 }
        )));
        assert!(has(&|v| matches!(v, Violation::Overlap { machine: 1, .. })));
        assert!(has(&|v| matches!(
            v,
            Violation::MakespanMismatch {
                claimed: 1,
                actual: 5
            }
        )));
    }
}
