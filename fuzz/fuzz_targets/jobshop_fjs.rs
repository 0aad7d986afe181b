//! Brandimarte `.fjs` flexible job shop reader (`schedule::parse_fjs`): any text is read or
//! rejected with a `ParseError` naming the line; a problem read, written back in `.fjs` form
//! and read again is the same; `Problem::validate` finds nothing wrong with it but, at most, a
//! horizon too large for the solver (the parser checks the structure).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::{text, write_fjs};
use schedule::ProblemError;

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let Ok(problem) = schedule::parse_fjs(text) else {
        return;
    };
    match problem.validate() {
        Ok(()) | Err(ProblemError::HorizonTooLarge { .. }) => {}
        Err(e) => panic!("a parsed problem is structurally invalid: {e}"),
    }
    let written = write_fjs(&problem);
    assert_eq!(
        schedule::parse_fjs(&written),
        Ok(problem),
        ".fjs round trip"
    );
});
