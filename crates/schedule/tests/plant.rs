//! The mixed-mode engine end to end: schema drift, the reference plant, generated instances
//! (property test: every solver output passes the independent checker and the checker's
//! objective equals the solver's), impossible input, determinism and repair.

mod common;

use common::reference_problem;
use schedule::plant::from_model::{FromModelOptions, problem_from_model};
use std::path::PathBuf;

use proptest::prelude::*;
use schedule::plant::checker::{Violation, check};
use schedule::plant::generate::{GenerateOptions, generate};
use schedule::plant::problem::*;
use schedule::plant::repair::{Disruption, repair};
use schedule::plant::{PlantSolveError, PlantSolveOptions, solve_plant};
use schedule::{Never, Termination};

fn budget(iterations: u64, threads: usize, seed: u64) -> PlantSolveOptions {
    PlantSolveOptions {
        seed,
        threads,
        max_iterations: Some(iterations),
        objective: None,
    }
}

fn assert_feasible(problem: &PlantProblem, solution: &schedule::plant::PlantSolution) {
    let report = check(problem, &solution.schedule);
    assert!(
        report.feasible,
        "violations: {:#?}",
        &report.violations[..report.violations.len().min(10)]
    );
    let s = solution.score;
    assert_eq!(report.kpis.makespan, s.makespan);
    assert_eq!(report.kpis.changeover_minutes, s.changeover_minutes);
    assert!((report.kpis.weighted_tardiness - s.weighted_tardiness).abs() < 1e-6);
    assert!((report.kpis.objective - s.total).abs() < 1e-6 * s.total.abs().max(1.0));
}

#[test]
fn schema_is_published() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../schemas/schedule-problem.schema.json");
    let current = problem_schema();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &current).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == current,
        "{} is out of date; rerun with UPDATE_SNAPSHOTS=1",
        path.display()
    );
}

#[test]
fn reference_plant_solves_and_checks() {
    let problem = reference_problem();
    assert!(problem.operations.len() > 100);
    let solution = solve_plant(&problem, &budget(300, 1, 1), &mut Never, &mut |_| {}).unwrap();
    assert_feasible(&problem, &solution);
    assert!(solution.score.total <= solution.initial_score.total);
}

#[test]
fn json_round_trip() {
    let problem = generate(GenerateOptions {
        operations: 60,
        units: 6,
        seed: 3,
    });
    let text = serde_json::to_string(&problem).unwrap();
    let back: PlantProblem = serde_json::from_str(&text).unwrap();
    assert_eq!(back, problem);
    back.validate().unwrap();
}

#[test]
fn deterministic_for_seed_and_threads() {
    let problem = generate(GenerateOptions {
        operations: 150,
        units: 9,
        seed: 5,
    });
    let a = solve_plant(&problem, &budget(200, 2, 9), &mut Never, &mut |_| {}).unwrap();
    let b = solve_plant(&problem, &budget(200, 2, 9), &mut Never, &mut |_| {}).unwrap();
    assert_eq!(a, b);
    assert_feasible(&problem, &a);
}

#[test]
fn cancellation_stops_the_search() {
    let problem = generate(GenerateOptions {
        operations: 100,
        units: 6,
        seed: 2,
    });
    let mut calls = 0;
    let mut stop = || {
        calls += 1;
        calls > 3
    };
    let options = PlantSolveOptions::default();
    let mut reports = 0;
    let s = solve_plant(
        &problem,
        &options,
        &mut stop as &mut dyn Termination,
        &mut |_| reports += 1,
    )
    .unwrap();
    assert!(s.iterations < 1000);
    assert!(reports > 0);
    assert_feasible(&problem, &s);
}

