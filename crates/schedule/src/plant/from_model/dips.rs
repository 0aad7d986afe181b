//! Pool capacity over time: the crews of running steps and absent members, summed into the
//! pools' dips.

use std::collections::BTreeMap;

use crate::plant::problem::{CapacityDip, OperationSpec, PoolSpec};

/// Members of a pool taken over `[start, end)`: a running crew, an absence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Taken {
    pub start: i64,
    pub end: i64,
    pub quantity: u32,
}

/// Takes the pool uses of running operations out of them, as capacity taken over `[0, end)`
/// (their end on the unit they run on): a running step started before minute 0, where no
/// pool window is, and may run through a shift change, yet its crew stays on it until it
/// ends.
pub(super) fn running_crews(operations: &mut [OperationSpec]) -> BTreeMap<String, Vec<Taken>> {
    let mut taken: BTreeMap<String, Vec<Taken>> = BTreeMap::new();
    for op in operations.iter_mut() {
        let Some(fixed) = op.fixed.as_ref().filter(|f| f.in_progress) else {
            continue;
        };
        let end = op
            .alternatives
            .iter()
            .find(|a| a.unit == fixed.unit)
            .and_then(|a| a.duration(op.quantity))
            .map_or(fixed.start, |d| fixed.start + d);
        for use_ in std::mem::take(&mut op.pools) {
            if end > 0 {
                taken.entry(use_.pool).or_default().push(Taken {
                    start: 0,
                    end,
                    quantity: use_.quantity,
                });
            }
        }
    }
    taken
}

/// Capacity taken from each pool (crews, absences), summed into non-overlapping dips: over
/// each stretch where some is taken, the pool's capacity less all that is taken then.
pub(super) fn capacity_dips(
    taken: BTreeMap<String, Vec<Taken>>,
    pools: &mut BTreeMap<String, PoolSpec>,
) {
    for (pool, uses) in taken {
        let Some(spec) = pools.get_mut(&pool) else {
            continue;
        };
        let mut points: Vec<i64> = uses.iter().flat_map(|t| [t.start, t.end]).collect();
        points.sort_unstable();
        points.dedup();
        for pair in points.windows(2) {
            let (from, to) = (pair[0], pair[1]);
            let held: u32 = uses
                .iter()
                .filter(|t| t.start <= from && from < t.end)
                .map(|t| t.quantity)
                .sum();
            if held == 0 {
                continue;
            }
            let capacity = spec.capacity.saturating_sub(held);
            match spec.dips.last_mut() {
                Some(last) if last.end == from && last.capacity == capacity => last.end = to,
                _ => spec.dips.push(CapacityDip {
                    start: from,
                    end: to,
                    capacity,
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plant::problem::{AltSpec, Fixed, PoolUse};

    fn running(id: &str, start: i64, minutes: i64, pools: &[(&str, u32)]) -> OperationSpec {
        OperationSpec {
            id: id.into(),
            order: id.into(),
            release: None,
            predecessors: Vec::new(),
            alternatives: vec![AltSpec {
                unit: "U".into(),
                minutes: Some(minutes),
                items_per_hour: None,
                setup_minutes: 0,
            }],
            quantity: 1.0,
            product: None,
            family: None,
            attributes: BTreeMap::new(),
            pools: pools
                .iter()
                .map(|(pool, quantity)| PoolUse {
                    pool: (*pool).into(),
                    quantity: *quantity,
                })
                .collect(),
            consumes: Vec::new(),
            produces: Vec::new(),
            fixed: Some(Fixed {
                unit: "U".into(),
                start,
                in_progress: true,
            }),
            cip_before: false,
        }
    }

    #[test]
    fn crews_and_absences_sum_into_one_step_profile_of_dips() {
        let pool = PoolSpec {
            id: "P".into(),
            description: None,
            capacity: 5,
            availability: None,
            dips: Vec::new(),
        };
        let mut pools: BTreeMap<String, PoolSpec> = [("P".to_owned(), pool)].into();
        let mut ops = vec![running("A", -30, 90, &[("P", 2)])];
        let mut taken = running_crews(&mut ops);
        let absent = |start, end| Taken {
            start,
            end,
            quantity: 1,
        };
        taken
            .get_mut("P")
            .unwrap()
            .extend([absent(30, 120), absent(120, 200), absent(500, 600)]);
        capacity_dips(taken, &mut pools);
        let dip = |start, end, capacity| CapacityDip {
            start,
            end,
            capacity,
        };
        assert_eq!(
            pools["P"].dips,
            [
                dip(0, 30, 3),
                dip(30, 60, 2),
                // Two absences back to back: one dip.
                dip(60, 200, 4),
                dip(500, 600, 4),
            ]
        );
    }

    #[test]
    fn running_crews_become_summed_dips_until_each_step_ends() {
        let pool = PoolSpec {
            id: "P".into(),
            description: None,
            capacity: 5,
            availability: None,
            dips: Vec::new(),
        };
        let mut pools: BTreeMap<String, PoolSpec> = [("P".to_owned(), pool)].into();
        let mut ops = vec![
            running("A", -30, 90, &[("P", 2)]),
            running("B", -10, 40, &[("P", 1)]),
            // Overran: it should have ended before minute 0, and holds nothing.
            running("C", -100, 20, &[("P", 3)]),
        ];
        let taken = running_crews(&mut ops);
        capacity_dips(taken, &mut pools);
        assert!(ops.iter().all(|op| op.pools.is_empty()));
        assert_eq!(
            pools["P"].dips,
            [
                CapacityDip {
                    start: 0,
                    end: 30,
                    capacity: 2
                },
                CapacityDip {
                    start: 30,
                    end: 60,
                    capacity: 3
                },
            ]
        );
    }
}
