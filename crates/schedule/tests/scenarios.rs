//! What-if scenarios end to end: the reference plant gets five ranked, feasible scenarios,
//! the ranking follows its weights, overtime and deferral change what they should, and the
//! report is the same for the same seed.

mod common;

use common::reference_problem;
use schedule::plant::checker::check;
use schedule::plant::generate::{GenerateOptions, generate};
use schedule::plant::problem::{PlantProblem, PlantSchedule};
use schedule::plant::scenario::{
    Deferral, RankingWeights, RiskOptions, ScenarioChanges, ScenarioKind, ScenarioKpis,
    ScenarioOptions, ScenarioReport, assess, check_changes, run_scenarios,
};
use schedule::{Never, Termination};

fn run(problem: &PlantProblem, options: &ScenarioOptions) -> ScenarioReport {
    let mut never = |_| Box::new(Never) as Box<dyn Termination>;
    run_scenarios(problem, None, options, &mut never, &mut |_, _| {}).unwrap()
}

fn quick(seed: u64) -> ScenarioOptions {
    ScenarioOptions {
        seed,
        threads: 1,
        max_iterations: Some(150),
        risk_runs: 40,
        ..Default::default()
    }
}

fn assert_all_feasible(problem: &PlantProblem, report: &ScenarioReport) {
    for s in &report.scenarios {
        let own = report.problem_of(problem, s.scenario);
        let verdict = check(&own, &s.schedule);
        assert!(
            verdict.feasible,
            "{}: {:?}",
            s.scenario,
            &verdict.violations[..verdict.violations.len().min(5)]
        );
        assert_eq!(verdict.kpis.makespan, s.kpis.makespan_minutes);
        assert_eq!(verdict.kpis.late_orders, s.kpis.late_orders);
    }
}

/// What tells two answers apart for the planner.
fn signature(k: &ScenarioKpis) -> (i64, i64, i64, usize, i64, i64) {
    (
        k.makespan_minutes,
        k.changeover_minutes,
        (k.changeover_cost * 1000.0).round() as i64,
        k.late_orders,
        (k.weighted_tardiness * 1000.0).round() as i64,
        k.overtime_minutes,
    )
}

/// The what-ifs of `report` are genuine alternatives to `plan`: every what-if asked for is
/// accounted for once (answered, skipped, or none found); no answer is the plan, their KPIs
/// differ pairwise (the plan's included); and each answer is strictly better than the plan on
/// its own KPI, judged here with the checker under the what-if's weights and changes.
fn assert_genuine_alternatives(
    problem: &PlantProblem,
    plan: &PlantSchedule,
    options: &ScenarioOptions,
    report: &ScenarioReport,
) {
    let mut accounted: Vec<ScenarioKind> = report
        .scenarios
        .iter()
        .map(|s| s.scenario)
        .chain(report.skipped.iter().map(|s| s.scenario))
        .chain(report.none_found.iter().map(|s| s.scenario))
        .collect();
    accounted.sort();
    let mut asked = options.scenarios.clone();
    asked.push(ScenarioKind::AsPlanned);
    asked.sort();
    assert_eq!(accounted, asked);
    for (i, a) in report.scenarios.iter().enumerate() {
        for b in &report.scenarios[i + 1..] {
            assert_ne!(
                signature(&a.kpis),
                signature(&b.kpis),
                "{} and {} offer the same KPIs",
                a.scenario,
                b.scenario
            );
        }
    }
    for s in &report.scenarios {
        if s.scenario == ScenarioKind::AsPlanned {
            assert_eq!(s.schedule, *plan);
            continue;
        }
        assert!(!s.kept_plan, "{}", s.scenario);
        if s.scenario == ScenarioKind::OvertimeOnBottleneck {
            assert!(s.kpis.overtime_minutes > 0, "overtime unused");
        }
        assert_ne!(s.schedule, *plan, "{} repeats the plan", s.scenario);
        let mut own = report.problem_of(problem, s.scenario);
        for d in &s.changes.deferred {
            let order = own.orders.iter_mut().find(|o| o.id == d.order).unwrap();
            order.due = Some(d.deferred_due);
        }
        own.objective = Some(s.objective);
        let (mine, theirs) = (check(&own, &s.schedule).kpis, check(&own, plan).kpis);
        let w = s.objective;
        let changeover = |k: &schedule::plant::Kpis| {
            w.changeover_minutes * k.changeover_minutes as f64
                + w.changeover_cost * k.changeover_cost
        };
        let better = match s.scenario {
            ScenarioKind::MaximizeThroughput => mine.makespan < theirs.makespan,
            ScenarioKind::MinimizeTardiness => {
                mine.weighted_tardiness < theirs.weighted_tardiness - 1e-6
            }
            ScenarioKind::MinimizeChangeovers => changeover(&mine) < changeover(&theirs) - 1e-6,
            _ => mine.objective < theirs.objective - 1e-6,
        };
        assert!(
            better,
            "{} is no better than the plan on its own KPI",
            s.scenario
        );
    }
    for n in &report.none_found {
        assert!(!n.reason.is_empty());
    }
}