fn tiny() -> PlantProblem {
    serde_json::from_value(serde_json::json!({
        "horizon_start": "2026-03-02T00:00:00Z",
        "horizon_minutes": 1440,
        "units": [{"id": "U1"}, {"id": "U2", "availability": [{"start": 0, "end": 600}]}],
        "pools": [{"id": "TECH", "capacity": 1}],
        "materials": [{"id": "M", "initial": 0}],
        "orders": [{"id": "A", "due": 100}, {"id": "B"}],
        "operations": [
            {"id": "a1", "order": "A", "alternatives": [{"unit": "U1", "minutes": 30}], "produces": [{"material": "M", "quantity": 5}]},
            {"id": "a2", "order": "A", "predecessors": [{"op": "a1", "max_lag": 10}], "alternatives": [{"unit": "U2", "minutes": 20}], "pools": [{"pool": "TECH", "quantity": 1}]},
            {"id": "b1", "order": "B", "alternatives": [{"unit": "U1", "minutes": 10}, {"unit": "U2", "minutes": 15}], "consumes": [{"material": "M", "quantity": 5}], "pools": [{"pool": "TECH", "quantity": 1}]}
        ]
    }))
    .unwrap()
}

#[test]
fn tiny_problem_and_checker_violations() {
    let p = tiny();
    let s = solve_plant(&p, &budget(50, 1, 0), &mut Never, &mut |_| {}).unwrap();
    assert_feasible(&p, &s);
    // Break it: everything at 0 on U1.
    let bad = PlantSchedule {
        assignments: vec![
            Assignment {
                op: "a1".into(),
                unit: "U1".into(),
                start: 0,
                end: 30,
            },
            Assignment {
                op: "a2".into(),
                unit: "U1".into(),
                start: 0,
                end: 20,
            },
            Assignment {
                op: "b1".into(),
                unit: "U1".into(),
                start: 0,
                end: 10,
            },
            Assignment {
                op: "b1".into(),
                unit: "U1".into(),
                start: 0,
                end: 10,
            },
        ],
    };
    let r = check(&p, &bad);
    let kinds: Vec<&str> = r
        .violations
        .iter()
        .map(|v| match v {
            Violation::WrongUnit { .. } => "wrong_unit",
            Violation::DuplicateOperation { .. } => "duplicate",
            Violation::Precedence { .. } => "precedence",
            Violation::UnitOverlap { .. } => "overlap",
            Violation::PoolCapacity { .. } => "pool",
            Violation::InventoryNegative { .. } => "inventory",
            _ => "other",
        })
        .collect();
    for k in [
        "wrong_unit",
        "duplicate",
        "precedence",
        "overlap",
        "pool",
        "inventory",
    ] {
        assert!(kinds.contains(&k), "missing {k} in {:?}", r.violations);
    }
}

#[test]
fn impossible_input_is_named() {
    let mut p = tiny();
    p.operations[1].pools[0].quantity = 2;
    assert!(
        matches!(p.validate(), Err(ProblemError::PoolOverCapacity { ref op, .. }) if op == "a2")
    );
    let mut p = tiny();
    p.operations[0].predecessors.push(Lag {
        op: "a2".into(),
        min_lag: 0,
        max_lag: None,
    });
    assert!(matches!(
        p.validate(),
        Err(ProblemError::PrecedenceCycle { .. })
    ));
    let mut p = tiny();
    p.operations[2].consumes[0].quantity = 50.0;
    assert!(
        matches!(p.validate(), Err(ProblemError::MaterialNeverAvailable { ref material, .. }) if material == "M")
    );
    let mut p = tiny();
    p.operations[0].alternatives[0].unit = "NOPE".into();
    assert!(matches!(p.validate(), Err(ProblemError::NoUnit { ref op, .. }) if op == "a1"));
    let mut p = tiny();
    p.units[1].availability = Some(vec![Interval { start: 5, end: 1 }]);
    let e = p.validate().unwrap_err();
    assert!(
        e.to_string().contains("U2") && e.to_string().contains("availability"),
        "{e}"
    );
}

