//! The lower bound of the mixed-mode engine is never above the optimum: on problems small
//! enough to enumerate every schedule (a brute force that shares nothing with the solver or
//! the bound, scored by the independent checker), every term of the bound and its weighted
//! total stay at or below the best any schedule reaches; where the objective is weighted
//! tardiness alone, the exact search finds exactly the brute-force optimum.

use proptest::prelude::*;
use schedule::Never;
use schedule::plant::bound::{lower_bound, lower_bound_with};
use schedule::plant::checker::{Kpis, check};
use schedule::plant::exact;
use schedule::plant::problem::{Assignment, PlantProblem, PlantSchedule};
use schedule::plant::{Model, PlantSolveOptions, solve_plant};
use serde_json::json;

/// One operation of a tiny problem: order, alternatives (unit, minutes), family, predecessor
/// within the order with its min lag.
#[derive(Debug, Clone)]
struct TinyOp {
    order: usize,
    alts: Vec<(usize, i64)>,
    family: usize,
    pred: Option<(usize, i64)>,
}

#[derive(Debug, Clone)]
struct Tiny {
    units: usize,
    /// Per unit, a break `[from, to)` in its availability (none: always available).
    breaks: Vec<Option<(i64, i64)>>,
    /// Changeover minutes and cost, `[from][to]` over three families.
    table: [[(i64, f64); 3]; 3],
    /// (release, due, weight)
    orders: Vec<(i64, Option<i64>, f64)>,
    ops: Vec<TinyOp>,
    /// makespan, tardiness, changeover minutes, changeover cost
    weights: [f64; 4],
}

fn family(f: usize) -> String {
    format!("F{f}")
}

impl Tiny {
    fn problem(&self) -> PlantProblem {
        let mut entries = Vec::new();
        for (a, row) in self.table.iter().enumerate() {
            for (b, &(minutes, cost)) in row.iter().enumerate() {
                if a != b {
                    entries.push(json!({"from": family(a), "to": family(b),
                        "minutes": minutes, "cost": cost}));
                }
            }
        }
        let ops: Vec<_> = self
            .ops
            .iter()
            .enumerate()
            .map(|(i, o)| {
                json!({
                    "id": format!("P{i}"),
                    "order": format!("O{}", o.order),
                    "alternatives": o.alts.iter()
                        .map(|&(u, m)| json!({"unit": format!("U{u}"), "minutes": m}))
                        .collect::<Vec<_>>(),
                    "family": family(o.family),
                    "predecessors": o.pred.iter()
                        .map(|&(p, lag)| json!({"op": format!("P{p}"), "min_lag": lag}))
                        .collect::<Vec<_>>(),
                })
            })
            .collect();
        let [makespan, tardiness, changeover_minutes, changeover_cost] = self.weights;
        serde_json::from_value(json!({
            "schema_version": 1,
            "horizon_start": "2026-03-02T00:00:00Z",
            "horizon_minutes": 10_000,
            "units": (0..self.units)
                .map(|u| match self.breaks.get(u).copied().flatten() {
                    None => json!({"id": format!("U{u}"), "changeover": "CO"}),
                    Some((from, to)) => json!({"id": format!("U{u}"), "changeover": "CO",
                        "availability": [{"start": 0, "end": from}, {"start": to, "end": 10_000}]}),
                })
                .collect::<Vec<_>>(),
            "changeovers": [{"id": "CO", "keyed_by": {"kind": "family"},
                "default_minutes": 0, "default_cost": 0.0, "entries": entries}],
            "pools": [],
            "materials": [],
            "orders": self.orders.iter().enumerate()
                .map(|(k, &(release, due, weight))|
                    json!({"id": format!("O{k}"), "release": release, "due": due, "weight": weight}))
                .collect::<Vec<_>>(),
            "operations": ops,
            "objective": {"makespan": makespan, "tardiness": tardiness,
                "changeover_minutes": changeover_minutes, "changeover_cost": changeover_cost,
                "stability": 0.0},
        }))
        .expect("a valid tiny problem")
    }