/// Over generated plants, with an iteration budget, with and without a plan in force: the
/// answers are genuine, pairwise different alternatives, and the same for the same seed.
#[test]
fn what_ifs_are_distinct_alternatives_or_reported_as_none_found() {
    let all = vec![
        ScenarioKind::MaximizeThroughput,
        ScenarioKind::MinimizeTardiness,
        ScenarioKind::MinimizeChangeovers,
        ScenarioKind::OvertimeOnBottleneck,
        ScenarioKind::DeferLowPriority,
    ];
    let mut answered = 0;
    let mut none_found = 0;
    for seed in 0..4 {
        let problem = generate(GenerateOptions {
            operations: 40,
            units: 5,
            seed,
        });
        let plan = schedule::plant::solve_plant(
            &problem,
            &schedule::plant::PlantSolveOptions {
                seed,
                threads: 1,
                max_iterations: Some(60),
                objective: None,
            },
            &mut Never,
            &mut |_| {},
        )
        .unwrap()
        .schedule;
        let options = ScenarioOptions {
            scenarios: all.clone(),
            risk_runs: 10,
            ..quick(seed)
        };
        for given in [Some(&plan), None] {
            let mut never = |_| Box::new(Never) as Box<dyn Termination>;
            let report =
                run_scenarios(&problem, given, &options, &mut never, &mut |_, _| {}).unwrap();
            let planned = report
                .scenarios
                .iter()
                .find(|s| s.scenario == ScenarioKind::AsPlanned)
                .unwrap();
            assert_genuine_alternatives(&problem, &planned.schedule, &options, &report);
            assert_all_feasible(&problem, &report);
            answered += report.scenarios.len() - 1;
            none_found += report.none_found.len();
            let again =
                run_scenarios(&problem, given, &options, &mut never, &mut |_, _| {}).unwrap();
            assert_eq!(report, again, "seed {seed}");
        }
    }
    // The property is not met by answering nothing.
    assert!(
        answered > none_found,
        "{answered} answered, {none_found} none found"
    );
}

