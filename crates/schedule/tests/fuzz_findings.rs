//! Inputs fuzzing found (`fuzz/FINDINGS.md`), each answered as the format says.

use schedule::plant::PlantProblem;

/// Finding 2: a huge `setup_minutes` overflowed the duration in `validate` (a panic with
/// overflow checks, a wrapped and possibly accepted duration without). It is refused, naming
/// the alternative and the field's range.
#[test]
fn a_huge_setup_time_is_refused_by_name() {
    let problem: PlantProblem = serde_json::from_str(
        r#"{"horizon_start":"2026-03-02T00:00:00Z","horizon_minutes":2880,"units":[{"id":"U"}],
            "orders":[{"id":"O","release":0,"weight":1}],
            "operations":[{"id":"A","order":"O","quantity":1,
              "alternatives":[{"unit":"U","items_per_hour":60,"setup_minutes":9223372036854775807}]}]}"#,
    )
    .expect("the problem reads");
    let error = problem.validate().expect_err("refused").to_string();
    assert!(error.contains("alternatives[0]"), "{error}");
    assert!(error.contains("setup_minutes"), "{error}");
}

/// Finding 4: a fixed operation whose predecessor cannot end before the fixed start (its
/// unit's shift begins later). The first schedule keeps the fixed start, as it must, and the
/// checker no longer calls that infeasible: a fixed operation's start is a fact, so the
/// constraints on it (release, calendar, and now precedence into it) are not the schedule's
/// to keep. The same checker still finds precedence broken into an unfixed operation.
#[test]
fn a_fixed_operation_before_its_predecessor_is_kept_and_not_called_infeasible() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/findings/4-fixed-before-predecessor.json");
    let text = std::fs::read_to_string(&path).expect("the finding is in the repository");
    let problem: PlantProblem = serde_json::from_str(&text).expect("the problem reads");
    problem.validate().expect("the problem is valid");
    let (model, _, decoded) =
        schedule::plant::first_feasible(&problem, None).expect("a first schedule");
    let schedule = decoded.to_schedule(&model);
    let placed = |op: &str| {
        schedule
            .assignments
            .iter()
            .find(|a| a.op == op)
            .unwrap_or_else(|| panic!("{op} is scheduled"))
            .clone()
    };
    let (fixed, pred) = (placed("O00000-2"), placed("O00000-1"));
    assert_eq!((fixed.unit.as_str(), fixed.start), ("U002", 30), "kept");
    assert!(pred.end > fixed.start, "the conflict is real: {pred:?}");
    let report = schedule::plant::check(&problem, &schedule);
    assert!(report.feasible, "{:?}", report.violations);

    // Unfix it: the same placement now breaks precedence, and the checker says so.
    let mut unfixed = problem.clone();
    let op = unfixed
        .operations
        .iter_mut()
        .find(|o| o.id == "O00000-2")
        .expect("the operation");
    op.fixed = None;
    let report = schedule::plant::check(&unfixed, &schedule);
    assert!(
        report.violations.iter().any(|v| matches!(
            v,
            schedule::plant::Violation::Precedence { pred, op, .. }
                if pred == "O00000-1" && op == "O00000-2"
        )),
        "{:?}",
        report.violations
    );
}