    /// The earliest start at or after `t` of an operation of `minutes` on `unit` whose
    /// changeover of `setup` minutes runs right before it, both inside one available stretch.
    fn fit(&self, unit: usize, t: i64, setup: i64, minutes: i64) -> i64 {
        let stretches = match self.breaks.get(unit).copied().flatten() {
            None => vec![(i64::MIN / 4, i64::MAX / 4)],
            Some((from, to)) => vec![(0, from), (to, 10_000)],
        };
        for (a, b) in stretches {
            let s = t.max(a + setup);
            if s + minutes <= b {
                return s;
            }
        }
        panic!("no stretch holds the operation");
    }

    /// The semi-active schedule of a global sequence with one alternative per operation:
    /// each operation as early as its release, predecessor and unit (with changeover and
    /// availability) allow.
    fn semi_active(&self, sequence: &[usize], choice: &[usize]) -> PlantSchedule {
        let mut end = vec![0i64; self.ops.len()];
        let mut last: Vec<Option<(i64, usize)>> = vec![None; self.units];
        let mut assignments = Vec::new();
        for &i in sequence {
            let o = &self.ops[i];
            let (unit, minutes) = o.alts[choice[i]];
            let mut start = self.orders[o.order].0;
            if let Some((p, lag)) = o.pred {
                start = start.max(end[p] + lag);
            }
            let mut setup = 0;
            if let Some((free, f)) = last[unit] {
                setup = if f == o.family {
                    0
                } else {
                    self.table[f][o.family].0
                };
                start = start.max(free + setup);
            }
            let start = self.fit(unit, start, setup, minutes);
            end[i] = start + minutes;
            last[unit] = Some((end[i], o.family));
            assignments.push(Assignment {
                op: format!("P{i}"),
                unit: format!("U{unit}"),
                start,
                end: end[i],
            });
        }
        PlantSchedule { assignments }
    }

    /// The best value of every term over all schedules (each term on its own) and of the
    /// weighted total: every global sequence respecting precedence × every unit choice.
    fn optimum(&self, problem: &PlantProblem) -> Kpis {
        let n = self.ops.len();
        let mut best = Kpis {
            makespan: i64::MAX,
            weighted_tardiness: f64::INFINITY,
            changeover_minutes: i64::MAX,
            changeover_cost: f64::INFINITY,
            objective: f64::INFINITY,
            ..Kpis::default()
        };
        let mut sequence: Vec<usize> = Vec::new();
        let mut used = vec![false; n];
        let mut visit = |sequence: &[usize]| {
            let mut choice = vec![0usize; n];
            loop {
                let report = check(problem, &self.semi_active(sequence, &choice));
                assert!(report.feasible, "{:?}", report.violations);
                let k = report.kpis;
                best.makespan = best.makespan.min(k.makespan);
                best.weighted_tardiness = best.weighted_tardiness.min(k.weighted_tardiness);
                best.changeover_minutes = best.changeover_minutes.min(k.changeover_minutes);
                best.changeover_cost = best.changeover_cost.min(k.changeover_cost);
                best.objective = best.objective.min(k.objective);
                // Next choice vector (odometer).
                let mut k = 0;
                loop {
                    if k == n {
                        return;
                    }
                    choice[k] += 1;
                    if choice[k] < self.ops[k].alts.len() {
                        break;
                    }
                    choice[k] = 0;
                    k += 1;
                }
            }
        };
        permute(self, &mut sequence, &mut used, &mut visit);
        best
    }
}

/// Every precedence-respecting order of the operations.
fn permute(t: &Tiny, seq: &mut Vec<usize>, used: &mut [bool], visit: &mut dyn FnMut(&[usize])) {
    if seq.len() == t.ops.len() {
        visit(seq);
        return;
    }
    for i in 0..t.ops.len() {
        let ready = t.ops[i].pred.is_none_or(|(p, _)| used[p]);
        if !used[i] && ready {
            used[i] = true;
            seq.push(i);
            permute(t, seq, used, visit);
            seq.pop();
            used[i] = false;
        }
    }
}