#[test]
fn reference_plant_gets_five_ranked_feasible_scenarios() {
    let problem = reference_problem();
    // 150 iterations are too few for the overtime what-if to find a better plan with this
    // seed since the search's moves changed (chain moves, ties broken): 400 are enough.
    let options = ScenarioOptions {
        max_iterations: Some(400),
        ..quick(3)
    };
    let report = run(&problem, &options);
    assert!(report.skipped.is_empty(), "skipped: {:?}", report.skipped);
    assert_eq!(
        report.scenarios.len(),
        5,
        "none found: {:?}",
        report.none_found
    );
    let ranks: Vec<usize> = report.scenarios.iter().map(|s| s.rank).collect();
    assert_eq!(ranks, vec![1, 2, 3, 4, 5]);
    for pair in report.scenarios.windows(2) {
        assert!(pair[0].scores.total >= pair[1].scores.total);
    }
    assert_all_feasible(&problem, &report);

    let bottleneck = report
        .bottleneck
        .as_ref()
        .expect("a calendar-bound unit works");
    let unit = problem
        .units
        .iter()
        .find(|u| u.id == bottleneck.unit)
        .unwrap();
    assert!(unit.availability.is_some());
    let load = bottleneck
        .load_percent
        .expect("a calendar-bound unit has open minutes");
    assert!(load > 0.0 && load <= 100.0 + 1e-9, "{load}");

    let overtime = report
        .scenarios
        .iter()
        .find(|s| s.scenario == ScenarioKind::OvertimeOnBottleneck)
        .unwrap();
    assert!(
        overtime
            .changes
            .overtime
            .iter()
            .any(|o| o.kind == "unit" && o.id == bottleneck.unit)
    );
    // Without its overtime windows the overtime schedule would break the calendar exactly
    // where it uses overtime.
    if overtime.kpis.overtime_minutes > 0 {
        assert!(!check(&problem, &overtime.schedule).feasible);
    }

    let deferred = report
        .scenarios
        .iter()
        .find(|s| s.scenario == ScenarioKind::DeferLowPriority)
        .unwrap();
    let lightest = problem
        .orders
        .iter()
        .map(|o| o.weight)
        .fold(f64::INFINITY, f64::min);
    assert!(!deferred.changes.deferred.is_empty());
    for d in &deferred.changes.deferred {
        let order = problem.orders.iter().find(|o| o.id == d.order).unwrap();
        assert_eq!(order.weight, lightest);
        assert_eq!(Some(d.due), order.due);
        assert_eq!(d.deferred_due, d.due + 1440);
    }
    // Judged against the original due dates: the lateness count is the checker's on the
    // unchanged problem.
    assert_eq!(
        check(&problem, &deferred.schedule).kpis.late_orders,
        deferred.kpis.late_orders
    );
    for s in &report.scenarios {
        assert!((0.0..=1.0).contains(&s.kpis.on_time_risk));
        assert!(
            s.order_risk
                .windows(2)
                .all(|w| w[0].probability_late >= w[1].probability_late)
        );
    }
}