#[test]
fn repair_after_downtime_keeps_the_rest() {
    let problem = reference_problem();
    let before = solve_plant(&problem, &budget(100, 1, 1), &mut Never, &mut |_| {}).unwrap();
    // Take the unit of the first operation after minute 600 down for four hours.
    let victim = before
        .schedule
        .assignments
        .iter()
        .filter(|a| a.start >= 600)
        .min_by_key(|a| a.start)
        .unwrap()
        .clone();
    let d = Disruption::Downtime {
        unit: victim.unit.clone(),
        start: victim.start - 10,
        end: victim.start + 240,
    };
    let out = repair(
        &problem,
        &before.schedule,
        &[d],
        victim.start - 20,
        &budget(100, 1, 1),
        &mut Never,
    )
    .unwrap();
    let report = check(&out.problem, &out.schedule);
    assert!(report.feasible, "{:?}", report.violations);
    assert!(out.moved.contains(&victim.op));
    assert!(
        out.moved.len() < problem.operations.len() / 2,
        "moved {}",
        out.moved.len()
    );
}

/// A batch already ran on the reactor and must be transferred within 30 minutes; the
/// transfer line then breaks down for two hours. The wait cannot be kept: repair still
/// answers, and names the breached maximum wait with the wait the schedule gives.
#[test]
fn repair_names_a_maximum_wait_the_disruption_makes_impossible() {
    let problem: PlantProblem = serde_json::from_value(serde_json::json!({
        "horizon_start": "2026-03-02T00:00:00Z",
        "horizon_minutes": 1440,
        "units": [{"id": "REACTOR"}, {"id": "TRANSFER"}],
        "orders": [{"id": "B-1", "due": 600}, {"id": "B-2", "due": 900}],
        "operations": [
            {"id": "B-1/react", "order": "B-1", "alternatives": [{"unit": "REACTOR", "minutes": 60}]},
            {"id": "B-1/transfer", "order": "B-1", "alternatives": [{"unit": "TRANSFER", "minutes": 30}],
             "predecessors": [{"op": "B-1/react", "max_lag": 30}]},
            {"id": "B-2/react", "order": "B-2", "alternatives": [{"unit": "REACTOR", "minutes": 60}]},
            {"id": "B-2/transfer", "order": "B-2", "alternatives": [{"unit": "TRANSFER", "minutes": 30}],
             "predecessors": [{"op": "B-2/react", "max_lag": 30}]}
        ]
    }))
    .unwrap();
    let before = solve_plant(&problem, &budget(50, 1, 1), &mut Never, &mut |_| {}).unwrap();
    let first = before
        .schedule
        .assignments
        .iter()
        .find(|a| a.op.ends_with("/react") && a.start == 0)
        .unwrap()
        .clone();
    let batch = first.op.trim_end_matches("/react").to_owned();
    // Down from the end of the first reaction: its transfer cannot start within 30 minutes.
    let d = Disruption::Downtime {
        unit: "TRANSFER".into(),
        start: first.end,
        end: first.end + 120,
    };
    let out = repair(
        &problem,
        &before.schedule,
        &[d],
        1,
        &budget(50, 1, 1),
        &mut Never,
    )
    .unwrap();
    let report = check(&out.problem, &out.schedule);
    assert!(report.feasible, "{:?}", report.violations);
    assert_eq!(
        out.breached_max_lags.len(),
        1,
        "{:?}",
        out.breached_max_lags
    );
    let breach = &out.breached_max_lags[0];
    assert_eq!(breach.predecessor, format!("{batch}/react"));
    assert_eq!(breach.op, format!("{batch}/transfer"));
    assert_eq!(breach.max_lag, 30);
    let at = |id: &str| {
        out.schedule
            .assignments
            .iter()
            .find(|a| a.op == id)
            .unwrap()
    };
    assert_eq!(
        breach.wait,
        at(&breach.op).start - at(&breach.predecessor).end
    );
    assert!(
        breach.wait >= 120,
        "the transfer line is down for 120 minutes: {breach:?}"
    );
    // Only the frozen batch's lag was dropped; the other batch keeps its maximum wait.
    let other = out
        .problem
        .operations
        .iter()
        .find(|o| o.id.ends_with("/transfer") && !o.id.starts_with(&batch))
        .unwrap();
    assert_eq!(other.predecessors[0].max_lag, Some(30));
    // Against the original constraints the schedule breaks exactly that wait.
    let mut strict = out.problem.clone();
    strict.operations = problem.operations.clone();
    let violations = check(&strict, &out.schedule).violations;
    assert!(!violations.is_empty());
}

