//! The genome the search works on (group priority order plus preferred units), the decoded
//! schedule with its [`Score`], and why decoding can fail.

use std::collections::HashMap;

use super::super::problem::{Assignment, PlantProblem, PlantSchedule};
use super::Model;

/// A solution candidate: the priority order of groups and preferred units.
#[derive(Debug, Clone, PartialEq)]
pub struct Genome {
    /// A permutation of group indices; lower position = placed first among eligible.
    pub order: Vec<usize>,
    /// Preferred alternative index per operation (`None`: best by earliest end).
    pub unit_pref: Vec<Option<u16>>,
    /// Lower bound on each operation's start (repair keeps operations at their old start).
    pub hold: Option<Vec<i64>>,
}

impl Genome {
    /// The genome that replays `schedule`: groups in order of their earliest start, each
    /// operation on the unit it has there (operations the schedule lacks go last, free to
    /// choose). `problem` must be the one `model` was compiled from.
    pub fn from_schedule(
        model: &Model,
        problem: &PlantProblem,
        schedule: &PlantSchedule,
    ) -> Genome {
        let (starts, unit_pref) = placements(problem, schedule);
        let key: Vec<i64> = model
            .groups
            .iter()
            .map(|members| {
                members
                    .iter()
                    .filter_map(|&i| starts[i])
                    .min()
                    .unwrap_or(i64::MAX)
            })
            .collect();
        let mut order: Vec<usize> = (0..model.groups.len()).collect();
        order.sort_by_key(|&g| (key[g], g));
        Genome {
            order,
            unit_pref,
            hold: None,
        }
    }
}

/// Per operation of `problem`: its start in `schedule` and the index of the alternative
/// whose unit it runs on there (`None` where the schedule lacks it).
pub(crate) fn placements(
    problem: &PlantProblem,
    schedule: &PlantSchedule,
) -> (Vec<Option<i64>>, Vec<Option<u16>>) {
    let placed: HashMap<&str, (&str, i64)> = schedule
        .assignments
        .iter()
        .map(|a| (a.op.as_str(), (a.unit.as_str(), a.start)))
        .collect();
    problem
        .operations
        .iter()
        .map(|op| match placed.get(op.id.as_str()) {
            Some(&(unit, start)) => (
                Some(start),
                op.alternatives
                    .iter()
                    .position(|a| a.unit == unit)
                    .map(|x| x as u16),
            ),
            None => (None, None),
        })
        .unzip()
}

/// Score of a decoded schedule, term by term (the checker recomputes the same numbers).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
pub struct Score {
    pub makespan: i64,
    pub weighted_tardiness: f64,
    pub changeover_minutes: i64,
    pub changeover_cost: f64,
    pub stability: i64,
    /// The weighted sum.
    pub total: f64,
}

/// A decoded schedule.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub unit: Vec<usize>,
    pub start: Vec<i64>,
    pub end: Vec<i64>,
    pub score: Score,
}

impl Decoded {
    pub fn to_schedule(&self, m: &Model) -> PlantSchedule {
        PlantSchedule {
            assignments: (0..m.ops.len())
                .map(|i| Assignment {
                    op: m.op_ids[i].clone(),
                    unit: m.unit_ids[self.unit[i]].clone(),
                    start: self.start[i],
                    end: self.end[i],
                })
                .collect(),
        }
    }
}

/// Why no schedule could be generated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error(
        "operation `{op}` waits for material `{material}` that never becomes available in time"
    )]
    MaterialStuck { op: String, material: String },
    #[error("operations linked by maximum lags around `{op}` could not be placed together")]
    MaxLag { op: String },
}