#[test]
fn same_seed_same_report() {
    let problem = reference_problem();
    let options = ScenarioOptions {
        scenarios: vec![
            ScenarioKind::MinimizeTardiness,
            ScenarioKind::OvertimeOnBottleneck,
        ],
        ..quick(9)
    };
    let a = serde_json::to_string(&run(&problem, &options)).unwrap();
    let b = serde_json::to_string(&run(&problem, &options)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn the_ranking_follows_its_weights() {
    let problem = reference_problem();
    let on_time_only = ScenarioOptions {
        ranking: RankingWeights {
            throughput: 0.0,
            changeover_cost: 0.0,
            on_time: 1.0,
        },
        ..quick(4)
    };
    let report = run(&problem, &on_time_only);
    let least_risk = report
        .scenarios
        .iter()
        .map(|s| s.kpis.on_time_risk)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(report.scenarios[0].kpis.on_time_risk, least_risk);

    let throughput_only = ScenarioOptions {
        ranking: RankingWeights {
            throughput: 1.0,
            changeover_cost: 0.0,
            on_time: 0.0,
        },
        ..quick(4)
    };
    let report = run(&problem, &throughput_only);
    let shortest = report
        .scenarios
        .iter()
        .map(|s| s.kpis.makespan_minutes)
        .min()
        .unwrap();
    assert_eq!(report.scenarios[0].kpis.makespan_minutes, shortest);
    assert_eq!(report.scenarios[0].scores.throughput, 1.0);
}

/// One two-shift unit with more work than its first day holds, two orders of different
/// weight: overtime shortens the makespan, deferral protects the heavy order.
fn small_shop() -> PlantProblem {
    serde_json::from_value(serde_json::json!({
        "horizon_start": "2026-03-02T00:00:00Z",
        "horizon_minutes": 4320,
        "units": [
            {"id": "LINE", "availability": [
                {"start": 360, "end": 1320}, {"start": 1800, "end": 2760}, {"start": 3240, "end": 4200}
            ]},
            {"id": "AUX"}
        ],
        "orders": [
            {"id": "HEAVY", "due": 1320, "weight": 10.0},
            {"id": "LIGHT", "due": 1320, "weight": 1.0}
        ],
        "operations": [
            {"id": "H1", "order": "HEAVY", "alternatives": [{"unit": "LINE", "minutes": 600}]},
            {"id": "L1", "order": "LIGHT", "alternatives": [{"unit": "LINE", "minutes": 600}]},
            {"id": "A1", "order": "LIGHT", "alternatives": [{"unit": "AUX", "minutes": 30}]}
        ]
    }))
    .unwrap()
}

#[test]
fn overtime_and_deferral_do_what_they_say_on_a_small_shop() {
    let problem = small_shop();
    problem.validate().unwrap();
    let report = run(
        &problem,
        &ScenarioOptions {
            scenarios: vec![
                ScenarioKind::OvertimeOnBottleneck,
                ScenarioKind::DeferLowPriority,
            ],
            overtime_minutes: 240,
            risk_runs: 20,
            duration_spread: 0.0,
            max_iterations: Some(200),
            ..Default::default()
        },
    );
    assert_all_feasible(&problem, &report);
    assert_eq!(report.bottleneck.as_ref().unwrap().unit, "LINE");
    let get = |k| {
        report
            .scenarios
            .iter()
            .find(|s| s.scenario == k)
            .unwrap_or_else(|| panic!("{k} missing: {:?}", report.skipped))
    };
    let planned = get(ScenarioKind::AsPlanned);
    let overtime = get(ScenarioKind::OvertimeOnBottleneck);
    // Shift one (360..1320) holds one 600-minute job; 240 minutes of overtime (to 1560)
    // make room for the second the same day instead of the next shift at 1800.
    assert_eq!(planned.kpis.makespan_minutes, 2400);
    assert_eq!(overtime.kpis.makespan_minutes, 1560);
    assert_eq!(overtime.kpis.overtime_minutes, 240);
    assert_eq!(overtime.changes.overtime[0].windows[0].start, 1320);
    assert_eq!(overtime.changes.overtime[0].windows[0].end, 1560);
    // The heavy order goes first whenever weights decide: the plan already runs it first, so
    // deferring the light one frees nothing and the what-if says so instead of repeating the
    // plan.
    let first = |s: &schedule::plant::scenario::ScenarioResult| {
        s.schedule
            .assignments
            .iter()
            .filter(|a| a.unit == "LINE")
            .min_by_key(|a| a.start)
            .unwrap()
            .op
            .clone()
    };
    assert_eq!(first(planned), "H1");
    assert!(
        report
            .scenarios
            .iter()
            .all(|s| s.scenario != ScenarioKind::DeferLowPriority)
    );
    assert_eq!(report.none_found.len(), 1, "{:?}", report.none_found);
    assert_eq!(
        report.none_found[0].scenario,
        ScenarioKind::DeferLowPriority
    );
    assert!(
        report.none_found[0]
            .reason
            .starts_with("deferring the 1 lowest-priority order(s) frees nothing"),
        "{:?}",
        report.none_found
    );
    // With no spread every run is the schedule itself: LIGHT is late for sure.
    let light = planned
        .order_risk
        .iter()
        .find(|r| r.order == "LIGHT")
        .unwrap();
    assert_eq!(light.probability_late, 1.0);
    let heavy = planned
        .order_risk
        .iter()
        .find(|r| r.order == "HEAVY")
        .unwrap();
    assert_eq!(heavy.probability_late, 0.0);
}

#[test]
fn scenarios_that_do_not_apply_are_skipped_with_a_reason() {
    let mut problem = small_shop();
    for o in &mut problem.orders {
        o.weight = 1.0;
    }
    problem.units[0].availability = None;
    let report = run(
        &problem,
        &ScenarioOptions {
            scenarios: vec![
                ScenarioKind::OvertimeOnBottleneck,
                ScenarioKind::DeferLowPriority,
                ScenarioKind::MinimizeChangeovers,
            ],
            risk_runs: 5,
            max_iterations: Some(20),
            ..Default::default()
        },
    );
    // The one what-if that applies finds nothing to trade: the shop has no changeovers.
    assert_eq!(report.scenarios.len(), 1);
    assert_eq!(report.none_found.len(), 1);
    assert_eq!(
        report.none_found[0].reason,
        "the plan has no changeover or CIP to save"
    );
    let reasons: Vec<String> = report
        .skipped
        .iter()
        .map(|s| format!("{}: {}", s.scenario, s.reason))
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons[0].starts_with("overtime_on_bottleneck: no unit"),
        "{reasons:?}"
    );
    assert!(reasons[1].contains("same weight"), "{reasons:?}");
}

#[test]
fn with_the_plan_in_force_as_planned_is_that_plan_and_the_what_ifs_start_from_it() {
    let problem = reference_problem();
    let plan = schedule::plant::solve_plant(
        &problem,
        &schedule::plant::PlantSolveOptions {
            seed: 1,
            threads: 1,
            max_iterations: Some(400),
            objective: None,
        },
        &mut Never,
        &mut |_| {},
    )
    .unwrap()
    .schedule;
    let options = quick(6);
    let mut never = |_| Box::new(Never) as Box<dyn Termination>;
    let report =
        run_scenarios(&problem, Some(&plan), &options, &mut never, &mut |_, _| {}).unwrap();
    assert_all_feasible(&problem, &report);
    let planned = report
        .scenarios
        .iter()
        .find(|s| s.scenario == ScenarioKind::AsPlanned)
        .unwrap();
    assert_eq!(planned.schedule, plan);
    assert_eq!(planned.iterations, 0);
    assert!(planned.kept_plan);
    // No what-if repeats the plan: each is better than it on its own KPI (or reported in
    // none_found), and none is worse than the plan by its own objective where that objective
    // is what it is judged by (overtime, deferral).
    assert_genuine_alternatives(&problem, &plan, &options, &report);
    let verdict = check(&problem, &plan);
    assert_eq!(planned.kpis.late_orders, verdict.kpis.late_orders);
    assert_eq!(planned.kpis.makespan_minutes, verdict.kpis.makespan);
    // A plan that breaks the problem is refused, naming it.
    let mut broken = plan.clone();
    broken.assignments[0].start -= 100_000;
    let err = run_scenarios(
        &problem,
        Some(&broken),
        &options,
        &mut never,
        &mut |_, _| {},
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("plan: the schedule in force breaks"),
        "{err}"
    );
}

/// A scenario brought back (to be committed) is judged by the same figures it was ranked by,
/// and its changes are recognised as its own; changes it could not have made are refused by
/// name.
#[test]
fn a_scenario_brought_back_is_judged_as_it_was_ranked() {
    let problem = reference_problem();
    let options = quick(5);
    let report = run(&problem, &options);
    let risk = RiskOptions {
        runs: options.risk_runs,
        duration_spread: options.duration_spread,
        seed: options.seed,
    };
    for s in &report.scenarios {
        check_changes(&problem, s.scenario, &s.changes)
            .unwrap_or_else(|e| panic!("{}: {e}", s.scenario));
        let assessed = assess(&problem, &s.changes, &s.schedule, &risk).unwrap();
        assert_eq!(assessed.kpis, s.kpis, "{}", s.scenario);
        assert_eq!(assessed.order_risk, s.order_risk, "{}", s.scenario);
    }
    let overtime = report
        .scenarios
        .iter()
        .find(|s| s.scenario == ScenarioKind::OvertimeOnBottleneck)
        .expect("the reference plant has a calendar-bound bottleneck");
    // Overtime claimed by another scenario, and overtime that is not after a shift.
    let err = check_changes(
        &problem,
        ScenarioKind::MaximizeThroughput,
        &overtime.changes,
    )
    .unwrap_err();
    assert!(err.starts_with("changes.overtime"), "{err}");
    let mut shifted = overtime.changes.clone();
    shifted.overtime[0].windows[0].start += 7;
    let err = check_changes(&problem, ScenarioKind::OvertimeOnBottleneck, &shifted).unwrap_err();
    assert!(
        err.contains("does not start at the end of a shift"),
        "{err}"
    );
    // A deferral as the scenario makes it (whether or not it found an alternative).
    let lightest = problem
        .orders
        .iter()
        .map(|o| o.weight)
        .fold(f64::INFINITY, f64::min);
    let light = problem
        .orders
        .iter()
        .find(|o| o.weight == lightest && o.due.is_some())
        .expect("the reference plant has low-priority orders");
    let deferral = ScenarioChanges {
        overtime: Vec::new(),
        deferred: vec![Deferral {
            order: light.id.clone(),
            weight: light.weight,
            due: light.due.unwrap(),
            deferred_due: light.due.unwrap() + options.defer_minutes,
        }],
    };
    check_changes(&problem, ScenarioKind::DeferLowPriority, &deferral).unwrap();
    let mut renamed = deferral.clone();
    renamed.deferred[0].order = "MO-NOPE".into();
    let err = check_changes(&problem, ScenarioKind::DeferLowPriority, &renamed).unwrap_err();
    assert!(err.contains("`MO-NOPE` is not in the problem"), "{err}");
}
