//! EPCIS 2.0 JSON-LD reader (`trace::epcis::json::parse`): any text is read or rejected with an
//! `ImportError`; a document read, written back (`json::document`) and read again gives the
//! same events.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mixplane_fuzz::{t0, text};
use trace::epcis::json;

fuzz_target!(|data: &[u8]| {
    let Some(text) = text(data) else { return };
    let Ok(doc) = json::parse(text) else { return };
    let written = json::document(&doc.events, &doc.namespaces, t0()).to_string();
    let again = json::parse(&written)
        .unwrap_or_else(|e| panic!("a written document must read back: {e}\n{written}"));
    assert_eq!(again.events, doc.events, "JSON-LD round trip");
});