#[test]
fn repair_with_rush_order() {
    let problem = generate(GenerateOptions {
        operations: 120,
        units: 9,
        seed: 8,
    });
    let before = solve_plant(&problem, &budget(50, 1, 1), &mut Never, &mut |_| {}).unwrap();
    let mut op = problem
        .operations
        .iter()
        .find(|o| o.fixed.is_none() && o.predecessors.is_empty())
        .unwrap()
        .clone();
    op.consumes.clear();
    op.id = "RUSH-1".into();
    op.order = "RUSH".into();
    let order = OrderSpec {
        id: "RUSH".into(),
        release: 0,
        due: Some(600),
        weight: 10.0,
    };
    let out = repair(
        &problem,
        &before.schedule,
        &[Disruption::RushOrder {
            order,
            operations: vec![op],
        }],
        100,
        &budget(50, 1, 1),
        &mut Never,
    )
    .unwrap();
    let report = check(&out.problem, &out.schedule);
    assert!(report.feasible, "{:?}", report.violations);
}

#[test]
fn certification_nobody_holds_is_named() {
    let mut plant: model::Plant =
        serde_json::from_str(include_str!("../../sim/data/reference-plant.json")).unwrap();
    // Every reactor certificate has expired by the start of the horizon.
    for pool in &mut plant.pools {
        for m in &mut pool.members {
            for c in &mut m.certifications {
                if c.certification.as_str() == "reactor" {
                    c.expires = Some(model::Timestamp::parse("2026-01-01T00:00:00Z").unwrap());
                }
            }
        }
    }
    let catalog = model::Catalog::new(plant).unwrap();
    let start = model::Timestamp::parse("2026-03-02T00:00:00Z").unwrap();
    let state = model::PlantState::initial(&catalog, start);
    let e =
        problem_from_model(&catalog, &state, &FromModelOptions::new(start, 14 * 1440)).unwrap_err();
    assert!(e.to_string().contains("certification"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(12), ..ProptestConfig::default() })]
    #[test]
    fn every_solver_output_passes_the_checker(seed in 0u64..1000, ops in 5usize..120, units in 3usize..12, threads in 1usize..3) {
        let problem = generate(GenerateOptions { operations: ops, units, seed });
        match solve_plant(&problem, &budget(40, threads, seed), &mut Never, &mut |_| {}) {
            Ok(s) => assert_feasible(&problem, &s),
            Err(PlantSolveError::Problem(e)) => panic!("generator made an invalid problem: {e}"),
            Err(e) => panic!("no schedule: {e}"),
        }
    }

    /// A downtime anywhere, at any moment: repair always answers, its schedule passes the
    /// checker on the repaired problem, nothing that started before `now` moved, and every
    /// maximum wait it dropped is one the schedule really breaches.
    #[test]
    fn repair_after_any_downtime_passes_the_checker(seed in 0u64..1000, ops in 5usize..100, units in 3usize..10, unit_pick in 0usize..64, at in 0.0f64..1.0, length in 1i64..600) {
        let problem = generate(GenerateOptions { operations: ops, units, seed });
        let before = solve_plant(&problem, &budget(20, 1, seed), &mut Never, &mut |_| {}).unwrap();
        let end = before.schedule.assignments.iter().map(|a| a.end).max().unwrap_or(0);
        let now = (at * end as f64) as i64;
        let unit = problem.units[unit_pick % problem.units.len()].id.clone();
        let d = Disruption::Downtime { unit, start: now, end: now + length };
        let out = repair(&problem, &before.schedule, &[d], now, &budget(20, 1, seed), &mut Never)
            .unwrap_or_else(|e| panic!("repair failed: {e}"));
        let report = check(&out.problem, &out.schedule);
        prop_assert!(report.feasible, "{:?}", &report.violations[..report.violations.len().min(5)]);
        for old in before.schedule.assignments.iter().filter(|a| a.start < now) {
            let new = out.schedule.assignments.iter().find(|a| a.op == old.op).unwrap();
            prop_assert_eq!((&new.unit, new.start), (&old.unit, old.start));
        }
        for b in &out.breached_max_lags {
            let at = |id: &str| out.schedule.assignments.iter().find(|a| a.op == id).unwrap();
            prop_assert_eq!(b.wait, at(&b.op).start - at(&b.predecessor).end);
            prop_assert!(b.wait > b.max_lag);
        }
    }
}