fn tiny() -> impl Strategy<Value = Tiny> {
    let order = (0i64..40, prop::option::of(0i64..90), 1u8..5);
    let op = (
        prop::collection::vec((0usize..3, 1i64..30), 1..3),
        0usize..3,
        0i64..10,
        any::<bool>(),
    );
    let cell = (0i64..40, 0u8..20);
    (
        prop::collection::vec(order, 1..4),
        prop::collection::vec((0usize..3, op), 1..6),
        prop::collection::vec(cell, 9),
        prop::collection::vec(0u8..3, 4),
        2usize..4,
        prop::collection::vec(prop::option::weighted(0.4, (0i64..60, 1i64..40)), 3),
    )
        .prop_map(|(orders, raw_ops, cells, weights, units, breaks)| {
            let orders: Vec<(i64, Option<i64>, f64)> = orders
                .into_iter()
                .map(|(r, due, w)| (r, due.map(|d| r + d), f64::from(w)))
                .collect();
            let mut ops: Vec<TinyOp> = Vec::new();
            let mut last_of_order: Vec<Option<usize>> = vec![None; orders.len()];
            for (o, (mut alts, fam, lag, chained)) in raw_ops {
                let o = o % orders.len();
                for alt in &mut alts {
                    alt.0 %= units;
                }
                alts.sort_by_key(|a| a.0);
                alts.dedup_by_key(|a| a.0);
                let pred = last_of_order[o].filter(|_| chained).map(|p| (p, lag));
                last_of_order[o] = Some(ops.len());
                ops.push(TinyOp {
                    order: o,
                    alts,
                    family: fam,
                    pred,
                });
            }
            let mut table = [[(0i64, 0.0f64); 3]; 3];
            for (k, (m, c)) in cells.into_iter().enumerate() {
                table[k / 3][k % 3] = (m, f64::from(c));
            }
            let w = |x: u8| f64::from(x) * 0.5;
            Tiny {
                units,
                // A break starts after any operation could (so every one fits somewhere).
                breaks: breaks
                    .into_iter()
                    .take(units)
                    .map(|b| b.map(|(from, len)| (from + 1, from + 1 + len)))
                    .collect(),
                table,
                orders,
                ops,
                weights: [
                    w(weights[0]),
                    w(weights[1]) + 0.5,
                    w(weights[2]),
                    w(weights[3]),
                ],
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn bound_never_exceeds_the_optimum(t in tiny()) {
        let problem = t.problem();
        problem.validate().expect("valid");
        let bound = lower_bound(&Model::compile(&problem));
        let best = t.optimum(&problem);
        let tol = 1e-6;
        prop_assert!(bound.makespan <= best.makespan, "{bound:?} vs {best:?}");
        prop_assert!(bound.weighted_tardiness <= best.weighted_tardiness + tol, "{bound:?} vs {best:?}");
        prop_assert!(bound.changeover_minutes <= best.changeover_minutes, "{bound:?} vs {best:?}");
        prop_assert!(bound.changeover_cost <= best.changeover_cost + tol, "{bound:?} vs {best:?}");
        prop_assert!(bound.total <= best.objective + tol, "{bound:?} vs {best:?}");
        // The solver's plan reports the same bound, and its gap against it.
        let options = PlantSolveOptions { max_iterations: Some(200), ..PlantSolveOptions::default() };
        let solution = solve_plant(&problem, &options, &mut Never, &mut |_| {}).expect("solves");
        // The plan's bound is the relaxations' or, where the exact mode applies (weighted
        // tardiness alone), the proved optimum: between the two, never above the optimum.
        prop_assert!(solution.bound.total >= bound.total - tol);
        prop_assert!(solution.bound.weighted_tardiness <= best.weighted_tardiness + tol);
        prop_assert!(solution.bound.total <= best.objective + tol, "{:?} vs {best:?}", solution.bound);
        prop_assert!(solution.score.total >= best.objective - tol);
        prop_assert!((0.0..=100.0).contains(&solution.gap_percent));
    }

    /// The exact search of small weighted-tardiness problems finds exactly the brute-force
    /// optimum, from no incumbent and from any schedule's value above it; the solver's plan
    /// then is that optimum with gap 0.
    #[test]
    fn exact_search_finds_the_brute_force_optimum(t in tiny()) {
        // The exact mode is for problems without calendars.
        let t = Tiny { weights: [0.0, t.weights[1], 0.0, 0.0], breaks: Vec::new(), ..t };
        let problem = t.problem();
        problem.validate().expect("valid");
        let model = Model::compile(&problem);
        prop_assert!(exact::applies(&model));
        let best = t.optimum(&problem).weighted_tardiness;
        let tol = 1e-6;
        let found = exact::exact_tardiness(&model, f64::INFINITY).expect("tiny problems finish");
        prop_assert!((found - best).abs() < tol, "exact {found} vs brute force {best}");
        let from_above = exact::exact_tardiness(&model, best + 7.0).expect("finishes");
        prop_assert!((from_above - best).abs() < tol);
        // An incumbent at the optimum is proved, not improved.
        let at = exact::exact_search(&model, best).expect("finishes");
        prop_assert!((at.tardiness - best).abs() < tol && at.better.is_none());
        let bound = lower_bound_with(&model, Some(best));
        prop_assert!((bound.weighted_tardiness - best).abs() < tol);
        let options = PlantSolveOptions { max_iterations: Some(0), ..PlantSolveOptions::default() };
        let solution = solve_plant(&problem, &options, &mut Never, &mut |_| {}).expect("solves");
        let report = check(&problem, &solution.schedule);
        prop_assert!(report.feasible, "{:?}", report.violations);
        prop_assert!((report.kpis.weighted_tardiness - best).abs() < tol);
        prop_assert_eq!(solution.gap_percent, 0.0);
    }
}

/// A hand-made case where each relaxation binds: one unit, two orders that can run only
/// there, so the single-unit bound sees that one of them must wait for the other.
#[test]
fn single_unit_relaxation_sees_the_queue() {
    let t = Tiny {
        units: 1,
        breaks: Vec::new(),
        table: [[(0, 0.0); 3]; 3],
        orders: vec![(0, Some(10), 1.0), (0, Some(10), 3.0)],
        ops: vec![
            TinyOp {
                order: 0,
                alts: vec![(0, 10)],
                family: 0,
                pred: None,
            },
            TinyOp {
                order: 1,
                alts: vec![(0, 10)],
                family: 1,
                pred: None,
            },
        ],
        weights: [0.0, 1.0, 0.0, 0.0],
    };
    let problem = t.problem();
    let bound = lower_bound(&Model::compile(&problem));
    // Critical paths alone say 0; the queue says the lighter order is 10 minutes late.
    assert_eq!(bound.weighted_tardiness, 10.0);
    assert_eq!(t.optimum(&problem).weighted_tardiness, 10.0);
}

/// Two units, four orders that can each run on either: no unit has operations of its own,
/// so only the two-unit group (one machine twice as fast) sees that two orders must wait.
#[test]
fn a_group_of_units_sees_the_queue_no_single_unit_sees() {
    let op = |order| TinyOp {
        order,
        alts: vec![(0, 10), (1, 10)],
        family: 0,
        pred: None,
    };
    let t = Tiny {
        units: 2,
        breaks: Vec::new(),
        table: [[(0, 0.0); 3]; 3],
        orders: vec![(0, Some(10), 1.0); 4],
        ops: (0..4).map(op).collect(),
        weights: [0.0, 1.0, 0.0, 0.0],
    };
    let problem = t.problem();
    let bound = lower_bound(&Model::compile(&problem));
    // The fast machine ends its four jobs at 5, 10, 15 and 20 (none before 10, its own
    // length): 0 + 0 + 5 + 10. The best schedule has two orders 10 minutes late each.
    assert_eq!(bound.weighted_tardiness, 15.0);
    assert_eq!(bound.makespan, 20);
    assert_eq!(t.optimum(&problem).weighted_tardiness, 20.0);
}

/// A unit's break counts: two orders due at 15 on one unit that stops for [10, 20); the
/// work the unit can do by then is 10 minutes, so the relaxation sees 15 minutes of lateness
/// (it would see 5 if the unit never stopped); the best schedule is 20 minutes late.
#[test]
fn the_relaxation_works_only_while_the_unit_is_available() {
    let op = |order, minutes| TinyOp {
        order,
        alts: vec![(0, minutes)],
        family: 0,
        pred: None,
    };
    let t = Tiny {
        units: 1,
        breaks: vec![Some((10, 20))],
        table: [[(0, 0.0); 3]; 3],
        orders: vec![(0, Some(15), 1.0); 2],
        ops: vec![op(0, 5), op(1, 15)],
        weights: [0.0, 1.0, 0.0, 0.0],
    };
    let problem = t.problem();
    let bound = lower_bound(&Model::compile(&problem));
    assert_eq!(bound.weighted_tardiness, 15.0);
    assert_eq!(t.optimum(&problem).weighted_tardiness, 20.0);
}
