//! The native scheduling problem (`schedule::plant::PlantProblem` from JSON, then `validate`):
//! any text is read or rejected with a serde error, any problem read is valid or rejected with
//! a `ProblemError`; a problem read, written and read again is the same. A small valid problem
//! gets its first feasible schedule (`first_feasible`) or a typed `PlantSolveError`, and that
//! schedule passes the independent checker.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::text;
use schedule::plant::{PlantProblem, check, first_feasible};

/// Problems up to this many operations are scheduled as well as validated.
const SCHEDULED_OPERATIONS: usize = 64;

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let Ok(problem) = serde_json::from_str::<PlantProblem>(text) else {
        return;
    };
    let written = serde_json::to_string(&problem).expect("a problem serialises");
    let again: PlantProblem = serde_json::from_str(&written)
        .unwrap_or_else(|e| panic!("a written problem must read back: {e}\n{written}"));
    assert_eq!(again, problem, "problem round trip");
    if problem.validate().is_err() || problem.operations.len() > SCHEDULED_OPERATIONS {
        return;
    }
    let Ok((model, _, decoded)) = first_feasible(&problem, None) else {
        return;
    };
    let schedule = decoded.to_schedule(&model);
    let report = check(&problem, &schedule);
    assert!(
        report.feasible,
        "the first feasible schedule fails the checker: {:?}",
        report.violations
    );
});
