//! Unit tests of the scenario module (`#[cfg(test)]`): overtime windows and option checks.

use super::changes::overtime_windows;
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
