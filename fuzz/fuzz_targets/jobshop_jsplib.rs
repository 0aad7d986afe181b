//! JSPLIB job shop reader (`schedule::parse_jsplib`): any text is read or rejected with a
//! `ParseError` naming the line; a problem read, written back in JSPLIB form and read again is
//! the same; `Problem::validate` finds nothing wrong with it but, at most, a horizon too large
//! for the solver (the parser checks the structure).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::{text, write_jsplib};
use schedule::ProblemError;

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let Ok(problem) = schedule::parse_jsplib(text) else {
        return;
    };
    match problem.validate() {
        Ok(()) | Err(ProblemError::HorizonTooLarge { .. }) => {}
        Err(e) => panic!("a parsed problem is structurally invalid: {e}"),
    }
    let written = write_jsplib(&problem).expect("JSPLIB has one machine per operation");
    assert_eq!(
        schedule::parse_jsplib(&written),
        Ok(problem),
        "JSPLIB round trip"
    );
});
