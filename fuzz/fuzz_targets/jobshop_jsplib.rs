//! JSPLIB job shop reader (`schedule::parse_jsplib`): any text is read or rejected with a
//! `ParseError` naming the line; a problem read, written back in JSPLIB form and read again is
//! the same, and it is structurally valid (`Problem::validate`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::{text, write_jsplib};

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let Ok(problem) = schedule::parse_jsplib(text) else {
        return;
    };
    if let Err(e) = problem.validate() {
        panic!("a parsed problem is invalid: {e}");
    }
    let written = write_jsplib(&problem).expect("JSPLIB has one machine per operation");
    assert_eq!(
        schedule::parse_jsplib(&written),
        Ok(problem),
        "JSPLIB round trip"
    );
});
