//! Brandimarte `.fjs` flexible job shop reader (`schedule::parse_fjs`): any text is read or
//! rejected with a `ParseError` naming the line; a problem read, written back in `.fjs` form
//! and read again is the same, and it is structurally valid (`Problem::validate`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::{text, write_fjs};

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let Ok(problem) = schedule::parse_fjs(text) else {
        return;
    };
    if let Err(e) = problem.validate() {
        panic!("a parsed problem is invalid: {e}");
    }
    let written = write_fjs(&problem);
    assert_eq!(
        schedule::parse_fjs(&written),
        Ok(problem),
        ".fjs round trip"
    );
});
