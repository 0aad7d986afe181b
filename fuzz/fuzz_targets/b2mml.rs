//! B2MML reader (`trace::b2mml::parse`, V0401/V0600/V0700 material actuals and lots): any text
//! is read or rejected with an `ImportError`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::{t0, text};

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let _ = trace::b2mml::parse(text, t0());
});