#[test]
fn lateness_risk_is_seeded_and_grows_with_spread() {
    let problem = generate(GenerateOptions {
        operations: 120,
        units: 9,
        seed: 21,
    });
    let s = solve_plant(&problem, &budget(30, 1, 1), &mut Never, &mut |_| {}).unwrap();
    let a = schedule::plant::risk::lateness_risk(&problem, &s.schedule, 30, 0.3, 5).unwrap();
    let b = schedule::plant::risk::lateness_risk(&problem, &s.schedule, 30, 0.3, 5).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), problem.orders.len());
    assert!(a.iter().all(|r| (0.0..=1.0).contains(&r.probability_late)));
    let calm = schedule::plant::risk::lateness_risk(&problem, &s.schedule, 30, 0.0, 5).unwrap();
    let wild = schedule::plant::risk::lateness_risk(&problem, &s.schedule, 30, 0.8, 5).unwrap();
    let total =
        |v: &[schedule::plant::risk::OrderRisk]| v.iter().map(|r| r.probability_late).sum::<f64>();
    assert!(
        total(&wild) >= total(&calm),
        "{} < {}",
        total(&wild),
        total(&calm)
    );
}

/// `cip_before`: the CIP runs before the operation whatever ran before it, also as its unit's
/// first (from minute 0, never before); the checker counts it and refuses a schedule without
/// room for it; a unit without a CIP rule cannot take such an operation.
#[test]
fn a_required_cip_runs_before_the_first_batch_too() {
    let mut problem: PlantProblem = serde_json::from_value(serde_json::json!({
        "horizon_start": "2026-03-02T00:00:00Z",
        "horizon_minutes": 1440,
        "units": [{"id": "R1", "cip": {"minutes": 30}}],
        "orders": [{"id": "A"}, {"id": "B"}],
        "operations": [
            {"id": "A1", "order": "A", "product": "P", "cip_before": true,
             "alternatives": [{"unit": "R1", "minutes": 60}]},
            {"id": "B1", "order": "B", "product": "P", "release": 1,
             "alternatives": [{"unit": "R1", "minutes": 60}]}
        ]
    }))
    .unwrap();
    let solution = solve_plant(&problem, &budget(50, 1, 0), &mut Never, &mut |_| {}).unwrap();
    assert_feasible(&problem, &solution);
    let report = check(&problem, &solution.schedule);
    assert_eq!(report.kpis.cips, 1);
    assert_eq!(report.kpis.changeover_minutes, 30);
    let a1 = solution
        .schedule
        .assignments
        .iter()
        .find(|a| a.op == "A1")
        .unwrap();
    let b1 = solution
        .schedule
        .assignments
        .iter()
        .find(|a| a.op == "B1")
        .unwrap();
    // Either order: A1 waits for its CIP (from minute 0 when first), B1 never gets one.
    if a1.start < b1.start {
        assert_eq!((a1.start, b1.start), (30, 90));
    } else {
        assert_eq!((b1.start, a1.start), (1, 91));
    }
    assert_eq!(report.kpis.makespan, 150);

    // The CIP may not be assumed done before minute 0.
    let early = PlantSchedule {
        assignments: vec![
            Assignment {
                op: "A1".into(),
                unit: "R1".into(),
                start: 0,
                end: 60,
            },
            Assignment {
                op: "B1".into(),
                unit: "R1".into(),
                start: 60,
                end: 120,
            },
        ],
    };
    let verdict = check(&problem, &early);
    assert!(
        verdict
            .violations
            .iter()
            .any(|v| matches!(v, Violation::UnitUnavailable { op, from: -30, .. } if op == "A1")),
        "{:?}",
        verdict.violations
    );

    problem.units[0].cip = None;
    let err = problem.validate().unwrap_err().to_string();
    assert_eq!(
        err,
        "A1: alternatives[0]: cip_before needs a CIP on unit `R1`, which has no `cip` rule"
    );
}
