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
