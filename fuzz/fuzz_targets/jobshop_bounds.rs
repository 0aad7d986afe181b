//! The benchmark sets' `bounds.csv` reader (`schedule::parse_bounds`): any text is read or
//! rejected with a `ParseError` naming the line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::text;

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let _ = schedule::parse_bounds(text);
});
