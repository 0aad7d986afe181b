//! Unit tests of the scenario module (`#[cfg(test)]`): overtime windows, option checks, and
//! how a what-if's answer is chosen.

use super::super::problem::Assignment;
use super::changes::overtime_windows;
use super::select::{choose, signature};
use super::*;

#[test]
fn overtime_fills_the_gap_after_each_shift_up_to_the_next() {
    let w = |start, end| Interval { start, end };
    let shifts = [w(0, 480), w(600, 1080), w(1100, 1500)];
    assert_eq!(
        overtime_windows(&shifts, 120, 2000),
        vec![w(480, 600), w(1080, 1100), w(1500, 1620)]
    );
    assert_eq!(overtime_windows(&[w(0, 480)], 120, 500), vec![w(480, 500)]);
    // Overlapping windows leave no gap after the first.
    assert_eq!(
        overtime_windows(&[w(0, 500), w(400, 900)], 60, 2000),
        vec![w(900, 960)]
    );
}

#[test]
fn options_are_checked_with_the_field_named() {
    let mut o = ScenarioOptions {
        scenarios: vec![ScenarioKind::MaximizeThroughput],
        ..Default::default()
    };
    let e = validate_options(&o).unwrap_err().to_string();
    assert!(e.contains("scenarios") && e.contains("got 1"), "{e}");
    o.scenarios = vec![ScenarioKind::AsPlanned, ScenarioKind::MaximizeThroughput];
    assert!(
        validate_options(&o)
            .unwrap_err()
            .to_string()
            .contains("as_planned")
    );
    o.scenarios = vec![
        ScenarioKind::MaximizeThroughput,
        ScenarioKind::MaximizeThroughput,
    ];
    assert!(
        validate_options(&o)
            .unwrap_err()
            .to_string()
            .contains("twice")
    );
    o.scenarios = ScenarioKind::DEFAULT.to_vec();
    o.risk_runs = 0;
    assert!(
        validate_options(&o)
            .unwrap_err()
            .to_string()
            .contains("risk_runs")
    );
    assert_eq!(
        "nope".parse::<ScenarioKind>().unwrap_err().to_string(),
        "unknown scenario `nope` (expected as_planned, maximize_throughput, minimize_tardiness, minimize_changeovers, overtime_on_bottleneck or defer_low_priority)"
    );
}

/// Two orders on one line, the heavy one due first: running it first is better on
/// lateness.
fn two_orders() -> (PlantProblem, PlantSchedule, PlantSchedule) {
    let problem: PlantProblem = serde_json::from_value(serde_json::json!({
        "horizon_start": "2026-03-02T00:00:00Z",
        "horizon_minutes": 2880,
        "units": [{"id": "LINE"}],
        "orders": [
            {"id": "HEAVY", "due": 600, "weight": 10.0},
            {"id": "LIGHT", "due": 600, "weight": 1.0}
        ],
        "operations": [
            {"id": "H1", "order": "HEAVY", "alternatives": [{"unit": "LINE", "minutes": 600}]},
            {"id": "L1", "order": "LIGHT", "alternatives": [{"unit": "LINE", "minutes": 600}]}
        ]
    }))
    .unwrap();
    let at = |first: &str, second: &str| PlantSchedule {
        assignments: vec![
            Assignment {
                op: first.into(),
                unit: "LINE".into(),
                start: 0,
                end: 600,
            },
            Assignment {
                op: second.into(),
                unit: "LINE".into(),
                start: 600,
                end: 1200,
            },
        ],
    };
    (problem, at("L1", "H1"), at("H1", "L1"))
}

#[test]
fn an_answer_beats_the_plan_on_its_own_kpi_and_repeats_no_other() {
    let (problem, plan, heavy_first) = two_orders();
    let tardiness = evaluate::Setup {
        kind: ScenarioKind::MinimizeTardiness,
        objective: Objective::preset(Preset::MinimizeTardiness),
        changes: ScenarioChanges::default(),
    };
    let planned = evaluate::Setup {
        kind: ScenarioKind::AsPlanned,
        objective: problem.weights(),
        changes: ScenarioChanges::default(),
    };
    let plan_sig = signature(&problem, &planned, &plan);
    let candidates = [plan.clone(), heavy_first.clone()];
    // The heavy order first is the alternative: less weighted tardiness than the plan.
    assert_eq!(
        choose(
            &problem,
            &tardiness,
            &candidates,
            &plan,
            &[(ScenarioKind::AsPlanned, plan_sig)]
        ),
        Ok(1)
    );
    // Already the answer of another what-if: not offered twice, and the reason names it.
    let taken = [
        (ScenarioKind::AsPlanned, plan_sig),
        (
            ScenarioKind::MaximizeThroughput,
            signature(&problem, &tardiness, &heavy_first),
        ),
    ];
    let err = choose(&problem, &tardiness, &candidates, &plan, &taken).unwrap_err();
    assert!(
        err.starts_with("its best alternative has the same KPIs as maximize_throughput"),
        "{err}"
    );
    // Nothing better than the plan on its own KPI: said plainly, with the plan's figure, and
    // that none exists when the plan is at the KPI's lower bound (two 600-minute jobs on one
    // line take 1200 minutes), not when it is not (lateness).
    let err = choose(&problem, &tardiness, &candidates[..1], &plan, &taken[..1]).unwrap_err();
    assert_eq!(
        err,
        "no alternative trading makespan or changeovers for less weighted tardiness than the plan's 6000 was found within the budget"
    );
    let throughput = evaluate::Setup {
        kind: ScenarioKind::MaximizeThroughput,
        objective: Objective::preset(Preset::MaximizeThroughput),
        changes: ScenarioChanges::default(),
    };
    let err = choose(&problem, &throughput, &candidates, &plan, &taken[..1]).unwrap_err();
    assert_eq!(
        err,
        "no alternative trading changeovers or lateness for a makespan shorter than the plan's 1200 min was found within the budget; none exists: the plan is at the lower bound of this KPI"
    );
}
