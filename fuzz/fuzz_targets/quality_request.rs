//! The SPC analysis request (`quality::analyze_json`: `{chart, params, data}` as the HTTP API
//! and the vector files carry it): any text gives a response or a typed `QualityError`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::text;

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let _ = quality::analyze_json(text);
});
